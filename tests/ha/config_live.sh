#!/bin/bash
# config_live.sh — configuration changes applied live through real
# clients: on the master, `duonas ip add` of a service IP homed on B makes
# B add and announce it (the client's neighbour entry points at B) and
# serve NFS on it; `duonas export add` of a new directory on A's LUN is
# mountable at once through A's IP; `duonas ip rm` takes the address away
# again.  On the slave the same commands are refused with exit 2.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_config_live
ha_require
ha_pair_up directory

NEWIP=192.0.2.21
out=$(ha_cli B ip add B "$NEWIP/24" dev eth0 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "run this on the master"
t_ok $? "ip add on the slave is refused with exit 2 ($rc: $out)"
ha_cli A ip add B "$NEWIP/24" dev eth0 >"$T_DIR/ipadd.out" 2>&1
t_ok $? "ip add B $NEWIP/24 on the master: $(head -c 200 "$T_DIR/ipadd.out")"
wait_until 10 ha_ip_held B "$NEWIP"
t_ok $? "B holds the new service IP"
wait_until 10 ns_has_addr B "$NEWIP"
t_ok $? "the address is on B's eth0"
ha_ip_held A "$NEWIP"
t_ok $(( $? == 0 ? 1 : 0 )) "A does not hold it"
dir_b=$(ha_export_dir lb)
echo "through the new ip" >"$dir_b/new-ip.txt"
wait_until 10 sh -c "ip netns exec $NS_C nfs-cat 'nfs://$NEWIP$dir_b/new-ip.txt' 2>/dev/null | grep -q 'through the new ip'"
t_ok $? "the client reads B's export through the new IP"
mac_b=$(ns_mac B eth0)
wait_until 5 ns_neigh_is C "$NEWIP" "$mac_b"
t_ok $? "the client's neighbour entry for $NEWIP is B's MAC ($mac_b)"

dir_a=$(ha_export_dir la)
mkdir -p "$dir_a/projects" && echo "project file" >"$dir_a/projects/p.txt"
ha_cli A export add "$dir_a/projects" --id 7 --options rw,no_root_squash \
    >"$T_DIR/expadd.out" 2>&1
t_ok $? "export add of a new directory on A's LUN: $(head -c 200 "$T_DIR/expadd.out")"
wait_until 10 sh -c "ip netns exec $NS_C nfs-cat 'nfs://$NS_VIP_A$dir_a/projects/p.txt' 2>/dev/null | grep -q 'project file'"
t_ok $? "the new export is served through A's IP without a restart"
ha_cli B export ls | grep -q "$dir_a/projects"
t_ok $? "the slave lists the new export too"

ha_cli A ip rm "$NEWIP" >/dev/null 2>&1
t_ok $? "ip rm on the master"
wait_until 10 sh -c "! ip -n $NS_B addr | grep -q ' $NEWIP/'"
t_ok $? "B removed the address from its eth0"
t_done

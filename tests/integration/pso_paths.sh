#!/bin/bash
# Two peer-link paths: cutting one while traffic flows interrupts nothing.
# The cut is made twice: by the link's fault switch, and for real by
# moving one head into a network namespace joined by two veth pairs and
# taking one veth down (root only).
. "$(dirname "$0")/../lib.sh"
t_init pso_paths
mk_cluster 2
start_head A; start_head B; both_up; t_ok $? "cluster up with two paths"
cli A status | grep -c '^  path [0-9].* up' | grep -q '^2$'
t_ok $? "both paths established"

writer() {	# 200 writes; every one must succeed
	for i in $(seq 1 200); do
		cli A pso set w "$i" >/dev/null || { echo "write $i failed"; return 1; }
	done
}
writer >"$T_DIR/writer.log" 2>&1 & wp=$!
sleep 0.3
cli A link block 0 && cli B link block 0
t_ok $? "path 0 cut (fault switch on both heads)"
wait $wp; t_ok $? "all 200 writes succeeded across the cut"
t_eq "$(cli B pso get w)" 200 "B has the last write"
cli A status | grep -q "path 1 .* up (best)"
t_ok $? "status shows path 1 carrying traffic"
cli A link unblock 0 && cli B link unblock 0
wait_until 10 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -c '^  path [0-9].* up' | grep -q '^2$'"
t_ok $? "path 0 comes back after unblock"
writer >"$T_DIR/writer2.log" 2>&1 & wp=$!
sleep 0.3
cli A link block 1 && cli B link block 1
wait $wp; t_ok $? "all writes succeeded while path 1 was cut"
stop_head A; stop_head B

# A real cut: head B in its own network namespace, joined to head A (in
# this namespace) by two veth pairs; taking one veth down cuts that path.
if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
	echo "# skipping the namespace cut: needs root and ip netns"
	t_done
fi
ns=dnp$$
ip netns add "$ns" && T_NETNS+=("$ns")
for p in 0 1; do
	ip link add "dnp$$v$p" type veth peer name "eth$p" netns "$ns" &&
	T_CLEANUP_CMDS+=("ip link del dnp$$v$p")
	ip addr add "198.51.100.$((4 * p + 1))/30" dev "dnp$$v$p"
	ip link set "dnp$$v$p" up
	ip -n "$ns" addr add "198.51.100.$((4 * p + 2))/30" dev "eth$p"
	ip -n "$ns" link set "eth$p" up
done
ip -n "$ns" link set lo up
# a new cluster on the new addresses: fresh state (the committed
# configuration of the first part would not match the edited file)
rm -rf "$T_DIR/A/state" "$T_DIR/B/state"
sed -i -e "s/link 127.$T_NET.0.1:/link 198.51.100.1:/; s/link 127.$T_NET.1.1:/link 198.51.100.5:/" \
    -e "s/link 127.$T_NET.0.2:/link 198.51.100.2:/; s/link 127.$T_NET.1.2:/link 198.51.100.6:/" \
    "$T_DIR/duonas.conf"
start_head A
mkdir -p "$T_DIR/B"
ip netns exec "$ns" "$DUONASD" -d -c "$T_DIR/duonas.conf" -n B >>"$T_DIR/B.log" 2>&1 &
PID_B=$!; T_PIDS+=("$PID_B")
wait_until 10 cli B version
both_up; t_ok $? "cluster up with B in a namespace over two veth pairs"
wait_until 10 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -c '^  path [0-9].* up' | grep -q '^2$'"
t_ok $? "both veth paths up"
writer >"$T_DIR/writer3.log" 2>&1 & wp=$!
sleep 0.3
ip link set "dnp$$v0" down
t_ok $? "veth of path 0 taken down (real cut)"
wait $wp; t_ok $? "all 200 writes succeeded across the real cut"
t_eq "$(cli B pso get w)" 200 "B has the last write"
wait_until 5 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -q 'path 0 .* down\|path 0 .*dial.*idle\|path 0 .*connecting'"
t_ok $? "status shows path 0 not up: $(cli A status | grep 'path 0')"
is_state B 'DAC(slave)'; t_ok $? "no failover: B still DAC(slave)"
ip link set "dnp$$v0" up
wait_until 10 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -c '^  path [0-9].* up' | grep -q '^2$'"
t_ok $? "path 0 reconnects when the veth comes back"
t_done

#!/bin/bash
# config_checks.sh — "committed" means working (issue 14): what the
# master checks before it commits a change, and the notes it prints.
#
# Checked: ip add on the master's own head with an interface that does
# not exist, or an IPv6 address on an interface with IPv6 disabled, is
# refused (exit 1, the problem named) and commits nothing; --force
# commits it with a WARNING; an address for the peer's head says its
# interface is checked there; export add of a directory that does not
# exist is refused, --force commits it with a warning, an existing one is
# committed; lun add prints that the heads use the LUN after a restart.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_config_checks
ha_require
ha_pair_up directory 60

# one cluster view: both heads side by side at the top of duonas status
ha_cli A status >"$T_DIR/st.out" 2>&1
sed -n 1,4p "$T_DIR/st.out" | sed "s/^/#   /"
grep -Eq "^heads: +A +B$" "$T_DIR/st.out" &&
    grep -Eq "^  state +DAC\(master\) +DAC\(slave\)$" "$T_DIR/st.out" &&
    grep -Eq "^  software +[^ ]+ +[^ ]+$" "$T_DIR/st.out" &&
    grep -Eq "^  luns +la +lb$" "$T_DIR/st.out"
t_ok $? "duonas status starts with both heads side by side"

# ip ls / lun ls: where each one is now, next to its home
ha_cli B ip ls >"$T_DIR/ipls.out" 2>&1
grep -Eq "^A +192.0.2.10/24 +eth0 +A$" "$T_DIR/ipls.out" &&
    grep -Eq "^B +192.0.2.20/24 +eth0 +B$" "$T_DIR/ipls.out"
t_ok $? "ip ls shows where each address is now ($(tr '\n' '|' <"$T_DIR/ipls.out"))"
ha_cli A lun ls >"$T_DIR/lunls.out" 2>&1
grep -Eq "^la +1 +directory +A +A " "$T_DIR/lunls.out" &&
    grep -Eq "^lb +2 +directory +B +B " "$T_DIR/lunls.out"
t_ok $? "lun ls shows where each LUN is served now ($(tr '\n' '|' <"$T_DIR/lunls.out" | head -c 300))"
ha_cli A lun ls --json | grep -q '"name":"lb".*"now":"B"'
t_ok $? "lun ls --json has now"

grep -q "lun la exports 1: served here" "$T_DIR/st.out" &&
    grep -q "lun lb exports 2: not here: the LUN is placed on B" "$T_DIR/st.out"
t_ok $? "status says where each export is served and why not here"

gen() {
	ha_cli A config show --json 2>/dev/null |
	    grep -o '"generation":[0-9]*' | head -n 1 | cut -d: -f2
}
G0=$(gen)
o=$(ha_cli A ip add A 192.0.2.50/24 dev eth9 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "this head (A) has no interface eth9"
t_ok $? "ip add with a missing interface: refused ($rc: $o)"
ip netns exec "$(ns_name A)" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
o=$(ha_cli A ip add A 2001:db8::50/64 dev eth0 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "IPv6 is disabled on eth0"
t_ok $? "ip add of an IPv6 address on an interface without IPv6: refused ($rc: $o)"
ip netns exec "$(ns_name A)" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
t_eq "$(gen)" "$G0" "nothing committed (generation $G0)"
o=$(ha_cli A ip add A 192.0.2.51/24 dev eth9 --force 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "WARNING: this head (A) has no interface eth9"
t_ok $? "--force commits it with a warning ($rc: $(echo "$o" | head -n 2 | tr '\n' ' '))"
_cannot() { ha_cli A status | grep -q "192.0.2.51/24 dev eth9 (home A): not here, WANTED HERE BUT CANNOT BE ADDED: no such interface here"; }
wait_until 10 _cannot
t_ok $? "A's status says why the address is not served ($(ha_cli A status | grep 192.0.2.51))"
# ha_json strips blanks
ha_json A | grep -q '"addr":"192.0.2.51","prefix":24,"dev":"eth9","home":"A","held":false,"handoff":false,"error":"nosuchinterfacehere"'
t_ok $? "status --json has the error"
ha_cli A ip rm 192.0.2.51 >/dev/null 2>&1
t_ok $? "and it can be removed again"
o=$(ha_cli A ip add B 192.0.2.52/24 dev eth0 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "B's interface eth0 is checked when B applies"
t_ok $? "an address for the peer's head: committed, with where it is checked ($rc)"
ha_cli A ip rm 192.0.2.52 >/dev/null 2>&1

G1=$(gen)
D=$(ha_export_dir la)
o=$(ha_cli A export add "$D/nosuch" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "$D/nosuch: No such file or directory"
t_ok $? "export add of a missing directory: refused ($rc: $o)"
t_eq "$(gen)" "$G1" "nothing committed"
touch "$D/afile"
o=$(ha_cli A export add "$D/afile" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "is not a directory"
t_ok $? "export add of a file: refused ($rc)"
o=$(ha_cli A export add "$D/later" --force 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "WARNING: $D/later: No such file or directory"
t_ok $? "--force commits a missing directory with a warning ($rc)"
ha_cli A export rm "$D/later" >/dev/null 2>&1
mkdir -p "$D/projects"
o=$(ha_cli A export add "$D/projects" 2>&1)
t_ok $? "export add of an existing directory: committed ($(echo "$o" | head -n 1))"

# nfs { threads } raised by a configuration import: applied live
_workers() { ha_cli "$1" status | grep -q "^nfs: running, .*, $2 worker(s)"; }
_workers A 4 && _workers B 4
t_ok $? "4 NFS workers on both heads"
ha_cli A config export "$T_DIR/cfg.txt" >/dev/null 2>&1 &&
    sed -i 's/^  threads 4$/  threads 6/' "$T_DIR/cfg.txt" &&
    ha_cli A config import "$T_DIR/cfg.txt" >"$T_DIR/imp.out" 2>&1
t_ok $? "config import with threads 6 ($(head -n 1 "$T_DIR/imp.out"))"
wait_until 10 _workers A 6 && wait_until 10 _workers B 6
t_ok $? "both heads run 6 NFS workers now, without a restart"
! grep -q "NOTE: takes effect" "$T_DIR/imp.out"
t_ok $? "and the import's answer asks for no restart"

# the slave names the master's management (peer-link) address, and
# --forward runs the command on the master
mkdir -p "$D/fwd"
o=$(ha_cli B export add "$D/fwd" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$o" | grep -q "run this on the master (A, ${NS_LINK_A[0]}), or add --forward"
t_ok $? "the slave refuses, naming the master's link address ($rc: $o)"
o=$(ha_cli B export add "$D/fwd" --forward 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "forwarded to the master A over the peer link" &&
    echo "$o" | grep -q "committed"
t_ok $? "--forward on the slave: the master committed it ($rc: $(echo "$o" | tr '\n' ' '))"
o=$(ha_cli B export add "$D/nosuch2" --forward 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "No such file or directory"
t_ok $? "--forward carries the master's refusal and exit code ($rc)"
o=$(ha_cli A status --forward 2>&1)
echo "$o" | grep -q "^head: *A "
t_ok $? "--forward on the master runs the command there"

truncate -s 80M "$T_DIR/lc.img"
mkdir -p "$T_DIR/lc.data"
o=$(HA_CLI_TIMEOUT=20 ha_cli A lun add lc --id 3 --path "$T_DIR/lc.img" \
    --home A --data "$T_DIR/lc.data" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "NOTE: the heads serve LUN lc after they restart"
t_ok $? "lun add says the heads use the LUN after a restart ($rc: $(echo "$o" | tail -n 1))"
# a change that needs a restart says so
ha_cli A config export "$T_DIR/cfg2.txt" >/dev/null 2>&1 &&
    sed -i 's/^  interval .*$//; s/^heartbeat {$/heartbeat {\n  interval 90/' "$T_DIR/cfg2.txt" &&
    ha_cli A config import "$T_DIR/cfg2.txt" >"$T_DIR/imp2.out" 2>&1
t_ok $? "config import changing the heartbeat interval ($(head -n 1 "$T_DIR/imp2.out"))"
grep -q "NOTE: takes effect when the heads restart.*heartbeat interval" "$T_DIR/imp2.out"
t_ok $? "its answer says the heads apply it when they restart ($(grep NOTE "$T_DIR/imp2.out"))"
t_done

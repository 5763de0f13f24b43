#!/bin/bash
# Two peer-link paths: cutting one while traffic flows interrupts nothing.
# The cut is made twice: by the link's fault switch, and for real by
# moving one head into a network namespace joined by two veth pairs and
# taking one veth down (root only).
. "$(dirname "$0")/../lib.sh"
t_init pso_paths
mk_cluster 2
start_head A; start_head B; both_up; t_ok $? "cluster up with two paths"
cli A status | grep -c "established" | grep -q '^2$'
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
cli A status | grep -q "path 1 .*established.*best"
t_ok $? "status shows path 1 carrying traffic"
cli A link unblock 0 && cli B link unblock 0
wait_until 10 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -c established | grep -q '^2$'"
t_ok $? "path 0 comes back after unblock"
writer >"$T_DIR/writer2.log" 2>&1 & wp=$!
sleep 0.3
cli A link block 1 && cli B link block 1
wait $wp; t_ok $? "all writes succeeded while path 1 was cut"
t_done

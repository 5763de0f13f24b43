#!/bin/bash
# Both heads claim master with conflicting configurations (A's file makes
# A the master, B's file makes B the master): both go to MONITOR, serve
# nothing, and say why; PSO and configuration changes are refused there.
. "$(dirname "$0")/../lib.sh"
t_init ha_conflict
mk_cluster 1
# B's own copy of the configuration with the roles swapped
sed -e '/^head A {/,/^}/ s/role master/role slave/' \
    -e '/^head B {/,/^}/ s/role slave/role master/' \
    "$T_DIR/duonas.conf" >"$T_DIR/duonas-b.conf"
grep -A3 '^head B' "$T_DIR/duonas-b.conf" | grep -q 'role master'
t_ok $? "B's configuration makes B the master"
start_head A; t_ok $? "head A starts"
mkdir -p "$T_DIR/B"
"$DUONASD" -d -c "$T_DIR/duonas-b.conf" -n B >>"$T_DIR/B.log" 2>&1 &
PID_B=$!; T_PIDS+=("$PID_B")
wait_until 10 cli B version; t_ok $? "head B starts"
wait_until 15 is_state A MONITOR; t_ok $? "A goes to MONITOR ($(state_of A))"
wait_until 15 is_state B MONITOR; t_ok $? "B goes to MONITOR ($(state_of B))"
grep -q "both heads claim master" "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "the conflict is logged clearly"
cli A status --json | grep -q '"opmode":"monitor"'
t_ok $? "status --json shows opmode monitor"
out=$(cli A pso set x 1 2>&1); rc=$?
[ $rc -ne 0 ]; t_ok $? "PSO writes are refused in MONITOR ($rc: $out)"
sleep 2
is_state A MONITOR && is_state B MONITOR
t_ok $? "both stay in MONITOR (nothing served)"
t_done

#!/bin/bash
# duonas reset leaves a configuration-conflict MONITOR without restarting
# the daemon (issue 9).  A's file makes A the master, B's makes B the
# master: both go to MONITOR.  reset on A while the conflict lasts: back
# to MONITOR (the conflict is found again).  Then B is repaired the way
# an administrator would (stopped, its state directory holding the wrong
# configuration cleared, started with the right file) and reset on A —
# the same daemon, never restarted — brings the pair to DAC(master) /
# DAC(slave).
. "$(dirname "$0")/../lib.sh"
t_init ha_reset
mk_cluster 1
sed -e '/^head A {/,/^}/ s/role master/role slave/' \
    -e '/^head B {/,/^}/ s/role slave/role master/' \
    "$T_DIR/duonas.conf" >"$T_DIR/duonas-b.conf"
start_head A; t_ok $? "head A starts"
mkdir -p "$T_DIR/B"
"$DUONASD" -d -c "$T_DIR/duonas-b.conf" -n B >>"$T_DIR/B.log" 2>&1 &
PID_B=$!; T_PIDS+=("$PID_B")
wait_until 10 cli B version; t_ok $? "head B starts with the roles swapped"
wait_until 15 is_state A MONITOR && wait_until 15 is_state B MONITOR
t_ok $? "conflict: both in MONITOR (A $(state_of A), B $(state_of B))"
pid_a=$PID_A

out=$(cli B reset 2>&1 </dev/null); rc=$?
t_eq $rc 1 "reset on B while the conflict lasts ends in MONITOR again: \
$(echo "$out" | tail -n 1)"
is_state B MONITOR
t_ok $? "B is in MONITOR again"
out=$(cli A master move 2>&1); rc=$?
t_eq $rc 2 "master move in MONITOR is refused as not the master: $out"

# repair B: the wrong configuration goes, the right one comes
stop_head B
rm -rf "$T_DIR/B/state"
start_head B
t_ok $? "B restarted with the right configuration"
wait_until 10 is_state B 'INIT(slave)'
t_ok $? "B waits in INIT(slave) ($(state_of B)); A is still $(state_of A)"

out=$(cli A reset 2>&1); rc=$?
t_eq $rc 0 "reset on A: $(echo "$out" | tr '\n' ' ')"
wait_until 15 is_state A 'DAC(master)' && wait_until 15 is_state B 'DAC(slave)'
t_ok $? "A DAC(master), B DAC(slave) (A $(state_of A), B $(state_of B))"
kill -0 "$pid_a" 2>/dev/null && [ "$PID_A" = "$pid_a" ]
t_ok $? "A's daemon was never restarted (pid $pid_a)"
grep -q 'reset by the administrator (from MONITOR)' "$T_DIR/A.log"
t_ok $? "A logged the reset"
out=$(cli A reset 2>&1); rc=$?
t_eq $rc 1 "reset on a DAC head is refused: $out"
t_done

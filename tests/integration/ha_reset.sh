#!/bin/bash
# duonas reset leaves a configuration-conflict MONITOR without restarting
# the daemon (issue 9).  A's file makes A the master, B's makes B the
# master: both go to MONITOR.  reset on B while the conflict lasts: back
# to MONITOR (the conflict is found again).  Then B is repaired the way
# an administrator would (stopped, its state directory holding the wrong
# configuration cleared, started with the right file) and reset on A —
# the same daemon, never restarted — brings the pair to DAC(master) /
# DAC(slave).  Then the INIT exchange's generation check: B down, a
# commit on A, B back with the old generation.
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

# The INIT exchange compares configuration generations.  Without LUNs
# there are no array replicas, so a head that was down while the other
# committed comes back with the old generation: the survivor gives back
# and the returning head goes READY only once it caught up.
gen() {
	cli "$1" status --json 2>/dev/null | grep -o '"config":{[^}]*' |
	    grep -o '"generation":[0-9]*' | cut -d: -f2
}
g0=$(gen A)
stop_head B
wait_until 10 is_state A DEGRADED
t_ok $? "B stopped: A DEGRADED"
cp "$T_DIR/duonas.conf" "$T_DIR/duonas-2.conf"
echo "# generation test" >>"$T_DIR/duonas-2.conf"
out=$(cli A config import "$T_DIR/duonas-2.conf" 2>&1)
t_ok $? "configuration committed on A while B is down: $(echo "$out" |
    head -n 1)"
g1=$(gen A)
t_ok $([ "$g1" = $((g0 + 1)) ]; echo $?) "A's generation $g0 -> $g1"
start_head B
t_ok $? "B restarted with generation $g0"
wait_until 20 is_state A 'DAC(master)' && wait_until 20 is_state B 'DAC(slave)'
t_ok $? "pair back (A $(state_of A), B $(state_of B))"
grep -q "INIT exchange: .* generation $g1 here, $g1 there: READY" \
    "$T_DIR/B.log"
t_ok $? "B went READY with generation $g1 on both heads"
! grep -q 'generations still differ' "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "neither head went on with different generations"
# CTCM's catch-up on link up usually beats the first heartbeat; when it
# does not, A waits (logged) before the giveback
echo "# A waited for B's catch-up: $(grep -h "generation $g1 here, $g0 on \
the peer" "$T_DIR/A.log" | head -n 1 | cut -c1-120)"
t_eq "$(gen B)" "$g1" "B runs generation $g1"
t_done

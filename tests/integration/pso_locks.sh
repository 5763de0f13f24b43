#!/bin/bash
# Cluster-wide locks: contention from both heads (a counter that must end
# exact), timeouts, FIFO hand-over, write without the lock refused.
. "$(dirname "$0")/../lib.sh"
t_init pso_locks
mk_cluster 1
start_head A; start_head B; both_up; t_ok $? "cluster up"
t_cmd "create counter" cli A pso set ctr 0

N=40
incr_loop() {	# incr_loop HEAD: N increments under the lock
	local h=$1 i v
	for ((i = 0; i < N; i++)); do
		cli "$h" pso lock ctr --owner "w$h" --timeout 20000 || return 1
		v=$(cli "$h" pso get ctr) || return 1
		cli "$h" pso set ctr $((v + 1)) --owner "w$h" || return 1
		cli "$h" pso unlock ctr --owner "w$h" || return 1
	done
}
incr_loop A >"$T_DIR/incA.log" 2>&1 & pa=$!
incr_loop B >"$T_DIR/incB.log" 2>&1 & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
t_ok $ra "$N locked increments from A"
t_ok $rb "$N locked increments from B"
t_eq "$(cli A pso get ctr)" "$((2 * N))" "counter exact on A after contention"
t_eq "$(cli B pso get ctr)" "$((2 * N))" "counter exact on B"

t_cmd "A locks ctr as owner o1" cli A pso lock ctr --owner o1
out=$(cli B pso lock ctr --owner o2 --timeout 300 2>&1); rc=$?
t_eq "$rc" 1 "B's lock times out while A holds it"
echo "$out" | grep -q "not granted in time"
t_ok $? "timeout error is clear: $out"
cli B pso set ctr 99 --owner o2 >"$T_DIR/bset.out" 2>&1 </dev/null &
bset=$!
sleep 0.3
t_eq "$(cli A pso get ctr)" "$((2 * N))" "a write from B waits behind A's lock"
out=$(cli A pso lock ctr --owner o1 2>&1)
echo "$out" | grep -q "already held"
t_ok $? "locking twice by the same owner is reported"
t_cmd "A unlocks" cli A pso unlock ctr --owner o1
wait $bset
t_ok $? "B's queued write succeeded"
wait_until 5 sh -c "[ \"\$('$DUONAS' -s '$(sock_of A)' pso get ctr)\" = 99 ]"
t_ok $? "B's queued write goes through after the unlock"
out=$(cli A pso unlock ctr --owner o1 2>&1)
t_ok $(( $? == 1 ? 0 : 1 )) "unlocking a lock not held fails: $out"

# waiters are served in order: B waits first, then A
cli A pso lock ctr --owner hold
( cli B pso lock ctr --owner first --timeout 10000 && echo first >>"$T_DIR/order" && cli B pso unlock ctr --owner first ) &
w1=$!
sleep 0.3
( cli A pso lock ctr --owner second --timeout 10000 && echo second >>"$T_DIR/order" && cli A pso unlock ctr --owner second ) &
w2=$!
sleep 0.3
cli A pso unlock ctr --owner hold
wait $w1; wait $w2
t_eq "$(tr '\n' ' ' <"$T_DIR/order")" "first second " "lock waiters served in arrival order"
t_done

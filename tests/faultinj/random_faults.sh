#!/bin/bash
# Random syscall faults in both heads at once (seeded: SEED=N replays a
# run, FI_PROB the probability, default 0.1): every write, sync, rename
# and creating open under the test directory (LUNs, state directories,
# PSO stores, installed files) fails with that probability, EIO on the
# master and ENOSPC on the slave, while the master runs 25 configuration
# commits and 25 PSO writes.  Then the faults stop, and: both heads are
# alive and paired, PSO in sync with one value on both, the value is the
# last acknowledged write (or a later one whose answer was not
# success), the exports on both heads are exactly those of the commits
# that were acknowledged (a commit answered "not committed" never takes
# effect), both heads installed one generation, every replica agrees.
. "$(dirname "$0")/lib-faultinj.sh"
. "$(dirname "$0")/../ctcm/lib-ctcm.sh"
t_init fi_random_faults
need_root
fi_init
SEED=${SEED:-7} PROB=${FI_PROB:-0.1}
echo "# seed $SEED, probability $PROB (SEED=$SEED FI_PROB=$PROB replays this run)"
ctcm_cluster
fi_start_head A && fi_start_head B && both_up; t_ok $? "cluster up, both heads under the shim"
CALLS=pwrite,writev,fdatasync,write,fsync,rename,open,ftruncate
fi_arm A "$CALLS:prob=$PROB:seed=$SEED:errno=EIO:path=$T_DIR/"
fi_arm B "$CALLS:prob=$PROB:seed=$((SEED + 1000)):errno=ENOSPC:path=$T_DIR/"
acked="" later="" lastpso="" nc=0 np=0
for i in $(seq 1 25); do
	mkdir -p "$T_DIR/data0/e$i"
	out=$(cli A export add "$T_DIR/data0/e$i" 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ -n "$(committed_gen "$out")" ]; then
		acked="$acked e$i"; nc=$((nc + 1))
	fi
	echo "# e$i: rc $rc: $(echo "$out" | head -n 1 | cut -c1-300)"
	out=$(cli A pso set k "val$i" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then
		lastpso=val$i later=""; np=$((np + 1))
	else
		later="$later val$i"
		echo "# val$i: rc $rc: $(echo "$out" | head -n 1 | cut -c1-200)"
	fi
	sleep 0.1
done
fa=$(fi_injected_of A) fb=$(fi_injected_of B)
fi_arm A ""; fi_arm B ""
t_ok $(( !(fa > 0 && fb > 0) )) "faults fired: $fa on A, $fb on B; $nc commits and $np PSO writes acknowledged"
kill -0 "$PID_A" && kill -0 "$PID_B"; t_ok $? "both heads alive"
wait_until 30 pair_up; t_ok $? "paired again ($(state_of A) / $(state_of B))"
wait_until 30 pso_synced A && wait_until 30 pso_synced B; t_ok $? "PSO in sync on both heads"
va=$(cli A pso get k 2>&1) vb=$(cli B pso get k 2>&1)
t_eq "$va" "$vb" "both heads read the same PSO value"
# (no write acknowledged: the object may not exist at all)
[ -z "$lastpso" ] && echo "$va" | grep -q "no such object" && va=""
case " $lastpso $later " in
*" $va "*) t_ok 0 "it is the last acknowledged write (${lastpso:-none}) or a later unanswered one (${va:-none})" ;;
*) t_ok 1 "PSO value $va: last acknowledged ${lastpso:-none}, later failed:$later" ;;
esac
settled() {	# both heads committed and installed one generation
	local g; g=$(gen_of A)
	[ -n "$g" ] && both_gen "$g" && stamp_is A "$g" && stamp_is B "$g"
}
wait_until 30 settled
t_ok $? "both heads installed one generation (A $(gen_of A)/$(stamp_gen A), B $(gen_of B)/$(stamp_gen B))"
want=$(for e in $acked; do echo "$T_DIR/data0/$e"; done | sort | tr '\n' ' ')
t_eq "$(exports_of A | tr '\n' ' ')" "$want" "A's exports are exactly the acknowledged commits"
t_eq "$(exports_of B | tr '\n' ' ')" "$want" "B's the same"
wait_until 30 replicas_agree A; t_ok $? "every replica at one generation ($(replica_gens A))"
t_done

#!/bin/bash
# The local install of a committed configuration under syscall faults,
# call by call: on the master, each write, fsync, rename and creating
# open in its state directory (<statedir>/ctcm) fails in turn (the Nth
# of a commit, for every N the commit makes, EIO), then on the slave.
# Each time the fault must have fired, the answer must say the
# generation committed on the replicas and what failed, or that nothing
# was committed; the head that failed must not show a half-installed
# generation, must install the committed one by itself once the fault
# is gone, and both heads must end with the same generation and exports.
. "$(dirname "$0")/lib-faultinj.sh"
. "$(dirname "$0")/../ctcm/lib-ctcm.sh"
t_init fi_ctcm_install
need_root
fi_init
ctcm_cluster
fi_start_head A && fi_start_head B && both_up; t_ok $? "cluster up, both heads under the shim"
mkdir -p "$T_DIR/data0/x"
t_cmd "first commit" cli A export add "$T_DIR/data0/x"
installed() {	# installed HEAD GEN: config show has GEN, stamp too, not installing
	[ "$(gen_of "$1")" = "$2" ] && [ "$(stamp_gen "$1")" = "$2" ] &&
	    ! cli "$1" config show --json | grep -q '"state":"installing"'
}
k=0
commit_once() {	# one change: add a new export, answer in $out, rc in $rc
	k=$((k + 1)); mkdir -p "$T_DIR/data0/e$k"
	out=$(cli A export add "$T_DIR/data0/e$k" 2>&1); rc=$?
}

for h in A B; do
	S="$T_DIR/$h/state/ctcm"
	fi_arm $h "write:path=$S;fsync:path=$S;rename:path=$S;open:path=$S"
	commit_once
	t_eq "$rc" 0 "$h: commit without faults ($out)"
	declare -A N
	N[write]=$(fi_matched 1 "$T_DIR/$h.fistats"); N[fsync]=$(fi_matched 2 "$T_DIR/$h.fistats")
	N[rename]=$(fi_matched 3 "$T_DIR/$h.fistats"); N[open]=$(fi_matched 4 "$T_DIR/$h.fistats")
	echo "# $h: one commit: write ${N[write]} fsync ${N[fsync]} rename ${N[rename]} open ${N[open]}"
	t_ok $(( !(N[write] >= 1 && N[fsync] >= 1 && N[rename] >= 1) )) "$h: the install goes through calls the shim sees"
	bad=0 runs=0 nofire=0 acked=0
	for call in write fsync rename open; do
		for ((n = 1; n <= N[$call] && n <= 12; n++)); do
			g0=$(gen_of A)
			fi_arm $h "$call:nth=$n:errno=EIO:path=$S"
			commit_once
			runs=$((runs + 1))
			what="$h $call #$n"
			f=$(fi_injected_of $h)
			fi_arm $h ""
			[ "${f:-0}" -ge 1 ] || nofire=$((nofire + 1))
			gc=$(committed_gen "$out")
			if [ $rc -eq 0 ] && [ -n "$gc" ]; then
				acked=$((acked + 1))
				if [ "${f:-0}" -ge 1 ] && ! echo "$out" | grep -q "install failed\|could not install\|installed it)"; then
					bad=$((bad + 1)); t_ok 1 "$what: answer does not say how the install went: $out"
				fi
				want=$gc
			else
				echo "$out" | grep -qi "error\|fail\|not committed" ||
				    { bad=$((bad + 1)); t_ok 1 "$what: failed without a clear error: $out"; }
				want=$g0
				[ "$(gen_of B)" = "$g0" ] || [ "$(gen_of B)" -gt "$g0" ] 2>/dev/null ||
				    { bad=$((bad + 1)); t_ok 1 "$what: B at $(gen_of B)"; }
				want=$(gen_of A)
			fi
			if ! wait_until 20 installed A "$want" || ! wait_until 20 installed B "$want"; then
				bad=$((bad + 1))
				t_ok 1 "$what: heads not both installed at $want (A $(gen_of A)/$(stamp_gen A), B $(gen_of B)/$(stamp_gen B)): $out"
				continue
			fi
			[ "$(exports_of A | tr '\n' ' ')" = "$(exports_of B | tr '\n' ' ')" ] ||
			    { bad=$((bad + 1)); t_ok 1 "$what: the heads' exports differ"; }
			grep -q "e$k" "$T_DIR/exports" || [ $rc -ne 0 ] ||
			    { bad=$((bad + 1)); t_ok 1 "$what: committed e$k is not in the exports file"; }
		done
	done
	t_eq "$nofire" 0 "$h: every fault fired ($runs commits)"
	t_eq "$bad" 0 "$h: each commit answered clearly, both heads installed the same generation afterwards ($acked committed)"
done
wait_until 10 replicas_agree A; t_ok $? "every replica at one generation ($(replica_gens A))"
t_done

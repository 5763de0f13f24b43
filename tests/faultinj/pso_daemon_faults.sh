#!/bin/bash
# PSO writes between two real heads with the LMDB store of one head
# failing under the shim (armed at run time through the control file):
# each pwrite, writev and fdatasync a write makes on A's data.mdb fails
# in turn (EIO), then the same on B's.  A write reported committed must
# be what both heads read afterwards; one reported failed must leave both
# heads with one and the same value and version; the failing head must
# report in sync again by itself once the fault is gone (before
# pso_store.c reopened an environment LMDB had declared dead, a failed
# meta page write left that head's store refusing every write until a
# restart), and the next write must work.
. "$(dirname "$0")/lib-faultinj.sh"
t_init fi_pso_daemon
need_root
fi_init
mk_cluster 1
fi_start_head A && fi_start_head B && both_up; t_ok $? "cluster up, both heads under the shim"
ver() { cli "$1" pso get "$2" --json 2>/dev/null | grep -o '"version":[0-9]*' | cut -d: -f2; }
val() { cli "$1" pso get "$2" 2>/dev/null | head -c 40; }
t_cmd "create x" cli A pso set x v0
k=0
for h in A B; do
	S="$T_DIR/$h/state"
	fi_arm $h "pwrite:path=$S;writev:path=$S;fdatasync:path=$S"
	k=$((k + 1)); t_cmd "$h: a write without faults" cli A pso set x "v$k"
	declare -A N
	N[pwrite]=$(fi_matched 1 "$T_DIR/$h.fistats"); N[writev]=$(fi_matched 2 "$T_DIR/$h.fistats")
	N[fdatasync]=$(fi_matched 3 "$T_DIR/$h.fistats")
	echo "# $h: one write: pwrite ${N[pwrite]} writev ${N[writev]} fdatasync ${N[fdatasync]}"
	t_ok $(( !(N[pwrite] >= 1 && N[fdatasync] >= 1) )) "$h: the store writes through calls the shim sees"
	bad=0 runs=0 acked=0
	for call in pwrite writev fdatasync; do
		for ((n = 1; n <= N[$call] && n <= 6; n++)); do
			fi_arm $h "$call:nth=$n:errno=EIO:path=$S"
			k=$((k + 1))
			out=$(cli A pso set x "v$k" 2>&1); rc=$?
			f=$(fi_injected_of $h)
			fi_arm $h ""
			runs=$((runs + 1)); what="$h $call #$n"
			[ "${f:-0}" -ge 1 ] || { bad=$((bad + 1)); t_ok 1 "$what: the fault did not fire"; }
			if ! wait_until 20 pso_synced A || ! wait_until 20 pso_synced B; then
				bad=$((bad + 1)); t_ok 1 "$what: not in sync again ($out)"
				continue
			fi
			a=$(val A x) b=$(val B x)
			if [ $rc -eq 0 ]; then
				acked=$((acked + 1))
				[ "$a $b" = "v$k v$k" ] ||
				    { bad=$((bad + 1)); t_ok 1 "$what: acknowledged v$k, heads read '$a' '$b'"; }
			else
				[ "$a" = "$b" ] ||
				    { bad=$((bad + 1)); t_ok 1 "$what: failed ($out), heads read '$a' '$b'"; }
			fi
			[ "$(ver A x)" = "$(ver B x)" ] ||
			    { bad=$((bad + 1)); t_ok 1 "$what: versions $(ver A x) and $(ver B x)"; }
			k=$((k + 1))
			cli A pso set x "v$k" >/dev/null 2>&1 && [ "$(val B x)" = "v$k" ] &&
			    [ "$(val A x)" = "v$k" ] ||
			    { bad=$((bad + 1)); t_ok 1 "$what: the next write does not work"; }
		done
	done
	t_eq "$bad" 0 "$h: $runs faulted writes ($acked acknowledged): what was acknowledged is on both heads, the heads agree, in sync again, the next write works"
done
grep -q "reopened after a failed commit" "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "a store LMDB declared dead was reopened (logged)"
t_done

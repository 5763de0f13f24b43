#!/bin/bash
# The PSO store (pso_store.c over LMDB, as duonasd runs it) under
# syscall faults: one put of three records (tests/faultinj/fi_pso.c)
# with its Nth pwrite, writev or fdatasync failing (EIO, ENOSPC), for
# every N the put makes, then every call from the Nth on, then random
# faults from a fixed seed.  Each time the fault must have fired, the
# put must report an error (never success), and a fresh open must find
# the store opening and the complete old or complete new value, never a
# mix.  A second put in the same process after a one-shot fault shows
# whether the open store recovers when the fault is gone.
. "$(dirname "$0")/lib-faultinj.sh"
t_init fi_pso_faults
fi_init
P="$DUONAS_BUILDDIR/tests/faultinj/fi_pso"
S="$T_DIR/store"
PRISTINE="$T_DIR/pristine"
LEN=20000	# five pages of overflow per record: more than one iovec

"$P" "$PRISTINE" put obj o $LEN >"$T_DIR/p.out" 2>&1
t_ok $? "pristine store holds the old value ($(cat "$T_DIR/p.out"))"
fresh() { rm -rf "$S"; cp -a "$PRISTINE" "$S"; }

# 1. how many of each call one put makes (count-only rules)
fresh
fi_run "pwrite:path=$S/;writev:path=$S/;fdatasync:path=$S/;fsync:path=$S/;msync" \
    "$P" "$S" put obj n $LEN >"$T_DIR/p.out" 2>&1
t_ok $? "put without faults ($(cat "$T_DIR/p.out"))"
declare -A NCALLS
NCALLS[pwrite]=$(fi_matched 1); NCALLS[writev]=$(fi_matched 2)
NCALLS[fdatasync]=$(fi_matched 3)
echo "# one put: pwrite ${NCALLS[pwrite]} writev ${NCALLS[writev]} fdatasync ${NCALLS[fdatasync]} fsync $(fi_matched 4) msync $(fi_matched 5)"
t_ok $(( !(NCALLS[pwrite] >= 1 && NCALLS[fdatasync] >= 1) )) \
    "the put writes and syncs through calls the shim sees (pwrite ${NCALLS[pwrite]}, writev ${NCALLS[writev]}, fdatasync ${NCALLS[fdatasync]})"
t_eq "$("$P" "$S" get obj)" "n $LEN 2" "and the new value is read back"

# check_after WHAT: the store opens and holds all old or all new
nold=0 nnew=0
check_after() {
	local got rc
	got=$("$P" "$S" get obj 2>&1); rc=$?
	case "$rc:$got" in
	"0:o $LEN 1") nold=$((nold + 1)); return 0 ;;
	"0:n $LEN 2") nnew=$((nnew + 1)); return 0 ;;
	"0:x $LEN 2") [ "${2:-}" = put2 ] && { nold=$((nold + 1)); return 0; } ;;
	esac
	t_ok 1 "$1: after reopen: $got (rc $rc)"
	return 1
}

# 2. the Nth call fails once
bad=0 runs=0 notfired=0 stuck=""
for call in pwrite writev fdatasync; do
	for ((n = 1; n <= NCALLS[$call] && n <= 40; n++)); do
		for err in EIO ENOSPC; do
			fresh
			out=$(fi_run "$call:nth=$n:errno=$err:path=$S/" \
			    "$P" "$S" put obj n $LEN x 2>&1); rc=$?
			runs=$((runs + 1))
			[ "$(fi_injected)" = 1 ] || { notfired=$((notfired + 1)); continue; }
			if ! echo "$out" | grep -q '^put: ' ||
			    echo "$out" | grep -q '^put: success'; then
				bad=$((bad + 1))
				t_ok 1 "$call #$n $err: put acknowledged: $out"
			fi
			# the second put of the run either stored x over
			# the old value or failed and left it
			if echo "$out" | grep -q '^put2: success'; then
				check_after "$call #$n $err" put2 || bad=$((bad + 1))
			else
				check_after "$call #$n $err" || bad=$((bad + 1))
				stuck="$stuck $call#$n/$err"
			fi
		done
	done
done
t_eq "$notfired" 0 "every one-shot fault fired ($runs runs)"
t_eq "$bad" 0 "no put acknowledged under a fault, no half value ($nold old, $nnew new)"
t_eq "${stuck# }" "" "the open store works again once a one-shot fault has passed"

# 3. every call from the Nth on fails (LMDB's own write-back of the
# meta page fails too)
bad=0 runs=0
for call in pwrite fdatasync; do
	for ((n = 1; n <= NCALLS[$call] && n <= 40; n++)); do
		fresh
		out=$(fi_run "$call:from=$n:errno=EIO:path=$S/" \
		    "$P" "$S" put obj n $LEN 2>&1); rc=$?
		runs=$((runs + 1))
		[ "$(fi_injected)" -ge 1 ] 2>/dev/null || { bad=$((bad + 1)); t_ok 1 "$call from $n: no fault fired"; continue; }
		[ $rc -ne 0 ] || { bad=$((bad + 1)); t_ok 1 "$call from $n: put acknowledged: $out"; }
		check_after "$call from $n" || bad=$((bad + 1))
	done
done
t_eq "$bad" 0 "faults from the Nth call on: error, then old or new ($runs runs)"

# 4. random faults, fixed seed: after an acknowledged put the new value,
# after a failed one the previous or the new one, never anything else
fresh
want="o $LEN"; fired=0 acked=0 bad=0
chars=(a b c d e f g h i j k l m n p q r s t u v w x y z)
for ((i = 0; i < 25; i++)); do
	ch=${chars[$i]}
	out=$(fi_run "pwrite,writev,fdatasync:prob=0.15:seed=$((i + 11)):errno=EIO:path=$S/" \
	    "$P" "$S" put obj "$ch" $LEN 2>&1); rc=$?
	f=$(fi_injected); fired=$((fired + ${f:-0}))
	got=$("$P" "$S" get obj 2>&1); grc=$?
	got=${got% *}
	if [ $rc -eq 0 ]; then
		acked=$((acked + 1))
		[ "$got" = "$ch $LEN" ] || { bad=$((bad + 1)); t_ok 1 "put $ch acknowledged, store has '$got'"; }
		[ "${f:-0}" = 0 ] || { bad=$((bad + 1)); t_ok 1 "put $ch acknowledged with $f fault(s): $out"; }
		want="$ch $LEN"
	elif [ $grc -ne 0 ] || { [ "$got" != "$want" ] && [ "$got" != "$ch $LEN" ]; }; then
		bad=$((bad + 1)); t_ok 1 "put $ch failed, store has '$got' (rc $grc)"
	else
		want=$got
	fi
done
t_ok $(( fired == 0 )) "random faults fired ($fired, $acked of 25 puts acknowledged)"
t_eq "$bad" 0 "random faults: acknowledged means stored, failed means unchanged or whole"
t_done

#!/bin/bash
# A LUN's private extent (pool_io.c) under syscall faults: the heartbeat
# block, the reservation and a configuration replica written with their
# Nth pwrite or fdatasync failing with EIO, for every N each write makes
# (tests/faultinj/fi_pool.c).  Each time: the fault fired, the write
# reported an error (never success) and logged a line naming the LUN and
# the error, the extent still loads and reads back the complete old or
# complete new block (a configuration replica: the old or the new
# generation, never a mix), and the same write succeeds once the fault
# is gone.
. "$(dirname "$0")/lib-faultinj.sh"
t_init fi_pool_faults
fi_init
P="$DUONAS_BUILDDIR/tests/faultinj/fi_pool"
L="$T_DIR/lun0.img"
PRISTINE="$T_DIR/pristine.img"
LEN=10000	# three data blocks behind the slot header

truncate -s 80M "$PRISTINE"
"$P" "$PRISTINE" format >"$T_DIR/p.out" 2>&1 &&
    "$P" "$PRISTINE" hb 1 >>"$T_DIR/p.out" 2>&1 &&
    "$P" "$PRISTINE" res 2 >>"$T_DIR/p.out" 2>&1 &&
    "$P" "$PRISTINE" cfg 1 o $LEN >>"$T_DIR/p.out" 2>&1
t_ok $? "formatted extent with heartbeat 1, reservation 2, replica 1 ($(tr '\n' ' ' <"$T_DIR/p.out"))"
OLD="hb 1 res 2 cfg 1 o $LEN"
t_eq "$("$P" "$PRISTINE" show)" "$OLD" "read back"
fresh() { rm -f "$L"; cp --sparse=always "$PRISTINE" "$L"; }

# new_of OP -> what show prints after OP succeeded
declare -A ARGS NEW
ARGS[hb]="hb 5";		NEW[hb]="hb 5 res 2 cfg 1 o $LEN"
ARGS[res]="res 6";		NEW[res]="hb 1 res 6 cfg 1 o $LEN"
ARGS[cfg]="cfg 2 n $LEN";	NEW[cfg]="hb 1 res 2 cfg 2 n $LEN"

bad=0 runs=0 total_old=0 total_new=0
for op in hb res cfg; do
	fresh
	# shellcheck disable=SC2086
	fi_run "pwrite:path=$L;fdatasync:path=$L" "$P" "$L" ${ARGS[$op]} >/dev/null 2>&1
	np=$(fi_matched 1) nf=$(fi_matched 2)
	echo "# $op: $np pwrite, $nf fdatasync"
	t_ok $(( !(np >= 1) )) "$op writes through calls the shim sees ($np pwrite, $nf fdatasync)"
	for call in pwrite fdatasync; do
		if [ $call = pwrite ]; then max=$np; else max=$nf; fi
		for ((n = 1; n <= max && n <= 20; n++)); do
			fresh
			# shellcheck disable=SC2086
			out=$(fi_run "$call:nth=$n:errno=EIO:path=$L" "$P" "$L" ${ARGS[$op]} 2>&1); rc=$?
			runs=$((runs + 1))
			what="$op, $call #$n"
			if [ "$(fi_injected)" != 1 ]; then
				bad=$((bad + 1)); t_ok 1 "$what: the fault did not fire"; continue
			fi
			if [ $rc -ne 1 ]; then
				bad=$((bad + 1)); t_ok 1 "$what: acknowledged (rc $rc): $out"
			fi
			echo "$out" | grep -q "lun l0 (.*): \(write of block [0-9]*\( (.*)\)\? at offset [0-9]*\|fdatasync\): Input/output error" ||
			    { bad=$((bad + 1)); t_ok 1 "$what: no log line naming the LUN and the error: $out"; }
			got=$("$P" "$L" show 2>&1)
			case "$got" in
			"$OLD") total_old=$((total_old + 1)) ;;
			"${NEW[$op]}") total_new=$((total_new + 1)) ;;
			*) bad=$((bad + 1)); t_ok 1 "$what: reads back '$got'" ;;
			esac
			# shellcheck disable=SC2086
			out=$("$P" "$L" ${ARGS[$op]} 2>&1) ||
			    { [ $op = cfg ] && [ "$got" = "${NEW[cfg]}" ] &&
			      echo "$out" | grep -q "not newer"; } ||
			    { bad=$((bad + 1)); t_ok 1 "$what: the write fails again without a fault: $out"; }
			t=$("$P" "$L" show 2>&1)
			[ "$t" = "${NEW[$op]}" ] ||
			    { bad=$((bad + 1)); t_ok 1 "$what: after the retry reads back '$t'"; }
		done
	done
done
t_eq "$bad" 0 "$runs faulted writes: each reported and logged, old or new block ($total_old old, $total_new new), the retry succeeds"

# a failing disk (every write from the first on) stays an error, and the
# extent stays readable with the old blocks
fresh
out=$(fi_run "pwrite,fdatasync:from=1:errno=EIO:path=$L" "$P" "$L" cfg 2 n $LEN 2>&1); rc=$?
t_eq "$rc:$(fi_injected)" "1:1" "replica write on a failing disk: error after the first fault ($out)"
t_eq "$("$P" "$L" show)" "$OLD" "the old replica still reads back"
t_done

#!/bin/bash
# The software image store (pool/img_store.c, the code `duonas image
# upload` and duonas-boot run) under syscall faults.  Two LUNs hold
# images 1.0.0 and 1.1.0 (two slots each); 1.2.0 is put on both with the
# Nth pwrite or fdatasync of the LUN files failing (EIO, and ENOSPC once),
# for every N the put makes.  Each time: the fault fired, the put
# reported that it stored the image on fewer LUNs than asked and named
# the LUN and the error (never success), 1.1.0 (the newest image before
# the put) still reads back whole from the store, 1.2.0 and 1.0.0 (whose
# slot the put overwrites) read back whole or not at all, never as
# other bytes, and the same put succeeds once the fault is gone.
. "$(dirname "$0")/lib-faultinj.sh"
t_init fi_imgstore_faults
fi_init
SP="$DUONAS_BUILDDIR/tests/boot/store_put"
MK="$DUONAS_BUILDDIR/duonas-mkimage"
[ -x "$SP" ] && [ -x "$MK" ] || t_skip_all "store_put or duonas-mkimage not built"

CONF="$T_DIR/duonas.conf"
mk_cluster >/dev/null && mk_lun la 1 A && mk_lun lb 2 B
: >"$T_DIR/exports"

# small images (three 48 KiB programs each: every version other bytes)
"$DUONAS_BUILDDIR/duonas" image keygen "$T_DIR/k" >/dev/null
mkimg() {	# mkimg VERSION
	local f
	for f in duonasd duonas duonas-boot; do
		head -c 49152 /dev/urandom >"$T_DIR/$1.$f"
	done
	"$MK" -k "$T_DIR/k.key" -o "$T_DIR/$1.img" --version "$1" \
	    --file "duonasd=$T_DIR/$1.duonasd" --file "duonas=$T_DIR/$1.duonas" \
	    --file "duonas-boot=$T_DIR/$1.duonas-boot" >/dev/null
}
mkimg 1.0.0 && mkimg 1.1.0 && mkimg 1.2.0
t_ok $? "images 1.0.0, 1.1.0, 1.2.0 ($(stat -c %s "$T_DIR/1.2.0.img") bytes each)"
"$SP" "$CONF" "$T_DIR/1.0.0.img" && "$SP" "$CONF" "$T_DIR/1.1.0.img"
t_ok $? "1.0.0 and 1.1.0 stored on la and lb"
get() { "$SP" --get "$CONF" "$T_DIR/$1.img" 2>>"$T_DIR/get.log"; }	# stdout: whole/absent/...
t_eq "$(get 1.0.0)$(get 1.1.0)" "whole 1.0.0 ($(stat -c %s "$T_DIR/1.0.0.img") bytes)whole 1.1.0 ($(stat -c %s "$T_DIR/1.1.0.img") bytes)" \
    "both read back whole"
mkdir -p "$T_DIR/pristine"
cp --sparse=always "$T_DIR/la.img" "$T_DIR/lb.img" "$T_DIR/pristine/"
fresh() { cp --sparse=always "$T_DIR/pristine/la.img" "$T_DIR/pristine/lb.img" "$T_DIR/"; }

LUNS="$T_DIR/l"		# matches la.img and lb.img (path substring)
fi_run "pwrite:path=$LUNS;fdatasync:path=$LUNS" "$SP" "$CONF" "$T_DIR/1.2.0.img" >/dev/null 2>&1
NP=$(fi_matched 1) NF=$(fi_matched 2)
t_ok $(( !(NP >= 2 && NF >= 2) )) "a put goes through calls the shim sees ($NP pwrite, $NF fdatasync)"
t_eq "$(get 1.2.0 | cut -d' ' -f1)" whole "and stores 1.2.0 whole without faults"

bad=0 runs=0 stored_new=0
check_one() {	# check_one WHAT RULE
	local what=$1 rule=$2 out rc g
	fresh
	out=$(fi_run "$rule" "$SP" "$CONF" "$T_DIR/1.2.0.img" 2>&1); rc=$?
	runs=$((runs + 1))
	if [ "$(fi_injected)" != 1 ]; then
		bad=$((bad + 1)); t_ok 1 "$what: the fault did not fire"; return
	fi
	if [ $rc -ne 1 ]; then
		bad=$((bad + 1)); t_ok 1 "$what: acknowledged (rc $rc): $out"
	fi
	echo "$out" | grep -q "stored on [01] of 2 LUNs: .*l[ab].*\(Input/output error\|No space left on device\)" ||
	    { bad=$((bad + 1)); t_ok 1 "$what: no message naming the LUN and the error: $out"; }
	g=$(get 1.1.0)
	[ "${g%% *}" = whole ] ||
	    { bad=$((bad + 1)); t_ok 1 "$what: 1.1.0, the newest image before, is not whole: $g"; }
	for v in 1.2.0 1.0.0; do
		g=$(get $v)
		case ${g%% *} in
		whole) [ $v = 1.2.0 ] && stored_new=$((stored_new + 1)) ;;
		absent:) ;;
		*) bad=$((bad + 1)); t_ok 1 "$what: $v reads back as neither whole nor absent: $g" ;;
		esac
	done
	out=$("$SP" "$CONF" "$T_DIR/1.2.0.img" 2>&1) && g=$(get 1.2.0) &&
	    [ "${g%% *}" = whole ] ||
	    { bad=$((bad + 1)); t_ok 1 "$what: the put without the fault fails: $out $g"; }
}
for call in pwrite fdatasync; do
	if [ $call = pwrite ]; then max=$NP; else max=$NF; fi
	for ((n = 1; n <= max && n <= 40; n++)); do
		check_one "$call #$n" "$call:nth=$n:errno=EIO:path=$LUNS"
	done
done
check_one "pwrite #2 ENOSPC" "pwrite:nth=2:errno=ENOSPC:path=$LUNS"
t_eq "$bad" 0 "$runs faulted puts: each reported, 1.1.0 always whole, 1.2.0 and 1.0.0 whole or absent ($stored_new left 1.2.0 readable from the other LUN), each put works again without the fault"
t_done

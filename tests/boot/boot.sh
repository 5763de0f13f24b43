#!/bin/bash
# tests/boot/boot.sh — duonas-boot on one head, no daemons, no root:
# images made by duonas-mkimage whose "duonasd" is a script recording its
# arguments and DUONAS_BOOT_INFO; an explicit install, a start, a corrupt
# slot (marked bad, the other booted), the preferred image installed from
# a test store (DUONAS_BOOT_TEST_STORE), a new slot that never reaches
# good (fallback after 3 attempts, no copy made, no reinstall), kill -9
# at each step of an install (the next start boots a valid slot), and no
# valid slot (exit 78); the image fetched from the LUNs' image store
# (put there by tests/boot/store_put).
. "${DUONAS_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
t_init boot

BOOT="$DUONAS_BUILDDIR/duonas-boot"
MKIMAGE="$DUONAS_BUILDDIR/duonas-mkimage"
[ -x "$BOOT" ] || t_skip_all "duonas-boot not built"
[ -x "$MKIMAGE" ] || t_skip_all "duonas-mkimage not built"

CONF="$T_DIR/duonas.conf"
STATE="$T_DIR/A/state"
SLOTS="$STATE/boot"
STORE="$T_DIR/store"
OUT="$T_DIR/ran"
export BOOT_T_OUT="$OUT"
mkdir -p "$STATE/image" "$T_DIR/A/run" "$STORE"

# the cluster configuration: only needs to parse (nothing is started)
mk_cluster 1 "boot {
  keys \"$T_DIR/img.pub\"
  attempts 3
}" >/dev/null && mk_lun la 1 A
: >"$T_DIR/exports"

# the "daemon" of each image: records how it was started
mkdaemon() {	# mkdaemon VERSION FILE
	cat >"$2" <<EOD
#!/bin/sh
{ echo "version $1"; echo "args \$*"; echo "info \$DUONAS_BOOT_INFO"; } >"\$BOOT_T_OUT"
exit 0
EOD
	chmod 755 "$2"
}
mkdaemon 0.1.0 "$T_DIR/d1"
mkdaemon 0.2.0 "$T_DIR/d2"
head -c 3000000 /dev/urandom >"$T_DIR/blob"

t_cmd "image key made" "$MKIMAGE" --keygen "$T_DIR/img"
t_cmd "image 0.1.0 built" "$MKIMAGE" -k "$T_DIR/img.key" --version 0.1.0 \
    --file duonasd="$T_DIR/d1" -o "$T_DIR/img1"
t_cmd "image 0.2.0 built" "$MKIMAGE" -k "$T_DIR/img.key" --version 0.2.0 \
    --file duonasd="$T_DIR/d2" --file blob="$T_DIR/blob" -o "$T_DIR/img2"
D2=$(sha256sum "$T_DIR/img2" | cut -d' ' -f1)
cp "$T_DIR/img2" "$STORE/$D2"

LOG="$T_DIR/boot.log"
boot() {	# boot [ENV...]: one start; $? its exit status, $LOG its log
	rm -f "$OUT"
	env "$@" "$BOOT" -c "$CONF" -n A -- -d >"$LOG" 2>&1
}
ran() { sed -n "s/^$1 //p" "$OUT" 2>/dev/null; }
field() { ran info | tr ' ' '\n' | sed -n "s/^$1=//p"; }
stamp() { stat -c '%i %Y %s' "$@" 2>/dev/null; }

# no slot yet: nothing to run
boot
t_eq "$?" 78 "no slot: exit 78"

# an administrator's install, then a start
t_cmd "install 0.1.0" "$BOOT" install "$T_DIR/img1" -c "$CONF" -n A
boot
t_eq "$?" 0 "start after install"
t_eq "$(ran version)" 0.1.0 "0.1.0's daemon ran"
t_eq "$(ran args)" "-c $CONF -n A -d" "daemon arguments"
t_eq "$(field slot) $(field state)" "A good" "boot info: slot A, good"
t_eq "$(field digest)" "$(sha256sum "$T_DIR/img1" | cut -d' ' -f1)" \
    "boot info: digest of the image"

R_BEFORE=$(stamp "$SLOTS/slotrec")
rm -f "$OUT"
"$BOOT" --dry-run -c "$CONF" -n A >"$T_DIR/dry" 2>&1
t_ok $? "dry run"
grep -q "^would exec $SLOTS/A/duonasd -c $CONF -n A" "$T_DIR/dry" &&
    [ ! -f "$OUT" ] && [ "$(stamp "$SLOTS/slotrec")" = "$R_BEFORE" ]
t_ok $? "dry run: says what it would run, runs and writes nothing"

# a second install goes into the other slot; a corrupt slot is bad
t_cmd "install 0.2.0" "$BOOT" install "$T_DIR/img2" -c "$CONF" -n A
boot
t_eq "$(ran version) $(field slot)" "0.2.0 B" "0.2.0 runs from B"
echo corrupt >>"$SLOTS/B/duonasd"
boot
t_eq "$?" 0 "start with B corrupt"
t_eq "$(ran version) $(field slot)" "0.1.0 A" "corrupt B: A booted"
"$BOOT" status -c "$CONF" -n A >"$T_DIR/st" 2>&1
grep -q '^  B: .*state bad .*reason: .*duonasd' "$T_DIR/st"
t_ok $? "status: B bad, the reason names the file ($(grep ' B:' "$T_DIR/st"))"

# the preferred image comes from the store into B (not running), new
echo "preferred 0.2.0 $D2 $(stat -c %s "$T_DIR/img2")" >"$STATE/image/boot"
export DUONAS_BOOT_TEST_STORE="$STORE"
A_BEFORE=$(stamp "$SLOTS/A/image" "$SLOTS/A/duonasd")
boot
t_eq "$(ran version) $(field slot) $(field state) $(field attempts)" \
    "0.2.0 B new 1" "preferred installed into B: new, attempt 1"
grep -q "installed 0.2.0 into B from the store" "$LOG"
t_ok $? "log says so"
B_INST=$(stamp "$SLOTS/B/image")

# the new slot never reaches good: attempts 2 and 3, then fallback
boot; t_eq "$(field attempts)" 2 "attempt 2"
boot; t_eq "$(field attempts)" 3 "attempt 3"
boot
t_eq "$(ran version) $(field slot) $(field state)" "0.1.0 A good" \
    "after 3 attempts: back on A"
t_eq "$(ran info | sed 's/.*note=//')" \
    "fell back to A: 0.2.0 did not reach good in 3 attempts" "note"
"$BOOT" status -c "$CONF" -n A >"$T_DIR/st" 2>&1
grep -q '^  B: version 0.2.0 .*state bad .*did not reach good in 3' \
    "$T_DIR/st"
t_ok $? "status: B bad, did not reach good"
grep -q '^note: fell back to A' "$T_DIR/st"
t_ok $? "status shows the note"
boot
t_eq "$(ran version)" 0.1.0 "next start: still A"
grep -q "preferred 0.2.0 is bad here" "$LOG"
t_ok $? "log: the preferred image is bad here"
t_eq "$(stamp "$SLOTS/A/image" "$SLOTS/A/duonasd")" "$A_BEFORE" \
    "A not copied or touched"
t_eq "$(stamp "$SLOTS/B/image")" "$B_INST" "B not installed again"

# kill -9 at each step of an install (the hook pauses 1.5 s after each:
# image written, files extracted, old slot removed)
KILL_AT=(0 0.7 2.2 3.7)
for step in 1 2 3; do
	echo corrupt >>"$SLOTS/B/image"	# so the start reinstalls B
	rm -f "$OUT"
	DUONAS_BOOT_TEST_SLEEP_MS=1500 "$BOOT" -c "$CONF" -n A \
	    >"$T_DIR/kill.log" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	sleep "${KILL_AT[$step]}"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	t_ok "$( [ -f "$OUT" ] && echo 1 || echo 0)" \
	    "kill -9 in install step $step: the daemon was not started"
	case $step in
	1|2) [ -d "$SLOTS/B.new" ] && [ -d "$SLOTS/B" ] ;;
	3) [ -d "$SLOTS/B.new" ] && [ ! -e "$SLOTS/B" ] ;;
	esac
	t_ok $? "killed where meant: $(cd "$SLOTS" && echo *)"
	boot
	rc=$?
	t_eq "$rc $(ran version)" "0 0.2.0" \
	    "after the kill at step $step: 0.2.0 boots ($(field slot))"
done

# the floor: a preferred image older than it is not installed
echo corrupt >>"$SLOTS/B/image"
{ echo "preferred 0.2.0 $D2 $(stat -c %s "$T_DIR/img2")"; echo "floor 0.3.0"; } \
    >"$STATE/image/boot"
boot
t_eq "$?$(ran version)" "00.1.0" "below the floor: A boots"
grep -q "older than the floor 0.3.0: refused" "$LOG"
t_ok $? "log: refused below the floor"
[ ! -e "$SLOTS/B.new" ]
t_ok $? "nothing half-installed"

# an image signed by a key nobody trusts is refused by install
t_cmd "other key made" "$MKIMAGE" --keygen "$T_DIR/other"
t_cmd "image with the other key" "$MKIMAGE" -k "$T_DIR/other.key" \
    --version 0.3.0 --file duonasd="$T_DIR/d2" -o "$T_DIR/img3"
BEFORE=$(stamp "$SLOTS/A/image" "$SLOTS/B/image" "$SLOTS/slotrec")
"$BOOT" install "$T_DIR/img3" -c "$CONF" -n A >"$LOG" 2>&1
t_eq "$?" 65 "untrusted image: install exit 65 ($(cat "$LOG"))"
t_eq "$(stamp "$SLOTS/A/image" "$SLOTS/B/image" "$SLOTS/slotrec")" \
    "$BEFORE" "untrusted image: no slot or record touched"
t_cmd "with --keys it installs" "$BOOT" install "$T_DIR/img3" -c "$CONF" \
    -n A --keys "$T_DIR/other.pub"

# the real image store of the LUNs (B holds an image signed by a key the
# boot does not trust: it is bad, and the preferred image goes there)
unset DUONAS_BOOT_TEST_STORE
echo "preferred 0.2.0 $D2 $(stat -c %s "$T_DIR/img2")" >"$STATE/image/boot"
boot
t_eq "$?$(ran version)" "00.1.0" "store empty (no LUN file): A boots"
grep -q "keeping what this head has" "$LOG"
t_ok $? "log: the fetch failed, keeping what it has ($(grep 'preferred 0.2.0:' "$LOG"))"
t_cmd "0.2.0 put into the LUNs' store" "$DUONAS_BUILDDIR/tests/boot/store_put" \
    "$CONF" "$T_DIR/img2"
boot
t_eq "$?$(ran version) $(field slot) $(field state)" "00.2.0 B new" \
    "installed from the LUNs' store into B"

# no valid slot at all
: >"$STATE/image/boot"
echo corrupt >>"$SLOTS/A/image"
echo corrupt >>"$SLOTS/B/image"
boot
t_eq "$?" 78 "both slots corrupt: exit 78"
grep -q "no valid slot" "$LOG"
t_ok $? "log: no valid slot"
t_done

#!/bin/bash
# test_lun_data.sh — lun_data.h for real: a 200 MiB sparse file as the LUN,
# its private extent formatted with pool_lun_format, an ext4 file system
# after it on a loop device; attach / detach / idempotence / format
# refusal / fencing detach of a busy file system with a writer killed
# mid-write and journal replay on the next attach; the losetup fallback;
# directory mode.  Needs root, /dev/loop-control and mkfs.ext4; skips
# (exit 77) with the reason otherwise.  Only the loop devices over our own
# file (losetup -j) and our own mount point are cleaned up (trap).
set -u

TOOL=${LUN_DATA_TOOL:-./tests/unit/lun_data_tool}
DIR=
IMG=
MP=
OFF=67108864
n=0
fail=0
WRITER=
BDEV=

skip() { echo "SKIP: $*"; exit 77; }
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
# is A B: 0 when A equals B (to feed ok with an expected failure).
is() { [ "$1" = "$2" ]; echo $?; }
cleanup() {
	[ -n "$WRITER" ] && kill -9 "$WRITER" 2>/dev/null
	if [ -n "$MP" ]; then
		for i in 1 2 3; do
			mountpoint -q "$MP" 2>/dev/null || break
			umount -l "$MP" 2>/dev/null
		done
	fi
	if [ -n "$IMG" ] && [ -e "$IMG" ]; then
		losetup -j "$IMG" 2>/dev/null | cut -d: -f1 | while read -r d; do
			losetup -d "$d" 2>/dev/null
		done
	fi
	if [ -n "$BDEV" ]; then
		umount -l "$DIR/bmnt" 2>/dev/null
		losetup -j "$BDEV" 2>/dev/null | cut -d: -f1 | while read -r d; do
			losetup -d "$d" 2>/dev/null
		done
		losetup -d "$BDEV" 2>/dev/null
	fi
	[ -n "$DIR" ] && rm -rf "$DIR"
}

[ "$(id -u)" = 0 ] || skip "not root"
[ -e /dev/loop-control ] || skip "no loop device support (/dev/loop-control)"
PATH=$PATH:/usr/sbin:/sbin
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 missing (e2fsprogs)"
command -v e2fsck >/dev/null || skip "e2fsck missing (e2fsprogs)"
command -v losetup >/dev/null || skip "losetup missing (util-linux)"
grep -qw ext4 /proc/filesystems || modprobe ext4 2>/dev/null
grep -qw ext4 /proc/filesystems || skip "kernel has no ext4"
[ -x "$TOOL" ] || { echo "not ok 1 - $TOOL not built"; exit 1; }

trap cleanup EXIT
DIR=$(mktemp -d /tmp/duonas-t-lundata.XXXXXX)
IMG=$DIR/lun.img
MP=$DIR/mnt
LOG=$DIR/log
truncate -s 200M "$IMG"
X() { "$TOOL" -n lun1 -i 1 -p "$IMG" -M "$MP" "$@" 2>>"$LOG"; }
loops() { losetup -j "$IMG" | wc -l; }
# A detached loop device goes away when its last opener closes it
# (autoclear): a prober of someone else's (udev, udisks scanning every
# new block device) can hold it a moment longer.  Wait up to 5 s.
no_loops() {
	for _ in $(seq 50); do
		[ "$(loops)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
mounts() { awk -v m="$MP" '$5 == m' /proc/self/mountinfo | wc -l; }
# Probe once: a container may have the device node but no loop driver.
if ! L=$(losetup -f --show -o $OFF "$IMG" 2>/dev/null); then
	skip "cannot attach a loop device here"
fi
losetup -d "$L"

"$TOOL" pformat "$IMG" lun1 1 2>>"$LOG"; ok $? "private extent formatted (pool_lun_format)"
X attach >/dev/null; ok $(is $? 1) "attach before the data area is formatted fails"
X format; ok $? "lun_data_format: mkfs.ext4 after the private extent"
no_loops; ok $? "format leaves no loop device behind"
dumpe2fs -h "$IMG?offset=$OFF" 2>/dev/null | grep -q "volume name: *lun1"
ok $? "ext4 super block at offset 64 MiB, label lun1"
out=$(X format); ok $(is "$out" "errno=17 (File exists)") "format refuses an existing ext4 without force (EEXIST)"

out=$(X attach); ok $? "attach"
echo "# first attach: $out"
set -- $out
LDEV=${1#loopdev=}
[ "$(mounts)" = 1 ]; ok $? "mount point is mounted"
grep -q "^$LDEV: .*offset $OFF" <(losetup -j "$IMG"); ok $? "$LDEV over our file at offset $OFF"
[ "$(cat /sys/block/${LDEV#/dev/}/loop/autoclear)" = 1 ]; ok $? "loop device has autoclear"
awk -v m="$MP" '$5 == m' /proc/self/mountinfo | grep -q "errors=remount-ro"
ok $? "mounted with errors=remount-ro"
X attached >/dev/null; ok $? "lun_data_attached = 1"
[ "$(X root)" = "$MP" ]; ok $? "lun_data_root is the mount point"
out=$(X format -f); ok $(is "$out" "errno=16 (Device or resource busy)") "format refused while mounted, even forced (EBUSY)"
echo "hello duonas" >"$MP/file1" && sync "$MP/file1"; ok $? "write a file into the mount point"

out=$(X attach); ok $? "attach again (idempotent)"
case "$out" in *reused=1*) r=0 ;; *) r=1 ;; esac; ok $r "second attach found it attached"
[ "$(mounts)" = 1 ]; ok $? "mounted exactly once"
[ "$(loops)" = 1 ]; ok $? "exactly one loop device"

X detach >/dev/null; ok $? "detach"
[ "$(mounts)" = 0 ]; ok $? "mount point unmounted"
no_loops; ok $? "losetup -j lists no loop device"
X attached >/dev/null; ok $(is $? 1) "lun_data_attached = 0"
X detach >/dev/null; ok $? "detach again (idempotent)"

out=$(X attach); ok $? "attach again"
echo "# attach: $out"
[ "$(cat "$MP/file1" 2>/dev/null)" = "hello duonas" ]; ok $? "file still there"

# Orderly detach refuses a busy file system.
exec 4<"$MP/file1"
out=$(X detach); ok $(is "$out" "errno=16 (Device or resource busy)") "busy detach without force fails (EBUSY)"
[ "$(mounts)" = 1 ]; ok $? "still mounted after refused detach"
exec 4<&-

# Fencing: a writer keeps a file open and writes; detach -f must shut the
# file system down and return quickly; the writer is then killed; the next
# attach replays the journal.
echo "synced before the fence" >"$MP/keep" && sync "$MP/keep"
(
	exec 3>"$MP/busy"
	i=0
	while [ $i -lt 3000 ]; do
		dd if=/dev/zero bs=16k count=1 status=none >&3 2>/dev/null || sleep 0.01
		i=$((i + 1))
	done
) &
WRITER=$!
sleep 0.5
t0=$(date +%s%N)
out=$(X -f detach); rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# fencing detach of a busy fs: $out (wall $ms ms)"
ok $rc "forced (fencing) detach of a busy file system"
[ $ms -lt 1500 ]; ok $? "fencing detach returned in $ms ms (< 1500)"
[ "$(mounts)" = 0 ]; ok $? "mount point gone after fencing detach"
grep -q "file system shut down" "$LOG"; ok $? "busy file system was shut down (logged)"
kill -9 "$WRITER"; wait "$WRITER" 2>/dev/null; WRITER=
no_loops; ok $? "loop device released after the writer died"
dumpe2fs -h "$IMG?offset=$OFF" 2>/dev/null | grep -q "features:.*needs_recovery"
ok $? "journal needs recovery (unclean, like a crash)"
: >"$LOG.before"; cp "$LOG" "$LOG.before"
out=$(X attach); ok $? "attach from scratch after the fence"
echo "# attach with journal replay: $out"
diff "$LOG.before" "$LOG" | grep -q "recovering journal"; ok $? "e2fsck replayed the journal"
[ "$(cat "$MP/keep" 2>/dev/null)" = "synced before the fence" ]; ok $? "synced data survived"
X detach >/dev/null; ok $? "detach"
e2fsck -fn "$IMG?offset=$OFF" >/dev/null 2>&1; ok $? "full e2fsck -fn: file system consistent"

# A loop device left behind (no autoclear) is reused, not duplicated.
L=$(losetup -f --show -o $OFF "$IMG")
X attach >/dev/null; ok $? "attach with a leftover loop device"
[ "$(loops)" = 1 ]; ok $? "leftover $L reused (one loop device)"
X detach >/dev/null; ok $? "detach"
no_loops; ok $? "leftover loop device released too"

# Something else mounted on the mount point.
mkdir -p "$MP" && mount -t tmpfs duonas-t "$MP"
out=$(X attach); ok $(is "$out" "errno=16 (Device or resource busy)") "attach refuses a mount point used by another fs"
X attached >/dev/null; ok $(is $? 2) "lun_data_attached = -1 for a foreign mount"
no_loops; ok $? "no loop device left after the refusal"
umount "$MP"

# Wrong LUN id in the private extent.
out=$("$TOOL" -n lun1 -i 2 -p "$IMG" -M "$MP" attach 2>>"$LOG"); ok $(is "$out" "errno=22 (Invalid argument)") "attach refuses a LUN whose private extent has another id"

# losetup fallback.
out=$(X -L attach); ok $? "attach through the losetup fallback"
[ "$(cat "$MP/file1" 2>/dev/null)" = "hello duonas" ]; ok $? "file readable via fallback loop"
set -- $out; LDEV=${1#loopdev=}
[ "$(cat /sys/block/${LDEV#/dev/}/loop/autoclear 2>/dev/null)" = 1 ]; ok $? "fallback loop device got autoclear"
X detach >/dev/null; ok $? "detach"
no_loops; ok $? "no loop device left"

# Damaged file system: e2fsck -p exits >= 4, nothing is mounted.
X -f format; ok $? "forced re-format"
# Zero the primary super block's magic and the first group descriptors.
dd if=/dev/zero of="$IMG" bs=4096 seek=$((OFF / 4096)) count=2 conv=notrunc status=none
out=$(X attach); ok $(is "$out" "errno=5 (Input/output error)") "attach refuses a file system e2fsck cannot fix (EIO)"
[ "$(mounts)" = 0 ]; ok $? "nothing mounted"
no_loops; ok $? "no loop device left"
grep -q "e2fsck -p .* failed" "$LOG"; ok $? "e2fsck failure logged with the LUN name"

# Timing: attach/detach of a clean fs, repeated.
X -f format >/dev/null; ok $? "forced re-format"
out=$(X bench 10); ok $? "10 x attach + detach"
echo "$out" | sed 's/^/# /'
avg=$(echo "$out" | sed -n 's/^attach_ms.*avg=\([0-9]*\).*/\1/p')  # integer part
[ -n "$avg" ] && [ "$avg" -lt 500 ]; ok $? "attach of a clean fs well under 500 ms (avg ${avg:-?} ms)"

# A block device as the LUN (here a loop device over a second file):
# loop devices are matched by device number instead of inode.
IMG2=$DIR/blk.img
truncate -s 100M "$IMG2"
BDEV=$(losetup -f --show "$IMG2"); ok $? "block device for the LUN: $BDEV"
XB() { "$TOOL" -n blun -i 7 -p "$BDEV" -M "$DIR/bmnt" "$@" 2>>"$LOG"; }
"$TOOL" pformat "$BDEV" blun 7 2>>"$LOG" && XB format && out=$(XB attach)
ok $? "block device LUN: pformat, format, attach"
echo "block" >"$DIR/bmnt/f" && sync "$DIR/bmnt/f"; ok $? "block device LUN: write"
XB attached >/dev/null; ok $? "block device LUN: attached = 1"
out=$(XB attach); case "$out" in *reused=1*) r=0 ;; *) r=1 ;; esac
ok $r "block device LUN: attach is idempotent"
XB detach >/dev/null; ok $? "block device LUN: detach"
[ "$(losetup -j "$BDEV" | wc -l)" = 0 ]; ok $? "block device LUN: no loop device over $BDEV left"
XB attach >/dev/null && [ "$(cat "$DIR/bmnt/f")" = block ] && XB detach >/dev/null
ok $? "block device LUN: data persists across attach"
losetup -d "$BDEV"; BDEV=

# Directory mode.
D="$DIR/data dir"
XD() { "$TOOL" -n dlun -m dir -d "$D" "$@" 2>>"$LOG"; }
out=$(XD attach); ok $(is "$out" "errno=2 (No such file or directory)") "dir mode: attach of a missing directory fails (ENOENT)"
XD attached >/dev/null; ok $(is $? 1) "dir mode: attached = 0 before format"
XD format; ok $? "dir mode: format creates the directory"
[ -d "$D" ] && [ "$(stat -c %a "$D")" = 755 ]; ok $? "dir mode: directory exists, mode 0755"
XD attach >/dev/null; ok $? "dir mode: attach"
XD attached >/dev/null; ok $? "dir mode: attached = 1"
[ "$(XD root)" = "$D" ]; ok $? "dir mode: root is the data directory"
XD detach >/dev/null; ok $? "dir mode: detach"
XD detach >/dev/null; ok $? "dir mode: detach again"
: >"$DIR/notadir"
out=$("$TOOL" -n dlun -m dir -d "$DIR/notadir" attach 2>>"$LOG"); ok $(is "$out" "errno=20 (Not a directory)") "dir mode: a file is not a data directory (ENOTDIR)"

if [ $fail != 0 ]; then
	echo "# log:"; sed 's/^/# /' "$LOG"
fi
echo "$((n - fail)) passed, $fail failed"
[ $fail = 0 ]

#!/bin/bash
# ext4_readonly.sh — a LUN's ext4 file system goes read-only under a
# serving head (errors=remount-ro after an error, here triggered through
# /sys/fs/ext4/DEV/trigger_fs_error; a failing disk does the same):
# ext4 on older kernels (Debian 12's 6.1: SB_RDONLY) then answers fsync
# with 0 for dirty pages it will never write; newer kernels mark it
# "emergency_ro" and answer EROFS themselves.
# The head must not acknowledge them: an UNSTABLE write made before is
# not COMMITted with the write's verifier, and a FILE_SYNC write is
# refused.  The health monitor is slowed down (probe every 60 s) so that
# the LUN stays on A and the answers come from the sync path itself.
# (Found by the chaos campaign: two FILE_SYNC records acknowledged after
# A's ext4 of lc went read-only were lost.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

ST="$DUONAS_BUILDDIR/tests/ha/nfs_stable"
t_init ha_ext4_readonly
ha_require
command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null ||
    t_skip_all "needs mkfs.ext4 and losetup"
[ -x "$ST" ] || t_skip_all "nfs_stable not built (make check)"
[ -d /sys/fs/ext4 ] || t_skip_all "no /sys/fs/ext4 (ext4 not loaded)"

ha_pair_prepare ext4 "ext4 pool and configuration prepared"
cat >>"$T_DIR/duonas.conf" <<EOC
health {
  interval 60000
  fault-after 100
}
EOC
ha_pair_start 40

URL=$(ha_url "$NS_VIP_A" la ro.dat)
st() { ns_exec c "$ST" "$URL" "$1"; }
o=$(st unstable)
t_ok $? "UNSTABLE write through A: $o"
wverf=${o#ok }
dev=$(grep -o "lun la: mounted /dev/loop[0-9]*" "$T_DIR/A.log" | tail -n 1 |
    sed 's|.*/dev/||')
[ -n "$dev" ] && [ -e "/sys/fs/ext4/$dev/trigger_fs_error" ]
t_ok $? "A's ext4 of la is $dev, with trigger_fs_error"
echo 1 >"/sys/fs/ext4/$dev/trigger_fs_error"
# the super block's options (after " - ext4 DEV ") in A's mount table
_sb_opts() { grep " $T_DIR/la.mnt " "/proc/$PID_A/mountinfo" | sed 's/.* - ext4 [^ ]* //'; }
# read-only: "ro" (older kernels: SB_RDONLY, where fsync answers 0 for
# the dropped pages) or "emergency_ro" (newer ones: fsync answers EROFS
# by itself)
_ro() { _sb_opts | grep -q '^ro\b\|emergency_ro'; }
wait_until 10 _ro
t_ok $? "the file system went read-only (super block: $(_sb_opts | cut -c1-40))"

o=$(st commit); rc=$?
[ $rc -ne 0 ] || [ "${o#ok }" != "$wverf" ]
t_ok $? "COMMIT of the earlier UNSTABLE write is not acknowledged with the write's verifier (exit $rc: $o)"
o=$(st filesync); rc=$?
t_eq $rc 1 "a FILE_SYNC write is refused: $o"
ha_serving A la
t_ok $? "A still serves la: the refusals came from the sync path, not from a move"
t_done

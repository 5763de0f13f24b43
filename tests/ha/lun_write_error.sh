#!/bin/bash
# lun_write_error.sh — a write error on the data path is never followed
# by an acknowledgement on the same mount (the chaos campaign's lost
# records, seed 1201 fault 209).
#
# ext4 keeps a page whose writeback failed in its cache as if written;
# when the page is written again after the disk came back, the write and
# its fsync succeed, but the blocks newly allocated for the page stay
# marked unwritten: the records read back as zeros once the file system
# is mounted again.  So duonas shuts the LUN's gate at the first EIO of a
# WRITE or COMMIT, shuts the ext4 file system down, and serves the LUN
# again only from a fresh mount (docs/health.md "Write errors on the
# data path").
#
# lc (ext4, homed on A) lives on faultfs.  A FILE_SYNC writer of 4 KiB
# records (each one a page whose block is allocated at its writeback)
# writes to lc through A.  One write of A into lc's data area fails (not
# the journal), so the writer's retry reaches a working disk and a
# cached page that lost its writeback.
#  1. With the peer up: A acknowledges nothing on lc after the error; its
#     health monitor hands lc to B; every acknowledged record reads back
#     from B's fresh mount.  (Without the fix A acknowledges the retry
#     and keeps lc; once lc is moved to B, those records read as zeros.)
#  2. With B stopped (nobody to hand lc to): A mounts lc again itself,
#     the writer goes on through A, and every record acknowledged before
#     and after reads back.
# The monitor's data-area probe is off, so that the one failed write is
# the writer's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

HA_LEASE_MS=${HA_LEASE_MS_LUNFAIL:-3000}
t_init lun_write_error
ha_require
ha_faultfs_require

ha_pair_prepare ext4 "ext4 pool (la, lb) and configuration prepared"
ha_faultfs_lun lc 3 A
cat >>"$T_DIR/duonas.conf" <<EOC
health {
  interval 200
  fault-after 2
  data-probe 0
}
EOC

ha_start A && ha_start B
t_ok $? "both heads started"
ha_wait_up 60
wait_until 30 ha_serving A lc
t_ok $? "A serves lc (on faultfs)"
[ "$T_FAIL" -eq 0 ] || t_done

# fail_once WRITER: the next write A makes into lc's data area, outside
# the ext4 journal, fails (faultfs ewrite: one data block's writeback,
# no failed journal commit, the disk fine again at once), until the
# writer got an I/O error for a WRITE.  lc's data area starts at the
# offset A's mount line names; the journal's blocks are inode 8's.
_ha_io_errs() { grep -c 'WRITE: NFS3ERR_IO' "$T_DIR/$1.log"; }
_ha_more_io_errs() { [ "$(_ha_io_errs "$1")" -gt "$2" ]; }
fail_once() {
	local n line off dev j i
	n=$(_ha_io_errs "$1")
	line=$(grep -o 'lun lc: mounted /dev/loop[0-9]* .* at offset [0-9]*' \
	    "$T_DIR/A.log" | tail -n 1)
	off=$(echo "$line" | grep -o '[0-9]*$')
	dev=$(echo "$line" | grep -o '/dev/loop[0-9]*')
	# "Level Entries Logical Physical Length": first and last block
	j=$(debugfs -c -R 'ex <8>' "$dev" 2>/dev/null | awk 'NR > 1 {
	    c = 0; for (i = 1; i <= NF; i++) if ($i == "-" && ++c == 2) {
	    print $(i - 1), $(i + 1); exit } }')
	echo "# fail_once $1: data area at $off on $dev, journal blocks $j"
	[ -n "$off" ] && [ -n "$j" ] || return 1
	set -- "$1" $j
	for ((i = 0; i < 10; i++)); do
		echo "ewrite $PID_A $off 1 $((off + $2 * 4096)) \
$((off + ($3 + 1) * 4096))" >"$FFS/ctl"
		wait_until 2 _ha_more_io_errs "$1" "$n" && break
		echo "# fail_once $1: try $i: $(head -n 1 "$FFS/ctl")"
	done
	echo ok >"$FFS/ctl"
	_ha_more_io_errs "$1" "$n"
}
# served_count: how often A logged "lun lc served here"
served_count() { grep -c 'ha: lun lc served here' "$T_DIR/A.log"; }

# ---- 1: the peer takes lc ----
ha_writer_start w1 "$NS_VIP_A" lc -s 4096 -T 1000
ha_wait_acks w1 100 30
t_ok $? "writer on lc through $NS_VIP_A acknowledged ($(ha_acked w1))"
fail_once w1
t_ok $? "a WRITE on lc got NFS3ERR_IO from A; disk healed at once"
n_err=$(ha_acked w1)
wait_until 5 grep -q 'lun lc: write error on the data path.*nothing more is acknowledged' "$T_DIR/A.log"
t_ok $? "A shut lc's gate ($(grep -o 'lun lc: write error on the data path.*' "$T_DIR/A.log" | head -n 1 | cut -c1-160))"
wait_until 30 ha_serving B lc
t_ok $? "A's health monitor handed lc to B"
grep -q 'lhm: FAULT lun lc: write error on the data path' "$T_DIR/A.log"
t_ok $? "the monitor names the write error ($(grep -o 'lhm: FAULT lun lc: .*' "$T_DIR/A.log" | head -n 1 | cut -c1-120))"
sleep 1
t_eq "$(ha_acked w1)" "$n_err" \
    "no record acknowledged on lc through A after the error"
ha_writer_stop w1
if ha_serving A lc; then	# (only when the gate did not shut)
	HA_CLI_TIMEOUT=40 ha_cli A node standby A >/dev/null 2>&1
	wait_until 30 ha_serving B lc
fi
ha_verify w1 "$NS_VIP_B" lc
ha_cli A status | grep -q 'last fault: lun lc .*write error on the data path'
t_ok $? "A's status shows lc's fault and its reason"

# ---- 2: nobody to hand lc to: A mounts it again ----
o=$(HA_CLI_TIMEOUT=40 ha_cli A node unstandby A 2>&1)
t_ok $? "node unstandby A: $(echo "$o" | tail -n 1)"
wait_until 30 ha_serving A lc
t_ok $? "A serves lc again"
ha_kill B TERM
wait_until 30 ha_serving A lb
t_ok $? "B stopped: A serves lb too"
ha_writer_start w2 "$NS_VIP_A" lc -s 4096 -T 1000
ha_wait_acks w2 100 30
t_ok $? "writer on lc through $NS_VIP_A acknowledged ($(ha_acked w2))"
ns=$(served_count)
fail_once w2
t_ok $? "a WRITE on lc got NFS3ERR_IO from A; disk healed at once"
wait_until 5 grep -q 'lun lc: no peer can take it: mounting it again here' "$T_DIR/A.log"
t_ok $? "A has no peer for lc: it mounts lc again itself"
_remounted() { [ "$(served_count)" -gt "$ns" ] && ha_serving A lc; }
wait_until 30 _remounted
t_ok $? "lc mounted again and served by A ($(grep -o 'pool: lun lc: mounting its data again.*' "$T_DIR/A.log" | tail -n 1))"
ha_wait_acks w2 100 30
t_ok $? "the writer goes on through A ($(ha_acked w2))"
ha_writer_stop w2
t_ok $? "writer on lc ran to the end"
ha_verify w2 "$NS_VIP_A" lc
t_done

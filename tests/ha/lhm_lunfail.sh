#!/bin/bash
# lhm_lunfail.sh — one LUN's disk fails on one head: only that LUN moves.
#
# ext4 pool with three LUNs: la and lc homed on A, lb on B.  lc's file
# lives on faultfs (tests/ha/faultfs.c, a FUSE file system), so it sits
# under each head's loop device like the others, and faultfs can make
# every read and write through the handles A's daemon opened (its pool
# handle, its loop device) fail with EIO while B's handles keep working:
# A has lost its path to that disk, B has not.  A's health monitor sees
# the private extent's and the data-area probe's I/O errors and hands lc
# alone to B (ha_lun_handover); B takes it once A's lease on it is gone.
# A keeps la and its service IP; the writer on la through 192.0.2.10
# never stops; every record acknowledged on lc before the failure is read
# back from B (through B's service IP: A's IP stays with A's healthy LUN);
# a new writer on lc through B works.  Then the disk comes back and the
# administrator brings lc home at once (node unstandby A), twice: lc
# stays on A (an old HANDOVER in A's mailbox must not move it back).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

# the release of lc cannot be written (EIO): B waits out A's lease, so a
# lease long enough for A to stop serving lc before it ends (else A's
# lease runs out first and it fences the whole head)
HA_LEASE_MS=${HA_LEASE_MS_LUNFAIL:-3000}
t_init lhm_lunfail
ha_require
ha_faultfs_require

ha_pair_prepare ext4 "ext4 pool (la, lb) and configuration prepared"

ha_faultfs_lun lc 3 A
cat >>"$T_DIR/duonas.conf" <<EOC
health {
  interval 200
  fault-after 2
}
EOC

ha_start A && ha_start B
t_ok $? "both heads started"
ha_wait_up 60
wait_until 30 ha_serving A lc
t_ok $? "A serves lc (on faultfs)"
[ "$T_FAIL" -eq 0 ] || t_done
_lc_ok() { ha_cli A health | grep -q 'lun lc *ok *direct I/O probe ok'; }
wait_until 10 _lc_ok
t_ok $? "A's data-area probe of lc works ($(ha_cli A health | grep 'lun lc'))"

ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_writer_start wc "$NS_VIP_A" lc -T 1000
ha_writer_start wb "$NS_VIP_B" lb -T 1000
ha_wait_acks wa 100 30 && ha_wait_acks wc 100 30 && ha_wait_acks wb 100 30
t_ok $? "writers acknowledged on la, lc (through $NS_VIP_A) and lb"

t0=$(date +%s%3N)
echo "eio $PID_A" >"$FFS/ctl"
t_ok $? "faultfs: I/O through A's handles of lc fails with EIO"
before_a=$(ha_acked wa)
wait_until 30 ha_serving B lc
t_ok $? "B serves lc ($(( $(date +%s%3N) - t0 )) ms after the disk failed on A)"
grep -q 'lhm: FAULT lun lc' "$T_DIR/A.log"
t_ok $? "A's monitor faulted lc ($(grep -o 'lhm: FAULT lun lc: .*' \
"$T_DIR/A.log" | head -n 1 | cut -c1-120))"
ha_not_serving A lc
t_ok $? "A no longer serves lc"
ha_serving A la && ! ha_serving B la
t_ok $? "la stays on A"
ha_ip_held A "$NS_VIP_A" && ns_has_addr a "$NS_VIP_A"
t_ok $? "A keeps $NS_VIP_A (it still serves la)"
! grep -q 'ha: surrender' "$T_DIR/A.log"
t_ok $? "A did not surrender (only lc moved)"
wait_until 20 _ha_acked_ge wa $((before_a + 50))
t_ok $? "writer on la through $NS_VIP_A went on ($before_a -> $(ha_acked wa))"
ha_wait_acks wb 20 10
t_ok $? "writer on lb unaffected"
ha_cli A status | grep -q 'last fault: lun lc .*-> LUN handed to the peer'
t_ok $? "A's status shows lc's fault and its reason"
grep -q 'failed_reads=[1-9]\|failed_writes=[1-9]' "$FFS/ctl"
t_ok $? "faultfs failed A's I/O ($(cat "$FFS/ctl"))"

# lc's writer pointed at A's IP, which no longer serves lc: stop it and
# read every record it had acknowledged back from B
ha_writer_stop wc
ha_verify wc "$NS_VIP_B" lc
ha_writer_start wc2 "$NS_VIP_B" lc -T 1000
ha_wait_acks wc2 50 30
t_ok $? "a new writer on lc through $NS_VIP_B is acknowledged by B"

ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
ha_writer_stop wc2; rcc=$?
t_ok $((rca | rcb | rcc)) "writers on la, lb, lc (B) ran to the end (wa pause \
$(ha_kv "$T_DIR/wa.out" client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
ha_verify wc2 "$NS_VIP_B" lc

# The disk comes back and the administrator brings lc home at once,
# before A's mailbox on lc (HANDOVER, written once the disk works again)
# is cleared: B must not read that old flag as a new handover and take
# lc back (found by the chaos campaign).  Twice: the first fault above,
# then a second one.
_stays_home() {	# lc on A and not on B, every 0.2 s for 3 s
	local i
	for ((i = 0; i < 15; i++)); do
		ha_serving A lc && ha_not_serving B lc || return 1
		sleep 0.2
	done
}
for round in 1 2; do
	if [ "$round" = 2 ]; then
		echo "eio $PID_A" >"$FFS/ctl"
		wait_until 30 ha_serving B lc
		t_ok $? "round 2: lc's disk fails on A again: B serves lc"
	fi
	nb=$(grep -c 'handed over through the mailbox' "$T_DIR/B.log")
	echo ok >"$FFS/ctl" &&
	    o=$(HA_CLI_TIMEOUT=40 ha_cli A node unstandby A 2>&1)
	t_ok $? "round $round: disk healed, node unstandby A at once: $(echo "$o" | tail -n 1)"
	wait_until 30 ha_serving A lc
	t_ok $? "round $round: A serves lc again"
	_stays_home
	t_ok $? "round $round: lc stays on A for 3 s (A serves it: $(ha_serving A lc && echo yes || echo no), B: $(ha_serving B lc && echo yes || echo no))"
	t_eq "$(grep -c 'handed over through the mailbox' "$T_DIR/B.log")" "$nb" \
	    "round $round: B took no old HANDOVER from A's mailbox"
done
t_done

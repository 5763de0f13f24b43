#!/bin/bash
# lhm_stuck.sh — a stuck NFS worker on head A (test-only fault switch
# `duonas health fault nfs-worker on`: one worker stops in its next call)
# is a software fault: A's health monitor surrenders (FAULT announced,
# IPs, exports and LUNs released, HALTED), B takes over la and A's
# service IP at once, the writer through 192.0.2.10 goes on without
# losing an acknowledged record; with the fault cleared A restarts once
# (fault-reset-delay) and gets its LUN and IP back.
# Phase 2: A's event loop stalls (`duonas health fault loop MS`) past
# loop-stuck: the monitor thread aborts the process (nothing on the loop
# can act), B takes over as after a crash, the writer loses nothing; A
# is started again and gets la back.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init lhm_stuck
ulimit -c 0	# phase 2 aborts a daemon on purpose: no core file
ha_require
ha_pair_prepare directory "directory pool and configuration prepared"
cat >>"$T_DIR/duonas.conf" <<EOC
health {
  interval 200
  fault-after 2
  worker-stuck 1500
  loop-stuck 2000
  wellness 2
}
heartbeat {
  fault-reset-delay 3000
}
EOC
ha_pair_start

ha_cli A health | grep -q 'nfs-worker-3 *ok'
t_ok $? "A's health monitor watches its 4 NFS workers"
ha_writers_start 100 20 -T 1000
t_ok $? "writers acknowledged through both service IPs"

before=$(ha_acked wa)
t0=$(date +%s%3N)
ha_cli A health fault nfs-worker on
t_ok $? "stuck-worker fault switched on on A"
wait_until 15 ha_serving B la
t_ok $? "B serves la ($(( $(date +%s%3N) - t0 )) ms after the fault)"
wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B holds $NS_VIP_A"
grep -q 'lhm: FAULT nfs-worker-[0-9]*: in a call for' "$T_DIR/A.log"
t_ok $? "A's log names the stuck worker ($(grep -o 'lhm: FAULT nfs-worker-[0-9]*' \
"$T_DIR/A.log" | head -n 1))"
grep -q 'ha: surrender: nfs-worker-' "$T_DIR/A.log"
t_ok $? "A surrendered because of it"
ha_cli A status | grep -q 'last fault: nfs-worker-[0-9]* .*-> surrender'
t_ok $? "A's status shows the last fault and its reason"
ha_cli A status --json | tr -d ' \n' | grep -q '"last_fault":{"resource":"nfs-worker-'
t_ok $? "A's status --json has health.last_fault"
ha_cli A health fault nfs-worker off
t_ok $? "fault switched off"
wait_until 30 _ha_acked_ge wa $((before + 50))
t_ok $? "writer through $NS_VIP_A continued ($before -> $(ha_acked wa))"

# A restarts once after fault-reset-delay and the giveback brings la home
ha_wait_home 60
grep -q 'lhm: wellness: [0-9]* watched' "$T_DIR/A.log"
t_ok $? "A logs its wellness line"
ha_wait_acks wa 50 30
t_ok $? "writer through $NS_VIP_A continued after the giveback"

# ---- phase 2: the event loop stalls ----
before=$(ha_acked wa)
t0=$(date +%s%3N)
ha_cli A health fault loop 20000
t_ok $? "A's event loop stalls (test fault)"
pid_a=$PID_A
wait_until 15 _ha_gone "$pid_a"
t_ok $? "A's monitor aborted the process ($(( $(date +%s%3N) - t0 )) ms)"
_ha_forget_pid "$pid_a"
PID_A=
grep -q 'lhm: event-loop: last beat .*: aborting the process' "$T_DIR/A.log"
t_ok $? "A's log says why ($(grep -o 'lhm: event-loop: last beat [0-9]* ms ago' "$T_DIR/A.log" | tail -n 1))"
wait_until 15 ha_serving B la && wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B serves la and holds $NS_VIP_A ($(( $(date +%s%3N) - t0 )) ms after the stall began)"
wait_until 30 _ha_acked_ge wa $((before + 50))
t_ok $? "writer through $NS_VIP_A continued on B ($before -> $(ha_acked wa))"
ha_start A
t_ok $? "A started again"
ha_wait_home 60

ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
t_ok $((rca | rcb)) "writers ran to the end (wa pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

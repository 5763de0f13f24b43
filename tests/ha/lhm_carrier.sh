#!/bin/bash
# lhm_carrier.sh — head A's client network goes down (`ip link set eth0
# down` inside A's namespace) while both peer-link paths stay up.  A's
# health monitor sees the carrier of the only interface with A's service
# IPs go (rtnetlink link event), and since that is every interface that
# carries A's IPs it surrenders: B takes la and 192.0.2.10 within a few
# seconds, the writer through 192.0.2.10 goes on and loses nothing.
# With eth0 back, A restarts once (fault-reset-delay), status shows eth0
# healthy again, and the giveback brings la and its IP home.
# Phase 2, a pulled cable: the bridge's end of A's eth0 goes down, so
# eth0 stays administratively up but loses its carrier: the same again.
# Phase 3, a head cut from every network: both peer-link paths go down,
# then A's eth0.  A's surrender cannot be sent over the link; it reaches
# B through the mailbox on the LUNs (the disk channel), and B takes la
# and A's IP over although its verdict is only PARTITION.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init lhm_carrier
ha_require
ha_pair_prepare directory "directory pool and configuration prepared"
cat >>"$T_DIR/duonas.conf" <<EOC
health {
  interval 200
  fault-after 2
}
heartbeat {
  fault-reset-delay 6000
  fault-limit 10
}
EOC
ha_pair_start

ha_cli A health | grep -q "iface eth0 *ok .*$NS_VIP_A"
t_ok $? "A watches eth0 and sees $NS_VIP_A on it"
ha_writers_start 100 20 -T 1000
t_ok $? "writers acknowledged through both service IPs"

# wa_continued_on_b: the writer through A's IP got 50 more acks since
# $before within 20 s (one check)
wa_continued_on_b() {
	wait_until 20 _ha_acked_ge wa $((before + 50))
	t_ok $? "writer through $NS_VIP_A continued on B ($before -> $(ha_acked wa))"
}
_eth0_fault() { ha_cli A health | grep -q 'iface eth0 *FAULT'; }
before=$(ha_acked wa)
t0=$(date +%s%3N)
ns_exec a ip link set eth0 down
t_ok $? "A's eth0 down (p0, p1 up)"
wait_until 10 _eth0_fault
t_ok $? "A's status shows eth0 FAULT ($(ha_cli A health | grep 'iface eth0'))"
wait_until 10 ha_serving B la
t_ok $? "B serves la ($(( $(date +%s%3N) - t0 )) ms after eth0 went down)"
wait_until 10 ha_ip_held B "$NS_VIP_A" &&
    wait_until 5 ns_has_addr b "$NS_VIP_A"
t_ok $? "B holds $NS_VIP_A ($(( $(date +%s%3N) - t0 )) ms after eth0 went down)"
! ns_has_addr a "$NS_VIP_A"
t_ok $? "A no longer has $NS_VIP_A configured"
grep -q 'ha: surrender: iface eth0' "$T_DIR/A.log"
t_ok $? "A surrendered for its interface"
ha_cli A status | grep -q 'last fault: iface eth0 .*no carrier\|last fault: iface eth0 .*down'
t_ok $? "A's status names the interface fault and its reason"
wa_continued_on_b
ha_wait_acks wb 20 10
t_ok $? "writer through $NS_VIP_B unaffected"

# A restarts its state machine after fault-reset-delay, but must not take
# la back into the same fault: its giveback readiness waits, B serves on
_a_waits_unhealthy() {
	ha_json B | grep -q '"name":"la"[^}]*"peer_readiness":"PREPARING","our_readiness":"none","readiness_reason":"unhealthy:'
}
wait_until 10 _a_waits_unhealthy
t_ok $? "A back from its fault: B sees la's readiness PREPARING (unhealthy) while A's eth0 is down"
# longer than the 5 s a survivor holds a given-back IP for the peer's
# claim: that wait must not begin while the LUN is still kept here
sleep 7
ha_serving B la && ha_ip_held B "$NS_VIP_A" && ! ha_serving A la
t_ok $? "B still serves la and holds $NS_VIP_A while A's eth0 is down"

ns_exec a ip link set eth0 up
t_ok $? "A's eth0 up again"
_eth0_ok() { ha_cli A health | grep -q 'iface eth0 *ok'; }
wait_until 10 _eth0_ok
t_ok $? "A's status shows eth0 healthy again"
ha_wait_home 60
ha_wait_acks wa 50 30
t_ok $? "writer through $NS_VIP_A continued after the giveback"

# ---- phase 2: no carrier (the switch port goes away) ----
_eth0_nocarrier() { ha_cli A health | grep -q 'iface eth0 *FAULT *no carrier'; }
before=$(ha_acked wa)
t0=$(date +%s%3N)
ns_exec br ip link set va down
t_ok $? "bridge port of A's eth0 down (A's eth0 still up, no carrier)"
wait_until 10 _eth0_nocarrier
t_ok $? "A's status shows eth0 FAULT: no carrier"
wait_until 10 ha_serving B la && wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B serves la and holds $NS_VIP_A ($(( $(date +%s%3N) - t0 )) ms)"
wa_continued_on_b
ns_exec br ip link set va up
t_ok $? "carrier back"
ha_wait_home 60

# ---- phase 3: A cut from every network ----
before=$(ha_acked wa)
ns_cut_links && ns_exec a ip link set eth0 down
t_ok $? "peer links p0, p1 and then A's eth0 down"
t0=$(date +%s%3N)
wait_until 15 ha_serving B la && wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B serves la and holds $NS_VIP_A through the disk channel \
($(( $(date +%s%3N) - t0 )) ms, B's verdict $(ha_verdict B))"
grep -q 'ha: surrender: iface eth0' "$T_DIR/A.log" &&
    [ "$(grep -c 'ha: surrender: iface eth0' "$T_DIR/A.log")" -ge 3 ]
t_ok $? "A surrendered for its interface a third time"
wa_continued_on_b
ns_heal_links && ns_exec a ip link set eth0 up
t_ok $? "networks back"
ha_wait_home 60

ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
t_ok $((rca | rcb)) "writers ran to the end (wa pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

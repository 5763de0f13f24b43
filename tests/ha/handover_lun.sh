#!/bin/bash
# handover_lun.sh — the placement API (ha_lun_handover, ha_surrender) the
# local health monitor calls, driven by the test-only `duonas ha fault`
# switches, with writers on every LUN.
#
# A third LUN, lc, is homed on A next to la.
# 1. A hands lc over (a LUN fault): B serves lc alone, A keeps la and its
#    service IP (the IP still serves la), nobody leaves dual active, and
#    the writer on la does not stall.  lc's records, written through A
#    before, read back through B.
# 2. B hands lb over, its only LUN: lb and B's IP move to A (an IP
#    follows its head's LUNs once all of them moved).
# 3. A surrenders: it announces FAULT and releases; B takes la and lb at
#    once, without waiting for a lease (bound: well under detection +
#    lease); A is HALTED with the fault in its status, restarts after
#    fault-reset-delay and gets back what is placed on it.
# Throughout: no LUN or IP reported by both heads, no acknowledged write
# lost.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

HA_LUN_C=1
t_init ha_handover
ha_require
ha_pair_prepare directory "pool with la, lc (home A) and lb (home B) prepared"
ha_start A && ha_start B
t_ok $? "both heads started"
ha_wait_up 30
wait_until 20 ha_serving A lc
t_ok $? "A serves lc"
[ "$T_FAIL" -eq 0 ] || t_done

ha_monitor_start
ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_writer_start wb "$NS_VIP_B" lb -T 1000
ha_writer_start wc "$NS_VIP_A" lc -T 1000 -n 200
ha_wait_acks wa 50 20 && ha_wait_acks wb 50 20
t_ok $? "writers on la and lb running"
wait_until 30 eval '[ -z "${WPID_wc:-}" ] || ! kill -0 "$WPID_wc" 2>/dev/null'
ha_writer_stop wc
t_ok $? "200 records written to lc through $NS_VIP_A"

# ---- 1. one LUN of a head with two ----
t0=$(date +%s%3N)
out=$(ha_cli A ha fault handover lc 2>&1)
t_ok $? "A: ha fault handover lc ($out)"
wait_until 10 ha_serving B lc
t_ok $? "B serves lc ($(( $(date +%s%3N) - t0 )) ms after the handover)"
ha_not_serving A lc && ha_serving A la && ha_ip_held A "$NS_VIP_A" &&
    ns_has_addr a "$NS_VIP_A" && ! ha_ip_held B "$NS_VIP_A"
t_ok $? "A keeps la and $NS_VIP_A, serves lc no more"
ha_is_state A 'DAC(master)' && ha_is_state B 'DAC(slave)'
t_ok $? "both heads still dual active ($(ha_state A), $(ha_state B))"
grep -q "lun lc now placed on B" "$T_DIR/B.log"
t_ok $? "B logged the peer's placement of lc"
before=$(ha_acked wa)
ha_wait_acks wa 50 20
t_ok $? "writer on la goes on ($before -> $(ha_acked wa))"
ha_verify wc "$NS_VIP_B" lc

# ---- 2. the only LUN of a head: its IP follows ----
out=$(ha_cli B ha fault handover lb 2>&1)
t_ok $? "B: ha fault handover lb ($out)"
wait_until 10 eval 'ha_serving A lb && ha_ip_held A "$NS_VIP_B" &&
    ns_has_addr a "$NS_VIP_B" && ! ns_has_addr b "$NS_VIP_B"'
t_ok $? "A serves lb and holds $NS_VIP_B; B released it"
ha_serving B lc && ha_not_serving B lb
t_ok $? "B keeps lc"
ha_wait_acks wb 50 20
t_ok $? "writer on lb goes on through $NS_VIP_B on A"

# ---- 3. surrender ----
t0=$(date +%s%3N)
out=$(ha_cli A ha fault surrender 2>&1)
t_ok $? "A: ha fault surrender ($out)"
wait_until 10 eval 'ha_serving B la && ha_serving B lb'
t_take=$(( $(date +%s%3N) - t0 ))
t_ok $? "B took la and lb over"
[ "$t_take" -lt "$HA_LEASE_MS" ]
t_ok $? "takeover without waiting for A's lease ($t_take ms < lease \
$HA_LEASE_MS ms)"
grep -q "the peer announced FAULT" "$T_DIR/B.log"
t_ok $? "B logged A's FAULT announcement"
HA_CLI_TIMEOUT=2 ha_cli A status | grep -q "last fault:.*fault injected"
t_ok $? "A's status shows the fault"
wait_until 30 eval 'ha_serving A la && ha_serving A lb && ha_serving B lc &&
    ha_not_serving B la && ha_not_serving B lb'
t_ok $? "A restarted and got la and lb back; B keeps lc"
wait_until 10 eval 'ha_ip_held A "$NS_VIP_A" && ha_ip_held A "$NS_VIP_B"'
t_ok $? "A holds both service IPs"
# (which head is master afterwards is the master-move logic's business)
wait_until 10 ha_dual_active
t_ok $? "dual active again ($(ha_state A), $(ha_state B))"
ha_wait_acks wa 30 20 && ha_wait_acks wb 30 20
t_ok $? "both writers progressing"

sleep 1
ha_monitor_stop
ha_monitor_check
for w in wa wb; do
	ha_writer_stop $w
	t_ok $? "writer $w ran to the end (pause $(ha_kv "$T_DIR/$w.out" \
client_pause_ms) ms)"
done
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

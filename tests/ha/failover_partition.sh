#!/bin/bash
# failover_partition.sh — every network path between the heads cut (both
# peer-link pairs down), the pool still shared: that is a partition, not a
# death.  The disk heartbeat stays alive, so neither head may take over:
# both keep serving their own LUN and IP (writers through both IPs go
# on), both report the peer verdict "partition" and `duonas status` says
# PARTITION on its peer: line.  A monitor proves that no LUN or IP is ever
# reported by both heads.  After the links are healed the verdict returns
# to "alive" with nothing moved.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_partition
ha_require
ha_pair_up directory
wait_until 10 ha_verdict_is A alive && wait_until 10 ha_verdict_is B alive
t_ok $? "both see the peer alive"

ha_monitor_start
ha_writers_start 50 20 -T 1000
t_ok $? "writers running through both service IPs"

# ---- partition ----
ns_cut_links
t_ok $? "both peer-link paths cut (p0, p1 down)"
wait_until 15 ha_verdict_is A partition
t_ok $? "A reports the peer verdict partition ($(ha_verdict A))"
wait_until 15 ha_verdict_is B partition
t_ok $? "B reports the peer verdict partition ($(ha_verdict B))"
for h in A B; do
	ha_cli "$h" status 2>/dev/null | grep '^peer:' | grep -q PARTITION
	t_ok $? "duonas status on $h: peer: line says PARTITION"
done
# hold the partition for three leases plus the death timeout: long enough
# for any (wrong) takeover to have happened
hold=$(( (3 * ${HA_LEASE_MS:-3000} + 2000) ))
wa0=$(ha_acked wa) wb0=$(ha_acked wb)
sleep "$((hold / 1000)).$(printf '%03d' $((hold % 1000)))"
_ha_home
t_ok $? "after ${hold} ms of partition each head still serves only its own"
t_ok "$( [ "$(ha_acked wa)" -gt $((wa0 + 20)) ] && \
    [ "$(ha_acked wb)" -gt $((wb0 + 20)) ]; echo $?)" \
    "both writers progressed during the partition"
! grep -q 'takeover: serving' "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "no takeover logged by either head"

# ---- heal ----
ns_heal_links
wait_until 15 ha_verdict_is A alive && wait_until 15 ha_verdict_is B alive
t_ok $? "verdict back to alive after healing (A $(ha_verdict A), B \
$(ha_verdict B))"
ha_wait_home 10
ha_monitor_stop
ha_monitor_check

ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
t_ok $((rca | rcb)) "writers ran to the end"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

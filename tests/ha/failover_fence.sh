#!/bin/bash
# failover_fence.sh — a hung head (SIGSTOP) for longer than its lease.
#
# The survivor B may take over la only after A's disk lease has expired:
# A renews at least every lease/3, and B waits a full lease of unchanged
# renewals, so no takeover can happen earlier than 2/3 of the lease after
# the stop.  After SIGCONT, A must find its lease lost and fence itself:
# report la not served, drop 192.0.2.10 from its eth0 — without ever
# reporting la (or the IP) at the same time as B.  A monitor samples both
# heads' status every 50 ms for the whole test and is checked at the end;
# the client's writer through 192.0.2.10 must lose nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_fence
ha_require
ha_pair_up directory 30 "pool and configuration prepared (lease $HA_LEASE_MS ms)"

ha_monitor_start
ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_wait_acks wa 100 20
t_ok $? "writer through $NS_VIP_A running"

# ---- hang A ----
t_stop=$(date +%s%3N)
kill -STOP "$PID_A"
wait_until 30 ha_serving B la
t_ok $? "B took over la while A is stopped"
wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B holds $NS_VIP_A"
# the sampler may not have recorded B's first serving sample yet

for _ in $(seq 1 50); do
	t_take=$(ha_monitor_first "$t_stop" B la)
	[ -n "$t_take" ] && break
	sleep 0.1
done
if [ -n "$t_take" ]; then
	d=$((t_take - t_stop))
	[ "$d" -ge $((HA_LEASE_MS * 2 / 3)) ]
	t_ok $? "takeover only after A's lease expired ($d ms after \
SIGSTOP, lease $HA_LEASE_MS ms)"
else
	t_ok 1 "monitor saw B serving la"
fi
before=$(ha_acked wa)
wait_until 30 _ha_acked_ge wa $((before + 50))
t_ok $? "writer continued through B ($before -> $(ha_acked wa))"

# keep A stopped for at least two leases in all
left=$(( t_stop + 2 * HA_LEASE_MS - $(date +%s%3N) ))
[ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"

# ---- wake A: it must fence itself ----
kill -CONT "$PID_A"
t_cont=$(date +%s%3N)
wait_until 10 ha_not_serving A la
t_ok $? "A reports la not served after SIGCONT"
wait_until 10 eval '! ns_has_addr a "$NS_VIP_A"'
t_ok $? "A released $NS_VIP_A from its eth0"
# A's status agrees: it does not claim the IP, unless it has it back
# already (on its eth0, B no longer holding it): A resets 1 s after its
# fault and the coordinated giveback then takes a few ms (CI: check 15
# ran just after the giveback)
if ha_ip_held A "$NS_VIP_A"; then
	ns_has_addr a "$NS_VIP_A" && ! ha_ip_held B "$NS_VIP_A"
	t_ok $? "A reports holding $NS_VIP_A only after the giveback returned it ($(ha_state A); on its eth0, B does not hold it)"
else
	t_ok 0 "A does not report holding $NS_VIP_A"
fi
# B serves la until A, back from its fault (RESET after fault-reset-delay,
# 1 s), has it back through the coordinated giveback: whichever it is
# now, la and its IP are on exactly one head (the monitor checks every
# sample of the whole test below).
wait_until 10 ha_one_owner la "$NS_VIP_A"
t_ok $? "la and $NS_VIP_A on exactly one head: B, or A again after the \
giveback (A $(ha_state A), B $(ha_state B))"
kill -0 "$PID_A" 2>/dev/null
t_ok $? "A is still running (fenced, not crashed)"
echo "# A after SIGCONT: state $(ha_state A), lease_ok \
$(ha_json A | grep -o '"lease_ok":[a-z]*' | cut -d: -f2)"
ha_wait_acks wa 50 20
t_ok $? "writer still progressing after A woke up"
sleep 1	# a few more samples of both heads awake
ha_monitor_stop
ha_monitor_check
awk -v t="$t_cont" '$1 >= t' "$T_DIR/monitor.txt" | head -n 3 |
    sed 's/^/# monitor after SIGCONT: /'

ha_writer_stop wa
t_ok $? "writer ran to the end (pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
t_done

#!/bin/bash
# failover_freeze.sh — a head frozen (SIGSTOP) past its lease, then
# resumed (SIGCONT), while a client writes through its service IP.
#
# B takes la and 192.0.2.10 over once A's lease has run out.  On SIGCONT
# A must stop answering on 192.0.2.10 at once — its own clock tells it it
# was frozen for more than half a lease (loop and disk thread), and B,
# which holds A's LUN and hears A alive in DAC, sends kill messages over
# every path and the mailbox — instead of the ~4 s it took before.  The
# IP must leave A's interface within HA_FREEZE_IP_MS (default 500 ms),
# well before a lease; the writer through the IP loses nothing; and the
# pair returns to dual active through the giveback, each head serving its
# own LUN again.
# Phase 2 repeats the freeze with A "blind" (test switch: no clock or
# lease checks, no disk I/O — a head whose storage hangs inside a paused
# VM, which cannot notice the freeze itself): now only B's kill messages
# stop it, and they must, as fast.
# A 50 ms status monitor checks in phase 1 that no LUN or IP is ever
# reported by both heads.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

IP_BOUND=${HA_FREEZE_IP_MS:-500}
t_init ha_freeze
ha_require
ha_pair_up directory 30 \
    "pool and configuration prepared (lease $HA_LEASE_MS ms)"

# sleep_two_leases: sleep until two leases after $t_stop (A's SIGSTOP)
sleep_two_leases() {
	local left=$(( t_stop + 2 * HA_LEASE_MS - $(date +%s%3N) ))
	[ "$left" -gt 0 ] &&
	    sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
}
# cont_a_ip_gone: SIGCONT A; gone = the ms until A's eth0 lost $NS_VIP_A
# (empty: not within 500 polls of 10 ms)
cont_a_ip_gone() {
	local t_cont i
	kill -CONT "$PID_A"
	t_cont=$(date +%s%3N)
	gone=""
	for ((i = 0; i < 500; i++)); do
		if ! ns_has_addr a "$NS_VIP_A"; then
			gone=$(( $(date +%s%3N) - t_cont ))
			break
		fi
		sleep 0.01
	done
}

ha_monitor_start
ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_wait_acks wa 100 20
t_ok $? "writer through $NS_VIP_A running"

# ---- freeze A past its lease ----
t_stop=$(date +%s%3N)
kill -STOP "$PID_A"
wait_until 30 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A"'
t_ok $? "B took la and $NS_VIP_A over while A is frozen"
ns_has_addr a "$NS_VIP_A"
t_ok $? "the frozen A still has $NS_VIP_A on its eth0 (nothing can remove it)"
sleep_two_leases

# ---- resume: the IP must go at once ----
n_a=$(wc -l <"$T_DIR/A.log")
cont_a_ip_gone
[ -n "$gone" ] && [ "$gone" -le "$IP_BOUND" ]
t_ok $? "A dropped $NS_VIP_A ${gone:-never} ms after SIGCONT (bound \
$IP_BOUND ms, lease $HA_LEASE_MS ms)"
# seen in its status, or (a loaded machine: the status query can miss
# the few seconds until the giveback returns la) in its log
_a_dropped_la() {
	ha_not_serving A la ||
	    tail -n +"$((n_a + 1))" "$T_DIR/A.log" | grep -q "ha: lun la no longer served here"
}
wait_until 10 _a_dropped_la
t_ok $? "A reports la not served"
wait_until 5 grep -q "ha: surrender: " "$T_DIR/A.log"
t_ok $? "A fenced itself: $(grep -o 'ha: surrender: .*' "$T_DIR/A.log" |
    head -n 1)"
wait_until 5 eval 'grep -q "kill message from the peer\|kill in the peer.s mailbox" "$T_DIR/A.log" ||
    ! grep -q "sending kill messages" "$T_DIR/B.log"'
t_ok $? "every kill B sent was received by A"
echo "# kill: $(grep -c 'sending kill messages' "$T_DIR/B.log") sent episode(s) by B, \
$(grep -c 'kill message from the peer\|kill in the peer' "$T_DIR/A.log") received by A"
# B serves la until the giveback returns it to A (right after A's
# fault-reset-delay): either way, on exactly one head
wait_until 10 ha_one_owner la "$NS_VIP_A"
t_ok $? "la and $NS_VIP_A on exactly one head: B, or A again after the \
giveback (A $(ha_state A), B $(ha_state B))"

# ---- back to dual active through the giveback ----
wait_until 30 _ha_home
t_ok $? "giveback: each head serves its own LUN and IP again"
wait_until 20 ha_dual_active
t_ok $? "dual active again ($(ha_state A), $(ha_state B))"
ha_wait_acks wa 50 20
t_ok $? "writer progressing through $NS_VIP_A on A again"
sleep 1
ha_monitor_stop
ha_monitor_check

# ---- phase 2: a blind head is stopped by the kill messages alone ----
# (no monitor: a blind head cannot know it lost the IP until the kill
# arrives; the bound on the IP drop below is the check)
ha_cli A ha fault blind on >/dev/null
t_ok $? "A blind (no clock, lease or disk checks)"
sleep 0.3	# a few passes of A's disk thread see it blind
t_stop=$(date +%s%3N)
kill -STOP "$PID_A"
wait_until 30 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A"'
t_ok $? "B took la and $NS_VIP_A over again"
sleep_two_leases
nkill=$(grep -c "kill message from the peer" "$T_DIR/A.log")
cont_a_ip_gone
[ -n "$gone" ] && [ "$gone" -le "$IP_BOUND" ]
t_ok $? "blind A dropped $NS_VIP_A ${gone:-never} ms after SIGCONT (bound $IP_BOUND ms)"
[ "$(grep -c "kill message from the peer" "$T_DIR/A.log")" -gt "$nkill" ]
t_ok $? "A was stopped by a kill message: $(grep -o 'ha: surrender: .*' "$T_DIR/A.log" | tail -n 1)"
grep -q "sending kill messages" "$T_DIR/B.log"
t_ok $? "B logged that it sends kill messages"
ha_cli A ha fault blind off >/dev/null
wait_until 30 _ha_home
t_ok $? "giveback after the kill: each head serves its own LUN and IP"
wait_until 20 ha_dual_active
t_ok $? "dual active again ($(ha_state A), $(ha_state B))"
ha_wait_acks wa 50 20
t_ok $? "writer progressing through $NS_VIP_A on A again"

ha_writer_stop wa
t_ok $? "writer ran to the end (pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
t_done

#!/bin/bash
# tickle.sh — TCP tickle ACKs: a client whose NFS connection was idle
# when its head died gets out of the dead connection within a second of
# the service IP moving, instead of waiting for TCP's next retransmission.
#
# Each case builds a fresh cluster (tickles on, then tickle-count 0),
# starts tests/ha/nfs_idle on 192.0.2.10 (it writes one record, then its
# connection sits idle), waits until B lists that connection among A's
# (replicated over the peer link), then powers A off: A's interfaces go
# down first (duonasd frozen meanwhile), then duonasd is killed -9.  (A plain kill -9 is no test of
# tickles: A's kernel would close the connection with a FIN at once and
# the client would reconnect by itself.  A head that loses power, or
# whose kernel hangs, says nothing; that is the case tickles are for.)
# Right after, the client makes its second call on the idle connection:
# it goes nowhere, and TCP retransmits it with exponential backoff.
# B takes over la and 192.0.2.10; the measure is from B's log line
# "tickle: 192.0.2.10: ..." (written right after B added and announced
# the IP, tickles on or off) to the moment the client's call completed
# (on a fresh connection after the reset).
#   tickles on:  the client's stack answers the tickle, B's kernel resets
#                the connection, the client reconnects: asserted < 1 s;
#   tickles off: the call waits for the client's next retransmission,
#                which B's kernel resets.  With this test's 4 s lease the
#                takeover falls ~4 s after the call, between the
#                client's retransmissions at 3.0 s and 6.2 s (RTO 200 ms,
#                doubling): ~2 s more.  Asserted > 1 s, so that the
#                first case is known to test what tickles fix.
# Both records are read back through B in both cases.
# TICKLE_LEASE_MS changes the lease (the outage); TICKLE_BOUND_MS the
# bound (1000 ms).  A lease that puts the takeover right after one of the
# client's retransmissions (~1.4, 3.0, 6.2 s after its call: leases of
# about 1500 or 3000) makes the case without tickles short, and its
# check fails on purpose: that setup would not test tickles.

# The outage: a powered-off head's LUN is taken after its lease.
HA_LEASE_MS=${TICKLE_LEASE_MS:-4000}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_tickle
ha_require
IDLE="$DUONAS_BUILDDIR/tests/ha/nfs_idle"
[ -x "$IDLE" ] || t_skip_all "nfs_idle not built (make check)"
BOUND_MS=${TICKLE_BOUND_MS:-1000}

ns_setup || t_done

# log_ms HEAD PATTERN: epoch ms of HEAD's last log line matching PATTERN
# (log lines start with the UTC date and time, 2026-12-01T04:05:06.123Z)
log_ms() {
	local ts
	ts=$(grep -- "$2" "$T_DIR/$1.log" | tail -n 1 | cut -d' ' -f1)
	[ -n "$ts" ] || return 1
	# dated UTC lines (2026-12-01T04:05:06.123Z); a bare time of day from
	# an older daemon is today's
	case $ts in
	*T*Z) date -d "$ts" +%s%3N ;;
	*) date -d "$(date +%F) $ts" +%s%3N ;;
	esac
}
# tickle_json HEAD KEY: a number from HEAD's status "tickle" object
tickle_json() {
	ha_json "$1" | grep -o '"tickle":{[^}]*}' |
	    grep -o "\"$2\":[0-9]*" | cut -d: -f2
}
_peer_listed() { [ "$(tickle_json B peer)" -ge 1 ] 2>/dev/null; }
_ready() { grep -q '^ready_wall_ms=' "$T_DIR/$1.out"; }
_idle_done() { ! kill -0 "$1" 2>/dev/null; }

# power_off A: the interfaces first, so that the killed daemon's sockets
# cannot tell anyone; then the daemon
power_off() {
	local ifc
	# Freeze the daemon first: a powered-off head does not react to its
	# interfaces going down (its health monitor would otherwise announce
	# a surrender through the mailbox and the peer would take over at
	# once, which is not the outage this test is about).
	kill -STOP "$PID_A" || return 1
	for ifc in eth0 p0 p1; do
		ip -n "$NS_A" link set dev "$ifc" down || return 1
	done
	ha_kill A KILL
}
power_on_links() {
	local ifc
	for ifc in eth0 p0 p1; do
		ip -n "$NS_A" link set dev "$ifc" up || return 1
	done
}

# run_case on|off: one cluster, one power-off; sets GAP_<case>
run_case() {
	local c=$1 n="idle_$1" pid t0 t1 done_ms err_ms gap rc
	rm -rf "$T_DIR/A" "$T_DIR/B" "$T_DIR/cluster.key"
	ha_mk_conf directory && pool_prepare directory
	t_ok $? "[$c] pool and configuration prepared"
	if [ "$c" = off ]; then
		sed -i 's/^  garp-interval .*/&\n  tickle-count 0/' \
		    "$T_DIR/duonas.conf"
		grep -q '^  tickle-count 0$' "$T_DIR/duonas.conf"
		t_ok $? "[$c] tickles disabled in duonas.conf (tickle-count 0)"
	fi
	echo "==== case $c" >>"$T_DIR/A.log"
	echo "==== case $c" >>"$T_DIR/B.log"
	ha_start A && ha_start B
	t_ok $? "[$c] both heads started"
	ha_wait_up 30
	[ "$T_FAIL" -eq 0 ] || return 1

	ip netns exec "$NS_C" "$IDLE" -T 30000 -D 60 -w 120 \
	    "$(ha_url "$NS_VIP_A" la "$n.dat")" "$T_DIR/$n.go" \
	    >"$T_DIR/$n.out" 2>"$T_DIR/$n.log" &
	pid=$!
	T_PIDS+=("$pid")
	wait_until 30 _ready "$n"
	t_ok $? "[$c] client wrote its first record through $NS_VIP_A (A)"
	wait_until 5 _peer_listed
	t_ok $? "[$c] B lists A's client connections ($(tickle_json B peer))"
	ha_cli B status | grep -q '^tickle: .* [1-9][0-9]* listed by the peer'
	t_ok $? "[$c] B's status shows the peer's list on its tickle: line"
	sleep 0.5	# the connection is idle now

	t0=$(date +%s%3N)
	power_off
	t_ok $? "[$c] A powered off (interfaces down, duonasd killed -9)"
	touch "$T_DIR/$n.go"	# the second call: into the void
	wait_until 30 ha_ip_held B "$NS_VIP_A"
	t_ok $? "[$c] B took over $NS_VIP_A"
	wait_until 70 _idle_done "$pid"
	wait "$pid"
	rc=$?
	_ha_forget_pid "$pid"
	t_ok $rc "[$c] the client's second call completed, both records" \
	    "intact (attempts=$(ha_kv "$T_DIR/$n.out" attempts)," \
	    "connects=$(ha_kv "$T_DIR/$n.out" connects))"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/$n.log" | tail -n 5

	# B logs one tickle line per acquired IP, right after announcing it
	# (also with tickle-count 0): the moment the IP moved
	t1=$(log_ms B "tickle: $NS_VIP_A: ")
	done_ms=$(ha_kv "$T_DIR/$n.out" done_wall_ms)
	err_ms=$(ha_kv "$T_DIR/$n.out" first_error_wall_ms)
	if [ -z "$t1" ] || [ -z "$done_ms" ]; then
		t_ok 1 "[$c] takeover time and client completion time found"
		return 1
	fi
	gap=$((done_ms - t1))
	eval "GAP_$c=$gap"
	echo "# [$c] power-off -> $NS_VIP_A announced by B: $((t1 - t0)) ms;" \
	    "announced -> client's call completed: $gap ms" \
	    "(first error $( [ "${err_ms:-0}" -gt 0 ] &&
	    echo "$((err_ms - t1)) ms after the announcement:" \
	    "$(ha_kv "$T_DIR/$n.out" first_error)" || echo none))"
	if [ "$c" = on ]; then
		grep -q "tickle: $NS_VIP_A: tickle ACKs sent to [1-9][0-9]* client connections ([1-9][0-9]* listed by the peer" \
		    "$T_DIR/B.log"
		t_ok $? "[$c] B sent tickle ACKs to A's listed clients"
		[ "$gap" -lt "$BOUND_MS" ]
		t_ok $? "[$c] the idle client's call completed $gap ms after" \
		    "the IP moved (< $BOUND_MS ms)"
		[ "${err_ms:-0}" -ge "$t1" ] && [ "$err_ms" -lt "$done_ms" ]
		t_ok $? "[$c] the old connection was reset after the IP moved" \
		    "(not timed out by the client)"
	else
		grep -q "tickle: $NS_VIP_A: [0-9]* client connections not tickled (tickle-count 0)" \
		    "$T_DIR/B.log"
		t_ok $? "[$c] B sent no tickle ACKs (tickle-count 0)"
		[ "$gap" -ge "$BOUND_MS" ]
		t_ok $? "[$c] without tickles the idle client waited $gap ms" \
		    "for its retransmission (>= $BOUND_MS ms: the case with" \
		    "tickles tested what they fix)"
	fi

	# back to nothing: B stops, A's links come back for the next case
	ha_kill B TERM
	power_on_links
	t_ok $? "[$c] cluster stopped"
}

run_case on
[ "$T_FAIL" -eq 0 ] && run_case off
[ -n "${GAP_on:-}" ] && [ -n "${GAP_off:-}" ] &&
    echo "# tickle ACKs: the idle client resumed ${GAP_on} ms after the" \
	"takeover with tickles, ${GAP_off} ms without"
t_done

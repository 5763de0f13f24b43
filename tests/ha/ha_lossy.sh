#!/bin/bash
# ha_lossy.sh — a lossy heartbeat channel must not flap (issue 9).
#
# The link's test-only fault switch (`duonas link lossy PATH N M`) drops
# N of every M heartbeat frames received on a path; this kernel has no
# netem.  Phase 1: 2 of every 3 on path 0, both heads, for LOSSY_S
# seconds.  Phase 2: 3 of every 4 on both paths at once (every network
# channel lossy) for half as long.  Throughout: no state change, no
# takeover, the peer alive, a lossy channel BAD no more than once
# (LOSSY_MAX_BAD), its lost heartbeats counted in status (text and
# JSON), and a writer through each service IP losing nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

LOSSY_S=${LOSSY_S:-10}
LOSSY_MAX_BAD=${LOSSY_MAX_BAD:-1}

t_init ha_lossy
ha_require
ha_pair_up directory

ha_writers_start 50 20 -T 1000
t_ok $? "writers acknowledged through both service IPs"

# chan HEAD PATH KEY: a counter of the peer channel PATH in HEAD's status
chan() {
	ha_json "$1" | grep -o "{\"path\":$2,\"good\":[^}]*}" |
	    grep -o "\"$3\":[a-z0-9]*" | cut -d: -f2
}
changes() { ha_json "$1" | grep -o '"state_changes":[0-9]*' | cut -d: -f2; }

# lossy_phase WHAT SECS N M PATH...: switch loss on for the paths on both
# heads, watch, switch off; checks the whole phase.
lossy_phase() {
	local what=$1 secs=$2 n=$3 m=$4 h p ok=0 i; shift 4
	local -A bad0 lost0
	local ca cb
	ca=$(changes A) cb=$(changes B)
	for h in A B; do
		for p in "$@"; do
			bad0[$h$p]=$(chan $h $p went_bad)
			lost0[$h$p]=$(chan $h $p lost)
			ha_cli $h link lossy "$p" "$n" "$m" >/dev/null || ok=1
		done
	done
	t_ok $ok "$what: heartbeat loss $n of every $m switched on (paths $*)"
	# sample every 0.5 s: the verdict must stay alive all along
	local dead=0
	for ((i = 0; i < secs * 2; i++)); do
		sleep 0.5
		ha_verdict_is A alive || dead=$((dead + 1))
		ha_verdict_is B alive || dead=$((dead + 1))
	done
	t_eq "$dead" 0 "$what: both heads saw the peer alive in every sample"
	for h in A B; do
		for p in "$@"; do
			local b l
			b=$(( $(chan $h $p went_bad) - ${bad0[$h$p]} ))
			l=$(( $(chan $h $p lost) - ${lost0[$h$p]} ))
			[ "$b" -le "$LOSSY_MAX_BAD" ]
			t_ok $? "$what: $h path $p went BAD $b time(s) (<= \
$LOSSY_MAX_BAD)"
			# ~10 heartbeats a second, n of m lost
			[ "$l" -ge $(( secs * 10 * n / m / 2 )) ]
			t_ok $? "$what: $h counted $l lost heartbeats on path $p"
		done
	done
	for h in A B; do
		for p in "$@"; do
			ha_cli $h link lossy "$p" off >/dev/null
		done
	done
	t_eq "$(changes A)/$(changes B)" "$ca/$cb" "$what: no state change \
on either head (A $(ha_state A), B $(ha_state B))"
	_ha_home
	t_ok $? "$what: each head still serves its own LUN and IP, nothing \
taken over"
}

lossy_phase "2 of 3 on path 0" "$LOSSY_S" 2 3 0
lossy_phase "3 of 4 on both paths" $(( LOSSY_S / 2 )) 3 4 0 1

txt=$(ha_cli A status)
echo "$txt" | grep -q '^heartbeat: .*path0 good([0-9]*) lost [1-9][0-9]* bad'
t_ok $? "status text shows the lost heartbeats per path: $(echo "$txt" |
    grep '^heartbeat:')"
ha_json A | grep -q '"test_lossy":{"drop":0,"every":1,"dropped":[1-9]'
t_ok $? "status --json links count the frames the switch dropped"
! grep -q 'takeover: serving\|PARTITION' "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "no takeover and no PARTITION logged"
ha_cli A link lossy 0 4 3 >/dev/null 2>&1
t_eq $? 64 "link lossy with N > M is a usage error"

ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
t_ok $((rca | rcb)) "writers ran to the end (wa pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms, wb pause $(ha_kv "$T_DIR/wb.out" client_pause_ms) ms)"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

#!/bin/bash
# test_tickle_ns.sh — tickle ACKs against a real kernel, IPv4 and IPv6:
# two network namespaces joined by a veth pair; a client waits for data
# on a connection its server has silently forgotten (tickle_nstool).
# With a tickle ACK from the server's address the client's connection is
# reset within a second (the client answered the ACK and the server's
# kernel, having no socket, reset it: so both the frame and its
# checksums were accepted); without, the client learns nothing.  Needs
# root and `ip netns`; skips (exit 77) with the reason otherwise.  Uses
# only 192.0.2.0/24 and 2001:db8::/32.  Namespaces are always removed.
set -u

TOOL=${TICKLE_NSTOOL:-./tests/unit/tickle_nstool}
NA=duonas-tka-$$
NB=duonas-tkb-$$
IFA=dta$$
IFB=dtb$$

. "$(dirname "$0")/lib-ns.sh"
ns_pair_setup
for ns in "$NA" "$NB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
	    net.ipv6.conf.default.disable_ipv6=0 2>/dev/null
done
ip -n "$NA" addr add 192.0.2.1/24 dev "$IFA"
ip -n "$NB" addr add 192.0.2.2/24 dev "$IFB"
ip -n "$NA" addr add 2001:db8::1/64 dev "$IFA" nodad
ip -n "$NB" addr add 2001:db8::2/64 dev "$IFB" nodad
ip -n "$NA" link set "$IFA" up
ip -n "$NB" link set "$IFB" up
OUT=$(mktemp /tmp/duonas-t-tickle.XXXXXX)

# one_case ADDR PORT tickle|silent WAIT_MS -> client's output in $RES
one_case() {
	local i
	: >"$OUT"
	ip netns exec "$NA" "$TOOL" server "$1" "$2" "$3" >"$OUT" 2>&1 &
	BG=$!
	for ((i = 0; i < 50; i++)); do
		grep -q listening "$OUT" && break
		sleep 0.1
	done
	RES=$(ip netns exec "$NB" "$TOOL" client "$1" "$2" "$4" 2>&1)
	for ((i = 0; i < 50; i++)); do
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	kill "$BG" 2>/dev/null
	wait "$BG"
	SRVRC=$?
	BG=
}

port=5001
for addr in 192.0.2.1 2001:db8::1; do
	one_case "$addr" $port tickle 5000
	ok $SRVRC "[$addr] server forgot the connection and sent a tickle ACK ($(tr '\n' ' ' <"$OUT"))"
	ms=${RES#reset }
	[[ $RES == reset* ]] && [ "$ms" -lt 1000 ]
	ok $? "[$addr] tickled client reset within 1 s ($RES)"
	port=$((port + 1))
	one_case "$addr" $port silent 1500
	ok $SRVRC "[$addr] server forgot the connection silently"
	[ "$RES" = timeout ]
	ok $? "[$addr] without a tickle the client waits on ($RES)"
	port=$((port + 1))
done

echo "$((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]

#!/bin/bash
# test_vip_ns.sh — service-IP takeover for real, inside two network
# namespaces joined by a veth pair: vip_addr_add/has/del through
# rtnetlink (checked with `ip`), and a gratuitous ARP burst captured on the
# peer side and learnt into the peer's neighbour table.  Needs root and
# `ip netns`; skips (exit 77) with the reason otherwise.  Uses only
# 192.0.2.0/24 (TEST-NET-1).  Namespaces are always removed (trap).
set -u

TOOL=${VIP_NSTOOL:-./tests/unit/vip_nstool}
NA=duonas-vipa-$$
NB=duonas-vipb-$$
IFA=dva$$
IFB=dvb$$
VIP=192.0.2.10

. "$(dirname "$0")/lib-ns.sh"
ns_pair_setup
ip -n "$NA" link set "$IFA" up
ip -n "$NB" link set "$IFB" up
ip -n "$NB" addr add 192.0.2.2/24 dev "$IFB"
# Let the peer learn addresses from gratuitous ARP (off by default).
ip netns exec "$NB" sysctl -qw net.ipv4.conf.all.arp_accept=1
ip netns exec "$NB" sysctl -qw "net.ipv4.conf.$IFB.arp_accept=1"
MAC=$(ip -n "$NA" -o link show "$IFA" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

A() { ip netns exec "$NA" "$TOOL" "$@"; }

A has "$IFA" $VIP 24; ok $([ $? = 1 ]; echo $?) "address absent at first"
A add "$IFA" $VIP 24; ok $? "vip_addr_add"
ip -n "$NA" -o addr show dev "$IFA" | grep -q "inet $VIP/24"
ok $? "ip addr shows $VIP/24 on $IFA"
A has "$IFA" $VIP 24; ok $? "vip_has_addr finds it"
A add "$IFA" $VIP 24; ok $? "adding again is success (idempotent)"

OUT=$(mktemp /tmp/duonas-t-vip.XXXXXX)
ip netns exec "$NB" "$TOOL" capture "$IFB" 4000 4 >"$OUT" &
BG=$!
for i in $(seq 50); do grep -q ready "$OUT" && break; sleep 0.1; done
A announce "$IFA" $VIP 24 2 200 >/dev/null; ok $? "vip_announce_start: 2 bursts"
wait "$BG"; BG=
grep -c "op=1 sha=$MAC spa=$VIP tha=00:00:00:00:00:00 tpa=$VIP dst=ff:ff:ff:ff:ff:ff len=60" "$OUT" | grep -qx 2
ok $? "peer captured 2 gratuitous ARP requests"
grep -c "op=2 sha=$MAC spa=$VIP tha=$MAC tpa=$VIP dst=ff:ff:ff:ff:ff:ff len=60" "$OUT" | grep -qx 2
ok $? "peer captured 2 unsolicited ARP replies"
[ $fail = 0 ] || sed 's/^/# /' "$OUT"
ip -n "$NB" neigh show $VIP dev "$IFB" | grep -q "lladdr $MAC"
ok $? "peer neighbour table maps $VIP to $MAC"

A del "$IFA" $VIP 24; ok $? "vip_addr_del"
ip -n "$NA" -o addr show dev "$IFA" | grep -q "inet $VIP/"
ok $([ $? = 1 ]; echo $?) "address gone from ip addr"
A has "$IFA" $VIP 24; ok $([ $? = 1 ]; echo $?) "vip_has_addr: absent"
A del "$IFA" $VIP 24; ok $? "removing again is success (idempotent)"
A add nosuchif0 $VIP 24 2>"$OUT"; ok $([ $? = 2 ]; echo $?) "unknown interface fails"
grep -q "no such interface nosuchif0" "$OUT"; ok $? "error names the interface"
A announce lo 127.0.0.1 8 1 10 >/dev/null; ok $? "announce on loopback is a no-op"

echo "$((n - fail)) passed, $fail failed"
[ $fail = 0 ]

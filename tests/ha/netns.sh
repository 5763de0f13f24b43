# tests/ha/netns.sh — network namespaces for the failover tests (bash).
#
# Source after tests/lib.sh and t_init.  ns_setup builds, for this test
# run only (names carry the shell's PID, so parallel runs never collide):
#
#   dn<id>-a   head A    eth0 192.0.2.1/24    p0 198.51.100.1/30  p1 198.51.100.5/30
#   dn<id>-b   head B    eth0 192.0.2.2/24    p0 198.51.100.2/30  p1 198.51.100.6/30
#   dn<id>-c   client    eth0 192.0.2.100/24
#   dn<id>-br  bridge br0 with ports va, vb, vc: the peers of the eth0s
#              (the service network)
#
# p0/p1 are direct veth pairs between A and B: the peer link's two paths.
# The service IPs 192.0.2.10 (home A) and 192.0.2.20 (home B) are not
# configured here: duonasd adds them.  Only documentation address ranges
# are used.  Every namespace is registered in T_NETNS, so lib.sh's EXIT
# trap deletes it (and with it every interface) even when a test fails.
# Skips the test (exit 77) only when not root or `ip netns` is unusable.

NS_ID=${NS_ID:-$$}
NS_A="dn$NS_ID-a"
NS_B="dn$NS_ID-b"
NS_C="dn$NS_ID-c"
NS_BR="dn$NS_ID-br"
NS_SUBNET=192.0.2
NS_IP_A=192.0.2.1
NS_IP_B=192.0.2.2
NS_IP_C=192.0.2.100
NS_VIP_A=192.0.2.10
NS_VIP_B=192.0.2.20
NS_LINK_A=(198.51.100.1 198.51.100.5)
NS_LINK_B=(198.51.100.2 198.51.100.6)

# ns_name a|b|c|br|FULLNAME -> namespace name
ns_name() {
	case $1 in
	a|A) echo "$NS_A" ;;
	b|B) echo "$NS_B" ;;
	c|C) echo "$NS_C" ;;
	br) echo "$NS_BR" ;;
	*) echo "$1" ;;
	esac
}

ns_require() {
	need_root
	command -v ip >/dev/null 2>&1 || t_skip_all "no ip(8) (iproute2)"
	ip netns list >/dev/null 2>&1 || t_skip_all "ip netns unavailable"
}

# ns_exec NS CMD...: run CMD inside namespace NS (a, b, c, br or a name)
ns_exec() {
	local ns
	ns=$(ns_name "$1"); shift
	ip netns exec "$ns" "$@"
}

_ns_add() {
	ip netns add "$1" || return 1
	T_NETNS+=("$1")
	ip -n "$1" link set lo up || return 1
	# IPv4 only: no IPv6 DAD or router solicitations in the way
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	return 0
}

_ns_build() {
	local h ns ip
	_ns_add "$NS_BR" && _ns_add "$NS_A" && _ns_add "$NS_B" &&
	    _ns_add "$NS_C" || return 1
	ip -n "$NS_BR" link add br0 type bridge stp_state 0 || return 1
	ip -n "$NS_BR" link set dev br0 up || return 1
	for h in a b c; do
		ns=$(ns_name $h)
		case $h in a) ip=$NS_IP_A ;; b) ip=$NS_IP_B ;;
		    c) ip=$NS_IP_C ;; esac
		ip -n "$ns" link add eth0 type veth peer name "v$h" \
		    netns "$NS_BR" &&
		ip -n "$NS_BR" link set dev "v$h" master br0 &&
		ip -n "$NS_BR" link set dev "v$h" up &&
		ip -n "$ns" addr add "$ip/24" dev eth0 &&
		ip -n "$ns" link set dev eth0 up || return 1
	done
	ip -n "$NS_A" link add p0 type veth peer name p0 netns "$NS_B" &&
	ip -n "$NS_A" link add p1 type veth peer name p1 netns "$NS_B" &&
	ip -n "$NS_A" addr add "${NS_LINK_A[0]}/30" dev p0 &&
	ip -n "$NS_B" addr add "${NS_LINK_B[0]}/30" dev p0 &&
	ip -n "$NS_A" addr add "${NS_LINK_A[1]}/30" dev p1 &&
	ip -n "$NS_B" addr add "${NS_LINK_B[1]}/30" dev p1 &&
	ns_heal_links
}

# ns_setup: build the topology above; 0, or 1 after a "not ok" line.
ns_setup() {
	local ns rc
	ns_require
	for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_BR"; do
		if ip netns list | grep -qw "$ns"; then
			t_ok 1 "namespace $ns already exists (stale run?)"
			return 1
		fi
	done
	T_CLEANUP_CMDS+=("ns_kill_all")
	_ns_build >"$T_DIR/ns_setup.out" 2>&1
	rc=$?
	t_ok $rc "network namespaces $NS_A $NS_B $NS_C $NS_BR set up"
	[ $rc -eq 0 ] || { sed 's/^/#   /' "$T_DIR/ns_setup.out"; return 1; }
	# the client reaches both heads through the bridge, A reaches B
	# on both peer-link paths
	wait_until 5 ns_reach c "$NS_IP_A" &&
	    wait_until 5 ns_reach c "$NS_IP_B" &&
	    wait_until 5 ns_reach a "${NS_LINK_B[0]}" &&
	    wait_until 5 ns_reach a "${NS_LINK_B[1]}"
	rc=$?
	t_ok $rc "client reaches both heads, heads reach each other on p0 and p1"
	return $rc
}

# ns_kill_all: SIGKILL whatever still runs inside our namespaces (the
# EXIT trap's safety net, before the namespaces are deleted).
ns_kill_all() {
	local ns pid
	for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_BR"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -CONT "$pid" 2>/dev/null
			kill -KILL "$pid" 2>/dev/null
		done
	done
}

# ns_cut_links: take both peer-link pairs down (a partition); the service
# network (bridge) and the pool stay.
ns_cut_links() {
	local p
	for p in p0 p1; do
		ip -n "$NS_A" link set dev "$p" down || return 1
		ip -n "$NS_B" link set dev "$p" down || return 1
	done
}

ns_heal_links() {
	local p
	for p in p0 p1; do
		ip -n "$NS_A" link set dev "$p" up || return 1
		ip -n "$NS_B" link set dev "$p" up || return 1
	done
}

# ns_mac NS IF -> MAC address of interface IF in NS
ns_mac() {
	ip -n "$(ns_name "$1")" -o link show dev "$2" 2>/dev/null |
	    sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# ns_neigh_mac NS IP -> lladdr of NS's neighbour entry for IP (empty if
# none or incomplete)
ns_neigh_mac() {
	ip -n "$(ns_name "$1")" neigh show "$2" 2>/dev/null |
	    sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p' | head -n 1
}

# ns_has_addr NS IP: true if IP is configured on any interface of NS
ns_has_addr() {
	ip -n "$(ns_name "$1")" -o addr show 2>/dev/null |
	    grep -q "inet $2/"
}

# ns_reach NS IP: true if a TCP connection attempt from NS to IP is
# answered (accepted or refused) within 2 s.  No ping(8) needed.
ns_reach() {
	local out
	out=$(ns_exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) ||
	    [[ $out == *refused* ]]
}

ns_neigh_is() { [ "$(ns_neigh_mac "$1" "$2")" = "$3" ]; }

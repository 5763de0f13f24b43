# tests/unit/lib-ns.sh — the set-up shared by the root-only unit tests
# that run a tool in two network namespaces joined by a veth pair
# (test_vip_ns.sh, test_tickle_ns.sh), and their TAP-like output (bash).
#
# Set TOOL (the tool the test runs), NA and NB (the namespaces), IFA and
# IFB (the veth ends, IFA in NA, IFB in NB), then source this file and
# call ns_pair_setup: it skips (exit 77) when not root, without ip(8), ip
# netns or veth; fails (exit 1) when TOOL is not built; creates both
# namespaces with lo up and the veth pair moved into them (links still
# down, no addresses), and arranges for cleanup at exit.
#   ok STATUS TEXT   one check ("ok N - TEXT" / "not ok N - TEXT")
#   skip REASON      skip the whole test
#   n, fail          the checks made and failed so far
#   BG, OUT          cleanup kills the process whose PID is in BG and
#                    removes the file OUT (either may be empty)
n=0
fail=0

skip() { echo "SKIP: $*"; exit 77; }
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
cleanup() {
	[ -n "${BG:-}" ] && kill "$BG" 2>/dev/null
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -f "${OUT:-}"
}

ns_pair_setup() {
	[ "$(id -u)" = 0 ] || skip "not root"
	command -v ip >/dev/null || skip "no ip(8)"
	[ -x "$TOOL" ] || { echo "not ok 1 - $TOOL not built"; exit 1; }
	trap cleanup EXIT
	ip netns add "$NA" 2>/dev/null || skip "ip netns unavailable"
	ip netns add "$NB" || exit 1
	ip link add "$IFA" type veth peer name "$IFB" ||
	    skip "no veth support"
	ip link set "$IFA" netns "$NA" && ip link set "$IFB" netns "$NB" ||
	    exit 1
	ip -n "$NA" link set lo up
	ip -n "$NB" link set lo up
}

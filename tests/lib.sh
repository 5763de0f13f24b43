# tests/lib.sh — shared helpers for the integration tests (bash).
#
# A test sources this file, calls t_init NAME, builds a two-head cluster
# with mk_cluster, starts heads with start_head, and checks with t_ok /
# t_cmd.  Everything a test creates (daemons, namespaces, temp dirs) is
# registered and removed by the EXIT trap, even when the test fails.
# Every wait is bounded (wait_until SECONDS CMD...).
# Output: "ok N - ..." / "not ok N - ..." per check, then "N passed, N
# failed" (or "N skipped" with a reason); exit status 0 / 1 / 77 (skip).

set -u
: "${DUONAS_BUILDDIR:=$(pwd)}"
: "${DUONAS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
DUONASD="$DUONAS_BUILDDIR/duonasd"
DUONAS="$DUONAS_BUILDDIR/duonas"

T_N=0
T_FAIL=0
T_FAILED=()
T_PIDS=()
T_NETNS=()
T_CLEANUP_CMDS=()
T_DIR=""

t_init() {
	T_NAME=$1
	T_DIR=$(mktemp -d "/tmp/duonas-$T_NAME.XXXXXX")
	trap t_cleanup EXIT
	trap 'exit 130' INT TERM
	# ports and addresses unique per test so tests can share a machine
	T_BASE=$(( 21000 + ( $(printf '%s' "$T_NAME" | cksum | cut -d' ' -f1) % 400 ) * 20 ))
	T_NET=$(( 20 + ( $(printf '%s' "$T_NAME" | cksum | cut -d' ' -f1) % 200 ) ))
}

t_cleanup() {
	local rc=$?
	for pid in "${T_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for c in "${T_CLEANUP_CMDS[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	for ns in "${T_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$T_FAIL" -gt 0 ] && [ -n "$T_DIR" ]; then
		for f in "$T_DIR"/*.log; do
			[ -f "$f" ] || continue
			echo "# ---- last lines of $f"
			tail -n 40 "$f" | sed 's/^/# /'
		done
		# the failed checks again, last, where a log excerpt that
		# keeps only the tail still shows them
		echo "# ---- failed checks of $T_NAME"
		printf '# %s\n' "${T_FAILED[@]}"
	fi
	[ -n "$T_DIR" ] && [ -z "${KEEP_TDIR:-}" ] && rm -rf "$T_DIR"
	exit $rc
}

t_ok() {	# t_ok CONDITION-EXIT-CODE DESCRIPTION
	local rc=$1; shift
	T_N=$((T_N + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $T_N - $*"
	else
		T_FAIL=$((T_FAIL + 1))
		T_FAILED+=("not ok $T_N - $*")
		echo "not ok $T_N - $*"
	fi
}

t_cmd() {	# t_cmd DESCRIPTION CMD...: the command must succeed
	local d=$1; shift
	"$@" >"$T_DIR/last.out" 2>&1
	local rc=$?
	t_ok $rc "$d"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/last.out" | head -n 20
	return $rc
}

t_eq() {	# t_eq GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		t_ok 0 "$3"
	else
		t_ok 1 "$3 (got '$1', want '$2')"
	fi
}

t_skip_all() {
	echo "1..0 # SKIP $*"
	echo "0 passed, 0 failed, 1 skipped"
	trap - EXIT
	[ -n "$T_DIR" ] && [ -z "${KEEP_TDIR:-}" ] && rm -rf "$T_DIR"
	exit 77
}

t_done() {
	echo "$((T_N - T_FAIL)) passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

need_root() {
	[ "$(id -u)" -eq 0 ] || t_skip_all "needs root"
}

wait_until() {	# wait_until SECONDS CMD...: poll every 0.1 s
	local limit=$(( $1 * 10 )); shift
	local i
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# mk_cluster [NLINKS]: writes $T_DIR/duonas.conf and the key for heads A
# (master, 127.0.0.<net>.1x) and B.
mk_cluster() {
	local nlinks=${1:-1} extra=${2:-}
	"$DUONAS" keygen "$T_DIR/cluster.key" || return 1
	{
		echo "cluster t-$T_NAME"
		echo "key \"$T_DIR/cluster.key\""
		echo "exports \"$T_DIR/exports\""
		echo "nfs {"
		echo "  port $((T_BASE + 10))"
		echo "  mount-port $((T_BASE + 11))"
		echo "  portmap-port $((T_BASE + 12))"
		echo "}"
		echo "heartbeat {"
		echo "  boot-wait 1500"
		echo "}"
		echo "link {"
		echo "  ping 50"
		echo "  dead 400"
		echo "  reconnect 100"
		echo "}"
		echo "pso {"
		echo "  request-timeout 1500"
		echo "  lock-timeout 5000"
		echo "}"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		local h id role
		for h in A B; do
			if [ $h = A ]; then id=1; role=master; else id=2; role=slave; fi
			echo "head $h {"
			echo "  id $id"
			echo "  role $role"
			for ((p = 0; p < nlinks; p++)); do
				echo "  link 127.$T_NET.$p.$id:$((T_BASE + p))"
			done
			echo "  nfs-bind 127.$T_NET.9.$id"
			echo "  statedir \"$T_DIR/$h/state\""
			echo "  rundir \"$T_DIR/$h/run\""
			echo "}"
		done
	} >"$T_DIR/duonas.conf"
}

# mk_lun NAME ID HOME: appends a directory-mode LUN (NAME.img, NAME.data
# under $T_DIR) to $T_DIR/duonas.conf
mk_lun() {
	printf 'lun %s {\n  id %s\n  path "%s"\n  data "%s"\n  home %s\n}\n' \
	    "$1" "$2" "$T_DIR/$1.img" "$T_DIR/$1.data" "$3" >>"$T_DIR/duonas.conf"
}

# committed_gen OUTPUT -> the generation of a "generation G committed"
# line of a configuration command's answer (empty: nothing committed)
committed_gen() { printf '%s\n' "$1" | sed -n 's/^generation \([0-9]*\) committed.*/\1/p' | head -n 1; }

sock_of() { echo "$T_DIR/$1/run/duonasd.sock"; }
cli() {		# cli HEAD ARGS...
	local h=$1; shift
	"$DUONAS" -s "$(sock_of "$h")" "$@"
}

# start_head HEAD: start duonasd for HEAD in the background; PID in
# PID_<HEAD>; log in $T_DIR/<HEAD>.log; waits until the admin socket works.
start_head() {
	local h=$1
	mkdir -p "$T_DIR/$h"
	"$DUONASD" -d -c "$T_DIR/duonas.conf" -n "$h" >>"$T_DIR/$h.log" 2>&1 &
	local pid=$!
	T_PIDS+=("$pid")
	eval "PID_$h=$pid"
	wait_until 10 cli "$h" version
}

stop_head() {	# stop_head HEAD [SIGNAL]
	local h=$1 sig=${2:-TERM} pid
	eval "pid=\${PID_$h:-}"
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	eval "PID_$h="
}

state_of() {	# state_of HEAD -> e.g. DAC(master)
	cli "$1" status --json 2>/dev/null | grep -o '"state":"[^"]*"' |
	    head -n 1 | cut -d'"' -f4
}

is_state() { [ "$(state_of "$1")" = "$2" ]; }
pso_synced() { cli "$1" status --json 2>/dev/null | grep -q '"synced":true'; }

# both_up: wait until A is DAC(master) and B DAC(slave), both in sync
both_up() {
	wait_until 20 is_state A 'DAC(master)' &&
	wait_until 20 is_state B 'DAC(slave)' &&
	wait_until 20 pso_synced A && wait_until 20 pso_synced B
}

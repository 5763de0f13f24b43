# tests/nfs/lib-nfs.sh — what the NFS server scripts (nfs3.sh,
# nfs_limits.sh) share: a scratch directory, the TAP counters and check(),
# waiting for the server, and the cleanup on exit.  Source it (bash, after
# `set -u`), then:
#   nfs_init NAME        T=/tmp/duonas-NAME.XXXXXX; trap: clean up on exit
#   PID                  the server the script started: killed and reaped
#                        on exit
#   BGPIDS               more background processes (space separated),
#                        killed on exit
#   nfs_wait_ready [RE]  waits up to 10 s for a line matching RE (grep;
#                        default ^ready) in $T/log; when PID dies or none
#                        comes, prints the log and fails
#   check D CMD...       runs CMD; "ok N - D", or "not ok N - D" and the
#                        last 15 lines of its output (a TAP tool's ok
#                        lines left out)
#   nfs_done             "N passed, N failed"; fails when a check did
# A script that counts a check itself (a SKIP line) bumps n and passed.

PID= BGPIDS=
n=0 passed=0 failed=0

nfs_init() {	# nfs_init NAME
	T=$(mktemp -d "/tmp/duonas-$1.XXXXXX")
	trap nfs_cleanup EXIT
}

nfs_cleanup() {
	for p in $BGPIDS; do kill "$p" 2>/dev/null; done
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}

nfs_wait_ready() {	# nfs_wait_ready [RE]
	local re=${1:-^ready}
	for _ in $(seq 100); do
		grep -q "$re" "$T/log" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/log"; return 1
}

check() {	# check "description" command...
	local d=$1; shift
	n=$((n + 1))
	if "$@" >"$T/out" 2>&1; then
		passed=$((passed + 1)); echo "ok $n - $d"
	else
		failed=$((failed + 1)); echo "not ok $n - $d"
		sed 's/^/#   /' "$T/out" | grep -v '^#   ok ' | tail -15
	fi
}

nfs_done() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

#!/bin/bash
# tests/demo.sh BUILDDIR — the two-head demo started by
# `sudo ./quickstart.sh demo`: heads A (configured master) and B on
# loopback addresses, state under one demo folder, replicating persistent
# shared objects.  Runs in the foreground; Ctrl-C stops both heads and
# removes everything it created.
set -u
B=${1:?usage: demo.sh BUILDDIR}
B=$(cd "$B" && pwd)
DEMO=$(mktemp -d /tmp/duonas-demo.XXXXXX)
PIDS=()

cleanup() {
	trap - EXIT INT TERM
	echo
	echo "demo: stopping heads and removing $DEMO"
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$DEMO"
	exit 0
}
trap cleanup EXIT INT TERM

"$B/duonas" keygen "$DEMO/cluster.key" || exit 1
cat >"$DEMO/duonas.conf" <<CONF
# duonas demo: two heads on one machine
cluster demo
key "$DEMO/cluster.key"
heartbeat {
  boot-wait 2000
}
head A {
  id 1
  role master
  link 127.0.0.11:7400
  link 127.0.0.21:7400
  statedir "$DEMO/A/state"
  rundir "$DEMO/A/run"
}
head B {
  id 2
  role slave
  link 127.0.0.12:7400
  link 127.0.0.22:7400
  statedir "$DEMO/B/state"
  rundir "$DEMO/B/run"
}
CONF

for h in A B; do
	mkdir -p "$DEMO/$h"
	"$B/duonasd" -c "$DEMO/duonas.conf" -n $h >"$DEMO/$h.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$h=$!"
done
cliA() { "$B/duonas" -s "$DEMO/A/run/duonasd.sock" "$@"; }
cliB() { "$B/duonas" -s "$DEMO/B/run/duonasd.sock" "$@"; }
for _ in $(seq 1 100); do
	cliA status 2>/dev/null | grep -q "DAC(master)" &&
	    cliB status 2>/dev/null | grep -q "DAC(slave)" && break
	sleep 0.1
done

echo "== duonas demo: two heads in $DEMO"
echo
cliA status
echo
echo "== writing object 'greeting' on head A ..."
cliA pso set greeting "hello from A at $(date +%T)"
echo "== reading it back on head B:"
echo "   $(cliB pso get greeting)"
echo
cat <<TXT
Try it yourself (as root, in another terminal):
  $B/duonas -s $DEMO/A/run/duonasd.sock status
  $B/duonas -s $DEMO/B/run/duonasd.sock pso set colour blue
  $B/duonas -s $DEMO/A/run/duonasd.sock pso get colour
  $B/duonas -s $DEMO/A/run/duonasd.sock pso ls
Watch a failover: kill -9 $PID_A   (head A); then
  $B/duonas -s $DEMO/B/run/duonasd.sock status     # B is DEGRADED, still serves
Logs: $DEMO/A.log $DEMO/B.log
Press Ctrl-C to stop the demo and remove everything it created.
TXT
tail -n 0 -F "$DEMO/A.log" "$DEMO/B.log" &
PIDS+=($!)
wait "${PIDS[0]}" "${PIDS[1]}" 2>/dev/null
while kill -0 "${PIDS[1]}" 2>/dev/null || kill -0 "${PIDS[0]}" 2>/dev/null; do sleep 1; done

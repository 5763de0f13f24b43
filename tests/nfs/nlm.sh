#!/bin/bash
# nlm.sh — NLM v4 and NSM v1 of duonasd end to end: starts duonasd (head A
# alone) on a 127.0.0.x address with `nlm { grace-period 2;
# callback-portmap-port P }` and a callback server of the test (a
# portmapper + NLM/NSM service on 127.0.0.1:P that logs what it receives),
# then runs tests/nfs/test_nlm:
#   - grace: right after the (cold) start new locks get
#     DENIED_GRACE_PERIOD, reclaims are granted, then the grace ends;
#   - all: every procedure and error, splitting/merging, conflicts of two
#     clients, a blocked lock granted by the GRANTED callback, cancel, a
#     refused grant, _MSG/_RES, the DRC, SHARE/UNSHARE, FREE_ALL,
#     SM_NOTIFY over TCP and UDP, the portmapper entries (TCP and UDP);
#   - real rpcinfo (NULL of NLM v4 / NSM v1 by port; the portmapper's
#     list) and real sm-notify (SM_NOTIFY over UDP after a UDP portmapper
#     lookup on port 111) when nfs-utils are installed and 111 is free;
#   - a restart of the head (a cold start: no peer): SM_NOTIFY with a new
#     state reaches the monitored clients (the callback server), over TCP,
#     and over UDP when their statd has no TCP port.
# Env: DUONAS_BUILDDIR (binaries, default: cwd).
set -u
B=${DUONAS_BUILDDIR:-$(pwd)}
. "$(dirname "$0")/lib-nfs.sh"
nfs_init nlm
IP=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 200 + 20))
PORT=$((20000 + RANDOM % 20000))
# the portmapper on 111 when this address has it free (sm-notify and
# rpcinfo -p know no other port), else another port
PMAP=111
if ss -lntuH 2>/dev/null | awk '{print $5}' |
    grep -qE "^(0\.0\.0\.0|\*|\[::\]|$IP):111$"; then
	PMAP=$((PORT + 3))
fi
CBPORT=$((PORT + 4))
CBLOG=$T/cb.log

start() {
	: >"$T/log"
	[ -f "$T/cluster.key" ] || "$B/duonas" keygen "$T/cluster.key"
	cat >"$T/duonas.conf" <<EOC
cluster nlmtest
key "$T/cluster.key"
exports "$T/exports"
nfs {
  port $PORT
  mount-port $PORT
  portmap-port $PMAP
  threads 4
}
nlm {
  grace-period 2
  callback-portmap-port $CBPORT
  max-locks ${MAXLOCKS:-100000}
}
heartbeat {
  boot-wait 100
}
head A {
  id 1
  role master
  link $IP:$((PORT + 1))
  nfs-bind $IP
  statedir "$T/A/state"
  rundir "$T/A/run"
}
head B {
  id 2
  role slave
  link 127.0.0.1:$((PORT + 2))
  statedir "$T/B/state"
  rundir "$T/B/run"
}
EOC
	"$B/duonasd" -c "$T/duonas.conf" -n A >>"$T/log" 2>&1 &
	PID=$!
	nfs_wait_ready 'duonasd: ready'
}

stop() {
	kill "$PID" && wait "$PID"
	PID=
}

mkdir -p "$T/rw"
echo one >"$T/rw/f1"
echo two >"$T/rw/f2"
echo "$T/rw -id=1,rw,no_root_squash *" >"$T/exports"
: >"$CBLOG"
"$B/tests/nfs/test_nlm" cbserver "$CBPORT" "$CBLOG" &
BGPIDS=$!

check "server starts" start
check "grace period after a cold start, reclaims" \
    "$B/tests/nfs/test_nlm" grace "$IP" "$PORT" "$T/rw"
check "NLM/NSM procedures" "$B/tests/nfs/test_nlm" all "$IP" "$PORT" \
    "$PMAP" "$T/rw" "$CBPORT" "$CBLOG"
if command -v rpcinfo >/dev/null; then
	check "rpcinfo: NLM v4 over TCP answers NULL" \
	    timeout 10 rpcinfo -n "$PORT" -T tcp "$IP" 100021 4
	check "rpcinfo: NSM v1 over UDP answers NULL" \
	    timeout 10 rpcinfo -n "$PORT" -T udp "$IP" 100024 1
fi
if [ "$PMAP" = 111 ] && command -v rpcinfo >/dev/null; then
	check "rpcinfo -p lists nlockmgr and status" sh -c \
	    "timeout 10 rpcinfo -p $IP | grep -q '100021 *4 *tcp *$PORT' &&
	    timeout 10 rpcinfo -p $IP | grep -q '100024 *1 *udp *$PORT'"
fi
if [ "$PMAP" = 111 ] && command -v sm-notify >/dev/null; then
	# a rebooted client: its statd's notify list names this server
	mkdir -p "$T/smn/sm.bak" "$T/smn/sm"
	printf '0100007f 000186b5 00000004 00000010 %s %s client\n' \
	    00000000000000000000000000000000 "$IP" >"$T/smn/sm.bak/$IP"
	smnotify() {
		timeout 30 sm-notify -d -f -P "$T/smn" -v 127.0.0.1 || return 1
		for _ in $(seq 50); do
			grep -q "nsm: localhost (from 127.0.0.1) restarted" \
			    "$T/log" && return 0
			sleep 0.1
		done
		return 1
	}
	check "sm-notify (nfs-utils) over UDP reaches NSM" smnotify
fi
check "server still running" kill -0 "$PID"
check "server stops" stop
check "server restarts (cold: no peer)" start
notified() {
	for _ in $(seq 100); do
		grep -q "^100024 6 $IP [0-9]" "$CBLOG" && return 0
		sleep 0.1
	done
	cat "$CBLOG"; return 1
}
check "SM_NOTIFY with our address to the monitored clients" notified
check "the new state is odd" sh -c \
    "grep '^100024 6 $IP' '$CBLOG' | tail -1 | awk '{exit \$4 % 2 != 1}'"
check "server stops" stop
# the clients' statd now answers over UDP only
touch "$CBLOG.nsm-udp-only"
: >"$CBLOG"
check "server restarts (cold again)" start
notified_udp() {
	for _ in $(seq 150); do
		grep -q "^100024 6 $IP [0-9]* udp$" "$CBLOG" && return 0
		sleep 0.1
	done
	cat "$CBLOG"; return 1
}
check "SM_NOTIFY falls back to UDP for a statd without TCP" notified_udp
check "server stops" stop

# The table's limit: DENIED_NOLOCKS once max-locks entries are held
# (non-adjacent one-byte ranges, so nothing merges); an unlock makes room.
# (a new state directory: the configuration a head booted with lives in
# its configuration database, a later edit of duonas.conf is not read)
MAXLOCKS=100
rm -rf "$T/A/state"
check "server restarts with max-locks 100" start
sleep 2.5		# the grace period of the cold start
nolocks() {
	local cmds=() out
	for i in $(seq 0 100); do
		cmds+=(lock $((i * 2)) 1 x)
	done
	cmds+=(unlock 0 1 lock 400 1 x)
	out=$(timeout 120 "$B/tests/nfs/nlmtool" -p "$PMAP" -n limits \
	    -s 7 "$IP" "$T/rw" f1 "${cmds[@]}" 2>&1)
	[ "$(echo "$out" | grep -c '^lock=granted')" = 101 ] &&
	    [ "$(echo "$out" | grep -c '^lock=denied_nolocks')" = 1 ] &&
	    echo "$out" | sed -n '101p' | grep -q '^lock=denied_nolocks' &&
	    return 0
	echo "$out" | sort | uniq -c | sort -rn | head -5
	grep "brl: lock table started" "$T/log"
	return 1
}
check "the 101st lock gets DENIED_NOLOCKS, after an unlock one more fits" \
    nolocks
check "server stops cleanly" stop
nfs_done

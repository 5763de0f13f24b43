#!/bin/bash
# nfs3.sh — NFSv3 service end to end: starts duonasd (head A alone; or
# DUONAS_NFSD=export/nfsd-test, the export module alone) on a 127.0.0.x address
# with a temporary exports file and runs, against it,
#   - tests/nfs/test_nfs3_client (libnfs API: every procedure, errors,
#     10 000-entry readdir, 1 MiB I/O, > 4 GiB offsets, UNSTABLE+COMMIT),
#   - nfs-ls / nfs-cat / nfs-cp with explicit ports and through the
#     built-in portmapper (URL without ports),
#   - nfs_rawprobe: export access by source address, bad input,
#   - a restart: old handles still work, the write verifier changed.
# Env: DUONAS_BUILDDIR (binaries, default: cwd), DUONAS_NFSD (server).
set -u
B=${DUONAS_BUILDDIR:-$(pwd)}
NFSD=${DUONAS_NFSD:-}
. "$(dirname "$0")/lib-nfs.sh"
nfs_init nfs3
IP=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 200 + 20))
PORT=$((20000 + RANDOM % 20000))

start() {	# start PORTMAP-PORT: the real duonasd, head A alone
	: >"$T/log"
	[ -f "$T/cluster.key" ] || "$B/duonas" keygen "$T/cluster.key"
	if [ -n "${DUONAS_NFSD:-}" ]; then
		"$NFSD" -e "$T/exports" -k "$T/cluster.key" -b "$IP" \
		    -p "$PORT" -m "$PORT" -P "$@" >>"$T/log" 2>&1 &
		PID=$!
	else
		cat >"$T/duonas.conf" <<EOC
cluster nfs3test
key "$T/cluster.key"
exports "$T/exports"
nfs {
  port $PORT
  mount-port $PORT
  portmap-port $1
  threads 4
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
	fi
	nfs_wait_ready '^ready\|duonasd: ready'
}

stop() {
	kill "$PID" && wait "$PID"
	PID=
}

mkdir -p "$T/rw" "$T/squash" "$T/ro" "$T/acl" "$T/sec" "$T/rw2"
echo "read only" >"$T/ro/readme"
cat >"$T/exports" <<EOT
# test exports
$T/rw      -id=1,rw,no_root_squash  *
$T/squash  -id=2,rw,root_squash     *
$T/ro      -id=3                    *(ro,no_root_squash)
$T/acl     -id=4,rw  127.0.0.5  127.1.0.0/16(ro)
$T/sec     -id=5,rw,secure,no_root_squash  *
$T/rw2     -id=6,rw,no_root_squash  *
EOT
U="?nfsport=$PORT&mountport=$PORT"

# portmapper on 111 when this address has it free, else another port
PMAP=111
# port 111 is often taken by a system rpcbind (on the wildcard address)
if ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE "^(0\.0\.0\.0|\*|\[::\]|$IP):111$"; then
	echo "# port 111 is in use on this machine: portmapper checks skipped"
	PMAP=0
fi
check "server starts" start $PMAP

check "procedure test (libnfs API)" "$B/tests/nfs/test_nfs3_client" \
    "nfs://$IP$T/rw$U" "nfs://$IP$T/squash$U" "nfs://$IP$T/ro$U" \
    "$T/rw" "$T/state" 1
echo "hello nfs" >"$T/rw/hello.txt"
head -c 3000000 /dev/urandom >"$T/src.bin"
check "nfs-ls lists the export" sh -c "nfs-ls 'nfs://$IP$T/rw$U' | grep -q hello.txt"
check "nfs-cat reads a file" sh -c "nfs-cat 'nfs://$IP$T/rw/hello.txt$U' | grep -qx 'hello nfs'"
check "nfs-cp uploads" nfs-cp "$T/src.bin" "nfs://$IP$T/rw/up.bin$U"
check "uploaded file is identical" cmp "$T/src.bin" "$T/rw/up.bin"
check "nfs-cp downloads" nfs-cp "nfs://$IP$T/rw/up.bin$U" "$T/down.bin"
check "downloaded file is identical" cmp "$T/src.bin" "$T/down.bin"
if [ "$PMAP" = 111 ]; then
	check "nfs-ls through the portmapper" sh -c "nfs-ls 'nfs://$IP$T/rw' | grep -q up.bin"
	check "nfs-cat through the portmapper" sh -c "nfs-cat 'nfs://$IP$T/rw/hello.txt' | grep -qx 'hello nfs'"
else
	echo "# port 111 busy on $IP: portmapper checks skipped"
fi
check "read-only export refuses nfs-cp" sh -c "! nfs-cp '$T/src.bin' 'nfs://$IP$T/ro/new$U'"
check "allowed client address mounts" "$B/tests/nfs/nfs_rawprobe" mount 127.0.0.5 "$IP" "$PORT" "$T/acl" ok
check "other client address is refused" "$B/tests/nfs/nfs_rawprobe" mount 127.0.0.6 "$IP" "$PORT" "$T/acl" acces
check "ro client of a rw export mounts" "$B/tests/nfs/nfs_rawprobe" mount 127.1.2.3 "$IP" "$PORT" "$T/acl" ok
check "client not listed cannot write to that export" sh -c "! nfs-cp '$T/src.bin' 'nfs://$IP$T/acl/x$U' 2>/dev/null; test ! -e '$T/acl/x'"
check "bad input is answered, server keeps serving" "$B/tests/nfs/nfs_rawprobe" bad "$IP" "$PORT" "$T/rw"
check "hostile client: forged handles, NUL names, auth, ACCESS, mount list" \
    "$B/tests/nfs/nfs_secprobe" "$IP" "$PORT" "$T"
check "server still running" kill -0 "$PID"
check "server stops" stop
check "server restarts" start "$PMAP"
check "after restart: old handles valid, new verifier" "$B/tests/nfs/test_nfs3_client" \
    "nfs://$IP$T/rw$U" "nfs://$IP$T/squash$U" "nfs://$IP$T/ro$U" \
    "$T/rw" "$T/state" 2
check "server stops cleanly" stop
nfs_done

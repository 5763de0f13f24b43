#!/bin/bash
# smb2tool.sh — tests/smb/smb2tool against a private Samba on loopback:
# smbd (-F, its own smb.conf, every directory in the test directory,
# `posix locking = yes`) serving a plain directory on a free port of
# 127.0.0.1 (and ::1 when present), a unix user created for the test
# with an smbpasswd password.  Shows: the session with the right
# password, LOGON_FAILURE with a wrong one, BAD_NETWORK_NAME for an
# unknown share; write then read back; byte-range locks of two clients
# (exclusive against overlapping / separate ranges, shared against
# exclusive, unlock then granted, a blocking lock pending then granted
# when the holder releases, one cancelled after -w ms); and that an
# fcntl lock of a process on the host and an SMB lock exclude each other
# both ways (posix locking maps SMB locks to fcntl locks, which is how
# duonas's cluster lock table sees them through the FUSE mount).
# Root; skipped without smbd/smbpasswd.
set -u
. "$(dirname "$0")/../lib.sh"
t_init smb2tool
need_root
B=$DUONAS_BUILDDIR
TOOL=$B/tests/smb/smb2tool
PR=$B/tests/fuse/fuse_probe
[ -x "$TOOL" ] && [ -x "$PR" ] || t_skip_all "not built: $TOOL $PR (make check builds them)"
for c in smbd smbpasswd useradd userdel ss; do
	command -v "$c" >/dev/null 2>&1 || t_skip_all "no $c"
done
export LC_ALL=C
chmod 755 "$T_DIR"
S=$T_DIR/smb
SH=$T_DIR/share
mkdir -p "$S"/lock "$S"/state "$S"/cache "$S"/pid "$S"/private "$S"/ncalrpc "$SH"
chmod 777 "$SH"

# a free port, starting from this test's base
P=""
for ((i = 0; i < 20; i++)); do
	q=$((T_BASE + 5 + i))
	if ! ss -Hltn "sport = :$q" | grep -q .; then
		P=$q
		break
	fi
done
[ -n "$P" ] || t_skip_all "no free port near $T_BASE"
V6=""
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' && V6=" ::1"

CONF=$S/smb.conf
cat >"$CONF" <<EOF
[global]
	server role = standalone server
	workgroup = T$$
	netbios name = SMB2T$$
	smb ports = $P
	interfaces = 127.0.0.1$V6
	bind interfaces only = yes
	disable netbios = yes
	server min protocol = SMB2_02
	security = user
	map to guest = never
	passdb backend = smbpasswd:$S/private/smbpasswd
	lock directory = $S/lock
	state directory = $S/state
	cache directory = $S/cache
	pid directory = $S/pid
	private dir = $S/private
	ncalrpc dir = $S/ncalrpc
	log file = $T_DIR/smbd.log
	log level = 1
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	kernel oplocks = no
	posix locking = yes
[data]
	path = $SH
	read only = no
EOF

# a unix user of this run only
U=dsmb$$x$RANDOM
PW="pw-$RANDOM-ok"
useradd -M -N -s /usr/sbin/nologin -d /nonexistent "$U" ||
    t_skip_all "useradd $U failed"
T_CLEANUP_CMDS+=("userdel -f '$U'")
printf '%s\n%s\n' "$PW" "$PW" | smbpasswd -c "$CONF" -a -s "$U" \
    >"$T_DIR/smbpasswd.log" 2>&1
t_ok $? "smbpasswd -a sets the password of $U"

# its own session and process group: smbd ending signals its process
# group (kill(0)), which would otherwise be this test's and make's
setsid smbd -F --no-process-group -s "$CONF" </dev/null \
    >"$T_DIR/smbd.out.log" 2>&1 &
SMBD=$!
T_PIDS+=("$SMBD")
wait_until 30 sh -c "ss -Hltn 'sport = :$P' | grep -q ."
t_ok $? "smbd listens on port $P"
t_eq "$(ps -o pgid= -p "$SMBD" | tr -d ' ')" "$SMBD" "smbd leads its own process group"

SRV=//127.0.0.1/data
smb() {		# smb OUTFILE ARGS...: one smb2tool run, output in OUTFILE
	local out=$1; shift
	"$TOOL" -p "$P" -t 10000 "$@" >"$T_DIR/$out" 2>"$T_DIR/$out.err"
}
kv() {		# kv FILE KEY [N]: first word of the Nth (default last) KEY=
	local v
	v=$(sed -n "s/^$2=//p" "$T_DIR/$1")
	if [ -n "${3:-}" ]; then
		v=$(printf '%s\n' "$v" | sed -n "${3}p")
	else
		v=$(printf '%s\n' "$v" | tail -n 1)
	fi
	printf '%s\n' "${v%% *}"
}
show() { sed 's/^/#   /' "$T_DIR/$1" "$T_DIR/$1.err" | head -n 20; }

# ---- sessions
smb s1 -U "$U%$PW" "$SRV" f write 0 hello-smb2 read 0 64
rc=$?
t_eq "$rc:$(kv s1 session):$(kv s1 write):$(kv s1 read)" "0:ok:ok:ok" \
    "the right password: session, write, read" || show s1
t_eq "$(sed -n 's/^read=ok len=[0-9]* data=\([^ ]*\) .*/\1/p' "$T_DIR/s1")" \
    hello-smb2 "read gives back what was written"
t_eq "$(cat "$SH/f")" hello-smb2 "the shared directory's file holds it"
t_eq "$(kv s1 status)" 0 "last line status=0"
smb s2 -U "$U%wrong-$PW" "$SRV" f read 0 1
rc=$?
t_eq "$rc:$(kv s2 session)" "1:STATUS_LOGON_FAILURE" "a wrong password: LOGON_FAILURE, exit 1"
grep -q 'wrong user name or password' "$T_DIR/s2.err"
t_ok $? "the error message says what failed"
# --nthash: the NT hash instead of the password (MD4 of its UTF-16LE)
if H=$(printf '%s' "$PW" | iconv -f ASCII -t UTF-16LE |
    openssl dgst -md4 -provider legacy -provider default -r 2>/dev/null |
    cut -d' ' -f1) && [ ${#H} -eq 32 ]; then
	smb s2h -U "$U" --nthash "$H" "$SRV" f read 0 5
	t_eq "$?:$(kv s2h read)" "0:ok" "--nthash with the password's NT hash" ||
	    show s2h
fi
smb s3 -U "$U%$PW" //127.0.0.1/nosuchshare f read 0 1
rc=$?
t_eq "$rc:$(kv s3 tree)" "1:STATUS_BAD_NETWORK_NAME" "an unknown share: BAD_NETWORK_NAME, exit 1"
if [ -n "$V6" ]; then
	smb s4 -U "$U%$PW" "//[::1]/data" f read 0 5
	t_eq "$?:$(kv s4 read)" "0:ok" "over IPv6 ([::1])" || show s4
fi
smb s5 -U "$U%$PW" "$SRV" f read 100000 10
t_eq "$?:$(kv s5 read)" "0:eof" "a read past the end: read=eof"
smb s6 -U "$U%$PW" "$SRV" f lock Q 0 1
t_eq "$?:$(wc -l <"$T_DIR/s6")" "2:0" "a bad op is refused before connecting (exit 2)"
smb s8 -U "$U%$PW" "$SRV" f unlock 0 1
t_eq "$?:$(kv s8 unlock)" "0:not_locked" "unlocking an unlocked range: a result, exit 0"

# ---- two clients: client 1 holds an exclusive lock on 0..99 and
# waits on its stdin between steps
mkfifo "$T_DIR/c1.in"
"$TOOL" -p "$P" -U "$U%$PW" --max-hold 60000 "$SRV" f \
    lock X 0 100 hold-stdin unlock 0 100 hold-stdin \
    lock X 0 100 hold-stdin unlock 0 100 hold-stdin \
    <"$T_DIR/c1.in" >"$T_DIR/c1" 2>"$T_DIR/c1.err" &
C1=$!
T_PIDS+=("$C1")
exec 3>"$T_DIR/c1.in"
c1_has() { [ "$(grep -c "^$1" "$T_DIR/c1")" -ge "$2" ]; }
wait_until 10 c1_has lock=granted 1
t_ok $? "client 1: exclusive lock on 0..99 granted" || show c1

smb c2a -U "$U%$PW" "$SRV" f lock X 50 10 lock X 200 10 lock S 0 10
t_eq "$?:$(kv c2a lock 1):$(kv c2a lock 2):$(kv c2a lock 3)" \
    "0:denied:granted:denied" \
    "client 2: overlapping X denied, separate X granted, S on the X range denied" ||
    show c2a
grep -q 'lock=denied status=STATUS_LOCK_NOT_GRANTED' "$T_DIR/c2a"
t_ok $? "the denial names STATUS_LOCK_NOT_GRANTED"

echo >&3				# client 1 unlocks
wait_until 10 c1_has unlock=ok 1
t_ok $? "client 1 unlocks" || show c1
smb c2b -U "$U%$PW" "$SRV" f lock X 0 10
t_eq "$?:$(kv c2b lock)" "0:granted" "client 2: the released range is granted"

echo >&3				# client 1 locks again
wait_until 10 c1_has lock=granted 2
t_ok $? "client 1 takes the exclusive lock again" || show c1
smb c2c -U "$U%$PW" -w 700 "$SRV" f lock S 0 10 wait
t_eq "$?:$(kv c2c lock_pending):$(kv c2c lock)" "0:1:cancelled" \
    "client 2: a blocking lock not granted within -w is pending, then cancelled" ||
    show c2c
"$TOOL" -p "$P" -U "$U%$PW" -w 20000 "$SRV" f lock X 0 10 wait \
    >"$T_DIR/c2d" 2>"$T_DIR/c2d.err" </dev/null &
C2=$!
T_PIDS+=("$C2")
wait_until 10 grep -q '^lock_pending=1' "$T_DIR/c2d"
t_ok $? "client 2: a blocking lock is pending (interim reply)" || show c2d
sleep 0.5
grep -q '^lock=' "$T_DIR/c2d"
t_ok $((!$?)) "... and not granted while client 1 holds the range"
echo >&3				# client 1 releases
wait_until 10 grep -q '^status=' "$T_DIR/c2d"
t_eq "$(kv c2d lock):$(sed -n 's/^lock=.* \(pending=[01]\)$/\1/p' "$T_DIR/c2d"):$(kv c2d status)" \
    "granted:pending=1:0" "client 2's blocking lock is granted when client 1 releases" ||
    show c2d
echo >&3				# client 1 ends
wait_until 10 grep -q '^status=' "$T_DIR/c1"
t_eq "$(kv c1 hold):$(kv c1 status)" "line:0" "client 1 ends with status=0" || show c1
exec 3>&-

# ---- fcntl locks of the host against SMB locks (posix locking)
"$PR" lock "$SH/f" 1000 10 w 30 >"$T_DIR/p1" 2>&1 &
P1=$!
T_PIDS+=("$P1")
wait_until 10 grep -q locked "$T_DIR/p1"
t_ok $? "a host process holds an fcntl write lock on 1000..1009"
smb x1 -U "$U%$PW" "$SRV" f lock X 1005 1 lock S 1000 10 lock X 1010 5
t_eq "$?:$(kv x1 lock 1):$(kv x1 lock 2):$(kv x1 lock 3)" "0:denied:denied:granted" \
    "SMB locks overlapping the fcntl lock are denied, beside it granted" || show x1
kill "$P1"
wait "$P1" 2>/dev/null
smb x2 -U "$U%$PW" "$SRV" f lock X 1000 10
t_eq "$?:$(kv x2 lock)" "0:granted" "granted once the fcntl lock's holder is gone"

"$PR" lock "$SH/f" 3000 10 w 2 >"$T_DIR/p2" 2>&1 &
T_PIDS+=("$!")
wait_until 10 grep -q locked "$T_DIR/p2"
smb x3 -U "$U%$PW" -w 15000 "$SRV" f lock X 3000 10 wait
t_eq "$?:$(kv x3 lock)" "0:granted" \
    "a blocking SMB lock waits out the fcntl lock (released after 2 s)" || show x3
ms=$(sed -n 's/^lock=granted ms=\([0-9]*\).*/\1/p' "$T_DIR/x3")
[ "${ms:-0}" -ge 1000 ]
t_ok $? "... and was granted only after the fcntl lock went (${ms:-?} ms)"

mkfifo "$T_DIR/c3.in"
"$TOOL" -p "$P" -U "$U%$PW" "$SRV" f lock X 2000 10 lock S 2100 10 hold-stdin \
    <"$T_DIR/c3.in" >"$T_DIR/c3" 2>"$T_DIR/c3.err" &
T_PIDS+=("$!")
exec 4>"$T_DIR/c3.in"
c3_locked() { [ "$(grep -c '^lock=granted' "$T_DIR/c3")" -ge 2 ]; }
wait_until 10 c3_locked
t_eq "$(grep -c '^lock=granted' "$T_DIR/c3")" 2 "an SMB client holds X 2000..2009 and S 2100..2109"
t_eq "$("$PR" trylock "$SH/f" 2000 10 r)" EAGAIN "the host's fcntl read lock on the SMB X range: EAGAIN"
t_eq "$("$PR" trylock "$SH/f" 2100 10 w)" EAGAIN "the host's fcntl write lock on the SMB S range: EAGAIN"
t_eq "$("$PR" trylock "$SH/f" 2100 10 r)" ok "the host's fcntl read lock on the SMB S range: ok"
t_eq "$("$PR" getlk "$SH/f" 2000 1 w | cut -d' ' -f2-)" "2000 10" \
    "F_GETLK shows the SMB lock's range"
echo >&4
exec 4>&-
wait_until 10 grep -q '^status=' "$T_DIR/c3"
t_eq "$(kv c3 status)" 0 "the SMB client ends (its locks go with its handle)"
t_eq "$("$PR" trylock "$SH/f" 2000 10 w)" ok "the host's fcntl lock is granted after it"

# ---- a client holding a lock sees smbd go (a head's smbd stopped)
"$TOOL" -p "$P" -U "$U%$PW" "$SRV" f lock X 5000 1 hold 20000 \
    >"$T_DIR/d1" 2>"$T_DIR/d1.err" </dev/null &
D1=$!
T_PIDS+=("$D1")
wait_until 10 grep -q '^lock=granted' "$T_DIR/d1"
kill "$SMBD"
wait_until 10 grep -q '^status=' "$T_DIR/d1"
wait "$D1"
t_eq "$?:$(kv d1 hold):$(kv d1 status)" "2:disconnected:2" \
    "smbd stopped during a hold: hold=disconnected, exit 2" || show d1
grep -q 'closed the connection during a hold' "$T_DIR/d1.err"
t_ok $? "... and the message says so"

# ---- transport and protocol errors
smb e1 -U "$U%$PW" -t 2000 -p 1 "$SRV" f read 0 1
t_eq "$?" 2 "a closed port: transport error, exit 2"
grep -q 'transport: cannot connect' "$T_DIR/e1.err"
t_ok $? "the message names the transport error"
if command -v python3 >/dev/null 2>&1; then
	# a fake server on another port answers the NEGOTIATE badly: a frame
	# over the limit, a truncated reply, or nothing at all
	FP=$((P + 1))
	fake() {	# fake MODE: serve one connection in the background
		python3 - "$FP" "$1" <<-'EOF' >"$T_DIR/fake-$1.log" 2>&1 &
	import socket, struct, sys, time
	port, mode = int(sys.argv[1]), sys.argv[2]
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", port))
	s.listen(1)
	s.settimeout(20)
	c, _ = s.accept()
	s.close()
	c.settimeout(20)
	c.recv(4096)
	hdr = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 1, 0, 0,
	    0, 0, 0, b"\0" * 16)
	if mode == "big":
	    c.sendall(b"\0\xff\xff\xff")
	elif mode == "short":
	    m = hdr + struct.pack("<HH", 65, 0) + b"\0" * 10
	    c.sendall(struct.pack(">I", len(m)) + m)
	time.sleep(5)
	c.close()
	EOF
		T_PIDS+=("$!")
		wait_until 10 sh -c "ss -Hltn 'sport = :$FP' | grep -q ."
	}
	fake big
	smb e2 -U "$U%$PW" -t 3000 -p "$FP" "$SRV" f read 0 1
	t_eq "$?:$(grep -c 'protocol: bad frame' "$T_DIR/e2.err")" "2:1" \
	    "an oversized frame is refused: protocol error, exit 2" || show e2
	fake short
	smb e3 -U "$U%$PW" -t 3000 -p "$FP" "$SRV" f read 0 1
	t_eq "$?:$(grep -c 'malformed NEGOTIATE reply' "$T_DIR/e3.err")" "2:1" \
	    "a truncated NEGOTIATE reply is refused: protocol error, exit 2" || show e3
	fake silent
	t0=$(date +%s%N)
	smb e4 -U "$U%$PW" -t 1000 -p "$FP" "$SRV" f read 0 1
	rc=$?
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	t_eq "$rc:$(grep -c 'no reply within 1000 ms' "$T_DIR/e4.err")" "2:1" \
	    "a server that does not answer: timeout after -t, exit 2" || show e4
	[ "$el" -lt 3000 ]
	t_ok $? "... within the timeout (${el} ms)"
fi
t_done

# tests/smb/smblib.sh — a private loopback Samba for tests and benches
# that need smbd without the cluster (sourced after tests/lib.sh, or by a
# bench that defines T_PIDS and T_CLEANUP_CMDS itself).
#
#   smb_conf DIR ADDR PORT SHARE PATH [LINE...]  writes DIR/smb.conf: every
#       directory smbd uses lives under DIR, smbd listens on ADDR:PORT
#       only (ADDR must be an address of an interface, e.g. 127.0.0.1:
#       smbd binds only those), one share SHARE on PATH with the
#       settings duonasd writes for an SMB-only share (export/smb_conf.c:
#       oplocks and leases, no kernel oplocks or share modes, posix
#       locking, EAs and DOS attributes in xattrs, no vfs modules); each
#       LINE is added to the share section, or to [global] when it
#       starts with "global:" (which is cut off).  SMB_PASSDB, if set,
#       names the smbpasswd file (default DIR/private/smbpasswd).
#   smb_start DIR      starts smbd on DIR/smb.conf in the foreground (in
#       the background of the caller), records its PID in T_PIDS and
#       waits until it accepts connections (bounded); 1 if it does not
#   smb_stop DIR       stops that smbd and the helpers it started
#   smb_user_add PASSDB PASSWORD  makes a unix account with a unique name
#       (removed by the cleanup) and its SMB entry in the smbpasswd file
#       PASSDB; sets SMB_USER to the name (not a subshell: the cleanup
#       command must reach the caller's T_CLEANUP_CMDS)
#
# smbd binds the addresses it reads at start: a SIGHUP does not make it
# listen on new ones, so a test that needs another address starts
# another instance.

SMBD=${SMBD:-/usr/sbin/smbd}

smb_conf() {
	local d=$1 addr=$2 port=$3 share=$4 path=$5 l
	shift 5
	mkdir -p "$d"/{lock,state,cache,pid,private,ncalrpc,binddns} || return 1
	local db=${SMB_PASSDB:-$d/private/smbpasswd}
	{
		echo "[global]"
		echo "  netbios name = DT$(printf '%s' "$d" | cksum | cut -c1-8)"
		echo "  workgroup = DUONAS"
		echo "  server role = standalone server"
		echo "  smb ports = $port"
		echo "  interfaces = $addr"
		echo "  bind interfaces only = yes"
		echo "  disable netbios = yes"
		echo "  lock directory = $d/lock"
		echo "  state directory = $d/state"
		echo "  cache directory = $d/cache"
		echo "  pid directory = $d/pid"
		echo "  private dir = $d/private"
		echo "  binddns dir = $d/binddns"
		echo "  ncalrpc dir = $d/ncalrpc"
		echo "  log file = $d/smbd.log"
		echo "  max log size = 0"
		echo "  passdb backend = smbpasswd:$db"
		echo "  load printers = no"
		echo "  printing = bsd"
		echo "  printcap name = /dev/null"
		echo "  disable spoolss = yes"
		echo "  map to guest = never"
		echo "  usershare path ="
		echo "  posix locking = yes"
		echo "  kernel oplocks = no"
		echo "  kernel share modes = no"
		echo "  unix extensions = no"
		echo "  durable handles = no"
		for l in "$@"; do
			[ "${l#global:}" != "$l" ] && echo "  ${l#global:}"
		done
		echo "[$share]"
		echo "  path = $path"
		echo "  read only = no"
		echo "  oplocks = yes"
		echo "  level2 oplocks = yes"
		echo "  smb2 leases = yes"
		echo "  vfs objects ="
		echo "  ea support = yes"
		echo "  store dos attributes = yes"
		echo "  map archive = no"
		for l in "$@"; do
			[ "${l#global:}" = "$l" ] && echo "  $l"
		done
	} >"$d/smb.conf"
}

smb_port_listens() {	# smb_port_listens ADDR PORT
	ss -Hltn "src $1:$2" 2>/dev/null | grep -q .
}

smb_start() {
	local d=$1 addr port
	addr=$(sed -n 's/^  interfaces = //p' "$d/smb.conf")
	port=$(sed -n 's/^  smb ports = //p' "$d/smb.conf")
	"$SMBD" -F -s "$d/smb.conf" --debug-stdout \
		>"$d/smbd.out" 2>&1 </dev/null &
	echo $! >"$d/smbd.pid.test"
	T_PIDS+=("$!")
	T_CLEANUP_CMDS+=("smb_reap '$d'")
	wait_until 20 smb_port_listens "$addr" "$port"
}

# smbd starts samba-dcerpcd and its rpcd_* helpers on demand; they exit
# when smbd goes, but not at once: wait for the ones started on this
# DIR's configuration (found by its path on their command line) and
# kill those that stay, by PID
smb_reap() {
	local d=$1 p i
	for ((i = 0; i < 50; i++)); do
		p=$(pgrep -f -- "-s $d/smb.conf|--configfile=$d/smb.conf|$d/smb.conf" || true)
		[ -z "$p" ] && return 0
		sleep 0.1
	done
	for i in $p; do
		kill -TERM "$i" 2>/dev/null
	done
	return 0
}

smb_stop() {
	local d=$1 pid i
	pid=$(cat "$d/smbd.pid.test" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	smb_reap "$d"
}

smb_user_add() {	# smb_user_add PASSDB PASSWORD -> SMB_USER
	local db=$1 pw=$2 u conf
	u=dsmb$(printf '%05d' $(($$ % 100000)))$((RANDOM % 100))
	useradd -M -N -g 100 -d /nonexistent -s /usr/sbin/nologin "$u" \
		>/dev/null 2>&1 || return 1
	T_CLEANUP_CMDS+=("userdel -f '$u'")
	# smbpasswd wants a configuration naming the passdb
	conf=$(mktemp) || return 1
	printf '[global]\n  passdb backend = smbpasswd:%s\n  private dir = %s\n' \
		"$db" "$(dirname "$db")" >"$conf"
	mkdir -p "$(dirname "$db")"
	printf '%s\n%s\n' "$pw" "$pw" |
		smbpasswd -c "$conf" -a -s "$u" >/dev/null 2>&1
	local rc=$?
	rm -f "$conf"
	[ $rc -eq 0 ] || return 1
	SMB_USER=$u
}

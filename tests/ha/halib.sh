# tests/ha/halib.sh — a two-head duonas cluster in network namespaces,
# its NFS clients, and the probes the failover tests assert with (bash).
#
# Source after tests/lib.sh and tests/ha/netns.sh, then t_init.
#   ha_require                 skip unless root, ip netns, binaries built
#   ha_mk_conf MODE            duonas.conf, key, exports (MODE directory|ext4)
#   pool_prepare MODE          LUN files (and ext4 data areas)
#   ha_start HEAD / ha_kill HEAD SIG / ha_wait_up
#   ha_pair_prepare MODE [MSG] namespaces, configuration and pool (one check;
#                              t_done if the namespaces cannot be made)
#   ha_pair_start [SECS]       start A and B, ha_wait_up SECS (default 30);
#                              t_done unless every check so far passed
#   ha_pair_up MODE [SECS [MSG]]  ha_pair_prepare, then ha_pair_start
#   ha_state, ha_serving, ha_ip_held, ha_verdict   (status --json probes)
#   ha_dual_active             one head DAC(master), the other DAC(slave)
#   ha_writer_start NAME VIP LUN [writer args] / ha_acked / ha_writer_stop
#   ha_writers_start N SECS [writer args]  writers wa (VIP A, la) and wb
#                              (VIP B, lb); status: both got N acks in SECS
#   ha_verify NAME VIP LUN     nfs_verify from the client namespace
#   ha_monitor_start / ha_monitor_stop / ha_monitor_check
# Heads run inside their namespaces (ip netns exec, so each also has a
# private mount namespace, like a separate machine); the admin sockets
# are files under $T_DIR, so the CLI runs from the root namespace.
# Status JSON keys relied on (the controller's contract): "state",
# "peer":{"verdict"}, "luns":[{"name","serving"}], "ips":[{"addr","held"}],
# "lease_ok".  Log lines relied on (failover-bench): "hb: peer dead",
# "takeover: serving".

HA_WRITER="$DUONAS_BUILDDIR/tests/ha/nfs_writer"
HA_VERIFY="$DUONAS_BUILDDIR/tests/ha/nfs_verify"
HA_NFS_PORT=2049
HA_MOUNT_PORT=20048
HA_LINK_PORT=7400
# Tunables of the test cluster (empty: the product default).  The lease
# bounds takeover time after a kill: the survivor may take a LUN only
# when its owner's lease has expired.
HA_LEASE_MS=${HA_LEASE_MS-1500}
HA_BOOT_WAIT_MS=${HA_BOOT_WAIT_MS-3000}
HA_HB_INTERVAL_MS=${HA_HB_INTERVAL_MS-}
HA_LUN_MB=${HA_LUN_MB-}		# default: 80 (directory), 200 (ext4)
HA_MODE=directory
# HA_LUN_C=1: a third LUN, lc (id 3), also homed on A (tests that move one
# LUN of a head while it keeps the other)
HA_LUN_C=${HA_LUN_C-}
ha_luns() { if [ -n "$HA_LUN_C" ]; then echo la lb lc; else echo la lb; fi; }

ha_require() {
	ns_require
	[ -x "$DUONASD" ] || t_skip_all "duonasd not built ($DUONASD; make duonasd)"
	[ -x "$DUONAS" ] || t_skip_all "duonas CLI not built"
	[ -x "$HA_WRITER" ] && [ -x "$HA_VERIFY" ] ||
	    t_skip_all "nfs_writer/nfs_verify not built (make check)"
}

# export directory of a LUN (what the exports file and the URLs name)
ha_export_dir() {
	if [ "$HA_MODE" = ext4 ]; then echo "$T_DIR/$1.mnt"
	else echo "$T_DIR/$1.data"; fi
}

# ha_mk_conf MODE [NFSBIND_A NFSBIND_B]: write $T_DIR/duonas.conf, the
# cluster key and $T_DIR/exports for heads A (master, LUN la, 192.0.2.10)
# and B (slave, LUN lb, 192.0.2.20).  nfs-bind stays empty unless given,
# so NFS binds the service IPs (IP_FREEBIND).
ha_mk_conf() {
	local mode=$1 bind_a=${2:-} bind_b=${3:-} h id role vip bind p lun
	case $mode in
	directory|ext4) HA_MODE=$mode ;;
	*) echo "ha_mk_conf: mode '$mode' (directory|ext4)" >&2; return 1 ;;
	esac
	"$DUONAS" keygen "$T_DIR/cluster.key" >/dev/null || return 1
	{
		echo "cluster t-$T_NAME"
		echo "key \"$T_DIR/cluster.key\""
		echo "exports \"$T_DIR/exports\""
		echo "heartbeat {"
		[ -n "$HA_HB_INTERVAL_MS" ] && echo "  interval $HA_HB_INTERVAL_MS"
		[ -n "$HA_BOOT_WAIT_MS" ] && echo "  boot-wait $HA_BOOT_WAIT_MS"
		[ -n "$HA_LEASE_MS" ] && echo "  lease $HA_LEASE_MS"
		echo "  garp-count 3"
		echo "  garp-interval 300"
		echo "}"
		echo "link {"
		echo "  ping 50"
		echo "  dead 400"
		echo "  reconnect 100"
		echo "}"
		echo "nfs {"
		echo "  port $HA_NFS_PORT"
		echo "  mount-port $HA_MOUNT_PORT"
		echo "  portmap-port 111"
		echo "  threads 4"
		echo "}"
		for h in A B; do
			if [ $h = A ]; then
				id=1 role=master vip=$NS_VIP_A bind=$bind_a
			else
				id=2 role=slave vip=$NS_VIP_B bind=$bind_b
			fi
			echo "head $h {"
			echo "  id $id"
			echo "  role $role"
			for p in 0 1; do
				if [ $h = A ]; then
					echo "  link ${NS_LINK_A[$p]}:$HA_LINK_PORT"
				else
					echo "  link ${NS_LINK_B[$p]}:$HA_LINK_PORT"
				fi
			done
			echo "  service-ip $vip/24 dev eth0"
			[ -n "$bind" ] && echo "  nfs-bind $bind"
			echo "  statedir \"$T_DIR/$h/state\""
			echo "  rundir \"$T_DIR/$h/run\""
			echo "}"
		done
		for lun in $(ha_luns); do
			echo "lun $lun {"
			case $lun in
			la) echo "  id 1" ;; lb) echo "  id 2" ;; lc) echo "  id 3" ;;
			esac
			echo "  path \"$T_DIR/$lun.img\""
			echo "  mode $mode"
			if [ "$mode" = ext4 ]; then
				echo "  mountpoint \"$(ha_export_dir $lun)\""
			else
				echo "  data \"$(ha_export_dir $lun)\""
			fi
			if [ $lun = lb ]; then echo "  home B"; else echo "  home A"; fi
			echo "}"
		done
		# HA_CONF_EXTRA: more lines (e.g. a boot { } block)
		[ -n "${HA_CONF_EXTRA:-}" ] && printf '%s\n' "$HA_CONF_EXTRA"
		true
	} >"$T_DIR/duonas.conf"
	# One export per LUN, by path, export id = LUN id.  (There is no
	# export -> LUN keyword yet; the controller maps by path/id.)
	{
		echo "$(ha_export_dir la) -id=1,rw,no_root_squash,sync *"
		echo "$(ha_export_dir lb) -id=2,rw,no_root_squash,sync *"
		[ -n "$HA_LUN_C" ] &&
		    echo "$(ha_export_dir lc) -id=3,rw,no_root_squash,sync *"
		true
	} >"$T_DIR/exports"
	mkdir -p "$T_DIR/A" "$T_DIR/B"
}

# pool_prepare MODE: the LUN files, all zero: 80 MiB (directory mode) or
# 200 MiB (ext4 mode), each starting with the 64 MiB private extent.  The
# controller formats what it finds all zero: the private extent
# (pool_lun_format) and, in ext4 mode, the data area behind it
# (lun_data_format: mkfs.ext4 on a loop device at the data offset; see
# docs/private-extent.md "Data area"), which the owning head then attaches
# and mounts.  Directory mode: the shared data directories are created
# here, as an administrator would (lun_data_attach refuses a missing one).
# LEAD: if formatting becomes an explicit step (e.g. `duonas lun format`),
# run it here — the tests call nothing else to prepare the pool.
pool_prepare() {
	local mode=$1 lun size img
	for lun in $(ha_luns); do
		img="$T_DIR/$lun.img"
		if [ "$mode" = ext4 ]; then size=${HA_LUN_MB:-200}
		else size=${HA_LUN_MB:-80}; fi
		rm -f "$img"
		truncate -s "${size}M" "$img" || return 1
		mkdir -p "$(ha_export_dir $lun)" || return 1
	done
	T_CLEANUP_CMDS+=("ha_pool_cleanup")
}

# Detach loop devices backed by our LUN files and unmount anything under
# $T_DIR (the heads mount in their own mount namespaces, which die with
# them; this catches what leaked into the root namespace).
ha_pool_cleanup() {
	local lun dev mnt
	for mnt in $(awk -v d="$T_DIR/" 'index($2, d) == 1 { print $2 }' \
	    /proc/self/mounts | sort -r); do
		umount -l "$mnt" 2>/dev/null
	done
	for lun in $(ha_luns); do
		for dev in $(losetup -j "$T_DIR/$lun.img" -O NAME -n \
		    2>/dev/null); do
			losetup -d "$dev" 2>/dev/null
		done
	done
}

# ---- heads ----

_ha_forget_pid() {	# drop a reaped PID so cleanup never signals a reuse
	local p keep=()
	for p in "${T_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	T_PIDS=("${keep[@]}")
}

# ha_start HEAD: duonasd for HEAD inside its namespace; PID in PID_<HEAD>;
# log appended to $T_DIR/<HEAD>.log; waits (10 s) for the admin socket.
# HA_START_PRE (optional): shell commands run in the head's namespaces
# (its own mount namespace) right before duonasd is executed there, e.g.
# a bind mount that makes a LUN unusable on that head only.
ha_start() {
	local h=$1 pid
	mkdir -p "$T_DIR/$h"
	echo "==== $(date -u +%FT%T.%3NZ) test: starting $h" >>"$T_DIR/$h.log"
	if [ -n "${HA_START_PRE:-}" ]; then
		ip netns exec "$(ns_name "$h")" sh -c "$HA_START_PRE"' && exec "$0" "$@"' \
		    "$DUONASD" -d -c "$T_DIR/duonas.conf" \
		    -n "$h" >>"$T_DIR/$h.log" 2>&1 &
	else
		ip netns exec "$(ns_name "$h")" "$DUONASD" -d -c "$T_DIR/duonas.conf" \
		    -n "$h" >>"$T_DIR/$h.log" 2>&1 &
	fi
	pid=$!
	disown "$pid"	# no "Killed" job notices; we never need its status
	T_PIDS+=("$pid")
	eval "PID_$h=$pid"
	wait_until 10 ha_cli "$h" version
}

# ha_kill HEAD SIGNAL: signal the head; for KILL/TERM wait (10 s) for it
# to be gone and forget its PID.  Prints nothing.
ha_kill() {
	local h=$1 sig=$2 pid
	eval "pid=\${PID_$h:-}"
	[ -n "$pid" ] || return 1
	kill "-$sig" "$pid" 2>/dev/null || return 1
	case $sig in
	KILL|9|TERM|15)
		wait_until 10 _ha_gone "$pid"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		_ha_forget_pid "$pid"
		eval "PID_$h="
		;;
	esac
	return 0
}
_ha_gone() { ! kill -0 "$1" 2>/dev/null; }

# The CLI with a time limit: a stopped (SIGSTOP) head never answers.
HA_CLI_TIMEOUT=1
ha_cli() {
	local h=$1; shift
	timeout "$HA_CLI_TIMEOUT" "$DUONAS" -s "$(sock_of "$h")" "$@"
}
ha_json() { ha_cli "$1" status --json 2>/dev/null | tr -d ' \t\n'; }

# _ha_obj JSON KEY VALUE: the flat JSON objects with "KEY":"VALUE"
_ha_obj() { printf '%s' "$1" | grep -o "{[^{}]*\"$2\":\"$3\"[^{}]*}"; }

ha_state() {
	ha_json "$1" | grep -o '"state":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
ha_is_state() { [ "$(ha_state "$1")" = "$2" ]; }
ha_verdict() {
	ha_json "$1" | grep -o '"verdict":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
ha_verdict_is() { [ "$(ha_verdict "$1")" = "$2" ]; }
# ha_serving HEAD LUN: HEAD reports serving LUN
ha_serving() { _ha_obj "$(ha_json "$1")" name "$2" | grep -q '"serving":true'; }
ha_not_serving() {
	local j
	j=$(ha_json "$1") && [ -n "$j" ] &&
	    ! _ha_obj "$j" name "$2" | grep -q '"serving":true'
}
# ha_ip_held HEAD ADDR: HEAD reports holding service IP ADDR
ha_ip_held() { _ha_obj "$(ha_json "$1")" addr "$2" | grep -q '"held":true'; }

# ha_pair_prepare MODE [MSG]: the namespaces (t_done when they cannot be
# set up), ha_mk_conf MODE and pool_prepare MODE, checked as one (MSG:
# the check's text).  The configuration may be amended before
# ha_pair_start.
ha_pair_prepare() {
	local mode=$1 msg=${2:-pool and configuration prepared}
	ns_setup || t_done
	ha_mk_conf "$mode" && pool_prepare "$mode"
	t_ok $? "$msg"
}

# ha_pair_start [SECS]: start A and B (one check), ha_wait_up SECS, and
# end the test (t_done) unless every check so far has passed.
ha_pair_start() {
	ha_start A && ha_start B
	t_ok $? "both heads started"
	ha_wait_up "${1:-30}"
	[ "$T_FAIL" -eq 0 ] || t_done
}

# ha_pair_up MODE [SECS [MSG]]: ha_pair_prepare MODE MSG; ha_pair_start SECS
ha_pair_up() {
	ha_pair_prepare "$1" "${3:-}"
	ha_pair_start "${2:-30}"
}

# ha_dual_active: one head DAC(master) and the other DAC(slave), either
# way round (after a failover the master role may have moved)
ha_dual_active() {
	local a b
	a=$(ha_state A) b=$(ha_state B)
	[ "$a,$b" = "DAC(master),DAC(slave)" ] ||
	    [ "$a,$b" = "DAC(slave),DAC(master)" ]
}

# ha_wait_up: A DAC(master) and B DAC(slave), each serving its own LUN
# and holding its own service IP (interface included).  One check each.
ha_wait_up() {
	local t=${1:-30}
	wait_until "$t" ha_is_state A 'DAC(master)'
	t_ok $? "A is DAC(master) (state: $(ha_state A))"
	wait_until "$t" ha_is_state B 'DAC(slave)'
	t_ok $? "B is DAC(slave) (state: $(ha_state B))"
	ha_wait_home "$t"
}

# ha_wait_home [SECS]: la and 192.0.2.10 on A, lb and 192.0.2.20 on B,
# nothing on the other head (after start or giveback).
ha_wait_home() {
	local t=${1:-30}
	wait_until "$t" _ha_home
	t_ok $? "each head serves its own LUN and holds its own IP"
}
_ha_home() {
	ha_serving A la && ha_serving B lb &&
	    ha_not_serving A lb && ha_not_serving B la &&
	    ha_ip_held A "$NS_VIP_A" && ha_ip_held B "$NS_VIP_B" &&
	    ns_has_addr a "$NS_VIP_A" && ns_has_addr b "$NS_VIP_B" &&
	    ! ns_has_addr a "$NS_VIP_B" && ! ns_has_addr b "$NS_VIP_A"
}

# ---- clients ----

ha_url() {	# ha_url VIP LUN FILE
	echo "nfs://$1$(ha_export_dir "$2")/$3?nfsport=$HA_NFS_PORT&mountport=$HA_MOUNT_PORT"
}

# ha_writer_start NAME VIP LUN [nfs_writer args]: a writer in the client
# namespace writing $LUN/NAME.dat through VIP; acks in $T_DIR/NAME.ack,
# summary in $T_DIR/NAME.out, messages in $T_DIR/NAME.log.
ha_writer_start() {
	local n=$1 vip=$2 lun=$3 pid; shift 3
	ip netns exec "$NS_C" "$HA_WRITER" -t 3600 -a "$T_DIR/$n.ack" "$@" \
	    "$(ha_url "$vip" "$lun" "$n.dat")" \
	    >"$T_DIR/$n.out" 2>"$T_DIR/$n.log" &
	pid=$!
	T_PIDS+=("$pid")
	eval "WPID_$n=$pid"
}

# ha_writers_start N SECS [nfs_writer args]: writer wa through A's service
# IP on la and wb through B's on lb; succeeds once each has acknowledged
# N more records within SECS (the caller checks the status).
ha_writers_start() {
	local n=$1 secs=$2; shift 2
	ha_writer_start wa "$NS_VIP_A" la "$@"
	ha_writer_start wb "$NS_VIP_B" lb "$@"
	ha_wait_acks wa "$n" "$secs" && ha_wait_acks wb "$n" "$secs"
}

# ha_reader_start NAME VIP LUN: nfs_verify -F following NAME's ack log
ha_reader_start() {
	local n=$1 vip=$2 lun=$3 pid
	ip netns exec "$NS_C" "$HA_VERIFY" -F -D 60 "$(ha_url "$vip" "$lun" "$n.dat")" \
	    "$T_DIR/$n.ack" >"$T_DIR/$n.rd.out" 2>"$T_DIR/$n.rd.log" &
	pid=$!
	T_PIDS+=("$pid")
	eval "RPID_$n=$pid"
}

ha_acked() {	# number of acknowledged records of writer NAME
	local n=0
	[ -f "$T_DIR/$1.ack" ] && n=$(( $(wc -l <"$T_DIR/$1.ack") - 1 ))
	[ "$n" -lt 0 ] && n=0
	echo "$n"
}
_ha_acked_ge() { [ "$(ha_acked "$1")" -ge "$2" ]; }
# ha_wait_acks NAME N SECS: wait until N more records are acknowledged
ha_wait_acks() {
	local base
	base=$(ha_acked "$1")
	wait_until "$3" _ha_acked_ge "$1" $((base + $2))
}

# ha_stop_pid VAR: SIGTERM the process whose PID is in $VAR, wait (30 s),
# return its exit status
ha_stop_pid() {
	local pid rc
	eval "pid=\${$1:-}"
	[ -n "$pid" ] || return 255
	kill -TERM "$pid" 2>/dev/null
	wait_until 30 _ha_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	_ha_forget_pid "$pid"
	eval "$1="
	return $rc
}
ha_writer_stop() { ha_stop_pid "WPID_$1"; }
ha_reader_stop() { ha_stop_pid "RPID_$1"; }

ha_kv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }	# ha_kv FILE KEY

# ha_verify NAME VIP LUN: read back every acknowledged record of writer
# NAME; one check; prints nfs_verify's output on failure.
ha_verify() {
	local n=$1 rc
	ns_exec c "$HA_VERIFY" -D 60 "$(ha_url "$2" "$3" "$n.dat")" \
	    "$T_DIR/$n.ack" >"$T_DIR/$n.verify" 2>&1
	rc=$?
	t_ok $rc "every acknowledged record of $n is intact (acked=$(ha_kv \
"$T_DIR/$n.verify" acked) lost=$(ha_kv "$T_DIR/$n.verify" lost))"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/$n.verify" | head -n 30
	return $rc
}

# ha_one_owner LUN VIP: LUN served and VIP held (status and kernel) by
# exactly one head.  After a fault the head that took over serves them
# until the giveback returns them (fast: right after fault-reset-delay),
# so a test that looks a second later may find either head.
ha_one_owner() {
	local h=A o=B
	ha_serving B "$1" && h=B o=A
	ha_serving "$h" "$1" && ha_ip_held "$h" "$2" && ns_has_addr "$h" "$2" &&
	    ! ns_has_addr "$o" "$2"
}

# ---- split-brain monitor ----

# ha_monitor_start: sample each head's status every 50 ms (one sampler per
# head, so a stopped head does not slow down the other's samples):
#   EPOCH_MS HEAD LUNS|IPS      e.g. "1700000000123 B la,lb,|192.0.2.10,"
# ("?" = no answer within 0.5 s).  Merged into $T_DIR/monitor.txt by
# ha_monitor_stop.
ha_monitor_start() {
	local h
	rm -f "$T_DIR/monitor.stop"
	HA_MON_PIDS=()
	for h in A B; do
		(
			for ((i = 0; i < 36000; i++)); do	# 30 min at most
				[ -e "$T_DIR/monitor.stop" ] && break
				echo "$(date +%s%3N) $h $(HA_CLI_TIMEOUT=0.5 \
				    _ha_sample $h)"
				sleep 0.05
			done
		) >"$T_DIR/monitor.$h" 2>/dev/null &
		HA_MON_PIDS+=($!)
		T_PIDS+=($!)
	done
}
_ha_sample() {
	local j l a out=""
	j=$(ha_json "$1")
	[ -n "$j" ] || { echo "?"; return; }
	for l in $(ha_luns); do
		_ha_obj "$j" name "$l" | grep -q '"serving":true' &&
		    out="$out$l,"
	done
	out="$out|"
	# an IP kept only until the peer claims it (coordinated giveback:
	# make-before-break, the peer announced it) is not counted
	for a in "$NS_VIP_A" "$NS_VIP_B"; do
		_ha_obj "$j" addr "$a" | grep '"held":true' |
		    grep -qv '"handoff":true' && out="$out$a,"
	done
	echo "$out"
}
ha_monitor_stop() {
	local p
	touch "$T_DIR/monitor.stop"
	for p in "${HA_MON_PIDS[@]}"; do
		wait_until 10 _ha_gone "$p"
		wait "$p" 2>/dev/null
		_ha_forget_pid "$p"
	done
	sort -n -s -k1,1 "$T_DIR/monitor.A" "$T_DIR/monitor.B" \
	    >"$T_DIR/monitor.txt"
}
# ha_monitor_check: one check — at no time did both heads' latest samples
# show the same LUN served or the same IP held, in two consecutive
# comparisons (one alone can be sampling skew: each head is sampled on
# its own, up to ~100 ms apart, and a coordinated giveback hands a LUN
# over faster than that; the reservations keep it exclusive).  Prints
# offenders.
ha_monitor_check() {
	local bad n
	n=$(wc -l <"$T_DIR/monitor.txt")
	bad=$(awk '
	{
		cur[$2] = $3
		a = cur["A"]; b = cur["B"]
		hit = ""
		if (a != "" && b != "" && a != "?" && b != "?") {
			gsub(/\|/, ",", a); gsub(/\|/, ",", b)
			na = split(a, x, ","); nb = split(b, y, ",")
			for (i = 1; i <= na; i++) for (j = 1; j <= nb; j++)
				if (x[i] != "" && x[i] == y[j]) hit = hit x[i] " "
		}
		split(hit, h, " ")
		for (k in h) if (index(" " prev, " " h[k] " ")) {
			print $1, "A=" cur["A"], "B=" cur["B"]; break
		}
		prev = hit
	}' "$T_DIR/monitor.txt")
	[ -z "$bad" ] && [ "$n" -gt 20 ]
	t_ok $? "monitor: no LUN or IP ever reported by both heads ($n samples)"
	[ -z "$bad" ] || printf '%s\n' "$bad" | head -n 10 | sed 's/^/#   /'
}
# ha_monitor_first TIME_MS HEAD ITEM: epoch ms of HEAD's first sample at or
# after TIME_MS that reports ITEM (a LUN name or an IP); empty if none
ha_monitor_first() {
	awk -v t="$1" -v h="$2" -v it="$3" '
	$1 >= t && $2 == h {
		s = $3; gsub(/\|/, ",", s); n = split(s, x, ",")
		for (i = 1; i <= n; i++) if (x[i] == it) { print $1; exit }
	}' "$T_DIR/monitor.$2"
}

# ---- a LUN on faultfs (tests/ha/faultfs.c) ----
# I/O through the handles one head opened (its pool handle, its loop
# device) can be made to fail with EIO while the other head's work:
#   echo "eio $PID_A" >"$FFS/ctl"; echo ok >"$FFS/ctl"
HA_FAULTFS="$DUONAS_BUILDDIR/tests/ha/faultfs"
ha_faultfs_require() {
	command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null ||
	    t_skip_all "needs mkfs.ext4 and losetup"
	[ -x "$HA_FAULTFS" ] || t_skip_all "faultfs not built (libfuse3-dev)"
	[ -c /dev/fuse ] || t_skip_all "no /dev/fuse"
}
_ha_ffs_cleanup() {
	local dev
	for dev in $(losetup -j "$FFS/lun" -O NAME -n 2>/dev/null); do
		losetup -d "$dev" 2>/dev/null
	done
	umount -l "$FFS" 2>/dev/null
	[ -n "${FFS_PID:-}" ] && kill -TERM "$FFS_PID" 2>/dev/null
	sleep 0.2
	[ -n "${FFS_PID:-}" ] && kill -KILL "$FFS_PID" 2>/dev/null
}
_ha_ffs_up() { [ -f "$FFS/lun" ] && grep -q '^mode=' "$FFS/ctl"; }
# ha_faultfs_start BACKING: faultfs serves the file BACKING as $FFS/lun
# ($FFS is $T_DIR/ffs); at cleanup it stops and the loop devices over it
# are freed.  One check.
ha_faultfs_start() {
	FFS="$T_DIR/ffs"
	mkdir -p "$FFS"
	T_CLEANUP_CMDS=("_ha_ffs_cleanup" "${T_CLEANUP_CMDS[@]}")
	"$HA_FAULTFS" "$1" "$FFS" 2>"$T_DIR/faultfs.log" &
	FFS_PID=$!
	wait_until 10 _ha_ffs_up
	t_ok $? "faultfs serves $FFS/lun ($(head -n 1 "$FFS/ctl" 2>/dev/null))"
}
# ha_faultfs_lun NAME ID HOME: a 200 MiB ext4 LUN whose file is $FFS/lun
# (backed by $T_DIR/NAME.back), its lun block and an export of its root
# (id ID, rw, sync) appended to the configuration.  After
# ha_pair_prepare ext4, before the heads start.  One check.
ha_faultfs_lun() {
	mkdir -p "$(ha_export_dir "$1")" && truncate -s 200M "$T_DIR/$1.back"
	ha_faultfs_start "$T_DIR/$1.back"
	cat >>"$T_DIR/duonas.conf" <<EOC
lun $1 {
  id $2
  path "$FFS/lun"
  mode ext4
  mountpoint "$(ha_export_dir "$1")"
  home $3
}
EOC
	echo "$(ha_export_dir "$1") -id=$2,rw,no_root_squash,sync *" >>"$T_DIR/exports"
}

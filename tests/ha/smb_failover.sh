#!/bin/bash
# smb_failover.sh — SMB through failover and fencing (issue 12).
#
# 1. A client copies files into share sa (LUN la, home A) through A's
#    service IP in a loop, one smbclient per file; kill -9 of A: after
#    B takes la and the address over, the loop succeeds again through
#    the same IP (served by B's smbd over B's FUSE mount of la), and
#    every file reported written is intact.
# 2. A restarts; the coordinated giveback returns la and the address;
#    the loop goes on through A; every reported file is intact.
# 3. Fencing: a process in B's mount namespace holds a file of B's FUSE
#    mount of lb open; B is stopped (SIGSTOP) past its lease; A takes
#    lb over; after SIGCONT, reading that file on B fails (EIO, or the
#    mount already gone), B stops serving lb and never served it at the
#    same time as A (status sampled every 50 ms on both heads).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/smblib.sh"

t_init ha_smb_failover
ha_require
smb_require
ha_pair_prepare directory "pool and configuration prepared"
smb_exports
ha_pair_start 60
DA=$(ha_export_dir la) DB=$(ha_export_dir lb)
smb_user_add "$SMB_U1" "$SMB_PW1" >"$T_DIR/u.out" 2>&1
t_ok $? "SMB user $SMB_U1 added"
wait_until 30 smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" "ls"
t_ok $? "SMB works through A"

# copy_loop: one smbclient put per file into sa through A's address;
# a file whose put was reported done is appended to acked (name sha256)
copy_loop() {
	local i f s
	mkdir -p "$T_DIR/src"
	for ((i = 1; i <= 5000; i++)); do
		[ -e "$T_DIR/loop.stop" ] && break
		f="c$i"
		head -c $((4096 + RANDOM * 8)) /dev/urandom >"$T_DIR/src/$f"
		s=$(sha256sum <"$T_DIR/src/$f" | cut -d' ' -f1)
		if ip netns exec "$NS_C" timeout 20 smbclient -t 5 \
		    -U "$SMB_U1%$SMB_PW1" "//$NS_VIP_A/sa" \
		    -c "put $T_DIR/src/$f $f" >"$T_DIR/loop.out" 2>&1 &&
		    grep -q "^putting file" "$T_DIR/loop.out"; then
			echo "$f $s" >>"$T_DIR/acked"
		else
			echo "$(date +%T.%3N) $f: $(tr '\n' ' ' <"$T_DIR/loop.out")" \
			    >>"$T_DIR/loop.err"
			sleep 0.2
		fi
		rm -f "$T_DIR/src/$f"
	done
}
acked() { [ -f "$T_DIR/acked" ] && wc -l <"$T_DIR/acked" || echo 0; }
acked_ge() { [ "$(acked)" -ge "$1" ]; }
# verify: every acknowledged file is in la's directory, intact
verify() {
	local f s bad=0
	while read -r f s; do
		[ "$(sha256sum <"$DA/$f" 2>/dev/null | cut -d' ' -f1)" = "$s" ] ||
		    { echo "# lost or damaged: $f"; bad=$((bad + 1)); }
	done <"$T_DIR/acked"
	return $bad
}

rm -f "$T_DIR/loop.stop" "$T_DIR/acked"
copy_loop &
LOOP=$!
T_PIDS+=("$LOOP")
wait_until 60 acked_ge 10
t_ok $? "the copy loop writes through A ($(acked) files)"

# ---- 1. kill -9 A ----
ha_monitor_start
n0=$(acked)
t0=$(date +%s%3N)
ha_kill A KILL
t_ok $? "A killed (kill -9) after $n0 files"
wait_until 30 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A"'
t_ok $? "B serves la and holds $NS_VIP_A ($(( $(date +%s%3N) - t0 )) ms)"
wait_until 60 acked_ge $((n0 + 10))
t_ok $? "the loop goes on through the same address on B ($(acked) files, first after $(( $(date +%s%3N) - t0 )) ms at most)"
grep -q "smb: export 1 attached" "$T_DIR/B.log"
t_ok $? "B mounted la for SMB"
verify
t_ok $? "every one of the $(acked) reported files is intact"

# ---- 2. giveback ----
ha_start A
t_ok $? "A restarted"
wait_until 60 _ha_home
t_ok $? "giveback: la and $NS_VIP_A back on A"
n1=$(acked)
wait_until 60 acked_ge $((n1 + 10))
t_ok $? "the loop goes on through A after the giveback ($(acked) files)"
grep -q "smb: export 1 detached" "$T_DIR/B.log"
t_ok $? "B unmounted la"
touch "$T_DIR/loop.stop"
wait_until 60 _ha_gone "$LOOP"
wait "$LOOP" 2>/dev/null
_ha_forget_pid "$LOOP"
verify
t_ok $? "every one of the $(acked) reported files is intact after the giveback"
[ -s "$T_DIR/loop.err" ] && sed 's/^/# loop: /' "$T_DIR/loop.err" | tail -n 8

# ---- 3. fencing by SIGSTOP ----
MB="$T_DIR/B/run/smb/mnt/2"
echo "fence me" >"$DB/fencefile"
mkfifo "$T_DIR/go"
nsenter -t "$PID_B" -m bash -c "exec 3<'$MB/fencefile' || exit 9; echo opened;
    read -t 60 x <'$T_DIR/go'; head -c 8 <&3; echo; echo rc=\$?" \
    >"$T_DIR/fence.out" 2>&1 &
RD=$!
T_PIDS+=("$RD")
wait_until 10 grep -q opened "$T_DIR/fence.out"
t_ok $? "a process in B's mount namespace holds $MB/fencefile open"
ha_kill B STOP
t0=$(date +%s%3N)
wait_until 30 eval 'ha_serving A lb && ha_ip_held A "$NS_VIP_B"'
t_ok $? "A took lb over from the stopped B ($(( $(date +%s%3N) - t0 )) ms)"
ha_kill B CONT
echo go >"$T_DIR/go"
wait_until 20 _ha_gone "$RD"
wait "$RD" 2>/dev/null
_ha_forget_pid "$RD"
sed 's/^/# reader: /' "$T_DIR/fence.out"
! grep -q "^fence me" "$T_DIR/fence.out" &&
    grep -q "Input/output error\|Transport endpoint is not connected\|No such device" "$T_DIR/fence.out"
t_ok $? "after SIGCONT, B's FUSE mount refuses the read (EIO or gone)"
wait_until 20 ha_not_serving B lb
t_ok $? "B does not serve lb"
wait_until 20 eval 'grep -q "smb: export 2 detached" "$T_DIR/B.log"'
t_ok $? "B unmounted lb"
wait_until 30 smbc "$NS_VIP_B" sb "$SMB_U1" "$SMB_PW1" "get fencefile $T_DIR/ff.back"
t_ok $? "sb is served through $NS_VIP_B by A"
ha_monitor_stop
ha_monitor_check
t_done

#!/bin/bash
# smb_locks.sh — SMB byte-range locks and NFS NLM locks are one lock
# table (issue 12): an SMB client (tests/smb/smb2tool, through Samba over
# the FUSE mount) and an NLM client (tests/nfs/nlmtool) lock the same
# file of share sa / export la (nfs:smb) through A's service IP.
#
# 1. SMB holds [0,100) exclusive: NLM's lock on [50,60) is DENIED, one
#    on [200,210) is granted; the table lists the SMB owner on both heads.
# 2. SMB lets go: NLM gets [50,60).  Then SMB's lock on [55,56) is
#    refused; a blocking SMB lock on [50,60) waits (pending) and is
#    granted when NLM unlocks.
# 3. kill -9 A while NLM holds [1000,1010) and SMB holds [2000,2010):
#    on B, through the same address, SMB's lock on [1000,1010) is still
#    refused (the NLM lock survived the takeover) until NLM unlocks; the
#    dead head's SMB lock does not outlive its mount (NLM gets
#    [2000,2010)).
# 4. A returns, giveback: an NLM lock taken on B refuses SMB on A.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/nlmlib.sh"
. "$(dirname "$0")/smblib.sh"

SMB2TOOL="$DUONAS_BUILDDIR/tests/smb/smb2tool"
t_init ha_smb_locks
ha_require
nlm_require
smb_require
[ -x "$SMB2TOOL" ] || t_skip_all "tests/smb/smb2tool not built (make check)"
ha_pair_prepare directory "pool and configuration prepared"
smb_exports
nlm_conf
ha_pair_start 60
nlm_wait_grace_end "$NS_VIP_A" la $((NLM_GRACE + 20))
t_ok $? "the cold start's NLM grace period ended"
smb_user_add "$SMB_U1" "$SMB_PW1" >"$T_DIR/u.out" 2>&1
t_ok $? "SMB user $SMB_U1 added"
DA=$(ha_export_dir la)
touch "$DA/shared"
chmod 0666 "$DA/shared"
VA=$NS_VIP_A

# smbt OUT OPS...: one smb2tool run on sa's file "shared"; output in
# $T_DIR/OUT; smb_ans OUT KEY: the first word of KEY's last value
smbt() {
	local out=$1; shift
	ns_exec c "$SMB2TOOL" -U "$SMB_U1%$SMB_PW1" -t 10000 \
	    "//$VA/sa" shared "$@" >"$T_DIR/$out" 2>"$T_DIR/$out.err"
}
smb_ans() { sed -n "s/^$2=\([^ ]*\).*/\1/p" "$T_DIR/$1" | tail -n 1; }
# smb_hold NAME OPS...: smb2tool in the background, holding its session
# (and locks) until release NAME
smb_hold() {
	local n=$1; shift
	rm -f "$T_DIR/$n.fifo"
	mkfifo "$T_DIR/$n.fifo"
	ns_exec c "$SMB2TOOL" -U "$SMB_U1%$SMB_PW1" -t 10000 -w 20000 \
	    --max-hold 120000 "//$VA/sa" shared "$@" hold-stdin \
	    <"$T_DIR/$n.fifo" >"$T_DIR/$n.out" 2>"$T_DIR/$n.err" &
	eval "HOLD_$n=$!"
	T_PIDS+=("$!")
	eval "exec {FD_$n}>\"\$T_DIR/\$n.fifo\""
}
release() {
	local fd pid
	eval "fd=\$FD_$1 pid=\$HOLD_$1"
	echo go >&"$fd"
	eval "exec $fd>&-"
	wait_until 20 _ha_gone "$pid"
	wait "$pid" 2>/dev/null
	_ha_forget_pid "$pid"
}

# ---- 1. an SMB lock refuses NLM ----
smb_hold S1 lock X 0 100
wait_until 20 grep -q "^lock=granted" "$T_DIR/S1.out"
t_ok $? "SMB client holds [0,100) exclusive ($(head -n 1 "$T_DIR/S1.out"))"
nlm_expect "NLM lock on [50,60) while SMB holds it: denied" denied \
    client1 101 "$VA" la shared lock 50 10 x
nlm_expect "NLM lock on [200,210): granted" granted \
    client1 101 "$VA" la shared lock 200 10 x
nlm_expect "NLM unlock [200,210)" granted client1 101 "$VA" la shared unlock 200 10
ha_cli B locks >"$T_DIR/locks.out" 2>&1
grep -qi "smb" "$T_DIR/locks.out"
t_ok $? "B's copy of the table lists the SMB owner ($(grep -i smb "$T_DIR/locks.out" | head -n 1))"

# ---- 2. NLM refuses SMB; a blocking SMB lock waits for NLM ----
release S1
nlm_expect "SMB let go: NLM gets [50,60)" granted client1 101 "$VA" la shared lock 50 10 x
smbt s2 lock X 55 1
t_eq "$(smb_ans s2 lock)" denied "SMB lock on [55,56) while NLM holds it: denied ($(grep '^lock=' "$T_DIR/s2" | tail -n 1))"
smbt s3 lock X 300 10
t_eq "$(smb_ans s3 lock)" granted "SMB lock on [300,310): granted"
smb_hold S4 lock X 50 10 wait
wait_until 20 grep -q "^lock_pending=1" "$T_DIR/S4.out"
t_ok $? "a blocking SMB lock on [50,60) waits (pending)"
nlm_expect "NLM unlocks [50,60)" granted client1 101 "$VA" la shared unlock 50 10
wait_until 20 grep -q "^lock=granted" "$T_DIR/S4.out"
t_ok $? "then the waiting SMB lock is granted ($(grep '^lock=' "$T_DIR/S4.out" | tail -n 1))"
release S4

# ---- 3. takeover ----
nlm_expect "NLM holds [1000,1010)" granted client1 101 "$VA" la shared lock 1000 10 x
smb_hold S5 lock X 2000 10
wait_until 20 grep -q "^lock=granted" "$T_DIR/S5.out"
t_ok $? "SMB holds [2000,2010) through A"
t0=$(date +%s%3N)
ha_kill A KILL
t_ok $? "A killed (kill -9)"
wait_until 30 eval 'ha_serving B la && ha_ip_held B "$VA"'
t_ok $? "B serves la and $VA ($(( $(date +%s%3N) - t0 )) ms)"
wait_until 30 eval 'smbt s6 lock X 1000 10; [ -n "$(smb_ans s6 lock)" ]'
t_eq "$(smb_ans s6 lock)" denied "on B, SMB's lock on [1000,1010) is refused: the NLM lock survived ($(( $(date +%s%3N) - t0 )) ms after the kill)"
nlm_expect "NLM unlocks [1000,1010) on B" granted client1 101 "$VA" la shared unlock 1000 10
smbt s7 lock X 1000 10
t_eq "$(smb_ans s7 lock)" granted "then SMB gets [1000,1010) on B"
wait_until 20 eval 'nlm client2 202 "$VA" la shared lock 2000 10 x >/dev/null; [ "$(_nlm_last)" = granted ]'
t_ok $? "the dead head's SMB lock went with its mount: NLM gets [2000,2010) on B"
grep -q "released 1 lock(s) of A's former mount" "$T_DIR/B.log"
t_ok $? "B's log: A's SMB lock released when B mounted la"
_ha_gone "$HOLD_S5" || kill "$HOLD_S5" 2>/dev/null
eval "exec $FD_S5>&-"
wait "$HOLD_S5" 2>/dev/null
_ha_forget_pid "$HOLD_S5"

# ---- 4. giveback ----
nlm_expect "NLM holds [3000,3010) on B" granted client1 101 "$VA" la shared lock 3000 10 x
ha_start A
t_ok $? "A restarted"
wait_until 60 _ha_home
t_ok $? "giveback: la and $VA back on A"
wait_until 20 eval 'smbt s8 lock X 3000 10; [ -n "$(smb_ans s8 lock)" ]'
t_eq "$(smb_ans s8 lock)" denied "on A, SMB's lock on [3000,3010) is refused: the NLM lock taken on B holds"
nlm_expect "NLM unlocks [3000,3010) on A" granted client1 101 "$VA" la shared unlock 3000 10
smbt s9 lock X 3000 10
t_eq "$(smb_ans s9 lock)" granted "then SMB gets it on A"
t_done

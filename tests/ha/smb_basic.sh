#!/bin/bash
# smb_basic.sh — SMB clients through both heads (issue 12): Samba served
# by duonasd over FUSE mounts of the exports, real smbclient from the
# client namespace through the service IPs (docs/smb.md).
#
# la is exported over NFS and SMB (share sa), lb over SMB only (share
# sb, user 1 only), lb/ro read-only (share sro).  Users come from `duonas
# smb user add` (replicated configuration).  Checked: file operations,
# a 100 MiB round trip with checksums, owners on disk, a user without
# access, a wrong password, a read-only share, a share the head does not
# serve, status (smbd, shares, a connected client), a share added and
# removed by configuration commands while serving, a killed smbd
# restarted, an smbd that cannot start (test fault) makes the head hand
# its exports to the peer, no password in any log.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/smblib.sh"

t_init ha_smb_basic
ha_require
smb_require
ha_pair_prepare directory "pool and configuration prepared"
smb_exports
ha_pair_start 60
DA=$(ha_export_dir la) DB=$(ha_export_dir lb)

smb_user_add "$SMB_U1" "$SMB_PW1" >"$T_DIR/u.out" 2>&1
t_ok $? "duonas smb user add $SMB_U1 on the master ($(head -c 200 "$T_DIR/u.out"))"
smb_user_add "$SMB_U2" "$SMB_PW2" >"$T_DIR/u.out" 2>&1
t_ok $? "duonas smb user add $SMB_U2"
wait_until 20 eval 'getent passwd "$SMB_U1" >/dev/null && getent passwd "$SMB_U2" >/dev/null'
t_ok $? "both users have a Unix account on the heads"
U1ID=$(id -u "$SMB_U1" 2>/dev/null)

wait_until 20 eval 'ha_cli A status | grep -q "^smb: smbd running"'
t_ok $? "A: smbd running"
ha_cli A status | sed -n '/^smb:/,/clients:/p' >"$T_DIR/st.out"
grep -q "share sa: export 1 served" "$T_DIR/st.out" &&
    grep -q "share sb: export 2 not served here" "$T_DIR/st.out"
t_ok $? "A's status: sa served here, sb not ($(tr '\n' ';' <"$T_DIR/st.out"))"
wait_until 20 eval 'ha_cli B status | grep -q "share sb: export 2 served"'
t_ok $? "B's status: sb served"

# ---- file operations through A's service IP (share sa on la) ----
echo "hello from smb $$" >"$T_DIR/f1"
wait_until 20 smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" "ls"
t_ok $? "smbclient ls //$NS_VIP_A/sa as $SMB_U1 ($(tail -n 2 "$T_DIR/smbc.out" | tr '\n' ' '))"
smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" \
    "put $T_DIR/f1 f1; mkdir d1; put $T_DIR/f1 d1\\f3; rename f1 f2; ls"
t_ok $? "put, mkdir, put into it, rename, ls"
grep -q " f2 " "$T_DIR/smbc.out" && ! grep -q " f1 " "$T_DIR/smbc.out"
t_ok $? "ls shows f2, not f1"
[ -f "$DA/f2" ] && [ -f "$DA/d1/f3" ] && cmp -s "$T_DIR/f1" "$DA/f2"
t_ok $? "the files are in la's directory with their content"
t_eq "$(stat -c %u "$DA/f2")" "$U1ID" "f2 belongs to $SMB_U1's uid"
rm -f "$T_DIR/f2.back"
smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" "get f2 $T_DIR/f2.back; del f2; del d1\\f3; rmdir d1"
t_ok $? "get, del, rmdir"
cmp -s "$T_DIR/f1" "$T_DIR/f2.back" && [ ! -e "$DA/f2" ] && [ ! -e "$DA/d1" ]
t_ok $? "got the same bytes; f2 and d1 gone from la's directory"

# ---- 100 MiB through B's service IP (share sb on lb) ----
head -c $((100 << 20)) /dev/urandom >"$T_DIR/big"
s0=$(sha256sum <"$T_DIR/big" | cut -d' ' -f1)
t0=$(date +%s%3N)
smbc "$NS_VIP_B" sb "$SMB_U1" "$SMB_PW1" "put $T_DIR/big big; get big $T_DIR/big.back"
rc=$?
t1=$(date +%s%3N)
t_ok $rc "100 MiB put and get through //$NS_VIP_B/sb ($((t1 - t0)) ms)"
t_eq "$(sha256sum <"$T_DIR/big.back" | cut -d' ' -f1)" "$s0" "the copy read back has the same SHA-256"
t_eq "$(sha256sum <"$DB/big" | cut -d' ' -f1)" "$s0" "the file in lb's directory has the same SHA-256"
rm -f "$T_DIR/big" "$T_DIR/big.back" "$DB/big"

# ---- refusals ----
smbc "$NS_VIP_B" sb "$SMB_U2" "$SMB_PW2" "ls"
rc=$?
[ $rc -ne 0 ] && grep -q "NT_STATUS_ACCESS_DENIED" "$T_DIR/smbc.out"
t_ok $? "$SMB_U2 is not in sb's smb_users: refused ($(grep -o 'NT_STATUS_[A-Z_]*' "$T_DIR/smbc.out" | head -n 1))"
smbc "$NS_VIP_A" sa "$SMB_U1" "wrong-password" "ls"
rc=$?
[ $rc -ne 0 ] && grep -q "NT_STATUS_LOGON_FAILURE" "$T_DIR/smbc.out"
t_ok $? "a wrong password: NT_STATUS_LOGON_FAILURE"
smbc "$NS_VIP_A" sa "nosuchuser$$" "x" "ls"
[ $? -ne 0 ] && grep -q "NT_STATUS_LOGON_FAILURE" "$T_DIR/smbc.out"
t_ok $? "an unknown user (no guest access): NT_STATUS_LOGON_FAILURE"
echo data >"$DB/ro/existing"
smbc "$NS_VIP_B" sro "$SMB_U2" "$SMB_PW2" "ls"
t_ok $? "the read-only share sro can be listed"
grep -q " existing " "$T_DIR/smbc.out"
t_ok $? "and shows its file"
smbc "$NS_VIP_B" sro "$SMB_U2" "$SMB_PW2" "put $T_DIR/f1 new"
grep -q "NT_STATUS_ACCESS_DENIED\|NT_STATUS_MEDIA_WRITE_PROTECTED" "$T_DIR/smbc.out" &&
    [ ! -e "$DB/ro/new" ]
t_ok $? "sro refuses a write ($(grep -o 'NT_STATUS_[A-Z_]*' "$T_DIR/smbc.out" | head -n 1))"
smbc "$NS_VIP_A" sb "$SMB_U1" "$SMB_PW1" "ls"
[ $? -ne 0 ]
t_ok $? "sb through A (which does not serve lb) is refused ($(grep -o 'NT_STATUS_[A-Z_]*' "$T_DIR/smbc.out" | head -n 1))"

# ---- status: a connected client ----
mkfifo "$T_DIR/hold"
ip netns exec "$NS_C" timeout 60 smbclient -U "$SMB_U1%$SMB_PW1" "//$NS_VIP_A/sa" \
    <"$T_DIR/hold" >"$T_DIR/hold.out" 2>&1 &
HOLD=$!
T_PIDS+=("$HOLD")
exec 7>"$T_DIR/hold"
wait_until 20 eval 'ha_cli A status | grep -q "clients: 1 ($NS_IP_C via $NS_VIP_A)"'
t_ok $? "A's status names the connected client ($(ha_cli A status | grep -A0 '  clients:' | tail -n 1))"
ha_json A | grep -q "\"clients\":\[{\"client\":\"$NS_IP_C\",\"address\":\"$NS_VIP_A\"}\]"
t_ok $? "status --json: the client and the address it came in on"
ha_cli A exports >"$T_DIR/ex.out" 2>&1
grep -q "smb share sa .*export 1 .* served, writable, also NFS" "$T_DIR/ex.out"
t_ok $? "duonas exports lists the SMB shares"
exec 7>&-
wait "$HOLD" 2>/dev/null

# ---- a live configuration change: a share added and removed ----
mkdir -p "$DA/live"
chmod 0777 "$DA/live"
HA_CLI_TIMEOUT=20 ha_cli A export add "$DA/live" --id 7 \
    --options rw,protocols=smb,share=live --clients '*' >"$T_DIR/ea.out" 2>&1
t_ok $? "export add of an SMB-only export on la ($(head -c 200 "$T_DIR/ea.out"))"
wait_until 20 smbc "$NS_VIP_A" live "$SMB_U1" "$SMB_PW1" "put $T_DIR/f1 lf"
t_ok $? "the new share 'live' takes a file through A at once (no restart)"
[ -f "$DA/live/lf" ]
t_ok $? "the file is in the new export's directory"
HA_CLI_TIMEOUT=20 ha_cli A export rm 7 >"$T_DIR/er.out" 2>&1
t_ok $? "export rm of it"
wait_until 20 eval '! smbc "$NS_VIP_A" live "$SMB_U1" "$SMB_PW1" "ls" &&
    grep -q NT_STATUS_BAD_NETWORK_NAME "$T_DIR/smbc.out"'
t_ok $? "the share is gone (NT_STATUS_BAD_NETWORK_NAME)"

# ---- a dead smbd is restarted ----
p0=$(ha_json A | grep -o '"smb":{"running":true,"pid":[0-9]*' | grep -o '[0-9]*$')
[ -n "$p0" ] && kill -KILL "$p0"
t_ok $? "smbd of A (pid ${p0:-?}) killed"
wait_until 20 eval 'ha_json A | grep -q "\"smb\":{\"running\":true,\"pid\":[0-9]*,\"port\":445,\"restarts\":1"'
t_ok $? "A restarted smbd ($(grep -c 'smb: smbd started' "$T_DIR/A.log") starts in A's log)"
wait_until 20 smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" "ls"
t_ok $? "and SMB works again through A"

# ---- an smbd that cannot run: the head hands its exports over ----
ha_cli A health | grep -q "smbd"
t_ok $? "the health monitor watches smbd ($(ha_cli A health | grep smbd | head -n 1))"
t0=$(date +%s%3N)
ha_cli A health fault smbd on
t_ok $? "test fault: A's smbd killed and kept from starting"
wait_until 40 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A"'
t_ok $? "A surrendered: B serves la and $NS_VIP_A ($(( $(date +%s%3N) - t0 )) ms; smbd down 10 s first)"
wait_until 30 smbc "$NS_VIP_A" sa "$SMB_U1" "$SMB_PW1" "ls"
t_ok $? "share sa works through $NS_VIP_A, now on B"
grep -q "smbd not running" "$T_DIR/A.log"
t_ok $? "A's log names the reason"

! grep -qF -e "$SMB_PW1" -e "$SMB_PW2" "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "no password in the heads' logs"
t_done

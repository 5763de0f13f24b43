#!/bin/bash
# smb_users.sh — SMB users kept in the replicated configuration
# (docs/smb-users.md), through two real heads: `duonas smb user add` on
# the master reaches both heads (`smb user ls`, the installed file
# <statedir>/smb/users with mode 0600 and the expected lines, a local
# unix account with the uid on the machine), passwd changes only the
# hash, disable/enable mark the line, rm removes it and keeps the
# account; the slave refuses
# changes; bad names, duplicates, an empty password commit nothing; the
# passwords and hashes are in no head log and not in config show, diff
# or the printed export; config export FILE + import round-trip users.
#
# The heads share this machine's /etc/passwd: every account the test
# may create is removed (userdel) in the EXIT trap, even on failure.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_smb_users
ha_require
command -v useradd >/dev/null && command -v userdel >/dev/null ||
    t_skip_all "useradd/userdel not installed"
HA_CLI_TIMEOUT=15

# user names unique per run (within 32 characters)
S=$(( $$ % 100000 ))
U1=dsmb${S}a
U2=dsmb${S}b
U3=dsmb${S}c
U4=dsmb${S}d	# a local account made here before it becomes an SMB user
U5=dsmb${S}e	# a local account holding the next automatic uid
for u in "$U1" "$U2" "$U3" "$U4" "$U5"; do
	getent passwd "$u" >/dev/null && t_skip_all "account $u exists already"
	T_CLEANUP_CMDS+=("userdel -f $u")
done
# uids: U1 takes the first automatic one, the lowest from 30000 up that
# no account of this machine has; U2 a free one given with --uid
free_uid() {	# free_uid FROM -> the lowest uid from FROM up with no account
	local u=$1
	for _ in $(seq 1 500); do
		getent passwd "$u" >/dev/null || break
		u=$(( u + 1 ))
	done
	echo "$u"
}
UID1=$(free_uid 30000)
UID2=$(free_uid $(( 40000 + S % 10000 )))
PW1="Sesame-$S-first"
PW2="Other-$S-p\xc3\xa4ss"	# printf '%b' makes it UTF-8 (a-umlaut)
PW3="Changed-$S-third"

# NT hash of a password (MD4 of UTF-16LE), computed independently of
# duonas; empty when this openssl has no legacy MD4
nthash() {
	printf '%b' "$1" | iconv -f UTF-8 -t UTF-16LE |
	    openssl dgst -md4 -provider legacy -provider default 2>/dev/null |
	    sed -n 's/^.*= *//p'
}
H1=$(nthash "$PW1")
H2=$(nthash "$PW2")
H3=$(nthash "$PW3")

gen_of() {
	ha_cli "$1" config show --json 2>/dev/null |
	    grep -o '"generation":[0-9]*' | head -n 1 | cut -d: -f2
}
users_file() { echo "$T_DIR/$1/state/smb/users"; }
file_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
uid_of() { getent passwd "$1" | cut -d: -f3; }
has_uid() { [ "$(uid_of "$1")" = "$2" ]; }
# add/passwd with the password on standard input
pw_cli() {
	local h=$1 pw=$2; shift 2
	printf '%b\n' "$pw" | ha_cli "$h" "$@"
}

ha_pair_up directory

# ---- the slave refuses changes -------------------------------------
out=$(pw_cli B "$PW1" smb user add "$U1" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "is the slave; run this on the master"
t_ok $? "smb user add on the slave: exit 2 naming the master ($rc: $out)"
G0=$(gen_of A)

# ---- add two users --------------------------------------------------
out=$(pw_cli A "$PW1" smb user add "$U1" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "smb user $U1: uid $UID1"
t_ok $? "add $U1 on the master: uid $UID1 ($rc: $out)"
out=$(pw_cli A "$PW2" smb user add "$U2" --uid "$UID2" 2>&1); rc=$?
t_ok $rc "add $U2 --uid $UID2 ($out)"

want="$(printf 'user %s uid %s nthash %s\nuser %s uid %s nthash %s' \
    "$U1" "$UID1" "$H1" "$U2" "$UID2" "$H2")"
for h in A B; do
	wait_until 10 sh -c "$DUONAS -s $(sock_of $h) smb user ls | grep -q '^$U2 '"
	ls_out=$(ha_cli $h smb user ls 2>&1)
	echo "$ls_out" | grep -Eq "^$U1 +$UID1 +enabled$" &&
	    echo "$ls_out" | grep -Eq "^$U2 +$UID2 +enabled$"
	t_ok $? "smb user ls on $h shows both users: $(echo $ls_out)"
	j=$(ha_cli $h smb user ls --json 2>&1)
	echo "$j" | grep -q "{\"name\":\"$U1\",\"uid\":$UID1,\"disabled\":false}"
	t_ok $? "smb user ls --json on $h ($j)"
	f=$(users_file $h)
	if [ -n "$H1" ]; then
		wait_until 10 file_is "$f" "$want"
		t_ok $? "$h: $f has the expected lines ($(cat "$f" 2>&1 | tr '\n' '|'))"
	else
		wait_until 10 grep -Eq "^user $U2 uid $UID2 nthash [0-9a-f]{32}$" "$f"
		t_ok $? "$h: $f has $U2's line (no openssl MD4 to check hashes)"
	fi
	t_eq "$(stat -c %a "$f" 2>&1)" 600 "$h: the users file has mode 0600"
	t_eq "$(stat -c %a "$(dirname "$f")" 2>&1)" 700 \
	    "$h: its directory has mode 0700"
done
wait_until 15 has_uid "$U1" "$UID1" && wait_until 15 has_uid "$U2" "$UID2"
t_ok $? "local accounts: $(getent passwd "$U1" "$U2" | tr '\n' ' ')"
getent passwd "$U1" | grep -q ':/usr/sbin/nologin$'
t_ok $? "the account has no login shell"
# both heads create accounts on one /etc/passwd here: neither may
# report a conflict or a failed useradd (the race is handled)
! grep -h "smb: generation [0-9]*: \(SMB user [^ ]* (uid\|useradd\)" \
    "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "no account errors in either head's log"

# ---- passwd changes only the hash -----------------------------------
G1=$(gen_of A)
out=$(pw_cli A "$PW3" smb user passwd "$U1" 2>&1); rc=$?
t_ok $rc "passwd $U1 ($out)"
if [ -n "$H3" ]; then
	want3="$(printf 'user %s uid %s nthash %s\nuser %s uid %s nthash %s' \
	    "$U1" "$UID1" "$H3" "$U2" "$UID2" "$H2")"
	wait_until 10 file_is "$(users_file B)" "$want3"
	t_ok $? "B: $U1's hash changed, uid and $U2 unchanged"
else
	wait_until 10 sh -c "! grep -q \"$(grep "^user $U1 " "$(users_file A)")\" '$(users_file B)'"
	t_ok $? "B: $U1's line changed"
fi
diff_out=$(ha_cli A config diff "$G1" 2>&1)
echo "$diff_out" | grep -q "^+user $U1 uid $UID1 nthash (changed)$"
t_ok $? "config diff shows the change without the hash: $(echo $diff_out | head -c 300)"

# ---- refused changes commit nothing ---------------------------------
G2=$(gen_of A)
refused() {	# refused WANT_RC PATTERN PW CLI-ARGS...
	local want=$1 pat=$2 pw=$3 o r; shift 3
	o=$(printf '%b' "$pw" | ha_cli A "$@" 2>&1); r=$?
	[ $r -eq "$want" ] && echo "$o" | grep -q -- "$pat"
	t_ok $? "refused: $* -> exit $r: $(echo "$o" | head -n 1)"
}
refused 64 "character 1 ('B') is not allowed" 'x\n' smb user add "B$U3"
refused 64 "is reserved for a system account" 'x\n' smb user add root
refused 64 "must have 1 to 32 characters" 'x\n' smb user add \
    "$(printf 'a%.0s' $(seq 1 33))"
refused 1 "user $U1 already exists" 'x\n' smb user add "$U1"
refused 1 "uid $UID1 of user $U3 is already user $U1's" 'x\n' \
    smb user add "$U3" --uid "$UID1"
refused 64 "outside\|is too" 'x\n' smb user add "$U3" --uid 999
refused 1 "no SMB user $U3" 'x\n' smb user passwd "$U3"
refused 1 "no SMB user $U3" '' smb user rm "$U3"
refused 64 "an empty password is refused" '\n' smb user add "$U3"
refused 64 "not valid UTF-8" '\xff\xfe\n' smb user add "$U3"
refused 64 "nthash is what duonas sends itself" 'x\n' smb user add "$U3" \
    --nthash 8846f7eaee8fb117ad06bdd830b7586c
t_eq "$(gen_of A)" "$G2" "nothing was committed (generation $G2)"
getent passwd "$U3" >/dev/null
t_ok $(( $? == 0 ? 1 : 0 )) "no account $U3"

# ---- accounts the head has already ----------------------------------
# a committed user must be able to get its account: the master picks
# uids no local account holds, adopts the uid of a local account of the
# same name, and refuses a name or uid that another account holds
UID4=$(free_uid $(( 45000 + S % 5000 )))
UID5=$(free_uid $(( UID1 + 1 )))
useradd -M -N -s /usr/sbin/nologin -u "$UID4" "$U4" &&
    useradd -M -N -s /usr/sbin/nologin -u "$UID5" "$U5"
t_ok $? "local accounts $U4 (uid $UID4) and $U5 (uid $UID5, the next automatic uid) made"
refused 1 "uid $UID4 is the local account $U4 on this head" 'x\n' \
    smb user add "$U3" --uid "$UID4"
refused 1 "$U4 is already a local account on this head with uid $UID4" \
    'x\n' smb user add "$U4" --uid "$(( UID4 + 1 ))"
t_eq "$(gen_of A)" "$G2" "still nothing committed (generation $G2)"
out=$(pw_cli A "$PW3" smb user add "$U4" 2>&1)
echo "$out" | grep -q "smb user $U4: uid $UID4"
t_ok $? "add $U4 (a local account): keeps its uid $UID4 ($out)"
out=$(pw_cli A "$PW3" smb user add "$U3" 2>&1)
UID3=$(echo "$out" | sed -n "s/.*smb user $U3: uid \([0-9]*\).*/\1/p")
[ -n "$UID3" ] && [ "$UID3" != "$UID5" ] && [ "$UID3" -gt "$UID1" ]
t_ok $? "add $U3: an automatic uid that skips $U5's $UID5 (got '$UID3': $out)"
wait_until 15 has_uid "$U3" "$UID3"
t_ok $? "$U3's account is made with uid $UID3 ($(getent passwd "$U3"))"
ha_cli A smb user rm "$U3" >/dev/null 2>&1 &&
    ha_cli A smb user rm "$U4" >/dev/null 2>&1
t_ok $? "rm $U3 and $U4"
G2=$(gen_of A)

# ---- disable / enable -----------------------------------------------
out=$(ha_cli A smb user disable "$U2" 2>&1); rc=$?
t_ok $rc "disable $U2 ($out)"
wait_until 10 grep -q "^user $U2 uid $UID2 nthash [0-9a-f]\{32\} disabled$" \
    "$(users_file B)"
t_ok $? "B: $U2's line says disabled"
ha_cli B smb user ls | grep -Eq "^$U2 +$UID2 +disabled$"
t_ok $? "ls on B shows $U2 disabled"
out=$(ha_cli A smb user enable "$U2" 2>&1); rc=$?
t_ok $rc "enable $U2 ($out)"
wait_until 10 grep -q "^user $U2 uid $UID2 nthash [0-9a-f]\{32\}$" \
    "$(users_file B)"
t_ok $? "B: $U2 enabled again"

# ---- rm: the line goes, the account stays ---------------------------
out=$(ha_cli A smb user rm "$U2" 2>&1); rc=$?
t_ok $rc "rm $U2 ($out)"
for h in A B; do
	wait_until 10 sh -c "! grep -q ' $U2 ' '$(users_file $h)'"
	t_ok $? "$h: $U2's line is gone"
	grep -q "^user $U1 uid $UID1 " "$(users_file $h)"
	t_ok $? "$h: $U1's line stays"
done
t_eq "$(uid_of "$U2")" "$UID2" "the account $U2 stays (files keep its uid)"
! ha_cli B smb user ls | grep -q "^$U2 "
t_ok $? "ls on B no longer lists $U2"

# ---- export and import ----------------------------------------------
exp_out=$(ha_cli A config export 2>&1)
echo "$exp_out" | grep -q "^# smb users: 1 (hashes not shown"
t_ok $? "printed config export counts the users"
ha_cli A config export "$T_DIR/full.conf" >/dev/null 2>&1 &&
    grep -q "^user $U1 uid $UID1 nthash [0-9a-f]\{32\}$" "$T_DIR/full.conf"
t_ok $? "config export FILE has the users with hashes"
t_eq "$(stat -c %a "$T_DIR/full.conf" 2>&1)" 600 "the file has mode 0600"
echo "$exp_out" >"$T_DIR/printed.conf"
ha_cli A smb user rm "$U1" >/dev/null 2>&1
t_ok $? "rm $U1"
ha_cli A config import "$T_DIR/full.conf" >/dev/null 2>&1 &&
    ha_cli B smb user ls | grep -Eq "^$U1 +$UID1 "
t_ok $? "import of the exported file brings $U1 back with uid $UID1"
ha_cli A config import "$T_DIR/printed.conf" >/dev/null 2>&1 &&
    ha_cli A smb user ls | grep -Eq "^$U1 +$UID1 "
t_ok $? "import of the printed export keeps the cluster's users"
cmp -s <(grep "^user $U1 " "$(users_file B)") \
    <(grep "^user $U1 " "$T_DIR/full.conf")
t_ok $? "B's installed line equals the exported one"

# ---- no password or hash in logs and printed output ------------------
show=$(ha_cli A config show 2>&1; ha_cli A config show --json 2>&1;
    ha_cli B config show 2>&1; ha_cli A config diff "$G0" 2>&1;
    ha_cli A config diff "$G0" --json 2>&1; ha_cli A config export --json 2>&1;
    ha_cli A config history 2>&1; ha_cli A status 2>&1)
echo "$show" | grep -q "smb users: 1 (hashes not shown"
t_ok $? "config show says how many users without their hashes"
leak=0
for s in "$PW1" "$PW2" "$PW3" $H1 $H2 $H3; do
	s=$(printf '%b' "$s")
	for f in "$T_DIR/A.log" "$T_DIR/B.log"; do
		grep -qF -- "$s" "$f" && { leak=1; echo "# '$s' found in $f"; }
	done
	echo "$show" | grep -qF -- "$s" && { leak=1; echo "# '$s' printed"; }
done
grep -qiE '[0-9a-f]{32}' <<<"$(echo "$show" | grep -i 'smb\|user')" && leak=1
t_ok $leak "no password or hash in either head's log or in show/diff/export/history/status"
t_done

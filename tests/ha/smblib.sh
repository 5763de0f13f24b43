# tests/ha/smblib.sh — SMB clients of a two-head duonas cluster (bash).
# Source after tests/lib.sh, tests/ha/netns.sh, tests/ha/halib.sh.
#   smb_require              skip unless Samba's smbd and smbclient exist
#   smb_exports              the exports file for SMB: la is nfs:smb
#                            (share sa), lb is SMB only (share sb, users
#                            SMB_U1 only), lb/ro is a read-only share sro
#   smb_user_add NAME PW     `duonas smb user add` on the master (the
#                            head's Unix account is removed at cleanup)
#   smbc VIP SHARE USER PW CMDS   smbclient from the client namespace;
#                            output in $T_DIR/smbc.out, exit status kept
# The heads' statedirs and rundirs are under $T_DIR, which must let the
# SMB users' processes through (smbd works as the logged-in user):
# smb_exports makes it 0755.

SMB_U1="dsa$((NS_ID % 100000))"
SMB_U2="dsb$((NS_ID % 100000))"
SMB_PW1='Pa55 word-1'
SMB_PW2='other:secret'

smb_require() {
	[ -x /usr/sbin/smbd ] || t_skip_all "Samba's smbd not installed (package samba)"
	command -v smbclient >/dev/null ||
	    t_skip_all "smbclient not installed (package smbclient)"
}

smb_exports() {
	local la lb
	la=$(ha_export_dir la) lb=$(ha_export_dir lb)
	mkdir -p "$lb/ro"
	chmod 0755 "$T_DIR"
	chmod 0777 "$la" "$lb"
	{
		echo "$la -id=1,rw,no_root_squash,protocols=nfs:smb,share=sa *"
		echo "$lb -id=2,rw,no_root_squash,protocols=smb,share=sb,smb_users=$SMB_U1 *"
		echo "$lb/ro -id=3,protocols=smb,share=sro,smb_ro *"
	} >"$T_DIR/exports"
}

smb_user_add() {
	local u=$1 pw=$2
	T_CLEANUP_CMDS+=("userdel -f $u")
	printf '%s\n' "$pw" | HA_CLI_TIMEOUT=20 ha_cli A smb user add "$u"
}

smbc() {
	local vip=$1 share=$2 user=$3 pw=$4 cmds=$5
	ip netns exec "$NS_C" timeout 120 smbclient -U "$user%$pw" \
	    "//$vip/$share" -c "$cmds" >"$T_DIR/smbc.out" 2>&1
}

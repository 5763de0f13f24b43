#!/bin/bash
# image_join.sh — boot software (issue 13, docs/boot-images.md): which
# image a head runs when it joins, and what it refuses.
#
# Checked: a cold start of a new cluster whose heads have different
# versions installed ends with both on the newest before either serves;
# a head joining a running peer takes the cluster's preferred
# image even when its own newer one is installed (the slot designation
# goes back, no copy); a head whose image speaks other wire formats is
# not paired with (the serving head stays DEGRADED and serves all, the
# other stays in INIT serving nothing, both say why in status); a head
# restarting into a new preferred image whose copy on one LUN is
# corrupt installs it from another LUN.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/bootlib.sh"

t_init ha_image_join
ha_require
boot_require
HA_CONF_EXTRA=$(boot_conf_extra)
ha_pair_prepare directory "pool and configuration prepared"
boot_keys && boot_mkimage "$T_DIR/v1.img" 1.0.0 &&
    boot_mkimage "$T_DIR/v2.img" 1.1.0 &&
    boot_mkimage "$T_DIR/v3.img" 1.2.0 &&
    boot_mkimage "$T_DIR/w7.img" 2.0.0 --wire 7:7
t_ok $? "key pair and images 1.0.0, 1.1.0, 1.2.0 and 2.0.0 (wire format 7 only)"

# ---- cold start of both heads with different versions: newest wins -----
boot_install A "$T_DIR/v1.img" >/dev/null 2>&1 &&
    boot_install B "$T_DIR/v2.img" >/dev/null 2>&1
t_ok $? "a new cluster: 1.0.0 installed on A (the master), 1.1.0 on B"
boot_start A && boot_start B
t_ok $? "both heads started through duonas-boot at once"
wait_until 90 ha_dual_active
t_ok $? "the heads pair ($(ha_state A), $(ha_state B))"
wait_until 30 img_runs A 1.1.0 && wait_until 30 img_runs B 1.1.0
t_ok $? "both run the newest, 1.1.0 (A: $(img_field A version), B: $(img_field B version))"
_pref_is() { [ "$(img_preferred "$1")" = "$2" ]; }
_pref_is A 1.1.0 && _pref_is B 1.1.0
t_ok $? "and the cluster prefers it"
grep -q "cold start.*1.1.0 wins" "$T_DIR/A.log"
t_ok $? "A's log says the newest wins"
# nothing was served on the old version: A restarted from INIT
! grep -q "nfs: export 1 attached" <(sed -n '1,/restarting through/p' "$T_DIR/A.log")
t_ok $? "A served nothing before it restarted into 1.1.0"
wait_until 30 _ha_home
t_ok $? "each head serves its own"

# ---- a newer head joining a running peer takes the peer's version -----
boot_stop B
t_ok $? "B stopped (A serves both)"
"$DUONAS_BOOT" install "$T_DIR/v3.img" -c "$T_DIR/duonas.conf" -n B \
    >"$T_DIR/inst.out" 2>&1
t_ok $? "an administrator installs 1.2.0 on B by hand ($(tail -n 1 "$T_DIR/inst.out"))"
"$DUONAS_BOOT" status -c "$T_DIR/duonas.conf" -n B >"$T_DIR/bs.out" 2>&1
[ "$(boot_primary B)" = 1.2.0 ]
t_ok $? "B's primary slot holds 1.2.0 ($(tr '\n' ';' <"$T_DIR/bs.out" | head -c 300))"
boot_start B
wait_until 60 ha_dual_active
t_ok $? "B joins ($(ha_state A), $(ha_state B))"
wait_until 20 img_runs B 1.1.0
t_ok $? "B runs the cluster's 1.1.0, not its newer 1.2.0 ($(img_field B version))"
"$DUONAS_BOOT" status -c "$T_DIR/duonas.conf" -n B >"$T_DIR/bs.out" 2>&1
[ "$(boot_primary B)" = 1.1.0 ] && grep -q "version 1.2.0" "$T_DIR/bs.out"
t_ok $? "its primary designation went back to the 1.1.0 slot; 1.2.0 stays in the other"
wait_until 30 _ha_home
t_ok $? "each head serves its own"

# ---- a head whose image speaks other formats is not paired with -------
boot_stop B
wait_until 20 ha_serving A lb
t_ok $? "B stopped, A serves lb"
# run 2.0.0's manifest without duonas-boot (which would install the
# preferred 1.1.0): the daemon reads the slot it is told it runs
"$DUONAS_BOOT" install "$T_DIR/w7.img" -c "$T_DIR/duonas.conf" -n B \
    >"$T_DIR/inst.out" 2>&1
W7S=$("$DUONAS_BOOT" status -c "$T_DIR/duonas.conf" -n B 2>/dev/null |
    sed -n 's/^[* ] \([AB]\): version 2\.0\.0 .*/\1/p' | head -n 1)
W7D=$(sha256sum <"$T_DIR/w7.img" | cut -d' ' -f1)
[ -n "$W7S" ]
t_ok $? "2.0.0 installed in B's slot $W7S"
echo "==== $(date -u +%FT%T.%3NZ) test: starting B on 2.0.0 (wire 7)" >>"$T_DIR/B.log"
ip netns exec "$(ns_name B)" env \
    DUONAS_BOOT_INFO="slot=$W7S dir=$T_DIR/B/state/boot version=2.0.0 digest=$W7D state=good attempts=0 note=test" \
    "$DUONASD" -d -c "$T_DIR/duonas.conf" -n B >>"$T_DIR/B.log" 2>&1 &
PID_B=$!
T_PIDS+=("$PID_B")
wait_until 20 ha_cli B version
_refusing() {
	ha_cli "$1" status 2>/dev/null | grep -q "NOT PAIRING: incompatible software"
}
wait_until 20 _refusing A && wait_until 20 _refusing B
t_ok $? "both heads say NOT PAIRING: incompatible software"
ha_cli A status | grep "NOT PAIRING" | sed 's/^/#   /'
sleep 3
ha_is_state A DEGRADED && ha_serving A la && ha_serving A lb
t_ok $? "A stays DEGRADED and serves both LUNs ($(ha_state A))"
ha_not_serving B la && ha_not_serving B lb && ! ha_dual_active
t_ok $? "B serves nothing ($(ha_state B))"
grep -q "wire formats 7..7" "$T_DIR/A.log"
t_ok $? "A's log names the formats"
ha_kill B TERM
t_ok $? "B stopped"

# ---- a corrupt store copy: the image comes from another LUN -----------
boot_start B
wait_until 60 ha_dual_active && wait_until 30 img_runs B 1.1.0
t_ok $? "B back through duonas-boot on 1.1.0 ($(img_field B version))"
o=$(ha_cli A image upload "$T_DIR/v3.img" 2>&1)
t_ok $? "upload 1.2.0 on the master ($(echo "$o" | grep -o 'stored on [0-9]* LUN(s)'))"
wait_until 10 _pref_is B 1.2.0
t_ok $? "B's configuration names 1.2.0"
# la's copy of 1.2.0: its slot from image status, then one byte of its
# data (region 5 starts at 16 MiB, two equal slots of 24 MiB)
slot=$(img_json A | grep -o '{"lun":"la","slot":[01],"valid":true,"seq":[0-9]*,"length":[0-9]*,"digest":"[0-9a-f]*","version":"1.2.0"}' |
    sed 's/.*"slot":\([01]\).*/\1/')
[ -n "$slot" ]
t_ok $? "la's store holds 1.2.0 in slot ${slot:-?}"
off=$(( (16 + ${slot:-0} * 24) * 1048576 + 4096 + 100000 ))
printf '\xaa\x55' | dd of="$T_DIR/la.img" bs=1 seek=$off conv=notrunc 2>/dev/null
t_ok $? "one word of la's copy overwritten"
o=$(HA_CLI_TIMEOUT=60 ha_cli B image restart 2>&1)
t_ok $? "image restart on B ($(echo "$o" | tail -n 1))"
wait_until 60 img_runs B 1.2.0
t_ok $? "B runs 1.2.0 ($(img_field B version))"
grep -q "duonas-boot.*lun la (.*la.img): image slot $slot .*does not match its SHA-256" "$T_DIR/B.log" &&
    grep -q "duonas-boot: installed 1.2.0 into [AB] from the store" "$T_DIR/B.log"
t_ok $? "duonas-boot logged la's bad copy and installed 1.2.0 from another LUN"
wait_until 60 ha_dual_active && wait_until 30 _ha_home
t_ok $? "dual active, each head serving its own (A on 1.1.0, B on 1.2.0: compatible)"
t_done

#!/bin/bash
# hooks_boot.sh — the boot event hooks (docs/hooks.md) through a rolling
# upgrade: heads started through duonas-boot on 1.0.0; `duonas image
# upgrade` to 1.1.0 makes each head record "boot restart SLOT 1.0.0"
# after handing over its LUN and IP and before it restarts, and, on
# 1.1.0, "boot good SLOT 1.1.0" once the new slot is marked good
# (boot { good-after }); the restarted daemon numbers its events from 1.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/bootlib.sh"

t_init ha_hooks_boot
ha_require
boot_require
EV=$T_DIR/events.d
HA_CONF_EXTRA="$(boot_conf_extra)
events {
  dir \"$EV\"
}"
ha_pair_prepare directory "pool, configuration and hooks prepared"
mkdir -p "$EV"
cat >"$EV/10-record" <<EOF
#!/bin/sh
echo "\$*|SLOT=\$DUONAS_SLOT|VERSION=\$DUONAS_VERSION|SEQ=\$DUONAS_SEQ" \
    >>"$T_DIR/ev.\$DUONAS_HEAD"
EOF
chmod 755 "$EV/10-record"
boot_keys && boot_mkimage "$T_DIR/v1.img" 1.0.0 &&
    boot_mkimage "$T_DIR/v2.img" 1.1.0
t_ok $? "key pair and images 1.0.0, 1.1.0"
boot_install A "$T_DIR/v1.img" >/dev/null 2>&1 &&
    boot_install B "$T_DIR/v1.img" >/dev/null 2>&1
t_ok $? "1.0.0 installed on both heads"
boot_start A && boot_start B
t_ok $? "both heads started through duonas-boot"
wait_until 90 ha_dual_active
t_ok $? "the heads pair ($(ha_state A), $(ha_state B))"
wait_until 30 _ha_home
t_ok $? "each head serves its own"

o=$(ha_cli A image upload "$T_DIR/v2.img" 2>&1)
t_ok $? "upload 1.1.0: $(echo "$o" | tail -n 1)"
o=$(HA_CLI_TIMEOUT=300 ha_cli A image upgrade 2>&1)
t_ok $? "image upgrade: $(echo "$o" | tail -n 1)"

has() { grep -Eq -- "$2" "$T_DIR/ev.$1" 2>/dev/null; }
VB=$(printf '%s' "$NS_VIP_B" | sed 's/\./\\./g')
for h in A B; do
	wait_until 20 has $h '^boot restart [AB] 1\.0\.0\|SLOT=[AB]\|VERSION=1\.0\.0\|'
	t_ok $? "$h's hook recorded its restart from 1.0.0"
	wait_until 30 has $h '^boot good [AB] 1\.1\.0\|SLOT=[AB]\|VERSION=1\.1\.0\|'
	t_ok $? "$h's hook recorded its 1.1.0 slot marked good"
	# the restarted daemon numbers its events from 1 again
	sed -n '/^boot restart/,$p' "$T_DIR/ev.$h" | grep -q '|SEQ=1$'
	t_ok $? "$h's restarted daemon ran its hooks from event 1 again"
done
# B moved first: before its restart line, it handed over its IP and LUN
sed -n '/^boot restart/q;p' "$T_DIR/ev.B" | grep -q "^ip-released $VB eth0|" &&
    sed -n '/^boot restart/q;p' "$T_DIR/ev.B" | grep -q "^lun-released lb 2|"
t_ok $? "B's hook recorded handing over $NS_VIP_B and lb before its restart"
wait_until 60 _ha_home
t_ok $? "each head serves its own again"
boot_stop A
boot_stop B
t_done

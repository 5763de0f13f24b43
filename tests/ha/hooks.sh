#!/bin/bash
# hooks.sh — event hooks (docs/hooks.md) through a failover, a giveback
# and a configuration commit, on a pair of heads in namespaces.
#
# Both heads read one duonas.conf with events { dir $T_DIR/events.d
# timeout 2 }; the record hook appends its arguments and DUONAS_*
# variables to $T_DIR/ev.<head> (DUONAS_HEAD tells the heads apart).
# Checked: the start-up events; after kill -9 of A, B records the state
# change to DEGRADED and the takeover of la and A's IP; after A's restart
# (giveback) B records the release of both and A records serving them
# again; a committed `export add` is recorded on both heads with the
# generation the master reports; a hook sleeping past the time limit is
# killed and logged; hook output is logged with the hook's name;
# non-executable and hidden files are not run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_hooks
ha_require

EV=$T_DIR/events.d
HA_CONF_EXTRA="events {
  dir \"$EV\"
  timeout 2
}"
ha_pair_prepare directory "pool, configuration and hooks prepared"

mkdir -p "$EV"
# 10-record: one line per event:
#   ARGS...|EVENT=..|STATE=..|LUN=..|ID=..|IP=..|DEV=..|GEN=..|OLD=..|WHY=..
cat >"$EV/10-record" <<EOF
#!/bin/sh
echo "\$*|EVENT=\$DUONAS_EVENT|STATE=\$DUONAS_STATE|LUN=\$DUONAS_LUN|\
ID=\$DUONAS_LUN_ID|IP=\$DUONAS_IP|DEV=\$DUONAS_DEV|GEN=\$DUONAS_GENERATION|\
OLD=\$DUONAS_OLD_STATE|WHY=\$DUONAS_REASON" >>"$T_DIR/ev.\$DUONAS_HEAD"
echo "recorded \$1 \$DUONAS_SEQ"
EOF
# 50-sleep: outlives the 2 s time limit on configuration events only
cat >"$EV/50-sleep" <<'EOF'
#!/bin/sh
[ "$1" = config ] || exit 0
echo "going to sleep"
sleep 30
echo "woke up"
EOF
printf '#!/bin/sh\ntouch "%s/ran.$(basename "$0")"\n' "$T_DIR" >"$EV/20-noexec"
cp "$EV/20-noexec" "$EV/.30-hidden"
cp "$EV/20-noexec" "$EV/40-backup~"
chmod 755 "$EV/10-record" "$EV/50-sleep" "$EV/.30-hidden" "$EV/40-backup~"
chmod 644 "$EV/20-noexec"
# the sample hook, appending to a file of ours (it also calls logger)
sed "s|^log_file=\"\"|log_file=\"$T_DIR/sample.\$DUONAS_HEAD\"|" \
    "$DUONAS_SRCDIR/etc/events.d/50-log" >"$EV/60-sample"
chmod 755 "$EV/60-sample"

ha_pair_start 30

# has HEAD PATTERN: a line of HEAD's record matches the extended regexp
has() { grep -Eq -- "$2" "$T_DIR/ev.$1" 2>/dev/null; }
nlines() { if [ -f "$T_DIR/ev.$1" ]; then wc -l <"$T_DIR/ev.$1"; else echo 0; fi; }
# since HEAD N PATTERN: a line after the first N lines matches
since() { tail -n +"$(( $2 + 1 ))" "$T_DIR/ev.$1" 2>/dev/null | grep -Eq -- "$3"; }

VA=$(printf '%s' "$NS_VIP_A" | sed 's/\./\\./g')
wait_until 10 has A "^state [^|]* DAC\(master\) [^|]*\|EVENT=state\|STATE=DAC\(master\)\|"
t_ok $? "A's hook recorded the state change to DAC(master)"
wait_until 10 has A "^lun-served la 1\|EVENT=lun-served\|STATE=DAC\(master\)\|LUN=la\|ID=1\|"
t_ok $? "A's hook recorded serving la (name, id, state)"
wait_until 10 has A "^ip-added $VA eth0\|EVENT=ip-added\|[^|]*\|[^|]*\|[^|]*\|IP=$VA\|DEV=eth0\|"
t_ok $? "A's hook recorded adding $NS_VIP_A on eth0"
wait_until 10 has B "^lun-served lb 2\|"
t_ok $? "B's hook recorded serving lb"
grep -q 'hooks: 10-record: recorded state' "$T_DIR/A.log"
t_ok $? "hook output is logged with the hook's name"
ls "$T_DIR"/ran.* >/dev/null 2>&1
t_ok $(( $? == 0 )) "non-executable, hidden and backup files were not run"

# ---- failover: kill -9 A ----
nb=$(nlines B)
ha_kill A KILL
t_ok $? "A killed (kill -9)"
wait_until 20 since B "$nb" "^state [^|]* DEGRADED [^|]*\|EVENT=state\|STATE=DEGRADED\|"
t_ok $? "B's hook recorded the state change to DEGRADED"
wait_until 20 since B "$nb" "^lun-served la 1\|[^|]*\|STATE=DEGRADED\|LUN=la\|"
t_ok $? "B's hook recorded the takeover of la"
wait_until 20 since B "$nb" "^ip-added $VA eth0\|"
t_ok $? "B's hook recorded the takeover of $NS_VIP_A"
# takeover order: the LUN is served before its head's IP is added
order=$(tail -n +"$((nb + 1))" "$T_DIR/ev.B" | grep -En "^(lun-served la|ip-added $VA) " |
    cut -d: -f1 | tr '\n' ' ')
set -- $order
[ $# -eq 2 ] && [ "$1" -lt "$2" ]
t_ok $? "B recorded la served before $NS_VIP_A added (lines $order)"

# ---- giveback: A comes back ----
na=$(nlines A)
nb=$(nlines B)
ha_start A
t_ok $? "A restarted"
ha_wait_home 40
wait_until 10 since B "$nb" "^ip-released $VA eth0\|"
t_ok $? "giveback: B's hook recorded releasing $NS_VIP_A"
wait_until 10 since B "$nb" "^lun-released la 1\|"
t_ok $? "giveback: B's hook recorded releasing la"
wait_until 10 since B "$nb" "^state DEGRADED [^|]*\|"
t_ok $? "giveback: B's hook recorded leaving DEGRADED"
wait_until 10 since A "$na" "^lun-served la 1\|"
t_ok $? "giveback: A's hook recorded serving la again"
wait_until 10 since A "$na" "^ip-added $VA eth0\|"
t_ok $? "giveback: A's hook recorded adding $NS_VIP_A again"

# ---- a configuration commit on the master ----
if ha_is_state A 'DAC(master)'; then M=A; else M=B; fi
na=$(nlines A)
nb=$(nlines B)
mkdir -p "$(ha_export_dir la)/hooked"
ha_cli "$M" export add "$(ha_export_dir la)/hooked" --id 9 \
    --options rw >"$T_DIR/expadd.out" 2>&1
t_ok $? "export add on the master ($M): $(head -c 200 "$T_DIR/expadd.out")"
gen=$(ha_json "$M" | grep -o '"config":{[^}]*' | grep -o '"generation":[0-9]*' |
    cut -d: -f2)
[ -n "$gen" ] && [ "$gen" -gt 0 ]
t_ok $? "the master reports generation $gen"
wait_until 10 since A "$na" "^config $gen [^|]*\|EVENT=config\|.*\|GEN=$gen\|"
t_ok $? "A's hook recorded generation $gen"
wait_until 10 since B "$nb" "^config $gen [^|]*\|EVENT=config\|.*\|GEN=$gen\|"
t_ok $? "B's hook recorded generation $gen"
wait_until 10 grep -q "hooks: 50-sleep config: killed after the time limit (2 s)" \
    "$T_DIR/$M.log"
t_ok $? "the hook sleeping past the time limit was killed and logged"
grep -q "hooks: 50-sleep: going to sleep" "$T_DIR/$M.log" &&
    ! grep -q "hooks: 50-sleep: woke up" "$T_DIR/$M.log"
t_ok $? "the sleeper's output before the kill is logged, nothing after"
grep -Eq "head=A state=DAC\(master\) event=ip-added $VA eth0" \
    "$T_DIR/sample.A" 2>/dev/null
t_ok $? "the sample hook (etc/events.d/50-log) logged A's events"
ha_cli "$M" status | grep -Eq "^hooks: +$EV: [0-9]+ events, [0-9]+ runs, 0 failed, 1 killed"
t_ok $? "status shows the hooks' counters: $(ha_cli "$M" status | grep '^hooks:')"
ha_json "$M" | grep -q "\"hooks\":{\"dir\":\"$EV\",\"events\":[0-9]*,"
t_ok $? "status --json has the hooks' counters"
ha_dual_active
t_ok $? "both heads still dual active ($(ha_state A), $(ha_state B))"
t_done

#!/bin/bash
# cli_admin.sh — the duonas CLI an administrator meets (issue 14), against
# a running pair:
# 1. group words: `duonas help` lists groups, `duonas help ip` and
#    `duonas smb user --help` list the group's commands (exit 0), a group
#    word alone (`duonas ip`, `duonas image`) lists them and exits 64.
# 2. typos: `duonas staus` exits 64 and suggests status; `duonas lnu ls`
#    suggests lun ls.
# 3. usage errors exit 64, from the CLI and from the daemon: missing
#    arguments, unknown options, bad values; a refusal stays 1.
# 4. -c CONF without -n picks the head named like this host (run in a UTS
#    namespace named B); a host that is no head is a usage error; -s with
#    -n is refused.
# 5. config diff after an `export add` and an `ip add`: unified hunks
#    (@@ -a,b +c,d @@, the added line as +, at most 3 lines of context),
#    not the whole file; --json keeps {"from","to","files"}.
# 6. config history and config show print dates, not epoch milliseconds;
#    status prints durations; --json keeps the numbers.
# 7. -t SECS: a stopped (SIGSTOP) daemon accepts the connection and never
#    answers; the CLI gives up after SECS with exit 69 and says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init cli_admin
ha_require
ha_pair_up directory

# rc_of CMD...: the exit code, the output in $T_DIR/rc.out
rc_of() { "$@" >"$T_DIR/rc.out" 2>&1; echo $?; }
# one line of the last output for the test log
last() { tr '\n' ' ' <"$T_DIR/rc.out" | cut -c1-200; }

# ---- 1. group words ----
t_eq "$(rc_of ha_cli A help)" 0 "duonas help exits 0"
grep -q '^groups' "$T_DIR/rc.out" && grep -q '^  ip  *ls, add, rm, move' \
    "$T_DIR/rc.out"
t_ok $? "duonas help lists the groups with their commands"
t_eq "$(rc_of ha_cli A help ip)" 0 "duonas help ip exits 0"
grep -q 'duonas ip add  *HEAD ADDRESS/PREFIX' "$T_DIR/rc.out" &&
    grep -q 'duonas ip move ' "$T_DIR/rc.out" &&
    ! grep -q 'unknown' "$T_DIR/rc.out"
t_ok $? "duonas help ip lists ip's commands with their usage: $(last)"
t_eq "$(rc_of ha_cli A smb user --help)" 0 "duonas smb user --help exits 0"
grep -q 'duonas smb user passwd  *NAME' "$T_DIR/rc.out"
t_ok $? "smb user --help lists the smb user commands"
t_eq "$(rc_of ha_cli A ip)" 64 "duonas ip alone: usage error 64"
grep -q "'ip' needs a command" "$T_DIR/rc.out" &&
    grep -q 'duonas ip ls' "$T_DIR/rc.out"
t_ok $? "duonas ip alone lists the group: $(last)"
t_eq "$(rc_of ha_cli A image)" 64 "duonas image alone: 64"
grep -q 'duonas image upload' "$T_DIR/rc.out" &&
    grep -q 'duonas image keygen' "$T_DIR/rc.out"
t_ok $? "duonas image lists the image commands, keygen included"
t_eq "$(rc_of ha_cli A locks)" 0 "locks is a command too: it runs"

# ---- 2. typo suggestions ----
t_eq "$(rc_of ha_cli A staus)" 64 "duonas staus: 64"
grep -q "unknown command 'staus'" "$T_DIR/rc.out" &&
    grep -q 'did you mean: duonas status?' "$T_DIR/rc.out"
t_ok $? "duonas staus suggests status: $(last)"
t_eq "$(rc_of ha_cli A lnu ls)" 64 "duonas lnu ls: 64"
grep -q 'did you mean: duonas lun ls?' "$T_DIR/rc.out"
t_ok $? "duonas lnu ls suggests lun ls: $(last)"
t_eq "$(rc_of ha_cli A help confg diff)" 64 "duonas help confg diff: 64"
grep -q 'did you mean: duonas config diff?' "$T_DIR/rc.out"
t_ok $? "help with a typo suggests too: $(last)"

# ---- 3. usage errors: 64, from the CLI and the daemon ----
for c in "config diff" "config rollback" "export add" "ip rm" "lun rm" \
    "pso get" "node standby" "ip move 192.0.2.10" "config diff x" \
    "ip add A 300.1.2.3/24" "ip add C 192.0.2.77/24" "export add /x --id" \
    "export add /x --id zero" "status --bogus" "pso ls --json extra" \
    "lun add lz --id 9 --home A --data $T_DIR/x" \
    "lun add lz --id 9 --path /dev/null --home Q --data $T_DIR/x" \
    "link lossy 0 1" "image upgrade --timeout soon" "smb user add" \
    "config fault 1 wrong"; do
	# shellcheck disable=SC2086
	rc=$(rc_of ha_cli A $c)
	t_eq "$rc" 64 "duonas $c: usage error ($(last))"
done
rc=$(rc_of "$DUONAS" -x status)
t_eq "$rc" 64 "an unknown global option: 64"
rc=$(rc_of ha_cli A export rm 4711)
t_eq "$rc" 1 "a well-formed command the configuration refuses stays 1 \
($(last))"

# ---- 4. -c / -n ----
CONF="$T_DIR/duonas.conf"
out=$(unshare --uts sh -c "hostname B && timeout 10 '$DUONAS' -c '$CONF' \
status --json" 2>&1)
echo "$out" | tr -d ' \n' | grep -q '"head":"B"'
t_ok $? "-c CONF without -n talks to the head named like the host (B): \
$(echo "$out" | head -c 120)"
rc=$(rc_of unshare --uts sh -c "hostname nohead && '$DUONAS' -c '$CONF' status")
t_eq "$rc" 64 "-c on a host that is no head: 64"
grep -q 'is not one of the heads A, B; use -n HEAD' "$T_DIR/rc.out"
t_ok $? "and says so: $(last)"
rc=$(rc_of timeout 10 "$DUONAS" -c "$CONF" -n A status)
t_eq "$rc" 0 "-c CONF -n A works"
rc=$(rc_of "$DUONAS" -s "$(sock_of A)" -n A status)
t_eq "$rc" 64 "-s with -n: 64"

# ---- 5. config diff: unified hunks ----
g0=$(ha_cli A config show --json | grep -o '"generation":[0-9]*' | head -n 1 |
    cut -d: -f2)
mkdir -p "$(ha_export_dir la)/cli"
rc=$(HA_CLI_TIMEOUT=20 rc_of ha_cli A export add "$(ha_export_dir la)/cli" \
    --id 42 --options rw)
t_eq "$rc" 0 "export add commits ($(last))"
ha_cli A config diff "$g0" >"$T_DIR/diff.out" 2>&1
t_ok $? "config diff $g0 runs"
grep -q '^--- exports generation' "$T_DIR/diff.out" &&
    grep -q '^+++ exports generation' "$T_DIR/diff.out"
t_ok $? "a ---/+++ header for the exports file"
grep -Eq '^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@$' "$T_DIR/diff.out"
t_ok $? "unified hunk headers: $(grep '^@@' "$T_DIR/diff.out" | head -n 2 |
    tr '\n' ' ')"
grep -q "^+$(ha_export_dir la)/cli .*42" "$T_DIR/diff.out"
t_ok $? "the new export is a + line: $(grep '^+[^+]' "$T_DIR/diff.out" |
    head -n 1)"
# only the hunk: every line is a header, a hunk line, or context; the
# context around one added line is at most 3 before and 3 after
n=$(grep -c '^ ' "$T_DIR/diff.out")
[ "$n" -le 6 ] && ! grep -q '^duonas.conf\|^cluster ' "$T_DIR/diff.out" &&
    ! grep -v '^[-+ @]' "$T_DIR/diff.out" | grep -q .
t_ok $? "hunks, not whole files ($n context lines, \
$(wc -l <"$T_DIR/diff.out") lines)"
# a change inside the long duonas.conf: one hunk, not the file
g1=$((g0 + 1))
rc=$(HA_CLI_TIMEOUT=20 rc_of ha_cli A ip add A 192.0.2.11/24)
t_eq "$rc" 0 "ip add commits ($(last))"
ha_cli A config diff "$g1" >"$T_DIR/diff2.out" 2>&1
conf_lines=$(wc -l <"$T_DIR/duonas.conf")
grep -q '^+.*192\.0\.2\.11/24' "$T_DIR/diff2.out" &&
    [ "$(grep -c '^@@' "$T_DIR/diff2.out")" -eq 1 ] &&
    [ "$(grep -c '^ ' "$T_DIR/diff2.out")" -le 6 ] &&
    [ "$(wc -l <"$T_DIR/diff2.out")" -lt "$conf_lines" ]
t_ok $? "duonas.conf ($conf_lines lines): one hunk of $(wc -l \
<"$T_DIR/diff2.out") lines: $(tr '\n' '|' <"$T_DIR/diff2.out" | cut -c1-300)"
HA_CLI_TIMEOUT=20 ha_cli A ip rm 192.0.2.11 >/dev/null 2>&1
t_ok $? "ip rm 192.0.2.11"
ha_cli A config diff "$g0" --json | tr -d '\n' >"$T_DIR/diff.json"
grep -q '"from":'"$g0"',"to":' "$T_DIR/diff.json" &&
    grep -q '"name":"exports","changed":1,"diff":"@@ ' "$T_DIR/diff.json"
t_ok $? "--json: from, to, files with the hunks: $(head -c 200 "$T_DIR/diff.json")"

# ---- 6. dates and durations ----
date_re='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z+0-9-]+'
ha_cli A config history >"$T_DIR/hist.out" 2>&1
grep -Eq "^\* +$((g0 + 3)) +$date_re " "$T_DIR/hist.out"
t_ok $? "config history shows dates: $(sed -n 2p "$T_DIR/hist.out")"
! grep -Eq '[0-9]{13}' "$T_DIR/hist.out"
t_ok $? "no epoch milliseconds in config history"
ha_cli A config history --json | grep -Eq '"time_ms":[0-9]{13},'
t_ok $? "config history --json keeps time_ms"
ha_cli A config show >"$T_DIR/show.out" 2>&1
grep -Eq "^committed: +$date_re \(.* ago\) by " "$T_DIR/show.out"
t_ok $? "config show: $(grep '^committed:' "$T_DIR/show.out")"
ha_cli A status >"$T_DIR/st.out" 2>&1
grep -Eq '^state: .*, for [0-9.]+ (ms|s|min [0-9]+ s|h [0-9]+ min),' \
    "$T_DIR/st.out" && grep -Eq '^cluster: .*, up [0-9.]+ (ms|s|min)' \
    "$T_DIR/st.out"
t_ok $? "status shows durations: $(grep -E '^(state|cluster):' \
"$T_DIR/st.out" | tr '\n' ' ')"
ha_json A | grep -Eq '"state_since_ms":[0-9]{13},' &&
    ha_json A | grep -Eq '"uptime_ms":[0-9]+,'
t_ok $? "status --json keeps the milliseconds"

# ---- 7. -t SECS: a stopped daemon accepts and never answers ----
t_eq "$(rc_of "$DUONAS" -s "$(sock_of B)" -t 0 status)" 64 "-t 0 is a usage error ($(last))"
t_eq "$(rc_of "$DUONAS" -s "$(sock_of B)" -t 2x status)" 64 "-t 2x is a usage error ($(last))"
t_eq "$(rc_of "$DUONAS" -s "$(sock_of B)" -t 5 version)" 0 "-t 5 version on a live head: exit 0"
kill -STOP "$PID_B"
t0=$(date +%s%3N)
rc=$(rc_of timeout 20 "$DUONAS" -s "$(sock_of B)" -t 0.5 status)
t1=$(date +%s%3N)
kill -CONT "$PID_B"
[ "$rc" = 69 ] && [ $((t1 - t0)) -lt 5000 ] &&
    grep -q "did not answer within 500 ms" "$T_DIR/rc.out"
t_ok $? "-t 0.5 against a stopped daemon: exit $rc after $((t1 - t0)) ms: $(last)"
wait_until 30 ha_dual_active
t_ok $? "B goes on after SIGCONT"
t_done

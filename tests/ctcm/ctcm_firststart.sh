#!/bin/bash
# Issue 14, a safe first start: `duonasd -t` checks every input a start
# reads (exports file, key mode and owner, LUN devices, directories); a
# first start with a bad exports file exits 78 and stores nothing (no
# stamp, no replica on the LUNs) and starts normally once the file is
# fixed; a head in MONITOR names `duonas config import` in its status; a
# second duonasd for a head is refused (exit 75) before it opens anything.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_firststart
ctcm_cluster
CONF=$T_DIR/duonas.conf

# zero bytes in a LUN's two configuration slots (blocks 256..2303)?
slots_empty() {
	[ "$(dd if="$1" bs=4096 skip=256 count=2048 status=none | tr -d '\0' |
	    wc -c)" -eq 0 ]
}

out=$("$DUONASD" -t -c "$CONF" -n A 2>&1); rc=$?
t_eq "$rc" 0 "-t on a good configuration: exit 0 ($out)"
echo "$out" | grep -q "configuration OK"; t_ok $? "... says configuration OK"

# --- -t finds each problem, with its file ---------------------------------
printf '/srv/a -id=1 *\nrelative/path *\n' >"$T_DIR/exports"
chmod 644 "$T_DIR/cluster.key"
truncate -s 1M "$T_DIR/lun2.img"
out=$("$DUONASD" -t -c "$CONF" -n A 2>&1); rc=$?
t_eq "$rc" 78 "-t with three problems: exit 78"
echo "$out" | grep -q "^$T_DIR/exports:2: "; t_ok $? "... names exports line 2 ($out)"
echo "$out" | grep -q "cluster.key: mode 0644: group or others have access"
t_ok $? "... names the key and its mode"
echo "$out" | grep -q "lun l2: $T_DIR/lun2.img: 1048576 bytes"
t_ok $? "... names the LUN that is too small"
echo "$out" | grep -q "3 problem(s)"; t_ok $? "... counts 3 problems"
chmod 600 "$T_DIR/cluster.key"
truncate -s 80M "$T_DIR/lun2.img"
rm -f "$T_DIR/lun1.img"
: >"$T_DIR/A.blocker"
sed "s|statedir \"$T_DIR/A/state\"|statedir \"$T_DIR/A.blocker/state\"|" \
    "$CONF" >"$T_DIR/t2.conf"
out=$("$DUONASD" -t -c "$T_DIR/t2.conf" -n A 2>&1); rc=$?
t_eq "$rc" 78 "-t with a missing LUN and a statedir under a file: exit 78"
echo "$out" | grep -q "lun l1: $T_DIR/lun1.img: No such file"; t_ok $? "... names the missing LUN ($out)"
echo "$out" | grep -q "statedir $T_DIR/A.blocker/state: .* is not a directory"
t_ok $? "... names the statedir"
truncate -s 80M "$T_DIR/lun1.img"

# --- a real start with a bad key or a bad exports file ----------------------
chmod 640 "$T_DIR/cluster.key"
timeout 20 "$DUONASD" -d -c "$CONF" -n A >"$T_DIR/key.log" 2>&1; rc=$?
t_eq "$rc" 78 "start with a group-readable key: exit 78"
grep -q "cluster.key: mode 0640" "$T_DIR/key.log"; t_ok $? "... naming the key's mode"
chmod 600 "$T_DIR/cluster.key"

timeout 30 "$DUONASD" -d -c "$CONF" -n A >"$T_DIR/first.log" 2>&1; rc=$?
t_eq "$rc" 78 "first start with a bad exports file: exit 78"
grep -q "nothing stored: $T_DIR/exports:2: " "$T_DIR/first.log"
t_ok $? "... naming the file and the line ($(grep exports "$T_DIR/first.log" | tail -n 1))"
t_ok "$([ ! -e "$T_DIR/A/state/ctcm/stamp" ]; echo $?)" "no generation stored (no stamp)"
t_ok "$([ -z "$(ls "$T_DIR/A/state/ctcm/history" 2>/dev/null)" ]; echo $?)" \
    "no history bundle"
e=0; for i in 0 1 2; do slots_empty "$T_DIR/lun$i.img" || e=1; done
t_ok $e "the LUNs' configuration slots are still empty"

# fixed by hand: the next start is the factory initialisation
mkdir -p "$T_DIR/data0/a"
printf '%s -id=1 *\n' "$T_DIR/data0/a" >"$T_DIR/exports"
start_head A; t_ok $? "A starts once the exports file is fixed"
wait_until 10 stamp_is A 1; t_ok $? "generation 1 stored ($(stamp_gen A))"

# --- a second daemon for the same head --------------------------------------
t_eq "$(head -n 1 "$T_DIR/A/state/duonasd.lock")" "$PID_A" "the lock file holds A's PID"
cp "$T_DIR/A.log" "$T_DIR/A.log.before"
s=$(date +%s%N)
timeout 20 "$DUONASD" -d -c "$CONF" -n A >"$T_DIR/second.log" 2>&1; rc=$?
ms=$(( ($(date +%s%N) - s) / 1000000 ))
t_eq "$rc" 75 "a second duonasd for head A: exit 75 (in $ms ms)"
grep -q "another duonasd with PID $PID_A runs for this head" "$T_DIR/second.log"
t_ok $? "... naming the running one's PID ($(cat "$T_DIR/second.log"))"
# its only line is the refusal: no ctcm boot, link, PSO, pool (LUN) or
# service IP line before it
t_eq "$(wc -l <"$T_DIR/second.log")" 1 \
    "... before ctcm, the link, PSO, the LUNs or the service IPs"
cli A version >/dev/null; t_ok $? "the first one still answers"
kill -0 "$PID_A"; t_ok $? "and still runs"

# --- MONITOR names the way out -----------------------------------------------
cli A config export "$T_DIR/backup.txt" >/dev/null
stop_head A
flipbyte() { printf '\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
for i in 0 1 2; do
	flipbyte "$T_DIR/lun$i.img" $((256 * 4096 + 8))
	flipbyte "$T_DIR/lun$i.img" $((1280 * 4096 + 8))
done
flipbyte "$T_DIR/A/state/ctcm/stamp" 3
for f in "$T_DIR/A/state/ctcm/history/"*.bundle; do flipbyte "$f" 40; done
start_head A; t_ok $? "A starts with nothing valid"
mon() { cli A config show --json | grep -q '"monitor":true'; }
wait_until 10 mon; t_ok $? "A is in MONITOR"
out=$(cli A status 2>&1)
echo "$out" | grep -q "way out: \`duonas config import FILE\` on this head"
t_ok $? "status names config import ($(echo "$out" | grep -A1 MONITOR))"
cli A config show 2>&1 | grep -q "^way out: *duonas config import FILE"
t_ok $? "config show names it too"
t_done

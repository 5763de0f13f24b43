#!/bin/bash
# Private-extent damage while a two-head cluster runs (finding 6 of issue
# 10): a zeroed or corrupt super block is restored from its backup (by a
# running head, by a configuration commit, by a restarting home head) and
# never re-formatted; a zeroed reservation block is rebuilt by its owner
# at a higher generation.  A sampler reads the reservation block of LUN
# l0 every 0.1 s throughout: its generation must never go down.
. "$(dirname "$0")/../ctcm/lib-ctcm.sh"
t_init pext_damage
ctcm_cluster
LUN="$T_DIR/lun0.img"

blk() {		# blk BLOCKNO: one 4 KiB block of l0, read past the cache
	dd if="$LUN" bs=4096 skip="$1" count=1 iflag=direct status=none
}
be64() {	# be64 OFFSET: big-endian u64 from stdin, decimal
	local h
	h=$(od -An -tx1 -j "$1" -N 8 | tr -d ' \n')
	echo $((16#${h:-0}))
}
magic_ok() { [ "$(blk "$1" | od -An -tx1 -N 4 | tr -d ' \n')" = 44504558 ]; }
resgen() { blk 3 | be64 56; }
fmtid() { blk 0 | od -An -tx1 -j 128 -N 8 | tr -d ' \n'; }
zero() { dd if=/dev/zero of="$LUN" bs=4096 seek="$1" count=1 conv=notrunc \
    oflag=direct status=none; }
formats() { cat "$T_DIR"/A.log "$T_DIR"/B.log 2>/dev/null |
    grep -c "formatted LUN"; }
lun_json() {	# lun_json HEAD FIELD -> value of FIELD of lun l0
	cli "$1" status --json 2>/dev/null | tr '{' '\n' | grep '"name":"l0"' |
	    grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2 | tr -d '"'
}

start_head A && start_head B && both_up; t_ok $? "cluster up"
owned() { [ "$(lun_json A state)" = owned ]; }
wait_until 15 owned; t_ok $? "A owns l0"
nf=$(formats)
t_eq "$nf" 3 "the three new LUNs were formatted once each"
f0=$(fmtid)
g0=$(resgen)
[ "$g0" -ge 2 ]; t_ok $? "l0 reserved at generation $g0"

# the sampler: every generation the reservation block shows, in order
( for _ in $(seq 1 1200); do
	magic_ok 3 && resgen
	sleep 0.1
  done ) >"$T_DIR/gens" 2>/dev/null &
SAMPLER=$!
T_PIDS+=("$SAMPLER")

# 1. block 0 zeroed under running heads: restored from what they loaded
zero 0
same_fmt() { magic_ok 0 && [ "$(fmtid)" = "$f0" ]; }
wait_until 5 same_fmt; t_ok $? "block 0 restored by a running head (same format id)"
grep -q "block 0 (super block): block never written (all zero): rewritten" \
    "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "the damage is logged with the block"
cli A status | grep -q "lun l0 DAMAGED: block 0 (super block)"
t_ok $? "duonas status names the LUN and the block"
t_eq "$(formats)" "$nf" "nothing re-formatted"

# 2. block 0 zeroed, then a commit writes the replicas (used to format)
mkdir -p "$T_DIR/data0/x"
zero 0
t_cmd "a commit with l0's block 0 zeroed" cli A export add "$T_DIR/data0/x"
t_eq "$(fmtid)" "$f0" "l0 not re-formatted by the commit"
g=$(gen_of A)
t_eq "$(replica_gens A)" "$g $g $g" "every replica holds generation $g"
t_eq "$(formats)" "$nf" "nothing re-formatted"

# 3. block 0 zeroed while both heads are down, then the home head starts
stop_head B; stop_head A
g1=$(resgen)
zero 0
start_head A && start_head B && both_up; t_ok $? "heads restart"
wait_until 15 owned; t_ok $? "A owns l0 again"
t_eq "$(fmtid)" "$f0" "the home head restored block 0 instead of formatting"
[ "$(resgen)" -gt "$g1" ]; t_ok $? "generation $(resgen) above $g1"
grep -q "restored from the backup super block (block 4095)" "$T_DIR/A.log"
t_ok $? "A logged the restore from the backup"
t_eq "$(formats)" "$nf" "nothing re-formatted"
t_eq "$(gen_of A)" "$g" "configuration generation $g kept"

# 4. the reservation block zeroed while A owns l0: the owner rebuilds it
g2=$(resgen)
zero 3
rebuilt() { magic_ok 3 && [ "$(resgen)" -gt "$g2" ]; }
wait_until 5 rebuilt; t_ok $? "reservation rebuilt above $g2 ($(resgen))"
t_eq "$(lun_json A state)" owned "A still owns l0 (not fenced)"
t_eq "$(lun_json A owner)" A "owner A"
cli A status | grep -q "block 3 (reservation block).*rebuilt at generation"
t_ok $? "status shows the rebuilt reservation"

# 5. the home head dies: the peer takes l0 over at a higher generation
g3=$(resgen)
stop_head A KILL
takeover() { [ "$(lun_json B owner)" = B ] && [ "$(lun_json B state)" = owned ]; }
wait_until 20 takeover; t_ok $? "B took l0 over"
[ "$(resgen)" -gt "$g3" ]; t_ok $? "takeover generation $(resgen) above $g3"

kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
n=$(wc -l <"$T_DIR/gens")
[ "$n" -ge 5 ]; t_ok $? "sampler read $n generations"
down=$(awk 'NR > 1 && $1 < prev { print prev " -> " $1 } { prev = $1 }' \
    "$T_DIR/gens" | head -n 3)
t_eq "$down" "" "the reservation generation never went down"
t_done

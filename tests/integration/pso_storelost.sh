#!/bin/bash
# Finding 9 of issue 10: data.mdb missing or empty on both heads used to
# start a silent "cluster cold start" with every object gone.  The pool's
# private extents record, per head, that its PSO store held objects (the
# PSO marker block, docs/private-extent.md); a head whose store is gone
# while the array says otherwise refuses PSO (every pso command and
# status say so) until it resyncs from its peer or the administrator
# confirms the loss with `duonas pso reset --confirm`.
. "$(dirname "$0")/../lib.sh"
t_init pso_storelost
extra=""
for i in 0 1; do
	truncate -s 80M "$T_DIR/lun$i.img"
	mkdir -p "$T_DIR/data$i"
	extra="$extra
lun l$i {
  id $((i + 1))
  path \"$T_DIR/lun$i.img\"
  mode directory
  data \"$T_DIR/data$i\"
  home A
}"
done
mk_cluster 1 "$extra"
: >"$T_DIR/exports"
start_head A; start_head B; both_up; t_ok $? "cluster up with two LUNs"
t_cmd "set x" cli A pso set x precious
t_cmd "set y" cli B pso set y also
stop_head A; stop_head B

# 1. A's store missing, B intact: A takes everything back from B.
rm -f "$T_DIR/A/state/pso/data.mdb" "$T_DIR/A/state/pso/lock.mdb"
start_head A; start_head B; both_up; t_ok $? "A without a store, B intact: both in sync"
t_eq "$(cli A pso get x 2>&1)" precious "A got x back from B"
t_eq "$(cli A pso get y 2>&1)" also "A got y back from B"
stop_head A; stop_head B

# 2. Both stores gone (one removed, one emptied): nobody serves PSO.
rm -f "$T_DIR/A/state/pso/data.mdb" "$T_DIR/A/state/pso/lock.mdb"
: >"$T_DIR/B/state/pso/data.mdb"; rm -f "$T_DIR/B/state/pso/lock.mdb"
la=$(wc -l <"$T_DIR/A.log"); lb=$(wc -l <"$T_DIR/B.log")
start_head A; start_head B
wait_until 20 is_state A 'DAC(master)' && wait_until 20 is_state B 'DAC(slave)'
t_ok $? "both heads come up (HA is not held hostage)"
sleep 2
for h in A B; do
	out=$(cli $h pso get x 2>&1); rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -q "pso reset --confirm"
	t_ok $? "$h: pso get refuses and names the way out: $out"
	out=$(cli $h pso set z 1 2>&1); rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -q "lost"
	t_ok $? "$h: pso set refuses: $out"
	cli $h status | grep -q "^pso: .*lost"
	t_ok $? "$h: status says the store is lost: $(cli $h status | grep '^pso:')"
	cli $h status --json | grep -q '"store":"lost"'
	t_ok $? "$h: status --json says store lost"
done
n=$( (tail -n +"$((la + 1))" "$T_DIR/A.log"; tail -n +"$((lb + 1))" "$T_DIR/B.log") |
    grep -c "cluster cold start")
t_eq "$n" 0 "no silent cold start with the objects gone"

out=$(cli A pso reset 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q -- "--confirm"
t_ok $? "pso reset without --confirm refuses: $out"
t_cmd "pso reset --confirm on A" cli A pso reset --confirm
wait_until 20 pso_synced A && wait_until 20 pso_synced B
t_ok $? "both heads serve PSO after the confirmed loss"
out=$(cli B pso get x 2>&1)
echo "$out" | grep -q "no such object"; t_ok $? "x is gone (confirmed): $out"
t_cmd "new writes work" cli B pso set x reborn
t_eq "$(cli A pso get x)" reborn "A sees B's new write"

# 3. After the reset the marker describes the new stores: a restart of
# both is an ordinary one.
stop_head A; stop_head B
start_head A; start_head B; both_up; t_ok $? "ordinary restart after the reset"
t_eq "$(cli A pso get x 2>&1)" reborn "x kept across the restart"

# 4. A store missing on a head whose peer is down: refuses until the
# peer comes back, then resyncs on its own.
stop_head A
rm -f "$T_DIR/A/state/pso/data.mdb" "$T_DIR/A/state/pso/lock.mdb"
stop_head B
start_head A
sleep 3
out=$(cli A pso get x 2>&1)
echo "$out" | grep -q "lost"; t_ok $? "A alone without its store refuses: $out"
start_head B; both_up; t_ok $? "B back: A resyncs"
t_eq "$(cli A pso get x 2>&1)" reborn "A has x again"
t_done

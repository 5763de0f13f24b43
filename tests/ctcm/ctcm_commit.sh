#!/bin/bash
# Configuration transactions end to end: commit on the master reaches
# both heads and every replica; the slave refuses changes with the
# redirection; bad input is rejected before anything is written; a head
# that was down during several commits is brought up to date at boot;
# history, diff and rollback.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_commit
ctcm_cluster
start_head A; t_ok $? "head A starts"
start_head B; t_ok $? "head B starts"
both_up; t_ok $? "A master, B slave"
wait_until 10 both_gen 1; t_ok $? "both heads at generation 1 (factory)"
reps_are() { [ "$(replica_gens A)" = "$1" ]; }
wait_until 10 reps_are "1 1 1"
t_ok $? "the master wrote generation 1 to every replica (array repair)"

mkdir -p "$T_DIR/data0/pub" "$T_DIR/data1/b"
t_cmd "export add on the master" cli A export add "$T_DIR/data0/pub" \
    --clients "127.0.0.0/8(rw)"
g=$(gen_of A)
t_eq "$g" 2 "generation 2 committed"
t_eq "$(gen_of B)" 2 "slave installed it"
t_eq "$(stamp_gen A) $(stamp_gen B)" "2 2" "both local stamps at 2"
t_eq "$(replica_gens B)" "2 2 2" "every replica holds 2"
grep -q "^$T_DIR/data0/pub -id=1 127.0.0.0/8(rw)" "$T_DIR/exports"
t_ok $? "exports file installed"
cli B export ls | grep -q "$T_DIR/data0/pub"
t_ok $? "export ls on the slave shows it"
cli B export ls --json | grep -q '"id":1'
t_ok $? "export ls --json"
serves() { cli "$1" exports 2>/dev/null | grep -q "$2"; }
wait_until 5 serves B "$T_DIR/data0/pub"
t_ok $? "the slave serves the new export"

# the slave refuses changes, naming the master
out=$(cli B export add "$T_DIR/data0/x" 2>&1); rc=$?
t_eq "$rc" 2 "change on the slave: exit 2"
echo "$out" | grep -q "this head (B) is the slave; run this on the master (A, 127\." 
t_ok $? "redirection message names the master and its address ($out)"
t_eq "$(gen_of A) $(gen_of B)" "2 2" "nothing changed"
out=$(cli B ip add B 10.99.0.2/24 dev lo 2>&1); t_eq "$?" 2 "ip add on the slave: exit 2"

# invalid input: rejected before anything is written
out=$(cli A export add /etc/passwd 2>&1); rc=$?
t_ok $([ $rc -ne 0 ] && echo 0 || echo 1) "path outside every LUN refused"
echo "$out" | grep -q "outside every LUN"; t_ok $? "message: $out"
out=$(cli A export rm /nope 2>&1)
echo "$out" | grep -q "no export /nope"; t_ok $? "unknown export: $out"
out=$(cli A ip add B 10.99.0.2/33 2>&1)
echo "$out" | grep -q "prefix"; t_ok $? "bad CIDR: $out"
t_cmd "ip add" cli A ip add B 10.99.0.2/24 dev lo
out=$(cli A ip add A 10.99.0.2/24 dev lo 2>&1)
echo "$out" | grep -q "already a service IP of head B"; t_ok $? "overlapping IP: $out"
t_eq "$(gen_of A) $(gen_of B)" "3 3" "only the valid change committed"
cli B ip ls | grep -q "10.99.0.2/24"; t_ok $? "ip ls on the slave"

# a head down during several commits is brought up to date at boot
stop_head B
t_cmd "commit 4 with B down" cli A export add "$T_DIR/data1/b"
t_cmd "commit 5 with B down" cli A export set "$T_DIR/data1/b" --options rw
t_eq "$(stamp_gen B)" 3 "B's local database is behind"
start_head B; both_up; t_ok $? "B rejoins"
t_eq "$(gen_of B)" 5 "B restored generation 5 before serving"
grep -q "restored generation 5" "$T_DIR/B.log"; t_ok $? "B logged the restore"

# history, diff, rollback
cli A config history | grep -q "export add $T_DIR/data1/b"
t_ok $? "history lists the commits"
cli B config history --json | grep -q '"generation":5,'
t_ok $? "history --json on the slave"
cli A config diff 4 5 | grep -q "^+$T_DIR/data1/b -id=2,rw"
t_ok $? "diff shows the change"
t_cmd "rollback to 3" cli A config rollback 3
t_eq "$(gen_of A) $(gen_of B)" "6 6" "rollback is a new generation"
grep -q data1 "$T_DIR/exports"; t_eq "$?" 1 "content of 3 is back"
cli A config export "$T_DIR/saved.conf" >/dev/null
grep -q '^%%file exports' "$T_DIR/saved.conf"; t_ok $? "config export to a file"
cli A config show | grep -q "^generation: *6 "; t_ok $? "config show shows the generation"
t_done

#!/bin/bash
# Finding 1 of issue 10: an acknowledged commit is never lost and a
# generation number is never reused with other content.
# (a) The master dies right after writing its commit to one replica; the
#     new master numbers its own commit above it, and that acknowledged
#     commit survives a restart of both heads.
# (b) A slave whose disk is full misses generations and then becomes the
#     master: its commits are built on the newest committed generation
#     (adopted from the array), never on its stale local copy.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_epoch
need_root
ctcm_cluster
for d in a b c d e f g; do mkdir -p "$T_DIR/data0/$d"; done
start_head A && start_head B && both_up; t_ok $? "cluster up"
t_cmd "first commit" cli A export add "$T_DIR/data0/a"
wait_until 10 replicas_agree A; t_ok $? "replicas settled"
g=$(gen_of A)

# (a) A dies right after the first replica write of generation g+1
cli A config fault 1 crash >/dev/null
cli A export add "$T_DIR/data0/b" >/dev/null 2>&1
wait_until 20 is_master B; t_ok $? "B took over"
out=$(cli B export add "$T_DIR/data0/c" 2>&1); rc=$?
t_eq "$rc" 0 "B commits after A died ($out)"
gb=$(committed_gen "$out")
t_ok $([ -n "$gb" ] && [ "$gb" -gt $((g + 1)) ] && echo 0 || echo 1) \
    "B's generation ($gb) is above the one A left on a replica ($((g + 1)))"
stop_head B KILL
start_head A && start_head B && both_up; t_ok $? "both heads restarted"
wait_until 10 both_gen "$(gen_of A)"
exports_of A | grep -qx "$T_DIR/data0/c"; t_ok $? "A has B's acknowledged change"
exports_of B | grep -qx "$T_DIR/data0/c"; t_ok $? "B has it too"
t_eq "$(gen_of B)" "$(gen_of A)" "both heads on one generation"
wait_until 10 replicas_agree A; t_ok $? "every replica agrees ($(replica_gens A))"

# (b) B's disk is full while A commits d and e; A dies; B (still full)
#     becomes the master and commits f
fill_ctcm B; t_ok $? "B's state directory is full"
t_cmd "commit d with B full" cli A export add "$T_DIR/data0/d"
t_cmd "commit e with B full" cli A export add "$T_DIR/data0/e"
ge=$(gen_of A)
stop_head A KILL
wait_until 20 is_master B; t_ok $? "B took over with a stale local copy"
out=$(cli B export add "$T_DIR/data0/f" 2>&1); rc=$?
t_eq "$rc" 0 "B's commit is acknowledged ($out)"
gf=$(committed_gen "$out")
t_ok $([ -n "$gf" ] && [ "$gf" -gt "$ge" ] && echo 0 || echo 1) \
    "numbered above A's last generation ($gf > $ge)"
want=$(printf '%s\n' a c d e f | sed "s|^|$T_DIR/data0/|" | sort)
t_eq "$(exports_of B | grep -v "/b$" | tr '\n' ' ')" "$(echo "$want" | tr '\n' ' ')" \
    "B built it on the newest committed generation (d and e kept)"
free_ctcm B
start_head A && pair_up; t_ok $? "A back (as the slave: B was alone)"
wait_until 20 both_gen "$gf"; t_ok $? "both heads at $gf"
t_eq "$(exports_of A | grep -v "/b$" | tr '\n' ' ')" "$(echo "$want" | tr '\n' ' ')" \
    "A has every acknowledged change"
wait_until 10 stamp_is B "$gf"; t_ok $? "B installed it locally once space returned"
t_done

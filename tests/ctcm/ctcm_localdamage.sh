#!/bin/bash
# Findings 8, 10 and 11 of issue 10: damaged local copies and lagging
# replicas are repaired without waiting for the next commit.
# 8: the current history bundle of a head is damaged: boot notices it and
#    restores it; the head shows its configuration and can commit.
# 11: duonas.conf no longer parses: the daemon finds its state and LUNs
#    through the last committed copy and restores the file.
# 10: the master dies after writing a commit to one replica: the new
#    master repairs the replicas left behind, with no further commit.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_localdamage
ctcm_cluster
for d in a b c; do mkdir -p "$T_DIR/data0/$d"; done
start_head A && start_head B && both_up; t_ok $? "cluster up"
t_cmd "first commit" cli A export add "$T_DIR/data0/a"
g=$(gen_of A)
flipbyte() { printf '\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# 8
stop_head B
flipbyte "$T_DIR/B/state/ctcm/history/$g.bundle" 40
start_head B && both_up; t_ok $? "B restarts with its current history bundle damaged"
cli B config show | grep -q "^generation: *$g "; t_ok $? "B shows generation $g"
cli B config export >/dev/null 2>&1; t_ok $? "config export works on B"
grep -q "history bundle of generation $g" "$T_DIR/B.log"; t_ok $? "B logged the damaged bundle"

# 11
stop_head B
cp "$T_DIR/duonas.conf" "$T_DIR/good.conf"
printf 'head A {\n  id 1\n' >"$T_DIR/duonas.conf"
start_head B; t_ok $? "B starts although duonas.conf does not parse"
both_up; t_ok $? "B is the slave again"
cmp -s "$T_DIR/duonas.conf" "$T_DIR/good.conf"; t_ok $? "duonas.conf restored"
grep -q "restored.*duonas.conf" "$T_DIR/B.log"; t_ok $? "B logged which file it restored"

# 10
wait_until 10 replicas_agree A; t_ok $? "replicas settled"
cli A config fault 1 crash >/dev/null
cli A export add "$T_DIR/data0/b" >/dev/null 2>&1
wait_until 20 is_master B; t_ok $? "B took over"
wait_until 15 replicas_agree B
t_ok $? "the new master repaired the replicas left behind ($(replica_gens B))"
rg=$(replica_gens B | cut -d' ' -f1)
t_eq "$(gen_of B)" "$rg" "B serves the generation the replicas hold"
t_cmd "B commits" cli B export add "$T_DIR/data0/c"
t_done

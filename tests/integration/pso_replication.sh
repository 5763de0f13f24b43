#!/bin/bash
# Two real heads on loopback: an object written on A is read on B and
# back; volatile vs persistent objects across restarts; status output.
. "$(dirname "$0")/../lib.sh"
t_init pso_replication
mk_cluster 1
start_head A; t_ok $? "head A starts"
start_head B; t_ok $? "head B starts"
both_up; t_ok $? "A is DAC(master), B is DAC(slave), both in sync"

t_cmd "set x on A" cli A pso set x hello
t_eq "$(cli B pso get x)" "hello" "B reads what A wrote"
t_cmd "set x on B" cli B pso set x world
t_eq "$(cli A pso get x)" "world" "A reads what B wrote"
t_eq "$(cli A pso get x --json | grep -o '"version":[0-9]*')" '"version":3' \
    "create + two writes: version 3"
t_cmd "create volatile v on B" cli B pso set v scratch --volatile
t_cmd "create persistent p on A" cli A pso set p keep
cli A pso ls >"$T_DIR/ls.out"
grep -q '^p ' "$T_DIR/ls.out" && grep -q '^v .* vol ' "$T_DIR/ls.out"
t_ok $? "pso ls on A lists p and v (volatile)"
cli A pso ls --json | grep -q '"name":"x"'
t_ok $? "pso ls --json"
t_cmd "rm p on B" cli B pso rm p
cli A pso get p >/dev/null 2>&1
t_eq "$?" 1 "p is gone on A too"
cli A pso get p 2>&1 | grep -q "no such object"
t_ok $? "missing object error names the problem"

out=$(cli A status)
echo "$out" | grep -q "^state: *DAC(master)" &&
    echo "$out" | grep -q "peer: *B (node 2): alive" &&
    echo "$out" | grep -q "^pso: .* in sync"
t_ok $? "status shows role, peer and PSO counts"
cli B status --json | grep -q '"configured_role":"slave"'
t_ok $? "status --json on B"

# restart B alone: persistent objects stay, peer sees it come back
stop_head B
t_cmd "A keeps working while B is down" cli A pso set x alone
start_head B; both_up; t_ok $? "B rejoins"
t_eq "$(cli B pso get x)" "alone" "B resynced the write made while it was down"
t_eq "$(cli B pso get v)" "scratch" "volatile value survives a single-head restart"

# cold start of the whole cluster: volatile emptied, persistent kept
stop_head A; stop_head B
start_head A; start_head B; both_up; t_ok $? "cluster cold start"
t_eq "$(cli A pso get x)" "alone" "persistent object survives a cold start"
t_eq "$(cli B pso get v)" "" "volatile object emptied by the cold start"
cli B pso get v --json | grep -q '"size":0,.*"value":""'
t_ok $? "an empty value in --json (no copy from a missing buffer)"
t_done

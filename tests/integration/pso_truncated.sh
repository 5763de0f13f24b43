#!/bin/bash
# Finding 3 of issue 10: a truncated data.mdb (LMDB maps the file, so a
# file shorter than its meta pages claim used to kill the daemon with
# SIGBUS).  The daemon must start, say the store is damaged (PSO_CORRUPT
# on every pso command and in status) while no peer can give it the
# objects back, move the damaged file aside, and recover from the peer.
. "$(dirname "$0")/../lib.sh"
t_init pso_truncated
mk_cluster 1
start_head A; start_head B; both_up; t_ok $? "cluster up"
t_cmd "1000 objects" cli A pso fill obj 1000 --size 200
t_cmd "set x" cli A pso set x keep
stop_head A; stop_head B
size=$(stat -c %s "$T_DIR/A/state/pso/data.mdb")
truncate -s 16384 "$T_DIR/A/state/pso/data.mdb"
t_ok $? "A's data.mdb truncated from $size to 16384 bytes"

# Alone: A must come up, refuse PSO with the corruption error, not crash.
start_head A; t_ok $? "A starts with a truncated store"
sleep 2
kill -0 "$PID_A" 2>/dev/null; t_ok $? "A is still running (no SIGBUS)"
out=$(cli A pso get x 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "damaged"
t_ok $? "pso get answers the corruption error: $out"
out=$(cli A pso set y 1 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "damaged"
t_ok $? "pso set refuses too: $out"
cli A status | grep -q "^pso: .*damaged"
t_ok $? "status says the store is damaged: $(cli A status | grep '^pso:')"
ls "$T_DIR/A/state/pso/" | grep -q "data.mdb.damaged"
t_ok $? "the damaged file was moved aside"
grep -q "pso: .*data.mdb.*shorter\|pso: .*data.mdb.*damaged" "$T_DIR/A.log"
t_ok $? "the log names the file and the problem"

# The peer comes back: A recovers everything from it.
start_head B; both_up; t_ok $? "B starts, both in sync"
t_eq "$(cli A pso get x 2>&1)" keep "A has x back from B"
t_eq "$(cli A pso get obj999 2>&1 | head -c 5)" fffff "A has obj999 back"
n=$(cli A pso ls | grep -c '^obj')
t_eq "$n" 1000 "A lists all 1000 objects"
t_cmd "A writes again" cli A pso set x new
t_eq "$(cli B pso get x)" new "B sees A's write"

# A truncated store with the peer up: recovery without any waiting.
stop_head A
truncate -s 12000 "$T_DIR/A/state/pso/data.mdb"
start_head A
wait_until 20 pso_synced A && wait_until 20 pso_synced B
t_ok $? "A restarts on a store cut mid-page and resyncs at once (B kept serving)"
t_eq "$(cli A pso get x 2>&1)" new "A has the latest x"
t_done

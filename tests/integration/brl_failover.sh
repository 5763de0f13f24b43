#!/bin/bash
# The cluster byte-range lock table (docs/locks.md) between two real
# daemons, through `duonas locks` (protocol admin, no NFS client needed):
# a lock taken on one head conflicts on the other; waiters granted in
# order, a grant confirmed, refused (the range goes to the next waiter)
# or left to the other head; kill -9 of the arbiter -> the survivor still
# refuses a conflicting lock at once and the holder can release; the
# killed head returns and copies the table, no grace; a master move keeps
# everything; a 20000-lock table is copied in chunks; both heads
# restarted together -> grace period, reclaims accepted, new locks refused
# until it ends.
. "$(dirname "$0")/../lib.sh"
t_init brl_failover
mk_cluster 1 "nlm {
  grace-period 4
}"
start_head A; start_head B; both_up; t_ok $? "cluster up"

brl_ready() { cli "$1" status --json 2>/dev/null | grep -q '"locks":{"ready":true'; }
in_grace() { cli "$1" locks 2>/dev/null | grep -q "grace period"; }
wait_until 10 brl_ready A && wait_until 10 brl_ready B
t_ok $? "lock table ready on both heads"
in_grace A; t_ok $? "the first start of the cluster is a cold start: grace"
wait_until 10 sh -c "! '$DUONAS' -s '$(sock_of B)' locks | grep -q 'grace period'"
t_ok $? "the grace period ends"

F="7 0a0b0c0d"
t_eq "$(cli A locks take $F c1 0 100 excl 2>&1)" "granted" \
    "client c1 locks 0+100 through the arbiter (A)"
out=$(cli B locks take $F c2 50 10 shared 2>&1)
echo "$out" | grep -q "^denied by admin c1 svid=0 0+100 excl"
t_ok $? "c2 on B is refused and told the holder: $out"
out=$(cli B locks try $F c2 50 10 shared 2>&1)
echo "$out" | grep -q "^denied"
t_ok $? "B's local copy already has the lock (try): $out"
t_eq "$(cli B locks take $F c2 200 0 excl 2>&1)" "granted" \
    "c2 locks 200..EOF from B (forwarded): no overlap"
cli B locks | grep -q "7 00:0a0b0c0d admin c1 svid=0 0+100 excl held"
t_ok $? "duonas locks on B lists c1's lock"
cli A locks | grep -q "admin c2 svid=0 200+0(eof) excl held"
t_ok $? "duonas locks on A lists c2's lock taken through B"
t_eq "$(cli A locks take 7 00:0a0b0c0d c9 0 1 shared 2>&1 | cut -d' ' -f1-4)" \
    "denied by admin c1" "the handle as listed (TT:hex) names the same file"
t_eq "$(cli A locks take 7 01:0a0b0c0d c9 0 1 shared 2>&1)" "granted" \
    "another handle type is another file"
cli A locks clear --client c9 >/dev/null
t_eq "$(cli A locks take $F c1 50 300 excl 2>&1 | cut -d' ' -f1-4)" \
    "denied by admin c2" "c1 extending into c2's range is refused"

# a waiter queued from B is granted (FIFO) when the holder releases on A
t_eq "$(cli B locks take $F c3 0 10 excl --wait 2>&1 | cut -d' ' -f1)" \
    "blocked" "c3 queues a waiter behind c1"
cli A locks | grep -q "admin c3 svid=0 0+10 excl waiting"
t_ok $? "the waiter is in A's copy"
t_eq "$(cli A locks release $F c1 0 100 2>&1)" "granted" "c1 releases"
cli B locks | grep -Eq "admin c3 svid=0 0\+10 excl (grant-pending|held)"
t_ok $? "c3's waiter became a lock on both heads"
wait_until 5 sh -c "'$DUONAS' -s '$(sock_of A)' locks | grep -q 'admin c3 svid=0 0+10 excl held'" &&
wait_until 5 sh -c "'$DUONAS' -s '$(sock_of B)' locks | grep -q 'admin c3 svid=0 0+10 excl held'"
t_ok $? "the grant is confirmed (GRANT_DONE replicated to both heads)"

# the client refuses the grant: the lock goes again, to the next waiter
t_eq "$(cli B locks take $F c5 0 10 excl --wait 2>&1 | cut -d' ' -f1)" \
    "blocked" "c5 waits behind c3"
t_eq "$(cli A locks take $F c6 0 10 shared --wait 2>&1 | cut -d' ' -f1)" \
    "blocked" "c6 waits behind c5"
cli A locks grant-answer notmine c5 >/dev/null && cli B locks grant-answer notmine c5 >/dev/null
t_eq "$(cli A locks release $F c3 0 10 2>&1)" "granted" "c3 releases"
sleep 0.5
cli A locks | grep -q "admin c5 svid=0 0+10 excl grant-pending"
t_ok $? "c5's grant stays pending while no head announces it (notmine)"
cli A locks grant-answer refused c5 >/dev/null && cli B locks grant-answer refused c5 >/dev/null
wait_until 8 sh -c "'$DUONAS' -s '$(sock_of B)' locks | grep -q 'admin c6 svid=0 0+10 shared held'"
t_ok $? "c5 refused its grant (rechecked within 5 s): c6 got the range and confirmed it"
cli B locks | grep -q "admin c5"
t_eq $? 1 "c5 holds nothing on B"
cli A locks | grep -q "admin c5"
t_eq $? 1 "nor on A"
cli A locks grant-answer done >/dev/null && cli B locks grant-answer done >/dev/null
cli B locks clear --client c6 >/dev/null

# kill -9 of the arbiter: the survivor inherits every lock, no grace
cli B locks clear --client c3 >/dev/null
t_eq "$(cli B locks take $F c1 0 100 excl 2>&1)" "granted" "c1 locks again (from B)"
stop_head A KILL
t0=$(date +%s%N)
out=$(cli B locks take $F c2 10 10 shared 2>&1)
t1=$(date +%s%N)
echo "$out" | grep -q "^denied by admin c1"
t_ok $? "after kill -9 of the arbiter, B refuses c2 at once: $out"
echo "# conflicting lock answered $(( (t1 - t0) / 1000000 )) ms after the kill"
wait_until 5 is_state B DEGRADED; t_ok $? "B DEGRADED"
in_grace B; t_eq $? 1 "no grace period after a takeover"
t_eq "$(cli B locks release $F c1 0 100 2>&1)" "granted" "c1 can release on the survivor"
t_eq "$(cli B locks take $F c2 10 10 shared 2>&1)" "granted" "then c2 gets its lock"
cli B status | grep -q "^locks: .*ready, arbiter"
t_ok $? "B is the arbiter"

start_head A
wait_until 20 brl_ready A; t_ok $? "A returns and its table is ready"
cli A locks | grep -q "admin c2 svid=0 10+10 shared held"
t_ok $? "A copied the table from B"
in_grace A; t_eq $? 1 "no grace period on the returning head"
grep -q "brl: copying the lock table from the peer" "$T_DIR/A.log"
t_ok $? "A logged the copy"
t_eq "$(cli A locks take $F c4 15 1 excl 2>&1 | cut -d' ' -f1-3)" \
    "denied by admin" "A refuses a conflict with a lock taken while it was down"

# the master role moves: the table stays, no grace, A arbitrates
wait_until 10 is_state A 'DAC(slave)'; t_ok $? "A rejoined as slave"
t_cmd "master move to A" cli B master move
wait_until 5 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -q '^locks: .*ready, arbiter'"
t_ok $? "A arbitrates after the master move"
t_eq "$(cli B locks take $F c4 15 1 excl 2>&1 | cut -d' ' -f1-3)" \
    "denied by admin" "the lock taken under B's arbitration still conflicts"
in_grace B; t_eq $? 1 "no grace period after a master move"

# a large table (several BRL_SYNC chunks) reaches a returning head
t_cmd "20000 locks on 20000 files" cli A locks fill 9 bulk 20000
stop_head B KILL
start_head B
wait_until 30 brl_ready B; t_ok $? "B returns and copies the table"
t_eq "$(cli B status --json | grep -o '"locks":{[^}]*' | grep -o '"locks":[0-9]*' | tail -1)" \
    '"locks":20002' "B holds all 20002 locks"
t_eq "$(cli B locks take 9 00004e1f other 0 1 shared 2>&1 | cut -d' ' -f1-3)" \
    "denied by admin" "the last file's lock is there"
t_eq "$(cli B locks clear --client bulk)" "20000 entries released" \
    "clear --client from the non-arbiter"
t_eq "$(cli A status --json | grep -o '"locks":{[^}]*' | grep -o '"locks":[0-9]*' | tail -1)" \
    '"locks":2' "A's copy has the release too"

# kill -9 of the head that does not arbitrate: the arbiter goes on alone
wait_until 10 sh -c "'$DUONAS' -s '$(sock_of A)' status | grep -q '^locks: .*ready, arbiter'"
stop_head B KILL
t0=$(date +%s%N)
out=$(cli A locks take $F c7 30 1 excl 2>&1)
t1=$(date +%s%N)
t_eq "$out" "granted" "with the other head killed, the arbiter grants alone"
echo "# lock granted $(( (t1 - t0) / 1000000 )) ms after the kill of the other head"
start_head B
wait_until 20 brl_ready B; t_ok $? "B returns"
cli B locks | grep -q "admin c7 svid=0 30+1 excl held"
t_ok $? "B copied the lock granted while it was down"

# both heads down: a cold start with a grace period
stop_head A KILL; stop_head B KILL
start_head A; start_head B; both_up; t_ok $? "cluster restarted cold"
wait_until 10 brl_ready A && wait_until 10 brl_ready B
t_ok $? "tables ready"
in_grace A; t_ok $? "A in the grace period"
in_grace B; t_ok $? "B in the grace period too (copied from A)"
t_eq "$(cli B locks take $F c5 0 1 excl 2>&1)" "grace" "a new lock is refused in grace"
t_eq "$(cli B locks try $F c5 0 1 excl 2>&1)" "grace" "a test answers grace"
t_eq "$(cli B locks take $F c2 10 10 shared --reclaim 2>&1)" "granted" \
    "a reclaim is accepted"
wait_until 10 sh -c "! '$DUONAS' -s '$(sock_of A)' locks | grep -q 'grace period'"
t_ok $? "the grace period ends"
t_eq "$(cli B locks take $F c5 0 1 excl 2>&1)" "granted" "new locks are granted afterwards"
t_eq "$(cli A locks take $F c5 12 1 excl 2>&1 | cut -d' ' -f1-3)" "denied by admin" \
    "and the reclaimed lock conflicts"
t_eq "$(grep -c "brl: cluster cold start" "$T_DIR/A.log")" 2 \
    "A logged a cold start at each cluster start, not at its return"
t_done

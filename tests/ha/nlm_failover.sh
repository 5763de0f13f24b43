#!/bin/bash
# nlm_failover.sh — NLM locks survive a takeover and a giveback with no
# grace period (issue 11).  Two NLM clients in the client namespace
# (tests/nfs/nlmtool, caller names client1 and client2), files of LUN la
# (home A) through A's service IP.
#
# 1. kill -9 A.  Before: client 1 holds exclusive locks on f1 and f2;
#    client 2's non-blocking lock on f1 is DENIED; client 2 queues a
#    blocking lock on f2 (BLOCKED), waiting for the GRANTED callback on
#    its own portmapper (nlm callback-portmap-port).  After B took la
#    over: client 2's lock on f1 is DENIED at once (not
#    DENIED_GRACE_PERIOD, no reclaim by anybody), TEST names client 1's
#    lock, client 1 unlocks, then client 2 gets it.  Client 1 unlocks f2:
#    B calls client 2 back (GRANTED) and the lock is client 2's.
# 2. A restarts: the coordinated giveback returns la to A; a lock client
#    1 took on B is still enforced on A, client 1 can unlock it; client 3
#    (locked on B) reboots: its SM_NOTIFY to A frees its locks, not
#    client 1's.
# 3. The maintenance moves `duonas takeover` and `duonas giveback` (run
#    on the master) move the other head's LUN to the master and back; a
#    lock taken before stays enforced after each move.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
. "$(dirname "$0")/nlmlib.sh"

t_init ha_nlm_failover
ha_require
nlm_require
ha_pair_prepare directory "directory pool and configuration prepared"
nlm_conf
ha_pair_start 60

# the first start of the pair is a cold start: its grace period first
nlm_wait_grace_end "$NS_VIP_A" la $((NLM_GRACE + 20))
t_ok $? "the cold start's grace period ($NLM_GRACE s) ended"
VA=$NS_VIP_A

# ---- 1. kill -9 of the serving head ----
nlm_expect "client 1 locks f1" granted client1 101 "$VA" la f1 lock 0 0 x
nlm_expect "client 1 locks f2" granted client1 101 "$VA" la f2 lock 0 0 x
nlm_expect "client 2's conflicting lock on f1 is refused" denied \
    client2 202 "$VA" la f1 lock 0 100 x
nlm_bg_start BLK client2 203 "$VA" la f2 lock 0 0 x block wait-granted 60000 \
    test 0 0 x
wait_until 10 grep -q '^lock=' "$T_DIR/BLK.out"
t_eq "$(sed -n 's/^lock=\([a-z_]*\).*/\1/p' "$T_DIR/BLK.out")" blocked \
    "client 2's blocking lock on f2 is queued (BLOCKED)"

t0=$(date +%s%3N)
ha_kill A KILL
t_ok $? "head A killed (kill -9)"
wait_until 20 ha_serving B la
t_ok $? "B serves la ($(( $(date +%s%3N) - t0 )) ms after the kill)"
nlm_expect "after the takeover client 2's conflicting lock on f1 is refused \
(DENIED, no grace period)" denied client2 202 "$VA" la f1 lock 0 100 x
ms=$(nlm_ans ms)
[ "$(nlm_ans lock)" = denied ] && [ -n "$ms" ] && [ "$ms" -le 3000 ]
t_ok $? "refused at once: answered $ms ms after the call (bound 3000 ms; \
$(( $(date +%s%3N) - t0 )) ms after the kill)"
nlm_expect "TEST on the survivor finds a conflict" denied \
    client2 202 "$VA" la f1 test 0 100 x
t_eq "$(nlm_ans holder_svid)" 101 "the holder is client 1's svid 101"
nlm_expect "client 1 still unlocks f1 on the survivor" granted \
    client1 101 "$VA" la f1 unlock 0 0
nlm_expect "then client 2 gets f1" granted client2 202 "$VA" la f1 lock 0 100 x
nlm_expect "client 2 unlocks f1" granted client2 202 "$VA" la f1 unlock 0 100

nlm_expect "client 1 unlocks f2 (client 2 waits for it)" granted \
    client1 101 "$VA" la f2 unlock 0 0
wait_until 30 _ha_gone "$BLK"
t_ok $? "client 2's blocking client finished"
_ha_gone "$BLK" || kill "$BLK"
wait "$BLK"
rc=$?
sed 's/^/# blk: /' "$T_DIR/BLK.out"
grep -q '^granted=callback' "$T_DIR/BLK.out" && [ $rc -eq 0 ]
t_ok $? "the survivor called client 2 back: GRANTED (exit $rc)"
_ha_forget_pid "$BLK"
nlm_expect "f2 is client 2's now (client 1's TEST)" denied \
    client1 101 "$VA" la f2 test 0 0 x
t_eq "$(nlm_ans holder_svid)" 203 "the holder is client 2's svid 203"
nlm_expect "client 2 unlocks f2" granted client2 203 "$VA" la f2 unlock 0 0

# ---- 2. the giveback after A's restart ----
nlm_expect "client 1 locks f3 (on B)" granted \
    client1 101 "$VA" la f3 lock 10 10 s
nlm_expect "client 3 locks f5 (on B)" granted client3 301 "$VA" la f5 lock 0 0 x
nlm_expect "client 1 locks f6 (on B)" granted client1 101 "$VA" la f6 lock 0 0 x
ha_start A
t_ok $? "A restarted"
ha_wait_home 60
nlm_expect "after the giveback client 2's exclusive lock on f3 is refused" \
    denied client2 202 "$VA" la f3 lock 0 0 x
nlm_expect "client 2's shared lock overlapping it (shared) is granted" granted \
    client2 202 "$VA" la f3 lock 15 10 s
nlm_expect "client 1 unlocks f3 on A" granted client1 101 "$VA" la f3 unlock 0 0
nlm_expect "client 2 now gets [0, 15) exclusive" granted \
    client2 202 "$VA" la f3 lock 0 15 x
nlm_expect "client 2 unlocks f3" granted client2 202 "$VA" la f3 unlock 0 0
# client 3 reboots: its SM_NOTIFY to A frees the lock it took on B, and
# only its locks
nlm_expect "client 2's lock on f5 is refused (client 3 holds it)" denied \
    client2 202 "$VA" la f5 lock 0 0 x
nlm_expect "client 3 rebooted: SM_NOTIFY (state 3)" sent \
    client3 301 "$VA" la f5 notify 3
nlm_expect "client 3's lock on f5 is gone: client 2 gets it" granted \
    client2 202 "$VA" la f5 lock 0 0 x
nlm_expect "client 1's lock on f6 is still there" denied \
    client2 202 "$VA" la f6 lock 0 0 x
nlm_expect "client 1 unlocks f6" granted client1 101 "$VA" la f6 unlock 0 0

# ---- 3. duonas takeover / giveback ----
wait_until 30 ha_dual_active
t_ok $? "dual active ($(ha_state A), $(ha_state B))"
# the master takes over the other head's LUN
if ha_is_state A 'DAC(master)'; then
	M=A L=lb V=$NS_VIP_B
else
	M=B L=la V=$NS_VIP_A
fi
nlm_expect "client 1 locks f4 on $L" granted client1 101 "$V" "$L" f4 lock 0 0 x
out=$(HA_CLI_TIMEOUT=40 ha_cli "$M" takeover 2>&1)
t_ok $? "duonas takeover on $M: $(echo "$out" | tr '\n' ' ')"
ha_serving "$M" "$L"
t_ok $? "$M serves $L"
nlm_expect "after the takeover client 2's lock on f4 is refused" denied \
    client2 202 "$V" "$L" f4 lock 0 0 x
out=$(HA_CLI_TIMEOUT=40 ha_cli "$M" giveback 2>&1)
t_ok $? "duonas giveback on $M: $(echo "$out" | tr '\n' ' ')"
ha_wait_home 30
nlm_expect "after the giveback client 2's lock on f4 is still refused" denied \
    client2 202 "$V" "$L" f4 lock 0 0 x
nlm_expect "client 1 unlocks f4" granted client1 101 "$V" "$L" f4 unlock 0 0
nlm_expect "client 2 gets f4" granted client2 202 "$V" "$L" f4 lock 0 0 x
t_done

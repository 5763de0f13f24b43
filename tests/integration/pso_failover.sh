#!/bin/bash
# kill -9 of the lock holder's head releases its locks on the survivor;
# writes continue on the survivor; the restarted head resyncs every write.
. "$(dirname "$0")/../lib.sh"
t_init pso_failover
mk_cluster 1
start_head A; start_head B; both_up; t_ok $? "cluster up"

t_cmd "B takes the lock on obj" sh -c "'$DUONAS' -s '$(sock_of B)' pso set obj v0 && '$DUONAS' -s '$(sock_of B)' pso lock obj --owner b"
cli A pso lock obj --owner a --timeout 200 >/dev/null 2>&1
t_eq "$?" 1 "A cannot lock obj while B holds it"
stop_head B KILL
t_cmd "after kill -9 of B, A gets the lock (released by the survivor)" \
    cli A pso lock obj --owner a --timeout 5000
wait_until 5 is_state A DEGRADED; t_ok $? "A reports DEGRADED"
for i in $(seq 1 30); do cli A pso set "k$i" "v$i" || break; done
t_ok $? "30 writes on the survivor while the peer is down"
t_cmd "write obj under A's lock" cli A pso set obj v1 --owner a
t_cmd "A unlocks obj" cli A pso unlock obj --owner a

start_head B; both_up; t_ok $? "B restarts and rejoins as slave"
miss=0
for i in $(seq 1 30); do
	[ "$(cli B pso get "k$i")" = "v$i" ] || miss=$((miss + 1))
done
t_eq "$miss" 0 "B has every write made while it was down"
t_eq "$(cli B pso get obj)" "v1" "B has the write made under the inherited lock"
grep -q "pso: resync" "$T_DIR/B.log"
t_ok $? "B logged its resync"

# the master dies: the slave takes over arbitration
t_cmd "A locks obj again" cli A pso lock obj --owner a2
stop_head A KILL
wait_until 5 is_state B DEGRADED; t_ok $? "B becomes master (DEGRADED) when A dies"
t_cmd "B gets A's lock after A died" cli B pso lock obj --owner b2 --timeout 5000
t_cmd "B writes" cli B pso set obj v2 --owner b2
start_head A
wait_until 20 pso_synced A
t_eq "$(cli A pso get obj)" "v2" "A resyncs from B when it returns"
wait_until 10 is_state A 'DAC(slave)'
t_ok $? "returning A joins B as slave (B keeps master)"
t_done

#!/bin/bash
# stale_ip.sh — service IPs never linger on a dead or restarted head.
#
# 1. kill -9 A: its kernel keeps 192.0.2.10 on eth0 (nothing in the dead
#    daemon can remove it); `duonasd -R` (what duonasd.service runs as
#    ExecStopPost) removes it, and only the configured service IPs.
# 2. kill -9 A again (now the slave, holding its IP) and restart it at
#    once: the new daemon removes the stale 192.0.2.10 before anything
#    else, instead of keeping it ("already on eth0"), so the kernels of
#    both heads never hold 192.0.2.10 at the same time while B takes it
#    over; the giveback then brings it back to A.
# A writer through each IP loses nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_stale_ip
ha_require
ha_pair_up directory
ha_writers_start 50 20 -T 1000
t_ok $? "writers running"

# ---- 1. ExecStopPost after a kill ----
ns_exec a ip addr add 198.51.100.7/32 dev eth0
ha_kill A KILL
ns_has_addr a "$NS_VIP_A"
t_ok $? "the killed A's kernel still has $NS_VIP_A"
ns_exec a "$DUONASD" -c "$T_DIR/duonas.conf" -R >"$T_DIR/R.out" 2>&1
t_ok $? "duonasd -R exit 0 ($(tail -n 1 "$T_DIR/R.out"))"
! ns_has_addr a "$NS_VIP_A" && ns_has_addr a 198.51.100.7
t_ok $? "-R removed $NS_VIP_A and left the unrelated 198.51.100.7"
ns_exec a ip addr del 198.51.100.7/32 dev eth0
wait_until 20 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A"'
t_ok $? "B took la and $NS_VIP_A over"
ha_start A
wait_until 30 _ha_home
t_ok $? "A restarted and got la and $NS_VIP_A back"

# ---- 2. fast restart of a killed head ----
# (A, the slave now: the restart of a killed acting master is the state
# machine's own regression test)
ns_has_addr a "$NS_VIP_A"
t_ok $? "A holds $NS_VIP_A"
(
	for ((i = 0; i < 400; i++)); do
		[ -e "$T_DIR/sampler.stop" ] && break
		a=0 b=0
		ns_has_addr a "$NS_VIP_A" && a=1
		ns_has_addr b "$NS_VIP_A" && b=1
		echo "$(date +%s%3N) $a $b"
		sleep 0.02
	done
) >"$T_DIR/kernel.txt" &
sampler=$!
T_PIDS+=("$sampler")
ha_kill A KILL
ha_start A
wait_until 10 grep -q "removed service ip $NS_VIP_A/24 from eth0" "$T_DIR/A.log"
t_ok $? "the restarted A removed the stale $NS_VIP_A first"
n_start=$(grep -n "test: starting A" "$T_DIR/A.log" | tail -n 1 | cut -d: -f1)
! tail -n +"$n_start" "$T_DIR/A.log" | grep -q "already on"
t_ok $? "A never found a service IP already on its interface"
wait_until 30 _ha_home
t_ok $? "giveback: A serves la and holds $NS_VIP_A again"
touch "$T_DIR/sampler.stop"
wait_until 10 _ha_gone "$sampler"
both=$(awk '$2 == 1 && $3 == 1' "$T_DIR/kernel.txt" | wc -l)
[ "$both" -eq 0 ] && [ "$(wc -l <"$T_DIR/kernel.txt")" -gt 5 ]
t_ok $? "the kernels of A and B never held $NS_VIP_A together \
($(wc -l <"$T_DIR/kernel.txt") samples, $both with both, $(awk '$3 == 1' "$T_DIR/kernel.txt" | wc -l) with B holding it)"
ha_wait_acks wa 30 20 && ha_wait_acks wb 30 20
t_ok $? "both writers progressing"
for w in wa wb; do
	ha_writer_stop $w
	t_ok $? "writer $w ran to the end"
done
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

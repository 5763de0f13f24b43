#!/bin/bash
# A head that was down while 100 000 objects were written resyncs them
# all in seconds, logging progress.  State on tmpfs so the fill is quick;
# the resync itself is what is timed.
. "$(dirname "$0")/../lib.sh"
t_init pso_resync_large
COUNT=${PSO_RESYNC_COUNT:-100000}
mk_cluster 1
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/duonas-resync.XXXXXX)
	T_CLEANUP_CMDS+=("rm -rf '$shm'")
	sed -i "s#\"$T_DIR/\([AB]\)/state\"#\"$shm/\1\"#" "$T_DIR/duonas.conf"
fi
start_head A
wait_until 10 is_state A DEGRADED; t_ok $? "A alone (DEGRADED)"
t_cmd "fill $COUNT objects on A" timeout 600 "$DUONAS" -s "$(sock_of A)" pso fill obj "$COUNT"
cat "$T_DIR/last.out"
t0=$(date +%s%N)
start_head B
wait_until 120 pso_synced B; t_ok $? "B resynced"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# resync of $COUNT objects took $ms ms (B start to synced)"
[ "$ms" -lt 30000 ]; t_ok $? "resync of $COUNT objects within 30 s ($ms ms)"
t_eq "$(cli B pso get "obj$((COUNT - 1))" | wc -c)" 33 "last object present on B"
n=$(cli B pso ls | grep -c '^obj')
t_eq "$n" "$COUNT" "B lists all $COUNT objects"
grep -q "pso: resync .*[0-9]" "$T_DIR/B.log"; t_ok $? "progress lines logged"
grep "pso: resync" "$T_DIR/B.log" | tail -n 3 | sed 's/^/# /'
t_done

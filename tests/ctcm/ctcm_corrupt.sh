#!/bin/bash
# Corruption: flipped bytes in a head's local database are repaired from
# the array at power-up; one corrupt replica is ignored and rewritten by
# the next commit; everything corrupt -> MONITOR with a clear status, and
# `duonas config import FILE` on that head restores service.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_corrupt
ctcm_cluster
mkdir -p "$T_DIR/data0/e"
start_head A && start_head B && both_up; t_ok $? "cluster up"
t_cmd "export add" cli A export add "$T_DIR/data0/e"
g=$(gen_of A)
cli A config export "$T_DIR/backup.txt" >/dev/null

flipbyte() {	# flipbyte FILE OFFSET
	printf '\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# 1. local database of B corrupt -> restored from the array at boot
stop_head B
flipbyte "$T_DIR/B/state/ctcm/stamp" 3
start_head B && both_up; t_ok $? "B restarts with a corrupt stamp"
t_eq "$(gen_of B)" "$g" "B restored generation $g"
grep -q "restored generation $g" "$T_DIR/B.log"; t_ok $? "B logged what and why"

# 2. one replica (both slots) corrupt -> others used, rewritten next commit
stop_head A; stop_head B
flipbyte "$T_DIR/lun1.img" $((256 * 4096 + 8))
flipbyte "$T_DIR/lun1.img" $((1280 * 4096 + 8))
start_head A && start_head B && both_up; t_ok $? "heads start with one bad replica"
t_eq "$(gen_of A) $(gen_of B)" "$g $g" "the other replicas were used"
t_cmd "next commit" cli A export set "$T_DIR/data0/e" --options rw
g=$((g + 1))
t_eq "$(replica_gens A)" "$g $g $g" "the bad replica was rewritten"

# 3. everything corrupt -> MONITOR; import restores
stop_head A; stop_head B
for i in 0 1 2; do
	flipbyte "$T_DIR/lun$i.img" $((256 * 4096 + 8))
	flipbyte "$T_DIR/lun$i.img" $((1280 * 4096 + 8))
done
for h in A B; do
	flipbyte "$T_DIR/$h/state/ctcm/stamp" 3
	for f in "$T_DIR/$h/state/ctcm/history/"*.bundle; do flipbyte "$f" 40; done
done
start_head A; t_ok $? "A starts (admin socket) with nothing valid"
mon() { cli A config show --json | grep -q '"monitor":true'; }
wait_until 5 mon; t_ok $? "A is in MONITOR"
cli A config show | grep -q "MONITOR: no valid configuration anywhere"
t_ok $? "config show says why"
out=$(cli A export add "$T_DIR/data0/f" 2>&1); t_ok $([ $? -ne 0 ] && echo 0 || echo 1) "changes refused in MONITOR ($out)"
t_cmd "config import restores service" cli A config import "$T_DIR/backup.txt"
up() { cli A config show --json | grep -q '"monitor":false'; }
wait_until 15 up; t_ok $? "A restarted with the imported configuration"
start_head B
wait_until 20 is_state A 'DAC(master)' && wait_until 20 is_state B 'DAC(slave)'
t_ok $? "both heads serve again"
t_eq "$(gen_of B)" "$(gen_of A)" "B took the imported generation from the array"
t_done

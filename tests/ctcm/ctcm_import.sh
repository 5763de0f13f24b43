#!/bin/bash
# Finding 5 of issue 10: `config import` on a head in MONITOR continues
# the numbering above every generation seen anywhere (array, local
# history, peer), both heads leave MONITOR, and later commits work (the
# current generation's history is never pruned).
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_import
ctcm_cluster
for d in a b c x; do mkdir -p "$T_DIR/data0/$d"; done
start_head A && start_head B && both_up; t_ok $? "cluster up"
for d in a b c; do cli A export add "$T_DIR/data0/$d" >/dev/null; done
g=$(gen_of A)
t_eq "$g" 4 "generation 4 after three commits"
cli A config export "$T_DIR/backup.txt" >/dev/null

flipbyte() { printf '\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
stop_head A; stop_head B
for i in 0 1 2; do
	flipbyte "$T_DIR/lun$i.img" $((256 * 4096 + 8))
	flipbyte "$T_DIR/lun$i.img" $((1280 * 4096 + 8))
done
for h in A B; do
	flipbyte "$T_DIR/$h/state/ctcm/stamp" 3
	for f in "$T_DIR/$h/state/ctcm/history/"*.bundle; do flipbyte "$f" 40; done
done
start_head A && start_head B; t_ok $? "both heads start with nothing valid"
mon() { cli "$1" config show --json | grep -q '"monitor":true'; }
wait_until 5 mon A && wait_until 5 mon B; t_ok $? "both heads in MONITOR"

out=$(cli A config import "$T_DIR/backup.txt" 2>&1); rc=$?
t_eq "$rc" 0 "import on A ($out)"
gi=$(committed_gen "$out")
t_ok $([ -n "$gi" ] && [ "$gi" -gt "$g" ] && echo 0 || echo 1) \
    "imported as generation $gi, above everything seen ($g)"
wait_until 30 is_state A 'DAC(master)' && wait_until 30 is_state B 'DAC(slave)'
t_ok $? "both heads left MONITOR (A $(state_of A), B $(state_of B))"
wait_until 10 both_gen "$gi"; t_ok $? "both heads at the imported generation"
out=$(cli A export add "$T_DIR/data0/x" 2>&1); rc=$?
t_eq "$rc" 0 "the next commit works ($out)"
t_eq "$(committed_gen "$out")" $((gi + 1)) "as generation $((gi + 1))"
wait_until 10 both_gen $((gi + 1)); t_ok $? "the slave installed it"
cli A config history | grep -q "^\* *$((gi + 1)) "; t_ok $? "history shows it as current"
cli A config show >/dev/null; t_ok $? "config show works"
wait_until 10 replicas_agree A; t_ok $? "replicas agree ($(replica_gens A))"
t_done

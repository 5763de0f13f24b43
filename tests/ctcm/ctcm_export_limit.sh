#!/bin/bash
# One format, one parser (issue 10, finding 4): the NFS server serves at
# most 64 exports, and a configuration change is validated by the parser
# and limits that load it.  The 65th `duonas export add` is refused with a
# clear error (so is an import of 65), nothing is committed, both heads
# keep serving the 64 and still start after a restart.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_export_limit
ctcm_cluster
start_head A && start_head B && both_up; t_ok $? "cluster up"
wait_until 10 both_gen 1; t_ok $? "generation 1"

for i in $(seq 1 65); do mkdir -p "$T_DIR/data0/e$i"; done
# 63 exports in one import, the 64th with export add
cli A config export "$T_DIR/cfg.txt" >/dev/null
sed -i '/^%%file exports/q' "$T_DIR/cfg.txt"
for i in $(seq 1 63); do
	echo "$T_DIR/data0/e$i -id=$i *" >>"$T_DIR/cfg.txt"
done
t_cmd "import of 63 exports" cli A config import "$T_DIR/cfg.txt"
t_cmd "the 64th export add" cli A export add "$T_DIR/data0/e64"
g=$(gen_of A)
t_eq "$g" 3 "generation 3 committed"
nexp() { grep -c "^$T_DIR/data0/e" "$T_DIR/exports"; }
t_eq "$(nexp)" 64 "64 exports installed"

out=$(cli A export add "$T_DIR/data0/e65" 2>&1); rc=$?
[ $rc -ne 0 ]; t_ok $? "the 65th export add is refused (exit $rc)"
echo "$out" | grep -q "64 exports already: that is the maximum the NFS server serves"
t_ok $? "with a clear error: $out"
cp "$T_DIR/cfg.txt" "$T_DIR/cfg65.txt"
echo "$T_DIR/data0/e64 -id=64 *" >>"$T_DIR/cfg65.txt"
echo "$T_DIR/data0/e65 -id=65 *" >>"$T_DIR/cfg65.txt"
out=$(cli A config import "$T_DIR/cfg65.txt" 2>&1); rc=$?
[ $rc -ne 0 ]; t_ok $? "an import of 65 exports is refused (exit $rc)"
echo "$out" | grep -q "exports:65: too many exports (max 64)"
t_ok $? "naming the line and the limit: $out"
t_eq "$(gen_of A) $(gen_of B)" "$g $g" "nothing committed"
t_eq "$(nexp)" 64 "still 64 exports in the file"
serving() { [ "$(cli "$1" exports 2>/dev/null | grep -c "$T_DIR/data0/e")" -ge 64 ]; }
wait_until 10 serving A; t_ok $? "A serves the 64"
! grep -q "too many exports" "$T_DIR/A.log" "$T_DIR/B.log"
t_ok $? "no head logged 'too many exports'"

stop_head B; stop_head A
start_head A && start_head B && both_up; t_ok $? "both heads start again"
wait_until 10 serving A; t_ok $? "A serves the 64 after the restart"
t_cmd "export rm" cli A export rm "$T_DIR/data0/e1"
t_cmd "then an add fits again" cli A export add "$T_DIR/data0/e65"
t_eq "$(nexp)" 64 "64 exports"
t_done

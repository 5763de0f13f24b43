#!/bin/bash
# Crash injection at every step of a commit: the master (then the slave)
# dies right after the N-th write/fsync/rename/replica write of an
# `export set`; both heads are then killed and restarted.  They must agree
# on one generation, the old or the new one, with matching files, and no
# replica may be left unreadable.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_crash
ctcm_cluster
mkdir -p "$T_DIR/data0/e"
start_head A && start_head B && both_up; t_ok $? "cluster up"
t_cmd "first export" cli A export add "$T_DIR/data0/e" --options rw

restart_both() {
	stop_head A KILL; stop_head B KILL
	start_head A && start_head B && both_up
}
agree() { g=$(gen_of A); [ -n "$g" ] && [ "$g" = "$(gen_of B)" ]; }
no_bad() { ! replica_gens A | grep -q bad; }

bad=0; runs=0; opt=ro
for who in A B; do
	max=22; [ $who = B ] && max=16
	for n in $(seq 1 $max); do
		old=$(gen_of A)
		cli $who config fault "$n" crash >/dev/null
		cli A export set "$T_DIR/data0/e" --options $opt >/dev/null 2>&1
		cli $who config fault off >/dev/null 2>&1
		restart_both || { echo "# $who/$n: restart failed"; bad=$((bad + 1)); break; }
		wait_until 10 agree
		g=$(gen_of A)
		if ! agree || { [ "$g" != "$old" ] && [ "$g" != $((old + 1)) ]; }; then
			echo "# crash on $who at step $n: A=$(gen_of A) B=$(gen_of B) old=$old"
			bad=$((bad + 1))
		fi
		wait_until 10 no_bad || { echo "# $who/$n: replica unreadable: $(replica_gens A)"; bad=$((bad + 1)); }
		# the files on disk match what the daemon reports
		want=$(cli A export ls --json | grep -o '"options":"[a-z]*"' | cut -d'"' -f4)
		grep -q -- "-id=1,$want " "$T_DIR/exports" || { echo "# $who/$n: exports file differs"; bad=$((bad + 1)); }
		runs=$((runs + 1))
		[ $opt = ro ] && opt=rw || opt=ro
	done
done
t_eq "$bad" 0 "$runs crash points: heads agree on old or new, replicas readable"
t_cmd "commits still work afterwards" cli A export set "$T_DIR/data0/e" --options rw,sync
t_done

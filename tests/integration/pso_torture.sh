#!/bin/bash
# PSO torture (issue 10): a seeded random loop of `duonas pso set` on
# either head, with random faults of either head while a write is in
# flight or between writes: kill -9 (then restart), SIGSTOP + SIGCONT,
# state directory full (a small tmpfs filled up, then freed), clean
# restart.  Every write's outcome is recorded: acknowledged (exit 0),
# refused for sure (the daemon said it did nothing: not reachable, not
# ready, lock not granted, no space with no peer, conflict), or unknown
# (killed under it, peer failure).  At the end, with every fault healed
# and both heads in sync, each object must read the same on both heads
# (value and version), and that value must be the last acknowledged
# write or a write issued after it whose outcome was unknown.
#
#   pso_torture.sh [-n ITERATIONS] [-s SEED] [-k OBJECTS]
#
# Prints pso_acked_lost=N (objects whose last acknowledged write is
# gone), pso_phantom_writes=N (objects showing a write that was refused
# for sure), divergent_objects=N, daemon_crashes=N, seed=S.  make check
# runs a short one; run -n 300 by hand.  Faults need root for the tmpfs
# (without root the disk-full fault is left out).
. "$(dirname "$0")/../lib.sh"

N=${PSO_TORTURE_N:-30}
SEED=${PSO_TORTURE_SEED:-42}
K=6
while getopts "n:s:k:" o; do
	case $o in
	n) N=$OPTARG ;;
	s) SEED=$OPTARG ;;
	k) K=$OPTARG ;;
	*) echo "usage: $0 [-n N] [-s SEED] [-k OBJECTS]" >&2; exit 2 ;;
	esac
done
RANDOM=$SEED
t_init pso_torture
echo "# seed=$SEED iterations=$N objects=$K"
mk_cluster 1

TMPFS=0
if [ "$(id -u)" -eq 0 ]; then
	for h in A B; do
		mkdir -p "$T_DIR/$h/state"
		if mount -t tmpfs -o size=16m tmpfs "$T_DIR/$h/state"; then
			T_CLEANUP_CMDS+=("umount -l '$T_DIR/$h/state'")
			TMPFS=1
		fi
	done
fi
[ $TMPFS -eq 1 ] || echo "# not root: no disk-full faults"

start_head A; start_head B; both_up; t_ok $? "cluster up"

declare -A ACKED PEND BAD
NAMES=$(for ((o = 0; o < K; o++)); do printf 't%d ' "$o"; done)
CRASHES=0
NACK=0 NUNK=0 NBAD=0 NFAULT=0

alive() { local p; eval "p=\${PID_$1:-}"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
pid_of() { eval "echo \${PID_$1:-}"; }
other() { [ "$1" = A ] && echo B || echo A; }

fill() {	# fill HEAD's state tmpfs
	[ $TMPFS -eq 1 ] || return 0
	dd if=/dev/zero of="$T_DIR/$1/state/filler" bs=4k >/dev/null 2>&1
	return 0
}
unfill() { rm -f "$T_DIR/$1/state/filler"; }

# Restart a head that is down; count the ones that died on their own.
ensure_up() {
	local h=$1 p
	p=$(pid_of "$h")
	if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then
		wait "$p" 2>/dev/null
		echo "# head $h died on its own (exit $?)"
		CRASHES=$((CRASHES + 1))
		eval "PID_$h="
	fi
	alive "$h" || start_head "$h" >/dev/null 2>&1
}

# One write; sets OUT to ack / bad / unknown.
do_write() {	# do_write HEAD OBJECT VALUE
	local h=$1 o=$2 v=$3 out rc
	out=$(timeout 40 "$DUONAS" -s "$(sock_of "$h")" pso set "$o" "$v" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		OUT=ack
	elif echo "$out" | grep -q "cannot reach duonasd\|resync with the peer in progress\|lock not granted in time\|No space left\|peer holds a different record\|local store\|lock already held"; then
		OUT=bad
	else
		OUT=unknown
	fi
	echo "$(date +%T.%3N) $h $o $(tag "$v") $(printf %s "$v" | wc -c) -> $OUT (rc $rc) ${out:0:120}" \
	    >>"$T_DIR/ops.log"
}

record() {	# record OBJECT VALUE OUTCOME (by tag; the sizes go along)
	local t="$(tag "$2"):${#2}"
	case $3 in
	ack) ACKED[$1]=$t; PEND[$1]=""; NACK=$((NACK + 1)) ;;
	unknown) PEND[$1]="${PEND[$1]:-} $t"; NUNK=$((NUNK + 1)) ;;
	bad) BAD[$1]="${BAD[$1]:-} $t"; NBAD=$((NBAD + 1)) ;;
	esac
}

# A fault on HEAD, started now; heal_fault undoes it.
FAULT="" FHEAD=""
start_fault() {
	FHEAD=$1
	case $((RANDOM % 4)) in
	0) FAULT=kill; kill -KILL "$(pid_of "$FHEAD")" 2>/dev/null ;;
	1) FAULT=stop; kill -STOP "$(pid_of "$FHEAD")" 2>/dev/null ;;
	2) if [ $TMPFS -eq 1 ]; then FAULT=full; fill "$FHEAD"
	   else FAULT=stop; kill -STOP "$(pid_of "$FHEAD")" 2>/dev/null; fi ;;
	3) FAULT=restart; stop_head "$FHEAD" TERM ;;
	esac
	NFAULT=$((NFAULT + 1))
	echo "$(date +%T.%3N) fault $FAULT on $FHEAD" >>"$T_DIR/ops.log"
}
heal_fault() {
	case $FAULT in
	kill) wait "$(pid_of "$FHEAD")" 2>/dev/null; eval "PID_$FHEAD="
	      start_head "$FHEAD" >/dev/null 2>&1 ;;
	stop) sleep "0.$((RANDOM % 10))"; kill -CONT "$(pid_of "$FHEAD")" 2>/dev/null ;;
	full) sleep "0.$((RANDOM % 5))"; unfill "$FHEAD" ;;
	restart) start_head "$FHEAD" >/dev/null 2>&1 ;;
	esac
	FAULT=""
}

# A value: a unique tag, then padding so that some writes need new
# pages in LMDB (a full disk only bites those); up to 96 KiB.
pad() {		# pad [big]
	local n=$(( RANDOM % 3 == 0 ? RANDOM * 3 : RANDOM % 64 ))
	[ -n "${1:-}" ] && n=$(( 90000 + RANDOM ))
	head -c "$n" /dev/zero | tr '\0' x
}
tag() { echo "${1%%.*}"; }

for ((i = 1; i <= N; i++)); do
	h=$([ $((RANDOM % 2)) -eq 0 ] && echo A || echo B)
	o=t$((RANDOM % K))
	v="s$SEED-i$i-$h.$(pad)"
	ensure_up A; ensure_up B
	case $((RANDOM % 10)) in
	0|1|2|3)	# a fault on either head while the write is in flight
		f=$([ $((RANDOM % 2)) -eq 0 ] && echo A || echo B)
		do_write "$h" "$o" "$v" >/dev/null &
		wp=$!
		sleep "0.0$((RANDOM % 10))"
		start_fault "$f"
		# the outcome comes back through the ops log
		sleep "0.$((RANDOM % 8))"
		heal_fault
		wait $wp
		OUT=$(tail -n 50 "$T_DIR/ops.log" | grep " $o $(tag "$v") " |
		    tail -n 1 | sed 's/.* -> \([a-z]*\) .*/\1/')
		record "$o" "$v" "${OUT:-unknown}"
		;;
	4)	# a fault between writes
		f=$([ $((RANDOM % 2)) -eq 0 ] && echo A || echo B)
		start_fault "$f"
		sleep "0.$((RANDOM % 8))"
		# a full disk bites writes that need new pages: new objects
		# with big values (LMDB reuses the pages of replaced values)
		if [ "$FAULT" = full ]; then
			for g in 1 2; do
				gv="s$SEED-i$i-$h-g$g.$(pad big)"
				NAMES="$NAMES g$i-$g"
				do_write "$h" "g$i-$g" "$gv"
				record "g$i-$g" "$gv" "$OUT"
			done
		fi
		do_write "$h" "$o" "$v"
		record "$o" "$v" "$OUT"
		f=$FAULT
		heal_fault
		# space back: the same head writes the same object again (a
		# reused version here used to be dropped by the peer)
		if [ "$f" = full ]; then
			wait_until 10 pso_synced "$h"
			gv="s$SEED-i$i-$h-again."
			do_write "$h" "g$i-1" "$gv"
			record "g$i-1" "$gv" "$OUT"
		fi
		;;
	*)	do_write "$h" "$o" "$v"
		record "$o" "$v" "$OUT"
		;;
	esac
done

# Settle: every fault healed, both heads up and in sync.
for h in A B; do
	unfill "$h"
	p=$(pid_of "$h"); [ -n "$p" ] && kill -CONT "$p" 2>/dev/null
done
ensure_up A; ensure_up B
wait_until 60 pso_synced A && wait_until 60 pso_synced B
t_ok $? "both heads settled and in sync"
sleep 1

lost=0 phantom=0 div=0
for o in $NAMES; do
	xa=$(cli A pso get "$o" 2>"$T_DIR/get.err") ||
	    echo "# A: pso get $o: $(head -c 200 "$T_DIR/get.err")"
	xb=$(cli B pso get "$o" 2>"$T_DIR/get.err") ||
	    echo "# B: pso get $o: $(head -c 200 "$T_DIR/get.err")"
	va=""; [ -n "$xa" ] && va="$(tag "$xa"):${#xa}"
	vb=""; [ -n "$xb" ] && vb="$(tag "$xb"):${#xb}"
	ra=$(cli A pso get "$o" --json 2>/dev/null | grep -o '"version":[0-9]*')
	rb=$(cli B pso get "$o" --json 2>/dev/null | grep -o '"version":[0-9]*')
	if [ "$xa" != "$xb" ] || [ "$ra" != "$rb" ]; then
		div=$((div + 1))
		echo "# $o diverges: A '$va' $ra, B '$vb' $rb"
	fi
	want=${ACKED[$o]:-}
	[ -z "$want" ] && [ -z "${PEND[$o]:-}" ] && [ -z "$va" ] && continue
	ok=0
	[ "$va" = "$want" ] && ok=1
	for p in ${PEND[$o]:-}; do [ "$va" = "$p" ] && ok=1; done
	if [ $ok -eq 0 ]; then
		if [ -n "$want" ]; then
			lost=$((lost + 1))
			echo "# $o: last acknowledged '$want' lost: reads '$va'"
		fi
		for p in ${BAD[$o]:-}; do
			if [ "$va" = "$p" ]; then
				phantom=$((phantom + 1))
				echo "# $o: reads '$va', a write that was refused"
			fi
		done
	fi
done
if [ $((lost + phantom + div)) -gt 0 ]; then
	for h in A B; do
		echo "# objects on $h:"
		cli "$h" pso ls 2>&1 | sed 's/^/#   /'
	done
fi
ensure_up A; ensure_up B
echo "# writes: $NACK acknowledged, $NUNK unknown, $NBAD refused; $NFAULT faults"
echo "pso_acked_lost=$lost"
echo "pso_phantom_writes=$phantom"
echo "divergent_objects=$div"
echo "daemon_crashes=$CRASHES"
echo "seed=$SEED"
t_eq "$lost" 0 "no acknowledged write lost"
t_eq "$phantom" 0 "no refused write shows up"
t_eq "$div" 0 "both heads hold the same objects"
t_eq "$CRASHES" 0 "no daemon died on its own"
t_done

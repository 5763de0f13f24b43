#!/bin/bash
# Randomized torture of configuration transactions (issue 10): a seeded
# loop of commits (export add/rm, ip add/rm on loopback, rollbacks,
# imports) with random faults: kill -9 of either head during a commit,
# SIGSTOP/SIGCONT of either head during a commit, `config fault N
# crash|fail` on either head, a full disk on either head, single-block
# corruption of one replica slot (one fault at a time).  Every change the
# CLI acknowledged (exit 0 + "committed") is logged in a model; every
# CHECK iterations and at the end both heads are killed and restarted and
# must settle (bounded waits) on one generation and content that every
# replica holds, with every acknowledged change present or superseded by
# a later acknowledged one.
#
# usage: ctcm_torture.sh [-n ITERATIONS] [--seed S] [--check K] [--pso]
#                        [--fast-restart]
# Prints ctcm_acked_lost=N divergent_heads=N divergent_replicas=N
# stuck_without_master=N seed=S (and first_failure=ITERATION: --seed S
# replays the same commands and faults; timing still varies).  A killed
# head is restarted once the survivor took over, as after a reboot;
# --fast-restart restarts it at once (before the survivor noticed).
# --pso adds PSO writes (pso_acked_lost=N divergent_objects=N).
# make check runs -n 30 (about 40 s); KEEP_TDIR=1 keeps the logs.
. "$(dirname "$0")/lib-ctcm.sh"

N=30; SEED=""; CHECK=10; PSO=0; FAST=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--check) CHECK=$2; shift 2 ;;
	--pso) PSO=1; shift ;;
	--fast-restart) FAST=1; shift ;;
	*) echo "usage: $0 [-n N] [--seed S] [--check K] [--pso]" \
	    "[--fast-restart]" >&2; exit 64 ;;
	esac
done
[ -n "$SEED" ] || SEED=$(( 10#$(date +%s%N | cut -c10-18) % 1000000 ))
RANDOM=$SEED

t_init ctcm_torture
need_root
# ports and loopback addresses of this run only, above the range the
# other tests use: two torture runs on one machine do not collide
T_BASE=$(( 29000 + ( ($$ + SEED) % 180 ) * 20 ))
T_NET=$(( 220 + $$ % 35 ))
ctcm_cluster
mkdir -p "$T_DIR/data0/t" "$T_DIR/data1/t"
ACT="$T_DIR/actions.log"
echo "# seed=$SEED iterations=$N check=$CHECK dir=$T_DIR"
# every call is bounded: a head may be stopped (SIGSTOP) or hung; this
# also bounds the helpers of lib.sh and lib-ctcm.sh (state_of, gen_of...)
cli() { timeout 10 "$DUONAS" -s "$(sock_of "$1")" "${@:2}"; }
cli_t() { timeout 20 "$DUONAS" -s "$(sock_of "$1")" "${@:2}"; }

# The model.  Every acknowledged change is kept with its generation
# (ACKS: "gen K key state" or "gen W target-generation" for a rollback or
# import); the content of generation G is every acknowledged change up to
# G in generation order (a later master builds on every committed one,
# even when its answer came first).  A key that an unacknowledged command
# touched is uncertain for good (U).  M is a quick current view, only to
# choose the next command.
declare -A M		# key -> present | absent | uncertain (choice only)
declare -A U		# uncertain keys
declare -A TEXT		# acknowledged generation -> saved config export
declare -A PSOV		# pso key -> last acknowledged value
ACKS=(); nacked=0; nunacked=0; lost=0; divergent=0; divrep=0; stuck=0
pso_lost=0; pso_div=0; first_fail=""; seq=0; full_left=0; full_head=""
IPS=()

cleanup_ips() { for a in "${IPS[@]}"; do ip addr del "$a/32" dev lo 2>/dev/null; done; }
T_CLEANUP_CMDS+=("cleanup_ips")

act() { echo "$(date +%T.%N | cut -c1-12) it=$it $*" >>"$ACT"; }
alive() { local p; eval "p=\${PID_$1:-}"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
pid_of() { eval "echo \${PID_$1:-}"; }
STOPPED=""	# a head stopped with SIGSTOP: not asked (it cannot answer)
master_now() {
	if [ "$STOPPED" != A ] && is_master A; then echo A
	elif [ "$STOPPED" != B ] && is_master B; then echo B; fi
}
stop_h() { act "SIGSTOP $1"; kill -STOP "$(pid_of "$1")" 2>/dev/null; STOPPED=$1; }
cont_h() { act "SIGCONT $1"; kill -CONT "$(pid_of "$1")" 2>/dev/null; STOPPED=""; }
other() { [ "$1" = A ] && echo B || echo A; }

# state_at G: "key state" lines of generation G's content, by the model
# (memoized; an acknowledgement clears the memo: it may be of a lower
# generation than others already known)
declare -A STATE_MEMO
memo() {	# memo G: compute generation G's content into STATE_MEMO
	[ -n "${STATE_MEMO[$1]+x}" ] && return
	STATE_MEMO[$1]=$(state_calc "$1"; echo x)
	STATE_MEMO[$1]=${STATE_MEMO[$1]%x}
}
state_at() {
	local t
	if [ -z "${STATE_MEMO[$1]+x}" ]; then
		# the rollback/import targets first, lowest first, here (a
		# subshell cannot fill the memo of this one)
		for t in $(printf '%s\n' "${ACKS[@]}" |
		    awk -v G="$1" '$1 <= G && $2 == "W" { print $3 }' |
		    sort -n -u); do
			memo "$t"
		done
		memo "$1"
	fi
	printf '%s' "${STATE_MEMO[$1]}"
}
state_calc() {
	local G=$1 g t k v x line
	declare -A S=()
	while read -r g t k v; do
		[ "$g" -le "$G" ] || break
		if [ "$t" = K ]; then
			S[$k]=$v
		else
			for x in "${!S[@]}"; do S[$x]=absent; done
			while read -r line; do
				S[${line% *}]=${line#* }
			done < <(state_at "$k")
		fi
	done < <(printf '%s\n' "${ACKS[@]}" | sort -n -k1,1)
	for k in "${!S[@]}"; do echo "$k ${S[$k]}"; done
}
maxgen() { printf '%s\n' "${ACKS[@]}" | sort -n -k1,1 | tail -n 1 | cut -d' ' -f1; }

# after an answer: acknowledged (with its generation) or not
record() {	# record RC OUT KEY NEWSTATE
	local rc=$1 out=$2 key=$3 st=$4 g
	g=$(committed_gen "$out")
	if [ "$rc" -eq 0 ] && [ -n "$g" ]; then
		M[$key]=$st
		nacked=$((nacked + 1))
		ACKS+=("$g K $key $st"); STATE_MEMO=()
		act "ACK gen=$g $key=$st"
		return 0
	fi
	echo "$out" | grep -q "no change" && return 1
	M[$key]=uncertain; U[$key]=1
	nunacked=$((nunacked + 1))
	act "NOACK rc=$rc $key ($(echo "$out" | head -n 1 | cut -c1-160))"
	return 1
}

# whole-content replacement (rollback, import) with generation G's
record_whole() {	# record_whole RC OUT G
	local rc=$1 out=$2 g=$3 ng k v
	declare -A T=()
	while read -r k v; do T[$k]=$v; done < <(state_at "$g")
	ng=$(committed_gen "$out")
	if [ "$rc" -eq 0 ] && [ -n "$ng" ]; then
		for k in "${!M[@]}"; do M[$k]=${T[$k]:-absent}; done
		nacked=$((nacked + 1))
		ACKS+=("$ng W $g"); STATE_MEMO=()
		act "ACK gen=$ng whole content of $g"
	else
		echo "$out" | grep -q "no change" && return
		for k in "${!M[@]}"; do
			v=${T[$k]:-absent}
			[ "${M[$k]}" = "$v" ] || { M[$k]=uncertain; U[$k]=1; }
		done
		nunacked=$((nunacked + 1))
		act "NOACK rc=$rc whole content of $g ($(echo "$out" | head -n 1 | cut -c1-120))"
	fi
}

keys_in() {	# keys_in STATE PREFIX -> matching keys
	local k
	for k in "${!M[@]}"; do
		[ "${M[$k]}" = "$1" ] && [ "${k#"$2"}" != "$k" ] && echo "$k"
	done
}
pick() { local a=("$@"); [ ${#a[@]} -gt 0 ] && echo "${a[RANDOM % ${#a[@]}]}"; }

# one changing command on head H; runs in the foreground or, with BG,
# in the background (OUT_FILE, CLI_PID) for a fault to hit it mid-way
OPKEY=""; OPST=""; OPWHOLE=""
op_prepare() {	# sets OPARGS, OPKEY, OPST or OPWHOLE
	local r=$((RANDOM % 100)) k g cands=() ne ni
	OPWHOLE=""
	seq=$((seq + 1))
	# stay well below the NFS server's export limit and the IP count
	ne=$(keys_in present e: | wc -l); ni=$(keys_in present i: | wc -l)
	[ "$ne" -gt 40 ] && [ $r -lt 45 ] && r=50
	[ "$ni" -gt 12 ] && [ $r -ge 65 ] && [ $r -lt 78 ] && r=80
	if [ $r -lt 45 ]; then
		k="e:$T_DIR/data$((seq % 2))/t/x$seq"
		mkdir -p "${k#e:}"
		OPARGS=(export add "${k#e:}" --clients "127.0.0.0/8(rw)")
		OPKEY=$k; OPST=present; return
	fi
	if [ $r -lt 65 ]; then
		k=$(pick $(keys_in present e:))
		if [ -n "$k" ]; then
			OPARGS=(export rm "${k#e:}"); OPKEY=$k; OPST=absent
			return
		fi
	fi
	if [ $r -lt 78 ]; then
		k="i:127.$T_NET.$((100 + seq / 250)).$((seq % 250 + 1))"
		IPS+=("${k#i:}")
		OPARGS=(ip add "$(pick A B)" "${k#i:}/32" dev lo)
		OPKEY=$k; OPST=present; return
	fi
	if [ $r -lt 88 ]; then
		k=$(pick $(keys_in present i:))
		if [ -n "$k" ]; then
			OPARGS=(ip rm "${k#i:}"); OPKEY=$k; OPST=absent
			return
		fi
	fi
	# rollback / import to a recent acknowledged generation
	cands=($(printf '%s\n' "${ACKS[@]}" | cut -d' ' -f1 | sort -n |
	    tail -n 6 | head -n 5))
	g=$(pick "${cands[@]}")
	if [ -n "$g" ] && [ $r -lt 94 ]; then
		OPARGS=(config rollback "$g"); OPWHOLE=$g; return
	fi
	if [ -n "$g" ] && [ -n "${TEXT[$g]:-}" ]; then
		OPARGS=(config import "${TEXT[$g]}"); OPWHOLE=$g; return
	fi
	k="e:$T_DIR/data0/t/y$seq"
	mkdir -p "${k#e:}"
	OPARGS=(export add "${k#e:}"); OPKEY=$k; OPST=present
}

op_finish() {	# op_finish RC OUT HEAD
	local g
	if [ -n "$OPWHOLE" ]; then
		record_whole "$1" "$2" "$OPWHOLE"
	elif record "$1" "$2" "$OPKEY" "$OPST"; then
		g=$(committed_gen "$2")
		# keep a text copy of some generations for later imports
		if [ $((RANDOM % 3)) -eq 0 ] && cli_t "$3" config export \
		    "$T_DIR/snap.$g" >/dev/null 2>&1 &&
		    head -n 1 "$T_DIR/snap.$g" | grep -q "generation $g,"; then
			TEXT[$g]="$T_DIR/snap.$g"
		fi
	fi
}

run_op() {	# run_op HEAD: a commit in the foreground
	local out rc
	op_prepare
	act "$1: ${OPARGS[*]}"
	out=$(cli_t "$1" "${OPARGS[@]}" 2>&1); rc=$?
	op_finish "$rc" "$out" "$1"
}

run_op_bg() {	# run_op_bg HEAD: start a commit, CLI_PID
	op_prepare
	act "$1 (bg): ${OPARGS[*]}"
	cli_t "$1" "${OPARGS[@]}" >"$T_DIR/op.out" 2>&1 &
	CLI_PID=$!
	BGKEY=$OPKEY; BGST=$OPST; BGWHOLE=$OPWHOLE	# a nested op follows
}
finish_bg() {	# finish_bg HEAD
	local rc
	wait "$CLI_PID"; rc=$?
	OPKEY=$BGKEY; OPST=$BGST; OPWHOLE=$BGWHOLE
	op_finish "$rc" "$(cat "$T_DIR/op.out")" "$1"
}

pso_op() {	# pso_op HEAD: one PSO write, acknowledged or not
	[ "$PSO" -eq 1 ] || return 0
	local k="t$((RANDOM % 5))" v="v$seq"
	if cli_t "$1" pso set "$k" "$v" >/dev/null 2>&1; then
		PSOV[$k]=$v
	fi
}

# bring every head back (restart dead ones, continue stopped ones) and
# wait for a master
ensure_up() {
	local h p
	STOPPED=""
	for h in A B; do
		p=$(pid_of "$h")
		[ -n "$p" ] && kill -CONT "$p" 2>/dev/null
	done
	# a dead head comes back after the survivor took over, as a reboot
	# would (--fast-restart: at once; see the report of issue 10)
	if [ "$FAST" -eq 0 ] && { ! alive A || ! alive B; }; then
		wait_until 10 master_exists
	fi
	for h in A B; do
		if ! alive "$h"; then
			act "start $h"
			start_head "$h" || act "start $h: no admin socket yet"
		fi
	done
	if ! wait_until 30 master_exists; then
		stuck=$((stuck + 1))
		act "STUCK: no master (A $(state_of A), B $(state_of B))"
		echo "# it=$it: no master within 30 s (A $(state_of A), B $(state_of B))"
		[ -n "$first_fail" ] || first_fail=$it
		restart_both
	fi
}
master_exists() { [ -n "$(master_now)" ]; }

restart_both() {
	act "restart both"
	stop_head A KILL; stop_head B KILL
	start_head A; start_head B
}

settled() {	# both heads on one committed generation, replicas agree
	local a b
	a=$(cli A config show --json 2>/dev/null | grep -o '"generation":[0-9]*,"checksum":"[0-9a-f]*"' | head -n 1)
	b=$(cli B config show --json 2>/dev/null | grep -o '"generation":[0-9]*,"checksum":"[0-9a-f]*"' | head -n 1)
	[ -n "$a" ] && [ "$a" = "$b" ] && replicas_agree A &&
	    cli A config show --json | grep -q '"sync":"ok"' &&
	    cli B config show --json | grep -q '"sync":"ok"'
}

ips_of() {
	cli "$1" ip ls --json 2>/dev/null | tr '{' '\n' |
	    sed -n 's/.*"address":"\([^/"]*\)\/.*/\1/p' | sort
}

# restart both heads, let them settle, compare with the model
checkpoint() {
	local e i k st bad=0 cs rc
	[ -n "$full_head" ] && free_ctcm "$full_head"; full_head=""; full_left=0
	restart_both
	if ! wait_until 40 pair_up; then
		stuck=$((stuck + 1)); bad=1
		echo "# checkpoint $it: heads not paired (A $(state_of A), B $(state_of B))"
	fi
	if ! wait_until 30 settled; then
		echo "# checkpoint $it: not settled: A $(gen_of A) B $(gen_of B) replicas $(replica_gens A)"
	fi
	if [ "$(gen_of A)" != "$(gen_of B)" ] ||
	    [ "$(cli A config show --json | grep -o '"checksum":"[0-9a-f]*"' | head -n 1)" != \
	      "$(cli B config show --json | grep -o '"checksum":"[0-9a-f]*"' | head -n 1)" ]; then
		divergent=$((divergent + 1)); bad=1
		echo "# checkpoint $it: heads differ: A $(gen_of A) B $(gen_of B)"
	fi
	cs=$(cli A config show --json | grep -o '"checksum":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
	if ! replicas_agree A || [ "$(cli A config show --json | tr '{' '\n' | grep '"lun":' |
	    grep -vc "\"checksum\":\"$cs\"")" -ne 0 ]; then
		divrep=$((divrep + 1)); bad=1
		echo "# checkpoint $it: replicas differ: $(replica_gens A)"
	fi
	e=$(exports_of A); i=$(ips_of A)
	declare -A W=()
	while read -r k st; do [ -n "$k" ] && W[$k]=$st; done < <(state_at "$(maxgen)")
	for k in "${!M[@]}"; do
		st=${W[$k]:-absent}
		[ -n "${U[$k]:-}" ] && continue
		case $k in
		e:*) echo "$e" | grep -qxF "${k#e:}"; rc=$? ;;
		i:*) echo "$i" | grep -qxF "${k#i:}"; rc=$? ;;
		esac
		if { [ "$st" = present ] && [ $rc -ne 0 ]; } ||
		    { [ "$st" = absent ] && [ $rc -eq 0 ]; }; then
			lost=$((lost + 1)); bad=1
			echo "# checkpoint $it: acknowledged $k=$st lost (generation $(gen_of A))"
			act "LOST $k=$st"
			U[$k]=1			# count it once
		fi
	done
	if [ "$PSO" -eq 1 ]; then
		for k in "${!PSOV[@]}"; do
			a=$(cli A pso get "$k" 2>/dev/null); b=$(cli B pso get "$k" 2>/dev/null)
			[ "$a" = "$b" ] || { pso_div=$((pso_div + 1)); bad=1; }
			# a later unacknowledged write may have won; an older one must not
			case $a in v*) [ "${a#v}" -ge "${PSOV[$k]#v}" ] || { pso_lost=$((pso_lost + 1)); bad=1; } ;;
			*) pso_lost=$((pso_lost + 1)); bad=1 ;; esac
		done
	fi
	if [ $bad -ne 0 ] && [ -z "$first_fail" ]; then
		first_fail=$it
	fi
	act "checkpoint: generation $(gen_of A), lost=$lost divergent=$divergent"
}

start_head A && start_head B && both_up; t_ok $? "cluster up"
wait_until 20 settled; t_ok $? "settled"

t0=$(date +%s)
for ((it = 1; it <= N; it++)); do
	ensure_up
	m=$(master_now); [ -n "$m" ] || continue
	s=$(other "$m")
	r=$((RANDOM % 100))
	if [ $full_left -gt 0 ]; then
		full_left=$((full_left - 1))
		if [ $full_left -eq 0 ]; then act "free $full_head"; free_ctcm "$full_head"; full_head=""; fi
	fi
	if [ $r -lt 35 ]; then
		run_op "$m"; pso_op "$m"
	elif [ $r -lt 47 ]; then		# kill -9 the master mid-commit
		run_op_bg "$m"
		sleep "0.0$((RANDOM % 4))"
		act "kill -9 $m"; kill -KILL "$(pid_of "$m")" 2>/dev/null
		finish_bg "$m"
	elif [ $r -lt 53 ]; then		# kill -9 the slave mid-commit
		run_op_bg "$m"
		sleep "0.0$((RANDOM % 3))"
		act "kill -9 $s"; kill -KILL "$(pid_of "$s")" 2>/dev/null
		finish_bg "$m"
	elif [ $r -lt 58 ]; then		# stop the master mid-commit
		run_op_bg "$m"
		sleep "0.0$((RANDOM % 3))"
		stop_h "$m"
		sleep 2.$((RANDOM % 5))
		n2=$(master_now)
		[ -n "$n2" ] && run_op "$n2"
		cont_h "$m"
		finish_bg "$m"
	elif [ $r -lt 62 ]; then		# stop the slave during commits
		stop_h "$s"
		run_op "$m"
		sleep 1.$((RANDOM % 5))
		m2=$(master_now); [ -n "$m2" ] && run_op "$m2"
		cont_h "$s"
	elif [ $r -lt 72 ]; then		# crash at a step, either head
		h=$(pick "$m" "$s"); k=$((RANDOM % 12 + 1))
		act "fault $h $k crash"; cli_t "$h" config fault "$k" crash >/dev/null 2>&1
		run_op "$m"
		cli_t "$h" config fault off >/dev/null 2>&1
	elif [ $r -lt 77 ]; then		# fail at a step, either head
		h=$(pick "$m" "$s"); k=$((RANDOM % 12 + 1))
		act "fault $h $k fail"; cli_t "$h" config fault "$k" fail >/dev/null 2>&1
		run_op "$m"
		cli_t "$h" config fault off >/dev/null 2>&1
	elif [ $r -lt 83 ]; then		# a full disk for a few iterations
		if [ -z "$full_head" ]; then
			full_head=$(pick A B); full_left=$((RANDOM % 3 + 1))
			act "fill $full_head for $full_left"; fill_ctcm "$full_head"
		fi
		run_op "$m"
	elif [ $r -lt 89 ]; then		# one block of one replica slot
		if wait_until 10 settled; then
			l=$((RANDOM % 3)); b=$(pick 256 257 1280 1281)
			act "corrupt lun$l block $b"
			dd if=/dev/urandom of="$T_DIR/lun$l.img" bs=4096 seek="$b" \
			    count=1 conv=notrunc,fsync status=none
			wait_until 10 replicas_agree "$m" || act "not repaired yet"
		fi
		run_op "$m"
	else
		run_op "$m"; pso_op "$m"
	fi
	if [ $((it % CHECK)) -eq 0 ] || [ $it -eq $N ]; then
		checkpoint
	fi
done
t1=$(date +%s)

echo "ctcm_acked_lost=$lost divergent_heads=$divergent divergent_replicas=$divrep stuck_without_master=$stuck seed=$SEED"
[ "$PSO" -eq 1 ] && echo "pso_acked_lost=$pso_lost divergent_objects=$pso_div"
# hook for PSO counters: see --pso above
echo "# $N iterations in $((t1 - t0)) s: $nacked acknowledged, $nunacked not acknowledged"
[ -n "$first_fail" ] && echo "first_failure=$first_fail (replay: $0 -n $N --seed $SEED)"
t_eq "$lost" 0 "ctcm_acked_lost=0"
t_eq "$divergent" 0 "divergent_heads=0"
t_eq "$divrep" 0 "divergent_replicas=0"
t_eq "$stuck" 0 "stuck_without_master=0"
t_ok $([ "$nacked" -gt 0 ] && echo 0 || echo 1) "some commits were acknowledged ($nacked)"
if [ "$T_FAIL" -gt 0 ]; then
	echo "# ---- last actions"; tail -n 40 "$ACT" | sed 's/^/# /'
fi
t_done

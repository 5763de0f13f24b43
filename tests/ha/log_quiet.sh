#!/bin/bash
# log_quiet.sh — a head's log stays short: the link's best path flapping
# for 20 s gives a handful of "best path is now" lines (log_flap: at most
# one per 10 s, the line after a busy window with the count of changes),
# and a cluster left alone for 20 s logs almost nothing (nothing repeats
# from a timer).
#
# Flapping: on A, path 0 and path 1 are cut in turn (`duonas link block`,
# the fault switch), each brought back before the other is cut, so the
# peer stays alive and the best path changes at every cut.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

FLAP_S=${FLAP_S:-20}
QUIET_S=${QUIET_S:-20}

t_init log_quiet
ha_require
ha_pair_up directory

best_lines() { grep -c 'link: best path is now' "$T_DIR/$1.log"; }
# path_up HEAD PATH: HEAD's status shows PATH in state up; best_is HEAD
# PATH: and as the best path ("  path N dial A -> B up (best): ...")
path_up() { ha_cli "$1" status 2>/dev/null | grep -q "^  path $2 [a-z]* [^ ]* -> [^ ]* up[ :]"; }
best_is() { ha_cli "$1" status 2>/dev/null | grep -q "^  path $2 [a-z]* [^ ]* -> [^ ]* up (best):"; }

wait_until 10 path_up A 0 && wait_until 10 path_up A 1
t_ok $? "both link paths up on A"

# -- quiet: 20 s without any event
a0=$(wc -l <"$T_DIR/A.log") b0=$(wc -l <"$T_DIR/B.log")
sleep "$QUIET_S"
na=$(( $(wc -l <"$T_DIR/A.log") - a0 )) nb=$(( $(wc -l <"$T_DIR/B.log") - b0 ))
[ "$na" -le 10 ] && [ "$nb" -le 10 ]
t_ok $? "left alone for ${QUIET_S} s: A logged $na lines, B $nb (at most 10 each)"
if [ "$na" -gt 10 ] || [ "$nb" -gt 10 ]; then
	tail -n +"$((a0 + 1))" "$T_DIR/A.log" | sed 's/^[^ ]* //' |
	    sort | uniq -c | sort -rn | head -n 5 | sed 's/^/#   A: /'
fi

# -- flapping
l0=$(best_lines A)
flips=0 bad=0 end=$((SECONDS + FLAP_S))
for ((i = 0; i < 200 && SECONDS < end; i++)); do
	p=$((i % 2)) o=$(((i + 1) % 2))
	wait_until 10 path_up A "$o" || { bad=1; break; }
	ha_cli A link block "$p" >/dev/null || { bad=1; break; }
	wait_until 5 best_is A "$o" && flips=$((flips + 1))
	ha_cli A link unblock "$p" >/dev/null || { bad=1; break; }
	sleep 0.1	# a path comes back within ms: spread over FLAP_S
done
t_ok $bad "paths cut and restored in turn for ${FLAP_S} s"
[ "$flips" -ge 8 ]
t_ok $? "the best path changed $flips times (at least 8)"
# the change pending at the end is logged by the 1 s timer within 10 s
sleep 11
n=$(( $(best_lines A) - l0 ))
[ "$n" -ge 1 ] && [ "$n" -le $((FLAP_S / 10 + 3)) ]
t_ok $? "$flips changes gave $n 'best path' lines on A (at most $((FLAP_S / 10 + 3)))"
grep 'link: best path is now' "$T_DIR/A.log" | tail -n +"$((l0 + 1))" |
    grep -q 'changes in the last'
t_ok $? "a line after a busy window carries the count of changes"
ha_is_state A 'DAC(master)' && ha_is_state B 'DAC(slave)'
t_ok $? "no state change while the paths flapped (A $(ha_state A), B $(ha_state B))"
t_done

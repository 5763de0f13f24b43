#!/bin/bash
# boot_supervise.sh STOPFILE MAX CMD...: what systemd does for duonas-boot
# (Restart=always, RestartSec): run CMD, and again 0.3 s after it exits,
# at most MAX times, until STOPFILE exists.  SIGTERM ends CMD and the
# loop.  One line per exit on standard output.
stop=$1 max=$2
shift 2
child=
trap 'touch "$stop"; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
n=0
while [ "$n" -lt "$max" ] && [ ! -e "$stop" ]; do
	"$@" &
	child=$!
	rc=0
	# a trapped signal interrupts wait: wait again until CMD is gone
	for _ in $(seq 1 600); do
		wait "$child"
		rc=$?
		kill -0 "$child" 2>/dev/null || break
	done
	echo "==== $(date +%T.%3N) supervise: exit $rc (start $((n + 1)) of $max)"
	child=
	n=$((n + 1))
	[ -e "$stop" ] && break
	sleep 0.3
done

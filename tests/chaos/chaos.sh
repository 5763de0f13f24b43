#!/bin/bash
# chaos.sh — the short chaos campaign make check runs: 30 faults of the
# seeded sequence DUONAS_CHAOS_SEED (a fixed seed, so a failure replays
# exactly: tests/chaos/run --boot --seed S --replay K), the heads under
# duonas-boot as the systemd unit runs them, image upgrades among the
# faults.  DUONAS_CHAOS_FAULTS changes the count; 0 skips.  The
# on-demand campaign is `tests/chaos/run -n 1000 --boot`
# (docs/reliability.md).
n=${DUONAS_CHAOS_FAULTS:-30}
if [ "$n" = 0 ]; then
	echo "1..0 # SKIP DUONAS_CHAOS_FAULTS=0"
	exit 77
fi
exec "$(dirname "$0")/run" -n "$n" --boot --seed "${DUONAS_CHAOS_SEED:-20261201}"

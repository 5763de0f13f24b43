#!/bin/bash
# nlm_coldstart.sh — after a cold start of the whole cluster (both heads
# down) the lock state is gone and NLM falls back to the classic grace
# period (issue 11): for nlm grace-period seconds a LOCK without reclaim
# and a TEST are answered DENIED_GRACE_PERIOD, a reclaim (reclaim=1) is
# granted; after it new locks are granted, a reclaimed lock conflicts.
# Also the very first start of the pair is such a cold start.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"
# long enough that the checks below run inside it after the pair is up
NLM_GRACE=${NLM_GRACE:-15}
. "$(dirname "$0")/nlmlib.sh"

t_init ha_nlm_coldstart
ha_require
nlm_require
ha_pair_prepare directory "directory pool and configuration prepared"
nlm_conf
t0=$(date +%s)
ha_pair_start 60
VA=$NS_VIP_A

# grace_checks WHAT: the checks inside a grace period
grace_checks() {
	nlm_expect "$1: a new lock is refused (DENIED_GRACE_PERIOD)" \
	    denied_grace_period client2 202 "$VA" la f2 lock 0 0 x
	nlm_expect "$1: TEST is refused (DENIED_GRACE_PERIOD)" \
	    denied_grace_period client2 202 "$VA" la f1 test 0 0 x
}

# ---- the pair's first start ----
grace_checks "first start"
nlm_wait_grace_end "$VA" la $((NLM_GRACE + 20))
t_ok $? "the grace period ended ($(( $(date +%s) - t0 )) s after the start)"
nlm_expect "client 1 locks f1" granted client1 101 "$VA" la f1 lock 0 0 x
nlm_expect "client 1 locks f3" granted client1 101 "$VA" la f3 lock 0 0 x

# ---- both heads killed, started again ----
ha_kill A KILL && ha_kill B KILL
t_ok $? "both heads killed (kill -9)"
t0=$(date +%s)
ha_start A && ha_start B
t_ok $? "both heads started again"
ha_wait_up 60
grace_checks "cold start"
nlm_expect "cold start: client 1 reclaims its lock on f1" granted \
    client1 101 "$VA" la f1 lock 0 0 x reclaim
nlm_expect "cold start: client 2's new lock on f1 is refused" \
    denied_grace_period client2 202 "$VA" la f1 lock 0 0 x
nlm_wait_grace_end "$VA" la $((NLM_GRACE + 20))
rc=$?
g=$(( $(date +%s) - t0 ))
t_ok $rc "the grace period ended ($g s after the restart)"
# t0 is before the heads' start (boot wait, takeover of the LUNs)
[ $rc -eq 0 ] && [ "$g" -ge $((NLM_GRACE - 2)) ] &&
    [ "$g" -le $((NLM_GRACE + 15)) ]
t_ok $? "it lasted about grace-period $NLM_GRACE s ($g s after the start)"
nlm_expect "after the grace: client 2's lock on f2 is granted" granted \
    client2 202 "$VA" la f2 lock 0 0 x
nlm_expect "after the grace: the reclaimed lock on f1 conflicts" denied \
    client2 202 "$VA" la f1 lock 0 0 x
nlm_expect "client 1's lock on f3, not reclaimed, is gone: client 2 gets it" \
    granted client2 202 "$VA" la f3 lock 0 0 x
nlm_expect "client 1 unlocks f1" granted client1 101 "$VA" la f1 unlock 0 0
nlm_expect "then client 2 gets f1" granted client2 202 "$VA" la f1 lock 0 0 x
t_done

#!/bin/bash
# watchdog.sh — the head's hardware watchdog (head block `watchdog PATH`).
#
# This machine has no watchdog device (and no CUSE to fake one), so head
# A's device is a named pipe read by tests/ha/wdog_sim, which behaves like
# a device with a 1 s timeout: armed by the first pet, "fires" after 1 s
# without one (also after a close without the magic 'V'), disarmed by a
# magic close.  Checked:
#   - A arms it and pets it while healthy (status shows it armed);
#   - SIGSTOP of A: the watchdog fires within its timeout, before B may
#     take over (B waits a whole lease): the machine would be reset before
#     anyone else serves its LUN; the test then "resets" A (kill -9 and
#     every interface down) and B takes over; the writer loses nothing;
#   - an orderly stop of A disarms it (magic close: no reset);
#   - head B's configured device does not exist: B still serves, its
#     status says NOT ARMED with the reason;
#   - a watchdog-timeout that does not fit in the lease is refused with a
#     message naming the problem.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

WDSIM="$DUONAS_BUILDDIR/tests/ha/wdog_sim"
t_init ha_watchdog
ha_require
[ -x "$WDSIM" ] || t_skip_all "wdog_sim not built (make check)"
ha_pair_prepare directory \
    "pool and configuration prepared (lease $HA_LEASE_MS ms)"
sed -i -e "/^head A {/a\\  watchdog \"$T_DIR/wdA\"" \
    -e "/^head B {/a\\  watchdog \"$T_DIR/no-such-dir/watchdog\"" \
    -e "/^heartbeat {/a\\  watchdog-timeout 1" "$T_DIR/duonas.conf"

# a timeout that does not fit in the lease
sed -e "s/^  lease .*/  lease 1100/" "$T_DIR/duonas.conf" >"$T_DIR/bad.conf"
out=$("$DUONASD" -t -c "$T_DIR/bad.conf" -n A 2>&1); rc=$?
[ $rc -ne 0 ] && printf '%s' "$out" | grep -q "watchdog-timeout 1 s.*must fit in the lease"
t_ok $? "watchdog-timeout that does not fit in the lease refused (rc $rc: $out)"
"$DUONASD" -t -c "$T_DIR/duonas.conf" -n A >/dev/null 2>&1
t_ok $? "the test configuration is accepted"

start_sim() {	# start_sim: wdog_sim on $T_DIR/wdA; PID in SIMPID
	rm -f "$T_DIR/wdA"
	"$WDSIM" "$T_DIR/wdA" 1000 120 >"$T_DIR/wdsim.$1.out" 2>&1 &
	SIMPID=$!
	T_PIDS+=("$SIMPID")
	wait_until 5 test -p "$T_DIR/wdA"
}
start_sim 1
t_ok $? "watchdog simulator started"
ha_start A && ha_start B
t_ok $? "both heads started"
ha_wait_up 30
[ "$T_FAIL" -eq 0 ] || t_done

wait_until 5 grep -q '^armed=1' "$T_DIR/wdsim.1.out"
t_ok $? "A armed its watchdog"
ha_json A | grep -q '"watchdog":{[^}]*"armed":true'
t_ok $? "A's status: watchdog armed"
echo "# A: $(ha_json A | grep -o '"watchdog":{[^}]*}')"
echo "# B: $(ha_json B | grep -o '"watchdog":{[^}]*}')"
ha_cli A status | grep -q "^watchdog: .*armed, timeout"
t_ok $? "A's status text has the watchdog line"
ha_json B | grep -q '"watchdog":{[^}]*"armed":false[^}]*cannotopen'
t_ok $? "B's status: watchdog NOT armed, with the reason"
grep -q "watchdog: cannot open.*NOT ARMED" "$T_DIR/B.log"
t_ok $? "B logged that its watchdog is not armed"
ha_serving B lb
t_ok $? "B serves lb anyway"

ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_wait_acks wa 100 20
t_ok $? "writer through $NS_VIP_A running"
ha_monitor_start

# ---- freeze A: the watchdog must fire before B may take over ----
t_stop=$(date +%s%3N)
kill -STOP "$PID_A"
wait "$SIMPID"; src=$?
t_fire=$(date +%s%3N)
_ha_forget_pid "$SIMPID"
[ $src -eq 3 ]
t_ok $? "the watchdog fired ($(cat "$T_DIR/wdsim.1.out" | tr '\n' ' '))"
d=$((t_fire - t_stop))
[ "$d" -lt "$HA_LEASE_MS" ]
t_ok $? "it fired $d ms after the freeze, before the lease ($HA_LEASE_MS ms) let B take over"
# the reset: the machine is gone at once, with its interfaces
for ifc in eth0 p0 p1; do ip -n "$NS_A" link set dev "$ifc" down; done
kill -KILL "$PID_A"; kill -CONT "$PID_A" 2>/dev/null
wait_until 10 _ha_gone "$PID_A"; _ha_forget_pid "$PID_A"; PID_A=
wait_until 30 ha_serving B la
t_ok $? "B took over la after the reset"
wait_until 10 ha_ip_held B "$NS_VIP_A"
t_ok $? "B holds $NS_VIP_A"
t_take=""
for _ in $(seq 1 50); do
	t_take=$(ha_monitor_first "$t_stop" B la)
	[ -n "$t_take" ] && break
	sleep 0.1
done
[ -n "$t_take" ] && [ "$t_take" -ge "$t_fire" ]
t_ok $? "B served la only after the watchdog fired (fire +$d ms, takeover +$(( ${t_take:-0} - t_stop )) ms)"
before=$(ha_acked wa)
wait_until 30 _ha_acked_ge wa $((before + 50))
t_ok $? "writer continued through B ($before -> $(ha_acked wa))"

# ---- A comes back (a rebooted machine); an orderly stop disarms ----
for ifc in eth0 p0 p1; do ip -n "$NS_A" link set dev "$ifc" up; done
start_sim 2
t_ok $? "watchdog simulator restarted"
ha_start A
t_ok $? "A restarted"
wait_until 60 ha_serving A la
t_ok $? "giveback: A serves la again"
wait_until 5 grep -q '^armed=1' "$T_DIR/wdsim.2.out"
t_ok $? "A armed its watchdog again"
ha_kill A TERM
wait "$SIMPID"; src=$?
_ha_forget_pid "$SIMPID"
[ $src -eq 0 ] && grep -q '^disarmed=1' "$T_DIR/wdsim.2.out"
t_ok $? "an orderly stop disarms the watchdog (magic close): $(tr '\n' ' ' <"$T_DIR/wdsim.2.out")"
wait_until 30 ha_serving B la
t_ok $? "B serves la after A's orderly stop"
ha_monitor_stop
ha_monitor_check
ha_writer_stop wa
ha_verify wa "$NS_VIP_A" la
t_done

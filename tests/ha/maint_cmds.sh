#!/bin/bash
# maint_cmds.sh — the maintenance commands through writing clients (ext4
# pool, client-mode writers on both service IPs):
#   node standby A / node unstandby A, takeover / giveback,
#   ip move 192.0.2.20 A / ip move 192.0.2.20 home.
# Each must print what it moves, wait until it is done, report the time
# each LUN was out of service (under HA_MAINT_MS, default 800 ms); the
# longest pause the writer saw across the command is printed and must
# stay under HA_MAINT_CLIENT_MS (default 1500 ms: generous, a reconnect
# that still meets the old head's MAC — rare — costs the 1 s SYN
# retransmission); the slave refuses them (exit 2).  Both heads stay
# dual active throughout; no acknowledged write is lost; the 50 ms status
# monitor never sees a LUN or IP on both heads.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

BOUND=${HA_MAINT_MS:-800}
CBOUND=${HA_MAINT_CLIENT_MS:-1500}
t_init ha_maint
ha_require
command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null ||
    t_skip_all "needs mkfs.ext4 and losetup"
ha_pair_up ext4 60 "ext4 pool and configuration prepared"
ha_monitor_start
ha_writers_start 50 20 -T 500 -C 30000
t_ok $? "client-mode writers running on la and lb"

max_gap() {	# max_gap ACKFILE FROM_EPOCH_MS
	awk -v f="$2" 'NR > 1 { if (p != "" && $2 > f && $2 - p > m) m = $2 - p
	    p = $2 } END { print m + 0 }' "$1"
}
_dac_ab() { ha_is_state A 'DAC(master)' && ha_is_state B 'DAC(slave)'; }

# run_cmd WHAT WRITER EXPECT...: run `duonas WHAT` on A, check its exit,
# that it printed each EXPECT, its out-of-service figures, the writer's
# pause across it, and that both heads stay dual active
run_cmd() {
	local what=$1 w=$2 t0 out rc gap p; shift 2
	t0=$(date +%s%3N)
	out=$(HA_CLI_TIMEOUT=40 ha_cli A $what 2>&1)
	rc=$?
	t_ok $rc "duonas $what: exit $rc"
	printf '%s\n' "$out" | sed 's/^/#   /'
	for p in "$@"; do
		printf '%s\n' "$out" | grep -q -- "$p"
		t_ok $? "duonas $what printed '$p'"
	done
	p=$(printf '%s\n' "$out" | sed -n 's/.*out of service \([0-9]*\) ms.*/\1/p' |
	    sort -n | tail -n 1)
	[ -n "$p" ] && [ "$p" -le "$BOUND" ]
	t_ok $? "duonas $what: longest out of service ${p:-?} ms (bound $BOUND ms)"
	ha_wait_acks "$w" 30 20
	gap=$(max_gap "$T_DIR/$w.ack" "$t0")
	[ "$gap" -le "$CBOUND" ]
	t_ok $? "writer $w: longest pause across it $gap ms (bound $CBOUND ms)"
	_dac_ab
	t_ok $? "still dual active ($(ha_state A), $(ha_state B))"
}

out=$(ha_cli B node standby A 2>&1)
t_eq $? 2 "the slave refuses node standby (exit 2): $out"

run_cmd "node standby A" wa "lun la: A -> B" "ip $NS_VIP_A: A -> B"
ha_serving B la && ha_serving B lb && ha_not_serving A la &&
    ha_ip_held B "$NS_VIP_A" && ns_has_addr b "$NS_VIP_A" &&
    ! ns_has_addr a "$NS_VIP_A"
t_ok $? "A drained: B serves la and lb and holds both IPs"
run_cmd "node unstandby A" wa "lun la: B -> A"
_ha_home
t_ok $? "each head serves its own again"

run_cmd "takeover" wb "lun lb: B -> A" "ip $NS_VIP_B: B -> A"
ha_serving A lb && ha_ip_held A "$NS_VIP_B" && ha_not_serving B lb
t_ok $? "A took lb and $NS_VIP_B over"
run_cmd "giveback" wb "lun lb: A -> B"
_ha_home
t_ok $? "each head serves its own again"

run_cmd "ip move $NS_VIP_B A" wb "ip $NS_VIP_B: B -> A" "lun lb: B -> A"
ha_serving A lb && ha_ip_held A "$NS_VIP_B"
t_ok $? "$NS_VIP_B and lb on A"
run_cmd "ip move $NS_VIP_B home" wb "lun lb: A -> B"
_ha_home
t_ok $? "each head serves its own again"

out=$(ha_cli A giveback 2>&1)
t_ok $? "a giveback with nothing to move: $out"
out=$(ha_cli A ip move 203.0.113.9 A 2>&1)
t_eq $? 1 "ip move of an unknown address refused: $out"
out=$(ha_cli A node standby C 2>&1)
t_eq $? 64 "node standby of an unknown head: usage error"
# options of the maintenance commands are parsed (they used to be
# refused as unexpected arguments)
out=$(ha_cli A master move --timeout 5 2>&1)
t_eq $? 64 "master move --timeout below 100 ms: usage error"
echo "$out" | grep -q "100..3600000" ; t_ok $? "the error names the range: $out"
out=$(ha_cli A shutdown --timeout 2>&1)
t_eq $? 64 "shutdown --timeout without a value: usage error"
echo "$out" | grep -q "needs a value" ; t_ok $? "the error says so: $out"

sleep 1
ha_monitor_stop
ha_monitor_check
for w in wa wb; do
	ha_writer_stop $w
	t_ok $? "writer $w ran to the end without a write error"
done
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

#!/bin/bash
# failover_kill.sh — kill -9 a head while NFS clients write through both
# service IPs; the survivor must take over the dead head's LUN and IP.
#
# Phase 1 (master path): kill -9 A (DAC(master)).  B impersonates the
#   master (IMPERSONATE) and ends DEGRADED, serves la, holds 192.0.2.10;
#   the client's neighbour entry for 192.0.2.10 moves to B's MAC; the
#   writer through 192.0.2.10 goes on.  A restarts and gets la and its IP
#   back (giveback).
# Phase 2 (slave path): kill -9 whichever head is then DAC(slave); the
#   other takes over its LUN and IP the same way.
# Throughout: a FILE_SYNC writer on each IP, a reader following the
# writer on 192.0.2.10; at the end every acknowledged record must be
# present and intact.  HA_MODE=ext4 (failover_ext4.sh) runs the same on
# a loop-device/ext4 pool and also checks that exactly one head has each
# LUN's file system mounted.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

MODE=${HA_TEST_MODE:-directory}
t_init "ha_kill_$MODE"
ha_require
[ "$MODE" = ext4 ] && { command -v mkfs.ext4 >/dev/null &&
    command -v losetup >/dev/null || t_skip_all "needs mkfs.ext4 and losetup"; }

ha_pair_prepare "$MODE" "$MODE pool and configuration prepared"
ha_start A && ha_start B
t_ok $? "both heads started in their namespaces"
ha_wait_up 30
[ "$T_FAIL" -eq 0 ] || t_done

MAC=([1]="$(ns_mac a eth0)" [2]="$(ns_mac b eth0)")
VIP_OF=([1]="$NS_VIP_A" [2]="$NS_VIP_B")
LUN_OF=([1]=la [2]=lb)
HEAD_OF=([1]=A [2]=B)
WR_OF=([1]=wa [2]=wb)

# mounted_on HEAD LUN: the LUN's file system is mounted in HEAD's mount
# namespace (ext4 mode)
mounted_on() {
	local pid
	eval "pid=\${PID_$1:-}"
	[ -n "$pid" ] && nsenter -t "$pid" -m findmnt -n \
	    "$(ha_export_dir "$2")" >/dev/null 2>&1
}
check_mounts() {	# check_mounts LUN HEAD: mounted there, not elsewhere
	[ "$MODE" = ext4 ] || return 0
	local other=A
	[ "$2" = A ] && other=B
	wait_until 10 mounted_on "$2" "$1"
	t_ok $? "$1's ext4 is mounted on head $2"
	! mounted_on "$other" "$1"
	t_ok $? "$1's ext4 is not mounted on head $other"
	# (no loop-device count: a killed head cannot detach its loop device,
	# just as a crashed machine's would simply vanish)
}
check_mounts la A
check_mounts lb B

ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_writer_start wb "$NS_VIP_B" lb -T 1000
ha_reader_start wa "$NS_VIP_A" la
ha_wait_acks wa 100 20 && ha_wait_acks wb 100 20
t_ok $? "writers acknowledged through both service IPs"
t_eq "$(ns_neigh_mac c "$NS_VIP_A")" "${MAC[1]}" \
    "client reaches $NS_VIP_A at A's MAC"

# kill_and_takeover VICTIM(1|2) WHAT: kill -9 the head, check the survivor
# takes over its LUN and IP, the client follows, writing goes on.
kill_and_takeover() {
	local v=$1 what=$2 s=$((3 - $1))
	local vh=${HEAD_OF[$v]} sh=${HEAD_OF[$s]} vip=${VIP_OF[$v]}
	local lun=${LUN_OF[$v]} w=${WR_OF[$v]} before t0
	before=$(ha_acked "$w")
	t0=$(date +%s%3N)
	ha_kill "$vh" KILL
	t_ok $? "$what: head $vh killed (kill -9)"
	wait_until 20 ha_serving "$sh" "$lun"
	t_ok $? "$what: $sh serves $lun ($(( $(date +%s%3N) - t0 )) ms)"
	wait_until 10 ha_ip_held "$sh" "$vip" &&
	    wait_until 5 ns_has_addr "$(ns_name "$sh")" "$vip"
	t_ok $? "$what: $sh holds $vip on its eth0"
	wait_until 10 ns_neigh_is c "$vip" "${MAC[$s]}"
	t_ok $? "$what: client's neighbour entry for $vip moved to $sh's MAC \
($(ns_neigh_mac c "$vip"))"
	wait_until 30 _ha_acked_ge "$w" $((before + 50))
	t_ok $? "$what: writer through $vip continued ($before -> $(ha_acked "$w"))"
	ha_wait_acks "${WR_OF[$s]}" 20 10
	t_ok $? "$what: writer through ${VIP_OF[$s]} unaffected"
	wait_until 15 ha_is_state "$sh" DEGRADED
	t_ok $? "$what: $sh is DEGRADED ($(ha_state "$sh"))"
	check_mounts "$lun" "$sh"
}

# ---- phase 1: the master dies ----
kill_and_takeover 1 "master killed"
grep -q 'via IMPERSONATE' "$T_DIR/B.log"
t_ok $? "master killed: B took the IMPERSONATE path (log)"

ha_start A
t_ok $? "A restarted"
ha_wait_home 40
wait_until 10 ns_neigh_is c "$NS_VIP_A" "${MAC[1]}"
t_ok $? "giveback: client's neighbour entry for $NS_VIP_A back on A's MAC"
ha_wait_acks wa 50 30
t_ok $? "giveback: writer through $NS_VIP_A continued"
check_mounts la A

# ---- phase 2: the slave dies ----
_one_slave() { ha_is_state A 'DAC(slave)' || ha_is_state B 'DAC(slave)'; }
wait_until 30 _one_slave
t_ok $? "after giveback one head is DAC(slave) (A $(ha_state A), B $(ha_state B))"
if ha_is_state A 'DAC(slave)'; then victim=1; else victim=2; fi
kill_and_takeover $victim "slave killed"

# ---- the data ----
ha_writer_stop wa; rca=$?
ha_writer_stop wb; rcb=$?
t_ok $((rca | rcb)) "writers ran to the end (wa pause $(ha_kv "$T_DIR/wa.out" \
client_pause_ms) ms, wb pause $(ha_kv "$T_DIR/wb.out" client_pause_ms) ms)"
sleep 0.5
ha_reader_stop wa
t_ok $? "reader read every record right after its ack (lost=$(ha_kv \
"$T_DIR/wa.rd.out" lost), read_pause_ms=$(ha_kv "$T_DIR/wa.rd.out" read_pause_ms))"
ha_verify wa "$NS_VIP_A" la
ha_verify wb "$NS_VIP_B" lb
t_done

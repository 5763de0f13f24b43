#!/bin/bash
# netns_smoke.sh — proves the failover test machinery itself, without the
# HA controller: the namespace topology, the generated two-head
# configuration (duonasd -t), one duonasd head running inside its
# namespace with its admin socket reachable from outside and serving NFS
# through the bridge across a kill -9 and restart, and the NFS
# client tools through the bridge across a service IP moved by hand from
# head A's namespace to head B's (export/nfsd-test stands in for the
# file service; deleting the client's neighbour entry stands in for the
# controller's gratuitous ARP).  Writer FILE_SYNC and COMMIT modes, the
# following reader and the verifier must lose no acknowledged record.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

t_init ha_netns_smoke
ns_require
NFSD_TEST="$DUONAS_BUILDDIR/export/nfsd-test"
[ -x "$HA_WRITER" ] && [ -x "$HA_VERIFY" ] ||
    t_skip_all "nfs_writer/nfs_verify not built"
[ -x "$NFSD_TEST" ] || t_skip_all "export/nfsd-test not built"

ns_setup || t_done

# --- configuration generator (and one real head, when it is built) ---
# nfs-bind only for A: the lone head serves NFS on its own address
ha_mk_conf directory "$NS_IP_A"
t_ok $? "generated duonas.conf, key and exports"
pool_prepare directory
t_ok $? "LUN files prepared"
if [ -x "$DUONASD" ]; then
	t_cmd "duonasd -t accepts the generated configuration for A" \
	    "$DUONASD" -t -c "$T_DIR/duonas.conf" -n A
	t_cmd "duonasd -t accepts the generated configuration for B" \
	    "$DUONASD" -t -c "$T_DIR/duonas.conf" -n B
	ha_start A
	t_ok $? "duonasd A runs in $NS_A; admin socket answers from outside"
	wait_until 10 test -n "$(ha_state A)"
	t_ok $? "status --json of A reports a state ($(ha_state A))"
	if ha_json A | grep -q '"nfs":{"running":true'; then
		# the real file service through the bridge; the URL has no
		# ports, so the writer asks A's portmapper.  kill -9 of the
		# lone head mid-write and a restart must lose nothing.
		ip netns exec "$NS_C" "$HA_WRITER" -t 600 -T 1000 \
		    -a "$T_DIR/w0.ack" "nfs://$NS_IP_A$(ha_export_dir la)/w0.dat" \
		    >"$T_DIR/w0.out" 2>"$T_DIR/w0.log" &
		WPID_w0=$!
		T_PIDS+=("$WPID_w0")
		ha_wait_acks w0 200 20
		t_ok $? "writer through duonasd A (via its portmapper)"
		ha_kill A KILL 2>/dev/null
		before=$(ha_acked w0)
		ha_start A
		t_ok $? "duonasd A killed (-9) mid-write and restarted"
		wait_until 30 _ha_acked_ge w0 $((before + 200))
		t_ok $? "writer continued after the restart ($before -> \
$(ha_acked w0))"
		ha_writer_stop w0
		t_ok $? "writer ended cleanly (pause $(ha_kv "$T_DIR/w0.out" \
client_pause_ms) ms)"
		ha_verify w0 "$NS_IP_A" la
	else
		echo "# duonasd A serves no NFS yet: live NFS check skipped"
	fi
	ha_kill A TERM
	t_ok $? "duonasd A stopped"
else
	echo "# duonasd not built: head start not exercised"
fi

# --- NFS through the bridge, service IP on A ---
start_nfsd() {	# start_nfsd HEAD
	local pid
	# one key for both: file handles are sealed with it, and B must
	# accept the handles A gave out
	[ -f "$T_DIR/nfs.key" ] ||
	    "$DUONAS_BUILDDIR/duonas" keygen "$T_DIR/nfs.key" >/dev/null
	ip netns exec "$(ns_name "$1")" "$NFSD_TEST" -e "$T_DIR/exports" \
	    -k "$T_DIR/nfs.key" -b "$NS_VIP_A" \
	    -p "$HA_NFS_PORT" -m "$HA_MOUNT_PORT" -t 2 \
	    >>"$T_DIR/nfsd-$1.log" 2>&1 &
	pid=$!
	disown "$pid"
	T_PIDS+=("$pid")
	eval "NPID_$1=$pid"
	wait_until 10 grep -q ready "$T_DIR/nfsd-$1.log"
}

ip -n "$NS_A" addr add "$NS_VIP_A/24" dev eth0
start_nfsd a
t_ok $? "nfsd-test serves la on $NS_VIP_A in $NS_A"

ha_writer_start w1 "$NS_VIP_A" la -i 2 -T 1000
ha_reader_start w1 "$NS_VIP_A" la
ha_wait_acks w1 200 20
t_ok $? "writer: 200 records acknowledged through the bridge"
MAC_A=$(ns_mac a eth0)
MAC_B=$(ns_mac b eth0)
t_eq "$(ns_neigh_mac c "$NS_VIP_A")" "$MAC_A" \
    "client's neighbour entry for $NS_VIP_A is A's eth0"

# --- move the service by hand: kill -9, IP to B, new server on B ---
before=$(ha_acked w1)
kill -KILL "$NPID_a"
wait "$NPID_a" 2>/dev/null
_ha_forget_pid "$NPID_a"
ip -n "$NS_A" addr del "$NS_VIP_A/24" dev eth0
ip -n "$NS_B" addr add "$NS_VIP_A/24" dev eth0
start_nfsd b
t_ok $? "nfsd-test serves la on $NS_VIP_A in $NS_B"
ip -n "$NS_C" neigh del "$NS_VIP_A" dev eth0 2>/dev/null
wait_until 20 _ha_acked_ge w1 $((before + 200))
t_ok $? "writer continued after the move ($before -> $(ha_acked w1))"
t_eq "$(ns_neigh_mac c "$NS_VIP_A")" "$MAC_B" \
    "client's neighbour entry for $NS_VIP_A is now B's eth0"

ha_writer_stop w1
t_ok $? "writer ended cleanly"
t_ok "$([ "$(ha_kv "$T_DIR/w1.out" reconnects)" -ge 1 ]; echo $?)" \
    "writer reconnected ($(ha_kv "$T_DIR/w1.out" reconnects)), \
client_pause_ms=$(ha_kv "$T_DIR/w1.out" client_pause_ms)"
sleep 0.3	# let the reader catch up with the last acks
ha_reader_stop w1
rc=$?
t_ok $rc "reader followed the writer across the move (lost=$(ha_kv \
"$T_DIR/w1.rd.out" lost), read_pause_ms=$(ha_kv "$T_DIR/w1.rd.out" \
read_pause_ms))"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/w1.rd.log" | head
ha_verify w1 "$NS_VIP_A" la

# --- UNSTABLE + COMMIT mode ---
ns_exec c "$HA_WRITER" -n 300 -m commit -s 8192 -a "$T_DIR/w2.ack" \
    "$(ha_url "$NS_VIP_A" la w2.dat)" >"$T_DIR/w2.out" 2>"$T_DIR/w2.log"
t_ok $? "commit-mode writer: $(ha_kv "$T_DIR/w2.out" records_acked) records"
ha_verify w2 "$NS_VIP_A" la

# --- the verifier notices damage (so a pass means something) ---
printf 'X' | dd of="$(ha_export_dir la)/w2.dat" bs=1 seek=$((8192 * 5 + 99)) \
    conv=notrunc 2>/dev/null
ns_exec c "$HA_VERIFY" "$(ha_url "$NS_VIP_A" la w2.dat)" "$T_DIR/w2.ack" \
    >"$T_DIR/w2.bad" 2>&1
t_eq "$?:$(ha_kv "$T_DIR/w2.bad" lost)" "1:1" \
    "verifier reports one damaged record"

# --- partition helpers ---
ns_cut_links
t_ok "$(ns_reach a "${NS_LINK_B[0]}" || ns_reach a "${NS_LINK_B[1]}"; \
    [ $? -ne 0 ]; echo $?)" "ns_cut_links: A no longer reaches B on p0/p1"
t_ok "$(ns_reach c "$NS_IP_A" && ns_reach c "$NS_IP_B"; echo $?)" \
    "ns_cut_links: the service network still works"
ns_heal_links
wait_until 5 ns_reach a "${NS_LINK_B[0]}" &&
    wait_until 5 ns_reach a "${NS_LINK_B[1]}"
t_ok $? "ns_heal_links: A reaches B on p0 and p1 again"

t_done

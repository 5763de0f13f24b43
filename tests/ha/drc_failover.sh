#!/bin/bash
# drc_failover.sh — the replicated duplicate request cache through a
# takeover and a giveback (directory pool; docs/nfs.md "Duplicate
# request cache").
#
# A retransmission is the same call (same xid) from the same client
# address on a new connection: tests/ha/drc_probe sends one REMOVE,
# exclusive CREATE (followed by the client's SETATTR, which ends the
# create verifier) or RENAME per run and prints its status and reply
# bytes.
# 1. Through A's service IP: REMOVE r1, CREATE c1, RENAME m1 -> m2, all
#    NFS3_OK; B already holds the three entries when the replies arrive.
#    kill -9 A; after the takeover (B serves la and 192.0.2.10) the same
#    three calls get the original replies, byte for byte, not NOENT /
#    EXIST / NOENT; a REMOVE of r1 with a new xid is executed (NOENT).
# 2. The reverse: B (serving la alone) answers REMOVE r2, CREATE c2,
#    RENAME n1 -> n2; A restarts, B pushes its cache when the link comes
#    up, the coordinated giveback moves la and the IP back to A, and A
#    answers the three retransmissions (and those of part 1) with the
#    original replies.
# 3. `duonas takeover` / `duonas giveback` on the master (both heads
#    up): calls through the other head's service IP, served by the master
#    during the takeover, are answered by their home head after the
#    giveback (plain replication, no rejoin).
# 4. B's event loop stalls: a call through A is answered once A's link
#    gives up on B, without waiting for B (the stall started 0.3 s
#    before the call).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/halib.sh"

PROBE="$DUONAS_BUILDDIR/tests/ha/drc_probe"
t_init ha_drc_failover
ha_require
[ -x "$PROBE" ] || t_skip_all "drc_probe not built (make check)"
ha_pair_prepare directory "pool and configuration prepared"
# the cache's keys in the nfs { } block (defaults 8192 and 120)
sed -i 's/^  threads 4$/  threads 4\n  drc-size 4096\n  drc-max-age 300/' \
    "$T_DIR/duonas.conf"
ha_pair_start 60
DA=$(ha_export_dir la)
touch "$DA/r1" "$DA/m1" "$DA/r2" "$DA/n1"
t_ok $? "files created in la"

# probe NAME VIP LUN XID OP ARGS...: run drc_probe from the client
# namespace; its output in $T_DIR/NAME.out, the status in ST_NAME, the
# body in BODY_NAME
probe() {
	local n=$1 vip=$2 lun=$3; shift 3
	ip netns exec "$NS_C" timeout 30 "$PROBE" "$vip" "$HA_NFS_PORT" \
	    "$(ha_export_dir "$lun")" "$@" >"$T_DIR/$n.out" 2>>"$T_DIR/probe.err"
	local rc=$?
	eval "ST_$n=\$(ha_kv \"\$T_DIR/\$n.out\" status)"
	eval "BODY_$n=\$(ha_kv \"\$T_DIR/\$n.out\" body)"
	return $rc
}
# again NAME VIP LUN XID OP ARGS...: the retransmission of probe NAME:
# same status, same reply bytes
again() {
	local n=$1 st body
	probe "${n}_again" "${@:2}"
	t_ok $? "retransmitted $n ($4 $5) answered"
	eval "st=\$ST_${n}_again body=\$BODY_${n}_again"
	t_eq "$st" 0 "retransmitted $n: NFS3_OK"
	eval "[ -n \"\$body\" ] && [ \"\$body\" = \"\$BODY_$n\" ]"
	t_ok $? "retransmitted $n: the original reply, byte for byte"
}
# drc_field HEAD KEY: a counter of HEAD's "drc" status object
drc_field() {
	ha_json "$1" | grep -o '"drc":{[^}]*}' | grep -o "\"$2\":[0-9]*" |
	    cut -d: -f2
}
drc_ge() { local v; v=$(drc_field "$1" "$2"); [ "${v:-0}" -ge "$3" ]; }

[ "$(drc_field A size),$(drc_field A max_age_s)" = 4096,300 ]
t_ok $? "drc-size and drc-max-age from duonas.conf: $(drc_field A size) entries, $(drc_field A max_age_s) s"

# ---- 1. kill -9 of the serving head ----
probe rm1 "$NS_VIP_A" la 0x1001 remove r1
t_ok $? "REMOVE r1 through A answered"
t_eq "$ST_rm1" 0 "REMOVE r1: NFS3_OK"
probe cr1 "$NS_VIP_A" la 0x1002 create c1 setattr
t_eq "$ST_cr1" 0 "exclusive CREATE c1 (+ SETATTR): NFS3_OK"
probe mv1 "$NS_VIP_A" la 0x1003 rename m1 m2
t_eq "$ST_mv1" 0 "RENAME m1 -> m2: NFS3_OK"
# the replies came after B acknowledged: no wait needed here
drc_ge B received 3
t_ok $? "B holds A's entries before the replies ($(drc_field B received) received)"
drc_ge A replicated 3
t_ok $? "A counts them replicated ($(drc_field A replicated))"
probe cr1x "$NS_VIP_A" la 0x1002 create c1
t_eq "$ST_cr1x" 0 "retransmitted CREATE on A itself: NFS3_OK (local entry)"

ha_kill A KILL
wait_until 30 eval 'ha_serving B la && ha_ip_held B "$NS_VIP_A" && ns_has_addr b "$NS_VIP_A"'
t_ok $? "B took la and $NS_VIP_A over"
hits0=$(drc_field B peer_hits)
again rm1 "$NS_VIP_A" la 0x1001 remove r1
again cr1 "$NS_VIP_A" la 0x1002 create c1
again mv1 "$NS_VIP_A" la 0x1003 rename m1 m2
drc_ge B peer_hits $((${hits0:-0} + 3))
t_ok $? "B answered them from A's entries (peer hits $(drc_field B peer_hits))"
probe rm1new "$NS_VIP_A" la 0x1004 remove r1
t_eq "$ST_rm1new" 2 "REMOVE r1 with a new xid is executed: NFS3ERR_NOENT"
probe cr1new "$NS_VIP_A" la 0x1005 create c1
t_eq "$ST_cr1new" 17 "exclusive CREATE c1 with a new xid: NFS3ERR_EXIST"
[ ! -e "$DA/r1" ] && [ -e "$DA/c1" ] && [ ! -e "$DA/m1" ] && [ -e "$DA/m2" ]
t_ok $? "la's directory: r1 gone, c1 there, m1 renamed to m2"

# ---- 2. the reverse, through a giveback ----
probe rm2 "$NS_VIP_A" la 0x2001 remove r2
t_eq "$ST_rm2" 0 "REMOVE r2 through B: NFS3_OK"
probe cr2 "$NS_VIP_A" la 0x2002 create c2 setattr
t_eq "$ST_cr2" 0 "exclusive CREATE c2 through B: NFS3_OK"
probe mv2 "$NS_VIP_A" la 0x2003 rename n1 n2
t_eq "$ST_mv2" 0 "RENAME n1 -> n2 through B: NFS3_OK"
drc_ge B local_only 3
t_ok $? "B alone: its entries stay local ($(drc_field B local_only))"
ha_start A
wait_until 60 _ha_home
t_ok $? "giveback: la and $NS_VIP_A back on A"
wait_until 10 drc_ge A received 6
t_ok $? "A got B's cache at the rejoin ($(drc_field A received) entries, B pushed $(drc_field B pushed))"
again rm2 "$NS_VIP_A" la 0x2001 remove r2
again cr2 "$NS_VIP_A" la 0x2002 create c2
again mv2 "$NS_VIP_A" la 0x2003 rename n1 n2
again rm1 "$NS_VIP_A" la 0x1001 remove r1
drc_ge A peer_hits 4
t_ok $? "A answered them from the pushed entries (peer hits $(drc_field A peer_hits))"
probe rm2new "$NS_VIP_A" la 0x2004 remove r2
t_eq "$ST_rm2new" 2 "REMOVE r2 with a new xid on A: NFS3ERR_NOENT"

# ---- 3. duonas takeover / giveback, both heads up ----
# the master (B since part 2) takes over the other head's LUN and IP
if ha_is_state A 'DAC(master)'; then M=A S=B SL=lb SVIP=$NS_VIP_B
else M=B S=A SL=la SVIP=$NS_VIP_A; fi
SD=$(ha_export_dir $SL)
touch "$SD/r3" "$SD/k1"
out=$(ha_cli $M takeover 2>&1)
t_ok $? "duonas takeover on the master $M"
wait_until 30 eval 'ha_serving $M $SL && ha_ip_held $M "$SVIP" && ns_has_addr ${M,,} "$SVIP"'
t_ok $? "$M serves $SL and holds $SVIP"
probe rm3 "$SVIP" $SL 0x3001 remove r3
t_eq "$ST_rm3" 0 "REMOVE r3 through $M: NFS3_OK"
probe mv3 "$SVIP" $SL 0x3002 rename k1 k2
t_eq "$ST_mv3" 0 "RENAME k1 -> k2 through $M: NFS3_OK"
out=$(ha_cli $M giveback 2>&1)
t_ok $? "duonas giveback on $M"
wait_until 30 _ha_home
t_ok $? "$SL and $SVIP back on $S"
again rm3 "$SVIP" $SL 0x3001 remove r3
again mv3 "$SVIP" $SL 0x3002 rename k1 k2
probe rm3new "$SVIP" $SL 0x3003 remove r3
t_eq "$ST_rm3new" 2 "REMOVE r3 with a new xid on $S: NFS3ERR_NOENT"

# ---- 4. a peer that stops answering is not waited for ----
# B's event loop stalls for 2.5 s (no acknowledgement, no link pong): A's
# link declares B's paths dead after 400 ms (link { dead }) and the reply
# goes out then, not when B answers again.  (Afterwards B finds it was
# frozen and fences itself; A takes over: the test ends here.)
touch "$DA/r4"
HA_CLI_TIMEOUT=1 ha_cli B health fault loop 2500 >/dev/null 2>&1 &
sleep 0.3
t0=$(date +%s%3N)
probe rm4 "$NS_VIP_A" la 0x4001 remove r4
t1=$(date +%s%3N)
t_eq "$ST_rm4" 0 "REMOVE r4 through A while B's loop stalls: NFS3_OK"
[ $((t1 - t0)) -lt 1800 ]
t_ok $? "answered in $((t1 - t0)) ms, before B's loop runs again"
wait

ha_cli A status | grep 'drc:' | sed 's/^/# A /'
ha_cli B status | grep 'drc:' | sed 's/^/# B /'
[ -s "$T_DIR/probe.err" ] && sed 's/^/# probe: /' "$T_DIR/probe.err"
t_done

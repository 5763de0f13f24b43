#!/bin/bash
# Bad input: garbage and truncated frames to the link port, malformed CLI
# arguments, a corrupt LMDB file, a bad configuration.
. "$(dirname "$0")/../lib.sh"
t_init pso_badinput
mk_cluster 1
start_head A; start_head B; both_up; t_ok $? "cluster up"

# B listens (A has the lower id and dials); send junk to B's link port
port=$((T_BASE))
addr=127.$T_NET.0.2
send() { timeout 3 bash -c "exec 3<>/dev/tcp/$addr/$port; printf '$1' >&3; sleep 0.2" 2>/dev/null; }
send 'GET / HTTP/1.0\r\n\r\n'
send 'DNL1\x01\x02\x00\x00\xff\xff\xff\xff'
send 'DNL1'
head -c 5000 /dev/urandom >"$T_DIR/junk"
timeout 3 bash -c "exec 3<>/dev/tcp/$addr/$port; cat '$T_DIR/junk' >&3; sleep 0.2" 2>/dev/null
t_cmd "B still serves the CLI after junk" cli B status
t_cmd "replication still works after junk" cli A pso set after-junk 1
t_eq "$(cli B pso get after-junk)" 1 "B has the write"
is_state B 'DAC(slave)'; t_ok $? "B still DAC(slave), peer link intact"
grep -qi "drop\|reject\|bad" "$T_DIR/B.log"
t_ok $? "B logged the rejected frames"

# malformed CLI arguments: exit 64 and a message naming the problem
chk_usage() {	# chk_usage NEEDLE ARGS...
	local needle=$1; shift
	out=$(cli A "$@" 2>&1); rc=$?
	[ $rc -eq 64 ] && echo "$out" | grep -q -- "$needle"
	t_ok $? "duonas $* -> exit 64, '$needle' (got $rc: $(echo $out | head -c 120))"
}
chk_usage "unknown command 'frobnicate'" frobnicate
chk_usage "unknown command 'pso sett'" pso sett x
chk_usage "needs NAME and VALUE" pso set onlyname
chk_usage "needs exactly one NAME" pso get
chk_usage "timeout 'soon' is not a number" pso lock x --timeout soon
chk_usage "owner needs a value" pso set a b --owner
chk_usage "path '7' is too large" link block 7
chk_usage "json is not supported" pso set a b --json
out=$("$DUONAS" -s "$T_DIR/nope.sock" status 2>&1); rc=$?
[ $rc -eq 69 ] && echo "$out" | grep -q "cannot reach duonasd"
t_ok $? "unreachable daemon -> exit 69 with a clear message"
"$DUONAS" pso set --help | grep -q "^usage: duonas pso set"
t_ok $? "pso set --help works without a daemon"

# corrupt LMDB file: no crash, a clear error naming the store, which is
# moved aside and recovered from the peer (issue 10: the daemon used to
# exit here; docs/pso.md, "Store damage and loss")
stop_head B
db=$(find "$T_DIR/B/state" -name data.mdb | head -n 1)
[ -n "$db" ]; t_ok $? "B has an LMDB file ($db)"
dd if=/dev/urandom of="$db" bs=4096 count=4 conv=notrunc 2>/dev/null
lb=$(wc -l <"$T_DIR/B.log")
start_head B; t_ok $? "duonasd starts on a corrupt store"
wait_until 20 pso_synced B; t_ok $? "B recovers from the peer and serves PSO"
kill -0 "$PID_B" 2>/dev/null; t_ok $? "B is still running (no crash)"
tail -n +"$((lb + 1))" "$T_DIR/B.log" | grep -q "pso: .*data.mdb.*damaged"
t_ok $? "the error names the store: $(tail -n +"$((lb + 1))" "$T_DIR/B.log" | grep 'data.mdb' | head -n 1)"
[ -f "$db.damaged" ]; t_ok $? "the damaged file is kept as data.mdb.damaged"
t_eq "$(cli B pso get after-junk 2>&1)" 1 "B has its objects back from A"

# bad configuration
printf 'cluster x\nhead A {\n id 1\n role chief\n}\n' >"$T_DIR/bad.conf"
out=$("$DUONASD" -c "$T_DIR/bad.conf" -n A 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "bad.conf:4: role 'chief'"
t_ok $? "bad duonas.conf names file, line and problem: $out"
t_done

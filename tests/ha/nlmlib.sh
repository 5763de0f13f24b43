# tests/ha/nlmlib.sh — NLM lock clients for the failover tests (bash).
#
# Source after tests/ha/halib.sh and t_init.  The clients are
# tests/nfs/nlmtool runs in the client namespace (netns.sh's dn<id>-c,
# 192.0.2.100); each call names its own caller name and svid, so one
# namespace holds client 1 and client 2 (two NLM clients, one host
# address).  The server calls a blocked lock's GRANTED back through the
# client's portmapper on NLM_CB_PMAP (duonas.conf nlm callback-portmap-port),
# which nlmtool -c serves itself.
#   nlm_require                 skip unless nlmtool is built
#   nlm_conf                    append the nlm { } block to duonas.conf
#   nlm NAME SVID VIP LUN FILE CMD...   one nlmtool run; output in
#                               $T_DIR/nlm.out (also echoed as "# " lines)
#   nlm_ans KEY                 KEY's value in the last run's output (the
#                               last line that has KEY=)
#   nlm_expect MSG WANT NAME SVID VIP LUN FILE CMD...  one check: the
#                               last answer of that run is WANT
#   nlm_bg_start VAR NAME SVID VIP LUN FILE CMD...  nlmtool -c in the
#                               background (PID in VAR, output in
#                               $T_DIR/VAR.out)
#   nlm_wait_grace_end VIP LUN SECS  until a TEST is not answered
#                               DENIED_GRACE_PERIOD (status)

NLMTOOL="$DUONAS_BUILDDIR/tests/nfs/nlmtool"
NLM_GRACE=${NLM_GRACE:-4}
NLM_CB_PMAP=${NLM_CB_PMAP:-10111}
# per try / whole call budget of nlmtool: a call to a dead head is sent
# again every NLM_TRY_MS on a fresh connection until NLM_TOTAL_MS
NLM_TRY_MS=${NLM_TRY_MS:-500}
NLM_TOTAL_MS=${NLM_TOTAL_MS:-20000}

nlm_require() {
	[ -x "$NLMTOOL" ] || t_skip_all "tests/nfs/nlmtool not built (make check)"
}

nlm_conf() {
	{
		echo "nlm {"
		echo "  grace-period $NLM_GRACE"
		echo "  callback-portmap-port $NLM_CB_PMAP"
		echo "}"
	} >>"$T_DIR/duonas.conf"
}

nlm() {
	local name=$1 svid=$2 vip=$3 lun=$4 file=$5; shift 5
	ns_exec c "$NLMTOOL" -p 111 -n "$name" -s "$svid" -t "$NLM_TRY_MS" \
	    -T "$NLM_TOTAL_MS" "$vip" "$(ha_export_dir "$lun")" "$file" "$@" \
	    >"$T_DIR/nlm.out" 2>"$T_DIR/nlm.err"
	local rc=$?
	sed "s/^/# $name\/$svid $file: /" "$T_DIR/nlm.out"
	return $rc
}

nlm_ans() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$T_DIR/nlm.out" | tail -n 1
}

# _nlm_last: the value of the last answer line's first key (lock=VALUE)
_nlm_last() {
	tail -n 1 "$T_DIR/nlm.out" | sed -n 's/^\([a-z_]*\)=\([^ ]*\).*/\2/p'
}

nlm_expect() {
	local msg=$1 want=$2 got; shift 2
	nlm "$@"
	got=$(_nlm_last)
	t_eq "$got" "$want" "$msg ($(tail -n 1 "$T_DIR/nlm.out"))"
	[ "$got" = "$want" ] || sed 's/^/#   stderr: /' "$T_DIR/nlm.err" | head -n 5
	[ "$got" = "$want" ]
}

nlm_bg_start() {
	local var=$1 name=$2 svid=$3 vip=$4 lun=$5 file=$6 pid; shift 6
	ns_exec c "$NLMTOOL" -p 111 -c "$NLM_CB_PMAP" -n "$name" -s "$svid" \
	    -t "$NLM_TRY_MS" -T "$NLM_TOTAL_MS" "$vip" "$(ha_export_dir "$lun")" \
	    "$file" "$@" >"$T_DIR/$var.out" 2>"$T_DIR/$var.err" &
	pid=$!
	T_PIDS+=("$pid")
	eval "$var=$pid"
}

_nlm_not_grace() {
	ns_exec c "$NLMTOOL" -p 111 -n grace-probe -s 1 -t 500 -T 2000 "$1" \
	    "$(ha_export_dir "$2")" grace-probe test 0 1 2>/dev/null |
	    grep -q '^test=granted'
}
# (wait_until counts polls, and a probe may take its 2 s: bound by the clock)
nlm_wait_grace_end() {
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		_nlm_not_grace "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}

#!/bin/bash
# http.sh — the status and metrics listener (docs/metrics.md) on a real
# pair of heads in network namespaces.
#
# Head A has no `http` line: the default, 127.0.0.1:9477 in its own
# namespace.  Head B listens on [::1]:9478 (IPv6) when its namespace has
# IPv6 loopback, else on 127.0.0.1:9478.  Checked: /status is the
# `status --json` document (valid JSON, names the HA state); /metrics
# passes `promtool check metrics` and its values are right (the LUN
# served, the HA state, NFS WRITE calls and bytes grow after a client
# wrote through A); unknown paths answer 404, other methods 405, HEAD has
# no body; a bad `http` address is a configuration error (exit 78) for
# `duonasd -t`; a port the head cannot bind is logged, not fatal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ha/netns.sh"
. "$(dirname "$0")/../ha/halib.sh"

t_init http
ha_require
command -v curl >/dev/null || t_skip_all "curl not installed (apt-get install curl)"
PROMTOOL=$(command -v promtool || true)

ha_pair_prepare directory
# IPv6 loopback in B's namespace (the host may default to IPv6 off)
ip netns exec "$(ns_name B)" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 \
    2>/dev/null
if ip -n "$(ns_name B)" -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	B_HOST='[::1]'
else
	echo "# no IPv6 loopback in the namespace: B listens on IPv4"
	B_HOST=127.0.0.1
fi
# an http line in head B's block only (A keeps the default)
sed -i "/^head B {/a\\  http $B_HOST:9478" "$T_DIR/duonas.conf"
ha_pair_start

# hget HEAD PATH [curl args]: the body (curl fails on HTTP errors)
hget() {
	local h=$1 p=$2 url; shift 2
	if [ "$h" = A ]; then url="http://127.0.0.1:9477$p"
	else url="http://$B_HOST:9478$p"; fi
	ip netns exec "$(ns_name "$h")" curl -sS -g --max-time 5 "$@" "$url"
}
# hcode HEAD PATH [curl args]: the HTTP status code only
hcode() { hget "$@" -o /dev/null -w '%{http_code}'; }
# metric HEAD SAMPLE: the value of one sample line, e.g.
# 'duonas_lun_served{lun="la"}'
metric() {
	hget "$1" /metrics | awk -v s="$2" 'index($0, s " ") == 1 { print $2 }'
}

# ---- /status ----
hget A /status >"$T_DIR/a.status.json"
t_ok $? "GET /status on A (default 127.0.0.1:9477)"
python3 -m json.tool "$T_DIR/a.status.json" >/dev/null
t_ok $? "A's /status is valid JSON"
st=$(ha_state A)
grep -q "\"state\": *\"$st\"" "$T_DIR/a.status.json"
t_ok $? "A's /status names its HA state ($st)"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["head"] == "A" and "pso" in d and "links" in d else 1)
' "$T_DIR/a.status.json"
t_ok $? "A's /status has head, links and pso like status --json"
hget B /status | python3 -m json.tool >/dev/null
t_ok $? "GET /status on B ($B_HOST:9478) is valid JSON"

# ---- /metrics ----
hget A /metrics >"$T_DIR/a.metrics"
t_ok $? "GET /metrics on A"
hget B /metrics >"$T_DIR/b.metrics"
t_ok $? "GET /metrics on B"
if [ -n "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T_DIR/a.metrics" >"$T_DIR/promtool.log" 2>&1
	t_ok $? "promtool check metrics accepts A's page ($(head -c 300 "$T_DIR/promtool.log" | tr '\n' ' '))"
	"$PROMTOOL" check metrics <"$T_DIR/b.metrics" >>"$T_DIR/promtool.log" 2>&1
	t_ok $? "promtool check metrics accepts B's page"
else
	echo "# SKIP promtool checks: promtool not installed (Debian package prometheus)"
fi
grep -q "^duonas_ha_state{state=\"$st\"} 1$" "$T_DIR/a.metrics"
t_ok $? "duonas_ha_state{state=\"$st\"} is 1 on A"
t_eq "$(grep -c '^duonas_ha_state{.*} 1$' "$T_DIR/a.metrics")" 1 \
    "exactly one HA state is 1"
t_eq "$(metric A 'duonas_lun_served{lun="la"}')" 1 "A serves la (metric)"
t_eq "$(metric A 'duonas_lun_served{lun="lb"}')" 0 "A does not serve lb"
t_eq "$(metric B 'duonas_lun_served{lun="lb"}')" 1 "B serves lb"
t_eq "$(metric A 'duonas_lun_home{lun="la",home="A"}')" 1 "la's home is A"
grep -q "^duonas_service_ip_held{address=\"$NS_VIP_A\",dev=\"eth0\",home=\"A\"} 1$" \
    "$T_DIR/a.metrics"
t_ok $? "A holds its service IP (metric)"
grep -q '^duonas_link_path_up{path="0",.*} 1$' "$T_DIR/a.metrics"
t_ok $? "link path 0 is up (metric)"
grep -q '^duonas_software_info{version="[^"]*",slot="[^"]*",head="A"} 1$' \
    "$T_DIR/a.metrics"
t_ok $? "software info metric"
[ "$(metric A duonas_heartbeat_sent_total)" -gt 0 ]
t_ok $? "A counts the heartbeats it sent"
t_eq "$(metric A 'duonas_heartbeat_channel_good{channel="path0"}')" 1 \
    "A hears B's heartbeats on path 0"
t_eq "$(metric A duonas_pso_store_ok)" 1 "A's PSO store is ok (metric)"
gen=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["generation"])' \
    "$T_DIR/a.status.json")
t_eq "$(metric A duonas_config_generation)" "$gen" \
    "duonas_config_generation equals /status' config generation"
# every family on the page is described in docs/metrics.md
undoc=$(grep '^# TYPE ' "$T_DIR/a.metrics" | awk '{ print $3 }' |
    while read -r m; do
	grep -q "\`$m[{\`]" "$DUONAS_SRCDIR/docs/metrics.md" || echo "$m"
    done)
t_eq "$undoc" "" "docs/metrics.md describes every metric family"

# ---- NFS counters grow with client traffic ----
w0=$(metric A 'duonas_nfs_request_duration_seconds_count{procedure="write"}')
b0=$(metric A 'duonas_nfs_written_bytes_total')
ha_writer_start wa "$NS_VIP_A" la -T 1000
ha_wait_acks wa 20 20
t_ok $? "an NFS writer through A acknowledged 20 records"
ha_writer_stop wa >/dev/null
w1=$(metric A 'duonas_nfs_request_duration_seconds_count{procedure="write"}')
b1=$(metric A 'duonas_nfs_written_bytes_total')
[ "${w1:-0}" -ge $(( ${w0:-0} + 20 )) ]
t_ok $? "WRITE calls counted: $w0 -> $w1"
[ "${b1:-0}" -gt "${b0:-0}" ]
t_ok $? "written bytes counted: $b0 -> $b1"
inf=$(metric A 'duonas_nfs_request_duration_seconds_bucket{procedure="write",le="+Inf"}')
[ -n "$inf" ] && [ "$inf" = "$w1" ]
t_ok $? "the +Inf bucket ($inf) equals the count"
if [ -n "$PROMTOOL" ]; then
	hget A /metrics | "$PROMTOOL" check metrics >>"$T_DIR/promtool.log" 2>&1
	t_ok $? "promtool still accepts A's page after NFS traffic"
fi

# ---- other paths and methods ----
t_eq "$(hcode A /nothing)" 404 "unknown path: 404"
t_eq "$(hcode A /metrics -X POST)" 405 "POST /metrics: 405"
t_eq "$(hcode A /status -X DELETE)" 405 "DELETE /status: 405"
t_eq "$(hcode A /metrics -I)" 200 "HEAD /metrics: 200"
n=$(hget A /metrics -I | wc -c)
hget A /metrics -I | grep -qi '^content-type: text/plain; version=0.0.4'
t_ok $? "HEAD answers the Prometheus content type (headers only, $n bytes)"

# ---- the connection limit: 16 kept-alive connections, the 17th gets 503;
# once one closes, a new one is served ----
ip netns exec "$(ns_name A)" python3 - >"$T_DIR/conns.out" 2>&1 <<'PY'
import http.client, time
def get(c):
    c.request("GET", "/status")
    r = c.getresponse()
    r.read()
    return r.status
cs = [http.client.HTTPConnection("127.0.0.1", 9477, timeout=5)
      for _ in range(16)]
print("kept", [get(c) for c in cs].count(200))
extra = http.client.HTTPConnection("127.0.0.1", 9477, timeout=5)
print("17th", get(extra))
extra.close()
cs[0].close()
for _ in range(50):
    time.sleep(0.1)
    c = http.client.HTTPConnection("127.0.0.1", 9477, timeout=5)
    st = get(c)
    c.close()
    if st == 200:
        break
print("after", st)
PY
grep -q '^kept 16$' "$T_DIR/conns.out" && grep -q '^17th 503$' "$T_DIR/conns.out"
t_ok $? "16 connections served, the 17th answered 503 ($(tr '\n' ' ' <"$T_DIR/conns.out"))"
grep -q '^after 200$' "$T_DIR/conns.out"
t_ok $? "after one closed, a new connection is served"
[ "$(metric A duonas_http_connections_refused_total)" -ge 1 ]
t_ok $? "the refusal is counted"

# ---- configuration: a bad address refused, a failed bind survived ----
sed 's/^  http .*/  http 999.1.2.3:80/' "$T_DIR/duonas.conf" >"$T_DIR/bad.conf"
out=$("$DUONASD" -t -c "$T_DIR/bad.conf" -n B 2>&1)
t_eq $? 78 "duonasd -t: a bad http address is a configuration error"
echo "$out" | grep -q "http '999.1.2.3:80'"
t_ok $? "the message names the address: $out"

# B restarted while another program holds its port
ha_kill B TERM
t_ok $? "B stopped"
bhost=${B_HOST#[}; bhost=${bhost%]}
ip netns exec "$(ns_name B)" python3 -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9478)); s.listen(1); time.sleep(120)
' "$bhost" &
T_PIDS+=("$!")
_held() { ip netns exec "$(ns_name B)" ss -Hltn "sport = :9478" | grep -q 9478; }
wait_until 5 _held
t_ok $? "another program listens on B's http port"
ha_start B
t_ok $? "B starts while its http port is taken"
wait_until 10 grep -q 'http: cannot listen on' "$T_DIR/B.log"
t_ok $? "the bind failure is logged"
ha_wait_up 30	# checks that both heads are up
# A took B's LUN and IP over while B was down and gave them back
hget A /metrics >"$T_DIR/a2.metrics"
grep -Eq '^duonas_ha_last_takeover_seconds [0-9.e+-]+$' "$T_DIR/a2.metrics"
t_ok $? "A reports its takeover's duration ($(grep '^duonas_ha_last_takeover_seconds' "$T_DIR/a2.metrics"))"
grep -Eq '^duonas_ha_last_giveback_seconds [0-9.e+-]+$' "$T_DIR/a2.metrics"
t_ok $? "A reports its giveback's duration ($(grep '^duonas_ha_last_giveback_seconds' "$T_DIR/a2.metrics"))"
[ "$(metric A duonas_ha_state_transitions_total)" -ge 5 ]
t_ok $? "A counted the DEGRADED round trip in its state transitions"
if [ -n "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T_DIR/a2.metrics" >>"$T_DIR/promtool.log" 2>&1
	t_ok $? "promtool accepts A's page after takeover and giveback"
fi
t_done

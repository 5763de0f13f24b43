#!/bin/bash
# tests/demo.sh BUILDDIR — the two-head demo started by
# `sudo ./quickstart.sh demo`.
#
# Heads A (configured master) and B run in network namespaces on one
# bridge with a client namespace, so service IPs really move and gratuitous
# ARP really updates the client.  Each head serves one NFS export from its
# own LUN (a file holding the private extent + a directory) through one
# service IP (A: 192.0.2.10, B: 192.0.2.20); A's export is also an SMB
# share ("demo", user "demo", password "duonas-demo", Samba over the FUSE
# export layer).  The demo writes a file over NFS, shows a persistent
# shared object replicated between the heads, and prints what to try:
# nfs-ls / nfs-cp and smbclient from the client, kill -9 of head A,
# duonas status on B.  Foreground; Ctrl-C stops the heads and removes every
# namespace, file and directory it created.  The same library drives the
# failover tests (tests/ha/halib.sh, tests/ha/netns.sh).
set -u
B=${1:?usage: demo.sh BUILDDIR}
export DUONAS_BUILDDIR=$(cd "$B" && pwd)
export DUONAS_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$DUONAS_SRCDIR/tests/lib.sh"
. "$DUONAS_SRCDIR/tests/ha/netns.sh"
. "$DUONAS_SRCDIR/tests/ha/halib.sh"
. "$DUONAS_SRCDIR/tests/ha/smblib.sh"
. "$DUONAS_SRCDIR/tests/ha/bootlib.sh"

# demo tunables: the product defaults except a shorter boot wait
HA_LEASE_MS=3000
HA_BOOT_WAIT_MS=3000

t_init demo
trap 'echo; echo "demo: stopping the heads and removing $T_DIR and the namespaces"; exit 0' INT TERM
if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
	echo "demo: needs root and network namespaces (ip netns)" >&2
	exit 1
fi
ns_setup || { echo "demo: cannot create the network namespaces" >&2; exit 1; }
# Both heads run a signed software image from their slot A, started
# through duonas-boot as systemd would (docs/boot-images.md): a
# development key made here, the image made from the build directory.
BOOT_GOOD_AFTER=10
HA_CONF_EXTRA=$(boot_conf_extra)
ha_mk_conf directory || exit 1
sed -i "s/^cluster t-demo/cluster demo/" "$T_DIR/duonas.conf"
pool_prepare directory || exit 1
# A's export is an SMB share too (docs/smb.md); smbd works as the SMB
# user, who must be able to reach the run directory
SMB_DEMO=0
if [ -x /usr/sbin/smbd ]; then
	sed -i "1s/-id=1,rw,no_root_squash,sync \*/-id=1,rw,no_root_squash,sync,protocols=nfs:smb,share=demo */" "$T_DIR/exports"
	chmod 0755 "$T_DIR"
	chmod 0777 "$(ha_export_dir la)"
	SMB_DEMO=1
fi
DEMO_VERSION=$("$DUONASD" -V | awk '{ print $2 }')
if ! boot_keys || ! boot_mkimage "$T_DIR/duonas.img" "$DEMO_VERSION" ||
    ! boot_install A "$T_DIR/duonas.img" >>"$T_DIR/A.log" 2>&1 ||
    ! boot_install B "$T_DIR/duonas.img" >>"$T_DIR/B.log" 2>&1; then
	echo "demo: cannot make or install the software image; see $T_DIR/*.log" >&2
	exit 1
fi
demo_start() {	# duonas-boot picks the slot and execs its duonasd (same PID)
	local h=$1 pid
	ip netns exec "$(ns_name "$h")" "$DUONAS_BOOT" -c "$T_DIR/duonas.conf" \
	    -n "$h" -- -d >>"$T_DIR/$h.log" 2>&1 &
	pid=$!
	disown "$pid"
	T_PIDS+=("$pid")
	eval "PID_$h=$pid"
	wait_until 10 ha_cli "$h" version
}
demo_start A && demo_start B || { echo "demo: a head did not start; see $T_DIR/*.log" >&2; exit 1; }
echo "demo: waiting for both heads to serve (boot, INIT exchange, reservations) ..."
if ! wait_until 30 ha_serving A la || ! wait_until 30 ha_serving B lb; then
	echo "demo: the heads did not come up; logs:" >&2
	tail -n 20 "$T_DIR/A.log" "$T_DIR/B.log" >&2
	exit 1
fi
CLI="$DUONAS"
C="ip netns exec $NS_C"
URL_A="nfs://$NS_VIP_A$(ha_export_dir la)"
URL_B="nfs://$NS_VIP_B$(ha_export_dir lb)"
echo "hello from the duonas demo, $(date)" >"$T_DIR/hello.txt"
$C nfs-cp "$T_DIR/hello.txt" "$URL_A/hello.txt" >/dev/null 2>&1
"$CLI" -s "$T_DIR/A/run/duonasd.sock" pso set greeting "written on A at $(date +%T)" >/dev/null
SMB_TRY="  (SMB: Samba is not installed; apt-get install samba smbclient)"
if [ $SMB_DEMO = 1 ]; then
	# the user is replicated to both heads; its Unix account (made by
	# the heads) goes at exit unless it was there before
	id demo >/dev/null 2>&1 || T_CLEANUP_CMDS+=("userdel -f demo")
	if printf 'duonas-demo\n' | HA_CLI_TIMEOUT=20 ha_cli A smb user add demo >/dev/null; then
		SMB_TRY="  # SMB: share 'demo' (A's export), user demo, password duonas-demo
  $C smbclient -U demo%duonas-demo //$NS_VIP_A/demo -c 'ls; put /etc/hostname hostname.txt'
  $CLI -s $T_DIR/A/run/duonasd.sock smb user ls"
	else
		SMB_TRY="  (SMB: adding the demo user failed; see $T_DIR/A.log)"
	fi
fi

cat <<TXT

================================ duonas demo ================================
Two heads in network namespaces $NS_A and $NS_B, a client in $NS_C,
all on one bridge (192.0.2.0/24).  State, LUN files and logs: $T_DIR

$("$CLI" -s "$T_DIR/A/run/duonasd.sock" status | sed 's/^/  A| /')

$("$CLI" -s "$T_DIR/B/run/duonasd.sock" status | sed 's/^/  B| /')

Object 'greeting' written on A, read on B:
  $("$CLI" -s "$T_DIR/B/run/duonasd.sock" pso get greeting)

Try it (as root, in another terminal):
  # list and copy files over NFS from the client namespace
  $C nfs-ls $URL_A
  $C nfs-cat $URL_A/hello.txt
  $C nfs-cp /etc/hostname $URL_B/hostname
$SMB_TRY
  # a shell on the client
  ip netns exec $NS_C bash
  # the admin CLI of each head
  $CLI -s $T_DIR/A/run/duonasd.sock status
  $CLI -s $T_DIR/B/run/duonasd.sock exports
  # file locks (NLM v4 / NSM; a Linux client mounts without 'nolock'):
  # the cluster lock table, the same on both heads, kept through failover
  $CLI -s $T_DIR/A/run/duonasd.sock locks
  $CLI -s $T_DIR/B/run/duonasd.sock locks

Software (signed images in A/B slots, docs/boot-images.md):
  $CLI -s $T_DIR/A/run/duonasd.sock image status
  # a new version of the same build, signed with the demo key, then a
  # rolling upgrade (each head hands its exports to the other in turn)
  $DUONAS_MKIMAGE -k $T_DIR/k.key -o $T_DIR/new.img --version $DEMO_VERSION.1 $DUONAS_BUILDDIR
  $CLI -s $T_DIR/A/run/duonasd.sock image upload $T_DIR/new.img
  $CLI -s $T_DIR/A/run/duonasd.sock image upgrade

Watch a failover:
  kill -9 $PID_A          # head A dies
  $CLI -s $T_DIR/B/run/duonasd.sock status
      -> B is DEGRADED and serves both exports; 192.0.2.10 moved to B
  ip -n $NS_C neigh       # the client's ARP entry for 192.0.2.10 now
                          # points at B's MAC (gratuitous ARP)
  $C nfs-cat $URL_A/hello.txt   # still works, through B
  $C smbclient -U demo%duonas-demo //$NS_VIP_A/demo -c ls   # SMB too
Logs: $T_DIR/A.log $T_DIR/B.log
Press Ctrl-C to stop the demo and remove everything it created.
==============================================================================
TXT
# Stay in the foreground until Ctrl-C (bounded only by the user).
while :; do sleep 1; done

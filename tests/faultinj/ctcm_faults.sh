#!/bin/bash
# Configuration commits of two real heads with syscall faults injected
# into the master (or the slave) at run time through the shim's control
# file: the private-extent replica writes failing (fdatasync EIO on
# every LUN, then on one), the state directory's rename and fsync
# failing with ENOSPC.  Each time the fault must have fired, the admin
# gets an answer that names the problem, no head installs a generation
# that was not committed, and once the fault is gone the next commit
# works and both heads and every replica agree.  Last, the disk
# heartbeat and reservation writes of one LUN fail on the master: the
# error is logged, the lease is not extended on writes that failed
# (the LUN stops being served there) and the head serves it again once
# the disk works.
. "$(dirname "$0")/lib-faultinj.sh"
. "$(dirname "$0")/../ctcm/lib-ctcm.sh"
t_init fi_ctcm_faults
need_root
fi_init
ctcm_cluster
for d in a b c d e f g; do mkdir -p "$T_DIR/data0/$d"; done


fi_start_head A && fi_start_head B && both_up; t_ok $? "cluster up, both heads under the shim"
t_cmd "first commit" cli A export add "$T_DIR/data0/a"
g=$(gen_of A)
t_eq "$(gen_of B)" "$g" "both heads at generation $g"

# 1. every replica write fails: not committed, and said so
fi_arm A "fdatasync:from=1:errno=EIO:path=$T_DIR/lun"; t_ok $? "armed: every LUN's fdatasync on A fails"
out=$(cli A export add "$T_DIR/data0/b" 2>&1); rc=$?
t_ok $(( !(rc != 0) )) "commit with no replica written fails (rc $rc)"
echo "# $out" | head -5
echo "$out" | grep -q "not committed; failed replica(s): LUN l0: Input/output error, LUN l1: Input/output error, LUN l2: Input/output error"
t_ok $? "the answer says not committed and names each replica and its error"
t_ok $(( !($(fi_injected_of A) >= 1) )) "the faults fired ($(fi_injected_of A))"
t_eq "$(gen_of A) $(gen_of B)" "$g $g" "no head installed a new generation"
t_eq "$(exports_of A | grep -c "data0/b$") $(exports_of B | grep -c "data0/b$")" "0 0" "the export is on neither head"
fi_arm A ""; t_ok $? "disarmed"
out=$(cli A export add "$T_DIR/data0/b" 2>&1); t_ok $? "the same commit once the disk works ($out)"
g2=$(committed_gen "$out")
wait_until 10 both_gen "$g2"; t_ok $? "both heads at $g2"
wait_until 10 replicas_agree A; t_ok $? "every replica at one generation ($(replica_gens A))"

# 1b. the replicas' last fdatasync fails (header written, not known
# durable): the commit is answered "not committed", so the copies that
# are there all the same must never take effect, even once the disk
# works and they are the newest thing on the array
mkdir -p "$T_DIR/data0/refused"
fi_arm A "fdatasync:from=2:errno=EIO:path=$T_DIR/lun0.img;fdatasync:from=2:errno=EIO:path=$T_DIR/lun1.img;fdatasync:from=2:errno=EIO:path=$T_DIR/lun2.img"
gr=$(gen_of A)
out=$(cli A export add "$T_DIR/data0/refused" 2>&1); rc=$?
echo "# $out" | head -3
t_ok $(( !(rc != 0) )) "commit whose replica headers were written but not synced: not committed (rc $rc)"
echo "$out" | grep -q "never adopted"; t_ok $? "the answer says its copies will not be adopted"
fi_arm A ""
has_refused() { exports_of "$1" | grep -q "/refused$"; }
gen_above() { [ "$(gen_of A)" -gt "$1" ] 2>/dev/null && [ "$(gen_of B)" = "$(gen_of A)" ]; }
wait_until 20 gen_above "$gr"; t_ok $? "a later generation supersedes it once the disk works ($(gen_of A), replicas $(replica_gens A))"
sleep 2
has_refused A || has_refused B; t_eq $? 1 "the refused export is on neither head"
wait_until 15 replicas_agree A; t_ok $? "every replica at one generation ($(replica_gens A))"

# 2. one replica of three fails: a majority is durable
fi_arm A "fdatasync:from=1:errno=EIO:path=$T_DIR/lun0.img"
out=$(cli A export add "$T_DIR/data0/c" 2>&1); rc=$?
t_eq "$rc" 0 "commit with one replica of three failing is committed"
echo "# $out" | head -5
echo "$out" | grep -q "failed replica(s): LUN l0: Input/output error$"
t_ok $? "and the answer names the failed replica and its error"
t_ok $(( !($(fi_injected_of A) >= 1) )) "the fault fired"
fi_arm A ""
g3=$(committed_gen "$out")
wait_until 10 both_gen "$g3"; t_ok $? "both heads at $g3"
wait_until 15 replicas_agree A; t_ok $? "the array is repaired once the disk works ($(replica_gens A))"

# 3. the master's state directory: rename, then fsync, fail with ENOSPC
for call in rename fsync; do
	fi_arm A "$call:from=1:errno=ENOSPC:path=$T_DIR/A/state/ctcm"
	gb=$(gen_of A)
	out=$(cli A export add "$T_DIR/data0/$([ $call = rename ] && echo d || echo e)" 2>&1); rc=$?
	echo "# $call: $out" | head -5
	t_ok $(( !($(fi_injected_of A) >= 1) )) "$call on A's state directory: the fault fired"
	gc=$(committed_gen "$out")
	if [ "$rc" -eq 0 ]; then
		echo "$out" | grep -qi "local install failed"
		t_ok $? "$call: committed on the replicas and the peer, and says the local install failed"
		t_eq "$(stamp_gen A)" "$gb" "$call: A's local copy stays at $gb (not half-installed)"
	else
		echo "$out" | grep -qi "no space"; t_ok $? "$call: the error names the cause"
		t_eq "$(gen_of A) $(gen_of B)" "$gb $gb" "$call: nothing installed"
	fi
	fi_arm A ""
	out=$(cli A export add "$T_DIR/data0/$([ $call = rename ] && echo f || echo g)" 2>&1)
	t_ok $? "$call: the next commit once the fault is gone ($out)"
	gn=$(committed_gen "$out")
	wait_until 15 both_gen "$gn"; t_ok $? "$call: both heads at $gn"
	wait_until 15 stamp_is A "$gn"; t_ok $? "$call: A's local copy at $gn"
	t_eq "$(exports_of A | tr '\n' ' ')" "$(exports_of B | tr '\n' ' ')" "$call: both heads have the same exports"
done

# 4. the slave's state directory: rename fails
fi_arm B "rename:from=1:errno=ENOSPC:path=$T_DIR/B/state/ctcm"
gb=$(gen_of B)
out=$(cli A export rm "$T_DIR/data0/g" 2>&1); rc=$?
echo "# slave: $out" | head -5
t_ok $(( !($(fi_injected_of B) >= 1) )) "rename on B's state directory: the fault fired"
t_eq "$rc" 0 "commit with the slave unable to install is committed (replicas + master)"
echo "$out" | grep -q "peer could not install it"; t_ok $? "and says the peer could not install it"
t_eq "$(stamp_gen B)" "$gb" "B's local copy stays at $gb"
fi_arm B ""
gs=$(committed_gen "$out")
wait_until 20 stamp_is B "$gs"; t_ok $? "B installs $gs by itself once the fault is gone"
wait_until 10 both_gen "$gs"; t_ok $? "both heads agree at $gs"
wait_until 10 replicas_agree A; t_ok $? "every replica at $gs ($(replica_gens A))"

# 5. disk heartbeat + reservation writes of LUN l1 fail on A
lun_serving() {	# lun_serving HEAD LUN
	cli "$1" status --json 2>/dev/null | tr -d ' \n' |
	    grep -o "{[^{}]*\"name\":\"$2\"[^{}]*}" | grep -q '"serving":true'
}
wait_until 10 lun_serving A l1; t_ok $? "A serves l1"
fi_arm A "pwrite:from=1:errno=EIO:path=$T_DIR/lun1.img"
wait_until 15 eval '! lun_serving A l1'; t_ok $? "A stops serving l1 when its writes there fail"
grep -q "lun l1.*write of block [0-9]* (heartbeat block (head slot 0)) at offset [0-9]*: Input/output error" "$T_DIR/A.log"
t_ok $? "A's log names the LUN, the block and the write error"
t_ok $(( !($(fi_injected_of A) >= 1) )) "the faults fired ($(fi_injected_of A))"
fi_arm A ""
wait_until 30 eval 'lun_serving A l1 || lun_serving B l1'; t_ok $? "l1 is served again once the disk works"
t_done

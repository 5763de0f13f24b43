#!/bin/bash
# Finding 7 of issue 10: full disks.  Master full: a commit on a majority
# of the replicas is committed and says so; the master installs it
# locally by itself once space returns, and the next commit is built on
# it.  Slave full: the commit says the peer was reached but could not
# install it, and the slave installs it by itself once space returns.
. "$(dirname "$0")/lib-ctcm.sh"
t_init ctcm_diskfull
need_root
ctcm_cluster
for d in a b c d; do mkdir -p "$T_DIR/data0/$d"; done
start_head A && start_head B && both_up; t_ok $? "cluster up"
t_cmd "first commit" cli A export add "$T_DIR/data0/a"
g=$(gen_of A)

# master full
fill_ctcm A; t_ok $? "A's state directory is full"
out=$(cli A export add "$T_DIR/data0/b" 2>&1); rc=$?
t_eq "$rc" 0 "commit with the master's disk full is acknowledged ($out)"
t_eq "$(committed_gen "$out")" $((g + 1)) "as generation $((g + 1))"
echo "$out" | grep -q "local install failed"; t_ok $? "and says the local install failed"
exports_of B | grep -qx "$T_DIR/data0/b"; t_ok $? "the slave has it"
cli A config show --json | grep -q '"local":{"generation":'"$g"',"state":"installing"'
t_ok $? "config show on A: local copy installing ($(cli A config show --json | grep -o '"local":{[^}]*}'))"
cli A status | grep -q "installing"; t_ok $? "status says installing"
out=$(cli A export add "$T_DIR/data0/c" 2>&1); rc=$?
t_eq "$rc" 0 "second commit while full ($out)"
t_eq "$(exports_of A | tr '\n' ' ')" "$(printf '%s\n' a b c | sed "s|^|$T_DIR/data0/|" | tr '\n' ' ')" \
    "built on the newest committed generation"
free_ctcm A
wait_until 15 stamp_is A $((g + 2)); t_ok $? "A installs $((g + 2)) by itself once space returns"
t_eq "$(stamp_gen B)" $((g + 2)) "B at $((g + 2))"

# slave full
fill_ctcm B; t_ok $? "B's state directory is full"
out=$(cli A export add "$T_DIR/data0/d" 2>&1); rc=$?
t_eq "$rc" 0 "commit with the slave's disk full ($out)"
echo "$out" | grep -q "peer NOT reached"; t_eq $? 1 "does not claim the peer was not reached"
echo "$out" | grep -q "peer could not install it"; t_ok $? "says the peer's install failed"
cli B status | grep -q "installing"; t_ok $? "B's status says installing"
free_ctcm B
wait_until 15 stamp_is B $((g + 3)); t_ok $? "B installs $((g + 3)) by itself once space returns"
t_eq "$(gen_of A) $(gen_of B)" "$((g + 3)) $((g + 3))" "both heads agree"
t_done

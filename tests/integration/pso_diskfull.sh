#!/bin/bash
# Finding 2 of issue 10: a write that fails on the origin because its
# state directory is full must not leave the peer with a record that the
# origin later reuses the version of.  Head A's state directory is a
# small tmpfs; filling it makes A's local LMDB commit fail with ENOSPC
# while B commits.  Afterwards: space freed, A writes again; both heads
# must hold the same value and version, and every write that was
# acknowledged must be what both heads read (docs/pso.md, "Writes").
. "$(dirname "$0")/../lib.sh"
t_init pso_diskfull
need_root
mk_cluster 1
mkdir -p "$T_DIR/A/state"
mount -t tmpfs -o size=8m tmpfs "$T_DIR/A/state" ||
    t_skip_all "cannot mount a tmpfs"
T_CLEANUP_CMDS+=("umount -l '$T_DIR/A/state'")
start_head A; start_head B; both_up; t_ok $? "cluster up, A's state on a small tmpfs"

big() { head -c "$1" /dev/zero | tr '\0' "$2"; }
ver() { cli "$1" pso get "$2" --json | grep -o '"version":[0-9]*' | cut -d: -f2; }

t_cmd "create x" cli A pso set x first
fill() {	# fill A's state tmpfs to the last byte
	dd if=/dev/zero of="$T_DIR/A/state/filler" bs=4k >/dev/null 2>&1
	sync
}
fill
v1=$(big 120000 a)
cli A pso set x "$v1" >"$T_DIR/set1.out" 2>&1; rc1=$?
echo "# set on the full head: rc $rc1: $(head -c 200 "$T_DIR/set1.out")"
rm -f "$T_DIR/A/state/filler"
wait_until 20 pso_synced A; t_ok $? "A is in sync again after space was freed"
# What the first write left: if it was acknowledged both heads have it;
# if not, neither does.
if [ $rc1 -eq 0 ]; then want1=$v1; else want1=first; fi
t_eq "$(cli B pso get x | head -c 20)" "$(printf %s "$want1" | head -c 20)" \
    "B holds exactly what the first write was reported as"
t_eq "$(cli A pso get x | head -c 20)" "$(printf %s "$want1" | head -c 20)" \
    "A holds the same"
t_eq "$(ver A x)" "$(ver B x)" "same version on both heads after the failed write"

t_cmd "A writes again after space was freed" cli A pso set x second
t_eq "$(cli A pso get x | head -c 20)" second "A reads its acknowledged write"
t_eq "$(cli B pso get x | head -c 20)" second "B reads the acknowledged write too"
t_eq "$(ver A x)" "$(ver B x)" "both heads at the same version"
va=$(ver A x)
[ -n "$va" ] && [ "$va" -ge 4 ]; t_ok $? "the version moved past the one B committed ($va)"

# A write B cannot commit (B's store unaffected, A's full) is the other
# half: nothing may be reported committed that B did not commit.
fill
cli A pso set x "$(big 120000 b)" >/dev/null 2>&1; rc2=$?
rm -f "$T_DIR/A/state/filler"
wait_until 20 pso_synced A
if [ $rc2 -eq 0 ]; then want2=bbbbbbbbbb; else want2=second; fi
t_eq "$(cli A pso get x | head -c 10)" "$want2" "A after the second failed-local write"
t_eq "$(cli B pso get x | head -c 10)" "$want2" "B agrees"
t_eq "$(ver A x)" "$(ver B x)" "versions agree"
cli A status | grep -q "^pso: .* in sync"; t_ok $? "A reports in sync"
t_done

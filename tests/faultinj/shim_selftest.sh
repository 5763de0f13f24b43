#!/bin/bash
# The fault-injection shim itself, on coreutils programs (their write,
# rename, open and ftruncate calls go through the dynamic symbol table):
# nth, from, count, path, errno, prob with a seed, the creating-open and
# rename families, read-only opens never failing, the stats file, and
# child processes staying out unless DUONAS_FAULTINJ_CHILDREN=1.
. "$(dirname "$0")/lib-faultinj.sh"
t_init fi_shim_selftest
fi_init
X="$T_DIR/x"
size() { stat -c %s "$1" 2>/dev/null; }
dd5() { rm -f "$X"; fi_run "$1" dd if=/dev/zero of="$X" bs=1 count=5 status=none 2>"$T_DIR/err"; }

dd5 "write:path=$X"; t_eq "$?:$(size "$X"):$(fi_injected):$(fi_matched 1)" "0:5:0:5" "count-only rule: 5 writes counted, none failed"
dd5 "write:nth=3:path=$X"; rc=$?
t_eq "$rc:$(size "$X"):$(fi_injected):$(fi_matched 1)" "1:2:1:3" "nth=3: the third write fails, two bytes written"
grep -q "Input/output error" "$T_DIR/err"; t_ok $? "EIO by default ($(cat "$T_DIR/err"))"
grep -q "write($X) -> EIO (rule 1 \"write:nth=3:path=$X\", call 3)" "$FI_LOG"; t_ok $? "the fault is logged with call, path, errno, rule"
dd5 "write:from=2:errno=ENOSPC:path=$X"; rc=$?
t_eq "$rc:$(size "$X")" "1:1" "from=2: the second write fails"
grep -q "No space left on device" "$T_DIR/err"; t_ok $? "errno=ENOSPC"
dd5 "write:nth=1:errno=28:path=$X"; grep -q "No space left" "$T_DIR/err"; t_ok $? "errno as a number"
dd5 "write:from=1:count=0:path=/nowhere"; t_eq "$?:$(size "$X"):$(fi_matched 1)" "0:5:0" "path that does not match: nothing fails, nothing counted"
dd5 "fsync,write:nth=4:errno=EDQUOT"; t_eq "$?:$(size "$X")" "1:3" "a list of calls, no path: every write matches"
grep -q "Disk quota exceeded" "$T_DIR/err"; t_ok $? "errno=EDQUOT"

# prob: the same seed fails the same write, another seed (likely) another
rm -f "$X"; fi_run "write:prob=0.05:seed=3:path=$X" dd if=/dev/zero of="$X" bs=1 count=400 status=none 2>/dev/null
s1=$(size "$X")
rm -f "$X"; fi_run "write:prob=0.05:seed=3:path=$X" dd if=/dev/zero of="$X" bs=1 count=400 status=none 2>/dev/null
s2=$(size "$X")
t_ok $(( !(s1 == s2 && s1 < 400) )) "prob=0.05 seed=3 fails the same write twice (after $s1 and $s2 bytes)"

# rename, open, ftruncate
echo a >"$T_DIR/a"
fi_run "rename:nth=1:errno=EROFS:path=$T_DIR/b" mv "$T_DIR/a" "$T_DIR/b" 2>"$T_DIR/err"
t_eq "$?:$([ -f "$T_DIR/a" ] && echo a)$([ -f "$T_DIR/b" ] && echo b)" "1:a" "rename fails by its target name, the file stays"
grep -q "Read-only file system" "$T_DIR/err"; t_ok $? "errno=EROFS ($(cat "$T_DIR/err"))"
fi_run "open:from=1:path=$T_DIR/new" touch "$T_DIR/new" 2>/dev/null
t_eq "$?:$([ -e "$T_DIR/new" ] && echo yes || echo no)" "1:no" "a creating open fails"
fi_run "open:from=1:path=$T_DIR/a" cat "$T_DIR/a" >/dev/null
t_eq "$?:$(fi_matched 1)" "0:0" "a read-only open never matches"
fi_run "ftruncate:nth=1:path=$T_DIR/a" truncate -s 100 "$T_DIR/a" 2>/dev/null
t_eq "$?:$(size "$T_DIR/a")" "1:2" "ftruncate fails"
fi_run "bogus:nth=1;write:x=1;write:nth=1:path=$X" /bin/true
grep -q 'rule "bogus:nth=1": unknown call name (ignored)' "$FI_LOG" &&
    grep -q 'rule "write:x=1": unknown key (ignored)' "$FI_LOG"
t_ok $? "bad rules are logged and ignored"
t_eq "$(grep -c '^rule ' "$FI_STATS")" 1 "the good rule is armed"

# children: timeout forks and runs dd
rm -f "$X"; fi_run "write:from=1:path=$X" timeout 10 dd if=/dev/zero of="$X" bs=1 count=5 status=none 2>/dev/null
t_eq "$?:$(size "$X")" "0:5" "a child process does not inject by default"
rm -f "$X" "$FI_STATS".*; DUONAS_FAULTINJ_CHILDREN=1 fi_run "write:from=1:path=$X" timeout 10 dd if=/dev/zero of="$X" bs=1 count=5 status=none 2>/dev/null
t_eq "$?:$(size "$X")" "1:0" "with DUONAS_FAULTINJ_CHILDREN=1 it does"
ls "$FI_STATS".* >/dev/null 2>&1; t_ok $? "and writes its own stats file"
t_done

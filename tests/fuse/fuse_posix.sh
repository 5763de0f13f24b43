#!/bin/bash
# fuse_posix.sh — the FUSE export layer alone (export/duonas-fuse-test
# mounts a backing directory, in-process lock table): POSIX behaviour of
# the mount checked against what a local file system does — files,
# ownership and permissions of a non-root caller, rename (over an
# existing file, RENAME_NOREPLACE, RENAME_EXCHANGE), links, symlinks,
# directories, xattrs, fcntl locks between processes (conflict, F_GETLK,
# release on close, blocking wait and its interrupt), open file
# description locks and their release, flock, statfs, a --direct-io
# mount (I/O through it, no stale cache), a
# 100 MiB round trip, a 5000-entry directory; then the gate (EIO while
# closed) and stop (a waiting lock fails with EIO, the mount goes even
# with a file held open).  Root; skipped only without /dev/fuse.
# Env: FUSE_TEST_ARGS, extra duonas-fuse-test options (e.g. --writeback).
set -u
. "$(dirname "$0")/../lib.sh"
t_init fuse_posix
need_root
[ -c /dev/fuse ] || t_skip_all "no /dev/fuse"
B=$DUONAS_BUILDDIR
FT=$B/export/duonas-fuse-test
PR=$B/tests/fuse/fuse_probe
[ -x "$FT" ] && [ -x "$PR" ] || t_skip_all "not built: $FT $PR (make check builds them)"
export LC_ALL=C
chmod 755 "$T_DIR"
BK=$T_DIR/backing
M=$T_DIR/mnt
mkdir -p "$BK" "$M"
chmod 755 "$BK"
T_CLEANUP_CMDS+=("umount -l '$M'" "fusermount3 -u -z '$M'")
NB=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# shellcheck disable=SC2086
"$FT" ${FUSE_TEST_ARGS:-} "$BK" "$M" >"$T_DIR/ft.out" 2>"$T_DIR/ft.log" &
FTP=$!
T_PIDS+=("$FTP")
wait_until 10 grep -q '^ready' "$T_DIR/ft.out"
t_ok $? "duonas-fuse-test mounts $BK on $M"
grep -q " $M fuse.duonas " /proc/mounts
t_ok $? "the mount is listed in /proc/mounts"

# ---- files
echo one >"$M/f"
t_eq "$(cat "$M/f")" one "create, write, read"
echo two >>"$M/f"
t_eq "$(cat "$M/f" | tr '\n' ' ')" "one two " "append"
cmp -s "$M/f" "$BK/f"
t_ok $? "the backing file holds what was written"
truncate -s 3 "$M/f"
t_eq "$(stat -c %s "$M/f"):$(cat "$M/f")" "3:one" "truncate shorter"
truncate -s 100000 "$M/f"
t_eq "$(stat -c %s "$M/f"):$(stat -c %s "$BK/f")" "100000:100000" "truncate longer"
touch -d '2001-02-03 04:05:06' "$M/f"
t_eq "$(stat -c %Y "$M/f")" "$(date -d '2001-02-03 04:05:06' +%s)" "utimens (touch -d)"

# ---- ownership and permissions (the kernel checks: default_permissions)
mkdir "$M/pub"
chmod 1777 "$M/pub"
"${NB[@]}" sh -c "echo mine >'$M/pub/nb'"
t_ok $? "a non-root user creates a file in a world-writable directory"
t_eq "$(stat -c %u:%g "$BK/pub/nb")" "65534:65534" "the file belongs to the caller on the backing directory"
"${NB[@]}" mkdir "$M/pub/nbd"
t_eq "$(stat -c %u:%g:%a "$BK/pub/nbd")" "65534:65534:755" "mkdir by the caller: owner and mode (umask 022 applied once)"
"${NB[@]}" ln -s nb "$M/pub/nbl"
t_eq "$(stat -c %u "$BK/pub/nbl")" "65534" "symlink by the caller: owner"
mkdir "$M/sg"
chgrp 100 "$M/sg"
chmod 2777 "$M/sg"
"${NB[@]}" touch "$M/sg/x"
t_eq "$(stat -c %u:%g "$BK/sg/x")" "65534:100" "set-group-id directory: the new file takes its group"
echo secret >"$M/priv"
chmod 600 "$M/priv"
out=$("${NB[@]}" cat "$M/priv" 2>&1)
t_ok $([[ $out == *"Permission denied"* ]]; echo $?) "mode 600 of root: the non-root user cannot read ($out)"
out=$("${NB[@]}" sh -c "echo x >>'$M/f'" 2>&1)
t_ok $([[ $out == *"Permission denied"* ]]; echo $?) "mode 644 of root: no write for others"
out=$("${NB[@]}" chmod 666 "$M/priv" 2>&1)
t_ok $([[ $out == *"Operation not permitted"* ]]; echo $?) "chmod of another user's file: EPERM"
out=$("${NB[@]}" rm -f "$M/pub/../f" 2>&1)
t_ok $([[ $out == *"Permission denied"* ]]; echo $?) "unlink in a directory without write permission: EACCES"
chown 65534:65534 "$M/priv"
t_eq "$(stat -c %u:%g "$BK/priv")" "65534:65534" "chown by root"
t_eq "$("${NB[@]}" cat "$M/priv")" "secret" "now the owner reads it"
touch "$M/pub/rootf"
out=$("${NB[@]}" rm -f "$M/pub/rootf" 2>&1)
t_ok $([[ $out == *"Operation not permitted"* ]]; echo $?) "sticky directory: another user's file cannot be removed"

# ---- rename
echo a >"$M/ra"; echo b >"$M/rb"
mv "$M/ra" "$M/rc"
t_eq "$(cat "$M/rc"):$([ -e "$M/ra" ]; echo $?)" "a:1" "rename"
mv -f "$M/rc" "$M/rb"
t_eq "$(cat "$M/rb"):$(cat "$BK/rb")" "a:a" "rename over an existing file replaces it"
echo c >"$M/rd"
t_eq "$("$PR" noreplace "$M/rd" "$M/rb")" "EEXIST" "RENAME_NOREPLACE onto an existing name: EEXIST"
t_eq "$("$PR" noreplace "$M/rd" "$M/re"):$(cat "$M/re")" "ok:c" "RENAME_NOREPLACE onto a free name"
t_eq "$("$PR" exchange "$M/rb" "$M/re"):$(cat "$M/rb")$(cat "$M/re")" "ok:ca" "RENAME_EXCHANGE"
mkdir -p "$M/rdir/sub"
t_eq "$("$PR" noreplace "$M/rb" "$M/rdir/sub/moved"):$(cat "$M/rdir/sub/moved")" "ok:c" "rename into another directory"

# a name replaced beside the mount (as NFS would): after the attribute
# time (1 s) the mount finds the new file, not the entry it knows
echo old >"$M/swap"
ino_old=$(stat -c %i "$M/swap")
echo new >"$BK/swap.tmp"
mv "$BK/swap.tmp" "$BK/swap"
sleep 1.2
t_eq "$(cat "$M/swap"):$(stat -c %i "$M/swap")" "new:$(stat -c %i "$BK/swap")" "a name replaced on the backing directory shows the new file"
t_ok $([ "$ino_old" != "$(stat -c %i "$M/swap")" ]; echo $?) "... with the new inode number"

# ---- links
echo l >"$M/l1"
ln "$M/l1" "$M/l2"
t_eq "$(stat -c %h "$M/l1"):$(stat -c %i "$M/l1")" "2:$(stat -c %i "$M/l2")" "hard link: link count 2, one inode"
echo more >>"$M/l2"
t_eq "$(cat "$M/l1" | tr '\n' ' ')" "l more " "written through one name, read through the other"
rm "$M/l1"
t_eq "$(stat -c %h "$M/l2")" "1" "unlink: link count 1"
ln -s l2 "$M/sl"
t_eq "$(readlink "$M/sl"):$(head -1 "$M/sl")" "l2:l" "symlink: readlink and follow"
ln -s /nonexistent/x "$M/dangling"
t_eq "$(readlink "$M/dangling")" "/nonexistent/x" "dangling symlink"
ln "$M/sl" "$M/sl2"
t_eq "$(readlink "$M/sl2"):$(stat -c %h "$BK/sl")" "l2:2" "hard link of a symlink"

# ---- directories
mkdir "$M/dd"
touch "$M/dd/x"
out=$(rmdir "$M/dd" 2>&1)
t_ok $([[ $out == *"Directory not empty"* ]]; echo $?) "rmdir of a non-empty directory: ENOTEMPTY"
rm "$M/dd/x"; rmdir "$M/dd"
t_ok $([ ! -e "$BK/dd" ]; echo $?) "rmdir of the emptied directory"
out=$(mkdir "$M/pub" 2>&1)
t_ok $([[ $out == *"File exists"* ]]; echo $?) "mkdir of an existing name: EEXIST"
out=$(cat "$M/nope" 2>&1)
t_ok $([[ $out == *"No such file"* ]]; echo $?) "open of a missing file: ENOENT"
mkfifo "$M/fifo"
t_eq "$(stat -c %F "$BK/fifo")" "fifo" "mknod (fifo)"

# ---- extended attributes
echo x >"$M/xa"
t_eq "$("$PR" setx "$M/xa" user.dosattrib 0x20)" ok "setxattr user.*"
t_eq "$("$PR" getx "$M/xa" user.dosattrib)" 0x20 "getxattr"
"$PR" setx "$M/xa" user.second v2 >/dev/null
t_eq "$("$PR" listx "$M/xa" | sort | tr '\n' ' ')" "user.dosattrib user.second " "listxattr"
t_eq "$("$PR" getx "$BK/xa" user.second)" v2 "the xattr is on the backing file"
t_eq "$("$PR" rmx "$M/xa" user.second):$("$PR" getx "$M/xa" user.second)" "ok:ENODATA" "removexattr, then ENODATA"
t_eq "$("$PR" getx "$M/xa" user.none)" ENODATA "getxattr of a missing name: ENODATA"
t_eq "$("${NB[@]}" "$PR" setx "$M/xa" user.nb x)" EACCES "setxattr without write permission: EACCES"

# ---- fcntl locks between processes
dd if=/dev/zero of="$M/lk" bs=1k count=4 status=none
chmod 666 "$M/lk"
"$PR" lock "$M/lk" 0 100 w 4 >"$T_DIR/h1.out" &
H1=$!
wait_until 5 grep -q locked "$T_DIR/h1.out"
t_ok $? "process 1 holds a write lock on bytes 0-99"
t_eq "$("$PR" trylock "$M/lk" 50 10 w)" EAGAIN "process 2: an overlapping write lock is refused (EAGAIN)"
t_eq "$("$PR" trylock "$M/lk" 50 10 r)" EAGAIN "process 2: an overlapping read lock is refused"
t_eq "$("$PR" trylock "$M/lk" 100 10 w)" ok "process 2: the adjacent range is free"
t_eq "$("$PR" getlk "$M/lk" 0 0 w)" "wrlck 0 100" "F_GETLK names the holder's range"
t_eq "$("$PR" waitlock "$M/lk" 0 10 w 1)" EINTR "F_SETLKW interrupted by a signal: EINTR (FUSE interrupt)"
start=$(date +%s)
t_eq "$("$PR" waitlock "$M/lk" 0 10 w 10)" ok "F_SETLKW waits and gets the lock when the holder exits"
t_ok $([ $(( $(date +%s) - start )) -ge 1 ]; echo $?) "... after waiting for it"
wait "$H1"
t_eq "$("$PR" trylock "$M/lk" 0 100 w)" ok "the holder's exit released its lock"
"$PR" lock "$M/lk" 0 0 r 3 >"$T_DIR/h2.out" &
H2=$!
wait_until 5 grep -q locked "$T_DIR/h2.out"
t_eq "$("$PR" trylock "$M/lk" 10 10 r)" ok "shared read locks coexist"
t_eq "$("$PR" trylock "$M/lk" 10 10 w)" EAGAIN "a write lock conflicts with a read lock"
wait "$H2"
"$PR" lock "$M/lk" 0 0 w 4 closeother >"$T_DIR/h3.out" &
H3=$!
wait_until 5 grep -q locked "$T_DIR/h3.out"
sleep 0.5
t_eq "$("$PR" trylock "$M/lk" 0 10 w)" ok "closing any descriptor of the file releases the process' locks (POSIX)"
kill "$H3" 2>/dev/null; wait "$H3" 2>/dev/null

# open file description locks (F_OFD_SETLK, what Samba takes): the
# kernel does not send their release on close, the layer must drop them
t_eq "$("$PR" ofd "$M/lk")" ok "OFD locks: held across a dup's close, gone with the last close"
t_eq "$("$PR" trylock "$M/lk" 0 100 w)" ok "... and nothing of them is left in the lock table"

# ---- flock
flock -x "$M/lk" -c "echo held >'$T_DIR/fl.out'; sleep 3" &
F1=$!
wait_until 5 grep -q held "$T_DIR/fl.out"
flock -n -x "$M/lk" true
t_ok $([ $? -ne 0 ]; echo $?) "flock -n against a held flock: refused"
flock -n -s "$M/lk" true
t_ok $([ $? -ne 0 ]; echo $?) "flock -s against an exclusive flock: refused"
wait "$F1"
flock -n -x "$M/lk" true
t_ok $? "the flock went with its descriptor"

# ---- statfs
t_eq "$(stat -f -c '%b %S' "$M")" "$(stat -f -c '%b %S' "$BK")" "statfs: blocks and block size of the backing file system"

# ---- 100 MiB round trip
dd if=/dev/urandom of="$T_DIR/big" bs=1M count=100 status=none
want=$(sha256sum <"$T_DIR/big" | cut -d' ' -f1)
cp "$T_DIR/big" "$M/big"
t_eq "$(sha256sum <"$M/big" | cut -d' ' -f1)" "$want" "100 MiB written and read back: sha256"
t_eq "$(sha256sum <"$BK/big" | cut -d' ' -f1)" "$want" "... and the backing file's sha256"
rm -f "$T_DIR/big"

# ---- a directory of 5000 entries
mkdir "$M/many"
(cd "$M/many" && seq -f 'file%05g' 1 5000 | xargs touch)
t_eq "$(ls "$M/many" | wc -l)" 5000 "readdir lists 5000 entries"
t_eq "$(ls -l "$M/many" | grep -c '^-')" 5000 "readdirplus (ls -l) lists 5000 files with attributes"
t_eq "$(ls -U "$M/many" | sort -u | wc -l)" 5000 "no entry twice across readdir buffers"

# ---- a second mount of the same directory with --direct-io (how Samba
# is served): files bypass that mount's page cache
M2=$T_DIR/mnt2
mkdir -p "$M2"
T_CLEANUP_CMDS+=("umount -l '$M2'")
"$FT" --direct-io "$BK" "$M2" >"$T_DIR/ft2.out" 2>"$T_DIR/ft2.log" &
FT2P=$!
T_PIDS+=("$FT2P")
wait_until 10 grep -q '^ready' "$T_DIR/ft2.out"
t_ok $? "a --direct-io mount of the same directory"
dd if=/dev/urandom of="$T_DIR/big" bs=1M count=20 status=none
want=$(sha256sum <"$T_DIR/big" | cut -d' ' -f1)
dd if="$T_DIR/big" of="$M2/dio" bs=1M conv=fsync status=none
t_eq "$(sha256sum <"$BK/dio" | cut -d' ' -f1)" "$want" "direct_io: 20 MiB written, the backing file holds them"
t_eq "$(dd if="$M2/dio" bs=64k status=none | sha256sum | cut -d' ' -f1)" "$want" "direct_io: read back in 64 KiB requests"
echo tail >>"$M2/dio"
t_eq "$(stat -c %s "$M2/dio"):$(tail -c 5 "$BK/dio")" "$((20 * 1048576 + 5)):tail" "direct_io: append lands at the end"
truncate -s 100 "$M2/dio"
t_eq "$(stat -c %s "$BK/dio"):$(stat -c %s "$M2/dio")" "100:100" "direct_io: truncate"
# one open file: read the start, change what follows beside the mount,
# read on (a page-cache mount would serve the page it read already)
printf 'aaaaaabbbbbb' >"$M2/dio2"
exec 7<"$M2/dio2"
first=$(dd bs=6 count=1 status=none <&7)
printf 'cccccc' | dd of="$BK/dio2" bs=6 seek=1 conv=notrunc status=none
second=$(dd bs=6 count=1 status=none <&7)
exec 7<&-
t_eq "$first$second" "aaaaaacccccc" "direct_io: a write beside the mount shows at once to an open file (no page cache)"
rm -f "$M2/dio2"
rm -f "$T_DIR/big" "$M2/dio"
kill -TERM "$FT2P"
wait_until 10 grep -q '^stopped' "$T_DIR/ft2.out"
t_ok $? "the --direct-io mount stops"

# ---- the gate
kill -USR1 "$FTP"
sleep 0.2
out=$(cat "$M/re" 2>&1)
t_ok $([[ $out == *"Input/output error"* ]]; echo $?) "gate closed: read fails with EIO"
out=$(touch "$M/new" 2>&1)
t_ok $([[ $out == *"Input/output error"* ]]; echo $?) "gate closed: create fails with EIO"
t_ok $([ ! -e "$BK/new" ]; echo $?) "gate closed: nothing reached the backing directory"
kill -USR2 "$FTP"
sleep 0.2
t_eq "$(cat "$M/re")" "a" "gate open again: read works"

# ---- stop: a waiting lock fails with EIO, the mount goes although a
# file is held open
"$PR" lock "$M/lk" 0 0 w 30 >"$T_DIR/h4.out" &
H4=$!
wait_until 5 grep -q locked "$T_DIR/h4.out"
"$PR" waitlock "$M/lk" 0 0 w 30 >"$T_DIR/w4.out" &
W4=$!
sleep 0.5
kill -HUP "$FTP"
wait_until 15 grep -q '^stopped' "$T_DIR/ft.out"
t_ok $? "stop returns (with a file held open)"
wait "$W4"
t_eq "$(cat "$T_DIR/w4.out")" EIO "a lock waiting across stop fails with EIO"
grep -q " $M fuse" /proc/mounts
t_ok $([ $? -ne 0 ]; echo $?) "the mount is gone"
kill "$H4" 2>/dev/null; wait "$H4" 2>/dev/null
wait "$FTP"
t_ok $? "duonas-fuse-test exits 0"
t_done

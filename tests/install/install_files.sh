#!/bin/bash
# tests/install/install_files.sh — `make install DESTDIR=...` installs
# exactly the expected files: the four programs, the man pages (with the
# configured paths), the unit, the tmpfiles.d entry and the samples in
# docdir; nothing under sysconfdir (an admin's duonas.conf is never
# overwritten).  `make uninstall` removes every file again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/instlib.sh"
t_init install_files

inst_destdir
t_ok $? "make install DESTDIR=... (log: install.log)"

sbindir=$(make_var sbindir)
sysconfdir=$(make_var sysconfdir)
runstatedir=$(make_var runstatedir)
mandir=$(make_var mandir)
docdir=$(make_var docdir)
unitdir=$(make_var systemdsystemunitdir)
tmpdir=$(make_var tmpfilesdir)

{
	for p in duonasd duonas duonas-boot duonas-mkimage; do
		echo "$sbindir/$p"
	done
	for m in duonasd.8 duonas.8 duonas-boot.8 duonas-mkimage.8; do
		echo "$mandir/man8/$m"
	done
	for m in duonas.conf.5 duonas-exports.5 duonas-config.5; do
		echo "$mandir/man5/$m"
	done
	echo "$unitdir/duonasd.service"
	echo "$tmpdir/duonas.conf"
	echo "$docdir/examples/duonas.conf"
	echo "$docdir/examples/exports"
	for f in "$DUONAS_SRCDIR"/etc/events.d/*; do
		[ -f "$f" ] && echo "$docdir/examples/events.d/${f##*/}"
	done
} | sort >"$T_DIR/want"
(cd "$DEST" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$T_DIR/got"
diff -u "$T_DIR/want" "$T_DIR/got" >"$T_DIR/list.diff"
t_ok $? "installed file list is the expected one ($(wc -l <"$T_DIR/want") files)"
[ -s "$T_DIR/list.diff" ] && sed 's/^/#   /' "$T_DIR/list.diff"

for p in duonasd duonas duonas-boot duonas-mkimage; do
	[ -x "$DEST$sbindir/$p" ]
	t_ok $? "$p is executable"
done
[ ! -e "$DEST$sysconfdir" ]
t_ok $? "nothing installed under sysconfdir ($sysconfdir)"

# The sample configuration has a lun block and passes duonasd -t (with
# a key made here and the sample exports).
ex=$DEST$docdir/examples
grep -q '^lun [a-z0-9]* {' "$ex/duonas.conf"
t_ok $? "sample duonas.conf has a lun block"
"$DEST$sbindir/duonas" keygen "$T_DIR/cluster.key" >/dev/null 2>&1
# duonasd -t also opens the LUNs and the state and run directories: the
# sample's shared disk becomes a sparse file here, the directories go
# under the test's own
truncate -s 64M "$T_DIR/lun.img"
sed -e "s|^key .*|key \"$T_DIR/cluster.key\"|" \
    -e "s|^exports .*|exports \"$ex/exports\"|" \
    -e "s|^  path /dev/.*|  path \"$T_DIR/lun.img\"|" \
    -e "s|^\(  statedir \).*|\1\"$T_DIR/state\"|" \
    -e "s|^\(  rundir \).*|\1\"$T_DIR/run\"|" "$ex/duonas.conf" \
    >"$T_DIR/sample.conf"
"$DEST$sbindir/duonasd" -t -c "$T_DIR/sample.conf" -n alpha \
    >"$T_DIR/t.log" 2>&1
t_ok $? "installed duonasd -t accepts the sample (with a fresh key; $(tail -n 3 "$T_DIR/t.log" | tr '\n' ' '))"

# The man pages state the defaults the binaries use.
m8=$DEST$mandir/man8
m5=$DEST$mandir/man5
conf=$("$DEST$sbindir/duonasd" -h 2>&1 |
    sed -n 's/.*configuration file (default \([^)]*\)).*/\1/p')
[ "$conf" = "$sysconfdir/duonas/duonas.conf" ]
t_ok $? "duonasd's default config is $sysconfdir/duonas/duonas.conf ($conf)"
grep -qF "$conf" "$m8/duonasd.8" && grep -qF "$conf" "$m8/duonas.8" &&
    grep -qF "$conf" "$m8/duonas-boot.8" && grep -qF "$conf" "$m5/duonas.conf.5"
t_ok $? "duonasd.8, duonas.8, duonas-boot.8, duonas.conf.5 name $conf"
grep -qF "$runstatedir/duonas/duonasd.sock" "$m8/duonas.8"
t_ok $? "duonas.8 names the socket $runstatedir/duonas/duonasd.sock"
"$DEST$sbindir/duonas" --help 2>&1 | grep -qF "$runstatedir/duonas"
t_ok $? "duonas --help names $runstatedir/duonas"
if [ "$sysconfdir" != /etc ]; then
	! grep -l '[^a-z/]/etc/duonas' "$m8"/* "$m5"/* >"$T_DIR/stale"
	t_ok $? "no installed man page names /etc/duonas ($(tr '\n' ' ' <"$T_DIR/stale"))"
fi
if command -v man >/dev/null; then
	: >"$T_DIR/man.err"
	for m in "$m8"/* "$m5"/*; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" >/dev/null \
		    2>"$T_DIR/man.err"
		[ ! -s "$T_DIR/man.err" ] || { sed 's/^/#   /' "$T_DIR/man.err"; break; }
	done
	[ ! -s "$T_DIR/man.err" ]
	t_ok $? "installed man pages format without warnings"
else
	echo "# man not installed (package man-db): man pages not formatted"
fi

make -C "$DUONAS_BUILDDIR" uninstall DESTDIR="$DEST" \
    >"$T_DIR/uninstall.log" 2>&1
t_ok $? "make uninstall DESTDIR=..."
left=$(cd "$DEST" && find . -type f | head -n 5)
[ -z "$left" ]
t_ok $? "uninstall leaves no file${left:+ (left: $left)}"
t_done

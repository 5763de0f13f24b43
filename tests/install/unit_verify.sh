#!/bin/bash
# tests/install/unit_verify.sh — the generated duonasd.service names the
# configured paths of the installed programs and passes
# `systemd-analyze verify` (package systemd); the tmpfiles.d entry names
# the configured run and state directories and systemd-tmpfiles creates
# them in a scratch root.
#
# systemd-analyze verify works on a unit file without a running systemd,
# but every Exec*= program must exist: the check runs on a copy of the
# installed unit whose program paths point into the DESTDIR install
# (--root= would need a whole system tree with sysinit.target).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/instlib.sh"
t_init unit_verify

command -v systemd-analyze >/dev/null ||
	t_skip_all "systemd-analyze not installed (Debian package systemd)"
inst_destdir
t_ok $? "make install DESTDIR=... (log: install.log)"

sbindir=$(make_var sbindir)
sysconfdir=$(make_var sysconfdir)
runstatedir=$(make_var runstatedir)
localstatedir=$(make_var localstatedir)
unitdir=$(make_var systemdsystemunitdir)
tmpdir=$(make_var tmpfilesdir)
unit=$DEST$unitdir/duonasd.service
[ -f "$unit" ]
t_ok $? "unit installed in the configured unit dir ($unitdir)"

want="ExecStart=$sbindir/duonas-boot -c $sysconfdir/duonas/duonas.conf"
grep -qxF "$want" "$unit"
t_ok $? "ExecStart runs duonas-boot with the configured paths"
grep -qxF "ExecStopPost=$sbindir/duonasd -c $sysconfdir/duonas/duonas.conf -R" "$unit"
t_ok $? "ExecStopPost runs duonasd -R with the configured paths"
for kv in Type=notify RestartPreventExitStatus=78 WatchdogSec=10s; do
	grep -qxF "$kv" "$unit"
	t_ok $? "unit has $kv"
done
! grep -q '@[a-z]*@' "$unit"
t_ok $? "no placeholder left in the unit"

# Every program the unit runs is an installed executable.
progs=$(sed -n 's/^Exec[A-Za-z]*=[-@+!:]*\([^ ]*\).*/\1/p' "$unit")
bad=
for p in $progs; do [ -x "$DEST$p" ] || bad="$bad $p"; done
[ -n "$progs" ] && [ -z "$bad" ]
t_ok $? "programs of the unit are installed:$(printf ' %s' $progs)${bad:+ (missing:$bad)}"

mkdir -p "$T_DIR/verify"
sed "s|^\(Exec[A-Za-z]*=[-@+!:]*\)/|\1$DEST/|" "$unit" \
    >"$T_DIR/verify/duonasd.service"
systemd-analyze verify --man=no "$T_DIR/verify/duonasd.service" \
    >"$T_DIR/verify.log" 2>&1
rc=$?
t_ok $rc "systemd-analyze verify duonasd.service"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/verify.log"
# a clean verify prints nothing about our unit (warnings included)
! grep -q 'duonasd.service' "$T_DIR/verify.log"
t_ok $? "systemd-analyze verify has no warning about the unit"

tf=$DEST$tmpdir/duonas.conf
grep -qxF "d $runstatedir/duonas 0755 root root -" "$tf" &&
    grep -qxF "d $localstatedir/lib/duonas 0700 root root -" "$tf"
t_ok $? "tmpfiles.d entry names the configured run and state dirs"
if command -v systemd-tmpfiles >/dev/null; then
	systemd-tmpfiles --root="$T_DIR/troot" --create "$tf" \
	    >"$T_DIR/tmpfiles.log" 2>&1 &&
	    [ "$(stat -c %a "$T_DIR/troot$runstatedir/duonas")" = 755 ] &&
	    [ "$(stat -c %a "$T_DIR/troot$localstatedir/lib/duonas")" = 700 ]
	t_ok $? "systemd-tmpfiles --root creates both directories (0755, 0700)"
fi
t_done

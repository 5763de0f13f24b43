#!/bin/bash
# quickstart.sh — set up, build and run duonas on a fresh Debian 12 machine.
#
#   sudo ./quickstart.sh demo    install, build, start the two-head demo
#                                (foreground; Ctrl-C stops it and removes
#                                everything it created)
#   sudo ./quickstart.sh test    install, build, run the tests in three
#                                phases: the whole suite (build/), the C
#                                unit tests under valgrind memcheck
#                                (build/), the whole suite built with
#                                ASan+UBSan (build-san/); last line
#                                "N passed, N failed, N skipped", the sum
#                                of the three (each phase's own count
#                                before it reads "N ok, N not ok")
#
# Options after "test", one phase only: --plain (the suite), --valgrind
# (the unit tests under memcheck), --sanitizers (the ASan+UBSan suite).
# Environment: DUONAS_BUILD (build directory of the plain and valgrind
# phases, default ./build; with --sanitizers alone, that phase's),
# DUONAS_BUILD_SAN (the sanitizer phase's, default ./build-san),
# DUONAS_JOBS (make -j, default: number of CPUs), DUONAS_FUZZ_SECONDS
# (per fuzz target in the plain phase; the sanitizer phase: 0).
set -u
cd "$(dirname "$0")"
TOP=$(pwd)

PKGS="build-essential autoconf automake libtool pkg-config \
libevent-dev liblmdb-dev lmdb-utils libnfs-dev libnfs-utils libssl-dev \
libmnl-dev libsystemd-dev libfuse3-dev fuse3 iproute2 procps psmisc e2fsprogs \
util-linux kmod samba samba-vfs-modules smbclient samba-testsuite passwd curl prometheus \
systemd man-db clang libclang-rt-14-dev valgrind"

die() { echo "quickstart: $*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo ./quickstart.sh $MODE): the demo and the tests use network namespaces, loop devices and FUSE"
}

install_pkgs() {
	local missing=()
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "quickstart: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	    die "apt-get install ${missing[*]} failed"
	# duonasd runs its own smbd per head (docs/smb.md); the
	# distribution's Samba services, started by the package, would
	# serve /etc/samba's shares on port 445 of every address
	case " ${missing[*]} " in
	*" samba "*)
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			echo "quickstart: disabling the distribution's smbd/nmbd services (duonasd starts its own smbd)"
			systemctl disable --now smbd nmbd samba-ad-dc >/dev/null 2>&1 || true
		fi ;;
	esac
	# the tests need only promtool (tests/http/http.sh), not the
	# Prometheus server the package starts
	case " ${missing[*]} " in
	*" prometheus "*)
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			echo "quickstart: disabling the distribution's prometheus service (the tests use only promtool)"
			systemctl disable --now prometheus >/dev/null 2>&1 || true
		fi ;;
	esac
}

build() {	# build BUILDDIR CONFIGURE-ARGS...
	local b=$1; shift
	local jobs=${DUONAS_JOBS:-$(nproc)}
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; die "autoreconf failed"; }
	fi
	mkdir -p "$b"
	if [ ! -f "$b/Makefile" ] || [ "$b/config.status" -ot configure ]; then
		(cd "$b" && "$TOP/configure" -q "$@") || die "configure failed (see $b/config.log)"
	fi
	make -C "$b" -s -j"$jobs" >/dev/null || { make -C "$b" -j1; die "build failed"; }
	make -C "$b" -s -j"$jobs" duonasd >/dev/null 2>&1 || true
}

# Totals over the phases run, for the one final line.
T_PASS=0 T_FAIL=0 T_SKIP=0 T_TIMES=""
# The failed checks of every phase, repeated just before the last line:
# an excerpt that keeps only the head and tail of a long run still
# shows which checks failed.
T_NOTOK=""

summarize() {	# summarize PHASE MAKE-RC TRS...: count ok/not ok lines in test logs
	local phase=$1 mrc=$2 pass=0 fail=0 skip=0 f trs res p n
	shift 2
	for trs in "$@"; do
		f=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		p=$(grep -c '^ok ' "$f" 2>/dev/null); p=${p:-0}
		n=$(grep -c '^not ok ' "$f" 2>/dev/null); n=${n:-0}
		case "$res" in
		SKIP) skip=$((skip + 1)) ;;
		PASS) pass=$((pass + p)); [ "$p" -eq 0 ] && pass=$((pass + 1)) ;;
		*) pass=$((pass + p)); fail=$((fail + n)); [ "$n" -eq 0 ] && fail=$((fail + 1))
		   T_NOTOK+="$(grep '^not ok ' "$f" 2>/dev/null | head -n 5 |
		       cut -c1-300 | sed "s|^|$phase ${f#"$B"/}: |")
$phase ${f#"$B"/}: $res
" ;;
		esac
		printf '%-10s %-6s %s (%d ok, %d not ok)\n' "$phase" "$res" \
		    "${f#"$B"/}" "$p" "$n"
	done
	if [ "$mrc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "quickstart: $phase: make failed before running every test"
		fail=$((fail + 1))
	fi
	# not in the "N passed, N failed" form: that is the last line's
	echo "quickstart: $phase: $pass ok, $fail not ok, $skip skipped"
	T_PASS=$((T_PASS + pass)) T_FAIL=$((T_FAIL + fail))
	T_SKIP=$((T_SKIP + skip))
}

show_failed() {	# the end of each failed test's log
	local f
	for f in "$@"; do
		grep -q '^not ok\|^FAIL' "$f" && { echo "---- $f"; tail -n 60 "$f"; }
	done
}

suite() {	# suite PHASE BUILDDIR: make check there, then count
	local phase=$1 mrc
	B=$2
	echo "quickstart: $phase: running the test suite in $B"
	make -C "$B" -s -j1 check >"$B/check.out" 2>&1
	mrc=$?
	[ $mrc -ne 0 ] && tail -n 30 "$B/check.out"
	show_failed $(find "$B" -name '*.log' -newer "$B/Makefile" -path '*tests*' \
	    ! -path '*/tests/valgrind/*' | sort)
	# the fuzz step (tests/fuzz/fuzz.sh, last in make check): its
	# fuzz_TARGET_execs/crashes lines
	[ -f "$B/tests/fuzz/fuzz.log" ] &&
		grep -E '^(fuzz_[a-z0-9_]+=|SKIP)' "$B/tests/fuzz/fuzz.log"
	summarize "$phase" "$mrc" $(find "$B/tests" "$B" -maxdepth 3 -name '*.trs' \
	    ! -path '*/tests/valgrind/*' 2>/dev/null | sort -u)
}

timed() {	# timed PHASE CMD...: run CMD, note its wall time
	local t0=$SECONDS
	"${@:2}"
	T_TIMES="$T_TIMES${T_TIMES:+, }$1 $((SECONDS - t0)) s"
}

phase_plain() {
	build "$1" --enable-werror
	suite plain "$1"
}

# The C unit test programs under valgrind memcheck (make check-valgrind,
# tests/valgrind/run) in the plain build: an invalid access or a
# definite/indirect leak fails the test.
phase_valgrind() {
	local mrc
	B=$1
	build "$B" --enable-werror
	echo "quickstart: valgrind: the unit tests under memcheck in $B"
	rm -rf "$B/tests/valgrind"
	make -C "$B" -s check-valgrind >"$B/valgrind.out" 2>&1
	mrc=$?
	grep -v '^PASS' "$B/valgrind.out"
	shopt -s nullglob
	show_failed "$B"/tests/valgrind/*.log
	summarize valgrind "$mrc" "$B"/tests/valgrind/*.trs
	shopt -u nullglob
}

# The whole suite built with ASan+UBSan.  LeakSanitizer stays off for
# the daemons (the tests kill them: what they hold at a kill is no leak)
# and is on for the C test programs, which exit normally (LOG_COMPILER
# in tests/Makefile.inc).  Every report goes to a file of its own under
# BUILDDIR/sanitizer-reports/: a daemon's report would otherwise be lost
# with the test's temporary directory when the test passes anyway (a
# finding while it shuts down, in a head the test no longer asks); each
# report is shown and counts as a failure.
phase_san() {
	local d=$1/sanitizer-reports f n=0
	build "$1" --enable-werror --enable-sanitizers
	rm -rf "$d"
	mkdir -p "$d"
	# the fuzz targets are ASan/UBSan builds already: the plain
	# test run fuzzes, this one need not again
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$d/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$d/ubsan \
	DUONAS_FUZZ_SECONDS=${DUONAS_FUZZ_SECONDS:-0} \
	    suite sanitizers "$1"
	for f in "$d"/*; do
		[ -s "$f" ] || continue
		echo "---- sanitizer report $f"
		head -n 80 "$f"
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then
		echo "quickstart: sanitizers: $n report(s) in $d"
		T_FAIL=$((T_FAIL + n))
	fi
}

run_tests() {
	local plain=${DUONAS_BUILD:-$TOP/build} san
	san=${DUONAS_BUILD_SAN:-$TOP/build-san}
	case "${1:-}" in
	"")
		timed plain phase_plain "$plain"
		timed valgrind phase_valgrind "$plain"
		timed sanitizers phase_san "$san" ;;
	--plain) timed plain phase_plain "$plain" ;;
	--valgrind) timed valgrind phase_valgrind "$plain" ;;
	--sanitizers)
		# one build directory named: this phase uses it
		timed sanitizers phase_san "${DUONAS_BUILD_SAN:-${DUONAS_BUILD:-$TOP/build-san}}" ;;
	*) usage ;;
	esac
	if [ -n "$T_NOTOK" ]; then
		echo "quickstart: failed checks (the first 5 of each test):"
		printf '%s' "$T_NOTOK" | grep -v '^$' | head -n 60 | sed 's/^/  /'
	fi
	echo "quickstart: wall time: $T_TIMES"
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

usage() {
	echo "usage: sudo ./quickstart.sh demo | test [--plain | --valgrind | --sanitizers]" >&2
	exit 64
}

MODE=${1:-}
case "$MODE" in
demo)
	need_root
	install_pkgs
	build "$TOP/build"
	exec "$TOP/tests/demo.sh" "$TOP/build"
	;;
test)
	need_root
	install_pkgs
	shift
	run_tests "$@"
	;;
*)
	usage
	;;
esac

#!/bin/bash
# quickstart.sh — set up, build and run duonas on a fresh Debian 12 machine.
#
#   sudo ./quickstart.sh demo    install, build, start the two-head demo
#                                (foreground; Ctrl-C stops it and removes
#                                everything it created)
#   sudo ./quickstart.sh test    install, build, run the whole test suite;
#                                last line "N passed, N failed, N skipped"
#
# Options (after the mode): --sanitizers  build with ASan+UBSan (test mode)
# Environment: DUONAS_BUILD (build directory, default ./build or
# ./build-san), DUONAS_JOBS (make -j, default: number of CPUs).
set -u
cd "$(dirname "$0")"
TOP=$(pwd)

PKGS="build-essential autoconf automake libtool pkg-config \
libevent-dev liblmdb-dev lmdb-utils libnfs-dev libnfs-utils libssl-dev \
libmnl-dev libsystemd-dev libfuse3-dev fuse3 iproute2 procps psmisc e2fsprogs \
util-linux kmod samba smbclient samba-testsuite passwd curl prometheus \
systemd man-db clang libclang-rt-14-dev"

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

summarize() {	# summarize BUILDDIR MAKE-RC: count ok/not ok lines in test logs
	local b=$1 mrc=$2 pass=0 fail=0 skip=0 f trs res p n
	for trs in $(find "$b/tests" "$b" -maxdepth 3 -name '*.trs' 2>/dev/null | sort -u); do
		f=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		p=$(grep -c '^ok ' "$f" 2>/dev/null); p=${p:-0}
		n=$(grep -c '^not ok ' "$f" 2>/dev/null); n=${n:-0}
		case "$res" in
		SKIP) skip=$((skip + 1)) ;;
		PASS) pass=$((pass + p)); [ "$p" -eq 0 ] && pass=$((pass + 1)) ;;
		*) pass=$((pass + p)); fail=$((fail + n)); [ "$n" -eq 0 ] && fail=$((fail + 1)) ;;
		esac
		printf '%-6s %s (%d ok, %d not ok)\n' "$res" "${f#$b/}" "$p" "$n"
	done
	if [ "$mrc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "quickstart: make check failed before running every test"
		fail=$((fail + 1))
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
}

run_tests() {
	local b=${DUONAS_BUILD:-$TOP/build} cfgargs=(--enable-werror)
	if [ "${1:-}" = "--sanitizers" ]; then
		b=${DUONAS_BUILD:-$TOP/build-san}
		cfgargs+=(--enable-sanitizers)
		export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		# the fuzz targets are ASan/UBSan builds already: the
		# plain test run fuzzes, this one need not again
		export DUONAS_FUZZ_SECONDS=${DUONAS_FUZZ_SECONDS:-0}
	fi
	build "$b" "${cfgargs[@]}"
	echo "quickstart: running the test suite in $b"
	make -C "$b" -s -j1 check >"$b/check.out" 2>&1
	local mrc=$?
	[ $mrc -ne 0 ] && tail -n 30 "$b/check.out"
	for f in $(find "$b" -name '*.log' -newer "$b/Makefile" -path '*tests*' | sort); do
		grep -q '^not ok\|^FAIL' "$f" && { echo "---- $f"; tail -n 60 "$f"; }
	done
	# the fuzz step (tests/fuzz/fuzz.sh, last in make check): its
	# fuzz_TARGET_execs/crashes lines
	[ -f "$b/tests/fuzz/fuzz.log" ] &&
		grep -E '^(fuzz_[a-z0-9_]+=|SKIP)' "$b/tests/fuzz/fuzz.log"
	summarize "$b" "$mrc"
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
	echo "usage: sudo ./quickstart.sh demo | test [--sanitizers]" >&2
	exit 64
	;;
esac

#!/bin/bash
# tests/fuzz/fuzz.sh — the fuzz step of make check: build the libFuzzer
# targets under BUILDDIR/build-fuzz (clang, ASan + UBSan) and run each
# for DUONAS_FUZZ_SECONDS (default 20), two at a time.  Skipped (77)
# only when clang or its libFuzzer runtime is absent, or when
# DUONAS_FUZZ_SECONDS is 0.  Fails on any crash (tests/fuzz/run).
set -u
src=${DUONAS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
b=${DUONAS_BUILDDIR:-$(pwd)}/build-fuzz
secs=${DUONAS_FUZZ_SECONDS:-20}

if [ "$secs" = 0 ]; then
	echo "SKIP: DUONAS_FUZZ_SECONDS=0"
	exit 77
fi
t0=$(date +%s)
bash "$src/tests/fuzz/build" "$b"
rc=$?
if [ $rc -eq 77 ]; then
	echo "SKIP: clang/libFuzzer absent"
	exit 77
fi
if [ $rc -ne 0 ]; then
	echo "not ok 1 - fuzz targets build"
	exit 1
fi
echo "ok 1 - fuzz targets build ($(( $(date +%s) - t0 )) s)"
t1=$(date +%s)
FUZZ_BUILD=$b bash "$src/tests/fuzz/run" -j "${DUONAS_FUZZ_JOBS:-2}" "$secs"
rc=$?
echo "fuzz_seconds_total=$(( $(date +%s) - t0 ))"
if [ $rc -eq 0 ]; then
	echo "ok 2 - every target ran ${secs} s without a crash ($(( $(date +%s) - t1 )) s)"
else
	echo "not ok 2 - a fuzz target crashed"
fi
exit $rc

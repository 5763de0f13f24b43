# tests/faultinj/lib-faultinj.sh — running programs under the syscall
# fault-injection shim (tests/faultinj/faultinj.c has its manual).
#   fi_run RULES CMD...	run CMD with the shim armed with RULES (";"
#			separated); the stats of the run in $FI_STATS,
#			the injected faults in $FI_LOG (appended)
#   fi_injected		faults injected in the last run (stats file)
#   fi_matched N	calls rule N matched in the last run
#   fi_env RULES	the environment words for env(1) (daemons)
. "$(dirname "$0")/../lib.sh"

FI_SO="$DUONAS_BUILDDIR/tests/faultinj/libfaultinj.so"

fi_init() {
	[ -f "$FI_SO" ] || t_skip_all "libfaultinj.so not built (make check builds it)"
	FI_STATS="$T_DIR/fi.stats"
	FI_LOG="$T_DIR/faultinj.log"
	# a sanitizer build's programs want the ASan runtime first
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

fi_env() {
	printf '%s\n' "LD_PRELOAD=$FI_SO" "DUONAS_FAULTINJ=$1" \
	    "DUONAS_FAULTINJ_STATS=$FI_STATS" "DUONAS_FAULTINJ_LOG=$FI_LOG"
}

fi_run() {
	local rules=$1; shift
	rm -f "$FI_STATS"
	LD_PRELOAD="$FI_SO" DUONAS_FAULTINJ="$rules" \
	    DUONAS_FAULTINJ_STATS="$FI_STATS" DUONAS_FAULTINJ_LOG="$FI_LOG" \
	    "$@"
}

fi_injected() { sed -n 's/^injected //p' "${1:-$FI_STATS}" 2>/dev/null; }
fi_matched() {
	sed -n "s/^rule $1 matched \([0-9]*\) .*/\1/p" "${2:-$FI_STATS}" 2>/dev/null
}

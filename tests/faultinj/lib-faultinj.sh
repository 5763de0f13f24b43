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

# ---- daemons (need lib.sh's cluster helpers) ----
# fi_start_head HEAD: start_head with the shim, armed by $T_DIR/HEAD.fi
fi_start_head() {
	local h=$1
	mkdir -p "$T_DIR/$h"
	: >"$T_DIR/$h.fi"
	env LD_PRELOAD="$FI_SO" DUONAS_FAULTINJ_CTL="$T_DIR/$h.fi" \
	    DUONAS_FAULTINJ_STATS="$T_DIR/$h.fistats" \
	    DUONAS_FAULTINJ_LOG="$T_DIR/$h.filog" \
	    "$DUONASD" -d -c "$T_DIR/duonas.conf" -n "$h" >>"$T_DIR/$h.log" 2>&1 &
	local pid=$!
	T_PIDS+=("$pid")
	eval "PID_$h=$pid"
	wait_until 10 cli "$h" version
}
# fi_arm HEAD RULES: replace HEAD's control-file rules (rename: atomic),
# then wait until the daemon has loaded them (the stats file's "loads"
# grows; the daemon looks at the file within 20 ms of any write call, and
# writes its disk heartbeat every 100 ms)
fi_arm() {
	local before; before=$(fi_loads "$1")
	printf '%s\n' "$2" | tr ';' '\n' >"$T_DIR/$1.fi.tmp"
	mv "$T_DIR/$1.fi.tmp" "$T_DIR/$1.fi"
	wait_until 5 fi_loaded "$1" "${before:-0}"
}
fi_loads() { sed -n 's/^loads //p' "$T_DIR/$1.fistats" 2>/dev/null; }
fi_loaded() {	# (an admin request makes an idle daemon write: it looks)
	cli "$1" version >/dev/null 2>&1
	[ "$(fi_loads "$1")" -gt "$2" ] 2>/dev/null
}
fi_injected_of() { fi_injected "$T_DIR/$1.fistats"; }	# fi_injected_of HEAD

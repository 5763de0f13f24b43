# tests/ha/bootlib.sh — heads started through duonas-boot, software
# images and keys for the boot-software tests (docs/boot-images.md).
# Source after halib.sh.
#   boot_require              skip unless duonas-boot and duonas-mkimage built
#   boot_keys                 $T_DIR/k.key and k.pub (the cluster's signing key)
#   boot_mkimage OUT VERSION [mkimage args]   an image of the build tree
#   boot_conf_extra           the boot { } block for ha_mk_conf
#   boot_install HEAD IMAGE   duonas-boot install (a head's first install)
#   boot_start HEAD           duonas-boot under a supervisor (systemd's
#                             Restart=always) in HEAD's namespace; at most
#                             $BOOT_SUP_MAX starts (default 30)
#   boot_stop HEAD            stop it (supervisor and daemon)
#   boot_daemon_pid HEAD      the running duonasd's PID (its pid file)
#   img_field HEAD KEY        a string member of image status --json
DUONAS_BOOT="$DUONAS_BUILDDIR/duonas-boot"
DUONAS_MKIMAGE="$DUONAS_BUILDDIR/duonas-mkimage"
BOOT_GOOD_AFTER=${BOOT_GOOD_AFTER:-2}
BOOT_ATTEMPTS=${BOOT_ATTEMPTS:-2}

boot_require() {
	[ -x "$DUONAS_BOOT" ] && [ -x "$DUONAS_MKIMAGE" ] ||
	    t_skip_all "duonas-boot or duonas-mkimage not built"
}

boot_keys() {
	"$DUONAS" image keygen "$T_DIR/k" >/dev/null
}

# boot_mkimage OUT VERSION [args]: sign the build tree's programs
boot_mkimage() {
	local out=$1 v=$2
	shift 2
	"$DUONAS_MKIMAGE" -k "$T_DIR/k.key" -o "$out" --version "$v" \
	    --build-id "test-$v" "$@" "$DUONAS_BUILDDIR" >/dev/null
}

boot_conf_extra() {
	printf 'boot {\n  keys "%s"\n  good-after %s\n  attempts %s\n}\n' \
	    "$T_DIR/k.pub" "$BOOT_GOOD_AFTER" "$BOOT_ATTEMPTS"
}

boot_install() {
	"$DUONAS_BOOT" install "$2" -c "$T_DIR/duonas.conf" -n "$1"
}

boot_start() {
	local h=$1 pid
	mkdir -p "$T_DIR/$h"
	rm -f "$T_DIR/$h/stop"
	echo "==== $(date -u +%FT%T.%3NZ) test: starting $h through duonas-boot" \
	    >>"$T_DIR/$h.log"
	ip netns exec "$(ns_name "$h")" "$(dirname "${BASH_SOURCE[0]}")/boot_supervise.sh" \
	    "$T_DIR/$h/stop" "${BOOT_SUP_MAX:-30}" "$DUONAS_BOOT" -c "$T_DIR/duonas.conf" -n "$h" \
	    -- -d >>"$T_DIR/$h.log" 2>&1 &
	pid=$!
	disown "$pid"
	T_PIDS+=("$pid")
	eval "SUP_$h=$pid"
	wait_until 20 ha_cli "$h" version
}

boot_daemon_pid() { cat "$T_DIR/$1/run/duonasd.pid" 2>/dev/null; }

boot_stop() {
	local h=$1 pid
	touch "$T_DIR/$h/stop"
	eval "pid=\${SUP_$h:-}"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_until 30 _ha_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	_ha_forget_pid "$pid"
	eval "SUP_$h="
}

# boot_primary HEAD: the version in HEAD's primary slot (duonas-boot status)
boot_primary() {
	"$DUONAS_BOOT" status -c "$T_DIR/duonas.conf" -n "$1" 2>/dev/null |
	    sed -n 's/^\* [AB]: version \([^ ]*\) .*/\1/p'
}
img_json() { ha_cli "$1" image status --json 2>/dev/null; }
img_field() {	# img_field HEAD KEY: the first "KEY":"value" of image status
	img_json "$1" | grep -o "\"$2\":\"[^\"]*\"" | head -n 1 |
	    sed 's/^[^:]*:"//; s/"$//'
}
img_preferred() {	# version of the preferred image as HEAD sees it
	img_json "$1" | grep -o '"preferred":{"version":"[^"]*"' |
	    sed 's/.*"version":"//; s/"$//'
}
img_runs() {	# img_runs HEAD VERSION: HEAD runs VERSION, good
	[ "$(img_field "$1" version)" = "$2" ] &&
	    [ "$(img_field "$1" state)" = good ]
}

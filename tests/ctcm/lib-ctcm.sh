# tests/ctcm/lib-ctcm.sh — shared setup for the ctcm integration tests:
# a two-head cluster with three sparse LUN files (directory mode) and an
# exports file, plus helpers that read generations.
. "$(dirname "$0")/../lib.sh"

ctcm_cluster() {	# ctcm_cluster: writes duonas.conf with 3 LUNs
	local extra=""
	for i in 0 1 2; do
		truncate -s 80M "$T_DIR/lun$i.img"
		mkdir -p "$T_DIR/data$i"
		extra="$extra
lun l$i {
  id $((i + 1))
  path \"$T_DIR/lun$i.img\"
  mode directory
  data \"$T_DIR/data$i\"
  home A
}"
	done
	mk_cluster 1 "$extra"
	: >"$T_DIR/exports"
}

gen_of() {	# gen_of HEAD -> installed generation
	cli "$1" config show --json 2>/dev/null |
	    grep -o '"generation":[0-9]*' | head -n 1 | cut -d: -f2
}

# replica_gens HEAD -> "g0 g1 g2" (or "bad" for an invalid replica)
replica_gens() {
	cli "$1" config show --json 2>/dev/null | tr '{' '\n' |
	    grep '"lun":' | sed -n 's/.*"valid":\([a-z]*\),"generation":\([0-9]*\).*/\1 \2/p' |
	    while read -r v g; do
		if [ "$v" = true ]; then printf '%s ' "$g"; else printf 'bad '; fi
	    done | sed 's/ $//'
}

stamp_gen() {	# stamp_gen HEAD -> generation in the local stamp file
	sed -n 's/^generation //p' "$T_DIR/$1/state/ctcm/stamp" 2>/dev/null
}

both_gen() {	# both_gen G: both heads installed G
	[ "$(gen_of A)" = "$1" ] && [ "$(gen_of B)" = "$1" ]
}

is_master() {	# is_master HEAD: DAC(master) or DEGRADED (alone)
	local s; s=$(state_of "$1")
	[ "$s" = 'DAC(master)' ] || [ "$s" = DEGRADED ]
}

# exports_of HEAD -> the export paths of the committed configuration as
# HEAD reports it, one per line, sorted
exports_of() {
	cli "$1" export ls --json 2>/dev/null | tr '{' '\n' |
	    sed -n 's/.*"path":"\([^"]*\)".*/\1/p' | sort
}


replicas_agree() {	# replicas_agree HEAD: every replica valid, one generation
	local r; r=$(replica_gens "$1")
	[ -n "$r" ] && ! echo "$r" | grep -q bad &&
	    [ "$(echo "$r" | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ]
}

# fill_ctcm HEAD: HEAD's <statedir>/ctcm becomes a small tmpfs (same
# content) filled to the last block: every install there fails with
# ENOSPC.  free_ctcm HEAD gives the space back.  The EXIT trap unmounts.
fill_ctcm() {
	local d="$T_DIR/$1/state/ctcm"
	if ! mountpoint -q "$d"; then
		rm -rf "$T_DIR/$1.ctcm.save"
		cp -a "$d" "$T_DIR/$1.ctcm.save" || return 1
		mount -t tmpfs -o size=1m,mode=0700 tmpfs "$d" || return 1
		T_CLEANUP_CMDS+=("umount -l '$d'")
		cp -a "$T_DIR/$1.ctcm.save/." "$d/" || return 1
	fi
	dd if=/dev/zero of="$d/fill" bs=4k status=none 2>/dev/null
	return 0
}
free_ctcm() { rm -f "$T_DIR/$1/state/ctcm/fill"; }
stamp_is() { [ "$(stamp_gen "$1")" = "$2" ]; }

# pair_up: the two heads run as a pair, whichever is master (a head that
# returns while its peer is alone comes back as the slave)
pair_up() {
	local a b
	for _ in $(seq 1 200); do
		a=$(state_of A); b=$(state_of B)
		if { [ "$a" = 'DAC(master)' ] && [ "$b" = 'DAC(slave)' ]; } ||
		    { [ "$a" = 'DAC(slave)' ] && [ "$b" = 'DAC(master)' ]; }; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

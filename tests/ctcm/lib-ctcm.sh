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

# tests/install/instlib.sh — shared by the install tests: install the
# build into a DESTDIR under T_DIR and ask the build's Makefile for the
# configured directories (expanded the way make expands them).

# make_var NAME: the value of $(NAME) in the build's Makefile
make_var() {
	printf 'duonas-print-var:\n\t@echo $(%s)\n' "$1" |
	    make -s --no-print-directory -C "$DUONAS_BUILDDIR" -f Makefile -f - \
	    duonas-print-var
}

# inst_destdir: make install DESTDIR=$T_DIR/root (log in $T_DIR/install.log)
inst_destdir() {
	DEST=$T_DIR/root
	make -C "$DUONAS_BUILDDIR" install DESTDIR="$DEST" \
	    >"$T_DIR/install.log" 2>&1
}

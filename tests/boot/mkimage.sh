#!/bin/bash
# tests/boot/mkimage.sh — duonas-mkimage(8) against the build directory:
# a key pair, two images of the same tree with different versions, --show
# with and without the right key, digests against sha256sum, the atomic
# write, and the refusals (bad key path, a key others can read, an
# unwritable OUT, a missing file, a bad version) with their exit codes.
# No root, no daemons.
. "$(dirname "$0")/../lib.sh"
t_init mkimage

MK="$DUONAS_BUILDDIR/duonas-mkimage"
[ -x "$MK" ] || t_skip_all "duonas-mkimage not built"

# The build directory's three programs; duonas-boot comes from the boot
# work and may not be built in this tree yet: a stand-in then.
TREE="$DUONAS_BUILDDIR"
EXTRA=()
if [ ! -f "$TREE/duonas-boot" ]; then
	printf '#!/bin/sh\nexit 0\n' >"$T_DIR/boot-standin"
	chmod 755 "$T_DIR/boot-standin"
	EXTRA=(--file "duonas-boot=$T_DIR/boot-standin")
	echo "# duonas-boot not built here: a stand-in file"
fi

out=$("$MK" --keygen "$T_DIR/k" 2>&1)
t_ok $? "keygen: $out"
t_eq "$(stat -c %a "$T_DIR/k.key")" 600 "k.key mode 600"
t_eq "$(stat -c %a "$T_DIR/k.pub")" 644 "k.pub mode 644"
"$MK" --keygen "$T_DIR/k" >"$T_DIR/out" 2>&1
rc=$?
t_eq "$rc" 74 "keygen over an existing pair: exit 74"
grep -q "k.key: exists already" "$T_DIR/out"
t_ok $? "... naming k.key"
"$MK" --keygen "$T_DIR/other" >/dev/null 2>&1
t_ok $? "a second key pair (untrusted)"

# two images, different versions, same tree
for v in 0.5.0 0.6.0-rc1; do
	out=$("$MK" -k "$T_DIR/k.key" -o "$T_DIR/$v.img" --version "$v" \
		--build-id test --build-time 1764558000 "${EXTRA[@]}" "$TREE" \
		2>&1)
	t_ok $? "build $v: $out"
	sum=$(sha256sum "$T_DIR/$v.img" | cut -d' ' -f1)
	size=$(stat -c %s "$T_DIR/$v.img")
	t_eq "$out" "image $T_DIR/$v.img: version $v, 3 files, $size bytes, digest $sum" \
		"summary line of $v"
	t_eq "$(stat -c %a "$T_DIR/$v.img")" 644 "$v.img mode 644"
	"$MK" --show "$T_DIR/$v.img" --key "$T_DIR/k.pub" >"$T_DIR/show" 2>&1
	t_ok $? "--show $v with the key: exit 0"
	grep -qx "digest $sum" "$T_DIR/show"
	t_ok $? "--show prints the digest sha256sum computes"
	grep -qx "version $v" "$T_DIR/show" &&
		grep -qx "signature: ok" "$T_DIR/show" &&
		grep -qx "files: ok" "$T_DIR/show" &&
		grep -q "^file duonasd $(stat -L -c %s "$TREE/duonasd") 0755 $(sha256sum "$TREE/duonasd" | cut -d' ' -f1)\$" "$T_DIR/show"
	t_ok $? "--show: version, duonasd's size and SHA-256, files ok, signature ok"
done
ls "$T_DIR"/*.tmp-* >/dev/null 2>&1
t_ok $((! $?)) "no temporary files left"
[ "$(sha256sum <"$T_DIR/0.5.0.img")" != "$(sha256sum <"$T_DIR/0.6.0-rc1.img")" ]
t_ok $? "the two images differ"

# the same inputs give the same bytes (deterministic signature)
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/again.img" --version 0.5.0 \
	--build-id test --build-time 1764558000 "${EXTRA[@]}" "$TREE" >/dev/null
cmp -s "$T_DIR/0.5.0.img" "$T_DIR/again.img"
t_ok $? "rebuilding 0.5.0 gives the same bytes"

"$MK" --show "$T_DIR/0.5.0.img" >"$T_DIR/show" 2>&1
t_ok $? "--show without a key: exit 0"
grep -qx "signature: not checked (no --key given)" "$T_DIR/show"
t_ok $? "... says the signature was not checked"
"$MK" --show "$T_DIR/0.5.0.img" --key "$T_DIR/other.pub" >"$T_DIR/show" 2>&1
t_eq $? 65 "--show with an untrusted key: exit 65"
grep -q "^signature: BAD: signed by key [0-9a-f]\{16\}, which is not trusted" "$T_DIR/show"
t_ok $? "... says which key signed it"

# a flipped payload byte (the last byte before the signature)
cp "$T_DIR/0.5.0.img" "$T_DIR/bad.img"
size=$(stat -c %s "$T_DIR/bad.img")
printf '\xff' | dd of="$T_DIR/bad.img" bs=1 seek=$((size - 65)) conv=notrunc 2>/dev/null
"$MK" --show "$T_DIR/bad.img" --key "$T_DIR/k.pub" >"$T_DIR/show" 2>&1
t_eq $? 65 "--show of a damaged image: exit 65"
grep -q "^files: BAD: file duonas-boot: SHA-256 mismatch" "$T_DIR/show"
t_ok $? "... naming the damaged file"
head -c 100 "$T_DIR/0.5.0.img" >"$T_DIR/short.img"
"$MK" --show "$T_DIR/short.img" >"$T_DIR/show" 2>&1
t_eq $? 65 "--show of a truncated image: exit 65"
grep -q "short.img: truncated: 100 bytes" "$T_DIR/show"
t_ok $? "... says truncated"

# the broken-daemon image the upgrade tests use
printf '#!/bin/sh\nexit 1\n' >"$T_DIR/broken"
chmod 755 "$T_DIR/broken"
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/broken.img" --version 0.7.0 \
	"${EXTRA[@]}" --file "duonasd=$T_DIR/broken" "$TREE" >/dev/null
t_ok $? "an image with a daemon that exits at once"
"$MK" --show "$T_DIR/broken.img" --key "$T_DIR/k.pub" >"$T_DIR/show"
grep -q "^file duonasd 17 0755 $(sha256sum <"$T_DIR/broken" | cut -d' ' -f1)\$" "$T_DIR/show"
t_ok $? "... holding that daemon"

# refusals
"$MK" -k "$T_DIR/nokey.key" -o "$T_DIR/x.img" "${EXTRA[@]}" "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 74 "a missing key file: exit 74"
grep -q "nokey.key: No such file or directory" "$T_DIR/out"
t_ok $? "... naming it"
cp "$T_DIR/k.key" "$T_DIR/open.key"
chmod 644 "$T_DIR/open.key"
"$MK" -k "$T_DIR/open.key" -o "$T_DIR/x.img" "${EXTRA[@]}" "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 65 "a private key others can read: exit 65"
grep -q "open.key: mode 0644: group or others have access" "$T_DIR/out"
t_ok $? "... saying why"
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/nodir/x.img" "${EXTRA[@]}" "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 74 "OUT in a missing directory: exit 74"
grep -q "nodir/x.img: cannot create a temporary file" "$T_DIR/out"
t_ok $? "... naming OUT"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$T_DIR/ro"
	chmod 555 "$T_DIR/ro"
	"$MK" -k "$T_DIR/k.key" -o "$T_DIR/ro/x.img" "${EXTRA[@]}" "$TREE" >"$T_DIR/out" 2>&1
	t_eq $? 74 "OUT in a read-only directory: exit 74"
	grep -q "ro/x.img: cannot create a temporary file next to it: Permission denied" "$T_DIR/out"
	t_ok $? "... naming OUT"
fi
mkdir "$T_DIR/partial"
cp "$TREE/duonasd" "$TREE/duonas" "$T_DIR/partial/"
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/x.img" "$T_DIR/partial" >"$T_DIR/out" 2>&1
t_eq $? 74 "a DIR without duonas-boot: exit 74"
grep -q "duonas-boot: $T_DIR/partial/duonas-boot: No such file or directory" "$T_DIR/out"
t_ok $? "... naming duonas-boot"
[ ! -e "$T_DIR/x.img" ]
t_ok $? "no OUT written by any refusal"
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/x.img" --version 1.2-RC1 "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 64 "a bad --version: exit 64"
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/x.img" --wire 3:1 "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 64 "--wire 3:1: exit 64"
"$MK" -o "$T_DIR/x.img" "$TREE" >"$T_DIR/out" 2>&1
t_eq $? 64 "no -k: exit 64"
"$MK" --help >"$T_DIR/out" 2>&1
t_ok $? "--help: exit 0"

# an existing OUT is replaced whole
"$MK" -k "$T_DIR/k.key" -o "$T_DIR/0.5.0.img" --version 0.5.1 \
	"${EXTRA[@]}" "$TREE" >/dev/null
"$MK" --show "$T_DIR/0.5.0.img" --key "$T_DIR/k.pub" | grep -qx "version 0.5.1"
t_ok $? "an existing OUT is replaced"

t_done

/*
 * test_image.c — src/image: the image file as golden bytes (a fixed
 * manifest signed with the RFC 8032 test-1 key, so the whole file, and
 * with it its SHA-256, is fixed: Ed25519 signatures are deterministic;
 * the header, manifest and signature were checked once against Python's
 * hashlib, a separate CRC32C and the `cryptography` package; set
 * T_IMAGE_DUMP=FILE to write the image out for such a check), the round
 * trip build -> verify -> extract -> check, every refusal with its
 * message, versions, compatibility, public key lines and key files.
 */
#include <sys/stat.h>
#include <sys/utsname.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "image/image.h"
#include "pool/pext.h"
#include "t.h"

/* RFC 8032 section 7.1, TEST 1 */
static const char seed_hex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char pub_hex[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static const char golden_manifest[] =
    "format duonas-image 1\n"
    "version 1.2.3\n"
    "build_id test-build\n"
    "build_time 1764558000\n"
    "arch x86_64\n"
    "hardware any\n"
    "wire 1 2\n"
    "disk 1 1\n"
    "file duonasd 12 0755 "
    "1b3b3c3d3c0a5ab6e8bd0a7b3e5f9e6d1c9b2e4e1a1a5b0d5d3f7f0b8e7c6a5d\n";

static char	tdir[64];
static void	*tkey;
static uint8_t	 tpub[IMG_PUBKEY_LEN];

#define T_ERR(rc, err, want) do {					\
	T_OK((rc) < 0 && strstr((err), (want)) != NULL,			\
	    "refused: %s (want '%s')", (err), (want));			\
} while (0)

static void
put(const char *name, const char *text, mode_t mode)
{
	char	*p = xasprintf("%s/%s", tdir, name);

	if (file_write_atomic(p, text, strlen(text), mode) < 0 ||
	    chmod(p, mode) < 0) {
		perror(p);
		exit(2);
	}
	free(p);
}

static char *
tpath(const char *name)
{
	static char	buf[4][256];
	static int	n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", tdir, name);
	return buf[n];
}

/* The fixed manifest: 3 files of known bytes. */
static void
fixed_manifest(struct img_manifest *m, const char **paths)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->version, "1.2.3");
	strcpy(m->build_id, "test-build");
	m->build_time = 1764558000;
	strcpy(m->arch, "x86_64");
	strcpy(m->hardware, "any");
	m->wire_min = 1;
	m->wire_max = 2;
	m->disk_min = 1;
	m->disk_max = 1;
	m->nfiles = 3;
	strcpy(m->files[0].name, "duonasd");
	strcpy(m->files[1].name, "duonas");
	strcpy(m->files[2].name, "duonas-boot");
	m->files[0].mode = m->files[1].mode = 0755;
	m->files[2].mode = 0750;
	put("src-duonasd", "#!/bin/sh\necho daemon\n", 0755);
	put("src-duonas", "#!/bin/sh\necho cli\n", 0755);
	put("src-boot", "boot loader bytes", 0644);
	paths[0] = xstrdup(tpath("src-duonasd"));
	paths[1] = xstrdup(tpath("src-duonas"));
	paths[2] = xstrdup(tpath("src-boot"));
}

static void
free_paths(const char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free((void *)(uintptr_t)paths[i]);
}

static void
build_fixed(struct buf *img)
{
	struct img_manifest	 m;
	const char		*paths[3];
	char			 err[256] = "";

	fixed_manifest(&m, paths);
	buf_init(img);
	T_OK(img_build(&m, paths, tkey, img, err, sizeof(err)) == 0,
	    "build the fixed image %s", err);
	free_paths(paths, 3);
}

static void
test_golden(void)
{
	static const uint8_t hdr[IMG_HDR_LEN] = {
		0x44, 0x49, 0x4d, 0x47, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x7e, 0x00, 0x00, 0x00, 0x03,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a,
		0x21, 0xfe, 0x31, 0xdf, 0xa1, 0x54, 0xa2, 0x61,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x72, 0x5a, 0xab, 0x40,
	};
	static const char man[] =
	    "format duonas-image 1\n"
	    "version 1.2.3\n"
	    "build_id test-build\n"
	    "build_time 1764558000\n"
	    "arch x86_64\n"
	    "hardware any\n"
	    "wire 1 2\n"
	    "disk 1 1\n"
	    "file duonasd 22 0755 "
	    "cb8f20ec0d7f42bc7a396c527b588748d7554c48b31930633ffb4374047a76c2\n"
	    "file duonas 19 0755 "
	    "d70e95a8a9736e2065a51536069488ed65f8d2dbec9f45b348963fb64ddfa6da\n"
	    "file duonas-boot 17 0750 "
	    "a19775b78696487f058083b93861c8a192aaf76af280ea05bd27aa23f7630735\n";
	static const char digest[] =
	    "4470a730152aca211b8251b49dcd53071d51e653cd9135311230b05c760cf93f";
	struct buf	img;
	struct img_info	info;
	char		err[256] = "", hx[65];
	uint8_t		id[IMG_KEYID_LEN];

	build_fixed(&img);
	T_MEM(img.data, hdr, IMG_HDR_LEN, "header bytes");
	if (getenv("T_IMAGE_DUMP") != NULL) {
		FILE *f = fopen(getenv("T_IMAGE_DUMP"), "w");
		fwrite(img.data, 1, img.len, f);
		fclose(f);
	}
	T_EQ(img.len, IMG_HDR_LEN + strlen(man) + 22 + 19 + 17 + IMG_SIG_LEN,
	    "image size");
	T_OK(img.len > IMG_HDR_LEN + strlen(man) &&
	    memcmp(img.data + IMG_HDR_LEN, man, strlen(man)) == 0,
	    "manifest text");
	T_OK(img_parse(img.data, img.len, &info, err, sizeof(err)) == 0,
	    "parse %s", err);
	img_digest_hex(info.digest, hx);
	T_OK(strcmp(hx, digest) == 0, "image digest %s", hx);
	img_key_id(tpub, id);
	T_MEM(info.key_id, id, IMG_KEYID_LEN, "key id in the header");
	T_EQ(info.payload_off, IMG_HDR_LEN + strlen(man), "payload offset");
	T_EQ(info.m.files[1].offset, 22, "offset of the second file");
	T_EQ(info.m.files[2].mode, 0750, "mode of the third file");
	buf_free(&img);
}

static void
test_roundtrip(void)
{
	struct buf	img;
	struct img_info	info;
	char		err[256] = "", *dir = xstrdup(tpath("x"));
	uint8_t		*data;
	size_t		 len;
	struct stat	 st;

	build_fixed(&img);
	T_OK(img_verify(img.data, img.len, (const uint8_t (*)[32])tpub, 1,
	    &info, err, sizeof(err)) == 0, "verify %s", err);
	T_OK(strcmp(info.m.version, "1.2.3") == 0 && info.m.nfiles == 3 &&
	    info.m.build_time == 1764558000 && info.m.wire_max == 2,
	    "manifest fields");
	mkdir(dir, 0755);
	T_OK(img_extract(img.data, &info, dir, err, sizeof(err)) == 0,
	    "extract %s", err);
	T_OK(img_check_files(&info, dir, err, sizeof(err)) == 0,
	    "check the extracted files %s", err);
	T_OK(file_read_all(tpath("x/duonas"), 1000, &data, &len) == 0 &&
	    len == 19 && memcmp(data, "#!/bin/sh\necho cli\n", 19) == 0,
	    "x/duonas holds its bytes");
	free(data);
	T_OK(stat(tpath("x/duonas-boot"), &st) == 0 &&
	    (st.st_mode & 07777) == 0750, "x/duonas-boot has mode 0750");

	/* the files changed after extraction */
	put("x/duonas", "#!/bin/sh\necho CLI\n", 0755);
	T_ERR(img_check_files(&info, dir, err, sizeof(err)), err,
	    "file duonas: SHA-256 mismatch");
	put("x/duonas", "#!/bin/sh\necho cli\n", 0644);
	T_ERR(img_check_files(&info, dir, err, sizeof(err)), err,
	    "file duonas: mode 0644, the manifest says 0755");
	put("x/duonas", "#!/bin/sh\necho cli!\n", 0755);
	T_ERR(img_check_files(&info, dir, err, sizeof(err)), err,
	    "file duonas: 20 bytes, the manifest says 19");
	unlink(tpath("x/duonasd"));
	T_ERR(img_check_files(&info, dir, err, sizeof(err)), err,
	    "file duonasd: No such file or directory");
	T_OK(symlink("duonas", tpath("x/duonasd")) == 0, "symlink");
	T_ERR(img_check_files(&info, dir, err, sizeof(err)), err,
	    "file duonasd: Too many levels of symbolic links");
	/* extracting again repairs it all */
	T_OK(img_extract(img.data, &info, dir, err, sizeof(err)) == 0 &&
	    img_check_files(&info, dir, err, sizeof(err)) == 0,
	    "extract again over a damaged directory %s", err);
	T_ERR(img_extract(img.data, &info, tpath("nodir"), err, sizeof(err)),
	    err, "nodir: cannot create a temporary file for duonasd: No such "
	    "file or directory");
	buf_free(&img);
	free(dir);
}

/* An unsigned image around a hand-written manifest and payload: for
 * img_parse()'s refusals, with a header CRC that is right. */
static void
craft(struct buf *b, const char *man, const char *payload, uint32_t nfiles)
{
	buf_init(b);
	buf_add_u32(b, IMG_MAGIC);
	buf_add_u16(b, 1);
	buf_add_u16(b, 0);
	buf_add_u32(b, (uint32_t)strlen(man));
	buf_add_u32(b, nfiles);
	buf_add_u64(b, strlen(payload));
	while (b->len < 60)
		buf_add_u8(b, 0);
	buf_add_u32(b, pext_crc32c(0, b->data, 60));
	buf_add(b, man, strlen(man));
	buf_add(b, payload, strlen(payload));
	for (int i = 0; i < IMG_SIG_LEN; i++)
		buf_add_u8(b, 0);
}

static void
refit_crc(uint8_t *d)
{
	put_be32(d + 60, pext_crc32c(0, d, 60));
}

static void
test_refusals(void)
{
	static const struct { const char *man, *payload; int n;
	    const char *err; } v[] = {
		{ golden_manifest, "#!/bin/sh\nx\n", 1, NULL },
		{ "format duonas-image 1\nversion 1.2.3\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfoo bar\n", "", 1,
		  "manifest line 9: unknown key 'foo'" },
		{ "format duonas-image 1\nversion 1.2.x\n", "", 1,
		  "manifest line 2: bad version '1.2.x'" },
		{ "format duonas-image 1\nversion 01.2\n", "", 1,
		  "manifest line 2: bad version '01.2'" },
		{ "format duonas-image 2\n", "", 1,
		  "manifest line 1: expected 'format duonas-image 1'" },
		{ "format duonas-image 1\nbuild_id x\n", "", 1,
		  "manifest line 2: key 'build_id' out of order (expected "
		  "'version')" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 2 1\n", "", 1,
		  "manifest line 7: expected 'wire MIN MAX' with MIN <= MAX" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\n", "", 1, "manifest ends before 'file'" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile duonas 1 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "x", 1, "manifest has no file 'duonasd'" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile duonasd 1 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\nfile duonasd 1 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "xy", 2,
		  "manifest line 10: duplicate file 'duonasd'" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile .. 1 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "x", 1, "manifest line 9: bad file name '..'" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile duonasd 1 4755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "x", 1, "file duonasd: bad mode '4755'" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile duonasd 2 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "x", 1, "sizes do not add up: files hold 2 "
		  "bytes, the payload is 1" },
		{ "format duonas-image 1\nversion 1\nbuild_id b\n"
		  "build_time 1\narch x86_64\nhardware any\nwire 1 1\n"
		  "disk 1 1\nfile duonasd 1 0755 "
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000\n", "x", 2, "manifest lists 1 files, the header "
		  "says 2" },
		{ "format duonas-image 1\nversion  1\n", "", 1,
		  "manifest line 2: bad spacing" },
		{ "format duonas-image 1", "", 1,
		  "manifest does not end with a newline" },
	};
	struct buf	b;
	struct img_info	info;
	char		err[256];
	int		rc;

	for (size_t i = 0; i < nitems(v); i++) {
		craft(&b, v[i].man, v[i].payload, (uint32_t)v[i].n);
		err[0] = '\0';
		rc = img_parse(b.data, b.len, &info, err, sizeof(err));
		if (v[i].err == NULL)
			T_OK(rc == 0, "hand-made image parses %s", err);
		else
			T_ERR(rc, err, v[i].err);
		buf_free(&b);
	}

	/* header damage, on the signed fixed image */
	build_fixed(&b);
	uint8_t	*d = xmalloc(b.len + 1);
	size_t	 n = b.len;
#define RESET()	memcpy(d, b.data, n)
	RESET();
	d[0] ^= 1;
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "bad magic 0x45494d47 (not a duonas image)");
	RESET();
	d[23] ^= 1;
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "header CRC mismatch");
	RESET();
	d[5] = 2;
	refit_crc(d);
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "image format version 2 not supported");
	RESET();
	d[40] = 1;
	refit_crc(d);
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "reserved header byte 40 is not zero");
	RESET();
	T_ERR(img_parse(d, 10, &info, err, sizeof(err)), err,
	    "truncated: 10 bytes, shorter than the 64-byte header");
	T_ERR(img_parse(d, n - 1, &info, err, sizeof(err)), err,
	    "truncated: ");
	d[n] = 0;
	T_ERR(img_parse(d, n + 1, &info, err, sizeof(err)), err,
	    "sizes do not add up: ");
	put_be32(d + 12, 0);
	refit_crc(d);
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "file count 0 out of range 1..16");
	RESET();
	put_be64(d + 16, (uint64_t)IMG_PAYLOAD_MAX + 1);
	refit_crc(d);
	T_ERR(img_parse(d, n, &info, err, sizeof(err)), err,
	    "payload length 67108865 over the limit");

	/* signature and digests */
	RESET();
	T_OK(img_verify(d, n, (const uint8_t (*)[32])tpub, 1, &info, err,
	    sizeof(err)) == 0, "the copy verifies");
	d[IMG_HDR_LEN + 34] = '4';		/* version 1.2.3 -> 1.2.4 */
	T_OK(img_parse(d, n, &info, err, sizeof(err)) == 0 &&
	    strcmp(info.m.version, "1.2.4") == 0,
	    "a changed manifest still parses (1.2.4)");
	T_ERR(img_verify(d, n, (const uint8_t (*)[32])tpub, 1, &info, err,
	    sizeof(err)), err, "signature does not verify with any "
	    "trusted key");
	RESET();
	d[info.payload_off + 3] ^= 0x20;	/* in duonasd */
	T_ERR(img_verify(d, n, (const uint8_t (*)[32])tpub, 1, &info, err,
	    sizeof(err)), err, "file duonasd: SHA-256 mismatch");
	RESET();
	d[n - 1 - 25] ^= 1;
	T_ERR(img_verify(d, n, (const uint8_t (*)[32])tpub, 1, &info, err,
	    sizeof(err)), err, "signature does not verify with any "
	    "trusted key");
	RESET();
	{
		uint8_t keys[2][IMG_PUBKEY_LEN], id[8];
		char idhex[17];

		memset(keys[0], 0x11, 32);
		memset(keys[1], 0x22, 32);
		img_key_id(tpub, id);
		hex_encode(idhex, id, 8);
		char *want = xasprintf("signed by key %s, which is not "
		    "trusted", idhex);
		T_ERR(img_verify(d, n, (const uint8_t (*)[32])keys, 2, &info,
		    err, sizeof(err)), err, want);
		free(want);
		T_ERR(img_verify(d, n, (const uint8_t (*)[32])keys, 0, &info,
		    err, sizeof(err)), err, "no trusted key");
		memcpy(keys[1], tpub, 32);
		T_OK(img_verify(d, n, (const uint8_t (*)[32])keys, 2, &info,
		    err, sizeof(err)) == 0, "verifies with the second of two "
		    "keys");
	}
	free(d);
	buf_free(&b);
#undef RESET
}

static void
test_build_refusals(void)
{
	struct img_manifest	 m;
	const char		*paths[3];
	struct buf		 out;
	char			 err[256];

	buf_init(&out);
	fixed_manifest(&m, paths);
	strcpy(m.version, "1.2.3-RC1");
	T_ERR(img_build(&m, paths, tkey, &out, err, sizeof(err)), err,
	    "manifest line 2: bad version '1.2.3-RC1'");
	strcpy(m.version, "1.2.3");
	strcpy(m.files[0].name, "duonas-d");
	T_ERR(img_build(&m, paths, tkey, &out, err, sizeof(err)), err,
	    "manifest has no file 'duonasd'");
	strcpy(m.files[0].name, "duonas");
	T_ERR(img_build(&m, paths, tkey, &out, err, sizeof(err)), err,
	    "duplicate file 'duonas'");
	strcpy(m.files[0].name, "duonasd");
	free((void *)(uintptr_t)paths[2]);
	paths[2] = xstrdup(tpath("missing"));
	T_ERR(img_build(&m, paths, tkey, &out, err, sizeof(err)), err,
	    "file duonas-boot: ");
	T_OK(strstr(err, "missing: No such file or directory") != NULL,
	    "... naming the path: %s", err);
	T_EQ(out.len, 0, "nothing appended on failure");
	free_paths(paths, 3);
	buf_free(&out);
}

static void
test_versions(void)
{
	static const struct { const char *a, *b; int cmp; } v[] = {
		{ "1.2", "1.10", -1 },
		{ "1.10", "1.9", 1 },
		{ "1.2.0-rc1", "1.2.0", -1 },
		{ "1.2.0-rc1", "1.2.0-rc2", -1 },
		{ "1.2.0-rc2", "1.2.0-beta", 1 },
		{ "1.2.3", "1.2.3", 0 },
		{ "1.2", "1.2.0", 0 },
		{ "0.9.9.9", "1", -1 },
		{ "2", "1.99.99.99", 1 },
		{ "1.2.1-a", "1.2.0", 1 },
		{ "0.1.0", "0.2.0", -1 },
	};
	static const struct { const char *v; int ok; } valid[] = {
		{ "1", 1 }, { "0.1.0", 1 }, { "1.2.3.4", 1 },
		{ "1.2.3-rc1", 1 }, { "1.2-git.20261201", 1 },
		{ "1.2.3.4.5", 0 }, { "", 0 }, { "v1.2", 0 }, { "1..2", 0 },
		{ "1.2.", 0 }, { "1.2-", 0 }, { "1.2-RC1", 0 }, { "01", 0 },
		{ "1.2-abcdefghijklmnop", 0 }, { "1234567890", 0 },
		{ "1 2", 0 }, { "-rc1", 0 }, { "1.2-rc_1", 0 },
		{ "999999999", 1 },
		/* found by fuzz_image: 20 digits overflowed the long the
		 * digits were summed in before the length was checked */
		{ "1.21344390277134439068", 0 },
	};

	for (size_t i = 0; i < nitems(v); i++) {
		int c = img_version_cmp(v[i].a, v[i].b);
		int r = img_version_cmp(v[i].b, v[i].a);
		c = (c > 0) - (c < 0);
		r = (r > 0) - (r < 0);
		T_OK(c == v[i].cmp && r == -v[i].cmp, "%s vs %s: %d", v[i].a,
		    v[i].b, c);
	}
	for (size_t i = 0; i < nitems(valid); i++)
		T_OK(img_version_valid(valid[i].v) == valid[i].ok,
		    "version '%s' %s", valid[i].v, valid[i].ok ? "valid" :
		    "invalid");
}

static void
test_compat(void)
{
	struct img_manifest	a, b;
	struct utsname		u;
	char			why[200];

	memset(&a, 0, sizeof(a));
	strcpy(a.arch, "x86_64");
	strcpy(a.hardware, "any");
	a.wire_min = 1; a.wire_max = 2;
	a.disk_min = 1; a.disk_max = 1;
	b = a;
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 1, "same: ok");
	b.wire_min = 2; b.wire_max = 3;
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 1,
	    "wire 1..2 and 2..3 overlap");
	b.wire_min = 3; b.wire_max = 4;
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strcmp(why, "wire formats 1..2 and 3..4 do not overlap") == 0,
	    "%s", why);
	b = a;
	b.disk_min = 2; b.disk_max = 2;
	T_OK(img_compatible(&b, &a, why, sizeof(why)) == 0 &&
	    strcmp(why, "disk formats 2..2 and 1..1 do not overlap") == 0,
	    "%s", why);
	b = a;
	strcpy(b.arch, "aarch64");
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strcmp(why, "architectures x86_64 and aarch64 differ") == 0,
	    "%s", why);
	b = a;
	strcpy(b.hardware, "msa1000");
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 1,
	    "hardware any matches msa1000");
	strcpy(a.hardware, "msa1000");
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 1,
	    "msa1000 matches msa1000");
	strcpy(a.hardware, "sun3510");
	T_OK(img_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strcmp(why, "hardware sun3510 and msa1000 differ") == 0,
	    "%s", why);

	uname(&u);
	snprintf(a.arch, sizeof(a.arch), "%.31s", u.machine);
	T_OK(img_runs_here(&a, why, sizeof(why)) == 1, "runs here (%s)",
	    a.arch);
	strcpy(a.arch, "sparc64");
	T_OK(img_runs_here(&a, why, sizeof(why)) == 0 &&
	    strncmp(why, "image is for sparc64, this machine is ", 38) == 0,
	    "%s", why);
}

static void
test_pubkey(void)
{
	static const struct { const char *text, *err; } v[] = {
		{ "", "no 'ed25519 <64 hex digits>' line" },
		{ "# nothing\n\n", "no 'ed25519" },
		{ "rsa AAAA\n", "line 1: unknown key type 'rsa'" },
		{ "ed25519 abcd\n", "line 1: expected 64 hex digits" },
		{ "ed25519 d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a"
		  "68f707511g\n", "line 1: expected 64 hex digits" },
		{ "ed25519 d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a"
		  "68f707511a extra\n", "line 1: expected 64 hex digits" },
		{ "ed25519 d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a"
		  "68f707511a\ned25519 d75a980182b10ab7d54bfed3c964073a0ee172f3"
		  "daa62325af021a68f707511a\n", "line 2: a second key" },
	};
	uint8_t	pub[32];
	char	err[200], hx[65];

	for (size_t i = 0; i < nitems(v); i++)
		T_ERR(img_pubkey_parse(v[i].text, pub, err, sizeof(err)), err,
		    v[i].err);
	T_OK(img_pubkey_parse("# cluster key\n  ed25519 "
	    "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A"
	    "  \n\n", pub, err, sizeof(err)) == 0, "comment, blanks, upper "
	    "case: %s", err);
	hex_encode(hx, pub, 32);
	T_OK(strcmp(hx, pub_hex) == 0, "the key %s", hx);
	T_ERR(img_pubkey_load(tpath("nope.pub"), pub, err, sizeof(err)), err,
	    "nope.pub: No such file or directory");
	put("bad.pub", "ed25519 12\n", 0644);
	T_ERR(img_pubkey_load(tpath("bad.pub"), pub, err, sizeof(err)), err,
	    "bad.pub: line 1: expected 64 hex digits");
}

static void
test_keyfiles(void)
{
	struct stat	 st;
	uint8_t		 pub[32], pub2[32], id[8];
	char		 err[256] = "", *text;
	size_t		 len;
	void		*k;
	mode_t		 old;

	old = umask(0);		/* the modes must not depend on the umask */
	T_OK(img_keygen(tpath("k1"), err, sizeof(err)) == 0, "keygen %s", err);
	umask(old);
	T_OK(stat(tpath("k1.key"), &st) == 0 && (st.st_mode & 07777) == 0600,
	    "k1.key mode 0600");
	T_OK(stat(tpath("k1.pub"), &st) == 0 && (st.st_mode & 07777) == 0644,
	    "k1.pub mode 0644");
	T_OK(file_read_all(tpath("k1.key"), 4096, (uint8_t **)&text, &len)
	    == 0 && strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
	    "k1.key is PKCS#8 PEM");
	free(text);
	T_OK(file_read_all(tpath("k1.pub"), 4096, (uint8_t **)&text, &len)
	    == 0 && len == 8 + 64 + 1 && strncmp(text, "ed25519 ", 8) == 0 &&
	    text[len - 1] == '\n', "k1.pub is one 'ed25519 HEX' line");
	free(text);
	T_OK(img_pubkey_load(tpath("k1.pub"), pub, err, sizeof(err)) == 0,
	    "k1.pub loads %s", err);
	k = img_key_load_private(tpath("k1.key"), err, sizeof(err));
	T_OK(k != NULL && img_key_public(k, pub2) == 0 &&
	    memcmp(pub, pub2, 32) == 0, "k1.key's public half is k1.pub %s",
	    err);
	img_key_free(k);
	T_ERR(img_keygen(tpath("k1"), err, sizeof(err)), err,
	    "k1.key: exists already");
	unlink(tpath("k1.key"));
	T_ERR(img_keygen(tpath("k1"), err, sizeof(err)), err,
	    "k1.pub: exists already");
	T_OK(access(tpath("k1.key"), F_OK) < 0, "no k1.key left behind");
	T_ERR(img_keygen(tpath("nodir/k"), err, sizeof(err)), err,
	    "nodir/k.key: No such file or directory");

	T_OK(img_keygen(tpath("k2"), err, sizeof(err)) == 0, "keygen k2");
	chmod(tpath("k2.key"), 0644);
	T_OK(img_key_load_private(tpath("k2.key"), err, sizeof(err)) == NULL &&
	    strstr(err, "k2.key: mode 0644: group or others have access")
	    != NULL,
	    "0644 private key refused: %s", err);
	chmod(tpath("k2.key"), 0640);
	T_OK(img_key_load_private(tpath("k2.key"), err, sizeof(err)) == NULL,
	    "0640 private key refused");
	chmod(tpath("k2.key"), 0400);
	k = img_key_load_private(tpath("k2.key"), err, sizeof(err));
	T_OK(k != NULL, "0400 private key accepted %s", err);
	img_key_free(k);
	put("notkey", "hello\n", 0600);
	T_ERR(img_key_load_private(tpath("notkey"), err, sizeof(err)) == NULL
	    ? -1 : 0, err, "notkey: not a PEM private key");
	T_ERR(img_key_load_private(tpath("nokey"), err, sizeof(err)) == NULL
	    ? -1 : 0, err, "nokey: No such file or directory");

	img_key_id(tpub, id);
	T_OK(memcmp(id, "\x21\xfe\x31\xdf\xa1\x54\xa2\x61", 8) == 0,
	    "key id of the RFC 8032 key");
}

int
main(void)
{
	uint8_t	seed[32];
	char	hx[65], *cmd;

	snprintf(tdir, sizeof(tdir), "/tmp/test_image.XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return 2;
	hex_decode(seed, sizeof(seed), seed_hex);
	tkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	T_OK(tkey != NULL && img_key_public(tkey, tpub) == 0,
	    "RFC 8032 test key");
	hex_encode(hx, tpub, 32);
	T_OK(strcmp(hx, pub_hex) == 0, "its public key %s", hx);

	test_golden();
	test_roundtrip();
	test_refusals();
	test_build_refusals();
	test_versions();
	test_compat();
	test_pubkey();
	test_keyfiles();

	img_key_free(tkey);
	cmd = xasprintf("rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tdir);
	free(cmd);
	return t_done();
}

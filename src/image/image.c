/*
 * image.c — the software image file (docs/boot-images.md, "Software
 * image file"): the 64-byte header, the manifest text, the payload and
 * the Ed25519 signature; building, parsing, verifying and extracting an
 * image; version strings and compatibility.
 *
 * One parser: img_build() runs img_parse() over what it produced before
 * signing it, so a manifest that the loader would refuse is never
 * signed.  The parser is strict (fields in order, single spaces, no
 * unknown keys) because the manifest is machine-written and signed: a
 * lenient reader would only hide a bug in the writer.
 *
 * Keys (generation, PEM files, public key lines) live in image_key.c,
 * version strings and compatibility in image_ver.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/util.h"
#include "image/image.h"
#include "pool/pext.h"

#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_FLAGS	6
#define OFF_MLEN	8
#define OFF_NFILES	12
#define OFF_PLEN	16
#define OFF_KEYID	24
#define OFF_RSVD	32
#define OFF_CRC		60

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	err_atv(err, errlen, NULL, 0, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- manifest ---------------------------------------------------------- */

static const char *const mkeys[] = {
	"format", "version", "build_id", "build_time", "arch", "hardware",
	"wire", "disk", "file",
};
enum { MK_FORMAT, MK_VERSION, MK_BUILD_ID, MK_BUILD_TIME, MK_ARCH,
    MK_HARDWARE, MK_WIRE, MK_DISK, MK_FILE, MK_N };
_Static_assert(nitems(mkeys) == MK_N, "manifest key table");

/* Unsigned decimal, no sign, no leading zero, <= max.  0 / -1. */
static int
dec_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* Names of architectures, platforms: [A-Za-z0-9._-], 1..max chars. */
static int
word_ok(const char *s, size_t max)
{
	size_t	n = strlen(s);

	return n > 0 && n <= max && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A file name: [a-z0-9._-]{1,31}, not starting with '.' (so "." and
 * ".." never name a file and extraction's temporary names, which start
 * with '.', never collide with one). */
static int
fname_ok(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && n <= IMG_NAME_MAX && s[0] != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int
sha_hex_parse(const char *s, uint8_t out[IMG_DIGEST_LEN])
{
	if (strlen(s) != 2 * IMG_DIGEST_LEN ||
	    strspn(s, "0123456789abcdef") != 2 * IMG_DIGEST_LEN)
		return -1;
	return hex_decode(out, IMG_DIGEST_LEN, s) == IMG_DIGEST_LEN ? 0 : -1;
}

/* Split line (NUL-terminated, modified) at single spaces into at most
 * max tokens; -1 on an empty token (two spaces, leading or trailing). */
static int
tokens(char *line, char **tok, int max)
{
	int	n = 0;
	char	*p = line;

	for (;;) {
		char *sp = strchr(p, ' ');
		if (n == max)
			return -1;
		tok[n++] = p;
		if (sp != NULL)
			*sp = '\0';
		if (*p == '\0')
			return -1;
		if (sp == NULL)
			return n;
		p = sp + 1;
	}
}

static int
range_parse(char **tok, uint32_t *min, uint32_t *max)
{
	uint64_t	a, b;

	if (dec_u64(tok[1], UINT32_MAX, &a) < 0 ||
	    dec_u64(tok[2], UINT32_MAX, &b) < 0 || a > b)
		return -1;
	*min = (uint32_t)a;
	*max = (uint32_t)b;
	return 0;
}

#define MFAIL(...)	do {						\
	int _n = snprintf(err, errlen, "manifest line %d: ", lineno);	\
	if (_n >= 0 && (size_t)_n < errlen)				\
		snprintf(err + _n, errlen - (size_t)_n, __VA_ARGS__);	\
	goto out;							\
} while (0)

static int
manifest_parse(const char *text, size_t len, struct img_manifest *m,
    char *err, size_t errlen)
{
	char		*copy, *line, *next, *tok[6];
	int		 lineno = 0, want = MK_FORMAT, ntok, rc = -1, k;
	uint64_t	 v, off = 0;

	memset(m, 0, sizeof(*m));
	if (memchr(text, '\0', len) != NULL)
		return fail(err, errlen, "manifest holds a NUL byte");
	if (text[len - 1] != '\n')
		return fail(err, errlen, "manifest does not end with a "
		    "newline");
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		*next++ = '\0';
		for (const char *c = line; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				MFAIL("control or non-ASCII character");
		if ((ntok = tokens(line, tok, nitems(tok))) < 0)
			MFAIL("bad spacing or too many fields");
		for (k = 0; k < MK_N && strcmp(tok[0], mkeys[k]) != 0; k++)
			;
		if (k == MK_N)
			MFAIL("unknown key '%s'", tok[0]);
		if (k != want && !(k == MK_FILE && want > MK_FILE))
			MFAIL("key '%s' out of order (expected '%s')", tok[0],
			    mkeys[want < MK_N ? want : MK_FILE]);
		want = k + 1;
		switch (k) {
		case MK_FORMAT:
			if (ntok != 3 || strcmp(tok[1], "duonas-image") != 0 ||
			    strcmp(tok[2], "1") != 0)
				MFAIL("expected 'format duonas-image 1'");
			break;
		case MK_VERSION:
			if (ntok != 2 || !img_version_valid(tok[1]))
				MFAIL("bad version '%s'",
				    ntok > 1 ? tok[1] : "");
			strcpy(m->version, tok[1]);
			break;
		case MK_BUILD_ID:
			if (ntok != 2 || strlen(tok[1]) >= sizeof(m->build_id))
				MFAIL("bad build_id (one word, at most %zu "
				    "characters)", sizeof(m->build_id) - 1);
			strcpy(m->build_id, tok[1]);
			break;
		case MK_BUILD_TIME:
			if (ntok != 2 || dec_u64(tok[1], INT64_MAX, &v) < 0)
				MFAIL("bad build_time '%s'",
				    ntok > 1 ? tok[1] : "");
			m->build_time = (int64_t)v;
			break;
		case MK_ARCH:
		case MK_HARDWARE:
			if (ntok != 2 || !word_ok(tok[1], sizeof(m->arch) - 1))
				MFAIL("bad %s '%s'", tok[0],
				    ntok > 1 ? tok[1] : "");
			strcpy(k == MK_ARCH ? m->arch : m->hardware, tok[1]);
			break;
		case MK_WIRE:
		case MK_DISK:
			if (ntok != 3 || range_parse(tok, k == MK_WIRE ?
			    &m->wire_min : &m->disk_min, k == MK_WIRE ?
			    &m->wire_max : &m->disk_max) < 0)
				MFAIL("expected '%s MIN MAX' with MIN <= MAX",
				    tok[0]);
			break;
		case MK_FILE: {
			struct img_file *f;

			if (ntok != 5)
				MFAIL("expected 'file NAME SIZE MODE SHA256'");
			if (!fname_ok(tok[1]))
				MFAIL("bad file name '%s'", tok[1]);
			for (int i = 0; i < m->nfiles; i++)
				if (strcmp(m->files[i].name, tok[1]) == 0)
					MFAIL("duplicate file '%s'", tok[1]);
			if (m->nfiles == IMG_FILES_MAX)
				MFAIL("more than %d files", IMG_FILES_MAX);
			f = &m->files[m->nfiles];
			strcpy(f->name, tok[1]);
			if (dec_u64(tok[2], IMG_PAYLOAD_MAX, &f->size) < 0)
				MFAIL("file %s: bad size '%s'", tok[1], tok[2]);
			if (strlen(tok[3]) != 4 || strspn(tok[3], "01234567")
			    != 4 || tok[3][0] != '0')
				MFAIL("file %s: bad mode '%s' (0NNN)", tok[1],
				    tok[3]);
			f->mode = (uint32_t)strtoul(tok[3], NULL, 8);
			if (sha_hex_parse(tok[4], f->sha256) < 0)
				MFAIL("file %s: bad SHA-256 '%s'", tok[1],
				    tok[4]);
			f->offset = off;
			off += f->size;
			m->nfiles++;
			break;
		}
		}
	}
	if (want <= MK_FILE) {
		snprintf(err, errlen, "manifest ends before '%s'", mkeys[want]);
		goto out;
	}
	for (k = 0; k < m->nfiles; k++)
		if (strcmp(m->files[k].name, "duonasd") == 0)
			break;
	if (k == m->nfiles) {
		snprintf(err, errlen, "manifest has no file 'duonasd'");
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- parse, verify ------------------------------------------------------ */

int
img_parse(const uint8_t *data, size_t len, struct img_info *out,
    char *err, size_t errlen)
{
	uint32_t	mlen, nfiles, crc;
	uint64_t	plen, total, sum = 0;
	struct img_info	*info = out;

	memset(info, 0, sizeof(*info));
	if (len < IMG_HDR_LEN)
		return fail(err, errlen, "truncated: %zu bytes, shorter than "
		    "the %d-byte header", len, IMG_HDR_LEN);
	if (get_be32(data + OFF_MAGIC) != IMG_MAGIC)
		return fail(err, errlen, "bad magic 0x%08" PRIx32 " (not a "
		    "duonas image)", get_be32(data + OFF_MAGIC));
	crc = pext_crc32c(0, data, OFF_CRC);
	if (get_be32(data + OFF_CRC) != crc)
		return fail(err, errlen, "header CRC mismatch (stored 0x%08"
		    PRIx32 ", computed 0x%08" PRIx32 ")",
		    get_be32(data + OFF_CRC), crc);
	if (get_be16(data + OFF_VERSION) != IMG_FORMAT)
		return fail(err, errlen, "image format version %u not "
		    "supported (this build reads %d)",
		    get_be16(data + OFF_VERSION), IMG_FORMAT);
	if (get_be16(data + OFF_FLAGS) != 0)
		return fail(err, errlen, "unknown header flags 0x%04x",
		    get_be16(data + OFF_FLAGS));
	for (int i = OFF_RSVD; i < OFF_CRC; i++)
		if (data[i] != 0)
			return fail(err, errlen, "reserved header byte %d is "
			    "not zero", i);
	mlen = get_be32(data + OFF_MLEN);
	nfiles = get_be32(data + OFF_NFILES);
	plen = get_be64(data + OFF_PLEN);
	if (mlen < 1 || mlen > IMG_MANIFEST_MAX)
		return fail(err, errlen, "manifest length %" PRIu32 " out of "
		    "range 1..%d", mlen, IMG_MANIFEST_MAX);
	if (nfiles < 1 || nfiles > IMG_FILES_MAX)
		return fail(err, errlen, "file count %" PRIu32 " out of range "
		    "1..%d", nfiles, IMG_FILES_MAX);
	if (plen > IMG_PAYLOAD_MAX)
		return fail(err, errlen, "payload length %" PRIu64 " over the "
		    "limit of %u", plen, IMG_PAYLOAD_MAX);
	total = IMG_HDR_LEN + (uint64_t)mlen + plen + IMG_SIG_LEN;
	if (len < total)
		return fail(err, errlen, "truncated: %zu bytes, the header "
		    "says %" PRIu64, len, total);
	if (len > total)
		return fail(err, errlen, "sizes do not add up: %zu bytes, the "
		    "header says %" PRIu64, len, total);
	if (manifest_parse((const char *)data + IMG_HDR_LEN, mlen, &info->m,
	    err, errlen) < 0)
		return -1;
	if ((uint32_t)info->m.nfiles != nfiles)
		return fail(err, errlen, "manifest lists %d files, the header "
		    "says %" PRIu32, info->m.nfiles, nfiles);
	for (int i = 0; i < info->m.nfiles; i++)
		sum += info->m.files[i].size;
	if (sum != plen)
		return fail(err, errlen, "sizes do not add up: files hold %"
		    PRIu64 " bytes, the payload is %" PRIu64, sum, plen);
	memcpy(info->key_id, data + OFF_KEYID, IMG_KEYID_LEN);
	info->payload_off = IMG_HDR_LEN + mlen;
	info->total = len;
	if (sha256(data, len, info->digest) < 0)
		return fail(err, errlen, "SHA-256 not available");
	return 0;
}

int
img_check_payload(const uint8_t *data, const struct img_info *info,
    char *err, size_t errlen)
{
	uint8_t	d[IMG_DIGEST_LEN];

	for (int i = 0; i < info->m.nfiles; i++) {
		const struct img_file *f = &info->m.files[i];
		if (sha256(data + info->payload_off + f->offset, f->size,
		    d) < 0)
			return fail(err, errlen, "SHA-256 not available");
		if (memcmp(d, f->sha256, IMG_DIGEST_LEN) != 0)
			return fail(err, errlen, "file %s: SHA-256 mismatch",
			    f->name);
	}
	return 0;
}

/* 1 when sig is pub's Ed25519 signature of msg, 0 when not, -1 when
 * libcrypto fails. */
static int
sig_check(const uint8_t pub[IMG_PUBKEY_LEN], const uint8_t *msg, size_t n,
    const uint8_t *sig)
{
	EVP_PKEY	*pk;
	EVP_MD_CTX	*ctx = NULL;
	int		 rc = -1;

	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
	    IMG_PUBKEY_LEN);
	if (pk == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	/* Ed25519 is "pure": no separate digest, one-shot only */
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1)
		goto out;
	rc = EVP_DigestVerify(ctx, sig, IMG_SIG_LEN, msg, n) == 1;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

int
img_verify(const uint8_t *data, size_t len,
    const uint8_t keys[][IMG_PUBKEY_LEN], int nkeys,
    struct img_info *out, char *err, size_t errlen)
{
	uint8_t	id[IMG_KEYID_LEN];
	char	idhex[2 * IMG_KEYID_LEN + 1];
	int	tried = 0;

	if (img_parse(data, len, out, err, errlen) < 0)
		return -1;
	if (nkeys <= 0)
		return fail(err, errlen, "no trusted key to verify the "
		    "signature with");
	/* only keys whose id the header names: the id is covered by the
	 * signature, so this is a short cut, not a trust decision */
	for (int i = 0; i < nkeys; i++) {
		img_key_id(keys[i], id);
		if (memcmp(id, out->key_id, IMG_KEYID_LEN) != 0)
			continue;
		tried++;
		switch (sig_check(keys[i], data, out->payload_off,
		    data + len - IMG_SIG_LEN)) {
		case 1:
			return img_check_payload(data, out, err, errlen);
		case -1:
			return fail(err, errlen, "Ed25519 not available");
		}
	}
	if (tried == 0) {
		hex_encode(idhex, out->key_id, IMG_KEYID_LEN);
		return fail(err, errlen, "signed by key %s, which is not "
		    "trusted", idhex);
	}
	return fail(err, errlen, "signature does not verify with any "
	    "trusted key");
}

/* ---- build -------------------------------------------------------------- */

int
img_build(const struct img_manifest *m, const char *const *paths,
    void *pkey, struct buf *out, char *err, size_t errlen)
{
	struct buf	 img, man;
	struct img_info	 info;
	uint8_t		*fdata[IMG_FILES_MAX] = { NULL };
	size_t		 flen[IMG_FILES_MAX];
	uint8_t		 pub[IMG_PUBKEY_LEN], id[IMG_KEYID_LEN], d[32];
	char		 hx[2 * IMG_DIGEST_LEN + 1];
	uint64_t	 plen = 0;
	size_t		 siglen = IMG_SIG_LEN;
	EVP_MD_CTX	*ctx = NULL;
	int		 rc = -1, i;

	buf_init(&img);
	buf_init(&man);
	if (m->nfiles < 1 || m->nfiles > IMG_FILES_MAX) {
		fail(err, errlen, "%d files: an image holds 1 to %d",
		    m->nfiles, IMG_FILES_MAX);
		goto out;
	}
	if (img_key_public(pkey, pub) < 0) {
		fail(err, errlen, "the signing key is not an Ed25519 key");
		goto out;
	}
	img_key_id(pub, id);
	buf_printf(&man, "format duonas-image 1\nversion %s\nbuild_id %s\n"
	    "build_time %" PRId64 "\narch %s\nhardware %s\nwire %" PRIu32
	    " %" PRIu32 "\ndisk %" PRIu32 " %" PRIu32 "\n", m->version,
	    m->build_id, m->build_time, m->arch, m->hardware, m->wire_min,
	    m->wire_max, m->disk_min, m->disk_max);
	for (i = 0; i < m->nfiles; i++) {
		if (file_read_all(paths[i], IMG_PAYLOAD_MAX, &fdata[i],
		    &flen[i]) < 0) {
			fail(err, errlen, "file %s: %s: %s", m->files[i].name,
			    paths[i], errno == EFBIG ? "larger than the "
			    "payload limit" : strerror(errno));
			goto out;
		}
		plen += flen[i];
		if (plen > IMG_PAYLOAD_MAX) {
			fail(err, errlen, "files add up to more than the "
			    "payload limit of %u bytes", IMG_PAYLOAD_MAX);
			goto out;
		}
		if (sha256(fdata[i], flen[i], d) < 0) {
			fail(err, errlen, "SHA-256 not available");
			goto out;
		}
		hex_encode(hx, d, sizeof(d));
		buf_printf(&man, "file %s %zu %04" PRIo32 " %s\n",
		    m->files[i].name, flen[i], m->files[i].mode & 0777, hx);
	}
	if (man.len > IMG_MANIFEST_MAX) {
		fail(err, errlen, "manifest of %zu bytes over the limit of %d",
		    man.len, IMG_MANIFEST_MAX);
		goto out;
	}
	buf_reserve(&img, IMG_HDR_LEN + man.len + plen + IMG_SIG_LEN);
	buf_add_u32(&img, IMG_MAGIC);
	buf_add_u16(&img, IMG_FORMAT);
	buf_add_u16(&img, 0);
	buf_add_u32(&img, (uint32_t)man.len);
	buf_add_u32(&img, (uint32_t)m->nfiles);
	buf_add_u64(&img, plen);
	buf_add(&img, id, sizeof(id));
	while (img.len < OFF_CRC)
		buf_add_u8(&img, 0);
	buf_add_u32(&img, pext_crc32c(0, img.data, OFF_CRC));
	buf_add(&img, man.data, man.len);
	for (i = 0; i < m->nfiles; i++)
		buf_add(&img, fdata[i], flen[i]);
	for (i = 0; i < IMG_SIG_LEN; i++)
		buf_add_u8(&img, 0);
	/* the same checks the loader makes, before anything is signed */
	if (img_parse(img.data, img.len, &info, err, errlen) < 0)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, img.data + img.len - IMG_SIG_LEN, &siglen,
	    img.data, info.payload_off) != 1 || siglen != IMG_SIG_LEN) {
		fail(err, errlen, "Ed25519 signing failed");
		goto out;
	}
	buf_add(out, img.data, img.len);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < IMG_FILES_MAX; i++)
		free(fdata[i]);
	buf_free(&img);
	buf_free(&man);
	return rc;
}

/* ---- extract, check ----------------------------------------------------- */

int
img_extract(const uint8_t *data, const struct img_info *info,
    const char *dir, char *err, size_t errlen)
{
	char	*tmp = NULL, *dst = NULL;
	int	 fd = -1, rc = -1;

	for (int i = 0; i < info->m.nfiles; i++) {
		const struct img_file *f = &info->m.files[i];

		tmp = xasprintf("%s/.%s.XXXXXX", dir, f->name);
		dst = xasprintf("%s/%s", dir, f->name);
		if ((fd = mkstemp(tmp)) < 0) {
			fail(err, errlen, "%s: cannot create a temporary file "
			    "for %s: %s", dir, f->name, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
		if (fchmod(fd, f->mode & 0777) < 0 ||
		    fd_io_full(fd, (void *)(uintptr_t)(data +
		    info->payload_off + f->offset), f->size, 1) < 0 ||
		    fsync(fd) < 0) {
			fail(err, errlen, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		if (close(fd) < 0) {
			fd = -1;
			fail(err, errlen, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		fd = -1;
		if (rename(tmp, dst) < 0) {
			fail(err, errlen, "rename to %s: %s", dst,
			    strerror(errno));
			goto out;
		}
		free(tmp);
		free(dst);
		tmp = dst = NULL;
	}
	if (fsync_dir(dir) < 0) {
		fail(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}

int
img_check_files(const struct img_info *info, const char *dir,
    char *err, size_t errlen)
{
	uint8_t		 chunk[65536], d[IMG_DIGEST_LEN];
	struct stat	 st;
	char		*path;
	void		*ctx;
	ssize_t		 n;
	int		 fd, rc;

	for (int i = 0; i < info->m.nfiles; i++) {
		const struct img_file *f = &info->m.files[i];

		path = xasprintf("%s/%s", dir, f->name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(path);
		if (fd < 0)
			return fail(err, errlen, "file %s: %s", f->name,
			    strerror(errno));
		rc = -1;
		ctx = NULL;
		if (fstat(fd, &st) < 0) {
			fail(err, errlen, "file %s: %s", f->name,
			    strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			fail(err, errlen, "file %s: not a regular file",
			    f->name);
		} else if ((uint64_t)st.st_size != f->size) {
			fail(err, errlen, "file %s: %jd bytes, the manifest "
			    "says %" PRIu64, f->name, (intmax_t)st.st_size,
			    f->size);
		} else if ((st.st_mode & 07777) != f->mode) {
			fail(err, errlen, "file %s: mode %04o, the manifest "
			    "says %04" PRIo32, f->name,
			    (unsigned)(st.st_mode & 07777), f->mode);
		} else if ((ctx = sha256_begin()) == NULL) {
			fail(err, errlen, "SHA-256 not available");
		} else {
			while ((n = read(fd, chunk, sizeof(chunk))) > 0)
				sha256_add(ctx, chunk, (size_t)n);
			if (n < 0)
				fail(err, errlen, "file %s: %s", f->name,
				    strerror(errno));
			if (sha256_end(ctx, d) < 0)
				fail(err, errlen, "SHA-256 not available");
			else if (n == 0 && memcmp(d, f->sha256,
			    IMG_DIGEST_LEN) != 0)
				fail(err, errlen, "file %s: SHA-256 mismatch",
				    f->name);
			else if (n == 0)
				rc = 0;
			ctx = NULL;
		}
		close(fd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

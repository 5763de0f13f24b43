/*
 * ctcm_bundle.c — the configuration bundle and the replica image as
 * bytes, their text form for export/import, and a line diff as
 * unified-diff hunks.
 *
 * Everything here is pure (no I/O, no global state) so it can be tested
 * against golden bytes.  Formats: docs/ctcm.md ("Bundle format",
 * "Replica image", "Text form").  Decoders check every length before
 * touching the bytes and return the first failure as a CTCM_E_* code.
 * Also the pure numbering rules: slot keys, the rank of a configuration
 * and the next epoch.  This file does not decide which copy wins;
 * ctcm_boot.c and ctcm_sync.c do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pext.h"
#include "smb/smb_users.h"

void
ctcm_bundle_init(struct ctcm_bundle *b)
{
	memset(b, 0, sizeof(*b));
}

void
ctcm_bundle_free(struct ctcm_bundle *b)
{
	for (int i = 0; i < b->nsec; i++)
		free(b->sec[i].data);
	memset(b, 0, sizeof(*b));
}

void
ctcm_bundles_free(struct ctcm_bundle *v, int n)
{
	if (v == NULL)
		return;
	for (int i = 0; i < n; i++)
		ctcm_bundle_free(&v[i]);
	free(v);
}

int
ctcm_bundle_copy(struct ctcm_bundle *dst, const struct ctcm_bundle *src)
{
	*dst = *src;
	for (int i = 0; i < src->nsec; i++) {
		dst->sec[i].data = xmalloc(src->sec[i].len + 1);
		memcpy(dst->sec[i].data, src->sec[i].data, src->sec[i].len);
		dst->sec[i].data[src->sec[i].len] = 0;
	}
	return 0;
}

int
ctcm_bundle_set(struct ctcm_bundle *b, uint16_t kind, const char *name,
    const void *data, size_t len)
{
	struct ctcm_section	*s = NULL;

	for (int i = 0; i < b->nsec; i++)
		if (b->sec[i].kind == kind)
			s = &b->sec[i];
	if (s == NULL) {
		if (b->nsec == CTCM_MAX_SECTIONS)
			return CTCM_E_FORMAT;
		s = &b->sec[b->nsec++];
		/* keep sections sorted by kind: the encoding is canonical */
		int j = b->nsec - 1;
		while (j > 0 && b->sec[j - 1].kind > kind) {
			b->sec[j] = b->sec[j - 1];
			j--;
		}
		s = &b->sec[j];
		memset(s, 0, sizeof(*s));
		s->kind = kind;
	} else
		free(s->data);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->data = xmalloc(len + 1);
	if (len)
		memcpy(s->data, data, len);
	s->data[len] = 0;
	s->len = len;
	return 0;
}

void
ctcm_bundle_del(struct ctcm_bundle *b, uint16_t kind)
{
	for (int i = 0; i < b->nsec; i++)
		if (b->sec[i].kind == kind) {
			free(b->sec[i].data);
			memmove(&b->sec[i], &b->sec[i + 1],
			    (size_t)(b->nsec - i - 1) * sizeof(b->sec[0]));
			b->nsec--;
			memset(&b->sec[b->nsec], 0, sizeof(b->sec[0]));
			return;
		}
}

const struct ctcm_section *
ctcm_bundle_get(const struct ctcm_bundle *b, uint16_t kind)
{
	for (int i = 0; i < b->nsec; i++)
		if (b->sec[i].kind == kind)
			return &b->sec[i];
	return NULL;
}

const char *
ctcm_bundle_text(const struct ctcm_bundle *b, uint16_t kind, size_t *lenp)
{
	const struct ctcm_section *s = ctcm_bundle_get(b, kind);

	if (lenp)
		*lenp = s ? s->len : 0;
	return s ? (const char *)s->data : "";
}

static void
add_str(struct buf *o, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT16_MAX)
		n = UINT16_MAX;
	buf_add_u16(o, (uint16_t)n);
	buf_add(o, s, n);
}

/* The sections as encoded (kind, name, length, bytes). */
static void
encode_sections(const struct ctcm_bundle *b, struct buf *o)
{
	buf_add_u16(o, (uint16_t)b->nsec);
	for (int i = 0; i < b->nsec; i++) {
		buf_add_u16(o, b->sec[i].kind);
		add_str(o, b->sec[i].name);
		buf_add_blob(o, b->sec[i].data, (uint32_t)b->sec[i].len);
	}
}

uint32_t
ctcm_content_crc(const struct ctcm_bundle *b)
{
	struct buf	o;
	uint32_t	crc;

	buf_init(&o);
	encode_sections(b, &o);
	crc = pext_crc32c(0, o.data, o.len);
	buf_free(&o);
	return crc;
}

void
ctcm_bundle_encode(const struct ctcm_bundle *b, struct buf *o)
{
	struct buf	secs;
	size_t		start = o->len;

	buf_init(&secs);
	encode_sections(b, &secs);
	buf_add_u32(o, CTCM_BUNDLE_MAGIC);
	buf_add_u16(o, CTCM_FORMAT_VERSION);
	buf_add_u16(o, 0);
	buf_add_u64(o, b->gen);
	buf_add_u64(o, b->time_ms);
	buf_add_u32(o, b->author_id);
	buf_add_u32(o, pext_crc32c(0, secs.data, secs.len));
	add_str(o, b->author);
	add_str(o, b->summary);
	buf_add(o, secs.data, secs.len);
	buf_add_u32(o, pext_crc32c(0, o->data + start, o->len - start));
	buf_free(&secs);
}

int
ctcm_bundle_decode(const uint8_t *p, size_t len, struct ctcm_bundle *b)
{
	struct rd	 r;
	const uint8_t	*secstart;
	uint32_t	 ccrc, slen;
	uint16_t	 n;
	int		 rc;

	ctcm_bundle_init(b);
	if (len < 34 + 4)
		return CTCM_E_SHORT;
	if (get_be32(p) != CTCM_BUNDLE_MAGIC)
		return CTCM_E_MAGIC;
	if (pext_crc32c(0, p, len - 4) != get_be32(p + len - 4))
		return CTCM_E_CRC;
	rd_init(&r, p, len - 4);
	rd_u32(&r);
	if (rd_u16(&r) != CTCM_FORMAT_VERSION)
		return CTCM_E_VERSION;
	rd_u16(&r);
	b->gen = rd_u64(&r);
	b->time_ms = rd_u64(&r);
	b->author_id = rd_u32(&r);
	ccrc = rd_u32(&r);
	if (rd_str(&r, b->author, sizeof(b->author)) < 0 ||
	    rd_str(&r, b->summary, sizeof(b->summary)) < 0) {
		rc = CTCM_E_FORMAT;
		goto fail;
	}
	secstart = r.p;
	n = rd_u16(&r);
	if (r.err || n > CTCM_MAX_SECTIONS) {
		rc = CTCM_E_FORMAT;
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct ctcm_section	*s = &b->sec[i];
		const void		*d;

		s->kind = rd_u16(&r);
		if (rd_str(&r, s->name, sizeof(s->name)) < 0 ||
		    (d = rd_blob(&r, &slen)) == NULL || r.err ||
		    slen > CTCM_FILE_MAX) {
			rc = r.err || slen <= CTCM_FILE_MAX ? CTCM_E_SHORT :
			    CTCM_E_FORMAT;
			goto fail;
		}
		if (i > 0 && s->kind <= b->sec[i - 1].kind) {
			rc = CTCM_E_FORMAT;
			goto fail;
		}
		s->data = xmalloc(slen + 1);
		memcpy(s->data, d, slen);
		s->data[slen] = 0;
		s->len = slen;
		b->nsec = i + 1;
	}
	if (r.err || r.left != 0) {
		rc = r.err ? CTCM_E_SHORT : CTCM_E_FORMAT;
		goto fail;
	}
	if (pext_crc32c(0, secstart, (size_t)(r.p - secstart)) != ccrc) {
		rc = CTCM_E_CRC;
		goto fail;
	}
	b->content_crc = ccrc;
	return 0;
fail:
	ctcm_bundle_free(b);
	return rc;
}

int
ctcm_image_encode(const struct ctcm_bundle *v, int n, uint64_t epoch,
    size_t maxlen, struct buf *o)
{
	struct buf	one;
	size_t		start = o->len, countoff;
	int		kept = 0;

	buf_init(&one);
	buf_add_u32(o, CTCM_IMAGE_MAGIC);
	buf_add_u16(o, CTCM_IMAGE_VERSION);
	countoff = o->len;
	buf_add_u16(o, 0);
	buf_add_u64(o, epoch);
	buf_add_u64(o, n > 0 ? v[0].vepoch : 0);
	for (int i = 0; i < n && i < UINT16_MAX; i++) {
		buf_reset(&one);
		ctcm_bundle_encode(&v[i], &one);
		if (maxlen && o->len - start + 4 + one.len + 4 > maxlen)
			break;
		buf_add_blob(o, one.data, (uint32_t)one.len);
		kept++;
	}
	buf_free(&one);
	if (kept == 0) {
		o->len = start;
		return CTCM_E_FORMAT;
	}
	put_be16(o->data + countoff, (uint16_t)kept);
	buf_add_u32(o, pext_crc32c(0, o->data + start, o->len - start));
	return kept;
}

int
ctcm_image_decode(const uint8_t *p, size_t len, struct ctcm_bundle **bp,
    int *np, uint64_t *epochp)
{
	struct rd		 r;
	struct ctcm_bundle	*v = NULL;
	uint64_t		 epoch = 0, vepoch = 0;
	uint16_t		 n, ver;
	int			 rc, i;

	*bp = NULL;
	*np = 0;
	if (len < 12)
		return CTCM_E_SHORT;
	if (get_be32(p) != CTCM_IMAGE_MAGIC)
		return CTCM_E_MAGIC;
	if (pext_crc32c(0, p, len - 4) != get_be32(p + len - 4))
		return CTCM_E_CRC;
	rd_init(&r, p + 4, len - 8);
	ver = rd_u16(&r);
	if (ver != 1 && ver != CTCM_IMAGE_VERSION)
		return CTCM_E_VERSION;
	n = rd_u16(&r);
	if (ver >= 2) {
		epoch = rd_u64(&r);
		vepoch = rd_u64(&r);
		if (r.err)
			return CTCM_E_SHORT;
		if (epoch > CTCM_EPOCH_MAX || vepoch > epoch)
			return CTCM_E_FORMAT;
	}
	if (n == 0)
		return CTCM_E_FORMAT;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		uint32_t	 blen;
		const uint8_t	*d = rd_blob(&r, &blen);

		if (d == NULL || r.err) {
			rc = CTCM_E_SHORT;
			goto fail;
		}
		if ((rc = ctcm_bundle_decode(d, blen, &v[i])) != 0)
			goto fail;
		if ((i > 0 && v[i].gen >= v[i - 1].gen) ||
		    v[i].gen > CTCM_GEN_MAX) {
			ctcm_bundle_free(&v[i]);
			rc = CTCM_E_FORMAT;
			goto fail;
		}
	}
	if (r.left != 0) {
		rc = CTCM_E_FORMAT;
		goto fail;
	}
	v[0].vepoch = vepoch;
	*bp = v;
	*np = n;
	if (epochp != NULL)
		*epochp = epoch;
	return 0;
fail:
	ctcm_bundles_free(v, i);
	return rc;
}

int
ctcm_bundle_cfg(const struct ctcm_bundle *b, struct cfg *out, char *err,
    size_t errlen)
{
	const struct ctcm_section *c = ctcm_bundle_get(b, CTCM_SEC_CONF);

	if (c == NULL) {
		snprintf(err, errlen, "generation %llu has no duonas.conf",
		    (unsigned long long)b->gen);
		return -1;
	}
	return cfg_parse_buf("duonas.conf", (const char *)c->data, c->len,
	    out, err, errlen);
}

/* ---- numbering (docs/ctcm.md, "Terms", "Numbering") ------------------- */

uint64_t
ctcm_key_pack(uint64_t epoch, uint64_t gen)
{
	return epoch << CTCM_GEN_BITS | (gen & CTCM_GEN_MAX);
}

void
ctcm_key_unpack(uint64_t key, uint64_t *epoch, uint64_t *gen)
{
	*epoch = key >> CTCM_GEN_BITS;
	*gen = key & CTCM_GEN_MAX;
}

int
ctcm_rank_cmp(uint64_t vepoch1, uint64_t gen1, uint64_t vepoch2,
    uint64_t gen2)
{
	if (vepoch1 != vepoch2)
		return vepoch1 < vepoch2 ? -1 : 1;
	return gen1 < gen2 ? -1 : gen1 > gen2;
}

uint64_t
ctcm_epoch_next(uint64_t seen, uint32_t node)
{
	return (((seen >> 8) + 1) << 8) | (node & 0xff);
}

/* ---- text form -------------------------------------------------------- */

static const char *
sec_name(uint16_t kind)
{
	switch (kind) {
	case CTCM_SEC_CONF:
		return "duonas.conf";
	case CTCM_SEC_EXPORTS:
		return "exports";
	case CTCM_SEC_SMBUSERS:
		return "smb/users";
	case CTCM_SEC_IMAGE:
		return "image/boot";
	}
	return NULL;
}

int
ctcm_smb_users_count(const struct ctcm_bundle *b)
{
	const struct ctcm_section	*s = ctcm_bundle_get(b,
					    CTCM_SEC_SMBUSERS);
	struct smb_users		 u;
	char				 err[256];
	int				 n;

	if (s == NULL)
		return 0;
	if (smb_users_parse((const char *)s->data, s->len, &u, err,
	    sizeof(err)) < 0)
		return -1;
	n = u.n;
	smb_users_free(&u);
	return n;
}

static void
text_export(const struct ctcm_bundle *b, int secrets, struct buf *o)
{
	int nusers = ctcm_smb_users_count(b);

	buf_printf(o, "# duonas configuration, generation %llu, checksum "
	    "%08x\n", (unsigned long long)b->gen, ctcm_content_crc(b));
	/* before the first %%file line, so an import skips it; without the
	 * section an import keeps the users the cluster has */
	if (!secrets && ctcm_bundle_get(b, CTCM_SEC_SMBUSERS) != NULL)
		buf_printf(o, "# smb users: %d (hashes not shown; duonas "
		    "config export FILE writes them)\n", nusers);
	for (int i = 0; i < b->nsec; i++) {
		const struct ctcm_section *s = &b->sec[i];

		if (sec_name(s->kind) == NULL)
			continue;	/* binary/unknown kinds: not in text */
		if (s->kind == CTCM_SEC_SMBUSERS && !secrets)
			continue;
		buf_printf(o, "%%%%file %s\n", sec_name(s->kind));
		buf_add(o, s->data, s->len);
		if (s->len > 0 && s->data[s->len - 1] != '\n')
			buf_add_u8(o, '\n');
	}
}

void
ctcm_text_export(const struct ctcm_bundle *b, struct buf *o)
{
	text_export(b, 0, o);
}

void
ctcm_text_export_secrets(const struct ctcm_bundle *b, struct buf *o)
{
	text_export(b, 1, o);
}

int
ctcm_text_import(const char *text, size_t len, struct ctcm_bundle *b,
    char *err, size_t errlen)
{
	const char	*p = text, *end = text + len, *nl;
	struct buf	 cur;
	int		 kind = 0, lineno = 0, sawfile = 0;
	int		 seen[CTCM_SEC_IMAGE + 1] = { 0 };

	ctcm_bundle_init(b);
	if (memchr(text, 0, len) != NULL) {
		snprintf(err, errlen, "NUL byte in the file");
		return -1;
	}
	buf_init(&cur);
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (ll >= 7 && strncmp(p, "%%file ", 7) == 0) {
			char name[64];
			size_t nn = ll - 7;

			while (nn > 0 && (p[7 + nn - 1] == '\n' ||
			    p[7 + nn - 1] == ' ' || p[7 + nn - 1] == '\r'))
				nn--;
			if (nn >= sizeof(name))
				nn = sizeof(name) - 1;
			memcpy(name, p + 7, nn);
			name[nn] = 0;
			if (kind)
				ctcm_bundle_set(b, (uint16_t)kind,
				    sec_name((uint16_t)kind), cur.data, cur.len);
			buf_reset(&cur);
			if (strcmp(name, "duonas.conf") == 0)
				kind = CTCM_SEC_CONF;
			else if (strcmp(name, "exports") == 0)
				kind = CTCM_SEC_EXPORTS;
			else if (strcmp(name, "smb/users") == 0)
				kind = CTCM_SEC_SMBUSERS;
			else if (strcmp(name, "image/boot") == 0)
				kind = CTCM_SEC_IMAGE;
			else {
				snprintf(err, errlen, "line %d: unknown file "
				    "'%s' (duonas.conf, exports, smb/users or "
				    "image/boot)",
				    lineno, name);
				goto fail;
			}
			if (seen[kind]++) {
				snprintf(err, errlen, "line %d: file '%s' "
				    "twice", lineno, name);
				goto fail;
			}
			sawfile = 1;
		} else if (kind || !sawfile) {
			/* before any %%file: a plain duonas.conf (comment
			 * lines of an export header are harmless) */
			buf_add(&cur, p, ll);
		}
		p += ll;
	}
	if (!sawfile)
		kind = CTCM_SEC_CONF;
	ctcm_bundle_set(b, (uint16_t)kind, sec_name((uint16_t)kind), cur.data,
	    cur.len);
	if (ctcm_bundle_get(b, CTCM_SEC_CONF) == NULL) {
		snprintf(err, errlen, "no %%%%file duonas.conf section");
		goto fail;
	}
	if (ctcm_bundle_get(b, CTCM_SEC_EXPORTS) == NULL)
		ctcm_bundle_set(b, CTCM_SEC_EXPORTS, "exports", "", 0);
	buf_free(&cur);
	return 0;
fail:
	buf_free(&cur);
	ctcm_bundle_free(b);
	return -1;
}

/* ---- line diff (LCS; configuration files are small) ------------------ */

struct lines {
	const char	**s;
	size_t		 *n;
	int		  count;
};

static void
split_lines(const char *t, size_t len, struct lines *l)
{
	const char *p = t, *end = t + len;

	l->count = 0;
	l->s = NULL;
	l->n = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		l->s = xrealloc(l->s, (l->count + 1) * sizeof(*l->s));
		l->n = xrealloc(l->n, (l->count + 1) * sizeof(*l->n));
		l->s[l->count] = p;
		l->n[l->count] = n;
		l->count++;
		p += n + (nl ? 1 : 0);
	}
}

static int
line_eq(const struct lines *a, int i, const struct lines *b, int j)
{
	return a->n[i] == b->n[j] && memcmp(a->s[i], b->s[j], a->n[i]) == 0;
}

/*
 * Unified-diff hunks ("@@ -a,b +c,d @@", ctx lines of context around
 * each change, hunks closer than 2*ctx merged) of two texts; returns the
 * number of changed lines.  The LCS table is quadratic, so the common
 * head and tail are cut off first and a middle larger than
 * CTCM_DIFF_CELLS cells is shown as one replacement.
 */
#define CTCM_DIFF_CELLS	(4u << 20)

/* One hunk's range in GNU diff's spelling: "start,count", the count
 * left out when 1, the start being the line before when the count is 0. */
static void
hunk_range(struct buf *o, int start, int count)
{
	if (count == 1)
		buf_printf(o, "%d", start + 1);
	else
		buf_printf(o, "%d,%d", count == 0 ? start : start + 1, count);
}

int
ctcm_diff_ctx(const char *at, size_t alen, const char *bt, size_t blen,
    int ctx, struct buf *o)
{
	struct lines	 a, b;
	uint32_t	*t = NULL;
	char		*op;		/* the edit script: ' ', '-', '+' */
	int		 i, j, n = 0, changed = 0, w, pre = 0, suf = 0, ma, mb;

	split_lines(at, alen, &a);
	split_lines(bt, blen, &b);
	while (pre < a.count && pre < b.count && line_eq(&a, pre, &b, pre))
		pre++;
	while (suf < a.count - pre && suf < b.count - pre &&
	    line_eq(&a, a.count - 1 - suf, &b, b.count - 1 - suf))
		suf++;
	ma = a.count - pre - suf;
	mb = b.count - pre - suf;
	w = mb + 1;
	if ((uint64_t)(ma + 1) * (uint64_t)w <= CTCM_DIFF_CELLS) {
		t = xcalloc((size_t)(ma + 1) * (size_t)w, sizeof(*t));
		/* t[i][j] = LCS length of the middles' a[i..] and b[j..] */
		for (i = ma - 1; i >= 0; i--)
			for (j = mb - 1; j >= 0; j--)
				t[i * w + j] = line_eq(&a, pre + i, &b,
				    pre + j) ? t[(i + 1) * w + j + 1] + 1 :
				    MAX(t[(i + 1) * w + j], t[i * w + j + 1]);
	}
	op = xmalloc((size_t)a.count + (size_t)b.count + 1);
	for (i = 0; i < pre; i++)
		op[n++] = ' ';
	i = j = 0;
	while (i < ma || j < mb) {
		if (t != NULL && i < ma && j < mb && line_eq(&a, pre + i, &b,
		    pre + j)) {
			op[n++] = ' ';
			i++;
			j++;
		} else if (i < ma && (j == mb || t == NULL ||
		    t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			op[n++] = '-';
			i++;
		} else {
			op[n++] = '+';
			j++;
		}
	}
	for (i = 0; i < suf; i++)
		op[n++] = ' ';
	/* walk the script; ai/bi: the line numbers (0-based) at position k */
	for (int k = 0, ai = 0, bi = 0; k < n; ) {
		int hs, he, lc, as, bs, ac = 0, bc = 0;

		if (op[k] == ' ') {
			k++;
			ai++;
			bi++;
			continue;
		}
		/* a change at k: the hunk starts ctx lines before it and
		 * ends ctx lines after its last change, a change fewer
		 * than 2*ctx equal lines after another joining it */
		hs = k - MIN(ctx, k);
		for (he = k, lc = k; he < n; he++) {
			if (op[he] != ' ')
				lc = he;
			else if (he - lc > 2 * ctx)
				break;
		}
		he = MIN(n, lc + 1 + ctx);
		as = ai - (k - hs);
		bs = bi - (k - hs);
		for (int x = hs; x < he; x++) {
			if (op[x] != '+')
				ac++;
			if (op[x] != '-')
				bc++;
		}
		buf_printf(o, "@@ -");
		hunk_range(o, as, ac);
		buf_printf(o, " +");
		hunk_range(o, bs, bc);
		buf_printf(o, " @@\n");
		for (int x = hs, ia = as, ib = bs; x < he; x++) {
			if (op[x] == '+') {
				buf_printf(o, "+%.*s\n", (int)b.n[ib],
				    b.s[ib]);
				ib++;
				changed++;
			} else {
				buf_printf(o, "%c%.*s\n", op[x], (int)a.n[ia],
				    a.s[ia]);
				if (op[x] == '-')
					changed++;
				else
					ib++;
				ia++;
			}
		}
		ai = as + ac;
		bi = bs + bc;
		k = he;
	}
	free(op);
	free(t);
	free(a.s);
	free(a.n);
	free(b.s);
	free(b.n);
	return changed;
}

int
ctcm_diff(const char *at, size_t alen, const char *bt, size_t blen,
    struct buf *o)
{
	return ctcm_diff_ctx(at, alen, bt, blen, 3, o);
}

const char *
ctcm_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case CTCM_E_SHORT:
		return "truncated configuration data";
	case CTCM_E_MAGIC:
		return "not a duonas configuration (bad magic)";
	case CTCM_E_CRC:
		return "checksum mismatch (corrupt)";
	case CTCM_E_VERSION:
		return "unknown configuration format version";
	case CTCM_E_FORMAT:
		return "malformed configuration data";
	case CTCM_E_NOTMASTER:
		return "only the master head runs transactions";
	case CTCM_E_NOMAJORITY:
		return "a majority of the configuration replicas could not "
		    "be written";
	case CTCM_E_INVALID:
		return "the new configuration is invalid";
	case CTCM_E_NOTFOUND:
		return "no such configuration generation";
	case CTCM_E_STALE:
		return "generation is not newer than the installed one";
	case CTCM_E_MONITOR:
		return "no valid configuration (MONITOR)";
	case CTCM_E_NOREPLICA:
		return "no valid configuration slot";
	case CTCM_E_DEPOSED:
		return "this head lost the mastership during the commit";
	case CTCM_E_NOREAD:
		return "a majority of the configuration replicas could not "
		    "be read";
	}
	if (rc < 0 && rc > -100)
		return pext_strerror(rc);
	if (rc > 0)
		return strerror(rc);
	return "unknown error";
}

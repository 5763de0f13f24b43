/*
 * pso_msg.c — the object record codec and sum, and the encoders and
 * decoders of the PSO peer messages (docs/pso.md, "Peer messages").
 *
 * Pure functions over byte buffers: no I/O, no state, so the unit test
 * compares them with golden bytes.  Every decoder checks the format byte,
 * reads through the bounds-checked reader, checks counts against the
 * bytes left before allocating, and rejects trailing bytes; it returns 0
 * or -1 and never touches memory past len.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pso/pso_int.h"

/* ---- record codec ---- */

void
pso_rec_encode(struct buf *b, const struct pso_rec *r, int with_id)
{
	size_t n = strlen(r->name);

	if (with_id)
		buf_add_u64(b, r->id);
	else
		buf_add_u8(b, PSO_REC_FORMAT);
	buf_add_u32(b, r->flags);
	buf_add_u64(b, r->version);
	buf_add_u64(b, r->mtime_ms);
	buf_add_u16(b, (uint16_t)n);
	buf_add(b, r->name, n);
	buf_add_blob(b, r->val, r->len);
}

size_t
pso_rec_msglen(const struct pso_rec *r)
{
	return 8 + 4 + 8 + 8 + 2 + strlen(r->name) + 4 + r->len;
}

static uint64_t
fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
pso_rec_sum(const struct pso_rec *r)
{
	uint8_t		hdr[8 + 4 + 8 + 8 + 2], len[4];
	size_t		n = strlen(r->name);
	uint64_t	h;

	/* the message encoding, hashed without building it */
	put_be64(hdr, r->id);
	put_be32(hdr + 8, r->flags);
	put_be64(hdr + 12, r->version);
	put_be64(hdr + 20, r->mtime_ms);
	put_be16(hdr + 28, (uint16_t)n);
	put_be32(len, r->len);
	h = fnv64(0xcbf29ce484222325ULL, hdr, sizeof(hdr));
	h = fnv64(h, r->name, n);
	h = fnv64(h, len, sizeof(len));
	return fnv64(h, r->val, r->len);
}

/* Decode one record; leaves r->val pointing into the reader's buffer.
 * Returns 0 or -1 (short, bad format, bad name, value too big). */
int
pso_rec_decode(struct rd *d, struct pso_rec *r, int with_id)
{
	if (with_id)
		r->id = rd_u64(d);
	else if (rd_u8(d) != PSO_REC_FORMAT)
		return -1;
	r->flags = rd_u32(d);
	r->version = rd_u64(d);
	r->mtime_ms = rd_u64(d);
	if (rd_str(d, r->name, sizeof(r->name)) < 0 || r->name[0] == 0)
		return -1;
	r->val = rd_blob(d, &r->len);
	if (d->err || r->len > PSO_VALUE_MAX)
		return -1;
	return 0;
}

/* ---- messages ---- */

static void
start(struct buf *b)
{
	buf_add_u8(b, PSO_MSG_FORMAT);
}

static int
open_rd(struct rd *d, const uint8_t *p, size_t len)
{
	rd_init(d, p, len);
	return rd_u8(d) == PSO_MSG_FORMAT && !d->err ? 0 : -1;
}

static int
close_rd(const struct rd *d)
{
	return d->err || d->left != 0 ? -1 : 0;
}

void
pso_m_rc_enc(struct buf *b, int32_t rc)
{
	start(b);
	buf_add_u32(b, (uint32_t)rc);
}

int
pso_m_rc_dec(const uint8_t *p, size_t len, int32_t *rc)
{
	struct rd d;

	if (open_rd(&d, p, len) < 0)
		return -1;
	*rc = (int32_t)rd_u32(&d);
	return close_rd(&d);
}

void
pso_m_wrep_enc(struct buf *b, int32_t rc, uint64_t version)
{
	start(b);
	buf_add_u32(b, (uint32_t)rc);
	buf_add_u64(b, version);
}

int
pso_m_wrep_dec(const uint8_t *p, size_t len, int32_t *rc, uint64_t *version)
{
	struct rd d;

	if (open_rd(&d, p, len) < 0)
		return -1;
	*rc = (int32_t)rd_u32(&d);
	*version = rd_u64(&d);
	return close_rd(&d);
}

void
pso_m_lock_enc(struct buf *b, const struct pso_m_lock *m, int full)
{
	start(b);
	buf_add_u64(b, m->id);
	buf_add_u32(b, m->node);
	buf_add_u64(b, m->owner);
	if (full) {
		buf_add_u32(b, (uint32_t)m->timeout_ms);
		buf_add_u8(b, m->retry);
	}
}

int
pso_m_lock_dec(const uint8_t *p, size_t len, struct pso_m_lock *m, int full)
{
	struct rd d;

	memset(m, 0, sizeof(*m));
	if (open_rd(&d, p, len) < 0)
		return -1;
	m->id = rd_u64(&d);
	m->node = rd_u32(&d);
	m->owner = rd_u64(&d);
	if (full) {
		m->timeout_ms = (int32_t)rd_u32(&d);
		m->retry = rd_u8(&d);
	}
	return close_rd(&d);
}

void
pso_m_lockents_enc(struct buf *b, const struct pso_m_lockent *e, uint32_t n,
    int lockev, int32_t rc)
{
	uint32_t i;

	start(b);
	if (!lockev)
		buf_add_u32(b, (uint32_t)rc);
	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		if (lockev)
			buf_add_u8(b, e[i].op);
		buf_add_u64(b, e[i].id);
		buf_add_u32(b, e[i].node);
		buf_add_u64(b, e[i].owner);
	}
}

int
pso_m_lockents_dec(const uint8_t *p, size_t len, int lockev, int32_t *rc,
    struct pso_m_lockent **entp, uint32_t *np)
{
	struct pso_m_lockent	*e = NULL;
	struct rd		 d;
	size_t			 esz = lockev ? 21 : 20;
	uint32_t		 i, n;

	*entp = NULL;
	*np = 0;
	*rc = 0;
	if (open_rd(&d, p, len) < 0)
		return -1;
	if (!lockev)
		*rc = (int32_t)rd_u32(&d);
	n = rd_u32(&d);
	if (d.err || d.left / esz < n || d.left != (size_t)n * esz)
		return -1;
	e = xcalloc(n ? n : 1, sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].op = lockev ? rd_u8(&d) : 0;
		e[i].id = rd_u64(&d);
		e[i].node = rd_u32(&d);
		e[i].owner = rd_u64(&d);
		if (lockev && e[i].op != PSO_LOCKEV_GRANT &&
		    e[i].op != PSO_LOCKEV_RELEASE)
			d.err = 1;
	}
	if (close_rd(&d) < 0) {
		free(e);
		return -1;
	}
	*entp = e;
	*np = n;
	return 0;
}

void
pso_m_begin_enc(struct buf *b, const struct pso_m_begin *m, int reply)
{
	start(b);
	if (reply) {
		buf_add_u32(b, (uint32_t)m->rc);
		buf_add_u8(b, m->serving);
		buf_add_u8(b, m->recovering);
		buf_add_u32(b, m->node);
		buf_add_u8(b, m->opmode);
		buf_add_u64(b, m->objects);
	} else {
		buf_add_u32(b, m->node);
		buf_add_u8(b, m->opmode);
		buf_add_u8(b, m->booting);
	}
}

int
pso_m_begin_dec(const uint8_t *p, size_t len, struct pso_m_begin *m,
    int reply)
{
	struct rd d;

	memset(m, 0, sizeof(*m));
	if (open_rd(&d, p, len) < 0)
		return -1;
	if (reply) {
		m->rc = (int32_t)rd_u32(&d);
		m->serving = rd_u8(&d);
		m->recovering = rd_u8(&d);
		m->node = rd_u32(&d);
		m->opmode = rd_u8(&d);
		m->objects = rd_u64(&d);
	} else {
		m->node = rd_u32(&d);
		m->opmode = rd_u8(&d);
		m->booting = rd_u8(&d);
	}
	return close_rd(&d);
}

void
pso_m_digreq_enc(struct buf *b, pso_id after, uint32_t max)
{
	start(b);
	buf_add_u64(b, after);
	buf_add_u32(b, max);
}

int
pso_m_digreq_dec(const uint8_t *p, size_t len, pso_id *after, uint32_t *max)
{
	struct rd d;

	if (open_rd(&d, p, len) < 0)
		return -1;
	*after = rd_u64(&d);
	*max = rd_u32(&d);
	return close_rd(&d);
}

/* Layout: fmt, rc u32, more u8, n u32, pairs.  more and n are patched in
 * by pso_m_digrep_finish() (offsets 5 and 6). */
void
pso_m_digrep_start(struct buf *b, int32_t rc)
{
	start(b);
	buf_add_u32(b, (uint32_t)rc);
	buf_add_u8(b, 0);
	buf_add_u32(b, 0);
}

void
pso_m_digrep_add(struct buf *b, pso_id id, uint64_t version, uint64_t sum,
    uint32_t flags)
{
	buf_add_u64(b, id);
	buf_add_u64(b, version);
	buf_add_u64(b, sum);
	buf_add_u32(b, flags);
}

void
pso_m_digrep_finish(struct buf *b, int more, uint32_t n)
{
	b->data[5] = more ? 1 : 0;
	put_be32(b->data + 6, n);
}

int
pso_m_digrep_dec(const uint8_t *p, size_t len, int32_t *rc, int *more,
    struct pso_m_dig **digp, uint32_t *np)
{
	struct pso_m_dig	*g;
	struct rd		 d;
	uint32_t		 i, n;
	uint8_t			 m;

	*digp = NULL;
	*np = 0;
	if (open_rd(&d, p, len) < 0)
		return -1;
	*rc = (int32_t)rd_u32(&d);
	m = rd_u8(&d);
	n = rd_u32(&d);
	if (d.err || m > 1 || d.left / 28 < n || d.left != (size_t)n * 28)
		return -1;
	*more = m;
	g = xcalloc(n ? n : 1, sizeof(*g));
	for (i = 0; i < n; i++) {
		g[i].id = rd_u64(&d);
		g[i].version = rd_u64(&d);
		g[i].sum = rd_u64(&d);
		g[i].flags = rd_u32(&d);
	}
	*digp = g;
	*np = n;
	return 0;
}

void
pso_m_ids_enc(struct buf *b, const pso_id *ids, uint32_t n)
{
	uint32_t i;

	start(b);
	buf_add_u32(b, n);
	for (i = 0; i < n; i++)
		buf_add_u64(b, ids[i]);
}

int
pso_m_ids_dec(const uint8_t *p, size_t len, pso_id **idsp, uint32_t *np)
{
	struct rd	 d;
	pso_id		*ids;
	uint32_t	 i, n;

	*idsp = NULL;
	*np = 0;
	if (open_rd(&d, p, len) < 0)
		return -1;
	n = rd_u32(&d);
	if (d.err || d.left / 8 < n || d.left != (size_t)n * 8)
		return -1;
	ids = xcalloc(n ? n : 1, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = rd_u64(&d);
	*idsp = ids;
	*np = n;
	return 0;
}

/* Layout: fmt, [rc u32], n u32, records.  n patched by finish. */
void
pso_m_recs_start(struct buf *b, int has_rc, int32_t rc)
{
	start(b);
	if (has_rc)
		buf_add_u32(b, (uint32_t)rc);
	buf_add_u32(b, 0);
}

void
pso_m_recs_finish(struct buf *b, int has_rc, uint32_t n)
{
	put_be32(b->data + (has_rc ? 5 : 1), n);
}

#define REC_MIN	(8 + 4 + 8 + 8 + 2 + 1 + 4)

int
pso_m_recs_dec(const uint8_t *p, size_t len, int has_rc, int32_t *rc,
    struct pso_rec **recsp, uint32_t *np)
{
	struct pso_rec	*r;
	struct rd	 d;
	uint32_t	 i, n;

	*recsp = NULL;
	*np = 0;
	*rc = 0;
	if (open_rd(&d, p, len) < 0)
		return -1;
	if (has_rc)
		*rc = (int32_t)rd_u32(&d);
	n = rd_u32(&d);
	if (d.err || d.left / REC_MIN < n)
		return -1;
	r = xcalloc(n ? n : 1, sizeof(*r));
	for (i = 0; i < n; i++)
		if (pso_rec_decode(&d, &r[i], 1) < 0 || r[i].id == 0)
			break;
	if (i < n || close_rd(&d) < 0) {
		free(r);
		return -1;
	}
	*recsp = r;
	*np = n;
	return 0;
}

void
pso_m_write_enc(struct buf *b, const struct pso_rec *r)
{
	start(b);
	pso_rec_encode(b, r, 1);
}

int
pso_m_write_dec(const uint8_t *p, size_t len, struct pso_rec *r)
{
	struct rd d;

	if (open_rd(&d, p, len) < 0)
		return -1;
	if (pso_rec_decode(&d, r, 1) < 0 || r->id == 0)
		return -1;
	return close_rd(&d);
}

void
pso_m_end_enc(struct buf *b, uint64_t objects)
{
	start(b);
	buf_add_u64(b, objects);
}

int
pso_m_end_dec(const uint8_t *p, size_t len, uint64_t *objects)
{
	struct rd d;

	if (open_rd(&d, p, len) < 0)
		return -1;
	*objects = rd_u64(&d);
	return close_rd(&d);
}

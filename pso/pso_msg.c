/*
 * pso_msg.c — encoders and decoders of the PSO peer messages
 * (docs/pso.md, "Peer messages").
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
pso_m_digrep_add(struct buf *b, pso_id id, uint64_t version)
{
	buf_add_u64(b, id);
	buf_add_u64(b, version);
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
	if (d.err || m > 1 || d.left / 16 < n || d.left != (size_t)n * 16)
		return -1;
	*more = m;
	g = xcalloc(n ? n : 1, sizeof(*g));
	for (i = 0; i < n; i++) {
		g[i].id = rd_u64(&d);
		g[i].version = rd_u64(&d);
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

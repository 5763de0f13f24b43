/*
 * brl_codec.c — the byte encodings of the lock table: owners, files, a
 * file's whole state (the unit of replication: BRL_PUT, BRL_OP replies,
 * BRL_SYNC chunks) and a BRL_OP request.  Big-endian, versioned, every
 * length checked against what is left before it is used; a decoded state
 * is also checked for sense (ranges, flags, blob sizes, no overlapping
 * locks of one owner).  Layouts: docs/locks.md, "Wire formats"; golden
 * bytes in tests/unit/test_brl.c.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pso/brl_int.h"

void
brl_owner_enc(struct buf *b, const struct brl_owner *o)
{
	size_t n = strnlen(o->client, BRL_CLIENT_MAX - 1);

	buf_add_u8(b, o->proto);
	buf_add_u8(b, (uint8_t)n);
	buf_add(b, o->client, n);
	buf_add_u32(b, o->svid);
	buf_add_u8(b, o->ohlen);
	buf_add(b, o->oh, o->ohlen);
}

int
brl_owner_dec(struct rd *r, struct brl_owner *o, int allow_empty)
{
	const void	*p;
	uint8_t		 n;

	memset(o, 0, sizeof(*o));
	o->proto = rd_u8(r);
	n = rd_u8(r);
	if ((p = rd_bytes(r, n)) == NULL || r->err)
		return -1;
	memcpy(o->client, p, n);
	if (memchr(o->client, '\0', n) != NULL)
		return -1;
	o->svid = rd_u32(r);
	o->ohlen = rd_u8(r);
	if (o->ohlen > BRL_OH_MAX || (p = rd_bytes(r, o->ohlen)) == NULL ||
	    r->err)
		return -1;
	memcpy(o->oh, p, o->ohlen);
	return brl_owner_ok(o, allow_empty) ? 0 : -1;
}

void
brl_file_enc(struct buf *b, const struct brl_file *f)
{
	buf_add_u32(b, f->expid);
	buf_add_u8(b, f->khtype);
	buf_add_u8(b, f->khlen);
	buf_add(b, f->kh, f->khlen);
}

int
brl_file_dec(struct rd *r, struct brl_file *f)
{
	const void *p;

	memset(f, 0, sizeof(*f));
	f->expid = rd_u32(r);
	f->khtype = rd_u8(r);
	f->khlen = rd_u8(r);
	if (!brl_file_ok(f) || (p = rd_bytes(r, f->khlen)) == NULL || r->err)
		return -1;
	memcpy(f->kh, p, f->khlen);
	return 0;
}

void
brl_state_enc(struct buf *b, const struct brl_fent *fe)
{
	uint32_t i;

	buf_add_u8(b, BRL_STATE_MAGIC);
	brl_file_enc(b, &fe->f);
	buf_add_u64(b, fe->version);
	buf_add_u32(b, fe->nlocks);
	buf_add_u32(b, fe->nwaiters);
	buf_add_u32(b, fe->nshares);
	for (i = 0; i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		brl_owner_enc(b, &k->o);
		buf_add_u64(b, k->start);
		buf_add_u64(b, k->last);
		buf_add_u8(b, (k->excl ? BRL_LF_EXCL : 0) |
		    (k->pending ? BRL_LF_PENDING : 0));
		if (k->pending) {
			buf_add_u64(b, k->grant_id);
			buf_add_u16(b, k->bloblen);
			buf_add(b, k->blob, k->bloblen);
		}
	}
	for (i = 0; i < fe->nwaiters; i++) {
		const struct brl_ent *w = &fe->waiters[i];

		brl_owner_enc(b, &w->o);
		buf_add_u64(b, w->start);
		buf_add_u64(b, w->last);
		buf_add_u8(b, w->excl ? BRL_LF_EXCL : 0);
		buf_add_u64(b, w->seq);
		buf_add_u16(b, w->bloblen);
		buf_add(b, w->blob, w->bloblen);
	}
	for (i = 0; i < fe->nshares; i++) {
		brl_owner_enc(b, &fe->shares[i].o);
		buf_add_u8(b, fe->shares[i].access);
		buf_add_u8(b, fe->shares[i].deny);
	}
}

/* One lock or waiter; -1 with *why set. */
static int
ent_dec(struct rd *r, struct brl_ent *e, int waiter, const char **why)
{
	const void	*p;
	uint8_t		 fl;

	if (brl_owner_dec(r, &e->o, 0) < 0) {
		*why = "bad owner";
		return -1;
	}
	e->start = rd_u64(r);
	e->last = rd_u64(r);
	fl = rd_u8(r);
	if (r->err || e->last < e->start ||
	    (fl & ~(waiter ? BRL_LF_EXCL : BRL_LF_EXCL | BRL_LF_PENDING))) {
		*why = r->err ? "truncated" : "bad range or flags";
		return -1;
	}
	e->excl = (fl & BRL_LF_EXCL) != 0;
	e->pending = (fl & BRL_LF_PENDING) != 0;
	if (waiter)
		e->seq = rd_u64(r);
	else if (e->pending)
		e->grant_id = rd_u64(r);
	if (waiter || e->pending) {
		e->bloblen = rd_u16(r);
		if (e->bloblen > BRL_BLOB_MAX) {
			*why = "blob too long";
			return -1;
		}
		if ((p = rd_bytes(r, e->bloblen)) == NULL || r->err) {
			*why = "truncated";
			return -1;
		}
		brl_ent_set_blob(e, p, e->bloblen);
		if (e->bloblen == 0)
			e->blob = NULL;
	}
	return 0;
}

static int
owner_cmp_start(const void *a, const void *b)
{
	const struct brl_ent *x = *(const struct brl_ent *const *)a;
	const struct brl_ent *y = *(const struct brl_ent *const *)b;
	int c;

	if ((c = strcmp(x->o.client, y->o.client)) != 0)
		return c;
	if (x->o.svid != y->o.svid)
		return x->o.svid < y->o.svid ? -1 : 1;
	if (x->o.proto != y->o.proto)
		return x->o.proto - y->o.proto;
	if (x->o.ohlen != y->o.ohlen)
		return x->o.ohlen - y->o.ohlen;
	if ((c = memcmp(x->o.oh, y->o.oh, x->o.ohlen)) != 0)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Locks of one owner must not overlap (the table never makes that). */
static int
locks_disjoint(const struct brl_fent *fe)
{
	const struct brl_ent	**v;
	uint32_t		  i;
	int			  ok = 1;

	if (fe->nlocks < 2)
		return 1;
	v = xcalloc(fe->nlocks, sizeof(*v));
	for (i = 0; i < fe->nlocks; i++)
		v[i] = &fe->locks[i];
	qsort(v, fe->nlocks, sizeof(*v), owner_cmp_start);
	for (i = 1; i < fe->nlocks && ok; i++)
		if (brl_owner_eq(&v[i - 1]->o, &v[i]->o) &&
		    v[i]->start <= v[i - 1]->last)
			ok = 0;
	free(v);
	return ok;
}

/* Smallest encodings, to bound counts by the bytes left. */
#define ENT_MIN		(2 + 4 + 1 + 8 + 8 + 1)
#define SHARE_MIN	(2 + 4 + 1 + 2)

struct brl_fent *
brl_state_dec(struct rd *r, const char **why)
{
	struct brl_fent	*fe;
	uint32_t	 nl, nw, ns, i;

	*why = NULL;
	if (rd_u8(r) != BRL_STATE_MAGIC || r->err) {
		*why = r->err ? "truncated" : "bad magic";
		return NULL;
	}
	fe = xcalloc(1, sizeof(*fe));
	if (brl_file_dec(r, &fe->f) < 0) {
		*why = "bad file";
		goto bad;
	}
	fe->version = rd_u64(r);
	nl = rd_u32(r);
	nw = rd_u32(r);
	ns = rd_u32(r);
	if (r->err) {
		*why = "truncated";
		goto bad;
	}
	if ((uint64_t)nl * ENT_MIN + (uint64_t)nw * ENT_MIN +
	    (uint64_t)ns * SHARE_MIN > r->left || fe->version == 0) {
		*why = fe->version == 0 ? "version 0" : "counts past the end";
		goto bad;
	}
	fe->locks = xcalloc(nl ? nl : 1, sizeof(*fe->locks));
	fe->caplocks = nl ? nl : 1;
	for (i = 0; i < nl; i++, fe->nlocks++)
		if (ent_dec(r, &fe->locks[i], 0, why) < 0)
			goto bad;
	fe->waiters = xcalloc(nw ? nw : 1, sizeof(*fe->waiters));
	fe->capwaiters = nw ? nw : 1;
	for (i = 0; i < nw; i++, fe->nwaiters++)
		if (ent_dec(r, &fe->waiters[i], 1, why) < 0)
			goto bad;
	fe->shares = xcalloc(ns ? ns : 1, sizeof(*fe->shares));
	fe->capshares = ns ? ns : 1;
	for (i = 0; i < ns; i++, fe->nshares++) {
		if (brl_owner_dec(r, &fe->shares[i].o, 0) < 0) {
			*why = "bad share owner";
			goto bad;
		}
		fe->shares[i].access = rd_u8(r);
		fe->shares[i].deny = rd_u8(r);
		if (r->err || fe->shares[i].access > 3 ||
		    fe->shares[i].deny > 3) {
			*why = r->err ? "truncated" : "bad share mode";
			goto bad;
		}
	}
	/* the table keeps locks sorted (brl_ops.c inserts in place) */
	qsort(fe->locks, fe->nlocks, sizeof(*fe->locks), brl_ent_cmp);
	if (!locks_disjoint(fe)) {
		*why = "overlapping locks of one owner";
		goto bad;
	}
	return fe;
bad:
	brl_fent_free(fe);
	return NULL;
}

void
brl_op_enc(struct buf *b, const struct brl_op *op)
{
	buf_add_u8(b, BRL_FMT);
	buf_add_u8(b, op->op);
	buf_add_u8(b, op->flags);
	brl_file_enc(b, &op->f);
	brl_owner_enc(b, &op->o);
	buf_add_u64(b, op->r.start);
	buf_add_u64(b, op->r.len);
	buf_add_u8(b, op->r.excl ? 1 : 0);
	buf_add_u8(b, op->access);
	buf_add_u8(b, op->deny);
	buf_add_u64(b, op->grant_id);
	buf_add_u16(b, op->bloblen);
	buf_add(b, op->blob, op->bloblen);
}

int
brl_op_dec(const uint8_t *p, size_t len, struct brl_op *op, const char **why)
{
	struct rd r;

	memset(op, 0, sizeof(*op));
	rd_init(&r, p, len);
	if (rd_u8(&r) != BRL_FMT) {
		*why = "bad format byte";
		return -1;
	}
	op->op = rd_u8(&r);
	op->flags = rd_u8(&r);
	if (brl_file_dec(&r, &op->f) < 0 && op->op != BRL_OP_FREE_CLIENT &&
	    op->op != BRL_OP_FREE_EXPORT) {
		*why = "bad file";
		return -1;
	}
	if (r.err || brl_owner_dec(&r, &op->o, 1) < 0) {
		*why = "bad owner";
		return -1;
	}
	op->r.start = rd_u64(&r);
	op->r.len = rd_u64(&r);
	op->r.excl = rd_u8(&r);
	op->access = rd_u8(&r);
	op->deny = rd_u8(&r);
	op->grant_id = rd_u64(&r);
	op->bloblen = rd_u16(&r);
	if (op->bloblen > BRL_BLOB_MAX) {
		*why = "blob too long";
		return -1;
	}
	op->blob = rd_bytes(&r, op->bloblen);
	if (r.err || r.left != 0) {
		*why = r.err ? "truncated" : "trailing bytes";
		return -1;
	}
	if (brl_op_check(op) != BRL_OK) {
		*why = "invalid operation";
		return -1;
	}
	return 0;
}

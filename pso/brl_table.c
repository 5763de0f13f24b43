/*
 * brl_table.c — the byte-range lock table as pure data: files in a hash
 * table, per file its locks, waiters (arrival order) and shares, the
 * counts and the limit, tombstones, and installing a received state by
 * version.  The operations (conflicts, splitting and merging, waiters,
 * deadlocks) are in brl_ops.c, the encodings in brl_codec.c.
 *
 * No threads, no link, no clock of its own (the caller passes now_ms):
 * the replication code (brl_repl.c) serialises calls under its mutex,
 * and tests/unit/test_brl.c drives it directly.  Who may change what,
 * and the wire format: docs/locks.md.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pso/brl_int.h"

/* ---- small helpers ---- */

int
brl_owner_eq(const struct brl_owner *a, const struct brl_owner *b)
{
	return a->proto == b->proto && a->svid == b->svid &&
	    a->ohlen == b->ohlen && memcmp(a->oh, b->oh, a->ohlen) == 0 &&
	    strcmp(a->client, b->client) == 0;
}

static int
file_eq(const struct brl_file *a, const struct brl_file *b)
{
	return a->expid == b->expid && a->khtype == b->khtype &&
	    a->khlen == b->khlen && memcmp(a->kh, b->kh, a->khlen) == 0;
}

static uint32_t
file_hash(const struct brl_file *f)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	uint8_t		hdr[6];
	size_t		i;

	put_be32(hdr, f->expid);
	hdr[4] = f->khtype;
	hdr[5] = f->khlen;
	for (i = 0; i < sizeof(hdr); i++)
		h = (h ^ hdr[i]) * 0x100000001b3ULL;
	for (i = 0; i < f->khlen && i < BRL_KH_MAX; i++)
		h = (h ^ f->kh[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

int
brl_range_last(const struct brl_range *r, uint64_t *last)
{
	if (r->len == 0) {
		*last = BRL_LAST;
		return 0;
	}
	if (r->len - 1 > BRL_LAST - r->start)
		return -1;
	*last = r->start + (r->len - 1);
	return 0;
}

void
brl_range_out(uint64_t start, uint64_t last, int excl, struct brl_range *r)
{
	r->start = start;
	/* A range reaching 2^64-1 may be longer than a u64 can say. */
	r->len = last == BRL_LAST ? 0 : last - start + 1;
	r->excl = excl;
}

int
brl_overlap(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	return s1 <= l2 && s2 <= l1;
}

int
brl_owner_ok(const struct brl_owner *o, int allow_empty)
{
	size_t n = strnlen(o->client, BRL_CLIENT_MAX);

	if (n == BRL_CLIENT_MAX || o->ohlen > BRL_OH_MAX)
		return 0;
	if (allow_empty)
		return o->proto <= BRL_PROTO_ADMIN;
	return n > 0 && o->proto >= BRL_PROTO_NLM &&
	    o->proto <= BRL_PROTO_ADMIN;
}

int
brl_file_ok(const struct brl_file *f)
{
	return f->khlen >= 1 && f->khlen <= BRL_KH_MAX;
}

int
brl_op_check(const struct brl_op *op)
{
	uint64_t last;

	switch (op->op) {
	case BRL_OP_FREE_CLIENT:
		return brl_owner_ok(&op->o, 1) ? BRL_OK : BRL_INVAL;
	case BRL_OP_FREE_EXPORT:
		return BRL_OK;
	case BRL_OP_LOCK:
	case BRL_OP_UNLOCK:
	case BRL_OP_CANCEL:
	case BRL_OP_GRANT_DONE:
		if (brl_range_last(&op->r, &last) < 0)
			return BRL_INVAL;
		break;
	case BRL_OP_SHARE:
		if (op->access > 3 || op->deny > 3)
			return BRL_INVAL;
		break;
	case BRL_OP_UNSHARE:
		break;
	default:
		return BRL_INVAL;
	}
	if (!brl_file_ok(&op->f) || !brl_owner_ok(&op->o, 0) ||
	    op->bloblen > BRL_BLOB_MAX)
		return BRL_INVAL;
	return BRL_OK;
}

/* ---- entries ---- */

void
brl_ent_free(struct brl_ent *e)
{
	free(e->blob);
	e->blob = NULL;
	e->bloblen = 0;
}

void
brl_ent_set_blob(struct brl_ent *e, const void *blob, size_t len)
{
	free(e->blob);
	e->blob = NULL;
	e->bloblen = (uint16_t)len;
	if (len) {
		e->blob = xmalloc(len);
		memcpy(e->blob, blob, len);
	}
}

void
brl_ent_copy(struct brl_ent *dst, const struct brl_ent *src)
{
	*dst = *src;
	dst->blob = NULL;
	brl_ent_set_blob(dst, src->blob, src->bloblen);
}

struct brl_ent *
brl_locks_add(struct brl_fent *fe)
{
	if (fe->nlocks == fe->caplocks) {
		fe->caplocks = fe->caplocks ? fe->caplocks * 2 : 4;
		fe->locks = xrealloc(fe->locks, fe->caplocks *
		    sizeof(*fe->locks));
	}
	memset(&fe->locks[fe->nlocks], 0, sizeof(*fe->locks));
	return &fe->locks[fe->nlocks++];
}

struct brl_ent *
brl_waiters_add(struct brl_fent *fe)
{
	if (fe->nwaiters == fe->capwaiters) {
		fe->capwaiters = fe->capwaiters ? fe->capwaiters * 2 : 4;
		fe->waiters = xrealloc(fe->waiters, fe->capwaiters *
		    sizeof(*fe->waiters));
	}
	memset(&fe->waiters[fe->nwaiters], 0, sizeof(*fe->waiters));
	return &fe->waiters[fe->nwaiters++];
}

struct brl_share *
brl_shares_add(struct brl_fent *fe)
{
	if (fe->nshares == fe->capshares) {
		fe->capshares = fe->capshares ? fe->capshares * 2 : 2;
		fe->shares = xrealloc(fe->shares, fe->capshares *
		    sizeof(*fe->shares));
	}
	memset(&fe->shares[fe->nshares], 0, sizeof(*fe->shares));
	return &fe->shares[fe->nshares++];
}

void
brl_fent_free(struct brl_fent *fe)
{
	uint32_t i;

	if (fe == NULL)
		return;
	for (i = 0; i < fe->nlocks; i++)
		brl_ent_free(&fe->locks[i]);
	for (i = 0; i < fe->nwaiters; i++)
		brl_ent_free(&fe->waiters[i]);
	free(fe->locks);
	free(fe->waiters);
	free(fe->shares);
	free(fe);
}

int
brl_fent_empty(const struct brl_fent *fe)
{
	return fe->nlocks == 0 && fe->nwaiters == 0 && fe->nshares == 0;
}

/* Deterministic order of locks: by start, last, then owner. */
int
brl_ent_cmp(const void *a, const void *b)
{
	const struct brl_ent *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	if ((c = strcmp(x->o.client, y->o.client)) != 0)
		return c;
	if (x->o.svid != y->o.svid)
		return x->o.svid < y->o.svid ? -1 : 1;
	if (x->o.proto != y->o.proto)
		return x->o.proto - y->o.proto;
	if (x->o.ohlen != y->o.ohlen)
		return x->o.ohlen - y->o.ohlen;
	return memcmp(x->o.oh, y->o.oh, x->o.ohlen);
}

/* ---- the table ---- */

struct brl_tab *
brl_tab_new(uint32_t nbuckets, uint64_t max_entries)
{
	struct brl_tab *t = xcalloc(1, sizeof(*t));

	t->nb = nbuckets ? nbuckets : BRL_BUCKETS;
	t->b = xcalloc(t->nb, sizeof(*t->b));
	t->max_entries = max_entries;
	return t;
}

static void
count(struct brl_tab *t, const struct brl_fent *fe, int sign)
{
	if (fe->dead_ms != 0 && sign > 0)
		return;
	t->locks += (uint64_t)(int64_t)sign * fe->nlocks;
	t->waiters += (uint64_t)(int64_t)sign * fe->nwaiters;
	t->shares += (uint64_t)(int64_t)sign * fe->nshares;
	if (fe->dead_ms == 0)
		t->files += (uint64_t)(int64_t)sign;
}

void
brl_tab_clear(struct brl_tab *t)
{
	struct brl_fent	*fe, *next;
	uint32_t	 i;

	for (i = 0; i < t->nb; i++) {
		for (fe = t->b[i]; fe; fe = next) {
			next = fe->next;
			brl_fent_free(fe);
		}
		t->b[i] = NULL;
	}
	t->files = t->locks = t->waiters = t->shares = 0;
}

void
brl_tab_free(struct brl_tab *t)
{
	if (t == NULL)
		return;
	brl_tab_clear(t);
	free(t->b);
	free(t);
}

static struct brl_fent **
tab_slot(struct brl_tab *t, const struct brl_file *f)
{
	struct brl_fent **pp = &t->b[file_hash(f) % t->nb];

	while (*pp && !file_eq(&(*pp)->f, f))
		pp = &(*pp)->next;
	return pp;
}

struct brl_fent *
brl_tab_find(struct brl_tab *t, const struct brl_file *f)
{
	struct brl_fent *fe = *tab_slot(t, f);

	return fe && fe->dead_ms == 0 ? fe : NULL;
}

struct brl_fent *
brl_tab_find_any(struct brl_tab *t, const struct brl_file *f)
{
	return *tab_slot(t, f);
}

/* The entry of f, a tombstone brought back or a new one.  Counted as a
 * live file. */
struct brl_fent *
brl_tab_get(struct brl_tab *t, const struct brl_file *f)
{
	struct brl_fent **pp = tab_slot(t, f), *fe;

	if ((fe = *pp) != NULL) {
		if (fe->dead_ms != 0) {
			fe->dead_ms = 0;
			t->files++;
		}
		return fe;
	}
	fe = xcalloc(1, sizeof(*fe));
	fe->f = *f;
	*pp = fe;
	t->files++;
	return fe;
}

uint64_t
brl_tab_reap(struct brl_tab *t, uint64_t now_ms)
{
	struct brl_fent	**pp, *fe;
	uint64_t	  n = 0;
	uint32_t	  i;

	for (i = 0; i < t->nb; i++)
		for (pp = &t->b[i]; (fe = *pp) != NULL; ) {
			if (fe->dead_ms != 0 && now_ms - fe->dead_ms >=
			    BRL_TOMB_MS) {
				*pp = fe->next;
				brl_fent_free(fe);
				n++;
			} else
				pp = &fe->next;
		}
	return n;
}

void
brl_tab_walk(struct brl_tab *t, uint32_t from, uint32_t to,
    void (*cb)(struct brl_fent *, void *), void *arg)
{
	struct brl_fent	*fe, *next;
	uint32_t	 i;

	for (i = from; i < to && i < t->nb; i++)
		for (fe = t->b[i]; fe; fe = next) {
			next = fe->next;
			cb(fe, arg);
		}
}

uint64_t
brl_tab_entries(const struct brl_tab *t)
{
	return t->locks + t->waiters + t->shares;
}

int
brl_tab_full(const struct brl_tab *t, uint64_t more)
{
	return t->max_entries != 0 && brl_tab_entries(t) + more > t->max_entries;
}

int
brl_tab_install(struct brl_tab *t, struct brl_fent *nf, uint64_t now_ms,
    struct brl_fent **fep)
{
	struct brl_fent	**pp = tab_slot(t, &nf->f), *old = *pp;
	uint32_t	  i;

	if (fep)
		*fep = NULL;
	if (old != NULL && nf->version <= old->version) {
		brl_fent_free(nf);
		return 0;
	}
	if (old != NULL) {
		count(t, old, -1);
		nf->next = old->next;
		brl_fent_free(old);
	} else
		nf->next = NULL;
	*pp = nf;
	nf->dead_ms = brl_fent_empty(nf) ? (now_ms ? now_ms : 1) : 0;
	count(t, nf, 1);
	t->maxver = MAX(t->maxver, nf->version);
	for (i = 0; i < nf->nwaiters; i++)
		t->seq = MAX(t->seq, nf->waiters[i].seq);
	if (fep)
		*fep = nf;
	return 1;
}

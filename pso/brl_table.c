/*
 * brl_table.c — the byte-range lock table as pure data: files in a hash
 * table, per file its locks, waiters (arrival order) and shares; the
 * conflict rules, POSIX splitting and merging of one owner's ranges,
 * FIFO granting of waiters, deadlock detection, and the codec of a
 * file's whole state.
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

static int
overlap(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	return s1 <= l2 && s2 <= l1;
}

static int
owner_ok(const struct brl_owner *o, int allow_empty)
{
	size_t n = strnlen(o->client, BRL_CLIENT_MAX);

	if (n == BRL_CLIENT_MAX || o->ohlen > BRL_OH_MAX)
		return 0;
	if (allow_empty)
		return o->proto <= BRL_PROTO_ADMIN;
	return n > 0 && o->proto >= BRL_PROTO_NLM &&
	    o->proto <= BRL_PROTO_ADMIN;
}

static int
file_ok(const struct brl_file *f)
{
	return f->khlen >= 1 && f->khlen <= BRL_KH_MAX;
}

int
brl_op_check(const struct brl_op *op)
{
	uint64_t last;

	switch (op->op) {
	case BRL_OP_FREE_CLIENT:
		return owner_ok(&op->o, 1) ? BRL_OK : BRL_INVAL;
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
	if (!file_ok(&op->f) || !owner_ok(&op->o, 0) ||
	    op->bloblen > BRL_BLOB_MAX)
		return BRL_INVAL;
	return BRL_OK;
}

/* ---- entries ---- */

static void
ent_free(struct brl_ent *e)
{
	free(e->blob);
	e->blob = NULL;
	e->bloblen = 0;
}

static void
ent_set_blob(struct brl_ent *e, const void *blob, size_t len)
{
	free(e->blob);
	e->blob = NULL;
	e->bloblen = (uint16_t)len;
	if (len) {
		e->blob = xmalloc(len);
		memcpy(e->blob, blob, len);
	}
}

static void
ent_copy(struct brl_ent *dst, const struct brl_ent *src)
{
	*dst = *src;
	dst->blob = NULL;
	ent_set_blob(dst, src->blob, src->bloblen);
}

static struct brl_ent *
locks_add(struct brl_fent *fe)
{
	if (fe->nlocks == fe->caplocks) {
		fe->caplocks = fe->caplocks ? fe->caplocks * 2 : 4;
		fe->locks = xrealloc(fe->locks, fe->caplocks *
		    sizeof(*fe->locks));
	}
	memset(&fe->locks[fe->nlocks], 0, sizeof(*fe->locks));
	return &fe->locks[fe->nlocks++];
}

static struct brl_ent *
waiters_add(struct brl_fent *fe)
{
	if (fe->nwaiters == fe->capwaiters) {
		fe->capwaiters = fe->capwaiters ? fe->capwaiters * 2 : 4;
		fe->waiters = xrealloc(fe->waiters, fe->capwaiters *
		    sizeof(*fe->waiters));
	}
	memset(&fe->waiters[fe->nwaiters], 0, sizeof(*fe->waiters));
	return &fe->waiters[fe->nwaiters++];
}

static struct brl_share *
shares_add(struct brl_fent *fe)
{
	if (fe->nshares == fe->capshares) {
		fe->capshares = fe->capshares ? fe->capshares * 2 : 2;
		fe->shares = xrealloc(fe->shares, fe->capshares *
		    sizeof(*fe->shares));
	}
	memset(&fe->shares[fe->nshares], 0, sizeof(*fe->shares));
	return &fe->shares[fe->nshares++];
}

/* Remove element i of an array of n keeping the order. */
#define ARR_DEL(arr, n, i) do {						\
	memmove(&(arr)[(i)], &(arr)[(i) + 1],				\
	    ((n) - (i) - 1) * sizeof(*(arr)));				\
	(n)--;								\
} while (0)

void
brl_fent_free(struct brl_fent *fe)
{
	uint32_t i;

	if (fe == NULL)
		return;
	for (i = 0; i < fe->nlocks; i++)
		ent_free(&fe->locks[i]);
	for (i = 0; i < fe->nwaiters; i++)
		ent_free(&fe->waiters[i]);
	free(fe->locks);
	free(fe->waiters);
	free(fe->shares);
	free(fe);
}

static int
fent_empty(const struct brl_fent *fe)
{
	return fe->nlocks == 0 && fe->nwaiters == 0 && fe->nshares == 0;
}

/* Deterministic order of locks: by start, last, then owner. */
static int
ent_cmp(const void *a, const void *b)
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
static struct brl_fent *
tab_get(struct brl_tab *t, const struct brl_file *f)
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

static uint64_t
tab_entries(const struct brl_tab *t)
{
	return t->locks + t->waiters + t->shares;
}

static int
tab_full(const struct brl_tab *t, uint64_t more)
{
	return t->max_entries != 0 && tab_entries(t) + more > t->max_entries;
}

/* ---- conflicts ---- */

/* The first held lock of another owner that conflicts with (o, s..l). */
static const struct brl_ent *
held_conflict(const struct brl_fent *fe, const struct brl_owner *o,
    uint64_t s, uint64_t l, int excl)
{
	uint32_t i;

	for (i = 0; i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		if ((excl || k->excl) && overlap(s, l, k->start, k->last) &&
		    !brl_owner_eq(&k->o, o))
			return k;
	}
	return NULL;
}

/* The first waiter before index `before` of another owner that a request
 * for (o, s..l) must queue behind. */
static const struct brl_ent *
waiter_conflict(const struct brl_fent *fe, uint32_t before,
    const struct brl_owner *o, uint64_t s, uint64_t l, int excl)
{
	uint32_t i;

	for (i = 0; i < before && i < fe->nwaiters; i++) {
		const struct brl_ent *w = &fe->waiters[i];

		if ((excl || w->excl) && overlap(s, l, w->start, w->last) &&
		    !brl_owner_eq(&w->o, o))
			return w;
	}
	return NULL;
}

/* ---- deadlock detection ---- */

#define DL_MAX_OWNERS	32	/* owners followed per check */

struct dl {
	struct brl_tab		*t;
	const struct brl_owner	*target;	/* the requester */
	const struct brl_owner	*seen[DL_MAX_OWNERS];
	int			 nseen;
	int			 found;
};

static int dl_visit(struct dl *, const struct brl_owner *);

/* Owners that entry (o, s..l, excl) at waiter index `before` waits
 * for in fe: holders of conflicting locks, earlier conflicting waiters. */
static void
dl_blockers(struct dl *d, const struct brl_fent *fe, uint32_t before,
    const struct brl_owner *o, uint64_t s, uint64_t l, int excl)
{
	uint32_t i;

	for (i = 0; i < fe->nlocks && !d->found; i++) {
		const struct brl_ent *k = &fe->locks[i];

		if ((excl || k->excl) && overlap(s, l, k->start, k->last) &&
		    !brl_owner_eq(&k->o, o))
			dl_visit(d, &k->o);
	}
	for (i = 0; i < before && i < fe->nwaiters && !d->found; i++) {
		const struct brl_ent *w = &fe->waiters[i];

		if ((excl || w->excl) && overlap(s, l, w->start, w->last) &&
		    !brl_owner_eq(&w->o, o))
			dl_visit(d, &w->o);
	}
}

/* Follow what owner y waits for; found when it leads back to target. */
static int
dl_visit(struct dl *d, const struct brl_owner *y)
{
	struct brl_fent	*fe;
	uint32_t	 b, i;
	int		 k;

	if (brl_owner_eq(y, d->target)) {
		d->found = 1;
		return 1;
	}
	for (k = 0; k < d->nseen; k++)
		if (brl_owner_eq(d->seen[k], y))
			return 0;
	if (d->nseen == DL_MAX_OWNERS)
		return 0;	/* too long a chain to follow: let it wait */
	d->seen[d->nseen++] = y;
	for (b = 0; b < d->t->nb && !d->found; b++)
		for (fe = d->t->b[b]; fe && !d->found; fe = fe->next)
			for (i = 0; i < fe->nwaiters && !d->found; i++)
				if (brl_owner_eq(&fe->waiters[i].o, y))
					dl_blockers(d, fe, i, y,
					    fe->waiters[i].start,
					    fe->waiters[i].last,
					    fe->waiters[i].excl);
	return d->found;
}

/* Would o waiting for s..l in fe close a cycle of owners waiting for
 * each other? */
static int
deadlock(struct brl_tab *t, const struct brl_fent *fe,
    const struct brl_owner *o, uint64_t s, uint64_t l, int excl)
{
	struct dl d;

	memset(&d, 0, sizeof(d));
	d.t = t;
	d.target = o;
	dl_blockers(&d, fe, fe->nwaiters, o, s, l, excl);
	return d.found;
}

/* ---- one owner's ranges ---- */

/* Would setting (o, s..l) (add != NULL) or clearing it change the
 * locks?  *more: an upper bound of the entries it adds. */
static int
owner_would_change(const struct brl_fent *fe, const struct brl_owner *o,
    uint64_t s, uint64_t l, int add, int excl, uint64_t *more)
{
	uint64_t	covered_to = s;	/* next byte not yet covered */
	int		changes = 0, covered_end = 0;
	uint32_t	i;

	*more = add ? 1 : 0;
	for (i = 0; i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		if (!brl_owner_eq(&k->o, o) || !overlap(s, l, k->start,
		    k->last))
			continue;
		changes = 1;
		if (k->start < s && k->last > l)
			(*more)++;
		if (add && k->excl == excl && !k->pending &&
		    k->start <= covered_to && !covered_end) {
			if (k->last >= l)
				covered_end = 1;
			else if (k->last + 1 > covered_to)
				covered_to = k->last + 1;
		}
	}
	if (add)
		return !covered_end;	/* already held whole: no change */
	return changes;
}

struct rg {
	uint64_t	s, l;
	int		x, p;
};

static int
rg_cmp(const void *a, const void *b)
{
	const struct rg *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* Exactly how many entries setting (o, s..l, excl) adds (negative when
 * it merges some away): the same clearing, splitting and merging as
 * owner_set, on o's ranges only, so the limit is checked before the
 * table is touched. */
static int64_t
owner_delta(const struct brl_fent *fe, const struct brl_owner *o,
    uint64_t s, uint64_t l, int excl)
{
	struct rg	*v;
	uint32_t	 i, n = 0, old = 0, m;

	v = xcalloc((size_t)fe->nlocks * 2 + 1, sizeof(*v));
	for (i = 0; i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		if (!brl_owner_eq(&k->o, o))
			continue;
		old++;
		if (!overlap(s, l, k->start, k->last)) {
			v[n++] = (struct rg){ k->start, k->last, k->excl,
			    k->pending };
			continue;
		}
		if (k->start < s)
			v[n++] = (struct rg){ k->start, s - 1, k->excl,
			    k->pending };
		if (k->last > l)
			v[n++] = (struct rg){ l + 1, k->last, k->excl,
			    k->pending };
	}
	v[n++] = (struct rg){ s, l, excl, 0 };
	qsort(v, n, sizeof(*v), rg_cmp);
	for (i = 1, m = 1; i < n; i++) {
		struct rg *a = &v[m - 1];

		if (!a->p && !v[i].p && a->x == v[i].x && a->l != BRL_LAST &&
		    v[i].s == a->l + 1)
			a->l = v[i].l;
		else
			v[m++] = v[i];
	}
	free(v);
	return (int64_t)m - (int64_t)old;
}

/* Sort the locks and merge o's touching ranges of the same type (not
 * those with a grant pending: their blob and grant id stay apart). */
static void
owner_merge(struct brl_fent *fe, const struct brl_owner *o)
{
	uint32_t i, j;

	qsort(fe->locks, fe->nlocks, sizeof(*fe->locks), ent_cmp);
	/* Sorted by start, so a mergeable pair of o is adjacent among o's
	 * entries, and the scan stops at the first start past a's end. */
	for (i = 0; i < fe->nlocks; i++) {
		struct brl_ent *a = &fe->locks[i];

		if (!brl_owner_eq(&a->o, o) || a->pending)
			continue;
		for (j = i + 1; j < fe->nlocks; ) {
			struct brl_ent *b = &fe->locks[j];

			if (a->last != BRL_LAST && b->start > a->last + 1)
				break;
			if (!brl_owner_eq(&b->o, o) || b->pending ||
			    b->excl != a->excl) {
				j++;
				continue;
			}
			if (b->last > a->last)
				a->last = b->last;
			ent_free(b);
			ARR_DEL(fe->locks, fe->nlocks, j);
		}
	}
}

/*
 * Clear o's locks in s..l (splitting what straddles the edges), then add
 * (o, s..l, excl) when add is not NULL (its blob is taken over), then
 * merge o's touching ranges of the same type.  Locks are kept sorted.
 */
static void
owner_set(struct brl_fent *fe, const struct brl_owner *o, uint64_t s,
    uint64_t l, struct brl_ent *add)
{
	struct brl_ent	left, right;
	uint32_t	i;
	int		have_l, have_r;

	for (i = 0; i < fe->nlocks; ) {
		struct brl_ent *k = &fe->locks[i];

		if (!brl_owner_eq(&k->o, o) || !overlap(s, l, k->start,
		    k->last)) {
			i++;
			continue;
		}
		have_l = k->start < s;
		have_r = k->last > l;
		if (have_l) {
			ent_copy(&left, k);
			left.last = s - 1;
		}
		if (have_r) {
			ent_copy(&right, k);
			right.start = l + 1;
		}
		ent_free(k);
		ARR_DEL(fe->locks, fe->nlocks, i);
		if (have_l)
			*locks_add(fe) = left;
		if (have_r)
			*locks_add(fe) = right;
	}
	if (add != NULL)
		*locks_add(fe) = *add;
	owner_merge(fe, o);
}

/* Grant every waiter that may go now, in arrival order (docs/locks.md).
 * grant_id: the version the change will carry. */
static void
grant_waiters(struct brl_tab *t, struct brl_fent *fe, uint64_t grant_id)
{
	struct brl_ent	lk;
	uint32_t	i;

	for (i = 0; i < fe->nwaiters; ) {
		struct brl_ent *w = &fe->waiters[i];

		if (held_conflict(fe, &w->o, w->start, w->last, w->excl) ||
		    waiter_conflict(fe, i, &w->o, w->start, w->last,
		    w->excl)) {
			i++;
			continue;
		}
		lk = *w;
		lk.pending = 1;
		lk.grant_id = grant_id;
		lk.seq = 0;
		ARR_DEL(fe->waiters, fe->nwaiters, i);
		t->waiters--;
		t->locks -= fe->nlocks;
		owner_set(fe, &lk.o, lk.start, lk.last, &lk);
		t->locks += fe->nlocks;
	}
}

/* A file changed: new version, waiters granted, tombstone when empty. */
static void
touch(struct brl_tab *t, struct brl_fent *fe, uint64_t now_ms,
    void (*changed)(struct brl_fent *, void *), void *arg)
{
	uint64_t v = MAX(t->maxver, fe->version) + 1;

	grant_waiters(t, fe, v);
	fe->version = v;
	t->maxver = v;
	if (fent_empty(fe)) {
		fe->dead_ms = now_ms ? now_ms : 1;
		t->files--;
	}
	if (changed)
		changed(fe, arg);
}

/* ---- operations ---- */

static void
set_holder(struct brl_res *res, const struct brl_ent *k)
{
	res->has_holder = 1;
	res->holder = k->o;
	brl_range_out(k->start, k->last, k->excl, &res->hrange);
}

static void
op_lock(struct brl_tab *t, const struct brl_op *op, int grace,
    uint64_t now_ms, struct brl_res *res,
    void (*changed)(struct brl_fent *, void *), void *arg)
{
	const struct brl_ent	*c;
	struct brl_fent		*fe;
	struct brl_ent		 nl, *w = NULL;
	uint64_t		 s = op->r.start, l = 0, more = 0;
	int			 excl = op->r.excl ? 1 : 0;
	uint32_t		 i, before;

	(void)brl_range_last(&op->r, &l);
	if (grace && !(op->flags & BRL_F_RECLAIM)) {
		res->rc = BRL_GRACE;
		return;
	}
	fe = brl_tab_find(t, &op->f);
	c = fe ? held_conflict(fe, &op->o, s, l, excl) : NULL;
	if (c == NULL && fe)
		c = waiter_conflict(fe, fe->nwaiters, &op->o, s, l, excl);
	if (c != NULL) {
		set_holder(res, c);
		if (!(op->flags & BRL_F_WAIT)) {
			res->rc = BRL_DENIED;
			return;
		}
		for (i = 0; i < fe->nwaiters; i++) {
			w = &fe->waiters[i];
			if (w->start == s && w->last == l && w->excl == excl &&
			    brl_owner_eq(&w->o, &op->o))
				break;
		}
		res->rc = BRL_BLOCKED;
		if (i < fe->nwaiters) {
			/* the same waiter asked again: keep its place */
			if (w->bloblen == op->bloblen && (op->bloblen == 0 ||
			    memcmp(w->blob, op->blob, op->bloblen) == 0))
				return;
			ent_set_blob(w, op->blob, op->bloblen);
		} else {
			if (tab_full(t, 1)) {
				res->rc = BRL_NOLOCKS;
				return;
			}
			if (deadlock(t, fe, &op->o, s, l, excl)) {
				res->rc = BRL_DEADLCK;
				return;
			}
			w = waiters_add(fe);
			w->o = op->o;
			w->start = s;
			w->last = l;
			w->excl = excl;
			w->seq = ++t->seq;
			ent_set_blob(w, op->blob, op->bloblen);
			t->waiters++;
		}
		res->changed = 1;
		touch(t, fe, now_ms, changed, arg);
		return;
	}
	res->rc = BRL_OK;
	if (fe && !owner_would_change(fe, &op->o, s, l, 1, excl, &more))
		return;
	if (fe == NULL)
		more = 1;
	else
		more = (uint64_t)MAX(owner_delta(fe, &op->o, s, l, excl), 0);
	if (tab_full(t, more)) {
		res->rc = BRL_NOLOCKS;
		return;
	}
	fe = tab_get(t, &op->f);
	memset(&nl, 0, sizeof(nl));
	nl.o = op->o;
	nl.start = s;
	nl.last = l;
	nl.excl = excl;
	before = fe->nlocks;
	owner_set(fe, &op->o, s, l, &nl);
	t->locks += fe->nlocks;
	t->locks -= before;
	/* a waiter of this owner for the same range is satisfied */
	for (i = 0; i < fe->nwaiters; ) {
		w = &fe->waiters[i];
		if (w->start == s && w->last == l && brl_owner_eq(&w->o,
		    &op->o)) {
			ent_free(w);
			ARR_DEL(fe->waiters, fe->nwaiters, i);
			t->waiters--;
		} else
			i++;
	}
	res->changed = 1;
	touch(t, fe, now_ms, changed, arg);
}

static void
op_unlock(struct brl_tab *t, const struct brl_op *op, uint64_t now_ms,
    struct brl_res *res, void (*changed)(struct brl_fent *, void *),
    void *arg)
{
	struct brl_fent	*fe;
	uint64_t	 l = 0, more = 0;
	uint32_t	 before;

	(void)brl_range_last(&op->r, &l);
	res->rc = BRL_OK;
	if ((fe = brl_tab_find(t, &op->f)) == NULL ||
	    !owner_would_change(fe, &op->o, op->r.start, l, 0, 0, &more))
		return;
	before = fe->nlocks;
	owner_set(fe, &op->o, op->r.start, l, NULL);
	t->locks += fe->nlocks;
	t->locks -= before;
	res->changed = 1;
	touch(t, fe, now_ms, changed, arg);
}

static void
op_cancel(struct brl_tab *t, const struct brl_op *op, uint64_t now_ms,
    struct brl_res *res, void (*changed)(struct brl_fent *, void *),
    void *arg)
{
	struct brl_fent	*fe;
	uint64_t	 l = 0;
	uint32_t	 i;

	(void)brl_range_last(&op->r, &l);
	res->rc = BRL_DENIED;
	if ((fe = brl_tab_find(t, &op->f)) == NULL)
		return;
	for (i = 0; i < fe->nwaiters; i++) {
		struct brl_ent *w = &fe->waiters[i];

		if (w->start == op->r.start && w->last == l &&
		    brl_owner_eq(&w->o, &op->o)) {
			ent_free(w);
			ARR_DEL(fe->waiters, fe->nwaiters, i);
			t->waiters--;
			res->rc = BRL_OK;
			res->changed = 1;
			/* later waiters may have queued behind this one */
			touch(t, fe, now_ms, changed, arg);
			return;
		}
	}
}

static void
op_grant_done(struct brl_tab *t, const struct brl_op *op, uint64_t now_ms,
    struct brl_res *res, void (*changed)(struct brl_fent *, void *),
    void *arg)
{
	struct brl_fent	*fe;
	uint32_t	 i, before;
	uint64_t	 l = 0;

	(void)brl_range_last(&op->r, &l);
	res->rc = BRL_DENIED;
	if ((fe = brl_tab_find(t, &op->f)) == NULL)
		return;
	for (i = 0; i < fe->nlocks; i++) {
		struct brl_ent *k = &fe->locks[i];

		if (!k->pending || k->grant_id != op->grant_id ||
		    !brl_owner_eq(&k->o, &op->o) || !overlap(op->r.start, l,
		    k->start, k->last))
			continue;
		k->pending = 0;
		k->grant_id = 0;
		ent_free(k);
		res->rc = BRL_OK;
	}
	if (res->rc != BRL_OK)
		return;
	/* now it may merge with the owner's neighbours */
	before = fe->nlocks;
	owner_merge(fe, &op->o);
	t->locks += fe->nlocks;
	t->locks -= before;
	res->changed = 1;
	touch(t, fe, now_ms, changed, arg);
}

static int
share_conflict(const struct brl_share *a, unsigned access, unsigned deny)
{
	return (a->access & deny) != 0 || (access & a->deny) != 0;
}

static void
op_share(struct brl_tab *t, const struct brl_op *op, int grace,
    uint64_t now_ms, struct brl_res *res,
    void (*changed)(struct brl_fent *, void *), void *arg)
{
	struct brl_fent		*fe;
	struct brl_share	*sh = NULL;
	uint32_t		 i;

	if (op->op == BRL_OP_SHARE && grace && !(op->flags & BRL_F_RECLAIM)) {
		res->rc = BRL_GRACE;
		return;
	}
	res->rc = BRL_OK;
	fe = brl_tab_find(t, &op->f);
	for (i = 0; fe && i < fe->nshares; i++) {
		if (brl_owner_eq(&fe->shares[i].o, &op->o))
			sh = &fe->shares[i];
		else if (op->op == BRL_OP_SHARE && share_conflict(
		    &fe->shares[i], op->access, op->deny)) {
			res->rc = BRL_DENIED;
			res->has_holder = 1;
			res->holder = fe->shares[i].o;
			return;
		}
	}
	if (op->op == BRL_OP_UNSHARE) {
		if (sh == NULL)
			return;
		ARR_DEL(fe->shares, fe->nshares, (uint32_t)(sh - fe->shares));
		t->shares--;
	} else if (sh != NULL) {
		if (sh->access == op->access && sh->deny == op->deny)
			return;
		sh->access = op->access;
		sh->deny = op->deny;
	} else {
		if (tab_full(t, 1)) {
			res->rc = BRL_NOLOCKS;
			return;
		}
		fe = tab_get(t, &op->f);
		sh = shares_add(fe);
		sh->o = op->o;
		sh->access = op->access;
		sh->deny = op->deny;
		t->shares++;
	}
	res->changed = 1;
	touch(t, fe, now_ms, changed, arg);
}

struct free_arg {
	struct brl_tab	*t;
	const struct brl_op *op;
	uint64_t	 now_ms;
	struct brl_res	*res;
	void		(*changed)(struct brl_fent *, void *);
	void		*arg;
};

static int
free_match(const struct brl_op *op, const struct brl_fent *fe,
    const struct brl_owner *o)
{
	if (op->op == BRL_OP_FREE_EXPORT)
		return fe->f.expid == op->f.expid;
	return (op->o.proto == 0 || op->o.proto == o->proto) &&
	    (op->o.client[0] == '\0' || strcmp(op->o.client, o->client) == 0);
}

static void
free_one(struct brl_fent *fe, void *p)
{
	struct free_arg	*a = p;
	uint64_t	 n = 0;
	uint32_t	 i;

	if (fe->dead_ms != 0)
		return;
	for (i = 0; i < fe->nlocks; )
		if (free_match(a->op, fe, &fe->locks[i].o)) {
			ent_free(&fe->locks[i]);
			ARR_DEL(fe->locks, fe->nlocks, i);
			a->t->locks--;
			n++;
		} else
			i++;
	for (i = 0; i < fe->nwaiters; )
		if (free_match(a->op, fe, &fe->waiters[i].o)) {
			ent_free(&fe->waiters[i]);
			ARR_DEL(fe->waiters, fe->nwaiters, i);
			a->t->waiters--;
			n++;
		} else
			i++;
	for (i = 0; i < fe->nshares; )
		if (free_match(a->op, fe, &fe->shares[i].o)) {
			ARR_DEL(fe->shares, fe->nshares, i);
			a->t->shares--;
			n++;
		} else
			i++;
	if (n == 0)
		return;
	a->res->n += n;
	a->res->changed = 1;
	touch(a->t, fe, a->now_ms, a->changed, a->arg);
}

void
brl_tab_apply(struct brl_tab *t, const struct brl_op *op, int grace,
    uint64_t now_ms, struct brl_res *res,
    void (*changed)(struct brl_fent *, void *), void *arg)
{
	struct free_arg fa = { t, op, now_ms, res, changed, arg };

	memset(res, 0, sizeof(*res));
	if ((res->rc = brl_op_check(op)) != BRL_OK)
		return;
	switch (op->op) {
	case BRL_OP_LOCK:
		op_lock(t, op, grace, now_ms, res, changed, arg);
		break;
	case BRL_OP_UNLOCK:
		op_unlock(t, op, now_ms, res, changed, arg);
		break;
	case BRL_OP_CANCEL:
		op_cancel(t, op, now_ms, res, changed, arg);
		break;
	case BRL_OP_SHARE:
	case BRL_OP_UNSHARE:
		op_share(t, op, grace, now_ms, res, changed, arg);
		break;
	case BRL_OP_GRANT_DONE:
		op_grant_done(t, op, now_ms, res, changed, arg);
		break;
	case BRL_OP_FREE_CLIENT:
	case BRL_OP_FREE_EXPORT:
		res->rc = BRL_OK;
		brl_tab_walk(t, 0, t->nb, free_one, &fa);
		break;
	}
}

int
brl_tab_test(struct brl_tab *t, const struct brl_file *f,
    const struct brl_owner *o, const struct brl_range *r,
    struct brl_owner *holder, struct brl_range *hrange)
{
	const struct brl_ent	*c;
	struct brl_fent		*fe;
	uint64_t		 l;

	if (!file_ok(f) || !owner_ok(o, 0) || brl_range_last(r, &l) < 0)
		return BRL_INVAL;
	if ((fe = brl_tab_find(t, f)) == NULL ||
	    (c = held_conflict(fe, o, r->start, l, r->excl ? 1 : 0)) == NULL)
		return BRL_OK;
	if (holder)
		*holder = c->o;
	if (hrange)
		brl_range_out(c->start, c->last, c->excl, hrange);
	return BRL_DENIED;
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
	nf->dead_ms = fent_empty(nf) ? (now_ms ? now_ms : 1) : 0;
	count(t, nf, 1);
	t->maxver = MAX(t->maxver, nf->version);
	for (i = 0; i < nf->nwaiters; i++)
		t->seq = MAX(t->seq, nf->waiters[i].seq);
	if (fep)
		*fep = nf;
	return 1;
}

/* ---- codec ---- */

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
	return owner_ok(o, allow_empty) ? 0 : -1;
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
	if (!file_ok(f) || (p = rd_bytes(r, f->khlen)) == NULL || r->err)
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
		ent_set_blob(e, p, e->bloblen);
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

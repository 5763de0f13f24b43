/*
 * brl_ops.c — the operations on the pure lock table: conflict rules,
 * POSIX replacing, splitting and merging of one owner's ranges, waiters
 * granted in arrival order per range, deadlock detection, shares, and
 * freeing a client's or an export's entries.  Every change bumps the
 * file's version and is reported to the caller's callback, which is how
 * the replication learns what to send (docs/locks.md).  No threads, no
 * clock of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pso/brl_int.h"

/* One file's entries are bounded so that its whole state, which is sent
 * in one message, stays well under the link's 16 MiB (an entry takes at
 * most about 1.4 KiB with a full owner handle and blob). */
static int
file_full(const struct brl_fent *fe, uint64_t more)
{
	return (uint64_t)fe->nlocks + fe->nwaiters + fe->nshares + more >
	    BRL_FILE_MAX;
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

		if ((excl || k->excl) && brl_overlap(s, l, k->start, k->last) &&
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

		if ((excl || w->excl) && brl_overlap(s, l, w->start, w->last) &&
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

		if ((excl || k->excl) && brl_overlap(s, l, k->start, k->last) &&
		    !brl_owner_eq(&k->o, o))
			dl_visit(d, &k->o);
	}
	for (i = 0; i < before && i < fe->nwaiters && !d->found; i++) {
		const struct brl_ent *w = &fe->waiters[i];

		if ((excl || w->excl) && brl_overlap(s, l, w->start, w->last) &&
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

		if (!brl_owner_eq(&k->o, o) || !brl_overlap(s, l, k->start,
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
		if (!brl_overlap(s, l, k->start, k->last)) {
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
	/* v is in start order (the locks are); the new range goes in */
	for (i = n; i > 0 && v[i - 1].s > s; i--)
		v[i] = v[i - 1];
	v[i] = (struct rg){ s, l, excl, 0 };
	n++;
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

/* Insert e (taken over) at its place: locks stay sorted by brl_ent_cmp,
 * so no operation sorts the whole array again. */
static void
lock_insert(struct brl_fent *fe, const struct brl_ent *e)
{
	uint32_t lo = 0, hi = fe->nlocks, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (brl_ent_cmp(&fe->locks[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	(void)brl_locks_add(fe);
	memmove(&fe->locks[lo + 1], &fe->locks[lo],
	    (fe->nlocks - 1 - lo) * sizeof(*fe->locks));
	fe->locks[lo] = *e;
}

/* Merge o's touching ranges of the same type (not those with a grant
 * pending: their blob and grant id stay apart). */
static void
owner_merge(struct brl_fent *fe, const struct brl_owner *o)
{
	uint32_t i, j;

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
			brl_ent_free(b);
			BRL_ARR_DEL(fe->locks, fe->nlocks, j);
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

		if (!brl_owner_eq(&k->o, o) || !brl_overlap(s, l, k->start,
		    k->last)) {
			i++;
			continue;
		}
		have_l = k->start < s;
		have_r = k->last > l;
		if (have_l) {
			brl_ent_copy(&left, k);
			left.last = s - 1;
		}
		if (have_r) {
			brl_ent_copy(&right, k);
			right.start = l + 1;
		}
		brl_ent_free(k);
		BRL_ARR_DEL(fe->locks, fe->nlocks, i);
		if (have_l)
			lock_insert(fe, &left);
		if (have_r)
			lock_insert(fe, &right);
	}
	if (add != NULL)
		lock_insert(fe, add);
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
		BRL_ARR_DEL(fe->waiters, fe->nwaiters, i);
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
	if (brl_fent_empty(fe)) {
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
			brl_ent_set_blob(w, op->blob, op->bloblen);
		} else {
			if (brl_tab_full(t, 1) || file_full(fe, 1)) {
				res->rc = BRL_NOLOCKS;
				return;
			}
			if (deadlock(t, fe, &op->o, s, l, excl)) {
				res->rc = BRL_DEADLCK;
				return;
			}
			w = brl_waiters_add(fe);
			w->o = op->o;
			w->start = s;
			w->last = l;
			w->excl = excl;
			w->seq = ++t->seq;
			brl_ent_set_blob(w, op->blob, op->bloblen);
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
	if (brl_tab_full(t, more) || (fe && file_full(fe, more))) {
		res->rc = BRL_NOLOCKS;
		return;
	}
	fe = brl_tab_get(t, &op->f);
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
			brl_ent_free(w);
			BRL_ARR_DEL(fe->waiters, fe->nwaiters, i);
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
			brl_ent_free(w);
			BRL_ARR_DEL(fe->waiters, fe->nwaiters, i);
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
		    !brl_owner_eq(&k->o, &op->o) || !brl_overlap(op->r.start, l,
		    k->start, k->last))
			continue;
		k->pending = 0;
		k->grant_id = 0;
		brl_ent_free(k);
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
		BRL_ARR_DEL(fe->shares, fe->nshares, (uint32_t)(sh - fe->shares));
		t->shares--;
	} else if (sh != NULL) {
		if (sh->access == op->access && sh->deny == op->deny)
			return;
		sh->access = op->access;
		sh->deny = op->deny;
	} else {
		if (brl_tab_full(t, 1) || (fe && file_full(fe, 1))) {
			res->rc = BRL_NOLOCKS;
			return;
		}
		fe = brl_tab_get(t, &op->f);
		sh = brl_shares_add(fe);
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
	/* FREE_EXPORT: the export's entries, of one owner's protocol and
	 * client when given (a FUSE mount that stopped); FREE_CLIENT:
	 * the owner's on every export */
	if (op->op == BRL_OP_FREE_EXPORT && fe->f.expid != op->f.expid)
		return 0;
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
			brl_ent_free(&fe->locks[i]);
			BRL_ARR_DEL(fe->locks, fe->nlocks, i);
			a->t->locks--;
			n++;
		} else
			i++;
	for (i = 0; i < fe->nwaiters; )
		if (free_match(a->op, fe, &fe->waiters[i].o)) {
			brl_ent_free(&fe->waiters[i]);
			BRL_ARR_DEL(fe->waiters, fe->nwaiters, i);
			a->t->waiters--;
			n++;
		} else
			i++;
	for (i = 0; i < fe->nshares; )
		if (free_match(a->op, fe, &fe->shares[i].o)) {
			BRL_ARR_DEL(fe->shares, fe->nshares, i);
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

	if (!brl_file_ok(f) || !brl_owner_ok(o, 0) || brl_range_last(r, &l) < 0)
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

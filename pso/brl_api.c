/*
 * brl_api.c — the public calls of pso/brl.h on top of the replicated
 * table (brl_repl.c), the grant notifier and the listing and status.
 *
 * A changing call becomes a struct brl_call run at the arbiter; a test
 * or a listing reads this head's copy under brl_g.mtx.  The notifier is
 * one thread with a queue of pending grants (file, owner, grant id): it
 * calls the grant callback off the loop thread and turns the answer into
 * a replicated GRANT_DONE or unlock, or calls again later
 * (docs/locks.md, "Grant callbacks").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "pso/brl_int.h"

#define GRANT_RETRY_MS		5000
#define GRANT_GIVEUP_MS		60000	/* RETRY: then the flag is cleared */
#define GRANT_NOTMINE_MS	90000	/* NOTMINE: then forgotten */
#define GRANT_BUSY_MS		1000	/* the op was unavailable */

/* ---- calls ---- */

static int
run(struct brl_call *c, struct brl_owner *holder, struct brl_range *hrange,
    uint64_t *n)
{
	int rc;

	if ((rc = brl_op_check(&c->op)) != BRL_OK)
		return rc;
	rc = brl_call_run(c);
	if (c->res.has_holder && (rc == BRL_DENIED || rc == BRL_BLOCKED)) {
		if (holder)
			*holder = c->res.holder;
		if (hrange)
			*hrange = c->res.hrange;
	}
	if (n)
		*n = c->res.n;
	return rc;
}

static void
call_init(struct brl_call *c, uint8_t op, const struct brl_file *f,
    const struct brl_owner *o, const struct brl_range *r)
{
	memset(c, 0, sizeof(*c));
	c->op.op = op;
	if (f)
		c->op.f = *f;
	if (o)
		c->op.o = *o;
	if (r)
		c->op.r = *r;
}

int
brl_lock(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, int flags, const void *blob, size_t bloblen,
    struct brl_owner *holder, struct brl_range *hrange)
{
	struct brl_call c;

	if (bloblen > BRL_BLOB_MAX || (flags & ~(BRL_F_WAIT | BRL_F_RECLAIM)))
		return BRL_INVAL;
	call_init(&c, BRL_OP_LOCK, f, o, r);
	c.op.flags = (uint8_t)flags;
	c.op.blob = blob;
	c.op.bloblen = (uint16_t)bloblen;
	return run(&c, holder, hrange, NULL);
}

int
brl_unlock(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r)
{
	struct brl_call c;

	call_init(&c, BRL_OP_UNLOCK, f, o, r);
	return run(&c, NULL, NULL, NULL);
}

int
brl_cancel(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r)
{
	struct brl_call c;

	call_init(&c, BRL_OP_CANCEL, f, o, r);
	return run(&c, NULL, NULL, NULL);
}

int
brl_share(const struct brl_file *f, const struct brl_owner *o,
    unsigned access, unsigned deny, int flags)
{
	struct brl_call c;

	if (access > 3 || deny > 3 || (flags & ~BRL_F_RECLAIM))
		return BRL_INVAL;
	call_init(&c, BRL_OP_SHARE, f, o, NULL);
	c.op.access = (uint8_t)access;
	c.op.deny = (uint8_t)deny;
	c.op.flags = (uint8_t)flags;
	return run(&c, NULL, NULL, NULL);
}

int
brl_unshare(const struct brl_file *f, const struct brl_owner *o)
{
	struct brl_call c;

	call_init(&c, BRL_OP_UNSHARE, f, o, NULL);
	return run(&c, NULL, NULL, NULL);
}

int
brl_free_client(uint8_t proto, const char *client, uint64_t *n)
{
	struct brl_call c;

	if (n)
		*n = 0;
	if (client && strlen(client) >= BRL_CLIENT_MAX)
		return BRL_INVAL;
	call_init(&c, BRL_OP_FREE_CLIENT, NULL, NULL, NULL);
	c.op.o.proto = proto;
	if (client)
		snprintf(c.op.o.client, sizeof(c.op.o.client), "%s", client);
	return run(&c, NULL, NULL, n);
}

int
brl_free_export(uint32_t expid, uint64_t *n)
{
	return brl_free_export_owner(expid, 0, NULL, n);
}

int
brl_free_export_owner(uint32_t expid, uint8_t proto, const char *client,
    uint64_t *n)
{
	struct brl_call c;

	if (n)
		*n = 0;
	if (client && strlen(client) >= BRL_CLIENT_MAX)
		return BRL_INVAL;
	call_init(&c, BRL_OP_FREE_EXPORT, NULL, NULL, NULL);
	c.op.f.expid = expid;
	c.op.o.proto = proto;
	if (client)
		snprintf(c.op.o.client, sizeof(c.op.o.client), "%s", client);
	return run(&c, NULL, NULL, n);
}

int
brl_test(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, struct brl_owner *holder,
    struct brl_range *hrange)
{
	int rc;

	if (brl_grace_left() != 0)
		return BRL_GRACE;
	pthread_mutex_lock(&brl_g.mtx);
	if (!brl_g.ready)
		rc = BRL_UNAVAIL;
	else
		rc = brl_tab_test(brl_g.tab, f, o, r, holder, hrange);
	pthread_mutex_unlock(&brl_g.mtx);
	return rc;
}

uint64_t
brl_in_grace(void)
{
	return brl_grace_left();
}

const char *
brl_strerror(int rc)
{
	static const char *const s[] = {
		"granted", "denied: conflicting lock",
		"blocked: waiting for a conflicting lock",
		"grace period: only reclaims are served",
		"lock table full", "lock table not available (try again)",
		"invalid argument", "would deadlock",
	};

	if (rc >= 0 && rc < (int)nitems(s))
		return s[rc];
	return "unknown brl result";
}

/* ---- listing ---- */

struct litem {
	struct brl_file	 f;
	struct brl_owner o;
	struct brl_range r;
	int		 waiting;
};

struct lsnap {
	struct litem	*v;
	size_t		 n, cap;
};

static struct litem *
snap_add(struct lsnap *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	memset(&s->v[s->n], 0, sizeof(*s->v));
	return &s->v[s->n++];
}

static void
snap_file(struct brl_fent *fe, void *arg)
{
	struct lsnap	*s = arg;
	struct litem	*it;
	uint32_t	 i;

	if (fe->dead_ms != 0)
		return;
	for (i = 0; i < fe->nlocks; i++) {
		it = snap_add(s);
		it->f = fe->f;
		it->o = fe->locks[i].o;
		brl_range_out(fe->locks[i].start, fe->locks[i].last,
		    fe->locks[i].excl, &it->r);
		it->waiting = fe->locks[i].pending ? 2 : 0;
	}
	for (i = 0; i < fe->nwaiters; i++) {
		it = snap_add(s);
		it->f = fe->f;
		it->o = fe->waiters[i].o;
		brl_range_out(fe->waiters[i].start, fe->waiters[i].last,
		    fe->waiters[i].excl, &it->r);
		it->waiting = 1;
	}
	for (i = 0; i < fe->nshares; i++) {
		it = snap_add(s);
		it->f = fe->f;
		it->o = fe->shares[i].o;
		it->waiting = 0x100 | fe->shares[i].access << 4 |
		    fe->shares[i].deny;
	}
}

/*
 * The listing of brl.h; waiting 2 (a lock whose grant is not confirmed
 * yet) is reported as a lock (0) there, and as 2 to brl_list_ex.
 */
int
brl_list_ex(int (*cb)(const struct brl_file *, const struct brl_owner *,
    const struct brl_range *, int, void *), void *arg, int pending)
{
	struct lsnap	s = { NULL, 0, 0 };
	size_t		i;
	int		rc = 0, w;

	pthread_mutex_lock(&brl_g.mtx);
	if (brl_g.tab)
		brl_tab_walk(brl_g.tab, 0, brl_g.tab->nb, snap_file, &s);
	pthread_mutex_unlock(&brl_g.mtx);
	for (i = 0; i < s.n && rc == 0; i++) {
		w = s.v[i].waiting;
		if (w == 2 && !pending)
			w = 0;
		rc = cb(&s.v[i].f, &s.v[i].o, (w & 0x100) ? NULL : &s.v[i].r,
		    w, arg);
	}
	free(s.v);
	return 0;
}

int
brl_list(int (*cb)(const struct brl_file *, const struct brl_owner *,
    const struct brl_range *, int, void *), void *arg)
{
	return brl_list_ex(cb, arg, 0);
}

void
brl_stats_get(struct brl_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->grace_ms = brl_grace_left();
	pthread_mutex_lock(&brl_g.mtx);
	if (brl_g.tab) {
		st->files = brl_g.tab->files;
		st->locks = brl_g.tab->locks;
		st->waiters = brl_g.tab->waiters;
		st->shares = brl_g.tab->shares;
	}
	st->ops = brl_g.ops;
	st->forwarded = brl_g.forwarded;
	st->replicated = brl_g.replicated;
	st->arbiter = brl_g.arbiter;
	st->ready = brl_g.ready;
	pthread_mutex_unlock(&brl_g.mtx);
}

void
brl_status_text(struct buf *out)
{
	struct brl_stats st;

	brl_stats_get(&st);
	buf_printf(out, "locks:       %s%s, %llu files, %llu locks, "
	    "%llu waiting, %llu shares, %llu ops, %llu forwarded, "
	    "%llu replicated", st.ready ? "ready" : "NOT ready (joining)",
	    st.arbiter ? ", arbiter" : "", (unsigned long long)st.files,
	    (unsigned long long)st.locks, (unsigned long long)st.waiters,
	    (unsigned long long)st.shares, (unsigned long long)st.ops,
	    (unsigned long long)st.forwarded,
	    (unsigned long long)st.replicated);
	if (st.grace_ms)
		buf_printf(out, ", grace period %llu s left",
		    (unsigned long long)(st.grace_ms + 999) / 1000);
	buf_printf(out, "\n");
}

void
brl_status_json(struct buf *out)
{
	struct brl_stats st;

	brl_stats_get(&st);
	buf_printf(out, "{\"ready\":%s,\"arbiter\":%s,\"files\":%llu,"
	    "\"locks\":%llu,\"waiters\":%llu,\"shares\":%llu,\"ops\":%llu,"
	    "\"forwarded\":%llu,\"replicated\":%llu,\"grace_ms\":%llu}",
	    st.ready ? "true" : "false", st.arbiter ? "true" : "false",
	    (unsigned long long)st.files, (unsigned long long)st.locks,
	    (unsigned long long)st.waiters, (unsigned long long)st.shares,
	    (unsigned long long)st.ops, (unsigned long long)st.forwarded,
	    (unsigned long long)st.replicated,
	    (unsigned long long)st.grace_ms);
}

/* ---- cold start callback ---- */

static void	(*cold_fn)(void *);
static void	 *cold_arg;
static int	  cold_happened, cold_called;

static void
cold_call(void *arg)
{
	(void)arg;
	if (cold_fn != NULL && cold_happened && !cold_called) {
		cold_called = 1;
		cold_fn(cold_arg);
	}
}

void
brl_set_cold_cb(void (*fn)(void *), void *arg)
{
	cold_fn = fn;
	cold_arg = arg;
	loop_call(cold_call, NULL);	/* the cold start may be over */
}

void
brl_cold_notify(void)
{
	cold_happened = 1;
	cold_call(NULL);
}

/* ---- grant notifier ---- */

struct gjob {
	struct gjob	*next;
	struct brl_file	 f;
	struct brl_owner o;
	uint64_t	 start, last;
	int		 excl;
	uint64_t	 grant_id;
	uint8_t		*blob;
	uint16_t	 bloblen;
	uint64_t	 first_ms, due_ms;
	int		 busy;		/* being called now */
};

static pthread_mutex_t	admin_mtx = PTHREAD_MUTEX_INITIALIZER;
static int		admin_answer = BRL_GRANT_DONE;
static char		admin_client[BRL_CLIENT_MAX];	/* "" = every one */

void
brl_admin_grant_answer(int answer, const char *client)
{
	pthread_mutex_lock(&admin_mtx);
	admin_answer = answer;
	snprintf(admin_client, sizeof(admin_client), "%s",
	    client ? client : "");
	pthread_mutex_unlock(&admin_mtx);
}

static int
admin_answer_for(const char *client)
{
	int a = BRL_GRANT_DONE;

	pthread_mutex_lock(&admin_mtx);
	if (admin_client[0] == '\0' || strcmp(admin_client, client) == 0)
		a = admin_answer;
	pthread_mutex_unlock(&admin_mtx);
	return a;
}

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	struct gjob	*jobs;
	brl_grant_fn	 fn;
	void		*arg;
	int		 running, started;
	pthread_t	 thread;
} gn = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

void
brl_set_grant_cb(brl_grant_fn fn, void *arg)
{
	pthread_mutex_lock(&gn.mtx);
	gn.fn = fn;
	gn.arg = arg;
	pthread_cond_broadcast(&gn.cond);
	pthread_mutex_unlock(&gn.mtx);
}

static int
job_is(const struct gjob *j, const struct brl_fent *fe,
    const struct brl_ent *k)
{
	return j->grant_id == k->grant_id && j->f.expid == fe->f.expid &&
	    j->f.khlen == fe->f.khlen && memcmp(j->f.kh, fe->f.kh,
	    fe->f.khlen) == 0 && brl_owner_eq(&j->o, &k->o);
}

void
brl_grants_scan(const struct brl_fent *fe)
{
	struct gjob	*j;
	uint32_t	 i;
	uint64_t	 now = 0;

	for (i = 0; i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		if (!k->pending)
			continue;
		pthread_mutex_lock(&gn.mtx);
		for (j = gn.jobs; j; j = j->next)
			if (job_is(j, fe, k))
				break;
		if (j == NULL && gn.running) {
			if (now == 0)
				now = now_ms();
			j = xcalloc(1, sizeof(*j));
			j->f = fe->f;
			j->o = k->o;
			j->start = k->start;
			j->last = k->last;
			j->excl = k->excl;
			j->grant_id = k->grant_id;
			j->bloblen = k->bloblen;
			if (k->bloblen) {
				j->blob = xmalloc(k->bloblen);
				memcpy(j->blob, k->blob, k->bloblen);
			}
			j->first_ms = j->due_ms = now;
			j->next = gn.jobs;
			gn.jobs = j;
			pthread_cond_broadcast(&gn.cond);
		}
		pthread_mutex_unlock(&gn.mtx);
	}
}

/* Is j's grant still pending in this head's copy?  1 yes, 0 no, -1 not
 * known yet (the table is being copied). */
static int
job_pending(const struct gjob *j)
{
	struct brl_fent	*fe;
	uint32_t	 i;
	int		 yes = 0;

	pthread_mutex_lock(&brl_g.mtx);
	if (!brl_g.ready)
		yes = -1;
	else if ((fe = brl_tab_find(brl_g.tab, &j->f)) != NULL)
		for (i = 0; i < fe->nlocks && !yes; i++)
			yes = fe->locks[i].pending && job_is(j, fe,
			    &fe->locks[i]);
	pthread_mutex_unlock(&brl_g.mtx);
	return yes;
}

static void
job_free(struct gjob *j)
{
	struct gjob **pp;

	pthread_mutex_lock(&gn.mtx);
	for (pp = &gn.jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&gn.mtx);
	free(j->blob);
	free(j);
}

static void
job_later(struct gjob *j, uint64_t ms)
{
	pthread_mutex_lock(&gn.mtx);
	j->busy = 0;
	j->due_ms = now_ms() + ms;
	pthread_mutex_unlock(&gn.mtx);
}

/* The replicated end of a grant: clear the flag or unlock the range. */
static int
job_finish(struct gjob *j, int refused)
{
	struct brl_call	c;
	struct brl_range r;

	brl_range_out(j->start, j->last, j->excl, &r);
	call_init(&c, refused ? BRL_OP_UNLOCK : BRL_OP_GRANT_DONE, &j->f,
	    &j->o, &r);
	c.op.grant_id = j->grant_id;
	return brl_call_run(&c);
}

static void
job_run(struct gjob *j, brl_grant_fn fn, void *arg)
{
	struct brl_range	r;
	uint64_t		age;
	int			res, rc;

	switch (job_pending(j)) {
	case 0:
		job_free(j);
		return;
	case -1:
		job_later(j, GRANT_BUSY_MS);
		return;
	}
	brl_range_out(j->start, j->last, j->excl, &r);
	/* An admin (test) client polls with `duonas locks`: nobody to
	 * call back, the grant is confirmed at once (by both heads; the
	 * second GRANT_DONE finds nothing pending and changes nothing),
	 * or answered as the test asked (brl_admin_grant_answer). */
	if (j->o.proto == BRL_PROTO_ADMIN)
		res = admin_answer_for(j->o.client);
	else
		res = fn ? fn(&j->f, &j->o, &r, j->blob, j->bloblen, arg) :
		    BRL_GRANT_NOTMINE;
	age = now_ms() - j->first_ms;
	switch (res) {
	case BRL_GRANT_DONE:
	case BRL_GRANT_REFUSED:
		rc = job_finish(j, res == BRL_GRANT_REFUSED);
		if (rc == BRL_UNAVAIL)
			job_later(j, GRANT_BUSY_MS);
		else
			job_free(j);
		break;
	case BRL_GRANT_RETRY:
		if (age < GRANT_GIVEUP_MS) {
			job_later(j, GRANT_RETRY_MS);
			break;
		}
		log_info("brl: grant to %s not confirmed for %llu s: the "
		    "lock stays held", j->o.client,
		    (unsigned long long)age / 1000);
		rc = job_finish(j, 0);
		if (rc == BRL_UNAVAIL)
			job_later(j, GRANT_BUSY_MS);
		else
			job_free(j);
		break;
	default:
		/* the other head announces it; after a takeover we do */
		if (age < GRANT_NOTMINE_MS)
			job_later(j, GRANT_RETRY_MS);
		else
			job_free(j);
		break;
	}
}

static void *
notifier_main(void *arg)
{
	struct gjob	*j, *due;
	struct timespec	 ts;
	brl_grant_fn	 fn;
	void		*fnarg;
	uint64_t	 now, wake;

	(void)arg;
	pthread_mutex_lock(&gn.mtx);
	while (gn.running) {
		now = now_ms();
		due = NULL;
		wake = now + 1000;
		for (j = gn.jobs; j; j = j->next) {
			if (j->busy)
				continue;
			if (j->due_ms <= now) {
				due = j;
				break;
			}
			wake = MIN(wake, j->due_ms);
		}
		if (due == NULL) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)((wake - now) / 1000);
			ts.tv_nsec += (long)((wake - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&gn.cond, &gn.mtx, &ts);
			continue;
		}
		due->busy = 1;
		fn = gn.fn;
		fnarg = gn.arg;
		pthread_mutex_unlock(&gn.mtx);
		job_run(due, fn, fnarg);
		pthread_mutex_lock(&gn.mtx);
	}
	pthread_mutex_unlock(&gn.mtx);
	return NULL;
}

/* ---- life ---- */

int
brl_init(const struct cfg *cfg, int self_idx)
{
	(void)self_idx;
	if (brl_g.running)
		return -1;
	pthread_mutex_lock(&gn.mtx);
	gn.running = 1;
	pthread_mutex_unlock(&gn.mtx);
	if (pthread_create(&gn.thread, NULL, notifier_main, NULL) != 0) {
		log_warnx("brl: cannot start the grant notifier thread");
		return -1;
	}
	gn.started = 1;
	if (brl_repl_init(cfg) != 0)
		return -1;
	log_info("brl: lock table started (max %d entries, grace period "
	    "%d s on a cold start)", cfg->nlm_max_locks, cfg->nlm_grace_s);
	return 0;
}

void
brl_shutdown(void)
{
	if (!brl_g.running)
		return;
	brl_repl_fini();
	pthread_mutex_lock(&gn.mtx);
	gn.running = 0;
	pthread_cond_broadcast(&gn.cond);
	pthread_mutex_unlock(&gn.mtx);
	/* The notifier may sit in a grant callback for a while (a client
	 * that does not answer): it ends on its own, the process exits. */
	if (gn.started)
		pthread_detach(gn.thread);
	gn.started = 0;
	log_info("brl: shut down");
}

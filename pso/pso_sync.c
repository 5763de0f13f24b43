/*
 * pso_sync.c — resynchronisation with the peer (requester side) and the
 * cluster cold start.
 *
 * A head that is not synced runs one sync thread (the LMDB work and the
 * waits stay off the loop thread).  It asks the peer whether it serves
 * (SYNC_BEGIN); if so it pulls the peer's digest — (id, version, sum) in
 * id order, 64 Ki per page — compares it with its own store by content,
 * fetches the records the peer has newer, pushes the ones it has newer,
 * resolves equal-version conflicts upwards (the later write wins, as
 * version + 1 on both), takes the lock table and says SYNC_END.  When
 * nobody serves, the leader (master, else lower node id) starts the
 * cluster cold: volatile values emptied; a head that is behind or
 * recovering never does, it waits for a serving peer.  The responder
 * side is pso_sync_resp.c.  Merge rules: docs/pso.md, "Resync".
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pso/pso_int.h"

#define SYNC_PROGRESS	20000
#define SYNC_BACKOFF_MS	5000	/* longest pause between failed rounds */

struct lrec {
	pso_id		id;
	uint64_t	version;
	uint64_t	sum;
	uint32_t	flags;
};

struct idlist {
	pso_id		*v;
	size_t		 n, cap;
};

static void
idl_add(struct idlist *l, pso_id id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = id;
}

struct local {
	struct lrec	*v;
	size_t		 n, cap;
};

static int
local_one(const struct pso_rec *r, void *arg)
{
	struct local *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].id = r->id;
	l->v[l->n].version = r->version;
	l->v[l->n].sum = pso_rec_sum(r);
	l->v[l->n].flags = r->flags;
	l->n++;
	return 0;
}

struct plan {
	struct idlist	fetch, force, push, empty, conflict;
	int		booting;
	uint64_t	compared, total, next_log;
};

static int
is_volatile_live(uint32_t flags)
{
	return !(flags & (PSO_PERSISTENT | PSO_F_DELETED));
}

/* Two records of one object written by heads that each believed the
 * other dead: a forked history, where versions say nothing. */
static int
forked(uint32_t a, uint32_t b)
{
	return (a & PSO_F_SOLO) && (b & PSO_F_SOLO);
}

/* Compare by content: version, then sum; a fork is a conflict. */
static void
plan_both(struct plan *pl, const struct lrec *l, const struct pso_m_dig *g)
{
	if (pl->booting && is_volatile_live(l->flags)) {
		/* our volatile value is from the cluster's previous life */
		if (g->version != l->version || g->sum != l->sum)
			idl_add(&pl->force, l->id);
	} else if (g->sum != l->sum && forked(g->flags, l->flags))
		idl_add(&pl->conflict, l->id);
	else if (g->version > l->version)
		idl_add(&pl->fetch, l->id);
	else if (g->version < l->version)
		idl_add(&pl->push, l->id);
	else if (g->sum != l->sum)
		idl_add(&pl->conflict, l->id);
}

static void
plan_local_only(struct plan *pl, const struct lrec *l)
{
	if (pl->booting && is_volatile_live(l->flags))
		idl_add(&pl->empty, l->id);
	else
		idl_add(&pl->push, l->id);
}

static void
plan_progress(struct plan *pl, uint64_t n)
{
	pl->compared += n;
	if (pl->compared >= pl->next_log) {
		log_info("pso: resync %llu/%llu objects compared",
		    (unsigned long long)pl->compared,
		    (unsigned long long)MAX(pl->compared, pl->total));
		while (pl->next_log <= pl->compared)
			pl->next_log += SYNC_PROGRESS;
	}
}

/* One request/reply; 0 with c->rep set, or an errno/PSO code. */
static int
call(struct pso_call *c)
{
	int rc;

	pso_call_start(c);
	if ((rc = pso_call_wait(c)) != 0)
		return rc;
	return 0;
}

static int
sync_digest(struct plan *pl, const struct local *loc)
{
	struct pso_call		 c;
	struct pso_m_dig	*g = NULL;
	pso_id			 after = 0;
	uint32_t		 i, n;
	size_t			 li = 0;
	int32_t			 prc;
	int			 rc = 0, more = 1;

	pso_call_init(&c, PSO_T_SYNC_DIGEST, pso_req_timeout() * 4);
	while (more) {
		buf_reset(&c.req);
		pso_m_digreq_enc(&c.req, after, PSO_DIGEST_MAX);
		if ((rc = call(&c)) != 0)
			break;
		if (pso_m_digrep_dec(c.rep, c.replen, &prc, &more, &g, &n) < 0) {
			rc = EPROTO;
			break;
		}
		if ((rc = prc) != 0)
			break;
		for (i = 0; i < n; i++) {
			if (g[i].id <= after) {
				rc = EPROTO;	/* not in id order */
				break;
			}
			after = g[i].id;
			while (li < loc->n && loc->v[li].id < g[i].id)
				plan_local_only(pl, &loc->v[li++]);
			if (li < loc->n && loc->v[li].id == g[i].id)
				plan_both(pl, &loc->v[li++], &g[i]);
			else
				idl_add(&pl->fetch, g[i].id);
		}
		free(g);
		g = NULL;
		if (rc != 0)
			break;
		plan_progress(pl, n);
		if (n == 0)
			more = 0;
	}
	if (rc == 0)
		while (li < loc->n)
			plan_local_only(pl, &loc->v[li++]);
	pso_call_free(&c);
	return rc;
}

/* What to do with each batch of fetched records (they live until the
 * callback returns). */
typedef int (*fetch_cb)(struct pso_rec *, uint32_t n, void *arg);

/* Fetch ids from the peer, batch by batch. */
static int
sync_fetch_each(const struct idlist *l, fetch_cb cb, void *arg)
{
	struct pso_call	 c;
	struct pso_rec	*r = NULL;
	size_t		 at = 0, cnt, k, next_log = SYNC_PROGRESS;
	uint32_t	 n;
	int32_t		 prc;
	int		 rc = 0;

	pso_call_init(&c, PSO_T_SYNC_FETCH, pso_req_timeout() * 4);
	while (at < l->n) {
		cnt = MIN(l->n - at, PSO_FETCH_MAX);
		buf_reset(&c.req);
		pso_m_ids_enc(&c.req, l->v + at, (uint32_t)cnt);
		if ((rc = call(&c)) != 0)
			break;
		if (pso_m_recs_dec(c.rep, c.replen, 1, &prc, &r, &n) < 0) {
			rc = EPROTO;
			break;
		}
		if ((rc = prc) != 0)
			break;
		if (n == 0) {
			at++;		/* the peer lost it: skip */
			free(r);
			continue;
		}
		rc = cb(r, n, arg);
		/* continue after the last record returned */
		for (k = at; k < at + cnt && l->v[k] != r[n - 1].id; k++)
			;
		at = k < at + cnt ? k + 1 : at + cnt;
		free(r);
		r = NULL;
		if (rc != 0)
			break;
		if (at >= next_log || (at == l->n && l->n >= SYNC_PROGRESS)) {
			log_info("pso: resync %zu/%zu objects fetched", at,
			    l->n);
			while (next_log <= at)
				next_log += SYNC_PROGRESS;
		}
	}
	pso_call_free(&c);
	return rc;
}

struct fetch_arg {
	int		 force;
	uint64_t	*nfetched;
	struct idlist	*push;
};

/* Apply fetched records: newer ones are stored, older ones (we moved on
 * since the digest) ignored; a conflict fails the round.  A record the
 * peer wrote alone (SOLO) is held by both heads from now on: stored
 * without the flag here, and pushed back so that the peer drops it too
 * (a fork is two SOLO records; docs/pso.md, "Resync"). */
static int
fetch_apply(struct pso_rec *r, uint32_t n, void *arg)
{
	struct fetch_arg	*fa = arg;
	struct pso_apres	*res;
	uint32_t		 i;
	int			 rc, applied;

	for (i = 0; i < n; i++)
		if (r[i].flags & PSO_F_SOLO) {
			r[i].flags &= ~PSO_F_SOLO;
			idl_add(fa->push, r[i].id);
		}
	res = xcalloc(n, sizeof(*res));
	rc = pso_apply(r, (int)n, fa->force, res, &applied);
	for (i = 0; rc == 0 && i < n; i++)
		if (res[i].res == PSO_AP_CONFLICT)
			rc = PSO_CONFLICT;
	if (rc == 0)
		*fa->nfetched += (uint64_t)applied;
	free(res);
	return rc;
}

static int
sync_fetch(const struct idlist *l, int force, uint64_t *nfetched,
    struct idlist *push)
{
	struct fetch_arg fa = { force, nfetched, push };

	return sync_fetch_each(l, fetch_apply, &fa);
}

struct conflict_arg {
	struct idlist	*push;
	uint64_t	 n;
};

/*
 * Same version with different content, or a fork (both records written
 * alone): keep the later write (mtime; equal: the larger sum, so both
 * heads would choose alike) as the higher version + 1, no longer SOLO,
 * here and then on the peer (docs/pso.md, "Resync", step 4).
 */
static int
conflict_one(struct pso_rec *pr, uint32_t n, void *arg)
{
	struct conflict_arg	*ca = arg;
	struct pso_apres	 res;
	struct pso_rec		 lr, win;
	uint64_t		 ls, ps;
	void			*lval;
	uint32_t		 i;
	int			 rc = 0, mine;

	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = pso_store_get(pso_g.st, pr[i].id, &lr, &lval)) != 0)
			break;
		ls = pso_rec_sum(&lr);
		ps = pso_rec_sum(&pr[i]);
		if (ls == ps || (lr.version != pr[i].version &&
		    !forked(lr.flags, pr[i].flags))) {
			free(lval);	/* moved on meanwhile: next round */
			continue;
		}
		mine = lr.mtime_ms != pr[i].mtime_ms ?
		    lr.mtime_ms > pr[i].mtime_ms : ls > ps;
		win = mine ? lr : pr[i];
		win.version = MAX(lr.version, pr[i].version) + 1;
		win.flags &= ~PSO_F_SOLO;
		log_warnx("pso: %s on %s: here v%llu sum %016llx mtime %llu, "
		    "peer v%llu sum %016llx mtime %llu: keeping the %s write "
		    "as v%llu", lr.version == pr[i].version ? "conflict" :
		    "forked history", lr.name, (unsigned long long)lr.version,
		    (unsigned long long)ls, (unsigned long long)lr.mtime_ms,
		    (unsigned long long)pr[i].version, (unsigned long long)ps,
		    (unsigned long long)pr[i].mtime_ms, mine ? "local" :
		    "peer's", (unsigned long long)win.version);
		rc = pso_apply(&win, 1, 0, &res, NULL);
		if (rc == 0 && res.res == PSO_AP_APPLIED) {
			idl_add(ca->push, win.id);
			ca->n++;
		}
		free(lval);
	}
	return rc;
}
static int
sync_push_flush(struct pso_call *c, uint32_t n)
{
	int32_t	prc;
	int	rc;

	if (n == 0)
		return 0;
	pso_m_recs_finish(&c->req, 0, n);
	if ((rc = call(c)) != 0)
		return rc;
	if (pso_m_rc_dec(c->rep, c->replen, &prc) < 0)
		return EPROTO;
	return prc;
}

static int
sync_push(const struct idlist *l, uint64_t *npushed)
{
	struct pso_call	 c;
	struct pso_rec	 r;
	struct idlist	 solo = { NULL, 0, 0 };
	void		*val;
	size_t		 i;
	uint32_t	 n = 0;
	int		 rc = 0;

	pso_call_init(&c, PSO_T_SYNC_PUSH, pso_req_timeout() * 4);
	pso_m_recs_start(&c.req, 0, 0);
	for (i = 0; i < l->n; i++) {
		if ((rc = pso_store_get(pso_g.st, l->v[i], &r, &val)) != 0)
			break;
		if (n > 0 && c.req.len + pso_rec_msglen(&r) > PSO_PUSH_BYTES) {
			if ((rc = sync_push_flush(&c, n)) != 0) {
				free(val);
				break;
			}
			buf_reset(&c.req);
			pso_m_recs_start(&c.req, 0, 0);
			n = 0;
		}
		if (r.flags & PSO_F_SOLO) {	/* held by both from now on */
			r.flags &= ~PSO_F_SOLO;
			idl_add(&solo, r.id);
		}
		pso_rec_encode(&c.req, &r, 1);
		free(val);
		n++;
		(*npushed)++;
	}
	if (rc == 0)
		rc = sync_push_flush(&c, n);
	pso_call_free(&c);
	/* Only once the peer has them: a SOLO record that did not reach
	 * the peer must stay SOLO (it may be one side of a fork). */
	for (i = 0; rc == 0 && i < solo.n; i++) {
		if ((rc = pso_store_get(pso_g.st, solo.v[i], &r, &val)) != 0)
			break;
		if (r.flags & PSO_F_SOLO) {
			r.flags &= ~PSO_F_SOLO;
			rc = pso_apply(&r, 1, 0, NULL, NULL);
		}
		free(val);
	}
	free(solo.v);
	return rc;
}

/* Volatile objects only this booting head has: empty them, then push. */
static int
sync_empty(const struct idlist *l, struct idlist *push)
{
	struct pso_rec	r;
	size_t		i;
	int		rc;

	for (i = 0; i < l->n; i++) {
		if ((rc = pso_store_get(pso_g.st, l->v[i], &r, NULL)) != 0)
			return rc;
		r.version++;
		r.mtime_ms = wall_ms();
		r.val = NULL;
		r.len = 0;
		if ((rc = pso_apply(&r, 1, 0, NULL, NULL)) != 0)
			return rc;
		idl_add(push, r.id);
	}
	return 0;
}

static void
locks_reply_hook(struct pso_call *c, const uint8_t *p, size_t len)
{
	struct pso_m_lockent	*e;
	uint32_t		 n;
	int32_t			 rc;

	(void)c;
	/* On the loop thread, in order with later LOCKEV messages. */
	if (pso_m_lockents_dec(p, len, 0, &rc, &e, &n) < 0 || rc != 0)
		return;
	pso_lock_replace(e, n);
	free(e);
}

static int
sync_tail(uint64_t objects)
{
	struct pso_call		 c;
	struct pso_m_lockent	*e;
	uint32_t		 n;
	int32_t			 prc;
	int			 rc, arb;

	pthread_mutex_lock(&pso_g.mtx);
	arb = pso_g.arbiter;
	pthread_mutex_unlock(&pso_g.mtx);
	if (arb)		/* the authority keeps its own table */
		goto end;
	pso_call_init(&c, PSO_T_SYNC_LOCKS, pso_req_timeout());
	buf_add_u8(&c.req, PSO_MSG_FORMAT);
	c.on_reply = locks_reply_hook;
	if ((rc = call(&c)) == 0) {
		if (pso_m_lockents_dec(c.rep, c.replen, 0, &prc, &e, &n) < 0)
			rc = EPROTO;
		else {
			rc = prc;
			free(e);
		}
	}
	pso_call_free(&c);
	if (rc != 0)
		return rc;
end:
	pso_call_init(&c, PSO_T_SYNC_END, pso_req_timeout());
	pso_m_end_enc(&c.req, objects);
	if ((rc = call(&c)) == 0 && pso_m_rc_dec(c.rep, c.replen, &prc) == 0)
		rc = prc;
	else if (rc == 0)
		rc = EPROTO;
	pso_call_free(&c);
	return rc;
}

static int
resync(int booting, uint64_t peer_objects)
{
	struct local		loc = { NULL, 0, 0 };
	struct plan		pl;
	struct conflict_arg	ca;
	uint64_t		t0 = now_ms(), nf = 0, np = 0;
	int			rc;

	memset(&pl, 0, sizeof(pl));
	pl.booting = booting;
	pl.next_log = SYNC_PROGRESS;
	log_info("pso: resync with the peer (%llu objects there)%s",
	    (unsigned long long)peer_objects, booting ? ", booting" : "");
	if ((rc = pso_store_iter(pso_g.st, 0, local_one, &loc)) != 0)
		goto out;
	pl.total = MAX(loc.n, peer_objects);
	if ((rc = sync_digest(&pl, &loc)) != 0)
		goto out;
	if ((rc = sync_empty(&pl.empty, &pl.push)) != 0)
		goto out;
	if ((rc = sync_fetch(&pl.fetch, 0, &nf, &pl.push)) != 0 ||
	    (rc = sync_fetch(&pl.force, 1, &nf, &pl.push)) != 0)
		goto out;
	ca.push = &pl.push;
	ca.n = 0;
	if ((rc = sync_fetch_each(&pl.conflict, conflict_one, &ca)) != 0)
		goto out;
	if ((rc = sync_push(&pl.push, &np)) != 0)
		goto out;
	if ((rc = sync_tail(MAX(loc.n, peer_objects))) != 0)
		goto out;
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.conflicts += ca.n;
	pthread_mutex_unlock(&pso_g.mtx);
	log_info("pso: resync done: %llu objects compared, %llu fetched, "
	    "%llu pushed, %llu conflicts resolved in %llu ms",
	    (unsigned long long)pl.compared, (unsigned long long)nf,
	    (unsigned long long)np, (unsigned long long)ca.n,
	    (unsigned long long)(now_ms() - t0));
out:
	if (rc != 0)
		log_warnx("pso: resync failed: %s", pso_strerror(rc));
	free(loc.v);
	free(pl.fetch.v);
	free(pl.force.v);
	free(pl.push.v);
	free(pl.empty.v);
	free(pl.conflict.v);
	return rc;
}

static void
cold_start(const char *why)
{
	uint64_t	n = 0;
	int		rc;

	rc = pso_store_empty_volatile(pso_g.st, wall_ms(), &n);
	if (rc != 0)
		log_warnx("pso: cold start: emptying volatile objects: %s",
		    pso_strerror(rc));
	log_info("pso: cluster cold start (%s): %llu volatile objects "
	    "emptied", why, (unsigned long long)n);
}

static int
is_leader(int mode, uint8_t peer_mode, uint32_t peer_node)
{
	int me = mode == HA_OPMODE_MASTER, him = peer_mode == HA_OPMODE_MASTER;

	if (me != him)
		return me;
	return pso_g.self_node < peer_node;
}

static void
kick_cb(void *arg)
{
	(void)arg;
	pso_sync_kick();
}

static void
set_resyncing(int on)
{
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.resyncing = on;
	pthread_cond_broadcast(&pso_g.cond);
	pthread_mutex_unlock(&pso_g.mtx);
}

/* Resync from a serving peer; 0 when this head is synced now. */
static int
sync_from(int booting, int recover, uint64_t peer_objects)
{
	int rc;

	set_resyncing(1);
	/* A recovering store has nothing of this cluster life: booting. */
	rc = resync(booting || recover == PSO_RECOVER_DAMAGED ||
	    recover == PSO_RECOVER_LOST, peer_objects);
	if (rc == 0)
		rc = pso_mark_synced();
	if (rc == 0) {
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.resync_wanted = 0;
		pthread_mutex_unlock(&pso_g.mtx);
		pso_set_synced(0);
	}
	set_resyncing(0);
	return rc;
}

static void *
sync_main(void *arg)
{
	struct pso_call		c;
	struct pso_m_begin	m, r;
	int			running, link_up, alive, mode, booting, recover;
	int			done = 0, rc, again, pause = 500, said = 0;

	(void)arg;
	while (!done) {
		pthread_mutex_lock(&pso_g.mtx);
		running = pso_g.running;
		link_up = pso_g.link_up;
		alive = pso_g.peer_alive;
		mode = pso_g.mode;
		booting = pso_g.booting;
		recover = pso_g.recover;
		if (running && pso_g.sync == PSO_SYNC_NONE && !booting)
			pso_g.sync = PSO_SYNC_SYNCING;
		pthread_mutex_unlock(&pso_g.mtx);
		if (!running)
			break;
		if (!link_up) {
			if (recover) {
				/* only a serving peer can help */
				usleep(100000);
				continue;
			}
			if (!booting) {
				/* cut again: keep serving what we have */
				pso_set_synced(0);
				break;
			}
			if (!alive && mode == HA_OPMODE_MASTER) {
				cold_start("peer not up");
				pso_set_synced(1);
				break;
			}
			usleep(100000);
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.node = pso_g.self_node;
		m.opmode = (uint8_t)mode;
		m.booting = (uint8_t)booting;
		pso_call_init(&c, PSO_T_SYNC_BEGIN, pso_req_timeout());
		pso_m_begin_enc(&c.req, &m, 0);
		rc = call(&c);
		if (rc == 0 && pso_m_begin_dec(c.rep, c.replen, &r, 1) < 0)
			rc = EPROTO;
		if (rc == 0)
			rc = r.rc;
		pso_call_free(&c);
		if (rc != 0) {
			usleep(100000);
			continue;
		}
		if (r.serving) {
			if (sync_from(booting, recover, r.objects) == 0)
				done = 1;
			else {
				/* e.g. our disk still full: do not hammer */
				usleep((useconds_t)pause * 1000);
				pause = MIN(pause * 2, SYNC_BACKOFF_MS);
			}
		} else if (recover) {
			if (!said++)
				log_warnx("pso: this head's store is %s and the "
				    "peer does not serve: waiting for it (or "
				    "'duonas pso reset --confirm')", recover ==
				    PSO_RECOVER_BEHIND ? "behind" :
				    recover == PSO_RECOVER_LOST ? "lost" :
				    "damaged");
			usleep(200000);
		} else if (!booting) {
			/* the peer boots or recovers and will sync from us */
			pso_set_synced(0);
			done = 1;
		} else if (r.recovering || is_leader(mode, r.opmode, r.node)) {
			cold_start(r.recovering ? "the peer has lost its "
			    "store" : "both heads starting");
			pso_mark_synced();
			pso_set_synced(1);
			done = 1;
		} else
			usleep(200000);
	}
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.sync_thread = 0;
	/* a link cut may have asked for another round meanwhile */
	again = pso_g.running && pso_g.sync != PSO_SYNC_DONE;
	pthread_mutex_unlock(&pso_g.mtx);
	if (again)
		loop_call(kick_cb, NULL);
	return NULL;
}

void
pso_sync_kick(void)
{
	pthread_t	t;
	int		start;

	pthread_mutex_lock(&pso_g.mtx);
	start = pso_g.running && pso_g.sync != PSO_SYNC_DONE &&
	    !pso_g.sync_thread;
	if (start)
		pso_g.sync_thread = 1;
	pthread_mutex_unlock(&pso_g.mtx);
	if (!start)
		return;
	if (pthread_create(&t, NULL, sync_main, NULL) != 0) {
		log_warnx("pso: cannot start the sync thread");
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.sync_thread = 0;
		pthread_mutex_unlock(&pso_g.mtx);
		return;
	}
	pthread_detach(t);
}


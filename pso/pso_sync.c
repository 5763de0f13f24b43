/*
 * pso_sync.c — resynchronisation with the peer and the cluster cold start.
 *
 * A head that is not synced runs one sync thread (the LMDB work and the
 * waits stay off the loop thread).  It asks the peer whether it serves
 * (SYNC_BEGIN); if so it pulls the peer's digest — (id, version) pairs in
 * id order, 64 Ki per page — merges it with its own store, fetches the
 * records the peer has newer, pushes the ones it has newer, takes the
 * lock table and says SYNC_END.  When nobody serves, the leader (master,
 * else lower node id) starts the cluster cold: volatile values emptied.
 * The responder side (loop thread) answers from its store.  Merge rules
 * and formats: docs/pso.md, "Resync".  This file does not arbitrate
 * anything: the apply-if-newer rule in pso_store.c decides every record.
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
#define SYNC_FETCH_ROOM	(LINK_PAYLOAD_MAX - 4096)

/* ---- responder (loop thread) ---- */

static void
reply_rc(struct link_req *rq, int32_t rc)
{
	struct buf b;

	buf_init(&b);
	pso_m_rc_enc(&b, rc);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void
begin_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_m_begin	m, r;
	struct buf		b;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_begin_dec(p, len, &m, 0) < 0) {
		log_warnx("pso: malformed SYNC_BEGIN (%zu bytes)", len);
		reply_rc(rq, EPROTO);
		return;
	}
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&pso_g.mtx);
	/* Serving = holds this cluster life's data (synced once since
	 * start), even while re-checking after a link cut. */
	r.serving = pso_g.running && !pso_g.booting;
	r.opmode = (uint8_t)pso_g.mode;
	pthread_mutex_unlock(&pso_g.mtx);
	r.node = pso_g.self_node;
	if (pso_g.st)
		pso_store_count(pso_g.st, &r.objects);
	log_info("pso: peer asks to resync (%s), we %s", m.booting ?
	    "booting" : "after a link cut", r.serving ? "serve" : "do not "
	    "serve yet");
	buf_init(&b);
	pso_m_begin_enc(&b, &r, 1);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

struct dig_arg {
	struct buf	*b;
	uint32_t	 n, max;
	int		 more;
};

static int
dig_one(const struct pso_rec *r, void *arg)
{
	struct dig_arg *d = arg;

	if (d->n == d->max) {
		d->more = 1;
		return 1;
	}
	pso_m_digrep_add(d->b, r->id, r->version);
	d->n++;
	return 0;
}

static void
digest_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct dig_arg	d;
	struct buf	b;
	pso_id		after;
	uint32_t	max;
	int		rc;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_digreq_dec(p, len, &after, &max) < 0) {
		reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_m_digrep_start(&b, 0);
	memset(&d, 0, sizeof(d));
	d.b = &b;
	d.max = MIN(MAX(max, 1), PSO_DIGEST_MAX);
	rc = pso_g.st ? pso_store_iter(pso_g.st, after, dig_one, &d) :
	    PSO_SHUTDOWN;
	if (rc != 0 && rc != 1) {
		buf_reset(&b);
		pso_m_digrep_start(&b, rc);
		d.n = 0;
		d.more = 0;
	}
	pso_m_digrep_finish(&b, d.more, d.n);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void
fetch_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_rec	 r;
	struct buf	 b;
	pso_id		*ids;
	uint32_t	 i, n, out = 0;
	void		*val;
	int		 rc = 0;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_ids_dec(p, len, &ids, &n) < 0 || n > PSO_FETCH_MAX) {
		reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_m_recs_start(&b, 1, 0);
	for (i = 0; i < n && pso_g.st; i++) {
		rc = pso_store_get(pso_g.st, ids[i], &r, &val);
		if (rc == PSO_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		if (b.len + pso_rec_msglen(&r) > SYNC_FETCH_ROOM) {
			free(val);
			break;		/* the requester asks for the rest */
		}
		pso_rec_encode(&b, &r, 1);
		free(val);
		out++;
	}
	if (rc != 0) {
		buf_reset(&b);
		pso_m_recs_start(&b, 1, rc);
		out = 0;
	}
	pso_m_recs_finish(&b, 1, out);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
	free(ids);
}

static void
locks_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct buf b;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (len != 1 || p[0] != PSO_MSG_FORMAT) {
		reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_lock_snapshot(&b);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void
end_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	uint64_t n;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_end_dec(p, len, &n) < 0) {
		reply_rc(rq, EPROTO);
		return;
	}
	log_info("pso: peer resynced (%llu objects)", (unsigned long long)n);
	reply_rc(rq, 0);
}

/* ---- requester (sync thread) ---- */

struct lrec {
	pso_id		id;
	uint64_t	version;
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
	l->v[l->n].flags = r->flags;
	l->n++;
	return 0;
}

struct plan {
	struct idlist	fetch, force, push, empty;
	int		booting;
	uint64_t	compared, total, next_log;
};

static int
is_volatile_live(uint32_t flags)
{
	return !(flags & (PSO_PERSISTENT | PSO_F_DELETED));
}

static void
plan_both(struct plan *pl, const struct lrec *l, uint64_t rver)
{
	if (pl->booting && is_volatile_live(l->flags)) {
		/* our volatile value is from the cluster's previous life */
		if (rver != l->version)
			idl_add(&pl->force, l->id);
	} else if (rver > l->version)
		idl_add(&pl->fetch, l->id);
	else if (rver < l->version)
		idl_add(&pl->push, l->id);
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
				plan_both(pl, &loc->v[li++], g[i].version);
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

/* Fetch ids from the peer and apply them (force: whatever the version). */
static int
sync_fetch(const struct idlist *l, int force, uint64_t *nfetched)
{
	struct pso_call	 c;
	struct pso_rec	*r = NULL;
	size_t		 at = 0, cnt, k, next_log = SYNC_PROGRESS;
	uint32_t	 n;
	int32_t		 prc;
	int		 rc = 0, applied;

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
		rc = pso_store_apply(pso_g.st, r, (int)n, force, &applied);
		*nfetched += (uint64_t)applied;
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
		pso_rec_encode(&c.req, &r, 1);
		free(val);
		n++;
		(*npushed)++;
	}
	if (rc == 0)
		rc = sync_push_flush(&c, n);
	pso_call_free(&c);
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
		if ((rc = pso_store_apply(pso_g.st, &r, 1, 0, NULL)) != 0)
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
	int			 rc;

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
	struct local	loc = { NULL, 0, 0 };
	struct plan	pl;
	uint64_t	t0 = now_ms(), nf = 0, np = 0;
	int		rc;

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
	if ((rc = sync_fetch(&pl.fetch, 0, &nf)) != 0 ||
	    (rc = sync_fetch(&pl.force, 1, &nf)) != 0)
		goto out;
	if ((rc = sync_push(&pl.push, &np)) != 0)
		goto out;
	if ((rc = sync_tail(MAX(loc.n, peer_objects))) != 0)
		goto out;
	log_info("pso: resync done: %llu objects compared, %llu fetched, "
	    "%llu pushed in %llu ms", (unsigned long long)pl.compared,
	    (unsigned long long)nf, (unsigned long long)np,
	    (unsigned long long)(now_ms() - t0));
out:
	if (rc != 0)
		log_warnx("pso: resync failed: %s", pso_strerror(rc));
	free(loc.v);
	free(pl.fetch.v);
	free(pl.force.v);
	free(pl.push.v);
	free(pl.empty.v);
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

static void *
sync_main(void *arg)
{
	struct pso_call		c;
	struct pso_m_begin	m, r;
	int			running, link_up, alive, mode, booting;
	int			done = 0, rc, again;

	(void)arg;
	while (!done) {
		pthread_mutex_lock(&pso_g.mtx);
		running = pso_g.running;
		link_up = pso_g.link_up;
		alive = pso_g.peer_alive;
		mode = pso_g.mode;
		booting = pso_g.booting;
		if (running && pso_g.sync == PSO_SYNC_NONE && !booting)
			pso_g.sync = PSO_SYNC_SYNCING;
		pthread_mutex_unlock(&pso_g.mtx);
		if (!running)
			break;
		if (!link_up) {
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
			if (resync(booting, r.objects) == 0) {
				pso_set_synced(0);
				done = 1;
			} else
				usleep(500000);
		} else if (!booting) {
			/* the peer boots and will sync from us */
			pso_set_synced(0);
			done = 1;
		} else if (is_leader(mode, r.opmode, r.node)) {
			cold_start("both heads starting");
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

void
pso_sync_init(void)
{
	link_register(PSO_T_SYNC_BEGIN, begin_cb, NULL);
	link_register(PSO_T_SYNC_DIGEST, digest_cb, NULL);
	link_register(PSO_T_SYNC_FETCH, fetch_cb, NULL);
	link_register(PSO_T_SYNC_LOCKS, locks_cb, NULL);
	link_register(PSO_T_SYNC_END, end_cb, NULL);
}

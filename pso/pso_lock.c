/*
 * pso_lock.c — cluster-wide exclusive locks: the lock table, the arbiter
 * (the head in master opmode) and lock/unlock requests from callers.
 *
 * The table (id -> holder, FIFO of waiters) lives on the loop thread; its
 * holder fields are also read by worker threads (write checks, read/list
 * info), so every change is made under pso_g.mtx.  The arbiter grants,
 * queues (each waiter has a deadline timer) and releases, and sends every
 * grant/release to the peer (LOCKEV) so the peer's copy is current when
 * it has to take over.  A caller's request ("lkop") goes to the local
 * arbiter or over the link; when no arbiter is reachable it polls every
 * 20 ms until its deadline.  Failover handling (release a dead head's
 * locks, re-drive requests sent to a dead arbiter with the retry flag) is
 * here too.  Waiters are not persisted: a restarted head has no locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pso/pso_int.h"

#define LK_BUCKETS	65536
#define LK_POLL_MS	20

struct lkop;

struct waiter {
	TAILQ_ENTRY(waiter)	 e;
	struct lk		*lk;
	uint32_t		 node;
	uint64_t		 owner;
	struct event		*timer;
	struct lkop		*op;	/* local caller, or */
	struct link_req		*rq;	/* remote request */
};

struct lk {
	struct lk		*next;
	pso_id			 id;
	uint32_t		 node;	/* holder, 0 = free */
	uint64_t		 owner;
	uint64_t		 last_version;
	TAILQ_HEAD(, waiter)	 waiters;
	int			 nwaiters;
};

/* Per in-flight link request, so an abandoned op's late reply is harmless. */
struct lkreq {
	struct lkop		*op;
	LIST_ENTRY(lkreq)	 e;
};

struct lkop {
	pso_id			 id;
	uint64_t		 owner;
	int			 unlock;
	int			 timeout_ms;
	uint64_t		 deadline_us;	/* lock: grant deadline */
	uint64_t		 give_up_us;	/* no arbiter reachable */
	int			 retry;
	int			 reached;	/* an arbiter answered */
	struct event		*timer;
	struct waiter		*w;		/* queued at the local arbiter */
	struct lkreq		*req;		/* in flight to the peer */
	struct loop_wait	 wait;
};

static struct lk		**lk_tab;
static uint64_t			  lk_held, lk_waiting;
static LIST_HEAD(, lkreq)	  lk_inflight = LIST_HEAD_INITIALIZER(lk_inflight);

static void	lk_drive(struct lkop *);
static void	lk_park(struct lkop *, int ms);

static struct lk **
lk_slot(pso_id id)
{
	struct lk **pp = &lk_tab[(id ^ (id >> 29)) % LK_BUCKETS];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static struct lk *
lk_find(pso_id id)
{
	return lk_tab ? *lk_slot(id) : NULL;
}

/* mtx held */
static struct lk *
lk_get(pso_id id)
{
	struct lk **pp = lk_slot(id), *l;

	if ((l = *pp) != NULL)
		return l;
	l = xcalloc(1, sizeof(*l));
	l->id = id;
	TAILQ_INIT(&l->waiters);
	*pp = l;
	return l;
}

/* mtx held: free an entry nobody holds or waits for. */
static void
lk_gc(struct lk *l)
{
	struct lk **pp;

	if (l->node != 0 || l->nwaiters != 0)
		return;
	pp = lk_slot(l->id);
	*pp = l->next;
	free(l);
}

static void
lk_set_holder(struct lk *l, uint32_t node, uint64_t owner)
{
	if (l->node == 0 && node != 0)
		lk_held++;
	else if (l->node != 0 && node == 0)
		lk_held--;
	if (l->node != node || l->owner != owner)
		l->last_version = 0;
	l->node = node;
	l->owner = owner;
}

void
pso_lock_init(void)
{
	lk_tab = xcalloc(LK_BUCKETS, sizeof(*lk_tab));
	lk_held = lk_waiting = 0;
}

int
pso_lock_holder(pso_id id, uint32_t *node, uint64_t *owner)
{
	struct lk *l = lk_find(id);

	*node = 0;
	*owner = 0;
	if (l == NULL || l->node == 0)
		return PSO_NOTFOUND;
	*node = l->node;
	*owner = l->owner;
	return 0;
}

int
pso_lock_next_version(pso_id id, uint64_t owner, uint64_t above,
    uint64_t *version)
{
	struct lk *l = lk_find(id);

	if (l == NULL || l->node != pso_g.self_node || l->owner != owner)
		return PSO_NOTLOCKED;
	*version = MAX(above, l->last_version) + 1;
	l->last_version = *version;
	return 0;
}

uint64_t
pso_lock_count(uint64_t *waiters)
{
	*waiters = lk_waiting;
	return lk_held;
}

/* ---- replication of the table ---- */

static void
lockev_send(uint8_t op, pso_id id, uint32_t node, uint64_t owner)
{
	struct pso_m_lockent	e = { op, id, node, owner };
	struct buf		b;

	if (!pso_g.link_up)
		return;
	buf_init(&b);
	pso_m_lockents_enc(&b, &e, 1, 1, 0);
	link_send(PSO_T_LOCKEV, b.data, b.len);
	buf_free(&b);
}

static void
lockev_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_m_lockent	*e;
	struct lk		*l;
	uint32_t		 i, n;
	int32_t			 rc;

	(void)type; (void)arg;
	if (rq != NULL) {
		link_reply(rq, NULL, 0);
		return;
	}
	if (pso_m_lockents_dec(p, len, 1, &rc, &e, &n) < 0) {
		log_warnx("pso: malformed LOCKEV (%zu bytes) dropped", len);
		return;
	}
	pthread_mutex_lock(&pso_g.mtx);
	if (pso_g.arbiter) {
		pthread_mutex_unlock(&pso_g.mtx);
		log_warnx("pso: LOCKEV from the peer while arbiter: ignored");
		free(e);
		return;
	}
	for (i = 0; i < n; i++) {
		l = lk_get(e[i].id);
		if (e[i].op == PSO_LOCKEV_GRANT)
			lk_set_holder(l, e[i].node, e[i].owner);
		else if (l->node == e[i].node && l->owner == e[i].owner)
			lk_set_holder(l, 0, 0);
		lk_gc(l);
	}
	pthread_mutex_unlock(&pso_g.mtx);
	free(e);
}

void
pso_lock_snapshot(struct buf *out)
{
	struct pso_m_lockent	*e;
	struct lk		*l;
	uint32_t		 n = 0, cap = 64;
	size_t			 i;

	e = xcalloc(cap, sizeof(*e));
	pthread_mutex_lock(&pso_g.mtx);
	for (i = 0; i < LK_BUCKETS; i++)
		for (l = lk_tab[i]; l; l = l->next) {
			if (l->node == 0)
				continue;
			if (n == cap) {
				cap *= 2;
				e = xrealloc(e, cap * sizeof(*e));
			}
			e[n].id = l->id;
			e[n].node = l->node;
			e[n].owner = l->owner;
			n++;
		}
	pthread_mutex_unlock(&pso_g.mtx);
	pso_m_lockents_enc(out, e, n, 0, 0);
	free(e);
}

void
pso_lock_replace(const struct pso_m_lockent *e, uint32_t n)
{
	struct lk	*l, *next;
	size_t		 i;

	pthread_mutex_lock(&pso_g.mtx);
	for (i = 0; i < LK_BUCKETS; i++)
		for (l = lk_tab[i]; l; l = next) {
			next = l->next;
			lk_set_holder(l, 0, 0);
			lk_gc(l);
		}
	for (i = 0; i < n; i++)
		lk_set_holder(lk_get(e[i].id), e[i].node, e[i].owner);
	pthread_mutex_unlock(&pso_g.mtx);
	log_info("pso: lock table from peer: %u locks held", n);
}

/* ---- arbiter ---- */

static void
lkop_done(struct lkop *op, int rc)
{
	if (op->timer) {
		event_free(op->timer);
		op->timer = NULL;
	}
	if (op->req) {
		op->req->op = NULL;	/* the reply, if any, is ignored */
		op->req = NULL;
	}
	loop_wait_done(&op->wait, rc);
}

void
pso_reply_rc(struct link_req *rq, int32_t rc)
{
	struct buf b;

	buf_init(&b);
	pso_m_rc_enc(&b, rc);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

/* mtx held: take w off its queue and free it (not completed). */
static void
waiter_unlink(struct waiter *w)
{
	struct lk *l = w->lk;

	TAILQ_REMOVE(&l->waiters, w, e);
	l->nwaiters--;
	lk_waiting--;
	if (w->timer)
		event_free(w->timer);
	if (w->op)
		w->op->w = NULL;
	free(w);
}

static void
arb_grant(struct lk *l, uint32_t node, uint64_t owner)
{
	lk_set_holder(l, node, owner);
	pso_g.lock_grants++;
	lockev_send(PSO_LOCKEV_GRANT, l->id, node, owner);
}

/* mtx held on entry and exit: release l and hand it to the next waiter. */
static void
arb_release(struct lk *l)
{
	struct waiter	*w;
	struct lkop	*op;
	struct link_req	*rq;

	lockev_send(PSO_LOCKEV_RELEASE, l->id, l->node, l->owner);
	lk_set_holder(l, 0, 0);
	if ((w = TAILQ_FIRST(&l->waiters)) != NULL) {
		arb_grant(l, w->node, w->owner);
		op = w->op;
		rq = w->rq;
		waiter_unlink(w);
		if (op) {
			op->reached = 1;
			lkop_done(op, 0);
		} else if (rq)
			pso_reply_rc(rq, 0);
	}
	lk_gc(l);
}

static void
waiter_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct waiter	*w = arg;
	struct lkop	*op = w->op;
	struct link_req	*rq = w->rq;
	struct lk	*l = w->lk;

	(void)fd; (void)ev;
	pthread_mutex_lock(&pso_g.mtx);
	waiter_unlink(w);
	lk_gc(l);
	pso_g.lock_timeouts++;
	pthread_mutex_unlock(&pso_g.mtx);
	if (op) {
		op->reached = 1;
		lkop_done(op, PSO_TIMEDOUT);
	} else if (rq)
		pso_reply_rc(rq, PSO_TIMEDOUT);
}

/*
 * A lock request at the arbiter, from this head (op) or the peer (rq).
 * Completes now, or queues a waiter that completes on grant or timeout.
 */
static void
arb_lock(pso_id id, uint32_t node, uint64_t owner, int timeout_ms, int retry,
    struct lkop *op, struct link_req *rq)
{
	struct waiter	*w, *old;
	struct lk	*l;
	struct timeval	 tv;
	int		 rc;

	pthread_mutex_lock(&pso_g.mtx);
	l = lk_get(id);
	if (l->node == node && l->owner == owner) {
		rc = retry ? 0 : PSO_LOCKHELD;
	} else if (l->node == 0 && TAILQ_EMPTY(&l->waiters)) {
		arb_grant(l, node, owner);
		rc = 0;
	} else if (timeout_ms == 0) {
		pso_g.lock_contended++;
		pso_g.lock_timeouts++;
		rc = PSO_TIMEDOUT;
	} else {
		/* A retried request replaces its earlier self in the queue. */
		TAILQ_FOREACH(old, &l->waiters, e)
			if (old->node == node && old->owner == owner)
				break;
		if (old != NULL) {
			if (old->rq)
				pso_reply_rc(old->rq, PSO_TIMEDOUT);
			old->rq = NULL;
			if (old->op) {
				struct lkop *oop = old->op;

				waiter_unlink(old);
				lkop_done(oop, PSO_TIMEDOUT);
			} else
				waiter_unlink(old);
		}
		w = xcalloc(1, sizeof(*w));
		w->lk = l;
		w->node = node;
		w->owner = owner;
		w->op = op;
		w->rq = rq;
		w->timer = evtimer_new(loop_base(), waiter_timer_cb, w);
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		evtimer_add(w->timer, &tv);
		TAILQ_INSERT_TAIL(&l->waiters, w, e);
		l->nwaiters++;
		lk_waiting++;
		pso_g.lock_contended++;
		if (op)
			op->w = w;
		pthread_mutex_unlock(&pso_g.mtx);
		return;
	}
	lk_gc(l);
	pthread_mutex_unlock(&pso_g.mtx);
	if (op) {
		op->reached = 1;
		lkop_done(op, rc);
	} else
		pso_reply_rc(rq, rc);
}

/* Unlock at the arbiter; retry: a repeated request that already won. */
static int
arb_unlock(pso_id id, uint32_t node, uint64_t owner, int retry, int cancel)
{
	struct waiter	*w;
	struct lk	*l;
	int		 rc = 0;

	pthread_mutex_lock(&pso_g.mtx);
	if ((l = lk_find(id)) == NULL) {
		rc = retry || cancel ? 0 : PSO_NOTLOCKED;
		goto out;
	}
	if (cancel) {
		TAILQ_FOREACH(w, &l->waiters, e)
			if (w->node == node && w->owner == owner)
				break;
		if (w != NULL) {
			if (w->rq)
				pso_reply_rc(w->rq, PSO_TIMEDOUT);
			w->rq = NULL;
			waiter_unlink(w);
		}
	}
	if (l->node == node && l->owner == owner)
		arb_release(l);
	else if (!retry && !cancel)
		rc = PSO_NOTLOCKED;
	else
		lk_gc(l);
out:
	pthread_mutex_unlock(&pso_g.mtx);
	return rc;
}

/* LOCK / UNLOCK / CANCEL from the peer. */
static void
lockreq_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_m_lock	m;
	int			rc;

	(void)arg;
	if (pso_m_lock_dec(p, len, &m, type == PSO_T_LOCK) < 0 || m.id == 0 ||
	    m.node != pso_g.peer_node) {
		log_warnx("pso: malformed lock message type %u (%zu bytes)",
		    type, len);
		if (rq)
			pso_reply_rc(rq, EPROTO);
		return;
	}
	if (!pso_g.arbiter) {
		if (type == PSO_T_CANCEL) {
			/* A cancel arriving after the role moved: our copy. */
			return;
		}
		if (rq)
			pso_reply_rc(rq, PSO_NOTREADY);
		return;
	}
	switch (type) {
	case PSO_T_LOCK:
		if (rq == NULL)
			return;
		if (m.timeout_ms < 0)
			m.timeout_ms = 0;
		arb_lock(m.id, m.node, m.owner, m.timeout_ms, m.retry, NULL, rq);
		break;
	case PSO_T_UNLOCK:
		rc = arb_unlock(m.id, m.node, m.owner, m.retry, 0);
		if (rq)
			pso_reply_rc(rq, rc);
		break;
	case PSO_T_CANCEL:
		arb_unlock(m.id, m.node, m.owner, 1, 1);
		if (rq)
			pso_reply_rc(rq, 0);
		break;
	}
}

/* ---- requests from this head's callers ---- */

static void
lk_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	lk_drive(arg);
}

static void
lk_park(struct lkop *op, int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	evtimer_add(op->timer, &tv);
}

static void
lk_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct lkreq	*req = arg;
	struct lkop	*op = req->op;
	struct lk	*l;
	int32_t		 rc;

	LIST_REMOVE(req, e);
	free(req);
	if (op == NULL)
		return;		/* abandoned (failover); already re-driven */
	op->req = NULL;
	if (status != 0) {
		/* The arbiter may have acted on it: from now on a repeated
		 * request must not be refused as LOCKHELD / NOTLOCKED. */
		op->retry = 1;
		lk_park(op, LK_POLL_MS);
		return;
	}
	if (pso_m_rc_dec(p, len, &rc) < 0) {
		log_warnx("pso: malformed lock reply (%zu bytes)", len);
		lkop_done(op, EPROTO);
		return;
	}
	if (rc == PSO_NOTREADY) {	/* peer is not (yet) the arbiter */
		lk_park(op, LK_POLL_MS);
		return;
	}
	op->reached = 1;
	if (op->unlock && op->retry && rc == PSO_NOTLOCKED)
		rc = 0;		/* the lost first attempt did it */
	if (rc == 0) {
		pthread_mutex_lock(&pso_g.mtx);
		l = lk_get(op->id);
		if (!op->unlock)
			lk_set_holder(l, pso_g.self_node, op->owner);
		else if (l->node == pso_g.self_node && l->owner == op->owner)
			lk_set_holder(l, 0, 0);
		lk_gc(l);
		pthread_mutex_unlock(&pso_g.mtx);
	}
	lkop_done(op, rc);
}

static void
lk_send_cancel(struct lkop *op)
{
	struct pso_m_lock	m = { op->id, pso_g.self_node, op->owner, 0, 0 };
	struct buf		b;

	if (!pso_g.link_up)
		return;
	buf_init(&b);
	pso_m_lock_enc(&b, &m, 0);
	link_send(PSO_T_CANCEL, b.data, b.len);
	buf_free(&b);
}

static void
lk_drive(struct lkop *op)
{
	struct pso_m_lock	 m;
	struct lkreq		*req;
	struct buf		 b;
	uint64_t		 now = now_us();
	int			 rc, left_ms;

	if (!pso_g.running) {
		lkop_done(op, PSO_SHUTDOWN);
		return;
	}
	if (now >= op->give_up_us) {
		if (op->retry && !op->unlock)
			lk_send_cancel(op);
		lkop_done(op, op->unlock || !op->reached ? PSO_NOTREADY :
		    PSO_TIMEDOUT);
		return;
	}
	left_ms = op->deadline_us > now ?
	    (int)((op->deadline_us - now + 999) / 1000) : 0;
	if (op->timeout_ms == 0)
		left_ms = 0;
	if (pso_g.arbiter) {
		if (op->unlock) {
			rc = arb_unlock(op->id, pso_g.self_node, op->owner,
			    op->retry, 0);
			lkop_done(op, rc);
		} else
			arb_lock(op->id, pso_g.self_node, op->owner, left_ms,
			    op->retry, op, NULL);
		return;
	}
	if (!pso_g.link_up) {
		lk_park(op, LK_POLL_MS);
		return;
	}
	m.id = op->id;
	m.node = pso_g.self_node;
	m.owner = op->owner;
	m.timeout_ms = left_ms;
	m.retry = (uint8_t)op->retry;
	req = xcalloc(1, sizeof(*req));
	req->op = op;
	op->req = req;
	LIST_INSERT_HEAD(&lk_inflight, req, e);
	buf_init(&b);
	pso_m_lock_enc(&b, &m, !op->unlock);
	link_request(op->unlock ? PSO_T_UNLOCK : PSO_T_LOCK, b.data, b.len,
	    left_ms + pso_req_timeout(), lk_reply_cb, req);
	buf_free(&b);
}

static void
lk_start(void *arg)
{
	struct lkop *op = arg;

	op->timer = evtimer_new(loop_base(), lk_timer_cb, op);
	lk_drive(op);
}

int
pso_lock_do(pso_id id, uint64_t owner, int timeout_ms, int unlock)
{
	struct lkop	op;
	uint64_t	now = now_us();
	int		rc;

	memset(&op, 0, sizeof(op));
	op.id = id;
	op.owner = owner;
	op.unlock = unlock;
	if (timeout_ms < 0)
		timeout_ms = pso_g.cfg->pso_lock_timeout_ms;
	op.timeout_ms = unlock ? pso_req_timeout() : timeout_ms;
	op.deadline_us = now + (uint64_t)op.timeout_ms * 1000;
	op.give_up_us = now + (uint64_t)MAX(op.timeout_ms, pso_req_timeout()) *
	    1000;
	loop_wait_init(&op.wait);
	loop_call(lk_start, &op);
	rc = loop_wait(&op.wait);
	loop_wait_destroy(&op.wait);
	return rc;
}

/* ---- failover ---- */

/* Release every lock of the peer and drop its waiters (it died or
 * restarted); on the arbiter that hands locks to the next waiters. */
static void
lk_purge_peer(void)
{
	struct waiter	*w, *wn;
	struct lk	*l, *next;
	size_t		 i;
	int		 nl = 0, nw = 0;

	pthread_mutex_lock(&pso_g.mtx);
	for (i = 0; i < LK_BUCKETS; i++)
		for (l = lk_tab[i]; l; l = next) {
			next = l->next;
			for (w = TAILQ_FIRST(&l->waiters); w; w = wn) {
				wn = TAILQ_NEXT(w, e);
				if (w->node != pso_g.peer_node)
					continue;
				if (w->rq)
					pso_reply_rc(w->rq, PSO_SHUTDOWN);
				waiter_unlink(w);
				nw++;
			}
			if (l->node == pso_g.peer_node) {
				nl++;
				if (pso_g.arbiter)
					arb_release(l);
				else {
					lk_set_holder(l, 0, 0);
					lk_gc(l);
				}
			} else
				lk_gc(l);
		}
	pthread_mutex_unlock(&pso_g.mtx);
	if (nl || nw)
		log_info("pso: released %d locks and %d waiters of the peer",
		    nl, nw);
}

/* Requests in flight to the peer will never be answered: retry them
 * (retry flag set: the dead arbiter may have granted them already). */
static void
lk_abandon_inflight(void)
{
	struct lkreq	*req;
	struct lkop	*op;

	LIST_FOREACH(req, &lk_inflight, e) {
		if ((op = req->op) == NULL)
			continue;
		req->op = NULL;
		op->req = NULL;
		op->retry = 1;
		lk_park(op, 1);
	}
}

/* This head stopped arbitrating while the peer lives: remote waiters
 * retry at the new arbiter, local ones are sent there. */
static void
lk_drop_waiters(void)
{
	struct waiter	*w, *wn;
	struct lk	*l, *next;
	struct lkop	*op;
	size_t		 i;

	pthread_mutex_lock(&pso_g.mtx);
	for (i = 0; i < LK_BUCKETS; i++)
		for (l = lk_tab[i]; l; l = next) {
			next = l->next;
			for (w = TAILQ_FIRST(&l->waiters); w; w = wn) {
				wn = TAILQ_NEXT(w, e);
				op = w->op;
				if (w->rq)
					pso_reply_rc(w->rq, PSO_NOTREADY);
				waiter_unlink(w);
				if (op)
					lk_park(op, 1);
			}
			lk_gc(l);
		}
	pthread_mutex_unlock(&pso_g.mtx);
}

void
pso_lock_state_changed(int was_arbiter, int peer_lost)
{
	if (peer_lost) {
		lk_purge_peer();
		lk_abandon_inflight();
	}
	if (was_arbiter && !pso_g.arbiter)
		lk_drop_waiters();
}

void
pso_lock_peer_restarted(void)
{
	lk_purge_peer();
}

void
pso_lock_fini(void)
{
	struct waiter	*w;
	struct lkop	*op;
	struct link_req	*rq;
	struct lk	*l, *next;
	size_t		 i;

	if (lk_tab == NULL)
		return;
	pthread_mutex_lock(&pso_g.mtx);
	for (i = 0; i < LK_BUCKETS; i++) {
		for (l = lk_tab[i]; l; l = next) {
			next = l->next;
			while ((w = TAILQ_FIRST(&l->waiters)) != NULL) {
				op = w->op;
				rq = w->rq;
				waiter_unlink(w);
				if (op)
					lkop_done(op, PSO_SHUTDOWN);
				else if (rq)
					pso_reply_rc(rq, PSO_SHUTDOWN);
			}
			free(l);
		}
		lk_tab[i] = NULL;
	}
	lk_held = lk_waiting = 0;
	pthread_mutex_unlock(&pso_g.mtx);
}

void
pso_lock_register(void)
{
	link_register(PSO_T_LOCK, lockreq_cb, NULL);
	link_register(PSO_T_UNLOCK, lockreq_cb, NULL);
	link_register(PSO_T_CANCEL, lockreq_cb, NULL);
	link_register(PSO_T_LOCKEV, lockev_cb, NULL);
}

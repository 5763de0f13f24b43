/*
 * link.c — the public side of the remote node link (link.h): handler
 * registry and dispatch, request/reply with ids and timeouts, re-sending
 * requests whose connection died, the receiver's cache of recent replies
 * (so a re-sent request is answered without running its handler twice),
 * the choice of the best path, peer up/down notification and status.
 *
 * Outgoing requests live in a hash by req_id until their reply, timeout
 * or link_shutdown(); each remembers the connection (serial) it went out
 * on, and conn.c tells us when a connection is lost.  State callbacks are
 * deferred to their own event so no callback ever runs inside a link_*
 * call.  Sockets, HELLO and the path state machine are in conn.c; the
 * byte format is in frame.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/loop.h"
#include "link/link.h"
#include "link/link_int.h"

#define LK_REQ_BUCKETS		1024
#define LK_RC_SIZE		1024		/* reply cache entries */
#define LK_RC_BYTES		(32u << 20)
#define LK_RC_ENTRY_MAX		(4u << 20)
#define LK_MAX_STATE_CBS	16
#define LK_DEFAULT_TIMEOUT_MS	5000
#define LK_TYPE_USER_FIRST	16

/* An outgoing request waiting for its reply. */
struct lk_preq {
	uint64_t	 id;
	uint8_t		 type;
	uint8_t		*payload;
	size_t		 len;
	link_reply_cb	 cb;
	void		*arg;
	struct event	*tmo;
	int		 fail_status;	/* deferred local error, or 0 */
	int		 ever_sent;
	uint64_t	 sent_serial;	/* connection it is in flight on */
	struct lk_preq	*hnext;
};

/* An incoming request handed to a handler. */
struct link_req {
	uint64_t	id;
	uint8_t		type;
	int		path;
	uint64_t	gen;		/* link instance */
	uint64_t	rc_epoch;	/* reply cache generation */
};

/* Reply cache entry (receiver side). */
enum { RC_FREE, RC_BUSY, RC_DONE };
struct lk_rc {
	uint64_t	 id;
	int		 state;
	uint8_t		*reply;
	size_t		 len;
	int		 hnext;		/* index, -1 ends the chain */
};

static struct {
	link_msg_cb	cb;
	void		*arg;
} handlers[LINK_T_MAX + 1];

static struct {
	link_state_cb	cb;
	void		*arg;
} state_cbs[LK_MAX_STATE_CBS];
static int nstate_cbs;

static struct cfg	 cfg_copy;
static uint64_t		 link_gen;
static uint64_t		 next_req_id;
static struct lk_preq	*reqs[LK_REQ_BUCKETS];
static int		 best = -1;
static int		 peer_up;
static uint64_t		 peer_boot;
static int		 notified_up;
static uint64_t		 notified_boot;
static struct event	*state_ev;

static struct lk_rc	 rc[LK_RC_SIZE];
static int		 rc_bucket[LK_RC_SIZE];
static int		 rc_next;
static size_t		 rc_bytes;
static uint64_t		 rc_epoch;

/* ---- reply cache ---- */

static void
rc_clear(void)
{
	int i;

	for (i = 0; i < LK_RC_SIZE; i++) {
		free(rc[i].reply);
		memset(&rc[i], 0, sizeof(rc[i]));
		rc[i].hnext = -1;
		rc_bucket[i] = -1;
	}
	rc_next = 0;
	rc_bytes = 0;
	rc_epoch++;
}

static int
rc_find(uint64_t id)
{
	int i;

	for (i = rc_bucket[id % LK_RC_SIZE]; i >= 0; i = rc[i].hnext)
		if (rc[i].id == id && rc[i].state != RC_FREE)
			return i;
	return -1;
}

static void
rc_evict(int i)
{
	int *pp;

	if (rc[i].state == RC_FREE)
		return;
	for (pp = &rc_bucket[rc[i].id % LK_RC_SIZE]; *pp >= 0;
	    pp = &rc[*pp].hnext)
		if (*pp == i) {
			*pp = rc[i].hnext;
			break;
		}
	rc_bytes -= rc[i].len;
	free(rc[i].reply);
	rc[i].reply = NULL;
	rc[i].len = 0;
	rc[i].state = RC_FREE;
	rc[i].hnext = -1;
}

static void
rc_insert(uint64_t id)
{
	int i = rc_next, *b = &rc_bucket[id % LK_RC_SIZE];

	rc_next = (rc_next + 1) % LK_RC_SIZE;
	rc_evict(i);
	rc[i].id = id;
	rc[i].state = RC_BUSY;
	rc[i].hnext = *b;
	*b = i;
}

/* ---- best path and peer state ---- */

static int
path_better(const struct lk_path *a, const struct lk_path *b)
{
	if (a->st.srtt_us && !b->st.srtt_us)
		return 1;
	if (!a->st.srtt_us && b->st.srtt_us)
		return 0;
	if (a->st.srtt_us != b->st.srtt_us)
		return a->st.srtt_us < b->st.srtt_us;
	return a->idx < b->idx;
}

static void	best_log(void);

static void
best_update(void)
{
	struct lk_path	*cand = NULL, *cur = NULL;
	uint64_t	 c, u;
	int		 i, old = best;

	for (i = 0; i < lk.npaths; i++)
		if (lk_path_usable(&lk.paths[i]) &&
		    (cand == NULL || path_better(&lk.paths[i], cand)))
			cand = &lk.paths[i];
	if (best >= 0 && lk_path_usable(&lk.paths[best]))
		cur = &lk.paths[best];
	if (cand == NULL)
		best = -1;
	else if (cur == NULL || cur == cand)
		best = cand->idx;
	else {
		/* Hysteresis: switch only for a clear gain. */
		c = cand->st.srtt_us;
		u = cur->st.srtt_us;
		if (c && (!u || (c * 4 < u * 3 && u - c >= 50)))
			best = cand->idx;
	}
	if (best != old && lk.running)
		best_log();
}

/*
 * Paths with nearly equal round trips can swap places every few pings:
 * the best path's changes are logged at most once per LK_BEST_LOG_MS
 * (log_flap), the line after a busy window carrying the count; the 1 s
 * timer logs a pending change when no path event comes.
 */
#define LK_BEST_LOG_MS	10000
static struct log_flap	 best_flap;
static struct event	*best_log_ev;
static const struct timeval best_log_tv = { 1, 0 };

static void
best_log(void)
{
	unsigned	n;
	uint64_t	now = now_ms();

	if (!log_flap_step(&best_flap, best, now, LK_BEST_LOG_MS, &n))
		return;
	if (n <= 1)
		log_info("link: best path is now %d%s", best_flap.shown,
		    best_flap.shown < 0 ? " (none established)" : "");
	else
		log_info("link: best path is now %d%s (%u changes in the "
		    "last %llu s)", best_flap.shown,
		    best_flap.shown < 0 ? " (none established)" : "", n,
		    (unsigned long long)(now - best_flap.since_ms + 999) /
		    1000);
}

static void
best_log_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (lk.running)
		best_log();
}

static struct lk_path *
best_path(void)
{
	if (best < 0 || !lk_path_usable(&lk.paths[best]))
		best_update();
	return best >= 0 ? &lk.paths[best] : NULL;
}

int
lk_best(void)
{
	struct lk_path *p = best_path();

	return p ? p->idx : -1;
}

static void
state_notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	int i;

	(void)fd; (void)ev; (void)arg;
	if (notified_up && (!peer_up || peer_boot != notified_boot)) {
		notified_up = 0;
		log_info("link: peer down (boot id %016llx)",
		    (unsigned long long)notified_boot);
		for (i = 0; i < nstate_cbs; i++)
			state_cbs[i].cb(0, 0, state_cbs[i].arg);
	}
	if (!notified_up && peer_up) {
		notified_up = 1;
		notified_boot = peer_boot;
		log_info("link: peer up (boot id %016llx)",
		    (unsigned long long)peer_boot);
		for (i = 0; i < nstate_cbs; i++)
			state_cbs[i].cb(1, peer_boot, state_cbs[i].arg);
	}
}

static void
peer_update(void)
{
	int i, up = 0;

	for (i = 0; i < lk.npaths; i++)
		if (lk_path_usable(&lk.paths[i]))
			up = 1;
	peer_up = up;
	if (state_ev && (peer_up != notified_up ||
	    (peer_up && peer_boot != notified_boot)))
		event_active(state_ev, EV_READ, 0);
}

/* ---- outgoing requests ---- */

static void
req_transmit(struct lk_preq *r)
{
	struct lk_path	*p;
	int		 tries;

	r->sent_serial = 0;
	/* A send that fails closes that path; try the next best. */
	for (tries = 0; tries <= lk.npaths; tries++) {
		if ((p = best_path()) == NULL)
			return;
		if (lk_path_send(p, r->type, LK_F_REQUEST, r->id, r->payload,
		    r->len) == 0) {
			r->sent_serial = lk_path_serial(p);
			r->ever_sent = 1;
			return;
		}
	}
}

static void
req_unlink(struct lk_preq *r)
{
	struct lk_preq **pp;

	for (pp = &reqs[r->id % LK_REQ_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == r) {
			*pp = r->hnext;
			return;
		}
}

static void
req_finish(struct lk_preq *r, int status, const uint8_t *pl, size_t len)
{
	req_unlink(r);
	event_free(r->tmo);
	r->cb(status, pl, len, r->arg);
	free(r->payload);
	free(r);
}

static void
req_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lk_preq *r = arg;

	(void)fd; (void)ev;
	req_finish(r, r->fail_status ? r->fail_status :
	    r->ever_sent ? ETIMEDOUT : ENOTCONN, NULL, 0);
}

static struct lk_preq *
req_find(uint64_t id)
{
	struct lk_preq *r;

	for (r = reqs[id % LK_REQ_BUCKETS]; r != NULL; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

/* Re-send requests in flight on a lost connection (serial), or, with
 * serial 0, the ones waiting for any path. */
static void
req_resend(uint64_t serial)
{
	struct lk_preq	*r;
	int		 i;

	for (i = 0; i < LK_REQ_BUCKETS; i++)
		for (r = reqs[i]; r != NULL; r = r->hnext)
			if (r->sent_serial == serial && r->fail_status == 0)
				req_transmit(r);
}

/* ---- callbacks from conn.c ---- */

void
lk_on_path_up(struct lk_path *p)
{
	int i;

	if (peer_up && p->peer_boot != peer_boot) {
		/* The peer restarted: paths to its old instance are stale. */
		log_warnx("link: peer boot id changed %016llx -> %016llx: "
		    "peer restarted", (unsigned long long)peer_boot,
		    (unsigned long long)p->peer_boot);
		for (i = 0; i < lk.npaths; i++)
			if (&lk.paths[i] != p &&
			    lk_path_usable(&lk.paths[i]) &&
			    lk.paths[i].peer_boot != p->peer_boot)
				lk_path_fsm(&lk.paths[i], LK_PE_FAIL);
	}
	if (!lk_path_usable(p))
		return;
	if (p->peer_boot != peer_boot) {
		/* Request ids are per boot of the requester. */
		rc_clear();
		peer_boot = p->peer_boot;
	}
	best_update();
	peer_update();
	req_resend(0);
}

void
lk_on_path_down(struct lk_path *p, uint64_t serial)
{
	(void)p;
	best_update();
	peer_update();
	req_resend(serial);
}

void
lk_on_rtt(struct lk_path *p)
{
	(void)p;
	best_update();
}

static void
dispatch_reply(struct lk_path *p, const struct lk_hdr *h,
    const uint8_t *pl)
{
	struct lk_preq *r = req_find(h->req_id);

	if (r == NULL || r->fail_status != 0) {
		lk_path_drop(p, LK_DROP_LATE, "reply %llu (type %u) matches "
		    "no pending request", (unsigned long long)h->req_id,
		    h->type);
		return;
	}
	if (r->type != h->type) {
		lk_path_drop(p, LK_DROP_PROTO, "reply %llu has type %u, "
		    "request had %u", (unsigned long long)h->req_id, h->type,
		    r->type);
		lk_path_fsm(p, LK_PE_FAIL);
		return;
	}
	req_finish(r, 0, pl, h->len);
}

/* Path of the message being delivered to a handler, -1 outside. */
static int	lk_rx_path = -1;

void
lk_on_frame(struct lk_path *p, const struct lk_hdr *h, const uint8_t *pl)
{
	struct link_req	*rq;
	int		 i;

	if (h->flags & LK_F_REPLY) {
		dispatch_reply(p, h, pl);
		return;
	}
	if (h->type < LK_TYPE_USER_FIRST || h->type > LINK_T_MAX ||
	    handlers[h->type].cb == NULL) {
		lk_path_drop(p, LK_DROP_TYPE, "type %u has no handler%s",
		    h->type, h->flags & LK_F_REQUEST ? " (request)" : "");
		return;
	}
	if (!(h->flags & LK_F_REQUEST)) {
		lk_rx_path = p->idx;
		handlers[h->type].cb(h->type, pl, h->len, NULL,
		    handlers[h->type].arg);
		lk_rx_path = -1;
		return;
	}
	if (h->req_id == 0) {
		lk_path_drop(p, LK_DROP_PROTO, "request of type %u without a "
		    "request id", h->type);
		lk_path_fsm(p, LK_PE_FAIL);
		return;
	}
	if ((i = rc_find(h->req_id)) >= 0) {
		/* A re-sent request: answer from the cache, never twice. */
		lk_path_drop(p, LK_DROP_DUP, "request %llu seen before%s",
		    (unsigned long long)h->req_id, rc[i].state == RC_DONE ?
		    ", cached reply re-sent" : ", still being handled");
		if (rc[i].state == RC_DONE)
			(void)lk_path_send(p, h->type, LK_F_REPLY, h->req_id,
			    rc[i].reply, rc[i].len);
		return;
	}
	rc_insert(h->req_id);
	rq = xcalloc(1, sizeof(*rq));
	rq->id = h->req_id;
	rq->type = h->type;
	rq->path = p->idx;
	rq->gen = link_gen;
	rq->rc_epoch = rc_epoch;
	lk_rx_path = p->idx;
	handlers[h->type].cb(h->type, pl, h->len, rq, handlers[h->type].arg);
	lk_rx_path = -1;
}

/* ---- public API ---- */

int
link_init(const struct cfg *cfg, int self_idx, const uint8_t *key,
    size_t keylen, uint64_t boot_id)
{
	const struct cfg_head	*self, *peer;
	struct lk_path		*p;
	int			 i;
	unsigned		 n;

	if (lk.running) {
		log_warnx("link: already initialised");
		return -1;
	}
	if (loop_base() == NULL) {
		log_warnx("link: loop_init() must come first");
		return -1;
	}
	if (cfg->nheads != 2 || self_idx < 0 || self_idx > 1) {
		log_warnx("link: need two heads and self index 0 or 1 "
		    "(have %d heads, index %d)", cfg->nheads, self_idx);
		return -1;
	}
	if (key == NULL || keylen == 0) {
		log_warnx("link: empty cluster key");
		return -1;
	}
	memcpy(&cfg_copy, cfg, sizeof(cfg_copy));
	self = &cfg_copy.heads[self_idx];
	peer = &cfg_copy.heads[1 - self_idx];
	if (self->id == peer->id) {
		log_warnx("link: both heads have node id %u", self->id);
		return -1;
	}
	/* Configurations built by hand (tests) may leave these at 0. */
	if (cfg_copy.link_ping_ms <= 0)
		cfg_copy.link_ping_ms = 100;
	if (cfg_copy.link_dead_ms <= 0)
		cfg_copy.link_dead_ms = 6 * cfg_copy.link_ping_ms;
	if (cfg_copy.link_reconnect_ms <= 0)
		cfg_copy.link_reconnect_ms = 200;
	memset(&lk, 0, sizeof(lk));
	lk.cfg = &cfg_copy;
	lk.self_idx = self_idx;
	lk.self_id = self->id;
	lk.peer_id = peer->id;
	lk.boot_id = boot_id;
	lk.npaths = MIN(self->nlinks, peer->nlinks);
	if (lk.npaths <= 0) {
		log_warnx("link: no link path: heads %s and %s need 'link' "
		    "addresses", self->name, peer->name);
		return -1;
	}
	if (self->nlinks != peer->nlinks)
		log_warnx("link: heads have %d and %d link addresses; using "
		    "%d paths", self->nlinks, peer->nlinks, lk.npaths);
	for (i = 0; i < lk.npaths; i++) {
		p = &lk.paths[i];
		p->idx = i;
		p->dialer = lk.self_id < lk.peer_id;
		p->state = LK_PS_IDLE;
		p->lfd = -1;
		p->local = &self->links[i];
		p->remote = &peer->links[i];
		p->st.since_ms = now_ms();
		if (p->local->ss.ss_family != p->remote->ss.ss_family) {
			log_warnx("link: path %d joins %s and %s: address "
			    "families differ", i, p->local->text,
			    p->remote->text);
			return -1;
		}
	}
	if (lk_key_init(&lk.ckey, key, keylen) < 0)
		return -1;
	state_ev = event_new(loop_base(), -1, 0, state_notify_cb, NULL);
	if (state_ev == NULL)
		fatalx("link: event_new failed");
	best_log_ev = event_new(loop_base(), -1, EV_PERSIST, best_log_cb,
	    NULL);
	if (best_log_ev == NULL)
		fatalx("link: event_new failed");
	evtimer_add(best_log_ev, &best_log_tv);
	/* starts at "none": the first path up is logged at once */
	memset(&best_flap, 0, sizeof(best_flap));
	(void)log_flap_step(&best_flap, -1, now_ms(), LK_BEST_LOG_MS, &n);
	link_gen++;
	rc_clear();
	best = -1;
	peer_up = notified_up = 0;
	peer_boot = notified_boot = 0;
	if (next_req_id == 0)
		next_req_id = 1;
	lk.running = 1;
	if (lk_paths_start() < 0) {
		link_shutdown();
		return -1;
	}
	log_info("link: node %u, %d path(s), %s", lk.self_id, lk.npaths,
	    lk.paths[0].dialer ? "dialing" : "accepting");
	return 0;
}

void
link_shutdown(void)
{
	struct lk_preq	*r;
	int		 i;

	if (!lk.running)
		return;
	lk.running = 0;
	link_gen++;
	for (i = 0; i < LK_REQ_BUCKETS; i++)
		while ((r = reqs[i]) != NULL)
			req_finish(r, ECANCELED, NULL, 0);
	lk_paths_stop();
	rc_clear();
	lk_key_free(&lk.ckey);
	if (state_ev)
		event_free(state_ev);
	state_ev = NULL;
	if (best_log_ev)
		event_free(best_log_ev);
	best_log_ev = NULL;
	best = -1;
	peer_up = notified_up = 0;
	peer_boot = notified_boot = 0;
}

void
link_register(uint8_t type, link_msg_cb cb, void *arg)
{
	if (type < LK_TYPE_USER_FIRST || type > LINK_T_MAX)
		fatalx("link: cannot register a handler for type %u", type);
	if (handlers[type].cb != NULL && cb != NULL)
		log_warnx("link: handler for type %u replaced", type);
	handlers[type].cb = cb;
	handlers[type].arg = arg;
}

void
link_on_state(link_state_cb cb, void *arg)
{
	if (nstate_cbs == LK_MAX_STATE_CBS)
		fatalx("link: too many state callbacks");
	state_cbs[nstate_cbs].cb = cb;
	state_cbs[nstate_cbs].arg = arg;
	nstate_cbs++;
}

static int
send_check(uint8_t type, size_t len)
{
	if (type < LK_TYPE_USER_FIRST || type > LINK_T_MAX) {
		log_warnx("link: cannot send type %u (reserved or out of "
		    "range)", type);
		return EINVAL;
	}
	if (len > LINK_PAYLOAD_MAX) {
		log_warnx("link: message of type %u is %zu bytes, over the "
		    "%u limit", type, len, LINK_PAYLOAD_MAX);
		return EMSGSIZE;
	}
	return 0;
}

int
link_send(uint8_t type, const void *payload, size_t len)
{
	struct lk_path	*p;
	int		 tries;

	if (!lk.running || send_check(type, len) != 0)
		return -1;
	for (tries = 0; tries <= lk.npaths; tries++) {
		if ((p = best_path()) == NULL)
			return -1;
		if (lk_path_send(p, type, 0, 0, payload, len) == 0)
			return 0;
	}
	return -1;
}

int
link_send_all(uint8_t type, const void *payload, size_t len)
{
	int i, n = 0;

	if (!lk.running || send_check(type, len) != 0)
		return 0;
	for (i = 0; i < lk.npaths; i++)
		if (lk_path_send(&lk.paths[i], type, 0, 0, payload, len) == 0)
			n++;
	return n;
}

void
link_request(uint8_t type, const void *payload, size_t len, int timeout_ms,
    link_reply_cb cb, void *arg)
{
	struct lk_preq	*r = xcalloc(1, sizeof(*r));
	struct timeval	 tv;

	if (loop_base() == NULL) {
		free(r);
		cb(ECANCELED, NULL, 0, arg);	/* called before loop_init */
		return;
	}
	if (timeout_ms <= 0)
		timeout_ms = LK_DEFAULT_TIMEOUT_MS;
	r->id = next_req_id++;
	r->type = type;
	r->cb = cb;
	r->arg = arg;
	if (!lk.running)
		r->fail_status = ECANCELED;
	else
		r->fail_status = send_check(type, len);
	if (r->fail_status == 0 && len > 0) {
		r->payload = xmalloc(len);
		memcpy(r->payload, payload, len);
		r->len = len;
	}
	/* Even a local error is reported from the loop, never from here. */
	if (r->fail_status != 0)
		timeout_ms = 0;
	r->tmo = evtimer_new(loop_base(), req_timeout_cb, r);
	if (r->tmo == NULL)
		fatalx("link: evtimer_new failed");
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(r->tmo, &tv);
	r->hnext = reqs[r->id % LK_REQ_BUCKETS];
	reqs[r->id % LK_REQ_BUCKETS] = r;
	if (r->fail_status == 0)
		req_transmit(r);
}

void
link_reply(struct link_req *rq, const void *payload, size_t len)
{
	struct lk_path	*p;
	int		 i, tries;

	if (rq == NULL)
		return;
	/* After a peer restart its request ids start again at 1: a late
	 * reply to its old instance could match a new request. */
	if (!lk.running || rq->gen != link_gen || rq->rc_epoch != rc_epoch)
		goto out;
	if (len > LINK_PAYLOAD_MAX) {
		log_warnx("link: reply to request %llu (type %u) is %zu bytes, "
		    "over the limit; not sent", (unsigned long long)rq->id,
		    rq->type, len);
		goto out;
	}
	if ((i = rc_find(rq->id)) >= 0) {
		if (len <= LK_RC_ENTRY_MAX && rc_bytes + len <= LK_RC_BYTES) {
			rc[i].state = RC_DONE;
			if (len) {
				rc[i].reply = xmalloc(len);
				memcpy(rc[i].reply, payload, len);
			}
			rc[i].len = len;
			rc_bytes += len;
		} else
			rc_evict(i);	/* a duplicate will run it again */
	}
	/* Prefer the path the request came in on. */
	p = &lk.paths[rq->path];
	for (tries = 0; tries <= lk.npaths; tries++) {
		if (!lk_path_usable(p) && (p = best_path()) == NULL)
			break;
		if (lk_path_send(p, rq->type, LK_F_REPLY, rq->id, payload,
		    len) == 0)
			break;
	}
out:
	free(rq);
}

int
link_peer_up(void)
{
	return lk.running && peer_up;
}

uint64_t
link_peer_boot_id(void)
{
	return link_peer_up() ? peer_boot : 0;
}

void
link_path_block(int path, int blocked)
{
	if (!lk.running || path < 0 || path >= lk.npaths) {
		log_warnx("link: cannot %sblock path %d: no such path",
		    blocked ? "" : "un", path);
		return;
	}
	log_info("link: path %d %s by request", path,
	    blocked ? "blocked" : "unblocked");
	lk_path_fsm(&lk.paths[path], blocked ? LK_PE_BLOCK : LK_PE_UNBLOCK);
}

/*
 * Test-only: the link never loses a frame (TCP), but a lossy heartbeat
 * channel is what the status monitor must survive, and this kernel has
 * no netem.  Only the heartbeat range is dropped, after the frame passed
 * its MAC and sequence checks, so the connection and every request on it
 * stay intact: exactly a channel that loses heartbeats.
 */
void
link_path_lossy(int path, int n, int m)
{
	struct lk_path *p;

	if (!lk.running || path < 0 || path >= lk.npaths || n < 0 ||
	    m < 1 || n > m) {
		log_warnx("link: cannot make path %d lossy (%d of %d)", path,
		    n, m);
		return;
	}
	p = &lk.paths[path];
	p->tdrop_n = n;
	p->tdrop_m = m;
	p->tdrop_i = 0;
	if (n == 0)
		log_info("link: path %d: heartbeat loss switched off (%llu "
		    "dropped)", path, (unsigned long long)p->tdropped);
	else
		log_warnx("link: path %d: TEST: dropping %d of every %d "
		    "heartbeat frames received", path, n, m);
}

int
lk_path_test_drop(struct lk_path *p, uint8_t type)
{
	int drop;

	if (p->tdrop_n == 0 || type < LINK_T_HB_FIRST ||
	    type > LINK_T_HB_LAST)
		return 0;
	drop = p->tdrop_i < p->tdrop_n;
	p->tdrop_i = (p->tdrop_i + 1) % p->tdrop_m;
	p->tdropped += (uint64_t)drop;
	return drop;
}

void
link_status_text(struct buf *out)
{
	const struct lk_path	*p;
	int			 i, j;

	if (!lk.running) {
		buf_printf(out, "link: not running\n");
		return;
	}
	buf_printf(out, "link: peer %s (node %u, boot id %016llx), best "
	    "path %d\n", peer_up ? "up" : "down", lk.peer_id,
	    (unsigned long long)link_peer_boot_id(), best);
	for (i = 0; i < lk.npaths; i++) {
		p = &lk.paths[i];
		buf_printf(out, "  path %d %s %s -> %s %s%s: sent %llu recv "
		    "%llu errors %llu rtt %lluus srtt %lluus", i,
		    p->dialer ? "dial" : "accept", p->local->text,
		    p->remote->text, lk_pstate_name(p->state),
		    i == best ? " (best)" : "",
		    (unsigned long long)p->st.sent,
		    (unsigned long long)p->st.received,
		    (unsigned long long)p->st.errors,
		    (unsigned long long)p->st.rtt_us,
		    (unsigned long long)p->st.srtt_us);
		for (j = 0; j < LK_DROP__MAX; j++)
			if (p->st.drops[j])
				buf_printf(out, " %s %llu", lk_drop_names[j],
				    (unsigned long long)p->st.drops[j]);
		if (p->tdrop_n > 0 || p->tdropped > 0)
			buf_printf(out, " TEST-lossy %d/%d dropped %llu",
			    p->tdrop_n, p->tdrop_m,
			    (unsigned long long)p->tdropped);
		buf_printf(out, "\n");
	}
}

void
link_status_json(struct buf *out)
{
	const struct lk_path	*p;
	int			 i, j;

	buf_printf(out, "[");
	for (i = 0; lk.running && i < lk.npaths; i++) {
		p = &lk.paths[i];
		buf_printf(out, "%s{\"path\":%d,\"state\":\"%s\",\"role\":"
		    "\"%s\",\"local\":", i ? "," : "", i,
		    lk_pstate_name(p->state), p->dialer ? "dial" : "accept");
		buf_add_json_str(out, p->local->text);
		buf_printf(out, ",\"remote\":");
		buf_add_json_str(out, p->remote->text);
		buf_printf(out, ",\"best\":%s,\"blocked\":%s,\"sent\":%llu,"
		    "\"received\":%llu,\"sent_bytes\":%llu,\"recv_bytes\":"
		    "%llu,\"errors\":%llu,\"connects\":%llu,\"rtt_us\":%llu,"
		    "\"srtt_us\":%llu,\"in_state_ms\":%llu,\"drops\":{",
		    i == best ? "true" : "false",
		    p->state == LK_PS_BLOCKED ? "true" : "false",
		    (unsigned long long)p->st.sent,
		    (unsigned long long)p->st.received,
		    (unsigned long long)p->st.sent_bytes,
		    (unsigned long long)p->st.recv_bytes,
		    (unsigned long long)p->st.errors,
		    (unsigned long long)p->st.connects,
		    (unsigned long long)p->st.rtt_us,
		    (unsigned long long)p->st.srtt_us,
		    (unsigned long long)(now_ms() - p->st.since_ms));
		for (j = 0; j < LK_DROP__MAX; j++)
			buf_printf(out, "%s\"%s\":%llu", j ? "," : "",
			    lk_drop_names[j],
			    (unsigned long long)p->st.drops[j]);
		buf_printf(out, "},\"test_lossy\":{\"drop\":%d,\"every\":%d,"
		    "\"dropped\":%llu}}", p->tdrop_n, p->tdrop_m,
		    (unsigned long long)p->tdropped);
	}
	buf_printf(out, "]");
}

int
link_rx_path(void)
{
	return lk_rx_path;
}

int
link_send_path(int path, uint8_t type, const void *payload, size_t len)
{
	if (!lk.running || path < 0 || path >= lk.npaths ||
	    send_check(type, len) != 0)
		return -1;
	return lk_path_send(&lk.paths[path], type, 0, 0, payload, len) == 0 ?
	    0 : -1;
}

int
link_npaths(void)
{
	return lk.npaths;
}

int
link_path_peer_closed(int path)
{
	if (path < 0 || path >= lk.npaths)
		return 0;
	return lk.paths[path].state != LK_PS_UP && lk.paths[path].peer_closed;
}

int
link_path_stats(int i, struct link_path_stats *s)
{
	const struct lk_path *p;

	if (!lk.running || i < 0 || i >= lk.npaths)
		return -1;
	p = &lk.paths[i];
	memset(s, 0, sizeof(*s));
	s->up = p->state == LK_PS_UP;
	s->best = i == best;
	snprintf(s->local, sizeof(s->local), "%s", p->local->text);
	snprintf(s->remote, sizeof(s->remote), "%s", p->remote->text);
	s->sent = p->st.sent;
	s->received = p->st.received;
	s->sent_bytes = p->st.sent_bytes;
	s->recv_bytes = p->st.recv_bytes;
	s->errors = p->st.errors;
	s->connects = p->st.connects;
	s->srtt_us = p->st.srtt_us;
	return 0;
}

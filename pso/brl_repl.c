/*
 * brl_repl.c — the replicated lock table: who arbitrates, how a call
 * reaches the arbiter and how every change reaches the other head, the
 * join (BRL_SYNC) and the cluster cold start with its grace period.
 *
 * The table (brl_table.c) is changed only on the loop thread, under
 * brl_g.mtx so worker threads can read it (brl_test, brl_list).  A call
 * from a worker thread is a struct brl_call driven on the loop: at the
 * arbiter it is applied, the changed files' states are sent with BRL_PUT
 * and the call returns on the ack; elsewhere it is forwarded (BRL_OP)
 * and the state in the reply is installed before it returns.  States are
 * installed by version, so the order of PUTs, replies and SYNC chunks
 * never matters (docs/locks.md).  Grant callbacks and the public calls
 * are in brl_api.c.  Nothing here touches the disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pso/brl_int.h"
#include "pso/pso_int.h"

#define CALL_RETRY_MS	20	/* poll for an arbiter / a link */
#define CALL_LIMIT_MS	3000	/* then BRL_UNAVAIL */
#define REQ_TIMEOUT_MS	1000	/* one link request */
#define PUT_CHUNK	(4u << 20)
#define REPLY_STATES	(8u << 20)
#define SYNC_CHUNK	(1u << 20)
#define SYNC_RETRY_MS	100
#define SYNC_GIVEUP_MS	10000	/* master: the peer never got ready */
#define SWEEP_MS	10000
#define SYNC_END	0xffffffffu

struct brl_g brl_g = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
};

static struct event	*sweep_ev, *sync_ev;
static uint32_t		 sync_cursor;
static int		 sync_active;
static uintptr_t	 sync_gen;	/* a restarted copy ignores old replies */
static uint64_t		 sync_since;	/* now_ms() of the first refusal */

static void	call_drive(struct brl_call *);
static void	put_next(struct brl_call *);
static void	sync_start(const char *why);

/* ---- roles ---- */

/* Loop thread: recompute the arbiter after any change. */
static void
role_update(void)
{
	int was, now;

	pthread_mutex_lock(&brl_g.mtx);
	was = brl_g.arbiter;
	brl_g.arbiter = brl_g.running && brl_g.ready &&
	    brl_g.mode == HA_OPMODE_MASTER;
	now = brl_g.arbiter;
	pthread_mutex_unlock(&brl_g.mtx);
	if (was != now)
		log_info("brl: %s lock-table arbiter", now ? "now" :
		    "no longer");
}

static void
go_ready(const char *how)
{
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.ready = 1;
	brl_g.diverged = !brl_g.link_up;
	pthread_mutex_unlock(&brl_g.mtx);
	log_info("brl: lock table ready (%s): %llu files, %llu locks, "
	    "%llu waiters, %llu shares", how,
	    (unsigned long long)brl_g.tab->files,
	    (unsigned long long)brl_g.tab->locks,
	    (unsigned long long)brl_g.tab->waiters,
	    (unsigned long long)brl_g.tab->shares);
	role_update();
}

static void
cold_start(const char *why)
{
	uint64_t grace_ms = (uint64_t)brl_g.grace_s * 1000;

	pthread_mutex_lock(&brl_g.mtx);
	brl_tab_clear(brl_g.tab);
	brl_g.grace_until = grace_ms ? now_ms() + grace_ms : 0;
	pthread_mutex_unlock(&brl_g.mtx);
	if (sync_active) {
		sync_active = 0;
		evtimer_del(sync_ev);
	}
	log_info("brl: cluster cold start (%s): no lock table to inherit, "
	    "grace period %d s", why, brl_g.grace_s);
	go_ready("cold start");
	brl_cold_notify();
}

/* pso: the first sync since start happened (loop thread). */
static void
pso_synced(int cold, void *arg)
{
	(void)arg;
	if (!brl_g.running || brl_g.ready || sync_active)
		return;
	if (cold)
		cold_start("PSO started the cluster cold");
	else
		sync_start("joining a serving peer");
}

static void
opmode_cb(enum ha_opmode mode, int peer_alive, void *arg)
{
	int was_arb = brl_g.arbiter, resync;

	(void)arg;
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.mode = mode;
	brl_g.peer_alive = peer_alive;
	pthread_mutex_unlock(&brl_g.mtx);
	role_update();
	/* A head that stepped down after acting alone (link lost) may
	 * hold changes the new arbiter never saw, and miss its own. */
	resync = was_arb && !brl_g.arbiter && brl_g.ready && peer_alive &&
	    brl_g.diverged && brl_g.link_up;
	if (resync)
		sync_start("stepped down after a link loss");
	/* Joining and the peer died: nobody holds a table any more. */
	if (!brl_g.ready && sync_active && !peer_alive && !brl_g.link_up &&
	    mode == HA_OPMODE_MASTER)
		cold_start("the peer died while this head was joining");
}

static void
link_cb(int up, uint64_t boot_id, void *arg)
{
	(void)arg; (void)boot_id;
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.link_up = up;
	if (!up && brl_g.ready)
		brl_g.diverged = 1;
	pthread_mutex_unlock(&brl_g.mtx);
	if (up && brl_g.ready && !brl_g.arbiter && brl_g.diverged)
		sync_start("link to the peer is back");
}

/* ---- grace ---- */

uint64_t
brl_grace_left(void)
{
	uint64_t now = now_ms(), left = 0;

	pthread_mutex_lock(&brl_g.mtx);
	if (brl_g.grace_until > now)
		left = brl_g.grace_until - now;
	else if (brl_g.grace_until != 0) {
		brl_g.grace_until = 0;
		log_info("brl: grace period over");
	}
	pthread_mutex_unlock(&brl_g.mtx);
	return left;
}

/* ---- applying and installing (loop thread) ---- */

struct brl_chunks {
	struct buf	*v;		/* PUT payloads */
	uint32_t	 n, cap;
	uint32_t	 nstates;	/* in the last one */
	size_t		 limit;
};

static void
chunks_init(struct brl_chunks *c, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit;
}

static void
chunks_free(struct brl_chunks *c)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		buf_free(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Close the last chunk: patch its state count (after the format byte). */
static void
chunk_close(struct brl_chunks *c)
{
	if (c->n > 0)
		put_be32(c->v[c->n - 1].data + 1, c->nstates);
}

static void
chunks_add(struct brl_chunks *c, const struct brl_fent *fe)
{
	struct buf *b;

	if (c->n == 0 || c->v[c->n - 1].len >= c->limit) {
		chunk_close(c);
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 2;
			c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
		}
		b = &c->v[c->n++];
		buf_init(b);
		buf_add_u8(b, BRL_FMT);
		buf_add_u32(b, 0);
		c->nstates = 0;
	}
	brl_state_enc(&c->v[c->n - 1], fe);
	c->nstates++;
}

static void
changed_cb(struct brl_fent *fe, void *arg)
{
	chunks_add(arg, fe);
	brl_grants_scan(fe);
}

/* Decode and install nstates states; 0 or -1 (logged). */
static int
install_states(struct rd *r, uint32_t n, const char *what)
{
	struct brl_fent	*fe, *in;
	const char	*why = NULL;
	uint64_t	 now = now_ms();
	uint32_t	 i;
	int		 rc = 0;

	pthread_mutex_lock(&brl_g.mtx);
	for (i = 0; i < n; i++) {
		if ((fe = brl_state_dec(r, &why)) == NULL) {
			rc = -1;
			break;
		}
		if (brl_tab_install(brl_g.tab, fe, now, &in) && in)
			brl_grants_scan(in);
	}
	pthread_mutex_unlock(&brl_g.mtx);
	if (rc < 0)
		log_warnx("brl: malformed state %u of %u in %s: %s", i, n,
		    what, why ? why : "?");
	return rc;
}

/* ---- calls (worker thread -> loop) ---- */

static void
call_done(struct brl_call *c, int rc)
{
	if (c->timer) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (c->put) {
		chunks_free(c->put);
		free(c->put);
		c->put = NULL;
	}
	c->res.rc = rc;
	loop_wait_done(&c->w, rc);
}

static void
call_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct brl_call *c = arg;

	(void)fd; (void)ev;
	if (c->put)
		put_next(c);
	else
		call_drive(c);
}

static void
call_park(struct brl_call *c)
{
	struct timeval tv = { 0, CALL_RETRY_MS * 1000 };

	evtimer_add(c->timer, &tv);
}

static int
call_expired(struct brl_call *c)
{
	return now_ms() >= c->deadline;
}

static void
put_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct brl_call	*c = arg;
	struct rd	 r;
	uint8_t		 rc;

	if (status == 0) {
		rd_init(&r, p, len);
		rc = rd_u8(&r) == BRL_FMT ? rd_u8(&r) : BRL_INVAL;
		if (rc == BRL_RC_NOTARB && !r.err) {
			/* both heads arbitrate: this change stays here only */
			log_warnx("brl: the peer arbitrates too: change kept "
			    "here only, call answered 'unavailable'");
			pthread_mutex_lock(&brl_g.mtx);
			brl_g.diverged = 1;
			pthread_mutex_unlock(&brl_g.mtx);
			call_done(c, BRL_UNAVAIL);
			return;
		}
		if (rc != 0 || r.err)
			log_warnx("brl: the peer refused a state (%zu bytes "
			    "reply; see its log)", len);
		c->put_idx++;
	}
	put_next(c);
}

/* Arbiter: send the next PUT of the call's change (or finish it). */
static void
put_next(struct brl_call *c)
{
	struct brl_chunks *ch = c->put;

	if (!brl_g.running) {
		call_done(c, BRL_UNAVAIL);
		return;
	}
	if (c->put_idx >= ch->n) {
		call_done(c, c->res.rc);
		return;
	}
	if (brl_g.link_up) {
		pthread_mutex_lock(&brl_g.mtx);
		brl_g.replicated++;
		pthread_mutex_unlock(&brl_g.mtx);
		link_request(BRL_T_PUT, ch->v[c->put_idx].data,
		    ch->v[c->put_idx].len, REQ_TIMEOUT_MS, put_reply_cb, c);
		return;
	}
	if (!brl_g.peer_alive) {
		/* declared dead: this head alone; it resyncs on return */
		call_done(c, c->res.rc);
		return;
	}
	if (call_expired(c)) {
		log_warnx("brl: peer alive but unreachable: change kept here, "
		    "call answered 'unavailable'");
		call_done(c, BRL_UNAVAIL);
		return;
	}
	call_park(c);
}

static void
arb_apply(struct brl_call *c)
{
	struct brl_chunks	*ch = xcalloc(1, sizeof(*ch));
	int		 grace = brl_grace_left() != 0;

	chunks_init(ch, PUT_CHUNK);
	pthread_mutex_lock(&brl_g.mtx);
	brl_tab_apply(brl_g.tab, &c->op, grace, now_ms(), &c->res,
	    changed_cb, ch);
	brl_g.ops++;
	pthread_mutex_unlock(&brl_g.mtx);
	chunk_close(ch);
	c->put = ch;
	c->put_idx = 0;
	put_next(c);
}

static void
fwd_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct brl_call	*c = arg;
	struct rd	 r;
	uint32_t	 n;
	uint8_t		 rc, hh;

	c->inflight = 0;
	if (status != 0) {
		call_drive(c);	/* the arbiter may be gone: ask again */
		return;
	}
	rd_init(&r, p, len);
	if (rd_u8(&r) != BRL_FMT) {
		log_warnx("brl: bad reply format from the peer");
		call_done(c, BRL_UNAVAIL);
		return;
	}
	rc = rd_u8(&r);
	if (rc == BRL_RC_NOTARB) {
		call_park(c);
		return;
	}
	c->res.n = rd_u64(&r);
	hh = rd_u8(&r);
	if (hh) {
		if (brl_owner_dec(&r, &c->res.holder, 0) < 0) {
			log_warnx("brl: bad holder in a reply from the peer");
			call_done(c, BRL_UNAVAIL);
			return;
		}
		c->res.hrange.start = rd_u64(&r);
		c->res.hrange.len = rd_u64(&r);
		c->res.hrange.excl = rd_u8(&r);
		c->res.has_holder = 1;
	}
	n = rd_u32(&r);
	if (r.err || rc > BRL_DEADLCK || install_states(&r, n, "a reply") < 0 ||
	    r.left != 0) {
		log_warnx("brl: malformed reply from the peer (%zu bytes)",
		    len);
		call_done(c, BRL_UNAVAIL);
		return;
	}
	call_done(c, rc);
}

static void
call_drive(struct brl_call *c)
{
	struct buf b;

	if (!brl_g.running || !brl_g.ready) {
		call_done(c, BRL_UNAVAIL);
		return;
	}
	if (brl_g.arbiter) {
		arb_apply(c);
		return;
	}
	if (call_expired(c)) {
		call_done(c, BRL_UNAVAIL);
		return;
	}
	if (!brl_g.link_up) {
		call_park(c);
		return;
	}
	buf_init(&b);
	brl_op_enc(&b, &c->op);
	c->inflight = 1;
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.forwarded++;
	pthread_mutex_unlock(&brl_g.mtx);
	link_request(BRL_T_OP, b.data, b.len, REQ_TIMEOUT_MS, fwd_reply_cb, c);
	buf_free(&b);
}

static void
call_start(void *arg)
{
	struct brl_call *c = arg;

	c->timer = evtimer_new(loop_base(), call_timer_cb, c);
	c->deadline = now_ms() + CALL_LIMIT_MS;
	call_drive(c);
}

int
brl_call_run(struct brl_call *c)
{
	int rc;

	loop_wait_init(&c->w);
	loop_call(call_start, c);
	rc = loop_wait(&c->w);
	loop_wait_destroy(&c->w);
	return rc;
}

/* ---- the arbiter's side of BRL_OP ---- */

struct srv {
	struct link_req	*rq;
	struct brl_res	 res;
	struct brl_chunks	 ch;
	uint32_t	 idx;
	struct brl_file	 f;
	int		 single;
};

static void
op_reply(struct link_req *rq, const struct brl_res *res, int rc,
    const struct buf *states, uint32_t nstates)
{
	struct buf b;

	buf_init(&b);
	buf_add_u8(&b, BRL_FMT);
	buf_add_u8(&b, (uint8_t)rc);
	buf_add_u64(&b, res ? res->n : 0);
	buf_add_u8(&b, res && res->has_holder);
	if (res && res->has_holder) {
		brl_owner_enc(&b, &res->holder);
		buf_add_u64(&b, res->hrange.start);
		buf_add_u64(&b, res->hrange.len);
		buf_add_u8(&b, res->hrange.excl ? 1 : 0);
	}
	buf_add_u32(&b, nstates);
	if (states)
		buf_add(&b, states->data, states->len);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void srv_next(struct srv *);

static void
srv_put_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct srv *s = arg;

	(void)p; (void)len;
	if (status != 0) {
		/* the requester re-drives; it resyncs after a link loss */
		s->idx = s->ch.n;
	} else
		s->idx++;
	srv_next(s);
}

/* Multi-file change for the peer: PUTs first, then the bare reply. */
static void
srv_next(struct srv *s)
{
	if (s->idx < s->ch.n && brl_g.link_up) {
		link_request(BRL_T_PUT, s->ch.v[s->idx].data,
		    s->ch.v[s->idx].len, REQ_TIMEOUT_MS, srv_put_cb, s);
		return;
	}
	op_reply(s->rq, &s->res, s->res.rc, NULL, 0);
	chunks_free(&s->ch);
	free(s);
}

static void
op_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct brl_fent	*fe;
	struct brl_op	 op;
	struct srv	*s;
	struct buf	 st;
	const char	*why = NULL;
	int		 grace, multi;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (brl_op_dec(p, len, &op, &why) < 0) {
		log_warnx("brl: malformed BRL_OP from the peer (%zu bytes): %s",
		    len, why);
		op_reply(rq, NULL, BRL_INVAL, NULL, 0);
		return;
	}
	if (!brl_g.arbiter) {
		op_reply(rq, NULL, BRL_RC_NOTARB, NULL, 0);
		return;
	}
	grace = brl_grace_left() != 0;
	multi = op.op == BRL_OP_FREE_CLIENT || op.op == BRL_OP_FREE_EXPORT;
	s = xcalloc(1, sizeof(*s));
	s->rq = rq;
	chunks_init(&s->ch, multi ? PUT_CHUNK : REPLY_STATES);
	pthread_mutex_lock(&brl_g.mtx);
	brl_tab_apply(brl_g.tab, &op, grace, now_ms(), &s->res, changed_cb,
	    &s->ch);
	brl_g.ops++;
	if (!multi) {
		/* Always the file's current state, changed or not: a
		 * re-driven op whose first reply was lost still learns it. */
		chunks_free(&s->ch);
		buf_init(&st);
		fe = brl_tab_find_any(brl_g.tab, &op.f);
		if (fe)
			brl_state_enc(&st, fe);
		pthread_mutex_unlock(&brl_g.mtx);
		op_reply(rq, &s->res, s->res.rc, &st, fe ? 1 : 0);
		buf_free(&st);
		free(s);
		return;
	}
	pthread_mutex_unlock(&brl_g.mtx);
	chunk_close(&s->ch);
	srv_next(s);
}

/* ---- PUT ---- */

static void
put_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct rd	r;
	uint32_t	n;
	uint8_t		rep[2] = { BRL_FMT, 0 };

	(void)type; (void)arg;
	/* Only the arbiter sends states; if this head arbitrates too (the
	 * two heads disagree for a moment), its table is not overwritten:
	 * the sender's call fails and it resyncs when it steps down. */
	if (brl_g.arbiter) {
		log_warnx("brl: BRL_PUT from the peer while this head "
		    "arbitrates: refused");
		rep[1] = BRL_RC_NOTARB;
		if (rq)
			link_reply(rq, rep, sizeof(rep));
		return;
	}
	rd_init(&r, p, len);
	if (rd_u8(&r) != BRL_FMT || (n = rd_u32(&r), r.err) ||
	    install_states(&r, n, "BRL_PUT") < 0 || r.left != 0) {
		log_warnx("brl: malformed BRL_PUT from the peer (%zu bytes)",
		    len);
		rep[1] = BRL_INVAL;
	}
	if (rq)
		link_reply(rq, rep, sizeof(rep));
}

/* ---- SYNC: responder ---- */

struct sync_arg {
	struct buf	*b;
	uint32_t	 n;
};

static void
sync_one(struct brl_fent *fe, void *p)
{
	struct sync_arg *a = p;

	brl_state_enc(a->b, fe);
	a->n++;
}

static void
sync_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct sync_arg	 a;
	struct buf	 b;
	struct rd	 r;
	uint32_t	 cur, next;
	size_t		 npos;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	rd_init(&r, p, len);
	if (rd_u8(&r) != BRL_FMT || (cur = rd_u32(&r), r.err) || r.left) {
		log_warnx("brl: malformed BRL_SYNC (%zu bytes)", len);
		cur = SYNC_END;
	}
	buf_init(&b);
	buf_add_u8(&b, BRL_FMT);
	if (!brl_g.ready || cur == SYNC_END) {
		buf_add_u8(&b, BRL_UNAVAIL);
		buf_add_u32(&b, SYNC_END);
		buf_add_u64(&b, 0);
		buf_add_u64(&b, 0);
		buf_add_u32(&b, 0);
		goto out;
	}
	buf_add_u8(&b, 0);
	npos = b.len;
	buf_add_u32(&b, 0);
	buf_add_u64(&b, brl_grace_left());
	pthread_mutex_lock(&brl_g.mtx);
	buf_add_u64(&b, brl_g.tab->maxver);
	buf_add_u32(&b, 0);
	a.b = &b;
	a.n = 0;
	for (next = cur; next < brl_g.tab->nb && b.len < SYNC_CHUNK; next++)
		brl_tab_walk(brl_g.tab, next, next + 1, sync_one, &a);
	pthread_mutex_unlock(&brl_g.mtx);
	if (next >= brl_g.tab->nb) {
		next = SYNC_END;
		/* the peer has everything now (PUTs cover the rest) */
		pthread_mutex_lock(&brl_g.mtx);
		brl_g.diverged = 0;
		pthread_mutex_unlock(&brl_g.mtx);
	}
	put_be32(b.data + npos, next);
	put_be32(b.data + npos + 20, a.n);
out:
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

/* ---- SYNC: requester ---- */

static void sync_send(void);

static void
sync_retry(void)
{
	struct timeval tv = { 0, SYNC_RETRY_MS * 1000 };

	if (sync_active)
		evtimer_add(sync_ev, &tv);
}

static void
sync_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct rd	r;
	uint64_t	grace_ms, maxver;
	uint32_t	next, n;
	uint8_t		rc;

	if (!sync_active || (uintptr_t)arg != sync_gen)
		return;
	if (status != 0) {
		sync_retry();
		return;
	}
	rd_init(&r, p, len);
	if (rd_u8(&r) != BRL_FMT) {
		log_warnx("brl: bad BRL_SYNC reply format");
		sync_retry();
		return;
	}
	rc = rd_u8(&r);
	next = rd_u32(&r);
	grace_ms = rd_u64(&r);
	maxver = rd_u64(&r);
	n = rd_u32(&r);
	if (r.err) {
		log_warnx("brl: truncated BRL_SYNC reply (%zu bytes)", len);
		sync_retry();
		return;
	}
	if (rc != 0) {		/* the peer is not ready yet */
		/* Neither head holds a table (both joined at once, each
		 * waiting for the other): the master starts cold. */
		if (sync_since == 0)
			sync_since = now_ms();
		else if (now_ms() - sync_since > SYNC_GIVEUP_MS &&
		    brl_g.mode == HA_OPMODE_MASTER) {
			cold_start("the peer has no lock table either");
			return;
		}
		sync_retry();
		return;
	}
	sync_since = 0;
	if (install_states(&r, n, "BRL_SYNC") < 0 || r.left != 0) {
		log_warnx("brl: malformed BRL_SYNC reply: starting over");
		sync_cursor = 0;
		sync_retry();
		return;
	}
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.tab->maxver = MAX(brl_g.tab->maxver, maxver);
	pthread_mutex_unlock(&brl_g.mtx);
	if (next != SYNC_END) {
		sync_cursor = next;
		sync_send();
		return;
	}
	sync_active = 0;
	pthread_mutex_lock(&brl_g.mtx);
	/* the peer's grace period, if any, ends here at the same time */
	brl_g.grace_until = grace_ms ? now_ms() + grace_ms : 0;
	pthread_mutex_unlock(&brl_g.mtx);
	go_ready(grace_ms ? "copied from the peer, in its grace period" :
	    "copied from the peer");
	/* Joined a cluster that is starting cold: this head's clients
	 * must reclaim too (once per daemon start, brl_api.c). */
	if (grace_ms)
		brl_cold_notify();
}

static void
sync_send(void)
{
	uint8_t req[5];

	if (!brl_g.running) {
		sync_active = 0;
		return;
	}
	if (!brl_g.link_up) {
		if (!brl_g.peer_alive && brl_g.mode == HA_OPMODE_MASTER) {
			cold_start("the peer died while this head was "
			    "joining");
			return;
		}
		sync_retry();
		return;
	}
	req[0] = BRL_FMT;
	put_be32(req + 1, sync_cursor);
	link_request(BRL_T_SYNC, req, sizeof(req), REQ_TIMEOUT_MS * 5,
	    sync_reply_cb, (void *)sync_gen);
}

static void
sync_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	sync_send();
}

/* Drop this head's table and copy the peer's (loop thread). */
static void
sync_start(const char *why)
{
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.ready = 0;
	brl_tab_clear(brl_g.tab);
	pthread_mutex_unlock(&brl_g.mtx);
	role_update();
	log_info("brl: copying the lock table from the peer (%s)", why);
	sync_cursor = 0;
	sync_since = 0;
	sync_gen++;
	sync_active = 1;
	evtimer_del(sync_ev);
	sync_send();
}

/* ---- life ---- */

static void
sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { SWEEP_MS / 1000, 0 };

	(void)fd; (void)ev; (void)arg;
	pthread_mutex_lock(&brl_g.mtx);
	brl_tab_reap(brl_g.tab, now_ms());
	pthread_mutex_unlock(&brl_g.mtx);
	(void)brl_grace_left();		/* logs the end of a grace period */
	evtimer_add(sweep_ev, &tv);
}

int
brl_repl_init(const struct cfg *cfg)
{
	struct timeval tv = { SWEEP_MS / 1000, 0 };

	brl_g.tab = brl_tab_new(BRL_BUCKETS, (uint64_t)cfg->nlm_max_locks);
	brl_g.grace_s = cfg->nlm_grace_s;
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.running = 1;
	brl_g.mode = ha_opmode();
	brl_g.peer_alive = ha_peer_alive();
	brl_g.link_up = link_peer_up();
	pthread_mutex_unlock(&brl_g.mtx);
	link_register(BRL_T_OP, op_cb, NULL);
	link_register(BRL_T_PUT, put_cb, NULL);
	link_register(BRL_T_SYNC, sync_cb, NULL);
	link_on_state(link_cb, NULL);
	ha_opmode_register(opmode_cb, NULL);
	sweep_ev = evtimer_new(loop_base(), sweep_cb, NULL);
	sync_ev = evtimer_new(loop_base(), sync_timer_cb, NULL);
	evtimer_add(sweep_ev, &tv);
	pso_set_synced_cb(pso_synced, NULL);
	return 0;
}

void
brl_repl_fini(void)
{
	pthread_mutex_lock(&brl_g.mtx);
	brl_g.running = 0;
	brl_g.ready = 0;
	brl_g.arbiter = 0;
	pthread_mutex_unlock(&brl_g.mtx);
	sync_active = 0;
	pso_set_synced_cb(NULL, NULL);
	link_register(BRL_T_OP, NULL, NULL);
	link_register(BRL_T_PUT, NULL, NULL);
	link_register(BRL_T_SYNC, NULL, NULL);
	if (sweep_ev) {
		event_free(sweep_ev);
		sweep_ev = NULL;
	}
	if (sync_ev) {
		event_free(sync_ev);
		sync_ev = NULL;
	}
	/* The table stays: calls still parked finish with UNAVAIL and the
	 * process is exiting. */
}

/*
 * pso.c — the public PSO API, module state, replicated writes and the
 * writer thread that commits what the peer sends.
 *
 * A write is assigned its version under pso_g.mtx (the caller must hold
 * the object's lock), sent to the peer by the loop thread and, at the same
 * time, committed locally in the calling thread, so neither fsync stalls
 * the loop.  The call returns when the peer acked (after its own durable
 * commit), or at once when the peer is dead or the link down.  Incoming
 * WRITE and SYNC_PUSH requests are queued for one writer thread that
 * commits everything queued in one LMDB transaction (group commit) and
 * posts the replies back to the loop thread.  HA opmode and link state
 * land here and are passed on to the lock and sync code.  Locks:
 * pso_lock.c; resync and cold start: pso_sync.c; store: pso_store.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pso/pso_int.h"

#define PSO_OWNER_CREATE	0xfffffffffffffffeULL	/* internal owner */
#define PSO_READY_MIN_MS	5000

struct pso_g pso_g = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* ---- synchronous link requests from worker threads ---- */

void
pso_call_init(struct pso_call *c, uint8_t type, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->timeout_ms = timeout_ms;
	buf_init(&c->req);
	loop_wait_init(&c->w);
}

static void
call_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct pso_call *c = arg;

	c->status = status;
	if (status == 0) {
		if (c->on_reply)
			c->on_reply(c, p, len);
		c->rep = xmalloc(len);
		memcpy(c->rep, p, len);
		c->replen = len;
	}
	loop_wait_done(&c->w, status);
}

static void
call_send(void *arg)
{
	struct pso_call *c = arg;

	if (!pso_g.link_up) {
		c->status = ENOTCONN;
		loop_wait_done(&c->w, ENOTCONN);
		return;
	}
	link_request(c->type, c->req.data, c->req.len, c->timeout_ms,
	    call_reply_cb, c);
}

void
pso_call_start(struct pso_call *c)
{
	free(c->rep);
	c->rep = NULL;
	c->replen = 0;
	c->status = 0;
	c->w.done = 0;
	loop_call(call_send, c);
}

int
pso_call_wait(struct pso_call *c)
{
	return loop_wait(&c->w);
}

void
pso_call_free(struct pso_call *c)
{
	buf_free(&c->req);
	free(c->rep);
	c->rep = NULL;
	loop_wait_destroy(&c->w);
}

int
pso_req_timeout(void)
{
	return pso_g.cfg && pso_g.cfg->pso_req_timeout_ms > 0 ?
	    pso_g.cfg->pso_req_timeout_ms : 2000;
}

/* ---- readiness ---- */

int
pso_ready_wait(void)
{
	struct timespec	ts;
	int		rc = 0, ms = MAX(pso_req_timeout(), PSO_READY_MIN_MS);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&pso_g.mtx);
	while (pso_g.running && pso_g.sync != PSO_SYNC_DONE && rc == 0)
		if (pthread_cond_timedwait(&pso_g.cond, &pso_g.mtx, &ts) != 0)
			rc = PSO_NOTREADY;
	if (!pso_g.running)
		rc = PSO_SHUTDOWN;
	else if (pso_g.sync == PSO_SYNC_DONE)
		rc = 0;
	pthread_mutex_unlock(&pso_g.mtx);
	return rc;
}

/* Loop thread: recompute the arbiter role after any state change. */
static void
state_update(int peer_lost)
{
	int was;

	pthread_mutex_lock(&pso_g.mtx);
	was = pso_g.arbiter;
	pso_g.arbiter = pso_g.running && pso_g.mode == HA_OPMODE_MASTER &&
	    pso_g.sync == PSO_SYNC_DONE;
	pthread_mutex_unlock(&pso_g.mtx);
	if (was != pso_g.arbiter)
		log_info("pso: %s lock arbiter", pso_g.arbiter ? "now" :
		    "no longer");
	pso_lock_state_changed(was, peer_lost);
	pso_sync_kick();
}

static void
synced_cb(void *arg)
{
	(void)arg;
	state_update(0);
}

void
pso_set_synced(int cold)
{
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.sync = PSO_SYNC_DONE;
	pso_g.booting = 0;
	pthread_cond_broadcast(&pso_g.cond);
	pthread_mutex_unlock(&pso_g.mtx);
	(void)cold;
	loop_call(synced_cb, NULL);
}

static void
opmode_cb(enum ha_opmode mode, int peer_alive, void *arg)
{
	int lost, resync = 0;

	(void)arg;
	pthread_mutex_lock(&pso_g.mtx);
	lost = pso_g.peer_alive && !peer_alive;
	/* (Re)joining as slave with the peer alive — a healed split steps
	 * down through HALTED/INIT: both may have written alone, and the
	 * lock table to keep is the new arbiter's. */
	if (pso_g.mode != HA_OPMODE_SLAVE && mode == HA_OPMODE_SLAVE &&
	    peer_alive && pso_g.sync == PSO_SYNC_DONE) {
		pso_g.sync = PSO_SYNC_SYNCING;
		resync = 1;
	}
	pso_g.mode = mode;
	pso_g.peer_alive = peer_alive;
	pthread_mutex_unlock(&pso_g.mtx);
	if (lost)
		log_info("pso: peer declared dead");
	if (resync)
		log_info("pso: stepped down to slave: resync with the peer");
	state_update(lost);
}

static void
peer_link_cb(int up, uint64_t boot_id, void *arg)
{
	uint64_t	old;
	int		was, resync = 0;

	(void)arg;
	pthread_mutex_lock(&pso_g.mtx);
	was = pso_g.link_up;
	old = pso_g.peer_boot;
	pso_g.link_up = up;
	if (up)
		pso_g.peer_boot = boot_id;
	/* Back after a cut: a head that does not arbitrate may have missed
	 * writes made while the link was down. */
	if (up && !was && pso_g.sync == PSO_SYNC_DONE && !pso_g.arbiter) {
		pso_g.sync = PSO_SYNC_SYNCING;
		resync = 1;
	}
	pthread_mutex_unlock(&pso_g.mtx);
	if (up && old != 0 && boot_id != old) {
		log_info("pso: peer restarted: its locks are released");
		pso_lock_peer_restarted();
	}
	if (resync)
		log_info("pso: link to the peer is back: resync");
	state_update(0);
}

/* ---- receiving side: writer thread ---- */

struct witem {
	struct witem	*next;
	struct link_req	*rq;
	uint8_t		*payload;
	struct pso_rec	*recs;
	uint32_t	 n;
	int32_t		 rc;
};

static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wq_cond = PTHREAD_COND_INITIALIZER;
static struct witem	*wq_head, **wq_tail = &wq_head;
static pthread_t	 wq_thread;
static int		 wq_running, wq_stop;

static void
witems_reply(void *arg)
{
	struct witem	*it, *next;
	struct buf	 b;

	buf_init(&b);
	for (it = arg; it; it = next) {
		next = it->next;
		buf_reset(&b);
		pso_m_rc_enc(&b, it->rc);
		link_reply(it->rq, b.data, b.len);
		free(it->payload);
		free(it->recs);
		free(it);
	}
	buf_free(&b);
}

static void *
writer_main(void *arg)
{
	struct witem	*list, *it;
	struct pso_rec	*all = NULL;
	size_t		 cap = 0, n;
	int		 rc, applied;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&wq_mtx);
		while (wq_head == NULL && !wq_stop)
			pthread_cond_wait(&wq_cond, &wq_mtx);
		list = wq_head;
		wq_head = NULL;
		wq_tail = &wq_head;
		pthread_mutex_unlock(&wq_mtx);
		if (list == NULL)
			break;		/* stopping and drained */
		for (n = 0, it = list; it; it = it->next)
			n += it->n;
		if (n > cap) {
			cap = n * 2;
			all = xrealloc(all, cap * sizeof(*all));
		}
		for (n = 0, it = list; it; it = it->next) {
			memcpy(all + n, it->recs, it->n * sizeof(*all));
			n += it->n;
		}
		/* One durable commit for everything queued (group commit). */
		rc = pso_store_apply(pso_g.st, all, (int)n, 0, &applied);
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.repl_applied += (uint64_t)applied;
		pthread_mutex_unlock(&pso_g.mtx);
		for (it = list; it; it = it->next)
			it->rc = rc;
		loop_call(witems_reply, list);
	}
	free(all);
	return NULL;
}

/* WRITE and SYNC_PUSH from the peer: queue for the writer thread. */
static void
recv_write_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct witem	*it;
	struct buf	 b;
	int32_t		 rc;
	int		 bad;

	(void)arg;
	if (rq == NULL)
		return;
	it = xcalloc(1, sizeof(*it));
	it->rq = rq;
	it->payload = xmalloc(len);
	memcpy(it->payload, p, len);
	if (type == PSO_T_WRITE) {
		it->recs = xcalloc(1, sizeof(*it->recs));
		it->n = 1;
		bad = pso_m_write_dec(it->payload, len, it->recs) < 0;
	} else
		bad = pso_m_recs_dec(it->payload, len, 0, &rc, &it->recs,
		    &it->n) < 0;
	if (bad || !wq_running) {
		if (bad)
			log_warnx("pso: malformed %s from the peer (%zu bytes)",
			    type == PSO_T_WRITE ? "WRITE" : "SYNC_PUSH", len);
		buf_init(&b);
		pso_m_rc_enc(&b, bad ? EPROTO : PSO_SHUTDOWN);
		link_reply(rq, b.data, b.len);
		buf_free(&b);
		free(it->payload);
		free(it->recs);
		free(it);
		return;
	}
	pthread_mutex_lock(&wq_mtx);
	*wq_tail = it;
	wq_tail = &it->next;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
}

/* ---- init / shutdown ---- */

int
pso_init(const struct cfg *cfg, int self_idx)
{
	char	dir[CFG_PATH_MAX + 8];
	int	rc;

	if (pso_g.running)
		return EALREADY;
	if (self_idx < 0 || self_idx >= cfg->nheads)
		return EINVAL;
	pso_g.cfg = cfg;
	pso_g.self_node = cfg->heads[self_idx].id;
	pso_g.peer_node = cfg->nheads == 2 ? cfg->heads[1 - self_idx].id : 0;
	snprintf(dir, sizeof(dir), "%s/pso", cfg->heads[self_idx].statedir);
	if ((rc = pso_store_open(dir, cfg->pso_mapsize_mb, &pso_g.st)) != 0) {
		log_warnx("pso: cannot open the store in %s: %s", dir,
		    pso_strerror(rc));
		return rc;
	}
	pso_lock_init();
	wq_stop = 0;
	if ((rc = pthread_create(&wq_thread, NULL, writer_main, NULL)) != 0) {
		log_warnx("pso: writer thread: %s", strerror(rc));
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
		return rc;
	}
	wq_running = 1;
	link_register(PSO_T_WRITE, recv_write_cb, NULL);
	link_register(PSO_T_SYNC_PUSH, recv_write_cb, NULL);
	pso_lock_register();
	pso_sync_init();
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.running = 1;
	pso_g.sync = PSO_SYNC_NONE;
	pso_g.booting = 1;
	pso_g.mode = ha_opmode();
	pso_g.peer_alive = ha_peer_alive();
	pso_g.link_up = link_peer_up();
	pso_g.peer_boot = link_peer_boot_id();
	pthread_mutex_unlock(&pso_g.mtx);
	link_on_state(peer_link_cb, NULL);
	ha_opmode_register(opmode_cb, NULL);
	log_info("pso: store %s/data.mdb open, node %u", dir, pso_g.self_node);
	state_update(0);
	return 0;
}

void
pso_shutdown(void)
{
	int sync_running;

	pthread_mutex_lock(&pso_g.mtx);
	if (!pso_g.running) {
		pthread_mutex_unlock(&pso_g.mtx);
		return;
	}
	pso_g.running = 0;
	pso_g.arbiter = 0;
	pthread_cond_broadcast(&pso_g.cond);
	sync_running = pso_g.sync_thread;
	pthread_mutex_unlock(&pso_g.mtx);
	pso_lock_fini();
	pthread_mutex_lock(&wq_mtx);
	wq_stop = 1;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
	pthread_join(wq_thread, NULL);
	wq_running = 0;
	/* The writer's last replies are queued on the loop; a sync thread
	 * still running keeps the store (the process is exiting). */
	if (!sync_running) {
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
	}
	log_info("pso: shut down");
}

/* ---- API ---- */

static int
api_enter(void)
{
	int rc = pso_ready_wait();

	if (rc == 0 && pso_g.st == NULL)
		rc = PSO_SHUTDOWN;
	return rc;
}

/*
 * Commit rec locally in this thread while the loop thread sends it to the
 * peer; wait for the peer's durable ack (docs/pso.md, "Writes").
 */
static int
replicate(const struct pso_rec *rec)
{
	struct pso_call	c;
	uint64_t	deadline = now_ms() + (uint64_t)pso_req_timeout();
	int32_t		prc;
	int		rc, st, alive;

	pso_call_init(&c, PSO_T_WRITE, pso_req_timeout());
	pso_m_write_enc(&c.req, rec);
	pso_call_start(&c);
	rc = pso_store_apply(pso_g.st, rec, 1, 0, NULL);
	for (;;) {
		st = pso_call_wait(&c);
		if (st == 0) {
			if (pso_m_rc_dec(c.rep, c.replen, &prc) < 0)
				prc = EPROTO;
			if (prc != 0) {
				log_warnx("pso: peer failed to commit %s v%llu:"
				    " %s", rec->name,
				    (unsigned long long)rec->version,
				    pso_strerror(prc));
				if (rc == 0)
					rc = PSO_PEERFAIL;
			}
			break;
		}
		pthread_mutex_lock(&pso_g.mtx);
		alive = pso_g.peer_alive && pso_g.link_up;
		pthread_mutex_unlock(&pso_g.mtx);
		if (!alive)
			break;		/* peer down: the local commit counts */
		if (now_ms() >= deadline) {
			log_warnx("pso: peer did not ack %s v%llu in %d ms",
			    rec->name, (unsigned long long)rec->version,
			    pso_req_timeout());
			if (rc == 0)
				rc = PSO_PEERFAIL;
			break;
		}
		usleep(10000);
		c.timeout_ms = (int)MAX(1, (int64_t)(deadline - now_ms()));
		pso_call_start(&c);
	}
	pso_call_free(&c);
	if (rc == 0) {
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.writes++;
		pthread_mutex_unlock(&pso_g.mtx);
	}
	return rc;
}

/* A write or delete by the lock holder. */
static int
write_rec(pso_id id, uint64_t owner, const void *val, size_t len, int del,
    uint64_t *versionp)
{
	struct pso_rec	rec;
	uint64_t	version;
	int		rc;

	if ((rc = api_enter()) != 0)
		return rc;
	if (len > PSO_VALUE_MAX)
		return PSO_TOOBIG;
	if (len > 0 && val == NULL)
		return EINVAL;
	pthread_mutex_lock(&pso_g.mtx);
	rc = pso_store_get(pso_g.st, id, &rec, NULL);
	if (rc == 0 && (rec.flags & PSO_F_DELETED))
		rc = PSO_NOTFOUND;
	if (rc == 0)
		rc = pso_lock_next_version(id, owner, rec.version, &version);
	pthread_mutex_unlock(&pso_g.mtx);
	if (rc != 0)
		return rc;
	rec.version = version;
	rec.mtime_ms = wall_ms();
	if (del) {
		rec.flags |= PSO_F_DELETED;
		rec.val = NULL;
		rec.len = 0;
	} else {
		rec.val = val;
		rec.len = (uint32_t)len;
	}
	if ((rc = replicate(&rec)) == 0 && versionp)
		*versionp = version;
	return rc;
}

int
pso_write(pso_id id, uint64_t owner, const void *val, size_t len,
    uint64_t *versionp)
{
	return write_rec(id, owner, val, len, 0, versionp);
}

int
pso_delete(pso_id id, uint64_t owner)
{
	return write_rec(id, owner, NULL, 0, 1, NULL);
}

int
pso_create(const char *name, uint32_t flags, pso_id *idp)
{
	struct pso_rec	rec, old;
	pso_id		id;
	int		rc, urc;

	if ((rc = pso_name_check(name)) != 0)
		return rc;
	if (flags & ~PSO_F_USER)
		return EINVAL;
	if ((rc = api_enter()) != 0)
		return rc;
	id = pso_name_id(name);
	/* The lock keeps the other head from creating the same name now. */
	if ((rc = pso_lock_do(id, PSO_OWNER_CREATE, -1, 0)) != 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	pthread_mutex_lock(&pso_g.mtx);
	rc = pso_store_get(pso_g.st, id, &old, NULL);
	if (rc == 0 && !(old.flags & PSO_F_DELETED))
		rc = strcmp(old.name, name) == 0 ? PSO_EXISTS : PSO_COLLISION;
	else if (rc == 0 || rc == PSO_NOTFOUND)
		rc = pso_lock_next_version(id, PSO_OWNER_CREATE,
		    rc == 0 ? old.version : 0, &rec.version);
	pthread_mutex_unlock(&pso_g.mtx);
	if (rc == 0) {
		rec.id = id;
		rec.flags = flags;
		rec.mtime_ms = wall_ms();
		snprintf(rec.name, sizeof(rec.name), "%s", name);
		rc = replicate(&rec);
	}
	if ((urc = pso_lock_do(id, PSO_OWNER_CREATE, 0, 1)) != 0)
		log_warnx("pso: create %s: unlock: %s", name,
		    pso_strerror(urc));
	if (rc == 0 && idp)
		*idp = id;
	return rc;
}

int
pso_lookup(const char *name, pso_id *idp)
{
	struct pso_rec	rec;
	pso_id		id;
	int		rc;

	if ((rc = pso_name_check(name)) != 0)
		return rc;
	if ((rc = api_enter()) != 0)
		return rc;
	id = pso_name_id(name);
	if ((rc = pso_store_get(pso_g.st, id, &rec, NULL)) != 0)
		return rc;
	if (rec.flags & PSO_F_DELETED)
		return PSO_NOTFOUND;
	if (strcmp(rec.name, name) != 0)
		return PSO_COLLISION;
	if (idp)
		*idp = id;
	return 0;
}

int
pso_exist(const char *name)
{
	int rc = pso_lookup(name, NULL);

	return rc == PSO_COLLISION ? PSO_NOTFOUND : rc;
}

static void
info_fill(struct pso_info *info, const struct pso_rec *r)
{
	memset(info, 0, sizeof(*info));
	info->id = r->id;
	snprintf(info->name, sizeof(info->name), "%s", r->name);
	info->flags = r->flags & PSO_F_USER;
	info->version = r->version;
	info->len = r->len;
	info->mtime_ms = r->mtime_ms;
	pthread_mutex_lock(&pso_g.mtx);
	pso_lock_holder(r->id, &info->lock_node, &info->lock_owner);
	pthread_mutex_unlock(&pso_g.mtx);
}

int
pso_read(pso_id id, void **valp, size_t *lenp, struct pso_info *info)
{
	struct pso_rec	 rec;
	void		*val = NULL;
	int		 rc;

	if (valp)
		*valp = NULL;
	if (lenp)
		*lenp = 0;
	if ((rc = api_enter()) != 0)
		return rc;
	if ((rc = pso_store_get(pso_g.st, id, &rec, valp ? &val : NULL)) != 0)
		return rc;
	if (rec.flags & PSO_F_DELETED) {
		free(val);
		return PSO_NOTFOUND;
	}
	if (info)
		info_fill(info, &rec);
	if (valp)
		*valp = val;
	if (lenp)
		*lenp = rec.len;
	return 0;
}

struct list_arg {
	int	(*cb)(const struct pso_info *, void *);
	void	*arg;
	int	 stopped;
};

static int
list_one(const struct pso_rec *r, void *arg)
{
	struct list_arg	*la = arg;
	struct pso_info	 info;

	if (r->flags & PSO_F_DELETED)
		return 0;
	info_fill(&info, r);
	if (la->cb(&info, la->arg) != 0) {
		la->stopped = 1;
		return 1;
	}
	return 0;
}

int
pso_list(int (*cb)(const struct pso_info *, void *), void *arg)
{
	struct list_arg	la = { cb, arg, 0 };
	int		rc;

	if ((rc = api_enter()) != 0)
		return rc;
	rc = pso_store_iter(pso_g.st, 0, list_one, &la);
	return la.stopped ? 0 : rc;
}

int
pso_lock(pso_id id, uint64_t owner, int timeout_ms)
{
	int rc;

	if (id == 0)
		return EINVAL;
	if ((rc = api_enter()) != 0)
		return rc;
	return pso_lock_do(id, owner, timeout_ms, 0);
}

int
pso_unlock(pso_id id, uint64_t owner)
{
	int rc;

	if (id == 0)
		return EINVAL;
	if ((rc = api_enter()) != 0)
		return rc;
	return pso_lock_do(id, owner, 0, 1);
}

void
pso_stats_get(struct pso_stats *s)
{
	uint64_t n = 0;

	memset(s, 0, sizeof(*s));
	if (pso_g.st)
		pso_store_count(pso_g.st, &n);
	pthread_mutex_lock(&pso_g.mtx);
	s->objects = n;
	if (pso_g.running)
		s->locks_held = pso_lock_count(&s->lock_waiters);
	s->writes = pso_g.writes;
	s->repl_applied = pso_g.repl_applied;
	s->synced = pso_g.sync == PSO_SYNC_DONE;
	s->arbiter = pso_g.arbiter;
	pthread_mutex_unlock(&pso_g.mtx);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
pso_bench(pso_id id, uint64_t owner, int count, size_t vlen,
    uint64_t *lat_us)
{
	uint8_t		*val;
	uint64_t	 t;
	int		 i, rc = 0, urc;

	if (count <= 0 || vlen > PSO_VALUE_MAX)
		return EINVAL;
	val = xmalloc(vlen);
	memset(val, 'b', vlen);
	for (i = 0; i < count; i++) {
		t = now_us();
		if ((rc = pso_lock(id, owner, -1)) != 0)
			break;
		rc = pso_write(id, owner, val, vlen, NULL);
		urc = pso_unlock(id, owner);
		if (rc == 0)
			rc = urc;
		lat_us[i] = now_us() - t;
		if (rc != 0)
			break;
	}
	free(val);
	if (rc == 0)
		qsort(lat_us, (size_t)count, sizeof(*lat_us), u64_cmp);
	return rc;
}

/*
 * pso.c — the public PSO API (reads, lists, locks, stats), the module
 * state and its readiness rule, and the HA and link events.
 *
 * Every API call first waits until this head is synced with its peer
 * (pso_api_enter); a head that recovers a damaged or lost store, or that
 * is behind its peer, answers at once with the code of its state unless
 * a resync is under way.  HA opmode and link state land here and are
 * passed on to the lock and sync code; the lock arbiter is the master
 * once it holds a lock table (synced once since it started).  Writes:
 * pso_write.c; locks: pso_lock.c; resync and cold start: pso_sync.c;
 * store: pso_store.c; marker and recovery states: pso_mark.c.
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

/* The code a recovering head answers with. */
static int
recover_code(int recover)
{
	switch (recover) {
	case PSO_RECOVER_DAMAGED:
		return PSO_CORRUPT;
	case PSO_RECOVER_LOST:
		return PSO_STORELOST;
	default:
		return PSO_NOTREADY;
	}
}

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
	while (pso_g.running && pso_g.sync != PSO_SYNC_DONE && rc == 0) {
		/* Recovering with no resync running: nothing to wait for. */
		if (pso_g.recover && !pso_g.resyncing) {
			rc = recover_code(pso_g.recover);
			break;
		}
		if (pthread_cond_timedwait(&pso_g.cond, &pso_g.mtx, &ts) != 0)
			rc = pso_g.recover ? recover_code(pso_g.recover) :
			    PSO_NOTREADY;
	}
	if (!pso_g.running)
		rc = PSO_SHUTDOWN;
	else if (pso_g.sync == PSO_SYNC_DONE)
		rc = 0;
	pthread_mutex_unlock(&pso_g.mtx);
	return rc;
}

int
pso_api_enter(void)
{
	int rc = pso_ready_wait();

	if (rc == 0 && pso_g.st == NULL)
		rc = PSO_SHUTDOWN;
	return rc;
}

/* Loop thread: recompute the arbiter role after any state change. */
static void
state_update(int peer_lost)
{
	int was;

	pthread_mutex_lock(&pso_g.mtx);
	was = pso_g.arbiter;
	/* The master arbitrates once it has a lock table: after its first
	 * sync (a later re-check, e.g. when behind, keeps it arbitrating). */
	pso_g.arbiter = pso_g.running && pso_g.mode == HA_OPMODE_MASTER &&
	    !pso_g.booting;
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

/* The first sync since start, for brl (docs/locks.md): cold or from a
 * serving peer.  first_sync: 0 none yet, 1 warm, 2 cold. */
static void	(*synced_hook)(int cold, void *);
static void	 *synced_hook_arg;
static int	  first_sync;

static void
synced_hook_cb(void *arg)
{
	(void)arg;
	if (synced_hook != NULL && first_sync != 0)
		synced_hook(first_sync == 2, synced_hook_arg);
}

void
pso_set_synced_cb(void (*fn)(int cold, void *), void *arg)
{
	pthread_mutex_lock(&pso_g.mtx);
	synced_hook = fn;
	synced_hook_arg = arg;
	pthread_mutex_unlock(&pso_g.mtx);
	/* registered after the first sync: tell it now */
	if (fn != NULL)
		loop_call(synced_hook_cb, NULL);
}

void
pso_set_synced(int cold)
{
	int first;

	pthread_mutex_lock(&pso_g.mtx);
	pso_g.sync = PSO_SYNC_DONE;
	first = pso_g.booting;
	if (first)
		first_sync = cold ? 2 : 1;
	pso_g.booting = 0;
	pthread_cond_broadcast(&pso_g.cond);
	pthread_mutex_unlock(&pso_g.mtx);
	loop_call(synced_cb, NULL);
	if (first)
		loop_call(synced_hook_cb, NULL);
}

/* Any thread: re-evaluate roles and (re)start the sync thread. */
void
pso_state_kick(void)
{
	loop_call(synced_cb, NULL);
}

/* Any thread, mtx not held: a local commit failed after the peer's ack. */
void
pso_go_behind(void)
{
	pthread_mutex_lock(&pso_g.mtx);
	if (pso_g.recover == PSO_RECOVER_NONE)
		pso_g.recover = PSO_RECOVER_BEHIND;
	pso_g.sync = PSO_SYNC_SYNCING;
	pthread_cond_broadcast(&pso_g.cond);
	pthread_mutex_unlock(&pso_g.mtx);
	pso_mark_behind();
	pso_state_kick();
}

/* Any thread, mtx not held: the peer may hold a write this head lacks
 * (outcome unknown): compare with it as soon as the link allows. */
void
pso_want_resync(void)
{
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.resync_wanted = 1;
	if (pso_g.link_up && pso_g.sync == PSO_SYNC_DONE)
		pso_g.sync = PSO_SYNC_SYNCING;
	pthread_mutex_unlock(&pso_g.mtx);
	pso_state_kick();
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
	 * writes made while the link was down; one that wrote without
	 * learning the outcome compares with the peer. */
	if (up && !was && pso_g.sync == PSO_SYNC_DONE && (!pso_g.arbiter ||
	    pso_g.resync_wanted)) {
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
	pso_g.self_idx = self_idx;
	pso_g.self_node = cfg->heads[self_idx].id;
	pso_g.peer_node = cfg->nheads == 2 ? cfg->heads[1 - self_idx].id : 0;
	snprintf(dir, sizeof(dir), "%s/pso", cfg->heads[self_idx].statedir);
	/* Opens the store (moving a damaged one aside) and decides, with
	 * the marker in the pool, whether it must be recovered first. */
	if ((rc = pso_mark_open(dir)) != 0) {
		log_warnx("pso: cannot open the store in %s: %s", dir,
		    pso_strerror(rc));
		return rc;
	}
	pso_lock_init();
	if ((rc = pso_write_init()) != 0) {
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
		return rc;
	}
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
	log_info("pso: store %s/data.mdb open (store %016llx), node %u", dir,
	    (unsigned long long)pso_store_id(pso_g.st), pso_g.self_node);
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
	pso_write_fini();
	/* The writer's last replies are queued on the loop; a sync thread
	 * still running keeps the store (the process is exiting). */
	if (!sync_running) {
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
	}
	log_info("pso: shut down");
}

/* ---- API ---- */

int
pso_lookup(const char *name, pso_id *idp)
{
	struct pso_rec	rec;
	pso_id		id;
	int		rc;

	if ((rc = pso_name_check(name)) != 0)
		return rc;
	if ((rc = pso_api_enter()) != 0)
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
	if ((rc = pso_api_enter()) != 0)
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

	if ((rc = pso_api_enter()) != 0)
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
	if ((rc = pso_api_enter()) != 0)
		return rc;
	return pso_lock_do(id, owner, timeout_ms, 0);
}

int
pso_unlock(pso_id id, uint64_t owner)
{
	int rc;

	if (id == 0)
		return EINVAL;
	if ((rc = pso_api_enter()) != 0)
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
	s->store = pso_g.recover;
	s->conflicts = pso_g.conflicts;
	pthread_mutex_unlock(&pso_g.mtx);
}

int
pso_reset(void)
{
	int rc;

	pthread_mutex_lock(&pso_g.mtx);
	rc = !pso_g.running ? PSO_SHUTDOWN : pso_g.recover ? 0 : EALREADY;
	pthread_mutex_unlock(&pso_g.mtx);
	if (rc != 0)
		return rc;
	if ((rc = pso_mark_reset()) == 0)
		pso_state_kick();
	return rc;
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

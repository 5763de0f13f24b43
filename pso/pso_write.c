/*
 * pso_write.c — writes: the one owner of object versions, replicated
 * writes under the commit rule, and the writer thread that commits what
 * the peer sends (docs/pso.md, "Versions" and "Writes").
 *
 * A write's version comes from ver_next() (local store, lock entry, the
 * peer's reported version); it goes to the peer first and is committed
 * locally only after the peer's durable ack, so no head shows a value
 * the peer lacks.  A peer ahead answers PSO_CONFLICT and the write is
 * retried above it; a local commit failing after the ack leaves the
 * write standing and this head "behind" until resynced.  The writer
 * thread group-commits incoming WRITE/SYNC_PUSH requests and answers
 * each with its own outcome: a peer never acks what it did not store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "link/link.h"
#include "pso/pso_int.h"

#define PSO_OWNER_CREATE	0xfffffffffffffffeULL	/* internal owner */
#define PSO_WRITE_TRIES		8	/* versions tried against a conflict */

/* Every commit into the local store goes through here: the marker in
 * the pool says "populated" before the first record lands. */
int
pso_apply(const struct pso_rec *recs, int n, int force, struct pso_apres *res,
    int *napplied)
{
	pso_mark_populate();
	return pso_store_apply(pso_g.st, recs, n, force, res, napplied);
}

/* ---- receiving side: writer thread ---- */

struct witem {
	struct witem	*next;
	struct link_req	*rq;
	uint8_t		 type;
	uint8_t		*payload;
	struct pso_rec	*recs;
	uint32_t	 n;
	int32_t		 rc;
	uint64_t	 version;	/* WRITE reply */
};

static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wq_cond = PTHREAD_COND_INITIALIZER;
static struct witem	*wq_head, **wq_tail = &wq_head;
static pthread_t	 wq_thread;
static int		 wq_running, wq_stop;

static void
witem_free(struct witem *it)
{
	free(it->payload);
	free(it->recs);
	free(it);
}

static void
witems_reply(void *arg)
{
	struct witem	*it, *next;
	struct buf	 b;

	buf_init(&b);
	for (it = arg; it; it = next) {
		next = it->next;
		buf_reset(&b);
		if (it->type == PSO_T_WRITE)
			pso_m_wrep_enc(&b, it->rc, it->version);
		else
			pso_m_rc_enc(&b, it->rc);
		link_reply(it->rq, b.data, b.len);
		witem_free(it);
	}
	buf_free(&b);
}

/* Each request's answer from the outcomes of its records. */
static void
witem_outcome(struct witem *it, int rc, const struct pso_apres *res)
{
	uint32_t i;

	it->rc = rc;
	if (rc != 0)
		return;
	if (it->type == PSO_T_WRITE) {
		it->version = res[0].version;
		if (res[0].res == PSO_AP_OLDER || res[0].res == PSO_AP_CONFLICT)
			it->rc = PSO_CONFLICT;
		return;
	}
	for (i = 0; i < it->n; i++)
		if (res[i].res == PSO_AP_CONFLICT)
			it->rc = PSO_CONFLICT;
}

static void *
writer_main(void *arg)
{
	struct witem		*list, *it;
	struct pso_rec		*all = NULL;
	struct pso_apres	*res = NULL;
	size_t			 cap = 0, n;
	int			 rc, applied;

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
			res = xrealloc(res, cap * sizeof(*res));
		}
		for (n = 0, it = list; it; it = it->next) {
			memcpy(all + n, it->recs, it->n * sizeof(*all));
			n += it->n;
		}
		/* One durable commit for everything queued (group commit). */
		rc = pso_apply(all, (int)n, 0, res, &applied);
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.repl_applied += (uint64_t)(rc == 0 ? applied : 0);
		pthread_mutex_unlock(&pso_g.mtx);
		for (n = 0, it = list; it; it = it->next) {
			witem_outcome(it, rc, res + n);
			n += it->n;
		}
		loop_call(witems_reply, list);
	}
	free(all);
	free(res);
	return NULL;
}

/* WRITE and SYNC_PUSH from the peer: queue for the writer thread. */
static void
recv_write_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct witem	*it;
	int32_t		 rc;
	int		 bad;

	(void)arg;
	if (rq == NULL)
		return;
	it = xcalloc(1, sizeof(*it));
	it->rq = rq;
	it->type = type;
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
		it->rc = bad ? EPROTO : PSO_SHUTDOWN;
		it->next = NULL;
		witems_reply(it);
		return;
	}
	pthread_mutex_lock(&wq_mtx);
	*wq_tail = it;
	wq_tail = &it->next;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
}

int
pso_write_init(void)
{
	int rc;

	wq_stop = 0;
	if ((rc = pthread_create(&wq_thread, NULL, writer_main, NULL)) != 0) {
		log_warnx("pso: writer thread: %s", strerror(rc));
		return rc;
	}
	wq_running = 1;
	link_register(PSO_T_WRITE, recv_write_cb, NULL);
	link_register(PSO_T_SYNC_PUSH, recv_write_cb, NULL);
	return 0;
}

void
pso_write_fini(void)
{
	if (!wq_running)
		return;
	pthread_mutex_lock(&wq_mtx);
	wq_stop = 1;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
	pthread_join(wq_thread, NULL);
	wq_running = 0;
}

/* ---- the writing side ---- */

/*
 * The one owner of versions (mtx held): above the local store's version
 * (stored), the peer's (peer, from a PSO_CONFLICT reply) and the lock
 * entry's last issued one.  0 or PSO_NOTLOCKED.
 */
static int
ver_next(pso_id id, uint64_t owner, uint64_t stored, uint64_t peer,
    uint64_t *version)
{
	return pso_lock_next_version(id, owner, MAX(stored, peer), version);
}

/*
 * The commit rule (docs/pso.md, "Writes"): the peer first, then this
 * head.  PSO_CONFLICT with *peer_ver when the peer is ahead.
 */
static int
replicate(struct pso_rec *rec, uint64_t *peer_ver)
{
	struct pso_call		c;
	struct pso_apres	ap;
	uint64_t		deadline = now_ms() + (uint64_t)pso_req_timeout();
	uint64_t		pver = 0;
	int32_t			prc;
	int			rc = 0, st, alive, up, acked = 0, recheck = 0;

	*peer_ver = 0;
	rec->flags &= ~PSO_F_SOLO;
	pso_call_init(&c, PSO_T_WRITE, pso_req_timeout());
	pso_m_write_enc(&c.req, rec);
	for (;;) {
		/* A peer that HA declared dead is still sent the write while
		 * the link is up: a head resuming from a freeze may hold a
		 * stale verdict, and only an unreachable peer may be left
		 * out. */
		pthread_mutex_lock(&pso_g.mtx);
		alive = pso_g.peer_alive;
		up = pso_g.link_up;
		pthread_mutex_unlock(&pso_g.mtx);
		if (!alive && !up)
			break;		/* declared dead, unreachable: alone */
		pso_call_start(&c);
		if ((st = pso_call_wait(&c)) == 0) {
			if (pso_m_wrep_dec(c.rep, c.replen, &prc, &pver) < 0)
				prc = EPROTO;
			if (prc == 0) {
				acked = 1;
				break;
			}
			if (prc == PSO_CONFLICT) {
				*peer_ver = pver;
				rc = PSO_CONFLICT;
			} else {
				log_warnx("pso: peer failed to commit %s v%llu:"
				    " %s", rec->name,
				    (unsigned long long)rec->version,
				    pso_strerror(prc));
				rc = PSO_PEERFAIL;
			}
			goto out;
		}
		pthread_mutex_lock(&pso_g.mtx);
		alive = pso_g.peer_alive;
		pthread_mutex_unlock(&pso_g.mtx);
		if (!alive)
			break;		/* declared dead: this head alone */
		if (now_ms() >= deadline) {
			log_warnx("pso: peer did not ack %s v%llu in %d ms",
			    rec->name, (unsigned long long)rec->version,
			    pso_req_timeout());
			recheck = 1;
			rc = PSO_PEERFAIL;
			goto out;
		}
		usleep(10000);
		c.timeout_ms = (int)MAX(1, (int64_t)(deadline - now_ms()));
	}
	/* Committed here alone: marked, so that a merge after a split can
	 * tell a forked history from a sequence, and compared with the
	 * peer as soon as it can be reached (docs/pso.md, "Resync"). */
	if (!acked) {
		rec->flags |= PSO_F_SOLO;
		recheck = 1;
	}
	rc = pso_apply(rec, 1, 0, &ap, NULL);
	if (rc == 0 && (ap.res == PSO_AP_OLDER || ap.res == PSO_AP_CONFLICT)) {
		log_warnx("pso: %s: local store holds v%llu, cannot store "
		    "v%llu", rec->name, (unsigned long long)ap.version,
		    (unsigned long long)rec->version);
		*peer_ver = ap.version;
		rc = PSO_CONFLICT;
	}
	if (rc != 0 && acked) {
		log_warnx("pso: %s v%llu is committed on the peer only (%s "
		    "here): catching up from the peer", rec->name,
		    (unsigned long long)rec->version, pso_strerror(rc));
		pso_go_behind();
		rc = 0;
	}
out:
	pso_call_free(&c);
	if (recheck)
		pso_want_resync();
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
	uint64_t	peer = 0, pver;
	int		rc, tries;

	if ((rc = pso_api_enter()) != 0)
		return rc;
	if (len > PSO_VALUE_MAX)
		return PSO_TOOBIG;
	if (len > 0 && val == NULL)
		return EINVAL;
	for (tries = 0; tries < PSO_WRITE_TRIES; tries++) {
		pthread_mutex_lock(&pso_g.mtx);
		rc = pso_store_get(pso_g.st, id, &rec, NULL);
		if (rc == 0 && (rec.flags & PSO_F_DELETED))
			rc = PSO_NOTFOUND;
		if (rc == 0)
			rc = ver_next(id, owner, rec.version, peer,
			    &rec.version);
		pthread_mutex_unlock(&pso_g.mtx);
		if (rc != 0)
			return rc;
		rec.mtime_ms = wall_ms();
		if (del) {
			rec.flags |= PSO_F_DELETED;
			rec.val = NULL;
			rec.len = 0;
		} else {
			rec.val = val;
			rec.len = (uint32_t)len;
		}
		if ((rc = replicate(&rec, &pver)) != PSO_CONFLICT)
			break;
		log_info("pso: %s: the peer holds v%llu, retrying above it",
		    rec.name, (unsigned long long)pver);
		peer = MAX(peer, pver);
	}
	if (rc == 0 && versionp)
		*versionp = rec.version;
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

/*
 * A create is a write of version 1 (or above a tombstone) under an
 * internal lock owner.  A peer that answers PSO_CONFLICT holds a record
 * this head has not seen; it may be live, and a create must not
 * overwrite it: no retry, resync instead (the caller may try again).
 */
int
pso_create(const char *name, uint32_t flags, pso_id *idp)
{
	struct pso_rec	rec, old;
	uint64_t	pver;
	pso_id		id;
	int		rc, urc;

	if ((rc = pso_name_check(name)) != 0)
		return rc;
	if (flags & ~PSO_F_USER)
		return EINVAL;
	if ((rc = pso_api_enter()) != 0)
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
		rc = ver_next(id, PSO_OWNER_CREATE, rc == 0 ? old.version : 0,
		    0, &rec.version);
	pthread_mutex_unlock(&pso_g.mtx);
	if (rc == 0) {
		rec.id = id;
		rec.flags = flags;
		rec.mtime_ms = wall_ms();
		snprintf(rec.name, sizeof(rec.name), "%s", name);
		if ((rc = replicate(&rec, &pver)) == PSO_CONFLICT) {
			log_warnx("pso: create %s: the peer holds v%llu that "
			    "this head has not seen: resync", name,
			    (unsigned long long)pver);
			pso_want_resync();
		}
	}
	if ((urc = pso_lock_do(id, PSO_OWNER_CREATE, 0, 1)) != 0)
		log_warnx("pso: create %s: unlock: %s", name,
		    pso_strerror(urc));
	if (rc == 0 && idp)
		*idp = id;
	return rc;
}

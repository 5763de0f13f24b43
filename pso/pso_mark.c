/*
 * pso_mark.c — what this head knows about its store beyond the store:
 * the PSO marker in the pool's private extents, and the recovery states
 * (damaged, lost, behind) that keep a head from serving PSO with less
 * than the cluster acknowledged (docs/pso.md, "Store damage and loss").
 *
 * At start a store that fails the pre-open check or that LMDB refuses
 * is moved aside and replaced ("damaged"); a marker naming another store
 * that held objects makes the store "lost".  The marker is written when
 * it does not name the store, before the first record lands in a store,
 * when a write leaves the head behind, after each completed resync and
 * on `pso reset --confirm`.  Marker I/O blocks (direct I/O): never on
 * the loop thread after start, never under pso_g.mtx.  The recovering
 * itself is pso_sync.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"
#include "pso/pso_int.h"

#define MARK_LUNS	3	/* the first LUNs of duonas.conf carry it */
#define MARK_RETRY_MS	5000	/* after a write no LUN took */

static struct {
	pthread_mutex_t	mtx;		/* marker I/O and the fields below */
	int		nluns;		/* LUNs that carry the marker */
	int		populated;	/* array: POPULATED for our store */
	int		behind;		/* array: BEHIND */
	uint64_t	seq;		/* highest seq read or written */
	uint64_t	max_version;	/* last known (diagnostics) */
	uint64_t	retry_ms;	/* no write attempt before */
} mk = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static const char *
reason_name(int r)
{
	switch (r) {
	case PSO_RECOVER_DAMAGED:	return "damaged";
	case PSO_RECOVER_LOST:		return "lost";
	case PSO_RECOVER_BEHIND:	return "behind";
	default:			return "ok";
	}
}

static int
lun_open(int i, struct pool_lun *pl)
{
	const struct cfg_lun	*l = &pso_g.cfg->luns[i];
	int			 rc;

	if ((rc = pool_lun_open(pl, l->path, pext_pool_id(pso_g.cfg->cluster),
	    l->id, pso_g.self_node)) != 0)
		return rc;
	pool_lun_setname(pl, l->name);
	if ((rc = pool_lun_load(pl)) != 0)
		pool_lun_close(pl);
	return rc;
}

/* The newest valid marker of this head on the marker LUNs: 0, or
 * PSO_NOTFOUND when no LUN has one. */
static int
mark_read(struct pext_psomark *best)
{
	struct pext_psomark	m;
	struct pool_lun		pl;
	int			i, found = 0;

	memset(best, 0, sizeof(*best));
	for (i = 0; i < mk.nluns; i++) {
		if (lun_open(i, &pl) != 0)
			continue;
		if (pool_psomark_read(&pl, pso_g.self_idx, &m) == 0 &&
		    m.node_id == pso_g.self_node &&
		    (!found || m.seq > best->seq)) {
			*best = m;
			found = 1;
		}
		pool_lun_close(&pl);
	}
	if (found)
		mk.seq = MAX(mk.seq, best->seq);
	return found ? 0 : PSO_NOTFOUND;
}

/* mk.mtx held.  Write the marker to every marker LUN; 0 when one took
 * it.  objects/max_version: UINT64_MAX = count / keep the last. */
static int
mark_write(uint32_t flags, uint64_t objects)
{
	struct pext_psomark	m;
	struct pool_lun		pl;
	int			i, ok = 0;

	if (mk.nluns == 0)
		return 0;
	if (objects == UINT64_MAX && pso_store_count(pso_g.st, &objects) != 0)
		objects = 0;
	memset(&m, 0, sizeof(m));
	m.node_id = pso_g.self_node;
	m.flags = flags;
	m.seq = mk.seq + 1;
	m.store_id = pso_store_id(pso_g.st);
	m.objects = objects;
	m.max_version = mk.max_version;
	for (i = 0; i < mk.nluns; i++) {
		if (lun_open(i, &pl) != 0)
			continue;
		if (pool_psomark_write(&pl, pso_g.self_idx, &m) == 0)
			ok++;
		pool_lun_close(&pl);
	}
	if (ok == 0) {
		log_warnx("pso: no LUN took this head's PSO marker: a lost "
		    "store would go unnoticed (retrying later)");
		mk.retry_ms = now_ms() + MARK_RETRY_MS;
		return EIO;
	}
	mk.seq = m.seq;
	mk.populated = (flags & PEXT_PSOMARK_POPULATED) != 0;
	mk.behind = (flags & PEXT_PSOMARK_BEHIND) != 0;
	mk.retry_ms = 0;
	return 0;
}

static int
max_one(const struct pso_rec *r, void *arg)
{
	uint64_t *max = arg;

	*max = MAX(*max, r->version);
	return 0;
}

/* mk.mtx held: the marker for the store as it is now. */
static int
mark_write_full(void)
{
	uint64_t	n = 0, max = 0;

	pso_store_count(pso_g.st, &n);
	if (pso_store_iter(pso_g.st, 0, max_one, &max) == 0)
		mk.max_version = max;
	return mark_write(n ? PEXT_PSOMARK_POPULATED : 0, n);
}

/* Open the store in dir; a damaged one is moved aside once. */
static int
store_open(const char *dir, int *damaged)
{
	int rc, reason;

	*damaged = 0;
	rc = pso_store_open(dir, pso_g.cfg->pso_mapsize_mb, &pso_g.st);
	if (rc == 0 && (rc = pso_store_recover_get(pso_g.st, &reason)) != 0) {
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
	}
	if (rc != PSO_CORRUPT)
		return rc;
	log_warnx("pso: %s/data.mdb is damaged: moving it aside; the "
	    "objects come back from the peer", dir);
	if ((rc = pso_store_move_aside(dir)) != 0)
		return rc;
	*damaged = 1;
	if ((rc = pso_store_open(dir, pso_g.cfg->pso_mapsize_mb,
	    &pso_g.st)) != 0)
		return rc;
	if ((rc = pso_store_recover_set(pso_g.st, PSO_RECOVER_DAMAGED)) != 0) {
		pso_store_close(pso_g.st);
		pso_g.st = NULL;
	}
	return rc;
}

int
pso_mark_open(const char *dir)
{
	struct pext_psomark	m;
	uint64_t		id;
	int			rc, damaged, reason = 0, found;

	if ((rc = store_open(dir, &damaged)) != 0)
		return rc;
	if ((rc = pso_store_recover_get(pso_g.st, &reason)) != 0)
		goto fail;
	id = pso_store_id(pso_g.st);
	pthread_mutex_lock(&mk.mtx);
	mk.nluns = MIN(pso_g.cfg->nluns, MARK_LUNS);
	found = mk.nluns > 0 && mark_read(&m) == 0;
	if (found) {
		mk.max_version = m.max_version;
		if (m.store_id == id) {
			mk.populated = (m.flags & PEXT_PSOMARK_POPULATED) != 0;
			mk.behind = (m.flags & PEXT_PSOMARK_BEHIND) != 0;
		}
	}
	if (reason == PSO_RECOVER_NONE && found && m.store_id == id &&
	    (m.flags & PEXT_PSOMARK_BEHIND))
		reason = PSO_RECOVER_BEHIND;
	if (reason == PSO_RECOVER_NONE && found && m.store_id != id &&
	    (m.flags & PEXT_PSOMARK_POPULATED)) {
		log_warnx("pso: the pool records that this head's store "
		    "%016llx held %llu objects (highest version %llu); the "
		    "store here is %016llx%s: PSO is refused until a resync "
		    "from the peer or 'duonas pso reset --confirm'",
		    (unsigned long long)m.store_id,
		    (unsigned long long)m.objects,
		    (unsigned long long)m.max_version, (unsigned long long)id,
		    pso_store_created(pso_g.st) ? " (new: data.mdb was "
		    "missing or empty)" : "");
		reason = PSO_RECOVER_LOST;
		if ((rc = pso_store_recover_set(pso_g.st, reason)) != 0) {
			pthread_mutex_unlock(&mk.mtx);
			goto fail;
		}
	}
	/* A healthy store the marker does not name yet (new cluster, new
	 * LUNs, marker from before the store was recovered). */
	if (reason == PSO_RECOVER_NONE && mk.nluns > 0 &&
	    (!found || m.store_id != id))
		mark_write_full();
	pthread_mutex_unlock(&mk.mtx);
	pso_g.recover = reason;
	if (reason != PSO_RECOVER_NONE)
		log_warnx("pso: store %s: PSO waits for a resync from the "
		    "peer (or 'duonas pso reset --confirm')%s",
		    reason_name(reason), damaged ? "; the damaged file is "
		    "data.mdb.damaged" : "");
	return 0;
fail:
	pso_store_close(pso_g.st);
	pso_g.st = NULL;
	return rc;
}

void
pso_mark_populate(void)
{
	pthread_mutex_lock(&mk.mtx);
	if (mk.nluns > 0 && !mk.populated && now_ms() >= mk.retry_ms &&
	    mark_write(PEXT_PSOMARK_POPULATED |
	    (mk.behind ? PEXT_PSOMARK_BEHIND : 0), UINT64_MAX) == 0)
		log_info("pso: marker: store %016llx holds objects",
		    (unsigned long long)pso_store_id(pso_g.st));
	pthread_mutex_unlock(&mk.mtx);
}

void
pso_mark_behind(void)
{
	pthread_mutex_lock(&mk.mtx);
	if (mk.nluns > 0 && !mk.behind)
		mark_write(PEXT_PSOMARK_POPULATED | PEXT_PSOMARK_BEHIND,
		    UINT64_MAX);
	pthread_mutex_unlock(&mk.mtx);
}

/* Clear the recovery state in the store and in memory, then the
 * marker.  The store first: a crash in between leaves a marker that
 * still names the old store, and the next start recovers again. */
static int
recover_clear(const char *why)
{
	int	rc, was;

	pthread_mutex_lock(&pso_g.mtx);
	was = pso_g.recover;
	pthread_mutex_unlock(&pso_g.mtx);
	if ((was == PSO_RECOVER_DAMAGED || was == PSO_RECOVER_LOST) &&
	    (rc = pso_store_recover_set(pso_g.st, 0)) != 0)
		return rc;
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.recover = PSO_RECOVER_NONE;
	pso_g.resync_wanted = 0;
	pthread_cond_broadcast(&pso_g.cond);
	pthread_mutex_unlock(&pso_g.mtx);
	if (was != PSO_RECOVER_NONE)
		log_info("pso: store was %s: %s", reason_name(was), why);
	pthread_mutex_lock(&mk.mtx);
	mark_write_full();
	pthread_mutex_unlock(&mk.mtx);
	return 0;
}

int
pso_mark_synced(void)
{
	int rc;

	if ((rc = recover_clear("recovered from the peer")) != 0)
		log_warnx("pso: clearing the recovery state: %s",
		    pso_strerror(rc));
	return rc;
}

int
pso_mark_reset(void)
{
	log_warnx("pso: the administrator confirmed the loss of what this "
	    "head's store lacks (duonas pso reset --confirm)");
	return recover_clear("loss confirmed by the administrator");
}

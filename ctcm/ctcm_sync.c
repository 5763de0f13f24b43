/*
 * ctcm_sync.c — the one owner of configuration generations and epochs,
 * and the background work that keeps every copy current.
 *
 * Before a number is issued, ctcm_sync_prepare() reads every place one
 * is stored: each LUN's replica (a majority of the replica set must
 * answer), the local database, the peer, and what this process has seen.
 * It adopts a configuration that ranks above this head's committed one,
 * claims a new epoch for a new master (written to a majority before the
 * master writes anything else) and rewrites replicas that are behind
 * (docs/ctcm.md, "Numbering", "Recovery rules").
 * The worker thread (one per head) retries failed local installs, lets
 * the master claim and repair at once and every 2 s, compares with the
 * peer every 2 s, and in MONITOR looks for a valid configuration on the
 * array or the peer.  It never runs on the loop thread and takes
 * ctcm_g.txn for anything that writes.  It does not commit changes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "ha/ha.h"
#include "link/link.h"

#define SYNC_INTERVAL_MS	2000

static volatile int	stopping;
static pthread_t	worker_tid;
static int		worker_started;

/* After a failed install: the generations committed meanwhile go into
 * the local history too. */
static void
save_recent(uint64_t keep)
{
	struct ctcm_bundle	v[CTCM_HISTORY_ARRAY];
	int			n;

	pthread_mutex_lock(&ctcm_g.mtx);
	n = ctcm_g.nrecent;
	for (int i = 0; i < n; i++)
		ctcm_bundle_copy(&v[i], &ctcm_g.recent[i]);
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_local_save_history(&ctcm_g.local, v, n, keep);
	for (int i = 0; i < n; i++)
		ctcm_bundle_free(&v[i]);
}

int
ctcm_sync_install(char *err, size_t errlen)
{
	struct ctcm_bundle	 b;
	struct cfg		*c;
	char			 was[sizeof(ctcm_g.inst_err)];
	int			 rc;

	err[0] = 0;
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.gen == 0 || (ctcm_g.inst_gen == ctcm_g.gen &&
	    ctcm_g.inst_crc == ctcm_g.crc)) {
		pthread_mutex_unlock(&ctcm_g.mtx);
		return 0;
	}
	ctcm_bundle_copy(&b, &ctcm_g.cur);
	c = xmalloc(sizeof(*c));
	*c = ctcm_g.cfg;
	snprintf(was, sizeof(was), "%s", ctcm_g.inst_err);
	pthread_mutex_unlock(&ctcm_g.mtx);
	rc = ctcm_local_install(&ctcm_g.local, &b, err, errlen);
	pthread_mutex_lock(&ctcm_g.mtx);
	if (rc == 0) {
		ctcm_g.inst_gen = b.gen;
		ctcm_g.inst_crc = ctcm_content_crc(&b);
		ctcm_g.inst_err[0] = 0;
	} else
		snprintf(ctcm_g.inst_err, sizeof(ctcm_g.inst_err), "%s", err);
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (rc == 0) {
		if (was[0]) {
			log_info("ctcm: generation %llu installed locally "
			    "(it had failed: %s)", (unsigned long long)b.gen,
			    was);
			save_recent(b.gen);
		}
		ctcm_installed(&b, c);
	} else if (strcmp(was, err) != 0)
		log_warnx("ctcm: installing generation %llu locally: %s; "
		    "retrying", (unsigned long long)b.gen, err);
	ctcm_bundle_free(&b);
	free(c);
	return rc;
}

/* Our next epoch: the one we are claiming already, or above all seen. */
static uint64_t
next_epoch(uint64_t seen, uint32_t node)
{
	uint64_t	t = ctcm_g.claim_try;

	if (t > seen && (t & 0xff) == (node & 0xff))
		return t;
	return ctcm_epoch_next(seen, node);
}

/* Adopt the array's best when it ranks above our committed copy. */
static void
adopt(const struct ctcm_bundle *v, int n, const char *lun)
{
	static uint64_t	refused_logged;
	uint64_t	gen, vepoch;
	uint32_t	crc;
	char		err[512];
	int		refused;

	pthread_mutex_lock(&ctcm_g.mtx);
	gen = ctcm_g.gen;
	vepoch = ctcm_g.vepoch;
	crc = ctcm_g.crc;
	/* One this head was told failed, or any of this head's own epoch as
	 * the master: every generation it committed in its epoch is its
	 * committed copy or below, so one above is a commit answered "not
	 * committed" (several may have failed in a row). */
	refused = (ctcm_g.refused_gen != 0 && v[0].gen == ctcm_g.refused_gen &&
	    v[0].vepoch == ctcm_g.refused_epoch &&
	    v[0].content_crc == ctcm_g.refused_crc) ||
	    (ctcm_g.opmode == HA_OPMODE_MASTER && ctcm_g.epoch != 0 &&
	    !ctcm_g.claiming && v[0].vepoch == ctcm_g.epoch);
	if (refused && ctcm_rank_cmp(v[0].vepoch, v[0].gen, vepoch, gen) > 0)
		ctcm_g.supersede = 1;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (ctcm_rank_cmp(v[0].vepoch, v[0].gen, vepoch, gen) <= 0)
		return;
	/* The admin was told this one was not committed: it must never
	 * take effect; the worker commits the current content above it. */
	if (refused) {
		if (refused_logged != v[0].gen)
			log_warnx("ctcm: not adopting generation %llu from LUN "
			    "%s: its commit failed (answered not committed); "
			    "superseding it", (unsigned long long)v[0].gen,
			    lun);
		refused_logged = v[0].gen;
		return;
	}
	if (v[0].gen == gen && v[0].content_crc == crc) {
		/* the same configuration committed again (equal edit) */
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.vepoch = ctcm_g.cur.vepoch = v[0].vepoch;
		pthread_mutex_unlock(&ctcm_g.mtx);
		return;
	}
	log_warnx("ctcm: adopting generation %llu (epoch %llu) from LUN %s: "
	    "it ranks above this head's generation %llu (epoch %llu)",
	    (unsigned long long)v[0].gen, (unsigned long long)v[0].vepoch,
	    lun, (unsigned long long)gen, (unsigned long long)vepoch);
	ctcm_state_committed(&v[0], NULL);
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.adoptions++;
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_local_save_history(&ctcm_g.local, v + 1, n - 1, v[0].gen);
	ctcm_sync_install(err, sizeof(err));
}

/* The replicas of the set that do not hold (epoch, committed). */
static uint64_t
lagging(const struct ctcm_replica *rep, int setsize, uint64_t epoch)
{
	uint64_t mask = 0;

	for (int i = 0; i < setsize; i++)
		if (rep[i].rc != 0 || rep[i].epoch != epoch ||
		    rep[i].gen != ctcm_g.gen || rep[i].content_crc != ctcm_g.crc)
			mask |= UINT64_C(1) << i;
	return mask;
}

/* Write the committed configuration in epoch to the LUNs in mask. */
static int
write_committed(const struct cfg *c, uint64_t epoch, uint64_t mask,
    struct ctcm_replica *rep)
{
	struct ctcm_bundle	b;
	struct buf		img;
	int			ok;

	if (ctcm_current(&b) != 0)
		return 0;
	buf_init(&img);
	ctcm_build_image(&b, epoch, &img);
	ok = img.len == 0 ? 0 : ctcm_array_write(c, ctcm_g.self,
	    ctcm_g.nreplicas, epoch, b.gen, img.data, img.len, mask, rep);
	buf_free(&img);
	ctcm_bundle_free(&b);
	return ok;
}

int
ctcm_sync_prepare(int flags, struct ctcm_view *v, char *msg, size_t msglen)
{
	struct cfg		*c = xmalloc(sizeof(*c));
	struct ctcm_replica	*rep = xcalloc(CFG_MAX_LUNS, sizeof(*rep));
	struct ctcm_bundle	*img = NULL;
	uint64_t		 seen, eseen, mask, mine;
	uint32_t		 node;
	int			 nimg = 0, best, rc = 0, ok = 0;

	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&ctcm_g.mtx);
	*c = ctcm_g.cfg;
	node = c->heads[ctcm_g.self].id;
	v->setsize = ctcm_array_setsize(c, ctcm_g.nreplicas);
	v->need = ctcm_array_majority(v->setsize);
	/* A master whose epoch is claimed and that read every replica (or
	 * read back its last write to each) within the interval knows every
	 * number: other heads' writes are refused where its epoch is, and a
	 * higher epoch found by a read-back ends this (epoch_seen).  The
	 * worker still reads everything every interval. */
	if (flags == CTCM_SYNC_CLAIM && ctcm_g.epoch != 0 &&
	    !ctcm_g.claiming && ctcm_g.epoch >= ctcm_g.epoch_seen &&
	    v->setsize > 0 && now_ms() - ctcm_g.last_read_ms <
	    SYNC_INTERVAL_MS) {
		v->next_gen = ctcm_g.max_seen + 1;
		v->epoch = ctcm_g.epoch;
		v->nread = v->setsize;
		pthread_mutex_unlock(&ctcm_g.mtx);
		if (v->next_gen > CTCM_GEN_MAX) {
			snprintf(msg, msglen, "the generation numbers are "
			    "exhausted");
			rc = CTCM_E_FORMAT;
		}
		goto out;
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
	/* 1: every copy: replicas, local database, the peer */
	best = ctcm_array_read(c, ctcm_g.self, ctcm_g.nreplicas, rep, &img,
	    &nimg);
	v->nread = ctcm_array_readable(rep, c->nluns);
	if (link_peer_up())
		ctcm_peer_query();
	seen = ctcm_local_max_gen(&ctcm_g.local);
	eseen = 0;
	for (int i = 0; i < c->nluns; i++)
		if (rep[i].rc == 0) {
			seen = MAX(seen, rep[i].gen);
			eseen = MAX(eseen, rep[i].epoch);
		}
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.peer_known) {
		seen = MAX(seen, MAX(ctcm_g.peer_max_seen, ctcm_g.peer_gen));
		eseen = MAX(eseen, MAX(ctcm_g.peer_epoch, ctcm_g.peer_vepoch));
	}
	ctcm_g.max_seen = MAX(ctcm_g.max_seen, seen);
	ctcm_g.epoch_seen = MAX(ctcm_g.epoch_seen, eseen);
	seen = ctcm_g.max_seen;
	eseen = ctcm_g.epoch_seen;
	memcpy(ctcm_g.rep, rep, sizeof(*rep) * (size_t)c->nluns);
	ctcm_g.nrep = c->nluns;
	/* A replica above the committed copy in this master's own epoch
	 * holds a commit answered "not committed" (adopt() never takes it,
	 * and no repair can write below it): commit above it. */
	for (int i = 0; i < c->nluns; i++)
		if (rep[i].rc == 0 && ctcm_g.opmode == HA_OPMODE_MASTER &&
		    ctcm_g.epoch != 0 && !ctcm_g.claiming &&
		    rep[i].vepoch == ctcm_g.epoch && rep[i].gen > ctcm_g.gen)
			ctcm_g.supersede = 1;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (v->setsize > 0 && v->nread < v->need) {
		snprintf(msg, msglen, "only %d of %d configuration replicas "
		    "could be read (need %d): not choosing a generation",
		    v->nread, v->setsize, v->need);
		rc = CTCM_E_NOREAD;
		goto out;
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.last_read_ms = now_ms();
	pthread_mutex_unlock(&ctcm_g.mtx);
	/* 2: adopt what ranks above our committed copy (not in MONITOR:
	 * there the import is the administrator's choice) */
	if (!(flags & CTCM_SYNC_IMPORT)) {
		if (best >= 0)
			adopt(img, nimg, rep[best].lun);
		if (flags & CTCM_SYNC_CLAIM)
			ctcm_peer_pull();
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	mine = ctcm_g.epoch;
	v->next_gen = ctcm_g.max_seen + 1;
	*c = ctcm_g.cfg;		/* an adopted one may name other LUNs */
	pthread_mutex_unlock(&ctcm_g.mtx);
	v->setsize = ctcm_array_setsize(c, ctcm_g.nreplicas);
	v->need = ctcm_array_majority(v->setsize);
	if (v->next_gen > CTCM_GEN_MAX) {
		snprintf(msg, msglen, "the generation numbers are exhausted");
		rc = CTCM_E_FORMAT;
		goto out;
	}
	if (flags & CTCM_SYNC_IMPORT) {
		v->epoch = next_epoch(eseen, node);
		goto check;
	}
	if (!(flags & CTCM_SYNC_CLAIM))
		goto out;
	/* 3: claim an epoch: new mastership, or a higher one seen */
	if (mine == 0 || mine < eseen) {
		uint64_t e = next_epoch(eseen, node);

		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.claim_try = e;
		ctcm_g.claiming = 1;
		pthread_mutex_unlock(&ctcm_g.mtx);
		if (v->setsize > 0) {
			mask = (v->setsize >= 64 ? ~UINT64_C(0) :
			    (UINT64_C(1) << v->setsize) - 1);
			ok = write_committed(c, e, mask, rep);
			if (ok < v->need) {
				snprintf(msg, msglen, "cannot claim epoch %llu "
				    "as the new master: only %d of %d "
				    "configuration replicas written (need %d)",
				    (unsigned long long)e, ok, v->setsize,
				    v->need);
				rc = CTCM_E_NOMAJORITY;
				goto out;
			}
			log_info("ctcm: epoch %llu claimed (generation %llu "
			    "on %d of %d replicas)%s", (unsigned long long)e,
			    (unsigned long long)ctcm_g.gen, ok, v->setsize,
			    mine ? "; a higher epoch than ours was seen" : "");
		}
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.epoch = e;
		ctcm_g.epoch_seen = MAX(ctcm_g.epoch_seen, e);
		ctcm_g.claiming = 0;
		ctcm_g.claims++;
		ctcm_g.repair = v->setsize > 0 && ok < v->setsize;
		memcpy(ctcm_g.rep, rep, sizeof(*rep) * (size_t)c->nluns);
		pthread_mutex_unlock(&ctcm_g.mtx);
		mine = e;
	} else if ((flags & CTCM_SYNC_REPAIR) &&
	    (mask = lagging(rep, v->setsize, mine)) != 0) {
		/* 4: rewrite the replicas behind, at once */
		ok = write_committed(c, mine, mask, rep);
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.repair = lagging(rep, v->setsize, mine) != 0;
		ctcm_g.repairs++;
		memcpy(ctcm_g.rep, rep, sizeof(*rep) * (size_t)c->nluns);
		pthread_mutex_unlock(&ctcm_g.mtx);
		log_info("ctcm: repaired %d replica(s) behind generation %llu",
		    ok, (unsigned long long)ctcm_g.gen);
	} else if (flags & CTCM_SYNC_REPAIR) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.repair = 0;
		pthread_mutex_unlock(&ctcm_g.mtx);
	}
	v->epoch = mine;
check:
	if (v->epoch > CTCM_EPOCH_MAX) {
		snprintf(msg, msglen, "the epoch numbers are exhausted");
		rc = CTCM_E_FORMAT;
	}
out:
	if (rc != 0) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.claiming = 0;
		pthread_mutex_unlock(&ctcm_g.mtx);
	}
	ctcm_bundles_free(img, nimg);
	free(rep);
	free(c);
	return rc;
}

const char *
ctcm_sync_state(void)
{
	if (ctcm_g.monitor)
		return "monitor";
	if (ctcm_g.gen != 0 && (ctcm_g.inst_gen != ctcm_g.gen ||
	    ctcm_g.inst_crc != ctcm_g.crc))
		return "installing";
	if (ctcm_g.opmode == HA_OPMODE_MASTER && (ctcm_g.epoch == 0 ||
	    ctcm_g.claiming))
		return "claiming";
	if (ctcm_g.repair && ctcm_g.opmode == HA_OPMODE_MASTER)
		return "repairing";
	return "ok";
}

void
ctcm_sync_wake(void)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.wakeup = 1;
	pthread_cond_signal(&ctcm_g.wake);
	pthread_mutex_unlock(&ctcm_g.mtx);
}

void
ctcm_sync_opmode(int mode)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	if (mode != ctcm_g.opmode) {
		/* a new mastership claims its own epoch */
		if (mode == HA_OPMODE_MASTER || ctcm_g.opmode ==
		    HA_OPMODE_MASTER)
			ctcm_g.epoch = 0;
		ctcm_g.opmode = mode;
		ctcm_g.wakeup = 1;
		pthread_cond_signal(&ctcm_g.wake);
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
}

/* MONITOR: a valid configuration on the array or at the peer ends it. */
static void
monitor_poll(void)
{
	struct ctcm_replica	*rep = xcalloc(CFG_MAX_LUNS, sizeof(*rep));
	struct ctcm_bundle	*img = NULL;
	struct cfg		*c = xmalloc(sizeof(*c));
	struct buf		 b;
	int			 n = 0;

	pthread_mutex_lock(&ctcm_g.mtx);
	*c = ctcm_g.cfg;
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_array_read(c, ctcm_g.self, ctcm_g.nreplicas, rep, &img, &n);
	pthread_mutex_lock(&ctcm_g.txn);
	if (img != NULL && ctcm_monitor() && !stopping) {
		log_warnx("ctcm: MONITOR: a valid configuration (generation "
		    "%llu) appeared on the array", (unsigned long long)
		    img[0].gen);
		buf_init(&b);
		ctcm_image_encode(img, n, img[0].vepoch, 0, &b);
		ctcm_peer_accept(b.data, b.len, 0);
		buf_free(&b);
	} else if (link_peer_up() && ctcm_monitor() && !stopping &&
	    ctcm_peer_query() == 0)
		ctcm_peer_pull();
	pthread_mutex_unlock(&ctcm_g.txn);
	ctcm_bundles_free(img, n);
	free(rep);
	free(c);
}

static void *
worker(void *arg)
{
	uint64_t	last_array = 0, last_peer = 0, last_super = 0, refused;
	char		msg[768], lastmsg[768] = "";

	(void)arg;
	while (!stopping) {
		struct ctcm_view	v;
		struct timespec		ts;
		int			monitor, master, behind, due;
		int			supersede;
		uint64_t		now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&ctcm_g.mtx);
		while (!ctcm_g.wakeup && !stopping &&
		    pthread_cond_timedwait(&ctcm_g.wake, &ctcm_g.mtx, &ts) == 0)
			;
		ctcm_g.wakeup = 0;
		monitor = ctcm_g.monitor;
		master = ctcm_g.opmode == HA_OPMODE_MASTER;
		behind = ctcm_g.gen != 0 && (ctcm_g.inst_gen != ctcm_g.gen ||
		    ctcm_g.inst_crc != ctcm_g.crc);
		due = master && (ctcm_g.epoch == 0 || ctcm_g.repair);
		supersede = ctcm_g.supersede;
		refused = ctcm_g.refused_gen;
		pthread_mutex_unlock(&ctcm_g.mtx);
		if (stopping)
			break;
		now = now_ms();
		if (monitor) {
			if (now - last_array >= SYNC_INTERVAL_MS) {
				last_array = now;
				monitor_poll();
			}
			continue;
		}
		if (behind) {
			pthread_mutex_lock(&ctcm_g.txn);
			if (ctcm_sync_install(msg, sizeof(msg)) == 0) {
				pthread_mutex_lock(&ctcm_g.mtx);
				ctcm_g.installs_retried++;
				pthread_mutex_unlock(&ctcm_g.mtx);
			}
			pthread_mutex_unlock(&ctcm_g.txn);
		}
		if (master && supersede && now - last_super >=
		    SYNC_INTERVAL_MS) {
			last_super = now;
			if (ctcm_txn_supersede() == 0)
				log_info("ctcm: copies of the failed commit "
				    "of generation %llu superseded",
				    (unsigned long long)refused);
		}
		if (master && (due || now - last_array >= SYNC_INTERVAL_MS)) {
			last_array = now;
			pthread_mutex_lock(&ctcm_g.txn);
			msg[0] = 0;
			if (ctcm_sync_prepare(CTCM_SYNC_CLAIM | CTCM_SYNC_REPAIR,
			    &v, msg, sizeof(msg)) != 0 &&
			    strcmp(msg, lastmsg) != 0)
				log_warnx("ctcm: %s", msg);
			snprintf(lastmsg, sizeof(lastmsg), "%s", msg);
			pthread_mutex_unlock(&ctcm_g.txn);
		} else if (now - last_peer >= SYNC_INTERVAL_MS &&
		    link_peer_up()) {
			last_peer = now;
			if (ctcm_peer_query() == 0) {
				pthread_mutex_lock(&ctcm_g.txn);
				ctcm_peer_pull();
				pthread_mutex_unlock(&ctcm_g.txn);
			}
		}
	}
	return NULL;
}

int
ctcm_sync_start(void)
{
	if (pthread_create(&worker_tid, NULL, worker, NULL) != 0) {
		log_warn("ctcm: pthread_create");
		return -1;
	}
	worker_started = 1;
	pthread_detach(worker_tid);
	return 0;
}

void
ctcm_sync_stop(void)
{
	stopping = 1;
	if (worker_started)
		ctcm_sync_wake();
}

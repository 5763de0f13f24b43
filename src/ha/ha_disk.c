/*
 * ha_disk.c — the disk thread: disk heartbeat, LUN reservations, leases,
 * and attaching/detaching the data areas.
 *
 * One thread, one pass over every LUN per heartbeat tick, so the blocking
 * direct I/O never stalls the event loop.  Per LUN and tick: write our
 * heartbeat block, read the peer's (progress credits the disk channel),
 * read the reservation and act on it:
 *   IDLE -> ACQUIRING (wanted) -> write {owner = us, generation + 1} when
 *   the reservation is free, ours from an earlier boot, or the peer's and
 *   not renewed for a whole lease (a shorter grace when the peer's daemon
 *   is known to be gone: its connections were closed, not lost) ->
 *   CHECKING: one tick later the record must still be ours (two heads
 *   writing at once: the later one wins, the other sees it) -> attach the
 *   data -> OWNED: renew every tick; lease valid until last renewal +
 *   lease/2.  A reservation that changed under us, or a lease that ran out
 *   (renewal failing, or this process was stopped), fences the LUN at
 *   once: the NFS gate closes (atomics), the loop thread is told, the data
 *   is force-detached.  The survivor waits a full lease, the owner stops
 *   after half of one: at no moment do both serve.
 * Damage (docs/private-extent.md): a LUN is formatted only when its whole
 * private extent is empty; the super block copies are checked every
 * second and restored; an unreadable reservation is rebuilt by its owner
 * at once, else by the home head after a lease, always at a generation
 * from pool_res_gen_next() that this head first records in its
 * heartbeat block.
 * Not here: what is wanted (ha.c decides), exports and IPs (loop thread).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/loop.h"
#include "ctcm/ctcm.h"
#include "ha/ha_int.h"

static struct {
	pthread_t	 tid;
	int		 started;
	int		 stop;
	int		 release_all;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	unsigned	 my_state, my_opmode;
	int		 peer_closed;
	uint64_t	 hb_seq;
	uint64_t	 pool_id;
} dk = { .mtx = PTHREAD_MUTEX_INITIALIZER };

enum post_kind { POST_CREDIT, POST_ATTACHED, POST_RELEASED, POST_FENCED };

struct post {
	enum post_kind	 kind;
	int		 lun;
	uint64_t	 a, b;
	char		 why[128];
};

static void
post_cb(void *p)
{
	struct post *m = p;

	switch (m->kind) {
	case POST_CREDIT:
		ha_mon_disk_credit(m->a, m->b);
		break;
	case POST_ATTACHED:
		ha_lun_attached(m->lun);
		break;
	case POST_RELEASED:
		ha_lun_released(m->lun);
		break;
	case POST_FENCED:
		ha_lun_fenced(m->lun, m->why);
		break;
	}
	free(m);
}

static void
post(enum post_kind kind, int lun, uint64_t a, uint64_t b, const char *why)
{
	struct post *m = xcalloc(1, sizeof(*m));

	m->kind = kind;
	m->lun = lun;
	m->a = a;
	m->b = b;
	if (why)
		snprintf(m->why, sizeof(m->why), "%s", why);
	loop_call(post_cb, m);
}

static void
set_st(struct ha_lun *l, enum ha_lun_st st)
{
	pthread_mutex_lock(&dk.mtx);
	l->st = st;
	pthread_mutex_unlock(&dk.mtx);
}

/* Publish what the pool layer found damaged (status reads it). */
static void
damage_sync(struct ha_lun *l, const char *extra)
{
	pthread_mutex_lock(&dk.mtx);
	snprintf(l->damage, sizeof(l->damage), "%s%s%s", l->pl.damage,
	    l->pl.damage[0] && extra ? "; " : "", extra ? extra : "");
	pthread_mutex_unlock(&dk.mtx);
}

/* Our heartbeat block, carrying our generation record. */
static int
hb_write(struct ha_lun *l)
{
	struct pext_hb hb;

	memset(&hb, 0, sizeof(hb));
	hb.node_id = ha.self_id;
	pthread_mutex_lock(&dk.mtx);
	hb.state = (uint16_t)dk.my_state;
	hb.opmode = (uint16_t)dk.my_opmode;
	pthread_mutex_unlock(&dk.mtx);
	hb.seq = dk.hb_seq;
	hb.boot_id = ha.boot_id;
	hb.cfg_gen = ctcm_generation();
	hb.res_gen = l->gen_seen;
	return pool_hb_write(&l->pl, ha.self, &hb);
}

/*
 * Read every record of the reservation generation once at open, so our
 * own record never goes down across a restart.
 */
static void
gen_seed(struct ha_lun *l)
{
	struct pext_hb	hb;
	struct pext_res	r;

	l->gen_seen = 0;
	l->gen_partial = 1;
	if (pool_hb_read(&l->pl, ha.self, &hb) == 0) {
		l->gen_seen = hb.res_gen;
		l->gen_partial = hb.node_id != 0 && hb.res_gen == 0;
	}
	if (pool_hb_read(&l->pl, 1 - ha.self, &hb) == 0)
		l->gen_seen = MAX(l->gen_seen, hb.res_gen);
	if (pool_res_read(&l->pl, &r) == 0) {
		l->gen_seen = MAX(l->gen_seen, r.generation);
		l->gen_partial = 0;
	}
}

/*
 * The next reservation generation, recorded in our heartbeat block
 * before anyone writes it to the reservation: even a torn or lost
 * reservation write leaves a record above it.  0 on failure.
 */
static uint64_t
gen_issue(struct ha_lun *l)
{
	uint64_t next;

	if (pool_res_gen_next(&l->pl, l->gen_seen, !l->gen_partial,
	    &next) != 0)
		return 0;
	l->gen_seen = MAX(l->gen_seen, next);
	if (hb_write(l) != 0)
		return 0;
	return next;
}

static int
lun_open(struct ha_lun *l)
{
	const struct cfg_lun	*c = l->cfg;
	char			 why[160];
	int			 rc;

	if (now_us() < l->open_retry_us)
		return -1;
	l->open_retry_us = now_us() + 1000000;
	if ((rc = pool_lun_open(&l->pl, c->path, dk.pool_id, c->id,
	    ha.self_id)) != 0)
		return -1;
	/* PEXT_E_EMPTY only when the whole private extent is empty; a
	 * damaged one is repaired by the load, never re-formatted. */
	rc = pool_lun_load(&l->pl);
	if (rc == PEXT_E_EMPTY && c->home == ha.self) {
		/* A new, all-zero LUN: its home head initialises it. */
		log_info("pool: lun %s (%s) is empty: formatting its private "
		    "extent and data area", c->name, c->path);
		if ((rc = pool_lun_format(&l->pl, ha.cfg->cluster, c->name,
		    0)) == 0 && lun_data_format(c, 0) < 0 && errno != EEXIST)
			rc = EIO;
	}
	if (rc != 0) {
		if (rc != PEXT_E_EMPTY) {
			log_warnx("pool: lun %s (%s): %s", c->name, c->path,
			    pool_strerror(rc));
			snprintf(why, sizeof(why), "private extent not used: "
			    "%s", pool_strerror(rc));
			damage_sync(l, why);
		}
		pool_lun_close(&l->pl);
		return -1;
	}
	l->opened = 1;
	gen_seed(l);
	damage_sync(l, NULL);
	log_info("pool: lun %s (%s) open%s, reservation generation record "
	    "%llu", c->name, c->path, l->pl.direct ? " (direct I/O)" :
	    " (O_DSYNC)", (unsigned long long)l->gen_seen);
	return 0;
}

static void
fence(struct ha_lun *l, const char *fmt, uint64_t x, uint64_t y)
{
	char why[128];

	snprintf(why, sizeof(why), fmt, (unsigned long long)x,
	    (unsigned long long)y);
	/* Close the gate before anything else: from here on no NFS request
	 * on this LUN runs, whatever the loop thread is doing. */
	atomic_store(&l->lease_until_us, 0);
	atomic_store(&l->serving, 0);
	log_warnx("fence: lun %s: %s: stopped serving it", l->cfg->name, why);
	post(POST_FENCED, l->idx, 0, 0, why);
	if (lun_data_detach(l->cfg, &l->ld, 1) < 0)
		log_warnx("fence: lun %s: detach failed: this head cannot "
		    "fence itself cleanly", l->cfg->name);
	l->my_gen = 0;
	pthread_mutex_lock(&dk.mtx);
	l->st = HA_LUN_IDLE;
	l->want = 0;
	pthread_mutex_unlock(&dk.mtx);
}

static int
res_write(struct ha_lun *l, uint32_t owner, uint32_t prev, uint64_t gen,
    uint64_t renew, uint32_t flags)
{
	struct pext_res r;

	memset(&r, 0, sizeof(r));
	r.owner = owner;
	r.prev_owner = prev;
	r.generation = gen;
	r.renew_seq = renew;
	r.lease_ms = (uint32_t)ha.cfg->lease_ms;
	r.flags = flags;
	r.acquired_ms = wall_ms();
	return pool_res_write(&l->pl, &r);
}

static void
release(struct ha_lun *l, const struct pext_res *r)
{
	uint64_t gen = 0;

	if (lun_data_detach(l->cfg, &l->ld, 0) < 0 &&
	    lun_data_detach(l->cfg, &l->ld, 1) < 0)
		log_warnx("pool: lun %s: cannot detach its data",
		    l->cfg->name);
	atomic_store(&l->serving, 0);
	atomic_store(&l->lease_until_us, 0);
	if (r != NULL && ((gen = gen_issue(l)) == 0 || res_write(l, 0,
	    ha.self_id, gen, 0, 0) != 0))
		log_warnx("pool: lun %s: cannot write the release",
		    l->cfg->name);
	else
		log_info("pool: lun %s released (generation %llu)",
		    l->cfg->name, (unsigned long long)gen);
	l->my_gen = 0;
	set_st(l, HA_LUN_IDLE);
	post(POST_RELEASED, l->idx, 0, 0, NULL);
}

/* What `duonas status` says about the reservation block. */
static void
res_note(struct ha_lun *l, int rc, uint64_t rebuilt)
{
	pthread_mutex_lock(&dk.mtx);
	if (rebuilt)
		snprintf(l->res_damage, sizeof(l->res_damage), "block %u "
		    "(reservation block): %s: rebuilt at generation %llu",
		    PEXT_V1_RES_BLOCK, pool_strerror(rc),
		    (unsigned long long)rebuilt);
	else
		snprintf(l->res_damage, sizeof(l->res_damage), "block %u "
		    "(reservation block): %s", PEXT_V1_RES_BLOCK,
		    pool_strerror(rc));
	pthread_mutex_unlock(&dk.mtx);
}

/*
 * The reservation block does not decode (torn, zeroed, corrupt): rebuild
 * it, never re-format (docs/private-extent.md, "Reservation
 * generations").
 */
static void
res_damaged(struct ha_lun *l, enum ha_lun_st st, int rc, uint64_t now)
{
	uint64_t	lease_us = (uint64_t)ha.cfg->lease_ms * 1000, gen;
	uint32_t	last;

	if (l->res_bad_us == 0) {
		l->res_bad_us = now;
		log_warnx("pool: lun %s: block %u (reservation block): %s",
		    l->cfg->name, PEXT_V1_RES_BLOCK, pool_strerror(rc));
		res_note(l, rc, 0);
	}
	if (st == HA_LUN_CHECKING) {
		log_warnx("pool: lun %s: reservation unreadable while "
		    "acquiring: starting over", l->cfg->name);
		set_st(l, HA_LUN_ACQUIRING);
		return;
	}
	if (st == HA_LUN_OWNED) {
		/* Our lease is valid (checked first in lun_step), so the
		 * peer cannot have taken the LUN: keep it, at once. */
		if ((gen = gen_issue(l)) == 0 || res_write(l, ha.self_id,
		    ha.self_id, gen, ++l->my_renew, 0) != 0)
			return;
		l->my_gen = gen;
		atomic_store(&l->lease_until_us, now_us() +
		    (uint64_t)ha.cfg->lease_ms * 500);
		log_warnx("pool: lun %s: reservation block rebuilt by its "
		    "owner at generation %llu", l->cfg->name,
		    (unsigned long long)gen);
		res_note(l, rc, gen);
		pthread_mutex_lock(&dk.mtx);
		l->generation = gen;
		pthread_mutex_unlock(&dk.mtx);
		return;
	}
	/* Not ours: after a whole lease any owner has rebuilt it or fenced
	 * itself.  Then the home head rebuilds it, or this head when the
	 * home head's disk heartbeat on the LUN stands still. */
	if (now - l->res_bad_us < lease_us || (l->cfg->home != ha.self &&
	    now - l->peer_hb_us < lease_us))
		return;
	pthread_mutex_lock(&dk.mtx);
	last = l->owner;
	pthread_mutex_unlock(&dk.mtx);
	if ((gen = gen_issue(l)) == 0 || res_write(l, 0, last, gen, 0, 0) != 0)
		return;
	log_warnx("pool: lun %s: reservation block rebuilt as free at "
	    "generation %llu (last owner node %u)", l->cfg->name,
	    (unsigned long long)gen, last);
	res_note(l, rc, gen);
}

static void
lun_step(struct ha_lun *l, int releasing)
{
	struct pext_hb	 phb;
	struct pext_res	 r;
	uint64_t	 now = now_us(), grace, gen;
	int		 want, rc, peer_slot = 1 - ha.self;
	enum ha_lun_st	 st;

	pthread_mutex_lock(&dk.mtx);
	want = l->want && !releasing;
	st = l->st;
	pthread_mutex_unlock(&dk.mtx);

	/* A lease that ran out while we could not act (stopped process,
	 * hung disk) is lost, whatever the disk says now. */
	if (st == HA_LUN_OWNED && now > atomic_load(&l->lease_until_us)) {
		fence(l, "lease expired %llu ms ago%.0llu", (now -
		    atomic_load(&l->lease_until_us)) / 1000, 0);
		return;
	}
	if (!l->opened && lun_open(l) < 0) {
		l->io_ok = 0;
		return;
	}
	rc = hb_write(l);
	l->io_ok = rc == 0;
	if (now >= l->sb_check_us) {
		size_t noted = strlen(l->pl.damage);

		/* the super block copies: a running head restores them
		 * from what it loaded */
		l->sb_check_us = now + 1000000;
		if (pool_super_check(&l->pl) > 0 ||
		    strlen(l->pl.damage) != noted)
			damage_sync(l, NULL);
	}
	if (pool_hb_read(&l->pl, peer_slot, &phb) == 0 && phb.node_id ==
	    ha.peer_id) {
		l->gen_seen = MAX(l->gen_seen, phb.res_gen);
		if (phb.seq != l->peer_hbseq || phb.boot_id !=
		    l->peer_hbboot) {
			l->peer_hbseq = phb.seq;
			l->peer_hbboot = phb.boot_id;
			l->peer_hb_us = now;
			post(POST_CREDIT, l->idx, phb.boot_id, phb.seq, NULL);
		}
	}
	if ((rc = pool_res_read(&l->pl, &r)) != 0) {
		if (rc < 0) {
			res_damaged(l, st, rc, now);
			return;
		}
		l->io_ok = 0;
		snprintf(l->err, sizeof(l->err), "%s", pool_strerror(rc));
		return;
	}
	if (l->res_bad_us != 0) {
		log_info("pool: lun %s: reservation block readable again "
		    "(owner node %u, generation %llu)", l->cfg->name, r.owner,
		    (unsigned long long)r.generation);
		l->res_bad_us = 0;
	}
	l->gen_seen = MAX(l->gen_seen, r.generation);
	l->gen_partial = 0;
	if (l->peer_renew_us == 0 || r.owner != l->owner ||
	    r.renew_seq != l->peer_renew) {
		l->peer_renew = r.renew_seq;
		l->peer_renew_us = now;
	}
	pthread_mutex_lock(&dk.mtx);
	l->owner = r.owner;
	l->generation = r.generation;
	pthread_mutex_unlock(&dk.mtx);

	switch (st) {
	case HA_LUN_IDLE:
		if (!want)
			break;
		set_st(l, HA_LUN_ACQUIRING);
		/* FALLTHROUGH */
	case HA_LUN_ACQUIRING:
		if (!want) {
			set_st(l, HA_LUN_IDLE);
			break;
		}
		grace = dk.peer_closed ? 3ULL * (uint64_t)ha.hbp.interval_ms :
		    (uint64_t)ha.cfg->lease_ms;
		if (r.owner == 0 || r.owner == ha.self_id ||
		    (r.owner == ha.peer_id &&
		    now - l->peer_renew_us >= grace * 1000)) {
			if ((gen = gen_issue(l)) == 0 || res_write(l,
			    ha.self_id, r.owner, gen, 0, r.owner == ha.peer_id ?
			    PEXT_RES_TAKEOVER : 0) != 0)
				break;
			l->my_gen = gen;
			l->my_renew = 0;
			log_info("pool: lun %s reserved (generation %llu%s)",
			    l->cfg->name, (unsigned long long)l->my_gen,
			    r.owner == ha.peer_id ? ", taken over from the peer"
			    : "");
			set_st(l, HA_LUN_CHECKING);
		}
		break;
	case HA_LUN_CHECKING:
		if (r.owner != ha.self_id || r.generation != l->my_gen) {
			log_warnx("pool: lun %s: reservation lost to node %u "
			    "while acquiring", l->cfg->name, r.owner);
			set_st(l, want ? HA_LUN_ACQUIRING : HA_LUN_IDLE);
			break;
		}
		if (!want) {
			release(l, &r);
			break;
		}
		if (lun_data_attach(l->cfg, &l->ld) < 0) {
			log_warnx("pool: lun %s: cannot attach its data; "
			    "releasing it", l->cfg->name);
			release(l, &r);
			l->open_retry_us = now_us() + 2000000;
			break;
		}
		atomic_store(&l->lease_until_us, now_us() +
		    (uint64_t)ha.cfg->lease_ms * 500);
		set_st(l, HA_LUN_OWNED);
		post(POST_ATTACHED, l->idx, 0, 0, NULL);
		break;
	case HA_LUN_OWNED:
		if (r.owner != ha.self_id || r.generation != l->my_gen) {
			fence(l, "reservation now held by node %llu "
			    "(generation %llu)", r.owner, r.generation);
			break;
		}
		if (!want) {
			release(l, &r);
			break;
		}
		if (res_write(l, ha.self_id, r.prev_owner, l->my_gen,
		    ++l->my_renew, r.flags) == 0)
			atomic_store(&l->lease_until_us, now_us() +
			    (uint64_t)ha.cfg->lease_ms * 500);
		break;
	case HA_LUN_COUNT:
		break;
	}
}

static void *
disk_main(void *arg)
{
	struct timespec	ts;
	uint64_t	next = now_us();
	int		stop = 0, releasing = 0;

	(void)arg;
	while (!stop) {
		pthread_mutex_lock(&dk.mtx);
		stop = dk.stop;
		releasing = dk.release_all;
		pthread_mutex_unlock(&dk.mtx);
		dk.hb_seq++;
		for (int i = 0; i < ha.nluns; i++)
			lun_step(&ha.luns[i], releasing);
		if (stop)
			break;
		next += (uint64_t)ha.hbp.interval_ms * 1000;
		{
			/* one reading of the clock: a stop (SIGSTOP, a slow
			 * disk) must never turn the wait into an underflow */
			uint64_t now = now_us(), wait;

			if (next < now)
				next = now;
			wait = next - now;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)(wait / 1000000);
			ts.tv_nsec += (long)(wait % 1000000) * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		}
		pthread_mutex_lock(&dk.mtx);
		if (!dk.stop)
			pthread_cond_timedwait(&dk.cond, &dk.mtx, &ts);
		pthread_mutex_unlock(&dk.mtx);
	}
	for (int i = 0; i < ha.nluns; i++)
		if (ha.luns[i].opened)
			pool_lun_close(&ha.luns[i].pl);
	return NULL;
}

int
ha_disk_init(void)
{
	pthread_condattr_t ca;

	dk.pool_id = pext_pool_id(ha.cfg->cluster);
	if (ha.nluns == 0)
		return 0;
	/* the tick wait follows the monotonic clock, not the wall clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dk.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&dk.tid, NULL, disk_main, NULL) != 0) {
		log_warnx("ha: cannot start the disk thread");
		return -1;
	}
	dk.started = 1;
	return 0;
}

void
ha_disk_shutdown(int release_all)
{
	if (!dk.started)
		return;
	pthread_mutex_lock(&dk.mtx);
	dk.release_all = release_all;
	dk.stop = 1;
	pthread_cond_signal(&dk.cond);
	pthread_mutex_unlock(&dk.mtx);
	pthread_join(dk.tid, NULL);
	dk.started = 0;
}

void
ha_disk_set_want(int lun, int want)
{
	pthread_mutex_lock(&dk.mtx);
	ha.luns[lun].want = want;
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_get(int lun, enum ha_lun_st *st, uint32_t *owner, int *io_ok)
{
	pthread_mutex_lock(&dk.mtx);
	*st = ha.luns[lun].st;
	*owner = ha.luns[lun].owner;
	*io_ok = ha.luns[lun].io_ok;
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_info(int lun, uint64_t *generation, char *damage, size_t len)
{
	struct ha_lun *l = &ha.luns[lun];

	pthread_mutex_lock(&dk.mtx);
	*generation = l->generation;
	snprintf(damage, len, "%s%s%s", l->damage, l->damage[0] &&
	    l->res_damage[0] ? "; " : "", l->res_damage);
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_publish(unsigned state, unsigned opmode)
{
	pthread_mutex_lock(&dk.mtx);
	dk.my_state = state;
	dk.my_opmode = opmode;
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_peer_closed(int closed)
{
	pthread_mutex_lock(&dk.mtx);
	dk.peer_closed = closed;
	pthread_mutex_unlock(&dk.mtx);
}

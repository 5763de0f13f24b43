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
 *   once: the file services' gate closes (atomics), the loop thread is
 *   told, the data is force-detached.  The survivor waits a full lease,
 *   the owner stops after half of one: at no moment do both serve.
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
#include <sys/stat.h>
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
	uint32_t	 mb_all;	/* FAULT / KILL on every LUN */
	uint64_t	 kill_boot;
	uint64_t	 last_pass_us;	/* start of the previous pass */
	int		 kicked;	/* a pass is wanted now */
} dk = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static int (*_Atomic health_fn)(char *, size_t);

void
ha_set_health_check(int (*fn)(char *why, size_t len))
{
	health_fn = fn;
}

enum post_kind { POST_CREDIT, POST_ATTACHED, POST_RELEASED, POST_FENCED,
	POST_MAILBOX, POST_FROZEN, POST_GW };

struct post {
	enum post_kind	 kind;
	int		 lun;
	uint64_t	 a, b;
	uint32_t	 c;
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
	case POST_MAILBOX:
		ha_mailbox_seen(m->lun, (uint32_t)m->a, m->b,
		    m->c >> 16, m->c & 0xffff, m->why);
		break;
	case POST_FROZEN:
		ha_frozen(m->why);
		break;
	case POST_GW:
		ha_gw_changed(m->lun, (unsigned)m->a, (uint32_t)m->b, m->why);
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
	if (st == HA_LUN_IDLE)
		l->remount = 0;		/* nothing mounted to redo */
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
	pthread_mutex_lock(&dk.mtx);
	hb.mb_flags = l->mb_flags | dk.mb_all;
	hb.mb_to = hb.mb_flags ? ha.peer_id : 0;
	hb.mb_seq = l->mb_seq;
	hb.mb_arg = (dk.mb_all & PEXT_MB_KILL) ? dk.kill_boot : 0;
	if (l->gw_state != PEXT_GW_NONE) {
		hb.gw_version = PEXT_GW_VERSION;
		hb.gw_state = l->gw_state;
		hb.gw_progress = l->gw_progress;
		snprintf(hb.gw_reason, sizeof(hb.gw_reason), "%s",
		    l->gw_reason);
	}
	pthread_mutex_unlock(&dk.mtx);
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
	pool_lun_setname(&l->pl, c->name);
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
			char key[128], more[64];

			/* retried every second: one line per 10 s */
			snprintf(key, sizeof(key), "pool load %s %d", c->name,
			    rc);
			if (log_ratelim_key(key, more, sizeof(more)))
				log_warnx("pool: lun %s (%s): %s%s", c->name,
				    c->path, pool_strerror(rc), more);
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

/*
 * A LUN this head gave up (handover, placement) while its disk fails us:
 * the release cannot be written, so stop using it now (gate shut, data
 * detached by force) and let the peer wait out the lease.  Unlike
 * fence() this is no fault of the head: the LUN was given up on purpose
 * and the head keeps serving the rest.
 */
static void
abandon(struct ha_lun *l, const char *why)
{
	atomic_store(&l->lease_until_us, 0);
	atomic_store(&l->serving, 0);
	log_warnx("pool: lun %s: %s: the release cannot be written; stopped "
	    "using it, the peer waits out the lease", l->cfg->name, why);
	if (lun_data_detach(l->cfg, &l->ld, 1) < 0)
		log_warnx("pool: lun %s: detach failed", l->cfg->name);
	l->my_gen = 0;
	set_st(l, HA_LUN_IDLE);
	post(POST_RELEASED, l->idx, 0, 0, NULL);
}

static void
fence(struct ha_lun *l, const char *fmt, uint64_t x, uint64_t y)
{
	char why[128];

	snprintf(why, sizeof(why), fmt, (unsigned long long)x,
	    (unsigned long long)y);
	/* Close the gate before anything else: from here on no file-service
	 * request on this LUN runs, whatever the loop thread is doing. */
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
	l->remount = 0;
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
	/* The survivor's last step of a giveback (docs/private-extent.md):
	 * TAKEN_OVER becomes GIVEN_BACK, written at once. */
	pthread_mutex_lock(&dk.mtx);
	if (r != NULL && ((l->mb_flags & PEXT_MB_TAKEN_OVER) || l->give)) {
		/* released for the peer, which is taking it */
		l->mb_flags = (l->mb_flags & ~PEXT_MB_TAKEN_OVER) |
		    PEXT_MB_GIVEN_BACK;
		l->mb_seq++;
	}
	if (l->gw_state == PEXT_GW_DONE)
		l->gw_state = PEXT_GW_NONE;
	pthread_mutex_unlock(&dk.mtx);
	if (r != NULL)
		(void)hb_write(l);
	set_st(l, HA_LUN_IDLE);
	post(POST_RELEASED, l->idx, 0, 0, NULL);
}

/*
 * The loop asked for the data to be mounted again (a write error on the
 * data path, no peer to take the LUN): a fresh mount reads the file
 * system from the disk, not from a page cache that lost writes.  The
 * reservation is kept; an attach that fails releases the LUN like any
 * failed attach (the disk thread tries again while it is wanted).
 */
static void
remount(struct ha_lun *l, const struct pext_res *r)
{
	log_warnx("pool: lun %s: mounting its data again after a write error "
	    "on the data path", l->cfg->name);
	if (lun_data_detach(l->cfg, &l->ld, 1) < 0 ||
	    lun_data_attach(l->cfg, &l->ld) < 0) {
		log_warnx("pool: lun %s: cannot mount its data again; "
		    "releasing it", l->cfg->name);
		release(l, r);
		l->open_retry_us = now_us() + 2000000;
		return;
	}
	post(POST_ATTACHED, l->idx, 0, 0, NULL);
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

/*
 * The peer's mailbox on this LUN: only what is addressed to us, posted to
 * the loop when it changed (flags, kill target or GIVEWAIT record).
 */
static void
mailbox_check(struct ha_lun *l, const struct pext_hb *phb)
{
	uint32_t	flags = phb->mb_to == ha.self_id ? phb->mb_flags : 0;
	uint64_t	arg = flags & PEXT_MB_KILL ? phb->mb_arg : 0;
	uint16_t	gw = phb->gw_version ? phb->gw_state : PEXT_GW_NONE;
	struct post	*m;

	if (flags == l->peer_mb_flags && arg == l->peer_mb_arg &&
	    gw == l->peer_gw_state)
		return;
	l->peer_mb_flags = flags;
	l->peer_mb_arg = arg;
	l->peer_gw_state = gw;
	m = xcalloc(1, sizeof(*m));
	m->kind = POST_MAILBOX;
	m->lun = l->idx;
	m->a = flags;
	m->b = arg;
	m->c = (uint32_t)gw << 16 | (phb->gw_progress & 0xffff);
	snprintf(m->why, sizeof(m->why), "%s", phb->gw_reason);
	loop_call(post_cb, m);
}

/*
 * Our readiness to take a LUN the peer serves (the GIVEWAIT record,
 * docs/private-extent.md): everything that can be checked without the
 * data, which the peer still uses.  Published in our heartbeat block on
 * the LUN (with GIVEWAIT, and MBWAIT once ready) and posted to the loop,
 * which also sends it over the link (a LUN that cannot be opened cannot
 * carry its own record).
 */
static void
prep_eval(struct ha_lun *l, const struct pext_res *r, int have_res)
{
	const struct cfg_lun	*c = l->cfg;
	const char		*data = c->mode == CFG_LUN_EXT4 ?
				    c->mountpoint : c->data;
	struct stat		 st;
	uint32_t		 prog = 0, mb;
	unsigned		 state;
	char			 why[PEXT_GW_REASON_LEN + 1] = "";
	int			 prep, changed;

	pthread_mutex_lock(&dk.mtx);
	prep = l->prep;
	pthread_mutex_unlock(&dk.mtx);
	if (!prep) {
		state = l->gw_state == PEXT_GW_DONE &&
		    atomic_load(&l->serving) ? PEXT_GW_DONE : PEXT_GW_NONE;
		mb = 0;
	} else {
		if (l->opened) {
			prog |= PEXT_GW_P_OPENED;
			if (have_res)
				prog |= PEXT_GW_P_VERIFIED;
			else
				snprintf(why, sizeof(why), "reservation "
				    "unreadable");
		} else if (l->damage[0])
			/* opening it failed with an error: cannot take it */
			snprintf(why, sizeof(why), "%.48s", l->damage);
		/* else not open yet (retried every second, e.g. the peer
		 * formatted it just now): still preparing */
		if (l->peer_mb_flags & PEXT_MB_TAKEN_OVER)
			prog |= PEXT_GW_P_TAKEN_SEEN;
		if (stat(data, &st) == 0 && S_ISDIR(st.st_mode))
			prog |= PEXT_GW_P_DATA_OK;
		else if (!why[0])
			snprintf(why, sizeof(why), "data path missing");
		if (why[0])
			state = PEXT_GW_FAILED;
		else if (l->opened && ((prog & PEXT_GW_P_TAKEN_SEEN) ||
		    c->home == 1 - ha.self || (have_res &&
		    r->owner != ha.peer_id)))
			state = PEXT_GW_READY;
		else
			state = PEXT_GW_PREPARING;
		if (state == PEXT_GW_READY) {
			int (*fn)(char *, size_t) = health_fn;
			char hwhy[128];

			/* not into the fault it surrendered for: wait */
			if (fn != NULL && !fn(hwhy, sizeof(hwhy))) {
				state = PEXT_GW_PREPARING;
				snprintf(why, sizeof(why), "unhealthy: %.*s",
				    (int)sizeof(why) - 12, hwhy);
			}
		}
		mb = state == PEXT_GW_READY ? PEXT_MB_GIVEWAIT |
		    PEXT_MB_MBWAIT : PEXT_MB_GIVEWAIT;
	}
	pthread_mutex_lock(&dk.mtx);
	changed = l->gw_state != state || l->gw_progress != prog ||
	    strcmp(l->gw_reason, why) != 0;
	l->gw_state = (uint16_t)state;
	l->gw_progress = prog;
	snprintf(l->gw_reason, sizeof(l->gw_reason), "%s", why);
	if ((l->mb_flags & (PEXT_MB_GIVEWAIT | PEXT_MB_MBWAIT)) != mb) {
		l->mb_flags = (l->mb_flags & ~(PEXT_MB_GIVEWAIT |
		    PEXT_MB_MBWAIT)) | mb;
		l->mb_seq++;
	}
	pthread_mutex_unlock(&dk.mtx);
	if (changed)
		post(POST_GW, l->idx, state, prog, why);
}

static void
lun_step(struct ha_lun *l, int releasing)
{
	struct pext_hb	 phb;
	struct pext_res	 r;
	uint64_t	 now = now_us(), grace, gen;
	uint32_t	 my_mb;
	int		 want, give, rc, peer_slot = 1 - ha.self;
	enum ha_lun_st	 st;

	pthread_mutex_lock(&dk.mtx);
	want = l->want && !releasing;
	st = l->st;
	my_mb = l->mb_flags;
	give = l->give;
	pthread_mutex_unlock(&dk.mtx);

	/* Given up while the disk fails us (the health monitor's
	 * handover of a LUN with I/O errors): nothing can be written, so
	 * do not wait for the lease to run out into a fence. */
	if (st == HA_LUN_OWNED && !want && !l->io_ok) {
		abandon(l, l->err[0] ? l->err : "I/O error");
		return;
	}
	/* A lease that ran out while we could not act (stopped process,
	 * hung disk) is lost, whatever the disk says now. */
	if (st == HA_LUN_OWNED && now > atomic_load(&l->lease_until_us)) {
		fence(l, "lease expired %llu ms ago%.0llu", (now -
		    atomic_load(&l->lease_until_us)) / 1000, 0);
		return;
	}
	if (!l->opened && lun_open(l) < 0) {
		l->io_ok = 0;
		prep_eval(l, NULL, 0);
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
		mailbox_check(l, &phb);
	}
	rc = pool_res_read(&l->pl, &r);
	prep_eval(l, &r, rc == 0);
	if (rc != 0) {
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
		/* We gave it back and the peer, alive, is taking it (its
		 * record says READY or DONE): it may skip its check tick
		 * (below), so we must not write here meanwhile. */
		if (r.owner == 0 && r.prev_owner == ha.self_id &&
		    (my_mb & PEXT_MB_GIVEN_BACK) && give)
			break;
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
			/* Given back by the peer (free, released by it, its
			 * mailbox says GIVEN_BACK to us): it writes nothing
			 * here any more (see above), so the check tick that
			 * guards against a concurrent acquirer is not needed:
			 * verify at once and attach.  This is the client-
			 * visible step of a coordinated giveback. */
			if (r.owner == 0 && r.prev_owner == ha.peer_id &&
			    (l->peer_mb_flags & PEXT_MB_GIVEN_BACK) &&
			    pool_res_read(&l->pl, &r) == 0) {
				st = HA_LUN_CHECKING;
				goto checking;
			}
		}
		break;
	case HA_LUN_CHECKING:
checking:
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
		pthread_mutex_lock(&dk.mtx);
		rc = l->gw_state == PEXT_GW_READY;
		if (rc) {
			l->gw_state = PEXT_GW_DONE;
			l->gw_progress = 0;
			l->gw_reason[0] = 0;
		}
		pthread_mutex_unlock(&dk.mtx);
		post(POST_ATTACHED, l->idx, 0, 0, NULL);
		if (rc)		/* the peer measures the move by this */
			post(POST_GW, l->idx, PEXT_GW_DONE, 0, "");
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
		pthread_mutex_lock(&dk.mtx);
		rc = l->remount;
		l->remount = 0;
		pthread_mutex_unlock(&dk.mtx);
		if (rc)
			remount(l, &r);
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
		if (atomic_load(&ha.test_blind)) {
			dk.last_pass_us = 0;
			goto wait;
		}
		{
			/* Frozen (SIGSTOP, a stalled machine) for half a
			 * lease or more: the leases are gone, the loop must
			 * drop the IPs before it does anything else. */
			uint64_t now = now_us(), half =
			    (uint64_t)ha.cfg->lease_ms * 500;

			/* blind again: it may have been switched on while
			 * this pass was frozen after the test above */
			if (dk.last_pass_us != 0 && now - dk.last_pass_us >=
			    half && !atomic_load(&ha.test_blind)) {
				char why[128];

				snprintf(why, sizeof(why), "the disk thread "
				    "did not run for %llu ms",
				    (unsigned long long)(now -
				    dk.last_pass_us) / 1000);
				post(POST_FROZEN, -1, 0, 0, why);
			}
			dk.last_pass_us = now;
		}
		for (int i = 0; i < ha.nluns; i++)
			lun_step(&ha.luns[i], releasing);
		if (stop)
			break;
wait:
		{
			/* one reading of the clock: a stop (SIGSTOP, a slow
			 * disk) must never turn the wait into an underflow.
			 * An early pass (a kick) keeps the tick schedule. */
			uint64_t now = now_us(), wait,
			    iv = (uint64_t)ha.hbp.interval_ms * 1000;

			if (next <= now)
				next += iv;
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
		/* a kick that came during the pass is not lost */
		if (!dk.stop && !dk.kicked)
			pthread_cond_timedwait(&dk.cond, &dk.mtx, &ts);
		dk.kicked = 0;
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
	int changed;

	pthread_mutex_lock(&dk.mtx);
	changed = ha.luns[lun].want != want;
	ha.luns[lun].want = want;
	/* act on a change now, not at the next tick */
	if (changed && dk.started) {
		dk.kicked = 1;
		pthread_cond_signal(&dk.cond);
	}
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_set_give(int lun, int give)
{
	pthread_mutex_lock(&dk.mtx);
	ha.luns[lun].give = give;
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_set_prep(int lun, int prep)
{
	pthread_mutex_lock(&dk.mtx);
	ha.luns[lun].prep = prep;
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

void
ha_disk_mailbox_all(uint32_t flags, uint64_t kill_boot)
{
	pthread_mutex_lock(&dk.mtx);
	if (dk.mb_all != flags || dk.kill_boot != kill_boot)
		for (int i = 0; i < ha.nluns; i++)
			ha.luns[i].mb_seq++;
	dk.mb_all = flags;
	dk.kill_boot = kill_boot;
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_mailbox(int lun, uint32_t set, uint32_t clear)
{
	struct ha_lun *l = &ha.luns[lun];

	pthread_mutex_lock(&dk.mtx);
	if (((l->mb_flags | set) & ~clear) != l->mb_flags) {
		l->mb_flags = (l->mb_flags | set) & ~clear;
		l->mb_seq++;
	}
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_gw_record(int lun, unsigned state, uint32_t progress,
    const char *reason)
{
	struct ha_lun *l = &ha.luns[lun];

	pthread_mutex_lock(&dk.mtx);
	l->gw_state = (uint16_t)state;
	l->gw_progress = progress;
	snprintf(l->gw_reason, sizeof(l->gw_reason), "%s",
	    reason ? reason : "");
	pthread_mutex_unlock(&dk.mtx);
}

void
ha_disk_remount(int lun)
{
	pthread_mutex_lock(&dk.mtx);
	ha.luns[lun].remount = 1;
	pthread_mutex_unlock(&dk.mtx);
	ha_disk_kick();
}

void
ha_disk_kick(void)
{
	if (!dk.started)
		return;
	pthread_mutex_lock(&dk.mtx);
	dk.kicked = 1;
	pthread_cond_signal(&dk.cond);
	pthread_mutex_unlock(&dk.mtx);
}

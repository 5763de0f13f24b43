/*
 * ha.c — the HA controller: runs the state machine (ha_fsm.c) and turns
 * its actions into resources this head serves.
 *
 * The actions only say WHICH resources this head should serve: none
 * (BOOT, INIT, GIVEWAIT, MONITOR, HALTED), its own (READY: LUNs and
 * service IPs homed here) or all (TAKEOVER: DEGRADED).  ha_reconcile(),
 * run every tick and after every event, moves what is served towards
 * that, in the order that keeps clients safe: a LUN is reserved and its
 * data attached (disk thread, ha_disk.c) before its exports are enabled,
 * and a head's service IPs are added and announced only when the LUNs of
 * that head are served; on the way back the IPs go first, then the
 * exports, then the LUN.  Fencing short-cuts all of it (ha_lun_fenced).
 * Modules hear of opmode changes through ha_opmode_register().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "fsvc/fsvc.h"
#include "ha/ha_int.h"
#include "ha/ha_msg.h"
#include "hooks/hooks.h"
#include "link/link.h"
#include "vip/tickle.h"

/* HA control messages (ha_msg.h); ha_mon.c uses LINK_T_HB_FIRST + 1. */
#define HA_T_CTL	(LINK_T_HB_FIRST + 8)

#define HA_MAX_CBS	16

struct ha_cb {
	ha_opmode_cb	 fn;
	void		*arg;
};

struct ha_ip {
	struct cfg_vip		 vc;		/* a copy: survives config changes */
	const struct cfg_vip	*v;		/* == &vc */
	int			 head;		/* index of its home head */
	int			 place;		/* placement override: head
						 * index, -1: follow LUNs */
	int			 held;
	uint64_t		 retry_us;
	uint64_t		 hold_until_us;	/* not wanted, kept until the
						 * peer claims it (giveback) */
	struct vip_ann		 ann;
	char			 err[96];	/* why the last add failed
						 * ("" none): for status */
};

struct ha_exp {
	uint32_t	id;
	int		lun;		/* -1: not on a LUN: always served */
};

struct ha_ctl	 ha;

static struct ha_cb	 cbs[HA_MAX_CBS];
static int		 ncbs;
static enum ha_opmode	 pub_mode = HA_OPMODE_NONE;
static int		 pub_alive = -1;
static struct ha_ip	 ips[2 * CFG_MAX_VIPS];
static int		 nips;
/* The exports and their LUNs: written on the loop thread only
 * (exports_map), read there without a lock, and by the file services'
 * workers (exp_gate) under exps_lock, which exports_map holds only to
 * swap in a complete new map. */
static struct ha_exp	*exps;
static int		 nexps;
static pthread_rwlock_t	 exps_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct event	*reset_ev;
static char		 fault_why[160];
static uint64_t		 start_ms;

/* placement overrides (see "placement" below) */
static int8_t		 lun_place[CFG_MAX_LUNS];	/* -1: its home */
static char		 lun_fault[CFG_MAX_LUNS][96];	/* why handed over */
static uint64_t		 place_ver;
static uint64_t		 place_sent_us;

/* coordinated moves (see "coordinated giveback" below) */
static int		 coord[CFG_MAX_LUNS];	/* hand over when peer ready */
static int		 giving[CFG_MAX_LUNS];	/* released for the peer */
static uint64_t		 coord_ready_us[CFG_MAX_LUNS];
static struct ha_msg_gw	 peer_gw[CFG_MAX_LUNS];	/* its readiness per LUN */
static struct ha_msg_gw	 my_gw[CFG_MAX_LUNS];
static uint64_t		 gw_sent_us;
static uint32_t		 peer_mb_last[CFG_MAX_LUNS];
/* the peer's HANDOVER of a LUN already applied here (by its message or
 * its mailbox): the flag stays in its mailbox until it serves the LUN
 * again, and must not move the LUN back to us after a later placement
 * (node unstandby) returned it.  Cleared when the flag is seen gone. */
static int		 peer_hov_done[CFG_MAX_LUNS];
static uint64_t		 nclaim_rx;
/* the last move of each LUN, for the maintenance commands */
static uint64_t		 move_stop_us[CFG_MAX_LUNS];	/* stopped here */
static uint64_t		 move_rel_us[CFG_MAX_LUNS];	/* peer stopped */
static int64_t		 move_pause_ms[CFG_MAX_LUNS];	/* -1: none */
/* last takeover (decision -> all served) and giveback (start -> peer's
 * resources released) in ms, for the metrics page; -1: none yet */
static int64_t		 last_takeover_ms = -1, last_giveback_ms = -1;
#define HA_IP_HOLD_MS	5000	/* at most, waiting for the peer's claim */

/* surrender policy (see "faults" below) */
static uint64_t		 fault_at_ms[16];
static int		 nfault_at;
static int		 fault_disabled;	/* 1 repeated, 2 permanent */

/* peer fault / kill bookkeeping (loop thread) */
static uint64_t		 peer_halted_boot;	/* acted on this HALTED peer */
static uint64_t		 kill_sent_us;
static uint64_t		 kill_boot;		/* peer boot id we kill */
static uint64_t		 nkill_tx, nkill_rx;
static uint64_t		 last_reconcile_us;

static void	place_send(uint32_t flags, const char *why);
static void	ctl_send(uint8_t op, uint32_t flags, uint64_t target,
		    const char *why);
static void	fence_all(const char *why);
static void	surrender(const char *why, int permanent, int announce,
		    int count);
static void	peer_watch(void);
static int	coord_keep(int i);
static int	ip_luns_kept(const struct ha_ip *ip);
static void	coord_tick(void);
static void	ipclaim_send(const struct ha_ip *ip);
static void	released_send(int lun, uint64_t out_us);
static int	lun_on(int i);
static int	ip_on(const struct ha_ip *ip);
static int	lun_gate_open(int i);

/* ---- opmode publication ---------------------------------------------- */

static void
publish(void)
{
	enum ha_opmode	mode = ha_fsm_opmode(ha.fsm.state);
	int		alive = ha_mon_link_alive();

	ha_disk_publish(ha.fsm.state, mode);
	if (mode == pub_mode && alive == pub_alive)
		return;
	pub_mode = mode;
	pub_alive = alive;
	for (int i = 0; i < ncbs; i++)
		cbs[i].fn(mode, alive, cbs[i].arg);
}

void
ha_evt(enum ha_evt e)
{
	ha_fsm(&ha.fsm, e);
	ha_reconcile();
}

/* ---- exports on LUNs ------------------------------------------------- */

static int
path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	return strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '/');
}

struct exp_map {
	struct ha_exp	*e;
	int		 n;
};

static void
exp_cb(uint32_t id, const char *path, void *arg)
{
	struct exp_map *m = arg;

	m->e = xrealloc(m->e, (size_t)(m->n + 1) * sizeof(*m->e));
	m->e[m->n].id = id;
	m->e[m->n].lun = -1;
	for (int i = 0; i < ha.nluns; i++)
		if (path_under(path, lun_data_root(ha.luns[i].cfg)))
			m->e[m->n].lun = i;
	m->n++;
}

/* Rebuild the map of exports to LUNs.  The workers' gate goes on
 * reading the old map until the new one is complete (never a map half
 * built, nor an empty one in between, which would open every export),
 * and the old one is freed only once no gate reads it. */
static void
exports_map(void)
{
	struct exp_map	 m = { NULL, 0 };
	struct ha_exp	*old;

	fsvc_export_foreach(exp_cb, &m);
	pthread_rwlock_wrlock(&exps_lock);
	old = exps;
	exps = m.e;
	nexps = m.n;
	pthread_rwlock_unlock(&exps_lock);
	free(old);
	for (int i = 0; i < nexps; i++)
		if (exps[i].lun >= 0 && !atomic_load(&ha.luns[exps[i].lun].serving))
			fsvc_export_enable(exps[i].id, 0);
}

/* What the services' gate says: served here with a valid lease. */
static int
lun_gate_open(int i)
{
	return atomic_load(&ha.luns[i].serving) &&
	    !atomic_load(&ha.luns[i].io_failed) &&
	    now_us() < atomic_load(&ha.luns[i].lease_until_us);
}

/* The LUN export id lies on, -1 when none (not on a LUN, or unknown).
 * The map is read under exps_lock (shared: the workers do not wait for
 * each other, only for a configuration change's swap). */
static int
exp_lun(uint32_t id)
{
	int lun = -1;

	pthread_rwlock_rdlock(&exps_lock);
	for (int i = 0; i < nexps; i++)
		if (exps[i].id == id) {
			lun = exps[i].lun;
			break;
		}
	pthread_rwlock_unlock(&exps_lock);
	return lun;
}

/* The file services' gate, run by their workers: may this export be
 * served right now?  The LUN's serving flag, write error and lease
 * deadline are atomics. */
static int
exp_gate(uint32_t id, void *arg)
{
	int lun = exp_lun(id);

	(void)arg;
	return lun < 0 ? 1 : lun_gate_open(lun);
}

/*
 * A write error on the data path (docs/health.md "Write errors on the
 * data path").  ext4 keeps a page whose writeback failed in its cache as
 * if written, and a later write of that page that succeeds does not mark
 * its newly allocated blocks written: acknowledged, yet read back as
 * zeros once the file system is mounted again.  So from the first EIO
 * on, nothing more may be acknowledged on this mount: the gate shuts now
 * (in the worker, before it answers), an ext4 file system is shut down
 * so that requests already past the gate fail too, and the LUN is
 * served again only from a fresh mount: the health monitor hands it to
 * the peer (its probe reports the error), or, when no peer can take it,
 * the disk thread mounts it again here.  Worker threads.
 */
static void io_error_loop(void *arg);
static void lun_exports(int lun, int on);

static void
exp_io_error(uint32_t id, int fd, int err, const char *what, void *arg)
{
	struct ha_lun	*l;
	int		 lun = exp_lun(id);

	(void)arg;
	if (lun < 0 || err != EIO)
		return;
	l = &ha.luns[lun];
	if (atomic_exchange(&l->io_failed, 1) != 0)
		return;
	snprintf(l->io_why, sizeof(l->io_why), "write error on the data "
	    "path (%s on export %u: %s)", what, id, strerror(err));
	if (lun_data_shutdown_fd(l->cfg, fd) == 0)
		snprintf(l->io_why + strlen(l->io_why), sizeof(l->io_why) -
		    strlen(l->io_why), "; file system shut down");
	atomic_store(&l->io_why_set, 1);
	loop_call(io_error_loop, (void *)(intptr_t)lun);
}

/* Loop thread: mount the data again here (no peer takes it).  The
 * exports let go of the mount first; ha_lun_attached reopens them. */
static void
io_remount(int lun)
{
	struct ha_lun *l = &ha.luns[lun];

	if (!atomic_load(&l->io_failed) || !atomic_load(&l->serving) ||
	    l->io_handled)
		return;
	l->io_handled = 1;
	log_warnx("ha: lun %s: no peer can take it: mounting it again here",
	    l->cfg->name);
	lun_exports(lun, 0);
	ha_disk_remount(lun);
}

static int	handover_possible(void);

static void
io_error_loop(void *arg)
{
	int		 lun = (int)(intptr_t)arg;
	struct ha_lun	*l = &ha.luns[lun];
	int		 peer;

	if (!atomic_load(&l->io_failed) || !atomic_load(&l->serving))
		return;
	peer = handover_possible();
	log_warnx("ha: lun %s: %s: nothing more is acknowledged on it until "
	    "its data is mounted again%s", l->cfg->name, l->io_why,
	    peer ? " (the health monitor hands it to the peer)" : "");
	if (!peer)
		io_remount(lun);
}

static void
lun_exports(int lun, int on)
{
	for (int i = 0; i < nexps; i++) {
		if (exps[i].lun != lun)
			continue;
		/* an export that fails to open stays enabled but offline
		 * (its requests are dropped): the LUN is served all the same */
		if (on) {
			fsvc_export_attach(exps[i].id);
			fsvc_export_enable(exps[i].id, 1);
		} else {
			/* refuse new requests before waiting for the ones
			 * in flight (detach blocks until they are done) */
			fsvc_export_enable(exps[i].id, 0);
			fsvc_export_detach(exps[i].id);
		}
	}
}

/* ---- events from the disk thread -------------------------------------- */

void
ha_lun_attached(int lun)
{
	struct ha_lun *l = &ha.luns[lun];

	/* The mailbox tells the LUN's home head we serve it now; a
	 * HANDOVER of an earlier fault is over once we serve it again */
	if (l->cfg->home != ha.self)
		ha_disk_mailbox(lun, PEXT_MB_TAKEN_OVER,
		    PEXT_MB_GIVEN_BACK | PEXT_MB_HANDOVER);
	else
		ha_disk_mailbox(lun, 0, PEXT_MB_HANDOVER | PEXT_MB_GIVEN_BACK);
	/* a fresh mount: the page cache a write error spoiled is gone */
	atomic_store(&l->io_why_set, 0);
	atomic_store(&l->io_failed, 0);
	l->io_handled = 0;
	lun_exports(lun, 1);
	atomic_store(&l->serving, 1);
	move_stop_us[lun] = 0;
	if (move_rel_us[lun] != 0) {
		move_pause_ms[lun] = (int64_t)(now_us() - move_rel_us[lun]) /
		    1000;
		move_rel_us[lun] = 0;
		log_info("ha: lun %s served here (out of service for %lld ms "
		    "across the move)", l->cfg->name,
		    (long long)move_pause_ms[lun]);
	} else
		log_info("ha: lun %s served here", l->cfg->name);
	hooks_event(HOOK_LUN_SERVED, .lun = l->cfg->name,
	    .lun_id = l->cfg->id);
	ha_reconcile();
}

void
ha_lun_released(int lun)
{
	/* tell the peer at once (its disk thread would see it on its next
	 * tick), with how long the LUN has been out of service here */
	if (move_stop_us[lun] != 0 && lun_on(lun) != ha.self)
		released_send(lun, now_us() - move_stop_us[lun]);
	ha_reconcile();
}

static void
ip_release(struct ha_ip *ip)
{
	if (!ip->held)
		return;
	fsvc_listen_remove(ip->v->addr);
	vip_release(&ip->ann, ip->v);
	ip->held = 0;
	ip->err[0] = 0;
	log_info("ha: service ip %s/%d released", ip->v->addr, ip->v->prefix);
	hooks_event(HOOK_IP_RELEASED, .ip = ip->v->addr, .dev = ip->v->dev);
}

static void
reset_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (ha.fsm.state == HA_STA_HALTED && !ha.halting && !fault_disabled) {
		log_info("ha: restarting the state machine after the fault");
		ha_evt(HA_EVT_RESET);
	}
}

/*
 * A LUN was fenced by the disk thread (reservation lost, lease expired):
 * its gate is already closed.  IPs first (clients must stop reaching
 * this head), then that LUN's exports, then the whole head surrenders:
 * a head that lost a lease was stopped or cut off and does not know what
 * the peer did meanwhile.
 */
void
ha_lun_fenced(int lun, const char *why)
{
	char	buf[160];

	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	lun_exports(lun, 0);
	snprintf(buf, sizeof(buf), "lun %s fenced: %s",
	    ha.luns[lun].cfg->name, why);
	surrender(buf, 0, 1, 1);
}

/* Both heads came out of a split brain as masters (only possible without
 * a disk heartbeat): the configured slave restarts its state machine and
 * rejoins through the normal giveback path.  Not a fault: not announced,
 * not counted. */
void
ha_step_down(const char *why)
{
	log_warnx("ha: %s: stepping down and rejoining as slave", why);
	surrender(why, 0, 0, 0);
}

/* ---- reconciliation -------------------------------------------------- */

/* Which head serves LUN i while both are up: the override, else home. */
static int
lun_on(int i)
{
	return lun_place[i] >= 0 ? lun_place[i] : ha.luns[i].cfg->home;
}

/*
 * Which head holds a service IP while both are up.  An IP serves the
 * LUNs homed on its head, as a group: it follows them when every one of
 * them is placed on the other head, and stays while at least one is
 * still served at home (a LUN handed over alone is then reached through
 * the peer's own service IPs; docs/failover.md "Handing over one LUN").
 * An explicit override (ip move) wins.
 */
static int
ip_on(const struct ha_ip *ip)
{
	int n = 0, moved = 0;

	if (ip->place >= 0)
		return ip->place;
	for (int i = 0; i < ha.nluns; i++)
		if (ha.luns[i].cfg->home == ip->head) {
			n++;
			moved += lun_on(i) != ip->head;
		}
	return n > 0 && moved == n ? 1 - ip->head : ip->head;
}

static int
lun_wanted(int i)
{
	switch (ha.res_mode) {
	case HA_RES_NONE:
		return 0;
	case HA_RES_OWN:
		return lun_on(i) == ha.self;
	case HA_RES_ALL:
		/* the peer is gone: overrides towards it cannot be served
		 * there; this head serves everything it can */
		return 1;
	}
	return 0;
}

static int
ip_wanted(const struct ha_ip *ip)
{
	switch (ha.res_mode) {
	case HA_RES_NONE:
		return 0;
	case HA_RES_OWN:
		return ip_on(ip) == ha.self;
	case HA_RES_ALL:
		return 1;
	}
	return 0;
}

/* All LUNs homed on head h that we want are served here. */
static int
head_luns_served(int h)
{
	for (int i = 0; i < ha.nluns; i++)
		if (ha.luns[i].cfg->home == h && lun_wanted(i) &&
		    !atomic_load(&ha.luns[i].serving))
			return 0;
	return 1;
}

static void
ip_acquire(struct ha_ip *ip)
{
	const char *who;

	if (ip->held || now_us() < ip->retry_us)
		return;
	if (vip_addr_add(ip->v) < 0) {
		snprintf(ip->err, sizeof(ip->err), "%s", errno == ENODEV ?
		    "no such interface here" : strerror(errno));
		ip->retry_us = now_us() + 1000000;
		return;
	}
	ip->err[0] = 0;
	if (fsvc_listen_add(ip->v->addr, &who) < 0)
		log_warnx("ha: %s cannot listen on %s yet", who, ip->v->addr);
	vip_announce_start(&ip->ann, loop_base(), ip->v, ha.cfg->garp_count,
	    ha.cfg->garp_interval_ms);
	tickle_ip_acquired(ip->v->addr);	/* its clients reconnect now */
	ip->held = 1;
	ip->hold_until_us = 0;
	log_info("ha: service ip %s/%d on %s added and announced",
	    ip->v->addr, ip->v->prefix, ip->v->dev);
	hooks_event(HOOK_IP_ADDED, .ip = ip->v->addr, .dev = ip->v->dev);
	/* the peer may still hold it (a coordinated giveback): it drops
	 * it, and its clients' connections, now that ours is announced */
	ipclaim_send(ip);
}

/*
 * A served LUN whose lease ran out although the loop runs: the disk
 * thread is stuck (hung I/O).  Its gate is already closed (exp_gate
 * reads the lease); fence it from here so the IPs go and the head
 * surrenders instead of holding addresses it cannot serve.  One tick of
 * slack: the disk thread renews on the same period.
 */
static void
leases_check(uint64_t now)
{
	uint64_t slack = (uint64_t)ha.hbp.interval_ms * 1000, until;

	for (int i = 0; i < ha.nluns; i++) {
		if (!atomic_load(&ha.luns[i].serving))
			continue;
		until = atomic_load(&ha.luns[i].lease_until_us);
		if (until != 0 && now >= until + slack) {
			char why[96];

			snprintf(why, sizeof(why), "lease expired %llu ms ago "
			    "and not renewed (disk thread stuck)",
			    (unsigned long long)(now - until) / 1000);
			atomic_store(&ha.luns[i].serving, 0);
			hooks_event(HOOK_LUN_RELEASED,
			    .lun = ha.luns[i].cfg->name,
			    .lun_id = ha.luns[i].cfg->id);
			ha_lun_fenced(i, why);
			return;
		}
	}
}

void
ha_reconcile(void)
{
	struct buf	b;
	int		all = 1, peer_left = 0;
	uint64_t	now = now_us();

	/* The loop itself did not run for half a lease (SIGSTOP, a stalled
	 * machine): the leases are gone; drop the IPs before anything
	 * else, the disk thread fences the LUNs. */
	if (atomic_load(&ha.test_blind))
		last_reconcile_us = 0;
	else if (last_reconcile_us != 0 && ha.nluns > 0 && now -
	    last_reconcile_us >= (uint64_t)ha.cfg->lease_ms * 500) {
		char why[96];

		snprintf(why, sizeof(why), "the event loop did not run for "
		    "%llu ms", (unsigned long long)(now - last_reconcile_us) /
		    1000);
		last_reconcile_us = now;
		ha_frozen(why);
	} else
		leases_check(now);
	if (!atomic_load(&ha.test_blind))
		last_reconcile_us = now;
	peer_watch();
	coord_tick();
	/* IPs that must go, go first — except that while both heads run,
	 * an IP moving to the peer stays until the peer has it announced
	 * and claims it (make-before-break: the clients' reconnects meet
	 * the peer, "Coordinated giveback" in docs/failover.md) */
	for (int i = 0; i < nips; i++) {
		/* the IP serves the LUNs homed on its head: while one of
		 * them is kept here for a peer that is not ready yet, so is
		 * the IP, and the wait for the claim has not begun */
		if (ip_wanted(&ips[i]) || (ips[i].held &&
		    ip_luns_kept(&ips[i]))) {
			ips[i].hold_until_us = 0;
			continue;
		}
		if (ips[i].held && ips[i].hold_until_us == 0 &&
		    (ha.fsm.state & (HA_STA_DAC | HA_STA_DEGRADED)) &&
		    ha_mon_verdict() == HB_PEER_ALIVE)
			ips[i].hold_until_us = now + HA_IP_HOLD_MS * 1000ULL;
		if (ips[i].held && ips[i].hold_until_us > now)
			continue;
		if (ips[i].held && ips[i].hold_until_us != 0)
			log_warnx("ha: service ip %s: the peer did not "
			    "claim it within %d ms: released", ips[i].v->addr,
			    HA_IP_HOLD_MS);
		ip_release(&ips[i]);
	}
	for (int i = 0; i < ha.nluns; i++) {
		struct ha_lun *l = &ha.luns[i];
		int w = lun_wanted(i) || coord_keep(i);

		/* about to take it (a returning head in GIVEWAIT, or while
		 * dual active): publish our readiness */
		ha_disk_set_prep(i, lun_on(i) == ha.self &&
		    !atomic_load(&l->serving) &&
		    (ha.fsm.state & (HA_STA_INIT | HA_STA_DAC)));

		if (!w && atomic_load(&l->serving)) {
			atomic_store(&l->serving, 0);
			lun_exports(i, 0);
			move_stop_us[i] = now;
			log_info("ha: lun %s no longer served here",
			    l->cfg->name);
			hooks_event(HOOK_LUN_RELEASED, .lun = l->cfg->name,
			    .lun_id = l->cfg->id);
		}
		ha_disk_set_want(i, w);
	}
	for (int i = 0; i < nips; i++)
		if (ip_wanted(&ips[i]) && head_luns_served(ips[i].head))
			ip_acquire(&ips[i]);

	/* completion of a takeover / a giveback */
	for (int i = 0; i < ha.nluns; i++)
		if (lun_wanted(i) && !atomic_load(&ha.luns[i].serving))
			all = 0;
	for (int i = 0; i < nips; i++)
		if (ip_wanted(&ips[i]) && !ips[i].held)
			all = 0;
	if (ha.takeover_pending && ha.res_mode == HA_RES_ALL && all) {
		ha.takeover_pending = 0;
		buf_init(&b);
		for (int i = 0; i < ha.nluns; i++)
			buf_printf(&b, "%slun %s", b.len ? ", " : "",
			    ha.luns[i].cfg->name);
		for (int i = 0; i < nips; i++)
			buf_printf(&b, "%sip %s announced", b.len ? ", " : "",
			    ips[i].v->addr);
		last_takeover_ms = (int64_t)(now_us() - ha.res_mode_us) / 1000;
		log_info("takeover: serving %s (%llu ms after the decision)",
		    b.len ? (char *)b.data : "nothing (no LUNs, no IPs)",
		    (unsigned long long)last_takeover_ms);
		buf_free(&b);
	}
	if (ha.giveback_pending) {
		for (int i = 0; i < ha.nluns; i++) {
			enum ha_lun_st st;
			uint32_t owner;
			int ok;

			if (lun_wanted(i))
				continue;
			ha_disk_get(i, &st, &owner, &ok);
			if (st != HA_LUN_IDLE || atomic_load(&ha.luns[i].serving))
				peer_left = 1;
		}
		for (int i = 0; i < nips; i++)
			if (!ip_wanted(&ips[i]) && ips[i].held &&
			    ips[i].hold_until_us == 0)
				peer_left = 1;
		if (!peer_left) {
			ha.giveback_pending = 0;
			last_giveback_ms = (int64_t)(now_us() -
			    ha.res_mode_us) / 1000;
			log_info("ha: giveback done: the peer's LUNs and IPs "
			    "are released");
			ha_fsm(&ha.fsm, HA_EVT_GIVEBACK_DONE);
		}
	}
	publish();
}

/* ---- placement ------------------------------------------------------- */

/*
 * Placement overrides: which head serves a LUN (or holds an IP) right
 * now, whatever its configured home.  Set by a LUN handover (a fault on
 * one LUN) and by maintenance commands; consulted by lun_wanted() and
 * ip_wanted() while both heads are up (a takeover serves everything).
 * Both heads keep the same table: the one with the higher version wins,
 * equal versions with different content go to the configured master's
 * table.  A head sends its table on every change and every second while
 * it is not the boot-time empty table, so a restarted head learns it.
 */
static int
place_head_of_node(uint32_t node)
{
	for (int h = 0; h < 2; h++)
		if (ha.cfg->heads[h].id == node)
			return h;
	return -1;
}

static void
place_changed(const char *what)
{
	place_ver++;
	log_info("ha: placement %s (version %llu)", what,
	    (unsigned long long)place_ver);
}

static void
place_fill(struct ha_msg *m)
{
	for (int i = 0; i < ha.nluns && m->nlun < HA_MSG_MAXLUN; i++)
		if (lun_place[i] >= 0) {
			m->lun[m->nlun].lun_id = ha.luns[i].cfg->id;
			m->lun[m->nlun].node = ha.cfg->heads[lun_place[i]].id;
			m->nlun++;
		}
	for (int i = 0; i < nips && m->nip < HA_MSG_MAXIP; i++)
		if (ips[i].place >= 0) {
			snprintf(m->ip[m->nip].addr, sizeof(m->ip[m->nip].addr),
			    "%s", ips[i].v->addr);
			m->ip[m->nip].node = ha.cfg->heads[ips[i].place].id;
			m->nip++;
		}
	m->place_ver = place_ver;
}

/* A control message from this head: op, flags and why (NULL: none)
 * set, everything else zero. */
static void
ctl_msg_init(struct ha_msg *m, uint8_t op, uint32_t flags, const char *why)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->flags = flags;
	m->node_id = ha.self_id;
	m->boot_id = ha.boot_id;
	snprintf(m->why, sizeof(m->why), "%s", why ? why : "");
}

/* Encode m and send it on every peer-link path: 0, or the encoder's
 * negative error (nothing sent). */
static int
ctl_msg_send(const struct ha_msg *m)
{
	uint8_t	buf[HA_MSG_MAXLEN];
	int	n;

	if ((n = ha_msg_encode(buf, sizeof(buf), m)) < 0)
		return n;
	for (int i = 0; i < link_npaths(); i++)
		link_send_path(i, HA_T_CTL, buf, (size_t)n);
	return 0;
}

static void
place_send(uint32_t flags, const char *why)
{
	struct ha_msg	m;
	int		n;

	ctl_msg_init(&m, HA_MSG_PLACE, flags, why);
	place_fill(&m);
	if ((n = ctl_msg_send(&m)) < 0) {
		log_warnx("ha: cannot encode the placement: %s",
		    ha_msg_strerror(n));
		return;
	}
	place_sent_us = now_us();
}

/* The peer's table: adopt it when it is newer (see above). */
static void
place_recv(const struct ha_msg *m)
{
	int8_t	lp[CFG_MAX_LUNS];
	int	ipp[2 * CFG_MAX_VIPS], same = 1, h;

	if (m->place_ver < place_ver)
		return;
	for (int i = 0; i < ha.nluns; i++)
		lp[i] = -1;
	for (int i = 0; i < nips; i++)
		ipp[i] = -1;
	for (int j = 0; j < m->nlun; j++)
		for (int i = 0; i < ha.nluns; i++)
			if (ha.luns[i].cfg->id == m->lun[j].lun_id &&
			    (h = place_head_of_node(m->lun[j].node)) >= 0)
				lp[i] = (int8_t)h;
	for (int j = 0; j < m->nip; j++)
		for (int i = 0; i < nips; i++)
			if (strcmp(ips[i].v->addr, m->ip[j].addr) == 0 &&
			    (h = place_head_of_node(m->ip[j].node)) >= 0)
				ipp[i] = h;
	/* the LUNs it hands over: their HANDOVER mailbox flag is this move */
	if (m->flags & HA_MSG_F_HANDOVER)
		for (int i = 0; i < ha.nluns; i++)
			if ((lp[i] >= 0 ? lp[i] : ha.luns[i].cfg->home) ==
			    ha.self)
				peer_hov_done[i] = 1;
	for (int i = 0; i < ha.nluns; i++)
		same &= lp[i] == lun_place[i];
	for (int i = 0; i < nips; i++)
		same &= ipp[i] == ips[i].place;
	if (same) {
		place_ver = m->place_ver;
		return;
	}
	if (m->place_ver == place_ver &&
	    ha.cfg->heads[ha.self].role == CFG_ROLE_MASTER)
		return;		/* a tie: the master's table stands */
	for (int i = 0; i < ha.nluns; i++) {
		int before = lun_on(i);

		if (lp[i] != lun_place[i] && before == ha.self &&
		    (lp[i] >= 0 ? lp[i] : ha.luns[i].cfg->home) != ha.self &&
		    atomic_load(&ha.luns[i].serving) &&
		    !(m->flags & HA_MSG_F_HANDOVER))
			coord[i] = 1;	/* a maintenance move: coordinated */
		if (lp[i] != lun_place[i])
			log_info("ha: lun %s now placed on %s (peer's "
			    "placement%s%s)", ha.luns[i].cfg->name,
			    ha.cfg->heads[lp[i] >= 0 ? lp[i] :
			    ha.luns[i].cfg->home].name, m->why[0] ? ": " : "",
			    m->why);
		lun_place[i] = lp[i];
	}
	for (int i = 0; i < nips; i++)
		ips[i].place = ipp[i];
	place_ver = m->place_ver;
	ha_reconcile();
	ha_disk_kick();
}

int
ha_place_lun(int lun, int head, const char *why)
{
	char what[160];

	if (lun < 0 || lun >= ha.nluns || head < -1 || head > 1)
		return -1;
	if (lun_place[lun] == head)
		return 0;
	lun_place[lun] = (int8_t)head;
	/* a maintenance move is coordinated: served here until the peer is
	 * ready for it (a fault handover is not: ha_lun_handover) */
	if (lun_on(lun) != ha.self && atomic_load(&ha.luns[lun].serving))
		coord[lun] = 1;
	snprintf(what, sizeof(what), "lun %s -> %s%s%s", ha.luns[lun].cfg->name,
	    head < 0 ? "its home" : ha.cfg->heads[head].name, why ? ": " : "",
	    why ? why : "");
	place_changed(what);
	place_send(0, why);
	ha_reconcile();
	ha_disk_kick();
	return 0;
}

void
ha_test_blind(int on)
{
	atomic_store(&ha.test_blind, on);
	log_warnx("ha: TEST: clock and lease checks and disk I/O %s",
	    on ? "suspended (blind)" : "resumed");
}

int
ha_lun_where(int lun)
{
	if (lun < 0 || lun >= ha.nluns)
		return -1;
	return lun_on(lun);
}

int
ha_lun_here(int lun)
{
	return lun >= 0 && lun < ha.nluns &&
	    atomic_load(&ha.luns[lun].serving);
}

int
ha_ip_where(const char *addr, int *here)
{
	*here = 0;
	for (int i = 0; i < nips; i++)
		if (strcmp(ips[i].v->addr, addr) == 0) {
			*here = ips[i].held;
			return ip_on(&ips[i]);
		}
	return -1;
}

/* ---- control messages (PLACE, KILL, FAULT) ---------------------------- */

static void
ctl_send(uint8_t op, uint32_t flags, uint64_t target, const char *why)
{
	struct ha_msg	m;

	ctl_msg_init(&m, op, flags, why);
	m.target_boot = target;
	m.place_ver = place_ver;
	(void)ctl_msg_send(&m);
}

static void	peer_fault(const char *how, const char *why);
static void	peer_gw_set(int i, const struct ha_msg_gw *g);
static void	ipclaim_recv(const char *addr);
static void	released_recv(const struct ha_msg *m);
static const char *gw_name(unsigned state);

static void
ctl_rx_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct ha_msg	*m;
	int		 rc;

	(void)type; (void)arg;
	if (rq != NULL)
		link_reply(rq, NULL, 0);
	m = xcalloc(1, sizeof(*m));
	if ((rc = ha_msg_decode(p, len, m)) != 0 || m->node_id != ha.peer_id) {
		log_warnx("ha: control message refused (%zu bytes): %s",
		    len, rc ? ha_msg_strerror(rc) : "not from the peer");
		free(m);
		return;
	}
	switch (m->op) {
	case HA_MSG_PLACE:
		if (m->flags & HA_MSG_F_HANDOVER)
			log_warnx("ha: the peer hands LUNs over: %s", m->why);
		place_recv(m);
		break;
	case HA_MSG_KILL:
		if (m->target_boot != ha.boot_id)
			break;		/* aimed at an earlier daemon */
		nkill_rx++;
		if (ha.fsm.state & (HA_STA_HALTED | HA_STA_BOOT))
			break;
		log_warnx("ha: kill message from the peer (%s): fencing now",
		    m->why);
		fence_all("killed by the peer (it serves our LUNs)");
		break;
	case HA_MSG_FAULT:
		peer_fault("announced FAULT", m->why);
		break;
	case HA_MSG_GIVEWAIT:
		for (int j = 0; j < m->ngw; j++)
			for (int i = 0; i < ha.nluns; i++)
				if (ha.luns[i].cfg->id == m->gw[j].lun_id)
					peer_gw_set(i, &m->gw[j]);
		ha_reconcile();
		break;
	case HA_MSG_RELEASED:
		released_recv(m);
		break;
	case HA_MSG_IPCLAIM:
		for (int j = 0; j < m->nip; j++)
			ipclaim_recv(m->ip[j].addr);
		ha_reconcile();
		break;
	}
	free(m);
}

/* ---- coordinated giveback -------------------------------------------- */

/*
 * Moving a LUN to the peer while both run (the giveback after a
 * takeover, a maintenance move) is coordinated so that clients see only
 * the last step (docs/failover.md "Coordinated giveback"):
 *  1. the taking head prepares what it can without the data (LUN open,
 *     private extent and reservation readable, data path present, our
 *     TAKEN_OVER seen in the mailbox) and publishes its GIVEWAIT record
 *     (mailbox on the LUN, and a GIVEWAIT control message): PREPARING,
 *     READY (MBWAIT) or FAILED with a reason;
 *  2. this head keeps serving the LUN (coord_keep) until the record says
 *     READY; FAILED: the LUN is placed here and stays served here;
 *  3. READY: exports off, data detached, reservation released, mailbox
 *     TAKEN_OVER -> GIVEN_BACK; the service IPs stay here (hold) so a
 *     client that reconnects meets a head;
 *  4. the peer acquires, attaches and serves, adds and announces the IPs
 *     and sends IPCLAIM; only then this head closes the clients'
 *     connections on those IPs and removes them: the clients' reconnects
 *     go to the peer (its GARP came first), no SYN is lost.
 * The reservation is handed over only while this head no longer serves:
 * the fencing rules do not change.
 */
static int
ha_disk_idle(int i)
{
	enum ha_lun_st	st;
	uint32_t	owner;
	int		ok;

	ha_disk_get(i, &st, &owner, &ok);
	return st == HA_LUN_IDLE;
}

static int
coord_keep(int i)
{
	if (!coord[i] || lun_on(i) == ha.self)
		return 0;
	if (!atomic_load(&ha.luns[i].serving))
		return 0;
	return peer_gw[i].state != PEXT_GW_READY;
}

/* A LUN homed on ip's head is still served here because the peer it
 * goes to is not ready for it yet (coordinated giveback). */
static int
ip_luns_kept(const struct ha_ip *ip)
{
	for (int i = 0; i < ha.nluns; i++)
		if (ha.luns[i].cfg->home == ip->head && coord_keep(i))
			return 1;
	return 0;
}

static void
coord_tick(void)
{
	uint64_t now = now_us();

	/* "given back" lasts until the peer took it (DONE), cannot (FAILED)
	 * or is gone, or the LUN is placed here again */
	for (int i = 0; i < ha.nluns; i++) {
		if (giving[i] && (lun_on(i) == ha.self ||
		    peer_gw[i].state == PEXT_GW_DONE ||
		    peer_gw[i].state == PEXT_GW_FAILED ||
		    ha_mon_verdict() != HB_PEER_ALIVE ||
		    !(ha.fsm.state & (HA_STA_DAC | HA_STA_DEGRADED))))
			giving[i] = 0;
		ha_disk_set_give(i, giving[i]);
	}

	for (int i = 0; i < ha.nluns; i++) {
		struct ha_lun *l = &ha.luns[i];

		if (!coord[i])
			continue;
		if (lun_on(i) == ha.self || (!atomic_load(&l->serving) &&
		    coord_ready_us[i] != 0 && ha_disk_idle(i))) {
			coord[i] = 0;		/* done, or moved back */
			coord_ready_us[i] = 0;
			continue;
		}
		if (!atomic_load(&l->serving))
			continue;
		if (peer_gw[i].state == PEXT_GW_FAILED) {
			char what[200];

			snprintf(lun_fault[i], sizeof(lun_fault[i]), "kept: "
			    "%s cannot take it: %s",
			    ha.cfg->heads[1 - ha.self].name, peer_gw[i].reason);
			log_warnx("ha: lun %s: the peer cannot get ready (%s): "
			    "it stays served here", l->cfg->name,
			    peer_gw[i].reason);
			lun_place[i] = (int8_t)ha.self;
			/* an IP moved with it (ip move) stays with it too */
			for (int k = 0; k < nips; k++)
				if (ips[k].head == l->cfg->home &&
				    ips[k].place == 1 - ha.self)
					ips[k].place = -1;
			snprintf(what, sizeof(what), "lun %s -> %s: the peer "
			    "cannot take it", l->cfg->name,
			    ha.cfg->heads[ha.self].name);
			place_changed(what);
			place_send(0, what);
			coord[i] = 0;
			continue;
		}
		if (peer_gw[i].state == PEXT_GW_READY &&
		    coord_ready_us[i] == 0) {
			coord_ready_us[i] = now;
			giving[i] = 1;
			log_info("ha: lun %s: the peer is ready (progress "
			    "0x%x): stopping it here; its IPs stay until the "
			    "peer claims them", l->cfg->name,
			    peer_gw[i].progress);
		}
	}
}

static const char *
gw_name(unsigned state)
{
	static const char *const names[] = { "none", "GIVEWAIT", "PREPARING",
	    "READY", "FAILED", "DONE" };

	return state < nitems(names) ? names[state] : "?";
}

static void
peer_gw_set(int i, const struct ha_msg_gw *g)
{
	if (peer_gw[i].state == g->state && strcmp(peer_gw[i].reason,
	    g->reason) == 0) {
		peer_gw[i].progress = g->progress;
		return;
	}
	if (g->state != PEXT_GW_NONE || peer_gw[i].state != PEXT_GW_DONE) {
		char key[192], more[64] = "";

		/* A peer that cannot get ready retries every disk pass and
		 * its record swings between PREPARING and FAILED (with the
		 * same reasons): those are logged once per LOG_RATELIM_MS
		 * each; the milestones (GIVEWAIT, READY, DONE) always. */
		snprintf(key, sizeof(key), "ha gw %s %u %s",
		    ha.luns[i].cfg->name, g->state, g->reason);
		if ((g->state != PEXT_GW_PREPARING &&
		    g->state != PEXT_GW_FAILED) ||
		    log_ratelim_key(key, more, sizeof(more)))
			log_info("ha: lun %s: the peer's giveback record: %s "
			    "(progress 0x%x)%s%s%s", ha.luns[i].cfg->name,
			    gw_name(g->state), g->progress,
			    g->reason[0] ? ": " : "", g->reason, more);
	}
	peer_gw[i] = *g;
	if (g->state == PEXT_GW_DONE && move_stop_us[i] != 0 &&
	    !atomic_load(&ha.luns[i].serving)) {
		move_pause_ms[i] = (int64_t)(now_us() - move_stop_us[i]) / 1000;
		move_stop_us[i] = 0;
		log_info("ha: lun %s served by the peer (out of service for "
		    "%lld ms across the move)", ha.luns[i].cfg->name,
		    (long long)move_pause_ms[i]);
	}
}

/* Our record changed (disk thread): tell the peer at once. */
void
ha_gw_changed(int lun, unsigned state, uint32_t progress, const char *reason)
{
	my_gw[lun].lun_id = ha.luns[lun].cfg->id;
	my_gw[lun].state = (uint16_t)state;
	my_gw[lun].progress = (uint16_t)progress;
	snprintf(my_gw[lun].reason, sizeof(my_gw[lun].reason), "%s", reason);
	gw_sent_us = 0;
	ha_reconcile();
}

static void
gw_send(void)
{
	struct ha_msg	*m;
	uint8_t		*buf;
	int		 n, any = 0;

	if (ha.nluns == 0)
		return;
	for (int i = 0; i < ha.nluns; i++)
		any |= my_gw[i].state != PEXT_GW_NONE;
	/* on a change, and every second while a record is up */
	if (gw_sent_us != 0 && (!any || now_us() - gw_sent_us < 1000000))
		return;
	m = xcalloc(1, sizeof(*m));
	buf = xcalloc(1, HA_MSG_MAXLEN);
	m->op = HA_MSG_GIVEWAIT;
	m->node_id = ha.self_id;
	m->boot_id = ha.boot_id;
	for (int i = 0; i < ha.nluns && m->ngw < HA_MSG_MAXLUN; i++) {
		m->gw[m->ngw] = my_gw[i];
		m->gw[m->ngw].lun_id = ha.luns[i].cfg->id;
		m->ngw++;
	}
	if ((n = ha_msg_encode(buf, HA_MSG_MAXLEN, m)) > 0)
		for (int i = 0; i < link_npaths(); i++)
			link_send_path(i, HA_T_CTL, buf, (size_t)n);
	gw_sent_us = now_us();
	free(buf);
	free(m);
}

static void
ipclaim_send(const struct ha_ip *ip)
{
	struct ha_msg	m;

	ctl_msg_init(&m, HA_MSG_IPCLAIM, 0, NULL);
	m.nip = 1;
	snprintf(m.ip[0].addr, sizeof(m.ip[0].addr), "%s", ip->v->addr);
	m.ip[0].node = ha.self_id;
	(void)ctl_msg_send(&m);
}

static void
released_send(int lun, uint64_t out_us)
{
	struct ha_msg	m;

	ctl_msg_init(&m, HA_MSG_RELEASED, 0, NULL);
	m.ngw = 1;
	m.gw[0].lun_id = ha.luns[lun].cfg->id;
	m.gw[0].progress = (uint16_t)MIN(out_us / 1000, 65535);
	(void)ctl_msg_send(&m);
}

/* The peer has just released a LUN for us: look now, not at our next
 * tick, and remember since when it is out of service. */
static void
released_recv(const struct ha_msg *m)
{
	for (int j = 0; j < m->ngw; j++)
		for (int i = 0; i < ha.nluns; i++)
			if (ha.luns[i].cfg->id == m->gw[j].lun_id &&
			    !atomic_load(&ha.luns[i].serving))
				move_rel_us[i] = now_us() -
				    (uint64_t)m->gw[j].progress * 1000;
	ha_disk_kick();
}

/* The peer holds and announced addr: drop ours, connections first. */
static void
ipclaim_recv(const char *addr)
{
	for (int i = 0; i < nips; i++) {
		if (strcmp(ips[i].v->addr, addr) != 0 || !ips[i].held)
			continue;
		if (ip_wanted(&ips[i])) {
			log_warnx("ha: the peer claims service ip %s which "
			    "this head should hold: keeping it", addr);
			continue;
		}
		nclaim_rx++;
		log_info("ha: service ip %s claimed by the peer%s", addr,
		    ips[i].hold_until_us ? " (held for it)" : "");
		ip_release(&ips[i]);
		ips[i].hold_until_us = 0;
	}
}

/* ---- maintenance moves ------------------------------------------------ */

/*
 * duonas node standby / unstandby, takeover, giveback, ip move: a change
 * of the placement overrides, carried out with the coordinated sequence
 * (a LUN stays served where it is until the other head is ready for it,
 * IPs move make-before-break).  ha_maint_start() plans and applies it,
 * ha_maint_poll() says when every moved LUN and IP has arrived and what
 * pause each LUN had.  Loop thread; one move at a time.
 */
struct maint_item {
	int	lun;		/* >= 0: a LUN */
	int	ip;		/* >= 0: an IP */
	int	from, to;	/* head indexes */
};

static struct maint_item maint[CFG_MAX_LUNS + 2 * CFG_MAX_VIPS];
static int		 nmaint;
static uint64_t		 maint_start_us;
static uint64_t		 maint_until_us;	/* its command waits until */

static const char *
head_name(int h)
{
	return ha.cfg->heads[h].name;
}

int
ha_maint_start(enum ha_maint op, int head, const char *addr, int timeout_ms,
    struct buf *out)
{
	int8_t	 old_lp[CFG_MAX_LUNS];
	int	 old_ip[2 * CFG_MAX_VIPS], lun_was[CFG_MAX_LUNS];
	int	 ip_was[2 * CFG_MAX_VIPS], found = 0;
	unsigned ps;
	uint64_t pboot;
	char	 what[160];

	if (!(ha.fsm.state & HA_STA_DAC) || ha_mon_verdict() !=
	    HB_PEER_ALIVE || ha_mon_peer_state(&ps, &pboot) < 0 ||
	    !(ps & HA_STA_DAC)) {
		buf_printf(out, "both heads must be dual active (this head: "
		    "%s, the peer: %s)\n", ha_state_name(),
		    ha_mon_peer_state(&ps, &pboot) == 0 ?
		    ha_fsm_state_name(ps) : "not heard");
		return -1;
	}
	if (nmaint > 0 && ha_maint_poll(NULL) == 0 &&
	    now_us() < maint_until_us) {
		buf_printf(out, "another move is still in progress\n");
		return -1;
	}
	memcpy(old_lp, lun_place, sizeof(old_lp));
	for (int i = 0; i < ha.nluns; i++)
		lun_was[i] = lun_on(i);
	for (int i = 0; i < nips; i++) {
		old_ip[i] = ips[i].place;
		ip_was[i] = ip_on(&ips[i]);
	}
	switch (op) {
	case HA_MAINT_STANDBY:
		for (int i = 0; i < ha.nluns; i++)
			if (lun_was[i] == head)
				lun_place[i] = (int8_t)(1 - head);
		for (int i = 0; i < nips; i++)
			if (ip_was[i] == head)
				ips[i].place = 1 - head;
		snprintf(what, sizeof(what), "head %s on standby",
		    head_name(head));
		break;
	case HA_MAINT_UNSTANDBY:
		for (int i = 0; i < ha.nluns; i++)
			if (ha.luns[i].cfg->home == head)
				lun_place[i] = -1;
		for (int i = 0; i < nips; i++)
			if (ips[i].head == head)
				ips[i].place = -1;
		snprintf(what, sizeof(what), "head %s back from standby",
		    head_name(head));
		break;
	case HA_MAINT_GIVEBACK:
		for (int i = 0; i < ha.nluns; i++)
			lun_place[i] = -1;
		for (int i = 0; i < nips; i++)
			ips[i].place = -1;
		snprintf(what, sizeof(what), "everything back to its "
		    "configured home");
		break;
	case HA_MAINT_IP_MOVE:
		/* the IP and what it serves: the LUNs of its group */
		for (int i = 0; i < nips; i++)
			if (strcmp(ips[i].v->addr, addr) == 0) {
				ips[i].place = head;
				found = 1;
				for (int l = 0; l < ha.nluns; l++)
					if (ha.luns[l].cfg->home == ips[i].head)
						lun_place[l] = (int8_t)head;
			}
		if (!found) {
			buf_printf(out, "no service ip %s in the "
			    "configuration\n", addr);
			return -1;
		}
		snprintf(what, sizeof(what), "ip %s -> %s", addr,
		    head < 0 ? "its LUNs' head" : head_name(head));
		break;
	}
	nmaint = 0;
	for (int i = 0; i < ha.nluns; i++)
		if (lun_on(i) != lun_was[i]) {
			maint[nmaint++] = (struct maint_item){ i, -1,
			    lun_was[i], lun_on(i) };
			move_pause_ms[i] = -1;
			move_rel_us[i] = 0;
			if (lun_was[i] == ha.self &&
			    atomic_load(&ha.luns[i].serving))
				coord[i] = 1;
			buf_printf(out, "lun %s: %s -> %s\n",
			    ha.luns[i].cfg->name, head_name(lun_was[i]),
			    head_name(lun_on(i)));
		}
	for (int i = 0; i < nips; i++)
		if (ip_on(&ips[i]) != ip_was[i]) {
			maint[nmaint++] = (struct maint_item){ -1, i,
			    ip_was[i], ip_on(&ips[i]) };
			buf_printf(out, "ip %s: %s -> %s\n", ips[i].v->addr,
			    head_name(ip_was[i]), head_name(ip_on(&ips[i])));
		}
	if (nmaint == 0) {
		memcpy(lun_place, old_lp, sizeof(old_lp));
		for (int i = 0; i < nips; i++)
			ips[i].place = old_ip[i];
		return 0;
	}
	maint_start_us = now_us();
	maint_until_us = maint_start_us + (uint64_t)timeout_ms * 1000;
	place_changed(what);
	place_send(0, what);
	ha_reconcile();
	ha_disk_kick();
	return nmaint;
}

int
ha_maint_poll(struct buf *out)
{
	int done = 1, failed = 0;

	for (int k = 0; k < nmaint; k++) {
		const struct maint_item *m = &maint[k];
		int ok;

		/* placed elsewhere meanwhile (the other head could not take
		 * it, or another change): this item is over */
		if ((m->lun >= 0 && lun_on(m->lun) != m->to) ||
		    (m->ip >= 0 && ip_on(&ips[m->ip]) != m->to)) {
			failed = 1;
			continue;
		}
		if (m->lun >= 0) {
			enum ha_lun_st	st;
			uint32_t	owner;
			int		io;

			ha_disk_get(m->lun, &st, &owner, &io);
			/* on the peer: it holds the reservation and its
			 * record says DONE (it attached; our measure) */
			ok = m->to == ha.self ? lun_gate_open(m->lun) :
			    !atomic_load(&ha.luns[m->lun].serving) &&
			    owner == ha.peer_id &&
			    (peer_gw[m->lun].state == PEXT_GW_DONE ||
			    move_pause_ms[m->lun] >= 0);
		} else
			ok = m->to == ha.self ? ips[m->ip].held &&
			    ips[m->ip].hold_until_us == 0 : !ips[m->ip].held;
		if (!ok) {
			done = 0;
			if (out != NULL)
				buf_printf(out, "%s %s not yet on %s\n",
				    m->lun >= 0 ? "lun" : "ip", m->lun >= 0 ?
				    ha.luns[m->lun].cfg->name :
				    ips[m->ip].v->addr, head_name(m->to));
		}
	}
	if (!done || out == NULL)
		return done ? 1 + failed : 0;
	for (int k = 0; k < nmaint; k++) {
		const struct maint_item *m = &maint[k];

		if (m->lun >= 0 && lun_on(m->lun) != m->to)
			buf_printf(out, "lun %s stays on %s: %s\n",
			    ha.luns[m->lun].cfg->name,
			    head_name(lun_on(m->lun)), lun_fault[m->lun][0] ?
			    lun_fault[m->lun] : "placed there meanwhile");
		else if (m->ip >= 0 && ip_on(&ips[m->ip]) != m->to)
			buf_printf(out, "ip %s stays on %s\n",
			    ips[m->ip].v->addr, head_name(ip_on(&ips[m->ip])));
		if (m->lun < 0 || lun_on(m->lun) != m->to)
			continue;
		if (move_pause_ms[m->lun] >= 0)
			buf_printf(out, "lun %s on %s: out of service "
			    "%lld ms\n", ha.luns[m->lun].cfg->name,
			    head_name(m->to),
			    (long long)move_pause_ms[m->lun]);
		else
			buf_printf(out, "lun %s on %s (pause not measured)\n",
			    ha.luns[m->lun].cfg->name, head_name(m->to));
	}
	buf_printf(out, "%s in %llu ms\n", failed ? "finished, not all "
	    "moved," : "done", (unsigned long long)(now_us() -
	    maint_start_us) / 1000);
	nmaint = 0;
	return 1 + failed;
}

/* ---- faults: surrender, fencing, freeze ------------------------------ */

/*
 * Surrender: announce FAULT (heartbeat flag, mailbox FAULT on every LUN,
 * a FAULT control message on every path), release IPs, then exports,
 * then LUNs (the order of ha_reconcile with nothing wanted) and go
 * HALTED.  Counted faults restart the state machine after the configured
 * delay, unless heartbeat { fault-limit } of them fell within
 * fault-window: then the head stays HALTED until an administrator resets
 * it; a permanent fault stays HALTED until the daemon restarts ("until
 * power cycle").
 */
static void
surrender(const char *why, int permanent, int announce, int count)
{
	struct timeval	tv;
	uint64_t	now = now_ms();
	uint64_t	window = (uint64_t)ha.cfg->fault_window_ms;
	int		recent = 0;

	if (permanent)
		fault_disabled = 2;
	if (ha.fsm.state == HA_STA_HALTED || ha.halting)
		return;
	snprintf(fault_why, sizeof(fault_why), "%s", why);
	log_warnx("ha: surrender: %s%s", why, permanent ? " (permanent: "
	    "disabled until the daemon restarts)" : "");
	hooks_event(HOOK_FAULT, .why = why);
	if (announce) {
		ha.announce_fault = 1;
		ha_disk_mailbox_all(PEXT_MB_FAULT, 0);
		ctl_send(HA_MSG_FAULT, permanent ? HA_MSG_F_PERMANENT : 0, 0,
		    why);
	}
	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	ha_evt(HA_EVT_FAULT);		/* HALTED: exports, then LUNs */
	ha_disk_kick();
	if (count) {
		if (nfault_at == (int)nitems(fault_at_ms)) {
			memmove(fault_at_ms, fault_at_ms + 1,
			    sizeof(fault_at_ms) - sizeof(fault_at_ms[0]));
			nfault_at--;
		}
		fault_at_ms[nfault_at++] = now;
		for (int i = 0; i < nfault_at; i++)
			recent += now - fault_at_ms[i] <= window;
		if (!permanent && ha.cfg->fault_limit > 0 &&
		    recent >= ha.cfg->fault_limit) {
			fault_disabled = 1;
			log_warnx("ha: %d faults within %llu s: staying HALTED "
			    "until an administrator resets this head", recent,
			    (unsigned long long)window / 1000);
		}
	}
	if (fault_disabled)
		return;
	tv.tv_sec = ha.cfg->fault_reset_ms / 1000;
	tv.tv_usec = (ha.cfg->fault_reset_ms % 1000) * 1000;
	evtimer_add(reset_ev, &tv);
}

void
ha_surrender(const char *why, int permanent)
{
	surrender(why, permanent, 1, 1);
}

/* Stop serving everything at once, IPs first, then surrender. */
static void
fence_all(const char *why)
{
	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	for (int i = 0; i < ha.nluns; i++) {
		atomic_store(&ha.luns[i].lease_until_us, 0);
		if (atomic_load(&ha.luns[i].serving)) {
			atomic_store(&ha.luns[i].serving, 0);
			lun_exports(i, 0);
			hooks_event(HOOK_LUN_RELEASED,
			    .lun = ha.luns[i].cfg->name,
			    .lun_id = ha.luns[i].cfg->id);
		}
	}
	surrender(why, 0, 1, 1);
}

void
ha_frozen(const char *why)
{
	int held = 0, expired = 0;
	uint64_t now = now_us();

	for (int i = 0; i < nips; i++)
		held += ips[i].held;
	for (int i = 0; i < ha.nluns; i++)
		expired += ha_lun_lease_lost(i, now);
	log_warnx("ha: this head was frozen (%s)%s", why, held || expired ?
	    ": leases lost, fencing" : "");
	if (held || expired)
		fence_all(why);
}

/* ---- LUN handover ---------------------------------------------------- */

/* This head is dual active and the peer serves: it can take a LUN. */
static int
handover_possible(void)
{
	unsigned	ps;
	uint64_t	pboot;

	return (ha.fsm.state & HA_STA_DAC) && ha_mon_verdict() ==
	    HB_PEER_ALIVE && ha_mon_peer_state(&ps, &pboot) == 0 &&
	    (ps & HA_STA_DAC);
}

int
ha_lun_handover(int lun, const char *why)
{
	struct ha_lun	*l;
	char		 what[200];

	if (lun < 0 || lun >= ha.nluns)
		return -1;
	l = &ha.luns[lun];
	snprintf(lun_fault[lun], sizeof(lun_fault[lun]), "%s", why);
	if (!handover_possible()) {
		log_warnx("ha: lun %s: %s: cannot hand it over, the peer is "
		    "not serving (state %s here)", l->cfg->name, why,
		    ha_state_name());
		/* a write error: at least a fresh mount here */
		io_remount(lun);
		return -1;
	}
	if (lun_on(lun) != ha.self)
		return 0;
	log_warnx("ha: lun %s: %s: handing it over to %s", l->cfg->name, why,
	    ha.cfg->heads[1 - ha.self].name);
	lun_place[lun] = (int8_t)(1 - ha.self);
	snprintf(what, sizeof(what), "lun %s -> %s: %s", l->cfg->name,
	    ha.cfg->heads[1 - ha.self].name, why);
	place_changed(what);
	ha_disk_mailbox(lun, PEXT_MB_HANDOVER, 0);
	place_send(HA_MSG_F_HANDOVER, what);
	ha_reconcile();		/* IPs (if they follow), exports, LUN */
	ha_disk_kick();
	return 0;
}

/* ---- the peer's faults, its mailbox, kill messages -------------------- */

static void
peer_fault(const char *how, const char *why)
{
	if (!(ha.fsm.state & (HA_STA_DAC | HA_STA_INIT)))
		return;
	log_warnx("ha: the peer %s%s%s: taking over now (its reservations "
	    "are checked first)", how, why && why[0] ? ": " : "",
	    why ? why : "");
	ha_evt(HA_EVT_PEER_DEAD);
	ha_mon_peer_faulted();
	ha_disk_kick();
}

void
ha_mailbox_seen(int lun, uint32_t flags, uint64_t arg, unsigned gw_state,
    uint32_t gw_progress, const char *reason)
{
	struct ha_msg_gw g;

	memset(&g, 0, sizeof(g));
	g.lun_id = ha.luns[lun].cfg->id;
	g.state = (uint16_t)gw_state;
	g.progress = (uint16_t)gw_progress;
	snprintf(g.reason, sizeof(g.reason), "%s", reason);
	peer_gw_set(lun, &g);
	if (flags != peer_mb_last[lun])
		log_info("ha: lun %s: peer mailbox:%s%s%s%s%s%s%s%s",
		    ha.luns[lun].cfg->name, flags ? "" : " empty",
		    flags & PEXT_MB_TAKEN_OVER ? " TAKEN_OVER" : "",
		    flags & PEXT_MB_GIVEWAIT ? " GIVEWAIT" : "",
		    flags & PEXT_MB_MBWAIT ? " MBWAIT" : "",
		    flags & PEXT_MB_GIVEN_BACK ? " GIVEN_BACK" : "",
		    flags & PEXT_MB_FAULT ? " FAULT" : "",
		    flags & PEXT_MB_KILL ? " KILL" : "",
		    flags & PEXT_MB_HANDOVER ? " HANDOVER" : "");
	peer_mb_last[lun] = flags;
	if ((flags & PEXT_MB_KILL) && arg == ha.boot_id &&
	    !(ha.fsm.state & (HA_STA_HALTED | HA_STA_BOOT))) {
		nkill_rx++;
		log_warnx("ha: kill in the peer's mailbox on lun %s: fencing "
		    "now", ha.luns[lun].cfg->name);
		fence_all("killed by the peer (mailbox)");
		return;
	}
	if (flags & PEXT_MB_FAULT) {
		peer_fault("announced FAULT in its mailbox", NULL);
		return;
	}
	/* HANDOVER stays set until the peer serves the LUN again: act on
	 * it once (not again after node unstandby returned the LUN while
	 * the flag was still on the disk) */
	if (!(flags & PEXT_MB_HANDOVER))
		peer_hov_done[lun] = 0;
	else if (lun_on(lun) == ha.self)
		peer_hov_done[lun] = 1;
	if ((flags & PEXT_MB_HANDOVER) && !peer_hov_done[lun] &&
	    (ha.fsm.state & HA_STA_DAC) && lun_on(lun) != ha.self) {
		char what[160];

		peer_hov_done[lun] = 1;
		lun_place[lun] = (int8_t)ha.self;
		snprintf(what, sizeof(what), "lun %s -> %s: handed over "
		    "through the mailbox", ha.luns[lun].cfg->name,
		    ha.cfg->heads[ha.self].name);
		place_changed(what);
		place_send(0, what);
		ha_reconcile();
	}
}

/* We serve a LUN that is placed on the peer (its home, or moved there). */
static int
holds_peer_lun(void)
{
	for (int i = 0; i < ha.nluns; i++)
		if (lun_on(i) != ha.self && atomic_load(&ha.luns[i].serving))
			return 1;
	return 0;
}

/*
 * Every tick: react to a HALTED peer at once (it serves nothing), keep
 * the placement table in sync, and kill a peer that is back from a
 * freeze while this head serves its LUNs.
 */
static void
peer_watch(void)
{
	unsigned	ps;
	uint64_t	pboot, now = now_us();
	int		heard;

	if (place_ver > 0 && now - place_sent_us >= 1000000)
		place_send(0, NULL);
	gw_send();
	heard = ha_mon_peer_state(&ps, &pboot) == 0 &&
	    ha_mon_verdict() == HB_PEER_ALIVE;
	if (!heard)
		return;
	if (ps == HA_STA_HALTED && (ha.fsm.state & HA_STA_DAC) &&
	    peer_halted_boot != pboot) {
		peer_halted_boot = pboot;
		peer_fault("is HALTED", NULL);
	} else if (ps != HA_STA_HALTED)
		peer_halted_boot = 0;
	/* Kill: we are DEGRADED (we hold its LUNs) and the peer talks as if
	 * it were still dual active: it was frozen and has not noticed. */
	if (ha.fsm.state == HA_STA_DEGRADED && (ps & HA_STA_DAC) &&
	    holds_peer_lun()) {
		if (kill_boot != pboot || now - kill_sent_us >=
		    (uint64_t)ha.hbp.interval_ms * 1000) {
			if (kill_boot != pboot)
				log_warnx("ha: the peer is alive in %s while "
				    "we serve its LUNs: sending kill messages",
				    ha_fsm_state_name(ps));
			kill_boot = pboot;
			kill_sent_us = now;
			nkill_tx++;
			ctl_send(HA_MSG_KILL, 0, pboot, "the survivor serves "
			    "your LUNs");
			ha_disk_mailbox_all(PEXT_MB_KILL, pboot);
		}
	} else if (kill_boot != 0) {
		kill_boot = 0;
		ha_disk_mailbox_all(ha.announce_fault ? PEXT_MB_FAULT : 0, 0);
	}
}

/* ---- state machine actions ------------------------------------------- */

static void
set_res(int mode)
{
	if ((int)ha.res_mode != mode)
		ha.res_mode_us = now_us();
	ha.res_mode = mode;
}

static int
act_boot(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)arg;
	if (c->evt == HA_EVT_RESET && fault_disabled == 2) {
		log_warnx("ha: reset refused: a permanent fault (%s) disables "
		    "this head until the daemon restarts", fault_why);
		return -1;
	}
	if (c->evt == HA_EVT_RESET && fault_disabled == 1) {
		log_info("ha: reset by the administrator: fault history "
		    "cleared");
		nfault_at = 0;
	}
	fault_disabled = 0;
	ha.announce_fault = 0;
	ha_disk_mailbox_all(0, 0);
	if (!ha.monitor)
		fault_why[0] = 0;
	set_res(HA_RES_NONE);
	if (ha.monitor) {
		snprintf(fault_why, sizeof(fault_why), "no valid "
		    "configuration (local or array): administration only");
		ha_fsm(f, HA_EVT_CONFIG_BAD);
	} else
		ha_fsm(f, ha.cfg->heads[ha.self].role == CFG_ROLE_MASTER ?
		    HA_EVT_ROLE_MASTER : HA_EVT_ROLE_SLAVE);
	return 0;
}

static int
act_init(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	ha_mon_boot_timer(1);
	ha_mon_send_now();
	return 0;
}

static int
act_ready(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	ha_mon_boot_timer(0);
	set_res(HA_RES_OWN);
	return 0;
}

static int
act_takeover(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	ha_mon_boot_timer(0);
	set_res(HA_RES_ALL);
	ha.takeover_pending = 1;
	ha.giveback_pending = 0;
	return 0;
}

static int
act_givewait(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	ha_mon_boot_timer(0);
	set_res(HA_RES_NONE);
	log_info("ha: the peer serves our LUNs (DEGRADED); waiting for it to "
	    "give them back");
	return 0;
}

static int
act_giveback(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	log_info("ha: the peer is back: giving back its LUNs and IPs as "
	    "soon as it is ready for them");
	set_res(HA_RES_OWN);
	for (int i = 0; i < ha.nluns; i++)
		if (lun_on(i) != ha.self && atomic_load(&ha.luns[i].serving))
			coord[i] = 1;
	ha.takeover_pending = 0;
	ha.giveback_pending = 1;
	return 0;
}

static int
act_release_all(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)c; (void)arg;
	ha_mon_boot_timer(0);
	set_res(HA_RES_NONE);
	ha.takeover_pending = ha.giveback_pending = 0;
	return 0;
}

static void
fsm_changed(struct ha_fsm *f, const struct ha_fsm_change *c, void *arg)
{
	(void)f; (void)arg;
	hooks_event(HOOK_STATE, .old = ha_fsm_state_name(c->from),
	    .state = ha_fsm_state_name(c->to), .why = ha_fsm_evt_name(c->evt));
	ha_mon_send_now();
	publish();
}

static const struct ha_fsm_ops fsm_ops = {
	.act = {
		[HA_ACT_BOOT] = act_boot,
		[HA_ACT_INIT] = act_init,
		[HA_ACT_READY] = act_ready,
		[HA_ACT_TAKEOVER] = act_takeover,
		[HA_ACT_GIVEWAIT] = act_givewait,
		[HA_ACT_GIVEBACK] = act_giveback,
		[HA_ACT_MONITOR] = act_release_all,
		[HA_ACT_HALT] = act_release_all,
	},
	.changed = fsm_changed,
};

/* ---- configuration changes ------------------------------------------- */

static int
vip_same(const struct cfg_vip *a, const struct cfg_vip *b)
{
	return strcmp(a->addr, b->addr) == 0 && a->prefix == b->prefix &&
	    strcmp(a->dev, b->dev) == 0;
}

/* (Re)build the service IP list from ha.cfg, keeping what is held. */
static void
ips_build(void)
{
	struct ha_ip	old[2 * CFG_MAX_VIPS];
	int		nold = nips;

	memcpy(old, ips, sizeof(old));
	nips = 0;
	for (int h = 0; h < 2; h++)
		for (int i = 0; i < ha.cfg->heads[h].nvips; i++) {
			struct ha_ip *ip = &ips[nips++];

			memset(ip, 0, sizeof(*ip));
			ip->vc = ha.cfg->heads[h].vips[i];
			ip->v = &ip->vc;
			ip->head = h;
			ip->place = -1;
			for (int j = 0; j < nold; j++)
				if (old[j].v != NULL &&
				    vip_same(&old[j].vc, &ip->vc) &&
				    old[j].head == h) {
					ip->held = old[j].held;
					ip->ann = old[j].ann;
					ip->place = old[j].place;
					old[j].v = NULL;
				}
		}
	/* held addresses that left the configuration are given up */
	for (int j = 0; j < nold; j++)
		if (old[j].v != NULL && old[j].held) {
			old[j].v = &old[j].vc;
			ip_release(&old[j]);
		}
}

void
ha_config_changed(void)
{
	ips_build();
	if (ha.nluns > 0 && ha.nluns == ha.cfg->nluns)
		exports_map();
	ha_reconcile();
}

/* ---- service IPs that must not linger ------------------------------- */

/*
 * Remove every service IP of the configuration (both heads': this head
 * may have held the peer's) from this host's interfaces.  A daemon that
 * died (kill -9, a crash) leaves its addresses configured, and the
 * kernel keeps answering ARP and connections for them; nothing here
 * knows whether this head should still hold them, so they go, and the
 * state machine adds back what it is given.  Returns how many were
 * removed, -1 when one could not be.
 */
int
ha_release_ips(const struct cfg *cfg)
{
	int n = 0, bad = 0, rc;

	for (int h = 0; h < 2; h++)
		for (int i = 0; i < cfg->heads[h].nvips; i++) {
			const struct cfg_vip *v = &cfg->heads[h].vips[i];

			if ((rc = vip_has_addr(v)) == 0)
				continue;
			if (rc < 0 && errno == ENODEV)
				continue;	/* not an interface here */
			if (vip_addr_del(v) < 0) {
				bad = 1;
				continue;
			}
			log_warnx("ha: removed service ip %s/%d from %s (left "
			    "by an earlier run)", v->addr, v->prefix, v->dev);
			n++;
		}
	return bad ? -1 : n;
}

/* ---- public API ------------------------------------------------------ */

int
ha_init(const struct cfg *cfg, int self_idx, int monitor)
{
	memset(&ha, 0, sizeof(ha));
	start_ms = now_ms();
	ha.cfg = cfg;
	ha.monitor = monitor;
	ha.self = self_idx;
	ha.self_id = cfg->heads[self_idx].id;
	ha.peer_id = cfg->heads[1 - self_idx].id;
	ha.boot_id = random_u64();
	ha.nluns = cfg->nluns;
	if (ha.nluns > 0) {
		ha.luns = xcalloc((size_t)ha.nluns, sizeof(*ha.luns));
		for (int i = 0; i < ha.nluns; i++) {
			ha.luns[i].cfg = &cfg->luns[i];
			ha.luns[i].idx = i;
			ha.luns[i].pl.fd = -1;
		}
	}
	for (int i = 0; i < CFG_MAX_LUNS; i++) {
		lun_place[i] = -1;
		move_pause_ms[i] = -1;
	}
	ips_build();
	link_register(HA_T_CTL, ctl_rx_cb, NULL);
	reset_ev = evtimer_new(loop_base(), reset_cb, NULL);
	ha_fsm_init(&ha.fsm, &fsm_ops, NULL);
	if (ha_mon_init() < 0 || ha_disk_init() < 0 || ha_wdog_init() < 0)
		return -1;
	ha_fsm(&ha.fsm, HA_EVT_POWER_ON);
	return 0;
}

void
ha_services_ready(void)
{
	/* Exports exist now (the services started): map them to LUNs, gate
	 * them. */
	if (ha.nluns == 0)
		return;
	exports_map();
	fsvc_set_gate(exp_gate, NULL);
	fsvc_set_ioerr(exp_io_error, NULL);
	ha_reconcile();
}

void
ha_shutdown(void)
{
	ha.halting = 1;
	/* IPs first: clients must not reach a head that is going away */
	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	ha_fsm(&ha.fsm, HA_EVT_SHUTDOWN);
	for (int i = 0; i < ha.nluns; i++)
		if (atomic_load(&ha.luns[i].serving)) {
			atomic_store(&ha.luns[i].serving, 0);
			lun_exports(i, 0);
			hooks_event(HOOK_LUN_RELEASED,
			    .lun = ha.luns[i].cfg->name,
			    .lun_id = ha.luns[i].cfg->id);
		}
	ha_disk_shutdown(1);
	ha_wdog_shutdown();
	ha_mon_shutdown();
	if (ha.nluns > 0) {
		fsvc_set_ioerr(NULL, NULL);
		fsvc_set_gate(NULL, NULL);
	}
	if (reset_ev) {
		event_free(reset_ev);
		reset_ev = NULL;
	}
}

/* ---- administration: duonas reset / shutdown (i9a) -------------------- */

int
ha_admin_reset(char *why, size_t len)
{
	if ((ha.fsm.state & (HA_STA_MONITOR | HA_STA_HALTED)) == 0) {
		snprintf(why, len, "this head is %s: reset works from MONITOR "
		    "or HALTED only (shut it down first)", ha_state_name());
		return -1;
	}
	if (ha.halting) {
		snprintf(why, len, "the daemon is stopping");
		return -1;
	}
	evtimer_del(reset_ev);
	ha.conflict = 0;
	log_info("ha: reset by the administrator (from %s)", ha_state_name());
	ha_evt(HA_EVT_RESET);
	return 0;
}

int
ha_admin_shutdown(char *why, size_t len)
{
	if (ha.fsm.state == HA_STA_HALTED) {
		snprintf(why, len, "this head is HALTED already");
		return -1;
	}
	/* no automatic restart after this one: the administrator resets */
	evtimer_del(reset_ev);
	snprintf(fault_why, sizeof(fault_why), "shut down by the "
	    "administrator (duonas reset starts it again)");
	log_info("ha: shutdown by the administrator: releasing everything "
	    "to the peer, then HALTED");
	ha_evt(HA_EVT_SHUTDOWN);
	return 0;
}

/* Everything the current state wants is served here (and the takeover
 * or giveback in progress, if any, is complete). */
int
ha_settled(void)
{
	if (ha.takeover_pending || ha.giveback_pending)
		return 0;
	for (int i = 0; i < ha.nluns; i++)
		if (lun_wanted(i) != atomic_load(&ha.luns[i].serving))
			return 0;
	for (int i = 0; i < nips; i++)
		if (ip_wanted(&ips[i]) != ips[i].held)
			return 0;
	return 1;
}

/*
 * Every LUN is reserved by the peer (last reservation read), except
 * those whose private extent this head cannot read (I/O errors): their
 * number goes to *unreadable, and they cannot be confirmed from here
 * (the peer takes them once this head's lease on them has run out).
 */
int
ha_peer_owns_all(int *unreadable)
{
	*unreadable = 0;
	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		ha_disk_get(i, &st, &owner, &ok);
		if (!ok && owner != ha.peer_id) {
			(*unreadable)++;
			continue;
		}
		if (owner != ha.peer_id)
			return 0;
	}
	return 1;
}

/* Resources this head still holds (LUNs served or reserved, IPs). */
int
ha_held_count(void)
{
	int n = 0;

	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		ha_disk_get(i, &st, &owner, &ok);
		if (atomic_load(&ha.luns[i].serving) || st != HA_LUN_IDLE)
			n++;
	}
	for (int i = 0; i < nips; i++)
		n += ips[i].held;
	return n;
}

void
ha_opmode_register(ha_opmode_cb cb, void *arg)
{
	if (ncbs == HA_MAX_CBS)
		fatalx("ha: too many opmode callbacks");
	cbs[ncbs].fn = cb;
	cbs[ncbs].arg = arg;
	ncbs++;
}

enum ha_opmode
ha_opmode(void)
{
	return ha_fsm_opmode(ha.fsm.state);
}

const char *
ha_opmode_name(enum ha_opmode m)
{
	static const char *const names[] = { "none", "master", "slave",
	    "monitor" };

	return (unsigned)m < nitems(names) ? names[m] : "?";
}

int
ha_peer_alive(void)
{
	return pub_alive == 1;
}

const char *
ha_state_name(void)
{
	return ha_fsm_state_name(ha.fsm.state);
}

static int
lease_ok(void)
{
	uint64_t now = now_us();

	for (int i = 0; i < ha.nluns; i++)
		if (ha_lun_lease_lost(i, now))
			return 0;
	return 1;
}

static const char *const lun_st_names[] = {
	"idle", "acquiring", "checking", "owned",
};
_Static_assert(sizeof(lun_st_names) / sizeof(lun_st_names[0]) ==
    HA_LUN_COUNT, "lun_st_names");

static const char *
node_name(uint32_t id)
{
	for (int h = 0; h < 2; h++)
		if (ha.cfg->heads[h].id == id)
			return ha.cfg->heads[h].name;
	return id ? "?" : "-";
}

void
ha_status_text(struct buf *b)
{
	const struct cfg_head	*me = &ha.cfg->heads[ha.self];
	char			 dur[32];

	ha_mon_cluster_text(b);
	buf_printf(b, "head:        %s (node %u, configured %s)\n", me->name,
	    me->id, me->role == CFG_ROLE_MASTER ? "master" : "slave");
	buf_printf(b, "state:       %s (opmode %s, for %s, %llu changes, "
	    "%llu events ignored)\n", ha_state_name(),
	    ha_opmode_name(ha_opmode()), fmt_dur_ms(dur, sizeof(dur),
	    (now_us() - ha.fsm.changed_us) / 1000),
	    (unsigned long long)ha.fsm.nchanges,
	    (unsigned long long)ha.fsm.nignored);
	if (fault_why[0])
		buf_printf(b, "last fault:  %s%s\n", fault_why,
		    fault_disabled == 2 ? " (PERMANENT: disabled until the "
		    "daemon restarts)" : fault_disabled == 1 ? " (repeated "
		    "faults: HALTED until an administrator resets)" : "");
	if (ha.announce_fault || nkill_tx || nkill_rx || place_ver)
		buf_printf(b, "faults:      %s%d counted in the window, kill "
		    "messages sent %llu, received %llu, placement version "
		    "%llu\n", ha.announce_fault ? "FAULT announced, " : "",
		    nfault_at, (unsigned long long)nkill_tx,
		    (unsigned long long)nkill_rx,
		    (unsigned long long)place_ver);
	ha_mon_status_text(b);
	ha_wdog_status_text(b);
	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		uint64_t	gen;
		char		dmg[640];

		ha_disk_get(i, &st, &owner, &ok);
		ha_disk_info(i, &gen, dmg, sizeof(dmg));
		buf_printf(b, "%s %s (home %s%s%s): owner %s, %s, generation "
		    "%llu%s%s\n", i ? "            " : "luns:       ",
		    ha.luns[i].cfg->name,
		    ha.cfg->heads[ha.luns[i].cfg->home].name,
		    lun_place[i] >= 0 ? ", placed on " : "",
		    lun_place[i] >= 0 ? ha.cfg->heads[lun_place[i]].name : "",
		    node_name(owner), lun_st_names[st], (unsigned long long)gen,
		    lun_gate_open(i) ? ", SERVING here" :
		    atomic_load(&ha.luns[i].serving) ? ", LEASE EXPIRED" : "",
		    ok ? "" : ha.luns[i].opened ? ", I/O FAILING" :
		    ", not open yet");
		{
			/* its exports, and where they are served instead:
			 * the answer to "why is export N not served here" */
			int ne = 0;

			for (int e = 0; e < nexps; e++)
				if (exps[e].lun == i) {
					if (ne++ == 0)
						buf_printf(b, "             lun %s "
						    "exports ", ha.luns[i].cfg->name);
					buf_printf(b, "%s%u", ne > 1 ? "," : "",
					    exps[e].id);
				}
			if (ne > 0 && lun_gate_open(i))
				buf_printf(b, ": served here\n");
			else if (ne > 0 && lun_on(i) == ha.self)
				buf_printf(b, ": NOT served: the LUN is not "
				    "served here yet (state above)\n");
			else if (ne > 0)
				buf_printf(b, ": not here: the LUN is placed on "
				    "%s\n", ha.cfg->heads[lun_on(i)].name);
		}
		if (dmg[0])
			buf_printf(b, "             lun %s DAMAGED: %s\n",
			    ha.luns[i].cfg->name, dmg);
		if (coord[i] || my_gw[i].state != PEXT_GW_NONE ||
		    lun_fault[i][0])
			buf_printf(b, "             lun %s:%s%s%s%s%s%s\n",
			    ha.luns[i].cfg->name, coord[i] ? " moving to the "
			    "peer, its readiness: " : "", coord[i] ?
			    gw_name(peer_gw[i].state) : "",
			    my_gw[i].state != PEXT_GW_NONE ? " our readiness: "
			    : "", my_gw[i].state != PEXT_GW_NONE ?
			    gw_name(my_gw[i].state) : "",
			    lun_fault[i][0] ? " last fault: " : "",
			    lun_fault[i]);
	}
	for (int i = 0; i < nips; i++)
		buf_printf(b, "%s %s/%d dev %s (home %s): %s%s%s\n",
		    i ? "            " : "ips:        ", ips[i].v->addr,
		    ips[i].v->prefix, ips[i].v->dev,
		    ha.cfg->heads[ips[i].head].name,
		    !ips[i].held ? "not here" : ips[i].hold_until_us ?
		    "held here until the peer claims it" : "held here",
		    !ips[i].held && ips[i].err[0] ? ", WANTED HERE BUT CANNOT "
		    "BE ADDED: " : "", !ips[i].held ? ips[i].err : "");
}

void
ha_status_json(struct buf *b)
{
	const struct cfg_head *me = &ha.cfg->heads[ha.self];

	buf_printf(b, "\"head\":");
	buf_add_json_str(b, me->name);
	buf_printf(b, ",\"node_id\":%u,\"configured_role\":\"%s\","
	    "\"state\":\"%s\",\"opmode\":\"%s\",\"state_changes\":%llu,"
	    "\"events_ignored\":%llu,\"state_since_ms\":%llu,"
	    "\"lease_ok\":%s,\"last_fault\":", me->id,
	    me->role == CFG_ROLE_MASTER ? "master" : "slave", ha_state_name(),
	    ha_opmode_name(ha_opmode()), (unsigned long long)ha.fsm.nchanges,
	    (unsigned long long)ha.fsm.nignored,
	    (unsigned long long)ha.fsm.changed_wall_ms,
	    lease_ok() ? "true" : "false");
	buf_add_json_str(b, fault_why);
	buf_printf(b, ",\"fault_announced\":%s,\"fault_disabled\":\"%s\","
	    "\"kills_sent\":%llu,\"kills_received\":%llu,"
	    "\"placement_version\":%llu,", ha.announce_fault ? "true" :
	    "false", fault_disabled == 2 ? "permanent" : fault_disabled == 1 ?
	    "repeated" : "", (unsigned long long)nkill_tx,
	    (unsigned long long)nkill_rx, (unsigned long long)place_ver);
	ha_mon_status_json(b);
	buf_printf(b, ",");
	ha_wdog_status_json(b);
	buf_printf(b, ",\"luns\":[");
	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		uint64_t	gen;
		char		dmg[640];

		ha_disk_get(i, &st, &owner, &ok);
		ha_disk_info(i, &gen, dmg, sizeof(dmg));
		buf_printf(b, "%s{\"name\":", i ? "," : "");
		buf_add_json_str(b, ha.luns[i].cfg->name);
		buf_printf(b, ",\"id\":%u,\"home\":", ha.luns[i].cfg->id);
		buf_add_json_str(b, ha.cfg->heads[ha.luns[i].cfg->home].name);
		buf_printf(b, ",\"owner\":");
		buf_add_json_str(b, node_name(owner));
		buf_printf(b, ",\"placed_on\":");
		buf_add_json_str(b, ha.cfg->heads[lun_on(i)].name);
		buf_printf(b, ",\"fault\":");
		buf_add_json_str(b, lun_fault[i]);
		buf_printf(b, ",\"moving\":%s,\"peer_readiness\":\"%s\","
		    "\"our_readiness\":\"%s\",\"readiness_reason\":",
		    coord[i] ? "true" : "false", gw_name(peer_gw[i].state),
		    gw_name(my_gw[i].state));
		buf_add_json_str(b, my_gw[i].state == PEXT_GW_FAILED ?
		    my_gw[i].reason : peer_gw[i].reason);
		buf_printf(b, ",\"state\":\"%s\",\"serving\":%s,\"io_ok\":%s,"
		    "\"generation\":%llu,\"damage\":", lun_st_names[st],
		    lun_gate_open(i) ? "true" : "false",
		    ok ? "true" : "false", (unsigned long long)gen);
		buf_add_json_str(b, dmg);
		buf_printf(b, "}");
	}
	buf_printf(b, "],\"ips\":[");
	for (int i = 0; i < nips; i++) {
		buf_printf(b, "%s{\"addr\":", i ? "," : "");
		buf_add_json_str(b, ips[i].v->addr);
		buf_printf(b, ",\"prefix\":%d,\"dev\":", ips[i].v->prefix);
		buf_add_json_str(b, ips[i].v->dev);
		buf_printf(b, ",\"home\":");
		buf_add_json_str(b, ha.cfg->heads[ips[i].head].name);
		buf_printf(b, ",\"held\":%s,\"handoff\":%s,\"error\":",
		    ips[i].held ? "true" : "false",
		    ips[i].held && ips[i].hold_until_us ? "true" : "false");
		buf_add_json_str(b, ips[i].held ? "" : ips[i].err);
		buf_printf(b, "}");
	}
	buf_printf(b, "]");
}

/* ---- read-only views for the metrics page ------------------------------ */

const struct ha_fsm *
ha_fsm_view(void)
{
	return &ha.fsm;
}

int
ha_lun_serving(int lun)
{
	return lun >= 0 && lun < ha.nluns && lun_gate_open(lun);
}

long long
ha_lun_move_pause_ms(int lun)
{
	return lun >= 0 && lun < ha.nluns ? (long long)move_pause_ms[lun] : -1;
}

void
ha_last_durations(long long *takeover_ms, long long *giveback_ms)
{
	*takeover_ms = last_takeover_ms;
	*giveback_ms = last_giveback_ms;
}

int
ha_ip_view(int i, const struct cfg_vip **v, int *home, int *held)
{
	if (i < 0 || i >= nips)
		return -1;
	*v = ips[i].v;
	*home = ips[i].head;
	*held = ips[i].held;
	return 0;
}

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
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "export/nfs.h"
#include "ha/ha_int.h"
#include "link/link.h"

#define HA_MAX_CBS	16

struct ha_cb {
	ha_opmode_cb	 fn;
	void		*arg;
};

struct ha_ip {
	struct cfg_vip		 vc;		/* a copy: survives config changes */
	const struct cfg_vip	*v;		/* == &vc */
	int			 head;		/* index of its home head */
	int			 held;
	uint64_t		 retry_us;
	struct vip_ann		 ann;
};

struct ha_exp {
	uint32_t	id;
	int		lun;		/* -1: not on a LUN: always served */
	int		online;
};

struct ha_ctl	 ha;

static struct ha_cb	 cbs[HA_MAX_CBS];
static int		 ncbs;
static enum ha_opmode	 pub_mode = HA_OPMODE_NONE;
static int		 pub_alive = -1;
static struct ha_ip	 ips[2 * CFG_MAX_VIPS];
static int		 nips;
static struct ha_exp	*exps;
static int		 nexps;
static struct event	*reset_ev;
static char		 fault_why[160];
static uint64_t		 start_ms;

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

static void
exp_cb(uint32_t id, const char *path, int online, int enabled, void *arg)
{
	(void)enabled; (void)arg;
	exps = xrealloc(exps, (size_t)(nexps + 1) * sizeof(*exps));
	exps[nexps].id = id;
	exps[nexps].online = online;
	exps[nexps].lun = -1;
	for (int i = 0; i < ha.nluns; i++)
		if (path_under(path, lun_data_root(ha.luns[i].cfg)))
			exps[nexps].lun = i;
	nexps++;
}

static void
exports_map(void)
{
	free(exps);
	exps = NULL;
	nexps = 0;
	nfs_export_foreach(exp_cb, NULL);
	for (int i = 0; i < nexps; i++)
		if (exps[i].lun >= 0 && !atomic_load(&ha.luns[exps[i].lun].serving))
			nfs_export_enable(exps[i].id, 0);
}

/* The NFS workers' gate: may this export be served right now?  Lock-free:
 * the LUN's serving flag and lease deadline are atomics. */
static int
nfs_gate(uint32_t id, void *arg)
{
	(void)arg;
	for (int i = 0; i < nexps; i++) {
		if (exps[i].id != id)
			continue;
		if (exps[i].lun < 0)
			return 1;
		struct ha_lun *l = &ha.luns[exps[i].lun];
		return atomic_load(&l->serving) &&
		    now_us() < atomic_load(&l->lease_until_us);
	}
	return 1;
}

static void
lun_exports(int lun, int on)
{
	for (int i = 0; i < nexps; i++) {
		if (exps[i].lun != lun)
			continue;
		if (on) {
			nfs_export_attach(exps[i].id);
			nfs_export_enable(exps[i].id, 1);
		} else {
			nfs_export_enable(exps[i].id, 0);
			nfs_export_detach(exps[i].id);
		}
	}
}

/* ---- events from the disk thread -------------------------------------- */

void
ha_lun_attached(int lun)
{
	struct ha_lun *l = &ha.luns[lun];

	lun_exports(lun, 1);
	atomic_store(&l->serving, 1);
	log_info("ha: lun %s served here", l->cfg->name);
	ha_reconcile();
}

void
ha_lun_released(int lun)
{
	(void)lun;
	ha_reconcile();
}

static void
ip_release(struct ha_ip *ip)
{
	if (!ip->held)
		return;
	nfs_listen_remove(ip->v->addr);
	vip_release(&ip->ann, ip->v);
	ip->held = 0;
	log_info("ha: service ip %s/%d released", ip->v->addr, ip->v->prefix);
}

static void
reset_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (ha.fsm.state == HA_STA_HALTED && !ha.halting) {
		log_info("ha: restarting the state machine after the fault");
		ha_evt(HA_EVT_RESET);
	}
}

void
ha_lun_fenced(int lun, const char *why)
{
	struct timeval tv = { 1, 0 };

	/* IPs first: clients must stop reaching this head. */
	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	lun_exports(lun, 0);
	snprintf(fault_why, sizeof(fault_why), "lun %s fenced: %s",
	    ha.luns[lun].cfg->name, why);
	ha_evt(HA_EVT_FAULT);
	evtimer_add(reset_ev, &tv);
}

/* Both heads came out of a split brain as masters (only possible without
 * a disk heartbeat): the configured slave restarts its state machine and
 * rejoins through the normal giveback path. */
void
ha_step_down(const char *why)
{
	struct timeval tv = { 1, 0 };

	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	snprintf(fault_why, sizeof(fault_why), "%s", why);
	log_warnx("ha: %s: stepping down and rejoining as slave", why);
	ha_evt(HA_EVT_FAULT);
	evtimer_add(reset_ev, &tv);
}

/* ---- reconciliation -------------------------------------------------- */

static int
lun_wanted(int i)
{
	switch (ha.res_mode) {
	case HA_RES_NONE:
		return 0;
	case HA_RES_OWN:
		return ha.luns[i].cfg->home == ha.self;
	case HA_RES_ALL:
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
		return ip->head == ha.self;
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
	if (ip->held || now_us() < ip->retry_us)
		return;
	if (vip_addr_add(ip->v) < 0) {
		ip->retry_us = now_us() + 1000000;
		return;
	}
	if (nfs_listen_add(ip->v->addr) < 0)
		log_warnx("ha: NFS cannot listen on %s yet", ip->v->addr);
	vip_announce_start(&ip->ann, loop_base(), ip->v, ha.cfg->garp_count,
	    ha.cfg->garp_interval_ms);
	ip->held = 1;
	log_info("ha: service ip %s/%d on %s added and announced",
	    ip->v->addr, ip->v->prefix, ip->v->dev);
}

void
ha_reconcile(void)
{
	struct buf	b;
	int		all = 1, peer_left = 0;

	/* IPs that must go, go first */
	for (int i = 0; i < nips; i++)
		if (!ip_wanted(&ips[i]))
			ip_release(&ips[i]);
	for (int i = 0; i < ha.nluns; i++) {
		struct ha_lun *l = &ha.luns[i];
		int w = lun_wanted(i);

		if (!w && atomic_load(&l->serving)) {
			atomic_store(&l->serving, 0);
			lun_exports(i, 0);
			log_info("ha: lun %s no longer served here",
			    l->cfg->name);
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
		log_info("takeover: serving %s (%llu ms after the decision)",
		    b.len ? (char *)b.data : "nothing (no LUNs, no IPs)",
		    (unsigned long long)(now_us() - ha.res_mode_us) / 1000);
		buf_free(&b);
	}
	if (ha.giveback_pending) {
		for (int i = 0; i < ha.nluns; i++) {
			enum ha_lun_st st;
			uint32_t owner;
			int ok;

			if (ha.luns[i].cfg->home == ha.self)
				continue;
			ha_disk_get(i, &st, &owner, &ok);
			if (st != HA_LUN_IDLE || atomic_load(&ha.luns[i].serving))
				peer_left = 1;
		}
		for (int i = 0; i < nips; i++)
			if (ips[i].head != ha.self && ips[i].held)
				peer_left = 1;
		if (!peer_left) {
			ha.giveback_pending = 0;
			log_info("ha: giveback done: the peer's LUNs and IPs "
			    "are released");
			ha_fsm(&ha.fsm, HA_EVT_GIVEBACK_DONE);
		}
	}
	publish();
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
	(void)c; (void)arg;
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
	log_info("ha: the peer is back: giving back its LUNs and IPs");
	set_res(HA_RES_OWN);
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
	(void)f; (void)c; (void)arg;
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
			for (int j = 0; j < nold; j++)
				if (old[j].v != NULL &&
				    vip_same(&old[j].vc, &ip->vc) &&
				    old[j].head == h) {
					ip->held = old[j].held;
					ip->ann = old[j].ann;
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
	ips_build();
	reset_ev = evtimer_new(loop_base(), reset_cb, NULL);
	ha_fsm_init(&ha.fsm, &fsm_ops, NULL);
	if (ha_mon_init() < 0 || ha_disk_init() < 0)
		return -1;
	ha_fsm(&ha.fsm, HA_EVT_POWER_ON);
	return 0;
}

void
ha_services_ready(void)
{
	/* Exports exist now (nfs_init ran): map them to LUNs, gate them. */
	if (ha.nluns == 0)
		return;
	exports_map();
	nfs_set_gate(nfs_gate, NULL);
	ha_reconcile();
}

void
ha_shutdown(void)
{
	ha.halting = 1;
	ha_fsm(&ha.fsm, HA_EVT_SHUTDOWN);
	for (int i = 0; i < nips; i++)
		ip_release(&ips[i]);
	for (int i = 0; i < ha.nluns; i++)
		if (atomic_load(&ha.luns[i].serving)) {
			atomic_store(&ha.luns[i].serving, 0);
			lun_exports(i, 0);
		}
	ha_disk_shutdown(1);
	ha_mon_shutdown();
	if (ha.nluns > 0)
		nfs_set_gate(NULL, NULL);
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

/* Every LUN is reserved by the peer (last reservation read). */
int
ha_peer_owns_all(void)
{
	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		ha_disk_get(i, &st, &owner, &ok);
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
		if (atomic_load(&ha.luns[i].serving) &&
		    now >= atomic_load(&ha.luns[i].lease_until_us))
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
	const struct cfg_head *me = &ha.cfg->heads[ha.self];

	buf_printf(b, "head:        %s (node %u, configured %s)\n", me->name,
	    me->id, me->role == CFG_ROLE_MASTER ? "master" : "slave");
	buf_printf(b, "state:       %s (opmode %s, for %llu ms, %llu changes, "
	    "%llu events ignored)\n", ha_state_name(),
	    ha_opmode_name(ha_opmode()),
	    (unsigned long long)(now_us() - ha.fsm.changed_us) / 1000,
	    (unsigned long long)ha.fsm.nchanges,
	    (unsigned long long)ha.fsm.nignored);
	if (fault_why[0])
		buf_printf(b, "last fault:  %s\n", fault_why);
	ha_mon_status_text(b);
	for (int i = 0; i < ha.nluns; i++) {
		enum ha_lun_st	st;
		uint32_t	owner;
		int		ok;

		uint64_t	gen;
		char		dmg[640];

		ha_disk_get(i, &st, &owner, &ok);
		ha_disk_info(i, &gen, dmg, sizeof(dmg));
		buf_printf(b, "%s %s (home %s): owner %s, %s, generation "
		    "%llu%s%s\n", i ? "            " : "luns:       ",
		    ha.luns[i].cfg->name,
		    ha.cfg->heads[ha.luns[i].cfg->home].name, node_name(owner),
		    lun_st_names[st], (unsigned long long)gen,
		    atomic_load(&ha.luns[i].serving) ? ", SERVING here" : "",
		    ok ? "" : ha.luns[i].opened ? ", I/O FAILING" :
		    ", not open yet");
		if (dmg[0])
			buf_printf(b, "             lun %s DAMAGED: %s\n",
			    ha.luns[i].cfg->name, dmg);
	}
	for (int i = 0; i < nips; i++)
		buf_printf(b, "%s %s/%d dev %s (home %s): %s\n",
		    i ? "            " : "ips:        ", ips[i].v->addr,
		    ips[i].v->prefix, ips[i].v->dev,
		    ha.cfg->heads[ips[i].head].name,
		    ips[i].held ? "held here" : "not here");
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
	buf_printf(b, ",");
	ha_mon_status_json(b);
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
		buf_printf(b, ",\"state\":\"%s\",\"serving\":%s,\"io_ok\":%s,"
		    "\"generation\":%llu,\"damage\":", lun_st_names[st],
		    atomic_load(&ha.luns[i].serving) ? "true" : "false",
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
		buf_printf(b, ",\"held\":%s}", ips[i].held ? "true" : "false");
	}
	buf_printf(b, "]");
}

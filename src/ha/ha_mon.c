/*
 * ha_mon.c — the status monitor: heartbeats on every peer-link path plus
 * the disk heartbeat, and the verdict on the peer.
 *
 * Every tick (heartbeat { interval }) this head sends one heartbeat on
 * each path with link_send_path() and debits every channel; a heartbeat
 * received on path i credits channel i when its sequence progressed
 * (hb.c).  The disk channel is credited by the disk thread when the
 * peer's heartbeat block changed on any LUN.  The verdict (hb_verdict):
 * DEAD only when every channel is BAD, disk included, or the peer said
 * FAULT; network BAD with the disk alive is a PARTITION: no takeover, a
 * loud log line, a visible status.  Channels start BAD and the verdict
 * only counts once the peer has been heard since this head started: a
 * peer that never answers is the boot timer's business (BOOT_TIMEOUT).
 * The heartbeat also carries the sender's HA state, which drives the
 * INIT exchange (PEER_READY / PEER_DEGRADED / CONFIG_CONFLICT) and the
 * survivor's PEER_RETURNED.
 *
 * Those events fire on a change of either side's state, so a pair of
 * states that no change leads out of would stay forever.  pair_rules()
 * therefore also looks at the pair as it is, every tick: a pair that
 * must not last (nobody is master, the peer took over from us while we
 * still think we serve, both heads are slaves) and that has held for
 * PAIR_HOLD ticks is resolved (docs/ha-states.md "Pairs that must not
 * last").  A peer that restarted (new boot id) faster than it could be
 * declared dead rejoins through the INIT exchange; a DAC(slave) that
 * hears it back as a slave takes the vacant master role.  A HALTED peer
 * serves nothing and counts as dead.
 */
#include <string.h>

#include "config.h"
#include "common/log.h"
#include "common/loop.h"
#include "ctcm/ctcm.h"
#include "ha/ha_int.h"
#include "link/link.h"

#define HA_T_HB		(LINK_T_HB_FIRST + 1)
/* Ticks an odd pair of states must hold before pair_rules() acts: longer
 * than the heartbeat round trip of a legitimate change in flight. */
#define PAIR_HOLD	3
/* How long a master move waits for the peer to take the role before the
 * configured master takes it back (ms). */
#define YIELD_MS	5000
/* How long the INIT exchange waits for the configuration catch-up
 * (CTCM asks the peer every 2 s) before it goes on regardless: a catch-up
 * that cannot complete must not leave every LUN unserved (ms). */
#define GEN_WAIT_MS	10000

static struct {
	struct hb_chan	 net[CFG_MAX_LINKS];
	int		 nnet;
	struct hb_chan	 disk;
	int		 has_disk;
	uint64_t	 seq;
	struct event	*tick_ev;
	struct event	*boot_ev;
	/* what the peer told us */
	int		 seen;		/* heard since we started */
	struct hb_msg	 last;
	uint64_t	 last_us;
	int		 fault;
	enum hb_verdict	 verdict;
	uint64_t	 verdict_us;
	uint64_t	 dead_boot;	/* boot id declared dead */
	uint64_t	 init_told;	/* fsm.nchanges + 1 when a HALTED
					 * peer was reported to INIT */
	/* edge detection for peer-state events */
	uint64_t	 ev_mychanges;
	unsigned	 ev_peerstate;
	uint64_t	 ev_peerboot, ev_mygen, ev_peergen;
	uint64_t	 gen_wait_us;	/* INIT: generations differ since */
	int		 gen_gave_up;
	/* level rules: the odd pair and since when it holds */
	unsigned	 odd_me, odd_ps;
	int		 odd_ticks;
	uint64_t	 yield_until_us;	/* master move in progress */
	/* partition evidence: disk heartbeats since the network went
	 * silent (all network channels BAD) */
	int		 net_silent;
	int		 disk_after;
	int		 dead_in_silence;	/* declared dead since */
	int		 link_was_up;		/* link_peer_up() last seen */
	uint64_t	 link_up_ms;		/* when it last came up */
	uint64_t	 nrx, nbad;
} mon;

static const char *
sta_name(unsigned s)
{
	return ha_fsm_state_name(s);
}

/* ---- software versions (ha_sw_hooks) ------------------------------- */

static ha_sw_self_fn	sw_self;
static ha_sw_compat_fn	sw_compat;
static ha_sw_hold_fn	sw_hold;
static char		sw_why[256];	/* "" or why the peer is refused */

void
ha_sw_hooks(ha_sw_self_fn self, ha_sw_compat_fn compat)
{
	sw_self = self;
	sw_compat = compat;
}

void
ha_sw_hold_hook(ha_sw_hold_fn hold)
{
	sw_hold = hold;
}

const char *
ha_peer_swver(void)
{
	return mon.seen ? mon.last.swver : "";
}

/* 1 when the peer's software may pair with ours; logs a refusal once
 * per different reason. */
static int
sw_agrees(void)
{
	char why[sizeof(sw_why)];

	if (sw_compat == NULL || sw_compat(mon.last.swver, why, sizeof(why)))
	{
		if (sw_why[0])
			log_info("ha: the peer's software (%s) is compatible "
			    "again", mon.last.swver);
		sw_why[0] = 0;
		return 1;
	}
	if (strcmp(why, sw_why) != 0)
		log_warnx("ha: not pairing with the peer: incompatible "
		    "software: %s", why);
	snprintf(sw_why, sizeof(sw_why), "%s", why);
	return 0;
}

void
ha_mon_send_now(void)
{
	struct hb_msg	m;
	uint8_t		buf[HB_MSG_MAXLEN];
	int		n;

	memset(&m, 0, sizeof(m));
	m.flags = ha.conflict && ha.fsm.state == HA_STA_MONITOR ?
	    HB_F_CONFLICT : 0;
	if (ha.announce_fault)		/* ha_surrender() */
		m.flags |= HB_F_FAULT;
	if (mon.yield_until_us != 0)
		m.flags |= HB_F_YIELD;
	m.node_id = ha.self_id;
	m.state = (uint16_t)ha.fsm.state;
	m.opmode = (uint16_t)ha_opmode();
	m.seq = ++mon.seq;
	m.cfg_gen = ctcm_generation();
	m.boot_id = ha.boot_id;
	if (sw_self != NULL)
		sw_self(m.swver, sizeof(m.swver));
	else
		snprintf(m.swver, sizeof(m.swver), "%s", PACKAGE_VERSION);
	if ((n = hb_msg_encode(buf, sizeof(buf), &m)) < 0)
		return;
	for (int i = 0; i < mon.nnet; i++)
		link_send_path(i, HA_T_HB, buf, (size_t)n);
}

/*
 * PEER_READY only between heads that run the same configuration
 * generation: the one behind catches up first (CTCM: on link up and every
 * 2 s it compares generations with the peer and fetches a newer one), and
 * the heartbeat shows the new generation once it is installed.  After
 * GEN_WAIT_MS the exchange goes on anyway, loudly.
 */
static int
gen_agrees(void)
{
	uint64_t mine = ctcm_generation(), theirs = mon.last.cfg_gen;

	if (mine == theirs) {
		if (mon.gen_wait_us != 0)
			log_info("ha: configuration generations agree (%llu)",
			    (unsigned long long)mine);
		mon.gen_wait_us = 0;
		mon.gen_gave_up = 0;
		return 1;
	}
	if (mon.gen_wait_us == 0) {
		mon.gen_wait_us = now_us();
		log_info("ha: configuration generation %llu here, %llu on the "
		    "peer: the head behind catches up first",
		    (unsigned long long)mine, (unsigned long long)theirs);
	}
	if (now_us() - mon.gen_wait_us < (uint64_t)GEN_WAIT_MS * 1000)
		return 0;
	if (!mon.gen_gave_up)
		log_warnx("ha: configuration generations still differ after "
		    "%d ms (%llu here, %llu on the peer): going on, see "
		    "duonas config show", GEN_WAIT_MS,
		    (unsigned long long)mine, (unsigned long long)theirs);
	mon.gen_gave_up = 1;
	return 1;
}

/* READY in INIT, or stay on the edge until the generations agree. */
static void
init_ready(void)
{
	if (!sw_agrees() || (sw_hold != NULL && (mon.last.state &
	    HA_STA_INIT) && sw_hold(mon.last.swver, ha.fsm.state ==
	    HA_STA_INIT_M))) {
		mon.ev_peerstate = 0;	/* look again next time */
		return;
	}
	if (gen_agrees()) {
		log_info("ha: INIT exchange: the peer is %s, configuration "
		    "generation %llu here, %llu there: READY",
		    sta_name(mon.last.state),
		    (unsigned long long)ctcm_generation(),
		    (unsigned long long)mon.last.cfg_gen);
		ha_evt(HA_EVT_PEER_READY);
	} else
		mon.ev_peerstate = 0;	/* look again next time */
}

/* Peer-state driven events: raised once per change of either side (or
 * of either side's configuration generation). */
static void
peer_events(void)
{
	unsigned me = ha.fsm.state, ps = mon.last.state;
	uint64_t mygen = ctcm_generation();

	if (!mon.seen || mon.verdict != HB_PEER_ALIVE)
		return;
	/* nchanges, not the state: a round trip (INIT(master) -> MONITOR
	 * -> reset -> INIT(master)) between two looks is a change too */
	if (ha.fsm.nchanges == mon.ev_mychanges && ps == mon.ev_peerstate &&
	    mon.last.boot_id == mon.ev_peerboot && mygen == mon.ev_mygen &&
	    mon.last.cfg_gen == mon.ev_peergen)
		return;
	mon.ev_mychanges = ha.fsm.nchanges;
	mon.ev_peerstate = ps;
	mon.ev_peerboot = mon.last.boot_id;
	mon.ev_mygen = mygen;
	mon.ev_peergen = mon.last.cfg_gen;
	switch (me) {
	case HA_STA_INIT_M:
		if (ps & (HA_STA_INIT_S | HA_STA_DAC_S))
			init_ready();
		else if (ps & (HA_STA_DEGRADED | HA_STA_DAC_M)) {
			/* joining a serving peer: not with software it
			 * cannot pair with (stay in INIT, say why) */
			if (sw_agrees())
				ha_evt(HA_EVT_PEER_DEGRADED);
			else
				mon.ev_peerstate = 0;
		}
		else if ((ps & HA_STA_INIT_M) || ((ps & HA_STA_MONITOR) &&
		    (mon.last.flags & HB_F_CONFLICT))) {
			log_warnx("ha: both heads claim master (configuration "
			    "generation %llu here, %llu on the peer): MONITOR, "
			    "nothing is served until the configurations agree "
			    "(then duonas reset)", (unsigned long long)mygen,
			    (unsigned long long)mon.last.cfg_gen);
			ha.conflict = 1;
			ha_evt(HA_EVT_CONFIG_CONFLICT);
		}
		break;
	case HA_STA_INIT_S:
		if (ps & (HA_STA_INIT_M | HA_STA_DAC_M))
			init_ready();
		else if (ps & HA_STA_DEGRADED) {
			if (sw_agrees())
				ha_evt(HA_EVT_PEER_DEGRADED);
			else
				mon.ev_peerstate = 0;
		}
		break;
	case HA_STA_DEGRADED:
	case HA_STA_DAC_M:
		if (me == HA_STA_DEGRADED && (ps & HA_STA_INIT_S)) {
			/* keep serving while the returning head catches up
			 * with the configuration: then its READY follows
			 * the giveback at once */
			if (sw_agrees() && gen_agrees())
				ha_evt(HA_EVT_PEER_RETURNED);
			else
				mon.ev_peerstate = 0;
		} else if ((ps & (HA_STA_DEGRADED | HA_STA_DAC_M)) &&
		    ha.cfg->heads[ha.self].role != CFG_ROLE_MASTER)
			ha_step_down("both heads are master after a split "
			    "(no disk heartbeat to prevent it)");
		break;
	default:
		break;
	}
}

/*
 * Pairs of states that must not last; called every tick.  Each rule acts
 * once the pair held for PAIR_HOLD ticks (a legitimate change may show
 * one side's new state before the other's), then again only after the
 * pair changed or held that long once more.
 */
static void
pair_rules(void)
{
	unsigned	me = ha.fsm.state, ps = mon.last.state;
	int		cfg_master = ha.cfg->heads[ha.self].role ==
			    CFG_ROLE_MASTER;
	int		peer_yields = (mon.last.flags & HB_F_YIELD) != 0;

	if (mon.yield_until_us != 0 && (ps == HA_STA_DAC_M ||
	    me != HA_STA_DAC_S || !mon.seen || mon.verdict != HB_PEER_ALIVE)) {
		if (ps == HA_STA_DAC_M)
			log_info("ha: master move: the peer is master now");
		mon.yield_until_us = 0;
	} else if (mon.yield_until_us != 0 && now_us() > mon.yield_until_us) {
		log_warnx("ha: master move: the peer did not take the master "
		    "role within %d ms", YIELD_MS);
		mon.yield_until_us = 0;
	}
	if (!mon.seen || mon.verdict != HB_PEER_ALIVE) {
		mon.odd_ticks = 0;
		return;
	}
	/* the peer handed us the role: take it now */
	if (me == HA_STA_DAC_S && ps == HA_STA_DAC_S && peer_yields &&
	    mon.yield_until_us == 0) {
		log_info("ha: master move: the peer hands us the master role");
		ha_evt(HA_EVT_MASTER_TAKE);
		return;
	}
	if (me != mon.odd_me || ps != mon.odd_ps) {
		mon.odd_me = me;
		mon.odd_ps = ps;
		mon.odd_ticks = 0;
	}
	if (++mon.odd_ticks < PAIR_HOLD)
		return;
	if (me == HA_STA_DAC_S && ps == HA_STA_INIT_S) {
		/* it rejoins (READY) as soon as it sees a master */
		mon.odd_ticks = 0;
		log_warnx("ha: the peer is INIT(slave) while we are "
		    "DAC(slave): nobody is master; taking the master role");
		ha_evt(HA_EVT_MASTER_TAKE);
	} else if ((me & HA_STA_DAC) && ps == HA_STA_DEGRADED &&
	    (me == HA_STA_DAC_S || !cfg_master)) {
		/* (DAC(master) and the configured master: the DEGRADED
		 * configured slave steps down instead, peer_events()) */
		mon.odd_ticks = 0;
		ha_step_down("the peer is DEGRADED: it declared this head dead "
		    "and takes over what it served");
	} else if ((me == HA_STA_DAC_S && ps == HA_STA_DAC_S &&
	    mon.yield_until_us == 0) ||
	    (me == HA_STA_INIT_S && ps == HA_STA_INIT_S)) {
		mon.odd_ticks = 0;
		if (!cfg_master)
			return;		/* the configured master acts */
		log_warnx("ha: both heads claim slave: this head, the "
		    "configured master, takes the master role");
		ha_evt(HA_EVT_MASTER_TAKE);
	}
}

static void
set_verdict(enum hb_verdict v)
{
	if (v == mon.verdict)
		return;
	mon.verdict = v;
	mon.verdict_us = now_us();
	switch (v) {
	case HB_PEER_DEAD:
		if (mon.seen && mon.last.state == HA_STA_HALTED &&
		    !mon.fault)
			log_warnx("hb: peer dead (it is HALTED: it serves "
			    "nothing)");
		else
			log_warnx("hb: peer dead (%s; network channels bad, "
			    "disk heartbeat %s)", mon.fault ? "it reported "
			    "FAULT" : "no heartbeat", mon.has_disk ? "stopped" :
			    "not configured");
		mon.dead_boot = mon.last.boot_id;
		ha_disk_peer_closed(ha_mon_peer_closed());
		ha_evt(HA_EVT_PEER_DEAD);
		break;
	case HB_PEER_PARTITION:
		log_warnx("hb: PARTITION: every network path to the peer is "
		    "down but its disk heartbeat goes on; no takeover, both "
		    "heads keep their own exports; repair the network");
		break;
	case HB_PEER_SUSPECT:
		log_info("hb: every network path to the peer is down; "
		    "waiting for its disk heartbeat to stop (dead) or go on "
		    "(partition)");
		break;
	case HB_PEER_ALIVE:
		log_info("hb: peer alive");
		break;
	}
}

/* Note when the link to the peer came up (evaluate's frozen-peer rule). */
static void
track_link(void)
{
	int up = link_peer_up();

	if (up && !mon.link_was_up)
		mon.link_up_ms = now_ms();
	mon.link_was_up = up;
}

static void
evaluate(void)
{
	enum hb_verdict v;
	int		need;

	if (!mon.seen)
		return;
	/* Two disk heartbeats after the network went silent: the first
	 * may have been written just before a crash and read after it;
	 * the second was written after, by a live peer.  A peer already
	 * declared dead that comes back (SIGCONT) writes its disk
	 * heartbeat at once but needs its link reconnected: then a full
	 * count of disk heartbeats with the network still silent.  A
	 * HALTED peer heartbeats but serves nothing: dead to us. */
	if (mon.net_silent && mon.verdict == HB_PEER_DEAD)
		mon.dead_in_silence = 1;
	need = mon.dead_in_silence ? ha.hbp.max : 2;
	v = hb_verdict(mon.net, (size_t)mon.nnet,
	    mon.has_disk ? &mon.disk : NULL, mon.disk_after >= need,
	    mon.fault || mon.last.state == HA_STA_HALTED);
	/* A partition is the network cut off.  While the link has a path
	 * to the peer up (a thawed or reset peer reconnected, its first
	 * heartbeats not yet here) it is not: wait (SUSPECT, no takeover
	 * either way) instead of raising a false alarm. */
	if (v == HB_PEER_PARTITION && link_peer_up())
		v = HB_PEER_SUSPECT;
	/* Nor is a peer dead that was only frozen (SIGSTOP, a paused VM,
	 * a stall shorter than the lease) and has just reconnected its
	 * link with the same boot id: it runs, and its heartbeats follow
	 * within an interval or two.  Declaring it dead from the silence
	 * before would only make it step down (a needless outage of its
	 * LUNs).  Not for a HALTED or faulted peer, nor a new boot id (a
	 * restart: the old process is gone), nor once three intervals
	 * have passed (a live link without heartbeats is a stuck peer:
	 * dead stands). */
	track_link();
	if (v == HB_PEER_DEAD && mon.verdict != HB_PEER_DEAD &&
	    !mon.fault && mon.last.state != HA_STA_HALTED &&
	    mon.link_was_up && link_peer_boot_id() == mon.last.boot_id &&
	    now_ms() - mon.link_up_ms <= 3 * (uint64_t)ha.hbp.interval_ms)
		v = HB_PEER_SUSPECT;
	set_verdict(v);
	/* In INIT beside a HALTED or faulted peer (it heartbeats, serves
	 * nothing): dead to us, but set_verdict() speaks only on a change
	 * and the verdict may have been DEAD all along (this head started,
	 * or reset after its own fault, while the peer was shut down or
	 * halted).  Its heartbeats also stop the boot timer, so without
	 * this nothing would ever move and nobody would serve.  Once per
	 * state entered. */
	if (v == HB_PEER_DEAD && (ha.fsm.state & HA_STA_INIT) &&
	    (mon.fault || mon.last.state == HA_STA_HALTED) &&
	    mon.init_told != ha.fsm.nchanges + 1) {
		mon.init_told = ha.fsm.nchanges + 1;
		log_warnx("ha: the peer is %s and serves nothing: serving "
		    "everything from INIT", mon.fault ? "faulted" : "HALTED");
		ha_evt(HA_EVT_PEER_DEAD);
	}
	peer_events();
}

static int
net_all_bad(void)
{
	for (int i = 0; i < mon.nnet; i++)
		if (mon.net[i].state == HB_GOOD)
			return 0;
	return 1;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	ha_mon_send_now();
	track_link();
	for (int i = 0; i < mon.nnet; i++) {
		/* A connection the peer closed is proof, not suspicion: the
		 * channel is BAD at once instead of after the count runs
		 * out. */
		if (link_path_peer_closed(i))
			mon.net[i].count = 1;
		hb_chan_tick(&mon.net[i]);
	}
	if (!mon.net_silent && mon.nnet > 0 && net_all_bad()) {
		mon.net_silent = 1;
		mon.disk_after = 0;
		mon.dead_in_silence = mon.verdict == HB_PEER_DEAD;
	} else if (mon.net_silent && !net_all_bad())
		mon.net_silent = 0;
	if (mon.has_disk) {
		/* Every path closed by the peer's kernel: its process is
		 * gone, and with it the thread that writes the disk
		 * heartbeat, so the last one it wrote is no evidence of life
		 * (the disk thread shortens the lease grace on the same
		 * proof).  Without this a crash would wait for the disk count
		 * to run out (max ticks). */
		if (ha_mon_peer_closed() && mon.disk.count > 1)
			mon.disk.count = 1;
		hb_chan_tick(&mon.disk);
	}
	ha_disk_peer_closed(ha_mon_peer_closed());
	evaluate();
	if (mon.seen)
		pair_rules();
	ha_reconcile();
}

static void
hb_rx_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct hb_msg	m;
	int		path = link_rx_path(), rc;

	(void)type; (void)arg;
	if (rq != NULL)
		link_reply(rq, NULL, 0);
	if ((rc = hb_msg_decode(p, len, &m)) != 0 || m.node_id != ha.peer_id ||
	    path < 0 || path >= mon.nnet) {
		mon.nbad++;
		log_warnx("hb: malformed heartbeat on path %d (%zu bytes, "
		    "error %d), ignored", path, len, rc);
		return;
	}
	mon.nrx++;
	if (mon.seen && m.boot_id != mon.last.boot_id &&
	    (ha.fsm.state & HA_STA_DAC) && mon.verdict != HB_PEER_DEAD) {
		/* The peer restarted faster than we could declare it dead.
		 * It serves its own LUNs again through the INIT exchange
		 * (they are reserved by itself, so it needs no lease to
		 * run out): no takeover.  Only the master role may now be
		 * vacant: when we are DAC(slave) and it comes back as a
		 * slave, nobody is master, so we take the role (it comes
		 * back as INIT(master) only if it is the configured master,
		 * and then goes READY on our DAC(slave) by itself). */
		log_warnx("hb: peer restarted (boot id %016llx -> %016llx, "
		    "now %s)", (unsigned long long)mon.last.boot_id,
		    (unsigned long long)m.boot_id, sta_name(m.state));
		if (ha.fsm.state == HA_STA_DAC_S &&
		    (m.state & (HA_STA_BOOT | HA_STA_INIT_S)))
			ha_evt(HA_EVT_MASTER_TAKE);
	}
	hb_chan_credit(&mon.net[path], &ha.hbp, m.boot_id, m.seq);
	/* The same heartbeat comes over every path: only a newer one
	 * replaces what we know of the peer (never an older one that took
	 * the slower path). */
	if (mon.seen && m.boot_id == mon.last.boot_id && m.seq <= mon.last.seq)
		return;
	mon.last = m;
	mon.last_us = now_us();
	mon.fault = (m.flags & HB_F_FAULT) != 0;
	if (mon.yield_until_us != 0 && m.state == HA_STA_DAC_M) {
		/* at once: it may hand the role back before our next tick */
		log_info("ha: master move: the peer is master now");
		mon.yield_until_us = 0;
	}
	if (!mon.seen) {
		mon.seen = 1;
		log_info("hb: peer heard (state %s, boot id %016llx)",
		    sta_name(m.state), (unsigned long long)m.boot_id);
	}
	ha_mon_boot_timer(0);
	evaluate();
}

/*
 * The peer announced FAULT where the heartbeat does not say it (its
 * mailbox on the disk) while its network heartbeats are silent: a
 * thawed peer that stepped down writes its disk heartbeat before its
 * link is back.  It is faulted, not cut off: its disk heartbeat going
 * on must not be reported as a partition.  Its next network heartbeat
 * says again what it is (its flags replace this).
 */
void
ha_mon_peer_faulted(void)
{
	if (!mon.seen || mon.verdict == HB_PEER_ALIVE)
		return;
	mon.fault = 1;
	evaluate();
}

void
ha_mon_disk_credit(uint64_t boot_id, uint64_t seq)
{
	uint64_t oseq = mon.disk.seq, oboot = mon.disk.boot_id;

	if (!mon.has_disk)
		return;
	hb_chan_credit(&mon.disk, &ha.hbp, boot_id, seq);
	/* Evidence of a partition: progress of the same peer process the
	 * network last heard (a restarted peer's new disk heartbeat says
	 * "restarted", not "cut off"). */
	if (mon.net_silent && (mon.disk.seq != oseq ||
	    mon.disk.boot_id != oboot) && boot_id == mon.last.boot_id)
		mon.disk_after++;
}

int
ha_mon_has_disk(void)
{
	return mon.has_disk;
}

enum hb_verdict
ha_mon_verdict(void)
{
	return mon.seen ? mon.verdict : HB_PEER_DEAD;
}

int
ha_mon_peer_closed(void)
{
	for (int i = 0; i < mon.nnet; i++)
		if (!link_path_peer_closed(i))
			return 0;
	return mon.nnet > 0;
}

int
ha_mon_peer_state(unsigned *state, uint64_t *boot_id)
{
	if (!mon.seen)
		return -1;
	*state = mon.last.state;
	*boot_id = mon.last.boot_id;
	return 0;
}

int
ha_mon_link_alive(void)
{
	return mon.seen && mon.verdict == HB_PEER_ALIVE && link_peer_up();
}

void
ha_pair_states(unsigned *me, unsigned *peer)
{
	*me = ha.fsm.state;
	*peer = mon.seen && mon.verdict == HB_PEER_ALIVE ? mon.last.state : 0;
}

int
ha_master_move(char *why, size_t len)
{
	if (ha.fsm.state != HA_STA_DAC_M) {
		snprintf(why, len, "this head is %s, not DAC(master)",
		    sta_name(ha.fsm.state));
		return -2;
	}
	if (!mon.seen || mon.verdict != HB_PEER_ALIVE ||
	    mon.last.state != HA_STA_DAC_S) {
		snprintf(why, len, "the peer is %s, not an alive DAC(slave)",
		    mon.seen ? sta_name(mon.last.state) : "unknown");
		return -1;
	}
	mon.yield_until_us = now_us() + (uint64_t)YIELD_MS * 1000;
	log_info("ha: master move: handing the master role to the peer");
	ha_evt(HA_EVT_MASTER_MOVE);
	ha_mon_send_now();
	return 0;
}

static void
boot_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	log_info("ha: no answer from the peer within %d ms",
	    ha.cfg->boot_wait_ms);
	ha_evt(HA_EVT_BOOT_TIMEOUT);
}

void
ha_mon_boot_timer(int on)
{
	struct timeval tv;

	if (!on) {
		evtimer_del(mon.boot_ev);
		return;
	}
	tv.tv_sec = ha.cfg->boot_wait_ms / 1000;
	tv.tv_usec = (ha.cfg->boot_wait_ms % 1000) * 1000;
	if (ha.cfg->boot_wait_ms <= 0)
		tv.tv_sec = 5;
	evtimer_add(mon.boot_ev, &tv);
}

int
ha_mon_init(void)
{
	struct timeval	 tv;
	const char	*es;

	hb_params_default(&ha.hbp);
	/* a hand-built cfg (tests) may leave tunables zero: defaults */
	if (ha.cfg->hb_interval_ms > 0)
		ha.hbp.interval_ms = ha.cfg->hb_interval_ms;
	if (ha.cfg->hb_credit > 0)
		ha.hbp.credit = ha.cfg->hb_credit;
	if (ha.cfg->hb_max > 0)
		ha.hbp.max = ha.cfg->hb_max;
	ha.hbp.init = 0;		/* BAD until heard */
	if (hb_params_check(&ha.hbp, &es) < 0) {
		log_warnx("heartbeat: %s", es);
		return -1;
	}
	mon.nnet = ha.cfg->heads[ha.self].nlinks;
	for (int i = 0; i < mon.nnet; i++)
		hb_chan_init(&mon.net[i], &ha.hbp);
	mon.has_disk = ha.nluns > 0;
	hb_chan_init(&mon.disk, &ha.hbp);
	mon.verdict = HB_PEER_DEAD;
	link_register(HA_T_HB, hb_rx_cb, NULL);
	mon.tick_ev = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	mon.boot_ev = evtimer_new(loop_base(), boot_cb, NULL);
	tv.tv_sec = ha.hbp.interval_ms / 1000;
	tv.tv_usec = (ha.hbp.interval_ms % 1000) * 1000;
	event_add(mon.tick_ev, &tv);
	log_info("hb: %d network channel(s)%s, tick %d ms, death detected "
	    "within %d ms", mon.nnet, mon.has_disk ? " + disk" : "",
	    ha.hbp.interval_ms, hb_detect_ms(&ha.hbp));
	return 0;
}

void
ha_mon_shutdown(void)
{
	if (mon.tick_ev) {
		event_free(mon.tick_ev);
		mon.tick_ev = NULL;
	}
	if (mon.boot_ev) {
		event_free(mon.boot_ev);
		mon.boot_ev = NULL;
	}
}

static const char *
verdict_word(void)
{
	if (!mon.seen)
		return "never heard";
	switch (mon.verdict) {
	case HB_PEER_ALIVE:
		return "alive";
	case HB_PEER_DEAD:
		return "dead";
	case HB_PEER_PARTITION:
		return "PARTITION";
	case HB_PEER_SUSPECT:
		return "suspect (network silent)";
	}
	return "?";
}

/*
 * The two heads side by side (the first lines of `duonas status`): state,
 * software, what each one serves now (LUN owners from the reservations,
 * service IPs this head holds; the peer's are the wanted ones it does
 * not), as an administrator of a pair wants to see it first.
 */
void
ha_mon_cluster_text(struct buf *b)
{
	const struct cfg_head	*me = &ha.cfg->heads[ha.self];
	const struct cfg_head	*pe = &ha.cfg->heads[1 - ha.self];
	char			 mine[HB_SWVER_MAX + 1] = "";
	struct buf		 col[2];
	int			 peer_serves = mon.seen &&
				    mon.verdict == HB_PEER_ALIVE &&
				    (mon.last.state & (HA_STA_DAC |
				    HA_STA_DEGRADED));

	if (sw_self != NULL)
		sw_self(mine, sizeof(mine));
	else
		snprintf(mine, sizeof(mine), "%s", PACKAGE_VERSION);
	buf_printf(b, "%-12s %-34s %s\n", "heads:", me->name,
	    pe->name);
	buf_printf(b, "%-12s %-34s %s\n", "  state", ha_state_name(),
	    mon.seen && mon.verdict == HB_PEER_ALIVE ?
	    sta_name(mon.last.state) : mon.seen ? verdict_word() :
	    "not heard");
	buf_printf(b, "%-12s %-34s %s\n", "  software", mine,
	    mon.seen ? mon.last.swver : "?");
	buf_init(&col[0]);
	buf_init(&col[1]);
	for (int i = 0; i < ha.nluns; i++) {
		/* a LUN this head does not serve is the peer's when the
		 * peer serves and it is placed there (this head does not
		 * open the peer's LUNs) */
		int w = ha_lun_here(i) ? 0 : peer_serves &&
		    ha_lun_where(i) == 1 - ha.self ? 1 : -1;

		if (w >= 0)
			buf_printf(&col[w], "%s%s", col[w].len ? " " : "",
			    ha.luns[i].cfg->name);
	}
	buf_printf(b, "%-12s %-34.*s %.*s\n", "  luns",
	    col[0].len ? (int)col[0].len : 1, col[0].len ?
	    (char *)col[0].data : "-", col[1].len ? (int)col[1].len : 1,
	    col[1].len ? (char *)col[1].data : "-");
	buf_free(&col[0]);
	buf_free(&col[1]);
}

void
ha_mon_status_text(struct buf *b)
{
	const struct cfg_head	*peer = &ha.cfg->heads[1 - ha.self];
	char			 dur[32];

	buf_printf(b, "peer:        %s (node %u): %s", peer->name, ha.peer_id,
	    verdict_word());
	if (mon.seen)
		buf_printf(b, ", state %s, heard %s ago, configuration "
		    "generation %llu (here %llu)", sta_name(mon.last.state),
		    fmt_dur_ms(dur, sizeof(dur), (now_us() - mon.last_us) /
		    1000), (unsigned long long)mon.last.cfg_gen,
		    (unsigned long long)ctcm_generation());
	buf_printf(b, "\n");
	if (mon.gen_wait_us != 0 && (ha.fsm.state & HA_STA_INIT))
		buf_printf(b, "             waiting %s for the "
		    "configuration catch-up before READY\n", fmt_dur_ms(dur,
		    sizeof(dur), (now_us() - mon.gen_wait_us) / 1000));
	if (mon.seen)
		buf_printf(b, "             software %s (here: see duonas "
		    "image status)\n", mon.last.swver[0] ? mon.last.swver :
		    "?");
	if (sw_why[0])
		buf_printf(b, "             NOT PAIRING: incompatible software: "
		    "%s\n", sw_why);
	if (mon.seen && mon.verdict == HB_PEER_PARTITION)
		buf_printf(b, "             PARTITION: network paths down, disk "
		    "heartbeat alive: no takeover\n");
	buf_printf(b, "heartbeat:  ");
	for (int i = 0; i < mon.nnet; i++)
		buf_printf(b, " path%d %s(%d) lost %llu bad %llu", i,
		    mon.net[i].state == HB_GOOD ? "good" : "BAD",
		    mon.net[i].count, (unsigned long long)mon.net[i].nlost,
		    (unsigned long long)mon.net[i].nbad);
	if (mon.has_disk)
		buf_printf(b, " disk %s(%d) lost %llu bad %llu",
		    mon.disk.state == HB_GOOD ? "good" : "BAD", mon.disk.count,
		    (unsigned long long)mon.disk.nlost,
		    (unsigned long long)mon.disk.nbad);
	buf_printf(b, "\n");
}

static void
chan_json(struct buf *b, const struct hb_chan *c)
{
	buf_printf(b, "\"good\":%s,\"count\":%d,\"seq\":%llu,"
	    "\"lost\":%llu,\"stale\":%llu,\"jumps\":%llu,\"went_bad\":%llu,"
	    "\"went_good\":%llu", c->state == HB_GOOD ? "true" : "false",
	    c->count, (unsigned long long)c->seq,
	    (unsigned long long)c->nlost, (unsigned long long)c->nstale,
	    (unsigned long long)c->njump, (unsigned long long)c->nbad,
	    (unsigned long long)c->ngood);
}

void
ha_mon_status_json(struct buf *b)
{
	const struct cfg_head *peer = &ha.cfg->heads[1 - ha.self];

	buf_printf(b, "\"peer\":{\"name\":");
	buf_add_json_str(b, peer->name);
	buf_printf(b, ",\"node_id\":%u,\"verdict\":\"%s\",\"alive\":%s,"
	    "\"link_up\":%s,\"state\":\"%s\",\"boot_id\":\"%016llx\","
	    "\"heard_ms_ago\":%lld,\"cfg_gen\":%llu",
	    ha.peer_id, mon.seen ? hb_verdict_name(mon.verdict) : "unknown",
	    ha_peer_alive() ? "true" : "false",
	    link_peer_up() ? "true" : "false",
	    mon.seen ? sta_name(mon.last.state) : "unknown",
	    (unsigned long long)mon.last.boot_id,
	    mon.seen ? (long long)((now_us() - mon.last_us) / 1000) : -1LL,
	    (unsigned long long)mon.last.cfg_gen);
	buf_printf(b, ",\"software\":");
	buf_add_json_str(b, mon.seen ? mon.last.swver : "");
	buf_printf(b, ",\"incompatible\":");
	buf_add_json_str(b, sw_why);
	buf_printf(b, ",\"channels\":[");
	for (int i = 0; i < mon.nnet; i++) {
		buf_printf(b, "%s{\"path\":%d,", i ? "," : "", i);
		chan_json(b, &mon.net[i]);
		buf_printf(b, "}");
	}
	buf_printf(b, "],\"disk\":");
	if (mon.has_disk) {
		buf_printf(b, "{");
		chan_json(b, &mon.disk);
		buf_printf(b, "}");
	} else
		buf_printf(b, "null");
	buf_printf(b, "}");
}

uint64_t
ha_mon_sent(void)
{
	return mon.seq;
}

const struct hb_chan *
ha_mon_chan(int i, int *disk)
{
	*disk = 0;
	if (i >= 0 && i < mon.nnet)
		return &mon.net[i];
	if (i == mon.nnet && mon.has_disk) {
		*disk = 1;
		return &mon.disk;
	}
	return NULL;
}

/*
 * ha.c — the HA controller's role logic: who is master, is the peer alive.
 *
 * Each head publishes its state (node id, opmode, boot id, uptime) to the
 * peer in an HA_STATE message whenever the link comes up or the state
 * changes.  Rules: a booting head that finds a peer already MASTER becomes
 * SLAVE; with both heads booting, the configured master takes MASTER and
 * the configured slave follows; a head alone after boot-wait takes MASTER;
 * a SLAVE whose peer dies becomes MASTER.  Modules learn of every change
 * through their opmode callbacks.
 * Not here (yet): disk heartbeats, partition detection and the full state
 * table (src/ha/ha_fsm.c) — peer death is "no link path up".
 */
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "ha/ha.h"
#include "link/link.h"

#define HA_T_STATE	LINK_T_HB_FIRST
#define HA_MSG_VERSION	1
#define HA_MAX_CBS	16

struct ha_cb {
	ha_opmode_cb	 fn;
	void		*arg;
};

static const struct cfg	*ha_cfg;
static int		 ha_self;
static enum ha_opmode	 ha_mode = HA_OPMODE_NONE;
static int		 ha_alive;		/* peer alive as told to modules */
static int		 ha_link_up;
static enum ha_opmode	 peer_mode;
static int		 peer_state_seen;
static uint64_t		 ha_start_ms, ha_mode_since_ms;
static uint64_t		 ha_changes;
static struct ha_cb	 ha_cbs[HA_MAX_CBS];
static int		 ha_ncbs;
static struct event	*boot_ev;

static const char *const opmode_names[] = {
	"none", "master", "slave", "monitor",
};
_Static_assert(sizeof(opmode_names) / sizeof(opmode_names[0]) ==
    HA_OPMODE_MONITOR + 1, "opmode_names");

const char *
ha_opmode_name(enum ha_opmode m)
{
	return (unsigned)m < nitems(opmode_names) ? opmode_names[m] : "?";
}

const char *
ha_state_name(void)
{
	switch (ha_mode) {
	case HA_OPMODE_NONE:
		return "BOOT";
	case HA_OPMODE_MASTER:
		return ha_alive ? "DAC(master)" : "DEGRADED";
	case HA_OPMODE_SLAVE:
		return "DAC(slave)";
	case HA_OPMODE_MONITOR:
		return "MONITOR";
	}
	return "?";
}

static void
ha_send_state(void)
{
	struct buf b;

	buf_init(&b);
	buf_add_u16(&b, HA_MSG_VERSION);
	buf_add_u32(&b, ha_cfg->heads[ha_self].id);
	buf_add_u8(&b, (uint8_t)ha_mode);
	buf_add_u64(&b, now_ms() - ha_start_ms);
	link_send(HA_T_STATE, b.data, b.len);
	buf_free(&b);
}

/* The only writer of ha_mode / ha_alive. */
static void
ha_set(enum ha_opmode mode, int alive, const char *why)
{
	const char *before = ha_state_name();

	if (mode == ha_mode && alive == ha_alive)
		return;
	if (mode != ha_mode)
		ha_mode_since_ms = now_ms();
	ha_mode = mode;
	ha_alive = alive;
	ha_changes++;
	log_info("ha: %s -> %s on %s (opmode %s, peer %s)", before,
	    ha_state_name(), why, ha_opmode_name(mode),
	    alive ? "alive" : "down");
	ha_send_state();
	for (int i = 0; i < ha_ncbs; i++)
		ha_cbs[i].fn(ha_mode, ha_alive, ha_cbs[i].arg);
}

static void
ha_decide(const char *why)
{
	int alive = ha_link_up && peer_state_seen;
	int iam_cfg_master = ha_cfg->heads[ha_self].role == CFG_ROLE_MASTER;

	switch (ha_mode) {
	case HA_OPMODE_NONE:
		if (!alive)
			return;		/* boot timer decides */
		if (peer_mode == HA_OPMODE_MASTER)
			ha_set(HA_OPMODE_SLAVE, 1, why);
		else if (peer_mode == HA_OPMODE_NONE && iam_cfg_master)
			ha_set(HA_OPMODE_MASTER, 1, why);
		/* else: wait for the configured master to decide */
		return;
	case HA_OPMODE_SLAVE:
		if (!alive && !ha_link_up)
			ha_set(HA_OPMODE_MASTER, 0, "PEER_DEAD via IMPERSONATE");
		else if (alive && peer_mode == HA_OPMODE_SLAVE)
			/* two slaves: the configured master steps up */
			ha_set(iam_cfg_master ? HA_OPMODE_MASTER :
			    HA_OPMODE_SLAVE, 1, why);
		return;
	case HA_OPMODE_MASTER:
		if (alive && peer_mode == HA_OPMODE_MASTER) {
			/* a partition healed with both masters: only the
			 * configured master keeps the role */
			log_warnx("ha: BOTH HEADS ARE MASTER; %s", iam_cfg_master ?
			    "keeping master (configured master)" :
			    "stepping down to slave");
			if (!iam_cfg_master) {
				ha_set(HA_OPMODE_SLAVE, 1, "MASTER_CONFLICT");
				return;
			}
		}
		ha_set(HA_OPMODE_MASTER, alive, alive ? "PEER_JOINED" :
		    "PEER_DEAD via FAILOVER");
		return;
	case HA_OPMODE_MONITOR:
		return;
	}
}

static void
ha_state_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct rd	r;
	uint16_t	ver;
	uint32_t	node;
	uint8_t		mode;

	(void)type; (void)arg;
	if (rq != NULL)
		link_reply(rq, NULL, 0);
	rd_init(&r, p, len);
	ver = rd_u16(&r);
	node = rd_u32(&r);
	mode = rd_u8(&r);
	(void)rd_u64(&r);
	if (r.err || ver != HA_MSG_VERSION || mode > HA_OPMODE_MONITOR ||
	    node != ha_cfg->heads[1 - ha_self].id) {
		log_warnx("ha: malformed HA_STATE from peer (%zu bytes), "
		    "ignored", len);
		return;
	}
	peer_mode = (enum ha_opmode)mode;
	peer_state_seen = 1;
	log_debug("ha: peer state %s", ha_opmode_name(peer_mode));
	ha_decide("PEER_STATE");
}

static void
ha_link_cb(int up, uint64_t boot_id, void *arg)
{
	(void)arg; (void)boot_id;
	ha_link_up = up;
	if (up) {
		ha_send_state();
	} else {
		peer_state_seen = 0;
		peer_mode = HA_OPMODE_NONE;
		ha_decide("LINK_DOWN");
	}
}

static void
ha_boot_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (ha_mode != HA_OPMODE_NONE)
		return;
	if (!(ha_link_up && peer_state_seen)) {
		log_info("ha: no peer after %d ms, continuing alone",
		    ha_cfg->boot_wait_ms);
		ha_set(HA_OPMODE_MASTER, 0, "BOOT_TIMEOUT via FAILOVER");
	} else {
		struct timeval tv = { 0, 200 * 1000 };
		evtimer_add(boot_ev, &tv);	/* peer decides; re-check */
	}
}

int
ha_init(const struct cfg *cfg, int self_idx)
{
	struct timeval tv;

	ha_cfg = cfg;
	ha_self = self_idx;
	ha_start_ms = ha_mode_since_ms = now_ms();
	link_register(HA_T_STATE, ha_state_cb, NULL);
	link_on_state(ha_link_cb, NULL);
	boot_ev = evtimer_new(loop_base(), ha_boot_timer, NULL);
	tv.tv_sec = cfg->boot_wait_ms / 1000;
	tv.tv_usec = (cfg->boot_wait_ms % 1000) * 1000;
	evtimer_add(boot_ev, &tv);
	log_info("ha: BOOT as configured %s, waiting up to %d ms for the "
	    "peer", cfg->heads[self_idx].role == CFG_ROLE_MASTER ? "master" :
	    "slave", cfg->boot_wait_ms);
	return 0;
}

void
ha_shutdown(void)
{
	if (boot_ev) {
		event_free(boot_ev);
		boot_ev = NULL;
	}
}

void
ha_opmode_register(ha_opmode_cb cb, void *arg)
{
	if (ha_ncbs == HA_MAX_CBS)
		fatalx("ha: too many opmode callbacks");
	ha_cbs[ha_ncbs].fn = cb;
	ha_cbs[ha_ncbs].arg = arg;
	ha_ncbs++;
}

enum ha_opmode
ha_opmode(void)
{
	return ha_mode;
}

int
ha_peer_alive(void)
{
	return ha_alive;
}

void
ha_status_text(struct buf *b)
{
	const struct cfg_head *me = &ha_cfg->heads[ha_self];
	const struct cfg_head *peer = &ha_cfg->heads[1 - ha_self];

	buf_printf(b, "head:        %s (node %u, configured %s)\n", me->name,
	    me->id, me->role == CFG_ROLE_MASTER ? "master" : "slave");
	buf_printf(b, "state:       %s (opmode %s for %llu ms, %llu changes)\n",
	    ha_state_name(), ha_opmode_name(ha_mode),
	    (unsigned long long)(now_ms() - ha_mode_since_ms),
	    (unsigned long long)ha_changes);
	buf_printf(b, "peer:        %s (node %u): %s%s%s\n", peer->name,
	    peer->id, ha_alive ? "alive" : (ha_link_up ? "link up" : "down"),
	    peer_state_seen ? ", opmode " : "",
	    peer_state_seen ? ha_opmode_name(peer_mode) : "");
}

void
ha_status_json(struct buf *b)
{
	const struct cfg_head *me = &ha_cfg->heads[ha_self];
	const struct cfg_head *peer = &ha_cfg->heads[1 - ha_self];

	buf_printf(b, "\"head\":");
	buf_add_json_str(b, me->name);
	buf_printf(b, ",\"node_id\":%u,\"configured_role\":\"%s\","
	    "\"state\":\"%s\",\"opmode\":\"%s\",\"state_changes\":%llu,"
	    "\"peer\":{\"name\":", me->id,
	    me->role == CFG_ROLE_MASTER ? "master" : "slave", ha_state_name(),
	    ha_opmode_name(ha_mode), (unsigned long long)ha_changes);
	buf_add_json_str(b, peer->name);
	buf_printf(b, ",\"node_id\":%u,\"alive\":%s,\"link_up\":%s,"
	    "\"opmode\":\"%s\"}", peer->id, ha_alive ? "true" : "false",
	    ha_link_up ? "true" : "false",
	    peer_state_seen ? ha_opmode_name(peer_mode) : "unknown");
}

/*
 * ha_fsm.c — the HA state machine: its table and the one function that
 * changes the state.
 *
 * ha_fsm() finds the first row whose state set contains the current state
 * and whose event matches, runs the row's action (an owner callback), and
 * only if that succeeds writes the new state, logs exactly one line,
 * counts and timestamps the change and tells the owner.  IMPERSONATE rows
 * carry "again": the same event is then fed once more in the new state,
 * which is how "slave loses master: IMPERSONATE, then FAILOVER" stays two
 * visible, separately logged transitions.  Events raised from inside a
 * callback are queued, never handled re-entrantly.
 * It does no I/O and keeps no timers: the owner raises BOOT_TIMEOUT etc.
 */
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ha/ha_fsm.h"

#define AGAIN	1

/* current state, event, action, resulting state (0: stay), via, flags */
static const struct {
	unsigned	state;
	enum ha_evt	evt;
	enum ha_act	act;
	unsigned	next;
	enum ha_tr	via;
	int		flags;
} ha_fsm_tbl[] = {
	{HA_STA_HALTED,	HA_EVT_POWER_ON,	HA_ACT_BOOT,	HA_STA_BOOT,	HA_TR_POWER_ON, 0},
	{HA_STA_HALTED | HA_STA_MONITOR,
			HA_EVT_RESET,		HA_ACT_BOOT,	HA_STA_BOOT,	HA_TR_RESET, 0},
	{HA_STA_BOOT,	HA_EVT_ROLE_MASTER,	HA_ACT_INIT,	HA_STA_INIT_M,	HA_TR_MASTER, 0},
	{HA_STA_BOOT,	HA_EVT_ROLE_SLAVE,	HA_ACT_INIT,	HA_STA_INIT_S,	HA_TR_SLAVE, 0},
	{HA_STA_BOOT | HA_STA_INIT,
			HA_EVT_CONFIG_BAD,	HA_ACT_MONITOR,	HA_STA_MONITOR,	HA_TR_FAULT, 0},
	{HA_STA_INIT,	HA_EVT_CONFIG_CONFLICT,	HA_ACT_MONITOR,	HA_STA_MONITOR,	HA_TR_FAULT, 0},
	{HA_STA_INIT_M,	HA_EVT_PEER_READY,	HA_ACT_READY,	HA_STA_DAC_M,	HA_TR_READY, 0},
	{HA_STA_INIT_S,	HA_EVT_PEER_READY,	HA_ACT_READY,	HA_STA_DAC_S,	HA_TR_READY, 0},
	/* A returning master that finds its peer DEGRADED impersonates a
	 * slave, then waits for its LUNs like any returning slave. */
	{HA_STA_INIT_M,	HA_EVT_PEER_DEGRADED,	HA_ACT_IMPERSONATE, HA_STA_INIT_S, HA_TR_IMPERSONATE, AGAIN},
	{HA_STA_INIT_S,	HA_EVT_PEER_DEGRADED,	HA_ACT_GIVEWAIT, 0,		HA_TR_NONE, 0},
	/* Alone at boot, or the peer died while we were still in INIT. */
	{HA_STA_INIT_M,	HA_EVT_BOOT_TIMEOUT,	HA_ACT_TAKEOVER, HA_STA_DEGRADED, HA_TR_FAILOVER, 0},
	{HA_STA_INIT_S,	HA_EVT_BOOT_TIMEOUT,	HA_ACT_IMPERSONATE, HA_STA_INIT_M, HA_TR_IMPERSONATE, AGAIN},
	{HA_STA_INIT_M,	HA_EVT_PEER_DEAD,	HA_ACT_TAKEOVER, HA_STA_DEGRADED, HA_TR_FAILOVER, 0},
	{HA_STA_INIT_S,	HA_EVT_PEER_DEAD,	HA_ACT_IMPERSONATE, HA_STA_INIT_M, HA_TR_IMPERSONATE, AGAIN},
	/* Peer death while dual active. */
	{HA_STA_DAC_M,	HA_EVT_PEER_DEAD,	HA_ACT_TAKEOVER, HA_STA_DEGRADED, HA_TR_FAILOVER, 0},
	{HA_STA_DAC_S,	HA_EVT_PEER_DEAD,	HA_ACT_IMPERSONATE, HA_STA_DAC_M, HA_TR_IMPERSONATE, AGAIN},
	/* The peer comes back: coordinated giveback (docs/failover.md). */
	{HA_STA_DEGRADED, HA_EVT_PEER_RETURNED,	HA_ACT_GIVEBACK, 0,		HA_TR_NONE, 0},
	{HA_STA_DEGRADED, HA_EVT_GIVEBACK_DONE,	HA_ACT_FAILBACK, HA_STA_DAC_M,	HA_TR_FAILBACK, 0},
	/* The master role moves without moving any resource: the master
	 * hands it over, the peer takes it.  Both heads in INIT(slave): the
	 * configured master takes it. */
	{HA_STA_DAC_M,	HA_EVT_MASTER_MOVE,	HA_ACT_NOTHING,	HA_STA_DAC_S,	HA_TR_HANDOVER, 0},
	{HA_STA_DAC_S,	HA_EVT_MASTER_TAKE,	HA_ACT_IMPERSONATE, HA_STA_DAC_M, HA_TR_IMPERSONATE, 0},
	{HA_STA_INIT_S,	HA_EVT_MASTER_TAKE,	HA_ACT_IMPERSONATE, HA_STA_INIT_M, HA_TR_IMPERSONATE, 0},
	{HA_STA_RUNNING, HA_EVT_FAULT,		HA_ACT_HALT,	HA_STA_HALTED,	HA_TR_FAULT, 0},
	{HA_STA_RUNNING, HA_EVT_SHUTDOWN,	HA_ACT_HALT,	HA_STA_HALTED,	HA_TR_SHUTDOWN, 0},
};

static const char *const ha_sta_names[] = {
	"BOOT", "INIT(master)", "INIT(slave)", "DAC(master)", "DAC(slave)",
	"DEGRADED", "MONITOR", "HALTED",
};
_Static_assert(nitems(ha_sta_names) == HA_STA_COUNT, "state names");
_Static_assert(HA_STA_HALTED == 1u << (HA_STA_COUNT - 1), "state bits");

static const char *const ha_evt_names[] = {
	"POWER_ON", "ROLE_MASTER", "ROLE_SLAVE", "PEER_READY",
	"PEER_DEGRADED", "BOOT_TIMEOUT", "PEER_DEAD", "PEER_RETURNED",
	"GIVEBACK_DONE", "CONFIG_CONFLICT", "CONFIG_BAD", "FAULT", "SHUTDOWN",
	"RESET", "MASTER_MOVE", "MASTER_TAKE",
};
_Static_assert(nitems(ha_evt_names) == HA_EVT_COUNT, "event names");

static const char *const ha_tr_names[] = {
	"NONE", "POWER ON", "MASTER", "SLAVE", "READY", "FAILOVER",
	"FAILBACK", "IMPERSONATE", "FAULT", "SHUTDOWN", "RESET", "HANDOVER",
};
_Static_assert(nitems(ha_tr_names) == HA_TR_COUNT, "transition names");

static const char *const ha_act_names[] = {
	"NOTHING", "BOOT", "INIT", "READY", "IMPERSONATE", "TAKEOVER",
	"GIVEWAIT", "GIVEBACK", "FAILBACK", "MONITOR", "HALT",
};
_Static_assert(nitems(ha_act_names) == HA_ACT_COUNT, "action names");

const char *
ha_fsm_state_name(unsigned state)
{
	if (state == 0 || (state & (state - 1)) != 0 || state > HA_STA_ANY)
		return "?";
	return ha_sta_names[__builtin_ctz(state)];
}

const char *
ha_fsm_evt_name(enum ha_evt evt)
{
	return (unsigned)evt < HA_EVT_COUNT ? ha_evt_names[evt] : "?";
}

const char *
ha_fsm_tr_name(enum ha_tr tr)
{
	return (unsigned)tr < HA_TR_COUNT ? ha_tr_names[tr] : "?";
}

const char *
ha_fsm_act_name(enum ha_act act)
{
	return (unsigned)act < HA_ACT_COUNT ? ha_act_names[act] : "?";
}

enum ha_opmode
ha_fsm_opmode(unsigned state)
{
	switch (state) {
	case HA_STA_DAC_M:
	case HA_STA_DEGRADED:
		return HA_OPMODE_MASTER;
	case HA_STA_DAC_S:
		return HA_OPMODE_SLAVE;
	case HA_STA_MONITOR:
		return HA_OPMODE_MONITOR;
	default:
		return HA_OPMODE_NONE;
	}
}

void
ha_fsm_init(struct ha_fsm *fsm, const struct ha_fsm_ops *ops, void *arg)
{
	memset(fsm, 0, sizeof(*fsm));
	fsm->state = HA_STA_HALTED;
	fsm->ops = ops;
	fsm->arg = arg;
	fsm->changed_us = now_us();
	fsm->changed_wall_ms = wall_ms();
}

int
ha_fsm_lookup(unsigned state, enum ha_evt evt, struct ha_fsm_change *c,
    int *again)
{
	size_t	i;

	for (i = 0; i < nitems(ha_fsm_tbl); i++) {
		if ((ha_fsm_tbl[i].state & state) == 0 ||
		    ha_fsm_tbl[i].evt != evt)
			continue;
		c->from = state;
		c->to = ha_fsm_tbl[i].next ? ha_fsm_tbl[i].next : state;
		c->evt = evt;
		c->via = ha_fsm_tbl[i].via;
		c->act = ha_fsm_tbl[i].act;
		*again = (ha_fsm_tbl[i].flags & AGAIN) != 0;
		return 0;
	}
	return -1;
}

/* One event in the current state, following "again" rows. */
static int
ha_fsm_step(struct ha_fsm *fsm, enum ha_evt evt)
{
	struct ha_fsm_change	c;
	ha_fsm_act_fn		fn;
	int			again, n, rc = 0;

	fsm->nevents++;
	/* Bounded: the table never chains more than twice. */
	for (n = 0; n < 4; n++) {
		if (ha_fsm_lookup(fsm->state, evt, &c, &again) == -1) {
			if (n > 0)
				break;	/* end of an "again" chain */
			fsm->nignored++;
			log_info("ha: %s ignored in %s", ha_fsm_evt_name(evt),
			    ha_fsm_state_name(fsm->state));
			return -1;
		}
		fn = fsm->ops ? fsm->ops->act[c.act] : NULL;
		if (fn != NULL && fn(fsm, &c, fsm->arg) == -1) {
			fsm->nfailed++;
			log_warnx("ha: %s: action %s for %s failed, state "
			    "unchanged", ha_fsm_state_name(fsm->state),
			    ha_fsm_act_name(c.act), ha_fsm_evt_name(evt));
			return -1;
		}
		if (c.via == HA_TR_NONE) {
			log_debug("ha: %s in %s: %s", ha_fsm_evt_name(evt),
			    ha_fsm_state_name(fsm->state),
			    ha_fsm_act_name(c.act));
			return rc;
		}
		/* The one place the state is written. */
		fsm->state = c.to;
		fsm->changed_us = now_us();
		fsm->changed_wall_ms = wall_ms();
		fsm->nchanges++;
		fsm->ntr[c.via]++;
		log_info("ha: %s -> %s on %s via %s",
		    ha_fsm_state_name(c.from), ha_fsm_state_name(c.to),
		    ha_fsm_evt_name(evt), ha_fsm_tr_name(c.via));
		if (fsm->ops != NULL && fsm->ops->changed != NULL)
			fsm->ops->changed(fsm, &c, fsm->arg);
		rc = 1;
		if (!again)
			break;
	}
	return rc;
}

int
ha_fsm(struct ha_fsm *fsm, enum ha_evt evt)
{
	int	rc;

	if ((unsigned)evt >= HA_EVT_COUNT) {
		log_warnx("ha: unknown event %d ignored", (int)evt);
		fsm->nignored++;
		return -1;
	}
	if (fsm->busy) {
		if (fsm->qlen == (int)nitems(fsm->queue)) {
			fsm->ndropped++;
			log_warnx("ha: event queue full, %s dropped",
			    ha_fsm_evt_name(evt));
			return -1;
		}
		fsm->queue[(fsm->qhead + fsm->qlen++) % nitems(fsm->queue)] =
		    evt;
		return 0;
	}
	fsm->busy = 1;
	rc = ha_fsm_step(fsm, evt);
	while (fsm->qlen > 0) {
		evt = fsm->queue[fsm->qhead];
		fsm->qhead = (fsm->qhead + 1) % (int)nitems(fsm->queue);
		fsm->qlen--;
		(void)ha_fsm_step(fsm, evt);
	}
	fsm->busy = 0;
	return rc;
}

/*
 * ha_fsm.h — the HA state machine (docs/ha-states.md).
 *
 * One table of (state set, event, action, resulting state, transition)
 * rows and one function, ha_fsm(), that is the only writer of the state.
 * The owner (the HA controller) feeds events and supplies the actions as
 * callbacks, so the machine itself does no I/O and is tested exhaustively
 * (tests/unit/test_fsm.c).  Every state change is logged once
 * ("ha: DAC(slave) -> DAC(master) on PEER_DEAD via IMPERSONATE"),
 * counted, timestamped and reported to ops->changed.  Events with no row
 * are logged, counted and ignored.
 *
 * Threading: one thread (the loop thread).  ha_fsm() may be called from
 * inside an action or the changed callback; such events are queued and run
 * after the current one completes, in order.
 */
#ifndef DUONAS_HA_FSM_H
#define DUONAS_HA_FSM_H

#include <stdint.h>

#include "ha/ha.h"

/* States are bit flags so that a table row can match a set of them.  The
 * value is also what goes on the wire (heartbeats, disk heartbeat). */
#define HA_STA_BOOT	0x01u
#define HA_STA_INIT_M	0x02u	/* INIT(master) */
#define HA_STA_INIT_S	0x04u	/* INIT(slave) */
#define HA_STA_DAC_M	0x08u	/* DAC(master): dual active, arbitrating */
#define HA_STA_DAC_S	0x10u	/* DAC(slave) */
#define HA_STA_DEGRADED	0x20u	/* serving alone, peer's resources too */
#define HA_STA_MONITOR	0x40u	/* administration only */
#define HA_STA_HALTED	0x80u	/* not running (initial state) */
#define HA_STA_COUNT	8
#define HA_STA_INIT	(HA_STA_INIT_M | HA_STA_INIT_S)
#define HA_STA_DAC	(HA_STA_DAC_M | HA_STA_DAC_S)
#define HA_STA_ANY	0xffu
#define HA_STA_RUNNING	(HA_STA_ANY & ~HA_STA_HALTED)

/* Inputs.  Who raises each one is in docs/ha-states.md. */
enum ha_evt {
	HA_EVT_POWER_ON,	/* daemon started */
	HA_EVT_ROLE_MASTER,	/* configuration loaded: we are the master */
	HA_EVT_ROLE_SLAVE,	/* configuration loaded: we are the slave */
	HA_EVT_PEER_READY,	/* GETSTATE exchange done, peer agrees */
	HA_EVT_PEER_DEGRADED,	/* peer answers from DEGRADED: it owns our LUNs */
	HA_EVT_BOOT_TIMEOUT,	/* no answer from the peer within boot-wait */
	HA_EVT_PEER_DEAD,	/* status monitor: peer dead or FAULT */
	HA_EVT_PEER_RETURNED,	/* a dead peer is heard again (GIVEWAIT) */
	HA_EVT_GIVEBACK_DONE,	/* giveback to the peer completed */
	HA_EVT_CONFIG_CONFLICT,	/* both claim master, configurations differ */
	HA_EVT_CONFIG_BAD,	/* no valid configuration could be loaded */
	HA_EVT_FAULT,		/* local permanent fault (LHM, lost lease) */
	HA_EVT_SHUTDOWN,	/* administrator or signal */
	HA_EVT_RESET,		/* administrator: start over */
	HA_EVT_MASTER_MOVE,	/* administrator: hand the master role over */
	HA_EVT_MASTER_TAKE,	/* the peer handed us the master role, or
				   both heads are slaves and we are the
				   configured master */
	HA_EVT_COUNT
};

/* The named transitions of the original design (for logs and counters). */
enum ha_tr {
	HA_TR_NONE,		/* action without a state change */
	HA_TR_POWER_ON,
	HA_TR_MASTER,
	HA_TR_SLAVE,
	HA_TR_READY,
	HA_TR_FAILOVER,
	HA_TR_FAILBACK,
	HA_TR_IMPERSONATE,
	HA_TR_FAULT,
	HA_TR_SHUTDOWN,
	HA_TR_RESET,
	HA_TR_HANDOVER,		/* DAC(master) -> DAC(slave): master move */
	HA_TR_COUNT
};

/* Actions the owner implements (ops below). */
enum ha_act {
	HA_ACT_NOTHING,
	HA_ACT_BOOT,		/* start monitor, load config, post ROLE_* */
	HA_ACT_INIT,		/* start NOP/GETSTATE exchange, boot timer */
	HA_ACT_READY,		/* serve our own exports/IPs */
	HA_ACT_IMPERSONATE,	/* take the other role (see ha-states.md) */
	HA_ACT_TAKEOVER,	/* reserve + serve the peer's LUNs and IPs */
	HA_ACT_GIVEWAIT,	/* publish GIVEWAIT, wait for our LUNs */
	HA_ACT_GIVEBACK,	/* peer returned: start the giveback */
	HA_ACT_FAILBACK,	/* giveback finished: back to dual active */
	HA_ACT_MONITOR,		/* stop serving; administration only */
	HA_ACT_HALT,		/* stop everything, release IPs, reservations */
	HA_ACT_COUNT
};

/* What a transition is about; passed to actions and ops->changed. */
struct ha_fsm_change {
	unsigned	from;		/* HA_STA_* */
	unsigned	to;		/* == from for HA_TR_NONE */
	enum ha_evt	evt;
	enum ha_tr	via;
	enum ha_act	act;
};

struct ha_fsm;

/*
 * Actions return 0, or -1 when they could not be carried out: then the
 * state does not change (logged, counted in nfailed) and the owner decides
 * what to do next (usually post HA_EVT_FAULT).  A NULL action succeeds.
 * Actions run before the state is written; changed runs after.
 */
typedef int (*ha_fsm_act_fn)(struct ha_fsm *, const struct ha_fsm_change *,
    void *arg);

struct ha_fsm_ops {
	ha_fsm_act_fn	act[HA_ACT_COUNT];	/* indexed by enum ha_act */
	void		(*changed)(struct ha_fsm *,
			    const struct ha_fsm_change *, void *arg);
};

/* The machine.  Fields after "state" are read-only for the owner. */
struct ha_fsm {
	unsigned		 state;		/* HA_STA_*: written by ha_fsm() only */
	uint64_t		 changed_us;	/* monotonic time of last change */
	uint64_t		 changed_wall_ms;
	uint64_t		 nchanges;
	uint64_t		 ntr[HA_TR_COUNT];	/* per transition */
	uint64_t		 nevents;
	uint64_t		 nignored;	/* events with no row */
	uint64_t		 nfailed;	/* actions that returned -1 */
	uint64_t		 ndropped;	/* queue overflow */
	const struct ha_fsm_ops	*ops;
	void			*arg;
	int			 busy;		/* inside ha_fsm() */
	int			 qhead, qlen;
	enum ha_evt		 queue[8];
};

/* Initialise in HA_STA_HALTED; ops must outlive the machine. */
void		 ha_fsm_init(struct ha_fsm *, const struct ha_fsm_ops *,
		    void *arg);

/*
 * Feed one event.  Returns 1 when the state changed, 0 when the event was
 * handled without a change (or queued because ha_fsm() is already
 * running), -1 when it was ignored (no row) or its action failed.
 */
int		 ha_fsm(struct ha_fsm *, enum ha_evt);

/*
 * Pure table lookup: what ha_fsm() would do for (state, evt), without
 * running anything.  Returns 0 and fills *c (to == from for HA_TR_NONE),
 * or -1 when there is no row.  *again is set when the same event is then
 * fed again in the new state (IMPERSONATE rows).
 */
int		 ha_fsm_lookup(unsigned state, enum ha_evt evt,
		    struct ha_fsm_change *c, int *again);

/* Names: "DAC(master)", "PEER_DEAD", "IMPERSONATE", "TAKEOVER".
 * Unknown values give "?" (never NULL). */
const char	*ha_fsm_state_name(unsigned state);
const char	*ha_fsm_evt_name(enum ha_evt);
const char	*ha_fsm_tr_name(enum ha_tr);
const char	*ha_fsm_act_name(enum ha_act);

/* The opmode modules see in a state (ha.h). */
enum ha_opmode	 ha_fsm_opmode(unsigned state);

#endif

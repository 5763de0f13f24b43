/*
 * hooks.h — event hooks: executables in the events { dir } directory run
 * for every HA state change, LUN and service IP move, fault,
 * configuration install and boot software event of this head
 * (docs/hooks.md).
 *
 * Hooks are notifications, run after the fact on a worker thread: posting
 * an event never blocks the caller and never waits for a hook, so a hook
 * cannot hold up a failover.  Events are run one at a time in the order
 * they were posted; a full queue drops the new event (counted, logged).
 */
#ifndef DUONAS_HOOKS_H
#define DUONAS_HOOKS_H

#include <stdint.h>

struct buf;
struct cfg;

enum hook_evt {
	HOOK_STATE,		/* old, state, why (the state machine's event) */
	HOOK_LUN_SERVED,	/* lun, lun_id */
	HOOK_LUN_RELEASED,	/* lun, lun_id */
	HOOK_IP_ADDED,		/* ip, dev */
	HOOK_IP_RELEASED,	/* ip, dev */
	HOOK_FAULT,		/* why */
	HOOK_CONFIG,		/* gen, why (the generation's summary) */
	HOOK_BOOT,		/* why ("good", "restart"), slot, version */
	HOOK_EVT_COUNT
};

/* What an event is about; fields not used by an event are ignored.  The
 * strings are copied before hooks_post() returns. */
struct hook_args {
	const char	*old;		/* HOOK_STATE: the state left */
	const char	*state;		/* HOOK_STATE: the state entered */
	const char	*why;		/* FSM event, fault reason, summary */
	const char	*lun;
	uint32_t	 lun_id;
	const char	*ip;
	const char	*dev;
	uint64_t	 gen;
	const char	*slot;		/* HOOK_BOOT: "A", "B" */
	const char	*version;	/* HOOK_BOOT: the software's version */
};

/*
 * Post an event, from any thread.  Before hooks_start() (or without a
 * hooks directory) events only update DUONAS_STATE and are dropped
 * silently.  Call it as hooks_event(HOOK_LUN_SERVED, .lun = name,
 * .lun_id = id).
 */
void	hooks_post(enum hook_evt, const struct hook_args *);
#define hooks_event(e, ...) \
	hooks_post((e), &(const struct hook_args){ __VA_ARGS__ })

/*
 * Start the worker for head `head` of cfg (copied: dir, time limit,
 * queue size, head and cluster names).  0, or -1 (logged; the daemon
 * runs on without hooks).  hooks_stop() runs what is queued within one
 * time limit, then ends the worker.
 */
int	hooks_start(const struct cfg *cfg, const char *head);
void	hooks_stop(void);

/* The hooks' counters for duonas status: a "hooks:" line (nothing when
 * hooks are off), or a JSON object {"dir","events","runs","failed",
 * "timed_out","dropped"}.  Any thread. */

void	hooks_status(struct buf *out, int json);
const char *hooks_evt_name(enum hook_evt);

#endif

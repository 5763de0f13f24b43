/*
 * lhm.h — the local health monitor: bounded periodic probes of what this
 * head needs to serve (its event loop, NFS workers, each served LUN's
 * data area, the interfaces that carry service IPs), and the policy that
 * turns a fault into an HA action.
 *
 * Every watched resource is registered the same way (lhm_register) with
 * a probe function and a policy; the monitor's own thread calls each
 * probe once per interval (health { interval }), counts consecutive
 * results (fault-after / clear-after) and, when a resource becomes
 * FAULTED, acts by its policy on the loop thread through the actions
 * the daemon installed (lhm_set_actions): hand that one LUN to the peer,
 * or surrender the whole head.  docs/health.md describes the resources,
 * the thresholds and the actions.
 */
#ifndef DUONAS_LHM_H
#define DUONAS_LHM_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct cfg;

/* What a probe says (its return value). */
#define LHM_PROBE_OK	0	/* healthy */
#define LHM_PROBE_FAIL	1	/* failing: counts towards a fault */
#define LHM_PROBE_IDLE	2	/* nothing to watch now (e.g. LUN not
				 * served here): counters reset */

/* What a fault leads to. */
enum lhm_policy {
	LHM_POL_REPORT = 0,	/* status and log only */
	LHM_POL_LUN,		/* hand that LUN (only) to the peer */
	LHM_POL_SOFTWARE,	/* surrender; the head restarts once */
	LHM_POL_PERMANENT,	/* surrender; stays HALTED until reset */
	LHM_POL_ABORT,		/* the event loop itself is stuck: nothing
				 * on it can act, so the process aborts
				 * (the peer takes over as after a crash) */
	LHM_POL_IFACE,		/* an interface with service IPs: LUNs
				 * behind it move, or surrender when every
				 * service interface is down (lhm_iface_plan) */
	LHM_POL_COUNT
};

/*
 * A probe: runs on the monitor thread, must return within milliseconds
 * (anything that can block on a disk runs in a thread of its own and the
 * probe only reads its result).  Writes a one-line description of what
 * it saw into detail (status output, fault reason).
 */
typedef int (*lhm_probe_fn)(void *arg, char *detail, size_t len);

/*
 * Any thread, any time (also before lhm_start).  name is copied (up to
 * 31 bytes); lun is the cfg LUN index for LHM_POL_LUN, else -1; for
 * LHM_POL_IFACE name must be "iface DEV".  Returns an id >= 0 for
 * lhm_unregister, or -1 when the table is full (logged).
 */
int	lhm_register(const char *name, enum lhm_policy pol, int lun,
	    lhm_probe_fn fn, void *arg);
/* Any thread.  After it returns the probe is never called again. */
void	lhm_unregister(int id);

/*
 * What the monitor does to act, filled in by the daemon (HA controller).
 * All run on the loop thread.  active() says whether the head is in a
 * state that serves (a persistent head fault is re-announced only then).
 */
struct lhm_actions {
	void	(*lun_handover)(int lun, const char *why);
	void	(*surrender)(const char *why, int permanent);
	int	(*active)(void);
};
void	lhm_set_actions(const struct lhm_actions *);

/*
 * Loop thread.  Start the monitor thread and the event-loop heartbeat
 * (and systemd's watchdog when NOTIFY_SOCKET is set), using the health { }
 * tunables of cfg (copied).  0 or -1 (logged).  lhm_stop joins it.
 */
int	lhm_start(const struct cfg *cfg, int self);
void	lhm_stop(void);
/* systemd: READY=1 (once everything started), STOPPING=1. No-ops
 * without a NOTIFY_SOCKET. */
void	lhm_notify_ready(void);
/* fn(buf, len) writes the daemon's one-line state; sent to systemd as
 * STATUS= on the loop's beat whenever it changed.  Loop thread. */
typedef void (*lhm_status_fn)(char *buf, size_t len);
void	lhm_notify_status_fn(lhm_status_fn fn);
void	lhm_notify_stopping(void);

/* Thresholds other modules' probes use (milliseconds). */
uint64_t lhm_worker_stuck_ms(void);

/* Any thread: 1 when no head-level resource is faulted; else 0 and the
 * reason in why (readiness for a giveback). */
int	lhm_head_healthy(char *why, size_t len);

/* `duonas status`: a "health:" section, or the value of "health". */
void	lhm_status_text(struct buf *);
void	lhm_status_json(struct buf *);

/* The built-in probes (lhm_probes.c): the LUNs of cfg (data area I/O,
 * ext4 errors and read-only remount, private-extent I/O) and every
 * interface that carries a service IP.  Loop thread, after ha_init. */
int	lhm_probes_start(const struct cfg *cfg, int self);
void	lhm_probes_stop(void);

#endif

/*
 * lhm_int.h — the local health monitor's pure policy (lhm_policy.c, unit
 * tested in tests/unit/test_lhm.c) and what its files share.
 */
#ifndef DUONAS_LHM_INT_H
#define DUONAS_LHM_INT_H

#include <stdint.h>

#include "lhm/lhm.h"

enum lhm_health {
	LHM_H_UNKNOWN = 0,	/* not probed yet */
	LHM_H_OK,
	LHM_H_IDLE,		/* nothing to watch now */
	LHM_H_SUSPECT,		/* failing, below fault-after */
	LHM_H_FAULT,
	LHM_H_COUNT
};
const char	*lhm_health_name(enum lhm_health);
const char	*lhm_policy_name(enum lhm_policy);

/* Consecutive results of one resource. */
struct lhm_count {
	enum lhm_health	h;
	int		fails;		/* consecutive LHM_PROBE_FAIL */
	int		oks;		/* consecutive LHM_PROBE_OK */
};

/*
 * Account one probe result.  FAULT after fault_after failures in a row,
 * back to OK only after clear_after successes in a row (a flapping
 * resource stays FAULT); IDLE at once on LHM_PROBE_IDLE.  Returns 1
 * exactly when the resource has just become FAULT (the caller acts),
 * else 0.
 */
int	lhm_count_step(struct lhm_count *, int result, int fault_after,
	    int clear_after);

/*
 * The interface policy.  cfg's service IPs say which interface carries
 * each head's IPs (a head's IPs serve all LUNs homed on it).  down(dev)
 * says whether an interface is down here.  A head whose every service IP
 * sits on a down interface is unreachable through this head.
 * Returns LHM_IF_SURRENDER when every interface carrying this head's own
 * IPs is down (the head is cut from its clients); LHM_IF_HANDOVER with
 * luns[i] = 1 for each LUN homed on an unreachable head when only some
 * are; LHM_IF_NONE otherwise.  luns has cfg->nluns entries.
 */
enum lhm_ifact { LHM_IF_NONE, LHM_IF_HANDOVER, LHM_IF_SURRENDER };
enum lhm_ifact lhm_iface_plan(const struct cfg *cfg, int self,
	    int (*down)(const char *dev, void *arg), void *arg,
	    uint8_t *luns);

/* How long an event-loop beat / a worker call may take, and whether an
 * age is past it (0 since: idle, never stuck). */
int	lhm_stuck(uint64_t since_us, uint64_t now_us, uint64_t limit_ms);

/* lhm.c: any thread: run a pass now (a link event). */
void	lhm_wake(void);
/* lhm.c: the cfg copy (valid after lhm_start) */
const struct cfg *lhm_cfg(void);

#endif

/*
 * ctcm_txn.h — the transaction API inside ctcm/ (used by the admin
 * handlers in ctcm_ctl.c).  Worker threads only.
 */
#ifndef DUONAS_CTCM_TXN_H
#define DUONAS_CTCM_TXN_H

#include "ctcm/ctcm_int.h"

/* Build next from cur (cur is empty in MONITOR).  0, or non-zero with
 * msg naming the problem (nothing is written then). */
typedef int (*ctcm_edit_fn)(const struct ctcm_bundle *cur,
    struct ctcm_bundle *next, void *arg, char *msg, size_t msglen);

#define CTCM_TXN_MONITOR_OK	0x1	/* allowed in MONITOR (import) */
#define CTCM_TXN_FORCE		0x2	/* commit even without a change */

struct ctcm_result {
	uint64_t		gen;
	int			replicas_ok;
	int			nrep;
	int			partial;
	int			peer_rc;
	uint64_t		us;
	struct ctcm_replica	rep[CFG_MAX_LUNS];
	char			msg[768];
};

/* One transaction: lock, edit, validate, commit (docs/ctcm.md).  0 or a
 * code; res->msg says what happened either way. */
int	ctcm_txn_run(ctcm_edit_fn edit, void *arg, const char *author,
	    const char *summary, int flags, struct ctcm_result *res);
/* The installed generation's bundle (0 or code). */
int	ctcm_current(struct ctcm_bundle *);
/* Parse + check a proposed configuration; 0 or -1 with err. */
int	ctcm_validate(const struct ctcm_bundle *, struct cfg *out, char *err,
	    size_t errlen);
/* 1 when ha_opmode() is MASTER (asks the loop thread). */
int	ctcm_is_master(void);
/* Run fn(arg) on the loop thread and wait. */
void	ctcm_run_on_loop(void (*fn)(void *), void *arg);

#endif

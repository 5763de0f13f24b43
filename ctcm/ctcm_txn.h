/*
 * ctcm_txn.h — the run-time inside ctcm/: transactions (ctcm_txn.c), the
 * owner of the numbers and the background work (ctcm_sync.c) and the
 * peer messages (ctcm_peer.c), as used by each other and by the admin
 * handlers.  Worker threads only unless a function says otherwise.
 */
#ifndef DUONAS_CTCM_TXN_H
#define DUONAS_CTCM_TXN_H

#include "ctcm/ctcm_int.h"

/* ---- transactions (ctcm_txn.c) -------------------------------------- */

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
	int			local_rc;
	uint64_t		us;
	struct ctcm_replica	rep[CFG_MAX_LUNS];
	char			msg[768];
};

/* One transaction: lock, read every copy, edit, validate, commit
 * (docs/ctcm.md).  0 (committed, or nothing to change) or a code;
 * res->msg says what happened either way. */
int	ctcm_txn_run(ctcm_edit_fn edit, void *arg, const char *author,
	    const char *summary, int flags, struct ctcm_result *res);
/* A copy of the committed configuration (0, or CTCM_E_MONITOR). */
/* Commit the current content again as a new generation, above the
 * copies of a commit answered "not committed" (ctcm_g.refused_*); the
 * sync worker calls it while ctcm_g.supersede is set.  0 or a code. */
int	ctcm_txn_supersede(void);
int	ctcm_current(struct ctcm_bundle *);
/* Generation gen: the committed one or from local history (0 or code). */
int	ctcm_load_gen(uint64_t gen, struct ctcm_bundle *);
/* Parse + check a proposed configuration; 0 or -1 with err. */
int	ctcm_validate(const struct ctcm_bundle *, struct cfg *out, char *err,
	    size_t errlen);
/* Image of b (first) and the history older than it, written in epoch;
 * empty when even b does not fit a slot. */
void	ctcm_build_image(const struct ctcm_bundle *b, uint64_t epoch,
	    struct buf *o);
/* b was installed locally: tell the modules (loop thread, queued). */
void	ctcm_installed(const struct ctcm_bundle *b, const struct cfg *newcfg);
/* 1 when ha_opmode() is MASTER (asks the loop thread). */
int	ctcm_is_master(void);
/* ha_opmode() (enum ha_opmode) and the HA state name into state (may be
 * NULL), asked on the loop thread. */
int	ctcm_ha_now(char *state, size_t len);
/* Run fn(arg) on the loop thread and wait. */
void	ctcm_run_on_loop(void (*fn)(void *), void *arg);

/* ---- the numbers and the background work (ctcm_sync.c) -------------- */

struct ctcm_view {
	int		setsize, need, nread;	/* replica set, majority, read */
	uint64_t	next_gen;		/* for a commit */
	uint64_t	epoch;			/* this head's epoch */
};

#define CTCM_SYNC_CLAIM		0x1	/* master: claim an epoch if needed */
#define CTCM_SYNC_REPAIR	0x2	/* rewrite replicas behind */
#define CTCM_SYNC_IMPORT	0x4	/* MONITOR import: numbers only */

/*
 * The one owner of generations and epochs: read every copy (replicas,
 * local database, the peer), require a majority of the replica set,
 * adopt a higher-ranked configuration, claim an epoch / repair as asked.
 * Caller holds ctcm_g.txn.  0 with *v filled, or a code with msg.
 */
int	ctcm_sync_prepare(int flags, struct ctcm_view *v, char *msg,
	    size_t msglen);
/* Install the committed configuration locally when the local copy is
 * behind, then tell the modules.  Caller holds ctcm_g.txn.  0 or code
 * (err says why; kept for status and retried). */
int	ctcm_sync_install(char *err, size_t errlen);
/* Wake the background worker now (any thread). */
void	ctcm_sync_wake(void);
/* HA opmode changed (loop thread). */
void	ctcm_sync_opmode(int mode);
int	ctcm_sync_start(void);
void	ctcm_sync_stop(void);
/* For status: "ok", "installing", "claiming", "repairing", "monitor".
 * Caller holds ctcm_g.mtx. */
const char *ctcm_sync_state(void);

/* ---- the peer (ctcm_peer.c) -------------------------------------------- */

/* Register the link handlers (loop thread, ctcm_init). */
void	ctcm_peer_init(void);
/* Push img (generation gen) to the peer and wait: 0 installed, or the
 * peer's status (errno, CTCM_E_NOTMASTER, CTCM_E_STALE) or a link
 * error (ENOTCONN, ETIMEDOUT). */
int	ctcm_peer_push(const struct buf *img, uint64_t gen);
/* Ask the peer for its numbers (ctcm_g.peer_*); 0 or link error. */
int	ctcm_peer_query(void);
/* When the peer's committed configuration ranks above ours: fetch it and
 * take it (adopt, install).  Caller holds ctcm_g.txn.  1 taken, 0 not
 * needed, <0 failed. */
int	ctcm_peer_pull(void);
/* Take an image as committed (from a push or a fetch): see docs/ctcm.md.
 * Caller holds ctcm_g.txn.  Returns the push status. */
int	ctcm_peer_accept(const uint8_t *img, size_t len, int pushed);
/* Restart the daemon soon (after a MONITOR head installed a valid
 * configuration), from a helper thread. */
void	ctcm_reexec_soon(void);

#endif

/*
 * brl.h — cluster byte-range locks and share reservations: one table of
 * POSIX-style range locks per file, held in memory on both heads.
 *
 * A file is (export id, kernel file handle): the same on both heads (the
 * kernel handle comes from name_to_handle_at on the shared filesystem),
 * so NFS (NLM) and the FUSE/SMB layer name the same file the same way.
 * An owner is (protocol, client, owner handle, svid); two requests
 * conflict when their owners differ, their ranges overlap and one of them
 * is exclusive.  Locks of one owner follow POSIX: a new lock replaces
 * whatever that owner held in its range (splitting and merging ranges),
 * an unlock removes the range (splitting what straddles it).  A blocked
 * request can wait (BRL_F_WAIT): waiters are granted in arrival order per
 * range, and the grant is announced through the grant callback.
 *
 * Replication: the head in master opmode arbitrates; the other head sends
 * every change to it.  A change is acknowledged (the call returns) only
 * when both heads hold it in memory, or only this head while the peer is
 * declared dead.  A takeover inherits every lock and waiter; a head that
 * (re)joins copies the whole table from the serving peer before it
 * answers anything.  Nothing here touches the disk: when the whole
 * cluster starts cold there is no table to inherit and the arbiter runs a
 * grace period (only reclaims are granted) — docs/locks.md.
 *
 * Return codes of the calls below: BRL_* results (>= 0).  Threading:
 * the calls block (one peer round trip) and are safe from any thread
 * EXCEPT the loop thread; brl_in_grace() and brl_stats_get() never
 * block.  Structures passed in are copied before return.
 */
#ifndef DUONAS_BRL_H
#define DUONAS_BRL_H
#include <stddef.h>
#include <stdint.h>

#define BRL_KH_MAX	41	/* kernel handle bytes (= NFS_FH_KMAX) */
#define BRL_CLIENT_MAX	256	/* client name incl. NUL */
#define BRL_OH_MAX	128	/* owner handle bytes */
#define BRL_BLOB_MAX	1024	/* a waiter's protocol data */

struct brl_file {
	uint32_t	expid;
	uint8_t		khtype;
	uint8_t		khlen;		/* 1..BRL_KH_MAX */
	uint8_t		kh[BRL_KH_MAX];
};

#define BRL_PROTO_NLM	1
#define BRL_PROTO_SMB	2	/* the FUSE export layer (smbd) */
#define BRL_PROTO_ADMIN	3	/* tests and `duonas locks` */

struct brl_owner {
	uint8_t		proto;		/* BRL_PROTO_* */
	uint8_t		ohlen;		/* 0..BRL_OH_MAX */
	uint32_t	svid;		/* NLM svid (the client's pid) */
	char		client[BRL_CLIENT_MAX];	/* NLM caller_name; NUL
						 * terminated, not empty */
	uint8_t		oh[BRL_OH_MAX];
};

struct brl_range {
	uint64_t	start;
	uint64_t	len;		/* 0: to the end of the file */
	int		excl;		/* 1 exclusive (write), 0 shared */
};

/* Results. */
#define BRL_OK		0	/* granted / done */
#define BRL_DENIED	1	/* conflict (holder filled in when asked) */
#define BRL_BLOCKED	2	/* conflict, waiter queued (BRL_F_WAIT) */
#define BRL_GRACE	3	/* grace period: only reclaims are served */
#define BRL_NOLOCKS	4	/* table limit reached */
#define BRL_UNAVAIL	5	/* not ready (joining, no arbiter reachable,
				 * shutting down): ask again later */
#define BRL_INVAL	6	/* malformed argument (length past 2^64...) */
#define BRL_DEADLCK	7	/* waiting would deadlock (owners waiting on
				 * each other) */

/* brl_lock() flags */
#define BRL_F_WAIT	0x1	/* queue a waiter when blocked */
#define BRL_F_RECLAIM	0x2	/* a reclaim after a cold start */

/*
 * Lock r for owner o on file f.  BRL_OK: held (also when o already held
 * it).  BRL_DENIED: a conflicting lock exists and BRL_F_WAIT was not
 * given; *holder / *hrange (either may be NULL) name one conflicting
 * lock.  BRL_BLOCKED: queued as a waiter (again BRL_BLOCKED when the
 * same waiter is asked for again); blob (up to BRL_BLOB_MAX bytes, e.g.
 * the NLM cookie and callback address) is kept with it and handed to
 * the grant callback.  BRL_GRACE: in the grace period and not a reclaim.
 */
int	brl_lock(const struct brl_file *f, const struct brl_owner *o,
	    const struct brl_range *r, int flags, const void *blob,
	    size_t bloblen, struct brl_owner *holder,
	    struct brl_range *hrange);
/* Unlock r (r->excl ignored) for o: BRL_OK also when o held nothing
 * there.  Hands the freed range to waiters. */
int	brl_unlock(const struct brl_file *f, const struct brl_owner *o,
	    const struct brl_range *r);
/* Would r conflict?  Reads this head's copy (no round trip).  BRL_OK,
 * BRL_DENIED (holder filled), BRL_GRACE, BRL_UNAVAIL. */
int	brl_test(const struct brl_file *f, const struct brl_owner *o,
	    const struct brl_range *r, struct brl_owner *holder,
	    struct brl_range *hrange);
/* Withdraw o's waiter for exactly r: BRL_OK, or BRL_DENIED when there
 * was no such waiter (e.g. it was granted meanwhile). */
int	brl_cancel(const struct brl_file *f, const struct brl_owner *o,
	    const struct brl_range *r);
/*
 * Share reservations (NLM SHARE, SMB open modes): access and deny are
 * bit sets, 1 read, 2 write.  A share conflicts with another owner's
 * when one's access meets the other's deny.  BRL_OK, BRL_DENIED,
 * BRL_GRACE (not a reclaim), BRL_NOLOCKS, BRL_UNAVAIL.  Unshare: BRL_OK
 * also when none was held.
 */
int	brl_share(const struct brl_file *f, const struct brl_owner *o,
	    unsigned access, unsigned deny, int flags);
int	brl_unshare(const struct brl_file *f, const struct brl_owner *o);
/*
 * Release every lock, waiter and share of (proto, client) — the NLM
 * FREE_ALL and a client's SM_NOTIFY (it rebooted), `duonas locks clear
 * --client`.  client NULL: of every client of proto; proto 0: of every
 * protocol.  *n (optional) receives how many entries went.  BRL_OK or
 * BRL_UNAVAIL.
 */
int	brl_free_client(uint8_t proto, const char *client, uint64_t *n);
/* Release everything held on export expid (`duonas locks clear
 * --export`).  Same returns. */
int	brl_free_export(uint32_t expid, uint64_t *n);
/* Release what (proto, client) holds on export expid (proto 0 / client
 * NULL: any) — the locks of a FUSE mount that stopped.  Same returns. */
int	brl_free_export_owner(uint32_t expid, uint8_t proto,
	    const char *client, uint64_t *n);

/*
 * Grant callback: a waiter became a lock.  Called on a brl thread (never
 * the loop thread; it may block a few seconds) on EACH head, with the
 * waiter's blob; it returns BRL_GRANT_NOTMINE when this head does not
 * serve f's export (the other head announces it), BRL_GRANT_DONE when
 * the client took the lock, BRL_GRANT_REFUSED when the client no longer
 * wants it (the lock is then released), BRL_GRANT_RETRY when the client
 * could not be reached (called again later, for at most 60 s, then the
 * lock stays held and the client's own retransmission finds it).
 */
#define BRL_GRANT_NOTMINE	0
#define BRL_GRANT_DONE		1
#define BRL_GRANT_REFUSED	2
#define BRL_GRANT_RETRY		3
typedef int (*brl_grant_fn)(const struct brl_file *f,
    const struct brl_owner *o, const struct brl_range *r, const void *blob,
    size_t bloblen, void *arg);
void	brl_set_grant_cb(brl_grant_fn fn, void *arg);

/* Grace period (cluster cold start): milliseconds left, 0 when none. */
uint64_t brl_in_grace(void);
/* Called once on the loop thread when this head starts a grace period
 * (a cold start): the NSM code notifies every monitored client. */
void	brl_set_cold_cb(void (*fn)(void *arg), void *arg);

/*
 * Listing for `duonas locks`: cb is called for every lock (waiting 0),
 * waiter (waiting 1) and share (r NULL; access/deny in the low bits of
 * waiting: 0x100 | access << 4 | deny) of this head's copy; stop with
 * non-zero.  Any thread, does not block on the peer.
 */
int	brl_list(int (*cb)(const struct brl_file *f, const struct brl_owner *o,
	    const struct brl_range *r, int waiting, void *arg), void *arg);
const char *brl_strerror(int rc);

struct brl_stats {
	uint64_t	files, locks, waiters, shares;
	uint64_t	ops;		/* lock/unlock/... calls served */
	uint64_t	forwarded;	/* sent to the arbiter */
	uint64_t	replicated;	/* changes sent to the peer */
	int		arbiter;	/* this head arbitrates */
	int		ready;		/* table valid (synced or cold start) */
	uint64_t	grace_ms;	/* left */
};
void	brl_stats_get(struct brl_stats *);

/* Module life, loop thread: after pso_init() (the cold start decision
 * is PSO's), grace_s from duonas.conf nlm { grace-period }. */
struct cfg;
int	brl_init(const struct cfg *cfg, int self_idx);
void	brl_shutdown(void);
/* For `duonas status`: text lines / one JSON object. */
struct buf;
void	brl_status_text(struct buf *);
void	brl_status_json(struct buf *);

#endif

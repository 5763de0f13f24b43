/*
 * pso.h — persistent shared objects: named values replicated between the
 * two heads, with cluster-wide exclusive locks.
 *
 * An object has a name (1..PSO_NAME_MAX-1 bytes, no NUL), an id derived
 * from the name (the same on both heads), a value (0..PSO_VALUE_MAX
 * bytes), a version that grows by one with every write, and flags
 * (persistent or volatile).  Each head stores every object in an LMDB
 * environment in its state directory.
 *
 * Writes: only the holder of the object's lock may write or delete.  A
 * write returns only after both heads have committed it durably (LMDB
 * commit; the peer first) — or only this head when the peer is declared
 * dead and cannot be reached.  A write the peer committed and this head
 * could not is reported committed; this head then refuses PSO until it
 * has caught up.  Versions never repeat (docs/pso.md, "Versions").
 * Locks: the head in master opmode arbitrates; the other asks over the
 * link.  Waiters are served in arrival order.  A lock held by a head that
 * dies is released by the survivor.
 *
 * Return codes: 0 ok, >0 errno value, <0 a PSO_* code; pso_strerror()
 * names every one.
 *
 * Threading: the calls below block and are safe from any thread EXCEPT
 * the loop thread (they wait for it); pso_strerror() is safe anywhere.
 * Lifetimes: buffers passed in are copied before return; values returned
 * are malloc'd and owned by the caller.
 */
#ifndef DUONAS_PSO_H
#define DUONAS_PSO_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"

#define PSO_NAME_MAX	256
#define PSO_VALUE_MAX	(1u << 20)

/* Flags */
#define PSO_PERSISTENT	0x1	/* survives a cold start of the cluster */
#define PSO_VOLATILE	0x0	/* value emptied when the cluster starts cold */

/* Codes, reserved range -30900 .. -30999 (LMDB uses -30799 .. -30780). */
#define PSO_NOTFOUND	(-30900)	/* no such object */
#define PSO_EXISTS	(-30901)	/* object already exists */
#define PSO_NOTLOCKED	(-30902)	/* caller does not hold the lock */
#define PSO_TIMEDOUT	(-30903)	/* lock not granted within timeout */
#define PSO_NOTREADY	(-30904)	/* resync with the peer in progress */
#define PSO_CORRUPT	(-30905)	/* local store damaged */
#define PSO_TOOBIG	(-30906)	/* value larger than PSO_VALUE_MAX */
#define PSO_BADNAME	(-30907)	/* empty, too long or contains NUL */
#define PSO_COLLISION	(-30908)	/* another name hashes to this id */
#define PSO_PEERFAIL	(-30909)	/* peer failed to commit (not acked) */
#define PSO_SHUTDOWN	(-30910)	/* daemon is stopping */
#define PSO_LOCKHELD	(-30911)	/* already held by this owner */
#define PSO_CONFLICT	(-30912)	/* peer kept a different record */
#define PSO_STORELOST	(-30913)	/* local store lost (pso reset) */

typedef uint64_t pso_id;

struct pso_info {
	pso_id		id;
	char		name[PSO_NAME_MAX];
	uint32_t	flags;
	uint64_t	version;
	uint32_t	len;		/* value length */
	uint64_t	mtime_ms;	/* wall clock of the last write */
	uint32_t	lock_node;	/* holder's node id, 0 = unlocked */
	uint64_t	lock_owner;
};

/* Lock owners are (this head, owner token): the token tells apart the
 * users on one head (a CLI session, an NFS client's lock owner ...). */

/* Open the store under statedir and join the cluster.  Called once on
 * the loop thread after link_init(); 0 or PSO code (logged). */
int		pso_init(const struct cfg *cfg, int self_idx);
void		pso_shutdown(void);

/* The id an object of this name has (pure; the same on both heads). */
pso_id		pso_name_id(const char *name);

int		pso_create(const char *name, uint32_t flags, pso_id *idp);
int		pso_exist(const char *name);	/* 0 or PSO_NOTFOUND */
int		pso_lookup(const char *name, pso_id *idp);
/* Read: *valp malloc'd (may be NULL when len 0); info optional. */
int		pso_read(pso_id id, void **valp, size_t *lenp,
		    struct pso_info *info);
int		pso_lock(pso_id id, uint64_t owner, int timeout_ms);
int		pso_write(pso_id id, uint64_t owner, const void *val,
		    size_t len, uint64_t *versionp);
int		pso_unlock(pso_id id, uint64_t owner);
int		pso_delete(pso_id id, uint64_t owner);
/* List: cb is called for each object (info only); stop with non-zero. */
int		pso_list(int (*cb)(const struct pso_info *, void *), void *arg);

const char	*pso_strerror(int rc);

/* Benchmark for `duonas pso bench`: count rounds of lock + write of vlen
 * bytes + unlock on id (which must exist) under owner.  lat_us (count
 * entries) receives each round's latency in microseconds, sorted
 * ascending.  Blocking, worker threads only; 0 or the first error. */
int		pso_bench(pso_id id, uint64_t owner, int count, size_t vlen,
		    uint64_t *lat_us);

/* State of this head's store (docs/pso.md, "Store damage and loss"). */
#define PSO_STORE_OK		0
#define PSO_STORE_DAMAGED	1	/* moved aside; recovering from peer */
#define PSO_STORE_LOST		2	/* pool says it held objects */
#define PSO_STORE_BEHIND	3	/* lacks writes the peer committed */

/* Status for `duonas status`: objects, locks held, sync state, counters. */
struct pso_stats {
	uint64_t	objects;
	uint64_t	locks_held;
	uint64_t	lock_waiters;
	uint64_t	writes;
	uint64_t	repl_applied;
	uint64_t	conflicts;	/* resolved by resync */
	int		synced;		/* 1 when resync with the peer done */
	int		arbiter;	/* 1 when this head arbitrates locks */
	int		store;		/* PSO_STORE_* */
};
void		pso_stats_get(struct pso_stats *);

/*
 * `duonas pso reset --confirm`: the administrator accepts that what this
 * head's store lacks (damaged, lost or behind) and cannot get from the
 * peer is gone; the head continues with the store it has.  Blocking
 * (marker I/O), worker threads.  0, EALREADY when the store is fine
 * (nothing to confirm), PSO_SHUTDOWN, or errno.
 */
int		pso_reset(void);

#endif

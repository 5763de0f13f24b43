/*
 * pso_int.h — what the pso/ files share: the record and its codecs, the
 * LMDB store (usable without the link, for tests), the peer message
 * codecs, and the module state shared by the lock, sync and API code.
 * Formats are described in docs/pso.md.
 */
#ifndef DUONAS_PSO_INT_H
#define DUONAS_PSO_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "common/util.h"
#include "pso/pso.h"

#define PSO_F_DELETED		0x80000000u	/* tombstone */
#define PSO_F_SOLO		0x40000000u	/* committed while the peer was
						 * declared dead (docs/pso.md) */
#define PSO_F_USER		PSO_PERSISTENT	/* flags a caller may set */
#define PSO_STORE_FORMAT	1
#define PSO_REC_FORMAT		1
#define PSO_MSG_FORMAT		2	/* 1 before issue 10 */
#define PSO_STORE_MAGIC		"DNSPSO\0\0"

/* Message types (link.h reserves 16..47 for pso). */
#define PSO_T_WRITE		16
#define PSO_T_LOCK		17
#define PSO_T_UNLOCK		18
#define PSO_T_CANCEL		19
#define PSO_T_LOCKEV		20
#define PSO_T_SYNC_BEGIN	21
#define PSO_T_SYNC_DIGEST	22
#define PSO_T_SYNC_FETCH	23
#define PSO_T_SYNC_PUSH		24
#define PSO_T_SYNC_LOCKS	25
#define PSO_T_SYNC_END		26

#define PSO_LOCKEV_GRANT	1
#define PSO_LOCKEV_RELEASE	2

#define PSO_DIGEST_MAX		65536	/* entries per SYNC_DIGEST page */
#define PSO_FETCH_MAX		8192	/* ids per SYNC_FETCH */
#define PSO_PUSH_BYTES		(8u << 20)

/* One object record.  name is NUL-terminated; val points into somebody
 * else's buffer (an LMDB page, a message) unless the owner says so. */
struct pso_rec {
	pso_id		 id;
	uint32_t	 flags;
	uint64_t	 version;
	uint64_t	 mtime_ms;
	char		 name[PSO_NAME_MAX];
	const void	*val;
	uint32_t	 len;
};

int	 pso_name_check(const char *name);
/* Record codecs (pso_msg.c).  with_id: messages carry the id, the store
 * key does. */
void	 pso_rec_encode(struct buf *, const struct pso_rec *, int with_id);
int	 pso_rec_decode(struct rd *, struct pso_rec *, int with_id);
/* Encoded size of a record in a message. */
size_t	 pso_rec_msglen(const struct pso_rec *);
/* The record's sum: FNV-1a 64 of its message encoding (docs/pso.md). */
uint64_t pso_rec_sum(const struct pso_rec *);

/* What pso_store_apply() did with one record (docs/pso.md, "Apply
 * rule"); version: the version stored afterwards. */
enum { PSO_AP_APPLIED, PSO_AP_SAME, PSO_AP_OLDER, PSO_AP_CONFLICT };
struct pso_apres {
	int		res;
	uint64_t	version;
};

/* ---- store (pso_store.c): any thread ---- */
struct pso_store;

/* Open or create the environment in dir (created).  data.mdb is
 * checked with pso_store_check() first.  0, errno, or PSO_CORRUPT
 * (logged, naming dir/data.mdb). */
int	 pso_store_open(const char *dir, long mapsize_mb, struct pso_store **);
void	 pso_store_close(struct pso_store *);
/* Pre-open check of an LMDB data file (docs/pso.md): 0 plausible, 1
 * absent or empty (a new store), PSO_CORRUPT with the reason in why, or
 * errno. */
int	 pso_store_check(const char *file, char *why, size_t whylen);
/* Rename dir/data.mdb to dir/data.mdb.damaged, remove lock.mdb. */
int	 pso_store_move_aside(const char *dir);
/* The store's id (meta "id"); whether data.mdb was absent or empty when
 * it was opened. */
uint64_t pso_store_id(const struct pso_store *);
int	 pso_store_created(const struct pso_store *);
/* The meta "recover" record: 0 none, PSO_RECOVER_*; set 0 deletes it. */
int	 pso_store_recover_get(struct pso_store *, int *reason);
int	 pso_store_recover_set(struct pso_store *, int reason);
/* Record of id, tombstones included; PSO_NOTFOUND when absent.  The
 * value is copied to *valp (malloc'd, NULL when empty) when valp is not
 * NULL; rec->val is then *valp. */
int	 pso_store_get(struct pso_store *, pso_id, struct pso_rec *,
	    void **valp);
/* Apply n records in one durable transaction, each only if newer than
 * the stored one (or whatever the version when force, unless SAME).
 * res (n entries, may be NULL) gets each outcome; *napplied (may be
 * NULL) counts the APPLIED.  0, errno (ENOSPC for a full map or disk)
 * or PSO_CORRUPT; on an error nothing was stored. */
int	 pso_store_apply(struct pso_store *, const struct pso_rec *, int n,
	    int force, struct pso_apres *res, int *napplied);
/* Call cb for each record with id > after, in id order, tombstones
 * included; rec->val valid only during cb.  cb returns non-zero to stop
 * (returned).  Runs in one read transaction. */
int	 pso_store_iter(struct pso_store *, pso_id after,
	    int (*cb)(const struct pso_rec *, void *), void *arg);
/* Records stored (tombstones included). */
int	 pso_store_count(struct pso_store *, uint64_t *);
/* Cold start: empty every live volatile object (version+1). */
int	 pso_store_empty_volatile(struct pso_store *, uint64_t mtime_ms,
	    uint64_t *nemptied);
/* The environment's file for messages. */
const char *pso_store_path(const struct pso_store *);

/* ---- peer messages (pso_msg.c): pure codecs ---- */
struct pso_m_lock {
	pso_id		id;
	uint32_t	node;
	uint64_t	owner;
	int32_t		timeout_ms;	/* LOCK only */
	uint8_t		retry;		/* LOCK only */
};
struct pso_m_lockent {
	uint8_t		op;		/* LOCKEV only */
	pso_id		id;
	uint32_t	node;
	uint64_t	owner;
};
struct pso_m_begin {
	int32_t		rc;		/* reply */
	uint8_t		serving;	/* reply */
	uint8_t		recovering;	/* reply: behind/damaged/lost */
	uint32_t	node;
	uint8_t		opmode;
	uint8_t		booting;	/* request */
	uint64_t	objects;	/* reply */
};
struct pso_m_dig {
	pso_id		id;
	uint64_t	version;
	uint64_t	sum;
	uint32_t	flags;
};

void	 pso_m_rc_enc(struct buf *, int32_t rc);
/* Answer a peer request with a bare status (loop thread; pso_lock.c). */
struct link_req;
void	 pso_reply_rc(struct link_req *, int32_t rc);
int	 pso_m_rc_dec(const uint8_t *, size_t, int32_t *rc);
/* WRITE reply: rc and the version the receiver stores afterwards. */
void	 pso_m_wrep_enc(struct buf *, int32_t rc, uint64_t version);
int	 pso_m_wrep_dec(const uint8_t *, size_t, int32_t *rc,
	    uint64_t *version);
/* LOCK (full=1) or UNLOCK/CANCEL (full=0). */
void	 pso_m_lock_enc(struct buf *, const struct pso_m_lock *, int full);
int	 pso_m_lock_dec(const uint8_t *, size_t, struct pso_m_lock *, int full);
/* LOCKEV (with op, no rc) or SYNC_LOCKS reply (rc, no op). *entp malloc'd. */
void	 pso_m_lockents_enc(struct buf *, const struct pso_m_lockent *,
	    uint32_t n, int lockev, int32_t rc);
int	 pso_m_lockents_dec(const uint8_t *, size_t, int lockev, int32_t *rc,
	    struct pso_m_lockent **entp, uint32_t *np);
void	 pso_m_begin_enc(struct buf *, const struct pso_m_begin *, int reply);
int	 pso_m_begin_dec(const uint8_t *, size_t, struct pso_m_begin *,
	    int reply);
void	 pso_m_digreq_enc(struct buf *, pso_id after, uint32_t max);
int	 pso_m_digreq_dec(const uint8_t *, size_t, pso_id *after,
	    uint32_t *max);
/* Digest reply: header, then pso_m_dig_add() n times, then finish. */
void	 pso_m_digrep_start(struct buf *, int32_t rc);
void	 pso_m_digrep_add(struct buf *, pso_id, uint64_t version,
	    uint64_t sum, uint32_t flags);
void	 pso_m_digrep_finish(struct buf *, int more, uint32_t n);
int	 pso_m_digrep_dec(const uint8_t *, size_t, int32_t *rc, int *more,
	    struct pso_m_dig **digp, uint32_t *np);
void	 pso_m_ids_enc(struct buf *, const pso_id *, uint32_t n);
int	 pso_m_ids_dec(const uint8_t *, size_t, pso_id **idsp, uint32_t *np);
/* Record lists: WRITE (single, no count), PUSH request (has_rc 0),
 * FETCH reply (has_rc 1).  Decoded records point into the payload. */
void	 pso_m_recs_start(struct buf *, int has_rc, int32_t rc);
void	 pso_m_recs_finish(struct buf *, int has_rc, uint32_t n);
int	 pso_m_recs_dec(const uint8_t *, size_t, int has_rc, int32_t *rc,
	    struct pso_rec **recsp, uint32_t *np);
void	 pso_m_write_enc(struct buf *, const struct pso_rec *);
int	 pso_m_write_dec(const uint8_t *, size_t, struct pso_rec *);
void	 pso_m_end_enc(struct buf *, uint64_t objects);
int	 pso_m_end_dec(const uint8_t *, size_t, uint64_t *objects);

/* ---- module state (pso.c) ---- */
enum pso_sync_state { PSO_SYNC_NONE, PSO_SYNC_SYNCING, PSO_SYNC_DONE };

/* Why a head may not serve PSO yet (docs/pso.md, "Store damage and
 * loss"); the same numbers as PSO_STORE_* in pso.h.  DAMAGED and LOST
 * are kept in the store's meta "recover", BEHIND in the marker. */
enum {
	PSO_RECOVER_NONE = PSO_STORE_OK,
	PSO_RECOVER_DAMAGED = PSO_STORE_DAMAGED,
	PSO_RECOVER_LOST = PSO_STORE_LOST,
	PSO_RECOVER_BEHIND = PSO_STORE_BEHIND,
};

struct pso_g {
	pthread_mutex_t		 mtx;	/* everything below, lock table */
	pthread_cond_t		 cond;	/* sync state changes */
	const struct cfg	*cfg;
	int			 running;
	uint32_t		 self_node, peer_node;
	int			 self_idx;	/* head slot in cfg */
	struct pso_store	*st;
	int			 mode;		/* enum ha_opmode */
	int			 peer_alive;
	int			 link_up;
	uint64_t		 peer_boot;
	enum pso_sync_state	 sync;
	int			 booting;	/* no sync done since start */
	int			 sync_thread;	/* a sync thread runs */
	int			 arbiter;
	int			 recover;	/* PSO_RECOVER_* */
	int			 resyncing;	/* resync with a serving peer */
	int			 resync_wanted;	/* a write's outcome unknown */
	uint64_t		 writes, repl_applied, lock_grants;
	uint64_t		 lock_contended, lock_timeouts, conflicts;
};
extern struct pso_g pso_g;

/* A synchronous link request from a worker thread (not the loop). */
struct pso_call {
	uint8_t		 type;
	struct buf	 req;
	int		 timeout_ms;
	int		 status;	/* link status: 0 or errno */
	uint8_t		*rep;		/* reply copy (malloc'd) */
	size_t		 replen;
	/* optional hook run on the loop thread with the reply */
	void		(*on_reply)(struct pso_call *, const uint8_t *, size_t);
	struct loop_wait w;
};
void	 pso_call_init(struct pso_call *, uint8_t type, int timeout_ms);
void	 pso_call_start(struct pso_call *);
int	 pso_call_wait(struct pso_call *);	/* returns status */
void	 pso_call_free(struct pso_call *);
int	 pso_ready_wait(void);
/* Every API call's entry: 0, or why this head cannot serve (waits for a
 * running resync, up to max(request-timeout, 5 s)). */
int	 pso_api_enter(void);
int	 pso_req_timeout(void);
void	 pso_set_synced(int cold);
/* fn(cold, arg) on the loop thread once this head had its first sync
 * since start (at once when that already happened): cold 1 when the
 * cluster started cold (nothing inherited), 0 when synced from a serving
 * peer.  Used by brl (docs/locks.md). */
void	 pso_set_synced_cb(void (*fn)(int cold, void *), void *arg);
/* Any thread: recompute the roles, start the sync thread when needed. */
void	 pso_state_kick(void);
/* Any thread, mtx not held: this head lacks a write the peer committed
 * (BEHIND: refuse until resynced) / may lack one (resync when possible). */
void	 pso_go_behind(void);
void	 pso_want_resync(void);

/* ---- writes (pso_write.c) ---- */
int	 pso_write_init(void);		/* writer thread, link handlers */
void	 pso_write_fini(void);
/* Every commit into the local store: pso_mark_populate() first, then
 * pso_store_apply(). */
int	 pso_apply(const struct pso_rec *, int n, int force,
	    struct pso_apres *res, int *napplied);

/* ---- marker and recovery states (pso_mark.c) ---- */
/* pso_init: open the store in dir (a damaged one is moved aside and a
 * new one created), read this head's marker, set pso_g.st and
 * pso_g.recover.  0 or errno / PSO code (logged). */
int	 pso_mark_open(const char *dir);
/* Before records are committed: the marker must say POPULATED for this
 * store (written once; blocking I/O, mtx not held). */
void	 pso_mark_populate(void);
/* Set BEHIND in the marker (best effort). */
void	 pso_mark_behind(void);
/* Sync thread, after a completed resync: recovery state cleared (store
 * and memory), marker rewritten.  0 or errno (still recovering). */
int	 pso_mark_synced(void);
/* pso_reset(): the administrator confirmed the loss.  0 or errno. */
int	 pso_mark_reset(void);

/* ---- locks (pso_lock.c) ---- */
void	 pso_lock_init(void);
void	 pso_lock_register(void);	/* link handlers */
void	 pso_lock_fini(void);
/* Holder of id (mtx held): 0 or PSO_NOTFOUND (unlocked). */
int	 pso_lock_holder(pso_id, uint32_t *node, uint64_t *owner);
/* For a write (mtx held), called by ver_next() only: the lock must be
 * ours; the version to use is above `above` (the highest version stored
 * anywhere that the writer knows of) and above the last one this lock
 * entry issued.  0 or PSO_NOTLOCKED. */
int	 pso_lock_next_version(pso_id, uint64_t owner, uint64_t above,
	    uint64_t *version);
uint64_t pso_lock_count(uint64_t *waiters);	/* mtx held */
/* Blocking lock/unlock from a worker thread. */
int	 pso_lock_do(pso_id, uint64_t owner, int timeout_ms, int unlock);
/* Loop thread: HA / link changes. */
void	 pso_lock_state_changed(int was_arbiter, int peer_lost);
void	 pso_lock_peer_restarted(void);
/* Loop thread, SYNC_LOCKS: snapshot / replace. */
void	 pso_lock_snapshot(struct buf *out);
void	 pso_lock_replace(const struct pso_m_lockent *, uint32_t n);

/* ---- resync (pso_sync.c) ---- */
void	 pso_sync_init(void);
void	 pso_sync_kick(void);		/* loop thread */

#endif

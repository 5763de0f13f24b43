/*
 * brl_int.h — what the brl files share: the pure lock table (no threads,
 * no link: brl_table.c, unit-tested on its own), its state codec, and the
 * hooks between the replication and the API code.  Formats and rules:
 * docs/locks.md.
 */
#ifndef DUONAS_BRL_INT_H
#define DUONAS_BRL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"
#include "pso/brl.h"

#define BRL_FMT			1	/* message format byte */
#define BRL_STATE_MAGIC		0xB5	/* first byte of a file state */
#define BRL_BUCKETS		65536
#define BRL_TOMB_MS		60000	/* tombstones kept this long */
#define BRL_FILE_MAX		8192	/* locks + waiters + shares per file */
#define BRL_LAST		UINT64_MAX	/* "to the end of the file" */

/* Link message types (link.h: 80..95 export; 80..83 are brl's). */
#define BRL_T_OP		80
#define BRL_T_PUT		81
#define BRL_T_SYNC		82

/* BRL_OP op codes. */
enum {
	BRL_OP_LOCK = 1, BRL_OP_UNLOCK, BRL_OP_CANCEL, BRL_OP_SHARE,
	BRL_OP_UNSHARE, BRL_OP_FREE_CLIENT, BRL_OP_FREE_EXPORT,
	BRL_OP_GRANT_DONE,
};
#define BRL_RC_NOTARB		100	/* reply: not the arbiter, ask again */

/* Lock and waiter flags in a state. */
#define BRL_LF_EXCL		0x1
#define BRL_LF_PENDING		0x2

struct brl_ent {		/* a lock or a waiter */
	struct brl_owner o;
	uint64_t	 start, last;	/* inclusive */
	int		 excl;
	int		 pending;	/* lock: grant not confirmed yet */
	uint64_t	 grant_id;	/* lock: version that granted it */
	uint64_t	 seq;		/* waiter: arrival order */
	uint8_t		*blob;		/* malloc'd; waiter, pending lock */
	uint16_t	 bloblen;
};

struct brl_share {
	struct brl_owner o;
	uint8_t		 access, deny;
};

struct brl_fent {
	struct brl_fent	*next;		/* hash chain */
	struct brl_file	 f;
	uint64_t	 version;
	uint64_t	 dead_ms;	/* tombstone since (0: live) */
	struct brl_ent	*locks;		/* sorted by (start, owner) */
	uint32_t	 nlocks, caplocks;
	struct brl_ent	*waiters;	/* arrival order */
	uint32_t	 nwaiters, capwaiters;
	struct brl_share *shares;
	uint32_t	 nshares, capshares;
};

struct brl_tab {
	struct brl_fent	**b;
	uint32_t	 nb;
	uint64_t	 files, locks, waiters, shares;
	uint64_t	 max_entries;	/* locks + waiters + shares */
	uint64_t	 maxver;	/* highest version issued or installed */
	uint64_t	 seq;		/* waiter arrival counter */
};

/* An operation on the table (also the BRL_OP payload). */
struct brl_op {
	uint8_t		 op;		/* BRL_OP_* */
	uint8_t		 flags;		/* BRL_F_* */
	struct brl_file	 f;
	struct brl_owner o;
	struct brl_range r;
	uint8_t		 access, deny;
	uint64_t	 grant_id;
	const void	*blob;
	uint16_t	 bloblen;
};

/* What an operation did. */
struct brl_res {
	int		 rc;		/* BRL_* */
	uint64_t	 n;		/* entries freed (free ops) */
	int		 has_holder;
	struct brl_owner holder;
	struct brl_range hrange;
	int		 changed;	/* some file changed */
};

/* ---- the pure table (brl_table.c); callers serialise ---- */
struct brl_tab	*brl_tab_new(uint32_t nbuckets, uint64_t max_entries);
void		 brl_tab_free(struct brl_tab *);
/* Drop every file (a resync replaces the table); maxver is kept. */
void		 brl_tab_clear(struct brl_tab *);
/* A live file / a live file or tombstone; NULL when absent. */
struct brl_fent	*brl_tab_find(struct brl_tab *, const struct brl_file *);
struct brl_fent	*brl_tab_find_any(struct brl_tab *, const struct brl_file *);
/* Check argument sanity of an op: BRL_OK or BRL_INVAL. */
int		 brl_op_check(const struct brl_op *);
/*
 * Apply op at the arbiter.  changed(fe, arg) is called for every file
 * whose state changed (after its version was bumped and its waiters were
 * granted); a file left empty is a tombstone then (dead_ms = now_ms).
 * In grace (grace != 0) a lock/share without BRL_F_RECLAIM is BRL_GRACE.
 */
void		 brl_tab_apply(struct brl_tab *, const struct brl_op *,
		    int grace, uint64_t now_ms, struct brl_res *,
		    void (*changed)(struct brl_fent *, void *), void *arg);
/* Conflict test against the held locks: BRL_OK or BRL_DENIED. */
int		 brl_tab_test(struct brl_tab *, const struct brl_file *,
		    const struct brl_owner *, const struct brl_range *,
		    struct brl_owner *holder, struct brl_range *hrange);
/* Install a decoded state (taken over: freed or linked) when newer than
 * this table's copy: 1 installed (*fep the entry), 0 older, ignored. */
int		 brl_tab_install(struct brl_tab *, struct brl_fent *,
		    uint64_t now_ms, struct brl_fent **fep);
/* Free tombstones older than BRL_TOMB_MS; returns how many. */
uint64_t	 brl_tab_reap(struct brl_tab *, uint64_t now_ms);
/* Iterate files of buckets [from, to). */
void		 brl_tab_walk(struct brl_tab *, uint32_t from, uint32_t to,
		    void (*cb)(struct brl_fent *, void *), void *arg);

/* Internals of brl_table.c shared with brl_ops.c. */
int		 brl_overlap(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2);
void		 brl_ent_free(struct brl_ent *);
void		 brl_ent_copy(struct brl_ent *dst, const struct brl_ent *src);
int		 brl_ent_cmp(const void *, const void *);	/* qsort */
struct brl_ent	*brl_locks_add(struct brl_fent *);
struct brl_ent	*brl_waiters_add(struct brl_fent *);
struct brl_share *brl_shares_add(struct brl_fent *);
int		 brl_fent_empty(const struct brl_fent *);
/* The live entry of f: created, or a tombstone brought back. */
struct brl_fent	*brl_tab_get(struct brl_tab *, const struct brl_file *);
uint64_t	 brl_tab_entries(const struct brl_tab *);
/* Would `more` entries pass the limit? */
int		 brl_tab_full(const struct brl_tab *, uint64_t more);
/* Remove element i of an array of n keeping the order. */
#define BRL_ARR_DEL(arr, n, i) do {					\
	memmove(&(arr)[(i)], &(arr)[(i) + 1],				\
	    ((n) - (i) - 1) * sizeof(*(arr)));				\
	(n)--;								\
} while (0)

/* Codec (brl_codec.c).  A state decodes into a new entry
 * (brl_fent_free). */
void		 brl_state_enc(struct buf *, const struct brl_fent *);
struct brl_fent	*brl_state_dec(struct rd *, const char **why);
void		 brl_fent_free(struct brl_fent *);
void		 brl_owner_enc(struct buf *, const struct brl_owner *);
int		 brl_owner_dec(struct rd *, struct brl_owner *, int allow_empty);
void		 brl_file_enc(struct buf *, const struct brl_file *);
int		 brl_file_dec(struct rd *, struct brl_file *);
void		 brl_op_enc(struct buf *, const struct brl_op *);
/* The blob points into the payload. 0 or -1 (why set). */
int		 brl_op_dec(const uint8_t *, size_t, struct brl_op *,
		    const char **why);
/* Range helpers: [start, last] from (start, len); -1 on overflow. */
int		 brl_range_last(const struct brl_range *, uint64_t *last);
void		 brl_range_out(uint64_t start, uint64_t last, int excl,
		    struct brl_range *);
int		 brl_owner_eq(const struct brl_owner *, const struct brl_owner *);
/* Sane owner (allow_empty: proto 0 / no client, for free ops) / file. */
int		 brl_owner_ok(const struct brl_owner *, int allow_empty);
int		 brl_file_ok(const struct brl_file *);
/* Replace e's blob by a copy of len bytes. */
void		 brl_ent_set_blob(struct brl_ent *, const void *, size_t);

/* ---- replication (brl_repl.c) and API (brl_api.c) ---- */
#include <pthread.h>
#include "common/loop.h"

struct brl_g {
	pthread_mutex_t	 mtx;		/* the table and everything below */
	struct brl_tab	*tab;
	int		 running;
	int		 ready;		/* table valid (docs/locks.md) */
	int		 arbiter;
	int		 mode;		/* enum ha_opmode */
	int		 peer_alive;
	int		 link_up;
	int		 diverged;	/* the link was down since the peer
					 * last copied or was sent all */
	int		 grace_s;
	uint64_t	 grace_until;	/* now_ms() when grace ends, 0 none */
	uint64_t	 ops, forwarded, replicated;
};
extern struct brl_g brl_g;

struct brl_chunks;
struct event;
/* One call from a worker thread, driven on the loop thread. */
struct brl_call {
	struct brl_op	 op;		/* in */
	struct brl_res	 res;		/* out */
	uint64_t	 deadline;	/* now_ms() */
	struct event	*timer;
	struct brl_chunks *put;		/* arbiter: PUTs to send */
	uint32_t	 put_idx;
	int		 inflight;
	struct loop_wait w;
};
/* Worker threads: run c->op at the arbiter; returns c->res.rc. */
int		 brl_call_run(struct brl_call *);
/* Milliseconds of grace left (any thread; logs its end once). */
uint64_t	 brl_grace_left(void);
int		 brl_repl_init(const struct cfg *);
void		 brl_repl_fini(void);
/* brl_api.c: queue grant callbacks for fe's pending grants (brl_g.mtx
 * held); call the cold callback (loop thread). */
void		 brl_grants_scan(const struct brl_fent *);
void		 brl_cold_notify(void);
/* Tests: what grants to protocol admin owners of client (NULL: every
 * client; the others then answer BRL_GRANT_DONE, the default) answer. */
void		 brl_admin_grant_answer(int answer, const char *client);
/* brl_list, with pending 1: a lock whose grant is not confirmed yet is
 * reported with waiting 2 (`duonas locks`). */
int		 brl_list_ex(int (*cb)(const struct brl_file *,
		    const struct brl_owner *, const struct brl_range *, int,
		    void *), void *arg, int pending);

#endif

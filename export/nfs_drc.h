/*
 * nfs_drc.h — the duplicate request cache beyond the lookup/complete API
 * of nfs_int.h: its size and age, its wire format on the peer link, the
 * replication to the peer head (nfs_drc_repl.c) and its counters.
 *
 * docs/nfs.md ("Duplicate request cache") says what it is for,
 * docs/link-protocol.md has the link messages (types 88 and 89).
 */
#ifndef DUONAS_NFS_DRC_H
#define DUONAS_NFS_DRC_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"

struct buf;

#define NFS_DRC_SIZE_DEF	CFG_NFS_DRC_SIZE	/* nfs { drc-size } */
#define NFS_DRC_MAX_AGE_DEF	CFG_NFS_DRC_MAX_AGE	/* drc-max-age, s */
#define NFS_DRC_REPLY_MAX	8192	/* longer replies stay local */

/* ---- the cache (nfs_drc.c), any thread ---------------------------------- */

/* Size (entries, this head's and the peer's together) and age limit
 * (seconds since the reply) of the cache; <= 0 means the default.  A
 * new size drops every entry.  Called by nfs_init(). */
void	nfs_drc_configure(int size, int max_age_s);

/* One entry as it travels: key + the body of the original reply. */
struct nfs_drc_rec {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 addr[16];	/* IPv4: first 4 bytes, rest 0 */
	uint32_t	 xid, prog, vers, proc;
	uint32_t	 age_ms;	/* since the reply, when sent */
	const uint8_t	*reply;
	uint32_t	 len;
};

/* Store an entry from the peer as DONE, aged age_ms.  An entry with the
 * same key that is already here is kept (0); 1 when stored. */
int	nfs_drc_insert(const struct nfs_drc_rec *);

/* Every DONE entry younger than the age limit, this head's and the
 * peer's, to fn (under the cache mutex: fn must not call the cache).
 * Returns the number of entries. */
size_t	nfs_drc_foreach(void (*fn)(const struct nfs_drc_rec *, void *),
	    void *arg);

/*
 * nfs_drc_complete() without blocking the worker: the entry is DONE here
 * at once; returns 1 when the reply must wait for the peer's
 * acknowledgement: done(arg) is then called later, on the loop thread,
 * when the peer has the entry or must not be waited for any more (the
 * caller touches nothing it passed after returning 1; reply is copied
 * before).  0: send the reply now (done is not called).
 */
int	nfs_drc_complete_async(int slot, uint32_t xid, const uint8_t *reply,
	    size_t len, void (*done)(void *), void *arg);

/* The replication hook (nfs_drc_repl.c installs it), called on the
 * worker after the entry is DONE here and before the reply is sent.
 * done NULL (nfs_drc_complete): return when the peer has the entry or
 * must not be waited for, 0 (on the loop thread: at once, the entry is
 * only sent).  done set: return 1 if done(arg) will be
 * called from the loop thread then, 0 if there is nothing to wait for. */
typedef int (*nfs_drc_repl_fn)(const struct nfs_drc_rec *,
	    void (*done)(void *), void *arg);
/* flush: on the loop thread, call every pending done() now. */
void	nfs_drc_set_repl(nfs_drc_repl_fn, void (*flush)(void));
/* Loop thread, the workers stopped (nfs_shutdown): every reply parked
 * for an acknowledgement is handed back now (to be freed). */
void	nfs_drc_flush(void);

struct nfs_drc_stat {
	uint64_t	entries;	/* in the cache, any state */
	uint64_t	peer;		/* of those: received from the peer */
	uint64_t	size;		/* the bound */
	uint64_t	max_age_s;
	uint64_t	hits;		/* retransmissions answered/dropped */
	uint64_t	peer_hits;	/* of those: from a peer entry */
	uint64_t	received;	/* entries the peer sent us */
	/* nfs_drc_repl.c */
	uint64_t	replicated;	/* entries the peer acknowledged */
	uint64_t	batches;	/* messages that carried them */
	uint64_t	unacked;	/* sent, no acknowledgement in time */
	uint64_t	local_only;	/* not sent: peer dead / link down */
	uint64_t	pushed;		/* sent at a rejoin */
};
void	nfs_drc_stat(struct nfs_drc_stat *);
/* Counters nfs_drc_repl.c keeps here (so the status needs no link). */
enum nfs_drc_ctr { NFS_DRC_C_REPLICATED, NFS_DRC_C_BATCHES,
	NFS_DRC_C_UNACKED, NFS_DRC_C_LOCAL_ONLY, NFS_DRC_C_PUSHED,
	NFS_DRC_C_N };
void	nfs_drc_count(enum nfs_drc_ctr, uint64_t n);
/* "drc: ..." lines and a JSON object (for nfs_status_*). */
void	nfs_drc_status_text(struct buf *);
void	nfs_drc_status_json(struct buf *);

/* ---- wire format (nfs_drc.c), pure -------------------------------------- */

#define NFS_DRC_FMT		1
#define NFS_DRC_HDR_LEN		4	/* format, flags, u16 count */
#define NFS_DRC_ENT_FIXED	44	/* entry without the reply bytes */
#define NFS_DRC_ACK_LEN		8

/* Start a message (format byte, flags 0, count 0) and add one entry;
 * nfs_drc_wire_count patches the count (at most 65535 entries). */
void	nfs_drc_wire_start(struct buf *);
void	nfs_drc_wire_add(struct buf *, const struct nfs_drc_rec *);
void	nfs_drc_wire_count(struct buf *, uint16_t n);
/* Check a whole message and call fn for each entry (whose reply points
 * into p).  Returns the number of entries, or -1 with err set when the
 * message is malformed (then fn was not called at all). */
int	nfs_drc_wire_parse(const uint8_t *p, size_t len,
	    void (*fn)(const struct nfs_drc_rec *, void *), void *arg,
	    char *err, size_t errlen);
/* The acknowledgement: format, status (0 ok, 1 refused), 0, 0, u32
 * entries stored.  parse: 0 with *stored, or -1 (err). */
void	nfs_drc_ack_make(uint8_t out[NFS_DRC_ACK_LEN], int status,
	    uint32_t stored);
int	nfs_drc_ack_parse(const uint8_t *p, size_t len, uint32_t *stored,
	    char *err, size_t errlen);

/* ---- replication (nfs_drc_repl.c), loop thread --------------------------- */

/* Register the link message types and state callbacks and install the
 * replication hook.  Once, before the NFS service answers calls. */
void	nfs_drc_repl_init(void);
/* The HA controller's view of the peer (ha_opmode_register): while it
 * is dead nobody waits for it. */
void	nfs_drc_repl_peer_alive(int alive);

#endif

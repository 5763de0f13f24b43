/*
 * nfs_drc_repl.c — the duplicate request cache replicated to the peer
 * head, so a client that retransmits after a takeover or a giveback
 * (same xid, same address) gets the original reply from the survivor.
 *
 * Completion (group commit): the worker that finished a non-idempotent
 * call encodes its DRC entry and queues it; while the peer is alive and
 * the link up, the reply is sent to the client only when the peer
 * acknowledged the entry: NFS v3 calls park the encoded reply and the
 * worker goes on (nfs_drc_complete_async; the acknowledgement hands the
 * request back to a worker, which sends it), other callers wait (struct
 * loop_wait) in nfs_drc_complete().  The loop thread keeps
 * at most one message (type 88) in flight: entries that complete while
 * it travels go together in the next one, so many clients cost one link
 * round trip per batch, not per call.  No wait when the HA controller
 * says the peer is dead or the link is down (the entry stays local and
 * reaches the peer at its rejoin); a message not acknowledged within
 * ACK_MS releases its waiters, and until the next acknowledgement
 * entries are still sent but nobody waits (a slow link costs every call
 * at most ACK_MS once, not each time).
 *
 * Rejoin: whenever the link comes up (a restarted peer, a healed
 * partition) this head pushes every live entry of its cache in chunks
 * (type 89), one at a time, so a retransmission that reaches the peer
 * after a giveback is answered too.  The peer stores what it receives
 * as DONE entries of its own cache (nfs_drc_insert), in the same bounded
 * ring.
 *
 * Threading: link callbacks and everything in the rp "loop" part run on
 * the loop thread; the hook runs on NFS workers and touches only the
 * queue under rp.mtx.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/nfs_drc.h"
#include "link/link.h"

#define DRC_T_ENTRIES	(LINK_T_EXP_FIRST + 8)	/* 88, docs/link-protocol.md */
#define DRC_T_PUSH	(LINK_T_EXP_FIRST + 9)	/* 89 */
#define ACK_MS		2000	/* a worker waits for the peer at most */
#define PUSH_MS		10000
#define BATCH_MAX	1024	/* entries per message */
#define BATCH_BYTES	(1u << 20)
#define PUSH_CHUNK	256	/* entries per rejoin message */

/* A completed entry on its way to the peer. */
struct item {
	struct item		*next;
	struct loop_wait	*w;	/* the worker waiting, or NULL */
	void			(*done)(void *); /* or the reply parked */
	void			*arg;
	struct buf		 ent;	/* the encoded entry */
};

/* One message in flight. */
struct batch {
	struct item	*items;
	uint32_t	 n;
};

static struct {
	pthread_mutex_t	 mtx;
	/* mtx: the queue and what workers look at */
	struct item	*pend, **ptail;
	uint32_t	 npend;
	size_t		 pbytes;
	int		 kicked;	/* kick_cb queued on the loop */
	int		 send;		/* link up: entries go to the peer */
	int		 wait;		/* ... and workers wait for acks */
	/* loop thread only */
	int		 on;
	int		 link_up, peer_alive, slow;
	struct batch	*inflight;
	struct buf	*chunks;	/* rejoin push */
	size_t		 nchunks, next;
	uint32_t	*chunkn;
	uint64_t	 push_gen;
	struct log_ratelim rl;
} rp = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.ptail = &rp.pend,
};

static void	send_next(void);

static void
item_free(struct item *it)
{
	buf_free(&it->ent);
	free(it);
}

/* Let the worker of it go on (its reply is sent). */
static void
item_release(struct item *it, int rc)
{
	if (it->w != NULL) {
		loop_wait_done(it->w, rc);
		it->w = NULL;
	}
	if (it->done != NULL) {
		it->done(it->arg);
		it->done = NULL;
	}
}

/* Loop thread: recompute what workers do.  When nothing may be sent
 * any more the queue is dropped (the peer gets the entries at its
 * rejoin); when nobody may wait, every waiter is released now (queued
 * entries are still sent). */
static void
flags_update(void)
{
	struct item	*it, *list = NULL, *rel = NULL, **rtail = &rel;

	pthread_mutex_lock(&rp.mtx);
	rp.send = rp.on && rp.link_up;
	rp.wait = rp.send && rp.peer_alive && !rp.slow;
	if (!rp.send) {
		list = rp.pend;
		rp.pend = NULL;
		rp.ptail = &rp.pend;
		rp.npend = 0;
		rp.pbytes = 0;
	} else if (!rp.wait) {
		/* move the waiters out; their items stay queued */
		for (it = rp.pend; it != NULL; it = it->next) {
			if (it->w == NULL && it->done == NULL)
				continue;
			*rtail = xcalloc(1, sizeof(**rtail));
			(*rtail)->w = it->w;
			(*rtail)->done = it->done;
			(*rtail)->arg = it->arg;
			buf_init(&(*rtail)->ent);
			rtail = &(*rtail)->next;
			it->w = NULL;
			it->done = NULL;
		}
	}
	pthread_mutex_unlock(&rp.mtx);
	for (*rtail = list; (it = rel) != NULL; ) {
		rel = it->next;
		item_release(it, -1);
		item_free(it);
	}
	/* the message in flight will fail or time out: its workers do not
	 * wait for that when the peer is dead or unreachable */
	if (!rp.wait && rp.inflight != NULL)
		for (it = rp.inflight->items; it != NULL; it = it->next)
			item_release(it, -1);
}

static void
kick_cb(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rp.mtx);
	rp.kicked = 0;
	pthread_mutex_unlock(&rp.mtx);
	send_next();
}

/* Worker thread: nfs_drc_complete() (done NULL: wait here) or
 * nfs_drc_complete_async() (done(arg) when acknowledged: 1) hands over
 * an entry. */
static int
repl_hook(const struct nfs_drc_rec *rec, void (*done)(void *), void *arg)
{
	struct loop_wait	 w;
	struct item		*it;
	int			 waitit, kick;

	it = xcalloc(1, sizeof(*it));
	buf_init(&it->ent);
	nfs_drc_wire_add(&it->ent, rec);
	pthread_mutex_lock(&rp.mtx);
	if (!rp.send) {
		pthread_mutex_unlock(&rp.mtx);
		nfs_drc_count(NFS_DRC_C_LOCAL_ONLY, 1);
		item_free(it);
		return 0;
	}
	/* the loop thread itself cannot wait for the loop: send only */
	waitit = rp.wait && (done != NULL || !loop_is_thread());
	if (waitit && done != NULL) {
		it->done = done;
		it->arg = arg;
	} else if (waitit) {
		loop_wait_init(&w);
		it->w = &w;
	}
	*rp.ptail = it;
	rp.ptail = &it->next;
	rp.npend++;
	rp.pbytes += it->ent.len;
	kick = !rp.kicked;
	rp.kicked = 1;
	pthread_mutex_unlock(&rp.mtx);
	if (kick)
		loop_call(kick_cb, NULL);
	if (waitit && done != NULL)
		return 1;
	if (waitit) {
		loop_wait(&w);
		loop_wait_destroy(&w);
	}
	return 0;
}

static void
batch_done(int status, const uint8_t *p, size_t len, void *arg)
{
	struct batch	*b = arg;
	struct item	*it;
	uint32_t	 stored;
	char		 err[160], more[64];
	int		 ok = 0;

	if (status != 0)
		snprintf(err, sizeof(err), "%s", strerror(status));
	else if (nfs_drc_ack_parse(p, len, &stored, err, sizeof(err)) == 0)
		ok = 1;
	if (ok) {
		nfs_drc_count(NFS_DRC_C_REPLICATED, b->n);
		nfs_drc_count(NFS_DRC_C_BATCHES, 1);
		if (rp.slow) {
			log_info("drc: the peer acknowledges again: calls "
			    "wait for it");
			rp.slow = 0;
			flags_update();
		}
	} else {
		nfs_drc_count(NFS_DRC_C_UNACKED, b->n);
		if (rp.link_up && log_ratelim_ok(&rp.rl, more, sizeof(more)))
			log_warnx("drc: %u entries not acknowledged by the "
			    "peer: %s%s", b->n, err, more);
		if (status == ETIMEDOUT && !rp.slow && rp.link_up) {
			log_warnx("drc: the peer is slow: calls no longer "
			    "wait for its acknowledgement until it answers");
			rp.slow = 1;
			flags_update();
		}
	}
	while ((it = b->items) != NULL) {
		b->items = it->next;
		item_release(it, ok ? 0 : -1);
		item_free(it);
	}
	free(b);
	rp.inflight = NULL;
	send_next();
}

/* Loop thread: send the queue (or its first BATCH_MAX entries) unless a
 * message is in flight; its completion sends the rest. */
static void
send_next(void)
{
	struct batch	*b;
	struct item	*it, **pp;
	struct buf	 msg;
	size_t		 bytes = 0;

	if (rp.inflight != NULL)
		return;
	pthread_mutex_lock(&rp.mtx);
	if (rp.pend == NULL) {
		pthread_mutex_unlock(&rp.mtx);
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->items = rp.pend;
	for (pp = &rp.pend; *pp != NULL && b->n < BATCH_MAX &&
	    (b->n == 0 || bytes + (*pp)->ent.len <= BATCH_BYTES);
	    pp = &(*pp)->next) {
		bytes += (*pp)->ent.len;
		b->n++;
	}
	rp.pend = *pp;
	*pp = NULL;
	if (rp.pend == NULL)
		rp.ptail = &rp.pend;
	rp.npend -= b->n;
	rp.pbytes -= bytes;
	pthread_mutex_unlock(&rp.mtx);

	buf_init(&msg);
	buf_reserve(&msg, NFS_DRC_HDR_LEN + bytes);
	nfs_drc_wire_start(&msg);
	for (it = b->items; it != NULL; it = it->next)
		buf_add(&msg, it->ent.data, it->ent.len);
	nfs_drc_wire_count(&msg, (uint16_t)b->n);
	rp.inflight = b;
	link_request(DRC_T_ENTRIES, msg.data, msg.len, ACK_MS, batch_done, b);
	buf_free(&msg);
}

/* ---- receiving ---------------------------------------------------------- */

static void
store_cb(const struct nfs_drc_rec *r, void *arg)
{
	uint32_t *stored = arg;

	*stored += (uint32_t)nfs_drc_insert(r);
}

static void
rx_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	uint8_t		 ack[NFS_DRC_ACK_LEN];
	uint32_t	 stored = 0;
	char		 err[160], more[64];
	static struct log_ratelim rl;

	(void)arg;
	if (nfs_drc_wire_parse(p, len, store_cb, &stored, err,
	    sizeof(err)) < 0) {
		if (log_ratelim_ok(&rl, more, sizeof(more)))
			log_warnx("drc: malformed message (type %u, %zu bytes) "
			    "from the peer: %s%s", type, len, err, more);
		nfs_drc_ack_make(ack, 1, 0);
	} else
		nfs_drc_ack_make(ack, 0, stored);
	if (rq != NULL)
		link_reply(rq, ack, sizeof(ack));
}

/* ---- rejoin push -------------------------------------------------------- */

struct snap {
	struct buf	*chunks;
	uint32_t	*n;
	size_t		 nchunks;
};

static void
snap_cb(const struct nfs_drc_rec *r, void *arg)
{
	struct snap	*s = arg;
	struct buf	*b;

	if (s->nchunks == 0 || s->n[s->nchunks - 1] == PUSH_CHUNK ||
	    s->chunks[s->nchunks - 1].len > BATCH_BYTES) {
		s->chunks = xrealloc(s->chunks, (s->nchunks + 1) *
		    sizeof(*s->chunks));
		s->n = xrealloc(s->n, (s->nchunks + 1) * sizeof(*s->n));
		b = &s->chunks[s->nchunks];
		buf_init(b);
		nfs_drc_wire_start(b);
		s->n[s->nchunks++] = 0;
	}
	b = &s->chunks[s->nchunks - 1];
	nfs_drc_wire_add(b, r);
	nfs_drc_wire_count(b, (uint16_t)++s->n[s->nchunks - 1]);
}

static void
push_free(void)
{
	for (size_t i = 0; i < rp.nchunks; i++)
		buf_free(&rp.chunks[i]);
	free(rp.chunks);
	free(rp.chunkn);
	rp.chunks = NULL;
	rp.chunkn = NULL;
	rp.nchunks = rp.next = 0;
}

static void	push_send(void);

static void
push_done(int status, const uint8_t *p, size_t len, void *arg)
{
	uint64_t	 gen = (uint64_t)(uintptr_t)arg;
	uint32_t	 stored;
	char		 err[160];

	if (gen != rp.push_gen)
		return;		/* an older push, replaced */
	if (status != 0)
		snprintf(err, sizeof(err), "%s", strerror(status));
	if (status != 0 || nfs_drc_ack_parse(p, len, &stored, err,
	    sizeof(err)) < 0) {
		log_warnx("drc: rejoin: the peer did not take %zu of %zu "
		    "chunks: %s", rp.nchunks - rp.next + 1, rp.nchunks, err);
		push_free();
		return;
	}
	nfs_drc_count(NFS_DRC_C_PUSHED, rp.chunkn[rp.next - 1]);
	push_send();
}

static void
push_send(void)
{
	struct buf *b;

	if (rp.next == rp.nchunks) {
		if (rp.nchunks > 0)
			log_info("drc: rejoin: the peer has our %zu chunk(s) "
			    "of entries", rp.nchunks);
		push_free();
		return;
	}
	b = &rp.chunks[rp.next++];
	link_request(DRC_T_PUSH, b->data, b->len, PUSH_MS, push_done,
	    (void *)(uintptr_t)rp.push_gen);
}

/* The link came up: send the peer everything we have. */
static void
push_start(void)
{
	struct snap	s;
	size_t		n;

	push_free();
	rp.push_gen++;
	memset(&s, 0, sizeof(s));
	n = nfs_drc_foreach(snap_cb, &s);
	rp.chunks = s.chunks;
	rp.chunkn = s.n;
	rp.nchunks = s.nchunks;
	rp.next = 0;
	if (n > 0)
		log_info("drc: peer link up: pushing %zu entries", n);
	push_send();
}

static void
state_cb(int up, uint64_t boot_id, void *arg)
{
	(void)boot_id;
	(void)arg;
	rp.link_up = up;
	rp.slow = 0;
	flags_update();		/* before the snapshot: see push_start */
	if (up)
		push_start();
	else {
		rp.push_gen++;
		push_free();
	}
}

/* The NFS workers stopped: hand every parked reply back (the pool
 * frees them); the entries are still sent. */
static void
repl_flush(void)
{
	struct item *it, *list;

	pthread_mutex_lock(&rp.mtx);
	list = rp.pend;
	pthread_mutex_unlock(&rp.mtx);
	/* workers are gone: nobody appends while we walk */
	for (it = list; it != NULL; it = it->next)
		item_release(it, -1);
	if (rp.inflight != NULL)
		for (it = rp.inflight->items; it != NULL; it = it->next)
			item_release(it, -1);
}

void
nfs_drc_repl_peer_alive(int alive)
{
	rp.peer_alive = alive;
	flags_update();
}

void
nfs_drc_repl_init(void)
{
	link_register(DRC_T_ENTRIES, rx_cb, NULL);
	link_register(DRC_T_PUSH, rx_cb, NULL);
	link_on_state(state_cb, NULL);
	rp.on = 1;
	rp.link_up = link_peer_up();
	flags_update();
	nfs_drc_set_repl(repl_hook, repl_flush);
}

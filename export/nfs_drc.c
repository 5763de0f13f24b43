/*
 * nfs_drc.c — the duplicate request cache for non-idempotent calls, and
 * the wire format its entries travel in to the peer head.
 *
 * Keyed by client address (not port: clients reconnect from new ports)
 * + xid + program/version/procedure, so the NFS v3 procedures and NLM
 * share it.  A call is entered IN PROGRESS when it is dispatched; a
 * retransmission that arrives meanwhile is dropped, one that arrives
 * after the reply was sent gets the same encoded reply bytes again, so a
 * retried REMOVE or CREATE does not turn into NOENT or EXIST.
 *
 * The table is a ring of drc-size slots (the oldest entry makes room)
 * with hash chains for lookup; a DONE entry older than drc-max-age
 * counts as absent.  Entries are self-contained (key + reply bytes):
 * nfs_drc_complete() hands each one to the replication hook
 * (nfs_drc_repl.c) before the reply goes out, and entries the peer sent
 * are stored here as DONE in the same ring, so they count against the
 * same bound.  nfs_drc_complete_async() is the same without blocking the
 * worker: the reply is sent when the peer acknowledged.  Any thread: one mutex guards the table; the hook runs
 * outside it.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "export/nfs_drc.h"
#include "export/nfs_int.h"

#define DRC_SIZE_MIN	16
#define DRC_SIZE_MAX	(1 << 20)

struct drc_ent {
	int		 used;
	int		 next;		/* hash chain, -1 ends */
	int		 peer;		/* stored from the peer's message */
	uint8_t		 family;	/* 4 or 6, 0: not an IP address */
	uint8_t		 addr[16];
	uint32_t	 xid, prog, vers, proc;
	enum nfs_drc_state state;
	uint64_t	 done_ms;	/* now_ms() of the reply */
	uint8_t		*reply;
	size_t		 len;
};

static struct {
	pthread_mutex_t	 mtx;
	struct drc_ent	*ent;		/* size slots */
	int		*head;		/* nhash chains */
	int		 size, nhash;
	int		 clock;		/* next slot to reuse */
	uint64_t	 max_age_ms;
	uint64_t	 entries, peer;
	uint64_t	 hits, peer_hits, received;
	nfs_drc_repl_fn	 repl;
	void		(*flush)(void);
} drc = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.max_age_ms = NFS_DRC_MAX_AGE_DEF * 1000ull,
};

/* Counters of nfs_drc_repl.c, kept here so the status works without it. */
static _Atomic uint64_t	ctr[NFS_DRC_C_N];

/* Caller holds the mutex. */
static void
drc_alloc(int size)
{
	for (int i = 0; drc.ent != NULL && i < drc.size; i++)
		free(drc.ent[i].reply);
	free(drc.ent);
	free(drc.head);
	drc.size = size;
	drc.nhash = 2 * size;
	drc.ent = xcalloc((size_t)size, sizeof(*drc.ent));
	drc.head = xmalloc((size_t)drc.nhash * sizeof(*drc.head));
	for (int i = 0; i < drc.nhash; i++)
		drc.head[i] = -1;
	drc.clock = 0;
	drc.entries = drc.peer = 0;
}

void
nfs_drc_configure(int size, int max_age_s)
{
	if (size <= 0)
		size = NFS_DRC_SIZE_DEF;
	size = MAX(DRC_SIZE_MIN, MIN(size, DRC_SIZE_MAX));
	if (max_age_s <= 0)
		max_age_s = NFS_DRC_MAX_AGE_DEF;
	pthread_mutex_lock(&drc.mtx);
	if (drc.ent == NULL || size != drc.size)
		drc_alloc(size);
	drc.max_age_ms = (uint64_t)max_age_s * 1000;
	pthread_mutex_unlock(&drc.mtx);
}

void
nfs_drc_set_repl(nfs_drc_repl_fn fn, void (*flush)(void))
{
	pthread_mutex_lock(&drc.mtx);
	drc.repl = fn;
	drc.flush = flush;
	pthread_mutex_unlock(&drc.mtx);
}

void
nfs_drc_flush(void)
{
	void (*flush)(void);

	pthread_mutex_lock(&drc.mtx);
	flush = drc.flush;
	pthread_mutex_unlock(&drc.mtx);
	if (flush != NULL)
		flush();
}

/* The key's address: IPv4 (also IPv4-mapped IPv6) in the first 4 bytes. */
static void
key_addr(const struct sockaddr *sa, uint8_t *addr, uint8_t *family)
{
	const struct sockaddr_in6	*s6;
	static const uint8_t		 mapped[12] = { 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	*family = 0;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
		*family = 4;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (memcmp(s6->sin6_addr.s6_addr, mapped, 12) == 0) {
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
			*family = 4;
		} else {
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
			*family = 6;
		}
	}
}

static unsigned
drc_hash(const uint8_t *addr, uint32_t xid)
{
	uint32_t h = xid * 2654435761u;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % (unsigned)drc.nhash;
}

static void
drc_unlink(int slot)
{
	struct drc_ent	*e = &drc.ent[slot];
	int		*pp = &drc.head[drc_hash(e->addr, e->xid)];

	while (*pp != -1 && *pp != slot)
		pp = &drc.ent[*pp].next;
	if (*pp == slot)
		*pp = e->next;
	if (e->peer)
		drc.peer--;
	free(e->reply);
	memset(e, 0, sizeof(*e));
	drc.entries--;
}

static int
drc_expired(const struct drc_ent *e, uint64_t now)
{
	return e->state == NFS_DRC_DONE && now - e->done_ms > drc.max_age_ms;
}

/* The slot of a live entry with this key, or -1; an expired one is
 * dropped on the way. */
static int
drc_find(uint8_t family, const uint8_t *addr, uint32_t xid, uint32_t prog,
    uint32_t vers, uint32_t proc, uint64_t now)
{
	struct drc_ent *e;

	for (int i = drc.head[drc_hash(addr, xid)]; i != -1; i = e->next) {
		e = &drc.ent[i];
		if (e->xid == xid && e->family == family && e->prog == prog &&
		    e->vers == vers && e->proc == proc &&
		    memcmp(e->addr, addr, 16) == 0) {
			if (!drc_expired(e, now))
				return i;
			drc_unlink(i);
			return -1;
		}
	}
	return -1;
}

/* Take the next ring slot (evicting its entry) for a new key. */
static int
drc_new(uint8_t family, const uint8_t *addr, uint32_t xid, uint32_t prog,
    uint32_t vers, uint32_t proc)
{
	int		 i = drc.clock;
	unsigned	 h = drc_hash(addr, xid);
	struct drc_ent	*e = &drc.ent[i];

	drc.clock = (drc.clock + 1) % drc.size;
	if (e->used)
		drc_unlink(i);
	e->used = 1;
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->xid = xid;
	e->prog = prog;
	e->vers = vers;
	e->proc = proc;
	e->state = NFS_DRC_INPROGRESS;
	e->next = drc.head[h];
	drc.head[h] = i;
	drc.entries++;
	return i;
}

static void
drc_ready(void)
{
	if (drc.ent == NULL)
		drc_alloc(NFS_DRC_SIZE_DEF);
}

enum nfs_drc_state
nfs_drc_lookup(const struct sockaddr *sa, uint32_t xid, uint32_t prog,
    uint32_t vers, uint32_t proc, int *slot, uint8_t **reply, size_t *len)
{
	uint8_t			 addr[16], family;
	int			 i;
	struct drc_ent		*e;
	enum nfs_drc_state	 st;

	key_addr(sa, addr, &family);
	pthread_mutex_lock(&drc.mtx);
	drc_ready();
	if ((i = drc_find(family, addr, xid, prog, vers, proc,
	    now_ms())) >= 0) {
		e = &drc.ent[i];
		drc.hits++;
		if (e->peer)
			drc.peer_hits++;
		if (e->state == NFS_DRC_DONE) {
			*reply = xmalloc(e->len > 0 ? e->len : 1);
			memcpy(*reply, e->reply, e->len);
			*len = e->len;
		}
		st = e->state;
		pthread_mutex_unlock(&drc.mtx);
		return st;
	}
	*slot = drc_new(family, addr, xid, prog, vers, proc);
	pthread_mutex_unlock(&drc.mtx);
	return NFS_DRC_NEW;
}

/* Make slot DONE with a copy of reply; fills rec and returns the hook
 * when the entry goes to the peer, else NULL. */
static nfs_drc_repl_fn
drc_done(int slot, uint32_t xid, const uint8_t *reply, size_t len,
    struct nfs_drc_rec *rec)
{
	struct drc_ent	*e;
	nfs_drc_repl_fn	 repl;
	uint8_t		*copy = xmalloc(len > 0 ? len : 1);

	memcpy(copy, reply, len);
	pthread_mutex_lock(&drc.mtx);
	/* the slot may have been recycled (or the table resized) while the
	 * call ran */
	if (slot >= drc.size || !(e = &drc.ent[slot])->used ||
	    e->xid != xid || e->state != NFS_DRC_INPROGRESS) {
		pthread_mutex_unlock(&drc.mtx);
		free(copy);
		return NULL;
	}
	e->reply = copy;
	e->len = len;
	e->state = NFS_DRC_DONE;
	e->done_ms = now_ms();
	memset(rec, 0, sizeof(*rec));
	rec->family = e->family;
	memcpy(rec->addr, e->addr, 16);
	rec->xid = e->xid;
	rec->prog = e->prog;
	rec->vers = e->vers;
	rec->proc = e->proc;
	rec->reply = reply;		/* the caller's: valid during the hook */
	rec->len = (uint32_t)len;
	repl = drc.repl;
	pthread_mutex_unlock(&drc.mtx);
	if (rec->family == 0 || len > NFS_DRC_REPLY_MAX)
		return NULL;
	return repl;
}

void
nfs_drc_complete(int slot, uint32_t xid, const uint8_t *reply, size_t len)
{
	struct nfs_drc_rec	rec;
	nfs_drc_repl_fn		repl;

	if ((repl = drc_done(slot, xid, reply, len, &rec)) != NULL)
		repl(&rec, NULL, NULL);
}

int
nfs_drc_complete_async(int slot, uint32_t xid, const uint8_t *reply,
    size_t len, void (*done)(void *), void *arg)
{
	struct nfs_drc_rec	rec;
	nfs_drc_repl_fn		repl;

	if ((repl = drc_done(slot, xid, reply, len, &rec)) == NULL)
		return 0;
	return repl(&rec, done, arg);
}

void
nfs_drc_abort(int slot, uint32_t xid)
{
	struct drc_ent *e;

	pthread_mutex_lock(&drc.mtx);
	if (slot < drc.size && (e = &drc.ent[slot])->used && e->xid == xid &&
	    e->state == NFS_DRC_INPROGRESS)
		drc_unlink(slot);
	pthread_mutex_unlock(&drc.mtx);
}

int
nfs_drc_insert(const struct nfs_drc_rec *r)
{
	uint64_t	 now = now_ms();
	int		 i;
	struct drc_ent	*e;

	pthread_mutex_lock(&drc.mtx);
	drc_ready();
	drc.received++;
	if (r->age_ms > drc.max_age_ms || drc_find(r->family, r->addr,
	    r->xid, r->prog, r->vers, r->proc, now) >= 0) {
		pthread_mutex_unlock(&drc.mtx);
		return 0;
	}
	i = drc_new(r->family, r->addr, r->xid, r->prog, r->vers, r->proc);
	e = &drc.ent[i];
	e->reply = xmalloc(r->len > 0 ? r->len : 1);
	memcpy(e->reply, r->reply, r->len);
	e->len = r->len;
	e->state = NFS_DRC_DONE;
	e->done_ms = now - MIN(now, r->age_ms);
	e->peer = 1;
	drc.peer++;
	pthread_mutex_unlock(&drc.mtx);
	return 1;
}

size_t
nfs_drc_foreach(void (*fn)(const struct nfs_drc_rec *, void *), void *arg)
{
	struct nfs_drc_rec	 rec;
	struct drc_ent		*e;
	uint64_t		 now = now_ms();
	size_t			 n = 0;

	pthread_mutex_lock(&drc.mtx);
	for (int i = 0; i < drc.size; i++) {
		e = &drc.ent[i];
		if (!e->used || e->state != NFS_DRC_DONE || e->family == 0 ||
		    drc_expired(e, now) || e->len > NFS_DRC_REPLY_MAX)
			continue;
		memset(&rec, 0, sizeof(rec));
		rec.family = e->family;
		memcpy(rec.addr, e->addr, 16);
		rec.xid = e->xid;
		rec.prog = e->prog;
		rec.vers = e->vers;
		rec.proc = e->proc;
		rec.age_ms = (uint32_t)MIN(now - e->done_ms, UINT32_MAX);
		rec.reply = e->reply;
		rec.len = (uint32_t)e->len;
		fn(&rec, arg);
		n++;
	}
	pthread_mutex_unlock(&drc.mtx);
	return n;
}

void
nfs_drc_clear(void)
{
	pthread_mutex_lock(&drc.mtx);
	for (int i = 0; i < drc.size; i++)
		if (drc.ent[i].used)
			drc_unlink(i);
	drc.clock = 0;
	pthread_mutex_unlock(&drc.mtx);
}

void
nfs_drc_stats(uint64_t *hits, uint64_t *entries)
{
	pthread_mutex_lock(&drc.mtx);
	*hits = drc.hits;
	*entries = drc.entries;
	pthread_mutex_unlock(&drc.mtx);
}

void
nfs_drc_count(enum nfs_drc_ctr c, uint64_t n)
{
	if ((unsigned)c < NFS_DRC_C_N)
		atomic_fetch_add(&ctr[c], n);
}

void
nfs_drc_stat(struct nfs_drc_stat *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&drc.mtx);
	s->entries = drc.entries;
	s->peer = drc.peer;
	s->size = drc.ent != NULL ? (uint64_t)drc.size : NFS_DRC_SIZE_DEF;
	s->max_age_s = drc.max_age_ms / 1000;
	s->hits = drc.hits;
	s->peer_hits = drc.peer_hits;
	s->received = drc.received;
	pthread_mutex_unlock(&drc.mtx);
	s->replicated = atomic_load(&ctr[NFS_DRC_C_REPLICATED]);
	s->batches = atomic_load(&ctr[NFS_DRC_C_BATCHES]);
	s->unacked = atomic_load(&ctr[NFS_DRC_C_UNACKED]);
	s->local_only = atomic_load(&ctr[NFS_DRC_C_LOCAL_ONLY]);
	s->pushed = atomic_load(&ctr[NFS_DRC_C_PUSHED]);
}

void
nfs_drc_status_text(struct buf *b)
{
	struct nfs_drc_stat s;

	nfs_drc_stat(&s);
	buf_printf(b, "  drc: %llu entries (%llu from the peer) of %llu, "
	    "max age %llu s; %llu hits (%llu on peer entries); replicated "
	    "%llu in %llu batches, %llu unacknowledged, %llu local only "
	    "(peer down), %llu pushed at rejoins, %llu received\n",
	    (unsigned long long)s.entries, (unsigned long long)s.peer,
	    (unsigned long long)s.size, (unsigned long long)s.max_age_s,
	    (unsigned long long)s.hits, (unsigned long long)s.peer_hits,
	    (unsigned long long)s.replicated, (unsigned long long)s.batches,
	    (unsigned long long)s.unacked, (unsigned long long)s.local_only,
	    (unsigned long long)s.pushed, (unsigned long long)s.received);
}

void
nfs_drc_status_json(struct buf *b)
{
	struct nfs_drc_stat s;

	nfs_drc_stat(&s);
	buf_printf(b, "{\"entries\":%llu,\"peer_entries\":%llu,\"size\":%llu,"
	    "\"max_age_s\":%llu,\"hits\":%llu,\"peer_hits\":%llu,"
	    "\"replicated\":%llu,\"batches\":%llu,\"unacked\":%llu,"
	    "\"local_only\":%llu,\"pushed\":%llu,\"received\":%llu}",
	    (unsigned long long)s.entries, (unsigned long long)s.peer,
	    (unsigned long long)s.size, (unsigned long long)s.max_age_s,
	    (unsigned long long)s.hits, (unsigned long long)s.peer_hits,
	    (unsigned long long)s.replicated, (unsigned long long)s.batches,
	    (unsigned long long)s.unacked, (unsigned long long)s.local_only,
	    (unsigned long long)s.pushed, (unsigned long long)s.received);
}

/* ---- wire format (docs/link-protocol.md, types 88 and 89) --------------- */

void
nfs_drc_wire_start(struct buf *b)
{
	buf_add_u8(b, NFS_DRC_FMT);
	buf_add_u8(b, 0);		/* flags */
	buf_add_u16(b, 0);		/* count, patched */
}

void
nfs_drc_wire_add(struct buf *b, const struct nfs_drc_rec *r)
{
	static const uint8_t zero[4];

	buf_add_u8(b, r->family);
	buf_add(b, zero, 3);
	buf_add(b, r->addr, 16);
	buf_add_u32(b, r->xid);
	buf_add_u32(b, r->prog);
	buf_add_u32(b, r->vers);
	buf_add_u32(b, r->proc);
	buf_add_u32(b, r->age_ms);
	buf_add_u32(b, r->len);
	buf_add(b, r->reply, r->len);
	buf_add(b, zero, (4 - (r->len & 3)) & 3);
}

void
nfs_drc_wire_count(struct buf *b, uint16_t n)
{
	put_be16(b->data + 2, n);
}

/* One entry at r; 0, or -1 with err. */
static int
wire_ent(struct rd *r, struct nfs_drc_rec *e, char *err, size_t errlen)
{
	const uint8_t	*p;
	uint32_t	 pad;

	memset(e, 0, sizeof(*e));
	e->family = rd_u8(r);
	p = rd_bytes(r, 3);
	if (r->err) {
		snprintf(err, errlen, "truncated entry header");
		return -1;
	}
	if (p[0] != 0 || p[1] != 0 || p[2] != 0) {
		snprintf(err, errlen, "reserved bytes not zero");
		return -1;
	}
	if (e->family != 4 && e->family != 6) {
		snprintf(err, errlen, "address family %u", e->family);
		return -1;
	}
	if ((p = rd_bytes(r, 16)) != NULL)
		memcpy(e->addr, p, 16);
	e->xid = rd_u32(r);
	e->prog = rd_u32(r);
	e->vers = rd_u32(r);
	e->proc = rd_u32(r);
	e->age_ms = rd_u32(r);
	e->len = rd_u32(r);
	if (r->err) {
		snprintf(err, errlen, "truncated entry header");
		return -1;
	}
	if (e->family == 4 && memcmp(e->addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0",
	    12) != 0) {
		snprintf(err, errlen, "IPv4 address with non-zero padding");
		return -1;
	}
	if (e->len > NFS_DRC_REPLY_MAX) {
		snprintf(err, errlen, "reply of %u bytes (at most %u)",
		    e->len, NFS_DRC_REPLY_MAX);
		return -1;
	}
	pad = (4 - (e->len & 3)) & 3;
	if (e->len + pad > r->left) {
		snprintf(err, errlen, "reply of %u bytes, %zu left", e->len,
		    r->left);
		return -1;
	}
	e->reply = rd_bytes(r, e->len);
	rd_bytes(r, pad);
	return 0;
}

int
nfs_drc_wire_parse(const uint8_t *p, size_t len,
    void (*fn)(const struct nfs_drc_rec *, void *), void *arg, char *err,
    size_t errlen)
{
	struct rd		 r;
	struct nfs_drc_rec	 e;
	unsigned		 fmt, flags, n;

	rd_init(&r, p, len);
	fmt = rd_u8(&r);
	flags = rd_u8(&r);
	n = rd_u16(&r);
	if (r.err) {
		snprintf(err, errlen, "%zu bytes: shorter than the header",
		    len);
		return -1;
	}
	if (fmt != NFS_DRC_FMT) {
		snprintf(err, errlen, "format %u (this head knows %u)", fmt,
		    NFS_DRC_FMT);
		return -1;
	}
	if (flags != 0) {
		snprintf(err, errlen, "unknown flags 0x%x", flags);
		return -1;
	}
	if ((size_t)n * NFS_DRC_ENT_FIXED > r.left) {
		snprintf(err, errlen, "%u entries in %zu bytes", n, r.left);
		return -1;
	}
	/* check everything first: a bad message stores nothing */
	for (unsigned i = 0; i < n; i++)
		if (wire_ent(&r, &e, err, errlen) < 0) {
			char tmp[128];

			snprintf(tmp, sizeof(tmp), "entry %u: %s", i, err);
			snprintf(err, errlen, "%s", tmp);
			return -1;
		}
	if (r.left != 0) {
		snprintf(err, errlen, "%zu bytes after %u entries", r.left, n);
		return -1;
	}
	rd_init(&r, p + NFS_DRC_HDR_LEN, len - NFS_DRC_HDR_LEN);
	for (unsigned i = 0; i < n; i++) {
		wire_ent(&r, &e, err, errlen);
		if (fn != NULL)
			fn(&e, arg);
	}
	return (int)n;
}

void
nfs_drc_ack_make(uint8_t out[NFS_DRC_ACK_LEN], int status, uint32_t stored)
{
	out[0] = NFS_DRC_FMT;
	out[1] = (uint8_t)status;
	out[2] = out[3] = 0;
	put_be32(out + 4, stored);
}

int
nfs_drc_ack_parse(const uint8_t *p, size_t len, uint32_t *stored, char *err,
    size_t errlen)
{
	if (len != NFS_DRC_ACK_LEN) {
		snprintf(err, errlen, "acknowledgement of %zu bytes (not %u)",
		    len, NFS_DRC_ACK_LEN);
		return -1;
	}
	if (p[0] != NFS_DRC_FMT) {
		snprintf(err, errlen, "acknowledgement format %u", p[0]);
		return -1;
	}
	if (p[1] != 0) {
		snprintf(err, errlen, "the peer refused the entries (status "
		    "%u)", p[1]);
		return -1;
	}
	*stored = get_be32(p + 4);
	return 0;
}

/*
 * nfs_conn.c — client connections: the table of connections and of
 * their client addresses, input buffers, cutting the record-marked
 * stream into records, the limits.  Checking call headers, running calls
 * and answering them, and the worker threads, are nfs_rpc.c's; the
 * listening sockets are nfs_svc.c's.
 *
 * Lifetime: only the worker holding a connection's epoll event closes
 * it (on EOF, error or bad input); others, and nfs_conn_close_local(),
 * just shutdown(2) the socket, which wakes that worker.  A connection
 * is freed (and its fd closed) when the last reference goes: the event
 * holder's, each request's, and the accepting thread's, which it keeps
 * across the hand-off to the workers (nfs_conn_accept).
 *
 * Limits (nfs_conn_limits, from duonas.conf): connections per client
 * address and in total (at the total, the most stalled connection of
 * the address holding the most is evicted: a new client is served);
 * input buffers grow only as bytes arrive, and every byte of a record
 * not yet complete is charged to one budget for all connections: when
 * it runs out, the connections whose partial records have stalled the
 * longest are closed first.  A per-second timer (nfs_conn_timer, on the
 * loop thread) shuts down connections idle for idle_ms and those whose
 * record made no progress for record_ms (or is not complete after 4x).
 * Limit hits are counted and logged at most once per LOG_RATELIM_MS.
 * Every connection linked into the table, and its unlinking, is
 * reported to the hook of nfs_set_conn_hook() (tickle ACK lists).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs.h"
#include "export/nfs_conn_int.h"
#include "export/nfs_rm.h"

#define IN_MIN			(16 * 1024)	/* smallest input buffer */
#define IN_HDR			16	/* mapping size, before a buffer */
#define IN_MAP			(128 * 1024)	/* a mapping from here on */
#define IN_PAGE			((size_t)4096)
#define IN_MAPMAX		((NFS_MAXREC + 4 + IN_HDR + IN_PAGE - 1) & \
				    ~(IN_PAGE - 1))
#define IN_CACHE		64	/* idle IN_MAPMAX mappings kept, at most */
#define REC_HARD		4	/* a record's hard cap: 4 x record_ms */
#define PEER_BUCKETS		1024
#define BIG_RECORD		(64 * 1024)	/* not copied out of c->in */

/* Connections of one client address (conn_mtx). */
struct nfs_peer {
	struct nfs_peer		*next;
	size_t			 bucket;	/* in peers[] */
	int			 family;
	uint8_t			 addr[16];
	int			 n;		/* linked connections */
	int			 nlive;		/* of which not being closed */
};

/* Why a connection is being closed (struct nfs_conn.kill). */
enum {
	CONN_KILL_NONE, CONN_KILL_SHUT, CONN_KILL_EVICT, CONN_KILL_IDLE,
	CONN_KILL_RECORD, CONN_KILL_BUDGET
};
static const char *const kill_why[] = {
	"", "listener closed", "evicted at the connection limit",
	"idle timeout", "record timeout", "input budget exhausted"
};
_Static_assert(nitems(kill_why) == CONN_KILL_BUDGET + 1, "kill_why");

static pthread_mutex_t	 conn_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_conn	*conns;
static int		 nconns;	/* linked */
static int		 nlive;		/* linked and not being closed */
static int		 npeak;
static struct nfs_peer	*peers[PEER_BUCKETS];
static int		 npeers;
static uint64_t		 peer_seed;

static struct nfs_conn_limits lim = {
	4096, 64, 360000, 30000, (size_t)256 << 20
};
static _Atomic int64_t	 in_bytes;	/* every c->charged */
static _Atomic uint64_t	 st_rejected, st_evicted, st_idle, st_record,
			 st_budget;
static struct log_ratelim rl_reject, rl_evict, rl_record, rl_budget,
			 rl_oversize;

/* nfs_set_conn_hook(): told of every connection linked and unlinked */
static void		(*conn_hook)(int, const struct sockaddr *,
			    const struct sockaddr *, void *);
static void		*conn_hook_arg;

static pthread_mutex_t	 inbuf_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		*inbuf_cache[IN_CACHE];
static int		 inbuf_cache_max = 8;
static int		 ninbuf_cache;

/* ---- input buffers ---------------------------------------------------- *
 * Small ones come from malloc.  From IN_MAP bytes on a buffer is a
 * mapping of its own, grown with mremap(2) (no copy): its pages become
 * resident only as bytes arrive, and a freed one goes back to the system
 * at once instead of staying in one of malloc's per-thread arenas (300
 * connections stalled in 1 MiB records left 100 MB resident under a
 * 32 MiB budget that way).  Full-size mappings (IN_MAPMAX: a whole
 * record) are cached, as many as a quarter of the input budget holds (8
 * to IN_CACHE), so that a client streaming 1 MiB WRITEs does not map
 * and fault in every record.  Each
 * buffer is preceded by IN_HDR bytes holding its mapping size (0:
 * malloc), so whoever frees a record needs not know where it came from.
 */

static size_t
inbuf_map(const uint8_t *p)
{
	size_t m;

	memcpy(&m, p - IN_HDR, sizeof(m));
	return m;
}

void
nfs_inbuf_free(uint8_t *p)
{
	size_t m;

	if (p == NULL)
		return;
	if ((m = inbuf_map(p)) == 0) {
		free(p - IN_HDR);
		return;
	}
	if (m == IN_MAPMAX) {
		pthread_mutex_lock(&inbuf_mtx);
		if (ninbuf_cache < inbuf_cache_max) {
			inbuf_cache[ninbuf_cache++] = p;
			p = NULL;
		}
		pthread_mutex_unlock(&inbuf_mtx);
		if (p == NULL)
			return;
	}
	munmap(p - IN_HDR, m);
}

static void
inbuf_cache_drain(void)
{
	pthread_mutex_lock(&inbuf_mtx);
	while (ninbuf_cache > 0) {
		uint8_t *p = inbuf_cache[--ninbuf_cache];

		munmap(p - IN_HDR, IN_MAPMAX);
	}
	pthread_mutex_unlock(&inbuf_mtx);
}

/* Give buffer p (NULL: a new one), of which used bytes are in use, room
 * for cap bytes at least; returns it (it may move) and its capacity in
 * *capp.  A mapping never becomes a malloc'd buffer again. */
static uint8_t *
inbuf_resize(uint8_t *p, size_t used, size_t cap, size_t *capp)
{
	size_t	 old = p != NULL ? inbuf_map(p) : 0, map, zero = 0;
	uint8_t	*b, *q = NULL;

	if (cap < IN_MAP && old == 0) {
		b = xrealloc(p != NULL ? p - IN_HDR : NULL, IN_HDR + cap);
		memcpy(b, &zero, sizeof(zero));
		*capp = cap;
		return b + IN_HDR;
	}
	map = (IN_HDR + cap + IN_PAGE - 1) & ~(IN_PAGE - 1);
	if (map > IN_MAPMAX / 2)	/* the last step: a cacheable size */
		map = MAX(map, IN_MAPMAX);
	if (old >= map) {
		*capp = old - IN_HDR;
		return p;
	}
	if (map == IN_MAPMAX) {
		pthread_mutex_lock(&inbuf_mtx);
		if (ninbuf_cache > 0)
			q = inbuf_cache[--ninbuf_cache];
		pthread_mutex_unlock(&inbuf_mtx);
	}
	if (q == NULL && old != 0) {
		if ((b = mremap(p - IN_HDR, old, map, MREMAP_MAYMOVE)) ==
		    MAP_FAILED)
			fatal("nfs: mremap %zu bytes", map);
		memcpy(b, &map, sizeof(map));
		*capp = map - IN_HDR;
		return b + IN_HDR;
	}
	if (q == NULL) {
		if ((b = mmap(NULL, map, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			fatal("nfs: mmap %zu bytes", map);
		memcpy(b, &map, sizeof(map));
		q = b + IN_HDR;
	}
	if (used > 0)
		memcpy(q, p, used);
	nfs_inbuf_free(p);
	*capp = inbuf_map(q) - IN_HDR;
	return q;
}

int
nfs_conn_count(void)
{
	int n;

	pthread_mutex_lock(&conn_mtx);
	n = nconns;
	pthread_mutex_unlock(&conn_mtx);
	return n;
}

/* ---- connection lifetime --------------------------------------------- */

/* Charge the input buffers of c to the budget as they are now (holder). */
static void
conn_charge(struct nfs_conn *c)
{
	size_t held = c->incap + c->rm.fraglen;

	in_bytes += (int64_t)held - (int64_t)c->charged;
	c->charged = held;
}

/* Free the input buffers and give their bytes back to the budget. */
static void
conn_inbuf_free(struct nfs_conn *c)
{
	nfs_inbuf_free(c->in);
	nfs_rm_reset(&c->rm);
	c->in = NULL;
	c->inlen = c->incap = 0;
	c->t_rec = 0;
	conn_charge(c);
}

void
nfs_conn_unref(struct nfs_conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	close(c->fd);
	conn_inbuf_free(c);
	pthread_mutex_destroy(&c->omtx);
	free(c);
}

/* The entry of the client address of sa (conn_mtx held); created with
 * no connections when create is set, else NULL if there is none. */
static struct nfs_peer *
peer_get(const struct sockaddr *sa, int create)
{
	struct nfs_peer	*pe;
	uint8_t		 addr[16];
	size_t		 len = 0;
	uint64_t	 h = peer_seed ^ 0xcbf29ce484222325ull;

	memset(addr, 0, sizeof(addr));
	if (sa->sa_family == AF_INET) {
		len = 4;
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, len);
	} else if (sa->sa_family == AF_INET6) {
		len = 16;
		memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, len);
	}
	/* FNV-1a with a secret seed: clients cannot aim at one chain */
	for (size_t i = 0; i < len; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	h %= PEER_BUCKETS;
	for (pe = peers[h]; pe != NULL; pe = pe->next)
		if (pe->family == sa->sa_family &&
		    memcmp(pe->addr, addr, sizeof(addr)) == 0)
			return pe;
	if (!create)
		return NULL;
	pe = xcalloc(1, sizeof(*pe));
	pe->family = sa->sa_family;
	memcpy(pe->addr, addr, sizeof(addr));
	pe->bucket = (size_t)h;
	pe->next = peers[h];
	peers[h] = pe;
	npeers++;
	return pe;
}

static void
peer_put(struct nfs_peer *pe)
{
	struct nfs_peer **pp;

	if (pe->n > 0)
		return;
	for (pp = &peers[pe->bucket]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pe) {
			*pp = pe->next;
			npeers--;
			free(pe);
			return;
		}
}

/* Mark c as being closed for why and shut its socket down: the worker
 * holding its event (woken by the shutdown, or when its calls are done)
 * closes it.  conn_mtx held.  1, or 0 if it was being closed already. */
static int
conn_kill_locked(struct nfs_conn *c, int why)
{
	int none = CONN_KILL_NONE;

	if (!atomic_compare_exchange_strong(&c->kill, &none, why))
		return 0;
	c->pe->nlive--;
	nlive--;
	shutdown(c->fd, SHUT_RDWR);
	return 1;
}

/* conn_mtx held. */
static void
conn_unlink_locked(struct nfs_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
	if (c->kill == CONN_KILL_NONE) {
		c->pe->nlive--;
		nlive--;
	}
	c->pe->n--;
	peer_put(c->pe);
	c->pe = NULL;
	if (conn_hook != NULL && c->local.ss_family != 0)
		conn_hook(0, (struct sockaddr *)&c->local,
		    (struct sockaddr *)&c->peer, conn_hook_arg);
}

/* Re-arm the connection's epoll event: some worker reads it next. */
void
nfs_conn_arm(struct nfs_conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(nfs_epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		log_warn("nfs: %s: epoll_ctl", c->peertext);
}

/* Holder of the epoll event only. */
static void
conn_close(struct nfs_conn *c, const char *why)
{
	log_debug("nfs: connection from %s closed: %s", c->peertext,
	    why != NULL ? why : "");
	/* first: a worker blocked sending to c gives up at once */
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&c->omtx);
	c->dead = 1;
	pthread_mutex_unlock(&c->omtx);
	epoll_ctl(nfs_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	/* the budget gets the input back now, not after the last call */
	conn_inbuf_free(c);
	pthread_mutex_lock(&conn_mtx);
	conn_unlink_locked(c);
	pthread_mutex_unlock(&conn_mtx);
	nfs_conn_unref(c);
}

/* ---- input --------------------------------------------------------------- */

struct victim {
	uint64_t	 since;		/* stalled since, ms */
	struct nfs_conn	*c;
};

static int
victim_cmp(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->since < y->since ? -1 : x->since > y->since;
}

/* self needs need more bytes and the input budget has no room: close
 * the connections holding partial records, the longest stalled first
 * (a paused connection is not stalled: we do not read it), until what
 * they hold makes room.  Those already being closed count as freed.
 * 0: go on; -1: nothing left to close, self has to go. */
static int
budget_reclaim(struct nfs_conn *self, size_t need)
{
	struct nfs_conn	*c;
	struct victim	*v;
	int64_t		 freeing = 0;
	uint64_t	 now = now_ms(), since = 0;
	char		 more[48];
	int		 nv = 0, rc, nclosed = 0;
	char		 who[64] = "";

	pthread_mutex_lock(&conn_mtx);
	v = xcalloc((size_t)nconns + 1, sizeof(*v));
	for (c = conns; c != NULL; c = c->next) {
		if (c->kill != CONN_KILL_NONE)
			freeing += (int64_t)c->charged;
		else if (c != self && c->charged > 0) {
			v[nv].c = c;
			v[nv].since = c->paused ? now : c->t_prog;
			nv++;
		}
	}
	qsort(v, (size_t)nv, sizeof(*v), victim_cmp);
	for (int i = 0; i < nv && in_bytes - freeing + (int64_t)need >
	    (int64_t)lim.budget; i++) {
		if (!conn_kill_locked(v[i].c, CONN_KILL_BUDGET))
			continue;
		st_budget++;
		freeing += (int64_t)v[i].c->charged;
		if (nclosed++ == 0) {
			snprintf(who, sizeof(who), "%s", v[i].c->peertext);
			since = v[i].since;
		}
	}
	rc = in_bytes - freeing + (int64_t)need > (int64_t)lim.budget ?
	    -1 : 0;
	pthread_mutex_unlock(&conn_mtx);
	free(v);
	if (rc < 0)
		st_budget++;
	if ((nclosed > 0 || rc < 0) &&
	    log_ratelim_ok(&rl_budget, more, sizeof(more))) {
		if (nclosed > 0)
			log_warnx("nfs: input budget of %zu MiB exhausted: "
			    "closed %d connection(s) holding partial records, "
			    "the most stalled from %s (%llu ms without "
			    "progress)%s%s", lim.budget >> 20, nclosed, who,
			    (unsigned long long)(now - since),
			    rc < 0 ? ", and the one reading" : "", more);
		else
			log_warnx("nfs: input budget of %zu MiB exhausted: "
			    "closed the connection from %s%s",
			    lim.budget >> 20, self->peertext, more);
	}
	return rc;
}

/* The buffer is full: make room to receive more of the record at the
 * start of c->in.  It grows geometrically and only as far as bytes have
 * arrived (FIONREAD), never past the end of that record (small records:
 * IN_MIN, to read several at once), and the budget is charged first.
 * 0, or -1 when c must be closed for the budget. */
static int
conn_room(struct nfs_conn *c)
{
	size_t	need = 4, cap;
	int	avail = 0;

	if (c->inlen >= 4)	/* conn_parse checked this marker */
		need = 4 + (get_be32(c->in) & 0x7fffffffu);
	need = MAX(need, (size_t)IN_MIN);
	if (c->incap >= need)		/* cannot happen: parsed before */
		return -1;
	if (ioctl(c->fd, FIONREAD, &avail) < 0 || avail < 0)
		avail = 0;
	cap = MAX(c->incap * 2, c->inlen + (size_t)avail);
	cap = MIN(MAX(cap, (size_t)IN_MIN), need);
	if (in_bytes + (int64_t)(cap - c->incap) > (int64_t)lim.budget &&
	    budget_reclaim(c, cap - c->incap) < 0)
		return -1;
	c->in = inbuf_resize(c->in, c->inlen, cap, &c->incap);
	conn_charge(c);
	return 0;
}

/* Cut complete records out of c->in into the list *rs, in order; what
 * remains is one partial record at the start of c->in (or nothing: the
 * buffer is freed).  The record marking is nfs_rm.c's.  -1: close. */
static int
conn_parse(struct nfs_conn *c, struct nfs_req **rs, int *nr)
{
	size_t		 off = 0, flen, whole, cap;
	char		 more[48];
	uint8_t		*rec;
	struct nfs_req	*r, **tail = rs;
	int		 rc = 0, step;

	/* (a header needs 4 bytes; c->in is NULL after a handover) */
	while (c->inlen - off >= 4) {
		step = nfs_rm_step(&c->rm, c->in + off, c->inlen - off,
		    NFS_MAXREC, &flen);
		if (step == NFS_RM_MORE)
			break;		/* conn_room() grows c->in for it */
		if (step == NFS_RM_TOOBIG) {
			if (log_ratelim_ok(&rl_oversize, more, sizeof(more)))
				log_warnx("nfs: %s: record of %zu bytes is "
				    "larger than %d, closing%s", c->peertext,
				    flen, NFS_MAXREC, more);
			rc = -1;
			break;
		}
		if (step == NFS_RM_FRAG) {	/* kept in c->rm */
			off += 4 + flen;
			continue;
		}
		if (off == 0 && c->rm.fraglen == 0 && flen >= BIG_RECORD) {
			/* a large record (WRITE) at the start of the buffer:
			 * hand the buffer over instead of copying it */
			rec = c->in;
			c->inlen -= 4 + flen;
			c->in = NULL;
			c->incap = 0;
			if (c->inlen > 0) {
				c->in = inbuf_resize(NULL, 0, MAX(c->inlen,
				    (size_t)IN_MIN), &c->incap);
				memcpy(c->in, rec + 4 + flen, c->inlen);
			}
			nfs_rm_reset(&c->rm);
		} else {
			whole = c->rm.fraglen + flen;
			rec = inbuf_resize(NULL, 0, 4 + whole, &cap);
			nfs_rm_take(&c->rm, c->in + off + 4, flen, rec + 4);
			off += 4 + flen;
			flen = whole;
		}
		if ((r = nfs_req_new(c, rec, flen)) == NULL) {
			rc = -1;
			break;
		}
		r->next = NULL;
		*tail = r;
		tail = &r->next;
		(*nr)++;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	if (c->inlen == 0) {		/* nothing partial: no buffer */
		nfs_inbuf_free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
	if (c->inlen == 0 && c->rm.fraglen == 0)
		c->t_rec = 0;
	else if (c->t_rec == 0 || *nr > 0)
		c->t_rec = now_ms();	/* a new record started */
	conn_charge(c);
	return rc;
}

/* The epoll event of c fired: this worker alone reads c now (the caller,
 * nfs_rpc.c, runs the records and re-arms c). */
int
nfs_conn_read(struct nfs_conn *c, struct nfs_req **rs)
{
	struct nfs_req	*r, *next;
	ssize_t		 n;
	int		 nr = 0, why;

	*rs = NULL;
	/* read until a record is complete or the socket is empty: a
	 * large WRITE arrives in several pieces */
	for (;;) {
		if ((why = c->kill) != CONN_KILL_NONE) {
			conn_close(c, kill_why[why]);
			return -1;
		}
		if (c->inlen == c->incap && conn_room(c) < 0) {
			conn_close(c, kill_why[CONN_KILL_BUDGET]);
			return -1;
		}
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen,
		    MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c, n < 0 ? strerror(errno) :
			    "closed by the client");
			return -1;
		}
		c->inlen += (size_t)n;
		c->t_last = c->t_prog = now_ms();
		if (conn_parse(c, rs, &nr) < 0) {
			for (r = *rs; r != NULL; r = next) {
				next = r->next;
				nfs_req_free(r);
				nfs_conn_unref(c);
			}
			conn_close(c, "bad input");
			return -1;
		}
		if (nr > 0)
			break;
	}
	return nr;
}

/* ---- the table, as the workers start and stop ------------------------ */

void
nfs_set_conn_hook(void (*fn)(int, const struct sockaddr *,
    const struct sockaddr *, void *), void *arg)
{
	pthread_mutex_lock(&conn_mtx);
	conn_hook = fn;
	conn_hook_arg = arg;
	pthread_mutex_unlock(&conn_mtx);
}

void
nfs_conn_init(void)
{
	peer_seed = random_u64();
}

void
nfs_conn_fini(void)
{
	struct nfs_conn *c;

	pthread_mutex_lock(&conn_mtx);
	while ((c = conns) != NULL) {
		conn_unlink_locked(c);
		nfs_conn_unref(c);
	}
	pthread_mutex_unlock(&conn_mtx);
	inbuf_cache_drain();
}

/* ---- connections (loop thread) ---------------------------------------- */

void
nfs_conn_limits_set(const struct nfs_conn_limits *l)
{
	size_t n = l->budget / 4 / IN_MAPMAX;

	lim = *l;
	/* a quarter of the budget may stay mapped for reuse: 8 to 64 full
	 * records (a client with 64 1 MiB WRITEs in flight then maps and
	 * faults in nothing per record) */
	pthread_mutex_lock(&inbuf_mtx);
	inbuf_cache_max = (int)MAX(8, MIN(n, (size_t)IN_CACHE));
	pthread_mutex_unlock(&inbuf_mtx);
}

/* How long c has been stalled, for picking a victim: the start of
 * its inactivity; a connection with calls in flight is busy, not
 * stalled (now).  conn_mtx held. */
static uint64_t
conn_stalled_since(struct nfs_conn *c, uint64_t now)
{
	if (c->t_rec != 0)
		return c->paused ? now : c->t_prog;
	return c->inflight > 0 ? now : c->t_last;
}

/* The connection to close to make room (conn_mtx held): of the client
 * address holding the most connections, the one stalled the longest.
 * NULL if there is none. */
static struct nfs_conn *
conn_victim(void)
{
	struct nfs_conn	*c, *v = NULL;
	uint64_t	 now = now_ms(), since, best = 0;
	int		 top = 0;

	for (c = conns; c != NULL; c = c->next)
		if (c->kill == CONN_KILL_NONE)
			top = MAX(top, c->pe->nlive);
	for (c = conns; c != NULL; c = c->next) {
		if (c->kill != CONN_KILL_NONE || c->pe->nlive != top)
			continue;
		since = conn_stalled_since(c, now);
		if (v == NULL || since < best) {
			v = c;
			best = since;
		}
	}
	return v;
}

/* Evict one connection (conn_mtx held); its text into who.  1 or 0. */
static int
conn_evict_locked(char *who, size_t wholen, int *held)
{
	struct nfs_conn *v;

	if ((v = conn_victim()) == NULL)
		return 0;
	snprintf(who, wholen, "%s", v->peertext);
	*held = v->pe->nlive;
	conn_kill_locked(v, CONN_KILL_EVICT);
	st_evicted++;
	return 1;
}

int
nfs_conn_shed(void)
{
	char		who[64];
	int		held, rv;
	char		more[48];

	pthread_mutex_lock(&conn_mtx);
	rv = conn_evict_locked(who, sizeof(who), &held);
	pthread_mutex_unlock(&conn_mtx);
	if (rv && log_ratelim_ok(&rl_evict, more, sizeof(more)))
		log_warnx("nfs: out of descriptors: evicted a connection of "
		    "%s (it had %d)%s", who, held, more);
	return rv;
}

void
nfs_conn_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct nfs_conn		*c;
	struct nfs_peer		*pe;
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(struct sockaddr_storage);
	int			 one = 1, held = 0, evicted = 0, refused = 0;
	char			 who[64];
	char			 more[48];

	if (nfs_epfd < 0) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	memcpy(&c->peer, sa, MIN(salen, sizeof(c->peer)));
	c->peerlen = salen;
	nfs_addr_text(sa, c->peertext, sizeof(c->peertext));
	if (getsockname(fd, (struct sockaddr *)&c->local, &len) == 0)
		nfs_addr_text((struct sockaddr *)&c->local, c->localtext,
		    sizeof(c->localtext));
	else
		c->local.ss_family = 0;
	pthread_mutex_lock(&conn_mtx);
	pe = peer_get(sa, 1);
	if (pe->nlive >= lim.max_client) {
		refused = pe->nlive;
		st_rejected++;
		peer_put(pe);
	} else {
		if (nlive >= lim.max_conns)
			evicted = conn_evict_locked(who, sizeof(who), &held);
		c->pe = pe;
		pe->n++;
		pe->nlive++;
		nlive++;
		c->next = conns;
		if (conns != NULL)
			conns->prev = c;
		conns = c;
		nconns++;
		npeak = MAX(npeak, nconns);
		c->t_last = now_ms();
		/* one reference for the holder of the epoll event, one for
		 * this thread until the hand-off below is done: once armed,
		 * a worker may read, close and let go of c at once */
		c->refs = 2;
		pthread_mutex_init(&c->omtx, NULL);
		if (conn_hook != NULL && c->local.ss_family != 0)
			conn_hook(1, (struct sockaddr *)&c->local,
			    (struct sockaddr *)&c->peer, conn_hook_arg);
	}
	pthread_mutex_unlock(&conn_mtx);
	if (refused) {
		if (log_ratelim_ok(&rl_reject, more, sizeof(more)))
			log_warnx("nfs: %s has %d connections "
			    "(max-connections-per-client): a new one refused%s",
			    c->peertext, refused, more);
		close(fd);
		free(c);
		return;
	}
	if (evicted && log_ratelim_ok(&rl_evict, more, sizeof(more)))
		log_warnx("nfs: %d connections (max-connections): evicted the "
		    "longest stalled one of %s (it had %d) for %s%s",
		    lim.max_conns, who, held, c->peertext, more);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(nfs_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("nfs: epoll_ctl add");
		shutdown(fd, SHUT_RDWR);	/* never armed: unlink here */
		pthread_mutex_lock(&conn_mtx);
		conn_unlink_locked(c);
		pthread_mutex_unlock(&conn_mtx);
		nfs_conn_unref(c);		/* the holder's */
	} else
		log_debug("nfs: connection from %s", c->peertext);
	/* ours: the last one when a worker has closed c already (its
	 * descriptor is closed and c freed here then) */
	nfs_conn_unref(c);
}

/* Shut down connections whose local address is addr (NULL: all): the
 * worker that sees the end of the stream closes them. */
void
nfs_conn_close_local(const struct sockaddr *addr)
{
	struct nfs_conn	*c;
	char		 a[64];

	if (addr != NULL)
		nfs_addr_text(addr, a, sizeof(a));
	pthread_mutex_lock(&conn_mtx);
	for (c = conns; c != NULL; c = c->next)
		if (addr == NULL || strcmp(a, c->localtext) == 0) {
			if (!conn_kill_locked(c, CONN_KILL_SHUT))
				shutdown(c->fd, SHUT_RDWR);
		}
	pthread_mutex_unlock(&conn_mtx);
}

/* Distinct client addresses currently connected. */
int
nfs_conn_clients(void)
{
	int n;

	pthread_mutex_lock(&conn_mtx);
	n = npeers;
	pthread_mutex_unlock(&conn_mtx);
	return n;
}

/*
 * Once a second on the loop thread.  Idle: no input and no call in
 * flight for idle_ms (a normal event: counted, logged at debug level).
 * Record timeout: a partial record without a byte of progress for
 * record_ms, or not complete REC_HARD x record_ms after it started; a
 * paused connection is not checked (we are not reading it).  Either
 * way, bytes waiting in the socket mean we are behind, not the client.
 */
void
nfs_conn_timer(void)
{
	struct nfs_conn	*c;
	uint64_t	 now = now_ms();
	int		 why, q, nrec = 0;
	char		 more[48];
	char		 who[64] = "";

	pthread_mutex_lock(&conn_mtx);
	for (c = conns; c != NULL; c = c->next) {
		if (c->kill != CONN_KILL_NONE)
			continue;
		why = CONN_KILL_NONE;
		if (c->t_rec != 0) {
			if (!c->paused && (now - c->t_prog > lim.record_ms ||
			    now - c->t_rec > REC_HARD * lim.record_ms))
				why = CONN_KILL_RECORD;
		} else if (lim.idle_ms > 0 && c->inflight == 0 &&
		    now - c->t_last > lim.idle_ms)
			why = CONN_KILL_IDLE;
		if (why == CONN_KILL_NONE ||
		    (ioctl(c->fd, FIONREAD, &q) == 0 && q > 0))
			continue;
		conn_kill_locked(c, why);
		if (why == CONN_KILL_IDLE) {
			st_idle++;
			log_debug("nfs: %s: idle for %llu s, closing",
			    c->peertext, (unsigned long long)(now -
			    c->t_last) / 1000);
		} else {
			st_record++;
			if (nrec++ == 0)
				snprintf(who, sizeof(who), "%s", c->peertext);
		}
	}
	pthread_mutex_unlock(&conn_mtx);
	if (nrec > 0 && log_ratelim_ok(&rl_record, more, sizeof(more)))
		log_warnx("nfs: record timeout (%llu s): closed %d "
		    "connection(s) stalled in the middle of a record, one from "
		    "%s%s", (unsigned long long)lim.record_ms / 1000, nrec,
		    who, more);
}

void
nfs_conn_stats(struct nfs_conn_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&conn_mtx);
	st->conns = nconns;
	st->peak = npeak;
	pthread_mutex_unlock(&conn_mtx);
	st->rejected = st_rejected;
	st->evicted = st_evicted;
	st->idle = st_idle;
	st->record = st_record;
	st->budget = st_budget;
	st->buffered = in_bytes;
	st->lim = lim;
}

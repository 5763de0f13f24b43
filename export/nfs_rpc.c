/*
 * nfs_rpc.c — client connections, ONC RPC records, the worker threads.
 *
 * The loop thread only accepts connections (nfs_svc.c); everything else
 * happens on the pool of worker threads, with no hand-off per call:
 * every connection sits in one epoll set with EPOLLONESHOT, so exactly
 * one worker at a time reads it.  That worker cuts the record-marked
 * stream into records, re-arms the connection, queues all records but
 * one for the other workers (an eventfd in the same epoll set counts
 * them) and executes the last one itself: the call header and every
 * length of the arguments are checked (nfs_xdr.c) before the libnfs zdr
 * codecs decode anything, the procedure runs, the reply is encoded and
 * written to the socket by the same thread under the connection's send
 * mutex (a full socket makes it wait, at most SEND_TIMEOUT_MS).  We
 * answer PROG_UNAVAIL / PROG_MISMATCH / PROC_UNAVAIL / GARBAGE_ARGS
 * ourselves; a malformed call header closes the connection.  READ
 * replies are written with writev straight from the read buffer.
 *
 * Lifetime: only the worker holding a connection's epoll event closes
 * it (on EOF, error or bad input); others, and nfs_conn_close_local(),
 * just shutdown(2) the socket, which wakes that worker.  A connection
 * is freed (and its fd closed) when the last request holding it is done.
 * A connection with CONN_MAX_INFLIGHT calls in flight is not re-armed
 * until half are answered.  UDP is not served.
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
 * Limit hits are counted and logged at most once per NFS_RATELIM_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs_int.h"

#define CONN_MAX_INFLIGHT	64	/* stop reading above this */
#define IN_MIN			(16 * 1024)	/* smallest input buffer */
#define IN_HDR			16	/* mapping size, before a buffer */
#define IN_MAP			(128 * 1024)	/* a mapping from here on */
#define IN_PAGE			((size_t)4096)
#define IN_MAPMAX		((NFS_MAXREC + 4 + IN_HDR + IN_PAGE - 1) & \
				    ~(IN_PAGE - 1))
#define IN_CACHE		8	/* idle IN_MAPMAX mappings kept */
#define REC_HARD		4	/* a record's hard cap: 4 x record_ms */
#define PEER_BUCKETS		1024
#define BIG_RECORD		(64 * 1024)	/* not copied out of c->in */
#define SEND_TIMEOUT_MS		30000
#define RPC_REPLY_HDR		28	/* marker .. accept_stat */

/* accept_stat */
#define RPC_SUCCESS		0
#define RPC_PROG_UNAVAIL	1
#define RPC_PROG_MISMATCH	2
#define RPC_PROC_UNAVAIL	3
#define RPC_GARBAGE_ARGS	4

struct nfs_conn {
	struct nfs_conn		*next, *prev;	/* conn_mtx */
	int			 fd;
	_Atomic int		 refs;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 peertext[64];
	char			 localtext[64];
	struct nfs_peer		*pe;		/* its address; conn_mtx */
	/* set under conn_mtx, read anywhere: closing, and why */
	_Atomic int		 kill;		/* CONN_KILL_* */
	/* written by the holder (and req_done), read by the timer, ms: */
	_Atomic uint64_t	 t_last;	/* last input or answer */
	_Atomic uint64_t	 t_rec;		/* a record started; 0: none */
	_Atomic uint64_t	 t_prog;	/* last input into that record */
	_Atomic size_t		 charged;	/* incap + fraglen, in in_bytes */
	/* the worker holding the epoll event only: */
	uint8_t			*in;		/* unparsed input */
	size_t			 inlen, incap;
	uint8_t			*frag;		/* fragments so far */
	size_t			 fraglen;
	/* omtx (read without it by the timer): */
	pthread_mutex_t		 omtx;
	int			 dead;		/* closed: send nothing */
	int			 wfail;		/* a send failed */
	_Atomic int		 inflight;
	_Atomic int		 paused;
};

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
static struct nfs_ratelim rl_reject, rl_evict, rl_record, rl_budget,
			 rl_oversize;

static pthread_mutex_t	 inbuf_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		*inbuf_cache[IN_CACHE];
static int		 ninbuf_cache;

/* Worker pool. */
static int		 epfd = -1, qfd = -1;
static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_req	*wq_head, *wq_tail;
static pthread_t	*workers;
static int		 nworkers;
static _Atomic int	 wq_stop;

/* ---- input buffers ---------------------------------------------------- *
 * Small ones come from malloc.  From IN_MAP bytes on a buffer is a
 * mapping of its own, grown with mremap(2) (no copy): its pages become
 * resident only as bytes arrive, and a freed one goes back to the system
 * at once instead of staying in one of malloc's per-thread arenas (300
 * connections stalled in 1 MiB records left 100 MB resident under a
 * 32 MiB budget that way).  Full-size mappings (IN_MAPMAX: a whole
 * record) are cached, at most IN_CACHE of them, so that a client
 * streaming 1 MiB WRITEs does not map and fault in every record.  Each
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

static void
inbuf_free(uint8_t *p)
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
		if (ninbuf_cache < IN_CACHE) {
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
	inbuf_free(p);
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

void
nfs_addr_text(const struct sockaddr *sa, char *s, size_t n)
{
	const void *a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else {
		snprintf(s, n, "?");
		return;
	}
	if (inet_ntop(sa->sa_family, a, s, n) == NULL)
		snprintf(s, n, "?");
}

void *
nfs_req_alloc(struct nfs_req *r, size_t n)
{
	void **blk = xmalloc(sizeof(void *) + n);

	blk[0] = r->allocs;
	r->allocs = blk;
	return blk + 1;
}

/* ---- connection lifetime --------------------------------------------- */

/* Charge the input buffers of c to the budget as they are now (holder). */
static void
conn_charge(struct nfs_conn *c)
{
	size_t held = c->incap + c->fraglen;

	in_bytes += (int64_t)held - (int64_t)c->charged;
	c->charged = held;
}

/* Free the input buffers and give their bytes back to the budget. */
static void
conn_inbuf_free(struct nfs_conn *c)
{
	inbuf_free(c->in);
	free(c->frag);
	c->in = c->frag = NULL;
	c->inlen = c->incap = c->fraglen = 0;
	c->t_rec = 0;
	conn_charge(c);
}

static void
conn_unref(struct nfs_conn *c)
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
}

/* Re-arm the connection's epoll event: some worker reads it next. */
static void
conn_arm(struct nfs_conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
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
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	/* the budget gets the input back now, not after the last call */
	conn_inbuf_free(c);
	pthread_mutex_lock(&conn_mtx);
	conn_unlink_locked(c);
	pthread_mutex_unlock(&conn_mtx);
	conn_unref(c);
}

static void
req_free(struct nfs_req *r)
{
	void **blk, *next;

	for (blk = r->allocs; blk != NULL; blk = next) {
		next = blk[0];
		free(blk);
	}
	inbuf_free(r->rec);
	if (r->sendfd >= 0)
		close(r->sendfd);
	free(r);
}

/* A request of c is finished: flow control, then let go of c. */
static void
req_done(struct nfs_req *r)
{
	struct nfs_conn	*c = r->conn;
	int		 arm = 0;

	c->t_last = now_ms();	/* before inflight drops: not idle yet */
	pthread_mutex_lock(&c->omtx);
	c->inflight--;
	if (c->paused && !c->dead && c->inflight < CONN_MAX_INFLIGHT / 2) {
		/* we did not read while paused: the record's clocks
		 * restart (before the timer sees it unpaused) */
		if (c->t_rec != 0)
			c->t_rec = c->t_prog = now_ms();
		c->paused = 0;
		arm = 1;
	}
	pthread_mutex_unlock(&c->omtx);
	if (arm)
		conn_arm(c);
	req_free(r);
	conn_unref(c);
}

/* ---- output ------------------------------------------------------------ */

/* A send on c got EAGAIN: wait until it can go on (0), or give up (-1,
 * errno ETIMEDOUT) when the client has read nothing for SEND_TIMEOUT_MS
 * since *deadline was set. */
static int
conn_send_wait(struct nfs_conn *c, uint64_t *deadline)
{
	struct pollfd pfd;

	if (*deadline == 0)
		*deadline = now_ms() + SEND_TIMEOUT_MS;
	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	if (now_ms() < *deadline && poll(&pfd, 1, 1000) >= 0)
		return 0;
	errno = ETIMEDOUT;
	return -1;
}

/* omtx held: a send failed; nothing more goes out on c. */
static void
conn_send_fail(struct nfs_conn *c)
{
	log_debug("nfs: %s: send: %s", c->peertext, strerror(errno));
	c->wfail = 1;
	shutdown(c->fd, SHUT_RDWR);
}

/* omtx held: write the whole iovec (flags: MSG_MORE when more follows).
 * 0, or -1 after conn_send_fail(). */
static int
conn_sendv_locked(struct nfs_conn *c, struct iovec *iov, int iovcnt,
    int flags)
{
	struct msghdr	msg;
	ssize_t		n;
	uint64_t	deadline = 0;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	while (msg.msg_iovlen > 0) {
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT | flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && conn_send_wait(c,
		    &deadline) == 0)
			continue;
		if (n < 0) {
			conn_send_fail(c);
			return -1;
		}
		while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base +
			    n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Write the whole iovec under the send mutex; a failure or a client that
 * does not read for SEND_TIMEOUT_MS shuts the connection down. */
static void
conn_send(struct nfs_conn *c, struct iovec *iov, int iovcnt)
{
	pthread_mutex_lock(&c->omtx);
	if (!c->dead && !c->wfail)
		conn_sendv_locked(c, iov, iovcnt, 0);
	pthread_mutex_unlock(&c->omtx);
}

/*
 * A READ reply straight from the page cache: hdr, then flen bytes of
 * file fd from off with sendfile(2) (no copy through a buffer of ours),
 * then pad bytes of XDR padding.  The header already promised flen
 * bytes: should the file shrink meanwhile, zeros make up the rest so the
 * record stays whole (a read racing a truncate may see either).
 */
static void
conn_send_file(struct nfs_conn *c, struct iovec *hdr, int fd, off_t off,
    size_t flen, size_t pad)
{
	static const uint8_t	zeros[4096];
	uint8_t			*buf = NULL;
	struct iovec		 iov;
	uint64_t		 deadline = 0;
	ssize_t			 n;

	pthread_mutex_lock(&c->omtx);
	if (c->dead || c->wfail ||
	    conn_sendv_locked(c, hdr, 1, MSG_MORE) < 0)
		goto out;
	while (flen > 0) {
		n = buf == NULL ? sendfile(c->fd, fd, &off, flen) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (conn_send_wait(c, &deadline) == 0)
				continue;
			conn_send_fail(c);
			goto out;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET ||
		    errno == ENOTCONN || errno == ESHUTDOWN)) {
			conn_send_fail(c);
			goto out;
		}
		if (n > 0) {
			flen -= (size_t)n;
			continue;
		}
		/* the file shrank (0), or sendfile cannot read it: go on
		 * through a buffer, and zeros where nothing can be read */
		if (buf == NULL)
			buf = xmalloc(64 * 1024);
		n = pread(fd, buf, MIN(flen, (size_t)64 * 1024), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				log_warn("nfs: %s: read for a reply",
				    c->peertext);
			n = (ssize_t)MIN(flen, sizeof(zeros));
			memset(buf, 0, (size_t)n);
		}
		iov.iov_base = buf;
		iov.iov_len = (size_t)n;
		if (conn_sendv_locked(c, &iov, 1, MSG_MORE) < 0)
			goto out;
		off += n;
		flen -= (size_t)n;
	}
	if (pad > 0) {
		iov.iov_base = (void *)(uintptr_t)zeros;
		iov.iov_len = pad;
		conn_sendv_locked(c, &iov, 1, 0);
	}
out:
	pthread_mutex_unlock(&c->omtx);
	free(buf);
}

/* Reply header: marker (set by reply_finish), xid, REPLY, MSG_ACCEPTED,
 * AUTH_NONE verifier, accept_stat. */
static void
reply_hdr(uint8_t *b, uint32_t xid, uint32_t stat)
{
	put_be32(b + 4, xid);
	put_be32(b + 8, 1);		/* REPLY */
	put_be32(b + 12, 0);		/* MSG_ACCEPTED */
	put_be32(b + 16, 0);		/* verifier AUTH_NONE */
	put_be32(b + 20, 0);
	put_be32(b + 24, stat);
}

static void
send_status(struct nfs_req *r, uint32_t stat, uint32_t lo, uint32_t hi)
{
	uint8_t		b[RPC_REPLY_HDR + 8];
	size_t		len = RPC_REPLY_HDR;
	struct iovec	iov;

	reply_hdr(b, r->xid, stat);
	if (stat == RPC_PROG_MISMATCH) {
		put_be32(b + len, lo);
		put_be32(b + len + 4, hi);
		len += 8;
	}
	put_be32(b, 0x80000000u | (uint32_t)(len - 4));
	iov.iov_base = b;
	iov.iov_len = len;
	conn_send(r->conn, &iov, 1);
}

void
nfs_req_autherr(struct nfs_req *r, uint32_t why)
{
	uint8_t		b[24];
	struct iovec	iov;

	/* xid, REPLY, MSG_DENIED, AUTH_ERROR, auth_stat */
	put_be32(b, 0x80000000u | 20);
	put_be32(b + 4, r->xid);
	put_be32(b + 8, 1);
	put_be32(b + 12, 1);
	put_be32(b + 16, 1);
	put_be32(b + 20, why);
	iov.iov_base = b;
	iov.iov_len = sizeof(b);
	nfs_svc_count_autherr();
	conn_send(r->conn, &iov, 1);
}

void
nfs_req_garbage(struct nfs_req *r)
{
	nfs_svc_count_garbage();
	send_status(r, RPC_GARBAGE_ARGS, 0, 0);
}

/* Encode a SUCCESS reply; returns the record (marker included) or NULL
 * when the result does not encode. */
static uint8_t *
reply_encode(uint32_t xid, void *res, zdrproc_t enc, size_t hint,
    size_t *lenp)
{
	size_t	 cap = RPC_REPLY_HDR + hint + 4096;
	uint8_t	*b = xmalloc(cap);
	ZDR	 z;
	size_t	 len = RPC_REPLY_HDR;

	reply_hdr(b, xid, RPC_SUCCESS);
	if (enc != NULL) {
		zdrmem_create(&z, (char *)b + RPC_REPLY_HDR,
		    (uint32_t)(cap - RPC_REPLY_HDR), ZDR_ENCODE);
		if (!enc(&z, res)) {
			zdr_destroy(&z);
			free(b);
			return NULL;
		}
		len += (size_t)z.pos;
		zdr_destroy(&z);
	}
	put_be32(b, 0x80000000u | (uint32_t)(len - 4));
	*lenp = len;
	return b;
}

void
nfs_req_reply(struct nfs_req *r, void *res, zdrproc_t enc, size_t hint)
{
	uint8_t		*b;
	size_t		 len;
	struct iovec	 iov;

	if ((b = reply_encode(r->xid, res, enc, hint, &len)) == NULL) {
		log_warnx("nfs: %s: cannot encode a reply",
		    r->conn->peertext);
		return;
	}
	iov.iov_base = b;
	iov.iov_len = len;
	conn_send(r->conn, &iov, 1);
	free(b);
}

/* Send a DRC body again. */
static void
send_body(struct nfs_req *r, const uint8_t *body, size_t len)
{
	uint8_t		hdr[RPC_REPLY_HDR];
	struct iovec	iov[2];

	reply_hdr(hdr, r->xid, RPC_SUCCESS);
	put_be32(hdr, 0x80000000u | (uint32_t)(RPC_REPLY_HDR - 4 + len));
	iov[0].iov_base = hdr;
	iov[0].iov_len = RPC_REPLY_HDR;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = len;
	conn_send(r->conn, iov, len > 0 ? 2 : 1);
}

/* A successful READ: everything but the data is encoded (with an empty
 * opaque, whose length word is then patched), the data follows from the
 * read buffer itself. */
static int
send_read(struct nfs_req *r)
{
	READ3res	*res = r->res;
	READ3resok	*ok = &res->READ3res_u.resok;
	u_int		 n = ok->data.data_len;
	char		*data = ok->data.data_val;
	uint8_t		*b, pad[4] = { 0, 0, 0, 0 };
	size_t		 len;
	struct iovec	 iov[3];

	ok->data.data_len = 0;
	b = reply_encode(r->xid, res, r->encfn, 0, &len);
	ok->data.data_len = n;
	if (b == NULL)
		return -1;
	put_be32(b + len - 4, n);
	put_be32(b, 0x80000000u | (uint32_t)(len - 4 + ((n + 3) & ~3u)));
	iov[0].iov_base = b;
	iov[0].iov_len = len;
	if (r->sendfd >= 0) {
		conn_send_file(r->conn, iov, r->sendfd, (off_t)r->sendoff, n,
		    ((n + 3) & ~3u) - n);
		free(b);
		return 0;
	}
	iov[1].iov_base = data;
	iov[1].iov_len = n;
	iov[2].iov_base = pad;
	iov[2].iov_len = ((n + 3) & ~3u) - n;
	conn_send(r->conn, iov, iov[2].iov_len > 0 ? 3 : 2);
	free(b);
	return 0;
}

/* ---- executing calls ----------------------------------------------------- */

static void
exec_nfs3(struct nfs_req *r)
{
	uint8_t		*b;
	size_t		 len;
	int		 slot = -1;
	struct iovec	 iov;

	if (r->proc == NFS3_NULL) {
		nfs_req_reply(r, NULL, NULL, 0);
		nfs_svc_count(r->proc, 0, 0);
		return;
	}
	if (nfs3_proc_nonidempotent(r->proc)) {
		switch (nfs_drc_lookup((struct sockaddr *)&r->peer, r->xid,
		    NFS_PROG_NFS, 3, r->proc, &slot, &b, &len)) {
		case NFS_DRC_DONE:
			send_body(r, b, len);
			free(b);
			return;
		case NFS_DRC_INPROGRESS:
			return;		/* the first one will answer */
		case NFS_DRC_NEW:
			break;
		}
	}
	r->drc = slot;
	nfs3_run(r);
	if (r->autherr != 0) {
		/* refused at the RPC level: nothing was done */
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		nfs_req_autherr(r, r->autherr);
		return;
	}
	if (r->drop) {
		/* export not served here: no reply; a retransmission
		 * must be executed, not answered from the DRC */
		nfs_svc_count_drop();
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return;
	}
	nfs_svc_count(r->proc, r->status, now_us() - r->t0);
	if (r->proc == NFS3_READ && r->status == 0 && slot < 0) {
		if (send_read(r) == 0)
			return;
		if (r->sendfd >= 0) {	/* cannot happen; no data buffer */
			log_warnx("nfs: %s: cannot encode a READ reply",
			    r->conn->peertext);
			return;
		}
	}
	if ((b = reply_encode(r->xid, r->res, r->encfn, r->hint, &len)) ==
	    NULL) {
		log_warnx("nfs: %s: cannot encode the reply of %s",
		    r->conn->peertext, nfs3_proc_name(r->proc));
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return;
	}
	if (slot >= 0)
		nfs_drc_complete(slot, r->xid, b + RPC_REPLY_HDR,
		    len - RPC_REPLY_HDR);
	iov.iov_base = b;
	iov.iov_len = len;
	conn_send(r->conn, &iov, 1);
	free(b);
}

/* ---- portmapper v2 ------------------------------------------------------- */

static uint32_t
enc_u32(ZDR *z, void *p, ...)
{
	return zdr_u_int(z, p);
}

static void
exec_pmap(struct nfs_req *r)
{
	pmap2_mapping		 m;
	pmap2_mapping_list	 ml[5];
	pmap2_dump_result	 res;
	uint32_t		 v = 0;
	int			 n = 0;
	ZDR			 z;
	static const uint32_t	 progs[4][2] = {
		{ NFS_PROG_PMAP, 2 }, { NFS_PROG_MOUNT, 3 },
		{ NFS_PROG_NFS, 3 }, { 0, 0 } };

	switch (r->proc) {
	case PMAP2_NULL:
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	case PMAP2_SET:
	case PMAP2_UNSET:
	case PMAP2_GETPORT:
		memset(&m, 0, sizeof(m));
		zdrmem_create(&z, (char *)r->rec + r->argoff,
		    (uint32_t)(r->reclen - r->argoff), ZDR_DECODE);
		if (!zdr_pmap2_mapping(&z, &m)) {
			zdr_destroy(&z);
			nfs_req_garbage(r);
			return;
		}
		zdr_destroy(&z);
		/* we register no other programs: SET/UNSET say no */
		if (r->proc == PMAP2_GETPORT)
			v = nfs_svc_port(m.prog, m.vers, m.prot);
		nfs_req_reply(r, &v, enc_u32, 4);
		return;
	case PMAP2_DUMP:
		memset(ml, 0, sizeof(ml));
		for (int i = 0; progs[i][0] != 0; i++) {
			uint32_t port = nfs_svc_port(progs[i][0],
			    progs[i][1], IPPROTO_TCP);

			if (port == 0)
				continue;
			ml[n].map.prog = progs[i][0];
			ml[n].map.vers = progs[i][1];
			ml[n].map.prot = IPPROTO_TCP;
			ml[n].map.port = port;
			if (n > 0)
				ml[n - 1].next = &ml[n];
			n++;
		}
		res.list = n > 0 ? &ml[0] : NULL;
		nfs_req_reply(r, &res, (zdrproc_t)zdr_pmap2_dump_result, 512);
		return;
	}
}

/* Run one call on this thread and answer it (or not). */
static void
req_exec(struct nfs_req *r)
{
	uint32_t vers = 0, nproc = 0;

	switch (r->prog) {
	case NFS_PROG_NFS:
		vers = 3;
		nproc = NFS3_NPROC;
		break;
	case NFS_PROG_MOUNT:
		vers = 3;
		nproc = 6;
		break;
	case NFS_PROG_PMAP:
		vers = 2;
		nproc = 5;		/* CALLIT is not served */
		break;
	default:
		send_status(r, RPC_PROG_UNAVAIL, 0, 0);
		goto out;
	}
	if (r->cred.flavor == UINT32_MAX)
		nfs_req_autherr(r, NFS_AUTH_BADCRED);	/* before dispatch */
	else if (r->vers != vers)
		send_status(r, RPC_PROG_MISMATCH, vers, vers);
	else if (r->proc >= nproc)
		send_status(r, RPC_PROC_UNAVAIL, 0, 0);
	else if (!r->args_ok)
		nfs_req_garbage(r);
	else if (r->prog == NFS_PROG_NFS)
		exec_nfs3(r);
	else if (r->prog == NFS_PROG_MOUNT)
		nfs_mnt_call(r);
	else
		exec_pmap(r);
out:
	req_done(r);
}

/* ---- input --------------------------------------------------------------- */

/* One complete record: rec holds 4 bytes of room + len bytes of body.
 * Takes rec.  Returns the request, or NULL when the connection must be
 * closed. */
static struct nfs_req *
conn_record(struct nfs_conn *c, uint8_t *rec, size_t len)
{
	struct nfs_callhdr	 h;
	struct nfs_req		*r;

	if (nfs_xdr_callhdr(rec + 4, len, &h) < 0) {
		log_debug("nfs: %s: malformed RPC call header (%zu bytes)",
		    c->peertext, len);
		inbuf_free(rec);
		return NULL;
	}
	if (h.rpcvers != 2) {
		log_debug("nfs: %s: RPC version %u", c->peertext, h.rpcvers);
		inbuf_free(rec);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->conn = c;
	r->xid = h.xid;
	r->prog = h.prog;
	r->vers = h.vers;
	r->proc = h.proc;
	r->peer = c->peer;
	r->peerlen = c->peerlen;
	r->drc = -1;
	r->sendfd = -1;
	r->t0 = now_us();
	r->args_ok = nfs_xdr_args_ok(&h, rec + 4, len);
	if (nfs_xdr_cred(&h, &r->cred) < 0)
		r->cred.flavor = UINT32_MAX;	/* AUTH_BADCRED */
	r->rec = rec;
	r->reclen = len + 4;
	r->argoff = 4 + h.argoff;
	atomic_fetch_add(&c->refs, 1);
	return r;
}

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
	    nfs_ratelim_ok(&rl_budget, more, sizeof(more))) {
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
 * buffer is freed).  -1: close. */
static int
conn_parse(struct nfs_conn *c, struct nfs_req **rs, int *nr)
{
	size_t		 off = 0, flen, cap;
	char		 more[48];
	uint32_t	 mark;
	uint8_t		*rec;
	struct nfs_req	*r, **tail = rs;
	int		 rc = 0;

	while (c->inlen - off >= 4) {
		mark = get_be32(c->in + off);
		flen = mark & 0x7fffffffu;
		if (flen + c->fraglen > NFS_MAXREC) {
			if (nfs_ratelim_ok(&rl_oversize, more, sizeof(more)))
				log_warnx("nfs: %s: record of %zu bytes is "
				    "larger than %d, closing%s", c->peertext,
				    flen + c->fraglen, NFS_MAXREC, more);
			rc = -1;
			break;
		}
		if (c->inlen - off < 4 + flen)
			break;		/* conn_room() grows c->in for it */
		if (!(mark & 0x80000000u)) {		/* not the last */
			c->frag = xrealloc(c->frag, c->fraglen + flen);
			memcpy(c->frag + c->fraglen, c->in + off + 4, flen);
			c->fraglen += flen;
			off += 4 + flen;
			continue;
		}
		if (off == 0 && c->fraglen == 0 && flen >= BIG_RECORD) {
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
		} else {
			rec = inbuf_resize(NULL, 0, 4 + c->fraglen + flen,
			    &cap);
			if (c->fraglen > 0)
				memcpy(rec + 4, c->frag, c->fraglen);
			memcpy(rec + 4 + c->fraglen, c->in + off + 4, flen);
			off += 4 + flen;
		}
		flen += c->fraglen;
		free(c->frag);
		c->frag = NULL;
		c->fraglen = 0;
		if ((r = conn_record(c, rec, flen)) == NULL) {
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
		inbuf_free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
	if (c->inlen == 0 && c->fraglen == 0)
		c->t_rec = 0;
	else if (c->t_rec == 0 || *nr > 0)
		c->t_rec = now_ms();	/* a new record started */
	conn_charge(c);
	return rc;
}

static void
req_queue(struct nfs_req *r)
{
	uint64_t one = 1;

	r->next = NULL;
	pthread_mutex_lock(&wq_mtx);
	if (wq_tail != NULL)
		wq_tail->next = r;
	else
		wq_head = r;
	wq_tail = r;
	pthread_mutex_unlock(&wq_mtx);
	if (write(qfd, &one, sizeof(one)) != sizeof(one))
		log_warn("nfs: eventfd write");
}

static struct nfs_req *
req_dequeue(void)
{
	struct nfs_req *r;

	pthread_mutex_lock(&wq_mtx);
	if ((r = wq_head) != NULL) {
		wq_head = r->next;
		if (wq_head == NULL)
			wq_tail = NULL;
	}
	pthread_mutex_unlock(&wq_mtx);
	return r;
}

/* The epoll event of c fired: this worker alone reads c now. */
static void
conn_input(struct nfs_conn *c)
{
	struct nfs_req	*rs = NULL, *r, *next;
	ssize_t		 n;
	int		 nr = 0, arm, why;

	/* read until a record is complete or the socket is empty: a
	 * large WRITE arrives in several pieces */
	for (;;) {
		if ((why = c->kill) != CONN_KILL_NONE) {
			conn_close(c, kill_why[why]);
			return;
		}
		if (c->inlen == c->incap && conn_room(c) < 0) {
			conn_close(c, kill_why[CONN_KILL_BUDGET]);
			return;
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
			return;
		}
		c->inlen += (size_t)n;
		c->t_last = c->t_prog = now_ms();
		if (conn_parse(c, &rs, &nr) < 0) {
			for (r = rs; r != NULL; r = next) {
				next = r->next;
				req_free(r);
				conn_unref(c);
			}
			conn_close(c, "bad input");
			return;
		}
		if (nr > 0)
			break;
	}
	if (nr == 0) {
		conn_arm(c);
		return;
	}
	pthread_mutex_lock(&c->omtx);
	c->inflight += nr;
	arm = c->inflight < CONN_MAX_INFLIGHT;
	if (!arm)
		c->paused = 1;
	pthread_mutex_unlock(&c->omtx);
	/* run the first record here, queue the others */
	r = rs;
	for (struct nfs_req *q = r->next; q != NULL; q = next) {
		next = q->next;
		req_queue(q);
	}
	if (arm)
		conn_arm(c);
	req_exec(r);
}

static void *
worker_main(void *arg)
{
	struct epoll_event	 ev;
	struct nfs_req		*r;
	uint64_t		 v;
	int			 n;

	(void)arg;
	for (;;) {
		n = epoll_wait(epfd, &ev, 1, -1);
		if (n < 0 && errno != EINTR) {
			log_warn("nfs: epoll_wait");
			return NULL;
		}
		if (n <= 0)
			continue;
		if (ev.data.ptr != NULL) {
			conn_input(ev.data.ptr);
			continue;
		}
		if (read(qfd, &v, sizeof(v)) != sizeof(v))
			continue;	/* another worker took it */
		if ((r = req_dequeue()) != NULL) {
			req_exec(r);
			continue;
		}
		if (wq_stop) {
			v = 1;		/* pass the stop on */
			if (write(qfd, &v, sizeof(v)) != sizeof(v))
				log_warn("nfs: eventfd write");
			return NULL;
		}
	}
}

int
nfs_workers_start(int n)
{
	struct epoll_event ev;

	wq_stop = 0;
	peer_seed = random_u64();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (qfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK |
	    EFD_SEMAPHORE)) < 0) {
		log_warn("nfs: epoll/eventfd");
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, qfd, &ev) < 0) {
		log_warn("nfs: epoll_ctl");
		return -1;
	}
	workers = xcalloc(n, sizeof(*workers));
	for (int i = 0; i < n; i++) {
		if ((errno = pthread_create(&workers[i], NULL, worker_main,
		    NULL)) != 0) {
			log_warn("nfs: pthread_create");
			return -1;
		}
		nworkers++;
	}
	return 0;
}

/* Stop the workers, then free every connection and queued call. */
void
nfs_workers_stop(void)
{
	struct nfs_req	*r;
	struct nfs_conn	*c;
	uint64_t	 v = 1;

	wq_stop = 1;
	if (qfd >= 0 && write(qfd, &v, sizeof(v)) != sizeof(v))
		log_warn("nfs: eventfd write");
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	nworkers = 0;
	while ((r = req_dequeue()) != NULL) {
		c = r->conn;
		req_free(r);
		conn_unref(c);
	}
	pthread_mutex_lock(&conn_mtx);
	while ((c = conns) != NULL) {
		conn_unlink_locked(c);
		conn_unref(c);
	}
	pthread_mutex_unlock(&conn_mtx);
	inbuf_cache_drain();
	if (epfd >= 0)
		close(epfd);
	if (qfd >= 0)
		close(qfd);
	epfd = qfd = -1;
}

/* ---- connections (loop thread) ---------------------------------------- */

void
nfs_conn_limits_set(const struct nfs_conn_limits *l)
{
	lim = *l;
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
	if (rv && nfs_ratelim_ok(&rl_evict, more, sizeof(more)))
		log_warnx("nfs: out of descriptors: evicted a connection of "
		    "%s (it had %d)%s", who, held, more);
	return rv;
}

void
nfs_conn_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct nfs_conn		*c;
	struct nfs_peer		*pe;
	struct sockaddr_storage	 ss;
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(ss);
	int			 one = 1, held = 0, evicted = 0, refused = 0;
	char			 who[64];
	char			 more[48];

	if (epfd < 0) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	memcpy(&c->peer, sa, MIN(salen, sizeof(c->peer)));
	c->peerlen = salen;
	nfs_addr_text(sa, c->peertext, sizeof(c->peertext));
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
		c->refs = 1;
		pthread_mutex_init(&c->omtx, NULL);
	}
	pthread_mutex_unlock(&conn_mtx);
	if (refused) {
		if (nfs_ratelim_ok(&rl_reject, more, sizeof(more)))
			log_warnx("nfs: %s has %d connections "
			    "(max-connections-per-client): a new one refused%s",
			    c->peertext, refused, more);
		close(fd);
		free(c);
		return;
	}
	if (evicted && nfs_ratelim_ok(&rl_evict, more, sizeof(more)))
		log_warnx("nfs: %d connections (max-connections): evicted the "
		    "longest stalled one of %s (it had %d) for %s%s",
		    lim.max_conns, who, held, c->peertext, more);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		nfs_addr_text((struct sockaddr *)&ss, c->localtext,
		    sizeof(c->localtext));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* log now: once armed, a worker may close and free c at once */
	log_debug("nfs: connection from %s", c->peertext);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("nfs: epoll_ctl add");
		shutdown(fd, SHUT_RDWR);	/* never armed: unlink here */
		pthread_mutex_lock(&conn_mtx);
		conn_unlink_locked(c);
		pthread_mutex_unlock(&conn_mtx);
		conn_unref(c);
	}
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
	if (nrec > 0 && nfs_ratelim_ok(&rl_record, more, sizeof(more)))
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

int
nfs_ratelim_ok(struct nfs_ratelim *rl, char *more, size_t morelen)
{
	uint64_t now = now_ms(), last = rl->last, n;

	if ((last != 0 && now - last < NFS_RATELIM_MS) ||
	    !atomic_compare_exchange_strong(&rl->last, &last, now)) {
		rl->suppressed++;
		return 0;
	}
	more[0] = 0;
	if ((n = atomic_exchange(&rl->suppressed, 0)) > 0)
		snprintf(more, morelen, " (%llu more not logged)",
		    (unsigned long long)n);
	return 1;
}

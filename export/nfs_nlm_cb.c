/*
 * nfs_nlm_cb.c — calls from the NFS server to clients: NLM GRANTED for a
 * blocked lock that became a lock, the _RES calls answering NLM _MSG
 * calls, and the small synchronous ONC RPC client (TCP, record marking,
 * AUTH_NONE) they and NSM's SM_NOTIFY use.
 *
 * A client's NLM service is found through its portmapper (port
 * nlm { callback-portmap-port }, 111 by default) with GETPORT(100021, 4,
 * TCP); every step is bounded (CB_TIMEOUT_MS each for the portmapper and
 * the call).  Calls leave from the address the client reached (the
 * service IP): a Linux client matches a GRANTED against the server
 * address of its blocked lock.
 *
 * GRANTED runs on a brl thread, synchronously: brl wants to know whether
 * the client took the lock (DONE), refused it (REFUSED: released) or
 * could not be reached (RETRY).  A waiter that used LOCK_MSG gets
 * GRANTED_MSG instead: sent is DONE, and when its GRANTED_RES refuses,
 * the lock is released then (pending[]).  The _RES calls go through a
 * bounded queue served by one thread, so a slow or absent client never
 * holds a worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "export/nfs_nlm_int.h"

#define CB_TIMEOUT_MS	2000
#define CB_QUEUE_MAX	256
#define CB_REPLY_MAX	65536
#define UDP_RESEND_MS	500
#define PENDING_MAX	64
#define PENDING_MS	60000
#define BLOB_VERSION	1
#define RESV_LO		600	/* reserved source ports tried */
#define RESV_HI		1024
#define RESV_TRIES	8

char	nlm_myname[BRL_CLIENT_MAX] = "duonas";

/* ---- addresses -------------------------------------------------------- */

int
nlm_addr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)
		    ->sin_addr, &((const struct sockaddr_in *)(const void *)b)
		    ->sin_addr, 4) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
		    ->sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)
		    ->sin6_addr, 16) == 0;
	return 0;
}

void
nlm_addr_put(struct buf *b, const struct sockaddr *sa)
{
	uint8_t a[16];

	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET)
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr, 16);
	buf_add_u8(b, sa->sa_family == AF_INET6 ? 6 : 4);
	buf_add(b, a, 16);
}

int
nlm_addr_get(struct rd *r, struct sockaddr_storage *ss)
{
	uint8_t		 fam = rd_u8(r);
	const uint8_t	*a = rd_bytes(r, 16);

	memset(ss, 0, sizeof(*ss));
	if (r->err)
		return -1;
	if (fam == 4) {
		ss->ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a, 4);
	} else if (fam == 6) {
		ss->ss_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a, 16);
	} else {
		return -1;
	}
	return 0;
}

/* ---- the RPC client ---------------------------------------------------- */

static int
left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

static int
sock_wait(int fd, short ev, uint64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = ev };
	int		n;

	do {
		n = poll(&pfd, 1, left_ms(deadline));
	} while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

/* A socket of type (SOCK_STREAM / SOCK_DGRAM) connected to (peer, port)
 * from local's address and a reserved port when possible; -1. */
static int
sock_connect(int type, const struct sockaddr *peer, uint16_t port,
    const struct sockaddr *local, uint64_t deadline)
{
	struct sockaddr_storage	ss, ls;
	socklen_t		len, elen = sizeof(int);
	int			fd, err = 0, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (peer->sa_family == AF_INET) {
		memcpy(&ss, peer, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else if (peer->sa_family == AF_INET6) {
		memcpy(&ss, peer, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return -1;
	}
	if ((fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	/* from the address the client reached, and from a reserved port
	 * as lockd and statd call from (some check it) */
	memset(&ls, 0, sizeof(ls));
	if (local != NULL && local->sa_family == ss.ss_family)
		memcpy(&ls, local, len);
	else
		ls.ss_family = ss.ss_family;	/* any address */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	for (int i = 0; i <= RESV_TRIES; i++) {
		uint16_t p = i < RESV_TRIES ? (uint16_t)(RESV_LO +
		    random_u64() % (RESV_HI - RESV_LO)) : 0;

		if (ls.ss_family == AF_INET)
			((struct sockaddr_in *)&ls)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&ls)->sin6_port = htons(p);
		if (bind(fd, (struct sockaddr *)&ls, len) == 0)
			break;
		/* not fatal: any port, the route's address may do */
		if (i == RESV_TRIES)
			log_debug("nlm: callback: bind: %s", strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS || sock_wait(fd, POLLOUT,
		    deadline) < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR,
		    &err, &elen) < 0 || err != 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
sock_io(int fd, void *p, size_t n, int wr, uint64_t deadline)
{
	uint8_t	*q = p;
	ssize_t	 k;

	while (n > 0) {
		k = wr ? send(fd, q, n, MSG_NOSIGNAL) : recv(fd, q, n, 0);
		if (k > 0) {
			q += k;
			n -= (size_t)k;
			continue;
		}
		if (k == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
		if (sock_wait(fd, wr ? POLLOUT : POLLIN, deadline) < 0)
			return -1;
	}
	return 0;
}

/* Parse a reply body (no marker): 0 and the result's offset when it is
 * an accepted SUCCESS reply to xid. */
static int
reply_parse(const uint8_t *p, size_t len, uint32_t xid, size_t *off)
{
	struct rd	r;
	uint32_t	vlen;

	rd_init(&r, p, len);
	if (rd_u32(&r) != xid || rd_u32(&r) != 1 || rd_u32(&r) != 0)
		return -1;		/* not our REPLY / MSG_ACCEPTED */
	rd_u32(&r);			/* verifier */
	vlen = rd_u32(&r);
	if (r.err || vlen > 400)
		return -1;
	rd_bytes(&r, (vlen + 3) & ~3u);
	if (rd_u32(&r) != 0 || r.err)	/* accept_stat SUCCESS */
		return -1;
	*off = len - r.left;
	return 0;
}

/* UDP: send the call (again every UDP_RESEND_MS) until a reply to xid
 * comes; it is left in *in / *inlen.  0 or -1. */
static int
udp_exchange(int fd, const struct buf *b, uint32_t xid, uint64_t deadline,
    uint8_t **in, size_t *inlen)
{
	uint64_t	next = 0;
	ssize_t		k;
	size_t		off;

	*in = xmalloc(CB_REPLY_MAX);
	while (left_ms(deadline) > 0) {
		if (now_ms() >= next) {
			if (send(fd, b->data + 4, b->len - 4, 0) < 0)
				return -1;
			next = now_ms() + UDP_RESEND_MS;
		}
		if (sock_wait(fd, POLLIN, MIN(deadline, next)) < 0)
			continue;
		k = recv(fd, *in, CB_REPLY_MAX, MSG_DONTWAIT);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -1;	/* e.g. ECONNREFUSED: nobody there */
		if (k > 0 && reply_parse(*in, (size_t)k, xid, &off) == 0) {
			*inlen = (size_t)k;
			return 0;
		}
	}
	return -1;
}

int
nfs_rpc_call(const struct sockaddr *peer, uint16_t port,
    const struct sockaddr *local, int prot, uint32_t prog, uint32_t vers,
    uint32_t proc, const void *args, size_t arglen, int timeout_ms,
    int noreply, uint8_t **res, size_t *reslen)
{
	uint64_t	 deadline = now_ms() + (uint64_t)timeout_ms;
	uint32_t	 xid = (uint32_t)random_u64(), m;
	uint8_t		*in = NULL, mk[4];
	size_t		 inlen = 0, off;
	struct buf	 b;
	int		 fd, rv = -1, last = 0;

	if (port == 0 || (fd = sock_connect(prot == IPPROTO_UDP ?
	    SOCK_DGRAM : SOCK_STREAM, peer, port, local, deadline)) < 0)
		return -1;
	buf_init(&b);
	buf_add_u32(&b, 0);		/* marker, set below */
	nlm_xdr_callhdr(&b, xid, prog, vers, proc);
	buf_add(&b, args, arglen);
	put_be32(b.data, 0x80000000u | (uint32_t)(b.len - 4));
	if (prot == IPPROTO_UDP) {
		if (udp_exchange(fd, &b, xid, deadline, &in, &inlen) < 0)
			goto out;
		last = 1;	/* the datagram is the reply */
	} else if (sock_io(fd, b.data, b.len, 1, deadline) < 0) {
		goto out;
	}
	if (noreply && prot != IPPROTO_UDP) {
		rv = 0;
		goto out;
	}
	/* the reply, in as many fragments as the server cut it */
	while (!last) {
		if (sock_io(fd, mk, 4, 0, deadline) < 0)
			goto out;
		m = get_be32(mk);
		last = (m & 0x80000000u) != 0;
		m &= 0x7fffffffu;
		if (m > CB_REPLY_MAX - inlen)
			goto out;
		in = xrealloc(in, inlen + m + 1);
		if (sock_io(fd, in + inlen, m, 0, deadline) < 0)
			goto out;
		inlen += m;
	}
	if (reply_parse(in, inlen, xid, &off) < 0)
		goto out;
	if (res != NULL) {
		*reslen = inlen - off;
		*res = xmalloc(*reslen + 1);
		memcpy(*res, in + off, *reslen);
	}
	rv = 0;
out:
	close(fd);
	buf_free(&b);
	free(in);
	return rv;
}

uint16_t
nfs_rpc_getport(const struct sockaddr *peer, const struct sockaddr *local,
    uint32_t prog, uint32_t vers, int prot, int timeout_ms)
{
	uint8_t	 a[16], *res = NULL;
	size_t	 len = 0;
	uint32_t port = 0;

	put_be32(a, prog);
	put_be32(a + 4, vers);
	put_be32(a + 8, (uint32_t)prot);
	put_be32(a + 12, 0);
	/* asked over the protocol it is about */
	if (nfs_rpc_call(peer, (uint16_t)nfs_nlm_cb_pmap_port, local, prot,
	    NFS_PROG_PMAP, 2, PMAP2_GETPORT, a, sizeof(a), timeout_ms, 0,
	    &res, &len) == 0 && len >= 4)
		port = get_be32(res);
	free(res);
	return port > 65535 ? 0 : (uint16_t)port;
}

/* ---- the waiter's blob ------------------------------------------------- */

size_t
nlm_blob_make(uint8_t *blob, size_t cap, const struct nlm_obj *cookie,
    int msg, const struct sockaddr *peer, const struct sockaddr *local,
    const struct nlm_obj *fh)
{
	struct buf	b;
	size_t		n = 0;

	if (cookie->len > NLM_COOKIE_KEEP || fh->len > NFS3_FHSIZE)
		return 0;
	buf_init(&b);
	buf_add_u8(&b, BLOB_VERSION);
	buf_add_u8(&b, msg ? 1 : 0);
	buf_add_u16(&b, (uint16_t)cookie->len);
	buf_add(&b, cookie->p, cookie->len);
	nlm_addr_put(&b, peer);
	nlm_addr_put(&b, local);
	buf_add_u8(&b, (uint8_t)fh->len);
	buf_add(&b, fh->p, fh->len);
	if (b.len <= cap) {
		memcpy(blob, b.data, b.len);
		n = b.len;
	}
	buf_free(&b);
	return n;
}

struct nlm_blob {
	int			msg;
	const uint8_t		*cookie;
	uint32_t		cookielen;
	struct sockaddr_storage	peer, local;
	const uint8_t		*fh;
	uint32_t		fhlen;
};

static int
blob_parse(const void *blob, size_t len, struct nlm_blob *w)
{
	struct rd r;

	rd_init(&r, blob, len);
	if (rd_u8(&r) != BLOB_VERSION)
		return -1;
	w->msg = rd_u8(&r) & 1;
	w->cookielen = rd_u16(&r);
	if (r.err || w->cookielen > NLM_COOKIE_KEEP)
		return -1;
	w->cookie = rd_bytes(&r, w->cookielen);
	if (nlm_addr_get(&r, &w->peer) < 0 ||
	    nlm_addr_get(&r, &w->local) < 0)
		return -1;
	w->fhlen = rd_u8(&r);
	if (r.err || w->fhlen > NFS3_FHSIZE)
		return -1;
	w->fh = rd_bytes(&r, w->fhlen);
	return r.err ? -1 : 0;
}

/* ---- GRANTED_MSG awaiting a GRANTED_RES --------------------------------- */

struct pending {
	uint64_t		t;		/* 0: free */
	struct sockaddr_storage	peer;
	uint8_t			cookie[NLM_COOKIE_KEEP];
	uint32_t		cookielen;
	struct brl_file		f;
	struct brl_owner	o;
	struct brl_range	r;
};
static struct pending	pending[PENDING_MAX];
static pthread_mutex_t	pending_mtx = PTHREAD_MUTEX_INITIALIZER;

static void
pending_add(const struct nlm_blob *w, const struct brl_file *f,
    const struct brl_owner *o, const struct brl_range *r)
{
	struct pending	*p = &pending[0];
	uint64_t	 now = now_ms();

	pthread_mutex_lock(&pending_mtx);
	/* a free or expired slot, else the oldest */
	for (int i = 0; i < PENDING_MAX; i++) {
		if (pending[i].t == 0 || now - pending[i].t > PENDING_MS) {
			p = &pending[i];
			break;
		}
		if (pending[i].t < p->t)
			p = &pending[i];
	}
	p->t = now;
	p->peer = w->peer;
	memcpy(p->cookie, w->cookie, w->cookielen);
	p->cookielen = w->cookielen;
	p->f = *f;
	p->o = *o;
	p->r = *r;
	pthread_mutex_unlock(&pending_mtx);
}

void
nlm_cb_granted_res(const struct sockaddr *peer, const struct nlm_obj *cookie,
    uint32_t stat)
{
	struct pending	p;
	int		found = 0;

	pthread_mutex_lock(&pending_mtx);
	for (int i = 0; i < PENDING_MAX; i++) {
		if (pending[i].t == 0 || pending[i].cookielen != cookie->len ||
		    memcmp(pending[i].cookie, cookie->p, cookie->len) != 0 ||
		    !nlm_addr_eq((struct sockaddr *)&pending[i].peer, peer))
			continue;
		p = pending[i];
		pending[i].t = 0;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&pending_mtx);
	if (!found || stat == NLM4_GRANTED)
		return;
	/* the client no longer wants the lock it was granted */
	log_info("nlm: %s refused a granted lock: released", p.o.client);
	if (brl_unlock(&p.f, &p.o, &p.r) != BRL_OK)
		log_warnx("nlm: cannot release the lock %s refused",
		    p.o.client);
}

/* ---- GRANTED ----------------------------------------------------------- */

/* Does this head serve export id now (online, enabled, not fenced)? */
static int
serves(uint32_t id)
{
	const struct nfs_exptab	*t = nfs_exptab_rdlock();
	const struct nfs_export	*e = nfs_export_find(t, id);
	int			 on;

	on = e != NULL && e->fd >= 0 && nfs_export_enabled(id) &&
	    nfs_export_gate(id);
	nfs_exptab_unlock();
	return on;
}

int
nlm_grant_cb(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, const void *blob, size_t bloblen, void *arg)
{
	struct nlm_blob	 w;
	struct buf	 b;
	struct rd	 rd;
	struct nlm_obj	 ck;
	uint8_t		*res = NULL;
	size_t		 reslen = 0;
	uint16_t	 port;
	uint32_t	 st;
	int		 rv = BRL_GRANT_RETRY;
	char		 host[64];

	(void)arg;
	if (o->proto != BRL_PROTO_NLM || !serves(f->expid))
		return BRL_GRANT_NOTMINE;
	if (blob_parse(blob, bloblen, &w) < 0) {
		/* cannot tell the client: it retransmits its LOCK and
		 * finds the range free */
		log_warnx("nlm: grant for %s: malformed waiter data",
		    o->client);
		return BRL_GRANT_REFUSED;
	}
	nfs_addr_text((struct sockaddr *)&w.peer, host, sizeof(host));
	port = nfs_rpc_getport((struct sockaddr *)&w.peer,
	    (struct sockaddr *)&w.local, NFS_PROG_NLM, 4, IPPROTO_TCP,
	    CB_TIMEOUT_MS);
	if (port == 0) {
		log_debug("nlm: grant for %s: no NLM service at %s",
		    o->client, host);
		return BRL_GRANT_RETRY;
	}
	buf_init(&b);
	nlm_xdr_obj(&b, w.cookie, w.cookielen);
	buf_add_u32(&b, r->excl != 0);
	nlm_xdr_lock(&b, nlm_myname, w.fh, w.fhlen, o, r);
	if (nfs_rpc_call((struct sockaddr *)&w.peer, port,
	    (struct sockaddr *)&w.local, IPPROTO_TCP, NFS_PROG_NLM, 4,
	    w.msg ? 10 : 5,
	    b.data, b.len, CB_TIMEOUT_MS, w.msg, &res, &reslen) < 0) {
		log_debug("nlm: grant for %s: %s did not answer", o->client,
		    host);
		goto out;
	}
	if (w.msg) {
		pending_add(&w, f, o, r);
		rv = BRL_GRANT_DONE;
		goto out;
	}
	/* nlm4_res: cookie, stat */
	rd_init(&rd, res, reslen);
	if (nlm_rd_obj(&rd, &ck, NLM_OBJ_MAX) < 0)
		goto out;
	st = rd_u32(&rd);
	if (rd.err)
		goto out;
	if (st == NLM4_GRANTED)
		rv = BRL_GRANT_DONE;
	else if (st == NLM4_DENIED_GRACE_PERIOD)
		rv = BRL_GRANT_RETRY;
	else
		rv = BRL_GRANT_REFUSED;
	log_debug("nlm: granted a waiting lock to %s (%s): %s", o->client,
	    host, rv == BRL_GRANT_DONE ? "taken" : "refused");
out:
	buf_free(&b);
	free(res);
	return rv;
}

/* ---- the _RES queue ---------------------------------------------------- */

struct cbq {
	struct cbq		*next;
	struct sockaddr_storage	 peer, local;
	uint32_t		 proc;
	size_t			 len;
	uint8_t			 args[];
};

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct cbq	*head, *tail;
	int		 n;
	int		 stop;
	int		 running;
	pthread_t	 th;
	uint64_t	 dropped;
} cbq = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static struct log_ratelim rl_cbq;

void
nlm_cb_queue(const struct sockaddr *peer, const struct sockaddr *local,
    uint32_t proc, const uint8_t *args, size_t len)
{
	struct cbq	*q;
	char		 more[64];

	pthread_mutex_lock(&cbq.mtx);
	if (!cbq.running || cbq.n >= CB_QUEUE_MAX) {
		cbq.dropped++;
		pthread_mutex_unlock(&cbq.mtx);
		if (log_ratelim_ok(&rl_cbq, more, sizeof(more)))
			log_warnx("nlm: callback queue full: a _RES call is "
			    "not sent%s", more);
		return;
	}
	q = xcalloc(1, sizeof(*q) + len);
	memcpy(&q->peer, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	memcpy(&q->local, local, local->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	q->proc = proc;
	q->len = len;
	memcpy(q->args, args, len);
	if (cbq.tail != NULL)
		cbq.tail->next = q;
	else
		cbq.head = q;
	cbq.tail = q;
	cbq.n++;
	pthread_cond_signal(&cbq.cv);
	pthread_mutex_unlock(&cbq.mtx);
}

static void *
cbq_main(void *arg)
{
	struct cbq	*q;
	uint16_t	 port;
	char		 host[64];

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&cbq.mtx);
		while (cbq.head == NULL && !cbq.stop)
			pthread_cond_wait(&cbq.cv, &cbq.mtx);
		if (cbq.stop) {
			pthread_mutex_unlock(&cbq.mtx);
			return NULL;
		}
		q = cbq.head;
		cbq.head = q->next;
		if (cbq.head == NULL)
			cbq.tail = NULL;
		cbq.n--;
		pthread_mutex_unlock(&cbq.mtx);
		port = nfs_rpc_getport((struct sockaddr *)&q->peer,
		    (struct sockaddr *)&q->local, NFS_PROG_NLM, 4, IPPROTO_TCP,
		    CB_TIMEOUT_MS);
		if (port == 0 || nfs_rpc_call((struct sockaddr *)&q->peer,
		    port, (struct sockaddr *)&q->local, IPPROTO_TCP,
		    NFS_PROG_NLM, 4, q->proc, q->args, q->len, CB_TIMEOUT_MS,
		    1, NULL, NULL) < 0) {
			nfs_addr_text((struct sockaddr *)&q->peer, host,
			    sizeof(host));
			log_debug("nlm: cannot send procedure %u to %s",
			    q->proc, host);
		}
		free(q);
	}
}

int
nlm_cb_start(void)
{
	if (gethostname(nlm_myname, sizeof(nlm_myname) - 1) < 0)
		snprintf(nlm_myname, sizeof(nlm_myname), "duonas");
	pthread_mutex_lock(&cbq.mtx);
	cbq.stop = 0;
	pthread_mutex_unlock(&cbq.mtx);
	if ((errno = pthread_create(&cbq.th, NULL, cbq_main, NULL)) != 0) {
		log_warn("nlm: pthread_create");
		return -1;
	}
	pthread_mutex_lock(&cbq.mtx);
	cbq.running = 1;
	pthread_mutex_unlock(&cbq.mtx);
	return 0;
}

void
nlm_cb_stop(void)
{
	struct cbq *q;

	pthread_mutex_lock(&cbq.mtx);
	if (!cbq.running) {
		pthread_mutex_unlock(&cbq.mtx);
		return;
	}
	cbq.stop = 1;
	cbq.running = 0;
	pthread_cond_signal(&cbq.cv);
	pthread_mutex_unlock(&cbq.mtx);
	pthread_join(cbq.th, NULL);
	while ((q = cbq.head) != NULL) {
		cbq.head = q->next;
		free(q);
	}
	cbq.tail = NULL;
	cbq.n = 0;
}

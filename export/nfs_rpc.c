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
#include <sys/uio.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs_int.h"

#define CONN_MAX_INFLIGHT	64	/* stop reading above this */
#define CONN_READ_CHUNK		(256 * 1024)
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
	/* the worker holding the epoll event only: */
	uint8_t			*in;		/* unparsed input */
	size_t			 inlen, incap;
	uint8_t			*frag;		/* fragments so far */
	size_t			 fraglen;
	/* omtx: */
	pthread_mutex_t		 omtx;
	int			 dead;		/* closed: send nothing */
	int			 wfail;		/* a send failed */
	int			 inflight;
	int			 paused;
};

static pthread_mutex_t	 conn_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_conn	*conns;
static int		 nconns;

/* Worker pool. */
static int		 epfd = -1, qfd = -1;
static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_req	*wq_head, *wq_tail;
static pthread_t	*workers;
static int		 nworkers;
static _Atomic int	 wq_stop;

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

static void
conn_unref(struct nfs_conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	close(c->fd);
	free(c->in);
	free(c->frag);
	pthread_mutex_destroy(&c->omtx);
	free(c);
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
	pthread_mutex_lock(&conn_mtx);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
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
	free(r->rec);
	free(r);
}

/* A request of c is finished: flow control, then let go of c. */
static void
req_done(struct nfs_req *r)
{
	struct nfs_conn	*c = r->conn;
	int		 arm = 0;

	pthread_mutex_lock(&c->omtx);
	c->inflight--;
	if (c->paused && !c->dead && c->inflight < CONN_MAX_INFLIGHT / 2) {
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

/* Write the whole iovec under the send mutex; a failure or a client that
 * does not read for SEND_TIMEOUT_MS shuts the connection down. */
static void
conn_send(struct nfs_conn *c, struct iovec *iov, int iovcnt)
{
	struct msghdr	msg;
	struct pollfd	pfd;
	ssize_t		n;
	uint64_t	deadline = 0;

	pthread_mutex_lock(&c->omtx);
	if (c->dead || c->wfail)
		goto out;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	while (msg.msg_iovlen > 0) {
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (deadline == 0)
				deadline = now_ms() + SEND_TIMEOUT_MS;
			pfd.fd = c->fd;
			pfd.events = POLLOUT;
			if (now_ms() < deadline &&
			    poll(&pfd, 1, 1000) >= 0)
				continue;
			errno = ETIMEDOUT;
		}
		if (n < 0) {
			log_debug("nfs: %s: send: %s", c->peertext,
			    strerror(errno));
			c->wfail = 1;
			shutdown(c->fd, SHUT_RDWR);
			break;
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
out:
	pthread_mutex_unlock(&c->omtx);
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
	if (r->drop) {
		/* export not served here: no reply; a retransmission
		 * must be executed, not answered from the DRC */
		nfs_svc_count_drop();
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return;
	}
	nfs_svc_count(r->proc, r->status, now_us() - r->t0);
	if (r->proc == NFS3_READ && r->status == 0 && slot < 0 &&
	    send_read(r) == 0)
		return;
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
	if (r->vers != vers)
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
		free(rec);
		return NULL;
	}
	if (h.rpcvers != 2) {
		log_debug("nfs: %s: RPC version %u", c->peertext, h.rpcvers);
		free(rec);
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
	r->t0 = now_us();
	r->args_ok = nfs_xdr_args_ok(&h, rec + 4, len);
	if (nfs_xdr_cred(&h, &r->cred) < 0)
		r->cred.flavor = UINT32_MAX;	/* answered with ACCES */
	r->rec = rec;
	r->reclen = len + 4;
	r->argoff = 4 + h.argoff;
	atomic_fetch_add(&c->refs, 1);
	return r;
}

/* Cut complete records out of c->in into the list *rs, in order.
 * -1: close. */
static int
conn_parse(struct nfs_conn *c, struct nfs_req **rs, int *nr)
{
	size_t		 off = 0, flen;
	uint32_t	 mark;
	uint8_t		*rec;
	struct nfs_req	*r, **tail = rs;
	int		 rc = 0;

	while (c->inlen - off >= 4) {
		mark = get_be32(c->in + off);
		flen = mark & 0x7fffffffu;
		if (flen + c->fraglen > NFS_MAXREC) {
			log_warnx("nfs: %s: record of %zu bytes is larger "
			    "than %d, closing", c->peertext,
			    flen + c->fraglen, NFS_MAXREC);
			rc = -1;
			break;
		}
		if (c->inlen - off < 4 + flen) {
			if (4 + flen > c->incap) {	/* make room for it */
				memmove(c->in, c->in + off, c->inlen - off);
				c->inlen -= off;
				off = 0;
				c->incap = 4 + flen + 65536;
				c->in = xrealloc(c->in, c->incap);
			}
			break;
		}
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
			c->incap = MAX(c->inlen - 4 - flen,
			    (size_t)CONN_READ_CHUNK);
			c->in = xmalloc(c->incap);
			memcpy(c->in, rec + 4 + flen, c->inlen - 4 - flen);
			c->inlen -= 4 + flen;
		} else {
			rec = xmalloc(4 + c->fraglen + flen);
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
	int		 nr = 0, arm;

	/* read until a record is complete or the socket is empty: a
	 * large WRITE arrives in several pieces */
	for (;;) {
		if (c->incap - c->inlen < 4096) {
			c->incap = MAX(c->incap * 2, (size_t)CONN_READ_CHUNK);
			c->in = xrealloc(c->in, c->incap);
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
	/* shrink a buffer grown for one large record */
	if (c->inlen == 0 && c->incap > CONN_READ_CHUNK) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
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
		conns = c->next;
		nconns--;
		conn_unref(c);
	}
	pthread_mutex_unlock(&conn_mtx);
	if (epfd >= 0)
		close(epfd);
	if (qfd >= 0)
		close(qfd);
	epfd = qfd = -1;
}

/* ---- connections (loop thread) ---------------------------------------- */

void
nfs_conn_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct nfs_conn		*c;
	struct sockaddr_storage	 ss;
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(ss);
	int			 one = 1;

	if (epfd < 0) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	memcpy(&c->peer, sa, MIN(salen, sizeof(c->peer)));
	c->peerlen = salen;
	nfs_addr_text(sa, c->peertext, sizeof(c->peertext));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		nfs_addr_text((struct sockaddr *)&ss, c->localtext,
		    sizeof(c->localtext));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	pthread_mutex_init(&c->omtx, NULL);
	c->refs = 1;
	pthread_mutex_lock(&conn_mtx);
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	pthread_mutex_unlock(&conn_mtx);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("nfs: epoll_ctl add");
		shutdown(fd, SHUT_RDWR);	/* never armed: unlink here */
		pthread_mutex_lock(&conn_mtx);
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		nconns--;
		pthread_mutex_unlock(&conn_mtx);
		conn_unref(c);
		return;
	}
	log_debug("nfs: connection from %s", c->peertext);
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
		if (addr == NULL || strcmp(a, c->localtext) == 0)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&conn_mtx);
}

/* Distinct client addresses currently connected. */
int
nfs_conn_clients(void)
{
	int n = 0;

	pthread_mutex_lock(&conn_mtx);
	for (struct nfs_conn *c = conns; c != NULL; c = c->next) {
		struct nfs_conn *d;

		for (d = conns; d != c; d = d->next)
			if (strcmp(d->peertext, c->peertext) == 0)
				break;
		if (d == c)
			n++;
	}
	pthread_mutex_unlock(&conn_mtx);
	return n;
}

/*
 * nfs_rpc.c — ONC RPC calls, from a record to the reply, and the worker
 * threads that run them.  Connections, their input buffers and limits,
 * and cutting the stream into records are nfs_conn.c's.
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
 * replies are written with writev straight from the read buffer, or
 * with sendfile(2) from the file.  A connection with CONN_MAX_INFLIGHT
 * calls in flight is not re-armed until half are answered.  The reply
 * of a non-idempotent call is parked until the peer head acknowledged
 * its duplicate request cache entry (nfs_drc_repl.c): the worker goes
 * on, and the acknowledgement queues the request again for a worker
 * that only sends it.  Over UDP only the portmapper and NSM are served
 * (nfs_udp.c).  Each worker registers with the local health monitor
 * (lhm.h): it stamps when it started its current call, and a call
 * running past health { worker-stuck } is a fault of the head
 * (surrender).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs.h"
#include "export/nfs_conn_int.h"
#include "export/nfs_drc.h"
#include "lhm/lhm.h"

#define CONN_MAX_INFLIGHT	64	/* stop reading above this */
#define SEND_TIMEOUT_MS		30000
#define RPC_REPLY_HDR		28	/* marker .. accept_stat */

/* accept_stat */
#define RPC_SUCCESS		0
#define RPC_PROG_UNAVAIL	1
#define RPC_PROG_MISMATCH	2
#define RPC_PROC_UNAVAIL	3
#define RPC_GARBAGE_ARGS	4

/* Worker pool. */
int			 nfs_epfd = -1;
static int		 qfd = -1;
static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_req	*wq_head, *wq_tail;
static pthread_t	*workers;
static int		 nworkers;
static _Atomic int	 wq_stop;

/* Liveness of each worker, for the health monitor. */
struct nfs_wlive {
	int			 idx;
	int			 lhm_id;
	_Atomic uint64_t	 busy_since;	/* 0: waiting for work */
	_Atomic uint64_t	 calls;
};
static struct nfs_wlive	*wlive;

/* Test-only fault switch (nfs_test_stuck): one worker stops in its
 * next call until the switch is turned off. */
static _Atomic int	 test_stuck;
static _Atomic int	 test_stuck_taken;

/* ---- requests ---------------------------------------------------------- */

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

/* One complete record of c (nfs_conn.c cut it): check its call header
 * and make it a request. */
struct nfs_req *
nfs_req_new(struct nfs_conn *c, uint8_t *rec, size_t len)
{
	struct nfs_callhdr	 h;
	struct nfs_req		*r;

	if (nfs_xdr_callhdr(rec + 4, len, &h) < 0) {
		log_debug("nfs: %s: malformed RPC call header (%zu bytes)",
		    c->peertext, len);
		nfs_inbuf_free(rec);
		return NULL;
	}
	if (h.rpcvers != 2) {
		log_debug("nfs: %s: RPC version %u", c->peertext, h.rpcvers);
		nfs_inbuf_free(rec);
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
	r->local = c->local;
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

void
nfs_req_free(struct nfs_req *r)
{
	void **blk, *next;

	for (blk = r->allocs; blk != NULL; blk = next) {
		next = blk[0];
		free(blk);
	}
	nfs_inbuf_free(r->rec);
	if (r->sendfd >= 0)
		close(r->sendfd);
	free(r->out);
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
		nfs_conn_arm(c);
	nfs_req_free(r);
	nfs_conn_unref(c);
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

static void	req_queue(struct nfs_req *);

/* Loop thread: the peer has r's DRC entry (or is not waited for): a
 * worker sends the parked reply (req_exec). */
static void
reply_acked(void *arg)
{
	req_queue(arg);
}

/* 1: r's reply is parked until the peer acknowledged its DRC entry
 * (reply_acked), do not touch r; 0: done. */
static int
exec_nfs3(struct nfs_req *r)
{
	uint8_t		*b;
	size_t		 len;
	int		 slot = -1;
	struct iovec	 iov;

	if (r->proc == NFS3_NULL) {
		nfs_req_reply(r, NULL, NULL, 0);
		nfs_svc_count(r->proc, 0, 0);
		return 0;
	}
	if (nfs3_proc_nonidempotent(r->proc) &&
	    nfs_req_drc_begin(r, &slot, NULL, NULL))
		return 0;	/* answered from the cache, or in progress */
	r->drc = slot;
	nfs3_run(r);
	if (r->autherr != 0) {
		/* refused at the RPC level: nothing was done */
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		nfs_req_autherr(r, r->autherr);
		return 0;
	}
	if (r->drop) {
		/* export not served here: no reply; a retransmission
		 * must be executed, not answered from the DRC */
		nfs_svc_count_drop();
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return 0;
	}
	nfs_svc_count(r->proc, r->status, now_us() - r->t0);
	if (r->proc == NFS3_READ && r->status == 0 && slot < 0) {
		if (send_read(r) == 0)
			return 0;
		if (r->sendfd >= 0) {	/* cannot happen; no data buffer */
			log_warnx("nfs: %s: cannot encode a READ reply",
			    r->conn->peertext);
			return 0;
		}
	}
	if ((b = reply_encode(r->xid, r->res, r->encfn, r->hint, &len)) ==
	    NULL) {
		log_warnx("nfs: %s: cannot encode the reply of %s",
		    r->conn->peertext, nfs3_proc_name(r->proc));
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return 0;
	}
	if (slot >= 0) {
		r->out = b;
		r->outlen = len;
		if (nfs_drc_complete_async(slot, r->xid, b + RPC_REPLY_HDR,
		    len - RPC_REPLY_HDR, reply_acked, r))
			return 1;
		r->out = NULL;
	}
	iov.iov_base = b;
	iov.iov_len = len;
	conn_send(r->conn, &iov, 1);
	free(b);
	return 0;
}

/* The DRC lookup of a non-idempotent call (NFS v3, NLM): 1 when it is
 * done with (the cached reply was sent, or given back in *prior; or the
 * first copy is still running), 0 with *slot to complete or abort. */
int
nfs_req_drc_begin(struct nfs_req *r, int *slot, uint8_t **prior,
    size_t *priorlen)
{
	uint8_t	*b;
	size_t	 len;

	*slot = -1;
	switch (nfs_drc_lookup((struct sockaddr *)&r->peer, r->xid, r->prog,
	    r->vers, r->proc, slot, &b, &len)) {
	case NFS_DRC_DONE:
		if (prior != NULL) {
			*prior = b;
			*priorlen = len;
			return 1;
		}
		send_body(r, b, len);
		free(b);
		return 1;
	case NFS_DRC_INPROGRESS:
		return 1;		/* the first one will answer */
	case NFS_DRC_NEW:
		break;
	}
	return 0;
}

static void
drc_nowait(void *arg)
{
	(void)arg;
}

void
nfs_req_reply_drc(struct nfs_req *r, int slot, void *res, zdrproc_t enc,
    size_t hint, const void *keep, size_t keeplen)
{
	uint8_t		*b;
	size_t		 len;
	struct iovec	 iov;

	if ((b = reply_encode(r->xid, res, enc, hint, &len)) == NULL) {
		log_warnx("nfs: %s: cannot encode a reply",
		    r->conn->peertext);
		if (slot >= 0)
			nfs_drc_abort(slot, r->xid);
		return;
	}
	/* The entry goes to the peer before the reply goes out, but the
	 * reply does not wait for the peer's acknowledgement: these calls
	 * (NLM) changed the cluster lock table, which both heads already
	 * hold, and a LOCK or UNLOCK executed again on the other head
	 * gives the same answer (docs/nfs.md, "Duplicate request cache"),
	 * so waiting would only double the round trips of every lock. */
	if (slot >= 0 && keep != NULL)
		(void)nfs_drc_complete_async(slot, r->xid, keep, keeplen,
		    drc_nowait, NULL);
	else if (slot >= 0)
		(void)nfs_drc_complete_async(slot, r->xid, b + RPC_REPLY_HDR,
		    len - RPC_REPLY_HDR, drc_nowait, NULL);
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
	pmap2_mapping_list	 ml[16];
	pmap2_dump_result	 res;
	uint32_t		 v = 0, maps[16][4];
	int			 n;
	ZDR			 z;

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
		n = nfs_svc_maps(maps, (int)nitems(maps));
		for (int i = 0; i < n; i++) {
			ml[i].map.prog = maps[i][0];
			ml[i].map.vers = maps[i][1];
			ml[i].map.prot = maps[i][2];
			ml[i].map.port = maps[i][3];
			if (i > 0)
				ml[i - 1].next = &ml[i];
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

	if (atomic_load(&test_stuck) && !atomic_exchange(&test_stuck_taken, 1)) {
		log_warnx("nfs: test fault: this worker is stuck until the "
		    "fault is cleared");
		while (atomic_load(&test_stuck) && !atomic_load(&wq_stop))
			usleep(10000);
		atomic_store(&test_stuck_taken, 0);
	}
	if (r->out != NULL) {
		/* back from the DRC replication: the reply may go now */
		struct iovec iov = { r->out, r->outlen };

		conn_send(r->conn, &iov, 1);
		goto out;
	}
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
	case NFS_PROG_NLM:
		vers = 4;
		nproc = NLM4_NPROC;
		if (nfs_locking)
			break;
		/* FALLTHROUGH */
	case NFS_PROG_NSM:
		vers = 1;
		nproc = NSM1_NPROC;
		if (nfs_locking)
			break;
		/* FALLTHROUGH */
	default:
		send_status(r, RPC_PROG_UNAVAIL, 0, 0);
		goto out;
	}
	if (r->cred.flavor == UINT32_MAX)
		nfs_req_autherr(r, NFS_AUTH_BADCRED);	/* before dispatch */
	else if (r->vers != vers)
		send_status(r, RPC_PROG_MISMATCH, vers, vers);
	else if (r->proc >= nproc || (r->prog == NFS_PROG_NLM &&
	    r->proc >= 16 && r->proc < 20))	/* not in NLM v4 */
		send_status(r, RPC_PROC_UNAVAIL, 0, 0);
	else if (!r->args_ok)
		nfs_req_garbage(r);
	else if (r->prog == NFS_PROG_NFS) {
		if (exec_nfs3(r))
			return;		/* parked; back here with r->out */
	} else if (r->prog == NFS_PROG_MOUNT)
		nfs_mnt_call(r);
	else if (r->prog == NFS_PROG_NLM)
		nfs_nlm_call(r);
	else if (r->prog == NFS_PROG_NSM)
		nfs_nsm_call(r);
	else
		exec_pmap(r);
out:
	req_done(r);
}

/* ---- the worker pool --------------------------------------------------- */

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
	struct nfs_req	*rs, *r, *next;
	int		 nr, arm;

	if ((nr = nfs_conn_read(c, &rs)) < 0)
		return;			/* closed */
	if (nr == 0) {
		nfs_conn_arm(c);
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
		nfs_conn_arm(c);
	req_exec(r);
}

static void
busy(struct nfs_wlive *w, int on)
{
	if (on) {
		atomic_store(&w->busy_since, now_us());
	} else {
		atomic_store(&w->busy_since, 0);
		atomic_fetch_add(&w->calls, 1);
	}
}

static int
worker_probe(void *arg, char *d, size_t len)
{
	struct nfs_wlive	*w = arg;
	uint64_t		 since = atomic_load(&w->busy_since), now = now_us();
	uint64_t		 limit = lhm_worker_stuck_ms();

	if (since == 0 || now <= since) {
		snprintf(d, len, "waiting, %llu calls",
		    (unsigned long long)atomic_load(&w->calls));
		return LHM_PROBE_OK;
	}
	snprintf(d, len, "in a call for %llu ms (limit %llu ms), %llu calls",
	    (unsigned long long)(now - since) / 1000,
	    (unsigned long long)limit,
	    (unsigned long long)atomic_load(&w->calls));
	return now - since > limit * 1000 ? LHM_PROBE_FAIL : LHM_PROBE_OK;
}

void
nfs_test_stuck(int on)
{
	atomic_store(&test_stuck, on);
}

static void *
worker_main(void *arg)
{
	struct nfs_wlive	*w = arg;
	struct epoll_event	 ev;
	struct nfs_req		*r;
	uint64_t		 v;
	int			 n;

	for (;;) {
		n = epoll_wait(nfs_epfd, &ev, 1, -1);
		if (n < 0 && errno != EINTR) {
			log_warn("nfs: epoll_wait");
			return NULL;
		}
		if (n <= 0)
			continue;
		if (ev.data.ptr != NULL) {
			busy(w, 1);
			conn_input(ev.data.ptr);
			busy(w, 0);
			continue;
		}
		if (read(qfd, &v, sizeof(v)) != sizeof(v))
			continue;	/* another worker took it */
		if ((r = req_dequeue()) != NULL) {
			busy(w, 1);
			req_exec(r);
			busy(w, 0);
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
	nfs_conn_init();
	if ((nfs_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (qfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK |
	    EFD_SEMAPHORE)) < 0) {
		log_warn("nfs: epoll/eventfd");
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(nfs_epfd, EPOLL_CTL_ADD, qfd, &ev) < 0) {
		log_warn("nfs: epoll_ctl");
		return -1;
	}
	/* room for the most workers a configuration may ask for, so that
	 * nfs_workers_grow() never moves a worker's state */
	workers = xcalloc(NFS_WORKERS_MAX, sizeof(*workers));
	wlive = xcalloc(NFS_WORKERS_MAX, sizeof(*wlive));
	return nfs_workers_grow(n);
}

int
nfs_workers_grow(int n)
{
	if (n > NFS_WORKERS_MAX)
		n = NFS_WORKERS_MAX;
	for (int i = nworkers; i < n; i++) {
		char name[32];

		wlive[i].idx = i;
		if ((errno = pthread_create(&workers[i], NULL, worker_main,
		    &wlive[i])) != 0) {
			log_warn("nfs: pthread_create");
			return -1;
		}
		nworkers++;
		snprintf(name, sizeof(name), "nfs-worker-%d", i);
		wlive[i].lhm_id = lhm_register(name, LHM_POL_SOFTWARE, -1,
		    worker_probe, &wlive[i]);
	}
	return nworkers;
}

/* Stop the workers, then free every connection and queued call. */
void
nfs_workers_stop(void)
{
	struct nfs_req	*r;
	struct nfs_conn	*c;
	uint64_t	 v = 1;

	for (int i = 0; i < nworkers; i++)
		lhm_unregister(wlive[i].lhm_id);
	wq_stop = 1;
	if (qfd >= 0 && write(qfd, &v, sizeof(v)) != sizeof(v))
		log_warn("nfs: eventfd write");
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nfs_drc_flush();	/* parked replies into the queue, freed below */
	free(workers);
	workers = NULL;
	free(wlive);
	wlive = NULL;
	nworkers = 0;
	while ((r = req_dequeue()) != NULL) {
		c = r->conn;
		nfs_req_free(r);
		nfs_conn_unref(c);
	}
	nfs_conn_fini();
	if (nfs_epfd >= 0)
		close(nfs_epfd);
	if (qfd >= 0)
		close(qfd);
	nfs_epfd = qfd = -1;
}

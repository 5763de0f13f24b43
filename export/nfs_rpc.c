/*
 * nfs_rpc.c — client connections, RPC records, dispatch to workers.
 *
 * Each accepted TCP connection gets a libnfs server context
 * (rpc_init_server_context) with the portmapper, MOUNT v3 and NFS v3
 * registered (rpc_register_service).  We read the record-marked stream
 * ourselves, so that every length is checked (nfs_xdr.c) before libnfs
 * decodes anything, and hand each complete record to rpc_process_pdu(),
 * which decodes the call header, answers PROG_UNAVAIL / PROG_MISMATCH /
 * PROC_UNAVAIL / GARBAGE_ARGS itself and calls our procedure.
 * Portmapper and MOUNT calls are answered at once.  NFS calls take the
 * record (it holds the arguments) to a worker thread, which decodes with
 * the libnfs zdr codecs, works and fills a *3res; the reply is sent with
 * rpc_send_reply() from the loop thread (a deferred reply only needs the
 * xid on TCP) and the output queue is flushed here, since we own the
 * events.  Replies of non-idempotent calls go through the duplicate
 * request cache.  UDP is not served (libnfs 4.0.0 leaks UDP replies).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/nfs_int.h"

/* Not in libnfs's public headers, but exported by libnfs 4.0.0: feeds
 * one complete record (with its marker) to the server dispatcher. */
int	rpc_process_pdu(struct rpc_context *, char *, int);

#define CONN_MAX_INFLIGHT	64	/* stop reading above this */
#define CONN_READ_CHUNK		(256 * 1024)

struct nfs_conn {
	struct nfs_conn		*next, *prev;
	int			 fd;
	struct rpc_context	*rpc;
	struct event		*rev, *wev;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 peertext[64];
	uint8_t			*in;		/* unparsed input */
	size_t			 inlen, incap;
	uint8_t			*frag;		/* fragments so far */
	size_t			 fraglen;
	int			 refs;
	int			 dead;
	int			 inflight;
	int			 paused;
};

static struct nfs_conn	*conns;
static int		 nconns;

/* Set while a record is inside rpc_process_pdu(). */
static struct nfs_conn	*cur_conn;
static struct nfs_callhdr cur_hdr;
static uint8_t		*cur_rec;
static size_t		 cur_reclen;
static int		 cur_args_ok;

/* Worker pool. */
static pthread_mutex_t	 wq_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wq_cond = PTHREAD_COND_INITIALIZER;
static struct nfs_req	*wq_head, *wq_tail;
static pthread_t	*workers;
static int		 nworkers;
static int		 wq_stop;

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_close(struct nfs_conn *, const char *why);

struct nfs_conn *
nfs_conn_current(void)
{
	return cur_conn;
}

void
nfs_conn_peer(struct nfs_conn *c, struct sockaddr_storage *ss,
    socklen_t *len)
{
	*ss = c->peer;
	*len = c->peerlen;
}

int
nfs_conn_args_ok(void)
{
	return cur_args_ok;
}

int
nfs_conn_count(void)
{
	return nconns;
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

uint32_t
nfs_raw_encode(ZDR *z, void *p, ...)
{
	const struct nfs_raw *r = p;

	if (z->x_op != ZDR_ENCODE || (size_t)z->pos + r->len > (size_t)z->size)
		return 0;
	memcpy(z->buf + z->pos, r->data, r->len);
	z->pos += (int)r->len;
	return 1;
}

void *
nfs_req_alloc(struct nfs_req *r, size_t n)
{
	void **blk = xmalloc(sizeof(void *) + n);

	blk[0] = r->allocs;
	r->allocs = blk;
	return blk + 1;
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

/* ---- output ----------------------------------------------------------- */

/* Push queued replies out; arm the write event while some remain. */
static void
conn_flush(struct nfs_conn *c)
{
	int n;

	if (c->dead)
		return;
	while ((n = rpc_queue_length(c->rpc)) > 0) {
		if (rpc_service(c->rpc, POLLOUT) < 0) {
			conn_close(c, rpc_get_error(c->rpc));
			return;
		}
		if (rpc_queue_length(c->rpc) == n)
			break;		/* socket full */
	}
	if (rpc_queue_length(c->rpc) > 0) {
		if (!event_pending(c->wev, EV_WRITE, NULL))
			event_add(c->wev, NULL);
	} else if (event_pending(c->wev, EV_WRITE, NULL)) {
		event_del(c->wev);
	}
}

static void
conn_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	conn_flush(arg);
}

static void
send_raw(struct nfs_conn *c, uint32_t xid, const uint8_t *data, size_t len)
{
	struct rpc_msg	call;
	struct nfs_raw	raw = { data, len };

	memset(&call, 0, sizeof(call));
	call.xid = xid;
	if (rpc_send_reply(c->rpc, &call, &raw, nfs_raw_encode, (int)len) < 0)
		log_warnx("nfs: %s: cannot queue a reply: %s", c->peertext,
		    rpc_get_error(c->rpc));
}

/* ---- workers ---------------------------------------------------------- */

static void
req_done(void *arg)
{
	struct nfs_req	*r = arg;
	struct nfs_conn	*c = r->conn;
	struct rpc_msg	 call;
	uint8_t		*enc = NULL;
	size_t		 enclen = 0;
	ZDR		 z;

	if (r->drop) {
		/* export not served here: no reply; a retransmission
		 * must be executed, not answered from the DRC */
		nfs_svc_count_drop();
		if (r->drc >= 0)
			nfs_drc_abort(r->drc, r->xid);
	} else if (r->drc >= 0) {
		nfs_svc_count(r->proc, r->status, now_us() - r->t0);
		/* keep the encoded reply for retransmissions */
		enclen = r->hint + 4096;
		enc = xmalloc(enclen);
		zdrmem_create(&z, (char *)enc, (uint32_t)enclen, ZDR_ENCODE);
		if (r->encfn(&z, r->res)) {
			enclen = (size_t)z.pos;
			nfs_drc_complete(r->drc, r->xid, enc, enclen);
		} else {
			nfs_drc_abort(r->drc, r->xid);
			free(enc);
			enc = NULL;
		}
	} else {
		nfs_svc_count(r->proc, r->status, now_us() - r->t0);
	}
	if (!c->dead && !r->drop) {
		if (enc != NULL) {
			send_raw(c, r->xid, enc, enclen);
		} else {
			memset(&call, 0, sizeof(call));
			call.xid = r->xid;
			if (rpc_send_reply(c->rpc, &call, r->res, r->encfn,
			    (int)r->hint) < 0)
				log_warnx("nfs: %s: cannot queue a reply: %s",
				    c->peertext, rpc_get_error(c->rpc));
		}
	}
	free(enc);
	c->inflight--;
	if (c->paused && !c->dead && c->inflight < CONN_MAX_INFLIGHT / 2) {
		c->paused = 0;
		event_add(c->rev, NULL);
	}
	req_free(r);
	if (!c->dead)
		conn_flush(c);
	if (--c->refs == 0)
		free(c);
}

static void *
worker_main(void *arg)
{
	struct nfs_req *r;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&wq_mtx);
		while (wq_head == NULL && !wq_stop)
			pthread_cond_wait(&wq_cond, &wq_mtx);
		if (wq_head == NULL) {
			pthread_mutex_unlock(&wq_mtx);
			return NULL;
		}
		r = wq_head;
		wq_head = r->next;
		if (wq_head == NULL)
			wq_tail = NULL;
		pthread_mutex_unlock(&wq_mtx);
		nfs3_run(r);
		loop_call(req_done, r);
	}
}

int
nfs_workers_start(int n)
{
	workers = xcalloc(n, sizeof(*workers));
	wq_stop = 0;
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

void
nfs_workers_stop(void)
{
	pthread_mutex_lock(&wq_mtx);
	wq_stop = 1;
	pthread_cond_broadcast(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	nworkers = 0;
}

static void
req_queue(struct nfs_req *r)
{
	r->next = NULL;
	pthread_mutex_lock(&wq_mtx);
	if (wq_tail != NULL)
		wq_tail->next = r;
	else
		wq_head = r;
	wq_tail = r;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mtx);
}

/* ---- NFS v3 and portmapper procedures (called inside rpc_process_pdu) */

static uint32_t
dec_check(ZDR *z, void *p, ...)
{
	(void)z; (void)p;
	return cur_args_ok;
}

static int
nfs3_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	struct nfs_conn	*c = cur_conn;
	struct nfs_req	*r;
	uint32_t	 proc = call->body.cbody.proc;
	const uint8_t	*reply;
	size_t		 replylen;
	int		 slot = -1;

	(void)rpc;
	if (proc == NFS3_NULL) {
		send_raw(c, call->xid, NULL, 0);
		nfs_svc_count(proc, 0, 0);
		return 0;
	}
	if (nfs3_proc_nonidempotent(proc)) {
		switch (nfs_drc_lookup((struct sockaddr *)&c->peer, call->xid,
		    NFS_PROG_NFS, 3, proc, &slot, &reply, &replylen)) {
		case NFS_DRC_DONE:
			send_raw(c, call->xid, reply, replylen);
			return 0;
		case NFS_DRC_INPROGRESS:
			return 0;	/* the first one will answer */
		case NFS_DRC_NEW:
			break;
		}
	}
	r = xcalloc(1, sizeof(*r));
	r->conn = c;
	r->xid = call->xid;
	r->prog = NFS_PROG_NFS;
	r->vers = 3;
	r->proc = proc;
	r->peer = c->peer;
	r->peerlen = c->peerlen;
	r->drc = slot;
	r->t0 = now_us();
	if (nfs_xdr_cred(&cur_hdr, &r->cred) < 0)
		r->cred.flavor = UINT32_MAX;	/* answered with ACCES */
	/* the worker decodes the arguments from the record itself */
	r->rec = cur_rec;
	r->reclen = cur_reclen;
	r->argoff = 4 + cur_hdr.argoff;
	cur_rec = NULL;
	c->refs++;
	if (++c->inflight >= CONN_MAX_INFLIGHT && !c->paused) {
		c->paused = 1;
		event_del(c->rev);
	}
	req_queue(r);
	return 0;
}

static struct service_proc nfs3_procs[NFS3_NPROC];

static uint32_t
enc_u32(ZDR *z, void *p, ...)
{
	uint8_t		b[4];
	struct nfs_raw	raw = { b, 4 };

	put_be32(b, *(uint32_t *)p);
	return nfs_raw_encode(z, &raw);
}

static int
pmap_null_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	(void)rpc;
	send_raw(cur_conn, call->xid, NULL, 0);
	return 0;
}

static int
pmap_getport_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	pmap2_mapping	*m = call->body.cbody.args;
	uint32_t	 port;

	port = nfs_svc_port(m->prog, m->vers, m->prot);
	return rpc_send_reply(rpc, call, &port, enc_u32, 4);
}

static int
pmap_set_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	uint32_t no = 0;	/* we do not register other programs */

	return rpc_send_reply(rpc, call, &no, enc_u32, 4);
}

static int
pmap_dump_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	pmap2_mapping_list	 m[5];
	pmap2_dump_result	 res;
	int			 n = 0;
	static const uint32_t	 progs[5][2] = {
		{ NFS_PROG_PMAP, 2 }, { NFS_PROG_MOUNT, 3 },
		{ NFS_PROG_MOUNT, 1 }, { NFS_PROG_NFS, 3 }, { 0, 0 } };

	memset(m, 0, sizeof(m));
	for (int i = 0; progs[i][0] != 0; i++) {
		uint32_t port = nfs_svc_port(progs[i][0], progs[i][1],
		    IPPROTO_TCP);

		if (port == 0)
			continue;
		m[n].map.prog = progs[i][0];
		m[n].map.vers = progs[i][1];
		m[n].map.prot = IPPROTO_TCP;
		m[n].map.port = port;
		if (n > 0)
			m[n - 1].next = &m[n];
		n++;
	}
	res.list = n > 0 ? &m[0] : NULL;
	return rpc_send_reply(rpc, call, &res,
	    (zdrproc_t)zdr_pmap2_dump_result, 512);
}

static uint32_t
dec_pmap_mapping(ZDR *z, void *p, ...)
{
	return cur_args_ok && zdr_pmap2_mapping(z, p);
}

static struct service_proc pmap2_procs[] = {
	{ PMAP2_NULL, pmap_null_cb, dec_check, 0 },
	{ PMAP2_SET, pmap_set_cb, dec_pmap_mapping, sizeof(pmap2_mapping) },
	{ PMAP2_UNSET, pmap_set_cb, dec_pmap_mapping, sizeof(pmap2_mapping) },
	{ PMAP2_GETPORT, pmap_getport_cb, dec_pmap_mapping,
	    sizeof(pmap2_mapping) },
	{ PMAP2_DUMP, pmap_dump_cb, dec_check, 0 },
};

/* ---- input ------------------------------------------------------------ */

/* One complete record: rec holds 4 bytes of room + len bytes of body.
 * Takes rec.  Returns -1 when the connection must be closed. */
static int
conn_record(struct nfs_conn *c, uint8_t *rec, size_t len)
{
	int rc;

	if (nfs_xdr_callhdr(rec + 4, len, &cur_hdr) < 0) {
		log_debug("nfs: %s: malformed RPC call header (%zu bytes)",
		    c->peertext, len);
		free(rec);
		return -1;
	}
	if (cur_hdr.rpcvers != 2) {
		log_debug("nfs: %s: RPC version %u", c->peertext,
		    cur_hdr.rpcvers);
		free(rec);
		return -1;
	}
	cur_args_ok = nfs_xdr_args_ok(&cur_hdr, rec + 4, len);
	if (!cur_args_ok)
		nfs_svc_count_garbage();
	put_be32(rec, 0x80000000u | (uint32_t)len);
	cur_conn = c;
	cur_rec = rec;
	cur_reclen = len + 4;
	rc = rpc_process_pdu(c->rpc, (char *)rec, (int)(len + 4));
	free(cur_rec);		/* NULL when a worker took it */
	cur_rec = NULL;
	cur_conn = NULL;
	if (rc != 0)
		return -1;
	return 0;
}

/* Parse complete fragments out of c->in.  -1: close. */
static int
conn_parse(struct nfs_conn *c)
{
	size_t		 off = 0, flen;
	uint32_t	 mark;
	uint8_t		*rec;

	while (c->inlen - off >= 4 && !c->dead) {
		mark = get_be32(c->in + off);
		flen = mark & 0x7fffffffu;
		if (flen + c->fraglen > NFS_MAXREC) {
			log_warnx("nfs: %s: record of %zu bytes is larger "
			    "than %d, closing", c->peertext,
			    flen + c->fraglen, NFS_MAXREC);
			return -1;
		}
		if (c->inlen - off < 4 + flen) {
			if (4 + flen > c->incap) {	/* make room for it */
				memmove(c->in, c->in + off, c->inlen - off);
				c->inlen -= off;
				off = 0;
				c->incap = 4 + flen;
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
		rec = xmalloc(4 + c->fraglen + flen);
		if (c->fraglen > 0)
			memcpy(rec + 4, c->frag, c->fraglen);
		memcpy(rec + 4 + c->fraglen, c->in + off + 4, flen);
		off += 4 + flen;
		flen += c->fraglen;
		free(c->frag);
		c->frag = NULL;
		c->fraglen = 0;
		if (conn_record(c, rec, flen) < 0)
			return -1;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return 0;
}

static void
conn_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct nfs_conn	*c = arg;
	ssize_t		 n;

	(void)ev;
	if (c->incap - c->inlen < 4096) {
		c->incap = MAX(c->incap * 2, (size_t)CONN_READ_CHUNK);
		c->in = xrealloc(c->in, c->incap);
	}
	n = recv(fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_close(c, strerror(errno));
		return;
	}
	if (n == 0) {
		conn_close(c, "closed by the client");
		return;
	}
	c->inlen += (size_t)n;
	c->refs++;
	if (conn_parse(c) < 0)
		conn_close(c, "bad input");
	if (!c->dead) {
		conn_flush(c);
		/* shrink a buffer grown for one large record */
		if (c->inlen == 0 && c->incap > CONN_READ_CHUNK) {
			free(c->in);
			c->in = NULL;
			c->incap = 0;
		}
	}
	if (--c->refs == 0)
		free(c);
}

static void
conn_close(struct nfs_conn *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("nfs: connection from %s closed: %s", c->peertext,
	    why != NULL ? why : "");
	c->dead = 1;
	event_free(c->rev);
	event_free(c->wev);
	rpc_destroy_context(c->rpc);	/* closes fd */
	c->rpc = NULL;
	free(c->in);
	free(c->frag);
	c->in = c->frag = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
	if (--c->refs == 0)
		free(c);
}

void
nfs_conn_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct nfs_conn	*c;
	int		 one = 1;

	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	memcpy(&c->peer, sa, MIN(salen, sizeof(c->peer)));
	c->peerlen = salen;
	nfs_addr_text(sa, c->peertext, sizeof(c->peertext));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if ((c->rpc = rpc_init_server_context(fd)) == NULL) {
		log_warnx("nfs: rpc_init_server_context failed");
		close(fd);
		free(c);
		return;
	}
	if (nfs3_procs[1].func == NULL) {
		for (int i = 0; i < NFS3_NPROC; i++) {
			nfs3_procs[i].proc = i;
			nfs3_procs[i].func = nfs3_cb;
			nfs3_procs[i].decode_fn = dec_check;
			nfs3_procs[i].decode_buf_size = 0;
		}
	}
	if (rpc_register_service(c->rpc, NFS_PROG_PMAP, 2, pmap2_procs,
	    nitems(pmap2_procs)) < 0 ||
	    rpc_register_service(c->rpc, NFS_PROG_MOUNT, 3, nfs_mnt_procs,
	    nfs_mnt_nprocs) < 0 ||
	    rpc_register_service(c->rpc, NFS_PROG_NFS, 3, nfs3_procs,
	    NFS3_NPROC) < 0) {
		log_warnx("nfs: rpc_register_service: %s",
		    rpc_get_error(c->rpc));
		rpc_destroy_context(c->rpc);
		free(c);
		return;
	}
	c->rev = event_new(loop_base(), fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	c->wev = event_new(loop_base(), fd, EV_WRITE | EV_PERSIST,
	    conn_write_cb, c);
	event_add(c->rev, NULL);
	c->refs = 1;
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	log_debug("nfs: connection from %s", c->peertext);
}

/* Close connections whose local address is addr (NULL: all). */
void
nfs_conn_close_local(const struct sockaddr *addr)
{
	struct nfs_conn		*c, *next;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 a[64], b[64];

	if (addr != NULL)
		nfs_addr_text(addr, a, sizeof(a));
	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (addr != NULL) {
			len = sizeof(ss);
			if (getsockname(c->fd, (struct sockaddr *)&ss,
			    &len) < 0)
				continue;
			nfs_addr_text((struct sockaddr *)&ss, b, sizeof(b));
			if (strcmp(a, b) != 0)
				continue;
		}
		conn_close(c, "service address removed");
	}
}

/* Distinct client addresses currently connected. */
int
nfs_conn_clients(void)
{
	int n = 0;

	for (struct nfs_conn *c = conns; c != NULL; c = c->next) {
		struct nfs_conn *d;

		for (d = conns; d != c; d = d->next)
			if (strcmp(d->peertext, c->peertext) == 0)
				break;
		if (d == c)
			n++;
	}
	return n;
}

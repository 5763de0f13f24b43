/*
 * nlmtool_cb.c — the callback side of tests/nfs/nlmtool: a server grants
 * a blocked lock later by calling the client's NLM service (GRANTED),
 * found through the client's portmapper.  With -c PORT nlmtool serves
 * both itself: a minimal portmapper on PORT (TCP and UDP; PMAP v2
 * GETPORT and rpcbind v3/v4 GETADDR, which know NLM 100021 only) and an
 * NLM listener (TCP and UDP on one free port) answering GRANTED (proc 5)
 * and GRANTED_MSG (10): NLM4_GRANTED when it matches the blocked lock
 * (svid, range, file handle), NLM4_DENIED otherwise, one
 * "callback=granted|denied ..." line each.  The listeners are served by
 * wait_fd(), which every wait of the client goes through, so a callback
 * that comes while another call is outstanding is not missed.
 *
 * Every field of a received call is length-checked (struct xr) before
 * use; what does not parse gets GARBAGE_ARGS or no reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nlm.h>

#include "nlmtool.h"
#include "rpc_raw.h"

#define NLM_GRANTED_MSG	10
#define MAXCB		8	/* callback connections served at once */

/* listeners: [0] portmapper TCP, [1] UDP, [2] NLM TCP, [3] UDP */
static int	 lfd[4] = { -1, -1, -1, -1 };
static int	 cbfd[MAXCB];
static int	 ncb;
static int	 cb_nlm_port;

/* A bounds-checked XDR reader over a received call. */
struct xr {
	const uint8_t	*p;
	size_t		 n;
	int		 bad;
};

static uint32_t
xr_u32(struct xr *x)
{
	uint32_t v;

	if (x->n < 4) {
		x->bad = 1;
		return 0;
	}
	v = rr_get32(x->p);
	x->p += 4;
	x->n -= 4;
	return v;
}

static uint64_t
xr_u64(struct xr *x)
{
	uint64_t hi = xr_u32(x);

	return hi << 32 | xr_u32(x);
}

/* Variable opaque of at most max bytes; *len set, pointer to the bytes. */
static const uint8_t *
xr_opaque(struct xr *x, uint32_t max, uint32_t *len)
{
	const uint8_t	*p;
	uint32_t	 l = xr_u32(x);
	size_t		 padded = ((size_t)l + 3) & ~(size_t)3;

	if (x->bad || l > max || padded > x->n) {
		x->bad = 1;
		*len = 0;
		return NULL;
	}
	p = x->p;
	x->p += padded;
	x->n -= padded;
	*len = l;
	return p;
}

/* Reply header: xid, REPLY, MSG_ACCEPTED, empty verifier, accept_stat. */
static void
reply_start(struct rr_msg *m, uint32_t xid, uint32_t accept_stat)
{
	m->n = 0;
	rr_u32(m, 0);		/* record marker (TCP) */
	rr_u32(m, xid);
	rr_u32(m, 1);
	rr_u32(m, 0);
	rr_u32(m, 0);
	rr_u32(m, 0);
	rr_u32(m, accept_stat);
}

/* The local address a packet to peer would leave from (a uaddr needs it). */
static void
local_addr_for(const struct sockaddr_in *peer, int fd, char *buf, size_t len)
{
	struct sockaddr_in	sa;
	socklen_t		sl = sizeof(sa);
	int			u;

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_addr.s_addr != htonl(INADDR_ANY)) {
		inet_ntop(AF_INET, &sa.sin_addr, buf, (socklen_t)len);
		return;
	}
	snprintf(buf, len, "127.0.0.1");
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return;
	sl = sizeof(sa);
	if (connect(u, (const struct sockaddr *)peer, sizeof(*peer)) == 0 &&
	    getsockname(u, (struct sockaddr *)&sa, &sl) == 0)
		inet_ntop(AF_INET, &sa.sin_addr, buf, (socklen_t)len);
	close(u);
}

int
cb_handle(const uint8_t *rec, size_t n, int fd, const struct sockaddr_in *peer,
    struct rr_msg *out)
{
	struct xr	 x = { rec, n, 0 };
	uint32_t	 xid, prog, vers, proc, l;
	const uint8_t	*cookie;
	uint32_t	 cookielen, excl;
	uint64_t	 off, len;
	char		 addr[INET_ADDRSTRLEN], ua[64];

	xid = xr_u32(&x);
	if (xr_u32(&x) != 0 || xr_u32(&x) != 2 || x.bad)
		return -1;		/* not a call, or not RPC v2 */
	prog = xr_u32(&x);
	vers = xr_u32(&x);
	proc = xr_u32(&x);
	xr_u32(&x);			/* credential */
	xr_opaque(&x, 400, &l);
	xr_u32(&x);			/* verifier */
	xr_opaque(&x, 400, &l);
	if (x.bad)
		return -1;
	if (prog == PROG_PMAP) {
		if (proc == 0) {
			reply_start(out, xid, 0);
			return 0;
		}
		if (proc != 3) {
			reply_start(out, xid, 3);	/* PROC_UNAVAIL */
			return 0;
		}
		if (vers == 2) {	/* GETPORT(prog, vers, prot, port) */
			uint32_t p = xr_u32(&x);

			xr_u32(&x);
			xr_u32(&x);
			xr_u32(&x);
			reply_start(out, xid, x.bad ? 4 : 0);
			if (!x.bad)
				rr_u32(out, p == PROG_NLM ?
				    (uint32_t)cb_nlm_port : 0);
			return 0;
		}
		/* rpcbind v3/v4 GETADDR(prog, vers, netid, addr, owner) */
		uint32_t p = xr_u32(&x);

		xr_u32(&x);
		for (int i = 0; i < 3; i++)
			xr_opaque(&x, 256, &l);

		reply_start(out, xid, x.bad ? 4 : 0);
		if (x.bad)
			return 0;
		if (p != PROG_NLM) {
			rr_str(out, "");
			return 0;
		}
		local_addr_for(peer, fd, addr, sizeof(addr));
		snprintf(ua, sizeof(ua), "%s.%d.%d", addr, cb_nlm_port >> 8,
		    cb_nlm_port & 0xff);
		rr_str(out, ua);
		return 0;
	}
	if (prog != PROG_NLM) {
		reply_start(out, xid, 1);		/* PROG_UNAVAIL */
		return 0;
	}
	if (proc == 0) {
		reply_start(out, xid, 0);
		return 0;
	}
	if (proc != 5 && proc != NLM_GRANTED_MSG) {
		reply_start(out, xid, 3);
		return 0;
	}
	/* NLM4_GRANTEDargs: cookie, exclusive, nlm4_lock */
	cookie = xr_opaque(&x, 1024, &cookielen);
	excl = xr_u32(&x);
	xr_opaque(&x, NLM_MAXNAME, &l);		/* caller_name */
	const uint8_t *gfh = xr_opaque(&x, 1024, &l);
	uint32_t gfhlen = l;
	xr_opaque(&x, 1024, &l);		/* oh */
	uint32_t gsvid = xr_u32(&x);
	off = xr_u64(&x);
	len = xr_u64(&x);
	if (x.bad) {
		reply_start(out, xid, 4);		/* GARBAGE_ARGS */
		return 0;
	}
	int match = blk.pending && gsvid == svid && off == blk.off &&
	    len == blk.len && gfhlen == fhlen && memcmp(gfh, fh, fhlen) == 0;
	printf("callback=%s proc=%u svid=%u off=%" PRIu64 " len=%" PRIu64
	    " excl=%u cookie_match=%d\n", match ? "granted" : "denied", proc,
	    gsvid, off, len, excl, cookielen == sizeof(blk.cookie) &&
	    memcmp(cookie, blk.cookie, cookielen) == 0);
	fflush(stdout);
	if (match) {
		blk.pending = 0;
		blk.granted = 1;
	}
	reply_start(out, xid, 0);
	if (proc == 5) {	/* NLM4_GRANTEDres: cookie, stat */
		rr_opaque(out, cookie, cookielen);
		rr_u32(out, match ? NLM4_GRANTED : NLM4_DENIED);
	}
	return 0;
}

static int
listen_on(int type, int port)
{
	struct sockaddr_in	sa;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, type, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
cb_start(int cb_port)
{
	struct sockaddr_in	sa;
	socklen_t		sl = sizeof(sa);

	if ((lfd[0] = listen_on(SOCK_STREAM, cb_port)) < 0 ||
	    (lfd[1] = listen_on(SOCK_DGRAM, cb_port)) < 0) {
		fprintf(stderr, "nlmtool: callback portmapper on port %d: %s\n",
		    cb_port, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 20; i++) {	/* a port free for TCP and UDP */
		if ((lfd[2] = listen_on(SOCK_STREAM, 0)) < 0)
			break;
		getsockname(lfd[2], (struct sockaddr *)&sa, &sl);
		cb_nlm_port = ntohs(sa.sin_port);
		if ((lfd[3] = listen_on(SOCK_DGRAM, cb_nlm_port)) >= 0)
			return cb_nlm_port;
		close(lfd[2]);
		lfd[2] = -1;
	}
	fprintf(stderr, "nlmtool: no port for the NLM callback listener\n");
	return -1;
}

static void
cb_drop(int i)
{
	close(cbfd[i]);
	cbfd[i] = cbfd[--ncb];
}

/* Serve whatever is ready on the callback descriptors (pfd from poll). */
static void
cb_service(struct pollfd *pfd, int n)
{
	struct rr_msg		in = RR_MSG_INIT, out = RR_MSG_INIT;
	struct sockaddr_in	peer;
	socklen_t		sl;
	uint8_t			buf[2048];

	for (int i = 0; i < n; i++) {
		int fd = pfd[i].fd;

		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (fd == lfd[0] || fd == lfd[2]) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0 && ncb < MAXCB)
				cbfd[ncb++] = c;
			else if (c >= 0)
				close(c);
			continue;
		}
		if (fd == lfd[1] || fd == lfd[3]) {
			sl = sizeof(peer);
			ssize_t k = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&peer, &sl);

			if (k > 0 && cb_handle(buf, (size_t)k, -1, &peer,
			    &out) == 0)
				sendto(fd, out.b + 4, out.n - 4, 0,
				    (struct sockaddr *)&peer, sl);
			continue;
		}
		for (int j = 0; j < ncb; j++) {
			if (cbfd[j] != fd)
				continue;
			sl = sizeof(peer);
			getpeername(fd, (struct sockaddr *)&peer, &sl);
			if (rr_reply(fd, &in, 65536, 1000) <= 0) {
				cb_drop(j);
				break;
			}
			if (cb_handle(in.b + 4, in.n - 4, fd, &peer,
			    &out) == 0) {
				rr_finish(&out);
				if (rr_send(fd, out.b, out.n) < 0)
					cb_drop(j);
			}
			break;
		}
	}
	rr_free(&in);
	rr_free(&out);
}

int
wait_fd(int fd, int events, int ms)
{
	struct pollfd	pfd[5 + MAXCB];
	int		n = 0, base;

	if (fd >= 0)
		pfd[n++] = (struct pollfd){ fd, (short)events, 0 };
	base = n;
	for (int i = 0; i < 4; i++)
		if (lfd[i] >= 0)
			pfd[n++] = (struct pollfd){ lfd[i], POLLIN, 0 };
	for (int i = 0; i < ncb; i++)
		pfd[n++] = (struct pollfd){ cbfd[i], POLLIN, 0 };
	if (poll(pfd, (nfds_t)n, ms) <= 0)
		return 0;
	cb_service(pfd + base, n - base);
	return fd >= 0 ? pfd[0].revents : 0;
}

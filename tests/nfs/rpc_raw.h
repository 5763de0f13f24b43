/*
 * rpc_raw.h — hand-made ONC RPC records (RFC 5531) over TCP, for the test
 * tools that must send what no well-behaved client sends: nfs_rawprobe,
 * nfs_secprobe, nfs_hostile.  Header only, every function static inline,
 * so a tool takes what it uses and links nothing.
 *
 * Building a call: a struct rr_msg (initialise it with RR_MSG_INIT, free
 * it with rr_free()) grows as needed.  rr_call() starts a record: a record
 * marker placeholder, then the call header with a credential and an
 * AUTH_NONE verifier.  rr_u32/rr_u64/rr_opaque/rr_str append XDR;
 * rr_finish() fills the marker as one last fragment.  m->b and m->n stay
 * the caller's to forge (patch a length, send half a record) before the
 * bytes go out.
 *
 * Talking: rr_dial() connects from an optional source address and port,
 * rr_send() writes everything, rr_reply() reads one reply record into a
 * struct rr_msg, rr_roundtrip() does finish + send + read and decodes the
 * reply header.
 *
 * What it deliberately does not do: verifiers other than an empty one,
 * replies in more than one fragment (the servers under test send one),
 * retransmission, SIGPIPE handling (a tool that writes to closed
 * connections ignores SIGPIPE itself).  Out of memory: a line on stderr
 * and exit(2), as a test tool has nothing better to do.
 */
#ifndef DUONAS_TESTS_RPC_RAW_H
#define DUONAS_TESTS_RPC_RAW_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- message buffer and XDR writers ----------------------------------- */

struct rr_msg {
	uint8_t	*b;		/* the bytes, record marker first */
	size_t	 n;		/* bytes used */
	size_t	 cap;		/* bytes allocated */
};
#define RR_MSG_INIT	{ NULL, 0, 0 }

/* Room for extra more bytes after m->n. */
static inline void
rr_reserve(struct rr_msg *m, size_t extra)
{
	size_t cap = m->cap > 0 ? m->cap : 256;

	if (m->n + extra <= m->cap)
		return;
	while (cap < m->n + extra)
		cap *= 2;
	if ((m->b = realloc(m->b, cap)) == NULL) {
		perror("realloc");
		exit(2);
	}
	m->cap = cap;
}

static inline void
rr_free(struct rr_msg *m)
{
	free(m->b);
	m->b = NULL;
	m->n = m->cap = 0;
}

static inline void
rr_u32(struct rr_msg *m, uint32_t v)
{
	rr_reserve(m, 4);
	m->b[m->n++] = (uint8_t)(v >> 24);
	m->b[m->n++] = (uint8_t)(v >> 16);
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static inline void
rr_u64(struct rr_msg *m, uint64_t v)
{
	rr_u32(m, (uint32_t)(v >> 32));
	rr_u32(m, (uint32_t)v);
}

/* Variable-length opaque: length, bytes, zeros to a multiple of 4.  The
 * length written is len, whatever the bytes hold (NULs included). */
static inline void
rr_opaque(struct rr_msg *m, const void *p, uint32_t len)
{
	size_t padded = ((size_t)len + 3) & ~(size_t)3;

	rr_u32(m, len);
	rr_reserve(m, padded);
	if (len > 0)
		memcpy(m->b + m->n, p, len);
	memset(m->b + m->n + len, 0, padded - len);
	m->n += padded;
}

static inline void
rr_str(struct rr_msg *m, const char *s)
{
	rr_opaque(m, s, (uint32_t)strlen(s));
}

/* Big-endian 32-bit word at p (a reply's fields). */
static inline uint32_t
rr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- call header ------------------------------------------------------ */

#define RR_AUTH_NONE	0
#define RR_AUTH_UNIX	1
#define RR_MAXGIDS	20	/* room enough to send more than the 16
				 * AUTH_UNIX allows */

/* A credential.  AUTH_UNIX: stamp 0, machine name "", uid, gid and
 * ngids (<= RR_MAXGIDS) groups; AUTH_NONE: an empty body; any other
 * flavor: an 8-byte made-up body. */
struct rr_cred {
	uint32_t	flavor;
	uint32_t	uid, gid, ngids;
	uint32_t	gids[RR_MAXGIDS];
};

/*
 * Start m afresh (its memory is kept) with a record marker placeholder
 * and a call header: xid, CALL, RPC version 2, prog, vers, proc, the
 * credential c (NULL: AUTH_UNIX root, uid 0, gid 0, no groups) and an
 * AUTH_NONE verifier.  The arguments follow with rr_u32() and friends.
 */
static inline void
rr_call(struct rr_msg *m, uint32_t xid, uint32_t prog, uint32_t vers,
    uint32_t proc, const struct rr_cred *c)
{
	static const struct rr_cred root = { RR_AUTH_UNIX, 0, 0, 0, { 0 } };

	if (c == NULL)
		c = &root;
	m->n = 0;
	rr_u32(m, 0);			/* record marker, see rr_finish() */
	rr_u32(m, xid);
	rr_u32(m, 0);			/* CALL */
	rr_u32(m, 2);			/* RPC version */
	rr_u32(m, prog);
	rr_u32(m, vers);
	rr_u32(m, proc);
	rr_u32(m, c->flavor);
	if (c->flavor == RR_AUTH_UNIX) {
		rr_u32(m, 20 + 4 * c->ngids);
		rr_u32(m, 0);		/* stamp */
		rr_u32(m, 0);		/* machine name "" */
		rr_u32(m, c->uid);
		rr_u32(m, c->gid);
		rr_u32(m, c->ngids);
		for (uint32_t i = 0; i < c->ngids; i++)
			rr_u32(m, c->gids[i]);
	} else if (c->flavor == RR_AUTH_NONE) {
		rr_u32(m, 0);
	} else {
		rr_u32(m, 8);		/* some opaque body */
		rr_u64(m, 0x0102030405060708ull);
	}
	rr_u32(m, RR_AUTH_NONE);	/* verifier */
	rr_u32(m, 0);
}

/* Fill the record marker: the last (and only) fragment, m->n - 4 bytes. */
static inline void
rr_finish(struct rr_msg *m)
{
	uint32_t mark = 0x80000000u | (uint32_t)(m->n - 4);

	m->b[0] = (uint8_t)(mark >> 24);
	m->b[1] = (uint8_t)(mark >> 16);
	m->b[2] = (uint8_t)(mark >> 8);
	m->b[3] = (uint8_t)mark;
}

/* ---- transport -------------------------------------------------------- */

/*
 * A blocking TCP connection to dst:port (IPv4 dotted quads), bound first
 * to src (NULL: any address) and sport (0: any port) when either is
 * given.  Returns the descriptor, or -1 (errno from the failing call).
 */
static inline int
rr_dial(const char *src, int sport, const char *dst, int port)
{
	struct sockaddr_in	sa;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (src != NULL || sport != 0) {
		/* a chosen port may still be in TIME_WAIT from a last run */
		if (sport != 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)sport);
		if ((src != NULL && inet_pton(AF_INET, src,
		    &sa.sin_addr) != 1) ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Write all n bytes (blocking descriptor); 0, or -1. */
static inline int
rr_send(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read one record, marker included, into in (grown as needed; in->n is
 * what was read so far).  Returns its length; 0 when the peer closed or
 * reset the connection; -1 when nothing came for ms milliseconds, on
 * another error, or when the record is longer than max bytes (the rest
 * is left unread).
 */
static inline ssize_t
rr_reply(int fd, struct rr_msg *in, size_t max, int ms)
{
	size_t		want = 4;
	struct pollfd	p = { fd, POLLIN, 0 };

	in->n = 0;
	rr_reserve(in, want);
	while (in->n < want) {
		ssize_t k;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		k = read(fd, in->b + in->n, want - in->n);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return 0;
		if (k < 0)
			return -1;
		in->n += (size_t)k;
		if (in->n == 4) {
			want = 4 + (rr_get32(in->b) & 0x7fffffffu);
			if (want > max)
				return -1;
			rr_reserve(in, want - 4);
		}
	}
	return (ssize_t)in->n;
}

#define RR_DENIED_AUTH	(-100)	/* rr_roundtrip(): MSG_DENIED, AUTH_ERROR */

/*
 * rr_finish() m, send it on fd and read the reply into in (at most max
 * bytes, ms as in rr_reply()).  Returns
 *   >= 0	the accept_stat of an accepted reply (0 SUCCESS, 1
 *		PROG_UNAVAIL, 2 PROG_MISMATCH, 3 PROC_UNAVAIL, 4 GARBAGE_ARGS);
 *		*res (if res is not NULL) points at what follows it, *reslen
 *		bytes, valid until in is read into or freed;
 *   RR_DENIED_AUTH - auth_stat	for a call refused with AUTH_ERROR;
 *   -1	the send failed, no or a short reply, not a reply, RPC_MISMATCH.
 * The accepted reply's verifier is taken to be empty, as every server
 * under test sends it.
 */
static inline long
rr_roundtrip(int fd, struct rr_msg *m, struct rr_msg *in, size_t max,
    int ms, const uint8_t **res, size_t *reslen)
{
	ssize_t n;

	rr_finish(m);
	if (rr_send(fd, m->b, m->n) < 0)
		return -1;
	/* marker xid REPLY reply_stat ... */
	if ((n = rr_reply(fd, in, max, ms)) < 24 || rr_get32(in->b + 8) != 1)
		return -1;
	switch (rr_get32(in->b + 12)) {
	case 0:		/* MSG_ACCEPTED: verf(flavor, len 0) accept_stat */
		if (n < 28)
			return -1;
		if (res != NULL)
			*res = in->b + 28;
		if (reslen != NULL)
			*reslen = (size_t)n - 28;
		return (long)rr_get32(in->b + 24);
	case 1:		/* MSG_DENIED: reject_stat, auth_stat */
		return rr_get32(in->b + 16) == 1 ? RR_DENIED_AUTH -
		    (long)rr_get32(in->b + 20) : -1;
	}
	return -1;
}

#endif

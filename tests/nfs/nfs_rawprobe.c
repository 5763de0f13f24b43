/*
 * nfs_rawprobe.c — hand-made ONC RPC records against the server, for
 * what the libnfs client cannot send: a chosen source address, garbage,
 * truncated and oversized records, forged lengths, unknown programs.
 *
 *   nfs_rawprobe mount SRC DST PORT EXPORT ok|acces
 *   nfs_rawprobe bad DST PORT EXPORT
 *
 * Prints TAP-like lines and "N passed, N failed"; exit 1 on failure.
 */
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

#include "tests/unit/t.h"

struct msg {
	uint8_t	b[4096];
	size_t	n;
};

static void
u32(struct msg *m, uint32_t v)
{
	m->b[m->n++] = v >> 24;
	m->b[m->n++] = v >> 16;
	m->b[m->n++] = v >> 8;
	m->b[m->n++] = v;
}

static void
opaque(struct msg *m, const void *p, uint32_t len)
{
	u32(m, len);
	memcpy(m->b + m->n, p, len);
	m->n += (len + 3) & ~3u;
}

/* Call header with AUTH_UNIX root; record marker filled by finish(). */
static void
call(struct msg *m, uint32_t prog, uint32_t vers, uint32_t proc)
{
	memset(m, 0, sizeof(*m));
	m->n = 4;
	u32(m, 0x1234);
	u32(m, 0);		/* CALL */
	u32(m, 2);
	u32(m, prog);
	u32(m, vers);
	u32(m, proc);
	u32(m, 1);		/* AUTH_UNIX */
	u32(m, 20);
	u32(m, 0);		/* stamp */
	u32(m, 0);		/* machine name "" */
	u32(m, 0);		/* uid */
	u32(m, 0);		/* gid */
	u32(m, 0);		/* no groups */
	u32(m, 0);		/* verifier AUTH_NONE */
	u32(m, 0);
}

static void
finish(struct msg *m)
{
	uint32_t mark = 0x80000000u | (uint32_t)(m->n - 4);

	m->b[0] = mark >> 24;
	m->b[1] = mark >> 16;
	m->b[2] = mark >> 8;
	m->b[3] = mark;
}

static int
dial(const char *src, const char *dst, int port)
{
	struct sockaddr_in	sa;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (src != NULL) {
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fd);
			return -1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, dst, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one reply record; returns its length, 0 on EOF, -1 timeout. */
static int
reply(int fd, uint8_t *b, size_t max)
{
	size_t		got = 0, want = 4;
	struct pollfd	p = { fd, POLLIN, 0 };

	while (got < want) {
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return -1;
		n = read(fd, b + got, want - got);
		if (n <= 0)
			return 0;
		got += (size_t)n;
		if (got == 4) {
			want = 4 + ((((uint32_t)b[0] & 0x7f) << 24) |
			    ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]);
			if (want > max)
				return -1;
		}
	}
	return (int)got;
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* Send m, return accept_stat (or -1) and the first result word. */
static int
roundtrip(int fd, struct msg *m, uint32_t *first)
{
	uint8_t	b[8192];
	int	n;

	finish(m);
	if (write(fd, m->b, m->n) != (ssize_t)m->n)
		return -1;
	n = reply(fd, b, sizeof(b));
	if (n < 28)
		return -1;
	/* marker xid REPLY MSG_ACCEPTED verf(flavor,len=0) accept_stat */
	if (get32(b + 8) != 1 || get32(b + 12) != 0)
		return -1;
	if (first != NULL && n >= 32)
		*first = get32(b + 28);
	return (int)get32(b + 24);
}

/* A NULL call on a fresh connection: the server still serves. */
static int
alive(const char *dst, int port)
{
	struct msg	m;
	int		fd = dial(NULL, dst, port), rc;

	if (fd < 0)
		return 0;
	call(&m, 100003, 3, 0);
	rc = roundtrip(fd, &m, NULL);
	close(fd);
	return rc == 0;
}

static uint32_t
mnt(int fd, const char *path, uint8_t *fh, uint32_t *fhlen)
{
	struct msg	m;
	uint8_t		b[8192];
	int		n;

	call(&m, 100005, 3, 1);
	opaque(&m, path, (uint32_t)strlen(path));
	finish(&m);
	if (write(fd, m.b, m.n) != (ssize_t)m.n)
		return 9999;
	if ((n = reply(fd, b, sizeof(b))) < 32 || get32(b + 24) != 0)
		return 9998;
	if (get32(b + 28) == 0 && fh != NULL && n >= 36) {
		*fhlen = get32(b + 32);
		if (*fhlen > 64)
			return 9997;
		memcpy(fh, b + 36, *fhlen);
	}
	return get32(b + 28);
}

static int
do_mount(char **argv)
{
	int fd = dial(argv[2], argv[3], atoi(argv[4]));

	T_OK(fd >= 0, "connect from %s", argv[2]);
	if (fd < 0)
		return t_done();
	if (strcmp(argv[6], "ok") == 0)
		T_EQ(mnt(fd, argv[5], NULL, NULL), 0, "MNT allowed");
	else
		T_EQ(mnt(fd, argv[5], NULL, NULL), 13, "MNT3ERR_ACCES");
	close(fd);
	return t_done();
}

static int
do_bad(char **argv)
{
	const char	*dst = argv[2];
	int		 port = atoi(argv[3]), fd;
	struct msg	 m;
	uint8_t		 fh[64], junk[512];
	uint32_t	 fhlen = 0, first = 0;

	fd = dial(NULL, dst, port);
	T_OK(fd >= 0, "connect");
	T_EQ(mnt(fd, argv[4], fh, &fhlen), 0, "MNT");
	/* wrong program / version / procedure */
	call(&m, 100099, 1, 0);
	T_EQ(roundtrip(fd, &m, NULL), 1, "unknown program: PROG_UNAVAIL");
	call(&m, 100003, 2, 0);
	T_EQ(roundtrip(fd, &m, NULL), 2, "NFS v2: PROG_MISMATCH");
	call(&m, 100003, 3, 99);
	T_EQ(roundtrip(fd, &m, NULL), 3, "procedure 99: PROC_UNAVAIL");
	/* forged lengths inside the arguments */
	call(&m, 100003, 3, 1);
	u32(&m, 0xfffffff0u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "fh length 2^32-16: GARBAGE_ARGS");
	call(&m, 100003, 3, 1);
	u32(&m, 0x80000000u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "fh length 2^31: GARBAGE_ARGS");
	call(&m, 100003, 3, 3);			/* LOOKUP, name too long */
	opaque(&m, fh, fhlen);
	u32(&m, 0x7ffffff0u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "name length 2^31-16: GARBAGE_ARGS");
	call(&m, 100003, 3, 1);			/* args cut short */
	u32(&m, 32);
	T_EQ(roundtrip(fd, &m, NULL), 4, "truncated fh: GARBAGE_ARGS");
	/* forged handles */
	call(&m, 100003, 3, 1);
	opaque(&m, fh, 3);
	T_EQ(roundtrip(fd, &m, &first), 0, "3-byte handle answered");
	T_EQ(first, 10001, "3-byte handle: NFS3ERR_BADHANDLE");
	fh[2] ^= 0x77;
	call(&m, 100003, 3, 1);
	opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "other export id answered");
	T_EQ(first, 70, "other export id: NFS3ERR_STALE");
	fh[2] ^= 0x77;
	fh[fhlen - 1] ^= 0xff;
	call(&m, 100003, 3, 1);
	opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "forged inode answered");
	T_OK(first == 70 || first == 10001, "forged inode: STALE (%u)", first);
	fh[fhlen - 1] ^= 0xff;
	call(&m, 100003, 3, 1);
	opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "the real handle still works");
	T_EQ(first, 0, "GETATTR NFS3_OK");
	close(fd);

	/* a credential longer than allowed: connection dropped */
	fd = dial(NULL, dst, port);
	call(&m, 100003, 3, 0);
	m.b[8 + 24] = 0x80;			/* cred length 0x80000014 */
	finish(&m);
	T_OK(write(fd, m.b, m.n) == (ssize_t)m.n, "sent a forged credential");
	T_EQ(reply(fd, junk, sizeof(junk)), 0, "connection closed");
	close(fd);
	T_OK(alive(dst, port), "server serves after a forged credential");

	/* garbage */
	fd = dial(NULL, dst, port);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[0] = 0x80;
	junk[1] = 0;
	junk[2] = 1;
	junk[3] = 0xfc;				/* 508 bytes */
	T_OK(write(fd, junk, sizeof(junk)) == sizeof(junk), "sent garbage");
	reply(fd, junk, sizeof(junk));
	close(fd);
	T_OK(alive(dst, port), "server serves after garbage");

	/* truncated record, then the client goes away */
	fd = dial(NULL, dst, port);
	call(&m, 100003, 3, 0);
	finish(&m);
	T_OK(write(fd, m.b, 10) == 10, "sent 10 bytes of a record");
	close(fd);
	T_OK(alive(dst, port), "server serves after a truncated record");

	/* oversized record marker */
	fd = dial(NULL, dst, port);
	junk[0] = 0xff; junk[1] = 0xff; junk[2] = 0xff; junk[3] = 0xff;
	T_OK(write(fd, junk, 4) == 4, "sent a 2 GiB record marker");
	T_EQ(reply(fd, junk, sizeof(junk)), 0, "connection closed");
	close(fd);
	/* a fragmented call is reassembled */
	fd = dial(NULL, dst, port);
	call(&m, 100003, 3, 0);
	{
		uint8_t		two[128];
		size_t		body = m.n - 4, half = body / 2;

		two[0] = 0; two[1] = 0; two[2] = 0; two[3] = (uint8_t)half;
		memcpy(two + 4, m.b + 4, half);
		two[4 + half] = 0x80; two[5 + half] = 0; two[6 + half] = 0;
		two[7 + half] = (uint8_t)(body - half);
		memcpy(two + 8 + half, m.b + 4 + half, body - half);
		T_OK(write(fd, two, body + 8) == (ssize_t)(body + 8),
		    "sent a call in two fragments");
		T_OK(reply(fd, junk, sizeof(junk)) > 0, "fragmented call "
		    "answered");
	}
	close(fd);
	T_OK(alive(dst, port), "server serves at the end");
	return t_done();
}

int
main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "mount") == 0)
		return do_mount(argv);
	if (argc == 5 && strcmp(argv[1], "bad") == 0)
		return do_bad(argv);
	fprintf(stderr, "usage: nfs_rawprobe mount SRC DST PORT EXPORT ok|acces"
	    "\n       nfs_rawprobe bad DST PORT EXPORT\n");
	return 2;
}

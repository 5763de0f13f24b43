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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/nfs/rpc_raw.h"
#include "tests/unit/t.h"

static struct rr_msg	rin = RR_MSG_INIT;	/* the last reply */

/* Every call has the same xid and AUTH_UNIX root. */
static void
call(struct rr_msg *m, uint32_t prog, uint32_t vers, uint32_t proc)
{
	rr_call(m, 0x1234, prog, vers, proc, NULL);
}

/* Send m, return accept_stat (or -1) and the first result word. */
static int
roundtrip(int fd, struct rr_msg *m, uint32_t *first)
{
	const uint8_t	*r;
	size_t		 rl;
	long		 st = rr_roundtrip(fd, m, &rin, 8192, 5000, &r, &rl);

	if (st < 0)
		return -1;
	if (first != NULL && rl >= 4)
		*first = rr_get32(r);
	return (int)st;
}

/* A NULL call on a fresh connection: the server still serves. */
static int
alive(const char *dst, int port)
{
	struct rr_msg	m = RR_MSG_INIT;
	int		fd = rr_dial(NULL, 0, dst, port), rc;

	if (fd < 0)
		return 0;
	call(&m, 100003, 3, 0);
	rc = roundtrip(fd, &m, NULL);
	close(fd);
	rr_free(&m);
	return rc == 0;
}

static uint32_t
mnt(int fd, const char *path, uint8_t *fh, uint32_t *fhlen)
{
	struct rr_msg	m = RR_MSG_INIT;
	ssize_t		n;
	int		sent;

	call(&m, 100005, 3, 1);
	rr_str(&m, path);
	rr_finish(&m);
	sent = rr_send(fd, m.b, m.n);
	rr_free(&m);
	if (sent < 0)
		return 9999;
	if ((n = rr_reply(fd, &rin, 8192, 5000)) < 32 ||
	    rr_get32(rin.b + 24) != 0)
		return 9998;
	if (rr_get32(rin.b + 28) == 0 && fh != NULL && n >= 36) {
		*fhlen = rr_get32(rin.b + 32);
		if (*fhlen > 64 || (size_t)n < 36 + *fhlen)
			return 9997;
		memcpy(fh, rin.b + 36, *fhlen);
	}
	return rr_get32(rin.b + 28);
}

static int
do_mount(char **argv)
{
	int fd = rr_dial(argv[2], 0, argv[3], atoi(argv[4]));

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
	struct rr_msg	 m = RR_MSG_INIT;
	uint8_t		 fh[64], junk[512];
	uint32_t	 fhlen = 0, first = 0;

	fd = rr_dial(NULL, 0, dst, port);
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
	rr_u32(&m, 0xfffffff0u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "fh length 2^32-16: GARBAGE_ARGS");
	call(&m, 100003, 3, 1);
	rr_u32(&m, 0x80000000u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "fh length 2^31: GARBAGE_ARGS");
	call(&m, 100003, 3, 3);			/* LOOKUP, name too long */
	rr_opaque(&m, fh, fhlen);
	rr_u32(&m, 0x7ffffff0u);
	T_EQ(roundtrip(fd, &m, NULL), 4, "name length 2^31-16: GARBAGE_ARGS");
	call(&m, 100003, 3, 1);			/* args cut short */
	rr_u32(&m, 32);
	T_EQ(roundtrip(fd, &m, NULL), 4, "truncated fh: GARBAGE_ARGS");
	/* forged handles */
	call(&m, 100003, 3, 1);
	rr_opaque(&m, fh, 3);
	T_EQ(roundtrip(fd, &m, &first), 0, "3-byte handle answered");
	T_EQ(first, 10001, "3-byte handle: NFS3ERR_BADHANDLE");
	fh[2] ^= 0x77;
	call(&m, 100003, 3, 1);
	rr_opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "other export id answered");
	T_EQ(first, 70, "other export id: NFS3ERR_STALE");
	fh[2] ^= 0x77;
	fh[fhlen - 1] ^= 0xff;
	call(&m, 100003, 3, 1);
	rr_opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "forged inode answered");
	T_OK(first == 70 || first == 10001, "forged inode: STALE (%u)", first);
	fh[fhlen - 1] ^= 0xff;
	call(&m, 100003, 3, 1);
	rr_opaque(&m, fh, fhlen);
	T_EQ(roundtrip(fd, &m, &first), 0, "the real handle still works");
	T_EQ(first, 0, "GETATTR NFS3_OK");
	close(fd);

	/* a credential longer than allowed: connection dropped */
	fd = rr_dial(NULL, 0, dst, port);
	call(&m, 100003, 3, 0);
	m.b[8 + 24] = 0x80;			/* cred length 0x80000014 */
	rr_finish(&m);
	T_OK(write(fd, m.b, m.n) == (ssize_t)m.n, "sent a forged credential");
	T_EQ(rr_reply(fd, &rin, sizeof(junk), 5000), 0, "connection closed");
	close(fd);
	T_OK(alive(dst, port), "server serves after a forged credential");

	/* garbage */
	fd = rr_dial(NULL, 0, dst, port);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[0] = 0x80;
	junk[1] = 0;
	junk[2] = 1;
	junk[3] = 0xfc;				/* 508 bytes */
	T_OK(write(fd, junk, sizeof(junk)) == sizeof(junk), "sent garbage");
	rr_reply(fd, &rin, sizeof(junk), 5000);
	close(fd);
	T_OK(alive(dst, port), "server serves after garbage");

	/* truncated record, then the client goes away */
	fd = rr_dial(NULL, 0, dst, port);
	call(&m, 100003, 3, 0);
	rr_finish(&m);
	T_OK(write(fd, m.b, 10) == 10, "sent 10 bytes of a record");
	close(fd);
	T_OK(alive(dst, port), "server serves after a truncated record");

	/* oversized record marker */
	fd = rr_dial(NULL, 0, dst, port);
	junk[0] = 0xff; junk[1] = 0xff; junk[2] = 0xff; junk[3] = 0xff;
	T_OK(write(fd, junk, 4) == 4, "sent a 2 GiB record marker");
	T_EQ(rr_reply(fd, &rin, sizeof(junk), 5000), 0, "connection closed");
	close(fd);
	/* a fragmented call is reassembled */
	fd = rr_dial(NULL, 0, dst, port);
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
		T_OK(rr_reply(fd, &rin, sizeof(junk), 5000) > 0,
		    "fragmented call answered");
	}
	close(fd);
	T_OK(alive(dst, port), "server serves at the end");
	rr_free(&m);
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

/*
 * drc_probe.c — one non-idempotent NFS v3 call with a chosen xid, on a
 * new TCP connection, the way a client retransmits after a failover:
 * same xid, same client address, another connection (and port).
 *
 *   drc_probe DST PORT EXPORT XID remove NAME
 *   drc_probe DST PORT EXPORT XID create NAME [setattr]
 *   drc_probe DST PORT EXPORT XID rename FROM TO
 *
 * The root handle comes from a MNT (xid XID ^ 0x5a5a0000) on the same
 * connection.  create is EXCLUSIVE with a verifier made of the xid; with
 * "setattr" a successful create is followed by a SETATTR (mode 0644,
 * times to server time, xid XID + 1) as a Linux client does, which
 * replaces the verifier: a re-executed create then answers EXIST, only
 * the duplicate request cache can repeat the original OK.
 * Prints "status=N" (nfsstat3) and "body=HEX" (the reply after the
 * accept_stat, the bytes the DRC stores) of the call; exit 0 when the
 * call got an accepted reply, 1 otherwise (the message on stderr).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/nfs/rpc_raw.h"

#define NFS_PROG	100003
#define MNT_PROG	100005
#define P_SETATTR	2
#define P_CREATE	8
#define P_REMOVE	12
#define P_RENAME	14

static struct rr_msg	rin = RR_MSG_INIT;

static void
usage(void)
{
	fprintf(stderr, "usage: drc_probe DST PORT EXPORT XID remove NAME\n"
	    "       drc_probe DST PORT EXPORT XID create NAME [setattr]\n"
	    "       drc_probe DST PORT EXPORT XID rename FROM TO\n");
	exit(64);
}

/* MNT path on fd: the root handle, or exit 1. */
static void
mnt(int fd, uint32_t xid, const char *path, uint8_t *fh, uint32_t *fhlen)
{
	struct rr_msg	 m = RR_MSG_INIT;
	const uint8_t	*r;
	size_t		 rl;

	rr_call(&m, xid, MNT_PROG, 3, 1, NULL);
	rr_str(&m, path);
	if (rr_roundtrip(fd, &m, &rin, 8192, 10000, &r, &rl) != 0 || rl < 8 ||
	    rr_get32(r) != 0) {
		fprintf(stderr, "drc_probe: MNT %s failed\n", path);
		exit(1);
	}
	*fhlen = rr_get32(r + 4);
	if (*fhlen > 64 || rl < 8 + *fhlen) {
		fprintf(stderr, "drc_probe: MNT: bad handle length\n");
		exit(1);
	}
	memcpy(fh, r + 8, *fhlen);
	rr_free(&m);
}

/* Send m (finished here), print status and body; returns the reply's
 * body (into rin) or exits 1. */
static void
call(int fd, struct rr_msg *m, const uint8_t **body, size_t *len, int show)
{
	long st = rr_roundtrip(fd, m, &rin, 65536, 10000, body, len);

	if (st != 0 || *len < 4) {
		fprintf(stderr, "drc_probe: no accepted reply (%ld)\n", st);
		exit(1);
	}
	if (!show)
		return;
	printf("status=%u\nbody=", rr_get32(*body));
	for (size_t i = 0; i < *len; i++)
		printf("%02x", (*body)[i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct rr_msg	 m = RR_MSG_INIT;
	uint8_t		 root[64], fh[64];
	uint32_t	 rootlen = 0, xid, fhlen;
	const uint8_t	*b;
	size_t		 bl;
	const char	*op;
	int		 fd;

	if (argc < 7)
		usage();
	xid = (uint32_t)strtoul(argv[4], NULL, 0);
	op = argv[5];
	if ((fd = rr_dial(NULL, 0, argv[1], atoi(argv[2]))) < 0) {
		perror("drc_probe: connect");
		return 1;
	}
	mnt(fd, xid ^ 0x5a5a0000u, argv[3], root, &rootlen);
	if (strcmp(op, "remove") == 0 && argc == 7) {
		rr_call(&m, xid, NFS_PROG, 3, P_REMOVE, NULL);
		rr_opaque(&m, root, rootlen);
		rr_str(&m, argv[6]);
		call(fd, &m, &b, &bl, 1);
	} else if (strcmp(op, "rename") == 0 && argc == 8) {
		rr_call(&m, xid, NFS_PROG, 3, P_RENAME, NULL);
		rr_opaque(&m, root, rootlen);
		rr_str(&m, argv[6]);
		rr_opaque(&m, root, rootlen);
		rr_str(&m, argv[7]);
		call(fd, &m, &b, &bl, 1);
	} else if (strcmp(op, "create") == 0 && (argc == 7 || (argc == 8 &&
	    strcmp(argv[7], "setattr") == 0))) {
		rr_call(&m, xid, NFS_PROG, 3, P_CREATE, NULL);
		rr_opaque(&m, root, rootlen);
		rr_str(&m, argv[6]);
		rr_u32(&m, 2);			/* EXCLUSIVE */
		rr_u32(&m, xid);		/* createverf3 */
		rr_u32(&m, ~xid);
		call(fd, &m, &b, &bl, 1);
		/* status OK, post_op_fh3 { TRUE, fh } */
		if (argc == 8 && rr_get32(b) == 0 && bl >= 12 &&
		    rr_get32(b + 4) == 1 && (fhlen = rr_get32(b + 8)) <= 64 &&
		    bl >= 12 + fhlen) {
			memcpy(fh, b + 12, fhlen);
			rr_call(&m, xid + 1, NFS_PROG, 3, P_SETATTR, NULL);
			rr_opaque(&m, fh, fhlen);
			rr_u32(&m, 1);		/* mode */
			rr_u32(&m, 0644);
			rr_u32(&m, 0);		/* uid */
			rr_u32(&m, 0);		/* gid */
			rr_u32(&m, 0);		/* size */
			rr_u32(&m, 1);		/* atime: server time */
			rr_u32(&m, 1);		/* mtime: server time */
			rr_u32(&m, 0);		/* no guard */
			call(fd, &m, &b, &bl, 0);
			if (rr_get32(b) != 0) {
				fprintf(stderr, "drc_probe: SETATTR: %u\n",
				    rr_get32(b));
				return 1;
			}
		}
	} else
		usage();
	close(fd);
	rr_free(&m);
	rr_free(&rin);
	return 0;
}

/*
 * nfs_hostile.c — raw ONC RPC over TCP against the NFS server, acting as
 * hostile and as well-behaved clients from chosen 127.x source addresses,
 * for tests/nfs/nfs_limits.sh.
 *
 *   nfs_hostile hold SRCS DST PORT N SIZE SENT SECS
 *	N connections (round robin over SRCS); each announces a record of
 *	SIZE bytes and sends SENT bytes of it (SENT 0: sends nothing), then
 *	they are held for SECS seconds.  Prints "ready connected=N
 *	failed=F closed=C" once everything is sent, "done connected=N
 *	closed=C" at the end (closed: by the server).
 *   nfs_hostile call SRC DST PORT [EXPORT]
 *	A client: NULL, and with EXPORT a MNT + GETATTR of its root; exit
 *	0 when every call was answered with success within 5 s.
 *   nfs_hostile watch SRC DST PORT MODE SECS
 *	One connection; MODE idle (sends nothing), active (a NULL call
 *	every 500 ms), partial (half a record, then nothing), trickle (a
 *	64 KiB NULL call sent in 10 pieces 500 ms apart, then active).
 *	Prints "closed after T s" (exit 0), or "open after SECS s" (exit
 *	1); 2 when a call was not answered.
 *   nfs_hostile write SRC DST PORT EXPORT MIB INFLIGHT
 *	MNT, CREATE a file, then MIB WRITEs of 1 MiB with INFLIGHT calls
 *	pipelined; exit 0 when every WRITE succeeded.
 *
 * SRCS: ADDR or ADDR+K (K consecutive addresses from ADDR).  No libnfs:
 * records are built by hand so nothing hides what goes on the wire.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/nfs/rpc_raw.h"

#define MAXFH	64
#define MIB	(1024 * 1024)

static uint32_t	 xid = 0x51000;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Call header with the next xid and AUTH_UNIX root. */
static void
call(struct rr_msg *m, uint32_t prog, uint32_t vers, uint32_t proc)
{
	rr_call(m, xid++, prog, vers, proc, NULL);
}

/* Send m, read the reply into in: accept_stat, or -1; *res points to the
 * result (after accept_stat) with *reslen bytes. */
static int
roundtrip(int fd, struct rr_msg *m, struct rr_msg *in, const uint8_t **res,
    size_t *reslen)
{
	long st = rr_roundtrip(fd, m, in, SIZE_MAX, 5000, res, reslen);

	return st < 0 ? -1 : (int)st;
}

/* SRCS: "a.b.c.d" or "a.b.c.d+K": the i-th source address. */
static void
src_addr(const char *srcs, int i, char *out, size_t outlen)
{
	char		 a[64], *plus;
	struct in_addr	 in;
	int		 k = 1;

	snprintf(a, sizeof(a), "%s", srcs);
	if ((plus = strchr(a, '+')) != NULL) {
		*plus = 0;
		k = atoi(plus + 1);
		if (k < 1)
			k = 1;
	}
	if (inet_pton(AF_INET, a, &in) != 1) {
		snprintf(out, outlen, "%s", a);
		return;
	}
	in.s_addr = htonl(ntohl(in.s_addr) + (uint32_t)(i % k));
	inet_ntop(AF_INET, &in, out, (socklen_t)outlen);
}

/* ---- hold ----------------------------------------------------------------- */

static int
cmd_hold(const char *srcs, const char *dst, int port, int n, size_t size,
    size_t sent, int secs)
{
	int		*fd = calloc((size_t)n, sizeof(int));
	size_t		*off = calloc((size_t)n, sizeof(size_t));
	uint8_t		*body, hdr[4];
	struct pollfd	*p = calloc((size_t)n, sizeof(*p));
	int		 connected = 0, failed = 0, closed = 0, left;
	double		 end;
	char		 src[64], junk[4096];

	if (fd == NULL || off == NULL || p == NULL || (body = calloc(1,
	    sent + 4)) == NULL) {
		perror("calloc");
		return 2;
	}
	hdr[0] = (uint8_t)(0x80 | (size >> 24));
	hdr[1] = (uint8_t)(size >> 16);
	hdr[2] = (uint8_t)(size >> 8);
	hdr[3] = (uint8_t)size;
	memcpy(body, hdr, 4);
	for (int i = 0; i < n; i++) {
		src_addr(srcs, i, src, sizeof(src));
		if ((fd[i] = rr_dial(src, 0, dst, port)) < 0) {
			failed++;
			continue;
		}
		fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK);
		connected++;
	}
	/* send every prefix, watching for closes, at most 30 s */
	end = now() + 30;
	do {
		left = 0;
		for (int i = 0; i < n; i++) {
			p[i].fd = fd[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
			if (fd[i] >= 0 && sent > 0 && off[i] < sent + 4) {
				p[i].events |= POLLOUT;
				left++;
			}
		}
		if (left == 0)
			break;
		if (poll(p, (nfds_t)n, 1000) < 0)
			break;
		for (int i = 0; i < n; i++) {
			ssize_t w;

			if (fd[i] < 0 || p[i].revents == 0)
				continue;
			if (p[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				if (read(fd[i], junk, sizeof(junk)) <= 0) {
					close(fd[i]);
					fd[i] = -1;
					closed++;
					continue;
				}
			}
			if (!(p[i].revents & POLLOUT) || off[i] >= sent + 4)
				continue;
			w = send(fd[i], body + off[i], sent + 4 - off[i],
			    MSG_NOSIGNAL);
			if (w > 0)
				off[i] += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(fd[i]);
				fd[i] = -1;
				closed++;
			}
		}
	} while (now() < end);
	printf("ready connected=%d failed=%d closed=%d\n", connected, failed,
	    closed);
	fflush(stdout);
	end = now() + secs;
	while (now() < end) {
		for (int i = 0; i < n; i++) {
			p[i].fd = fd[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, 200) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (fd[i] < 0 || p[i].revents == 0)
				continue;
			if (read(fd[i], junk, sizeof(junk)) <= 0) {
				close(fd[i]);
				fd[i] = -1;
				closed++;
			}
		}
	}
	printf("done connected=%d closed=%d\n", connected, closed);
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	free(off);
	free(p);
	free(body);
	return 0;
}

/* ---- call ----------------------------------------------------------------- */

/* MNT path on fd; 0 with the root handle, or -1. */
static int
mount_root(int fd, const char *path, uint8_t *fh, uint32_t *fhlen,
    struct rr_msg *m, struct rr_msg *in)
{
	const uint8_t	*r;
	size_t		 rl;

	call(m, 100005, 3, 1);
	rr_opaque(m, path, (uint32_t)strlen(path));
	if (roundtrip(fd, m, in, &r, &rl) != 0 || rl < 8 ||
	    rr_get32(r) != 0)
		return -1;
	*fhlen = rr_get32(r + 4);
	if (*fhlen > MAXFH || rl < 8 + *fhlen)
		return -1;
	memcpy(fh, r + 8, *fhlen);
	return 0;
}

static int
cmd_call(const char *src, const char *dst, int port, const char *export)
{
	struct rr_msg	 m = RR_MSG_INIT, in = RR_MSG_INIT;
	uint8_t		 fh[MAXFH];
	size_t		 rl;
	const uint8_t	*r;
	uint32_t	 fhlen;
	double		 t0 = now();
	int		 fd, rc = 1;

	if ((fd = rr_dial(src, 0, dst, port)) < 0) {
		printf("connect: %s\n", strerror(errno));
		goto out;
	}
	call(&m, 100003, 3, 0);
	if (roundtrip(fd, &m, &in, NULL, NULL) != 0) {
		printf("NULL not answered\n");
		goto out;
	}
	if (export != NULL) {
		if (mount_root(fd, export, fh, &fhlen, &m, &in) < 0) {
			printf("MNT %s failed\n", export);
			goto out;
		}
		call(&m, 100003, 3, 1);		/* GETATTR */
		rr_opaque(&m, fh, fhlen);
		if (roundtrip(fd, &m, &in, &r, &rl) != 0 || rl < 4 ||
		    rr_get32(r) != 0) {
			printf("GETATTR failed\n");
			goto out;
		}
	}
	printf("answered in %.0f ms\n", (now() - t0) * 1000);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	rr_free(&m);
	rr_free(&in);
	return rc;
}

/* ---- watch ---------------------------------------------------------------- */

/* 1 when the server closed fd (waits up to ms). */
static int
closed_within(int fd, int ms)
{
	struct pollfd	p = { fd, POLLIN, 0 };
	char		junk[4096];

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return read(fd, junk, sizeof(junk)) <= 0;
}

static int
cmd_watch(const char *src, const char *dst, int port, const char *mode,
    int secs)
{
	struct rr_msg	 m = RR_MSG_INIT, in = RR_MSG_INIT;
	double		 t0, end;
	int		 fd, rc;

	if ((fd = rr_dial(src, 0, dst, port)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	t0 = now();
	end = t0 + secs;
	if (strcmp(mode, "partial") == 0) {
		call(&m, 100003, 3, 0);
		for (int i = 0; i < 1024; i++)
			rr_u32(&m, 0);
		rr_finish(&m);
		if (rr_send(fd, m.b, m.n / 2) < 0) {
			printf("send failed\n");
			return 2;
		}
	} else if (strcmp(mode, "trickle") == 0) {
		size_t piece;

		call(&m, 100003, 3, 0);
		for (int i = 0; i < 16384; i++)
			rr_u32(&m, 0);
		rr_finish(&m);
		piece = (m.n + 9) / 10;
		for (size_t o = 0; o < m.n; o += piece) {
			size_t k = m.n - o < piece ? m.n - o : piece;

			if (o > 0 && closed_within(fd, 500)) {
				printf("closed after %.1f s (mid-record)\n",
				    now() - t0);
				return 0;
			}
			if (rr_send(fd, m.b + o, k) < 0) {
				printf("closed after %.1f s (send)\n",
				    now() - t0);
				return 0;
			}
		}
		if (rr_reply(fd, &in, SIZE_MAX, 5000) < 28) {
			printf("trickled call not answered after %.1f s\n",
			    now() - t0);
			return 2;
		}
		printf("trickled call answered after %.1f s\n", now() - t0);
		mode = "active";
	} else if (strcmp(mode, "idle") != 0 && strcmp(mode, "active") != 0) {
		fprintf(stderr, "watch: unknown mode %s\n", mode);
		return 2;
	}
	rc = 1;
	while (now() < end) {
		if (strcmp(mode, "active") == 0) {
			call(&m, 100003, 3, 0);
			rc = roundtrip(fd, &m, &in, NULL, NULL);
			if (rc != 0) {
				printf("closed after %.1f s (call)\n",
				    now() - t0);
				return 0;
			}
			rc = 1;
		}
		if (closed_within(fd, 500)) {
			printf("closed after %.1f s\n", now() - t0);
			rc = 0;
			break;
		}
	}
	if (rc == 1)
		printf("open after %.1f s\n", now() - t0);
	close(fd);
	rr_free(&m);
	rr_free(&in);
	return rc;
}

/* ---- write ---------------------------------------------------------------- */

static int
cmd_write(const char *src, const char *dst, int port, const char *export,
    int mib, int inflight)
{
	struct rr_msg	 m = RR_MSG_INIT, in = RR_MSG_INIT;
	uint8_t		 root[MAXFH], fh[MAXFH], *data;
	size_t		 rl;
	const uint8_t	*r;
	uint32_t	 rootlen, fhlen;
	char		 name[64];
	int		 fd, sent = 0, answered = 0, bad = 0;
	double		 t0;

	if ((data = calloc(1, MIB)) == NULL || (fd = rr_dial(src, 0, dst,
	    port)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	if (mount_root(fd, export, root, &rootlen, &m, &in) < 0) {
		printf("MNT %s failed\n", export);
		return 1;
	}
	snprintf(name, sizeof(name), "hostile-write.%d", (int)getpid());
	call(&m, 100003, 3, 8);			/* CREATE, UNCHECKED */
	rr_opaque(&m, root, rootlen);
	rr_opaque(&m, name, (uint32_t)strlen(name));
	rr_u32(&m, 0);
	for (int i = 0; i < 6; i++)
		rr_u32(&m, 0);			/* sattr3: set nothing */
	if (roundtrip(fd, &m, &in, &r, &rl) != 0 || rl < 12 ||
	    rr_get32(r) != 0 || rr_get32(r + 4) != 1 ||
	    (fhlen = rr_get32(r + 8)) > MAXFH || rl < 12 + fhlen) {
		printf("CREATE failed\n");
		return 1;
	}
	memcpy(fh, r + 12, fhlen);
	t0 = now();
	while (answered < mib) {
		while (sent < mib && sent - answered < inflight) {
			call(&m, 100003, 3, 7);		/* WRITE */
			rr_opaque(&m, fh, fhlen);
			rr_u32(&m, 0);
			rr_u32(&m, (uint32_t)sent * MIB);
			rr_u32(&m, MIB);
			rr_u32(&m, 0);			/* UNSTABLE */
			rr_u32(&m, MIB);
			rr_finish(&m);
			m.b[0] = (uint8_t)(0x80 | ((m.n - 4 + MIB) >> 24));
			m.b[1] = (uint8_t)((m.n - 4 + MIB) >> 16);
			m.b[2] = (uint8_t)((m.n - 4 + MIB) >> 8);
			m.b[3] = (uint8_t)(m.n - 4 + MIB);
			if (rr_send(fd, m.b, m.n) < 0 ||
			    rr_send(fd, data, MIB) < 0) {
				printf("connection lost after %d WRITEs\n",
				    answered);
				return 1;
			}
			sent++;
		}
		if (rr_reply(fd, &in, SIZE_MAX, 30000) < 32) {
			printf("WRITE %d not answered\n", answered);
			return 1;
		}
		if (rr_get32(in.b + 24) != 0 || rr_get32(in.b + 28) != 0)
			bad++;
		answered++;
	}
	printf("wrote %d MiB in %.2f s (%.0f MiB/s), %d failed\n", mib,
	    now() - t0, mib / (now() - t0), bad);
	close(fd);
	free(data);
	rr_free(&m);
	rr_free(&in);
	return bad == 0 ? 0 : 1;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: nfs_hostile hold SRCS DST PORT N SIZE SENT SECS\n"
	    "       nfs_hostile call SRC DST PORT [EXPORT]\n"
	    "       nfs_hostile watch SRC DST PORT idle|active|partial|"
	    "trickle SECS\n"
	    "       nfs_hostile write SRC DST PORT EXPORT MIB INFLIGHT\n");
	return 2;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 9 && strcmp(argv[1], "hold") == 0)
		return cmd_hold(argv[2], argv[3], atoi(argv[4]),
		    atoi(argv[5]), strtoul(argv[6], NULL, 10),
		    strtoul(argv[7], NULL, 10), atoi(argv[8]));
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "call") == 0)
		return cmd_call(argv[2], argv[3], atoi(argv[4]),
		    argc == 6 ? argv[5] : NULL);
	if (argc == 7 && strcmp(argv[1], "watch") == 0)
		return cmd_watch(argv[2], argv[3], atoi(argv[4]), argv[5],
		    atoi(argv[6]));
	if (argc == 8 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv[2], argv[3], atoi(argv[4]), argv[5],
		    atoi(argv[6]), atoi(argv[7]));
	return usage();
}

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

#define MAXFH	64
#define MIB	(1024 * 1024)

struct msg {
	uint8_t	*b;
	size_t	 n, cap;
};

static uint32_t	 xid = 0x51000;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
put32(struct msg *m, uint32_t v)
{
	if (m->n + 4 > m->cap) {
		m->cap = (m->n + 4) * 2;
		if ((m->b = realloc(m->b, m->cap)) == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	m->b[m->n++] = (uint8_t)(v >> 24);
	m->b[m->n++] = (uint8_t)(v >> 16);
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void
put_opaque(struct msg *m, const void *p, uint32_t len)
{
	put32(m, len);
	for (uint32_t i = 0; i < (len + 3) / 4; i++) {
		uint8_t w[4] = { 0, 0, 0, 0 };

		memcpy(w, (const uint8_t *)p + i * 4, len - i * 4 < 4 ?
		    len - i * 4 : 4);
		put32(m, (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 |
		    (uint32_t)w[2] << 8 | w[3]);
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Record marker (patched by done()), call header, AUTH_UNIX root. */
static void
call(struct msg *m, uint32_t prog, uint32_t vers, uint32_t proc)
{
	m->n = 0;
	put32(m, 0);
	put32(m, xid++);
	put32(m, 0);		/* CALL */
	put32(m, 2);
	put32(m, prog);
	put32(m, vers);
	put32(m, proc);
	put32(m, 1);		/* AUTH_UNIX */
	put32(m, 20);
	put32(m, 0);		/* stamp */
	put32(m, 0);		/* machine name "" */
	put32(m, 0);		/* uid */
	put32(m, 0);		/* gid */
	put32(m, 0);		/* no groups */
	put32(m, 0);		/* verifier AUTH_NONE */
	put32(m, 0);
}

static void
done(struct msg *m)
{
	uint32_t mark = 0x80000000u | (uint32_t)(m->n - 4);

	m->b[0] = (uint8_t)(mark >> 24);
	m->b[1] = (uint8_t)(mark >> 16);
	m->b[2] = (uint8_t)(mark >> 8);
	m->b[3] = (uint8_t)mark;
}

static int
dial(const char *src, const char *dst, int port, int nonblock)
{
	struct sockaddr_in	sa;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (src != NULL && (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)) {
		close(fd);
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	if (nonblock)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Write all of it (blocking socket); 0 or -1. */
static int
send_all(int fd, const void *p, size_t n)
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

/* Read one reply record into *b (grown); length, 0 on EOF, -1 timeout or
 * error. */
static ssize_t
reply(int fd, uint8_t **b, size_t *cap, int ms)
{
	size_t		got = 0, want = 4;
	struct pollfd	p = { fd, POLLIN, 0 };

	while (got < want) {
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		n = read(fd, *b + got, want - got);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n < 0)
			return -1;
		got += (size_t)n;
		if (got == 4) {
			want = 4 + (get32(*b) & 0x7fffffffu);
			if (want > *cap) {
				*cap = want;
				if ((*b = realloc(*b, *cap)) == NULL)
					return -1;
			}
		}
	}
	return (ssize_t)got;
}

/* Send m, read the reply: accept_stat, or -1; *res points to the result
 * (after accept_stat) with *reslen bytes. */
static int
roundtrip(int fd, struct msg *m, uint8_t **b, size_t *cap,
    const uint8_t **res, size_t *reslen)
{
	ssize_t n;

	done(m);
	if (send_all(fd, m->b, m->n) < 0)
		return -1;
	if ((n = reply(fd, b, cap, 5000)) < 28)
		return -1;
	if (get32(*b + 8) != 1 || get32(*b + 12) != 0)
		return -1;
	if (res != NULL) {
		*res = *b + 28;
		*reslen = (size_t)n - 28;
	}
	return (int)get32(*b + 24);
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
		if ((fd[i] = dial(src, dst, port, 1)) < 0) {
			failed++;
			continue;
		}
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
    struct msg *m, uint8_t **b, size_t *cap)
{
	const uint8_t	*r;
	size_t		 rl;

	call(m, 100005, 3, 1);
	put_opaque(m, path, (uint32_t)strlen(path));
	if (roundtrip(fd, m, b, cap, &r, &rl) != 0 || rl < 8 ||
	    get32(r) != 0)
		return -1;
	*fhlen = get32(r + 4);
	if (*fhlen > MAXFH || rl < 8 + *fhlen)
		return -1;
	memcpy(fh, r + 8, *fhlen);
	return 0;
}

static int
cmd_call(const char *src, const char *dst, int port, const char *export)
{
	struct msg	 m = { NULL, 0, 0 };
	uint8_t		*b = malloc(8192), fh[MAXFH];
	size_t		 cap = 8192, rl;
	const uint8_t	*r;
	uint32_t	 fhlen;
	double		 t0 = now();
	int		 fd, rc = 1;

	if ((fd = dial(src, dst, port, 0)) < 0) {
		printf("connect: %s\n", strerror(errno));
		goto out;
	}
	call(&m, 100003, 3, 0);
	if (roundtrip(fd, &m, &b, &cap, NULL, NULL) != 0) {
		printf("NULL not answered\n");
		goto out;
	}
	if (export != NULL) {
		if (mount_root(fd, export, fh, &fhlen, &m, &b, &cap) < 0) {
			printf("MNT %s failed\n", export);
			goto out;
		}
		call(&m, 100003, 3, 1);		/* GETATTR */
		put_opaque(&m, fh, fhlen);
		if (roundtrip(fd, &m, &b, &cap, &r, &rl) != 0 || rl < 4 ||
		    get32(r) != 0) {
			printf("GETATTR failed\n");
			goto out;
		}
	}
	printf("answered in %.0f ms\n", (now() - t0) * 1000);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(m.b);
	free(b);
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
	struct msg	 m = { NULL, 0, 0 };
	uint8_t		*b = malloc(8192);
	size_t		 cap = 8192;
	double		 t0, end;
	int		 fd, rc;

	if ((fd = dial(src, dst, port, 0)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	t0 = now();
	end = t0 + secs;
	if (strcmp(mode, "partial") == 0) {
		call(&m, 100003, 3, 0);
		for (int i = 0; i < 1024; i++)
			put32(&m, 0);
		done(&m);
		if (send_all(fd, m.b, m.n / 2) < 0) {
			printf("send failed\n");
			return 2;
		}
	} else if (strcmp(mode, "trickle") == 0) {
		size_t piece;

		call(&m, 100003, 3, 0);
		for (int i = 0; i < 16384; i++)
			put32(&m, 0);
		done(&m);
		piece = (m.n + 9) / 10;
		for (size_t o = 0; o < m.n; o += piece) {
			size_t k = m.n - o < piece ? m.n - o : piece;

			if (o > 0 && closed_within(fd, 500)) {
				printf("closed after %.1f s (mid-record)\n",
				    now() - t0);
				return 0;
			}
			if (send_all(fd, m.b + o, k) < 0) {
				printf("closed after %.1f s (send)\n",
				    now() - t0);
				return 0;
			}
		}
		if (reply(fd, &b, &cap, 5000) < 28) {
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
			rc = roundtrip(fd, &m, &b, &cap, NULL, NULL);
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
	free(m.b);
	free(b);
	return rc;
}

/* ---- write ---------------------------------------------------------------- */

static int
cmd_write(const char *src, const char *dst, int port, const char *export,
    int mib, int inflight)
{
	struct msg	 m = { NULL, 0, 0 };
	uint8_t		*b = malloc(8192), root[MAXFH], fh[MAXFH], *data;
	size_t		 cap = 8192, rl;
	const uint8_t	*r;
	uint32_t	 rootlen, fhlen;
	char		 name[64];
	int		 fd, sent = 0, answered = 0, bad = 0;
	double		 t0;

	if ((data = calloc(1, MIB)) == NULL || (fd = dial(src, dst, port,
	    0)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	if (mount_root(fd, export, root, &rootlen, &m, &b, &cap) < 0) {
		printf("MNT %s failed\n", export);
		return 1;
	}
	snprintf(name, sizeof(name), "hostile-write.%d", (int)getpid());
	call(&m, 100003, 3, 8);			/* CREATE, UNCHECKED */
	put_opaque(&m, root, rootlen);
	put_opaque(&m, name, (uint32_t)strlen(name));
	put32(&m, 0);
	for (int i = 0; i < 6; i++)
		put32(&m, 0);			/* sattr3: set nothing */
	if (roundtrip(fd, &m, &b, &cap, &r, &rl) != 0 || rl < 12 ||
	    get32(r) != 0 || get32(r + 4) != 1 ||
	    (fhlen = get32(r + 8)) > MAXFH || rl < 12 + fhlen) {
		printf("CREATE failed\n");
		return 1;
	}
	memcpy(fh, r + 12, fhlen);
	t0 = now();
	while (answered < mib) {
		while (sent < mib && sent - answered < inflight) {
			call(&m, 100003, 3, 7);		/* WRITE */
			put_opaque(&m, fh, fhlen);
			put32(&m, 0);
			put32(&m, (uint32_t)sent * MIB);
			put32(&m, MIB);
			put32(&m, 0);			/* UNSTABLE */
			put32(&m, MIB);
			done(&m);
			m.b[0] = (uint8_t)(0x80 | ((m.n - 4 + MIB) >> 24));
			m.b[1] = (uint8_t)((m.n - 4 + MIB) >> 16);
			m.b[2] = (uint8_t)((m.n - 4 + MIB) >> 8);
			m.b[3] = (uint8_t)(m.n - 4 + MIB);
			if (send_all(fd, m.b, m.n) < 0 ||
			    send_all(fd, data, MIB) < 0) {
				printf("connection lost after %d WRITEs\n",
				    answered);
				return 1;
			}
			sent++;
		}
		if (reply(fd, &b, &cap, 30000) < 32) {
			printf("WRITE %d not answered\n", answered);
			return 1;
		}
		if (get32(b + 24) != 0 || get32(b + 28) != 0)
			bad++;
		answered++;
	}
	printf("wrote %d MiB in %.2f s (%.0f MiB/s), %d failed\n", mib,
	    now() - t0, mib / (now() - t0), bad);
	close(fd);
	free(data);
	free(m.b);
	free(b);
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

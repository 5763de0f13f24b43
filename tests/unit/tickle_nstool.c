/*
 * tickle_nstool.c — the two ends of test_tickle_ns.sh: a TCP server that
 * drops its connection without a word and then (optionally) tickles the
 * client, and a client that waits for the server and reports how its
 * connection ended.
 *
 *   tickle_nstool server ADDR PORT tickle|silent
 *	listen on ADDR:PORT, accept one connection, read one byte, then
 *	forget the connection silently (TCP_REPAIR before close(2): no FIN,
 *	no RST, as if the host had lost power and another one had taken
 *	its address), and with "tickle" send one tickle ACK to the client
 *	with tickle_ack_send(), the daemon's own sending path.
 *   tickle_nstool client ADDR PORT WAIT_MS
 *	connect, send one byte, then wait for data at most WAIT_MS.
 *	Prints "reset MS" (exit 0), or "timeout" / "eof" / "error: ..."
 *	(exit 1).
 * Root only (raw sockets, TCP_REPAIR).  Usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "vip/tickle.h"

static void
usage(void)
{
	fprintf(stderr, "usage: tickle_nstool server ADDR PORT tickle|silent\n"
	    "       tickle_nstool client ADDR PORT WAIT_MS\n");
	exit(2);
}

static socklen_t
addr_parse(const char *a, const char *p, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	int			 port = atoi(p);

	memset(ss, 0, sizeof(*ss));
	if (port <= 0 || port > 65535)
		usage();
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	usage();
	return 0;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
server(const char *a, const char *p, int tickle)
{
	struct sockaddr_storage	ss, peer, local;
	struct tickle_conn	c;
	socklen_t		sl = addr_parse(a, p, &ss), pl, ll;
	int			l, fd, one = 1;
	char			b;

	if ((l = socket(ss.ss_family, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&ss, sl) < 0 || listen(l, 1) < 0) {
		perror("tickle_nstool: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	pl = sizeof(peer);
	if ((fd = accept(l, (struct sockaddr *)&peer, &pl)) < 0 ||
	    read(fd, &b, 1) != 1) {
		perror("tickle_nstool: accept/read");
		return 1;
	}
	ll = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0 ||
	    tickle_conn_from(&c, (struct sockaddr *)&local,
	    (struct sockaddr *)&peer) < 0) {
		perror("tickle_nstool: getsockname");
		return 1;
	}
	/* In repair mode close(2) sends nothing: the connection is simply
	 * gone from this host, the client still believes in it. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) < 0) {
		perror("tickle_nstool: TCP_REPAIR");
		return 1;
	}
	close(fd);
	if (tickle && tickle_ack_send(&c) < 0) {
		perror("tickle_nstool: tickle_ack_send");
		return 1;
	}
	printf("dropped%s\n", tickle ? ", tickled" : "");
	close(l);
	return 0;
}

static int
client(const char *a, const char *p, int wait_ms)
{
	struct sockaddr_storage	ss;
	struct timeval		tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
	socklen_t		sl = addr_parse(a, p, &ss);
	long			t0;
	ssize_t			n;
	int			fd;
	char			b = 'x';

	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    write(fd, &b, 1) != 1) {
		printf("error: connect: %s\n", strerror(errno));
		return 1;
	}
	t0 = mono_ms();
	n = read(fd, &b, 1);
	if (n < 0 && errno == ECONNRESET) {
		printf("reset %ld\n", mono_ms() - t0);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		printf("timeout\n");
	else if (n == 0)
		printf("eof\n");
	else
		printf("error: read: %s\n", n < 0 ? strerror(errno) : "data");
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc != 5)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "server") == 0) {
		if (strcmp(argv[4], "tickle") != 0 &&
		    strcmp(argv[4], "silent") != 0)
			usage();
		return server(argv[2], argv[3], strcmp(argv[4], "tickle") == 0);
	}
	if (strcmp(argv[1], "client") == 0) {
		int w = atoi(argv[4]);

		if (w <= 0 || w > 600000)
			usage();
		return client(argv[2], argv[3], w);
	}
	usage();
	return 2;
}

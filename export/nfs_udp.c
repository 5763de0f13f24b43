/*
 * nfs_udp.c — the NFS server's small UDP side: the portmapper (NULL,
 * GETPORT, DUMP) and NSM (NULL, STAT, NOTIFY), because Linux's sm-notify
 * looks up statd with a UDP portmapper call and sends SM_NOTIFY over
 * UDP.  Everything else over UDP gets PROG_UNAVAIL (or PROC_UNAVAIL):
 * NFS, MOUNT and NLM are served over TCP only.
 *
 * One socket per (address, port) — the portmap port and the NFS port
 * number — opened and closed with the TCP listeners of the address
 * (nfs_listen_add/remove).  One thread serves them all: each datagram
 * is one call, validated like a TCP record (nfs_xdr.c) and answered with
 * one datagram; nothing is kept between datagrams.  A NOTIFY blocks that
 * thread for one lock-table round trip.  Sockets are closed by the
 * thread itself (a removed one is marked), so a descriptor number is
 * never reused under its poll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "export/nfs_nlm_int.h"

#define UDP_MAX		(2 * NFS_MAX_LISTEN)
#define UDP_DGRAM_MAX	8192

struct udp_sock {
	char	addr[64];
	int	fd;		/* -1: free slot */
	int	dead;		/* removed: the thread closes it */
};

static struct {
	pthread_mutex_t	mtx;
	struct udp_sock	s[UDP_MAX];
	int		efd;
	int		running;
	int		stop;
	pthread_t	th;
	_Atomic uint64_t calls, bad;	/* answered; malformed */
} udp = { .mtx = PTHREAD_MUTEX_INITIALIZER, .efd = -1 };

static void
wake(void)
{
	uint64_t one = 1;

	if (udp.efd >= 0 && write(udp.efd, &one, sizeof(one)) < 0)
		log_warn("nfs: udp: eventfd write");
}

/* ---- one call ---------------------------------------------------------- */

static void
reply(int fd, const struct sockaddr *to, socklen_t tolen, uint32_t xid,
    uint32_t stat, const struct buf *body)
{
	struct buf b;

	buf_init(&b);
	buf_add_u32(&b, xid);
	buf_add_u32(&b, 1);		/* REPLY */
	buf_add_u32(&b, 0);		/* MSG_ACCEPTED */
	buf_add_u32(&b, 0);		/* verifier AUTH_NONE */
	buf_add_u32(&b, 0);
	buf_add_u32(&b, stat);
	if (stat == 2) {		/* PROG_MISMATCH: low, high */
		buf_add_u32(&b, body->len >= 4 ? get_be32(body->data) : 0);
		buf_add_u32(&b, body->len >= 4 ? get_be32(body->data) : 0);
	} else if (body != NULL) {
		buf_add(&b, body->data, body->len);
	}
	if (sendto(fd, b.data, b.len, MSG_DONTWAIT, to, tolen) < 0)
		log_debug("nfs: udp: sendto: %s", strerror(errno));
	buf_free(&b);
}

static void
udp_pmap(const struct nfs_callhdr *h, struct rd *r, struct buf *out)
{
	uint32_t	maps[16][4], prog, vers, prot;
	int		n;

	switch (h->proc) {
	case 1:			/* SET, UNSET: nobody registers */
	case 2:
		buf_add_u32(out, 0);
		break;
	case 3:				/* GETPORT */
		prog = rd_u32(r);
		vers = rd_u32(r);
		prot = rd_u32(r);
		buf_add_u32(out, nfs_svc_port(prog, vers, prot));
		break;
	case 4:				/* DUMP */
		n = nfs_svc_maps(maps, (int)nitems(maps));
		for (int i = 0; i < n; i++) {
			buf_add_u32(out, 1);
			for (int k = 0; k < 4; k++)
				buf_add_u32(out, maps[i][k]);
		}
		buf_add_u32(out, 0);
		break;
	}
}

/* NSM over UDP: NULL, STAT, NOTIFY.  -1: send no reply. */
static int
udp_nsm(const struct nfs_callhdr *h, struct rd *r, int args_ok,
    const struct sockaddr *peer, struct buf *out)
{
	struct nlm_obj	o;
	char		name[BRL_CLIENT_MAX];
	uint32_t	state;

	if (h->proc == 0)
		return 0;
	if (nlm_rd_obj(r, &o, NLM_OBJ_MAX) < 0)
		return -1;
	if (h->proc == 1) {		/* STAT */
		buf_add_u32(out, 0);
		buf_add_u32(out, nfs_nsm_state());
		return 0;
	}
	/* NOTIFY */
	state = rd_u32(r);
	if (args_ok == NFS_ARGS_NUL || o.len == 0 || o.len >= sizeof(name))
		return 0;		/* no such client can hold locks */
	memcpy(name, o.p, o.len);
	name[o.len] = 0;
	return nfs_nsm_notify(name, state, peer) < 0 ? -1 : 0;
}

static void
udp_call(int fd, const uint8_t *p, size_t len, const struct sockaddr *from,
    socklen_t fromlen)
{
	struct nfs_callhdr	h;
	struct rd		r;
	struct buf		out;
	uint32_t		stat = 0, vers = 0;
	int			args_ok;

	if (nfs_xdr_callhdr(p, len, &h) < 0 || h.rpcvers != 2) {
		udp.bad++;
		return;			/* not a call we can answer */
	}
	buf_init(&out);
	args_ok = nfs_xdr_args_ok(&h, p, len);
	rd_init(&r, p + h.argoff, len - h.argoff);
	if (h.prog == NFS_PROG_PMAP)
		vers = 2;
	else if (h.prog == NFS_PROG_NSM)
		vers = 1;
	if (vers == 0) {
		stat = 1;		/* PROG_UNAVAIL */
	} else if (h.vers != vers) {
		stat = 2;		/* PROG_MISMATCH */
		buf_add_u32(&out, vers);
	} else if (h.prog == NFS_PROG_PMAP ? h.proc > 4 :
	    h.proc != 0 && h.proc != 1 && h.proc != 6) {
		stat = 3;		/* PROC_UNAVAIL */
	} else if (args_ok == NFS_ARGS_GARBAGE) {
		stat = 4;		/* GARBAGE_ARGS */
		udp.bad++;
	} else if (h.prog == NFS_PROG_PMAP) {
		udp_pmap(&h, &r, &out);
	} else if (udp_nsm(&h, &r, args_ok, from, &out) < 0) {
		buf_free(&out);
		return;
	}
	udp.calls++;
	reply(fd, from, fromlen, h.xid, stat, &out);
	buf_free(&out);
}

/* ---- the thread ------------------------------------------------------ */

static void *
udp_main(void *arg)
{
	struct pollfd		pfd[UDP_MAX + 1];
	int			n;
	uint8_t			buf[UDP_DGRAM_MAX];
	struct sockaddr_storage	from;
	socklen_t		fromlen;
	ssize_t			k;
	uint64_t		v;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&udp.mtx);
		if (udp.stop) {
			pthread_mutex_unlock(&udp.mtx);
			return NULL;
		}
		n = 0;
		pfd[n].fd = udp.efd;
		pfd[n++].events = POLLIN;
		for (int i = 0; i < UDP_MAX; i++) {
			if (udp.s[i].fd >= 0 && udp.s[i].dead) {
				close(udp.s[i].fd);
				udp.s[i].fd = -1;
				udp.s[i].dead = 0;
			}
			if (udp.s[i].fd < 0)
				continue;
			pfd[n].fd = udp.s[i].fd;
			pfd[n++].events = POLLIN;
		}
		pthread_mutex_unlock(&udp.mtx);
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno != EINTR)
				log_warn("nfs: udp: poll");
			continue;
		}
		if (pfd[0].revents & POLLIN)
			if (read(udp.efd, &v, sizeof(v)) < 0)
				continue;
		for (int j = 1; j < n; j++) {
			if (!(pfd[j].revents & POLLIN))
				continue;
			fromlen = sizeof(from);
			k = recvfrom(pfd[j].fd, buf, sizeof(buf), MSG_DONTWAIT |
			    MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
			/* a datagram longer than the buffer is no call of
			 * ours (MSG_TRUNC gives its real length) */
			if (k < 0 || (size_t)k > sizeof(buf) ||
			    (from.ss_family != AF_INET &&
			    from.ss_family != AF_INET6)) {
				if (k > 0)
					udp.bad++;
				continue;
			}
			udp_call(pfd[j].fd, buf, (size_t)k,
			    (struct sockaddr *)&from, fromlen);
		}
	}
}

void
nfs_udp_stats(uint64_t *calls, uint64_t *bad)
{
	*calls = atomic_load(&udp.calls);
	*bad = atomic_load(&udp.bad);
}

int
nfs_udp_start(void)
{
	for (int i = 0; i < UDP_MAX; i++)
		udp.s[i].fd = -1;
	udp.stop = 0;
	if ((udp.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		log_warn("nfs: udp: eventfd");
		return -1;
	}
	if ((errno = pthread_create(&udp.th, NULL, udp_main, NULL)) != 0) {
		log_warn("nfs: udp: pthread_create");
		close(udp.efd);
		udp.efd = -1;
		return -1;
	}
	udp.running = 1;
	return 0;
}

void
nfs_udp_stop(void)
{
	if (!udp.running)
		return;
	pthread_mutex_lock(&udp.mtx);
	udp.stop = 1;
	pthread_mutex_unlock(&udp.mtx);
	wake();
	pthread_join(udp.th, NULL);
	for (int i = 0; i < UDP_MAX; i++) {
		if (udp.s[i].fd >= 0)
			close(udp.s[i].fd);
		udp.s[i].fd = -1;
		udp.s[i].dead = 0;
	}
	close(udp.efd);
	udp.efd = -1;
	udp.running = 0;
}

static int
udp_open(const char *addr, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, one = 1;

	if (nfs_addr_parse(addr, port, &ss, &len) < 0) {
		log_warnx("nfs: udp: '%s' is not an IP address", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		log_warn("nfs: udp: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		log_warn("nfs: udp: bind %s port %d", addr, port);
		close(fd);
		return -1;
	}
	return fd;
}

int
nfs_udp_add(const char *addr, int pmap_port, int nsm_port)
{
	int	ports[2] = { pmap_port, nsm_port }, fds[2] = { -1, -1 };
	int	free_slots = 0;

	if (!udp.running)
		return 0;
	for (int p = 0; p < 2; p++) {
		if (ports[p] == 0 || (p == 1 && ports[1] == ports[0]))
			continue;
		if ((fds[p] = udp_open(addr, ports[p])) < 0) {
			if (fds[0] >= 0)
				close(fds[0]);
			return -1;
		}
	}
	pthread_mutex_lock(&udp.mtx);
	for (int i = 0; i < UDP_MAX; i++)
		if (udp.s[i].fd < 0)
			free_slots++;
	for (int p = 0, i = 0; p < 2 && free_slots >= 2; p++) {
		if (fds[p] < 0)
			continue;
		while (udp.s[i].fd >= 0)
			i++;
		snprintf(udp.s[i].addr, sizeof(udp.s[i].addr), "%s", addr);
		udp.s[i].fd = fds[p];
		udp.s[i].dead = 0;
		fds[p] = -1;
	}
	pthread_mutex_unlock(&udp.mtx);
	if (fds[0] >= 0 || fds[1] >= 0) {
		log_warnx("nfs: udp: too many addresses");
		for (int p = 0; p < 2; p++)
			if (fds[p] >= 0)
				close(fds[p]);
		return -1;
	}
	wake();
	return 0;
}

void
nfs_udp_remove(const char *addr)
{
	if (!udp.running)
		return;
	pthread_mutex_lock(&udp.mtx);
	for (int i = 0; i < UDP_MAX; i++)
		if (udp.s[i].fd >= 0 && strcmp(udp.s[i].addr, addr) == 0)
			udp.s[i].dead = 1;
	pthread_mutex_unlock(&udp.mtx);
	wake();
}

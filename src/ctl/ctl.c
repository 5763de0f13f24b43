/*
 * ctl.c — the daemon side of the admin socket.
 *
 * The listening UNIX socket (mode 0600, peers must be root or the daemon's
 * own uid, checked with SO_PEERCRED) is accepted on the loop thread; each
 * connection is then handed to a detached worker thread that reads one
 * request, runs the handler and writes the reply.  Handlers may block
 * (PSO locks wait for the peer), which is why they never run on the loop.
 * Bounded: requests over CTL_REQ_MAX bytes or slower than CTL_IO_TIMEOUT
 * are refused; at most CTL_MAX_WORKERS commands run at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"

#define CTL_REQ_MAX		(1u << 20)
#define CTL_IO_TIMEOUT		10	/* seconds */
#define CTL_MAX_WORKERS		64

struct handler {
	const char	*name;
	ctl_handler	 fn;
};

static struct handler	 handlers[160];	/* >= every command of ctl_cmds.c */
static int		 nhandlers;
static int		 listen_fd = -1;
static struct event	*listen_ev;
static char		 sock_path[256];
static int		 nworkers;
static pthread_mutex_t	 workers_mtx = PTHREAD_MUTEX_INITIALIZER;

void
ctl_register(const char *name, ctl_handler fn)
{
	if (nhandlers == (int)(sizeof(handlers) / sizeof(handlers[0])))
		fatalx("ctl: too many handlers");
	handlers[nhandlers].name = name;
	handlers[nhandlers].fn = fn;
	nhandlers++;
}

void
ctl_printf(struct ctl_ctx *c, const char *fmt, ...)
{
	va_list	ap;
	char	tmp[1024];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		buf_add(&c->out, tmp, (size_t)n);
		return;
	}
	buf_reserve(&c->out, (size_t)n);
	va_start(ap, fmt);
	vsnprintf((char *)c->out.data + c->out.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->out.len += (size_t)n;
}

int
ctl_usage(struct ctl_ctx *c, const char *cmd, const char *fmt, ...)
{
	const struct ctl_cmd	*cc = NULL;
	va_list			 ap;
	char			 msg[512];

	for (int i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i].name, cmd) == 0)
			cc = &ctl_cmds[i];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_printf(c, "duonas %s: %s\nusage: duonas %s %s\n", cmd, msg, cmd,
	    cc ? cc->args : "");
	return CTL_EX_USAGE;
}

/* Remove argv[i..i+n-1].  Only argv[0..argc-1] is read: the daemon's
 * argv (ctl_req_split) has no argv[argc] when a request fills all
 * CTL_MAX_ARGS entries.  The old last slot gets NULL, so an argv that was
 * NULL-terminated (main's) still is. */
static void
argv_remove(int *argc, char **argv, int i, int n)
{
	for (int j = i; j + n < *argc; j++)
		argv[j] = argv[j + n];
	*argc -= n;
	argv[*argc] = NULL;
}

const char *
ctl_opt_take(int *argc, char **argv, const char *name, int *bad)
{
	size_t nl = strlen(name);

	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, nl) != 0)
			continue;
		if (a[2 + nl] == '=') {
			argv_remove(argc, argv, i, 1);
			return a + 3 + nl;
		}
		if (a[2 + nl] == 0) {
			if (i + 1 >= *argc) {
				*bad = 1;
				argv_remove(argc, argv, i, 1);
				return NULL;
			}
			const char *v = argv[i + 1];
			argv_remove(argc, argv, i, 2);
			return v;
		}
	}
	return NULL;
}

int
ctl_flag_take(int *argc, char **argv, const char *name)
{
	for (int i = 0; i < *argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 &&
		    strcmp(argv[i] + 2, name) == 0) {
			argv_remove(argc, argv, i, 1);
			return 1;
		}
	}
	return 0;
}

void
ctl_run_on_loop(void (*fn)(void *), void *arg)
{
	loop_call_wait(fn, arg);
}

static ctl_forward_fn	forward_fn;

void
ctl_set_forward(ctl_forward_fn fwd)
{
	forward_fn = fwd;
}

int
ctl_dispatch(int argc, char **argv, struct buf *out)
{
	const struct ctl_cmd	*cc;
	struct ctl_ctx		 c;
	int			 nw, rc;

	memset(&c, 0, sizeof(c));
	buf_init(&c.out);
	/* --forward: to the master (on this head when it is the master) */
	if (ctl_flag_take(&argc, argv, "forward") && forward_fn != NULL &&
	    ctl_cmd_find(argc, argv, &nw) != NULL &&
	    (rc = forward_fn(argc, argv, &c.out)) >= 0)
		goto out;
	cc = ctl_cmd_find(argc, argv, &nw);
	if (cc == NULL) {
		ctl_printf(&c, "duonas: unknown command '%s' (duonas help "
		    "lists them)\n", argc > 0 ? argv[0] : "");
		rc = CTL_EX_USAGE;
		goto out;
	}
	argc -= nw;
	argv += nw;
	c.json = ctl_flag_take(&argc, argv, "json");
	if (c.json && !cc->json) {
		rc = ctl_usage(&c, cc->name, "--json is not supported here");
		goto out;
	}
	rc = -1;
	for (int i = 0; i < nhandlers; i++)
		if (strcmp(handlers[i].name, cc->name) == 0) {
			rc = handlers[i].fn(&c, argc, argv);
			break;
		}
	if (rc == -1) {
		ctl_printf(&c, "duonas %s: not available on this daemon\n",
		    cc->name);
		rc = CTL_EX_FAIL;
	}
out:
	*out = c.out;
	return rc;
}

int
ctl_req_split(char *req, uint32_t len, char **argv, struct buf *err)
{
	int	argc = 0;

	/* a request is NUL-terminated words: a last byte that is not NUL
	 * would let strlen() below run past the request */
	if (len == 0 || req[len - 1] != 0) {
		buf_printf(err, "duonas: malformed request\n");
		return -1;
	}
	for (uint32_t off = 0; off < len; off += strlen(req + off) + 1) {
		if (argc == CTL_MAX_ARGS) {
			buf_printf(err, "duonas: too many arguments\n");
			return -1;
		}
		argv[argc++] = req + off;
	}
	return argc;
}

static void *
ctl_worker(void *arg)
{
	int		 fd = (int)(intptr_t)arg;
	uint8_t		 hdr[5];
	uint8_t		*req = NULL;
	uint32_t	 len;
	char		*argv[CTL_MAX_ARGS];
	int		 argc = 0, rc;
	struct buf	 out;

	buf_init(&out);
	if (fd_io_full(fd, hdr, 4, 0) < 0)
		goto out;
	len = get_be32(hdr);
	if (len == 0 || len > CTL_REQ_MAX) {
		log_warnx("ctl: request of %u bytes refused", len);
		goto out;
	}
	req = xmalloc(len + 1);
	if (fd_io_full(fd, req, len, 0) < 0)
		goto out;
	if ((argc = ctl_req_split((char *)req, len, argv, &out)) < 0) {
		rc = CTL_EX_USAGE;
		goto reply;
	}
	rc = ctl_dispatch(argc, argv, &out);
reply:
	put_be32(hdr, (uint32_t)out.len + 1);
	hdr[4] = (uint8_t)rc;
	if (fd_io_full(fd, hdr, 5, 1) == 0 && out.len > 0)
		(void)fd_io_full(fd, out.data, out.len, 1);
out:
	buf_free(&out);
	free(req);
	close(fd);
	pthread_mutex_lock(&workers_mtx);
	nworkers--;
	pthread_mutex_unlock(&workers_mtx);
	return NULL;
}

static void
ctl_accept_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct ucred	cr;
	socklen_t	crlen = sizeof(cr);
	struct timeval	tv = { CTL_IO_TIMEOUT, 0 };
	pthread_t	tid;
	pthread_attr_t	attr;
	int		fd, busy;

	(void)ev; (void)arg;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("ctl: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
	    (cr.uid != 0 && cr.uid != geteuid())) {
		log_warnx("ctl: refused connection from uid %d",
		    crlen ? (int)cr.uid : -1);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&workers_mtx);
	busy = nworkers >= CTL_MAX_WORKERS;
	if (!busy)
		nworkers++;
	pthread_mutex_unlock(&workers_mtx);
	if (busy) {
		log_warnx("ctl: too many commands running, connection refused");
		close(fd);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, ctl_worker, (void *)(intptr_t)fd)) {
		log_warnx("ctl: cannot start worker thread");
		close(fd);
		pthread_mutex_lock(&workers_mtx);
		nworkers--;
		pthread_mutex_unlock(&workers_mtx);
	}
	pthread_attr_destroy(&attr);
}

int
ctl_init(const char *path)
{
	struct sockaddr_un	sun;
	mode_t			old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("ctl: socket path %s too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (listen_fd < 0) {
		log_warn("ctl: socket");
		return -1;
	}
	/* A stale socket from a crashed daemon: remove it only when nobody
	 * answers on it, so two daemons never share one socket. */
	if (connect(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("ctl: %s is in use by a running daemon", path);
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	close(listen_fd);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	unlink(path);
	old = umask(0077);
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		log_warn("ctl: bind %s", path);
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	umask(old);
	chmod(path, 0600);
	if (listen(listen_fd, 64) < 0) {
		log_warn("ctl: listen");
		return -1;
	}
	listen_ev = event_new(loop_base(), listen_fd, EV_READ | EV_PERSIST,
	    ctl_accept_cb, NULL);
	event_add(listen_ev, NULL);
	log_info("ctl: admin socket %s", path);
	return 0;
}

void
ctl_shutdown(void)
{
	if (listen_ev) {
		event_free(listen_ev);
		listen_ev = NULL;
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(sock_path);
		listen_fd = -1;
	}
}

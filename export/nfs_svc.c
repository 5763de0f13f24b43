/*
 * nfs_svc.c — the NFS service as a whole: start/stop, listeners, the
 * exports table, failover hooks and the status shown by the CLI.
 *
 * Listeners: one TCP socket per (address, port) for the NFS, MOUNT and
 * portmapper ports; any connection may carry any of the three programs.
 * Service IPs are bound with IP_FREEBIND so they can be opened before
 * the address is configured (failover moves them between heads).
 * The exports table is replaced as a whole on reload under a rwlock that
 * workers hold for the whole of each call (writer preference), so a
 * detach (close of an export's directory) simply takes the write lock:
 * it waits for the calls in flight and no call sees a closed fd.
 * Exports that cannot be opened are kept offline (their calls are
 * dropped) until nfs_export_attach(); the HA gate is consulted under the
 * read lock too.  Loop thread, except for the lock helpers, attach,
 * detach, foreach, set_gate and the counters (any thread).
 *
 * Descriptors: the soft RLIMIT_NOFILE is raised to the hard limit at
 * start and the total connection cap kept below it (fd_reserve()), so
 * the cap, not EMFILE, is what normally limits.  If accept(2) fails
 * anyway, accept_error_cb() takes the client at the head of the backlog
 * with the spare descriptor and closes it (it retries rather than
 * hangs), evicts one connection, pauses the listeners for
 * ACCEPT_PAUSE_MS and logs one line per LOG_RATELIM_MS: libevent would
 * otherwise retry at once, forever.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <event2/listener.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/nfs.h"
#include "export/nfs_drc.h"
#include "export/nfs_int.h"

struct listen_addr {
	char			 addr[64];
	struct evconnlistener	*l[3];	/* nfs, mount, portmap */
};

static struct {
	int			 started;
	char			 exports[CFG_PATH_MAX];
	int			 port[3];	/* nfs, mount, portmap */
	int			 threads;
	struct listen_addr	 la[NFS_MAX_LISTEN];
	int			 nla;
	struct event		*tick;
	struct event		*resume;	/* listeners paused until */
	int			 paused;
	int			 fd_limit;	/* RLIMIT_NOFILE (soft) */
	int			 max_conns_cfg;
	uint64_t		 ops_ring[10];
	int			 ring_pos;
} svc;

/* Writer preference: a detach waiting for in-flight calls must not be
 * starved by new readers (workers never take the lock recursively). */
static pthread_rwlock_t	 exp_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct nfs_exptab exptab;
static uint32_t		 disabled[NFS_MAX_EXPORTS * 2];
static int		 ndisabled;
/* HA gate: written under the write lock, read under the read lock. */
static int		(*gate_fn)(uint32_t, void *);
static void		*gate_arg;
/* data-path write errors: the same locking as the gate */
static void		(*ioerr_fn)(uint32_t, int, int, const char *, void *);
static void		*ioerr_arg;

static _Atomic uint64_t	 st_ops, st_err, st_garbage, st_us, st_drop;
static _Atomic uint64_t	 st_autherr, st_nlm;
static _Atomic uint64_t	 st_proc[NFS3_NPROC];
static _Atomic uint64_t	 st_accept_err;
/* Per procedure for the metrics page: errors, latency sum and buckets. */
static _Atomic uint64_t	 st_proc_err[NFS3_NPROC], st_proc_us[NFS3_NPROC];
static _Atomic uint64_t	 st_proc_lat[NFS3_NPROC][NFS_LAT_NBUCKETS + 1];
static _Atomic uint64_t	 st_rbytes, st_wbytes;
const uint64_t nfs_lat_bound_us[NFS_LAT_NBUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 1000000
};
static struct log_ratelim rl_accept;
/* Kept open to be closed at EMFILE: room for one accept(2) + close. */
static int		 spare_fd = -1;

#define ACCEPT_PAUSE_MS		100

/* ---- exports table ------------------------------------------------- */

const struct nfs_exptab *
nfs_exptab_rdlock(void)
{
	pthread_rwlock_rdlock(&exp_lock);
	return &exptab;
}

void
nfs_exptab_unlock(void)
{
	pthread_rwlock_unlock(&exp_lock);
}

const struct nfs_export *
nfs_export_find(const struct nfs_exptab *t, uint32_t id)
{
	for (int i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

/* Caller holds the lock (read or write). */
int
nfs_export_enabled(uint32_t id)
{
	for (int i = 0; i < ndisabled; i++)
		if (disabled[i] == id)
			return 0;
	return 1;
}

int
nfs_export_enable(uint32_t id, int on)
{
	int rv = 0;

	pthread_rwlock_wrlock(&exp_lock);
	if (nfs_export_find(&exptab, id) == NULL) {
		log_warnx("nfs: no export with id %u", id);
		rv = -1;
	} else if (on) {
		for (int i = 0; i < ndisabled; i++)
			if (disabled[i] == id)
				disabled[i--] = disabled[--ndisabled];
	} else if (nfs_export_enabled(id) &&
	    ndisabled < (int)nitems(disabled)) {
		disabled[ndisabled++] = id;
	}
	pthread_rwlock_unlock(&exp_lock);
	if (rv == 0)
		log_info("nfs: export %u %s", id, on ? "enabled" : "disabled");
	return rv;
}

int
nfs_export_gate(uint32_t id)
{
	return gate_fn == NULL || gate_fn(id, gate_arg) != 0;
}

void
nfs_set_gate(int (*fn)(uint32_t, void *), void *arg)
{
	pthread_rwlock_wrlock(&exp_lock);
	gate_fn = fn;
	gate_arg = arg;
	pthread_rwlock_unlock(&exp_lock);
}

void
nfs_export_ioerr(uint32_t id, int fd, int err, const char *what)
{
	static struct log_ratelim rl;
	char more[64];
	int saved = errno;

	if (log_ratelim_ok(&rl, more, sizeof(more)))
		log_warnx("nfs: export %u: %s failed: %s%s", id, what,
		    strerror(err), more);
	if (ioerr_fn != NULL)
		ioerr_fn(id, fd, err, what, ioerr_arg);
	errno = saved;
}

void
nfs_set_ioerr(void (*fn)(uint32_t, int, int, const char *, void *),
    void *arg)
{
	pthread_rwlock_wrlock(&exp_lock);
	ioerr_fn = fn;
	ioerr_arg = arg;
	pthread_rwlock_unlock(&exp_lock);
}

/*
 * Open the exports of a freshly parsed table nt, write lock held.  An
 * export already in the old table with the same id and path keeps its
 * state: its open directory moves over, a detached one stays detached.
 * Others are opened now; those that cannot be (LUN not mounted here)
 * stay offline until nfs_export_attach().
 */
static int
exports_open_new(struct nfs_exptab *nt, struct nfs_exptab *old)
{
	char	err[512];
	int	offline = 0;

	for (int i = 0; i < nt->n; i++) {
		struct nfs_export *e = &nt->v[i];
		struct nfs_export *o = (struct nfs_export *)(uintptr_t)
		    nfs_export_find(old, e->id);

		if (o != NULL && strcmp(o->path, e->path) == 0 &&
		    (o->detached || o->fd >= 0)) {
			e->detached = o->detached;
			e->fd = o->fd;
			o->fd = -1;
			e->dev = o->dev;
			e->ino = o->ino;
			e->mnt_id = o->mnt_id;
			e->root = o->root;
			memcpy(e->realpath, o->realpath, sizeof(e->realpath));
			e->realpathlen = o->realpathlen;
			memcpy(e->rootfh, o->rootfh, sizeof(e->rootfh));
			e->rootfhlen = o->rootfhlen;
		} else if (nfs_export_open(e, err, sizeof(err)) < 0) {
			log_warnx("nfs: %s: offline until attached", err);
		}
		if (e->fd < 0)
			offline++;
	}
	return offline;
}

int
nfs_exports_reload(void)
{
	struct nfs_exptab	nt, old;
	char			err[512];
	int			offline;

	if (nfs_exports_load(svc.exports, &nt, err, sizeof(err)) < 0) {
		log_warnx("nfs: %s", err);
		return -1;
	}
	pthread_rwlock_wrlock(&exp_lock);
	offline = exports_open_new(&nt, &exptab);
	old = exptab;
	exptab = nt;
	pthread_rwlock_unlock(&exp_lock);
	nfs_exports_free(&old);
	log_info("nfs: %d export(s) from %s, %d offline", nt.n, svc.exports,
	    offline);
	return 0;
}

int
nfs_export_attach(uint32_t id)
{
	struct nfs_export	*e;
	char			 err[512];
	int			 rv = -1;

	pthread_rwlock_wrlock(&exp_lock);
	e = (struct nfs_export *)(uintptr_t)nfs_export_find(&exptab, id);
	if (e == NULL)
		snprintf(err, sizeof(err), "no export with id %u", id);
	else if ((rv = nfs_export_open(e, err, sizeof(err))) == 0)
		e->detached = 0;
	pthread_rwlock_unlock(&exp_lock);
	if (rv < 0)
		log_warnx("nfs: attach: %s", err);
	else
		log_info("nfs: export %u attached (%s)", id, e->path);
	return rv;
}

void
nfs_export_detach(uint32_t id)
{
	struct nfs_export *e;

	/* the write lock waits for every call in flight */
	pthread_rwlock_wrlock(&exp_lock);
	e = (struct nfs_export *)(uintptr_t)nfs_export_find(&exptab, id);
	if (e != NULL) {
		nfs_export_close(e);
		e->detached = 1;
	}
	pthread_rwlock_unlock(&exp_lock);
	if (e == NULL)
		log_warnx("nfs: detach: no export with id %u", id);
	else
		log_info("nfs: export %u detached", id);
}

int
nfs_export_foreach(void (*cb)(uint32_t, const char *, int, int, void *),
    void *arg)
{
	int n;

	pthread_rwlock_rdlock(&exp_lock);
	n = exptab.n;
	for (int i = 0; i < exptab.n; i++)
		cb(exptab.v[i].id, exptab.v[i].path, exptab.v[i].fd >= 0,
		    nfs_export_enabled(exptab.v[i].id), arg);
	pthread_rwlock_unlock(&exp_lock);
	return n;
}

/* ---- statistics ------------------------------------------------------ */

void
nfs_svc_count(uint32_t proc, int status, uint64_t us)
{
	st_ops++;
	st_us += us;
	if (status != 0)
		st_err++;
	if (proc < NFS3_NPROC) {
		int b = 0;

		st_proc[proc]++;
		st_proc_us[proc] += us;
		if (status != 0)
			st_proc_err[proc]++;
		while (b < NFS_LAT_NBUCKETS && us > nfs_lat_bound_us[b])
			b++;
		st_proc_lat[proc][b]++;
	}
}

void
nfs_svc_count_bytes(int write, uint64_t n)
{
	if (write)
		st_wbytes += n;
	else
		st_rbytes += n;
}

int
nfs_proc_stats(uint32_t proc, struct nfs_proc_stats *s, const char **name)
{
	if (proc >= NFS3_NPROC)
		return -1;
	s->count = st_proc[proc];
	s->errors = st_proc_err[proc];
	s->sum_us = st_proc_us[proc];
	for (int b = 0; b <= NFS_LAT_NBUCKETS; b++)
		s->bucket[b] = st_proc_lat[proc][b];
	*name = nfs3_proc_name(proc);
	return 0;
}

void
nfs_io_stats(uint64_t *read_bytes, uint64_t *written_bytes, int *conns)
{
	*read_bytes = st_rbytes;
	*written_bytes = st_wbytes;
	*conns = nfs_conn_count();
}

void
nfs_svc_count_garbage(void)
{
	st_garbage++;
}

void
nfs_svc_count_drop(void)
{
	st_drop++;
}

void
nfs_svc_count_autherr(void)
{
	st_autherr++;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	svc.ring_pos = (svc.ring_pos + 1) % (int)nitems(svc.ops_ring);
	svc.ops_ring[svc.ring_pos] = st_ops;
	nfs_conn_timer();
}

static double
ops_per_sec(void)
{
	int oldest = (svc.ring_pos + 1) % (int)nitems(svc.ops_ring);
	uint64_t then = svc.ops_ring[oldest];

	return (double)(svc.ops_ring[svc.ring_pos] - then) /
	    (double)(nitems(svc.ops_ring) - 1);
}

void
nfs_svc_count_nlm(uint32_t proc)
{
	(void)proc;
	st_nlm++;
}

/* NLM and NSM run on the NFS port (any program on any port); the UDP
 * side (nfs_udp.c) serves the portmapper and NSM only. */
uint32_t
nfs_svc_port(uint32_t prog, uint32_t vers, uint32_t prot)
{
	if (prot == IPPROTO_UDP && nfs_locking) {
		if (prog == NFS_PROG_PMAP && vers == 2)
			return (uint32_t)svc.port[2];
		if (prog == NFS_PROG_NSM && vers == 1)
			return (uint32_t)svc.port[0];
		return 0;
	}
	if (prot != IPPROTO_TCP)
		return 0;
	if (nfs_locking && ((prog == NFS_PROG_NLM && vers == 4) ||
	    (prog == NFS_PROG_NSM && vers == 1)))
		return (uint32_t)svc.port[0];
	if (prog == NFS_PROG_NFS && vers == 3)
		return (uint32_t)svc.port[0];
	if (prog == NFS_PROG_MOUNT && vers == 3)
		return (uint32_t)svc.port[1];
	if (prog == NFS_PROG_PMAP && vers == 2)
		return (uint32_t)svc.port[2];
	return 0;
}

int
nfs_svc_maps(uint32_t (*maps)[4], int max)
{
	static const uint32_t progs[][3] = {
		{ NFS_PROG_PMAP, 2, IPPROTO_TCP },
		{ NFS_PROG_MOUNT, 3, IPPROTO_TCP },
		{ NFS_PROG_NFS, 3, IPPROTO_TCP },
		{ NFS_PROG_NLM, 4, IPPROTO_TCP },
		{ NFS_PROG_NSM, 1, IPPROTO_TCP },
		{ NFS_PROG_PMAP, 2, IPPROTO_UDP },
		{ NFS_PROG_NSM, 1, IPPROTO_UDP },
	};
	int n = 0;

	for (size_t i = 0; i < nitems(progs) && n < max; i++) {
		uint32_t port = nfs_svc_port(progs[i][0], progs[i][1],
		    progs[i][2]);

		if (port == 0)
			continue;
		memcpy(maps[n], progs[i], sizeof(progs[i]));
		maps[n++][3] = port;
	}
	return n;
}

void
nfs_set_locking(int on)
{
	nfs_locking = on;
}

/* ---- listeners ------------------------------------------------------- */

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	(void)l; (void)arg;
	nfs_conn_accept(fd, sa, (socklen_t)salen);
}

static void
listeners_enable(int on)
{
	for (int i = 0; i < svc.nla; i++)
		for (int p = 0; p < 3; p++) {
			if (svc.la[i].l[p] == NULL)
				continue;
			if (on)
				evconnlistener_enable(svc.la[i].l[p]);
			else
				evconnlistener_disable(svc.la[i].l[p]);
		}
	svc.paused = !on;
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	listeners_enable(1);
}

/*
 * accept(2) failed with an error libevent does not retry (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM...).  The listener is level-triggered: left
 * alone it would fail again at once, forever.  Out of descriptors, the
 * spare one makes room to accept the client at the head of the backlog
 * and close it (it sees the connection closed and retries, instead of
 * hanging in the backlog), and one connection is evicted so that there
 * is room when it does.  Then every listener pauses for ACCEPT_PAUSE_MS.
 */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	int		err = EVUTIL_SOCKET_ERROR(), fd;
	char		more[48];
	struct timeval	tv = { 0, ACCEPT_PAUSE_MS * 1000 };

	(void)arg;
	st_accept_err++;
	if (err == EMFILE || err == ENFILE) {
		if (spare_fd >= 0) {
			close(spare_fd);
			spare_fd = -1;
		}
		fd = accept4(evconnlistener_get_fd(l), NULL, NULL,
		    SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		nfs_conn_shed();
	}
	if (log_ratelim_ok(&rl_accept, more, sizeof(more)))
		log_warnx("nfs: accept: %s: pausing new connections for %d ms"
		    "%s", strerror(err), ACCEPT_PAUSE_MS, more);
	listeners_enable(0);
	if (svc.resume != NULL)
		event_add(svc.resume, &tv);
}

/* An address in text (IPv4 or IPv6, no port) and a port as a socket
 * address.  0, or -1 when addr is not an IP address. */
int
nfs_addr_parse(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr,
	    &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr,
	    &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
	} else
		return -1;
	return 0;
}

static struct evconnlistener *
listen_one(const char *addr, int port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, one = 1;
	struct evconnlistener	*l;

	if (nfs_addr_parse(addr, port, &ss, &len) < 0) {
		log_warnx("nfs: '%s' is not an IP address", addr);
		return NULL;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		log_warn("nfs: socket");
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* service IPs may not be configured yet */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		log_warn("nfs: bind %s port %d", addr, port);
		close(fd);
		return NULL;
	}
	l = evconnlistener_new(loop_base(), accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    (svc.paused ? LEV_OPT_DISABLED : 0), 128, fd);
	if (l == NULL) {
		log_warn("nfs: listen %s port %d", addr, port);
		close(fd);
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	return l;
}

int
nfs_listen_add(const char *addr)
{
	struct listen_addr *la;

	for (int i = 0; i < svc.nla; i++)
		if (strcmp(svc.la[i].addr, addr) == 0)
			return 0;
	if (svc.nla == NFS_MAX_LISTEN) {
		log_warnx("nfs: too many listen addresses");
		return -1;
	}
	la = &svc.la[svc.nla];
	memset(la, 0, sizeof(*la));
	snprintf(la->addr, sizeof(la->addr), "%s", addr);
	for (int p = 0; p < 3; p++) {
		if (svc.port[p] == 0)
			continue;
		/* MOUNT may share the NFS port */
		if (p == 1 && svc.port[1] == svc.port[0])
			continue;
		if ((la->l[p] = listen_one(addr, svc.port[p])) == NULL) {
			for (int q = 0; q < p; q++)
				if (la->l[q] != NULL)
					evconnlistener_free(la->l[q]);
			return -1;
		}
	}
	/* the portmapper and NSM over UDP, for sm-notify: without them
	 * (a port taken) everything but a client's reboot notice over UDP
	 * still works */
	if (nfs_locking && nfs_udp_add(addr, svc.port[2], svc.port[0]) < 0)
		log_warnx("nfs: %s: no UDP portmapper/NSM: SM_NOTIFY from "
		    "rebooted clients over UDP is not received", addr);
	svc.nla++;
	log_info("nfs: listening on %s (nfs %d, mount %d, portmap %d)", addr,
	    svc.port[0], svc.port[1], svc.port[2]);
	return 0;
}

int
nfs_listen_remove(const char *addr)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	for (int i = 0; i < svc.nla; i++) {
		if (strcmp(svc.la[i].addr, addr) != 0)
			continue;
		for (int p = 0; p < 3; p++)
			if (svc.la[i].l[p] != NULL)
				evconnlistener_free(svc.la[i].l[p]);
		if (nfs_locking)
			nfs_udp_remove(addr);
		svc.la[i] = svc.la[--svc.nla];
		if (nfs_addr_parse(addr, 0, &ss, &len) == 0)
			nfs_conn_close_local((struct sockaddr *)&ss);
		log_info("nfs: stopped listening on %s", addr);
		return 0;
	}
	log_warnx("nfs: not listening on %s", addr);
	return -1;
}

/* ---- start / stop ---------------------------------------------------- */

/* File handles are sealed with a key derived from the cluster key, so
 * both heads accept each other's handles, also after a restart.  With
 * no key file (the stand-alone test server) a random key is used:
 * handles then die with the process. */
static int
fh_key_init(const struct cfg *cfg)
{
	uint8_t	key[CFG_KEY_MAX];
	size_t	keylen = 0;
	char	err[512];
	int	rv;

	if (cfg->keyfile[0] == 0) {
		log_warnx("nfs: no cluster key: file handles are sealed with a "
		    "random key and become stale when this process exits");
		keylen = 32;
		random_bytes(key, keylen);
	} else if (cfg_key_load(cfg, key, &keylen, err, sizeof(err)) < 0) {
		log_warnx("nfs: %s", err);
		return -1;
	}
	rv = nfs_fh_key_set(key, keylen);
	explicit_bzero(key, sizeof(key));
	return rv;
}

/* Raise the soft descriptor limit to the hard one; the limit now. */
static int
fd_limit_raise(void)
{
	struct rlimit	rl;
	rlim_t		old;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("nfs: getrlimit");
		return 1024;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		old = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("nfs: cannot raise the descriptor limit "
			    "from %llu", (unsigned long long)old);
			rl.rlim_cur = old;
		} else
			log_info("nfs: descriptor limit raised from %llu to "
			    "%llu", (unsigned long long)old,
			    (unsigned long long)rl.rlim_cur);
	}
	return rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
}

/* Descriptors kept for everything but client connections (listeners,
 * exports, the files workers open, the rest of the daemon): an eighth
 * of the limit, at least 256, and connections get at least half. */
static int
fd_reserve(int limit)
{
	int reserve = MAX(256, limit / 8);

	return MIN(reserve, limit - limit / 2);
}

static void
limits_init(const struct cfg *cfg)
{
	struct nfs_conn_limits l;

	/* 0: a struct cfg not from cfg_parse() (tests): the defaults */
	svc.max_conns_cfg = cfg->nfs_max_conns > 0 ? cfg->nfs_max_conns :
	    CFG_NFS_MAX_CONNS;
	svc.fd_limit = fd_limit_raise();
	l.max_conns = MIN(svc.max_conns_cfg,
	    svc.fd_limit - fd_reserve(svc.fd_limit));
	l.max_client = cfg->nfs_max_conns_client > 0 ?
	    cfg->nfs_max_conns_client : CFG_NFS_MAX_CONNS_CLIENT;
	l.idle_ms = (uint64_t)cfg->nfs_idle_timeout * 1000;
	l.record_ms = (uint64_t)(cfg->nfs_record_timeout > 0 ?
	    cfg->nfs_record_timeout : CFG_NFS_RECORD_TIMEOUT) * 1000;
	l.budget = (size_t)(cfg->nfs_input_budget_mb > 0 ?
	    cfg->nfs_input_budget_mb : CFG_NFS_INPUT_BUDGET_MB) << 20;
	nfs_conn_limits_set(&l);
	if (l.max_conns < svc.max_conns_cfg)
		log_info("nfs: at most %d connections (max-connections %d, "
		    "descriptor limit %d)", l.max_conns, svc.max_conns_cfg,
		    svc.fd_limit);
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int
nfs_init(const struct cfg *cfg, int self_idx)
{
	const struct cfg_head	*h;
	char			 list[256], *a, *save = NULL;
	struct timeval		 tv = { 1, 0 };

	if (svc.started) {
		log_warnx("nfs: already started");
		return -1;
	}
	if (self_idx < 0 || self_idx >= cfg->nheads) {
		log_warnx("nfs: bad head index %d", self_idx);
		return -1;
	}
	h = &cfg->heads[self_idx];
	snprintf(svc.exports, sizeof(svc.exports), "%s", cfg->exports);
	svc.port[0] = cfg->nfs_port;
	svc.port[1] = cfg->mount_port;
	svc.port[2] = cfg->portmap_port;
	svc.threads = cfg->nfs_threads > 0 ? cfg->nfs_threads : 8;
	random_bytes(nfs_write_verf, sizeof(nfs_write_verf));
	if (fh_key_init(cfg) < 0)
		return -1;
	if (nfs_exports_reload() < 0)
		return -1;
	limits_init(cfg);
	nfs_drc_configure(cfg->nfs_drc_size, cfg->nfs_drc_max_age);
	svc.resume = evtimer_new(loop_base(), resume_cb, NULL);
	if (nfs_workers_start(svc.threads) < 0)
		goto fail;
	svc.started = 1;
	if (nfs_locking && (nfs_nlm_init(cfg) < 0 || nfs_nsm_init(cfg) < 0 ||
	    nfs_udp_start() < 0))
		goto fail;
	if (h->nfs_bind[0] != 0) {
		snprintf(list, sizeof(list), "%s", h->nfs_bind);
		for (a = strtok_r(list, ", \t", &save); a != NULL;
		    a = strtok_r(NULL, ", \t", &save)) {
			if (nfs_listen_add(a) < 0)
				goto fail;
		}
	} else if (h->nvips == 0 && nfs_listen_add("127.0.0.1") < 0) {
		goto fail;
	}
	/* with service IPs and no nfs-bind, the HA controller calls
	 * nfs_listen_add/remove as it takes and gives up each address */
	svc.tick = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	event_add(svc.tick, &tv);
	log_info("nfs: started, %d worker(s), %d export(s)", svc.threads,
	    exptab.n);
	return 0;
fail:
	nfs_shutdown();
	return -1;
}

int
nfs_set_threads(int n)
{
	int got;

	if (!svc.started || n == svc.threads)
		return 0;
	if (n < svc.threads) {
		log_info("nfs: threads %d (now %d): fewer workers take effect "
		    "when the daemon restarts", n, svc.threads);
		return 1;
	}
	if ((got = nfs_workers_grow(n)) < n) {
		if (got > svc.threads)
			svc.threads = got;
		log_warnx("nfs: could start only %d of %d workers",
		    svc.threads, n);
		return 1;
	}
	log_info("nfs: %d worker(s) now (were %d)", n, svc.threads);
	svc.threads = n;
	return 0;
}

void
nfs_shutdown(void)
{
	while (svc.nla > 0)
		nfs_listen_remove(svc.la[0].addr);
	nfs_conn_close_local(NULL);
	nfs_workers_stop();	/* also frees the connections */
	nfs_udp_stop();
	nfs_nsm_shutdown();
	nfs_nlm_shutdown();
	if (svc.tick != NULL)
		event_free(svc.tick);
	svc.tick = NULL;
	if (svc.resume != NULL)
		event_free(svc.resume);
	svc.resume = NULL;
	svc.paused = 0;
	if (spare_fd >= 0)
		close(spare_fd);
	spare_fd = -1;
	svc.started = 0;
	pthread_rwlock_wrlock(&exp_lock);
	nfs_exports_free(&exptab);
	ndisabled = 0;
	pthread_rwlock_unlock(&exp_lock);
	nfs_mnt_forget();
	nfs_drc_clear();
}

/* ---- status ---------------------------------------------------------- */

void
nfs_status_text(struct buf *b)
{
	uint64_t		hits, ents;
	struct nfs_conn_stats	cs;

	nfs_drc_stats(&hits, &ents);
	buf_printf(b, "nfs: %s, ports nfs %d mount %d portmap %d, "
	    "%d worker(s)\n", svc.started ? "running" : "stopped",
	    svc.port[0], svc.port[1], svc.port[2], svc.threads);
	for (int i = 0; i < svc.nla; i++)
		buf_printf(b, "  listening on %s\n", svc.la[i].addr);
	pthread_rwlock_rdlock(&exp_lock);
	buf_printf(b, "  exports: %d (", exptab.n);
	for (int i = 0; i < exptab.n; i++)
		buf_printf(b, "%s%s id=%u%s%s", i ? ", " : "",
		    exptab.v[i].path, exptab.v[i].id,
		    exptab.v[i].fd >= 0 ? "" : " offline",
		    nfs_export_enabled(exptab.v[i].id) ? "" : " disabled");
	pthread_rwlock_unlock(&exp_lock);
	buf_printf(b, ")\n  clients: %d (%d connections), mounts: %d\n",
	    nfs_conn_clients(), nfs_conn_count(), nfs_mnt_count());
	nfs_conn_stats(&cs);
	buf_printf(b, "  connections: %d now, %d peak, limits %d total "
	    "(descriptors %d), %d per client; rejected %llu, evicted %llu, "
	    "idle timeouts %llu, record timeouts %llu, budget closes %llu, "
	    "accept errors %llu; input buffered %lld KiB of %zu MiB\n",
	    cs.conns, cs.peak, cs.lim.max_conns, svc.fd_limit,
	    cs.lim.max_client, (unsigned long long)cs.rejected,
	    (unsigned long long)cs.evicted, (unsigned long long)cs.idle,
	    (unsigned long long)cs.record, (unsigned long long)cs.budget,
	    (unsigned long long)st_accept_err,
	    (long long)(cs.buffered >> 10), cs.lim.budget >> 20);
	buf_printf(b, "  ops: %llu total, %.1f/s, %llu errors, %llu garbage, "
	    "%llu dropped, drc %llu entries %llu hits\n",
	    (unsigned long long)st_ops, ops_per_sec(),
	    (unsigned long long)st_err, (unsigned long long)st_garbage,
	    (unsigned long long)st_drop, (unsigned long long)ents,
	    (unsigned long long)hits);
	buf_printf(b, "  refused: %llu bad handles (forged, relabelled or "
	    "moved out), %llu by RPC authentication\n",
	    (unsigned long long)nfs3_badfh_count(),
	    (unsigned long long)st_autherr);
	nfs_drc_status_text(b);
	if (nfs_locking) {
		uint64_t	freed, notified, ucalls, ubad;
		uint32_t	state;
		int		mon;

		nfs_nsm_stats(&state, &mon, &freed, &notified);
		nfs_udp_stats(&ucalls, &ubad);
		buf_printf(b, "  nlm: %llu calls; nsm: state %u, ",
		    (unsigned long long)st_nlm, state);
		if (mon >= 0)
			buf_printf(b, "%d monitored client(s), ", mon);
		buf_printf(b, "%llu lock(s) freed by SM_NOTIFY, %llu client(s) "
		    "notified; udp: %llu calls, %llu malformed\n",
		    (unsigned long long)freed, (unsigned long long)notified,
		    (unsigned long long)ucalls, (unsigned long long)ubad);
	}
}

void
nfs_status_json(struct buf *b)
{
	uint64_t		hits, ents;
	struct nfs_conn_stats	cs;

	nfs_drc_stats(&hits, &ents);
	buf_printf(b, "{\"running\":%s,\"nfs_port\":%d,\"mount_port\":%d,"
	    "\"portmap_port\":%d,\"threads\":%d,\"listen\":[",
	    svc.started ? "true" : "false", svc.port[0], svc.port[1],
	    svc.port[2], svc.threads);
	for (int i = 0; i < svc.nla; i++) {
		if (i > 0)
			buf_printf(b, ",");
		buf_add_json_str(b, svc.la[i].addr);
	}
	pthread_rwlock_rdlock(&exp_lock);
	buf_printf(b, "],\"exports\":%d", exptab.n);
	pthread_rwlock_unlock(&exp_lock);
	nfs_conn_stats(&cs);
	buf_printf(b, ",\"connections_peak\":%d,\"max_connections\":%d,"
	    "\"max_connections_per_client\":%d,\"fd_limit\":%d,"
	    "\"conn_rejected\":%llu,\"conn_evicted\":%llu,"
	    "\"conn_idle_timeouts\":%llu,\"conn_record_timeouts\":%llu,"
	    "\"conn_budget_closes\":%llu,\"accept_errors\":%llu,"
	    "\"input_buffered\":%lld,\"input_budget\":%zu", cs.peak,
	    cs.lim.max_conns, cs.lim.max_client, svc.fd_limit,
	    (unsigned long long)cs.rejected, (unsigned long long)cs.evicted,
	    (unsigned long long)cs.idle, (unsigned long long)cs.record,
	    (unsigned long long)cs.budget, (unsigned long long)st_accept_err,
	    (long long)cs.buffered, cs.lim.budget);
	buf_printf(b, ",\"clients\":%d,\"connections\":%d,\"mounts\":%d,"
	    "\"ops\":%llu,\"ops_per_s\":%.1f,\"errors\":%llu,\"garbage\":%llu,"
	    "\"dropped\":%llu,\"bad_handles\":%llu,\"auth_refused\":%llu,"
	    "\"nlm_calls\":%llu,"
	    "\"drc_entries\":%llu,\"drc_hits\":%llu,"
	    "\"avg_latency_us\":%llu,\"procs\":{", nfs_conn_clients(),
	    nfs_conn_count(), nfs_mnt_count(), (unsigned long long)st_ops,
	    ops_per_sec(), (unsigned long long)st_err,
	    (unsigned long long)st_garbage, (unsigned long long)st_drop,
	    (unsigned long long)nfs3_badfh_count(),
	    (unsigned long long)st_autherr, (unsigned long long)st_nlm,
	    (unsigned long long)ents, (unsigned long long)hits,
	    (unsigned long long)(st_ops ? st_us / st_ops : 0));
	for (int i = 0; i < NFS3_NPROC; i++)
		buf_printf(b, "%s\"%s\":%llu", i ? "," : "", nfs3_proc_name(i),
		    (unsigned long long)st_proc[i]);
	buf_printf(b, "},\"drc\":");
	nfs_drc_status_json(b);
	buf_printf(b, "}");
}

void
nfs_exports_text(struct buf *b)
{
	char opts[128];

	pthread_rwlock_rdlock(&exp_lock);
	if (exptab.n == 0)
		buf_printf(b, "no exports\n");
	for (int i = 0; i < exptab.n; i++) {
		const struct nfs_export *e = &exptab.v[i];

		buf_printf(b, "%s id=%u%s%s\n", e->path, e->id,
		    e->fd >= 0 ? "" : " (offline: not attached)",
		    nfs_export_enabled(e->id) ? "" :
		    " (disabled: served by the peer)");
		for (int j = 0; j < e->nclients; j++) {
			nfs_client_opts(&e->clients[j], opts, sizeof(opts));
			buf_printf(b, "    client %s (%s)\n",
			    e->clients[j].text, opts);
		}
		nfs_mnt_list_text(b, e->id);
	}
	pthread_rwlock_unlock(&exp_lock);
}

void
nfs_exports_json(struct buf *b)
{
	char opts[128];

	pthread_rwlock_rdlock(&exp_lock);
	buf_printf(b, "{\"exports\":[");
	for (int i = 0; i < exptab.n; i++) {
		const struct nfs_export *e = &exptab.v[i];

		buf_printf(b, "%s{\"id\":%u,\"path\":", i ? "," : "", e->id);
		buf_add_json_str(b, e->path);
		buf_printf(b, ",\"enabled\":%s,\"online\":%s,\"clients\":[",
		    nfs_export_enabled(e->id) ? "true" : "false",
		    e->fd >= 0 ? "true" : "false");
		for (int j = 0; j < e->nclients; j++) {
			nfs_client_opts(&e->clients[j], opts, sizeof(opts));
			buf_printf(b, "%s{\"spec\":", j ? "," : "");
			buf_add_json_str(b, e->clients[j].text);
			buf_printf(b, ",\"options\":");
			buf_add_json_str(b, opts);
			buf_printf(b, "}");
		}
		buf_printf(b, "],\"mounts\":");
		nfs_mnt_list_json(b, e->id, e->path);
		buf_printf(b, "}");
	}
	buf_printf(b, "]}");
	pthread_rwlock_unlock(&exp_lock);
}

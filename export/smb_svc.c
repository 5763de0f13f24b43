/*
 * smb_svc.c — the SMB service of a head: smbd started and supervised by
 * duonasd, one FUSE mount per SMB export this head serves, registered as
 * a file service (fsvc.h) so the HA controller moves SMB exports exactly
 * as it moves NFS ones (docs/smb.md).
 *
 * Shape of the service:
 * - Every SMB export of the configuration is a share in smb.conf at all
 *   times; its path is the export's FUSE mount point <rundir>/smb/mnt/ID,
 *   a directory that exists only while this head serves the export
 *   (made at attach, removed at detach).  A tree connect to a share the
 *   head does not serve fails (no such path), so an export moving in or
 *   out needs no reload of smbd, and clients reconnecting after a
 *   takeover find their share as soon as the mount is up.
 * - The FUSE layer checks the HA gate on every operation (plus the
 *   export's enabled flag), so a fenced head answers EIO at once; detach
 *   stops the mount, which fails what is in flight with EIO and unmounts
 *   before the controller lets the peer take the LUN.
 * - smbd listens on every address of the head (like CTDB's smbd): a
 *   service IP that arrives in a takeover is served without a restart
 *   (SIGHUP does not make smbd bind new addresses).  Releasing an address
 *   ends the smbd processes whose client connection came in on it, so a
 *   client on that address reconnects to whichever head holds it next.
 * - smbd runs in its own process group with PR_SET_PDEATHSIG: if
 *   duonasd dies (kill -9), smbd dies with it (its children follow their
 *   parent), so a dead head keeps no SMB server on the FUSE mounts that
 *   died with it.  A dead smbd is restarted (after 1 s, doubling to 30 s
 *   while it keeps dying).
 *
 * Threading: every operation runs on the loop thread (the controller's
 * calls, the supervision timer, status), except the gate, which FUSE
 * workers call: it reads atomics and the HA gate only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/fuse_fs.h"
#include "export/smb.h"
#include "fsvc/fsvc.h"
#include "lhm/lhm.h"
#include "pso/brl.h"
#include "smb/smb_hash.h"
#include "smb/smb_users.h"

#define SMBD_PATH	"/usr/sbin/smbd"
#define TICK_MS		250
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000
#define STOP_WAIT_MS	3000
#define SMBD_UP_MS	2000	/* smbd that ran this long started fine */
#define SMBD_DOWN_MS	10000	/* the health probe fails after this */

struct smb_exp {
	uint32_t		 id;
	struct fuse_fs		*fs;		/* NULL: not attached here */
	atomic_int		 enabled;
};

static struct {
	int			 started;	/* smb_start() ran */
	const struct cfg	*cfg;
	int			 self;
	char			 base[CFG_PATH_MAX + 8];
	char			 conf[CFG_PATH_MAX + 32];
	char			 passdb[CFG_PATH_MAX + 48];
	struct smb_share	*v;		/* the configuration's shares */
	int			 n;
	struct smb_exp		*x;		/* one per share, same order */
	fsvc_gate_fn		 gate;
	void			*gate_arg;
	fsvc_ioerr_fn		 ioerr;		/* data-path write errors */
	void			*ioerr_arg;
	pid_t			 pid;		/* smbd; 0 none */
	uint64_t		 next_start_ms;
	int			 backoff_ms;
	uint64_t		 started_ms;
	struct event		*tick;
	char			 addrs[2 * CFG_MAX_VIPS][64];
	int			 naddrs;
	uint64_t		 closed;	/* connections closed on release */
	_Atomic uint64_t	 down_since_ms;	/* smbd should run but does
						 * not (0: it runs, or need
						 * not) */
	atomic_int		 nshares;	/* for the health probe */
	atomic_int		 restarts;	/* smbd deaths seen */
	int			 fault;		/* test: smbd cannot start */
} smb;

/* ---- the gate: FUSE workers ---------------------------------------- */

static int
smb_gate(uint32_t expid, void *arg)
{
	struct smb_exp *x = arg;

	if (!atomic_load(&x->enabled))
		return 0;
	return smb.gate == NULL || smb.gate(expid, smb.gate_arg);
}

/* A FUSE worker's write or fsync failed with EIO: the controller's
 * report hook, as for NFS (the argument does not matter: the id does). */
static void
smb_ioerr(uint32_t expid, int fd, int err, const char *what, void *arg)
{
	(void)arg;
	if (smb.ioerr != NULL)
		smb.ioerr(expid, fd, err, what, smb.ioerr_arg);
}

static struct smb_exp *
exp_find(uint32_t id, const struct smb_share **sp)
{
	for (int i = 0; i < smb.n; i++)
		if (smb.v[i].id == id) {
			if (sp != NULL)
				*sp = &smb.v[i];
			return &smb.x[i];
		}
	return NULL;
}

/* ---- files: smb.conf and the passdb --------------------------------- */

static int
conf_write(void)
{
	struct smb_conf_in	in;
	struct buf		b;
	int			rv;

	in.base = smb.base;
	in.passdb = smb.passdb;
	in.netbios = smb.cfg->cluster;
	in.port = smb.cfg->smb_port;
	buf_init(&b);
	smb_conf_render(&in, smb.v, smb.n, &b);
	rv = file_write_atomic(smb.conf, b.data, b.len, 0644);
	if (rv < 0)
		log_warn("smb: cannot write %s", smb.conf);
	buf_free(&b);
	return rv;
}

/*
 * Samba's password database from the users of the installed generation
 * (smb_users_sync.c calls this on its worker thread after each install,
 * once the local accounts exist; also at start).  smbd reads the file at
 * every logon, so no reload is needed.  Disabled users are written
 * disabled ([DU ...]).
 */
void
smb_passdb_write(const struct cfg *cfg, int self, const struct smb_users *u)
{
	static pthread_mutex_t	mtx = PTHREAD_MUTEX_INITIALIZER;
	char			dir[CFG_PATH_MAX + 16], path[CFG_PATH_MAX + 48];
	struct buf		b;

	/* the service directory must let SMB users through to mnt/ (the
	 * users may be applied before smb_start made it) */
	snprintf(dir, sizeof(dir), "%s/smb", cfg->heads[self].rundir);
	snprintf(path, sizeof(path), "%s/private/smbpasswd", dir);
	buf_init(&b);
	smb_users_smbpasswd(u, time(NULL), &b);
	pthread_mutex_lock(&mtx);
	if (mkdir_p(dir, 0755) == 0)
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir),
		    "/private");
	if (mkdir_p(dir, 0700) < 0 || chmod(dir, 0700) < 0 ||
	    file_write_atomic(path, b.data, b.len, 0600) < 0)
		log_warn("smb: cannot write %s", path);
	else
		log_info("smb: password database written: %d user(s)", u->n);
	pthread_mutex_unlock(&mtx);
	buf_free(&b);
}

static int
shares_load(const struct cfg *cfg, struct smb_share **v, int *n)
{
	uint8_t	*data = NULL;
	size_t	 len = 0;
	char	 err[512];

	*v = NULL;
	*n = 0;
	if (file_read_all(cfg->exports, 1 << 20, &data, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("smb: %s", cfg->exports);
		return -1;
	}
	if (smb_shares_parse((const char *)data, len, cfg->exports, v, n,
	    err, sizeof(err)) < 0) {
		log_warnx("smb: %s", err);
		free(data);
		return -1;
	}
	free(data);
	return 0;
}

/* ---- smbd ----------------------------------------------------------- */

/* The smbd of an earlier run of this head (duonasd killed before it
 * could stop it, and PDEATHSIG missed): its process group, from the pid
 * file we keep, if its command line names our smb.conf. */
static void
stale_kill(void)
{
	char	 path[CFG_PATH_MAX + 32], cmd[CFG_PATH_MAX + 64];
	uint8_t	*data = NULL;
	size_t	 len;
	long	 pid;
	int	 fd;
	ssize_t	 r;

	snprintf(path, sizeof(path), "%s/smbd.pgid", smb.base);
	if (file_read_all(path, 64, &data, &len) < 0)
		return;
	pid = strtol((char *)data, NULL, 10);
	free(data);
	if (pid <= 1)
		return;
	snprintf(cmd, sizeof(cmd), "/proc/%ld/cmdline", pid);
	if ((fd = open(cmd, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	r = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (r <= 0)
		return;
	for (ssize_t i = 0; i < r; i++)
		if (cmd[i] == 0)
			cmd[i] = ' ';
	cmd[r] = 0;
	if (strstr(cmd, "smbd") == NULL || strstr(cmd, smb.conf) == NULL)
		return;
	log_warnx("smb: stopping smbd %ld left by an earlier run", pid);
	kill(-(pid_t)pid, SIGKILL);
}

/*
 * Samba's vfs modules that SMB-only shares use (smb_conf.c): without one,
 * smbd refuses every connection to those shares (BAD_NETWORK_NAME) and
 * says why only in its own log.  Say it in ours, once.  MODULESDIR from
 * `smbd -b`.
 */
static void
vfs_modules_check(void)
{
	static const char *const mods[] = { "acl_xattr", "streams_xattr" };
	static int	 done;
	char		 line[512], dir[400] = "", path[512];
	FILE		*p;

	if (done++)
		return;
	if ((p = popen(SMBD_PATH " -b 2>/dev/null", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, " MODULESDIR: %399s", dir) == 1)
			break;
	while (fgets(line, sizeof(line), p) != NULL)
		;
	pclose(p);
	if (dir[0] == 0)
		return;
	for (size_t i = 0; i < nitems(mods); i++) {
		snprintf(path, sizeof(path), "%s/vfs/%s.so", dir, mods[i]);
		if (access(path, R_OK) < 0)
			log_warnx("smb: Samba's vfs module %s is missing (%s): "
			    "SMB-only shares refuse every connection "
			    "(NT_STATUS_BAD_NETWORK_NAME); install the package "
			    "samba-vfs-modules", mods[i], path);
	}
}

static void
smbd_spawn(void)
{
	char	 pg[32], path[CFG_PATH_MAX + 32];
	pid_t	 pid, parent = getpid();
	int	 fd;

	if (atomic_load(&smb.down_since_ms) == 0)
		atomic_store(&smb.down_since_ms, now_ms());
	if (smb.fault) {
		log_warnx("smb: test fault: smbd not started");
		smb.next_start_ms = now_ms() + (uint64_t)smb.backoff_ms;
		return;
	}
	if (access(SMBD_PATH, X_OK) < 0) {
		log_warnx("smb: %s not found: install Samba (the samba "
		    "package); SMB shares are not served", SMBD_PATH);
		smb.next_start_ms = now_ms() + BACKOFF_MAX_MS;
		return;
	}
	vfs_modules_check();
	pid = fork();
	if (pid < 0) {
		log_warn("smb: fork");
		smb.next_start_ms = now_ms() + (uint64_t)smb.backoff_ms;
		return;
	}
	if (pid == 0) {
		/* own process group (stopped as one), dies with duonasd */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execl(SMBD_PATH, "smbd", "--foreground", "--no-process-group",
		    "-s", smb.conf, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	smb.pid = pid;
	smb.started_ms = now_ms();
	snprintf(pg, sizeof(pg), "%ld\n", (long)pid);
	snprintf(path, sizeof(path), "%s/smbd.pgid", smb.base);
	if (file_write_atomic(path, pg, strlen(pg), 0644) < 0)
		log_warn("smb: %s", path);
	log_info("smb: smbd started (pid %ld, port %d, %d share(s))",
	    (long)pid, smb.cfg->smb_port, smb.n);
}

static void
smbd_stop(void)
{
	int		ws, reaped = 0;
	uint64_t	until;

	if (smb.pid <= 0)
		return;
	kill(-smb.pid, SIGTERM);
	until = now_ms() + STOP_WAIT_MS;
	while (!(reaped = waitpid(smb.pid, &ws, WNOHANG) == smb.pid) &&
	    now_ms() < until)
		usleep(20000);
	/* what is left of the group (children, or smbd itself) goes now */
	kill(-smb.pid, SIGKILL);
	if (!reaped)
		waitpid(smb.pid, &ws, 0);
	smb.pid = 0;
}

static void
smbd_reload(void)
{
	if (smb.pid > 0 && kill(smb.pid, SIGHUP) < 0)
		log_warn("smb: reload smbd");
}

/* Loop timer: reap a dead smbd and start it again after a backoff. */
static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	int	ws;
	pid_t	r;

	(void)fd; (void)ev; (void)arg;
	if (smb.pid > 0 && (r = waitpid(smb.pid, &ws, WNOHANG)) == smb.pid) {
		if (WIFSIGNALED(ws))
			log_warnx("smb: smbd %ld killed by signal %d",
			    (long)smb.pid, WTERMSIG(ws));
		else
			log_warnx("smb: smbd %ld exited with status %d (see "
			    "%s/log.smbd)", (long)smb.pid, WEXITSTATUS(ws),
			    smb.base);
		/* stopping the group also ends children left behind */
		kill(-smb.pid, SIGKILL);
		smb.pid = 0;
		if (now_ms() - smb.started_ms > (uint64_t)BACKOFF_MAX_MS)
			smb.backoff_ms = BACKOFF_MIN_MS;
		smb.next_start_ms = now_ms() + (uint64_t)smb.backoff_ms;
		log_info("smb: restarting smbd in %d ms", smb.backoff_ms);
		smb.backoff_ms = smb.backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : smb.backoff_ms * 2;
		atomic_fetch_add(&smb.restarts, 1);
		if (atomic_load(&smb.down_since_ms) == 0)
			atomic_store(&smb.down_since_ms, now_ms());
	}
	if (smb.pid > 0 && now_ms() - smb.started_ms >= SMBD_UP_MS)
		atomic_store(&smb.down_since_ms, 0);
	if (smb.pid == 0 && smb.n > 0 && now_ms() >= smb.next_start_ms)
		smbd_spawn();
}

/*
 * The local health monitor's probe (monitor thread; atomics only): a
 * head whose smbd has not stayed up for SMBD_DOWN_MS while it has SMB
 * shares cannot serve them, and surrenders to the peer (policy
 * software, docs/health.md).  Restarts shorter than that are smbd's own
 * supervision.
 */
static int
smbd_probe(void *arg, char *detail, size_t len)
{
	uint64_t down = atomic_load(&smb.down_since_ms), now = now_ms();

	(void)arg;
	if (atomic_load(&smb.nshares) == 0) {
		snprintf(detail, len, "no SMB share");
		return LHM_PROBE_IDLE;
	}
	if (down != 0 && now - down >= SMBD_DOWN_MS) {
		snprintf(detail, len, "smbd not running for %llu ms (%d "
		    "restarts)", (unsigned long long)(now - down),
		    atomic_load(&smb.restarts));
		return LHM_PROBE_FAIL;
	}
	snprintf(detail, len, "smbd %s, %d restarts", down ? "starting" :
	    "running", atomic_load(&smb.restarts));
	return LHM_PROBE_OK;
}

/* ---- client connections (/proc/net/tcp*) ----------------------------- */

struct conn {
	char		local[64];
	char		remote[64];
	unsigned long	inode;
};

/* Parse one /proc/net/tcp{,6} address "HEX:PORT" into text + port. */
static int
hexaddr(const char *s, int v6, char *out, size_t outlen, unsigned *port)
{
	uint8_t		a[16];
	unsigned	b;
	int		n = v6 ? 16 : 4;

	for (int i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		a[i] = (uint8_t)b;
	}
	if (s[2 * n] != ':' || sscanf(s + 2 * n + 1, "%x", port) != 1)
		return -1;
	/* the kernel prints each 32-bit word in host (little-endian) order */
	for (int w = 0; w < n / 4; w++) {
		uint8_t t;

		t = a[4 * w]; a[4 * w] = a[4 * w + 3]; a[4 * w + 3] = t;
		t = a[4 * w + 1]; a[4 * w + 1] = a[4 * w + 2];
		a[4 * w + 2] = t;
	}
	if (v6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) ?
		    0 : -1;
	return inet_ntop(v6 ? AF_INET6 : AF_INET, a, out,
	    (socklen_t)outlen) ? 0 : -1;
}

/* Established connections to smbd's port; returns how many (max). */
static int
conns_list(struct conn *c, int max)
{
	static const char *const files[] = { "/proc/net/tcp",
	    "/proc/net/tcp6" };
	char		 line[512], la[80], ra[80];
	unsigned	 lp, rp, st;
	unsigned long	 ino;
	int		 n = 0;

	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "re");

		if (fp == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL && n < max) {
			if (sscanf(line, "%*d: %79s %79s %x %*s %*s %*s %*s "
			    "%*s %lu", la, ra, &st, &ino) != 4 || st != 1)
				continue;
			if (hexaddr(la, f, c[n].local, sizeof(c[n].local),
			    &lp) < 0 || lp != (unsigned)smb.cfg->smb_port ||
			    hexaddr(ra, f, c[n].remote, sizeof(c[n].remote),
			    &rp) < 0)
				continue;
			c[n].inode = ino;
			n++;
		}
		fclose(fp);
	}
	return n;
}

/* Does process pid hold socket inode ino? */
static int
pid_has_socket(long pid, unsigned long ino)
{
	char		 dir[64], p[320], l[64], want[48];
	DIR		*d;
	struct dirent	*e;
	ssize_t		 r;
	int		 found = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if ((r = readlink(p, l, sizeof(l) - 1)) <= 0)
			continue;
		l[r] = 0;
		found = strcmp(l, want) == 0;
	}
	closedir(d);
	return found;
}

/* The kernel's form of an address, as conns_list prints it (an IPv6
 * service IP may be written another way in the configuration). */
static void
addr_canon(const char *addr, char *out, size_t outlen)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		inet_ntop(AF_INET, a, out, (socklen_t)outlen);
	else if (inet_pton(AF_INET6, addr, a) == 1)
		inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
	else
		snprintf(out, outlen, "%s", addr);
}

/* End the smbd children serving connections that came in on addr. */
static int
conns_close(const char *addr)
{
	struct conn	 c[256];
	DIR		*d;
	struct dirent	*e;
	char		 canon[64];
	int		 n, killed = 0;

	if (smb.pid <= 0)
		return 0;
	addr_canon(addr, canon, sizeof(canon));
	n = conns_list(c, (int)nitems(c));
	if (n == 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char	 path[64], buf[512], *rp;
		long	 pid = strtol(e->d_name, NULL, 10), pgrp;
		int	 fd;
		ssize_t	 r;

		if (pid <= 1 || pid == smb.pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = 0;
		/* "pid (comm) state ppid pgrp ..." */
		if ((rp = strrchr(buf, ')')) == NULL ||
		    sscanf(rp + 1, " %*c %*d %ld", &pgrp) != 1 ||
		    pgrp != (long)smb.pid)
			continue;
		for (int i = 0; i < n; i++)
			if (strcmp(c[i].local, canon) == 0 &&
			    pid_has_socket(pid, c[i].inode)) {
				kill((pid_t)pid, SIGTERM);
				killed++;
				break;
			}
	}
	closedir(d);
	return killed;
}

/* ---- locks of a mount that is gone ------------------------------------ */

struct lockfree {
	uint32_t	expid;
	char		client[CFG_NAME_MAX];
};

static void *
lockfree_thread(void *p)
{
	struct lockfree	*lf = p;
	uint64_t	 n = 0;
	int		 rc;

	/* the table may not be ready yet (a head that is joining copies
	 * it first): a few tries */
	for (int i = 0; i < 20; i++) {
		rc = brl_free_export_owner(lf->expid, BRL_PROTO_SMB,
		    lf->client, &n);
		if (rc != BRL_UNAVAIL)
			break;
		usleep(500 * 1000);
	}
	if (rc == BRL_UNAVAIL)
		log_info("smb: export %u: lock table not available: %s's "
		    "locks there were not released", lf->expid, lf->client);
	else if (rc != BRL_OK)
		log_warnx("smb: export %u: releasing the locks of %s's mount: "
		    "%s", lf->expid, lf->client, brl_strerror(rc));
	else if (n > 0)
		log_info("smb: export %u: released %llu lock(s) of %s's "
		    "former mount", lf->expid, (unsigned long long)n,
		    lf->client);
	free(lf);
	return NULL;
}

/*
 * The SMB locks a FUSE mount of export expid held on head `client` die
 * with that mount, as Samba releases a client's locks when its
 * connection ends (no durable handles): so a takeover does not leave the
 * dead head's locks blocking everybody for ever.  The call waits for
 * the loop thread, so it runs on a thread of its own.
 */
static void
locks_release(uint32_t expid, const char *client)
{
	struct lockfree	*lf = xcalloc(1, sizeof(*lf));
	pthread_attr_t	 a;
	pthread_t	 t;

	lf->expid = expid;
	snprintf(lf->client, sizeof(lf->client), "%s", client);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, lockfree_thread, lf) != 0) {
		log_warnx("smb: export %u: cannot release %s's locks (no "
		    "thread)", expid, client);
		free(lf);
	}
	pthread_attr_destroy(&a);
}

/* ---- the file service (fsvc.h) ----------------------------------------- */

static int
svc_export_foreach(fsvc_export_cb cb, void *arg)
{
	for (int i = 0; i < smb.n; i++)
		cb(smb.v[i].id, smb.v[i].path, arg);
	return smb.n;
}

static int
svc_export_attach(uint32_t id)
{
	const struct smb_share	*s;
	struct smb_exp		*x = exp_find(id, &s);
	struct fuse_fs_conf	 fc;
	char			 mp[CFG_PATH_MAX + 64], err[512];

	if (x == NULL)
		return 0;		/* not an SMB export */
	if (x->fs != NULL)
		return 0;
	smb_share_mountpoint(smb.base, id, mp, sizeof(mp));
	if (mkdir(mp, 0755) < 0 && errno != EEXIST) {
		log_warn("smb: export %u: mkdir %s", id, mp);
		return -1;
	}
	memset(&fc, 0, sizeof(fc));
	fc.backing = s->path;
	fc.mountpoint = mp;
	fc.expid = id;
	fc.head = smb.cfg->heads[smb.self].name;
	fc.locks = &fuse_fs_brl_lockops;
	fc.max_threads = 16;
	/* NFS writes the same files directly: no attribute cache then */
	fc.attr_timeout = s->nfs_too ? 0.0 : 1.0;
	fc.splice = 1;
	/* no kernel writeback cache: a write smbd was told is done must
	 * be in the backing file if duonasd dies the next moment */
	fc.writeback = 0;
	/* no page cache on the mount: one FUSE request per MiB, no double
	 * copy, and a change made beside the mount (NFS) is seen at once
	 * (docs/fuse.md; smbd does not mmap) */
	fc.direct_io = 1;
	if ((x->fs = fuse_fs_start(&fc, err, sizeof(err))) == NULL) {
		log_warnx("smb: export %u: %s", id, err);
		rmdir(mp);
		return -1;
	}
	fuse_fs_set_gate(x->fs, smb_gate, x);
	fuse_fs_set_ioerr(x->fs, smb_ioerr, NULL);
	/* only one head mounts an export: what the peer's mount held is
	 * stale (it died, or it detached and released them already) */
	if (smb.cfg->nheads == 2)
		locks_release(id, smb.cfg->heads[1 - smb.self].name);
	log_info("smb: export %u attached: share %s on %s", id, s->name, mp);
	return 0;
}

static void
svc_export_detach(uint32_t id)
{
	struct smb_exp	*x = exp_find(id, NULL);
	char		 mp[CFG_PATH_MAX + 64];

	if (x == NULL || x->fs == NULL)
		return;
	atomic_store(&x->enabled, 0);
	fuse_fs_stop(x->fs);
	x->fs = NULL;
	locks_release(id, smb.cfg->heads[smb.self].name);
	smb_share_mountpoint(smb.base, id, mp, sizeof(mp));
	if (rmdir(mp) < 0 && errno != ENOENT)
		log_warn("smb: export %u: rmdir %s", id, mp);
	log_info("smb: export %u detached", id);
}

static int
svc_export_enable(uint32_t id, int on)
{
	struct smb_exp *x = exp_find(id, NULL);

	if (x != NULL)
		atomic_store(&x->enabled, on ? 1 : 0);
	return 0;
}

static void
svc_set_ioerr(fsvc_ioerr_fn fn, void *arg)
{
	/* read by smb_ioerr(), set like the gate: before the first
	 * export is attached, cleared after the last is detached */
	smb.ioerr_arg = arg;
	smb.ioerr = fn;
}

static void
svc_set_gate(fsvc_gate_fn fn, void *arg)
{
	/* FUSE workers read these through smb_gate(); the controller sets
	 * the gate before any export is attached and clears it after the
	 * last is detached */
	smb.gate_arg = arg;
	smb.gate = fn;
}

static int
svc_listen_add(const char *addr)
{
	/* smbd already listens on every address; remembered for status */
	for (int i = 0; i < smb.naddrs; i++)
		if (strcmp(smb.addrs[i], addr) == 0)
			return 0;
	if (smb.naddrs < (int)nitems(smb.addrs))
		snprintf(smb.addrs[smb.naddrs++], sizeof(smb.addrs[0]), "%s",
		    addr);
	return 0;
}

static int
svc_listen_remove(const char *addr)
{
	int n;

	for (int i = 0; i < smb.naddrs; i++)
		if (strcmp(smb.addrs[i], addr) == 0) {
			memmove(&smb.addrs[i], &smb.addrs[i + 1],
			    (size_t)(smb.naddrs - i - 1) * sizeof(smb.addrs[0]));
			smb.naddrs--;
			break;
		}
	if ((n = conns_close(addr)) > 0) {
		smb.closed += (uint64_t)n;
		log_info("smb: %s released: closed %d SMB connection(s) on it",
		    addr, n);
	}
	return 0;
}

static void
svc_status(struct buf *out, int json)
{
	struct conn	c[256];
	int		nc = smb.started && smb.pid > 0 ?
			    conns_list(c, (int)nitems(c)) : 0;
	int		served = 0;

	for (int i = 0; i < smb.n; i++)
		served += smb.x[i].fs != NULL;
	if (json) {
		buf_printf(out, ",\"smb\":{\"running\":%s,\"pid\":%ld,"
		    "\"port\":%d,\"restarts\":%d,\"closed_on_release\":%llu,"
		    "\"shares\":[", smb.pid > 0 ? "true" : "false",
		    (long)smb.pid, smb.cfg ? smb.cfg->smb_port : 0,
		    atomic_load(&smb.restarts), (unsigned long long)smb.closed);
		for (int i = 0; i < smb.n; i++) {
			buf_printf(out, "%s{\"name\":", i ? "," : "");
			buf_add_json_str(out, smb.v[i].name);
			buf_printf(out, ",\"id\":%u,\"served\":%s,"
			    "\"enabled\":%s}", smb.v[i].id,
			    smb.x[i].fs ? "true" : "false",
			    atomic_load(&smb.x[i].enabled) ? "true" : "false");
		}
		buf_printf(out, "],\"clients\":[");
		for (int i = 0; i < nc; i++) {
			buf_printf(out, "%s{\"client\":", i ? "," : "");
			buf_add_json_str(out, c[i].remote);
			buf_printf(out, ",\"address\":");
			buf_add_json_str(out, c[i].local);
			buf_printf(out, "}");
		}
		buf_printf(out, "]}");
		return;
	}
	if (!smb.started || smb.n == 0) {
		buf_printf(out, "smb:         no SMB exports (protocols=smb in "
		    "the exports file)\n");
		return;
	}
	buf_printf(out, "smb: %s, port %d, %d share(s), %d served here, "
	    "%d restart(s)\n", smb.pid > 0 ? "smbd running" : "smbd NOT "
	    "running", smb.cfg->smb_port, smb.n, served,
	    atomic_load(&smb.restarts));
	for (int i = 0; i < smb.n; i++)
		buf_printf(out, "  share %s: export %u %s%s\n", smb.v[i].name,
		    smb.v[i].id, smb.x[i].fs ? "served" : "not served here",
		    smb.x[i].fs && !atomic_load(&smb.x[i].enabled) ?
		    " (disabled)" : "");
	buf_printf(out, "  clients: %d", nc);
	for (int i = 0; i < nc && i < 16; i++)
		buf_printf(out, "%s%s via %s", i ? ", " : " (", c[i].remote,
		    c[i].local);
	buf_printf(out, "%s\n", nc > 16 ? ", ...)" : nc ? ")" : "");
}

static const struct fsvc_ops smb_fsvc = {
	.name = "SMB",
	.export_foreach = svc_export_foreach,
	.export_attach = svc_export_attach,
	.export_detach = svc_export_detach,
	.export_enable = svc_export_enable,
	.set_gate = svc_set_gate,
	.set_ioerr = svc_set_ioerr,
	.listen_add = svc_listen_add,
	.listen_remove = svc_listen_remove,
	.status = svc_status,
};

int
smb_register(void)
{
	return fsvc_register(&smb_fsvc);
}

/* ---- start, reload, stop -------------------------------------------- */

static int
dirs_make(void)
{
	static const char *const sub[] = { "lock", "state", "cache", "pid",
	    "ncalrpc", "mnt" };
	char p[sizeof(smb.base) + 16];

	if (mkdir_p(smb.base, 0755) < 0 || chmod(smb.base, 0755) < 0)
		return -1;
	for (size_t i = 0; i < nitems(sub); i++) {
		snprintf(p, sizeof(p), "%s/%s", smb.base, sub[i]);
		if (mkdir_p(p, 0755) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/private", smb.base);
	if (mkdir_p(p, 0700) < 0 || chmod(p, 0700) < 0)
		return -1;
	return 0;
}

/* Mount points an earlier run left (duonasd killed: its FUSE mounts
 * stay, dead, until unmounted): unmount and remove them, so that attach
 * finds an empty directory to mount on. */
static void
stale_mounts(void)
{
	char		 dir[sizeof(smb.base) + 8], p[sizeof(dir) + 300];
	DIR		*d;
	struct dirent	*e;

	snprintf(dir, sizeof(dir), "%s/mnt", smb.base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (umount2(p, MNT_DETACH) == 0)
			log_warnx("smb: unmounted %s (left by an earlier run)",
			    p);
		if (rmdir(p) < 0 && errno != ENOENT)
			log_warn("smb: stale mount point %s", p);
	}
	closedir(d);
}

int
smb_start(const struct cfg *cfg, int self)
{
	smb.cfg = cfg;
	smb.self = self;
	snprintf(smb.base, sizeof(smb.base), "%s/smb", cfg->heads[self].rundir);
	snprintf(smb.conf, sizeof(smb.conf), "%s/smb.conf", smb.base);
	snprintf(smb.passdb, sizeof(smb.passdb), "%s/private/smbpasswd",
	    smb.base);
	if (shares_load(cfg, &smb.v, &smb.n) < 0)
		return -1;
	smb.x = xcalloc((size_t)(smb.n ? smb.n : 1), sizeof(*smb.x));
	for (int i = 0; i < smb.n; i++)
		smb.x[i].id = smb.v[i].id;
	smb.backoff_ms = BACKOFF_MIN_MS;
	smb.started = 1;
	atomic_store(&smb.nshares, smb.n);
	if (lhm_register("smbd", LHM_POL_SOFTWARE, -1, smbd_probe, NULL) < 0)
		log_warnx("smb: smbd is not watched by the health monitor");
	if (dirs_make() < 0) {
		log_warn("smb: cannot make %s", smb.base);
		return -1;
	}
	/* smbd works as the logged-in user: every directory down to the
	 * mount points must let others through */
	{
		char	p[sizeof(smb.base) + 8], *sl;
		struct stat st;

		snprintf(p, sizeof(p), "%s/mnt", smb.base);
		for (sl = p + strlen(p); sl > p; sl = strrchr(p, '/')) {
			*sl = 0;
			if (p[0] && stat(p, &st) == 0 &&
			    (st.st_mode & S_IXOTH) == 0) {
				log_warnx("smb: %s is not searchable by other "
				    "users (mode %03o): SMB users cannot reach "
				    "the shares under %s", p,
				    (unsigned)(st.st_mode & 0777), smb.base);
				break;
			}
		}
	}
	stale_kill();
	stale_mounts();
	if (conf_write() < 0)
		return -1;
	smb.tick = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	{
		struct timeval tv = { 0, TICK_MS * 1000 };

		evtimer_add(smb.tick, &tv);
	}
	if (smb.n > 0)
		smbd_spawn();
	else
		log_info("smb: no SMB export: smbd not started");
	return 0;
}

void
smb_reload(const struct cfg *cfg)
{
	struct smb_share	*nv;
	struct smb_exp		*nx;
	int			 nn;

	if (!smb.started)
		return;
	smb.cfg = cfg;
	if (shares_load(cfg, &nv, &nn) < 0) {
		log_warnx("smb: shares not reloaded");
		return;
	}
	/* exports that are no longer SMB shares stop being served first */
	for (int i = 0; i < smb.n; i++) {
		int keep = 0;

		for (int j = 0; j < nn; j++)
			keep |= nv[j].id == smb.v[i].id &&
			    strcmp(nv[j].path, smb.v[i].path) == 0;
		if (!keep)
			svc_export_detach(smb.v[i].id);
	}
	nx = xcalloc((size_t)(nn ? nn : 1), sizeof(*nx));
	for (int j = 0; j < nn; j++) {
		nx[j].id = nv[j].id;
		for (int i = 0; i < smb.n; i++)
			if (smb.x[i].id == nv[j].id && smb.x[i].fs != NULL &&
			    strcmp(nv[j].path, smb.v[i].path) == 0) {
				nx[j].fs = smb.x[i].fs;
				/* its gate argument moves with it */
				atomic_store(&nx[j].enabled,
				    atomic_load(&smb.x[i].enabled));
				fuse_fs_set_gate(nx[j].fs, smb_gate, &nx[j]);
			}
	}
	free(smb.v);
	free(smb.x);
	smb.v = nv;
	smb.x = nx;
	smb.n = nn;
	atomic_store(&smb.nshares, nn);
	if (nn == 0)
		atomic_store(&smb.down_since_ms, 0);
	conf_write();
	/* new shares on a LUN this head serves: the gate says so */
	for (int j = 0; j < nn; j++)
		if (nx[j].fs == NULL && (smb.gate == NULL ||
		    smb.gate(nx[j].id, smb.gate_arg)) &&
		    access(nv[j].path, F_OK) == 0 &&
		    svc_export_attach(nx[j].id) == 0)
			atomic_store(&nx[j].enabled, 1);
	if (smb.pid > 0 && nn == 0) {
		log_info("smb: no SMB export any more: stopping smbd");
		smbd_stop();
	} else {
		smbd_reload();
	}
}

void
smb_shutdown(void)
{
	if (!smb.started)
		return;
	if (smb.tick != NULL) {
		event_free(smb.tick);
		smb.tick = NULL;
	}
	atomic_store(&smb.nshares, 0);
	smbd_stop();
	for (int i = 0; i < smb.n; i++)
		svc_export_detach(smb.v[i].id);
	free(smb.v);
	free(smb.x);
	smb.v = NULL;
	smb.x = NULL;
	smb.n = 0;
	smb.started = 0;
}

static void
fault_on_loop(void *arg)
{
	smb.fault = arg != NULL;
	log_warnx("ctl: test fault: smbd %s", smb.fault ? "killed and kept "
	    "from starting" : "may start again");
	if (smb.fault && smb.pid > 0)
		kill(-smb.pid, SIGKILL);	/* the tick reaps it */
}

void
smb_test_fault(int on)
{
	loop_call(fault_on_loop, on ? (void *)1 : NULL);
}

void
smb_exports_text(struct buf *out)
{
	for (int i = 0; i < smb.n; i++)
		buf_printf(out, "smb share %-16s export %u %s %s%s%s\n",
		    smb.v[i].name, smb.v[i].id, smb.v[i].path,
		    smb.x[i].fs ? "served" : "not served here",
		    smb.v[i].rw ? ", writable" : ", read-only",
		    smb.v[i].nfs_too ? ", also NFS" : "");
}

void
smb_exports_json(struct buf *out)
{
	buf_printf(out, "[");
	for (int i = 0; i < smb.n; i++) {
		buf_printf(out, "%s{\"share\":", i ? "," : "");
		buf_add_json_str(out, smb.v[i].name);
		buf_printf(out, ",\"id\":%u,\"path\":", smb.v[i].id);
		buf_add_json_str(out, smb.v[i].path);
		buf_printf(out, ",\"served\":%s,\"rw\":%s,\"nfs\":%s}",
		    smb.x[i].fs ? "true" : "false",
		    smb.v[i].rw ? "true" : "false",
		    smb.v[i].nfs_too ? "true" : "false");
	}
	buf_printf(out, "]");
}

void
smb_stats(int *shares, int *up, int *restarts)
{
	*shares = smb.n;
	*up = smb.started && smb.pid > 0;
	*restarts = atomic_load(&smb.restarts);
}

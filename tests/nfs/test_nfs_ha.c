/*
 * test_nfs_ha.c — the HA hooks of export/ (nfs.h), in one process: the
 * NFS service runs on the event loop of the main thread, a test thread
 * talks NFS to it with libnfs over 127.0.0.1 and calls the hooks
 * (attach/detach/gate from its own thread, as they allow; the loop-only
 * ones through loop_call).
 *
 * Covered: a head with service IPs and no nfs-bind listens nowhere until
 * nfs_listen_add (twice: no-op), an export whose directory is missing
 * does not stop nfs_init and is offline (MOUNT ACCES, foreach), attach
 * after the directory appears, detach drops calls without a reply and
 * closes the directory fd, detach waits for a call in flight, reload
 * keeps a detached export offline and refuses a bad file, the gate drops
 * all 21 NFS procedures and MNT and is asked once per call,
 * nfs_listen_remove closes established connections.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/nfs.h"
#include "export/nfs_int.h"
#include "tests/unit/t.h"

static char		 dir[64];
static int		 port;
static _Atomic int	 allow[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
static _Atomic int	 gate_calls[8];
static _Atomic int	 gate_sleep_ms;

static int
gate(uint32_t id, void *arg)
{
	int ms = gate_sleep_ms;

	(void)arg;
	if (id < 8)
		gate_calls[id]++;
	if (ms > 0) {
		struct timespec ts = { 0, ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	return id < 8 ? allow[id] : 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- running nfs.h calls on the loop thread --------------------------- */

struct onloop {
	struct loop_wait w;
	int		 op;
	const char	*s;
	int		 rc;
};

enum { OP_LISTEN_ADD, OP_LISTEN_REMOVE, OP_RELOAD, OP_ENABLE, OP_DISABLE };

static void
onloop_cb(void *p)
{
	struct onloop *o = p;

	switch (o->op) {
	case OP_LISTEN_ADD:	o->rc = nfs_listen_add(o->s); break;
	case OP_LISTEN_REMOVE:	o->rc = nfs_listen_remove(o->s); break;
	case OP_RELOAD:		o->rc = nfs_exports_reload(); break;
	case OP_ENABLE:		o->rc = nfs_export_enable(2, 1); break;
	case OP_DISABLE:	o->rc = nfs_export_enable(2, 0); break;
	}
	loop_wait_done(&o->w, 0);
}

static int
onloop(int op, const char *s)
{
	struct onloop o;

	loop_wait_init(&o.w);
	o.op = op;
	o.s = s;
	o.rc = -99;
	loop_call(onloop_cb, &o);
	loop_wait(&o.w);
	loop_wait_destroy(&o.w);
	return o.rc;
}

/* ---- helpers ------------------------------------------------------------ */

struct expstate {
	int	n, ret;
	int	online[8], enabled[8];
	char	path[8][PATH_MAX];
};

static void
foreach_cb(uint32_t id, const char *path, int online, int enabled, void *arg)
{
	struct expstate *s = arg;

	s->n++;
	if (id < 8) {
		s->online[id] = online;
		s->enabled[id] = enabled;
		snprintf(s->path[id], sizeof(s->path[id]), "%s", path);
	}
}

static struct expstate
exports_state(void)
{
	struct expstate s;

	memset(&s, 0, sizeof(s));
	s.ret = nfs_export_foreach(foreach_cb, &s);
	return s;
}

/* Does this process hold an fd on path? */
static int
fd_open_on(const char *path)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*de;
	char		 l[PATH_MAX + 32], t[PATH_MAX];
	ssize_t		 n;
	int		 found = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(l, sizeof(l), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(l, t, sizeof(t) - 1)) < 0)
			continue;
		t[n] = 0;
		if (strcmp(t, path) == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

static int
tcp_dial(void)
{
	struct sockaddr_in	sa;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Mount sub (a directory of dir) with a 1 s timeout; NULL on failure. */
static struct nfs_context *
mount_ctx(const char *sub)
{
	struct nfs_context	*nfs = nfs_init_context();
	char			 url[PATH_MAX + 128];
	struct nfs_url		*u;

	if (nfs == NULL)
		return NULL;
	nfs_set_timeout(nfs, 1000);
	snprintf(url, sizeof(url), "nfs://127.0.0.1%s/%s?nfsport=%d&"
	    "mountport=%d", dir, sub, port, port);
	if ((u = nfs_parse_url_dir(nfs, url)) == NULL) {
		nfs_destroy_context(nfs);
		return NULL;
	}
	if (nfs_mount(nfs, u->server, u->path) != 0) {
		nfs_destroy_url(u);
		nfs_destroy_context(nfs);
		return NULL;
	}
	nfs_destroy_url(u);
	return nfs;
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The NFS handle of dir/sub in export id, made here (same process). */
static struct nfs_fh3
handle_of(uint32_t id, const char *sub)
{
	static uint8_t	fh[4][NFS3_FHSIZE];
	static int	next;
	struct nfs_fh3	h;
	char		path[PATH_MAX + 64];
	uint32_t	len = 0;

	const struct nfs_exptab	*t;
	const struct nfs_export	*e;

	next = (next + 1) % 4;
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	/* sealed for the export as the service knows it (its root) */
	t = nfs_exptab_rdlock();
	if ((e = nfs_export_find(t, id)) == NULL || e->root.len == 0 ||
	    nfs_fh_make(e, AT_FDCWD, path, 0, fh[next], &len) < 0)
		len = 0;
	nfs_exptab_unlock();
	h.data.data_len = len;
	h.data.data_val = (char *)fh[next];
	return h;
}

/* ---- raw calls: every NFS v3 procedure at once -------------------------- */

struct batch {
	int	replies;	/* RPC_STATUS_SUCCESS callbacks */
	int	other;		/* errors, timeouts, cancels */
};

static void
batch_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct batch *b = priv;

	(void)rpc; (void)data;
	if (status == RPC_STATUS_SUCCESS)
		b->replies++;
	else
		b->other++;
}

/* Service rpc until want callbacks arrived or ms passed. */
static void
rpc_pump(struct rpc_context *rpc, struct batch *b, int want, int ms)
{
	double end = now() + ms / 1000.0;

	while (b->replies + b->other < want && now() < end) {
		struct pollfd p = { rpc_get_fd(rpc), rpc_which_events(rpc), 0 };

		if (poll(&p, 1, 50) < 0)
			break;
		if (rpc_service(rpc, p.revents) < 0)
			break;
	}
}

/* Send the 21 NFS v3 procedures that take a handle, all on fh (a file
 * of the export); returns how many were queued. */
static int
send_all_procs(struct rpc_context *rpc, struct nfs_fh3 fh, struct batch *b)
{
	static GETATTR3args	ga;
	static SETATTR3args	sa;
	static LOOKUP3args	lo;
	static ACCESS3args	ac;
	static READLINK3args	rl;
	static READ3args	rd;
	static WRITE3args	wr;
	static CREATE3args	cr;
	static MKDIR3args	mk;
	static SYMLINK3args	sy;
	static MKNOD3args	mn;
	static REMOVE3args	rm;
	static RMDIR3args	rmd;
	static RENAME3args	rn;
	static LINK3args	ln;
	static READDIR3args	rdd;
	static READDIRPLUS3args	rdp;
	static FSSTAT3args	fss;
	static FSINFO3args	fsi;
	static PATHCONF3args	pc;
	static COMMIT3args	co;
	static char		name[] = "x", target[] = "t";
	int			n = 0;

	ga.object = fh;
	sa.object = fh;
	lo.what.dir = fh; lo.what.name = name;
	ac.object = fh; ac.access = ACCESS3_READ;
	rl.symlink = fh;
	rd.file = fh; rd.count = 10;
	wr.file = fh; wr.count = 0; wr.stable = UNSTABLE;
	cr.where.dir = fh; cr.where.name = name; cr.how.mode = GUARDED;
	mk.where.dir = fh; mk.where.name = name;
	sy.where.dir = fh; sy.where.name = name;
	sy.symlink.symlink_data = target;
	mn.where.dir = fh; mn.where.name = name; mn.what.type = NF3FIFO;
	rm.object.dir = fh; rm.object.name = name;
	rmd.object.dir = fh; rmd.object.name = name;
	rn.from.dir = fh; rn.from.name = name;
	rn.to.dir = fh; rn.to.name = name;
	ln.file = fh; ln.link.dir = fh; ln.link.name = name;
	rdd.dir = fh; rdd.count = 4096;
	rdp.dir = fh; rdp.dircount = 4096; rdp.maxcount = 8192;
	fss.fsroot = fh;
	fsi.fsroot = fh;
	pc.object = fh;
	co.file = fh;
#define S(call, args) n += call(rpc, batch_cb, &args, b) == 0
	S(rpc_nfs3_getattr_async, ga);
	S(rpc_nfs3_setattr_async, sa);
	S(rpc_nfs3_lookup_async, lo);
	S(rpc_nfs3_access_async, ac);
	S(rpc_nfs3_readlink_async, rl);
	S(rpc_nfs3_read_async, rd);
	S(rpc_nfs3_write_async, wr);
	S(rpc_nfs3_create_async, cr);
	S(rpc_nfs3_mkdir_async, mk);
	S(rpc_nfs3_symlink_async, sy);
	S(rpc_nfs3_mknod_async, mn);
	S(rpc_nfs3_remove_async, rm);
	S(rpc_nfs3_rmdir_async, rmd);
	S(rpc_nfs3_rename_async, rn);
	S(rpc_nfs3_link_async, ln);
	S(rpc_nfs3_readdir_async, rdd);
	S(rpc_nfs3_readdirplus_async, rdp);
	S(rpc_nfs3_fsstat_async, fss);
	S(rpc_nfs3_fsinfo_async, fsi);
	S(rpc_nfs3_pathconf_async, pc);
	S(rpc_nfs3_commit_async, co);
#undef S
	return n;
}

/* ---- the test ------------------------------------------------------------ */

static void
test_gate(void)
{
	struct nfs_context	*nfs;
	struct nfsfh		*fh;
	struct nfs_fh3		 fh3;
	struct rpc_context	*rpc;
	struct batch		 b;
	struct nfs_stat_64	 st;
	int			 n, calls;
	double			 t;

	nfs = mount_ctx("on");
	T_OK(nfs != NULL, "mount of the online export");
	if (nfs == NULL)
		return;
	T_EQ(nfs_creat(nfs, "/gatefile", 0644, &fh), 0, "create a file");
	nfs_close(nfs, fh);
	fh3 = handle_of(1, "on/gatefile");
	rpc = nfs_get_rpc_context(nfs);
	nfs_set_gate(gate, NULL);

	/* gate closed for export 1: all 21 procedures dropped */
	allow[1] = 0;
	calls = gate_calls[1];
	memset(&b, 0, sizeof(b));
	n = send_all_procs(rpc, fh3, &b);
	T_EQ(n, 21, "21 NFS v3 procedures sent");
	rpc_pump(rpc, &b, n, 1500);
	T_EQ(b.replies, 0, "gate 0: no procedure gets a reply");
	T_EQ(gate_calls[1] - calls, 21, "the gate is asked once per call");
	nfs_destroy_context(nfs);

	t = now();
	nfs = mount_ctx("on");
	T_OK(nfs == NULL && now() - t > 0.8,
	    "gate 0: MNT is dropped (the mount times out)");
	if (nfs != NULL)
		nfs_destroy_context(nfs);

	/* open again: every procedure answered */
	allow[1] = 1;
	nfs = mount_ctx("on");
	T_OK(nfs != NULL, "gate 1: mount works again");
	if (nfs == NULL)
		return;
	rpc = nfs_get_rpc_context(nfs);
	calls = gate_calls[1];
	memset(&b, 0, sizeof(b));
	n = send_all_procs(rpc, fh3, &b);
	rpc_pump(rpc, &b, n, 3000);
	T_EQ(b.replies, 21, "gate 1: all 21 procedures answered");
	T_EQ(gate_calls[1] - calls, 21, "the gate was asked for each");
	T_EQ(nfs_stat64(nfs, "/gatefile", &st), 0, "stat works");
	nfs_destroy_context(nfs);
}

/* A call in flight (held in the gate for 600 ms) finishes before
 * detach returns, with the export's fd still valid. */
static void
test_detach_waits(void)
{
	struct nfs_context	*nfs;
	struct rpc_context	*rpc;
	struct batch		 b;
	GETATTR3args		 ga;
	struct timespec		 ts = { 0, 150 * 1000000L };
	char			 p[PATH_MAX + 8];
	double			 t;

	nfs = mount_ctx("on");
	T_OK(nfs != NULL, "mount for the in-flight test");
	if (nfs == NULL)
		return;
	rpc = nfs_get_rpc_context(nfs);
	memset(&ga, 0, sizeof(ga));
	ga.object = handle_of(1, "on/gatefile");
	memset(&b, 0, sizeof(b));
	gate_sleep_ms = 600;
	rpc_nfs3_getattr_async(rpc, batch_cb, &ga, &b);
	rpc_pump(rpc, &b, 1, 100);	/* sends it */
	nanosleep(&ts, NULL);		/* the worker sits in the gate */
	t = now();
	nfs_export_detach(1);
	T_OK(now() - t > 0.3, "detach waited for the call in flight "
	    "(%.2f s)", now() - t);
	gate_sleep_ms = 0;
	rpc_pump(rpc, &b, 1, 2000);
	T_EQ(b.replies, 1, "the call in flight was answered");
	snprintf(p, sizeof(p), "%s/on", dir);
	T_EQ(fd_open_on(p), 0, "detach closed export 1's directory");
	T_EQ(exports_state().online[1], 0, "export 1 is offline");
	T_EQ(nfs_export_attach(1), 0, "attach export 1 again");
	nfs_destroy_context(nfs);
}

static void
exit_cb(void *arg)
{
	(void)arg;
	loop_exit();
}

static void *
test_main(void *arg)
{
	struct expstate		 s;
	struct nfs_context	*nfs;
	struct nfsfh		*fh;
	struct nfs_stat_64	 st;
	char			 p[PATH_MAX + 64], bad[PATH_MAX + 64];
	int			 fd;
	uint8_t			 c;
	double			 t;
	struct pollfd		 pf;

	(void)arg;

	/* d) listening */
	T_EQ(tcp_dial(), -1, "service IPs, no nfs-bind: nothing listens");
	T_EQ(onloop(OP_LISTEN_ADD, "127.0.0.1"), 0, "nfs_listen_add");
	T_EQ(onloop(OP_LISTEN_ADD, "127.0.0.1"), 0,
	    "nfs_listen_add again: no-op success");
	fd = tcp_dial();
	T_OK(fd >= 0, "connect after nfs_listen_add");
	if (fd >= 0)
		close(fd);

	/* a) offline at start */
	s = exports_state();
	T_EQ(s.n, 3, "foreach calls back for three exports");
	T_EQ(s.ret, 3, "and returns 3");
	T_OK(s.online[1] && s.enabled[1], "export 1 online and enabled");
	T_OK(!s.online[2] && s.enabled[2], "export 2 (missing) offline");
	T_OK(!s.online[3], "export 3 (missing) offline");
	snprintf(p, sizeof(p), "%s/off", dir);
	T_OK(strcmp(s.path[2], p) == 0, "foreach gives the path");
	T_OK(mount_ctx("off") == NULL, "offline export: mount refused");
	T_EQ(nfs_export_attach(2), -1, "attach while the path is missing");
	T_EQ(nfs_export_attach(99), -1, "attach of an unknown id");
	mkdir(p, 0755);
	T_EQ(nfs_export_attach(2), 0, "attach after the directory appeared");
	T_OK(exports_state().online[2], "export 2 online");
	T_EQ(fd_open_on(p), 1, "its directory is open");

	nfs = mount_ctx("off");
	T_OK(nfs != NULL, "mount of the attached export");
	if (nfs != NULL) {
		T_EQ(nfs_creat(nfs, "/a", 0644, &fh), 0, "create a file");
		nfs_close(nfs, fh);
		T_EQ(nfs_stat64(nfs, "/a", &st), 0, "stat it");

		/* detach: calls dropped, directory closed */
		nfs_export_detach(2);
		T_EQ(fd_open_on(p), 0, "detach closed the directory");
		t = now();
		T_OK(nfs_stat64(nfs, "/a", &st) != 0 && now() - t > 0.8,
		    "detached: GETATTR gets no reply (times out after "
		    "%.1f s, no STALE)", now() - t);
		nfs_destroy_context(nfs);
	}
	T_OK(mount_ctx("off") == NULL, "detached export: mount refused");

	/* reload keeps the detached state; a bad file changes nothing */
	T_EQ(onloop(OP_RELOAD, NULL), 0, "reload");
	s = exports_state();
	T_OK(!s.online[2], "reload: detached export stays offline");
	T_OK(s.online[1], "reload: export 1 still online");
	T_EQ(nfs_export_attach(2), 0, "attach export 2 again");
	nfs = mount_ctx("off");
	T_OK(nfs != NULL && nfs_stat64(nfs, "/a", &st) == 0,
	    "after re-attach: mount and stat work");
	if (nfs != NULL)
		nfs_destroy_context(nfs);
	snprintf(bad, sizeof(bad), "%s/exports", dir);
	snprintf(p, sizeof(p), "%s/exports.good", dir);
	rename(bad, p);
	write_file(bad, "/x -id=1 bogus(\n");
	T_EQ(onloop(OP_RELOAD, NULL), -1, "reload of a bad file fails");
	T_EQ(exports_state().n, 3, "the old table is kept");
	rename(p, bad);

	/* disabled export: calls dropped, mount refused */
	T_EQ(onloop(OP_DISABLE, NULL), 0, "disable export 2");
	T_OK(!exports_state().enabled[2], "foreach shows it disabled");
	T_OK(mount_ctx("off") == NULL, "disabled export: mount refused");
	T_EQ(onloop(OP_ENABLE, NULL), 0, "enable export 2");

	/* b) the gate */
	test_gate();
	test_detach_waits();

	/* d) removing the address closes established connections */
	fd = tcp_dial();
	T_OK(fd >= 0, "connect before nfs_listen_remove");
	T_EQ(onloop(OP_LISTEN_REMOVE, "127.0.0.1"), 0, "nfs_listen_remove");
	pf.fd = fd;
	pf.events = POLLIN;
	T_OK(fd >= 0 && poll(&pf, 1, 2000) == 1 && read(fd, &c, 1) <= 0,
	    "the established connection was closed");
	if (fd >= 0)
		close(fd);
	T_EQ(tcp_dial(), -1, "nothing listens after nfs_listen_remove");
	T_EQ(onloop(OP_LISTEN_REMOVE, "127.0.0.1"), -1,
	    "removing it again fails");
	loop_call(exit_cb, NULL);
	return NULL;
}

int
main(void)
{
	static struct cfg	 cfg;
	char			 p[200];
	pthread_t		 th;
	int			 rc;

	if (geteuid() != 0) {
		printf("ok 1 # SKIP needs root (open_by_handle_at)\n");
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/duonas-nfsha.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	port = 20000 + (int)(random() % 30000);
	snprintf(p, sizeof(p), "%s/on", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/exports", dir);
	{
		char text[1024];

		snprintf(text, sizeof(text),
		    "%s/on  -id=1,rw,no_root_squash *\n"
		    "%s/off -id=2,rw,no_root_squash *\n"
		    "%s/gone -id=3 *\n", dir, dir, dir);
		write_file(p, text);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.nheads = 1;
	snprintf(cfg.heads[0].name, sizeof(cfg.heads[0].name), "A");
	cfg.heads[0].nvips = 1;
	snprintf(cfg.heads[0].vips[0].addr, sizeof(cfg.heads[0].vips[0].addr),
	    "127.0.0.1");
	cfg.heads[0].vips[0].family = AF_INET;
	cfg.heads[0].vips[0].prefix = 8;
	snprintf(cfg.exports, sizeof(cfg.exports), "%s", p);
	cfg.nfs_port = port;
	cfg.mount_port = port;
	cfg.portmap_port = 0;
	cfg.nfs_threads = 4;

	log_init("test_nfs_ha", getenv("NFSHA_DEBUG") != NULL, 0);
	loop_init();
	T_EQ(nfs_init(&cfg, 0), 0,
	    "nfs_init with two exports whose directories are missing");
	pthread_create(&th, NULL, test_main, NULL);
	loop_run();
	pthread_join(th, NULL);
	nfs_shutdown();
	rc = t_done();
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p) != 0)
		rc = 1;
	return rc;
}

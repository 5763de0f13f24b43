/*
 * nfs_parload.c — the concurrent client workload of tests/bench/nfs-bench:
 * CLIENTS NFSv3 connections, each with DEPTH calls in flight, all driven
 * by one poll() loop over the libnfs 4.0.0 raw async API (one RPC per
 * operation, no path walks, no sync round trips), so that the server and
 * not the client or the loopback round trip sets the pace.
 *
 *   nfs_parload [-c CLIENTS] [-q DEPTH] [-s SECS] [-S CONNSECS] [-M MIB]
 *               [-R RANDMIB] [-C IDLE] [-P SERVERPID] [-o PHASES] URL SUFFIX
 *
 * Phases (PHASES is a comma list of seq, randread, randwrite, meta, conn):
 * 1 MiB UNSTABLE WRITEs of MIB MiB spread over one file per client, timed
 * up to the COMMITs' replies; 1 MiB READs of those files for SECS s; 4 KiB
 * READs / UNSTABLE WRITEs at random offsets of one shared RANDMIB file
 * for SECS s each (its fill and the COMMIT after the writes are not
 * timed); CREATE for SECS s, LOOKUP ("stat": name to handle and
 * attributes) of those names for SECS s and REMOVE of all of them, each
 * client in its own directory; then one client runs the same metadata
 * phases for CONNSECS s each, in a fresh directory each time, without,
 * with and again without IDLE extra connections (TCP, one NFS NULL call
 * each, then held open and silent).
 * With -P the server's utime+stime (/proc/PID/stat, all threads) is read
 * before and after each phase.  Prints key=value lines named
 * <metric>_<SUFFIX> and one "# " comment line per phase (operations, time,
 * server and client CPU).  Errors of any call are fatal: a benchmark that
 * skips failures measures nothing.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#define SEQ_IO		(1 << 20)
#define RAND_IO		4096
#define MAXCL		64
#define SETUP_SECS	120.0

enum op {
	OP_SEQW, OP_SEQR, OP_FILL, OP_RANDR, OP_RANDW,
	OP_CREATE, OP_STAT, OP_UNLINK, OP__N
};
static const char *op_name[] = {
	"seq_write", "seq_read", "fill", "randread", "randwrite",
	"create", "stat", "unlink"
};
_Static_assert(sizeof(op_name) / sizeof(op_name[0]) == OP__N, "op_name");

struct cl {
	struct rpc_context	*rpc;
	int			 idx;
	int			 inflight;
	long			 next;		/* next operation to issue */
	long			 total;		/* operations to issue */
	long			 nfiles;	/* names the last CREATE made */
	uint64_t		 rng;
	char			 fh[NFS3_FHSIZE];	/* own data file */
	u_int			 fhlen;
	char			 dir[NFS3_FHSIZE];	/* own directory */
	u_int			 dirlen;
};

/* The phase being run: one at a time, shared by every client. */
static struct {
	enum op	 op;
	int	 timed;		/* stop issuing once stopping is set */
	int	 stopping;
	char	 prefix;	/* first letter of the metadata names */
	long	 ops;
	double	 bytes;
} ph;

/* The result of one phase. */
struct res {
	long	 ops;
	double	 bytes, secs, srv_s, cli_s;
};

/* The reply of a set-up call, waited for in wait_done(). */
struct sc {
	int	 done;
	int	 kind;		/* SC_* */
	int	 stat;		/* nfsstat3 / mountstat3 */
	char	 fh[NFS3_FHSIZE];
	u_int	 fhlen;
};
enum { SC_CONN, SC_PLAIN, SC_MNT, SC_CREATE, SC_MKDIR };

static struct cl	 cls[MAXCL];
static int		 nclients = 8, depth = 8, srvpid;
static double		 secs = 5, connsecs = 3;
static long		 seq_mib = 1024, rand_mib = 256, idle_n = 1000;
static long		 seq_blocks, rand_blocks;
static char		 host[256], xpath[1024], sfx[32], tag[32];
static int		 nfsport = 2049, mountport = 2049;
static char		 rootfh[NFS3_FHSIZE], randfh[NFS3_FHSIZE];
static u_int		 rootfhlen, randfhlen;
static char		*iobuf;
static long		 clk_tck;

static void fatal(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "nfs_parload %s: ", sfx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
client_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of the server in seconds (all its threads), or 0. */
static double
server_cpu(void)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 n;

	if (srvpid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", srvpid);
	if ((f = fopen(path, "r")) == NULL)
		fatal("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold anything: fields follow its last ')' */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		fatal("%s: cannot parse", path);
	return (double)(ut + st) / (double)clk_tck;
}

static uint64_t
rnd(struct cl *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ULL;
}

static nfs_fh3
mkfh(char *p, u_int len)
{
	nfs_fh3 fh;

	fh.data.data_len = len;
	fh.data.data_val = p;
	return fh;
}

/* ---- set-up calls: one at a time, waited for ---------------------------- */

static void
sc_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct sc	*s = priv;
	mountres3	*m;
	CREATE3res	*cr;
	MKDIR3res	*mk;
	post_op_fh3	*obj = NULL;

	(void)rpc;
	s->done = 1;
	if (status != RPC_STATUS_SUCCESS) {
		s->stat = -1;
		return;
	}
	if (s->kind == SC_MNT) {
		m = data;
		s->stat = m->fhs_status;
		if (m->fhs_status == MNT3_OK &&
		    m->mountres3_u.mountinfo.fhandle.fhandle3_len <=
		    NFS3_FHSIZE) {
			s->fhlen = m->mountres3_u.mountinfo.fhandle.fhandle3_len;
			memcpy(s->fh,
			    m->mountres3_u.mountinfo.fhandle.fhandle3_val,
			    s->fhlen);
		}
		return;
	}
	if (s->kind == SC_CONN)
		return;
	s->stat = *(nfsstat3 *)data;	/* first field of every result */
	if (s->stat != NFS3_OK)
		return;
	if (s->kind == SC_CREATE) {
		cr = data;
		obj = &cr->CREATE3res_u.resok.obj;
	} else if (s->kind == SC_MKDIR) {
		mk = data;
		obj = &mk->MKDIR3res_u.resok.obj;
	}
	if (obj != NULL && obj->handle_follows &&
	    obj->post_op_fh3_u.handle.data.data_len <= NFS3_FHSIZE) {
		s->fhlen = obj->post_op_fh3_u.handle.data.data_len;
		memcpy(s->fh, obj->post_op_fh3_u.handle.data.data_val,
		    s->fhlen);
	}
}

static void
wait_done(struct rpc_context *rpc, struct sc *s, const char *what)
{
	struct pollfd	p;
	double		end = now() + SETUP_SECS;

	while (!s->done) {
		p.fd = rpc_get_fd(rpc);
		p.events = (short)rpc_which_events(rpc);
		p.revents = 0;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		if (rpc_service(rpc, p.revents) < 0)
			fatal("%s: %s", what, rpc_get_error(rpc));
		if (now() > end)
			fatal("%s: no reply in %.0f s", what, SETUP_SECS);
	}
	if (s->stat != 0)
		fatal("%s: %s (%d)", what, s->kind == SC_MNT ? "mount error" :
		    s->stat < 0 ? rpc_get_error(rpc) : nfsstat3_to_str(s->stat),
		    s->stat);
}

static struct rpc_context *
conn_open(int port, int prog, int vers)
{
	struct rpc_context	*rpc;
	struct sc		 s;
	char			 what[300];

	memset(&s, 0, sizeof(s));
	s.kind = SC_CONN;
	snprintf(what, sizeof(what), "connect %s:%d", host, port);
	if ((rpc = rpc_init_context()) == NULL)
		fatal("rpc_init_context failed");
	if (rpc_connect_port_async(rpc, host, port, prog, vers, sc_cb, &s))
		fatal("%s: %s", what, rpc_get_error(rpc));
	wait_done(rpc, &s, what);
	return rpc;
}

static void
do_mount(void)
{
	struct rpc_context	*rpc;
	struct sc		 s;

	rpc = conn_open(mountport, MOUNT_PROGRAM, MOUNT_V3);
	memset(&s, 0, sizeof(s));
	s.kind = SC_MNT;
	if (rpc_mount3_mnt_async(rpc, sc_cb, xpath, &s))
		fatal("MNT: %s", rpc_get_error(rpc));
	wait_done(rpc, &s, "MNT");
	if (s.fhlen == 0)
		fatal("MNT: no file handle");
	memcpy(rootfh, s.fh, s.fhlen);
	rootfhlen = s.fhlen;
	rpc_destroy_context(rpc);
}

/* CREATE (isdir 0) or MKDIR (1) NAME in the root; its handle into fh. */
static void
make_obj(struct rpc_context *rpc, const char *name, int isdir, char *fh,
    u_int *fhlen)
{
	CREATE3args	 ca;
	MKDIR3args	 ma;
	struct sc	 s;
	char		 nm[128];
	int		 rv;

	snprintf(nm, sizeof(nm), "%s", name);
	memset(&s, 0, sizeof(s));
	if (isdir) {
		memset(&ma, 0, sizeof(ma));
		ma.where.dir = mkfh(rootfh, rootfhlen);
		ma.where.name = nm;
		ma.attributes.mode.set_it = 1;
		ma.attributes.mode.set_mode3_u.mode = 0755;
		s.kind = SC_MKDIR;
		rv = rpc_nfs3_mkdir_async(rpc, sc_cb, &ma, &s);
	} else {
		memset(&ca, 0, sizeof(ca));
		ca.where.dir = mkfh(rootfh, rootfhlen);
		ca.where.name = nm;
		ca.how.mode = UNCHECKED;
		ca.how.createhow3_u.obj_attributes.mode.set_it = 1;
		ca.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
		s.kind = SC_CREATE;
		rv = rpc_nfs3_create_async(rpc, sc_cb, &ca, &s);
	}
	if (rv != 0)
		fatal("create %s: %s", name, rpc_get_error(rpc));
	wait_done(rpc, &s, name);
	if (s.fhlen == 0)
		fatal("create %s: no file handle in the reply", name);
	memcpy(fh, s.fh, s.fhlen);
	*fhlen = s.fhlen;
}

/* REMOVE (isdir 0) or RMDIR (1) NAME in the root. */
static void
remove_obj(struct rpc_context *rpc, const char *name, int isdir)
{
	REMOVE3args	 ra;
	RMDIR3args	 da;
	struct sc	 s;
	char		 nm[128];
	int		 rv;

	snprintf(nm, sizeof(nm), "%s", name);
	memset(&s, 0, sizeof(s));
	s.kind = SC_PLAIN;
	if (isdir) {
		memset(&da, 0, sizeof(da));
		da.object.dir = mkfh(rootfh, rootfhlen);
		da.object.name = nm;
		rv = rpc_nfs3_rmdir_async(rpc, sc_cb, &da, &s);
	} else {
		memset(&ra, 0, sizeof(ra));
		ra.object.dir = mkfh(rootfh, rootfhlen);
		ra.object.name = nm;
		rv = rpc_nfs3_remove_async(rpc, sc_cb, &ra, &s);
	}
	if (rv != 0)
		fatal("remove %s: %s", name, rpc_get_error(rpc));
	wait_done(rpc, &s, name);
}

static void
commit_file(struct rpc_context *rpc, char *fh, u_int fhlen)
{
	COMMIT3args	a;
	struct sc	s;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	s.kind = SC_PLAIN;
	a.file = mkfh(fh, fhlen);
	if (rpc_nfs3_commit_async(rpc, sc_cb, &a, &s))
		fatal("COMMIT: %s", rpc_get_error(rpc));
	wait_done(rpc, &s, "COMMIT");
}

/* ---- the phases: DEPTH calls in flight per client ------------------------ */

static void op_cb(struct rpc_context *, int, void *, void *);

static void
commit_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct cl *c = priv;

	(void)rpc;
	if (status != RPC_STATUS_SUCCESS || *(nfsstat3 *)data != NFS3_OK)
		fatal("COMMIT of client %d failed", c->idx);
	c->inflight--;
}

static void
issue(struct cl *c)
{
	WRITE3args	 wa;
	READ3args	 ra;
	CREATE3args	 ca;
	LOOKUP3args	 la;
	REMOVE3args	 da;
	char		 nm[32];
	long		 i = c->next++;
	int		 rv = -1;

	c->inflight++;
	switch (ph.op) {
	case OP_SEQW:
	case OP_FILL:
	case OP_RANDW:
		memset(&wa, 0, sizeof(wa));
		wa.stable = UNSTABLE;
		wa.data.data_val = iobuf;
		if (ph.op == OP_SEQW) {
			wa.file = mkfh(c->fh, c->fhlen);
			wa.offset = (uint64_t)i * SEQ_IO;
		} else if (ph.op == OP_FILL) {
			wa.file = mkfh(randfh, randfhlen);
			wa.offset = ((uint64_t)i * (uint64_t)nclients +
			    (uint64_t)c->idx) * SEQ_IO;
		} else {
			wa.file = mkfh(randfh, randfhlen);
			wa.offset = rnd(c) % (uint64_t)rand_blocks * RAND_IO;
		}
		wa.count = ph.op == OP_RANDW ? RAND_IO : SEQ_IO;
		wa.data.data_len = wa.count;
		rv = rpc_nfs3_write_async(c->rpc, op_cb, &wa, c);
		break;
	case OP_SEQR:
	case OP_RANDR:
		memset(&ra, 0, sizeof(ra));
		if (ph.op == OP_SEQR) {
			ra.file = mkfh(c->fh, c->fhlen);
			ra.offset = (uint64_t)(i % seq_blocks) * SEQ_IO;
			ra.count = SEQ_IO;
		} else {
			ra.file = mkfh(randfh, randfhlen);
			ra.offset = rnd(c) % (uint64_t)rand_blocks * RAND_IO;
			ra.count = RAND_IO;
		}
		rv = rpc_nfs3_read_async(c->rpc, op_cb, &ra, c);
		break;
	case OP_CREATE:
		snprintf(nm, sizeof(nm), "%c%07ld", ph.prefix, i);
		memset(&ca, 0, sizeof(ca));
		ca.where.dir = mkfh(c->dir, c->dirlen);
		ca.where.name = nm;
		ca.how.mode = UNCHECKED;
		ca.how.createhow3_u.obj_attributes.mode.set_it = 1;
		ca.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
		rv = rpc_nfs3_create_async(c->rpc, op_cb, &ca, c);
		break;
	case OP_STAT:
		snprintf(nm, sizeof(nm), "%c%07ld", ph.prefix, i % c->nfiles);
		memset(&la, 0, sizeof(la));
		la.what.dir = mkfh(c->dir, c->dirlen);
		la.what.name = nm;
		rv = rpc_nfs3_lookup_async(c->rpc, op_cb, &la, c);
		break;
	case OP_UNLINK:
		snprintf(nm, sizeof(nm), "%c%07ld", ph.prefix, i);
		memset(&da, 0, sizeof(da));
		da.object.dir = mkfh(c->dir, c->dirlen);
		da.object.name = nm;
		rv = rpc_nfs3_remove_async(c->rpc, op_cb, &da, c);
		break;
	case OP__N:
		break;
	}
	if (rv != 0)
		fatal("%s: cannot queue: %s", op_name[ph.op],
		    rpc_get_error(c->rpc));
}

static void
refill(struct cl *c)
{
	while (c->inflight < depth && c->next < c->total &&
	    !(ph.timed && ph.stopping))
		issue(c);
}

static void
op_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct cl	*c = priv;
	COMMIT3args	 a;
	int		 st;

	if (status != RPC_STATUS_SUCCESS)
		fatal("%s: client %d: %s", op_name[ph.op], c->idx,
		    status == RPC_STATUS_ERROR && data ? (char *)data :
		    "cancelled");
	if ((st = *(nfsstat3 *)data) != NFS3_OK)
		fatal("%s: client %d: %s", op_name[ph.op], c->idx,
		    nfsstat3_to_str(st));
	if (ph.op == OP_SEQR || ph.op == OP_RANDR)
		ph.bytes += ((READ3res *)data)->READ3res_u.resok.count;
	else if (ph.op == OP_SEQW || ph.op == OP_FILL || ph.op == OP_RANDW)
		ph.bytes += ((WRITE3res *)data)->WRITE3res_u.resok.count;
	c->inflight--;
	ph.ops++;
	refill(c);
	/* a sequential writer's data counts once it is on stable storage */
	if (ph.op == OP_SEQW && c->inflight == 0 && c->next >= c->total) {
		memset(&a, 0, sizeof(a));
		a.file = mkfh(c->fh, c->fhlen);
		c->inflight++;
		if (rpc_nfs3_commit_async(rpc, commit_cb, &a, c))
			fatal("COMMIT: %s", rpc_get_error(rpc));
	}
}

/* Run one phase on clients 0..n-1 until every call is answered. */
static void
run_phase(enum op op, int n, long per_client, double limit, struct res *r)
{
	struct pollfd	 pfd[MAXCL];
	double		 t0, c0, s0, end = 0;
	int		 busy;

	ph.op = op;
	ph.ops = 0;
	ph.bytes = 0;
	ph.timed = limit > 0;
	ph.stopping = 0;
	s0 = server_cpu();
	c0 = client_cpu();
	t0 = now();
	if (ph.timed)
		end = t0 + limit;
	for (int i = 0; i < n; i++) {
		cls[i].next = 0;
		cls[i].total = per_client;
		if (op == OP_FILL)	/* MiB i, i+n, i+2n ... of the file */
			cls[i].total = (rand_mib - i + n - 1) / n;
		if (op == OP_UNLINK)
			cls[i].total = cls[i].nfiles;
		refill(&cls[i]);
	}
	for (;;) {
		busy = 0;
		for (int i = 0; i < n; i++) {
			pfd[i].fd = rpc_get_fd(cls[i].rpc);
			pfd[i].events = (short)rpc_which_events(cls[i].rpc);
			pfd[i].revents = 0;
			busy |= cls[i].inflight > 0;
		}
		if (!busy)
			break;
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			if (pfd[i].revents &&
			    rpc_service(cls[i].rpc, pfd[i].revents) < 0)
				fatal("%s: client %d: %s", op_name[op], i,
				    rpc_get_error(cls[i].rpc));
		if (ph.timed && !ph.stopping && now() >= end)
			ph.stopping = 1;
	}
	r->secs = now() - t0;
	r->cli_s = client_cpu() - c0;
	r->srv_s = server_cpu() - s0;
	r->ops = ph.ops;
	r->bytes = ph.bytes;
	if (op == OP_CREATE)
		for (int i = 0; i < n; i++)
			cls[i].nfiles = cls[i].next;
	printf("# %s %s: %d client(s) x %d in flight: %ld ops",
	    sfx, op_name[op], n, depth, r->ops);
	if (r->bytes > 0)
		printf(" (%.0f MiB)", r->bytes / 1048576);
	printf(" in %.2f s; server cpu %.2f s; client cpu %.2f s (%.0f%% of "
	    "one core)\n", r->secs, r->srv_s, r->cli_s,
	    100 * r->cli_s / r->secs);
}

/* KEY_per_s and, for a PHASE with -P, cpu_us_per_op_PHASE. */
static void
put_ops(const char *key, const char *phase, const struct res *r)
{
	printf("%s_per_s_%s=%.0f\n", key, sfx, r->ops / r->secs);
	if (phase != NULL && srvpid > 0)
		printf("cpu_us_per_op_%s_%s=%.2f\n", phase, sfx,
		    r->ops > 0 ? r->srv_s * 1e6 / r->ops : 0);
}

/* par_PHASE_MBps and, with -P, cpu_us_per_MiB_PHASE. */
static void
put_mbs(const char *phase, const struct res *r)
{
	printf("par_%s_MBps_%s=%.1f\n", phase, sfx, r->bytes / 1e6 / r->secs);
	if (srvpid > 0)
		printf("cpu_us_per_MiB_%s_%s=%.0f\n", phase, sfx,
		    r->srv_s * 1e6 / (r->bytes / 1048576));
}

/* CREATE for limit s, LOOKUP those names for limit s, REMOVE them all. */
static void
run_meta(int n, double limit, char prefix, struct res r[3])
{
	ph.prefix = prefix;
	run_phase(OP_CREATE, n, LONG_MAX, limit, &r[0]);
	for (int i = 0; i < n; i++)
		if (cls[i].nfiles == 0)
			fatal("client %d created no file", i);
	run_phase(OP_STAT, n, LONG_MAX, limit, &r[1]);
	run_phase(OP_UNLINK, n, 0, 0, &r[2]);
}

/* ---- idle connections ----------------------------------------------------- */

/* A TCP connection to the NFS port that made one NULL call; its fd.
 * On loopback each comes from its own address 127.77.x.y, as 1000
 * clients would (a server may well limit connections per client). */
static int
idle_open(const struct sockaddr_in *sin, uint32_t xid, long i)
{
	struct sockaddr_in src;
	uint32_t	 call[11], reply[7];
	struct timeval	 tv = { 10, 0 };
	size_t		 got = 0;
	ssize_t		 k;
	int		 fd;

	memset(call, 0, sizeof(call));
	call[0] = htonl(0x80000000u | 40);	/* last fragment, 40 bytes */
	call[1] = htonl(xid);
	call[3] = htonl(2);			/* RPC version */
	call[4] = htonl(NFS_PROGRAM);
	call[5] = htonl(NFS_V3);		/* procedure 0, AUTH_NONE x2 */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s (idle connections need RLIMIT_NOFILE)",
		    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f4d0000u |
		    (uint32_t)(i / 250) << 8 | (uint32_t)(i % 250 + 1));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			fatal("idle connection: bind: %s", strerror(errno));
	}
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0)
		fatal("idle connection: connect: %s", strerror(errno));
	if (write(fd, call, sizeof(call)) != (ssize_t)sizeof(call))
		fatal("idle connection: write: %s", strerror(errno));
	while (got < sizeof(reply)) {
		k = read(fd, (char *)reply + got, sizeof(reply) - got);
		if (k <= 0)
			fatal("idle connection: no NULL reply: %s",
			    k < 0 ? strerror(errno) : "closed");
		got += (size_t)k;
	}
	/* xid, REPLY, MSG_ACCEPTED, verifier (2 words), SUCCESS */
	if (reply[1] != htonl(xid) || reply[2] != htonl(1) || reply[3] != 0 ||
	    reply[6] != 0)
		fatal("idle connection: bad NULL reply");
	return fd;
}

/* The metadata phases of one client in a fresh directory NAME. */
static void
conn_meta(const char *name, char prefix, struct res r[3])
{
	char nm[64];

	snprintf(nm, sizeof(nm), "%s-%s", tag, name);
	make_obj(cls[0].rpc, nm, 1, cls[0].dir, &cls[0].dirlen);
	run_meta(1, connsecs, prefix, r);
	remove_obj(cls[0].rpc, nm, 1);
}

/*
 * Without, with and again without the idle connections: the loaded run
 * is compared with the mean of the two around it, which cancels what
 * drifts in between (the file system still digesting the REMOVEs of the
 * phase before, caches warming up).
 */
static void
run_conn(void)
{
	struct sockaddr_in	 sin;
	struct res		 b[3], l[3], a[3];
	int			*fds;
	double			 t, base, slow = 1;
	char			 key[32];
	static const char	*what[3] = { "create", "stat", "unlink" };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)nfsport);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		fatal("%s: the idle connections need an IPv4 address", host);
	if ((fds = calloc((size_t)idle_n, sizeof(int))) == NULL)
		fatal("out of memory");
	conn_meta("c1", 'b', b);
	t = now();
	for (long i = 0; i < idle_n; i++)
		fds[i] = idle_open(&sin, 0x5a000000u + (uint32_t)i, i);
	printf("# %s conn1000: %ld idle connections opened in %.2f s\n",
	    sfx, idle_n, now() - t);
	conn_meta("c2", 'k', l);
	for (long i = 0; i < idle_n; i++)
		close(fds[i]);
	free(fds);
	conn_meta("c3", 'a', a);
	for (int i = 0; i < 3; i++) {
		base = (b[i].ops / b[i].secs + a[i].ops / a[i].secs) / 2;
		printf("# %s conn1000 %s: %.0f/s and %.0f/s without, %.0f/s "
		    "with %ld idle connections\n", sfx, what[i],
		    b[i].ops / b[i].secs, a[i].ops / a[i].secs,
		    l[i].ops / l[i].secs, idle_n);
		slow *= l[i].ops / l[i].secs / base;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "conn1000_%s", what[i]);
		put_ops(key, NULL, &l[i]);
	}
	/* one number: the geometric mean of the three rate ratios */
	printf("conn1000_slowdown_%s=%.2f\n", sfx, cbrt(slow));
}

/* ---- main ----------------------------------------------------------------- */

static void
parse_url(const char *url)
{
	const char	*p, *slash, *q, *v;
	size_t		 n;

	if (strncmp(url, "nfs://", 6) != 0 ||
	    (slash = strchr(url + 6, '/')) == NULL)
		fatal("bad URL %s", url);
	p = url + 6;
	n = (size_t)(slash - p);
	if (n == 0 || n >= sizeof(host))
		fatal("bad host in %s", url);
	memcpy(host, p, n);
	host[n] = 0;
	q = strchr(slash, '?');
	n = q ? (size_t)(q - slash) : strlen(slash);
	if (n >= sizeof(xpath))
		fatal("path too long in %s", url);
	memcpy(xpath, slash, n);
	xpath[n] = 0;
	if (q != NULL && (v = strstr(q, "nfsport=")) != NULL)
		nfsport = atoi(v + 8);
	if (q != NULL && (v = strstr(q, "mountport=")) != NULL)
		mountport = atoi(v + 10);
	if (nfsport <= 0 || nfsport > 65535 || mountport <= 0 ||
	    mountport > 65535)
		fatal("bad port in %s", url);
}

static long
num(const char *s, long lo, long hi, int opt)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		fatal("-%c %s: not a number in %ld..%ld", opt, s, lo, hi);
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nfs_parload [-c CLIENTS] [-q DEPTH] [-s SECS] "
	    "[-S CONNSECS] [-M MIB] [-R RANDMIB]\n"
	    "       [-C IDLE] [-P SERVERPID] [-o seq,randread,randwrite,meta,"
	    "conn] URL SUFFIX\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct rlimit	 rl;
	struct res	 r, m[3];
	const char	*phases = "seq,randread,randwrite,meta,conn";
	char		 nm[64];
	int		 ch;
	double		 c0 = client_cpu(), t0 = now();

	while ((ch = getopt(argc, argv, "c:C:M:o:P:q:R:s:S:")) != -1) {
		switch (ch) {
		case 'c': nclients = (int)num(optarg, 1, MAXCL, ch); break;
		case 'C': idle_n = num(optarg, 1, 100000, ch); break;
		case 'M': seq_mib = num(optarg, 1, 1 << 20, ch); break;
		case 'o': phases = optarg; break;
		case 'P': srvpid = (int)num(optarg, 1, INT32_MAX, ch); break;
		case 'q': depth = (int)num(optarg, 1, 1024, ch); break;
		case 'R': rand_mib = num(optarg, 1, 1 << 20, ch); break;
		case 's': secs = (double)num(optarg, 1, 3600, ch); break;
		case 'S': connsecs = (double)num(optarg, 1, 3600, ch); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	snprintf(sfx, sizeof(sfx), "%s", argv[optind + 1]);
	parse_url(argv[optind]);
	clk_tck = sysconf(_SC_CLK_TCK);
	seq_blocks = seq_mib / nclients > 0 ? seq_mib / nclients : 1;
	rand_blocks = rand_mib * (SEQ_IO / RAND_IO);
	snprintf(tag, sizeof(tag), "pl%ld", (long)getpid());
	/* the idle connections need one descriptor each */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((iobuf = malloc(SEQ_IO)) == NULL)
		fatal("out of memory");
	memset(iobuf, 0x5a, SEQ_IO);

	do_mount();
	for (int i = 0; i < nclients; i++) {
		cls[i].idx = i;
		cls[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1) ^
		    (uint64_t)getpid();
		cls[i].rpc = conn_open(nfsport, NFS_PROGRAM, NFS_V3);
		snprintf(nm, sizeof(nm), "%s-d%d", tag, i);
		make_obj(cls[i].rpc, nm, 1, cls[i].dir, &cls[i].dirlen);
		snprintf(nm, sizeof(nm), "%s-s%d.dat", tag, i);
		make_obj(cls[i].rpc, nm, 0, cls[i].fh, &cls[i].fhlen);
	}
	printf("# %s: %d clients x %d calls in flight, one poll loop; server "
	    "pid %d\n", sfx, nclients, depth, srvpid);

	if (strstr(phases, "seq") != NULL) {
		run_phase(OP_SEQW, nclients, seq_blocks, 0, &r);
		put_mbs("seq_write", &r);
		run_phase(OP_SEQR, nclients, LONG_MAX, secs, &r);
		put_mbs("seq_read", &r);
	}
	if (strstr(phases, "rand") != NULL) {
		snprintf(nm, sizeof(nm), "%s-rand.dat", tag);
		make_obj(cls[0].rpc, nm, 0, randfh, &randfhlen);
		run_phase(OP_FILL, nclients, 0, 0, &r);
		commit_file(cls[0].rpc, randfh, randfhlen);
		if (strstr(phases, "randread") != NULL) {
			run_phase(OP_RANDR, nclients, LONG_MAX, secs, &r);
			put_ops("par_randread", "randread", &r);
		}
		if (strstr(phases, "randwrite") != NULL) {
			run_phase(OP_RANDW, nclients, LONG_MAX, secs, &r);
			put_ops("par_randwrite", "randwrite", &r);
			commit_file(cls[0].rpc, randfh, randfhlen);
		}
	}
	if (strstr(phases, "meta") != NULL) {
		run_meta(nclients, secs, 'f', m);
		put_ops("par_create", "create", &m[0]);
		put_ops("par_stat", "stat", &m[1]);
		put_ops("par_unlink", "unlink", &m[2]);
	}
	if (strstr(phases, "conn") != NULL)
		run_conn();

	for (int i = 0; i < nclients; i++) {
		snprintf(nm, sizeof(nm), "%s-s%d.dat", tag, i);
		remove_obj(cls[0].rpc, nm, 0);
		snprintf(nm, sizeof(nm), "%s-d%d", tag, i);
		remove_obj(cls[0].rpc, nm, 1);
	}
	if (randfhlen > 0) {
		snprintf(nm, sizeof(nm), "%s-rand.dat", tag);
		remove_obj(cls[0].rpc, nm, 0);
	}
	printf("# %s: client cpu %.2f s in %.1f s for the whole run\n", sfx,
	    client_cpu() - c0, now() - t0);
	for (int i = 0; i < nclients; i++)
		rpc_destroy_context(cls[i].rpc);
	free(iobuf);
	return 0;
}

/*
 * nlmtool.c — an NLM v4 / NSM test client on libnfs's raw RPC API, for
 * the lock tests (tests/ha/nlm_*.sh) and tests/bench/lock-bench.
 *
 *   nlmtool [options] SERVER EXPORT PATH CMD...
 *
 * It mounts EXPORT (MOUNT v3), finds PATH below it with NFS v3 LOOKUP
 * (creating the last component when missing) and uses that file handle
 * in every NLM call (-F HEX: this handle instead, nothing looked up; a
 * made-up one draws NLM4_STALE_FH).  -p: the server's portmapper port
 * (default 111), which gives the MOUNT, NFS, NLM and NSM ports unless
 * -m, -N, -P, -Q name them; -n caller name (default the host name), -s
 * svid (default the PID), -o owner handle (default svid@caller), -S NSM
 * state.  The commands run in order, each printing one line of key=value
 * words:
 *
 *   lock OFF LEN [x|s] [block] [reclaim]   lock=granted|denied|blocked|...
 *   unlock OFF LEN                         unlock=...
 *   test OFF LEN [x|s]                     test=granted | test=denied
 *                                          holder_svid= holder_excl=
 *                                          holder_off= holder_len=
 *   cancel OFF LEN [x|s]                   cancel=...  (of a blocking lock)
 *   free-all                               free_all=sent  (NLM proc 23)
 *   notify STATE                           notify=sent  (SM_NOTIFY from
 *                                          the caller name, new state)
 *   null                                   null=ok  (NLM NULL)
 *   hold SECONDS|until-signal              hold=done|signal (at most 3600 s)
 *   wait-granted TIMEOUT_MS                granted=callback | timeout | none
 *                                          (none: no lock is blocked)
 *   loop SECONDS OFF LEN [x|s]             lock+unlock pairs as fast as the
 *                                          server answers: loop_pairs=
 *                                          loop_p50_us= loop_p99_us= ...
 * Every answer line also carries ms= (milliseconds the command took,
 * retransmissions included).  LEN 0 means "to the end of the file".
 *
 * A GRANTED callback (the server's answer to a blocked lock) needs -c
 * PORT: the tool then serves a minimal portmapper on PORT and an NLM
 * listener for it (nlmtool_cb.c); a callback matching the blocked lock
 * is answered NLM4_GRANTED and recorded, any other NLM4_DENIED.
 *
 * Retransmission: a call not answered within -t ms (default 2000) is sent
 * again with the same xid on a fresh connection (the port looked up
 * again), until -T ms (default 20000) have passed; then the command fails.
 * Exit status: 0 when every command was answered and every answer was
 * granted (a blocked lock counts once its callback came), 1 when an
 * answer was something else (denied, grace, a callback that never came),
 * 2 when a call got no answer at all or the arguments are wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <nfsc/libnfs-raw-nlm.h>
#include <nfsc/libnfs-raw-nsm.h>
#include <nfsc/libnfs-raw-portmap.h>

#include "nlmtool.h"
#include "rpc_raw.h"

#define NLM_FREE_ALL	23

/* ---- options and state -------------------------------------------------- */

static const char *server, *export_path, *file_path;
static int	 pmap_port = 111, nlm_port, nsm_port, mnt_port, nfs_port;
static int	 try_ms = 2000, total_ms = 20000, cb_port;
static char	 caller[NLM_MAXNAME];
static char	 oh[64];
unsigned	 svid;
static int	 nsm_state = 1;
static const char *lat_file;
static const char *fh_hex;		/* -F: this handle, no MOUNT/LOOKUP */

char		 fh[128];		/* the file's NFS v3 handle */
u_int		 fhlen;
static uint32_t	 next_xid;

static volatile sig_atomic_t got_signal;

struct nlm_blocked blk;

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: nlmtool [-p pmap-port] [-P nlm-port] [-Q nsm-port] [-m mount-port]\n"
"               [-N nfs-port] [-n caller-name] [-s svid] [-o owner]\n"
"               [-S nsm-state] [-c callback-pmap-port] [-t try-ms]\n"
"               [-T total-ms] [-L latency-file] [-F fh-hex]\n"
"               SERVER EXPORT PATH CMD...\n"
"commands: lock OFF LEN [x|s] [block] [reclaim] | unlock OFF LEN |\n"
"          test OFF LEN [x|s] | cancel OFF LEN [x|s] | free-all |\n"
"          notify STATE | null | hold SECONDS|until-signal |\n"
"          wait-granted TIMEOUT_MS | loop SECONDS OFF LEN [x|s]\n");
	exit(2);
}

/* ---- calls through libnfs ------------------------------------------------ */

struct call {
	int		done;
	int		status;		/* RPC_STATUS_* */
	int		proc;		/* what the callback decodes */
	int		stat;		/* nlmstat4, port, mount/nfs status */
	nlm4_holder	holder;		/* TEST: the conflicting lock */
	char		fh[128];	/* MNT, LOOKUP, CREATE: a handle */
	u_int		fhlen;
};

enum { C_CONNECT, C_GETPORT, C_NLM, C_TEST, C_MNT, C_LOOKUP, C_CREATE,
    C_VOID };

static void
copy_fh(struct call *c, const char *p, u_int len)
{
	if (len > sizeof(c->fh)) {
		c->stat = -1;
		return;
	}
	memcpy(c->fh, p, len);
	c->fhlen = len;
}

static void
call_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct call *c = priv;

	(void)rpc;
	c->done = 1;
	c->status = status;
	if (status != RPC_STATUS_SUCCESS || data == NULL)
		return;
	switch (c->proc) {
	case C_GETPORT:
		c->stat = (int)*(uint32_t *)data;
		break;
	case C_NLM:		/* LOCK, UNLOCK, CANCEL res: cookie, stat */
		c->stat = ((NLM4_LOCKres *)data)->status;
		break;
	case C_TEST: {
		NLM4_TESTres *r = data;

		c->stat = r->reply.status;
		if (c->stat == NLM4_DENIED) {
			c->holder = r->reply.nlm4_testreply_u.lock.holder;
			c->holder.oh = NULL;
		}
		break;
	}
	case C_MNT: {
		mountres3 *r = data;

		c->stat = r->fhs_status;
		if (c->stat == 0)
			copy_fh(c, r->mountres3_u.mountinfo.fhandle.fhandle3_val,
			    r->mountres3_u.mountinfo.fhandle.fhandle3_len);
		break;
	}
	case C_LOOKUP: {
		LOOKUP3res *r = data;

		c->stat = r->status;
		if (c->stat == 0)
			copy_fh(c, r->LOOKUP3res_u.resok.object.data.data_val,
			    r->LOOKUP3res_u.resok.object.data.data_len);
		break;
	}
	case C_CREATE: {
		CREATE3res *r = data;

		c->stat = r->status;
		if (c->stat == 0 && r->CREATE3res_u.resok.obj.handle_follows)
			copy_fh(c, r->CREATE3res_u.resok.obj.post_op_fh3_u.
			    handle.data.data_val, r->CREATE3res_u.resok.obj.
			    post_op_fh3_u.handle.data.data_len);
		else if (c->stat == 0)
			c->stat = -1;	/* no handle: not supported here */
		break;
	}
	}
}

/* Drive rpc until c is done or ms pass; 0 done, -1 not (or broken). */
static int
call_wait(struct rpc_context *rpc, struct call *c, int ms)
{
	int64_t end = now_us() + (int64_t)ms * 1000;

	while (!c->done) {
		int64_t left = (end - now_us()) / 1000;
		int rev;

		if (left <= 0)
			return -1;
		rev = wait_fd(rpc_get_fd(rpc), rpc_which_events(rpc),
		    left > 100 ? 100 : (int)left);
		if (rpc_service(rpc, rev) < 0)
			return -1;
	}
	return c->status == RPC_STATUS_SUCCESS ? 0 : -1;
}

/* A connected context to server:port, or NULL after ms. */
static struct rpc_context *
dial(int port, int ms)
{
	struct rpc_context	*rpc;
	struct call		 c = { .proc = C_CONNECT };

	if ((rpc = rpc_init_context()) == NULL)
		return NULL;
	if (rpc_connect_async(rpc, server, port, call_cb, &c) != 0 ||
	    call_wait(rpc, &c, ms) != 0) {
		rpc_destroy_context(rpc);
		return NULL;
	}
	return rpc;
}

/* PMAP GETPORT(prog, vers, TCP) on the server's portmapper; 0 if none. */
static int
getport(int prog, int vers, int ms)
{
	struct rpc_context	*rpc;
	struct call		 c = { .proc = C_GETPORT };
	int			 port = 0;

	if ((rpc = dial(pmap_port, ms)) == NULL)
		return 0;
	if (rpc_pmap2_getport_async(rpc, prog, vers, IPPROTO_TCP, call_cb,
	    &c) == 0 && call_wait(rpc, &c, ms) == 0)
		port = c.stat;
	rpc_destroy_context(rpc);
	return port;
}

/* The NLM (or NSM) connection, redialled after a failure. */
static struct rpc_context *conn[2];
enum { K_NLM, K_NSM };

static void
conn_drop(int k)
{
	if (conn[k] != NULL)
		rpc_destroy_context(conn[k]);
	conn[k] = NULL;
}

/* Issue one call of kind k. */
typedef int (*send_fn)(struct rpc_context *, void *args, struct call *);

/*
 * Call with retransmission: every try_ms without an answer the
 * connection is dropped and the call sent again with the same xid, until
 * total_ms are over.  0 answered (c filled), -1 not.
 */
static int
call_retry(int k, send_fn send, void *args, struct call *c)
{
	int64_t		end = now_us() + (int64_t)total_ms * 1000;
	uint32_t	xid = next_xid++;
	int		proc = c->proc, tries = 0;

	for (;;) {
		int64_t left = (end - now_us()) / 1000;
		int	ms = left < try_ms ? (int)left : try_ms;

		if (left <= 0)
			return -1;
		if (conn[k] == NULL) {
			int port = k == K_NLM ? nlm_port : nsm_port;
			const char *what = k == K_NLM ? "NLM" : "NSM";

			if (port == 0)
				port = getport(k == K_NLM ? PROG_NLM : PROG_NSM,
				    k == K_NLM ? 4 : 1, ms);
			if (port == 0)
				fprintf(stderr, "nlmtool: no %s port from the "
				    "portmapper at %s:%d\n", what, server,
				    pmap_port);
			else if ((conn[k] = dial(port, ms)) == NULL)
				fprintf(stderr, "nlmtool: cannot connect to "
				    "%s at %s:%d\n", what, server, port);
			if (conn[k] == NULL) {
				/* not reachable yet: pause, do not spin */
				wait_fd(-1, 0, 200);
				continue;
			}
			left = (end - now_us()) / 1000;
			ms = left < try_ms ? (int)left : try_ms;
			if (ms <= 0)
				return -1;
		}
		if (tries++ > 0)
			fprintf(stderr, "nlmtool: sending xid %08x again "
			    "(try %d)\n", xid, tries);
		*c = (struct call){ .proc = proc };
		rpc_set_next_xid(conn[k], xid);
		if (send(conn[k], args, c) != 0 || call_wait(conn[k], c, ms)
		    != 0) {
			conn_drop(k);	/* cancels c's call: callback done */
			continue;
		}
		return 0;
	}
}

static int
send_lock(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nlm4_lock_async(r, call_cb, a, c);
}

static int
send_unlock(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nlm4_unlock_async(r, call_cb, a, c);
}

static int
send_test(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nlm4_test_async(r, call_cb, a, c);
}

static int
send_cancel(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nlm4_cancel_async(r, call_cb, a, c);
}

static int
send_null(struct rpc_context *r, void *a, struct call *c)
{
	(void)a;
	return rpc_nlm4_null_async(r, call_cb, c);
}

static int
send_notify(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nsm1_notify_async(r, call_cb, a, c);
}

/*
 * FREE_ALL (proc 23, args {name, state}, no result) has no libnfs
 * function: it goes out as a raw record on a connection of its own.
 */
static int
free_all(void)
{
	struct rr_msg	m = RR_MSG_INIT, in = RR_MSG_INIT;
	int64_t		end = now_us() + (int64_t)total_ms * 1000;
	int		fd = -1, rc = -1;
	uint32_t	xid = next_xid++;

	while (now_us() < end) {
		int port = nlm_port ? nlm_port : getport(PROG_NLM, 4, try_ms);

		if (port == 0 || (fd = rr_dial(NULL, 0, server, port)) < 0) {
			wait_fd(-1, 0, 200);
			continue;
		}
		rr_call(&m, xid, PROG_NLM, 4, NLM_FREE_ALL, NULL);
		rr_str(&m, caller);
		rr_u32(&m, (uint32_t)nsm_state);
		rc = rr_roundtrip(fd, &m, &in, 4096, try_ms, NULL, NULL) == 0 ?
		    0 : -1;
		close(fd);
		if (rc == 0)
			break;
	}
	rr_free(&m);
	rr_free(&in);
	return rc;
}

/* ---- finding the file handle --------------------------------------------- */

static int
send_mnt(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_mount3_mnt_async(r, call_cb, a, c);
}

static int
send_lookup(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nfs3_lookup_async(r, call_cb, a, c);
}

static int
send_create(struct rpc_context *r, void *a, struct call *c)
{
	return rpc_nfs3_create_async(r, call_cb, a, c);
}

/* One call on a fresh connection to port (0: from the portmapper). */
static int
call_once(int prog, int vers, int port, send_fn send, void *args,
    struct call *c)
{
	struct rpc_context	*rpc;
	int			 proc = c->proc, rc = -1;
	int64_t			 end = now_us() + (int64_t)total_ms * 1000;

	while (rc != 0 && now_us() < end) {
		int p = port ? port : getport(prog, vers, try_ms);

		if (p == 0 || (rpc = dial(p, try_ms)) == NULL) {
			wait_fd(-1, 0, 200);
			continue;
		}
		*c = (struct call){ .proc = proc };
		if (send(rpc, args, c) == 0)
			rc = call_wait(rpc, c, try_ms);
		rpc_destroy_context(rpc);
	}
	return rc;
}

/* MOUNT the export, LOOKUP each component of file_path, CREATE the last
 * one when missing.  0, or -1 with a message. */
static int
find_fh(void)
{
	struct call	 c = { .proc = C_MNT };
	char		 path[1024], exp[1024], *comp, *save = NULL;

	snprintf(exp, sizeof(exp), "%s", export_path);
	if (call_once(100005, 3, mnt_port, send_mnt, exp,
	    &c) != 0 || c.stat != 0) {
		fprintf(stderr, "nlmtool: MOUNT %s:%s failed (%s %d)\n",
		    server, export_path, c.done ? "status" : "no answer",
		    c.stat);
		return -1;
	}
	snprintf(path, sizeof(path), "%s", file_path);
	for (comp = strtok_r(path, "/", &save); comp != NULL;
	    comp = strtok_r(NULL, "/", &save)) {
		LOOKUP3args la = { { { { c.fhlen, c.fh } }, comp } };
		char dir[128];
		u_int dirlen = c.fhlen;

		memcpy(dir, c.fh, dirlen);
		la.what.dir.data.data_val = dir;
		c = (struct call){ .proc = C_LOOKUP };
		if (call_once(100003, 3, nfs_port, send_lookup, &la, &c) != 0) {
			fprintf(stderr, "nlmtool: LOOKUP %s: no answer\n", comp);
			return -1;
		}
		if (c.stat == NFS3ERR_NOENT) {
			CREATE3args ca;

			memset(&ca, 0, sizeof(ca));
			ca.where.dir.data.data_len = dirlen;
			ca.where.dir.data.data_val = dir;
			ca.where.name = comp;
			ca.how.mode = UNCHECKED;
			ca.how.createhow3_u.obj_attributes.mode.set_it = 1;
			ca.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode
			    = 0644;
			c = (struct call){ .proc = C_CREATE };
			if (call_once(100003, 3, nfs_port, send_create, &ca,
			    &c) != 0 || c.stat != 0) {
				fprintf(stderr, "nlmtool: CREATE %s failed "
				    "(status %d)\n", comp, c.stat);
				return -1;
			}
		} else if (c.stat != 0) {
			fprintf(stderr, "nlmtool: LOOKUP %s: status %d\n", comp,
			    c.stat);
			return -1;
		}
	}
	memcpy(fh, c.fh, c.fhlen);
	fhlen = c.fhlen;
	return 0;
}

/* ---- commands ------------------------------------------------------------ */

static const char *
stat_name(int s)
{
	static const char *names[] = { "granted", "denied", "denied_nolocks",
	    "blocked", "denied_grace_period", "deadlck", "rofs", "stale_fh",
	    "fbig", "failed" };
	static char buf[24];

	if (s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])))
		return names[s];
	snprintf(buf, sizeof(buf), "status_%d", s);
	return buf;
}

static uint64_t
num(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || *s == '-') {
		fprintf(stderr, "nlmtool: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

/* A duration in ms: 1 ms to 1 hour. */
static int
ms_arg(const char *s)
{
	uint64_t v = num(s);

	if (v == 0 || v > 3600000) {
		fprintf(stderr, "nlmtool: %s ms: want 1..3600000\n", s);
		exit(2);
	}
	return (int)v;
}

/* Seconds, fractions allowed: 0 (or more than 0 if positive) to 3600. */
static double
secs_arg(const char *s, int positive)
{
	char	*end;
	double	 v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0) || v > 3600 ||
	    (positive && v == 0)) {
		fprintf(stderr, "nlmtool: '%s' seconds: want %s..3600\n", s,
		    positive ? "more than 0" : "0");
		exit(2);
	}
	return v;
}

static int
port_arg(const char *s)
{
	uint64_t v = num(s);

	if (v == 0 || v > 65535) {
		fprintf(stderr, "nlmtool: port %s out of range\n", s);
		exit(2);
	}
	return (int)v;
}

static void
fill_lock(nlm4_lock *l, uint64_t off, uint64_t len)
{
	l->caller_name = caller;
	l->fh.data.data_len = fhlen;
	l->fh.data.data_val = fh;
	l->oh = oh;
	l->svid = svid;
	l->l_offset = off;
	l->l_len = len;
}

static uint64_t	cookie_seq;

static void
fill_cookie(nlm_cookie *ck, char *buf)
{
	uint64_t v = ++cookie_seq ^ ((uint64_t)svid << 32);

	memcpy(buf, &v, 8);
	ck->data.data_len = 8;
	ck->data.data_val = buf;
}

/* One LOCK (block, reclaim as asked); the nlmstat4, or -1: no answer. */
static int
do_lock(uint64_t off, uint64_t len, int excl, int block, int reclaim)
{
	NLM4_LOCKargs	a;
	struct call	c = { .proc = C_NLM };
	char		ck[8];

	memset(&a, 0, sizeof(a));
	fill_cookie(&a.cookie, ck);
	a.block = (uint32_t)block;
	a.exclusive = (uint32_t)excl;
	fill_lock(&a.lock, off, len);
	a.reclaim = (uint32_t)reclaim;
	a.state = nsm_state;
	if (block) {	/* a callback may come before the answer */
		blk.pending = 1;
		blk.granted = 0;
		blk.off = off;
		blk.len = len;
		blk.excl = excl;
		memcpy(blk.cookie, ck, 8);
	}
	if (call_retry(K_NLM, send_lock, &a, &c) != 0) {
		blk.pending = 0;	/* never queued as far as we know */
		return -1;
	}
	if (block && c.stat != NLM4_BLOCKED)
		blk.pending = 0;	/* settled by the answer itself */
	return c.stat;
}

static int
do_unlock(uint64_t off, uint64_t len)
{
	NLM4_UNLOCKargs	a;
	struct call	c = { .proc = C_NLM };
	char		ck[8];

	memset(&a, 0, sizeof(a));
	fill_cookie(&a.cookie, ck);
	fill_lock(&a.lock, off, len);
	return call_retry(K_NLM, send_unlock, &a, &c) == 0 ? c.stat : -1;
}

static int
parse_excl(int argc, char **argv, int i)
{
	if (i < argc && strcmp(argv[i], "s") == 0)
		return 0;
	return 1;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* loop SECS OFF LEN [x|s]: lock+unlock pairs for SECS seconds. */
static int
do_loop(double secs, uint64_t off, uint64_t len, int excl)
{
	int64_t		*lat = NULL, start = now_us(), end;
	size_t		 n = 0, cap = 0;
	long		 errors = 0;
	FILE		*lf = NULL;

	end = start + (int64_t)(secs * 1e6);
	while (now_us() < end && errors < 100) {
		int64_t t0 = now_us();
		int l = do_lock(off, len, excl, 0, 0);
		int u = l == NLM4_GRANTED ? do_unlock(off, len) : -1;

		if (l != NLM4_GRANTED || u != NLM4_GRANTED) {
			errors++;
			fprintf(stderr, "nlmtool: loop: lock %s unlock %s\n",
			    l < 0 ? "no answer" : stat_name(l),
			    u < 0 ? "-" : stat_name(u));
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((lat = realloc(lat, cap * sizeof(*lat))) == NULL) {
				perror("realloc");
				exit(2);
			}
		}
		lat[n++] = now_us() - t0;
	}
	double took = (double)(now_us() - start) / 1e6;

	if (lat_file != NULL && (lf = fopen(lat_file, "w")) == NULL)
		fprintf(stderr, "nlmtool: %s: %s\n", lat_file, strerror(errno));
	for (size_t i = 0; lf != NULL && i < n; i++)
		fprintf(lf, "%" PRId64 "\n", lat[i]);
	if (lf != NULL)
		fclose(lf);
	if (n > 0)
		qsort(lat, n, sizeof(*lat), cmp_i64);
	printf("loop_pairs=%zu loop_secs=%.3f loop_pairs_per_s=%.0f "
	    "loop_p50_us=%" PRId64 " loop_p99_us=%" PRId64 " loop_errors=%ld\n",
	    n, took, n / took, n ? lat[n / 2] : 0,
	    n ? lat[(n * 99) / 100] : 0, errors);
	free(lat);
	return errors == 0 && n > 0 ? 0 : 1;
}

/* Run the command at argv[*i]; advances *i.  0 granted/ok, 1 not, 2 no
 * answer. */
static int
run_cmd(int argc, char **argv, int *i)
{
	const char	*cmd = argv[(*i)++];
	int64_t		 t0 = now_us();
	int		 s, rc;

#define NEED(k) do { if (*i + (k) > argc) usage(); } while (0)
#define MS()	((long)((now_us() - t0) / 1000))
	if (strcmp(cmd, "lock") == 0) {
		uint64_t off, len;
		int excl = 1, block = 0, reclaim = 0;

		NEED(2);
		off = num(argv[(*i)++]);
		len = num(argv[(*i)++]);
		for (; *i < argc; (*i)++) {
			if (strcmp(argv[*i], "x") == 0)
				excl = 1;
			else if (strcmp(argv[*i], "s") == 0)
				excl = 0;
			else if (strcmp(argv[*i], "block") == 0)
				block = 1;
			else if (strcmp(argv[*i], "reclaim") == 0)
				reclaim = 1;
			else
				break;
		}
		if (block && cb_port == 0)
			fprintf(stderr, "nlmtool: a blocking lock without -c: "
			    "its GRANTED callback cannot reach us\n");
		s = do_lock(off, len, excl, block, reclaim);
		if (s < 0) {
			printf("lock=noanswer ms=%ld\n", MS());
			return 2;
		}
		printf("lock=%s ms=%ld\n", stat_name(s), MS());
		if (s == NLM4_BLOCKED && block)
			return 0;	/* judged by wait-granted / the end */
		return s == NLM4_GRANTED ? 0 : 1;
	}
	if (strcmp(cmd, "unlock") == 0) {
		uint64_t off, len;

		NEED(2);
		off = num(argv[(*i)++]);
		len = num(argv[(*i)++]);
		s = do_unlock(off, len);
		printf("unlock=%s ms=%ld\n", s < 0 ? "noanswer" : stat_name(s),
		    MS());
		return s < 0 ? 2 : s != NLM4_GRANTED;
	}
	if (strcmp(cmd, "test") == 0 || strcmp(cmd, "cancel") == 0) {
		int test = cmd[0] == 't';
		char ck[8];
		struct call c = { .proc = test ? C_TEST : C_NLM };
		NLM4_TESTargs ta;
		NLM4_CANCargs ca;
		uint64_t off, len;
		int excl;

		NEED(2);
		off = num(argv[(*i)++]);
		len = num(argv[(*i)++]);
		excl = parse_excl(argc, argv, *i);
		if (*i < argc && (strcmp(argv[*i], "x") == 0 ||
		    strcmp(argv[*i], "s") == 0))
			(*i)++;
		memset(&ta, 0, sizeof(ta));
		memset(&ca, 0, sizeof(ca));
		if (test) {
			fill_cookie(&ta.cookie, ck);
			ta.exclusive = (uint32_t)excl;
			fill_lock(&ta.lock, off, len);
			rc = call_retry(K_NLM, send_test, &ta, &c);
		} else {
			fill_cookie(&ca.cookie, ck);
			ca.block = 1;
			ca.exclusive = (uint32_t)excl;
			fill_lock(&ca.lock, off, len);
			rc = call_retry(K_NLM, send_cancel, &ca, &c);
			if (rc == 0)
				blk.pending = 0;	/* no longer wanted */
		}
		if (rc != 0) {
			printf("%s=noanswer ms=%ld\n", cmd, MS());
			return 2;
		}
		if (test && c.stat == NLM4_DENIED)
			printf("test=denied holder_svid=%u holder_excl=%u "
			    "holder_off=%" PRIu64 " holder_len=%" PRIu64
			    " ms=%ld\n", c.holder.svid, c.holder.exclusive,
			    c.holder.l_offset, c.holder.l_len, MS());
		else
			printf("%s=%s ms=%ld\n", cmd, stat_name(c.stat), MS());
		return c.stat != NLM4_GRANTED;
	}
	if (strcmp(cmd, "null") == 0) {
		struct call c = { .proc = C_VOID };

		rc = call_retry(K_NLM, send_null, NULL, &c);
		printf("null=%s ms=%ld\n", rc == 0 ? "ok" : "noanswer", MS());
		return rc == 0 ? 0 : 2;
	}
	if (strcmp(cmd, "free-all") == 0) {
		rc = free_all();
		printf("free_all=%s ms=%ld\n", rc == 0 ? "sent" : "noanswer",
		    MS());
		return rc == 0 ? 0 : 2;
	}
	if (strcmp(cmd, "notify") == 0) {
		struct call c = { .proc = C_VOID };
		NSM1_NOTIFYargs a;

		NEED(1);
		a.mon_name = caller;
		a.state = (int)num(argv[(*i)++]);
		rc = call_retry(K_NSM, send_notify, &a, &c);
		printf("notify=%s ms=%ld\n", rc == 0 ? "sent" : "noanswer",
		    MS());
		return rc == 0 ? 0 : 2;
	}
	if (strcmp(cmd, "hold") == 0) {
		double secs;
		int64_t end;

		NEED(1);
		if (strcmp(argv[*i], "until-signal") == 0)
			secs = 3600;
		else
			secs = secs_arg(argv[*i], 0);
		(*i)++;
		end = now_us() + (int64_t)(secs * 1e6);
		while (!got_signal && now_us() < end) {
			int64_t left = (end - now_us()) / 1000;

			wait_fd(-1, 0, left > 100 ? 100 : (int)left);
		}
		printf("hold=%s ms=%ld\n", got_signal ? "signal" : "done", MS());
		got_signal = 0;
		return 0;
	}
	if (strcmp(cmd, "wait-granted") == 0) {
		int64_t end;

		NEED(1);
		end = now_us() + (int64_t)num(argv[(*i)++]) * 1000;
		if (!blk.pending && !blk.granted) {
			printf("granted=none ms=0\n");	/* nothing blocked */
			return 1;
		}
		while (!blk.granted && now_us() < end) {
			int64_t left = (end - now_us()) / 1000;

			wait_fd(-1, 0, left > 100 ? 100 : (int)left);
		}
		printf("granted=%s ms=%ld\n", blk.granted ? "callback" :
		    "timeout", MS());
		rc = blk.granted ? 0 : 1;
		blk.granted = 0;
		return rc;
	}
	if (strcmp(cmd, "loop") == 0) {
		double secs;
		uint64_t off, len;

		NEED(3);
		secs = secs_arg(argv[(*i)++], 1);
		off = num(argv[(*i)++]);
		len = num(argv[(*i)++]);
		int excl = parse_excl(argc, argv, *i);
		if (*i < argc && (strcmp(argv[*i], "x") == 0 ||
		    strcmp(argv[*i], "s") == 0))
			(*i)++;
		return do_loop(secs, off, len, excl);
	}
	fprintf(stderr, "nlmtool: unknown command '%s'\n", cmd);
	usage();
	return 2;
#undef NEED
#undef MS
}

/* -F HEX: the file handle given as hex digits (to send a stale or forged
 * one); 0, or -1 with a message. */
static int
parse_fh_hex(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n % 2 != 0 || n / 2 > sizeof(fh)) {
		fprintf(stderr, "nlmtool: -F: want 2..%zu hex digits, even\n",
		    2 * sizeof(fh));
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1 ||
		    strchr("0123456789abcdefABCDEF", h[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", h[2 * i + 1]) == NULL) {
			fprintf(stderr, "nlmtool: -F: '%s' is not hex\n", h);
			return -1;
		}
		fh[i] = (char)v;
	}
	fhlen = (u_int)(n / 2);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	char	 host[64];
	int	 ch, i, rc = 0, r;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(caller, sizeof(caller), "%s", host);
	svid = (unsigned)getpid();
	while ((ch = getopt(argc, argv, "c:F:L:m:n:N:o:p:P:Q:s:S:t:T:")) != -1) {
		switch (ch) {
		case 'c': cb_port = port_arg(optarg); break;
		case 'F': fh_hex = optarg; break;
		case 'L': lat_file = optarg; break;
		case 'm': mnt_port = port_arg(optarg); break;
		case 'n':
			if (strlen(optarg) >= sizeof(caller) || !*optarg) {
				fprintf(stderr, "nlmtool: caller name must be "
				    "1..%zu bytes\n", sizeof(caller) - 1);
				return 2;
			}
			snprintf(caller, sizeof(caller), "%s", optarg);
			break;
		case 'N': nfs_port = port_arg(optarg); break;
		case 'o':
			if (strlen(optarg) >= sizeof(oh)) {
				fprintf(stderr, "nlmtool: owner too long\n");
				return 2;
			}
			snprintf(oh, sizeof(oh), "%s", optarg);
			break;
		case 'p': pmap_port = port_arg(optarg); break;
		case 'P': nlm_port = port_arg(optarg); break;
		case 'Q': nsm_port = port_arg(optarg); break;
		case 's': svid = (unsigned)num(optarg); break;
		case 'S': nsm_state = (int)num(optarg); break;
		case 't': try_ms = ms_arg(optarg); break;
		case 'T': total_ms = ms_arg(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 || try_ms <= 0 || total_ms <= 0)
		usage();
	server = argv[0];
	export_path = argv[1];
	file_path = argv[2];
	if (oh[0] == '\0')	/* the owner handle Linux uses: svid@host */
		snprintf(oh, sizeof(oh), "%u@%.40s", svid, caller);
	next_xid = (uint32_t)(now_us() ^ ((int64_t)getpid() << 16));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (cb_port != 0) {
		int p = cb_start(cb_port);

		if (p < 0)
			return 2;
		printf("callback_nlm_port=%d\n", p);
	}
	if (fh_hex != NULL ? parse_fh_hex(fh_hex) != 0 : find_fh() != 0)
		return 2;
	for (i = 3; i < argc;) {
		r = run_cmd(argc, argv, &i);
		if (r > rc)
			rc = r;
		if (got_signal && strcmp(argv[i - 1], "until-signal") != 0)
			break;
	}
	if (blk.pending) {
		printf("granted=never\n");
		if (rc == 0)
			rc = 1;
	}
	conn_drop(K_NLM);
	conn_drop(K_NSM);
	return rc;
}

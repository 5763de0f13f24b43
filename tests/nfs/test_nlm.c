/*
 * test_nlm.c — NLM v4 and NSM v1 of duonasd, procedure by procedure, as
 * a client sees them (run by tests/nfs/nlm.sh).
 *
 *   test_nlm all   IP PORT PMAPPORT EXPORT CBPORT CBLOG
 *   test_nlm grace IP PORT EXPORT
 *   test_nlm cbserver CBPORT CBLOG
 *   test_nlm bench IP PORT EXPORT N
 *
 * TEST, LOCK, CANCEL, UNLOCK, NULL and NSM STAT/NOTIFY go through
 * libnfs's raw client API (rpc_nlm4_*_async, rpc_nsm1_*_async); what
 * libnfs has no call for (SHARE, UNSHARE, FREE_ALL, the _MSG forms,
 * GRANTED, forged handles, a retransmission with the same xid, anything
 * over UDP) is encoded by hand with rpc_raw.h.  File handles come from
 * MOUNT and LOOKUP of the files "f1" and "f2" the script creates.
 *
 * "cbserver" is the client side the server calls back: a portmapper that
 * answers every GETPORT with its own port, and an NLM/NSM service on that
 * same port that appends one line per call to CBLOG ("PROG PROC COOKIE
 * SVID OFFSET LEN" for NLM, "100024 6 NAME STATE" for SM_NOTIFY) and
 * answers GRANTED with NLM4_GRANTED, or NLM4_DENIED while the file
 * CBLOG.refuse exists; the same port over UDP serves GETPORT and
 * SM_NOTIFY (logged with " udp"), and while CBLOG.nsm-udp-only exists
 * GETPORT of NSM over TCP answers 0 (a statd on UDP only).  "bench" times N LOCK + UNLOCK pairs on one
 * connection and prints nlm_lock_unlock_us_p50/p99 (on demand, not a
 * check).  Output: TAP lines; exit 1 when a check failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nlm.h>
#include <nfsc/libnfs-raw-nsm.h>

#include "tests/nfs/rpc_raw.h"

#define NLM_PROG	100021
#define NSM_PROG	100024

static int	ntest, nfail;
static int	call_ms = 8000;	/* wait this long for an NLM answer */
static const char *ip;
static int	port;

static void
ok(int cond, const char *what)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", ntest, what);
	fflush(stdout);
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- libnfs, synchronously ------------------------------------------- */

struct res {
	int		done, rpcst;
	uint32_t	stat;
	uint32_t	hsvid, hexcl;
	uint64_t	hoff, hlen;
};

static void
cb_stat(struct rpc_context *rpc, int st, void *data, void *priv)
{
	struct res *r = priv;

	(void)rpc;
	r->done = 1;
	r->rpcst = st;
	/* LOCK/CANCEL/UNLOCK res: cookie, status */
	if (st == RPC_STATUS_SUCCESS && data != NULL)
		r->stat = ((NLM4_LOCKres *)data)->status;
}

static void
cb_test(struct rpc_context *rpc, int st, void *data, void *priv)
{
	struct res	*r = priv;
	NLM4_TESTres	*t = data;

	(void)rpc;
	r->done = 1;
	r->rpcst = st;
	if (st != RPC_STATUS_SUCCESS || t == NULL)
		return;
	r->stat = t->reply.status;
	if (r->stat == NLM4_DENIED) {
		r->hsvid = t->reply.nlm4_testreply_u.lock.holder.svid;
		r->hexcl = t->reply.nlm4_testreply_u.lock.holder.exclusive;
		r->hoff = t->reply.nlm4_testreply_u.lock.holder.l_offset;
		r->hlen = t->reply.nlm4_testreply_u.lock.holder.l_len;
	}
}

static void
cb_nsm(struct rpc_context *rpc, int st, void *data, void *priv)
{
	struct res *r = priv;

	(void)rpc;
	r->done = 1;
	r->rpcst = st;
	if (st == RPC_STATUS_SUCCESS && data != NULL && r->stat == 1)
		r->stat = (uint32_t)((NSM1_STATres *)data)->state;
}

static void
cb_conn(struct rpc_context *rpc, int st, void *data, void *priv)
{
	(void)rpc; (void)data;
	((struct res *)priv)->done = 1;
	((struct res *)priv)->rpcst = st;
}

/* Wait up to ms for r; -1 (no answer: the server dropped the call, or
 * an RPC error), else r->stat. */
static long
lwait(struct rpc_context *rpc, struct res *r, int queued, int ms)
{
	if (queued != 0)
		return -1;
	for (int i = 0; i < ms / 10 && !r->done; i++) {
		struct pollfd p = { rpc_get_fd(rpc),
		    (short)rpc_which_events(rpc), 0 };

		if (poll(&p, 1, 10) < 0 || rpc_service(rpc, p.revents) < 0)
			return -1;
	}
	return r->done && r->rpcst == RPC_STATUS_SUCCESS ? (long)r->stat : -1;
}

static struct rpc_context *
lconnect(void)
{
	struct rpc_context	*rpc = rpc_init_context();
	struct res		 r = { 0 };

	if (rpc == NULL || lwait(rpc, &r, rpc_connect_async(rpc, ip, port,
	    cb_conn, &r), 5000) < 0) {
		fprintf(stderr, "cannot connect to %s:%d\n", ip, port);
		exit(1);
	}
	return rpc;
}

/* A lock description. */
struct lk {
	const char	*caller;
	const char	*oh;
	uint32_t	 svid;
	const uint8_t	*fh;
	uint32_t	 fhlen;
};

static void
mklock(nlm4_lock *l, const struct lk *k, uint64_t off, uint64_t len)
{
	memset(l, 0, sizeof(*l));
	l->caller_name = (char *)(uintptr_t)k->caller;
	l->fh.data.data_len = k->fhlen;
	l->fh.data.data_val = (char *)(uintptr_t)k->fh;
	l->oh = (char *)(uintptr_t)k->oh;
	l->svid = k->svid;
	l->l_offset = off;
	l->l_len = len;
}

static char	cookie[8] = "ck-0001";

static long
nlm_lock(struct rpc_context *rpc, const struct lk *k, uint64_t off,
    uint64_t len, int excl, int block, int reclaim)
{
	NLM4_LOCKargs	a;
	struct res	r = { 0 };

	memset(&a, 0, sizeof(a));
	a.cookie.data.data_len = sizeof(cookie);
	a.cookie.data.data_val = cookie;
	a.block = block;
	a.exclusive = excl;
	a.reclaim = reclaim;
	a.state = 1;
	mklock(&a.lock, k, off, len);
	return lwait(rpc, &r, rpc_nlm4_lock_async(rpc, cb_stat, &a, &r),
	    call_ms);
}

static long
nlm_unlock(struct rpc_context *rpc, const struct lk *k, uint64_t off,
    uint64_t len)
{
	NLM4_UNLOCKargs	a;
	struct res	r = { 0 };

	memset(&a, 0, sizeof(a));
	a.cookie.data.data_len = sizeof(cookie);
	a.cookie.data.data_val = cookie;
	mklock(&a.lock, k, off, len);
	return lwait(rpc, &r, rpc_nlm4_unlock_async(rpc, cb_stat, &a, &r),
	    call_ms);
}

static long
nlm_cancel(struct rpc_context *rpc, const struct lk *k, uint64_t off,
    uint64_t len, int excl)
{
	NLM4_CANCargs	a;
	struct res	r = { 0 };

	memset(&a, 0, sizeof(a));
	a.cookie.data.data_len = sizeof(cookie);
	a.cookie.data.data_val = cookie;
	a.block = 1;
	a.exclusive = excl;
	mklock(&a.lock, k, off, len);
	return lwait(rpc, &r, rpc_nlm4_cancel_async(rpc, cb_stat, &a, &r),
	    call_ms);
}

static long
nlm_test(struct rpc_context *rpc, const struct lk *k, uint64_t off,
    uint64_t len, int excl, struct res *r)
{
	NLM4_TESTargs a;

	memset(&a, 0, sizeof(a));
	memset(r, 0, sizeof(*r));
	a.cookie.data.data_len = sizeof(cookie);
	a.cookie.data.data_val = cookie;
	a.exclusive = excl;
	mklock(&a.lock, k, off, len);
	return lwait(rpc, r, rpc_nlm4_test_async(rpc, cb_test, &a, r),
	    call_ms);
}

/* ---- raw calls ----------------------------------------------------------- */

static uint32_t xid0 = 0x4e4c0000;
static const char *udp_src;	/* udp_call() from here (NULL: any) */

/* One raw call on a new connection from 127.0.0.1; returns the accept
 * stat (>= 0) with the result in res (cap bytes), or -1. */
static long
raw_call(uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc,
    const struct rr_msg *args, uint8_t *res, size_t cap, size_t *rlen)
{
	struct rr_msg	m = RR_MSG_INIT, in = RR_MSG_INIT;
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	long		 st;
	int		 fd;

	if ((fd = rr_dial("127.0.0.1", 0, ip, port)) < 0)
		return -1;
	rr_call(&m, xid != 0 ? xid : ++xid0, prog, vers, proc, NULL);
	if (args->n > 0) {
		rr_reserve(&m, args->n);
		memcpy(m.b + m.n, args->b, args->n);
		m.n += args->n;
	}
	st = rr_roundtrip(fd, &m, &in, 65536, 5000, &p, &n);
	if (st >= 0 && res != NULL) {
		*rlen = n < cap ? n : cap;
		memcpy(res, p, *rlen);
	}
	close(fd);
	rr_free(&m);
	rr_free(&in);
	return st;
}

static void
rr_lock(struct rr_msg *m, const struct lk *k, const uint8_t *fh,
    uint32_t fhlen, uint64_t off, uint64_t len)
{
	rr_str(m, k->caller);
	rr_opaque(m, fh, fhlen);
	rr_str(m, k->oh);
	rr_u32(m, k->svid);
	rr_u64(m, off);
	rr_u64(m, len);
}

/* NLM LOCK by hand (xid chosen, handle given): the status, or -1. */
static long
raw_lock_b(uint32_t xid, uint32_t proc, const struct lk *k, const uint8_t *fh,
    uint32_t fhlen, uint64_t off, uint64_t len, int block, const char *ck)
{
	struct rr_msg	a = RR_MSG_INIT;
	uint8_t		res[256];
	size_t		n = 0;
	long		st;

	rr_opaque(&a, ck, (uint32_t)strlen(ck));
	rr_u32(&a, (uint32_t)block);
	rr_u32(&a, 1);			/* exclusive */
	rr_lock(&a, k, fh, fhlen, off, len);
	rr_u32(&a, 0);			/* reclaim */
	rr_u32(&a, 1);			/* state */
	st = raw_call(xid, NLM_PROG, 4, proc, &a, res, sizeof(res), &n);
	rr_free(&a);
	if (st != 0)
		return -1;
	if (proc == 7)			/* LOCK_MSG: an empty reply */
		return n == 0 ? 0 : -1;
	return n >= 12 ? (long)rr_get32(res + 4 + ((rr_get32(res) + 3) & ~3u))
	    : -1;
}

static long
raw_lock(uint32_t xid, uint32_t proc, const struct lk *k, const uint8_t *fh,
    uint32_t fhlen, uint64_t off, uint64_t len)
{
	return raw_lock_b(xid, proc, k, fh, fhlen, off, len, 0, "raw");
}

/* GRANTED_RES (15) of the client for a GRANTED_MSG: empty reply 0. */
static long
raw_granted_res(const char *ck, uint32_t stat)
{
	struct rr_msg	a = RR_MSG_INIT;
	size_t		n = 0;
	long		st;

	rr_opaque(&a, ck, (uint32_t)strlen(ck));
	rr_u32(&a, stat);
	st = raw_call(0, NLM_PROG, 4, 15, &a, NULL, 0, &n);
	rr_free(&a);
	return st;
}

/* SHARE (20) / UNSHARE (21): the status, or -1. */
static long
raw_share(uint32_t proc, const struct lk *k, uint32_t mode, uint32_t access)
{
	struct rr_msg	a = RR_MSG_INIT;
	uint8_t		res[256];
	size_t		n = 0;
	long		st;

	rr_opaque(&a, "sh", 2);
	rr_str(&a, k->caller);
	rr_opaque(&a, k->fh, k->fhlen);
	rr_str(&a, k->oh);
	rr_u32(&a, mode);
	rr_u32(&a, access);
	rr_u32(&a, 0);			/* reclaim */
	st = raw_call(0, NLM_PROG, 4, proc, &a, res, sizeof(res), &n);
	rr_free(&a);
	/* cookie "sh": 4 + 4, stat, sequence */
	return st == 0 && n >= 16 ? (long)rr_get32(res + 8) : -1;
}

static long
raw_free_all(const char *name)
{
	struct rr_msg	a = RR_MSG_INIT;
	size_t		n = 0;
	long		st;

	rr_str(&a, name);
	rr_u32(&a, 3);
	st = raw_call(0, NLM_PROG, 4, 23, &a, NULL, 0, &n);
	rr_free(&a);
	return st;
}

/* GRANTED from a "client": the status, or -1. */
static long
raw_granted(const struct lk *k)
{
	struct rr_msg	a = RR_MSG_INIT;
	uint8_t		res[64];
	size_t		n = 0;
	long		st;

	rr_opaque(&a, "gr", 2);
	rr_u32(&a, 1);
	rr_lock(&a, k, k->fh, k->fhlen, 0, 10);
	st = raw_call(0, NLM_PROG, 4, 5, &a, res, sizeof(res), &n);
	rr_free(&a);
	return st == 0 && n >= 12 ? (long)rr_get32(res + 8) : -1;
}

/* TEST_MSG: the empty reply (0) or -1. */
static long
raw_test_msg(const struct lk *k, uint64_t off, uint64_t len)
{
	struct rr_msg	a = RR_MSG_INIT;
	size_t		n = 99;
	uint8_t		res[8];
	long		st;

	rr_opaque(&a, "tmsg", 4);
	rr_u32(&a, 1);
	rr_lock(&a, k, k->fh, k->fhlen, off, len);
	st = raw_call(0, NLM_PROG, 4, 6, &a, res, sizeof(res), &n);
	rr_free(&a);
	return st == 0 && n == 0 ? 0 : -1;
}

/* A portmapper GETPORT over TCP. */
static long
pmap_getport(int pmport, uint32_t prog, uint32_t vers, uint32_t prot)
{
	struct rr_msg	m = RR_MSG_INIT, in = RR_MSG_INIT;
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	long		 st, v = -1;
	int		 fd;

	if ((fd = rr_dial("127.0.0.1", 0, ip, pmport)) < 0)
		return -1;
	rr_call(&m, ++xid0, 100000, 2, 3, NULL);
	rr_u32(&m, prog);
	rr_u32(&m, vers);
	rr_u32(&m, prot);
	rr_u32(&m, 0);
	st = rr_roundtrip(fd, &m, &in, 4096, 5000, &p, &n);
	if (st == 0 && n >= 4)
		v = rr_get32(p);
	close(fd);
	rr_free(&m);
	rr_free(&in);
	return v;
}

/* One call over UDP to (ip, uport); returns the accept stat and the
 * result (first word in *w), or -1. */
static long
udp_call(int uport, uint32_t prog, uint32_t vers, uint32_t proc,
    const struct rr_msg *args, uint32_t *w, size_t *rlen)
{
	struct rr_msg		m = RR_MSG_INIT;
	struct sockaddr_in	sa;
	uint8_t			buf[2048];
	ssize_t			k;
	long			st = -1;
	int			fd;
	struct pollfd		pfd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (udp_src != NULL && (inet_pton(AF_INET, udp_src,
	    &sa.sin_addr) != 1 || bind(fd, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)) {
		close(fd);
		return -1;
	}
	sa.sin_port = htons((uint16_t)uport);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	rr_call(&m, ++xid0, prog, vers, proc, NULL);
	if (args != NULL && args->n > 0) {
		rr_reserve(&m, args->n);
		memcpy(m.b + m.n, args->b, args->n);
		m.n += args->n;
	}
	/* a datagram has no record marker */
	if (sendto(fd, m.b + 4, m.n - 4, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) <= 0)
		goto out;
	k = recv(fd, buf, sizeof(buf), 0);
	if (k < 24 || rr_get32(buf) != xid0 || rr_get32(buf + 4) != 1 ||
	    rr_get32(buf + 8) != 0)
		goto out;
	st = rr_get32(buf + 20);
	if (rlen != NULL)
		*rlen = (size_t)k - 24;
	if (w != NULL && k >= 28)
		*w = rr_get32(buf + 24);
out:
	close(fd);
	rr_free(&m);
	return st;
}

/* ---- handles ------------------------------------------------------------ */

static int
get_fh(const char *export, const char *name, uint8_t *fh, uint32_t *fhlen)
{
	struct rr_msg	a = RR_MSG_INIT;
	uint8_t		res[256], root[64];
	size_t		n = 0;
	uint32_t	rlen;
	long		st;

	rr_str(&a, export);
	st = raw_call(0, 100005, 3, 1, &a, res, sizeof(res), &n);
	rr_free(&a);
	if (st != 0 || n < 8 || rr_get32(res) != 0 ||
	    (rlen = rr_get32(res + 4)) > 64 || n < 8 + rlen)
		return -1;
	memcpy(root, res + 8, rlen);
	rr_opaque(&a, root, rlen);
	rr_str(&a, name);
	st = raw_call(0, 100003, 3, 3, &a, res, sizeof(res), &n);
	rr_free(&a);
	if (st != 0 || n < 8 || rr_get32(res) != 0 ||
	    (*fhlen = rr_get32(res + 4)) > 64 || n < 8 + *fhlen)
		return -1;
	memcpy(fh, res + 8, *fhlen);
	return 0;
}

/* ---- the callback side ------------------------------------------------- */

static int
cb_find(const char *log, const char *needle, int ms)
{
	char	line[512];
	FILE	*f;

	for (int i = 0; i <= ms / 50; i++) {
		if ((f = fopen(log, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strstr(line, needle) != NULL) {
					fclose(f);
					return 1;
				}
			fclose(f);
		}
		if (i < ms / 50)
			msleep(50);
	}
	return 0;
}

static void
hexs(char *d, const uint8_t *p, uint32_t n)
{
	*d = 0;
	for (uint32_t i = 0; i < n && i < 64; i++)
		sprintf(d + 2 * i, "%02x", p[i]);
	if (n == 0)
		strcpy(d, "-");
}

/* One call (p, n bytes, no record marker) to the cbserver: log it, and
 * put the reply (with a record marker) in out.  0, or -1 (no reply). */
static int
cb_handle(const uint8_t *p, size_t n, int udp, int myport, const char *log,
    struct rr_msg *out)
{
	const uint8_t	*e = p + n;
	uint32_t	 xid, prog, proc, len, st = 0;
	char		 line[512], hex[160], refuse[600], udponly[600];
	FILE		*f;

	if (e - p < 40)
		return -1;
	xid = rr_get32(p);
	prog = rr_get32(p + 12);
	proc = rr_get32(p + 20);
	p += 24;
	len = rr_get32(p + 4);			/* credential */
	p += 8 + ((len + 3) & ~3u);
	if (e - p < 8)
		return -1;
	len = rr_get32(p + 4);			/* verifier */
	p += 8 + ((len + 3) & ~3u);
	out->n = 0;
	rr_u32(out, 0);
	rr_u32(out, xid);
	rr_u32(out, 1);
	rr_u32(out, 0);
	rr_u32(out, 0);
	rr_u32(out, 0);
	rr_u32(out, 0);			/* SUCCESS */
	line[0] = 0;
	snprintf(udponly, sizeof(udponly), "%s.nsm-udp-only", log);
	if (prog == 100000) {			/* GETPORT: ours */
		/* a statd on UDP only, when the test asks for one */
		if (e - p >= 12 && rr_get32(p) == NSM_PROG &&
		    rr_get32(p + 8) == 6 && access(udponly, F_OK) == 0)
			rr_u32(out, 0);
		else
			rr_u32(out, (uint32_t)myport);
	} else if (prog == NSM_PROG && proc == 6 && e - p >= 4) {
		len = rr_get32(p);
		if (len > 100 || e - p < 8 + (long)((len + 3) & ~3u))
			return -1;
		snprintf(line, sizeof(line), "%u %u %.*s %u%s\n", prog, proc,
		    (int)len, (const char *)p + 4,
		    rr_get32(p + 4 + ((len + 3) & ~3u)), udp ? " udp" : "");
	} else if (prog == NLM_PROG && e - p >= 4) {
		len = rr_get32(p);		/* cookie */
		if (len > 64 || e - p < 4 + (long)((len + 3) & ~3u))
			return -1;
		hexs(hex, p + 4, len);
		snprintf(refuse, sizeof(refuse), "%s.refuse", log);
		if (proc == 5 || proc == 10) {	/* GRANTED: cookie, excl,
						 * caller, fh, oh, svid, .. */
			const uint8_t *q = p + 4 + ((len + 3) & ~3u) + 4;

			for (int i = 0; i < 3 && e - q >= 4; i++)
				q += 4 + ((rr_get32(q) + 3) & ~3u);
			if (e - q < 20)
				return -1;
			snprintf(line, sizeof(line), "%u %u %s %u %llu %llu\n",
			    prog, proc, hex, rr_get32(q),
			    (unsigned long long)rr_get32(q + 4) << 32 |
			    rr_get32(q + 8),
			    (unsigned long long)rr_get32(q + 12) << 32 |
			    rr_get32(q + 16));
			st = access(refuse, F_OK) == 0 ? NLM4_DENIED :
			    NLM4_GRANTED;
		} else {			/* *_RES: cookie, stat */
			snprintf(line, sizeof(line), "%u %u %s %u\n", prog,
			    proc, hex, e - p >= (long)(8 + ((len + 3) & ~3u)) ?
			    rr_get32(p + 4 + ((len + 3) & ~3u)) : 99);
		}
		if (proc == 5) {
			rr_opaque(out, p + 4, len);
			rr_u32(out, st);
		}
	}
	if (line[0] != 0 && (f = fopen(log, "a")) != NULL) {
		fputs(line, f);
		fclose(f);
	}
	rr_finish(out);
	return 0;
}

/* One call on a cbserver connection. */
static int
cb_one(int fd, int myport, const char *log)
{
	struct rr_msg	 in = RR_MSG_INIT, out = RR_MSG_INIT;
	ssize_t		 n;
	int		 rv = -1;

	if ((n = rr_reply(fd, &in, 65536, 30000)) > 4 &&
	    cb_handle(in.b + 4, (size_t)n - 4, 0, myport, log, &out) == 0) {
		rr_send(fd, out.b, out.n);
		rv = 0;
	}
	rr_free(&in);
	rr_free(&out);
	return rv;
}

/* One datagram on the cbserver's UDP socket. */
static void
cb_dgram(int ufd, int myport, const char *log)
{
	struct rr_msg		out = RR_MSG_INIT;
	struct sockaddr_in	from;
	socklen_t		fl = sizeof(from);
	uint8_t			b[8192];
	ssize_t			n;

	n = recvfrom(ufd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	if (n > 0 && cb_handle(b, (size_t)n, 1, myport, log, &out) == 0)
		sendto(ufd, out.b + 4, out.n - 4, 0, (struct sockaddr *)&from,
		    fl);
	rr_free(&out);
}

static int
cbserver(int cbport, const char *log)
{
	struct sockaddr_in	sa;
	struct pollfd		pfd[2];
	int			lfd, ufd, fd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cbport);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0 ||
	    bind(ufd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("cbserver: bind");
		return 1;
	}
	/* one connection at a time: the server's calls are short; the
	 * test kills this process */
	for (int k = 0; k < 100000; k++) {
		pfd[0].fd = lfd;
		pfd[1].fd = ufd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			cb_dgram(ufd, cbport, log);
		if (!(pfd[0].revents & POLLIN) ||
		    (fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		for (int i = 0; i < 100 && cb_one(fd, cbport, log) == 0; i++)
			;
		close(fd);
	}
	return 0;
}

/* ---- the tests -------------------------------------------------------- */

static int
grace(const char *export)
{
	struct rpc_context	*rpc;
	struct res		 r;
	uint8_t			 fh[64];
	uint32_t		 fhlen;
	struct lk		 a = { "graceA", "ohA", 11, NULL, 0 };
	struct lk		 b = { "graceB", "ohB", 12, NULL, 0 };
	long			 st = -1;

	if (get_fh(export, "f1", fh, &fhlen) < 0) {
		ok(0, "handle of f1");
		return 1;
	}
	a.fh = b.fh = fh;
	a.fhlen = b.fhlen = fhlen;
	rpc = lconnect();
	/* the lock table may not answer for a moment after the start (it
	 * drops calls while it is not ready): ask until it does */
	call_ms = 500;
	for (int i = 0; i < 20 && nlm_test(rpc, &b, 0, 10, 1, &r) < 0; i++)
		;
	call_ms = 8000;
	ok(nlm_lock(rpc, &b, 500, 10, 1, 0, 0) == NLM4_DENIED_GRACE_PERIOD,
	    "grace: a new lock is refused with DENIED_GRACE_PERIOD");
	ok(nlm_test(rpc, &b, 0, 10, 1, &r) == NLM4_DENIED_GRACE_PERIOD,
	    "grace: TEST answers DENIED_GRACE_PERIOD");
	ok(nlm_lock(rpc, &a, 0, 100, 1, 0, 1) == NLM4_GRANTED,
	    "grace: a reclaim is granted");
	/* the grace period ends (2 s in the test configuration) */
	for (int i = 0; i < 100; i++) {
		st = nlm_lock(rpc, &b, 500, 10, 1, 0, 0);
		if (st != NLM4_DENIED_GRACE_PERIOD)
			break;
		msleep(200);
	}
	ok(st == NLM4_GRANTED, "after the grace: new locks are granted");
	ok(nlm_lock(rpc, &b, 50, 10, 1, 0, 0) == NLM4_DENIED,
	    "after the grace: the reclaimed lock still holds");
	nlm_unlock(rpc, &a, 0, 0);
	nlm_unlock(rpc, &b, 0, 0);
	rpc_destroy_context(rpc);
	return nfail > 0;
}

static int
all(const char *export, int pmport, const char *cblog)
{
	struct rpc_context	*rpc;
	struct res		 r = { 0 };
	struct rr_msg		 m = RR_MSG_INIT;
	uint8_t			 fh[64], fh2[64], bad[64];
	uint32_t		 fhlen, fh2len, w = 0;
	char			 longname[300], longoh[200], needle[128];
	struct lk		 A = { "clientA", "ohA", 1, NULL, 0 };
	struct lk		 B = { "clientB", "ohB", 2, NULL, 0 };
	struct lk		 C = { "clientC", "ohC", 3, NULL, 0 };
	struct lk		 A2, B2, L;
	long			 st;

	if (get_fh(export, "f1", fh, &fhlen) < 0 ||
	    get_fh(export, "f2", fh2, &fh2len) < 0) {
		ok(0, "handles of f1 and f2");
		return 1;
	}
	A.fh = B.fh = C.fh = fh;
	A.fhlen = B.fhlen = C.fhlen = fhlen;
	A2 = A;
	B2 = B;
	A2.fh = B2.fh = fh2;
	A2.fhlen = B2.fhlen = fh2len;
	rpc = lconnect();

	ok(lwait(rpc, &r, rpc_nlm4_null_async(rpc, cb_stat, &r), 5000) == 0,
	    "NLM NULL");
	if (pmport > 0) {
		ok(pmap_getport(pmport, NLM_PROG, 4, 6) == port,
		    "portmapper GETPORT NLM v4 TCP: the NFS port");
		ok(pmap_getport(pmport, NSM_PROG, 1, 6) == port,
		    "portmapper GETPORT NSM v1 TCP: the NFS port");
		rr_u32(&m, NSM_PROG);
		rr_u32(&m, 1);
		rr_u32(&m, 17);
		rr_u32(&m, 0);
		ok(udp_call(pmport, 100000, 2, 3, &m, &w, NULL) == 0 &&
		    w == (uint32_t)port,
		    "portmapper over UDP: GETPORT NSM v1 UDP");
		rr_free(&m);
	}

	/* conflicts, holders */
	ok(nlm_lock(rpc, &A, 0, 100, 1, 0, 0) == NLM4_GRANTED,
	    "LOCK: A takes [0,100) exclusive");
	ok(nlm_lock(rpc, &A, 0, 100, 1, 0, 0) == NLM4_GRANTED,
	    "LOCK: A again: still granted");
	ok(nlm_test(rpc, &B, 50, 10, 1, &r) == NLM4_DENIED && r.hsvid == 1 &&
	    r.hoff == 0 && r.hlen == 100 && r.hexcl,
	    "TEST: B sees A's lock as the holder (svid, range, exclusive)");
	ok(nlm_lock(rpc, &B, 50, 10, 1, 0, 0) == NLM4_DENIED,
	    "LOCK: B in conflict is DENIED");
	ok(nlm_lock(rpc, &B, 100, 10, 1, 0, 0) == NLM4_GRANTED,
	    "LOCK: B next to it is GRANTED");
	ok(nlm_unlock(rpc, &B, 100, 10) == NLM4_GRANTED, "UNLOCK: B");
	L = A;
	L.svid = 9;			/* same client, another process */
	ok(nlm_lock(rpc, &L, 10, 1, 1, 0, 0) == NLM4_DENIED,
	    "LOCK: another svid of the same client conflicts");

	/* POSIX splitting and merging */
	ok(nlm_unlock(rpc, &A, 40, 20) == NLM4_GRANTED,
	    "UNLOCK the middle [40,60) of A's range");
	ok(nlm_test(rpc, &B, 45, 10, 1, &r) == NLM4_GRANTED,
	    "split: the hole is free");
	ok(nlm_test(rpc, &B, 30, 15, 1, &r) == NLM4_DENIED && r.hoff == 0 &&
	    r.hlen == 40, "split: the left part is [0,40)");
	ok(nlm_test(rpc, &B, 55, 10, 1, &r) == NLM4_DENIED && r.hoff == 60 &&
	    r.hlen == 40, "split: the right part is [60,100)");
	ok(nlm_lock(rpc, &A, 40, 20, 1, 0, 0) == NLM4_GRANTED,
	    "LOCK the hole again");
	ok(nlm_test(rpc, &B, 90, 20, 1, &r) == NLM4_DENIED && r.hoff == 0 &&
	    r.hlen == 100, "merge: one range [0,100) again");
	ok(nlm_unlock(rpc, &A, 0, 0) == NLM4_GRANTED,
	    "UNLOCK to the end of the file");
	ok(nlm_test(rpc, &B, 0, 0, 1, &r) == NLM4_GRANTED,
	    "everything free again");

	/* shared locks */
	ok(nlm_lock(rpc, &A2, 0, 0, 0, 0, 0) == NLM4_GRANTED &&
	    nlm_lock(rpc, &B2, 0, 0, 0, 0, 0) == NLM4_GRANTED,
	    "two shared locks on f2 coexist");
	ok(nlm_lock(rpc, &B2, 0, 10, 1, 0, 0) == NLM4_DENIED,
	    "an exclusive lock under another's shared lock is DENIED");
	ok(nlm_test(rpc, &A, 0, 10, 1, &r) == NLM4_GRANTED,
	    "a lock on f2 does not block f1");
	nlm_unlock(rpc, &A2, 0, 0);
	nlm_unlock(rpc, &B2, 0, 0);

	/* bad handles, bad owners */
	memcpy(bad, fh, fhlen);
	bad[fhlen - 1] ^= 0x55;
	ok(raw_lock(0, 2, &A, bad, fhlen, 0, 1) == NLM4_STALE_FH,
	    "a forged handle (MAC) is STALE_FH");
	ok(raw_lock(0, 2, &A, bad, 3, 0, 1) == NLM4_STALE_FH,
	    "a 3-byte handle is STALE_FH");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	L = A;
	L.caller = longname;
	ok(nlm_lock(rpc, &L, 0, 1, 1, 0, 0) == NLM4_FAILED,
	    "caller_name of 299 bytes is FAILED");
	memset(longoh, 'o', sizeof(longoh) - 1);
	longoh[sizeof(longoh) - 1] = 0;
	L = A;
	L.oh = longoh;
	ok(nlm_lock(rpc, &L, 0, 1, 1, 0, 0) == NLM4_FAILED,
	    "an owner handle of 199 bytes is FAILED");
	ok(raw_lock(0, 2, &A, fh, fhlen, UINT64_MAX - 5, 10) == NLM4_FAILED,
	    "a range past 2^64 is FAILED");
	ok(raw_granted(&A) == NLM4_DENIED, "GRANTED to the server: DENIED");

	/* a blocked lock, granted by the callback */
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks [0,10)");
	memcpy(cookie, "ck-blk1", 8);
	ok(nlm_lock(rpc, &B, 0, 10, 1, 1, 0) == NLM4_BLOCKED,
	    "B's blocking LOCK is BLOCKED");
	ok(nlm_lock(rpc, &B, 0, 10, 1, 1, 0) == NLM4_BLOCKED,
	    "asked again: still BLOCKED");
	ok(nlm_unlock(rpc, &A, 0, 10) == NLM4_GRANTED, "A unlocks");
	snprintf(needle, sizeof(needle), "100021 5 636b2d626c6b3100 2 0 10");
	ok(cb_find(cblog, needle, 8000),
	    "GRANTED callback to B with its cookie, svid and range");
	ok(nlm_test(rpc, &C, 5, 1, 1, &r) == NLM4_DENIED && r.hsvid == 2,
	    "B holds the granted lock");
	ok(nlm_unlock(rpc, &B, 0, 10) == NLM4_GRANTED, "B unlocks");

	/* cancel */
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks again");
	memcpy(cookie, "ck-can1", 8);
	ok(nlm_lock(rpc, &B, 0, 10, 1, 1, 0) == NLM4_BLOCKED, "B blocks");
	ok(nlm_cancel(rpc, &B, 0, 10, 1) == NLM4_GRANTED, "CANCEL B's wait");
	ok(nlm_cancel(rpc, &B, 0, 10, 1) == NLM4_DENIED,
	    "CANCEL again: no such waiter");
	ok(nlm_unlock(rpc, &A, 0, 10) == NLM4_GRANTED, "A unlocks");
	ok(nlm_lock(rpc, &C, 0, 10, 1, 0, 0) == NLM4_GRANTED,
	    "the cancelled waiter did not get the lock: C does");
	ok(!cb_find(cblog, "100021 5 636b2d63616e3100", 1000),
	    "no GRANTED for the cancelled waiter");
	nlm_unlock(rpc, &C, 0, 10);

	/* a grant the client refuses is released */
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks");
	memcpy(cookie, "ck-ref1", 8);
	ok(nlm_lock(rpc, &B, 0, 10, 1, 1, 0) == NLM4_BLOCKED, "B blocks");
	snprintf(needle, sizeof(needle), "%s.refuse", cblog);
	close(open(needle, O_CREAT | O_WRONLY, 0644));
	ok(nlm_unlock(rpc, &A, 0, 10) == NLM4_GRANTED, "A unlocks");
	ok(cb_find(cblog, "100021 5 636b2d72656631", 8000),
	    "GRANTED sent, the client refuses");
	st = -1;
	for (int i = 0; i < 40 && st != NLM4_GRANTED; i++) {
		if (i > 0)
			msleep(100);
		st = nlm_lock(rpc, &C, 0, 10, 1, 0, 0);
	}
	ok(st == NLM4_GRANTED, "the refused lock was released: C gets it");
	unlink(needle);
	nlm_unlock(rpc, &C, 0, 10);
	memcpy(cookie, "ck-0001", 8);

	/* _MSG forms: an empty reply, the result as a _RES call */
	ok(raw_lock(0, 7, &A, fh, fhlen, 200, 10) == 0,
	    "LOCK_MSG: an empty reply");
	ok(cb_find(cblog, "100021 12 726177 0", 8000),
	    "LOCK_RES with the cookie and GRANTED");
	ok(raw_test_msg(&B, 205, 1) == 0, "TEST_MSG: an empty reply");
	ok(cb_find(cblog, "100021 11 746d7367 1", 8000),
	    "TEST_RES with the cookie and DENIED");
	nlm_unlock(rpc, &A, 200, 10);
	/* a blocked LOCK_MSG is granted with GRANTED_MSG; a GRANTED_RES
	 * that refuses releases the lock */
	ok(nlm_lock(rpc, &A, 400, 10, 1, 0, 0) == NLM4_GRANTED, "A locks");
	ok(raw_lock_b(0, 7, &B, fh, fhlen, 400, 10, 1, "gmsg") == 0 &&
	    cb_find(cblog, "100021 12 676d7367 3", 8000),
	    "blocking LOCK_MSG: LOCK_RES says BLOCKED");
	ok(nlm_unlock(rpc, &A, 400, 10) == NLM4_GRANTED, "A unlocks");
	ok(cb_find(cblog, "100021 10 676d7367 2 400 10", 8000),
	    "GRANTED_MSG to B with its cookie");
	ok(nlm_test(rpc, &C, 400, 1, 1, &r) == NLM4_DENIED && r.hsvid == 2,
	    "B holds the lock");
	ok(raw_granted_res("gmsg", NLM4_DENIED) == 0,
	    "GRANTED_RES: B does not want it");
	st = -1;
	for (int i = 0; i < 40 && st != NLM4_GRANTED; i++) {
		if (i > 0)
			msleep(100);
		st = nlm_test(rpc, &C, 400, 1, 1, &r);
	}
	ok(st == NLM4_GRANTED, "the refused lock was released");

	/* the duplicate request cache: a retransmitted LOCK is answered,
	 * not executed again */
	ok(raw_lock(0x77770001, 2, &A, fh, fhlen, 300, 10) == NLM4_GRANTED,
	    "LOCK (xid 0x77770001) granted");
	ok(nlm_unlock(rpc, &A, 300, 10) == NLM4_GRANTED, "A unlocks");
	ok(nlm_lock(rpc, &B, 300, 10, 1, 0, 0) == NLM4_GRANTED, "B locks");
	ok(raw_lock(0x77770001, 2, &A, fh, fhlen, 300, 10) == NLM4_GRANTED,
	    "the retransmission gets the original answer");
	ok(nlm_test(rpc, &C, 300, 1, 1, &r) == NLM4_DENIED && r.hsvid == 2,
	    "and B still holds the range");
	nlm_unlock(rpc, &B, 300, 10);

	/* SHARE / UNSHARE (fsm_DW = 2: deny write; fsa_RW = 3) */
	ok(raw_share(20, &A2, 2, 3) == NLM4_GRANTED,
	    "SHARE: A opens f2 read-write, denying write");
	ok(raw_share(20, &B2, 0, 2) == NLM4_DENIED,
	    "SHARE: B's write access is DENIED");
	ok(raw_share(20, &B2, 0, 1) == NLM4_GRANTED,
	    "SHARE: B's read access is GRANTED");
	ok(raw_share(21, &A2, 0, 0) == NLM4_GRANTED, "UNSHARE: A");
	ok(raw_share(21, &B2, 0, 0) == NLM4_GRANTED, "UNSHARE: B");
	ok(raw_share(20, &C, 0, 2) == NLM4_GRANTED,
	    "SHARE: now write access is granted");
	raw_share(21, &C, 0, 0);

	/* FREE_ALL and SM_NOTIFY release a client's locks */
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks");
	ok(raw_free_all("clientA") == 0, "FREE_ALL clientA");
	ok(nlm_lock(rpc, &B, 0, 10, 1, 0, 0) == NLM4_GRANTED,
	    "A's lock is gone: B gets it");
	nlm_unlock(rpc, &B, 0, 10);
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks");
	{
		NSM1_NOTIFYargs	n = { (char *)(uintptr_t)"clientA", 3 };
		NSM1_STATargs	s = { (char *)(uintptr_t)"clientA" };

		memset(&r, 0, sizeof(r));
		ok(lwait(rpc, &r, rpc_nsm1_notify_async(rpc, cb_nsm, &n, &r),
		    5000) == 0, "SM_NOTIFY clientA over TCP");
		ok(nlm_lock(rpc, &B, 0, 10, 1, 0, 0) == NLM4_GRANTED,
		    "A's lock is gone: B gets it");
		nlm_unlock(rpc, &B, 0, 10);
		memset(&r, 0, sizeof(r));
		r.stat = 1;
		st = lwait(rpc, &r, rpc_nsm1_stat_async(rpc, cb_nsm, &s, &r),
		    5000);
		ok(st > 0 && (st & 1), "SM_STAT: our state is odd");
	}
	ok(nlm_lock(rpc, &A, 0, 10, 1, 0, 0) == NLM4_GRANTED, "A locks");
	rr_str(&m, "clientA");
	rr_u32(&m, 5);
	udp_src = "127.0.0.2";
	ok(udp_call(port, NSM_PROG, 1, 6, &m, NULL, NULL) == 0,
	    "SM_NOTIFY clientA over UDP from another address: answered");
	udp_src = NULL;
	ok(nlm_lock(rpc, &B, 0, 10, 1, 0, 0) == NLM4_DENIED,
	    "but ignored: A still holds its lock");
	ok(udp_call(port, NSM_PROG, 1, 6, &m, NULL, NULL) == 0,
	    "SM_NOTIFY clientA over UDP");
	rr_free(&m);
	ok(nlm_lock(rpc, &B, 0, 10, 1, 0, 0) == NLM4_GRANTED,
	    "A's lock is gone: B gets it");
	nlm_unlock(rpc, &B, 0, 10);
	rr_str(&m, "x");
	ok(udp_call(port, NSM_PROG, 1, 1, &m, &w, NULL) == 0 && (w == 0),
	    "SM_STAT over UDP");
	rr_free(&m);
	ok(udp_call(port, 100003, 3, 0, NULL, NULL, NULL) == 1,
	    "NFS over UDP: PROG_UNAVAIL");
	ok(udp_call(port, NLM_PROG, 4, 0, NULL, NULL, NULL) == 1,
	    "NLM over UDP: PROG_UNAVAIL");
	rr_u32(&m, 0xffffffffu);	/* a name longer than the datagram */
	ok(udp_call(port, NSM_PROG, 1, 6, &m, NULL, NULL) == 4,
	    "UDP: a bad length is GARBAGE_ARGS");
	rr_free(&m);
	ok(raw_call(0, NLM_PROG, 4, 17, &m, NULL, 0, NULL) == 3,
	    "NLM procedure 17 (not in v4): PROC_UNAVAIL");
	rr_u32(&m, 0x80000000u);	/* a cookie of 2^31 bytes */
	ok(raw_call(0, NLM_PROG, 4, 2, &m, NULL, 0, NULL) == 4,
	    "LOCK with a forged cookie length: GARBAGE_ARGS");
	rr_free(&m);
	rr_opaque(&m, "c", 1);
	rr_u32(&m, 0);
	rr_u32(&m, 1);
	rr_u32(&m, 2000);		/* caller_name past LM_MAXSTRLEN */
	ok(raw_call(0, NLM_PROG, 4, 2, &m, NULL, 0, NULL) == 4,
	    "LOCK with a caller_name length past the record: GARBAGE_ARGS");
	rr_free(&m);
	memset(&r, 0, sizeof(r));
	ok(lwait(rpc, &r, rpc_nlm4_null_async(rpc, cb_stat, &r), 5000) == 0,
	    "the server still answers");
	rpc_destroy_context(rpc);
	printf("1..%d\n", ntest);
	return nfail > 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
bench(const char *export, int n)
{
	struct rpc_context	*rpc;
	uint8_t			 fh[64];
	uint32_t		 fhlen;
	uint64_t		*lat, t0;
	struct lk		 a = { "benchA", "ohA", 21, NULL, 0 };

	if (n < 1 || n > 10000000 || get_fh(export, "f1", fh, &fhlen) < 0)
		return 1;
	a.fh = fh;
	a.fhlen = fhlen;
	rpc = lconnect();
	lat = calloc((size_t)n, sizeof(*lat));
	for (int i = 0; i < n; i++) {
		t0 = usec();
		if (nlm_lock(rpc, &a, 0, 1, 1, 0, 0) != NLM4_GRANTED ||
		    nlm_unlock(rpc, &a, 0, 1) != NLM4_GRANTED) {
			fprintf(stderr, "bench: call %d failed\n", i);
			return 1;
		}
		lat[i] = usec() - t0;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	printf("nlm_lock_unlock_us_p50 %llu\nnlm_lock_unlock_us_p99 %llu\n",
	    (unsigned long long)lat[n / 2],
	    (unsigned long long)lat[(size_t)n * 99 / 100]);
	free(lat);
	rpc_destroy_context(rpc);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "cbserver") == 0)
		return cbserver(atoi(argv[2]), argv[3]);
	if (argc == 5 && strcmp(argv[1], "grace") == 0) {
		ip = argv[2];
		port = atoi(argv[3]);
		return grace(argv[4]);
	}
	if (argc == 6 && strcmp(argv[1], "bench") == 0) {
		ip = argv[2];
		port = atoi(argv[3]);
		return bench(argv[4], atoi(argv[5]));
	}
	if (argc == 8 && strcmp(argv[1], "all") == 0) {
		ip = argv[2];
		port = atoi(argv[3]);
		return all(argv[5], atoi(argv[4]), argv[7]);
	}
	fprintf(stderr, "usage: test_nlm all IP PORT PMAPPORT EXPORT CBPORT "
	    "CBLOG | grace IP PORT EXPORT | cbserver CBPORT CBLOG | "
	    "bench IP PORT EXPORT N\n");
	return 2;
}

/*
 * tnc.c — synchronous NFSv3 test client over the libnfs raw RPC API, and
 * the record format of the failover tests.
 *
 * Every call runs its own little poll loop with a deadline; when the
 * deadline passes or anything goes wrong the connection is destroyed
 * (libnfs then cancels the call, so the on-stack call state is never
 * touched later) and the next call connects again to the same address.
 * That is how a client behaves when a service IP moves between heads.
 * The high-level libnfs API is not used: it hides the WRITE/COMMIT
 * verifiers (needed to prove that no acknowledged write is lost) and in
 * 4.0.0 does not expose the file handle type.
 * Deliberately not here: UDP, NFSv4, more than one call in flight.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <nfsc/libnfs-raw-portmap.h>

#include "tests/ha/tnc.h"

#define REC_MAGIC	"DNHAREC1"
#define REC_HDR		40

uint64_t
tnc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
tnc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- URL ---- */

int
tnc_parse_url(struct tnc *t, const char *url)
{
	const char	*p, *slash, *q, *last;
	size_t		 n;
	char		 opts[256], *o, *save = NULL, *end;
	long		 v;

	if (t->call_timeout_ms == 0)
		t->call_timeout_ms = 2000;
	if (strncmp(url, "nfs://", 6) != 0)
		goto bad;
	p = url + 6;
	slash = strchr(p, '/');
	if (slash == NULL || slash == p)
		goto bad;
	n = (size_t)(slash - p);
	if (n >= sizeof(t->host))
		goto bad;
	memcpy(t->host, p, n);
	t->host[n] = 0;
	q = strchr(slash, '?');
	if (q == NULL)
		q = slash + strlen(slash);
	for (last = q - 1; last > slash && *last != '/'; last--)
		;
	if (last == slash || last + 1 >= q) {
		snprintf(t->err, sizeof(t->err), "URL '%s': need "
		    "nfs://HOST/EXPORT/FILE (export and file name)", url);
		return -1;
	}
	n = (size_t)(last - slash);
	if (n >= sizeof(t->exportpath))
		goto bad;
	memcpy(t->exportpath, slash, n);
	t->exportpath[n] = 0;
	n = (size_t)(q - last - 1);
	if (n >= sizeof(t->file))
		goto bad;
	memcpy(t->file, last + 1, n);
	t->file[n] = 0;
	if (*q == '?') {
		snprintf(opts, sizeof(opts), "%s", q + 1);
		for (o = strtok_r(opts, "&", &save); o != NULL;
		    o = strtok_r(NULL, "&", &save)) {
			int *dst;
			if (strncmp(o, "nfsport=", 8) == 0)
				dst = &t->nfsport, o += 8;
			else if (strncmp(o, "mountport=", 10) == 0)
				dst = &t->mountport, o += 10;
			else {
				snprintf(t->err, sizeof(t->err), "URL option "
				    "'%s' unknown (nfsport=, mountport=)", o);
				return -1;
			}
			errno = 0;
			v = strtol(o, &end, 10);
			if (errno != 0 || *end != 0 || v < 1 || v > 65535) {
				snprintf(t->err, sizeof(t->err), "URL: port "
				    "'%s' is not 1..65535", o);
				return -1;
			}
			*dst = (int)v;
		}
	}
	return 0;
bad:
	snprintf(t->err, sizeof(t->err), "URL '%s': expected "
	    "nfs://HOST/EXPORT/FILE[?nfsport=N&mountport=M]", url);
	return -1;
}

/* ---- one call at a time ---- */

struct call {
	int		done;
	int		status;		/* RPC_STATUS_* */
	char		rpcerr[128];
	int		nfsstat;	/* NFS3_OK / MNT3_OK or error */
	uint32_t	port;		/* GETPORT */
	uint8_t		fh[TNC_FH_MAX];
	unsigned	fh_len;
	int		fh_follows;
	uint32_t	count;
	int		committed;
	int		eof;
	uint8_t		verf[TNC_VERF_SIZE];
	uint8_t		*rbuf;		/* READ destination */
	uint32_t	rlen;
};

static void
call_common(struct call *c, int status, void *data)
{
	c->done = 1;
	c->status = status;
	if (status == RPC_STATUS_ERROR && data != NULL)
		snprintf(c->rpcerr, sizeof(c->rpcerr), "%s", (char *)data);
	else if (status == RPC_STATUS_CANCEL)
		snprintf(c->rpcerr, sizeof(c->rpcerr), "cancelled");
	else if (status == RPC_STATUS_TIMEOUT)
		snprintf(c->rpcerr, sizeof(c->rpcerr), "rpc timeout");
}

static void
copy_fh(struct call *c, const char *val, unsigned len)
{
	if (len == 0 || len > TNC_FH_MAX) {
		c->fh_len = 0;
		return;
	}
	memcpy(c->fh, val, len);
	c->fh_len = len;
}

static void
plain_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	(void)rpc;
	call_common(arg, status, data);
}

static void
getport_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call *c = arg;

	(void)rpc;
	call_common(c, status, data);
	if (status == RPC_STATUS_SUCCESS && data != NULL)
		c->port = *(uint32_t *)data;
}

static void
mnt_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	mountres3	*r = data;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->fhs_status;
	if (r->fhs_status == MNT3_OK)
		copy_fh(c, r->mountres3_u.mountinfo.fhandle.fhandle3_val,
		    r->mountres3_u.mountinfo.fhandle.fhandle3_len);
}

static void
lookup_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	LOOKUP3res	*r = data;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->status;
	if (r->status == NFS3_OK)
		copy_fh(c, r->LOOKUP3res_u.resok.object.data.data_val,
		    r->LOOKUP3res_u.resok.object.data.data_len);
}

static void
create_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	CREATE3res	*r = data;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->status;
	if (r->status == NFS3_OK && r->CREATE3res_u.resok.obj.handle_follows) {
		c->fh_follows = 1;
		copy_fh(c, r->CREATE3res_u.resok.obj.post_op_fh3_u.handle.data
		    .data_val, r->CREATE3res_u.resok.obj.post_op_fh3_u.handle
		    .data.data_len);
	}
}

static void
write_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	WRITE3res	*r = data;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->status;
	if (r->status == NFS3_OK) {
		c->count = r->WRITE3res_u.resok.count;
		c->committed = r->WRITE3res_u.resok.committed;
		memcpy(c->verf, r->WRITE3res_u.resok.verf, TNC_VERF_SIZE);
	}
}

static void
commit_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	COMMIT3res	*r = data;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->status;
	if (r->status == NFS3_OK)
		memcpy(c->verf, r->COMMIT3res_u.resok.verf, TNC_VERF_SIZE);
}

static void
read_cb(struct rpc_context *rpc, int status, void *data, void *arg)
{
	struct call	*c = arg;
	READ3res	*r = data;
	uint32_t	 n;

	(void)rpc;
	call_common(c, status, data);
	if (status != RPC_STATUS_SUCCESS || r == NULL)
		return;
	c->nfsstat = r->status;
	if (r->status != NFS3_OK)
		return;
	n = r->READ3res_u.resok.data.data_len;
	if (n > c->rlen)	/* never trust the server's length */
		n = c->rlen;
	memcpy(c->rbuf, r->READ3res_u.resok.data.data_val, n);
	c->count = n;
	c->eof = r->READ3res_u.resok.eof != 0;
}

/*
 * Run rpc until c is done or deadline (monotonic ms).  Returns 0 when the
 * call completed with RPC success, else -1 with t->err set.  On -1 the
 * caller must destroy rpc before c goes out of scope.
 */
static int
call_wait(struct tnc *t, struct rpc_context *rpc, struct call *c,
    const char *what, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		n, wait;

	while (!c->done) {
		now = tnc_mono_ms();
		if (now >= deadline) {
			snprintf(t->err, sizeof(t->err), "%s: no answer "
			    "within the call timeout", what);
			return -1;
		}
		wait = (int)(deadline - now);
		if (wait > 100)
			wait = 100;
		pfd.fd = rpc_get_fd(rpc);
		pfd.events = (short)rpc_which_events(rpc);
		pfd.revents = 0;
		n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR) {
			snprintf(t->err, sizeof(t->err), "%s: poll: %s", what,
			    strerror(errno));
			return -1;
		}
		if (rpc_service(rpc, n > 0 ? pfd.revents : 0) < 0 &&
		    !c->done) {
			snprintf(t->err, sizeof(t->err), "%s: %s", what,
			    rpc_get_error(rpc));
			return -1;
		}
	}
	if (c->status != RPC_STATUS_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "%s: %s", what,
		    c->rpcerr[0] ? c->rpcerr : "rpc failed");
		return -1;
	}
	return 0;
}

/* A new connected context for prog/vers at port, or NULL with t->err. */
static struct rpc_context *
conn_open(struct tnc *t, int port, int prog, int vers, uint64_t deadline)
{
	struct rpc_context	*rpc;
	struct call		 c;
	char			 what[96];

	memset(&c, 0, sizeof(c));
	snprintf(what, sizeof(what), "connect %s:%d", t->host, port);
	if ((rpc = rpc_init_context()) == NULL) {
		snprintf(t->err, sizeof(t->err), "rpc_init_context failed");
		return NULL;
	}
	if (rpc_connect_port_async(rpc, t->host, port, prog, vers, plain_cb,
	    &c) != 0) {
		snprintf(t->err, sizeof(t->err), "%s: %s", what,
		    rpc_get_error(rpc));
		rpc_destroy_context(rpc);
		return NULL;
	}
	if (call_wait(t, rpc, &c, what, deadline) < 0) {
		rpc_destroy_context(rpc);
		return NULL;
	}
	return rpc;
}

/* Port of prog v3 over TCP from the portmapper; 0 on failure. */
static int
pmap_port(struct tnc *t, int prog, uint64_t deadline)
{
	struct rpc_context	*rpc;
	struct call		 c;
	int			 port = 0;

	if ((rpc = conn_open(t, 111, PMAP_PROGRAM, PMAP_V2, deadline)) == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	if (rpc_pmap2_getport_async(rpc, prog, 3, IPPROTO_TCP, getport_cb,
	    &c) != 0)
		snprintf(t->err, sizeof(t->err), "GETPORT: %s",
		    rpc_get_error(rpc));
	else if (call_wait(t, rpc, &c, "GETPORT", deadline) == 0) {
		if (c.port == 0 || c.port > 65535)
			snprintf(t->err, sizeof(t->err), "portmapper: program "
			    "%d not registered", prog);
		else
			port = (int)c.port;
	}
	rpc_destroy_context(rpc);
	return port;
}

static void
drop(struct tnc *t)
{
	if (t->rpc != NULL) {
		rpc_destroy_context(t->rpc);
		t->rpc = NULL;
	}
}

/*
 * Make sure the NFS connection is up.  0 or -1.  With connect_timeout_ms
 * the connection gets that long (the kernel's own SYN retransmissions
 * happen inside it, as for a kernel client) and the call then starts its
 * own call timeout: *deadline is moved.
 */
static int
nfs_up(struct tnc *t, uint64_t *deadline)
{
	int		port = t->nfsport;
	uint64_t	cd = *deadline;

	if (t->rpc != NULL)
		return 0;
	if (t->connect_timeout_ms > 0)
		cd = tnc_mono_ms() + (uint64_t)t->connect_timeout_ms;
	if (port == 0 && (port = pmap_port(t, NFS_PROGRAM, cd)) == 0)
		return -1;
	t->rpc = conn_open(t, port, NFS_PROGRAM, NFS_V3, cd);
	if (t->rpc == NULL)
		return -1;
	t->connects++;
	if (t->connect_timeout_ms > 0)
		*deadline = tnc_mono_ms() + (uint64_t)t->call_timeout_ms;
	return 0;
}

static int
fail(struct tnc *t)
{
	t->failures++;
	drop(t);
	return -1;
}

static int
nfs_fail(struct tnc *t, const char *what, int stat)
{
	snprintf(t->err, sizeof(t->err), "%s: %s", what,
	    nfsstat3_to_str(stat));
	return fail(t);
}

/* MNT the export into t->rootfh.  0 or -1. */
static int
do_mount(struct tnc *t, uint64_t deadline)
{
	struct rpc_context	*rpc;
	struct call		 c;
	int			 port = t->mountport, rv = -1;

	if (port == 0 && (port = pmap_port(t, MOUNT_PROGRAM, deadline)) == 0)
		return -1;
	if ((rpc = conn_open(t, port, MOUNT_PROGRAM, MOUNT_V3, deadline)) ==
	    NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	if (rpc_mount3_mnt_async(rpc, mnt_cb, t->exportpath, &c) != 0) {
		snprintf(t->err, sizeof(t->err), "MNT: %s", rpc_get_error(rpc));
		goto out;
	}
	if (call_wait(t, rpc, &c, "MNT", deadline) < 0)
		goto out;
	if (c.nfsstat != MNT3_OK) {
		snprintf(t->err, sizeof(t->err), "MNT %s: mount status %d",
		    t->exportpath, c.nfsstat);
		goto out;
	}
	if (c.fh_len == 0) {
		snprintf(t->err, sizeof(t->err), "MNT: bad file handle length");
		goto out;
	}
	memcpy(t->rootfh, c.fh, c.fh_len);
	t->rootfh_len = c.fh_len;
	rv = 0;
out:
	rpc_destroy_context(rpc);
	return rv;
}

static int
do_lookup(struct tnc *t, uint64_t deadline, struct call *c)
{
	LOOKUP3args a;

	memset(&a, 0, sizeof(a));
	memset(c, 0, sizeof(*c));
	a.what.dir.data.data_len = t->rootfh_len;
	a.what.dir.data.data_val = (char *)t->rootfh;
	a.what.name = t->file;
	if (nfs_up(t, &deadline) < 0)
		return fail(t);
	if (rpc_nfs3_lookup_async(t->rpc, lookup_cb, &a, c) != 0) {
		snprintf(t->err, sizeof(t->err), "LOOKUP: %s",
		    rpc_get_error(t->rpc));
		return fail(t);
	}
	if (call_wait(t, t->rpc, c, "LOOKUP", deadline) < 0)
		return fail(t);
	return 0;
}

static int
do_create(struct tnc *t, uint64_t deadline)
{
	CREATE3args	a;
	struct call	c;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	a.where.dir.data.data_len = t->rootfh_len;
	a.where.dir.data.data_val = (char *)t->rootfh;
	a.where.name = t->file;
	a.how.mode = UNCHECKED;
	a.how.createhow3_u.obj_attributes.mode.set_it = 1;
	a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
	if (nfs_up(t, &deadline) < 0)
		return fail(t);
	if (rpc_nfs3_create_async(t->rpc, create_cb, &a, &c) != 0) {
		snprintf(t->err, sizeof(t->err), "CREATE: %s",
		    rpc_get_error(t->rpc));
		return fail(t);
	}
	if (call_wait(t, t->rpc, &c, "CREATE", deadline) < 0)
		return fail(t);
	if (c.nfsstat != NFS3_OK)
		return nfs_fail(t, "CREATE", c.nfsstat);
	if (c.fh_follows && c.fh_len > 0) {
		memcpy(t->fh, c.fh, c.fh_len);
		t->fh_len = c.fh_len;
	}
	return 0;
}

static int
open_once(struct tnc *t, int create)
{
	struct call	c;
	uint64_t	deadline = tnc_mono_ms() + (uint64_t)t->call_timeout_ms;

	if (t->rootfh_len == 0 && do_mount(t, deadline) < 0) {
		t->failures++;
		return -1;
	}
	if (do_lookup(t, deadline, &c) < 0)
		return -1;
	if (c.nfsstat == NFS3ERR_NOENT && create) {
		if (do_create(t, deadline) < 0)
			return -1;
		if (t->fh_len > 0)
			return 0;
		if (do_lookup(t, deadline, &c) < 0)
			return -1;
	}
	if (c.nfsstat != NFS3_OK) {
		if (c.nfsstat == NFS3ERR_STALE)
			t->rootfh_len = 0;	/* mount again */
		return nfs_fail(t, "LOOKUP", c.nfsstat);
	}
	if (c.fh_len == 0) {
		snprintf(t->err, sizeof(t->err), "LOOKUP: bad handle length");
		return fail(t);
	}
	memcpy(t->fh, c.fh, c.fh_len);
	t->fh_len = c.fh_len;
	return 0;
}

int
tnc_open(struct tnc *t, int create, uint64_t deadline_ms)
{
	for (;;) {
		if (open_once(t, create) == 0)
			return 0;
		if (tnc_mono_ms() + 100 >= deadline_ms)
			return -1;
		poll(NULL, 0, 100);
	}
}

int
tnc_write(struct tnc *t, uint64_t off, const void *data, uint32_t len,
    int stable, int *committed, uint8_t verf[TNC_VERF_SIZE])
{
	WRITE3args	a;
	struct call	c;
	uint64_t	deadline = tnc_mono_ms() + (uint64_t)t->call_timeout_ms;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	a.file.data.data_len = t->fh_len;
	a.file.data.data_val = (char *)t->fh;
	a.offset = off;
	a.count = len;
	a.stable = stable;
	a.data.data_len = len;
	a.data.data_val = (char *)(uintptr_t)data;
	if (nfs_up(t, &deadline) < 0)
		return fail(t);
	if (rpc_nfs3_write_async(t->rpc, write_cb, &a, &c) != 0) {
		snprintf(t->err, sizeof(t->err), "WRITE: %s",
		    rpc_get_error(t->rpc));
		return fail(t);
	}
	if (call_wait(t, t->rpc, &c, "WRITE", deadline) < 0)
		return fail(t);
	if (c.nfsstat != NFS3_OK)
		return nfs_fail(t, "WRITE", c.nfsstat);
	if (c.count != len) {
		snprintf(t->err, sizeof(t->err), "WRITE: short write (%u of "
		    "%u bytes)", c.count, len);
		return fail(t);
	}
	*committed = c.committed;
	memcpy(verf, c.verf, TNC_VERF_SIZE);
	return 0;
}

int
tnc_commit(struct tnc *t, uint64_t off, uint32_t len,
    uint8_t verf[TNC_VERF_SIZE])
{
	COMMIT3args	a;
	struct call	c;
	uint64_t	deadline = tnc_mono_ms() + (uint64_t)t->call_timeout_ms;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	a.file.data.data_len = t->fh_len;
	a.file.data.data_val = (char *)t->fh;
	a.offset = off;
	a.count = len;
	if (nfs_up(t, &deadline) < 0)
		return fail(t);
	if (rpc_nfs3_commit_async(t->rpc, commit_cb, &a, &c) != 0) {
		snprintf(t->err, sizeof(t->err), "COMMIT: %s",
		    rpc_get_error(t->rpc));
		return fail(t);
	}
	if (call_wait(t, t->rpc, &c, "COMMIT", deadline) < 0)
		return fail(t);
	if (c.nfsstat != NFS3_OK)
		return nfs_fail(t, "COMMIT", c.nfsstat);
	memcpy(verf, c.verf, TNC_VERF_SIZE);
	return 0;
}

int
tnc_read(struct tnc *t, uint64_t off, void *data, uint32_t len,
    uint32_t *got, int *eof)
{
	READ3args	a;
	struct call	c;
	uint64_t	deadline = tnc_mono_ms() + (uint64_t)t->call_timeout_ms;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	a.file.data.data_len = t->fh_len;
	a.file.data.data_val = (char *)t->fh;
	a.offset = off;
	a.count = len;
	c.rbuf = data;
	c.rlen = len;
	if (nfs_up(t, &deadline) < 0)
		return fail(t);
	if (rpc_nfs3_read_async(t->rpc, read_cb, &a, &c) != 0) {
		snprintf(t->err, sizeof(t->err), "READ: %s",
		    rpc_get_error(t->rpc));
		return fail(t);
	}
	if (call_wait(t, t->rpc, &c, "READ", deadline) < 0)
		return fail(t);
	if (c.nfsstat != NFS3_OK)
		return nfs_fail(t, "READ", c.nfsstat);
	*got = c.count;
	*eof = c.eof;
	return 0;
}

void
tnc_close(struct tnc *t)
{
	drop(t);
}

/* ---- records ---- */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint64_t
fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Payload byte stream for (tag, index): xorshift64*. */
static void
fill_payload(uint8_t *p, size_t n, uint64_t tag, uint64_t index)
{
	uint64_t x = (tag ^ (index * 0x9e3779b97f4a7c15ULL)) | 1;
	uint64_t r = 0;

	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			r = x * 0x2545f4914f6cdd1dULL;
		}
		p[i] = (uint8_t)(r >> ((i & 7) * 8));
	}
}

void
tnc_rec_build(uint8_t *buf, uint32_t size, uint64_t tag, uint64_t index)
{
	memcpy(buf, REC_MAGIC, 8);
	put64(buf + 8, index);
	put64(buf + 16, tag);
	put32(buf + 24, size);
	put32(buf + 28, (uint32_t)fnv1a(buf, 28));
	fill_payload(buf + REC_HDR, size - REC_HDR, tag, index);
	put64(buf + 32, fnv1a(buf + REC_HDR, size - REC_HDR));
}

const char *
tnc_rec_check(const uint8_t *buf, uint32_t size, uint64_t tag,
    uint64_t index)
{
	uint32_t	i;
	uint8_t		*want;
	int		same;

	for (i = 0; i < size && buf[i] == 0; i++)
		;
	if (i == size)
		return "zero";
	if (memcmp(buf, REC_MAGIC, 8) != 0)
		return "magic";
	if (get32(buf + 28) != (uint32_t)fnv1a(buf, 28))
		return "header";
	if (get64(buf + 8) != index)
		return "index";
	if (get64(buf + 16) != tag)
		return "tag";
	if (get32(buf + 24) != size)
		return "size";
	if (get64(buf + 32) != fnv1a(buf + REC_HDR, size - REC_HDR))
		return "payload";
	/* the checksum could collide; the stream cannot */
	if ((want = malloc(size)) == NULL)
		return "out of memory";
	tnc_rec_build(want, size, tag, index);
	same = memcmp(want, buf, size) == 0;
	free(want);
	return same ? NULL : "payload";
}

long
tnc_num(const char *prog, const char *opt, const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == 0 || *end != 0 || v < lo || v > hi) {
		fprintf(stderr, "%s: %s '%s': must be a number %ld..%ld\n",
		    prog, opt, s, lo, hi);
		exit(2);
	}
	return v;
}

/*
 * nfs_xdr.c — checks every length in an incoming ONC RPC call before
 * libnfs decodes it.
 *
 * libnfs 4.0.0's zdr_bytes()/zdr_string() compare "pos + (int)len" with
 * the buffer size, so a length >= 2^31 passes the check and the decoder
 * reads far outside the record.  We therefore walk the call header and
 * the arguments of every procedure we serve with our own bounds-checked
 * reader, driven by a small per-procedure layout string, and only hand
 * records that pass to libnfs.  Unknown programs/procedures pass: libnfs
 * answers them with PROG_UNAVAIL/PROC_UNAVAIL without decoding anything.
 * This file decodes nothing for use; it only says yes or no.
 */
#include <string.h>

#include "common/util.h"
#include "export/nfs_int.h"

#define AUTH_MAX	400	/* RFC 5531: opaque_auth body <= 400 bytes */

/*
 * Layout letters:
 *  f  nfs_fh3 (opaque <= 64)      n  filename3 (string <= NFS_PATH_MAX)
 *  p  path string (<= NFS_PATH_MAX)
 *  4  uint32                       8  uint64
 *  v  8-byte fixed opaque          d  opaque data (<= NFS_MAXIO)
 *  s  sattr3                       g  sattrguard3
 *  c  createhow3                   m  mknoddata3
 *  o  NLM netobj (opaque <= NLM_MAXOBJ)
 *  l  NLM/NSM name (string <= NLM_MAXOBJ)
 *  x  16-byte fixed opaque (NSM priv)
 *  T  nlm4_testrply: a stat, and the holder when it is DENIED
 * The NLM/NSM bounds are those of the protocols (LM_MAXSTRLEN,
 * MAXNETOBJ_SZ, SM_MAXSTRLEN: 1024); the procedures refuse what is longer
 * than the lock table holds with an NLM status rather than GARBAGE_ARGS.
 */
#define NLM_MAXOBJ	1024
static const char *const nfs3_layout[NFS3_NPROC] = {
	"",		/* NULL */
	"f",		/* GETATTR */
	"fsg",		/* SETATTR */
	"fn",		/* LOOKUP */
	"f4",		/* ACCESS */
	"f",		/* READLINK */
	"f84",		/* READ */
	"f844d",	/* WRITE */
	"fnc",		/* CREATE */
	"fns",		/* MKDIR */
	"fnsp",		/* SYMLINK */
	"fnm",		/* MKNOD */
	"fn",		/* REMOVE */
	"fn",		/* RMDIR */
	"fnfn",		/* RENAME */
	"ffn",		/* LINK */
	"f8v4",		/* READDIR */
	"f8v44",	/* READDIRPLUS */
	"f",		/* FSSTAT */
	"f",		/* FSINFO */
	"f",		/* PATHCONF */
	"f84",		/* COMMIT */
};

static const char *const mnt3_layout[6] = {
	"", "p", "", "p", "", "",	/* NULL MNT DUMP UMNT UMNTALL EXPORT */
};

/* nlm4_lock: caller_name, fh, oh, svid, offset, length */
#define NLM4_LOCK_L	"loo488"
static const char *const nlm4_layout[NLM4_NPROC] = {
	"",				/* NULL */
	"o4" NLM4_LOCK_L,		/* TEST: cookie, exclusive, lock */
	"o44" NLM4_LOCK_L "44",		/* LOCK: block, excl, lock,
					 * reclaim, state */
	"o44" NLM4_LOCK_L,		/* CANCEL */
	"o" NLM4_LOCK_L,		/* UNLOCK */
	"o4" NLM4_LOCK_L,		/* GRANTED */
	"o4" NLM4_LOCK_L,		/* TEST_MSG */
	"o44" NLM4_LOCK_L "44",		/* LOCK_MSG */
	"o44" NLM4_LOCK_L,		/* CANCEL_MSG */
	"o" NLM4_LOCK_L,		/* UNLOCK_MSG */
	"o4" NLM4_LOCK_L,		/* GRANTED_MSG */
	"oT",				/* TEST_RES */
	"o4", "o4", "o4", "o4",		/* LOCK..GRANTED_RES */
	NULL, NULL, NULL, NULL,		/* not in version 4 */
	"oloo444",			/* SHARE: cookie, share, reclaim */
	"oloo444",			/* UNSHARE */
	"o44" NLM4_LOCK_L "44",		/* NM_LOCK */
	"l4",				/* FREE_ALL: nlm4_notify */
};

static const char *const nsm1_layout[NSM1_NPROC] = {
	"",		/* NULL */
	"l",		/* STAT: sm_name */
	"ll444x",	/* MON: mon_id, priv */
	"ll444",	/* UNMON: mon_id */
	"l444",		/* UNMON_ALL: my_id */
	"",		/* SIMU_CRASH */
	"l4",		/* NOTIFY: mon_name, state */
};

static const char *const pmap2_layout[6] = {
	"", "4444", "4444", "4444", "", NULL,	/* CALLIT not served */
};

/* Skip an opaque or string of at most max bytes.  -1: malformed.  For
 * a string (str), *nul is set when it holds a NUL byte: C would see a
 * shorter name than the client sent ("a\0b" is not "a"). */
static int
skip_opaque(struct rd *r, uint32_t max, int str, int *nul)
{
	uint32_t	len = rd_u32(r);
	const uint8_t	*p;

	if (r->err || len > max || len > r->left)
		return -1;
	p = rd_bytes(r, (len + 3) & ~3u);
	if (r->err)
		return -1;
	if (str && len > 0 && memchr(p, 0, len) != NULL)
		*nul = 1;
	return 0;
}

/* An XDR bool (the discriminant of set_mode3 ... sattrguard3): 0 or 1.
 * libnfs refuses any other value, so the walk must too: a record it
 * passes and libnfs cannot decode would get INVAL instead of
 * GARBAGE_ARGS (found by fuzz_rpc_call).  Another value sets r->err. */
static int
rd_bool(struct rd *r)
{
	uint32_t v = rd_u32(r);

	if (v > 1)
		r->err = 1;
	return v == 1;
}

static int
skip_sattr3(struct rd *r)
{
	uint32_t how;

	for (int i = 0; i < 3; i++)		/* mode, uid, gid */
		if (rd_bool(r))
			rd_u32(r);
	if (rd_bool(r))				/* size */
		rd_u64(r);
	for (int i = 0; i < 2; i++) {		/* atime, mtime */
		how = rd_u32(r);
		if (how > 2)
			return -1;
		if (how == 2)
			rd_u64(r);
	}
	return r->err ? -1 : 0;
}

static int
walk(struct rd *r, const char *layout, int *nul)
{
	uint32_t v;

	for (const char *c = layout; *c != 0; c++) {
		switch (*c) {
		case 'f':
			if (skip_opaque(r, NFS3_FHSIZE, 0, nul) < 0)
				return -1;
			break;
		case 'n':
		case 'p':
			if (skip_opaque(r, NFS_PATH_MAX, 1, nul) < 0)
				return -1;
			break;
		case 'd':
			if (skip_opaque(r, NFS_MAXIO, 0, nul) < 0)
				return -1;
			break;
		case 'o':
			if (skip_opaque(r, NLM_MAXOBJ, 0, nul) < 0)
				return -1;
			break;
		case 'l':
			if (skip_opaque(r, NLM_MAXOBJ, 1, nul) < 0)
				return -1;
			break;
		case 'x':
			rd_bytes(r, 16);
			break;
		case 'T':
			v = rd_u32(r);
			if (v == 1) {	/* NLM4_DENIED: the holder */
				rd_u32(r);	/* exclusive */
				rd_u32(r);	/* svid */
				if (skip_opaque(r, NLM_MAXOBJ, 0, nul) < 0)
					return -1;
				rd_u64(r);
				rd_u64(r);
			}
			break;
		case '4':
			rd_u32(r);
			break;
		case '8':
		case 'v':
			rd_u64(r);
			break;
		case 's':
			if (skip_sattr3(r) < 0)
				return -1;
			break;
		case 'g':
			if (rd_bool(r))
				rd_u64(r);
			break;
		case 'c':
			v = rd_u32(r);
			if (v == 0 || v == 1) {
				if (skip_sattr3(r) < 0)
					return -1;
			} else if (v == 2) {
				rd_u64(r);
			} else {
				return -1;
			}
			break;
		case 'm':
			v = rd_u32(r);
			if (v == NF3CHR || v == NF3BLK) {
				if (skip_sattr3(r) < 0)
					return -1;
				rd_u64(r);
			} else if (v == NF3SOCK || v == NF3FIFO) {
				if (skip_sattr3(r) < 0)
					return -1;
			} else if (v < NF3REG || v > NF3FIFO) {
				return -1;
			}
			break;
		default:
			return -1;
		}
		if (r->err)
			return -1;
	}
	return 0;
}

int
nfs_xdr_callhdr(const uint8_t *p, size_t len, struct nfs_callhdr *h)
{
	struct rd	r;
	uint32_t	mtype, vlen;

	memset(h, 0, sizeof(*h));
	rd_init(&r, p, len);
	h->xid = rd_u32(&r);
	mtype = rd_u32(&r);
	h->rpcvers = rd_u32(&r);
	h->prog = rd_u32(&r);
	h->vers = rd_u32(&r);
	h->proc = rd_u32(&r);
	h->cred_flavor = rd_u32(&r);
	h->cred_len = rd_u32(&r);
	if (r.err || mtype != 0 || h->cred_len > AUTH_MAX)
		return -1;
	h->cred = rd_bytes(&r, (h->cred_len + 3) & ~3u);
	rd_u32(&r);			/* verifier flavor */
	vlen = rd_u32(&r);
	if (r.err || vlen > AUTH_MAX)
		return -1;
	rd_bytes(&r, (vlen + 3) & ~3u);
	if (r.err)
		return -1;
	h->argoff = len - r.left;
	return 0;
}

int
nfs_xdr_args_ok(const struct nfs_callhdr *h, const uint8_t *p, size_t len)
{
	const char	*layout = NULL;
	struct rd	 r;
	int		 nul = 0;

	if (h->prog == NFS_PROG_NFS && h->vers == 3 && h->proc < NFS3_NPROC)
		layout = nfs3_layout[h->proc];
	else if (h->prog == NFS_PROG_MOUNT && h->vers == 3 && h->proc < 6)
		layout = mnt3_layout[h->proc];
	else if (h->prog == NFS_PROG_PMAP && h->vers == 2 && h->proc < 6)
		layout = pmap2_layout[h->proc];
	else if (h->prog == NFS_PROG_NLM && h->vers == 4 &&
	    h->proc < NLM4_NPROC)
		layout = nlm4_layout[h->proc];
	else if (h->prog == NFS_PROG_NSM && h->vers == 1 &&
	    h->proc < NSM1_NPROC)
		layout = nsm1_layout[h->proc];
	if (layout == NULL)
		return 1;
	rd_init(&r, p + h->argoff, len - h->argoff);
	if (walk(&r, layout, &nul) < 0)
		return NFS_ARGS_GARBAGE;
	return nul ? NFS_ARGS_NUL : NFS_ARGS_OK;
}

int
nfs_xdr_cred(const struct nfs_callhdr *h, struct nfs_cred *c)
{
	struct rd	r;
	uint32_t	n;

	memset(c, 0, sizeof(*c));
	c->flavor = h->cred_flavor;
	if (h->cred_flavor == AUTH_NONE) {
		c->uid = c->gid = 65534;
		return 0;
	}
	if (h->cred_flavor != AUTH_UNIX)
		return -1;
	rd_init(&r, h->cred, h->cred_len);
	rd_u32(&r);				/* stamp */
	n = rd_u32(&r);				/* machine name */
	if (r.err || n > 255 || n > r.left)
		return -1;
	rd_bytes(&r, (n + 3) & ~3u);
	c->uid = rd_u32(&r);
	c->gid = rd_u32(&r);
	n = rd_u32(&r);
	if (r.err || n > NFS_MAX_GIDS)
		return -1;
	c->ngids = n;
	for (uint32_t i = 0; i < n; i++)
		c->gids[i] = rd_u32(&r);
	return r.err ? -1 : 0;
}

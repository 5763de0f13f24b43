/*
 * fuzz_rpc_call.c — an ONC RPC record body as the NFS server takes it
 * apart: the call header, the AUTH_SYS credential and the argument walk
 * of every NFS3, MOUNT3, portmapper, NLM4 and NSM procedure
 * (export/nfs_xdr.c), then, for what the walk passes, the decoder the
 * server runs next: libnfs's for NFS3, MOUNT3 and the portmapper
 * (export/nfs3.c, nfs_mnt.c, nfs_rpc.c), nlm_args_decode() for NLM4
 * (export/nfs_nlm.c), nsm_args_decode() for NSM (export/nfs_nsm.c).
 * The walk exists so that no decoder ever sees a record it would read
 * past: a record the walk passes that a decoder cannot decode breaks
 * that promise (the server's "cannot happen" branches), so it aborts
 * here, as does an NLM object outside the record or an NSM name that is
 * not a C string of its buffer.  (NSM refusing a name is an answer,
 * not a broken promise: a name longer than the lock table keeps.)
 */
#include "export/nfs_int.h"
#include "export/nfs_nlm_int.h"
#include "tests/fuzz/fuzz.h"

/* the NFS3 argument decoders, by procedure, as in export/nfs3.c
 * (WRITE is decoded in place by nfs3.c's own dec_write) */
static const zdrproc_t nfs3_dec[] = {
	NULL,
	(zdrproc_t)zdr_GETATTR3args, (zdrproc_t)zdr_SETATTR3args,
	(zdrproc_t)zdr_LOOKUP3args, (zdrproc_t)zdr_ACCESS3args,
	(zdrproc_t)zdr_READLINK3args, (zdrproc_t)zdr_READ3args,
	NULL,
	(zdrproc_t)zdr_CREATE3args, (zdrproc_t)zdr_MKDIR3args,
	(zdrproc_t)zdr_SYMLINK3args, (zdrproc_t)zdr_MKNOD3args,
	(zdrproc_t)zdr_REMOVE3args, (zdrproc_t)zdr_RMDIR3args,
	(zdrproc_t)zdr_RENAME3args, (zdrproc_t)zdr_LINK3args,
	(zdrproc_t)zdr_READDIR3args, (zdrproc_t)zdr_READDIRPLUS3args,
	(zdrproc_t)zdr_FSSTAT3args, (zdrproc_t)zdr_FSINFO3args,
	(zdrproc_t)zdr_PATHCONF3args, (zdrproc_t)zdr_COMMIT3args,
};

/* o lies within a[0..len) (or is empty) */
static int
obj_in(const struct nlm_obj *o, const uint8_t *a, size_t len)
{
	return o->len == 0 || (o->p >= a && o->len <= len &&
	    (size_t)(o->p - a) <= len - o->len);
}

static void
decode_nlm(const struct nfs_callhdr *h, const uint8_t *p, size_t n)
{
	struct nlm_args	 a;
	const uint8_t	*args = p + h->argoff;
	size_t		 len = n - h->argoff;

	/* NULL decodes nothing; 16-19 and 24 on are refused before
	 * (nfs_rpc.c) */
	if (h->proc == 0 || (h->proc >= 16 && h->proc < 20) || h->proc > 23)
		return;
	if (nlm_args_decode(args, len, h->proc, &a) < 0 ||
	    !obj_in(&a.cookie, args, len) ||
	    !obj_in(&a.lock.caller, args, len) ||
	    !obj_in(&a.lock.fh, args, len) ||
	    !obj_in(&a.lock.oh, args, len))
		abort();
}

static void
decode_nsm(const struct nfs_callhdr *h, const uint8_t *p, size_t n)
{
	struct nsm_args	a;
	int		rc;

	rc = nsm_args_decode(p + h->argoff, n - h->argoff, h->proc, &a);
	if (memchr(a.e.name, 0, sizeof(a.e.name)) == NULL ||
	    memchr(a.e.my_name, 0, sizeof(a.e.my_name)) == NULL)
		abort();
	if (rc == 0 && h->proc >= 2 && h->proc <= 4 && a.e.my_name[0] == 0)
		abort();	/* my_name "" is the server's own */
	if (rc == 0 && h->proc == 6 && a.e.name[0] == 0)
		abort();
}

static void
decode(const struct nfs_callhdr *h, uint8_t *p, size_t n)
{
	static union {
		uint64_t	align;
		uint8_t		b[4096];
	} args;
	zdrproc_t	 dec = NULL;
	char		*path = NULL;
	ZDR		 z;
	int		 ok = 1;

	if (h->prog == NFS_PROG_NLM && h->vers == 4) {
		decode_nlm(h, p, n);
		return;
	}
	if (h->prog == NFS_PROG_NSM && h->vers == 1) {
		decode_nsm(h, p, n);
		return;
	}
	memset(&args, 0, sizeof(args));
	zdrmem_create(&z, (char *)p + h->argoff, (uint32_t)(n - h->argoff),
	    ZDR_DECODE);
	if (h->prog == NFS_PROG_NFS && h->vers == 3 &&
	    h->proc < sizeof(nfs3_dec) / sizeof(nfs3_dec[0]))
		dec = nfs3_dec[h->proc];
	else if (h->prog == NFS_PROG_PMAP && h->vers == 2 && h->proc >= 1 &&
	    h->proc <= 3)
		dec = (zdrproc_t)zdr_pmap2_mapping;
	if (dec != NULL)
		ok = dec(&z, &args);
	else if (h->prog == NFS_PROG_MOUNT && h->vers == 3 &&
	    (h->proc == MOUNT3_MNT || h->proc == MOUNT3_UMNT))
		ok = zdr_dirpath(&z, &path) && path != NULL;
	zdr_destroy(&z);
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct nfs_callhdr	h;
	struct nfs_cred		c;
	uint8_t			*p;

	/* an exact-size copy: a read past the record is an ASan error */
	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, d, n);
	if (nfs_xdr_callhdr(p, n, &h) == 0) {
		(void)nfs_xdr_cred(&h, &c);
		if (nfs_xdr_args_ok(&h, p, n) == NFS_ARGS_OK)
			decode(&h, p, n);
	}
	free(p);
	return 0;
}

/*
 * test_nfs3_client.c — every NFS v3 procedure against a running server,
 * through the libnfs client API (high-level sync calls, and raw
 * rpc_nfs3_*_async calls where exact NFS3ERR codes, verifiers or forged
 * handles matter).
 *
 *   test_nfs3_client URL-RW URL-SQUASH URL-RO LOCALDIR STATEFILE PHASE
 *
 * URL-*: nfs://127.0.0.1/export?nfsport=N&mountport=N for a rw
 * no_root_squash export (whose directory is LOCALDIR), a rw root_squash
 * export and a ro export.  PHASE 1 runs everything and saves a handle
 * and the write verifier in STATEFILE; PHASE 2 (after a daemon restart)
 * checks that the handle still works and the verifier changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "tests/unit/t.h"

/* the expression itself is the description */
#define EQ(a, b)	T_EQ(a, b, #a " == " #b)
#define OK(c)		T_OK(c, "%s", #c)
#define MEM(g, w, n)	T_MEM(g, w, n, #g " == " #w)

/* ---- raw calls made synchronous ------------------------------------ */

struct rc {
	int		done, rpcstatus;
	int		status;		/* nfsstat3 / mountstat3 */
	uint8_t		fh[64];
	uint32_t	fhlen;
	fattr3		attr;
	int		have_attr;
	uint32_t	count, committed, eof;
	char		verf[8];
	uint64_t	cookie;
	int		nentries;
};

static struct rc *
rc_new(void)
{
	static struct rc c;

	memset(&c, 0, sizeof(c));
	return &c;
}

static void
fh_keep(struct rc *c, const nfs_fh3 *fh)
{
	c->fhlen = fh->data.data_len <= 64 ? fh->data.data_len : 0;
	memcpy(c->fh, fh->data.data_val, c->fhlen);
}

static void
attr_keep(struct rc *c, const post_op_attr *a)
{
	if (a->attributes_follow) {
		c->attr = a->post_op_attr_u.attributes;
		c->have_attr = 1;
	}
}

static void
cb_mnt(struct rpc_context *rpc, int st, void *data, void *priv)
{
	struct rc *c = priv;
	mountres3 *r = data;

	(void)rpc;
	c->done = 1;
	c->rpcstatus = st;
	if (st != RPC_STATUS_SUCCESS)
		return;
	c->status = r->fhs_status;
	if (r->fhs_status == MNT3_OK) {
		c->fhlen = r->mountres3_u.mountinfo.fhandle.fhandle3_len;
		memcpy(c->fh, r->mountres3_u.mountinfo.fhandle.fhandle3_val,
		    c->fhlen);
	}
}

static void
cb_generic(struct rpc_context *rpc, int st, void *data, void *priv)
{
	struct rc *c = priv;

	(void)rpc;
	c->done = 1;
	c->rpcstatus = st;
	if (st == RPC_STATUS_SUCCESS)
		c->status = *(int *)data;	/* every *3res starts so */
}

static void
cb_getattr(struct rpc_context *rpc, int st, void *data, void *priv)
{
	GETATTR3res *r = data;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK) {
		((struct rc *)priv)->attr = r->GETATTR3res_u.resok.obj_attributes;
		((struct rc *)priv)->have_attr = 1;
	}
}

static void
cb_lookup(struct rpc_context *rpc, int st, void *data, void *priv)
{
	LOOKUP3res *r = data;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK) {
		fh_keep(priv, &r->LOOKUP3res_u.resok.object);
		attr_keep(priv, &r->LOOKUP3res_u.resok.obj_attributes);
	}
}

static void
cb_create(struct rpc_context *rpc, int st, void *data, void *priv)
{
	CREATE3res *r = data;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK) {
		if (r->CREATE3res_u.resok.obj.handle_follows)
			fh_keep(priv, &r->CREATE3res_u.resok.obj.post_op_fh3_u
			    .handle);
		attr_keep(priv, &r->CREATE3res_u.resok.obj_attributes);
	}
}

static void
cb_write(struct rpc_context *rpc, int st, void *data, void *priv)
{
	WRITE3res	*r = data;
	struct rc	*c = priv;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK) {
		c->count = r->WRITE3res_u.resok.count;
		c->committed = r->WRITE3res_u.resok.committed;
		memcpy(c->verf, r->WRITE3res_u.resok.verf, 8);
	}
}

static void
cb_commit(struct rpc_context *rpc, int st, void *data, void *priv)
{
	COMMIT3res *r = data;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK)
		memcpy(((struct rc *)priv)->verf, r->COMMIT3res_u.resok.verf, 8);
}

static void
cb_readdir(struct rpc_context *rpc, int st, void *data, void *priv)
{
	READDIR3res	*r = data;
	struct rc	*c = priv;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK) {
		/* libnfs 4.0.0 decodes entries into misaligned memory:
		 * copy each one out before touching its members */
		entry3 *p = r->READDIR3res_u.resok.reply.entries, e;

		for (; p != NULL; p = e.nextentry) {
			memcpy(&e, (const void *)p, sizeof(e));
			if (strcmp(e.name, ".") != 0 &&
			    strcmp(e.name, "..") != 0)
				c->nentries++;
			c->cookie = e.cookie;
		}
		c->eof = r->READDIR3res_u.resok.reply.eof;
	}
}

static void
cb_pathconf(struct rpc_context *rpc, int st, void *data, void *priv)
{
	PATHCONF3res *r = data;

	cb_generic(rpc, st, data, priv);
	if (st == RPC_STATUS_SUCCESS && r->status == NFS3_OK)
		((struct rc *)priv)->count = r->PATHCONF3res_u.resok.name_max;
}

static int
rc_wait(struct rpc_context *rpc, struct rc *c, int sent)
{
	if (sent != 0)
		return -1;
	for (int i = 0; i < 2000 && !c->done; i++) {
		struct pollfd p = { rpc_get_fd(rpc), (short)rpc_which_events(rpc),
		    0 };

		if (poll(&p, 1, 10) < 0 || rpc_service(rpc, p.revents) < 0)
			return -1;
	}
	return c->done && c->rpcstatus == RPC_STATUS_SUCCESS ? c->status : -1;
}

static nfs_fh3
mkfh(const uint8_t *b, uint32_t len)
{
	nfs_fh3 fh;

	fh.data.data_len = len;
	fh.data.data_val = (char *)(uintptr_t)b;
	return fh;
}

static int
raw_lookup(struct rpc_context *rpc, const uint8_t *dfh, uint32_t dlen,
    const char *name, struct rc **out)
{
	LOOKUP3args	 a;
	struct rc	*c = rc_new();

	memset(&a, 0, sizeof(a));
	a.what.dir = mkfh(dfh, dlen);
	a.what.name = (char *)(uintptr_t)name;
	*out = c;
	return rc_wait(rpc, c, rpc_nfs3_lookup_async(rpc, cb_lookup, &a, c));
}

static int
raw_getattr(struct rpc_context *rpc, const uint8_t *fh, uint32_t len)
{
	GETATTR3args	 a;
	struct rc	*c = rc_new();

	a.object = mkfh(fh, len);
	return rc_wait(rpc, c, rpc_nfs3_getattr_async(rpc, cb_getattr, &a, c));
}

/* ---- helpers ----------------------------------------------------------- */

static struct nfs_context *
connect_url(const char *url)
{
	struct nfs_context	*nfs = nfs_init_context();
	struct nfs_url		*u;

	if (nfs == NULL)
		return NULL;
	if ((u = nfs_parse_url_dir(nfs, url)) == NULL ||
	    nfs_mount(nfs, u->server, u->path) != 0) {
		fprintf(stderr, "# mount %s: %s\n", url, nfs_get_error(nfs));
		if (u != NULL)
			nfs_destroy_url(u);
		nfs_destroy_context(nfs);
		return NULL;
	}
	nfs_destroy_url(u);
	return nfs;
}

static int
put_file(struct nfs_context *nfs, const char *path, const void *d, size_t n)
{
	struct nfsfh	*fh;
	int		 rc;

	if ((rc = nfs_creat(nfs, path, 0644, &fh)) < 0)
		return rc;
	rc = n > 0 ? nfs_pwrite(nfs, fh, 0, n, d) : 0;
	nfs_close(nfs, fh);
	return rc < 0 ? rc : 0;
}

static uint8_t rootfh[64];
static uint32_t rootfhlen;

static void
phase1(struct nfs_context *nfs, struct nfs_context *sq,
    struct nfs_context *ro, const char *local, const char *statefile)
{
	struct rpc_context	*rpc = nfs_get_rpc_context(nfs);
	struct nfs_stat_64	 st;
	struct nfsfh		*fh;
	struct nfsdir		*dir;
	struct nfsdirent	*de;
	struct rc		*c;
	char			 name[400], buf[256];
	uint8_t			*big, *back, fh1[64], verf[8];
	uint32_t		 fh1len;
	int			 n, rc;
	FILE			*f;

	/* NULL, FSINFO (mount did it), PATHCONF, FSSTAT */
	{
		PATHCONF3args a;

		c = rc_new();
		a.object = mkfh(rootfh, rootfhlen);
		EQ(rc_wait(rpc, c, rpc_nfs3_pathconf_async(rpc, cb_pathconf,
		    &a, c)), NFS3_OK);
		EQ(c->count, 255u);
	}
	{
		struct nfs_statvfs_64 sv;

		EQ(nfs_statvfs64(nfs, "/", &sv), 0);
		OK(sv.f_blocks > 0);
	}
	/* MKDIR, EXIST */
	EQ(nfs_mkdir(nfs, "/d"), 0);
	EQ(nfs_mkdir(nfs, "/d"), -EEXIST);
	/* CREATE + WRITE + READ 1 MiB */
	big = malloc(1 << 20);
	back = malloc(1 << 20);
	for (int i = 0; i < (1 << 20); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	EQ(nfs_creat(nfs, "/d/f", 0644, &fh), 0);
	EQ(nfs_pwrite(nfs, fh, 0, 1 << 20, big), 1 << 20);
	EQ(nfs_fsync(nfs, fh), 0);		/* COMMIT */
	EQ(nfs_pread(nfs, fh, 0, 1 << 20, back), 1 << 20);
	MEM(back, big, 1 << 20);
	nfs_close(nfs, fh);
	EQ(nfs_stat64(nfs, "/d/f", &st), 0);
	EQ(st.nfs_size, (uint64_t)(1 << 20));
	/* NOENT, NOTDIR, ISDIR, NOTEMPTY, NAMETOOLONG */
	EQ(nfs_stat64(nfs, "/d/nope", &st), -ENOENT);
	EQ(nfs_mkdir(nfs, "/d/f/x"), -ENOTDIR);
	EQ(nfs_unlink(nfs, "/d"), -EISDIR);
	EQ(nfs_rmdir(nfs, "/d"), -ENOTEMPTY);
	memset(name, 'a', sizeof(name));
	name[0] = '/';
	name[300] = 0;
	EQ(nfs_mkdir(nfs, name), -ENAMETOOLONG);
	/* RENAME over an existing file */
	EQ(put_file(nfs, "/d/a", "AAAA", 4), 0);
	EQ(put_file(nfs, "/d/b", "BB", 2), 0);
	EQ(nfs_rename(nfs, "/d/a", "/d/b"), 0);
	EQ(nfs_stat64(nfs, "/d/b", &st), 0);
	EQ(st.nfs_size, 4u);
	EQ(nfs_stat64(nfs, "/d/a", &st), -ENOENT);
	/* LINK */
	EQ(nfs_link(nfs, "/d/b", "/d/b2"), 0);
	EQ(nfs_stat64(nfs, "/d/b", &st), 0);
	EQ(st.nfs_nlink, 2u);
	EQ(nfs_link(nfs, "/d/b", "/d/b2"), -EEXIST);
	/* SYMLINK + READLINK */
	EQ(nfs_symlink(nfs, "../target", "/d/s"), 0);
	memset(buf, 0, sizeof(buf));
	EQ(nfs_readlink(nfs, "/d/s", buf, sizeof(buf)), 0);
	OK(strcmp(buf, "../target") == 0);
	/* MKNOD (fifo) */
	EQ(nfs_mknod(nfs, "/d/fifo", S_IFIFO | 0644, 0), 0);
	EQ(nfs_stat64(nfs, "/d/fifo", &st), 0);
	OK(S_ISFIFO(st.nfs_mode));
	/* SETATTR: chmod, truncate, utimes; ACCESS */
	EQ(nfs_chmod(nfs, "/d/b", 0600), 0);
	EQ(nfs_truncate(nfs, "/d/b", 2), 0);
	EQ(nfs_stat64(nfs, "/d/b", &st), 0);
	EQ(st.nfs_mode & 07777, 0600u);
	EQ(st.nfs_size, 2u);
	{
		struct timeval tv[2] = { { 1000000, 0 }, { 2000000, 0 } };

		EQ(nfs_utimes(nfs, "/d/b", tv), 0);
		EQ(nfs_stat64(nfs, "/d/b", &st), 0);
		EQ(st.nfs_mtime, 2000000u);
	}
	EQ(nfs_access(nfs, "/d/b", R_OK | W_OK), 0);
	/* REMOVE, RMDIR */
	EQ(nfs_unlink(nfs, "/d/b2"), 0);
	EQ(nfs_unlink(nfs, "/d/b2"), -ENOENT);
	EQ(nfs_mkdir(nfs, "/d/e"), 0);
	EQ(nfs_rmdir(nfs, "/d/e"), 0);

	/* READDIR(PLUS) of 10 000 entries */
	EQ(nfs_mkdir(nfs, "/many"), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "%s/many/file-%05d", local, i);
		close(open(buf, O_CREAT | O_WRONLY, 0644));	/* fast */
	}
	EQ(nfs_opendir(nfs, "/many", &dir), 0);
	n = 0;
	while ((de = nfs_readdir(nfs, dir)) != NULL)
		if (strncmp(de->name, "file-", 5) == 0)
			n++;
	nfs_closedir(nfs, dir);
	EQ(n, 10000);
	EQ(raw_lookup(rpc, rootfh, rootfhlen, "many", &c), NFS3_OK);
	memcpy(fh1, c->fh, c->fhlen);
	fh1len = c->fhlen;
	{
		READDIR3args	a;
		uint64_t	cookie = 0;
		int		calls = 0, total = 0, eof = 0;

		while (!eof && calls < 5000) {
			memset(&a, 0, sizeof(a));
			a.dir = mkfh(fh1, fh1len);
			a.cookie = cookie;
			a.count = 4096;
			c = rc_new();
			if (rc_wait(rpc, c, rpc_nfs3_readdir_async(rpc,
			    cb_readdir, &a, c)) != NFS3_OK)
				break;
			total += c->nentries;
			cookie = c->cookie;
			eof = c->eof;
			calls++;
		}
		EQ(total, 10000);
		OK(calls > 10);
		OK(eof);
	}

	/* > 4 GiB sparse file */
	EQ(nfs_creat(nfs, "/sparse", 0644, &fh), 0);
	EQ(nfs_pwrite(nfs, fh, 5ULL << 30, 4, "WXYZ"), 4);
	memset(buf, 0, 8);
	EQ(nfs_pread(nfs, fh, 5ULL << 30, 4, buf), 4);
	OK(memcmp(buf, "WXYZ", 4) == 0);
	EQ(nfs_pread(nfs, fh, 1ULL << 32, 4, buf), 4);
	OK(memcmp(buf, "\0\0\0\0", 4) == 0);
	nfs_close(nfs, fh);
	EQ(nfs_stat64(nfs, "/sparse", &st), 0);
	EQ(st.nfs_size, (5ULL << 30) + 4);

	/* UNSTABLE WRITE + COMMIT, verifiers */
	EQ(raw_lookup(rpc, rootfh, rootfhlen, "sparse", &c), NFS3_OK);
	memcpy(fh1, c->fh, c->fhlen);
	fh1len = c->fhlen;
	{
		WRITE3args	w;
		COMMIT3args	cm;

		memset(&w, 0, sizeof(w));
		w.file = mkfh(fh1, fh1len);
		w.offset = 100;
		w.count = 5;
		w.stable = UNSTABLE;
		w.data.data_len = 5;
		w.data.data_val = "hello";
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_write_async(rpc, cb_write, &w,
		    c)), NFS3_OK);
		EQ(c->count, 5u);
		EQ(c->committed, (uint32_t)UNSTABLE);
		memcpy(verf, c->verf, 8);
		w.stable = FILE_SYNC;
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_write_async(rpc, cb_write, &w,
		    c)), NFS3_OK);
		EQ(c->committed, (uint32_t)FILE_SYNC);
		memset(&cm, 0, sizeof(cm));
		cm.file = mkfh(fh1, fh1len);
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_commit_async(rpc, cb_commit, &cm,
		    c)), NFS3_OK);
		MEM(c->verf, verf, 8);
	}

	/* CREATE: GUARDED and EXCLUSIVE semantics */
	{
		CREATE3args	a;
		uint64_t	fileid;

		memset(&a, 0, sizeof(a));
		a.where.dir = mkfh(rootfh, rootfhlen);
		a.where.name = "excl";
		a.how.mode = EXCLUSIVE;
		memcpy(a.how.createhow3_u.verf, "12345678", 8);
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_create_async(rpc, cb_create, &a,
		    c)), NFS3_OK);
		fileid = c->attr.fileid;
		c = rc_new();	/* a retransmission with the same verifier */
		EQ(rc_wait(rpc, c, rpc_nfs3_create_async(rpc, cb_create, &a,
		    c)), NFS3_OK);
		EQ(c->attr.fileid, fileid);
		memcpy(a.how.createhow3_u.verf, "87654321", 8);
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_create_async(rpc, cb_create, &a,
		    c)), NFS3ERR_EXIST);
		memset(&a.how, 0, sizeof(a.how));	/* sattr3 shares it */
		a.how.mode = GUARDED;
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_create_async(rpc, cb_create, &a,
		    c)), NFS3ERR_EXIST);
		a.how.mode = UNCHECKED;
		c = rc_new();
		EQ(rc_wait(rpc, c, rpc_nfs3_create_async(rpc, cb_create, &a,
		    c)), NFS3_OK);
	}

	/* names with '/', "..", forged and stale handles */
	EQ(raw_lookup(rpc, rootfh, rootfhlen, "d/f", &c), NFS3ERR_INVAL);
	EQ(raw_lookup(rpc, rootfh, rootfhlen, "..", &c), NFS3_OK);
	{
		uint64_t up = c->attr.fileid;	/* ".." of the root: itself */

		EQ(raw_getattr(rpc, rootfh, rootfhlen), NFS3_OK);
		EQ(c->attr.fileid, up);
	}
	{
		uint8_t forged[64];

		memcpy(forged, rootfh, rootfhlen);
		forged[5] ^= 0x55;		/* another export id */
		EQ(raw_getattr(rpc, forged, rootfhlen), NFS3ERR_STALE);
		EQ(raw_getattr(rpc, rootfh, 3), NFS3ERR_BADHANDLE);
		memcpy(forged, rootfh, rootfhlen);
		forged[0] = 9;			/* version */
		EQ(raw_getattr(rpc, forged, rootfhlen), NFS3ERR_BADHANDLE);
		EQ(put_file(nfs, "/gone", "x", 1), 0);
		EQ(raw_lookup(rpc, rootfh, rootfhlen, "gone", &c), NFS3_OK);
		memcpy(forged, c->fh, c->fhlen);
		n = (int)c->fhlen;
		EQ(nfs_unlink(nfs, "/gone"), 0);
		EQ(raw_getattr(rpc, forged, (uint32_t)n), NFS3ERR_STALE);
	}

	/* root_squash: root becomes nobody */
	snprintf(buf, sizeof(buf), "%s/../squash/rootonly", local);
	f = fopen(buf, "w");
	if (f != NULL) {
		fputs("secret\n", f);
		fclose(f);
	}
	chmod(buf, 0600);
	EQ(nfs_open(sq, "/rootonly", O_RDONLY, &fh), -EACCES);
	EQ(nfs_mkdir(sq, "/newdir"), -EACCES);	/* dir is 0755 root */
	rc = nfs_chmod(sq, "/rootonly", 0666);
	EQ(rc, -EPERM);
	/* read-only export */
	EQ(nfs_mkdir(ro, "/x"), -EROFS);
	EQ(nfs_open(ro, "/readme", O_WRONLY, &fh) == 0 ?
	    nfs_pwrite(ro, fh, 0, 1, "x") : -EROFS, -EROFS);

	/* state for phase 2: a handle and the verifier */
	EQ(raw_lookup(rpc, rootfh, rootfhlen, "sparse", &c), NFS3_OK);
	if ((f = fopen(statefile, "w")) != NULL) {
		for (uint32_t i = 0; i < c->fhlen; i++)
			fprintf(f, "%02x", c->fh[i]);
		fprintf(f, "\n");
		for (int i = 0; i < 8; i++)
			fprintf(f, "%02x", (uint8_t)verf[i]);
		fprintf(f, "\n");
		fclose(f);
	}
	free(big);
	free(back);
}

static int
hexline(FILE *f, uint8_t *out, int max)
{
	char	line[300];
	int	n = 0;

	if (fgets(line, sizeof(line), f) == NULL)
		return -1;
	for (char *p = line; p[0] && p[1] && p[0] != '\n' && n < max; p += 2) {
		unsigned v;

		sscanf(p, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void
phase2(struct nfs_context *nfs, const char *statefile)
{
	struct rpc_context	*rpc = nfs_get_rpc_context(nfs);
	uint8_t			 fh[64], verf[8];
	int			 fhlen;
	FILE			*f = fopen(statefile, "r");
	struct rc		*c;
	WRITE3args		 w;

	OK(f != NULL);
	if (f == NULL)
		return;
	fhlen = hexline(f, fh, 64);
	EQ(hexline(f, verf, 8), 8);
	fclose(f);
	/* the handle from before the restart still works */
	EQ(raw_getattr(rpc, fh, (uint32_t)fhlen), NFS3_OK);
	memset(&w, 0, sizeof(w));
	w.file = mkfh(fh, (uint32_t)fhlen);
	w.offset = 200;
	w.count = 3;
	w.stable = UNSTABLE;
	w.data.data_len = 3;
	w.data.data_val = "abc";
	c = rc_new();
	EQ(rc_wait(rpc, c, rpc_nfs3_write_async(rpc, cb_write, &w, c)),
	    NFS3_OK);
	/* a new daemon: a new verifier, so clients resend unstable data */
	OK(memcmp(c->verf, verf, 8) != 0);
}

int
main(int argc, char **argv)
{
	struct nfs_context	*nfs, *sq = NULL, *ro = NULL;
	struct rc		*c;
	struct rpc_context	*rpc;
	char			*path;

	if (argc != 7) {
		fprintf(stderr, "usage: %s URL-RW URL-SQUASH URL-RO LOCALDIR "
		    "STATEFILE PHASE\n", argv[0]);
		return 2;
	}
	nfs = connect_url(argv[1]);
	OK(nfs != NULL);
	if (nfs == NULL)
		return t_done();
	rpc = nfs_get_rpc_context(nfs);
	/* the root handle, through MOUNT on the NFS connection */
	path = strchr(argv[1] + 6, '/');
	path = strndup(path, strcspn(path, "?"));
	c = rc_new();
	EQ(rc_wait(rpc, c, rpc_mount3_mnt_async(rpc, cb_mnt, path, c)),
	    MNT3_OK);
	memcpy(rootfh, c->fh, c->fhlen);
	rootfhlen = c->fhlen;
	free(path);
	if (strcmp(argv[6], "1") == 0) {
		sq = connect_url(argv[2]);
		ro = connect_url(argv[3]);
		OK(sq != NULL && ro != NULL);
		if (sq != NULL && ro != NULL)
			phase1(nfs, sq, ro, argv[4], argv[5]);
	} else {
		phase2(nfs, argv[5]);
	}
	if (sq != NULL)
		nfs_destroy_context(sq);
	if (ro != NULL)
		nfs_destroy_context(ro);
	nfs_destroy_context(nfs);
	return t_done();
}

/*
 * nfs3_dir.c — READDIR and READDIRPLUS.
 *
 * The directory is reopened with the caller's rights and read with
 * getdents64(2); the cookie of an entry is the file system's d_off for
 * it (ext4/xfs hash offsets, tmpfs positions), so a listing continues
 * with lseek(cookie) and cookies stay valid across calls and daemon
 * restarts.  The cookie verifier is always zero: we never answer
 * BAD_COOKIE.  Entries are added while the encoded reply still fits in
 * the client's count (READDIR) or dircount/maxcount (READDIRPLUS).
 * READDIRPLUS adds attributes and a handle for each entry except "..".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "export/nfs3_int.h"

struct linux_dirent64 {
	uint64_t	d_ino;
	int64_t		d_off;
	unsigned short	d_reclen;
	unsigned char	d_type;
	char		d_name[];
};

/* Encoded sizes (RFC 1813): resok without entries is dir_attributes,
 * cookieverf, the list terminator and eof; an entry is its "follows"
 * word, fileid, name, cookie; READDIRPLUS adds attributes and a handle. */
#define DIR_FIXED	(4 + 84 + 8 + 4 + 4)
#define ENT_SIZE(n)	(4 + 8 + 4 + (((n) + 3) & ~3u) + 8)
#define ATTR_SIZE(y)	((y) ? 4 + 84 : 4)
#define FH_SIZE(len)	((len) > 0 ? 4 + 4 + (((len) + 3) & ~3u) : 4)

/* Shared walker: calls add() per entry until it says stop. */
struct dwalk {
	struct nfs3_ctx	*x;
	int		 dfd;		/* readable directory */
	int		 plus;
	size_t		 dircount, maxcount, used, dirused;
	entry3		*e3, *e3last;
	entryplus3	*ep, *eplast;
	int		 n, eof;
};

static int
dw_add(struct dwalk *w, const struct linux_dirent64 *d)
{
	size_t		 nlen = strlen(d->d_name);
	size_t		 esz = ENT_SIZE(nlen), psz = esz;
	char		*name;
	struct stat	 st;
	uint8_t		 fh[NFS3_FHSIZE];
	uint32_t	 fhlen = 0;
	int		 have_st = 0;

	if (w->plus) {
		if (w->dirused + esz > w->dircount || w->used + esz +
		    ATTR_SIZE(0) + FH_SIZE(0) > w->maxcount)
			return 0;
		if (strcmp(d->d_name, "..") != 0 && fstatat(w->dfd, d->d_name,
		    &st, AT_SYMLINK_NOFOLLOW) == 0) {
			have_st = 1;
			if (nfs_fh_make(w->x->e, w->dfd, d->d_name, 0, fh,
			    &fhlen) < 0)
				fhlen = 0;
		}
		psz = esz + ATTR_SIZE(have_st) + FH_SIZE(fhlen);
	}
	if (w->used + psz > w->maxcount)
		return 0;
	name = nfs_req_alloc(w->x->r, nlen + 1);
	memcpy(name, d->d_name, nlen + 1);
	if (!w->plus) {
		entry3 *e = nfs_req_alloc(w->x->r, sizeof(*e));

		memset(e, 0, sizeof(*e));
		e->fileid = d->d_ino;
		e->name = name;
		e->cookie = (uint64_t)d->d_off;
		if (w->e3last != NULL)
			w->e3last->nextentry = e;
		else
			w->e3 = e;
		w->e3last = e;
	} else {
		entryplus3 *e = nfs_req_alloc(w->x->r, sizeof(*e) + fhlen);

		memset(e, 0, sizeof(*e));
		e->fileid = d->d_ino;
		e->name = name;
		e->cookie = (uint64_t)d->d_off;
		if (have_st) {
			nfs3_post_st(w->x, &st, &e->name_attributes);
			e->fileid = st.st_ino;
		}
		if (fhlen > 0) {
			memcpy(e + 1, fh, fhlen);
			e->name_handle.handle_follows = 1;
			e->name_handle.post_op_fh3_u.handle.data.data_len =
			    fhlen;
			e->name_handle.post_op_fh3_u.handle.data.data_val =
			    (char *)(e + 1);
		}
		if (w->eplast != NULL)
			w->eplast->nextentry = e;
		else
			w->ep = e;
		w->eplast = e;
	}
	w->used += psz;
	w->dirused += esz;
	w->n++;
	return 1;
}

/* Fill entries starting after cookie.  0 or nfsstat3. */
static int
dw_run(struct dwalk *w, uint64_t cookie)
{
	char	 buf[32768];
	size_t	 want;
	long	 n;

	/* read about as many entries as the reply can hold: a getdents64
	 * record is at most as large as a READDIR entry and about a
	 * quarter of a READDIRPLUS one; what is read and not sent is
	 * read again by the next call */
	want = w->plus ? MIN(w->maxcount / 3, w->dircount) : w->maxcount;
	want = MAX(MIN(want + 512, sizeof(buf)), (size_t)2048);

	if (cookie != 0 && lseek(w->dfd, (off_t)cookie, SEEK_SET) < 0)
		return NFS3ERR_BAD_COOKIE;
	for (;;) {
		n = getdents64(w->dfd, buf, want);
		if (n < 0)
			return nfs3_errno(errno);
		if (n == 0) {
			w->eof = 1;
			return 0;
		}
		for (long off = 0; off < n; ) {
			struct linux_dirent64 *d = (void *)(buf + off);

			if (!dw_add(w, d)) {
				/* the next call resumes at the last
				 * entry's cookie */
				return w->n == 0 ? NFS3ERR_TOOSMALL : 0;
			}
			off += d->d_reclen;
		}
	}
}

static int
dw_open(struct nfs3_ctx *x, const nfs_fh3 *fh, int *fdp, int *dfdp,
    struct stat *st)
{
	int rc;

	*dfdp = -1;
	if ((rc = nfs3_fh_open(x, fh, fdp, st)) != 0)
		return rc;
	if (!S_ISDIR(st->st_mode))
		return NFS3ERR_NOTDIR;
	nfs3_creds_user(x);
	if ((*dfdp = nfs3_reopen(x, *fdp, st, O_RDONLY | O_DIRECTORY)) < 0)
		return nfs3_errno(errno);
	return 0;
}

int
nfs3_readdir(struct nfs3_ctx *x, READDIR3args *a, READDIR3res *r)
{
	struct dwalk	w;
	struct stat	st;
	int		fd = -1, rc;

	memset(&w, 0, sizeof(w));
	w.x = x;
	if ((rc = dw_open(x, &a->dir, &fd, &w.dfd, &st)) != 0)
		goto out;
	w.maxcount = MIN(a->count, (uint32_t)NFS_MAXIO);
	w.used = DIR_FIXED;
	if ((rc = dw_run(&w, a->cookie)) != 0)
		goto out;
	r->READDIR3res_u.resok.reply.entries = w.e3;
	r->READDIR3res_u.resok.reply.eof = w.eof;
	nfs3_post(x, fd, &r->READDIR3res_u.resok.dir_attributes);
	x->r->hint = w.used;
out:
	if (rc != 0 && fd >= 0)
		nfs3_post(x, fd, &r->READDIR3res_u.resfail.dir_attributes);
	if (w.dfd >= 0)
		close(w.dfd);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
nfs3_readdirplus(struct nfs3_ctx *x, READDIRPLUS3args *a,
    READDIRPLUS3res *r)
{
	struct dwalk	w;
	struct stat	st;
	int		fd = -1, rc;

	memset(&w, 0, sizeof(w));
	w.x = x;
	w.plus = 1;
	if ((rc = dw_open(x, &a->dir, &fd, &w.dfd, &st)) != 0)
		goto out;
	w.maxcount = MIN(a->maxcount, (uint32_t)NFS_MAXIO);
	w.dircount = a->dircount > 0 ? a->dircount : w.maxcount;
	w.used = DIR_FIXED;
	if ((rc = dw_run(&w, a->cookie)) != 0)
		goto out;
	r->READDIRPLUS3res_u.resok.reply.entries = w.ep;
	r->READDIRPLUS3res_u.resok.reply.eof = w.eof;
	nfs3_post(x, fd, &r->READDIRPLUS3res_u.resok.dir_attributes);
	x->r->hint = w.used;
out:
	if (rc != 0 && fd >= 0)
		nfs3_post(x, fd, &r->READDIRPLUS3res_u.resfail.dir_attributes);
	if (w.dfd >= 0)
		close(w.dfd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * fuse_fs_dir.c — directory handles of the FUSE export layer: opendir,
 * readdir, readdirplus (a lookup per entry, so that ls -l needs no
 * further round trips), fsyncdir, releasedir.
 *
 * A handle is a DIR stream on the backing directory plus the entry read
 * but not yet returned (it did not fit the kernel's buffer), so that the
 * next call resumes there without seeking.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "export/fuse_fs_int.h"

struct fs_dir {
	DIR		*dp;
	off_t		 off;
	struct dirent	*ent;		/* read but not yet returned */
};

void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir	*d;
	int		 fd, err;

	ENTER(req);
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(fs_inode(req, ino)->fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (fd < 0 || (d->dp = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd >= 0)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		closedir(d->dp);
		free(d);
	}
}

static int
is_dot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

static void
do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi, int plus)
{
	struct fuse_fs	*fs = fs_of(req);
	struct fs_dir	*d = (struct fs_dir *)(uintptr_t)fi->fh;
	char		*buf, *p;
	size_t		 rem = size, sz;
	int		 err = 0;

	ENTER(req);
	if ((buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off != d->off) {
		seekdir(d->dp, off);
		d->ent = NULL;
		d->off = off;
	}
	p = buf;
	for (;;) {
		struct fuse_entry_param	 e;
		struct dirent		*ent;

		if (d->ent == NULL) {
			errno = 0;
			if ((d->ent = readdir(d->dp)) == NULL) {
				err = errno;
				break;
			}
		}
		ent = d->ent;
		if (plus && !is_dot(ent->d_name)) {
			if ((err = do_lookup(fs, fs_inode(req, ino),
			    ent->d_name, &e)) == ENOENT) {
				/* gone since readdir: skip it */
				d->ent = NULL;
				d->off = ent->d_off;
				err = 0;
				continue;
			}
			if (err != 0)
				break;
			sz = fuse_add_direntry_plus(req, p, rem, ent->d_name,
			    &e, ent->d_off);
			if (sz > rem) {
				inode_forget(fs, fs_inode(req, e.ino), 1);
				break;
			}
		} else if (plus) {
			memset(&e, 0, sizeof(e));	/* node id 0: the
							 * kernel does not
							 * cache it */
			e.attr.st_ino = ent->d_ino;
			e.attr.st_mode = DTTOIF(ent->d_type);
			sz = fuse_add_direntry_plus(req, p, rem, ent->d_name,
			    &e, ent->d_off);
			if (sz > rem)
				break;
		} else {
			struct stat	st;

			memset(&st, 0, sizeof(st));
			st.st_ino = ent->d_ino;
			st.st_mode = DTTOIF(ent->d_type);
			sz = fuse_add_direntry(req, p, rem, ent->d_name, &st,
			    ent->d_off);
			if (sz > rem)
				break;
		}
		p += sz;
		rem -= sz;
		d->off = ent->d_off;
		d->ent = NULL;
	}
	if (err != 0 && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

void
op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir	*d = (struct fs_dir *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

void
op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct fs_dir	*d = (struct fs_dir *)(uintptr_t)fi->fh;
	int		 fd, r;

	(void)ino;
	ENTER(req);
	fd = dirfd(d->dp);
	r = fd_sync_durable(fd, datasync);
	fuse_reply_err(req, r < 0 ? fs_ioerr(fs_of(req), fd, errno,
	    "FUSE fsyncdir") : 0);
}


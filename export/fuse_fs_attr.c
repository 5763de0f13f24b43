/*
 * fuse_fs_attr.c — statfs, extended attributes and access(2) of the
 * FUSE export layer.  Samba keeps DOS attributes, stream data and NT
 * ACLs in user.* / security.* attributes, so these pass through as
 * they are, with the backing file system's errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "export/fuse_fs_int.h"

void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs	sv;

	ENTER(req);
	if (fstatvfs(fs_inode(req, ino)->fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes (Samba keeps DOS attributes and ACLs there) */

/*
 * xattr calls need a path: /proc/self/fd/N of the O_PATH fd.  That
 * would follow a symlink, whose user.* attributes Linux refuses anyway:
 * EPERM (set) / ENODATA (get, list empty) as on a local file system.
 */
static int
xattr_path(fuse_req_t req, fuse_ino_t ino, char *p, int *islnk)
{
	struct fs_inode	*n = fs_inode(req, ino);
	struct stat	 st;

	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	*islnk = S_ISLNK(st.st_mode);
	procpath(p, n->fd);
	return 0;
}

void
op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	char	p[PROCFD_MAX];
	int	err, lnk;

	ENTER(req);
	if ((err = xattr_path(req, ino, p, &lnk)) != 0)
		fuse_reply_err(req, err);
	else if (lnk)
		fuse_reply_err(req, EPERM);
	else
		fuse_reply_err(req, setxattr(p, name, value, size, flags) < 0 ?
		    errno : 0);
}

void
op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char	 p[PROCFD_MAX], *buf = NULL;
	ssize_t	 r;
	int	 err, lnk;

	ENTER(req);
	if ((err = xattr_path(req, ino, p, &lnk)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	if (lnk) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = getxattr(p, name, buf, size);
	if (r < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

void
op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char	 p[PROCFD_MAX], *buf = NULL;
	ssize_t	 r;
	int	 err, lnk;

	ENTER(req);
	if ((err = xattr_path(req, ino, p, &lnk)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	if (lnk) {
		if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = listxattr(p, buf, size);
	if (r < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

void
op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char	p[PROCFD_MAX];
	int	err, lnk;

	ENTER(req);
	if ((err = xattr_path(req, ino, p, &lnk)) != 0)
		fuse_reply_err(req, err);
	else if (lnk)
		fuse_reply_err(req, ENODATA);
	else
		fuse_reply_err(req, removexattr(p, name) < 0 ? errno : 0);
}

/*
 * access(2): with default_permissions the kernel answers it itself and
 * never asks; kept for a mount without it.  Checked against the mode
 * bits with the caller's ids and groups, as the kernel would.
 */
void
op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx	*c = fuse_req_ctx(req);
	struct stat		 st;
	gid_t			 groups[64];
	int			 ng, i, bits, ingroup;

	ENTER(req);
	if (fstatat(fs_inode(req, ino)->fd, "", &st, AT_EMPTY_PATH |
	    AT_SYMLINK_NOFOLLOW) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (mask == F_OK) {
		fuse_reply_err(req, 0);
		return;
	}
	if (c->uid == 0) {
		/* root: execute needs one x bit somewhere (or a dir) */
		fuse_reply_err(req, (mask & X_OK) && !S_ISDIR(st.st_mode) &&
		    !(st.st_mode & 0111) ? EACCES : 0);
		return;
	}
	ingroup = st.st_gid == c->gid;
	ng = fuse_req_getgroups(req, 64, groups);
	for (i = 0; !ingroup && i < ng && i < 64; i++)
		ingroup = groups[i] == st.st_gid;
	if (st.st_uid == c->uid)
		bits = (st.st_mode >> 6) & 7;
	else if (ingroup)
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	fuse_reply_err(req, (mask & ~bits & 7) ? EACCES : 0);
}

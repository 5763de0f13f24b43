/*
 * fuse_fs.c — the FUSE export layer's file operations: a libfuse3
 * low-level passthrough of one backing directory (docs/fuse.md).
 *
 * Owns the inode table, the session (mount, multithreaded loop, stop)
 * and every operation except the byte-range locks (fuse_fs_lock.c).
 *
 * Inodes: the kernel's node id is the address of a struct fs_inode,
 * found again by the backing file's (st_dev, st_ino) so that hard links
 * and repeated lookups share one entry.  The entry holds an O_PATH fd on
 * the backing file, which also keeps the backing inode number from being
 * reused while the kernel still knows the node; it goes when the
 * kernel's lookup count (FORGET) reaches 0.  Operations that need a real
 * descriptor reopen the file through /proc/self/fd/N.
 *
 * Credentials: the mount uses default_permissions, so the kernel checks
 * every access against the mode bits the layer reports before an
 * operation reaches us; the daemon then acts as root.  A created object
 * (create, mknod, mkdir, symlink) is handed to the caller with fchownat
 * right after it is made (group: the caller's, or the directory's when
 * that is set-group-id, as the kernel would do).  The alternative,
 * setfsuid per worker, would lose the caller's supplementary groups,
 * which the kernel did honour.  Each worker thread has its own umask of
 * 0 (unshare(CLONE_FS)): the kernel applied the caller's umask already.
 *
 * Fencing: every operation first asks the gate (fs_enter); stop makes
 * it refuse everything, then unmounts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/util.h"
#include "export/fuse_fs_int.h"



/* fi->fh of a file: the backing fd, and whether it is O_DIRECT */
#define FH_FD(fi)	((int)((fi)->fh & 0xffffffffU))
#define FH_DIRECT	(1ULL << 40)

void
procpath(char *p, int fd)
{
	snprintf(p, PROCFD_MAX, "/proc/self/fd/%d", fd);
}

struct fuse_fs *
fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct fs_inode *
fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs_of(req)->root;
	return (struct fs_inode *)(uintptr_t)ino;
}

/*
 * Once per worker thread: a private umask of 0.  libfuse makes the
 * threads, so this runs lazily on the first operation of each.
 */
static _Thread_local int thread_ready;

static void
thread_init(void)
{
	if (thread_ready)
		return;
	if (unshare(CLONE_FS) == 0)
		umask(0);
	thread_ready = 1;
}

int
fs_gate_ok(struct fuse_fs *fs)
{
	int	ok = 1;

	if (atomic_load(&fs->stopping))
		return 0;
	pthread_rwlock_rdlock(&fs->gatelk);
	if (fs->gate != NULL)
		ok = fs->gate(fs->conf.expid, fs->gatearg) != 0;
	pthread_rwlock_unlock(&fs->gatelk);
	return ok;
}

int
fs_ioerr(struct fuse_fs *fs, int fd, int err, const char *what)
{
	if (err != EIO)
		return err;
	pthread_rwlock_rdlock(&fs->gatelk);
	if (fs->ioerr != NULL)
		fs->ioerr(fs->conf.expid, fd, err, what, fs->ioerrarg);
	pthread_rwlock_unlock(&fs->gatelk);
	errno = err;
	return err;
}

int
fs_enter(fuse_req_t req)
{
	struct fuse_fs	*fs = fs_of(req);

	thread_init();
	atomic_fetch_add(&fs->ops, 1);
	if (fs_gate_ok(fs))
		return 0;
	atomic_fetch_add(&fs->gated, 1);
	return EIO;
}

/* ---- inode table ---- */

static size_t
ihash(const struct fuse_fs *fs, dev_t dev, ino_t ino)
{
	uint64_t	h = ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ ino;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h & (fs->itabsz - 1);
}

static void
itab_grow(struct fuse_fs *fs)
{
	size_t		  nsz = fs->itabsz * 2, i, h;
	struct fs_inode	**nt, *n, *next;
	size_t		  osz = fs->itabsz;
	struct fs_inode	**ot = fs->itab;

	if ((nt = calloc(nsz, sizeof(*nt))) == NULL)
		return;		/* longer chains, still correct */
	fs->itab = nt;
	fs->itabsz = nsz;
	for (i = 0; i < osz; i++)
		for (n = ot[i]; n != NULL; n = next) {
			next = n->next;
			h = ihash(fs, n->dev, n->ino);
			n->next = nt[h];
			nt[h] = n;
		}
	free(ot);
}

/*
 * The entry for the file open as fd (O_PATH), with one more kernel
 * reference; takes fd over (closes it when an entry exists already).
 * NULL with errno on allocation failure.
 */
struct fs_inode *
inode_get(struct fuse_fs *fs, int fd, const struct stat *st)
{
	struct fs_inode	*n;
	size_t		 h;

	if (st->st_dev == fs->root.dev && st->st_ino == fs->root.ino) {
		close(fd);
		return &fs->root;
	}
	pthread_mutex_lock(&fs->imu);
	h = ihash(fs, st->st_dev, st->st_ino);
	for (n = fs->itab[h]; n != NULL; n = n->next)
		if (n->dev == st->st_dev && n->ino == st->st_ino)
			break;
	if (n != NULL) {
		n->nlookup++;
		pthread_mutex_unlock(&fs->imu);
		close(fd);
		return n;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		pthread_mutex_unlock(&fs->imu);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	n->fd = fd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->nlookup = 1;
	pthread_mutex_init(&n->khmu, NULL);
	n->next = fs->itab[h];
	fs->itab[h] = n;
	if (++fs->icount > fs->itabsz * 2)
		itab_grow(fs);
	pthread_mutex_unlock(&fs->imu);
	return n;
}

void
inode_forget(struct fuse_fs *fs, struct fs_inode *n, uint64_t count)
{
	struct fs_inode	**pp;

	if (n == &fs->root)
		return;
	pthread_mutex_lock(&fs->imu);
	if (count > n->nlookup)
		count = n->nlookup;	/* the kernel never does this */
	n->nlookup -= count;
	if (n->nlookup > 0) {
		pthread_mutex_unlock(&fs->imu);
		return;
	}
	for (pp = &fs->itab[ihash(fs, n->dev, n->ino)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	fs->icount--;
	pthread_mutex_unlock(&fs->imu);
	close(n->fd);
	fs_inode_locks_free(n);
	pthread_mutex_destroy(&n->khmu);
	free(n);
}

/* the known inode of st, with one more kernel reference, or NULL */
static struct fs_inode *
inode_find(struct fuse_fs *fs, const struct stat *st)
{
	struct fs_inode	*n;

	if (st->st_dev == fs->root.dev && st->st_ino == fs->root.ino)
		return &fs->root;
	pthread_mutex_lock(&fs->imu);
	for (n = fs->itab[ihash(fs, st->st_dev, st->st_ino)]; n != NULL;
	    n = n->next)
		if (n->dev == st->st_dev && n->ino == st->st_ino) {
			n->nlookup++;
			break;
		}
	pthread_mutex_unlock(&fs->imu);
	return n;
}

fuse_ino_t
node_id(struct fuse_fs *fs, struct fs_inode *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* Look name up in parent: fills e (one more kernel reference). */
int
do_lookup(struct fuse_fs *fs, struct fs_inode *p, const char *name,
    struct fuse_entry_param *e)
{
	struct fs_inode	*n;
	int		 fd, err;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = e->entry_timeout = fs->conf.attr_timeout;
	/*
	 * The inode is often known already (a readdirplus names every
	 * entry again, and Samba scans a directory for a case-insensitive
	 * match before each create): then one stat of the name does, and
	 * the entry's O_PATH descriptor pins the inode number, so the
	 * attributes are that inode's even if the name moved meanwhile.
	 */
	if (fstatat(p->fd, name, &e->attr, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	if ((n = inode_find(fs, &e->attr)) != NULL) {
		e->ino = node_id(fs, n);
		return 0;
	}
	fd = openat(p->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH |
	    AT_SYMLINK_NOFOLLOW) < 0) {
		err = errno;
		close(fd);
		return err;
	}
	if ((n = inode_get(fs, fd, &e->attr)) == NULL)
		return errno;
	e->ino = node_id(fs, n);
	return 0;
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param	e;
	int			err;

	ENTER(req);
	err = do_lookup(fs_of(req), fs_inode(req, parent), name, &e);
	if (err == ENOENT && fs_of(req)->conf.attr_timeout > 0) {
		/* a negative entry, cached like a positive one */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs_of(req)->conf.attr_timeout;
		fuse_reply_entry(req, &e);
	} else if (err != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(fs_of(req), fs_inode(req, ino), nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	size_t	i;

	for (i = 0; i < count; i++)
		inode_forget(fs_of(req), fs_inode(req, forgets[i].ino),
		    forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat	st;

	(void)fi;
	ENTER(req);
	if (fstatat(fs_inode(req, ino)->fd, "", &st, AT_EMPTY_PATH |
	    AT_SYMLINK_NOFOLLOW) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, fs_of(req)->conf.attr_timeout);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	struct fs_inode	*n = fs_inode(req, ino);
	char		 p[PROCFD_MAX];
	struct stat	 st;
	int		 r;

	ENTER(req);
	procpath(p, n->fd);
	if (valid & FUSE_SET_ATTR_MODE) {
		r = chmod(p, attr->st_mode);
		if (r < 0)
			goto fail;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t	u = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid :
		    (uid_t)-1;
		gid_t	g = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid :
		    (gid_t)-1;

		if (fchownat(n->fd, "", u, g, AT_EMPTY_PATH |
		    AT_SYMLINK_NOFOLLOW) < 0)
			goto fail;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		r = fi != NULL ? ftruncate(FH_FD(fi), attr->st_size) :
		    truncate(p, attr->st_size);
		if (r < 0)
			goto fail;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec	ts[2];

		ts[0].tv_sec = ts[1].tv_sec = 0;
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		r = utimensat(AT_FDCWD, p, ts, 0);
		if (r < 0)
			goto fail;
	}
	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;
	fuse_reply_attr(req, &st, fs_of(req)->conf.attr_timeout);
	return;
fail:
	fuse_reply_err(req, errno);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char	buf[PATH_MAX + 1];
	ssize_t	r;

	ENTER(req);
	r = readlinkat(fs_inode(req, ino)->fd, "", buf, sizeof(buf));
	if (r < 0)
		fuse_reply_err(req, errno);
	else if ((size_t)r >= sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[r] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/*
 * Give the object just made as name in p to the calling process (see
 * the top of the file).  0 or an errno; the object is removed again on
 * failure so that no root-owned file is left behind.
 */
static int
give_to_caller(fuse_req_t req, struct fs_inode *p, const char *name,
    int isdir)
{
	const struct fuse_ctx	*c = fuse_req_ctx(req);
	struct stat		 pst;
	gid_t			 g = c->gid;
	int			 err;

	if (c->uid == 0 && c->gid == 0)
		return 0;
	if (fstatat(p->fd, "", &pst, AT_EMPTY_PATH) == 0 &&
	    (pst.st_mode & S_ISGID))
		g = pst.st_gid;
	if (fchownat(p->fd, name, c->uid, g, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	err = errno;
	unlinkat(p->fd, name, isdir ? AT_REMOVEDIR : 0);
	return err;
}

static void
reply_new(fuse_req_t req, struct fs_inode *p, const char *name, int isdir)
{
	struct fuse_entry_param	e;
	int			err;

	if ((err = give_to_caller(req, p, name, isdir)) == 0 &&
	    (err = do_lookup(fs_of(req), p, name, &e)) == 0)
		fuse_reply_entry(req, &e);
	else
		fuse_reply_err(req, err);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	struct fs_inode	*p = fs_inode(req, parent);

	ENTER(req);
	if (mknodat(p->fd, name, mode, rdev) < 0)
		fuse_reply_err(req, errno);
	else
		reply_new(req, p, name, 0);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_inode	*p = fs_inode(req, parent);

	ENTER(req);
	if (mkdirat(p->fd, name, mode) < 0)
		fuse_reply_err(req, errno);
	else
		reply_new(req, p, name, 1);
}

static void
op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
    const char *name)
{
	struct fs_inode	*p = fs_inode(req, parent);

	ENTER(req);
	if (symlinkat(link, p->fd, name) < 0)
		fuse_reply_err(req, errno);
	else
		reply_new(req, p, name, 0);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ENTER(req);
	fuse_reply_err(req, unlinkat(fs_inode(req, parent)->fd, name, 0) < 0 ?
	    errno : 0);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ENTER(req);
	fuse_reply_err(req, unlinkat(fs_inode(req, parent)->fd, name,
	    AT_REMOVEDIR) < 0 ? errno : 0);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	int	r;

	ENTER(req);
	r = renameat2(fs_inode(req, parent)->fd, name,
	    fs_inode(req, newparent)->fd, newname, flags);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct fs_inode		*n = fs_inode(req, ino);
	struct fuse_entry_param	 e;
	int			 err;

	ENTER(req);
	/* AT_EMPTY_PATH on the O_PATH fd: links symlinks too, root only */
	if (linkat(n->fd, "", fs_inode(req, newparent)->fd, newname,
	    AT_EMPTY_PATH) < 0)
		fuse_reply_err(req, errno);
	else if ((err = do_lookup(fs_of(req), fs_inode(req, newparent),
	    newname, &e)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/*
 * Flags for the backing open.  With the writeback cache the kernel
 * reads pages around partial writes (so write-only becomes read-write)
 * and places appends itself (so O_APPEND must not move them again).
 */
static int
open_flags(const struct fuse_fs *fs, int flags)
{
	flags &= ~O_NOFOLLOW;
	if (fs->conf.writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags;
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char	p[PROCFD_MAX];
	int	fd;

	ENTER(req);
	procpath(p, fs_inode(req, ino)->fd);
	fd = open(p, open_flags(fs_of(req), fi->flags) | O_CLOEXEC);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = (uint64_t)fd | ((fi->flags & O_DIRECT) ? FH_DIRECT : 0);
	fi->keep_cache = 0;	/* other heads' and NFS' writes show */
	fi->direct_io = fs_of(req)->conf.direct_io != 0;
	if (fuse_reply_open(req, fi) != 0)
		close(fd);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct fs_inode		*p = fs_inode(req, parent);
	struct fuse_entry_param	 e;
	int			 fd, err;

	ENTER(req);
	fd = openat(p->fd, name, open_flags(fs_of(req), fi->flags) | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if ((err = give_to_caller(req, p, name, 0)) != 0 ||
	    (err = do_lookup(fs_of(req), p, name, &e)) != 0) {
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)fd | ((fi->flags & O_DIRECT) ? FH_DIRECT : 0);
	fi->direct_io = fs_of(req)->conf.direct_io != 0;
	if (fuse_reply_create(req, &e, fi) != 0) {
		close(fd);
		inode_forget(fs_of(req), fs_inode(req, e.ino), 1);
	}
}

/*
 * O_DIRECT: the backing file is open with O_DIRECT too (no page cache
 * on either side), which wants aligned memory; libfuse's buffers are
 * not, so the data goes through one aligned buffer per worker thread.
 */
#define DIRECT_MAX	((1U << 20) + 4096)
static pthread_key_t	direct_key;
static pthread_once_t	direct_once = PTHREAD_ONCE_INIT;

static void
direct_key_make(void)
{
	pthread_key_create(&direct_key, free);
}

static char *
direct_buf(size_t n)
{
	void	*p;

	if (n > DIRECT_MAX)
		return NULL;
	pthread_once(&direct_once, direct_key_make);
	if ((p = pthread_getspecific(direct_key)) == NULL) {
		if (posix_memalign(&p, 4096, DIRECT_MAX) != 0)
			return NULL;
		pthread_setspecific(direct_key, p);
	}
	return p;
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fuse_bufvec	b = FUSE_BUFVEC_INIT(size);

	(void)ino;
	ENTER(req);
	if (fi->fh & FH_DIRECT) {
		char	*a = direct_buf(size);
		ssize_t	 r;

		if (a == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		r = pread(FH_FD(fi), a, size, off);
		if (r < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_buf(req, a, (size_t)r);
		return;
	}
	/* an fd buffer: libfuse splices it to /dev/fuse when the session
	 * negotiated FUSE_CAP_SPLICE_WRITE, else reads into memory */
	b.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	b.buf[0].fd = FH_FD(fi);
	b.buf[0].pos = off;
	fuse_reply_data(req, &b, 0);
}

static void
op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
    off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec	out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	ssize_t			r;

	(void)ino;
	ENTER(req);
	if (fi->fh & FH_DIRECT) {
		struct fuse_bufvec	 ab = FUSE_BUFVEC_INIT(fuse_buf_size(in));
		char			*a = direct_buf(fuse_buf_size(in));

		if (a == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		ab.buf[0].mem = a;
		r = fuse_buf_copy(&ab, in, 0);
		if (r >= 0 && (r = pwrite(FH_FD(fi), a, (size_t)r, off)) < 0)
			r = -fs_ioerr(fs_of(req), FH_FD(fi), errno,
			    "FUSE write");
		if (r < 0)
			fuse_reply_err(req, (int)-r);
		else
			fuse_reply_write(req, (size_t)r);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = FH_FD(fi);
	out.buf[0].pos = off;
	r = fuse_buf_copy(&out, in, 0);
	if (r < 0)
		fuse_reply_err(req, fs_ioerr(fs_of(req), FH_FD(fi), (int)-r,
		    "FUSE write"));
	else
		fuse_reply_write(req, (size_t)r);
}

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int	fd;

	/* a close(2) of one descriptor: that process' POSIX locks go,
	 * even when the gate is closed (the table must not keep them) */
	fs_unlock_owner(fs_of(req), fs_inode(req, ino), fi->lock_owner, 0);
	ENTER(req);
	/* the backing file's own close-time errors (e.g. NFS) show here */
	fd = dup(FH_FD(fi));
	if (fd < 0 || close(fd) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->flock_release)
		fs_unlock_owner(fs_of(req), fs_inode(req, ino),
		    fi->lock_owner, 1);
	fs_release_locks(fs_of(req), fs_inode(req, ino), fi->fh);
	close(FH_FD(fi));
	fuse_reply_err(req, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	int	r;

	(void)ino;
	ENTER(req);
	r = fd_sync_durable(FH_FD(fi), datasync);
	fuse_reply_err(req, r < 0 ? fs_ioerr(fs_of(req), FH_FD(fi), errno,
	    "FUSE fsync") : 0);
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fuse_fs	*fs = userdata;

	if (conn->capable & FUSE_CAP_POSIX_LOCKS)
		conn->want |= FUSE_CAP_POSIX_LOCKS;
	if (conn->capable & FUSE_CAP_FLOCK_LOCKS)
		conn->want |= FUSE_CAP_FLOCK_LOCKS;
	if (fs->conf.splice && (conn->capable & FUSE_CAP_SPLICE_WRITE))
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	else
		conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	/*
	 * Without the writeback cache (the default) writes go through:
	 * what was written is on the backing file system when write
	 * returns.  With it the kernel gathers writes in the mount's page
	 * cache and sends them later, in parallel (docs/fuse.md).
	 */
	if (fs->conf.writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	conn->max_write = 1U << 20;
	conn->max_read = 1U << 20;	/* = the mount option */
	conn->max_readahead = 1U << 20;
}

const struct fuse_lowlevel_ops fuse_fs_ops = {
	.init		= op_init,
	.lookup		= op_lookup,
	.forget		= op_forget,
	.forget_multi	= op_forget_multi,
	.getattr	= op_getattr,
	.setattr	= op_setattr,
	.readlink	= op_readlink,
	.mknod		= op_mknod,
	.mkdir		= op_mkdir,
	.unlink		= op_unlink,
	.rmdir		= op_rmdir,
	.symlink	= op_symlink,
	.rename		= op_rename,
	.link		= op_link,
	.open		= op_open,
	.create		= op_create,
	.read		= op_read,
	.write_buf	= op_write_buf,
	.flush		= op_flush,
	.release	= op_release,
	.fsync		= op_fsync,
	.opendir	= op_opendir,
	.readdir	= op_readdir,
	.readdirplus	= op_readdirplus,
	.releasedir	= op_releasedir,
	.fsyncdir	= op_fsyncdir,
	.statfs		= op_statfs,
	.setxattr	= op_setxattr,
	.getxattr	= op_getxattr,
	.listxattr	= op_listxattr,
	.removexattr	= op_removexattr,
	.access		= op_access,
	.getlk		= fs_getlk,
	.setlk		= fs_setlk,
	.flock		= fs_flock,
};

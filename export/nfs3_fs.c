/*
 * nfs3_fs.c — what every NFS v3 procedure needs from the file system:
 * resolving a file handle, per-request credentials, attributes and wcc
 * data, errno -> NFS3ERR_* mapping, name checks.  Worker threads only.
 *
 * A handle is resolved as root (open_by_handle_at needs
 * CAP_DAC_READ_SEARCH) to an O_PATH descriptor; then the thread switches
 * to the caller's identity (setfsuid/setfsgid and the raw setgroups
 * system call: glibc's setgroups() would change every thread) so the
 * kernel does all permission checks: a squashed root loses
 * CAP_DAC_OVERRIDE like any user.  Data access reopens the O_PATH fd
 * through /proc/self/fd, which checks permissions on the inode.
 * A handle's MAC is checked before anything else of it is believed
 * (nfs_fh.c); then the object must still lie below the export root
 * (obj_inside).  The first handle of a call decides whether it is
 * served at all: an offline, disabled or fenced (HA gate) export gets
 * the call dropped (x->drop), before any file system work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs3_int.h"

uint8_t nfs_write_verf[8];

static __thread uint32_t tl_uid, tl_gid, tl_ngids;
static __thread gid_t	 tl_gids[NFS_MAX_GIDS];

static void
creds_set(uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids)
{
	gid_t g[NFS_MAX_GIDS];

	for (uint32_t i = 0; i < ngids; i++)
		g[i] = gids[i];
	if (ngids != tl_ngids || memcmp(g, tl_gids, ngids * sizeof(g[0]))) {
		/* the raw call: per thread, unlike glibc's setgroups() */
		syscall(SYS_setgroups, (size_t)ngids, g);
		memcpy(tl_gids, g, ngids * sizeof(g[0]));
		tl_ngids = ngids;
	}
	if (gid != tl_gid) {
		setfsgid(gid);
		tl_gid = gid;
	}
	if (uid != tl_uid) {
		setfsuid(uid);
		tl_uid = uid;
	}
}

void
nfs3_creds_root(void)
{
	creds_set(0, 0, 0, NULL);
}

void
nfs3_creds_user(struct nfs3_ctx *x)
{
	creds_set(x->uid, x->gid, x->ngids, x->gids);
}

int
nfs3_errno(int e)
{
	switch (e) {
	case 0:			return NFS3_OK;
	case EPERM:		return NFS3ERR_PERM;
	case ENOENT:		return NFS3ERR_NOENT;
	case ENXIO:		return NFS3ERR_NXIO;
	case EACCES:		return NFS3ERR_ACCES;
	case EEXIST:		return NFS3ERR_EXIST;
	case EXDEV:		return NFS3ERR_XDEV;
	case ENODEV:		return NFS3ERR_NODEV;
	case ENOTDIR:		return NFS3ERR_NOTDIR;
	case EISDIR:		return NFS3ERR_ISDIR;
	case EINVAL:		return NFS3ERR_INVAL;
	case ELOOP:		return NFS3ERR_INVAL;
	case EFBIG:		return NFS3ERR_FBIG;
	case ENOSPC:		return NFS3ERR_NOSPC;
	case EROFS:		return NFS3ERR_ROFS;
	case EMLINK:		return NFS3ERR_MLINK;
	case ENAMETOOLONG:	return NFS3ERR_NAMETOOLONG;
	case ENOTEMPTY:		return NFS3ERR_NOTEMPTY;
	case EDQUOT:		return NFS3ERR_DQUOT;
	case ESTALE:		return NFS3ERR_STALE;
	case EOPNOTSUPP:	return NFS3ERR_NOTSUPP;
	case EBADF:		return NFS3ERR_STALE;
	default:		return NFS3ERR_IO;
	}
}

/* Identity for this request from the credential and the export's
 * client options.  0 or an nfsstat3. */
static int
ctx_identity(struct nfs3_ctx *x)
{
	const struct nfs_cred	*c = &x->r->cred;
	const struct nfs_client	*cl = x->cl;

	if (c->flavor == AUTH_UNIX && (cl->flags & NFS_EXP_AUTH_SYS)) {
		x->uid = c->uid;
		x->gid = c->gid;
		x->ngids = c->ngids;
		memcpy(x->gids, c->gids, sizeof(x->gids));
	} else if (c->flavor == AUTH_NONE && (cl->flags & NFS_EXP_AUTH_NONE)) {
		x->uid = cl->anonuid;
		x->gid = cl->anongid;
		x->ngids = 0;
	} else {
		/* a flavor this export does not accept for this client:
		 * refused at the RPC level, as RFC 5531 has it */
		x->autherr = NFS_AUTH_TOOWEAK;
		return NFS3ERR_ACCES;
	}
	if (cl->flags & NFS_EXP_ALL_SQUASH) {
		x->uid = cl->anonuid;
		x->gid = cl->anongid;
		x->ngids = 0;
	} else if (cl->flags & NFS_EXP_ROOT_SQUASH) {
		if (x->uid == 0)
			x->uid = cl->anonuid;
		if (x->gid == 0)
			x->gid = cl->anongid;
		for (uint32_t i = 0; i < x->ngids; i++)
			if (x->gids[i] == 0)
				x->gids[i] = cl->anongid;
	}
	if (cl->flags & NFS_EXP_SECURE) {
		const struct sockaddr_storage *ss = &x->r->peer;
		uint16_t port = ss->ss_family == AF_INET ?
		    ntohs(((const struct sockaddr_in *)ss)->sin_port) :
		    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);

		if (port >= 1024) {
			x->autherr = NFS_AUTH_TOOWEAK;
			return NFS3ERR_ACCES;
		}
	}
	x->rw = (cl->flags & NFS_EXP_RW) != 0;
	return 0;
}

/*
 * Objects found inside an export recently: the subtree check reads the
 * kernel's name of the object (a readlink of /proc/self/fd/N), and
 * clients resolve the same few handles over and over.  Entries expire
 * after a second, so an object moved out of the export is caught soon.
 */
#define INC_SIZE	1024
#define INC_TTL_MS	1000
static struct {
	dev_t		dev;
	ino_t		ino;
	uint32_t	expid;
	uint64_t	when;
} inc[INC_SIZE];
static pthread_mutex_t inc_mtx = PTHREAD_MUTEX_INITIALIZER;

static int
inc_hit(const struct nfs_export *e, const struct stat *st)
{
	unsigned	i = (unsigned)(st->st_ino ^ st->st_dev) % INC_SIZE;
	int		hit;

	pthread_mutex_lock(&inc_mtx);
	hit = inc[i].ino == st->st_ino && inc[i].dev == st->st_dev &&
	    inc[i].expid == e->id && now_ms() - inc[i].when < INC_TTL_MS;
	pthread_mutex_unlock(&inc_mtx);
	return hit;
}

static void
inc_add(const struct nfs_export *e, const struct stat *st)
{
	unsigned i = (unsigned)(st->st_ino ^ st->st_dev) % INC_SIZE;

	pthread_mutex_lock(&inc_mtx);
	inc[i].ino = st->st_ino;
	inc[i].dev = st->st_dev;
	inc[i].expid = e->id;
	inc[i].when = now_ms();
	pthread_mutex_unlock(&inc_mtx);
}

/*
 * The subtree check, on top of the MAC (which proves the handle was
 * issued for this export): is the object fd (stat st) still below the
 * export root?  The kernel always connects a directory's dentry to the
 * root when it resolves a handle, so a directory's name is exact.  A
 * file with one link whose dentry is connected must be below the root
 * too (it was moved or hard-linked out and unlinked inside: stale).  A
 * file with several links may be reached through any of them, and a
 * disconnected dentry (named "/": after the dentry cache dropped it, or
 * on the other head) tells nothing; both are accepted on the MAC, as
 * knfsd does for every file with no_subtree_check.
 */
static int
obj_inside(const struct nfs_export *e, int fd, const struct stat *st)
{
	char	proc[40], path[PATH_MAX];
	ssize_t	n;
	int	ok;

	if (e->realpathlen == 0 || (st->st_ino == e->ino &&
	    st->st_dev == e->dev))
		return 1;		/* the root, or an export of "/" */
	if (!S_ISDIR(st->st_mode) && st->st_nlink != 1)
		return 1;
	if (inc_hit(e, st))
		return 1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = 0;
	if (!S_ISDIR(st->st_mode) && strcmp(path, "/") == 0)
		return 1;		/* disconnected */
	ok = (size_t)n > e->realpathlen &&
	    memcmp(path, e->realpath, e->realpathlen) == 0 &&
	    path[e->realpathlen] == '/';
	if (ok)
		inc_add(e, st);
	return ok;
}

/* Forged or relabelled handles: counted, and logged at most once per
 * LOG_RATELIM_MS (an attacker must not be able to flood the log). */
static _Atomic uint64_t		badfh_count;
static struct log_ratelim	rl_badfh;

static void
badfh_note(const struct nfs3_ctx *x, const char *why)
{
	char	host[64], more[64];

	badfh_count++;
	if (!log_ratelim_ok(&rl_badfh, more, sizeof(more)))
		return;
	nfs_addr_text((const struct sockaddr *)&x->r->peer, host,
	    sizeof(host));
	log_warnx("nfs: %s from %s answered STALE%s", why, host, more);
}

uint64_t
nfs3_badfh_count(void)
{
	return badfh_count;
}

int
nfs3_fh_open(struct nfs3_ctx *x, const nfs_fh3 *fh, int *fdp,
    struct stat *st)
{
	union {
		struct file_handle	h;
		uint8_t			b[sizeof(struct file_handle) + 64];
	} u;
	const uint8_t		*p = (const uint8_t *)fh->data.data_val;
	uint32_t		 len = fh->data.data_len;
	const struct nfs_export	*e;
	int64_t			 id;
	int			 fd, rc;

	*fdp = -1;
	id = nfs_fh_expid(p, len);
	if (id == NFS_FH_OLD) {
		badfh_note(x, "a handle of an older version (clients must "
		    "mount again)");
		return NFS3ERR_STALE;
	}
	if (id < 0)
		return NFS3ERR_BADHANDLE;
	e = nfs_export_find(x->tab, (uint32_t)id);
	if (e == NULL)
		return NFS3ERR_STALE;
	/* offline, disabled or fenced: no reply, the client retransmits
	 * (to the head that serves it next) */
	if (x->e == NULL && (e->fd < 0 || !nfs_export_enabled(e->id) ||
	    !nfs_export_gate(e->id))) {
		x->drop = 1;
		return NFS3ERR_JUKEBOX;
	}
	if (e->fd < 0)
		return NFS3ERR_XDEV;	/* a second handle, another export */
	/* nothing of a handle is believed before its MAC is checked */
	if (!nfs_fh_verify(e, p, len)) {
		badfh_note(x, "a forged or relabelled file handle");
		return NFS3ERR_STALE;
	}
	if (x->e != NULL && x->e != e)
		return NFS3ERR_XDEV;
	if (x->e == NULL) {
		x->e = e;
		x->cl = nfs_export_client(e, (struct sockaddr *)&x->r->peer);
		if (x->cl == NULL)
			return NFS3ERR_ACCES;
		if ((rc = ctx_identity(x)) != 0)
			return rc;
	}
	nfs3_creds_root();
	u.h.handle_bytes = p[6];
	u.h.handle_type = p[1];
	memcpy(u.h.f_handle, p + NFS_FH_HDR, p[6]);
	fd = open_by_handle_at(e->fd, &u.h, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE || errno == ENOENT || errno == EINVAL ?
		    NFS3ERR_STALE : nfs3_errno(errno);
	if (fstat(fd, st) < 0 || st->st_dev != e->dev ||
	    !obj_inside(e, fd, st)) {
		close(fd);
		return NFS3ERR_STALE;
	}
	*fdp = fd;
	return 0;
}

void
nfs3_fattr(const struct nfs3_ctx *x, const struct stat *st, fattr3 *a)
{
	memset(a, 0, sizeof(*a));
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:	a->type = NF3REG; break;
	case S_IFDIR:	a->type = NF3DIR; break;
	case S_IFBLK:	a->type = NF3BLK; break;
	case S_IFCHR:	a->type = NF3CHR; break;
	case S_IFLNK:	a->type = NF3LNK; break;
	case S_IFSOCK:	a->type = NF3SOCK; break;
	default:	a->type = NF3FIFO; break;
	}
	a->mode = st->st_mode & 07777;
	a->nlink = (u_int)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->size = (uint64_t)st->st_size;
	a->used = (uint64_t)st->st_blocks * 512;
	a->rdev.specdata1 = major(st->st_rdev);
	a->rdev.specdata2 = minor(st->st_rdev);
	a->fsid = x->e != NULL ? x->e->id : 0;
	a->fileid = st->st_ino;
	a->atime.seconds = (u_int)st->st_atim.tv_sec;
	a->atime.nseconds = (u_int)st->st_atim.tv_nsec;
	a->mtime.seconds = (u_int)st->st_mtim.tv_sec;
	a->mtime.nseconds = (u_int)st->st_mtim.tv_nsec;
	a->ctime.seconds = (u_int)st->st_ctim.tv_sec;
	a->ctime.nseconds = (u_int)st->st_ctim.tv_nsec;
}

void
nfs3_post(const struct nfs3_ctx *x, int fd, post_op_attr *p)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	if (fd >= 0 && fstat(fd, &st) == 0) {
		p->attributes_follow = 1;
		nfs3_fattr(x, &st, &p->post_op_attr_u.attributes);
	}
}

void
nfs3_post_st(const struct nfs3_ctx *x, const struct stat *st,
    post_op_attr *p)
{
	p->attributes_follow = 1;
	nfs3_fattr(x, st, &p->post_op_attr_u.attributes);
}

void
nfs3_wcc(const struct nfs3_ctx *x, const struct stat *pre, int fd,
    wcc_data *w)
{
	memset(w, 0, sizeof(*w));
	if (pre != NULL) {
		wcc_attr *a = &w->before.pre_op_attr_u.attributes;

		w->before.attributes_follow = 1;
		a->size = (uint64_t)pre->st_size;
		a->mtime.seconds = (u_int)pre->st_mtim.tv_sec;
		a->mtime.nseconds = (u_int)pre->st_mtim.tv_nsec;
		a->ctime.seconds = (u_int)pre->st_ctim.tv_sec;
		a->ctime.nseconds = (u_int)pre->st_ctim.tv_nsec;
	}
	nfs3_post(x, fd, &w->after);
}

int
nfs3_name_check(const char *name, int creating)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0)
		return NFS3ERR_INVAL;
	if (len > NFS_NAME_MAX)
		return NFS3ERR_NAMETOOLONG;
	if (strchr(name, '/') != NULL)
		return NFS3ERR_INVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return creating ? NFS3ERR_EXIST : NFS3ERR_INVAL;
	return 0;
}

int
nfs3_reopen(struct nfs3_ctx *x, int fd, const struct stat *st, int flags)
{
	char	path[40];
	int	nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, flags | O_CLOEXEC);
	/* the owner may always read/write his file (mode set after an
	 * open on the client, as knfsd does) */
	if (nfd < 0 && errno == EACCES && st->st_uid == x->uid &&
	    (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
		nfs3_creds_root();
		nfd = open(path, flags | O_CLOEXEC);
		nfs3_creds_user(x);
		if (nfd < 0)
			errno = EACCES;
	}
	return nfd;
}

int
nfs3_make_fh(struct nfs3_ctx *x, int fd, nfs_fh3 *out)
{
	uint8_t		*fh = nfs_req_alloc(x->r, NFS3_FHSIZE);
	uint32_t	 len;

	if (nfs_fh_make(x->e, fd, "", AT_EMPTY_PATH, fh, &len) < 0)
		return -1;
	out->data.data_len = len;
	out->data.data_val = (char *)fh;
	return 0;
}

/* Apply sattr3 to the object fd (O_PATH).  0 or nfsstat3. */
int
nfs3_sattr(struct nfs3_ctx *x, int fd, const struct stat *st,
    const sattr3 *s, int skip_mode)
{
	struct timespec	ts[2];
	char		path[40];
	int		wfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (s->size.set_it) {
		if (S_ISDIR(st->st_mode))
			return NFS3ERR_ISDIR;
		if (!S_ISREG(st->st_mode))
			return NFS3ERR_INVAL;
		if ((wfd = nfs3_reopen(x, fd, st, O_WRONLY)) < 0)
			return nfs3_errno(errno);
		if (ftruncate(wfd, (off_t)s->size.set_size3_u.size) < 0) {
			int e = errno;

			close(wfd);
			return nfs3_errno(e);
		}
		close(wfd);
	}
	if (s->uid.set_it || s->gid.set_it) {
		if (fchownat(fd, "", s->uid.set_it ? s->uid.set_uid3_u.uid :
		    (uid_t)-1, s->gid.set_it ? s->gid.set_gid3_u.gid :
		    (gid_t)-1, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return nfs3_errno(errno);
	}
	if (s->mode.set_it && !skip_mode && S_ISLNK(st->st_mode)) {
		/* Linux keeps no mode on a symlink: only "no change" can
		 * be honoured, and success must not be claimed otherwise */
		if ((s->mode.set_mode3_u.mode & 07777) != (st->st_mode & 07777))
			return NFS3ERR_INVAL;
	} else if (s->mode.set_it && !skip_mode) {
		if (chmod(path, s->mode.set_mode3_u.mode & 07777) < 0)
			return nfs3_errno(errno);
	}
	if (s->atime.set_it || s->mtime.set_it) {
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
		ts[0].tv_sec = ts[1].tv_sec = 0;
		if (s->atime.set_it == SET_TO_SERVER_TIME)
			ts[0].tv_nsec = UTIME_NOW;
		else if (s->atime.set_it == SET_TO_CLIENT_TIME) {
			ts[0].tv_sec = s->atime.set_atime_u.atime.seconds;
			ts[0].tv_nsec = s->atime.set_atime_u.atime.nseconds %
			    1000000000;
		}
		if (s->mtime.set_it == SET_TO_SERVER_TIME)
			ts[1].tv_nsec = UTIME_NOW;
		else if (s->mtime.set_it == SET_TO_CLIENT_TIME) {
			ts[1].tv_sec = s->mtime.set_mtime_u.mtime.seconds;
			ts[1].tv_nsec = s->mtime.set_mtime_u.mtime.nseconds %
			    1000000000;
		}
		/* on the O_PATH fd itself: also sets a symlink's times */
		if (utimensat(fd, "", ts, AT_EMPTY_PATH) < 0)
			return nfs3_errno(errno);
	}
	return 0;
}

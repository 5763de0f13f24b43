/*
 * nfs3.c — the NFS v3 procedures (RFC 1813), run on worker threads.
 *
 * nfs3_run() decodes the arguments from the request's record with the
 * libnfs zdr codecs (the record was length-checked by nfs_xdr.c), takes
 * the exports read lock, runs the procedure and leaves a *3res in the
 * request for nfs_rpc.c to encode and send.  Each procedure returns an
 * nfsstat3 and fills attributes / wcc data for both outcomes.  Handles
 * are resolved as root, the work is done with the caller's fsuid/fsgid
 * (nfs3_fs.c).  Directory listing lives in nfs3_dir.c.
 * Not here: locking (NLM), ACLs, NFSv2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "export/nfs3_int.h"

#define RO_CHECK(x)	do { if (!(x)->rw) return NFS3ERR_ROFS; } while (0)
#define CLOSE(fd)	do { if ((fd) >= 0) close(fd); } while (0)

static int
p_getattr(struct nfs3_ctx *x, void *va, void *vr)
{
	GETATTR3args	*a = va;
	GETATTR3res	*r = vr;
	struct stat	 st;
	int		 fd, rc;

	if ((rc = nfs3_fh_open(x, &a->object, &fd, &st)) != 0)
		return rc;
	nfs3_fattr(x, &st, &r->GETATTR3res_u.resok.obj_attributes);
	close(fd);
	return 0;
}

static int
p_setattr(struct nfs3_ctx *x, void *va, void *vr)
{
	SETATTR3args	*a = va;
	SETATTR3res	*r = vr;
	struct stat	 st;
	int		 fd, rc;

	if ((rc = nfs3_fh_open(x, &a->object, &fd, &st)) != 0)
		return rc;
	if (a->guard.check && ((u_int)st.st_ctim.tv_sec !=
	    a->guard.sattrguard3_u.obj_ctime.seconds ||
	    (u_int)st.st_ctim.tv_nsec !=
	    a->guard.sattrguard3_u.obj_ctime.nseconds))
		rc = NFS3ERR_NOT_SYNC;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else {
		nfs3_creds_user(x);
		rc = nfs3_sattr(x, fd, &st, &a->new_attributes, 0);
	}
	nfs3_wcc(x, &st, fd, &r->SETATTR3res_u.resok.obj_wcc);
	close(fd);
	return rc;
}

static int
p_lookup(struct nfs3_ctx *x, void *va, void *vr)
{
	LOOKUP3args	*a = va;
	LOOKUP3res	*r = vr;
	struct stat	 dst, st;
	int		 dfd, fd = -1, rc;
	const char	*name = a->what.name;

	if ((rc = nfs3_fh_open(x, &a->what.dir, &dfd, &dst)) != 0)
		return rc;
	if (!S_ISDIR(dst.st_mode)) {
		rc = NFS3ERR_NOTDIR;
		goto out;
	}
	if (name != NULL && strcmp(name, "..") == 0 &&
	    dst.st_ino == x->e->ino && dst.st_dev == x->e->dev)
		name = ".";		/* never above the export root */
	if (name == NULL || (strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0)) {
		if ((rc = nfs3_name_check(name, 0)) != 0)
			goto out;
	}
	nfs3_creds_user(x);
	fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if (nfs3_make_fh(x, fd, &r->LOOKUP3res_u.resok.object) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	nfs3_post_st(x, &st, &r->LOOKUP3res_u.resok.obj_attributes);
	nfs3_post_st(x, &dst, &r->LOOKUP3res_u.resok.dir_attributes);
out:
	if (rc != 0)
		nfs3_post_st(x, &dst, &r->LOOKUP3res_u.resfail.dir_attributes);
	CLOSE(fd);
	close(dfd);
	return rc;
}

static int
p_access(struct nfs3_ctx *x, void *va, void *vr)
{
	ACCESS3args	*a = va;
	ACCESS3res	*r = vr;
	struct stat	 st;
	char		 path[40];
	int		 fd, rc;
	u_int		 want = a->access, got = 0;

	if ((rc = nfs3_fh_open(x, &a->object, &fd, &st)) != 0)
		return rc;
	nfs3_creds_user(x);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
#define OK(m)	(faccessat(AT_FDCWD, path, (m), AT_EACCESS) == 0)
	if ((want & ACCESS3_READ) && OK(R_OK))
		got |= ACCESS3_READ;
	if (S_ISDIR(st.st_mode)) {
		if ((want & ACCESS3_LOOKUP) && OK(X_OK))
			got |= ACCESS3_LOOKUP;
		if ((want & (ACCESS3_MODIFY | ACCESS3_EXTEND |
		    ACCESS3_DELETE)) && x->rw && OK(W_OK | X_OK))
			got |= want & (ACCESS3_MODIFY | ACCESS3_EXTEND |
			    ACCESS3_DELETE);
	} else if (!S_ISLNK(st.st_mode)) {
		/* exactly the kernel's permission check for the caller
		 * (owner, group, supplementary groups, others, root) —
		 * no owner override: READ and WRITE keep knfsd's one for
		 * files their owner created read-only (docs/nfs.md) */
		if ((want & (ACCESS3_MODIFY | ACCESS3_EXTEND)) && x->rw &&
		    OK(W_OK))
			got |= want & (ACCESS3_MODIFY | ACCESS3_EXTEND);
		if ((want & ACCESS3_EXECUTE) && OK(X_OK))
			got |= ACCESS3_EXECUTE;
	}
#undef OK
	r->ACCESS3res_u.resok.access = got;
	nfs3_post_st(x, &st, &r->ACCESS3res_u.resok.obj_attributes);
	close(fd);
	return 0;
}

static int
p_readlink(struct nfs3_ctx *x, void *va, void *vr)
{
	READLINK3args	*a = va;
	READLINK3res	*r = vr;
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd, rc = 0;

	if ((rc = nfs3_fh_open(x, &a->symlink, &fd, &st)) != 0)
		return rc;
	nfs3_post_st(x, &st, &r->READLINK3res_u.resok.symlink_attributes);
	if (!S_ISLNK(st.st_mode)) {
		rc = NFS3ERR_INVAL;
		goto out;
	}
	buf = nfs_req_alloc(x->r, NFS_PATH_MAX + 1);
	if ((n = readlinkat(fd, "", buf, NFS_PATH_MAX)) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	buf[n] = 0;
	r->READLINK3res_u.resok.data = buf;
	x->r->hint = (size_t)n;
out:
	close(fd);
	return rc;
}

static int
p_read(struct nfs3_ctx *x, void *va, void *vr)
{
	READ3args	*a = va;
	READ3res	*r = vr;
	struct stat	 st;
	int		 fd, rfd = -1, rc;
	uint32_t	 count = MIN(a->count, (uint32_t)NFS_MAXIO), done = 0;
	char		*buf;
	ssize_t		 n;

	if ((rc = nfs3_fh_open(x, &a->file, &fd, &st)) != 0)
		return rc;
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
		goto out;
	}
	nfs3_creds_user(x);
	if ((rfd = nfs3_reopen(x, fd, &st, O_RDONLY)) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if (count >= NFS_SENDFILE_MIN && fstat(rfd, &st) == 0) {
		/* large: the reply is sent from the page cache with
		 * sendfile (nfs_rpc.c), no copy through a buffer */
		if (a->offset < (uint64_t)st.st_size)
			done = (uint32_t)MIN((uint64_t)count,
			    (uint64_t)st.st_size - a->offset);
		if (done > 0) {
			x->r->sendfd = rfd;
			x->r->sendoff = a->offset;
			rfd = -1;
		}
		nfs3_post_st(x, &st, &r->READ3res_u.resok.file_attributes);
		r->READ3res_u.resok.count = done;
		r->READ3res_u.resok.eof = a->offset + done >=
		    (uint64_t)st.st_size;
		r->READ3res_u.resok.data.data_len = done;
		r->READ3res_u.resok.data.data_val = NULL;
		x->r->hint = done;
		nfs_svc_count_bytes(0, done);
		goto out;
	}
	buf = nfs_req_alloc(x->r, count > 0 ? count : 1);
	while (done < count) {
		n = pread(rfd, buf + done, count - done,
		    (off_t)(a->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = nfs3_errno(errno);
			goto out;
		}
		if (n == 0)
			break;
		done += (uint32_t)n;
	}
	if (fstat(rfd, &st) == 0)
		nfs3_post_st(x, &st, &r->READ3res_u.resok.file_attributes);
	r->READ3res_u.resok.count = done;
	r->READ3res_u.resok.eof = a->offset + done >= (uint64_t)st.st_size;
	r->READ3res_u.resok.data.data_len = done;
	r->READ3res_u.resok.data.data_val = buf;
	x->r->hint = done;
	nfs_svc_count_bytes(0, done);
out:
	if (rc != 0)
		nfs3_post_st(x, &st, &r->READ3res_u.resfail.file_attributes);
	CLOSE(rfd);
	close(fd);
	return rc;
}

static int
p_write(struct nfs3_ctx *x, void *va, void *vr)
{
	WRITE3args	*a = va;
	WRITE3res	*r = vr;
	struct stat	 st;
	int		 fd, wfd = -1, rc;
	uint32_t	 count = MIN(a->count, a->data.data_len), done = 0;
	ssize_t		 n;

	if ((rc = nfs3_fh_open(x, &a->file, &fd, &st)) != 0)
		return rc;
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
		goto out;
	}
	if (!x->rw) {
		rc = NFS3ERR_ROFS;
		goto out;
	}
	nfs3_creds_user(x);
	if ((wfd = nfs3_reopen(x, fd, &st, O_WRONLY)) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	while (done < count) {
		n = pwrite(wfd, a->data.data_val + done, count - done,
		    (off_t)(a->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = nfs3_errno(n < 0 ? errno : ENOSPC);
			if (n < 0 && errno == EIO)
				nfs_export_ioerr(x->e->id, wfd, EIO,
				    "NFS WRITE");
			goto out;
		}
		done += (uint32_t)n;
	}
	/* not fsync() alone: a LUN file system that went read-only after
	 * an I/O error answers it with 0 and drops the data.  EIO: the
	 * pages whose writeback failed stay cached as if written; ext4 may
	 * write them later without ever marking their blocks written, so
	 * nothing more may be acknowledged on this mount (the gate shuts,
	 * docs/health.md "Write errors on the data path"). */
	if (a->stable != UNSTABLE &&
	    fd_sync_durable(wfd, a->stable == DATA_SYNC) < 0) {
		rc = nfs3_errno(errno);
		if (errno == EIO)
			nfs_export_ioerr(x->e->id, wfd, EIO, "NFS WRITE");
		goto out;
	}
	r->WRITE3res_u.resok.count = done;
	nfs_svc_count_bytes(1, done);
	r->WRITE3res_u.resok.committed = a->stable == UNSTABLE ? UNSTABLE :
	    a->stable;
	memcpy(r->WRITE3res_u.resok.verf, nfs_write_verf, NFS3_WRITEVERFSIZE);
out:
	nfs3_wcc(x, &st, wfd >= 0 ? wfd : fd, rc == 0 ?
	    &r->WRITE3res_u.resok.file_wcc : &r->WRITE3res_u.resfail.file_wcc);
	CLOSE(wfd);
	close(fd);
	return rc;
}

/* Common tail of CREATE/MKDIR/SYMLINK/MKNOD: handle + attrs of new. */
static int
new_obj(struct nfs3_ctx *x, int fd, post_op_fh3 *h, post_op_attr *pa)
{
	if (nfs3_make_fh(x, fd, &h->post_op_fh3_u.handle) == 0)
		h->handle_follows = 1;
	nfs3_post(x, fd, pa);
	return 0;
}

static int
p_create(struct nfs3_ctx *x, void *va, void *vr)
{
	CREATE3args	*a = va;
	CREATE3res	*r = vr;
	struct stat	 dst, st;
	const sattr3	*s = &a->how.createhow3_u.obj_attributes;
	mode_t		 mode = 0644;
	uint32_t	 v0, v1;
	int		 dfd, fd = -1, rc, created = 1;
	struct timespec	 ts[2];

	if ((rc = nfs3_fh_open(x, &a->where.dir, &dfd, &dst)) != 0)
		return rc;
	if (!S_ISDIR(dst.st_mode)) {
		rc = NFS3ERR_NOTDIR;
		goto out;
	}
	if (!x->rw) {
		rc = NFS3ERR_ROFS;
		goto out;
	}
	if ((rc = nfs3_name_check(a->where.name, 1)) != 0)
		goto out;
	nfs3_creds_user(x);
	if (a->how.mode != EXCLUSIVE && s->mode.set_it)
		mode = s->mode.set_mode3_u.mode & 07777;
	if (a->how.mode == EXCLUSIVE)
		mode = 0600;
	fd = openat(dfd, a->where.name, O_CREAT | O_EXCL | O_RDONLY |
	    O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && a->how.mode != GUARDED) {
		created = 0;
		fd = openat(dfd, a->where.name, O_PATH | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if (a->how.mode == EXCLUSIVE) {
		/* the verifier lives in atime/mtime until the client's
		 * SETATTR, so a retransmitted create succeeds again */
		v0 = get_be32((uint8_t *)a->how.createhow3_u.verf);
		v1 = get_be32((uint8_t *)a->how.createhow3_u.verf + 4);
		if (created) {
			ts[0].tv_sec = v1;
			ts[1].tv_sec = v0;
			ts[0].tv_nsec = ts[1].tv_nsec = 0;
			futimens(fd, ts);
		} else if (!S_ISREG(st.st_mode) ||
		    (uint32_t)st.st_mtim.tv_sec != v0 ||
		    (uint32_t)st.st_atim.tv_sec != v1) {
			rc = NFS3ERR_EXIST;
			goto out;
		}
	} else if (!created && !S_ISREG(st.st_mode)) {
		rc = NFS3ERR_EXIST;
		goto out;
	} else if ((rc = nfs3_sattr(x, fd, &st, s, created && (mode ==
	    (s->mode.set_mode3_u.mode & 07777) || !s->mode.set_it))) != 0) {
		goto out;
	}
	if (created && s->mode.set_it && a->how.mode != EXCLUSIVE &&
	    (st.st_mode & 07777) != mode)
		fchmod(fd, mode);	/* undo the umask */
	new_obj(x, fd, &r->CREATE3res_u.resok.obj,
	    &r->CREATE3res_u.resok.obj_attributes);
out:
	nfs3_wcc(x, &dst, dfd, rc == 0 ? &r->CREATE3res_u.resok.dir_wcc :
	    &r->CREATE3res_u.resfail.dir_wcc);
	CLOSE(fd);
	close(dfd);
	return rc;
}

static int
p_mkdir(struct nfs3_ctx *x, void *va, void *vr)
{
	MKDIR3args	*a = va;
	MKDIR3res	*r = vr;
	struct stat	 dst, st;
	const sattr3	*s = &a->attributes;
	mode_t		 mode = s->mode.set_it ? s->mode.set_mode3_u.mode & 07777 :
			    0755;
	int		 dfd, fd = -1, rc;

	if ((rc = nfs3_fh_open(x, &a->where.dir, &dfd, &dst)) != 0)
		return rc;
	if (!S_ISDIR(dst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else
		rc = nfs3_name_check(a->where.name, 1);
	if (rc != 0)
		goto out;
	nfs3_creds_user(x);
	if (mkdirat(dfd, a->where.name, mode) < 0 ||
	    (fd = openat(dfd, a->where.name, O_PATH | O_NOFOLLOW |
	    O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if ((st.st_mode & 07777) != mode) {
		char path[40];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		chmod(path, mode);	/* undo the umask */
	}
	if ((rc = nfs3_sattr(x, fd, &st, s, 1)) != 0)
		goto out;
	new_obj(x, fd, &r->MKDIR3res_u.resok.obj,
	    &r->MKDIR3res_u.resok.obj_attributes);
out:
	nfs3_wcc(x, &dst, dfd, rc == 0 ? &r->MKDIR3res_u.resok.dir_wcc :
	    &r->MKDIR3res_u.resfail.dir_wcc);
	CLOSE(fd);
	close(dfd);
	return rc;
}

static int
p_symlink(struct nfs3_ctx *x, void *va, void *vr)
{
	SYMLINK3args	*a = va;
	SYMLINK3res	*r = vr;
	struct stat	 dst, st;
	const char	*target = a->symlink.symlink_data;
	int		 dfd, fd = -1, rc;

	if ((rc = nfs3_fh_open(x, &a->where.dir, &dfd, &dst)) != 0)
		return rc;
	if (!S_ISDIR(dst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else if (target == NULL || *target == 0)
		rc = NFS3ERR_INVAL;
	else if (strlen(target) >= NFS_PATH_MAX)
		rc = NFS3ERR_NAMETOOLONG;
	else
		rc = nfs3_name_check(a->where.name, 1);
	if (rc != 0)
		goto out;
	nfs3_creds_user(x);
	if (symlinkat(target, dfd, a->where.name) < 0 ||
	    (fd = openat(dfd, a->where.name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if ((rc = nfs3_sattr(x, fd, &st, &a->symlink.symlink_attributes,
	    1)) != 0)
		goto out;
	new_obj(x, fd, &r->SYMLINK3res_u.resok.obj,
	    &r->SYMLINK3res_u.resok.obj_attributes);
out:
	nfs3_wcc(x, &dst, dfd, rc == 0 ? &r->SYMLINK3res_u.resok.dir_wcc :
	    &r->SYMLINK3res_u.resfail.dir_wcc);
	CLOSE(fd);
	close(dfd);
	return rc;
}

static int
p_mknod(struct nfs3_ctx *x, void *va, void *vr)
{
	MKNOD3args	*a = va;
	MKNOD3res	*r = vr;
	struct stat	 dst, st;
	const sattr3	*s;
	mode_t		 mode;
	dev_t		 dev = 0;
	int		 dfd, fd = -1, rc;

	if ((rc = nfs3_fh_open(x, &a->where.dir, &dfd, &dst)) != 0)
		return rc;
	switch (a->what.type) {
	case NF3CHR:
	case NF3BLK:
		s = &a->what.mknoddata3_u.chr_device.dev_attributes;
		dev = makedev(a->what.mknoddata3_u.chr_device.spec.specdata1,
		    a->what.mknoddata3_u.chr_device.spec.specdata2);
		mode = a->what.type == NF3CHR ? S_IFCHR : S_IFBLK;
		break;
	case NF3SOCK:
		s = &a->what.mknoddata3_u.sock_attributes;
		mode = S_IFSOCK;
		break;
	case NF3FIFO:
		s = &a->what.mknoddata3_u.pipe_attributes;
		mode = S_IFIFO;
		break;
	default:
		rc = NFS3ERR_BADTYPE;
		goto out;
	}
	mode |= s->mode.set_it ? s->mode.set_mode3_u.mode & 07777 : 0644;
	if (!S_ISDIR(dst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else
		rc = nfs3_name_check(a->where.name, 1);
	if (rc != 0)
		goto out;
	nfs3_creds_user(x);
	if (mknodat(dfd, a->where.name, mode, dev) < 0 ||
	    (fd = openat(dfd, a->where.name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = nfs3_errno(errno);
		goto out;
	}
	if ((rc = nfs3_sattr(x, fd, &st, s, 0)) != 0)
		goto out;
	new_obj(x, fd, &r->MKNOD3res_u.resok.obj,
	    &r->MKNOD3res_u.resok.obj_attributes);
out:
	nfs3_wcc(x, &dst, dfd, rc == 0 ? &r->MKNOD3res_u.resok.dir_wcc :
	    &r->MKNOD3res_u.resfail.dir_wcc);
	CLOSE(fd);
	close(dfd);
	return rc;
}

static int
remove_common(struct nfs3_ctx *x, diropargs3 *d, int flags, wcc_data *ok,
    wcc_data *fail)
{
	struct stat	dst;
	int		dfd, rc;

	if ((rc = nfs3_fh_open(x, &d->dir, &dfd, &dst)) != 0)
		return rc;
	if (!S_ISDIR(dst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else
		rc = nfs3_name_check(d->name, 0);
	if (rc == 0) {
		nfs3_creds_user(x);
		if (unlinkat(dfd, d->name, flags) < 0)
			rc = nfs3_errno(errno == EEXIST ? ENOTEMPTY : errno);
	}
	nfs3_wcc(x, &dst, dfd, rc == 0 ? ok : fail);
	close(dfd);
	return rc;
}

static int
p_remove(struct nfs3_ctx *x, void *va, void *vr)
{
	REMOVE3args	*a = va;
	REMOVE3res	*r = vr;

	return remove_common(x, &a->object, 0, &r->REMOVE3res_u.resok.dir_wcc,
	    &r->REMOVE3res_u.resfail.dir_wcc);
}

static int
p_rmdir(struct nfs3_ctx *x, void *va, void *vr)
{
	RMDIR3args	*a = va;
	RMDIR3res	*r = vr;

	return remove_common(x, &a->object, AT_REMOVEDIR,
	    &r->RMDIR3res_u.resok.dir_wcc, &r->RMDIR3res_u.resfail.dir_wcc);
}

static int
p_rename(struct nfs3_ctx *x, void *va, void *vr)
{
	RENAME3args	*a = va;
	RENAME3res	*r = vr;
	struct stat	 fst, tst;
	int		 ffd, tfd = -1, rc;
	wcc_data	*fw, *tw;

	if ((rc = nfs3_fh_open(x, &a->from.dir, &ffd, &fst)) != 0)
		return rc;
	if ((rc = nfs3_fh_open(x, &a->to.dir, &tfd, &tst)) != 0)
		goto out;
	if (!S_ISDIR(fst.st_mode) || !S_ISDIR(tst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else if ((rc = nfs3_name_check(a->from.name, 0)) == 0)
		rc = nfs3_name_check(a->to.name, 0);
	if (rc == 0) {
		nfs3_creds_user(x);
		if (renameat(ffd, a->from.name, tfd, a->to.name) < 0)
			rc = nfs3_errno(errno == ENOTEMPTY ? EEXIST : errno);
	}
out:
	fw = rc == 0 ? &r->RENAME3res_u.resok.fromdir_wcc :
	    &r->RENAME3res_u.resfail.fromdir_wcc;
	tw = rc == 0 ? &r->RENAME3res_u.resok.todir_wcc :
	    &r->RENAME3res_u.resfail.todir_wcc;
	nfs3_wcc(x, &fst, ffd, fw);
	if (tfd >= 0)
		nfs3_wcc(x, &tst, tfd, tw);
	CLOSE(tfd);
	close(ffd);
	return rc;
}

static int
p_link(struct nfs3_ctx *x, void *va, void *vr)
{
	LINK3args	*a = va;
	LINK3res	*r = vr;
	struct stat	 st, dst;
	char		 path[40];
	int		 fd, dfd = -1, rc;

	if ((rc = nfs3_fh_open(x, &a->file, &fd, &st)) != 0)
		return rc;
	if ((rc = nfs3_fh_open(x, &a->link.dir, &dfd, &dst)) != 0)
		goto out;
	if (!S_ISDIR(dst.st_mode))
		rc = NFS3ERR_NOTDIR;
	else if (S_ISDIR(st.st_mode))
		rc = NFS3ERR_ISDIR;
	else if (!x->rw)
		rc = NFS3ERR_ROFS;
	else
		rc = nfs3_name_check(a->link.name, 1);
	if (rc == 0) {
		nfs3_creds_user(x);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, path, dfd, a->link.name,
		    AT_SYMLINK_FOLLOW) < 0)
			rc = nfs3_errno(errno);
	}
out:
	nfs3_post(x, fd, rc == 0 ? &r->LINK3res_u.resok.file_attributes :
	    &r->LINK3res_u.resfail.file_attributes);
	if (dfd >= 0)
		nfs3_wcc(x, &dst, dfd, rc == 0 ?
		    &r->LINK3res_u.resok.linkdir_wcc :
		    &r->LINK3res_u.resfail.linkdir_wcc);
	CLOSE(dfd);
	close(fd);
	return rc;
}

static int
p_readdir(struct nfs3_ctx *x, void *va, void *vr)
{
	return nfs3_readdir(x, va, vr);
}

static int
p_readdirplus(struct nfs3_ctx *x, void *va, void *vr)
{
	return nfs3_readdirplus(x, va, vr);
}

static int
p_fsstat(struct nfs3_ctx *x, void *va, void *vr)
{
	FSSTAT3args	*a = va;
	FSSTAT3resok	*ok = &((FSSTAT3res *)vr)->FSSTAT3res_u.resok;
	struct stat	 st;
	struct statvfs	 sv;
	int		 fd, rc;

	if ((rc = nfs3_fh_open(x, &a->fsroot, &fd, &st)) != 0)
		return rc;
	if (fstatvfs(fd, &sv) < 0) {
		rc = nfs3_errno(errno);
	} else {
		ok->tbytes = (uint64_t)sv.f_blocks * sv.f_frsize;
		ok->fbytes = (uint64_t)sv.f_bfree * sv.f_frsize;
		ok->abytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		ok->tfiles = sv.f_files;
		ok->ffiles = sv.f_ffree;
		ok->afiles = sv.f_favail;
		ok->invarsec = 0;
	}
	nfs3_post_st(x, &st, &ok->obj_attributes);
	close(fd);
	return rc;
}

static int
p_fsinfo(struct nfs3_ctx *x, void *va, void *vr)
{
	FSINFO3args	*a = va;
	FSINFO3resok	*ok = &((FSINFO3res *)vr)->FSINFO3res_u.resok;
	struct stat	 st;
	int		 fd, rc;

	if ((rc = nfs3_fh_open(x, &a->fsroot, &fd, &st)) != 0)
		return rc;
	ok->rtmax = ok->rtpref = ok->wtmax = ok->wtpref = NFS_MAXIO;
	ok->rtmult = ok->wtmult = 4096;
	ok->dtpref = 64 * 1024;
	ok->maxfilesize = INT64_MAX;
	ok->time_delta.seconds = 0;
	ok->time_delta.nseconds = 1;
	ok->properties = FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS |
	    FSF3_CANSETTIME;
	nfs3_post_st(x, &st, &ok->obj_attributes);
	close(fd);
	return 0;
}

static int
p_pathconf(struct nfs3_ctx *x, void *va, void *vr)
{
	PATHCONF3args	*a = va;
	PATHCONF3resok	*ok = &((PATHCONF3res *)vr)->PATHCONF3res_u.resok;
	struct stat	 st;
	int		 fd, rc;

	if ((rc = nfs3_fh_open(x, &a->object, &fd, &st)) != 0)
		return rc;
	ok->linkmax = 65000;
	ok->name_max = NFS_NAME_MAX;
	ok->no_trunc = 1;
	ok->chown_restricted = 1;
	ok->case_insensitive = 0;
	ok->case_preserving = 1;
	nfs3_post_st(x, &st, &ok->obj_attributes);
	close(fd);
	return 0;
}

static int
p_commit(struct nfs3_ctx *x, void *va, void *vr)
{
	COMMIT3args	*a = va;
	COMMIT3res	*r = vr;
	struct stat	 st;
	int		 fd, sfd = -1, rc;

	if ((rc = nfs3_fh_open(x, &a->file, &fd, &st)) != 0)
		return rc;
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
		goto out;
	}
	/* as root: committing data already written needs no rights */
	if ((sfd = nfs3_reopen(x, fd, &st, O_RDONLY)) < 0 ||
	    fd_sync_durable(sfd, 0) < 0) {
		rc = nfs3_errno(errno);
		if (sfd >= 0 && errno == EIO)
			nfs_export_ioerr(x->e->id, sfd, EIO, "NFS COMMIT");
		goto out;
	}
	memcpy(r->COMMIT3res_u.resok.verf, nfs_write_verf,
	    NFS3_WRITEVERFSIZE);
out:
	nfs3_wcc(x, &st, fd, rc == 0 ? &r->COMMIT3res_u.resok.file_wcc :
	    &r->COMMIT3res_u.resfail.file_wcc);
	CLOSE(sfd);
	close(fd);
	return rc;
}

union nfs3_args {
	GETATTR3args a1; SETATTR3args a2; LOOKUP3args a3; ACCESS3args a4;
	READLINK3args a5; READ3args a6; WRITE3args a7; CREATE3args a8;
	MKDIR3args a9; SYMLINK3args a10; MKNOD3args a11; REMOVE3args a12;
	RMDIR3args a13; RENAME3args a14; LINK3args a15; READDIR3args a16;
	READDIRPLUS3args a17; FSSTAT3args a18; FSINFO3args a19;
	PATHCONF3args a20; COMMIT3args a21;
};

union nfs3_res {
	GETATTR3res r1; SETATTR3res r2; LOOKUP3res r3; ACCESS3res r4;
	READLINK3res r5; READ3res r6; WRITE3res r7; CREATE3res r8;
	MKDIR3res r9; SYMLINK3res r10; MKNOD3res r11; REMOVE3res r12;
	RMDIR3res r13; RENAME3res r14; LINK3res r15; READDIR3res r16;
	READDIRPLUS3res r17; FSSTAT3res r18; FSINFO3res r19;
	PATHCONF3res r20; COMMIT3res r21;
};
_Static_assert(sizeof(union nfs3_res) <= sizeof(((struct nfs_req *)0)->resbuf),
    "resbuf too small");

static const struct {
	const char	*name;
	zdrproc_t	 dec, enc;
	int		(*fn)(struct nfs3_ctx *, void *, void *);
	int		 nonidem;
} procs[NFS3_NPROC] = {
#define P(n, T, f, ni) { n, (zdrproc_t)zdr_##T##3args, \
	(zdrproc_t)zdr_##T##3res, f, ni }
	{ "null", NULL, NULL, NULL, 0 },
	P("getattr", GETATTR, p_getattr, 0),
	P("setattr", SETATTR, p_setattr, 1),
	P("lookup", LOOKUP, p_lookup, 0),
	P("access", ACCESS, p_access, 0),
	P("readlink", READLINK, p_readlink, 0),
	P("read", READ, p_read, 0),
	P("write", WRITE, p_write, 0),
	P("create", CREATE, p_create, 1),
	P("mkdir", MKDIR, p_mkdir, 1),
	P("symlink", SYMLINK, p_symlink, 1),
	P("mknod", MKNOD, p_mknod, 1),
	P("remove", REMOVE, p_remove, 1),
	P("rmdir", RMDIR, p_rmdir, 1),
	P("rename", RENAME, p_rename, 1),
	P("link", LINK, p_link, 1),
	P("readdir", READDIR, p_readdir, 0),
	P("readdirplus", READDIRPLUS, p_readdirplus, 0),
	P("fsstat", FSSTAT, p_fsstat, 0),
	P("fsinfo", FSINFO, p_fsinfo, 0),
	P("pathconf", PATHCONF, p_pathconf, 0),
	P("commit", COMMIT, p_commit, 0),
#undef P
};

const char *
nfs3_proc_name(uint32_t proc)
{
	return proc < NFS3_NPROC ? procs[proc].name : "?";
}

int
nfs3_proc_nonidempotent(uint32_t proc)
{
	return proc < NFS3_NPROC && procs[proc].nonidem;
}

/* WRITE3args without copying the data: zdr_bytes() would copy up to
 * 1 MiB; the record was checked by nfs_xdr.c and outlives the call. */
static int
dec_write(const uint8_t *p, size_t len, WRITE3args *a)
{
	struct rd	r;
	uint32_t	n;

	rd_init(&r, p, len);
	n = rd_u32(&r);
	if (r.err || n > NFS3_FHSIZE)
		return 0;
	a->file.data.data_len = n;
	a->file.data.data_val = (char *)(uintptr_t)rd_bytes(&r,
	    (n + 3) & ~3u);
	a->offset = rd_u64(&r);
	a->count = rd_u32(&r);
	a->stable = (stable_how)rd_u32(&r);
	n = rd_u32(&r);
	if (r.err || n > NFS_MAXIO || n > r.left)
		return 0;
	a->data.data_len = n;
	a->data.data_val = (char *)(uintptr_t)rd_bytes(&r, n);
	return !r.err;
}

void
nfs3_run(struct nfs_req *r)
{
	union nfs3_args	 args;
	struct nfs3_ctx	 x;
	ZDR		 z;
	int		 st;

	memset(&args, 0, sizeof(args));
	memset(r->resbuf, 0, sizeof(r->resbuf));
	memset(&x, 0, sizeof(x));
	r->res = r->resbuf;
	r->encfn = procs[r->proc].enc;
	r->hint = 0;
	x.r = r;
	zdrmem_create(&z, (char *)r->rec + r->argoff,
	    (uint32_t)(r->reclen - r->argoff), ZDR_DECODE);
	if (r->args_ok == NFS_ARGS_NUL) {
		/* a name with a NUL byte: C would act on a shorter name
		 * than the one sent ("a\0b" is not "a") */
		st = NFS3ERR_INVAL;
	} else if (r->proc == NFS3_WRITE ? !dec_write(r->rec + r->argoff,
	    r->reclen - r->argoff, &args.a7) : !procs[r->proc].dec(&z, &args)) {
		st = NFS3ERR_INVAL;	/* cannot happen: checked before */
	} else {
		x.tab = nfs_exptab_rdlock();
		st = procs[r->proc].fn(&x, &args, r->res);
		nfs_exptab_unlock();
		nfs3_creds_root();
		r->drop = x.drop;
		r->autherr = x.autherr;
	}
	zdr_destroy(&z);
	if (st != 0) {
		/* error replies carry only what the resfail arm holds */
		*(nfsstat3 *)r->res = (nfsstat3)st;
		r->hint = 0;
	}
	r->status = st;
}

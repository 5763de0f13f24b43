/*
 * fuse_fs_int.h — what fuse_fs.c (inodes, file operations) and
 * fuse_fs_lock.c (byte-range locks) share.  Not a public interface.
 */
#ifndef DUONAS_FUSE_FS_INT_H
#define DUONAS_FUSE_FS_INT_H
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "export/fuse_fs.h"

struct fs_inode {
	struct fs_inode	*next;		/* hash chain */
	int		 fd;		/* O_PATH|O_NOFOLLOW on the backing file */
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 nlookup;	/* kernel references (lookup - forget) */
	/* the lock table's name of the file, made on first lock */
	pthread_mutex_t	 khmu;
	int		 khok;
	struct brl_file	 bf;
	/* under khmu: which lock owner locked through which open file
	 * (fi->fh), so that release can drop an open file description's
	 * own (OFD) locks; see fs_release_locks() */
	struct fs_lkuse	*lku;
	size_t		 nlku, caplku;
};

struct fs_lkuse {
	uint64_t	fh;
	uint64_t	owner;
};

struct fuse_fs {
	struct fuse_session	*se;
	pthread_t		 loop;
	int			 loop_started;
	char			*mnt;
	dev_t			 mntdev;	/* st_dev of the mount: the
						 * connection number */
	struct fuse_fs_conf	 conf;
	const struct fuse_fs_lockops *locks;
	char			 head[BRL_CLIENT_MAX];

	struct fs_inode		 root;
	pthread_mutex_t		 imu;		/* inode table */
	struct fs_inode		**itab;
	size_t			 itabsz, icount;

	pthread_rwlock_t	 gatelk;
	int			(*gate)(uint32_t, void *);
	void			*gatearg;
	/* data-path write errors (fuse_fs_set_ioerr), under gatelk */
	void			(*ioerr)(uint32_t, int, int, const char *,
				    void *);
	void			*ioerrarg;
	atomic_int		 stopping;

	atomic_uint_fast64_t	 ops, gated, lock_waits;
};

/* fuse_fs.c */
#define PROCFD_MAX	32	/* "/proc/self/fd/N" */
#define ENTER(req) do {						\
	if (fs_enter(req) != 0) {					\
		fuse_reply_err((req), EIO);				\
		return;							\
	}								\
} while (0)

extern const struct fuse_lowlevel_ops fuse_fs_ops;
void	procpath(char *, int fd);
struct fs_inode *inode_get(struct fuse_fs *, int fd, const struct stat *);
void	inode_forget(struct fuse_fs *, struct fs_inode *, uint64_t count);
fuse_ino_t node_id(struct fuse_fs *, struct fs_inode *);
int	do_lookup(struct fuse_fs *, struct fs_inode *, const char *name,
	    struct fuse_entry_param *);
struct fs_inode *fs_inode(fuse_req_t, fuse_ino_t);
struct fuse_fs *fs_of(fuse_req_t);
/* 0: pass; EIO: fenced or stopping (the caller replies it) */
int	fs_enter(fuse_req_t);
/* the gate alone (no counting): 1 open, 0 closed or stopping */
int	fs_gate_ok(struct fuse_fs *);
/* a write or sync of data on fd failed with err: tell the ioerr hook
 * (EIO only) before the error is answered; passes err through */
int	fs_ioerr(struct fuse_fs *, int fd, int err, const char *what);

/* fuse_fs_dir.c */
void	op_opendir(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void	op_readdir(fuse_req_t, fuse_ino_t, size_t, off_t,
	    struct fuse_file_info *);
void	op_readdirplus(fuse_req_t, fuse_ino_t, size_t, off_t,
	    struct fuse_file_info *);
void	op_releasedir(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void	op_fsyncdir(fuse_req_t, fuse_ino_t, int, struct fuse_file_info *);
/* fuse_fs_attr.c */
void	op_statfs(fuse_req_t, fuse_ino_t);
void	op_setxattr(fuse_req_t, fuse_ino_t, const char *, const char *,
	    size_t, int);
void	op_getxattr(fuse_req_t, fuse_ino_t, const char *, size_t);
void	op_listxattr(fuse_req_t, fuse_ino_t, size_t);
void	op_removexattr(fuse_req_t, fuse_ino_t, const char *);
void	op_access(fuse_req_t, fuse_ino_t, int);

/* fuse_fs_lock.c: the lock operations of the session */
void	fs_getlk(fuse_req_t, fuse_ino_t, struct fuse_file_info *,
	    struct flock *);
void	fs_setlk(fuse_req_t, fuse_ino_t, struct fuse_file_info *,
	    struct flock *, int sleep);
void	fs_flock(fuse_req_t, fuse_ino_t, struct fuse_file_info *, int op);
/* release every POSIX lock (flock 0) or the flock (1) of lock_owner */
void	fs_unlock_owner(struct fuse_fs *, struct fs_inode *, uint64_t owner,
	    int flock);
/* the open file fh is released: drop the locks of owners that locked
 * only through it (open file description locks) */
void	fs_release_locks(struct fuse_fs *, struct fs_inode *, uint64_t fh);
/* free what the inode's lock bookkeeping holds (the inode goes) */
void	fs_inode_locks_free(struct fs_inode *);
#endif

/*
 * fuse_fs.h — the FUSE export layer: a libfuse3 (low-level API)
 * passthrough of one backing directory onto a mount point, with the
 * fencing gate and byte-range locks in a pluggable lock table (the
 * cluster's replicated table, pso/brl.h, in the daemon).  docs/fuse.md.
 *
 * One struct fuse_fs is one mount.  fuse_fs_start() mounts and starts a
 * multithreaded session loop on its own threads; fuse_fs_stop() fails
 * every further and every waiting operation with EIO, tears the mount
 * down and joins the threads.  duonasd's SMB service (smb_svc.c) starts
 * one per SMB export the head serves.
 */
#ifndef DUONAS_FUSE_FS_H
#define DUONAS_FUSE_FS_H
#include <stddef.h>
#include <stdint.h>

#include "pso/brl.h"

/*
 * Lock table backend, with pso/brl.h's types and BRL_* results.  lock()
 * never queues a waiter (the layer polls, so that a FUSE interrupt or
 * fuse_fs_stop() ends a blocked wait); flags is 0 or BRL_F_RECLAIM.
 * Calls come from FUSE worker threads, concurrently.
 */
struct fuse_fs_lockops {
	int	(*lock)(const struct brl_file *, const struct brl_owner *,
		    const struct brl_range *, int flags, struct brl_owner *holder,
		    struct brl_range *hrange);
	int	(*unlock)(const struct brl_file *, const struct brl_owner *,
		    const struct brl_range *);
	int	(*test)(const struct brl_file *, const struct brl_owner *,
		    const struct brl_range *, struct brl_owner *holder,
		    struct brl_range *hrange);
};
/* The cluster table (brl_lock/brl_unlock/brl_test; fuse_fs_brl.c):
 * for duonasd, after brl_init(). */
extern const struct fuse_fs_lockops fuse_fs_brl_lockops;
/* A table in this process only (fuse_fs_lock.c): for the stand-alone
 * test tool, which runs without a cluster. */
extern const struct fuse_fs_lockops fuse_fs_local_lockops;

struct fuse_fs_conf {
	const char	*backing;	/* directory served */
	const char	*mountpoint;	/* existing empty directory */
	uint32_t	 expid;		/* export id: lock table file names */
	const char	*head;		/* lock owner client name (not empty) */
	const struct fuse_fs_lockops *locks;	/* NULL: local table */
	unsigned	 max_threads;	/* workers; 0: 16 */
	double		 attr_timeout;	/* kernel attr/entry cache, seconds */
	int		 splice;	/* read replies spliced from the file */
	int		 writeback;	/* kernel writeback cache (docs/fuse.md);
					 * stop flushes it first */
	int		 direct_io;	/* files bypass the mount's page cache
					 * (docs/fuse.md, "I/O") */
};

struct fuse_fs;

/* Mount and serve.  NULL with a message in err on failure.  Needs root
 * (allow_other, the per-operation fsuid switch, name_to_handle_at). */
struct fuse_fs *fuse_fs_start(const struct fuse_fs_conf *, char *err,
	    size_t errlen);
/*
 * The fencing hook, as nfs_set_gate() for NFS: every operation first
 * calls gate(expid, arg) and fails with EIO when it returns 0.  NULL
 * removes the gate.  Any thread.
 */
void	fuse_fs_set_gate(struct fuse_fs *, int (*gate)(uint32_t expid,
	    void *arg), void *arg);
/*
 * As nfs_set_ioerr() for NFS: fn is told at once when a write or an
 * fsync of file data fails with EIO (what: "FUSE write", "FUSE fsync"),
 * before the error is answered.  NULL removes it.  Any thread.
 */
void	fuse_fs_set_ioerr(struct fuse_fs *, void (*fn)(uint32_t expid,
	    int fd, int err, const char *what, void *arg), void *arg);
/*
 * Fail new and waiting operations with EIO, unmount (lazily, and abort
 * the FUSE connection so that open files cannot keep it alive), join
 * the workers and free fs.  Any thread except a worker's.
 */
void	fuse_fs_stop(struct fuse_fs *);

struct fuse_fs_stats {
	uint64_t	ops;		/* operations served */
	uint64_t	gated;		/* refused by the gate or stop (EIO) */
	uint64_t	inodes;		/* inode table entries */
	uint64_t	lock_waits;	/* blocking setlk that had to wait */
};
void	fuse_fs_stats_get(struct fuse_fs *, struct fuse_fs_stats *);

#endif

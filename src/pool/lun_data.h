/*
 * lun_data.h — the data area of a LUN: everything after its private
 * extent, made usable (or unusable) by this head.
 *
 * In ext4 mode the data area is an ext4 file system that starts right
 * after the private extent (offset = super block extent_blocks * 4096).
 * It is reached through a loop device with that offset (direct I/O, so
 * the page cache never holds stale blocks the other head has rewritten)
 * and mounted by the owning head at cfg_lun.mountpoint.  In directory
 * mode the data area is the directory cfg_lun.data (demo, quick tests).
 * The layout and the decisions are in docs/private-extent.md,
 * "Data area".
 *
 * Every call is blocking (it may run mkfs/e2fsck, mount, unmount) and is
 * meant for a worker thread of the HA controller, never the event loop.
 * Calls on different LUNs may run in parallel; calls on the same LUN must
 * be serialised by the caller.  Return codes: 0 ok, -1 failed with errno
 * set; every failure is logged with the LUN name and the syscall or
 * command that failed.  Ownership is NOT checked here: the caller must
 * hold the LUN's reservation (pool.h) before lun_data_attach() and
 * lun_data_format().
 *
 * Programs run (absolute paths from /usr/sbin, /sbin, /usr/bin, /bin):
 * mkfs.ext4 and e2fsck (e2fsprogs), losetup (util-linux, fallback only).
 * The daemon must not ignore SIGCHLD (children are reaped with waitpid).
 */
#ifndef DUONAS_LUN_DATA_H
#define DUONAS_LUN_DATA_H

#include <stdint.h>

#include "common/cfg.h"

/* Bookkeeping of one attached data area; zero it before first use. */
struct lun_data {
	int		attached;	/* 1 after a successful attach */
	char		loopdev[32];	/* "/dev/loopN" (ext4), "" otherwise */
	uint64_t	offset;		/* data area start in the LUN, bytes */
	uint64_t	size;		/* data area size, bytes (ext4) */
	int		fsck_rc;	/* e2fsck exit code of the last attach */
	int		reused;		/* last attach found it already mounted */
	uint64_t	attach_us;	/* duration of the last attach */
	uint64_t	detach_us;	/* duration of the last detach */
};

/*
 * Create the data area.
 * ext4: the private extent must already be formatted (pool_lun_format);
 * a loop device is set up over the rest of the LUN and
 * `mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=1,lazy_journal_init=1
 * -L <name>` runs on it (label: the first 16 bytes of the LUN name).
 * Fails with EEXIST when an ext4 super block is already there and force
 * is 0, and with EBUSY (even with force) while the data area is mounted
 * anywhere on this head.
 * dir: mkdir -p cfg_lun.data (0755); force is ignored.
 */
int	 lun_data_format(const struct cfg_lun *, int force);

/*
 * Make the data area usable by this head.
 * ext4: set up a loop device (LOOP_CONFIGURE through /dev/loop-control,
 * else LOOP_SET_FD + LOOP_SET_STATUS64, else `losetup`) with the data
 * offset, LO_FLAGS_AUTOCLEAR and direct I/O; run `e2fsck -p` (journal
 * replay and preen; exit 0, 1, 2 accepted, >= 4 refuses to mount); mkdir -p
 * the mountpoint; mount(2) ext4 with "errors=remount-ro", nodev, nosuid.
 * Idempotent: when the LUN's loop device is already mounted at the
 * mountpoint, st is filled in (st->reused = 1) and 0 returned at once;
 * an unmounted loop device left over the same LUN and offset is reused.
 * Fails with EBUSY when something else is mounted at the mountpoint or
 * the LUN is mounted elsewhere, ENOENT/EINVAL when the private extent is
 * missing or damaged, EIO when e2fsck cannot repair the file system.
 * dir: the directory must exist and be a directory (ENOENT / ENOTDIR
 * otherwise).  It is deliberately not created: a missing data directory
 * on takeover means a setup error (shared directory not mounted), and
 * serving a fresh empty tree would hide it.  lun_data_format() creates it.
 * st may be NULL.
 */
int	 lun_data_attach(const struct cfg_lun *, struct lun_data *st);

/*
 * Make the data area unusable by this head.
 * ext4: unmount every mount of the LUN's loop device (the mountpoint and
 * any bind mounts), then release the loop device (LOOP_CLR_FD; a device
 * still in use is released by the kernel on its last close).
 * force 0 (giveback, shutdown): a busy file system fails with EBUSY and
 * stays mounted.
 * force 1 (fencing: this head has lost the LUN): never waits more than
 * about LUN_DATA_FENCE_MS.  A clean unmount is tried first; if it is busy
 * or does not finish in time the file system is shut down at once
 * (EXT4_IOC_SHUTDOWN, no log flush: no further write reaches the LUN;
 * the next owner replays the journal) and lazily unmounted (MNT_DETACH).
 * If the disk hangs so that even this does not finish in time, -1 with
 * ETIMEDOUT: the work goes on in a background thread, and the caller must
 * treat this head as unable to fence itself (surrender / reboot).
 * Otherwise -1 only when a mount could not be removed (EBUSY when not
 * forced).  Never reads the LUN, so it works on a dead disk.
 * dir: bookkeeping only.  Idempotent.  st may be NULL.
 */
int	 lun_data_detach(const struct cfg_lun *, struct lun_data *st,
	    int force);

#define LUN_DATA_FENCE_MS	1000

/*
 * After a write error on the data path: stop the file system that fd
 * lies on from acknowledging anything more (ext4: EXT4_IOC_SHUTDOWN after
 * a log flush, so every later write and fsync fails; the next mount
 * replays the journal).  dir: nothing (the directory may sit on the
 * head's own root file system).  0, or -1 with errno.  Any thread.
 */
int	 lun_data_shutdown_fd(const struct cfg_lun *, int fd);

/*
 * 1 when the data area is usable here (ext4: the LUN's loop device is
 * mounted at the mountpoint; dir: the directory exists), 0 when not, -1
 * on error (ext4: something else is mounted at the mountpoint; dir: the
 * path is not a directory).  Reads /proc/self/mountinfo; never blocks on
 * the LUN.
 */
int	 lun_data_attached(const struct cfg_lun *);

/* Directory the exports of this LUN live under: cfg_lun.data (dir) or
 * cfg_lun.mountpoint (ext4).  Points into the cfg_lun. */
const char *lun_data_root(const struct cfg_lun *);

/* Tests only: 1 = skip the loop ioctls and use losetup(8) directly. */
void	 lun_data_test_losetup(int on);

#endif

/*
 * lun_data.c — a LUN's data area: format, attach (loop + e2fsck + mount),
 * detach (unmount + loop release), and whether it is attached here.
 *
 * Owns nothing between calls: the kernel is the state.  Our loop devices
 * are found again by asking each bound loop device (sysfs, then
 * LOOP_GET_STATUS64) for its backing inode and offset, and our mounts by
 * the loop device numbers in /proc/self/mountinfo, so attach and detach
 * are idempotent and survive a daemon restart.  Loop devices are set up
 * with the kernel ioctls (LOOP_CONFIGURE, else LOOP_SET_FD +
 * LOOP_SET_STATUS64, losetup(8) only as a last resort), with AUTOCLEAR so
 * that the kernel frees them when the file system lets go, and direct I/O
 * so that the page cache never serves blocks the other head has rewritten.
 * Fencing detach runs in a helper thread with a deadline so a hung disk
 * cannot hang the HA controller.
 * It does not decide who owns a LUN (the reservation in pool.h does) and
 * it never reads the private extent except its super block for the data
 * offset (format and attach only: detach must work on a dead disk).
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/loop.h>
#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/lun_data.h"
#include "pool/pool.h"

/* Not in the 6.1 uapi headers: the ext4 (and xfs/f2fs) shutdown ioctl. */
#ifndef EXT4_IOC_SHUTDOWN
#define EXT4_IOC_SHUTDOWN		_IOR('X', 125, uint32_t)
#endif
#define EXT4_GOING_FLAGS_LOGFLUSH	0x1
#define EXT4_GOING_FLAGS_NOLOGFLUSH	0x2

#define LD_BLOCK	4096		/* loop logical block = fs block size */
#define LD_MAXLOOPS	16		/* loop devices over one LUN we track */
#define LD_OUTMAX	1024		/* command output kept for the log */

static int	force_losetup;

struct loopdev {
	char		dev[32];	/* /dev/loopN */
	unsigned	maj, min;
};

struct mnt {
	unsigned	 maj, min;
	char		*path;		/* unescaped, points into the buffer */
};

struct mnts {
	uint8_t		*raw;
	struct mnt	*v;
	int		 n;
};

void
lun_data_test_losetup(int on)
{
	force_losetup = on;
}

const char *
lun_data_root(const struct cfg_lun *l)
{
	return l->mode == CFG_LUN_EXT4 ? l->mountpoint : l->data;
}

static int
lun_check(const struct cfg_lun *l)
{
	const char *why = NULL;

	if (l->mode == CFG_LUN_EXT4) {
		if (l->path[0] == 0)
			why = "no path";
		else if (l->mountpoint[0] != '/')
			why = "mountpoint is not an absolute path";
	} else if (l->mode == CFG_LUN_DIR) {
		if (l->data[0] == 0)
			why = "no data directory";
	} else
		why = "unknown mode";
	if (why != NULL) {
		log_warnx("lun %s: %s", l->name, why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- running programs ------------------------------------------------ */

static int
prog_find(const char *name, char *out, size_t outlen)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
	    "/bin" };
	size_t	i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, outlen, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * Run argv (argv[0] a bare program name) with stdin /dev/null and no
 * inherited descriptors; collect up to outlen-1 bytes of stdout+stderr.
 * *status: exit code, or 128 + signal.  Returns -1 when it could not run.
 */
static int
run_cmd(const char *lun, char *const argv[], int *status, char *out,
    size_t outlen)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	char	 prog[64], junk[256];
	size_t	 got = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], rc, ws;

	out[0] = 0;
	if (prog_find(argv[0], prog, sizeof(prog)) == -1) {
		log_warnx("lun %s: %s not found (install e2fsprogs / "
		    "util-linux)", lun, argv[0]);
		errno = ENOENT;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("lun %s: pipe for %s", lun, argv[0]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawn(&pid, prog, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		errno = rc;
		log_warn("lun %s: posix_spawn %s", lun, prog);
		return -1;
	}
	for (;;) {
		if (got + 1 < outlen)
			n = read(p[0], out + got, outlen - 1 - got);
		else
			n = read(p[0], junk, sizeof(junk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + 1 < outlen)
			got += (size_t)n;
	}
	out[got] = 0;
	close(p[0]);
	while (waitpid(pid, &ws, 0) == -1) {
		if (errno != EINTR) {
			log_warn("lun %s: waitpid %s", lun, prog);
			return -1;
		}
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

/* Log command output one line at a time ("lun X: e2fsck: ..."). */
static void
log_output(const char *lun, const char *prog, char *out, int warn)
{
	char	*line, *save = NULL;

	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (warn)
			log_warnx("lun %s: %s: %s", lun, prog, line);
		else
			log_info("lun %s: %s: %s", lun, prog, line);
	}
}

/* ---- the data offset (from the private extent's super block) -------- */

static int
data_offset(const struct cfg_lun *l, uint64_t *off, uint64_t *size)
{
	struct pool_lun	pl;
	int		rc;

	/* pool id 0: accept the super block of any cluster; the HA
	 * controller has verified the pool when it took the reservation. */
	if ((rc = pool_lun_open(&pl, l->path, 0, l->id, 1)) != 0) {
		log_warnx("lun %s: cannot open %s: %s", l->name, l->path,
		    pool_strerror(rc));
		errno = rc;
		return -1;
	}
	pool_lun_setname(&pl, l->name);
	rc = pool_lun_load(&pl);
	if (rc == 0) {
		*off = pl.sb.extent_blocks * PEXT_BLOCK_SIZE;
		*size = pl.size - *off;
	}
	pool_lun_close(&pl);
	if (rc != 0) {
		log_warnx("lun %s: private extent of %s: %s%s", l->name,
		    l->path, pool_strerror(rc), rc == PEXT_E_EMPTY ?
		    " (not formatted: run pool format first)" : "");
		errno = rc > 0 ? rc : rc == PEXT_E_EMPTY ? ENOENT : EINVAL;
		return -1;
	}
	if (*size < 16 * LD_BLOCK) {
		log_warnx("lun %s: %s has no room for data after the private "
		    "extent", l->name, l->path);
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* ---- mounts ----------------------------------------------------------- */

static void
unescape(char *s)
{
	char	*d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = 0;
}

static void
mnts_free(struct mnts *m)
{
	free(m->raw);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Read /proc/self/mountinfo: every mount's device and mount point, in
 * mount order (a later entry can sit on top of an earlier one). */
static int
mnts_read(const char *lun, struct mnts *m)
{
	char	*line, *save = NULL, *f[5], *s2;
	size_t	 len;
	int	 i, cap = 0;

	memset(m, 0, sizeof(*m));
	if (file_read_all("/proc/self/mountinfo", 16 << 20, &m->raw,
	    &len) == -1) {
		log_warn("lun %s: read /proc/self/mountinfo", lun);
		return -1;
	}
	for (line = strtok_r((char *)m->raw, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		s2 = NULL;
		for (i = 0; i < 5; i++)
			if ((f[i] = strtok_r(i ? NULL : line, " ", &s2)) ==
			    NULL)
				break;
		if (i < 5)
			continue;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 64;
			m->v = xrealloc(m->v, (size_t)cap * sizeof(*m->v));
		}
		if (sscanf(f[2], "%u:%u", &m->v[m->n].maj,
		    &m->v[m->n].min) != 2)
			continue;
		unescape(f[4]);
		m->v[m->n++].path = f[4];
	}
	return 0;
}

/* The top-most mount at path (already canonical), or NULL. */
static const struct mnt *
mnts_at(const struct mnts *m, const char *path)
{
	int	i;

	for (i = m->n - 1; i >= 0; i--)
		if (strcmp(m->v[i].path, path) == 0)
			return &m->v[i];
	return NULL;
}

static int
is_ours(const struct mnt *mt, const struct loopdev *lp, int nl)
{
	int	i;

	for (i = 0; i < nl; i++)
		if (lp[i].maj == mt->maj && lp[i].min == mt->min)
			return i;
	return -1;
}

/* ---- loop devices ---------------------------------------------------- */

static int
sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/*
 * Loop devices bound to the LUN (same inode for a file, same device for a
 * block device) at offset off; off 0 means any non-zero offset (detach and
 * attached() must not read the LUN to learn the offset).
 */
static int
loop_find(const struct cfg_lun *l, uint64_t off, struct loopdev *out,
    int max)
{
	struct loop_info64	 li;
	struct stat		 bst;
	struct dirent		*de;
	DIR			*d;
	char			 p[300], v[64];
	unsigned long long	 o;
	int			 n = 0, fd, match;

	if (stat(l->path, &bst) == -1) {
		log_warn("lun %s: stat %s", l->name, l->path);
		return -1;
	}
	if ((d = opendir("/sys/block")) == NULL) {
		log_warn("lun %s: opendir /sys/block", l->name);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, "loop", 4) != 0 ||
		    strlen(de->d_name) > 20)
			continue;
		/* loop/offset exists only while the device is bound. */
		snprintf(p, sizeof(p), "/sys/block/%s/loop/offset", de->d_name);
		if (sysfs_read(p, v, sizeof(v)) == -1)
			continue;
		o = strtoull(v, NULL, 10);
		if (off ? o != off : o == 0)
			continue;
		snprintf(p, sizeof(p), "/dev/%s", de->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
			continue;	/* released meanwhile */
		match = ioctl(fd, LOOP_GET_STATUS64, &li) == 0 && (S_ISBLK(
		    bst.st_mode) ? li.lo_rdevice == bst.st_rdev :
		    li.lo_device == bst.st_dev && li.lo_inode == bst.st_ino);
		close(fd);
		if (!match)
			continue;
		snprintf(out[n].dev, sizeof(out[n].dev), "/dev/%.20s",
		    de->d_name);
		snprintf(p, sizeof(p), "/sys/block/%s/dev", de->d_name);
		if (sysfs_read(p, v, sizeof(v)) == -1 ||
		    sscanf(v, "%u:%u", &out[n].maj, &out[n].min) != 2)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static void
loop_set_autoclear(const char *lun, int fd, const char *dev)
{
	struct loop_info64	li;

	if (ioctl(fd, LOOP_GET_STATUS64, &li) == 0 &&
	    (li.lo_flags & LO_FLAGS_AUTOCLEAR))
		return;
	li.lo_flags |= LO_FLAGS_AUTOCLEAR;
	if (ioctl(fd, LOOP_SET_STATUS64, &li) == -1)
		log_warn("lun %s: %s: LOOP_SET_STATUS64 (autoclear)", lun, dev);
}

/* Bind the free loop device lfd to bfd; 0, EBUSY (taken by someone else
 * meanwhile: try another) or another errno. */
static int
loop_bind(const struct cfg_lun *l, int lfd, int bfd, uint64_t off,
    const char *dev)
{
	struct loop_config	c;

	memset(&c, 0, sizeof(c));
	c.fd = (uint32_t)bfd;
	c.block_size = LD_BLOCK;
	c.info.lo_offset = off;
	c.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
	snprintf((char *)c.info.lo_file_name, LO_NAME_SIZE, "%.63s", l->path);
	if (ioctl(lfd, LOOP_CONFIGURE, &c) == 0)
		return 0;
	if (errno == EBUSY)
		return EBUSY;
	/* Newer kernels refuse direct I/O where the backing file cannot do
	 * it (tmpfs): buffered is fine for tests on such files. */
	c.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (errno == EINVAL && ioctl(lfd, LOOP_CONFIGURE, &c) == 0) {
		log_info("lun %s: %s: no direct I/O on %s, loop device is "
		    "buffered", l->name, dev, l->path);
		return 0;
	}
	if (errno == EBUSY)
		return EBUSY;
	log_warn("lun %s: %s: LOOP_CONFIGURE; trying LOOP_SET_FD", l->name,
	    dev);
	/* Kernels before 5.8: two steps. */
	if (ioctl(lfd, LOOP_SET_FD, bfd) == -1) {
		if (errno == EBUSY)
			return EBUSY;
		log_warn("lun %s: %s: LOOP_SET_FD", l->name, dev);
		return errno;
	}
	if (ioctl(lfd, LOOP_SET_STATUS64, &c.info) == -1) {
		int e = errno;

		log_warn("lun %s: %s: LOOP_SET_STATUS64", l->name, dev);
		ioctl(lfd, LOOP_CLR_FD, 0);
		return e;
	}
	if (ioctl(lfd, LOOP_SET_BLOCK_SIZE, (unsigned long)LD_BLOCK) == -1)
		log_warn("lun %s: %s: LOOP_SET_BLOCK_SIZE", l->name, dev);
	if (ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL) == -1)
		log_info("lun %s: %s: no direct I/O, loop device is buffered",
		    l->name, dev);
	return 0;
}

/* The losetup(8) fallback: a device without AUTOCLEAR, so set it. */
static int
loop_losetup(const struct cfg_lun *l, uint64_t off, char *dev, size_t devlen)
{
	char	 offs[32], out[LD_OUTMAX], *nl;
	char	*argv[] = { "losetup", "--find", "--show", "--offset", offs,
	    "--sector-size", "4096", "--direct-io=on", NULL, NULL };
	int	 st, fd;

	argv[8] = (char *)(uintptr_t)l->path;
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)off);
	if (run_cmd(l->name, argv, &st, out, sizeof(out)) == -1)
		return -1;
	if (st != 0 || strncmp(out, "/dev/loop", 9) != 0) {
		log_warnx("lun %s: losetup --find --show --offset %s %s "
		    "failed (exit %d)", l->name, offs, l->path, st);
		log_output(l->name, "losetup", out, 1);
		errno = EIO;
		return -1;
	}
	/* --direct-io may warn on stderr after the name: first line only. */
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = 0;
	if (strlen(out) >= devlen) {
		log_warnx("lun %s: losetup printed an odd device name", l->name);
		errno = EIO;
		return -1;
	}
	memcpy(dev, out, strlen(out) + 1);
	if ((fd = open(dev, O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("lun %s: open %s", l->name, dev);
		return -1;
	}
	loop_set_autoclear(l->name, fd, dev);
	return fd;
}

/*
 * Set up a new loop device over the LUN's data area.  Returns an open
 * descriptor of the device (keep it open until the device is mounted or
 * no longer wanted: AUTOCLEAR frees it on the last close) and its name.
 */
static int
loop_setup(const struct cfg_lun *l, uint64_t off, char *dev, size_t devlen)
{
	int	bfd = -1, ctl = -1, lfd = -1, n, tries, rc;

	if (force_losetup)
		return loop_losetup(l, off, dev, devlen);
	if ((bfd = open(l->path, O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("lun %s: open %s", l->name, l->path);
		return -1;
	}
	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("lun %s: open /dev/loop-control", l->name);
		goto fallback;
	}
	for (tries = 0; tries < 16; tries++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) == -1) {
			log_warn("lun %s: LOOP_CTL_GET_FREE", l->name);
			goto fallback;
		}
		snprintf(dev, devlen, "/dev/loop%d", n);
		if ((lfd = open(dev, O_RDWR | O_CLOEXEC)) == -1) {
			if (errno == ENOENT || errno == ENXIO)
				continue;	/* not yet / no longer there */
			log_warn("lun %s: open %s", l->name, dev);
			goto fallback;
		}
		if ((rc = loop_bind(l, lfd, bfd, off, dev)) == 0)
			goto out;
		close(lfd);
		lfd = -1;
		if (rc != EBUSY)
			goto fallback;
		/* Another process bound it between GET_FREE and ours. */
	}
	log_warnx("lun %s: no free loop device after %d tries", l->name,
	    tries);
fallback:
	log_info("lun %s: loop ioctls failed, falling back to losetup",
	    l->name);
	lfd = loop_losetup(l, off, dev, devlen);
out:
	if (ctl != -1)
		close(ctl);
	close(bfd);
	return lfd;
}

/* Ask the kernel to free a loop device (deferred while it is in use). */
static void
loop_release(const char *lun, const char *dev)
{
	int	fd;

	if ((fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return;			/* already gone */
	if (ioctl(fd, LOOP_CLR_FD, 0) == -1 && errno != ENXIO)
		log_warn("lun %s: %s: LOOP_CLR_FD", lun, dev);
	close(fd);
}

/* ---- ext4 super block probe ------------------------------------------ */

/* 1 when an ext4 (ext2/3) super block is at off (its label in label[17]),
 * 0 when not, -1 on error. */
static int
ext4_probe(const struct cfg_lun *l, uint64_t off, char *label)
{
	uint8_t	*b = NULL;
	ssize_t	 n;
	int	 fd, rv = -1;

	label[0] = 0;
	fd = open(l->path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (fd == -1 && errno == EINVAL)
		fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("lun %s: open %s", l->name, l->path);
		return -1;
	}
	if (posix_memalign((void **)&b, LD_BLOCK, LD_BLOCK) != 0)
		fatalx("lun: out of memory");
	n = pread(fd, b, LD_BLOCK, (off_t)off);
	if (n != LD_BLOCK) {
		log_warn("lun %s: read %s at %llu", l->name, l->path,
		    (unsigned long long)off);
		goto out;
	}
	/* Super block at 1024; s_magic (le16) at +56; s_volume_name at +120 */
	rv = b[1024 + 56] == 0x53 && b[1024 + 57] == 0xef;
	if (rv)
		snprintf(label, 17, "%.16s", (const char *)b + 1024 + 120);
out:
	free(b);
	close(fd);
	return rv;
}

/* ---- format ------------------------------------------------------------ */

static int
format_ext4(const struct cfg_lun *l, int force)
{
	struct loopdev	lp[LD_MAXLOOPS];
	struct mnts	m = { 0 };
	uint64_t	off, size, t0 = now_us();
	char		dev[32], label[17], out[LD_OUTMAX];
	char		*argv[] = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-E",
	    "lazy_itable_init=1,lazy_journal_init=1", "-L", label, dev, NULL };
	int		nl, i, st, fd = -1, rv = -1, e = EIO;

	if (data_offset(l, &off, &size) == -1)
		return -1;
	if ((nl = loop_find(l, off, lp, LD_MAXLOOPS)) == -1 ||
	    mnts_read(l->name, &m) == -1) {
		e = errno;
		goto out;
	}
	for (i = 0; i < m.n; i++) {
		if (is_ours(&m.v[i], lp, nl) >= 0) {
			log_warnx("lun %s: refusing to format: mounted at %s",
			    l->name, m.v[i].path);
			e = EBUSY;
			goto out;
		}
	}
	if ((i = ext4_probe(l, off, label)) == -1) {
		e = errno;
		goto out;
	}
	if (i == 1 && !force) {
		log_warnx("lun %s: %s already holds an ext4 file system "
		    "(label \"%s\"); not formatting without force", l->name,
		    l->path, label);
		e = EEXIST;
		goto out;
	}
	if (i == 1)
		log_info("lun %s: overwriting the ext4 file system \"%s\" "
		    "(forced)", l->name, label);
	if ((fd = loop_setup(l, off, dev, sizeof(dev))) == -1) {
		e = errno;
		goto out;
	}
	snprintf(label, sizeof(label), "%.16s", l->name);
	if (run_cmd(l->name, argv, &st, out, sizeof(out)) == -1) {
		e = errno;
		goto out;
	}
	if (st != 0) {
		log_warnx("lun %s: mkfs.ext4 %s failed (exit %d)", l->name,
		    dev, st);
		log_output(l->name, "mkfs.ext4", out, 1);
		goto out;
	}
	log_info("lun %s: formatted ext4 on %s (%llu MiB at offset %llu) "
	    "in %llu ms", l->name, l->path,
	    (unsigned long long)(size >> 20), (unsigned long long)off,
	    (unsigned long long)((now_us() - t0) / 1000));
	rv = 0;
out:
	if (fd != -1) {
		if (ioctl(fd, LOOP_CLR_FD, 0) == -1)
			log_warn("lun %s: %s: LOOP_CLR_FD", l->name, dev);
		close(fd);
	}
	mnts_free(&m);
	if (rv == -1)
		errno = e;
	return rv;
}

int
lun_data_format(const struct cfg_lun *l, int force)
{
	struct stat	st;

	if (lun_check(l) == -1)
		return -1;
	if (l->mode == CFG_LUN_EXT4)
		return format_ext4(l, force);
	if (mkdir_p(l->data, 0755) == -1) {
		log_warn("lun %s: mkdir -p %s", l->name, l->data);
		return -1;
	}
	if (stat(l->data, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_warnx("lun %s: %s exists and is not a directory", l->name,
		    l->data);
		errno = ENOTDIR;
		return -1;
	}
	log_info("lun %s: data directory %s ready", l->name, l->data);
	return 0;
}

/* ---- attach ------------------------------------------------------------ */

static int
attach_ext4(const struct cfg_lun *l, struct lun_data *st)
{
	struct loopdev	 lp[LD_MAXLOOPS];
	struct mnts	 m = { 0 };
	const struct mnt *top = NULL;
	uint64_t	 off, size, t0 = now_us(), t1, t2;
	char		 dev[32], rp[PATH_MAX], out[LD_OUTMAX];
	char		*argv[] = { "e2fsck", "-p", dev, NULL };
	int		 nl, i, k, fsck, fd = -1, rv = -1, e = EIO;

	st->reused = 0;
	st->fsck_rc = -1;
	if (data_offset(l, &off, &size) == -1)
		return -1;
	if ((nl = loop_find(l, off, lp, LD_MAXLOOPS)) == -1 ||
	    mnts_read(l->name, &m) == -1) {
		e = errno;
		goto out;
	}
	if (realpath(l->mountpoint, rp) != NULL)
		top = mnts_at(&m, rp);
	if (top != NULL && (k = is_ours(top, lp, nl)) >= 0) {
		snprintf(st->loopdev, sizeof(st->loopdev), "%.31s", lp[k].dev);
		st->reused = 1;
		rv = 0;
		goto done;
	}
	if (top != NULL) {
		log_warnx("lun %s: mountpoint %s is in use by another file "
		    "system (device %u:%u)", l->name, rp, top->maj, top->min);
		e = EBUSY;
		goto out;
	}
	for (i = 0; i < m.n; i++) {
		if (is_ours(&m.v[i], lp, nl) >= 0) {
			log_warnx("lun %s: already mounted at %s, not at %s; "
			    "detach it first", l->name, m.v[i].path,
			    l->mountpoint);
			e = EBUSY;
			goto out;
		}
	}
	if (nl > 0) {
		/* Left over (e.g. a crash between setup and mount). */
		snprintf(dev, sizeof(dev), "%.31s", lp[0].dev);
		if ((fd = open(dev, O_RDWR | O_CLOEXEC)) == -1) {
			e = errno;
			log_warn("lun %s: open %s", l->name, dev);
			goto out;
		}
		log_info("lun %s: reusing loop device %s", l->name, dev);
	} else if ((fd = loop_setup(l, off, dev, sizeof(dev))) == -1) {
		e = errno;
		goto out;
	}
	t1 = now_us();
	if (run_cmd(l->name, argv, &fsck, out, sizeof(out)) == -1) {
		e = errno;
		goto out;
	}
	t2 = now_us();
	st->fsck_rc = fsck;
	if (fsck >= 4) {
		log_warnx("lun %s: e2fsck -p %s failed (exit %d): file system "
		    "needs a manual check (e2fsck -f), not mounting", l->name,
		    dev, fsck);
		log_output(l->name, "e2fsck", out, 1);
		e = EIO;
		goto out;
	}
	if (fsck != 0)
		log_info("lun %s: e2fsck -p %s repaired the file system "
		    "(exit %d)", l->name, dev, fsck);
	/* One line when clean; "recovering journal" etc. otherwise. */
	log_output(l->name, "e2fsck", out, 0);
	if (mkdir_p(l->mountpoint, 0755) == -1) {
		e = errno;
		log_warn("lun %s: mkdir -p %s", l->name, l->mountpoint);
		goto out;
	}
	if (mount(dev, l->mountpoint, "ext4", MS_NODEV | MS_NOSUID,
	    "errors=remount-ro") == -1) {
		e = errno;
		log_warn("lun %s: mount %s on %s (ext4)", l->name, dev,
		    l->mountpoint);
		goto out;
	}
	loop_set_autoclear(l->name, fd, dev);
	snprintf(st->loopdev, sizeof(st->loopdev), "%.31s", dev);
	log_info("lun %s: mounted %s (%s at offset %llu) on %s in %llu ms "
	    "(e2fsck %llu ms, exit %d)", l->name, dev, l->path,
	    (unsigned long long)off, l->mountpoint,
	    (unsigned long long)((now_us() - t0) / 1000),
	    (unsigned long long)((t2 - t1) / 1000), fsck);
	rv = 0;
done:
	st->offset = off;
	st->size = size;
out:
	if (fd != -1) {
		/* Not mounted: let the device go at once. */
		if (rv == -1 && ioctl(fd, LOOP_CLR_FD, 0) == -1)
			log_warn("lun %s: %s: LOOP_CLR_FD", l->name, dev);
		close(fd);
	}
	mnts_free(&m);
	if (rv == -1)
		errno = e;
	return rv;
}

int
lun_data_attach(const struct cfg_lun *l, struct lun_data *st)
{
	struct lun_data	tmp;
	struct stat	sb;
	uint64_t	t0 = now_us();
	int		rv;

	if (st == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		st = &tmp;
	}
	if (lun_check(l) == -1)
		return -1;
	if (l->mode == CFG_LUN_EXT4) {
		rv = attach_ext4(l, st);
	} else if (stat(l->data, &sb) == -1) {
		log_warn("lun %s: data directory %s (create it with "
		    "format)", l->name, l->data);
		rv = -1;
	} else if (!S_ISDIR(sb.st_mode)) {
		log_warnx("lun %s: %s is not a directory", l->name, l->data);
		errno = ENOTDIR;
		rv = -1;
	} else {
		st->loopdev[0] = 0;
		rv = 0;
	}
	st->attach_us = now_us() - t0;
	if (rv == 0)
		st->attached = 1;
	return rv;
}

/* ---- detach ------------------------------------------------------------ */

/*
 * One detach, run inline (orderly) or in a helper thread (fencing).  The
 * job is shared by the caller and the thread; the last one out frees it.
 */
struct djob {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		refs;
	int		done;
	int		rc, err;
	int		force;
	int		lazy;		/* loop devices still in use */
	struct cfg_lun	l;
};

/* Unmount one mount of ours; fencing shuts a busy fs down first. */
static int
umount_one(const struct djob *j, const char *path)
{
	uint32_t	flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
	int		fd;

	if (umount2(path, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOENT)
		return 0;		/* gone meanwhile */
	if (errno != EBUSY || !j->force) {
		log_warn("lun %s: umount %s%s", j->l.name, path,
		    errno == EBUSY ? " (files open; not forced)" : "");
		return -1;
	}
	/* Fencing: from now on nothing of ours may reach the LUN. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) == -1)
		log_warn("lun %s: shutdown of the file system at %s",
		    j->l.name, path);
	else
		log_warnx("lun %s: %s busy: file system shut down (no log "
		    "flush), detaching lazily", j->l.name, path);
	if (fd != -1)
		close(fd);
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == -1 &&
	    errno != EINVAL && errno != ENOENT) {
		log_warn("lun %s: umount2 %s MNT_DETACH", j->l.name, path);
		return -1;
	}
	return 0;
}

static void
detach_work(struct djob *j)
{
	struct loopdev	lp[LD_MAXLOOPS];
	struct mnts	m = { 0 };
	char		p[300], v[64];
	int		nl, i, k;

	j->rc = -1;
	if ((nl = loop_find(&j->l, 0, lp, LD_MAXLOOPS)) == -1 ||
	    mnts_read(j->l.name, &m) == -1) {
		j->err = errno;
		goto out;
	}
	/* Newest first: a bind mount or a mount on top goes before its
	 * parent. */
	for (i = m.n - 1; i >= 0; i--) {
		if (is_ours(&m.v[i], lp, nl) < 0)
			continue;
		if (umount_one(j, m.v[i].path) == -1) {
			j->err = errno;
			goto out;
		}
		log_info("lun %s: unmounted %s", j->l.name, m.v[i].path);
	}
	for (k = 0; k < nl; k++) {
		loop_release(j->l.name, lp[k].dev);
		snprintf(p, sizeof(p), "/sys/block/%s/loop/offset",
		    lp[k].dev + 5);
		if (sysfs_read(p, v, sizeof(v)) == 0) {
			j->lazy = 1;
			log_info("lun %s: %s still in use; the kernel frees it "
			    "on its last close", j->l.name, lp[k].dev);
		}
	}
	j->rc = 0;
out:
	mnts_free(&m);
}

static void
djob_put(struct djob *j)
{
	int	last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (last) {
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		free(j);
	}
}

static void *
detach_thread(void *arg)
{
	struct djob	*j = arg;

	detach_work(j);
	pthread_mutex_lock(&j->mu);
	j->done = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	djob_put(j);
	return NULL;
}

/* Fencing: run the detach in a thread, wait at most LUN_DATA_FENCE_MS. */
static int
detach_bounded(struct djob *j)
{
	pthread_condattr_t	ca;
	pthread_attr_t		ta;
	pthread_t		t;
	struct timespec		ts;
	int			rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	j->refs = 2;
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &ta, detach_thread, j);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		/* No thread: do it here, unbounded, rather than not at all. */
		errno = rc;
		log_warn("lun %s: pthread_create for fencing detach",
		    j->l.name);
		j->refs = 1;
		detach_work(j);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += LUN_DATA_FENCE_MS / 1000;
	ts.tv_nsec += (LUN_DATA_FENCE_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->mu);
	rc = 0;
	while (!j->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	rc = j->done ? 0 : -1;
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
lun_data_detach(const struct cfg_lun *l, struct lun_data *st, int force)
{
	struct djob	*j;
	uint64_t	 t0 = now_us();
	int		 rv, err = 0, lazy = 0;

	if (lun_check(l) == -1)
		return -1;
	if (l->mode != CFG_LUN_EXT4) {
		rv = 0;
		goto out;
	}
	j = xcalloc(1, sizeof(*j));
	j->l = *l;
	j->force = force;
	j->refs = 1;
	pthread_mutex_init(&j->mu, NULL);
	if (force) {
		if (detach_bounded(j) == -1) {
			log_warnx("lun %s: detach did not finish within %d ms "
			    "(disk hung?); it goes on in the background",
			    l->name, LUN_DATA_FENCE_MS);
			djob_put(j);
			errno = ETIMEDOUT;
			rv = -1;
			goto out;
		}
	} else {
		pthread_cond_init(&j->cv, NULL);
		detach_work(j);
	}
	rv = j->rc;
	err = j->err;
	lazy = j->lazy;
	djob_put(j);
	if (rv == 0)
		log_info("lun %s: detached in %llu ms%s", l->name,
		    (unsigned long long)((now_us() - t0) / 1000),
		    lazy ? " (loop device released lazily)" : "");
out:
	if (st != NULL) {
		st->detach_us = now_us() - t0;
		if (rv == 0) {
			st->attached = 0;
			st->loopdev[0] = 0;
		}
	}
	if (rv == -1 && err != 0)
		errno = err;
	return rv;
}

int
lun_data_shutdown_fd(const struct cfg_lun *l, int fd)
{
	struct loopdev	lp[LD_MAXLOOPS];
	uint32_t	flags = EXT4_GOING_FLAGS_LOGFLUSH;
	struct statfs	sf;
	struct stat	st;
	int		nl, i;

	if (l->mode != CFG_LUN_EXT4)
		return 0;
	/* only ever the LUN's own ext4 (on one of its loop devices), never
	 * what a stray fd points at (an export over an empty mountpoint
	 * lies on the head's own file system) */
	if (fstatfs(fd, &sf) == -1 || fstat(fd, &st) == -1)
		return -1;
	if (sf.f_type != EXT4_SUPER_MAGIC ||
	    (nl = loop_find(l, 0, lp, LD_MAXLOOPS)) <= 0)
		goto notours;
	for (i = 0; i < nl; i++)
		if (lp[i].maj == major(st.st_dev) &&
		    lp[i].min == minor(st.st_dev))
			return ioctl(fd, EXT4_IOC_SHUTDOWN, &flags);
notours:
	errno = EXDEV;
	return -1;
}

/* ---- state ------------------------------------------------------------- */

int
lun_data_attached(const struct cfg_lun *l)
{
	struct loopdev	  lp[LD_MAXLOOPS];
	struct mnts	  m;
	const struct mnt *top;
	struct stat	  sb;
	char		  rp[PATH_MAX];
	int		  nl, rv;

	if (lun_check(l) == -1)
		return -1;
	if (l->mode != CFG_LUN_EXT4) {
		if (stat(l->data, &sb) == -1) {
			if (errno == ENOENT)
				return 0;
			log_warn("lun %s: stat %s", l->name, l->data);
			return -1;
		}
		if (!S_ISDIR(sb.st_mode)) {
			log_warnx("lun %s: %s is not a directory", l->name,
			    l->data);
			errno = ENOTDIR;
			return -1;
		}
		return 1;
	}
	if (realpath(l->mountpoint, rp) == NULL)
		return 0;
	if (mnts_read(l->name, &m) == -1)
		return -1;
	if ((top = mnts_at(&m, rp)) == NULL) {
		rv = 0;
	} else if ((nl = loop_find(l, 0, lp, LD_MAXLOOPS)) == -1) {
		rv = -1;
	} else if (is_ours(top, lp, nl) >= 0) {
		rv = 1;
	} else {
		log_warnx("lun %s: mountpoint %s holds another file system "
		    "(device %u:%u)", l->name, rp, top->maj, top->min);
		errno = EBUSY;
		rv = -1;
	}
	mnts_free(&m);
	return rv;
}

/*
 * faultfs.c — a tiny FUSE file system for tests: one backing file shown
 * as MOUNT/lun, and a control file MOUNT/ctl that makes its I/O fail
 * with EIO, the way a dying disk or a cut path does (this kernel has no
 * device-mapper, so dm-error/dm-flakey are not available).
 *
 *   faultfs BACKING MOUNTPOINT [-d]        (stays in the foreground)
 *   echo "eio PID" >MOUNT/ctl   reads and writes through every handle
 *                               opened by process PID or a descendant
 *                               (or one of its threads) fail with EIO
 *   echo "eio all" >MOUNT/ctl   every read and write fails
 *   echo "ewrite PID OFF N [SKIP END]" >MOUNT/ctl
 *                               the next N writes at offset OFF or
 *                               beyond (but not within SKIP..END, e.g.
 *                               a journal) through PID's handles fail
 *                               with EIO (reads work), then back to
 *                               normal: one failed writeback of a data
 *                               block without a failed journal commit
 *   echo ok >MOUNT/ctl          back to normal
 *   cat MOUNT/ctl               mode and counters
 *
 * Failing per opener models one head losing its path to a shared disk
 * while the other head still reaches it: the loop device and the pool
 * handle of head A (both opened by A's daemon) fail, a handle the peer
 * opens works.  Every handle is opened with direct_io so no read is
 * answered from a page cache another opener filled.  Needs root (or
 * allow_other) for processes of other users; tests run as root.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HANDLES	1024
#define MAX_CHAIN	16

struct handle {
	int	used;
	int	nchain;
	pid_t	chain[MAX_CHAIN];	/* opener, its process, ancestors */
};

static struct {
	int		 fd;
	const char	*backing;
	pthread_mutex_t	 mtx;
	int		 mode;		/* 0 ok, 1 eio PID, 2 eio all,
					 * 3 ewrite PID */
	pid_t		 pid;
	long long	 ew_from;	/* ewrite: from this offset, */
	long		 ew_left;	/* this many more writes */
	long long	 ew_skip, ew_end;/* but not in [ew_skip, ew_end) */
	unsigned long	 failed_rd, failed_wr, rd, wr;
	struct handle	 h[MAX_HANDLES];
} fs = { .fd = -1, .mtx = PTHREAD_MUTEX_INITIALIZER };

/* "Tgid:" or "PPid:" of /proc/PID/status, or -1. */
static pid_t
status_field(pid_t pid, const char *key)
{
	char	 path[64], line[256];
	FILE	*f;
	pid_t	 v = -1;
	size_t	 n = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0) {
			v = (pid_t)atoi(line + n);
			break;
		}
	fclose(f);
	return v;
}

static void
chain_of(pid_t tid, struct handle *h)
{
	pid_t p;

	h->nchain = 0;
	h->chain[h->nchain++] = tid;
	if ((p = status_field(tid, "Tgid:")) > 0 && p != tid)
		h->chain[h->nchain++] = p;
	else
		p = tid;
	while (h->nchain < MAX_CHAIN && (p = status_field(p, "PPid:")) > 1)
		h->chain[h->nchain++] = p;
}

/* fs.mtx held: handle fh was opened by fs.pid or a descendant */
static int
of_pid(uint64_t fh)
{
	if (fh >= MAX_HANDLES || !fs.h[fh].used)
		return 0;
	for (int i = 0; i < fs.h[fh].nchain; i++)
		if (fs.h[fh].chain[i] == fs.pid)
			return 1;
	return 0;
}

static int
failing(uint64_t fh)
{
	int bad = 0;

	pthread_mutex_lock(&fs.mtx);
	if (fs.mode == 2)
		bad = 1;
	else if (fs.mode == 1)
		bad = of_pid(fh);
	pthread_mutex_unlock(&fs.mtx);
	return bad;
}

/* ewrite: this write fails (and counts down to normal) */
static int
failing_write(uint64_t fh, off_t off)
{
	int bad = 0;

	pthread_mutex_lock(&fs.mtx);
	if (fs.mode == 3 && off >= fs.ew_from && of_pid(fh) &&
	    !(off >= fs.ew_skip && off < fs.ew_end)) {
		bad = 1;
		if (--fs.ew_left <= 0)
			fs.mode = 0;
	}
	pthread_mutex_unlock(&fs.mtx);
	return bad;
}

static int
ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/lun") == 0) {
		if (fstat(fs.fd, st) < 0)
			return -errno;
		st->st_ino = 2;
		return 0;
	}
	if (strcmp(path, "/ctl") == 0) {
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = 0;
		st->st_ino = 3;
		return 0;
	}
	return -ENOENT;
}

static int
ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags fl)
{
	(void)off; (void)fi; (void)fl;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "lun", NULL, 0, 0);
	fill(buf, "ctl", NULL, 0, 0);
	return 0;
}

static int
ff_open(const char *path, struct fuse_file_info *fi)
{
	fi->direct_io = 1;
	if (strcmp(path, "/ctl") == 0) {
		fi->fh = UINT64_MAX;
		return 0;
	}
	if (strcmp(path, "/lun") != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs.mtx);
	for (uint64_t i = 0; i < MAX_HANDLES; i++)
		if (!fs.h[i].used) {
			fs.h[i].used = 1;
			chain_of(fuse_get_context()->pid, &fs.h[i]);
			fi->fh = i;
			pthread_mutex_unlock(&fs.mtx);
			return 0;
		}
	pthread_mutex_unlock(&fs.mtx);
	return -ENFILE;
}

static int
ff_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	pthread_mutex_lock(&fs.mtx);
	if (fi->fh < MAX_HANDLES)
		fs.h[fi->fh].used = 0;
	pthread_mutex_unlock(&fs.mtx);
	return 0;
}

static int
ff_read(const char *path, char *buf, size_t n, off_t off,
    struct fuse_file_info *fi)
{
	ssize_t r;

	if (fi->fh == UINT64_MAX) {
		char	txt[256];
		int	len;

		(void)path;
		pthread_mutex_lock(&fs.mtx);
		len = snprintf(txt, sizeof(txt), "mode=%s pid=%d reads=%lu "
		    "writes=%lu failed_reads=%lu failed_writes=%lu\n",
		    fs.mode == 0 ? "ok" : fs.mode == 1 ? "eio-pid" :
		    fs.mode == 2 ? "eio-all" : "ewrite-pid",
		    (int)fs.pid, fs.rd, fs.wr, fs.failed_rd, fs.failed_wr);
		pthread_mutex_unlock(&fs.mtx);
		if (off >= len)
			return 0;
		if ((size_t)(len - off) < n)
			n = (size_t)(len - off);
		memcpy(buf, txt + off, n);
		return (int)n;
	}
	if (failing(fi->fh)) {
		pthread_mutex_lock(&fs.mtx);
		fs.failed_rd++;
		pthread_mutex_unlock(&fs.mtx);
		return -EIO;
	}
	if ((r = pread(fs.fd, buf, n, off)) < 0)
		return -errno;
	pthread_mutex_lock(&fs.mtx);
	fs.rd++;
	pthread_mutex_unlock(&fs.mtx);
	return (int)r;
}

static int
ctl_write(const char *buf, size_t n)
{
	char	cmd[64];
	size_t	len = n < sizeof(cmd) - 1 ? n : sizeof(cmd) - 1;
	int	pid, k;
	long long from, skip, end;
	long	cnt;

	memcpy(cmd, buf, len);
	cmd[len] = 0;
	cmd[strcspn(cmd, "\n")] = 0;
	pthread_mutex_lock(&fs.mtx);
	if (strcmp(cmd, "ok") == 0) {
		fs.mode = 0;
	} else if (strcmp(cmd, "eio all") == 0) {
		fs.mode = 2;
	} else if (sscanf(cmd, "eio %d", &pid) == 1 && pid > 1) {
		fs.mode = 1;
		fs.pid = pid;
	} else if ((k = sscanf(cmd, "ewrite %d %lld %ld %lld %lld", &pid,
	    &from, &cnt, &skip, &end)) >= 3 && k != 4 && pid > 1 &&
	    from >= 0 && cnt > 0) {
		fs.mode = 3;
		fs.pid = pid;
		fs.ew_from = from;
		fs.ew_left = cnt;
		fs.ew_skip = k == 5 ? skip : 0;
		fs.ew_end = k == 5 ? end : 0;
	} else {
		pthread_mutex_unlock(&fs.mtx);
		fprintf(stderr, "faultfs: ctl: unknown command '%s' (ok, "
		    "eio PID, eio all, ewrite PID OFF N [SKIP END])\n", cmd);
		return -EINVAL;
	}
	pthread_mutex_unlock(&fs.mtx);
	fprintf(stderr, "faultfs: ctl: %s\n", cmd);
	return (int)n;
}

static int
ff_write(const char *path, const char *buf, size_t n, off_t off,
    struct fuse_file_info *fi)
{
	ssize_t r;

	(void)path;
	if (fi->fh == UINT64_MAX)
		return ctl_write(buf, n);
	if (failing(fi->fh) || failing_write(fi->fh, off)) {
		pthread_mutex_lock(&fs.mtx);
		fs.failed_wr++;
		pthread_mutex_unlock(&fs.mtx);
		return -EIO;
	}
	if ((r = pwrite(fs.fd, buf, n, off)) < 0)
		return -errno;
	pthread_mutex_lock(&fs.mtx);
	fs.wr++;
	pthread_mutex_unlock(&fs.mtx);
	return (int)r;
}

static int
ff_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	if (fi->fh == UINT64_MAX)
		return 0;
	if (failing(fi->fh))
		return -EIO;
	return (datasync ? fdatasync(fs.fd) : fsync(fs.fd)) < 0 ? -errno : 0;
}

static int
ff_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/ctl") == 0)
		return 0;
	if (strcmp(path, "/lun") != 0)
		return -ENOENT;
	return ftruncate(fs.fd, size) < 0 ? -errno : 0;
}

static void *
ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->direct_io = 1;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	return NULL;
}

static const struct fuse_operations ops = {
	.init = ff_init,
	.getattr = ff_getattr,
	.readdir = ff_readdir,
	.open = ff_open,
	.release = ff_release,
	.read = ff_read,
	.write = ff_write,
	.fsync = ff_fsync,
	.truncate = ff_truncate,
};

int
main(int argc, char **argv)
{
	char	*fargv[8];
	int	 fargc = 0;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "-d") != 0)) {
		fprintf(stderr, "usage: faultfs BACKING MOUNTPOINT [-d]\n");
		return 64;
	}
	fs.backing = argv[1];
	if ((fs.fd = open(argv[1], O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "faultfs: %s: %s\n", argv[1], strerror(errno));
		return 66;
	}
	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-f";
	fargv[fargc++] = "-o";
	fargv[fargc++] = "allow_other,fsname=faultfs";
	if (argc == 4)
		fargv[fargc++] = "-d";
	fargv[fargc++] = argv[2];
	fargv[fargc] = NULL;
	return fuse_main(fargc, fargv, &ops, NULL);
}

/*
 * duonasd_start.c — what the daemon settles before it touches anything
 * shared: the single-instance lock of a head, and `duonasd -t`, which
 * checks every input a start would read (key, exports file, LUN devices,
 * state and run directories) and names each problem with its file.
 *
 * The lock is a flock(2) on <statedir>/duonasd.lock: the state directory
 * is what two daemons of one head would share (the LMDB store, the
 * configuration database), and it exists before anything else is opened.
 * The kernel drops the lock with the process, so a crash leaves nothing
 * to clean up; the PID in the file is only for the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/exports.h"
#include "common/log.h"
#include "common/util.h"
#include "duonasd_start.h"
#include "pool/pext.h"

int
dstart_lock(const char *statedir, char *err, size_t errlen)
{
	char	path[CFG_PATH_MAX + 32], pid[32];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof(path), "%s/duonasd.lock", statedir);
	/* O_CLOEXEC: children (smbd, hooks) must not keep the lock, and a
	 * re-exec (ctcm restore, image restart) takes it anew */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK) {
			snprintf(err, errlen, "%s: flock: %s", path,
			    strerror(e));
			close(fd);
			return -1;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		snprintf(err, errlen, "another duonasd%s%s runs for this head "
		    "(%s is locked): not starting", pid[0] ? " with PID " : "",
		    pid, path);
		close(fd);
		return -2;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s: cannot record the PID", path);
	return fd;
}

/*
 * The directory path can be created (mkdir_p) or is one: the nearest
 * existing ancestor is a directory this process may write into.
 */
static int
check_dir(const char *what, const char *path)
{
	char		p[CFG_PATH_MAX], *s;
	struct stat	st;

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				printf("%s %s: %s is not a directory\n", what,
				    path, p);
				return 1;
			}
			if (access(p, W_OK | X_OK) < 0) {
				printf("%s %s: %s: %s\n", what, path,
				    strcmp(p, path) == 0 ? "cannot write" :
				    "cannot create it in", strerror(errno));
				return 1;
			}
			return 0;
		}
		/* ENOTDIR: an ancestor is a file, found further up */
		if (errno != ENOENT && errno != ENOTDIR) {
			printf("%s %s: %s: %s\n", what, path, p,
			    strerror(errno));
			return 1;
		}
		if ((s = strrchr(p, '/')) == NULL || s == p) {
			/* relative path or "/x": the cwd or / decides */
			snprintf(p, sizeof(p), "%s", s == p ? "/" : ".");
			continue;
		}
		*s = 0;
	}
}

/* A LUN's device or file: there, readable and writable, large enough
 * for the private extent (what pool_lun_open and the format need). */
static int
check_lun(const struct cfg_lun *l)
{
	struct stat	st;
	uint64_t	size = 0;
	int		fd;

	if ((fd = open(l->path, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		printf("lun %s: %s: %s\n", l->name, l->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			printf("lun %s: %s: BLKGETSIZE64: %s\n", l->name,
			    l->path, strerror(errno));
			close(fd);
			return 1;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		printf("lun %s: %s: not a block device or a file\n", l->name,
		    l->path);
		close(fd);
		return 1;
	}
	close(fd);
	if (size < (uint64_t)PEXT_V1_EXTENT_BLOCKS * PEXT_BLOCK_SIZE) {
		printf("lun %s: %s: %llu bytes, the private extent alone needs "
		    "%llu\n", l->name, l->path, (unsigned long long)size,
		    (unsigned long long)PEXT_V1_EXTENT_BLOCKS *
		    PEXT_BLOCK_SIZE);
		return 1;
	}
	return 0;
}

static int
check_exports(const char *path)
{
	struct exports_tab	 x;
	uint8_t			*d;
	size_t			 len;
	char			 err[1024];
	int			 rv;

	if (file_read_all(path, 1 << 20, &d, &len) < 0) {
		/* none: the first start installs an empty one */
		if (errno == ENOENT)
			return 0;
		printf("exports file %s: %s\n", path, strerror(errno));
		return 1;
	}
	rv = exports_parse((const char *)d, len, path, 0, &x, err,
	    sizeof(err));
	free(d);
	if (rv < 0) {
		printf("%s\n", err);
		return 1;
	}
	exports_free(&x);
	return 0;
}

int
dstart_check(const struct cfg *cfg, int self)
{
	const struct cfg_head	*me = &cfg->heads[self];
	uint8_t			 key[CFG_KEY_MAX];
	size_t			 keylen;
	char			 err[CFG_PATH_MAX + 256];
	int			 n = 0;

	if (cfg_key_load(cfg, key, &keylen, err, sizeof(err)) < 0) {
		printf("%s\n", err);
		n++;
	}
	explicit_bzero(key, sizeof(key));
	n += check_exports(cfg->exports);
	for (int i = 0; i < cfg->nluns; i++)
		n += check_lun(&cfg->luns[i]);
	n += check_dir("statedir", me->statedir);
	n += check_dir("rundir", me->rundir);
	return n;
}

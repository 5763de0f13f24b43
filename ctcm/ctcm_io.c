/*
 * ctcm_io.c — crash-safe file replacement for the local configuration
 * database, with a fault-injection hook.
 *
 * Every step that changes the disk (write of the temp file, fsync,
 * rename, directory fsync, unlink, and each array replica written by
 * ctcm_array.c) is one counted operation.  ctcm_fault_arm(n, mode) makes
 * the n-th next operation fail with EIO (before doing it) or end the
 * process right after it (_exit(137), as kill -9 would), in the spirit of
 * SQLite's test_syscall.c countdown.  It does not simulate lost unsynced
 * writes (a power-loss shim); every counted step is already durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"

static atomic_long	fault_left;	/* 0: off */
static atomic_int	fault_mode;
static atomic_long	ops;

void
ctcm_fault_arm(long n, enum ctcm_fault_mode mode)
{
	atomic_store(&fault_mode, (int)mode);
	atomic_store(&fault_left, mode == CTCM_FAULT_OFF ? 0 : n);
}

long
ctcm_fault_ops(void)
{
	return atomic_load(&ops);
}

/*
 * Called before a FAIL step (so it is not done) and, for CRASH, the
 * caller has just done the step: either way the decision is taken here.
 */
static int
fault_hit(void)
{
	long left = atomic_load(&fault_left);

	if (left <= 0)
		return 0;
	/* exactly one thread observes the transition to zero */
	while (!atomic_compare_exchange_weak(&fault_left, &left, left - 1))
		if (left <= 0)
			return 0;
	return left == 1;
}

int
ctcm_fault_step(const char *what, const char *path)
{
	atomic_fetch_add(&ops, 1);
	if (!fault_hit())
		return 0;
	if (atomic_load(&fault_mode) == CTCM_FAULT_CRASH) {
		log_warnx("ctcm: fault injection: crash after %s %s", what,
		    path);
		_exit(137);
	}
	log_warnx("ctcm: fault injection: %s %s fails", what, path);
	errno = EIO;
	return -1;
}

/* FAIL faults fire before the step, CRASH faults after it: so a step is
 * checked twice, with the counter moved once. */
int
ctcm_fault_pre(const char *what, const char *path)
{
	long left = atomic_load(&fault_left);

	if (left == 1 && atomic_load(&fault_mode) == CTCM_FAULT_FAIL)
		return ctcm_fault_step(what, path);
	return 1;
}

int
ctcm_fault_post(int pr, const char *what, const char *path)
{
	if (pr != 1)	/* ctcm_fault_pre() already counted (and passed) this step */
		return 0;
	return ctcm_fault_step(what, path);
}

static int
dir_fsync(const char *path)
{
	char	*d = xstrdup(path);
	int	 fd, rv = 0;

	fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) == -1)
		rv = -1;
	if (fd != -1) {
		int e = errno;
		close(fd);
		errno = e;
	}
	free(d);
	return rv;
}

int
ctcm_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char		*tmp = xasprintf("%s.tmp", path);
	const uint8_t	*p = data;
	size_t		 left = len;
	int		 fd = -1, rv = -1, pr, e;

	if ((pr = ctcm_fault_pre("write", tmp)) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		goto out;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	if (ctcm_fault_post(pr, "write", tmp) < 0)
		goto out;
	if ((pr = ctcm_fault_pre("fsync", tmp)) < 0 || fsync(fd) == -1 ||
	    ctcm_fault_post(pr, "fsync", tmp) < 0)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if ((pr = ctcm_fault_pre("rename", path)) < 0 || rename(tmp, path) == -1 ||
	    ctcm_fault_post(pr, "rename", path) < 0)
		goto out;
	if ((pr = ctcm_fault_pre("dirsync", path)) < 0 || dir_fsync(path) == -1 ||
	    ctcm_fault_post(pr, "dirsync", path) < 0)
		goto out;
	rv = 0;
out:
	e = errno;
	if (fd != -1)
		close(fd);
	if (rv < 0 && e != EIO)
		log_warn("ctcm: writing %s", path);
	free(tmp);
	errno = e;
	return rv;
}

int
ctcm_file_unlink(const char *path)
{
	int pr;

	if ((pr = ctcm_fault_pre("unlink", path)) < 0)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	if (ctcm_fault_post(pr, "unlink", path) < 0)
		return -1;
	if (dir_fsync(path) == -1)
		return -1;
	return 0;
}

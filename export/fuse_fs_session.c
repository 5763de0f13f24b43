/*
 * fuse_fs_session.c — life of one FUSE export mount: start (mount with
 * default_permissions and allow_other, the multithreaded session loop on
 * its own thread), the gate, stop (EIO for everything, lazy unmount,
 * abort of the connection when open files keep it alive), statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "export/fuse_fs_int.h"

static void *
loop_main(void *arg)
{
	struct fuse_fs		 *fs = arg;
	struct fuse_loop_config	 *lc;

	if ((lc = fuse_loop_cfg_create()) == NULL)
		return NULL;
	fuse_loop_cfg_set_max_threads(lc, fs->conf.max_threads);
	fuse_loop_cfg_set_idle_threads(lc, fs->conf.max_threads / 2 + 1);
	fuse_loop_cfg_set_clone_fd(lc, 0);
	fuse_session_loop_mt(fs->se, lc);
	fuse_loop_cfg_destroy(lc);
	return NULL;
}

static void
free_inodes(struct fuse_fs *fs)
{
	struct fs_inode	*n, *next;
	size_t		 i;

	for (i = 0; i < fs->itabsz; i++)
		for (n = fs->itab[i]; n != NULL; n = next) {
			next = n->next;
			close(n->fd);
			fs_inode_locks_free(n);
			pthread_mutex_destroy(&n->khmu);
			free(n);
		}
	free(fs->itab);
	if (fs->root.fd >= 0)
		close(fs->root.fd);
	fs_inode_locks_free(&fs->root);
	pthread_mutex_destroy(&fs->root.khmu);
	pthread_mutex_destroy(&fs->imu);
	pthread_rwlock_destroy(&fs->gatelk);
}

struct fuse_fs *
fuse_fs_start(const struct fuse_fs_conf *conf, char *err, size_t errlen)
{
	struct fuse_fs	*fs;
	struct stat	 st;
	char		*argv[] = { "duonas-fuse", "-o",
			    "default_permissions,allow_other,"
			    "fsname=duonas,subtype=duonas,max_read=1048576",
			    NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);

	if (conf->backing == NULL || conf->mountpoint == NULL ||
	    conf->head == NULL || conf->head[0] == '\0' ||
	    strlen(conf->head) >= BRL_CLIENT_MAX) {
		snprintf(err, errlen, "fuse: backing directory, mount point "
		    "and a head name of 1..%d bytes are needed",
		    BRL_CLIENT_MAX - 1);
		return NULL;
	}
	if ((fs = calloc(1, sizeof(*fs))) == NULL) {
		snprintf(err, errlen, "fuse: out of memory");
		return NULL;
	}
	fs->conf = *conf;
	if (fs->conf.max_threads == 0)
		fs->conf.max_threads = 16;
	fs->locks = conf->locks != NULL ? conf->locks :
	    &fuse_fs_local_lockops;
	snprintf(fs->head, sizeof(fs->head), "%s", conf->head);
	pthread_mutex_init(&fs->imu, NULL);
	pthread_rwlock_init(&fs->gatelk, NULL);
	pthread_mutex_init(&fs->root.khmu, NULL);
	fs->itabsz = 1024;
	fs->itab = calloc(fs->itabsz, sizeof(*fs->itab));
	fs->root.fd = open(conf->backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->itab == NULL || fs->root.fd < 0 ||
	    fstat(fs->root.fd, &st) < 0) {
		snprintf(err, errlen, "fuse: %s: %s", conf->backing,
		    strerror(errno));
		goto fail;
	}
	fs->root.dev = st.st_dev;
	fs->root.ino = st.st_ino;
	fs->root.nlookup = 1;
	if ((fs->mnt = strdup(conf->mountpoint)) == NULL) {
		snprintf(err, errlen, "fuse: out of memory");
		goto fail;
	}
	fs->se = fuse_session_new(&args, &fuse_fs_ops, sizeof(fuse_fs_ops),
	    fs);
	if (fs->se == NULL) {
		snprintf(err, errlen, "fuse: cannot create the session");
		goto fail;
	}
	if (fuse_session_mount(fs->se, fs->mnt) != 0) {
		snprintf(err, errlen, "fuse: cannot mount on %s "
		    "(/dev/fuse, root?)", fs->mnt);
		fuse_session_destroy(fs->se);
		goto fail;
	}
	if (pthread_create(&fs->loop, NULL, loop_main, fs) != 0) {
		snprintf(err, errlen, "fuse: cannot start the session loop");
		fuse_session_unmount(fs->se);
		fuse_session_destroy(fs->se);
		goto fail;
	}
	fs->loop_started = 1;
	/* the connection's number for fusectl's abort is the minor of the
	 * mount's device; stat goes through the mount, so after the loop */
	if (stat(fs->mnt, &st) == 0)
		fs->mntdev = st.st_dev;
	return fs;
fail:
	free(fs->mnt);
	free_inodes(fs);
	free(fs);
	return NULL;
}

void
fuse_fs_set_gate(struct fuse_fs *fs, int (*gate)(uint32_t, void *),
    void *arg)
{
	pthread_rwlock_wrlock(&fs->gatelk);
	fs->gate = gate;
	fs->gatearg = arg;
	pthread_rwlock_unlock(&fs->gatelk);
}

void
fuse_fs_set_ioerr(struct fuse_fs *fs, void (*fn)(uint32_t, int, int,
    const char *, void *), void *arg)
{
	pthread_rwlock_wrlock(&fs->gatelk);
	fs->ioerr = fn;
	fs->ioerrarg = arg;
	pthread_rwlock_unlock(&fs->gatelk);
}

/* Abort the connection through fusectl: every pending and future
 * request fails and the workers' reads end. */
static void
conn_abort(struct fuse_fs *fs)
{
	char	p[96];
	int	fd;

	if (fs->mntdev == 0)
		return;
	snprintf(p, sizeof(p), "/sys/fs/fuse/connections/%u/abort",
	    minor(fs->mntdev));
	if (access("/sys/fs/fuse/connections", F_OK) == 0 &&
	    access(p, F_OK) != 0)
		mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0,
		    NULL);
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* then the timed join below gives up */
		}
		close(fd);
	}
}

void
fuse_fs_stop(struct fuse_fs *fs)
{
	struct timespec	ts;

	/* written data the kernel still holds goes to the backing file
	 * system first, unless the gate is closed (fenced: it must not,
	 * and those writes fail with EIO) */
	if (fs->conf.writeback) {
		int	fd = open(fs->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			syncfs(fd);
			close(fd);
		}
	}
	atomic_store(&fs->stopping, 1);
	fuse_session_exit(fs->se);
	/* lazy: the mount point goes at once; without open files the
	 * super block goes too, and the workers' reads end (ENODEV) */
	umount2(fs->mnt, MNT_DETACH);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(fs->loop, NULL, &ts) != 0) {
		conn_abort(fs);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		if (pthread_timedjoin_np(fs->loop, NULL, &ts) != 0) {
			/* a worker stuck in the backing file system: leave
			 * the session to it rather than free under it */
			fprintf(stderr, "fuse: %s: workers did not stop\n",
			    fs->mnt);
			return;
		}
	}
	fuse_session_destroy(fs->se);
	free(fs->mnt);
	free_inodes(fs);
	free(fs);
}

void
fuse_fs_stats_get(struct fuse_fs *fs, struct fuse_fs_stats *s)
{
	s->ops = atomic_load(&fs->ops);
	s->gated = atomic_load(&fs->gated);
	s->lock_waits = atomic_load(&fs->lock_waits);
	pthread_mutex_lock(&fs->imu);
	s->inodes = fs->icount;
	pthread_mutex_unlock(&fs->imu);
}

/*
 * smb_users_sync.c — applies the SMB users of each installed generation
 * on this head: reads <statedir>/smb/users (installed by ctcm), creates
 * the missing local unix accounts (smb_users_ensure_accounts) and calls
 * the SMB service's callback with the list.
 *
 * It runs on its own thread because useradd(8) forks and may wait for
 * the passwd lock: the ctcm install callback (loop thread) only records
 * the generation and wakes it.  Installs that come faster than it works
 * are merged: it always applies the newest installed file.  Nothing is
 * ever deleted (smb_accounts.c says why).  Log lines name users and
 * uids, never hashes.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "ctcm/ctcm.h"
#include "smb/smb_users_sync.h"

static struct {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 wake;
	pthread_t		 thr;
	int			 running, stop;
	uint64_t		 want;		/* generation to apply (0: none) */
	char			 path[4096];
	smb_users_applied_cb	 cb;
	void			*arg;
} us = { .mtx = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER };

static void
apply(uint64_t gen)
{
	struct smb_users	u;
	char			err[512];
	int			n, ok = 1;

	if (smb_users_load(us.path, &u, err, sizeof(err)) < 0) {
		log_warnx("smb: generation %llu: %s", (unsigned long long)gen,
		    err);
		return;
	}
	if (u.n > 0) {
		if ((n = smb_users_ensure_accounts(&u, err, sizeof(err))) < 0) {
			log_warnx("smb: generation %llu: %s",
			    (unsigned long long)gen, err);
			ok = 0;
		} else if (n > 0)
			log_info("smb: generation %llu: %d SMB users, %d local "
			    "accounts created", (unsigned long long)gen, u.n,
			    n);
	}
	if (us.cb != NULL)
		us.cb(gen, &u, ok, us.arg);
	smb_users_free(&u);
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&us.mtx);
	while (!us.stop) {
		uint64_t gen;

		if (us.want == 0) {
			pthread_cond_wait(&us.wake, &us.mtx);
			continue;
		}
		gen = us.want;
		us.want = 0;
		pthread_mutex_unlock(&us.mtx);
		apply(gen);
		pthread_mutex_lock(&us.mtx);
	}
	pthread_mutex_unlock(&us.mtx);
	return NULL;
}

static void
installed_cb(uint64_t gen, const struct cfg *newcfg, void *arg)
{
	(void)newcfg;
	(void)arg;
	pthread_mutex_lock(&us.mtx);
	us.want = gen ? gen : 1;
	pthread_cond_signal(&us.wake);
	pthread_mutex_unlock(&us.mtx);
}

int
smb_users_sync_start(const char *statedir, smb_users_applied_cb cb,
    void *arg)
{
	if (us.running)
		return 0;
	if (smb_users_path(statedir, us.path, sizeof(us.path)) < 0) {
		log_warnx("smb: state directory %s: path too long", statedir);
		return -1;
	}
	us.cb = cb;
	us.arg = arg;
	us.stop = 0;
	/* what is installed now (also a head that has no users yet) */
	us.want = ctcm_generation() ? ctcm_generation() : 1;
	if (pthread_create(&us.thr, NULL, worker, NULL) != 0) {
		log_warnx("smb: cannot start the users worker thread");
		return -1;
	}
	us.running = 1;
	ctcm_on_install(installed_cb, NULL);
	return 0;
}

void
smb_users_sync_stop(void)
{
	if (!us.running)
		return;
	pthread_mutex_lock(&us.mtx);
	us.stop = 1;
	pthread_cond_signal(&us.wake);
	pthread_mutex_unlock(&us.mtx);
	pthread_join(us.thr, NULL);
	us.running = 0;
}

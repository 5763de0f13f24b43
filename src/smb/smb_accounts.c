/*
 * smb_accounts.c — the local unix account behind each SMB user.  Samba
 * maps an authenticated SMB user to a unix account of the same name and
 * uid, and files it creates carry that uid; so both heads need the same
 * accounts for a takeover to serve the same owners.  This file creates
 * the missing ones with useradd(8) (fork/exec, bounded wait) and checks
 * the existing ones against the configuration.
 *
 * It never deletes or changes an account: files on the LUNs keep the
 * uid of a removed SMB user, and deleting the account would let a later
 * local account take the uid and silently own them.  A name or uid held
 * by an account that is not the configured one is reported, not fixed:
 * an administrator must decide which is right.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smb/smb_users.h"

#define USERADD_WAIT_MS	10000

/* State of one user's account: 0 exists with the right uid, 1 missing
 * (name and uid free), -1 conflict (err says which). */
static int
account_state(const struct smb_user *e, char *err, size_t errlen)
{
	struct passwd	pw, *r = NULL;
	char		sbuf[4096];
	uid_t		other_uid = 0;
	int		byname = 0;

	if (getpwnam_r(e->name, &pw, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL) {
		if (pw.pw_uid == e->uid)
			return 0;
		byname = 1;
		other_uid = pw.pw_uid;
	}
	if (byname) {
		snprintf(err, errlen, "SMB user %s (uid %u): the local account "
		    "%s has uid %u", e->name, e->uid, e->name,
		    (unsigned)other_uid);
		return -1;
	}
	r = NULL;
	if (getpwuid_r((uid_t)e->uid, &pw, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL) {
		/* created between the two lookups (the other head, on a
		 * machine sharing /etc/passwd): the right account */
		if (strcmp(pw.pw_name, e->name) == 0)
			return 0;
		snprintf(err, errlen, "SMB user %s (uid %u): uid %u is the "
		    "local account %s", e->name, e->uid, e->uid, pw.pw_name);
		return -1;
	}
	return 1;
}

static gid_t
default_gid(void)
{
	struct group	gr, *r = NULL;
	char		sbuf[4096];

	if (getgrnam_r("nogroup", &gr, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL)
		return gr.gr_gid;
	r = NULL;
	if (getgrnam_r("users", &gr, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL)
		return gr.gr_gid;
	return 65534;
}

/* Run useradd for e; 0 when it exited 0, else -1 with err. */
static int
run_useradd(const struct smb_user *e, char *err, size_t errlen)
{
	char		 uid[16], gid[16], name[SMB_USER_NAME_MAX + 1];
	char		*argv[] = { "useradd", "--system", "-M", "-N", "-s",
			    "/usr/sbin/nologin", "-u", uid, "-g", gid, name,
			    NULL };
	struct timespec	 t0, t1;
	pid_t		 pid, w;
	int		 st = 0;

	snprintf(uid, sizeof(uid), "%u", e->uid);
	snprintf(name, sizeof(name), "%s", e->name);
	snprintf(gid, sizeof(gid), "%u", (unsigned)default_gid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "useradd %s: fork: %s", e->name,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* keep the daemon's sockets and files out of the child */
		closefrom(3);
		execv("/usr/sbin/useradd", argv);
		execvp("useradd", argv);
		_exit(127);
	}
	for (;;) {
		long ms;

		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(err, errlen, "useradd %s: waitpid: %s",
			    e->name, strerror(errno));
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec -
		    t0.tv_nsec) / 1000000;
		if (ms > USERADD_WAIT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(err, errlen, "useradd %s: no answer within "
			    "%d ms (killed)", e->name, USERADD_WAIT_MS);
			return -1;
		}
		usleep(10000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(err, errlen, "useradd %s (uid %u) exited with %d%s",
		    e->name, e->uid, WEXITSTATUS(st), WEXITSTATUS(st) == 127 ?
		    " (not found)" : "");
	else
		snprintf(err, errlen, "useradd %s (uid %u) killed by signal %d",
		    e->name, e->uid, WTERMSIG(st));
	return -1;
}

/* 1 when this machine has an account with uid, else 0. */
static int
uid_local(uint32_t uid)
{
	struct passwd	pw, *r = NULL;
	char		sbuf[4096];

	return getpwuid_r((uid_t)uid, &pw, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL;
}

int
smb_users_pick_uid(const struct smb_users *u, const char *name,
    uint32_t want, uint32_t *out, char *err, size_t errlen)
{
	struct passwd	pw, *r = NULL;
	char		sbuf[4096];
	int		byname;

	/* a name or uid the configuration already has: smb_users_add
	 * names that conflict */
	for (int i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0 ||
		    (want != 0 && u->v[i].uid == want)) {
			*out = want;
			return 0;
		}
	byname = getpwnam_r(name, &pw, sbuf, sizeof(sbuf), &r) == 0 &&
	    r != NULL;
	if (byname && want != 0 && pw.pw_uid != want) {
		snprintf(err, errlen, "%s is already a local account on this "
		    "head with uid %u, not %u (give --uid %u, or another "
		    "name)", name, (unsigned)pw.pw_uid, want,
		    (unsigned)pw.pw_uid);
		return -1;
	}
	if (byname) {
		/* the administrator's account: keep its uid, so the files
		 * it already owns stay its own */
		if (pw.pw_uid < SMB_UID_MIN || pw.pw_uid > SMB_UID_MAX) {
			snprintf(err, errlen, "%s is already a local account "
			    "on this head with uid %u, outside %d..%d",
			    name, (unsigned)pw.pw_uid, SMB_UID_MIN,
			    SMB_UID_MAX);
			return -1;
		}
		*out = pw.pw_uid;
		return 0;
	}
	if (want != 0) {
		r = NULL;
		if (getpwuid_r((uid_t)want, &pw, sbuf, sizeof(sbuf), &r) ==
		    0 && r != NULL) {
			snprintf(err, errlen, "uid %u is the local account %s "
			    "on this head (choose another --uid)", want,
			    pw.pw_name);
			return -1;
		}
		*out = want;
		return 0;
	}
	/* free in the configuration and on this head */
	for (uint32_t uid = SMB_UID_AUTO; uid <= SMB_UID_MAX; uid++) {
		int taken = 0;

		for (int i = 0; i < u->n && !taken; i++)
			taken = u->v[i].uid == uid;
		if (!taken && !uid_local(uid)) {
			*out = uid;
			return 0;
		}
	}
	snprintf(err, errlen, "no free uid left in %d..%d (give one with "
	    "--uid)", SMB_UID_AUTO, SMB_UID_MAX);
	return -1;
}

int
smb_users_ensure_accounts(const struct smb_users *u, char *err, size_t errlen)
{
	char	e1[256];
	int	created = 0, failed = 0;

	for (int i = 0; i < u->n; i++) {
		const struct smb_user	*e = &u->v[i];
		int			 s = account_state(e, e1, sizeof(e1));

		/* useradd may fail because the other head, on a machine
		 * sharing /etc/passwd, or a concurrent run, holds the lock
		 * or just created the same account: look again, retry */
		for (int attempt = 0; s == 1 && attempt < 3; attempt++) {
			if (run_useradd(e, e1, sizeof(e1)) == 0) {
				created++;
				s = 0;
				break;
			}
			s = account_state(e, e1 + strlen(e1), 0);
			if (s == 1)
				usleep(200000);
		}
		if (s == 0)
			continue;
		if (s == -1)
			account_state(e, e1, sizeof(e1));
		if (!failed++)
			snprintf(err, errlen, "%s", e1);
	}
	return failed ? -1 : created;
}

/*
 * smb_users.h — the SMB user accounts of the cluster (docs/smb-users.md):
 * the text kept in the replicated configuration (CTCM section kind 3),
 * its parser and formatter, the edits of the admin commands, the
 * installed file, and the local unix accounts every SMB user needs on
 * each head.  The hashes and Samba's smbpasswd(5) text: smb_hash.h.
 *
 * Everything but smb_users_load() and smb_users_ensure_accounts() is
 * pure (no I/O, no global state) and safe from any thread.  Errors are
 * -1 with a message in err naming the problem ("line 3: uid 99 of user
 * bob is outside 1000..60000").
 */
#ifndef DUONAS_SMB_USERS_H
#define DUONAS_SMB_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "smb/smb_hash.h"

#define SMB_USERS_MAX		1024
#define SMB_USER_NAME_MAX	32	/* characters, without the NUL */
#define SMB_UID_MIN		1000
#define SMB_UID_MAX		60000
#define SMB_UID_AUTO		30000	/* first uid the master assigns */

struct smb_user {
	char		name[SMB_USER_NAME_MAX + 1];
	uint32_t	uid;
	uint8_t		nthash[SMB_NTHASH_LEN];
	int		disabled;
};

/* A list, sorted by name once parsed or edited here. */
struct smb_users {
	int		 n;
	struct smb_user	*v;		/* malloc'd (n entries) */
};

void	smb_users_init(struct smb_users *);
void	smb_users_free(struct smb_users *);

/* Parse the users text: one line per user
 *   user NAME uid UID nthash HEX32 [disabled]
 * (blank lines and lines starting with '#' ignored).  Validates every
 * field, duplicates (names and uids) and the count.  u is initialised
 * first and left empty on error.  0, or -1 with err ("line N: ..."). */
int	smb_users_parse(const char *text, size_t len, struct smb_users *u,
	    char *err, size_t errlen);
/* The canonical text (sorted by name, lower-case hex), appended to out;
 * nothing for an empty list.  parse(format(u)) == u. */
void	smb_users_format(const struct smb_users *, struct buf *out);
/* The text without hashes, for config show/diff/export on a terminal:
 * "user NAME uid UID nthash (hidden)[ disabled]".  When prev is given
 * (a diff's older side), a user whose hash differs from prev's says
 * "nthash (changed)" instead, so a password change shows in a diff. */
void	smb_users_redact(const struct smb_users *u,
	    const struct smb_users *prev, struct buf *out);

/* 0 when name is a valid new SMB user name: 1-32 characters of
 * [a-z_][a-z0-9_.-]*, not a reserved system account name. */
int	smb_user_name_check(const char *name, char *err, size_t errlen);
/* Index of name, or -1. */
int	smb_users_find(const struct smb_users *, const char *name);
/* Lowest free uid from SMB_UID_AUTO up (0 when none is free). */
uint32_t smb_users_next_uid(const struct smb_users *);
/* Add (uid 0: the next free one), remove, or replace the hash.  The
 * list stays sorted.  0, or -1 with err (bad name, duplicate name or
 * uid, uid out of range, the list full, unknown user). */
int	smb_users_add(struct smb_users *, const char *name, uint32_t uid,
	    const uint8_t nthash[SMB_NTHASH_LEN], char *err, size_t errlen);
int	smb_users_remove(struct smb_users *, const char *name, char *err,
	    size_t errlen);
int	smb_users_set_hash(struct smb_users *, const char *name,
	    const uint8_t nthash[SMB_NTHASH_LEN], char *err, size_t errlen);
/* Disable (1) or enable (0) a user: kept, but Samba refuses its logins. */
int	smb_users_set_disabled(struct smb_users *, const char *name,
	    int disabled, char *err, size_t errlen);

/* Where ctcm installs the users text on a head: <statedir>/smb/users
 * (mode 0600, directory 0700).  0, or -1 when it does not fit. */
int	smb_users_path(const char *statedir, char *buf, size_t len);
/* Read and parse an installed users file.  A missing file is an empty
 * list (configurations from before SMB users existed).  0 or -1 with
 * err naming the file.  Any thread. */
int	smb_users_load(const char *path, struct smb_users *u, char *err,
	    size_t errlen);

/*
 * Make sure each user has a local unix account with its uid: an account
 * with that name and uid is fine; a missing one is created with
 * useradd --system -M -N -s /usr/sbin/nologin -u UID -g GID NAME (GID:
 * group nogroup, else users), waiting at most 10 s for it; a name or uid
 * held by another account is an error naming both.  Never deletes an
 * account: files on the LUNs keep the uid of a removed user, and a new
 * user given that uid would inherit them silently.  Blocks (fork/exec):
 * never call it on the event loop thread.  Returns the number of
 * accounts created, or -1 with err (the first problem; the other users
 * are still handled).
 */
/*
 * The uid a new SMB user NAME gets on the master: want (non-zero, from
 * --uid) unless this head has an account with that uid under another
 * name, or NAME is a local account with another uid; with want 0, the
 * uid of NAME's local account if it has one, else the lowest uid from
 * SMB_UID_AUTO up that neither the configuration u nor this head's
 * accounts use.  So a committed user can get its account here.  Checks
 * the local accounts (getpw*_r: may read files, fine on the loop for
 * one lookup per uid tried).  0 with *out, or -1 with err.
 */
int	smb_users_pick_uid(const struct smb_users *u, const char *name,
	    uint32_t want, uint32_t *out, char *err, size_t errlen);
int	smb_users_ensure_accounts(const struct smb_users *, char *err,
	    size_t errlen);

#endif

/*
 * smb_users_sync.h — duonasd's side of the SMB users (docs/smb-users.md):
 * after every configuration install, a worker thread reads the installed
 * users file, makes sure each user has its local unix account and hands
 * the list to the SMB service (which writes Samba's password database).
 * Linked into duonasd only (src/smb/smb_users_sync.c).
 */
#ifndef DUONAS_SMB_USERS_SYNC_H
#define DUONAS_SMB_USERS_SYNC_H

#include <stdint.h>

#include "smb/smb_users.h"

/*
 * Called on the worker thread after the accounts were handled, with the
 * installed generation and its users (valid only during the call; an
 * empty list when the configuration has none).  accounts_ok is 0 when
 * some account could not be made (logged); the users whose accounts
 * exist are still in u.  It may block (write files, run pdbedit).
 */
typedef void (*smb_users_applied_cb)(uint64_t gen, const struct smb_users *u,
    int accounts_ok, void *arg);

/*
 * Start the worker (loop thread, after ctcm_init(), once): registers a
 * ctcm_on_install() callback and applies the generation installed now.
 * statedir: this head's state directory (the users file is
 * smb_users_path(statedir)).  cb may be NULL.  0 or -1 (logged).
 */
int	smb_users_sync_start(const char *statedir, smb_users_applied_cb cb,
	    void *arg);
/* Stop and join the worker (loop thread, at shutdown). */
void	smb_users_sync_stop(void);

#endif

/* TEMPORARY lead stand-in until the users module lands (replaced at merge) */
#ifndef DUONAS_SMB_USERS_H
#define DUONAS_SMB_USERS_H
#include <stddef.h>
struct buf;
struct smb_user { char name[33]; unsigned uid; char nthash[33]; };
struct smb_users { struct smb_user *v; int n; };
void smb_users_path(const char *statedir, char *out, size_t len);
int smb_users_load(const char *path, struct smb_users *, char *err, size_t errlen);
int smb_users_ensure_accounts(const struct smb_users *, char *err, size_t errlen);
void smb_users_smbpasswd(const struct smb_users *, struct buf *);
void smb_users_free(struct smb_users *);
#endif

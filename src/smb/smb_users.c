/* TEMPORARY lead stand-in until the users module lands (replaced at merge) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/util.h"
#include "smb/smb_users.h"
void smb_users_path(const char *statedir, char *out, size_t len)
{ snprintf(out, len, "%s/smb/users", statedir); }
int smb_users_load(const char *path, struct smb_users *u, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re"); char l[256];
	(void)err; (void)errlen;
	memset(u, 0, sizeof(*u));
	if (f == NULL) return 0;
	while (fgets(l, sizeof(l), f)) {
		u->v = xrealloc(u->v, (size_t)(u->n + 1) * sizeof(*u->v));
		if (sscanf(l, "user %32s uid %u nthash %32s", u->v[u->n].name, &u->v[u->n].uid, u->v[u->n].nthash) == 3) u->n++;
	}
	fclose(f);
	return 0;
}
int smb_users_ensure_accounts(const struct smb_users *u, char *err, size_t errlen) { (void)u; (void)err; (void)errlen; return 0; }
void smb_users_smbpasswd(const struct smb_users *u, struct buf *b)
{
	for (int i = 0; i < u->n; i++)
		buf_printf(b, "%s:%u:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:%s:[U          ]:LCT-%08X:\n", u->v[i].name, u->v[i].uid, u->v[i].nthash, (unsigned)time(NULL));
}
void smb_users_free(struct smb_users *u) { free(u->v); u->v = NULL; u->n = 0; }

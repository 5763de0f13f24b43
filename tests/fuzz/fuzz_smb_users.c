/*
 * fuzz_smb_users.c — the SMB users text (src/smb/smb_users.c,
 * smb_users_parse) as ctcm checks it on import and a head reads it from
 * <statedir>/smb/users, then what is made of a parsed list: the
 * canonical text, the redacted text and Samba's smbpasswd lines.
 *
 * Aborts when a refusal has no message or leaves users behind, when the
 * canonical text of a parsed list does not parse back to the same list
 * (parse(format(u)) == u, as smb_users.h promises), or when a parsed
 * list breaks its own rules (unsorted, a duplicate, a uid or a name the
 * checks refuse).
 */
#include <stdio.h>

#include "smb/smb_hash.h"
#include "smb/smb_users.h"
#include "tests/fuzz/fuzz.h"

static int
same(const struct smb_users *a, const struct smb_users *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    a->v[i].uid != b->v[i].uid ||
		    a->v[i].disabled != b->v[i].disabled ||
		    memcmp(a->v[i].nthash, b->v[i].nthash,
		    SMB_NTHASH_LEN) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct smb_users	 u, u2;
	struct buf		 b, b2;
	char			 err[256], e2[200];
	char			*t = malloc(n + 1);	/* exactly n, no NUL */

	if (t == NULL)
		abort();
	memcpy(t, d, n);
	err[0] = 0;
	if (smb_users_parse(t, n, &u, err, sizeof(err)) < 0) {
		if (err[0] == 0 || memchr(err, 0, sizeof(err)) == NULL ||
		    u.n != 0 || u.v != NULL)
			abort();
		free(t);
		return 0;
	}
	for (int i = 0; i < u.n; i++) {
		if (smb_user_name_check(u.v[i].name, e2, sizeof(e2)) < 0 ||
		    u.v[i].uid < SMB_UID_MIN || u.v[i].uid > SMB_UID_MAX ||
		    smb_users_find(&u, u.v[i].name) != i)
			abort();
		for (int j = 0; j < i; j++)
			if (strcmp(u.v[j].name, u.v[i].name) >= 0 ||
			    u.v[j].uid == u.v[i].uid)
				abort();	/* unsorted or duplicate */
	}
	buf_init(&b);
	smb_users_format(&u, &b);
	/* (an empty list formats to nothing: b.data is NULL then) */
	if (smb_users_parse(b.len > 0 ? (const char *)b.data : "", b.len,
	    &u2, err, sizeof(err)) < 0 ||
	    !same(&u, &u2))
		abort();
	buf_init(&b2);
	smb_users_format(&u2, &b2);
	if (b.len != b2.len || (b.len > 0 && memcmp(b.data, b2.data,
	    b.len) != 0))
		abort();		/* the canonical text is canonical */
	buf_free(&b2);
	buf_init(&b2);
	smb_users_redact(&u, &u2, &b2);
	smb_users_smbpasswd(&u, (time_t)0x5f000000, &b2);
	buf_free(&b2);
	buf_free(&b);
	smb_users_free(&u2);
	smb_users_free(&u);
	free(t);
	return 0;
}

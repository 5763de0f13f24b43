/*
 * smb_hash.h — the password side of SMB users (src/smb/smb_hash.c): MD4
 * (RFC 1320), the NT hash of a UTF-8 password and Samba's smbpasswd(5)
 * lines for a user list.  Pure, any thread.
 */
#ifndef DUONAS_SMB_HASH_H
#define DUONAS_SMB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/util.h"

#define SMB_NTHASH_LEN		16
#define SMB_PASSWORD_MAX	256	/* bytes of UTF-8 */

struct smb_users;

/* MD4 (RFC 1320) of len bytes. */
void	smb_md4(const void *data, size_t len, uint8_t out[16]);
/* NT hash = MD4(UTF-16LE(password)); password is UTF-8 (len bytes, at
 * most SMB_PASSWORD_MAX).  -1 with err on invalid UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, truncated sequences) or a NUL byte. */
int	smb_nthash(const char *password, size_t len,
	    uint8_t out[SMB_NTHASH_LEN], char *err, size_t errlen);
/* 32 lower-case hex digits + NUL. */
void	smb_nthash_hex(const uint8_t h[SMB_NTHASH_LEN], char out[33]);

/* Samba's smbpasswd(5) file text for the list, one line per user:
 *   NAME:UID:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:NTHASH:[U          ]:LCT-T:
 * (no LANMAN hash; NT hash in upper-case hex; flags [DU         ] for a
 * disabled user; T = lct as 8 upper-case hex digits). */
void	smb_users_smbpasswd(const struct smb_users *, time_t lct,
	    struct buf *out);

#endif

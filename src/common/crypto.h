/*
 * crypto.h — keyed HMAC-SHA256 contexts (OpenSSL 3 EVP_MAC) for the
 * modules that authenticate bytes with the cluster key: the link's frame
 * trailer and the NFS file handle MAC.  Depends on nothing above common/
 * but libcrypto, which every duonas program links.
 */
#ifndef DUONAS_CRYPTO_H
#define DUONAS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * A new HMAC-SHA256 context keyed with keylen bytes of key, ready for
 * EVP_MAC_update() / EVP_MAC_final() or to be copied with
 * EVP_MAC_CTX_dup().  The result is an EVP_MAC_CTX *, typed void * so
 * that a header holding one needs no OpenSSL include.
 * Returns NULL when libcrypto cannot provide it (no HMAC or SHA256 in the
 * loaded providers, out of memory); logs nothing, the caller knows what
 * the key was for.
 * The key is copied: the caller may wipe it as soon as this returns.
 * A context is not safe to use from two threads at once; callers keep
 * one keyed context and duplicate it per thread or per message.
 * Free it with hmac_sha256_free().
 */
void	*hmac_sha256_new(const uint8_t *key, size_t keylen);
/* Free a context from hmac_sha256_new() (or a copy of one); NULL is a
 * no-op. */
void	 hmac_sha256_free(void *ctx);

/*
 * SHA-256 of n bytes into out (32 bytes).  Returns 0, or -1 when
 * libcrypto cannot provide it.  Incremental: sha256_begin() returns a
 * context (NULL on failure) for sha256_add(); sha256_end() writes the
 * digest, frees the context and returns 0 or -1.  Any thread.
 */
#define SHA256_LEN	32
int	 sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);
void	*sha256_begin(void);
int	 sha256_add(void *ctx, const void *p, size_t n);
int	 sha256_end(void *ctx, uint8_t out[SHA256_LEN]);

#endif

/*
 * crypto.c — HMAC-SHA256 key setup with OpenSSL 3's EVP_MAC: the one
 * place that names the algorithm and its digest parameter, so the link
 * codec and the NFS file handles key their MACs the same way.
 *
 * Also plain SHA-256 (whole buffer or incremental) for the software
 * images and the image store (docs/boot-images.md).
 *
 * It only builds the keyed context.  What is done with it (a per-frame
 * or per-thread copy, truncating the tag, comparing in constant time)
 * stays with the caller, and so does logging.  No state: the algorithm
 * is fetched for each new key, which happens once per session or per
 * cluster key, never per message.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/crypto.h"

void *
hmac_sha256_new(const uint8_t *key, size_t keylen)
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	char		 digest[] = "SHA256";

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	/* the context takes its own reference to the algorithm */
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
out:
	EVP_MAC_free(mac);
	return ctx;
}

void
hmac_sha256_free(void *ctx)
{
	EVP_MAC_CTX_free(ctx);
}

int
sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == SHA256_LEN ? 0 : -1;
}

void *
sha256_begin(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int
sha256_add(void *ctx, const void *p, size_t n)
{
	return EVP_DigestUpdate(ctx, p, n) == 1 ? 0 : -1;
}

int
sha256_end(void *ctx, uint8_t out[SHA256_LEN])
{
	unsigned int	len = 0;
	int		rv;

	rv = EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == SHA256_LEN ?
	    0 : -1;
	EVP_MD_CTX_free(ctx);
	return rv;
}

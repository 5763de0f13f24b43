/*
 * nfs_fh.c — NFS file handles: export id + the kernel's file handle,
 * sealed with a MAC so that a client can neither forge one nor move one
 * to another export.
 *
 * Layout (version 2, docs/nfs.md "File handles"):
 *   [0] version 2  [1] kernel handle type  [2..5] export id (BE)
 *   [6] kernel handle length n  [7..7+n) kernel handle
 *   [7+n..7+n+16) MAC
 * MAC = the first 16 bytes of HMAC-SHA256(K, bytes [0..7+n) || the
 * export root's kernel handle type, length and bytes), where
 * K = HMAC-SHA256(cluster key, "duonas-nfs-fh-v2").  Binding the export
 * root means a handle also dies when its export id is pointed at
 * another directory.  The kernel handle comes from name_to_handle_at(2)
 * and is resolved with open_by_handle_at(2) on the export's directory,
 * so with the same cluster key a handle stays valid across restarts and
 * on the other head, which mounts the same file system.
 *
 * The MAC is checked (in constant time) before the kernel sees the
 * handle.  Resolving and the subtree check live in nfs3_fs.c.  Each
 * worker thread keeps its own keyed HMAC context (an EVP_MAC_CTX
 * duplicated from the keyed one), so a check allocates nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "export/nfs_int.h"

static const char	fh_label[] = "duonas-nfs-fh-v2";

static EVP_MAC_CTX	*fh_ctx;	/* keyed with K; duplicated per thread */
static _Atomic uint64_t	 fh_keygen;	/* bumps when the key changes */
static pthread_mutex_t	 fh_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t	 fh_tkey;
static pthread_once_t	 fh_once = PTHREAD_ONCE_INIT;

struct fh_tctx {
	EVP_MAC_CTX	*ctx;
	uint64_t	 keygen;
};

static void
fh_tctx_free(void *p)
{
	struct fh_tctx *t = p;

	EVP_MAC_CTX_free(t->ctx);
	free(t);
}

static void
fh_once_init(void)
{
	if (pthread_key_create(&fh_tkey, fh_tctx_free) != 0)
		fatalx("nfs: pthread_key_create");
}

int
nfs_fh_key_set(const uint8_t *key, size_t keylen)
{
	EVP_MAC_CTX	*c, *k;
	uint8_t		 fk[32];
	size_t		 n = 0;
	int		 ok;

	pthread_once(&fh_once, fh_once_init);
	pthread_mutex_lock(&fh_mtx);
	c = hmac_sha256_new(key, keylen);
	ok = c != NULL &&
	    EVP_MAC_update(c, (const uint8_t *)fh_label, strlen(fh_label)) &&
	    EVP_MAC_final(c, fk, &n, sizeof(fk)) && n == sizeof(fk);
	hmac_sha256_free(c);
	k = ok ? hmac_sha256_new(fk, sizeof(fk)) : NULL;
	OPENSSL_cleanse(fk, sizeof(fk));
	if (k == NULL) {
		pthread_mutex_unlock(&fh_mtx);
		log_warnx("nfs: cannot set up HMAC-SHA256 for file handles "
		    "(libcrypto)");
		return -1;
	}
	hmac_sha256_free(fh_ctx);
	fh_ctx = k;
	fh_keygen++;
	pthread_mutex_unlock(&fh_mtx);
	return 0;
}

/* This thread's context, (re)made when the key changed.  NULL: no key
 * yet, or out of memory. */
static EVP_MAC_CTX *
fh_thread_ctx(void)
{
	struct fh_tctx *t;

	pthread_once(&fh_once, fh_once_init);
	if ((t = pthread_getspecific(fh_tkey)) == NULL) {
		t = xcalloc(1, sizeof(*t));
		if (pthread_setspecific(fh_tkey, t) != 0) {
			free(t);
			return NULL;
		}
	}
	/* the common case takes no lock: the key has not changed */
	if (t->ctx != NULL && t->keygen == atomic_load(&fh_keygen))
		return t->ctx;
	pthread_mutex_lock(&fh_mtx);
	EVP_MAC_CTX_free(t->ctx);
	t->ctx = fh_ctx != NULL ? EVP_MAC_CTX_dup(fh_ctx) : NULL;
	t->keygen = fh_keygen;
	pthread_mutex_unlock(&fh_mtx);
	return t->ctx;
}

/* mac = MAC of the handle's first hlen bytes bound to root.  0 or -1. */
static int
fh_mac_compute(const struct nfs_fhroot *root, const uint8_t *fh,
    size_t hlen, uint8_t *mac)
{
	EVP_MAC_CTX	*c = fh_thread_ctx();
	uint8_t		 full[32], rh[2];
	size_t		 n = 0;

	if (c == NULL)
		return -1;
	rh[0] = root->type;
	rh[1] = root->len;
	/* a NULL key re-initialises with the key already set */
	if (!EVP_MAC_init(c, NULL, 0, NULL) ||
	    !EVP_MAC_update(c, fh, hlen) ||
	    !EVP_MAC_update(c, rh, sizeof(rh)) ||
	    !EVP_MAC_update(c, root->kh, root->len) ||
	    !EVP_MAC_final(c, full, &n, sizeof(full)) || n != sizeof(full))
		return -1;
	memcpy(mac, full, NFS_FH_MACLEN);
	return 0;
}

int
nfs_fh_encode(uint32_t expid, const struct nfs_fhroot *root, int type,
    const uint8_t *kh, uint32_t khlen, uint8_t *fh, uint32_t *fhlen)
{
	if (khlen == 0 || khlen > NFS_FH_KMAX || type < 0 || type > 255) {
		errno = EOVERFLOW;
		return -1;
	}
	fh[0] = NFS_FH_VERSION;
	fh[1] = (uint8_t)type;
	put_be32(fh + 2, expid);
	fh[6] = (uint8_t)khlen;
	memcpy(fh + NFS_FH_HDR, kh, khlen);
	if (fh_mac_compute(root, fh, NFS_FH_HDR + khlen,
	    fh + NFS_FH_HDR + khlen) < 0) {
		errno = ENOKEY;
		return -1;
	}
	*fhlen = NFS_FH_HDR + khlen + NFS_FH_MACLEN;
	return (int)*fhlen;
}

int
nfs_fh_kernel(int dirfd, const char *name, int flags, int *type,
    uint8_t *kh, uint32_t *khlen, int *mnt)
{
	union {
		struct file_handle	h;
		uint8_t			b[sizeof(struct file_handle) + 128];
	} u;

	u.h.handle_bytes = 128;
	if (name_to_handle_at(dirfd, name, &u.h, mnt, flags) < 0)
		return -1;
	if (u.h.handle_bytes == 0 || u.h.handle_bytes > NFS_FH_KMAX ||
	    u.h.handle_type < 0 || u.h.handle_type > 255) {
		errno = EOVERFLOW;
		return -1;
	}
	*type = u.h.handle_type;
	*khlen = u.h.handle_bytes;
	memcpy(kh, u.h.f_handle, u.h.handle_bytes);
	return 0;
}

int
nfs_fh_make(const struct nfs_export *e, int dirfd, const char *name,
    int flags, uint8_t *fh, uint32_t *fhlen)
{
	uint8_t		kh[NFS_FH_KMAX];
	uint32_t	khlen;
	int		type, mnt;

	if (nfs_fh_kernel(dirfd, name, flags, &type, kh, &khlen, &mnt) < 0)
		return -1;
	/* a file system mounted inside the export: its handles mean
	 * nothing to open_by_handle_at on the export's directory */
	if (mnt != e->mnt_id) {
		errno = EXDEV;
		return -1;
	}
	return nfs_fh_encode(e->id, &e->root, type, kh, khlen, fh, fhlen);
}

int64_t
nfs_fh_expid(const uint8_t *fh, uint32_t fhlen)
{
	if (fh == NULL || fhlen < NFS_FH_HDR + 1 + NFS_FH_MACLEN ||
	    fhlen > NFS3_FHSIZE)
		return fh != NULL && fhlen > 0 && fh[0] == 1 ? NFS_FH_OLD : -1;
	if (fh[0] != NFS_FH_VERSION)
		return fh[0] == 1 ? NFS_FH_OLD : -1;
	if ((uint32_t)fh[6] + NFS_FH_HDR + NFS_FH_MACLEN != fhlen)
		return -1;
	return get_be32(fh + 2);
}

int
nfs_fh_verify(const struct nfs_export *e, const uint8_t *fh, uint32_t fhlen)
{
	uint8_t mac[NFS_FH_MACLEN];

	if (fhlen < NFS_FH_HDR + 1 + NFS_FH_MACLEN || e->root.len == 0)
		return 0;
	if (fh_mac_compute(&e->root, fh, fhlen - NFS_FH_MACLEN, mac) < 0)
		return 0;
	return CRYPTO_memcmp(mac, fh + fhlen - NFS_FH_MACLEN,
	    NFS_FH_MACLEN) == 0;
}

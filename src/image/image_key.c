/*
 * image_key.c — Ed25519 keys of software images (docs/boot-images.md,
 * "Keys"): generating a pair (NAME.key as PKCS#8 PEM, NAME.pub as one
 * "ed25519 <hex>" line), loading the private key for signing, parsing
 * public key lines, key ids.
 *
 * The private key file is created with O_EXCL and mode 0600 from the
 * start (never written and then chmod'ed), and a key file that group or
 * others can read is refused when loading: a signing key that leaked is
 * worse than a build that stops.  Only raw 32-byte public keys travel
 * (configuration, image headers' key ids); nothing here keeps state.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/crypto.h"
#include "common/util.h"
#include "image/image.h"

#define KEYFILE_MAX	16384

static int
kfail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
kfail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	err_atv(err, errlen, NULL, 0, fmt, ap);
	va_end(ap);
	return -1;
}

void
img_key_id(const uint8_t pub[IMG_PUBKEY_LEN], uint8_t id[IMG_KEYID_LEN])
{
	uint8_t	d[SHA256_LEN];

	/* no SHA-256: an id no image has, so nothing verifies */
	if (sha256(pub, IMG_PUBKEY_LEN, d) < 0)
		memset(d, 0, sizeof(d));
	memcpy(id, d, IMG_KEYID_LEN);
}

int
img_key_public(void *pkey, uint8_t pub[IMG_PUBKEY_LEN])
{
	size_t	n = IMG_PUBKEY_LEN;

	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 ||
	    n != IMG_PUBKEY_LEN)
		return -1;
	return 0;
}

void
img_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

/* Write all of b to a new file (O_EXCL, mode), fsync'ed.  0 / -1. */
static int
write_new(const char *path, const void *b, size_t n, mode_t mode,
    char *err, size_t errlen)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) < 0)
		return kfail(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists already (not overwritten)" : strerror(errno));
	/* the umask may only have narrowed it; make it exact */
	if (fchmod(fd, mode) < 0 || fd_io_full(fd, (void *)(uintptr_t)b, n,
	    1) < 0 || fsync(fd) < 0) {
		kfail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		kfail(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int
img_keygen(const char *prefix, char *err, size_t errlen)
{
	EVP_PKEY	*pk = NULL;
	BIO		*bio = NULL;
	char		*kpath, *ppath, *dir, *slash;
	char		 line[8 + 2 * IMG_PUBKEY_LEN + 2];
	uint8_t		 pub[IMG_PUBKEY_LEN];
	char		*pem;
	long		 pemlen;
	int		 rc = -1, fd;

	kpath = xasprintf("%s.key", prefix);
	ppath = xasprintf("%s.pub", prefix);
	/* refuse before generating anything when either exists */
	if (access(kpath, F_OK) == 0 || access(ppath, F_OK) == 0) {
		kfail(err, errlen, "%s: exists already (not overwritten)",
		    access(kpath, F_OK) == 0 ? kpath : ppath);
		goto out;
	}
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    img_key_public(pk, pub) < 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		kfail(err, errlen, "Ed25519 key generation failed");
		goto out;
	}
	memcpy(line, "ed25519 ", 8);
	hex_encode(line + 8, pub, IMG_PUBKEY_LEN);
	strcat(line, "\n");
	if (write_new(kpath, pem, (size_t)pemlen, 0600, err, errlen) < 0)
		goto out;
	if (write_new(ppath, line, strlen(line), 0644, err, errlen) < 0) {
		unlink(kpath);
		goto out;
	}
	/* both names durable in their directory */
	dir = xstrdup(kpath);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	fd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	free(dir);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pk);
	free(kpath);
	free(ppath);
	return rc;
}

void *
img_key_load_private(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	EVP_PKEY	*pk = NULL;
	BIO		*bio = NULL;
	uint8_t		 buf[KEYFILE_MAX];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		kfail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		kfail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		kfail(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		kfail(err, errlen, "%s: mode %04o: group or others have "
		    "access to this private key (chmod 600 it)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		if ((len += (size_t)n) == sizeof(buf))
			break;
	if (n < 0 || len == sizeof(buf)) {
		kfail(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) :
		    "too large for a key file");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		kfail(err, errlen, "%s: not a PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		kfail(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(pk);
		pk = NULL;
	}
out:
	explicit_bzero(buf, sizeof(buf));
	BIO_free(bio);
	close(fd);
	return pk;
}

int
img_pubkey_parse(const char *text, uint8_t pub[IMG_PUBKEY_LEN],
    char *err, size_t errlen)
{
	const char	*p = text, *e, *w;
	int		 lineno = 0, found = 0;
	size_t		 n;
	char		 hexs[2 * IMG_PUBKEY_LEN + 1];

	for (; *p != '\0'; p = *e ? e + 1 : e) {
		lineno++;
		e = p + strcspn(p, "\n");
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
		    p[n - 1] == '\r'))
			n--;
		if (n == 0 || *p == '#')
			continue;
		w = p + strcspn(p, " \t\n");
		if ((size_t)(w - p) != 7 || strncmp(p, "ed25519", 7) != 0)
			return kfail(err, errlen, "line %d: unknown key type "
			    "'%.*s' (expected 'ed25519 <64 hex digits>')",
			    lineno, (int)MIN((size_t)(w - p), 20), p);
		if (found)
			return kfail(err, errlen, "line %d: a second key (one "
			    "key per file)", lineno);
		while (w < p + n && (*w == ' ' || *w == '\t'))
			w++;
		if ((size_t)(p + n - w) != 2 * IMG_PUBKEY_LEN ||
		    strspn(w, "0123456789abcdefABCDEF") < 2 * IMG_PUBKEY_LEN)
			return kfail(err, errlen, "line %d: expected 64 hex "
			    "digits after 'ed25519'", lineno);
		memcpy(hexs, w, 2 * IMG_PUBKEY_LEN);
		hexs[2 * IMG_PUBKEY_LEN] = '\0';
		if (hex_decode(pub, IMG_PUBKEY_LEN, hexs) != IMG_PUBKEY_LEN)
			return kfail(err, errlen, "line %d: expected 64 hex "
			    "digits after 'ed25519'", lineno);
		found = 1;
	}
	if (!found)
		return kfail(err, errlen, "no 'ed25519 <64 hex digits>' line");
	return 0;
}

int
img_pubkey_load(const char *path, uint8_t pub[IMG_PUBKEY_LEN],
    char *err, size_t errlen)
{
	uint8_t	*data;
	size_t	 len;
	char	 e[200];

	if (file_read_all(path, KEYFILE_MAX, &data, &len) < 0)
		return kfail(err, errlen, "%s: %s", path, strerror(errno));
	if (strlen((char *)data) != len) {
		free(data);
		return kfail(err, errlen, "%s: holds a NUL byte", path);
	}
	if (img_pubkey_parse((char *)data, pub, e, sizeof(e)) < 0) {
		free(data);
		return kfail(err, errlen, "%s: %s", path, e);
	}
	free(data);
	return 0;
}

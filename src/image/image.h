/*
 * image.h — software images (docs/boot-images.md, "Software image
 * file"): build, parse, verify (Ed25519 signature, SHA-256 of every
 * file), extract; image versions and compatibility; Ed25519 keys.
 * Pure except the key, extract and file helpers, which name their
 * files.  Every function that can fail fills err with one line naming
 * the problem ("manifest line 4: unknown key 'foo'", "signature does not
 * verify with any trusted key", "file duonasd: SHA-256 mismatch").
 * OpenSSL 3 EVP only; any thread.
 */
#ifndef DUONAS_IMAGE_H
#define DUONAS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define IMG_MAGIC		0x44494D47u	/* "DIMG" */
#define IMG_FORMAT		1
#define IMG_HDR_LEN		64
#define IMG_SIG_LEN		64
#define IMG_MANIFEST_MAX	65536
#define IMG_PAYLOAD_MAX		(64u << 20)
#define IMG_FILES_MAX		16
#define IMG_NAME_MAX		31
#define IMG_VERSION_MAX		31
#define IMG_PUBKEY_LEN		32
#define IMG_KEYID_LEN		8
#define IMG_DIGEST_LEN		32
#define IMG_MAX_KEYS		8

/* Wire (peer link) and disk (private extent / configuration) format
 * versions this build speaks: what `duonas-mkimage` writes by default. */
#define IMG_WIRE_MIN		1
#define IMG_WIRE_MAX		1
#define IMG_DISK_MIN		1
#define IMG_DISK_MAX		1

struct img_file {
	char		name[IMG_NAME_MAX + 1];
	uint64_t	size;
	uint32_t	mode;			/* permission bits, e.g. 0755 */
	uint8_t		sha256[IMG_DIGEST_LEN];
	uint64_t	offset;			/* within the payload */
};

struct img_manifest {
	char		version[IMG_VERSION_MAX + 1];
	char		build_id[64];
	int64_t		build_time;		/* seconds since the epoch */
	char		arch[32];		/* uname -m */
	char		hardware[32];		/* "any" or a platform */
	uint32_t	wire_min, wire_max;
	uint32_t	disk_min, disk_max;
	int		nfiles;
	struct img_file	files[IMG_FILES_MAX];
};

struct img_info {
	struct img_manifest	m;
	uint8_t			key_id[IMG_KEYID_LEN];
	uint8_t			digest[IMG_DIGEST_LEN];	/* SHA-256 of all */
	size_t			payload_off;	/* offset of the payload */
	size_t			total;		/* file size */
};

/*
 * Structure only: header (magic, version, CRC, sizes adding up to len),
 * manifest syntax and field rules, file sizes adding up to the payload.
 * Fills out (digest too).  0, or -1 with err.
 */
int	img_parse(const uint8_t *data, size_t len, struct img_info *out,
	    char *err, size_t errlen);
/*
 * img_parse() plus the signature (with one of the nkeys trusted public
 * keys; none trusted: refused) and every file's SHA-256.  0 or -1.
 */
int	img_verify(const uint8_t *data, size_t len,
	    const uint8_t keys[][IMG_PUBKEY_LEN], int nkeys,
	    struct img_info *out, char *err, size_t errlen);
/*
 * Every file's SHA-256 against the manifest of a parsed image (info from
 * img_parse() of data): what img_verify() checks after the signature,
 * for callers that have no key to check (duonas-mkimage --show).  0 or
 * -1 naming the first file that differs.
 */
int	img_check_payload(const uint8_t *data, const struct img_info *info,
	    char *err, size_t errlen);
/*
 * Build an image: m gives version, build_id, build_time, arch,
 * hardware, format ranges, nfiles and each file's name and mode (sizes,
 * digests and offsets are computed here, m is not changed); paths[i] is
 * where file i is read from.  pkey: from img_key_load_private().
 * Appends the image to out.  0 or -1.
 */
int	img_build(const struct img_manifest *m, const char *const *paths,
	    void *pkey, struct buf *out, char *err, size_t errlen);
/*
 * Write every file of a verified image (data, info from img_verify)
 * into the existing directory dir: each as dir/NAME with its mode,
 * written to a temporary name, fsync'ed and renamed; the directory is
 * fsync'ed at the end.  0 or -1.
 */
int	img_extract(const uint8_t *data, const struct img_info *info,
	    const char *dir, char *err, size_t errlen);
/*
 * Check the extracted files in dir against the manifest (size, SHA-256,
 * regular file).  0 or -1 naming the first file that differs.
 */
int	img_check_files(const struct img_info *info, const char *dir,
	    char *err, size_t errlen);

/* 1 when v is a valid version string (N[.N[.N[.N]]][-tag]), else 0. */
int	img_version_valid(const char *v);
/* <0, 0, >0 as a is older, equal, newer than b (both valid). */
int	img_version_cmp(const char *a, const char *b);
/*
 * Can a head running a pair with a head running b?  Format ranges
 * overlap, arch equal, hardware equal or either "any".  1, or 0 with
 * why ("wire formats 2..3 and 1..1 do not overlap").
 */
int	img_compatible(const struct img_manifest *a,
	    const struct img_manifest *b, char *why, size_t whylen);
/* Can this machine run m (arch = uname -m, hardware any)?  1 or 0. */
int	img_runs_here(const struct img_manifest *m, char *why, size_t whylen);

/* Digest as 64 lower-case hex digits (dst >= 65 bytes). */
void	img_digest_hex(const uint8_t d[IMG_DIGEST_LEN], char *dst);

/* ---- keys ------------------------------------------------------------ */

/*
 * New Ed25519 key pair: prefix.key (PKCS#8 PEM, mode 0600, created
 * exclusively: an existing file is refused) and prefix.pub (one line
 * "ed25519 <64 hex>\n", 0644).  0 or -1.
 */
int	img_keygen(const char *prefix, char *err, size_t errlen);
/* Private key from a PEM file (refused when group/other can read it);
 * an EVP_PKEY * as void *, or NULL with err. */
void	*img_key_load_private(const char *path, char *err, size_t errlen);
void	 img_key_free(void *pkey);
/* The public half of a private key.  0 or -1. */
int	 img_key_public(void *pkey, uint8_t pub[IMG_PUBKEY_LEN]);
/* Parse "ed25519 <64 hex>" (surrounding blanks, a trailing newline
 * and comment lines starting with '#' allowed; exactly one key). */
int	 img_pubkey_parse(const char *text, uint8_t pub[IMG_PUBKEY_LEN],
	    char *err, size_t errlen);
/* Read one such file. */
int	 img_pubkey_load(const char *path, uint8_t pub[IMG_PUBKEY_LEN],
	    char *err, size_t errlen);
/* key id = first 8 bytes of SHA-256(pub). */
void	 img_key_id(const uint8_t pub[IMG_PUBKEY_LEN],
	    uint8_t id[IMG_KEYID_LEN]);

#endif

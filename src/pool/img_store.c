/*
 * img_store.c — the software image store over the LUNs of a
 * configuration (img_store.h; format and rules: docs/boot-images.md).
 *
 * Owns the choice of LUNs: a put walks the LUNs in configuration order
 * and writes until the requested number hold the image, so a missing or
 * broken LUN costs a replica only when no other LUN is left; a get takes
 * the first valid copy in the same order, and since every copy is
 * checked against its SHA-256 (pool_img_read) any copy is as good as
 * another.  Each LUN is opened, used and closed within the call: nothing
 * is cached, so the daemon and duonas-boot can both call it at any time.
 * It never formats a LUN (that is the configuration's job, ctcm) and
 * does not decide which image is preferred.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "pool/img_store.h"

int
img_store_lun_open(const struct cfg *cfg, const struct cfg_lun *l,
    uint32_t self_id, struct pool_lun *pl)
{
	int	rc;

	if ((rc = pool_lun_open(pl, l->path, pext_pool_id(cfg->cluster),
	    l->id, self_id)) != 0)
		return rc;
	pool_lun_setname(pl, l->name);
	if ((rc = pool_lun_load(pl)) != 0)
		pool_lun_close(pl);
	return rc;
}

/* An open/load failure in words: an empty extent is a LUN nobody has
 * formatted yet (the store never formats one). */
static const char *
lun_strerror(int rc)
{
	if (rc == PEXT_E_EMPTY)
		return "private extent not formatted";
	return pool_strerror(rc);
}

/* Append "; what" to err (the first without the separator). */
static void
err_add(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;
	size_t	n;

	if (err == NULL || errlen == 0)
		return;
	n = strnlen(err, errlen);
	if (n > 0 && n + 2 < errlen) {
		memcpy(err + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

static void
hex8(char *dst, const uint8_t *digest)
{
	snprintf(dst, 17, "%02x%02x%02x%02x%02x%02x%02x%02x", digest[0],
	    digest[1], digest[2], digest[3], digest[4], digest[5], digest[6],
	    digest[7]);
}

struct put_progress {
	void		(*cb)(uint64_t, uint64_t, void *);
	void		*arg;
	uint64_t	 base;		/* bytes of the LUNs before this one */
	uint64_t	 total;
};

static void
put_progress(uint64_t done, void *arg)
{
	struct put_progress *p = arg;

	p->cb(p->base + done, p->total, p->arg);
}

int
img_store_put(const struct cfg *cfg, uint32_t self_id, int replicas,
    const void *data, size_t len, const uint8_t digest[32],
    const char *version, const uint8_t *keep,
    void (*progress)(uint64_t done, uint64_t total, void *arg), void *arg,
    char *err, size_t errlen)
{
	struct put_progress	pp;
	struct pool_lun		pl;
	uint8_t			md[SHA256_LEN];
	char			dh[17];
	int			want, done = 0, rc, i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	hex8(dh, digest);
	/* Checked once for all LUNs: a header vouching for other bytes
	 * would make every copy invalid. */
	if (sha256(data, len, md) != 0 || memcmp(md, digest, sizeof(md))) {
		err_add(err, errlen, "image %s (%s): data does not match its "
		    "digest", version, dh);
		log_warnx("image store: image %s (%s): data does not match "
		    "its digest", version, dh);
		return -1;
	}
	want = MIN(replicas, cfg->nluns);
	if (want <= 0) {
		err_add(err, errlen, "no LUN to store image %s on", version);
		return -1;
	}
	pp.cb = progress;
	pp.arg = arg;
	pp.base = 0;
	pp.total = (uint64_t)len * (uint64_t)want;
	for (i = 0; i < cfg->nluns && done < want; i++) {
		const struct cfg_lun *l = &cfg->luns[i];

		if ((rc = img_store_lun_open(cfg, l, self_id, &pl)) != 0) {
			log_warnx("image store: LUN %s (%s): not used: %s",
			    l->name, l->path, lun_strerror(rc));
			err_add(err, errlen, "LUN %s: %s", l->name,
			    lun_strerror(rc));
			continue;
		}
		rc = pool_img_write(&pl, data, len, digest, version, keep,
		    progress != NULL ? put_progress : NULL, &pp);
		pool_lun_close(&pl);
		if (rc != 0) {
			log_warnx("image store: LUN %s (%s): image %s: %s",
			    l->name, l->path, version, pool_strerror(rc));
			err_add(err, errlen, "LUN %s: %s", l->name,
			    pool_strerror(rc));
			continue;
		}
		log_info("image store: LUN %s holds image %s (%s)", l->name,
		    version, dh);
		done++;
		pp.base += len;
	}
	if (done == 0)
		return -1;
	if (done < want)
		log_warnx("image store: image %s on %d of %d LUNs", version,
		    done, want);
	return done;
}

int
img_store_get(const struct cfg *cfg, uint32_t self_id,
    const uint8_t digest[32], void **data, size_t *len, char *err,
    size_t errlen)
{
	struct pool_lun	pl;
	char		dh[17];
	int		looked = 0, rc, i;

	*data = NULL;
	*len = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	hex8(dh, digest);
	for (i = 0; i < cfg->nluns; i++) {
		const struct cfg_lun *l = &cfg->luns[i];

		if ((rc = img_store_lun_open(cfg, l, self_id, &pl)) != 0) {
			log_warnx("image store: LUN %s (%s): %s", l->name,
			    l->path, lun_strerror(rc));
			err_add(err, errlen, "LUN %s: %s", l->name,
			    lun_strerror(rc));
			continue;
		}
		rc = pool_img_read(&pl, digest, data, len, NULL);
		pool_lun_close(&pl);
		if (rc == 0) {
			if (err != NULL && errlen > 0)
				err[0] = '\0';
			log_debug("image store: image %s from LUN %s", dh,
			    l->name);
			return 0;
		}
		if (rc == PEXT_E_EMPTY) {
			/* a corrupt copy was logged by pool_img_read */
			looked++;
			continue;
		}
		log_warnx("image store: LUN %s (%s): image %s: %s", l->name,
		    l->path, dh, pool_strerror(rc));
		err_add(err, errlen, "LUN %s: %s", l->name, pool_strerror(rc));
	}
	if (looked == 0) {
		if (cfg->nluns == 0)
			err_add(err, errlen, "no LUN configured");
		return -1;
	}
	err_add(err, errlen, "no LUN holds a valid copy of image %s", dh);
	return 1;
}

int
img_store_list(const struct cfg *cfg, uint32_t self_id,
    struct img_store_ent *out, int max)
{
	struct pext_imgslot	h[2];
	struct pool_lun		pl;
	int			n = 0, rc, lrc, src[2], i, s;

	for (i = 0; i < cfg->nluns && n < max; i++) {
		const struct cfg_lun *l = &cfg->luns[i];

		lrc = img_store_lun_open(cfg, l, self_id, &pl);
		if (lrc == 0) {
			rc = pool_img_list(&pl, h, src);
			pool_lun_close(&pl);
			if (rc != 0)
				lrc = rc;
		}
		for (s = 0; s < 2 && n < max; s++, n++) {
			struct img_store_ent *e = &out[n];

			memset(e, 0, sizeof(*e));
			snprintf(e->lun, sizeof(e->lun), "%s", l->name);
			e->slot = s;
			e->rc = lrc != 0 ? lrc : src[s];
			if (e->rc != 0)
				continue;
			e->valid_hdr = 1;
			e->seq = h[s].seq;
			e->length = h[s].length;
			memcpy(e->digest, h[s].digest, sizeof(e->digest));
			memcpy(e->version, h[s].version, sizeof(e->version));
		}
	}
	return n;
}

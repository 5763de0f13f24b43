/*
 * img_store.h — the software image store across the LUNs of a
 * configuration (docs/boot-images.md, "Image store"): each LUN's private
 * extent holds up to two images (pool_img_*); this puts one on several
 * LUNs and finds one by digest.  Usable before any event loop exists
 * (duonas-boot) as well as in duonasd: plain blocking I/O, logging
 * through common/log.h only, no state kept between calls.
 */
#ifndef DUONAS_IMG_STORE_H
#define DUONAS_IMG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "pool/pool.h"

/*
 * Open lun of cfg with the pool id of cfg's cluster and self_id as the
 * writer, and load its private extent (the same open as the
 * configuration replicas use).  0, or the error of pool_lun_open /
 * pool_lun_load (PEXT_E_EMPTY: never formatted) with pl left closed.
 */
int	 img_store_lun_open(const struct cfg *cfg, const struct cfg_lun *lun,
	    uint32_t self_id, struct pool_lun *pl);

/*
 * Store the image (len bytes, SHA-256 digest, version from its
 * manifest) on replicas LUNs: the LUNs of cfg in configuration order,
 * skipping (and logging, with the LUN's name) any that does not open,
 * load or take the write, until replicas have it.  The data must match
 * digest (checked once here: EINVAL-like -1 otherwise).  keep (may be
 * NULL) is the digest of the image each LUN must keep beside it (the
 * preferred image, which becomes the previous one): see pool_img_write.
 * progress (may
 * be NULL) gets the bytes written so far over all LUNs and the total
 * (len x the LUNs to write).  Returns the number of LUNs that hold the
 * image now (a LUN that already held it counts), or -1 with err naming
 * every failure when none does.  err is also filled (failures) when
 * fewer than replicas were written.
 */
int	 img_store_put(const struct cfg *cfg, uint32_t self_id, int replicas,
	    const void *data, size_t len, const uint8_t digest[32],
	    const char *version, const uint8_t *keep,
	    void (*progress)(uint64_t done, uint64_t total, void *arg),
	    void *arg, char *err, size_t errlen);

/*
 * The image with this digest from the first LUN holding a valid copy
 * (a corrupt or unreadable copy is logged and the next LUN tried), in a
 * malloc'd buffer (*data, free() it), its SHA-256 checked.  Returns 0;
 * 1 when no LUN holds it (err says so); -1 when no LUN could be looked
 * at (err names each failure).
 */
int	 img_store_get(const struct cfg *cfg, uint32_t self_id,
	    const uint8_t digest[32], void **data, size_t *len, char *err,
	    size_t errlen);

/* One image slot of one LUN, for `duonas image status` (headers only). */
struct img_store_ent {
	char		lun[CFG_NAME_MAX];
	int		slot;		/* 0 or 1 */
	int		rc;		/* 0: header valid; else PEXT_E_* or
					 * errno of the slot or of the LUN's
					 * open/load (pool_strerror) */
	int		valid_hdr;	/* rc == 0 */
	uint64_t	seq;
	uint64_t	length;
	uint8_t		digest[32];
	char		version[PEXT_IMG_VERSION_MAX + 1];
};

/* Both slots of every LUN of cfg, in configuration order: fills up to
 * max entries (two per LUN) and returns how many. */
int	 img_store_list(const struct cfg *cfg, uint32_t self_id,
	    struct img_store_ent *out, int max);

#endif

/*
 * pool.h — a LUN's private extent on disk: open with direct I/O, format,
 * and read/write its blocks with verification (layout and rules:
 * docs/private-extent.md; block formats: pext.h).
 *
 * Return codes everywhere: 0 ok, positive errno for I/O and system
 * errors, negative PEXT_E_* when a block was read but is not to be
 * trusted.  pool_strerror() names both.  Every failure is also logged with
 * the LUN path.  A struct pool_lun is used by one thread at a time.
 */
#ifndef DUONAS_POOL_H
#define DUONAS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "pool/pext.h"

struct pool_lun {
	int			fd;		/* -1 when closed */
	int			direct;		/* 1: O_DIRECT, 0: O_DSYNC */
	char			path[256];
	char			label[336];	/* "lun NAME (path)" or "lun
						 * id N (path)": what log
						 * lines name it by */
	uint64_t		pool_id;
	uint32_t		lun_id;
	uint32_t		self_id;	/* node id written as writer */
	uint64_t		size;		/* bytes */
	int			loaded;		/* sb is valid */
	struct pext_super	sb;
	uint8_t			*iobuf;		/* one aligned block */
	char			damage[256];	/* what load/check found
						 * damaged and did ("" =
						 * nothing since open) */
	struct log_ratelim	io_rl;		/* I/O error log lines */
};

/* Every control block of an extent, decoded, and the verdict. */
struct pool_scan {
	int			rc[PEXT_CB_COUNT];	/* 0 or PEXT_E_* */
	struct pext_judgement	j;
	struct pext_super	sb[2];		/* super, backup (rc 0) */
	struct pext_res		res;		/* rc[PEXT_CB_RES] == 0 */
	struct pext_hb		hb[2];		/* rc[PEXT_CB_HB0 + i] == 0 */
};

/*
 * Open path (regular file or block device) read-write with O_DIRECT; if
 * the file system refuses O_DIRECT, reopen with O_DSYNC and log it.
 * pool_id/lun_id are what every block must carry; self_id (1..255) is
 * stamped as the writer of every block this head writes.  Nothing is read
 * yet.  On error the struct is left closed.
 */
int	 pool_lun_open(struct pool_lun *, const char *path, uint64_t pool_id,
	    uint32_t lun_id, uint32_t self_id);
/* The LUN's configured name for log lines (after pool_lun_open, which
 * names it by id and path). */
void	 pool_lun_setname(struct pool_lun *, const char *name);
/* Close (safe on a closed or zeroed-then-failed struct). */
void	 pool_lun_close(struct pool_lun *);

/*
 * Write a fresh layout-version-1 private extent: empty heartbeat blocks,
 * a free reservation, zeroed config slot headers, the backup super block
 * and the super block.  Without force only an entirely empty extent is
 * formatted (every control block all zero): anything else is EEXIST, and
 * the first block that is not empty is logged.  Forced, the reservation
 * generation is issued above whatever old records still decode (1 only
 * on an empty extent).  ENOSPC when the LUN is smaller than the extent.
 * Leaves the LUN loaded.
 */
int	 pool_lun_format(struct pool_lun *, const char *cluster,
	    const char *lun_name, int force);
/*
 * Read and verify the super block and its backup; required before the
 * typed calls.  A damaged copy is rewritten from the intact one (or both
 * rebuilt from the layout when another control block proves the extent
 * ours) and the damage is logged and noted in lun->damage; with pool id
 * 0 nothing is written.  PEXT_E_EMPTY only for an entirely empty extent,
 * PEXT_E_NOSUPER when no copy can be trusted, PEXT_E_POOL/_LUN/_VERSION
 * for somebody else's extent.
 */
int	 pool_lun_load(struct pool_lun *);
/* Read every control block at its layout-version-1 place and judge the
 * extent (pext_judge).  Reads only.  0 or errno. */
int	 pool_lun_scan(struct pool_lun *, struct pool_scan *);
/*
 * A loaded LUN's periodic check: both super block copies must still be
 * what was loaded; a copy that no longer decodes is rewritten from
 * memory (logged, noted in lun->damage).  Returns the number of copies
 * rewritten, or a positive errno.
 */
int	 pool_super_check(struct pool_lun *);

/* Raw block I/O at block index blockno (any buffer alignment; exactly
 * PEXT_BLOCK_SIZE bytes).  No verification. */
int	 pool_blk_read(struct pool_lun *, uint64_t blockno, uint8_t *blk);
int	 pool_blk_write(struct pool_lun *, uint64_t blockno, const uint8_t *blk);

/*
 * Heartbeat/mailbox block of head slot (0 or 1).  Write fills the common
 * header (pool, LUN, block number, writer = self_id, time) itself.
 */
int	 pool_hb_read(struct pool_lun *, int slot, struct pext_hb *);
int	 pool_hb_write(struct pool_lun *, int slot, const struct pext_hb *);

/* The LUN's reservation record.  Write fills the common header. */
int	 pool_res_read(struct pool_lun *, struct pext_res *);
int	 pool_res_write(struct pool_lun *, const struct pext_res *);
/*
 * Issue the next reservation generation (the only place one is
 * computed): reads the reservation block and both heartbeat blocks and
 * applies pext_res_next_gen() with known, the caller's own highest
 * (known_complete: it covers every generation this head wrote).  The
 * caller records *next in its heartbeat block before it writes it to
 * the reservation.  0 or errno.
 */
int	 pool_res_gen_next(struct pool_lun *, uint64_t known,
	    int known_complete, uint64_t *next);

/*
 * Configuration replica.  Write stores len bytes as generation gen into
 * the slot that does not hold the newest valid copy (data first, header
 * last); EINVAL when gen is not newer than that copy, EFBIG when len does
 * not fit a slot.  Read returns the newest valid copy in a malloc'd
 * buffer (*datap, free() it) or PEXT_E_EMPTY when no slot is valid.
 */
int	 pool_cfg_write(struct pool_lun *, uint64_t gen, const void *data,
	    size_t len);
int	 pool_cfg_read(struct pool_lun *, void **datap, size_t *lenp,
	    uint64_t *genp);

/* Text for any return code of this module. */
const char *pool_strerror(int rc);

/*
 * PSO marker of head slot (0 or 1) at its fixed block (issue 10;
 * docs/private-extent.md, "PSO marker").  The LUN must be loaded; EINVAL
 * when the extent is too small or the super block's region table puts
 * a region over the block.  Write fills the common header.  Read
 * returns 0, PEXT_E_EMPTY (never written), another PEXT_E_* or errno.
 */
int	 pool_psomark_read(struct pool_lun *, int slot, struct pext_psomark *);
int	 pool_psomark_write(struct pool_lun *, int slot,
	    const struct pext_psomark *);

/*
 * Software image store (region 5; docs/boot-images.md).  The LUN must be
 * loaded.
 *
 * pool_img_list: both slot headers; hdr[i] is meaningful when rc[i] is 0
 * (else PEXT_E_EMPTY for a never-written slot, another PEXT_E_* or an
 * errno).  Headers only: the data is not checked.  Returns 0 or errno
 * when the region is missing from the region table (EINVAL).
 *
 * pool_img_read: the image whose digest is want (NULL: the newest valid
 * one by seq) in a malloc'd buffer (*datap, free() it), checked against
 * the header's SHA-256; *hdr gets its header.  PEXT_E_EMPTY when no
 * valid slot holds it (a slot whose data does not match its digest is
 * not valid), else 0 or errno.
 *
 * pool_img_write: store len bytes (an image file whose SHA-256 is
 * digest, version copied into the header) in the slot that does not
 * hold keep (a digest, may be NULL: the image to keep, the preferred
 * one) when a valid slot holds it, else in the slot that does not hold
 * the newest valid image, with seq = highest seq seen + 1; data
 * first, header block last (a torn write leaves the other slot intact).
 * When a valid slot already holds this digest, no data is written (0):
 * nothing at all when it is the newest, else only its header, with a
 * new seq, so that it is the newest and the next write replaces the
 * other image.  digest is trusted (img_store_put checks it): a wrong one
 * only makes the slot written invalid.  EFBIG when len does not fit a
 * slot, EINVAL for len 0 or a version not of 1..31 characters.  progress (may be NULL) is called
 * after each chunk with the bytes written so far.
 */
int	 pool_img_list(struct pool_lun *, struct pext_imgslot hdr[2],
	    int rc[2]);
int	 pool_img_read(struct pool_lun *, const uint8_t *want, void **datap,
	    size_t *lenp, struct pext_imgslot *hdr);
int	 pool_img_write(struct pool_lun *, const void *data, size_t len,
	    const uint8_t digest[32], const char *version,
	    const uint8_t *keep,
	    void (*progress)(uint64_t done, void *arg), void *arg);
/* Bytes one image slot can hold on this LUN (0 when no region 5). */
uint64_t pool_img_capacity(struct pool_lun *);

#endif

/*
 * pool_io.c — reading and writing a LUN's private extent.
 *
 * Owns the file descriptor of one LUN, opened with O_DIRECT so that every
 * 4096-byte block goes to the device without the page cache (both heads
 * read what the other wrote, not a stale cached copy); when the file system
 * refuses O_DIRECT it falls back to O_DSYNC and says so.  All transfers use
 * aligned buffers at block-aligned offsets.  Typed reads decode through
 * pext.c and return its verdict; typed writes stamp the common header.
 * It does not decide policy (who may take a reservation, when a lease has
 * expired): the HA controller does, using these primitives.  Formatting,
 * loading the super block and repairing damage are in pool_fmt.c.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"
#include "pool/pool_int.h"

#define BS	PEXT_BLOCK_SIZE

/* What lies at byte off, for an I/O error line: "block 1 (heartbeat
 * block (head slot 0))"; data blocks (configuration, images) by number. */
static void
block_words(uint64_t off, char *s, size_t n)
{
	uint64_t	b = off / BS;
	int		cb;

	for (cb = 0; cb < PEXT_CB_COUNT; cb++)
		if (pext_cb_blockno(cb) == b && (cb == PEXT_CB_SUPER ||
		    b != 0)) {
			snprintf(s, n, "block %llu (%s)", (unsigned long long)b,
			    pext_cb_name(cb));
			return;
		}
	snprintf(s, n, "block %llu", (unsigned long long)b);
}

static int
io_full(struct pool_lun *lun, int wr, void *buf, size_t len, uint64_t off)
{
	uint8_t	*p = buf;
	ssize_t	 n;
	char	 more[48];

	while (len > 0) {
		if (wr)
			n = pwrite(lun->fd, p, len, (off_t)off);
		else
			n = pread(lun->fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		/* A failing disk fails every pass (10 a second): one line
		 * per LUN every LOG_RATELIM_MS, with the count of the rest. */
		if (n == -1) {
			int	e = errno;
			char	what[96];

			if (log_ratelim_ok(&lun->io_rl, more, sizeof(more))) {
				block_words(off, what, sizeof(what));
				log_warnx("pool: %s: %s of %s at offset %llu: "
				    "%s%s", lun->label,
				    wr ? "write" : "read", what,
				    (unsigned long long)off, strerror(e), more);
			}
			return e;
		}
		if (n == 0) {
			if (log_ratelim_ok(&lun->io_rl, more, sizeof(more)))
				log_warnx("pool: %s: short %s at offset "
				    "%llu (past the end of the LUN?)%s",
				    lun->label,
				    wr ? "write" : "read",
				    (unsigned long long)off, more);
			return EIO;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void *
aligned_alloc_blocks(size_t nblocks)
{
	void	*p;

	if (posix_memalign(&p, BS, nblocks * BS) != 0)
		fatalx("pool: out of memory");
	memset(p, 0, nblocks * BS);
	return p;
}

static int
lun_size(struct pool_lun *lun)
{
	struct stat	st;
	uint64_t	sz;

	if (fstat(lun->fd, &st) == -1) {
		log_warn("pool: %s: fstat", lun->label);
		return errno;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(lun->fd, BLKGETSIZE64, &sz) == -1) {
			log_warn("pool: %s: BLKGETSIZE64", lun->label);
			return errno;
		}
		lun->size = sz;
	} else if (S_ISREG(st.st_mode)) {
		lun->size = (uint64_t)st.st_size;
	} else {
		log_warnx("pool: %s: not a regular file or block device",
		    lun->label);
		return EINVAL;
	}
	return 0;
}

void
pool_lun_setname(struct pool_lun *lun, const char *name)
{
	snprintf(lun->label, sizeof(lun->label), "lun %s (%s)", name,
	    lun->path);
}

int
pool_lun_open(struct pool_lun *lun, const char *path, uint64_t pool_id,
    uint32_t lun_id, uint32_t self_id)
{
	ssize_t	n;
	int	rc;

	memset(lun, 0, sizeof(*lun));
	lun->fd = -1;
	if (strlen(path) >= sizeof(lun->path)) {
		log_warnx("pool: LUN path too long: %s", path);
		return ENAMETOOLONG;
	}
	if (self_id == 0 || self_id > 255) {
		log_warnx("pool: %s: bad node id %u", path, self_id);
		return EINVAL;
	}
	strcpy(lun->path, path);
	snprintf(lun->label, sizeof(lun->label), "lun id %u (%s)", lun_id,
	    path);
	lun->pool_id = pool_id;
	lun->lun_id = lun_id;
	lun->self_id = self_id;
	lun->iobuf = aligned_alloc_blocks(1);

	lun->direct = 1;
	lun->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (lun->fd != -1) {
		/* Some file systems accept the flag at open and refuse the
		 * first transfer instead: probe with one aligned read. */
		n = pread(lun->fd, lun->iobuf, BS, 0);
		if (n == -1 && errno == EINVAL) {
			close(lun->fd);
			lun->fd = -1;
			errno = EINVAL;
		}
	}
	if (lun->fd == -1 && errno == EINVAL) {
		lun->direct = 0;
		lun->fd = open(path, O_RDWR | O_DSYNC | O_CLOEXEC);
		if (lun->fd != -1)
			log_info("pool: %s: O_DIRECT not supported here, "
			    "using O_DSYNC (tests/demo only)", lun->label);
	}
	if (lun->fd == -1) {
		char key[300], more[64];

		rc = errno;
		/* the HA retries a LUN it cannot open every second */
		snprintf(key, sizeof(key), "pool open %s %d", path, rc);
		if (log_ratelim_key(key, more, sizeof(more)))
			log_warnx("pool: %s: open: %s%s", lun->label,
			    strerror(rc), more);
		goto fail;
	}
	if ((rc = lun_size(lun)) != 0)
		goto fail;
	return 0;
fail:
	pool_lun_close(lun);
	return rc;
}

void
pool_lun_close(struct pool_lun *lun)
{
	if (lun->fd != -1)
		close(lun->fd);
	lun->fd = -1;
	free(lun->iobuf);
	lun->iobuf = NULL;
	lun->loaded = 0;
}

int
pool_blk_read(struct pool_lun *lun, uint64_t blockno, uint8_t *blk)
{
	int	rc;

	if ((rc = io_full(lun, 0, lun->iobuf, BS, blockno * BS)) != 0)
		return rc;
	memcpy(blk, lun->iobuf, BS);
	return 0;
}

int
pool_blk_write(struct pool_lun *lun, uint64_t blockno, const uint8_t *blk)
{
	memcpy(lun->iobuf, blk, BS);
	return io_full(lun, 1, lun->iobuf, BS, blockno * BS);
}

static void
where(const struct pool_lun *lun, uint64_t blockno, struct pext_where *w)
{
	w->pool_id = lun->pool_id;
	w->lun_id = lun->lun_id;
	w->blockno = (uint32_t)blockno;
}

static void
stamp(const struct pool_lun *lun, uint64_t blockno, struct pext_hdr *h)
{
	h->pool_id = lun->pool_id;
	h->lun_id = lun->lun_id;
	h->blockno = (uint32_t)blockno;
	h->writer = lun->self_id;
	h->time_ms = wall_ms();
}

static const struct pext_region *
region(const struct pool_lun *lun, uint32_t type)
{
	uint32_t	i;

	for (i = 0; i < lun->sb.nregions; i++)
		if (lun->sb.regions[i].type == type)
			return &lun->sb.regions[i];
	return NULL;
}

/* Typed-call prologue: the super block must be loaded and hold region. */
static int
need_region(struct pool_lun *lun, uint32_t type, uint64_t idx,
    uint64_t *blocknop)
{
	const struct pext_region *r;

	if (!lun->loaded) {
		log_warnx("pool: %s: private extent not loaded", lun->label);
		return EINVAL;
	}
	if ((r = region(lun, type)) == NULL || idx >= r->count) {
		log_warnx("pool: %s: super block has no region %u[%llu]",
		    lun->label, type, (unsigned long long)idx);
		return EINVAL;
	}
	*blocknop = r->start + idx;
	return 0;
}

/* ---- for pool_fmt.c (pool_int.h) ------------------------------------- */

int
pool_io_full(struct pool_lun *lun, int wr, void *buf, size_t len,
    uint64_t off)
{
	return io_full(lun, wr, buf, len, off);
}

void *
pool_blocks_alloc(size_t nblocks)
{
	return aligned_alloc_blocks(nblocks);
}

void
pool_hdr_where(const struct pool_lun *lun, uint64_t blockno,
    struct pext_where *w)
{
	where(lun, blockno, w);
}

void
pool_hdr_stamp(const struct pool_lun *lun, uint64_t blockno,
    struct pext_hdr *h)
{
	stamp(lun, blockno, h);
}

int
pool_hb_read(struct pool_lun *lun, int slot, struct pext_hb *hb)
{
	struct pext_where	w;
	uint64_t		b;
	int			rc;

	if (slot < 0 || slot > 1)
		return EINVAL;
	if ((rc = need_region(lun, PEXT_R_HB, (uint64_t)slot, &b)) != 0 ||
	    (rc = pool_blk_read(lun, b, lun->iobuf)) != 0)
		return rc;
	where(lun, b, &w);
	if ((rc = pext_hb_decode(lun->iobuf, &w, hb)) != 0)
		log_warnx("pool: %s: heartbeat block %d: %s", lun->label, slot,
		    pext_strerror(rc));
	return rc;
}

int
pool_hb_write(struct pool_lun *lun, int slot, const struct pext_hb *hb)
{
	struct pext_hb	c = *hb;
	uint64_t	b;
	int		rc;

	if (slot < 0 || slot > 1)
		return EINVAL;
	if ((rc = need_region(lun, PEXT_R_HB, (uint64_t)slot, &b)) != 0)
		return rc;
	stamp(lun, b, &c.h);
	if ((rc = pext_hb_encode(lun->iobuf, &c)) != 0) {
		log_warnx("pool: %s: heartbeat block: %s", lun->label,
		    pext_strerror(rc));
		return rc;
	}
	return io_full(lun, 1, lun->iobuf, BS, b * BS);
}

int
pool_res_read(struct pool_lun *lun, struct pext_res *res)
{
	struct pext_where	w;
	uint64_t		b;
	int			rc;

	if ((rc = need_region(lun, PEXT_R_RES, 0, &b)) != 0 ||
	    (rc = pool_blk_read(lun, b, lun->iobuf)) != 0)
		return rc;
	where(lun, b, &w);
	if ((rc = pext_res_decode(lun->iobuf, &w, res)) != 0)
		log_warnx("pool: %s: reservation: %s", lun->label,
		    pext_strerror(rc));
	return rc;
}

int
pool_res_write(struct pool_lun *lun, const struct pext_res *res)
{
	struct pext_res	c = *res;
	uint64_t	b;
	int		rc;

	if ((rc = need_region(lun, PEXT_R_RES, 0, &b)) != 0)
		return rc;
	stamp(lun, b, &c.h);
	if ((rc = pext_res_encode(lun->iobuf, &c)) != 0) {
		log_warnx("pool: %s: reservation: %s", lun->label,
		    pext_strerror(rc));
		return rc;
	}
	return io_full(lun, 1, lun->iobuf, BS, b * BS);
}

/*
 * Read slot idx's header and, when it decodes, its data; *valid says
 * whether the data matches.  *datap (if not NULL) gets the aligned data
 * buffer of a valid slot.
 */
static int
cfg_slot_load(struct pool_lun *lun, int idx, struct pext_cfgslot *s,
    int *valid, uint8_t **datap)
{
	const struct pext_region	*r;
	struct pext_where		 w;
	uint8_t				*data = NULL;
	uint64_t			 nb;
	int				 rc;

	*valid = 0;
	if ((rc = need_region(lun, idx ? PEXT_R_CFG_B : PEXT_R_CFG_A, 0,
	    &nb)) != 0)
		return rc;
	r = region(lun, idx ? PEXT_R_CFG_B : PEXT_R_CFG_A);
	if ((rc = pool_blk_read(lun, r->start, lun->iobuf)) != 0)
		return rc;
	where(lun, r->start, &w);
	rc = pext_cfgslot_decode(lun->iobuf, &w, s);
	if (rc == 0 && (s->slot != (uint32_t)idx ||
	    s->length > (r->count - 1) * BS))
		rc = PEXT_E_FIELD;
	if (rc != 0) {
		if (rc != PEXT_E_EMPTY)
			log_warnx("pool: %s: config slot %c header: %s",
			    lun->label, 'A' + idx, pext_strerror(rc));
		return 0;
	}
	nb = (s->length + BS - 1) / BS;
	data = aligned_alloc_blocks(nb ? nb : 1);
	if (nb > 0 && (rc = io_full(lun, 0, data, nb * BS,
	    (r->start + 1) * BS)) != 0) {
		free(data);
		return rc;
	}
	if (pext_crc32c(0, data, s->length) != s->data_crc) {
		log_warnx("pool: %s: config slot %c (generation %llu): data "
		    "checksum mismatch", lun->label, 'A' + idx,
		    (unsigned long long)s->generation);
		free(data);
		return 0;
	}
	*valid = 1;
	if (datap != NULL)
		*datap = data;
	else
		free(data);
	return 0;
}

int
pool_cfg_write(struct pool_lun *lun, uint64_t gen, const void *data,
    size_t len)
{
	const struct pext_region	*r;
	struct pext_cfgslot		 s[2], n;
	uint8_t				*buf = NULL;
	uint64_t			 next, nb;
	int				 valid[2], ws, rc, i;

	for (i = 0; i < 2; i++)
		if ((rc = cfg_slot_load(lun, i, &s[i], &valid[i], NULL)) != 0)
			return rc;
	pext_cfg_pick(s, valid, &ws, &next);
	if (gen < next) {
		log_warnx("pool: %s: config generation %llu is not newer "
		    "than the replica's %llu", lun->label,
		    (unsigned long long)gen, (unsigned long long)next - 1);
		return EINVAL;
	}
	r = region(lun, ws ? PEXT_R_CFG_B : PEXT_R_CFG_A);
	if (len > (r->count - 1) * BS) {
		log_warnx("pool: %s: configuration of %zu bytes does not fit "
		    "a slot (%llu)", lun->label, len,
		    (unsigned long long)(r->count - 1) * BS);
		return EFBIG;
	}
	nb = (len + BS - 1) / BS;
	buf = aligned_alloc_blocks(nb ? nb : 1);
	memcpy(buf, data, len);
	/* Data first, then make it durable, then the header that commits
	 * it: a crash in between leaves an invalid slot, never a header
	 * that vouches for data that is not there. */
	if (nb > 0 && (rc = io_full(lun, 1, buf, nb * BS,
	    (r->start + 1) * BS)) != 0)
		goto out;
	if (fdatasync(lun->fd) == -1) {
		rc = errno;
		log_warn("pool: %s: fdatasync", lun->label);
		goto out;
	}
	memset(&n, 0, sizeof(n));
	stamp(lun, r->start, &n.h);
	n.slot = (uint32_t)ws;
	n.generation = gen;
	n.length = len;
	n.data_crc = pext_crc32c(0, data, len);
	if ((rc = pext_cfgslot_encode(lun->iobuf, &n)) != 0 ||
	    (rc = io_full(lun, 1, lun->iobuf, BS, r->start * BS)) != 0)
		goto out;
	if (fdatasync(lun->fd) == -1) {
		rc = errno;
		log_warn("pool: %s: fdatasync", lun->label);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
pool_cfg_read(struct pool_lun *lun, void **datap, size_t *lenp,
    uint64_t *genp)
{
	struct pext_cfgslot	 s[2];
	uint8_t			*d[2] = { NULL, NULL };
	int			 valid[2], ws, rd, rc, i;

	*datap = NULL;
	for (i = 0; i < 2; i++)
		if ((rc = cfg_slot_load(lun, i, &s[i], &valid[i], &d[i])) != 0)
			goto out;
	if ((rd = pext_cfg_pick(s, valid, &ws, NULL)) < 0) {
		rc = PEXT_E_EMPTY;
		goto out;
	}
	*datap = d[rd];
	d[rd] = NULL;
	*lenp = s[rd].length;
	if (genp != NULL)
		*genp = s[rd].generation;
	rc = 0;
out:
	free(d[0]);
	free(d[1]);
	return rc;
}

const char *
pool_strerror(int rc)
{
	if (rc <= 0)
		return pext_strerror(rc);
	return strerror(rc);
}

/* ---- PSO marker (issue 10) ---- */

/* The marker's block for slot, when this extent has it free. */
static int
psomark_block(struct pool_lun *lun, int slot, uint64_t *blocknop)
{
	uint64_t	b = PEXT_V1_PSOMARK_BLOCK + (uint64_t)slot;
	uint32_t	i;

	if (slot < 0 || slot > 1 || !lun->loaded)
		return EINVAL;
	if (b >= lun->sb.extent_blocks)
		return EINVAL;
	for (i = 0; i < lun->sb.nregions; i++)
		if (b >= lun->sb.regions[i].start &&
		    b < lun->sb.regions[i].start + lun->sb.regions[i].count) {
			log_warnx("pool: %s: block %llu belongs to region %u: "
			    "no PSO marker in this layout", lun->label,
			    (unsigned long long)b, lun->sb.regions[i].type);
			return EINVAL;
		}
	*blocknop = b;
	return 0;
}

int
pool_psomark_read(struct pool_lun *lun, int slot, struct pext_psomark *m)
{
	struct pext_where	w;
	uint64_t		b;
	int			rc;

	if ((rc = psomark_block(lun, slot, &b)) != 0 ||
	    (rc = pool_blk_read(lun, b, lun->iobuf)) != 0)
		return rc;
	where(lun, b, &w);
	if ((rc = pext_psomark_decode(lun->iobuf, &w, m)) != 0 &&
	    rc != PEXT_E_EMPTY)
		log_warnx("pool: %s: PSO marker %d: %s", lun->label, slot,
		    pext_strerror(rc));
	return rc;
}

int
pool_psomark_write(struct pool_lun *lun, int slot,
    const struct pext_psomark *m)
{
	struct pext_psomark	c = *m;
	uint64_t		b;
	int			rc;

	if ((rc = psomark_block(lun, slot, &b)) != 0)
		return rc;
	stamp(lun, b, &c.h);
	if ((rc = pext_psomark_encode(lun->iobuf, &c)) != 0) {
		log_warnx("pool: %s: PSO marker: %s", lun->label,
		    pext_strerror(rc));
		return rc;
	}
	if ((rc = io_full(lun, 1, lun->iobuf, BS, b * BS)) != 0)
		return rc;
	if (fdatasync(lun->fd) == -1) {
		rc = errno;
		log_warn("pool: %s: fdatasync", lun->label);
		return rc;
	}
	return 0;
}

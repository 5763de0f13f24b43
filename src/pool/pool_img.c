/*
 * pool_img.c — the software image store of one LUN (private extent
 * region 5; docs/boot-images.md, "Image store").
 *
 * The region, found in the super block's region table, is cut into two
 * halves, the two image slots: a header block (pext_imgslot) followed by
 * the image file's bytes.  A slot is valid when its header decodes, sits
 * where it says and the SHA-256 of its data equals the header's digest,
 * so a torn or corrupt copy is found by reading it, never trusted.
 * Writing follows pool_cfg_write(): into the slot that does not hold the
 * newest valid image, data first, made durable, then the header that
 * commits it; a crash at any point leaves the other slot's image intact.
 * The data goes out in large aligned transfers (IMG_CHUNK), with one
 * fdatasync for the data and one for the header, so an upload runs near
 * the device's streaming rate.  Which image to keep or prefer is the
 * caller's business (img_store.c, the configuration).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"
#include "pool/pool_int.h"

#define BS		PEXT_BLOCK_SIZE
#define IMG_CHUNK	(1024 * 1024)		/* bytes per transfer */

/* Where the two slots are: slot i's header block is start + i * half. */
struct img_geom {
	uint64_t	start;
	uint64_t	half;		/* blocks per slot, header included */
};

static int
img_geom(struct pool_lun *lun, struct img_geom *g)
{
	uint32_t	i;

	if (!lun->loaded) {
		log_warnx("pool: %s: private extent not loaded", lun->label);
		return EINVAL;
	}
	for (i = 0; i < lun->sb.nregions; i++) {
		const struct pext_region *r = &lun->sb.regions[i];

		if (r->type != PEXT_R_IMAGE)
			continue;
		/* a slot needs its header and at least one data block */
		if (r->count < 4)
			break;
		g->start = r->start;
		g->half = r->count / 2;
		return 0;
	}
	log_warnx("pool: %s: super block has no image store region",
	    lun->label);
	return EINVAL;
}

static uint64_t
slot_block(const struct img_geom *g, int slot)
{
	return g->start + (uint64_t)slot * g->half;
}

static uint64_t
slot_capacity(const struct img_geom *g)
{
	return (g->half - 1) * BS;
}

/* Read and decode slot's header: 0, PEXT_E_* (logged unless never
 * written) or errno. */
static int
hdr_load(struct pool_lun *lun, const struct img_geom *g, int slot,
    struct pext_imgslot *h)
{
	struct pext_where	w;
	uint64_t		b = slot_block(g, slot);
	int			rc;

	memset(h, 0, sizeof(*h));
	if ((rc = pool_blk_read(lun, b, lun->iobuf)) != 0)
		return rc;
	pool_hdr_where(lun, b, &w);
	rc = pext_imgslot_decode(lun->iobuf, &w, h);
	if (rc == 0 && (h->slot != (uint32_t)slot ||
	    h->length > slot_capacity(g)))
		rc = PEXT_E_FIELD;
	if (rc != 0 && rc != PEXT_E_EMPTY)
		log_warnx("pool: %s: image slot %d header: %s", lun->label,
		    slot, pext_strerror(rc));
	return rc;
}

/* One chunk read by a helper thread while the caller hashes the one
 * before: reading and hashing take about as long each, so overlapping
 * them nearly halves a check. */
struct rd_job {
	pthread_t	 tid;
	struct pool_lun	*lun;
	uint8_t		*p;
	uint64_t	 len;		/* whole blocks */
	uint64_t	 off;
	int		 rc;
};

static void *
rd_run(void *arg)
{
	struct rd_job	*j = arg;

	j->rc = pool_io_full(j->lun, 0, j->p, j->len, j->off);
	return NULL;
}

/* Start reading n bytes (the tail padded to a block) into p; without a
 * thread the read is done here. */
static void
rd_start(struct rd_job *j, struct pool_lun *lun, uint8_t *p, uint64_t n,
    uint64_t off, int *threaded)
{
	j->lun = lun;
	j->p = p;
	j->len = (n + BS - 1) / BS * BS;
	j->off = off;
	j->rc = 0;
	*threaded = pthread_create(&j->tid, NULL, rd_run, j) == 0;
	if (!*threaded)
		rd_run(j);
}

static int
rd_wait(struct rd_job *j, int threaded)
{
	if (threaded)
		pthread_join(j->tid, NULL);
	return j->rc;
}

/*
 * Read slot's data and check it against the header's digest.  With
 * datap, the whole image is returned in one aligned buffer (malloc'd);
 * without, it is streamed through two chunks.  0 valid, PEXT_E_CRC when
 * the data does not match (logged), errno.
 */
static int
data_check(struct pool_lun *lun, const struct img_geom *g,
    const struct pext_imgslot *h, int slot, uint8_t **datap)
{
	struct rd_job	 j;
	uint8_t		*buf, *p, md[SHA256_LEN];
	uint64_t	 off, nb, done, n, nn;
	void		*ctx;
	int		 rc = 0, th, k;

	nb = (h->length + BS - 1) / BS;
	off = (slot_block(g, slot) + 1) * BS;
	if (datap != NULL)
		buf = pool_blocks_alloc(nb);
	else
		buf = pool_blocks_alloc(2 * IMG_CHUNK / BS);
	if ((ctx = sha256_begin()) == NULL) {
		log_warnx("pool: %s: SHA-256 not available", lun->label);
		free(buf);
		return ENOSYS;
	}
	n = MIN((uint64_t)IMG_CHUNK, h->length);
	rd_start(&j, lun, buf, n, off, &th);
	for (done = 0, k = 0; done < h->length; done += n, n = nn, k++) {
		p = datap != NULL ? buf + done : buf + (k % 2) * IMG_CHUNK;
		if ((rc = rd_wait(&j, th)) != 0)
			break;
		/* the next chunk is read while this one is hashed */
		nn = MIN((uint64_t)IMG_CHUNK, h->length - done - n);
		if (nn > 0)
			rd_start(&j, lun, datap != NULL ? buf + done + n :
			    buf + ((k + 1) % 2) * IMG_CHUNK, nn,
			    off + done + n, &th);
		if (sha256_add(ctx, p, n) != 0) {
			rc = ENOSYS;
			if (nn > 0)
				rd_wait(&j, th);
			break;
		}
	}
	if (sha256_end(ctx, md) != 0 && rc == 0)
		rc = ENOSYS;
	if (rc == 0 && memcmp(md, h->digest, sizeof(md)) != 0) {
		log_warnx("pool: %s: image slot %d (version %s, seq %llu): "
		    "data does not match its SHA-256 (torn or corrupt)",
		    lun->label, slot, h->version, (unsigned long long)h->seq);
		rc = PEXT_E_CRC;
	}
	if (rc == 0 && datap != NULL)
		*datap = buf;
	else
		free(buf);
	return rc;
}

int
pool_img_list(struct pool_lun *lun, struct pext_imgslot hdr[2], int rc[2])
{
	struct img_geom	g;
	int		r, i;

	if ((r = img_geom(lun, &g)) != 0)
		return r;
	for (i = 0; i < 2; i++)
		rc[i] = hdr_load(lun, &g, i, &hdr[i]);
	return 0;
}

uint64_t
pool_img_capacity(struct pool_lun *lun)
{
	struct img_geom	g;

	if (img_geom(lun, &g) != 0)
		return 0;
	return slot_capacity(&g);
}

/* The slots in the order to try them: newest seq first (slot 0 on a
 * tie, as for the configuration). */
static void
by_seq(const struct pext_imgslot h[2], const int rc[2], int order[2])
{
	int	first = 0;

	if (rc[1] == 0 && (rc[0] != 0 || h[1].seq > h[0].seq))
		first = 1;
	order[0] = first;
	order[1] = !first;
}

int
pool_img_read(struct pool_lun *lun, const uint8_t *want, void **datap,
    size_t *lenp, struct pext_imgslot *hdr)
{
	struct pext_imgslot	 h[2];
	struct img_geom		 g;
	uint8_t			*data;
	int			 rc[2], order[2], r, i, s, ioerr = 0;

	*datap = NULL;
	if ((r = img_geom(lun, &g)) != 0)
		return r;
	for (i = 0; i < 2; i++)
		rc[i] = hdr_load(lun, &g, i, &h[i]);
	by_seq(h, rc, order);
	for (i = 0; i < 2; i++) {
		s = order[i];
		if (rc[s] != 0) {
			if (rc[s] > 0)
				ioerr = rc[s];
			continue;
		}
		if (want != NULL && memcmp(h[s].digest, want, SHA256_LEN) != 0)
			continue;
		if ((r = data_check(lun, &g, &h[s], s, &data)) != 0) {
			if (r > 0)
				ioerr = r;
			continue;
		}
		*datap = data;
		*lenp = (size_t)h[s].length;
		if (hdr != NULL)
			*hdr = h[s];
		return 0;
	}
	/* an unreadable slot may have held it: say so rather than "no" */
	return ioerr ? ioerr : PEXT_E_EMPTY;
}

/* Write the header block that commits slot's data, and make it stable. */
static int
hdr_commit(struct pool_lun *lun, const struct img_geom *g, int slot,
    uint64_t seq, uint64_t len, const uint8_t digest[SHA256_LEN],
    const char *version)
{
	struct pext_imgslot	n;
	int			r;

	memset(&n, 0, sizeof(n));
	pool_hdr_stamp(lun, slot_block(g, slot), &n.h);
	n.slot = (uint32_t)slot;
	n.seq = seq;
	n.length = len;
	memcpy(n.digest, digest, SHA256_LEN);
	memcpy(n.version, version, strlen(version));
	if ((r = pext_imgslot_encode(lun->iobuf, &n)) != 0) {
		log_warnx("pool: %s: image slot header: %s", lun->label,
		    pext_strerror(r));
		return r;
	}
	if ((r = pool_io_full(lun, 1, lun->iobuf, BS,
	    slot_block(g, slot) * BS)) != 0)
		return r;
	if (fdatasync(lun->fd) == -1) {
		r = errno;
		log_warn("pool: %s: fdatasync", lun->label);
		return r;
	}
	log_info("pool: %s: image %s (%llu bytes) in slot %d, seq %llu",
	    lun->label, version, (unsigned long long)len, slot,
	    (unsigned long long)seq);
	return 0;
}

int
pool_img_write(struct pool_lun *lun, const void *data, size_t len,
    const uint8_t digest[32], const char *version, const uint8_t *keep,
    void (*progress)(uint64_t done, void *arg), void *arg)
{
	struct pext_imgslot	 h[2];
	struct img_geom		 g;
	const uint8_t		*src = data;
	uint8_t			*buf = NULL;
	uint64_t		 off, done, chunk, seq = 0;
	int			 rc[2], order[2], valid[2] = { 0, 0 };
	int			 ws, r, i, s;

	if ((r = img_geom(lun, &g)) != 0)
		return r;
	if (len == 0 || version == NULL || strlen(version) == 0 ||
	    strlen(version) > PEXT_IMG_VERSION_MAX) {
		log_warnx("pool: %s: image write: empty image or bad version",
		    lun->label);
		return EINVAL;
	}
	if (len > slot_capacity(&g)) {
		log_warnx("pool: %s: image of %zu bytes does not fit an image "
		    "slot (%llu)", lun->label, len,
		    (unsigned long long)slot_capacity(&g));
		return EFBIG;
	}
	for (i = 0; i < 2; i++) {
		rc[i] = hdr_load(lun, &g, i, &h[i]);
		if (rc[i] > 0)
			return rc[i];
		if (rc[i] == 0 && h[i].seq > seq)
			seq = h[i].seq;
	}
	/* Already there and intact: nothing to write.  Newest first, so
	 * an image held twice is found in its newest slot. */
	by_seq(h, rc, order);
	for (s = 0; s < 2; s++) {
		i = order[s];
		if (rc[i] == 0 && h[i].length == len &&
		    memcmp(h[i].digest, digest, SHA256_LEN) == 0) {
			if ((r = data_check(lun, &g, &h[i], i, NULL)) > 0)
				return r;
			if (r == 0 && h[i].seq < seq) {
				/* the older copy: make it the newest (its
				 * header only) so the next write replaces the
				 * other image, not this one */
				r = hdr_commit(lun, &g, i, seq + 1, len,
				    digest, h[i].version);
				if (r == 0 && progress != NULL)
					progress(len, arg);
				return r;
			}
			if (r == 0) {
				log_debug("pool: %s: image %s already in slot "
				    "%d", lun->label, version, i);
				if (progress != NULL)
					progress(len, arg);
				return 0;
			}
			valid[i] = -1;		/* checked: corrupt */
		}
	}
	/* The image to keep stays when a valid slot holds it: the
	 * preferred image, which this one's commit makes the previous (a
	 * rollback makes the older slot preferred without a write, so the
	 * newest by seq need not be it). */
	ws = -1;
	for (i = 0; keep != NULL && i < 2; i++) {
		if (rc[i] != 0 || valid[i] < 0 ||
		    memcmp(h[i].digest, keep, SHA256_LEN) != 0)
			continue;
		if ((r = data_check(lun, &g, &h[i], i, NULL)) > 0)
			return r;
		if (r == 0) {
			ws = !i;
			break;
		}
		valid[i] = -1;
	}
	/* Else the newest valid image stays: only the newest by seq has to
	 * be read to know, the other when the newest is not valid. */
	for (i = 0; ws < 0 && i < 2; i++) {
		s = order[i];
		if (rc[s] != 0 || valid[s] < 0)
			continue;
		if ((r = data_check(lun, &g, &h[s], s, NULL)) > 0)
			return r;
		if (r == 0) {
			ws = !s;
			break;
		}
	}
	if (ws < 0)
		ws = 0;		/* no valid image: slot 0 */

	/* Data first, in large aligned transfers; the tail block is
	 * padded with zeroes. */
	buf = pool_blocks_alloc(IMG_CHUNK / BS);
	off = (slot_block(&g, ws) + 1) * BS;
	for (done = 0; done < len; done += chunk) {
		chunk = MIN((uint64_t)IMG_CHUNK, len - done);
		memcpy(buf, src + done, chunk);
		if (chunk % BS != 0)
			memset(buf + chunk, 0, BS - chunk % BS);
		if ((r = pool_io_full(lun, 1, buf, (chunk + BS - 1) / BS * BS,
		    off + done)) != 0)
			goto out;
		if (progress != NULL)
			progress(done + chunk, arg);
	}
	/* O_DIRECT bypasses the page cache, not the device's write cache:
	 * the data must be stable before a header vouches for it. */
	if (fdatasync(lun->fd) == -1) {
		r = errno;
		log_warn("pool: %s: fdatasync", lun->label);
		goto out;
	}
	r = hdr_commit(lun, &g, ws, seq + 1, len, digest, version);
out:
	free(buf);
	return r;
}

/*
 * pool_fmt.c — formatting, loading and repairing a LUN's private extent
 * (docs/private-extent.md, "Formatting", "Damage and repair",
 * "Reservation generations").
 *
 * The decisions are pext.c's: pext_judge() says whether an extent is
 * empty, intact, damaged or somebody else's, pext_res_next_gen() gives
 * the next fencing generation.  This file reads every control block,
 * applies those decisions and writes the repairs it owns: a super block
 * copy from the other copy, from the copy a running head loaded, or from
 * the layout.  Only an entirely empty extent is formatted unless the
 * caller forces it, and a format never lowers the reservation
 * generation.  Heartbeat and reservation blocks are not repaired here:
 * their writers (src/ha/ha_disk.c) rewrite them from what they know.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"
#include "pool/pool_int.h"

#define BS	PEXT_BLOCK_SIZE

/* Decodes, but names another pool, LUN or layout version. */
static int
not_ours(int rc)
{
	return rc == PEXT_E_POOL || rc == PEXT_E_LUN || rc == PEXT_E_VERSION;
}

/* A heartbeat block whose generation record covers its head's writes:
 * decoded, and either never used or written by code that keeps one. */
static int
hb_record_ok(int rc, const struct pext_hb *hb)
{
	return rc == 0 && (hb->node_id == 0 || hb->res_gen != 0);
}

/* Log a damage line and keep it for `duonas status` (lun->damage). */
static void __attribute__((format(printf, 2, 3)))
note(struct pool_lun *lun, const char *fmt, ...)
{
	char	line[256];
	size_t	n = strlen(lun->damage);
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warnx("pool: %s: %s", lun->label, line);
	if (strstr(lun->damage, line) != NULL)
		return;
	snprintf(lun->damage + n, sizeof(lun->damage) - n, "%s%s",
	    n ? "; " : "", line);
}

int
pool_lun_scan(struct pool_lun *lun, struct pool_scan *sc)
{
	struct pext_where	w;
	struct pext_cfgslot	cs;
	struct pext_psomark	pm;
	uint8_t			blk[BS];
	uint32_t		b;
	int			i, rc;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < PEXT_CB_COUNT; i++) {
		b = pext_cb_blockno(i);
		if ((rc = pool_blk_read(lun, b, blk)) != 0)
			return rc;
		pool_hdr_where(lun, b, &w);
		switch (i) {
		case PEXT_CB_SUPER:
		case PEXT_CB_BACKUP:
			sc->rc[i] = pext_super_decode(blk, &w,
			    &sc->sb[i == PEXT_CB_BACKUP]);
			break;
		case PEXT_CB_HB0:
		case PEXT_CB_HB1:
			sc->rc[i] = pext_hb_decode(blk, &w,
			    &sc->hb[i - PEXT_CB_HB0]);
			break;
		case PEXT_CB_RES:
			sc->rc[i] = pext_res_decode(blk, &w, &sc->res);
			break;
		case PEXT_CB_PSO0:
		case PEXT_CB_PSO1:
			sc->rc[i] = pext_psomark_decode(blk, &w, &pm);
			break;
		default:
			sc->rc[i] = pext_cfgslot_decode(blk, &w, &cs);
			if (sc->rc[i] == 0 && cs.slot != (uint32_t)(i ==
			    PEXT_CB_CFG_B))
				sc->rc[i] = PEXT_E_FIELD;
			break;
		}
	}
	pext_judge(sc->rc, &sc->j);
	return 0;
}

/* The bytes copy (0 super, 1 backup) of sb must hold. */
static int
super_bytes(const struct pext_super *sb, int backup, uint8_t *blk)
{
	struct pext_super c = *sb;

	c.h.blockno = backup ? PEXT_V1_SB_BACKUP : 0;
	return pext_super_encode(blk, &c);
}

static int
super_write(struct pool_lun *lun, const struct pext_super *sb, int backup)
{
	uint8_t	blk[BS];
	int	rc;

	if ((rc = super_bytes(sb, backup, blk)) != 0)
		return rc;
	return pool_blk_write(lun, backup ? PEXT_V1_SB_BACKUP : 0, blk);
}

static int
sync_lun(struct pool_lun *lun)
{
	if (fdatasync(lun->fd) == -1) {
		log_warn("pool: %s: fdatasync", lun->label);
		return errno;
	}
	return 0;
}

/* Same super block, wherever each copy sits? */
static int
super_same(const struct pext_super *a, const struct pext_super *b)
{
	uint8_t	x[BS], y[BS];

	return super_bytes(a, 0, x) == 0 && super_bytes(b, 0, y) == 0 &&
	    memcmp(x, y, BS) == 0;
}

/* Report every damaged block of a scan and what is done about it. */
static void
report(struct pool_lun *lun, const struct pool_scan *sc, int ro)
{
	static const char *const fix[PEXT_CB_COUNT] = {
		NULL, NULL,
		"its head rewrites it on its next beat",
		"its head rewrites it on its next beat",
		"rebuilt by the HA controller above every recorded generation",
		"the next configuration commit rewrites it (slot B is intact)",
		"the next configuration commit rewrites it (slot A is intact)",
		"its head's PSO code writes it again",
		"its head's PSO code writes it again",
	};
	const char	*what;

	for (int i = 0; i < PEXT_CB_COUNT; i++) {
		if (!(sc->j.damaged & (1u << i)))
			continue;
		if (i == PEXT_CB_SUPER)
			what = ro ? "not repaired (read-only check)" :
			    sc->j.super_from == PEXT_CB_BACKUP ? "restored "
			    "from the backup super block (block 4095)" :
			    "rebuilt from the layout (both copies lost)";
		else if (i == PEXT_CB_BACKUP) {
			if (sc->rc[i] == PEXT_E_EMPTY && sc->j.super_from ==
			    PEXT_CB_SUPER) {
				/* formatted before backups existed */
				log_info("pool: %s: no backup super block yet "
				    "(block %u): %s", lun->label,
				    PEXT_V1_SB_BACKUP, ro ? "not written "
				    "(read-only check)" : "written now");
				continue;
			}
			what = ro ? "not repaired (read-only check)" :
			    sc->j.super_from == PEXT_CB_SUPER ? "rewritten "
			    "from the super block" : "rebuilt from the layout";
		} else
			what = fix[i];
		note(lun, "block %u (%s): %s: %s", pext_cb_blockno(i),
		    pext_cb_name(i), pext_strerror(sc->rc[i]), what);
	}
}

/* The slow path of load: judge the whole extent, repair the super
 * block copies, return the super block to use in *sb. */
static int
load_damaged(struct pool_lun *lun, struct pext_super *sb)
{
	struct pool_scan	*sc = xcalloc(1, sizeof(*sc));
	int			 ro = lun->pool_id == 0, rc, bad = 0;

	if ((rc = pool_lun_scan(lun, sc)) != 0)
		goto out;
	switch (sc->j.verdict) {
	case PEXT_J_EMPTY:
		rc = PEXT_E_EMPTY;
		goto out;
	case PEXT_J_FOREIGN:
		rc = not_ours(sc->rc[PEXT_CB_SUPER]) ? sc->rc[PEXT_CB_SUPER] :
		    not_ours(sc->rc[PEXT_CB_BACKUP]) ?
		    sc->rc[PEXT_CB_BACKUP] : PEXT_E_POOL;
		log_warnx("pool: %s: super block: %s: not touching it",
		    lun->label, pext_strerror(rc));
		goto out;
	case PEXT_J_UNKNOWN:
		log_warnx("pool: %s: no valid super block (block 0: %s; "
		    "block %u: %s) and the private extent is not empty: not "
		    "touching it", lun->label,
		    pext_strerror(sc->rc[PEXT_CB_SUPER]), PEXT_V1_SB_BACKUP,
		    pext_strerror(sc->rc[PEXT_CB_BACKUP]));
		rc = PEXT_E_NOSUPER;
		goto out;
	}
	if (sc->j.super_from == PEXT_CB_SUPER) {
		*sb = sc->sb[0];
		/* both decode but differ (an older format's backup) */
		if (sc->rc[PEXT_CB_BACKUP] == 0 && !super_same(&sc->sb[0],
		    &sc->sb[1])) {
			sc->j.damaged |= 1u << PEXT_CB_BACKUP;
			sc->rc[PEXT_CB_BACKUP] = PEXT_E_FIELD;
		}
	} else if (sc->j.super_from == PEXT_CB_BACKUP) {
		*sb = sc->sb[1];
		sb->h.blockno = 0;
	} else if (ro) {
		rc = PEXT_E_NOSUPER;
		goto out;
	} else {
		/* another control block proves the extent ours */
		pext_super_init(sb, lun->pool_id, lun->lun_id, "", "");
		sb->format_id = random_u64();
		sb->h.time_ms = wall_ms();
	}
	report(lun, sc, ro);
	if (!ro && (sc->j.damaged & (1u << PEXT_CB_SUPER))) {
		if ((rc = super_write(lun, sb, 0)) != 0)
			goto out;
		bad = 1;
	}
	if (!ro && (sc->j.damaged & (1u << PEXT_CB_BACKUP))) {
		if ((rc = super_write(lun, sb, 1)) != 0)
			goto out;
		bad = 1;
	}
	rc = bad ? sync_lun(lun) : 0;
out:
	free(sc);
	return rc;
}

int
pool_lun_load(struct pool_lun *lun)
{
	struct pext_super	sb[2];
	struct pext_where	w;
	uint8_t			blk[BS];
	int			rc[2], i;

	lun->loaded = 0;
	for (i = 0; i < 2; i++) {
		uint64_t b = i ? PEXT_V1_SB_BACKUP : 0;

		if ((rc[i] = pool_blk_read(lun, b, blk)) != 0)
			return rc[i];
		pool_hdr_where(lun, b, &w);
		rc[i] = pext_super_decode(blk, &w, &sb[i]);
	}
	/* The common case: two intact, equal copies. */
	if (rc[0] != 0 || rc[1] != 0 || !super_same(&sb[0], &sb[1])) {
		if ((rc[0] = load_damaged(lun, &sb[0])) != 0)
			return rc[0];
	}
	if (lun->size < sb[0].extent_blocks * BS) {
		log_warnx("pool: %s: LUN (%llu bytes) is smaller than its "
		    "private extent", lun->label,
		    (unsigned long long)lun->size);
		return PEXT_E_FIELD;
	}
	lun->sb = sb[0];
	lun->loaded = 1;
	return 0;
}

int
pool_super_check(struct pool_lun *lun)
{
	struct pext_super	sb;
	struct pext_where	w;
	uint8_t			want[BS], got[BS];
	int			i, rc, n = 0;

	if (!lun->loaded)
		return EINVAL;
	for (i = 0; i < 2; i++) {
		uint64_t b = i ? PEXT_V1_SB_BACKUP : 0;

		if ((rc = pool_blk_read(lun, b, got)) != 0)
			return rc;
		if ((rc = super_bytes(&lun->sb, i, want)) != 0)
			return EINVAL;
		if (memcmp(got, want, BS) == 0)
			continue;
		pool_hdr_where(lun, b, &w);
		rc = pext_super_decode(got, &w, &sb);
		if (rc == 0 && super_same(&sb, &lun->sb))
			continue;
		if (rc == 0 || not_ours(rc)) {
			/* a valid block that is not the one we loaded:
			 * somebody formatted the LUN; never fight that */
			if (strstr(lun->damage, "changed under this head") ==
			    NULL)
				note(lun, "block %llu (%s) changed under this "
				    "head (%s): left alone",
				    (unsigned long long)b, pext_cb_name(i),
				    rc ? pext_strerror(rc) : "another format");
			continue;
		}
		if (lun->pool_id == 0)
			continue;
		note(lun, "block %llu (%s): %s: rewritten from the copy "
		    "loaded at open", (unsigned long long)b, pext_cb_name(i),
		    pext_strerror(rc));
		if ((rc = pool_blk_write(lun, b, want)) != 0)
			return rc;
		n++;
	}
	if (n > 0 && (rc = sync_lun(lun)) != 0)
		return rc;
	return n;
}

/* The generation a forced format gives the new reservation. */
static uint64_t
format_gen(const struct pool_scan *sc)
{
	uint64_t	seen[2];
	int		n = 0, complete = 1;

	if (sc->j.verdict == PEXT_J_EMPTY)
		return 1;
	for (int i = 0; i < 2; i++) {
		if (sc->rc[PEXT_CB_HB0 + i] == 0)
			seen[n++] = sc->hb[i].res_gen;
		if (!hb_record_ok(sc->rc[PEXT_CB_HB0 + i], &sc->hb[i]))
			complete = 0;
	}
	return pext_res_next_gen(sc->rc[PEXT_CB_RES] == 0,
	    sc->res.generation, seen, n, complete, wall_ms());
}

int
pool_lun_format(struct pool_lun *lun, const char *cluster,
    const char *lun_name, int force)
{
	struct pool_scan	*sc = xcalloc(1, sizeof(*sc));
	struct pext_super	 sb;
	struct pext_hb		 hb;
	struct pext_res		 res;
	uint8_t			*blk = NULL, *zero = NULL;
	uint64_t		 b, chunk, gen;
	int			 rc, i, cb;

	if (lun->size < (uint64_t)PEXT_V1_EXTENT_BLOCKS * BS) {
		log_warnx("pool: %s: LUN is %llu bytes, the private extent "
		    "alone needs %u", lun->label,
		    (unsigned long long)lun->size, PEXT_V1_EXTENT_BLOCKS * BS);
		rc = ENOSPC;
		goto out;
	}
	if ((rc = pool_lun_scan(lun, sc)) != 0)
		goto out;
	if (sc->j.verdict != PEXT_J_EMPTY && !force) {
		for (cb = 0; cb < PEXT_CB_COUNT - 1; cb++)
			if (sc->rc[cb] != PEXT_E_EMPTY)
				break;
		log_warnx("pool: %s: not formatting: the private extent is "
		    "not empty (block %u, %s: %s)%s", lun->label,
		    pext_cb_blockno(cb), pext_cb_name(cb),
		    sc->rc[cb] ? pext_strerror(sc->rc[cb]) : "valid",
		    sc->j.verdict == PEXT_J_OK || sc->j.verdict ==
		    PEXT_J_DAMAGED ? "; a damaged extent is repaired, never "
		    "re-formatted" : "; only a forced format touches it");
		rc = EEXIST;
		goto out;
	}
	gen = format_gen(sc);
	if (sc->j.verdict != PEXT_J_EMPTY)
		log_warnx("pool: %s: forced format over a private extent that "
		    "is not empty; the reservation continues at generation "
		    "%llu", lun->label, (unsigned long long)gen);
	lun->loaded = 0;
	blk = pool_blocks_alloc(1);
	/* Zero everything but the image store's data (48 MiB): zeroing
	 * the header blocks of its two slots empties the store. */
	chunk = 256;
	zero = pool_blocks_alloc(chunk);
	for (b = 0; b < PEXT_V1_IMG_START + 1; b += chunk) {
		uint64_t n = MIN(chunk, PEXT_V1_IMG_START + 1 - b);

		if ((rc = pool_io_full(lun, 1, zero, n * BS, b * BS)) != 0)
			goto out;
	}
	if ((rc = pool_io_full(lun, 1, zero, BS, (PEXT_V1_IMG_START +
	    PEXT_V1_IMG_BLOCKS / 2) * BS)) != 0)
		goto out;

	pext_super_init(&sb, lun->pool_id, lun->lun_id, cluster, lun_name);
	pool_hdr_stamp(lun, 0, &sb.h);
	sb.h.writer = 0;
	sb.format_id = random_u64();

	/* The heartbeat blocks carry the formatter's generation record. */
	for (i = 0; i < 2; i++) {
		memset(&hb, 0, sizeof(hb));
		b = PEXT_V1_HB_BLOCK + (uint64_t)i;
		pool_hdr_stamp(lun, b, &hb.h);
		hb.h.writer = 0;
		hb.res_gen = gen;
		if ((rc = pext_hb_encode(blk, &hb)) != 0 ||
		    (rc = pool_blk_write(lun, b, blk)) != 0)
			goto out;
	}
	memset(&res, 0, sizeof(res));
	res.generation = gen;
	pool_hdr_stamp(lun, PEXT_V1_RES_BLOCK, &res.h);
	res.h.writer = 0;
	if ((rc = pext_res_encode(blk, &res)) != 0 ||
	    (rc = pool_blk_write(lun, PEXT_V1_RES_BLOCK, blk)) != 0 ||
	    (rc = super_write(lun, &sb, 1)) != 0 ||
	    (rc = sync_lun(lun)) != 0)
		goto out;
	/* The super block last: a LUN is formatted only once all the rest
	 * is on disk (a crash before leaves the backup, which the next load
	 * copies to block 0: the rest is already there). */
	if ((rc = super_write(lun, &sb, 0)) != 0 || (rc = sync_lun(lun)) != 0)
		goto out;
	lun->sb = sb;
	lun->loaded = 1;
	log_info("pool: %s: formatted LUN %u (%s) of cluster %s", lun->label,
	    lun->lun_id, sb.lun_name, sb.cluster);
	rc = 0;
out:
	free(sc);
	free(blk);
	free(zero);
	return rc;
}

int
pool_res_gen_next(struct pool_lun *lun, uint64_t known, int known_complete,
    uint64_t *next)
{
	struct pext_where	w;
	struct pext_res		r;
	struct pext_hb		hb;
	uint8_t			blk[BS];
	uint64_t		seen[3];
	int			n = 0, complete = known_complete, res_ok, rc;

	seen[n++] = known;
	if ((rc = pool_blk_read(lun, PEXT_V1_RES_BLOCK, blk)) != 0)
		return rc;
	pool_hdr_where(lun, PEXT_V1_RES_BLOCK, &w);
	res_ok = pext_res_decode(blk, &w, &r) == 0;
	for (int i = 0; i < 2; i++) {
		uint64_t b = PEXT_V1_HB_BLOCK + (uint64_t)i;

		if ((rc = pool_blk_read(lun, b, blk)) != 0)
			return rc;
		pool_hdr_where(lun, b, &w);
		rc = pext_hb_decode(blk, &w, &hb);
		if (rc == 0)
			seen[n++] = hb.res_gen;
		if (!hb_record_ok(rc, &hb))
			complete = 0;
	}
	*next = pext_res_next_gen(res_ok, r.generation, seen, n, complete,
	    wall_ms());
	return 0;
}

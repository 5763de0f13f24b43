/*
 * test_pool_img.c — the software image store (docs/boot-images.md,
 * "Image store") on sparse LUN files formatted with pool_lun_format:
 * pool_img_* on one LUN (round trip, slot alternation, the same image
 * twice, a corrupt newest copy, a torn write, the size limit, a full
 * slot, tmpfs without O_DIRECT) and img_store_* over a configuration's LUNs (put skipping a LUN
 * that does not open, get skipping a corrupt copy, list).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "pool/img_store.h"
#include "pool/pool.h"
#include "t.h"

#define BS		PEXT_BLOCK_SIZE
#define CLUSTER		"imgtest"
#define SLOT1		(PEXT_V1_IMG_START + PEXT_V1_IMG_BLOCKS / 2)

static char	dir[] = "/tmp/duonas-t-pimg.XXXXXX";

struct img {
	uint8_t	*data;
	size_t	 len;
	uint8_t	 md[32];
	char	 version[32];
};

static void
img_make(struct img *im, size_t len, unsigned seed, const char *version)
{
	size_t	i;

	im->data = malloc(len);
	if (im->data == NULL)
		abort();
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		im->data[i] = (uint8_t)(seed >> 16);
	}
	im->len = len;
	sha256(im->data, len, im->md);
	snprintf(im->version, sizeof(im->version), "%s", version);
}

static void
lun_file(const char *path, uint32_t lun_id, const char *name, int format)
{
	struct pool_lun	lun;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || ftruncate(fd, (off_t)PEXT_V1_EXTENT_BLOCKS * BS +
	    1024 * 1024) == -1) {
		perror(path);
		exit(1);
	}
	close(fd);
	if (!format)
		return;
	if (pool_lun_open(&lun, path, pext_pool_id(CLUSTER), lun_id, 1) != 0 ||
	    pool_lun_format(&lun, CLUSTER, name, 0) != 0) {
		fprintf(stderr, "format %s failed\n", path);
		exit(1);
	}
	pool_lun_close(&lun);
}

/* Bytes written at a byte offset behind the pool's back (a plain fd,
 * synced before the pool's direct reads look). */
static void
poke(const char *path, uint64_t off, const void *p, size_t n)
{
	int	fd = open(path, O_RDWR);

	if (fd == -1 || pwrite(fd, p, n, (off_t)off) != (ssize_t)n ||
	    fsync(fd) == -1) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static void
flip(const char *path, uint64_t off)
{
	uint8_t	b;
	int	fd = open(path, O_RDWR);

	if (fd == -1 || pread(fd, &b, 1, (off_t)off) != 1) {
		perror(path);
		exit(1);
	}
	close(fd);
	b ^= 0x40;
	poke(path, off, &b, 1);
}

static int
img_is(struct pool_lun *lun, const struct img *want, const uint8_t *by,
    uint64_t *seqp, uint32_t *slotp)
{
	struct pext_imgslot	 h;
	void			*d = NULL;
	size_t			 len = 0;
	int			 rc, ok;

	if ((rc = pool_img_read(lun, by, &d, &len, &h)) != 0)
		return rc;
	ok = len == want->len && memcmp(d, want->data, len) == 0 &&
	    memcmp(h.digest, want->md, 32) == 0 &&
	    strcmp(h.version, want->version) == 0;
	if (seqp != NULL)
		*seqp = h.seq;
	if (slotp != NULL)
		*slotp = h.slot;
	free(d);
	return ok ? 0 : 1000;
}

static uint64_t	last_done;
static int	ncalls;

static void
prog1(uint64_t done, void *arg)
{
	(void)arg;
	last_done = done;
	ncalls++;
}

static void
test_one(void)
{
	struct pool_lun		lun;
	struct pext_imgslot	h[2];
	struct img		a, b, c, d, e, f, big;
	char			path[300];
	uint64_t		cap, seq;
	uint32_t		slot;
	int			rc[2];

	snprintf(path, sizeof(path), "%s/one", dir);
	lun_file(path, 1, "one", 1);
	T_EQ(pool_lun_open(&lun, path, pext_pool_id(CLUSTER), 1, 1), 0,
	    "open");
	T_EQ(pool_img_list(&lun, h, rc), EINVAL, "list before load: EINVAL");
	T_EQ(pool_img_capacity(&lun), 0, "capacity before load: 0");
	T_EQ(pool_lun_load(&lun), 0, "load");
	cap = pool_img_capacity(&lun);
	T_EQ(cap, (uint64_t)(PEXT_V1_IMG_BLOCKS / 2 - 1) * BS,
	    "capacity: half of region 5 less the header block");
	T_EQ(pool_img_list(&lun, h, rc), 0, "list");
	T_OK(rc[0] == PEXT_E_EMPTY && rc[1] == PEXT_E_EMPTY,
	    "a fresh format: both slots empty (%d %d)", rc[0], rc[1]);

	img_make(&a, 3 * 1024 * 1024 + 123, 1, "0.1.0");
	img_make(&b, 5000, 2, "0.2.0");
	img_make(&c, 2 * 1024 * 1024, 3, "0.3.0-rc1");
	img_make(&d, 777, 4, "0.4.0");
	img_make(&e, 4096 * 3, 5, "0.5.0");
	img_make(&f, 1024 * 1024 + 1, 6, "0.6.0");

	ncalls = 0;
	T_EQ(pool_img_write(&lun, a.data, a.len, a.md, a.version, NULL, prog1,
	    NULL), 0, "write A");
	T_OK(ncalls == 4 && last_done == a.len, "progress per MiB chunk "
	    "(%d calls, last %llu)", ncalls, (unsigned long long)last_done);
	T_EQ(img_is(&lun, &a, NULL, &seq, &slot), 0, "newest is A");
	T_OK(seq == 1 && slot == 0, "A: seq 1 in slot 0");
	T_EQ(img_is(&lun, &a, a.md, NULL, NULL), 0, "A by digest");
	T_EQ(img_is(&lun, &b, b.md, NULL, NULL), PEXT_E_EMPTY,
	    "B by digest: not there");

	/* alternation: the third write replaces the oldest */
	T_EQ(pool_img_write(&lun, b.data, b.len, b.md, b.version, NULL, NULL,
	    NULL), 0, "write B");
	T_EQ(img_is(&lun, &b, NULL, &seq, &slot), 0, "newest is B");
	T_OK(seq == 2 && slot == 1, "B: seq 2 in slot 1");
	T_EQ(img_is(&lun, &a, a.md, NULL, NULL), 0, "A still there");
	T_EQ(pool_img_write(&lun, c.data, c.len, c.md, c.version, NULL, NULL,
	    NULL), 0, "write C");
	T_EQ(img_is(&lun, &c, NULL, &seq, &slot), 0, "newest is C");
	T_OK(seq == 3 && slot == 0, "C: seq 3 in slot 0 (replaced A)");
	T_EQ(img_is(&lun, &a, a.md, NULL, NULL), PEXT_E_EMPTY, "A is gone");
	T_EQ(img_is(&lun, &b, b.md, NULL, NULL), 0, "B stays");

	/* the same image again: nothing written */
	ncalls = 0;
	T_EQ(pool_img_write(&lun, c.data, c.len, c.md, c.version, NULL, prog1,
	    NULL), 0, "write C again");
	T_OK(ncalls == 1 && last_done == c.len, "progress says done");
	T_EQ(pool_img_list(&lun, h, rc), 0, "list");
	T_OK(rc[0] == 0 && rc[1] == 0 && h[0].seq == 3 && h[1].seq == 2,
	    "nothing written: seqs still 3 and 2 (%llu %llu)",
	    (unsigned long long)h[0].seq, (unsigned long long)h[1].seq);
	T_OK(strcmp(h[0].version, "0.3.0-rc1") == 0 && h[0].length == c.len &&
	    memcmp(h[1].digest, b.md, 32) == 0, "list shows both headers");

	/* the older image again (a rollback): it becomes the newest, so
	 * the next write replaces the other one */
	T_EQ(pool_img_write(&lun, b.data, b.len, b.md, b.version, NULL, NULL,
	    NULL), 0, "write B (the older) again");
	T_EQ(img_is(&lun, &b, NULL, &seq, &slot), 0, "newest is B");
	T_OK(seq == 4 && slot == 1, "B: seq 4, still in slot 1");
	T_EQ(pool_img_write(&lun, d.data, d.len, d.md, d.version, NULL, NULL,
	    NULL), 0, "write D");
	T_EQ(img_is(&lun, &d, NULL, &seq, &slot), 0, "newest is D");
	T_OK(seq == 5 && slot == 0, "D: seq 5 in slot 0 (replaced C)");
	T_EQ(img_is(&lun, &b, b.md, NULL, NULL), 0, "B stays");

	/* a corrupt data byte of the newest: it is not valid any more,
	 * the other one is the newest valid, and the next write replaces
	 * the corrupt one */
	flip(path, (uint64_t)(PEXT_V1_IMG_START + 1) * BS + 500);
	T_EQ(img_is(&lun, &d, d.md, NULL, NULL), PEXT_E_EMPTY,
	    "corrupt D by digest: PEXT_E_EMPTY");
	T_EQ(img_is(&lun, &b, NULL, NULL, &slot), 0,
	    "newest valid falls back to B");
	T_EQ(pool_img_write(&lun, d.data, d.len, d.md, d.version, NULL, NULL,
	    NULL), 0, "write D again over its corrupt copy");
	T_EQ(img_is(&lun, &d, NULL, &seq, &slot), 0, "newest is D");
	T_OK(seq == 6 && slot == 0, "D: seq 6 in slot 0 (not over B)");
	T_EQ(img_is(&lun, &b, b.md, NULL, NULL), 0, "B stays");

	/* a torn write: E's data lands in slot 1 (the one the write
	 * goes to), the header never does */
	poke(path, (uint64_t)(SLOT1 + 1) * BS, e.data, e.len);
	T_EQ(img_is(&lun, &d, NULL, NULL, &slot), 0,
	    "after a torn write the newest image D is intact");
	T_EQ(img_is(&lun, &b, b.md, NULL, NULL), PEXT_E_EMPTY,
	    "the slot torn (B) is not valid");
	T_EQ(img_is(&lun, &e, e.md, NULL, NULL), PEXT_E_EMPTY,
	    "the torn E is not there");
	T_EQ(pool_img_write(&lun, e.data, e.len, e.md, e.version, NULL, NULL,
	    NULL), 0, "write E");
	T_EQ(img_is(&lun, &e, NULL, &seq, &slot), 0, "newest is E");
	T_OK(seq == 7 && slot == 1, "E: seq 7 in slot 1");
	T_EQ(img_is(&lun, &d, d.md, NULL, NULL), 0, "D stays");

	/* a torn header (half new, half old) of the newest */
	poke(path, (uint64_t)SLOT1 * BS + 2048, "\xff\xff", 2);
	T_EQ(pool_img_list(&lun, h, rc), 0, "list");
	T_EQ(rc[1], PEXT_E_CRC, "torn header of slot 1: PEXT_E_CRC");
	T_EQ(img_is(&lun, &d, NULL, NULL, &slot), 0, "newest valid is D");
	T_EQ(pool_img_write(&lun, f.data, f.len, f.md, f.version, NULL, NULL,
	    NULL), 0, "write F");
	T_EQ(img_is(&lun, &f, NULL, &seq, &slot), 0, "newest is F");
	T_OK(seq == 7 && slot == 1, "F: seq 7 (above D's 6) in slot 1");
	T_EQ(img_is(&lun, &d, d.md, NULL, NULL), 0, "D stays");

	/* size limit */
	img_make(&big, cap + 1, 7, "9.9.9");
	T_EQ(pool_img_write(&lun, big.data, big.len, big.md, big.version,
	    NULL, NULL, NULL), EFBIG, "one byte more than a slot: EFBIG");
	T_EQ(pool_img_write(&lun, a.data, a.len, a.md, "", NULL, NULL, NULL),
	    EINVAL, "empty version: EINVAL");
	T_EQ(img_is(&lun, &f, NULL, NULL, NULL), 0, "F still newest");
	big.len = cap;
	sha256(big.data, big.len, big.md);
	T_EQ(pool_img_write(&lun, big.data, big.len, big.md, big.version,
	    NULL, NULL, NULL), 0, "a full slot");
	T_EQ(img_is(&lun, &big, NULL, &seq, &slot), 0, "the full slot reads");
	T_OK(slot == 0, "in slot 0 (replaced D)");
	T_EQ(img_is(&lun, &f, f.md, NULL, NULL), 0, "F stays");

	/* a rollback made F (the older slot) preferred without a write:
	 * the next upload keeps F and replaces the newest (found by the
	 * chaos campaign: the rollback's image was overwritten, and the
	 * next rollback named an image no store held) */
	T_EQ(pool_img_write(&lun, e.data, e.len, e.md, e.version, f.md, NULL,
	    NULL), 0, "write E keeping F (preferred after a rollback)");
	T_EQ(img_is(&lun, &e, NULL, &seq, &slot), 0, "newest is E");
	T_OK(seq == 9 && slot == 0, "E: seq 9 in slot 0 (replaced the "
	    "newest, not F): seq %llu slot %u", (unsigned long long)seq,
	    slot);
	T_EQ(img_is(&lun, &f, f.md, NULL, NULL), 0, "F (kept) stays");
	/* keep names an image no slot holds: the newest valid stays */
	T_EQ(pool_img_write(&lun, d.data, d.len, d.md, d.version, a.md, NULL,
	    NULL), 0, "write D, keep held by no slot");
	T_EQ(img_is(&lun, &d, NULL, &seq, &slot), 0, "newest is D");
	T_OK(seq == 10 && slot == 1, "D: seq 10 in slot 1 (replaced F)");
	T_EQ(img_is(&lun, &e, e.md, NULL, NULL), 0, "E (the newest) stays");
	/* keep's slot is corrupt: not valid, the newest valid stays */
	flip(path, (uint64_t)(PEXT_V1_IMG_START + 1) * BS + 100);
	T_EQ(img_is(&lun, &e, e.md, NULL, NULL), PEXT_E_EMPTY,
	    "E (slot 0) corrupted");
	T_EQ(pool_img_write(&lun, b.data, b.len, b.md, b.version, e.md, NULL,
	    NULL), 0, "write B keeping the corrupt E");
	T_EQ(img_is(&lun, &b, NULL, &seq, &slot), 0, "newest is B");
	T_OK(slot == 0, "B: in slot 0 (over the corrupt E), slot %u", slot);
	T_EQ(img_is(&lun, &d, d.md, NULL, NULL), 0, "D (valid) stays");
	pool_lun_close(&lun);

	/* another pool's view of the same file sees nothing of it */
	T_EQ(pool_lun_open(&lun, path, pext_pool_id("other"), 1, 1), 0,
	    "open as another pool");
	T_OK(pool_lun_load(&lun) != 0, "load refused");
	pool_lun_close(&lun);

	free(a.data);
	free(b.data);
	free(c.data);
	free(d.data);
	free(e.data);
	free(f.data);
	free(big.data);
}

/* tmpfs refuses O_DIRECT on older kernels: the O_DSYNC fallback must
 * store and read images the same way. */
static void
test_tmpfs(void)
{
	struct pool_lun	lun;
	struct img	a;
	char		path[] = "/dev/shm/duonas-t-pimg.XXXXXX";
	int		fd;

	if ((fd = mkstemp(path)) == -1) {
		T_OK(1, "# SKIP no /dev/shm");
		return;
	}
	T_OK(ftruncate(fd, (off_t)PEXT_V1_EXTENT_BLOCKS * BS) == 0,
	    "sparse tmpfs file");
	close(fd);
	T_EQ(pool_lun_open(&lun, path, pext_pool_id(CLUSTER), 2, 1), 0,
	    "open on tmpfs");
	T_EQ(pool_lun_format(&lun, CLUSTER, "shm", 0), 0, "format");
	img_make(&a, 1536 * 1024 + 7, 21, "2.0");
	T_OK(pool_img_write(&lun, a.data, a.len, a.md, a.version, NULL, NULL,
	    NULL) == 0, "write on tmpfs (%s)", lun.direct ? "O_DIRECT" :
	    "O_DSYNC");
	T_EQ(img_is(&lun, &a, a.md, NULL, NULL), 0, "read it back");
	pool_lun_close(&lun);
	unlink(path);
	free(a.data);
}

static uint64_t	st_done, st_total;

static void
prog2(uint64_t done, uint64_t total, void *arg)
{
	(void)arg;
	st_done = done;
	st_total = total;
}

static void
cfg_lun(struct cfg *c, const char *name, uint32_t id)
{
	struct cfg_lun	*l = &c->luns[c->nluns++];

	snprintf(l->name, sizeof(l->name), "%s", name);
	l->id = id;
	snprintf(l->path, sizeof(l->path), "%s/%s", dir, name);
}

static void
test_store(void)
{
	struct cfg		*c;
	struct img_store_ent	 ent[16];
	struct img		 a, bad;
	void			*d;
	size_t			 len;
	char			 err[512];
	int			 n;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	snprintf(c->cluster, sizeof(c->cluster), "%s", CLUSTER);
	cfg_lun(c, "gone", 10);		/* no such file */
	cfg_lun(c, "blank", 11);	/* never formatted */
	cfg_lun(c, "l1", 12);
	cfg_lun(c, "l2", 13);
	cfg_lun(c, "l3", 14);
	lun_file(c->luns[1].path, 11, "blank", 0);
	lun_file(c->luns[2].path, 12, "l1", 1);
	lun_file(c->luns[3].path, 13, "l2", 1);
	lun_file(c->luns[4].path, 14, "l3", 1);

	img_make(&a, 3 * 1024 * 1024, 11, "1.0.0");
	img_make(&bad, 1000, 12, "1.0.1");
	bad.md[0] ^= 1;
	T_EQ(img_store_put(c, 1, 2, bad.data, bad.len, bad.md, bad.version,
	    NULL, NULL, NULL, err, sizeof(err)), -1,
	    "put: data that does not match its digest");
	T_OK(strstr(err, "does not match") != NULL, "err: %s", err);

	T_EQ(img_store_put(c, 1, 2, a.data, a.len, a.md, a.version, NULL, prog2,
	    NULL, err, sizeof(err)), 2, "put to 2 LUNs");
	T_OK(strstr(err, "LUN gone") != NULL && strstr(err, "LUN blank") !=
	    NULL, "err names the LUNs skipped: %s", err);
	T_OK(st_done == 2 * a.len && st_total == 2 * a.len,
	    "progress over both LUNs (%llu of %llu)",
	    (unsigned long long)st_done, (unsigned long long)st_total);

	n = img_store_list(c, 1, ent, 16);
	T_EQ(n, 10, "list: two slots of five LUNs");
	T_OK(strcmp(ent[0].lun, "gone") == 0 && ent[0].rc == ENOENT &&
	    !ent[0].valid_hdr, "gone: ENOENT");
	T_OK(ent[2].rc == PEXT_E_EMPTY && !ent[2].valid_hdr,
	    "blank: not formatted (%d), not formatted by the store",
	    ent[2].rc);
	T_OK(strcmp(ent[4].lun, "l1") == 0 && ent[4].slot == 0 &&
	    ent[4].valid_hdr && ent[4].seq == 1 && ent[4].length == a.len &&
	    memcmp(ent[4].digest, a.md, 32) == 0 &&
	    strcmp(ent[4].version, "1.0.0") == 0, "l1 slot 0 holds 1.0.0");
	T_OK(ent[5].slot == 1 && ent[5].rc == PEXT_E_EMPTY,
	    "l1 slot 1 empty");
	T_OK(ent[6].valid_hdr && memcmp(ent[6].digest, a.md, 32) == 0,
	    "l2 slot 0 holds it");
	T_OK(!ent[8].valid_hdr && !ent[9].valid_hdr, "l3 holds nothing");
	T_EQ(img_store_list(c, 1, ent, 3), 3, "list stops at max");

	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), 0, "get");
	T_OK(len == a.len && memcmp(d, a.data, len) == 0, "get: the bytes");
	free(d);

	/* a corrupt copy on the first LUN holding it is skipped */
	flip(c->luns[2].path, (uint64_t)(PEXT_V1_IMG_START + 1) * BS + 4096);
	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), 0,
	    "get with l1's copy corrupt");
	T_OK(len == a.len && memcmp(d, a.data, len) == 0,
	    "get: the bytes from l2");
	free(d);
	flip(c->luns[3].path, (uint64_t)(PEXT_V1_IMG_START + 1) * BS + 9);
	d = (void *)1;
	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), 1,
	    "get with every copy corrupt: 1");
	T_OK(d == NULL && strstr(err, "no LUN holds") != NULL, "err: %s",
	    err);

	/* a put repairs: l1 and l2 have no valid image, so it goes to
	 * slot 0 over the corrupt copy; l3 gets its first */
	T_EQ(img_store_put(c, 1, 3, a.data, a.len, a.md, a.version, NULL, NULL,
	    NULL, err, sizeof(err)), 3, "put to 3 LUNs");
	n = img_store_list(c, 1, ent, 16);
	T_OK(n == 10 && ent[4].valid_hdr && ent[4].seq == 2 &&
	    !ent[5].valid_hdr && ent[6].seq == 2 && ent[8].valid_hdr &&
	    ent[8].seq == 1, "l1, l2: slot 0 seq 2; l3: slot 0 seq 1");
	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), 0,
	    "get after the repair");
	free(d);

	/* nothing readable at all: -1 */
	c->nluns = 2;
	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), -1,
	    "get with no usable LUN: -1");
	T_OK(strstr(err, "LUN gone") != NULL, "err: %s", err);
	T_EQ(img_store_put(c, 1, 2, a.data, a.len, a.md, a.version, NULL, NULL,
	    NULL, err, sizeof(err)), -1, "put with no usable LUN: -1");
	c->nluns = 0;
	T_EQ(img_store_get(c, 1, a.md, &d, &len, err, sizeof(err)), -1,
	    "get with no LUN: -1");
	free(a.data);
	free(bad.data);
	free(c);
}

int
main(void)
{
	char	cmd[400];

	log_init("test_pool_img", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_one();
	test_tmpfs();
	test_store();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}

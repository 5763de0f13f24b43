/*
 * test_ctcm_bundle.c — ctcm bundle and replica image encoding (golden
 * bytes), every decode error, the text form, the line diff, the
 * numbering rules (slot keys, rank, epochs), the replica pick by rank
 * and the power-up decision table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pext.h"
#include "tests/unit/t.h"

static void
mk(struct ctcm_bundle *b, uint64_t gen, const char *conf, const char *exp)
{
	ctcm_bundle_init(b);
	b->gen = gen;
	b->time_ms = 0x0102030405060708ull;
	b->author_id = 1;
	snprintf(b->author, sizeof(b->author), "cli@A");
	snprintf(b->summary, sizeof(b->summary), "s%llu",
	    (unsigned long long)gen);
	ctcm_bundle_set(b, CTCM_SEC_EXPORTS, "exports", exp, strlen(exp));
	ctcm_bundle_set(b, CTCM_SEC_CONF, "duonas.conf", conf, strlen(conf));
}

/* golden encoding of mk(b, 7, "c\n", "e\n") */
static const char golden_hex[] =
    "44434647" "0001" "0000" "0000000000000007" "0102030405060708"
    "00000001" "%s"	/* content crc, filled below */
    "0005" "636c694041" "0002" "7337"
    "0002"
    "0001" "000b" "64756f6e61732e636f6e66" "00000002" "630a"
    "0002" "0007" "6578706f727473" "00000002" "650a";

static void
test_golden(void)
{
	struct ctcm_bundle	b, d;
	struct buf		o;
	char			hex[1024], ccrc[9], want[1024];
	uint32_t		crc;

	mk(&b, 7, "c\n", "e\n");
	T_EQ(b.sec[0].kind, CTCM_SEC_CONF, "sections sorted by kind");
	buf_init(&o);
	ctcm_bundle_encode(&b, &o);
	/* the content checksum is CRC32C of the section bytes */
	{
		static const uint8_t secs[] = {
		    0, 2, 0, 1, 0, 11, 'd', 'u', 'o', 'n', 'a', 's', '.', 'c',
		    'o', 'n', 'f', 0, 0, 0, 2, 'c', '\n', 0, 2, 0, 7, 'e', 'x',
		    'p', 'o', 'r', 't', 's', 0, 0, 0, 2, 'e', '\n' };
		crc = pext_crc32c(0, secs, sizeof(secs));
	}
	T_EQ(ctcm_content_crc(&b), crc, "content checksum over sections");
	snprintf(ccrc, sizeof(ccrc), "%08x", crc);
	snprintf(want, sizeof(want), golden_hex, ccrc);
	T_EQ(o.len, strlen(want) / 2 + 4, "encoded length");
	hex_encode(hex, o.data, o.len - 4);
	T_OK(strcmp(hex, want) == 0, "golden bytes");
	T_EQ(get_be32(o.data + o.len - 4), pext_crc32c(0, o.data, o.len - 4),
	    "trailer is CRC32C of everything before it");

	T_EQ(ctcm_bundle_decode(o.data, o.len, &d), 0, "decodes");
	T_EQ(d.gen, 7, "generation");
	T_EQ(d.time_ms, 0x0102030405060708ull, "time");
	T_OK(strcmp(d.author, "cli@A") == 0 && strcmp(d.summary, "s7") == 0,
	    "author and summary");
	T_EQ(d.nsec, 2, "two sections");
	T_OK(strcmp(ctcm_bundle_text(&d, CTCM_SEC_EXPORTS, NULL), "e\n") == 0,
	    "exports text");
	T_EQ(d.content_crc, crc, "content crc kept");
	ctcm_bundle_free(&d);

	/* decode errors, in check order */
	T_EQ(ctcm_bundle_decode(o.data, 10, &d), CTCM_E_SHORT, "short");
	o.data[0] ^= 1;
	T_EQ(ctcm_bundle_decode(o.data, o.len, &d), CTCM_E_MAGIC, "magic");
	o.data[0] ^= 1;
	o.data[40] ^= 0x80;
	T_EQ(ctcm_bundle_decode(o.data, o.len, &d), CTCM_E_CRC,
	    "flipped bit: crc");
	o.data[40] ^= 0x80;
	/* a different version with a fixed-up trailer */
	o.data[5] = 2;
	put_be32(o.data + o.len - 4, pext_crc32c(0, o.data, o.len - 4));
	T_EQ(ctcm_bundle_decode(o.data, o.len, &d), CTCM_E_VERSION, "version");
	o.data[5] = 1;
	/* wrong content crc with a valid trailer */
	o.data[28] ^= 1;
	put_be32(o.data + o.len - 4, pext_crc32c(0, o.data, o.len - 4));
	T_EQ(ctcm_bundle_decode(o.data, o.len, &d), CTCM_E_CRC,
	    "content checksum mismatch");
	o.data[28] ^= 1;
	/* section length running past the end */
	put_be32(o.data + 56 - 2 + 15, 0x7fffffff);
	put_be32(o.data + o.len - 4, pext_crc32c(0, o.data, o.len - 4));
	T_OK(ctcm_bundle_decode(o.data, o.len, &d) < 0,
	    "oversized section length rejected");
	buf_free(&o);
	ctcm_bundle_free(&b);
}

static void
test_image(void)
{
	struct ctcm_bundle	v[3], *d;
	struct buf		o;
	size_t			lim;
	int			n;

	mk(&v[0], 9, "c9\n", "");
	mk(&v[1], 8, "c8\n", "");
	mk(&v[2], 5, "c5\n", "e\n");
	buf_init(&o);
	T_EQ(ctcm_image_encode(v, 3, 0, 0, &o), 3, "image keeps all three");
	T_EQ(get_be32(o.data), CTCM_IMAGE_MAGIC, "image magic");
	T_EQ(get_be16(o.data + 6), 3, "image count");
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, NULL), 0, "image decodes");
	T_EQ(n, 3, "three bundles");
	T_EQ(d[0].gen, 9, "newest first");
	T_EQ(d[2].gen, 5, "oldest last");
	ctcm_bundles_free(d, n);
	o.data[20] ^= 4;
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, NULL), CTCM_E_CRC,
	    "corrupt image");
	buf_reset(&o);
	ctcm_image_encode(v, 2, 0, 0, &o);
	lim = o.len;
	buf_reset(&o);
	T_EQ(ctcm_image_encode(v, 3, 0, lim, &o), 2,
	    "size limit drops oldest");
	T_OK(o.len <= lim, "fits the limit");
	buf_reset(&o);
	T_EQ(ctcm_image_encode(v, 3, 0, 20, &o), CTCM_E_FORMAT,
	    "nothing fits: error");
	/* out of order generations are malformed */
	buf_reset(&o);
	{
		struct ctcm_bundle w[2] = { v[2], v[0] };
		ctcm_image_encode(w, 2, 0, 0, &o);
	}
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, NULL), CTCM_E_FORMAT,
	    "image not newest-first rejected");
	buf_free(&o);
	for (int i = 0; i < 3; i++)
		ctcm_bundle_free(&v[i]);
}

static void
test_text(void)
{
	struct ctcm_bundle	b, d;
	struct buf		o;
	char			err[256];
	const char		*plain = "cluster x\n";

	mk(&b, 4, "cluster a\nhead A {\n}\n", "/srv/a -id=1 *\n");
	buf_init(&o);
	ctcm_text_export(&b, &o);
	T_OK(strstr((char *)o.data, "%%file duonas.conf\ncluster a\n") != NULL,
	    "export has the conf section");
	T_EQ(ctcm_text_import((char *)o.data, o.len, &d, err, sizeof(err)), 0,
	    "import of export");
	T_EQ(ctcm_content_crc(&d), ctcm_content_crc(&b),
	    "round trip keeps the content");
	ctcm_bundle_free(&d);
	T_EQ(ctcm_text_import(plain, strlen(plain), &d, err, sizeof(err)), 0,
	    "plain duonas.conf imports");
	T_OK(strcmp(ctcm_bundle_text(&d, CTCM_SEC_CONF, NULL), plain) == 0 &&
	    ctcm_bundle_get(&d, CTCM_SEC_EXPORTS) != NULL,
	    "plain: conf + empty exports");
	ctcm_bundle_free(&d);
	T_EQ(ctcm_text_import("%%file smb\nx\n", 13, &d, err, sizeof(err)), -1,
	    "unknown file rejected");
	T_OK(strstr(err, "unknown file 'smb'") != NULL, "error names it: %s",
	    err);
	T_EQ(ctcm_text_import("%%file exports\n/a\n", 18, &d, err,
	    sizeof(err)), -1, "missing duonas.conf rejected");
	buf_free(&o);
	ctcm_bundle_free(&b);
}

/* SMB users (section kind 3): printed text leaves the hashes out and
 * counts the users; the text for a 0600 file has them and imports back
 * to the same content. */
static void
test_text_smbusers(void)
{
	static const char users[] =
	    "user alice uid 30000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n"
	    "user bob uid 30001 nthash 31d6cfe0d16ae931b73c59d7e0c089c0\n";
	struct ctcm_bundle	b, d;
	struct buf		o;
	char			err[256];

	mk(&b, 5, "cluster a\n", "/srv/a -id=1 *\n");
	ctcm_bundle_set(&b, CTCM_SEC_SMBUSERS, "smb/users", users,
	    strlen(users));
	T_EQ(ctcm_smb_users_count(&b), 2, "two users counted");
	buf_init(&o);
	ctcm_text_export(&b, &o);
	T_OK(strstr((char *)o.data, "8846f7ee") == NULL &&
	    strstr((char *)o.data, "8846f7eaee8fb117") == NULL &&
	    strstr((char *)o.data, "%%file smb/users") == NULL,
	    "printed export has no hash and no users section");
	T_OK(strstr((char *)o.data, "\n# smb users: 2 (hashes not shown; "
	    "duonas config export FILE writes them)\n%%file duonas.conf\n")
	    != NULL, "it counts the users before the first section");
	T_EQ(ctcm_text_import((char *)o.data, o.len, &d, err, sizeof(err)), 0,
	    "the printed form imports");
	T_OK(ctcm_bundle_get(&d, CTCM_SEC_SMBUSERS) == NULL,
	    "without a users section (the import keeps the cluster's)");
	ctcm_bundle_free(&d);
	buf_reset(&o);
	ctcm_text_export_secrets(&b, &o);
	T_OK(strstr((char *)o.data, "%%file smb/users\nuser alice uid 30000 "
	    "nthash 8846f7eaee8fb117ad06bdd830b7586c\n") != NULL,
	    "the file form has the users");
	T_EQ(ctcm_text_import((char *)o.data, o.len, &d, err, sizeof(err)), 0,
	    "it imports");
	T_EQ(ctcm_content_crc(&d), ctcm_content_crc(&b),
	    "round trip keeps the users");
	ctcm_bundle_free(&d);
	T_EQ(ctcm_text_import("%%file duonas.conf\nx\n%%file smb/users\n",
	    37, &d, err, sizeof(err)), 0, "an empty users section imports");
	T_OK(ctcm_bundle_get(&d, CTCM_SEC_SMBUSERS) != NULL &&
	    ctcm_smb_users_count(&d) == 0, "present and empty: no users");
	ctcm_bundle_free(&d);
	ctcm_bundle_del(&b, CTCM_SEC_SMBUSERS);
	T_OK(ctcm_bundle_get(&b, CTCM_SEC_SMBUSERS) == NULL && b.nsec == 2,
	    "section deleted");
	buf_free(&o);
	ctcm_bundle_free(&b);
}

static void
test_diff(void)
{
	struct buf	o;
	const char	*a = "x\ny\nz\n", *b = "x\nY\nz\nw\n";
	/* 1..20; then 3 changed, 13 removed, 20 appended */
	const char	*l = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
			    "14\n15\n16\n17\n18\n19\n20\n";
	const char	*m = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
			    "14\n15\n16\n17\n18\n19\n20\n21\n";

	buf_init(&o);
	T_EQ(ctcm_diff(a, strlen(a), b, strlen(b), &o), 3, "3 changed lines");
	buf_add_u8(&o, 0);
	T_OK(strcmp((char *)o.data, "@@ -1,3 +1,4 @@\n x\n-y\n+Y\n z\n+w\n")
	    == 0, "one hunk: %s", (char *)o.data);
	buf_reset(&o);
	T_EQ(ctcm_diff(a, strlen(a), a, strlen(a), &o), 0, "no change");
	T_EQ((int)o.len, 0, "no change, no output");
	/* two hunks, 3 lines of context, far changes apart */
	buf_reset(&o);
	T_EQ(ctcm_diff(l, strlen(l), m, strlen(m), &o), 4, "4 changed lines");
	buf_add_u8(&o, 0);
	/* golden: what diff -u prints for these two files */
	T_OK(strcmp((char *)o.data,
	    "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
	    "@@ -10,7 +10,6 @@\n 10\n 11\n 12\n-13\n 14\n 15\n 16\n"
	    "@@ -18,3 +17,4 @@\n 18\n 19\n 20\n+21\n") == 0,
	    "three hunks: %s", (char *)o.data);
	/* a file that appears or goes: counts 0 name the line before */
	buf_reset(&o);
	T_EQ(ctcm_diff("a\nb\n", 4, "", 0, &o), 2, "file emptied");
	buf_add_u8(&o, 0);
	T_OK(strcmp((char *)o.data, "@@ -1,2 +0,0 @@\n-a\n-b\n") == 0,
	    "emptied: %s", (char *)o.data);
	buf_reset(&o);
	T_EQ(ctcm_diff("", 0, "a\nb\n", 4, &o), 2, "file created");
	buf_add_u8(&o, 0);
	T_OK(strcmp((char *)o.data, "@@ -0,0 +1,2 @@\n+a\n+b\n") == 0,
	    "created: %s", (char *)o.data);
	/* no context: diff -U0 */
	buf_reset(&o);
	T_EQ(ctcm_diff_ctx(l, strlen(l), m, strlen(m), 0, &o), 4, "ctx 0");
	buf_add_u8(&o, 0);
	T_OK(strcmp((char *)o.data, "@@ -3 +3 @@\n-3\n+three\n"
	    "@@ -13 +12,0 @@\n-13\n@@ -20,0 +20 @@\n+21\n") == 0,
	    "ctx 0: %s", (char *)o.data);
	buf_free(&o);
}

/* The old six-argument form: value epochs 0, nothing known bad. */
static enum ctcm_action
decide(int lstate, uint64_t lgen, uint32_t lcrc, int have, uint64_t agen,
    uint32_t acrc)
{
	struct ctcm_boot_in in;

	memset(&in, 0, sizeof(in));
	in.lstate = lstate;
	in.lbad = lstate == CTCM_LOCAL_INVALID ? CTCM_BAD_STAMP : 0;
	in.lgen = lgen;
	in.lcrc = lcrc;
	in.have_array = have;
	in.agen = agen;
	in.acrc = acrc;
	return ctcm_boot_decide(&in);
}

static void
test_decide(void)
{
	struct ctcm_replica r[3];

	memset(r, 0, sizeof(r));
	r[0].rc = PEXT_E_CRC;
	r[1].gen = 5;
	r[2].gen = 7;
	T_EQ(ctcm_array_pick(r, 3), 2, "newest valid replica");
	r[2].rc = EIO;
	T_EQ(ctcm_array_pick(r, 3), 1, "invalid ones skipped");
	r[1].rc = PEXT_E_EMPTY;
	T_EQ(ctcm_array_pick(r, 3), -1, "none valid");
	T_EQ(ctcm_array_majority(3), 2, "majority of 3");
	T_EQ(ctcm_array_majority(1), 1, "majority of 1");
	T_EQ(ctcm_array_majority(0), 0, "no LUNs: no replicas needed");

	/* local state, lgen, lcrc, have array, agen, acrc */
	T_EQ(decide(CTCM_LOCAL_VALID, 5, 1, 1, 5, 1), CTCM_ACT_OK,
	    "equal: ok");
	T_EQ(decide(CTCM_LOCAL_VALID, 4, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "local older: restore");
	T_EQ(decide(CTCM_LOCAL_INVALID, 9, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "local corrupt: restore");
	T_EQ(decide(CTCM_LOCAL_NONE, 0, 0, 1, 5, 2),
	    CTCM_ACT_RESTORE, "new head: restore");
	T_EQ(decide(CTCM_LOCAL_VALID, 5, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "same generation, other content: array wins");
	T_EQ(decide(CTCM_LOCAL_VALID, 6, 1, 1, 5, 2),
	    CTCM_ACT_KEEP_LOCAL, "local newer: keep, repair array");
	T_EQ(decide(CTCM_LOCAL_VALID, 6, 1, 0, 0, 0),
	    CTCM_ACT_KEEP_LOCAL, "no replica: keep local");
	T_EQ(decide(CTCM_LOCAL_NONE, 0, 0, 0, 0, 0),
	    CTCM_ACT_FACTORY, "fresh everywhere: factory");
	T_EQ(decide(CTCM_LOCAL_INVALID, 3, 0, 0, 0, 0),
	    CTCM_ACT_MONITOR, "nothing valid: monitor");
}


/* Numbering: slot keys, rank, epochs; image version 2 header; version 1
 * images still read (issue 10, finding 1). */
static void
test_numbers(void)
{
	struct ctcm_bundle	v[2], *d;
	struct buf		o, one;
	uint64_t		e, g, ep;
	int			n;

	T_EQ(ctcm_key_pack(0, 7), 7, "epoch 0: the key is the generation");
	ctcm_key_unpack(ctcm_key_pack(0x201, 12345), &e, &g);
	T_OK(e == 0x201 && g == 12345, "key round trip");
	T_OK(ctcm_key_pack(0x201, 1) > ctcm_key_pack(0x102, CTCM_GEN_MAX),
	    "a higher epoch's key is above any generation of a lower one");
	T_OK(ctcm_rank_cmp(2, 1, 1, 900) > 0, "rank: value epoch first");
	T_OK(ctcm_rank_cmp(2, 5, 2, 6) < 0, "rank: then generation");
	T_EQ(ctcm_rank_cmp(3, 5, 3, 5), 0, "rank: equal");
	T_EQ(ctcm_epoch_next(0, 1), 0x101, "first epoch of node 1");
	T_EQ(ctcm_epoch_next(0x101, 2), 0x202, "node 2 after node 1's");
	T_EQ(ctcm_epoch_next(0x202, 1), 0x301, "node 1 after node 2's");
	T_OK(ctcm_epoch_next(0x101, 1) != ctcm_epoch_next(0x101, 2),
	    "two heads never pick the same epoch");

	mk(&v[0], 9, "c9\n", "");
	mk(&v[1], 8, "c8\n", "");
	v[0].vepoch = 0x201;
	buf_init(&o);
	T_EQ(ctcm_image_encode(v, 2, 0x302, 0, &o), 2, "v2 image encodes");
	T_EQ(get_be16(o.data + 4), CTCM_IMAGE_VERSION, "image version 2");
	T_EQ(get_be64(o.data + 8), 0x302, "writer epoch at 8");
	T_EQ(get_be64(o.data + 16), 0x201, "value epoch at 16");
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, &ep), 0, "decodes");
	T_OK(ep == 0x302 && d[0].vepoch == 0x201 && d[1].vepoch == 0,
	    "epochs decoded (the value epoch is the first bundle's)");
	ctcm_bundles_free(d, n);
	/* value epoch above the writer's: malformed */
	put_be64(o.data + 16, 0x400);
	put_be32(o.data + o.len - 4, pext_crc32c(0, o.data, o.len - 4));
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, &ep), CTCM_E_FORMAT,
	    "value epoch above the writer's epoch refused");
	/* a version 1 image, as written before epochs */
	buf_reset(&o);
	buf_init(&one);
	buf_add_u32(&o, CTCM_IMAGE_MAGIC);
	buf_add_u16(&o, 1);
	buf_add_u16(&o, 1);
	ctcm_bundle_encode(&v[0], &one);
	buf_add_blob(&o, one.data, (uint32_t)one.len);
	buf_add_u32(&o, pext_crc32c(0, o.data, o.len));
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n, &ep), 0,
	    "version 1 image still read");
	T_OK(n == 1 && d[0].gen == 9 && ep == 0 && d[0].vepoch == 0,
	    "with epochs 0");
	ctcm_bundles_free(d, n);
	buf_free(&one);
	buf_free(&o);
	ctcm_bundle_free(&v[0]);
	ctcm_bundle_free(&v[1]);
}

/* The replica pick is by rank, never by LUN order; the power-up
 * decision with epochs and with a partly damaged local copy. */
static void
test_decide_epochs(void)
{
	struct ctcm_replica	r[3];
	struct ctcm_boot_in	in;

	memset(r, 0, sizeof(r));
	r[0].gen = 7;			/* A's uncommitted copy */
	r[0].vepoch = 0x101;
	r[0].content_crc = 1;
	r[1] = r[2] = r[0];
	r[1].vepoch = r[2].vepoch = 0x202;	/* B's commit, same number */
	r[1].content_crc = r[2].content_crc = 2;
	T_EQ(ctcm_array_pick(r, 3), 1, "equal generation: the higher epoch, "
	    "not the first LUN");
	r[0].gen = 9;
	T_EQ(ctcm_array_pick(r, 3), 1, "a lower epoch's higher generation "
	    "does not win");
	r[0].vepoch = 0x202;
	r[0].gen = 7;
	r[0].content_crc = 3;		/* cannot happen; still decided */
	T_EQ(ctcm_array_pick(r, 3), 1, "equal rank, other content: the one "
	    "more replicas hold");

	memset(&in, 0, sizeof(in));
	in.lstate = CTCM_LOCAL_VALID;
	in.lgen = 5;
	in.lvepoch = 0x202;
	in.lcrc = 1;
	in.have_array = 1;
	in.agen = 9;
	in.avepoch = 0x101;
	in.acrc = 2;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_KEEP_LOCAL, "local ranks above "
	    "a higher generation of a lower epoch: keep");
	in.avepoch = 0x303;
	in.agen = 4;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_RESTORE, "array of a higher "
	    "epoch: restore");
	/* invalid local copies */
	in.lstate = CTCM_LOCAL_INVALID;
	in.lbad = CTCM_BAD_HISTORY;
	in.agen = 5;
	in.avepoch = 0x202;
	in.acrc = 1;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_RESTORE, "damaged history "
	    "bundle, the array holds it: restore (finding 8)");
	in.have_array = 0;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_REPAIR_LOCAL, "damaged history "
	    "bundle, no replica: rebuild from the files");
	in.lbad = CTCM_BAD_FILES;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_REPAIR_LOCAL, "damaged file, no "
	    "replica: restore from the local history (finding 11)");
	in.lbad = CTCM_BAD_FILES | CTCM_BAD_HISTORY;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_MONITOR, "files and bundle "
	    "damaged, no replica: MONITOR");
	in.lbad = CTCM_BAD_PENDING | CTCM_BAD_FILES;
	in.have_array = 1;
	in.agen = 3;
	in.avepoch = 0x101;
	in.acrc = 7;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_REPAIR_LOCAL, "interrupted "
	    "install ranking above the array: repair from local history");
	in.agen = 6;
	in.avepoch = 0x202;
	T_EQ(ctcm_boot_decide(&in), CTCM_ACT_RESTORE, "the array has the "
	    "newer generation: restore");
}

int
main(void)
{
	test_golden();
	test_image();
	test_text();
	test_text_smbusers();
	test_diff();
	test_decide();
	test_numbers();
	test_decide_epochs();
	return t_done();
}

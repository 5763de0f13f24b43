/*
 * test_ctcm_bundle.c — ctcm bundle and replica image encoding (golden
 * bytes), every decode error, the text form, the line diff, the replica
 * pick and the power-up decision table.
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
	T_EQ(ctcm_image_encode(v, 3, 0, &o), 3, "image keeps all three");
	T_EQ(get_be32(o.data), CTCM_IMAGE_MAGIC, "image magic");
	T_EQ(get_be16(o.data + 6), 3, "image count");
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n), 0, "image decodes");
	T_EQ(n, 3, "three bundles");
	T_EQ(d[0].gen, 9, "newest first");
	T_EQ(d[2].gen, 5, "oldest last");
	ctcm_bundles_free(d, n);
	o.data[20] ^= 4;
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n), CTCM_E_CRC,
	    "corrupt image");
	buf_reset(&o);
	ctcm_image_encode(v, 2, 0, &o);
	lim = o.len;
	buf_reset(&o);
	T_EQ(ctcm_image_encode(v, 3, lim, &o), 2, "size limit drops oldest");
	T_OK(o.len <= lim, "fits the limit");
	buf_reset(&o);
	T_EQ(ctcm_image_encode(v, 3, 20, &o), CTCM_E_FORMAT,
	    "nothing fits: error");
	/* out of order generations are malformed */
	buf_reset(&o);
	{
		struct ctcm_bundle w[2] = { v[2], v[0] };
		ctcm_image_encode(w, 2, 0, &o);
	}
	T_EQ(ctcm_image_decode(o.data, o.len, &d, &n), CTCM_E_FORMAT,
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

static void
test_diff(void)
{
	struct buf	o;
	const char	*a = "x\ny\nz\n", *b = "x\nY\nz\nw\n";

	buf_init(&o);
	T_EQ(ctcm_diff(a, strlen(a), b, strlen(b), &o), 3, "3 changed lines");
	T_OK(strcmp((char *)o.data, "  x\n- y\n+ Y\n  z\n+ w\n") == 0,
	    "diff text");
	buf_reset(&o);
	T_EQ(ctcm_diff(a, strlen(a), a, strlen(a), &o), 0, "no change");
	buf_free(&o);
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
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_VALID, 5, 1, 1, 5, 1), CTCM_ACT_OK,
	    "equal: ok");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_VALID, 4, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "local older: restore");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_INVALID, 9, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "local corrupt: restore");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_NONE, 0, 0, 1, 5, 2),
	    CTCM_ACT_RESTORE, "new head: restore");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_VALID, 5, 1, 1, 5, 2),
	    CTCM_ACT_RESTORE, "same generation, other content: array wins");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_VALID, 6, 1, 1, 5, 2),
	    CTCM_ACT_KEEP_LOCAL, "local newer: keep, repair array");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_VALID, 6, 1, 0, 0, 0),
	    CTCM_ACT_KEEP_LOCAL, "no replica: keep local");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_NONE, 0, 0, 0, 0, 0),
	    CTCM_ACT_FACTORY, "fresh everywhere: factory");
	T_EQ(ctcm_boot_decide(CTCM_LOCAL_INVALID, 3, 0, 0, 0, 0),
	    CTCM_ACT_MONITOR, "nothing valid: monitor");
}

int
main(void)
{
	test_golden();
	test_image();
	test_text();
	test_diff();
	test_decide();
	return t_done();
}

/*
 * pext.c — encode and decode the private extent's blocks (see
 * docs/private-extent.md for the layout; pext.h for the API).
 *
 * Pure functions over 4096-byte buffers: every field is written at its
 * documented offset in big-endian, unused bytes are zero, and the CRC32C of
 * bytes 0..4091 goes last.  Decoding verifies the block before any field is
 * used, so a torn, corrupt, foreign or misplaced block is reported and
 * never trusted.  The damage rules are here too, as pure decisions:
 * pext_judge() (format, repair or leave alone) and pext_res_next_gen()
 * (the next fencing generation).  No I/O, no allocation, no logging
 * here: pool_io.c reads and writes, callers decide what an error means.
 */
#include <string.h>

#include "common/util.h"
#include "pool/pext.h"

/* Common header offsets. */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_TYPE	6
#define OFF_POOL	8
#define OFF_LUN		16
#define OFF_BLOCKNO	20
#define OFF_WRITER	24
#define OFF_TIME	32
#define OFF_PAYLOAD	48

/* Super block payload. */
#define SB_EXTENT	48
#define SB_BSIZE	56
#define SB_NREG		60
#define SB_CLUSTER	64
#define SB_LUNNAME	96
#define SB_FORMATID	128
#define SB_REGIONS	136
#define SB_REGSIZE	24

/* Heartbeat / mailbox payload. */
#define HB_NODE		48
#define HB_STATE	52
#define HB_OPMODE	54
#define HB_SEQ		56
#define HB_BOOTID	64
#define HB_CFGGEN	72
#define HB_MBFLAGS	80
#define HB_MBTO		84
#define HB_MBSEQ	88
#define HB_MBACK	96
#define HB_RESGEN	104
#define HB_MBARG	112
#define HB_GW		120	/* GIVEWAIT record: */
#define HB_GW_VER	120
#define HB_GW_STATE	122
#define HB_GW_PROG	124
#define HB_GW_REASON	128
#define HB_GW_CRC	176
#define HB_GW_LEN	60	/* 120..179, the crc covers 120..175 */

/* Reservation payload. */
#define RES_OWNER	48
#define RES_PREV	52
#define RES_GEN		56
#define RES_RENEW	64
#define RES_LEASE	72
#define RES_FLAGS	76
#define RES_ACQ		80

/* Config slot header payload. */
#define CS_SLOT		48
#define CS_FLAGS	52
#define CS_GEN		56
#define CS_LEN		64
#define CS_DCRC		72

/* Image slot header payload (docs/boot-images.md, "Image store"). */
#define IS_SLOT		48
#define IS_FLAGS	52
#define IS_SEQ		56
#define IS_LEN		64
#define IS_DIGEST	72
#define IS_VERSION	104

/* Reflected CRC32C table (polynomial 0x82F63B78); test_pext.c rebuilds it
 * bit by bit and compares. */
static const uint32_t crc32c_tab[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4,
	0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b,
	0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5,
	0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45,
	0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48,
	0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687,
	0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8,
	0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096,
	0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9,
	0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36,
	0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3,
	0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652,
	0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d,
	0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2,
	0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f,
	0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90,
	0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321,
	0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81,
	0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t
pext_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t	*b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = crc32c_tab[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t
pext_pool_id(const char *cluster)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	const uint8_t	*s = (const uint8_t *)cluster;

	for (; *s != '\0'; s++) {
		h ^= *s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
name_copy(char *dst, const char *src)
{
	size_t	n = src ? strnlen(src, PEXT_NAME_LEN) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void
pext_super_init(struct pext_super *sb, uint64_t pool_id, uint32_t lun_id,
    const char *cluster, const char *lun_name)
{
	static const struct pext_region v1[] = {
		{ PEXT_R_HB,	0, PEXT_V1_HB_BLOCK,	2 },
		{ PEXT_R_RES,	0, PEXT_V1_RES_BLOCK,	1 },
		{ PEXT_R_CFG_A,	0, PEXT_V1_CFG_A,	PEXT_V1_CFG_BLOCKS },
		{ PEXT_R_CFG_B,	0, PEXT_V1_CFG_B,	PEXT_V1_CFG_BLOCKS },
		{ PEXT_R_IMAGE,	0, PEXT_V1_IMG_START,	PEXT_V1_IMG_BLOCKS },
	};

	memset(sb, 0, sizeof(*sb));
	sb->h.version = PEXT_VERSION;
	sb->h.type = PEXT_T_SUPER;
	sb->h.pool_id = pool_id;
	sb->h.lun_id = lun_id;
	sb->h.blockno = 0;
	sb->extent_blocks = PEXT_V1_EXTENT_BLOCKS;
	sb->block_size = PEXT_BLOCK_SIZE;
	sb->nregions = nitems(v1);
	memcpy(sb->regions, v1, sizeof(v1));
	name_copy(sb->cluster, cluster);
	name_copy(sb->lun_name, lun_name);
}

/* Header + CRC around a payload the caller has already placed. */
static void
hdr_put(uint8_t *blk, const struct pext_hdr *h, uint16_t type)
{
	put_be32(blk + OFF_MAGIC, PEXT_MAGIC);
	put_be16(blk + OFF_VERSION, PEXT_VERSION);
	put_be16(blk + OFF_TYPE, type);
	put_be64(blk + OFF_POOL, h->pool_id);
	put_be32(blk + OFF_LUN, h->lun_id);
	put_be32(blk + OFF_BLOCKNO, h->blockno);
	put_be32(blk + OFF_WRITER, h->writer);
	put_be64(blk + OFF_TIME, h->time_ms);
}

static void
crc_put(uint8_t *blk)
{
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
}

/* Every check that does not depend on the block type's payload. */
static int
hdr_get(const uint8_t *blk, const struct pext_where *w, uint16_t type,
    struct pext_hdr *h)
{
	size_t	i;

	for (i = 0; i < PEXT_BLOCK_SIZE && blk[i] == 0; i++)
		;
	if (i == PEXT_BLOCK_SIZE)
		return PEXT_E_EMPTY;
	if (get_be32(blk + OFF_MAGIC) != PEXT_MAGIC)
		return PEXT_E_MAGIC;
	/* Magic and CRC sit at the same place in every version: check the
	 * CRC before believing the version field. */
	if (get_be32(blk + PEXT_CRC_OFF) != pext_crc32c(0, blk, PEXT_CRC_OFF))
		return PEXT_E_CRC;
	if (get_be16(blk + OFF_VERSION) != PEXT_VERSION)
		return PEXT_E_VERSION;
	if (get_be16(blk + OFF_TYPE) != type)
		return PEXT_E_TYPE;
	memset(h, 0, sizeof(*h));
	h->version = PEXT_VERSION;
	h->type = type;
	h->pool_id = get_be64(blk + OFF_POOL);
	h->lun_id = get_be32(blk + OFF_LUN);
	h->blockno = get_be32(blk + OFF_BLOCKNO);
	h->writer = get_be32(blk + OFF_WRITER);
	h->time_ms = get_be64(blk + OFF_TIME);
	if (w->pool_id != 0 && h->pool_id != w->pool_id)
		return PEXT_E_POOL;
	if (w->lun_id != 0 && h->lun_id != w->lun_id)
		return PEXT_E_LUN;
	if (h->blockno != w->blockno)
		return PEXT_E_BLOCKNO;
	/* Reserved header words must be zero in version 1. */
	if (get_be32(blk + 28) != 0 || get_be64(blk + 40) != 0)
		return PEXT_E_FIELD;
	return PEXT_OK;
}

static int
super_check(const struct pext_super *sb)
{
	uint32_t	i, j;

	if (sb->nregions > PEXT_MAX_REGIONS || sb->block_size !=
	    PEXT_BLOCK_SIZE || sb->extent_blocks < 4 ||
	    sb->extent_blocks > (1ULL << 32))
		return PEXT_E_FIELD;
	for (i = 0; i < sb->nregions; i++) {
		const struct pext_region *r = &sb->regions[i];

		if (r->type < PEXT_R_HB || r->type > PEXT_R_IMAGE ||
		    r->start == 0 || r->count == 0 ||
		    r->start > sb->extent_blocks ||
		    r->count > sb->extent_blocks - r->start)
			return PEXT_E_FIELD;
		for (j = 0; j < i; j++) {
			const struct pext_region *o = &sb->regions[j];

			if (o->type == r->type ||
			    (r->start < o->start + o->count &&
			    o->start < r->start + r->count))
				return PEXT_E_FIELD;
		}
	}
	return PEXT_OK;
}

int
pext_super_encode(uint8_t *blk, const struct pext_super *sb)
{
	uint32_t	i;
	uint8_t		*p;

	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (super_check(sb) != PEXT_OK)
		return PEXT_E_FIELD;
	hdr_put(blk, &sb->h, PEXT_T_SUPER);
	put_be64(blk + SB_EXTENT, sb->extent_blocks);
	put_be32(blk + SB_BSIZE, sb->block_size);
	put_be32(blk + SB_NREG, sb->nregions);
	memcpy(blk + SB_CLUSTER, sb->cluster, strnlen(sb->cluster,
	    PEXT_NAME_LEN));
	memcpy(blk + SB_LUNNAME, sb->lun_name, strnlen(sb->lun_name,
	    PEXT_NAME_LEN));
	put_be64(blk + SB_FORMATID, sb->format_id);
	for (i = 0; i < sb->nregions; i++) {
		p = blk + SB_REGIONS + i * SB_REGSIZE;
		put_be32(p, sb->regions[i].type);
		put_be32(p + 4, sb->regions[i].flags);
		put_be64(p + 8, sb->regions[i].start);
		put_be64(p + 16, sb->regions[i].count);
	}
	crc_put(blk);
	return PEXT_OK;
}

int
pext_super_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_super *sb)
{
	const uint8_t	*p;
	uint32_t	 i;
	int		 rc;

	memset(sb, 0, sizeof(*sb));
	if ((rc = hdr_get(blk, w, PEXT_T_SUPER, &sb->h)) != PEXT_OK)
		return rc;
	sb->extent_blocks = get_be64(blk + SB_EXTENT);
	sb->block_size = get_be32(blk + SB_BSIZE);
	sb->nregions = get_be32(blk + SB_NREG);
	memcpy(sb->cluster, blk + SB_CLUSTER, PEXT_NAME_LEN);
	memcpy(sb->lun_name, blk + SB_LUNNAME, PEXT_NAME_LEN);
	sb->format_id = get_be64(blk + SB_FORMATID);
	if (sb->nregions > PEXT_MAX_REGIONS)
		return PEXT_E_FIELD;
	for (i = 0; i < sb->nregions; i++) {
		p = blk + SB_REGIONS + i * SB_REGSIZE;
		sb->regions[i].type = get_be32(p);
		sb->regions[i].flags = get_be32(p + 4);
		sb->regions[i].start = get_be64(p + 8);
		sb->regions[i].count = get_be64(p + 16);
	}
	return super_check(sb);
}

int
pext_hb_encode(uint8_t *blk, const struct pext_hb *hb)
{
	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (hb->node_id > 255 || (hb->mb_flags & ~PEXT_MB_ALL) != 0 ||
	    hb->mb_to > 255)
		return PEXT_E_FIELD;
	hdr_put(blk, &hb->h, PEXT_T_HB);
	put_be32(blk + HB_NODE, hb->node_id);
	put_be16(blk + HB_STATE, hb->state);
	put_be16(blk + HB_OPMODE, hb->opmode);
	put_be64(blk + HB_SEQ, hb->seq);
	put_be64(blk + HB_BOOTID, hb->boot_id);
	put_be64(blk + HB_CFGGEN, hb->cfg_gen);
	put_be32(blk + HB_MBFLAGS, hb->mb_flags);
	put_be32(blk + HB_MBTO, hb->mb_to);
	put_be64(blk + HB_MBSEQ, hb->mb_seq);
	put_be64(blk + HB_MBACK, hb->mb_ack);
	put_be64(blk + HB_RESGEN, hb->res_gen);
	put_be64(blk + HB_MBARG, hb->mb_arg);
	if (hb->gw_version != 0) {
		size_t n = strnlen(hb->gw_reason, PEXT_GW_REASON_LEN);

		if (hb->gw_version != PEXT_GW_VERSION ||
		    hb->gw_state > PEXT_GW_DONE)
			return PEXT_E_FIELD;
		put_be16(blk + HB_GW_VER, hb->gw_version);
		put_be16(blk + HB_GW_STATE, hb->gw_state);
		put_be32(blk + HB_GW_PROG, hb->gw_progress);
		memcpy(blk + HB_GW_REASON, hb->gw_reason, n);
		put_be32(blk + HB_GW_CRC, pext_crc32c(0, blk + HB_GW,
		    HB_GW_CRC - HB_GW));
	}
	crc_put(blk);
	return PEXT_OK;
}

int
pext_hb_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_hb *hb)
{
	int	rc;

	memset(hb, 0, sizeof(*hb));
	if ((rc = hdr_get(blk, w, PEXT_T_HB, &hb->h)) != PEXT_OK)
		return rc;
	hb->node_id = get_be32(blk + HB_NODE);
	hb->state = get_be16(blk + HB_STATE);
	hb->opmode = get_be16(blk + HB_OPMODE);
	hb->seq = get_be64(blk + HB_SEQ);
	hb->boot_id = get_be64(blk + HB_BOOTID);
	hb->cfg_gen = get_be64(blk + HB_CFGGEN);
	hb->mb_flags = get_be32(blk + HB_MBFLAGS);
	hb->mb_to = get_be32(blk + HB_MBTO);
	hb->mb_seq = get_be64(blk + HB_MBSEQ);
	hb->mb_ack = get_be64(blk + HB_MBACK);
	hb->res_gen = get_be64(blk + HB_RESGEN);
	hb->mb_arg = get_be64(blk + HB_MBARG);
	if (get_be16(blk + HB_GW_VER) != 0) {
		/* A record of another version or with a bad checksum is not
		 * trusted: no record (the block itself stays valid). */
		if (get_be16(blk + HB_GW_VER) != PEXT_GW_VERSION ||
		    get_be32(blk + HB_GW_CRC) != pext_crc32c(0, blk + HB_GW,
		    HB_GW_CRC - HB_GW) || get_be16(blk + HB_GW_STATE) >
		    PEXT_GW_DONE)
			hb->gw_bad = 1;
		else {
			hb->gw_version = PEXT_GW_VERSION;
			hb->gw_state = get_be16(blk + HB_GW_STATE);
			hb->gw_progress = get_be32(blk + HB_GW_PROG);
			memcpy(hb->gw_reason, blk + HB_GW_REASON,
			    PEXT_GW_REASON_LEN);
			hb->gw_reason[PEXT_GW_REASON_LEN] = 0;
		}
	}
	if (hb->node_id > 255 || (hb->mb_flags & ~PEXT_MB_ALL) != 0 ||
	    hb->mb_to > 255)
		return PEXT_E_FIELD;
	return PEXT_OK;
}

int
pext_res_encode(uint8_t *blk, const struct pext_res *r)
{
	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (r->owner > 255 || r->prev_owner > 255 ||
	    (r->flags & ~PEXT_RES_TAKEOVER) != 0)
		return PEXT_E_FIELD;
	hdr_put(blk, &r->h, PEXT_T_RES);
	put_be32(blk + RES_OWNER, r->owner);
	put_be32(blk + RES_PREV, r->prev_owner);
	put_be64(blk + RES_GEN, r->generation);
	put_be64(blk + RES_RENEW, r->renew_seq);
	put_be32(blk + RES_LEASE, r->lease_ms);
	put_be32(blk + RES_FLAGS, r->flags);
	put_be64(blk + RES_ACQ, r->acquired_ms);
	crc_put(blk);
	return PEXT_OK;
}

int
pext_res_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_res *r)
{
	int	rc;

	memset(r, 0, sizeof(*r));
	if ((rc = hdr_get(blk, w, PEXT_T_RES, &r->h)) != PEXT_OK)
		return rc;
	r->owner = get_be32(blk + RES_OWNER);
	r->prev_owner = get_be32(blk + RES_PREV);
	r->generation = get_be64(blk + RES_GEN);
	r->renew_seq = get_be64(blk + RES_RENEW);
	r->lease_ms = get_be32(blk + RES_LEASE);
	r->flags = get_be32(blk + RES_FLAGS);
	r->acquired_ms = get_be64(blk + RES_ACQ);
	if (r->owner > 255 || r->prev_owner > 255 ||
	    (r->flags & ~PEXT_RES_TAKEOVER) != 0)
		return PEXT_E_FIELD;
	return PEXT_OK;
}

int
pext_cfgslot_encode(uint8_t *blk, const struct pext_cfgslot *s)
{
	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (s->slot > 1 || s->flags != 0)
		return PEXT_E_FIELD;
	hdr_put(blk, &s->h, PEXT_T_CFGSLOT);
	put_be32(blk + CS_SLOT, s->slot);
	put_be32(blk + CS_FLAGS, s->flags);
	put_be64(blk + CS_GEN, s->generation);
	put_be64(blk + CS_LEN, s->length);
	put_be32(blk + CS_DCRC, s->data_crc);
	crc_put(blk);
	return PEXT_OK;
}

int
pext_cfgslot_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_cfgslot *s)
{
	int	rc;

	memset(s, 0, sizeof(*s));
	if ((rc = hdr_get(blk, w, PEXT_T_CFGSLOT, &s->h)) != PEXT_OK)
		return rc;
	s->slot = get_be32(blk + CS_SLOT);
	s->flags = get_be32(blk + CS_FLAGS);
	s->generation = get_be64(blk + CS_GEN);
	s->length = get_be64(blk + CS_LEN);
	s->data_crc = get_be32(blk + CS_DCRC);
	if (s->slot > 1 || s->flags != 0)
		return PEXT_E_FIELD;
	return PEXT_OK;
}

int
pext_cfg_pick(const struct pext_cfgslot s[2], const int valid[2],
    int *write_slot, uint64_t *next_gen)
{
	int	rd;

	if (valid[0] && valid[1])
		rd = s[1].generation > s[0].generation ? 1 : 0;
	else if (valid[0])
		rd = 0;
	else if (valid[1])
		rd = 1;
	else
		rd = -1;
	/* Never overwrite the newest valid copy. */
	*write_slot = rd == 0 ? 1 : 0;
	if (next_gen != NULL)
		*next_gen = rd < 0 ? 1 : s[rd].generation + 1;
	return rd;
}

const char *
pext_strerror(int err)
{
	switch (err) {
	case PEXT_OK:		return "ok";
	case PEXT_E_EMPTY:	return "block never written (all zero)";
	case PEXT_E_MAGIC:	return "bad magic (not a duonas private extent)";
	case PEXT_E_CRC:	return "checksum mismatch (torn or corrupt block)";
	case PEXT_E_VERSION:	return "unsupported layout version";
	case PEXT_E_TYPE:	return "unexpected block type";
	case PEXT_E_POOL:	return "block belongs to another pool";
	case PEXT_E_LUN:	return "block belongs to another LUN";
	case PEXT_E_BLOCKNO:	return "block written at the wrong place";
	case PEXT_E_FIELD:	return "field out of range";
	case PEXT_E_NOSUPER:	return "no valid super block (damaged or not "
				    "a duonas private extent, not empty)";
	default:		return "unknown private-extent error";
	}
}

/* ---- damage and repair ------------------------------------------------ */

uint32_t
pext_cb_blockno(int cb)
{
	static const uint32_t b[PEXT_CB_COUNT] = {
		0, PEXT_V1_SB_BACKUP, PEXT_V1_HB_BLOCK, PEXT_V1_HB_BLOCK + 1,
		PEXT_V1_RES_BLOCK, PEXT_V1_CFG_A, PEXT_V1_CFG_B,
		PEXT_V1_PSOMARK_BLOCK, PEXT_V1_PSOMARK_BLOCK + 1,
	};

	return cb >= 0 && cb < PEXT_CB_COUNT ? b[cb] : 0;
}

const char *
pext_cb_name(int cb)
{
	static const char *const n[PEXT_CB_COUNT] = {
		"super block", "backup super block",
		"heartbeat block (head slot 0)",
		"heartbeat block (head slot 1)", "reservation block",
		"config slot A header", "config slot B header",
		"PSO marker (head slot 0)", "PSO marker (head slot 1)",
	};

	return cb >= 0 && cb < PEXT_CB_COUNT ? n[cb] : "?";
}

/* Decodes, but for somebody else: another pool, LUN or layout. */
static int
not_ours(int rc)
{
	return rc == PEXT_E_POOL || rc == PEXT_E_LUN || rc == PEXT_E_VERSION;
}

int
pext_judge(const int rc[PEXT_CB_COUNT], struct pext_judgement *j)
{
	int	i, empty = 1, ours = 0;

	memset(j, 0, sizeof(*j));
	j->super_from = -1;
	for (i = 0; i < PEXT_CB_COUNT; i++) {
		if (rc[i] != PEXT_E_EMPTY)
			empty = 0;
		if (rc[i] == PEXT_OK)
			ours = 1;
	}
	if (empty)
		return j->verdict = PEXT_J_EMPTY;
	/* A super block copy that names another owner wins over anything:
	 * never write over somebody else's extent. */
	if (not_ours(rc[PEXT_CB_SUPER]) || not_ours(rc[PEXT_CB_BACKUP]))
		return j->verdict = PEXT_J_FOREIGN;
	if (rc[PEXT_CB_SUPER] == PEXT_OK)
		j->super_from = PEXT_CB_SUPER;
	else if (rc[PEXT_CB_BACKUP] == PEXT_OK)
		j->super_from = PEXT_CB_BACKUP;
	else if (!ours) {
		for (i = 0; i < PEXT_CB_COUNT; i++)
			if (not_ours(rc[i]))
				return j->verdict = PEXT_J_FOREIGN;
		return j->verdict = PEXT_J_UNKNOWN;
	}
	for (i = 0; i < PEXT_CB_COUNT; i++) {
		if (rc[i] == PEXT_OK)
			continue;
		/* a slot or marker never written is not damage: the format
		 * leaves them zero */
		if (i >= PEXT_CB_CFG_A && rc[i] == PEXT_E_EMPTY)
			continue;
		j->damaged |= 1u << i;
	}
	return j->verdict = j->damaged ? PEXT_J_DAMAGED : PEXT_J_OK;
}

uint64_t
pext_res_next_gen(int res_ok, uint64_t res_gen, const uint64_t *seen,
    int nseen, int complete, uint64_t floor)
{
	/* A lost reservation block held at least the format's 1. */
	uint64_t	max = res_ok ? res_gen : 1, next;
	int		i;

	for (i = 0; i < nseen; i++)
		max = MAX(max, seen[i]);
	next = max + 1;
	if (!res_ok && !complete && next < floor)
		next = floor;
	return next;
}

/* ---- PSO marker (type 5) ---- */

#define PM_NODE		48
#define PM_FLAGS	52
#define PM_SEQ		56
#define PM_STORE	64
#define PM_OBJECTS	72
#define PM_MAXVER	80

static int
psomark_check(const struct pext_psomark *m)
{
	if (m->node_id == 0 || m->node_id > 255 ||
	    (m->flags & ~PEXT_PSOMARK_ALL) != 0)
		return PEXT_E_FIELD;
	return PEXT_OK;
}

int
pext_psomark_encode(uint8_t *blk, const struct pext_psomark *m)
{
	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (psomark_check(m) != PEXT_OK)
		return PEXT_E_FIELD;
	hdr_put(blk, &m->h, PEXT_T_PSOMARK);
	put_be32(blk + PM_NODE, m->node_id);
	put_be32(blk + PM_FLAGS, m->flags);
	put_be64(blk + PM_SEQ, m->seq);
	put_be64(blk + PM_STORE, m->store_id);
	put_be64(blk + PM_OBJECTS, m->objects);
	put_be64(blk + PM_MAXVER, m->max_version);
	crc_put(blk);
	return PEXT_OK;
}

int
pext_psomark_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_psomark *m)
{
	int	rc;

	memset(m, 0, sizeof(*m));
	if ((rc = hdr_get(blk, w, PEXT_T_PSOMARK, &m->h)) != PEXT_OK)
		return rc;
	m->node_id = get_be32(blk + PM_NODE);
	m->flags = get_be32(blk + PM_FLAGS);
	m->seq = get_be64(blk + PM_SEQ);
	m->store_id = get_be64(blk + PM_STORE);
	m->objects = get_be64(blk + PM_OBJECTS);
	m->max_version = get_be64(blk + PM_MAXVER);
	return psomark_check(m);
}

/* ---- image slot header (type 6) ---- */

/* The version is 1..31 printable ASCII characters, NUL-padded to 32
 * bytes: it is shown to the admin and compared, never interpreted here. */
static int
imgslot_check(const struct pext_imgslot *s)
{
	size_t	n, i;

	if (s->slot > 1 || s->flags != 0 || s->length == 0)
		return PEXT_E_FIELD;
	n = strnlen(s->version, sizeof(s->version));
	if (n == 0 || n > PEXT_IMG_VERSION_MAX)
		return PEXT_E_FIELD;
	for (i = 0; i < n; i++)
		if (s->version[i] <= ' ' || s->version[i] > '~')
			return PEXT_E_FIELD;
	return PEXT_OK;
}

int
pext_imgslot_encode(uint8_t *blk, const struct pext_imgslot *s)
{
	memset(blk, 0, PEXT_BLOCK_SIZE);
	if (imgslot_check(s) != PEXT_OK)
		return PEXT_E_FIELD;
	hdr_put(blk, &s->h, PEXT_T_IMGSLOT);
	put_be32(blk + IS_SLOT, s->slot);
	put_be32(blk + IS_FLAGS, s->flags);
	put_be64(blk + IS_SEQ, s->seq);
	put_be64(blk + IS_LEN, s->length);
	memcpy(blk + IS_DIGEST, s->digest, sizeof(s->digest));
	memcpy(blk + IS_VERSION, s->version, strlen(s->version));
	crc_put(blk);
	return PEXT_OK;
}

int
pext_imgslot_decode(const uint8_t *blk, const struct pext_where *w,
    struct pext_imgslot *s)
{
	size_t	n, i;
	int	rc;

	memset(s, 0, sizeof(*s));
	if ((rc = hdr_get(blk, w, PEXT_T_IMGSLOT, &s->h)) != PEXT_OK)
		return rc;
	s->slot = get_be32(blk + IS_SLOT);
	s->flags = get_be32(blk + IS_FLAGS);
	s->seq = get_be64(blk + IS_SEQ);
	s->length = get_be64(blk + IS_LEN);
	memcpy(s->digest, blk + IS_DIGEST, sizeof(s->digest));
	/* NUL-padded: a 32nd character or bytes after the first NUL mean
	 * a writer this code does not know. */
	n = strnlen((const char *)blk + IS_VERSION, PEXT_IMG_VERSION_MAX + 1);
	if (n > PEXT_IMG_VERSION_MAX)
		return PEXT_E_FIELD;
	for (i = n; i <= PEXT_IMG_VERSION_MAX; i++)
		if (blk[IS_VERSION + i] != 0)
			return PEXT_E_FIELD;
	memcpy(s->version, blk + IS_VERSION, n);
	return imgslot_check(s);
}

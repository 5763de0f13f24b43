/*
 * pext.h — the private extent's on-disk blocks, as pure encode/decode
 * functions (no I/O).  The layout, every offset and the rules are in
 * docs/private-extent.md; pool.h does the reading and writing.
 *
 * Every block is PEXT_BLOCK_SIZE bytes, big-endian, with a common header
 * and a CRC32C in its last 4 bytes.  Decoders check, in order: empty,
 * magic, CRC, version, type, pool, LUN, block number, field ranges, and
 * return the first failure as a negative PEXT_E_* code.  A block that
 * fails any check must not be trusted.
 * All functions are thread-safe (no global state besides a const table).
 */
#ifndef DUONAS_PEXT_H
#define DUONAS_PEXT_H

#include <stddef.h>
#include <stdint.h>

#define PEXT_BLOCK_SIZE		4096
#define PEXT_MAGIC		0x44504558u	/* "DPEX" */
#define PEXT_VERSION		1
#define PEXT_CRC_OFF		(PEXT_BLOCK_SIZE - 4)
#define PEXT_NAME_LEN		32
#define PEXT_MAX_REGIONS	8

/* Layout version 1 (docs/private-extent.md, "Extent map"), in blocks. */
#define PEXT_V1_EXTENT_BLOCKS	16384u		/* 64 MiB */
#define PEXT_V1_HB_BLOCK	1u		/* + head slot (0 or 1) */
#define PEXT_V1_RES_BLOCK	3u
#define PEXT_V1_CFG_A		256u
#define PEXT_V1_CFG_B		1280u
#define PEXT_V1_CFG_BLOCKS	1024u		/* per slot, header included */
#define PEXT_V1_IMG_START	4096u
#define PEXT_V1_IMG_BLOCKS	12288u
#define PEXT_V1_SB_BACKUP	4095u		/* backup super block */

enum pext_type {
	PEXT_T_SUPER = 1,
	PEXT_T_HB = 2,
	PEXT_T_RES = 3,
	PEXT_T_CFGSLOT = 4,
};

enum pext_region_type {
	PEXT_R_HB = 1,
	PEXT_R_RES = 2,
	PEXT_R_CFG_A = 3,
	PEXT_R_CFG_B = 4,
	PEXT_R_IMAGE = 5,
};

/* Decode errors (negative; I/O errors elsewhere are positive errno). */
enum pext_err {
	PEXT_OK = 0,
	PEXT_E_EMPTY = -1,	/* all zero: never written */
	PEXT_E_MAGIC = -2,
	PEXT_E_CRC = -3,	/* torn or corrupt */
	PEXT_E_VERSION = -4,
	PEXT_E_TYPE = -5,
	PEXT_E_POOL = -6,
	PEXT_E_LUN = -7,
	PEXT_E_BLOCKNO = -8,	/* misdirected write */
	PEXT_E_FIELD = -9,	/* a field is out of range */
	PEXT_E_NOSUPER = -10,	/* pool_lun_load: no super block copy can
				 * be trusted and the extent is not empty */
};

/* Mailbox flags in the heartbeat block. */
#define PEXT_MB_TAKEN_OVER	0x01u
#define PEXT_MB_GIVEWAIT	0x02u
#define PEXT_MB_MBWAIT		0x04u
#define PEXT_MB_GIVEN_BACK	0x08u
#define PEXT_MB_FAULT		0x10u
#define PEXT_MB_KILL		0x20u	/* mb_arg: boot id to fence */
#define PEXT_MB_HANDOVER	0x40u	/* "take this LUN": a LUN fault */
#define PEXT_MB_ALL		0x7fu

/* GIVEWAIT state record in the heartbeat block (version 1). */
#define PEXT_GW_VERSION		1
enum pext_gw_state {
	PEXT_GW_NONE = 0,	/* no giveback in progress */
	PEXT_GW_WAIT = 1,	/* back; our LUN is reserved by the peer */
	PEXT_GW_PREPARING = 2,	/* reservation free: preparing */
	PEXT_GW_READY = 3,	/* prepared (MBWAIT): give back now */
	PEXT_GW_FAILED = 4,	/* cannot get ready: keep serving it */
	PEXT_GW_DONE = 5,	/* serving it again */
};
#define PEXT_GW_P_OPENED	0x1u	/* LUN opened, private extent loaded */
#define PEXT_GW_P_VERIFIED	0x2u	/* private extent verified */
#define PEXT_GW_P_TAKEN_SEEN	0x4u	/* peer's mailbox says TAKEN_OVER */
#define PEXT_GW_P_DATA_OK	0x8u	/* data area checked (fsck/dir) */
#define PEXT_GW_REASON_LEN	48

/* Reservation flags. */
#define PEXT_RES_TAKEOVER	0x01u

/* Common header.  Encoders set version and type themselves. */
struct pext_hdr {
	uint16_t	version;
	uint16_t	type;
	uint64_t	pool_id;
	uint32_t	lun_id;
	uint32_t	blockno;
	uint32_t	writer;		/* node id, 0 = formatter */
	uint64_t	time_ms;	/* writer's wall clock */
};

/* What the reader expects: checked by every decoder.  pool_id 0 and
 * lun_id 0 mean "accept any" (diagnostic tools only). */
struct pext_where {
	uint64_t	pool_id;
	uint32_t	lun_id;
	uint32_t	blockno;
};

struct pext_region {
	uint32_t	type;		/* PEXT_R_* */
	uint32_t	flags;
	uint64_t	start;		/* block */
	uint64_t	count;		/* blocks */
};

struct pext_super {
	struct pext_hdr		h;
	uint64_t		extent_blocks;
	uint32_t		block_size;
	uint32_t		nregions;
	char			cluster[PEXT_NAME_LEN + 1];
	char			lun_name[PEXT_NAME_LEN + 1];
	uint64_t		format_id;
	struct pext_region	regions[PEXT_MAX_REGIONS];
};

struct pext_hb {
	struct pext_hdr	h;
	uint32_t	node_id;
	uint16_t	state;
	uint16_t	opmode;
	uint64_t	seq;
	uint64_t	boot_id;
	uint64_t	cfg_gen;
	uint32_t	mb_flags;	/* PEXT_MB_* */
	uint32_t	mb_to;
	uint64_t	mb_seq;
	uint64_t	mb_ack;
	uint64_t	res_gen;	/* generation record (see docs) */
	uint64_t	mb_arg;		/* KILL: boot id it is aimed at */
	/* GIVEWAIT state record; gw_version 0 = none (decode leaves the
	 * rest zero); a record whose checksum fails decodes as none and
	 * sets gw_bad */
	uint16_t	gw_version;
	uint16_t	gw_state;	/* enum pext_gw_state */
	uint32_t	gw_progress;	/* PEXT_GW_P_* */
	char		gw_reason[PEXT_GW_REASON_LEN + 1];
	int		gw_bad;
};

struct pext_res {
	struct pext_hdr	h;
	uint32_t	owner;		/* 0 = free */
	uint32_t	prev_owner;
	uint64_t	generation;
	uint64_t	renew_seq;
	uint32_t	lease_ms;
	uint32_t	flags;		/* PEXT_RES_* */
	uint64_t	acquired_ms;
};

struct pext_cfgslot {
	struct pext_hdr	h;
	uint32_t	slot;		/* 0 = A, 1 = B */
	uint32_t	flags;
	uint64_t	generation;
	uint64_t	length;		/* data bytes after the header block */
	uint32_t	data_crc;
};

/* CRC32C (Castagnoli).  Chain: crc = pext_crc32c(crc, p, n), start at 0. */
uint32_t	 pext_crc32c(uint32_t crc, const void *p, size_t n);

/* Pool id of a cluster: 64-bit FNV-1a of its name. */
uint64_t	 pext_pool_id(const char *cluster);

/* Fill *sb with the layout-version-1 super block for this LUN (header,
 * region table, names truncated to PEXT_NAME_LEN).  format_id is left 0. */
void		 pext_super_init(struct pext_super *sb, uint64_t pool_id,
		    uint32_t lun_id, const char *cluster, const char *lun_name);

/*
 * Encoders: blk is PEXT_BLOCK_SIZE bytes, fully overwritten (zero padding,
 * CRC last).  Return 0, or PEXT_E_FIELD when the struct holds a value
 * the layout cannot represent (nothing useful is in blk then).
 */
int		 pext_super_encode(uint8_t *blk, const struct pext_super *);
int		 pext_hb_encode(uint8_t *blk, const struct pext_hb *);
int		 pext_res_encode(uint8_t *blk, const struct pext_res *);
int		 pext_cfgslot_encode(uint8_t *blk, const struct pext_cfgslot *);

/*
 * Decoders: check blk (PEXT_BLOCK_SIZE bytes) against w and fill *out.
 * Return 0 or a negative PEXT_E_*; *out is only meaningful on 0.
 */
int		 pext_super_decode(const uint8_t *blk, const struct pext_where *w,
		    struct pext_super *out);
int		 pext_hb_decode(const uint8_t *blk, const struct pext_where *w,
		    struct pext_hb *out);
int		 pext_res_decode(const uint8_t *blk, const struct pext_where *w,
		    struct pext_res *out);
int		 pext_cfgslot_decode(const uint8_t *blk,
		    const struct pext_where *w, struct pext_cfgslot *out);

/*
 * The configuration-slot rule: given both slot headers and whether each
 * slot is valid (header decoded and data CRC matched), return the slot to
 * read (0/1, newest valid; ties go to A) or -1 when neither is valid, and
 * store in *write_slot the slot the next write must go to (the one not
 * holding the newest valid copy).  *next_gen (if not NULL) gets the
 * lowest generation a new write may use.
 */
int		 pext_cfg_pick(const struct pext_cfgslot s[2], const int valid[2],
		    int *write_slot, uint64_t *next_gen);

/* Name of a PEXT_E_* code. */
const char	*pext_strerror(int err);

/*
 * Damage and repair (docs/private-extent.md, "Damage and repair").
 * The control blocks of a layout-version-1 extent, in judging order.
 */
enum pext_cb {
	PEXT_CB_SUPER,		/* block 0 */
	PEXT_CB_BACKUP,		/* PEXT_V1_SB_BACKUP */
	PEXT_CB_HB0,		/* heartbeat, head slot 0 */
	PEXT_CB_HB1,
	PEXT_CB_RES,
	PEXT_CB_CFG_A,		/* config slot headers */
	PEXT_CB_CFG_B,
	PEXT_CB_PSO0,		/* PSO markers (see below), head slot 0 */
	PEXT_CB_PSO1,
	PEXT_CB_COUNT
};

enum pext_verdict {
	PEXT_J_EMPTY,		/* every control block all zero: format it */
	PEXT_J_OK,		/* nothing damaged */
	PEXT_J_DAMAGED,		/* ours; repair what is marked, never format */
	PEXT_J_FOREIGN,		/* another pool/LUN/layout: never touch */
	PEXT_J_UNKNOWN,		/* not empty, nothing ours: forced format only */
};

struct pext_judgement {
	int		verdict;	/* PEXT_J_* */
	unsigned	damaged;	/* bit (1u << PEXT_CB_*) per bad block */
	int		super_from;	/* PEXT_CB_SUPER or _BACKUP: the copy to
					 * trust; -1: rebuild from the layout */
};

/* Block number and name ("super block", ...) of a control block. */
uint32_t	 pext_cb_blockno(int cb);
const char	*pext_cb_name(int cb);

/*
 * Judge an extent from the decode result (0 or PEXT_E_*) of each control
 * block, decoded against this pool and LUN.  Pure; fills *j, returns
 * j->verdict.
 */
int		 pext_judge(const int rc[PEXT_CB_COUNT], struct pext_judgement *j);

/*
 * The fencing generation's one rule: the next reservation generation,
 * strictly above the reservation block's (res_ok: it decoded; res_gen)
 * and every value in seen[] (heartbeat generation records, the issuer's
 * memory).  When the reservation block did not decode it is at least 2
 * (the format wrote 1), and when complete is 0 (some record unreadable
 * or never kept) at least floor (the issuer's wall clock in ms).
 */
uint64_t	 pext_res_next_gen(int res_ok, uint64_t res_gen,
		    const uint64_t *seen, int nseen, int complete,
		    uint64_t floor);

/*
 * PSO marker (issue 10; docs/private-extent.md, "PSO marker"): one block
 * per head slot at PEXT_V1_PSOMARK_BLOCK + slot, inside the reserved
 * blocks of layout version 1, written only by that head's PSO code.
 */
#define PEXT_T_PSOMARK		5
#define PEXT_V1_PSOMARK_BLOCK	4u		/* + head slot (0 or 1) */
#define PEXT_PSOMARK_POPULATED	0x1u		/* the store has held objects */
#define PEXT_PSOMARK_BEHIND	0x2u		/* head lacks peer's writes */
#define PEXT_PSOMARK_ALL	0x3u

struct pext_psomark {
	struct pext_hdr	h;
	uint32_t	node_id;	/* 1..255 */
	uint32_t	flags;		/* PEXT_PSOMARK_* */
	uint64_t	seq;		/* +1 per write; highest wins */
	uint64_t	store_id;
	uint64_t	objects;	/* diagnostics */
	uint64_t	max_version;	/* diagnostics */
};

/* Same contract as the other encoders/decoders above. */
int		 pext_psomark_encode(uint8_t *blk, const struct pext_psomark *);
int		 pext_psomark_decode(const uint8_t *blk,
		    const struct pext_where *w, struct pext_psomark *out);

/*
 * Software image store (docs/boot-images.md, "Image store"): region 5
 * (PEXT_R_IMAGE, from the super block's region table) is two image
 * slots of equal size, each a header block (type 6) followed by the
 * bytes of one software image file.
 */
#define PEXT_T_IMGSLOT		6
#define PEXT_IMG_VERSION_MAX	31

struct pext_imgslot {
	struct pext_hdr	h;
	uint32_t	slot;		/* 0 or 1 (must match where it is) */
	uint32_t	flags;		/* 0 */
	uint64_t	seq;		/* store sequence, highest = newest */
	uint64_t	length;		/* image bytes after the header block */
	uint8_t		digest[32];	/* SHA-256 of those bytes */
	char		version[PEXT_IMG_VERSION_MAX + 1];
};

/* Same contract as the other encoders/decoders above. */
int		 pext_imgslot_encode(uint8_t *blk, const struct pext_imgslot *);
int		 pext_imgslot_decode(const uint8_t *blk,
		    const struct pext_where *w, struct pext_imgslot *out);

#endif

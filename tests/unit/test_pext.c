/*
 * test_pext.c — the private extent: CRC32C against the standard check
 * value and an independent bitwise implementation, golden bytes of every
 * block type (written out field by field from docs/private-extent.md),
 * round trips, every single-bit flip detected, torn writes detected,
 * distinct errors for foreign/misplaced blocks, the config slot rule, and
 * pool.h on a real temporary file (format, read back, config alternation
 * with a corrupted newest slot), and damage: the format/repair verdicts,
 * the fencing generation rule, and repairs on real images (finding 6).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "pool/pext.h"
#include "pool/pool.h"
#include "t.h"

#define BS PEXT_BLOCK_SIZE

static const struct pext_where W_HB = { 0x0102030405060708ULL, 7, 1 };

/* Independent reference: bit-at-a-time CRC32C. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t	c = 0xffffffffu;
	size_t		i;
	int		k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static size_t
unhex(uint8_t *dst, const char *s)
{
	size_t	n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		sscanf(s, "%2x", &v);
		dst[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
test_crc(void)
{
	uint8_t		buf[1000];
	size_t		i;
	uint32_t	c;

	T_EQ(pext_crc32c(0, "123456789", 9), 0xe3069283u,
	    "CRC32C check value of \"123456789\"");
	T_EQ(pext_crc32c(0, "", 0), 0, "CRC32C of nothing is 0");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	T_EQ(pext_crc32c(0, buf, sizeof(buf)), ref_crc32c(buf, sizeof(buf)),
	    "table CRC32C equals bitwise reference");
	c = pext_crc32c(0, buf, 333);
	T_EQ(pext_crc32c(c, buf + 333, sizeof(buf) - 333),
	    pext_crc32c(0, buf, sizeof(buf)), "CRC32C chains");
	/* RFC 3720 B.4: 32 bytes of zeroes -> 0x8a9136aa. */
	memset(buf, 0, 32);
	T_EQ(pext_crc32c(0, buf, 32), 0x8a9136aau, "CRC32C of 32 zero bytes");
	T_EQ(pext_pool_id(""), 0xcbf29ce484222325ULL, "FNV-1a of \"\"");
	T_EQ(pext_pool_id("a"), 0xaf63dc4c8601ec8cULL, "FNV-1a of \"a\"");
}

static void
sample_hb(struct pext_hb *hb)
{
	memset(hb, 0, sizeof(*hb));
	hb->h.pool_id = W_HB.pool_id;
	hb->h.lun_id = 7;
	hb->h.blockno = 1;
	hb->h.writer = 2;
	hb->h.time_ms = 0x1122334455667788ULL;
	hb->node_id = 2;
	hb->state = 8;
	hb->opmode = 1;
	hb->seq = 42;
	hb->boot_id = 0xa1a2a3a4a5a6a7a8ULL;
	hb->cfg_gen = 5;
	hb->mb_flags = PEXT_MB_TAKEN_OVER;
	hb->mb_to = 1;
	hb->mb_seq = 3;
	hb->mb_ack = 4;
}

static void
sample_res(struct pext_res *r)
{
	memset(r, 0, sizeof(*r));
	r->h.pool_id = W_HB.pool_id;
	r->h.lun_id = 7;
	r->h.blockno = 3;
	r->h.writer = 1;
	r->h.time_ms = 1000;
	r->owner = 1;
	r->prev_owner = 2;
	r->generation = 9;
	r->renew_seq = 77;
	r->lease_ms = 3000;
	r->flags = PEXT_RES_TAKEOVER;
	r->acquired_ms = 0x0102;
}

static void
sample_cs(struct pext_cfgslot *s)
{
	memset(s, 0, sizeof(*s));
	s->h.pool_id = W_HB.pool_id;
	s->h.lun_id = 7;
	s->h.blockno = PEXT_V1_CFG_B;
	s->h.writer = 1;
	s->h.time_ms = 2000;
	s->slot = 1;
	s->generation = 12;
	s->length = 5000;
	s->data_crc = 0xdeadbeef;
}

/* Compare blk with want (prefix hex), zeroes up to the CRC, and crc.
 * The CRC literals were computed outside this code base (a bitwise
 * CRC32C in Python over the documented bytes), not by pext.c. */
static void
check_golden(const uint8_t *blk, const char *hex, uint32_t crc,
    const char *what)
{
	uint8_t	want[BS];
	size_t	n;
	char	msg[128];

	memset(want, 0, sizeof(want));
	n = unhex(want, hex);
	put_be32(want + PEXT_CRC_OFF, crc);
	snprintf(msg, sizeof(msg), "%s: golden bytes (%zu-byte prefix, "
	    "zero pad, CRC)", what, n);
	T_MEM(blk, want, BS, msg);
	T_EQ(get_be32(blk + PEXT_CRC_OFF), ref_crc32c(blk, PEXT_CRC_OFF),
	    "CRC field equals reference CRC of bytes 0..4091");
}

static void
test_golden(void)
{
	struct pext_hb		hb, hb2;
	struct pext_res		r, r2;
	struct pext_cfgslot	s, s2;
	struct pext_super	sb, sb2;
	struct pext_where	w;
	uint8_t			blk[BS];

	sample_hb(&hb);
	T_EQ(pext_hb_encode(blk, &hb), 0, "hb encode");
	check_golden(blk,
	    "44504558 0001 0002 0102030405060708 00000007 00000001"
	    " 00000002 00000000 1122334455667788 0000000000000000"
	    " 00000002 0008 0001 000000000000002a a1a2a3a4a5a6a7a8"
	    " 0000000000000005 00000001 00000001 0000000000000003"
	    " 0000000000000004", 0xd67600fau, "hb");
	T_EQ(pext_hb_decode(blk, &W_HB, &hb2), 0, "hb decode");
	hb.h.version = PEXT_VERSION;
	hb.h.type = PEXT_T_HB;
	T_OK(memcmp(&hb, &hb2, sizeof(hb)) == 0, "hb round trip");

	sample_res(&r);
	T_EQ(pext_res_encode(blk, &r), 0, "res encode");
	check_golden(blk,
	    "44504558 0001 0003 0102030405060708 00000007 00000003"
	    " 00000001 00000000 00000000000003e8 0000000000000000"
	    " 00000001 00000002 0000000000000009 000000000000004d"
	    " 00000bb8 00000001 0000000000000102", 0x9056d45cu, "res");
	w = W_HB;
	w.blockno = 3;
	T_EQ(pext_res_decode(blk, &w, &r2), 0, "res decode");
	r.h.version = PEXT_VERSION;
	r.h.type = PEXT_T_RES;
	T_OK(memcmp(&r, &r2, sizeof(r)) == 0, "res round trip");

	sample_cs(&s);
	T_EQ(pext_cfgslot_encode(blk, &s), 0, "cfgslot encode");
	check_golden(blk,
	    "44504558 0001 0004 0102030405060708 00000007 00000500"
	    " 00000001 00000000 00000000000007d0 0000000000000000"
	    " 00000001 00000000 000000000000000c 0000000000001388"
	    " deadbeef", 0x6d371f41u, "cfgslot");
	w.blockno = PEXT_V1_CFG_B;
	T_EQ(pext_cfgslot_decode(blk, &w, &s2), 0, "cfgslot decode");
	s.h.version = PEXT_VERSION;
	s.h.type = PEXT_T_CFGSLOT;
	T_OK(memcmp(&s, &s2, sizeof(s)) == 0, "cfgslot round trip");

	pext_super_init(&sb, W_HB.pool_id, 7, "demo", "lun0");
	sb.h.time_ms = 3000;
	sb.format_id = 0x0f0e0d0c0b0a0908ULL;
	T_EQ(pext_super_encode(blk, &sb), 0, "super encode");
	check_golden(blk,
	    "44504558 0001 0001 0102030405060708 00000007 00000000"
	    " 00000000 00000000 0000000000000bb8 0000000000000000"
	    " 0000000000004000 00001000 00000005"
	    " 64656d6f000000000000000000000000 00000000000000000000000000000000"
	    " 6c756e30000000000000000000000000 00000000000000000000000000000000"
	    " 0f0e0d0c0b0a0908"
	    " 00000001 00000000 0000000000000001 0000000000000002"
	    " 00000002 00000000 0000000000000003 0000000000000001"
	    " 00000003 00000000 0000000000000100 0000000000000400"
	    " 00000004 00000000 0000000000000500 0000000000000400"
	    " 00000005 00000000 0000000000001000 0000000000003000",
	    0x6494fd69u, "super");
	w.blockno = 0;
	T_EQ(pext_super_decode(blk, &w, &sb2), 0, "super decode");
	T_OK(memcmp(&sb, &sb2, sizeof(sb)) == 0, "super round trip");
	T_OK(strcmp(sb2.cluster, "demo") == 0 && strcmp(sb2.lun_name, "lun0")
	    == 0, "super names");
}

/* Flip every bit of an encoded block: every flip must be rejected. */
static void
test_bitflips(void)
{
	struct pext_hb		hb;
	struct pext_res		r;
	struct pext_cfgslot	s;
	struct pext_super	sb;
	struct pext_where	w;
	uint8_t			blk[BS];
	int			t, rc, missed, crcerr;
	size_t			bit;

	for (t = 0; t < 4; t++) {
		w = W_HB;
		switch (t) {
		case 0:
			sample_hb(&hb);
			pext_hb_encode(blk, &hb);
			break;
		case 1:
			sample_res(&r);
			pext_res_encode(blk, &r);
			w.blockno = 3;
			break;
		case 2:
			sample_cs(&s);
			pext_cfgslot_encode(blk, &s);
			w.blockno = PEXT_V1_CFG_B;
			break;
		case 3:
			pext_super_init(&sb, W_HB.pool_id, 7, "demo", "l");
			pext_super_encode(blk, &sb);
			w.blockno = 0;
			break;
		}
		missed = crcerr = 0;
		for (bit = 0; bit < BS * 8; bit++) {
			blk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			switch (t) {
			case 0: rc = pext_hb_decode(blk, &w, &hb); break;
			case 1: rc = pext_res_decode(blk, &w, &r); break;
			case 2: rc = pext_cfgslot_decode(blk, &w, &s); break;
			default: rc = pext_super_decode(blk, &w, &sb); break;
			}
			if (rc == 0)
				missed++;
			if (rc == PEXT_E_CRC)
				crcerr++;
			blk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		T_OK(missed == 0, "type %d: every one of 32768 single-bit "
		    "flips rejected (%d missed)", t + 1, missed);
		/* Only flips inside the magic are reported as bad magic. */
		T_OK(crcerr == BS * 8 - 32, "type %d: all flips outside the "
		    "magic are PEXT_E_CRC (%d)", t + 1, crcerr);
	}
}

/* A 4 KiB write torn at any 512-byte sector boundary, both ways. */
static void
test_torn(void)
{
	struct pext_hb	hb;
	uint8_t		oldb[BS], newb[BS], mix[BS];
	int		k, bad = 0, crc = 0;

	sample_hb(&hb);
	pext_hb_encode(oldb, &hb);
	hb.seq++;
	hb.h.time_ms += 100;
	pext_hb_encode(newb, &hb);
	for (k = 1; k < BS / 512; k++) {
		memcpy(mix, newb, (size_t)k * 512);
		memcpy(mix + k * 512, oldb + k * 512, BS - (size_t)k * 512);
		if (pext_hb_decode(mix, &W_HB, &hb) == PEXT_E_CRC)
			crc++;
		else
			bad++;
		memcpy(mix, oldb, (size_t)k * 512);
		memcpy(mix + k * 512, newb + k * 512, BS - (size_t)k * 512);
		if (pext_hb_decode(mix, &W_HB, &hb) == PEXT_E_CRC)
			crc++;
		else
			bad++;
	}
	T_EQ(bad, 0, "torn writes (new head/old tail and old head/new tail) "
	    "never decode");
	T_EQ(crc, 14, "all 14 torn mixtures report PEXT_E_CRC");
	T_EQ(pext_hb_decode(newb, &W_HB, &hb), 0, "the whole new block is "
	    "fine");
}

static void
test_errors(void)
{
	struct pext_hb		hb, out;
	struct pext_res		r;
	struct pext_where	w;
	uint8_t			blk[BS];

	memset(blk, 0, BS);
	T_EQ(pext_hb_decode(blk, &W_HB, &out), PEXT_E_EMPTY, "zero block");
	sample_hb(&hb);
	pext_hb_encode(blk, &hb);
	blk[0] = 'X';
	T_EQ(pext_hb_decode(blk, &W_HB, &out), PEXT_E_MAGIC, "bad magic");

	pext_hb_encode(blk, &hb);
	put_be16(blk + 4, 2);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_hb_decode(blk, &W_HB, &out), PEXT_E_VERSION,
	    "version 2 with a good CRC");

	pext_hb_encode(blk, &hb);
	T_EQ(pext_res_decode(blk, &W_HB, &r), PEXT_E_TYPE,
	    "heartbeat block read as a reservation");
	w = W_HB;
	w.pool_id++;
	T_EQ(pext_hb_decode(blk, &w, &out), PEXT_E_POOL, "other pool");
	w = W_HB;
	w.lun_id = 8;
	T_EQ(pext_hb_decode(blk, &w, &out), PEXT_E_LUN, "other LUN");
	w = W_HB;
	w.blockno = 2;
	T_EQ(pext_hb_decode(blk, &w, &out), PEXT_E_BLOCKNO,
	    "head 0's block found in head 1's place");
	w.pool_id = 0;
	w.lun_id = 0;
	w.blockno = 1;
	T_EQ(pext_hb_decode(blk, &w, &out), 0, "pool/LUN 0 accept any");

	put_be32(blk + 80, 0x100);	/* unknown mailbox flag */
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_hb_decode(blk, &W_HB, &out), PEXT_E_FIELD,
	    "unknown mailbox flag");
	hb.node_id = 300;
	T_EQ(pext_hb_encode(blk, &hb), PEXT_E_FIELD, "encode node id 300");
	T_OK(strcmp(pext_strerror(PEXT_E_CRC), "checksum mismatch (torn or "
	    "corrupt block)") == 0, "pext_strerror names the CRC error");
}

static void
test_pick(void)
{
	struct pext_cfgslot	s[2];
	int			v[2], ws;
	uint64_t		next;

	memset(s, 0, sizeof(s));
	v[0] = v[1] = 0;
	T_EQ(pext_cfg_pick(s, v, &ws, &next), -1, "no valid slot");
	T_EQ(ws, 0, "first write goes to A");
	T_EQ(next, 1, "first generation 1");
	s[0].generation = 4;
	v[0] = 1;
	T_EQ(pext_cfg_pick(s, v, &ws, &next), 0, "A only");
	T_EQ(ws, 1, "then write B");
	T_EQ(next, 5, "next generation 5");
	s[1].generation = 5;
	v[1] = 1;
	T_EQ(pext_cfg_pick(s, v, &ws, &next), 1, "B newer");
	T_EQ(ws, 0, "write A (older)");
	v[1] = 0;
	T_EQ(pext_cfg_pick(s, v, &ws, &next), 0, "B corrupt: read A");
	T_EQ(ws, 1, "overwrite the corrupt B, keep good A");
	v[1] = 1;
	s[1].generation = 4;
	T_EQ(pext_cfg_pick(s, v, &ws, &next), 0, "tie: A");
}

static void
test_file(void)
{
	char		 path[] = "/tmp/duonas-t-pext.XXXXXX";
	struct pool_lun	 lun, other;
	struct pext_hb	 hb, hb2;
	struct pext_res	 r, r2;
	uint8_t		 blk[BS], *big;
	void		*data;
	size_t		 len;
	uint64_t	 gen, pid = pext_pool_id("demo");
	int		 fd, rc;

	fd = mkstemp(path);
	T_OK(fd != -1, "temp file %s", path);
	if (fd == -1)
		return;
	T_OK(ftruncate(fd, 1024 * 1024) == 0, "1 MiB file");
	close(fd);

	T_EQ(pool_lun_open(&lun, path, pid, 3, 1), 0, "open");
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), ENOSPC,
	    "format refuses a LUN smaller than the extent");
	pool_lun_close(&lun);
	T_OK(truncate(path, (off_t)PEXT_V1_EXTENT_BLOCKS * BS + 1024 * 1024)
	    == 0, "grow to extent + 1 MiB");

	rc = pool_lun_open(&lun, path, pid, 3, 1);
	T_OK(rc == 0, "open (%s)", lun.direct ? "O_DIRECT" : "O_DSYNC");
	T_EQ(pool_lun_load(&lun), PEXT_E_EMPTY, "unformatted LUN: empty");
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), 0, "format");
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), EEXIST,
	    "second format refused without force");
	T_EQ(pool_lun_load(&lun), 0, "load super");
	T_EQ(lun.sb.extent_blocks, PEXT_V1_EXTENT_BLOCKS, "extent size");

	T_EQ(pool_hb_read(&lun, 0, &hb), 0, "formatted hb slot 0");
	T_EQ(hb.seq, 0, "seq 0 after format");
	T_EQ(pool_res_read(&lun, &r), 0, "formatted reservation");
	T_OK(r.owner == 0 && r.generation == 1, "free, generation 1");

	sample_hb(&hb);
	T_EQ(pool_hb_write(&lun, 1, &hb), 0, "hb write slot 1");
	T_EQ(pool_hb_read(&lun, 1, &hb2), 0, "hb read slot 1");
	T_OK(hb2.seq == 42 && hb2.h.writer == 1 && hb2.h.blockno == 2 &&
	    hb2.mb_flags == PEXT_MB_TAKEN_OVER, "hb read back");
	r.owner = 1;
	r.generation = 2;
	r.lease_ms = 3000;
	T_EQ(pool_res_write(&lun, &r), 0, "res write");
	T_EQ(pool_res_read(&lun, &r2), 0, "res read");
	T_OK(r2.owner == 1 && r2.generation == 2, "res read back");

	/* Another cluster's head opening the same LUN. */
	T_EQ(pool_lun_open(&other, path, pext_pool_id("other"), 3, 2), 0,
	    "open as another pool");
	T_EQ(pool_lun_load(&other), PEXT_E_POOL, "foreign pool rejected");
	pool_lun_close(&other);

	/* Corrupt the heartbeat block on disk: detected, not trusted. */
	T_EQ(pool_blk_read(&lun, 2, blk), 0, "raw read");
	blk[100] ^= 0x10;
	T_EQ(pool_blk_write(&lun, 2, blk), 0, "raw write corrupt");
	T_EQ(pool_hb_read(&lun, 1, &hb2), PEXT_E_CRC, "on-disk corruption "
	    "detected");

	/* Configuration replica alternation. */
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), PEXT_E_EMPTY,
	    "no replica yet");
	T_EQ(pool_cfg_write(&lun, 1, "gen-one", 7), 0, "cfg gen 1 (A)");
	T_EQ(pool_cfg_write(&lun, 2, "generation-two", 14), 0,
	    "cfg gen 2 (B)");
	T_EQ(pool_cfg_write(&lun, 2, "x", 1), EINVAL, "same gen refused");
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), 0, "cfg read");
	T_OK(gen == 2 && len == 14 && memcmp(data, "generation-two", 14) ==
	    0, "newest copy (gen 2) read");
	free(data);
	/* Tear the newest slot's header: the older copy survives. */
	T_EQ(pool_blk_read(&lun, PEXT_V1_CFG_B, blk), 0, "read B header");
	memset(blk + 2048, 0, 2048);
	pool_blk_write(&lun, PEXT_V1_CFG_B, blk);
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), 0, "cfg read after "
	    "torn B");
	T_OK(gen == 1 && len == 7 && memcmp(data, "gen-one", 7) == 0,
	    "falls back to gen 1 in A");
	free(data);
	/* The next write must go to B (the invalid one), keeping A. */
	big = xmalloc(3 * BS + 5);
	memset(big, 0x5a, 3 * BS + 5);
	T_EQ(pool_cfg_write(&lun, 3, big, 3 * BS + 5), 0, "cfg gen 3");
	T_EQ(pool_blk_read(&lun, PEXT_V1_CFG_A, blk), 0, "read A header");
	T_EQ(get_be64(blk + 56), 1, "A still holds gen 1");
	/* Corrupt one data byte of gen 3: detected, gen 1 used. */
	T_EQ(pool_blk_read(&lun, PEXT_V1_CFG_B + 3, blk), 0, "read B data");
	blk[7] ^= 1;
	pool_blk_write(&lun, PEXT_V1_CFG_B + 3, blk);
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), 0, "cfg read");
	T_EQ(gen, 1, "corrupt data of gen 3 detected, gen 1 used");
	free(data);
	T_EQ(pool_cfg_write(&lun, 4, big, 8 * 1024 * 1024), EFBIG,
	    "oversized configuration refused");
	free(big);
	T_EQ(pool_cfg_write(&lun, 4, "four", 4), 0, "cfg gen 4");
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), 0, "cfg read");
	T_OK(gen == 4 && len == 4, "gen 4");
	free(data);
	pool_lun_close(&lun);
	unlink(path);
}

/* pext_judge: one case per verdict and per kind of damage. */
static void
test_judge(void)
{
	struct pext_judgement	j;
	int			rc[PEXT_CB_COUNT], i;

#define ALL(v)	for (i = 0; i < PEXT_CB_COUNT; i++) rc[i] = (v)
#define BIT(cb)	(1u << (cb))
	ALL(PEXT_E_EMPTY);
	T_EQ(pext_judge(rc, &j), PEXT_J_EMPTY, "all zero: empty (format)");
	ALL(PEXT_OK);
	T_EQ(pext_judge(rc, &j), PEXT_J_OK, "all valid: ok");
	rc[PEXT_CB_CFG_A] = rc[PEXT_CB_CFG_B] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_OK, "config slots never written: ok");
	T_EQ(j.super_from, PEXT_CB_SUPER, "trust block 0");
	rc[PEXT_CB_SUPER] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED,
	    "zeroed super block: damaged, not empty (finding 6)");
	T_EQ(j.damaged, BIT(PEXT_CB_SUPER), "only the super block");
	T_EQ(j.super_from, PEXT_CB_BACKUP, "restore it from the backup");
	rc[PEXT_CB_SUPER] = PEXT_E_CRC;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED, "corrupt super block");
	T_EQ(j.super_from, PEXT_CB_BACKUP, "from the backup");
	rc[PEXT_CB_BACKUP] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED,
	    "both copies lost, the rest ours: damaged");
	T_EQ(j.super_from, -1, "rebuild from the layout");
	T_EQ(j.damaged, BIT(PEXT_CB_SUPER) | BIT(PEXT_CB_BACKUP),
	    "both copies marked");
	ALL(PEXT_OK);
	rc[PEXT_CB_RES] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED, "zeroed reservation: damaged");
	T_EQ(j.damaged, BIT(PEXT_CB_RES), "the reservation");
	ALL(PEXT_OK);
	rc[PEXT_CB_HB1] = PEXT_E_BLOCKNO;
	rc[PEXT_CB_CFG_A] = PEXT_E_CRC;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED, "misdirected hb, torn slot");
	T_EQ(j.damaged, BIT(PEXT_CB_HB1) | BIT(PEXT_CB_CFG_A), "both marked");
	ALL(PEXT_OK);
	rc[PEXT_CB_BACKUP] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED, "no backup (older format)");
	T_EQ(j.damaged, BIT(PEXT_CB_BACKUP), "the backup is written");
	ALL(PEXT_OK);
	rc[PEXT_CB_SUPER] = PEXT_E_POOL;
	T_EQ(pext_judge(rc, &j), PEXT_J_FOREIGN, "another pool's super block");
	ALL(PEXT_OK);
	rc[PEXT_CB_BACKUP] = PEXT_E_VERSION;
	T_EQ(pext_judge(rc, &j), PEXT_J_FOREIGN, "a newer layout's backup");
	ALL(PEXT_E_EMPTY);
	rc[PEXT_CB_RES] = PEXT_E_LUN;
	T_EQ(pext_judge(rc, &j), PEXT_J_FOREIGN,
	    "nothing ours, another LUN's reservation: foreign");
	ALL(PEXT_E_EMPTY);
	rc[PEXT_CB_CFG_B] = PEXT_E_MAGIC;
	T_EQ(pext_judge(rc, &j), PEXT_J_UNKNOWN,
	    "garbage in one block only: unknown, never formatted");
	ALL(PEXT_E_EMPTY);
	rc[PEXT_CB_PSO1] = PEXT_E_CRC;
	T_EQ(pext_judge(rc, &j), PEXT_J_UNKNOWN,
	    "a PSO marker left: not empty, never formatted");
	ALL(PEXT_OK);
	rc[PEXT_CB_PSO0] = rc[PEXT_CB_PSO1] = PEXT_E_EMPTY;
	T_EQ(pext_judge(rc, &j), PEXT_J_OK, "no PSO markers yet: ok");
	ALL(PEXT_E_EMPTY);
	rc[PEXT_CB_HB0] = PEXT_OK;
	T_EQ(pext_judge(rc, &j), PEXT_J_DAMAGED, "one block ours: damaged");
	T_EQ(j.super_from, -1, "super rebuilt from the layout");
#undef ALL
#undef BIT
	T_EQ(pext_cb_blockno(PEXT_CB_BACKUP), 4095, "backup at block 4095");
	T_EQ(pext_cb_blockno(PEXT_CB_CFG_B), PEXT_V1_CFG_B, "slot B header");
}

/* pext_res_next_gen: the fencing generation never goes down. */
static void
test_next_gen(void)
{
	uint64_t	seen[3] = { 11, 9, 0 };

	T_EQ(pext_res_next_gen(1, 11, seen, 2, 1, 5000), 12,
	    "valid reservation 11: next 12");
	seen[1] = 13;
	T_EQ(pext_res_next_gen(1, 11, seen, 2, 1, 5000), 14,
	    "a generation record of 13 wins over the block's 11");
	seen[1] = 10;
	T_EQ(pext_res_next_gen(0, 0, seen, 2, 1, 5000), 12,
	    "lost reservation, records 11 and 10: rebuilt at 12, not 1");
	T_EQ(pext_res_next_gen(0, 0, NULL, 0, 1, 5000), 2,
	    "lost reservation, no record at all but complete: 2 (above the "
	    "format's 1)");
	T_EQ(pext_res_next_gen(0, 0, seen, 2, 0, 5000), 5000,
	    "incomplete evidence: at least the wall clock");
	T_EQ(pext_res_next_gen(0, 0, seen, 2, 0, 3), 12,
	    "... and still above every record");
	T_EQ(pext_res_next_gen(1, 11, seen, 2, 0, 5000), 12,
	    "the wall clock only when the block itself is lost");
}

/* A fresh file of extent + 1 MiB, formatted for pool "demo", LUN 3. */
static int
damage_lun(char *path, struct pool_lun *lun)
{
	int fd = mkstemp(path);

	if (fd == -1 || ftruncate(fd, (off_t)PEXT_V1_EXTENT_BLOCKS * BS +
	    1024 * 1024) != 0)
		return -1;
	close(fd);
	if (pool_lun_open(lun, path, pext_pool_id("demo"), 3, 1) != 0 ||
	    pool_lun_format(lun, "demo", "lun3", 0) != 0)
		return -1;
	return 0;
}

static void
zero_block(struct pool_lun *lun, uint64_t b)
{
	uint8_t	blk[BS];

	memset(blk, 0, sizeof(blk));
	pool_blk_write(lun, b, blk);
}

static uint64_t
res_gen_on_disk(struct pool_lun *lun)
{
	uint8_t	blk[BS];

	pool_blk_read(lun, PEXT_V1_RES_BLOCK, blk);
	return get_be64(blk + 56);
}

/*
 * Finding 6: one zeroed super block made the home head re-format the
 * extent (fencing generation 11 -> 1, config slot wiped).
 */
static void
test_damage_file(void)
{
	char		 path[] = "/tmp/duonas-t-pextdmg.XXXXXX";
	struct pool_lun	 lun;
	struct pext_res	 r;
	uint8_t		 b0[BS], blk[BS];
	void		*data;
	size_t		 len;
	uint64_t	 gen;

	if (damage_lun(path, &lun) != 0) {
		T_OK(0, "set up %s", path);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.owner = 1;
	r.generation = 11;
	r.lease_ms = 3000;
	T_EQ(pool_res_write(&lun, &r), 0, "reservation at generation 11");
	T_EQ(pool_cfg_write(&lun, 5, "config-five", 11), 0, "a replica");
	T_EQ(pool_blk_read(&lun, 0, b0), 0, "keep the super block");

	zero_block(&lun, 0);
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), EEXIST,
	    "zeroed super block: format refused (not entirely empty)");
	T_EQ(res_gen_on_disk(&lun), 11, "fencing generation still 11");
	T_EQ(pool_lun_load(&lun), 0, "load restores the super block");
	T_EQ(pool_blk_read(&lun, 0, blk), 0, "read block 0");
	T_MEM(blk, b0, BS, "block 0 restored byte for byte (same format_id)");
	T_EQ(pool_cfg_read(&lun, &data, &len, &gen), 0, "replica intact");
	T_EQ(gen, 5, "replica generation 5");
	free(data);
	T_EQ(pool_res_read(&lun, &r), 0, "reservation intact");
	T_EQ(r.generation, 11, "generation 11");

	/* a corrupt (not zero) super block: the same */
	T_EQ(pool_blk_read(&lun, 0, blk), 0, "read block 0");
	blk[70] ^= 0x40;
	pool_blk_write(&lun, 0, blk);
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), EEXIST,
	    "corrupt super block: format refused");
	T_EQ(pool_lun_load(&lun), 0, "load repairs the corrupt super block");
	T_EQ(pool_blk_read(&lun, 0, blk), 0, "read block 0");
	T_MEM(blk, b0, BS, "block 0 restored");
	T_EQ(res_gen_on_disk(&lun), 11, "fencing generation still 11");

	/* only a config slot header is left: still not empty */
	for (uint64_t b = 0; b < PEXT_V1_IMG_START; b++)
		if (b != PEXT_V1_CFG_A)
			zero_block(&lun, b);
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), EEXIST,
	    "a config slot header left: format refused");
	zero_block(&lun, PEXT_V1_CFG_A);
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), 0,
	    "entirely empty extent: formatted");
	T_EQ(res_gen_on_disk(&lun), 1, "a new extent starts at generation 1");
	pool_lun_close(&lun);
	unlink(path);
}

/* Backup, rebuild, periodic check, generation issue, forced format. */
static void
test_repair_file(void)
{
	char		 path[] = "/tmp/duonas-t-pextrep.XXXXXX";
	struct pool_lun	 lun, ro;
	struct pool_scan sc;
	struct pext_res	 r;
	struct pext_hb	 hb;
	uint8_t		 b0[BS], bk[BS], blk[BS];
	uint64_t	 fid, next;

	if (damage_lun(path, &lun) != 0) {
		T_OK(0, "set up %s", path);
		return;
	}
	T_EQ(pool_blk_read(&lun, 0, b0), 0, "read block 0");
	T_EQ(pool_blk_read(&lun, PEXT_V1_SB_BACKUP, bk), 0, "read backup");
	T_EQ(get_be32(bk + 20), PEXT_V1_SB_BACKUP, "backup names its block");
	T_MEM(bk + 128, b0 + 128, 8, "backup has the same format_id");
	T_EQ(pool_lun_scan(&lun, &sc), 0, "scan");
	T_EQ(sc.j.verdict, PEXT_J_OK, "fresh format: ok");
	T_EQ(sc.hb[0].res_gen, 1, "heartbeat blocks record generation 1");
	fid = lun.sb.format_id;

	memset(&r, 0, sizeof(r));
	r.owner = 2;
	r.generation = 11;
	T_EQ(pool_res_write(&lun, &r), 0, "reservation at 11");
	memset(&hb, 0, sizeof(hb));
	hb.node_id = 2;
	hb.res_gen = 11;
	T_EQ(pool_hb_write(&lun, 1, &hb), 0, "head slot 1 records 11");

	/* the periodic check of a running head */
	zero_block(&lun, 0);
	T_EQ(pool_super_check(&lun), 1, "running check rewrites block 0");
	T_OK(strstr(lun.damage, "block 0 (super block)") != NULL,
	    "damage noted: %s", lun.damage);
	T_EQ(pool_blk_read(&lun, 0, blk), 0, "read block 0");
	T_MEM(blk, b0, BS, "block 0 as loaded");
	T_EQ(pool_super_check(&lun), 0, "nothing left to repair");

	/* a reader with pool id 0 reads the backup and writes nothing */
	zero_block(&lun, 0);
	T_EQ(pool_lun_open(&ro, path, 0, 3, 2), 0, "open read-only checker");
	T_EQ(pool_lun_load(&ro), 0, "pool id 0: loads from the backup");
	T_EQ(ro.sb.format_id, fid, "same format_id");
	pool_lun_close(&ro);
	T_EQ(pool_blk_read(&lun, 0, blk), 0, "read block 0");
	T_EQ(get_be32(blk), 0, "block 0 left alone");
	T_EQ(pool_lun_load(&lun), 0, "load restores it");

	/* an extent formatted before backups existed */
	zero_block(&lun, PEXT_V1_SB_BACKUP);
	lun.damage[0] = 0;
	T_EQ(pool_lun_load(&lun), 0, "load without a backup");
	T_EQ(pool_blk_read(&lun, PEXT_V1_SB_BACKUP, blk), 0, "read backup");
	T_MEM(blk, bk, BS, "the backup was written");
	T_EQ(lun.damage[0], 0, "a missing backup is not reported as damage");

	/* both copies gone: rebuilt, the reservation untouched */
	zero_block(&lun, 0);
	zero_block(&lun, PEXT_V1_SB_BACKUP);
	T_EQ(pool_lun_load(&lun), 0, "both copies lost: rebuilt");
	T_OK(lun.sb.format_id != fid, "new format_id");
	T_EQ(lun.sb.extent_blocks, PEXT_V1_EXTENT_BLOCKS, "layout 1");
	T_EQ(res_gen_on_disk(&lun), 11, "fencing generation still 11");

	/* the reservation block lost: the next generation from records */
	zero_block(&lun, PEXT_V1_RES_BLOCK);
	T_EQ(pool_res_gen_next(&lun, 0, 1, &next), 0, "issue");
	T_EQ(next, 12, "reservation lost, record 11: next is 12");
	T_EQ(pool_res_gen_next(&lun, 20, 1, &next), 0, "issue");
	T_EQ(next, 21, "the issuer's memory counts");
	zero_block(&lun, PEXT_V1_HB_BLOCK + 1);
	T_EQ(pool_res_gen_next(&lun, 0, 1, &next), 0, "issue");
	T_OK(next > wall_ms() - 60000, "a record lost too: the wall clock "
	    "(%llu)", (unsigned long long)next);

	/* forced format: the generation goes on */
	memset(&r, 0, sizeof(r));
	r.generation = 30;
	T_EQ(pool_res_write(&lun, &r), 0, "reservation at 30");
	T_EQ(pool_hb_write(&lun, 1, &hb), 0, "slot 1 again");
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 0), EEXIST,
	    "no format without force");
	T_EQ(pool_lun_format(&lun, "demo", "lun3", 1), 0, "forced format");
	T_EQ(res_gen_on_disk(&lun), 31, "forced format continues at 31");
	T_EQ(pool_hb_read(&lun, 0, &hb), 0, "formatted heartbeat");
	T_EQ(hb.res_gen, 31, "with the new record");
	pool_lun_close(&lun);

	/* another pool never touches it */
	T_EQ(pool_lun_open(&ro, path, pext_pool_id("other"), 3, 1), 0,
	    "open as another pool");
	T_EQ(pool_lun_format(&ro, "other", "x", 0), EEXIST,
	    "another pool's extent: no format");
	zero_block(&ro, 0);
	T_EQ(pool_lun_load(&ro), PEXT_E_POOL,
	    "another pool's backup: foreign, not restored");
	T_EQ(pool_blk_read(&ro, 0, blk), 0, "read block 0");
	T_EQ(get_be32(blk), 0, "block 0 not written");
	pool_lun_close(&ro);
	unlink(path);
}

/* tmpfs refuses O_DIRECT on older kernels: the open must still work. */
static void
test_fallback(void)
{
	char		path[] = "/dev/shm/duonas-t-pext.XXXXXX";
	struct pool_lun	lun;
	int		fd, rc;

	if ((fd = mkstemp(path)) == -1) {
		T_OK(1, "# skip: no /dev/shm");
		return;
	}
	T_OK(ftruncate(fd, (off_t)PEXT_V1_EXTENT_BLOCKS * BS) == 0,
	    "sparse tmpfs file");
	close(fd);
	rc = pool_lun_open(&lun, path, 1, 1, 1);
	T_OK(rc == 0, "open on tmpfs (%s)", lun.direct ? "O_DIRECT" :
	    "O_DSYNC fallback");
	T_EQ(pool_lun_format(&lun, "c", "l", 0), 0, "format on tmpfs");
	T_EQ(pool_lun_load(&lun), 0, "load on tmpfs");
	pool_lun_close(&lun);
	unlink(path);
}

/*
 * The mailbox argument and the GIVEWAIT state record (version 1) in the
 * heartbeat block: golden bytes (CRCs computed outside this code base, a
 * bitwise CRC32C in Python over the documented layout), round trip, and
 * a record with a bad checksum or an unknown version decodes as "no
 * record" while the block stays valid.
 */
static void
test_gw_record(void)
{
	struct pext_hb	hb, hb2;
	uint8_t		blk[BS];

	sample_hb(&hb);
	hb.mb_flags = PEXT_MB_KILL | PEXT_MB_HANDOVER;
	hb.mb_arg = 0xb1b2b3b4b5b6b7b8ULL;
	hb.gw_version = PEXT_GW_VERSION;
	hb.gw_state = PEXT_GW_READY;
	hb.gw_progress = 0x0f;
	snprintf(hb.gw_reason, sizeof(hb.gw_reason), "fsck ok");
	T_EQ(pext_hb_encode(blk, &hb), 0, "hb with GIVEWAIT record encode");
	check_golden(blk,
	    "44504558 0001 0002 0102030405060708 00000007 00000001"
	    " 00000002 00000000 1122334455667788 0000000000000000"
	    " 00000002 0008 0001 000000000000002a a1a2a3a4a5a6a7a8"
	    " 0000000000000005 00000060 00000001 0000000000000003"
	    " 0000000000000004 0000000000000000 b1b2b3b4b5b6b7b8"
	    " 0001 0003 0000000f"
	    " 6673636b206f6b000000000000000000"
	    " 00000000000000000000000000000000"
	    " 00000000000000000000000000000000 d24415c3",
	    0xf8a235c5u, "hb + GIVEWAIT record");
	T_EQ(pext_hb_decode(blk, &W_HB, &hb2), 0, "decode");
	hb.h.version = PEXT_VERSION;
	hb.h.type = PEXT_T_HB;
	T_OK(memcmp(&hb, &hb2, sizeof(hb)) == 0, "round trip");

	/* record checksum broken (block CRC recomputed): no record */
	blk[130] ^= 1;
	put_be32(blk + PEXT_CRC_OFF, ref_crc32c(blk, PEXT_CRC_OFF));
	T_EQ(pext_hb_decode(blk, &W_HB, &hb2), 0, "block still valid");
	T_OK(hb2.gw_version == 0 && hb2.gw_bad == 1 && hb2.gw_state == 0,
	    "bad record checksum: no record, flagged");
	T_EQ(hb2.mb_arg, 0xb1b2b3b4b5b6b7b8ULL, "rest of the block intact");

	hb.gw_version = 2;
	T_EQ(pext_hb_encode(blk, &hb), PEXT_E_FIELD, "version 2 refused");
	hb.gw_version = PEXT_GW_VERSION;
	hb.gw_state = 9;
	T_EQ(pext_hb_encode(blk, &hb), PEXT_E_FIELD, "state 9 refused");
	hb.mb_flags = 0x80;
	hb.gw_state = 0;
	T_EQ(pext_hb_encode(blk, &hb), PEXT_E_FIELD, "unknown mailbox flag");
}

/* Image slot header (type 6, docs/boot-images.md "Image store"). */
static void
sample_is(struct pext_imgslot *s)
{
	int	i;

	memset(s, 0, sizeof(*s));
	s->h.pool_id = W_HB.pool_id;
	s->h.lun_id = 7;
	s->h.blockno = PEXT_V1_IMG_START + PEXT_V1_IMG_BLOCKS / 2;
	s->h.writer = 2;
	s->h.time_ms = 3000;
	s->slot = 1;
	s->seq = 5;
	s->length = 3 * 1024 * 1024;
	for (i = 0; i < 32; i++)
		s->digest[i] = (uint8_t)i;
	strcpy(s->version, "0.2.0");
}

static void
test_imgslot(void)
{
	struct pext_imgslot	s, s2;
	struct pext_where	w = W_HB;
	uint8_t			blk[BS];

	sample_is(&s);
	T_EQ(pext_imgslot_encode(blk, &s), 0, "imgslot encode");
	check_golden(blk,
	    "44504558 0001 0006 0102030405060708 00000007 00002800"
	    " 00000002 00000000 0000000000000bb8 0000000000000000"
	    " 00000001 00000000 0000000000000005 0000000000300000"
	    " 000102030405060708090a0b0c0d0e0f"
	    " 101112131415161718191a1b1c1d1e1f"
	    " 302e322e30", 0xb099812bu, "imgslot");
	w.blockno = PEXT_V1_IMG_START + PEXT_V1_IMG_BLOCKS / 2;
	T_EQ(pext_imgslot_decode(blk, &w, &s2), 0, "imgslot decode");
	s.h.version = PEXT_VERSION;
	s.h.type = PEXT_T_IMGSLOT;
	T_OK(memcmp(&s, &s2, sizeof(s)) == 0, "imgslot round trip");

	/* refusals, each with a good CRC so the field check is reached */
	T_EQ(pext_cfgslot_decode(blk, &w, &(struct pext_cfgslot){ 0 }),
	    PEXT_E_TYPE, "image slot header read as a config slot header");
	w.blockno = PEXT_V1_IMG_START;
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_BLOCKNO,
	    "slot 1's header found in slot 0's place");
	w.blockno = PEXT_V1_IMG_START + PEXT_V1_IMG_BLOCKS / 2;
	blk[200] ^= 1;
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_CRC,
	    "a flipped bit in the padding");
	pext_imgslot_encode(blk, &s);
	put_be32(blk + 48, 2);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD, "slot 2");
	pext_imgslot_encode(blk, &s);
	put_be32(blk + 52, 1);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD, "flags 1");
	pext_imgslot_encode(blk, &s);
	put_be64(blk + 64, 0);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD, "length 0");
	pext_imgslot_encode(blk, &s);
	memset(blk + 104, 'a', 32);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD,
	    "version of 32 characters (no NUL)");
	pext_imgslot_encode(blk, &s);
	blk[104 + 10] = 'x';
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD,
	    "a byte after the version's NUL");
	pext_imgslot_encode(blk, &s);
	blk[104 + 1] = '\n';
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD,
	    "a control character in the version");
	pext_imgslot_encode(blk, &s);
	memset(blk + 104, 0, 32);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_imgslot_decode(blk, &w, &s2), PEXT_E_FIELD,
	    "empty version");
	s2 = s;
	s2.version[0] = '\0';
	T_EQ(pext_imgslot_encode(blk, &s2), PEXT_E_FIELD,
	    "encode: empty version");
	s2 = s;
	s2.slot = 3;
	T_EQ(pext_imgslot_encode(blk, &s2), PEXT_E_FIELD, "encode: slot 3");
	s2 = s;
	memset(s2.version, 'v', sizeof(s2.version));
	T_EQ(pext_imgslot_encode(blk, &s2), PEXT_E_FIELD,
	    "encode: version without NUL");
}

int
main(void)
{
	test_crc();
	test_golden();
	test_imgslot();
	test_gw_record();
	test_bitflips();
	test_torn();
	test_errors();
	test_pick();
	test_judge();
	test_next_gen();
	test_file();
	test_damage_file();
	test_repair_file();
	test_fallback();
	return t_done();
}

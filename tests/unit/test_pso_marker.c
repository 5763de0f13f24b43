/*
 * test_pso_marker.c — the PSO marker block of the private extent (issue
 * 10, docs/private-extent.md "PSO marker"): encoding against golden
 * bytes, every decode check (empty, CRC, type, block number, node id,
 * unknown flags), and reading/writing it on a formatted LUN file at its
 * fixed block for both head slots without touching the blocks around it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"
#include "t.h"

static void
test_codec(void)
{
	struct pext_psomark	m, o;
	struct pext_where	w = { 0x1122334455667788ULL, 3, 5 };
	uint8_t			blk[PEXT_BLOCK_SIZE], z[PEXT_BLOCK_SIZE];
	size_t			i;
	int			nz;
	static const uint8_t	golden[96] = {
		0x44, 0x50, 0x45, 0x58, 0x00, 0x01, 0x00, 0x05,	/* DPEX v1 t5 */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* pool */
		0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05,	/* lun, blk */
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,	/* writer */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,	/* time */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,	/* node, flags */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,	/* seq */
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x01,	/* store id */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe9,	/* objects */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,	/* max ver */
		0, 0, 0, 0, 0, 0, 0, 0,
	};

	memset(&m, 0, sizeof(m));
	m.h.pool_id = w.pool_id;
	m.h.lun_id = 3;
	m.h.blockno = 5;
	m.h.writer = 2;
	m.h.time_ms = 1000;
	m.node_id = 2;
	m.flags = PEXT_PSOMARK_POPULATED | PEXT_PSOMARK_BEHIND;
	m.seq = 7;
	m.store_id = 0xdeadbeef00000001ULL;
	m.objects = 1001;
	m.max_version = 42;
	T_EQ(pext_psomark_encode(blk, &m), 0, "encode");
	T_MEM(blk, golden, sizeof(golden), "golden bytes 0..95");
	for (i = sizeof(golden), nz = 0; i < PEXT_CRC_OFF; i++)
		nz += blk[i] != 0;
	T_EQ(nz, 0, "unused bytes zero");
	T_EQ(get_be32(blk + PEXT_CRC_OFF), pext_crc32c(0, blk, PEXT_CRC_OFF),
	    "CRC32C in the last 4 bytes");
	T_EQ(pext_psomark_decode(blk, &w, &o), 0, "decode");
	T_OK(o.node_id == 2 && o.flags == 3 && o.seq == 7 &&
	    o.store_id == m.store_id && o.objects == 1001 &&
	    o.max_version == 42 && o.h.writer == 2, "round trip");

	memset(z, 0, sizeof(z));
	T_EQ(pext_psomark_decode(z, &w, &o), PEXT_E_EMPTY, "all zero: EMPTY");
	blk[70] ^= 1;
	T_EQ(pext_psomark_decode(blk, &w, &o), PEXT_E_CRC, "flipped bit: CRC");
	blk[70] ^= 1;
	w.blockno = 4;
	T_EQ(pext_psomark_decode(blk, &w, &o), PEXT_E_BLOCKNO,
	    "slot 1's block read as slot 0's: BLOCKNO");
	w.blockno = 5;
	w.lun_id = 9;
	T_EQ(pext_psomark_decode(blk, &w, &o), PEXT_E_LUN, "other LUN");
	w.lun_id = 3;
	T_EQ(pext_hb_decode(blk, &w, (struct pext_hb *)&z), PEXT_E_TYPE,
	    "a marker is not a heartbeat block");
	m.flags = 0x4;
	T_EQ(pext_psomark_encode(blk, &m), PEXT_E_FIELD,
	    "unknown flag refused by the encoder");
	m.flags = 1;
	m.node_id = 0;
	T_EQ(pext_psomark_encode(blk, &m), PEXT_E_FIELD, "node 0 refused");
	m.node_id = 256;
	T_EQ(pext_psomark_encode(blk, &m), PEXT_E_FIELD, "node 256 refused");
	/* a block with an unknown flag, correctly checksummed */
	m.node_id = 2;
	pext_psomark_encode(blk, &m);
	put_be32(blk + 52, 0x80);
	put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	T_EQ(pext_psomark_decode(blk, &w, &o), PEXT_E_FIELD,
	    "decoder refuses unknown flags");
}

static void
test_io(const char *dir)
{
	struct pool_lun		lun;
	struct pext_psomark	m, o;
	struct pext_hb		hb;
	char			path[300];
	uint64_t		pool = pext_pool_id("markertest");
	int			fd;

	snprintf(path, sizeof(path), "%s/lun.img", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_OK(fd >= 0 && ftruncate(fd, 80 << 20) == 0, "80 MiB LUN file");
	close(fd);
	T_EQ(pool_lun_open(&lun, path, pool, 4, 1), 0, "open as head 1");
	T_EQ(pool_lun_format(&lun, "markertest", "lun4", 0), 0, "format");
	T_EQ(pool_psomark_read(&lun, 0, &o), PEXT_E_EMPTY,
	    "a formatted LUN has no marker");
	memset(&m, 0, sizeof(m));
	m.node_id = 1;
	m.flags = PEXT_PSOMARK_POPULATED;
	m.seq = 1;
	m.store_id = 77;
	m.objects = 5;
	T_EQ(pool_psomark_write(&lun, 0, &m), 0, "write slot 0");
	T_EQ(pool_psomark_read(&lun, 0, &o), 0, "read slot 0");
	T_OK(o.store_id == 77 && o.objects == 5 && o.h.writer == 1 &&
	    o.h.blockno == 4, "slot 0 at block 4, stamped by head 1");
	T_EQ(pool_psomark_read(&lun, 1, &o), PEXT_E_EMPTY,
	    "slot 1 untouched");
	T_EQ(pool_hb_read(&lun, 0, &hb), 0, "heartbeat block 0 still valid");
	T_EQ(pool_hb_read(&lun, 1, &hb), 0, "heartbeat block 1 still valid");
	T_EQ(pool_psomark_write(&lun, 2, &m), EINVAL, "slot 2 refused");
	pool_lun_close(&lun);

	T_EQ(pool_lun_open(&lun, path, pool, 4, 2), 0, "open as head 2");
	T_EQ(pool_lun_load(&lun), 0, "load");
	m.node_id = 2;
	m.store_id = 88;
	T_EQ(pool_psomark_write(&lun, 1, &m), 0, "head 2 writes slot 1");
	T_EQ(pool_psomark_read(&lun, 1, &o), 0, "read slot 1");
	T_OK(o.store_id == 88 && o.h.blockno == 5, "slot 1 at block 5");
	T_EQ(pool_psomark_read(&lun, 0, &o), 0, "slot 0 still there");
	T_EQ(o.store_id, 77, "slot 0 unchanged");
	pool_lun_close(&lun);

	T_EQ(pool_lun_open(&lun, path, pext_pool_id("other"), 4, 1), 0,
	    "open as another cluster");
	lun.loaded = 1;		/* skip load: only the marker's pool check */
	lun.sb.extent_blocks = PEXT_V1_EXTENT_BLOCKS;
	lun.sb.nregions = 0;
	T_EQ(pool_psomark_read(&lun, 0, &o), PEXT_E_POOL,
	    "another cluster's marker is refused");
	/* a layout whose region table covers the block: no marker there */
	lun.sb.nregions = 1;
	lun.sb.regions[0].type = 9;
	lun.sb.regions[0].start = 4;
	lun.sb.regions[0].count = 2;
	T_EQ(pool_psomark_read(&lun, 0, &o), EINVAL,
	    "region over the marker block: EINVAL");
	pool_lun_close(&lun);
}

int
main(void)
{
	char	tmpl[] = "/tmp/test_pso_marker.XXXXXX", cmd[300];

	log_init("test_pso_marker", 0, 0);
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_codec();
	test_io(tmpl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpl);
	return t_done();
}

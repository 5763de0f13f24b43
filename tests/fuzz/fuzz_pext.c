/*
 * fuzz_pext.c — the private-extent block decoders (src/pool/pext.c):
 * super, heartbeat, reservation, configuration slot, PSO mark and image
 * slot.  The first byte picks the decoder (low bits) and whether the
 * block's CRC is set right before decoding (0x80: the fuzzer then gets
 * past the CRC check to the fields), the next four (big endian) the
 * block number the block is read from; the rest is the block (zero padded, as a
 * short read of the disk would not be: the decoders always get a whole
 * block).
 */
#include "src/common/util.h"
#include "src/pool/pext.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t		 blk[PEXT_BLOCK_SIZE];
	struct pext_where	 w;
	union {
		struct pext_super	s;
		struct pext_hb		h;
		struct pext_res		r;
		struct pext_cfgslot	c;
		struct pext_psomark	p;
		struct pext_imgslot	i;
	} u;

	if (n < 5)
		return 0;
	memset(blk, 0, sizeof(blk));
	memcpy(blk, d + 5, MIN(n - 5, sizeof(blk)));
	w.pool_id = 0x0102030405060708ULL;	/* as in tests/fuzz/mkseeds.c */
	w.lun_id = 7;
	w.blockno = get_be32(d + 1);
	if (d[0] & 0x80)
		put_be32(blk + PEXT_CRC_OFF, pext_crc32c(0, blk, PEXT_CRC_OFF));
	switch ((d[0] & 0x7f) % 6) {
	case 0: (void)pext_super_decode(blk, &w, &u.s); break;
	case 1: (void)pext_hb_decode(blk, &w, &u.h); break;
	case 2: (void)pext_res_decode(blk, &w, &u.r); break;
	case 3: (void)pext_cfgslot_decode(blk, &w, &u.c); break;
	case 4: (void)pext_psomark_decode(blk, &w, &u.p); break;
	case 5: (void)pext_imgslot_decode(blk, &w, &u.i); break;
	}
	return 0;
}

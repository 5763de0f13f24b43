/*
 * fuzz_slotrec.c — one copy of the boot slot record
 * (src/boot/slotrec.c, slotrec_decode), read from the boot partition.
 * The first byte says whether the copy's CRC (its last 4 bytes) is set
 * right before decoding (bit 0: the fuzzer then reaches the fields);
 * the rest is the copy, zero padded to its 512 bytes.
 */
#include "src/pool/pext.h"
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t	 in[SLOTREC_COPY_LEN];
	struct slotrec	 r;
	char		 err[256];

	if (n < 1)
		return 0;
	memset(in, 0, sizeof(in));
	memcpy(in, d + 1, MIN(n - 1, sizeof(in)));
	if (d[0] & 1)
		put_be32(in + sizeof(in) - 4,
		    pext_crc32c(0, in, sizeof(in) - 4));
	if (slotrec_decode(in, &r, err, sizeof(err)) == 0 &&
	    strnlen(r.note, sizeof(r.note)) == sizeof(r.note))
		abort();
	return 0;
}

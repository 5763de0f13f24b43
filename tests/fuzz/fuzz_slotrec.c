/*
 * fuzz_slotrec.c — one copy of the boot slot record
 * (src/boot/slotrec.c, slotrec_decode), read from the boot partition.
 */
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t	 in[SLOTREC_COPY_LEN];
	struct slotrec	 r;
	char		 err[256];

	memset(in, 0, sizeof(in));
	memcpy(in, d, MIN(n, sizeof(in)));
	if (slotrec_decode(in, &r, err, sizeof(err)) == 0 &&
	    strnlen(r.note, sizeof(r.note)) == sizeof(r.note))
		abort();
	return 0;
}

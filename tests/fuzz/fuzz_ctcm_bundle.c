/*
 * fuzz_ctcm_bundle.c — a configuration bundle and a replica image as
 * read from the peer or the pool (ctcm/ctcm_bundle.c:
 * ctcm_bundle_decode, ctcm_image_decode).  The first byte picks which
 * (bit 0) and whether the trailing CRC is set right first (bit 1: the
 * fuzzer then reaches the fields behind the CRC check).
 */
#include "src/pool/pext.h"
#include "ctcm/ctcm_int.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct ctcm_bundle	 b, *v;
	uint64_t		 epoch;
	uint8_t			*p;
	int			 nb;

	if (n < 1)
		return 0;
	if ((p = malloc(n)) == NULL)
		abort();
	memcpy(p, d + 1, n - 1);
	if ((d[0] & 2) && n - 1 >= 4)
		put_be32(p + n - 5, pext_crc32c(0, p, n - 5));
	if (d[0] & 1) {
		if (ctcm_image_decode(p, n - 1, &v, &nb, &epoch) == 0)
			ctcm_bundles_free(v, nb);
	} else if (ctcm_bundle_decode(p, n - 1, &b) == 0)
		ctcm_bundle_free(&b);
	free(p);
	return 0;
}

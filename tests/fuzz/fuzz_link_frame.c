/*
 * fuzz_link_frame.c — the inter-head link's frame decoder
 * (src/link/frame.c, lk_frame_decode) on bytes as they come off the
 * socket: magic, version, length, completeness, MAC, sequence.
 */
#include "src/link/link_int.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct lk_key	 k;
	static int		 ready;
	struct lk_hdr		 h;
	const uint8_t		*pl;
	size_t			 flen;
	uint8_t			*p;

	if (!ready) {
		/* the key the seeds were made with (tests/fuzz/mkseeds.c) */
		if (lk_key_init(&k, (const uint8_t *)"fuzz-cluster-key", 16)
		    != 0)
			abort();
		ready = 1;
	}
	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, d, n);
	(void)lk_frame_decode(p, n, &k, 1, &h, &pl, &flen);
	free(p);
	return 0;
}

/*
 * fuzz_link_hello.c — the HELLO payload of a new link connection
 * (src/link/frame.c, lk_hello_decode): fixed fields, the cluster name.
 */
#include "src/link/link_int.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct lk_hello	 h;
	const char	*why;
	uint8_t		*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, d, n);
	if (lk_hello_decode(p, n, &h, &why) == 0 &&
	    strnlen(h.cluster, sizeof(h.cluster)) == sizeof(h.cluster))
		abort();		/* the name must come out terminated */
	free(p);
	return 0;
}

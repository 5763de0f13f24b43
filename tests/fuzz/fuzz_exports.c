/*
 * fuzz_exports.c — the exports file (src/common/exports.c,
 * exports_parse): paths, client specs, options.
 */
#include "src/common/exports.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct exports_tab	 t;
	char			 err[256];
	char			*s = fuzz_cstr(d, n);

	memset(&t, 0, sizeof(t));
	if (exports_parse(s, n, "fuzz.exports", 0, &t, err, sizeof(err)) == 0)
		exports_free(&t);
	free(s);
	return 0;
}

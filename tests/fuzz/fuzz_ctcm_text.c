/*
 * fuzz_ctcm_text.c — the configuration text an administrator imports
 * (`duonas config import`, ctcm_text_import): section headers, the
 * files inside, the exports and SMB users checks.
 */
#include "ctcm/ctcm_int.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct ctcm_bundle	 b;
	char			 err[256];
	char			*s = fuzz_cstr(d, n);

	ctcm_bundle_init(&b);
	(void)ctcm_text_import(s, n, &b, err, sizeof(err));
	ctcm_bundle_free(&b);
	free(s);
	return 0;
}

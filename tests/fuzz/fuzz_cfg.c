/*
 * fuzz_cfg.c — duonas.conf (src/common/cfg.c, cfg_parse_buf): tokens,
 * blocks, every directive's value checks.
 */
#include "src/common/cfg.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct cfg	 c;
	char			 err[256];
	char			*s = fuzz_cstr(d, n);

	(void)cfg_parse_buf("fuzz.conf", s, n, &c, err, sizeof(err));
	free(s);
	return 0;
}

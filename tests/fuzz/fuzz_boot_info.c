/*
 * fuzz_boot_info.c — the boot info line duonas-boot leaves for the
 * daemon (src/boot/slots.c, boot_info_parse), formatted back when it
 * parses.
 */
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct boot_info	 bi;
	char			 out[512];
	char			*s = fuzz_cstr(d, n);

	if (boot_info_parse(s, &bi) == 0)
		boot_info_format(&bi, out, sizeof(out));
	free(s);
	return 0;
}

/*
 * fuzz_boot_sec.c — the boot section of the configuration
 * (src/boot/bootsec.c, boot_sec_parse): keys, preferred, previous,
 * floor lines.
 */
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct boot_sec	 s;
	char		 err[256];
	char		*t = fuzz_cstr(d, n);

	(void)boot_sec_parse(t, n, &s, err, sizeof(err));
	free(t);
	return 0;
}

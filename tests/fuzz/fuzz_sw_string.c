/*
 * fuzz_sw_string.c — the software string a peer's heartbeat carries
 * (src/boot/swver.c, sw_parse), then the pairing check against our own.
 */
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const struct sw_string me = { .full = 1, .version = "1.0",
	    .digest8 = "01234567", .state = 'g', .wmin = 1, .wmax = 3,
	    .dmin = 1, .dmax = 2, .arch = "x86_64" };
	struct sw_string	 sw;
	char			 out[256], why[256];
	char			*s = fuzz_cstr(d, n);

	if (sw_parse(s, &sw) == 0) {
		sw_format(out, sizeof(out), &sw);
		(void)sw_compatible(&me, &sw, why, sizeof(why));
	}
	free(s);
	return 0;
}

/*
 * fuzz_hb_msg.c — one heartbeat datagram (src/hb/hb.c, hb_msg_decode),
 * then the software string it carries (sw_parse) as a peer would read it.
 */
#include "src/hb/hb.h"
#include "src/boot/slots.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct hb_msg		 m;
	struct sw_string	 sw;
	uint8_t			*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, d, n);
	if (hb_msg_decode(p, n, &m) == 0) {
		if (strnlen(m.swver, sizeof(m.swver)) == sizeof(m.swver))
			abort();
		(void)sw_parse(m.swver, &sw);
	}
	free(p);
	return 0;
}

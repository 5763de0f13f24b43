/*
 * fuzz_image.c — a software image file (src/image/image.c): img_parse
 * (header, manifest, sizes), img_check_payload on what parses, and
 * img_verify with a trusted key, as `duonas image install` and
 * duonas-boot read an uploaded or stored image.
 */
#include "src/image/image.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint8_t	 keys[1][IMG_PUBKEY_LEN] = { { 1, 2, 3 } };
	struct img_info		 info;
	char			 err[256];
	uint8_t			*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, d, n);
	if (img_parse(p, n, &info, err, sizeof(err)) == 0)
		(void)img_check_payload(p, &info, err, sizeof(err));
	(void)img_verify(p, n, keys, 1, &info, err, sizeof(err));
	free(p);
	return 0;
}

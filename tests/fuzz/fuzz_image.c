/*
 * fuzz_image.c — a software image file (src/image/image.c): img_parse
 * (header, manifest, sizes), img_check_payload on what parses, and
 * img_verify with a trusted key, as `duonas image install` and
 * duonas-boot read an uploaded or stored image.  The first byte says
 * whether the header CRC (bytes 60..63, over 0..59) is set right first
 * (bit 0: the fuzzer then reaches the sizes and the manifest); the rest
 * is the image.
 */
#include "src/pool/pext.h"
#include "src/image/image.h"
#include "tests/fuzz/fuzz.h"

#define IMG_HDR_CRC	60	/* src/image/image.c: OFF_CRC */

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint8_t	 keys[1][IMG_PUBKEY_LEN] = { { 1, 2, 3 } };
	struct img_info		 info;
	char			 err[256];
	uint8_t			*p;

	if (n < 1)
		return 0;
	if ((p = malloc(n)) == NULL)
		abort();
	memcpy(p, d + 1, --n);
	if ((d[0] & 1) && n >= IMG_HDR_CRC + 4)
		put_be32(p + IMG_HDR_CRC, pext_crc32c(0, p, IMG_HDR_CRC));
	if (img_parse(p, n, &info, err, sizeof(err)) == 0)
		(void)img_check_payload(p, &info, err, sizeof(err));
	(void)img_verify(p, n, keys, 1, &info, err, sizeof(err));
	free(p);
	return 0;
}

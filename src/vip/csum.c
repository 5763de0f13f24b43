/*
 * csum.c — the Internet checksum (RFC 1071): see csum.h.
 */
#include "vip/csum.h"

uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * garp.c — gratuitous ARP and unsolicited neighbour advertisement frames.
 *
 * Writes every header field explicitly at its offset (Ethernet, ARP, IPv6,
 * ICMPv6) instead of overlaying kernel structs, so the bytes do not depend
 * on struct padding or host byte order, and computes the ICMPv6 checksum
 * (RFC 4443 §2.3: one's complement sum over the IPv6 pseudo-header and the
 * message).  Sending is vip.c's job; nothing here touches a socket.
 */
#include <string.h>

#include "common/util.h"
#include "vip/csum.h"
#include "vip/garp.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t allnodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
static const uint8_t allnodes_ip[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0x01 };

static void
eth_put(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put_be16(p + 12, type);
}

size_t
garp_arp_build(uint8_t *buf, size_t len, const uint8_t mac[6],
    const struct in_addr *ip, enum garp_arp_op op)
{
	uint8_t	*a = buf + 14;

	if (len < GARP_ARP_LEN)
		return 0;
	memset(buf, 0, GARP_ARP_LEN);
	eth_put(buf, bcast, mac, 0x0806);
	put_be16(a, 1);			/* hardware: Ethernet */
	put_be16(a + 2, 0x0800);	/* protocol: IPv4 */
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, (uint16_t)op);
	memcpy(a + 8, mac, 6);		/* sender MAC */
	memcpy(a + 14, &ip->s_addr, 4);	/* sender IP */
	if (op == GARP_REPLY)
		memcpy(a + 18, mac, 6);	/* target MAC (request: zero) */
	memcpy(a + 24, &ip->s_addr, 4);	/* target IP = sender IP */
	return GARP_ARP_LEN;
}

size_t
garp_na_build(uint8_t *buf, size_t len, const uint8_t mac[6],
    const struct in6_addr *ip)
{
	uint8_t		*ip6 = buf + 14, *icmp = buf + 54, pseudo[8];
	uint32_t	 sum;

	if (len < GARP_NA_LEN)
		return 0;
	memset(buf, 0, GARP_NA_LEN);
	eth_put(buf, allnodes_mac, mac, 0x86dd);
	ip6[0] = 0x60;			/* version 6, class 0, flow 0 */
	put_be16(ip6 + 4, 32);		/* payload length */
	ip6[6] = 58;			/* next header: ICMPv6 */
	ip6[7] = 255;			/* hop limit: receivers require 255 */
	memcpy(ip6 + 8, ip->s6_addr, 16);
	memcpy(ip6 + 24, allnodes_ip, 16);

	icmp[0] = 136;			/* neighbour advertisement */
	icmp[1] = 0;
	icmp[4] = 0x20;			/* R=0 S=0 O=1 */
	memcpy(icmp + 8, ip->s6_addr, 16);	/* target */
	icmp[24] = 2;			/* option: target link-layer address */
	icmp[25] = 1;			/* length in units of 8 bytes */
	memcpy(icmp + 26, mac, 6);

	/* Pseudo-header: source, destination, upper-layer length (32),
	 * three zero bytes, next header (58). */
	memset(pseudo, 0, sizeof(pseudo));
	put_be32(pseudo, 32);
	pseudo[7] = 58;
	sum = csum_add(0, ip6 + 8, 32);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	sum = csum_add(sum, icmp, 32);
	put_be16(icmp + 2, csum_fold(sum));
	return GARP_NA_LEN;
}

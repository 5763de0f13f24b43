/*
 * test_garp.c — announcement frames against golden bytes written out
 * field by field: gratuitous ARP request and reply, and the IPv6
 * unsolicited neighbour advertisement, whose checksum literal was
 * computed outside this code (Python) and is re-verified here with an
 * independent reference (the sum over pseudo-header + message, checksum
 * included, must fold to 0xffff).  Only documentation addresses
 * (192.0.2.0/24, 2001:db8::/32) appear.
 */
#include <arpa/inet.h>
#include <string.h>

#include "vip/garp.h"
#include "t.h"

static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a };

static void
test_arp(void)
{
	static const uint8_t want_req[GARP_ARP_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* dst: broadcast */
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,	/* src */
		0x08, 0x06,				/* ARP */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,	/* Ether, IPv4, 6, 4 */
		0x00, 0x01,				/* request */
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,	/* sender MAC */
		192, 0, 2, 10,				/* sender IP */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* target MAC: 0 */
		192, 0, 2, 10,				/* target IP */
		/* 18 bytes of padding to 60 */
	};
	static const uint8_t want_rep[GARP_ARP_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x02,				/* reply */
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,
		192, 0, 2, 10,
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,	/* target MAC: ours */
		192, 0, 2, 10,
	};
	uint8_t		buf[128];
	struct in_addr	ip;

	inet_pton(AF_INET, "192.0.2.10", &ip);
	memset(buf, 0xee, sizeof(buf));
	T_EQ(garp_arp_build(buf, sizeof(buf), mac, &ip, GARP_REQUEST), 60,
	    "request length 60");
	T_MEM(buf, want_req, GARP_ARP_LEN, "gratuitous ARP request golden");
	T_EQ(buf[60], 0xee, "nothing written past the frame");
	T_EQ(garp_arp_build(buf, sizeof(buf), mac, &ip, GARP_REPLY), 60,
	    "reply length 60");
	T_MEM(buf, want_rep, GARP_ARP_LEN, "unsolicited ARP reply golden");
	T_EQ(garp_arp_build(buf, 59, mac, &ip, GARP_REQUEST), 0,
	    "short buffer refused");
}

/* Independent check: RFC 1071 sum over pseudo-header + ICMPv6 message. */
static uint16_t
ref_fold(const uint8_t *frame)
{
	uint8_t		pkt[40 + 32];
	uint32_t	s = 0;
	size_t		i;

	memcpy(pkt, frame + 14 + 8, 32);	/* src, dst */
	memset(pkt + 32, 0, 8);
	pkt[35] = 32;				/* upper-layer length */
	pkt[39] = 58;				/* next header */
	memcpy(pkt + 40, frame + 54, 32);
	for (i = 0; i < sizeof(pkt); i += 2)
		s += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
test_na(void)
{
	static const uint8_t want[GARP_NA_LEN] = {
		0x33, 0x33, 0x00, 0x00, 0x00, 0x01,	/* dst: all nodes */
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,
		0x86, 0xdd,
		/* IPv6 */
		0x60, 0x00, 0x00, 0x00,			/* v6, tc 0, flow 0 */
		0x00, 0x20, 58, 255,			/* len 32, ICMPv6, hops */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* src 2001:db8::10 */
		0, 0, 0, 0, 0, 0, 0, 0x10,
		0xff, 0x02, 0, 0, 0, 0, 0, 0,		/* dst ff02::1 */
		0, 0, 0, 0, 0, 0, 0, 0x01,
		/* ICMPv6 neighbour advertisement */
		136, 0, 0x99, 0x03,			/* type, code, cksum */
		0x20, 0x00, 0x00, 0x00,			/* O flag */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* target */
		0, 0, 0, 0, 0, 0, 0, 0x10,
		2, 1,					/* target LL option */
		0x02, 0x00, 0x5e, 0x00, 0x02, 0x0a,
	};
	uint8_t		buf[128];
	struct in6_addr	ip;

	inet_pton(AF_INET6, "2001:db8::10", &ip);
	T_EQ(garp_na_build(buf, sizeof(buf), mac, &ip), 86, "NA length 86");
	T_MEM(buf, want, GARP_NA_LEN, "unsolicited NA golden");
	T_EQ(ref_fold(buf), 0xffff, "checksum verifies (independent sum)");
	T_EQ(buf[14 + 40 + 4] & 0xe0, 0x20, "Override set, Router and "
	    "Solicited clear");

	/* A second address: only the reference can vouch for the sum. */
	inet_pton(AF_INET6, "2001:db8:ffff::fffe", &ip);
	garp_na_build(buf, sizeof(buf), mac, &ip);
	T_EQ(ref_fold(buf), 0xffff, "checksum verifies for another address");
	T_EQ(garp_na_build(buf, 85, mac, &ip), 0, "short buffer refused");
}

int
main(void)
{
	test_arp();
	test_na();
	return t_done();
}

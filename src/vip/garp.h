/*
 * garp.h — the frames that announce a service IP after a takeover, built
 * by pure functions (no sockets) so they are tested byte for byte.
 *
 * IPv4: gratuitous ARP as both a request and an unsolicited reply,
 * broadcast (ff:ff:ff:ff:ff:ff), sender IP = target IP = the service IP;
 * some hosts only update their cache from one of the two, so both are
 * sent.  Frames are padded to the 60-byte Ethernet minimum.
 * IPv6: unsolicited neighbour advertisement (RFC 4861 §7.2.6) to ff02::1
 * (33:33:00:00:00:01), hop limit 255, Override set, Solicited clear, with
 * a target link-layer address option and the ICMPv6 checksum over the
 * pseudo-header.
 */
#ifndef DUONAS_GARP_H
#define DUONAS_GARP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define GARP_ARP_LEN	60	/* 14 + 28, zero padded to ETH_ZLEN */
#define GARP_NA_LEN	86	/* 14 + 40 + 24 + 8 */

enum garp_arp_op { GARP_REQUEST = 1, GARP_REPLY = 2 };

/*
 * Build a gratuitous ARP frame for ip (network byte order) owned by mac.
 * A request carries target MAC 00:00:00:00:00:00; a reply carries mac as
 * the target MAC too.  Returns GARP_ARP_LEN, or 0 when len is too small.
 */
size_t	garp_arp_build(uint8_t *buf, size_t len, const uint8_t mac[6],
	    const struct in_addr *ip, enum garp_arp_op op);

/* Build an unsolicited neighbour advertisement for ip owned by mac (the
 * IPv6 source is ip itself).  Returns GARP_NA_LEN, or 0 when too small. */
size_t	garp_na_build(uint8_t *buf, size_t len, const uint8_t mac[6],
	    const struct in6_addr *ip);

#endif

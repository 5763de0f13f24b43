/*
 * tickle_wire.c — the bytes of tickle ACKs: the bare TCP ACK (IPv4 or
 * IPv6 packet from the IP header on) and the message that replicates a
 * head's connection list to its peer.
 *
 * Every field is written at its offset with put_be*() rather than
 * through kernel header structs, so the bytes depend neither on struct
 * layout nor on host byte order, and both checksums are computed here
 * (RFC 791 header checksum; RFC 793 / RFC 8200 §8.1 TCP checksum over
 * the pseudo-header): a raw socket with the header included sends what
 * it is given.  Nothing here touches a socket or a list (tickle.c).
 */
#include <string.h>
#include <netinet/in.h>

#include "common/util.h"
#include "vip/csum.h"
#include "vip/tickle.h"

#define TCP_HDR		20
#define TCP_F_ACK	0x10

int
tickle_conn_from(struct tickle_conn *c, const struct sockaddr *local,
    const struct sockaddr *remote)
{
	const struct sockaddr_in	*l4, *r4;
	const struct sockaddr_in6	*l6, *r6;

	memset(c, 0, sizeof(*c));
	if (local->sa_family != remote->sa_family)
		return -1;
	switch (local->sa_family) {
	case AF_INET:
		l4 = (const struct sockaddr_in *)(const void *)local;
		r4 = (const struct sockaddr_in *)(const void *)remote;
		c->family = 4;
		memcpy(c->laddr, &l4->sin_addr, 4);
		memcpy(c->raddr, &r4->sin_addr, 4);
		c->lport = ntohs(l4->sin_port);
		c->rport = ntohs(r4->sin_port);
		return 0;
	case AF_INET6:
		l6 = (const struct sockaddr_in6 *)(const void *)local;
		r6 = (const struct sockaddr_in6 *)(const void *)remote;
		c->family = 6;
		memcpy(c->laddr, &l6->sin6_addr, 16);
		memcpy(c->raddr, &r6->sin6_addr, 16);
		c->lport = ntohs(l6->sin6_port);
		c->rport = ntohs(r6->sin6_port);
		return 0;
	}
	return -1;
}

size_t
tickle_ack_build(uint8_t *buf, size_t len, const struct tickle_conn *c)
{
	uint8_t		*tcp, pseudo[40];
	size_t		 iplen, alen, plen;
	uint32_t	 sum;

	if (c->family == 4) {
		iplen = 20;
		alen = 4;
	} else if (c->family == 6) {
		iplen = 40;
		alen = 16;
	} else
		return 0;
	if (len < iplen + TCP_HDR)
		return 0;
	memset(buf, 0, iplen + TCP_HDR);
	if (c->family == 4) {
		buf[0] = 0x45;			/* version 4, 5 words */
		put_be16(buf + 2, (uint16_t)(iplen + TCP_HDR));
		put_be16(buf + 6, 0x4000);	/* DF, offset 0 (id 0) */
		buf[8] = 64;			/* ttl */
		buf[9] = IPPROTO_TCP;
		memcpy(buf + 12, c->laddr, 4);
		memcpy(buf + 16, c->raddr, 4);
		put_be16(buf + 10, csum_fold(csum_add(0, buf, 20)));
	} else {
		buf[0] = 0x60;			/* version 6, class 0, flow 0 */
		put_be16(buf + 4, TCP_HDR);	/* payload length */
		buf[6] = IPPROTO_TCP;
		buf[7] = 64;			/* hop limit */
		memcpy(buf + 8, c->laddr, 16);
		memcpy(buf + 24, c->raddr, 16);
	}
	tcp = buf + iplen;
	put_be16(tcp, c->lport);
	put_be16(tcp + 2, c->rport);
	/* seq 0 and ack 0: outside any window the client could have open,
	 * so its stack answers with its own ACK (RFC 793 §3.9, "If an
	 * incoming segment is not acceptable, an acknowledgment should be
	 * sent in reply"), and that ACK meets our kernel without a socket */
	tcp[12] = (TCP_HDR / 4) << 4;	/* data offset, no options */
	tcp[13] = TCP_F_ACK;
	put_be16(tcp + 14, TICKLE_WINDOW);

	/* Pseudo-header: addresses, then IPv4 zero/proto/length (12 bytes)
	 * or IPv6 length(32)/zero(24)/next header (40 bytes). */
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, c->laddr, alen);
	memcpy(pseudo + alen, c->raddr, alen);
	if (c->family == 4) {
		pseudo[9] = IPPROTO_TCP;
		put_be16(pseudo + 10, TCP_HDR);
		plen = 12;
	} else {
		put_be32(pseudo + 32, TCP_HDR);
		pseudo[39] = IPPROTO_TCP;
		plen = 40;
	}
	sum = csum_add(0, pseudo, plen);
	sum = csum_add(sum, tcp, TCP_HDR);
	put_be16(tcp + 16, csum_fold(sum));
	return iplen + TCP_HDR;
}

/* ---- the replication message ----------------------------------------- */

static int
ent_ok(enum tickle_kind kind, const struct tickle_ent *e, const char **why)
{
	if (e->c.family != 4 && e->c.family != 6) {
		*why = "bad address family";
		return -1;
	}
	if (e->op != TICKLE_ADD && e->op != TICKLE_DEL) {
		*why = "bad operation";
		return -1;
	}
	if (kind == TICKLE_FULL && e->op != TICKLE_ADD) {
		*why = "a full list may only add";
		return -1;
	}
	if (e->c.family == 4 && (memcmp(e->c.laddr + 4, (uint8_t[12]){ 0 },
	    12) != 0 || memcmp(e->c.raddr + 4, (uint8_t[12]){ 0 }, 12) != 0)) {
		*why = "IPv4 address with trailing bytes";
		return -1;
	}
	return 0;
}

size_t
tickle_msg_encode(uint8_t *buf, size_t len, enum tickle_kind kind,
    uint32_t seq, const struct tickle_ent *e, size_t n)
{
	const char	*why;
	uint8_t		*p;

	if ((kind != TICKLE_FULL && kind != TICKLE_DELTA) ||
	    n > TICKLE_MSG_MAXENT || len < TICKLE_MSG_LEN(n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ent_ok(kind, &e[i], &why) < 0)
			return 0;
	memset(buf, 0, TICKLE_MSG_LEN(n));
	put_be32(buf, TICKLE_MSG_MAGIC);
	buf[4] = TICKLE_MSG_VERSION;
	buf[5] = (uint8_t)kind;
	put_be16(buf + 6, (uint16_t)n);
	put_be32(buf + 8, seq);
	/* 12..15 reserved, 0 */
	for (size_t i = 0; i < n; i++) {
		p = buf + TICKLE_MSG_LEN(i);
		p[0] = e[i].op;
		p[1] = e[i].c.family;
		put_be16(p + 2, e[i].c.lport);
		put_be16(p + 4, e[i].c.rport);
		/* 6..7 reserved, 0 */
		memcpy(p + 8, e[i].c.laddr, 16);
		memcpy(p + 24, e[i].c.raddr, 16);
	}
	return TICKLE_MSG_LEN(n);
}

int
tickle_msg_decode(const uint8_t *p, size_t len, enum tickle_kind *kind,
    uint32_t *seq, size_t *n, const char **why)
{
	size_t cnt;

	if (len < TICKLE_MSG_HDR) {
		*why = "shorter than its header";
		return -1;
	}
	if (get_be32(p) != TICKLE_MSG_MAGIC) {
		*why = "bad magic";
		return -1;
	}
	if (p[4] != TICKLE_MSG_VERSION) {
		*why = "unknown version";
		return -1;
	}
	if (p[5] != TICKLE_FULL && p[5] != TICKLE_DELTA) {
		*why = "unknown kind";
		return -1;
	}
	cnt = get_be16(p + 6);
	if (cnt > TICKLE_MSG_MAXENT) {
		*why = "more entries than a list holds";
		return -1;
	}
	if (len != TICKLE_MSG_LEN(cnt)) {
		*why = "length does not match the entry count";
		return -1;
	}
	*kind = (enum tickle_kind)p[5];
	*seq = get_be32(p + 8);
	*n = cnt;
	return 0;
}

int
tickle_msg_entry(const uint8_t *p, size_t i, enum tickle_kind kind,
    struct tickle_ent *e, const char **why)
{
	const uint8_t *q = p + TICKLE_MSG_LEN(i);

	memset(e, 0, sizeof(*e));
	e->op = q[0];
	e->c.family = q[1];
	e->c.lport = get_be16(q + 2);
	e->c.rport = get_be16(q + 4);
	memcpy(e->c.laddr, q + 8, 16);
	memcpy(e->c.raddr, q + 24, 16);
	return ent_ok(kind, e, why);
}

/*
 * test_tickle.c — tickle ACK frames and the connection-list message
 * against golden bytes written out field by field.  The two checksum
 * literals of each frame were computed outside this code (Python, with
 * its own packing and one's complement sum) and are re-verified here by
 * an independent reference: the sum over the pseudo-header and the TCP
 * segment (and over the IPv4 header), checksums included, must fold to
 * 0xffff.  The decoder is fed every kind of bad message it must refuse.
 * Only documentation addresses (192.0.2.0/24, 2001:db8::/32) appear.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "vip/tickle.h"
#include "t.h"

static struct tickle_conn
conn(const char *l, int lport, const char *r, int rport)
{
	struct sockaddr_storage	ls, rs;
	struct sockaddr_in	*l4 = (struct sockaddr_in *)&ls;
	struct sockaddr_in	*r4 = (struct sockaddr_in *)&rs;
	struct sockaddr_in6	*l6 = (struct sockaddr_in6 *)&ls;
	struct sockaddr_in6	*r6 = (struct sockaddr_in6 *)&rs;
	struct tickle_conn	c;

	memset(&ls, 0, sizeof(ls));
	memset(&rs, 0, sizeof(rs));
	if (strchr(l, ':') == NULL) {
		l4->sin_family = r4->sin_family = AF_INET;
		inet_pton(AF_INET, l, &l4->sin_addr);
		inet_pton(AF_INET, r, &r4->sin_addr);
		l4->sin_port = htons((uint16_t)lport);
		r4->sin_port = htons((uint16_t)rport);
	} else {
		l6->sin6_family = r6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, l, &l6->sin6_addr);
		inet_pton(AF_INET6, r, &r6->sin6_addr);
		l6->sin6_port = htons((uint16_t)lport);
		r6->sin6_port = htons((uint16_t)rport);
	}
	if (tickle_conn_from(&c, (struct sockaddr *)&ls,
	    (struct sockaddr *)&rs) < 0)
		memset(&c, 0, sizeof(c));
	return c;
}

/* Independent reference: RFC 1071 sum of n bytes, folded. */
static unsigned
rfc1071(const uint8_t *p, size_t n, unsigned sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (unsigned)p[i] * 256 + p[i + 1];
	if (n & 1)
		sum += (unsigned)p[n - 1] * 256;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void
test_ack4(void)
{
	static const uint8_t want[TICKLE_ACK4_LEN] = {
		0x45, 0x00, 0x00, 0x28,		/* v4, ihl 5, tos, length 40 */
		0x00, 0x00, 0x40, 0x00,		/* id 0, DF */
		0x40, 0x06, 0xb6, 0x61,		/* ttl 64, TCP, checksum */
		192, 0, 2, 10,			/* source: the service IP */
		192, 0, 2, 100,			/* destination: the client */
		0x08, 0x01, 0x9c, 0x40,		/* ports 2049 -> 40000 */
		0x00, 0x00, 0x00, 0x00,		/* seq 0 */
		0x00, 0x00, 0x00, 0x00,		/* ack 0 */
		0x50, 0x10, 0x04, 0x00,		/* offset 5, ACK, window 1024 */
		0x83, 0x24, 0x00, 0x00,		/* checksum, urgent 0 */
	};
	struct tickle_conn	c = conn("192.0.2.10", 2049, "192.0.2.100",
				    40000);
	uint8_t			buf[128], pseudo[12];

	T_EQ(c.family, 4, "IPv4 connection from socket addresses");
	memset(buf, 0xee, sizeof(buf));
	T_EQ(tickle_ack_build(buf, sizeof(buf), &c), TICKLE_ACK4_LEN,
	    "IPv4 tickle ACK is 40 bytes");
	T_MEM(buf, want, sizeof(want), "IPv4 tickle ACK golden");
	T_EQ(buf[TICKLE_ACK4_LEN], 0xee, "nothing written past the frame");
	T_EQ(rfc1071(buf, 20, 0), 0xffff, "IPv4 header checksum verifies");
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, buf + 12, 8);
	pseudo[9] = 6;
	pseudo[11] = 20;
	T_EQ(rfc1071(buf + 20, 20, rfc1071(pseudo, 12, 0)), 0xffff,
	    "TCP checksum verifies over the IPv4 pseudo-header");
	T_EQ(tickle_ack_build(buf, TICKLE_ACK4_LEN - 1, &c), 0,
	    "short buffer refused");
}

static void
test_ack6(void)
{
	static const uint8_t want[TICKLE_ACK6_LEN] = {
		0x60, 0x00, 0x00, 0x00,		/* v6, class 0, flow 0 */
		0x00, 0x14, 0x06, 0x40,		/* payload 20, TCP, hops 64 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x10,	/* source 2001:db8::10 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0x01, 0x00,	/* dest. 2001:db8::100 */
		0x08, 0x01, 0x9c, 0x40,		/* ports 2049 -> 40000 */
		0x00, 0x00, 0x00, 0x00,		/* seq 0 */
		0x00, 0x00, 0x00, 0x00,		/* ack 0 */
		0x50, 0x10, 0x04, 0x00,		/* offset 5, ACK, window 1024 */
		0xab, 0x11, 0x00, 0x00,		/* checksum, urgent 0 */
	};
	struct tickle_conn	c = conn("2001:db8::10", 2049, "2001:db8::100",
				    40000);
	uint8_t			buf[128], pseudo[40];

	T_EQ(c.family, 6, "IPv6 connection from socket addresses");
	memset(buf, 0xee, sizeof(buf));
	T_EQ(tickle_ack_build(buf, sizeof(buf), &c), TICKLE_ACK6_LEN,
	    "IPv6 tickle ACK is 60 bytes");
	T_MEM(buf, want, sizeof(want), "IPv6 tickle ACK golden");
	T_EQ(buf[TICKLE_ACK6_LEN], 0xee, "nothing written past the frame");
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, buf + 8, 32);
	pseudo[35] = 20;
	pseudo[39] = 6;
	T_EQ(rfc1071(buf + 40, 20, rfc1071(pseudo, 40, 0)), 0xffff,
	    "TCP checksum verifies over the IPv6 pseudo-header");
	T_EQ(tickle_ack_build(buf, TICKLE_ACK6_LEN - 1, &c), 0,
	    "short buffer refused");
}

static void
test_conn_from(void)
{
	struct sockaddr_in	l4;
	struct sockaddr_in6	r6;
	struct tickle_conn	c;

	memset(&l4, 0, sizeof(l4));
	memset(&r6, 0, sizeof(r6));
	l4.sin_family = AF_INET;
	r6.sin6_family = AF_INET6;
	T_EQ(tickle_conn_from(&c, (struct sockaddr *)&l4,
	    (struct sockaddr *)&r6), -1, "mixed families refused");
	l4.sin_family = AF_UNIX;
	T_EQ(tickle_conn_from(&c, (struct sockaddr *)&l4,
	    (struct sockaddr *)&l4), -1, "non-IP family refused");
	c = conn("192.0.2.10", 2049, "192.0.2.100", 40000);
	T_EQ(c.lport, 2049, "local port in host order");
	T_EQ(c.rport, 40000, "remote port in host order");
	T_OK(memcmp(c.laddr + 4, (uint8_t[12]){ 0 }, 12) == 0,
	    "IPv4 address zero padded to 16 bytes");
}

static void
test_msg(void)
{
	static const uint8_t want[TICKLE_MSG_LEN(2)] = {
		0x44, 0x54, 0x4b, 0x31,		/* magic "DTK1" */
		0x01, 0x02, 0x00, 0x02,		/* version 1, DELTA, 2 entries */
		0x00, 0x00, 0x00, 0x07,		/* seq 7 */
		0x00, 0x00, 0x00, 0x00,		/* reserved */
		/* entry 0: ADD, IPv4, 2049 <- 40000 */
		0x01, 0x04, 0x08, 0x01, 0x9c, 0x40, 0x00, 0x00,
		192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* entry 1: DEL, IPv6, 2049 <- 1023 */
		0x02, 0x06, 0x08, 0x01, 0x03, 0xff, 0x00, 0x00,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x00,
	};
	struct tickle_ent	e[2], got;
	enum tickle_kind	kind;
	uint32_t		seq;
	size_t			n;
	uint8_t			buf[256], bad[256];
	const char		*why = "";

	memset(e, 0, sizeof(e));
	e[0].op = TICKLE_ADD;
	e[0].c = conn("192.0.2.10", 2049, "192.0.2.100", 40000);
	e[1].op = TICKLE_DEL;
	e[1].c = conn("2001:db8::10", 2049, "2001:db8::100", 1023);
	memset(buf, 0xee, sizeof(buf));
	T_EQ(tickle_msg_encode(buf, sizeof(buf), TICKLE_DELTA, 7, e, 2),
	    TICKLE_MSG_LEN(2), "delta of two entries is 96 bytes");
	T_MEM(buf, want, sizeof(want), "connection list message golden");
	T_EQ(buf[TICKLE_MSG_LEN(2)], 0xee, "nothing written past it");
	T_EQ(tickle_msg_encode(buf, TICKLE_MSG_LEN(2) - 1, TICKLE_DELTA, 7,
	    e, 2), 0, "short buffer refused");
	T_EQ(tickle_msg_encode(buf, sizeof(buf), TICKLE_FULL, 7, e, 2), 0,
	    "a full list with a removal is not encoded");

	T_EQ(tickle_msg_decode(want, sizeof(want), &kind, &seq, &n, &why), 0,
	    "golden message decodes");
	T_OK(kind == TICKLE_DELTA && seq == 7 && n == 2,
	    "kind, seq and count read back");
	T_EQ(tickle_msg_entry(want, 1, kind, &got, &why), 0, "entry 1 reads");
	T_OK(got.op == TICKLE_DEL && got.c.family == 6 &&
	    got.c.lport == 2049 && got.c.rport == 1023 &&
	    memcmp(got.c.raddr, e[1].c.raddr, 16) == 0,
	    "entry 1 equals what was encoded");

	/* refusals: each names its reason */
	T_OK(tickle_msg_decode(want, 15, &kind, &seq, &n, &why) == -1,
	    "shorter than the header refused (%s)", why);
#define BAD(off, val, what) do {					\
	memcpy(bad, want, sizeof(want));				\
	bad[off] = (val);						\
	T_EQ(tickle_msg_decode(bad, sizeof(want), &kind, &seq, &n, &why),\
	    -1, what);							\
	printf("#   reason: %s\n", why);				\
} while (0)
	BAD(0, 0x45, "bad magic refused");
	BAD(4, 2, "unknown version refused");
	BAD(5, 3, "unknown kind refused");
	BAD(7, 3, "count larger than the payload refused");
	BAD(6, 0x40, "count over the list maximum refused");
#undef BAD
	T_OK(tickle_msg_decode(want, sizeof(want) - 1, &kind, &seq, &n,
	    &why) == -1,
	    "truncated entry refused (%s)", why);
	memcpy(bad, want, sizeof(want));
	bad[16 + 1] = 5;
	T_OK(tickle_msg_entry(bad, 0, TICKLE_DELTA, &got, &why) == -1,
	    "entry with address family 5 refused (%s)", why);
	memcpy(bad, want, sizeof(want));
	bad[16] = 3;
	T_OK(tickle_msg_entry(bad, 0, TICKLE_DELTA, &got, &why) == -1,
	    "entry with operation 3 refused (%s)", why);
	T_OK(tickle_msg_entry(want, 1, TICKLE_FULL, &got, &why) == -1,
	    "removal inside a full list refused (%s)", why);
	memcpy(bad, want, sizeof(want));
	bad[16 + 8 + 5] = 1;
	T_OK(tickle_msg_entry(bad, 0, TICKLE_DELTA, &got, &why) == -1,
	    "IPv4 entry with bytes past its address refused (%s)", why);
}

int
main(void)
{
	test_ack4();
	test_ack6();
	test_conn_from();
	test_msg();
	return t_done();
}

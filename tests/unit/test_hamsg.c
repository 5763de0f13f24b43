/*
 * test_hamsg.c — the HA control message (src/ha/ha_msg.c): golden bytes
 * of a PLACE with one LUN and one IP entry and of a KILL, round trips,
 * and every malformed variant rejected with its error.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "ha/ha_msg.h"
#include "t.h"

static size_t
unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;
	unsigned v;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void
sample_place(struct ha_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->op = HA_MSG_PLACE;
	m->node_id = 2;
	m->flags = HA_MSG_F_HANDOVER;
	m->boot_id = 0x0102030405060708ULL;
	m->place_ver = 5;
	m->nlun = 1;
	m->lun[0].lun_id = 7;
	m->lun[0].node = 1;
	m->nip = 1;
	snprintf(m->ip[0].addr, sizeof(m->ip[0].addr), "10.0.0.1");
	m->ip[0].node = 2;
	snprintf(m->why, sizeof(m->why), "io");
}

static void
test_golden(void)
{
	struct ha_msg	m, m2;
	uint8_t		buf[HA_MSG_MAXLEN], want[128];
	size_t		n;
	int		len;

	sample_place(&m);
	len = ha_msg_encode(buf, sizeof(buf), &m);
	n = unhex(want, "44484331 01 01 0046 00000002 00000002"
	    " 0102030405060708 0000000000000000 0000000000000005 0001 0001"
	    " 00000007 00000001"
	    " 08 31302e302e302e31 00000002"
	    " 0000"
	    " 02 696f");
	T_EQ(len, (long long)n, "PLACE length");
	T_MEM(buf, want, n, "PLACE golden bytes");
	T_EQ(ha_msg_decode(buf, (size_t)len, &m2), 0, "PLACE decode");
	T_OK(memcmp(&m, &m2, sizeof(m)) == 0, "PLACE round trip");

	memset(&m, 0, sizeof(m));
	m.op = HA_MSG_KILL;
	m.node_id = 1;
	m.boot_id = 0xaa;
	m.target_boot = 0xbb;
	len = ha_msg_encode(buf, sizeof(buf), &m);
	n = unhex(want, "44484331 01 02 002f 00000001 00000000"
	    " 00000000000000aa 00000000000000bb 0000000000000000 0000 0000"
	    " 0000 00");
	T_EQ(len, (long long)n, "KILL length 47");
	T_MEM(buf, want, n, "KILL golden bytes");
	T_EQ(ha_msg_decode(buf, (size_t)len, &m2), 0, "KILL decode");
	T_OK(m2.op == HA_MSG_KILL && m2.target_boot == 0xbb, "KILL fields");

	memset(&m, 0, sizeof(m));
	m.op = HA_MSG_GIVEWAIT;
	m.node_id = 1;
	m.ngw = 1;
	m.gw[0].lun_id = 2;
	m.gw[0].state = 4;
	m.gw[0].progress = 0x0001;
	snprintf(m.gw[0].reason, sizeof(m.gw[0].reason), "EIO");
	len = ha_msg_encode(buf, sizeof(buf), &m);
	n = unhex(want, "44484331 01 04 003b 00000001 00000000"
	    " 0000000000000000 0000000000000000 0000000000000000 0000 0000"
	    " 0001 00000002 0004 0001 03 45494f 00");
	T_EQ(len, (long long)n, "GIVEWAIT length");
	T_MEM(buf, want, n, "GIVEWAIT golden bytes");
	T_EQ(ha_msg_decode(buf, (size_t)len, &m2), 0, "GIVEWAIT decode");
	T_OK(memcmp(&m, &m2, sizeof(m)) == 0, "GIVEWAIT round trip");
	buf[51] = 6;	/* state 6 */
	T_EQ(ha_msg_decode(buf, (size_t)len, &m2), HA_MSG_E_FIELD,
	    "GIVEWAIT state 6 refused");
}

static void
test_bad(void)
{
	struct ha_msg	m, m2;
	uint8_t		buf[HA_MSG_MAXLEN], b2[HA_MSG_MAXLEN];
	int		len;

	sample_place(&m);
	len = ha_msg_encode(buf, sizeof(buf), &m);
	T_EQ(ha_msg_decode(buf, 10, &m2), HA_MSG_E_SHORT, "short");
	memcpy(b2, buf, (size_t)len);
	b2[0] ^= 1;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_MAGIC, "magic");
	memcpy(b2, buf, (size_t)len);
	b2[4] = 2;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_VERSION,
	    "version");
	T_EQ(ha_msg_decode(buf, (size_t)len - 1, &m2), HA_MSG_E_LENGTH,
	    "truncated");
	memcpy(b2, buf, (size_t)len);
	b2[5] = 9;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD, "op 9");
	memcpy(b2, buf, (size_t)len);
	b2[15] = 0x80;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD,
	    "unknown flag");
	memcpy(b2, buf, (size_t)len);
	b2[11] = 0;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD, "node 0");
	memcpy(b2, buf, (size_t)len);
	b2[len - 1] = 0x07;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD,
	    "control character in why");
	memcpy(b2, buf, (size_t)len);
	b2[43] = 9;	/* nip 9: the entries run past the end */
	T_OK(ha_msg_decode(b2, (size_t)len, &m2) < 0, "ip count too high");
	memcpy(b2, buf, (size_t)len);
	b2[60] = 0;	/* ip addr_len 0 */
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD,
	    "empty ip address");
	memcpy(b2, buf, (size_t)len);
	b2[59] = 0x01;	/* lun node 257 */
	b2[58] = 0x01;
	T_EQ(ha_msg_decode(b2, (size_t)len, &m2), HA_MSG_E_FIELD,
	    "lun node above 255");
	m.op = 0;
	T_EQ(ha_msg_encode(buf, sizeof(buf), &m), HA_MSG_E_FIELD,
	    "encode refuses op 0");
	sample_place(&m);
	m.nlun = HA_MSG_MAXLUN + 1;
	T_EQ(ha_msg_encode(buf, sizeof(buf), &m), HA_MSG_E_FIELD,
	    "encode refuses too many LUNs");
	T_OK(strcmp(ha_msg_strerror(HA_MSG_E_LENGTH), "length does not "
	    "match the content") == 0, "error text");
}

int
main(void)
{
	test_golden();
	test_bad();
	return t_done();
}

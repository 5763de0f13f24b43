/*
 * ha_msg.c — encode/decode of the HA control message (ha_msg.h).
 * Every field is checked on decode: a message that does not parse
 * exactly is rejected as a whole, with an error naming the problem.
 */
#include <string.h>

#include "common/util.h"
#include "ha/ha_msg.h"

static int
text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
ha_msg_encode(uint8_t *buf, size_t buflen, const struct ha_msg *m)
{
	size_t	off = HA_MSG_HDRLEN, n;

	if (m->op < HA_MSG_PLACE || m->op > HA_MSG_RELEASED ||
	    m->node_id == 0 || m->node_id > 255 ||
	    (m->flags & ~HA_MSG_F_ALL) != 0 ||
	    m->nlun < 0 || m->nlun > HA_MSG_MAXLUN ||
	    m->nip < 0 || m->nip > HA_MSG_MAXIP ||
	    m->ngw < 0 || m->ngw > HA_MSG_MAXLUN)
		return HA_MSG_E_FIELD;
	if (buflen < HA_MSG_MAXLEN)
		return HA_MSG_E_LENGTH;
	memset(buf, 0, HA_MSG_HDRLEN);
	put_be32(buf, HA_MSG_MAGIC);
	buf[4] = HA_MSG_VERSION;
	buf[5] = m->op;
	put_be32(buf + 8, m->node_id);
	put_be32(buf + 12, m->flags);
	put_be64(buf + 16, m->boot_id);
	put_be64(buf + 24, m->target_boot);
	put_be64(buf + 32, m->place_ver);
	put_be16(buf + 40, (uint16_t)m->nlun);
	put_be16(buf + 42, (uint16_t)m->nip);
	for (int i = 0; i < m->nlun; i++) {
		if (m->lun[i].node > 255)
			return HA_MSG_E_FIELD;
		put_be32(buf + off, m->lun[i].lun_id);
		put_be32(buf + off + 4, m->lun[i].node);
		off += 8;
	}
	for (int i = 0; i < m->nip; i++) {
		n = strnlen(m->ip[i].addr, sizeof(m->ip[i].addr));
		if (n == 0 || n > HA_MSG_ADDRMAX || m->ip[i].node > 255 ||
		    !text_ok(m->ip[i].addr, n))
			return HA_MSG_E_FIELD;
		buf[off++] = (uint8_t)n;
		memcpy(buf + off, m->ip[i].addr, n);
		off += n;
		put_be32(buf + off, m->ip[i].node);
		off += 4;
	}
	put_be16(buf + off, (uint16_t)m->ngw);
	off += 2;
	for (int i = 0; i < m->ngw; i++) {
		n = strnlen(m->gw[i].reason, sizeof(m->gw[i].reason));
		if (n > HA_MSG_GWMAX || !text_ok(m->gw[i].reason, n) ||
		    m->gw[i].state > 5)
			return HA_MSG_E_FIELD;
		put_be32(buf + off, m->gw[i].lun_id);
		put_be16(buf + off + 4, m->gw[i].state);
		put_be16(buf + off + 6, m->gw[i].progress);
		buf[off + 8] = (uint8_t)n;
		memcpy(buf + off + 9, m->gw[i].reason, n);
		off += 9 + n;
	}
	n = strnlen(m->why, sizeof(m->why));
	if (n > HA_MSG_WHYMAX || !text_ok(m->why, n))
		return HA_MSG_E_FIELD;
	buf[off++] = (uint8_t)n;
	memcpy(buf + off, m->why, n);
	off += n;
	put_be16(buf + 6, (uint16_t)off);
	return (int)off;
}

int
ha_msg_decode(const uint8_t *buf, size_t len, struct ha_msg *m)
{
	size_t	off = HA_MSG_HDRLEN, n;

	memset(m, 0, sizeof(*m));
	if (len < HA_MSG_HDRLEN + 1)
		return HA_MSG_E_SHORT;
	if (get_be32(buf) != HA_MSG_MAGIC)
		return HA_MSG_E_MAGIC;
	if (buf[4] != HA_MSG_VERSION)
		return HA_MSG_E_VERSION;
	if (get_be16(buf + 6) != len)
		return HA_MSG_E_LENGTH;
	m->op = buf[5];
	m->node_id = get_be32(buf + 8);
	m->flags = get_be32(buf + 12);
	m->boot_id = get_be64(buf + 16);
	m->target_boot = get_be64(buf + 24);
	m->place_ver = get_be64(buf + 32);
	m->nlun = get_be16(buf + 40);
	m->nip = get_be16(buf + 42);
	if (m->op < HA_MSG_PLACE || m->op > HA_MSG_RELEASED ||
	    m->node_id == 0 || m->node_id > 255 ||
	    (m->flags & ~HA_MSG_F_ALL) != 0 ||
	    m->nlun > HA_MSG_MAXLUN || m->nip > HA_MSG_MAXIP)
		return HA_MSG_E_FIELD;
	if (len < off + (size_t)m->nlun * 8)
		return HA_MSG_E_LENGTH;
	for (int i = 0; i < m->nlun; i++) {
		m->lun[i].lun_id = get_be32(buf + off);
		m->lun[i].node = get_be32(buf + off + 4);
		if (m->lun[i].node > 255)
			return HA_MSG_E_FIELD;
		off += 8;
	}
	for (int i = 0; i < m->nip; i++) {
		if (off >= len)
			return HA_MSG_E_LENGTH;
		n = buf[off++];
		if (n == 0 || n > HA_MSG_ADDRMAX)
			return HA_MSG_E_FIELD;
		if (len < off + n + 4)
			return HA_MSG_E_LENGTH;
		if (!text_ok((const char *)buf + off, n))
			return HA_MSG_E_FIELD;
		memcpy(m->ip[i].addr, buf + off, n);
		off += n;
		m->ip[i].node = get_be32(buf + off);
		off += 4;
		if (m->ip[i].node > 255)
			return HA_MSG_E_FIELD;
	}
	if (len < off + 2)
		return HA_MSG_E_LENGTH;
	m->ngw = get_be16(buf + off);
	off += 2;
	if (m->ngw > HA_MSG_MAXLUN)
		return HA_MSG_E_FIELD;
	for (int i = 0; i < m->ngw; i++) {
		if (len < off + 9)
			return HA_MSG_E_LENGTH;
		m->gw[i].lun_id = get_be32(buf + off);
		m->gw[i].state = get_be16(buf + off + 4);
		m->gw[i].progress = get_be16(buf + off + 6);
		n = buf[off + 8];
		off += 9;
		if (m->gw[i].state > 5 || n > HA_MSG_GWMAX)
			return HA_MSG_E_FIELD;
		if (len < off + n)
			return HA_MSG_E_LENGTH;
		if (!text_ok((const char *)buf + off, n))
			return HA_MSG_E_FIELD;
		memcpy(m->gw[i].reason, buf + off, n);
		off += n;
	}
	if (off >= len)
		return HA_MSG_E_LENGTH;
	n = buf[off++];
	if (n > HA_MSG_WHYMAX || off + n != len)
		return HA_MSG_E_LENGTH;
	if (!text_ok((const char *)buf + off, n))
		return HA_MSG_E_FIELD;
	memcpy(m->why, buf + off, n);
	return 0;
}

const char *
ha_msg_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case HA_MSG_E_SHORT:
		return "shorter than the header";
	case HA_MSG_E_MAGIC:
		return "bad magic";
	case HA_MSG_E_VERSION:
		return "unknown version";
	case HA_MSG_E_LENGTH:
		return "length does not match the content";
	case HA_MSG_E_FIELD:
		return "invalid field (op, flags, node id or text)";
	}
	return "?";
}

const char *
ha_msg_op_name(unsigned op)
{
	static const char *const names[] = { "?", "PLACE", "KILL", "FAULT",
	    "GIVEWAIT", "IPCLAIM", "RELEASED" };

	return op < nitems(names) ? names[op] : "?";
}

/*
 * hb.c — liveness counting per channel, the peer verdict, and the
 * heartbeat message codec (hb.h has the scheme and the wire layout).
 *
 * A channel is only credited for progress: a repeated or older sequence
 * number (replayed, reordered, duplicated over two paths) earns nothing,
 * so a stuck peer that keeps resending its last heartbeat still dies.  A
 * new boot id counts as progress because a restarted peer starts its
 * sequence again.  Progress by more than one credits every heartbeat the
 * gap stands for (the lost ones included, up to a full count).  The
 * verdict deliberately needs every channel, including
 * the disk heartbeat, to be BAD before it says DEAD: a network partition
 * with a live disk heartbeat must never cause a takeover.
 * Nothing here sends, receives, reads the disk or keeps time.
 */
#include <string.h>

#include "common/util.h"
#include "hb/hb.h"

void
hb_params_default(struct hb_params *p)
{
	p->interval_ms = HB_DEF_INTERVAL_MS;
	p->credit = HB_DEF_CREDIT;
	p->max = HB_DEF_MAX;
	p->init = HB_DEF_INIT;
}

int
hb_params_check(const struct hb_params *p, const char **errstr)
{
	if (p->interval_ms < 1)
		*errstr = "heartbeat interval must be at least 1 ms";
	else if (p->credit < 2)
		*errstr = "heartbeat credit must be at least 2 (one heartbeat "
		    "per tick must outpace the debit of one)";
	else if (p->max < p->credit)
		*errstr = "heartbeat max must not be below credit";
	else if (p->init < 0 || p->init > p->max)
		*errstr = "initial heartbeat count must be in 0..max";
	else
		return 0;
	return -1;
}

int
hb_detect_ms(const struct hb_params *p)
{
	return (p->max + 1) * p->interval_ms;
}

void
hb_chan_init(struct hb_chan *ch, const struct hb_params *p)
{
	memset(ch, 0, sizeof(*ch));
	ch->count = p->init;
	ch->state = p->init > 0 ? HB_GOOD : HB_BAD;
}

int
hb_chan_credit(struct hb_chan *ch, const struct hb_params *p,
    uint64_t boot_id, uint64_t seq)
{
	uint64_t	d = 1;

	if (ch->seen && boot_id == ch->boot_id) {
		if (seq <= ch->seq) {
			ch->nstale++;
			return 0;
		}
		d = seq - ch->seq;
		if (d - 1 > HB_JUMP)
			ch->njump++;
		else
			ch->nlost += d - 1;
	}
	ch->seen = 1;
	ch->boot_id = boot_id;
	ch->seq = seq;
	/* d clamped to max: a jump buys a full count at most */
	ch->count = (int)MIN((uint64_t)ch->count +
	    MIN(d, (uint64_t)p->max) * (uint64_t)p->credit, (uint64_t)p->max);
	if (ch->state == HB_BAD) {
		ch->state = HB_GOOD;
		ch->ngood++;
		return 1;
	}
	return 0;
}

int
hb_chan_tick(struct hb_chan *ch)
{
	if (ch->count > 0)
		ch->count--;
	if (ch->count == 0 && ch->state == HB_GOOD) {
		ch->state = HB_BAD;
		ch->nbad++;
		return 1;
	}
	return 0;
}

enum hb_verdict
hb_verdict(const struct hb_chan *net, size_t nnet, const struct hb_chan *disk,
    int disk_fresh, int peer_fault)
{
	size_t	i;

	if (peer_fault)
		return HB_PEER_DEAD;
	for (i = 0; i < nnet; i++)
		if (net[i].state == HB_GOOD)
			return HB_PEER_ALIVE;
	if (disk != NULL && disk->state == HB_GOOD) {
		if (nnet == 0)
			return HB_PEER_ALIVE;
		return disk_fresh ? HB_PEER_PARTITION : HB_PEER_SUSPECT;
	}
	return HB_PEER_DEAD;
}

const char *
hb_verdict_name(enum hb_verdict v)
{
	switch (v) {
	case HB_PEER_ALIVE:	return "alive";
	case HB_PEER_DEAD:	return "dead";
	case HB_PEER_PARTITION:	return "partition";
	case HB_PEER_SUSPECT:	return "suspect";
	}
	return "?";
}

static int
swver_ok(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
hb_msg_encode(uint8_t *buf, size_t buflen, const struct hb_msg *m)
{
	size_t	n = strnlen(m->swver, sizeof(m->swver));
	size_t	len = HB_MSG_HDRLEN + n;

	if (n > HB_SWVER_MAX || len > buflen)
		return HB_E_LENGTH;
	if ((m->flags & ~HB_F_ALL) != 0 || m->node_id == 0 ||
	    m->node_id > 255 || !swver_ok(m->swver, n))
		return HB_E_FIELD;
	put_be32(buf, HB_MSG_MAGIC);
	buf[4] = 1;
	buf[5] = m->flags;
	put_be16(buf + 6, (uint16_t)len);
	put_be32(buf + 8, m->node_id);
	put_be16(buf + 12, m->state);
	put_be16(buf + 14, m->opmode);
	put_be64(buf + 16, m->seq);
	put_be64(buf + 24, m->cfg_gen);
	put_be64(buf + 32, m->boot_id);
	buf[40] = (uint8_t)n;
	memcpy(buf + 41, m->swver, n);
	return (int)len;
}

int
hb_msg_decode(const uint8_t *buf, size_t len, struct hb_msg *m)
{
	size_t	n;

	memset(m, 0, sizeof(*m));
	if (len < HB_MSG_HDRLEN)
		return HB_E_SHORT;
	if (get_be32(buf) != HB_MSG_MAGIC)
		return HB_E_MAGIC;
	if (buf[4] != 1)
		return HB_E_VERSION;
	n = buf[40];
	if (get_be16(buf + 6) != len || n > HB_SWVER_MAX ||
	    HB_MSG_HDRLEN + n != len)
		return HB_E_LENGTH;
	m->flags = buf[5];
	m->node_id = get_be32(buf + 8);
	m->state = get_be16(buf + 12);
	m->opmode = get_be16(buf + 14);
	m->seq = get_be64(buf + 16);
	m->cfg_gen = get_be64(buf + 24);
	m->boot_id = get_be64(buf + 32);
	if ((m->flags & ~HB_F_ALL) != 0 || m->node_id == 0 ||
	    m->node_id > 255 || !swver_ok((const char *)buf + 41, n))
		return HB_E_FIELD;
	memcpy(m->swver, buf + 41, n);
	m->swver[n] = '\0';
	return 0;
}

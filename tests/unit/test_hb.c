/*
 * test_hb.c — the status monitor's pure logic: parameter checks, the
 * counting scheme (credit on progress only, debit per tick, BAD at zero,
 * GOOD again), a millisecond simulation showing peer death is detected
 * within 1 s with the defaults for every clock phase while 4 lost
 * heartbeats in a row are tolerated, a lossy channel (2 of 3, 3 of 4, 4
 * of 5 heartbeats lost) that never flaps because it is credited by the
 * sequence-number difference (and would flap at 3 of 4 with one credit
 * per heartbeat) while death is still detected within 1 s, the lost
 * count, the cap on a jumping counter, the peer verdict (dead / partition
 * / suspect / alive) for every channel combination, and the heartbeat
 * message (golden bytes, round trip, every malformed variant rejected).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "hb/hb.h"
#include "t.h"

static void
test_params(void)
{
	struct hb_params	p;
	const char		*err = NULL;

	hb_params_default(&p);
	T_EQ(hb_params_check(&p, &err), 0, "defaults valid");
	T_EQ(hb_detect_ms(&p), 900, "default detection bound 900 ms");
	T_OK(hb_detect_ms(&p) <= 1000, "defaults detect death within 1 s");
	p.credit = 1;
	T_EQ(hb_params_check(&p, &err), -1, "credit 1 rejected");
	T_OK(err && strstr(err, "credit"), "message names credit: %s", err);
	hb_params_default(&p);
	p.max = 2;
	T_EQ(hb_params_check(&p, &err), -1, "max < credit rejected");
	hb_params_default(&p);
	p.init = p.max + 1;
	T_EQ(hb_params_check(&p, &err), -1, "init > max rejected");
	hb_params_default(&p);
	p.interval_ms = 0;
	T_EQ(hb_params_check(&p, &err), -1, "interval 0 rejected");
}

static void
test_counting(void)
{
	struct hb_params	p;
	struct hb_chan		c;
	int			i, bad = 0;

	hb_params_default(&p);
	hb_chan_init(&c, &p);
	T_OK(c.state == HB_GOOD && c.count == p.max, "new channel GOOD at init");
	for (i = 0; i < p.max - 1; i++)
		bad += hb_chan_tick(&c);
	T_OK(bad == 0 && c.state == HB_GOOD && c.count == 1,
	    "max - 1 ticks: still GOOD, count 1");
	T_EQ(hb_chan_tick(&c), 1, "max-th tick: reports BAD");
	T_EQ(c.state, HB_BAD, "BAD at zero");
	T_EQ(hb_chan_tick(&c), 0, "BAD reported once");
	T_EQ(c.count, 0, "count does not go negative");
	T_EQ(hb_chan_credit(&c, &p, 7, 1), 1, "progress: GOOD again");
	T_EQ(c.count, 3, "credited 3");
	T_EQ(hb_chan_credit(&c, &p, 7, 1), 0, "same seq: no credit");
	T_EQ(c.count, 3, "count unchanged by a repeat");
	T_EQ(hb_chan_credit(&c, &p, 7, 0), 0, "older seq: no credit");
	T_EQ(c.nstale, 2, "stale heartbeats counted");
	hb_chan_credit(&c, &p, 7, 2);
	hb_chan_credit(&c, &p, 7, 5);
	T_EQ(c.count, p.max, "capped at max");
	T_EQ(hb_chan_credit(&c, &p, 8, 0), 0, "new boot id, seq 0: progress");
	T_OK(c.boot_id == 8 && c.seq == 0, "restart tracked");
	T_OK(c.nbad == 1 && c.ngood == 1, "transitions counted");

	p.init = 0;
	hb_chan_init(&c, &p);
	T_EQ(c.state, HB_BAD, "init 0: starts BAD");
	T_EQ(hb_chan_tick(&c), 0, "tick on a BAD channel reports nothing");
	T_EQ(hb_chan_credit(&c, &p, 1, 0), 1, "first heartbeat: GOOD");
}

/*
 * Millisecond simulation: the peer sends every interval (at phase 0), the
 * receiver ticks every interval (at phase `phase`), each heartbeat takes
 * 1 ms; the peer dies at `death`.  Returns ms from death to BAD, or -1
 * when the channel went BAD while the peer was alive.
 */
static int
simulate(const struct hb_params *p, int phase, int death, int lose_from,
    int lose_n)
{
	struct hb_chan	c;
	int		t, sent = 0;

	hb_chan_init(&c, p);
	for (t = 0; t < death + 5000; t++) {
		if (t < death && t % p->interval_ms == 0) {
			if (sent < lose_from || sent >= lose_from + lose_n)
				hb_chan_credit(&c, p, 1, (uint64_t)sent + 1);
			sent++;
		}
		if (t % p->interval_ms == phase && hb_chan_tick(&c)) {
			if (t < death)
				return -1;
			return t - death;
		}
	}
	return 100000;
}

static void
test_detection(void)
{
	struct hb_params	p;
	int			phase, death, d, worst = 0, early = 0;

	hb_params_default(&p);
	for (phase = 1; phase < p.interval_ms; phase += 7)
		for (death = 2000; death < 2000 + p.interval_ms; death += 3) {
			d = simulate(&p, phase, death, 1 << 30, 0);
			if (d < 0)
				early++;
			if (d > worst)
				worst = d;
		}
	T_EQ(early, 0, "a live peer's channel never goes BAD");
	T_OK(worst <= 1000, "death detected within %d ms (<= 1000) for every "
	    "phase", worst);
	T_OK(worst <= hb_detect_ms(&p), "within hb_detect_ms()");
	for (phase = 1; phase < p.interval_ms; phase += 7) {
		if (simulate(&p, phase, 10000, 20, p.max - 2) < 0)
			early++;
		if (simulate(&p, phase, 10000, 20, p.max - 1) != -1)
			early++;
	}
	T_EQ(early, 0, "max - 2 (6) lost heartbeats in a row tolerated, the "
	    "next makes the path BAD, for every phase");
}

/*
 * Periodic loss: of every m heartbeats the first k are lost.  The peer
 * dies at `death`.  old_style: the receiver sees consecutive sequence
 * numbers (one credit per received heartbeat, the scheme before the
 * difference rule).  Returns like simulate(); *flaps gets the BAD
 * transitions between 2 s and the death.
 */
static int
simulate_loss(const struct hb_params *p, int phase, int death, int k, int m,
    int old_style, struct hb_chan *c, uint64_t *flaps)
{
	int		t, sent = 0, got = 0;
	uint64_t	bad0 = 0;

	hb_chan_init(c, p);
	for (t = 0; t < death + 5000; t++) {
		/* the first contact earns one credit only (it may run out
		 * before the second heartbeat of a sparse pattern): count
		 * flaps from 2 s on, in the steady state */
		if (t == 2000)
			bad0 = c->nbad;
		if (t == death)
			*flaps = c->nbad - bad0;
		if (t < death && t % p->interval_ms == 0) {
			if (sent % m >= k) {
				got++;
				hb_chan_credit(c, p, 1, old_style ?
				    (uint64_t)got : (uint64_t)sent + 1);
			}
			sent++;
		}
		if (t % p->interval_ms == phase && hb_chan_tick(c) &&
		    t >= death)
			return t - death;
	}
	return 100000;
}

static void
test_lossy(void)
{
	static const int	pat[][2] = { {2, 3}, {3, 4}, {4, 5}, {1, 2} };
	struct hb_params	p;
	struct hb_chan		c;
	size_t			i;
	uint64_t		f;
	int			phase, d, worst, flaps;

	hb_params_default(&p);
	for (i = 0; i < nitems(pat); i++) {
		worst = 0;
		flaps = 0;
		for (phase = 1; phase < p.interval_ms; phase += 13) {
			d = simulate_loss(&p, phase, 60000, pat[i][0],
			    pat[i][1], 0, &c, &f);
			flaps += (int)f;
			if (d > worst)
				worst = d;
		}
		T_OK(flaps == 0, "%d of every %d heartbeats lost for 60 s: "
		    "the channel never goes BAD while the peer lives (%d)",
		    pat[i][0], pat[i][1], flaps);
		T_OK(worst <= 1000, "%d of %d lost: death still detected "
		    "within %d ms (<= 1000)", pat[i][0], pat[i][1], worst);
	}
	/* the lost count: 60 s of 2-of-3 loss = 600 sent, 400 lost (the
	 * very first ones lost before anything was received count nothing:
	 * the first heartbeat received is sent #3) */
	simulate_loss(&p, 50, 60000, 2, 3, 0, &c, &f);
	T_OK(c.nlost == 398, "lost heartbeats counted from the sequence "
	    "gaps (%llu)", (unsigned long long)c.nlost);
	/* one credit per received heartbeat runs dry at 3 of 4 lost */
	flaps = 0;
	for (phase = 1; phase < p.interval_ms; phase += 13) {
		simulate_loss(&p, phase, 60000, 3, 4, 1, &c, &f);
		flaps += (int)f;
	}
	T_OK(flaps > 10, "without the difference rule, 3 of 4 lost flaps "
	    "(%d BAD transitions)", flaps);
}

static void
test_jump(void)
{
	struct hb_params	p;
	struct hb_chan		c;
	int			n;

	hb_params_default(&p);
	p.init = 0;
	hb_chan_init(&c, &p);
	hb_chan_credit(&c, &p, 1, 1);
	hb_chan_credit(&c, &p, 1, UINT64_MAX);
	T_EQ(c.count, p.max, "a jump of 2^64 buys a full count, no more");
	T_OK(c.njump == 1 && c.nlost == 0, "counted as a jump, not as "
	    "losses");
	for (n = 0; n < 50 && !hb_chan_tick(&c); n++)
		;
	T_EQ(n + 1, p.max, "and BAD max ticks later, like after any "
	    "heartbeat");
	hb_chan_credit(&c, &p, 1, 3);
	T_EQ(c.nstale, 1, "after the jump, smaller numbers are stale");
}

static void
test_verdict(void)
{
	struct hb_params	p;
	struct hb_chan		net[2], disk;

	hb_params_default(&p);
	hb_chan_init(&net[0], &p);
	hb_chan_init(&net[1], &p);
	hb_chan_init(&disk, &p);
	T_EQ(hb_verdict(net, 2, &disk, 0, 0), HB_PEER_ALIVE, "all GOOD: "
	    "alive");
	net[0].state = HB_BAD;
	T_EQ(hb_verdict(net, 2, &disk, 0, 0), HB_PEER_ALIVE, "one path: "
	    "alive");
	net[1].state = HB_BAD;
	T_EQ(hb_verdict(net, 2, &disk, 0, 0), HB_PEER_SUSPECT,
	    "all paths BAD, disk not seen since: suspect (a crash looks like "
	    "this for max ticks), no PARTITION alarm");
	T_EQ(hb_verdict(net, 2, &disk, 1, 0), HB_PEER_PARTITION,
	    "all paths BAD, disk heartbeat going on since: partition, no "
	    "takeover");
	disk.state = HB_BAD;
	T_EQ(hb_verdict(net, 2, &disk, 0, 0), HB_PEER_DEAD, "everything BAD: "
	    "dead");
	net[0].state = HB_GOOD;
	T_EQ(hb_verdict(net, 2, &disk, 0, 0), HB_PEER_ALIVE, "net GOOD, disk "
	    "BAD: alive (disk trouble is not death)");
	T_EQ(hb_verdict(net, 2, &disk, 0, 1), HB_PEER_DEAD, "FAULT: dead even "
	    "with a GOOD channel");
	net[0].state = HB_BAD;
	T_EQ(hb_verdict(net, 2, NULL, 0, 0), HB_PEER_DEAD, "no disk channel, "
	    "all paths BAD: dead");
	disk.state = HB_GOOD;
	T_EQ(hb_verdict(NULL, 0, &disk, 0, 0), HB_PEER_ALIVE, "disk only: "
	    "alive");
	T_EQ(hb_verdict(NULL, 0, NULL, 0, 0), HB_PEER_DEAD, "no channels: "
	    "dead");
	T_OK(strcmp(hb_verdict_name(HB_PEER_SUSPECT), "suspect") == 0,
	    "verdict name suspect");
	T_OK(strcmp(hb_verdict_name(HB_PEER_PARTITION), "partition") == 0,
	    "verdict name");
}

static void
test_msg(void)
{
	static const uint8_t golden[] = {
		0x44, 0x48, 0x42, 0x31,	0x01, 0x01, 0x00, 0x2f,
		0x00, 0x00, 0x00, 0x02,	0x00, 0x10, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x06, '0', '.', '1', '.', '0', 'a',
	};
	struct hb_msg	m, d;
	uint8_t		buf[HB_MSG_MAXLEN + 8], bad[sizeof(golden)];
	int		n;
	size_t		len, short_ok = 0;

	memset(&m, 0, sizeof(m));
	m.flags = HB_F_FAULT;
	m.node_id = 2;
	m.state = 0x10;
	m.opmode = 1;
	m.seq = 256;
	m.cfg_gen = 9;
	m.boot_id = 0x1122334455667788ULL;
	strcpy(m.swver, "0.1.0a");
	n = hb_msg_encode(buf, sizeof(buf), &m);
	T_EQ(n, sizeof(golden), "encoded length 47");
	T_MEM(buf, golden, sizeof(golden), "heartbeat golden bytes");
	T_EQ(hb_msg_decode(golden, sizeof(golden), &d), 0, "decode golden");
	T_OK(memcmp(&m, &d, sizeof(m)) == 0, "round trip");

	for (len = 0; len < sizeof(golden); len++)
		if (hb_msg_decode(golden, len, &d) != 0)
			short_ok++;
	T_EQ(short_ok, sizeof(golden), "every truncation rejected");
	T_EQ(hb_msg_decode(golden, 10, &d), HB_E_SHORT, "short");
	memcpy(buf, golden, sizeof(golden));
	buf[sizeof(golden)] = 'x';
	T_EQ(hb_msg_decode(buf, sizeof(golden) + 1, &d), HB_E_LENGTH,
	    "trailing byte rejected");

	memcpy(bad, golden, sizeof(bad));
	bad[0] = 'X';
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_MAGIC, "magic");
	memcpy(bad, golden, sizeof(bad));
	bad[4] = 2;
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_VERSION, "version");
	memcpy(bad, golden, sizeof(bad));
	bad[40] = 7;
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_LENGTH,
	    "string length past the end");
	memcpy(bad, golden, sizeof(bad));
	bad[7] = 0x30;
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_LENGTH,
	    "length field mismatch");
	memcpy(bad, golden, sizeof(bad));
	bad[44] = '\n';
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_FIELD,
	    "non-printable version");
	memcpy(bad, golden, sizeof(bad));
	bad[11] = 0;
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_FIELD, "node id 0");
	memcpy(bad, golden, sizeof(bad));
	bad[5] = 0x80;
	T_EQ(hb_msg_decode(bad, sizeof(bad), &d), HB_E_FIELD, "unknown flag");

	T_EQ(hb_msg_encode(buf, 46, &m), HB_E_LENGTH, "encode: buffer short");
	m.node_id = 256;
	T_EQ(hb_msg_encode(buf, sizeof(buf), &m), HB_E_FIELD,
	    "encode: node id 256");
	m.node_id = 1;
	m.swver[0] = '\0';
	T_EQ(hb_msg_encode(buf, sizeof(buf), &m), HB_MSG_HDRLEN,
	    "empty version string");
	T_EQ(hb_msg_decode(buf, HB_MSG_HDRLEN, &d), 0, "decodes");
	memset(m.swver, 'v', HB_SWVER_MAX);
	m.swver[HB_SWVER_MAX] = '\0';
	T_EQ(hb_msg_encode(buf, sizeof(buf), &m), HB_MSG_MAXLEN,
	    "63-byte version string");
	T_EQ(hb_msg_decode(buf, HB_MSG_MAXLEN, &d), 0, "decodes");
	T_EQ(strlen(d.swver), HB_SWVER_MAX, "full version kept");
}

int
main(void)
{
	test_params();
	test_counting();
	test_detection();
	test_lossy();
	test_jump();
	test_verdict();
	test_msg();
	return t_done();
}

/*
 * hb.h — the status monitor's pure logic: per-channel liveness counting,
 * the verdict on the peer, and the heartbeat message format.
 *
 * Counting scheme (docs/failover.md): each channel (a network path, or the
 * disk heartbeat in the private extent) has a count.  A heartbeat credits
 * it by how far the peer's sequence number advanced since the last one
 * credited on this channel: d heartbeats (d - 1 of them lost) earn
 * d * credit, capped at max; every tick debits it by one; at zero the
 * channel is BAD, and it is GOOD again on the next progress.  So a lossy
 * channel is paid for the heartbeats it lost once one gets through: with
 * the defaults it stays GOOD while at least one heartbeat in every 6
 * arrives (2 of 3 or 3 of 4 lost is nothing), whereas one credit per
 * received heartbeat would let it run dry at 3 of 4 lost and flap.
 * The cap: d is clamped to max before multiplying.  A counter that jumps
 * (a bug, a peer that skipped ahead) thus buys at most a full count, like
 * any heartbeat after a gap: death is still detected max ticks after the
 * last heartbeat, and the product cannot overflow.  Missing sequence
 * numbers are counted per channel (nlost) for status.
 *
 * The peer is DEAD only when every network channel is BAD and the disk
 * heartbeat is BAD too, or when it reports FAULT.  All network channels
 * BAD with the disk heartbeat GOOD is a PARTITION (no takeover) only once
 * the disk heartbeat was seen progressing after the network went silent
 * (disk_fresh): a crashed peer's last disk heartbeat stays "GOOD" for up
 * to max ticks after its connections closed, which is no evidence of
 * life.  Until then the verdict is SUSPECT (no action either way).
 *
 * No I/O, no timers, no locking: the owner calls hb_tick() every
 * interval_ms on the loop thread and hb_chan_credit() for every heartbeat.
 */
#ifndef DUONAS_HB_H
#define DUONAS_HB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Defaults, with the peer sending one heartbeat per interval: every
 * heartbeat tops the count up to max (8) (after a gap of d it earns
 * d * 3), the count then falls by one per tick, so a channel survives 6
 * consecutive lost heartbeats (a 700 ms gap) and goes BAD on the 7th,
 * whatever the loss pattern before (tests/unit/test_hb.c: 2 of 3, 3 of
 * 4, 4 of 5 lost never flap); 3 of 4 lost leaves 4 ticks of slack for a
 * late heartbeat (a busy sender), 6 was found too tight under load; and
 * a dead peer's channel goes BAD at most max ticks after its last
 * heartbeat: peer death is detected within (max + 1) * interval = 900 ms
 * (one interval for the send phase), under the 1 s budget.  (A dead
 * daemon is seen at once: its kernel closes the peer links.)
 */
#define HB_DEF_INTERVAL_MS	100
#define HB_DEF_CREDIT		3
#define HB_DEF_MAX		8
#define HB_DEF_INIT		8

struct hb_params {
	int	interval_ms;	/* tick period */
	int	credit;		/* added on sequence progress */
	int	max;		/* ceiling */
	int	init;		/* count of a new channel (0: starts BAD) */
};

enum hb_chan_state { HB_BAD = 0, HB_GOOD = 1 };

struct hb_chan {
	int		count;
	enum hb_chan_state state;
	int		seen;		/* a heartbeat was ever credited */
	uint64_t	boot_id;	/* of the last credited heartbeat */
	uint64_t	seq;
	uint64_t	ngood;		/* BAD -> GOOD transitions */
	uint64_t	nbad;		/* GOOD -> BAD transitions */
	uint64_t	nstale;		/* heartbeats without progress */
	uint64_t	nlost;		/* sequence numbers never received */
	uint64_t	njump;		/* gaps too large to be losses */
};

/* A gap above this many sequence numbers is a jump, not losses. */
#define HB_JUMP		100000

enum hb_verdict {
	HB_PEER_ALIVE, HB_PEER_DEAD, HB_PEER_PARTITION,
	HB_PEER_SUSPECT		/* network silent, disk not conclusive yet */
};

/* Fill *p with the defaults above. */
void	 hb_params_default(struct hb_params *p);
/* Check p; returns 0, or -1 with a static message in *errstr. */
int	 hb_params_check(const struct hb_params *p, const char **errstr);
/* Worst-case time from the last heartbeat to BAD: (max + 1) * interval. */
int	 hb_detect_ms(const struct hb_params *p);

/* New channel: count = init, GOOD iff init > 0. */
void	 hb_chan_init(struct hb_chan *, const struct hb_params *);
/*
 * A heartbeat (boot_id, seq) arrived on this channel.  It credits the
 * count when seq is greater than the last one credited (by credit times
 * the difference, see above), or boot_id changed (the peer restarted:
 * one heartbeat's credit).  Returns 1 when this made the channel GOOD
 * (it was BAD), else 0; ch->seq/boot_id tell whether it progressed.
 */
int	 hb_chan_credit(struct hb_chan *, const struct hb_params *,
	    uint64_t boot_id, uint64_t seq);
/* One tick: debit by one.  Returns 1 when this made the channel BAD. */
int	 hb_chan_tick(struct hb_chan *);

/*
 * The verdict.  net: the network channels (nnet may be 0), disk: the
 * disk-heartbeat channel or NULL when there is none (directory pool: then
 * all network channels BAD means DEAD, nothing can tell a partition),
 * disk_fresh: the disk heartbeat progressed after every network channel
 * went BAD (the owner counts that), peer_fault: the peer said FAULT
 * (message flag or mailbox) or is HALTED.  With no network channel at
 * all, a GOOD disk heartbeat means ALIVE.
 */
enum hb_verdict hb_verdict(const struct hb_chan *net, size_t nnet,
	    const struct hb_chan *disk, int disk_fresh, int peer_fault);
const char	*hb_verdict_name(enum hb_verdict);

/*
 * Heartbeat message (over each network path).  Layout, big-endian:
 *   0 magic u32 "DHB1"   4 version u8 (1)   5 flags u8   6 length u16
 *   8 node_id u32       12 state u16       14 opmode u16
 *  16 seq u64           24 cfg_gen u64     32 boot_id u64
 *  40 version-string length u8, then that many bytes (printable ASCII)
 * length is the whole message; decode requires it to match exactly.
 * cfg_gen is the configuration generation installed on the sender (CTCM,
 * 0 when it has none): the INIT exchange compares it.
 * Integrity/authenticity come from the link (HMAC), not from here.
 */
#define HB_MSG_MAGIC	0x44484231u	/* "DHB1" */
#define HB_MSG_HDRLEN	41
#define HB_SWVER_MAX	63
#define HB_MSG_MAXLEN	(HB_MSG_HDRLEN + HB_SWVER_MAX)
#define HB_F_FAULT	0x01		/* sender has faulted: treat as dead */
#define HB_F_CONFLICT	0x02		/* sender is in MONITOR because both
					   heads claimed master */
#define HB_F_YIELD	0x04		/* sender handed the master role to
					   the receiver (master move) */
#define HB_F_ALL	0x07

enum hb_err {
	HB_E_SHORT = -1,	/* fewer bytes than the header */
	HB_E_MAGIC = -2,
	HB_E_VERSION = -3,
	HB_E_LENGTH = -4,	/* length field / string length mismatch */
	HB_E_FIELD = -5,	/* bad flag, node id, or non-printable version */
};

struct hb_msg {
	uint8_t		flags;		/* HB_F_* */
	uint32_t	node_id;	/* 1..255 */
	uint16_t	state;		/* HA_STA_* of the sender */
	uint16_t	opmode;
	uint64_t	seq;
	uint64_t	cfg_gen;
	uint64_t	boot_id;
	char		swver[HB_SWVER_MAX + 1];
};

/* Encode into buf (at least HB_MSG_MAXLEN bytes); returns the length or
 * HB_E_FIELD / HB_E_LENGTH when m cannot be encoded. */
int	 hb_msg_encode(uint8_t *buf, size_t buflen, const struct hb_msg *m);
/* Decode exactly len bytes; returns 0 or a negative HB_E_*. */
int	 hb_msg_decode(const uint8_t *buf, size_t len, struct hb_msg *m);

#endif

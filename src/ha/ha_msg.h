/*
 * ha_msg.h — the HA control message: placement, kill and fault
 * announcements between the two heads (docs/link-protocol.md, "HA
 * control").
 *
 * Sent over every peer-link path (link_send_path), so one working path
 * is enough; integrity and authenticity come from the link's HMAC.  The
 * disk channel carries the same facts in the mailbox of the private
 * extent (docs/private-extent.md), for when no path works.
 *
 * Layout, big-endian:
 *   0 magic u32 "DHC1"   4 version u8 (1)   5 op u8   6 length u16
 *   8 node_id u32 (sender)          12 flags u32 (HA_MSG_F_*)
 *  16 boot_id u64 (sender's)        24 target_boot u64 (KILL: the boot id
 *                                      of the daemon it is aimed at)
 *  32 place_ver u64                 40 nlun u16   42 nip u16
 *  44 nlun x { lun_id u32, node u32 }      node 0 = no override
 *     nip  x { addr_len u8, addr, node u32 }
 *     ngw u16, ngw x { lun_id u32, state u16, progress u16,
 *                      reason_len u8, reason }   (GIVEWAIT records)
 *     why_len u8, why (printable ASCII)
 * length is the whole message; decode requires it to match exactly.
 * No I/O here: pure encode/decode (tests/unit/test_hamsg.c).
 */
#ifndef DUONAS_HA_MSG_H
#define DUONAS_HA_MSG_H

#include <stddef.h>
#include <stdint.h>

#define HA_MSG_MAGIC	0x44484331u	/* "DHC1" */
#define HA_MSG_VERSION	1
#define HA_MSG_HDRLEN	44
#define HA_MSG_MAXLUN	64
#define HA_MSG_MAXIP	32
#define HA_MSG_ADDRMAX	63
#define HA_MSG_WHYMAX	127
#define HA_MSG_GWMAX	48	/* == PEXT_GW_REASON_LEN */
#define HA_MSG_MAXLEN	(HA_MSG_HDRLEN + HA_MSG_MAXLUN * 8 + \
			 HA_MSG_MAXIP * (1 + HA_MSG_ADDRMAX + 4) + \
			 2 + HA_MSG_MAXLUN * (9 + HA_MSG_GWMAX) + \
			 1 + HA_MSG_WHYMAX)

enum ha_msg_op {
	HA_MSG_PLACE = 1,	/* the sender's placement table (it changed,
				 * or a periodic resend while it is not
				 * empty); a handover is a PLACE with why */
	HA_MSG_KILL = 2,	/* "fence yourself now": the sender holds
				 * your LUNs and hears you alive */
	HA_MSG_FAULT = 3,	/* the sender surrenders: take over now */
	HA_MSG_GIVEWAIT = 4,	/* the sender's readiness per LUN it is
				 * about to take (the GIVEWAIT records of
				 * its mailbox, also when a LUN cannot be
				 * opened to hold them) */
	HA_MSG_IPCLAIM = 5,	/* the sender now holds and announced
				 * these IPs: drop them now */
	HA_MSG_RELEASED = 6,	/* the sender just released these LUNs
				 * for the receiver (GIVEWAIT-shaped
				 * entries: progress = ms they had been
				 * out of service on the sender) */
};

#define HA_MSG_F_PERMANENT	0x1u	/* FAULT: disabled until power cycle */
#define HA_MSG_F_HANDOVER	0x2u	/* PLACE: a LUN fault moved a LUN */
#define HA_MSG_F_ALL		0x3u

enum ha_msg_err {
	HA_MSG_E_SHORT = -1,
	HA_MSG_E_MAGIC = -2,
	HA_MSG_E_VERSION = -3,
	HA_MSG_E_LENGTH = -4,
	HA_MSG_E_FIELD = -5,	/* unknown op/flag, bad node, bad text */
};

struct ha_msg_lun {
	uint32_t	lun_id;
	uint32_t	node;		/* node id to serve it; 0 = its home */
};

struct ha_msg_ip {
	char		addr[HA_MSG_ADDRMAX + 1];
	uint32_t	node;
};

struct ha_msg_gw {
	uint32_t	lun_id;
	uint16_t	state;		/* enum pext_gw_state */
	uint16_t	progress;	/* PEXT_GW_P_* */
	char		reason[HA_MSG_GWMAX + 1];
};

struct ha_msg {
	uint8_t			op;		/* enum ha_msg_op */
	uint32_t		node_id;	/* 1..255 */
	uint32_t		flags;
	uint64_t		boot_id;
	uint64_t		target_boot;
	uint64_t		place_ver;
	int			nlun, nip;
	struct ha_msg_lun	lun[HA_MSG_MAXLUN];
	struct ha_msg_ip	ip[HA_MSG_MAXIP];
	int			ngw;
	struct ha_msg_gw	gw[HA_MSG_MAXLUN];
	char			why[HA_MSG_WHYMAX + 1];
};

/* Encode into buf (at least HA_MSG_MAXLEN bytes): the length, or
 * HA_MSG_E_FIELD when m cannot be encoded. */
int		 ha_msg_encode(uint8_t *buf, size_t buflen,
		    const struct ha_msg *m);
/* Decode exactly len bytes: 0 or a negative HA_MSG_E_*. */
int		 ha_msg_decode(const uint8_t *buf, size_t len,
		    struct ha_msg *m);
const char	*ha_msg_strerror(int err);
const char	*ha_msg_op_name(unsigned op);

#endif

/*
 * link_int.h — internals of the remote node link shared by frame.c (pure
 * codec), conn.c (sockets, HELLO, path state machine) and link.c (public
 * API: dispatch, requests, reply cache, best path, status).
 * Wire format: docs/link-protocol.md.
 */
#ifndef DUONAS_LINK_INT_H
#define DUONAS_LINK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"

struct event;

/* ---- codec (frame.c): no sockets, no globals ---- */

#define LK_MAGIC		0x444E4C31u	/* "DNL1" */
#define LK_VERSION		1
#define LK_HDR_LEN		32
#define LK_MAC_LEN		32
#define LK_NONCE_LEN		32
#define LK_FRAME_OVERHEAD	(LK_HDR_LEN + LK_MAC_LEN)

#define LK_F_REQUEST		0x0001
#define LK_F_REPLY		0x0002

#define LK_ROLE_DIALER		1
#define LK_ROLE_ACCEPTOR	2

#define LK_HELLO_FIXED		85	/* HELLO payload without the name */
#define LK_SESSION_LABEL	"duonas-link-v1"

/* Decoder results: LK_OK and LK_MORE are not errors. */
enum lk_status {
	LK_OK		= 0,
	LK_MORE		= 1,	/* need more bytes */
	LK_E_MAGIC	= -1,
	LK_E_VERSION	= -2,
	LK_E_LENGTH	= -3,
	LK_E_MAC	= -4,
	LK_E_SEQ	= -5,	/* replayed, backwards or gap */
};
const char	*lk_status_str(int);

/* A prepared HMAC-SHA256 key (OpenSSL EVP_MAC context). */
struct lk_key {
	void		*ctx;	/* EVP_MAC_CTX *, keyed */
};
int	lk_key_init(struct lk_key *, const uint8_t *key, size_t keylen);
void	lk_key_free(struct lk_key *);
/* out = HMAC(key, a || b), either part may be empty. 0 or -1. */
int	lk_mac(const struct lk_key *, const void *a, size_t alen,
	    const void *b, size_t blen, uint8_t out[LK_MAC_LEN]);

struct lk_hdr {
	uint8_t		version;
	uint8_t		type;
	uint16_t	flags;
	uint32_t	len;		/* payload length */
	uint32_t	sender;
	uint64_t	seq;
	uint64_t	req_id;
};

/*
 * Append one frame (header, payload, MAC) to out.  h->len is ignored and
 * set from len; h->version is written as LK_VERSION.
 * Returns LK_OK, or LK_E_LENGTH when len > LINK_PAYLOAD_MAX.
 */
int	lk_frame_encode(struct buf *out, const struct lk_key *,
	    const struct lk_hdr *h, const void *payload, size_t len);

/*
 * Decode the frame at the start of data[0..avail).  Checks, in order:
 * magic (as soon as 4 bytes are there), version (5 bytes), length (12
 * bytes), completeness, MAC, then seq == expect_seq.
 * On LK_OK and LK_E_SEQ, *h, *payload and *framelen are set (for LK_E_SEQ
 * the frame is authentic and can be skipped by *framelen).  On LK_MORE
 * *framelen is the total needed when known (else 0).
 */
int	lk_frame_decode(const uint8_t *data, size_t avail,
	    const struct lk_key *, uint64_t expect_seq, struct lk_hdr *h,
	    const uint8_t **payload, size_t *framelen);

struct lk_hello {
	uint8_t		role;
	uint8_t		path;
	uint32_t	node_id;
	uint32_t	to_node_id;
	uint64_t	boot_id;
	uint8_t		nonce[LK_NONCE_LEN];
	uint8_t		echo[LK_NONCE_LEN];
	char		cluster[CFG_NAME_MAX];
};
void	lk_hello_encode(struct buf *out, const struct lk_hello *);
/* 0, or -1 with *why set (malformed: length, name). */
int	lk_hello_decode(const uint8_t *p, size_t len, struct lk_hello *,
	    const char **why);
/* session key = HMAC(cluster, label || dialer_nonce || acceptor_nonce) */
int	lk_session_key(const struct lk_key *cluster, const uint8_t *dn,
	    const uint8_t *an, uint8_t out[LK_MAC_LEN]);

/* ---- drop reasons ---- */

enum lk_drop {
	LK_DROP_MAGIC,
	LK_DROP_VERSION,
	LK_DROP_LENGTH,
	LK_DROP_MAC,
	LK_DROP_PROTO,
	LK_DROP_REPLAY,
	LK_DROP_TYPE,
	LK_DROP_LATE,
	LK_DROP_DUP,
	LK_DROP__MAX
};
extern const char *const lk_drop_names[LK_DROP__MAX];

/* ---- paths and connections (conn.c) ---- */

/* Path states: bit flags so a table row can match several. */
enum lk_pstate {
	LK_PS_IDLE	= 0x01,	/* no connection; dialer waits to redial */
	LK_PS_CONNECT	= 0x02,	/* dialer: TCP connect in progress */
	LK_PS_HELLO	= 0x04,	/* dialer: HELLO sent, waiting for answer */
	LK_PS_UP	= 0x08,	/* established */
	LK_PS_BLOCKED	= 0x10,	/* fault injection: cut */
};
#define LK_PS_ANY	0x1f

enum lk_pevent {
	LK_PE_DIAL,		/* reconnect timer (dialer) */
	LK_PE_CONNECTED,	/* TCP connect finished (dialer) */
	LK_PE_HELLO_OK,		/* dialer: valid acceptor HELLO */
	LK_PE_ACCEPTED,		/* acceptor: inbound conn authenticated */
	LK_PE_FAIL,		/* error, dead timer, bad frame */
	LK_PE_BLOCK,
	LK_PE_UNBLOCK,
	LK_PE__MAX
};

struct lk_conn;

struct lk_stats {
	uint64_t	sent, received;		/* frames */
	uint64_t	sent_bytes, recv_bytes;
	uint64_t	errors;			/* failed connects, I/O, dead */
	uint64_t	connects;		/* times established */
	uint64_t	drops[LK_DROP__MAX];
	uint64_t	rtt_us, srtt_us;	/* last and smoothed (0: none) */
	uint64_t	since_ms;		/* state entered */
};

struct lk_path {
	int		 idx;
	int		 dialer;		/* 1: we dial, 0: we accept */
	int		 state;			/* enum lk_pstate */
	const struct cfg_addr *local, *remote;
	struct lk_conn	*conn;			/* the established / dialing one */
	struct lk_conn	*pending;		/* acceptor: unauthenticated */
	int		 npending;
	int		 lfd;			/* acceptor: listening socket */
	struct event	*lev;
	struct event	*redial_ev;
	uint64_t	 peer_boot;		/* from HELLO of conn */
	int		 peer_closed;		/* last loss: EOF/RST/refused */
	struct lk_stats	 st;
	uint64_t	 log_ms;		/* rate-limited drop log */
	uint64_t	 log_suppressed;
	/* test-only fault switch (link_path_lossy): of every tdrop_m
	 * heartbeat-range frames received, the first tdrop_n are dropped */
	int		 tdrop_n, tdrop_m, tdrop_i;
	uint64_t	 tdropped;
};
/* The lossy switch: 1 when this received frame is to be dropped. */
int	lk_path_test_drop(struct lk_path *, uint8_t type);

/* Module state (one link per process). */
struct lk_state {
	int		 running;
	const struct cfg *cfg;
	int		 self_idx;
	uint32_t	 self_id, peer_id;
	uint64_t	 boot_id;
	struct lk_key	 ckey;			/* cluster key */
	struct lk_path	 paths[CFG_MAX_LINKS];
	int		 npaths;
	struct event	*tick_ev;		/* ping / dead check */
	struct event	*reap_ev;		/* frees closed connections */
	struct lk_conn	*graveyard;
};
extern struct lk_state lk;

int	lk_paths_start(void);
void	lk_paths_stop(void);
void	lk_path_fsm(struct lk_path *, enum lk_pevent);
int	lk_path_usable(const struct lk_path *);
/* Queue one frame on path p (seq and MAC added).  0, or -1 when the path
 * is not usable or failed while writing (it is then closed). */
int	lk_path_send(struct lk_path *, uint8_t type, uint16_t flags,
	    uint64_t req_id, const void *payload, size_t len);
/* Serial of the path's current connection (0: none). */
uint64_t lk_path_serial(const struct lk_path *);
void	lk_path_drop(struct lk_path *, enum lk_drop, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
const char *lk_pstate_name(int);

/* ---- callbacks from conn.c into link.c ---- */
void	lk_on_path_up(struct lk_path *);
/* Connection serial of p was lost: re-send what was in flight on it.
 * p may already carry a new connection (acceptor replaced it). */
void	lk_on_path_down(struct lk_path *, uint64_t serial);
void	lk_on_rtt(struct lk_path *);
/* Index of the best path, -1 when none is established. */
int	lk_best(void);
/* A MAC- and seq-checked frame of a non-internal type, or a reply. */
void	lk_on_frame(struct lk_path *, const struct lk_hdr *,
	    const uint8_t *payload);

#endif

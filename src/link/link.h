/*
 * link.h — remote node link ("RSCM"): authenticated, framed messages to
 * the peer head over every configured path.
 *
 * Path i joins the i-th "link" address of each head.  The head with the
 * lower node id dials, the other accepts; each connection starts with a
 * HELLO exchange that derives a per-connection session key, and every
 * frame carries a sequence number and an HMAC-SHA256 (docs/link-protocol.md).
 * Messages go out on the best working path (lowest recent RTT); requests
 * whose path dies are re-sent on another path, so losing one path while
 * another works interrupts nothing.
 *
 * Threading: every function here must be called on the loop thread
 * (common/loop.h), and every callback is invoked on it.
 */
#ifndef DUONAS_LINK_H
#define DUONAS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"

/* Message types.  1-15 belong to the link itself; ranges per module. */
#define LINK_T_HELLO		1
#define LINK_T_PING		2
#define LINK_T_PONG		3
#define LINK_T_PSO_FIRST	16	/* 16..47 pso */
#define LINK_T_PSO_LAST		47
#define LINK_T_HB_FIRST		48	/* 48..63 heartbeat / HA */
#define LINK_T_HB_LAST		63
#define LINK_T_CTCM_FIRST	64	/* 64..79 ctcm */
#define LINK_T_CTCM_LAST	79
#define LINK_T_EXP_FIRST	80	/* 80..95 export (DRC, NLM) */
#define LINK_T_EXP_LAST		95
#define LINK_T_VIP_FIRST	96	/* 96..103 service IPs (tickle lists) */
#define LINK_T_VIP_LAST		103
#define LINK_T_IMG_RESTART	104	/* boot images: the master asks the
					 * slave to restart into the
					 * preferred image (image upgrade) */
#define LINK_T_CTL_FWD		112	/* an admin command forwarded to
					 * the master (duonas --forward) */
#define LINK_T_MAX		127

#define LINK_PAYLOAD_MAX	(16u << 20)	/* 16 MiB */

struct link_req;	/* an incoming request awaiting link_reply() */

/*
 * Handler for incoming messages of one type.  For a request, rq is not
 * NULL and the handler must call link_reply(rq, ...) exactly once, now or
 * later (the payload pointer is valid only during the call; rq until
 * link_reply).  For an asynchronous message rq is NULL.
 */
typedef void (*link_msg_cb)(uint8_t type, const uint8_t *payload, size_t len,
    struct link_req *rq, void *arg);

/*
 * Completion of link_request(): status 0 with the reply payload, or
 * ETIMEDOUT (no reply in time), ENOTCONN (no path up when sent and none
 * came up before the timeout), ECANCELED (link shut down), EINVAL (type
 * outside 16..LINK_T_MAX), EMSGSIZE (payload over LINK_PAYLOAD_MAX).
 * Always called from the loop, never from inside link_request().
 * A request whose path dies is re-sent with the same id on another path;
 * the receiver answers a duplicate from its cache of recent replies, so
 * a handler normally runs once per request (docs/link-protocol.md).
 */
typedef void (*link_reply_cb)(int status, const uint8_t *payload, size_t len,
    void *arg);

/* Peer reachability changed: up = at least one path is established.
 * peer_boot_id is the peer's boot id from HELLO (0 when down).  A peer
 * restart (new boot id) is reported as down then up.  Called from its
 * own loop event, never from inside a link_* call. */
typedef void (*link_state_cb)(int up, uint64_t peer_boot_id, void *arg);

/*
 * Start listening on self's link addresses and dialing the peer's.
 * key/keylen: the cluster key.  boot_id: random per daemon start, sent in
 * HELLO so the peer can tell a restart from a reconnect.
 * Returns 0 or -1 (logged; e.g. cannot bind).
 */
int	link_init(const struct cfg *cfg, int self_idx, const uint8_t *key,
	    size_t keylen, uint64_t boot_id);
void	link_shutdown(void);

/* type 16..LINK_T_MAX (fatal otherwise); cb NULL unregisters.
 * Registrations may precede link_init and survive link_shutdown. */
void	link_register(uint8_t type, link_msg_cb cb, void *arg);
void	link_on_state(link_state_cb cb, void *arg);	/* several allowed */

/* Asynchronous message on the best path. 0, or -1 when no path is up. */
int	link_send(uint8_t type, const void *payload, size_t len);
/* Asynchronous message on every established path (heartbeats). Returns
 * the number of paths it was queued on. */
int	link_send_all(uint8_t type, const void *payload, size_t len);
/* Request with reply; cb is always called exactly once.
 * timeout_ms <= 0 means 5000. */
void	link_request(uint8_t type, const void *payload, size_t len,
	    int timeout_ms, link_reply_cb cb, void *arg);
void	link_reply(struct link_req *rq, const void *payload, size_t len);

/* Asynchronous message on one path (heartbeats per channel): 0, or -1
 * when that path is not established. */
int	link_send_path(int path, uint8_t type, const void *payload,
	    size_t len);
/* During a message handler: the index of the path it arrived on (-1
 * outside a handler). */
int	link_rx_path(void);
int	link_npaths(void);
/* 1 when path is down and its last loss was the peer closing or
 * resetting the connection, or refusing a new one: evidence that the
 * peer's daemon is gone rather than silent (stopped, cut off). */
int	link_path_peer_closed(int path);

int	link_peer_up(void);
uint64_t link_peer_boot_id(void);

/* Status for `duonas status`: append human lines or a JSON array of
 * paths (state, local/remote address, sent, received, errors, drops by
 * reason, last rtt, best). */
void	link_status_text(struct buf *out);
void	link_status_json(struct buf *out);
/* Counters of path i for the metrics page: 0, or -1 past the last path
 * (or when the link is not running).  Loop thread. */
struct link_path_stats {
	int		up, best;
	char		local[96], remote[96];
	uint64_t	sent, received, sent_bytes, recv_bytes;
	uint64_t	errors, connects, srtt_us;
};
int	link_path_stats(int i, struct link_path_stats *s);

/* Fault injection for tests: 1 = path i refuses traffic (as if cut). */
void	link_path_block(int path, int blocked);
/* Fault injection for tests: of every m heartbeat-range frames (types
 * LINK_T_HB_FIRST..LAST) received on path, drop the first n (n = 0: off).
 * Other frames are never dropped. */
void	link_path_lossy(int path, int n, int m);

#endif

/*
 * tickle.h — TCP tickle ACKs: the client connections of each service IP,
 * replicated to the peer, and the bare ACKs the new owner of an IP sends
 * them so that they reset at once instead of waiting out TCP's
 * retransmission backoff (docs/failover.md "Tickle ACKs").
 *
 * A file service reports every client TCP connection it accepts and
 * closes (tickle_conn_add / tickle_conn_del, any thread).  The list is
 * bounded (TICKLE_MAX_CONNS here, as many of the peer's) and sent to the
 * peer over the peer link (docs/link-protocol.md "Tickle connection
 * lists"), which keeps the last list it heard, also after this head
 * died.  When a head adds and announces a service IP it calls
 * tickle_ip_acquired(): every known connection of that address, its own
 * and the peer's, gets a bare ACK with sequence and acknowledgement
 * number 0 from the service IP and port, tickle-count times every
 * tickle-interval ms.  The client's stack finds the ACK outside its
 * window and answers with an ACK of its own; this head's kernel, which
 * has no socket for it, answers that with a RST, and the client
 * reconnects now.
 *
 * The frame and the replication message are built by pure functions
 * (tickle_wire.c), tested byte for byte.
 */
#ifndef DUONAS_TICKLE_H
#define DUONAS_TICKLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;
struct cfg;
struct tickle_conn;

#define TICKLE_MAX_CONNS	8192	/* per head: own list, peer's list */

/* ---- the connection list (tickle.c) ---------------------------------- */

/*
 * Loop thread, once, after link_init(): register the replication message
 * and start the replication timer.  cfg is kept (tickle-count and
 * tickle-interval are read at every use).  0, or -1 (logged).
 */
int	tickle_init(const struct cfg *cfg);
/* Stop the timers and pending tickles, close the raw sockets, free the
 * lists.  Safe when never initialised. */
void	tickle_shutdown(void);

/*
 * Any thread, cheap (one mutex, a hash lookup), never blocks on I/O; may
 * be called with the caller's own locks held.  A client TCP connection
 * from remote to local (a service address and port) was accepted / is
 * closed.  Families other than AF_INET / AF_INET6, or local and remote
 * of different families, are ignored.  A full list drops the new
 * connection (counted, logged at most every 10 s).  Before tickle_init()
 * and after tickle_shutdown() these do nothing.
 */
void	tickle_conn_add(const struct sockaddr *local,
	    const struct sockaddr *remote);
void	tickle_conn_del(const struct sockaddr *local,
	    const struct sockaddr *remote);

/*
 * Loop thread: this head has just added and announced service IP addr
 * (text, IPv4 or IPv6).  Sends the tickle ACKs to every connection known
 * for addr (this head's and the peer's lists), the first round now, the
 * others from a timer; a running round for the same address is
 * replaced.  With tickle-count 0 only logs how many were not tickled.
 */
void	tickle_ip_acquired(const char *addr);

/*
 * Send one tickle ACK for c now (tickle_ack_build() through a raw IP
 * socket of c's family, opened on first use and kept).  The loop
 * thread, or a program's only thread.  0, or -1 with errno (EPERM
 * without CAP_NET_RAW, ENETUNREACH, ENOBUFS ...).
 */
int	tickle_ack_send(const struct tickle_conn *c);

/* For `duonas status`: one text line, or one JSON object. */
void	tickle_status_text(struct buf *);
void	tickle_status_json(struct buf *);

/* ---- wire formats (tickle_wire.c, pure) ------------------------------ */

/* One TCP connection, as the list and the message carry it. */
struct tickle_conn {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		laddr[16];	/* local (service) address; IPv4 in */
	uint8_t		raddr[16];	/* the first 4 bytes, the rest 0 */
	uint16_t	lport;		/* host order */
	uint16_t	rport;
};

/* From socket addresses; 0, or -1 (unsupported or mixed families). */
int	tickle_conn_from(struct tickle_conn *, const struct sockaddr *local,
	    const struct sockaddr *remote);

#define TICKLE_ACK4_LEN		40	/* IPv4 header + TCP header */
#define TICKLE_ACK6_LEN		60	/* IPv6 header + TCP header */
#define TICKLE_WINDOW		1024	/* advertised window of the ACK */

/*
 * Build the tickle ACK for c, from its local address and port to its
 * remote ones, starting at the IP header (for a raw IP socket with the
 * header included): IPv4 (ttl 64, DF, id 0) or IPv6 (hop limit 64), TCP
 * with seq 0, ack 0, flags ACK, window TICKLE_WINDOW, both checksums
 * computed.  Returns the length, or 0 when len is too small.
 */
size_t	tickle_ack_build(uint8_t *buf, size_t len,
	    const struct tickle_conn *c);

/*
 * The replication message (payload of link type TICKLE_T_CONNS):
 * a 16-byte header, then count entries of 40 bytes (layout in
 * docs/link-protocol.md).  FULL replaces the receiver's copy of the
 * sender's list; DELTA adds and removes entries.
 */
#define TICKLE_MSG_MAGIC	0x44544b31u	/* "DTK1" */
#define TICKLE_MSG_VERSION	1
#define TICKLE_MSG_HDR		16
#define TICKLE_MSG_ENT		40
#define TICKLE_MSG_MAXENT	TICKLE_MAX_CONNS

enum tickle_kind { TICKLE_FULL = 1, TICKLE_DELTA = 2 };
enum tickle_op { TICKLE_ADD = 1, TICKLE_DEL = 2 };

struct tickle_ent {
	uint8_t			op;	/* enum tickle_op */
	struct tickle_conn	c;
};

/* Bytes of a message of n entries. */
#define TICKLE_MSG_LEN(n)	(TICKLE_MSG_HDR + (size_t)(n) * TICKLE_MSG_ENT)

/*
 * Encode kind, seq and the n entries into buf.  Returns the length, or 0
 * when len is too small, n is over TICKLE_MSG_MAXENT or an entry is
 * invalid (family, op; FULL carries ADD only).
 */
size_t	tickle_msg_encode(uint8_t *buf, size_t len, enum tickle_kind kind,
	    uint32_t seq, const struct tickle_ent *e, size_t n);

/*
 * Check a received message and return its header: 0, or -1 with a short
 * reason in why (bad magic, version, kind, count or length).  Entries are
 * then read one by one with tickle_msg_entry(): 0, or -1 with why (bad
 * family, op, or an operation FULL does not allow).
 */
int	tickle_msg_decode(const uint8_t *p, size_t len, enum tickle_kind *kind,
	    uint32_t *seq, size_t *n, const char **why);
int	tickle_msg_entry(const uint8_t *p, size_t i, enum tickle_kind kind,
	    struct tickle_ent *e, const char **why);

#endif

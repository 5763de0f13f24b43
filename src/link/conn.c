/*
 * conn.c — the link's socket layer: one TCP connection per path, the
 * HELLO handshake, PING/PONG and the dead timer, and the path state
 * machine (one table, one writer: lk_path_fsm).
 *
 * Each path is dialed by the head with the lower node id and accepted by
 * the other.  Connections use raw nonblocking sockets with our own input
 * and output buffers: a frame is encoded straight into the output buffer
 * and written at once when nothing is queued (no timers or batching on
 * the send path).  The acceptor keeps inbound connections apart
 * ("pending") until they prove the session key, so a stray or hostile
 * connection can never disturb a working path.
 *
 * A closed connection is only detached and marked dead here; its memory
 * is freed later from reap_cb, so a handler that closes a path while its
 * own payload is being delivered still reads valid memory.  This file
 * does not know about handlers, requests or the best path (link.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/loop.h"
#include "link/link.h"
#include "link/link_int.h"

#define LK_OUTQ_MAX		(64u << 20)
#define LK_PENDING_MAX		4
#define LK_READ_CHUNK		(64u << 10)

enum lk_cphase {
	LK_CP_CONNECTING,	/* dialer: connect() in progress */
	LK_CP_WAIT_HELLO,	/* expecting the peer's HELLO */
	LK_CP_WAIT_FIRST,	/* acceptor: HELLO answered, awaiting proof */
	LK_CP_READY,		/* session established */
};

struct lk_conn {
	int		 fd;
	int		 dead;
	enum lk_cphase	 phase;
	uint64_t	 serial;		/* unique per connection */
	struct lk_path	*path;
	struct event	*rev, *wev;
	uint8_t		*in;
	size_t		 in_len, in_cap, in_off, in_need;
	struct buf	 out;
	size_t		 out_off;
	struct lk_key	 skey;
	int		 has_skey;
	uint64_t	 tx_seq, rx_seq;
	uint8_t		 nonce[LK_NONCE_LEN];	/* ours */
	uint64_t	 peer_boot;
	uint64_t	 open_ms, last_rx_ms;
	struct lk_conn	*next;			/* pending list / graveyard */
};

struct lk_state lk;
static uint64_t conn_serial;
static struct lk_conn *promote;		/* argument of LK_PE_ACCEPTED */

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_fail(struct lk_conn *, const char *why);

/* ---- path state machine ---- */

static const char *const pstate_names[] = {
	"idle", "connecting", "hello", "up", "blocked",
};
_Static_assert(nitems(pstate_names) == 5, "path state names");
static const char *const pevent_names[LK_PE__MAX] = {
	"DIAL", "CONNECTED", "HELLO_OK", "ACCEPTED", "FAIL", "BLOCK",
	"UNBLOCK",
};
_Static_assert(nitems(pevent_names) == LK_PE__MAX, "path event names");

const char *
lk_pstate_name(int st)
{
	int i;

	for (i = 0; i < (int)nitems(pstate_names); i++)
		if (st == (1 << i))
			return pstate_names[i];
	return "?";
}

/* An action returns a follow-up event to feed, or -1. */
static int	act_dial(struct lk_path *, int);
static int	act_hello(struct lk_path *, int);
static int	act_up(struct lk_path *, int);
static int	act_accept(struct lk_path *, int);
static int	act_close(struct lk_path *, int);
static int	act_block(struct lk_path *, int);
static int	act_unblock(struct lk_path *, int);

static const struct {
	int		 states;
	enum lk_pevent	 event;
	int		(*action)(struct lk_path *, int oldstate);
	int		 next;
} path_fsm_tbl[] = {
    /* current state		event		action		resulting state */
    { LK_PS_IDLE,		LK_PE_DIAL,	 act_dial,	LK_PS_CONNECT },
    { LK_PS_CONNECT,		LK_PE_CONNECTED, act_hello,	LK_PS_HELLO },
    { LK_PS_HELLO,		LK_PE_HELLO_OK,	 act_up,	LK_PS_UP },
    { LK_PS_IDLE | LK_PS_UP,	LK_PE_ACCEPTED,	 act_accept,	LK_PS_UP },
    { LK_PS_CONNECT | LK_PS_HELLO | LK_PS_UP,
				LK_PE_FAIL,	 act_close,	LK_PS_IDLE },
    { LK_PS_ANY & ~LK_PS_BLOCKED,
				LK_PE_BLOCK,	 act_block,	LK_PS_BLOCKED },
    { LK_PS_BLOCKED,		LK_PE_UNBLOCK,	 act_unblock,	LK_PS_IDLE },
};

static uint64_t unexpected_events;

void
lk_path_fsm(struct lk_path *p, enum lk_pevent ev)
{
	size_t	i;
	int	old = p->state, follow;

	for (i = 0; i < nitems(path_fsm_tbl); i++)
		if ((path_fsm_tbl[i].states & old) &&
		    path_fsm_tbl[i].event == ev)
			break;
	if (i == nitems(path_fsm_tbl)) {
		unexpected_events++;
		log_debug("link: path %d: event %s ignored in state %s",
		    p->idx, pevent_names[ev], lk_pstate_name(old));
		return;
	}
	p->state = path_fsm_tbl[i].next;
	if (p->state != old) {
		p->st.since_ms = now_ms();
		/* Dial attempts to an absent peer would flood the log. */
		if ((old | p->state) & (LK_PS_UP | LK_PS_BLOCKED))
			log_info("link: path %d (%s -> %s): %s -> %s on %s",
			    p->idx, p->local->text, p->remote->text,
			    lk_pstate_name(old), lk_pstate_name(p->state),
			    pevent_names[ev]);
		else
			log_debug("link: path %d: %s -> %s on %s", p->idx,
			    lk_pstate_name(old), lk_pstate_name(p->state),
			    pevent_names[ev]);
	}
	follow = path_fsm_tbl[i].action(p, old);
	if (follow >= 0)
		lk_path_fsm(p, (enum lk_pevent)follow);
}

int
lk_path_usable(const struct lk_path *p)
{
	return p->state == LK_PS_UP && p->conn != NULL && !p->conn->dead;
}

void
lk_path_drop(struct lk_path *p, enum lk_drop why, const char *fmt, ...)
{
	char		msg[160];
	va_list		ap;
	uint64_t	now = now_ms();

	p->st.drops[why]++;
	if (p->log_ms != 0 && now - p->log_ms < 1000) {
		p->log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("link: path %d: dropped frame (%s): %s%s", p->idx,
	    lk_drop_names[why], msg, p->log_suppressed ? " (and earlier "
	    "drops not logged)" : "");
	p->log_ms = now;
	p->log_suppressed = 0;
}

/* ---- connections ---- */

static void
reap_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lk_conn *c, *next;

	(void)fd; (void)ev; (void)arg;
	c = lk.graveyard;
	lk.graveyard = NULL;
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->rev)
			event_free(c->rev);
		if (c->wev)
			event_free(c->wev);
		free(c->in);
		buf_free(&c->out);
		if (c->has_skey)
			lk_key_free(&c->skey);
		OPENSSL_cleanse(c->nonce, sizeof(c->nonce));
		free(c);
	}
}

static struct lk_conn *
conn_new(struct lk_path *p, int fd, enum lk_cphase phase)
{
	struct lk_conn	*c = xcalloc(1, sizeof(*c));
	int		 one = 1;

	c->fd = fd;
	c->path = p;
	c->phase = phase;
	c->serial = ++conn_serial;
	buf_init(&c->out);
	random_bytes(c->nonce, sizeof(c->nonce));
	c->open_ms = c->last_rx_ms = now_ms();
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->rev = event_new(loop_base(), fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	c->wev = event_new(loop_base(), fd, EV_WRITE | EV_PERSIST,
	    conn_write_cb, c);
	if (c->rev == NULL || c->wev == NULL)
		fatalx("link: event_new failed");
	return c;
}

/* Detach nothing, close the socket, free later (see the file comment). */
static void
conn_kill(struct lk_conn *c)
{
	if (c == NULL || c->dead)
		return;
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	close(c->fd);
	c->fd = -1;
	c->next = lk.graveyard;
	lk.graveyard = c;
	if (lk.reap_ev)
		event_active(lk.reap_ev, EV_READ, 0);
}

static void
pending_remove(struct lk_path *p, struct lk_conn *c)
{
	struct lk_conn **pp;

	for (pp = &p->pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->next = NULL;
			p->npending--;
			return;
		}
}

static void
conn_fail(struct lk_conn *c, const char *why)
{
	struct lk_path *p = c->path;

	if (c->dead)
		return;
	if (c == p->conn) {
		log_debug("link: path %d: connection closed: %s", p->idx, why);
		if (p->state == LK_PS_UP)
			log_warnx("link: path %d: connection lost: %s",
			    p->idx, why);
		lk_path_fsm(p, LK_PE_FAIL);
	} else {
		log_debug("link: path %d: inbound connection closed: %s",
		    p->idx, why);
		pending_remove(p, c);
		conn_kill(c);
	}
}

/* Write what is queued.  0, or -1 on a socket error (caller fails). */
static int
conn_flush(struct lk_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!event_pending(c->wev, EV_WRITE, NULL))
					event_add(c->wev, NULL);
				/* Keep the queue compact when it drains
				 * slowly. */
				if (c->out_off > (1u << 20) &&
				    c->out_off > c->out.len / 2) {
					memmove(c->out.data, c->out.data +
					    c->out_off, c->out.len - c->out_off);
					c->out.len -= c->out_off;
					c->out_off = 0;
				}
				return 0;
			}
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out.cap > 4 * LK_READ_CHUNK) {
		buf_free(&c->out);
		buf_init(&c->out);
	} else
		buf_reset(&c->out);
	c->out_off = 0;
	event_del(c->wev);
	return 0;
}

static int
conn_queue(struct lk_conn *c, uint8_t type, uint16_t flags,
    uint64_t req_id, const void *payload, size_t len)
{
	struct lk_hdr	 h;
	int		 idle = c->out_off == c->out.len;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.flags = flags;
	h.sender = lk.self_id;
	h.seq = c->tx_seq++;
	h.req_id = req_id;
	if (lk_frame_encode(&c->out, c->has_skey ? &c->skey : &lk.ckey, &h,
	    payload, len) != LK_OK)
		return -1;
	c->path->st.sent++;
	c->path->st.sent_bytes += LK_FRAME_OVERHEAD + len;
	if (c->out.len - c->out_off > LK_OUTQ_MAX) {
		conn_fail(c, "output queue over 64 MiB: peer not reading");
		return -1;
	}
	if (idle && c->phase != LK_CP_CONNECTING && conn_flush(c) < 0) {
		conn_fail(c, strerror(errno));
		return -1;
	}
	return 0;
}

int
lk_path_send(struct lk_path *p, uint8_t type, uint16_t flags,
    uint64_t req_id, const void *payload, size_t len)
{
	if (!lk_path_usable(p))
		return -1;
	return conn_queue(p->conn, type, flags, req_id, payload, len);
}

uint64_t
lk_path_serial(const struct lk_path *p)
{
	return p->conn ? p->conn->serial : 0;
}

static void
conn_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lk_conn	*c = arg;
	int		 err = 0;
	socklen_t	 elen = sizeof(err);

	(void)ev;
	if (c->phase == LK_CP_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err != 0) {
			log_debug("link: path %d: connect %s: %s",
			    c->path->idx, c->path->remote->text,
			    strerror(err));
			/* Nobody listens: the peer's daemon is not running. */
			if (err == ECONNREFUSED)
				c->path->peer_closed = 1;
			conn_fail(c, strerror(err));
			return;
		}
		event_del(c->wev);
		lk_path_fsm(c->path, LK_PE_CONNECTED);
		return;
	}
	if (conn_flush(c) < 0)
		conn_fail(c, strerror(errno));
}

static void
send_hello(struct lk_conn *c, uint8_t role, const uint8_t *echo)
{
	struct lk_hello	 hl;
	struct buf	 b;

	memset(&hl, 0, sizeof(hl));
	hl.role = role;
	hl.path = (uint8_t)c->path->idx;
	hl.node_id = lk.self_id;
	hl.to_node_id = lk.peer_id;
	hl.boot_id = lk.boot_id;
	memcpy(hl.nonce, c->nonce, LK_NONCE_LEN);
	if (echo)
		memcpy(hl.echo, echo, LK_NONCE_LEN);
	snprintf(hl.cluster, sizeof(hl.cluster), "%s", lk.cfg->cluster);
	buf_init(&b);
	lk_hello_encode(&b, &hl);
	(void)conn_queue(c, LINK_T_HELLO, 0, 0, b.data, b.len);
	buf_free(&b);
}

static int
set_session_key(struct lk_conn *c, const uint8_t *dn, const uint8_t *an)
{
	uint8_t	sk[LK_MAC_LEN];
	int	rc;

	if (lk_session_key(&lk.ckey, dn, an, sk) < 0)
		return -1;
	rc = lk_key_init(&c->skey, sk, sizeof(sk));
	OPENSSL_cleanse(sk, sizeof(sk));
	if (rc < 0)
		return -1;
	c->has_skey = 1;
	c->rx_seq = 1;
	return 0;
}

/* A HELLO on a connection still in WAIT_HELLO.  0, or -1 (c failed). */
static int
conn_hello(struct lk_conn *c, const struct lk_hdr *h, const uint8_t *pl)
{
	struct lk_path	*p = c->path;
	struct lk_hello	 hl;
	const char	*why = NULL;
	uint8_t		 want = p->dialer ? LK_ROLE_ACCEPTOR : LK_ROLE_DIALER;

	if (h->type != LINK_T_HELLO || h->flags != 0)
		why = "first frame is not HELLO";
	else if (lk_hello_decode(pl, h->len, &hl, &why) < 0)
		;
	else if (hl.role != want)
		why = "HELLO from the wrong role";
	else if (hl.path != p->idx)
		why = "HELLO for another path";
	else if (hl.node_id != lk.peer_id || h->sender != lk.peer_id)
		why = "HELLO from an unexpected node id";
	else if (hl.to_node_id != lk.self_id)
		why = "HELLO addressed to another node id";
	else if (strcmp(hl.cluster, lk.cfg->cluster) != 0)
		why = "HELLO from another cluster";
	else if (p->dialer &&
	    CRYPTO_memcmp(hl.echo, c->nonce, LK_NONCE_LEN) != 0)
		why = "HELLO does not echo our nonce (replayed?)";
	if (why != NULL) {
		lk_path_drop(p, LK_DROP_PROTO, "%s", why);
		conn_fail(c, why);
		return -1;
	}
	c->peer_boot = hl.boot_id;
	if (p->dialer) {
		if (set_session_key(c, c->nonce, hl.nonce) < 0)
			goto bad;
		c->tx_seq = 1;
		c->phase = LK_CP_READY;
		lk_path_fsm(p, LK_PE_HELLO_OK);
	} else {
		send_hello(c, LK_ROLE_ACCEPTOR, hl.nonce);
		if (c->dead || set_session_key(c, hl.nonce, c->nonce) < 0)
			goto bad;
		c->phase = LK_CP_WAIT_FIRST;
	}
	return c->dead ? -1 : 0;
bad:
	conn_fail(c, "cannot derive the session key");
	return -1;
}

static void
conn_ping(struct lk_conn *c)
{
	uint8_t t[8];

	put_be64(t, now_us());
	(void)conn_queue(c, LINK_T_PING, 0, 0, t, sizeof(t));
}

/* One authenticated, in-sequence frame. */
static void
conn_frame(struct lk_conn *c, const struct lk_hdr *h, const uint8_t *pl)
{
	struct lk_path	*p = c->path;
	uint64_t	 t;

	if (c->phase == LK_CP_WAIT_HELLO) {
		(void)conn_hello(c, h, pl);
		return;
	}
	if (c->phase == LK_CP_WAIT_FIRST) {
		/* The dialer proved the session key: this connection now
		 * becomes the path's connection. */
		promote = c;
		lk_path_fsm(p, LK_PE_ACCEPTED);
		promote = NULL;
		if (c->dead || c != p->conn)
			return;
	}
	if (h->sender != lk.peer_id || h->type == LINK_T_HELLO ||
	    (h->flags & (LK_F_REQUEST | LK_F_REPLY)) ==
	    (LK_F_REQUEST | LK_F_REPLY)) {
		lk_path_drop(p, LK_DROP_PROTO, "type %u flags %#x from node "
		    "%u after HELLO", h->type, h->flags, h->sender);
		conn_fail(c, "protocol violation");
		return;
	}
	if (h->type == LINK_T_PING || h->type == LINK_T_PONG) {
		if (h->len != 8 || h->flags != 0) {
			lk_path_drop(p, LK_DROP_PROTO, "bad PING/PONG");
			conn_fail(c, "protocol violation");
			return;
		}
		if (h->type == LINK_T_PING) {
			(void)conn_queue(c, LINK_T_PONG, 0, 0, pl, 8);
			return;
		}
		t = get_be64(pl);
		if (t > now_us())
			return;
		p->st.rtt_us = now_us() - t;
		if (p->st.srtt_us == 0)
			p->st.srtt_us = p->st.rtt_us ? p->st.rtt_us : 1;
		else
			p->st.srtt_us = (7 * p->st.srtt_us + p->st.rtt_us) / 8;
		lk_on_rtt(p);
		return;
	}
	lk_on_frame(p, h, pl);
}

static void
conn_grow(struct lk_conn *c)
{
	size_t want = LK_READ_CHUNK, have;

	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
		/* Give back the memory of a past big frame. */
		if (c->in_cap > 4 * LK_READ_CHUNK) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
	}
	have = c->in_len - c->in_off;
	if (c->in_need > have && c->in_need - have > want)
		want = c->in_need - have;
	if (c->in_cap - c->in_len >= want)
		return;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, have);
		c->in_len = have;
		c->in_off = 0;
	}
	if (c->in_cap - c->in_len < want) {
		c->in_cap = c->in_len + want;
		c->in = xrealloc(c->in, c->in_cap);
	}
}

static void
conn_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lk_conn		*c = arg;
	struct lk_path		*p = c->path;
	struct lk_hdr		 h;
	const uint8_t		*pl;
	size_t			 flen;
	ssize_t			 n;
	int			 st;
	enum lk_drop		 why;

	(void)ev;
	conn_grow(c);
	n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n == 0) {
		/* The peer's kernel closed the connection: its daemon exited
		 * (or closed it on purpose), it did not merely go silent. */
		if (c == p->conn)
			p->peer_closed = 1;
		conn_fail(c, "closed by peer");
		return;
	}
	if (n < 0) {
		if (errno == ECONNRESET && c == p->conn)
			p->peer_closed = 1;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_fail(c, strerror(errno));
		return;
	}
	c->in_len += (size_t)n;
	p->st.recv_bytes += (uint64_t)n;
	while (!c->dead && c->in_off < c->in_len) {
		st = lk_frame_decode(c->in + c->in_off, c->in_len - c->in_off,
		    c->has_skey ? &c->skey : &lk.ckey, c->rx_seq, &h, &pl,
		    &flen);
		switch (st) {
		case LK_MORE:
			c->in_need = flen;
			return;
		case LK_E_SEQ:
			c->in_off += flen;
			lk_path_drop(p, LK_DROP_REPLAY, "seq %llu, expected "
			    "%llu", (unsigned long long)h.seq,
			    (unsigned long long)c->rx_seq);
			continue;
		case LK_OK:
			c->in_off += flen;
			c->in_need = 0;
			c->rx_seq++;
			c->last_rx_ms = now_ms();
			p->st.received++;
			if (lk_path_test_drop(p, h.type))
				continue;	/* lossy switch (tests) */
			conn_frame(c, &h, pl);
			continue;
		case LK_E_MAGIC:	why = LK_DROP_MAGIC; break;
		case LK_E_VERSION:	why = LK_DROP_VERSION; break;
		case LK_E_LENGTH:	why = LK_DROP_LENGTH; break;
		default:		why = LK_DROP_MAC; break;
		}
		/* The stream is no longer trustworthy: close it. */
		lk_path_drop(p, why, "%s on %s connection, closing it",
		    lk_status_str(st), c == p->conn ? "established" :
		    "inbound");
		p->st.errors++;
		conn_fail(c, lk_status_str(st));
		return;
	}
}

/* ---- path actions ---- */

static void
redial_arm(struct lk_path *p, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (p->dialer && lk.running)
		evtimer_add(p->redial_ev, &tv);
}

static int
act_dial(struct lk_path *p, int old)
{
	struct sockaddr_storage	 src;
	int			 fd;

	(void)old;
	fd = socket(p->remote->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("link: path %d: socket", p->idx);
		return LK_PE_FAIL;
	}
	/* Bind the source to our own link address so the traffic really
	 * takes this path's network. */
	src = p->local->ss;
	if (src.ss_family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&src)->sin6_port = 0;
	p->conn = conn_new(p, fd, LK_CP_CONNECTING);
	if (src.ss_family == p->remote->ss.ss_family &&
	    bind(fd, (struct sockaddr *)&src, p->local->len) < 0) {
		log_debug("link: path %d: bind %s: %s", p->idx,
		    p->local->text, strerror(errno));
		return LK_PE_FAIL;
	}
	if (connect(fd, (const struct sockaddr *)&p->remote->ss,
	    p->remote->len) == 0)
		return LK_PE_CONNECTED;
	if (errno == ECONNREFUSED)
		p->peer_closed = 1;
	if (errno != EINPROGRESS) {
		log_debug("link: path %d: connect %s: %s", p->idx,
		    p->remote->text, strerror(errno));
		return LK_PE_FAIL;
	}
	event_add(p->conn->wev, NULL);
	return -1;
}

static int
act_hello(struct lk_path *p, int old)
{
	struct lk_conn *c = p->conn;

	(void)old;
	c->phase = LK_CP_WAIT_HELLO;
	c->open_ms = c->last_rx_ms = now_ms();
	event_add(c->rev, NULL);
	send_hello(c, LK_ROLE_DIALER, NULL);
	return c->dead ? LK_PE_FAIL : -1;
}

static void
path_established(struct lk_path *p)
{
	p->peer_boot = p->conn->peer_boot;
	p->conn->last_rx_ms = now_ms();
	p->st.connects++;
	p->st.srtt_us = p->st.rtt_us = 0;
}

static int
act_up(struct lk_path *p, int old)
{
	(void)old;
	p->peer_closed = 0;
	path_established(p);
	/* Proves the session key to the acceptor and measures the rtt. */
	conn_ping(p->conn);
	if (lk_path_usable(p))
		lk_on_path_up(p);
	return -1;
}

static int
act_accept(struct lk_path *p, int old)
{
	p->peer_closed = 0;
	struct lk_conn	*c = promote, *prev = p->conn;
	uint64_t	 prev_serial = prev ? prev->serial : 0;

	pending_remove(p, c);
	p->conn = c;
	c->phase = LK_CP_READY;
	path_established(p);
	if (prev != NULL) {
		/* The peer redialed: whatever was in flight on the old
		 * connection is re-sent (possibly on this new one). */
		conn_kill(prev);
		if (old == LK_PS_UP)
			lk_on_path_down(p, prev_serial);
	}
	conn_ping(c);
	if (lk_path_usable(p))
		lk_on_path_up(p);
	return -1;
}

static void
path_close_conn(struct lk_path *p, int old)
{
	struct lk_conn	*c = p->conn;
	uint64_t	 serial = c ? c->serial : 0;

	p->conn = NULL;
	conn_kill(c);
	if (old == LK_PS_UP)
		lk_on_path_down(p, serial);
}

static int
act_close(struct lk_path *p, int old)
{
	p->st.errors++;
	path_close_conn(p, old);
	redial_arm(p, lk.cfg->link_reconnect_ms);
	return -1;
}

static int
act_block(struct lk_path *p, int old)
{
	struct lk_conn *c;

	while ((c = p->pending) != NULL) {
		pending_remove(p, c);
		conn_kill(c);
	}
	evtimer_del(p->redial_ev);
	path_close_conn(p, old);
	return -1;
}

static int
act_unblock(struct lk_path *p, int old)
{
	(void)old;
	redial_arm(p, 0);
	return -1;
}

/* ---- timers and the listener ---- */

static void
redial_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	lk_path_fsm(arg, LK_PE_DIAL);
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lk_path	*p;
	struct lk_conn	*c, *next;
	uint64_t	 now = now_ms(), dead = (uint64_t)lk.cfg->link_dead_ms;
	int		 i;

	(void)fd; (void)ev; (void)arg;
	for (i = 0; i < lk.npaths; i++) {
		p = &lk.paths[i];
		for (c = p->pending; c != NULL; c = next) {
			next = c->next;
			if (now - c->open_ms > dead) {
				p->st.errors++;
				conn_fail(c, "HELLO not completed in time");
			}
		}
		if ((c = p->conn) == NULL || c->dead)
			continue;
		if (p->state == LK_PS_UP) {
			if (now - c->last_rx_ms > dead) {
				log_warnx("link: path %d: nothing received "
				    "for %llu ms, declaring it dead", p->idx,
				    (unsigned long long)(now - c->last_rx_ms));
				lk_path_fsm(p, LK_PE_FAIL);
			} else
				conn_ping(c);
		} else if ((p->state & (LK_PS_CONNECT | LK_PS_HELLO)) &&
		    now - c->open_ms > dead)
			conn_fail(c, "connect/HELLO timed out");
	}
}

static void
accept_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct lk_path	*p = arg;
	struct lk_conn	*c;
	int		 fd;

	(void)ev;
	while ((fd = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (p->state == LK_PS_BLOCKED) {
			close(fd);
			continue;
		}
		if (p->npending >= LK_PENDING_MAX) {
			/* Drop the oldest unauthenticated one (list tail). */
			for (c = p->pending; c->next != NULL; c = c->next)
				;
			p->st.errors++;
			conn_fail(c, "too many unauthenticated connections");
		}
		c = conn_new(p, fd, LK_CP_WAIT_HELLO);
		c->next = p->pending;
		p->pending = c;
		p->npending++;
		event_add(c->rev, NULL);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("link: path %d: accept", p->idx);
}

static int
listen_on(struct lk_path *p)
{
	int one = 1, fd;

	fd = socket(p->local->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("link: path %d: socket", p->idx);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&p->local->ss,
	    p->local->len) < 0 || listen(fd, 16) < 0) {
		log_warn("link: path %d: cannot listen on %s", p->idx,
		    p->local->text);
		close(fd);
		return -1;
	}
	p->lfd = fd;
	p->lev = event_new(loop_base(), fd, EV_READ | EV_PERSIST, accept_cb,
	    p);
	if (p->lev == NULL)
		fatalx("link: event_new failed");
	event_add(p->lev, NULL);
	return 0;
}

int
lk_paths_start(void)
{
	struct lk_path	*p;
	struct timeval	 tv;
	int		 i;

	lk.reap_ev = event_new(loop_base(), -1, 0, reap_cb, NULL);
	lk.tick_ev = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	if (lk.reap_ev == NULL || lk.tick_ev == NULL)
		fatalx("link: event_new failed");
	for (i = 0; i < lk.npaths; i++) {
		p = &lk.paths[i];
		p->redial_ev = evtimer_new(loop_base(), redial_cb, p);
		if (p->redial_ev == NULL)
			fatalx("link: evtimer_new failed");
		if (!p->dialer && listen_on(p) < 0)
			return -1;
	}
	for (i = 0; i < lk.npaths; i++)
		if (lk.paths[i].dialer)
			redial_arm(&lk.paths[i], 0);
	tv.tv_sec = lk.cfg->link_ping_ms / 1000;
	tv.tv_usec = (lk.cfg->link_ping_ms % 1000) * 1000;
	event_add(lk.tick_ev, &tv);
	return 0;
}

void
lk_paths_stop(void)
{
	struct lk_path	*p;
	struct lk_conn	*c;
	int		 i;

	for (i = 0; i < lk.npaths; i++) {
		p = &lk.paths[i];
		while ((c = p->pending) != NULL) {
			pending_remove(p, c);
			conn_kill(c);
		}
		conn_kill(p->conn);
		p->conn = NULL;
		p->state = LK_PS_IDLE;
		if (p->redial_ev)
			event_free(p->redial_ev);
		p->redial_ev = NULL;
		if (p->lev)
			event_free(p->lev);
		p->lev = NULL;
		if (p->lfd >= 0)
			close(p->lfd);
		p->lfd = -1;
	}
	reap_cb(-1, 0, NULL);
	if (lk.tick_ev)
		event_free(lk.tick_ev);
	if (lk.reap_ev)
		event_free(lk.reap_ev);
	lk.tick_ev = lk.reap_ev = NULL;
}

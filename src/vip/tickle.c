/*
 * tickle.c — the client connection lists of the service IPs and the
 * tickle ACKs a head sends after it acquired one (tickle.h says why).
 *
 * Two bounded hash tables of TICKLE_MAX_CONNS connections: this head's
 * (fed by the file services from any thread, under one mutex) and the
 * last list the peer sent (loop thread only).  Changes to ours are
 * queued as deltas and sent on the peer link every TICK_MS; the whole
 * list goes every FULL_MS, after the peer link comes up, after a send
 * failed and when the delta queue overflowed, so a lost or reordered
 * delta is repaired within seconds.  The peer's list is replaced only
 * by a full list from the peer, never cleared when the peer dies: that
 * is when it is needed.
 *
 * Tickles go out through raw IP sockets with the header included
 * (IPPROTO_RAW), opened on first use, one per family; the frames come
 * from tickle_wire.c.  Not here: deciding when an IP moves (the HA
 * controller calls tickle_ip_acquired()), and which connections exist
 * (the services report them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "link/link.h"
#include "vip/tickle.h"

#define TICKLE_T_CONNS	(LINK_T_VIP_FIRST + 0)	/* docs/link-protocol.md */
#define TICK_MS		100	/* a change reaches the peer this late */
#define FULL_MS		5000	/* the whole list at least this often */
#define DELTA_MAX	1024	/* queued changes; beyond: a full list */
#define WARN_MS		10000	/* "list full" at most this often */
#define NBUCKETS	(2 * TICKLE_MAX_CONNS)
#define NIL		UINT32_MAX

/* A bounded set of connections: slots chained per hash bucket; unused
 * slots on a free list through the same next field. */
struct tab {
	struct tickle_conn	*c;
	uint32_t		*next;
	uint32_t		*bucket;
	uint32_t		 free;
	uint32_t		 n;
	uint64_t		 dropped;	/* refused: the table was full */
};

/* The tickles of one acquired address, repeated from a timer. */
struct job {
	struct job		*next;
	char			 addr[64];
	struct tickle_conn	*c;
	size_t			 n, npeer;
	int			 left;		/* rounds still to send */
	struct event		*ev;
	uint64_t		 sent, failed;
	int			 err;		/* last errno of a failure */
};

static struct {
	_Atomic int		 on;
	const struct cfg	*cfg;
	uint64_t		 seed;
	/* this head's list, deltas not yet sent: mtx */
	pthread_mutex_t		 mtx;
	struct tab		 own;
	struct tickle_ent	 dq[DELTA_MAX];
	size_t			 ndq;
	int			 need_full;
	uint64_t		 warn_ms;
	/* loop thread only */
	struct tab		 peer;
	uint32_t		 tx_seq, rx_seq;
	int			 rx_any;
	uint64_t		 next_full_ms;
	struct event		*tick_ev;
	struct tickle_ent	*txent;		/* TICKLE_MAX_CONNS */
	uint8_t			*txbuf;		/* TICKLE_MSG_LEN(max) */
	struct job		*jobs;
	int			 fd4, fd6;
	uint64_t		 tx_msgs, rx_msgs, rx_bad, rx_gaps;
	uint64_t		 sent, failed;
	char			 last_addr[64];
	size_t			 last_n;
	uint64_t		 last_wall_ms;
} tk = { .mtx = PTHREAD_MUTEX_INITIALIZER, .fd4 = -1, .fd6 = -1 };

/* ---- the tables ------------------------------------------------------- */

static void
tab_init(struct tab *t)
{
	t->c = xcalloc(TICKLE_MAX_CONNS, sizeof(*t->c));
	t->next = xcalloc(TICKLE_MAX_CONNS, sizeof(*t->next));
	t->bucket = xcalloc(NBUCKETS, sizeof(*t->bucket));
	t->n = 0;
	for (uint32_t i = 0; i < NBUCKETS; i++)
		t->bucket[i] = NIL;
	for (uint32_t i = 0; i < TICKLE_MAX_CONNS; i++)
		t->next[i] = i + 1 < TICKLE_MAX_CONNS ? i + 1 : NIL;
	t->free = 0;
}

static void
tab_free(struct tab *t)
{
	free(t->c);
	free(t->next);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a over the fields (not the struct: it has padding), seeded per
 * start so that clients cannot aim at one chain. */
static uint32_t
conn_hash(const struct tickle_conn *c)
{
	uint64_t	h = tk.seed ^ 0xcbf29ce484222325ull;
	uint8_t		k[37];

	k[0] = c->family;
	memcpy(k + 1, c->laddr, 16);
	memcpy(k + 17, c->raddr, 16);
	put_be16(k + 33, c->lport);
	put_be16(k + 35, c->rport);
	for (size_t i = 0; i < sizeof(k); i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	return (uint32_t)(h % NBUCKETS);
}

static int
conn_eq(const struct tickle_conn *a, const struct tickle_conn *b)
{
	return a->family == b->family && a->lport == b->lport &&
	    a->rport == b->rport && memcmp(a->laddr, b->laddr, 16) == 0 &&
	    memcmp(a->raddr, b->raddr, 16) == 0;
}

static int
tab_has(const struct tab *t, const struct tickle_conn *c)
{
	for (uint32_t i = t->bucket[conn_hash(c)]; i != NIL; i = t->next[i])
		if (conn_eq(&t->c[i], c))
			return 1;
	return 0;
}

/* 1 added, 0 already there, -1 full (counted). */
static int
tab_add(struct tab *t, const struct tickle_conn *c)
{
	uint32_t h = conn_hash(c), i;

	for (i = t->bucket[h]; i != NIL; i = t->next[i])
		if (conn_eq(&t->c[i], c))
			return 0;
	if ((i = t->free) == NIL) {
		t->dropped++;
		return -1;
	}
	t->free = t->next[i];
	t->c[i] = *c;
	t->next[i] = t->bucket[h];
	t->bucket[h] = i;
	t->n++;
	return 1;
}

/* 1 removed, 0 not there. */
static int
tab_del(struct tab *t, const struct tickle_conn *c)
{
	uint32_t *pp = &t->bucket[conn_hash(c)], i;

	for (; (i = *pp) != NIL; pp = &t->next[i])
		if (conn_eq(&t->c[i], c)) {
			*pp = t->next[i];
			t->next[i] = t->free;
			t->free = i;
			t->n--;
			return 1;
		}
	return 0;
}

static void
tab_clear(struct tab *t)
{
	for (uint32_t i = 0; i < NBUCKETS; i++)
		t->bucket[i] = NIL;
	for (uint32_t i = 0; i < TICKLE_MAX_CONNS; i++)
		t->next[i] = i + 1 < TICKLE_MAX_CONNS ? i + 1 : NIL;
	t->free = 0;
	t->n = 0;
}

/* Call fn for every connection of t (order: by bucket). */
static void
tab_walk(const struct tab *t, void (*fn)(const struct tickle_conn *, void *),
    void *arg)
{
	for (uint32_t b = 0; b < NBUCKETS; b++)
		for (uint32_t i = t->bucket[b]; i != NIL; i = t->next[i])
			fn(&t->c[i], arg);
}

/* ---- this head's list (any thread) ------------------------------------ */

static void
own_change(const struct sockaddr *local, const struct sockaddr *remote,
    enum tickle_op op)
{
	struct tickle_conn	c;
	int			rv;

	if (!atomic_load(&tk.on) || local == NULL || remote == NULL ||
	    tickle_conn_from(&c, local, remote) < 0)
		return;
	pthread_mutex_lock(&tk.mtx);
	if (!atomic_load(&tk.on)) {	/* tickle_shutdown() got here first */
		pthread_mutex_unlock(&tk.mtx);
		return;
	}
	rv = op == TICKLE_ADD ? tab_add(&tk.own, &c) : tab_del(&tk.own, &c);
	if (rv == 1 && !tk.need_full) {
		if (tk.ndq == DELTA_MAX) {
			tk.need_full = 1;	/* cheaper than the deltas now */
			tk.ndq = 0;
		} else {
			tk.dq[tk.ndq].op = (uint8_t)op;
			tk.dq[tk.ndq].c = c;
			tk.ndq++;
		}
	}
	if (rv < 0 && now_ms() >= tk.warn_ms) {
		tk.warn_ms = now_ms() + WARN_MS;
		log_warnx("tickle: %d client connections known: new ones are "
		    "not listed (%llu so far) and will not be tickled after a "
		    "takeover", TICKLE_MAX_CONNS,
		    (unsigned long long)tk.own.dropped);
	}
	pthread_mutex_unlock(&tk.mtx);
}

void
tickle_conn_add(const struct sockaddr *local, const struct sockaddr *remote)
{
	own_change(local, remote, TICKLE_ADD);
}

void
tickle_conn_del(const struct sockaddr *local, const struct sockaddr *remote)
{
	own_change(local, remote, TICKLE_DEL);
}

/* ---- replication (loop thread) ----------------------------------------- */

struct collect {
	struct tickle_ent	*e;
	size_t			 n;
};

static void
collect_cb(const struct tickle_conn *c, void *arg)
{
	struct collect *cl = arg;

	cl->e[cl->n].op = TICKLE_ADD;
	cl->e[cl->n].c = *c;
	cl->n++;
}

static void
repl_send(void)
{
	struct collect		cl = { tk.txent, 0 };
	enum tickle_kind	kind = TICKLE_DELTA;
	uint64_t		now = now_ms();
	size_t			len;

	pthread_mutex_lock(&tk.mtx);
	if (tk.need_full || now >= tk.next_full_ms) {
		kind = TICKLE_FULL;
		tab_walk(&tk.own, collect_cb, &cl);
		tk.need_full = 0;
		tk.ndq = 0;
	} else {
		memcpy(tk.txent, tk.dq, tk.ndq * sizeof(tk.dq[0]));
		cl.n = tk.ndq;
		tk.ndq = 0;
	}
	pthread_mutex_unlock(&tk.mtx);
	if (kind == TICKLE_DELTA && cl.n == 0)
		return;
	if (kind == TICKLE_FULL)
		tk.next_full_ms = now + FULL_MS;
	len = tickle_msg_encode(tk.txbuf, TICKLE_MSG_LEN(TICKLE_MAX_CONNS),
	    kind, ++tk.tx_seq, tk.txent, cl.n);
	if (len == 0) {
		log_warnx("tickle: cannot encode the connection list "
		    "(cannot happen)");
		return;
	}
	if (link_send(TICKLE_T_CONNS, tk.txbuf, len) < 0) {
		/* the peer missed this one: it gets everything next time */
		pthread_mutex_lock(&tk.mtx);
		tk.need_full = 1;
		pthread_mutex_unlock(&tk.mtx);
		return;
	}
	tk.tx_msgs++;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if (!link_peer_up()) {
		pthread_mutex_lock(&tk.mtx);
		tk.need_full = 1;
		tk.ndq = 0;
		pthread_mutex_unlock(&tk.mtx);
		return;
	}
	repl_send();
}

static void
peer_state_cb(int up, uint64_t boot, void *arg)
{
	(void)boot; (void)arg;
	if (!up)
		return;
	/* a peer that (re)connects gets our whole list at the next tick */
	pthread_mutex_lock(&tk.mtx);
	tk.need_full = 1;
	pthread_mutex_unlock(&tk.mtx);
}

static void
rx_bad(const char *why)
{
	static uint64_t next_ms;

	tk.rx_bad++;
	if (now_ms() >= next_ms) {
		next_ms = now_ms() + WARN_MS;
		log_warnx("tickle: the peer's connection list dropped: %s "
		    "(%llu bad so far)", why, (unsigned long long)tk.rx_bad);
	}
}

static void
conns_rx_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct tickle_ent	e;
	enum tickle_kind	kind;
	uint32_t		seq;
	size_t			n;
	const char		*why;

	(void)type; (void)arg;
	if (rq != NULL)
		link_reply(rq, NULL, 0);
	if (tickle_msg_decode(p, len, &kind, &seq, &n, &why) < 0) {
		rx_bad(why);
		return;
	}
	/* every entry is checked before any is applied */
	for (size_t i = 0; i < n; i++)
		if (tickle_msg_entry(p, i, kind, &e, &why) < 0) {
			rx_bad(why);
			return;
		}
	tk.rx_msgs++;
	if (kind == TICKLE_FULL)
		tab_clear(&tk.peer);
	else if (tk.rx_any && seq != tk.rx_seq + 1)
		tk.rx_gaps++;	/* repaired by the next full list */
	tk.rx_seq = seq;
	tk.rx_any = 1;
	for (size_t i = 0; i < n; i++) {
		tickle_msg_entry(p, i, kind, &e, &why);
		if (e.op == TICKLE_ADD)
			tab_add(&tk.peer, &e.c);
		else
			tab_del(&tk.peer, &e.c);
	}
}

/* ---- sending tickles (loop thread) ------------------------------------- */

static int
raw_fd(int family)
{
	int *fdp = family == 4 ? &tk.fd4 : &tk.fd6;

	if (*fdp < 0)
		/* IPPROTO_RAW: the header is ours (IP_HDRINCL is implied,
		 * also for IPv6), so the source is the service IP */
		*fdp = socket(family == 4 ? AF_INET : AF_INET6,
		    SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	return *fdp;
}

int
tickle_ack_send(const struct tickle_conn *c)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	uint8_t			 pkt[TICKLE_ACK6_LEN];
	size_t			 n;
	socklen_t		 sl;
	int			 fd;

	if ((n = tickle_ack_build(pkt, sizeof(pkt), c)) == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = raw_fd(c->family)) < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (c->family == 4) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->raddr, 4);
		sl = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->raddr, 16);
		sl = sizeof(*s6);
	}
	if (sendto(fd, pkt, n, 0, (struct sockaddr *)&ss, sl) != (ssize_t)n)
		return -1;
	return 0;
}

static void
job_round(struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (tickle_ack_send(&j->c[i]) == 0) {
			j->sent++;
			tk.sent++;
		} else {
			j->err = errno;
			j->failed++;
			tk.failed++;
		}
	}
	j->left--;
}

static void
job_free(struct job *j)
{
	struct job **pp;

	for (pp = &tk.jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (j->ev != NULL)
		event_free(j->ev);
	free(j->c);
	free(j);
}

static void
job_done(struct job *j)
{
	if (j->failed)
		log_warnx("tickle: %s: %llu of %llu tickle ACKs not sent: %s",
		    j->addr, (unsigned long long)j->failed,
		    (unsigned long long)(j->sent + j->failed),
		    strerror(j->err));
	job_free(j);
}

static void
job_arm(struct job *j)
{
	struct timeval tv;
	int ms = tk.cfg->tickle_interval_ms;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(j->ev, &tv);
}

static void
job_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;

	(void)fd; (void)ev;
	job_round(j);
	if (j->left > 0)
		job_arm(j);
	else
		job_done(j);
}

struct match {
	uint8_t			 family;
	uint8_t			 addr[16];
	struct tickle_conn	*out;
	size_t			 n;
	const struct tab	*skip;	/* already collected from this one */
};

static void
match_cb(const struct tickle_conn *c, void *arg)
{
	struct match *m = arg;

	if (c->family != m->family || memcmp(c->laddr, m->addr, 16) != 0)
		return;
	if (m->skip != NULL && tab_has(m->skip, c))
		return;
	m->out[m->n++] = *c;
}

void
tickle_ip_acquired(const char *addr)
{
	struct match	 m;
	struct job	*j;
	size_t		 npeer;
	int		 count;

	if (!atomic_load(&tk.on))
		return;
	memset(&m, 0, sizeof(m));
	if (inet_pton(AF_INET, addr, m.addr) == 1)
		m.family = 4;
	else if (inet_pton(AF_INET6, addr, m.addr) == 1)
		m.family = 6;
	else {
		log_warnx("tickle: %s: not an IP address", addr);
		return;
	}
	for (j = tk.jobs; j != NULL; j = j->next)
		if (strcmp(j->addr, addr) == 0) {
			job_free(j);
			break;
		}
	m.out = xcalloc(2 * TICKLE_MAX_CONNS, sizeof(*m.out));
	tab_walk(&tk.peer, match_cb, &m);
	npeer = m.n;
	m.skip = &tk.peer;
	pthread_mutex_lock(&tk.mtx);
	tab_walk(&tk.own, match_cb, &m);
	pthread_mutex_unlock(&tk.mtx);

	if (m.n > 0)
		m.out = xrealloc(m.out, m.n * sizeof(*m.out));
	count = tk.cfg->tickle_count;
	snprintf(tk.last_addr, sizeof(tk.last_addr), "%s", addr);
	tk.last_n = m.n;
	tk.last_wall_ms = wall_ms();
	if (m.n == 0 || count == 0) {
		if (m.n > 0)
			log_info("tickle: %s: %zu client connections not "
			    "tickled (tickle-count 0)", addr, m.n);
		else
			log_info("tickle: %s: no client connections known",
			    addr);
		free(m.out);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	snprintf(j->addr, sizeof(j->addr), "%s", addr);
	j->c = m.out;
	j->n = m.n;
	j->npeer = npeer;
	j->left = count;
	j->ev = evtimer_new(loop_base(), job_cb, j);
	j->next = tk.jobs;
	tk.jobs = j;
	job_round(j);
	log_info("tickle: %s: tickle ACKs sent to %zu client connections (%zu "
	    "listed by the peer, %zu here), %d times every %d ms", addr, j->n,
	    npeer, j->n - npeer, count, tk.cfg->tickle_interval_ms);
	if (j->left > 0)
		job_arm(j);
	else
		job_done(j);
}

/* ---- start, stop, status ---------------------------------------------- */

int
tickle_init(const struct cfg *cfg)
{
	struct timeval tv = { 0, TICK_MS * 1000 };

	tk.cfg = cfg;
	tk.seed = random_u64();
	tab_init(&tk.own);
	tab_init(&tk.peer);
	tk.txent = xcalloc(TICKLE_MAX_CONNS, sizeof(*tk.txent));
	tk.txbuf = xmalloc(TICKLE_MSG_LEN(TICKLE_MAX_CONNS));
	tk.need_full = 1;
	tk.ndq = 0;
	tk.tick_ev = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	if (tk.tick_ev == NULL || event_add(tk.tick_ev, &tv) < 0) {
		log_warnx("tickle: cannot start the replication timer");
		return -1;
	}
	link_register(TICKLE_T_CONNS, conns_rx_cb, NULL);
	link_on_state(peer_state_cb, NULL);
	atomic_store(&tk.on, 1);
	return 0;
}

void
tickle_shutdown(void)
{
	if (!atomic_load(&tk.on))
		return;
	link_register(TICKLE_T_CONNS, NULL, NULL);
	while (tk.jobs != NULL)
		job_free(tk.jobs);
	if (tk.tick_ev != NULL)
		event_free(tk.tick_ev);
	tk.tick_ev = NULL;
	pthread_mutex_lock(&tk.mtx);
	atomic_store(&tk.on, 0);
	tab_free(&tk.own);
	tk.ndq = 0;
	pthread_mutex_unlock(&tk.mtx);
	tab_free(&tk.peer);
	free(tk.txent);
	free(tk.txbuf);
	tk.txent = NULL;
	tk.txbuf = NULL;
	if (tk.fd4 >= 0)
		close(tk.fd4);
	if (tk.fd6 >= 0)
		close(tk.fd6);
	tk.fd4 = tk.fd6 = -1;
}

/* The own list's size and its dropped count, read under the lock (the
 * NFS threads add to it). */
static void
own_counts(uint32_t *own, uint64_t *dropped)
{
	pthread_mutex_lock(&tk.mtx);
	*own = tk.own.n;
	*dropped = tk.own.dropped;
	pthread_mutex_unlock(&tk.mtx);
}

void
tickle_status_text(struct buf *b)
{
	uint32_t	own;
	uint64_t	dropped;

	if (!atomic_load(&tk.on))
		return;
	own_counts(&own, &dropped);
	buf_printf(b, "tickle:      %u client connections here, %u listed by "
	    "the peer (max %d each); tickle-count %d every %d ms; %llu ACKs "
	    "sent, %llu failed", own, tk.peer.n, TICKLE_MAX_CONNS,
	    tk.cfg->tickle_count, tk.cfg->tickle_interval_ms,
	    (unsigned long long)tk.sent, (unsigned long long)tk.failed);
	if (tk.last_addr[0])
		buf_printf(b, "; last: %s, %zu connections", tk.last_addr,
		    tk.last_n);
	if (dropped || tk.peer.dropped || tk.rx_bad)
		buf_printf(b, "; %llu not listed (full), %llu of the peer's, "
		    "%llu bad lists", (unsigned long long)dropped,
		    (unsigned long long)tk.peer.dropped,
		    (unsigned long long)tk.rx_bad);
	buf_printf(b, "\n");
}

void
tickle_status_json(struct buf *b)
{
	uint32_t	own;
	uint64_t	dropped;

	if (!atomic_load(&tk.on)) {
		buf_printf(b, "{\"running\":false}");
		return;
	}
	own_counts(&own, &dropped);
	buf_printf(b, "{\"running\":true,\"local\":%u,\"peer\":%u,\"max\":%d,"
	    "\"count\":%d,\"interval_ms\":%d,\"sent\":%llu,\"failed\":%llu,"
	    "\"dropped\":%llu,\"peer_dropped\":%llu,\"lists_sent\":%llu,"
	    "\"lists_received\":%llu,\"lists_bad\":%llu,\"list_gaps\":%llu,"
	    "\"last_addr\":", own, tk.peer.n, TICKLE_MAX_CONNS,
	    tk.cfg->tickle_count, tk.cfg->tickle_interval_ms,
	    (unsigned long long)tk.sent, (unsigned long long)tk.failed,
	    (unsigned long long)dropped, (unsigned long long)tk.peer.dropped,
	    (unsigned long long)tk.tx_msgs, (unsigned long long)tk.rx_msgs,
	    (unsigned long long)tk.rx_bad, (unsigned long long)tk.rx_gaps);
	buf_add_json_str(b, tk.last_addr);
	buf_printf(b, ",\"last_conns\":%zu,\"last_wall_ms\":%llu}", tk.last_n,
	    (unsigned long long)tk.last_wall_ms);
}

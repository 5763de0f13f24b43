/*
 * test_link.c — unit tests for the remote node link.
 *
 * Part 1 pins the codec (src/link/frame.c) to golden bytes written by hand
 * from docs/link-protocol.md (the MAC was computed independently with
 * `openssl dgst -mac HMAC` and Python's hmac) and walks every decoder
 * error: MAC over header/payload/trailer, replay, truncation, oversized
 * length, bad magic/version, malformed HELLO.
 *
 * Part 2 runs the real socket layer: the link is a per-process singleton,
 * so the test forks a child that is head B (node 2, accepting on
 * 127.0.0.2/127.0.0.3) while the parent is head A (node 1, dialing).
 * Everything waits with a deadline; the child dies with the parent
 * (PR_SET_PDEATHSIG) and is killed by pid at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "link/link.h"
#include "link/link_int.h"
#include "t.h"

/* ---- part 1: codec ---- */

static const uint8_t golden[] = {
	0x44, 0x4e, 0x4c, 0x31,		/* magic "DNL1" */
	0x01,				/* version */
	0x10,				/* type 16 */
	0x00, 0x01,			/* flags REQUEST */
	0x00, 0x00, 0x00, 0x04,		/* payload_len */
	0x00, 0x00, 0x00, 0x01,		/* sender_id */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,	/* seq */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* req_id */
	'p', 'i', 'n', 'g',
	/* HMAC-SHA256(key 00..1f, the 36 bytes above) */
	0x36, 0x58, 0x9c, 0x5e, 0x14, 0xf5, 0x89, 0xdd,
	0xfb, 0xa0, 0xbe, 0x2b, 0xc0, 0x0c, 0x5c, 0xff,
	0x26, 0x8a, 0x7f, 0xcd, 0x9e, 0xdd, 0x51, 0xd1,
	0x6c, 0xb5, 0x3b, 0xa4, 0x07, 0xeb, 0xbf, 0x76,
};

/* HMAC-SHA256(key 00..1f, "duonas-link-v1" || 32*aa || 32*bb) */
static const uint8_t golden_session[] = {
	0x96, 0x1e, 0x31, 0x60, 0x55, 0x84, 0x88, 0x92,
	0x05, 0xe0, 0x66, 0xd9, 0x7c, 0xf3, 0x73, 0x3e,
	0x0f, 0x2a, 0x79, 0xbb, 0xcd, 0xc0, 0x60, 0x91,
	0xaa, 0x96, 0xd3, 0x01, 0xff, 0xc1, 0x9a, 0xa2,
};

static uint8_t testkey[32];

static int
decode(const uint8_t *d, size_t n, const struct lk_key *k, uint64_t seq,
    struct lk_hdr *h, const uint8_t **pl, size_t *flen)
{
	return lk_frame_decode(d, n, k, seq, h, pl, flen);
}

static void
test_codec(void)
{
	struct lk_key	 k, k2;
	struct lk_hdr	 h, g;
	struct buf	 b;
	const uint8_t	*pl = NULL;
	size_t		 flen, n;
	uint8_t		 f[sizeof(golden)], big[12], sk[LK_MAC_LEN];
	uint8_t		 dn[32], an[32];
	int		 st, all_more;

	for (n = 0; n < sizeof(testkey); n++)
		testkey[n] = (uint8_t)n;
	T_OK(lk_key_init(&k, testkey, sizeof(testkey)) == 0, "key init");
	memset(&h, 0, sizeof(h));
	h.type = 16;
	h.flags = LK_F_REQUEST;
	h.sender = 1;
	h.seq = 5;
	h.req_id = 0x0102030405060708ull;
	buf_init(&b);
	T_EQ(lk_frame_encode(&b, &k, &h, "ping", 4), LK_OK, "encode");
	T_EQ(b.len, sizeof(golden), "frame length 64 + payload");
	T_MEM(b.data, golden, sizeof(golden), "golden frame bytes");

	st = decode(golden, sizeof(golden), &k, 5, &g, &pl, &flen);
	T_EQ(st, LK_OK, "decode golden");
	T_EQ(flen, sizeof(golden), "decoded frame length");
	T_OK(g.type == 16 && g.flags == LK_F_REQUEST && g.len == 4 &&
	    g.sender == 1 && g.seq == 5 && g.req_id == h.req_id &&
	    g.version == 1, "decoded header fields");
	T_OK(pl == golden + 32 && memcmp(pl, "ping", 4) == 0,
	    "decoded payload");

	/* Two frames back to back: the decoder consumes exactly one. */
	h.seq = 6;
	T_EQ(lk_frame_encode(&b, &k, &h, NULL, 0), LK_OK, "encode empty");
	st = decode(b.data + flen, b.len - flen, &k, 6, &g, &pl, &flen);
	T_OK(st == LK_OK && flen == 64 && g.len == 0, "empty payload frame");

	/* One flipped bit anywhere authenticated -> bad mac. */
	memcpy(f, golden, sizeof(f));
	f[13] ^= 0x01;
	T_EQ(decode(f, sizeof(f), &k, 5, &g, &pl, &flen), LK_E_MAC,
	    "bit flip in header (sender) -> bad mac");
	memcpy(f, golden, sizeof(f));
	f[17] ^= 0x80;
	T_EQ(decode(f, sizeof(f), &k, 5, &g, &pl, &flen), LK_E_MAC,
	    "bit flip in header (seq) -> bad mac");
	memcpy(f, golden, sizeof(f));
	f[34] ^= 0x04;
	T_EQ(decode(f, sizeof(f), &k, 5, &g, &pl, &flen), LK_E_MAC,
	    "bit flip in payload -> bad mac");
	memcpy(f, golden, sizeof(f));
	f[sizeof(f) - 1] ^= 0x01;
	T_EQ(decode(f, sizeof(f), &k, 5, &g, &pl, &flen), LK_E_MAC,
	    "bit flip in mac -> bad mac");
	T_OK(lk_key_init(&k2, (const uint8_t *)"another-cluster-key", 19) == 0,
	    "second key");
	T_EQ(decode(golden, sizeof(golden), &k2, 5, &g, &pl, &flen), LK_E_MAC,
	    "wrong key -> bad mac");

	/* Replay protection. */
	T_EQ(decode(golden, sizeof(golden), &k, 6, &g, &pl, &flen), LK_E_SEQ,
	    "same seq twice -> replay");
	T_EQ(flen, sizeof(golden), "replayed frame can be skipped");
	T_EQ(decode(golden, sizeof(golden), &k, 9, &g, &pl, &flen), LK_E_SEQ,
	    "seq going backwards -> replay");
	T_EQ(decode(golden, sizeof(golden), &k, 3, &g, &pl, &flen), LK_E_SEQ,
	    "seq gap -> replay");

	/* Every truncation of a good frame only asks for more. */
	all_more = 1;
	for (n = 0; n < sizeof(golden); n++)
		if (decode(golden, n, &k, 5, &g, &pl, &flen) != LK_MORE)
			all_more = 0;
	T_OK(all_more, "every truncated prefix -> need more");
	decode(golden, 20, &k, 5, &g, &pl, &flen);
	T_EQ(flen, sizeof(golden), "need-more reports the full length");

	/* Oversized length is rejected from the first 12 bytes. */
	memcpy(big, golden, sizeof(big));
	put_be32(big + 8, LINK_PAYLOAD_MAX + 1);
	T_EQ(decode(big, sizeof(big), &k, 5, &g, &pl, &flen), LK_E_LENGTH,
	    "payload_len > LINK_PAYLOAD_MAX -> bad length");
	put_be32(big + 8, 0xffffffffu);
	T_EQ(decode(big, sizeof(big), &k, 5, &g, &pl, &flen), LK_E_LENGTH,
	    "payload_len 0xffffffff -> bad length");
	T_EQ(lk_frame_encode(&b, &k, &h, NULL, LINK_PAYLOAD_MAX + 1),
	    LK_E_LENGTH, "encoder refuses an oversized payload");

	memcpy(f, golden, sizeof(f));
	f[0] = 'G';
	T_EQ(decode(f, 4, &k, 5, &g, &pl, &flen), LK_E_MAGIC,
	    "bad magic detected from 4 bytes");
	memcpy(f, golden, sizeof(f));
	f[4] = 2;
	T_EQ(decode(f, sizeof(f), &k, 5, &g, &pl, &flen), LK_E_VERSION,
	    "version 2 -> bad version");

	/* Session key derivation. */
	memset(dn, 0xaa, sizeof(dn));
	memset(an, 0xbb, sizeof(an));
	T_OK(lk_session_key(&k, dn, an, sk) == 0, "session key");
	T_MEM(sk, golden_session, sizeof(sk), "golden session key");

	buf_free(&b);
	lk_key_free(&k);
	lk_key_free(&k2);
}

static void
test_hello(void)
{
	struct lk_hello	 a, d;
	struct buf	 b;
	const char	*why = NULL;

	memset(&a, 0, sizeof(a));
	a.role = LK_ROLE_ACCEPTOR;
	a.path = 2;
	a.node_id = 7;
	a.to_node_id = 9;
	a.boot_id = 0x1122334455667788ull;
	memset(a.nonce, 0x5a, sizeof(a.nonce));
	memset(a.echo, 0xa5, sizeof(a.echo));
	snprintf(a.cluster, sizeof(a.cluster), "demo");
	buf_init(&b);
	lk_hello_encode(&b, &a);
	T_EQ(b.len, LK_HELLO_FIXED + 4, "HELLO length 85 + name");
	T_OK(b.data[0] == 2 && b.data[1] == 2 && get_be32(b.data + 4) == 7 &&
	    get_be32(b.data + 8) == 9 && b.data[84] == 4 &&
	    memcmp(b.data + 85, "demo", 4) == 0, "HELLO field offsets");
	T_OK(lk_hello_decode(b.data, b.len, &d, &why) == 0 &&
	    d.role == a.role && d.path == a.path && d.node_id == 7 &&
	    d.to_node_id == 9 && d.boot_id == a.boot_id &&
	    memcmp(d.nonce, a.nonce, 32) == 0 &&
	    memcmp(d.echo, a.echo, 32) == 0 &&
	    strcmp(d.cluster, "demo") == 0, "HELLO round trip");
	T_OK(lk_hello_decode(b.data, b.len - 1, &d, &why) < 0,
	    "HELLO one byte short rejected (%s)", why);
	buf_add_u8(&b, 0);
	T_OK(lk_hello_decode(b.data, b.len, &d, &why) < 0,
	    "HELLO one byte long rejected (%s)", why);
	b.data[84] = 0;
	T_OK(lk_hello_decode(b.data, LK_HELLO_FIXED + 1, &d, &why) < 0,
	    "HELLO empty cluster name rejected (%s)", why);
	b.data[84] = 40;
	T_OK(lk_hello_decode(b.data, LK_HELLO_FIXED + 40, &d, &why) < 0,
	    "HELLO cluster name too long rejected (%s)", why);
	buf_free(&b);
}

/* ---- part 2: two heads over loopback ---- */

enum {
	T_ECHO = 16,		/* request: reply with the payload */
	T_ASYNC = 17,		/* async: child answers with T_ASYNC_BACK */
	T_ASYNC_BACK = 18,
	T_COUNT = 19,		/* request: counted, echoed */
	T_STATS = 20,		/* request: "count=N\n" + status json */
	T_SLOW = 21,		/* request: echoed 30 ms later */
	T_NOHANDLER = 22,
};

#define CHILD_BOOT	0xb0b0b0b0b0b0b0b0ull
#define CHILD_BOOT2	0xb2b2b2b2b2b2b2b2ull
#define PARENT_BOOT	0xa0a0a0a0a0a0a0a0ull

static struct cfg	tcfg;
static unsigned		child_count;

static void
make_cfg(int base)
{
	char a[64];

	memset(&tcfg, 0, sizeof(tcfg));
	snprintf(tcfg.cluster, sizeof(tcfg.cluster), "tcluster");
	tcfg.nheads = 2;
	snprintf(tcfg.heads[0].name, CFG_NAME_MAX, "alpha");
	tcfg.heads[0].id = 1;
	snprintf(tcfg.heads[1].name, CFG_NAME_MAX, "beta");
	tcfg.heads[1].id = 2;
	snprintf(a, sizeof(a), "127.0.0.1:%d", base);
	cfg_addr_parse(a, 0, &tcfg.heads[0].links[0]);
	snprintf(a, sizeof(a), "127.0.0.1:%d", base + 1);
	cfg_addr_parse(a, 0, &tcfg.heads[0].links[1]);
	snprintf(a, sizeof(a), "127.0.0.2:%d", base + 2);
	cfg_addr_parse(a, 0, &tcfg.heads[1].links[0]);
	snprintf(a, sizeof(a), "127.0.0.3:%d", base + 3);
	cfg_addr_parse(a, 0, &tcfg.heads[1].links[1]);
	tcfg.heads[0].nlinks = tcfg.heads[1].nlinks = 2;
	tcfg.link_ping_ms = 20;
	tcfg.link_dead_ms = 500;
	tcfg.link_reconnect_ms = 50;
}

/* -- child (head B) -- */

struct slow {
	struct link_req	*rq;
	struct event	*ev;
	size_t		 len;
	uint8_t		 data[64];
};

static void
child_slow_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct slow *s = arg;

	(void)fd; (void)ev;
	link_reply(s->rq, s->data, s->len);
	event_free(s->ev);
	free(s);
}

static void
child_msg(uint8_t type, const uint8_t *pl, size_t len, struct link_req *rq,
    void *arg)
{
	struct buf	 b;
	struct slow	*s;
	struct timeval	 tv = { 0, 30000 };

	(void)arg;
	switch (type) {
	case T_ECHO:
		link_reply(rq, pl, len);
		break;
	case T_ASYNC:
		link_send(T_ASYNC_BACK, pl, len);
		break;
	case T_COUNT:
		child_count++;
		link_reply(rq, pl, len);
		break;
	case T_STATS:
		buf_init(&b);
		buf_printf(&b, "count=%u\n", child_count);
		link_status_json(&b);
		link_reply(rq, b.data, b.len);
		buf_free(&b);
		break;
	case T_SLOW:
		s = xcalloc(1, sizeof(*s));
		s->rq = rq;
		s->len = MIN(len, sizeof(s->data));
		memcpy(s->data, pl, s->len);
		s->ev = evtimer_new(loop_base(), child_slow_cb, s);
		evtimer_add(s->ev, &tv);
		break;
	}
}

/* Head B.  With startfd >= 0 it waits for a byte first (a restarted
 * head B, forked before the parent's loop exists). */
static void
child_main(uint64_t boot, int startfd)
{
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(120);
	if (startfd >= 0 && read(startfd, &c, 1) != 1)
		_exit(0);
	log_init(startfd >= 0 ? "test_link[B2]" : "test_link[B]", 0, 0);
	loop_init();
	link_register(T_ECHO, child_msg, NULL);
	link_register(T_ASYNC, child_msg, NULL);
	link_register(T_COUNT, child_msg, NULL);
	link_register(T_STATS, child_msg, NULL);
	link_register(T_SLOW, child_msg, NULL);
	if (link_init(&tcfg, 1, testkey, sizeof(testkey), boot) < 0)
		_exit(3);
	loop_run();
	_exit(0);
}

/* -- parent (head A) -- */

struct sreq {
	int		done;
	int		status;
	struct buf	reply;
};

static void
sreq_cb(int status, const uint8_t *pl, size_t len, void *arg)
{
	struct sreq *s = arg;

	s->done++;
	s->status = status;
	buf_reset(&s->reply);
	if (status == 0)
		buf_add(&s->reply, pl, len);
}

/* Run the loop until cond holds or ms pass; evaluates to cond. */
#define WAIT_UNTIL(cond, ms) ({						\
	uint64_t _end = now_ms() + (uint64_t)(ms);			\
	while (!(cond) && now_ms() <= _end)				\
		event_base_loop(loop_base(), EVLOOP_ONCE);		\
	(cond);								\
})

static int
sync_request(uint8_t type, const void *p, size_t len, int tmo,
    struct sreq *s)
{
	s->done = 0;
	s->status = -1;
	link_request(type, p, len, tmo, sreq_cb, s);
	if (!WAIT_UNTIL(s->done != 0, tmo + 2000))
		return -1;
	return s->status;
}

/* Sum every occurrence of "name":N in a status json. */
static unsigned long long
json_sum(const char *js, const char *name)
{
	char			 key[64];
	const char		*p = js;
	unsigned long long	 sum = 0;

	snprintf(key, sizeof(key), "\"%s\":", name);
	while ((p = strstr(p, key)) != NULL) {
		p += strlen(key);
		sum += strtoull(p, NULL, 10);
	}
	return sum;
}

static struct buf child_stats;

static int
fetch_child_stats(void)
{
	struct sreq s;
	int rc;

	buf_init(&s.reply);
	rc = sync_request(T_STATS, NULL, 0, 1000, &s);
	buf_reset(&child_stats);
	buf_add(&child_stats, s.reply.data, s.reply.len);
	buf_free(&s.reply);
	return rc;
}

static int		state_ups, state_downs;
static uint64_t		state_boot;
static int		async_back;
static struct buf	async_payload;

static void
parent_state(int up, uint64_t boot, void *arg)
{
	(void)arg;
	if (up)
		state_ups++;
	else
		state_downs++;
	state_boot = boot;
}

static void
parent_msg(uint8_t type, const uint8_t *pl, size_t len, struct link_req *rq,
    void *arg)
{
	(void)type; (void)rq; (void)arg;
	async_back++;
	buf_reset(&async_payload);
	buf_add(&async_payload, pl, len);
}

/* Connect a raw TCP socket to addr, send bytes, and report whether the
 * other side closes within ms. */
static int
raw_send_expect_close(const struct cfg_addr *addr, const void *p,
    size_t len, int ms)
{
	struct pollfd	pfd;
	char		junk[256];
	ssize_t		n;
	int		fd, closed = 0;
	uint64_t	end = now_ms() + (uint64_t)ms;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    write(fd, p, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	/* Keep the parent's own link serviced while we wait. */
	while (!closed && now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5) > 0) {
			n = read(fd, junk, sizeof(junk));
			if (n <= 0)
				closed = 1;
		}
		event_base_loop(loop_base(), EVLOOP_NONBLOCK);
	}
	close(fd);
	return closed;
}

static int paths_up(void)
{
	return lk.paths[0].state == LK_PS_UP && lk.paths[1].state == LK_PS_UP;
}
static int peer_is_up(void) { return link_peer_up(); }
static int peer_is_down(void) { return !link_peer_up() && state_downs > 0; }
static int async_arrived(void) { return async_back > 0; }

#define NBURST	200
static struct sreq	burst[NBURST];
static int		burst_done;
static int		burst_ok;

static void
burst_cb(int status, const uint8_t *pl, size_t len, void *arg)
{
	struct sreq	*s = arg;
	int		 i = (int)(s - burst);
	char		 want[32];

	s->done++;
	s->status = status;
	burst_done++;
	snprintf(want, sizeof(want), "burst-%d", i);
	if (status == 0 && len == strlen(want) && memcmp(pl, want, len) == 0)
		burst_ok++;
}
static int burst_some(void) { return burst_done >= 20; }
static int burst_all(void) { return burst_done >= NBURST; }

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Block path `blk` in the middle of a burst of counted requests and
 * slow requests; every request must still succeed exactly once. */
static void
test_block_midstream(int blk)
{
	struct sreq	 s;
	char		 msg[32];
	unsigned long long before, after;
	int		 i, ok;

	buf_init(&s.reply);
	T_EQ(fetch_child_stats(), 0, "child stats before burst");
	before = strtoull((char *)child_stats.data + 6, NULL, 10);
	burst_done = burst_ok = 0;
	for (i = 0; i < NBURST; i++) {
		snprintf(msg, sizeof(msg), "burst-%d", i);
		burst[i].done = 0;
		link_request(i % 10 == 0 ? T_SLOW : T_COUNT, msg, strlen(msg),
		    3000, burst_cb, &burst[i]);
	}
	WAIT_UNTIL(burst_some(), 3000);
	link_path_block(blk, 1);
	T_EQ(lk.paths[blk].state, LK_PS_BLOCKED, "path blocked mid-stream");
	T_OK(WAIT_UNTIL(burst_all(), 5000), "all %d burst requests completed "
	    "(%d)", NBURST, burst_done);
	T_EQ(burst_ok, NBURST, "every burst request got its own reply");
	T_EQ(fetch_child_stats(), 0, "child stats after burst");
	after = strtoull((char *)child_stats.data + 6, NULL, 10);
	T_EQ(after - before, NBURST - NBURST / 10,
	    "each counted request ran its handler exactly once");
	printf("# child duplicates answered from cache so far: %llu\n",
	    json_sum((char *)child_stats.data, "duplicate"));
	for (ok = 0, i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "seq-%d", i);
		if (sync_request(T_ECHO, msg, strlen(msg), 1000, &s) == 0 &&
		    s.reply.len == strlen(msg))
			ok++;
	}
	T_EQ(ok, 50, "sequential requests with the path blocked");
	T_OK(link_peer_up(), "peer still up with one path blocked");
	link_path_block(blk, 0);
	T_OK(WAIT_UNTIL(paths_up(), 3000), "path %d up again after unblock",
	    blk);
	buf_free(&s.reply);
}

static void
test_sockets(void)
{
	struct sreq	 s;
	struct buf	 hb, fb;
	struct lk_key	 bad;
	struct lk_hdr	 h;
	struct lk_hello	 hl;
	uint8_t		*big;
	uint64_t	*rtt, t0;
	pid_t		 child, child2;
	int		 base, i, st, ok, einval = 0, downs, ups;
	int		 startpipe[2];
	const int	 nrtt = 10000;

	base = 20000 + getpid() % 20000;
	make_cfg(base);
	fflush(stdout);
	if (pipe(startpipe) < 0 || (child = fork()) < 0) {
		T_OK(0, "pipe/fork: %s", strerror(errno));
		return;
	}
	if (child == 0) {
		close(startpipe[0]);
		close(startpipe[1]);
		child_main(CHILD_BOOT, -1);
	}
	if ((child2 = fork()) < 0) {
		T_OK(0, "fork: %s", strerror(errno));
		kill(child, SIGKILL);
		return;
	}
	if (child2 == 0) {
		close(startpipe[1]);
		child_main(CHILD_BOOT2, startpipe[0]);
	}
	close(startpipe[0]);

	loop_init();
	buf_init(&s.reply);
	buf_init(&child_stats);
	buf_init(&async_payload);
	link_register(T_ASYNC_BACK, parent_msg, NULL);
	link_on_state(parent_state, NULL);
	T_EQ(link_init(&tcfg, 0, testkey, sizeof(testkey), PARENT_BOOT), 0,
	    "link_init head A");
	T_OK(WAIT_UNTIL(peer_is_up(), 5000), "peer up");
	T_OK(WAIT_UNTIL(state_ups > 0, 1000), "state callback: up");
	T_OK(state_boot == CHILD_BOOT && link_peer_boot_id() == CHILD_BOOT,
	    "peer boot id from HELLO");
	T_OK(WAIT_UNTIL(paths_up(), 3000), "both paths established");

	st = sync_request(T_ECHO, "hello", 5, 1000, &s);
	T_OK(st == 0 && s.reply.len == 5 && memcmp(s.reply.data, "hello", 5)
	    == 0, "request/reply echo (status %d)", st);
	big = xmalloc(1 << 20);
	random_bytes(big, 1 << 20);
	st = sync_request(T_ECHO, big, 1 << 20, 3000, &s);
	T_OK(st == 0 && s.reply.len == (1 << 20) &&
	    memcmp(s.reply.data, big, 1 << 20) == 0, "1 MiB request/reply");
	free(big);
	st = sync_request(T_ECHO, NULL, 0, 1000, &s);
	T_OK(st == 0 && s.reply.len == 0, "empty request/reply");

	T_EQ(link_send(T_ASYNC, "async-1", 7), 0, "link_send");
	T_OK(WAIT_UNTIL(async_arrived(), 2000) && async_payload.len == 7 &&
	    memcmp(async_payload.data, "async-1", 7) == 0,
	    "async message and async answer");
	T_EQ(link_send_all(T_ASYNC, "x", 1), 2, "link_send_all on 2 paths");
	T_EQ(link_send(LINK_T_PING, "x", 1), -1, "link_send refuses type 2");
	s.done = 0;
	link_request(5, NULL, 0, 1000, sreq_cb, &s);
	einval = s.done;
	T_OK(WAIT_UNTIL(s.done != 0, 1000) && s.status == EINVAL &&
	    einval == 0, "link_request of a reserved type: EINVAL, from the "
	    "loop");

	st = sync_request(T_NOHANDLER, "?", 1, 300, &s);
	T_EQ(st, ETIMEDOUT, "request without handler times out");
	T_EQ(fetch_child_stats(), 0, "child stats");
	T_EQ(json_sum((char *)child_stats.data, "unknown_type"), 1,
	    "receiver counted one unknown_type drop");

	/* Garbage and forged frames on the acceptor's listener. */
	T_OK(raw_send_expect_close(&tcfg.heads[1].links[0],
	    "GET / HTTP/1.0\r\n\r\n", 18, 2000),
	    "garbage bytes: connection closed by the listener");
	buf_init(&hb);
	buf_init(&fb);
	memset(&hl, 0, sizeof(hl));
	hl.role = LK_ROLE_DIALER;
	hl.node_id = 1;
	hl.to_node_id = 2;
	snprintf(hl.cluster, sizeof(hl.cluster), "tcluster");
	lk_hello_encode(&hb, &hl);
	memset(&h, 0, sizeof(h));
	h.type = LINK_T_HELLO;
	h.sender = 1;
	lk_key_init(&bad, (const uint8_t *)"not-the-cluster-key", 19);
	lk_frame_encode(&fb, &bad, &h, hb.data, hb.len);
	T_OK(raw_send_expect_close(&tcfg.heads[1].links[0], fb.data, fb.len,
	    2000), "HELLO with a wrong key: connection closed");
	lk_key_free(&bad);
	buf_reset(&hb);
	buf_reset(&fb);
	snprintf(hl.cluster, sizeof(hl.cluster), "othercluster");
	lk_hello_encode(&hb, &hl);
	lk_frame_encode(&fb, &lk.ckey, &h, hb.data, hb.len);
	T_OK(raw_send_expect_close(&tcfg.heads[1].links[1], fb.data, fb.len,
	    2000), "HELLO from another cluster: connection closed");
	buf_free(&hb);
	buf_free(&fb);
	T_EQ(fetch_child_stats(), 0, "listener and paths still work");
	T_EQ(json_sum((char *)child_stats.data, "bad_magic"), 1,
	    "receiver counted the garbage as bad_magic");
	T_EQ(json_sum((char *)child_stats.data, "bad_mac"), 1,
	    "receiver counted the forged HELLO as bad_mac");
	T_EQ(json_sum((char *)child_stats.data, "protocol"), 1,
	    "receiver counted the foreign HELLO as protocol");
	T_OK(paths_up(), "established paths undisturbed by the intruders");

	test_block_midstream(lk_best() >= 0 ? lk_best() : 0);
	test_block_midstream(1);
	test_block_midstream(0);

	/* Round-trip time of small requests. */
	rtt = xcalloc(nrtt, sizeof(*rtt));
	for (ok = 0, i = 0; i < nrtt; i++) {
		t0 = now_us();
		if (sync_request(T_ECHO, "0123456789abcdef", 16, 1000, &s) == 0)
			ok++;
		rtt[i] = now_us() - t0;
	}
	T_EQ(ok, nrtt, "10000 small requests");
	qsort(rtt, nrtt, sizeof(*rtt), cmp_u64);
	printf("# request/reply round trip, loopback, 16 bytes: min %llu us, "
	    "median %llu us, p99 %llu us, max %llu us\n",
	    (unsigned long long)rtt[0], (unsigned long long)rtt[nrtt / 2],
	    (unsigned long long)rtt[nrtt * 99 / 100],
	    (unsigned long long)rtt[nrtt - 1]);
	free(rtt);

	buf_reset(&child_stats);
	link_status_json(&child_stats);
	T_OK(child_stats.data[0] == '[' &&
	    child_stats.data[child_stats.len - 1] == ']' &&
	    json_sum((char *)child_stats.data, "path") == 1 &&
	    strstr((char *)child_stats.data, "\"best\":true") != NULL,
	    "status json: array of 2 paths, one best");
	buf_reset(&child_stats);
	link_status_text(&child_stats);
	printf("# %s", (char *)child_stats.data);

	/* The peer hangs: the dead timer closes every path. */
	downs = state_downs;
	ups = state_ups;
	t0 = now_ms();
	kill(child, SIGSTOP);
	T_OK(WAIT_UNTIL(state_downs > downs, 3000), "hung peer declared down");
	printf("# hung peer reported down after %llu ms (dead %d ms, ping "
	    "%d ms)\n", (unsigned long long)(now_ms() - t0),
	    tcfg.link_dead_ms, tcfg.link_ping_ms);
	kill(child, SIGCONT);
	T_OK(WAIT_UNTIL(paths_up() && state_ups > ups, 5000),
	    "peer and both paths back after SIGCONT");
	T_EQ(link_peer_boot_id(), CHILD_BOOT, "same boot id after a hang");
	st = sync_request(T_ECHO, "again", 5, 1000, &s);
	T_EQ(st, 0, "request after the hang");

	/* The peer dies. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	T_OK(WAIT_UNTIL(peer_is_down(), 2000), "peer down after kill, state "
	    "callback called");
	T_EQ(link_peer_boot_id(), 0, "no peer boot id while down");
	st = sync_request(T_ECHO, "x", 1, 200, &s);
	T_EQ(st, ENOTCONN, "request with no path: ENOTCONN");

	/* A request queued while the peer is down goes out when it is
	 * back; the peer comes back as a new boot. */
	s.done = 0;
	link_request(T_ECHO, "queued", 6, 5000, sreq_cb, &s);
	ups = state_ups;
	T_EQ(write(startpipe[1], "g", 1), 1, "start the restarted head B");
	T_OK(WAIT_UNTIL(s.done != 0, 5000) && s.status == 0 &&
	    s.reply.len == 6, "queued request delivered after the restart");
	T_OK(WAIT_UNTIL(state_ups > ups, 1000) && state_boot == CHILD_BOOT2 &&
	    link_peer_boot_id() == CHILD_BOOT2, "up with the new boot id");

	s.done = 0;
	link_request(T_SLOW, "x", 1, 5000, sreq_cb, &s);
	link_shutdown();
	T_OK(s.done == 1 && s.status == ECANCELED, "link_shutdown cancels "
	    "pending requests");
	kill(child2, SIGKILL);
	waitpid(child2, NULL, 0);
	close(startpipe[1]);
	buf_free(&s.reply);
	buf_free(&child_stats);
	buf_free(&async_payload);
}

int
main(void)
{
	log_init("test_link", 0, 0);
	alarm(120);
	test_codec();
	test_hello();
	test_sockets();
	return t_done();
}

/*
 * test_nfs_drc.c — the duplicate request cache (export/nfs_drc.c) in one
 * process: the wire format of its link messages against golden bytes
 * written out by hand from docs/link-protocol.md, every malformed message
 * refused without storing anything, and the cache itself: a call's
 * retransmission answered from it, entries from the peer hit like local
 * ones, a known key not overwritten, the bound (the ring), the age limit
 * and the replication hook (called with the key and reply of each
 * completed call).  No link, no server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/util.h"
#include "export/nfs_drc.h"
#include "export/nfs_int.h"
#include "tests/unit/t.h"

static const uint8_t golden[104] = {
	/* format 1, flags 0, 2 entries */
	0x01, 0x00, 0x00, 0x02,
	/* IPv4 192.0.2.7, xid 0x11223344, NFS v3 REMOVE, age 1500 ms */
	0x04, 0x00, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x07, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0x86, 0xa3,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0c,
	0x00, 0x00, 0x05, 0xdc, 0x00, 0x00, 0x00, 0x05,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00,
	/* IPv6 2001:db8::1, xid 0xdeadbeef, NLM v4 LOCK, age 0 */
	0x06, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x86, 0xb5,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
	0xaa, 0xbb, 0xcc, 0xdd,
};
static const uint8_t golden_ack[8] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x02 };

static const uint8_t rep1[5] = { 1, 2, 3, 4, 5 };
static const uint8_t rep2[4] = { 0xaa, 0xbb, 0xcc, 0xdd };

static void
recs(struct nfs_drc_rec *a, struct nfs_drc_rec *b)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->addr[0] = 192;
	a->addr[2] = 2;
	a->addr[3] = 7;
	a->xid = 0x11223344;
	a->prog = 100003;
	a->vers = 3;
	a->proc = 12;
	a->age_ms = 1500;
	a->reply = rep1;
	a->len = sizeof(rep1);
	memset(b, 0, sizeof(*b));
	b->family = 6;
	b->addr[0] = 0x20;
	b->addr[1] = 0x01;
	b->addr[2] = 0x0d;
	b->addr[3] = 0xb8;
	b->addr[15] = 1;
	b->xid = 0xdeadbeef;
	b->prog = 100021;
	b->vers = 4;
	b->proc = 2;
	b->reply = rep2;
	b->len = sizeof(rep2);
}

struct got {
	struct nfs_drc_rec	r[4];
	uint8_t			rep[4][16];
	int			n;
};

static void
got_cb(const struct nfs_drc_rec *r, void *arg)
{
	struct got *g = arg;

	if (g->n < 4) {
		g->r[g->n] = *r;
		memcpy(g->rep[g->n], r->reply, MIN(r->len, 16));
		g->n++;
	}
}

/* A malformed copy of golden is refused and stores nothing. */
static void
bad(const char *what, size_t off, uint8_t val, size_t len, const char *want)
{
	uint8_t	m[sizeof(golden) + 8];
	char	err[160] = "";
	struct got g;

	memset(&g, 0, sizeof(g));
	memset(m, 0, sizeof(m));
	memcpy(m, golden, sizeof(golden));
	if (off < sizeof(m))
		m[off] = val;
	T_OK(nfs_drc_wire_parse(m, len, got_cb, &g, err, sizeof(err)) == -1 &&
	    g.n == 0 && strstr(err, want) != NULL, "refused: %s (%s)", what,
	    err);
}

static struct nfs_drc_rec hooked;
static uint8_t hooked_rep[64];
static int nhooked;

static void	(*hook_done)(void *);
static void	*hook_arg;

/* Like nfs_drc_repl.c: with done, the caller is told later (1). */
static int
hook(const struct nfs_drc_rec *r, void (*done)(void *), void *arg)
{
	hook_done = done;
	hook_arg = arg;
	hooked = *r;
	memcpy(hooked_rep, r->reply, MIN(r->len, sizeof(hooked_rep)));
	nhooked++;
	return done != NULL;
}

static int acked;

static void
ack_cb(void *arg)
{
	acked += *(int *)arg;
}

static struct sockaddr_in
sin4(const char *a, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static void
test_wire(void)
{
	struct nfs_drc_rec	a, b;
	struct buf		m;
	struct got		g;
	char			err[160];
	uint8_t			ack[NFS_DRC_ACK_LEN];
	uint32_t		stored = 0;

	recs(&a, &b);
	buf_init(&m);
	nfs_drc_wire_start(&m);
	nfs_drc_wire_add(&m, &a);
	nfs_drc_wire_add(&m, &b);
	nfs_drc_wire_count(&m, 2);
	T_EQ(m.len, sizeof(golden), "message length");
	T_MEM(m.data, golden, sizeof(golden), "message = golden bytes");
	buf_free(&m);

	memset(&g, 0, sizeof(g));
	T_EQ(nfs_drc_wire_parse(golden, sizeof(golden), got_cb, &g, err,
	    sizeof(err)), 2, "golden parses: 2 entries");
	T_OK(g.n == 2 && g.r[0].family == 4 && g.r[0].xid == 0x11223344 &&
	    g.r[0].prog == 100003 && g.r[0].vers == 3 && g.r[0].proc == 12 &&
	    g.r[0].age_ms == 1500 && g.r[0].len == 5 &&
	    memcmp(g.rep[0], rep1, 5) == 0 &&
	    memcmp(g.r[0].addr, a.addr, 16) == 0, "entry 1 fields");
	T_OK(g.n == 2 && g.r[1].family == 6 && g.r[1].xid == 0xdeadbeef &&
	    g.r[1].prog == 100021 && g.r[1].vers == 4 && g.r[1].proc == 2 &&
	    g.r[1].age_ms == 0 && g.r[1].len == 4 &&
	    memcmp(g.rep[1], rep2, 4) == 0 &&
	    memcmp(g.r[1].addr, b.addr, 16) == 0, "entry 2 fields");
	T_EQ(nfs_drc_wire_parse(golden, 4, NULL, NULL, err, sizeof(err)), -1,
	    "count 2 with no entries refused");
	T_OK(nfs_drc_wire_parse((const uint8_t *)"\x01\0\0\0", 4, NULL, NULL,
	    err, sizeof(err)) == 0, "an empty message is valid");

	bad("short header", 0, 1, 3, "shorter than the header");
	bad("format 2", 0, 2, sizeof(golden), "format 2");
	bad("flags", 1, 0x80, sizeof(golden), "flags");
	bad("count 3", 3, 3, sizeof(golden), "entries in");
	bad("count 1, bytes left", 3, 1, sizeof(golden), "bytes after");
	bad("family 5", 4, 5, sizeof(golden), "address family 5");
	bad("reserved byte", 5, 1, sizeof(golden), "reserved");
	bad("IPv4 with padding", 20, 1, sizeof(golden), "non-zero padding");
	bad("reply length past the end", 47, 0x40, sizeof(golden),
	    "64 bytes, 56 left");
	bad("reply length over the maximum", 45, 0x01, sizeof(golden),
	    "at most");
	bad("truncated second entry", 0, 1, sizeof(golden) - 2, "entry 1");
	bad("one byte too many", sizeof(golden), 0, sizeof(golden) + 1,
	    "after 2 entries");

	nfs_drc_ack_make(ack, 0, 2);
	T_MEM(ack, golden_ack, sizeof(ack), "acknowledgement = golden bytes");
	T_OK(nfs_drc_ack_parse(ack, sizeof(ack), &stored, err,
	    sizeof(err)) == 0 && stored == 2, "acknowledgement parses");
	T_EQ(nfs_drc_ack_parse(ack, 7, &stored, err, sizeof(err)), -1,
	    "short acknowledgement refused");
	nfs_drc_ack_make(ack, 1, 0);
	T_OK(nfs_drc_ack_parse(ack, sizeof(ack), &stored, err,
	    sizeof(err)) == -1 && strstr(err, "refused") != NULL,
	    "a refusal is an error (%s)", err);
}

static void
test_cache(void)
{
	struct sockaddr_in	 c1 = sin4("192.0.2.7", 700);
	struct sockaddr_in	 c1b = sin4("192.0.2.7", 901);
	struct sockaddr_in	 c2 = sin4("192.0.2.8", 700);
	struct nfs_drc_rec	 a, b;
	struct nfs_drc_stat	 st;
	struct got		 g;
	uint8_t			*rep = NULL;
	size_t			 len = 0;
	int			 slot = -1, s2;
	static const uint8_t	 body[6] = { 0, 0, 0, 0, 9, 9 };

	nfs_drc_configure(64, 120);
	nfs_drc_set_repl(hook, NULL);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 77, 100003, 3, 12, &slot,
	    &rep, &len), NFS_DRC_NEW, "first REMOVE is new");
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1b, 77, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_INPROGRESS,
	    "retransmission from another port while it runs: in progress");
	nfs_drc_complete(slot, 77, body, sizeof(body));
	T_OK(nhooked == 1 && hooked.family == 4 && hooked.xid == 77 &&
	    hooked.prog == 100003 && hooked.proc == 12 && hooked.len == 6 &&
	    memcmp(hooked_rep, body, 6) == 0 && hooked.addr[3] == 7,
	    "complete hands key and reply to the replication hook");
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1b, 77, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_DONE, "retransmission after: done");
	T_OK(len == 6 && memcmp(rep, body, 6) == 0, "the original reply");
	free(rep);
	rep = NULL;
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c2, 77, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_NEW, "same xid from another client: new");
	nfs_drc_abort(s2, 77);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 77, 100003, 3, 8, &s2,
	    &rep, &len), NFS_DRC_NEW, "same xid, another procedure: new");
	nfs_drc_abort(s2, 77);

	/* the asynchronous completion: the hook keeps done for later */
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c2, 78, 100003, 3, 8, &s2,
	    &rep, &len), NFS_DRC_NEW, "CREATE is new");
	{
		int one = 1;

		T_EQ(nfs_drc_complete_async(s2, 78, body, 4, ack_cb, &one), 1,
		    "complete_async: the reply waits for the peer");
		T_OK(nhooked == 2 && hook_done == ack_cb && hooked.xid == 78 &&
		    hooked.len == 4, "the hook got the entry and the callback");
		hook_done(hook_arg);
		T_EQ(acked, 1, "the callback releases the reply");
		T_EQ(nfs_drc_complete_async(s2, 78, body, 4, ack_cb, &one), 0,
		    "complete_async of a slot no longer in progress: reply now");
	}
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c2, 78, 100003, 3, 8, &s2,
	    &rep, &len), NFS_DRC_DONE, "and it is DONE here");
	free(rep);
	rep = NULL;
	nfs_drc_set_repl(NULL, NULL);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c2, 79, 100003, 3, 8, &s2,
	    &rep, &len), NFS_DRC_NEW, "without a hook");
	T_EQ(nfs_drc_complete_async(s2, 79, body, 4, ack_cb, &acked), 0,
	    "complete_async replies now");

	/* entries from the peer */
	recs(&a, &b);
	a.xid = 1000;
	T_EQ(nfs_drc_insert(&a), 1, "peer entry stored");
	T_EQ(nfs_drc_insert(&a), 0, "the same key again: kept");
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 1000, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_DONE, "peer entry answers the client");
	T_OK(len == 5 && memcmp(rep, rep1, 5) == 0, "with the peer's reply");
	free(rep);
	rep = NULL;
	a.xid = 77;
	a.reply = rep2;
	a.len = 4;
	T_EQ(nfs_drc_insert(&a), 0, "peer entry for a key known here: kept");
	nfs_drc_stat(&st);
	T_OK(st.entries == 4 && st.peer == 1 && st.received == 3 &&
	    st.peer_hits == 1 && st.size == 64 && st.max_age_s == 120,
	    "counters: %llu entries, %llu peer, %llu received, %llu "
	    "peer hits", (unsigned long long)st.entries,
	    (unsigned long long)st.peer, (unsigned long long)st.received,
	    (unsigned long long)st.peer_hits);
	memset(&g, 0, sizeof(g));
	T_EQ(nfs_drc_foreach(got_cb, &g), 4, "foreach: the 4 DONE entries");

	/* the bound: local and peer entries share the ring */
	for (uint32_t x = 0; x < 100; x++) {
		a.xid = 5000 + x;
		nfs_drc_insert(&a);
	}
	nfs_drc_stat(&st);
	T_OK(st.entries == 64 && st.peer == 64, "ring holds 64 entries "
	    "(%llu, %llu from the peer)", (unsigned long long)st.entries,
	    (unsigned long long)st.peer);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 77, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_NEW, "oldest (local) entry was evicted");
	nfs_drc_abort(s2, 77);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 5099, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_DONE, "newest is there");
	free(rep);
	rep = NULL;

	/* ageing */
	nfs_drc_configure(32, 1);
	nfs_drc_stat(&st);
	T_EQ(st.entries, 0, "a new size empties the cache");
	a.xid = 1;
	a.age_ms = 1500;
	T_EQ(nfs_drc_insert(&a), 0, "peer entry older than the limit: not "
	    "stored");
	a.age_ms = 800;
	T_EQ(nfs_drc_insert(&a), 1, "peer entry aged 800 ms stored");
	usleep(300 * 1000);
	T_EQ(nfs_drc_lookup((struct sockaddr *)&c1, 1, 100003, 3, 12, &s2,
	    &rep, &len), NFS_DRC_NEW, "expired 300 ms later: executed again");
	nfs_drc_complete(s2, 1, body, sizeof(body));
	memset(&g, 0, sizeof(g));
	T_EQ(nfs_drc_foreach(got_cb, &g), 1, "foreach: the new entry");
	T_OK(g.r[0].age_ms < 1000, "with its age (%u ms)", g.r[0].age_ms);
	nfs_drc_clear();
	nfs_drc_stat(&st);
	T_EQ(st.entries, 0, "clear");
}

int
main(void)
{
	test_wire();
	test_cache();
	return t_done();
}

/*
 * test_tickle_list.c — the connection list of tickle.c through its
 * public API, without a peer and without sending (tickle-count 0): the
 * list holds at most TICKLE_MAX_CONNS connections and counts the ones it
 * refuses, a duplicate is listed once, a closed one leaves room, a
 * takeover picks exactly the connections of the acquired address, and
 * after tickle_shutdown() reports are ignored.  Reads the numbers back
 * from the status JSON, as `duonas status --json` shows them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "vip/tickle.h"
#include "t.h"

static struct sockaddr_in
sin4(const char *a, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	inet_pton(AF_INET, a, &s.sin_addr);
	s.sin_port = htons((uint16_t)port);
	return s;
}

/* Client i: 192.0.2.100 + i / 60000 ... port 1024 + i % 60000. */
static struct sockaddr_in
client(int i)
{
	char a[32];

	snprintf(a, sizeof(a), "192.0.2.%d", 100 + i / 60000);
	return sin4(a, 1024 + i % 60000);
}

static long long
status_num(const char *key)
{
	struct buf	 b;
	char		 pat[64];
	const char	*p;
	long long	 v = -1;

	buf_init(&b);
	tickle_status_json(&b);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr((char *)b.data, pat)) != NULL)
		v = strtoll(p + strlen(pat), NULL, 10);
	buf_free(&b);
	return v;
}

static int
stopped(void)
{
	struct buf	b;
	int		rv;

	buf_init(&b);
	tickle_status_json(&b);
	rv = strcmp((char *)b.data, "{\"running\":false}") == 0;
	buf_free(&b);
	return rv;
}

static void
add(const char *local, int i, int up)
{
	struct sockaddr_in l = sin4(local, 2049), r = client(i);

	if (up)
		tickle_conn_add((struct sockaddr *)&l, (struct sockaddr *)&r);
	else
		tickle_conn_del((struct sockaddr *)&l, (struct sockaddr *)&r);
}

int
main(void)
{
	struct cfg		*cfg = xcalloc(1, sizeof(*cfg));
	struct sockaddr_in6	 l6;
	struct sockaddr_in	 r4 = client(0);

	log_init("test_tickle_list", 0, 0);
	loop_init();
	cfg->tickle_count = 0;		/* count, never send */
	cfg->tickle_interval_ms = 100;
	T_EQ(tickle_init(cfg), 0, "tickle_init");
	T_EQ(status_num("local"), 0, "empty at start");

	/* 100 connections to 192.0.2.10, the rest to 192.0.2.20 */
	for (int i = 0; i < TICKLE_MAX_CONNS + 10; i++)
		add(i < 100 ? "192.0.2.10" : "192.0.2.20", i, 1);
	T_EQ(status_num("local"), TICKLE_MAX_CONNS, "list holds its maximum");
	T_EQ(status_num("dropped"), 10, "connections past it counted");
	add("192.0.2.10", 5, 1);
	T_EQ(status_num("dropped"), 10,
	    "a full list still takes a report of a listed one");
	add("192.0.2.20", 200, 0);
	add("192.0.2.20", 200, 0);
	T_EQ(status_num("local"), TICKLE_MAX_CONNS - 1,
	    "a closed connection leaves the list (once)");
	add("192.0.2.20", TICKLE_MAX_CONNS + 5, 1);
	T_EQ(status_num("local"), TICKLE_MAX_CONNS, "its room is used again");
	add("192.0.2.20", TICKLE_MAX_CONNS + 5, 1);
	T_EQ(status_num("local"), TICKLE_MAX_CONNS, "a duplicate is listed once");

	/* mixed families and non-IP addresses are ignored */
	memset(&l6, 0, sizeof(l6));
	l6.sin6_family = AF_INET6;
	add("192.0.2.20", 201, 0);
	tickle_conn_add((struct sockaddr *)&l6, (struct sockaddr *)&r4);
	T_EQ(status_num("local"), TICKLE_MAX_CONNS - 1,
	    "IPv6 local with IPv4 remote is not listed");

	tickle_ip_acquired("192.0.2.10");
	T_EQ(status_num("last_conns"), 100,
	    "acquiring 192.0.2.10 picks its 100 connections");
	tickle_ip_acquired("192.0.2.30");
	T_EQ(status_num("last_conns"), 0, "an address without clients: none");
	T_EQ(status_num("sent"), 0, "tickle-count 0 sends nothing");

	/* after shutdown the tables are gone: reports must not touch them
	 * (the ASan build would catch it) */
	tickle_shutdown();
	add("192.0.2.10", 7, 1);
	add("192.0.2.10", 8, 0);
	tickle_ip_acquired("192.0.2.10");
	T_EQ(status_num("local"), -1, "stopped: no list in the status");
	T_OK(stopped(), "status says not running after tickle_shutdown()");
	tickle_shutdown();
	T_OK(stopped(), "tickle_shutdown() twice is harmless");
	free(cfg);
	return t_done();
}

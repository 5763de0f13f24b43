/*
 * test_http.c — the Prometheus text format writer (src/http/http_prom.c):
 * HELP/TYPE lines, label escaping, integer and fractional samples,
 * compared against golden text; the `http` keyword of duonas.conf
 * (what the listener accepts as an address); the routing of a request
 * (http_route).
 */
#include <math.h>
#include <stdlib.h>

#include <event2/http.h>

#include "common/cfg.h"

#include "http/http_int.h"
#include "t.h"

static int
is(struct buf *b, const char *want)
{
	int ok = b->len == strlen(want) && memcmp(b->data, want, b->len) == 0;

	if (!ok)
		printf("# got:  %.*s# want: %s", (int)b->len, b->data, want);
	buf_reset(b);
	return ok;
}

/* A minimal configuration whose head A has line `http` (NULL: none). */
static int
parse_http(const char *http, struct cfg *c, char *err, size_t errlen)
{
	char text[1024];

	snprintf(text, sizeof(text), "cluster demo\nkey \"/tmp/k\"\n"
	    "head A {\n id 1\n role master\n link 127.0.0.11\n%s%s%s}\n"
	    "head B {\n id 2\n role slave\n link 127.0.0.12\n}\n"
	    "lun l0 {\n id 1\n path /tmp/l0.img\n data /tmp/l0\n home A\n}\n",
	    http ? " http " : "", http ? http : "", http ? "\n" : "");
	return cfg_parse_buf("t.conf", text, strlen(text), c, err, errlen);
}

static void
test_http_keyword(void)
{
	static const char *good[] = {
		"off", "127.0.0.1:9477", "0.0.0.0:80", "10.1.2.3", "[::1]:9478",
		"[fd00::5]", "\"127.0.0.1:9100\"",
	};
	static const char *bad[] = {
		"localhost:9477", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x",
		"999.1.2.3:80", "[::1", "::1:80x", "on", "",
	};
	struct cfg	*c = malloc(sizeof(*c));
	char		 err[512];

	T_EQ(parse_http(NULL, c, err, sizeof(err)), 0, "no http line parses");
	T_OK(c->heads[0].http[0] == 0, "no http line: empty (the default)");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_OK(parse_http(good[i], c, err, sizeof(err)) == 0,
		    "http %s accepted (%s)", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		T_OK(parse_http(bad[i], c, err, sizeof(err)) == -1 &&
		    strstr(err, "t.conf:7:") != NULL,
		    "http '%s' refused with its line: %s", bad[i], err);
	}
	free(c);
}

static void
test_http_route(void)
{
	T_EQ(http_route(EVHTTP_REQ_GET, "/status"), HTTP_PAGE_STATUS,
	    "GET /status");
	T_EQ(http_route(EVHTTP_REQ_HEAD, "/metrics"), HTTP_PAGE_METRICS,
	    "HEAD /metrics");
	T_EQ(http_route(EVHTTP_REQ_POST, "/metrics"), HTTP_PAGE_METHOD,
	    "POST /metrics: 405");
	T_EQ(http_route(EVHTTP_REQ_POST, "/other"), HTTP_PAGE_NOTFOUND,
	    "POST elsewhere: 404 before 405");
	T_EQ(http_route(EVHTTP_REQ_GET, "/status/"), HTTP_PAGE_NOTFOUND,
	    "GET /status/: 404");
	T_EQ(http_route(EVHTTP_REQ_GET, ""), HTTP_PAGE_NOTFOUND,
	    "empty path: 404");
	T_EQ(http_route(EVHTTP_REQ_GET, NULL), HTTP_PAGE_NOTFOUND,
	    "no path: 404");
}

int
main(void)
{
	struct buf b;

	test_http_keyword();
	test_http_route();

	buf_init(&b);
	http_prom_head(&b, "duonas_x_total", "counter", "a \\ b\nc \"q\"");
	T_OK(is(&b, "# HELP duonas_x_total a \\\\ b\\nc \"q\"\n"
	    "# TYPE duonas_x_total counter\n"),
	    "HELP escapes backslash and newline, not quotes");
	http_prom_sample_u(&b, "duonas_up", 1, NULL);
	T_OK(is(&b, "duonas_up 1\n"), "sample without labels");
	http_prom_sample_u(&b, "m", UINT64_MAX, "a", "x", "b", "y", NULL);
	T_OK(is(&b, "m{a=\"x\",b=\"y\"} 18446744073709551615\n"),
	    "two labels, full 64-bit value");
	http_prom_sample_u(&b, "m", 0, "v", "q\"\\\n", NULL);
	T_OK(is(&b, "m{v=\"q\\\"\\\\\\n\"} 0\n"),
	    "label value escapes quote, backslash, newline");
	http_prom_sample_u(&b, "m", 2, "v", NULL, NULL);
	T_OK(is(&b, "m{v=\"\"} 2\n"), "a NULL label value is empty");
	http_prom_sample_f(&b, "s", 0.0025, "le", "+Inf", NULL);
	T_OK(is(&b, "s{le=\"+Inf\"} 0.0025\n"), "fraction");
	http_prom_sample_f(&b, "t", 1796098330.123, NULL);
	T_OK(is(&b, "t 1796098330.123\n"), "timestamp keeps milliseconds");
	http_prom_sample_f(&b, "i", INFINITY, NULL);
	T_OK(is(&b, "i +Inf\n"), "infinity");
	http_prom_sample_f(&b, "n", NAN, NULL);
	T_OK(is(&b, "n NaN\n"), "not a number");
	http_prom_one_u(&b, "duonas_g", "gauge", "G.", 7);
	T_OK(is(&b, "# HELP duonas_g G.\n# TYPE duonas_g gauge\n"
	    "duonas_g 7\n"), "one unlabeled sample with its HELP and TYPE");
	http_prom_one_f(&b, "duonas_s_seconds", "gauge", "S.", 0.5);
	T_OK(is(&b, "# HELP duonas_s_seconds S.\n# TYPE duonas_s_seconds "
	    "gauge\nduonas_s_seconds 0.5\n"), "the same for a fraction");
	http_prom_label_value(&b, "a\"b");
	T_OK(is(&b, "a\\\"b"), "http_prom_label_value alone");
	buf_free(&b);
	return t_done();
}

/*
 * test_prom.c — the Prometheus text format writer (src/http/prom.c):
 * HELP/TYPE lines, label escaping, integer and fractional samples,
 * compared against golden text.
 */
#include <math.h>

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

int
main(void)
{
	struct buf b;

	buf_init(&b);
	prom_head(&b, "duonas_x_total", "counter", "a \\ b\nc \"q\"");
	T_OK(is(&b, "# HELP duonas_x_total a \\\\ b\\nc \"q\"\n"
	    "# TYPE duonas_x_total counter\n"),
	    "HELP escapes backslash and newline, not quotes");
	prom_sample_u(&b, "duonas_up", 1, NULL);
	T_OK(is(&b, "duonas_up 1\n"), "sample without labels");
	prom_sample_u(&b, "m", UINT64_MAX, "a", "x", "b", "y", NULL);
	T_OK(is(&b, "m{a=\"x\",b=\"y\"} 18446744073709551615\n"),
	    "two labels, full 64-bit value");
	prom_sample_u(&b, "m", 0, "v", "q\"\\\n", NULL);
	T_OK(is(&b, "m{v=\"q\\\"\\\\\\n\"} 0\n"),
	    "label value escapes quote, backslash, newline");
	prom_sample_u(&b, "m", 2, "v", NULL, NULL);
	T_OK(is(&b, "m{v=\"\"} 2\n"), "a NULL label value is empty");
	prom_sample_f(&b, "s", 0.0025, "le", "+Inf", NULL);
	T_OK(is(&b, "s{le=\"+Inf\"} 0.0025\n"), "fraction");
	prom_sample_f(&b, "t", 1796098330.123, NULL);
	T_OK(is(&b, "t 1796098330.123\n"), "timestamp keeps milliseconds");
	prom_sample_f(&b, "i", INFINITY, NULL);
	T_OK(is(&b, "i +Inf\n"), "infinity");
	prom_sample_f(&b, "n", NAN, NULL);
	T_OK(is(&b, "n NaN\n"), "not a number");
	prom_label_value(&b, "a\"b");
	T_OK(is(&b, "a\\\"b"), "prom_label_value alone");
	buf_free(&b);
	return t_done();
}

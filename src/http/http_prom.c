/*
 * http_prom.c — writing the Prometheus text exposition format, version 0.0.4:
 * HELP and TYPE lines and samples with escaped label values.
 *
 * Pure (a struct buf in, nothing else), so the unit test compares its
 * bytes.  Which metrics exist is http_metrics.c's business, not this file's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"

/* HELP text escapes only backslash and newline; label values also the
 * double quote. */
static void
escape(struct buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_add(b, "\\\\", 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else if (*s == '"' && quote)
			buf_add(b, "\\\"", 2);
		else
			buf_add(b, s, 1);
	}
}

void
http_prom_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	escape(b, help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void
http_prom_label_value(struct buf *b, const char *v)
{
	escape(b, v, 1);
}

static void
labels(struct buf *b, const char *name, va_list ap)
{
	const char	*k, *v;
	int		 n = 0;

	buf_printf(b, "%s", name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		buf_printf(b, "%s%s=\"", n++ ? "," : "{", k);
		escape(b, v != NULL ? v : "", 1);
		buf_add(b, "\"", 1);
	}
	if (n)
		buf_add(b, "}", 1);
}

void
http_prom_sample_u(struct buf *b, const char *name, uint64_t v, ...)
{
	va_list ap;

	va_start(ap, v);
	labels(b, name, ap);
	va_end(ap);
	buf_printf(b, " %llu\n", (unsigned long long)v);
}

void
http_prom_sample_f(struct buf *b, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	labels(b, name, ap);
	va_end(ap);
	if (isinf(v))
		buf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		buf_printf(b, " NaN\n");
	else if (fabs(v) >= 1e6)	/* timestamps: keep the milliseconds */
		buf_printf(b, " %.3f\n", v);
	else
		buf_printf(b, " %.9g\n", v);
}

void
http_prom_one_u(struct buf *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	http_prom_head(b, name, type, help);
	http_prom_sample_u(b, name, v, NULL);
}

void
http_prom_one_f(struct buf *b, const char *name, const char *type,
    const char *help, double v)
{
	http_prom_head(b, name, type, help);
	http_prom_sample_f(b, name, v, NULL);
}

/*
 * log.c — line-oriented logging to stderr (and optionally syslog).
 *
 * Each message is formatted into one buffer and written with one write(2)
 * so lines from several threads never interleave.  Timestamps are wall
 * clock with milliseconds: logs of the two heads are compared side by side
 * when a failover is investigated.  No log rotation, no levels beyond
 * info/debug/warn: the daemon runs under systemd, which keeps the journal.
 * Messages carry names that clients choose (NLM caller names, paths):
 * control characters and bytes that are not UTF-8 are written as \xNN,
 * so no client can forge a log line or a terminal escape.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

static char	log_prog[32] = "duonas";
static char	log_tag[32];
static int	log_debug_on;
static int	log_syslog_on;

void
log_init(const char *progname, int debug, int use_syslog)
{
	snprintf(log_prog, sizeof(log_prog), "%s", progname);
	log_debug_on = debug;
	if (use_syslog && !log_syslog_on)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog_on = use_syslog;
}

void
log_settag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag ? tag : "");
}

int
log_getdebug(void)
{
	return log_debug_on;
}

/* Length of the valid UTF-8 sequence of 2..4 bytes at p (n left), or
 * 0 (overlong forms, surrogates and code points past U+10FFFF are not
 * valid). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t		 len;
	uint32_t	 cp, min;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; cp = p[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 o = 0, k;

	if (dstlen == 0)
		return 0;
	for (size_t i = 0; i < n; i += k) {
		k = 1;
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)p[i];
		} else if (p[i] >= 0x80 && (k = utf8_seq(p + i, n - i)) > 0) {
			if (o + k >= dstlen)
				break;
			memcpy(dst + o, p + i, k);
			o += k;
		} else {
			k = 1;
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[p[i] >> 4];
			dst[o++] = hex[p[i] & 15];
		}
	}
	dst[o] = 0;
	return o;
}

void
log_vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	char		 raw[2048];
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved = errno, n, m;
	size_t		 len;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s%s%s[%d]: ",
	    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_prog,
	    log_tag[0] ? "/" : "", log_tag, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(raw))
		m = (int)sizeof(raw) - 1;
	len = (size_t)n + log_escape(line + n, sizeof(line) - n, raw,
	    (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	if (with_errno) {
		int k = snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(saved));
		if (k > 0)
			len += (size_t)k;
		if (len > sizeof(line) - 2)
			len = sizeof(line) - 2;
	}
	if (log_syslog_on)
		syslog(pri, "%s", line + n);
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
	errno = saved;
}

#define LOG_BODY(pri, e) do {			\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vlog(pri, fmt, ap, e);		\
	va_end(ap);				\
} while (0)

void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 0); }

void
log_debug(const char *fmt, ...)
{
	if (log_debug_on)
		LOG_BODY(LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}

int
log_ratelim_ok(struct log_ratelim *rl, char *more, size_t morelen)
{
	uint64_t now = now_ms(), last = rl->last, n;

	if ((last != 0 && now - last < LOG_RATELIM_MS) ||
	    !atomic_compare_exchange_strong(&rl->last, &last, now)) {
		rl->suppressed++;
		return 0;
	}
	more[0] = 0;
	if ((n = atomic_exchange(&rl->suppressed, 0)) > 0)
		snprintf(more, morelen, " (%llu more not logged)",
		    (unsigned long long)n);
	return 1;
}

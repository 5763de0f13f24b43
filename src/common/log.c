/*
 * log.c — line-oriented logging to stderr, syslog or the journal, and the
 * helpers that keep the log short (rate limits, a flapping value).
 *
 * Each message is formatted into one buffer and written with one write(2)
 * so lines from several threads never interleave.  Three destinations:
 *  - stderr connected to the journal (systemd sets JOURNAL_STREAM to its
 *    device:inode): "<N>" syslog priority prefix, no timestamp (the
 *    journal stamps each line), so `journalctl -p` filters by priority;
 *  - otherwise stderr with a UTC timestamp with the date and
 *    milliseconds ("2026-12-01T04:05:06.123Z"): logs of the two heads
 *    are compared side by side when a failover is investigated, and UTC
 *    makes that work whatever time zone each head has;
 *  - and syslog too when asked (duonasd without -d, outside systemd).
 * Priorities: log_warn/log_warnx LOG_ERR, log_info LOG_INFO, log_debug
 * LOG_DEBUG, fatal LOG_CRIT.  No log rotation: the journal or syslog
 * keeps the log.
 * Messages carry names that clients choose (NLM caller names, paths):
 * control characters and bytes that are not UTF-8 are written as \xNN,
 * so no client can forge a log line or a terminal escape.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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
static int	log_journal_on;

int
log_journal_stream(const char *env, unsigned long long dev,
    unsigned long long ino)
{
	unsigned long long	 d, i;
	char			*end;

	if (env == NULL || *env < '0' || *env > '9')
		return 0;
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	i = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != 0)
		return 0;
	return d == dev && i == ino;
}

void
log_init(const char *progname, int debug, int use_syslog)
{
	struct stat	 st;

	snprintf(log_prog, sizeof(log_prog), "%s", progname);
	log_debug_on = debug;
	/* stderr is the journal's stream only if it is the very file
	 * systemd connected (a redirect in a shell keeps the variable but
	 * not the file). */
	log_journal_on = fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_stream(getenv("JOURNAL_STREAM"),
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	/* Into the journal already: syslog would store every line twice. */
	if (log_journal_on)
		use_syslog = 0;
	if (use_syslog && !log_syslog_on)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!use_syslog && log_syslog_on)
		closelog();
	log_syslog_on = use_syslog;
}

int
log_journal(void)
{
	return log_journal_on;
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

size_t
log_prefix(char *dst, size_t dstlen, int journal, int pri,
    const struct timespec *ts, const char *prog, const char *tag, int pid)
{
	struct tm	 tm;
	time_t		 sec = ts->tv_sec;
	int		 n;

	if (journal)
		n = snprintf(dst, dstlen, "<%d>%s%s", pri & 7, tag,
		    tag[0] ? ": " : "");
	else {
		gmtime_r(&sec, &tm);
		n = snprintf(dst, dstlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ "
		    "%s%s%s[%d]: ", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts->tv_nsec / 1000000, prog, tag[0] ? "/" : "", tag, pid);
	}
	if (n < 0 || (size_t)n >= dstlen) {
		if (dstlen > 0)
			dst[0] = 0;
		return 0;
	}
	return (size_t)n;
}

void
log_vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	char		 raw[2048];
	char		 line[2048];
	struct timespec	 ts;
	int		 saved = errno, m;
	size_t		 len, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = log_prefix(line, sizeof(line), log_journal_on, pri, &ts, log_prog,
	    log_tag, (int)getpid());
	m = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(raw))
		m = (int)sizeof(raw) - 1;
	len = n + log_escape(line + n, sizeof(line) - n, raw, (size_t)m);
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
	line[len] = 0;
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
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_ERR, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_ERR, 0); }

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

static void
repeated(char *more, size_t morelen, uint64_t n)
{
	more[0] = 0;
	if (n > 0)
		snprintf(more, morelen, " (repeated %" PRIu64 " times since "
		    "the last line)", n);
}

int
log_ratelim_ok(struct log_ratelim *rl, char *more, size_t morelen)
{
	uint64_t now = now_ms(), last = rl->last;

	if ((last != 0 && now - last < LOG_RATELIM_MS) ||
	    !atomic_compare_exchange_strong(&rl->last, &last, now)) {
		rl->suppressed++;
		return 0;
	}
	repeated(more, morelen, atomic_exchange(&rl->suppressed, 0));
	return 1;
}

/* FNV-1a: the keys are short strings naming one object and one event. */
static uint64_t
key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	return h | 1;	/* 0 marks a free slot */
}

int
log_rlk_step(struct log_rlk_slot *tab, size_t n, uint64_t hash,
    uint64_t now, uint64_t window_ms, uint64_t *suppressed)
{
	struct log_rlk_slot	*s = NULL, *old = &tab[0];

	*suppressed = 0;
	for (size_t i = 0; i < n && s == NULL; i++) {
		if (tab[i].hash == hash)
			s = &tab[i];
		else if (tab[i].hash == 0 || tab[i].last < old->last)
			old = &tab[i];
	}
	if (s == NULL) {
		/* A new key takes a free slot or the one quiet longest: a
		 * key pushed out only loses its count, never its line. */
		s = old;
		s->hash = hash;
		s->last = now;
		s->suppressed = 0;
		return 1;
	}
	if (now - s->last < window_ms) {
		s->suppressed++;
		return 0;
	}
	s->last = now;
	*suppressed = s->suppressed;
	s->suppressed = 0;
	return 1;
}

#define LOG_RLK_SLOTS	64
static struct log_rlk_slot	rlk_tab[LOG_RLK_SLOTS];
static pthread_mutex_t		rlk_mu = PTHREAD_MUTEX_INITIALIZER;

int
log_ratelim_key(const char *key, char *more, size_t morelen)
{
	uint64_t	n;
	int		ok;

	pthread_mutex_lock(&rlk_mu);
	ok = log_rlk_step(rlk_tab, LOG_RLK_SLOTS, key_hash(key), now_ms(),
	    LOG_RATELIM_MS, &n);
	pthread_mutex_unlock(&rlk_mu);
	repeated(more, morelen, n);
	return ok;
}

int
log_flap_step(struct log_flap *f, int v, uint64_t now, uint64_t window_ms,
    unsigned *changes)
{
	*changes = 0;
	if (!f->init) {
		/* The first value is where it starts: nothing to log. */
		f->init = 1;
		f->cur = f->shown = v;
		return 0;
	}
	if (v != f->cur) {
		f->cur = v;
		if (f->changes++ == 0)
			f->since_ms = now;
	}
	if (f->changes == 0 ||
	    (f->logged && now - f->shown_ms < window_ms))
		return 0;
	*changes = f->changes;
	f->shown = f->cur;
	f->shown_ms = now;
	f->logged = 1;
	f->changes = 0;
	return 1;
}

/*
 * log.h — logging for every duonas program.
 *
 * One line per message on stderr: "<UTC date and time> <prog>[/<tag>]
 * [<pid>]: <message>", or "<N>[<tag>: ]<message>" when stderr is the
 * journal's stream (JOURNAL_STREAM); and to syslog when enabled (not
 * when stderr is the journal).  Thread-safe (one write(2) per line).
 * log_warn() appends strerror(errno); log_warnx() does not.
 * fatal()/fatalx() log and exit(1): only for startup, OOM, "cannot happen".
 */
#ifndef DUONAS_LOG_H
#define DUONAS_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* Initialise: progname is copied; debug enables log_debug; use_syslog adds
 * syslog output (ignored when stderr is the journal).  May be called
 * again to change settings. */
void	log_init(const char *progname, int debug, int use_syslog);
/* 1 when lines go to the journal with "<N>" prefixes (set by log_init). */
int	log_journal(void);
/* Whether env (JOURNAL_STREAM, "DEV:INODE" in decimal) names the file
 * dev/ino (stderr's).  Pure. */
int	log_journal_stream(const char *env, unsigned long long dev,
	    unsigned long long ino);
/* The part of a line before the message into dst (dstlen): journal:
 * "<pri>" and "tag: " (if any); otherwise "YYYY-MM-DDTHH:MM:SS.mmmZ
 * prog[/tag][pid]: ".  Returns its length (0 and "" if it does not fit).
 * Pure. */
struct timespec;
size_t	log_prefix(char *dst, size_t dstlen, int journal, int pri,
	    const struct timespec *ts, const char *prog, const char *tag,
	    int pid);
/* Tag shown after the program name (the head name in duonasd). */
void	log_settag(const char *tag);
int	log_getdebug(void);

void	log_info(const char *, ...) LOG_FMT(1, 2);
void	log_debug(const char *, ...) LOG_FMT(1, 2);
void	log_warn(const char *, ...) LOG_FMT(1, 2);
void	log_warnx(const char *, ...) LOG_FMT(1, 2);
void	log_vlog(int pri, const char *, va_list, int with_errno);
/* Copy n bytes of src to dst (dstlen, NUL terminated) with control
 * characters, DEL and bytes that are not valid UTF-8 written as \xNN;
 * stops before a character that does not fit.  Returns the length.
 * Every log line goes through it (pure, any thread). */
#include <stddef.h>
size_t	log_escape(char *dst, size_t dstlen, const char *src, size_t n);

/*
 * At most one line per LOG_RATELIM_MS for one kind of event (a flood of
 * the same warning from a client, a failing disk, an attacker, a retry
 * every second).  Any thread.  log_ratelim_ok() returns 1 when this one
 * may be logged, with more set to "" or to " (repeated N times since the
 * last line)", and 0 when it is only counted.  Zero-initialise the
 * struct.
 */
#define LOG_RATELIM_MS		10000
struct log_ratelim {
	_Atomic uint64_t	last;		/* now_ms() of the last line */
	_Atomic uint64_t	suppressed;
};
int	log_ratelim_ok(struct log_ratelim *, char *more, size_t morelen);
/*
 * The same for events that have no struct of their own to hold a
 * log_ratelim (a retry on a configured object): key names the event and
 * its object ("vip add 10.0.0.1/24 eth0").  A table of 64 keys; a key
 * pushed out by newer ones gets its next line at once.  Any thread.
 */
int	log_ratelim_key(const char *key, char *more, size_t morelen);
/* log_ratelim_key's table, pure (tests): slot of hash (nonzero) or a
 * new one; 1 = log now with *suppressed the count since the key's last
 * line, 0 = counted. */
struct log_rlk_slot {
	uint64_t	hash;		/* 0: free */
	uint64_t	last;		/* ms of the last line */
	uint64_t	suppressed;
};
int	log_rlk_step(struct log_rlk_slot *, size_t n, uint64_t hash,
	    uint64_t now, uint64_t window_ms, uint64_t *suppressed);

/*
 * A value that may flap (the link's best path): the first change after a
 * quiet window_ms is logged at once; later ones are counted and the
 * value is logged again, with the count, once window_ms has passed since
 * the last line — so call it on every change and periodically.  Returns
 * 1 when a line about f->shown is due, with *changes the number of
 * changes it covers (f->since_ms: when the first of them happened).
 * The first call only records the starting value.  Pure, one thread.
 * Zero-initialise.
 */
struct log_flap {
	int		init, logged;
	int		cur;		/* the value now */
	int		shown;		/* the value the last line named */
	uint64_t	shown_ms;	/* when that line was logged */
	uint64_t	since_ms;	/* first change not yet logged */
	unsigned	changes;	/* changes since that line */
};
int	log_flap_step(struct log_flap *, int v, uint64_t now,
	    uint64_t window_ms, unsigned *changes);
__attribute__((noreturn)) void fatal(const char *, ...) LOG_FMT(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) LOG_FMT(1, 2);

#endif

/*
 * log.h — logging for every duonas program.
 *
 * One line per message: "<time> <prog>[<pid>]: <message>" on stderr and,
 * when enabled, to syslog.  Thread-safe (one write(2) per line).
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
 * syslog output.  May be called again to change settings. */
void	log_init(const char *progname, int debug, int use_syslog);
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
 * the same warning from a client, a failing disk, an attacker).  Any
 * thread.  log_ratelim_ok() returns 1 when this one may be logged, with
 * more set to "" or to " (N more not logged)" (since the last line), and
 * 0 when it is only counted.  Zero-initialise the struct.
 */
#define LOG_RATELIM_MS		10000
struct log_ratelim {
	_Atomic uint64_t	last;		/* now_ms() of the last line */
	_Atomic uint64_t	suppressed;
};
int	log_ratelim_ok(struct log_ratelim *, char *more, size_t morelen);
__attribute__((noreturn)) void fatal(const char *, ...) LOG_FMT(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) LOG_FMT(1, 2);

#endif

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
__attribute__((noreturn)) void fatal(const char *, ...) LOG_FMT(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) LOG_FMT(1, 2);

#endif

/*
 * duonasd_start.h — the single-instance lock and the start-up checks of
 * `duonasd -t` (duonasd_start.c).
 */
#ifndef DUONASD_START_H
#define DUONASD_START_H

#include <stddef.h>

struct cfg;

/*
 * Take <statedir>/duonasd.lock (flock, non-blocking) and write this PID
 * into it.  Returns the descriptor to keep open for the life of the
 * process, -2 when another process holds it (err names its PID when the
 * file says), -1 on any other error (err says).
 */
int	dstart_lock(const char *statedir, char *err, size_t errlen);
/*
 * `duonasd -t` after duonas.conf parsed: the key (mode, owner, content),
 * the exports file, every LUN's device or file, and the state and run
 * directories of head self.  Prints one line per problem to stdout, each
 * naming its file (and line); returns the number of problems.
 */
int	dstart_check(const struct cfg *cfg, int self);

#endif

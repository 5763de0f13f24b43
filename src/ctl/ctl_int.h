/*
 * ctl_int.h — internals shared by the admin socket and its handlers.
 */
#ifndef DUONAS_CTL_INT_H
#define DUONAS_CTL_INT_H

#include "ctl/ctl.h"

/* Run fn(arg) on the loop thread and wait for it (worker threads only). */
void	ctl_run_on_loop(void (*fn)(void *), void *arg);
/* Run one command (argv without program name); output into *out. */
int	ctl_dispatch(int argc, char **argv, struct buf *out);
/* Client side: send argv to the daemon at path, print reply to stdout /
 * stderr; returns the exit code (CTL_EX_UNAVAIL when unreachable). */
int	ctl_client_run(const char *path, int argc, char **argv);
/* The same, with the reply's text appended to out instead of printed
 * (quiet: no message when the daemon cannot be reached). */
int	ctl_client_call(const char *path, int argc, char **argv,
	    struct buf *out, int quiet);

#endif

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
/*
 * `--forward` (any command): fwd(argc, argv, out) runs the command on
 * the master instead (argv without --forward) and returns its exit
 * code with its answer in out, or -1 when this head should run it
 * itself (it is the master).  Set once before ctl_init.  Worker threads.
 */
typedef int (*ctl_forward_fn)(int argc, char **argv, struct buf *out);
void	ctl_set_forward(ctl_forward_fn fwd);
/* Client side: send argv to the daemon at path, print reply to stdout /
 * stderr; returns the exit code (CTL_EX_UNAVAIL when unreachable). */
int	ctl_client_run(const char *path, int argc, char **argv);
/* The same, with the reply's text appended to out instead of printed
 * (quiet: no message when the daemon cannot be reached). */
int	ctl_client_call(const char *path, int argc, char **argv,
	    struct buf *out, int quiet);
/* A time limit for each later call: the daemon must have answered within
 * ms (0, the default: no limit).  A call that runs out of time returns
 * CTL_EX_UNAVAIL, with a message unless quiet. */
void	ctl_client_timeout(int ms);

#endif

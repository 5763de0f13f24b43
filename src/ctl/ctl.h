/*
 * ctl.h — the admin socket: `duonas` (the CLI) sends one command per
 * connection, the daemon runs it and answers with an exit code and text.
 *
 * Wire format (docs/admin-protocol.md): request = u32 length + argv as
 * NUL-terminated strings; reply = u32 length + u8 exit code + text.
 * Handlers run on a worker thread, so they may call blocking APIs (pso_*),
 * but must not touch loop-thread state without loop_call().
 */
#ifndef DUONAS_CTL_H
#define DUONAS_CTL_H

#include "common/cfg.h"
#include "common/util.h"

/* Exit codes every command uses. */
#define CTL_EX_OK	0
#define CTL_EX_FAIL	1	/* the operation failed */
#define CTL_EX_NOTMASTER 2	/* must run on the master head */
#define CTL_EX_USAGE	64	/* bad arguments */
#define CTL_EX_UNAVAIL	69	/* daemon not reachable */

struct ctl_cmd {
	const char	*name;		/* "pso set" */
	const char	*args;		/* "NAME VALUE [--owner O]" */
	const char	*help;		/* one paragraph */
	int		 json;		/* accepts --json */
};

/* The command table shared by the CLI (for --help) and the daemon. */
extern const struct ctl_cmd	ctl_cmds[];
extern const int		ctl_ncmds;
const struct ctl_cmd	*ctl_cmd_find(int argc, char **argv, int *nwords);

struct ctl_ctx {
	struct buf	 out;
	int		 json;		/* --json given */
};

/* A handler gets the arguments after the command words, with --json
 * already removed; returns an exit code. */
typedef int (*ctl_handler)(struct ctl_ctx *, int argc, char **argv);

int	ctl_init(const char *sockpath);		/* loop thread, once */
void	ctl_shutdown(void);
void	ctl_register(const char *name, ctl_handler fn);

void	ctl_printf(struct ctl_ctx *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Usage error for the current command: prints and returns CTL_EX_USAGE. */
int	ctl_usage(struct ctl_ctx *, const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Remove "--name VALUE" or "--name=VALUE" from argv; returns the value or
 * NULL; *bad set to 1 when the option has no value. */
const char *ctl_opt_take(int *argc, char **argv, const char *name, int *bad);
/* Remove a bare "--name" flag; returns 1 when present. */
int	ctl_flag_take(int *argc, char **argv, const char *name);

#endif

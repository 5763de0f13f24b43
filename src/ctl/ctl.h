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
/* Group words: the most leading words of argv (0: none) that begin at
 * least one longer command name ("ip", "smb user", "locks"). */
int	ctl_group_find(int argc, char **argv);
/* The index of the next command (from index from) in the group of the k
 * words argv[0..k-1], or -1. */
int	ctl_group_next(int k, char **argv, int from);
/* Suggestions for an unknown command: the names (or leading words of
 * names, e.g. "smb user") of the table and of extra (NULL-terminated,
 * may be NULL) closest to argv by edit distance per word; more words
 * matched first, then the smallest distance; ties all given, up to max.
 * Returns how many were written to out. */
#define CTL_NAME_MAX	48
int	ctl_cmd_suggest(int argc, char **argv, const char *const *extra,
	    char out[][CTL_NAME_MAX], int max);

struct ctl_ctx {
	struct buf	 out;
	int		 json;		/* --json given */
};

/* A handler gets the arguments after the command words, with --json
 * already removed; returns an exit code. */
typedef int (*ctl_handler)(struct ctl_ctx *, int argc, char **argv);

#define CTL_MAX_ARGS	64	/* words in one request */
/*
 * Cut a request body (len bytes of NUL-terminated words, as the CLI
 * sends it) into argv (CTL_MAX_ARGS entries) in place.  Returns argc, or
 * -1 with the reason in err (not NUL-terminated, too many words).
 */
int	ctl_req_split(char *req, uint32_t len, char **argv, struct buf *err);

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

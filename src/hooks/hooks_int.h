/*
 * hooks_int.h — the pure parts of the hooks module (hooks.c), exposed for
 * tests/unit/test_hooks.c: the event record, its argument and
 * environment vectors, hook name filtering and the bounded queue.
 */
#ifndef DUONAS_HOOKS_INT_H
#define DUONAS_HOOKS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "hooks/hooks.h"

#define HOOK_STR_MAX	256	/* reasons, summaries (longer: cut) */
#define HOOK_ARGV_MAX	8	/* path, event name, up to 3 args, NULL */
#define HOOK_ENV_MAX	20	/* our DUONAS_* variables */
#define HOOK_LINE_MAX	512	/* one logged output line (longer: cut) */
#define HOOK_LINES_MAX	100	/* logged lines per run (more: counted) */

/* One event, owning copies of its strings (queued across threads). */
struct hook_ev {
	enum hook_evt	evt;
	uint64_t	seq;		/* 1, 2, ... per daemon run */
	uint64_t	time_ms;	/* wall clock when posted */
	char		head[CFG_NAME_MAX];
	char		cluster[CFG_NAME_MAX];
	char		state[32];	/* HA state after the event */
	char		old[32];
	char		why[HOOK_STR_MAX];
	char		lun[CFG_NAME_MAX];
	uint32_t	lun_id;
	char		ip[64];
	char		dev[32];
	uint64_t	gen;
	char		slot[8];
	char		version[64];
};

/* Fill ev from an event and its arguments (strings cut to fit, NULL as
 * ""); state is the HA state to report (for HOOK_STATE: a->state). */
void	hook_ev_fill(struct hook_ev *ev, enum hook_evt, const struct hook_args *,
	    const char *state);

/*
 * The argument and environment vectors for running hook `path` for ev:
 * argv = path, event name, then the event's arguments (docs/hooks.md);
 * env = the given base environment minus any DUONAS_* entry, then ours.
 * Everything points into cmd (or base), valid while both live.
 */
struct hook_cmd {
	char		*argv[HOOK_ARGV_MAX];
	char		**envp;		/* allocated: free() */
	char		 num[3][24];	/* formatted numbers */
	char		 envbuf[HOOK_ENV_MAX][HOOK_STR_MAX + 32];
};
int	hook_cmd_build(struct hook_cmd *, const struct hook_ev *,
	    const char *path, char *const *base_env);
void	hook_cmd_free(struct hook_cmd *);

/* A directory entry name that may be a hook: not hidden (leading '.'),
 * not a backup (trailing '~'), not a package manager's leftover
 * (".dpkg-old" and the like). */
int	hook_name_ok(const char *name);

/* A bounded FIFO of events (not locked: the caller holds the lock). */
struct hook_queue {
	struct hook_ev	*ev;
	int		 cap, head, len;
	uint64_t	 dropped;
};
int	hook_queue_init(struct hook_queue *, int cap);	/* 0 or -1 */
void	hook_queue_free(struct hook_queue *);
/* 0, or -1 when full: ev not queued, counted in dropped. */
int	hook_queue_push(struct hook_queue *, const struct hook_ev *);
/* 0 and *ev filled, or -1 when empty. */
int	hook_queue_pop(struct hook_queue *, struct hook_ev *);

/* A byte stream cut into lines for the log: feed() calls line() for each
 * complete line (cut at HOOK_LINE_MAX), flush() for a last partial one. */
struct hook_lines {
	char	 buf[HOOK_LINE_MAX + 1];
	size_t	 len;
	int	 cut;			/* the current line was cut */
	void	(*line)(const char *, void *);
	void	*arg;
};
void	hook_lines_feed(struct hook_lines *, const char *, size_t);
void	hook_lines_flush(struct hook_lines *);

#endif

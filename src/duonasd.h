/*
 * duonasd.h — daemon-wide state of duonasd, shared by its main and the
 * admin command handlers (not a library interface).
 */
#ifndef DUONASD_H
#define DUONASD_H

#include "common/cfg.h"

struct duonasd {
	struct cfg		*cfg;
	int			 self;
	const struct cfg_head	*me;
	uint8_t			 key[CFG_KEY_MAX];
	size_t			 keylen;
	uint64_t		 boot_id;
	uint64_t		 start_ms;
	int			 monitor;	/* CTCM: no valid config */
};
extern struct duonasd	dd;

void	ctl_handlers_register(void);
struct ctl_ctx;
/* Hand everything to the peer and stay HALTED (duonas shutdown); prints
 * as cmd into c, returns an exit code.  Ctl worker threads. */
int	head_release_all(struct ctl_ctx *c, const char *cmd, int tmo,
	    int force);
/* Take "--timeout MS" (100..600000) from argv: 0 with *ms (def when
 * absent), or the usage exit code (printed). */
int	ha_adm_timeout(struct ctl_ctx *c, const char *cmd, int *argc,
	    char **argv, int def, int *ms);
/* `duonas locks ...` (duonasd_locks.c). */
void	locks_ctl_register(void);
/* File services (NFS) — started after PSO; 0 or -1 (logged). */
int	services_init(void);
void	services_shutdown(void);
/* The `duonas status --json` document (with its newline) into out, for
 * GET /status; the admin command builds the same document from the same
 * parts (duonasd_ctl.c).  Loop thread. */
void	status_json(struct buf *out);

#endif

/* Append the services' part of `duonas status` (text, or JSON members
 * starting with a comma). Loop thread. */
void	services_status(struct buf *out, int json);
void	services_ctl_register(void);

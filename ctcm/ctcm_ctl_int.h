/*
 * ctcm_ctl_int.h — what the admin command files of ctcm/ share:
 * ctcm_ctl.c (helpers, registration, the changing commands export/ip/lun),
 * ctcm_ctl_show.c (read-only commands, status lines) and ctcm_ctl_admin.c
 * (rollback, import, fault injection, bench).  Ctl worker threads.
 */
#ifndef DUONAS_CTCM_CTL_INT_H
#define DUONAS_CTCM_CTL_INT_H

#include "ctl/ctl.h"
#include "ctcm/ctcm_txn.h"

/* A copy of the committed configuration's parse and this head's index. */
void	ctcm_ctl_snap_cfg(struct cfg *c, int *self);
/* 0 when this head may change the configuration, else the exit code
 * (the message, naming the master, is printed). */
int	ctcm_ctl_need_master(struct ctl_ctx *c);
/* "cli@<head>" */
void	ctcm_ctl_author(char *s, size_t n);
/* One transaction with the command line as its summary; prints the
 * answer and returns the exit code. */
int	ctcm_ctl_run_txn(struct ctl_ctx *c, ctcm_edit_fn fn, void *arg,
	    const char *cmd, int argc, char **argv, int flags);
int	ctcm_ctl_parse_gen(const char *s, uint64_t *g);
/* Generation s (committed or from local history) into b; 0 or the exit
 * code (message printed). */
int	ctcm_ctl_load_gen(struct ctl_ctx *c, const char *cmd, const char *s,
	    struct ctcm_bundle *b);

/* export add/rm/set as an edit function (the bench uses it too). */
struct ctcm_eargs {
	const char	*key;
	uint32_t	 id;
	const char	*clients;
	const char	*options;
	int		 op;		/* 0 add, 1 rm, 2 set */
};
int	ctcm_ctl_export_edit(const struct ctcm_bundle *cur,
	    struct ctcm_bundle *next, void *arg, char *msg, size_t msglen);

void	ctcm_ctl_show_register(void);
void	ctcm_ctl_admin_register(void);
void	ctcm_ctl_smb_register(void);

#endif

/*
 * services.c — the file services a head runs (NFS now; SMB later), seen
 * from the daemon: start, stop, status lines, their admin commands.
 *
 * NFS starts only when the exports file exists: a head without exports
 * (a fresh install, the PSO tests) runs the cluster core alone and says
 * so in the log and in `duonas status`.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "duonasd.h"
#include "export/nfs.h"

static int	nfs_running;

int
services_init(void)
{
	if (access(dd.cfg->exports, R_OK) < 0 && errno == ENOENT) {
		log_info("nfs: no exports file %s: NFS service not started",
		    dd.cfg->exports);
		return 0;
	}
	if (nfs_init(dd.cfg, dd.self) < 0) {
		log_warnx("nfs: cannot start the NFS service");
		return -1;
	}
	nfs_running = 1;
	return 0;
}

void
services_shutdown(void)
{
	if (nfs_running)
		nfs_shutdown();
	nfs_running = 0;
}

void
services_status(struct buf *out, int json)
{
	if (json) {
		buf_printf(out, ",\"nfs\":");
		if (nfs_running)
			nfs_status_json(out);
		else
			buf_printf(out, "{\"running\":false}");
	} else if (nfs_running) {
		nfs_status_text(out);
	} else {
		buf_printf(out, "nfs:         not running (no exports file "
		    "%s)\n", dd.cfg->exports);
	}
}

struct exports_arg {
	struct buf	*out;
	int		 json;
};

static void
exports_on_loop(void *p)
{
	struct exports_arg *a = p;

	if (a->json)
		nfs_exports_json(a->out);
	else
		nfs_exports_text(a->out);
}

static int
cmd_exports(struct ctl_ctx *c, int argc, char **argv)
{
	struct exports_arg a = { &c->out, c->json };

	if (argc != 0)
		return ctl_usage(c, "exports", "unexpected argument '%s'",
		    argv[0]);
	if (!nfs_running) {
		ctl_printf(c, "duonas exports: the NFS service is not running "
		    "(no exports file %s)\n", dd.cfg->exports);
		return CTL_EX_FAIL;
	}
	ctl_run_on_loop(exports_on_loop, &a);
	if (c->json)
		ctl_printf(c, "\n");
	return CTL_EX_OK;
}

void
services_ctl_register(void)
{
	ctl_register("exports", cmd_exports);
}

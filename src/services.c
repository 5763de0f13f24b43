/*
 * services.c — the file services a head runs (NFS now; SMB later), seen
 * from the daemon: start, stop, status lines, their admin commands, and
 * their registration with the file-service interface (fsvc.h), through
 * which the HA controller moves exports and service addresses without
 * knowing any protocol.  NFS is the first service registered.
 *
 * NFS starts only when the exports file exists: a head without exports
 * (a fresh install, the PSO tests) runs the cluster core alone and says
 * so in the log and in `duonas status`.  It is registered either way,
 * so the controller's calls reach it whether it runs or not, as they did
 * before there was an interface.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ctcm/ctcm.h"
#include "ha/ha.h"
#include "hooks/hooks.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "duonasd.h"
#include "export/nfs.h"
#include "export/nfs_drc.h"
#include "export/smb.h"
#include "fsvc/fsvc.h"
#include "smb/smb_users_sync.h"
#include "vip/tickle.h"

static int	nfs_running;

/* ---- NFS as a file service (fsvc.h) ----------------------------------- */

struct nfs_walk {
	fsvc_export_cb	 cb;
	void		*arg;
};

static void
nfs_walk_cb(uint32_t id, const char *path, int online, int enabled,
    void *arg)
{
	struct nfs_walk *w = arg;

	(void)online; (void)enabled;
	w->cb(id, path, w->arg);
}

static int
nfs_fsvc_export_foreach(fsvc_export_cb cb, void *arg)
{
	struct nfs_walk w = { cb, arg };

	return nfs_export_foreach(nfs_walk_cb, &w);
}

static void
nfs_fsvc_status(struct buf *out, int json)
{
	if (json) {
		buf_printf(out, ",\"nfs\":");
		if (nfs_running)
			nfs_status_json(out);
		else
			buf_printf(out, "{\"running\":false}");
		return;
	}
	if (nfs_running)
		nfs_status_text(out);
	else
		buf_printf(out, "nfs:         not running (no exports file "
		    "%s)\n", dd.cfg->exports);
}

/* The nfs_* hooks have the interface's signatures (they were its model):
 * only the export walk and the status need adapting. */
static const struct fsvc_ops nfs_fsvc = {
	.name = "NFS",
	.export_foreach = nfs_fsvc_export_foreach,
	.export_attach = nfs_export_attach,
	.export_detach = nfs_export_detach,
	.export_enable = nfs_export_enable,
	.set_gate = nfs_set_gate,
	.set_ioerr = nfs_set_ioerr,
	.set_conn_hook = nfs_set_conn_hook,
	.listen_add = nfs_listen_add,
	.listen_remove = nfs_listen_remove,
	.status = nfs_fsvc_status,
};

/* Every service's client connections feed the tickle ACK lists. */
static void
conn_hook(int up, const struct sockaddr *local, const struct sockaddr *remote,
    void *arg)
{
	(void)arg;
	if (up)
		tickle_conn_add(local, remote);
	else
		tickle_conn_del(local, remote);
}

/* A new configuration generation was installed: apply what can be
 * applied live (exports, service IPs); the rest needs a restart. */
static void
config_installed_cb(uint64_t gen, const struct cfg *newcfg, void *arg)
{
	char summary[256];

	(void)arg;
	if (newcfg != NULL && newcfg != dd.cfg) {
		if (newcfg->nluns != dd.cfg->nluns)
			log_warnx("ctcm: generation %llu changes the LUNs: "
			    "restart the heads to use them",
			    (unsigned long long)gen);
		char file[sizeof(dd.cfg->file)];

		memcpy(file, dd.cfg->file, sizeof(file));
		*dd.cfg = *newcfg;
		memcpy(dd.cfg->file, file, sizeof(file));
	}
	if (nfs_running)
		nfs_set_threads(dd.cfg->nfs_threads);
	if (nfs_running && nfs_exports_reload() < 0)
		log_warnx("nfs: generation %llu: exports not reloaded",
		    (unsigned long long)gen);
	else if (!nfs_running && access(dd.cfg->exports, R_OK) == 0 &&
	    nfs_init(dd.cfg, dd.self) == 0) {
		nfs_running = 1;
		ha_services_ready();
	}
	ha_config_changed();
	/* after the controller's export map: new SMB shares on a LUN this
	 * head serves are mounted at once */
	smb_reload(dd.cfg);
	log_info("ctcm: generation %llu applied", (unsigned long long)gen);
	hooks_event(HOOK_CONFIG, .gen = gen,
	    .why = ctcm_summary(gen, summary, sizeof(summary)));
}

/* The SMB users of the installed generation, their accounts made (a
 * worker thread): Samba's password database follows. */
static void
users_applied_cb(uint64_t gen, const struct smb_users *u, int accounts_ok,
    void *arg)
{
	(void)gen;
	(void)accounts_ok;
	(void)arg;
	smb_passdb_write(dd.cfg, dd.self, u);
}

/* The DRC replication waits for the peer only while HA says it lives. */
static void
drc_opmode_cb(enum ha_opmode mode, int peer_alive, void *arg)
{
	(void)mode;
	(void)arg;
	nfs_drc_repl_peer_alive(peer_alive);
}

int
services_init(void)
{
	ctcm_on_install(config_installed_cb, NULL);
	/* SMB users: local accounts on every install (the SMB service
	 * passes its passdb writer here); without the worker (logged) the
	 * other services still run */
	smb_users_sync_start(dd.me->statedir, users_applied_cb, NULL);
	nfs_drc_repl_init();
	ha_opmode_register(drc_opmode_cb, NULL);
	nfs_drc_repl_peer_alive(ha_peer_alive());
	/* NFS first: exports come up NFS then SMB, go down SMB then NFS */
	if (fsvc_register(&nfs_fsvc) < 0 || smb_register() < 0)
		return -1;
	if (smb_start(dd.cfg, dd.self) < 0)
		log_warnx("smb: the SMB service did not start (see above)");
	/* before any service starts, so that no connection is missed */
	fsvc_set_conn_hook(conn_hook, NULL);
	/* NLM/NSM on the cluster lock table (brl_init ran) */
	nfs_set_locking(1);
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
	smb_users_sync_stop();
	smb_shutdown();
	if (nfs_running)
		nfs_shutdown();
	nfs_running = 0;
}

void
services_status(struct buf *out, int json)
{
	fsvc_status(out, json);
	if (json) {
		buf_printf(out, ",\"tickle\":");
		tickle_status_json(out);
		buf_printf(out, ",\"hooks\":");
		hooks_status(out, json);
		return;
	}
	tickle_status_text(out);
	hooks_status(out, json);
}

struct exports_arg {
	struct buf	*out;
	int		 json;
};

static void
exports_on_loop(void *p)
{
	struct exports_arg *a = p;

	if (a->json) {
		/* {"exports":[NFS...],"smb_shares":[...]} */
		if (nfs_running)
			nfs_exports_json(a->out);
		else
			buf_printf(a->out, "{\"exports\":[]}");
		a->out->len--;		/* reopen the object */
		buf_printf(a->out, ",\"smb_shares\":");
		smb_exports_json(a->out);
		buf_printf(a->out, "}");
	} else {
		if (nfs_running)
			nfs_exports_text(a->out);
		smb_exports_text(a->out);
	}
}

static int
cmd_exports(struct ctl_ctx *c, int argc, char **argv)
{
	struct exports_arg a = { &c->out, c->json };

	if (argc != 0)
		return ctl_usage(c, "exports", "unexpected argument '%s'",
		    argv[0]);
	if (!nfs_running && access(dd.cfg->exports, F_OK) < 0) {
		ctl_printf(c, "duonas exports: no exports file %s\n",
		    dd.cfg->exports);
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

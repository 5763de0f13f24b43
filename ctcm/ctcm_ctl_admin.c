/*
 * ctcm_ctl_admin.c — the admin commands that replace the configuration as
 * a whole and the test hooks: `duonas config rollback G`, `config import
 * FILE` (also on a head in MONITOR, where it restores service and
 * restarts the daemon), `config fault N crash|fail|off` (fault injection)
 * and `config bench` (commit latency).  Rollback and import are ordinary
 * transactions numbered by ctcm_sync.c, so they never reuse a generation.
 * Handlers run on ctl worker threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "ctcm/ctcm_ctl_int.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "smb/smb_users.h"

/* ---- rollback / import ------------------------------------------------- */

static int
copy_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	const struct ctcm_bundle *src = arg;

	(void)cur;
	(void)msg;
	(void)msglen;
	ctcm_bundle_copy(next, src);
	return 0;
}

/* Import: the text's configuration; its "%%file smb/users" section
 * replaces the users (an empty one removes them all), and a text without
 * one keeps the cluster's users, so importing what config export printed
 * on a terminal (hashes left out) does not delete every SMB account. */
static int
import_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	const struct ctcm_bundle	*src = arg;
	const struct ctcm_section	*u;

	(void)msg;
	(void)msglen;
	ctcm_bundle_copy(next, src);
	/* the image section is the cluster's software, never an import's:
	 * `image upload|rollback|key` change it (docs/boot-images.md) */
	ctcm_bundle_del(next, CTCM_SEC_IMAGE);
	if ((u = ctcm_bundle_get(cur, CTCM_SEC_IMAGE)) != NULL)
		ctcm_bundle_set(next, CTCM_SEC_IMAGE, "image/boot", u->data,
		    u->len);
	if ((u = ctcm_bundle_get(src, CTCM_SEC_SMBUSERS)) == NULL) {
		if ((u = ctcm_bundle_get(cur, CTCM_SEC_SMBUSERS)) != NULL)
			ctcm_bundle_set(next, CTCM_SEC_SMBUSERS, "smb/users",
			    u->data, u->len);
	} else {
		struct smb_users	l;
		struct buf		o;
		char			e[256];

		/* canonical form (sorted, lower-case hex); text that does
		 * not parse stays as it is and validation names the line */
		if (smb_users_parse((const char *)u->data, u->len, &l, e,
		    sizeof(e)) == 0) {
			buf_init(&o);
			smb_users_format(&l, &o);
			if (o.len == 0)
				ctcm_bundle_del(next, CTCM_SEC_SMBUSERS);
			else
				ctcm_bundle_set(next, CTCM_SEC_SMBUSERS,
				    "smb/users", o.data, o.len);
			if (o.len > 0)
				memset(o.data, 0, o.len);
			buf_free(&o);
			smb_users_free(&l);
		}
	}
	return 0;
}

/*
 * What a new configuration changes that the heads apply only when they
 * restart (everything else is applied live: exports, service IPs, SMB
 * users, more NFS workers, the image section).  Printed after an import
 * or a rollback so that "committed" never hides a pending restart.
 */
static void
restart_note(struct ctl_ctx *c, const char *cmd, const struct cfg *o,
    const struct cfg *n)
{
	struct buf	b;

	buf_init(&b);
#define DIFF_INT(f, name) do {						\
	if (o->f != n->f)						\
		buf_printf(&b, "%s%s", b.len ? ", " : "", name);	\
} while (0)
	if (o->nluns != n->nluns)
		buf_printf(&b, "%sthe LUNs", b.len ? ", " : "");
	DIFF_INT(nfs_port, "nfs port");
	DIFF_INT(mount_port, "nfs mount-port");
	DIFF_INT(portmap_port, "nfs portmap-port");
	if (n->nfs_threads < o->nfs_threads)
		buf_printf(&b, "%sfewer nfs threads", b.len ? ", " : "");
	DIFF_INT(smb_port, "smb port");
	DIFF_INT(link_ping_ms, "link ping");
	DIFF_INT(link_dead_ms, "link dead");
	DIFF_INT(hb_interval_ms, "heartbeat interval");
	DIFF_INT(lease_ms, "heartbeat lease");
	DIFF_INT(pso_mapsize_mb, "pso mapsize");
	DIFF_INT(health_interval_ms, "health interval");
	for (int h = 0; h < 2 && h < o->nheads && h < n->nheads; h++) {
		if (strcmp(o->heads[h].http, n->heads[h].http) != 0)
			buf_printf(&b, "%shead %s http", b.len ? ", " : "",
			    n->heads[h].name);
		if (o->heads[h].nlinks != n->heads[h].nlinks ||
		    memcmp(o->heads[h].links, n->heads[h].links,
		    sizeof(o->heads[h].links)) != 0)
			buf_printf(&b, "%shead %s links", b.len ? ", " : "",
			    n->heads[h].name);
	}
#undef DIFF_INT
	if (b.len > 0) {
		buf_add_u8(&b, 0);
		ctl_printf(c, "%s: NOTE: takes effect when the heads restart, "
		    "one at a time (duonas image restart on each): %s\n", cmd,
		    (char *)b.data);
	}
	buf_free(&b);
}

static int
cmd_config_rollback(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	char			summary[64];
	int			rc, ex, self;
	struct cfg		*before, *after;

	if (argc != 1)
		return ctl_usage(c, "config rollback", "needs one GENERATION");
	if ((rc = ctcm_ctl_load_gen(c, "config rollback", argv[0], &b)) != 0)
		return rc;
	if ((ex = ctcm_ctl_need_master(c)) != 0) {
		ctcm_bundle_free(&b);
		return ex;
	}
	before = xcalloc(1, sizeof(*before));
	after = xcalloc(1, sizeof(*after));
	snprintf(summary, sizeof(summary), "to %llu",
	    (unsigned long long)b.gen);
	ctcm_ctl_snap_cfg(before, &self);
	{
		char *sv[1] = { summary };
		ex = ctcm_ctl_run_txn(c, copy_edit, &b, "config rollback", 1,
		    sv, 0);
	}
	if (ex == CTL_EX_OK) {
		ctcm_ctl_snap_cfg(after, &self);
		restart_note(c, "config rollback", before, after);
	}
	free(before);
	free(after);
	ctcm_bundle_free(&b);
	return ex;
}

static int
cmd_config_import(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	uint8_t			*d = NULL;
	size_t			 len;
	char			 err[512];
	int			 ex, monitor, self;
	struct cfg		*before, *after;

	if (argc != 1)
		return ctl_usage(c, "config import", "needs one FILE");
	if (argv[0][0] != '/')
		return ctl_usage(c, "config import", "FILE must be an absolute "
		    "path (the daemon reads it)");
	if (file_read_all(argv[0], CTCM_FILE_MAX * 2, &d, &len) < 0) {
		ctl_printf(c, "duonas config import: %s: %s\n", argv[0],
		    strerror(errno));
		return CTL_EX_FAIL;
	}
	if (ctcm_text_import((char *)d, len, &b, err, sizeof(err)) < 0) {
		ctl_printf(c, "duonas config import: %s: %s\n", argv[0], err);
		free(d);
		return CTL_EX_FAIL;
	}
	free(d);
	monitor = ctcm_monitor();
	if (!monitor && (ex = ctcm_ctl_need_master(c)) != 0) {
		ctcm_bundle_free(&b);
		return ex;
	}
	before = xcalloc(1, sizeof(*before));
	after = xcalloc(1, sizeof(*after));
	if (!monitor)
		ctcm_ctl_snap_cfg(before, &self);
	ex = ctcm_ctl_run_txn(c, import_edit, &b, "config import", argc, argv,
	    CTCM_TXN_MONITOR_OK);
	if (ex == CTL_EX_OK && !monitor) {
		ctcm_ctl_snap_cfg(after, &self);
		restart_note(c, "config import", before, after);
	}
	free(before);
	free(after);
	ctcm_bundle_free(&b);
	if (ex == CTL_EX_OK && monitor) {
		ctl_printf(c, "restarting duonasd with the imported "
		    "configuration\n");
		ctcm_reexec_soon();
	}
	return ex;
}

/* ---- test and benchmark hooks ------------------------------------------- */

static int
cmd_config_fault(struct ctl_ctx *c, int argc, char **argv)
{
	long long	 n;
	const char	*es;

	if (argc == 1 && strcmp(argv[0], "off") == 0) {
		ctcm_fault_arm(0, CTCM_FAULT_OFF);
		ctl_printf(c, "fault injection off (%ld operations so far)\n",
		    ctcm_fault_ops());
		return CTL_EX_OK;
	}
	if (argc != 2 || parse_num(argv[0], 1, 1000000, &n, &es) < 0 ||
	    (strcmp(argv[1], "crash") != 0 && strcmp(argv[1], "fail") != 0))
		return ctl_usage(c, "config fault", "needs N crash|fail, or "
		    "off");
	ctcm_fault_arm((long)n, strcmp(argv[1], "crash") == 0 ?
	    CTCM_FAULT_CRASH : CTCM_FAULT_FAIL);
	ctl_printf(c, "operation %lld from now will %s (%ld so far)\n", n,
	    argv[1], ctcm_fault_ops());
	return CTL_EX_OK;
}

static int
u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct bench_arg {
	int	on;
};

static int
bench_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct bench_arg	*a = arg;
	struct ctcm_export	*v = NULL;
	struct ctcm_eargs		 e;
	int			 n, rv;

	if (ctcm_exports_parse(ctcm_bundle_text(cur, CTCM_SEC_EXPORTS, NULL),
	    &v, &n, msg, msglen) < 0)
		return -1;
	if (n == 0) {
		free(v);
		snprintf(msg, msglen, "add an export first (the benchmark "
		    "toggles an option of the first one)");
		return -1;
	}
	memset(&e, 0, sizeof(e));
	e.op = 2;
	e.key = v[0].path;
	e.options = a->on ? "sync" : "";
	rv = ctcm_ctl_export_edit(cur, next, &e, msg, msglen);
	free(v);
	return rv;
}

static int
cmd_config_bench(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	struct bench_arg	 a;
	uint64_t		*t;
	long long		 n = 50;
	const char		*cnt, *es;
	int			 bad = 0, ex, i;
	char			 author[CTCM_AUTHOR_MAX];

	cnt = ctl_opt_take(&argc, argv, "count", &bad);
	if (bad || argc != 0 || (cnt && parse_num(cnt, 1, 100000, &n,
	    &es) < 0)) {
		free(res);
		return ctl_usage(c, "config bench", "[--count N]");
	}
	if ((ex = ctcm_ctl_need_master(c)) != 0) {
		free(res);
		return ex;
	}
	ctcm_ctl_author(author, sizeof(author));
	t = xcalloc((size_t)n, sizeof(*t));
	for (i = 0; i < n; i++) {
		a.on = i % 2 == 0;
		if (ctcm_txn_run(bench_edit, &a, author, "bench", 0,
		    res) != 0) {
			ctl_printf(c, "duonas config bench: %s\n", res->msg);
			free(t);
			free(res);
			return CTL_EX_FAIL;
		}
		t[i] = res->us;
	}
	qsort(t, (size_t)n, sizeof(*t), u64cmp);
	ctl_printf(c, "commits=%lld\nreplicas=%d\ncommit_ms_p50=%.3f\n"
	    "commit_ms_p99=%.3f\ncommit_ms_max=%.3f\n", n, res->nrep,
	    t[n / 2] / 1000.0, t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] /
	    1000.0, t[n - 1] / 1000.0);
	free(t);
	free(res);
	return CTL_EX_OK;
}

/* ---- registration ------------------------------------------------------ */

void
ctcm_ctl_admin_register(void)
{
	ctl_register("config rollback", cmd_config_rollback);
	ctl_register("config import", cmd_config_import);
	ctl_register("config fault", cmd_config_fault);
	ctl_register("config bench", cmd_config_bench);
}

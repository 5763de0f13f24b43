/*
 * ctcm_ctl.c — the admin commands that change the configuration:
 * `duonas export add|rm|set`, `ip add|rm`, `lun add|rm` (man/duonas.8),
 * the helpers every ctcm command file shares, and the registration of
 * all of them (read-only ones: ctcm_ctl_show.c; rollback, import and test
 * hooks: ctcm_ctl_admin.c; SMB users: ctcm_ctl_smb.c).
 *
 * Changing commands check their arguments, then that this head is the
 * master (else exit 2 naming the master and its address), then run one
 * transaction whose edit step does the change on the committed text; any
 * problem is reported before anything is written.  Handlers run on ctl
 * worker threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "ctcm/ctcm_ctl_int.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "ha/ha.h"

/* ---- helpers ---------------------------------------------------------- */

void
ctcm_ctl_snap_cfg(struct cfg *c, int *self)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	*c = ctcm_g.cfg;
	*self = ctcm_g.self;
	pthread_mutex_unlock(&ctcm_g.mtx);
}

/* A head's management address: its first peer-link address (the
 * admin reaches the head there; a service IP moves with failover). */
static void
head_addr(const struct cfg_head *h, char *s, size_t n)
{
	char *colon;

	if (h->nlinks > 0) {
		snprintf(s, n, "%s", h->links[0].text);
		if (s[0] == '[') {
			memmove(s, s + 1, strlen(s));
			if ((colon = strchr(s, ']')) != NULL)
				*colon = 0;
		} else if ((colon = strrchr(s, ':')) != NULL)
			*colon = 0;
		return;
	}
	if (h->nvips > 0) {
		snprintf(s, n, "%s", h->vips[0].addr);
		return;
	}
	snprintf(s, n, "address unknown");
}

/* 0 when this head may change the configuration, else an exit code. */
int
ctcm_ctl_need_master(struct ctl_ctx *c)
{
	struct cfg	*cf = xmalloc(sizeof(*cf));
	char		 addr[96], st[32];
	int		 self, peer, m;

	if (ctcm_monitor()) {
		ctl_printf(c, "duonas: this head has no valid configuration "
		    "(MONITOR): only status, config show and config import "
		    "work here\n");
		free(cf);
		return CTL_EX_FAIL;
	}
	if ((m = ctcm_ha_now(st, sizeof(st))) == HA_OPMODE_MASTER) {
		free(cf);
		return 0;
	}
	ctcm_ctl_snap_cfg(cf, &self);
	peer = 1 - self;
	head_addr(&cf->heads[peer], addr, sizeof(addr));
	if (m == HA_OPMODE_SLAVE)
		ctl_printf(c, "duonas: this head (%s) is the slave; run this "
		    "on the master (%s, %s), or add --forward\n",
		    cf->heads[self].name, cf->heads[peer].name, addr);
	else
		ctl_printf(c, "duonas: this head (%s) is not the master yet "
		    "(state %s); retry when it is\n", cf->heads[self].name,
		    st);
	free(cf);
	return CTL_EX_NOTMASTER;
}

void
ctcm_ctl_author(char *s, size_t n)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	snprintf(s, n, "cli@%s", ctcm_g.cfg.heads[ctcm_g.self].name);
	pthread_mutex_unlock(&ctcm_g.mtx);
}

static void
summary_of(char *s, size_t n, const char *cmd, int argc, char **argv)
{
	size_t o = (size_t)snprintf(s, n, "%s", cmd);

	for (int i = 0; i < argc && o < n; i++)
		o += (size_t)snprintf(s + o, n - o, " %s", argv[i]);
}

int
ctcm_ctl_run_txn(struct ctl_ctx *c, ctcm_edit_fn fn, void *arg, const char *cmd,
    int argc, char **argv, int flags)
{
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	char			 author[CTCM_AUTHOR_MAX];
	char			 summary[CTCM_SUMMARY_MAX];
	int			 rc, ex;

	ctcm_ctl_author(author, sizeof(author));
	summary_of(summary, sizeof(summary), cmd, argc, argv);
	rc = ctcm_txn_run(fn, arg, author, summary, flags, res);
	if (rc == 0) {
		ctl_printf(c, "%s\n", res->msg);
		ex = CTL_EX_OK;
	} else {
		ctl_printf(c, "duonas %s: %s\n", cmd, res->msg);
		ex = rc == CTCM_E_NOTMASTER ? CTL_EX_NOTMASTER : CTL_EX_FAIL;
	}
	free(res);
	return ex;
}

/* Parse the current duonas.conf (for edits). */
static int
parse_cur(const struct ctcm_bundle *cur, struct cfg *out, char *msg,
    size_t msglen)
{
	size_t		 len;
	const char	*t = ctcm_bundle_text(cur, CTCM_SEC_CONF, &len);
	char		 e[512];

	if (cfg_parse_buf("duonas.conf", t, len, out, e, sizeof(e)) < 0) {
		snprintf(msg, msglen, "current configuration: %s", e);
		return -1;
	}
	return 0;
}

/* next = cur with section kind replaced by the text in o. */
static int
replace_sec(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    uint16_t kind, const struct buf *o)
{
	ctcm_bundle_copy(next, cur);
	return ctcm_bundle_set(next, kind, kind == CTCM_SEC_CONF ?
	    "duonas.conf" : "exports", o->data, o->len);
}

int
ctcm_ctl_parse_gen(const char *s, uint64_t *g)
{
	long long	 v;
	const char	*es;

	if (parse_num(s, 1, INT64_MAX, &v, &es) < 0)
		return -1;
	*g = (uint64_t)v;
	return 0;
}


int
ctcm_ctl_load_gen(struct ctl_ctx *c, const char *cmd, const char *s,
    struct ctcm_bundle *b)
{
	uint64_t	g;
	int		rc;

	if (ctcm_ctl_parse_gen(s, &g) < 0)
		return ctl_usage(c, cmd, "'%s' is not a generation number", s);
	if ((rc = ctcm_load_gen(g, b)) != 0) {
		ctl_printf(c, "duonas %s: generation %llu: %s (duonas config "
		    "history lists those kept)\n", cmd, (unsigned long long)g,
		    ctcm_strerror(rc));
		return CTL_EX_FAIL;
	}
	return 0;
}

/* ---- export ----------------------------------------------------------- */

int
ctcm_ctl_export_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct ctcm_eargs	*a = arg;
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	struct buf	 o;
	const char	*ex = ctcm_bundle_text(cur, CTCM_SEC_EXPORTS, NULL);
	int		 rv = -1;

	buf_init(&o);
	if (parse_cur(cur, cf, msg, msglen) < 0)
		goto out;
	if (a->op == 0)
		rv = ctcm_edit_export_add(cf, ex, a->key, a->id, a->clients,
		    a->options, &o, msg, msglen);
	else if (a->op == 1)
		rv = ctcm_edit_export_rm(ex, a->key, &o, msg, msglen);
	else
		rv = ctcm_edit_export_set(cf, ex, a->key, a->clients,
		    a->options, &o, msg, msglen);
	if (rv == 0)
		rv = replace_sec(cur, next, CTCM_SEC_EXPORTS, &o);
out:
	buf_free(&o);
	free(cf);
	return rv;
}

/*
 * "Committed" must mean working (docs/ctcm.md): what the master can check
 * on its own before a change is committed.  0 to go on; else the exit
 * code, the problem printed.  force: print it as a warning and go on.
 */
static int
refuse_or_warn(struct ctl_ctx *c, const char *cmd, int force,
    const char *problem)
{
	if (force) {
		ctl_printf(c, "%s: WARNING: %s (committing anyway: --force)\n",
		    cmd, problem);
		return 0;
	}
	ctl_printf(c, "duonas %s: %s (--force commits it anyway)\n", cmd,
	    problem);
	return CTL_EX_FAIL;
}

/* export add: the directory exists where this head can see it (a
 * directory-mode LUN's data directory is shared; an ext4 LUN's file
 * system is mounted only on the head serving it). */
static int
export_dir_check(struct ctl_ctx *c, const char *path, int force)
{
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	struct stat	 st, pst;
	char		 e[CFG_PATH_MAX + 128], parent[CFG_PATH_MAX + 4];
	int		 self, ex = 0;
	const struct cfg_lun *l = NULL;

	ctcm_ctl_snap_cfg(cf, &self);
	if ((l = ctcm_lun_of_path(cf, path)) == NULL)
		goto out;	/* the transaction names that problem */
	if (l->mode == CFG_LUN_EXT4) {
		/* mounted here: st_dev differs from its parent's */
		snprintf(parent, sizeof(parent), "%s/..", l->mountpoint);
		if (stat(l->mountpoint, &st) < 0 || stat(parent, &pst) < 0 ||
		    st.st_dev == pst.st_dev) {
			ctl_printf(c, "export add: note: LUN %s is not mounted "
			    "on this head: %s is checked when its head serves "
			    "it\n", l->name, path);
			goto out;
		}
	}
	if (stat(path, &st) < 0) {
		snprintf(e, sizeof(e), "%s: %s", path, strerror(errno));
		ex = refuse_or_warn(c, "export add", force, e);
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(e, sizeof(e), "%s is not a directory", path);
		ex = refuse_or_warn(c, "export add", force, e);
	}
out:
	free(cf);
	return ex;
}

/* ip add on this head: the interface exists here and takes the
 * address family.  The peer's interfaces are its own: it reports a
 * problem in its status when it applies the change. */
static int
ip_dev_check(struct ctl_ctx *c, const char *head, const char *cidr,
    const char *dev, int force)
{
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	char		 e[256], path[128], v[8] = "";
	int		 self, h, ex = 0, fd;
	ssize_t		 r;

	ctcm_ctl_snap_cfg(cf, &self);
	if ((h = cfg_head_find(cf, head)) < 0)
		goto out;	/* the transaction names that problem */
	if (dev == NULL)
		dev = cf->heads[h].nvips > 0 ? cf->heads[h].vips[0].dev : "lo";
	if (h != self) {
		ctl_printf(c, "ip add: note: %s's interface %s is checked when "
		    "%s applies the change (its duonas status says so when it "
		    "cannot)\n", head, dev, head);
		goto out;
	}
	if (if_nametoindex(dev) == 0) {
		snprintf(e, sizeof(e), "this head (%s) has no interface %s",
		    head, dev);
		ex = refuse_or_warn(c, "ip add", force, e);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
	    dev);
	if (strchr(cidr, ':') != NULL) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			snprintf(v, sizeof(v), "1");	/* no IPv6 at all */
		else {
			r = read(fd, v, sizeof(v) - 1);
			v[r > 0 ? r : 0] = 0;
			close(fd);
		}
		if (v[0] == '1') {
			snprintf(e, sizeof(e), "IPv6 is disabled on %s (%s)",
			    dev, path);
			ex = refuse_or_warn(c, "ip add", force, e);
		}
	}
out:
	free(cf);
	return ex;
}

static int
export_change(struct ctl_ctx *c, int argc, char **argv, int op)
{
	static const char *const names[] = { "export add", "export rm",
	    "export set" };
	struct ctcm_eargs	 a;
	int		 bad = 0, ex, n = argc, force;
	const char	*id;
	long long	 v;
	const char	*es;
	char		*sv[16];

	memset(&a, 0, sizeof(a));
	a.op = op;
	if (argc > 16)
		return ctl_usage(c, names[op], "too many arguments");
	for (int i = 0; i < argc; i++)
		sv[i] = argv[i];
	a.clients = ctl_opt_take(&argc, argv, "clients", &bad);
	a.options = ctl_opt_take(&argc, argv, "options", &bad);
	id = op == 0 ? ctl_opt_take(&argc, argv, "id", &bad) : NULL;
	force = op == 0 && ctl_flag_take(&argc, argv, "force");
	if (bad)
		return ctl_usage(c, names[op], "an option needs a value");
	if (argc != 1 || argv[0][0] == '-')
		return ctl_usage(c, names[op], argc == 0 ? "missing %s" :
		    "unexpected argument '%s'", argc == 0 ? (op == 0 ? "PATH" :
		    "PATH or ID") : argv[argc - 1]);
	if (id != NULL) {
		if (parse_num(id, 1, UINT32_MAX, &v, &es) < 0)
			return ctl_usage(c, names[op], "--id '%s' is %s", id,
			    es);
		a.id = (uint32_t)v;
	}
	a.key = argv[0];
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	if (op == 0 && (ex = export_dir_check(c, a.key, force)) != 0)
		return ex;
	return ctcm_ctl_run_txn(c, ctcm_ctl_export_edit, &a, names[op], n,
	    sv, 0);
}

static int
cmd_export_add(struct ctl_ctx *c, int argc, char **argv)
{
	return export_change(c, argc, argv, 0);
}

static int
cmd_export_rm(struct ctl_ctx *c, int argc, char **argv)
{
	return export_change(c, argc, argv, 1);
}

static int
cmd_export_set(struct ctl_ctx *c, int argc, char **argv)
{
	return export_change(c, argc, argv, 2);
}

/* ---- ip ----------------------------------------------------------------- */

/* The index of the head named name in the running configuration, or -1
 * (for usage checks before a transaction). */
static int
head_named(const char *name)
{
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	int		 self, i;

	ctcm_ctl_snap_cfg(cf, &self);
	i = cfg_head_find(cf, name);
	free(cf);
	return i;
}

struct iargs {
	const char	*head, *cidr, *dev;
	int		 rm;
};

static int
ip_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	struct iargs	*a = arg;
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	struct buf	 o;
	const char	*t = ctcm_bundle_text(cur, CTCM_SEC_CONF, NULL);
	int		 rv = -1;

	buf_init(&o);
	if (parse_cur(cur, cf, msg, msglen) < 0)
		goto out;
	if (a->rm)
		rv = ctcm_edit_ip_rm(cf, t, a->cidr, &o, msg, msglen);
	else {
		const char	*dev = a->dev;
		int		 h = cfg_head_find(cf, a->head);

		if (dev == NULL && h >= 0 && cf->heads[h].nvips > 0)
			dev = cf->heads[h].vips[0].dev;
		if (dev == NULL)
			dev = "lo";
		rv = ctcm_edit_ip_add(cf, t, a->head, a->cidr, dev, &o, msg,
		    msglen);
	}
	if (rv == 0)
		rv = replace_sec(cur, next, CTCM_SEC_CONF, &o);
out:
	buf_free(&o);
	free(cf);
	return rv;
}

static int
cmd_ip_add(struct ctl_ctx *c, int argc, char **argv)
{
	struct iargs	 a = { NULL, NULL, NULL, 0 };
	int		 bad = 0, ex, n = argc, force;
	char		*sv[8];

	if (argc > 8)
		return ctl_usage(c, "ip add", "too many arguments");
	for (int i = 0; i < argc; i++)
		sv[i] = argv[i];
	a.dev = ctl_opt_take(&argc, argv, "dev", &bad);
	if (bad)
		return ctl_usage(c, "ip add", "--dev needs an interface name");
	force = ctl_flag_take(&argc, argv, "force");
	if (argc == 4 && strcmp(argv[2], "dev") == 0 && a.dev == NULL)
		a.dev = argv[3], argc = 2;
	if (argc != 2)
		return ctl_usage(c, "ip add", "needs HEAD ADDRESS/PREFIX");
	a.head = argv[0];
	a.cidr = argv[1];
	if (head_named(a.head) < 0)
		return ctl_usage(c, "ip add", "'%s' is not a head", a.head);
	{
		char addr[64], e[256];
		int pfx;

		if (ctcm_check_cidr(a.cidr, addr, sizeof(addr), &pfx, e,
		    sizeof(e)) < 0)
			return ctl_usage(c, "ip add", "%s", e);
	}
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	if ((ex = ip_dev_check(c, a.head, a.cidr, a.dev, force)) != 0)
		return ex;
	return ctcm_ctl_run_txn(c, ip_edit, &a, "ip add", n, sv, 0);
}

static int
cmd_ip_rm(struct ctl_ctx *c, int argc, char **argv)
{
	struct iargs	a = { NULL, NULL, NULL, 1 };
	int		ex;

	if (argc != 1)
		return ctl_usage(c, "ip rm", "needs one ADDRESS");
	{
		char	 addr[64], *slash;
		uint8_t	 bin[16];

		snprintf(addr, sizeof(addr), "%s", argv[0]);
		if ((slash = strchr(addr, '/')) != NULL)
			*slash = 0;
		if (inet_pton(AF_INET, addr, bin) != 1 &&
		    inet_pton(AF_INET6, addr, bin) != 1)
			return ctl_usage(c, "ip rm", "'%s' is not an IP "
			    "address", argv[0]);
	}
	a.cidr = argv[0];
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	return ctcm_ctl_run_txn(c, ip_edit, &a, "ip rm", argc, argv, 0);
}

/* ---- lun ----------------------------------------------------------------- */

struct largs {
	const char	*name, *path, *mode, *data, *home;
	uint32_t	 id;
	int		 rm, format;
};

static int
lun_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	struct largs	*a = arg;
	struct cfg	*cf = xcalloc(1, sizeof(*cf));
	struct buf	 o;
	const char	*t = ctcm_bundle_text(cur, CTCM_SEC_CONF, NULL);
	int		 rv = -1;

	buf_init(&o);
	if (parse_cur(cur, cf, msg, msglen) < 0)
		goto out;
	if (a->rm)
		rv = ctcm_edit_lun_rm(cf, t, ctcm_bundle_text(cur,
		    CTCM_SEC_EXPORTS, NULL), a->name, &o, msg, msglen);
	else {
		rv = ctcm_edit_lun_add(cf, t, a->name, a->id, a->path, a->mode,
		    a->data, a->home, &o, msg, msglen);
		if (rv == 0) {
			/* format (or check) the LUN before it is committed */
			struct cfg_lun l;

			memset(&l, 0, sizeof(l));
			snprintf(l.name, sizeof(l.name), "%s", a->name);
			snprintf(l.path, sizeof(l.path), "%s", a->path);
			l.id = a->id;
			if (ctcm_array_prepare(cf, ctcm_g.self, &l, a->format,
			    msg, msglen) != 0)
				rv = -1;
		}
	}
	if (rv == 0)
		rv = replace_sec(cur, next, CTCM_SEC_CONF, &o);
out:
	buf_free(&o);
	free(cf);
	return rv;
}

static int
cmd_lun_add(struct ctl_ctx *c, int argc, char **argv)
{
	struct largs	 a;
	const char	*id, *mp, *es;
	long long	 v;
	int		 bad = 0, ex, n = argc;
	char		*sv[16];

	memset(&a, 0, sizeof(a));
	if (argc > 16)
		return ctl_usage(c, "lun add", "too many arguments");
	for (int i = 0; i < argc; i++)
		sv[i] = argv[i];
	id = ctl_opt_take(&argc, argv, "id", &bad);
	a.path = ctl_opt_take(&argc, argv, "path", &bad);
	a.mode = ctl_opt_take(&argc, argv, "mode", &bad);
	a.data = ctl_opt_take(&argc, argv, "data", &bad);
	mp = ctl_opt_take(&argc, argv, "mountpoint", &bad);
	a.home = ctl_opt_take(&argc, argv, "home", &bad);
	a.format = ctl_flag_take(&argc, argv, "format");
	if (bad)
		return ctl_usage(c, "lun add", "an option needs a value");
	if (argc != 1 || argv[0][0] == '-')
		return ctl_usage(c, "lun add", "needs one NAME");
	a.name = argv[0];
	if (id == NULL || parse_num(id, 1, 65535, &v, &es) < 0)
		return ctl_usage(c, "lun add", "--id 1-65535 is required");
	a.id = (uint32_t)v;
	/* what the arguments alone show is a usage error (64); what only
	 * the configuration shows is a refusal of the transaction (1) */
	if (a.path == NULL || a.path[0] != '/')
		return ctl_usage(c, "lun add", "--path DEV (an absolute path) "
		    "is required");
	if ((a.data == NULL) == (mp == NULL))
		return ctl_usage(c, "lun add", "give one of --data DIR and "
		    "--mountpoint DIR");
	if ((mp != NULL ? mp : a.data)[0] != '/')
		return ctl_usage(c, "lun add", "--%s '%s' must be an absolute "
		    "path", mp != NULL ? "mountpoint" : "data", mp != NULL ?
		    mp : a.data);
	if (a.mode != NULL && strcmp(a.mode, "directory") != 0 &&
	    strcmp(a.mode, "ext4") != 0)
		return ctl_usage(c, "lun add", "--mode must be directory or "
		    "ext4, not '%s'", a.mode);
	if (a.home == NULL || (ex = head_named(a.home)) < 0)
		return ctl_usage(c, "lun add", a.home == NULL ? "--home HEAD "
		    "is required" : "--home '%s' is not a head", a.home);
	if (a.mode == NULL)
		a.mode = mp ? "ext4" : "directory";
	if (mp != NULL)
		a.data = mp;
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	ex = ctcm_ctl_run_txn(c, lun_edit, &a, "lun add", n, sv, 0);
	if (ex == CTL_EX_OK)
		ctl_printf(c, "lun add: NOTE: the heads serve LUN %s after they "
		    "restart, one at a time (duonas image restart on each, or "
		    "systemctl restart duonasd): LUNs are not added live\n",
		    a.name);
	return ex;
}

static int
cmd_lun_rm(struct ctl_ctx *c, int argc, char **argv)
{
	struct largs	a;
	int		ex;

	memset(&a, 0, sizeof(a));
	if (argc != 1 || argv[0][0] == '-')
		return ctl_usage(c, "lun rm", argc == 1 ? "unexpected "
		    "option '%s'" : "needs one NAME", argv[0]);
	a.name = argv[0];
	a.rm = 1;
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	ex = ctcm_ctl_run_txn(c, lun_edit, &a, "lun rm", argc, argv, 0);
	if (ex == CTL_EX_OK)
		ctl_printf(c, "lun rm: NOTE: the heads stop using LUN %s after "
		    "they restart, one at a time: LUNs are not removed live\n",
		    a.name);
	return ex;
}

/* ---- registration ------------------------------------------------------ */

void
ctcm_ctl_register(void)
{
	ctl_register("export add", cmd_export_add);
	ctl_register("export rm", cmd_export_rm);
	ctl_register("export set", cmd_export_set);
	ctl_register("ip add", cmd_ip_add);
	ctl_register("ip rm", cmd_ip_rm);
	ctl_register("lun add", cmd_lun_add);
	ctl_register("lun rm", cmd_lun_rm);
	ctcm_ctl_show_register();
	ctcm_ctl_admin_register();
	ctcm_ctl_smb_register();
}

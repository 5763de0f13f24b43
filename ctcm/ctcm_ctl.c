/*
 * ctcm_ctl.c — the admin commands of configuration transactions:
 * `duonas export|ip|lun ...` and `duonas config ...` (man/duonas.8).
 *
 * Read-only commands work on both heads and take --json.  Changing
 * commands check their arguments, then that this head is the master
 * (else exit 2 naming the master and its address), then run one
 * transaction whose edit step does the change on the current text; any
 * problem is reported before anything is written.  Handlers run on ctl
 * worker threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"

/* ---- helpers ---------------------------------------------------------- */

static void
snap_cfg(struct cfg *c, int *self)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	*c = ctcm_g.cfg;
	*self = ctcm_g.self;
	pthread_mutex_unlock(&ctcm_g.mtx);
}

static void
head_addr(const struct cfg_head *h, char *s, size_t n)
{
	char *colon;

	if (h->nvips > 0) {
		snprintf(s, n, "%s", h->vips[0].addr);
		return;
	}
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
	snprintf(s, n, "address unknown");
}

/* 0 when this head may change the configuration, else an exit code. */
static int
need_master(struct ctl_ctx *c)
{
	struct cfg	*cf = xmalloc(sizeof(*cf));
	char		 addr[96];
	int		 self, peer;

	if (ctcm_monitor()) {
		ctl_printf(c, "duonas: this head has no valid configuration "
		    "(MONITOR): only status, config show and config import "
		    "work here\n");
		free(cf);
		return CTL_EX_FAIL;
	}
	if (ctcm_is_master()) {
		free(cf);
		return 0;
	}
	snap_cfg(cf, &self);
	peer = 1 - self;
	head_addr(&cf->heads[peer], addr, sizeof(addr));
	ctl_printf(c, "duonas: this head (%s) is the slave; run this on the "
	    "master (%s, %s)\n", cf->heads[self].name, cf->heads[peer].name,
	    addr);
	free(cf);
	return CTL_EX_NOTMASTER;
}

static void
author_of(char *s, size_t n)
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

static int
run_txn(struct ctl_ctx *c, ctcm_edit_fn fn, void *arg, const char *cmd,
    int argc, char **argv, int flags)
{
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	char			 author[CTCM_AUTHOR_MAX];
	char			 summary[CTCM_SUMMARY_MAX];
	int			 rc, ex;

	author_of(author, sizeof(author));
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

static int
parse_gen(const char *s, uint64_t *g)
{
	long long	 v;
	const char	*es;

	if (parse_num(s, 1, INT64_MAX, &v, &es) < 0)
		return -1;
	*g = (uint64_t)v;
	return 0;
}

/* ---- export ----------------------------------------------------------- */

struct eargs {
	const char	*key;
	uint32_t	 id;
	const char	*clients;
	const char	*options;
	int		 op;		/* 0 add, 1 rm, 2 set */
};

static int
export_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct eargs	*a = arg;
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

static int
export_change(struct ctl_ctx *c, int argc, char **argv, int op)
{
	static const char *const names[] = { "export add", "export rm",
	    "export set" };
	struct eargs	 a;
	int		 bad = 0, ex, n = argc;
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
	if ((ex = need_master(c)) != 0)
		return ex;
	return run_txn(c, export_edit, &a, names[op], n, sv, 0);
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

static int
cmd_export_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	 b;
	struct ctcm_export	*v = NULL;
	char			 err[512];
	int			 n, rc;

	if (argc != 0)
		return ctl_usage(c, "export ls", "unexpected argument '%s'",
		    argv[0]);
	if ((rc = ctcm_current(&b)) != 0) {
		ctl_printf(c, "duonas export ls: %s\n", ctcm_strerror(rc));
		return CTL_EX_FAIL;
	}
	if (ctcm_exports_parse(ctcm_bundle_text(&b, CTCM_SEC_EXPORTS, NULL),
	    &v, &n, err, sizeof(err)) < 0) {
		ctl_printf(c, "duonas export ls: %s\n", err);
		ctcm_bundle_free(&b);
		return CTL_EX_FAIL;
	}
	if (c->json) {
		ctl_printf(c, "{\"generation\":%llu,\"exports\":[",
		    (unsigned long long)b.gen);
		for (int i = 0; i < n; i++) {
			ctl_printf(c, "%s{\"path\":", i ? "," : "");
			buf_add_json_str(&c->out, v[i].path);
			ctl_printf(c, ",\"id\":%u,\"options\":", v[i].id);
			buf_add_json_str(&c->out, v[i].options);
			ctl_printf(c, ",\"clients\":");
			buf_add_json_str(&c->out, v[i].clients);
			ctl_printf(c, "}");
		}
		ctl_printf(c, "]}\n");
	} else {
		ctl_printf(c, "%-6s %-32s %-20s %s\n", "ID", "PATH", "OPTIONS",
		    "CLIENTS");
		for (int i = 0; i < n; i++)
			ctl_printf(c, "%-6u %-32s %-20s %s\n", v[i].id,
			    v[i].path, v[i].options[0] ? v[i].options : "-",
			    v[i].clients);
	}
	free(v);
	ctcm_bundle_free(&b);
	return CTL_EX_OK;
}

/* ---- ip ----------------------------------------------------------------- */

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
	int		 bad = 0, ex, n = argc;
	char		*sv[8];

	if (argc > 8)
		return ctl_usage(c, "ip add", "too many arguments");
	for (int i = 0; i < argc; i++)
		sv[i] = argv[i];
	a.dev = ctl_opt_take(&argc, argv, "dev", &bad);
	if (bad)
		return ctl_usage(c, "ip add", "--dev needs an interface name");
	if (argc == 4 && strcmp(argv[2], "dev") == 0 && a.dev == NULL)
		a.dev = argv[3], argc = 2;
	if (argc != 2)
		return ctl_usage(c, "ip add", "needs HEAD ADDRESS/PREFIX");
	a.head = argv[0];
	a.cidr = argv[1];
	{
		char addr[64], e[256];
		int pfx;

		if (ctcm_check_cidr(a.cidr, addr, sizeof(addr), &pfx, e,
		    sizeof(e)) < 0) {
			ctl_printf(c, "duonas ip add: %s\n", e);
			return CTL_EX_USAGE;
		}
	}
	if ((ex = need_master(c)) != 0)
		return ex;
	return run_txn(c, ip_edit, &a, "ip add", n, sv, 0);
}

static int
cmd_ip_rm(struct ctl_ctx *c, int argc, char **argv)
{
	struct iargs	a = { NULL, NULL, NULL, 1 };
	int		ex;

	if (argc != 1)
		return ctl_usage(c, "ip rm", "needs one ADDRESS");
	a.cidr = argv[0];
	if ((ex = need_master(c)) != 0)
		return ex;
	return run_txn(c, ip_edit, &a, "ip rm", argc, argv, 0);
}

static int
cmd_ip_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct cfg	*cf = xmalloc(sizeof(*cf));
	int		 self, k = 0;

	if (argc != 0) {
		free(cf);
		return ctl_usage(c, "ip ls", "unexpected argument '%s'",
		    argv[0]);
	}
	snap_cfg(cf, &self);
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-8s %-40s %s\n", "HEAD", "ADDRESS", "DEV");
	for (int h = 0; h < cf->nheads; h++)
		for (int i = 0; i < cf->heads[h].nvips; i++) {
			const struct cfg_vip *v = &cf->heads[h].vips[i];

			if (c->json) {
				ctl_printf(c, "%s{\"head\":", k++ ? "," : "");
				buf_add_json_str(&c->out, cf->heads[h].name);
				ctl_printf(c, ",\"address\":\"%s/%d\",\"dev\":",
				    v->addr, v->prefix);
				buf_add_json_str(&c->out, v->dev);
				ctl_printf(c, "}");
			} else
				ctl_printf(c, "%-8s %s/%-*d %s\n",
				    cf->heads[h].name, v->addr,
				    (int)(39 - strlen(v->addr)), v->prefix,
				    v->dev);
		}
	if (c->json)
		ctl_printf(c, "]\n");
	free(cf);
	return CTL_EX_OK;
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
	if (a.mode == NULL)
		a.mode = mp ? "ext4" : "directory";
	if (mp != NULL)
		a.data = mp;
	if ((ex = need_master(c)) != 0)
		return ex;
	return run_txn(c, lun_edit, &a, "lun add", n, sv, 0);
}

static int
cmd_lun_rm(struct ctl_ctx *c, int argc, char **argv)
{
	struct largs	a;
	int		ex;

	memset(&a, 0, sizeof(a));
	if (argc != 1)
		return ctl_usage(c, "lun rm", "needs one NAME");
	a.name = argv[0];
	a.rm = 1;
	if ((ex = need_master(c)) != 0)
		return ex;
	return run_txn(c, lun_edit, &a, "lun rm", argc, argv, 0);
}

static int
cmd_lun_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct cfg	*cf = xmalloc(sizeof(*cf));
	int		 self, set;

	if (argc != 0) {
		free(cf);
		return ctl_usage(c, "lun ls", "unexpected argument '%s'",
		    argv[0]);
	}
	snap_cfg(cf, &self);
	set = ctcm_array_setsize(cf, ctcm_g.nreplicas);
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-12s %-6s %-9s %-8s %-7s %s\n", "NAME", "ID",
		    "MODE", "HOME", "REPLICA", "PATH / DATA");
	for (int i = 0; i < cf->nluns; i++) {
		const struct cfg_lun *l = &cf->luns[i];
		const char *d = l->mode == CFG_LUN_EXT4 ? l->mountpoint :
		    l->data;

		if (c->json) {
			ctl_printf(c, "%s{\"name\":", i ? "," : "");
			buf_add_json_str(&c->out, l->name);
			ctl_printf(c, ",\"id\":%u,\"mode\":\"%s\",\"home\":",
			    l->id, l->mode == CFG_LUN_EXT4 ? "ext4" :
			    "directory");
			buf_add_json_str(&c->out, cf->heads[l->home].name);
			ctl_printf(c, ",\"replica\":%s,\"path\":",
			    i < set ? "true" : "false");
			buf_add_json_str(&c->out, l->path);
			ctl_printf(c, ",\"data\":");
			buf_add_json_str(&c->out, d);
			ctl_printf(c, "}");
		} else
			ctl_printf(c, "%-12s %-6u %-9s %-8s %-7s %s  %s\n",
			    l->name, l->id, l->mode == CFG_LUN_EXT4 ? "ext4" :
			    "directory", cf->heads[l->home].name,
			    i < set ? "yes" : "no", l->path, d);
	}
	if (c->json)
		ctl_printf(c, "]\n");
	free(cf);
	return CTL_EX_OK;
}

/* ---- config show / history / diff / export ----------------------------- */

static void
json_rep(struct ctl_ctx *c, const struct ctcm_replica *r, int n)
{
	ctl_printf(c, "[");
	for (int i = 0; i < n; i++) {
		ctl_printf(c, "%s{\"lun\":", i ? "," : "");
		buf_add_json_str(&c->out, r[i].lun);
		ctl_printf(c, ",\"path\":");
		buf_add_json_str(&c->out, r[i].path);
		ctl_printf(c, ",\"in_set\":%s,\"valid\":%s,\"generation\":"
		    "%llu,\"checksum\":\"%08x\",\"error\":",
		    r[i].in_set ? "true" : "false",
		    r[i].rc == 0 ? "true" : "false",
		    (unsigned long long)r[i].gen, r[i].content_crc);
		buf_add_json_str(&c->out, r[i].rc ? ctcm_strerror(r[i].rc) :
		    "");
		ctl_printf(c, "}");
	}
	ctl_printf(c, "]");
}

static int
cmd_config_show(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_replica	*rep = xcalloc(CFG_MAX_LUNS, sizeof(*rep));
	struct ctcm_bundle	*img = NULL, b;
	struct cfg		*cf = xmalloc(sizeof(*cf));
	int			 self, nimg = 0, have, monitor, peer_known;
	uint64_t		 peer_gen, commits;
	char			 why[512];

	if (argc != 0) {
		free(rep);
		free(cf);
		return ctl_usage(c, "config show", "unexpected argument '%s'",
		    argv[0]);
	}
	snap_cfg(cf, &self);
	pthread_mutex_lock(&ctcm_g.txn);	/* not during a commit */
	ctcm_array_read(cf, self, ctcm_g.nreplicas, rep, &img, &nimg);
	pthread_mutex_unlock(&ctcm_g.txn);
	ctcm_bundles_free(img, nimg);
	pthread_mutex_lock(&ctcm_g.mtx);
	monitor = ctcm_g.monitor;
	peer_known = ctcm_g.peer_known;
	peer_gen = ctcm_g.peer_gen;
	commits = ctcm_g.commits;
	snprintf(why, sizeof(why), "%s", ctcm_g.why);
	pthread_mutex_unlock(&ctcm_g.mtx);
	have = !monitor && ctcm_current(&b) == 0;
	if (c->json) {
		ctl_printf(c, "{\"monitor\":%s,\"why\":", monitor ? "true" :
		    "false");
		buf_add_json_str(&c->out, why);
		if (have) {
			ctl_printf(c, ",\"generation\":%llu,\"checksum\":"
			    "\"%08x\",\"time_ms\":%llu,\"author\":",
			    (unsigned long long)b.gen, b.content_crc,
			    (unsigned long long)b.time_ms);
			buf_add_json_str(&c->out, b.author);
			ctl_printf(c, ",\"summary\":");
			buf_add_json_str(&c->out, b.summary);
		}
		ctl_printf(c, ",\"commits\":%llu,\"peer_generation\":",
		    (unsigned long long)commits);
		if (peer_known)
			ctl_printf(c, "%llu", (unsigned long long)peer_gen);
		else
			ctl_printf(c, "null");
		ctl_printf(c, ",\"replicas\":");
		json_rep(c, rep, cf->nluns);
		if (have) {
			ctl_printf(c, ",\"files\":{\"duonas.conf\":");
			buf_add_json_str(&c->out, ctcm_bundle_text(&b,
			    CTCM_SEC_CONF, NULL));
			ctl_printf(c, ",\"exports\":");
			buf_add_json_str(&c->out, ctcm_bundle_text(&b,
			    CTCM_SEC_EXPORTS, NULL));
			ctl_printf(c, "}");
		}
		ctl_printf(c, "}\n");
	} else {
		if (monitor)
			ctl_printf(c, "state:       MONITOR: %s\n", why);
		if (have)
			ctl_printf(c, "generation:  %llu (checksum %08x)\n"
			    "committed:   %llu ms since epoch by %s\n"
			    "summary:     %s\n", (unsigned long long)b.gen,
			    b.content_crc, (unsigned long long)b.time_ms,
			    b.author, b.summary);
		if (peer_known)
			ctl_printf(c, "peer:        generation %llu%s\n",
			    (unsigned long long)peer_gen, have &&
			    peer_gen != b.gen ? " (differs)" : "");
		else
			ctl_printf(c, "peer:        generation unknown\n");
		if (cf->nluns == 0)
			ctl_printf(c, "replicas:    none (no LUN configured: "
			    "the configuration lives on the heads only)\n");
		for (int i = 0; i < cf->nluns; i++) {
			if (rep[i].rc == 0)
				ctl_printf(c, "replica:     LUN %s%s: "
				    "generation %llu\n", rep[i].lun,
				    rep[i].in_set ? "" : " (not in the set)",
				    (unsigned long long)rep[i].gen);
			else
				ctl_printf(c, "replica:     LUN %s%s: %s\n",
				    rep[i].lun, rep[i].in_set ? "" :
				    " (not in the set)",
				    ctcm_strerror(rep[i].rc));
		}
		if (have) {
			struct buf o;

			buf_init(&o);
			ctcm_text_export(&b, &o);
			ctl_printf(c, "\n%s", (char *)o.data);
			buf_free(&o);
		}
	}
	if (have)
		ctcm_bundle_free(&b);
	free(rep);
	free(cf);
	return CTL_EX_OK;
}

static int
cmd_config_history(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	gens[CTCM_HISTORY_LOCAL], cur;
	int		n;

	if (argc != 0)
		return ctl_usage(c, "config history", "unexpected argument "
		    "'%s'", argv[0]);
	pthread_mutex_lock(&ctcm_g.mtx);
	cur = ctcm_g.gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	n = ctcm_local_list(&ctcm_g.local, gens, CTCM_HISTORY_LOCAL);
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-4s %-10s %-15s %-16s %s\n", "", "GENERATION",
		    "TIME (ms)", "AUTHOR", "SUMMARY");
	for (int i = 0, k = 0; i < n; i++) {
		struct ctcm_bundle b;

		if (ctcm_local_load(&ctcm_g.local, gens[i], &b) != 0)
			continue;
		if (c->json) {
			ctl_printf(c, "%s{\"generation\":%llu,\"time_ms\":%llu,"
			    "\"checksum\":\"%08x\",\"current\":%s,\"author\":",
			    k++ ? "," : "", (unsigned long long)b.gen,
			    (unsigned long long)b.time_ms, b.content_crc,
			    b.gen == cur ? "true" : "false");
			buf_add_json_str(&c->out, b.author);
			ctl_printf(c, ",\"summary\":");
			buf_add_json_str(&c->out, b.summary);
			ctl_printf(c, "}");
		} else
			ctl_printf(c, "%-4s %-10llu %-15llu %-16s %s\n",
			    b.gen == cur ? "*" : "", (unsigned long long)b.gen,
			    (unsigned long long)b.time_ms, b.author,
			    b.summary);
		ctcm_bundle_free(&b);
	}
	if (c->json)
		ctl_printf(c, "]\n");
	return CTL_EX_OK;
}

static int
load_gen(struct ctl_ctx *c, const char *cmd, const char *s,
    struct ctcm_bundle *b)
{
	uint64_t	g;
	int		rc;

	if (parse_gen(s, &g) < 0)
		return ctl_usage(c, cmd, "'%s' is not a generation number", s);
	if ((rc = ctcm_local_load(&ctcm_g.local, g, b)) != 0) {
		ctl_printf(c, "duonas %s: generation %llu: %s (duonas config "
		    "history lists those kept)\n", cmd, (unsigned long long)g,
		    ctcm_strerror(rc));
		return CTL_EX_FAIL;
	}
	return 0;
}

static int
cmd_config_diff(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	a, b;
	int			rc;
	static const uint16_t	kinds[] = { CTCM_SEC_CONF, CTCM_SEC_EXPORTS };

	if (argc < 1 || argc > 2)
		return ctl_usage(c, "config diff", "needs G1 [G2]");
	if ((rc = load_gen(c, "config diff", argv[0], &a)) != 0)
		return rc;
	if (argc == 2)
		rc = load_gen(c, "config diff", argv[1], &b);
	else if ((rc = ctcm_current(&b)) != 0) {
		ctl_printf(c, "duonas config diff: %s\n", ctcm_strerror(rc));
		rc = CTL_EX_FAIL;
	}
	if (rc != 0) {
		ctcm_bundle_free(&a);
		return rc;
	}
	if (c->json)
		ctl_printf(c, "{\"from\":%llu,\"to\":%llu,\"files\":[",
		    (unsigned long long)a.gen, (unsigned long long)b.gen);
	for (size_t k = 0; k < nitems(kinds); k++) {
		size_t		 al, bl;
		const char	*at = ctcm_bundle_text(&a, kinds[k], &al);
		const char	*bt = ctcm_bundle_text(&b, kinds[k], &bl);
		struct buf	 o;
		int		 ch;
		const char	*name = kinds[k] == CTCM_SEC_CONF ?
				    "duonas.conf" : "exports";

		buf_init(&o);
		ch = ctcm_diff(at, al, bt, bl, &o);
		if (c->json) {
			ctl_printf(c, "%s{\"name\":\"%s\",\"changed\":%d,"
			    "\"diff\":", k ? "," : "", name, ch);
			buf_add_json_str(&c->out, ch ? (char *)o.data : "");
			ctl_printf(c, "}");
		} else if (ch) {
			ctl_printf(c, "--- %s generation %llu\n+++ %s "
			    "generation %llu\n%s", name,
			    (unsigned long long)a.gen, name,
			    (unsigned long long)b.gen, (char *)o.data);
		}
		buf_free(&o);
	}
	if (c->json)
		ctl_printf(c, "]}\n");
	ctcm_bundle_free(&a);
	ctcm_bundle_free(&b);
	return CTL_EX_OK;
}

static int
cmd_config_export(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	struct buf		o;
	int			rc, ex = CTL_EX_OK;

	if (argc > 1)
		return ctl_usage(c, "config export", "at most one FILE");
	if (argc == 1 && argv[0][0] != '/')
		return ctl_usage(c, "config export", "FILE must be an "
		    "absolute path (the daemon writes it)");
	if ((rc = ctcm_current(&b)) != 0) {
		ctl_printf(c, "duonas config export: %s\n", ctcm_strerror(rc));
		return CTL_EX_FAIL;
	}
	buf_init(&o);
	ctcm_text_export(&b, &o);
	if (argc == 1) {
		if (file_write_atomic(argv[0], o.data, o.len, 0600) < 0) {
			ctl_printf(c, "duonas config export: %s: %s\n",
			    argv[0], strerror(errno));
			ex = CTL_EX_FAIL;
		} else if (!c->json)
			ctl_printf(c, "generation %llu written to %s\n",
			    (unsigned long long)b.gen, argv[0]);
	}
	if (c->json) {
		ctl_printf(c, "{\"generation\":%llu,\"checksum\":\"%08x\","
		    "\"files\":{\"duonas.conf\":", (unsigned long long)b.gen,
		    b.content_crc);
		buf_add_json_str(&c->out, ctcm_bundle_text(&b, CTCM_SEC_CONF,
		    NULL));
		ctl_printf(c, ",\"exports\":");
		buf_add_json_str(&c->out, ctcm_bundle_text(&b,
		    CTCM_SEC_EXPORTS, NULL));
		ctl_printf(c, "}}\n");
	} else if (argc == 0)
		ctl_printf(c, "%s", (char *)o.data);
	buf_free(&o);
	ctcm_bundle_free(&b);
	return ex;
}

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

static int
cmd_config_rollback(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	char			summary[64];
	int			rc, ex;

	if (argc != 1)
		return ctl_usage(c, "config rollback", "needs one GENERATION");
	if ((rc = load_gen(c, "config rollback", argv[0], &b)) != 0)
		return rc;
	if ((ex = need_master(c)) != 0) {
		ctcm_bundle_free(&b);
		return ex;
	}
	snprintf(summary, sizeof(summary), "to %llu",
	    (unsigned long long)b.gen);
	{
		char *sv[1] = { summary };
		ex = run_txn(c, copy_edit, &b, "config rollback", 1, sv, 0);
	}
	ctcm_bundle_free(&b);
	return ex;
}

static void *
reexec_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);	/* let the admin reply go out first */
	ctcm_reexec();
	return NULL;
}

static int
cmd_config_import(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	uint8_t			*d = NULL;
	size_t			 len;
	char			 err[512];
	int			 ex, monitor;

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
	if (!monitor && (ex = need_master(c)) != 0) {
		ctcm_bundle_free(&b);
		return ex;
	}
	ex = run_txn(c, copy_edit, &b, "config import", argc, argv,
	    CTCM_TXN_MONITOR_OK);
	ctcm_bundle_free(&b);
	if (ex == CTL_EX_OK && monitor) {
		pthread_t t;

		ctl_printf(c, "restarting duonasd with the imported "
		    "configuration\n");
		if (pthread_create(&t, NULL, reexec_later, NULL) == 0)
			pthread_detach(t);
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
	struct eargs		 e;
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
	rv = export_edit(cur, next, &e, msg, msglen);
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
	if ((ex = need_master(c)) != 0) {
		free(res);
		return ex;
	}
	author_of(author, sizeof(author));
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

/* ---- status ---------------------------------------------------------------- */

void
ctcm_status_text(struct buf *o)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.monitor)
		buf_printf(o, "config:      MONITOR (administration only): "
		    "%s\n", ctcm_g.why);
	else if (ctcm_g.peer_known)
		buf_printf(o, "config:      generation %llu (checksum %08x), "
		    "%llu commits, peer at generation %llu\n",
		    (unsigned long long)ctcm_g.gen, ctcm_g.crc,
		    (unsigned long long)ctcm_g.commits,
		    (unsigned long long)ctcm_g.peer_gen);
	else
		buf_printf(o, "config:      generation %llu (checksum %08x), "
		    "%llu commits, peer generation unknown\n",
		    (unsigned long long)ctcm_g.gen, ctcm_g.crc,
		    (unsigned long long)ctcm_g.commits);
	pthread_mutex_unlock(&ctcm_g.mtx);
}

void
ctcm_status_json(struct buf *o)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	buf_printf(o, ",\"config\":{\"monitor\":%s,\"generation\":%llu,"
	    "\"checksum\":\"%08x\",\"commits\":%llu,\"aborts\":%llu,"
	    "\"restores\":%llu,\"push_failures\":%llu,\"repair_pending\":%s,"
	    "\"why\":", ctcm_g.monitor ? "true" : "false",
	    (unsigned long long)ctcm_g.gen, ctcm_g.crc,
	    (unsigned long long)ctcm_g.commits,
	    (unsigned long long)ctcm_g.aborts,
	    (unsigned long long)ctcm_g.restores,
	    (unsigned long long)ctcm_g.push_fail,
	    ctcm_g.repair ? "true" : "false");
	buf_add_json_str(o, ctcm_g.why);
	if (ctcm_g.peer_known)
		buf_printf(o, ",\"peer_generation\":%llu}",
		    (unsigned long long)ctcm_g.peer_gen);
	else
		buf_printf(o, ",\"peer_generation\":null}");
	pthread_mutex_unlock(&ctcm_g.mtx);
}

void
ctcm_ctl_register(void)
{
	ctl_register("export ls", cmd_export_ls);
	ctl_register("export add", cmd_export_add);
	ctl_register("export rm", cmd_export_rm);
	ctl_register("export set", cmd_export_set);
	ctl_register("ip ls", cmd_ip_ls);
	ctl_register("ip add", cmd_ip_add);
	ctl_register("ip rm", cmd_ip_rm);
	ctl_register("lun ls", cmd_lun_ls);
	ctl_register("lun add", cmd_lun_add);
	ctl_register("lun rm", cmd_lun_rm);
	ctl_register("config show", cmd_config_show);
	ctl_register("config history", cmd_config_history);
	ctl_register("config diff", cmd_config_diff);
	ctl_register("config export", cmd_config_export);
	ctl_register("config rollback", cmd_config_rollback);
	ctl_register("config import", cmd_config_import);
	ctl_register("config fault", cmd_config_fault);
	ctl_register("config bench", cmd_config_bench);
}

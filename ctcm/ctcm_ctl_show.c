/*
 * ctcm_ctl_show.c — the read-only admin commands of configuration
 * transactions, on both heads, with --json: `duonas export ls`, `ip ls`,
 * `lun ls`, `config show|history|diff|export`, and the `config:` lines
 * of `duonas status` (man/duonas.8, docs/ctcm.md "Admin commands").
 *
 * They show the committed configuration this head knows (which may be
 * ahead of its local files while an install is pending: config show and
 * status say so), the local copy, the peer and every replica.  Nothing
 * here writes; config show reads the replicas under the transaction lock
 * so it never sees a commit half done.
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
#include "ha/ha.h"
#include "smb/smb_users.h"

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

/* Where the LUNs and service IPs are now (ip ls, lun ls): this head
 * knows what it serves and where each one is placed. */
struct where_snap {
	const struct cfg	*cf;
	int			 self;
	int			 lun_on[CFG_MAX_LUNS], lun_here[CFG_MAX_LUNS];
	int			 ip_on[2][CFG_MAX_VIPS], ip_here[2][CFG_MAX_VIPS];
};

static void
where_on_loop(void *arg)
{
	struct where_snap *w = arg;

	for (int i = 0; i < w->cf->nluns; i++) {
		w->lun_on[i] = ha_lun_where(i);
		w->lun_here[i] = ha_lun_here(i);
	}
	for (int h = 0; h < w->cf->nheads; h++)
		for (int i = 0; i < w->cf->heads[h].nvips; i++)
			w->ip_on[h][i] = ha_ip_where(w->cf->heads[h].vips[i].addr,
			    &w->ip_here[h][i]);
}

/* "A" (served here), "B" (placed on the peer), "-" (nowhere now). */
static const char *
where_name(const struct where_snap *w, int on, int here)
{
	if (here)
		return w->cf->heads[w->self].name;
	if (on >= 0 && on != w->self)
		return w->cf->heads[on].name;
	return "-";
}

static int
cmd_ip_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct cfg		*cf = xmalloc(sizeof(*cf));
	struct where_snap	*w;
	int			 self, k = 0;

	if (argc != 0) {
		free(cf);
		return ctl_usage(c, "ip ls", "unexpected argument '%s'",
		    argv[0]);
	}
	ctcm_ctl_snap_cfg(cf, &self);
	w = xcalloc(1, sizeof(*w));
	w->cf = cf;
	w->self = self;
	ctcm_run_on_loop(where_on_loop, w);
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-8s %-40s %-10s %s\n", "HEAD", "ADDRESS", "DEV",
		    "NOW ON");
	for (int h = 0; h < cf->nheads; h++)
		for (int i = 0; i < cf->heads[h].nvips; i++) {
			const struct cfg_vip *v = &cf->heads[h].vips[i];

			if (c->json) {
				ctl_printf(c, "%s{\"head\":", k++ ? "," : "");
				buf_add_json_str(&c->out, cf->heads[h].name);
				ctl_printf(c, ",\"address\":\"%s/%d\",\"dev\":",
				    v->addr, v->prefix);
				buf_add_json_str(&c->out, v->dev);
				ctl_printf(c, ",\"now\":");
				buf_add_json_str(&c->out, where_name(w,
				    w->ip_on[h][i], w->ip_here[h][i]));
				ctl_printf(c, "}");
			} else
				ctl_printf(c, "%-8s %s/%-*d %-10s %s\n",
				    cf->heads[h].name, v->addr,
				    (int)(39 - strlen(v->addr)), v->prefix,
				    v->dev, where_name(w, w->ip_on[h][i],
				    w->ip_here[h][i]));
		}
	if (c->json)
		ctl_printf(c, "]\n");
	free(w);
	free(cf);
	return CTL_EX_OK;
}

static int
cmd_lun_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct cfg		*cf = xmalloc(sizeof(*cf));
	struct where_snap	*w;
	int			 self, set;

	if (argc != 0) {
		free(cf);
		return ctl_usage(c, "lun ls", "unexpected argument '%s'",
		    argv[0]);
	}
	ctcm_ctl_snap_cfg(cf, &self);
	set = ctcm_array_setsize(cf, ctcm_g.nreplicas);
	w = xcalloc(1, sizeof(*w));
	w->cf = cf;
	w->self = self;
	ctcm_run_on_loop(where_on_loop, w);
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-12s %-6s %-9s %-8s %-7s %-7s %s\n", "NAME",
		    "ID", "MODE", "HOME", "NOW ON", "REPLICA", "PATH / DATA");
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
			ctl_printf(c, ",\"now\":");
			buf_add_json_str(&c->out, where_name(w, w->lun_on[i],
			    w->lun_here[i]));
			ctl_printf(c, "}");
		} else
			ctl_printf(c, "%-12s %-6u %-9s %-8s %-7s %-7s %s  %s\n",
			    l->name, l->id, l->mode == CFG_LUN_EXT4 ? "ext4" :
			    "directory", cf->heads[l->home].name,
			    where_name(w, w->lun_on[i], w->lun_here[i]),
			    i < set ? "yes" : "no", l->path, d);
	}
	if (c->json)
		ctl_printf(c, "]\n");
	free(w);
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
		    "%llu,\"checksum\":\"%08x\",\"epoch\":%llu,"
		    "\"value_epoch\":%llu,\"error\":",
		    r[i].in_set ? "true" : "false",
		    r[i].rc == 0 ? "true" : "false",
		    (unsigned long long)r[i].gen, r[i].content_crc,
		    (unsigned long long)r[i].epoch,
		    (unsigned long long)r[i].vepoch);
		buf_add_json_str(&c->out, r[i].rc ? ctcm_strerror(r[i].rc) :
		    "");
		ctl_printf(c, "}");
	}
	ctl_printf(c, "]");
}

/* What config show and status print, taken under ctcm_g.mtx. */
struct snap {
	int		monitor, peer_known, installing, master;
	uint64_t	gen, vepoch, epoch, inst_gen, peer_gen, peer_inst;
	uint64_t	commits;
	const char	*sync;
	char		why[512], inst_err[512];
};

static void
snap_take(struct snap *s)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	s->monitor = ctcm_g.monitor;
	s->gen = ctcm_g.gen;
	s->vepoch = ctcm_g.vepoch;
	s->epoch = ctcm_g.epoch;
	s->master = ctcm_g.opmode == HA_OPMODE_MASTER;
	s->inst_gen = ctcm_g.inst_gen;
	s->installing = ctcm_g.gen != 0 && (ctcm_g.inst_gen != ctcm_g.gen ||
	    ctcm_g.inst_crc != ctcm_g.crc);
	s->peer_known = ctcm_g.peer_known;
	s->peer_gen = ctcm_g.peer_gen;
	s->peer_inst = ctcm_g.peer_inst;
	s->commits = ctcm_g.commits;
	s->sync = ctcm_sync_state();
	snprintf(s->why, sizeof(s->why), "%s", ctcm_g.why);
	snprintf(s->inst_err, sizeof(s->inst_err), "%s", ctcm_g.inst_err);
	pthread_mutex_unlock(&ctcm_g.mtx);
}

static void
show_json(struct ctl_ctx *c, const struct snap *s, const struct ctcm_bundle *b,
    const struct ctcm_replica *rep, int nluns)
{
	ctl_printf(c, "{\"monitor\":%s,\"why\":", s->monitor ? "true" :
	    "false");
	buf_add_json_str(&c->out, s->why);
	if (b != NULL) {
		ctl_printf(c, ",\"generation\":%llu,\"checksum\":\"%08x\","
		    "\"epoch\":%llu,\"time_ms\":%llu,\"author\":",
		    (unsigned long long)b->gen, b->content_crc,
		    (unsigned long long)b->vepoch,
		    (unsigned long long)b->time_ms);
		buf_add_json_str(&c->out, b->author);
		ctl_printf(c, ",\"summary\":");
		buf_add_json_str(&c->out, b->summary);
	}
	ctl_printf(c, ",\"master_epoch\":%llu,\"sync\":\"%s\",\"local\":"
	    "{\"generation\":%llu,\"state\":\"%s\",\"error\":",
	    (unsigned long long)(s->master ? s->epoch : 0), s->sync,
	    (unsigned long long)s->inst_gen, s->installing ? "installing" :
	    "installed");
	buf_add_json_str(&c->out, s->installing ? s->inst_err : "");
	ctl_printf(c, "},\"commits\":%llu,\"peer_generation\":",
	    (unsigned long long)s->commits);
	if (s->peer_known)
		ctl_printf(c, "%llu,\"peer_installed\":%llu",
		    (unsigned long long)s->peer_gen,
		    (unsigned long long)s->peer_inst);
	else
		ctl_printf(c, "null,\"peer_installed\":null");
	ctl_printf(c, ",\"replicas\":");
	json_rep(c, rep, nluns);
	if (b != NULL) {
		ctl_printf(c, ",\"files\":{\"duonas.conf\":");
		buf_add_json_str(&c->out, ctcm_bundle_text(b, CTCM_SEC_CONF,
		    NULL));
		ctl_printf(c, ",\"exports\":");
		buf_add_json_str(&c->out, ctcm_bundle_text(b,
		    CTCM_SEC_EXPORTS, NULL));
		/* password hashes never leave through show: a count */
		ctl_printf(c, "},\"smb_users\":%d", ctcm_smb_users_count(b));
	}
	ctl_printf(c, "}\n");
}

static void
show_text(struct ctl_ctx *c, const struct snap *s, const struct ctcm_bundle *b,
    const struct ctcm_replica *rep, int nluns)
{
	if (s->monitor)
		ctl_printf(c, "state:       MONITOR: %s\n"
		    "way out:     duonas config import FILE (on this head)\n",
		    s->why);
	if (b != NULL) {
		char		when[64], ago[32];
		uint64_t	now = wall_ms();

		ctl_printf(c, "generation:  %llu (checksum %08x, epoch %llu)\n"
		    "committed:   %s (%s ago) by %s\n"
		    "summary:     %s\n", (unsigned long long)b->gen,
		    b->content_crc, (unsigned long long)b->vepoch,
		    fmt_date_ms(when, sizeof(when), b->time_ms, 0),
		    fmt_dur_ms(ago, sizeof(ago), now > b->time_ms ?
		    now - b->time_ms : 0), b->author, b->summary);
	}
	if (b != NULL && s->installing)
		ctl_printf(c, "local:       generation %llu; installing %llu "
		    "(%s), retrying\n", (unsigned long long)s->inst_gen,
		    (unsigned long long)s->gen, s->inst_err[0] ? s->inst_err :
		    "pending");
	else if (b != NULL)
		ctl_printf(c, "local:       generation %llu installed\n",
		    (unsigned long long)s->inst_gen);
	if (s->master)
		ctl_printf(c, "master:      epoch %llu (%s)\n",
		    (unsigned long long)s->epoch, s->sync);
	if (s->peer_known)
		ctl_printf(c, "peer:        generation %llu, installed %llu%s\n",
		    (unsigned long long)s->peer_gen,
		    (unsigned long long)s->peer_inst, b != NULL &&
		    s->peer_gen != b->gen ? " (differs)" : "");
	else
		ctl_printf(c, "peer:        generation unknown\n");
	if (nluns == 0)
		ctl_printf(c, "replicas:    none (no LUN configured: the "
		    "configuration lives on the heads only)\n");
	for (int i = 0; i < nluns; i++) {
		if (rep[i].rc == 0)
			ctl_printf(c, "replica:     LUN %s%s: generation %llu "
			    "(epoch %llu, written in %llu)\n", rep[i].lun,
			    rep[i].in_set ? "" : " (not in the set)",
			    (unsigned long long)rep[i].gen,
			    (unsigned long long)rep[i].vepoch,
			    (unsigned long long)rep[i].epoch);
		else
			ctl_printf(c, "replica:     LUN %s%s: %s\n", rep[i].lun,
			    rep[i].in_set ? "" : " (not in the set)",
			    ctcm_strerror(rep[i].rc));
	}
	if (b != NULL) {
		struct buf o;

		buf_init(&o);
		ctcm_text_export(b, &o);
		ctl_printf(c, "\n%s", (char *)o.data);
		buf_free(&o);
	}
}

static int
cmd_config_show(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_replica	*rep;
	struct ctcm_bundle	*img = NULL, b;
	struct cfg		*cf;
	struct snap		 s;
	int			 self, nimg = 0, have;

	if (argc != 0)
		return ctl_usage(c, "config show", "unexpected argument '%s'",
		    argv[0]);
	rep = xcalloc(CFG_MAX_LUNS, sizeof(*rep));
	cf = xmalloc(sizeof(*cf));
	ctcm_ctl_snap_cfg(cf, &self);
	pthread_mutex_lock(&ctcm_g.txn);	/* not during a commit */
	ctcm_array_read(cf, self, ctcm_g.nreplicas, rep, &img, &nimg);
	pthread_mutex_unlock(&ctcm_g.txn);
	ctcm_bundles_free(img, nimg);
	snap_take(&s);
	have = !s.monitor && ctcm_current(&b) == 0;
	if (c->json)
		show_json(c, &s, have ? &b : NULL, rep, cf->nluns);
	else
		show_text(c, &s, have ? &b : NULL, rep, cf->nluns);
	if (have)
		ctcm_bundle_free(&b);
	free(rep);
	free(cf);
	return CTL_EX_OK;
}

static int
cmd_config_history(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	gens[CTCM_HISTORY_LOCAL + 1], cur;
	int		n;

	if (argc != 0)
		return ctl_usage(c, "config history", "unexpected argument "
		    "'%s'", argv[0]);
	pthread_mutex_lock(&ctcm_g.mtx);
	cur = ctcm_g.gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	n = ctcm_local_list(&ctcm_g.local, gens + 1, CTCM_HISTORY_LOCAL);
	/* the committed one first, also while its local install waits */
	if (cur != 0 && (n == 0 || gens[1] != cur)) {
		gens[0] = cur;
		n++;
	} else
		memmove(gens, gens + 1, (size_t)n * sizeof(*gens));
	if (c->json)
		ctl_printf(c, "[");
	else
		ctl_printf(c, "%-4s %-10s %-23s %-16s %s\n", "", "GENERATION",
		    "TIME", "AUTHOR", "SUMMARY");
	for (int i = 0, k = 0; i < n; i++) {
		struct ctcm_bundle b;

		if (gens[i] > cur || ctcm_load_gen(gens[i], &b) != 0)
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
		} else {
			char when[64];

			ctl_printf(c, "%-4s %-10llu %-23s %-16s %s\n",
			    b.gen == cur ? "*" : "", (unsigned long long)b.gen,
			    fmt_date_ms(when, sizeof(when), b.time_ms, 0),
			    b.author, b.summary);
		}
		ctcm_bundle_free(&b);
	}
	if (c->json)
		ctl_printf(c, "]\n");
	return CTL_EX_OK;
}

/* The text of section kind in a diff: the SMB users without their
 * hashes (prev: the older side, so a changed hash shows as a changed
 * line). */
static void
diff_text(const struct ctcm_bundle *b, const struct ctcm_bundle *prev,
    uint16_t kind, struct buf *o)
{
	const struct ctcm_section	*s = ctcm_bundle_get(b, kind);
	struct smb_users		 u, p;
	char				 err[256];
	int				 havep;

	if (s == NULL)
		return;
	if (kind != CTCM_SEC_SMBUSERS) {
		buf_add(o, s->data, s->len);
		return;
	}
	if (smb_users_parse((const char *)s->data, s->len, &u, err,
	    sizeof(err)) < 0) {
		buf_printf(o, "# unreadable: %s\n", err);
		return;
	}
	havep = prev != NULL && (s = ctcm_bundle_get(prev, kind)) != NULL &&
	    smb_users_parse((const char *)s->data, s->len, &p, err,
	    sizeof(err)) == 0;
	smb_users_redact(&u, havep ? &p : NULL, o);
	if (havep)
		smb_users_free(&p);
	smb_users_free(&u);
}

static int
cmd_config_diff(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	a, b;
	int			rc;
	static const uint16_t	kinds[] = { CTCM_SEC_CONF, CTCM_SEC_EXPORTS,
				    CTCM_SEC_SMBUSERS, CTCM_SEC_IMAGE };
	static const char *const names[] = { "duonas.conf", "exports",
				    "smb/users", "image/boot" };

	if (argc < 1 || argc > 2)
		return ctl_usage(c, "config diff", "needs G1 [G2]");
	if ((rc = ctcm_ctl_load_gen(c, "config diff", argv[0], &a)) != 0)
		return rc;
	if (argc == 2)
		rc = ctcm_ctl_load_gen(c, "config diff", argv[1], &b);
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
		struct buf	 at, bt, o;
		int		 ch;
		const char	*name = names[k];

		buf_init(&at);
		buf_init(&bt);
		buf_init(&o);
		diff_text(&a, NULL, kinds[k], &at);
		diff_text(&b, &a, kinds[k], &bt);
		ch = ctcm_diff(at.len ? (char *)at.data : "", at.len,
		    bt.len ? (char *)bt.data : "", bt.len, &o);
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
		buf_free(&at);
		buf_free(&bt);
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
	/* the file (mode 0600, written by the daemon) has the SMB users
	 * with their hashes, so export and import round-trip them; what is
	 * printed (a terminal, a log) does not */
	if (argc == 1)
		ctcm_text_export_secrets(&b, &o);
	else
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
		ctl_printf(c, "},\"smb_users\":%d}\n",
		    ctcm_smb_users_count(&b));
	} else if (argc == 0)
		ctl_printf(c, "%s", (char *)o.data);
	buf_free(&o);
	ctcm_bundle_free(&b);
	return ex;
}

/* ---- status ---------------------------------------------------------------- */

void
ctcm_status_text(struct buf *o)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.monitor)
		buf_printf(o, "config:      MONITOR (administration only): "
		    "%s\n"
		    "             way out: `duonas config import FILE` on "
		    "this head (FILE: a valid duonas.conf, or config export "
		    "text with its exports); it then restarts and serves\n",
		    ctcm_g.why);
	else {
		buf_printf(o, "config:      generation %llu (checksum %08x, "
		    "epoch %llu), %llu commits, ", (unsigned long long)ctcm_g.gen,
		    ctcm_g.crc, (unsigned long long)ctcm_g.vepoch,
		    (unsigned long long)ctcm_g.commits);
		if (ctcm_g.peer_known)
			buf_printf(o, "peer at generation %llu",
			    (unsigned long long)ctcm_g.peer_gen);
		else
			buf_printf(o, "peer generation unknown");
		if (ctcm_g.inst_gen != ctcm_g.gen ||
		    ctcm_g.inst_crc != ctcm_g.crc)
			buf_printf(o, "; local copy at %llu, installing (%s)",
			    (unsigned long long)ctcm_g.inst_gen,
			    ctcm_g.inst_err[0] ? ctcm_g.inst_err : "pending");
		else if (strcmp(ctcm_sync_state(), "ok") != 0)
			buf_printf(o, "; %s", ctcm_sync_state());
		buf_printf(o, "\n");
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
}

uint64_t
ctcm_generation(void)
{
	uint64_t gen;

	pthread_mutex_lock(&ctcm_g.mtx);
	gen = ctcm_g.monitor ? 0 : ctcm_g.inst_gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	return gen;
}

void
ctcm_status_json(struct buf *o)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	buf_printf(o, ",\"config\":{\"monitor\":%s,\"generation\":%llu,"
	    "\"checksum\":\"%08x\",\"epoch\":%llu,\"master_epoch\":%llu,"
	    "\"local_generation\":%llu,\"sync\":\"%s\",\"commits\":%llu,"
	    "\"aborts\":%llu,\"restores\":%llu,\"push_failures\":%llu,"
	    "\"adoptions\":%llu,\"claims\":%llu,\"repairs\":%llu,"
	    "\"installs_retried\":%llu,\"repair_pending\":%s,\"why\":",
	    ctcm_g.monitor ? "true" : "false",
	    (unsigned long long)ctcm_g.gen, ctcm_g.crc,
	    (unsigned long long)ctcm_g.vepoch,
	    (unsigned long long)ctcm_g.epoch,
	    (unsigned long long)ctcm_g.inst_gen, ctcm_sync_state(),
	    (unsigned long long)ctcm_g.commits,
	    (unsigned long long)ctcm_g.aborts,
	    (unsigned long long)ctcm_g.restores,
	    (unsigned long long)ctcm_g.push_fail,
	    (unsigned long long)ctcm_g.adoptions,
	    (unsigned long long)ctcm_g.claims,
	    (unsigned long long)ctcm_g.repairs,
	    (unsigned long long)ctcm_g.installs_retried,
	    ctcm_g.repair ? "true" : "false");
	buf_add_json_str(o, ctcm_g.why);
	buf_printf(o, ",\"install_error\":");
	buf_add_json_str(o, ctcm_g.inst_err);
	if (ctcm_g.peer_known)
		buf_printf(o, ",\"peer_generation\":%llu}",
		    (unsigned long long)ctcm_g.peer_gen);
	else
		buf_printf(o, ",\"peer_generation\":null}");
	pthread_mutex_unlock(&ctcm_g.mtx);
}

/* ---- registration ------------------------------------------------------ */

void
ctcm_ctl_show_register(void)
{
	ctl_register("export ls", cmd_export_ls);
	ctl_register("ip ls", cmd_ip_ls);
	ctl_register("lun ls", cmd_lun_ls);
	ctl_register("config show", cmd_config_show);
	ctl_register("config history", cmd_config_history);
	ctl_register("config diff", cmd_config_diff);
	ctl_register("config export", cmd_config_export);
}

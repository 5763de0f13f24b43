/*
 * duonasd_ctl.c — the daemon's admin command handlers (status, pso, link,
 * exports, version).
 *
 * Handlers run on admin worker threads: PSO calls block there, and
 * anything owned by the loop thread (link, HA, NFS status) is read through
 * ctl_run_on_loop().  Every handler checks its arguments first and answers
 * with the usage line on a mistake, so nothing is half-done.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "config.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ctcm/ctcm.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "duonasd.h"
#include "duonasd_image.h"
#include "export/nfs.h"
#include "export/smb.h"
#include "ha/ha.h"
#include "lhm/lhm.h"
#include "ha/ha_fsm.h"
#include "link/link.h"
#include "pso/brl.h"
#include "pso/pso.h"

/* ---- status ---------------------------------------------------------- */

/* The store states of pso_stats.store, for status and errors. */
static const char *
store_state_name(int store)
{
	switch (store) {
	case PSO_STORE_OK:	return "ok";
	case PSO_STORE_DAMAGED:	return "damaged";
	case PSO_STORE_LOST:	return "lost";
	case PSO_STORE_BEHIND:	return "behind";
	default:		return "unknown";
	}
}

static const char *
store_state_hint(int store)
{
	switch (store) {
	case PSO_STORE_DAMAGED:
		return "data.mdb was damaged and moved aside to "
		    "data.mdb.damaged; PSO is refused until the objects come "
		    "back from the peer, or the loss is confirmed with "
		    "'duonas pso reset --confirm'";
	case PSO_STORE_LOST:
		return "the pool records that this head's store held objects "
		    "and it is missing or replaced; PSO is refused until they "
		    "come back from the peer, or the loss is confirmed with "
		    "'duonas pso reset --confirm'";
	case PSO_STORE_BEHIND:
		return "a write this head could not commit is on the peer; "
		    "PSO is refused until this head has caught up from the "
		    "peer, or the loss is confirmed with 'duonas pso reset "
		    "--confirm'";
	default:
		return "";
	}
}


struct status_arg {
	struct buf	*out;
	int		 json;
};

static void
status_on_loop(void *p)
{
	struct status_arg *a = p;

	if (a->json) {
		buf_add(a->out, "{", 1);
		ha_status_json(a->out);
		buf_printf(a->out, ",\"cluster\":");
		buf_add_json_str(a->out, dd.cfg->cluster);
		buf_printf(a->out, ",\"version\":");
		buf_add_json_str(a->out, dimg_version());
		buf_printf(a->out, ",\"software\":");
		dimg_status(a->out, 1);
		buf_printf(a->out, ",\"uptime_ms\":%llu,\"links\":",
		    (unsigned long long)(now_ms() - dd.start_ms));
		link_status_json(a->out);
		ctcm_status_json(a->out);
		services_status(a->out, 1);
		buf_printf(a->out, ",\"health\":");
		lhm_status_json(a->out);
	} else {
		ha_status_text(a->out);
		char up[32];

		buf_printf(a->out, "cluster:     %s, duonasd %s, up %s\n",
		    dd.cfg->cluster, dimg_version(), fmt_dur_ms(up, sizeof(up),
		    now_ms() - dd.start_ms));
		buf_printf(a->out, "software:    ");
		dimg_status(a->out, 0);
		buf_printf(a->out, "links:\n");
		link_status_text(a->out);
		ctcm_status_text(a->out);
		services_status(a->out, 0);
		lhm_status_text(a->out);
	}
}

/* The end of the JSON document: PSO and the lock table.  Their counters
 * sit under their modules' mutexes (nothing here waits for the loop), so
 * this runs on the loop thread for GET /status and on a worker for the
 * admin command. */
static void
status_pso_json(struct buf *out, const struct pso_stats *st)
{
	buf_printf(out, ",\"pso\":{\"objects\":%llu,\"locks_held\":%llu,"
	    "\"lock_waiters\":%llu,\"writes\":%llu,"
	    "\"replicated_in\":%llu,\"conflicts\":%llu,\"synced\":%s,"
	    "\"arbiter\":%s,\"store\":\"%s\"}",
	    (unsigned long long)st->objects,
	    (unsigned long long)st->locks_held,
	    (unsigned long long)st->lock_waiters,
	    (unsigned long long)st->writes,
	    (unsigned long long)st->repl_applied,
	    (unsigned long long)st->conflicts,
	    st->synced ? "true" : "false",
	    st->arbiter ? "true" : "false", store_state_name(st->store));
	buf_printf(out, ",\"locks\":");
	brl_status_json(out);
	buf_printf(out, "}\n");
}

void
status_json(struct buf *out)
{
	struct status_arg	a = { out, 1 };
	struct pso_stats	st;

	status_on_loop(&a);
	if (dd.monitor) {
		buf_printf(out, ",\"pso\":null}\n");
		return;
	}
	pso_stats_get(&st);
	status_pso_json(out, &st);
}

static int
cmd_status(struct ctl_ctx *c, int argc, char **argv)
{
	struct status_arg	a = { &c->out, c->json };
	struct pso_stats	st;

	(void)argv;
	if (argc != 0)
		return ctl_usage(c, "status", "unexpected argument '%s'",
		    argv[0]);
	ctl_run_on_loop(status_on_loop, &a);
	if (dd.monitor) {
		ctl_printf(c, c->json ? ",\"pso\":null}\n" :
		    "pso:         not running (MONITOR)\n");
		return CTL_EX_OK;
	}
	pso_stats_get(&st);
	if (c->json) {
		status_pso_json(&c->out, &st);
	} else {
		if (st.store != PSO_STORE_OK)
			ctl_printf(c, "pso:         store %s: %s\n",
			    store_state_name(st.store), store_state_hint(st.store));
		ctl_printf(c, "pso:         %llu objects, %llu locks held, "
		    "%llu waiting, %llu writes, %llu replicated in, %s%s\n",
		    (unsigned long long)st.objects,
		    (unsigned long long)st.locks_held,
		    (unsigned long long)st.lock_waiters,
		    (unsigned long long)st.writes,
		    (unsigned long long)st.repl_applied,
		    st.synced ? "in sync" : "NOT in sync",
		    st.arbiter ? ", lock arbiter" : "");
		brl_status_text(&c->out);
	}
	return CTL_EX_OK;
}

/* ---- pso ------------------------------------------------------------- */

static int
pso_fail(struct ctl_ctx *c, const char *cmd, const char *name, int rc)
{
	struct pso_stats st;

	ctl_printf(c, "duonas %s: %s: %s\n", cmd, name, pso_strerror(rc));
	if (rc == PSO_CORRUPT || rc == PSO_STORELOST || rc == PSO_NOTREADY) {
		pso_stats_get(&st);
		if (st.store != PSO_STORE_OK)
			ctl_printf(c, "  (store %s: %s)\n",
			    store_state_name(st.store), store_state_hint(st.store));
	}
	return CTL_EX_FAIL;
}

static int
get_owner(struct ctl_ctx *c, const char *cmd, int *argc, char **argv,
    uint64_t *owner)
{
	int		 bad = 0;
	const char	*o = ctl_opt_take(argc, argv, "owner", &bad);

	if (bad)
		return ctl_usage(c, cmd, "--owner needs a value");
	if (o != NULL && (*o == 0 || strlen(o) >= PSO_NAME_MAX))
		return ctl_usage(c, cmd, "--owner must be 1-%d characters",
		    PSO_NAME_MAX - 1);
	*owner = pso_name_id(o ? o : "cli");
	return 0;
}

static int
check_name(struct ctl_ctx *c, const char *cmd, const char *name)
{
	if (*name == 0 || strlen(name) >= PSO_NAME_MAX)
		return ctl_usage(c, cmd, "object name must be 1-%d bytes",
		    PSO_NAME_MAX - 1);
	if (name[0] == '-')
		return ctl_usage(c, cmd, "unknown option '%s'", name);
	return 0;
}

/* Exactly one NAME argument, checked: 0, or the exit code of the usage
 * message already printed. */
static int
one_name(struct ctl_ctx *c, const char *cmd, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage(c, cmd, "needs exactly one NAME");
	return check_name(c, cmd, argv[0]);
}

/* The id of object name, creating it with flags when missing (the peer
 * may create it at the same moment: then it exists). */
static int
lookup_or_create(const char *name, uint32_t flags, pso_id *id)
{
	int rc = pso_lookup(name, id);

	if (rc == PSO_NOTFOUND) {
		rc = pso_create(name, flags, id);
		if (rc == PSO_EXISTS)
			rc = pso_lookup(name, id);
	}
	return rc;
}

struct ls_arg {
	struct ctl_ctx	*c;
	int		 n;
};

static int
ls_cb(const struct pso_info *i, void *p)
{
	struct ls_arg	*a = p;
	struct ctl_ctx	*c = a->c;

	if (c->json) {
		if (a->n++)
			ctl_printf(c, ",");
		ctl_printf(c, "{\"name\":");
		buf_add_json_str(&c->out, i->name);
		ctl_printf(c, ",\"id\":\"%016llx\",\"persistent\":%s,"
		    "\"version\":%llu,\"size\":%u,\"mtime_ms\":%llu,"
		    "\"lock_node\":%u}", (unsigned long long)i->id,
		    i->flags & PSO_PERSISTENT ? "true" : "false",
		    (unsigned long long)i->version, i->len,
		    (unsigned long long)i->mtime_ms, i->lock_node);
	} else {
		if (a->n++ == 0)
			ctl_printf(c, "%-24s %-16s %-4s %8s %8s %s\n", "NAME",
			    "ID", "KIND", "VERSION", "SIZE", "LOCK");
		ctl_printf(c, "%-24s %016llx %-4s %8llu %8u %s\n", i->name,
		    (unsigned long long)i->id,
		    i->flags & PSO_PERSISTENT ? "pers" : "vol",
		    (unsigned long long)i->version, i->len,
		    i->lock_node ? "locked" : "-");
		if (i->lock_node)
			ctl_printf(c, "%*s(held by node %u)\n", 25, "",
			    i->lock_node);
	}
	return 0;
}

static int
cmd_pso_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct ls_arg	a = { c, 0 };
	int		rc;

	if (argc != 0)
		return ctl_usage(c, "pso ls", "unexpected argument '%s'",
		    argv[0]);
	if (c->json)
		ctl_printf(c, "[");
	if ((rc = pso_list(ls_cb, &a)) != 0) {
		buf_reset(&c->out);
		return pso_fail(c, "pso ls", "list", rc);
	}
	if (c->json)
		ctl_printf(c, "]\n");
	return CTL_EX_OK;
}

static int
cmd_pso_get(struct ctl_ctx *c, int argc, char **argv)
{
	struct pso_info	 info;
	pso_id		 id;
	void		*val = NULL;
	size_t		 len;
	int		 rc;

	if ((rc = one_name(c, "pso get", argc, argv)) != 0)
		return rc;
	if ((rc = pso_lookup(argv[0], &id)) != 0 ||
	    (rc = pso_read(id, &val, &len, &info)) != 0)
		return pso_fail(c, "pso get", argv[0], rc);
	if (c->json) {
		char *s = xmalloc(len + 1);
		if (len > 0)		/* an empty value has no buffer */
			memcpy(s, val, len);
		s[len] = 0;
		ctl_printf(c, "{\"name\":");
		buf_add_json_str(&c->out, argv[0]);
		ctl_printf(c, ",\"id\":\"%016llx\",\"version\":%llu,"
		    "\"persistent\":%s,\"size\":%zu,\"lock_node\":%u,"
		    "\"value\":", (unsigned long long)id,
		    (unsigned long long)info.version,
		    info.flags & PSO_PERSISTENT ? "true" : "false", len,
		    info.lock_node);
		buf_add_json_str(&c->out, s);
		ctl_printf(c, "}\n");
		free(s);
	} else {
		buf_add(&c->out, val, len);
		ctl_printf(c, "\n");
	}
	free(val);
	return CTL_EX_OK;
}

static int
cmd_pso_create(struct ctl_ctx *c, int argc, char **argv)
{
	int	vol = ctl_flag_take(&argc, argv, "volatile"), rc;
	pso_id	id;

	if ((rc = one_name(c, "pso create", argc, argv)) != 0)
		return rc;
	if ((rc = pso_create(argv[0], vol ? PSO_VOLATILE : PSO_PERSISTENT,
	    &id)) != 0)
		return pso_fail(c, "pso create", argv[0], rc);
	return CTL_EX_OK;
}

/* Lock (unless owner holds it), run fn, unlock what we took. */
static int
with_lock(pso_id id, uint64_t owner, int *took)
{
	int rc = pso_lock(id, owner, dd.cfg->pso_lock_timeout_ms);

	*took = 0;
	if (rc == PSO_LOCKHELD)
		return 0;
	if (rc == 0)
		*took = 1;
	return rc;
}

static int
cmd_pso_set(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	owner, ver;
	pso_id		id;
	int		vol, rc, took;

	if ((rc = get_owner(c, "pso set", &argc, argv, &owner)) != 0)
		return rc;
	vol = ctl_flag_take(&argc, argv, "volatile");
	if (argc != 2)
		return ctl_usage(c, "pso set", "needs NAME and VALUE");
	if ((rc = check_name(c, "pso set", argv[0])) != 0)
		return rc;
	if (strlen(argv[1]) > PSO_VALUE_MAX)
		return pso_fail(c, "pso set", argv[0], PSO_TOOBIG);
	rc = lookup_or_create(argv[0], vol ? PSO_VOLATILE : PSO_PERSISTENT,
	    &id);
	if (rc != 0)
		return pso_fail(c, "pso set", argv[0], rc);
	if ((rc = with_lock(id, owner, &took)) != 0)
		return pso_fail(c, "pso set", argv[0], rc);
	rc = pso_write(id, owner, argv[1], strlen(argv[1]), &ver);
	if (took)
		pso_unlock(id, owner);
	if (rc != 0)
		return pso_fail(c, "pso set", argv[0], rc);
	return CTL_EX_OK;
}

static int
cmd_pso_rm(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	owner;
	pso_id		id;
	int		rc, took;

	if ((rc = get_owner(c, "pso rm", &argc, argv, &owner)) != 0)
		return rc;
	if ((rc = one_name(c, "pso rm", argc, argv)) != 0)
		return rc;
	if ((rc = pso_lookup(argv[0], &id)) != 0)
		return pso_fail(c, "pso rm", argv[0], rc);
	if ((rc = with_lock(id, owner, &took)) != 0)
		return pso_fail(c, "pso rm", argv[0], rc);
	rc = pso_delete(id, owner);
	if (took && rc != 0)
		pso_unlock(id, owner);
	if (rc != 0)
		return pso_fail(c, "pso rm", argv[0], rc);
	return CTL_EX_OK;
}

static int
cmd_pso_lock(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	 owner;
	pso_id		 id;
	int		 rc, bad = 0, timeout = dd.cfg->pso_lock_timeout_ms;
	const char	*t;
	long long	 v;
	const char	*es;

	if ((rc = get_owner(c, "pso lock", &argc, argv, &owner)) != 0)
		return rc;
	t = ctl_opt_take(&argc, argv, "timeout", &bad);
	if (bad)
		return ctl_usage(c, "pso lock", "--timeout needs a value");
	if (t != NULL) {
		if (parse_num(t, 0, 3600000, &v, &es) < 0)
			return ctl_usage(c, "pso lock", "--timeout '%s' is %s "
			    "(0..3600000 ms)", t, es);
		timeout = (int)v;
	}
	if ((rc = one_name(c, "pso lock", argc, argv)) != 0)
		return rc;
	if ((rc = pso_lookup(argv[0], &id)) != 0 ||
	    (rc = pso_lock(id, owner, timeout)) != 0)
		return pso_fail(c, "pso lock", argv[0], rc);
	return CTL_EX_OK;
}

static int
cmd_pso_unlock(struct ctl_ctx *c, int argc, char **argv)
{
	uint64_t	owner;
	pso_id		id;
	int		rc;

	if ((rc = get_owner(c, "pso unlock", &argc, argv, &owner)) != 0)
		return rc;
	if ((rc = one_name(c, "pso unlock", argc, argv)) != 0)
		return rc;
	if ((rc = pso_lookup(argv[0], &id)) != 0 ||
	    (rc = pso_unlock(id, owner)) != 0)
		return pso_fail(c, "pso unlock", argv[0], rc);
	return CTL_EX_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pct(uint64_t *v, int n, int p)
{
	int i = (int)((long long)n * p / 100);

	if (i >= n)
		i = n - 1;
	return v[i];
}

static int
cmd_pso_bench(struct ctl_ctx *c, int argc, char **argv)
{
	const char	*cs, *ss, *es;
	int		 bad = 0, rc, count = 2000, size = 64;
	long long	 v;
	uint64_t	 owner = pso_name_id("bench"), *lat, t0, t1;
	pso_id		 id;
	char		*val;

	cs = ctl_opt_take(&argc, argv, "count", &bad);
	ss = ctl_opt_take(&argc, argv, "size", &bad);
	if (bad)
		return ctl_usage(c, "pso bench", "option needs a value");
	if (cs && parse_num(cs, 10, 1000000, &v, &es) < 0)
		return ctl_usage(c, "pso bench", "--count '%s' is %s "
		    "(10..1000000)", cs, es);
	if (cs)
		count = (int)v;
	if (ss && parse_num(ss, 0, PSO_VALUE_MAX, &v, &es) < 0)
		return ctl_usage(c, "pso bench", "--size '%s' is %s", ss, es);
	if (ss)
		size = (int)v;
	if ((rc = one_name(c, "pso bench", argc, argv)) != 0)
		return rc;
	rc = lookup_or_create(argv[0], PSO_PERSISTENT, &id);
	if (rc != 0)
		return pso_fail(c, "pso bench", argv[0], rc);
	val = xmalloc((size_t)size + 1);
	memset(val, 'b', (size_t)size);
	lat = xcalloc((size_t)count, sizeof(*lat));

	/* lock + write + unlock round trips */
	for (int i = 0; i < count; i++) {
		t0 = now_us();
		if ((rc = pso_lock(id, owner, 5000)) != 0 ||
		    (rc = pso_write(id, owner, val, (size_t)size, NULL)) != 0 ||
		    (rc = pso_unlock(id, owner)) != 0)
			goto fail;
		lat[i] = now_us() - t0;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_u64);
	ctl_printf(c, "pso_rtt_p50_us=%llu\npso_rtt_p99_us=%llu\n",
	    (unsigned long long)pct(lat, count, 50),
	    (unsigned long long)pct(lat, count, 99));

	/* replicated writes by the lock holder */
	if ((rc = pso_lock(id, owner, 5000)) != 0)
		goto fail;
	t1 = now_us();
	for (int i = 0; i < count; i++) {
		t0 = now_us();
		if ((rc = pso_write(id, owner, val, (size_t)size, NULL)) != 0) {
			pso_unlock(id, owner);
			goto fail;
		}
		lat[i] = now_us() - t0;
	}
	t1 = now_us() - t1;
	pso_unlock(id, owner);
	qsort(lat, (size_t)count, sizeof(*lat), cmp_u64);
	ctl_printf(c, "pso_repl_write_p50_us=%llu\npso_repl_write_p99_us=%llu\n"
	    "pso_writes_per_s=%.0f\npso_bench_count=%d\npso_bench_size=%d\n"
	    "pso_peer_alive=%d\n",
	    (unsigned long long)pct(lat, count, 50),
	    (unsigned long long)pct(lat, count, 99),
	    count * 1e6 / (double)(t1 ? t1 : 1), count, size, ha_peer_alive());
	free(lat);
	free(val);
	return CTL_EX_OK;
fail:
	free(lat);
	free(val);
	buf_reset(&c->out);
	return pso_fail(c, "pso bench", argv[0], rc);
}

static int
cmd_pso_fill(struct ctl_ctx *c, int argc, char **argv)
{
	const char	*ss, *es;
	int		 bad = 0, rc = 0, size = 32, took;
	long long	 count, v;
	uint64_t	 owner = pso_name_id("fill"), t0 = now_us();
	char		 name[PSO_NAME_MAX], *val;
	pso_id		 id;

	ss = ctl_opt_take(&argc, argv, "size", &bad);
	if (bad)
		return ctl_usage(c, "pso fill", "--size needs a value");
	if (ss && parse_num(ss, 0, 65536, &v, &es) < 0)
		return ctl_usage(c, "pso fill", "--size '%s' is %s (0..65536)",
		    ss, es);
	if (ss)
		size = (int)v;
	if (argc != 2)
		return ctl_usage(c, "pso fill", "needs PREFIX and COUNT");
	if (strlen(argv[0]) == 0 || strlen(argv[0]) > PSO_NAME_MAX - 12)
		return ctl_usage(c, "pso fill", "PREFIX must be 1-%d bytes",
		    PSO_NAME_MAX - 12);
	if (parse_num(argv[1], 1, 10000000, &count, &es) < 0)
		return ctl_usage(c, "pso fill", "COUNT '%s' is %s "
		    "(1..10000000)", argv[1], es);
	val = xmalloc((size_t)size + 1);
	memset(val, 'f', (size_t)size);
	for (long long i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s%lld", argv[0], i);
		rc = lookup_or_create(name, PSO_PERSISTENT, &id);
		if (rc == 0 && (rc = with_lock(id, owner, &took)) == 0) {
			rc = pso_write(id, owner, val, (size_t)size, NULL);
			if (took)
				pso_unlock(id, owner);
		}
		if (rc != 0) {
			free(val);
			return pso_fail(c, "pso fill", name, rc);
		}
	}
	free(val);
	ctl_printf(c, "filled %lld objects in %.3f s\n", count,
	    (double)(now_us() - t0) / 1e6);
	return CTL_EX_OK;
}

/* Confirm the loss of what the local store lacks (docs/pso.md, "Store
 * damage and loss"). */
static int
cmd_pso_reset(struct ctl_ctx *c, int argc, char **argv)
{
	struct pso_stats	st;
	int			confirm, rc;

	confirm = ctl_flag_take(&argc, argv, "confirm");
	if (argc != 0)
		return ctl_usage(c, "pso reset", "unexpected argument '%s'",
		    argv[0]);
	pso_stats_get(&st);
	if (!confirm)
		return ctl_usage(c, "pso reset", "refused without --confirm: "
		    "this head would go on without the objects its store "
		    "lacks (store %s)", store_state_name(st.store));
	rc = pso_reset();
	if (rc == EALREADY) {
		ctl_printf(c, "pso reset: the store of this head is ok: "
		    "nothing to confirm\n");
		return CTL_EX_OK;
	}
	if (rc != 0)
		return pso_fail(c, "pso reset", "store", rc);
	log_warnx("ctl: pso reset --confirm (store was %s)",
	    store_state_name(st.store));
	ctl_printf(c, "pso reset: loss confirmed (store was %s); this head "
	    "serves PSO with the objects it has once it is in sync\n",
	    store_state_name(st.store));
	return CTL_EX_OK;
}

/* ---- link ------------------------------------------------------------ */

struct block_arg {
	int path, on;
};

static void
block_on_loop(void *p)
{
	struct block_arg *b = p;

	link_path_block(b->path, b->on);
}

static int
cmd_link_block_common(struct ctl_ctx *c, const char *cmd, int on, int argc,
    char **argv)
{
	struct block_arg	 b;
	long long		 v;
	const char		*es;

	if (argc != 1)
		return ctl_usage(c, cmd, "needs exactly one PATH number");
	if (parse_num(argv[0], 0, dd.me->nlinks - 1, &v, &es) < 0)
		return ctl_usage(c, cmd, "path '%s' is %s (this head has %d "
		    "paths: 0..%d)", argv[0], es, dd.me->nlinks,
		    dd.me->nlinks - 1);
	b.path = (int)v;
	b.on = on;
	ctl_run_on_loop(block_on_loop, &b);
	log_info("ctl: link path %d %s by admin", b.path,
	    on ? "blocked" : "unblocked");
	return CTL_EX_OK;
}

struct lossy_arg {
	int path, n, m;
};

static void
lossy_on_loop(void *p)
{
	struct lossy_arg *l = p;

	link_path_lossy(l->path, l->n, l->m);
}

static int
cmd_link_lossy(struct ctl_ctx *c, int argc, char **argv)
{
	struct lossy_arg	 l;
	long long		 v, n = 0, m = 1;
	const char		*es;

	if (argc != 2 && argc != 3)
		return ctl_usage(c, "link lossy", "needs PATH N M or PATH off");
	if (parse_num(argv[0], 0, dd.me->nlinks - 1, &v, &es) < 0)
		return ctl_usage(c, "link lossy", "path '%s' is %s (this head "
		    "has %d paths: 0..%d)", argv[0], es, dd.me->nlinks,
		    dd.me->nlinks - 1);
	if (argc == 2 && strcmp(argv[1], "off") != 0)
		return ctl_usage(c, "link lossy", "'%s': give N M or off",
		    argv[1]);
	if (argc == 3 && (parse_num(argv[2], 1, 1000, &m, &es) < 0 ||
	    parse_num(argv[1], 0, m, &n, &es) < 0))
		return ctl_usage(c, "link lossy", "N '%s' of M '%s': need "
		    "1 <= M <= 1000 and 0 <= N <= M", argv[1], argv[2]);
	l.path = (int)v;
	l.n = (int)n;
	l.m = (int)m;
	ctl_run_on_loop(lossy_on_loop, &l);
	ctl_printf(c, "link path %d: %s\n", l.path, n ? "dropping heartbeats "
	    "(test)" : "heartbeat loss off");
	return CTL_EX_OK;
}

static int
cmd_link_block(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_link_block_common(c, "link block", 1, argc, argv);
}

static int
cmd_link_unblock(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_link_block_common(c, "link unblock", 0, argc, argv);
}

/* ---- health -------------------------------------------------------- */

static int
cmd_health(struct ctl_ctx *c, int argc, char **argv)
{
	if (argc != 0)
		return ctl_usage(c, "health", "unexpected argument '%s'",
		    argv[0]);
	if (c->json) {
		lhm_status_json(&c->out);
		ctl_printf(c, "\n");
	} else {
		lhm_status_text(&c->out);
	}
	return CTL_EX_OK;
}

static void
stall_on_loop(void *p)
{
	long long ms = *(long long *)p;

	free(p);
	log_warnx("ctl: test fault: the event loop stalls for %lld ms", ms);
	usleep((useconds_t)(ms * 1000));
	log_info("ctl: test fault: the event loop runs again");
}

static int
cmd_health_fault(struct ctl_ctx *c, int argc, char **argv)
{
	long long	 v, *p;
	const char	*es;

	if (argc != 2)
		return ctl_usage(c, "health fault", "needs WHAT and a value "
		    "(nfs-worker on|off, smbd on|off, loop MS)");
	if (strcmp(argv[0], "nfs-worker") == 0) {
		if (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0)
			return ctl_usage(c, "health fault", "nfs-worker takes "
			    "on or off, not '%s'", argv[1]);
		nfs_test_stuck(strcmp(argv[1], "on") == 0);
		log_warnx("ctl: test fault: stuck nfs worker %s", argv[1]);
		return CTL_EX_OK;
	}
	if (strcmp(argv[0], "smbd") == 0) {
		if (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0)
			return ctl_usage(c, "health fault", "smbd takes on or "
			    "off, not '%s'", argv[1]);
		smb_test_fault(strcmp(argv[1], "on") == 0);
		return CTL_EX_OK;
	}
	if (strcmp(argv[0], "loop") == 0) {
		if (parse_num(argv[1], 1, 600000, &v, &es) < 0)
			return ctl_usage(c, "health fault", "loop MS '%s' is "
			    "%s (1..600000)", argv[1], es);
		p = xcalloc(1, sizeof(*p));
		*p = v;
		loop_call(stall_on_loop, p);
		return CTL_EX_OK;
	}
	return ctl_usage(c, "health fault", "unknown fault '%s' (nfs-worker, "
	    "smbd, loop)", argv[0]);
}

/* ---- HA fault injection (tests) -------------------------------------- */

struct ha_fault_arg {
	int		 lun;		/* -1: surrender */
	int		 permanent;
	int		 rc;
};

static void
ha_fault_on_loop(void *p)
{
	struct ha_fault_arg *a = p;

	if (a->lun >= 0)
		a->rc = ha_lun_handover(a->lun, "fault injected by the "
		    "administrator (ha fault handover)");
	else {
		ha_surrender("fault injected by the administrator (ha fault "
		    "surrender)", a->permanent);
		a->rc = 0;
	}
}

static int
cmd_ha_fault_handover(struct ctl_ctx *c, int argc, char **argv)
{
	struct ha_fault_arg a = { .lun = -1 };

	if (argc != 1)
		return ctl_usage(c, "ha fault handover", "needs exactly one "
		    "LUN name");
	for (int i = 0; i < dd.cfg->nluns; i++)
		if (strcmp(dd.cfg->luns[i].name, argv[0]) == 0)
			a.lun = i;
	if (a.lun < 0)
		return ctl_usage(c, "ha fault handover", "no LUN named '%s'",
		    argv[0]);
	loop_call_wait(ha_fault_on_loop, &a);
	if (a.rc < 0) {
		ctl_printf(c, "ha fault handover: lun %s cannot be handed "
		    "over: the peer is not serving (see the log)\n", argv[0]);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "lun %s handed over to the peer\n", argv[0]);
	return CTL_EX_OK;
}

static int
cmd_ha_fault_surrender(struct ctl_ctx *c, int argc, char **argv)
{
	struct ha_fault_arg a = { .lun = -1 };

	a.permanent = ctl_flag_take(&argc, argv, "permanent");
	if (argc != 0)
		return ctl_usage(c, "ha fault surrender", "unexpected "
		    "argument '%s'", argv[0]);
	loop_call_wait(ha_fault_on_loop, &a);
	ctl_printf(c, "surrendered%s\n", a.permanent ? " (permanent)" : "");
	return CTL_EX_OK;
}

static void
ha_blind_on_loop(void *p)
{
	ha_test_blind(*(int *)p);
}

static int
cmd_ha_fault_blind(struct ctl_ctx *c, int argc, char **argv)
{
	int on;

	if (argc != 1 || (strcmp(argv[0], "on") != 0 &&
	    strcmp(argv[0], "off") != 0))
		return ctl_usage(c, "ha fault blind", "needs on or off");
	on = strcmp(argv[0], "on") == 0;
	loop_call_wait(ha_blind_on_loop, &on);
	ctl_printf(c, "blind %s\n", on ? "on" : "off");
	return CTL_EX_OK;
}

/* ---- maintenance moves (issue 9: standby, takeover, giveback, ip move) */

struct maint_arg {
	enum ha_maint	 op;
	int		 head;
	const char	*addr;
	struct buf	 out;
	int		 rc;
	int		 master;
	int		 timeout;
	const char	*state;
};

static void
maint_start_on_loop(void *p)
{
	struct maint_arg *a = p;

	a->master = ha_opmode() == HA_OPMODE_MASTER;
	a->state = ha_state_name();
	if (a->master)
		a->rc = ha_maint_start(a->op, a->head, a->addr, a->timeout,
		    &a->out);
}

static void
maint_poll_on_loop(void *p)
{
	struct maint_arg *a = p;

	a->rc = ha_maint_poll(&a->out);
}

static int
head_arg(const char *s)
{
	for (int h = 0; h < 2; h++)
		if (strcmp(dd.cfg->heads[h].name, s) == 0)
			return h;
	return -1;
}

/*
 * Plan, print, carry out and wait (--timeout MS, default 30000), then
 * print the time each moved LUN was out of service.
 */
static int
maint_run(struct ctl_ctx *c, const char *cmd, enum ha_maint op, int head,
    const char *addr, int *argc, char **argv)
{
	struct maint_arg	 a = { .op = op, .head = head, .addr = addr };
	const char		*t, *es;
	long long		 timeout = 30000;
	uint64_t		 until;
	int			 bad = 0;

	t = ctl_opt_take(argc, argv, "timeout", &bad);
	if (bad)
		return ctl_usage(c, cmd, "--timeout needs a value");
	if (t != NULL && parse_num(t, 100, 3600000, &timeout, &es) < 0)
		return ctl_usage(c, cmd, "--timeout '%s' is %s (100..3600000 "
		    "ms)", t, es);
	if (*argc != 0)
		return ctl_usage(c, cmd, "unexpected argument '%s'", argv[0]);
	buf_init(&a.out);
	a.timeout = (int)timeout;
	loop_call_wait(maint_start_on_loop, &a);
	if (!a.master) {
		buf_free(&a.out);
		ctl_printf(c, "duonas: %s changes where LUNs are served: run "
		    "it on the master (this head, %s, is %s)\n", cmd,
		    dd.me->name, a.state);
		return CTL_EX_NOTMASTER;
	}
	if (a.rc < 0) {
		/* the administrator's log of what was asked and why not */
		log_info("ctl: %s: refused: %.*s", cmd,
		    (int)(a.out.len > 0 ? a.out.len - 1 : 0),
		    (char *)a.out.data);
		ctl_printf(c, "%s: refused: %.*s", cmd, (int)a.out.len,
		    (char *)a.out.data);
		buf_free(&a.out);
		return CTL_EX_FAIL;
	}
	if (a.rc == 0) {
		buf_free(&a.out);
		ctl_printf(c, "%s: nothing to move\n", cmd);
		return CTL_EX_OK;
	}
	ctl_printf(c, "%s: moving %d item(s):\n%.*s", cmd, a.rc,
	    (int)a.out.len, (char *)a.out.data);
	log_info("ctl: %s: moving %d item(s)", cmd, a.rc);
	until = now_ms() + (uint64_t)timeout;
	for (;;) {
		a.out.len = 0;
		loop_call_wait(maint_poll_on_loop, &a);
		if (a.rc != 0 || now_ms() >= until)
			break;
		(void)poll(NULL, 0, 20);
	}
	if (a.rc == 0) {
		ctl_printf(c, "%s: not done within %lld ms:\n%.*s", cmd,
		    timeout, (int)a.out.len, (char *)a.out.data);
		buf_free(&a.out);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "%.*s", (int)a.out.len, (char *)a.out.data);
	buf_free(&a.out);
	return a.rc == 1 ? CTL_EX_OK : CTL_EX_FAIL;
}

/* ---- HA administration: master move, reset, shutdown ------------------ */

struct ha_adm {
	int		 op;	/* 0 move, 1 reset, 2 shutdown, 3 poll */
	int		 rc;
	unsigned	 me, peer;
	int		 held;
	int		 settled;
	int		 peer_owns;
	int		 unreadable;	/* LUNs this head cannot read */
	char		 why[160];
};

static void
ha_adm_on_loop(void *p)
{
	struct ha_adm *a = p;

	a->why[0] = '\0';
	switch (a->op) {
	case 0:
		a->rc = ha_master_move(a->why, sizeof(a->why));
		break;
	case 1:
		a->rc = ha_admin_reset(a->why, sizeof(a->why));
		break;
	case 2:
		a->rc = ha_admin_shutdown(a->why, sizeof(a->why));
		break;
	default:
		a->rc = 0;
		break;
	}
	ha_pair_states(&a->me, &a->peer);
	a->held = ha_held_count();
	a->settled = ha_settled();
	a->peer_owns = ha_peer_owns_all(&a->unreadable);
}

int
ha_adm_timeout(struct ctl_ctx *c, const char *cmd, int *argc, char **argv,
    int def, int *ms)
{
	const char	*v, *es;
	long long	 n;
	int		 bad = 0;

	*ms = def;
	if ((v = ctl_opt_take(argc, argv, "timeout", &bad)) == NULL && bad)
		return ctl_usage(c, cmd, "--timeout needs a value (ms)");
	if (v != NULL) {
		if (parse_num(v, 100, 600000, &n, &es) < 0)
			return ctl_usage(c, cmd, "--timeout '%s' is %s "
			    "(100..600000 ms)", v, es);
		*ms = (int)n;
	}
	return 0;
}

static const char *
peer_name(unsigned st)
{
	return st ? ha_fsm_state_name(st) : "not heard alive";
}

/* Poll the pair every 50 ms until done(a) or the timeout; returns the
 * elapsed ms, or -1 on timeout (a holds the last sample). */
static long long
ha_adm_wait(struct ha_adm *a, int (*done)(const struct ha_adm *),
    int timeout_ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		a->op = 3;
		ctl_run_on_loop(ha_adm_on_loop, a);
		if (done(a))
			return (long long)(now_ms() - t0);
		if (now_ms() - t0 >= (uint64_t)timeout_ms)
			return -1;
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
}

static int
moved(const struct ha_adm *a)
{
	return a->me == HA_STA_DAC_S && a->peer == HA_STA_DAC_M;
}

static int
cmd_master_move(struct ctl_ctx *c, int argc, char **argv)
{
	struct ha_adm	a;
	long long	ms;
	int		tmo, rc;

	if ((rc = ha_adm_timeout(c, "master move", &argc, argv, 10000,
	    &tmo)) != 0)
		return rc;
	if (argc != 0)
		return ctl_usage(c, "master move", "unexpected argument '%s'",
		    argv[0]);
	memset(&a, 0, sizeof(a));
	a.op = 0;
	ctl_run_on_loop(ha_adm_on_loop, &a);
	if (a.rc != 0) {
		ctl_printf(c, "master move: refused: %s\n", a.why);
		return a.rc == -2 ? CTL_EX_NOTMASTER : CTL_EX_FAIL;
	}
	ctl_printf(c, "master move: %s hands the master role to %s (no LUN "
	    "or IP moves); waiting up to %d ms\n", dd.me->name,
	    dd.cfg->heads[dd.me == &dd.cfg->heads[0] ? 1 : 0].name, tmo);
	if ((ms = ha_adm_wait(&a, moved, tmo)) < 0) {
		ctl_printf(c, "master move: not done within %d ms: this head "
		    "%s, the peer %s\n", tmo, ha_fsm_state_name(a.me),
		    peer_name(a.peer));
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "master move: done in %lld ms: this head DAC(slave), "
	    "the peer DAC(master)\n", ms);
	return CTL_EX_OK;
}

static int
cmd_node_standby_common(struct ctl_ctx *c, const char *cmd, enum ha_maint op,
    int argc, char **argv)
{
	int h;

	if (argc < 1)
		return ctl_usage(c, cmd, "needs a HEAD (%s or %s)",
		    dd.cfg->heads[0].name, dd.cfg->heads[1].name);
	if ((h = head_arg(argv[0])) < 0)
		return ctl_usage(c, cmd, "no head named '%s' (heads: %s, %s)",
		    argv[0], dd.cfg->heads[0].name, dd.cfg->heads[1].name);
	argc--;
	return maint_run(c, cmd, op, h, NULL, &argc, argv + 1);
}

static int
cmd_node_standby(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_node_standby_common(c, "node standby", HA_MAINT_STANDBY,
	    argc, argv);
}

static int
cmd_node_unstandby(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_node_standby_common(c, "node unstandby",
	    HA_MAINT_UNSTANDBY, argc, argv);
}

static int
cmd_takeover(struct ctl_ctx *c, int argc, char **argv)
{
	/* everything the peer serves comes here */
	return maint_run(c, "takeover", HA_MAINT_STANDBY, 1 - dd.self, NULL,
	    &argc, argv);
}

static int
cmd_giveback(struct ctl_ctx *c, int argc, char **argv)
{
	return maint_run(c, "giveback", HA_MAINT_GIVEBACK, -1, NULL, &argc,
	    argv);
}

static int
cmd_ip_move(struct ctl_ctx *c, int argc, char **argv)
{
	int h = -1;

	if (argc < 2)
		return ctl_usage(c, "ip move", "needs ADDRESS and HEAD (or "
		    "home)");
	if (strcmp(argv[1], "home") != 0 && (h = head_arg(argv[1])) < 0)
		return ctl_usage(c, "ip move", "no head named '%s' (heads: %s, "
		    "%s, or home)", argv[1], dd.cfg->heads[0].name,
		    dd.cfg->heads[1].name);
	argc -= 2;
	return maint_run(c, "ip move", HA_MAINT_IP_MOVE, h, argv[0], &argc,
	    argv + 2);
}

static int
reset_settled(const struct ha_adm *a)
{
	return a->me == HA_STA_MONITOR || ((a->me & (HA_STA_DAC |
	    HA_STA_DEGRADED)) != 0 && a->settled);
}

static int
cmd_reset(struct ctl_ctx *c, int argc, char **argv)
{
	struct ha_adm	a;
	long long	ms;
	int		tmo, rc;

	if ((rc = ha_adm_timeout(c, "reset", &argc, argv, 30000, &tmo)) != 0)
		return rc;
	if (argc != 0)
		return ctl_usage(c, "reset", "unexpected argument '%s'",
		    argv[0]);
	memset(&a, 0, sizeof(a));
	a.op = 1;
	ctl_run_on_loop(ha_adm_on_loop, &a);
	if (a.rc != 0) {
		ctl_printf(c, "reset: refused: %s\n", a.why);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "reset: %s starts over (BOOT); waiting up to %d ms until "
	    "it serves what it should (DAC or DEGRADED) or is in MONITOR\n",
	    dd.me->name, tmo);
	if ((ms = ha_adm_wait(&a, reset_settled, tmo)) < 0) {
		ctl_printf(c, "reset: not settled within %d ms: this head %s, "
		    "the peer %s\n", tmo, ha_fsm_state_name(a.me),
		    peer_name(a.peer));
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "reset: %s%s in %lld ms (the peer %s)\n",
	    ha_fsm_state_name(a.me), a.me == HA_STA_MONITOR ? "" :
	    ", serving", ms, peer_name(a.peer));
	return a.me == HA_STA_MONITOR ? CTL_EX_FAIL : CTL_EX_OK;
}

static int
handed_over(const struct ha_adm *a)
{
	return a->me == HA_STA_HALTED && a->held == 0;
}

static int
peer_took(const struct ha_adm *a)
{
	return a->peer_owns;
}

/*
 * Hand everything this head holds to the peer and stay HALTED: `duonas
 * shutdown`, and the first half of a restart through duonas-boot
 * (duonasd_image.c).  Prints as cmd; returns an exit code.
 */
int
head_release_all(struct ctl_ctx *c, const char *cmd, int tmo, int force)
{
	struct ha_adm	a;
	long long	ms;

	memset(&a, 0, sizeof(a));
	a.op = 3;
	ctl_run_on_loop(ha_adm_on_loop, &a);
	if (!force && (a.peer & (HA_STA_DAC | HA_STA_DEGRADED)) == 0) {
		ctl_printf(c, "%s: refused: the peer is %s: nobody would "
		    "serve this head's LUNs (--force to stop anyway)\n", cmd,
		    peer_name(a.peer));
		return CTL_EX_FAIL;
	}
	a.op = 2;
	ctl_run_on_loop(ha_adm_on_loop, &a);
	if (a.rc != 0) {
		ctl_printf(c, "%s: refused: %s\n", cmd, a.why);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "%s: %s releases its IPs, exports and LUNs to the "
	    "peer and stays HALTED; waiting up to %d ms\n", cmd, dd.me->name,
	    tmo);
	if ((ms = ha_adm_wait(&a, handed_over, tmo)) < 0) {
		ctl_printf(c, "%s: this head is %s and still holds %d "
		    "resource(s) after %d ms\n", cmd, ha_fsm_state_name(a.me),
		    a.held, tmo);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "%s: released everything in %lld ms; this head "
	    "is HALTED\n", cmd, ms);
	if (force && a.peer == 0)
		return CTL_EX_OK;
	/* the handover is done when the peer reserved every LUN (it
	 * serves them, then claims the IPs, right after) */
	if ((ms = ha_adm_wait(&a, peer_took, tmo)) < 0) {
		ctl_printf(c, "%s: the peer (%s) has not reserved every "
		    "LUN within %d ms\n", cmd, peer_name(a.peer), tmo);
		return CTL_EX_FAIL;
	}
	if (a.unreadable > 0) {
		/* a LUN whose disk fails here: its release could not be
		 * written and its reservation cannot be read back */
		ctl_printf(c, "%s: the peer (%s) reserved every LUN this "
		    "head can read %lld ms after the release\n"
		    "WARNING: %d LUN(s) cannot be read here (I/O errors, see "
		    "duonas status): the peer takes them once this head's "
		    "lease on them has run out; check there\n", cmd,
		    peer_name(a.peer), ms, a.unreadable);
		return CTL_EX_OK;
	}
	ctl_printf(c, "%s: the peer (%s) reserved every LUN %lld ms "
	    "after the release\n", cmd, peer_name(a.peer), ms);
	return CTL_EX_OK;
}

static int
cmd_shutdown(struct ctl_ctx *c, int argc, char **argv)
{
	int	tmo, rc, force;

	if ((rc = ha_adm_timeout(c, "shutdown", &argc, argv, 30000,
	    &tmo)) != 0)
		return rc;
	force = ctl_flag_take(&argc, argv, "force");
	if (argc != 0)
		return ctl_usage(c, "shutdown", "unexpected argument '%s'",
		    argv[0]);
	rc = head_release_all(c, "shutdown", tmo, force);
	if (rc == CTL_EX_OK)
		ctl_printf(c, "shutdown: duonas reset starts this head "
		    "again\n");
	return rc;
}

static int
cmd_version(struct ctl_ctx *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage(c, "version", "unexpected argument");
	ctl_printf(c, "duonasd %s\n", PACKAGE_VERSION);
	return CTL_EX_OK;
}

/* ---- --forward: a command run by the master (LINK_T_CTL_FWD) -------- */

/*
 * Request: the command's argv, each NUL-terminated (without --forward).
 * Reply: one byte, the exit code, then the master's answer.  The master
 * runs it like a command on its own socket; the link authenticated the
 * sender with the cluster key.  File arguments name files on the
 * master.  docs/admin-protocol.md.
 */
#define FWD_TIMEOUT_MS	600000		/* image upgrade runs that long */

struct fwd_wait {
	struct loop_wait	 w;
	struct buf		 req, rep;
	int			 rc;
};

static void
fwd_done(int status, const uint8_t *p, size_t len, void *arg)
{
	struct fwd_wait *f = arg;

	if (status != 0 || len < 1) {
		buf_printf(&f->rep, "duonas: forwarding to the master failed: "
		    "%s\n", status ? strerror(status) : "empty reply");
		f->rc = CTL_EX_UNAVAIL;
	} else {
		f->rc = p[0];
		buf_add(&f->rep, p + 1, len - 1);
	}
	loop_wait_done(&f->w, 0);
}

static void
fwd_send(void *arg)
{
	struct fwd_wait *f = arg;

	link_request(LINK_T_CTL_FWD, f->req.data, f->req.len, FWD_TIMEOUT_MS,
	    fwd_done, f);
}

struct fwd_where {
	int	opmode;
	int	peer_up;
};

static void
fwd_where_on_loop(void *arg)
{
	struct fwd_where *w = arg;

	w->opmode = (int)ha_opmode();
	w->peer_up = link_peer_up();
}

static int
forward_cmd(int argc, char **argv, struct buf *out)
{
	const struct cfg_head	*peer = &dd.cfg->heads[1 - dd.self];
	struct fwd_where	 w;
	struct fwd_wait		 f;

	loop_call_wait(fwd_where_on_loop, &w);
	if (w.opmode == HA_OPMODE_MASTER)
		return -1;		/* this head runs it */
	if (w.opmode != HA_OPMODE_SLAVE || !w.peer_up) {
		buf_printf(out, "duonas: not forwarded: this head (%s) is %s "
		    "and the master is not known to be %s\n", dd.me->name,
		    ha_state_name(), peer->name);
		return CTL_EX_NOTMASTER;
	}
	memset(&f, 0, sizeof(f));
	buf_init(&f.req);
	buf_init(&f.rep);
	for (int i = 0; i < argc; i++)
		buf_add(&f.req, argv[i], strlen(argv[i]) + 1);
	loop_wait_init(&f.w);
	loop_call(fwd_send, &f);
	loop_wait(&f.w);
	loop_wait_destroy(&f.w);
	buf_printf(out, "(forwarded to the master %s over the peer link)\n",
	    peer->name);
	buf_add(out, f.rep.data, f.rep.len);
	buf_free(&f.req);
	buf_free(&f.rep);
	return f.rc;
}

struct fwd_job {
	struct link_req	*rq;
	char		*req;
	char		*argv[CTL_MAX_ARGS];
	int		 argc;
	struct buf	 out;
	int		 rc;
};

static void
fwd_reply_on_loop(void *arg)
{
	struct fwd_job	*j = arg;
	struct buf	 r;

	buf_init(&r);
	buf_add_u8(&r, (uint8_t)j->rc);
	buf_add(&r, j->out.data, j->out.len);
	link_reply(j->rq, r.data, r.len);
	buf_free(&r);
	buf_free(&j->out);
	free(j->req);
	free(j);
}

static void *
fwd_thread(void *arg)
{
	struct fwd_job	*j = arg;

	j->rc = ctl_dispatch(j->argc, j->argv, &j->out);
	loop_call(fwd_reply_on_loop, j);
	return NULL;
}

static void
fwd_rx(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct fwd_job	*j;
	pthread_t	 t;
	char		 msg[160];

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (ha_opmode() != HA_OPMODE_MASTER) {
		msg[0] = CTL_EX_NOTMASTER;
		snprintf(msg + 1, sizeof(msg) - 1, "duonas: %s is not the "
		    "master either (%s): not run\n", dd.me->name,
		    ha_state_name());
		link_reply(rq, msg, 1 + strlen(msg + 1));
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->rq = rq;
	buf_init(&j->out);
	/* the same words as on the admin socket, cut the same way */
	j->req = xmalloc(len + 1);
	memcpy(j->req, p, len);
	if (len > (1u << 20))
		buf_printf(&j->out, "duonas: forwarded command too long\n");
	if (len > (1u << 20) || (j->argc = ctl_req_split(j->req,
	    (uint32_t)len, j->argv, &j->out)) < 0) {
		j->rc = CTL_EX_USAGE;
		fwd_reply_on_loop(j);
		return;
	}
	log_info("ctl: running a command forwarded by the peer: %s",
	    j->argv[0]);
	if (pthread_create(&t, NULL, fwd_thread, j) != 0) {
		j->rc = CTL_EX_FAIL;
		buf_printf(&j->out, "duonas: the master cannot start a "
		    "thread\n");
		fwd_reply_on_loop(j);
		return;
	}
	pthread_detach(t);
}

void
ctl_handlers_register(void)
{
	ctl_set_forward(forward_cmd);
	link_register(LINK_T_CTL_FWD, fwd_rx, NULL);
	ctl_register("status", cmd_status);
	ctl_register("version", cmd_version);
	ctl_register("master move", cmd_master_move);
	ctl_register("reset", cmd_reset);
	ctl_register("shutdown", cmd_shutdown);
	ctl_register("link block", cmd_link_block);
	ctl_register("link unblock", cmd_link_unblock);
	ctl_register("health", cmd_health);
	ctl_register("health fault", cmd_health_fault);
	ctl_register("ha fault handover", cmd_ha_fault_handover);
	ctl_register("ha fault surrender", cmd_ha_fault_surrender);
	ctl_register("ha fault blind", cmd_ha_fault_blind);
	ctl_register("node standby", cmd_node_standby);
	ctl_register("node unstandby", cmd_node_unstandby);
	ctl_register("takeover", cmd_takeover);
	ctl_register("giveback", cmd_giveback);
	ctl_register("ip move", cmd_ip_move);
	ctl_register("link lossy", cmd_link_lossy);
	services_ctl_register();
	if (dd.monitor)		/* no PSO store in MONITOR */
		return;
	ctl_register("pso ls", cmd_pso_ls);
	ctl_register("pso get", cmd_pso_get);
	ctl_register("pso create", cmd_pso_create);
	ctl_register("pso set", cmd_pso_set);
	ctl_register("pso rm", cmd_pso_rm);
	ctl_register("pso lock", cmd_pso_lock);
	ctl_register("pso unlock", cmd_pso_unlock);
	ctl_register("pso bench", cmd_pso_bench);
	ctl_register("pso fill", cmd_pso_fill);
	ctl_register("pso reset", cmd_pso_reset);
	locks_ctl_register();
}

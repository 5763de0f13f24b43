/*
 * duonasd_locks.c — the `duonas locks` admin commands: list the cluster
 * byte-range lock table of this head, clear a client's or an export's
 * locks (the change goes through the arbiter, so either head works),
 * take / release / test locks as a test client (BRL_PROTO_ADMIN, no NFS
 * needed), fill the table for resync tests, and measure lock+unlock
 * round trips.  The table: pso/brl.h,
 * docs/locks.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "duonasd.h"
#include "pso/brl.h"
#include "pso/brl_int.h"	/* brl_list_ex: grant-pending locks */

static const char *
proto_name(uint8_t p)
{
	switch (p) {
	case BRL_PROTO_NLM:
		return "nlm";
	case BRL_PROTO_SMB:
		return "smb";
	case BRL_PROTO_ADMIN:
		return "admin";
	default:
		return "?";
	}
}

struct ls_arg {
	struct ctl_ctx	*c;
	int		 n;
};

static int
ls_cb(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, int waiting, void *arg)
{
	struct ls_arg	*a = arg;
	char		 kh[2 * BRL_KH_MAX + 1], oh[2 * BRL_OH_MAX + 1];
	const char	*state;

	hex_encode(kh, f->kh, f->khlen);
	hex_encode(oh, o->oh, o->ohlen);
	state = waiting & 0x100 ? "share" : waiting == 1 ? "waiting" :
	    waiting == 2 ? "grant-pending" : "held";
	if (a->c->json) {
		ctl_printf(a->c, "%s{\"export\":%u,\"khtype\":%u,\"handle\":"
		    "\"%s\",\"proto\":\"%s\",\"client\":", a->n ? "," : "",
		    f->expid, f->khtype, kh, proto_name(o->proto));
		buf_add_json_str(&a->c->out, o->client);
		ctl_printf(a->c, ",\"svid\":%u,\"oh\":\"%s\",\"state\":\"%s\"",
		    o->svid, oh, state);
		if (r)
			ctl_printf(a->c, ",\"start\":%llu,\"len\":%llu,"
			    "\"type\":\"%s\"}", (unsigned long long)r->start,
			    (unsigned long long)r->len, r->excl ? "excl" :
			    "shared");
		else
			ctl_printf(a->c, ",\"access\":%d,\"deny\":%d}",
			    (waiting >> 4) & 3, waiting & 3);
	} else {
		ctl_printf(a->c, "%u %02x:%s %s %s svid=%u", f->expid,
		    f->khtype, kh, proto_name(o->proto), o->client, o->svid);
		if (o->ohlen)
			ctl_printf(a->c, " oh=%s", oh);
		if (r)
			ctl_printf(a->c, " %llu+%llu%s %s %s\n",
			    (unsigned long long)r->start,
			    (unsigned long long)r->len, r->len ? "" : "(eof)",
			    r->excl ? "excl" : "shared", state);
		else
			ctl_printf(a->c, " share access=%d deny=%d\n",
			    (waiting >> 4) & 3, waiting & 3);
	}
	a->n++;
	return 0;
}

static int
cmd_locks(struct ctl_ctx *c, int argc, char **argv)
{
	struct ls_arg	a = { c, 0 };
	struct brl_stats st;

	if (argc != 0)
		return ctl_usage(c, "locks", "unexpected argument '%s'",
		    argv[0]);
	brl_stats_get(&st);
	if (c->json) {
		ctl_printf(c, "{\"ready\":%s,\"arbiter\":%s,\"grace_ms\":%llu,"
		    "\"entries\":[", st.ready ? "true" : "false",
		    st.arbiter ? "true" : "false",
		    (unsigned long long)st.grace_ms);
		brl_list_ex(ls_cb, &a, 1);
		ctl_printf(c, "]}\n");
		return CTL_EX_OK;
	}
	if (!st.ready)
		ctl_printf(c, "# lock table NOT ready (joining the peer)\n");
	if (st.grace_ms)
		ctl_printf(c, "# grace period: %llu s left\n",
		    (unsigned long long)(st.grace_ms + 999) / 1000);
	brl_list_ex(ls_cb, &a, 1);
	if (a.n == 0)
		ctl_printf(c, "# no locks\n");
	return CTL_EX_OK;
}

static int
cmd_locks_clear(struct ctl_ctx *c, int argc, char **argv)
{
	const char	*cl, *ex, *es;
	long long	 v;
	uint64_t	 n = 0;
	int		 bad = 0, all, rc;

	cl = ctl_opt_take(&argc, argv, "client", &bad);
	ex = ctl_opt_take(&argc, argv, "export", &bad);
	all = ctl_flag_take(&argc, argv, "all");
	if (bad)
		return ctl_usage(c, "locks clear", "option needs a value");
	if (argc != 0)
		return ctl_usage(c, "locks clear", "unexpected argument '%s'",
		    argv[0]);
	if ((cl != NULL) + (ex != NULL) + all != 1)
		return ctl_usage(c, "locks clear", "give exactly one of "
		    "--client NAME, --export ID, --all");
	if (cl && (cl[0] == '\0' || strlen(cl) >= BRL_CLIENT_MAX))
		return ctl_usage(c, "locks clear", "client name must be 1..%d "
		    "bytes", BRL_CLIENT_MAX - 1);
	if (ex) {
		if (parse_num(ex, 0, UINT32_MAX, &v, &es) < 0)
			return ctl_usage(c, "locks clear", "--export '%s' is "
			    "%s", ex, es);
		rc = brl_free_export((uint32_t)v, &n);
	} else
		rc = brl_free_client(0, all ? NULL : cl, &n);
	if (rc != BRL_OK) {
		ctl_printf(c, "duonas locks clear: %s\n", brl_strerror(rc));
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "%llu entries released\n", (unsigned long long)n);
	return CTL_EX_OK;
}

/* EXPID HANDLEHEX CLIENT START LEN [excl|shared] */
static int
parse_lock_args(struct ctl_ctx *c, const char *cmd, int argc, char **argv,
    int want_type, struct brl_file *f, struct brl_owner *o,
    struct brl_range *r)
{
	const char	*es, *hx;
	long long	 v;
	size_t		 hl;

	if (argc != 5 + want_type)
		return ctl_usage(c, cmd, "needs EXPID HANDLEHEX CLIENT START "
		    "LEN%s", want_type ? " excl|shared" : "");
	memset(f, 0, sizeof(*f));
	memset(o, 0, sizeof(*o));
	memset(r, 0, sizeof(*r));
	if (parse_num(argv[0], 0, UINT32_MAX, &v, &es) < 0)
		return ctl_usage(c, cmd, "EXPID '%s' is %s", argv[0], es);
	f->expid = (uint32_t)v;
	/* "TT:HEX" as `duonas locks` prints it, or HEX (handle type 0) */
	hx = argv[1];
	if (strlen(hx) > 3 && hx[2] == ':') {
		char tt[3] = { hx[0], hx[1], '\0' };

		if (hex_decode(&f->khtype, 1, tt) < 0)
			return ctl_usage(c, cmd, "handle type in '%s' must be "
			    "two hex digits", hx);
		hx += 3;
	}
	hl = strlen(hx);
	if (hl == 0 || hl % 2 || hl / 2 > BRL_KH_MAX ||
	    hex_decode(f->kh, sizeof(f->kh), hx) < 0)
		return ctl_usage(c, cmd, "HANDLEHEX '%s' must be 1..%d bytes "
		    "in hex, optionally after TT: (the handle type)", argv[1],
		    BRL_KH_MAX);
	f->khlen = (uint8_t)(hl / 2);
	if (argv[2][0] == '\0' || strlen(argv[2]) >= BRL_CLIENT_MAX)
		return ctl_usage(c, cmd, "CLIENT must be 1..%d bytes",
		    BRL_CLIENT_MAX - 1);
	o->proto = BRL_PROTO_ADMIN;
	snprintf(o->client, sizeof(o->client), "%s", argv[2]);
	/* START and LEN are u64: parse_num stops at 2^63-1, enough here */
	if (parse_num(argv[3], 0, INT64_MAX, &v, &es) < 0)
		return ctl_usage(c, cmd, "START '%s' is %s", argv[3], es);
	r->start = (uint64_t)v;
	if (parse_num(argv[4], 0, INT64_MAX, &v, &es) < 0)
		return ctl_usage(c, cmd, "LEN '%s' is %s (0: to the end)",
		    argv[4], es);
	r->len = (uint64_t)v;
	if (want_type) {
		if (strcmp(argv[5], "excl") == 0)
			r->excl = 1;
		else if (strcmp(argv[5], "shared") != 0)
			return ctl_usage(c, cmd, "type '%s': excl or shared",
			    argv[5]);
	}
	return 0;
}

/* One result line; exit 0 only for BRL_OK. */
static int
lock_result(struct ctl_ctx *c, int rc, const struct brl_owner *h,
    const struct brl_range *hr)
{
	static const char *const name[] = { "granted", "denied", "blocked",
	    "grace", "nolocks", "unavailable", "invalid", "deadlock" };

	ctl_printf(c, "%s", rc >= 0 && rc < (int)nitems(name) ? name[rc] :
	    "?");
	if ((rc == BRL_DENIED || rc == BRL_BLOCKED) && h->client[0])
		ctl_printf(c, " by %s %s svid=%u %llu+%llu %s", proto_name(
		    h->proto), h->client, h->svid,
		    (unsigned long long)hr->start,
		    (unsigned long long)hr->len, hr->excl ? "excl" : "shared");
	ctl_printf(c, "\n");
	return rc == BRL_OK ? CTL_EX_OK : CTL_EX_FAIL;
}

static int
cmd_locks_take(struct ctl_ctx *c, int argc, char **argv)
{
	struct brl_file		f;
	struct brl_owner	o, h;
	struct brl_range	r, hr;
	int			flags = 0, rc;

	if (ctl_flag_take(&argc, argv, "wait"))
		flags |= BRL_F_WAIT;
	if (ctl_flag_take(&argc, argv, "reclaim"))
		flags |= BRL_F_RECLAIM;
	if ((rc = parse_lock_args(c, "locks take", argc, argv, 1, &f, &o,
	    &r)) != 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memset(&hr, 0, sizeof(hr));
	rc = brl_lock(&f, &o, &r, flags, "admin", 5, &h, &hr);
	return lock_result(c, rc, &h, &hr);
}

static int
cmd_locks_try(struct ctl_ctx *c, int argc, char **argv)
{
	struct brl_file		f;
	struct brl_owner	o, h;
	struct brl_range	r, hr;
	int			rc;

	if ((rc = parse_lock_args(c, "locks try", argc, argv, 1, &f, &o,
	    &r)) != 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memset(&hr, 0, sizeof(hr));
	rc = brl_test(&f, &o, &r, &h, &hr);
	return lock_result(c, rc, &h, &hr);
}

static int
cmd_locks_release(struct ctl_ctx *c, int argc, char **argv)
{
	struct brl_file		f;
	struct brl_owner	o, h;
	struct brl_range	r, hr;
	int			rc, cancel;

	cancel = ctl_flag_take(&argc, argv, "cancel");
	if ((rc = parse_lock_args(c, "locks release", argc, argv, 0, &f, &o,
	    &r)) != 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memset(&hr, 0, sizeof(hr));
	rc = cancel ? brl_cancel(&f, &o, &r) : brl_unlock(&f, &o, &r);
	return lock_result(c, rc, &h, &hr);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct bench {
	pthread_t	 t;
	int		 id, n, rc;
	uint64_t	*lat;
};

/* One bench thread: n lock+unlock pairs on a file of its own. */
static void *
bench_main(void *arg)
{
	struct bench		*b = arg;
	struct brl_file		 f;
	struct brl_owner	 o;
	struct brl_range	 r = { 0, 100, 1 };
	uint64_t		 t0;
	int			 i;

	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	f.expid = 0xffffffffu;
	f.khlen = 8;
	memcpy(f.kh, "bench", 5);
	put_be16(f.kh + 6, (uint16_t)b->id);
	o.proto = BRL_PROTO_ADMIN;
	snprintf(o.client, sizeof(o.client), "bench%d", b->id);
	b->rc = BRL_OK;
	for (i = 0; i < b->n; i++) {
		t0 = now_us();
		if ((b->rc = brl_lock(&f, &o, &r, 0, NULL, 0, NULL, NULL)) !=
		    BRL_OK || (b->rc = brl_unlock(&f, &o, &r)) != BRL_OK)
			break;
		b->lat[i] = now_us() - t0;
	}
	return NULL;
}

static int
cmd_locks_bench(struct ctl_ctx *c, int argc, char **argv)
{
	struct bench		*b;
	struct brl_stats	 st;
	const char		*ts, *es;
	long long		 v = 2000, nt = 1;
	uint64_t		*lat, t1;
	int			 i, n, rc = BRL_OK, bad = 0, total;

	ts = ctl_opt_take(&argc, argv, "threads", &bad);
	if (bad || (ts && parse_num(ts, 1, 64, &nt, &es) < 0))
		return ctl_usage(c, "locks bench", "--threads must be 1..64");
	if (argc > 1 || (argc == 1 && parse_num(argv[0], 10, 1000000, &v,
	    &es) < 0))
		return ctl_usage(c, "locks bench", "N must be 10..1000000");
	n = (int)v;
	total = n * (int)nt;
	lat = xcalloc((size_t)total, sizeof(*lat));
	b = xcalloc((size_t)nt, sizeof(*b));
	t1 = now_us();
	for (i = 0; i < nt; i++) {
		b[i].id = i;
		b[i].n = n;
		b[i].lat = lat + (size_t)i * (size_t)n;
		if (pthread_create(&b[i].t, NULL, bench_main, &b[i]) != 0)
			fatal("locks bench: cannot start a thread");
	}
	for (i = 0; i < nt; i++) {
		pthread_join(b[i].t, NULL);
		if (b[i].rc != BRL_OK)
			rc = b[i].rc;
	}
	t1 = now_us() - t1;
	free(b);
	if (rc != BRL_OK) {
		free(lat);
		ctl_printf(c, "duonas locks bench: %s\n", brl_strerror(rc));
		return CTL_EX_FAIL;
	}
	qsort(lat, (size_t)total, sizeof(*lat), cmp_u64);
	brl_stats_get(&st);
	ctl_printf(c, "brl_lock_unlock_us_p50=%llu\nbrl_lock_unlock_us_p99=%llu"
	    "\nbrl_pairs_per_s=%.0f\nbrl_bench_count=%d\nbrl_bench_threads="
	    "%lld\nbrl_arbiter=%d\n",
	    (unsigned long long)lat[total / 2],
	    (unsigned long long)lat[MIN(total - 1, total * 99 / 100)],
	    total * 1e6 / (double)(t1 ? t1 : 1), total, nt, st.arbiter);
	free(lat);
	return CTL_EX_OK;
}

/* Test tool: n exclusive locks 0+1 of client on files (expid, be32 i). */
static int
cmd_locks_fill(struct ctl_ctx *c, int argc, char **argv)
{
	struct brl_file		f;
	struct brl_owner	o;
	struct brl_range	r = { 0, 1, 1 };
	const char		*es;
	long long		 ex, n, i;
	int			 rc = BRL_OK;

	if (argc != 3)
		return ctl_usage(c, "locks fill", "needs EXPID CLIENT N");
	if (parse_num(argv[0], 0, UINT32_MAX, &ex, &es) < 0)
		return ctl_usage(c, "locks fill", "EXPID '%s' is %s", argv[0],
		    es);
	if (argv[1][0] == '\0' || strlen(argv[1]) >= BRL_CLIENT_MAX)
		return ctl_usage(c, "locks fill", "CLIENT must be 1..%d bytes",
		    BRL_CLIENT_MAX - 1);
	if (parse_num(argv[2], 1, 1000000, &n, &es) < 0)
		return ctl_usage(c, "locks fill", "N '%s' is %s", argv[2], es);
	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	f.expid = (uint32_t)ex;
	f.khlen = 4;
	o.proto = BRL_PROTO_ADMIN;
	snprintf(o.client, sizeof(o.client), "%s", argv[1]);
	for (i = 0; i < n; i++) {
		put_be32(f.kh, (uint32_t)i);
		if ((rc = brl_lock(&f, &o, &r, 0, NULL, 0, NULL, NULL)) !=
		    BRL_OK)
			break;
	}
	ctl_printf(c, "%lld locks taken%s%s\n", i, rc ? ": " : "",
	    rc ? brl_strerror(rc) : "");
	return rc == BRL_OK ? CTL_EX_OK : CTL_EX_FAIL;
}

/* Test switch: how grants to admin owners are answered on this head. */
static int
cmd_locks_grant_answer(struct ctl_ctx *c, int argc, char **argv)
{
	static const char *const name[] = { "notmine", "done", "refused",
	    "retry" };
	int i;

	if (argc == 2 && (argv[1][0] == '\0' ||
	    strlen(argv[1]) >= BRL_CLIENT_MAX))
		return ctl_usage(c, "locks grant-answer", "CLIENT must be "
		    "1..%d bytes", BRL_CLIENT_MAX - 1);
	for (i = 0; (argc == 1 || argc == 2) && i < (int)nitems(name); i++)
		if (strcmp(argv[0], name[i]) == 0) {
			brl_admin_grant_answer(i, argc == 2 ? argv[1] : NULL);
			ctl_printf(c, "grants to admin owners%s%s answer %s\n",
			    argc == 2 ? " of " : "", argc == 2 ? argv[1] : "",
			    name[i]);
			return CTL_EX_OK;
		}
	return ctl_usage(c, "locks grant-answer", "needs one of done, "
	    "refused, retry, notmine, and optionally CLIENT");
}

void
locks_ctl_register(void)
{
	ctl_register("locks", cmd_locks);
	ctl_register("locks clear", cmd_locks_clear);
	ctl_register("locks take", cmd_locks_take);
	ctl_register("locks try", cmd_locks_try);
	ctl_register("locks release", cmd_locks_release);
	ctl_register("locks bench", cmd_locks_bench);
	ctl_register("locks fill", cmd_locks_fill);
	ctl_register("locks grant-answer", cmd_locks_grant_answer);
}

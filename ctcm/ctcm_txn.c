/*
 * ctcm_txn.c — configuration transactions at run time: the commit
 * protocol on the master, installing pushed generations on the slave,
 * catch-up between heads when the link comes up, array repair when this
 * head becomes master, and MONITOR polling (docs/ctcm.md).
 *
 * A commit runs on an admin worker thread: local txn mutex, then the
 * cluster-wide PSO lock "ctcm.txn", then edit + validate, array majority,
 * push to the peer (link request, loop thread), local install, module
 * callbacks (loop thread).  Installs on the slave run on a short-lived
 * thread so the loop never waits for fsync.  Peer messages are checked
 * for length before their payload is used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pool/pext.h"
#include "pso/pso.h"

#define CTCM_T_PUSH	(LINK_T_CTCM_FIRST + 0)
#define CTCM_T_GEN	(LINK_T_CTCM_FIRST + 1)
#define CTCM_T_FETCH	(LINK_T_CTCM_FIRST + 2)
#define MAX_CBS		16

static struct { ctcm_install_cb fn; void *arg; } install_cbs[MAX_CBS];
static int ninstall_cbs;
static struct { ctcm_validate_cb fn; void *arg; } validators[MAX_CBS];
static int nvalidators;
static int push_timeout_ms = 2000;
static volatile int shutting_down;

void
ctcm_on_install(ctcm_install_cb cb, void *arg)
{
	if (ninstall_cbs == MAX_CBS)
		fatalx("ctcm: too many install callbacks");
	install_cbs[ninstall_cbs].fn = cb;
	install_cbs[ninstall_cbs].arg = arg;
	ninstall_cbs++;
}

void
ctcm_validator_register(ctcm_validate_cb cb, void *arg)
{
	if (nvalidators == MAX_CBS)
		fatalx("ctcm: too many validators");
	validators[nvalidators].fn = cb;
	validators[nvalidators].arg = arg;
	nvalidators++;
}

/* ---- helpers ---------------------------------------------------------- */

struct installed {
	uint64_t	 gen;
	struct cfg	*cfg;
};

static void
installed_on_loop(void *p)
{
	struct installed *in = p;

	for (int i = 0; i < ninstall_cbs; i++)
		install_cbs[i].fn(in->gen, in->cfg, install_cbs[i].arg);
	free(in->cfg);
	free(in);
}

/* After an install: new state, then tell the modules on the loop. */
static void
installed(const struct ctcm_bundle *b, const struct cfg *newcfg)
{
	struct installed *in = xmalloc(sizeof(*in));

	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.gen = b->gen;
	ctcm_g.crc = ctcm_content_crc(b);
	ctcm_g.max_seen = MAX(ctcm_g.max_seen, b->gen);
	ctcm_g.cfg = *newcfg;
	pthread_mutex_unlock(&ctcm_g.mtx);
	in->gen = b->gen;
	in->cfg = xmalloc(sizeof(*in->cfg));
	*in->cfg = *newcfg;
	loop_call(installed_on_loop, in);
}

int
ctcm_current(struct ctcm_bundle *b)
{
	uint64_t	gen;
	int		rc;

	pthread_mutex_lock(&ctcm_g.mtx);
	gen = ctcm_g.gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (gen == 0)
		return CTCM_E_MONITOR;
	if ((rc = ctcm_local_load(&ctcm_g.local, gen, b)) != 0)
		log_warnx("ctcm: history bundle of generation %llu: %s",
		    (unsigned long long)gen, ctcm_strerror(rc));
	return rc;
}

/* Image = b followed by local history older than it. */
static void
build_image(const struct ctcm_bundle *b, struct buf *o)
{
	struct ctcm_bundle	v[CTCM_HISTORY_LOCAL + 1];
	uint64_t		gens[CTCM_HISTORY_LOCAL];
	int			n = 1, ng, hist;

	pthread_mutex_lock(&ctcm_g.mtx);
	hist = ctcm_g.history;
	pthread_mutex_unlock(&ctcm_g.mtx);
	v[0] = *b;
	ng = ctcm_local_list(&ctcm_g.local, gens, CTCM_HISTORY_LOCAL);
	for (int i = 0; i < ng && n <= hist; i++) {
		if (gens[i] >= b->gen)
			continue;
		if (ctcm_local_load(&ctcm_g.local, gens[i], &v[n]) == 0)
			n++;
	}
	if (ctcm_image_encode(v, n, (size_t)(PEXT_V1_CFG_BLOCKS - 1) *
	    PEXT_BLOCK_SIZE, o) < 0)
		log_warnx("ctcm: generation %llu does not fit a replica slot",
		    (unsigned long long)b->gen);
	for (int i = 1; i < n; i++)
		ctcm_bundle_free(&v[i]);
}

int
ctcm_validate(const struct ctcm_bundle *b, struct cfg *out, char *err,
    size_t errlen)
{
	struct ctcm_export	*v = NULL;
	size_t			 clen, elen;
	const char		*conf = ctcm_bundle_text(b, CTCM_SEC_CONF, &clen);
	const char		*exp = ctcm_bundle_text(b, CTCM_SEC_EXPORTS,
				    &elen);
	char			 e[512];
	int			 n, rv = -1;

	if (ctcm_bundle_get(b, CTCM_SEC_CONF) == NULL) {
		snprintf(err, errlen, "the configuration has no duonas.conf");
		return -1;
	}
	if (cfg_parse_buf("duonas.conf", conf, clen, out, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.gen != 0 && !ctcm_g.monitor) {
		const struct cfg *cur = &ctcm_g.cfg;

		if (strcmp(cur->cluster, out->cluster) != 0)
			snprintf(e, sizeof(e), "the cluster name cannot change "
			    "(%s -> %s): it identifies the pool's LUNs",
			    cur->cluster, out->cluster);
		else if (cur->heads[0].id != out->heads[0].id ||
		    cur->heads[1].id != out->heads[1].id ||
		    strcmp(cur->heads[0].name, out->heads[0].name) != 0 ||
		    strcmp(cur->heads[1].name, out->heads[1].name) != 0)
			snprintf(e, sizeof(e), "head names and ids cannot "
			    "change in a transaction");
		else
			e[0] = 0;
	} else
		e[0] = 0;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (e[0]) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	if (ctcm_exports_parse(exp, &v, &n, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (ctcm_check_export(out, &v[i], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "exports line %d: %s", v[i].line,
			    e);
			goto out;
		}
		for (int j = 0; j < i; j++)
			if (v[j].id == v[i].id || strcmp(v[j].path,
			    v[i].path) == 0) {
				snprintf(err, errlen, "exports line %d: %s "
				    "(id %u) clashes with line %d", v[i].line,
				    v[i].path, v[i].id, v[j].line);
				goto out;
			}
	}
	for (int i = 0; i < nvalidators; i++)
		if (validators[i].fn(out, exp, elen, err, errlen,
		    validators[i].arg) < 0)
			goto out;
	rv = 0;
out:
	free(v);
	return rv;
}

/* ---- push to the peer (worker thread -> loop) ---------------------------- */

struct push {
	const struct buf	*img;
	struct loop_wait	 w;
	uint64_t		 gen;
	int			 status;
};

static void
push_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct push	*ps = arg;
	struct rd	 r;

	if (status == 0) {
		rd_init(&r, p, len);
		ps->status = (int)rd_u32(&r);
		ps->gen = rd_u64(&r);
		if (r.err)
			ps->status = CTCM_E_SHORT;
	} else
		ps->status = status;
	loop_wait_done(&ps->w, 0);
}

static void
push_on_loop(void *arg)
{
	struct push *ps = arg;

	if (!link_peer_up()) {
		ps->status = ENOTCONN;
		loop_wait_done(&ps->w, 0);
		return;
	}
	link_request(CTCM_T_PUSH, ps->img->data, ps->img->len, push_timeout_ms,
	    push_reply_cb, ps);
}

static int
push_peer(const struct buf *img, uint64_t gen)
{
	struct push	ps;

	memset(&ps, 0, sizeof(ps));
	ps.img = img;
	loop_wait_init(&ps.w);
	loop_call(push_on_loop, &ps);
	loop_wait(&ps.w);
	loop_wait_destroy(&ps.w);
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ps.status == 0) {
		ctcm_g.peer_gen = ps.gen;
		ctcm_g.peer_known = 1;
	} else
		ctcm_g.push_fail++;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (ps.status == 0 && ps.gen != gen)
		ps.status = CTCM_E_STALE;
	return ps.status;
}

/* ---- the commit ------------------------------------------------------------ */

void
ctcm_run_on_loop(void (*fn)(void *), void *arg)
{
	loop_call_wait(fn, arg);
}

struct opm { enum ha_opmode m; };

static void
opmode_on_loop(void *p)
{
	((struct opm *)p)->m = ha_opmode();
}

static enum ha_opmode
opmode_now(void)
{
	struct opm	o = { HA_OPMODE_NONE };

	ctcm_run_on_loop(opmode_on_loop, &o);
	return o.m;
}

int
ctcm_is_master(void)
{
	return opmode_now() == HA_OPMODE_MASTER;
}

/* Write b (gen already set) everywhere: array majority, peer, local. */
static int
commit_bundle(const struct ctcm_bundle *b, const struct cfg *newcfg,
    int monitor, struct ctcm_result *res)
{
	struct buf	img;
	int		ok, need, setsize, rc;
	char		err[512];

	buf_init(&img);
	build_image(b, &img);
	if (img.len == 0) {
		snprintf(res->msg, sizeof(res->msg), "generation %llu does "
		    "not fit a replica slot", (unsigned long long)b->gen);
		rc = EFBIG;
		goto out;
	}
	setsize = ctcm_array_setsize(newcfg, ctcm_g.nreplicas);
	need = ctcm_array_majority(setsize);
	ok = ctcm_array_write(newcfg, ctcm_g.self, ctcm_g.nreplicas, b->gen,
	    img.data, img.len, res->rep);
	res->nrep = setsize;
	res->replicas_ok = ok;
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.max_seen = MAX(ctcm_g.max_seen, b->gen);
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (ok < need) {
		snprintf(res->msg, sizeof(res->msg), "only %d of %d "
		    "configuration replicas written (need %d): nothing "
		    "changed", ok, setsize, need);
		rc = CTCM_E_NOMAJORITY;
		res->partial = ok > 0;
		goto out;
	}
	if (!monitor) {
		rc = push_peer(&img, b->gen);
		res->peer_rc = rc;
		if (rc != 0)
			log_warnx("ctcm: generation %llu: peer did not install "
			    "it (%s); it catches up from the array or the "
			    "link", (unsigned long long)b->gen,
			    ctcm_strerror(rc));
	}
	if ((rc = ctcm_local_install(&ctcm_g.local, b, err, sizeof(err)))
	    != 0) {
		/* the array holds it: a restart restores it */
		snprintf(res->msg, sizeof(res->msg), "generation %llu is on "
		    "the array but the local install failed: %s",
		    (unsigned long long)b->gen, err);
		goto out;
	}
	installed(b, newcfg);
	rc = 0;
out:
	buf_free(&img);
	return rc;
}

static int
txn_lock(pso_id *idp, uint64_t *owner, char *msg, size_t msglen)
{
	int rc;

	*owner = pso_name_id("ctcm.txn.owner");
	rc = pso_create("ctcm.txn", PSO_PERSISTENT, idp);
	if (rc == PSO_EXISTS)
		rc = pso_lookup("ctcm.txn", idp);
	if (rc == 0)
		rc = pso_lock(*idp, *owner, 10000);
	if (rc != 0)
		snprintf(msg, msglen, "cannot take the transaction lock: %s",
		    pso_strerror(rc));
	return rc;
}

int
ctcm_txn_run(ctcm_edit_fn edit, void *arg, const char *author,
    const char *summary, int flags, struct ctcm_result *res)
{
	struct ctcm_bundle	 cur, next;
	struct cfg		*newcfg = xcalloc(1, sizeof(*newcfg));
	pso_id			 lid = 0;
	uint64_t		 owner = 0, t0 = now_us();
	int			 rc, locked = 0, monitor;

	memset(res, 0, sizeof(*res));
	ctcm_bundle_init(&cur);
	ctcm_bundle_init(&next);
	pthread_mutex_lock(&ctcm_g.txn);
	monitor = ctcm_monitor();
	if (monitor && !(flags & CTCM_TXN_MONITOR_OK)) {
		snprintf(res->msg, sizeof(res->msg), "this head has no valid "
		    "configuration (MONITOR): only config import works");
		rc = CTCM_E_MONITOR;
		goto out;
	}
	if (!monitor) {
		if (opmode_now() != HA_OPMODE_MASTER) {
			snprintf(res->msg, sizeof(res->msg), "this head is no "
			    "longer the master");
			rc = CTCM_E_NOTMASTER;
			goto out;
		}
		if ((rc = txn_lock(&lid, &owner, res->msg,
		    sizeof(res->msg))) != 0)
			goto out;
		locked = 1;
		if ((rc = ctcm_current(&cur)) != 0) {
			snprintf(res->msg, sizeof(res->msg), "cannot read the "
			    "current configuration: %s", ctcm_strerror(rc));
			goto out;
		}
	}
	if ((rc = edit(&cur, &next, arg, res->msg, sizeof(res->msg))) != 0)
		goto out;
	if (!monitor && ctcm_content_crc(&next) == ctcm_content_crc(&cur) &&
	    !(flags & CTCM_TXN_FORCE)) {
		snprintf(res->msg, sizeof(res->msg), "no change: the "
		    "configuration already is like that (generation %llu)",
		    (unsigned long long)cur.gen);
		res->gen = cur.gen;
		rc = 0;
		goto out;
	}
	if (ctcm_validate(&next, newcfg, res->msg, sizeof(res->msg)) < 0) {
		rc = CTCM_E_INVALID;
		goto out;
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	next.gen = MAX(ctcm_g.gen, ctcm_g.max_seen) + 1;
	pthread_mutex_unlock(&ctcm_g.mtx);
	next.time_ms = wall_ms();
	next.author_id = ctcm_g.cfg.heads[ctcm_g.self].id;
	snprintf(next.author, sizeof(next.author), "%s", author);
	snprintf(next.summary, sizeof(next.summary), "%s", summary);
	rc = commit_bundle(&next, newcfg, monitor, res);
	if (rc == CTCM_E_NOMAJORITY && res->partial && !monitor) {
		/* supersede the minority copies with the old content */
		struct ctcm_result	r2;
		struct cfg		oldcfg;
		char			e[256];

		if (ctcm_validate(&cur, &oldcfg, e, sizeof(e)) == 0) {
			cur.gen = next.gen + 1;
			cur.time_ms = wall_ms();
			snprintf(cur.summary, sizeof(cur.summary), "repair "
			    "after the failed commit of generation %llu",
			    (unsigned long long)next.gen);
			memset(&r2, 0, sizeof(r2));
			if (commit_bundle(&cur, &oldcfg, 0, &r2) != 0)
				log_warnx("ctcm: repair after failed commit: "
				    "%s", r2.msg);
		}
	}
	if (rc == 0) {
		res->gen = next.gen;
		snprintf(res->msg, sizeof(res->msg), "generation %llu "
		    "committed (%d of %d replicas%s)",
		    (unsigned long long)next.gen, res->replicas_ok, res->nrep,
		    monitor ? "" : res->peer_rc == 0 ? ", peer installed it" :
		    ", peer NOT reached");
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.commits++;
		ctcm_g.last_commit_us = now_us() - t0;
		if (monitor) {
			ctcm_g.monitor = 0;
			snprintf(ctcm_g.why, sizeof(ctcm_g.why), "generation "
			    "%llu imported", (unsigned long long)next.gen);
		}
		ctcm_g.repair = 0;
		pthread_mutex_unlock(&ctcm_g.mtx);
		log_info("ctcm: %s by %s: %s", res->msg, author, summary);
	} else {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.aborts++;
		pthread_mutex_unlock(&ctcm_g.mtx);
		log_warnx("ctcm: commit by %s (%s) failed: %s", author,
		    summary, res->msg);
	}
	res->us = now_us() - t0;
out:
	if (locked)
		pso_unlock(lid, owner);
	pthread_mutex_unlock(&ctcm_g.txn);
	ctcm_bundle_free(&cur);
	ctcm_bundle_free(&next);
	free(newcfg);
	return rc;
}

/* ---- slave side: install a pushed or fetched image ------------------------ */

struct inst_job {
	uint8_t		*data;
	size_t		 len;
	struct link_req	*rq;		/* NULL for a fetch */
	uint32_t	 status;
	uint64_t	 gen;
};

static void
inst_reply_on_loop(void *p)
{
	struct inst_job	*j = p;
	struct buf	 o;

	if (j->rq != NULL) {
		buf_init(&o);
		buf_add_u32(&o, j->status);
		buf_add_u64(&o, j->gen);
		link_reply(j->rq, o.data, o.len);
		buf_free(&o);
	}
	free(j->data);
	free(j);
}

/* Install the newest bundle of an image when newer than ours. */
static int
install_image(const uint8_t *d, size_t len, uint64_t *genp, const char *from)
{
	struct ctcm_bundle	*v = NULL;
	struct cfg		*nc = xcalloc(1, sizeof(*nc));
	char			 err[512];
	int			 n = 0, rc;
	uint64_t		 have;
	uint32_t		 crc;

	if ((rc = ctcm_image_decode(d, len, &v, &n)) != 0) {
		log_warnx("ctcm: configuration from %s: %s", from,
		    ctcm_strerror(rc));
		goto out;
	}
	pthread_mutex_lock(&ctcm_g.txn);
	pthread_mutex_lock(&ctcm_g.mtx);
	have = ctcm_g.gen;
	crc = ctcm_g.crc;
	pthread_mutex_unlock(&ctcm_g.mtx);
	*genp = have;
	if (v[0].gen < have || (v[0].gen == have &&
	    v[0].content_crc == crc)) {
		rc = v[0].gen == have ? 0 : CTCM_E_STALE;
		pthread_mutex_unlock(&ctcm_g.txn);
		goto out;
	}
	if (cfg_parse_buf("duonas.conf", ctcm_bundle_text(&v[0],
	    CTCM_SEC_CONF, NULL), ctcm_bundle_get(&v[0], CTCM_SEC_CONF) ?
	    ctcm_bundle_get(&v[0], CTCM_SEC_CONF)->len : 0, nc, err,
	    sizeof(err)) < 0) {
		log_warnx("ctcm: generation %llu from %s does not parse: %s",
		    (unsigned long long)v[0].gen, from, err);
		rc = CTCM_E_INVALID;
		pthread_mutex_unlock(&ctcm_g.txn);
		goto out;
	}
	rc = ctcm_local_install(&ctcm_g.local, &v[0], err, sizeof(err));
	if (rc == 0) {
		ctcm_local_save_history(&ctcm_g.local, v + 1, n - 1);
		installed(&v[0], nc);
		*genp = v[0].gen;
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.monitor = 0;
		pthread_mutex_unlock(&ctcm_g.mtx);
		log_info("ctcm: installed generation %llu from %s (%s: %s)",
		    (unsigned long long)v[0].gen, from, v[0].author,
		    v[0].summary);
	} else
		log_warnx("ctcm: %s", err);
	pthread_mutex_unlock(&ctcm_g.txn);
out:
	ctcm_bundles_free(v, n);
	free(nc);
	return rc;
}

static void *
inst_thread(void *p)
{
	struct inst_job	*j = p;
	uint64_t	 gen = 0;
	int		 rc;

	rc = install_image(j->data, j->len, &gen, j->rq ? "the master" :
	    "the peer");
	j->status = (uint32_t)rc;
	j->gen = gen;
	loop_call(inst_reply_on_loop, j);
	return NULL;
}

static void
spawn_install(const uint8_t *p, size_t len, struct link_req *rq)
{
	struct inst_job	*j = xcalloc(1, sizeof(*j));
	pthread_t	 t;

	j->data = xmalloc(len ? len : 1);
	memcpy(j->data, p, len);
	j->len = len;
	j->rq = rq;
	if (pthread_create(&t, NULL, inst_thread, j) != 0) {
		log_warn("ctcm: pthread_create");
		j->status = (uint32_t)EAGAIN;
		inst_reply_on_loop(j);
		return;
	}
	pthread_detach(t);
}

static void
push_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	(void)type;
	(void)arg;
	if (rq == NULL)
		return;		/* only as a request */
	if (len < 12) {
		struct buf o;

		buf_init(&o);
		buf_add_u32(&o, (uint32_t)CTCM_E_SHORT);
		buf_add_u64(&o, 0);
		link_reply(rq, o.data, o.len);
		buf_free(&o);
		return;
	}
	spawn_install(p, len, rq);
}

static void
gen_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct buf o;

	(void)type; (void)p; (void)len; (void)arg;
	if (rq == NULL)
		return;
	buf_init(&o);
	pthread_mutex_lock(&ctcm_g.mtx);
	buf_add_u64(&o, ctcm_g.gen);
	buf_add_u32(&o, ctcm_g.crc);
	buf_add_u8(&o, ctcm_g.gen != 0 && !ctcm_g.monitor);
	pthread_mutex_unlock(&ctcm_g.mtx);
	link_reply(rq, o.data, o.len);
	buf_free(&o);
}

static void
fetch_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct ctcm_bundle	b;
	struct buf		o, img;
	int			rc;

	(void)type; (void)p; (void)len; (void)arg;
	if (rq == NULL)
		return;
	buf_init(&o);
	buf_init(&img);
	if ((rc = ctcm_current(&b)) == 0) {
		build_image(&b, &img);
		ctcm_bundle_free(&b);
	}
	buf_add_u32(&o, (uint32_t)rc);
	buf_add(&o, img.data, img.len);
	link_reply(rq, o.data, o.len);
	buf_free(&o);
	buf_free(&img);
}

/* ---- catch-up when the link comes up ----------------------------------- */

static void
fetch_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct rd r;

	(void)arg;
	if (status != 0) {
		log_warnx("ctcm: fetching the peer's configuration: %s",
		    strerror(status));
		return;
	}
	rd_init(&r, p, len);
	if (rd_u32(&r) != 0 || r.err || r.left < 12)
		return;
	spawn_install(r.p, r.left, NULL);
}

static void
gen_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct rd	r;
	uint64_t	pg, mine;
	uint32_t	pcrc, crc;
	int		valid, pull;

	(void)arg;
	if (status != 0)
		return;
	rd_init(&r, p, len);
	pg = rd_u64(&r);
	pcrc = rd_u32(&r);
	valid = rd_u8(&r);
	if (r.err)
		return;
	pthread_mutex_lock(&ctcm_g.mtx);
	mine = ctcm_g.gen;
	crc = ctcm_g.crc;
	ctcm_g.peer_gen = pg;
	ctcm_g.peer_known = 1;
	/* equal generations, different content: the configured master's
	 * copy wins (docs/ctcm.md, "Catch-up between heads") */
	pull = valid && (pg > mine || (pg == mine && pcrc != crc &&
	    ctcm_g.cfg.heads[ctcm_g.self].role != CFG_ROLE_MASTER));
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (pg == mine && pcrc != crc)
		log_warnx("ctcm: peer has generation %llu with different "
		    "content (%08x, here %08x)%s", (unsigned long long)pg,
		    pcrc, crc, pull ? ": taking the master's" : "");
	if (pull) {
		log_info("ctcm: peer has generation %llu, this head %llu: "
		    "fetching", (unsigned long long)pg,
		    (unsigned long long)mine);
		link_request(CTCM_T_FETCH, NULL, 0, push_timeout_ms,
		    fetch_reply_cb, NULL);
	}
}

static void
link_cb(int up, uint64_t boot_id, void *arg)
{
	(void)boot_id;
	(void)arg;
	if (!up) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.peer_known = 0;
		pthread_mutex_unlock(&ctcm_g.mtx);
		return;
	}
	link_request(CTCM_T_GEN, NULL, 0, push_timeout_ms, gen_reply_cb, NULL);
}

/* ---- array repair (master) and MONITOR polling ------------------------- */

static void *
repair_thread(void *arg)
{
	struct ctcm_bundle	b;
	struct ctcm_replica	rep[CFG_MAX_LUNS];
	struct buf		img;
	struct cfg		*c = xmalloc(sizeof(*c));
	int			ok, setsize;

	(void)arg;
	pthread_mutex_lock(&ctcm_g.txn);
	if (ctcm_current(&b) != 0)
		goto out;
	pthread_mutex_lock(&ctcm_g.mtx);
	*c = ctcm_g.cfg;
	pthread_mutex_unlock(&ctcm_g.mtx);
	buf_init(&img);
	build_image(&b, &img);
	setsize = ctcm_array_setsize(c, ctcm_g.nreplicas);
	ok = img.len ? ctcm_array_write(c, ctcm_g.self, ctcm_g.nreplicas,
	    b.gen, img.data, img.len, rep) : 0;
	log_info("ctcm: array repair: generation %llu on %d of %d replicas",
	    (unsigned long long)b.gen, ok, setsize);
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ok == setsize)
		ctcm_g.repair = 0;
	pthread_mutex_unlock(&ctcm_g.mtx);
	buf_free(&img);
	ctcm_bundle_free(&b);
out:
	pthread_mutex_unlock(&ctcm_g.txn);
	free(c);
	return NULL;
}

static void
opmode_cb(enum ha_opmode mode, int peer_alive, void *arg)
{
	pthread_t	t;
	int		need;

	(void)peer_alive;
	(void)arg;
	pthread_mutex_lock(&ctcm_g.mtx);
	need = ctcm_g.repair && !ctcm_g.monitor;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (mode == HA_OPMODE_MASTER && need &&
	    pthread_create(&t, NULL, repair_thread, NULL) == 0)
		pthread_detach(t);
}

static void *
monitor_thread(void *arg)
{
	(void)arg;
	while (!shutting_down && ctcm_monitor()) {
		struct ctcm_replica	 rep[CFG_MAX_LUNS];
		struct ctcm_bundle	*img = NULL;
		int			 n = 0;
		struct cfg		*c = xmalloc(sizeof(*c));

		sleep(2);
		pthread_mutex_lock(&ctcm_g.mtx);
		*c = ctcm_g.cfg;
		pthread_mutex_unlock(&ctcm_g.mtx);
		ctcm_array_read(c, ctcm_g.self, ctcm_g.nreplicas, rep, &img,
		    &n);
		free(c);
		if (img != NULL && ctcm_monitor() && !shutting_down) {
			char err[512];

			pthread_mutex_lock(&ctcm_g.txn);
			if (ctcm_local_install(&ctcm_g.local, &img[0], err,
			    sizeof(err)) == 0) {
				log_warnx("ctcm: MONITOR: a valid configuration "
				    "(generation %llu) appeared on the array; "
				    "restarting", (unsigned long long)img[0].gen);
				ctcm_reexec();
			} else
				log_warnx("ctcm: %s", err);
			pthread_mutex_unlock(&ctcm_g.txn);
		}
		ctcm_bundles_free(img, n);
	}
	return NULL;
}

/* ---- init ------------------------------------------------------------------ */

int
ctcm_init(const struct cfg *cfg, int self_idx)
{
	pthread_t t;

	pthread_mutex_lock(&ctcm_g.mtx);
	if (!ctcm_g.booted) {
		ctcm_g.cfg = *cfg;
		ctcm_g.self = self_idx;
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
	push_timeout_ms = cfg->pso_req_timeout_ms > 0 ?
	    cfg->pso_req_timeout_ms : 2000;
	link_register(CTCM_T_PUSH, push_cb, NULL);
	link_register(CTCM_T_GEN, gen_cb, NULL);
	link_register(CTCM_T_FETCH, fetch_cb, NULL);
	link_on_state(link_cb, NULL);
	ha_opmode_register(opmode_cb, NULL);
	if (ctcm_monitor()) {
		if (pthread_create(&t, NULL, monitor_thread, NULL) != 0) {
			log_warn("ctcm: pthread_create");
			return -1;
		}
		pthread_detach(t);
	}
	return 0;
}

void
ctcm_shutdown(void)
{
	shutting_down = 1;
}

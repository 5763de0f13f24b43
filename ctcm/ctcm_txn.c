/*
 * ctcm_txn.c — configuration transactions at run time: one commit on the
 * master (docs/ctcm.md, "Commit protocol"), the module callbacks, the
 * committed configuration as the admin commands see it, and start-up.
 *
 * A commit runs on an admin worker thread: local txn mutex, then the
 * cluster-wide PSO lock "ctcm.txn", then ctcm_sync_prepare() (read every
 * copy, adopt, claim; the numbers come from there), edit + validate, the
 * replica set (a majority of exact read-back copies = committed), push to
 * the peer, local install, module callbacks (loop thread).  Once
 * committed the answer is success whatever the peer and the local
 * install did; the background worker (ctcm_sync.c) retries those.  The
 * peer messages live in ctcm_peer.c.
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
#include "pool/pext.h"
#include "pso/pso.h"
#include "smb/smb_users.h"

#define MAX_CBS		16

static struct { ctcm_install_cb fn; void *arg; } install_cbs[MAX_CBS];
static int ninstall_cbs;
static struct { ctcm_validate_cb fn; void *arg; } validators[MAX_CBS];
static int nvalidators;

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

/* ---- the committed configuration ------------------------------------- */

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

void
ctcm_installed(const struct ctcm_bundle *b, const struct cfg *newcfg)
{
	struct installed *in = xmalloc(sizeof(*in));

	in->gen = b->gen;
	in->cfg = xmalloc(sizeof(*in->cfg));
	*in->cfg = *newcfg;
	loop_call(installed_on_loop, in);
}

const char *
ctcm_summary(uint64_t gen, char *out, size_t len)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	snprintf(out, len, "%s", gen != 0 && gen == ctcm_g.gen ?
	    ctcm_g.cur.summary : "");
	pthread_mutex_unlock(&ctcm_g.mtx);
	return out;
}

int
ctcm_current(struct ctcm_bundle *b)
{
	int rc = 0;

	ctcm_bundle_init(b);
	pthread_mutex_lock(&ctcm_g.mtx);
	if (ctcm_g.gen == 0)
		rc = CTCM_E_MONITOR;
	else
		ctcm_bundle_copy(b, &ctcm_g.cur);
	pthread_mutex_unlock(&ctcm_g.mtx);
	return rc;
}

int
ctcm_load_gen(uint64_t gen, struct ctcm_bundle *b)
{
	int cur;

	pthread_mutex_lock(&ctcm_g.mtx);
	cur = gen != 0 && gen == ctcm_g.gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (cur)
		return ctcm_current(b);
	return ctcm_local_load(&ctcm_g.local, gen, b);
}

void
ctcm_build_image(const struct ctcm_bundle *b, uint64_t epoch, struct buf *o)
{
	struct ctcm_bundle	v[CTCM_HISTORY_LOCAL + CTCM_HISTORY_ARRAY + 1];
	uint64_t		gens[CTCM_HISTORY_LOCAL];
	int			n = 1, ng, hist;

	pthread_mutex_lock(&ctcm_g.mtx);
	hist = ctcm_g.history;
	/* the last committed ones first: the local history lacks those
	 * committed while its disk was full */
	for (int i = 0; i < ctcm_g.nrecent && n <= hist; i++)
		if (ctcm_g.recent[i].gen < (n == 1 ? b->gen : v[n - 1].gen))
			ctcm_bundle_copy(&v[n++], &ctcm_g.recent[i]);
	pthread_mutex_unlock(&ctcm_g.mtx);
	v[0] = *b;
	ng = ctcm_local_list(&ctcm_g.local, gens, CTCM_HISTORY_LOCAL);
	for (int i = 0; i < ng && n <= hist && n < (int)nitems(v); i++) {
		if (gens[i] >= v[n - 1].gen)
			continue;
		if (ctcm_local_load(&ctcm_g.local, gens[i], &v[n]) == 0)
			n++;
	}
	if (n > hist + 1) {
		for (int i = hist + 1; i < n; i++)
			ctcm_bundle_free(&v[i]);
		n = hist + 1;
	}
	if (ctcm_image_encode(v, n, epoch, (size_t)(PEXT_V1_CFG_BLOCKS - 1) *
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
	{
		const struct ctcm_section *us = ctcm_bundle_get(b,
		    CTCM_SEC_SMBUSERS);
		struct smb_users u;

		if (us != NULL && smb_users_parse((const char *)us->data,
		    us->len, &u, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "smb/users %s", e);
			goto out;
		}
		if (us != NULL)
			smb_users_free(&u);
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

/* ---- the commit ------------------------------------------------------------ */

void
ctcm_run_on_loop(void (*fn)(void *), void *arg)
{
	loop_call_wait(fn, arg);
}

struct opm {
	enum ha_opmode	m;
	char		state[32];
};

static void
opmode_on_loop(void *p)
{
	struct opm *o = p;

	o->m = ha_opmode();
	snprintf(o->state, sizeof(o->state), "%s", ha_state_name());
}

int
ctcm_ha_now(char *state, size_t len)
{
	struct opm	o;

	memset(&o, 0, sizeof(o));
	ctcm_run_on_loop(opmode_on_loop, &o);
	if (state != NULL)
		snprintf(state, len, "%s", o.state);
	return (int)o.m;
}

static enum ha_opmode
opmode_now(void)
{
	return (enum ha_opmode)ctcm_ha_now(NULL, 0);
}

int
ctcm_is_master(void)
{
	return opmode_now() == HA_OPMODE_MASTER;
}

/* What the peer did, for the answer. */
static void
peer_words(int rc, char *s, size_t n)
{
	if (rc == 0)
		snprintf(s, n, ", peer installed it");
	else if (rc == ENOTCONN || rc == ETIMEDOUT || rc == ECANCELED)
		snprintf(s, n, ", peer NOT reached: it catches up when it is "
		    "back");
	else
		snprintf(s, n, ", peer could not install it (%s): it retries",
		    ctcm_strerror(rc));
}

/* The replicas of the set that failed, for the answer: "; failed
 * replica(s): LUN l0: Input/output error, LUN l2: ..." (empty when none
 * did).  The admin must learn which LUN and why, not only a count. */
static void
replica_failures(const struct ctcm_replica *rep, int setsize, char *s,
    size_t n)
{
	size_t	len = 0;
	int	nbad = 0;

	s[0] = 0;
	for (int i = 0; i < setsize && len + 1 < n; i++) {
		if (!rep[i].in_set || rep[i].rc == 0)
			continue;
		len += (size_t)snprintf(s + len, n - len, "%s LUN %s: %s",
		    nbad++ ? "," : "; failed replica(s):", rep[i].lun,
		    ctcm_strerror(rep[i].rc));
	}
}

/*
 * Write b (generation, value epoch = epoch set) to the replica set; with
 * a majority it is committed: push, install here.  0 committed (the
 * answer in res->msg), or a code.
 */
static int
commit_bundle(const struct ctcm_bundle *b, const struct cfg *newcfg,
    uint64_t epoch, int monitor, struct ctcm_result *res)
{
	struct buf	img;
	int		ok = 0, need, setsize, rc;
	char		err[512], peer[256] = "", local[640] = "", bad[256];

	buf_init(&img);
	ctcm_build_image(b, epoch, &img);
	if (img.len == 0) {
		snprintf(res->msg, sizeof(res->msg), "generation %llu does "
		    "not fit a replica slot", (unsigned long long)b->gen);
		rc = EFBIG;
		goto out;
	}
	setsize = ctcm_array_setsize(newcfg, ctcm_g.nreplicas);
	need = ctcm_array_majority(setsize);
	if (setsize > 0)
		ok = ctcm_array_write(newcfg, ctcm_g.self, ctcm_g.nreplicas,
		    epoch, b->gen, img.data, img.len, ~UINT64_C(0), res->rep);
	res->nrep = setsize;
	res->replicas_ok = ok;
	ctcm_state_seen(b->gen, epoch);
	/* every replica was read back: a higher epoch found there ends the
	 * master's short cut (ctcm_sync_prepare) */
	for (int i = 0; i < setsize; i++)
		ctcm_state_seen(res->rep[i].gen, res->rep[i].epoch);
	replica_failures(res->rep, setsize, bad, sizeof(bad));
	if (ok < need) {
		snprintf(res->msg, sizeof(res->msg), "only %d of %d "
		    "configuration replicas hold generation %llu (need %d): "
		    "not committed%s", ok, setsize, (unsigned long long)b->gen,
		    need, bad);
		rc = CTCM_E_NOMAJORITY;
		/* Not only the k that were read back: a replica whose
		 * last fdatasync or read-back failed may hold it too. */
		res->partial = 1;
		goto out;
	}
	if (setsize == 0) {
		/* no LUN: the heads are the only copies; this one first */
		if ((rc = ctcm_local_install(&ctcm_g.local, b, err,
		    sizeof(err))) != 0) {
			snprintf(res->msg, sizeof(res->msg), "%s", err);
			goto out;
		}
	}
	/* committed */
	ctcm_state_committed(b, newcfg);
	if (setsize > 0) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.last_read_ms = now_ms();
		pthread_mutex_unlock(&ctcm_g.mtx);
	}
	if (!monitor) {
		res->peer_rc = ctcm_peer_push(&img, b->gen);
		if (res->peer_rc == CTCM_E_NOTMASTER) {
			snprintf(res->msg, sizeof(res->msg), "this head lost "
			    "the mastership during the commit (the peer is "
			    "the master); generation %llu may or may not take "
			    "effect: check duonas config show on the master",
			    (unsigned long long)b->gen);
			rc = CTCM_E_DEPOSED;
			goto out;
		}
		peer_words(res->peer_rc, peer, sizeof(peer));
	}
	res->local_rc = ctcm_sync_install(err, sizeof(err));
	if (res->local_rc != 0)
		snprintf(local, sizeof(local), "; local install failed (%s): "
		    "this head installs it as soon as it can", err);
	res->gen = b->gen;
	if (setsize > 0)
		snprintf(res->msg, sizeof(res->msg), "generation %llu "
		    "committed (%d of %d replicas%s)%s%s",
		    (unsigned long long)b->gen, ok, setsize, peer, local, bad);
	else
		snprintf(res->msg, sizeof(res->msg), "generation %llu "
		    "committed (no LUN: on the heads only%s)%s",
		    (unsigned long long)b->gen, peer, local);
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

/* After a failed commit: supersede its minority copies with the old
 * content as the next generation.  0 when that is committed. */
static int
supersede(struct ctcm_bundle *cur, uint64_t failed, uint64_t epoch)
{
	struct ctcm_result	*r2 = xcalloc(1, sizeof(*r2));
	struct cfg		*oldcfg = xcalloc(1, sizeof(*oldcfg));
	char			 e[256];
	int			 rc = CTCM_E_INVALID;

	if (ctcm_validate(cur, oldcfg, e, sizeof(e)) == 0) {
		cur->gen = failed + 1;
		cur->vepoch = epoch;
		cur->time_ms = wall_ms();
		snprintf(cur->summary, sizeof(cur->summary), "repair after "
		    "the failed commit of generation %llu",
		    (unsigned long long)failed);
		if ((rc = commit_bundle(cur, oldcfg, epoch, 0, r2)) != 0)
			log_warnx("ctcm: repair after failed commit: %s",
			    r2->msg);
	}
	free(oldcfg);
	free(r2);
	return rc;
}

/* The edit of ctcm_txn_supersede(): the same content. */
static int
edit_same(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	(void)arg;
	(void)msg;
	(void)msglen;
	return ctcm_bundle_copy(next, cur);
}

int
ctcm_txn_supersede(void)
{
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	char			 summary[96];
	uint64_t		 gen;
	int			 rc;

	pthread_mutex_lock(&ctcm_g.mtx);
	gen = ctcm_g.refused_gen;
	pthread_mutex_unlock(&ctcm_g.mtx);
	snprintf(summary, sizeof(summary), "repair after the failed commit "
	    "of generation %llu", (unsigned long long)gen);
	rc = ctcm_txn_run(edit_same, NULL, "ctcm", summary, CTCM_TXN_FORCE,
	    res);
	free(res);
	return rc;
}

int
ctcm_txn_run(ctcm_edit_fn edit, void *arg, const char *author,
    const char *summary, int flags, struct ctcm_result *res)
{
	struct ctcm_bundle	 cur, next;
	struct ctcm_view	 view;
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
	}
	/* read every copy, adopt, claim: the numbers come from here */
	if ((rc = ctcm_sync_prepare(monitor ? CTCM_SYNC_IMPORT :
	    CTCM_SYNC_CLAIM, &view, res->msg, sizeof(res->msg))) != 0)
		goto fail;
	if (!monitor && (rc = ctcm_current(&cur)) != 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot read the "
		    "current configuration: %s", ctcm_strerror(rc));
		goto out;
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
	next.gen = view.next_gen;
	next.vepoch = view.epoch;
	next.time_ms = wall_ms();
	next.author_id = newcfg->heads[ctcm_g.self].id;
	snprintf(next.author, sizeof(next.author), "%s", author);
	snprintf(next.summary, sizeof(next.summary), "%s", summary);
	rc = commit_bundle(&next, newcfg, view.epoch, monitor, res);
	/* (a failed commit of the same content, a supersede itself,
	 * leaves nothing that must not take effect) */
	if (rc == CTCM_E_NOMAJORITY && res->partial && !monitor &&
	    ctcm_content_crc(&next) != ctcm_content_crc(&cur)) {
		int	 src;
		size_t	 l;

		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.refused_gen = next.gen;
		ctcm_g.refused_epoch = view.epoch;
		ctcm_g.refused_crc = ctcm_content_crc(&next);
		pthread_mutex_unlock(&ctcm_g.mtx);
		if ((src = supersede(&cur, next.gen, view.epoch)) != 0) {
			pthread_mutex_lock(&ctcm_g.mtx);
			ctcm_g.supersede = 1;
			pthread_mutex_unlock(&ctcm_g.mtx);
			l = strlen(res->msg);
			snprintf(res->msg + l, sizeof(res->msg) - l, "; copies "
			    "of generation %llu that reached a replica are "
			    "never adopted and are superseded as soon as the "
			    "replicas can be written",
			    (unsigned long long)next.gen);
		}
	}
	if (rc != 0)
		goto fail;
	if (!monitor) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.supersede = 0;	/* committed above any refused copy */
		pthread_mutex_unlock(&ctcm_g.mtx);
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.commits++;
	ctcm_g.last_commit_us = now_us() - t0;
	if (monitor) {
		snprintf(ctcm_g.why, sizeof(ctcm_g.why), "generation %llu "
		    "imported", (unsigned long long)next.gen);
		ctcm_g.epoch_seen = MAX(ctcm_g.epoch_seen, view.epoch);
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
	log_info("ctcm: %s by %s: %s", res->msg, author, summary);
	res->us = now_us() - t0;
	goto out;
fail:
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.aborts++;
	pthread_mutex_unlock(&ctcm_g.mtx);
	log_warnx("ctcm: commit by %s (%s) failed: %s", author, summary,
	    res->msg);
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

/* ---- start and stop ---------------------------------------------------------- */

static void
opmode_cb(enum ha_opmode mode, int peer_alive, void *arg)
{
	(void)peer_alive;
	(void)arg;
	ctcm_sync_opmode((int)mode);
}

int
ctcm_init(const struct cfg *cfg, int self_idx)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	if (!ctcm_g.booted) {
		ctcm_g.cfg = *cfg;
		ctcm_g.self = self_idx;
	}
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_peer_init();
	ha_opmode_register(opmode_cb, NULL);
	return ctcm_sync_start();
}

void
ctcm_shutdown(void)
{
	ctcm_sync_stop();
}

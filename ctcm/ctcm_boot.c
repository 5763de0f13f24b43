/*
 * ctcm_boot.c — power-up validation: compare the local configuration
 * database with every LUN's replica and decide (docs/ctcm.md, "Power-up
 * validation"): go on, restore from the array, keep a local copy that
 * ranks above the array (the master repairs the array later), repair the
 * local copy from its intact part, factory initialisation, or MONITOR
 * when nothing valid exists.  Also the bootstrap of a duonas.conf that
 * no longer parses (ctcm_boot_conf()).
 *
 * ctcm_boot_decide() is the whole rule as a pure function (unit tested);
 * ctcm_boot() gathers the inputs and carries the decision out.  Runs
 * before the loop and the link exist, single-threaded.  Also home of the
 * module's shared state and of ctcm_reexec().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exports.h"
#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "pool/pool.h"

struct ctcm_state ctcm_g = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.txn = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.nreplicas = CTCM_REPLICAS_DEFAULT,
	.history = CTCM_HISTORY_ARRAY,
};

static const char *const act_names[] = {
	"ok", "restore", "keep-local", "factory", "monitor", "repair-local",
};
_Static_assert(sizeof(act_names) / sizeof(act_names[0]) ==
    CTCM_ACT_REPAIR_LOCAL + 1, "act_names");

const char *
ctcm_action_name(enum ctcm_action a)
{
	return (unsigned)a < nitems(act_names) ? act_names[a] : "?";
}

enum ctcm_action
ctcm_boot_decide(const struct ctcm_boot_in *in)
{
	int same, above, repairable;

	same = in->have_array && in->agen == in->lgen &&
	    in->acrc == in->lcrc && in->lgen != 0;
	above = !in->have_array || ctcm_rank_cmp(in->lvepoch, in->lgen,
	    in->avepoch, in->agen) > 0;
	switch (in->lstate) {
	case CTCM_LOCAL_VALID:
		if (same)
			return CTCM_ACT_OK;
		return above ? CTCM_ACT_KEEP_LOCAL : CTCM_ACT_RESTORE;
	case CTCM_LOCAL_NONE:
		return in->have_array ? CTCM_ACT_RESTORE : CTCM_ACT_FACTORY;
	default:
		break;
	}
	/* invalid: a readable stamp with its bundle or its files intact
	 * can repair itself when nothing ranks above it */
	repairable = !(in->lbad & CTCM_BAD_STAMP) &&
	    !((in->lbad & CTCM_BAD_FILES) && (in->lbad & CTCM_BAD_HISTORY));
	if (same)
		return CTCM_ACT_RESTORE;	/* the array holds exactly it */
	if (repairable && above)
		return CTCM_ACT_REPAIR_LOCAL;
	return in->have_array ? CTCM_ACT_RESTORE : CTCM_ACT_MONITOR;
}

void
ctcm_set_tunables(int replicas, int history)
{
	ctcm_g.nreplicas = replicas < 1 ? 1 : replicas > CFG_MAX_LUNS ?
	    CFG_MAX_LUNS : replicas;
	ctcm_g.history = history < 0 ? 0 : history > 64 ? 64 : history;
}

int
ctcm_monitor(void)
{
	int m;

	pthread_mutex_lock(&ctcm_g.mtx);
	m = ctcm_g.monitor;
	pthread_mutex_unlock(&ctcm_g.mtx);
	return m;
}

void
ctcm_state_seen(uint64_t gen, uint64_t epoch)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.max_seen = MAX(ctcm_g.max_seen, gen);
	ctcm_g.epoch_seen = MAX(ctcm_g.epoch_seen, epoch);
	pthread_mutex_unlock(&ctcm_g.mtx);
}

/* Keep the last committed bundles in memory, newest first: the local
 * history misses those committed while its disk was full. mtx held. */
static void
recent_add(const struct ctcm_bundle *b)
{
	struct ctcm_state	*g = &ctcm_g;
	int			 i = 0;

	while (i < g->nrecent && g->recent[i].gen > b->gen)
		i++;
	if (i < g->nrecent && g->recent[i].gen == b->gen)
		ctcm_bundle_free(&g->recent[i]);	/* replaced */
	else {
		if (g->nrecent == CTCM_HISTORY_ARRAY) {
			if (i == g->nrecent)
				return;			/* older than all */
			ctcm_bundle_free(&g->recent[--g->nrecent]);
		}
		memmove(&g->recent[i + 1], &g->recent[i],
		    (size_t)(g->nrecent - i) * sizeof(g->recent[0]));
		g->nrecent++;
	}
	ctcm_bundle_copy(&g->recent[i], b);
}

void
ctcm_state_committed(const struct ctcm_bundle *b, const struct cfg *c)
{
	struct cfg	*pc = NULL;
	char		 err[512];

	if (c == NULL) {
		pc = xcalloc(1, sizeof(*pc));
		if (ctcm_bundle_cfg(b, pc, err, sizeof(err)) < 0) {
			log_warnx("ctcm: committed generation %llu: %s",
			    (unsigned long long)b->gen, err);
			free(pc);
			pc = NULL;
		}
		c = pc;
	}
	pthread_mutex_lock(&ctcm_g.mtx);
	if (&ctcm_g.cur != b) {
		ctcm_bundle_free(&ctcm_g.cur);
		ctcm_bundle_copy(&ctcm_g.cur, b);
	}
	ctcm_g.gen = b->gen;
	ctcm_g.crc = ctcm_content_crc(b);
	ctcm_g.vepoch = b->vepoch;
	recent_add(b);
	ctcm_g.max_seen = MAX(ctcm_g.max_seen, b->gen);
	ctcm_g.epoch_seen = MAX(ctcm_g.epoch_seen, b->vepoch);
	if (c != NULL)
		ctcm_g.cfg = *c;
	pthread_mutex_unlock(&ctcm_g.mtx);
	free(pc);
}

/* Describe the replicas for a log line / MONITOR reason. */
static void
rep_summary(const struct ctcm_replica *rep, int n, char *s, size_t len)
{
	size_t o = 0;

	s[0] = 0;
	if (n == 0) {
		snprintf(s, len, "no LUN configured");
		return;
	}
	for (int i = 0; i < n && o + 1 < len; i++) {
		int k;

		if (rep[i].rc == 0)
			k = snprintf(s + o, len - o, "%sLUN %s: generation "
			    "%llu (epoch %llu)", i ? "; " : "", rep[i].lun,
			    (unsigned long long)rep[i].gen,
			    (unsigned long long)rep[i].vepoch);
		else
			k = snprintf(s + o, len - o, "%sLUN %s: %s",
			    i ? "; " : "", rep[i].lun,
			    ctcm_strerror(rep[i].rc));
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= len)
		s[len - 1] = 0;
}

static int
reexec_count(void)
{
	const char *e = getenv("DUONAS_CTCM_RESTARTS");

	return e ? atoi(e) : 0;
}

int
ctcm_boot_conf(const char *conf_path, struct cfg *out, char *why,
    size_t whylen)
{
	char	*p = ctcm_local_bootstrap_path(conf_path), err[512];
	int	 rv = -1;

	if (access(p, R_OK) < 0)
		snprintf(why, whylen, "%s does not parse and there is no "
		    "bootstrap copy (%s: %s)", conf_path, p, strerror(errno));
	else if (cfg_parse(p, out, err, sizeof(err)) < 0)
		snprintf(why, whylen, "%s does not parse, nor does its "
		    "bootstrap copy: %s", conf_path, err);
	else {
		snprintf(why, whylen, "%s does not parse: using the last "
		    "committed copy %s to find the state directory and the "
		    "LUNs; the file is restored next", conf_path, p);
		rv = 0;
	}
	free(p);
	return rv;
}

/* The bootstrap copy must follow the installed duonas.conf (older
 * installs have none). */
static void
bootstrap_check(const struct ctcm_bundle *b)
{
	const struct ctcm_section	*c = ctcm_bundle_get(b, CTCM_SEC_CONF);
	char				*p;
	uint8_t				*d = NULL;
	size_t				 len;

	if (c == NULL)
		return;
	p = ctcm_local_bootstrap_path(ctcm_g.local.conf_path);
	if (file_read_all(p, CTCM_FILE_MAX, &d, &len) < 0 || len != c->len ||
	    memcmp(d, c->data, len) != 0) {
		if (file_write_atomic(p, c->data, c->len, 0600) < 0)
			log_warn("ctcm: bootstrap copy %s", p);
	}
	free(d);
	free(p);
}

/* Restore from the array's newest: 0 (files unchanged: go on),
 * 1 (files rewritten: restart) or -1 (why says). */
static int
boot_restore(const struct ctcm_bundle *img, int nimg, const char *lun,
    int lstate, const struct ctcm_stamp *st, const char *lwhy, char *why,
    size_t whylen)
{
	struct ctcm_state	*g = &ctcm_g;
	struct buf		 ch;
	char			 err[512];
	int			 nch, rv = -1;

	buf_init(&ch);
	nch = ctcm_local_changed(&g->local, &img[0], &ch);
	if (ctcm_local_install(&g->local, &img[0], err, sizeof(err)) != 0) {
		if (lstate != CTCM_LOCAL_VALID) {
			snprintf(why, whylen, "restoring generation %llu from "
			    "the array failed: %s", (unsigned long long)
			    img[0].gen, err);
			goto out;
		}
		/* a full disk: serve the valid local copy meanwhile */
		log_warnx("ctcm: cannot install generation %llu from LUN %s "
		    "yet (%s): going on with generation %llu and installing "
		    "it in the background", (unsigned long long)img[0].gen,
		    lun, err, (unsigned long long)st->gen);
		ctcm_state_committed(&img[0], NULL);
		g->inst_gen = st->gen;
		g->inst_crc = st->content_crc;
		snprintf(g->inst_err, sizeof(g->inst_err), "%s", err);
		snprintf(why, whylen, "generation %llu committed, local copy "
		    "at %llu: installing (%s)", (unsigned long long)img[0].gen,
		    (unsigned long long)st->gen, err);
		rv = 0;
		goto out;
	}
	ctcm_local_save_history(&g->local, img + 1, nimg - 1, img[0].gen);
	ctcm_state_committed(&img[0], NULL);
	g->inst_gen = img[0].gen;
	g->inst_crc = img[0].content_crc;
	g->restores++;
	if (nch == 0) {
		log_warnx("ctcm: restored generation %llu from LUN %s (local "
		    "copy: %s); the installed files already held it",
		    (unsigned long long)img[0].gen, lun, lwhy);
		snprintf(why, whylen, "restored generation %llu from LUN %s "
		    "(local: %s; files unchanged)", (unsigned long long)
		    img[0].gen, lun, lwhy);
		rv = 0;
		goto out;
	}
	log_warnx("ctcm: restored generation %llu from LUN %s: %s rewritten "
	    "(local copy: %s)", (unsigned long long)img[0].gen, lun,
	    (char *)ch.data, lwhy);
	snprintf(why, whylen, "restored generation %llu from LUN %s (local: "
	    "%s)", (unsigned long long)img[0].gen, lun, lwhy);
	rv = 1;
out:
	buf_free(&ch);
	return rv;
}

/* Repair the local copy from its intact part: 0 (go on), 1 (files
 * rewritten: restart), -1 (why says). */
static int
boot_repair_local(const struct ctcm_stamp *st, unsigned lbad,
    const char *lwhy, char *why, size_t whylen)
{
	struct ctcm_state	*g = &ctcm_g;
	struct ctcm_bundle	 b;
	struct buf		 ch;
	char			 err[512];
	int			 rv = -1, rc;

	buf_init(&ch);
	if (lbad & CTCM_BAD_HISTORY) {
		/* the files still match the stamp: rebuild the bundle */
		if (ctcm_local_rebuild_bundle(&g->local, st, err,
		    sizeof(err)) < 0) {
			snprintf(why, whylen, "local copy: %s; rebuilding its "
			    "history bundle: %s", lwhy, err);
			goto out;
		}
		log_warnx("ctcm: %s: rebuilt from the installed files (no "
		    "replica holds generation %llu or newer)", lwhy,
		    (unsigned long long)st->gen);
	}
	if ((rc = ctcm_local_load(&g->local, st->gen, &b)) != 0) {
		snprintf(why, whylen, "local copy: %s; history bundle of "
		    "generation %llu: %s", lwhy, (unsigned long long)st->gen,
		    ctcm_strerror(rc));
		goto out;
	}
	b.vepoch = st->vepoch;
	if (lbad & (CTCM_BAD_FILES | CTCM_BAD_PENDING)) {
		ctcm_local_changed(&g->local, &b, &ch);
		if (ctcm_local_install(&g->local, &b, err, sizeof(err)) != 0) {
			snprintf(why, whylen, "repairing the local copy: %s",
			    err);
			ctcm_bundle_free(&b);
			goto out;
		}
		log_warnx("ctcm: restored generation %llu from the local "
		    "history (no replica holds it or newer): %s rewritten "
		    "(%s)", (unsigned long long)b.gen, ch.len ?
		    (char *)ch.data : "no file", lwhy);
		rv = 1;
	} else
		rv = 0;
	snprintf(why, whylen, "generation %llu (local copy repaired: %s)",
	    (unsigned long long)b.gen, lwhy);
	ctcm_state_committed(&b, NULL);
	g->inst_gen = b.gen;
	g->inst_crc = b.content_crc;
	g->repair = g->cfg.nluns > 0;
	ctcm_bundle_free(&b);
out:
	buf_free(&ch);
	return rv;
}

/* 0, -1 (cannot store: why says), -2 (the installed files are not a
 * valid configuration: nothing stored, why says) */
static int
boot_factory(const struct cfg *cfg, int self_idx, char *why, size_t whylen)
{
	struct ctcm_state	*g = &ctcm_g;
	struct ctcm_bundle	 fb;
	const struct ctcm_section *ex;
	struct exports_tab	 x;
	char			 err[512];

	if (ctcm_local_from_files(&g->local, &fb, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "factory initialisation: %s", err);
		return -2;
	}
	/* Generation 1 is what both heads and the array keep from now on:
	 * only a configuration the services will accept becomes it.  The
	 * exports file is checked with the parser the NFS and SMB servers
	 * use; a bad one is refused before anything is stored. */
	ex = ctcm_bundle_get(&fb, CTCM_SEC_EXPORTS);
	if (ex != NULL && exports_parse((const char *)ex->data, ex->len,
	    cfg->exports, 0, &x, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "factory initialisation refused, "
		    "nothing stored: %s", err);
		ctcm_bundle_free(&fb);
		return -2;
	}
	if (ex != NULL)
		exports_free(&x);
	fb.gen = 1;
	fb.time_ms = wall_ms();
	fb.author_id = cfg->heads[self_idx].id;
	snprintf(fb.author, sizeof(fb.author), "factory@%s",
	    cfg->heads[self_idx].name);
	snprintf(fb.summary, sizeof(fb.summary), "factory "
	    "initialisation from the installed files");
	if (ctcm_local_install(&g->local, &fb, err, sizeof(err)) != 0) {
		snprintf(why, whylen, "factory initialisation: %s", err);
		ctcm_bundle_free(&fb);
		return -1;
	}
	log_info("ctcm: factory initialisation: installed files are "
	    "generation 1");
	ctcm_state_committed(&fb, cfg);
	g->inst_gen = 1;
	g->inst_crc = ctcm_content_crc(&fb);
	g->repair = cfg->nluns > 0;
	ctcm_bundle_free(&fb);
	snprintf(why, whylen, "generation 1 (factory initialisation)");
	return 0;
}

/* Go on with the valid local copy (OK / KEEP_LOCAL). */
static int
boot_local(const struct ctcm_stamp *st, const struct cfg *cfg)
{
	struct ctcm_state	*g = &ctcm_g;
	struct ctcm_bundle	 b;

	if (ctcm_local_load(&g->local, st->gen, &b) != 0)
		return -1;	/* checked by ctcm_local_check() */
	b.vepoch = st->vepoch;
	ctcm_state_committed(&b, cfg);
	g->inst_gen = st->gen;
	g->inst_crc = st->content_crc;
	bootstrap_check(&b);
	ctcm_bundle_free(&b);
	return 0;
}

int
ctcm_boot(const char *conf_path, const struct cfg *cfg, int self_idx,
    char *why, size_t whylen)
{
	struct ctcm_state	*g = &ctcm_g;
	struct ctcm_stamp	 st;
	struct ctcm_bundle	*img = NULL;
	struct ctcm_boot_in	 in;
	char			 lwhy[512], rsum[1024];
	unsigned		 lbad = 0;
	int			 lstate, best, nimg = 0, rv, r;
	enum ctcm_action	 act;

	pthread_mutex_lock(&g->mtx);
	g->cfg = *cfg;
	g->self = self_idx;
	g->booted = 1;
	pthread_mutex_unlock(&g->mtx);
	if (ctcm_local_open(&g->local, cfg->heads[self_idx].statedir,
	    conf_path) < 0) {
		snprintf(why, whylen, "cannot create %s/ctcm: %s",
		    cfg->heads[self_idx].statedir, strerror(errno));
		return CTCM_BOOT_ERROR;
	}
	lstate = ctcm_local_check(&g->local, &st, &lbad, lwhy, sizeof(lwhy));
	best = ctcm_array_read(cfg, self_idx, g->nreplicas, g->rep, &img,
	    &nimg);
	g->nrep = cfg->nluns;
	rep_summary(g->rep, g->nrep, rsum, sizeof(rsum));
	memset(&in, 0, sizeof(in));
	in.lstate = lstate;
	in.lbad = lbad;
	in.lgen = st.gen;
	in.lvepoch = st.vepoch;
	in.lcrc = st.content_crc;
	in.have_array = img != NULL;
	if (img != NULL) {
		in.agen = img[0].gen;
		in.avepoch = img[0].vepoch;
		in.acrc = img[0].content_crc;
	}
	act = ctcm_boot_decide(&in);
	log_info("ctcm: boot: local %s; array: %s -> %s",
	    lstate == CTCM_LOCAL_VALID ? lwhy : lstate == CTCM_LOCAL_NONE ?
	    "none" : "INVALID", rsum, ctcm_action_name(act));
	if (lstate == CTCM_LOCAL_INVALID)
		log_warnx("ctcm: local copy: %s", lwhy);
	if (ctcm_array_readable(g->rep, g->nrep) < ctcm_array_majority(
	    ctcm_array_setsize(cfg, g->nreplicas)))
		log_warnx("ctcm: boot: fewer than a majority of the replica "
		    "set could be read; the master reads them again before it "
		    "commits anything");
	/* everything seen so far, for the numbering (ctcm_sync.c) */
	g->max_seen = MAX(st.gen, ctcm_local_max_gen(&g->local));
	g->epoch_seen = st.vepoch;
	for (int i = 0; i < g->nrep; i++)
		if (g->rep[i].rc == 0) {
			g->max_seen = MAX(g->max_seen, g->rep[i].gen);
			g->epoch_seen = MAX(g->epoch_seen, g->rep[i].epoch);
		}

	switch (act) {
	case CTCM_ACT_OK:
		if (boot_local(&st, cfg) < 0) {
			snprintf(why, whylen, "cannot load generation %llu",
			    (unsigned long long)st.gen);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		snprintf(why, whylen, "generation %llu (local and array "
		    "agree)", (unsigned long long)st.gen);
		/* a replica in the set that is invalid or behind: repair */
		for (int i = 0; i < g->nrep; i++)
			if (g->rep[i].in_set && (g->rep[i].rc != 0 ||
			    g->rep[i].gen != st.gen ||
			    g->rep[i].content_crc != st.content_crc))
				g->repair = 1;
		rv = CTCM_BOOT_OK;
		break;
	case CTCM_ACT_RESTORE:
		if (reexec_count() >= 3) {
			snprintf(why, whylen, "restored generation %llu "
			    "three times and the local copy still does not "
			    "check; giving up", (unsigned long long)img[0].gen);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		r = boot_restore(img, nimg, g->rep[best].lun, lstate, &st,
		    lwhy, why, whylen);
		rv = r < 0 ? CTCM_BOOT_ERROR : r ? CTCM_BOOT_RESTORED :
		    CTCM_BOOT_OK;
		if (r == 0)
			bootstrap_check(&img[0]);
		break;
	case CTCM_ACT_KEEP_LOCAL:
		if (boot_local(&st, cfg) < 0) {
			snprintf(why, whylen, "cannot load generation %llu",
			    (unsigned long long)st.gen);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		g->repair = cfg->nluns > 0;
		if (cfg->nluns > 0)
			log_warnx("ctcm: local generation %llu ranks above "
			    "every replica (%s): keeping it; the master "
			    "rewrites the replicas", (unsigned long long)st.gen,
			    rsum);
		snprintf(why, whylen, "generation %llu (local; newer than "
		    "the array: %s)", (unsigned long long)st.gen, rsum);
		rv = CTCM_BOOT_OK;
		break;
	case CTCM_ACT_REPAIR_LOCAL:
		if (reexec_count() >= 3) {
			snprintf(why, whylen, "repaired the local copy three "
			    "times and it still does not check; giving up");
			rv = CTCM_BOOT_ERROR;
			break;
		}
		r = boot_repair_local(&st, lbad, lwhy, why, whylen);
		rv = r < 0 ? CTCM_BOOT_ERROR : r ? CTCM_BOOT_RESTORED :
		    CTCM_BOOT_OK;
		break;
	case CTCM_ACT_FACTORY:
		r = boot_factory(cfg, self_idx, why, whylen);
		rv = r == -2 ? CTCM_BOOT_INVALID : r < 0 ? CTCM_BOOT_ERROR :
		    CTCM_BOOT_OK;
		break;
	case CTCM_ACT_MONITOR:
	default:
		snprintf(why, whylen, "no valid configuration anywhere: local: "
		    "%s; array: %s", lwhy, rsum);
		log_warnx("ctcm: MONITOR: %s", why);
		rv = CTCM_BOOT_MONITOR;
		break;
	}
	if (rv == CTCM_BOOT_OK)
		unsetenv("DUONAS_CTCM_RESTARTS");
	pthread_mutex_lock(&g->mtx);
	g->monitor = rv == CTCM_BOOT_MONITOR;
	snprintf(g->why, sizeof(g->why), "%s", why);
	pthread_mutex_unlock(&g->mtx);
	ctcm_bundles_free(img, nimg);
	return rv;
}

int
ctcm_reexec(void)
{
	uint8_t		*d = NULL;
	size_t		 len;
	char		**argv, n[16];
	int		 argc = 0;

	if (file_read_all("/proc/self/cmdline", 64 * 1024, &d, &len) < 0) {
		log_warn("ctcm: re-exec: /proc/self/cmdline");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] == 0)
			argc++;
	argv = xcalloc(argc + 1, sizeof(*argv));
	argc = 0;
	for (size_t i = 0; i < len; i += strlen((char *)d + i) + 1)
		argv[argc++] = (char *)d + i;
	snprintf(n, sizeof(n), "%d", reexec_count() + 1);
	setenv("DUONAS_CTCM_RESTARTS", n, 1);
	/* the admin socket, link listeners etc. are O_CLOEXEC */
	log_info("ctcm: restarting duonasd to load the new configuration");
	execv("/proc/self/exe", argv);
	log_warn("ctcm: re-exec /proc/self/exe");
	free(argv);
	free(d);
	return -1;
}

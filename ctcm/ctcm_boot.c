/*
 * ctcm_boot.c — power-up validation: compare the local configuration
 * database with every LUN's replica and decide (docs/ctcm.md, "Power-up
 * validation"): go on, restore from the array, keep a local copy newer
 * than the array (the master repairs the array later), factory
 * initialisation, or MONITOR when nothing valid exists.
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

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pool.h"

struct ctcm_state ctcm_g = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.txn = PTHREAD_MUTEX_INITIALIZER,
	.nreplicas = CTCM_REPLICAS_DEFAULT,
	.history = CTCM_HISTORY_ARRAY,
};

static const char *const act_names[] = {
	"ok", "restore", "keep-local", "factory", "monitor",
};
_Static_assert(sizeof(act_names) / sizeof(act_names[0]) ==
    CTCM_ACT_MONITOR + 1, "act_names");

const char *
ctcm_action_name(enum ctcm_action a)
{
	return (unsigned)a < nitems(act_names) ? act_names[a] : "?";
}

enum ctcm_action
ctcm_boot_decide(int lstate, uint64_t lgen, uint32_t lcrc, int have_array,
    uint64_t agen, uint32_t acrc)
{
	if (have_array) {
		if (lstate != CTCM_LOCAL_VALID || lgen < agen)
			return CTCM_ACT_RESTORE;
		if (lgen == agen)
			return lcrc == acrc ? CTCM_ACT_OK : CTCM_ACT_RESTORE;
		return CTCM_ACT_KEEP_LOCAL;	/* lgen > agen */
	}
	if (lstate == CTCM_LOCAL_VALID)
		return CTCM_ACT_KEEP_LOCAL;
	if (lstate == CTCM_LOCAL_NONE)
		return CTCM_ACT_FACTORY;
	return CTCM_ACT_MONITOR;
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
			    "%llu", i ? "; " : "", rep[i].lun,
			    (unsigned long long)rep[i].gen);
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
ctcm_boot(const char *conf_path, const struct cfg *cfg, int self_idx,
    char *why, size_t whylen)
{
	struct ctcm_state	*g = &ctcm_g;
	struct ctcm_stamp	 st;
	struct ctcm_bundle	*img = NULL, fb;
	char			 lwhy[512], rsum[1024], err[512];
	int			 lstate, best, nimg = 0, rv;
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
	lstate = ctcm_local_check(&g->local, &st, lwhy, sizeof(lwhy));
	best = ctcm_array_read(cfg, self_idx, g->nreplicas, g->rep, &img,
	    &nimg);
	g->nrep = cfg->nluns;
	rep_summary(g->rep, g->nrep, rsum, sizeof(rsum));
	act = ctcm_boot_decide(lstate, st.gen, st.content_crc, img != NULL,
	    img ? img[0].gen : 0, img ? img[0].content_crc : 0);
	log_info("ctcm: boot: local %s; array: %s -> %s",
	    lstate == CTCM_LOCAL_VALID ? lwhy : lstate == CTCM_LOCAL_NONE ?
	    "none" : "INVALID", rsum, ctcm_action_name(act));
	g->max_seen = MAX(st.gen, img ? img[0].gen : 0);

	switch (act) {
	case CTCM_ACT_OK:
		g->gen = st.gen;
		g->crc = st.content_crc;
		snprintf(why, whylen, "generation %llu (local and array "
		    "agree)", (unsigned long long)st.gen);
		/* a replica in the set that is invalid or behind: repair */
		for (int i = 0; i < g->nrep; i++)
			if (g->rep[i].in_set && (g->rep[i].rc != 0 ||
			    g->rep[i].gen < st.gen))
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
		if ((rv = ctcm_local_install(&g->local, &img[0], err,
		    sizeof(err))) != 0) {
			snprintf(why, whylen, "restoring generation %llu from "
			    "the array failed: %s", (unsigned long long)
			    img[0].gen, err);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		ctcm_local_save_history(&g->local, img, nimg);
		log_warnx("ctcm: restored generation %llu from LUN %s (local "
		    "copy: %s): files rewritten", (unsigned long long)
		    img[0].gen, g->rep[best].lun,
		    lstate == CTCM_LOCAL_VALID ? lwhy : lwhy);
		snprintf(why, whylen, "restored generation %llu from LUN %s "
		    "(local: %s)", (unsigned long long)img[0].gen,
		    g->rep[best].lun, lwhy);
		g->gen = img[0].gen;
		g->crc = img[0].content_crc;
		g->restores++;
		rv = CTCM_BOOT_RESTORED;
		break;
	case CTCM_ACT_KEEP_LOCAL:
		g->gen = st.gen;
		g->crc = st.content_crc;
		g->repair = cfg->nluns > 0;
		if (cfg->nluns > 0)
			log_warnx("ctcm: local generation %llu is newer than "
			    "every replica (%s): keeping it; the master "
			    "rewrites the replicas", (unsigned long long)st.gen,
			    rsum);
		snprintf(why, whylen, "generation %llu (local; newer than "
		    "the array: %s)", (unsigned long long)st.gen, rsum);
		rv = CTCM_BOOT_OK;
		break;
	case CTCM_ACT_FACTORY:
		if (ctcm_local_from_files(&g->local, &fb, err, sizeof(err)) < 0) {
			snprintf(why, whylen, "factory initialisation: %s", err);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		fb.gen = 1;
		fb.time_ms = wall_ms();
		fb.author_id = cfg->heads[self_idx].id;
		snprintf(fb.author, sizeof(fb.author), "factory@%s",
		    cfg->heads[self_idx].name);
		snprintf(fb.summary, sizeof(fb.summary), "factory "
		    "initialisation from the installed files");
		rv = ctcm_local_install(&g->local, &fb, err, sizeof(err));
		if (rv != 0) {
			snprintf(why, whylen, "factory initialisation: %s", err);
			ctcm_bundle_free(&fb);
			rv = CTCM_BOOT_ERROR;
			break;
		}
		log_info("ctcm: factory initialisation: installed files "
		    "are generation 1");
		g->gen = 1;
		g->crc = ctcm_content_crc(&fb);
		g->max_seen = MAX(g->max_seen, 1);
		g->repair = cfg->nluns > 0;
		ctcm_bundle_free(&fb);
		snprintf(why, whylen, "generation 1 (factory initialisation)");
		rv = CTCM_BOOT_OK;
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

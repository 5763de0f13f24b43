/*
 * duonasd_image.c — the daemon's side of the boot software
 * (docs/boot-images.md): what duonas-boot told it (DUONAS_BOOT_INFO),
 * marking its slot good, the software string of the heartbeats and the
 * compatibility judgement the HA controller asks for, factory
 * initialisation of the image store, the `duonas image ...` admin
 * commands, and the restart through duonas-boot that an upgrade uses
 * (the daemon stops the normal way, then main() execs the loader).
 *
 * Threads: init and the tick on the loop thread; admin commands on ctl
 * workers; factory initialisation and a peer-requested restart on a
 * thread of their own (they block on the array and on the HA handover).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "boot/slots.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ctcm/ctcm.h"
#include "ctcm/ctcm_ctl_int.h"
#include "ctcm/ctcm_int.h"
#include "ctl/ctl.h"
#include "duonasd.h"
#include "duonasd_image.h"
#include "ha/ha.h"
#include "ha/ha_fsm.h"
#include "hooks/hooks.h"
#include "image/image.h"
#include "link/link.h"
#include "pool/img_store.h"

#define TICK_MS			1000
#define FACTORY_RETRY_MS	30000
#define RESTART_TIMEOUT_MS	30000
#define UPGRADE_TIMEOUT_MS	600000

static struct {
	int		 booted;	/* started by duonas-boot */
	struct boot_info bi;
	int		 have_run;
	struct img_info	 run;		/* the running image's manifest */
	char		 loader[PATH_MAX];
	char		*info_env;	/* DUONAS_BOOT_INFO as passed */
	char		 conf[PATH_MAX];
	int		 debug;
	char		 slotdir[PATH_MAX];
	_Atomic int	 good;		/* the running slot is good */
	uint64_t	 good_since_ms;	/* DAC/DEGRADED since (loop) */
	uint64_t	 factory_next_ms;
	_Atomic int	 factory_busy;
	_Atomic int	 factory_done;	/* the cluster names an image: no
					 * preferred image is ever removed */
	_Atomic int	 reexec;	/* exec the loader after the stop */
	_Atomic int	 restarting;
	struct event	*tick;
	const struct cfg *cfg;
	int		 self;
} im;

/* ---- what runs here ---------------------------------------------------- */

/* Before the daemon executes itself again (ctcm_reexec: a configuration
 * restored from the array): put back what duonas-boot passed, which
 * dimg_init took out of the environment, so that the new image of the
 * process still knows its slot and its loader. */
static void
dimg_restore_env(void)
{
	if (!im.booted)
		return;
	setenv(BOOT_INFO_ENV, im.info_env, 1);
	if (im.loader[0] != 0)
		setenv(BOOT_PATH_ENV, im.loader, 1);
}

void
dimg_restart_restored(void)
{
	struct boot_sec	s;
	char		path[PATH_MAX + 16], e[256];

	if (im.booted && im.loader[0] != 0) {
		snprintf(path, sizeof(path), "%s/image/boot",
		    im.cfg->heads[im.self].statedir);
		if (boot_sec_load(path, &s, e, sizeof(e)) == 0 &&
		    s.preferred.set && memcmp(s.preferred.digest,
		    im.bi.digest, IMG_DIGEST_LEN) != 0) {
			log_info("boot: the restored configuration prefers "
			    "%s, this head runs %s: restarting through "
			    "duonas-boot", s.preferred.version,
			    im.bi.version);
			dimg_reexec();
			log_warnx("boot: starting the same program again");
		}
	}
	dimg_restore_env();
	ctcm_reexec();
}

static const char *
arch_here(void)
{
	static char	m[65];
	struct utsname	u;

	if (m[0] == 0 && uname(&u) == 0)
		snprintf(m, sizeof(m), "%s", u.machine);
	return m[0] ? m : "unknown";
}

/* The format ranges and arch this head speaks: the running image's
 * manifest, else what this build was made with. */
static void
ranges_here(uint32_t *wmin, uint32_t *wmax, uint32_t *dmin, uint32_t *dmax,
    const char **arch)
{
	if (im.have_run) {
		*wmin = im.run.m.wire_min;
		*wmax = im.run.m.wire_max;
		*dmin = im.run.m.disk_min;
		*dmax = im.run.m.disk_max;
		*arch = im.run.m.arch;
	} else {
		*wmin = IMG_WIRE_MIN;
		*wmax = IMG_WIRE_MAX;
		*dmin = IMG_DISK_MIN;
		*dmax = IMG_DISK_MAX;
		*arch = arch_here();
	}
}

const char *
dimg_version(void)
{
	return im.have_run ? im.run.m.version : PACKAGE_VERSION;
}

const char *
dimg_slot(void)
{
	return im.booted ? slot_name(im.bi.slot) : "none";
}

int
dimg_init(const struct cfg *cfg, int self, const char *conf, int debug)
{
	const char	*env = getenv(BOOT_INFO_ENV), *ld;
	uint8_t		*data = NULL;
	size_t		 len = 0;
	char		 err[256];

	memset(&im, 0, sizeof(im));
	im.cfg = cfg;
	im.self = self;
	im.debug = debug;
	if (realpath(conf, im.conf) == NULL)
		snprintf(im.conf, sizeof(im.conf), "%s", conf);
	cfg_boot_dir(cfg, &cfg->heads[self], im.slotdir, sizeof(im.slotdir));
	if (env == NULL)
		return 0;
	if (boot_info_parse(env, &im.bi) < 0) {
		log_warnx("boot: %s is malformed: '%.120s' (ignored)",
		    BOOT_INFO_ENV, env);
		unsetenv(BOOT_INFO_ENV);
		return 0;
	}
	ld = getenv(BOOT_PATH_ENV);
	snprintf(im.loader, sizeof(im.loader), "%s", ld ? ld : "");
	im.info_env = xstrdup(env);	/* for dimg_restore_env() */
	/* children (smbd, useradd) must not think they were booted */
	unsetenv(BOOT_INFO_ENV);
	unsetenv(BOOT_PATH_ENV);
	im.booted = 1;
	snprintf(im.slotdir, sizeof(im.slotdir), "%s", im.bi.dir);
	atomic_store(&im.good, im.bi.state == SLOT_GOOD);
	if (slot_read_image(im.bi.dir, im.bi.slot, &data, &len, err,
	    sizeof(err)) == 0 && img_parse(data, len, &im.run, err,
	    sizeof(err)) == 0)
		im.have_run = 1;
	else
		log_warnx("boot: cannot read the running image's manifest: %s",
		    err);
	free(data);
	log_info("boot: started by duonas-boot from slot %s: %s (%s), slot "
	    "%s, attempt %d%s%s", slot_name(im.bi.slot), im.bi.version,
	    im.have_run ? "manifest read" : "no manifest",
	    slot_state_name(im.bi.state), im.bi.attempts,
	    im.bi.note[0] ? "; " : "", im.bi.note);
	return 0;
}

void
dimg_status(struct buf *out, int json)
{
	char hex[2 * IMG_DIGEST_LEN + 1];

	if (json) {
		buf_printf(out, "{\"version\":");
		buf_add_json_str(out, dimg_version());
		buf_printf(out, ",\"booted\":%s", im.booted ? "true" :
		    "false");
		if (im.booted) {
			img_digest_hex(im.bi.digest, hex);
			buf_printf(out, ",\"slot\":\"%s\",\"digest\":\"%s\","
			    "\"state\":\"%s\",\"attempts\":%d,\"note\":",
			    slot_name(im.bi.slot), hex,
			    atomic_load(&im.good) ? "good" :
			    slot_state_name(im.bi.state), im.bi.attempts);
			buf_add_json_str(out, im.bi.note);
		}
		buf_printf(out, "}");
		return;
	}
	if (!im.booted) {
		buf_printf(out, "%s, not started by duonas-boot\n",
		    dimg_version());
		return;
	}
	img_digest_hex(im.bi.digest, hex);
	buf_printf(out, "%s (%.16s...) from slot %s, %s, boot attempt %d%s%s\n",
	    dimg_version(), hex, slot_name(im.bi.slot), atomic_load(&im.good) ?
	    "good" : slot_state_name(im.bi.state), im.bi.attempts,
	    im.bi.note[0] ? "; " : "", im.bi.note);
}

/* ---- the heartbeat's software string and compatibility ------------------ */

/*
 * "VERSION;DIGEST8;STATE;wMIN-MAX;dMIN-MAX;ARCH" (no blanks: a
 * heartbeat's string is printable ASCII without spaces): STATE g (slot good),
 * n (new: not yet good), - (not started by duonas-boot; DIGEST8 "-"
 * too).  At most 63 characters: the arch is left out when it does not
 * fit.  A peer from before images sends only its version.
 */
/* This head's software string fields (format ranges from the manifest
 * it runs, else from this build). */
static void
sw_here(struct sw_string *w)
{
	const char *arch;
	char hex[2 * IMG_DIGEST_LEN + 1];

	memset(w, 0, sizeof(*w));
	w->full = 1;
	snprintf(w->version, sizeof(w->version), "%s", dimg_version());
	snprintf(w->digest8, sizeof(w->digest8), "-");
	if (im.booted) {
		img_digest_hex(im.bi.digest, hex);
		snprintf(w->digest8, sizeof(w->digest8), "%.8s", hex);
	}
	w->state = !im.booted ? '-' : atomic_load(&im.good) ? 'g' : 'n';
	ranges_here(&w->wmin, &w->wmax, &w->dmin, &w->dmax, &arch);
	snprintf(w->arch, sizeof(w->arch), "%.31s", arch);
}

static void
sw_self(char *buf, size_t len)
{
	struct sw_string w;

	sw_here(&w);
	sw_format(buf, len, &w);
}

static int
sw_compat(const char *peer, char *why, size_t len)
{
	struct sw_string me, p;

	if (sw_parse(peer, &p) < 0) {
		snprintf(why, len, "the peer's software string '%.70s' is "
		    "malformed", peer);
		return 0;
	}
	sw_here(&me);
	return sw_compatible(&me, &p, why, len);
}

static int sw_hold(const char *peer, int master);

void
dimg_ha_hooks(void)
{
	ha_sw_hooks(sw_self, sw_compat);
	ha_sw_hold_hook(sw_hold);
}

/* ---- the image section and trusted keys --------------------------------- */

/* The image section of a bundle, parsed (for the edit functions). */
static int
sec_of(const struct ctcm_bundle *b, struct boot_sec *s, char *msg,
    size_t msglen)
{
	size_t		 len = 0;
	const char	*t = ctcm_bundle_text(b, CTCM_SEC_IMAGE, &len);

	return boot_sec_parse(t, len, s, msg, msglen);
}

/* The committed image section (empty when there is none). */
static int
section_now(struct boot_sec *s, uint64_t *gen, char *err, size_t errlen)
{
	struct ctcm_bundle	 b;
	int			 rc;

	memset(s, 0, sizeof(*s));
	if ((rc = ctcm_current(&b)) != 0) {
		snprintf(err, errlen, "%s", ctcm_strerror(rc));
		return -1;
	}
	if (gen != NULL)
		*gen = b.gen;
	rc = sec_of(&b, s, err, errlen);
	ctcm_bundle_free(&b);
	return rc;
}

/* Trusted keys: the section's, plus the boot { keys } file.  *filekey
 * (when not NULL) tells whether the file's key is not in the section. */
static int
trusted_keys(const struct boot_sec *s, uint8_t keys[][IMG_PUBKEY_LEN],
    uint8_t filekey[IMG_PUBKEY_LEN], int *have_filekey)
{
	char	e[256];
	int	n = 0, dup = 0;

	for (int i = 0; i < s->nkeys && n < IMG_MAX_KEYS; i++)
		memcpy(keys[n++], s->keys[i], IMG_PUBKEY_LEN);
	*have_filekey = 0;
	if (access(im.cfg->boot_keys, F_OK) != 0 ||
	    img_pubkey_load(im.cfg->boot_keys, filekey, e, sizeof(e)) < 0)
		return n;
	for (int i = 0; i < n; i++)
		dup |= memcmp(keys[i], filekey, IMG_PUBKEY_LEN) == 0;
	if (!dup && n < IMG_MAX_KEYS) {
		memcpy(keys[n++], filekey, IMG_PUBKEY_LEN);
		*have_filekey = 1;
	}
	return n;
}

/* ---- making an image preferred (upload, factory initialisation) --------- */

struct pargs {
	const uint8_t	*data;
	size_t		 len;
	struct img_info	 info;
	int		 add_key;		/* the file's key joins */
	uint8_t		 key[IMG_PUBKEY_LEN];
	int		 factory;		/* only if still unset */
	int		 allow_downgrade;
};

static void
ref_of(const struct img_info *info, struct boot_ref *r)
{
	memset(r, 0, sizeof(*r));
	r->set = 1;
	snprintf(r->version, sizeof(r->version), "%s", info->m.version);
	memcpy(r->digest, info->digest, IMG_DIGEST_LEN);
	r->size = info->total;
}

/* Replace the image section of next with s. */
static int
sec_put(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    const struct boot_sec *s, char *msg, size_t msglen)
{
	struct buf o;
	int rv = 0;

	buf_init(&o);
	boot_sec_format(s, &o);
	ctcm_bundle_copy(next, cur);
	if (o.len == 0)
		ctcm_bundle_del(next, CTCM_SEC_IMAGE);
	else if (ctcm_bundle_set(next, CTCM_SEC_IMAGE, "image/boot", o.data,
	    o.len) != 0) {
		snprintf(msg, msglen, "the configuration has no room for "
		    "another section");
		rv = -1;
	}
	buf_free(&o);
	return rv;
}

static int
prefer_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct pargs	*a = arg;
	struct boot_sec	 s;

	if (sec_of(cur, &s, msg, msglen) < 0)
		return -1;
	if (a->factory && s.preferred.set) {
		snprintf(msg, msglen, "the cluster has a preferred image "
		    "already (%s)", s.preferred.version);
		return -1;
	}
	if (s.preferred.set && memcmp(s.preferred.digest, a->info.digest,
	    IMG_DIGEST_LEN) == 0) {
		snprintf(msg, msglen, "%s (this image) is the preferred image "
		    "already", s.preferred.version);
		return -1;
	}
	if (!a->allow_downgrade && s.floor[0] &&
	    img_version_cmp(a->info.m.version, s.floor) < 0) {
		snprintf(msg, msglen, "version %s is older than the floor %s "
		    "(--allow-downgrade to force it)", a->info.m.version,
		    s.floor);
		return -1;
	}
	if (!a->allow_downgrade && s.preferred.set &&
	    img_version_cmp(a->info.m.version, s.preferred.version) < 0) {
		snprintf(msg, msglen, "version %s is older than the preferred "
		    "%s: a downgrade (--allow-downgrade to force it)",
		    a->info.m.version, s.preferred.version);
		return -1;
	}
	if (a->add_key && s.nkeys < IMG_MAX_KEYS) {
		int have = 0;

		for (int i = 0; i < s.nkeys; i++)
			have |= memcmp(s.keys[i], a->key, IMG_PUBKEY_LEN) == 0;
		if (!have)
			memcpy(s.keys[s.nkeys++], a->key, IMG_PUBKEY_LEN);
	}
	if (s.preferred.set)
		s.previous = s.preferred;
	ref_of(&a->info, &s.preferred);
	if (s.floor[0] == 0 || (a->allow_downgrade &&
	    img_version_cmp(a->info.m.version, s.floor) < 0))
		snprintf(s.floor, sizeof(s.floor), "%s", a->info.m.version);
	return sec_put(cur, next, &s, msg, msglen);
}

struct progress {
	struct ctl_ctx	*c;		/* NULL: no progress lines */
	uint64_t	 last_us;
};

/* The store write under way, for image status --json (the CLI's
 * progress display). */
static _Atomic uint64_t	up_done, up_total, up_start_ms;

static void
upload_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	uint64_t now = now_us();

	atomic_store(&up_total, total);
	atomic_store(&up_done, done);
	if (p->c == NULL || now - p->last_us < 500000)
		return;
	p->last_us = now;
	log_info("image: stored %llu of %llu bytes", (unsigned long long)done,
	    (unsigned long long)total);
}

/*
 * Verify data as an image this cluster may run and store it on the
 * LUNs.  Prints into c (may be NULL: log only).  0 with a->info, or -1.
 */
static int
verify_and_store(struct ctl_ctx *c, struct pargs *a, const char *cmd)
{
	struct boot_sec	 s;
	uint8_t		 keys[IMG_MAX_KEYS][IMG_PUBKEY_LEN];
	char		 e[512], hex[2 * IMG_DIGEST_LEN + 1];
	uint32_t	 wmin, wmax, dmin, dmax;
	const char	*arch;
	struct progress	 pr;
	uint64_t	 t0;
	int		 nkeys, n;

	if (section_now(&s, NULL, e, sizeof(e)) < 0) {
		if (c)
			ctl_printf(c, "duonas %s: the image section: %s\n",
			    cmd, e);
		log_warnx("image: %s: the image section: %s", cmd, e);
		return -1;
	}
	nkeys = trusted_keys(&s, keys, a->key, &a->add_key);
	if (nkeys == 0) {
		snprintf(e, sizeof(e), "no trusted image key: the "
		    "configuration has none and %s does not exist (duonas "
		    "image key add FILE.pub)", im.cfg->boot_keys);
		goto fail;
	}
	if (img_verify(a->data, a->len, (const uint8_t (*)[IMG_PUBKEY_LEN])
	    keys, nkeys, &a->info, e, sizeof(e)) < 0)
		goto fail;
	/* the file's key joins the section only if it signed this image */
	if (a->add_key) {
		uint8_t id[IMG_KEYID_LEN];

		img_key_id(a->key, id);
		a->add_key = memcmp(id, a->info.key_id, IMG_KEYID_LEN) == 0;
	}
	if (!img_runs_here(&a->info.m, e, sizeof(e)))
		goto fail;
	ranges_here(&wmin, &wmax, &dmin, &dmax, &arch);
	if (a->info.m.wire_max < wmin || a->info.m.wire_min > wmax ||
	    a->info.m.disk_max < dmin || a->info.m.disk_min > dmax) {
		snprintf(e, sizeof(e), "%s speaks wire %u..%u and disk %u..%u, "
		    "the running %s wire %u..%u and disk %u..%u: the heads "
		    "could not pair during a rolling upgrade",
		    a->info.m.version, a->info.m.wire_min, a->info.m.wire_max,
		    a->info.m.disk_min, a->info.m.disk_max, dimg_version(),
		    wmin, wmax, dmin, dmax);
		goto fail;
	}
	memset(&pr, 0, sizeof(pr));
	pr.c = c;
	t0 = now_us();
	atomic_store(&up_done, 0);
	atomic_store(&up_total, 0);
	atomic_store(&up_start_ms, now_ms());
	/* the preferred image becomes the previous one: each LUN keeps it
	 * (after a rollback it need not be the newest in the store) */
	n = img_store_put(im.cfg, im.cfg->heads[im.self].id,
	    im.cfg->ctcm_replicas, a->data, a->len, a->info.digest,
	    a->info.m.version, s.preferred.set ? s.preferred.digest : NULL,
	    upload_progress, &pr, e, sizeof(e));
	atomic_store(&up_start_ms, 0);
	if (n <= 0)
		goto fail;
	img_digest_hex(a->info.digest, hex);
	{
		double s_el = (double)(now_us() - t0) / 1e6;
		double mb = (double)a->len / 1e6;

		if (c)
			ctl_printf(c, "%s: %s (%.16s...) verified, stored on %d "
			    "LUN(s): %zu bytes in %.3f s (%.1f MB/s)\n", cmd,
			    a->info.m.version, hex, n, a->len, s_el,
			    s_el > 0 ? mb / s_el : 0.0);
		log_info("image: %s %s (%.16s) stored on %d LUN(s) in %.3f s",
		    cmd, a->info.m.version, hex, n, s_el);
	}
	return 0;
fail:
	if (c)
		ctl_printf(c, "duonas %s: %s\n", cmd, e);
	log_warnx("image: %s: %s", cmd, e);
	return -1;
}

/* Factory initialisation: the store holds no image and the
 * configuration names none: the master uploads the image it runs. */
static void *
factory_thread(void *arg)
{
	struct pargs		 a;
	struct boot_sec		 s;
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	uint8_t			*data = NULL;
	size_t			 len = 0;
	char			 e[512];
	int			 rc;

	(void)arg;
	memset(&a, 0, sizeof(a));
	if (section_now(&s, NULL, e, sizeof(e)) < 0)
		goto out;
	if (s.preferred.set) {
		atomic_store(&im.factory_done, 1);
		goto out;
	}
	if (slot_read_image(im.bi.dir, im.bi.slot, &data, &len, e,
	    sizeof(e)) < 0) {
		log_warnx("image: factory initialisation: %s", e);
		goto out;
	}
	log_info("image: factory initialisation: the cluster has no preferred "
	    "image; uploading the one this head runs (%s)", im.bi.version);
	a.data = data;
	a.len = len;
	a.factory = 1;
	if (verify_and_store(NULL, &a, "factory initialisation") < 0)
		goto out;
	rc = ctcm_txn_run(prefer_edit, &a, "duonasd", "image factory "
	    "initialisation", 0, res);
	if (rc == 0) {
		atomic_store(&im.factory_done, 1);
		log_info("image: factory initialisation: %s is the preferred "
		    "image: %s", a.info.m.version, res->msg);
	}
	else
		log_warnx("image: factory initialisation: %s", res->msg);
out:
	free(data);
	free(res);
	atomic_store(&im.factory_busy, 0);
	return NULL;
}

/* A detached thread running fn (blocking work off the loop). */
static int
start_thread(void *(*fn)(void *))
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

/* ---- restart through duonas-boot ---------------------------------------- */

/* What the loop thread knows, for a worker. */
struct snap {
	unsigned	me, peer;
	char		peer_sw[80];
	int		opmode;
	uint64_t	peer_boot;
	int		held;
};

static void
snap_on_loop(void *arg)
{
	struct snap *s = arg;

	ha_pair_states(&s->me, &s->peer);
	snprintf(s->peer_sw, sizeof(s->peer_sw), "%s", ha_peer_swver());
	s->opmode = (int)ha_opmode();
	s->peer_boot = link_peer_boot_id();
	s->held = ha_held_count();
}

static void
snap_take(struct snap *s)
{
	memset(s, 0, sizeof(*s));
	loop_call_wait(snap_on_loop, s);
}


static int ask_peer_restart(const uint8_t digest[IMG_DIGEST_LEN], char *why,
    size_t whylen);

int
dimg_reexec_wanted(void)
{
	return atomic_load(&im.reexec);
}

void
dimg_reexec(void)
{
	char	*argv[8], head[CFG_NAME_MAX];
	int	 n = 0;

	snprintf(head, sizeof(head), "%s", im.cfg->heads[im.self].name);
	argv[n++] = im.loader;
	argv[n++] = "-c";
	argv[n++] = im.conf;
	argv[n++] = "-n";
	argv[n++] = head;
	if (im.debug) {
		argv[n++] = "--";
		argv[n++] = "-d";
	}
	argv[n] = NULL;
	log_info("boot: restarting through %s", im.loader);
	execv(im.loader, argv);
	log_warn("boot: exec %s", im.loader);
}

static void
exit_on_loop(void *arg)
{
	(void)arg;
	loop_exit();
}

/* Hand everything to the peer, then stop and exec the loader.  Prints
 * into c.  Returns an exit code (CTL_EX_OK: the stop is under way). */
static int
restart_self(struct ctl_ctx *c, const char *cmd, int tmo)
{
	int ex;

	if (!im.booted || im.loader[0] == 0) {
		ctl_printf(c, "duonas %s: this head was not started by "
		    "duonas-boot: restart it the way it was started\n", cmd);
		return CTL_EX_FAIL;
	}
	if (atomic_exchange(&im.restarting, 1)) {
		ctl_printf(c, "duonas %s: a restart is under way\n", cmd);
		return CTL_EX_FAIL;
	}
	{
		struct snap sn;

		snap_take(&sn);
		/* in INIT (a cold start) nothing is served: no handover */
		if ((sn.me & HA_STA_INIT) && sn.held == 0)
			ctl_printf(c, "%s: this head serves nothing (%s)\n", cmd,
			    ha_fsm_state_name(sn.me));
		else if ((ex = head_release_all(c, cmd, tmo, 0)) !=
		    CTL_EX_OK) {
			/* released everything, but the peer did not take
			 * it all in time (it faulted, it is in INIT): staying
			 * HALTED would leave the LUNs unserved until an
			 * administrator resets this head; restarting brings
			 * it back (it rejoins, or takes over) in seconds */
			snap_take(&sn);
			if (sn.me != HA_STA_HALTED || sn.held != 0) {
				atomic_store(&im.restarting, 0);
				return ex;
			}
			ctl_printf(c, "%s: this head serves nothing now: "
			    "restarting anyway\n", cmd);
		}
	}
	ctl_printf(c, "%s: %s restarts through duonas-boot now\n", cmd,
	    im.cfg->heads[im.self].name);
	/* run at shutdown, before the exec (hooks_stop) */
	hooks_event(HOOK_BOOT, .why = "restart", .slot = slot_name(im.bi.slot),
	    .version = im.bi.version);
	atomic_store(&im.reexec, 1);
	loop_call(exit_on_loop, NULL);
	return CTL_EX_OK;
}

/* A restart the master asked for (image upgrade), on its own thread. */
static void *
peer_restart_thread(void *arg)
{
	struct ctl_ctx c;

	(void)arg;
	memset(&c, 0, sizeof(c));
	buf_init(&c.out);
	if (restart_self(&c, "image upgrade", RESTART_TIMEOUT_MS) !=
	    CTL_EX_OK) {
		buf_add_u8(&c.out, 0);
		log_warnx("image: the restart the master asked for failed: %s",
		    (char *)c.out.data);
	}
	buf_free(&c.out);
	return NULL;
}

/* LINK_T_IMG_RESTART: payload = the preferred digest the master wants
 * this head to run.  Reply: u8 0 ok / 1 refused, then text. */
static void
restart_req_cb(uint8_t type, const uint8_t *p, size_t len,
    struct link_req *rq, void *arg)
{
	struct boot_sec	 s;
	char		 e[256], reply[300];
	int		 ok = 0;

	(void)type; (void)arg;
	if (len != IMG_DIGEST_LEN)
		snprintf(e, sizeof(e), "malformed request (%zu bytes)", len);
	else if (!im.booted)
		snprintf(e, sizeof(e), "%s was not started by duonas-boot",
		    im.cfg->heads[im.self].name);
	else if (im.loader[0] == 0)
		snprintf(e, sizeof(e), "%s does not know its duonas-boot "
		    "(no DUONAS_BOOT_PATH)", im.cfg->heads[im.self].name);
	else if (section_now(&s, NULL, e, sizeof(e)) < 0)
		;
	else if (!s.preferred.set || memcmp(s.preferred.digest, p,
	    IMG_DIGEST_LEN) != 0)
		snprintf(e, sizeof(e), "%s's configuration names another "
		    "preferred image (configuration not caught up?)",
		    im.cfg->heads[im.self].name);
	else if (atomic_load(&im.restarting))
		snprintf(e, sizeof(e), "a restart is under way");
	else if (start_thread(peer_restart_thread) < 0)
		snprintf(e, sizeof(e), "cannot start a thread");
	else {
		ok = 1;
		snprintf(e, sizeof(e), "restarting");
	}
	reply[0] = ok ? 0 : 1;
	snprintf(reply + 1, sizeof(reply) - 1, "%s", e);
	if (rq != NULL)
		link_reply(rq, reply, 1 + strlen(reply + 1));
	log_info("image: the master asks for a restart into the preferred "
	    "image: %s", ok ? "restarting" : e);
}

/* ---- cold start of both heads: the newest compatible version wins -------- */

#define COLD_HOLD_MS	120000

static struct {
	uint64_t	since_ms;	/* versions differ since (loop) */
	int		gave_up;
	_Atomic int	busy;		/* cold_thread running */
	_Atomic int	offered;	/* slave: stored its image */
	struct sw_string	peer;		/* for the thread */
} cold;

/* The head running the older software (a cold start of a new cluster):
 * once the peer's image is in the store, verify it, leave it to
 * duonas-boot as <statedir>/image/adopt and restart into it.  Nothing is
 * served meanwhile (both heads hold in INIT). */
static void *
cold_thread(void *arg)
{
	struct sw_string		 p = cold.peer;
	struct boot_sec		 s, hint;
	struct img_store_ent	 st[2 * CFG_MAX_LUNS];
	struct img_info		 info;
	uint8_t			 keys[IMG_MAX_KEYS][IMG_PUBKEY_LEN];
	uint8_t			 fk[IMG_PUBKEY_LEN], d[IMG_DIGEST_LEN];
	uint8_t			*data = NULL;
	size_t			 len = 0;
	char			 e[512], hex[2 * IMG_DIGEST_LEN + 1];
	char			 path[CFG_PATH_MAX + 32];
	struct buf		 o;
	struct ctl_ctx		 c;
	int			 n, nk, hfk, found = 0;

	(void)arg;
	if (section_now(&s, NULL, e, sizeof(e)) < 0)
		goto fail;
	if (s.preferred.set) {
		/* an existing cluster: its preferred image decides, and
		 * duonas-boot already went for it; mixed versions pair */
		log_info("image: cold start: the cluster prefers %s; not "
		    "adopting the peer's %s", s.preferred.version, p.version);
		cold.gave_up = 1;
		return NULL;
	}
	log_info("image: cold start: this head runs %s, the peer %s: %s wins "
	    "before either serves", dimg_version(), p.version, p.version);
	for (int t = 0; t < 300 && !found; t++) {
		n = img_store_list(im.cfg, im.cfg->heads[im.self].id, st,
		    (int)nitems(st));
		for (int i = 0; i < n && !found; i++) {
			img_digest_hex(st[i].digest, hex);
			if (st[i].valid_hdr && strncmp(hex, p.digest8, 8) == 0) {
				memcpy(d, st[i].digest, sizeof(d));
				found = 1;
			}
		}
		if (!found)
			usleep(200000);
	}
	if (!found) {
		snprintf(e, sizeof(e), "the peer's image %s (%s) did not "
		    "appear in the image store", p.version, p.digest8);
		goto fail;
	}
	if ((n = img_store_get(im.cfg, im.cfg->heads[im.self].id, d,
	    (void **)&data, &len, e, sizeof(e))) != 0) {
		if (n > 0)
			snprintf(e, sizeof(e), "no LUN holds a valid copy of "
			    "the peer's image");
		goto fail;
	}
	nk = trusted_keys(&s, keys, fk, &hfk);
	if (img_verify(data, len, (const uint8_t (*)[IMG_PUBKEY_LEN])keys, nk,
	    &info, e, sizeof(e)) < 0 || !img_runs_here(&info.m, e, sizeof(e)))
		goto fail;
	memset(&hint, 0, sizeof(hint));
	ref_of(&info, &hint.preferred);
	buf_init(&o);
	boot_sec_format(&hint, &o);
	snprintf(path, sizeof(path), "%s/image",
	    im.cfg->heads[im.self].statedir);
	mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/image/adopt",
	    im.cfg->heads[im.self].statedir);
	n = file_write_atomic(path, o.data, o.len, 0644);
	buf_free(&o);
	if (n < 0) {
		snprintf(e, sizeof(e), "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(data);
	data = NULL;
	memset(&c, 0, sizeof(c));
	buf_init(&c.out);
	log_info("image: cold start: this head restarts into %s",
	    info.m.version);
	if (restart_self(&c, "cold start", RESTART_TIMEOUT_MS) != CTL_EX_OK) {
		buf_add_u8(&c.out, 0);
		snprintf(e, sizeof(e), "%.500s", (char *)c.out.data);
		buf_free(&c.out);
		goto fail;
	}
	buf_free(&c.out);
	/* busy stays set: the restart is under way */
	return NULL;
fail:
	log_warnx("image: cold start: %s", e);
	free(data);
	sleep(2);
	atomic_store(&cold.busy, 0);
	return NULL;
}

/* The slave's side when it runs the newer image: store it on the LUNs
 * for the master to find (nothing else writes the store meanwhile). */
static void *
offer_thread(void *arg)
{
	struct pargs	a;
	uint8_t		*data = NULL;
	size_t		 len = 0;
	char		 e[256];

	(void)arg;
	memset(&a, 0, sizeof(a));
	if (slot_read_image(im.bi.dir, im.bi.slot, &data, &len, e,
	    sizeof(e)) < 0) {
		log_warnx("image: cold start: %s", e);
		atomic_store(&cold.offered, 0);
		return NULL;
	}
	a.data = data;
	a.len = len;
	if (verify_and_store(NULL, &a, "cold start (offered to the master)")
	    < 0)
		atomic_store(&cold.offered, 0);
	free(data);
	return NULL;
}

static int
sw_hold(const char *peer, int master)
{
	struct sw_string	p;
	char		hex[2 * IMG_DIGEST_LEN + 1];
	uint64_t	now = now_ms();
	int		cmp;

	if (!im.booted || !im.have_run || sw_parse(peer, &p) < 0 ||
	    !p.full || p.digest8[0] == '-')
		return 0;
	img_digest_hex(im.bi.digest, hex);
	if (strncmp(hex, p.digest8, 8) == 0) {
		if (cold.since_ms != 0)
			log_info("image: cold start: both heads run %s",
			    dimg_version());
		cold.since_ms = 0;
		atomic_store(&cold.busy, 0);
		return 0;
	}
	if (cold.gave_up)
		return 0;
	if (cold.since_ms == 0) {
		cold.since_ms = now;
		log_info("image: cold start with different software: %s here, "
		    "%s on the peer; the newest compatible one wins before "
		    "either serves", dimg_version(), p.version);
	}
	if (now - cold.since_ms > COLD_HOLD_MS) {
		log_warnx("image: cold start: the heads still run different "
		    "software after %d s (%s here, %s there): pairing anyway",
		    COLD_HOLD_MS / 1000, dimg_version(), p.version);
		cold.gave_up = 1;
		return 0;
	}
	/* the older software adopts the newer; equal versions with other
	 * contents: the master's wins */
	cmp = img_version_cmp(dimg_version(), p.version);
	if (cmp < 0 || (cmp == 0 && !master)) {
		if (!atomic_exchange(&cold.busy, 1)) {
			cold.peer = p;
			if (start_thread(cold_thread) < 0)
				atomic_store(&cold.busy, 0);
		}
	} else if (!atomic_exchange(&cold.offered, 1)) {
		if (start_thread(offer_thread) < 0)
			atomic_store(&cold.offered, 0);
	}
	return 1;
}

/* ---- the tick: good, factory initialisation ---------------------------- */

static void
factory_start(void)
{
	if (!atomic_exchange(&im.factory_busy, 1) &&
	    start_thread(factory_thread) < 0)
		atomic_store(&im.factory_busy, 0);
}

/* The cold-start hint (<statedir>/image/adopt) is needed only until
 * the configuration names a preferred image. */
static void
hint_cleanup(void)
{
	char		path[CFG_PATH_MAX + 32], e[CFG_PATH_MAX + 32], e2[256];
	struct boot_sec	s;

	snprintf(path, sizeof(path), "%s/image/adopt",
	    im.cfg->heads[im.self].statedir);
	if (access(path, F_OK) != 0)
		return;
	snprintf(e, sizeof(e), "%s/image/boot",
	    im.cfg->heads[im.self].statedir);
	if (boot_sec_load(e, &s, e2, sizeof(e2)) == 0 && s.preferred.set &&
	    unlink(path) == 0)
		log_info("image: the cluster prefers %s: cold-start hint "
		    "removed", s.preferred.version);
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	unsigned	me, peer;
	uint64_t	now = now_ms();
	char		e[256];

	(void)fd; (void)ev; (void)arg;
	ha_pair_states(&me, &peer);
	if ((me & (HA_STA_DAC | HA_STA_DEGRADED)) == 0) {
		im.good_since_ms = 0;
		return;
	}
	if (im.good_since_ms == 0)
		im.good_since_ms = now;
	hint_cleanup();
	if (im.booted && !atomic_load(&im.good) && now - im.good_since_ms >=
	    (uint64_t)im.cfg->boot_good_after_s * 1000) {
		int rc = slots_mark_good(im.bi.dir, im.bi.slot, im.bi.digest,
		    e, sizeof(e));

		if (rc < 0)
			log_warnx("boot: cannot mark slot %s good: %s",
			    slot_name(im.bi.slot), e);
		else {
			atomic_store(&im.good, 1);
			log_info("boot: slot %s (%s) is good: %s for %d s",
			    slot_name(im.bi.slot), im.bi.version,
			    ha_state_name(), im.cfg->boot_good_after_s);
			hooks_event(HOOK_BOOT, .why = "good",
			    .slot = slot_name(im.bi.slot),
			    .version = im.bi.version);
		}
	}
	if (im.booted && !atomic_load(&im.factory_done) &&
	    ha_opmode() == HA_OPMODE_MASTER && now >= im.factory_next_ms) {
		im.factory_next_ms = now + FACTORY_RETRY_MS;
		factory_start();
	}
}

void
dimg_start(void)
{
	struct timeval tv = { TICK_MS / 1000, (TICK_MS % 1000) * 1000 };

	link_register(LINK_T_IMG_RESTART, restart_req_cb, NULL);
	im.tick = event_new(loop_base(), -1, EV_PERSIST, tick_cb, NULL);
	event_add(im.tick, &tv);
}

void
dimg_stop(void)
{
	if (im.tick != NULL) {
		event_free(im.tick);
		im.tick = NULL;
	}
}

/* ---- admin commands ------------------------------------------------------ */

static void
ref_text(struct ctl_ctx *c, const char *label, const struct boot_ref *r)
{
	char hex[2 * IMG_DIGEST_LEN + 1];

	if (!r->set) {
		ctl_printf(c, "%-11s none\n", label);
		return;
	}
	img_digest_hex(r->digest, hex);
	ctl_printf(c, "%-11s %s (%.16s...), %llu bytes\n", label, r->version,
	    hex, (unsigned long long)r->size);
}

static void
ref_json(struct ctl_ctx *c, const char *name, const struct boot_ref *r)
{
	char hex[2 * IMG_DIGEST_LEN + 1];

	ctl_printf(c, ",\"%s\":", name);
	if (!r->set) {
		ctl_printf(c, "null");
		return;
	}
	img_digest_hex(r->digest, hex);
	ctl_printf(c, "{\"version\":");
	buf_add_json_str(&c->out, r->version);
	ctl_printf(c, ",\"digest\":\"%s\",\"size\":%llu}", hex,
	    (unsigned long long)r->size);
}

static int
cmd_image_status(struct ctl_ctx *c, int argc, char **argv)
{
	struct boot_sec		s;
	struct slotrec		r;
	struct snap		sn;
	struct img_store_ent	st[2 * CFG_MAX_LUNS];
	char			e[256], hex[2 * IMG_DIGEST_LEN + 1];
	int			rrc, ns, srok;
	uint64_t		gen = 0;

	(void)argv;
	if (argc != 0)
		return ctl_usage(c, "image status", "unexpected argument "
		    "'%s'", argv[0]);
	srok = section_now(&s, &gen, e, sizeof(e)) == 0;
	rrc = slotrec_read(im.slotdir, &r, e, sizeof(e));
	snap_take(&sn);
	ns = img_store_list(im.cfg, im.cfg->heads[im.self].id, st,
	    (int)nitems(st));
	if (c->json) {
		ctl_printf(c, "{\"head\":");
		buf_add_json_str(&c->out, im.cfg->heads[im.self].name);
		ctl_printf(c, ",\"boot_id\":\"%016llx\",\"booted\":%s,"
		    "\"version\":", (unsigned long long)dd.boot_id,
		    im.booted ? "true" : "false");
		buf_add_json_str(&c->out, dimg_version());
		if (im.booted) {
			img_digest_hex(im.bi.digest, hex);
			ctl_printf(c, ",\"slot\":\"%s\",\"digest\":\"%s\","
			    "\"state\":\"%s\",\"attempts\":%d,\"note\":",
			    slot_name(im.bi.slot), hex, atomic_load(&im.good) ?
			    "good" : slot_state_name(im.bi.state),
			    im.bi.attempts);
			buf_add_json_str(&c->out, im.bi.note);
		}
		ctl_printf(c, ",\"slots\":[");
		for (int i = 0; rrc == 0 && i < 2; i++) {
			img_digest_hex(r.s[i].digest, hex);
			ctl_printf(c, "%s{\"slot\":\"%s\",\"primary\":%s,"
			    "\"state\":\"%s\",\"attempts\":%d,\"version\":",
			    i ? "," : "", slot_name(i), r.primary == i ?
			    "true" : "false", slot_state_name(r.s[i].state),
			    r.s[i].attempts);
			buf_add_json_str(&c->out, r.s[i].version);
			ctl_printf(c, ",\"digest\":\"%s\",\"reason\":", hex);
			buf_add_json_str(&c->out, r.s[i].reason);
			ctl_printf(c, "}");
		}
		if (atomic_load(&up_start_ms) != 0)
			ctl_printf(c, "],\"upload\":{\"done\":%llu,\"total\":%llu,"
			    "\"ms\":%llu}", (unsigned long long)
			    atomic_load(&up_done), (unsigned long long)
			    atomic_load(&up_total), (unsigned long long)(now_ms() -
			    atomic_load(&up_start_ms)));
		else
			ctl_printf(c, "],\"upload\":null");
		ctl_printf(c, ",\"slot_note\":");
		buf_add_json_str(&c->out, rrc == 0 ? r.note : "");
		ctl_printf(c, ",\"generation\":%llu", (unsigned long long)gen);
		if (srok) {
			ref_json(c, "preferred", &s.preferred);
			ref_json(c, "previous", &s.previous);
			ctl_printf(c, ",\"floor\":");
			buf_add_json_str(&c->out, s.floor);
			ctl_printf(c, ",\"keys\":[");
			for (int i = 0; i < s.nkeys; i++) {
				uint8_t id[IMG_KEYID_LEN];
				char h[2 * IMG_KEYID_LEN + 1];

				img_key_id(s.keys[i], id);
				hex_encode(h, id, sizeof(id));
				ctl_printf(c, "%s\"%s\"", i ? "," : "", h);
			}
			ctl_printf(c, "]");
		}
		ctl_printf(c, ",\"peer_software\":");
		buf_add_json_str(&c->out, sn.peer_sw);
		ctl_printf(c, ",\"store\":[");
		for (int i = 0; i < ns; i++) {
			img_digest_hex(st[i].digest, hex);
			ctl_printf(c, "%s{\"lun\":", i ? "," : "");
			buf_add_json_str(&c->out, st[i].lun);
			ctl_printf(c, ",\"slot\":%d,\"valid\":%s,\"seq\":%llu,"
			    "\"length\":%llu,\"digest\":\"%s\",\"version\":",
			    st[i].slot, st[i].valid_hdr ? "true" : "false",
			    (unsigned long long)st[i].seq,
			    (unsigned long long)st[i].length, hex);
			buf_add_json_str(&c->out, st[i].version);
			ctl_printf(c, "}");
		}
		ctl_printf(c, "]}\n");
		return CTL_EX_OK;
	}
	ctl_printf(c, "head:       %s\n", im.cfg->heads[im.self].name);
	if (im.booted) {
		img_digest_hex(im.bi.digest, hex);
		ctl_printf(c, "running:    %s (%.16s...) from slot %s, %s%s%s\n",
		    dimg_version(), hex, slot_name(im.bi.slot),
		    atomic_load(&im.good) ? "good" :
		    slot_state_name(im.bi.state), im.bi.note[0] ? "; " : "",
		    im.bi.note);
	} else
		ctl_printf(c, "running:    %s, not started by duonas-boot (no "
		    "slot)\n", dimg_version());
	if (rrc == 0) {
		for (int i = 0; i < 2; i++) {
			img_digest_hex(r.s[i].digest, hex);
			ctl_printf(c, "slot %s:     %s%s%s (%.16s...) %s, "
			    "attempts %d%s%s\n", slot_name(i),
			    r.primary == i ? "[primary] " : "",
			    r.s[i].version[0] ? r.s[i].version : "-",
			    "", hex, slot_state_name(r.s[i].state),
			    r.s[i].attempts, r.s[i].reason[0] ? "; " : "",
			    r.s[i].reason);
		}
		if (r.note[0])
			ctl_printf(c, "last note:  %s\n", r.note);
	} else
		ctl_printf(c, "slots:      %s\n", e);
	if (srok) {
		ref_text(c, "preferred:", &s.preferred);
		ref_text(c, "previous:", &s.previous);
		ctl_printf(c, "floor:      %s\n", s.floor[0] ? s.floor :
		    "none");
		ctl_printf(c, "keys:       %d trusted", s.nkeys);
		for (int i = 0; i < s.nkeys; i++) {
			uint8_t id[IMG_KEYID_LEN];
			char h[2 * IMG_KEYID_LEN + 1];

			img_key_id(s.keys[i], id);
			hex_encode(h, id, sizeof(id));
			ctl_printf(c, "%s%s", i ? ", " : ": ", h);
		}
		ctl_printf(c, "\n");
	} else
		ctl_printf(c, "section:    %s\n", e);
	ctl_printf(c, "peer:       %s\n", sn.peer_sw[0] ? sn.peer_sw :
	    "not heard");
	for (int i = 0; i < ns; i++) {
		img_digest_hex(st[i].digest, hex);
		ctl_printf(c, "store:      lun %s slot %d: %s", st[i].lun,
		    st[i].slot, st[i].valid_hdr ? "" : "(empty or unreadable)");
		if (st[i].valid_hdr)
			ctl_printf(c, "%s (%.16s...) seq %llu, %llu bytes",
			    st[i].version, hex, (unsigned long long)st[i].seq,
			    (unsigned long long)st[i].length);
		ctl_printf(c, "\n");
	}
	return CTL_EX_OK;
}

static int
cmd_image_upload(struct ctl_ctx *c, int argc, char **argv)
{
	struct pargs		 a;
	uint8_t			*data = NULL;
	size_t			 len = 0;
	char			*sv[2];
	int			 ex;

	memset(&a, 0, sizeof(a));
	a.allow_downgrade = ctl_flag_take(&argc, argv, "allow-downgrade");
	if (argc != 1 || argv[0][0] != '/')
		return ctl_usage(c, "image upload", argc == 0 ? "missing FILE" :
		    argc > 1 ? "unexpected argument '%s'" : "FILE must be an "
		    "absolute path ('%s')", argv[argc - 1]);
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	if (file_read_all(argv[0], IMG_HDR_LEN + IMG_MANIFEST_MAX +
	    IMG_PAYLOAD_MAX + IMG_SIG_LEN, &data, &len) < 0) {
		ctl_printf(c, "duonas image upload: %s: %s\n", argv[0],
		    errno == EFBIG ? "larger than an image can be" :
		    strerror(errno));
		return CTL_EX_FAIL;
	}
	a.data = data;
	a.len = len;
	if (verify_and_store(c, &a, "image upload") < 0) {
		free(data);
		return CTL_EX_FAIL;
	}
	sv[0] = a.info.m.version;
	sv[1] = a.allow_downgrade ? "--allow-downgrade" : NULL;
	ex = ctcm_ctl_run_txn(c, prefer_edit, &a, "image upload",
	    a.allow_downgrade ? 2 : 1, sv, 0);
	if (ex == CTL_EX_OK)
		ctl_printf(c, "image upload: %s is the preferred image; duonas "
		    "image upgrade moves both heads to it\n",
		    a.info.m.version);
	free(data);
	return ex;
}

struct rargs {
	int	allow_downgrade;
	char	version[IMG_VERSION_MAX + 1];
	int	checked;		/* the image store holds want */
	uint8_t	want[IMG_DIGEST_LEN];
};

/* Whether a LUN's image store holds a valid copy of r (its SHA-256
 * checked).  0, or -1 with e saying why not. */
static int
store_holds(const struct boot_ref *r, char *e, size_t elen)
{
	char	 err[400];
	void	*data = NULL;
	size_t	 len = 0;
	int	 n;

	n = img_store_get(im.cfg, im.cfg->heads[im.self].id, r->digest,
	    &data, &len, err, sizeof(err));
	free(data);
	if (n == 0)
		return 0;
	if (n > 0)
		snprintf(e, elen, "image %s is in no LUN's image store any "
		    "more (the store keeps the preferred image and the one "
		    "before it): upload it again (duonas image upload FILE)",
		    r->version);
	else
		snprintf(e, elen, "image %s: the image store cannot be read: "
		    "%s", r->version, err);
	return -1;
}

static int
rollback_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct rargs	*a = arg;
	struct boot_sec	 s;
	struct boot_ref	 t;

	if (sec_of(cur, &s, msg, msglen) < 0)
		return -1;
	if (!s.previous.set) {
		snprintf(msg, msglen, "there is no previous image to return "
		    "to");
		return -1;
	}
	if (a->checked && memcmp(s.previous.digest, a->want,
	    IMG_DIGEST_LEN) != 0) {
		snprintf(msg, msglen, "the previous image changed while it "
		    "was looked for in the store: run it again");
		return -1;
	}
	if (!a->allow_downgrade && s.floor[0] &&
	    img_version_cmp(s.previous.version, s.floor) < 0) {
		snprintf(msg, msglen, "the previous image %s is older than the "
		    "floor %s (--allow-downgrade to force it)",
		    s.previous.version, s.floor);
		return -1;
	}
	t = s.preferred;
	s.preferred = s.previous;
	s.previous = t;
	if (a->allow_downgrade && s.floor[0] &&
	    img_version_cmp(s.preferred.version, s.floor) < 0)
		snprintf(s.floor, sizeof(s.floor), "%s", s.preferred.version);
	snprintf(a->version, sizeof(a->version), "%s", s.preferred.version);
	return sec_put(cur, next, &s, msg, msglen);
}

static int
cmd_image_rollback(struct ctl_ctx *c, int argc, char **argv)
{
	struct rargs	a;
	struct boot_sec	s;
	char		e[512];
	char		*sv[1] = { "--allow-downgrade" };
	int		ex;

	memset(&a, 0, sizeof(a));
	a.allow_downgrade = ctl_flag_take(&argc, argv, "allow-downgrade");
	if (argc != 0)
		return ctl_usage(c, "image rollback", "unexpected argument "
		    "'%s'", argv[0]);
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	/* refused before anything is committed when no LUN holds the
	 * image: the heads could not boot it (duonas-boot keeps what it
	 * has, and the upgrade would wait for a version that never comes) */
	if (section_now(&s, NULL, e, sizeof(e)) < 0) {
		ctl_printf(c, "duonas image rollback: %s\n", e);
		return CTL_EX_FAIL;
	}
	if (s.previous.set) {
		if (store_holds(&s.previous, e, sizeof(e)) < 0) {
			ctl_printf(c, "duonas image rollback: the previous "
			    "%s\n", e);
			return CTL_EX_FAIL;
		}
		a.checked = 1;
		memcpy(a.want, s.previous.digest, IMG_DIGEST_LEN);
	}
	ex = ctcm_ctl_run_txn(c, rollback_edit, &a, "image rollback",
	    a.allow_downgrade, sv, 0);
	if (ex == CTL_EX_OK)
		ctl_printf(c, "image rollback: %s is the preferred image again; "
		    "duonas image upgrade moves both heads to it\n",
		    a.version);
	return ex;
}

struct kargs {
	int	rm;
	uint8_t	key[IMG_PUBKEY_LEN];
	char	id[2 * IMG_KEYID_LEN + 1];
};

static int
key_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	struct kargs	*a = arg;
	struct boot_sec	 s;
	int		 k = -1;

	if (sec_of(cur, &s, msg, msglen) < 0)
		return -1;
	for (int i = 0; i < s.nkeys; i++) {
		uint8_t	id[IMG_KEYID_LEN];
		char	h[2 * IMG_KEYID_LEN + 1];

		img_key_id(s.keys[i], id);
		hex_encode(h, id, sizeof(id));
		if (a->rm ? strcmp(h, a->id) == 0 : memcmp(s.keys[i], a->key,
		    IMG_PUBKEY_LEN) == 0)
			k = i;
	}
	if (!a->rm) {
		if (k >= 0) {
			snprintf(msg, msglen, "key %s is trusted already",
			    a->id);
			return -1;
		}
		if (s.nkeys >= IMG_MAX_KEYS) {
			snprintf(msg, msglen, "%d keys are trusted already "
			    "(the most there can be)", IMG_MAX_KEYS);
			return -1;
		}
		memcpy(s.keys[s.nkeys++], a->key, IMG_PUBKEY_LEN);
	} else {
		if (k < 0) {
			snprintf(msg, msglen, "no trusted key %s (duonas image "
			    "status lists them)", a->id);
			return -1;
		}
		if (s.nkeys == 1 && s.preferred.set) {
			snprintf(msg, msglen, "key %s is the last trusted key: "
			    "no image could be verified without it (add "
			    "another first)", a->id);
			return -1;
		}
		memmove(s.keys[k], s.keys[k + 1], (size_t)(s.nkeys - k - 1) *
		    IMG_PUBKEY_LEN);
		s.nkeys--;
	}
	return sec_put(cur, next, &s, msg, msglen);
}

static int
cmd_image_key(struct ctl_ctx *c, int argc, char **argv, int rm)
{
	const char	*cmd = rm ? "image key rm" : "image key add";
	struct kargs	 a;
	char		 e[256];
	uint8_t		 id[IMG_KEYID_LEN];
	int		 ex;

	memset(&a, 0, sizeof(a));
	a.rm = rm;
	if (argc != 1)
		return ctl_usage(c, cmd, argc == 0 ? (rm ? "missing KEYID" :
		    "missing FILE") : "unexpected argument '%s'",
		    argv[argc - 1]);
	if (rm) {
		if (strlen(argv[0]) != 2 * IMG_KEYID_LEN ||
		    hex_decode(id, sizeof(id), argv[0]) < 0)
			return ctl_usage(c, cmd, "KEYID must be %d hex digits "
			    "(duonas image status lists them)",
			    2 * IMG_KEYID_LEN);
		hex_encode(a.id, id, sizeof(id));
	} else {
		if (argv[0][0] != '/')
			return ctl_usage(c, cmd, "FILE must be an absolute "
			    "path ('%s')", argv[0]);
		if (img_pubkey_load(argv[0], a.key, e, sizeof(e)) < 0) {
			ctl_printf(c, "duonas %s: %s\n", cmd, e);
			return CTL_EX_FAIL;
		}
		img_key_id(a.key, id);
		hex_encode(a.id, id, sizeof(id));
	}
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	{
		char *sv[1] = { a.id };

		ex = ctcm_ctl_run_txn(c, key_edit, &a, cmd, 1, sv, 0);
	}
	if (ex == CTL_EX_OK)
		ctl_printf(c, "%s: key %s\n", cmd, a.id);
	return ex;
}

static int
cmd_image_key_add(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_image_key(c, argc, argv, 0);
}

static int
cmd_image_key_rm(struct ctl_ctx *c, int argc, char **argv)
{
	return cmd_image_key(c, argc, argv, 1);
}

static int
floor_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next,
    void *arg, char *msg, size_t msglen)
{
	struct rargs	*a = arg;
	struct boot_sec	 s;

	if (sec_of(cur, &s, msg, msglen) < 0)
		return -1;
	if (!a->allow_downgrade && s.floor[0] &&
	    img_version_cmp(a->version, s.floor) < 0) {
		snprintf(msg, msglen, "%s would lower the floor %s "
		    "(--allow-downgrade to do that)", a->version, s.floor);
		return -1;
	}
	if (s.preferred.set && img_version_cmp(a->version,
	    s.preferred.version) > 0) {
		snprintf(msg, msglen, "the floor %s would be above the "
		    "preferred image %s", a->version, s.preferred.version);
		return -1;
	}
	snprintf(s.floor, sizeof(s.floor), "%s", a->version);
	return sec_put(cur, next, &s, msg, msglen);
}

static int
cmd_image_floor(struct ctl_ctx *c, int argc, char **argv)
{
	struct rargs	a;
	int		ex;

	memset(&a, 0, sizeof(a));
	a.allow_downgrade = ctl_flag_take(&argc, argv, "allow-downgrade");
	if (argc != 1)
		return ctl_usage(c, "image floor", argc == 0 ? "missing "
		    "VERSION" : "unexpected argument '%s'", argv[argc - 1]);
	if (!img_version_valid(argv[0]))
		return ctl_usage(c, "image floor", "'%s' is not a version "
		    "(N[.N[.N[.N]]][-tag])", argv[0]);
	snprintf(a.version, sizeof(a.version), "%s", argv[0]);
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	return ctcm_ctl_run_txn(c, floor_edit, &a, "image floor", 1, argv, 0);
}

static int
cmd_image_restart(struct ctl_ctx *c, int argc, char **argv)
{
	int tmo, rc;

	if ((rc = ha_adm_timeout(c, "image restart", &argc, argv,
	    RESTART_TIMEOUT_MS, &tmo)) != 0)
		return rc;
	if (argc != 0)
		return ctl_usage(c, "image restart", "unexpected argument "
		    "'%s'", argv[0]);
	return restart_self(c, "image restart", tmo);
}

/* ---- image upgrade --------------------------------------------------------- */

struct rq_wait {
	struct loop_wait	 w;
	uint8_t			 digest[IMG_DIGEST_LEN];
	char			 reply[300];
};

static void
rq_done(int status, const uint8_t *p, size_t len, void *arg)
{
	struct rq_wait *q = arg;

	if (status != 0)
		snprintf(q->reply, sizeof(q->reply), "no answer: %s",
		    strerror(status));
	else if (len >= 1)
		snprintf(q->reply, sizeof(q->reply), "%.*s", (int)(len - 1),
		    (const char *)p + 1);
	loop_wait_done(&q->w, status == 0 && len >= 1 && p[0] == 0 ? 0 : -1);
}

static void
rq_send(void *arg)
{
	struct rq_wait *q = arg;

	link_request(LINK_T_IMG_RESTART, q->digest, IMG_DIGEST_LEN, 5000,
	    rq_done, q);
}

/* The slave restarts into the preferred image (0), or -1 with why. */
static int
ask_peer_restart(const uint8_t digest[IMG_DIGEST_LEN], char *why,
    size_t whylen)
{
	struct rq_wait	q;
	int		rc;

	memset(&q, 0, sizeof(q));
	loop_wait_init(&q.w);
	memcpy(q.digest, digest, IMG_DIGEST_LEN);
	loop_call(rq_send, &q);
	rc = loop_wait(&q.w);
	loop_wait_destroy(&q.w);
	snprintf(why, whylen, "%s", q.reply);
	return rc;
}

static int
digest_is(const char *d8, const uint8_t d[IMG_DIGEST_LEN])
{
	char hex[2 * IMG_DIGEST_LEN + 1];

	img_digest_hex(d, hex);
	return strlen(d8) == 8 && strncmp(d8, hex, 8) == 0;
}

/* Undo the preferred image after a failed upgrade: the cluster stays on
 * what it runs. */
static void
upgrade_revert(struct ctl_ctx *c, const char *why)
{
	struct rargs		 a;
	struct ctcm_result	*res = xcalloc(1, sizeof(*res));
	char			 summary[CTCM_SUMMARY_MAX];

	memset(&a, 0, sizeof(a));
	a.allow_downgrade = 1;
	snprintf(summary, sizeof(summary), "image upgrade failed: %s", why);
	if (ctcm_txn_run(rollback_edit, &a, "duonasd", summary, 0, res) == 0)
		ctl_printf(c, "image upgrade: the preferred image is %s again "
		    "(%s)\n", a.version, res->msg);
	else
		ctl_printf(c, "image upgrade: could not make the previous image "
		    "preferred again: %s\n", res->msg);
	free(res);
}

static int
cmd_image_upgrade(struct ctl_ctx *c, int argc, char **argv)
{
	struct boot_sec	 s;
	struct snap	 sn;
	struct sw_string	 p;
	char		 e[512], hex[2 * IMG_DIGEST_LEN + 1];
	int		 tmo, rc, ex, mine_ok;
	uint64_t	 t0 = now_ms(), t1, old_boot;

	if ((rc = ha_adm_timeout(c, "image upgrade", &argc, argv,
	    UPGRADE_TIMEOUT_MS, &tmo)) != 0)
		return rc;
	if (argc != 0)
		return ctl_usage(c, "image upgrade", "unexpected argument '%s'",
		    argv[0]);
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	if (section_now(&s, NULL, e, sizeof(e)) < 0) {
		ctl_printf(c, "duonas image upgrade: %s\n", e);
		return CTL_EX_FAIL;
	}
	if (!s.preferred.set) {
		ctl_printf(c, "duonas image upgrade: the cluster has no "
		    "preferred image (duonas image upload FILE)\n");
		return CTL_EX_FAIL;
	}
	if (!im.booted || im.loader[0] == 0) {
		ctl_printf(c, "duonas image upgrade: this head was not started "
		    "by duonas-boot\n");
		return CTL_EX_FAIL;
	}
	snap_take(&sn);
	if (sn.me != HA_STA_DAC_M || (sn.peer & HA_STA_DAC_S) == 0) {
		ctl_printf(c, "duonas image upgrade: both heads must be dual "
		    "active (this head %s, the peer %s)\n",
		    ha_fsm_state_name(sn.me), sn.peer ?
		    ha_fsm_state_name(sn.peer) : "not heard");
		return CTL_EX_FAIL;
	}
	if (sw_parse(sn.peer_sw, &p) < 0 || !p.full) {
		ctl_printf(c, "duonas image upgrade: the peer's software (%s) "
		    "does not say which image it runs\n", sn.peer_sw);
		return CTL_EX_FAIL;
	}
	img_digest_hex(s.preferred.digest, hex);
	mine_ok = memcmp(im.bi.digest, s.preferred.digest,
	    IMG_DIGEST_LEN) == 0;
	if (mine_ok && digest_is(p.digest8, s.preferred.digest)) {
		ctl_printf(c, "image upgrade: both heads run %s (%.16s...) "
		    "already\n", s.preferred.version, hex);
		return CTL_EX_OK;
	}
	if (store_holds(&s.preferred, e, sizeof(e)) < 0) {
		ctl_printf(c, "duonas image upgrade: the preferred %s\n", e);
		return CTL_EX_FAIL;
	}
	ctl_printf(c, "image upgrade: to %s (%.16s...): first the slave "
	    "(%s, runs %s), then this head (%s, runs %s); each hands its "
	    "LUNs and IPs to the other, restarts through duonas-boot and takes "
	    "them back\n", s.preferred.version, hex,
	    im.cfg->heads[1 - im.self].name, p.version,
	    im.cfg->heads[im.self].name, dimg_version());
	/* 1: the slave */
	if (!digest_is(p.digest8, s.preferred.digest)) {
		t1 = now_ms();
		old_boot = sn.peer_boot;
		if (ask_peer_restart(s.preferred.digest, e, sizeof(e)) < 0) {
			ctl_printf(c, "image upgrade: the slave refused: %s\n",
			    e);
			upgrade_revert(c, e);
			return CTL_EX_FAIL;
		}
		ctl_printf(c, "image upgrade: %s restarts\n",
		    im.cfg->heads[1 - im.self].name);
		for (;;) {
			usleep(200000);
			snap_take(&sn);
			if (sn.peer_boot != old_boot && (sn.peer & HA_STA_DAC_S) &&
			    sn.me == HA_STA_DAC_M &&
			    sw_parse(sn.peer_sw, &p) == 0 && p.full &&
			    p.state == 'g')
				break;
			if (now_ms() - t0 > (uint64_t)tmo) {
				snprintf(e, sizeof(e), "%s did not come back "
				    "dual active and good within %d ms (it is "
				    "%s, software %s)",
				    im.cfg->heads[1 - im.self].name, tmo,
				    sn.peer ? ha_fsm_state_name(sn.peer) :
				    "not heard", sn.peer_sw);
				ctl_printf(c, "image upgrade: %s\n", e);
				upgrade_revert(c, e);
				return CTL_EX_FAIL;
			}
		}
		if (!digest_is(p.digest8, s.preferred.digest)) {
			snprintf(e, sizeof(e), "%s came back on %s, not %s: "
			    "its new slot did not become good (duonas image "
			    "status on it says why)",
			    im.cfg->heads[1 - im.self].name, p.version,
			    s.preferred.version);
			ctl_printf(c, "image upgrade: %s\n", e);
			upgrade_revert(c, e);
			return CTL_EX_FAIL;
		}
		ctl_printf(c, "image upgrade: %s runs %s, dual active and good "
		    "after %llu ms\n", im.cfg->heads[1 - im.self].name,
		    p.version, (unsigned long long)(now_ms() - t1));
	}
	if (mine_ok) {
		ctl_printf(c, "image upgrade: done in %llu ms: both heads run "
		    "%s\n", (unsigned long long)(now_ms() - t0),
		    s.preferred.version);
		return CTL_EX_OK;
	}
	/* 2: this head; the CLI waits for it to come back (docs) */
	ctl_printf(c, "image upgrade: now %s\n", im.cfg->heads[im.self].name);
	ex = restart_self(c, "image upgrade", RESTART_TIMEOUT_MS);
	if (ex == CTL_EX_OK)
		ctl_printf(c, "image upgrade: this head restarts now (%llu ms "
		    "so far); waiting for it: %s\n",
		    (unsigned long long)(now_ms() - t0), s.preferred.version);
	return ex;
}

void
dimg_ctl_register(void)
{
	ctl_register("image status", cmd_image_status);
	ctl_register("image upload", cmd_image_upload);
	ctl_register("image rollback", cmd_image_rollback);
	ctl_register("image key add", cmd_image_key_add);
	ctl_register("image key rm", cmd_image_key_rm);
	ctl_register("image floor", cmd_image_floor);
	ctl_register("image restart", cmd_image_restart);
	ctl_register("image upgrade", cmd_image_upgrade);
}

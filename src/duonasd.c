/*
 * duonasd.c — the head daemon: reads duonas.conf, becomes one head of the
 * pair and runs every subsystem on one libevent loop.
 *
 * Start order matters: the link comes first (everything talks through
 * it), then the HA controller (it decides master/slave from what the link
 * brings), then PSO (it follows the HA opmode), then the services, and
 * the admin socket last so `duonas` never sees a half-started daemon.
 * Shutdown runs in reverse.  The daemon stays in the foreground (systemd
 * supervises it); SIGTERM/SIGINT stop it cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ctcm/ctcm.h"
#include "ctl/ctl.h"
#include "duonasd.h"
#include "duonasd_image.h"
#include "duonasd_start.h"
#include "ha/ha.h"
#include "http/http.h"
#include "hooks/hooks.h"
#include "link/link.h"
#include "lhm/lhm.h"
#include "pso/brl.h"
#include "pso/pso.h"
#include "vip/tickle.h"

struct duonasd	dd;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: duonasd [-d] [-c CONF] [-n HEAD]\n"
	    "       duonasd -t [-c CONF] [-n HEAD]\n"
	    "       duonasd -R [-c CONF]\n\n"
	    "Run one head of a duonas cluster in the foreground.\n\n"
	    "  -c CONF   configuration file (default %s/duonas/duonas.conf)\n"
	    "  -n HEAD   which head of CONF this is (default: the head named "
	    "like this host)\n"
	    "  -d        debug logging\n"
	    "  -t        check everything a start reads (configuration, "
	    "key, exports,\n"
	    "            LUNs, directories), print each problem, exit 78 "
	    "or 0\n"
	    "  -R        remove every service IP of CONF from this host's "
	    "interfaces and exit\n"
	    "            (systemd ExecStopPost: a crashed daemon leaves them "
	    "configured)\n"
	    "  -h        this text\n"
	    "  -V        print the version\n", SYSCONFDIR);
}

static void
sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev; (void)arg;
	log_info("duonasd: signal %d, shutting down", (int)sig);
	loop_exit();
}

static int
pick_head(struct cfg *cfg, const char *name)
{
	char	err[CFG_PATH_MAX + 128];
	int	i;

	if ((i = cfg_pick_head(cfg, name, err, sizeof(err))) < 0)
		log_warnx("%s", err);
	return i;
}

/* systemd's STATUS=: the HA state, what this head serves, the software */
static void
sd_status(char *buf, size_t len)
{
	snprintf(buf, len, "%s, %d LUN(s) and IP(s) held, software %s",
	    ha_state_name(), ha_held_count(), dimg_version());
}

/* The health monitor's actions are the HA controller's (loop thread). */
static void
lhm_lun_handover(int lun, const char *why)
{
	/* -1: the peer is not serving (dead, booting): there is nobody to
	 * hand the LUN to; this head keeps it (the other LUNs are fine) and
	 * the monitor tries again while the fault lasts */
	if (ha_lun_handover(lun, why) < 0)
		log_warnx("lhm: lun %s stays here: the peer cannot take it "
		    "now (%s)", dd.cfg->luns[lun].name, why);
}

static int
lhm_ha_active(void)
{
	enum ha_opmode m = ha_opmode();

	return m == HA_OPMODE_MASTER || m == HA_OPMODE_SLAVE;
}

static void
lhm_actions_install(void)
{
	static const struct lhm_actions a = {
		.lun_handover = lhm_lun_handover,
		.surrender = ha_surrender,
		.active = lhm_ha_active,
	};

	lhm_set_actions(&a);
	ha_set_health_check(lhm_head_healthy);
}

int
main(int argc, char **argv)
{
	const char	*conf = SYSCONFDIR "/duonas/duonas.conf";
	const char	*head = NULL;
	char		 err[512], *pidfile;
	int		 ch, debug = 0, checkonly = 0, release = 0, rv, lockfd;
	struct event	*sigint_ev, *sigterm_ev;

	while ((ch = getopt(argc, argv, "c:n:dfRthV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			head = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':	/* foreground: always; accepted for scripts */
			break;
		case 't':
			checkonly = 1;
			break;
		case 'R':
			release = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("duonasd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	/* The daemon logs to syslog too unless -d (foreground debugging)
	 * or under systemd (stderr is the journal: log.c); -t and -R are
	 * commands whose output is for the one who ran them. */
	log_init("duonasd", debug, !debug && !checkonly && !release);
	dd.cfg = xcalloc(1, sizeof(*dd.cfg));
	if (release) {
		/* Needs only the addresses: no head, no key, no state.  A
		 * damaged duonas.conf falls back to the last committed copy
		 * like a start would. */
		if (cfg_parse(conf, dd.cfg, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			if (ctcm_boot_conf(conf, dd.cfg, err,
			    sizeof(err)) < 0) {
				log_warnx("ctcm: %s", err);
				return 78;
			}
		}
		rv = ha_release_ips(dd.cfg);
		if (rv >= 0)
			log_info("duonasd -R: %d service ip(s) removed", rv);
		return rv < 0 ? 1 : 0;
	}
	if (cfg_parse(conf, dd.cfg, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		/* a damaged duonas.conf is restored like any other local
		 * copy: boot from the last committed one (docs/ctcm.md) */
		if (checkonly || ctcm_boot_conf(conf, dd.cfg, err,
		    sizeof(err)) < 0) {
			if (!checkonly)
				log_warnx("ctcm: %s", err);
			return 78;
		}
		log_warnx("ctcm: %s", err);
	}
	if ((dd.self = pick_head(dd.cfg, head)) < 0)
		return 78;
	dd.me = &dd.cfg->heads[dd.self];
	log_settag(dd.me->name);
	if (checkonly) {
		/* every input a start reads, each problem on its own line */
		if ((rv = dstart_check(dd.cfg, dd.self)) > 0) {
			printf("%s: %d problem(s)\n", conf, rv);
			return 78;
		}
		printf("%s: configuration OK (this is head %s)\n", conf,
		    dd.me->name);
		return 0;
	}
	if (cfg_key_load(dd.cfg, dd.key, &dd.keylen, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 78;
	}
	if (mkdir_p(dd.me->statedir, 0700) < 0) {
		log_warn("cannot create %s", dd.me->statedir);
		return 73;
	}
	/* One daemon per head, decided before anything shared is opened
	 * (service IPs, LUNs, the store, the link): exit 75, the other one
	 * runs (duonasd(8), EXIT STATUS). */
	if ((lockfd = dstart_lock(dd.me->statedir, err,
	    sizeof(err))) < 0) {
		log_warnx("%s", err);
		return lockfd == -2 ? 75 : 73;
	}
	if (mkdir_p(dd.me->rundir, 0755) < 0) {
		log_warn("cannot create %s", dd.me->rundir);
		return 73;
	}
	signal(SIGPIPE, SIG_IGN);
	/* what duonas-boot decided, and the software string the heartbeats
	 * carry (docs/boot-images.md) */
	dimg_init(dd.cfg, dd.self, conf, debug);
	dimg_ha_hooks();

	/* Service IPs a crashed or killed earlier run left on this host's
	 * interfaces go before anything else: the kernel would keep
	 * answering for them while the peer may hold them. */
	if (!checkonly && ha_release_ips(dd.cfg) < 0)
		log_warnx("ha: some stale service IPs could not be removed");

	/* Power-up validation: the array's configuration replicas decide
	 * before anything is started from the local files. */
	ctcm_set_tunables(dd.cfg->ctcm_replicas, dd.cfg->ctcm_history);
	rv = ctcm_boot(conf, dd.cfg, dd.self, err, sizeof(err));
	if (err[0] && rv != CTCM_BOOT_INVALID)
		log_info("ctcm: %s", err);
	switch (rv) {
	case CTCM_BOOT_OK:
		break;
	case CTCM_BOOT_RESTORED:
		log_info("ctcm: configuration restored from the array; "
		    "restarting initialisation");
		dimg_restart_restored();
		log_warn("ctcm: cannot re-execute");
		return 1;
	case CTCM_BOOT_INVALID:
		/* first start with files the services would refuse: no
		 * generation 1 is stored, the admin fixes the files */
		log_warnx("ctcm: %s", err);
		return 78;
	case CTCM_BOOT_MONITOR:
		dd.monitor = 1;
		log_warnx("ctcm: no valid configuration anywhere: MONITOR "
		    "(administration only, nothing is served)");
		break;
	default:
		return 1;
	}

	loop_init();
	dd.boot_id = random_u64();
	dd.start_ms = now_ms();
	log_info("duonasd %s starting as head %s (node %u) of cluster %s",
	    PACKAGE_VERSION, dd.me->name, dd.me->id, dd.cfg->cluster);

	if (link_init(dd.cfg, dd.self, dd.key, dd.keylen, dd.boot_id) < 0)
		return 1;
	if (tickle_init(dd.cfg) < 0)
		return 1;
	dimg_start();
	hooks_start(dd.cfg, dd.me->name);	/* before HA's first event */
	if (ha_init(dd.cfg, dd.self, dd.monitor) < 0)
		return 1;
	if (!dd.monitor) {
		if ((rv = pso_init(dd.cfg, dd.self)) != 0) {
			log_warnx("pso: cannot start: %s", pso_strerror(rv));
			return 1;
		}
		/* the lock table learns from PSO whether the cluster
		 * starts cold (docs/locks.md) */
		if (brl_init(dd.cfg, dd.self) != 0)
			return 1;
	}
	if ((rv = ctcm_init(dd.cfg, dd.self)) != 0) {
		log_warnx("ctcm: cannot start: %s", ctcm_strerror(rv));
		return 1;
	}
	if (!dd.monitor) {
		if (services_init() < 0)
			return 1;
		ha_services_ready();
	}
	/* The monitor watches what is started: the loop (also in MONITOR,
	 * where systemd's watchdog still needs its beat), the NFS workers
	 * (registered by the service), the LUNs and the interfaces. */
	lhm_actions_install();
	lhm_notify_status_fn(sd_status);
	if (lhm_start(dd.cfg, dd.self) < 0 || (!dd.monitor &&
	    lhm_probes_start(dd.cfg, dd.self) < 0))
		return 1;
	ctcm_ctl_register();
	ctl_handlers_register();
	dimg_ctl_register();
	if (ctl_init(dd.me->socket) < 0)
		return 1;
	if (http_init(dd.me) < 0)
		return 78;
	pidfile = xasprintf("%s/duonasd.pid", dd.me->rundir);
	{
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (file_write_atomic(pidfile, pid, (size_t)n, 0644) < 0)
			log_warn("%s", pidfile);
	}
	sigint_ev = evsignal_new(loop_base(), SIGINT, sig_cb, NULL);
	sigterm_ev = evsignal_new(loop_base(), SIGTERM, sig_cb, NULL);
	evsignal_add(sigint_ev, NULL);
	evsignal_add(sigterm_ev, NULL);
	log_info("duonasd: ready");
	lhm_notify_ready();

	loop_run();

	lhm_notify_stopping();
	/* no health action may start while the head shuts down */
	lhm_probes_stop();
	lhm_stop();
	http_shutdown();
	ctl_shutdown();
	/* Give up IPs and LUNs before the services go, so clients move to
	 * the peer instead of hitting a closed port. */
	ha_shutdown();
	services_shutdown();
	hooks_stop();		/* runs the shutdown's events first */
	tickle_shutdown();
	ctcm_shutdown();
	if (!dd.monitor) {
		brl_shutdown();
		pso_shutdown();
	}
	dimg_stop();
	link_shutdown();
	unlink(pidfile);
	free(pidfile);
	event_free(sigint_ev);
	event_free(sigterm_ev);
	log_info("duonasd: stopped");
	if (dimg_reexec_wanted()) {
		/* image restart/upgrade: the loader picks the slot */
		dimg_reexec();
		return 1;
	}
	return 0;
}

/*
 * lhm.c — the local health monitor's core: the table of watched
 * resources, the monitor thread that probes them, the actions a fault
 * leads to, the event loop's own heartbeat (and systemd's watchdog), the
 * periodic wellness line and the status output.
 *
 * One thread runs a pass every interval (or at once after lhm_wake, e.g.
 * on a link event): it calls every probe, counts the results
 * (lhm_policy.c) and, for a resource that has just become FAULT, posts
 * the action to the loop thread.  Probes never block: those that touch
 * a disk have threads of their own (lhm_probes.c).  The event loop is
 * watched from this thread because it cannot watch itself: a loop stuck
 * past loop-stuck aborts the process (nothing on the loop can act any
 * more, and a dead process is what the peer handles fastest), and with
 * systemd's WatchdogSec the loop's WATCHDOG=1 stops and systemd kills it.
 * A fault that persists is re-announced every LHM_REFIRE_MS (a LUN still
 * served here, a head that serves again after its restart), never more.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "lhm/lhm_int.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define LHM_MAX_RES	192
#define LHM_REFIRE_MS	5000
#define LHM_DETAIL	160

struct lhm_res {
	int			 used;
	char			 name[32];
	enum lhm_policy		 pol;
	int			 lun;
	lhm_probe_fn		 fn;
	void			*arg;
	struct lhm_count	 cnt;
	int			 last;		/* last probe result */
	char			 detail[LHM_DETAIL];
	uint64_t		 faults;	/* times it became FAULT */
	uint64_t		 refire_us;
};

struct lhm_fault {
	char		name[32];
	char		why[LHM_DETAIL + 48];
	const char	*action;
	uint64_t	at_us;
	time_t		wall;
};

/* A decision on its way to the loop thread. */
struct lhm_act {
	enum lhm_policy	pol;
	int		lun;
	int		refire;
	char		why[LHM_DETAIL + 48];
};

static struct {
	struct cfg		 cfg;
	int			 self;
	int			 running;
	pthread_t		 thr;
	pthread_mutex_t		 mtx;		/* table, fault, wake */
	pthread_cond_t		 cond;
	pthread_mutex_t		 pass_mtx;	/* held while probes run */
	int			 wake, stop;
	struct lhm_res		 res[LHM_MAX_RES];
	struct lhm_fault	 last;
	struct lhm_actions	 act;
	int			 have_act;
	uint64_t		 wellness_us;
	uint64_t		 passes;
	struct event		*beat_ev;
	_Atomic uint64_t	 beat_us;
	int			 loop_id;
	int			 notify;	/* NOTIFY_SOCKET is set */
} lhm = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.pass_mtx = PTHREAD_MUTEX_INITIALIZER,
	.loop_id = -1,
};

const struct cfg *
lhm_cfg(void)
{
	return &lhm.cfg;
}

uint64_t
lhm_worker_stuck_ms(void)
{
	return lhm.running ? (uint64_t)lhm.cfg.health_worker_stuck_ms : 60000;
}

/* ---- systemd notification ---------------------------------------------- */

/* Without libsystemd the documented datagram protocol is sent by hand:
 * one AF_UNIX datagram to $NOTIFY_SOCKET ('@' = abstract namespace). */
static void
notify(const char *msg)
{
	if (!lhm.notify)
		return;
#ifdef HAVE_LIBSYSTEMD
	(void)sd_notify(0, msg);
#else
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	if (path == NULL || path[0] == 0 || strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = 0;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
#endif
}

void
lhm_notify_ready(void)
{
	notify("READY=1");
}

void
lhm_notify_stopping(void)
{
	notify("STOPPING=1");
}

/* ---- registration ------------------------------------------------------ */

int
lhm_register(const char *name, enum lhm_policy pol, int lun, lhm_probe_fn fn,
    void *arg)
{
	int id = -1;

	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES; i++) {
		if (lhm.res[i].used)
			continue;
		memset(&lhm.res[i], 0, sizeof(lhm.res[i]));
		lhm.res[i].used = 1;
		snprintf(lhm.res[i].name, sizeof(lhm.res[i].name), "%s", name);
		lhm.res[i].pol = pol;
		lhm.res[i].lun = lun;
		lhm.res[i].fn = fn;
		lhm.res[i].arg = arg;
		lhm.res[i].last = -1;
		id = i;
		break;
	}
	pthread_mutex_unlock(&lhm.mtx);
	if (id < 0)
		log_warnx("lhm: cannot watch %s: table full (%d)", name,
		    LHM_MAX_RES);
	return id;
}

void
lhm_unregister(int id)
{
	if (id < 0 || id >= LHM_MAX_RES)
		return;
	/* pass_mtx: the probe is not running now and will not run again */
	pthread_mutex_lock(&lhm.pass_mtx);
	pthread_mutex_lock(&lhm.mtx);
	lhm.res[id].used = 0;
	pthread_mutex_unlock(&lhm.mtx);
	pthread_mutex_unlock(&lhm.pass_mtx);
}

void
lhm_set_actions(const struct lhm_actions *a)
{
	pthread_mutex_lock(&lhm.mtx);
	lhm.act = *a;
	lhm.have_act = 1;
	pthread_mutex_unlock(&lhm.mtx);
}

/* ---- actions (loop thread) ---------------------------------------------- */

static void
act_cb(void *p)
{
	struct lhm_act		*a = p;
	struct lhm_actions	 act;
	int			 have;

	pthread_mutex_lock(&lhm.mtx);
	act = lhm.act;
	have = lhm.have_act;
	pthread_mutex_unlock(&lhm.mtx);
	if (!have) {
		log_warnx("lhm: no HA actions installed: %s", a->why);
		goto out;
	}
	switch (a->pol) {
	case LHM_POL_LUN:
		if (act.lun_handover != NULL)
			act.lun_handover(a->lun, a->why);
		break;
	case LHM_POL_SOFTWARE:
	case LHM_POL_PERMANENT:
		/* a persisting fault is announced again only once the head
		 * serves again (after its restart), not while it is HALTED */
		if (a->refire && act.active != NULL && !act.active())
			break;
		if (act.surrender != NULL)
			act.surrender(a->why, a->pol == LHM_POL_PERMANENT);
		break;
	default:
		break;
	}
out:
	free(a);
}

static void
post(enum lhm_policy pol, int lun, int refire, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
post(enum lhm_policy pol, int lun, int refire, const char *fmt, ...)
{
	struct lhm_act	*a = xcalloc(1, sizeof(*a));
	va_list		 ap;

	a->pol = pol;
	a->lun = lun;
	a->refire = refire;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	loop_call(act_cb, a);
}

static const char *
action_word(enum lhm_policy p)
{
	switch (p) {
	case LHM_POL_LUN:
		return "LUN handed to the peer";
	case LHM_POL_SOFTWARE:
		return "surrender (restart once)";
	case LHM_POL_PERMANENT:
		return "surrender (until reset)";
	case LHM_POL_ABORT:
		return "process aborted";
	case LHM_POL_IFACE:
		return "moved to the peer";
	default:
		return "reported";
	}
}

/* mtx held */
static void
note_fault(const struct lhm_res *r, const char *action)
{
	snprintf(lhm.last.name, sizeof(lhm.last.name), "%s", r->name);
	snprintf(lhm.last.why, sizeof(lhm.last.why), "%s", r->detail);
	lhm.last.action = action;
	lhm.last.at_us = now_us();
	lhm.last.wall = time(NULL);
}

/* Interface down states for lhm_iface_plan: an "iface DEV" resource that
 * is FAULT.  mtx held. */
static int
iface_down(const char *dev, void *arg)
{
	char name[48];

	(void)arg;
	snprintf(name, sizeof(name), "iface %s", dev);
	for (int i = 0; i < LHM_MAX_RES; i++)
		if (lhm.res[i].used && lhm.res[i].pol == LHM_POL_IFACE &&
		    strcmp(lhm.res[i].name, name) == 0)
			return lhm.res[i].cnt.h == LHM_H_FAULT;
	return 0;
}

/* mtx held: what the interfaces that are down mean, now. */
static void
iface_act(const struct lhm_res *r, int refire)
{
	uint8_t		luns[CFG_MAX_LUNS];
	enum lhm_ifact	a;

	a = lhm_iface_plan(&lhm.cfg, lhm.self, iface_down, NULL, luns);
	if (a == LHM_IF_SURRENDER) {
		post(LHM_POL_SOFTWARE, -1, refire, "%s: %s (every interface "
		    "with this head's service IPs is down)", r->name,
		    r->detail);
		return;
	}
	for (int i = 0; i < lhm.cfg.nluns; i++)
		if (luns[i])
			post(LHM_POL_LUN, i, 1, "%s: %s (the service IPs of "
			    "lun %s's head are unreachable here)", r->name,
			    r->detail, lhm.cfg.luns[i].name);
}

/* ---- the monitor thread ------------------------------------------------- */

/* One probe result of resource r.  mtx held. */
static void
account(struct lhm_res *r, int rv, uint64_t now)
{
	enum lhm_health was = r->cnt.h;
	int became = lhm_count_step(&r->cnt, rv, lhm.cfg.health_fault_after,
	    lhm.cfg.health_clear_after);
	int refire = 0;

	r->last = rv;
	if (was == LHM_H_FAULT && r->cnt.h != LHM_H_FAULT)
		log_info("lhm: %s %s again: %s", r->name, r->cnt.h ==
		    LHM_H_OK ? "healthy" : "idle", r->detail);
	if (!became && r->cnt.h == LHM_H_FAULT && rv == LHM_PROBE_FAIL &&
	    now >= r->refire_us && r->pol != LHM_POL_REPORT)
		refire = 1;
	if (!became && !refire)
		return;
	r->refire_us = now + LHM_REFIRE_MS * 1000ULL;
	if (became) {
		r->faults++;
		note_fault(r, action_word(r->pol));
		log_warnx("lhm: FAULT %s: %s -> %s", r->name, r->detail,
		    action_word(r->pol));
	}
	switch (r->pol) {
	case LHM_POL_REPORT:
		break;
	case LHM_POL_LUN:
		post(LHM_POL_LUN, r->lun, refire, "%s: %s", r->name, r->detail);
		break;
	case LHM_POL_SOFTWARE:
	case LHM_POL_PERMANENT:
		post(r->pol, -1, refire, "%s: %s", r->name, r->detail);
		break;
	case LHM_POL_IFACE:
		iface_act(r, refire);
		break;
	case LHM_POL_ABORT:
		/* the loop cannot act any more; a crash is what the peer
		 * and systemd handle (takeover, restart) */
		log_warnx("lhm: %s: %s: aborting the process so the peer "
		    "takes over", r->name, r->detail);
		abort();
	default:
		break;
	}
}

static void
wellness(uint64_t now)
{
	struct buf	b;
	int		n = 0, ok = 0, idle = 0, bad = 0;

	buf_init(&b);
	for (int i = 0; i < LHM_MAX_RES; i++) {
		struct lhm_res *r = &lhm.res[i];

		if (!r->used)
			continue;
		n++;
		if (r->cnt.h == LHM_H_OK)
			ok++;
		else if (r->cnt.h == LHM_H_IDLE)
			idle++;
		else if (r->cnt.h == LHM_H_FAULT || r->cnt.h == LHM_H_SUSPECT) {
			bad++;
			buf_printf(&b, "%s%s %s", b.len ? ", " : "", r->name,
			    lhm_health_name(r->cnt.h));
		}
	}
	buf_add(&b, "", 1);
	if (lhm.last.at_us != 0)
		log_info("lhm: wellness: %d watched, %d ok, %d idle, %d not "
		    "ok%s%s; last fault %s %llu s ago: %s", n, ok, idle, bad,
		    bad ? ": " : "", (char *)b.data, lhm.last.name,
		    (unsigned long long)(now - lhm.last.at_us) / 1000000,
		    lhm.last.why);
	else
		log_info("lhm: wellness: %d watched, %d ok, %d idle, %d not "
		    "ok%s%s; no fault since start", n, ok, idle, bad,
		    bad ? ": " : "", (char *)b.data);
	buf_free(&b);
}

static void
pass(void)
{
	struct {
		lhm_probe_fn	fn;
		void		*arg;
		int		rv;
		char		detail[LHM_DETAIL];
	} *p = xcalloc(LHM_MAX_RES, sizeof(*p));
	uint64_t now;

	pthread_mutex_lock(&lhm.pass_mtx);
	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES; i++)
		if (lhm.res[i].used) {
			p[i].fn = lhm.res[i].fn;
			p[i].arg = lhm.res[i].arg;
		}
	pthread_mutex_unlock(&lhm.mtx);
	/* probes run without the table lock: they may take a lock of
	 * their own module, whose threads may register resources */
	for (int i = 0; i < LHM_MAX_RES; i++)
		if (p[i].fn != NULL)
			p[i].rv = p[i].fn(p[i].arg, p[i].detail,
			    sizeof(p[i].detail));
	now = now_us();
	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES; i++) {
		if (p[i].fn == NULL || !lhm.res[i].used)
			continue;
		snprintf(lhm.res[i].detail, sizeof(lhm.res[i].detail), "%s",
		    p[i].detail);
		account(&lhm.res[i], p[i].rv, now);
	}
	lhm.passes++;
	if (lhm.cfg.health_wellness_s > 0 && now >= lhm.wellness_us) {
		lhm.wellness_us = now + lhm.cfg.health_wellness_s * 1000000ULL;
		wellness(now);
	}
	pthread_mutex_unlock(&lhm.mtx);
	pthread_mutex_unlock(&lhm.pass_mtx);
	free(p);
}

static void *
lhm_main(void *arg)
{
	struct timespec	ts;
	uint64_t	ns;

	(void)arg;
	for (;;) {
		pass();
		pthread_mutex_lock(&lhm.mtx);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = (uint64_t)ts.tv_nsec +
		    (uint64_t)lhm.cfg.health_interval_ms * 1000000ULL;
		ts.tv_sec += (time_t)(ns / 1000000000ULL);
		ts.tv_nsec = (long)(ns % 1000000000ULL);
		while (!lhm.wake && !lhm.stop &&
		    pthread_cond_timedwait(&lhm.cond, &lhm.mtx, &ts) == 0)
			;
		lhm.wake = 0;
		if (lhm.stop) {
			pthread_mutex_unlock(&lhm.mtx);
			return NULL;
		}
		pthread_mutex_unlock(&lhm.mtx);
	}
}

void
lhm_wake(void)
{
	pthread_mutex_lock(&lhm.mtx);
	lhm.wake = 1;
	pthread_cond_signal(&lhm.cond);
	pthread_mutex_unlock(&lhm.mtx);
}

/* ---- the event loop's heartbeat ----------------------------------------- */

static lhm_status_fn	status_fn;
static char		status_last[160];

void
lhm_notify_status_fn(lhm_status_fn fn)
{
	status_fn = fn;
}

/* The loop's beat: WATCHDOG=1, and STATUS= (what `systemctl status`
 * shows) when the daemon's one-line state changed. */
static void
beat_cb(evutil_socket_t fd, short ev, void *arg)
{
	char st[sizeof(status_last)], msg[sizeof(status_last) + 8];

	(void)fd; (void)ev; (void)arg;
	atomic_store(&lhm.beat_us, now_us());
	notify("WATCHDOG=1");
	if (status_fn == NULL)
		return;
	status_fn(st, sizeof(st));
	if (strcmp(st, status_last) != 0) {
		snprintf(status_last, sizeof(status_last), "%s", st);
		snprintf(msg, sizeof(msg), "STATUS=%s", st);
		notify(msg);
	}
}

static int
loop_probe(void *arg, char *d, size_t len)
{
	uint64_t beat = atomic_load(&lhm.beat_us), now = now_us();

	(void)arg;
	snprintf(d, len, "last beat %llu ms ago (limit %d ms)",
	    (unsigned long long)(now > beat ? now - beat : 0) / 1000,
	    lhm.cfg.health_loop_stuck_ms);
	return lhm_stuck(beat, now, (uint64_t)lhm.cfg.health_loop_stuck_ms) ?
	    LHM_PROBE_FAIL : LHM_PROBE_OK;
}

int
lhm_start(const struct cfg *cfg, int self)
{
	struct timeval	tv;
	int		ms;
	pthread_condattr_t ca;

	lhm.cfg = *cfg;
	lhm.self = self;
	lhm.stop = lhm.wake = 0;
	lhm.notify = getenv("NOTIFY_SOCKET") != NULL;
	lhm.wellness_us = now_us() + (uint64_t)cfg->health_wellness_s *
	    1000000ULL;
	/* the loop beats four times per stuck limit, at most once per
	 * interval: a late beat is a symptom long before a fault */
	ms = cfg->health_loop_stuck_ms / 4;
	if (ms > cfg->health_interval_ms)
		ms = cfg->health_interval_ms;
	if (ms < 10)
		ms = 10;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	atomic_store(&lhm.beat_us, now_us());
	lhm.beat_ev = event_new(loop_base(), -1, EV_PERSIST, beat_cb, NULL);
	event_add(lhm.beat_ev, &tv);
	lhm.loop_id = lhm_register("event-loop", LHM_POL_ABORT, -1,
	    loop_probe, NULL);

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&lhm.cond);
	pthread_cond_init(&lhm.cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&lhm.thr, NULL, lhm_main, NULL)) != 0) {
		log_warn("lhm: pthread_create");
		return -1;
	}
	lhm.running = 1;
	log_info("lhm: watching every %d ms (fault after %d, clear after %d; "
	    "worker stuck %d ms, loop stuck %d ms, I/O timeout %d ms)%s",
	    cfg->health_interval_ms, cfg->health_fault_after,
	    cfg->health_clear_after, cfg->health_worker_stuck_ms,
	    cfg->health_loop_stuck_ms, cfg->health_io_timeout_ms,
	    lhm.notify ? ", systemd notify" : "");
	return 0;
}

void
lhm_stop(void)
{
	if (!lhm.running)
		return;
	pthread_mutex_lock(&lhm.mtx);
	lhm.stop = 1;
	pthread_cond_signal(&lhm.cond);
	pthread_mutex_unlock(&lhm.mtx);
	pthread_join(lhm.thr, NULL);
	lhm.running = 0;
	lhm_unregister(lhm.loop_id);
	lhm.loop_id = -1;
	if (lhm.beat_ev != NULL)
		event_free(lhm.beat_ev);
	lhm.beat_ev = NULL;
}

/* ---- health and status -------------------------------------------------- */

static int
head_level(enum lhm_policy p)
{
	return p == LHM_POL_SOFTWARE || p == LHM_POL_PERMANENT ||
	    p == LHM_POL_ABORT;
}

int
lhm_head_healthy(char *why, size_t len)
{
	int ok = 1;

	if (len > 0)
		why[0] = 0;
	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES && ok; i++) {
		struct lhm_res *r = &lhm.res[i];

		if (r->used && r->cnt.h == LHM_H_FAULT &&
		    (head_level(r->pol) || r->pol == LHM_POL_IFACE)) {
			ok = 0;
			snprintf(why, len, "%s: %s", r->name, r->detail);
		}
	}
	pthread_mutex_unlock(&lhm.mtx);
	return ok;
}

void
lhm_status_text(struct buf *b)
{
	int	n = 0, bad = 0;

	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES; i++)
		if (lhm.res[i].used) {
			n++;
			if (lhm.res[i].cnt.h == LHM_H_FAULT ||
			    lhm.res[i].cnt.h == LHM_H_SUSPECT)
				bad++;
		}
	if (!lhm.running)
		buf_printf(b, "health:      not monitored\n");
	else if (bad == 0)
		buf_printf(b, "health:      %d watched, none faulted (probe "
		    "every %d ms)\n", n, lhm.cfg.health_interval_ms);
	else
		buf_printf(b, "health:      %d watched, %d NOT OK (probe every "
		    "%d ms)\n", n, bad, lhm.cfg.health_interval_ms);
	for (int i = 0; i < LHM_MAX_RES; i++) {
		struct lhm_res *r = &lhm.res[i];

		if (!r->used)
			continue;
		buf_printf(b, "  %-18s %-8s %s", r->name,
		    lhm_health_name(r->cnt.h), r->detail);
		if (r->faults > 0)
			buf_printf(b, " (%llu fault%s)",
			    (unsigned long long)r->faults,
			    r->faults == 1 ? "" : "s");
		buf_printf(b, "\n");
	}
	if (lhm.last.at_us != 0) {
		struct tm	tm;
		char		ts[32], ago[32];

		localtime_r(&lhm.last.wall, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		buf_printf(b, "  last fault: %s at %s (%s ago): %s -> %s\n",
		    lhm.last.name, ts, fmt_dur_ms(ago, sizeof(ago), (now_us() -
		    lhm.last.at_us) / 1000), lhm.last.why, lhm.last.action);
	}
	pthread_mutex_unlock(&lhm.mtx);
}

void
lhm_status_json(struct buf *b)
{
	int first = 1, healthy = 1;

	pthread_mutex_lock(&lhm.mtx);
	for (int i = 0; i < LHM_MAX_RES; i++)
		if (lhm.res[i].used && lhm.res[i].cnt.h == LHM_H_FAULT)
			healthy = 0;
	buf_printf(b, "{\"running\":%s,\"interval_ms\":%d,\"healthy\":%s,"
	    "\"resources\":[", lhm.running ? "true" : "false",
	    lhm.cfg.health_interval_ms, healthy ? "true" : "false");
	for (int i = 0; i < LHM_MAX_RES; i++) {
		struct lhm_res *r = &lhm.res[i];

		if (!r->used)
			continue;
		buf_printf(b, "%s{\"name\":", first ? "" : ",");
		buf_add_json_str(b, r->name);
		buf_printf(b, ",\"health\":\"%s\",\"policy\":\"%s\","
		    "\"faults\":%llu,\"detail\":", lhm_health_name(r->cnt.h),
		    lhm_policy_name(r->pol), (unsigned long long)r->faults);
		buf_add_json_str(b, r->detail);
		buf_printf(b, "}");
		first = 0;
	}
	buf_printf(b, "],\"last_fault\":");
	if (lhm.last.at_us != 0) {
		buf_printf(b, "{\"resource\":");
		buf_add_json_str(b, lhm.last.name);
		buf_printf(b, ",\"reason\":");
		buf_add_json_str(b, lhm.last.why);
		buf_printf(b, ",\"action\":");
		buf_add_json_str(b, lhm.last.action);
		buf_printf(b, ",\"age_ms\":%llu,\"time\":%lld}",
		    (unsigned long long)(now_us() - lhm.last.at_us) / 1000,
		    (long long)lhm.last.wall);
	} else {
		buf_printf(b, "null");
	}
	buf_printf(b, "}");
	pthread_mutex_unlock(&lhm.mtx);
}

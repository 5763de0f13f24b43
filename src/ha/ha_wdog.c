/*
 * ha_wdog.c — the head's hardware watchdog, armed like sanlock's wdmd:
 * a frozen head is reset before its peer may take its LUNs over.
 *
 * A lease alone keeps a frozen head from WRITING after the peer took
 * over (it fences itself when it resumes, before it does anything else),
 * but its kernel keeps answering ARP and TCP on the service IPs while the
 * process is stopped.  With a watchdog device configured (head block,
 * `watchdog /dev/watchdog0`), duonasd pets it every heartbeat
 * tick (from a thread of its own), but only while this head is healthy
 * in the lease sense: every LUN
 * it serves has a lease that has not run out (the disk thread renews
 * them).  A stopped process, or a disk thread stuck in I/O (its leases
 * run out and, with the loop also stuck, the LUN is never fenced), stops
 * the petting, and the device resets the machine watchdog-timeout
 * seconds later; duonas.conf's check guarantees that timeout + two ticks
 * fits in the lease, so the reset happens before the peer's lease wait
 * ends.  The petting runs in a thread of its own, not on the event loop:
 * a slow loop alone does not let the peer take over (the disk thread
 * still renews), so it is the health monitor's business, not a reason to
 * reset the machine.
 *
 * Protocol with the device (Documentation/watchdog/watchdog-api.rst):
 * open arms it, WDIOC_SETTIMEOUT sets the timeout, any write pets it, and
 * writing 'V' just before close disarms it ("magic close") — done on an
 * orderly stop only, so a crashed daemon (no magic close) also resets
 * the machine once the timeout passes.  A device that does not take the
 * timeout ioctl keeps its own timeout (logged).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "common/log.h"
#include "common/loop.h"
#include "ha/ha_int.h"

static struct {
	int		 fd;
	pthread_t	 tid;
	int		 started;
	int		 stop;		/* mtx */
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 timeout_s;	/* armed; 0: the device's own */
	/* written by the thread, read by status (mtx) */
	uint64_t	 npets, nskipped;
	uint64_t	 last_pet_us;
	char		 why[160];	/* why the last tick did not pet */
	char		 err[160];	/* arming failed */
} wd = { .fd = -1, .mtx = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER };

/* May the watchdog be petted now?  Every LUN this head serves has a
 * lease that is still valid. */
static int
healthy(char *why, size_t len)
{
	uint64_t now = now_us();

	for (int i = 0; i < ha.nluns; i++)
		if (ha_lun_lease_lost(i, now)) {
			snprintf(why, len, "lease of lun %s ran out",
			    ha.luns[i].cfg->name);
			return 0;
		}
	return 1;
}

static void
pet(void)
{
	char	why[160];
	int	ok = healthy(why, sizeof(why));

	if (ok && write(wd.fd, "p", 1) != 1) {
		snprintf(why, sizeof(why), "write: %s", strerror(errno));
		ok = 0;
	}
	pthread_mutex_lock(&wd.mtx);
	if (ok) {
		wd.why[0] = 0;
		wd.npets++;
		wd.last_pet_us = now_us();
	} else {
		if (strcmp(why, wd.why) != 0)
			log_warnx("watchdog: not petted: %s (the device resets "
			    "this machine if it lasts %d s)", why,
			    wd.timeout_s);
		snprintf(wd.why, sizeof(wd.why), "%s", why);
		wd.nskipped++;
	}
	pthread_mutex_unlock(&wd.mtx);
}

static void *
wd_thread(void *arg)
{
	struct timespec	ts;

	(void)arg;
	pthread_mutex_lock(&wd.mtx);
	while (!wd.stop) {
		pthread_mutex_unlock(&wd.mtx);
		pet();
		pthread_mutex_lock(&wd.mtx);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)ha.hbp.interval_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!wd.stop)
			pthread_cond_timedwait(&wd.cond, &wd.mtx, &ts);
	}
	pthread_mutex_unlock(&wd.mtx);
	return NULL;
}

int
ha_wdog_init(void)
{
	const char	*dev = ha.cfg->heads[ha.self].watchdog;
	int		 t;

	if (dev[0] == 0)
		return 0;
	/* O_NONBLOCK only for the open (a FIFO in tests has no reader
	 * yet: ENXIO instead of hanging); pets are tiny writes. */
	if ((wd.fd = open(dev, O_WRONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(wd.err, sizeof(wd.err), "cannot open %s: %s", dev,
		    strerror(errno));
		log_warnx("watchdog: %s: NOT ARMED (a frozen head is not "
		    "reset; its service IPs may answer until it resumes)",
		    wd.err);
		return 0;
	}
	t = ha.cfg->watchdog_timeout_s;
	if (ioctl(wd.fd, WDIOC_SETTIMEOUT, &t) == 0) {
		wd.timeout_s = t;
		if (t != ha.cfg->watchdog_timeout_s)
			log_warnx("watchdog: %s took a timeout of %d s, not "
			    "%d s", dev, t, ha.cfg->watchdog_timeout_s);
	} else {
		wd.timeout_s = 0;
		log_warnx("watchdog: %s does not take a timeout (%s): its "
		    "own applies", dev, strerror(errno));
	}
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&wd.cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if ((errno = pthread_create(&wd.tid, NULL, wd_thread, NULL)) != 0) {
		snprintf(wd.err, sizeof(wd.err), "thread: %s",
		    strerror(errno));
		log_warnx("watchdog: %s", wd.err);
		close(wd.fd);	/* no magic close: a crash-like stop */
		wd.fd = -1;
		return -1;
	}
	wd.started = 1;
	log_info("watchdog: %s armed (timeout %d s), petted every %d ms "
	    "while every served lease is valid", dev, wd.timeout_s,
	    ha.hbp.interval_ms);
	return 0;
}

/* Orderly stop: magic close disarms the device. */
void
ha_wdog_shutdown(void)
{
	if (wd.started) {
		pthread_mutex_lock(&wd.mtx);
		wd.stop = 1;
		pthread_cond_signal(&wd.cond);
		pthread_mutex_unlock(&wd.mtx);
		pthread_join(wd.tid, NULL);
		wd.started = 0;
	}
	if (wd.fd < 0)
		return;
	if (write(wd.fd, "V", 1) != 1)
		log_warn("watchdog: magic close");
	close(wd.fd);
	wd.fd = -1;
	log_info("watchdog: disarmed (orderly stop)");
}

void
ha_wdog_status_text(struct buf *b)
{
	const char *dev = ha.cfg->heads[ha.self].watchdog;

	if (dev[0] == 0)
		return;
	if (wd.fd < 0) {
		buf_printf(b, "watchdog:    %s NOT ARMED: %s\n", dev,
		    wd.err[0] ? wd.err : "disarmed");
		return;
	}
	pthread_mutex_lock(&wd.mtx);
	buf_printf(b, "watchdog:    %s armed, timeout %d s, last pet %llu ms "
	    "ago%s%s\n", dev, wd.timeout_s,
	    (unsigned long long)(now_us() - wd.last_pet_us) / 1000,
	    wd.why[0] ? ", NOT PETTED: " : "", wd.why);
	pthread_mutex_unlock(&wd.mtx);
}

void
ha_wdog_status_json(struct buf *b)
{
	const char *dev = ha.cfg->heads[ha.self].watchdog;

	buf_printf(b, "\"watchdog\":");
	if (dev[0] == 0) {
		buf_printf(b, "null");
		return;
	}
	buf_printf(b, "{\"device\":");
	buf_add_json_str(b, dev);
	pthread_mutex_lock(&wd.mtx);
	buf_printf(b, ",\"armed\":%s,\"timeout_s\":%d,\"pets\":%llu,"
	    "\"skipped\":%llu,\"last_pet_ms_ago\":%lld,\"problem\":",
	    wd.fd >= 0 ? "true" : "false", wd.timeout_s,
	    (unsigned long long)wd.npets, (unsigned long long)wd.nskipped,
	    wd.last_pet_us ? (long long)(now_us() - wd.last_pet_us) / 1000 :
	    -1LL);
	buf_add_json_str(b, wd.fd >= 0 ? wd.why : wd.err);
	pthread_mutex_unlock(&wd.mtx);
	buf_printf(b, "}");
}

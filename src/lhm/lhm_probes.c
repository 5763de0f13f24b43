/*
 * lhm_probes.c — the built-in probes of the local health monitor: each
 * LUN's data area and the interfaces that carry service IPs.  Each
 * registers itself with lhm_register like any later service would.
 *
 * A LUN served here is probed by a thread of its own, because the probe
 * does real I/O and a failing disk may hang it: every interval the
 * thread writes one 4 KiB block to DATA_ROOT/.duonas-probe with O_DIRECT
 * (O_DSYNC where the file system refuses O_DIRECT, e.g. tmpfs in
 * directory mode), reads it back and compares, then checks the mount
 * (a read-only remount) and, for ext4, the file system's error count in
 * /sys/fs/ext4/<loop device>/errors_count against the count seen at
 * mount time.  The probe function on the monitor thread only reads that
 * result, adds the private extent's I/O state the disk thread keeps
 * (ha_disk_get io_ok) and calls an I/O that has not returned within
 * io-timeout a failure.  A LUN not served here is IDLE.  The probe file
 * is closed after every probe so it never keeps an unmount busy.
 *
 * Interfaces: one resource "iface DEV" per interface named by any
 * service IP.  Its probe reads the flags (up, running = carrier and
 * operstate up) and which service IPs are present; an rtnetlink
 * listener (libmnl, link and address groups) wakes the monitor at once
 * on any change, so a cable pull is acted on within a pass, not an
 * interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "ha/ha_int.h"
#include "lhm/lhm_int.h"

#define PROBE_FILE	".duonas-probe"
#define PROBE_BLOCK	4096

struct lun_probe {
	int			 idx;
	const struct cfg_lun	*cfg;
	int			 id;		/* lhm resource */
	pthread_t		 thr;
	_Atomic int		 exited;
	_Atomic uint64_t	 io_since;	/* 0: not in an I/O */
	pthread_mutex_t		 mtx;
	int			 fresh;		/* result since serving */
	int			 ok;
	char			 detail[192];
	/* probe thread only */
	uint64_t		 seq;
	long long		 err_base;	/* errors_count at first look */
};

static struct {
	int			 running;
	int			 nluns;
	struct lun_probe	*luns;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 stop;
	int			 nifs;
	struct ifprobe {
		char	dev[IFNAMSIZ];
		int	id;
	}			 ifs[2 * CFG_MAX_VIPS];
	pthread_t		 nl_thr;
	int			 nl_on;
	_Atomic int		 nl_stop;
} pr = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* ---- LUN data areas ------------------------------------------------------ */

static int
lun_served(int i)
{
	return i < ha.nluns && atomic_load(&ha.luns[i].serving);
}

/*
 * The mount at root in /proc/self/mountinfo: its source device and
 * whether it is read-only.  1 found, 0 not mounted, -1 unreadable.
 */
static int
mount_info(const char *root, char *src, size_t srclen, int *ro)
{
	FILE	*f;
	char	 line[1024], mp[512], opts[256], fs[64], dev[48];
	int	 found = 0;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *sep = strstr(line, " - ");

		if (sep == NULL ||
		    sscanf(line, "%*s %*s %*s %*s %511s %255s", mp, opts) != 2 ||
		    sscanf(sep + 3, "%63s %47s", fs, dev) != 2)
			continue;
		if (strcmp(mp, root) != 0)
			continue;
		/* the last mount on the mountpoint is the visible one */
		found = 1;
		*ro = strncmp(opts, "ro", 2) == 0 &&
		    (opts[2] == 0 || opts[2] == ',');
		snprintf(src, srclen, "%s", dev);
	}
	fclose(f);
	return found;
}

static long long
ext4_errors(const char *dev)
{
	const char	*base = strrchr(dev, '/');
	char		 path[128], txt[32];
	FILE		*f;
	long long	 n = -1;

	snprintf(path, sizeof(path), "/sys/fs/ext4/%s/errors_count",
	    base ? base + 1 : dev);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(txt, sizeof(txt), f) != NULL)
		n = strtoll(txt, NULL, 10);
	fclose(f);
	return n;
}

/* One write-read-compare of the probe file.  0, or -1 with detail. */
static int
io_probe(struct lun_probe *p, const char *root, char *d, size_t len)
{
	char		 path[CFG_PATH_MAX + 32];
	void		*blk = NULL, *rd = NULL;
	int		 fd, rc = -1, direct = 1;
	const char	*what = "open";

	snprintf(path, sizeof(path), "%s/%s", root, PROBE_FILE);
	if (posix_memalign(&blk, PROBE_BLOCK, PROBE_BLOCK) != 0 ||
	    posix_memalign(&rd, PROBE_BLOCK, PROBE_BLOCK) != 0) {
		snprintf(d, len, "out of memory");
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT | O_DSYNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EINVAL) {
		/* no O_DIRECT here (tmpfs): synchronous writes still reach
		 * whatever is below */
		direct = 0;
		fd = open(path, O_RDWR | O_CREAT | O_DSYNC | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		goto fail;
	memset(blk, 0, PROBE_BLOCK);
	snprintf(blk, PROBE_BLOCK, "duonas data-area probe of lun %s, "
	    "number %llu\n", p->cfg->name, (unsigned long long)++p->seq);
	what = "write";
	if (pwrite(fd, blk, PROBE_BLOCK, 0) != PROBE_BLOCK) {
		close(fd);
		goto fail;
	}
	what = "read";
	if (pread(fd, rd, PROBE_BLOCK, 0) != PROBE_BLOCK) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (memcmp(blk, rd, PROBE_BLOCK) != 0) {
		snprintf(d, len, "probe block read back differs");
		goto out;
	}
	snprintf(d, len, "%s probe ok", direct ? "direct I/O" : "sync I/O");
	rc = 0;
	goto out;
fail:
	if (errno == 0)
		errno = EIO;
	snprintf(d, len, "probe %s of %s: %s", what, PROBE_FILE,
	    strerror(errno));
out:
	free(blk);
	free(rd);
	return rc;
}

/* A whole data-area probe of a served LUN (probe thread). */
static int
lun_check(struct lun_probe *p, char *d, size_t len)
{
	const char	*root = lun_data_root(p->cfg);
	char		 dev[48], io[96];
	int		 ro = 0, m;
	long long	 errs;
	uint64_t	 t0 = now_us();

	if (p->cfg->mode == CFG_LUN_EXT4) {
		if ((m = mount_info(root, dev, sizeof(dev), &ro)) <= 0) {
			snprintf(d, len, "%s not mounted", root);
			return -1;
		}
		if (ro) {
			snprintf(d, len, "%s remounted read-only (ext4 "
			    "errors=remount-ro)", root);
			return -1;
		}
	}
	atomic_store(&p->io_since, t0);
	m = io_probe(p, root, io, sizeof(io));
	atomic_store(&p->io_since, 0);
	if (m < 0) {
		snprintf(d, len, "%s", io);
		return -1;
	}
	if (p->cfg->mode == CFG_LUN_EXT4 && (errs = ext4_errors(dev)) >= 0) {
		if (p->err_base < 0)
			p->err_base = errs;
		if (errs > p->err_base) {
			snprintf(d, len, "ext4 on %s reports %lld new errors "
			    "(errors_count %lld)", dev, errs - p->err_base,
			    errs);
			return -1;
		}
		snprintf(d, len, "%s in %llu us, ext4 %s errors %lld", io,
		    (unsigned long long)(now_us() - t0), dev, errs);
		return 0;
	}
	snprintf(d, len, "%s in %llu us", io,
	    (unsigned long long)(now_us() - t0));
	return 0;
}

static void *
lun_thread(void *arg)
{
	struct lun_probe	*p = arg;
	const struct cfg	*cfg = lhm_cfg();
	char			 d[192];
	int			 ok;

	for (;;) {
		struct timespec ts;
		uint64_t ns;

		if (cfg->health_lun_probe && lun_served(p->idx)) {
			ok = lun_check(p, d, sizeof(d)) == 0;
			pthread_mutex_lock(&p->mtx);
			/* the LUN may have been released meanwhile: a
			 * result of a data area no longer ours is void */
			if (lun_served(p->idx)) {
				p->fresh = 1;
				p->ok = ok;
				snprintf(p->detail, sizeof(p->detail), "%s", d);
			}
			pthread_mutex_unlock(&p->mtx);
		} else {
			pthread_mutex_lock(&p->mtx);
			p->fresh = 0;
			pthread_mutex_unlock(&p->mtx);
			p->err_base = -1;
		}
		pthread_mutex_lock(&pr.mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_nsec +
		    (uint64_t)cfg->health_interval_ms * 1000000ULL;
		ts.tv_sec += (time_t)(ns / 1000000000ULL);
		ts.tv_nsec = (long)(ns % 1000000000ULL);
		if (!pr.stop)
			pthread_cond_timedwait(&pr.cond, &pr.mtx, &ts);
		if (pr.stop) {
			pthread_mutex_unlock(&pr.mtx);
			break;
		}
		pthread_mutex_unlock(&pr.mtx);
	}
	atomic_store(&p->exited, 1);
	return NULL;
}

static int
lun_probe_fn(void *arg, char *d, size_t len)
{
	struct lun_probe	*p = arg;
	const struct cfg	*cfg = lhm_cfg();
	enum ha_lun_st		 st;
	uint32_t		 owner;
	int			 io_ok, rv;
	uint64_t		 since = atomic_load(&p->io_since);

	if (!lun_served(p->idx)) {
		snprintf(d, len, "not served here");
		return LHM_PROBE_IDLE;
	}
	if (ha_lun_io_failed(p->idx)) {
		/* the worker sets the flag first, then the reason */
		snprintf(d, len, "%s", atomic_load(&ha.luns[p->idx].io_why_set)
		    ? ha.luns[p->idx].io_why : "write error on the data path");
		return LHM_PROBE_FAIL;
	}
	ha_disk_get(p->idx, &st, &owner, &io_ok);
	if (!io_ok) {
		snprintf(d, len, "private extent I/O failed: %s",
		    ha.luns[p->idx].err[0] ? ha.luns[p->idx].err :
		    "read/write error");
		return LHM_PROBE_FAIL;
	}
	if (lhm_stuck(since, now_us(), (uint64_t)cfg->health_io_timeout_ms)) {
		snprintf(d, len, "data-area probe I/O hung for %llu ms",
		    (unsigned long long)(now_us() - since) / 1000);
		return LHM_PROBE_FAIL;
	}
	pthread_mutex_lock(&p->mtx);
	if (!cfg->health_lun_probe) {
		snprintf(d, len, "private extent ok (data probe off)");
		rv = LHM_PROBE_OK;
	} else if (!p->fresh) {
		snprintf(d, len, "private extent ok, data probe pending");
		rv = LHM_PROBE_OK;
	} else {
		snprintf(d, len, "%s", p->detail);
		rv = p->ok ? LHM_PROBE_OK : LHM_PROBE_FAIL;
	}
	pthread_mutex_unlock(&p->mtx);
	return rv;
}

/* ---- interfaces ------------------------------------------------------------ */

static int
if_probe_fn(void *arg, char *d, size_t len)
{
	struct ifprobe		*ip = arg;
	const struct cfg	*cfg = lhm_cfg();
	struct ifreq		 ifr;
	struct buf		 b;
	int			 fd, rv;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ip->dev);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(d, len, "socket: %s", strerror(errno));
		return LHM_PROBE_OK;	/* cannot tell: no action */
	}
	rv = ioctl(fd, SIOCGIFFLAGS, &ifr);
	close(fd);
	if (rv < 0) {
		snprintf(d, len, "no such interface (%s)", strerror(errno));
		return LHM_PROBE_FAIL;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		snprintf(d, len, "administratively down");
		return LHM_PROBE_FAIL;
	}
	if (!(ifr.ifr_flags & IFF_RUNNING)) {
		snprintf(d, len, "no carrier (operstate not up)");
		return LHM_PROBE_FAIL;
	}
	/* which service IPs are on it now (what HA holds decides whether
	 * one should be: the status shows both) */
	buf_init(&b);
	for (int h = 0; h < cfg->nheads; h++)
		for (int i = 0; i < cfg->heads[h].nvips; i++) {
			const struct cfg_vip *v = &cfg->heads[h].vips[i];

			if (strcmp(v->dev, ip->dev) == 0 && vip_has_addr(v) == 1)
				buf_printf(&b, " %s", v->addr);
		}
	buf_add(&b, "", 1);
	snprintf(d, len, "carrier up; service IPs here:%s",
	    b.len > 1 ? (char *)b.data : " none");
	buf_free(&b);
	return LHM_PROBE_OK;
}

static int
nl_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		lhm_wake();
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* Link and address events: only a wake-up; the probe reads the state. */
static void *
nl_thread(void *arg)
{
	struct mnl_socket	*nl = arg;
	char			 buf[8192];
	struct pollfd		 pfd;
	ssize_t			 n;

	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	while (!atomic_load(&pr.nl_stop)) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) <= 0) {
			if (n < 0 && errno == ENOBUFS)
				lhm_wake();	/* lost events: look now */
			continue;
		}
		(void)mnl_cb_run(buf, (size_t)n, 0, 0, nl_cb, NULL);
	}
	mnl_socket_close(nl);
	return NULL;
}

static void
ifs_start(const struct cfg *cfg)
{
	struct mnl_socket *nl;

	for (int h = 0; h < cfg->nheads; h++)
		for (int i = 0; i < cfg->heads[h].nvips; i++) {
			const char *dev = cfg->heads[h].vips[i].dev;
			int seen = 0;

			for (int j = 0; j < pr.nifs; j++)
				if (strcmp(pr.ifs[j].dev, dev) == 0)
					seen = 1;
			if (seen || pr.nifs == (int)nitems(pr.ifs))
				continue;
			snprintf(pr.ifs[pr.nifs].dev, IFNAMSIZ, "%s", dev);
			pr.nifs++;
		}
	for (int j = 0; j < pr.nifs; j++) {
		char name[40];

		snprintf(name, sizeof(name), "iface %s", pr.ifs[j].dev);
		pr.ifs[j].id = lhm_register(name, LHM_POL_IFACE, -1,
		    if_probe_fn, &pr.ifs[j]);
	}
	if (pr.nifs == 0)
		return;
	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("lhm: rtnetlink (link events); interfaces are "
		    "probed every interval only");
		if (nl != NULL)
			mnl_socket_close(nl);
		return;
	}
	atomic_store(&pr.nl_stop, 0);
	if ((errno = pthread_create(&pr.nl_thr, NULL, nl_thread, nl)) != 0) {
		log_warn("lhm: pthread_create");
		mnl_socket_close(nl);
		return;
	}
	pr.nl_on = 1;
}

/* ---- start and stop -------------------------------------------------------- */

int
lhm_probes_start(const struct cfg *cfg, int self)
{
	(void)self;
	cfg = lhm_cfg();	/* the monitor's copy outlives config changes */
	pr.stop = 0;
	pr.nluns = cfg->nluns < ha.nluns ? cfg->nluns : ha.nluns;
	pr.luns = xcalloc((size_t)(pr.nluns ? pr.nluns : 1), sizeof(*pr.luns));
	for (int i = 0; i < pr.nluns; i++) {
		struct lun_probe *p = &pr.luns[i];
		char name[40];

		p->idx = i;
		p->cfg = &cfg->luns[i];
		p->err_base = -1;
		pthread_mutex_init(&p->mtx, NULL);
		if ((errno = pthread_create(&p->thr, NULL, lun_thread, p)) != 0) {
			log_warn("lhm: pthread_create");
			return -1;
		}
		snprintf(name, sizeof(name), "lun %s", p->cfg->name);
		p->id = lhm_register(name, LHM_POL_LUN, i, lun_probe_fn, p);
	}
	ifs_start(cfg);
	pr.running = 1;
	return 0;
}

void
lhm_probes_stop(void)
{
	if (!pr.running)
		return;
	for (int j = 0; j < pr.nifs; j++)
		lhm_unregister(pr.ifs[j].id);
	if (pr.nl_on) {
		atomic_store(&pr.nl_stop, 1);
		pthread_join(pr.nl_thr, NULL);
		pr.nl_on = 0;
	}
	pthread_mutex_lock(&pr.mtx);
	pr.stop = 1;
	pthread_cond_broadcast(&pr.cond);
	pthread_mutex_unlock(&pr.mtx);
	for (int i = 0; i < pr.nluns; i++) {
		struct lun_probe *p = &pr.luns[i];

		lhm_unregister(p->id);
		/* a thread stuck in I/O on a dead disk is left behind (its
		 * data stays allocated); the rest are joined */
		for (int t = 0; t < 100 && !atomic_load(&p->exited); t++)
			usleep(20000);
		if (atomic_load(&p->exited))
			pthread_join(p->thr, NULL);
		else
			pthread_detach(p->thr);
	}
	pr.nifs = 0;
	pr.running = 0;
}

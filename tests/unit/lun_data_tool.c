/*
 * lun_data_tool.c — drives lun_data.h (and pool_lun_format) from
 * tests/unit/test_lun_data.sh.
 *
 *   lun_data_tool pformat PATH LUNNAME LUNID [force]
 *   lun_data_tool [-fL] [-m ext4|dir] [-p PATH] [-d DATADIR] [-M MOUNTPOINT]
 *       [-n NAME] [-i ID] format|attach|detach|attached|root|bench COUNT
 *
 * -f: force (format: overwrite; detach: fencing), -L: use losetup(8)
 * instead of the loop ioctls.  attach prints "loopdev=... fsck=N
 * reused=N ms=N.N"; detach prints "ms=N.N"; attached prints 1/0/-1 and
 * exits 0/1/2; bench attaches and detaches COUNT times and prints min /
 * average / max of each.  Failures print "errno=N (text)" and exit 1;
 * usage errors exit 2.  Log lines go to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "pool/lun_data.h"
#include "pool/pool.h"

static void
usage(void)
{
	fprintf(stderr, "usage: lun_data_tool pformat PATH LUNNAME LUNID "
	    "[force]\n"
	    "       lun_data_tool [-fL] [-m ext4|dir] [-p PATH] [-d DATADIR] "
	    "[-M MOUNTPOINT]\n"
	    "           [-n NAME] [-i ID] format|attach|detach|attached|root|"
	    "bench COUNT\n");
	exit(2);
}

static int
fail(void)
{
	int e = errno;

	printf("errno=%d (%s)\n", e, strerror(e));
	return 1;
}

static int
pformat(int argc, char **argv)
{
	struct pool_lun	pl;
	int		rc;

	if (argc < 4)
		usage();
	rc = pool_lun_open(&pl, argv[1], pext_pool_id("test"),
	    (uint32_t)atoi(argv[3]), 1);
	if (rc == 0) {
		rc = pool_lun_format(&pl, "test", argv[2], argc > 4);
		pool_lun_close(&pl);
	}
	if (rc != 0) {
		printf("error: %s\n", pool_strerror(rc));
		return 1;
	}
	return 0;
}

static int
bench(const struct cfg_lun *l, int n)
{
	struct lun_data	st;
	uint64_t	a_min = UINT64_MAX, a_max = 0, a_sum = 0;
	uint64_t	d_min = UINT64_MAX, d_max = 0, d_sum = 0;
	int		i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < n; i++) {
		if (lun_data_attach(l, &st) == -1 || st.reused ||
		    lun_data_detach(l, &st, 0) == -1)
			return fail();
		a_min = MIN(a_min, st.attach_us);
		a_max = MAX(a_max, st.attach_us);
		a_sum += st.attach_us;
		d_min = MIN(d_min, st.detach_us);
		d_max = MAX(d_max, st.detach_us);
		d_sum += st.detach_us;
	}
	printf("attach_ms min=%.1f avg=%.1f max=%.1f\n", a_min / 1000.0,
	    a_sum / 1000.0 / n, a_max / 1000.0);
	printf("detach_ms min=%.1f avg=%.1f max=%.1f\n", d_min / 1000.0,
	    d_sum / 1000.0 / n, d_max / 1000.0);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg_lun	l;
	struct lun_data	st;
	int		c, force = 0, rv;

	log_init("lun_data_tool", 0, 0);
	if (argc > 1 && strcmp(argv[1], "pformat") == 0)
		return pformat(argc - 1, argv + 1);
	memset(&l, 0, sizeof(l));
	memset(&st, 0, sizeof(st));
	l.mode = CFG_LUN_EXT4;
	l.id = 1;
	snprintf(l.name, sizeof(l.name), "lun1");
	while ((c = getopt(argc, argv, "fLm:p:d:M:n:i:")) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'L':
			lun_data_test_losetup(1);
			break;
		case 'm':
			if (strcmp(optarg, "ext4") == 0)
				l.mode = CFG_LUN_EXT4;
			else if (strcmp(optarg, "dir") == 0)
				l.mode = CFG_LUN_DIR;
			else
				usage();
			break;
		case 'p':
			snprintf(l.path, sizeof(l.path), "%s", optarg);
			break;
		case 'd':
			snprintf(l.data, sizeof(l.data), "%s", optarg);
			break;
		case 'M':
			snprintf(l.mountpoint, sizeof(l.mountpoint), "%s",
			    optarg);
			break;
		case 'n':
			snprintf(l.name, sizeof(l.name), "%s", optarg);
			break;
		case 'i':
			l.id = (uint32_t)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "format") == 0)
		return lun_data_format(&l, force) == 0 ? 0 : fail();
	if (strcmp(argv[0], "attach") == 0) {
		if (lun_data_attach(&l, &st) == -1)
			return fail();
		printf("loopdev=%s fsck=%d reused=%d ms=%.1f\n",
		    st.loopdev[0] ? st.loopdev : "-", st.fsck_rc, st.reused,
		    st.attach_us / 1000.0);
		return 0;
	}
	if (strcmp(argv[0], "detach") == 0) {
		if (lun_data_detach(&l, &st, force) == -1)
			return fail();
		printf("ms=%.1f\n", st.detach_us / 1000.0);
		return 0;
	}
	if (strcmp(argv[0], "attached") == 0) {
		rv = lun_data_attached(&l);
		printf("%d\n", rv);
		return rv == 1 ? 0 : rv == 0 ? 1 : 2;
	}
	if (strcmp(argv[0], "root") == 0) {
		printf("%s\n", lun_data_root(&l));
		return 0;
	}
	if (strcmp(argv[0], "bench") == 0 && argc > 1)
		return bench(&l, atoi(argv[1]));
	usage();
	return 2;
}

/*
 * fuse_test_main.c — duonas-fuse-test: mounts DIR on MNT with the FUSE
 * export layer, without a cluster (the in-process lock table), for the
 * tests and the benchmark (tests/fuse, tests/bench/fuse-bench).
 *
 * Signals drive it: SIGUSR1 closes the gate (every operation: EIO),
 * SIGUSR2 opens it again, SIGHUP / SIGTERM / SIGINT stop the layer
 * (fuse_fs_stop: EIO, unmount) and exit 0.  It prints "ready" once the
 * mount serves and "stopped" after the stop, each on its own line.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/fuse_fs.h"

static atomic_int	gate_open = 1;

static int
gate(uint32_t expid, void *arg)
{
	(void)expid;
	(void)arg;
	return atomic_load(&gate_open);
}

static void
usage(void)
{
	fprintf(stderr, "usage: duonas-fuse-test [--no-splice] [--writeback] "
	    "[--direct-io] [--threads N] "
	    "[--attr-timeout SECONDS] DIR MNT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct fuse_fs_conf	 c;
	struct fuse_fs		*fs;
	struct fuse_fs_stats	 st;
	sigset_t		 set;
	char			 err[256], *end;
	int			 sig, i;

	memset(&c, 0, sizeof(c));
	c.expid = 1;
	c.head = "fuse-test";
	c.splice = 1;
	c.attr_timeout = 1.0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--no-splice") == 0)
			c.splice = 0;
		else if (strcmp(argv[i], "--writeback") == 0)
			c.writeback = 1;
		else if (strcmp(argv[i], "--direct-io") == 0)
			c.direct_io = 1;
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			c.max_threads = (unsigned)strtoul(argv[++i], &end, 10);
			if (*end != '\0' || c.max_threads == 0 ||
			    c.max_threads > 256) {
				fprintf(stderr, "duonas-fuse-test: --threads "
				    "takes 1..256\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--attr-timeout") == 0 &&
		    i + 1 < argc) {
			c.attr_timeout = strtod(argv[++i], &end);
			if (*end != '\0' || c.attr_timeout < 0 ||
			    c.attr_timeout > 3600) {
				fprintf(stderr, "duonas-fuse-test: "
				    "--attr-timeout takes 0..3600\n");
				return 2;
			}
		} else
			usage();
	}
	if (argc - i != 2)
		usage();
	c.backing = argv[i];
	c.mountpoint = argv[i + 1];

	/* the signals are taken by sigwait here, never by a worker */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if ((fs = fuse_fs_start(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "duonas-fuse-test: %s\n", err);
		return 1;
	}
	fuse_fs_set_gate(fs, gate, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			atomic_store(&gate_open, 0);
		else if (sig == SIGUSR2)
			atomic_store(&gate_open, 1);
		else
			break;
	}
	fuse_fs_stats_get(fs, &st);
	fuse_fs_stop(fs);
	printf("stopped ops=%llu gated=%llu lock_waits=%llu\n",
	    (unsigned long long)st.ops, (unsigned long long)st.gated,
	    (unsigned long long)st.lock_waits);
	return 0;
}

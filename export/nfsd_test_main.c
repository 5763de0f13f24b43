/*
 * nfsd_test_main.c — a stand-alone NFS server for tests: the export/
 * module on the common event loop, without the rest of duonasd.
 *
 *   nfsd-test -e EXPORTS [-b ADDR[,ADDR]] [-p NFSPORT] [-m MOUNTPORT]
 *             [-P PORTMAPPORT] [-t THREADS] [-d]
 *
 * Runs in the foreground until SIGTERM/SIGINT.  Not installed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "export/nfs.h"

static struct event *sigev[3];

static void
sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct buf b;

	(void)ev; (void)arg;
	if (sig == SIGUSR1) {
		buf_init(&b);
		nfs_status_text(&b);
		nfs_exports_text(&b);
		fprintf(stderr, "%s", (char *)b.data);
		buf_free(&b);
		return;
	}
	loop_exit();
}

int
main(int argc, char **argv)
{
	static struct cfg	cfg;
	int			ch, debug = 0;
	const char		*errstr;
	long long		v;

	memset(&cfg, 0, sizeof(cfg));
	cfg.nheads = 1;
	snprintf(cfg.heads[0].name, sizeof(cfg.heads[0].name), "test");
	cfg.nfs_port = 2049;
	cfg.mount_port = 2049;
	cfg.portmap_port = 0;
	cfg.nfs_threads = 4;
	while ((ch = getopt(argc, argv, "b:de:m:p:P:t:")) != -1) {
		switch (ch) {
		case 'b':
			snprintf(cfg.heads[0].nfs_bind,
			    sizeof(cfg.heads[0].nfs_bind), "%s", optarg);
			break;
		case 'd':
			debug = 1;
			break;
		case 'e':
			snprintf(cfg.exports, sizeof(cfg.exports), "%s",
			    optarg);
			break;
		case 'm':
		case 'p':
		case 'P':
		case 't':
			if (parse_num(optarg, ch == 'P' ? 0 : 1,
			    ch == 't' ? 256 : 65535, &v, &errstr) < 0) {
				fprintf(stderr, "-%c %s: %s\n", ch, optarg,
				    errstr);
				return 2;
			}
			if (ch == 'm')
				cfg.mount_port = (int)v;
			else if (ch == 'p')
				cfg.nfs_port = (int)v;
			else if (ch == 'P')
				cfg.portmap_port = (int)v;
			else
				cfg.nfs_threads = (int)v;
			break;
		default:
			fprintf(stderr, "usage: nfsd-test -e EXPORTS [-b ADDRS] "
			    "[-p PORT] [-m PORT] [-P PORT] [-t N] [-d]\n");
			return 2;
		}
	}
	if (cfg.exports[0] == 0) {
		fprintf(stderr, "nfsd-test: -e EXPORTS is required\n");
		return 2;
	}
	log_init("nfsd-test", debug, 0);
	signal(SIGPIPE, SIG_IGN);
	loop_init();
	if (nfs_init(&cfg, 0) < 0)
		return 1;
	sigev[0] = evsignal_new(loop_base(), SIGTERM, sig_cb, NULL);
	sigev[1] = evsignal_new(loop_base(), SIGINT, sig_cb, NULL);
	sigev[2] = evsignal_new(loop_base(), SIGUSR1, sig_cb, NULL);
	for (int i = 0; i < 3; i++)
		event_add(sigev[i], NULL);
	printf("ready\n");
	fflush(stdout);
	loop_run();
	nfs_shutdown();
	for (int i = 0; i < 3; i++)
		event_free(sigev[i]);
	return 0;
}

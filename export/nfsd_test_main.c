/*
 * nfsd_test_main.c — a stand-alone NFS server for tests: the export/
 * module on the common event loop, without the rest of duonasd.
 *
 *   nfsd-test -e EXPORTS [-k KEYFILE] [-b ADDR[,ADDR]] [-p NFSPORT]
 *             [-m MOUNTPORT] [-P PORTMAPPORT] [-t THREADS]
 *             [-o NAME=VALUE]... [-F N] [-d]
 *
 * -k: the cluster key that seals file handles (without it, a random key:
 * handles do not survive a restart).
 *
 * -o sets any tunable of the nfs { } block of duonas.conf(5), with the
 * same checks (max-connections=8, idle-timeout=2, input-budget=32 ...);
 * the others keep the defaults of duonas.conf.  -F N holds N more
 * descriptors (of /dev/null) once the service runs, as the rest of a
 * daemon would: a test runs out of descriptors with fewer connections.
 *
 * Runs in the foreground until SIGTERM/SIGINT; SIGUSR1 prints the status
 * and the exports on stderr.  Not installed.
 */
#include <errno.h>
#include <fcntl.h>
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
	int			ch, debug = 0, hold = 0;
	const char		*errstr;
	long long		v;
	char			kw[64], *eq, err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.nheads = 1;
	snprintf(cfg.heads[0].name, sizeof(cfg.heads[0].name), "test");
	cfg.nfs_port = 2049;
	cfg.mount_port = 2049;
	cfg.portmap_port = 0;
	cfg.nfs_threads = 4;
	cfg.nfs_max_conns = CFG_NFS_MAX_CONNS;
	cfg.nfs_max_conns_client = CFG_NFS_MAX_CONNS_CLIENT;
	cfg.nfs_idle_timeout = CFG_NFS_IDLE_TIMEOUT;
	cfg.nfs_record_timeout = CFG_NFS_RECORD_TIMEOUT;
	cfg.nfs_input_budget_mb = CFG_NFS_INPUT_BUDGET_MB;
	while ((ch = getopt(argc, argv, "b:de:F:k:m:o:p:P:t:")) != -1) {
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
		case 'k':
			snprintf(cfg.keyfile, sizeof(cfg.keyfile), "%s",
			    optarg);
			break;
		case 'F':
			if (parse_num(optarg, 0, 1 << 20, &v, &errstr) < 0) {
				fprintf(stderr, "-F %s: %s\n", optarg, errstr);
				return 2;
			}
			hold = (int)v;
			break;
		case 'o':
			snprintf(kw, sizeof(kw), "%s", optarg);
			if ((eq = strchr(kw, '=')) == NULL) {
				fprintf(stderr, "-o %s: use NAME=VALUE\n",
				    optarg);
				return 2;
			}
			*eq++ = 0;
			if (cfg_tunable_set(&cfg, "nfs", kw, eq, err,
			    sizeof(err)) < 0) {
				fprintf(stderr, "-o %s: %s\n", optarg, err);
				return 2;
			}
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
			fprintf(stderr, "usage: nfsd-test -e EXPORTS [-k KEYFILE] [-b ADDRS] "
			    "[-p PORT] [-m PORT] [-P PORT] [-t N]\n"
			    "         [-o NAME=VALUE]... [-F N] [-d]\n"
			    "  -o: an nfs { } tunable of duonas.conf(5): "
			    "max-connections=N,\n"
			    "      max-connections-per-client=N, "
			    "idle-timeout=SECONDS,\n"
			    "      record-timeout=SECONDS, input-budget=MIB\n"
			    "  -F: hold N more descriptors once started\n");
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
	for (int i = 0; i < hold; i++)
		if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
			fprintf(stderr, "nfsd-test: -F: %d held: %s\n", i,
			    strerror(errno));
			break;
		}
	printf("ready\n");
	fflush(stdout);
	loop_run();
	nfs_shutdown();
	for (int i = 0; i < 3; i++)
		event_free(sigev[i]);
	return 0;
}

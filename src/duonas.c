/*
 * duonas.c — the admin CLI.
 *
 * Finds the local daemon's admin socket (-s, $DUONAS_SOCKET, the head's
 * socket from -c CONF -n HEAD, or the default), checks the command against
 * the shared table (so typos and --help never need the daemon), sends argv
 * and prints the reply.  Exit codes: 0 ok, 1 failed, 2 not the master,
 * 64 usage, 69 daemon unreachable.  `keygen` and `help` run locally.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/cfg.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"

static void
usage_all(FILE *f)
{
	fprintf(f,
	    "usage: duonas [-s SOCKET | [-c CONF] -n HEAD] COMMAND [ARGS] "
	    "[--json]\n"
	    "       duonas COMMAND --help\n\n"
	    "Administer the duonas head this runs on.  Read-only commands "
	    "work on both heads.\n\ncommands:\n");
	for (int i = 0; i < ctl_ncmds; i++)
		fprintf(f, "  %-14s %s\n", ctl_cmds[i].name, ctl_cmds[i].args);
	fprintf(f, "  %-14s %s\n", "keygen", "FILE");
	fprintf(f, "  %-14s %s\n", "help", "[COMMAND]");
	fprintf(f, "\noptions:\n"
	    "  -s SOCKET   admin socket of the daemon (default: $DUONAS_SOCKET "
	    "or %s/duonas/duonasd.sock)\n"
	    "  -c CONF     duonas.conf to find the socket of head -n HEAD\n"
	    "  -n HEAD     talk to head HEAD: its socket from -c CONF "
	    "(default %s/duonas/duonas.conf)\n"
	    "  -h, --help  this text\n"
	    "  --version   print the version\n", RUNSTATEDIR, SYSCONFDIR);
}

static void
help_cmd(const struct ctl_cmd *c)
{
	int	col = 0;
	const char *p = c->help;

	printf("usage: duonas %s %s\n\n", c->name, c->args);
	/* wrap the paragraph at 72 columns */
	while (*p) {
		size_t w = strcspn(p, " ");
		if (col + (int)w > 72) {
			putchar('\n');
			col = 0;
		}
		if (col > 0) {
			putchar(' ');
			col++;
		}
		fwrite(p, 1, w, stdout);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

static int
keygen(int argc, char **argv)
{
	uint8_t	key[32];
	char	hex[65];
	int	fd;

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
		    "usage: duonas keygen FILE\n\nWrite a new random 32-byte "
		    "cluster key (hex) to FILE (mode 0600); refuses to "
		    "overwrite.  Copy the same file to both heads.\n");
		return argc == 2 ? 0 : CTL_EX_USAGE;
	}
	random_bytes(key, sizeof(key));
	hex_encode(hex, key, sizeof(key));
	fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "duonas keygen: %s: %s\n", argv[1],
		    strerror(errno));
		return CTL_EX_FAIL;
	}
	if (dprintf(fd, "%s\n", hex) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fprintf(stderr, "duonas keygen: %s: %s\n", argv[1],
		    strerror(errno));
		return CTL_EX_FAIL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*sock = getenv("DUONAS_SOCKET");
	const char		*conf = NULL, *head = NULL;
	const struct ctl_cmd	*c;
	char			 defsock[256];
	int			 ch, nw;

	/* '+': stop at the first non-option so command options pass on */
	while ((ch = getopt_long(argc, argv, "+s:c:n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'n':
			head = optarg;
			break;
		case 'h':
			usage_all(stdout);
			return 0;
		case 'V':
			printf("duonas %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage_all(stderr);
			return CTL_EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage_all(stderr);
		return CTL_EX_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			usage_all(stdout);
			return 0;
		}
		if ((c = ctl_cmd_find(argc - 1, argv + 1, &nw)) == NULL) {
			fprintf(stderr, "duonas: unknown command '%s'\n",
			    argv[1]);
			return CTL_EX_USAGE;
		}
		help_cmd(c);
		return 0;
	}
	if (strcmp(argv[0], "keygen") == 0)
		return keygen(argc, argv);
	if ((c = ctl_cmd_find(argc, argv, &nw)) == NULL) {
		int group = 0;
		for (int i = 0; i < ctl_ncmds; i++)
			if (strncmp(ctl_cmds[i].name, argv[0],
			    strlen(argv[0])) == 0 &&
			    ctl_cmds[i].name[strlen(argv[0])] == ' ')
				group = 1;
		fprintf(stderr, "duonas: unknown command '%s%s%s' (duonas "
		    "help lists them)\n", argv[0], group && argc > 1 ? " " : "",
		    group && argc > 1 ? argv[1] : "");
		return CTL_EX_USAGE;
	}
	for (int i = nw; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help_cmd(c);
			return 0;
		}
	/* -n alone: that head of the default configuration (both heads'
	 * sockets are named there, so an administrator on either machine,
	 * or a test, can address a head by name) */
	if (head != NULL && conf == NULL)
		conf = SYSCONFDIR "/duonas/duonas.conf";
	if (conf != NULL && head == NULL) {
		fprintf(stderr, "duonas: -c needs -n HEAD\n");
		return CTL_EX_USAGE;
	}
	if (conf != NULL) {
		struct cfg	*cfg = xmalloc(sizeof(*cfg));
		char		 err[512];
		int		 i;

		if (cfg_parse(conf, cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "duonas: %s\n", err);
			return CTL_EX_USAGE;
		}
		if ((i = cfg_head_find(cfg, head)) < 0) {
			fprintf(stderr, "duonas: %s has no head '%s'\n", conf,
			    head);
			return CTL_EX_USAGE;
		}
		snprintf(defsock, sizeof(defsock), "%s", cfg->heads[i].socket);
		sock = defsock;
		free(cfg);
	}
	if (sock == NULL) {
		snprintf(defsock, sizeof(defsock), "%s/duonas/duonasd.sock",
		    RUNSTATEDIR);
		sock = defsock;
	}
	return ctl_client_run(sock, argc, argv);
}

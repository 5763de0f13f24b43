/*
 * duonas.c — the admin CLI.
 *
 * Finds the local daemon's admin socket (-s; the head's socket from -c
 * CONF with -n HEAD or else the head named like this host, -n alone
 * reading the default CONF; $DUONAS_SOCKET; or the default), checks the
 * command against the shared table (so unknown commands, with the
 * closest names suggested, group words, which list their commands, and
 * --help never need the daemon), sends argv and prints the reply.  Exit
 * codes: 0 ok, 1 failed, 2 not the master, 64 usage (whoever finds it,
 * this program or the daemon), 69 daemon unreachable or (-t SECS, the
 * bound on the wait for the answer) not answering: a stopped daemon
 * accepts and never answers.  `keygen` and `help` run locally.
 *
 * `smb user add|passwd` read the password here (twice with echo off on a
 * terminal, else one line of standard input) and send only its NT hash
 * (`--nthash HEX`): the password never crosses the admin socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "common/cfg.h"
#include "common/util.h"
#include "ctl/ctl.h"
#include "image/image.h"
#include "ctl/ctl_int.h"
#include "smb/smb_users.h"

/* Commands that run here, not in the daemon (for suggestions). */
static const char *const local_cmds[] = { "keygen", "help", NULL };

/* The group words' listing: "  ip          ls, add, rm, move" for each
 * first word that begins longer command names. */
static void
usage_groups(FILE *f)
{
	for (int i = 0; i < ctl_ncmds; i++) {
		const char	*n = ctl_cmds[i].name;
		size_t		 w = strcspn(n, " ");
		int		 seen = 0, col;

		if (n[w] == 0)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = strncmp(ctl_cmds[j].name, n, w) == 0 &&
			    ctl_cmds[j].name[w] == ' ';
		if (seen)
			continue;
		fprintf(f, "  %-8.*s", (int)w, n);
		col = 10;
		for (int j = i, k = 0; j < ctl_ncmds; j++) {
			const char *m = ctl_cmds[j].name;

			if (strncmp(m, n, w) != 0 || m[w] != ' ')
				continue;
			if (col + (int)strlen(m + w + 1) + 2 > 78) {
				fprintf(f, ",\n%10s", "");
				col = 10;
				k = 0;
			}
			col += fprintf(f, "%s%s", k++ ? ", " : " ", m + w + 1);
		}
		fputc('\n', f);
	}
}

static void
usage_all(FILE *f)
{
	fprintf(f,
	    "usage: duonas [-s SOCKET | -c CONF [-n HEAD] | -n HEAD] [-t SECS] "
	    "COMMAND [ARGS]\n              [--json]\n"
	    "       duonas help [GROUP | COMMAND]\n"
	    "       duonas COMMAND --help\n\n"
	    "Administer the duonas head this runs on.  Read-only commands "
	    "work on both heads.\n\ngroups (duonas help GROUP lists a group's "
	    "commands with their arguments):\n");
	usage_groups(f);
	fprintf(f, "\ncommands:\n");
	for (int i = 0; i < ctl_ncmds; i++)
		fprintf(f, "  %-14s %s\n", ctl_cmds[i].name, ctl_cmds[i].args);
	fprintf(f, "  %-14s %s\n", "keygen", "FILE");
	fprintf(f, "  %-14s %s\n", "help", "[GROUP | COMMAND]");
	fprintf(f, "\noptions:\n"
	    "  -s SOCKET   admin socket of the daemon (default: $DUONAS_SOCKET "
	    "or %s/duonas/duonasd.sock)\n"
	    "  -c CONF     talk to a head of CONF: -n HEAD, else the head named "
	    "like\n"
	    "              this host (as duonasd picks its head)\n"
	    "  -n HEAD     talk to head HEAD: its socket from CONF (default "
	    "%s/duonas/duonas.conf)\n"
	    "  -t SECS     give up when the daemon has not answered within SECS "
	    "seconds\n"
	    "              (0.1-86400, decimals allowed; default: wait as "
	    "long as the\n"
	    "              command takes): a stopped or hung daemon accepts "
	    "the\n"
	    "              connection and never answers; exit 69\n"
	    "  -h, --help  this text\n"
	    "  --version   print the version\n\n"
	    "exit: 0 ok, 1 failed, 2 not the master, 64 usage error (also a "
	    "group word\nalone, an unknown command or option, a missing or "
	    "bad argument), 69 daemon\nunreachable\n", RUNSTATEDIR, SYSCONFDIR);
}

/* The commands of the group of the k words argv[0..k-1] with their
 * arguments (the group word itself first when it is a command too). */
static void
print_group(FILE *f, int k, char **argv)
{
	const struct ctl_cmd	*self;
	int			 nw, w = 0;

	fprintf(f, "usage: duonas");
	for (int i = 0; i < k; i++)
		fprintf(f, " %s", argv[i]);
	fprintf(f, " COMMAND [ARGS]\n\ncommands:\n");
	self = ctl_cmd_find(k, argv, &nw);
	if (self != NULL && nw != k)
		self = NULL;
	for (int i = ctl_group_next(k, argv, 0); i >= 0;
	    i = ctl_group_next(k, argv, i + 1))
		if ((int)strlen(ctl_cmds[i].name) > w)
			w = (int)strlen(ctl_cmds[i].name);
	if (w > 22)
		w = 22;
	if (self != NULL)
		fprintf(f, "  duonas %-*s %s\n", w, self->name, self->args);
	for (int i = ctl_group_next(k, argv, 0); i >= 0;
	    i = ctl_group_next(k, argv, i + 1))
		fprintf(f, "  duonas %-*s %s\n", w, ctl_cmds[i].name,
		    ctl_cmds[i].args);
	fprintf(f, "\nduonas COMMAND --help explains one.\n");
}

/*
 * An unknown command: the closest known ones, else the group's listing
 * when the leading words are a group, else the pointer to duonas help.
 * Always a usage error.
 */
static int
unknown_cmd(int argc, char **argv)
{
	char	sug[4][CTL_NAME_MAX];
	int	n, k, show;

	n = ctl_cmd_suggest(argc, argv, local_cmds, sug, 4);
	k = ctl_group_find(argc, argv);
	show = k < argc ? k + 1 : argc;
	fprintf(stderr, "duonas: unknown command '");
	for (int i = 0; i < show; i++)
		fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
	fprintf(stderr, "'\n");
	if (n > 0) {
		fprintf(stderr, "did you mean:");
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%s duonas %s", i ? "," : "", sug[i]);
		fprintf(stderr, "?\n");
	} else if (k > 0) {
		fputc('\n', stderr);
		print_group(stderr, k, argv);
	} else
		fprintf(stderr, "(duonas help lists the commands)\n");
	return CTL_EX_USAGE;
}

/* duonas help [WORDS]: a command's text, a group's commands, or all. */
static void help_cmd(const struct ctl_cmd *);
static int keygen(int, char **);

static int
help_words(int argc, char **argv)
{
	const struct ctl_cmd	*c;
	int			 nw, k;

	if (argc == 0 || (argc == 1 && (strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0))) {
		usage_all(stdout);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "help") == 0) {
		printf("usage: duonas help [GROUP | COMMAND]\n\nWithout an "
		    "argument: the groups, commands and options.  With a\n"
		    "group word (ip, smb user, ...): its commands with their "
		    "arguments.  With a\ncommand: its text.\n");
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "keygen") == 0) {
		char *kv[] = { "keygen", "--help", NULL };

		return keygen(2, kv);
	}
	c = ctl_cmd_find(argc, argv, &nw);
	k = ctl_group_find(argc, argv);
	if (c != NULL && nw == argc) {
		help_cmd(c);
		if (k == argc) {
			printf("\n");
			print_group(stdout, k, argv);
		}
		return 0;
	}
	if (k > 0 && k == argc) {
		print_group(stdout, k, argv);
		return 0;
	}
	return unknown_cmd(argc, argv);
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

	if (argc == 2 && argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 &&
	    strcmp(argv[1], "-h") != 0) {
		fprintf(stderr, "duonas keygen: unexpected option '%s'\n"
		    "usage: duonas keygen FILE\n", argv[1]);
		return CTL_EX_USAGE;
	}
	if (argc != 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
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

/* One line of fd (without its newline, CR-LF too) into pw; the length,
 * or -1 when longer than max bytes or unreadable. */
static ssize_t
read_line(int fd, char *pw, size_t max)
{
	size_t	n = 0;
	char	ch;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || ch == '\n')
			break;
		if (n == max) {
			/* drain the rest of the line, keep nothing */
			while ((r = read(fd, &ch, 1)) == 1 && ch != '\n')
				;
			return -2;
		}
		pw[n++] = ch;
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = 0;
	return (ssize_t)n;
}

/* Prompt on the terminal with echo off; length or <0. */
static ssize_t
prompt_tty(const char *prompt, char *pw, size_t max)
{
	struct termios	old, raw;
	ssize_t		n;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	raw.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -1;
	n = read_line(STDIN_FILENO, pw, max);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return n;
}

/*
 * smb user add|passwd: check the arguments, read the password, and run
 * the command with "--nthash HEX" appended.  Returns the exit code.
 */
static int
smb_user_pw(const struct ctl_cmd *c, const char *sock, int argc, char **argv,
    int nw)
{
	char		 pw[SMB_PASSWORD_MAX + 2], pw2[SMB_PASSWORD_MAX + 2];
	char		 hex[33], err[256], **nv;
	const char	*name = NULL;
	uint8_t		 h[SMB_NTHASH_LEN];
	ssize_t		 n, n2;
	int		 pos = 0, rc;

	for (int i = nw; i < argc; i++) {
		if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc &&
		    strcmp(c->name, "smb user add") == 0) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--uid=", 6) == 0 &&
		    strcmp(c->name, "smb user add") == 0)
			continue;
		if (strncmp(argv[i], "--nthash", 8) == 0) {
			fprintf(stderr, "duonas %s: --nthash is what duonas "
			    "sends itself; give the password on standard "
			    "input\nusage: duonas %s %s\n", c->name, c->name,
			    c->args);
			return CTL_EX_USAGE;
		}
		if (argv[i][0] == '-' || pos++ > 0) {
			fprintf(stderr, "duonas %s: unexpected argument "
			    "'%s'\nusage: duonas %s %s\n", c->name, argv[i],
			    c->name, c->args);
			return CTL_EX_USAGE;
		}
		name = argv[i];
	}
	if (name == NULL) {
		fprintf(stderr, "duonas %s: missing NAME\nusage: duonas %s "
		    "%s\n", c->name, c->name, c->args);
		return CTL_EX_USAGE;
	}
	if (strcmp(c->name, "smb user add") == 0 &&
	    smb_user_name_check(name, err, sizeof(err)) < 0) {
		fprintf(stderr, "duonas %s: %s\nusage: duonas %s %s\n",
		    c->name, err, c->name, c->args);
		return CTL_EX_USAGE;
	}
	if (isatty(STDIN_FILENO)) {
		char prompt[96];

		snprintf(prompt, sizeof(prompt), "New SMB password for %s: ",
		    name);
		n = prompt_tty(prompt, pw, SMB_PASSWORD_MAX + 1);
		n2 = n < 0 ? n : prompt_tty("Retype the password: ", pw2,
		    SMB_PASSWORD_MAX + 1);
		if (n >= 0 && n2 >= 0 && (n != n2 || memcmp(pw, pw2,
		    (size_t)n) != 0)) {
			fprintf(stderr, "duonas %s: the passwords do not "
			    "match; nothing changed\n", c->name);
			rc = CTL_EX_USAGE;
			goto out;
		}
	} else
		n = n2 = read_line(STDIN_FILENO, pw, SMB_PASSWORD_MAX + 1);
	if (n == -2 || n2 == -2 || n > SMB_PASSWORD_MAX) {
		fprintf(stderr, "duonas %s: the password is longer than %d "
		    "bytes\n", c->name, SMB_PASSWORD_MAX);
		rc = CTL_EX_USAGE;
		goto out;
	}
	if (n < 0 || n2 < 0) {
		fprintf(stderr, "duonas %s: cannot read the password: %s\n",
		    c->name, strerror(errno));
		rc = CTL_EX_FAIL;
		goto out;
	}
	if (n == 0) {
		fprintf(stderr, "duonas %s: an empty password is refused "
		    "(give it on standard input: printf 'pw\\n' | duonas "
		    "%s NAME)\n", c->name, c->name);
		rc = CTL_EX_USAGE;
		goto out;
	}
	if (smb_nthash(pw, (size_t)n, h, err, sizeof(err)) < 0) {
		fprintf(stderr, "duonas %s: %s\n", c->name, err);
		rc = CTL_EX_USAGE;
		goto out;
	}
	smb_nthash_hex(h, hex);
	nv = xcalloc((size_t)argc + 3, sizeof(*nv));
	memcpy(nv, argv, (size_t)argc * sizeof(*nv));
	nv[argc] = "--nthash";
	nv[argc + 1] = hex;
	rc = ctl_client_run(sock, argc + 2, nv);
	free(nv);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(pw2, sizeof(pw2));
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(h, sizeof(h));
	return rc;
}

/* duonas image keygen PREFIX: a new Ed25519 pair for signing images,
 * made here (the private key never reaches a daemon). */
static int
image_keygen(int argc, char **argv)
{
	char err[512];

	if (argc == 2 && argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 &&
	    strcmp(argv[1], "-h") != 0) {
		fprintf(stderr, "duonas image keygen: unexpected option '%s'\n"
		    "usage: duonas image keygen PREFIX\n", argv[1]);
		return CTL_EX_USAGE;
	}
	if (argc != 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fprintf(argc == 2 ? stdout : stderr, "usage: duonas image "
		    "keygen PREFIX\n\nWrite a new Ed25519 key pair for "
		    "signing software images: PREFIX.key (private, mode 0600: "
		    "keep it with the administrator, never on the heads) and "
		    "PREFIX.pub (duonas image key add PREFIX.pub trusts it; "
		    "boot { keys } names it on a new head).  Refuses to "
		    "overwrite.\n");
		return argc == 2 ? 0 : CTL_EX_USAGE;
	}
	if (img_keygen(argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "duonas image keygen: %s\n", err);
		return CTL_EX_FAIL;
	}
	printf("image keygen: %s.key (private, 0600) and %s.pub written\n",
	    argv[1], argv[1]);
	return 0;
}

/* The progress of an upload, from image status --json, on one line of
 * standard error until killed (a child of image_path_cmd). */
static int
upload_progress(const char *sock)
{
	char			*sv[3] = { "image", "status", "--json" };
	struct buf		 out;
	unsigned long long	 done, total, ms;
	const char		*p;

	buf_init(&out);
	for (int i = 0; i < 36000; i++) {
		usleep(300000);
		buf_reset(&out);
		if (ctl_client_call(sock, 3, sv, &out, 1) != 0)
			continue;
		buf_add_u8(&out, 0);
		if ((p = strstr((char *)out.data, "\"upload\":{")) == NULL ||
		    sscanf(p, "\"upload\":{\"done\":%llu,\"total\":%llu,"
		    "\"ms\":%llu", &done, &total, &ms) != 3 || total == 0)
			continue;
		fprintf(stderr, "\r\033[Kimage upload: stored %.1f of %.1f MB "
		    "(%.1f MB/s)", done / 1e6, total / 1e6, ms > 0 ?
		    done / 1e3 / (double)ms : 0.0);
	}
	buf_free(&out);
	return 0;
}

/* image upload FILE / image key add FILE: the daemon reads the file, so
 * it gets an absolute path. */
static int
image_path_cmd(const struct ctl_cmd *c, const char *sock, int argc,
    char **argv, int nw)
{
	char	 path[PATH_MAX], **nv;
	int	 rc, file = -1;
	pid_t	 poller = -1;

	for (int i = nw; i < argc; i++)
		if (argv[i][0] != '-') {
			if (file >= 0) {
				fprintf(stderr, "duonas %s: unexpected argument "
				    "'%s'\nusage: duonas %s %s\n", c->name,
				    argv[i], c->name, c->args);
				return CTL_EX_USAGE;
			}
			file = i;
		}
	if (file < 0) {
		fprintf(stderr, "duonas %s: missing FILE\nusage: duonas %s "
		    "%s\n", c->name, c->name, c->args);
		return CTL_EX_USAGE;
	}
	if (realpath(argv[file], path) == NULL) {
		fprintf(stderr, "duonas %s: %s: %s\n", c->name, argv[file],
		    strerror(errno));
		return CTL_EX_FAIL;
	}
	nv = xcalloc((size_t)argc + 1, sizeof(*nv));
	memcpy(nv, argv, (size_t)argc * sizeof(*nv));
	nv[file] = path;
	/* on a terminal, show the store write's progress meanwhile */
	if (strcmp(c->name, "image upload") == 0 && isatty(STDERR_FILENO) &&
	    (poller = fork()) == 0)
		_exit(upload_progress(sock));
	rc = ctl_client_run(sock, argc, nv);
	if (poller > 0) {
		kill(poller, SIGTERM);
		waitpid(poller, NULL, 0);
		fputs("\r\033[K", stderr);
	}
	free(nv);
	return rc;
}

/* A JSON string member's value (no escapes expected), or "". */
static void
json_str(const char *j, const char *key, char *out, size_t outlen)
{
	char		 pat[64];
	const char	*p, *e;

	out[0] = 0;
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(j, pat)) == NULL)
		return;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL)
		return;
	snprintf(out, outlen, "%.*s", (int)(e - p), p);
}

/*
 * image upgrade: the master restarts the slave and waits for it; when it
 * then restarts itself, its answer ends with "this head restarts now":
 * wait for this head's daemon to come back running the preferred image,
 * good.
 */
static int
image_upgrade(const char *sock, int argc, char **argv)
{
	struct buf	 out;
	char		*sv[3] = { "image", "status", "--json" };
	char		 want[80] = "", dig[80], state[16], *p;
	char		 boot0[40] = "", boot[40], note[200];
	long		 tmo = 600000;
	uint64_t	 t0;
	int		 rc;

	for (int i = 2; i < argc; i++) {
		long long	 v;
		const char	*es;

		if (strcmp(argv[i], "--timeout") != 0)
			continue;
		if (i + 1 >= argc || parse_num(argv[i + 1], 1, 86400000, &v,
		    &es) < 0) {
			fprintf(stderr, "duonas image upgrade: --timeout needs "
			    "MS, 1..86400000\nusage: duonas image upgrade "
			    "[--timeout MS]\n");
			return CTL_EX_USAGE;
		}
		tmo = (long)v;
	}
	/* this daemon's boot id: an answer with another one comes from the
	 * daemon that started after the restart */
	buf_init(&out);
	if (ctl_client_call(sock, 3, sv, &out, 1) == 0) {
		buf_add_u8(&out, 0);
		json_str((char *)out.data, "boot_id", boot0, sizeof(boot0));
	}
	buf_reset(&out);
	rc = ctl_client_call(sock, argc, argv, &out, 0);
	buf_add_u8(&out, 0);
	fputs((char *)out.data, rc == 0 ? stdout : stderr);
	fflush(stdout);
	if (rc != 0 || (p = strstr((char *)out.data, "this head restarts "
	    "now")) == NULL) {
		buf_free(&out);
		return rc;
	}
	/* "...; waiting for it: VERSION" */
	if ((p = strstr(p, "waiting for it: ")) != NULL)
		sscanf(p + 16, "%79s", want);
	t0 = now_ms();
	for (;;) {
		usleep(500000);
		buf_reset(&out);
		rc = ctl_client_call(sock, 3, sv, &out, 1);
		buf_add_u8(&out, 0);
		if (rc == 0) {
			json_str((char *)out.data, "version", dig, sizeof(dig));
			json_str((char *)out.data, "state", state,
			    sizeof(state));
			if (strcmp(dig, want) == 0 && strcmp(state, "good") ==
			    0) {
				printf("image upgrade: this head is back, runs "
				    "%s, good, after %llu ms: both heads run "
				    "%s\n", dig, (unsigned long long)(now_ms() -
				    t0), want);
				buf_free(&out);
				return 0;
			}
			/* the new daemon runs another version: duonas-boot
			 * did not start the wanted one (it kept what the head
			 * had, or fell back); it does not change without
			 * another restart, so waiting longer is in vain */
			json_str((char *)out.data, "boot_id", boot,
			    sizeof(boot));
			if (boot0[0] && boot[0] && strcmp(boot, boot0) != 0 &&
			    want[0] && strcmp(dig, want) != 0) {
				json_str((char *)out.data, "note", note,
				    sizeof(note));
				fprintf(stderr, "duonas image upgrade: this head "
				    "came back running %s, not %s, after %llu "
				    "ms (%s%s%s; duonas image status)\n", dig,
				    want, (unsigned long long)(now_ms() - t0),
				    state, note[0] ? ": " : "", note);
				buf_free(&out);
				return CTL_EX_FAIL;
			}
		}
		if (now_ms() - t0 > (uint64_t)tmo) {
			fprintf(stderr, "duonas image upgrade: this head did not "
			    "come back running %s, good, within %ld ms (last: "
			    "%s %s; duonas image status)\n", want, tmo,
			    rc == 0 ? dig : "daemon not answering",
			    rc == 0 ? state : "");
			buf_free(&out);
			return CTL_EX_FAIL;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*sock = NULL;
	const char		*conf = NULL, *head = NULL;
	const struct ctl_cmd	*c;
	char			 defsock[256];
	int			 ch, nw;

	/* '+': stop at the first non-option so command options pass on */
	while ((ch = getopt_long(argc, argv, "+s:c:n:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': {
			char	*end;
			double	 v;

			errno = 0;
			v = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != 0 ||
			    !(v >= 0.1 && v <= 86400)) {
				fprintf(stderr, "duonas: -t needs seconds, "
				    "0.1..86400, not '%s'\n", optarg);
				return CTL_EX_USAGE;
			}
			ctl_client_timeout((int)(v * 1000 + 0.5));
			break;
		}
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
	if (strcmp(argv[0], "help") == 0)
		return help_words(argc - 1, argv + 1);
	if (strcmp(argv[0], "keygen") == 0)
		return keygen(argc, argv);
	if (argc >= 2 && strcmp(argv[0], "image") == 0 &&
	    strcmp(argv[1], "keygen") == 0)
		return image_keygen(argc - 1, argv + 1);
	if ((c = ctl_cmd_find(argc, argv, &nw)) == NULL) {
		int k = ctl_group_find(argc, argv);

		/* a group word alone lists the group: asked for with
		 * --help (exit 0), else a usage error */
		if (k > 0 && k < argc && (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0)) {
			print_group(stdout, k, argv);
			return 0;
		}
		if (k > 0 && k == argc) {
			fprintf(stderr, "duonas: '");
			for (int i = 0; i < k; i++)
				fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
			fprintf(stderr, "' needs a command\n");
			print_group(stderr, k, argv);
			return CTL_EX_USAGE;
		}
		return unknown_cmd(argc, argv);
	}
	for (int i = nw; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help_cmd(c);
			return 0;
		}
	/*
	 * Which daemon: -s SOCKET; or a head of a configuration (-c CONF,
	 * default the installed one, with -n HEAD or else the head named
	 * like this host, as duonasd picks it); or $DUONAS_SOCKET; or the
	 * default socket.  -s together with -c/-n would name it twice.
	 */
	if (sock != NULL && (conf != NULL || head != NULL)) {
		fprintf(stderr, "duonas: give either -s SOCKET or -c CONF / "
		    "-n HEAD, not both\n");
		return CTL_EX_USAGE;
	}
	if (head != NULL && conf == NULL)
		conf = SYSCONFDIR "/duonas/duonas.conf";
	if (conf != NULL) {
		struct cfg	*cfg = xmalloc(sizeof(*cfg));
		char		 err[512];
		int		 i;

		if (cfg_parse(conf, cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "duonas: %s\n", err);
			free(cfg);
			return CTL_EX_USAGE;
		}
		if ((i = cfg_pick_head(cfg, head, err, sizeof(err))) < 0) {
			fprintf(stderr, "duonas: %s\n", err);
			free(cfg);
			return CTL_EX_USAGE;
		}
		snprintf(defsock, sizeof(defsock), "%s", cfg->heads[i].socket);
		sock = defsock;
		free(cfg);
	}
	if (sock == NULL)
		sock = getenv("DUONAS_SOCKET");
	if (sock == NULL) {
		snprintf(defsock, sizeof(defsock), "%s/duonas/duonasd.sock",
		    RUNSTATEDIR);
		sock = defsock;
	}
	if (strcmp(c->name, "smb user add") == 0 ||
	    strcmp(c->name, "smb user passwd") == 0)
		return smb_user_pw(c, sock, argc, argv, nw);
	if (strcmp(c->name, "image upload") == 0 ||
	    strcmp(c->name, "image key add") == 0)
		return image_path_cmd(c, sock, argc, argv, nw);
	if (strcmp(c->name, "image upgrade") == 0)
		return image_upgrade(sock, argc, argv);
	return ctl_client_run(sock, argc, argv);
}

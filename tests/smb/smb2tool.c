/*
 * smb2tool.c — a small SMB2 client for the tests: what no installed
 * client does here, byte-range locks (shared, exclusive, failing at once
 * or blocking) on a file of a Samba share, next to writes and reads
 * whose acknowledgement a test records.
 *
 *   smb2tool -U [DOMAIN/]user%password [-p port] [-t timeout_ms]
 *            [-w lock_wait_ms] [--max-hold ms] [--nthash HEX]
 *            //host/share FILE OP [ARGS] [OP ...]
 *
 * It connects over TCP (IPv4 or IPv6, "[::1]"), negotiates SMB 2.0.2 or
 * 2.1 (no signing, no encryption), authenticates with raw NTLMSSP
 * NTLMv2, connects the share, opens FILE (created when missing, no
 * oplock) and runs the ops in order, one key=value line each, with the
 * milliseconds the op took (ms=):
 *
 *   lock S|X OFF LEN [wait]   lock=granted | lock=denied status=NAME;
 *                             wait: a blocking lock, lock_pending=1 is
 *                             printed when the server's interim reply
 *                             comes, then lock=granted, or after -w ms
 *                             the lock is cancelled: lock=cancelled
 *   unlock OFF LEN            unlock=ok | unlock=not_locked status=NAME
 *   write OFF TEXT            write=ok count=N (TEXT's bytes as given)
 *   read OFF LEN              read=ok len=N data=TEXT (bytes outside
 *                             '!'..'~' and '\' as \xHH) | read=eof len=0
 *   flush                     flush=ok
 *   hold MS                   hold=done (session and locks kept)
 *   hold-stdin                hold=line | hold=eof | hold=timeout (after
 *                             --max-hold ms, default 60000)
 * A hold that sees the server close the connection prints
 * hold=disconnected and the run ends there (exit 2).  The last line is
 * status=N, N the exit status: 0 every op answered as the protocol
 * allows (a denied lock and unlocking an unlocked range are results),
 * 1 the server refused something the run needs (logon, share, open, an
 * I/O error status), 2 usage, transport or protocol error; stderr names
 * it.  Every wait is bounded by -t (default 10000 ms).  Not done: SPNEGO
 * wrapping (Samba takes raw NTLMSSP), signing, 3.x dialects, reconnects.
 * This file: the command line and the ops; smb2_conn.c: the connection
 * and the session; smb2_wire.c: the bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smb2_conn.h"
#include "smb2_wire.h"

static int	 timeout_ms = 10000, lock_wait_ms = -1, max_hold_ms = 60000;
static struct smb2_conn conn, *c = &conn;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
"usage: smb2tool -U [DOMAIN/]user%%password [-p port] [-t timeout_ms]\n"
"                [-w lock_wait_ms] [--max-hold ms] [--nthash HEX]\n"
"                //host/share FILE OP [ARGS] [OP ...]\n"
"ops: lock S|X OFF LEN [wait] | unlock OFF LEN | write OFF TEXT |\n"
"     read OFF LEN | flush | hold MS | hold-stdin\n");
	exit(code);
}

/* Print status=code and exit with it; msg (if any) to stderr first.
 * smb2_conn.c's transport and protocol errors come here with code 2. */
void
smb2_fatal(int code, const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		fprintf(stderr, "smb2tool: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	printf("status=%d\n", code);
	exit(code);
}

/* ---- ops --------------------------------------------------------------- */

static int
num(const char *s, uint64_t max, uint64_t *out)
{
	char	*end;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return errno || *end != '\0' || *out > max ? -1 : 0;
}

static void
print_pending(void)
{
	printf("lock_pending=1\n");
	fflush(stdout);
}

static void
op_lock(int excl, uint64_t off, uint64_t len, int wait)
{
	struct smb2_buf	b;
	uint32_t	st;
	int		pending = 0;
	int64_t		t0 = smb2_now_ms();

	smb2_req_begin(c, &b, SMB2_LOCK);
	smb2_lock_req(&b, c->fid, off, len, (excl ? SMB2_LOCKFLAG_EXCLUSIVE :
	    SMB2_LOCKFLAG_SHARED) | (wait ? 0 : SMB2_LOCKFLAG_FAIL_IMMEDIATELY));
	st = smb2_transact(c, &b, wait ? lock_wait_ms : timeout_ms, wait, &pending,
	    print_pending);
	if (st == STATUS_SUCCESS && smb2_fixed_rsp(c->rbuf, c->rlen, 4) < 0)
		smb2_fatal(2, "protocol: malformed LOCK reply");
	if (st == STATUS_SUCCESS)
		printf("lock=granted");
	else if (st == STATUS_LOCK_NOT_GRANTED ||
	    st == STATUS_FILE_LOCK_CONFLICT)
		printf("lock=denied status=%s", smb2_status_str(st));
	else if (st == STATUS_CANCELLED && wait)
		printf("lock=cancelled");
	else {
		printf("lock=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "lock: %s", smb2_status_str(st));
	}
	printf(" ms=%" PRId64 "%s\n", smb2_now_ms() - t0, wait ? (pending ?
	    " pending=1" : " pending=0") : "");
}

static void
op_unlock(uint64_t off, uint64_t len)
{
	struct smb2_buf	b;
	uint32_t	st;
	int64_t		t0 = smb2_now_ms();

	smb2_req_begin(c, &b, SMB2_LOCK);
	smb2_lock_req(&b, c->fid, off, len, SMB2_LOCKFLAG_UNLOCK);
	st = smb2_transact(c, &b, timeout_ms, 0, NULL, NULL);
	if (st == STATUS_SUCCESS && smb2_fixed_rsp(c->rbuf, c->rlen, 4) < 0)
		smb2_fatal(2, "protocol: malformed LOCK reply");
	if (st == STATUS_SUCCESS)
		printf("unlock=ok");
	else if (st == STATUS_RANGE_NOT_LOCKED)
		printf("unlock=not_locked status=%s", smb2_status_str(st));
	else {
		printf("unlock=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "unlock: %s", smb2_status_str(st));
	}
	printf(" ms=%" PRId64 "\n", smb2_now_ms() - t0);
}

static void
op_write(uint64_t off, const char *text)
{
	struct smb2_buf	b;
	uint32_t	st, count;
	size_t		n = strlen(text);
	int64_t		t0 = smb2_now_ms();

	smb2_req_begin(c, &b, SMB2_WRITE);
	smb2_write_req(&b, c->fid, off, text, (uint32_t)n);
	st = smb2_transact(c, &b, timeout_ms, 0, NULL, NULL);
	if (st != STATUS_SUCCESS) {
		printf("write=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "write: %s", smb2_status_str(st));
	}
	if (smb2_write_rsp(c->rbuf, c->rlen, &count) < 0)
		smb2_fatal(2, "protocol: malformed WRITE reply");
	printf("write=ok count=%" PRIu32 " ms=%" PRId64 "\n", count,
	    smb2_now_ms() - t0);
}

static void
op_read(uint64_t off, uint32_t len)
{
	struct smb2_buf	 b;
	uint32_t	 st;
	const uint8_t	*d;
	size_t		 n, i;
	int64_t		 t0 = smb2_now_ms();

	smb2_req_begin(c, &b, SMB2_READ);
	smb2_read_req(&b, c->fid, off, len);
	st = smb2_transact(c, &b, timeout_ms, 0, NULL, NULL);
	if (st == STATUS_END_OF_FILE) {
		printf("read=eof len=0 ms=%" PRId64 "\n", smb2_now_ms() - t0);
		return;
	}
	if (st != STATUS_SUCCESS) {
		printf("read=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "read: %s", smb2_status_str(st));
	}
	if (smb2_read_rsp(c->rbuf, c->rlen, &d, &n) < 0 || n > len)
		smb2_fatal(2, "protocol: malformed READ reply");
	printf("read=ok len=%zu data=", n);
	for (i = 0; i < n; i++) {
		if (d[i] > ' ' && d[i] <= '~' && d[i] != '\\')
			putchar(d[i]);
		else
			printf("\\x%02x", d[i]);
	}
	printf(" ms=%" PRId64 "\n", smb2_now_ms() - t0);
}

static void
op_flush(void)
{
	struct smb2_buf	b;
	uint32_t	st;
	int64_t		t0 = smb2_now_ms();

	smb2_req_begin(c, &b, SMB2_FLUSH);
	smb2_flush_req(&b, c->fid);
	st = smb2_transact(c, &b, timeout_ms, 0, NULL, NULL);
	if (st != STATUS_SUCCESS) {
		printf("flush=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "flush: %s", smb2_status_str(st));
	}
	if (smb2_fixed_rsp(c->rbuf, c->rlen, 4) < 0)
		smb2_fatal(2, "protocol: malformed FLUSH reply");
	printf("flush=ok ms=%" PRId64 "\n", smb2_now_ms() - t0);
}

/* Keep the session for ms, or (use_stdin) until a line or EOF on stdin.
 * Watches the connection: a server that closes it (or sends anything
 * but an unsolicited message) ends the run. */
static void
op_hold(int64_t ms, int use_stdin)
{
	int64_t		t0 = smb2_now_ms(), deadline = t0 + ms;
	const char	*how = "done";

	fflush(stdout);
	for (;;) {
		struct pollfd	pfd[2] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
		};
		int64_t		left = deadline - smb2_now_ms();
		int		n;

		if (left <= 0) {
			how = use_stdin ? "timeout" : "done";
			break;
		}
		n = poll(pfd, use_stdin ? 2 : 1, (int)left);
		if (n <= 0)
			continue;
		if (pfd[0].revents) {
			char	x;

			if (recv(c->fd, &x, 1, MSG_PEEK) <= 0) {
				printf("hold=disconnected ms=%" PRId64 "\n",
				    smb2_now_ms() - t0);
				smb2_fatal(2, "transport: the server closed "
				    "the connection during a hold");
			}
			/* an unsolicited message (oplock break): read it
			 * and go on holding */
			smb2_recv(c, smb2_now_ms() + timeout_ms);
		}
		if (use_stdin && pfd[1].revents) {
			char	x;
			ssize_t	r = read(0, &x, 1);

			if (r <= 0) {
				how = "eof";
				break;
			}
			if (x == '\n') {
				how = "line";
				break;
			}
		}
	}
	printf("hold=%s ms=%" PRId64 "\n", how, smb2_now_ms() - t0);
}

/* Check (run 0) or run (run 1) the ops; returns -1 on a usage error. */
static int
ops(char **av, int ac, int run)
{
	uint64_t	a, b;
	int		i = 0;

	while (i < ac) {
		const char	*op = av[i++];
		int		 left = ac - i;

		if (strcmp(op, "lock") == 0 && left >= 3) {
			int excl = strcmp(av[i], "X") == 0 ||
			    strcmp(av[i], "x") == 0;
			int wait = left >= 4 && strcmp(av[i + 3], "wait") == 0;

			if (!excl && strcmp(av[i], "S") != 0 &&
			    strcmp(av[i], "s") != 0) {
				fprintf(stderr, "smb2tool: lock: type must "
				    "be S or X, not '%s'\n", av[i]);
				return -1;
			}
			if (num(av[i + 1], UINT64_MAX, &a) < 0 ||
			    num(av[i + 2], UINT64_MAX, &b) < 0)
				goto badnum;
			if (run)
				op_lock(excl, a, b, wait);
			i += 3 + wait;
		} else if (strcmp(op, "unlock") == 0 && left >= 2) {
			if (num(av[i], UINT64_MAX, &a) < 0 ||
			    num(av[i + 1], UINT64_MAX, &b) < 0)
				goto badnum;
			if (run)
				op_unlock(a, b);
			i += 2;
		} else if (strcmp(op, "write") == 0 && left >= 2) {
			if (num(av[i], UINT64_MAX, &a) < 0)
				goto badnum;
			if (strlen(av[i + 1]) > SMB2_IO_MAX) {
				fprintf(stderr, "smb2tool: write: TEXT over "
				    "%d bytes\n", SMB2_IO_MAX);
				return -1;
			}
			if (run)
				op_write(a, av[i + 1]);
			i += 2;
		} else if (strcmp(op, "read") == 0 && left >= 2) {
			if (num(av[i], UINT64_MAX, &a) < 0 ||
			    num(av[i + 1], SMB2_IO_MAX, &b) < 0 || b == 0) {
				fprintf(stderr, "smb2tool: read: OFF LEN, "
				    "LEN 1..%d\n", SMB2_IO_MAX);
				return -1;
			}
			if (run)
				op_read(a, (uint32_t)b);
			i += 2;
		} else if (strcmp(op, "flush") == 0) {
			if (run)
				op_flush();
		} else if (strcmp(op, "hold") == 0 && left >= 1) {
			if (num(av[i], 3600000, &a) < 0) {
				fprintf(stderr, "smb2tool: hold: MS "
				    "0..3600000\n");
				return -1;
			}
			if (run)
				op_hold((int64_t)a, 0);
			i++;
		} else if (strcmp(op, "hold-stdin") == 0) {
			if (run)
				op_hold(max_hold_ms, 1);
		} else {
			fprintf(stderr, "smb2tool: unknown op or missing "
			    "arguments: '%s'\n", op);
			return -1;
		}
		fflush(stdout);
		continue;
badnum:
		fprintf(stderr, "smb2tool: %s: OFFSET and LENGTH must be "
		    "decimal numbers\n", op);
		return -1;
	}
	return 0;
}

/* ---- arguments --------------------------------------------------------- */

struct creds {
	char	user[256], domain[256], password[256];
	uint8_t	nthash[16];
	int	have_hash;
};

static int
parse_hash(const char *s, uint8_t out[16])
{
	int	i;

	if (strlen(s) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned int	v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    strchr("0123456789abcdefABCDEF", s[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[2 * i + 1]) == NULL)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "[DOMAIN/]user[%password]" (DOMAIN\user too). */
static int
parse_user(const char *s, struct creds *u)
{
	const char	*pct = strchr(s, '%'), *sep;
	size_t		 ulen = pct ? (size_t)(pct - s) : strlen(s);

	sep = memchr(s, '/', ulen);
	if (sep == NULL)
		sep = memchr(s, '\\', ulen);
	if (sep != NULL) {
		if ((size_t)(sep - s) >= sizeof(u->domain))
			return -1;
		memcpy(u->domain, s, (size_t)(sep - s));
		ulen -= (size_t)(sep - s) + 1;
		s = sep + 1;
	}
	if (ulen == 0 || ulen >= sizeof(u->user))
		return -1;
	memcpy(u->user, s, ulen);
	if (pct != NULL && snprintf(u->password, sizeof(u->password), "%s",
	    pct + 1) >= (int)sizeof(u->password))
		return -1;
	return 0;
}

/* "//host/share": host ("[v6]" allowed) and share, and the UNC path. */
static int
parse_unc(const char *s, char *host, size_t hlen, char *unc, size_t ulen)
{
	const char	*h, *slash, *end;
	size_t		 n;

	if (!((s[0] == '/' && s[1] == '/') || (s[0] == '\\' && s[1] == '\\')))
		return -1;
	h = s + 2;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		slash = end + 1;
		if (*slash != '/' && *slash != '\\')
			return -1;
		n = (size_t)(end - h - 1);
		h++;
	} else {
		slash = strpbrk(h, "/\\");
		if (slash == NULL)
			return -1;
		n = (size_t)(slash - h);
	}
	if (n == 0 || n >= hlen || slash[1] == '\0' ||
	    strpbrk(slash + 1, "/\\") != NULL)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	return snprintf(unc, ulen, "\\\\%s\\%s", host, slash + 1) <
	    (int)ulen ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "max-hold", required_argument, NULL, 'H' },
		{ "nthash", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct creds	 u;
	const char	*port = "445", *dom, *what;
	char		 host[256], unc[600], name[1024], *p;
	uint64_t	 v;
	int		 ch, have_user = 0;
	uint32_t	 st;
	int64_t		 t0;

	memset(&u, 0, sizeof(u));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt_long(argc, argv, "+U:p:t:w:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'U':
			if (parse_user(optarg, &u) < 0) {
				fprintf(stderr, "smb2tool: -U: want "
				    "[DOMAIN/]user%%password\n");
				exit(2);
			}
			have_user = 1;
			break;
		case 'p':
			if (num(optarg, 65535, &v) < 0 || v == 0) {
				fprintf(stderr, "smb2tool: -p: bad port "
				    "'%s'\n", optarg);
				exit(2);
			}
			port = optarg;
			break;
		case 't':
		case 'w':
		case 'H':
			if (num(optarg, 3600000, &v) < 0 || v == 0) {
				fprintf(stderr, "smb2tool: -%c: milliseconds "
				    "1..3600000, not '%s'\n", ch == 'H' ?
				    'H' : ch, optarg);
				exit(2);
			}
			if (ch == 't')
				timeout_ms = (int)v;
			else if (ch == 'w')
				lock_wait_ms = (int)v;
			else
				max_hold_ms = (int)v;
			break;
		case 'N':
			if (parse_hash(optarg, u.nthash) < 0) {
				fprintf(stderr, "smb2tool: --nthash: want 32 "
				    "hex digits\n");
				exit(2);
			}
			u.have_hash = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (!have_user || argc < 2)
		usage(2);
	if (parse_unc(argv[0], host, sizeof(host), unc, sizeof(unc)) < 0) {
		fprintf(stderr, "smb2tool: '%s': want //host/share\n", argv[0]);
		exit(2);
	}
	/* the name below the share, with '\' as the server wants it */
	snprintf(name, sizeof(name), "%s", argv[1] + strspn(argv[1], "/\\"));
	for (p = name; *p != '\0'; p++)
		if (*p == '/')
			*p = '\\';
	if (ops(argv + 2, argc - 2, 0) < 0)
		usage(2);
	if (lock_wait_ms < 0)
		lock_wait_ms = timeout_ms;

	if (!u.have_hash && ntlm_nt_hash(u.password, u.nthash) < 0)
		smb2_fatal(2, "no MD4 in OpenSSL (its legacy provider cannot "
		    "be loaded): give the NT hash with --nthash HEX");

	t0 = smb2_now_ms();
	smb2_connect(c, host, port, timeout_ms);
	st = smb2_session_setup(c, u.user, u.domain, u.nthash, &dom);
	if (st != STATUS_SUCCESS) {
		printf("session=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "session setup for user '%s' (domain '%s'): %s%s",
		    u.user, dom, smb2_status_str(st),
		    st == STATUS_LOGON_FAILURE ?
		    ": wrong user name or password" : "");
	}
	printf("session=ok dialect=%s guest=%d ms=%" PRId64 "\n",
	    c->dialect == SMB2_DIALECT_210 ? "2.1" : "2.0.2", c->guest,
	    smb2_now_ms() - t0);

	t0 = smb2_now_ms();
	st = smb2_tree_connect(c, unc);
	printf("tree=%s ms=%" PRId64 "\n", st ? smb2_status_str(st) : "ok",
	    smb2_now_ms() - t0);
	if (st != STATUS_SUCCESS)
		smb2_fatal(1, "tree connect %s: %s", unc, smb2_status_str(st));

	t0 = smb2_now_ms();
	st = smb2_open(c, name);
	if (st != STATUS_SUCCESS) {
		printf("open=%s ms=%" PRId64 "\n", smb2_status_str(st),
		    smb2_now_ms() - t0);
		smb2_fatal(1, "open %s: %s", name, smb2_status_str(st));
	}
	printf("open=ok size=%" PRIu64 " ms=%" PRId64 "\n", c->size,
	    smb2_now_ms() - t0);

	ops(argv + 2, argc - 2, 1);
	if ((st = smb2_teardown(c, &what)) != STATUS_SUCCESS)
		smb2_fatal(1, "%s: %s", what, smb2_status_str(st));
	smb2_fatal(0, NULL);
	return 0;
}

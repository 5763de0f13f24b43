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
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "smb2_wire.h"

#define MSG_MAX		(SMB2_FRAME_MAX)

static int	 timeout_ms = 10000, lock_wait_ms = -1, max_hold_ms = 60000;
static int	 sock = -1;
static uint64_t	 next_mid, session_id;
static uint32_t	 tree_id;
static uint16_t	 dialect;
static uint8_t	 fid[16];
static uint8_t	 rbuf[MSG_MAX];
static size_t	 rlen;
static struct smb2_hdr rh;	/* the header of the last reply */

static void
usage(void)
{
	fprintf(stderr,
"usage: smb2tool -U [DOMAIN/]user%%password [-p port] [-t timeout_ms]\n"
"                [-w lock_wait_ms] [--max-hold ms] [--nthash HEX]\n"
"                //host/share FILE OP [ARGS] [OP ...]\n"
"ops: lock S|X OFF LEN [wait] | unlock OFF LEN | write OFF TEXT |\n"
"     read OFF LEN | flush | hold MS | hold-stdin\n");
	exit(2);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print status=code and exit with it; msg (if any) to stderr first. */
static void
finish(int code, const char *fmt, ...)
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

static const char *
status_str(uint32_t st)
{
	static char	hex[2][16];
	static int	i;
	const char	*n = smb2_status_name(st);

	if (n != NULL)
		return n;
	i ^= 1;
	snprintf(hex[i], sizeof(hex[i]), "0x%08" PRIx32, st);
	return hex[i];
}

/* ---- transport --------------------------------------------------------- */

static void
tcp_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		finish(2, "transport: cannot resolve %s: %s", host,
		    gai_strerror(rc));
	for (ai = res; ai != NULL && sock < 0; ai = ai->ai_next) {
		struct pollfd	pfd;
		socklen_t	sl = sizeof(err);
		int		fd;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    errno != EINPROGRESS) {
			err = errno;
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err == 0)
			sock = fd;
		else
			close(fd);
	}
	freeaddrinfo(res);
	if (sock < 0)
		finish(2, "transport: cannot connect to %s port %s: %s", host,
		    port, strerror(err));
}

static void
lost(const char *what)
{
	finish(2, "transport: %s", what);
}

/* Send all of p, waiting for room at most until deadline. */
static void
send_all(const uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd	pfd = { .fd = sock, .events = POLLOUT };
		ssize_t		w;
		int64_t		left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			lost("timed out sending");
		w = send(sock, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			lost("send failed (connection closed)");
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes before deadline: 0, or -1 on timeout; a closed
 * connection ends the run. */
static int
recv_all(uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd	pfd = { .fd = sock, .events = POLLIN };
		ssize_t		r;
		int64_t		left = deadline - now_ms();

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = recv(sock, p, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == 0)
			lost("connection closed by the server");
		if (r < 0)
			lost(strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One whole frame into rbuf/rlen, its header into rh: 0, or -1 when
 * nothing came before deadline.  A frame that started is read to its
 * end within the timeout. */
static int
recv_msg(int64_t deadline)
{
	uint8_t	pfx[4];
	long	n;

	if (recv_all(pfx, 4, deadline) < 0)
		return -1;
	if ((n = smb2_frame_len(pfx, sizeof(rbuf))) < 0)
		finish(2, "protocol: bad frame (prefix %02x%02x%02x%02x: not "
		    "an SMB2 message or over %zu bytes)", pfx[0], pfx[1],
		    pfx[2], pfx[3], sizeof(rbuf));
	if (recv_all(rbuf, (size_t)n, now_ms() + timeout_ms) < 0)
		lost("timed out in the middle of a message");
	rlen = (size_t)n;
	if (smb2_hdr_get(rbuf, rlen, &rh) < 0)
		finish(2, "protocol: reply without a valid SMB2 header");
	if (rh.next_command != 0)
		finish(2, "protocol: compounded reply (not supported)");
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static uint8_t	 sbuf[MSG_MAX];

/* Start a request: the header, in sbuf. */
static void
req_begin(struct smb2_buf *b, uint16_t cmd)
{
	struct smb2_hdr	h;

	memset(&h, 0, sizeof(h));
	h.command = cmd;
	h.credit_charge = dialect == SMB2_DIALECT_210 ? 1 : 0;
	h.credits = 32;
	h.message_id = next_mid;
	h.tree_id = tree_id;
	h.session_id = session_id;
	smb2_buf_init(b, sbuf + 4, sizeof(sbuf) - 4);
	smb2_hdr_put(b, &h);
}

static void
req_send(struct smb2_buf *b, int64_t deadline)
{
	if (b->overflow)
		finish(2, "request too large");
	smb2_frame_put(sbuf, b->len);
	send_all(sbuf, b->len + 4, deadline);
}

/* Send CANCEL for the request mid (async_id from its interim reply, or
 * 0: the sync form). */
static void
send_cancel(uint64_t mid, uint64_t async_id)
{
	struct smb2_buf	b;
	struct smb2_hdr	h;

	memset(&h, 0, sizeof(h));
	h.command = SMB2_CANCEL;
	h.message_id = mid;
	h.session_id = session_id;
	h.tree_id = tree_id;
	if (async_id != 0) {
		h.flags = SMB2_FLAGS_ASYNC_COMMAND;
		h.async_id = async_id;
	}
	smb2_buf_init(&b, sbuf + 4, sizeof(sbuf) - 4);
	smb2_hdr_put(&b, &h);
	smb2_empty_req(&b);
	req_send(&b, now_ms() + timeout_ms);
}

/* Send the request in b and wait for its final reply (rbuf, rh): interim
 * STATUS_PENDING replies are noted (*pending, on_pending called once)
 * and waited past; other messages (an oplock break) are skipped.  The
 * wait ends at now + wait_ms: then, if cancel is set, the request is
 * cancelled and its final reply awaited for -t ms more; else the run
 * ends with a timeout.  Returns the reply's status. */
static uint32_t
transact(struct smb2_buf *b, int wait_ms, int cancel, int *pending,
    void (*on_pending)(void))
{
	uint64_t	mid = next_mid++;
	uint64_t	async_id = 0;
	uint16_t	cmd = smb2_get16(sbuf + 4 + 12);
	int64_t		deadline = now_ms() + wait_ms;
	int		cancelled = 0, skipped = 0;

	if (pending != NULL)
		*pending = 0;
	req_send(b, deadline);
	for (;;) {
		if (recv_msg(deadline) < 0) {
			if (!cancel || cancelled)
				finish(2, "transport: no reply within %d ms "
				    "(command %u)", cancelled ? timeout_ms :
				    wait_ms, cmd);
			send_cancel(mid, async_id);
			cancelled = 1;
			deadline = now_ms() + timeout_ms;
			continue;
		}
		if (rh.message_id != mid || rh.command != cmd) {
			if (++skipped > 1000)
				finish(2, "protocol: too many unexpected "
				    "messages");
			continue;
		}
		if (rh.status == STATUS_PENDING &&
		    (rh.flags & SMB2_FLAGS_ASYNC_COMMAND)) {
			async_id = rh.async_id;
			if (pending != NULL && !*pending && on_pending)
				on_pending();
			if (pending != NULL)
				*pending = 1;
			continue;
		}
		return rh.status;
	}
}

static int
transact_simple(struct smb2_buf *b)
{
	return (int)transact(b, timeout_ms, 0, NULL, NULL);
}

/* ---- session ----------------------------------------------------------- */

struct creds {
	char	user[256], domain[256], password[256];
	uint8_t	nthash[16];
	int	have_hash;
};

static void
negotiate(void)
{
	struct smb2_buf			b;
	struct smb2_negotiate_rsp	r;
	uint8_t				guid[16];
	uint32_t			st;

	if (RAND_bytes(guid, sizeof(guid)) != 1)
		finish(2, "no random bytes for the client GUID");
	req_begin(&b, SMB2_NEGOTIATE);
	smb2_negotiate_req(&b, guid);
	if ((st = transact_simple(&b)) != STATUS_SUCCESS)
		finish(1, "negotiate: %s", status_str(st));
	if (smb2_negotiate_rsp(rbuf, rlen, &r) < 0)
		finish(2, "protocol: malformed NEGOTIATE reply");
	if (r.dialect != SMB2_DIALECT_202 && r.dialect != SMB2_DIALECT_210)
		finish(2, "protocol: server chose dialect 0x%04x, asked for "
		    "2.0.2 or 2.1", r.dialect);
	if (r.security_mode & 2)
		finish(2, "server requires signing (not supported by "
		    "smb2tool)");
	dialect = r.dialect;
}

static void
session_setup(struct creds *c, int64_t t0)
{
	struct smb2_buf		 b, m;
	struct ntlm_challenge	 ch;
	uint8_t			 blob[4096], key[16], cchal[8], nt[2048];
	const uint8_t		*sb;
	size_t			 sblen, ntlen;
	uint16_t		 sflags;
	uint32_t		 st;
	const char		*dom;

	smb2_buf_init(&m, blob, sizeof(blob));
	ntlm_negotiate_msg(&m);
	req_begin(&b, SMB2_SESSION_SETUP);
	smb2_sess_req(&b, blob, m.len);
	st = transact_simple(&b);
	if (st != STATUS_MORE_PROCESSING_REQUIRED)
		finish(1, "session setup: the server refused a raw NTLMSSP "
		    "NEGOTIATE: %s (SPNEGO wrapping is not implemented)",
		    status_str(st));
	if (smb2_sess_rsp(rbuf, rlen, &sflags, &sb, &sblen) < 0 ||
	    ntlm_challenge_parse(sb, sblen, &ch) < 0)
		finish(2, "protocol: malformed NTLMSSP CHALLENGE");
	session_id = rh.session_id;

	dom = c->domain[0] ? c->domain : ch.target_name;
	if (!c->have_hash && ntlm_nt_hash(c->password, c->nthash) < 0)
		finish(2, "no MD4 in OpenSSL (its legacy provider cannot be "
		    "loaded): give the NT hash with --nthash HEX");
	if (ntlm_ntowfv2(c->nthash, c->user, dom, key) < 0 ||
	    RAND_bytes(cchal, sizeof(cchal)) != 1)
		finish(2, "cannot compute the NTLMv2 key");
	ntlen = ntlm_v2_response(key, ch.challenge, cchal, ch.has_time ?
	    ch.time : smb2_filetime(time(NULL)), ch.target_info, ch.ti_len,
	    nt, sizeof(nt));
	if (ntlen == 0)
		finish(2, "protocol: server target info too long");
	smb2_buf_init(&m, blob, sizeof(blob));
	ntlm_authenticate_msg(&m, ch.flags & NTLM_CLIENT_FLAGS, nt, ntlen,
	    dom, c->user, "SMB2TOOL");
	if (m.overflow)
		finish(2, "user or domain name too long");
	req_begin(&b, SMB2_SESSION_SETUP);
	smb2_sess_req(&b, blob, m.len);
	st = transact_simple(&b);
	if (st != STATUS_SUCCESS) {
		printf("session=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "session setup for user '%s' (domain '%s'): %s%s",
		    c->user, dom, status_str(st), st == STATUS_LOGON_FAILURE ?
		    ": wrong user name or password" : "");
	}
	if (smb2_sess_rsp(rbuf, rlen, &sflags, &sb, &sblen) < 0)
		finish(2, "protocol: malformed SESSION_SETUP reply");
	printf("session=ok dialect=%s guest=%d ms=%" PRId64 "\n",
	    dialect == SMB2_DIALECT_210 ? "2.1" : "2.0.2", sflags & 1,
	    now_ms() - t0);
}

static void
tree_connect(const char *unc)
{
	struct smb2_buf	b;
	uint32_t	st;
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_TREE_CONNECT);
	smb2_tree_req(&b, unc);
	st = transact_simple(&b);
	printf("tree=%s ms=%" PRId64 "\n", st ? status_str(st) : "ok",
	    now_ms() - t0);
	if (st != STATUS_SUCCESS)
		finish(1, "tree connect %s: %s", unc, status_str(st));
	if (smb2_fixed_rsp(rbuf, rlen, 16) < 0)
		finish(2, "protocol: malformed TREE_CONNECT reply");
	tree_id = rh.tree_id;
}

static void
open_file(const char *name)
{
	struct smb2_buf	b;
	uint32_t	st;
	uint64_t	eof;
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_CREATE);
	smb2_create_req(&b, name);
	st = transact_simple(&b);
	if (st != STATUS_SUCCESS) {
		printf("open=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "open %s: %s", name, status_str(st));
	}
	if (smb2_create_rsp(rbuf, rlen, fid, &eof) < 0)
		finish(2, "protocol: malformed CREATE reply");
	printf("open=ok size=%" PRIu64 " ms=%" PRId64 "\n", eof,
	    now_ms() - t0);
}

/* CLOSE, TREE_DISCONNECT, LOGOFF: their failures end the run. */
static void
teardown(void)
{
	static const struct { uint16_t cmd, size; const char *what; } s[] = {
		{ SMB2_CLOSE, 60, "close" },
		{ SMB2_TREE_DISCONNECT, 4, "tree disconnect" },
		{ SMB2_LOGOFF, 4, "logoff" },
	};
	size_t	i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct smb2_buf	b;
		uint32_t	st;

		req_begin(&b, s[i].cmd);
		if (s[i].cmd == SMB2_CLOSE)
			smb2_close_req(&b, fid);
		else
			smb2_empty_req(&b);
		if ((st = transact_simple(&b)) != STATUS_SUCCESS)
			finish(1, "%s: %s", s[i].what, status_str(st));
		if (smb2_fixed_rsp(rbuf, rlen, s[i].size) < 0)
			finish(2, "protocol: malformed %s reply", s[i].what);
	}
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
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_LOCK);
	smb2_lock_req(&b, fid, off, len, (excl ? SMB2_LOCKFLAG_EXCLUSIVE :
	    SMB2_LOCKFLAG_SHARED) | (wait ? 0 : SMB2_LOCKFLAG_FAIL_IMMEDIATELY));
	st = transact(&b, wait ? lock_wait_ms : timeout_ms, wait, &pending,
	    print_pending);
	if (st == STATUS_SUCCESS && smb2_fixed_rsp(rbuf, rlen, 4) < 0)
		finish(2, "protocol: malformed LOCK reply");
	if (st == STATUS_SUCCESS)
		printf("lock=granted");
	else if (st == STATUS_LOCK_NOT_GRANTED ||
	    st == STATUS_FILE_LOCK_CONFLICT)
		printf("lock=denied status=%s", status_str(st));
	else if (st == STATUS_CANCELLED && wait)
		printf("lock=cancelled");
	else {
		printf("lock=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "lock: %s", status_str(st));
	}
	printf(" ms=%" PRId64 "%s\n", now_ms() - t0, wait ? (pending ?
	    " pending=1" : " pending=0") : "");
}

static void
op_unlock(uint64_t off, uint64_t len)
{
	struct smb2_buf	b;
	uint32_t	st;
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_LOCK);
	smb2_lock_req(&b, fid, off, len, SMB2_LOCKFLAG_UNLOCK);
	st = transact_simple(&b);
	if (st == STATUS_SUCCESS && smb2_fixed_rsp(rbuf, rlen, 4) < 0)
		finish(2, "protocol: malformed LOCK reply");
	if (st == STATUS_SUCCESS)
		printf("unlock=ok");
	else if (st == STATUS_RANGE_NOT_LOCKED)
		printf("unlock=not_locked status=%s", status_str(st));
	else {
		printf("unlock=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "unlock: %s", status_str(st));
	}
	printf(" ms=%" PRId64 "\n", now_ms() - t0);
}

static void
op_write(uint64_t off, const char *text)
{
	struct smb2_buf	b;
	uint32_t	st, count;
	size_t		n = strlen(text);
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_WRITE);
	smb2_write_req(&b, fid, off, text, (uint32_t)n);
	st = transact(&b, timeout_ms, 0, NULL, NULL);
	if (st != STATUS_SUCCESS) {
		printf("write=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "write: %s", status_str(st));
	}
	if (smb2_write_rsp(rbuf, rlen, &count) < 0)
		finish(2, "protocol: malformed WRITE reply");
	printf("write=ok count=%" PRIu32 " ms=%" PRId64 "\n", count,
	    now_ms() - t0);
}

static void
op_read(uint64_t off, uint32_t len)
{
	struct smb2_buf	 b;
	uint32_t	 st;
	const uint8_t	*d;
	size_t		 n, i;
	int64_t		 t0 = now_ms();

	req_begin(&b, SMB2_READ);
	smb2_read_req(&b, fid, off, len);
	st = transact_simple(&b);
	if (st == STATUS_END_OF_FILE) {
		printf("read=eof len=0 ms=%" PRId64 "\n", now_ms() - t0);
		return;
	}
	if (st != STATUS_SUCCESS) {
		printf("read=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "read: %s", status_str(st));
	}
	if (smb2_read_rsp(rbuf, rlen, &d, &n) < 0 || n > len)
		finish(2, "protocol: malformed READ reply");
	printf("read=ok len=%zu data=", n);
	for (i = 0; i < n; i++) {
		if (d[i] > ' ' && d[i] <= '~' && d[i] != '\\')
			putchar(d[i]);
		else
			printf("\\x%02x", d[i]);
	}
	printf(" ms=%" PRId64 "\n", now_ms() - t0);
}

static void
op_flush(void)
{
	struct smb2_buf	b;
	uint32_t	st;
	int64_t		t0 = now_ms();

	req_begin(&b, SMB2_FLUSH);
	smb2_flush_req(&b, fid);
	st = transact_simple(&b);
	if (st != STATUS_SUCCESS) {
		printf("flush=%s ms=%" PRId64 "\n", status_str(st),
		    now_ms() - t0);
		finish(1, "flush: %s", status_str(st));
	}
	if (smb2_fixed_rsp(rbuf, rlen, 4) < 0)
		finish(2, "protocol: malformed FLUSH reply");
	printf("flush=ok ms=%" PRId64 "\n", now_ms() - t0);
}

/* Keep the session for ms, or (use_stdin) until a line or EOF on stdin.
 * Watches the connection: a server that closes it (or sends anything
 * but an unsolicited message) ends the run. */
static void
op_hold(int64_t ms, int use_stdin)
{
	int64_t		t0 = now_ms(), deadline = t0 + ms;
	const char	*how = "done";

	fflush(stdout);
	for (;;) {
		struct pollfd	pfd[2] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
		};
		int64_t		left = deadline - now_ms();
		int		n;

		if (left <= 0) {
			how = use_stdin ? "timeout" : "done";
			break;
		}
		n = poll(pfd, use_stdin ? 2 : 1, (int)left);
		if (n <= 0)
			continue;
		if (pfd[0].revents) {
			char	c;

			if (recv(sock, &c, 1, MSG_PEEK) <= 0) {
				printf("hold=disconnected ms=%" PRId64 "\n",
				    now_ms() - t0);
				lost("the server closed the connection "
				    "during a hold");
			}
			/* an unsolicited message (oplock break): read it
			 * and go on holding */
			recv_msg(now_ms() + timeout_ms);
		}
		if (use_stdin && pfd[1].revents) {
			char	c;
			ssize_t	r = read(0, &c, 1);

			if (r <= 0) {
				how = "eof";
				break;
			}
			if (c == '\n') {
				how = "line";
				break;
			}
		}
	}
	printf("hold=%s ms=%" PRId64 "\n", how, now_ms() - t0);
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
parse_user(const char *s, struct creds *c)
{
	const char	*pct = strchr(s, '%'), *sep;
	size_t		 ulen = pct ? (size_t)(pct - s) : strlen(s);

	sep = memchr(s, '/', ulen);
	if (sep == NULL)
		sep = memchr(s, '\\', ulen);
	if (sep != NULL) {
		if ((size_t)(sep - s) >= sizeof(c->domain))
			return -1;
		memcpy(c->domain, s, (size_t)(sep - s));
		ulen -= (size_t)(sep - s) + 1;
		s = sep + 1;
	}
	if (ulen == 0 || ulen >= sizeof(c->user))
		return -1;
	memcpy(c->user, s, ulen);
	if (pct != NULL && snprintf(c->password, sizeof(c->password), "%s",
	    pct + 1) >= (int)sizeof(c->password))
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
	struct creds	 c;
	const char	*port = "445";
	char		 host[256], unc[600], name[1024], *p;
	uint64_t	 v;
	int		 ch, have_user = 0;
	int64_t		 t0;

	memset(&c, 0, sizeof(c));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt_long(argc, argv, "+U:p:t:w:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'U':
			if (parse_user(optarg, &c) < 0) {
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
			if (parse_hash(optarg, c.nthash) < 0) {
				fprintf(stderr, "smb2tool: --nthash: want 32 "
				    "hex digits\n");
				exit(2);
			}
			c.have_hash = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!have_user || argc < 2)
		usage();
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
		usage();
	if (lock_wait_ms < 0)
		lock_wait_ms = timeout_ms;

	t0 = now_ms();
	tcp_connect(host, port);
	negotiate();
	session_setup(&c, t0);
	tree_connect(unc);
	open_file(name);
	ops(argv + 2, argc - 2, 1);
	teardown();
	finish(0, NULL);
	return 0;
}

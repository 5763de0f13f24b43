/*
 * smb2_conn.c — the connection half of tests/smb/smb2tool (see
 * smb2_conn.h): a non-blocking TCP socket where every wait is a poll
 * bounded by a deadline, 4-byte direct-TCP framing, one request in
 * flight at a time with its replies matched by message id (interim
 * STATUS_PENDING replies and unsolicited messages waited past), and the
 * steps from NEGOTIATE to an open file and back.  Credits: each request
 * asks for 32 and spends one, so a sequential client never runs dry.
 * Signatures are neither made nor checked (2.x without signing).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "smb2_conn.h"

int64_t
smb2_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
smb2_status_str(uint32_t st)
{
	static char	hex[2][16];
	static int	i;
	const char	*n = smb2_status_name(st);

	if (n != NULL)
		return n;
	i ^= 1;
	snprintf(hex[i], sizeof(hex[i]), "0x%08x", (unsigned int)st);
	return hex[i];
}

/* ---- transport --------------------------------------------------------- */

static void
tcp_connect(struct smb2_conn *c, const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		smb2_fatal(2, "transport: cannot resolve %s: %s", host,
		    gai_strerror(rc));
	c->fd = -1;
	for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
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
		if (poll(&pfd, 1, c->timeout_ms) != 1)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err == 0)
			c->fd = fd;
		else
			close(fd);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		smb2_fatal(2, "transport: cannot connect to %s port %s: %s",
		    host, port, strerror(err));
}

/* Send all of p, waiting for room at most until deadline. */
static void
send_all(struct smb2_conn *c, const uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd	pfd = { .fd = c->fd, .events = POLLOUT };
		ssize_t		w;
		int64_t		left = deadline - smb2_now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			smb2_fatal(2, "transport: timed out sending");
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			smb2_fatal(2, "transport: send failed: %s",
			    w < 0 ? strerror(errno) : "connection closed");
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes before deadline: 0, or -1 on timeout; a closed
 * connection is fatal. */
static int
recv_all(struct smb2_conn *c, uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t		r;
		int64_t		left = deadline - smb2_now_ms();

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = recv(c->fd, p, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == 0)
			smb2_fatal(2, "transport: connection closed by the "
			    "server");
		if (r < 0)
			smb2_fatal(2, "transport: %s", strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
smb2_recv(struct smb2_conn *c, int64_t deadline)
{
	uint8_t	pfx[4];
	long	n;

	if (recv_all(c, pfx, 4, deadline) < 0)
		return -1;
	if ((n = smb2_frame_len(pfx, sizeof(c->rbuf))) < 0)
		smb2_fatal(2, "protocol: bad frame (prefix %02x%02x%02x%02x: "
		    "not an SMB2 message or over %zu bytes)", pfx[0], pfx[1],
		    pfx[2], pfx[3], sizeof(c->rbuf));
	/* a frame that started is read to its end within the timeout */
	if (recv_all(c, c->rbuf, (size_t)n, smb2_now_ms() + c->timeout_ms) < 0)
		smb2_fatal(2, "transport: timed out in the middle of a "
		    "message");
	c->rlen = (size_t)n;
	if (smb2_hdr_get(c->rbuf, c->rlen, &c->rh) < 0)
		smb2_fatal(2, "protocol: reply without a valid SMB2 header");
	if (c->rh.next_command != 0)
		smb2_fatal(2, "protocol: compounded reply (not supported)");
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

void
smb2_req_begin(struct smb2_conn *c, struct smb2_buf *b, uint16_t cmd)
{
	struct smb2_hdr	h;

	memset(&h, 0, sizeof(h));
	h.command = cmd;
	h.credit_charge = c->dialect == SMB2_DIALECT_210 ? 1 : 0;
	h.credits = 32;
	h.message_id = c->next_mid;
	h.tree_id = c->tree_id;
	h.session_id = c->session_id;
	smb2_buf_init(b, c->sbuf + 4, sizeof(c->sbuf) - 4);
	smb2_hdr_put(b, &h);
}

static void
req_send(struct smb2_conn *c, struct smb2_buf *b, int64_t deadline)
{
	if (b->overflow)
		smb2_fatal(2, "request too large");
	smb2_frame_put(c->sbuf, b->len);
	send_all(c, c->sbuf, b->len + 4, deadline);
}

/* CANCEL of request mid: the async form once an interim reply gave an
 * async id, else the sync form.  It spends no message id. */
static void
send_cancel(struct smb2_conn *c, uint64_t mid, uint64_t async_id)
{
	struct smb2_buf	b;
	struct smb2_hdr	h;

	memset(&h, 0, sizeof(h));
	h.command = SMB2_CANCEL;
	h.message_id = mid;
	h.session_id = c->session_id;
	h.tree_id = c->tree_id;
	if (async_id != 0) {
		h.flags = SMB2_FLAGS_ASYNC_COMMAND;
		h.async_id = async_id;
	}
	smb2_buf_init(&b, c->sbuf + 4, sizeof(c->sbuf) - 4);
	smb2_hdr_put(&b, &h);
	smb2_empty_req(&b);
	req_send(c, &b, smb2_now_ms() + c->timeout_ms);
}

uint32_t
smb2_transact(struct smb2_conn *c, struct smb2_buf *b, int wait_ms,
    int cancel, int *pending, void (*on_pending)(void))
{
	uint64_t	mid = c->next_mid++, async_id = 0;
	uint16_t	cmd = smb2_get16(c->sbuf + 4 + 12);
	int64_t		deadline = smb2_now_ms() + wait_ms;
	int		cancelled = 0, skipped = 0, dummy;

	if (pending == NULL)
		pending = &dummy;
	*pending = 0;
	req_send(c, b, deadline);
	for (;;) {
		if (smb2_recv(c, deadline) < 0) {
			if (!cancel || cancelled)
				smb2_fatal(2, "transport: no reply within %d "
				    "ms (command %u)", cancelled ?
				    c->timeout_ms : wait_ms, cmd);
			send_cancel(c, mid, async_id);
			cancelled = 1;
			deadline = smb2_now_ms() + c->timeout_ms;
			continue;
		}
		if (c->rh.message_id != mid || c->rh.command != cmd) {
			/* an oplock break or a stray reply: bounded */
			if (++skipped > 1000)
				smb2_fatal(2, "protocol: too many unexpected "
				    "messages");
			continue;
		}
		if (c->rh.status == STATUS_PENDING &&
		    (c->rh.flags & SMB2_FLAGS_ASYNC_COMMAND)) {
			async_id = c->rh.async_id;
			if (!*pending && on_pending != NULL)
				on_pending();
			*pending = 1;
			continue;
		}
		return c->rh.status;
	}
}

static uint32_t
transact_simple(struct smb2_conn *c, struct smb2_buf *b)
{
	return smb2_transact(c, b, c->timeout_ms, 0, NULL, NULL);
}

/* ---- session ----------------------------------------------------------- */

void
smb2_connect(struct smb2_conn *c, const char *host, const char *port,
    int timeout_ms)
{
	struct smb2_buf			b;
	struct smb2_negotiate_rsp	r;
	uint8_t				guid[16];
	uint32_t			st;

	c->timeout_ms = timeout_ms;
	c->next_mid = c->session_id = 0;
	c->tree_id = 0;
	c->dialect = 0;
	tcp_connect(c, host, port);
	if (RAND_bytes(guid, sizeof(guid)) != 1)
		smb2_fatal(2, "no random bytes for the client GUID");
	smb2_req_begin(c, &b, SMB2_NEGOTIATE);
	smb2_negotiate_req(&b, guid);
	if ((st = transact_simple(c, &b)) != STATUS_SUCCESS)
		smb2_fatal(2, "negotiate: %s", smb2_status_str(st));
	if (smb2_negotiate_rsp(c->rbuf, c->rlen, &r) < 0)
		smb2_fatal(2, "protocol: malformed NEGOTIATE reply");
	if (r.dialect != SMB2_DIALECT_202 && r.dialect != SMB2_DIALECT_210)
		smb2_fatal(2, "protocol: server chose dialect 0x%04x, asked "
		    "for 2.0.2 or 2.1", r.dialect);
	if (r.security_mode & 2)
		smb2_fatal(2, "server requires signing (not supported)");
	c->dialect = r.dialect;
}

uint32_t
smb2_session_setup(struct smb2_conn *c, const char *user, const char *domain,
    const uint8_t nthash[16], const char **dom_used)
{
	static char		 dom[sizeof(((struct ntlm_challenge *)0)->
				     target_name)];
	struct smb2_buf		 b, m;
	struct ntlm_challenge	 ch;
	uint8_t			 blob[4096], key[16], cchal[8], nt[2048];
	const uint8_t		*sb;
	size_t			 sblen, ntlen;
	uint16_t		 sflags;
	uint32_t		 st;

	/* raw NTLMSSP: Samba's SPNEGO server takes it without a wrapper */
	smb2_buf_init(&m, blob, sizeof(blob));
	ntlm_negotiate_msg(&m);
	smb2_req_begin(c, &b, SMB2_SESSION_SETUP);
	smb2_sess_req(&b, blob, m.len);
	st = transact_simple(c, &b);
	if (st != STATUS_MORE_PROCESSING_REQUIRED)
		smb2_fatal(2, "session setup: the server refused a raw "
		    "NTLMSSP NEGOTIATE: %s (SPNEGO wrapping is not "
		    "implemented)", smb2_status_str(st));
	if (smb2_sess_rsp(c->rbuf, c->rlen, &sflags, &sb, &sblen) < 0 ||
	    ntlm_challenge_parse(sb, sblen, &ch) < 0)
		smb2_fatal(2, "protocol: malformed NTLMSSP CHALLENGE");
	c->session_id = c->rh.session_id;

	snprintf(dom, sizeof(dom), "%s", ch.target_name);
	*dom_used = domain[0] != '\0' ? domain : dom;
	if (ntlm_ntowfv2(nthash, user, *dom_used, key) < 0 ||
	    RAND_bytes(cchal, sizeof(cchal)) != 1)
		smb2_fatal(2, "cannot compute the NTLMv2 key (user or domain "
		    "name too long or not UTF-8)");
	/* the server's timestamp when it sent one (MS-NLMP 3.1.5.1.2) */
	ntlen = ntlm_v2_response(key, ch.challenge, cchal, ch.has_time ?
	    ch.time : smb2_filetime(time(NULL)), ch.target_info, ch.ti_len,
	    nt, sizeof(nt));
	if (ntlen == 0)
		smb2_fatal(2, "protocol: server target info too long");
	smb2_buf_init(&m, blob, sizeof(blob));
	ntlm_authenticate_msg(&m, ch.flags & NTLM_CLIENT_FLAGS, nt, ntlen,
	    *dom_used, user, "SMB2TOOL");
	if (m.overflow)
		smb2_fatal(2, "user or domain name too long");
	smb2_req_begin(c, &b, SMB2_SESSION_SETUP);
	smb2_sess_req(&b, blob, m.len);
	if ((st = transact_simple(c, &b)) != STATUS_SUCCESS)
		return st;
	if (smb2_sess_rsp(c->rbuf, c->rlen, &sflags, &sb, &sblen) < 0)
		smb2_fatal(2, "protocol: malformed SESSION_SETUP reply");
	c->guest = sflags & 1;
	return STATUS_SUCCESS;
}

uint32_t
smb2_tree_connect(struct smb2_conn *c, const char *unc)
{
	struct smb2_buf	b;
	uint32_t	st;

	smb2_req_begin(c, &b, SMB2_TREE_CONNECT);
	smb2_tree_req(&b, unc);
	if ((st = transact_simple(c, &b)) != STATUS_SUCCESS)
		return st;
	if (smb2_fixed_rsp(c->rbuf, c->rlen, 16) < 0)
		smb2_fatal(2, "protocol: malformed TREE_CONNECT reply");
	c->tree_id = c->rh.tree_id;
	return STATUS_SUCCESS;
}

uint32_t
smb2_open(struct smb2_conn *c, const char *name)
{
	struct smb2_buf	b;
	uint32_t	st;

	smb2_req_begin(c, &b, SMB2_CREATE);
	smb2_create_req(&b, name);
	if ((st = transact_simple(c, &b)) != STATUS_SUCCESS)
		return st;
	if (smb2_create_rsp(c->rbuf, c->rlen, c->fid, &c->size) < 0)
		smb2_fatal(2, "protocol: malformed CREATE reply");
	return STATUS_SUCCESS;
}

uint32_t
smb2_teardown(struct smb2_conn *c, const char **what)
{
	static const struct {
		uint16_t	 cmd, size;
		const char	*what;
	} s[] = {
		{ SMB2_CLOSE, 60, "close" },
		{ SMB2_TREE_DISCONNECT, 4, "tree disconnect" },
		{ SMB2_LOGOFF, 4, "logoff" },
	};
	size_t	i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct smb2_buf	b;
		uint32_t	st;

		smb2_req_begin(c, &b, s[i].cmd);
		if (s[i].cmd == SMB2_CLOSE)
			smb2_close_req(&b, c->fid);
		else
			smb2_empty_req(&b);
		*what = s[i].what;
		if ((st = transact_simple(c, &b)) != STATUS_SUCCESS)
			return st;
		if (smb2_fixed_rsp(c->rbuf, c->rlen, s[i].size) < 0)
			smb2_fatal(2, "protocol: malformed %s reply",
			    s[i].what);
	}
	close(c->fd);
	c->fd = -1;
	return STATUS_SUCCESS;
}

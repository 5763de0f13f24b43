/*
 * smb2_conn.h — one SMB2 connection of tests/smb/smb2tool: TCP, the
 * request/reply exchange (interim replies, cancel, timeouts) and the
 * steps up to an open file (NEGOTIATE, SESSION_SETUP with NTLMv2,
 * TREE_CONNECT, CREATE) and back.  Bytes come from smb2_wire.c.
 *
 * Errors: an NT status the server answers is returned to the caller; a
 * transport or protocol error (closed connection, timeout, malformed
 * reply) ends the program through smb2_fatal(2, ...), which the program
 * provides.  Single-threaded; one request in flight at a time.
 */
#ifndef DUONAS_TESTS_SMB2_CONN_H
#define DUONAS_TESTS_SMB2_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "smb2_wire.h"

struct smb2_conn {
	int		fd;
	int		timeout_ms;	/* bound of every wait */
	uint64_t	next_mid, session_id;
	uint32_t	tree_id;
	uint16_t	dialect;	/* SMB2_DIALECT_202 or _210 */
	int		guest;		/* the session is a guest's */
	uint8_t		fid[16];	/* the open file */
	uint64_t	size;		/* its size when opened */
	struct smb2_hdr	rh;		/* the last reply: header, */
	uint8_t		rbuf[SMB2_FRAME_MAX];	/* bytes */
	size_t		rlen;
	uint8_t		sbuf[SMB2_FRAME_MAX + 4];	/* the request */
};

/* Provided by the program: print code's line, the message, exit. */
void	smb2_fatal(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

int64_t	smb2_now_ms(void);
/* A status's name, or its hex code ("0xc0001234"; two such strings may
 * be in use at once). */
const char *smb2_status_str(uint32_t);

/* TCP to host (name, IPv4, IPv6) port within timeout_ms; then
 * NEGOTIATE (2.0.2 or 2.1; a server requiring signing is refused). */
void	smb2_connect(struct smb2_conn *, const char *host, const char *port,
	    int timeout_ms);
/* NTLMv2 with the NT hash; domain "" takes the server's.  Returns the
 * status (STATUS_LOGON_FAILURE: wrong password); *dom_used: the domain
 * used (points into a static buffer or domain). */
uint32_t smb2_session_setup(struct smb2_conn *, const char *user,
	    const char *domain, const uint8_t nthash[16],
	    const char **dom_used);
uint32_t smb2_tree_connect(struct smb2_conn *, const char *unc);
/* Open (create if missing) name read/write, sharing everything, no
 * oplock: fid and size filled in. */
uint32_t smb2_open(struct smb2_conn *, const char *name);
/* CLOSE, TREE_DISCONNECT, LOGOFF; the first failing one's status, its
 * name in *what. */
uint32_t smb2_teardown(struct smb2_conn *, const char **what);

/* Start a request (the header) in c->sbuf; append the body to b. */
void	smb2_req_begin(struct smb2_conn *, struct smb2_buf *b, uint16_t cmd);
/* Send it and wait for its final reply (c->rh, c->rbuf): STATUS_PENDING
 * interim replies set *pending (on_pending called at the first) and are
 * waited past, unrelated messages skipped.  After wait_ms: if cancel,
 * a CANCEL is sent and the final reply awaited timeout_ms more (mostly
 * STATUS_CANCELLED); else a fatal timeout.  Returns the status. */
uint32_t smb2_transact(struct smb2_conn *, struct smb2_buf *b, int wait_ms,
	    int cancel, int *pending, void (*on_pending)(void));
/* Wait up to deadline (smb2_now_ms() time) for one message: 0 one came
 * (in c->rh, c->rbuf), -1 none. */
int	smb2_recv(struct smb2_conn *, int64_t deadline);

#endif

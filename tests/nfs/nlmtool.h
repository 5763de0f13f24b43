/*
 * nlmtool.h — what the two halves of tests/nfs/nlmtool share: the client
 * (nlmtool.c: MOUNT/LOOKUP, the NLM and NSM calls, the commands) and its
 * callback side (nlmtool_cb.c: the portmapper and NLM listener a
 * server's GRANTED comes to).
 */
#ifndef DUONAS_TESTS_NLMTOOL_H
#define DUONAS_TESTS_NLMTOOL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc_raw.h"

#define PROG_PMAP	100000
#define PROG_NLM	100021
#define PROG_NSM	100024

/* The blocking lock a GRANTED callback may answer: set by nlmtool.c when
 * it sends one, settled by a matching callback (nlmtool_cb.c). */
struct nlm_blocked {
	int		pending;	/* answered BLOCKED, no callback yet */
	int		granted;	/* a matching callback came */
	uint64_t	off, len;
	int		excl;
	char		cookie[8];	/* of the LOCK call */
};
extern struct nlm_blocked blk;

/* the lock owner's file handle and svid (a callback must name them) */
extern char		fh[128];
extern unsigned int	fhlen;
extern unsigned int	svid;

int64_t	now_us(void);	/* CLOCK_MONOTONIC in microseconds */

/* Serve a portmapper on port (TCP and UDP) and an NLM listener on a free
 * port; that port, or -1 with a message on stderr. */
int	cb_start(int port);

/* Wait up to ms for events on fd (-1: none) while answering callbacks;
 * fd's revents, 0 on timeout. */
int	wait_fd(int fd, int events, int ms);

/*
 * Answer one call (rec: the record without its marker) received from
 * peer on fd (a TCP connection; -1 for UDP); the reply goes into out
 * (marker placeholder first).  Returns 0 with a reply in out, -1 to send
 * nothing (not a call).  Called by wait_fd(); public for the unit test
 * (tests/nfs/test_nlmtool_cb.c).
 */
int	cb_handle(const uint8_t *rec, size_t n, int fd,
	    const struct sockaddr_in *peer, struct rr_msg *out);

#endif

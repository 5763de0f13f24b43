/*
 * test_nlmtool_cb.c — the callback side of tests/nfs/nlmtool against
 * golden bytes written out by hand from RFC 5531 (RPC), RFC 1833
 * (portmapper) and the NLM v4 XDR (X/Open XNFS, NLM4_GRANTEDargs): a
 * GRANTED for the blocked lock is answered NLM4_GRANTED and settles it,
 * one for another range NLM4_DENIED, a truncated one GARBAGE_ARGS, a
 * reply or another RPC version nothing; PMAP GETPORT knows NLM only.
 * cb_handle() is called directly; only cb_start() opens sockets (on free
 * loopback ports), for the NLM port GETPORT must name.
 */
#include <stdio.h>
#include <string.h>

#include "tests/nfs/nlmtool.h"
#include "tests/unit/t.h"

/* what nlmtool.c defines for the tool */
struct nlm_blocked	blk;
char			fh[128];
unsigned int		fhlen;
unsigned int		svid;

int64_t
now_us(void)
{
	return 0;
}

/* GRANTED (proc 5) call, xid 01020304, AUTH_NONE, for svid 7, bytes
 * [0, 10) of handle 01 02 03 04, exclusive, cookie "ck", caller "srv" */
static const uint8_t granted_call[] = {
	0x01, 0x02, 0x03, 0x04,		/* xid */
	0, 0, 0, 0,			/* CALL */
	0, 0, 0, 2,			/* RPC version 2 */
	0x00, 0x01, 0x86, 0xb5,		/* program 100021 */
	0, 0, 0, 4,			/* version 4 */
	0, 0, 0, 5,			/* NLM4_GRANTED */
	0, 0, 0, 0, 0, 0, 0, 0,		/* credential AUTH_NONE, empty */
	0, 0, 0, 0, 0, 0, 0, 0,		/* verifier AUTH_NONE, empty */
	0, 0, 0, 2, 'c', 'k', 0, 0,	/* cookie */
	0, 0, 0, 1,			/* exclusive */
	0, 0, 0, 3, 's', 'r', 'v', 0,	/* caller_name */
	0, 0, 0, 4, 1, 2, 3, 4,		/* fh */
	0, 0, 0, 2, 'o', 'h', 0, 0,	/* oh */
	0, 0, 0, 7,			/* svid */
	0, 0, 0, 0, 0, 0, 0, 0,		/* l_offset */
	0, 0, 0, 0, 0, 0, 0, 10,	/* l_len */
};

/* its reply after the record marker: xid, REPLY, MSG_ACCEPTED, verifier
 * AUTH_NONE empty, SUCCESS, NLM4_GRANTEDres { cookie, stat } */
static const uint8_t granted_reply[] = {
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 1, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 2, 'c', 'k', 0, 0,
	0, 0, 0, 0,			/* NLM4_GRANTED */
};

/* PMAP v2 GETPORT(prog, 4, TCP, 0), xid 0a0b0c0d */
static void
getport_call(uint8_t *b, uint32_t prog)
{
	static const uint8_t head[] = {
		0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0, 0, 0, 0, 2,
		0x00, 0x01, 0x86, 0xa0,	/* program 100000 */
		0, 0, 0, 2, 0, 0, 0, 3,	/* version 2, GETPORT */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};

	memcpy(b, head, sizeof(head));
	b += sizeof(head);
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(prog >> (24 - 8 * i));
	memcpy(b + 4, "\0\0\0\4\0\0\0\6\0\0\0\0", 12);
}

static void
expect_blocked(uint64_t off, uint64_t len)
{
	memset(&blk, 0, sizeof(blk));
	blk.pending = 1;
	blk.off = off;
	blk.len = len;
	blk.excl = 1;
}

int
main(void)
{
	struct rr_msg		out = RR_MSG_INIT;
	struct sockaddr_in	peer;
	uint8_t			call[sizeof(granted_call)], gp[56];
	int			port;

	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(fh, "\1\2\3\4", 4);
	fhlen = 4;
	svid = 7;

	expect_blocked(0, 10);
	T_EQ(cb_handle(granted_call, sizeof(granted_call), -1, &peer, &out),
	    0, "GRANTED for the blocked lock gets a reply");
	T_EQ(out.n - 4, sizeof(granted_reply), "reply length");
	T_MEM(out.b + 4, granted_reply, sizeof(granted_reply),
	    "reply bytes: SUCCESS, cookie echoed, NLM4_GRANTED");
	T_OK(blk.granted && !blk.pending, "the blocked lock is settled");

	/* the same call again: nothing blocked any more -> DENIED */
	cb_handle(granted_call, sizeof(granted_call), -1, &peer, &out);
	T_EQ(rr_get32(out.b + out.n - 4), 1,
	    "a GRANTED nobody waits for: NLM4_DENIED");

	expect_blocked(0, 11);		/* another range */
	cb_handle(granted_call, sizeof(granted_call), -1, &peer, &out);
	T_EQ(rr_get32(out.b + out.n - 4), 1, "another range: NLM4_DENIED");
	T_OK(blk.pending && !blk.granted, "the blocked lock stays pending");

	memcpy(call, granted_call, sizeof(call));
	call[sizeof(call) - 17] = 8;	/* svid 8 */
	expect_blocked(0, 10);
	cb_handle(call, sizeof(call), -1, &peer, &out);
	T_EQ(rr_get32(out.b + out.n - 4), 1, "another svid: NLM4_DENIED");

	/* truncated anywhere in the arguments: GARBAGE_ARGS, still pending */
	int garbage = 0;
	for (size_t n = 40; n < sizeof(granted_call); n += 4) {
		cb_handle(granted_call, n, -1, &peer, &out);
		garbage += out.n == 28 && rr_get32(out.b + 24) == 4;
	}
	T_EQ(garbage, (sizeof(granted_call) - 40) / 4,
	    "every truncation of the arguments: GARBAGE_ARGS");
	T_OK(blk.pending, "the blocked lock stays pending");

	memcpy(call, granted_call, sizeof(call));
	call[7] = 1;			/* a REPLY, not a call */
	T_EQ(cb_handle(call, sizeof(call), -1, &peer, &out), -1,
	    "a reply is not answered");
	memcpy(call, granted_call, sizeof(call));
	call[11] = 3;			/* RPC version 3 */
	T_EQ(cb_handle(call, sizeof(call), -1, &peer, &out), -1,
	    "RPC version 3 is not answered");
	T_EQ(cb_handle(granted_call, 10, -1, &peer, &out), -1,
	    "a 10-byte record is not answered");

	memcpy(call, granted_call, sizeof(call));
	call[23] = 7;			/* NLM proc 7: not served */
	cb_handle(call, sizeof(call), -1, &peer, &out);
	T_EQ(rr_get32(out.b + 24), 3, "other NLM procedures: PROC_UNAVAIL");

	port = cb_start(0);
	T_OK(port > 0, "callback listeners started (NLM port %d)", port);
	getport_call(gp, 100021);
	T_EQ(cb_handle(gp, sizeof(gp), -1, &peer, &out), 0, "GETPORT answered");
	T_EQ(out.n, 32, "GETPORT reply length");
	T_EQ(rr_get32(out.b + 24), 0, "GETPORT: SUCCESS");
	T_EQ(rr_get32(out.b + 28), port, "GETPORT(NLM 4 TCP): the NLM port");
	getport_call(gp, 100003);
	cb_handle(gp, sizeof(gp), -1, &peer, &out);
	T_EQ(rr_get32(out.b + 28), 0, "GETPORT(NFS): 0, not registered");
	cb_handle(gp, 50, -1, &peer, &out);
	T_EQ(rr_get32(out.b + 24), 4, "truncated GETPORT: GARBAGE_ARGS");
	rr_free(&out);
	return t_done();
}

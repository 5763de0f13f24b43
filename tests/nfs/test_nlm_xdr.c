/*
 * test_nlm_xdr.c — the wire pieces of NLM/NSM (export/nfs_nlm*.c,
 * nfs_xdr.c) without a server: the nlm4_lock a GRANTED carries and a
 * waiter's blob and the stored monitored list against golden bytes
 * (and the list's decoding of bad values), and the argument checks of every
 * length of NLM v4 and NSM v1 calls (forged lengths, truncation, names
 * past LM_MAXSTRLEN, NUL bytes, the TEST_RES union).  Pure.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "export/nfs_nlm_int.h"
#include "tests/unit/t.h"

static const uint8_t golden_lock[] = {
	0, 0, 0, 1, 'h', 0, 0, 0,		/* caller_name "h" */
	0, 0, 0, 3, 1, 2, 3, 0,			/* fh */
	0, 0, 0, 2, 'a', 'b', 0, 0,		/* oh */
	0, 0, 0, 7,				/* svid */
	0, 0, 0, 1, 0, 0, 0, 0,			/* offset 2^32 */
	0, 0, 0, 0, 0, 0, 0, 5,			/* length */
};

static const uint8_t golden_blob[] = {
	1, 1, 0, 2, 'c', 'k',			/* version, msg, cookie */
	4, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	3, 9, 8, 7,				/* fh */
};

static const uint8_t golden_list[] = {
	1, 0, 0, 0, 1,				/* version, count */
	0, 1, 'c',				/* mon_name */
	4, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0,					/* my_name "" */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* A call (no record marker) of (prog, vers, proc) with AUTH_NONE and
 * the arguments in a; the checker's verdict. */
static int
args_ok(uint32_t prog, uint32_t vers, uint32_t proc, const struct buf *a)
{
	struct nfs_callhdr	h;
	struct buf		b;
	int			rv = -1;

	buf_init(&b);
	nlm_xdr_callhdr(&b, 1, prog, vers, proc);
	buf_add(&b, a->data, a->len);
	if (nfs_xdr_callhdr(b.data, b.len, &h) == 0)
		rv = nfs_xdr_args_ok(&h, b.data, b.len);
	buf_free(&b);
	return rv;
}

/* LOCK arguments; caller_name of clen bytes of c. */
static void
lock_args(struct buf *a, size_t clen, char c)
{
	char name[2048];

	memset(name, c, sizeof(name));
	buf_reset(a);
	nlm_xdr_obj(a, "ck", 2);
	buf_add_u32(a, 1);			/* block */
	buf_add_u32(a, 1);			/* exclusive */
	nlm_xdr_obj(a, name, (uint32_t)clen);
	nlm_xdr_obj(a, "fhfhfh", 6);
	nlm_xdr_obj(a, "oh", 2);
	buf_add_u32(a, 42);
	buf_add_u64(a, 0);
	buf_add_u64(a, 0);
	buf_add_u32(a, 0);			/* reclaim */
	buf_add_u32(a, 3);			/* state */
}

int
main(void)
{
	struct brl_owner	o;
	struct brl_range	r = { 1ull << 32, 5, 1 };
	struct sockaddr_in	peer, local;
	struct nlm_obj		ck = { (const uint8_t *)"ck", 2 };
	static const uint8_t	fhb[3] = { 9, 8, 7 };
	struct nlm_obj		fh = { fhb, 3 };
	struct nlm_obj		big = { fhb, NLM_COOKIE_KEEP + 1 };
	uint8_t			blob[BRL_BLOB_MAX];
	struct buf		a;
	size_t			n;

	/* nlm4_lock of a GRANTED */
	memset(&o, 0, sizeof(o));
	o.ohlen = 2;
	memcpy(o.oh, "ab", 2);
	o.svid = 7;
	buf_init(&a);
	nlm_xdr_lock(&a, "h", "\x01\x02\x03", 3, &o, &r);
	T_EQ(a.len, sizeof(golden_lock), "nlm4_lock: length");
	T_MEM(a.data, golden_lock, sizeof(golden_lock), "nlm4_lock: bytes");

	/* a waiter's blob */
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &peer.sin_addr);
	local = peer;
	inet_pton(AF_INET, "10.0.0.1", &local.sin_addr);
	n = nlm_blob_make(blob, sizeof(blob), &ck, 1,
	    (struct sockaddr *)&peer, (struct sockaddr *)&local, &fh);
	T_EQ(n, sizeof(golden_blob), "blob: length");
	T_MEM(blob, golden_blob, sizeof(golden_blob), "blob: bytes");
	T_EQ(nlm_blob_make(blob, sizeof(blob), &big, 0,
	    (struct sockaddr *)&peer, (struct sockaddr *)&local, &fh), 0,
	    "blob: a cookie longer than NLM_COOKIE_KEEP is not kept");
	T_EQ(nlm_blob_make(blob, 10, &ck, 0, (struct sockaddr *)&peer,
	    (struct sockaddr *)&local, &fh), 0, "blob: too small a buffer");
	T_OK(nlm_addr_eq((struct sockaddr *)&peer, (struct sockaddr *)&peer) &&
	    !nlm_addr_eq((struct sockaddr *)&peer, (struct sockaddr *)&local),
	    "addresses compare");

	/* argument checks */
	lock_args(&a, 8, 'c');
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_OK, "LOCK: fine");
	T_EQ(args_ok(NFS_PROG_NLM, 4, 7, &a), NFS_ARGS_OK, "LOCK_MSG: fine");
	T_EQ(args_ok(NFS_PROG_NLM, 4, 22, &a), NFS_ARGS_OK, "NM_LOCK: fine");
	a.len -= 4;
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_GARBAGE,
	    "LOCK: one word short");
	lock_args(&a, 1024, 'c');
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_OK,
	    "LOCK: caller_name of 1024 bytes passes (FAILED later)");
	lock_args(&a, 1025, 'c');
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_GARBAGE,
	    "LOCK: caller_name past LM_MAXSTRLEN");
	lock_args(&a, 8, 0);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_NUL,
	    "LOCK: caller_name with NUL bytes");
	lock_args(&a, 8, 'c');
	put_be32(a.data, 0x80000000u);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_GARBAGE,
	    "LOCK: a cookie of 2^31 bytes");
	put_be32(a.data, 0xfffffffcu);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 2, &a), NFS_ARGS_GARBAGE,
	    "LOCK: a cookie length that wraps when padded");
	lock_args(&a, 8, 'c');
	a.len -= 8;			/* no reclaim, no state */
	T_EQ(args_ok(NFS_PROG_NLM, 4, 3, &a), NFS_ARGS_OK,
	    "CANCEL: LOCK's arguments without reclaim/state");

	/* TEST_RES: the holder only when DENIED */
	buf_reset(&a);
	nlm_xdr_obj(&a, "ck", 2);
	buf_add_u32(&a, 0);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 11, &a), NFS_ARGS_OK,
	    "TEST_RES: GRANTED, no holder");
	put_be32(a.data + 8, 1);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 11, &a), NFS_ARGS_GARBAGE,
	    "TEST_RES: DENIED without its holder");
	buf_add_u32(&a, 1);
	buf_add_u32(&a, 9);
	nlm_xdr_obj(&a, "oh", 2);
	buf_add_u64(&a, 0);
	buf_add_u64(&a, 1);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 11, &a), NFS_ARGS_OK,
	    "TEST_RES: DENIED with its holder");

	/* SHARE, FREE_ALL */
	buf_reset(&a);
	nlm_xdr_obj(&a, "ck", 2);
	nlm_xdr_obj(&a, "host", 4);
	nlm_xdr_obj(&a, "fh", 2);
	nlm_xdr_obj(&a, "oh", 2);
	buf_add_u32(&a, 0);
	buf_add_u32(&a, 3);
	buf_add_u32(&a, 0);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 20, &a), NFS_ARGS_OK, "SHARE: fine");
	a.len -= 4;
	T_EQ(args_ok(NFS_PROG_NLM, 4, 21, &a), NFS_ARGS_GARBAGE,
	    "UNSHARE: no reclaim word");
	buf_reset(&a);
	nlm_xdr_obj(&a, "host", 4);
	buf_add_u32(&a, 3);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 23, &a), NFS_ARGS_OK, "FREE_ALL: fine");
	put_be32(a.data, 5000);
	T_EQ(args_ok(NFS_PROG_NLM, 4, 23, &a), NFS_ARGS_GARBAGE,
	    "FREE_ALL: a name past the record");

	/* NSM */
	buf_reset(&a);
	nlm_xdr_obj(&a, "client", 6);
	nlm_xdr_obj(&a, "me", 2);
	buf_add_u32(&a, 100021);
	buf_add_u32(&a, 4);
	buf_add_u32(&a, 16);
	buf_add(&a, "0123456789abcdef", 16);
	T_EQ(args_ok(NFS_PROG_NSM, 1, 2, &a), NFS_ARGS_OK, "SM_MON: fine");
	a.len -= 1;
	T_EQ(args_ok(NFS_PROG_NSM, 1, 2, &a), NFS_ARGS_GARBAGE,
	    "SM_MON: priv cut short");
	a.len -= 15;
	T_EQ(args_ok(NFS_PROG_NSM, 1, 3, &a), NFS_ARGS_OK, "SM_UNMON: fine");
	buf_reset(&a);
	nlm_xdr_obj(&a, "client", 6);
	buf_add_u32(&a, 7);
	T_EQ(args_ok(NFS_PROG_NSM, 1, 6, &a), NFS_ARGS_OK, "SM_NOTIFY: fine");
	put_be32(a.data, 0xffffffffu);
	T_EQ(args_ok(NFS_PROG_NSM, 1, 6, &a), NFS_ARGS_GARBAGE,
	    "SM_NOTIFY: a forged name length");

	/* the stored monitored list */
	{
		struct nsm_ent	*e = calloc(2, sizeof(*e)), *d = NULL;
		int		 nd = -1;

		snprintf(e[0].name, sizeof(e[0].name), "c");
		memcpy(&e[0].peer, &peer, sizeof(peer));
		memcpy(&e[0].local, &local, sizeof(local));
		buf_reset(&a);
		nsm_list_encode(&a, e, 1);
		T_EQ(a.len, sizeof(golden_list), "monitored list: length");
		T_MEM(a.data, golden_list, sizeof(golden_list),
		    "monitored list: bytes");
		e[1] = e[0];
		snprintf(e[1].name, sizeof(e[1].name), "other");
		snprintf(e[1].my_name, sizeof(e[1].my_name), "lockd");
		e[1].my_prog = 100021;
		e[1].my_vers = 4;
		e[1].my_proc = 16;
		buf_reset(&a);
		nsm_list_encode(&a, e, 2);
		T_EQ(nsm_list_decode(a.data, a.len, &d, &nd), 0,
		    "monitored list: decodes");
		T_OK(nd == 2 && d != NULL && strcmp(d[1].name, "other") == 0 &&
		    strcmp(d[1].my_name, "lockd") == 0 && d[1].my_proc == 16 &&
		    nlm_addr_eq((struct sockaddr *)&d[0].peer,
		    (struct sockaddr *)&peer) &&
		    nlm_addr_eq((struct sockaddr *)&d[1].local,
		    (struct sockaddr *)&local), "monitored list: round trip");
		free(d);
		T_EQ(nsm_list_decode(a.data, a.len - 1, &d, &nd), -1,
		    "monitored list: one byte short");
		a.data[0] = 2;
		T_EQ(nsm_list_decode(a.data, a.len, &d, &nd), -1,
		    "monitored list: unknown version");
		a.data[0] = 1;
		put_be32(a.data + 1, NSM_MAX + 1);
		T_EQ(nsm_list_decode(a.data, a.len, &d, &nd), -1,
		    "monitored list: too many clients");
		T_EQ(nsm_list_decode(NULL, 0, &d, &nd), 0,
		    "monitored list: empty value");
		T_OK(d == NULL && nd == 0, "monitored list: empty");
		free(e);
	}
	buf_free(&a);
	return t_done();
}

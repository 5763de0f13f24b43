/*
 * fuzz_rpc_record.c — ONC RPC record marking (export/nfs_rm.c) as
 * nfs_conn.c uses it: a stream arriving in pieces of arbitrary sizes,
 * cut into records after each piece.  Input: 2 bytes of record limit
 * (big-endian, 0..65535), 1 byte K (low 4 bits), K bytes of piece sizes
 * (each 1..256, used in turn), then the stream.
 *
 * Aborts when a step breaks its promise (MORE asking for bytes that are
 * there or for more than a fragment, a record longer than the limit,
 * fragments kept over the limit), or when the records, the refusal or
 * what is left partial differ from a plain decoder run on the whole
 * stream at once (a record equals its fragments joined).  The input
 * buffer is always allocated to exactly what has arrived, so ASan sees
 * any read past it.
 */
#include <stdio.h>

#include "export/nfs_rm.h"
#include "tests/fuzz/fuzz.h"

#define MAXREC		512	/* records the reference keeps */

struct ref {
	size_t		 nrec;
	size_t		 off[MAXREC], len[MAXREC];	/* into body */
	uint8_t		*body;		/* every record, back to back */
	int		 toobig;	/* the stream ends refused */
	size_t		 fraglen;	/* else: kept of the partial record */
	size_t		 rest;		/* and stream bytes not consumed */
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The reference: the whole stream s[0..n) at once, written from RFC
 * 5531 without nfs_rm.c. */
static void
ref_decode(const uint8_t *s, size_t n, size_t max, struct ref *r)
{
	size_t	pos = 0, acc = 0, used = 0;

	memset(r, 0, sizeof(*r));
	r->body = malloc(n + 1);
	if (r->body == NULL)
		abort();
	while (n - pos >= 4 && r->nrec < MAXREC) {
		uint32_t	mark = be32(s + pos);
		size_t		flen = mark & 0x7fffffffu;

		if (acc + flen > max) {
			r->toobig = 1;
			break;
		}
		if (n - pos - 4 < flen)
			break;
		memcpy(r->body + used + acc, s + pos + 4, flen);
		acc += flen;
		pos += 4 + flen;
		if (mark & 0x80000000u) {
			r->off[r->nrec] = used;
			r->len[r->nrec] = acc;
			r->nrec++;
			used += acc;
			acc = 0;
		}
	}
	r->fraglen = acc;
	r->rest = n - pos;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct nfs_rm	 rm = { NULL, 0 };
	struct ref	 r;
	const uint8_t	*sizes, *s;
	uint8_t		*in = NULL, *rec;
	size_t		 max, k, sn, pos = 0, inlen = 0, off, len, nrec = 0;
	size_t		 piece, i = 0, was;
	int		 step = NFS_RM_MORE, inplace = 0;

	if (n < 3)
		return 0;
	max = (size_t)d[0] << 8 | d[1];
	k = d[2] & 15;
	if (n < 3 + k)
		return 0;
	sizes = d + 3;
	s = d + 3 + k;
	sn = n - 3 - k;
	ref_decode(s, sn, max, &r);

	while (pos < sn && step != NFS_RM_TOOBIG && nrec < MAXREC) {
		piece = k == 0 ? sn - pos : (size_t)sizes[i++ % k] + 1;
		if (piece > sn - pos)
			piece = sn - pos;
		/* exactly the bytes that have arrived */
		if ((in = realloc(in, inlen + piece)) == NULL)
			abort();
		memcpy(in + inlen, s + pos, piece);
		inlen += piece;
		pos += piece;
		off = 0;
		while (nrec < MAXREC) {
			was = rm.fraglen;
			step = nfs_rm_step(&rm, in + off, inlen - off, max,
			    &len);
			if (step == NFS_RM_MORE) {
				if (len <= inlen - off || (len != 4 &&
				    len - 4 + rm.fraglen > max))
					abort();	/* bytes there, or
							 * more than allowed */
				break;
			}
			if (step == NFS_RM_TOOBIG) {
				if (len <= max || rm.fraglen != was)
					abort();
				break;
			}
			if (4 + len > inlen - off)
				abort();		/* past the input */
			if (step == NFS_RM_FRAG) {
				if (rm.fraglen != was + len ||
				    rm.fraglen > max)
					abort();
				off += 4 + len;
				continue;
			}
			if (step != NFS_RM_RECORD || was + len > max ||
			    nrec >= r.nrec || r.len[nrec] != was + len)
				abort();
			if (was == 0 && (inplace++ & 1)) {
				/* as nfs_conn.c does with a large record */
				if (len > 0 && memcmp(in + off + 4, r.body +
				    r.off[nrec], len) != 0)
					abort();
				nfs_rm_reset(&rm);
			} else {
				if ((rec = malloc(was + len + 1)) == NULL)
					abort();
				nfs_rm_take(&rm, in + off + 4, len, rec);
				if (rm.fraglen != 0 || rm.frag != NULL ||
				    (was + len > 0 && memcmp(rec, r.body +
				    r.off[nrec], was + len) != 0))
					abort();	/* not the fragments
							 * joined */
				free(rec);
			}
			nrec++;
			off += 4 + len;
		}
		memmove(in, in + off, inlen - off);
		inlen -= off;
	}
	if (nrec != r.nrec)
		abort();
	if (nrec < MAXREC && (r.toobig != (step == NFS_RM_TOOBIG) ||
	    (!r.toobig && (rm.fraglen != r.fraglen || inlen != r.rest))))
		abort();	/* refused, or left partial, differently */
	nfs_rm_reset(&rm);
	free(in);
	free(r.body);
	return 0;
}

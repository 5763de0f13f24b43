/*
 * nfs_rm.h — ONC RPC record marking on a stream (RFC 5531, section 11):
 * a record is one or more fragments, each behind a 4-byte big-endian
 * header whose top bit says "last fragment of the record" and whose
 * other 31 bits are the fragment's length.  nfs_rm_step() looks at the
 * start of what has arrived and says what is there, however the stream
 * was cut by the reads; the earlier fragments of a record are kept in
 * struct nfs_rm until its last one arrives.
 *
 * Pure: no I/O, no global state, any thread (one nfs_rm per stream).
 * Where the input and the records live is the caller's (nfs_conn.c
 * hands a large record's buffer over instead of copying it).
 */
#ifndef DUONAS_NFS_RM_H
#define DUONAS_NFS_RM_H

#include <stddef.h>
#include <stdint.h>

#define NFS_RM_LAST	0x80000000u	/* the header's last-fragment bit */

/* The record being assembled: zeroed to start, nfs_rm_reset() to end. */
struct nfs_rm {
	uint8_t		*frag;		/* its earlier fragments (malloc) */
	size_t		 fraglen;	/* their bytes, without headers */
};

enum nfs_rm_step {
	NFS_RM_MORE,	/* no whole fragment at p: *len is how many bytes
			 * from p the input must hold for the next step (4
			 * for a header, 4 + its length for a fragment) */
	NFS_RM_FRAG,	/* a fragment that is not the last: its *len
			 * bytes are appended to rm->frag; the caller
			 * consumes 4 + *len bytes of input */
	NFS_RM_RECORD,	/* the last fragment: *len bytes at p + 4.  The
			 * record is rm->frag, then those: nfs_rm_take()
			 * copies it out, or, with rm->fraglen 0, the
			 * caller may use p + 4 as it is and
			 * nfs_rm_reset(); then consume 4 + *len bytes */
	NFS_RM_TOOBIG	/* the record would be *len bytes, over max: the
			 * stream cannot go on (rm unchanged) */
};

/*
 * The step at p[0..n), the input not consumed yet, for a record of at
 * most max bytes (max < 2^31, the same for every step of a stream: the
 * fragments kept never exceed it).  A record over max is refused as
 * soon as the header of the fragment that makes it so has arrived,
 * before its bytes.  Returns an enum nfs_rm_step.
 */
int	nfs_rm_step(struct nfs_rm *rm, const uint8_t *p, size_t n,
	    size_t max, size_t *len);
/* After NFS_RM_RECORD (last fragment of len bytes at body): write the
 * record, rm->fraglen + len bytes, to dst and reset rm. */
void	nfs_rm_take(struct nfs_rm *rm, const uint8_t *body, size_t len,
	    uint8_t *dst);
/* Forget the fragments kept (free them). */
void	nfs_rm_reset(struct nfs_rm *rm);

#endif

/*
 * nfs_rm.c — ONC RPC record marking: cutting a TCP stream into records
 * (nfs_rm.h).  Each call looks at one fragment header and, once the
 * whole fragment has arrived, either keeps it (not the last) or says a
 * record is complete.  The size limit is checked on the header, so a
 * client announcing a huge record is refused before the server buffers
 * any of it, and the fragments kept never exceed max together.  Buffers
 * for the input and the finished records are the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "export/nfs_rm.h"

int
nfs_rm_step(struct nfs_rm *rm, const uint8_t *p, size_t n, size_t max,
    size_t *len)
{
	uint32_t	mark;
	size_t		flen;

	if (n < 4) {
		*len = 4;
		return NFS_RM_MORE;
	}
	mark = get_be32(p);
	flen = mark & ~NFS_RM_LAST;
	/* rm->fraglen <= max already: no overflow */
	if (flen > max - rm->fraglen) {
		*len = rm->fraglen + flen;
		return NFS_RM_TOOBIG;
	}
	if (n - 4 < flen) {
		*len = 4 + flen;
		return NFS_RM_MORE;
	}
	*len = flen;
	if (mark & NFS_RM_LAST)
		return NFS_RM_RECORD;
	if (flen > 0) {
		rm->frag = xrealloc(rm->frag, rm->fraglen + flen);
		memcpy(rm->frag + rm->fraglen, p + 4, flen);
		rm->fraglen += flen;
	}
	return NFS_RM_FRAG;
}

void
nfs_rm_take(struct nfs_rm *rm, const uint8_t *body, size_t len, uint8_t *dst)
{
	if (rm->fraglen > 0)
		memcpy(dst, rm->frag, rm->fraglen);
	if (len > 0)
		memcpy(dst + rm->fraglen, body, len);
	nfs_rm_reset(rm);
}

void
nfs_rm_reset(struct nfs_rm *rm)
{
	free(rm->frag);
	rm->frag = NULL;
	rm->fraglen = 0;
}

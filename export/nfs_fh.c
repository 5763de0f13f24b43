/*
 * nfs_fh.c — NFS file handles: export id + the kernel's file handle.
 *
 * A handle is [version][kernel handle type][export id, 4 bytes BE]
 * [kernel handle length][kernel handle].  The kernel handle comes from
 * name_to_handle_at(2) and is resolved with open_by_handle_at(2) on the
 * export's directory fd, so it stays valid across daemon restarts and on
 * the other head, which mounts the same file system.  Handles are opaque
 * to clients and every field is checked before use; resolving (and the
 * "is it inside the export" check) lives in nfs3_fs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/util.h"
#include "export/nfs_int.h"

int
nfs_fh_make(uint32_t expid, int dirfd, const char *name, int flags,
    uint8_t *fh, uint32_t *fhlen)
{
	union {
		struct file_handle	h;
		uint8_t			b[sizeof(struct file_handle) + 128];
	} u;
	int	mnt;

	u.h.handle_bytes = 128;
	if (name_to_handle_at(dirfd, name, &u.h, &mnt, flags) < 0)
		return -1;
	if (u.h.handle_bytes > NFS3_FHSIZE - NFS_FH_HDR ||
	    u.h.handle_type < 0 || u.h.handle_type > 255) {
		errno = EOVERFLOW;
		return -1;
	}
	fh[0] = NFS_FH_VERSION;
	fh[1] = (uint8_t)u.h.handle_type;
	put_be32(fh + 2, expid);
	fh[6] = (uint8_t)u.h.handle_bytes;
	memcpy(fh + NFS_FH_HDR, u.h.f_handle, u.h.handle_bytes);
	*fhlen = NFS_FH_HDR + u.h.handle_bytes;
	return (int)*fhlen;
}

int64_t
nfs_fh_expid(const uint8_t *fh, uint32_t fhlen)
{
	if (fh == NULL || fhlen < NFS_FH_HDR + 1 || fhlen > NFS3_FHSIZE)
		return -1;
	if (fh[0] != NFS_FH_VERSION)
		return -1;
	if ((uint32_t)fh[6] + NFS_FH_HDR != fhlen)
		return -1;
	return get_be32(fh + 2);
}

/*
 * fuse_fs_brl.c — the FUSE export layer's lock backend in duonasd: the
 * cluster's replicated lock table (pso/brl.h).  A file of its own so
 * that the stand-alone test tool, which links only the layer, does not
 * pull the PSO code in.
 */
#include "export/fuse_fs.h"

static int
b_lock(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, int flags, struct brl_owner *h,
    struct brl_range *hr)
{
	/* never BRL_F_WAIT: the layer polls (fuse_fs_lock.c) */
	return brl_lock(f, o, r, flags & BRL_F_RECLAIM, NULL, 0, h, hr);
}

const struct fuse_fs_lockops fuse_fs_brl_lockops = {
	.lock	= b_lock,
	.unlock	= brl_unlock,
	.test	= brl_test,
};

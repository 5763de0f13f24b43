/*
 * nfs3_int.h — shared by the NFS v3 procedure files (nfs3.c, nfs3_dir.c)
 * and their file-system helpers (nfs3_fs.c).  Worker threads only.
 */
#ifndef DUONAS_NFS3_INT_H
#define DUONAS_NFS3_INT_H

#include <sys/stat.h>

#include "export/nfs_int.h"

/* One request being executed. */
struct nfs3_ctx {
	struct nfs_req		*r;
	const struct nfs_exptab	*tab;		/* read-locked */
	const struct nfs_export	*e;		/* of the first handle */
	const struct nfs_client	*cl;
	int			 rw;
	int			 drop;		/* send no reply */
	uint32_t		 autherr;	/* refuse: NFS_AUTH_* */
	uint32_t		 uid, gid, ngids;
	uint32_t		 gids[NFS_MAX_GIDS];
};

void	nfs3_creds_root(void);
void	nfs3_creds_user(struct nfs3_ctx *);
int	nfs3_errno(int);
/* Resolve a handle (as root) to an O_PATH fd and its stat; the first
 * handle fixes the export and the caller's identity.  0 or nfsstat3;
 * sets x->drop when the call must get no reply (export not served). */
int	nfs3_fh_open(struct nfs3_ctx *, const nfs_fh3 *, int *fdp,
	    struct stat *);
int	nfs3_make_fh(struct nfs3_ctx *, int fd, nfs_fh3 *);
void	nfs3_fattr(const struct nfs3_ctx *, const struct stat *, fattr3 *);
void	nfs3_post(const struct nfs3_ctx *, int fd, post_op_attr *);
void	nfs3_post_st(const struct nfs3_ctx *, const struct stat *,
	    post_op_attr *);
void	nfs3_wcc(const struct nfs3_ctx *, const struct stat *pre, int fd,
	    wcc_data *);
int	nfs3_name_check(const char *, int creating);
/* Reopen an O_PATH fd for I/O with the caller's rights. -1/errno. */
int	nfs3_reopen(struct nfs3_ctx *, int fd, const struct stat *, int flags);
int	nfs3_sattr(struct nfs3_ctx *, int fd, const struct stat *,
	    const sattr3 *, int skip_mode);

/* nfs3_dir.c */
int	nfs3_readdir(struct nfs3_ctx *, READDIR3args *, READDIR3res *);
int	nfs3_readdirplus(struct nfs3_ctx *, READDIRPLUS3args *,
	    READDIRPLUS3res *);

#endif

/*
 * nfs_nlm_int.h — what the NLM files (nfs_nlm.c: procedures, nfs_nlm_cb.c:
 * callbacks to clients and the RPC client) and NSM (nfs_nsm.c, nfs_udp.c)
 * share.  NLM arguments are decoded by hand from the checked record
 * (nfs_xdr.c bounded every length): libnfs's nlm4_oh is a C string, and
 * an owner handle is opaque bytes.
 */
#ifndef DUONAS_NFS_NLM_INT_H
#define DUONAS_NFS_NLM_INT_H

#include "common/util.h"
#include <nfsc/libnfs-raw-nlm.h>

#include "export/nfs_int.h"
#include "pso/brl.h"

#define NLM_OBJ_MAX	1024	/* netobj and names on the wire */
#define NLM_COOKIE_KEEP	256	/* longest cookie a waiter keeps */

/* A byte string inside the record (not NUL terminated). */
struct nlm_obj {
	const uint8_t	*p;
	uint32_t	 len;
};

struct nlm_lock_a {
	struct nlm_obj	 caller;	/* caller_name */
	struct nlm_obj	 fh;
	struct nlm_obj	 oh;
	uint32_t	 svid;
	uint64_t	 off, len;
};

/* Arguments of every NLM procedure, as far as each has them. */
struct nlm_args {
	struct nlm_obj	 cookie;
	uint32_t	 block, excl, reclaim, state;
	struct nlm_lock_a lock;
	uint32_t	 mode, access;	/* SHARE: fsh4_mode, _access */
	uint32_t	 stat;		/* *_RES */
};

/* The arguments of NLM v4 procedure proc (1-23) from args[0..len), the
 * record past the call header; the objects point into args.  0, or -1
 * when they do not fit (cannot happen after nfs_xdr_args_ok()). */
int	nlm_args_decode(const uint8_t *args, size_t len, uint32_t proc,
	    struct nlm_args *a);

/* XDR pieces (big-endian, 4-byte aligned). */
void	nlm_xdr_obj(struct buf *, const void *, uint32_t len);
int	nlm_rd_obj(struct rd *, struct nlm_obj *, uint32_t max);
/* RPC call header with AUTH_NONE (record marker left to the caller). */
void	nlm_xdr_callhdr(struct buf *, uint32_t xid, uint32_t prog,
	    uint32_t vers, uint32_t proc);
/* nlm4_lock as sent in GRANTED (our name as caller_name). */
void	nlm_xdr_lock(struct buf *, const char *caller, const void *fh,
	    uint32_t fhlen, const struct brl_owner *, const struct brl_range *);

/* ---- nfs_nlm_cb.c ---------------------------------------------------- */
/* The grant callback given to brl_set_grant_cb. */
int	nlm_grant_cb(const struct brl_file *, const struct brl_owner *,
	    const struct brl_range *, const void *blob, size_t bloblen,
	    void *arg);
/* The waiter's blob: what a GRANTED needs.  Returns its length, 0 when
 * it does not fit (a cookie longer than NLM_COOKIE_KEEP). */
size_t	nlm_blob_make(uint8_t *blob, size_t cap,
	    const struct nlm_obj *cookie, int msg,
	    const struct sockaddr *peer, const struct sockaddr *local,
	    const struct nlm_obj *fh);
/* Queue the call (NLM v4 procedure proc, args already encoded) to the
 * client's NLM service, sent by the callback thread (no reply awaited):
 * the _RES of a _MSG call.  Dropped (with a counted log line) when the
 * queue is full. */
void	nlm_cb_queue(const struct sockaddr *peer,
	    const struct sockaddr *local, uint32_t proc, const uint8_t *args,
	    size_t len);
/* A GRANTED_RES from peer: when it refuses the lock we announced with
 * GRANTED_MSG (cookie), the lock is released. */
void	nlm_cb_granted_res(const struct sockaddr *peer,
	    const struct nlm_obj *cookie, uint32_t stat);
int	nlm_cb_start(void);
void	nlm_cb_stop(void);
/* This host's name for caller_name in GRANTED (gethostname). */
extern char	nlm_myname[BRL_CLIENT_MAX];

/* Two addresses without port equal (IPv4 / IPv6). */
int	nlm_addr_eq(const struct sockaddr *, const struct sockaddr *);
/* An address without port as 17 bytes (4 or 6, then 16 address bytes)
 * in stored data; get: 0 or -1 (bad family, too short). */
void	nlm_addr_put(struct buf *, const struct sockaddr *);
int	nlm_addr_get(struct rd *, struct sockaddr_storage *);

/* ---- nfs_nsm_list.c: the monitored list as stored ------------------- */
#define NSM_MAX		4096		/* monitored clients */
#define NSM_NAME_MAX	BRL_CLIENT_MAX

struct nsm_ent {
	char			name[NSM_NAME_MAX];	/* mon_name */
	struct sockaddr_storage	peer;	/* where its statd is */
	struct sockaddr_storage	local;	/* our address it used */
	/* SM_MON's my_id; my_name "" for the clients NLM adds */
	char			my_name[NSM_NAME_MAX];
	uint32_t		my_prog, my_vers, my_proc;
};

/* The arguments of NSM v1 procedure proc from args[0..len), the record
 * past the call header (nfs_xdr.c checked it): STAT's and NOTIFY's
 * e.name (and NOTIFY's state), MON's and UNMON's e.name and my_id,
 * UNMON_ALL's my_id.  0 when they are usable: each name fits e's
 * buffers without a NUL byte, a my_name is not empty, a NOTIFY name is
 * not empty; else -1 (STAT and MON answer "refused" then).  Other
 * procedures: 0, nothing decoded. */
struct nsm_args {
	struct nsm_ent	 e;
	uint32_t	 state;
};
int	nsm_args_decode(const uint8_t *args, size_t len, uint32_t proc,
	    struct nsm_args *a);

void	nsm_list_encode(struct buf *, const struct nsm_ent *, int n);
/* Decode into *vp / *np (malloc'd; NULL and 0 for an empty value).
 * 0, or -1 when malformed (a version, count or name it cannot take). */
int	nsm_list_decode(const void *, size_t, struct nsm_ent **vp, int *np);

#endif

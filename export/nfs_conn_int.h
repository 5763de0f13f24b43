/*
 * nfs_conn_int.h — what nfs_conn.c (connections, their input, their limits)
 * and nfs_rpc.c (calls, replies, the worker threads) share.  Nothing
 * here is for the other files of export/: what nfs_svc.c calls is in
 * nfs_int.h.
 */
#ifndef DUONAS_NFS_CONN_INT_H
#define DUONAS_NFS_CONN_INT_H

#include "export/nfs_int.h"
#include "export/nfs_rm.h"

struct nfs_peer;

/* One client connection (nfs_conn.c makes and frees it); each group of
 * fields says who may touch it. */
struct nfs_conn {
	struct nfs_conn		*next, *prev;	/* conn_mtx */
	int			 fd;
	_Atomic int		 refs;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct sockaddr_storage	 local;		/* the address it reached */
	char			 peertext[64];
	char			 localtext[64];
	struct nfs_peer		*pe;		/* its address; conn_mtx */
	/* set under conn_mtx, read anywhere: closing, and why */
	_Atomic int		 kill;		/* CONN_KILL_* */
	/* written by the holder (and req_done), read by the timer, ms: */
	_Atomic uint64_t	 t_last;	/* last input or answer */
	_Atomic uint64_t	 t_rec;		/* a record started; 0: none */
	_Atomic uint64_t	 t_prog;	/* last input into that record */
	_Atomic size_t		 charged;	/* incap + rm.fraglen, in_bytes */
	/* the worker holding the epoll event only: */
	uint8_t			*in;		/* unparsed input */
	size_t			 inlen, incap;
	struct nfs_rm		 rm;		/* the record's fragments so far */
	/* omtx (read without it by the timer): */
	pthread_mutex_t		 omtx;
	int			 dead;		/* closed: send nothing */
	int			 wfail;		/* a send failed */
	_Atomic int		 inflight;
	_Atomic int		 paused;
};

/* ---- nfs_conn.c, worker threads ------------------------------------ */
/* Free an input buffer: a record (nfs_req.rec) once its call is done.
 * NULL is fine.  Any thread. */
void	nfs_inbuf_free(uint8_t *);
/* Re-arm c's one-shot epoll event: some worker reads it next.  Only
 * the worker holding the event, or req_done() when it unpauses c. */
void	nfs_conn_arm(struct nfs_conn *);
/* Let go of c: the last reference closes its fd and frees it. */
void	nfs_conn_unref(struct nfs_conn *);
/* The worker holding c's epoll event: read c until a record is complete
 * or the socket is empty, and cut what arrived into requests, *rs (in
 * order, each holding a reference to c).  Returns how many (0: no
 * record is complete yet); c stays with the caller, which re-arms it
 * unless too many calls are in flight.  -1: c was closed (end of
 * stream, error, bad input, a limit); do not touch it. */
int	nfs_conn_read(struct nfs_conn *, struct nfs_req **rs);
/* nfs_workers_start(): a new secret for the client address table. */
void	nfs_conn_init(void);
/* nfs_workers_stop(), the workers gone: free every connection and the
 * input buffers kept for reuse. */
void	nfs_conn_fini(void);

/* ---- nfs_rpc.c ------------------------------------------------------ */
/* The workers' epoll set: made by nfs_workers_start(), -1 while no
 * workers run.  nfs_conn.c adds, re-arms and removes connections. */
extern int nfs_epfd;
/* One complete record of c: rec holds 4 bytes of room + len bytes of
 * body.  Takes rec.  Returns the request (holding a reference to c), or
 * NULL when the connection must be closed. */
struct nfs_req *nfs_req_new(struct nfs_conn *c, uint8_t *rec, size_t len);
/* Free r: its record, what nfs_req_alloc() gave it, its sendfile fd;
 * not its reference to r->conn (the caller lets go of that). */
void	nfs_req_free(struct nfs_req *);

#endif

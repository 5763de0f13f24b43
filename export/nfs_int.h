/*
 * nfs_int.h — internals shared by the files of export/: the exports
 * table, connections, requests handed to workers, file handles, the
 * duplicate request cache.  Nothing here is for other modules.
 */
#ifndef DUONAS_NFS_INT_H
#define DUONAS_NFS_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <nfsc/libnfs-raw-portmap.h>

struct buf;
struct cfg;

#define NFS_MAXIO		(1024 * 1024)	/* READ/WRITE payload */
#define NFS_MAXREC		(NFS_MAXIO + 4096) /* what libnfs accepts */
#define NFS_SENDFILE_MIN	(16 * 1024)	/* READs from here on are
						 * sent with sendfile(2) */
#define NFS_MAX_EXPORTS		64
#define NFS_MAX_CLIENTS		32		/* client specs per export */
#define NFS_MAX_LISTEN		16		/* addresses */
#define NFS_NAME_MAX		255
#define NFS_PATH_MAX		4096

#define NFS_PROG_PMAP		100000
#define NFS_PROG_NFS		100003
#define NFS_PROG_MOUNT		100005
#define NFS_PROG_NLM		100021
#define NFS_PROG_NSM		100024

/* ---- exports (nfs_exports.c) ------------------------------------- */

#define NFS_EXP_RW		0x01
#define NFS_EXP_ROOT_SQUASH	0x02
#define NFS_EXP_ALL_SQUASH	0x04
#define NFS_EXP_AUTH_SYS	0x08
#define NFS_EXP_AUTH_NONE	0x10
#define NFS_EXP_SECURE		0x20	/* source port < 1024 */

struct nfs_client {
	char		text[128];	/* as written: "*", host, a.b.c.d/n */
	int		family;		/* 0: any; AF_INET / AF_INET6 */
	uint8_t		addr[16];
	int		prefix;
	int		flags;		/* NFS_EXP_* */
	uint32_t	anonuid;
	uint32_t	anongid;
};

/* The export root's kernel handle: every handle of the export is bound
 * to it by its MAC (nfs_fh.c). */
#define NFS_FH_KMAX		41	/* 64 - header 7 - MAC 16 */
struct nfs_fhroot {
	uint8_t		type;
	uint8_t		len;		/* 0: not known (never opened) */
	uint8_t		kh[NFS_FH_KMAX];
};

struct nfs_export {
	uint32_t	id;
	char		path[PATH_MAX];
	int		line;
	struct nfs_client clients[NFS_MAX_CLIENTS];
	int		nclients;
	/* filled by nfs_export_open() under the table's write lock: */
	int		fd;		/* O_RDONLY|O_DIRECTORY; -1: offline */
	int		detached;	/* nfs_export_detach(): stays offline
					 * across reloads until attached */
	int		mnt_id;	/* mount of the root (name_to_handle_at) */
	dev_t		dev;
	ino_t		ino;
	struct nfs_fhroot root;
	char		realpath[PATH_MAX]; /* the root as the kernel names it */
	size_t		realpathlen;
	uint8_t		rootfh[NFS3_FHSIZE];
	uint32_t	rootfhlen;
};

struct nfs_exptab {
	struct nfs_export	*v;
	int			 n;
};

/* Parse exports text (pure: no filesystem access).  Returns 0, or -1
 * with "FILE:LINE: problem" in err. */
int	nfs_exports_parse(const char *text, size_t len, const char *file,
	    struct nfs_exptab *, char *err, size_t errlen);
/* Read and parse path (opens no export).  0 or -1 with err. */
int	nfs_exports_load(const char *path, struct nfs_exptab *, char *err,
	    size_t errlen);
/* Open the export's directory (fd, dev/ino, root handle); on failure
 * the export stays offline (fd -1).  0 or -1 with err. */
int	nfs_export_open(struct nfs_export *, char *err, size_t errlen);
void	nfs_export_close(struct nfs_export *);
void	nfs_exports_free(struct nfs_exptab *);
/* First client spec of e matching the address, or NULL. */
const struct nfs_client *nfs_export_client(const struct nfs_export *,
	    const struct sockaddr *);
/* Options of a client spec as text ("rw,root_squash,..."). */
void	nfs_client_opts(const struct nfs_client *, char *, size_t);

/* ---- file handles (nfs_fh.c) ---------------------------------------
 * Layout: [0] version (2) [1] kernel handle type [2..5] export id (BE)
 * [6] kernel handle length n [7..7+n) kernel handle [7+n..7+n+16) MAC
 * (HMAC-SHA256 over the bytes before it and the export root's kernel
 * handle, keyed from the cluster key).  Total 23+n <= 64. */
#define NFS_FH_VERSION		2
#define NFS_FH_HDR		7
#define NFS_FH_MACLEN		16
#define NFS_FH_OLD		(-2)	/* nfs_fh_expid: a version 1 handle */

/* Derive the handle key from the cluster key; any thread, also while
 * serving (handles made with the old key stop verifying).  0 or -1. */
int	nfs_fh_key_set(const uint8_t *key, size_t keylen);
/* The kernel handle of (dirfd, name) (flags: AT_EMPTY_PATH...) and the
 * id of the mount it is on.  0 or -1 with errno (EOVERFLOW: longer than
 * NFS_FH_KMAX). */
int	nfs_fh_kernel(int dirfd, const char *name, int flags, int *type,
	    uint8_t *kh, uint32_t *khlen, int *mnt);
/* Seal a kernel handle into an NFS handle of export expid bound to
 * root.  Returns the length or -1 with errno (ENOKEY: no key set). */
int	nfs_fh_encode(uint32_t expid, const struct nfs_fhroot *root,
	    int type, const uint8_t *kh, uint32_t khlen, uint8_t *fh,
	    uint32_t *fhlen);
/* Build a handle of export e for (dirfd, name), or (fd, "") with
 * AT_EMPTY_PATH; returns length or -1 with errno (EXDEV: the object is
 * on another mount than the export's root). */
int	nfs_fh_make(const struct nfs_export *e, int dirfd, const char *name,
	    int flags, uint8_t *fh, uint32_t *fhlen);
/* Check length, version and the lengths inside; returns the export id,
 * -1 when the handle is malformed, NFS_FH_OLD for a version 1 handle.
 * Says nothing about the MAC. */
int64_t	nfs_fh_expid(const uint8_t *fh, uint32_t fhlen);
/* 1 when the MAC of a well-formed handle (nfs_fh_expid() >= 0) is right
 * for export e (constant time), else 0. */
int	nfs_fh_verify(const struct nfs_export *e, const uint8_t *fh,
	    uint32_t fhlen);

/* ---- credentials ---------------------------------------------------- */
#define NFS_MAX_GIDS		16
struct nfs_cred {
	uint32_t	flavor;		/* AUTH_NONE / AUTH_SYS */
	uint32_t	uid, gid;
	uint32_t	ngids;
	uint32_t	gids[NFS_MAX_GIDS];
};

/* ---- connections (nfs_conn.c) and requests (nfs_rpc.c) -------------- */
struct nfs_conn;

struct nfs_req {
	struct nfs_req	*next;		/* worker queue */
	struct nfs_conn	*conn;
	uint32_t	 xid, prog, vers, proc;
	struct sockaddr_storage peer;
	socklen_t	 peerlen;
	struct sockaddr_storage local;	/* the address it reached */
	struct nfs_cred	 cred;
	uint8_t		*rec;		/* the whole record (owned) */
	size_t		 reclen;
	size_t		 argoff;	/* arguments start here */
	uint64_t	 t0;		/* now_us() at receipt */
	int		 drc;		/* DRC entry to fill, or -1 */
	int		 drop;		/* worker: send no reply at all */
	uint32_t	 autherr;	/* worker: refuse with this auth_stat */
	int		 sendfd;	/* READ: send the data from this file */
	uint64_t	 sendoff;	/* (sendfile), at this offset; -1: no */
	int		 args_ok;	/* nfs_xdr_args_ok(): NFS_ARGS_* */
	uint8_t		*out;		/* encoded reply waiting for the
					 * peer's DRC acknowledgement */
	size_t		 outlen;

	/* result, filled by the worker */
	void		*res;		/* points into resbuf or allocated */
	zdrproc_t	 encfn;
	size_t		 hint;		/* reply size beyond the header */
	int		 status;	/* nfsstat3 for the statistics */
	void		*allocs;	/* freed with the request */
	uint64_t	 resbuf[64];	/* room for any *3res struct */
};

/* Memory freed with the request. */
void	*nfs_req_alloc(struct nfs_req *, size_t);

/* ---- NFS v3 procedures (nfs3*.c), worker threads -------------------- */
/* Run req->proc; fills req->res/encfn/hint/status.  Never fails. */
void	nfs3_run(struct nfs_req *);
/* True for procedures whose retransmission must not be re-executed. */
int	nfs3_proc_nonidempotent(uint32_t proc);
const char *nfs3_proc_name(uint32_t proc);
/* Handles refused for a bad MAC, an old version or a failed subtree
 * check since the start. */
uint64_t nfs3_badfh_count(void);
#define NFS3_NPROC	22

/* Worker-side state (nfs3_fs.c), set by nfs_svc.c at start. */
extern uint8_t	nfs_write_verf[8];	/* random per daemon start */

/* Exports table access from any thread: read-lock around use. */
const struct nfs_exptab *nfs_exptab_rdlock(void);
void	nfs_exptab_unlock(void);
const struct nfs_export *nfs_export_find(const struct nfs_exptab *,
	    uint32_t id);
int	nfs_export_enabled(uint32_t id);
/* Any thread, caller holds the read lock: the HA gate (nfs_set_gate)
 * for export id; 1 when no gate is set.  0: drop the call. */
int	nfs_export_gate(uint32_t id);
/* Worker, read lock held: report a data-path write error (nfs_set_ioerr). */
void	nfs_export_ioerr(uint32_t id, int fd, int err, const char *what);

/* ---- MOUNT (nfs_mnt.c), worker threads ------------------------------ */
/* Run MOUNT v3 procedure r->proc (< 6, arguments checked) and reply
 * with nfs_req_reply(), or not at all (call dropped). */
void	nfs_mnt_call(struct nfs_req *);
void	nfs_mnt_forget(void);
int	nfs_mnt_count(void);
void	nfs_mnt_list_text(struct buf *, uint32_t expid);
void	nfs_mnt_list_json(struct buf *, uint32_t expid, const char *path);

/* ---- NLM v4 and NSM v1 (nfs_nlm*.c, nfs_nsm.c) ------------------------
 * Served only when nfs_set_locking(1) ran before nfs_init() (duonasd; not
 * the stand-alone test server, which has no lock table). */
extern int	nfs_locking;
#define NLM4_NPROC	24	/* 16..19 are not in version 4 */
#define NSM1_NPROC	7
/* Worker threads: run NLM v4 / NSM v1 call r (version and procedure
 * number checked, arguments checked by nfs_xdr.c) and reply, or not. */
void	nfs_nlm_call(struct nfs_req *);
void	nfs_nsm_call(struct nfs_req *);
/* Loop thread, from nfs_init()/nfs_shutdown(). */
int	nfs_nlm_init(const struct cfg *);
void	nfs_nlm_shutdown(void);
int	nfs_nsm_init(const struct cfg *);
void	nfs_nsm_shutdown(void);
/* Any thread but the loop thread: client name (NLM caller_name) got a
 * lock through the address local of this head: make sure it is in the
 * persistent monitored list (one PSO write the first time only). */
void	nfs_nsm_monitor(const char *name, const struct sockaddr *peer,
	    const struct sockaddr *local);
/* SM_NOTIFY from mon_name (it rebooted): free its locks.  Any thread
 * but the loop thread.  Also the UDP listener's.  0, or -1 when the lock
 * table could not (send no reply: the client sends it again). */
int	nfs_nsm_notify(const char *mon_name, uint32_t state,
	    const struct sockaddr *peer);
/* Our NSM state number (odd while up); _cached: as last read, without
 * asking PSO (any thread, also the loop thread). */
uint32_t nfs_nsm_state(void);
uint32_t nfs_nsm_state_cached(void);
/* For the status (any thread): monitored is -1 until the list was read. */
void	nfs_nsm_stats(uint32_t *state, int *monitored, uint64_t *freed,
	    uint64_t *notified);
/* Callback port of clients' portmappers (nlm { callback-portmap-port }). */
extern int	nfs_nlm_cb_pmap_port;
/* One synchronous ONC RPC call, bounded by timeout_ms in all: over
 * prot (IPPROTO_TCP: record marking; IPPROTO_UDP: one datagram, sent
 * again every 500 ms) to (peer address, port), from local's address
 * (NULL: any) and a reserved port when one is free, with AUTH_NONE.  0
 * with the result body in *res (malloc'd, *reslen bytes; res may be
 * NULL) when the call was accepted with SUCCESS; -1 otherwise.  noreply
 * (TCP only): do not wait for a reply (0 once sent). */
int	nfs_rpc_call(const struct sockaddr *peer, uint16_t port,
	    const struct sockaddr *local, int prot, uint32_t prog,
	    uint32_t vers, uint32_t proc, const void *args, size_t arglen,
	    int timeout_ms, int noreply, uint8_t **res, size_t *reslen);
/* The client's port of (prog, vers, prot) from its portmapper at
 * nfs_nlm_cb_pmap_port, asked over prot; 0 when unknown. */
uint16_t nfs_rpc_getport(const struct sockaddr *peer,
	    const struct sockaddr *local, uint32_t prog, uint32_t vers,
	    int prot, int timeout_ms);

/* ---- the UDP listener (nfs_udp.c): portmapper and NSM over UDP ------ */
int	nfs_udp_start(void);
void	nfs_udp_stop(void);
/* Loop thread: open/close the UDP sockets of addr on the portmap port
 * and on port (NSM).  0 or -1. */
int	nfs_udp_add(const char *addr, int pmap_port, int nsm_port);
void	nfs_udp_remove(const char *addr);
/* Datagrams answered, malformed ones (any thread). */
void	nfs_udp_stats(uint64_t *calls, uint64_t *bad);

/* ---- replies (nfs_rpc.c), any thread -------------------------------- */
/* The duplicate request cache around a non-idempotent call of r
 * (program r->prog): 1 when it was answered from the cache or must be
 * dropped (in progress); 0 with *slot (-1: no entry) when it is new.
 * When prior (non-NULL), a DONE entry's body is handed to the caller
 * instead of being sent (*prior malloc'd, *priorlen): NLM _MSG calls keep
 * their _RES callback arguments there. */
int	nfs_req_drc_begin(struct nfs_req *, int *slot, uint8_t **prior,
	    size_t *priorlen);
/* Reply res (enc; NULL: empty body) to r and, when slot >= 0, complete
 * the cache entry with the reply body (or with keep/keeplen instead,
 * when keep is not NULL).  The entry is sent to the peer head, but the
 * reply does not wait for its acknowledgement (used by NLM, whose
 * changes the lock table replicates itself). */
void	nfs_req_reply_drc(struct nfs_req *, int slot, void *res,
	    zdrproc_t enc, size_t hint, const void *keep, size_t keeplen);

/* Encode res with enc (NULL: empty body; hint: body size estimate) as a
 * SUCCESS reply to r and send it on r's connection. */
void	nfs_req_reply(struct nfs_req *, void *res, zdrproc_t enc,
	    size_t hint);
/* Reply GARBAGE_ARGS. */
void	nfs_req_garbage(struct nfs_req *);
/* Refuse r at the RPC level: MSG_DENIED, AUTH_ERROR, why (auth_stat). */
#define NFS_AUTH_BADCRED	1	/* credential malformed or of an
					 * unknown flavor */
#define NFS_AUTH_TOOWEAK	5	/* flavor not allowed by the export,
					 * or "secure" and a port >= 1024 */
void	nfs_req_autherr(struct nfs_req *, uint32_t why);
/* Text address (IPv4 or IPv6, no port) + port -> socket address: 0,
 * or -1 when it is not an IP address.  Any thread. */
int	nfs_addr_parse(const char *addr, int port,
	    struct sockaddr_storage *, socklen_t *);
/* Text of an address without port. */
void	nfs_addr_text(const struct sockaddr *, char *, size_t);

/* ---- duplicate request cache (nfs_drc.c), any thread ---------------- */
enum nfs_drc_state { NFS_DRC_NEW, NFS_DRC_INPROGRESS, NFS_DRC_DONE };
/* Look up (peer address, xid, prog, vers, proc).  NEW: an entry was
 * created (*slot set) and the call must be executed; INPROGRESS: drop
 * the retransmission; DONE: *reply (malloc'd, caller frees) and *len
 * hold the body of the original reply. */
enum nfs_drc_state nfs_drc_lookup(const struct sockaddr *, uint32_t xid,
	    uint32_t prog, uint32_t vers, uint32_t proc, int *slot,
	    uint8_t **reply, size_t *len);
/* The call's reply body: the entry is DONE.  Returns once the peer head
 * has the entry too (nfs_drc_repl.c; at most about 2 s, at once while
 * the peer is dead or the link down): send the reply after it.  The
 * NFS v3 path parks its reply instead (nfs_drc_complete_async,
 * export/nfs_drc.h). */
void	nfs_drc_complete(int slot, uint32_t xid, const uint8_t *reply,
	    size_t len);
void	nfs_drc_abort(int slot, uint32_t xid);
void	nfs_drc_clear(void);
void	nfs_drc_stats(uint64_t *hits, uint64_t *entries);

/* ---- validation of a call before libnfs decodes it (nfs_xdr.c) ------ */
struct nfs_callhdr {
	uint32_t	xid, rpcvers, prog, vers, proc;
	uint32_t	cred_flavor;
	const uint8_t	*cred;
	uint32_t	cred_len;
	size_t		argoff;		/* from the start of the record body */
};
/* Parse the call header of a record body (no record marker).  0 or -1
 * when the header itself is malformed (not a call, lengths too big). */
int	nfs_xdr_callhdr(const uint8_t *, size_t, struct nfs_callhdr *);
/* Check that the arguments of (prog, vers, proc) fit in the body with
 * every length within bounds.  NFS_ARGS_OK: fine or unknown procedure;
 * NFS_ARGS_GARBAGE: bad (GARBAGE_ARGS); NFS_ARGS_NUL: well formed, but
 * a name or path holds a NUL byte (the procedure answers INVAL). */
#define NFS_ARGS_GARBAGE	0
#define NFS_ARGS_OK		1
#define NFS_ARGS_NUL		2
int	nfs_xdr_args_ok(const struct nfs_callhdr *, const uint8_t *, size_t);
/* Parse an AUTH_SYS / AUTH_NONE credential.  0 or -1. */
int	nfs_xdr_cred(const struct nfs_callhdr *, struct nfs_cred *);

/* ---- service glue (nfs_svc.c <-> nfs_conn.c, nfs_rpc.c), loop thread -- */
/* Take an accepted socket: refused (closed) when its address already has
 * max_client connections; at max_conns the most stalled connection of
 * the address holding the most is evicted to make room. */
void	nfs_conn_accept(int fd, const struct sockaddr *, socklen_t);
/* Shut down the connections whose local address is addr (NULL: all);
 * the workers close them. */
void	nfs_conn_close_local(const struct sockaddr *);
int	nfs_conn_count(void);
int	nfs_conn_clients(void);
#define NFS_WORKERS_MAX	256	/* nfs { threads } range */
int	nfs_workers_start(int);
/* Start workers until there are n (live: nfs { threads } raised);
 * returns how many there are now, or -1. */
int	nfs_workers_grow(int n);
void	nfs_workers_stop(void);

/* Limits on connections and their input (duonas.conf nfs { }); set
 * before nfs_workers_start(). */
struct nfs_conn_limits {
	int		max_conns;	/* total: min(config, descriptors) */
	int		max_client;	/* per client address */
	uint64_t	idle_ms;	/* no input, no call in flight; 0: never */
	uint64_t	record_ms;	/* a started record without progress;
					 * 4x: its hard cap */
	size_t		budget;		/* bytes in partially received records,
					 * all connections together */
};
void	nfs_conn_limits_set(const struct nfs_conn_limits *);
/* Every second: shut down connections idle or stalled in a record for
 * too long (their worker closes them). */
void	nfs_conn_timer(void);
/* Out of descriptors: evict one connection as at max_conns.  1 if one
 * was evicted. */
int	nfs_conn_shed(void);
struct nfs_conn_stats {
	int		conns, peak;
	uint64_t	rejected;	/* at max_client */
	uint64_t	evicted;	/* at max_conns or out of descriptors */
	uint64_t	idle;		/* idle timeouts */
	uint64_t	record;		/* record timeouts */
	uint64_t	budget;		/* closed for the input budget */
	int64_t		buffered;	/* bytes charged to the budget now */
	struct nfs_conn_limits lim;
};
/* Any thread. */
void	nfs_conn_stats(struct nfs_conn_stats *);
/* Port of (prog, vers, protocol) for the portmapper; 0: not served. */
uint32_t nfs_svc_port(uint32_t prog, uint32_t vers, uint32_t prot);
/* Statistics: one finished call (status nfsstat3, latency), garbage. */
void	nfs_svc_count(uint32_t proc, int status, uint64_t us);
void	nfs_svc_count_garbage(void);
void	nfs_svc_count_drop(void);
void	nfs_svc_count_autherr(void);
void	nfs_svc_count_nlm(uint32_t proc);
/* Payload bytes of one successful READ (write 0) or WRITE (write 1). */
void	nfs_svc_count_bytes(int write, uint64_t n);
/* The portmapper's list: up to max (prog, vers, prot, port) served. */
int	nfs_svc_maps(uint32_t (*maps)[4], int max);

#endif

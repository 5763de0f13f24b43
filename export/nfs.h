/*
 * nfs.h — the NFSv3 file service inside duonasd (portmapper v2, MOUNT v3,
 * NFS v3 over TCP), as seen by the rest of the daemon.
 *
 * Threading: every function here runs on the loop thread (common/loop.h)
 * unless its comment says otherwise.  The service itself reads, runs
 * and answers calls on its own worker threads.
 *
 * HA: an export lives under a LUN's data root.  When the LUN is not
 * mounted on this head the export is "offline": it stays in the table,
 * MOUNT answers MNT3ERR_ACCES and every NFS call on its handles is
 * DROPPED without a reply (also for a disabled export, and when the gate
 * says no): an NFS client retransmits, and after a failover it does so
 * to the head that now holds the service IP; an error reply (STALE) would
 * instead be final for the client's applications.
 */
#ifndef DUONAS_NFS_H
#define DUONAS_NFS_H

#include <stdint.h>

struct cfg;
struct buf;

/*
 * Start the service for head cfg->heads[self_idx]: read cfg->exports
 * (syntax errors name the line and fail; an export whose directory
 * cannot be opened stays offline, with a warning), start
 * cfg->nfs_threads workers and listen on cfg->nfs_port, cfg->mount_port
 * and cfg->portmap_port (0: no portmapper) of:
 *   - the head's nfs-bind addresses, if set;
 *   - nothing, if the head has service IPs (cfg_head.nvips > 0): the HA
 *     controller calls nfs_listen_add/remove as it takes and releases
 *     each service IP;
 *   - else 127.0.0.1.
 * The connection limits of the nfs { } block apply from now on
 * (max-connections, max-connections-per-client, record-timeout and
 * input-budget of 0 mean the default, idle-timeout 0 means never), and
 * the process's soft RLIMIT_NOFILE is raised to its hard limit.
 * cfg is copied.  Returns 0, or -1 after logging the problem.
 */
int	nfs_init(const struct cfg *cfg, int self_idx);
/*
 * Serve NLM v4 and NSM v1 (file locks, on the cluster lock table brl.h,
 * and the monitored-client list in PSO) from the next nfs_init() on:
 * duonasd does, after brl_init(); the stand-alone test server has no lock
 * table and answers PROG_UNAVAIL.  Also opens the UDP portmapper / NSM
 * sockets of every listened address (nfs_udp.c).
 */
void	nfs_set_locking(int on);
/* Close listeners and connections, stop workers.  Safe if never started. */
void	nfs_shutdown(void);

/*
 * Re-read the exports file; keeps the old table on a syntax error (-1).
 * An export still listed with the same id and path keeps its state (its
 * open directory, or "detached"); new ones, and old ones that were
 * offline without a detach, are opened now (offline if that fails).
 * 0 or -1.
 */
int	nfs_exports_reload(void);
/*
 * nfs { threads } of a new configuration: more workers start at once;
 * fewer take effect when the daemon restarts (a worker may be in the
 * middle of a call).  Returns 0 applied, 1 needs a restart.  Loop
 * thread.
 */
int	nfs_set_threads(int n);

/*
 * Failover hooks.  nfs_export_enable(id, 0) makes every mount of export
 * id answer MNT3ERR_ACCES and drops every NFS call on its handles until
 * it is enabled again (the peer serves it); 0, or -1 if there is no such
 * export.
 */
int	nfs_export_enable(uint32_t id, int on);

/*
 * Any thread.  Open export id now (after the controller mounted its
 * LUN): (re)opens its directory, so an export opened before the mount
 * (on the empty mount point) is fixed too.  0, or -1 with a log line if
 * there is no such export or its path still cannot be opened (then it
 * keeps its previous state).
 */
int	nfs_export_attach(uint32_t id);
/*
 * Any thread, blocking.  Close export id's directory so the controller
 * can unmount the LUN.  Waits for every NFS call in flight (workers hold
 * the exports read lock for the whole of a call, this takes the write
 * lock), so no call uses a closed descriptor; later calls are dropped.
 * The export stays offline, also across nfs_exports_reload(), until
 * nfs_export_attach().  Set the gate to 0 for it first, so that calls
 * already queued are dropped rather than run.  Unknown id: a log line.
 */
void	nfs_export_detach(uint32_t id);

/*
 * Any thread.  The fencing hook: gate(export_id, arg) is called by the
 * NFS worker threads right before they execute any NFS v3 call (all but
 * NULL) on that export, and before a MOUNT MNT of it (also a worker);
 * 0 drops the call without a reply.  It runs under the exports read lock
 * (so after nfs_export_detach() returns no call is still running on the
 * export), must be cheap, thread-safe and must not call this module.
 * NULL removes the gate (every export passes).  Waits for calls in
 * flight, like detach.
 */
void	nfs_set_gate(int (*gate)(uint32_t export_id, void *arg), void *arg);

/*
 * Any thread.  fn is told at once when a WRITE or COMMIT on export id
 * fails with EIO, before the error is answered (fd: the file it failed
 * on, what: "NFS WRITE" or "NFS COMMIT"): the HA controller shuts the
 * LUN's gate (a page whose writeback failed cannot be trusted any more).
 * It runs under the exports read lock like the gate and must not block
 * or call this module.  NULL removes it.
 */
void	nfs_set_ioerr(void (*fn)(uint32_t export_id, int fd, int err,
	    const char *what, void *arg), void *arg);

/*
 * Any thread.  Call cb once per export, in file order, with its id, path,
 * online (its directory is open) and enabled (nfs_export_enable) state.
 * cb runs under the exports read lock: it must not call attach, detach,
 * set_gate, enable or reload.  Returns the number of exports.
 */
int	nfs_export_foreach(void (*cb)(uint32_t id, const char *path,
	    int online, int enabled, void *arg), void *arg);

/*
 * Open or close the listeners of one address (text, IPv4 or IPv6, no
 * port) on all three ports (IP_FREEBIND: the address may come later).
 * Adding an address already listened on is a no-op success.  Removing
 * closes the listeners and every client connection accepted on that
 * address (clients reconnect to whichever head has the IP next); -1 if
 * the address was not listened on.  0 or -1 with a log line.
 */
int	nfs_listen_add(const char *addr);
int	nfs_listen_remove(const char *addr);

/*
 * Report client TCP connections (all three ports) as they are accepted
 * (up 1) and closed (up 0), with the local address the client reached
 * and the client's: the HA controller's list for tickle ACKs.  Each
 * accepted connection is reported closed exactly once.  fn runs on the
 * loop thread or a worker, with the connection table's lock held: it
 * must be cheap, thread-safe and must not call this module.  Any
 * thread; set it before nfs_init() so that no connection is missed.
 * NULL: no reports.
 */
struct sockaddr;
void	nfs_set_conn_hook(void (*fn)(int up, const struct sockaddr *local,
	    const struct sockaddr *remote, void *arg), void *arg);

/* For `duonas status` and `duonas exports`: append text (lines ending
 * in '\n') or one JSON object to the buffer. */
void	nfs_status_text(struct buf *);
void	nfs_status_json(struct buf *);
void	nfs_exports_text(struct buf *);

/* NFSv3 counters for the metrics page, any thread.  Latency buckets
 * (upper bounds in microseconds, not cumulative counts) per procedure:
 * nfs_proc_stats fills s for procedure proc (its name in *name), -1 past
 * the last one; nfs_io_stats: payload bytes of successful READ/WRITE
 * calls, open connections and connections accepted. */
#define NFS_LAT_NBUCKETS	12
extern const uint64_t nfs_lat_bound_us[NFS_LAT_NBUCKETS];
struct nfs_proc_stats {
	uint64_t	count, errors, sum_us;
	uint64_t	bucket[NFS_LAT_NBUCKETS + 1];	/* last: +Inf */
};
int	nfs_proc_stats(uint32_t proc, struct nfs_proc_stats *s,
	    const char **name);
void	nfs_io_stats(uint64_t *read_bytes, uint64_t *written_bytes,
	    int *conns);
void	nfs_exports_json(struct buf *);

/*
 * Any thread.  Test-only fault switch (`duonas health fault nfs-worker`):
 * while on, the next worker to start a call stops there (outside every
 * lock) until it is turned off, so the health monitor sees a stuck
 * worker.  Off: that worker runs the call and goes on.
 */
void	nfs_test_stuck(int on);

#endif

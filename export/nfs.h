/*
 * nfs.h — the NFSv3 file service inside duonasd (portmapper v2, MOUNT v3,
 * NFS v3 over TCP), as seen by the rest of the daemon.
 *
 * Threading: every function here runs on the loop thread (common/loop.h).
 * The service itself hands filesystem work to its own worker threads and
 * sends replies from the loop thread.
 */
#ifndef DUONAS_NFS_H
#define DUONAS_NFS_H

#include <stdint.h>

struct cfg;
struct buf;

/*
 * Start the service for head cfg->heads[self_idx]: read cfg->exports
 * (errors name the line), start cfg->nfs_threads workers and listen on
 * the head's nfs-bind addresses, else its service IPs (IP_FREEBIND, so
 * they may be absent yet), else 127.0.0.1, on cfg->nfs_port,
 * cfg->mount_port and cfg->portmap_port (0: no portmapper).
 * cfg is copied.  Returns 0, or -1 after logging the problem.
 */
int	nfs_init(const struct cfg *cfg, int self_idx);
/* Close listeners and connections, stop workers.  Safe if never started. */
void	nfs_shutdown(void);

/* Re-read the exports file; keeps the old table on error.  0 or -1. */
int	nfs_exports_reload(void);

/*
 * Failover hooks.  nfs_export_enable(id, 0) makes every handle and mount
 * of export id answer STALE/ACCES until it is enabled again (the peer
 * serves it); returns 0, or -1 if there is no such export.
 * nfs_listen_add/remove open or close listeners for one address (text,
 * IPv4 or IPv6, no port) on all three ports; 0 or -1 with a log line.
 */
int	nfs_export_enable(uint32_t id, int on);
int	nfs_listen_add(const char *addr);
int	nfs_listen_remove(const char *addr);

/* For `duonas status` and `duonas exports`: append text (lines ending
 * in '\n') or one JSON object to the buffer. */
void	nfs_status_text(struct buf *);
void	nfs_status_json(struct buf *);
void	nfs_exports_text(struct buf *);
void	nfs_exports_json(struct buf *);

#endif

/*
 * ctcm.h — configuration transactions: the one versioned cluster
 * configuration (duonas.conf + exports, more files later), changed only by
 * master transactions, replicated to the LUNs' private extents and the
 * peer, validated and restored at power-up (docs/ctcm.md).
 *
 * Return codes: 0 ok, >0 errno value, <0 a CTCM_E_* code; ctcm_strerror()
 * names every one (and pool/PEXT codes, which it passes through).
 * Threading: ctcm_boot() runs before the loop exists; ctcm_init(),
 * ctcm_on_install() and the status calls on the loop thread; admin
 * handlers registered by ctcm_ctl_register() run on ctl worker threads.
 */
#ifndef DUONAS_CTCM_H
#define DUONAS_CTCM_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"

/* Codes, reserved range -31000 .. -31099. */
#define CTCM_E_SHORT	(-31000)	/* bundle/image truncated */
#define CTCM_E_MAGIC	(-31001)	/* not a ctcm bundle */
#define CTCM_E_CRC	(-31002)	/* checksum mismatch: corrupt */
#define CTCM_E_VERSION	(-31003)	/* unknown format version */
#define CTCM_E_FORMAT	(-31004)	/* malformed fields */
#define CTCM_E_NOTMASTER (-31005)	/* only the master commits */
#define CTCM_E_NOMAJORITY (-31006)	/* too few replicas written */
#define CTCM_E_INVALID	(-31007)	/* new configuration rejected */
#define CTCM_E_NOTFOUND	(-31008)	/* no such generation */
#define CTCM_E_STALE	(-31009)	/* generation not newer */
#define CTCM_E_MONITOR	(-31010)	/* no valid configuration */
#define CTCM_E_NOREPLICA (-31011)	/* LUN holds no valid replica */
#define CTCM_E_DEPOSED	(-31012)	/* lost the mastership mid-commit */
#define CTCM_E_NOREAD	(-31013)	/* no majority of replicas read */

enum ctcm_boot_rc {
	CTCM_BOOT_OK = 0,	/* local copy is current: go on */
	CTCM_BOOT_RESTORED = 1,	/* local files rewritten: restart init */
	CTCM_BOOT_MONITOR = 2,	/* nothing valid: link + admin only */
	CTCM_BOOT_ERROR = 3,	/* cannot even check (why says) */
	CTCM_BOOT_INVALID = 4,	/* first start: the installed files are not
				 * a valid configuration, nothing stored */
};

/*
 * Power-up validation, before link/HA/PSO start (no loop needed).
 * conf_path is the duonas.conf the daemon was started with; cfg its parse
 * (self_idx = this head).  Reads the local database and every LUN's
 * replica and resolves as in docs/ctcm.md ("Power-up validation"); on
 * RESTORED the files at their normal paths hold the restored generation
 * and the caller must re-read them (simplest: ctcm_reexec()).  why gets
 * a one-line reason for anything but OK (and a summary for OK).
 */
int	ctcm_boot(const char *conf_path, const struct cfg *cfg, int self_idx,
	    char *why, size_t whylen);

/*
 * duonas.conf at conf_path does not parse: parse the bootstrap copy of
 * the last installed one (<conf_path>.committed) into *out instead, so
 * that ctcm_boot() can find the state directory and the LUNs and then
 * restore conf_path like any other corrupt local file.  0 with a line
 * for the log in why, or -1 with the reason (no usable copy) in why.
 * Before the loop exists; out->file names the copy.
 */
int	ctcm_boot_conf(const char *conf_path, struct cfg *out, char *why,
	    size_t whylen);

/*
 * Start the runtime part on the loop thread, after link_init() and
 * pso_init() (in MONITOR: after link_init() only, pso may be absent):
 * registers the peer-link handlers (types 64..79), the HA opmode
 * callback (epoch claim and array repair when becoming master) and
 * starts the sync worker thread (retried installs, replica repair, peer
 * catch-up, MONITOR polling).  cfg is copied.  0 or -1 (logged).
 */
int	ctcm_init(const struct cfg *cfg, int self_idx);
void	ctcm_shutdown(void);

/*
 * A new generation was installed on this head (local commit, push from
 * the master, catch-up): cb(gen, newcfg, arg) on the loop thread, in
 * registration order.  newcfg is the parsed new duonas.conf, valid only
 * during the call.  Wire nfs_exports_reload() and the service-IP code
 * here.
 */
typedef void (*ctcm_install_cb)(uint64_t gen, const struct cfg *newcfg,
    void *arg);
void	ctcm_on_install(ctcm_install_cb cb, void *arg);
/* The one-line summary of generation gen if it is the current one, else
 * "" (for event hooks); written to out (len bytes), which is returned. */
const char *ctcm_summary(uint64_t gen, char *out, size_t len);

/*
 * Extra validation of a proposed configuration, on the admin worker
 * thread before anything is written (e.g. the NFS exports parser).
 * Return 0, or -1 with a message naming the problem in err.
 */
typedef int (*ctcm_validate_cb)(const struct cfg *newcfg,
    const char *exports, size_t exportslen, char *err, size_t errlen,
    void *arg);
void	ctcm_validator_register(ctcm_validate_cb cb, void *arg);

/* Admin commands (export/ip/lun/config ...): call before ctl_init(). */
void	ctcm_ctl_register(void);

/* Replica count (default 3) and history kept on the array (default 8);
 * call before ctcm_boot().  Out-of-range values are clamped. */
void	ctcm_set_tunables(int replicas, int history);

/* 1 while this head has no valid configuration (MONITOR). */
int	ctcm_monitor(void);
/* For `duonas status`: text lines, or JSON members starting with a
 * comma (",\"config\":{...}").  Loop thread. */
void	ctcm_status_text(struct buf *);
/* The generation installed on this head (what it runs; 0 in MONITOR):
 * the heartbeat carries it for the HA INIT exchange.  Any thread. */
uint64_t ctcm_generation(void);
void	ctcm_status_json(struct buf *);
/* Counters for the metrics page, any thread: the committed generation
 * this head knows, commits and aborts it ran, replica images written. */
struct ctcm_counters {
	uint64_t	generation, installed, commits, aborts, push_failures;
	uint64_t	replica_writes;
};
void	ctcm_counters_get(struct ctcm_counters *);

/* Re-execute the daemon with its original arguments (/proc/self). Does
 * not return on success; returns -1 (logged) if exec fails. */
int	ctcm_reexec(void);

const char *ctcm_strerror(int rc);

#endif

/*
 * cfg.h — duonas.conf: the cluster configuration both heads share.
 *
 * The file names the cluster, its key, the two heads (id, configured
 * role, peer-link addresses, service IPs), the pool's LUNs and tunables.
 * Which head *this* process is comes from outside the file (duonasd -n),
 * because the same file is replicated to both heads.
 * Grammar and every keyword: man/duonas.conf.5.
 */
#ifndef DUONAS_CFG_H
#define DUONAS_CFG_H

#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CFG_NAME_MAX		32
#define CFG_MAX_LINKS		4
#define CFG_MAX_VIPS		16
#define CFG_MAX_LUNS		64
#define CFG_PATH_MAX		256

enum cfg_role { CFG_ROLE_MASTER = 1, CFG_ROLE_SLAVE = 2 };

struct cfg_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[96];	/* as written, with port */
};

struct cfg_vip {
	char		addr[64];	/* address without prefix */
	int		family;		/* AF_INET or AF_INET6 */
	int		prefix;
	char		dev[32];	/* interface name */
};

struct cfg_head {
	char		name[CFG_NAME_MAX];
	uint32_t	id;		/* 1..255 */
	enum cfg_role	role;
	struct cfg_addr	links[CFG_MAX_LINKS];	/* peer-link listen addresses */
	int		nlinks;
	struct cfg_vip	vips[CFG_MAX_VIPS];	/* service IPs homed here */
	int		nvips;
	char		statedir[CFG_PATH_MAX];
	char		rundir[CFG_PATH_MAX];
	char		socket[CFG_PATH_MAX];	/* admin socket */
	char		nfs_bind[64];	/* address NFS binds (empty: vips) */
	char		http[64];	/* status/metrics listen address */
#define CFG_HTTP_PORT	9477		/* its default port */
	char		watchdog[CFG_PATH_MAX];	/* watchdog device ("" none) */
};

enum cfg_lun_mode { CFG_LUN_DIR = 1, CFG_LUN_EXT4 = 2 };

struct cfg_lun {
	char		name[CFG_NAME_MAX];
	uint32_t	id;
	char		path[CFG_PATH_MAX];	/* device or file (private extent) */
	char		data[CFG_PATH_MAX];	/* directory (dir mode) */
	char		mountpoint[CFG_PATH_MAX]; /* ext4 mode */
	enum cfg_lun_mode mode;
	int		home;			/* index into heads[] */
};

struct cfg {
	char		file[CFG_PATH_MAX];	/* where it was read from */
	char		cluster[CFG_NAME_MAX];
	char		keyfile[CFG_PATH_MAX];
	char		exports[CFG_PATH_MAX];
	struct cfg_head	heads[2];
	int		nheads;
	struct cfg_lun	luns[CFG_MAX_LUNS];
	int		nluns;

	/* nfs { } */
	int		nfs_port;
	int		mount_port;
	int		portmap_port;
	int		nfs_threads;
	int		nfs_max_conns;		/* total (see also the fd limit) */
	int		nfs_max_conns_client;	/* per client address */
	int		nfs_idle_timeout;	/* seconds, 0 = never */
	int		nfs_record_timeout;	/* seconds */
	int		nfs_input_budget_mb;	/* partial records, all conns */
	int		nfs_drc_size;		/* DRC entries, both heads' */
	int		nfs_drc_max_age;	/* seconds */

	/* link { } and heartbeat { }: milliseconds unless noted */
	int		link_ping_ms;		/* path ping interval */
	int		link_dead_ms;		/* path declared dead after */
	int		link_reconnect_ms;
	int		hb_interval_ms;		/* status monitor tick */
	int		hb_credit;		/* credit per progress */
	int		hb_max;			/* credit ceiling */
	int		boot_wait_ms;		/* wait for the peer at boot */
	int		lease_ms;		/* disk lease */
	int		garp_count;
	int		garp_interval_ms;
	int		fault_reset_ms;		/* HALTED -> RESET after a fault */
	int		fault_window_ms;	/* counted faults within this */
	int		fault_limit;		/* ... stay HALTED (0: never) */
	int		tickle_count;		/* tickle ACK rounds, 0 = off */
	int		tickle_interval_ms;
	int		watchdog_timeout_s;	/* armed timeout (head watchdog) */

	/* nlm { }: NFS locking (export/nfs_nlm.c) */
	int		nlm_cb_pmap_port;	/* clients' portmapper, for
						 * GRANTED and SM_NOTIFY */

	/* smb { }: the SMB service (export/smb_svc.c, docs/smb.md) */
	int		smb_port;		/* smbd's TCP port */

	/* pso { } */
	int		pso_lock_timeout_ms;	/* default for CLI */
	int		pso_req_timeout_ms;	/* peer request timeout */
	long		pso_mapsize_mb;

	/* nlm { } (cluster byte-range locks, docs/locks.md) */
	int		nlm_grace_s;		/* cold-start grace, 0 = none */
	int		nlm_max_locks;		/* locks + waiters + shares */

	/* config { } (configuration transactions) */
	int		ctcm_replicas;		/* LUNs holding a replica */
	int		ctcm_history;		/* generations kept */

	/* health { } (local health monitor, src/lhm/): ms unless noted */
	int		health_interval_ms;	/* probe period */
	int		health_fault_after;	/* failures in a row -> FAULT */
	int		health_clear_after;	/* successes in a row -> ok */
	int		health_worker_stuck_ms;	/* NFS worker in one call */
	int		health_loop_stuck_ms;	/* event loop without a beat */
	int		health_io_timeout_ms;	/* data-area probe I/O */
	int		health_wellness_s;	/* wellness line, 0 = none */
	int		health_lun_probe;	/* data-area I/O probe on/off */

	/* boot { } (software slots, docs/boot-images.md) */
	char		boot_dir[CFG_PATH_MAX];	/* "" = <statedir>/boot */
	char		boot_keys[CFG_PATH_MAX]; /* trusted keys before any
						  * configuration exists */
	int		boot_attempts;		/* boots of a new slot */
	int		boot_good_after_s;	/* DAC/DEGRADED this long */

	/* events { } (event hooks, docs/hooks.md) */
	char		events_dir[CFG_PATH_MAX]; /* the hooks */
	int		events_timeout_s;	/* per hook run */
	int		events_queue;		/* events waiting, at most */
};

/* This head: the one named name, else the one named like this host
 * (up to the first dot).  Its index, or -1 with err naming the heads. */
int	cfg_pick_head(const struct cfg *, const char *name, char *err,
	    size_t errlen);
/* The slot directory of head h: boot dir, else <statedir>/boot. */
void	cfg_boot_dir(const struct cfg *, const struct cfg_head *h, char *out,
	    size_t outlen);

/*
 * Parse path into *cfg (zeroed first, defaults applied).
 * Returns 0, or -1 with a message "FILE:LINE: problem" in err.
 */
int	cfg_parse(const char *path, struct cfg *cfg, char *err, size_t errlen);
/* The same for text in memory; name is used in error messages. */
int	cfg_parse_buf(const char *name, const char *text, size_t len,
	    struct cfg *cfg, char *err, size_t errlen);
/*
 * The file line by line, as the parser sees it: for editors that change
 * the text and must find what the parser finds (ctcm/ctcm_edit.c).
 * cb gets every line with its tokens and its place in the block
 * structure; it returns 0 to go on, anything else to stop (cfg_walk then
 * returns -1, err untouched).  A structural error (unterminated string,
 * stray '}', nested block, "head" without a NAME, missing '}') stops the
 * walk with "NAME:LINE: problem" in err.  The text is not modified.
 */
enum cfg_line_kind {
	CFG_L_BLANK,		/* nothing but blanks and comment */
	CFG_L_OPEN,		/* "head NAME {", "lun NAME {", "nfs {", ... */
	CFG_L_CLOSE,		/* "}" */
	CFG_L_STMT,		/* "keyword args..." */
};
struct cfg_line {
	int		 lineno;
	size_t		 start, end;	/* bytes of the line, end after '\n' */
	enum cfg_line_kind kind;
	int		 ntok;
	char		**tok;		/* valid during the callback only */
	const char	*block;		/* the block the line is in, opens or
					 * closes ("" = top level) */
	const char	*name;		/* NAME of a head or lun block, or "" */
};
typedef int (*cfg_walk_cb)(const struct cfg_line *, void *arg);
int	cfg_walk(const char *name, const char *text, size_t len,
	    cfg_walk_cb cb, void *arg, char *err, size_t errlen);
/* Index of the head called name, or -1. */
int	cfg_head_find(const struct cfg *, const char *name);
/*
 * Read the cluster key (raw bytes, or hex text); 0 or -1 with err.  The
 * file must be a regular file no group or other may read or write, owned
 * by root or by the calling process's user (cfg_key_check()).
 */
int	cfg_key_load(const struct cfg *, uint8_t *key, size_t *keylen,
	    char *err, size_t errlen);
/* The mode/owner rule of cfg_key_load() for a file's stat: 0, or -1
 * with "cluster key PATH: problem" in err. */
struct stat;
int	cfg_key_check(const char *path, const struct stat *, char *err,
	    size_t errlen);
/* Parse "host:port" / "[v6]:port" / "host" (defport) into a. 0 or -1. */
int	cfg_addr_parse(const char *s, int defport, struct cfg_addr *a);
/*
 * Set one tunable as if the file had "kw value" in its block { } (e.g.
 * "nfs", "max-connections", "8"), with the same range check.  For
 * programs that take tunables on their command line (nfsd-test).
 * 0, or -1 with a message in err.
 */
int	cfg_tunable_set(struct cfg *, const char *block, const char *kw,
	    const char *value, char *err, size_t errlen);

/* Defaults of the nfs { } limits (duonas.conf(5)); also what the NFS
 * service uses for a 0 in a struct cfg not made by cfg_parse. */
#define CFG_NFS_MAX_CONNS		4096
#define CFG_NFS_MAX_CONNS_CLIENT	64
#define CFG_NFS_IDLE_TIMEOUT		360
#define CFG_NFS_RECORD_TIMEOUT		30
#define CFG_NFS_INPUT_BUDGET_MB		256
#define CFG_NFS_DRC_SIZE		8192
#define CFG_NFS_DRC_MAX_AGE		120

#define CFG_KEY_MIN	16
#define CFG_KEY_MAX	64

#endif

/*
 * ctcm_int.h — internals of ctcm/: bundles and replica images (pure),
 * crash-safe file I/O with fault injection, the local database, the
 * array replicas, power-up decisions and configuration text editing.
 * Nothing here is for other modules (tests use it).
 */
#ifndef DUONAS_CTCM_INT_H
#define DUONAS_CTCM_INT_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/exports.h"
#include "common/util.h"
#include "ctcm/ctcm.h"

#define CTCM_BUNDLE_MAGIC	0x44434647u	/* "DCFG" */
#define CTCM_IMAGE_MAGIC	0x44435249u	/* "DCRI" */
#define CTCM_FORMAT_VERSION	1	/* bundles */
#define CTCM_IMAGE_VERSION	2	/* replica images (1 still read) */
#define CTCM_MAX_SECTIONS	8
#define CTCM_SEC_CONF		1
#define CTCM_SEC_EXPORTS	2
#define CTCM_SEC_SMBUSERS	3	/* SMB users (docs/smb-users.md);
					 * present only when not empty */
#define CTCM_SEC_IMAGE		4	/* image/boot: trusted keys, the
					 * preferred image, floor
					 * (docs/boot-images.md); present
					 * only when not empty */
#define CTCM_AUTHOR_MAX		64
#define CTCM_SUMMARY_MAX	256
#define CTCM_FILE_MAX		(1u << 20)	/* one configuration file */
#define CTCM_HISTORY_LOCAL	16
#define CTCM_REPLICAS_DEFAULT	3
#define CTCM_HISTORY_ARRAY	8
/* Slot key = epoch << CTCM_GEN_BITS | generation (docs/ctcm.md). */
#define CTCM_GEN_BITS		36
#define CTCM_GEN_MAX		((UINT64_C(1) << CTCM_GEN_BITS) - 1)
#define CTCM_EPOCH_MAX		((UINT64_C(1) << (64 - CTCM_GEN_BITS)) - 1)

/* ---- bundles (ctcm_bundle.c, pure) -------------------------------- */

struct ctcm_section {
	uint16_t	 kind;
	char		 name[64];
	uint8_t		*data;		/* malloc'd, NUL-terminated */
	size_t		 len;
};

struct ctcm_bundle {
	uint64_t		gen;
	uint64_t		vepoch;		/* value epoch: not in the bundle
						 * bytes; travels in the image
						 * header and the stamp */
	uint64_t		time_ms;
	uint32_t		author_id;
	uint32_t		content_crc;	/* set by encode/decode */
	char			author[CTCM_AUTHOR_MAX];
	char			summary[CTCM_SUMMARY_MAX];
	int			nsec;
	struct ctcm_section	sec[CTCM_MAX_SECTIONS];
};

void	ctcm_bundle_init(struct ctcm_bundle *);
void	ctcm_bundle_free(struct ctcm_bundle *);
int	ctcm_bundle_copy(struct ctcm_bundle *dst, const struct ctcm_bundle *);
/* Replace or add a section (data copied). 0, or CTCM_E_FORMAT when full. */
int	ctcm_bundle_set(struct ctcm_bundle *, uint16_t kind, const char *name,
	    const void *data, size_t len);
/* Remove a section (no-op when absent). */
void	ctcm_bundle_del(struct ctcm_bundle *, uint16_t kind);
const struct ctcm_section *ctcm_bundle_get(const struct ctcm_bundle *,
	    uint16_t kind);
/* Text of a section ("" when absent). */
const char *ctcm_bundle_text(const struct ctcm_bundle *, uint16_t kind,
	    size_t *lenp);
uint32_t ctcm_content_crc(const struct ctcm_bundle *);
/* Encode (sets content_crc in a copy only; b is const). */
void	ctcm_bundle_encode(const struct ctcm_bundle *, struct buf *out);
/* Decode; b is initialised first and freed on error.  0 or CTCM_E_*. */
int	ctcm_bundle_decode(const uint8_t *, size_t, struct ctcm_bundle *b);

/* Replica image (version 2): n bundles, newest first, written by a head
 * in epoch; the value epoch in the header is v[0].vepoch.  Truncated
 * (oldest dropped) to fit maxlen (0 = no limit).  Encode returns the
 * number kept (>= 1) or CTCM_E_FORMAT when even the first does not fit. */
int	ctcm_image_encode(const struct ctcm_bundle *, int n, uint64_t epoch,
	    size_t maxlen, struct buf *out);
/* Decode (versions 1 and 2): *bp is a malloc'd array of *np bundles
 * (free each + array), (*bp)[0].vepoch set; *epochp (may be NULL) gets
 * the writer's epoch (0 for version 1). */
int	ctcm_image_decode(const uint8_t *, size_t, struct ctcm_bundle **bp,
	    int *np, uint64_t *epochp);
void	ctcm_bundles_free(struct ctcm_bundle *, int n);

/* Numbering (pure).  Slot key of (epoch, generation) and back; rank
 * order of two configurations (value epoch, then generation): <0, 0,
 * >0; the next epoch of node above every epoch seen. */
uint64_t ctcm_key_pack(uint64_t epoch, uint64_t gen);
void	ctcm_key_unpack(uint64_t key, uint64_t *epoch, uint64_t *gen);
int	ctcm_rank_cmp(uint64_t vepoch1, uint64_t gen1, uint64_t vepoch2,
	    uint64_t gen2);
uint64_t ctcm_epoch_next(uint64_t seen, uint32_t node);

/* Parse a bundle's duonas.conf into out; 0 or -1 with err. */
int	ctcm_bundle_cfg(const struct ctcm_bundle *, struct cfg *out, char *err,
	    size_t errlen);

/* Text form (%%file sections).  Import: 0, or -1 with err.
 * ctcm_text_export leaves the SMB users section out (password hashes):
 * a comment line counts the users instead; ctcm_text_export_secrets has
 * it, for a file the daemon writes with mode 0600.  An imported text
 * without a "%%file smb/users" section has no such section in b (the
 * import keeps the cluster's users then, ctcm_ctl_admin.c). */
void	ctcm_text_export(const struct ctcm_bundle *, struct buf *out);
void	ctcm_text_export_secrets(const struct ctcm_bundle *, struct buf *out);
/* Users in b's SMB users section: 0 when absent, -1 when it does not
 * parse. */
int	ctcm_smb_users_count(const struct ctcm_bundle *);
int	ctcm_text_import(const char *text, size_t len, struct ctcm_bundle *,
	    char *err, size_t errlen);
/* Line diff of two texts as unified-diff hunks ("@@ -a,b +c,d @@",
 * then " ", "-", "+" lines) with ctx lines of context (ctcm_diff: 3);
 * returns the number of changed lines, 0 and no output when equal. */
int	ctcm_diff(const char *a, size_t alen, const char *b, size_t blen,
	    struct buf *out);
int	ctcm_diff_ctx(const char *a, size_t alen, const char *b, size_t blen,
	    int ctx, struct buf *out);

/* ---- crash-safe I/O + fault injection (ctcm_io.c) ------------------ */

enum ctcm_fault_mode {
	CTCM_FAULT_OFF = 0,
	CTCM_FAULT_FAIL = 1,	/* the operation fails with EIO */
	CTCM_FAULT_CRASH = 2,	/* _exit(137) right after the operation */
};
/* Operation number n (1 = the next one) fails/crashes. Thread-safe. */
void	ctcm_fault_arm(long n, enum ctcm_fault_mode mode);
/* Operations counted since the process started (tests). */
long	ctcm_fault_ops(void);
/* One counted step; returns 0, or -1 with errno EIO when it must fail. */
int	ctcm_fault_step(const char *what, const char *path);
/* A counted step around real work: pr = ctcm_fault_pre() (-1: FAIL fault,
 * skip the work), do it, then ctcm_fault_post(pr) (CRASH faults). */
int	ctcm_fault_pre(const char *what, const char *path);
int	ctcm_fault_post(int pr, const char *what, const char *path);
/* tmp + fsync + rename + directory fsync, each step counted. 0 / -1. */
int	ctcm_file_write(const char *path, const void *, size_t, mode_t);
int	ctcm_file_unlink(const char *path);

/* ---- local database (ctcm_local.c) --------------------------------- */

#define CTCM_MAX_FILES	CTCM_MAX_SECTIONS

struct ctcm_stamp {
	uint64_t	gen;
	uint64_t	vepoch;
	uint32_t	content_crc;
	uint64_t	time_ms;
	char		author[CTCM_AUTHOR_MAX];
	char		summary[CTCM_SUMMARY_MAX];
	int		nfiles;
	struct {
		uint16_t	kind;
		char		path[CFG_PATH_MAX];
		uint64_t	len;
		uint32_t	crc;
	} files[CTCM_MAX_FILES];
};

struct ctcm_local {
	char	dir[CFG_PATH_MAX];		/* <statedir>/ctcm */
	char	conf_path[CFG_PATH_MAX];	/* where duonas.conf goes */
	char	users_path[CFG_PATH_MAX];	/* <statedir>/smb/users */
	char	image_path[CFG_PATH_MAX];	/* <statedir>/image/boot */
	int	history;			/* bundles kept locally */
};

enum ctcm_local_state {
	CTCM_LOCAL_VALID = 0,
	CTCM_LOCAL_NONE,	/* no stamp, no history: fresh install */
	CTCM_LOCAL_INVALID,	/* some part failed (CTCM_BAD_*) */
};
/* Parts of the local copy that failed the check. */
#define CTCM_BAD_STAMP		0x1u	/* stamp missing or corrupt */
#define CTCM_BAD_PENDING	0x2u	/* an install was interrupted */
#define CTCM_BAD_FILES		0x4u	/* an installed file differs */
#define CTCM_BAD_HISTORY	0x8u	/* the stamp's history bundle is bad */

int	ctcm_local_open(struct ctcm_local *, const char *statedir,
	    const char *conf_path);
/* Read and verify (stamp, pending, files, the stamp's history bundle);
 * *st filled as far as readable (gen 0 when the stamp is unreadable);
 * *bad (may be NULL) gets CTCM_BAD_* bits; why says what is wrong (the
 * first failure).  Returns a ctcm_local_state. */
int	ctcm_local_check(const struct ctcm_local *, struct ctcm_stamp *st,
	    unsigned *bad, char *why, size_t whylen);
/* Install b as generation b->gen with value epoch b->vepoch (docs/ctcm.md
 * "Installing generation G").  0 or errno/code; err names the file. */
int	ctcm_local_install(const struct ctcm_local *, const struct ctcm_bundle *,
	    char *err, size_t errlen);
/* Installed files (paths, one per line) whose content differs from b's;
 * returns their number. */
int	ctcm_local_changed(const struct ctcm_local *, const struct ctcm_bundle *,
	    struct buf *out);
/* Rebuild the history bundle of the stamp's generation from installed
 * files that match the stamp.  0, or -1 with err. */
int	ctcm_local_rebuild_bundle(const struct ctcm_local *,
	    const struct ctcm_stamp *, char *err, size_t errlen);
/* Highest generation named in history/ (damaged files count), or 0. */
uint64_t ctcm_local_max_gen(const struct ctcm_local *);
/* Path of the bootstrap copy of duonas.conf (malloc'd). */
char	*ctcm_local_bootstrap_path(const char *conf_path);
/* Bundle of generation gen from history (0 or CTCM_E_*). */
int	ctcm_local_load(const struct ctcm_local *, uint64_t gen,
	    struct ctcm_bundle *);
/* Generations present in history, newest first; returns count. */
int	ctcm_local_list(const struct ctcm_local *, uint64_t *gens, int max);
/* Build a bundle from the installed files (factory initialisation). */
int	ctcm_local_from_files(const struct ctcm_local *, struct ctcm_bundle *,
	    char *err, size_t errlen);
/* Text encode/decode of the stamp (pure; unit tests). */
void	ctcm_stamp_encode(const struct ctcm_stamp *, struct buf *);
int	ctcm_stamp_decode(const char *, size_t, struct ctcm_stamp *);

/* ---- array replicas (ctcm_array.c) --------------------------------- */

struct ctcm_replica {
	char		lun[CFG_NAME_MAX];
	char		path[CFG_PATH_MAX];
	int		in_set;		/* one of the replica set */
	int		rc;		/* 0, errno, PEXT_E_*, CTCM_E_* */
	uint64_t	gen;		/* when rc == 0: current generation */
	uint64_t	epoch;		/* writer's epoch (slot key) */
	uint64_t	vepoch;		/* value epoch of the current one */
	uint32_t	content_crc;
};

/* Read LUN i's replica image; 0 with *bp and *np ((*bp)[0].vepoch set)
 * and the writer's epoch in *epochp, or an error code (CTCM_E_NOREPLICA:
 * no valid slot; PEXT_E_EMPTY: the LUN was never formatted). */
int	ctcm_array_read_lun(const struct cfg *, int self_idx, int lun,
	    struct ctcm_bundle **bp, int *np, uint64_t *epochp);
/* Read every LUN (rep has cfg->nluns entries); the image of highest
 * rank goes to *bestp and *nbest (NULL and 0 when none).  Returns its
 * index or -1. */
int	ctcm_array_read(const struct cfg *, int self_idx, int nreplicas,
	    struct ctcm_replica *rep, struct ctcm_bundle **bestp, int *nbest);
/* Pure: index of the replica of highest rank (value epoch, generation);
 * among equal ranks with different content (never written so) the one
 * held by more replicas, then the first; -1 when none is valid. */
int	ctcm_array_pick(const struct ctcm_replica *, int n);
/* Pure: replicas of the set that answered (valid, or never written). */
int	ctcm_array_readable(const struct ctcm_replica *, int n);
/* Number of replica LUNs for this configuration and the majority. */
int	ctcm_array_setsize(const struct cfg *, int nreplicas);
int	ctcm_array_majority(int setsize);
/* Write img (the image of generation gen, written in epoch) to the LUNs
 * of the replica set whose bit is set in mask; formats all-zero LUNs.
 * Each LUN is read back: it counts only when its newest slot has this
 * key and exactly these bytes.  rep[i] of the LUNs tried gets the
 * result.  Returns the number that hold it. */
int	ctcm_array_write(const struct cfg *, int self_idx, int nreplicas,
	    uint64_t epoch, uint64_t gen, const void *img, size_t len,
	    uint64_t mask, struct ctcm_replica *rep);
/* Prepare one LUN: format when all-zero (or force and not a valid
 * super block); refuse another pool's LUN.  0 or error with err. */
int	ctcm_array_prepare(const struct cfg *, int self_idx,
	    const struct cfg_lun *, int force, char *err, size_t errlen);

/* ---- power-up decision (ctcm_boot.c, pure part) -------------------- */

enum ctcm_action {
	CTCM_ACT_OK = 0,	/* local is current */
	CTCM_ACT_RESTORE,	/* install the array's newest */
	CTCM_ACT_KEEP_LOCAL,	/* local ranks above every replica */
	CTCM_ACT_FACTORY,	/* first boot: files become generation 1 */
	CTCM_ACT_MONITOR,	/* nothing valid anywhere */
	CTCM_ACT_REPAIR_LOCAL,	/* repair the local copy from itself */
};
struct ctcm_boot_in {
	int		lstate;		/* CTCM_LOCAL_* */
	unsigned	lbad;		/* CTCM_BAD_* */
	uint64_t	lgen, lvepoch;	/* from the stamp (when it decodes) */
	uint32_t	lcrc;
	int		have_array;	/* a valid replica exists */
	uint64_t	agen, avepoch;	/* the one of highest rank */
	uint32_t	acrc;
};
enum ctcm_action ctcm_boot_decide(const struct ctcm_boot_in *);
const char *ctcm_action_name(enum ctcm_action);

/* ---- configuration text editing (ctcm_edit.c, pure) ---------------- */

/* Each returns 0 with the new text in *out, or -1 with err naming the
 * problem; cfg is the parsed current configuration. */
int	ctcm_edit_export_add(const struct cfg *, const char *exports,
	    const char *path, uint32_t id, const char *clients,
	    const char *options, struct buf *out, char *err, size_t errlen);
int	ctcm_edit_export_rm(const char *exports, const char *path_or_id,
	    struct buf *out, char *err, size_t errlen);
int	ctcm_edit_export_set(const struct cfg *, const char *exports,
	    const char *path_or_id, const char *clients, const char *options,
	    struct buf *out, char *err, size_t errlen);
int	ctcm_edit_ip_add(const struct cfg *, const char *conf,
	    const char *head, const char *cidr, const char *dev,
	    struct buf *out, char *err, size_t errlen);
int	ctcm_edit_ip_rm(const struct cfg *, const char *conf,
	    const char *addr, struct buf *out, char *err, size_t errlen);
int	ctcm_edit_lun_add(const struct cfg *, const char *conf,
	    const char *name, uint32_t id, const char *path, const char *mode,
	    const char *data, const char *home, struct buf *out, char *err,
	    size_t errlen);
int	ctcm_edit_lun_rm(const struct cfg *, const char *conf,
	    const char *exports, const char *name, struct buf *out, char *err,
	    size_t errlen);

/* One export line, as common/exports.c parsed it. */
struct ctcm_export {
	char		path[EXPORTS_PATH_MAX];
	uint32_t	id;
	char		options[EXPORTS_OPTS_MAX]; /* default options after '-'
						 * (no id) */
	char		clients[EXPORTS_MAX_CLIENTS * EXPORTS_SPEC_MAX];
						/* client specs, space
						 * separated */
	int		line;
};
/* Parse exports text with the NFS server's parser and limits
 * (common/exports.h) into a malloc'd array; 0 or -1 with err
 * ("exports:LINE: problem"). */
int	ctcm_exports_parse(const char *text, struct ctcm_export **ep, int *np,
	    char *err, size_t errlen);
/* Checks shared with the CLI: CIDR text, client spec, path under a LUN. */
int	ctcm_check_cidr(const char *cidr, char *addr, size_t addrlen,
	    int *prefix, char *err, size_t errlen);
/* The LUN whose data directory (mountpoint) holds path, or NULL. */
const struct cfg_lun *ctcm_lun_of_path(const struct cfg *, const char *path);
int	ctcm_check_export(const struct cfg *, const struct ctcm_export *,
	    char *err, size_t errlen);

/* ---- shared runtime state (ctcm_boot.c) ---------------------------- */

struct ctcm_state {
	pthread_mutex_t		mtx;		/* guards everything below */
	pthread_mutex_t		txn;		/* one commit/sync/install at a
						 * time (worker threads only) */
	pthread_cond_t		wake;		/* the sync worker (with mtx) */
	int			wakeup;
	struct cfg		cfg;		/* the committed generation's */
	int			self;
	struct ctcm_local	local;
	int			nreplicas;
	int			history;
	int			booted;
	int			monitor;
	char			why[512];	/* boot result / MONITOR reason */
	/* the newest committed configuration this head knows */
	struct ctcm_bundle	cur;		/* cur.gen 0: none */
	uint64_t		gen;		/* = cur.gen */
	uint32_t		crc;		/* its content checksum */
	uint64_t		vepoch;		/* = cur.vepoch */
	struct ctcm_bundle	recent[CTCM_HISTORY_ARRAY];	/* the last
						 * committed, newest first */
	int			nrecent;
	/* what the local database holds */
	uint64_t		inst_gen;
	uint32_t		inst_crc;
	char			inst_err[512];	/* last failed install */
	/* numbers (ctcm_sync.c is their owner) */
	uint64_t		max_seen;	/* highest generation seen */
	uint64_t		epoch_seen;	/* highest epoch seen */
	uint64_t		epoch;		/* ours, claimed (0: none) */
	uint64_t		claim_try;	/* epoch being claimed */
	int			opmode;		/* enum ha_opmode, cached */
	int			repair;		/* replicas behind (master) */
	uint64_t		last_read_ms;	/* every replica read (or read
						 * back) with a majority */
	int			claiming;
	struct ctcm_replica	rep[CFG_MAX_LUNS];
	int			nrep;
	/* the peer, as it last reported */
	uint64_t		peer_gen, peer_vepoch, peer_inst;
	uint64_t		peer_max_seen, peer_epoch;
	uint32_t		peer_crc;
	int			peer_known, peer_valid, peer_master;
	uint64_t		commits, aborts, restores, push_fail;
	uint64_t		installs_retried, repairs, claims, adoptions;
	uint64_t		last_commit_us;
	/* The last commit answered "not committed": a replica whose write
	 * was reported failed may hold it all the same (its fdatasync or
	 * the read-back failed), so it is never adopted, and the current
	 * content is committed again above it (supersede: the worker
	 * retries until that works).  Cleared by the next commit. */
	uint64_t		refused_gen, refused_epoch;
	uint32_t		refused_crc;
	int			supersede;
};
extern struct ctcm_state ctcm_g;

/* b (value epoch b->vepoch) is committed: this head's committed copy;
 * c its parsed duonas.conf (NULL: parsed here).  Any thread. */
void	ctcm_state_committed(const struct ctcm_bundle *b, const struct cfg *c);
/* Numbers seen somewhere (replicas, messages).  Any thread. */
void	ctcm_state_seen(uint64_t gen, uint64_t epoch);

/* Save bundles into local history when missing or different (after a
 * restore or an install from the peer); never prunes keep. */
void	ctcm_local_save_history(const struct ctcm_local *,
	    const struct ctcm_bundle *, int n, uint64_t keep);

#endif

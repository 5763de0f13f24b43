/*
 * ha_int.h — internals of the HA controller shared by its files:
 * ha.c (state machine glue, resources, status), ha_mon.c (status monitor:
 * heartbeats per path, verdict, peer events), ha_disk.c (the disk thread:
 * disk heartbeat, reservations, leases, data attach/detach).
 */
#ifndef DUONAS_HA_INT_H
#define DUONAS_HA_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/cfg.h"
#include "ha/ha.h"
#include "ha/ha_fsm.h"
#include "hb/hb.h"
#include "pool/lun_data.h"
#include "pool/pool.h"
#include "vip/vip.h"

/* Disk-thread state of one LUN. */
enum ha_lun_st {
	HA_LUN_IDLE,		/* not ours */
	HA_LUN_ACQUIRING,	/* wanted; waiting for a free/expired lease */
	HA_LUN_CHECKING,	/* reservation written; re-read after a tick */
	HA_LUN_OWNED,		/* reserved, data attached, lease renewed */
	HA_LUN_COUNT
};

struct ha_lun {
	const struct cfg_lun	*cfg;
	int			 idx;
	/* disk thread only */
	struct pool_lun		 pl;
	int			 opened;
	uint64_t		 open_retry_us;
	struct lun_data		 ld;
	uint64_t		 my_gen;	/* reservation generation we hold */
	uint64_t		 my_renew;
	uint64_t		 peer_renew;	/* last renew_seq seen from peer */
	uint64_t		 peer_renew_us;	/* when it last changed */
	uint64_t		 peer_hbseq;
	uint64_t		 peer_hbboot;
	uint64_t		 peer_hb_us;
	uint64_t		 gen_seen;	/* highest reservation generation
						 * seen or issued (our record) */
	int			 gen_partial;	/* gen_seen may miss one of our
						 * earlier writes (record lost) */
	uint64_t		 res_bad_us;	/* reservation unreadable since */
	uint64_t		 sb_check_us;	/* next super block check */
	/* shared (mutex ha_disk.mtx) */
	int			 want;		/* loop: we should own it */
	enum ha_lun_st		 st;
	uint32_t		 owner;		/* owner in the last read */
	uint64_t		 generation;
	int			 io_ok;		/* last I/O on the LUN worked */
	char			 err[128];
	char			 damage[448];	/* private extent damage found */
	char			 res_damage[160]; /* and of the reservation */
	/* our outgoing mailbox on this LUN (loop sets, disk thread
	 * writes; ha_disk_mailbox) and the GIVEWAIT record */
	uint32_t		 mb_flags;	/* per-LUN PEXT_MB_* */
	uint64_t		 mb_seq;
	uint16_t		 gw_state;
	uint32_t		 gw_progress;
	char			 gw_reason[PEXT_GW_REASON_LEN + 1];
	int			 prep;		/* loop: we are about to take
						 * it: publish our readiness */
	int			 give;		/* loop: released for the peer,
						 * which is taking it (mailbox
						 * GIVEN_BACK; do not write the
						 * reservation meanwhile) */
	/* disk thread only: the peer's mailbox as last posted */
	uint32_t		 peer_mb_flags;
	uint64_t		 peer_mb_arg;
	uint16_t		 peer_gw_state;
	/* atomics read by the file services' workers (gate) */
	_Atomic int		 serving;	/* exports of it enabled here */
	_Atomic uint64_t	 lease_until_us;/* 0: no valid lease */
	/* A file service's write or sync on the data failed (EIO): the
	 * mount's page cache can no longer be trusted (a page whose
	 * writeback failed may later be written without its extent ever
	 * becoming readable), so the gate stays shut until the data is
	 * mounted again (here, or by the peer).  Set by workers, cleared
	 * by ha_lun_attached; io_why by the worker that set it. */
	_Atomic int		 io_failed;
	_Atomic int		 io_why_set;	/* io_why written (after) */
	char			 io_why[128];
	int			 remount;	/* loop asks the disk thread to
						 * mount the data again (mutex) */
	/* loop thread only */
	int			 attached_seen;	/* loop handled "attached" */
	int			 io_handled;	/* io_failed acted upon */
};

struct ha_ctl {
	const struct cfg	*cfg;
	int			 self;		/* index of this head */
	uint32_t		 self_id, peer_id;
	uint64_t		 boot_id;
	struct ha_fsm		 fsm;
	struct hb_params	 hbp;
	int			 nluns;
	struct ha_lun		*luns;
	/* resources wanted by the state: */
	enum { HA_RES_NONE, HA_RES_OWN, HA_RES_ALL } res_mode;
	int			 takeover_pending;
	int			 giveback_pending;
	uint64_t		 res_mode_us;
	int			 halting;
	int			 monitor;	/* CONFIG_BAD at boot */
	int			 conflict;	/* MONITOR by CONFIG_CONFLICT */
	int			 announce_fault;/* heartbeats carry FAULT */
	/* tests only (duonas ha fault blind): no clock or lease checks, no
	 * disk I/O — a head whose storage hangs inside a paused VM */
	_Atomic int		 test_blind;
};
extern struct ha_ctl	 ha;

/* A write error on LUN i's data path was reported (io_failed) and its
 * data has not been mounted afresh since.  Any thread. */
static inline int
ha_lun_io_failed(int i)
{
	return atomic_load(&ha.luns[i].io_failed);
}

/* LUN i is served here, but its lease has run out: the owner must stop
 * (fence).  Any thread: atomics only. */
static inline int
ha_lun_lease_lost(int i, uint64_t now)
{
	return atomic_load(&ha.luns[i].serving) &&
	    now >= atomic_load(&ha.luns[i].lease_until_us);
}

/* ha_mon.c — status monitor (loop thread) */
int		 ha_mon_init(void);
void		 ha_mon_shutdown(void);
void		 ha_mon_send_now(void);
void		 ha_mon_disk_credit(uint64_t boot_id, uint64_t seq);
int		 ha_mon_has_disk(void);
enum hb_verdict	 ha_mon_verdict(void);
int		 ha_mon_peer_closed(void);	/* peer process gone (EOF) */
void		 ha_mon_peer_faulted(void);	/* FAULT seen on the disk */
int		 ha_mon_peer_state(unsigned *state, uint64_t *boot_id);
int		 ha_mon_link_alive(void);
void		 ha_mon_boot_timer(int on);
void		 ha_mon_status_text(struct buf *);
void		 ha_mon_cluster_text(struct buf *);
void		 ha_mon_status_json(struct buf *);

/* ha_disk.c — the disk thread */
int		 ha_disk_init(void);
/* Stop the thread; with release, give up every LUN first (bounded). */
void		 ha_disk_shutdown(int release);
void		 ha_disk_set_want(int lun, int want);
void		 ha_disk_set_prep(int lun, int prep);
void		 ha_disk_set_give(int lun, int give);
/* Snapshot of a LUN for the loop thread. */
void		 ha_disk_get(int lun, enum ha_lun_st *st, uint32_t *owner,
		    int *io_ok);
/* Reservation generation last read, and the damage found on the LUN's
 * private extent since this daemon started ("" = none). */
void		 ha_disk_info(int lun, uint64_t *generation, char *damage,
		    size_t len);
/* What the disk heartbeat should carry. */
void		 ha_disk_publish(unsigned state, unsigned opmode);
void		 ha_disk_peer_closed(int closed);
/* Our mailbox: flags for every LUN's block (FAULT, KILL with the boot id
 * it is aimed at), written on the next tick.  Loop thread. */
void		 ha_disk_mailbox_all(uint32_t flags, uint64_t kill_boot);
/* Per-LUN mailbox flags (TAKEN_OVER, HANDOVER, GIVEWAIT, MBWAIT,
 * GIVEN_BACK): set bits in set, clear bits in clear. */
void		 ha_disk_mailbox(int lun, uint32_t set, uint32_t clear);
/* The GIVEWAIT state record we publish on the LUN. */
void		 ha_disk_gw_record(int lun, unsigned state, uint32_t progress,
		    const char *reason);
/* Write our heartbeat blocks now (wakes the disk thread). */
void		 ha_disk_kick(void);
/* Mount LUN lun's data again (detach by force, attach) while keeping its
 * reservation: after a write error on the data path when the peer cannot
 * take the LUN.  The loop detaches the exports first; POST_ATTACHED (or a
 * release, when the attach fails) follows.  Loop thread. */
void		 ha_disk_remount(int lun);

/* ha_wdog.c — the hardware watchdog (head block `watchdog PATH`) */
int		 ha_wdog_init(void);
void		 ha_wdog_shutdown(void);	/* orderly: magic close */
void		 ha_wdog_status_text(struct buf *);
void		 ha_wdog_status_json(struct buf *);

/* ha.c — called from the other files on the loop thread */
void		 ha_evt(enum ha_evt);
void		 ha_lun_attached(int lun);	/* disk thread attached it */
void		 ha_lun_released(int lun);
void		 ha_lun_fenced(int lun, const char *why);
void		 ha_reconcile(void);		/* each tick */
void		 ha_step_down(const char *why);
/* Our GIVEWAIT record on a LUN changed (disk thread computed it). */
void		 ha_gw_changed(int lun, unsigned state, uint32_t progress,
		    const char *reason);
/* The peer's mailbox on a LUN changed (disk thread saw it). */
void		 ha_mailbox_seen(int lun, uint32_t flags, uint64_t arg,
		    unsigned gw_state, uint32_t gw_progress,
		    const char *reason);
/* This head was frozen past a lease (disk thread or loop noticed). */
void		 ha_frozen(const char *why);

#endif

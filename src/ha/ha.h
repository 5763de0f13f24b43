/*
 * ha.h — the HA controller as other modules see it: this head's operating
 * mode (master or slave) and whether the peer is alive.
 *
 * Modules register one opmode callback each and are told of every mode
 * change.  Callbacks run on the loop thread, in registration order,
 * after the state change is logged.
 */
#ifndef DUONAS_HA_H
#define DUONAS_HA_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"

enum ha_opmode {
	HA_OPMODE_NONE = 0,	/* booting: nothing served yet */
	HA_OPMODE_MASTER,	/* arbitrates locks, runs transactions */
	HA_OPMODE_SLAVE,
	HA_OPMODE_MONITOR,	/* administration only */
};

typedef void (*ha_opmode_cb)(enum ha_opmode mode, int peer_alive, void *arg);

/* monitor: no valid configuration (CTCM): go to MONITOR at once. */
int		 ha_init(const struct cfg *cfg, int self_idx, int monitor);
void		 ha_shutdown(void);
/* After the file services started and registered (fsvc.h): map their
 * exports to LUNs and gate them.  Loop thread. */
void		 ha_services_ready(void);
/* The configuration was replaced in place (a new generation): pick up
 * service IPs and exports.  Loop thread. */
void		 ha_config_changed(void);
void		 ha_opmode_register(ha_opmode_cb cb, void *arg);
enum ha_opmode	 ha_opmode(void);
const char	*ha_opmode_name(enum ha_opmode);
int		 ha_peer_alive(void);
/* Current state name, e.g. "DAC(master)", for status output. */
const char	*ha_state_name(void);

/*
 * Placement and faults: what the local health monitor (src/lhm) and the
 * maintenance commands call.  Loop thread only.  docs/failover.md
 * describes the sequences.
 *
 * ha_lun_handover: LUN `lun` (index into cfg->luns) cannot be served
 * here any more (I/O errors, a broken data area): hand it, alone, to the
 * peer while this head keeps the others.  The placement override moves
 * it to the peer, the peer hears at once (a PLACE control message on
 * every path, and HANDOVER in this head's mailbox on that LUN for the
 * disk channel); this head stops serving it in the safe order (service
 * IPs that follow it, then its exports, then the reservation is
 * released; when the release cannot be written the peer waits out the
 * lease).  Service IPs serve the LUNs of their home head as a group: they
 * move only when every LUN of that head is placed on the peer.  The peer
 * takes the LUN alone, after checking its reservation.  Returns 0 (also
 * when the LUN is already placed on the peer), -1 when lun is out of
 * range or the peer is not serving (not dual active): nothing changed,
 * the caller decides (keep it, or ha_surrender()).  The LUN stays on the
 * peer until the placement is changed back (ha_place_lun(lun, -1)).
 *
 * ha_surrender: this head is unhealthy.  Announces FAULT (heartbeat
 * flag HB_F_FAULT, PEXT_MB_FAULT in every LUN's mailbox, a FAULT control
 * message), releases IPs, then exports, then LUNs, and goes HALTED; the
 * peer takes over at once.  permanent == 0: RESET after heartbeat {
 * fault-reset-delay }, unless fault-limit counted faults (fenced leases,
 * kills, surrenders) fell within fault-window: then HALTED until an
 * administrator resets.  permanent: HALTED until the daemon restarts
 * (a reset is refused).  Lease fencing and kill messages go through the
 * same path.
 *
 * ha_place_lun: the placement override of one LUN (head index 0/1, -1 =
 * back to its configured home), e.g. to take back a LUN handed over
 * after its fault was repaired; both heads agree on it (versioned
 * table); moving a LUN this head serves is coordinated like a giveback.
 * Returns 0, or -1 on a bad argument.  Whole-head and IP moves:
 * ha_maint_start below.  ha_lun_where: the head that should serve the
 * LUN now.
 */
int		 ha_lun_handover(int lun, const char *why);
void		 ha_surrender(const char *why, int permanent);
int		 ha_place_lun(int lun, int head, const char *why);
int		 ha_lun_where(int lun);
/* LUN lun is served here now (1) or not. */
int		 ha_lun_here(int lun);
/* Where service IP addr is placed (head index; -1 unknown) and whether
 * this head holds it (*here).  Loop thread, like the others. */
int		 ha_ip_where(const char *addr, int *here);
/* Tests only: suspend the clock and lease checks and all disk I/O (a
 * head whose storage hangs inside a paused VM: only kill messages can
 * stop it).  duonas ha fault blind on|off. */
void		 ha_test_blind(int on);

/*
 * Maintenance moves (duonas node standby HEAD / node unstandby HEAD /
 * takeover / giveback / ip move ADDR HEAD): change the placement
 * overrides and let the coordinated sequence carry them out.  Both heads
 * must be dual active.  ha_maint_start writes one line per LUN and IP
 * that will move into out and returns their number (0: nothing to do,
 * -1: refused, the reason in out; while an earlier move is unfinished
 * and its timeout_ms has not passed).  ha_maint_poll returns 0 while
 * some have not arrived (and, with out, what is missing), else 1 when
 * every one arrived, 2 when some were placed elsewhere meanwhile (the
 * other head could not take a LUN); then, with out, one line per LUN
 * with the time it was out of service (or why it stayed) and the
 * total.  head: head index (-1 for ip move: back home).  ip move
 * moves the IP and what it serves (the LUNs homed on its head).
 */
enum ha_maint {
	HA_MAINT_STANDBY,	/* everything on head goes to the other */
	HA_MAINT_UNSTANDBY,	/* head's own LUNs and IPs come back */
	HA_MAINT_GIVEBACK,	/* every override cleared */
	HA_MAINT_IP_MOVE,
};
int		 ha_maint_start(enum ha_maint op, int head, const char *addr,
		    int timeout_ms, struct buf *out);
int		 ha_maint_poll(struct buf *out);

/* Remove every configured service IP (both heads') from this host's
 * interfaces: at daemon start before anything else, and for
 * `duonasd -R` (systemd ExecStopPost after a crash).  Any thread; needs
 * no ha_init.  Returns the number removed, -1 if one could not be. */
int		 ha_release_ips(const struct cfg *cfg);
void		 ha_status_text(struct buf *);
void		 ha_status_json(struct buf *);
/* Administration (loop thread).  Master move: hand the master role to
 * the peer (DAC(master) only, peer alive in DAC(slave)); returns 0, -2
 * not the master, -1 other refusal, with the reason in why. */
int		 ha_master_move(char *why, size_t len);
/* duonas reset: MONITOR or HALTED -> BOOT.  duonas shutdown: release
 * everything (the peer takes it over) and stay HALTED.  0, or -1 with
 * the reason in why. */
int		 ha_admin_reset(char *why, size_t len);
int		 ha_admin_shutdown(char *why, size_t len);
/*
 * Software versions (docs/boot-images.md): sw_self(buf, len) writes the
 * version string this head's heartbeats carry (at most 63 printable
 * characters); sw_compat(peer, why, len) judges the peer's: 1 when the
 * two heads may pair, else 0 with the reason.  An incompatible peer is
 * never paired with: a head in INIT stays there (nothing served) and a
 * serving head does not take the peer back; status says why.  Without
 * hooks the heartbeat carries PACKAGE_VERSION and every peer pairs.
 * Call before ha_init().
 */
typedef void	(*ha_sw_self_fn)(char *buf, size_t len);
typedef int	(*ha_sw_compat_fn)(const char *peer, char *why, size_t len);
void		 ha_sw_hooks(ha_sw_self_fn self, ha_sw_compat_fn compat);
/*
 * Cold start of both heads (both in INIT): hold(peer, master) returns 1
 * while the heads must not pair yet because one of them is about to
 * restart into the other's software (the newest compatible version
 * wins, docs/boot-images.md); called on every INIT exchange look, loop
 * thread, must not block.  NULL: never hold.
 */
typedef int	(*ha_sw_hold_fn)(const char *peer, int master);
void		 ha_sw_hold_hook(ha_sw_hold_fn hold);
/* The peer's software string as last heard ("" none).  Loop thread. */
const char	*ha_peer_swver(void);

/* LUNs (served or reserved) and service IPs this head still holds. */
int		 ha_held_count(void);
/* 1 when what the current state wants is served, nothing else held. */
int		 ha_settled(void);
/* 1 when the peer holds the reservation of every LUN. */
int		 ha_peer_owns_all(int *);
/* This head's HA state and the peer's as last heard (HA_STA_* bits of
 * ha_fsm.h; *peer 0 when the peer is not heard alive). */
void		 ha_pair_states(unsigned *me, unsigned *peer);

/*
 * A returning head reports its LUNs READY for the giveback only while fn
 * says this head is healthy (duonasd installs the local health monitor's
 * lhm_head_healthy); until then they stay PREPARING with fn's reason,
 * and the survivor keeps serving them: a head does not take its LUNs
 * back into the fault it surrendered for.  NULL (the default): always
 * healthy.  fn is called from the disk thread.
 */
void		 ha_set_health_check(int (*fn)(char *why, size_t len));

/* Read-only views for the metrics page (loop thread).  The state
 * machine (its counters); 1 when LUN lun is served here; service IP i
 * (-1 past the last) with its home head and whether it is held here;
 * heartbeat channel i (paths first, then the disk; NULL past the last). */
struct ha_fsm;
struct hb_chan;
const struct ha_fsm	*ha_fsm_view(void);
int		 ha_lun_serving(int lun);
/* How long LUN lun was out of service across its last coordinated move
 * (handover, giveback) in ms; -1 when none was measured. */
long long	 ha_lun_move_pause_ms(int lun);
/* The last takeover (decision to all served) and giveback (start to the
 * peer's resources released) on this head in ms; -1: none yet. */
void		 ha_last_durations(long long *takeover_ms,
		    long long *giveback_ms);
int		 ha_ip_view(int i, const struct cfg_vip **v, int *home,
		    int *held);
const struct hb_chan	*ha_mon_chan(int i, int *disk);
/* Heartbeats this head has sent (its sequence number). */
uint64_t	 ha_mon_sent(void);

#endif

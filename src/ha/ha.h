/*
 * ha.h — the HA controller as other modules see it: this head's operating
 * mode (master or slave) and whether the peer is alive.
 *
 * Modules register one opmode callback each and are told of every mode
 * change (DESIGN.md: "opmode(mode, sysconfig)").  Callbacks run on the loop
 * thread, in registration order, after the state change is logged.
 */
#ifndef DUONAS_HA_H
#define DUONAS_HA_H

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
/* After the services started (nfs_init): map exports to LUNs and gate
 * them.  Loop thread. */
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
/* LUNs (served or reserved) and service IPs this head still holds. */
int		 ha_held_count(void);
/* 1 when what the current state wants is served, nothing else held. */
int		 ha_settled(void);
/* 1 when the peer holds the reservation of every LUN. */
int		 ha_peer_owns_all(void);
/* This head's HA state and the peer's as last heard (HA_STA_* bits of
 * ha_fsm.h; *peer 0 when the peer is not heard alive). */
void		 ha_pair_states(unsigned *me, unsigned *peer);

#endif

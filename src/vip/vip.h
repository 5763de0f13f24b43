/*
 * vip.h — service IP takeover: add/remove an address with rtnetlink and
 * announce it with gratuitous ARP / unsolicited neighbour advertisements
 * (docs/failover.md; frames in garp.h).
 *
 * All functions run on the calling thread and block only on the kernel
 * (netlink replies are bounded by a 2 s receive timeout).  Errors are
 * logged with the address and interface and returned as -1 with errno
 * set.  Order on a move: the releasing head calls vip_release() (stop
 * announcing, remove the address) before the new owner's vip_addr_add()
 * and vip_announce_start(), so two heads never announce the same IP.
 */
#ifndef DUONAS_VIP_H
#define DUONAS_VIP_H

#include <event2/event.h>

#include "common/cfg.h"

/*
 * Add vip->addr/vip->prefix to vip->dev (IPv6 without duplicate address
 * detection, so it is usable at once).  Already present: success.
 * Unknown interface: -1, ENODEV.
 */
int	vip_addr_add(const struct cfg_vip *vip);
/* Remove it.  Not present: success. */
int	vip_addr_del(const struct cfg_vip *vip);
/* 1 when vip->addr is configured on vip->dev, 0 when not, -1 on error. */
int	vip_has_addr(const struct cfg_vip *vip);

/*
 * Send one announcement burst on vip->dev: ARP request + ARP reply for
 * IPv4, one unsolicited NA for IPv6.  Loopback and other non-Ethernet
 * interfaces have nothing to announce: success without sending.
 */
int	vip_announce_once(const struct cfg_vip *vip);

/* A repeating announcement; embed it, zero it before first use. */
struct vip_ann {
	struct event	*ev;
	struct cfg_vip	 vip;
	int		 left;		/* bursts still to send */
	int		 interval_ms;
	int		 nsent;		/* bursts sent successfully */
};

/*
 * Announce now, then count - 1 more times every interval_ms from base's
 * timer (cfg->garp_count, cfg->garp_interval_ms).  A running announcer
 * is restarted.  Returns 0, or -1 when the first burst failed (the
 * repeats are still scheduled: a link may come up meanwhile).
 */
int	vip_announce_start(struct vip_ann *, struct event_base *base,
	    const struct cfg_vip *vip, int count, int interval_ms);
/* Cancel pending bursts and free the timer.  Safe to call twice. */
void	vip_announce_stop(struct vip_ann *);

/* Give the address up: stop announcing (ann may be NULL), then remove. */
int	vip_release(struct vip_ann *ann, const struct cfg_vip *vip);

#endif

/*
 * lhm_policy.c — the local health monitor's decisions as pure functions:
 * counting probe results into a health with hysteresis, and which LUNs
 * an interface failure makes unreachable.  No I/O, no clocks, no state
 * of their own, so tests/unit/test_lhm.c walks them exhaustively.
 */
#include <string.h>

#include "common/cfg.h"
#include "common/util.h"
#include "lhm/lhm_int.h"

static const char *const health_names[] = {
	"unknown", "ok", "idle", "suspect", "FAULT",
};
_Static_assert(nitems(health_names) == LHM_H_COUNT, "health names");

static const char *const policy_names[] = {
	"report", "lun-handover", "surrender", "surrender-permanent",
	"abort", "interface",
};
_Static_assert(nitems(policy_names) == LHM_POL_COUNT, "policy names");

const char *
lhm_health_name(enum lhm_health h)
{
	return (unsigned)h < LHM_H_COUNT ? health_names[h] : "?";
}

const char *
lhm_policy_name(enum lhm_policy p)
{
	return (unsigned)p < LHM_POL_COUNT ? policy_names[p] : "?";
}

int
lhm_count_step(struct lhm_count *c, int result, int fault_after,
    int clear_after)
{
	if (fault_after < 1)
		fault_after = 1;
	if (clear_after < 1)
		clear_after = 1;
	switch (result) {
	case LHM_PROBE_IDLE:
		c->fails = c->oks = 0;
		c->h = LHM_H_IDLE;
		return 0;
	case LHM_PROBE_OK:
		c->fails = 0;
		c->oks++;
		/* a fault clears only after clear_after good results, so a
		 * flapping resource is not handed back and forth */
		if (c->h != LHM_H_FAULT || c->oks >= clear_after)
			c->h = LHM_H_OK;
		return 0;
	default:
		c->oks = 0;
		c->fails++;
		if (c->h == LHM_H_FAULT)
			return 0;
		if (c->fails >= fault_after) {
			c->h = LHM_H_FAULT;
			return 1;
		}
		c->h = LHM_H_SUSPECT;
		return 0;
	}
}

/* Head h has service IPs and every one of them is on a down interface. */
static int
head_cut(const struct cfg *cfg, int h, int (*down)(const char *, void *),
    void *arg)
{
	const struct cfg_head *hd = &cfg->heads[h];

	if (hd->nvips == 0)
		return 0;
	for (int i = 0; i < hd->nvips; i++)
		if (!down(hd->vips[i].dev, arg))
			return 0;
	return 1;
}

enum lhm_ifact
lhm_iface_plan(const struct cfg *cfg, int self,
    int (*down)(const char *dev, void *arg), void *arg, uint8_t *luns)
{
	int	cut[2], any = 0;

	memset(luns, 0, (size_t)cfg->nluns);
	for (int h = 0; h < 2 && h < cfg->nheads; h++)
		cut[h] = head_cut(cfg, h, down, arg);
	/* Our own IPs all gone: clients cannot reach anything here, and
	 * whatever else this head does (the peer's IPs in a takeover use
	 * the same interfaces as a rule) is moot: hand everything over. */
	if (cut[self])
		return LHM_IF_SURRENDER;
	for (int i = 0; i < cfg->nluns; i++)
		if (cfg->luns[i].home >= 0 && cfg->luns[i].home < 2 &&
		    cut[cfg->luns[i].home]) {
			luns[i] = 1;
			any = 1;
		}
	return any ? LHM_IF_HANDOVER : LHM_IF_NONE;
}

int
lhm_stuck(uint64_t since_us, uint64_t now_us, uint64_t limit_ms)
{
	return since_us != 0 && now_us > since_us &&
	    now_us - since_us > limit_ms * 1000;
}

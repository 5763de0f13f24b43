/*
 * test_fsm.c — the HA state machine against a golden table: every
 * (state, event) pair, reached through real event paths from HALTED, with
 * the resulting state, the transitions taken and the actions run written
 * out by hand below (docs/ha-states.md is the same table).  Then the
 * scenarios of the issue, action failure, events raised from callbacks,
 * counters, names, and the exact log lines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "ha/ha_fsm.h"
#include "t.h"

/* What the callbacks saw during one ha_fsm() call. */
static char	vias[256], acts[256];
static int	fail_act = -1;		/* action that returns -1 */
static int	post_evt = -1;		/* event an action posts */
static int	post_count;
static int	changed_bad;		/* changed ran before the write */

static void
append(char *dst, const char *s)
{
	if (dst[0] != '\0')
		strcat(dst, ",");
	strcat(dst, s);
}

static int
rec_act(struct ha_fsm *fsm, const struct ha_fsm_change *c, void *arg)
{
	int	i;

	(void)arg;
	append(acts, ha_fsm_act_name(c->act));
	if ((int)c->act == fail_act)
		return -1;
	for (i = 0; post_evt >= 0 && i < post_count; i++)
		ha_fsm(fsm, (enum ha_evt)post_evt);
	post_evt = -1;
	return 0;
}

static void
rec_changed(struct ha_fsm *fsm, const struct ha_fsm_change *c, void *arg)
{
	(void)arg;
	if (fsm->state != c->to)
		changed_bad++;
	append(vias, ha_fsm_tr_name(c->via));
}

static struct ha_fsm_ops ops;

static void
setup_ops(void)
{
	int	i;

	for (i = 0; i < HA_ACT_COUNT; i++)
		ops.act[i] = rec_act;
	ops.changed = rec_changed;
}

static void
feed(struct ha_fsm *fsm, const enum ha_evt *path, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		ha_fsm(fsm, path[i]);
}

/* Bring a fresh machine into state st through real events. */
static void
reach(struct ha_fsm *fsm, unsigned st)
{
	static const enum ha_evt
	    p_boot[] = { HA_EVT_POWER_ON },
	    p_im[] = { HA_EVT_POWER_ON, HA_EVT_ROLE_MASTER },
	    p_is[] = { HA_EVT_POWER_ON, HA_EVT_ROLE_SLAVE },
	    p_dm[] = { HA_EVT_POWER_ON, HA_EVT_ROLE_MASTER, HA_EVT_PEER_READY },
	    p_ds[] = { HA_EVT_POWER_ON, HA_EVT_ROLE_SLAVE, HA_EVT_PEER_READY },
	    p_dg[] = { HA_EVT_POWER_ON, HA_EVT_ROLE_MASTER,
		HA_EVT_BOOT_TIMEOUT },
	    p_mo[] = { HA_EVT_POWER_ON, HA_EVT_CONFIG_BAD };

	ha_fsm_init(fsm, &ops, NULL);
	switch (st) {
	case HA_STA_BOOT:	feed(fsm, p_boot, nitems(p_boot)); break;
	case HA_STA_INIT_M:	feed(fsm, p_im, nitems(p_im)); break;
	case HA_STA_INIT_S:	feed(fsm, p_is, nitems(p_is)); break;
	case HA_STA_DAC_M:	feed(fsm, p_dm, nitems(p_dm)); break;
	case HA_STA_DAC_S:	feed(fsm, p_ds, nitems(p_ds)); break;
	case HA_STA_DEGRADED:	feed(fsm, p_dg, nitems(p_dg)); break;
	case HA_STA_MONITOR:	feed(fsm, p_mo, nitems(p_mo)); break;
	default:		break;
	}
	vias[0] = acts[0] = '\0';
}

/*
 * The golden table: for every state and every event (in enum order),
 * "<final state> via <transitions> acts <actions>", "stay acts <action>",
 * or "ignored".
 */
#define IGN "ignored"
#define HALT_F "HALTED via FAULT acts HALT"
#define HALT_S "HALTED via SHUTDOWN acts HALT"
static const struct {
	unsigned	 state;
	const char	*out[HA_EVT_COUNT];
} golden[] = {
	{ HA_STA_BOOT, {
		IGN,					/* POWER_ON */
		"INIT(master) via MASTER acts INIT",	/* ROLE_MASTER */
		"INIT(slave) via SLAVE acts INIT",	/* ROLE_SLAVE */
		IGN,					/* PEER_READY */
		IGN,					/* PEER_DEGRADED */
		IGN,					/* BOOT_TIMEOUT */
		IGN,					/* PEER_DEAD */
		IGN,					/* PEER_RETURNED */
		IGN,					/* GIVEBACK_DONE */
		IGN,					/* CONFIG_CONFLICT */
		"MONITOR via FAULT acts MONITOR",	/* CONFIG_BAD */
		HALT_F, HALT_S,				/* FAULT, SHUTDOWN */
		IGN,					/* RESET */
		IGN, IGN,			/* MASTER_MOVE, MASTER_TAKE */
	} },
	{ HA_STA_INIT_M, {
		IGN, IGN, IGN,
		"DAC(master) via READY acts READY",
		"INIT(slave) via IMPERSONATE acts IMPERSONATE,GIVEWAIT",
		"DEGRADED via FAILOVER acts TAKEOVER",
		"DEGRADED via FAILOVER acts TAKEOVER",
		IGN, IGN,
		"MONITOR via FAULT acts MONITOR",
		"MONITOR via FAULT acts MONITOR",
		HALT_F, HALT_S, IGN,
		IGN, IGN,
	} },
	{ HA_STA_INIT_S, {
		IGN, IGN, IGN,
		"DAC(slave) via READY acts READY",
		"stay acts GIVEWAIT",
		"DEGRADED via IMPERSONATE,FAILOVER acts IMPERSONATE,TAKEOVER",
		"DEGRADED via IMPERSONATE,FAILOVER acts IMPERSONATE,TAKEOVER",
		IGN, IGN,
		"MONITOR via FAULT acts MONITOR",
		"MONITOR via FAULT acts MONITOR",
		HALT_F, HALT_S, IGN,
		IGN,
		"INIT(master) via IMPERSONATE acts IMPERSONATE",
	} },
	{ HA_STA_DAC_M, {
		IGN, IGN, IGN, IGN, IGN, IGN,
		"DEGRADED via FAILOVER acts TAKEOVER",
		IGN, IGN, IGN, IGN,
		HALT_F, HALT_S, IGN,
		"DAC(slave) via HANDOVER acts NOTHING",
		IGN,
	} },
	{ HA_STA_DAC_S, {
		IGN, IGN, IGN, IGN, IGN, IGN,
		"DEGRADED via IMPERSONATE,FAILOVER acts IMPERSONATE,TAKEOVER",
		IGN, IGN, IGN, IGN,
		HALT_F, HALT_S, IGN,
		IGN,
		"DAC(master) via IMPERSONATE acts IMPERSONATE",
	} },
	{ HA_STA_DEGRADED, {
		IGN, IGN, IGN, IGN, IGN, IGN, IGN,
		"stay acts GIVEBACK",
		"DAC(master) via FAILBACK acts FAILBACK",
		IGN, IGN,
		HALT_F, HALT_S, IGN,
		IGN, IGN,
	} },
	{ HA_STA_MONITOR, {
		IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN,
		HALT_F, HALT_S,
		"BOOT via RESET acts BOOT",
		IGN, IGN,
	} },
	{ HA_STA_HALTED, {
		"BOOT via POWER ON acts BOOT",
		IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN,
		IGN, IGN,
		"BOOT via RESET acts BOOT",
		IGN, IGN,
	} },
};
_Static_assert(nitems(golden) == HA_STA_COUNT, "a golden row per state");

static void
test_golden(void)
{
	struct ha_fsm		fsm;
	struct ha_fsm_change	c;
	char			got[1024];
	unsigned		i;
	int			e, rc, again, bad = 0, seen = 0;
	uint64_t		nign;

	for (i = 0; i < nitems(golden); i++) {
		for (e = 0; e < HA_EVT_COUNT; e++) {
			reach(&fsm, golden[i].state);
			if (fsm.state != golden[i].state) {
				T_OK(0, "could not reach %s",
				    ha_fsm_state_name(golden[i].state));
				return;
			}
			nign = fsm.nignored;
			rc = ha_fsm(&fsm, (enum ha_evt)e);
			if (rc == -1)
				snprintf(got, sizeof(got), "ignored");
			else if (vias[0] == '\0')
				snprintf(got, sizeof(got), "stay acts %s",
				    acts);
			else
				snprintf(got, sizeof(got), "%s via %s acts %s",
				    ha_fsm_state_name(fsm.state), vias, acts);
			seen++;
			if (strcmp(got, golden[i].out[e]) != 0) {
				bad++;
				printf("# %s + %s: got \"%s\", want \"%s\"\n",
				    ha_fsm_state_name(golden[i].state),
				    ha_fsm_evt_name((enum ha_evt)e), got,
				    golden[i].out[e]);
			}
			/* Consistency of return code, counters, lookup. */
			if ((rc == -1) != (fsm.nignored == nign + 1) ||
			    (rc == 1) != (vias[0] != '\0') ||
			    (ha_fsm_lookup(golden[i].state, (enum ha_evt)e,
			    &c, &again) == -1) != (rc == -1)) {
				bad++;
				printf("# %s + %s: rc %d inconsistent\n",
				    ha_fsm_state_name(golden[i].state),
				    ha_fsm_evt_name((enum ha_evt)e), rc);
			}
		}
	}
	T_EQ(seen, HA_STA_COUNT * HA_EVT_COUNT, "every (state, event) pair "
	    "walked");
	T_EQ(bad, 0, "every pair matches the golden table");
}

static void
test_scenarios(void)
{
	struct ha_fsm	a, b;

	/* Slave loses master: IMPERSONATE to master, then FAILOVER. */
	reach(&a, HA_STA_DAC_S);
	T_EQ(ha_fsm_opmode(a.state), HA_OPMODE_SLAVE, "DAC(slave) is slave");
	T_EQ(ha_fsm(&a, HA_EVT_PEER_DEAD), 1, "slave: PEER_DEAD");
	T_OK(strcmp(vias, "IMPERSONATE,FAILOVER") == 0, "slave loses master: "
	    "IMPERSONATE then FAILOVER (%s)", vias);
	T_EQ(a.state, HA_STA_DEGRADED, "slave ends DEGRADED");
	T_EQ(ha_fsm_opmode(a.state), HA_OPMODE_MASTER, "DEGRADED is master");
	T_EQ(a.ntr[HA_TR_IMPERSONATE], 1, "IMPERSONATE counted");
	T_EQ(a.ntr[HA_TR_FAILOVER], 1, "FAILOVER counted");

	/* Master loses slave. */
	reach(&a, HA_STA_DAC_M);
	T_EQ(ha_fsm(&a, HA_EVT_PEER_DEAD), 1, "master: PEER_DEAD");
	T_OK(a.state == HA_STA_DEGRADED && strcmp(vias, "FAILOVER") == 0,
	    "master loses slave: FAILOVER to DEGRADED");

	/* Both heads claim master with conflicting configurations. */
	reach(&a, HA_STA_INIT_M);
	reach(&b, HA_STA_INIT_M);
	ha_fsm(&a, HA_EVT_CONFIG_CONFLICT);
	ha_fsm(&b, HA_EVT_CONFIG_CONFLICT);
	T_OK(a.state == HA_STA_MONITOR && b.state == HA_STA_MONITOR,
	    "conflicting masters: MONITOR on both");
	T_EQ(ha_fsm_opmode(a.state), HA_OPMODE_MONITOR, "MONITOR opmode");
	T_EQ(ha_fsm(&a, HA_EVT_PEER_READY), -1, "MONITOR stays MONITOR");
	T_EQ(ha_fsm(&a, HA_EVT_RESET), 1, "RESET from MONITOR");
	T_EQ(a.state, HA_STA_BOOT, "back in BOOT");

	/* Peer absent at boot. */
	reach(&a, HA_STA_INIT_M);
	ha_fsm(&a, HA_EVT_BOOT_TIMEOUT);
	T_EQ(a.state, HA_STA_DEGRADED, "master alone at boot: DEGRADED");
	reach(&a, HA_STA_INIT_S);
	ha_fsm(&a, HA_EVT_BOOT_TIMEOUT);
	T_OK(a.state == HA_STA_DEGRADED && strcmp(vias,
	    "IMPERSONATE,FAILOVER") == 0, "slave alone at boot: IMPERSONATE, "
	    "FAILOVER");

	/* A returning master finds its LUNs owned by the DEGRADED slave: it
	 * impersonates a slave and waits; the survivor gives back. */
	reach(&a, HA_STA_INIT_M);		/* returning master */
	reach(&b, HA_STA_DAC_S);		/* the slave that survived */
	ha_fsm(&b, HA_EVT_PEER_DEAD);
	T_EQ(b.state, HA_STA_DEGRADED, "survivor DEGRADED");
	vias[0] = acts[0] = '\0';
	T_EQ(ha_fsm(&a, HA_EVT_PEER_DEGRADED), 1, "returning master sees "
	    "DEGRADED peer");
	T_OK(a.state == HA_STA_INIT_S && strcmp(acts, "IMPERSONATE,GIVEWAIT")
	    == 0, "impersonates a slave and waits (%s)", acts);
	reach(&a, HA_STA_INIT_S);
	ha_fsm(&a, HA_EVT_PEER_DEGRADED);
	T_EQ(a.state, HA_STA_INIT_S, "waits in INIT(slave), touches nothing");
	T_EQ(ha_fsm(&b, HA_EVT_PEER_RETURNED), 0, "survivor: peer returned, "
	    "giveback starts without a state change");
	T_EQ(ha_fsm(&b, HA_EVT_GIVEBACK_DONE), 1, "giveback done");
	T_EQ(b.state, HA_STA_DAC_M, "survivor FAILBACK to DAC(master)");
	T_EQ(ha_fsm(&a, HA_EVT_PEER_READY), 1, "returning head READY");
	T_EQ(a.state, HA_STA_DAC_S, "returning head DAC(slave)");

	/* master move: the master hands over, the slave takes; no action
	 * touches a resource (NOTHING, IMPERSONATE). */
	reach(&a, HA_STA_DAC_M);
	reach(&b, HA_STA_DAC_S);
	T_EQ(ha_fsm(&a, HA_EVT_MASTER_MOVE), 1, "master move on the master");
	T_OK(a.state == HA_STA_DAC_S && strcmp(vias, "HANDOVER") == 0 &&
	    strcmp(acts, "NOTHING") == 0, "master -> DAC(slave) via HANDOVER "
	    "(%s, %s)", vias, acts);
	T_EQ(a.ntr[HA_TR_HANDOVER], 1, "HANDOVER counted");
	vias[0] = acts[0] = '\0';
	T_EQ(ha_fsm(&b, HA_EVT_MASTER_TAKE), 1, "the peer takes the role");
	T_EQ(b.state, HA_STA_DAC_M, "peer DAC(master)");
	T_EQ(ha_fsm(&a, HA_EVT_MASTER_MOVE), -1, "no master move from "
	    "DAC(slave)");
	reach(&a, HA_STA_DEGRADED);
	T_EQ(ha_fsm(&a, HA_EVT_MASTER_MOVE), -1, "no master move from "
	    "DEGRADED (the peer is not there to take it)");

	/* Both heads INIT(slave): the configured master takes master, then
	 * the exchange makes the pair DAC. */
	reach(&a, HA_STA_INIT_S);
	reach(&b, HA_STA_INIT_S);
	T_EQ(ha_fsm(&a, HA_EVT_MASTER_TAKE), 1, "both slave: take master");
	T_EQ(a.state, HA_STA_INIT_M, "INIT(master)");
	T_EQ(ha_fsm(&a, HA_EVT_PEER_READY), 1, "then READY");
	T_EQ(ha_fsm(&b, HA_EVT_PEER_READY), 1, "peer READY");
	T_OK(a.state == HA_STA_DAC_M && b.state == HA_STA_DAC_S,
	    "one master, one slave");
}

static void
test_failure_and_reentry(void)
{
	struct ha_fsm	a;
	int		i;

	reach(&a, HA_STA_DAC_M);
	fail_act = HA_ACT_TAKEOVER;
	T_EQ(ha_fsm(&a, HA_EVT_PEER_DEAD), -1, "failed action returns -1");
	T_EQ(a.state, HA_STA_DAC_M, "state unchanged after failed action");
	T_EQ(a.nfailed, 1, "failure counted");
	fail_act = -1;

	/* The boot action raises ROLE_MASTER itself: queued, then run. */
	ha_fsm_init(&a, &ops, NULL);
	post_evt = HA_EVT_ROLE_MASTER;
	post_count = 1;
	vias[0] = '\0';
	T_EQ(ha_fsm(&a, HA_EVT_POWER_ON), 1, "POWER_ON");
	T_EQ(a.state, HA_STA_INIT_M, "event posted from an action ran after");
	T_OK(strcmp(vias, "POWER ON,MASTER") == 0, "in order (%s)", vias);

	/* Queue overflow is counted, never recursive. */
	ha_fsm_init(&a, &ops, NULL);
	post_evt = HA_EVT_RESET;
	post_count = 12;
	ha_fsm(&a, HA_EVT_POWER_ON);
	T_EQ(a.ndropped, 4, "events beyond the queue of 8 dropped");
	T_EQ(a.state, HA_STA_BOOT, "queued RESETs in BOOT ignored");
	T_EQ(a.nignored, 8, "and counted as ignored");
	T_EQ(a.nevents, 9, "9 events processed");

	T_EQ(ha_fsm(&a, (enum ha_evt)99), -1, "unknown event ignored");
	for (i = 0; i < 8; i++)
		T_OK(strcmp(ha_fsm_state_name(1u << i), "?") != 0,
		    "state %u named %s", 1u << i, ha_fsm_state_name(1u << i));
	T_OK(strcmp(ha_fsm_state_name(HA_STA_DAC), "?") == 0,
	    "a set is not a state");
	T_OK(strcmp(ha_fsm_tr_name(HA_TR_POWER_ON), "POWER ON") == 0,
	    "POWER ON");
	T_OK(strcmp(ha_fsm_evt_name(HA_EVT_COUNT), "?") == 0, "bad event");
}

/* The log: exactly one line per state change, in the documented form. */
static void
test_log(void)
{
	struct ha_fsm	a;
	char		path[] = "/tmp/duonas-t-fsm.XXXXXX", text[4096];
	int		fd, saved;
	ssize_t		n;

	fd = mkstemp(path);
	saved = dup(2);
	reach(&a, HA_STA_DAC_S);
	dup2(fd, 2);
	ha_fsm(&a, HA_EVT_PEER_DEAD);
	ha_fsm(&a, HA_EVT_PEER_DEAD);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	T_OK(strstr(text, "ha: DAC(slave) -> DAC(master) on PEER_DEAD via "
	    "IMPERSONATE\n") != NULL, "IMPERSONATE log line");
	T_OK(strstr(text, "ha: DAC(master) -> DEGRADED on PEER_DEAD via "
	    "FAILOVER\n") != NULL, "FAILOVER log line");
	T_OK(strstr(text, "ha: PEER_DEAD ignored in DEGRADED\n") != NULL,
	    "ignored event logged");
	{
		int lines = 0;
		char *p;

		for (p = text; *p; p++)
			lines += *p == '\n';
		T_EQ(lines, 3, "one line per change + one for the ignored "
		    "event");
	}
	T_OK(a.changed_us > 0 && a.changed_wall_ms > 0, "timestamped");
	T_EQ(a.nchanges, 5, "changes counted (3 to reach DAC + 2)");
}

int
main(void)
{
	setup_ops();
	test_golden();
	test_scenarios();
	test_failure_and_reentry();
	test_log();
	T_EQ(changed_bad, 0, "changed callback always ran after the state "
	    "was written");
	return t_done();
}

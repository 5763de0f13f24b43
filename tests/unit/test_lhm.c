/*
 * test_lhm.c — the local health monitor's pure parts: counting probe
 * results into a health (fault-after, clear-after hysteresis, IDLE),
 * the interface plan (which LUNs move, when the head surrenders) for
 * every combination of interfaces down in a two-interface cluster, the
 * stuck check, the health { } block of duonas.conf (defaults, values,
 * every error naming the problem), and the registration table with its
 * status output; and, with a real event loop, the systemd notification
 * datagrams (READY=1, WATCHDOG=1 from the loop, STOPPING=1) sent to a
 * NOTIFY_SOCKET of the test's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/loop.h"
#include "common/util.h"
#include "lhm/lhm_int.h"
#include "t.h"

static const char *base_conf =
    "cluster t\n"
    "head A {\n id 1\n role master\n link 10.0.0.1:7400\n"
    " service-ip 192.0.2.10/24 dev eth0\n"
    " service-ip 198.51.100.10/24 dev eth1\n}\n"
    "head B {\n id 2\n role slave\n link 10.0.0.2:7400\n"
    " service-ip 192.0.2.20/24 dev eth0\n}\n"
    "lun la {\n id 1\n path /x/la\n data /x/la.d\n home A\n}\n"
    "lun la2 {\n id 2\n path /x/la2\n data /x/la2.d\n home A\n}\n"
    "lun lb {\n id 3\n path /x/lb\n data /x/lb.d\n home B\n}\n";

static int
parse(const char *extra, struct cfg *c, char *err, size_t len)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", base_conf, extra);
	return cfg_parse_buf("t.conf", text, strlen(text), c, err, len);
}

static void
test_count(void)
{
	struct lhm_count c;
	int i, became = 0;

	memset(&c, 0, sizeof(c));
	T_EQ(c.h, LHM_H_UNKNOWN, "fresh resource unknown");
	T_EQ(lhm_count_step(&c, LHM_PROBE_OK, 2, 3), 0, "ok: no action");
	T_EQ(c.h, LHM_H_OK, "first ok -> ok");
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 2, 3), 0, "one failure: no action");
	T_EQ(c.h, LHM_H_SUSPECT, "one failure -> suspect");
	T_EQ(lhm_count_step(&c, LHM_PROBE_OK, 2, 3), 0, "ok again");
	T_EQ(c.h, LHM_H_OK, "a success clears suspect at once");
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 2, 3), 0, "fail 1");
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 2, 3), 1, "fail 2: FAULT, act");
	T_EQ(c.h, LHM_H_FAULT, "fault after 2");
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 2, 3), 0, "fail 3: no second act");
	/* hysteresis: clear only after 3 successes in a row */
	T_EQ(lhm_count_step(&c, LHM_PROBE_OK, 2, 3), 0, "ok 1");
	T_EQ(lhm_count_step(&c, LHM_PROBE_OK, 2, 3), 0, "ok 2");
	T_EQ(c.h, LHM_H_FAULT, "still FAULT after 2 successes");
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 2, 3), 0, "flap: fail");
	T_EQ(c.h, LHM_H_FAULT, "flapping resource stays FAULT, no new act");
	for (i = 0; i < 3; i++)
		lhm_count_step(&c, LHM_PROBE_OK, 2, 3);
	T_EQ(c.h, LHM_H_OK, "3 successes in a row clear the fault");
	T_EQ(lhm_count_step(&c, LHM_PROBE_IDLE, 2, 3), 0, "idle: no action");
	T_EQ(c.h, LHM_H_IDLE, "idle");
	T_EQ(c.fails + c.oks, 0, "idle resets the counters");
	/* fault-after 1: the first failure acts; 0 is treated as 1 */
	memset(&c, 0, sizeof(c));
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 1, 1), 1, "fault-after 1 acts at once");
	memset(&c, 0, sizeof(c));
	T_EQ(lhm_count_step(&c, LHM_PROBE_FAIL, 0, 0), 1, "fault-after 0 means 1");
	/* exactly one act for a long failure */
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 100; i++)
		became += lhm_count_step(&c, LHM_PROBE_FAIL, 3, 3);
	T_EQ(became, 1, "100 failures: exactly one action");
}

static int
down_set(const char *dev, void *arg)
{
	const char *set = arg;	/* "eth0,eth1," */
	char key[40];

	snprintf(key, sizeof(key), "%s,", dev);
	return strstr(set, key) != NULL;
}

static void
test_iface_plan(void)
{
	struct cfg	c;
	char		err[256];
	uint8_t		luns[CFG_MAX_LUNS];
	enum lhm_ifact	a;

	T_EQ(parse("", &c, err, sizeof(err)), 0, "cluster parses");
	a = lhm_iface_plan(&c, 0, down_set, (void *)"", luns);
	T_EQ(a, LHM_IF_NONE, "nothing down: nothing to do");
	T_EQ(luns[0] + luns[1] + luns[2], 0, "no LUN marked");
	/* A has IPs on eth0 and eth1: one of them down keeps A reachable */
	a = lhm_iface_plan(&c, 0, down_set, (void *)"eth1,", luns);
	T_EQ(a, LHM_IF_NONE, "A: eth1 down, eth0 up: still reachable");
	/* eth0 down on A: A keeps eth1; B's IPs (all on eth0) are cut here */
	a = lhm_iface_plan(&c, 0, down_set, (void *)"eth0,", luns);
	T_EQ(a, LHM_IF_HANDOVER, "A: eth0 down: hand over B's LUNs it serves");
	T_OK(!luns[0] && !luns[1] && luns[2], "only lb is marked (%d%d%d)",
	    luns[0], luns[1], luns[2]);
	a = lhm_iface_plan(&c, 0, down_set, (void *)"eth0,eth1,", luns);
	T_EQ(a, LHM_IF_SURRENDER, "A: every service interface down: surrender");
	/* head B: its only service interface is eth0 */
	a = lhm_iface_plan(&c, 1, down_set, (void *)"eth0,", luns);
	T_EQ(a, LHM_IF_SURRENDER, "B: eth0 down: surrender");
	a = lhm_iface_plan(&c, 1, down_set, (void *)"eth1,", luns);
	T_EQ(a, LHM_IF_NONE, "B: eth1 down: A's IPs still on eth0");
	a = lhm_iface_plan(&c, 1, down_set, (void *)"eth9,", luns);
	T_EQ(a, LHM_IF_NONE, "an interface without service IPs does not count");
}

static void
test_stuck(void)
{
	T_EQ(lhm_stuck(0, 10000000, 1000), 0, "idle (0) is never stuck");
	T_EQ(lhm_stuck(1000000, 1900000, 1000), 0, "900 ms < 1000 ms limit");
	T_EQ(lhm_stuck(1000000, 2000000, 1000), 0, "exactly the limit: not yet");
	T_EQ(lhm_stuck(1000000, 2000001, 1000), 1, "past the limit: stuck");
	T_EQ(lhm_stuck(3000000, 2000000, 1000), 0, "clock before start: no");
}

static void
test_cfg(void)
{
	struct cfg	c;
	char		err[256];

	T_EQ(parse("", &c, err, sizeof(err)), 0, "no health block: defaults");
	T_EQ(c.health_interval_ms, 1000, "default interval 1 s");
	T_EQ(c.health_fault_after, 2, "default fault-after 2");
	T_EQ(c.health_clear_after, 3, "default clear-after 3");
	T_EQ(c.health_worker_stuck_ms, 60000, "default worker-stuck 60 s");
	T_EQ(c.health_loop_stuck_ms, 10000, "default loop-stuck 10 s");
	T_EQ(c.health_io_timeout_ms, 10000, "default io-timeout 10 s");
	T_EQ(c.health_wellness_s, 3600, "default wellness hourly");
	T_EQ(c.health_lun_probe, 1, "data probe on by default");
	T_EQ(parse("health {\n interval 250\n fault-after 3\n clear-after 5\n"
	    " worker-stuck 2000\n loop-stuck 3000\n io-timeout 4000\n"
	    " wellness 0\n data-probe 0\n}\n", &c, err, sizeof(err)), 0,
	    "a full health block parses");
	T_OK(c.health_interval_ms == 250 && c.health_fault_after == 3 &&
	    c.health_clear_after == 5 && c.health_worker_stuck_ms == 2000 &&
	    c.health_loop_stuck_ms == 3000 && c.health_io_timeout_ms == 4000 &&
	    c.health_wellness_s == 0 && c.health_lun_probe == 0,
	    "every value taken");
	T_EQ(parse("health {\n interval 10\n}\n", &c, err, sizeof(err)), -1,
	    "interval 10 ms refused");
	T_OK(strstr(err, "interval") && strstr(err, "50..60000"),
	    "message names the key and range: %s", err);
	T_EQ(parse("health {\n fault-after 0\n}\n", &c, err, sizeof(err)), -1,
	    "fault-after 0 refused");
	T_EQ(parse("health {\n probe-everything 1\n}\n", &c, err, sizeof(err)),
	    -1, "unknown keyword refused");
	T_OK(strstr(err, "probe-everything") && strstr(err, "health"),
	    "message names keyword and block: %s", err);
	T_EQ(parse("health {\n wellness\n}\n", &c, err, sizeof(err)), -1,
	    "a key without a value refused");
}

static int	probe_rv = LHM_PROBE_OK;

static int
probe(void *arg, char *d, size_t len)
{
	snprintf(d, len, "probe of %s", (const char *)arg);
	return probe_rv;
}

static void
test_registry(void)
{
	struct buf	b;
	int		a, b2;
	char		why[128];

	a = lhm_register("svc-a", LHM_POL_REPORT, -1, probe, (void *)"a");
	b2 = lhm_register("a-name-much-longer-than-31-bytes-is-cut",
	    LHM_POL_SOFTWARE, -1, probe, (void *)"b");
	T_OK(a >= 0 && b2 >= 0 && a != b2, "two registrations (%d, %d)", a, b2);
	buf_init(&b);
	lhm_status_text(&b);
	buf_add(&b, "", 1);
	T_OK(strstr((char *)b.data, "not monitored") != NULL,
	    "status before start says not monitored");
	T_OK(strstr((char *)b.data, "svc-a") != NULL, "lists svc-a");
	T_OK(strstr((char *)b.data, "a-name-much-longer-than-31-byte") &&
	    !strstr((char *)b.data, "31-bytes"), "long name cut to 31 bytes");
	buf_reset(&b);
	lhm_status_json(&b);
	buf_add(&b, "", 1);
	T_OK(strstr((char *)b.data, "\"name\":\"svc-a\",\"health\":\"unknown\","
	    "\"policy\":\"report\"") != NULL, "json entry: %s", (char *)b.data);
	T_OK(strstr((char *)b.data, "\"last_fault\":null") != NULL,
	    "json: no fault yet");
	T_EQ(lhm_head_healthy(why, sizeof(why)), 1, "head healthy");
	lhm_unregister(a);
	lhm_unregister(b2);
	buf_reset(&b);
	lhm_status_text(&b);
	buf_add(&b, "", 1);
	T_OK(strstr((char *)b.data, "svc-a") == NULL, "unregistered: gone");
	buf_free(&b);
	T_OK(strcmp(lhm_health_name(LHM_H_FAULT), "FAULT") == 0 &&
	    strcmp(lhm_policy_name(LHM_POL_LUN), "lun-handover") == 0,
	    "names");
}

/* The daemon's state line for STATUS=: changes once during the run. */
static void
test_status(char *buf, size_t len)
{
	static int calls;

	snprintf(buf, len, "test state %d", ++calls <= 3 ? 1 : 2);
}

static void
exit_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	loop_exit();
}

/* What the notify socket received. */
static struct {
	int	ready, dog, stopping, other, status;
} got;

/* Read what is queued on the notify socket: an AF_UNIX datagram sender
 * blocks once the receiver holds net.unix.max_dgram_qlen (10) of them,
 * so the loop reads as they come, not only at the end (the loop's 8
 * WATCHDOG=1, READY=1 and two STATUS= are 11). */
static void
notify_drain(evutil_socket_t fd, short ev, void *arg)
{
	char	msg[64];
	ssize_t	n;

	(void)ev; (void)arg;
	while ((n = recv(fd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[n] = 0;
		if (strcmp(msg, "READY=1") == 0)
			got.ready++;
		else if (strcmp(msg, "WATCHDOG=1") == 0)
			got.dog++;
		else if (strcmp(msg, "STOPPING=1") == 0)
			got.stopping++;
		else if (strncmp(msg, "STATUS=", 7) == 0)
			got.status += strcmp(msg, "STATUS=test state 1") == 0 ?
			    1 : strcmp(msg, "STATUS=test state 2") == 0 ?
			    10 : 100;
		else
			got.other++;
	}
}

static void
test_notify(void)
{
	struct sockaddr_un	 sun;
	struct cfg		 c;
	struct timeval		 tv = { 0, 400000 };
	struct event		*ev, *rev;
	struct buf		 b;
	char			 err[256];
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/test_lhm.%d.sock",
	    (int)getpid());
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	T_OK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "notify socket bound");
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	T_EQ(parse("health {\n interval 50\n loop-stuck 1000\n}\n", &c, err,
	    sizeof(err)), 0, "cluster with a 50 ms health interval");
	loop_init();
	T_EQ(lhm_start(&c, 0), 0, "monitor started");
	lhm_notify_status_fn(test_status);
	lhm_notify_ready();
	ev = evtimer_new(loop_base(), exit_cb, NULL);
	evtimer_add(ev, &tv);
	rev = event_new(loop_base(), fd, EV_READ | EV_PERSIST, notify_drain,
	    NULL);
	event_add(rev, NULL);
	loop_run();
	buf_init(&b);
	lhm_status_text(&b);
	buf_add(&b, "", 1);
	T_OK(strstr((char *)b.data, "event-loop") &&
	    strstr((char *)b.data, "none faulted"),
	    "event loop watched and healthy:\n%s", (char *)b.data);
	buf_free(&b);
	notify_drain(fd, 0, NULL);	/* room for STOPPING=1 */
	lhm_notify_stopping();
	lhm_stop();
	event_free(rev);
	event_free(ev);
	notify_drain(fd, 0, NULL);
	T_EQ(got.status, 11, "STATUS= once per change of the state line");
	T_EQ(got.ready, 1, "READY=1 once");
	T_OK(got.dog >= 4, "WATCHDOG=1 from the loop every interval (%d in "
	    "400 ms)", got.dog);
	T_EQ(got.stopping, 1, "STOPPING=1 once");
	T_EQ(got.other, 0, "nothing else");
	close(fd);
	unlink(sun.sun_path);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	test_count();
	test_iface_plan();
	test_stuck();
	test_cfg();
	test_registry();
	test_notify();
	return t_done();
}

/*
 * test_hooks.c — event hooks (src/hooks): the argument and environment
 * vectors of each event, hook name filtering, the bounded queue, output
 * cut into lines; then the worker itself on a temporary directory: hooks
 * run in name order with the event, non-executables and hidden names
 * are skipped, a hook past the time limit is killed, posting never
 * waits for a hook.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "hooks/hooks_int.h"
#include "t.h"

static const char *
env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static int
argc_of(struct hook_cmd *c)
{
	int n = 0;

	while (c->argv[n] != NULL)
		n++;
	return n;
}

static void
test_cmd(void)
{
	struct hook_ev	 ev;
	struct hook_cmd	 c;
	char		*base[] = { "PATH=/bin", "DUONAS_EVENT=forged",
			    "DUONAS_X=1", "LANG=C", NULL };
	char		 longwhy[600];

	hook_ev_fill(&ev, HOOK_STATE, &(const struct hook_args){
	    .old = "DAC(master)", .state = "DEGRADED", .why = "PEER_DEAD" },
	    "DEGRADED");
	snprintf(ev.head, sizeof(ev.head), "B");
	snprintf(ev.cluster, sizeof(ev.cluster), "c1");
	ev.seq = 7;
	ev.time_ms = 1234;
	T_EQ(hook_cmd_build(&c, &ev, "/x/10-a", base), 0, "state: built");
	T_EQ(argc_of(&c), 5, "state: 5 arguments");
	T_OK(strcmp(c.argv[0], "/x/10-a") == 0, "argv[0] is the path");
	T_OK(strcmp(c.argv[1], "state") == 0, "argv[1] is the event");
	T_OK(strcmp(c.argv[2], "DAC(master)") == 0 &&
	    strcmp(c.argv[3], "DEGRADED") == 0 &&
	    strcmp(c.argv[4], "PEER_DEAD") == 0, "state: OLD NEW EVENT");
	T_OK(strcmp(env_get(c.envp, "DUONAS_EVENT"), "state") == 0,
	    "DUONAS_EVENT=state (the inherited one is dropped)");
	T_OK(env_get(c.envp, "DUONAS_X") == NULL,
	    "inherited DUONAS_* variables dropped");
	T_OK(env_get(c.envp, "PATH") && strcmp(env_get(c.envp, "PATH"),
	    "/bin") == 0 && env_get(c.envp, "LANG") != NULL,
	    "the rest of the environment is inherited");
	T_OK(strcmp(env_get(c.envp, "DUONAS_HEAD"), "B") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_CLUSTER"), "c1") == 0,
	    "DUONAS_HEAD, DUONAS_CLUSTER");
	T_OK(strcmp(env_get(c.envp, "DUONAS_STATE"), "DEGRADED") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_OLD_STATE"), "DAC(master)") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_REASON"), "PEER_DEAD") == 0,
	    "DUONAS_STATE, DUONAS_OLD_STATE, DUONAS_REASON");
	T_OK(strcmp(env_get(c.envp, "DUONAS_SEQ"), "7") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_TIME_MS"), "1234") == 0,
	    "DUONAS_SEQ, DUONAS_TIME_MS");
	T_OK(env_get(c.envp, "DUONAS_LUN") == NULL,
	    "no DUONAS_LUN for a state change");
	hook_cmd_free(&c);

	hook_ev_fill(&ev, HOOK_LUN_SERVED, &(const struct hook_args){
	    .lun = "la", .lun_id = 3 }, "DEGRADED");
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), 0, "lun-served: built");
	T_EQ(argc_of(&c), 4, "lun-served: 4 arguments");
	T_OK(strcmp(c.argv[1], "lun-served") == 0 &&
	    strcmp(c.argv[2], "la") == 0 && strcmp(c.argv[3], "3") == 0,
	    "lun-served NAME ID");
	T_OK(strcmp(env_get(c.envp, "DUONAS_LUN"), "la") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_LUN_ID"), "3") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_STATE"), "DEGRADED") == 0,
	    "DUONAS_LUN, DUONAS_LUN_ID, DUONAS_STATE");
	hook_cmd_free(&c);

	hook_ev_fill(&ev, HOOK_IP_RELEASED, &(const struct hook_args){
	    .ip = "192.0.2.10", .dev = "eth0" }, "HALTED");
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), 0, "ip-released: built");
	T_OK(argc_of(&c) == 4 && strcmp(c.argv[1], "ip-released") == 0 &&
	    strcmp(c.argv[2], "192.0.2.10") == 0 &&
	    strcmp(c.argv[3], "eth0") == 0, "ip-released ADDR DEV");
	T_OK(strcmp(env_get(c.envp, "DUONAS_IP"), "192.0.2.10") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_DEV"), "eth0") == 0,
	    "DUONAS_IP, DUONAS_DEV");
	hook_cmd_free(&c);

	memset(longwhy, 'x', sizeof(longwhy) - 1);
	longwhy[sizeof(longwhy) - 1] = 0;
	hook_ev_fill(&ev, HOOK_FAULT, &(const struct hook_args){
	    .why = longwhy }, "DAC(master)");
	T_EQ(strlen(ev.why), HOOK_STR_MAX - 1, "a long reason is cut to fit");
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), 0, "fault: built");
	T_OK(argc_of(&c) == 3 && strcmp(c.argv[1], "fault") == 0 &&
	    strlen(c.argv[2]) == HOOK_STR_MAX - 1, "fault REASON");
	T_EQ(strlen(env_get(c.envp, "DUONAS_REASON")), HOOK_STR_MAX - 1,
	    "DUONAS_REASON holds the whole (cut) reason");
	hook_cmd_free(&c);

	hook_ev_fill(&ev, HOOK_CONFIG, &(const struct hook_args){
	    .gen = 42, .why = NULL }, "DAC(slave)");
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), 0, "config: built");
	T_OK(argc_of(&c) == 4 && strcmp(c.argv[1], "config") == 0 &&
	    strcmp(c.argv[2], "42") == 0 && strcmp(c.argv[3], "") == 0,
	    "config GENERATION SUMMARY (NULL summary: empty)");
	T_OK(strcmp(env_get(c.envp, "DUONAS_GENERATION"), "42") == 0 &&
	    env_get(c.envp, "DUONAS_SUMMARY") != NULL,
	    "DUONAS_GENERATION, DUONAS_SUMMARY");
	hook_cmd_free(&c);

	hook_ev_fill(&ev, HOOK_BOOT, &(const struct hook_args){
	    .why = "good", .slot = "B", .version = "1.2.3" }, "DAC(master)");
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), 0, "boot: built");
	T_OK(argc_of(&c) == 5 && strcmp(c.argv[1], "boot") == 0 &&
	    strcmp(c.argv[2], "good") == 0 && strcmp(c.argv[3], "B") == 0 &&
	    strcmp(c.argv[4], "1.2.3") == 0, "boot good SLOT VERSION");
	T_OK(strcmp(env_get(c.envp, "DUONAS_REASON"), "good") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_SLOT"), "B") == 0 &&
	    strcmp(env_get(c.envp, "DUONAS_VERSION"), "1.2.3") == 0,
	    "DUONAS_REASON, DUONAS_SLOT, DUONAS_VERSION");
	hook_cmd_free(&c);

	ev.evt = HOOK_EVT_COUNT;
	T_EQ(hook_cmd_build(&c, &ev, "h", NULL), -1, "unknown event refused");
	hook_cmd_free(&c);
}

static void
test_names(void)
{
	T_OK(hook_name_ok("10-notify"), "10-notify runs");
	T_OK(hook_name_ok("notify.sh"), "notify.sh runs");
	T_OK(!hook_name_ok(".hidden"), ".hidden skipped");
	T_OK(!hook_name_ok("."), ". skipped");
	T_OK(!hook_name_ok("notify~"), "backup notify~ skipped");
	T_OK(!hook_name_ok("notify.dpkg-old"), "notify.dpkg-old skipped");
	T_OK(!hook_name_ok("notify.rpmnew"), "notify.rpmnew skipped");
	T_OK(!hook_name_ok(""), "empty name skipped");
}

static void
test_queue(void)
{
	struct hook_queue	q;
	struct hook_ev		ev, out;
	int			ok = 1;

	T_EQ(hook_queue_init(&q, 0), -1, "a queue of 0 is refused");
	T_EQ(hook_queue_init(&q, 3), 0, "queue of 3");
	T_EQ(hook_queue_pop(&q, &out), -1, "empty: nothing to pop");
	memset(&ev, 0, sizeof(ev));
	for (int i = 1; i <= 4; i++) {
		ev.seq = (uint64_t)i;
		if (hook_queue_push(&q, &ev) != (i <= 3 ? 0 : -1))
			ok = 0;
	}
	T_OK(ok, "3 pushed, the 4th refused");
	T_EQ(q.dropped, 1, "the refused one counted");
	T_OK(hook_queue_pop(&q, &out) == 0 && out.seq == 1, "FIFO: 1 first");
	ev.seq = 5;
	T_EQ(hook_queue_push(&q, &ev), 0, "room again after a pop");
	ok = 1;
	for (uint64_t want = 2; want <= 5; want++) {
		if (want == 4)
			continue;	/* dropped */
		if (hook_queue_pop(&q, &out) != 0 || out.seq != want)
			ok = 0;
	}
	T_OK(ok, "then 2, 3, 5 in order across the wrap");
	T_EQ(q.len, 0, "empty again");
	hook_queue_free(&q);
}

static char	got[8][HOOK_LINE_MAX + 1];
static int	ngot;

static void
line_cb(const char *s, void *arg)
{
	(void)arg;
	if (ngot < 8)
		snprintf(got[ngot], sizeof(got[ngot]), "%s", s);
	ngot++;
}

static void
test_lines(void)
{
	struct hook_lines	l;
	char			big[HOOK_LINE_MAX + 50];

	memset(&l, 0, sizeof(l));
	l.line = line_cb;
	hook_lines_feed(&l, "one\ntw", 6);
	T_EQ(ngot, 1, "a complete line is logged at once");
	hook_lines_feed(&l, "o\n\nthree", 8);
	T_OK(ngot == 3 && strcmp(got[1], "two") == 0 && got[2][0] == 0,
	    "a line across two reads; an empty line");
	hook_lines_flush(&l);
	T_OK(ngot == 4 && strcmp(got[3], "three") == 0,
	    "the last line without a newline is logged at the end");
	memset(big, 'y', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ngot = 0;
	hook_lines_feed(&l, big, sizeof(big));
	hook_lines_feed(&l, "z\n", 2);
	T_OK(ngot == 2 && strlen(got[0]) == HOOK_LINE_MAX &&
	    strcmp(got[1], "z") == 0,
	    "a long line is cut at %d bytes, the rest dropped", HOOK_LINE_MAX);
}

/* the events { } block of duonas.conf (src/common/cfg.c) */
#define CONF_HEADS \
	"cluster demo\n" \
	"head A {\n id 1\n role master\n link 127.0.0.11:7401\n}\n" \
	"head B {\n id 2\n role slave\n link 127.0.0.12:7401\n}\n"

static void
test_cfg(void)
{
	struct cfg	*c = xcalloc(1, sizeof(*c));
	char		 err[512];
	const char	*t;

	t = CONF_HEADS;
	T_EQ(cfg_parse_buf("t.conf", t, strlen(t), c, err, sizeof(err)), 0,
	    "a configuration without events { }");
	T_OK(strcmp(c->events_dir, SYSCONFDIR "/duonas/events.d") == 0 &&
	    c->events_timeout_s == 10 && c->events_queue == 64,
	    "defaults: %s, 10 s, 64 events", c->events_dir);
	t = CONF_HEADS "events {\n dir \"/srv/hooks\"\n timeout 3\n"
	    " queue 5\n}\n";
	T_EQ(cfg_parse_buf("t.conf", t, strlen(t), c, err, sizeof(err)), 0,
	    "events { dir timeout queue }");
	T_OK(strcmp(c->events_dir, "/srv/hooks") == 0 &&
	    c->events_timeout_s == 3 && c->events_queue == 5,
	    "read: %s, %d s, %d events", c->events_dir, c->events_timeout_s,
	    c->events_queue);
	t = CONF_HEADS "events {\n dir \"\"\n}\n";
	T_OK(cfg_parse_buf("t.conf", t, strlen(t), c, err, sizeof(err)) < 0 &&
	    strstr(err, "empty value") != NULL, "dir \"\" refused: %s", err);
	t = CONF_HEADS "events {\n timeout 0\n}\n";
	T_OK(cfg_parse_buf("t.conf", t, strlen(t), c, err, sizeof(err)) < 0 &&
	    strstr(err, "t.conf:13:") != NULL, "timeout 0 refused: %s", err);
	t = CONF_HEADS "events {\n script /x\n}\n";
	T_OK(cfg_parse_buf("t.conf", t, strlen(t), c, err, sizeof(err)) < 0 &&
	    strstr(err, "script") != NULL, "unknown keyword refused: %s", err);
	free(c);
}

/* ---- the worker, for real -------------------------------------------- */

static char	dir[128], rec[160];

static void
put_hook(const char *name, const char *body, mode_t mode)
{
	char	path[300];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, mode);
}

static int
count_lines(const char *path)
{
	FILE	*f = fopen(path, "r");
	int	 c, n = 0;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int
wait_lines(const char *path, int n, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (count_lines(path) >= n)
			return 1;
		usleep(20000);
	}
	return count_lines(path) >= n;
}

static void
test_worker(void)
{
	struct cfg	*cfg = xcalloc(1, sizeof(*cfg));
	char		 body[400], line[512];
	FILE		*f;
	uint64_t	 t0;
	int		 n;

	snprintf(dir, sizeof(dir), "/tmp/test_hooks.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	snprintf(rec, sizeof(rec), "%s/record", dir);
	snprintf(body, sizeof(body), "echo \"$(basename \"$0\") $* "
	    "$DUONAS_HEAD $DUONAS_STATE\" >>%s", rec);
	put_hook("20-b", body, 0755);
	put_hook("10-a", body, 0755);
	put_hook("30-noexec", body, 0644);
	put_hook(".40-hidden", body, 0755);
	put_hook("50-backup~", body, 0755);

	snprintf(cfg->events_dir, sizeof(cfg->events_dir), "%s", dir);
	snprintf(cfg->cluster, sizeof(cfg->cluster), "c");
	cfg->events_timeout_s = 1;
	cfg->events_queue = 8;
	hooks_event(HOOK_STATE, .old = "BOOT", .state = "INIT",
	    .why = "START");	/* before start: remembered, not run */
	T_EQ(hooks_start(cfg, "A"), 0, "worker started");
	hooks_event(HOOK_LUN_SERVED, .lun = "la", .lun_id = 1);
	hooks_event(HOOK_FAULT, .why = "lease lost");
	T_OK(wait_lines(rec, 4, 5000), "two events, two hooks each");
	f = fopen(rec, "r");
	n = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		static const char *const want[] = {
			"10-a lun-served la 1 A INIT\n",
			"20-b lun-served la 1 A INIT\n",
			"10-a fault lease lost A INIT\n",
			"20-b fault lease lost A INIT\n",
		};
		if (n < 4 && strcmp(line, want[n]) == 0)
			n++;
		else
			n = 100;
	}
	if (f != NULL)
		fclose(f);
	T_EQ(n, 4, "in event order, hooks in name order, arguments and "
	    "DUONAS_STATE from before the start; non-executable, hidden "
	    "and backup files skipped");

	/* a hook that sleeps past the time limit: killed, and the next
	 * event is not held up longer than that */
	put_hook("05-sleep", "echo going to sleep; sleep 30; echo woke", 0755);
	unlink(rec);
	t0 = now_ms();
	hooks_event(HOOK_IP_ADDED, .ip = "192.0.2.1", .dev = "eth0");
	T_OK(now_ms() - t0 < 100, "posting does not wait for the hooks");
	T_OK(wait_lines(rec, 2, 5000), "the hooks after the sleeper ran");
	T_OK(now_ms() - t0 >= 900 && now_ms() - t0 < 4000,
	    "... after the 1 s time limit (%llu ms)",
	    (unsigned long long)(now_ms() - t0));
	hooks_stop();
	hooks_event(HOOK_FAULT, .why = "after stop");
	usleep(200000);
	T_EQ(count_lines(rec), 2, "nothing runs after hooks_stop");

	snprintf(body, sizeof(body), "rm -rf '%s'", dir);
	if (system(body) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cfg);
}

int
main(void)
{
	log_init("test_hooks", 0, 0);
	test_cmd();
	test_names();
	test_queue();
	test_lines();
	test_cfg();
	test_worker();
	return t_done();
}

/*
 * hooks.c — event hooks (docs/hooks.md): for every event this head posts
 * (HA state change, LUN served or released, service IP added or
 * released, fault, configuration generation installed, boot slot good
 * or restart), every executable in the events { dir } directory is run,
 * in byte order of the names, with the event as arguments and DUONAS_*
 * environment variables.
 *
 * Posting copies the event into a bounded queue and returns: the HA code
 * calls it on the event loop, in the middle of a failover, so it never
 * waits.  One worker thread takes the events in order and runs the hooks
 * one after the other with posix_spawn (no fork of a large threaded
 * process, no other descriptor inherited), each in its own process group
 * so that a hook past the time limit is killed with everything it
 * started.  Output (stdout and stderr together) is logged line by line
 * with the hook's name, bounded per run.  Hooks are notifications after
 * the fact: nothing waits for them and their exit status changes nothing.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "hooks/hooks_int.h"

extern char **environ;

static const char *const evt_names[] = {
	[HOOK_STATE] = "state",
	[HOOK_LUN_SERVED] = "lun-served",
	[HOOK_LUN_RELEASED] = "lun-released",
	[HOOK_IP_ADDED] = "ip-added",
	[HOOK_IP_RELEASED] = "ip-released",
	[HOOK_FAULT] = "fault",
	[HOOK_CONFIG] = "config",
	[HOOK_BOOT] = "boot",
};
_Static_assert(nitems(evt_names) == HOOK_EVT_COUNT, "hook event names");

const char *
hooks_evt_name(enum hook_evt e)
{
	return (unsigned)e < HOOK_EVT_COUNT ? evt_names[e] : "?";
}

/* ---- pure parts (tests/unit/test_hooks.c) ---------------------------- */

static void
cpy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

void
hook_ev_fill(struct hook_ev *ev, enum hook_evt e, const struct hook_args *a,
    const char *state)
{
	memset(ev, 0, sizeof(*ev));
	ev->evt = e;
	cpy(ev->state, sizeof(ev->state), state);
	cpy(ev->old, sizeof(ev->old), a->old);
	cpy(ev->why, sizeof(ev->why), a->why);
	cpy(ev->lun, sizeof(ev->lun), a->lun);
	ev->lun_id = a->lun_id;
	cpy(ev->ip, sizeof(ev->ip), a->ip);
	cpy(ev->dev, sizeof(ev->dev), a->dev);
	ev->gen = a->gen;
	cpy(ev->slot, sizeof(ev->slot), a->slot);
	cpy(ev->version, sizeof(ev->version), a->version);
}

int
hook_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || name[0] == '.' || name[n - 1] == '~')
		return 0;
	/* dpkg's and rpm's copies of a changed conffile */
	if (strstr(name, ".dpkg-") != NULL || strstr(name, ".rpmnew") ||
	    strstr(name, ".rpmsave"))
		return 0;
	return 1;
}

/* Add "NAME=value" to the environment being built. */
static void
env_add(struct hook_cmd *c, int *n, const char *name, const char *val)
{
	if (*n >= HOOK_ENV_MAX)
		return;
	snprintf(c->envbuf[*n], sizeof(c->envbuf[*n]), "%s=%s", name, val);
	(*n)++;
}

int
hook_cmd_build(struct hook_cmd *c, const struct hook_ev *ev,
    const char *path, char *const *base_env)
{
	char	 num[24];
	int	 na = 0, ne = 0, nb = 0, k = 0;

	memset(c, 0, sizeof(*c));
	c->argv[na++] = (char *)(uintptr_t)path;
	c->argv[na++] = (char *)(uintptr_t)hooks_evt_name(ev->evt);
	switch (ev->evt) {
	case HOOK_STATE:
		c->argv[na++] = (char *)(uintptr_t)ev->old;
		c->argv[na++] = (char *)(uintptr_t)ev->state;
		c->argv[na++] = (char *)(uintptr_t)ev->why;
		break;
	case HOOK_LUN_SERVED:
	case HOOK_LUN_RELEASED:
		snprintf(c->num[0], sizeof(c->num[0]), "%u", ev->lun_id);
		c->argv[na++] = (char *)(uintptr_t)ev->lun;
		c->argv[na++] = c->num[0];
		break;
	case HOOK_IP_ADDED:
	case HOOK_IP_RELEASED:
		c->argv[na++] = (char *)(uintptr_t)ev->ip;
		c->argv[na++] = (char *)(uintptr_t)ev->dev;
		break;
	case HOOK_FAULT:
		c->argv[na++] = (char *)(uintptr_t)ev->why;
		break;
	case HOOK_CONFIG:
		snprintf(c->num[0], sizeof(c->num[0]), "%llu",
		    (unsigned long long)ev->gen);
		c->argv[na++] = c->num[0];
		c->argv[na++] = (char *)(uintptr_t)ev->why;
		break;
	case HOOK_BOOT:
		c->argv[na++] = (char *)(uintptr_t)ev->why;
		c->argv[na++] = (char *)(uintptr_t)ev->slot;
		c->argv[na++] = (char *)(uintptr_t)ev->version;
		break;
	default:
		return -1;
	}
	c->argv[na] = NULL;

	env_add(c, &ne, "DUONAS_EVENT", hooks_evt_name(ev->evt));
	env_add(c, &ne, "DUONAS_HEAD", ev->head);
	env_add(c, &ne, "DUONAS_CLUSTER", ev->cluster);
	env_add(c, &ne, "DUONAS_STATE", ev->state);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)ev->seq);
	env_add(c, &ne, "DUONAS_SEQ", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)ev->time_ms);
	env_add(c, &ne, "DUONAS_TIME_MS", num);
	switch (ev->evt) {
	case HOOK_STATE:
		env_add(c, &ne, "DUONAS_OLD_STATE", ev->old);
		env_add(c, &ne, "DUONAS_REASON", ev->why);
		break;
	case HOOK_LUN_SERVED:
	case HOOK_LUN_RELEASED:
		env_add(c, &ne, "DUONAS_LUN", ev->lun);
		env_add(c, &ne, "DUONAS_LUN_ID", c->num[0]);
		break;
	case HOOK_IP_ADDED:
	case HOOK_IP_RELEASED:
		env_add(c, &ne, "DUONAS_IP", ev->ip);
		env_add(c, &ne, "DUONAS_DEV", ev->dev);
		break;
	case HOOK_FAULT:
		env_add(c, &ne, "DUONAS_REASON", ev->why);
		break;
	case HOOK_CONFIG:
		env_add(c, &ne, "DUONAS_GENERATION", c->num[0]);
		env_add(c, &ne, "DUONAS_SUMMARY", ev->why);
		break;
	case HOOK_BOOT:
		env_add(c, &ne, "DUONAS_REASON", ev->why);
		env_add(c, &ne, "DUONAS_SLOT", ev->slot);
		env_add(c, &ne, "DUONAS_VERSION", ev->version);
		break;
	default:
		break;
	}

	/* the daemon's environment (PATH, LANG ...), but never a DUONAS_*
	 * variable that could be mistaken for the event's */
	if (base_env != NULL)
		while (base_env[nb] != NULL)
			nb++;
	c->envp = calloc((size_t)nb + ne + 1, sizeof(char *));
	if (c->envp == NULL)
		return -1;
	for (int i = 0; i < nb; i++)
		if (strncmp(base_env[i], "DUONAS_", 7) != 0)
			c->envp[k++] = base_env[i];
	for (int i = 0; i < ne; i++)
		c->envp[k++] = c->envbuf[i];
	c->envp[k] = NULL;
	return 0;
}

void
hook_cmd_free(struct hook_cmd *c)
{
	free(c->envp);
	c->envp = NULL;
}

int
hook_queue_init(struct hook_queue *q, int cap)
{
	memset(q, 0, sizeof(*q));
	if (cap < 1 || (q->ev = calloc((size_t)cap, sizeof(*q->ev))) == NULL)
		return -1;
	q->cap = cap;
	return 0;
}

void
hook_queue_free(struct hook_queue *q)
{
	free(q->ev);
	memset(q, 0, sizeof(*q));
}

int
hook_queue_push(struct hook_queue *q, const struct hook_ev *ev)
{
	if (q->len == q->cap) {
		q->dropped++;
		return -1;
	}
	q->ev[(q->head + q->len) % q->cap] = *ev;
	q->len++;
	return 0;
}

int
hook_queue_pop(struct hook_queue *q, struct hook_ev *ev)
{
	if (q->len == 0)
		return -1;
	*ev = q->ev[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return 0;
}

void
hook_lines_feed(struct hook_lines *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			l->buf[l->len] = 0;
			if (!l->cut)	/* a cut line was logged already */
				l->line(l->buf, l->arg);
			l->len = 0;
			l->cut = 0;
		} else if (l->cut) {
			continue;	/* the rest of a cut line */
		} else if (l->len == HOOK_LINE_MAX) {
			/* a line too long: logged as far as it fits */
			l->buf[l->len] = 0;
			l->line(l->buf, l->arg);
			l->len = 0;
			l->cut = 1;
		} else
			l->buf[l->len++] = p[i];
	}
}

void
hook_lines_flush(struct hook_lines *l)
{
	if (l->len > 0) {
		l->buf[l->len] = 0;
		l->line(l->buf, l->arg);
	}
	l->len = 0;
	l->cut = 0;
}

/* ---- the worker ------------------------------------------------------ */

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct hook_queue q;
	pthread_t	 thr;
	int		 running;	/* worker started */
	int		 stopping;
	uint64_t	 stop_deadline_ms;	/* monotonic, once stopping */
	uint64_t	 seq;
	char		 state[32];	/* HA state, for DUONAS_STATE */
	char		 dir[CFG_PATH_MAX];
	int		 timeout_s;
	char		 head[CFG_NAME_MAX];
	char		 cluster[CFG_NAME_MAX];
	int		 dir_err;	/* last errno of opening dir (logged once) */
	_Atomic uint64_t nevents, nruns, nfailed, ntimeout;
} hk = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

struct run_log {
	const char	*name;
	int		 nlines;
	int		 nskipped;
};

static void
out_line(const char *line, void *arg)
{
	struct run_log *r = arg;

	if (r->nlines >= HOOK_LINES_MAX) {
		r->nskipped++;
		return;
	}
	r->nlines++;
	log_info("hooks: %s: %s", r->name, line);
}

/* strcmp, not the locale's order: the same on every head */
static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
name_filter(const struct dirent *d)
{
	return hook_name_ok(d->d_name);
}

/*
 * Run one hook to its end or its deadline (monotonic ms).  Its stdout and
 * stderr come through one pipe; the child's exit is checked between
 * reads, so a hook that exits while something it started keeps the pipe
 * open does not count as late.
 */
static void
run_one(const char *path, const char *name, const struct hook_ev *ev,
    uint64_t deadline)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	struct hook_cmd			 cmd;
	struct run_log			 rl = { name, 0, 0 };
	struct hook_lines		 lines;
	sigset_t			 none, dfl;
	struct pollfd			 pfd;
	char				 rbuf[1024];
	pid_t				 pid, w = 0;
	int				 p[2], st = 0, rc, late = 0, eof = 0;
	uint64_t			 t0 = now_ms();

	memset(&lines, 0, sizeof(lines));
	lines.line = out_line;
	lines.arg = &rl;
	if (hook_cmd_build(&cmd, ev, path, environ) < 0) {
		log_warnx("hooks: %s: cannot build its arguments", name);
		atomic_fetch_add(&hk.nfailed, 1);
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("hooks: %s: pipe", name);
		atomic_fetch_add(&hk.nfailed, 1);
		hook_cmd_free(&cmd);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	/* the daemon's sockets, LUNs and store are none of a hook's business
	 * (not every descriptor is opened close-on-exec) */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGUSR1);
	sigaddset(&dfl, SIGUSR2);
	sigaddset(&dfl, SIGALRM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, path, &fa, &at, cmd.argv, cmd.envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	hook_cmd_free(&cmd);
	if (rc != 0) {
		log_warnx("hooks: %s: cannot run it: %s", name, strerror(rc));
		atomic_fetch_add(&hk.nfailed, 1);
		close(p[0]);
		return;
	}
	atomic_fetch_add(&hk.nruns, 1);
	log_debug("hooks: %s %s (pid %d)", name, hooks_evt_name(ev->evt),
	    (int)pid);

	pfd.fd = p[0];
	for (;;) {
		uint64_t now = now_ms();
		ssize_t n;

		if (w == 0 && (w = waitpid(pid, &st, WNOHANG)) < 0)
			w = pid;	/* cannot happen: treat as gone */
		if (now >= deadline && w == 0) {
			late = 1;
			break;
		}
		if (eof && w != 0)
			break;
		if (eof) {
			/* output closed, the hook still runs: wait for it */
			usleep(20000);
			continue;
		}
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, w != 0 ? 0 : (int)MIN(deadline - now, 100));
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0) {
			if (w != 0)
				break;	/* exited, its output drained */
			continue;
		}
		n = read(p[0], rbuf, sizeof(rbuf));
		if (n > 0)
			hook_lines_feed(&lines, rbuf, (size_t)n);
		else if (n == 0 || errno != EINTR)
			eof = 1;
	}
	if (late) {
		/* the whole process group: a shell hook's children too */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	/* what is already in the pipe (the group is gone or done) */
	pfd.events = POLLIN;
	for (int i = 0; i < 64 && poll(&pfd, 1, 0) > 0; i++) {
		ssize_t n = read(p[0], rbuf, sizeof(rbuf));
		if (n <= 0)
			break;
		hook_lines_feed(&lines, rbuf, (size_t)n);
	}
	hook_lines_flush(&lines);
	close(p[0]);
	if (rl.nskipped > 0)
		log_info("hooks: %s: %d more lines of output not logged",
		    name, rl.nskipped);
	if (late) {
		atomic_fetch_add(&hk.ntimeout, 1);
		log_warnx("hooks: %s %s: killed after the time limit (%d s)",
		    name, hooks_evt_name(ev->evt), hk.timeout_s);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		atomic_fetch_add(&hk.nfailed, 1);
		log_warnx("hooks: %s %s: exit status %d", name,
		    hooks_evt_name(ev->evt), WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		atomic_fetch_add(&hk.nfailed, 1);
		log_warnx("hooks: %s %s: killed by signal %d", name,
		    hooks_evt_name(ev->evt), WTERMSIG(st));
	} else
		log_debug("hooks: %s %s: done in %llu ms", name,
		    hooks_evt_name(ev->evt),
		    (unsigned long long)(now_ms() - t0));
}

/* Every hook of the directory for one event, in name order. */
static void
run_event(const struct hook_ev *ev)
{
	struct dirent	**ents = NULL;
	struct stat	  sb;
	char		  path[CFG_PATH_MAX + 256 + 2];
	int		  n;

	n = scandir(hk.dir, &ents, name_filter, name_cmp);
	if (n < 0) {
		/* no directory: no hooks (the default directory may well
		 * not exist); said once per kind of error */
		if (errno != hk.dir_err) {
			hk.dir_err = errno;
			if (errno == ENOENT)
				log_debug("hooks: no directory %s", hk.dir);
			else
				log_warn("hooks: %s", hk.dir);
		}
		return;
	}
	hk.dir_err = 0;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		uint64_t deadline;

		snprintf(path, sizeof(path), "%s/%s", hk.dir, name);
		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		    (sb.st_mode & 0111) == 0 || access(path, X_OK) < 0) {
			log_debug("hooks: %s: not an executable file, skipped",
			    name);
			continue;
		}
		deadline = now_ms() + (uint64_t)hk.timeout_s * 1000;
		pthread_mutex_lock(&hk.mtx);
		if (hk.stopping && hk.stop_deadline_ms < deadline)
			deadline = hk.stop_deadline_ms;
		pthread_mutex_unlock(&hk.mtx);
		run_one(path, name, ev, deadline);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

static void *
worker(void *arg)
{
	struct hook_ev	ev;

	(void)arg;
	pthread_mutex_lock(&hk.mtx);
	for (;;) {
		while (!hk.stopping && hk.q.len == 0)
			pthread_cond_wait(&hk.cv, &hk.mtx);
		if (hk.stopping && (hk.q.len == 0 ||
		    now_ms() >= hk.stop_deadline_ms))
			break;
		hook_queue_pop(&hk.q, &ev);
		pthread_mutex_unlock(&hk.mtx);
		run_event(&ev);
		pthread_mutex_lock(&hk.mtx);
	}
	if (hk.q.len > 0)
		log_warnx("hooks: shutting down: %d events not run", hk.q.len);
	pthread_mutex_unlock(&hk.mtx);
	return NULL;
}

void
hooks_post(enum hook_evt e, const struct hook_args *a)
{
	struct hook_ev	ev;
	uint64_t	dropped = 0;
	int		full = 0;

	if ((unsigned)e >= HOOK_EVT_COUNT)
		return;
	pthread_mutex_lock(&hk.mtx);
	if (e == HOOK_STATE)
		cpy(hk.state, sizeof(hk.state), a->state);
	if (!hk.running || hk.stopping) {
		pthread_mutex_unlock(&hk.mtx);
		return;
	}
	hook_ev_fill(&ev, e, a, hk.state);
	ev.seq = ++hk.seq;
	ev.time_ms = wall_ms();
	memcpy(ev.head, hk.head, sizeof(ev.head));
	memcpy(ev.cluster, hk.cluster, sizeof(ev.cluster));
	if (hook_queue_push(&hk.q, &ev) < 0) {
		full = 1;
		dropped = hk.q.dropped;
	} else
		pthread_cond_signal(&hk.cv);
	pthread_mutex_unlock(&hk.mtx);
	atomic_fetch_add(&hk.nevents, 1);
	if (full)
		log_warnx("hooks: queue full (%d events waiting): %s event "
		    "%llu not run (%llu dropped so far)", hk.q.cap,
		    hooks_evt_name(e), (unsigned long long)ev.seq,
		    (unsigned long long)dropped);
}

int
hooks_start(const struct cfg *cfg, const char *head)
{
	int rc;

	if (hk.running)
		return 0;
	if (cfg->events_dir[0] == 0) {
		log_info("hooks: no events directory configured: no hooks");
		return 0;
	}
	pthread_mutex_lock(&hk.mtx);
	cpy(hk.dir, sizeof(hk.dir), cfg->events_dir);
	cpy(hk.head, sizeof(hk.head), head);
	cpy(hk.cluster, sizeof(hk.cluster), cfg->cluster);
	hk.timeout_s = cfg->events_timeout_s > 0 ? cfg->events_timeout_s : 10;
	hk.stopping = 0;
	if (hook_queue_init(&hk.q, cfg->events_queue > 0 ?
	    cfg->events_queue : 64) < 0) {
		pthread_mutex_unlock(&hk.mtx);
		log_warnx("hooks: out of memory: no hooks");
		return -1;
	}
	if ((rc = pthread_create(&hk.thr, NULL, worker, NULL)) != 0) {
		hook_queue_free(&hk.q);
		pthread_mutex_unlock(&hk.mtx);
		log_warnx("hooks: cannot start the worker: %s; no hooks",
		    strerror(rc));
		return -1;
	}
	hk.running = 1;
	pthread_mutex_unlock(&hk.mtx);
	log_info("hooks: running the executables in %s for every event "
	    "(time limit %d s, queue %d)", hk.dir, hk.timeout_s,
	    cfg->events_queue);
	return 0;
}

void
hooks_stop(void)
{
	pthread_mutex_lock(&hk.mtx);
	if (!hk.running) {
		pthread_mutex_unlock(&hk.mtx);
		return;
	}
	/* what is queued (the shutdown's own events) still runs, for at
	 * most one time limit */
	hk.stopping = 1;
	hk.stop_deadline_ms = now_ms() + (uint64_t)hk.timeout_s * 1000;
	pthread_cond_signal(&hk.cv);
	pthread_mutex_unlock(&hk.mtx);
	pthread_join(hk.thr, NULL);
	pthread_mutex_lock(&hk.mtx);
	hook_queue_free(&hk.q);
	hk.running = 0;
	pthread_mutex_unlock(&hk.mtx);
}

void
hooks_status(struct buf *out, int json)
{
	unsigned long long ev = atomic_load(&hk.nevents),
	    runs = atomic_load(&hk.nruns), failed = atomic_load(&hk.nfailed),
	    late = atomic_load(&hk.ntimeout), dropped;
	int running;
	char dir[CFG_PATH_MAX];

	pthread_mutex_lock(&hk.mtx);
	dropped = hk.q.dropped;
	running = hk.running;
	memcpy(dir, hk.dir, sizeof(dir));
	pthread_mutex_unlock(&hk.mtx);
	if (json) {
		buf_printf(out, "{\"dir\":");
		buf_add_json_str(out, running ? dir : "");
		buf_printf(out, ",\"events\":%llu,\"runs\":%llu,\"failed\":"
		    "%llu,\"timed_out\":%llu,\"dropped\":%llu}", ev, runs,
		    failed, late, dropped);
		return;
	}
	if (!running)
		return;
	buf_printf(out, "hooks:       %s: %llu events, %llu runs, %llu failed, "
	    "%llu killed at the time limit, %llu events dropped\n", dir, ev,
	    runs, failed, late, dropped);
}

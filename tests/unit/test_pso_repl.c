/*
 * test_pso_repl.c — two real heads in two processes (loop + link + ha +
 * pso each, on 127.0.0.1/127.0.0.2) driven by the parent over pipes:
 * replication of create/write/delete, a peer ahead of the writer (the
 * write must land above the peer's version, never be dropped by it),
 * lock contention and timeouts, a lock held by a head killed with
 * SIGKILL released by the survivor,
 * writes while the peer is down, resync of a restarted head (and of
 * 100 000 objects), arbiter failover to the former slave, a cold start of
 * both heads (volatile emptied, persistent kept), and the replicated
 * lock+write+unlock latency from the slave.  Each child runs its PSO
 * calls on a worker thread; every wait has a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ha/ha.h"
#include "link/link.h"
#include "pso/pso.h"
#include "pso/pso_int.h"
#include "t.h"

static struct cfg	tcfg;
static uint8_t		tkey[32];
static char		tdir[128];

struct head {
	pid_t	pid;
	int	cmd;	/* parent -> child */
	FILE	*rsp;	/* child -> parent */
};
static struct head	H[2];

/* ---- child ---- */

static void block_cb(void *arg) { (void)arg; link_path_block(0, 1); }
static void unblock_cb(void *arg) { (void)arg; link_path_block(0, 0); }

static void
child_do(char *line, FILE *out)
{
	char		 name[PSO_NAME_MAX], val[4096];
	unsigned long long owner = 0, a = 0;
	int		 rc = EINVAL, to = 0;
	uint64_t	 ver = 0;
	pso_id		 id;
	void		*v;
	size_t		 len;
	struct pso_info	 info;
	struct pso_stats st;

	val[0] = 0;
	if (sscanf(line, "create %255s %llu", name, &a) == 2) {
		rc = pso_create(name, (uint32_t)a, &id);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "lock %255s %llu %d", name, &owner, &to) == 3) {
		rc = pso_lock(pso_name_id(name), owner, to);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "unlock %255s %llu", name, &owner) == 2) {
		rc = pso_unlock(pso_name_id(name), owner);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "write %255s %llu %4095s", name, &owner,
	    val) == 3) {
		rc = pso_write(pso_name_id(name), owner, val, strlen(val), &ver);
		fprintf(out, "%d %llu\n", rc, (unsigned long long)ver);
	} else if (sscanf(line, "delete %255s %llu", name, &owner) == 2) {
		rc = pso_delete(pso_name_id(name), owner);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "read %255s", name) == 1 &&
	    strncmp(line, "read ", 5) == 0) {
		rc = pso_read(pso_name_id(name), &v, &len, &info);
		if (rc == 0) {
			fprintf(out, "%d %llu %u %llu %.*s|\n", rc,
			    (unsigned long long)info.version, info.lock_node,
			    (unsigned long long)info.lock_owner, (int)len,
			    v ? (char *)v : "");
			free(v);
		} else
			fprintf(out, "%d\n", rc);
	} else if (strncmp(line, "stats", 5) == 0) {
		pso_stats_get(&st);
		fprintf(out, "%d %d %llu %llu\n", st.synced, st.arbiter,
		    (unsigned long long)st.objects,
		    (unsigned long long)st.locks_held);
	} else if (sscanf(line, "fill %llu", &a) == 1) {
		/* local only, behind the peer's back: for resync tests */
		struct pso_rec *r = xcalloc(1000, sizeof(*r));
		unsigned long long i;
		int k;

		for (i = 0, rc = 0; i < a && rc == 0; ) {
			for (k = 0; k < 1000 && i < a; k++, i++) {
				snprintf(r[k].name, sizeof(r[k].name),
				    "fill/%llu", i);
				r[k].id = pso_name_id(r[k].name);
				r[k].flags = PSO_PERSISTENT;
				r[k].version = 1;
				r[k].val = "0123456789abcdef0123456789abcdef";
				r[k].len = 32;
			}
			rc = pso_store_apply(pso_g.st, r, k, 0, NULL, NULL);
		}
		free(r);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "localput %255s %llu %4095s", name, &a,
	    val) == 3) {
		/* one record stored here only, behind the peer's back */
		struct pso_rec r;

		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "%s", name);
		r.id = pso_name_id(name);
		r.flags = PSO_PERSISTENT;
		r.version = a;
		r.mtime_ms = 1;
		r.val = val;
		r.len = (uint32_t)strlen(val);
		rc = pso_store_apply(pso_g.st, &r, 1, 1, NULL, NULL);
		fprintf(out, "%d\n", rc);
	} else if (sscanf(line, "stale %llu", &a) == 1) {
		/* HA's verdict "peer dead" held while the link still works,
		 * as on a head that resumes from SIGSTOP */
		pthread_mutex_lock(&pso_g.mtx);
		pso_g.peer_alive = a ? 0 : 1;
		pthread_mutex_unlock(&pso_g.mtx);
		fprintf(out, "0\n");
	} else if (sscanf(line, "block %llu", &a) == 1) {
		loop_call(a ? block_cb : unblock_cb, NULL);
		fprintf(out, "0\n");
	} else if (sscanf(line, "bench %255s %llu", name, &a) == 2) {
		uint64_t *lat = xcalloc(a, sizeof(*lat));

		rc = pso_bench(pso_name_id(name), 4242, (int)a, 64, lat);
		fprintf(out, "%d %llu %llu %llu\n", rc,
		    (unsigned long long)lat[a / 2],
		    (unsigned long long)lat[a * 9 / 10],
		    (unsigned long long)lat[a * 99 / 100]);
		free(lat);
	} else
		fprintf(out, "%d\n", EINVAL);
	fflush(out);
}

struct child_io {
	int	in, out;
};

static void *
child_worker(void *arg)
{
	struct child_io	*io = arg;
	FILE		*in = fdopen(io->in, "r"), *out = fdopen(io->out, "w");
	char		 line[8192];

	while (fgets(line, sizeof(line), in) != NULL)
		child_do(line, out);
	_exit(0);
}

static void
child_main(int idx, int in, int out)
{
	static struct child_io	io;
	pthread_t		t;
	int			rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(300);
	log_init(idx == 0 ? "pso[A]" : "pso[B]", getenv("PSO_DEBUG") != NULL,
	    0);
	loop_init();
	if (link_init(&tcfg, idx, tkey, sizeof(tkey), random_u64()) < 0)
		_exit(3);
	if (ha_init(&tcfg, idx, 0) < 0)
		_exit(4);
	if ((rc = pso_init(&tcfg, idx)) != 0)
		_exit(5);
	io.in = in;
	io.out = out;
	pthread_create(&t, NULL, child_worker, &io);
	loop_run();
	_exit(0);
}

/* ---- parent ---- */

static void
start(int idx)
{
	int	c[2], r[2];
	pid_t	pid;

	if (pipe(c) < 0 || pipe(r) < 0)
		abort();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(c[1]);
		close(r[0]);
		child_main(idx, c[0], r[1]);
	}
	close(c[0]);
	close(r[1]);
	H[idx].pid = pid;
	H[idx].cmd = c[1];
	H[idx].rsp = fdopen(r[0], "r");
}

static void
kill9(int idx)
{
	if (H[idx].pid <= 0)
		return;
	kill(H[idx].pid, SIGKILL);
	waitpid(H[idx].pid, NULL, 0);
	close(H[idx].cmd);
	fclose(H[idx].rsp);
	H[idx].pid = 0;
}

/* Send one command, read the one-line answer (30 s limit). */
static char *
cmd(int idx, const char *fmt, ...)
{
	static char	line[8192];
	char		c[8192];
	struct pollfd	p;
	va_list		ap;
	int		n;

	va_start(ap, fmt);
	n = vsnprintf(c, sizeof(c) - 1, fmt, ap);
	va_end(ap);
	c[n++] = '\n';
	line[0] = 0;
	if (H[idx].pid <= 0 || write(H[idx].cmd, c, n) != n)
		return strcpy(line, "dead");
	p.fd = fileno(H[idx].rsp);
	p.events = POLLIN;
	if (poll(&p, 1, 30000) != 1 ||
	    fgets(line, sizeof(line), H[idx].rsp) == NULL)
		return strcpy(line, "timeout");
	line[strcspn(line, "\n")] = 0;
	return line;
}

static int
rc_of(const char *s)
{
	return atoi(s);
}

/* Poll "stats" until synced (and arbiter when want_arb >= 0). */
static int
wait_synced(int idx, int want_arb, int ms)
{
	uint64_t	end = now_ms() + (uint64_t)ms;
	int		synced, arb;

	while (now_ms() < end) {
		if (sscanf(cmd(idx, "stats"), "%d %d", &synced, &arb) == 2 &&
		    synced && (want_arb < 0 || arb == want_arb))
			return 0;
		usleep(50000);
	}
	return -1;
}

static void
make_cfg(void)
{
	char a[64];
	int base = 21000 + (getpid() % 20000) * 2, i;

	memset(&tcfg, 0, sizeof(tcfg));
	snprintf(tcfg.cluster, sizeof(tcfg.cluster), "psotest");
	tcfg.nheads = 2;
	for (i = 0; i < 2; i++) {
		snprintf(tcfg.heads[i].name, CFG_NAME_MAX, i ? "beta" :
		    "alpha");
		tcfg.heads[i].id = (uint32_t)i + 1;
		tcfg.heads[i].role = i ? CFG_ROLE_SLAVE : CFG_ROLE_MASTER;
		snprintf(a, sizeof(a), "127.0.0.%d:%d", i + 1, base + i);
		cfg_addr_parse(a, 0, &tcfg.heads[i].links[0]);
		tcfg.heads[i].nlinks = 1;
		snprintf(tcfg.heads[i].statedir, CFG_PATH_MAX, "%s/%s", tdir,
		    tcfg.heads[i].name);
	}
	tcfg.link_ping_ms = 20;
	tcfg.link_dead_ms = 300;
	tcfg.link_reconnect_ms = 50;
	tcfg.boot_wait_ms = 500;
	tcfg.pso_lock_timeout_ms = 2000;
	tcfg.pso_req_timeout_ms = 2000;
	tcfg.pso_mapsize_mb = 256;
	for (i = 0; i < (int)sizeof(tkey); i++)
		tkey[i] = (uint8_t)(i * 7 + 1);
}

int
main(void)
{
	char		*s, buf[8192];
	unsigned long long p50 = 0, p90 = 0, p99 = 0, v;
	unsigned	 node;
	uint64_t	 t0;
	int		 rc;

	log_init("test_pso_repl", 0, 0);
	signal(SIGPIPE, SIG_IGN);
	/* PSO_TEST_DIR=/dev/shm measures without disk flushes */
	snprintf(tdir, sizeof(tdir), "%s/test_pso_repl.XXXXXX",
	    getenv("PSO_TEST_DIR") ? getenv("PSO_TEST_DIR") : "/tmp");
	if (mkdtemp(tdir) == NULL)
		return 1;
	make_cfg();

	/* both heads boot together */
	start(0);
	start(1);
	T_EQ(wait_synced(0, 1, 10000), 0, "A synced and arbiter");
	T_EQ(wait_synced(1, 0, 10000), 0, "B synced, not arbiter");

	T_EQ(rc_of(cmd(0, "create obj1 1")), 0, "A creates obj1 (persistent)");
	T_EQ(rc_of(cmd(1, "create obj1 1")), PSO_EXISTS,
	    "B creating obj1 again -> PSO_EXISTS");
	T_EQ(rc_of(cmd(0, "create vol1 0")), 0, "A creates vol1 (volatile)");
	T_EQ(rc_of(cmd(1, "read obj1")), 0, "B reads obj1 (replicated)");
	T_EQ(rc_of(cmd(0, "write obj1 7 nolock")), PSO_NOTLOCKED,
	    "write without the lock -> PSO_NOTLOCKED");
	T_EQ(rc_of(cmd(0, "lock obj1 7 1000")), 0, "A locks obj1 (owner 7)");
	T_EQ(rc_of(cmd(0, "lock obj1 7 1000")), PSO_LOCKHELD,
	    "same owner again -> PSO_LOCKHELD");
	s = cmd(0, "write obj1 7 hello");
	T_OK(sscanf(s, "%d %llu", &rc, &v) == 2 && rc == 0 && v == 2,
	    "A writes obj1 -> v2 (%s)", s);
	s = cmd(1, "read obj1");
	T_OK(strcmp(s, "0 2 1 7 hello|") == 0,
	    "B reads v2 'hello', lock held by node 1 owner 7 (%s)", s);
	t0 = now_ms();
	T_EQ(rc_of(cmd(1, "lock obj1 9 300")), PSO_TIMEDOUT,
	    "B's lock while A holds it -> PSO_TIMEDOUT");
	T_OK(now_ms() - t0 >= 250, "after about the timeout");
	T_EQ(rc_of(cmd(1, "write obj1 9 x")), PSO_NOTLOCKED,
	    "B cannot write without the lock");
	T_EQ(rc_of(cmd(0, "lock vol1 7 0")), 0, "A locks vol1");
	T_EQ(rc_of(cmd(0, "write vol1 7 volatilevalue")), 0, "A writes vol1");
	T_EQ(rc_of(cmd(0, "unlock vol1 7")), 0, "A unlocks vol1");
	T_EQ(rc_of(cmd(0, "unlock obj1 7")), 0, "A unlocks obj1");
	T_EQ(rc_of(cmd(0, "unlock obj1 7")), PSO_NOTLOCKED,
	    "second unlock -> PSO_NOTLOCKED");
	T_EQ(rc_of(cmd(1, "lock obj1 9 1000")), 0, "B (slave) locks obj1");
	s = cmd(1, "write obj1 9 fromB");
	T_OK(rc_of(s) == 0 && strstr(s, " 3") != NULL, "B writes v3 (%s)", s);
	s = cmd(0, "read obj1");
	T_OK(strcmp(s, "0 3 2 9 fromB|") == 0,
	    "A reads v3 'fromB', held by node 2 owner 9 (%s)", s);
	T_EQ(rc_of(cmd(0, "lock obj1 7 0")), PSO_TIMEDOUT,
	    "A's try-lock while B holds it -> PSO_TIMEDOUT");
	T_EQ(rc_of(cmd(1, "unlock obj1 9")), 0, "B unlocks obj1");

	/* Issue 10, finding 2: the peer holds a newer record of an object
	 * that this head does not know of.  The peer must not acknowledge
	 * the older version; the writer must go above the peer's. */
	T_EQ(rc_of(cmd(0, "create ahead 1")), 0, "A creates 'ahead' (v1)");
	T_EQ(rc_of(cmd(1, "localput ahead 5 bonly")), 0,
	    "B alone holds 'ahead' v5");
	T_EQ(rc_of(cmd(0, "lock ahead 7 1000")), 0, "A locks 'ahead'");
	s = cmd(0, "write ahead 7 fromA");
	T_OK(sscanf(s, "%d %llu", &rc, &v) == 2 && rc == 0 && v == 6,
	    "A's write lands above B's version: v6 (%s)", s);
	s = cmd(1, "read ahead");
	T_OK(strncmp(s, "0 6 ", 4) == 0 && strstr(s, " fromA|") != NULL,
	    "B holds A's write as v6, not its own v5 (%s)", s);
	s = cmd(0, "read ahead");
	T_OK(strncmp(s, "0 6 ", 4) == 0 && strstr(s, " fromA|") != NULL,
	    "A holds the same (%s)", s);
	/* equal version, other content on the peer */
	T_EQ(rc_of(cmd(1, "localput ahead 7 bseven")), 0,
	    "B alone holds 'ahead' v7");
	s = cmd(0, "write ahead 7 again");
	T_OK(sscanf(s, "%d %llu", &rc, &v) == 2 && rc == 0 && v == 8,
	    "A's next version (7) is B's with other content: A goes to v8 "
	    "(%s)", s);
	s = cmd(1, "read ahead");
	T_OK(strncmp(s, "0 8 ", 4) == 0 && strstr(s, " again|") != NULL,
	    "B holds v8 'again' (%s)", s);
	T_EQ(rc_of(cmd(0, "unlock ahead 7")), 0, "A unlocks 'ahead'");

	/* Issue 10 (torture): a head whose HA still says "peer dead" while
	 * the link reaches the peer must not commit alone. */
	T_EQ(rc_of(cmd(1, "stale 1")), 0, "B holds a stale 'peer dead'");
	T_EQ(rc_of(cmd(1, "lock ahead 9 1000")), 0, "B locks 'ahead'");
	s = cmd(1, "write ahead 9 whilestale");
	T_OK(rc_of(s) == 0, "B writes (%s)", s);
	s = cmd(0, "read ahead");
	T_OK(strstr(s, " whilestale|") != NULL,
	    "A has the write: it went over the link (%s)", s);
	T_EQ(rc_of(cmd(1, "unlock ahead 9")), 0, "B unlocks 'ahead'");
	T_EQ(rc_of(cmd(1, "stale 0")), 0, "B's verdict restored");

	/* latency of lock+write+unlock from the slave */
	T_EQ(rc_of(cmd(0, "create bench 1")), 0, "create bench object");
	s = cmd(1, "bench bench 300");
	T_OK(sscanf(s, "%d %llu %llu %llu", &rc, &p50, &p90, &p99) == 4 &&
	    rc == 0, "300 x lock+write+unlock from the slave (%s)", s);
	printf("# slave lock+write+unlock: p50 %llu us, p90 %llu us, "
	    "p99 %llu us\n", p50, p90, p99);
	s = cmd(0, "bench bench 300");
	sscanf(s, "%d %llu %llu %llu", &rc, &p50, &p90, &p99);
	printf("# master lock+write+unlock: p50 %llu us, p90 %llu us, "
	    "p99 %llu us\n", p50, p90, p99);

	/* the slave dies holding a lock: the survivor releases it */
	T_EQ(rc_of(cmd(1, "lock obj1 9 1000")), 0, "B locks obj1 again");
	kill9(1);
	t0 = now_ms();
	T_EQ(rc_of(cmd(0, "lock obj1 7 5000")), 0,
	    "B killed: A gets obj1's lock");
	printf("# lock of the dead head released after %llu ms\n",
	    (unsigned long long)(now_ms() - t0));
	s = cmd(0, "write obj1 7 whileBdown");
	T_OK(rc_of(s) == 0 && strstr(s, " 4") != NULL,
	    "A writes v4 while B is down (%s)", s);
	T_EQ(rc_of(cmd(0, "delete vol1 7")), PSO_NOTLOCKED,
	    "delete needs the lock");
	T_EQ(rc_of(cmd(0, "create gone 1")), 0, "A creates 'gone'");
	T_EQ(rc_of(cmd(0, "lock gone 7 0")), 0, "lock gone");
	T_EQ(rc_of(cmd(0, "delete gone 7")), 0, "A deletes 'gone' (B down)");
	T_EQ(rc_of(cmd(0, "read gone")), PSO_NOTFOUND, "deleted: not found");

	/* B comes back: resync before serving */
	start(1);
	T_EQ(wait_synced(1, 0, 10000), 0, "B restarted and resynced");
	s = cmd(1, "read obj1");
	T_OK(strcmp(s, "0 4 1 7 whileBdown|") == 0,
	    "B has A's write made while it was down, and A's lock (%s)", s);
	s = cmd(1, "read vol1");
	T_OK(strcmp(s, "0 2 0 0 volatilevalue|") == 0,
	    "volatile value kept: B joined a running cluster (%s)", s);
	T_EQ(rc_of(cmd(1, "read gone")), PSO_NOTFOUND,
	    "the delete reached B by resync (tombstone)");

	/* the master dies holding a lock: B becomes arbiter, releases it */
	kill9(0);
	T_EQ(wait_synced(1, 1, 5000), 0, "A killed: B becomes arbiter");
	T_EQ(rc_of(cmd(1, "lock obj1 9 3000")), 0,
	    "B gets the lock the dead master held");
	s = cmd(1, "write obj1 9 Bsolo");
	T_OK(rc_of(s) == 0, "B writes alone (%s)", s);
	T_EQ(rc_of(cmd(1, "unlock obj1 9")), 0, "B unlocks");
	start(0);
	T_EQ(wait_synced(0, -1, 10000), 0, "A restarted and resynced");
	s = cmd(0, "read obj1");
	T_OK(strncmp(s, "0 5 0 0 Bsolo|", 14) == 0,
	    "A has B's solo write (%s)", s);
	T_EQ(rc_of(cmd(0, "lock obj1 7 2000")), 0, "A locks via the arbiter");
	T_EQ(rc_of(cmd(0, "write obj1 7 again")), 0, "A writes, replicated");
	s = cmd(1, "read obj1");
	T_OK(strncmp(s, "0 6 ", 4) == 0, "B sees v6 (%s)", s);
	T_EQ(rc_of(cmd(0, "unlock obj1 7")), 0, "A unlocks");

	/* cold start of both: volatile emptied, persistent kept */
	kill9(0);
	kill9(1);
	start(1);
	start(0);
	T_EQ(wait_synced(0, -1, 10000), 0, "cold start: A synced");
	T_EQ(wait_synced(1, -1, 10000), 0, "cold start: B synced");
	s = cmd(0, "read vol1");
	T_OK(strncmp(s, "0 3 ", 4) == 0 && strstr(s, " |") != NULL,
	    "vol1 emptied by the cold start, version+1 (%s)", s);
	s = cmd(1, "read vol1");
	T_OK(strncmp(s, "0 3 ", 4) == 0 && strstr(s, " |") != NULL,
	    "and the same on B (%s)", s);
	s = cmd(1, "read obj1");
	T_OK(strncmp(s, "0 6 ", 4) == 0 && strstr(s, "again|"),
	    "persistent obj1 survives (%s)", s);

	/* all paths cut: both alone, each writes; healed: merged */
	T_EQ(rc_of(cmd(0, "create fork 1")), 0, "create 'fork' before the cut");
	cmd(0, "block 1");
	cmd(1, "block 1");
	T_EQ(wait_synced(1, 1, 5000), 0, "cut: B arbitrates alone");
	T_EQ(rc_of(cmd(0, "lock obj1 7 1000")), 0, "cut: A locks obj1");
	T_EQ(rc_of(cmd(0, "write obj1 7 splitA")), 0, "cut: A writes alone");
	T_EQ(rc_of(cmd(0, "unlock obj1 7")), 0, "cut: A unlocks");
	T_EQ(rc_of(cmd(1, "create splitB 1")), 0, "cut: B creates splitB");
	/* Both write 'fork' alone; B twice (a higher version), A last:
	 * the later acknowledged write must survive the merge, whatever
	 * the versions (issue 10: forked histories). */
	T_EQ(rc_of(cmd(1, "lock fork 9 1000")), 0, "cut: B locks fork");
	T_EQ(rc_of(cmd(1, "write fork 9 b1")), 0, "cut: B writes fork (v2)");
	T_EQ(rc_of(cmd(1, "write fork 9 b2")), 0, "cut: B writes fork (v3)");
	T_EQ(rc_of(cmd(1, "unlock fork 9")), 0, "cut: B unlocks fork");
	usleep(20000);
	T_EQ(rc_of(cmd(0, "lock fork 7 1000")), 0, "cut: A locks fork");
	s = cmd(0, "write fork 7 alast");
	T_OK(rc_of(s) == 0, "cut: A writes fork last, alone (%s)", s);
	T_EQ(rc_of(cmd(0, "unlock fork 7")), 0, "cut: A unlocks fork");
	cmd(0, "block 0");
	cmd(1, "block 0");
	t0 = now_ms();
	do {
		s = cmd(1, "read obj1");
		if (strstr(s, "splitA|") != NULL)
			break;
		usleep(50000);
	} while (now_ms() - t0 < 8000);
	T_OK(strstr(s, "splitA|") != NULL, "healed: B has A's write (%s)", s);
	do {
		s = cmd(0, "read splitB");
		if (rc_of(s) == 0)
			break;
		usleep(50000);
	} while (now_ms() - t0 < 8000);
	T_EQ(rc_of(s), 0, "healed: A has B's object");
	do {
		s = cmd(1, "read fork");
		if (strstr(s, "alast|") != NULL)
			break;
		usleep(50000);
	} while (now_ms() - t0 < 8000);
	T_OK(strstr(s, " alast|") != NULL,
	    "healed: B holds A's later write of fork, not its own v3 (%s)", s);
	s = cmd(0, "read fork");
	T_OK(strstr(s, " alast|") != NULL, "healed: and so does A (%s)", s);
	T_OK(sscanf(s, "%d %llu", &rc, &v) == 2 && v >= 4,
	    "above both forked versions (%s)", s);
	T_EQ(wait_synced(0, 1, 5000), 0, "healed: A arbitrates");
	T_EQ(wait_synced(1, 0, 5000), 0, "healed: B does not");

	/* 100 000 objects B lacks: resync time */
	kill9(1);
	T_EQ(wait_synced(0, 1, 5000), 0, "B stopped: A arbiter");
	T_EQ(rc_of(cmd(0, "fill 100000")), 0, "A stores 100000 objects");
	t0 = now_ms();
	start(1);
	T_EQ(wait_synced(1, 0, 30000), 0, "B resynced 100000 objects");
	printf("# resync of 100000 objects: %llu ms (boot included)\n",
	    (unsigned long long)(now_ms() - t0));
	T_OK(now_ms() - t0 < 10000, "resync within 10 s");
	s = cmd(1, "read fill/99999");
	T_OK(strncmp(s, "0 1 ", 4) == 0, "last object there (%s)", s);
	s = cmd(1, "stats");
	node = 0;
	T_OK(sscanf(s, "%*d %*d %llu", &v) == 1 && v >= 100000,
	    "B counts >= 100000 objects (%s)", s);
	(void)node;

	kill9(0);
	kill9(1);
	snprintf(buf, sizeof(buf), "rm -rf %s", tdir);
	if (system(buf) != 0)
		printf("# could not remove %s\n", tdir);
	return t_done();
}

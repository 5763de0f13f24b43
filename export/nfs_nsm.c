/*
 * nfs_nsm.c — NSM v1 (program 100024, the status monitor) of the NFS
 * server: STAT, MON, UNMON, UNMON_ALL, SIMU_CRASH, NOTIFY, and the list of
 * monitored clients that hear of a cold start of the cluster.
 *
 * The list (mon_name, the client's address, the address it reached us
 * at, the my_id of a MON) and the NSM state number live in two PSO
 * objects with PSO_PERSISTENT: both heads hold them on disk, so they
 * survive a takeover and a cold start.  A PSO write costs a lock round
 * and two commits (a few ms), so the NLM path only looks the client up
 * in the in-memory copy; one it does not find is queued for the adder
 * thread, which writes it: once per client, not per lock, and a LOCK
 * never waits for PSO.
 * The state is odd while we are up and grows by two at each cold start.
 *
 * SM_NOTIFY from a client means it rebooted: its NLM locks go
 * (brl_free_client(BRL_PROTO_NLM, mon_name)) on both heads — unless the
 * name is that of a monitored client and the notice comes from another
 * address than the one it locked from.  This relies on the client using
 * the same name as NLM caller_name and as SM_NOTIFY mon_name, which Linux
 * does (its node name in both).  On a cold start (brl_set_cold_cb), the
 * head that arbitrates the lock table takes a new state, and a thread of
 * it sends SM_NOTIFY with that state to every monitored client's statd
 * (through its portmapper, TCP, else UDP), a few rounds, so that clients
 * reclaim their locks during the grace period.
 * Worker threads (and that thread); never the loop thread (PSO blocks).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "export/nfs_nlm_int.h"
#include "pso/pso.h"

#define NSM_LIST_OBJ	"nfs.nsm.clients"
#define NSM_STATE_OBJ	"nfs.nsm.state"
#define NSM_HASH	8192		/* buckets of the NLM path lookup */
#define NSM_OWNER	0x6e736d6c69737400ull	/* PSO lock token */
#define NSM_LOCK_MS	5000
#define NOTIFY_ROUNDS	3
#define NOTIFY_WAIT_MS	5000
#define SHUTDOWN_WAIT_S	3	/* for the threads inside PSO calls */
#define NOTIFY_TIMEOUT	2000

/* A client to add, waiting for the adder thread. */
struct nsm_add {
	struct nsm_add	*next;
	struct nsm_ent	 e;
};
#define NSM_QUEUE_MAX	1024

/*
 * io serialises the PSO work (reading, updating the list, the state),
 * which takes milliseconds; mem guards the in-memory copy (v, n, loaded,
 * state) and the adder's queue, held for microseconds: the NLM path
 * only ever takes mem.  Order: io before mem.
 */
static struct {
	pthread_mutex_t	 io;
	pthread_mutex_t	 mem;
	pthread_cond_t	 cv;
	int		 loaded;
	struct nsm_ent	*v;
	int		 n;
	int		*hash;		/* chains over v, by name */
	int		*chain;		/* next index, -1 ends */
	uint32_t	 state;
	uint64_t	 notified, freed;
	struct nsm_add	*qhead, *qtail;
	int		 qn;
	int		 stop, running;
	pthread_t	 th;
} nsm = { .io = PTHREAD_MUTEX_INITIALIZER, .mem = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER, .state = 1 };

static struct log_ratelim rl_notify;

/* ---- the persistent list ------------------------------------------------ */

/* The id of object name, created (persistent) when missing. */
static int
obj_id(const char *name, pso_id *id)
{
	int rc = pso_create(name, PSO_PERSISTENT, id);

	if (rc == PSO_EXISTS)
		rc = pso_lookup(name, id);
	return rc;
}

static unsigned
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != 0)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % NSM_HASH;
}

/* mem held: make (v, n) the in-memory copy, and index it by name. */
static void
nsm_set(struct nsm_ent *v, int n)
{
	free(nsm.v);
	nsm.v = v;
	nsm.n = n;
	nsm.loaded = 1;
	if (nsm.hash == NULL)
		nsm.hash = xcalloc(NSM_HASH, sizeof(*nsm.hash));
	free(nsm.chain);
	nsm.chain = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*nsm.chain));
	for (int i = 0; i < NSM_HASH; i++)
		nsm.hash[i] = -1;
	for (int i = 0; i < n; i++) {
		unsigned h = name_hash(v[i].name);

		nsm.chain[i] = nsm.hash[h];
		nsm.hash[h] = i;
	}
}

/* mem held: the entry of a client that locked (my_name ""), or -1. */
static int
nsm_lookup(const char *name)
{
	if (!nsm.loaded || nsm.hash == NULL)
		return -1;
	for (int i = nsm.hash[name_hash(name)]; i >= 0; i = nsm.chain[i])
		if (strcmp(nsm.v[i].name, name) == 0 &&
		    nsm.v[i].my_name[0] == 0)
			return i;
	return -1;
}

/* io held: read the list and the state from PSO (once; again after
 * nsm.loaded was cleared). */
static void
nsm_load(void)
{
	pso_id		 id;
	void		*val = NULL;
	size_t		 len = 0;
	struct nsm_ent	*v = NULL;
	int		 n = 0, rc, loaded;
	uint32_t	 state = 0;

	pthread_mutex_lock(&nsm.mem);
	loaded = nsm.loaded;
	pthread_mutex_unlock(&nsm.mem);
	if (loaded)
		return;
	if ((rc = obj_id(NSM_LIST_OBJ, &id)) == 0 &&
	    (rc = pso_read(id, &val, &len, NULL)) == 0 &&
	    nsm_list_decode(val, len, &v, &n) < 0)
		log_warnx("nsm: the monitored list is malformed: starting an "
		    "empty one");
	free(val);
	val = NULL;
	if (rc != 0) {
		log_warnx("nsm: cannot read the monitored list: %s",
		    pso_strerror(rc));
		return;		/* tried again next time */
	}
	if (obj_id(NSM_STATE_OBJ, &id) == 0 &&
	    pso_read(id, &val, &len, NULL) == 0 && len >= 4)
		state = get_be32(val) | 1;
	free(val);
	pthread_mutex_lock(&nsm.mem);
	nsm_set(v, n);
	if (state != 0)
		nsm.state = state;
	pthread_mutex_unlock(&nsm.mem);
}

/*
 * io held: apply one change to the stored list under its PSO lock
 * (the other head may have written since we read): read, let fn change
 * it, write.  The in-memory copy becomes the stored one.  0 or -1.
 */
static int
nsm_update(void (*fn)(struct nsm_ent **, int *, const void *),
    const void *arg)
{
	pso_id		 id;
	void		*val = NULL;
	size_t		 len = 0;
	struct nsm_ent	*v = NULL;
	int		 n = 0, rc;
	struct buf	 b;

	if ((rc = obj_id(NSM_LIST_OBJ, &id)) != 0 ||
	    (rc = pso_lock(id, NSM_OWNER, NSM_LOCK_MS)) != 0) {
		log_warnx("nsm: cannot lock the monitored list: %s",
		    pso_strerror(rc));
		return -1;
	}
	buf_init(&b);
	if ((rc = pso_read(id, &val, &len, NULL)) != 0)
		goto out;
	if (nsm_list_decode(val, len, &v, &n) < 0) {
		log_warnx("nsm: the monitored list is malformed: rewritten");
		v = NULL;
		n = 0;
	}
	fn(&v, &n, arg);
	nsm_list_encode(&b, v, n);
	if ((rc = pso_write(id, NSM_OWNER, b.data, b.len, NULL)) != 0)
		goto out;
	pthread_mutex_lock(&nsm.mem);
	nsm_set(v, n);
	pthread_mutex_unlock(&nsm.mem);
	v = NULL;
out:
	if (rc != 0)
		log_warnx("nsm: cannot update the monitored list: %s",
		    pso_strerror(rc));
	pso_unlock(id, NSM_OWNER);
	buf_free(&b);
	free(val);
	free(v);
	return rc == 0 ? 0 : -1;
}

static int
ent_find(struct nsm_ent *v, int n, const char *name, const char *my_name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0 &&
		    strcmp(v[i].my_name, my_name) == 0)
			return i;
	return -1;
}

/* nsm_update changes */
static void
chg_add(struct nsm_ent **vp, int *np, const void *arg)
{
	const struct nsm_ent	*e = arg;
	int			 i = ent_find(*vp, *np, e->name, e->my_name);

	if (i >= 0) {		/* known: its addresses may change */
		(*vp)[i] = *e;
		return;
	}
	if (*np >= NSM_MAX) {
		log_warnx("nsm: %d clients monitored: %s is not", NSM_MAX,
		    e->name);
		return;
	}
	*vp = xrealloc(*vp, (size_t)(*np + 1) * sizeof(**vp));
	(*vp)[(*np)++] = *e;
}

static void
chg_del(struct nsm_ent **vp, int *np, const void *arg)
{
	const struct nsm_ent *e = arg;

	/* name "": every entry of my_name (UNMON_ALL) */
	for (int i = 0; i < *np; i++)
		if ((e->name[0] == 0 || strcmp((*vp)[i].name, e->name) == 0) &&
		    strcmp((*vp)[i].my_name, e->my_name) == 0)
			(*vp)[i--] = (*vp)[--(*np)];
}

static void
sa_copy(struct sockaddr_storage *d, const struct sockaddr *s)
{
	memset(d, 0, sizeof(*d));
	memcpy(d, s, s->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

/* mem held: is e known with these addresses (or queued to be)? */
static int
nsm_known(const struct nsm_ent *e)
{
	int i = nsm_lookup(e->name);

	if (i >= 0 && nlm_addr_eq((struct sockaddr *)&nsm.v[i].peer,
	    (const struct sockaddr *)&e->peer) &&
	    nlm_addr_eq((struct sockaddr *)&nsm.v[i].local,
	    (const struct sockaddr *)&e->local))
		return 1;
	for (struct nsm_add *q = nsm.qhead; q != NULL; q = q->next)
		if (strcmp(q->e.name, e->name) == 0)
			return 1;
	return 0;
}

/* The NLM path: never waits for PSO.  A client not in the copy is
 * queued for the adder thread (the lock is granted meanwhile). */
void
nfs_nsm_monitor(const char *name, const struct sockaddr *peer,
    const struct sockaddr *local)
{
	struct nsm_ent	 e;
	struct nsm_add	*q;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", name);
	sa_copy(&e.peer, peer);
	sa_copy(&e.local, local);
	pthread_mutex_lock(&nsm.mem);
	if (!nsm.running || nsm_known(&e) || nsm.qn >= NSM_QUEUE_MAX) {
		pthread_mutex_unlock(&nsm.mem);
		return;		/* the common case: known */
	}
	q = xcalloc(1, sizeof(*q));
	q->e = e;
	if (nsm.qtail != NULL)
		nsm.qtail->next = q;
	else
		nsm.qhead = q;
	nsm.qtail = q;
	nsm.qn++;
	pthread_cond_signal(&nsm.cv);
	pthread_mutex_unlock(&nsm.mem);
}

/* The adder thread: one PSO update per new client. */
static void *
adder_main(void *arg)
{
	struct nsm_add	*q;
	int		 known;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&nsm.mem);
		while (nsm.qhead == NULL && !nsm.stop)
			pthread_cond_wait(&nsm.cv, &nsm.mem);
		if (nsm.stop) {
			pthread_mutex_unlock(&nsm.mem);
			return NULL;
		}
		q = nsm.qhead;
		pthread_mutex_unlock(&nsm.mem);
		pthread_mutex_lock(&nsm.io);
		nsm_load();
		pthread_mutex_lock(&nsm.mem);
		nsm.qhead = q->next;	/* only this thread dequeues */
		if (nsm.qhead == NULL)
			nsm.qtail = NULL;
		nsm.qn--;
		known = nsm_known(&q->e);
		pthread_mutex_unlock(&nsm.mem);
		if (!known && nsm_update(chg_add, &q->e) == 0)
			log_info("nsm: monitoring %s", q->e.name);
		pthread_mutex_unlock(&nsm.io);
		free(q);
	}
}

uint32_t
nfs_nsm_state(void)
{
	int loaded;

	pthread_mutex_lock(&nsm.mem);
	loaded = nsm.loaded;
	pthread_mutex_unlock(&nsm.mem);
	if (!loaded) {
		pthread_mutex_lock(&nsm.io);
		nsm_load();
		pthread_mutex_unlock(&nsm.io);
	}
	return nfs_nsm_state_cached();
}

void
nfs_nsm_stats(uint32_t *state, int *monitored, uint64_t *freed,
    uint64_t *notified)
{
	pthread_mutex_lock(&nsm.mem);
	*state = nsm.state;
	*monitored = nsm.loaded ? nsm.n : -1;
	*freed = nsm.freed;
	*notified = nsm.notified;
	pthread_mutex_unlock(&nsm.mem);
}

uint32_t
nfs_nsm_state_cached(void)
{
	uint32_t s;

	pthread_mutex_lock(&nsm.mem);
	s = nsm.state;
	pthread_mutex_unlock(&nsm.mem);
	return s;
}

int
nfs_nsm_notify(const char *mon_name, uint32_t state,
    const struct sockaddr *peer)
{
	char		host[64], more[64];
	uint64_t	n = 0;
	int		rc, i, other;

	nfs_addr_text(peer, host, sizeof(host));
	/* a client we monitor reboots where it locked from: a notice
	 * naming it from elsewhere does not free its locks */
	pthread_mutex_lock(&nsm.mem);
	i = nsm_lookup(mon_name);
	other = i >= 0 && !nlm_addr_eq((struct sockaddr *)&nsm.v[i].peer,
	    peer);
	pthread_mutex_unlock(&nsm.mem);
	if (other) {
		if (log_ratelim_ok(&rl_notify, more, sizeof(more)))
			log_warnx("nsm: SM_NOTIFY of %s from %s, not from the "
			    "address it locked from: ignored%s", mon_name,
			    host, more);
		return 0;
	}
	rc = brl_free_client(BRL_PROTO_NLM, mon_name, &n);
	if (rc != BRL_OK) {
		log_warnx("nsm: SM_NOTIFY of %s (from %s): locks not freed: "
		    "%s", mon_name, host, brl_strerror(rc));
		return -1;
	}
	pthread_mutex_lock(&nsm.mem);
	nsm.freed += n;
	pthread_mutex_unlock(&nsm.mem);
	log_info("nsm: %s (from %s) restarted (state %u): %llu lock(s) "
	    "freed", mon_name, host, state, (unsigned long long)n);
	return 0;
}

/* ---- a cold start: a new state, and SM_NOTIFY to everybody ------------- */

/* Bump the stored state by two (odd: up).  0, or -1 when PSO failed. */
static int
state_bump(void)
{
	pso_id		 id;
	void		*val = NULL;
	size_t		 len = 0;
	uint8_t		 nv[12];
	uint32_t	 st = 1;
	int		 rc;

	if ((rc = obj_id(NSM_STATE_OBJ, &id)) != 0 ||
	    (rc = pso_lock(id, NSM_OWNER, NSM_LOCK_MS)) != 0) {
		log_warnx("nsm: cannot lock the state: %s", pso_strerror(rc));
		return -1;
	}
	if ((rc = pso_read(id, &val, &len, NULL)) == 0 && len >= 4)
		st = get_be32(val);
	st = (st | 1) + 2;
	put_be32(nv, st);
	put_be64(nv + 4, wall_ms());	/* when, for the curious */
	if (rc == 0 && (rc = pso_write(id, NSM_OWNER, nv, sizeof(nv),
	    NULL)) == 0) {
		pthread_mutex_lock(&nsm.mem);
		nsm.state = st;
		pthread_mutex_unlock(&nsm.mem);
	}
	if (rc != 0)
		log_warnx("nsm: cannot update the state: %s",
		    pso_strerror(rc));
	pso_unlock(id, NSM_OWNER);
	free(val);
	return rc == 0 ? 0 : -1;
}

/* SM_NOTIFY to one client's statd, over TCP, else UDP (some statds
 * have only UDP, as sm-notify uses).  0 when it answered. */
static int
notify_one(const struct nsm_ent *e, uint32_t state)
{
	static const int prots[2] = { IPPROTO_TCP, IPPROTO_UDP };
	const struct sockaddr	*peer = (const struct sockaddr *)&e->peer;
	const struct sockaddr	*local = (const struct sockaddr *)&e->local;
	char			 me[64];
	struct buf		 b;
	uint16_t		 port;
	int			 rv = -1;

	/* our name as the client knows us: the address it mounted */
	nfs_addr_text(local, me, sizeof(me));
	buf_init(&b);
	nlm_xdr_obj(&b, me, (uint32_t)strlen(me));
	buf_add_u32(&b, state);
	for (int i = 0; i < 2 && rv < 0; i++) {
		port = nfs_rpc_getport(peer, local, NFS_PROG_NSM, 1, prots[i],
		    NOTIFY_TIMEOUT);
		if (port != 0)
			rv = nfs_rpc_call(peer, port, local, prots[i],
			    NFS_PROG_NSM, 1, 6, b.data, b.len, NOTIFY_TIMEOUT,
			    0, NULL, NULL);
	}
	buf_free(&b);
	return rv;
}

static void *
notify_main(void *arg)
{
	struct nsm_ent	*v;
	int		 n, left, *done;
	uint32_t	 state;

	(void)arg;
	pthread_mutex_lock(&nsm.io);
	pthread_mutex_lock(&nsm.mem);
	nsm.loaded = 0;			/* the stored list, not ours */
	pthread_mutex_unlock(&nsm.mem);
	nsm_load();
	if (state_bump() < 0) {
		pthread_mutex_unlock(&nsm.io);
		return NULL;
	}
	pthread_mutex_lock(&nsm.mem);
	n = nsm.n;
	v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	if (n > 0)
		memcpy(v, nsm.v, (size_t)n * sizeof(*v));
	state = nsm.state;
	pthread_mutex_unlock(&nsm.mem);
	pthread_mutex_unlock(&nsm.io);
	log_info("nsm: cold start: state %u, notifying %d client(s)", state,
	    n);
	done = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*done));
	left = n;
	for (int round = 0; round < NOTIFY_ROUNDS && left > 0; round++) {
		if (round > 0)
			usleep(NOTIFY_WAIT_MS * 1000);
		for (int i = 0; i < n; i++) {
			if (done[i] || notify_one(&v[i], state) < 0)
				continue;
			done[i] = 1;
			left--;
		}
	}
	for (int i = 0; i < n; i++)
		if (!done[i])
			log_warnx("nsm: %s did not take our SM_NOTIFY",
			    v[i].name);
	pthread_mutex_lock(&nsm.mem);
	nsm.notified += (uint64_t)(n - left);
	pthread_mutex_unlock(&nsm.mem);
	free(done);
	free(v);
	return NULL;
}

static void
nsm_notify_all(void)
{
	pthread_t	th;
	pthread_attr_t	at;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if ((errno = pthread_create(&th, &at, notify_main, NULL)) != 0)
		log_warn("nsm: pthread_create");
	pthread_attr_destroy(&at);
}

/* A cold start of the cluster: the arbiter (one head) takes the new
 * state and tells the clients, so that they reclaim during the grace. */
static _Atomic int cold_seen;

static void
cold_cb(void *arg)
{
	struct brl_stats s;

	(void)arg;
	atomic_store(&cold_seen, 1);
	brl_stats_get(&s);
	if (s.arbiter)
		nsm_notify_all();
}

/* ---- procedures ------------------------------------------------------- */

/* STAT, MON: sm_stat_res {res_stat, state}; UNMON*: sm_stat {state}. */
static uint32_t
enc_stat(ZDR *z, void *arg, ...)
{
	uint32_t *v = arg;

	return zdr_u_int(z, &v[0]) && zdr_u_int(z, &v[1]);
}

static uint32_t
enc_state(ZDR *z, void *arg, ...)
{
	return zdr_u_int(z, arg);
}

/* Copy a checked XDR string (nfs_xdr.c: <= 1024 bytes) into dst. */
static int
rd_name(struct rd *r, char *dst, size_t cap)
{
	struct nlm_obj o;

	if (nlm_rd_obj(r, &o, NLM_OBJ_MAX) < 0 || o.len >= cap ||
	    memchr(o.p, 0, o.len) != NULL)
		return -1;
	memcpy(dst, o.p, o.len);
	dst[o.len] = 0;
	return 0;
}

static int
is_loopback(const struct sockaddr *sa)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr.s_addr) >> 24) == 127;
	return sa->sa_family == AF_INET6 &&
	    memcmp(&((const struct sockaddr_in6 *)(const void *)sa)
	    ->sin6_addr, lo6, 16) == 0;
}

int
nsm_args_decode(const uint8_t *args, size_t len, uint32_t proc,
    struct nsm_args *a)
{
	struct rd	rd;
	int		ok = 1;

	memset(a, 0, sizeof(*a));
	rd_init(&rd, args, len);
	switch (proc) {
	case 1:				/* STAT: sm_name */
		return rd_name(&rd, a->e.name, sizeof(a->e.name));
	case 2:				/* MON: mon_id (+ priv) */
	case 3:				/* UNMON: mon_id */
	case 4:				/* UNMON_ALL: my_id */
		ok = (proc == 4 || rd_name(&rd, a->e.name,
		    sizeof(a->e.name)) == 0) &&
		    rd_name(&rd, a->e.my_name, sizeof(a->e.my_name)) == 0;
		a->e.my_prog = rd_u32(&rd);
		a->e.my_vers = rd_u32(&rd);
		a->e.my_proc = rd_u32(&rd);
		/* an empty my_name is ours (clients that locked) */
		return ok && !rd.err && a->e.my_name[0] != 0 ? 0 : -1;
	case 6:				/* NOTIFY: mon_name, state */
		if (rd_name(&rd, a->e.name, sizeof(a->e.name)) < 0 ||
		    a->e.name[0] == 0)
			return -1;
		a->state = rd_u32(&rd);
		return 0;
	}
	return 0;
}

void
nfs_nsm_call(struct nfs_req *r)
{
	struct nsm_args	 a;
	uint32_t	 res[2], state;
	int		 ok;

	ok = nsm_args_decode(r->rec + r->argoff, r->reclen - r->argoff,
	    r->proc, &a) == 0;
	switch (r->proc) {
	case 0:				/* NULL */
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	case 1:				/* STAT: may we monitor name? */
		res[0] = ok ? 0 : 1;
		res[1] = nfs_nsm_state();
		nfs_req_reply(r, res, enc_stat, 8);
		return;
	case 2:				/* MON */
	case 3:				/* UNMON */
	case 4:				/* UNMON_ALL */
		if (ok) {
			sa_copy(&a.e.peer, (struct sockaddr *)&r->peer);
			sa_copy(&a.e.local, (struct sockaddr *)&r->local);
			pthread_mutex_lock(&nsm.io);
			ok = nsm_update(r->proc == 2 ? chg_add : chg_del,
			    &a.e) == 0;
			pthread_mutex_unlock(&nsm.io);
		}
		state = nfs_nsm_state();
		if (r->proc == 2) {
			res[0] = ok ? 0 : 1;
			res[1] = state;
			nfs_req_reply(r, res, enc_stat, 8);
		} else {
			nfs_req_reply(r, &state, enc_state, 4);
		}
		return;
	case 5:			/* SIMU_CRASH: local lockd only */
		if (is_loopback((struct sockaddr *)&r->peer))
			nsm_notify_all();
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	case 6:				/* NOTIFY */
		if (r->args_ok == NFS_ARGS_NUL || !ok) {
			nfs_req_reply(r, NULL, NULL, 0);
			return;
		}
		/* locks not freed (table not ready): no reply, the
		 * client's statd sends it again */
		if (nfs_nsm_notify(a.e.name, a.state,
		    (struct sockaddr *)&r->peer) < 0) {
			nfs_svc_count_drop();
			return;
		}
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	}
}

int
nfs_nsm_init(const struct cfg *cfg)
{
	(void)cfg;
	if (!nfs_locking)
		return 0;
	pthread_mutex_lock(&nsm.mem);
	nsm.stop = 0;
	pthread_mutex_unlock(&nsm.mem);
	if ((errno = pthread_create(&nsm.th, NULL, adder_main, NULL)) != 0) {
		log_warn("nsm: pthread_create");
		return -1;
	}
	pthread_mutex_lock(&nsm.mem);
	nsm.running = 1;
	pthread_mutex_unlock(&nsm.mem);
	brl_set_cold_cb(cold_cb, NULL);
	/* the NFS service may start after the lock table began its grace
	 * (exports added later): the clients still need to hear of it */
	if (!atomic_load(&cold_seen) && brl_in_grace() > 0) {
		log_info("nsm: the lock table is in its grace period");
		cold_cb(NULL);
	}
	return 0;
}

void
nfs_nsm_shutdown(void)
{
	struct nsm_add	*q;
	struct timespec	 dl;

	if (!nfs_locking)
		return;
	brl_set_cold_cb(NULL, NULL);
	pthread_mutex_lock(&nsm.mem);
	if (!nsm.running) {
		pthread_mutex_unlock(&nsm.mem);
		return;
	}
	nsm.stop = 1;
	nsm.running = 0;
	pthread_cond_signal(&nsm.cv);
	pthread_mutex_unlock(&nsm.mem);
	/* The adder and the cold-start notifier call PSO, which needs the
	 * event loop; at daemon exit the loop has stopped already, so a
	 * thread inside a PSO call never returns.  Wait a bounded time
	 * and leave the memory to the exit rather than hang it. */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += SHUTDOWN_WAIT_S;
	if (pthread_timedjoin_np(nsm.th, NULL, &dl) != 0 ||
	    pthread_mutex_timedlock(&nsm.io, &dl) != 0) {
		log_warnx("nsm: a PSO call is still running at shutdown: "
		    "not waiting for it");
		return;
	}
	pthread_mutex_lock(&nsm.mem);
	while ((q = nsm.qhead) != NULL) {
		nsm.qhead = q->next;
		free(q);
	}
	nsm.qtail = NULL;
	nsm.qn = 0;
	free(nsm.v);
	nsm.v = NULL;
	nsm.n = 0;
	free(nsm.hash);
	free(nsm.chain);
	nsm.hash = nsm.chain = NULL;
	nsm.loaded = 0;
	pthread_mutex_unlock(&nsm.mem);
	pthread_mutex_unlock(&nsm.io);
}

/*
 * nfs_drc.c — the duplicate request cache for non-idempotent NFS calls.
 *
 * Keyed by client address (not port: clients reconnect from new ports)
 * + xid + program/version/procedure.  A call is entered IN PROGRESS when
 * it is dispatched; a retransmission that arrives meanwhile is dropped,
 * one that arrives after the reply was sent gets the same encoded reply
 * bytes again, so a retried REMOVE or CREATE does not turn into NOENT or
 * EXIST.  Entries are self-contained (key + reply bytes) so the cache
 * can later be shipped to the peer head; a fixed ring of DRC_SIZE slots
 * replaces the oldest entry.  Any thread: one mutex guards the table.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "export/nfs_int.h"

#define DRC_SIZE	4096
#define DRC_HASH	8192

struct drc_ent {
	int		 used;
	int		 next;		/* hash chain, -1 ends */
	uint8_t		 addr[16];
	int		 family;
	uint32_t	 xid, prog, vers, proc;
	enum nfs_drc_state state;
	uint8_t		*reply;
	size_t		 len;
};

static struct drc_ent	drc[DRC_SIZE];
static int		drc_head[DRC_HASH];
static int		drc_inited;
static int		drc_clock;
static uint64_t		drc_hits, drc_entries;
static pthread_mutex_t	drc_mtx = PTHREAD_MUTEX_INITIALIZER;

static void
drc_init(void)
{
	for (int i = 0; i < DRC_HASH; i++)
		drc_head[i] = -1;
	drc_inited = 1;
}

static void
key_addr(const struct sockaddr *sa, uint8_t *addr, int *family)
{
	memset(addr, 0, 16);
	*family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr, 16);
}

static unsigned
drc_hash(const uint8_t *addr, uint32_t xid)
{
	uint32_t h = xid * 2654435761u;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % DRC_HASH;
}

static void
drc_unlink(int slot)
{
	struct drc_ent	*e = &drc[slot];
	int		*pp = &drc_head[drc_hash(e->addr, e->xid)];

	while (*pp != -1 && *pp != slot)
		pp = &drc[*pp].next;
	if (*pp == slot)
		*pp = e->next;
	free(e->reply);
	memset(e, 0, sizeof(*e));
	drc_entries--;
}

enum nfs_drc_state
nfs_drc_lookup(const struct sockaddr *sa, uint32_t xid, uint32_t prog,
    uint32_t vers, uint32_t proc, int *slot, uint8_t **reply, size_t *len)
{
	uint8_t		 addr[16];
	int		 family, i;
	unsigned	 h;
	struct drc_ent	*e;
	enum nfs_drc_state st;

	pthread_mutex_lock(&drc_mtx);
	if (!drc_inited)
		drc_init();
	key_addr(sa, addr, &family);
	h = drc_hash(addr, xid);
	for (i = drc_head[h]; i != -1; i = drc[i].next) {
		e = &drc[i];
		if (e->xid == xid && e->family == family && e->prog == prog &&
		    e->vers == vers && e->proc == proc &&
		    memcmp(e->addr, addr, 16) == 0) {
			drc_hits++;
			if (e->state == NFS_DRC_DONE) {
				*reply = xmalloc(e->len > 0 ? e->len : 1);
				memcpy(*reply, e->reply, e->len);
				*len = e->len;
			}
			st = e->state;
			pthread_mutex_unlock(&drc_mtx);
			return st;
		}
	}
	i = drc_clock;
	drc_clock = (drc_clock + 1) % DRC_SIZE;
	if (drc[i].used)
		drc_unlink(i);
	e = &drc[i];
	e->used = 1;
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->xid = xid;
	e->prog = prog;
	e->vers = vers;
	e->proc = proc;
	e->state = NFS_DRC_INPROGRESS;
	e->next = drc_head[h];
	drc_head[h] = i;
	drc_entries++;
	*slot = i;
	pthread_mutex_unlock(&drc_mtx);
	return NFS_DRC_NEW;
}

void
nfs_drc_complete(int slot, uint32_t xid, const uint8_t *reply, size_t len)
{
	struct drc_ent	*e = &drc[slot];
	uint8_t		*copy = xmalloc(len > 0 ? len : 1);

	memcpy(copy, reply, len);
	pthread_mutex_lock(&drc_mtx);
	/* the slot may have been recycled while the call ran */
	if (!e->used || e->xid != xid || e->state != NFS_DRC_INPROGRESS) {
		pthread_mutex_unlock(&drc_mtx);
		free(copy);
		return;
	}
	e->reply = copy;
	e->len = len;
	e->state = NFS_DRC_DONE;
	pthread_mutex_unlock(&drc_mtx);
}

void
nfs_drc_abort(int slot, uint32_t xid)
{
	struct drc_ent *e = &drc[slot];

	pthread_mutex_lock(&drc_mtx);
	if (e->used && e->xid == xid && e->state == NFS_DRC_INPROGRESS)
		drc_unlink(slot);
	pthread_mutex_unlock(&drc_mtx);
}

void
nfs_drc_clear(void)
{
	pthread_mutex_lock(&drc_mtx);
	for (int i = 0; i < DRC_SIZE; i++)
		if (drc[i].used)
			drc_unlink(i);
	drc_clock = 0;
	pthread_mutex_unlock(&drc_mtx);
}

void
nfs_drc_stats(uint64_t *hits, uint64_t *entries)
{
	pthread_mutex_lock(&drc_mtx);
	*hits = drc_hits;
	*entries = drc_entries;
	pthread_mutex_unlock(&drc_mtx);
}

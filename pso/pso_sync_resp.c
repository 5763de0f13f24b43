/*
 * pso_sync_resp.c — the responder side of resync (loop thread): answers
 * SYNC_BEGIN (does this head serve, is it recovering), SYNC_DIGEST (id,
 * version, sum, flags of each record, in id order), SYNC_FETCH, SYNC_LOCKS
 * and SYNC_END from the local store and lock table.  SYNC_PUSH is a
 * write and lands in pso_write.c.  Formats: docs/pso.md, "Peer
 * messages"; the requester side and the merge: pso_sync.c.  A responder
 * decides nothing: what it answers is what it has.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "link/link.h"
#include "pso/pso_int.h"

#define SYNC_FETCH_ROOM	(LINK_PAYLOAD_MAX - 4096)

static void
begin_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_m_begin	m, r;
	struct buf		b;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_begin_dec(p, len, &m, 0) < 0) {
		log_warnx("pso: malformed SYNC_BEGIN (%zu bytes)", len);
		pso_reply_rc(rq, EPROTO);
		return;
	}
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&pso_g.mtx);
	/* Serving = holds this cluster life's data (synced once since
	 * start), even while re-checking after a link cut; not when it
	 * lacks acknowledged writes (behind) or its store (recovering). */
	r.serving = pso_g.running && !pso_g.booting && !pso_g.recover;
	r.recovering = pso_g.recover != PSO_RECOVER_NONE;
	r.opmode = (uint8_t)pso_g.mode;
	pthread_mutex_unlock(&pso_g.mtx);
	r.node = pso_g.self_node;
	if (pso_g.st)
		pso_store_count(pso_g.st, &r.objects);
	log_info("pso: peer asks to resync (%s), we %s", m.booting ?
	    "booting" : "re-checking", r.serving ? "serve" : r.recovering ?
	    "are recovering ourselves" : "do not serve yet");
	buf_init(&b);
	pso_m_begin_enc(&b, &r, 1);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

struct dig_arg {
	struct buf	*b;
	uint32_t	 n, max;
	int		 more;
};

static int
dig_one(const struct pso_rec *r, void *arg)
{
	struct dig_arg *d = arg;

	if (d->n == d->max) {
		d->more = 1;
		return 1;
	}
	pso_m_digrep_add(d->b, r->id, r->version, pso_rec_sum(r), r->flags);
	d->n++;
	return 0;
}

static void
digest_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct dig_arg	d;
	struct buf	b;
	pso_id		after;
	uint32_t	max;
	int		rc;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_digreq_dec(p, len, &after, &max) < 0) {
		pso_reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_m_digrep_start(&b, 0);
	memset(&d, 0, sizeof(d));
	d.b = &b;
	d.max = MIN(MAX(max, 1), PSO_DIGEST_MAX);
	rc = pso_g.st ? pso_store_iter(pso_g.st, after, dig_one, &d) :
	    PSO_SHUTDOWN;
	if (rc != 0 && rc != 1) {
		buf_reset(&b);
		pso_m_digrep_start(&b, rc);
		d.n = 0;
		d.more = 0;
	}
	pso_m_digrep_finish(&b, d.more, d.n);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void
fetch_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct pso_rec	 r;
	struct buf	 b;
	pso_id		*ids;
	uint32_t	 i, n, out = 0;
	void		*val;
	int		 rc = 0;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_ids_dec(p, len, &ids, &n) < 0 || n > PSO_FETCH_MAX) {
		pso_reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_m_recs_start(&b, 1, 0);
	for (i = 0; i < n && pso_g.st; i++) {
		rc = pso_store_get(pso_g.st, ids[i], &r, &val);
		if (rc == PSO_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		if (b.len + pso_rec_msglen(&r) > SYNC_FETCH_ROOM) {
			free(val);
			break;		/* the requester asks for the rest */
		}
		pso_rec_encode(&b, &r, 1);
		free(val);
		out++;
	}
	if (rc != 0) {
		buf_reset(&b);
		pso_m_recs_start(&b, 1, rc);
		out = 0;
	}
	pso_m_recs_finish(&b, 1, out);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
	free(ids);
}

static void
locks_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct buf b;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (len != 1 || p[0] != PSO_MSG_FORMAT) {
		pso_reply_rc(rq, EPROTO);
		return;
	}
	buf_init(&b);
	pso_lock_snapshot(&b);
	link_reply(rq, b.data, b.len);
	buf_free(&b);
}

static void
end_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	uint64_t n;

	(void)type; (void)arg;
	if (rq == NULL)
		return;
	if (pso_m_end_dec(p, len, &n) < 0) {
		pso_reply_rc(rq, EPROTO);
		return;
	}
	log_info("pso: peer resynced (%llu objects)", (unsigned long long)n);
	/* Its resync merged both ways: nothing of ours left to compare. */
	pthread_mutex_lock(&pso_g.mtx);
	pso_g.resync_wanted = 0;
	pthread_mutex_unlock(&pso_g.mtx);
	pso_reply_rc(rq, 0);
}

void
pso_sync_init(void)
{
	link_register(PSO_T_SYNC_BEGIN, begin_cb, NULL);
	link_register(PSO_T_SYNC_DIGEST, digest_cb, NULL);
	link_register(PSO_T_SYNC_FETCH, fetch_cb, NULL);
	link_register(PSO_T_SYNC_LOCKS, locks_cb, NULL);
	link_register(PSO_T_SYNC_END, end_cb, NULL);
}

/*
 * ctcm_peer.c — the configuration on the peer link: the master's push of
 * each committed generation (CTCM_PUSH), the numbers report (CTCM_GEN)
 * and the fetch of the peer's committed configuration (CTCM_FETCH) for
 * catch-up, and taking a received image as committed (docs/ctcm.md,
 * "Messages on the peer link", "Catch-up between heads").
 *
 * Worker threads talk to the peer synchronously through the loop
 * (peer_request()); handlers run on the loop thread and hand installs to
 * a short-lived thread so the loop never waits for fsync.  Every reply
 * and request is checked for length before its payload is used.  A head
 * that is master itself refuses a push: the sender has lost the
 * mastership.  This file does not choose numbers (ctcm_sync.c does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "ha/ha.h"
#include "link/link.h"

#define CTCM_T_PUSH	(LINK_T_CTCM_FIRST + 0)
#define CTCM_T_GEN	(LINK_T_CTCM_FIRST + 1)
#define CTCM_T_FETCH	(LINK_T_CTCM_FIRST + 2)
#define GEN_REPLY_MIN	13		/* gen, crc, valid */

static int	req_timeout_ms = 2000;

/* ---- synchronous requests from worker threads ---------------------- */

struct preq {
	uint8_t			 type;
	const void		*payload;
	size_t			 len;
	struct loop_wait	 w;
	int			 status;
	struct buf		 reply;
};

static void
preq_reply_cb(int status, const uint8_t *p, size_t len, void *arg)
{
	struct preq *r = arg;

	r->status = status;
	if (status == 0 && len > 0)
		buf_add(&r->reply, p, len);
	loop_wait_done(&r->w, 0);
}

static void
preq_on_loop(void *arg)
{
	struct preq *r = arg;

	if (!link_peer_up()) {
		r->status = ENOTCONN;
		loop_wait_done(&r->w, 0);
		return;
	}
	link_request(r->type, r->payload, r->len, req_timeout_ms,
	    preq_reply_cb, r);
}

/* 0 with the reply in *reply (caller frees), or a link error. */
static int
peer_request(uint8_t type, const void *payload, size_t len,
    struct buf *reply)
{
	struct preq r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.payload = payload;
	r.len = len;
	buf_init(&r.reply);
	loop_wait_init(&r.w);
	loop_call(preq_on_loop, &r);
	loop_wait(&r.w);
	loop_wait_destroy(&r.w);
	*reply = r.reply;
	return r.status;
}

int
ctcm_peer_push(const struct buf *img, uint64_t gen)
{
	struct buf	o;
	struct rd	r;
	uint64_t	pgen, pinst, pepoch = 0;
	int		rc, status;

	(void)gen;
	if ((rc = peer_request(CTCM_T_PUSH, img->data, img->len, &o)) != 0) {
		pthread_mutex_lock(&ctcm_g.mtx);
		ctcm_g.push_fail++;
		pthread_mutex_unlock(&ctcm_g.mtx);
		buf_free(&o);
		return rc;
	}
	rd_init(&r, o.data, o.len);
	status = (int)rd_u32(&r);
	pgen = rd_u64(&r);
	pinst = rd_u64(&r);
	if (r.left >= 8)
		pepoch = rd_u64(&r);
	buf_free(&o);
	if (r.err)
		return CTCM_E_SHORT;
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.peer_gen = pgen;
	ctcm_g.peer_inst = pinst;
	ctcm_g.peer_known = 1;
	ctcm_g.peer_epoch = MAX(ctcm_g.peer_epoch, pepoch);
	if (status != 0)
		ctcm_g.push_fail++;
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_state_seen(pgen, pepoch);
	return status;
}

int
ctcm_peer_query(void)
{
	struct buf	o;
	struct rd	r;
	uint64_t	gen, vepoch = 0, maxs = 0, inst = 0, epoch = 0;
	uint32_t	crc;
	int		rc, valid, master = 0;

	if ((rc = peer_request(CTCM_T_GEN, NULL, 0, &o)) != 0) {
		buf_free(&o);
		return rc;
	}
	if (o.len < GEN_REPLY_MIN) {
		buf_free(&o);
		return CTCM_E_SHORT;
	}
	rd_init(&r, o.data, o.len);
	gen = rd_u64(&r);
	crc = rd_u32(&r);
	valid = rd_u8(&r);
	if (r.left >= 33) {
		vepoch = rd_u64(&r);
		maxs = rd_u64(&r);
		inst = rd_u64(&r);
		epoch = rd_u64(&r);
		master = rd_u8(&r);
	}
	buf_free(&o);
	pthread_mutex_lock(&ctcm_g.mtx);
	ctcm_g.peer_gen = gen;
	ctcm_g.peer_crc = crc;
	ctcm_g.peer_valid = valid;
	ctcm_g.peer_vepoch = vepoch;
	ctcm_g.peer_max_seen = maxs;
	ctcm_g.peer_inst = inst;
	ctcm_g.peer_epoch = epoch;
	ctcm_g.peer_master = master;
	ctcm_g.peer_known = 1;
	pthread_mutex_unlock(&ctcm_g.mtx);
	ctcm_state_seen(MAX(gen, maxs), MAX(vepoch, epoch));
	return 0;
}

int
ctcm_peer_pull(void)
{
	struct buf	o;
	struct rd	r;
	uint64_t	pg, pve, g, ve;
	uint32_t	pcrc, crc, status;
	int		known, rc, cmp, slave;

	pthread_mutex_lock(&ctcm_g.mtx);
	known = ctcm_g.peer_known && ctcm_g.peer_valid;
	pg = ctcm_g.peer_gen;
	pve = ctcm_g.peer_vepoch;
	pcrc = ctcm_g.peer_crc;
	g = ctcm_g.gen;
	ve = ctcm_g.vepoch;
	crc = ctcm_g.crc;
	slave = ctcm_g.cfg.heads[ctcm_g.self].role != CFG_ROLE_MASTER;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (!known || (pg == g && pcrc == crc))
		return 0;
	/* equal rank, other content: only two heads initialised apart
	 * (nothing was ever acknowledged): the configured master's copy */
	cmp = ctcm_rank_cmp(pve, pg, ve, g);
	if (cmp < 0 || (cmp == 0 && !slave))
		return 0;
	log_info("ctcm: the peer has generation %llu (epoch %llu), this "
	    "head %llu (epoch %llu): fetching", (unsigned long long)pg,
	    (unsigned long long)pve, (unsigned long long)g,
	    (unsigned long long)ve);
	if ((rc = peer_request(CTCM_T_FETCH, NULL, 0, &o)) != 0) {
		log_warnx("ctcm: fetching the peer's configuration: %s",
		    strerror(rc));
		buf_free(&o);
		return -1;
	}
	rd_init(&r, o.data, o.len);
	status = rd_u32(&r);
	if (r.err || status != 0 || r.left < 12) {
		buf_free(&o);
		return -1;
	}
	rc = ctcm_peer_accept(r.p, r.left, 0);
	buf_free(&o);
	return rc == 0 ? 1 : -1;
}

/* ---- taking an image --------------------------------------------------- */

static void *
reexec_thread(void *arg)
{
	(void)arg;
	usleep(300 * 1000);	/* let an admin reply go out first */
	ctcm_reexec();
	return NULL;
}

void
ctcm_reexec_soon(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, reexec_thread, NULL) == 0)
		pthread_detach(t);
}

int
ctcm_peer_accept(const uint8_t *d, size_t len, int pushed)
{
	struct ctcm_bundle	*v = NULL;
	struct cfg		*nc = xcalloc(1, sizeof(*nc));
	const char		*from = pushed ? "the master" : "the peer";
	char			 err[512];
	uint64_t		 epoch, gen, vepoch;
	uint32_t		 crc;
	int			 n = 0, rc, opm, mon;

	if ((rc = ctcm_image_decode(d, len, &v, &n, &epoch)) != 0) {
		log_warnx("ctcm: configuration from %s: %s", from,
		    ctcm_strerror(rc));
		goto out;
	}
	ctcm_state_seen(v[0].gen, epoch);
	pthread_mutex_lock(&ctcm_g.mtx);
	opm = ctcm_g.opmode;
	mon = ctcm_g.monitor;
	gen = ctcm_g.gen;
	vepoch = ctcm_g.vepoch;
	crc = ctcm_g.crc;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (pushed && opm == HA_OPMODE_MASTER) {
		log_warnx("ctcm: refusing generation %llu pushed by the peer: "
		    "this head is the master (the peer lost the mastership)",
		    (unsigned long long)v[0].gen);
		rc = CTCM_E_NOTMASTER;
		goto out;
	}
	if (v[0].gen == gen && v[0].content_crc == crc) {
		pthread_mutex_lock(&ctcm_g.mtx);
		if (v[0].vepoch > ctcm_g.vepoch)
			ctcm_g.vepoch = ctcm_g.cur.vepoch = v[0].vepoch;
		pthread_mutex_unlock(&ctcm_g.mtx);
		rc = ctcm_sync_install(err, sizeof(err));
		goto done;
	}
	if (ctcm_rank_cmp(v[0].vepoch, v[0].gen, vepoch, gen) < 0) {
		rc = CTCM_E_STALE;
		goto out;
	}
	/* equal rank with other content is taken only as decided by
	 * ctcm_peer_pull() (the configured master's copy) or pushed by the
	 * master */
	if (ctcm_bundle_cfg(&v[0], nc, err, sizeof(err)) < 0) {
		log_warnx("ctcm: generation %llu from %s does not parse: %s",
		    (unsigned long long)v[0].gen, from, err);
		rc = CTCM_E_INVALID;
		goto out;
	}
	if (v[0].gen == gen)
		log_warnx("ctcm: %s has generation %llu with other content "
		    "(%08x, epoch %llu; here %08x, epoch %llu): taking the "
		    "higher-ranked one", from, (unsigned long long)gen,
		    v[0].content_crc, (unsigned long long)v[0].vepoch, crc,
		    (unsigned long long)vepoch);
	ctcm_state_committed(&v[0], nc);
	ctcm_local_save_history(&ctcm_g.local, v + 1, n - 1, v[0].gen);
	rc = ctcm_sync_install(err, sizeof(err));
	log_info("ctcm: generation %llu (epoch %llu) from %s (%s: %s)%s%s",
	    (unsigned long long)v[0].gen, (unsigned long long)v[0].vepoch,
	    from, v[0].author, v[0].summary, rc ? "; local install failed: " :
	    "", rc ? err : "");
done:
	if (rc == 0 && mon) {
		log_warnx("ctcm: MONITOR: generation %llu installed from %s; "
		    "restarting to leave MONITOR", (unsigned long long)v[0].gen,
		    from);
		ctcm_reexec_soon();
	}
out:
	ctcm_bundles_free(v, n);
	free(nc);
	return rc;
}

/* ---- handlers (loop thread) ---------------------------------------------- */

struct inst_job {
	uint8_t		*data;
	size_t		 len;
	struct link_req	*rq;
	uint32_t	 status;
	uint64_t	 gen, inst, epoch;
};

static void
inst_reply_on_loop(void *p)
{
	struct inst_job	*j = p;
	struct buf	 o;

	buf_init(&o);
	buf_add_u32(&o, j->status);
	buf_add_u64(&o, j->gen);
	buf_add_u64(&o, j->inst);
	buf_add_u64(&o, j->epoch);
	link_reply(j->rq, o.data, o.len);
	buf_free(&o);
	free(j->data);
	free(j);
}

static void *
inst_thread(void *p)
{
	struct inst_job *j = p;

	pthread_mutex_lock(&ctcm_g.txn);
	j->status = (uint32_t)ctcm_peer_accept(j->data, j->len, 1);
	pthread_mutex_unlock(&ctcm_g.txn);
	pthread_mutex_lock(&ctcm_g.mtx);
	j->gen = ctcm_g.gen;
	j->inst = ctcm_g.inst_gen;
	j->epoch = MAX(ctcm_g.epoch_seen, ctcm_g.epoch);
	pthread_mutex_unlock(&ctcm_g.mtx);
	loop_call(inst_reply_on_loop, j);
	return NULL;
}

static void
push_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct inst_job	*j;
	pthread_t	 t;

	(void)type;
	(void)arg;
	if (rq == NULL)
		return;		/* only as a request */
	j = xcalloc(1, sizeof(*j));
	j->rq = rq;
	if (len < 12) {
		j->status = (uint32_t)CTCM_E_SHORT;
		inst_reply_on_loop(j);
		return;
	}
	j->data = xmalloc(len);
	memcpy(j->data, p, len);
	j->len = len;
	if (pthread_create(&t, NULL, inst_thread, j) != 0) {
		log_warn("ctcm: pthread_create");
		j->status = (uint32_t)EAGAIN;
		inst_reply_on_loop(j);
		return;
	}
	pthread_detach(t);
}

static void
gen_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct buf o;

	(void)type; (void)p; (void)len; (void)arg;
	if (rq == NULL)
		return;
	buf_init(&o);
	pthread_mutex_lock(&ctcm_g.mtx);
	buf_add_u64(&o, ctcm_g.gen);
	buf_add_u32(&o, ctcm_g.crc);
	buf_add_u8(&o, ctcm_g.gen != 0 && !ctcm_g.monitor);
	buf_add_u64(&o, ctcm_g.vepoch);
	buf_add_u64(&o, ctcm_g.max_seen);
	buf_add_u64(&o, ctcm_g.inst_gen);
	buf_add_u64(&o, MAX(ctcm_g.epoch_seen, ctcm_g.epoch));
	buf_add_u8(&o, ctcm_g.opmode == HA_OPMODE_MASTER);
	pthread_mutex_unlock(&ctcm_g.mtx);
	link_reply(rq, o.data, o.len);
	buf_free(&o);
}

static void
fetch_cb(uint8_t type, const uint8_t *p, size_t len, struct link_req *rq,
    void *arg)
{
	struct ctcm_bundle	b;
	struct buf		o, img;
	int			rc;

	(void)type; (void)p; (void)len; (void)arg;
	if (rq == NULL)
		return;
	buf_init(&o);
	buf_init(&img);
	if ((rc = ctcm_current(&b)) == 0) {
		ctcm_build_image(&b, b.vepoch, &img);
		ctcm_bundle_free(&b);
	}
	buf_add_u32(&o, (uint32_t)rc);
	buf_add(&o, img.data, img.len);
	link_reply(rq, o.data, o.len);
	buf_free(&o);
	buf_free(&img);
}

static void
link_cb(int up, uint64_t boot_id, void *arg)
{
	(void)boot_id;
	(void)arg;
	pthread_mutex_lock(&ctcm_g.mtx);
	if (!up)
		ctcm_g.peer_known = 0;
	pthread_mutex_unlock(&ctcm_g.mtx);
	if (up)
		ctcm_sync_wake();	/* compare with the peer now */
}

void
ctcm_peer_init(void)
{
	req_timeout_ms = ctcm_g.cfg.pso_req_timeout_ms > 0 ?
	    ctcm_g.cfg.pso_req_timeout_ms : 2000;
	link_register(CTCM_T_PUSH, push_cb, NULL);
	link_register(CTCM_T_GEN, gen_cb, NULL);
	link_register(CTCM_T_FETCH, fetch_cb, NULL);
	link_on_state(link_cb, NULL);
}

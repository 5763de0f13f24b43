/*
 * nfs_nlm.c — NLM v4 (program 100021, RFC 1813 appendix / XNFS): the
 * lock procedures of the NFS server, on the cluster lock table (brl.h).
 *
 * Runs on the NFS worker threads like NFS calls.  Arguments are decoded
 * by hand from the record nfs_xdr.c already checked.  The file of a lock
 * is our NFS handle: it is MAC-verified (a bad length or MAC answers
 * NLM4_STALE_FH) and names (export id, kernel handle) for brl, the same
 * on both heads.  A call on an export that is offline, disabled or fenced
 * here is dropped without a reply, as NFS calls are: the client
 * retransmits to the head that serves it.  A lock table that cannot
 * answer (BRL_UNAVAIL: joining, no arbiter) drops the call too.
 *
 * The owner of a lock is (NLM, caller_name, oh, svid).  LOCK, UNLOCK,
 * CANCEL, SHARE, UNSHARE and their _MSG forms go through the duplicate
 * request cache: a retransmitted UNLOCK after someone else took the
 * range must not release that. The _MSG forms answer with an empty RPC
 * reply and send the result as the matching _RES call to the client's
 * NLM service (nfs_nlm_cb.c); their cache entries keep the _RES
 * arguments so a retransmission gets the same result again.  A client
 * that gets its first lock is added to the monitored list (nfs_nsm.c).
 * GRANTED from a client is answered DENIED: we hold no client locks.
 * We do not take the locks in the backing filesystem (docs/nfs.md).
 */
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/log.h"
#include "export/nfs_nlm_int.h"

int	nfs_locking;
int	nfs_nlm_cb_pmap_port = 111;

static struct log_ratelim rl_stale;

/* ---- XDR ------------------------------------------------------------- */

void
nlm_xdr_obj(struct buf *b, const void *p, uint32_t len)
{
	static const uint8_t zero[4];

	buf_add_u32(b, len);
	if (len > 0)
		buf_add(b, p, len);
	buf_add(b, zero, ((len + 3) & ~3u) - len);
}

int
nlm_rd_obj(struct rd *r, struct nlm_obj *o, uint32_t max)
{
	o->len = rd_u32(r);
	if (r->err || o->len > max || o->len > r->left) {
		r->err = 1;
		return -1;
	}
	o->p = rd_bytes(r, (o->len + 3) & ~3u);
	return r->err ? -1 : 0;
}

void
nlm_xdr_callhdr(struct buf *b, uint32_t xid, uint32_t prog, uint32_t vers,
    uint32_t proc)
{
	buf_add_u32(b, xid);
	buf_add_u32(b, 0);		/* CALL */
	buf_add_u32(b, 2);
	buf_add_u32(b, prog);
	buf_add_u32(b, vers);
	buf_add_u32(b, proc);
	buf_add_u32(b, 0);		/* AUTH_NONE credential */
	buf_add_u32(b, 0);
	buf_add_u32(b, 0);		/* AUTH_NONE verifier */
	buf_add_u32(b, 0);
}

void
nlm_xdr_lock(struct buf *b, const char *caller, const void *fh,
    uint32_t fhlen, const struct brl_owner *o, const struct brl_range *r)
{
	nlm_xdr_obj(b, caller, (uint32_t)strlen(caller));
	nlm_xdr_obj(b, fh, fhlen);
	nlm_xdr_obj(b, o->oh, o->ohlen);
	buf_add_u32(b, o->svid);
	buf_add_u64(b, r->start);
	buf_add_u64(b, r->len);
}

static void
rd_lock(struct rd *r, struct nlm_lock_a *l)
{
	nlm_rd_obj(r, &l->caller, NLM_OBJ_MAX);
	nlm_rd_obj(r, &l->fh, NLM_OBJ_MAX);
	nlm_rd_obj(r, &l->oh, NLM_OBJ_MAX);
	l->svid = rd_u32(r);
	l->off = rd_u64(r);
	l->len = rd_u64(r);
}

int
nlm_args_decode(const uint8_t *args, size_t len, uint32_t proc,
    struct nlm_args *a)
{
	struct rd	r;
	uint32_t	p = proc;

	memset(a, 0, sizeof(*a));
	rd_init(&r, args, len);
	if (p == 23) {			/* FREE_ALL: nlm4_notify */
		nlm_rd_obj(&r, &a->lock.caller, NLM_OBJ_MAX);
		a->state = rd_u32(&r);
		return r.err ? -1 : 0;
	}
	nlm_rd_obj(&r, &a->cookie, NLM_OBJ_MAX);
	if (p >= 6 && p <= 10)
		p -= 5;			/* _MSG: the same arguments */
	else if (p == 22)
		p = 2;			/* NM_LOCK: LOCK's */
	switch (p) {
	case 1:				/* TEST, GRANTED */
	case 5:
		a->excl = rd_u32(&r);
		rd_lock(&r, &a->lock);
		break;
	case 2:				/* LOCK */
		a->block = rd_u32(&r);
		a->excl = rd_u32(&r);
		rd_lock(&r, &a->lock);
		a->reclaim = rd_u32(&r);
		a->state = rd_u32(&r);
		break;
	case 3:				/* CANCEL */
		a->block = rd_u32(&r);
		a->excl = rd_u32(&r);
		rd_lock(&r, &a->lock);
		break;
	case 4:				/* UNLOCK */
		rd_lock(&r, &a->lock);
		break;
	case 20:			/* SHARE, UNSHARE */
	case 21:
		nlm_rd_obj(&r, &a->lock.caller, NLM_OBJ_MAX);
		nlm_rd_obj(&r, &a->lock.fh, NLM_OBJ_MAX);
		nlm_rd_obj(&r, &a->lock.oh, NLM_OBJ_MAX);
		a->mode = rd_u32(&r);
		a->access = rd_u32(&r);
		a->reclaim = rd_u32(&r);
		break;
	default:			/* *_RES: cookie, stat */
		a->stat = rd_u32(&r);
		break;
	}
	return r.err ? -1 : 0;
}

/* A result to send: pre-encoded XDR, 4-byte aligned. */
struct nlm_raw {
	const uint8_t	*p;
	uint32_t	 len;
};

static uint32_t
enc_raw(ZDR *z, void *arg, ...)
{
	struct nlm_raw *raw = arg;

	return zdr_opaque(z, (char *)(uintptr_t)raw->p, raw->len);
}

/* ---- the file and the owner ------------------------------------------ */

struct nlm_ctx {
	struct brl_file		f;
	struct brl_owner	o;
	struct brl_range	rg;
};

/*
 * Resolve the handle and owner of a lock or share.  Returns 0, an NLM
 * status to answer, or -1: drop the call (export not served here).
 */
static int
nlm_resolve(struct nfs_req *req, const struct nlm_args *a, int share,
    struct nlm_ctx *x)
{
	const struct nlm_lock_a	*l = &a->lock;
	const struct nfs_exptab	*t;
	const struct nfs_export	*e;
	int64_t			 id;
	char			 host[64], more[64];
	int			 st = 0;

	memset(x, 0, sizeof(*x));
	/* names the table cannot hold exactly: refused, not truncated */
	if (req->args_ok == NFS_ARGS_NUL || l->caller.len == 0 ||
	    l->caller.len >= BRL_CLIENT_MAX || l->oh.len > BRL_OH_MAX)
		return NLM4_FAILED;
	id = nfs_fh_expid(l->fh.p, l->fh.len);
	if (id < 0)
		return NLM4_STALE_FH;
	t = nfs_exptab_rdlock();
	e = nfs_export_find(t, (uint32_t)id);
	if (e == NULL)
		st = NLM4_STALE_FH;
	else if (e->fd < 0 || !nfs_export_enabled(e->id) ||
	    !nfs_export_gate(e->id))
		st = -1;
	else if (!nfs_fh_verify(e, l->fh.p, l->fh.len)) {
		nfs_addr_text((struct sockaddr *)&req->peer, host,
		    sizeof(host));
		if (log_ratelim_ok(&rl_stale, more, sizeof(more)))
			log_info("nlm: %s: a forged or relabelled file handle"
			    "%s", host, more);
		st = NLM4_STALE_FH;
	} else if (nfs_export_client(e, (struct sockaddr *)&req->peer) ==
	    NULL)
		st = NLM4_FAILED;	/* not a client of this export */
	nfs_exptab_unlock();
	if (st != 0)
		return st;
	x->f.expid = (uint32_t)id;
	x->f.khtype = l->fh.p[1];
	x->f.khlen = l->fh.p[6];
	memcpy(x->f.kh, l->fh.p + NFS_FH_HDR, x->f.khlen);
	x->o.proto = BRL_PROTO_NLM;
	memcpy(x->o.client, l->caller.p, l->caller.len);
	x->o.ohlen = (uint8_t)l->oh.len;
	memcpy(x->o.oh, l->oh.p, l->oh.len);
	x->o.svid = share ? 0 : l->svid;
	x->rg.start = l->off;
	x->rg.len = l->len;
	x->rg.excl = a->excl != 0;
	return 0;
}

/* brl result -> NLM status; -1: drop (the client asks again). */
static int
nlm_stat(int rc)
{
	switch (rc) {
	case BRL_OK:		return NLM4_GRANTED;
	case BRL_DENIED:	return NLM4_DENIED;
	case BRL_BLOCKED:	return NLM4_BLOCKED;
	case BRL_GRACE:		return NLM4_DENIED_GRACE_PERIOD;
	case BRL_NOLOCKS:	return NLM4_DENIED_NOLOCKS;
	case BRL_DEADLCK:	return NLM4_DEADLCK;
	case BRL_UNAVAIL:	return -1;
	default:		return NLM4_FAILED;
	}
}

/* ---- answering ------------------------------------------------------- */

/*
 * Answer r with the encoded result res: as the reply, or, for a _MSG
 * call, with an empty reply and res as the arguments of the _RES call
 * (proc + 5) to the client.  slot: the DRC entry to complete (-1: none).
 */
static void
nlm_answer(struct nfs_req *r, int slot, struct buf *res)
{
	struct nlm_raw raw = { res->data, (uint32_t)res->len };

	if (r->proc >= 6 && r->proc <= 10) {
		nfs_req_reply_drc(r, slot, NULL, NULL, 0, res->data,
		    res->len);
		nlm_cb_queue((struct sockaddr *)&r->peer,
		    (struct sockaddr *)&r->local, r->proc + 5, res->data,
		    res->len);
	} else {
		nfs_req_reply_drc(r, slot, &raw, enc_raw, res->len, NULL, 0);
	}
	nfs_svc_count_nlm(r->proc);
}

/* Cookie + stat: the result of LOCK, CANCEL, UNLOCK, GRANTED. */
static void
nlm_answer_stat(struct nfs_req *r, int slot, const struct nlm_args *a,
    uint32_t st)
{
	struct buf b;

	buf_init(&b);
	nlm_xdr_obj(&b, a->cookie.p, a->cookie.len);
	buf_add_u32(&b, st);
	nlm_answer(r, slot, &b);
	buf_free(&b);
}

static void
nlm_drop(struct nfs_req *r, int slot)
{
	if (slot >= 0)
		nfs_drc_abort(slot, r->xid);
	nfs_svc_count_drop();
}

/* ---- procedures ------------------------------------------------------ */

static void
p_test(struct nfs_req *r, const struct nlm_args *a)
{
	struct nlm_ctx		x;
	struct brl_owner	h;
	struct brl_range	hr;
	struct buf		b;
	int			st;

	if ((st = nlm_resolve(r, a, 0, &x)) == 0) {
		memset(&h, 0, sizeof(h));
		memset(&hr, 0, sizeof(hr));
		st = nlm_stat(brl_test(&x.f, &x.o, &x.rg, &h, &hr));
	}
	if (st < 0) {
		nlm_drop(r, -1);
		return;
	}
	buf_init(&b);
	nlm_xdr_obj(&b, a->cookie.p, a->cookie.len);
	buf_add_u32(&b, (uint32_t)st);
	if (st == NLM4_DENIED) {	/* nlm4_holder */
		buf_add_u32(&b, hr.excl != 0);
		buf_add_u32(&b, h.svid);
		nlm_xdr_obj(&b, h.oh, h.ohlen);
		buf_add_u64(&b, hr.start);
		buf_add_u64(&b, hr.len);
	}
	nlm_answer(r, -1, &b);
	buf_free(&b);
}

static void
p_lock(struct nfs_req *r, const struct nlm_args *a, int slot)
{
	struct nlm_ctx	x;
	uint8_t		blob[BRL_BLOB_MAX];
	size_t		bloblen = 0;
	int		st, flags = 0;

	if ((st = nlm_resolve(r, a, 0, &x)) == 0) {
		if (a->reclaim)
			flags |= BRL_F_RECLAIM;
		/* a waiter needs its cookie for the GRANTED; a client
		 * with cookies too long to keep polls instead */
		if (a->block)
			bloblen = nlm_blob_make(blob, sizeof(blob), &a->cookie,
			    r->proc == 7, (struct sockaddr *)&r->peer,
			    (struct sockaddr *)&r->local, &a->lock.fh);
		if (bloblen > 0)
			flags |= BRL_F_WAIT;
		st = nlm_stat(brl_lock(&x.f, &x.o, &x.rg, flags, blob,
		    bloblen, NULL, NULL));
	}
	if (st < 0) {
		nlm_drop(r, slot);
		return;
	}
	/* the first lock of a client puts it in the monitored list, so
	 * that it hears of a cold start (not NM_LOCK: not monitored) */
	if ((st == NLM4_GRANTED || st == NLM4_BLOCKED) && r->proc != 22)
		nfs_nsm_monitor(x.o.client, (struct sockaddr *)&r->peer,
		    (struct sockaddr *)&r->local);
	nlm_answer_stat(r, slot, a, (uint32_t)st);
}

static void
p_cancel(struct nfs_req *r, const struct nlm_args *a, int slot)
{
	struct nlm_ctx	x;
	int		st;

	if ((st = nlm_resolve(r, a, 0, &x)) == 0)
		st = nlm_stat(brl_cancel(&x.f, &x.o, &x.rg));
	if (st < 0)
		nlm_drop(r, slot);
	else
		nlm_answer_stat(r, slot, a, (uint32_t)st);
}

static void
p_unlock(struct nfs_req *r, const struct nlm_args *a, int slot)
{
	struct nlm_ctx	x;
	int		st;

	if ((st = nlm_resolve(r, a, 0, &x)) == 0)
		st = nlm_stat(brl_unlock(&x.f, &x.o, &x.rg));
	if (st < 0)
		nlm_drop(r, slot);
	else
		nlm_answer_stat(r, slot, a, (uint32_t)st);
}

/* SHARE / UNSHARE: nlm4_shareres {cookie, stat, sequence}. */
static void
p_share(struct nfs_req *r, const struct nlm_args *a, int slot)
{
	struct nlm_ctx	x;
	struct buf	b;
	int		st;

	if ((st = nlm_resolve(r, a, 1, &x)) == 0) {
		if (a->mode > 3 || a->access > 3)
			st = NLM4_FAILED;
		else if (r->proc == 20)
			st = nlm_stat(brl_share(&x.f, &x.o, a->access,
			    a->mode, a->reclaim ? BRL_F_RECLAIM : 0));
		else
			st = nlm_stat(brl_unshare(&x.f, &x.o));
	}
	if (st < 0) {
		nlm_drop(r, slot);
		return;
	}
	buf_init(&b);
	nlm_xdr_obj(&b, a->cookie.p, a->cookie.len);
	buf_add_u32(&b, (uint32_t)st);
	buf_add_u32(&b, 0);		/* sequence: unused */
	nlm_answer(r, slot, &b);
	buf_free(&b);
}

/* FREE_ALL: the client's lockd restarted; release whatever its name
 * held.  No result. */
static void
p_free_all(struct nfs_req *r, const struct nlm_args *a)
{
	char		name[BRL_CLIENT_MAX];
	uint64_t	n = 0;
	int		rc;

	if (r->args_ok == NFS_ARGS_NUL || a->lock.caller.len == 0 ||
	    a->lock.caller.len >= sizeof(name)) {
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	}
	memcpy(name, a->lock.caller.p, a->lock.caller.len);
	name[a->lock.caller.len] = 0;
	if ((rc = brl_free_client(BRL_PROTO_NLM, name, &n)) == BRL_UNAVAIL) {
		nlm_drop(r, -1);
		return;
	}
	log_info("nlm: FREE_ALL from %s: %llu lock(s) released", name,
	    (unsigned long long)n);
	nfs_req_reply(r, NULL, NULL, 0);
}

static int
nlm_nonidempotent(uint32_t proc)
{
	switch (proc) {
	case 2: case 3: case 4:		/* LOCK, CANCEL, UNLOCK */
	case 7: case 8: case 9:		/* their _MSG forms */
	case 20: case 21: case 22:	/* SHARE, UNSHARE, NM_LOCK */
		return 1;
	}
	return 0;
}

void
nfs_nlm_call(struct nfs_req *r)
{
	struct nlm_args	 a;
	uint8_t		*prior = NULL;
	size_t		 priorlen = 0;
	int		 slot = -1, msg = r->proc >= 6 && r->proc <= 10;

	if (r->proc == 0) {
		nfs_req_reply(r, NULL, NULL, 0);
		return;
	}
	if (nlm_args_decode(r->rec + r->argoff, r->reclen - r->argoff,
	    r->proc, &a) < 0) {
		nfs_req_garbage(r);	/* cannot happen: checked before */
		return;
	}
	if (nlm_nonidempotent(r->proc) && nfs_req_drc_begin(r, &slot,
	    msg ? &prior : NULL, &priorlen)) {
		/* a retransmitted _MSG: the same _RES again */
		if (prior != NULL) {
			nfs_req_reply(r, NULL, NULL, 0);
			nlm_cb_queue((struct sockaddr *)&r->peer,
			    (struct sockaddr *)&r->local, r->proc + 5, prior,
			    priorlen);
			free(prior);
		}
		return;
	}
	switch (r->proc) {
	case 1:	case 6:		/* TEST */
		p_test(r, &a);
		break;
	case 2:	case 7: case 22:	/* LOCK, NM_LOCK */
		p_lock(r, &a, slot);
		break;
	case 3: case 8:		/* CANCEL */
		p_cancel(r, &a, slot);
		break;
	case 4: case 9:		/* UNLOCK */
		p_unlock(r, &a, slot);
		break;
	case 5: case 10:	/* GRANTED: we are not a client */
		nlm_answer_stat(r, -1, &a, NLM4_DENIED);
		break;
	case 15:		/* GRANTED_RES: the answer to a GRANTED_MSG */
		nlm_cb_granted_res((struct sockaddr *)&r->peer, &a.cookie,
		    a.stat);
		nfs_req_reply(r, NULL, NULL, 0);
		break;
	case 20: case 21:	/* SHARE, UNSHARE */
		p_share(r, &a, slot);
		break;
	case 23:		/* FREE_ALL */
		p_free_all(r, &a);
		break;
	default:		/* TEST_RES..UNLOCK_RES: we send no _MSG */
		nfs_req_reply(r, NULL, NULL, 0);
		break;
	}
}

int
nfs_nlm_init(const struct cfg *cfg)
{
	if (!nfs_locking)
		return 0;
	nfs_nlm_cb_pmap_port = cfg->nlm_cb_pmap_port > 0 ?
	    cfg->nlm_cb_pmap_port : 111;
	if (nlm_cb_start() < 0)
		return -1;
	brl_set_grant_cb(nlm_grant_cb, NULL);
	return 0;
}

void
nfs_nlm_shutdown(void)
{
	if (!nfs_locking)
		return;
	brl_set_grant_cb(NULL, NULL);
	nlm_cb_stop();
}

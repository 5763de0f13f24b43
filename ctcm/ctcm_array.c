/*
 * ctcm_array.c — the configuration replicas in the LUNs' private extents.
 *
 * The replica set is the first R LUNs of the configuration (R from
 * ctcm_set_tunables, default 3).  Writing goes through pool_cfg_write(),
 * which alternates the two slots of a LUN so a torn write never destroys
 * the last good copy and refuses any slot key not above the newest one
 * (the key carries the writer's epoch, docs/ctcm.md "Slot key").  Every
 * write is read back: a replica counts only when its newest slot holds
 * exactly the key and bytes written.  Each replica written is one
 * fault-injection step.  Reading looks at every configured LUN, not only
 * the replica set, so a copy left on a LUN that dropped out still counts;
 * the newest is chosen by rank, never by LUN order.
 * No locking here: the caller holds the transaction lock (or runs at
 * boot, before anything else).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pool.h"

int
ctcm_array_setsize(const struct cfg *c, int nreplicas)
{
	return MIN(c->nluns, nreplicas);
}

int
ctcm_array_majority(int setsize)
{
	return setsize == 0 ? 0 : setsize / 2 + 1;
}

static int
lun_open(const struct cfg *c, int self_idx, const struct cfg_lun *l,
    struct pool_lun *pl)
{
	int	rc;

	if ((rc = pool_lun_open(pl, l->path, pext_pool_id(c->cluster), l->id,
	    c->heads[self_idx].id)) == 0)
		pool_lun_setname(pl, l->name);
	return rc;
}

/* Decode what pool_cfg_read() returned; checks the key. */
static int
decode_slot(const struct cfg_lun *l, const void *d, size_t len,
    uint64_t key, struct ctcm_bundle **bp, int *np, uint64_t *epochp)
{
	uint64_t	epoch;
	int		rc;

	if ((rc = ctcm_image_decode(d, len, bp, np, &epoch)) != 0) {
		log_warnx("ctcm: LUN %s (%s): configuration replica (slot key "
		    "%llx): %s", l->name, l->path, (unsigned long long)key,
		    ctcm_strerror(rc));
		return rc;
	}
	if (ctcm_key_pack(epoch, (*bp)[0].gen) != key) {
		log_warnx("ctcm: LUN %s: slot key %llx but image epoch %llu "
		    "generation %llu", l->name, (unsigned long long)key,
		    (unsigned long long)epoch,
		    (unsigned long long)(*bp)[0].gen);
		ctcm_bundles_free(*bp, *np);
		*bp = NULL;
		*np = 0;
		return CTCM_E_FORMAT;
	}
	*epochp = epoch;
	return 0;
}

int
ctcm_array_read_lun(const struct cfg *c, int self_idx, int i,
    struct ctcm_bundle **bp, int *np, uint64_t *epochp)
{
	struct pool_lun	 pl;
	void		*d = NULL;
	size_t		 len;
	uint64_t	 key;
	int		 rc;

	*bp = NULL;
	*np = 0;
	*epochp = 0;
	if ((rc = lun_open(c, self_idx, &c->luns[i], &pl)) != 0)
		return rc;
	if ((rc = pool_lun_load(&pl)) != 0)
		goto out;		/* PEXT_E_EMPTY: never formatted */
	if ((rc = pool_cfg_read(&pl, &d, &len, &key)) != 0) {
		if (rc == PEXT_E_EMPTY)
			rc = CTCM_E_NOREPLICA;
		goto out;
	}
	rc = decode_slot(&c->luns[i], d, len, key, bp, np, epochp);
out:
	free(d);
	pool_lun_close(&pl);
	return rc;
}

int
ctcm_array_pick(const struct ctcm_replica *rep, int n)
{
	int best = -1, bestn = 0;

	for (int i = 0; i < n; i++) {
		int cmp, k = 0;

		if (rep[i].rc != 0)
			continue;
		for (int j = 0; j < n; j++)
			k += rep[j].rc == 0 && rep[j].gen == rep[i].gen &&
			    rep[j].vepoch == rep[i].vepoch &&
			    rep[j].content_crc == rep[i].content_crc;
		cmp = best < 0 ? 1 : ctcm_rank_cmp(rep[i].vepoch, rep[i].gen,
		    rep[best].vepoch, rep[best].gen);
		/* equal rank, other content: never written so (one
		 * master per epoch, one content per generation); the
		 * content more replicas hold wins */
		if (cmp > 0 || (cmp == 0 && k > bestn)) {
			best = i;
			bestn = k;
		}
	}
	return best;
}

int
ctcm_array_readable(const struct ctcm_replica *rep, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += rep[i].in_set && (rep[i].rc == 0 ||
		    rep[i].rc == CTCM_E_NOREPLICA || rep[i].rc == PEXT_E_EMPTY);
	return k;
}

int
ctcm_array_read(const struct cfg *c, int self_idx, int nreplicas,
    struct ctcm_replica *rep, struct ctcm_bundle **bestp, int *nbest)
{
	struct ctcm_bundle	*v[CFG_MAX_LUNS];
	int			 n[CFG_MAX_LUNS];
	int			 setsize = ctcm_array_setsize(c, nreplicas), best;

	for (int i = 0; i < c->nluns; i++) {
		uint64_t epoch;

		memset(&rep[i], 0, sizeof(rep[i]));
		snprintf(rep[i].lun, sizeof(rep[i].lun), "%s", c->luns[i].name);
		snprintf(rep[i].path, sizeof(rep[i].path), "%s",
		    c->luns[i].path);
		rep[i].in_set = i < setsize;
		rep[i].rc = ctcm_array_read_lun(c, self_idx, i, &v[i], &n[i],
		    &epoch);
		if (rep[i].rc != 0)
			continue;
		rep[i].gen = v[i][0].gen;
		rep[i].epoch = epoch;
		rep[i].vepoch = v[i][0].vepoch;
		rep[i].content_crc = v[i][0].content_crc;
	}
	best = ctcm_array_pick(rep, c->nluns);
	/* equal generations with other content: a master died before its
	 * copy reached a majority and the next one, not seeing it, used the
	 * same number; the rank decides (docs/ctcm.md) */
	for (int i = 0; i < c->nluns; i++)
		for (int j = i + 1; j < c->nluns; j++)
			if (rep[i].rc == 0 && rep[j].rc == 0 &&
			    rep[i].gen == rep[j].gen &&
			    rep[i].content_crc != rep[j].content_crc)
				log_warnx("ctcm: LUNs %s and %s hold generation "
				    "%llu with different content (epochs %llu "
				    "and %llu): the higher-ranked one counts",
				    rep[i].lun, rep[j].lun,
				    (unsigned long long)rep[i].gen,
				    (unsigned long long)rep[i].vepoch,
				    (unsigned long long)rep[j].vepoch);
	*bestp = best >= 0 ? v[best] : NULL;
	*nbest = best >= 0 ? n[best] : 0;
	for (int i = 0; i < c->nluns; i++)
		if (i != best && rep[i].rc == 0)
			ctcm_bundles_free(v[i], n[i]);
	return best;
}

int
ctcm_array_prepare(const struct cfg *c, int self_idx, const struct cfg_lun *l,
    int force, char *err, size_t errlen)
{
	struct pool_lun	pl;
	int		rc;

	if ((rc = lun_open(c, self_idx, l, &pl)) != 0) {
		snprintf(err, errlen, "LUN %s: %s: %s", l->name, l->path,
		    pool_strerror(rc));
		return rc;
	}
	if ((rc = pool_lun_load(&pl)) == 0)
		goto out;
	if (rc == PEXT_E_POOL || rc == PEXT_E_LUN) {
		snprintf(err, errlen, "LUN %s: %s belongs to another %s; "
		    "not touching it", l->name, l->path,
		    rc == PEXT_E_POOL ? "pool" : "LUN of this pool");
		goto out;
	}
	if (rc != PEXT_E_EMPTY && !force) {
		snprintf(err, errlen, "LUN %s: %s has no valid super block "
		    "(%s) but is not empty; use --format to format it",
		    l->name, l->path, pool_strerror(rc));
		goto out;
	}
	if (rc > 0) {
		snprintf(err, errlen, "LUN %s: %s: %s", l->name, l->path,
		    pool_strerror(rc));
		goto out;
	}
	/* force only on the admin's word: an empty extent needs none */
	log_info("ctcm: formatting LUN %s (%s)", l->name, l->path);
	if ((rc = pool_lun_format(&pl, c->cluster, l->name, force)) != 0)
		snprintf(err, errlen, "LUN %s: %s: format: %s", l->name,
		    l->path, pool_strerror(rc));
out:
	pool_lun_close(&pl);
	return rc;
}

/* Write one LUN and read it back.  0 when its newest slot now holds
 * exactly (key, img); EINVAL-like refusals come back as CTCM_E_STALE
 * with the key found in *foundp. */
static int
write_one(const struct cfg *c, int self_idx, const struct cfg_lun *l,
    uint64_t key, const void *img, size_t len, uint64_t *foundp)
{
	struct pool_lun	 pl;
	void		*d = NULL;
	size_t		 dlen;
	int		 rc, wrc;

	*foundp = 0;
	if ((rc = lun_open(c, self_idx, l, &pl)) != 0)
		return rc;
	if ((rc = pool_lun_load(&pl)) != 0)
		goto out;
	/* EINVAL: not above the newest key there; fine when it is this
	 * very copy (a retry, a repair), found out by the read-back */
	wrc = pool_cfg_write(&pl, key, img, len);
	if (wrc != 0 && wrc != EINVAL) {
		rc = wrc;
		goto out;
	}
	if ((rc = pool_cfg_read(&pl, &d, &dlen, foundp)) != 0)
		goto out;
	if (*foundp != key || dlen != len || memcmp(d, img, len) != 0)
		rc = CTCM_E_STALE;
out:
	free(d);
	pool_lun_close(&pl);
	return rc;
}

/* Replica images written (each LUN counts), for the metrics page. */
static _Atomic uint64_t	ctcm_replica_writes;

void
ctcm_counters_get(struct ctcm_counters *k)
{
	pthread_mutex_lock(&ctcm_g.mtx);
	k->generation = ctcm_g.gen;
	k->installed = ctcm_g.monitor ? 0 : ctcm_g.inst_gen;
	k->commits = ctcm_g.commits;
	k->aborts = ctcm_g.aborts;
	k->push_failures = ctcm_g.push_fail;
	pthread_mutex_unlock(&ctcm_g.mtx);
	k->replica_writes = atomic_load(&ctcm_replica_writes);
}

int
ctcm_array_write(const struct cfg *c, int self_idx, int nreplicas,
    uint64_t epoch, uint64_t gen, const void *img, size_t len,
    uint64_t mask, struct ctcm_replica *rep)
{
	struct ctcm_bundle	*v = NULL;
	int			 setsize = ctcm_array_setsize(c, nreplicas);
	int			 ok = 0, nv = 0;
	uint64_t		 key = ctcm_key_pack(epoch, gen), vepoch = 0;
	uint32_t		 ccrc = 0;
	char			 err[512];

	if (ctcm_image_decode(img, len, &v, &nv, NULL) == 0) {
		vepoch = v[0].vepoch;
		ccrc = v[0].content_crc;
		ctcm_bundles_free(v, nv);
	}
	for (int i = 0; i < setsize; i++) {
		const struct cfg_lun	*l = &c->luns[i];
		uint64_t		 found;
		int			 rc, pr;

		if (!(mask & (UINT64_C(1) << i)))
			continue;
		memset(&rep[i], 0, sizeof(rep[i]));
		snprintf(rep[i].lun, sizeof(rep[i].lun), "%s", l->name);
		snprintf(rep[i].path, sizeof(rep[i].path), "%s", l->path);
		rep[i].in_set = 1;
		if ((rc = ctcm_array_prepare(c, self_idx, l, 0, err,
		    sizeof(err))) != 0) {
			log_warnx("ctcm: replica on %s", err);
			rep[i].rc = rc;
			continue;
		}
		if ((pr = ctcm_fault_pre("replica-write", l->path)) < 0) {
			rep[i].rc = EIO;
			continue;
		}
		rc = write_one(c, self_idx, l, key, img, len, &found);
		if (rc == 0 && ctcm_fault_post(pr, "replica-write",
		    l->path) < 0)
			rc = EIO;
		rep[i].rc = rc;
		if (rc != 0) {
			uint64_t fe, fg;

			ctcm_key_unpack(found, &fe, &fg);
			if (rc == CTCM_E_STALE)
				log_warnx("ctcm: replica on LUN %s (%s): "
				    "generation %llu epoch %llu not taken: it "
				    "holds generation %llu of epoch %llu",
				    l->name, l->path, (unsigned long long)gen,
				    (unsigned long long)epoch,
				    (unsigned long long)fg,
				    (unsigned long long)fe);
			else
				log_warnx("ctcm: replica on LUN %s (%s): "
				    "generation %llu: %s", l->name, l->path,
				    (unsigned long long)gen, ctcm_strerror(rc));
			rep[i].epoch = fe;
			continue;
		}
		rep[i].gen = gen;
		rep[i].epoch = epoch;
		rep[i].vepoch = vepoch;
		rep[i].content_crc = ccrc;
		ok++;
	}
	atomic_fetch_add(&ctcm_replica_writes, (uint64_t)ok);
	return ok;
}

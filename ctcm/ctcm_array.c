/*
 * ctcm_array.c — the configuration replicas in the LUNs' private extents.
 *
 * The replica set is the first R LUNs of the configuration (R from
 * ctcm_set_tunables, default 3).  Writing goes through pool_cfg_write(),
 * which alternates the two slots of a LUN so a torn write never destroys
 * the last good copy; each replica written is one fault-injection step.
 * Reading looks at every configured LUN, not only the replica set, so a
 * copy left on a LUN that dropped out of the set still counts.
 * This file does no locking: the caller holds the transaction lock (or
 * runs at boot, before anything else).
 */
#include <errno.h>
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
	return pool_lun_open(pl, l->path, pext_pool_id(c->cluster), l->id,
	    c->heads[self_idx].id);
}

int
ctcm_array_read_lun(const struct cfg *c, int self_idx, int i,
    struct ctcm_bundle **bp, int *np)
{
	struct pool_lun	 pl;
	void		*d = NULL;
	size_t		 len;
	uint64_t	 gen;
	int		 rc;

	*bp = NULL;
	*np = 0;
	if ((rc = lun_open(c, self_idx, &c->luns[i], &pl)) != 0)
		return rc;
	if ((rc = pool_lun_load(&pl)) != 0)
		goto out;
	if ((rc = pool_cfg_read(&pl, &d, &len, &gen)) != 0) {
		if (rc == PEXT_E_EMPTY)
			rc = CTCM_E_NOREPLICA;
		goto out;
	}
	if ((rc = ctcm_image_decode(d, len, bp, np)) != 0) {
		log_warnx("ctcm: LUN %s (%s): configuration replica "
		    "generation %llu: %s", c->luns[i].name, c->luns[i].path,
		    (unsigned long long)gen, ctcm_strerror(rc));
		goto out;
	}
	if ((*bp)[0].gen != gen) {
		log_warnx("ctcm: LUN %s: slot generation %llu but bundle "
		    "generation %llu", c->luns[i].name,
		    (unsigned long long)gen, (unsigned long long)(*bp)[0].gen);
		ctcm_bundles_free(*bp, *np);
		*bp = NULL;
		*np = 0;
		rc = CTCM_E_FORMAT;
	}
out:
	free(d);
	pool_lun_close(&pl);
	return rc;
}

int
ctcm_array_pick(const struct ctcm_replica *rep, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (rep[i].rc == 0 && (best < 0 || rep[i].gen > rep[best].gen))
			best = i;
	return best;
}

int
ctcm_array_read(const struct cfg *c, int self_idx, int nreplicas,
    struct ctcm_replica *rep, struct ctcm_bundle **bestp, int *nbest)
{
	int	setsize = ctcm_array_setsize(c, nreplicas), best;

	*bestp = NULL;
	*nbest = 0;
	for (int i = 0; i < c->nluns; i++) {
		struct ctcm_bundle	*v;
		int			 n;

		memset(&rep[i], 0, sizeof(rep[i]));
		snprintf(rep[i].lun, sizeof(rep[i].lun), "%s", c->luns[i].name);
		snprintf(rep[i].path, sizeof(rep[i].path), "%s",
		    c->luns[i].path);
		rep[i].in_set = i < setsize;
		rep[i].rc = ctcm_array_read_lun(c, self_idx, i, &v, &n);
		if (rep[i].rc != 0)
			continue;
		rep[i].gen = v[0].gen;
		rep[i].content_crc = v[0].content_crc;
		if (*bestp == NULL || v[0].gen > (*bestp)[0].gen) {
			ctcm_bundles_free(*bestp, *nbest);
			*bestp = v;
			*nbest = n;
		} else
			ctcm_bundles_free(v, n);
	}
	best = ctcm_array_pick(rep, c->nluns);
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
	log_info("ctcm: formatting LUN %s (%s)", l->name, l->path);
	if ((rc = pool_lun_format(&pl, c->cluster, l->name, 1)) != 0)
		snprintf(err, errlen, "LUN %s: %s: format: %s", l->name,
		    l->path, pool_strerror(rc));
out:
	pool_lun_close(&pl);
	return rc;
}

int
ctcm_array_write(const struct cfg *c, int self_idx, int nreplicas,
    uint64_t gen, const void *img, size_t len, struct ctcm_replica *rep)
{
	int	setsize = ctcm_array_setsize(c, nreplicas), ok = 0;
	char	err[512];

	for (int i = 0; i < setsize; i++) {
		const struct cfg_lun	*l = &c->luns[i];
		struct pool_lun		 pl;
		int			 rc, pr;

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
		if ((rc = lun_open(c, self_idx, l, &pl)) == 0) {
			if ((rc = pool_lun_load(&pl)) == 0)
				rc = pool_cfg_write(&pl, gen, img, len);
			pool_lun_close(&pl);
		}
		if (rc == EINVAL) {
			/* not newer than what is there: fine when it is
			 * this very generation (a repair, a retry) */
			struct ctcm_bundle	*v;
			int			 n;

			if (ctcm_array_read_lun(c, self_idx, i, &v, &n) == 0) {
				if (v[0].gen == gen)
					rc = 0;
				ctcm_bundles_free(v, n);
			}
		}
		if (rc == 0 && ctcm_fault_post(pr, "replica-write",
		    l->path) < 0)
			rc = EIO;
		rep[i].rc = rc;
		if (rc != 0) {
			log_warnx("ctcm: replica on LUN %s (%s): generation "
			    "%llu: %s", l->name, l->path,
			    (unsigned long long)gen, pool_strerror(rc));
			continue;
		}
		rep[i].gen = gen;
		ok++;
	}
	return ok;
}

/*
 * pso_store.c — the local object store: one LMDB environment with a
 * "meta" database (format, store id, recovery state) and an "obj"
 * database (id -> record), plus the record codec and sum, name rules,
 * ids and pso_strerror() (the record codec is in pso_msg.c).
 *
 * Every write goes through pso_store_apply(), which keeps the one merge
 * rule of PSO and reports per record what it did: stored when newer,
 * SAME when identical, OLDER or CONFLICT (same version, other content)
 * otherwise.  Commits are durable (no MDB_NOSYNC).  Before LMDB maps
 * data.mdb, pso_store_check() reads its meta pages itself, because a
 * file shorter than they claim would kill the process with SIGBUS.  A
 * file that fails that check or that LMDB refuses, or a format record
 * we do not know, is PSO_CORRUPT with a log line naming the file; the
 * only repair here is pso_store_move_aside(), called by pso_mark.c.  A
 * commit whose meta page write fails leaves LMDB refusing every later
 * transaction (MDB_PANIC) until the environment is reopened: every entry
 * point holds s->rw shared, and the first one LMDB refuses reopens it
 * (store_revive) and runs once more, so a passing disk error does not
 * stop the store for good (tests/faultinj/pso_faults.sh).  It knows
 * nothing of the link, locks or the loop: any thread may call it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pso/pso_int.h"

struct pso_store {
	MDB_env		*env;
	MDB_dbi		 meta;
	MDB_dbi		 obj;
	uint64_t	 id;		/* meta "id" */
	int		 created;	/* data.mdb was absent or empty */
	long		 mapsize_mb;
	/* Held shared by every operation, exclusively to reopen the
	 * environment after LMDB declared it dead (MDB_PANIC). */
	pthread_rwlock_t rw;
	atomic_int	 panicked;
	char		 path[CFG_PATH_MAX + 16];
};

/* store_err()'s answer to MDB_PANIC, never returned by an entry point */
#define ST_PANIC	(INT_MIN + 7)

#define FNV_OFF		0xcbf29ce484222325ULL	/* FNV-1a 64 */
#define FNV_PRIME	0x100000001b3ULL

pso_id
pso_name_id(const char *name)
{
	uint64_t	 h = FNV_OFF;
	const uint8_t	*p;

	for (p = (const uint8_t *)name; *p; p++) {
		h ^= *p;
		h *= FNV_PRIME;
	}
	return h ? h : 1;
}

int
pso_name_check(const char *name)
{
	size_t n;

	if (name == NULL)
		return PSO_BADNAME;
	n = strnlen(name, PSO_NAME_MAX);
	if (n == 0 || n >= PSO_NAME_MAX)
		return PSO_BADNAME;
	return 0;
}

const char *
pso_strerror(int rc)
{
	static const char *msg[] = {
		"no such object", "object already exists",
		"lock not held by this owner", "lock not granted in time",
		"resync with the peer in progress", "local store damaged",
		"value too large", "bad object name",
		"another object name has this id",
		"peer failed to commit the write",
		"pso is shutting down", "lock already held by this owner",
		"the peer holds a different record at this version",
		"local store lost (the pool records objects it held)",
	};

	if (rc == 0)
		return "success";
	if (rc > 0)
		return strerror(rc);
	if (rc <= PSO_NOTFOUND && rc > PSO_NOTFOUND - (int)nitems(msg))
		return msg[PSO_NOTFOUND - rc];
	return "unknown pso error";
}

/* ---- store ---- */

/* ---- pre-open check (docs/pso.md, "Pre-open check of data.mdb") ---- */

/* LMDB data format 1, LP64, native byte order: offsets in a meta page. */
#define LM_FLAGS	10		/* page header mp_flags */
#define LM_P_META	0x08
#define LM_MAGIC	16		/* 16-byte page header, then MDB_meta */
#define LM_VERSION	20
#define LM_PSIZE	40		/* mm_dbs[FREE_DBI].md_pad */
#define LM_LAST_PG	136
#define LM_TXNID	144
#define LM_META_END	152
#define LM_MAGIC_VAL	0xBEEFC0DEu

_Static_assert(sizeof(size_t) == 8, "the LMDB meta check assumes LP64");

static uint16_t ne16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t ne32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t ne64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int
meta_read(int fd, off_t off, uint8_t *m, char *why, size_t whylen)
{
	ssize_t	n = pread(fd, m, LM_META_END, off);

	if (n != LM_META_END) {
		snprintf(why, whylen, "cannot read meta page at %lld",
		    (long long)off);
		return -1;
	}
	return 0;
}

int
pso_store_check(const char *file, char *why, size_t whylen)
{
	struct stat	st;
	uint8_t		m[2][LM_META_END];
	uint32_t	psize = 0, v;
	uint64_t	last, txn;
	int		fd, i, rc = PSO_CORRUPT;

	why[0] = 0;
	if (stat(file, &st) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whylen, "stat: %s", strerror(errno));
		return errno;
	}
	if (st.st_size == 0)
		return 1;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "open: %s", strerror(errno));
		return errno;
	}
	for (i = 0; i < 2; i++) {
		if (meta_read(fd, (off_t)i * psize, m[i], why, whylen) < 0)
			goto out;
		if (!(ne16(m[i] + LM_FLAGS) & LM_P_META) ||
		    ne32(m[i] + LM_MAGIC) != LM_MAGIC_VAL) {
			snprintf(why, whylen, "meta page %d is not an LMDB "
			    "meta page", i);
			goto out;
		}
		if ((v = ne32(m[i] + LM_VERSION)) != 1) {
			snprintf(why, whylen, "meta page %d: LMDB data format "
			    "%u", i, v);
			goto out;
		}
		v = ne32(m[i] + LM_PSIZE);
		if (v < 512 || v > 65536 || (v & (v - 1)) != 0 ||
		    (i == 1 && v != psize)) {
			snprintf(why, whylen, "meta page %d: page size %u", i,
			    v);
			goto out;
		}
		psize = v;
		if ((uint64_t)st.st_size < 2ull * psize) {
			snprintf(why, whylen, "%lld bytes, shorter than the "
			    "two meta pages", (long long)st.st_size);
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		last = ne64(m[i] + LM_LAST_PG);
		txn = ne64(m[i] + LM_TXNID);
		if (last >= UINT64_MAX / psize ||
		    (last + 1) * psize > (uint64_t)st.st_size) {
			snprintf(why, whylen, "%lld bytes, shorter than the "
			    "%llu its meta page %d (txn %llu) claims",
			    (long long)st.st_size,
			    (unsigned long long)((last + 1) * psize), i,
			    (unsigned long long)txn);
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int
pso_store_move_aside(const char *dir)
{
	char	from[CFG_PATH_MAX + 32], to[CFG_PATH_MAX + 40];
	int	rc = 0, fd;

	snprintf(from, sizeof(from), "%s/data.mdb", dir);
	snprintf(to, sizeof(to), "%s/data.mdb.damaged", dir);
	if (rename(from, to) < 0 && errno != ENOENT) {
		rc = errno;
		log_warn("pso: rename %s to %s", from, to);
		return rc;
	}
	snprintf(from, sizeof(from), "%s/lock.mdb", dir);
	if (unlink(from) < 0 && errno != ENOENT)
		log_warn("pso: unlink %s", from);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) < 0)
			log_warn("pso: fsync %s", dir);
		close(fd);
	}
	log_warnx("pso: damaged store moved aside to %s", to);
	return rc;
}


static int
store_err(struct pso_store *s, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return PSO_NOTFOUND;
	case MDB_PANIC:
		/* A failed commit (its meta page write, or LMDB's write-back
		 * of the old one) leaves the environment refusing every
		 * transaction until it is reopened: the public entry points
		 * reopen it (store_revive) and retry once. */
		atomic_store(&s->panicked, 1);
		log_warnx("pso: %s/data.mdb: %s: %s", s->path, what,
		    mdb_strerror(rc));
		return ST_PANIC;
	case MDB_MAP_FULL:
		log_warnx("pso: %s/data.mdb: %s: map full (raise pso mapsize)",
		    s->path, what);
		return ENOSPC;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_TXN:
	case MDB_INCOMPATIBLE:
		log_warnx("pso: %s/data.mdb: %s: %s (store corrupt)", s->path,
		    what, mdb_strerror(rc));
		return PSO_CORRUPT;
	default:
		log_warnx("pso: %s/data.mdb: %s: %s", s->path, what,
		    mdb_strerror(rc));
		return rc > 0 ? rc : EIO;
	}
}

static int
store_check_meta(struct pso_store *s, MDB_txn *txn)
{
	MDB_val		 k = { 6, (void *)"format" }, v;
	uint8_t		 rec[16];
	MDB_stat	 st;
	int		 rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		if ((rc = mdb_stat(txn, s->obj, &st)) != 0)
			return store_err(s, rc, "stat");
		if (st.ms_entries != 0) {
			log_warnx("pso: %s/data.mdb: objects but no format "
			    "record (store corrupt)", s->path);
			return PSO_CORRUPT;
		}
		memset(rec, 0, sizeof(rec));
		memcpy(rec, PSO_STORE_MAGIC, 8);
		put_be32(rec + 8, PSO_STORE_FORMAT);
		v.mv_size = sizeof(rec);
		v.mv_data = rec;
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
			return store_err(s, rc, "write format record");
		return 0;
	}
	if (rc != 0)
		return store_err(s, rc, "read format record");
	if (v.mv_size != 16 || memcmp(v.mv_data, PSO_STORE_MAGIC, 8) != 0) {
		log_warnx("pso: %s/data.mdb: bad format record (store corrupt)",
		    s->path);
		return PSO_CORRUPT;
	}
	if (get_be32((const uint8_t *)v.mv_data + 8) != PSO_STORE_FORMAT) {
		log_warnx("pso: %s/data.mdb: unknown store format %u (this "
		    "version knows %u)", s->path,
		    get_be32((const uint8_t *)v.mv_data + 8), PSO_STORE_FORMAT);
		return PSO_CORRUPT;
	}
	return 0;
}

/* The store id: read it, or give the store one (new, or format-1 store
 * from before ids). */
static int
store_id_load(struct pso_store *s, MDB_txn *txn)
{
	MDB_val		 k = { 2, (void *)"id" }, v;
	uint8_t		 id[8];
	int		 rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8 && get_be64(v.mv_data) != 0) {
		s->id = get_be64(v.mv_data);
		return 0;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_err(s, rc, "read store id");
	do
		s->id = random_u64();
	while (s->id == 0);
	put_be64(id, s->id);
	v.mv_size = 8;
	v.mv_data = id;
	if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
		return store_err(s, rc, "write store id");
	return 0;
}

uint64_t
pso_store_id(const struct pso_store *s)
{
	return s->id;
}

int
pso_store_created(const struct pso_store *s)
{
	return s->created;
}

static int
st_recover_get_locked(struct pso_store *s, int *reason)
{
	MDB_txn	*txn;
	MDB_val	 k = { 7, (void *)"recover" }, v;
	int	 rc;

	*reason = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_err(s, rc, "begin read");
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 1)
		*reason = ((const uint8_t *)v.mv_data)[0];
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc == 0) {
		log_warnx("pso: %s/data.mdb: bad recover record (store "
		    "corrupt)", s->path);
		rc = PSO_CORRUPT;
	} else
		rc = store_err(s, rc, "read recover record");
	mdb_txn_abort(txn);
	return rc;
}

static int
st_recover_set_locked(struct pso_store *s, int reason)
{
	MDB_txn	*txn;
	MDB_val	 k = { 7, (void *)"recover" }, v;
	uint8_t	 b = (uint8_t)reason;
	int	 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return store_err(s, rc, "begin write");
	v.mv_size = 1;
	v.mv_data = &b;
	rc = reason ? mdb_put(txn, s->meta, &k, &v, 0) :
	    mdb_del(txn, s->meta, &k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_err(s, rc, "write recover record");
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_err(s, rc, "commit");
	return 0;
}

/* Open s->env and its databases; on failure s->env is NULL. */
static int
env_open(struct pso_store *s)
{
	MDB_txn	*txn = NULL;
	int	 rc;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		rc = store_err(s, rc, "create");
		goto out;
	}
	mdb_env_set_maxdbs(s->env, 4);
	mdb_env_set_mapsize(s->env, (size_t)(s->mapsize_mb > 0 ?
	    s->mapsize_mb : 1024) << 20);
	if ((rc = mdb_env_open(s->env, s->path, MDB_NOTLS, 0600)) != 0) {
		rc = store_err(s, rc == EINVAL ? MDB_INVALID : rc, "open");
		goto out;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		rc = store_err(s, rc, "begin");
		goto out;
	}
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "obj", MDB_CREATE, &s->obj)) != 0) {
		/* a named database that is not one (garbage main tree) */
		rc = store_err(s, rc == MDB_INCOMPATIBLE || rc == EINVAL ?
		    MDB_CORRUPTED : rc, "open databases");
		goto out;
	}
	if ((rc = store_check_meta(s, txn)) != 0 ||
	    (rc = store_id_load(s, txn)) != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		rc = store_err(s, rc, "commit");
		goto out;
	}
	return 0;
out:
	if (txn)
		mdb_txn_abort(txn);
	if (s->env)
		mdb_env_close(s->env);
	s->env = NULL;
	return rc == ST_PANIC ? EIO : rc;
}

int
pso_store_open(const char *dir, long mapsize_mb, struct pso_store **sp)
{
	struct pso_store	*s;
	char			 file[CFG_PATH_MAX + 32], why[160];
	int			 rc;

	*sp = NULL;
	s = xcalloc(1, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", dir);
	if (mkdir_p(dir, 0700) < 0) {
		rc = errno;
		log_warn("pso: mkdir %s", dir);
		goto out;
	}
	/* Before LMDB maps it: a short file would be SIGBUS, not an error. */
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if ((rc = pso_store_check(file, why, sizeof(why))) < 0) {
		log_warnx("pso: %s: %s (store damaged)", file, why);
		goto out;
	}
	if (rc > 0 && why[0]) {
		log_warnx("pso: %s: %s", file, why);
		goto out;
	}
	s->created = rc == 1;
	s->mapsize_mb = mapsize_mb;
	if ((rc = env_open(s)) != 0)
		goto out;
	pthread_rwlock_init(&s->rw, NULL);
	*sp = s;
	return 0;
out:
	free(s);
	return rc;
}

void
pso_store_close(struct pso_store *s)
{
	if (s == NULL)
		return;
	if (s->env)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->rw);
	free(s);
}

const char *
pso_store_path(const struct pso_store *s)
{
	return s->path;
}

static int
rec_from_val(struct pso_store *s, pso_id id, const MDB_val *v,
    struct pso_rec *r)
{
	struct rd d;

	rd_init(&d, v->mv_data, v->mv_size);
	if (pso_rec_decode(&d, r, 0) < 0 || d.left != 0) {
		log_warnx("pso: %s/data.mdb: object %016llx: bad record "
		    "(store corrupt)", s->path, (unsigned long long)id);
		return PSO_CORRUPT;
	}
	r->id = id;
	return 0;
}

static void
id_key(uint8_t key[8], pso_id id, MDB_val *k)
{
	put_be64(key, id);
	k->mv_size = 8;
	k->mv_data = key;
}

static int
st_get_locked(struct pso_store *s, pso_id id, struct pso_rec *r, void **valp)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	uint8_t		 key[8];
	int		 rc;

	if (valp)
		*valp = NULL;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_err(s, rc, "begin read");
	id_key(key, id, &k);
	if ((rc = mdb_get(txn, s->obj, &k, &v)) != 0) {
		rc = store_err(s, rc, "get");
		goto out;
	}
	if ((rc = rec_from_val(s, id, &v, r)) != 0)
		goto out;
	if (valp && r->len) {
		*valp = xmalloc(r->len);
		memcpy(*valp, r->val, r->len);
	}
	r->val = valp ? *valp : NULL;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* Is enc the stored record old with PSO_F_SOLO cleared (the one update
 * of a record that keeps its version: both heads now hold it)?  Store
 * encoding: the flags are bytes 1..4. */
static int
solo_cleared(const MDB_val *old, const struct buf *enc)
{
	const uint8_t	*o = old->mv_data;
	uint32_t	 of, nf;

	if (old->mv_size != enc->len || enc->len < 5)
		return 0;
	of = get_be32(o + 1);
	nf = get_be32(enc->data + 1);
	return (of & PSO_F_SOLO) && nf == (of & ~PSO_F_SOLO) &&
	    o[0] == enc->data[0] &&
	    memcmp(o + 5, enc->data + 5, enc->len - 5) == 0;
}

/* Store r if newer; res->res says what happened, res->version what is
 * stored now. */
static int
apply_one(struct pso_store *s, MDB_txn *txn, const struct pso_rec *r,
    int force, struct buf *b, struct pso_apres *res)
{
	struct pso_rec	 old;
	MDB_val		 k, v;
	uint8_t		 key[8];
	int		 rc, have = 0;

	id_key(key, r->id, &k);
	buf_reset(b);
	pso_rec_encode(b, r, 0);
	rc = mdb_get(txn, s->obj, &k, &v);
	if (rc == 0) {
		if ((rc = rec_from_val(s, r->id, &v, &old)) != 0)
			return rc;
		have = 1;
		res->version = old.version;
		if (old.version == r->version && v.mv_size == b->len &&
		    memcmp(v.mv_data, b->data, b->len) == 0) {
			res->res = PSO_AP_SAME;
			return 0;
		}
		if (!force && old.version > r->version) {
			res->res = PSO_AP_OLDER;
			return 0;
		}
		if (!force && old.version == r->version &&
		    !solo_cleared(&v, b)) {
			res->res = PSO_AP_CONFLICT;
			return 0;
		}
	} else if (rc != MDB_NOTFOUND)
		return store_err(s, rc, "get");
	if (have && !(old.flags & PSO_F_DELETED) &&
	    strcmp(old.name, r->name) != 0)
		log_warnx("pso: object %016llx: %s replaces %s (newer version "
		    "wins)", (unsigned long long)r->id, r->name, old.name);
	v.mv_size = b->len;
	v.mv_data = b->data;
	if ((rc = mdb_put(txn, s->obj, &k, &v, 0)) != 0)
		return store_err(s, rc, "put");
	res->res = PSO_AP_APPLIED;
	res->version = r->version;
	return 0;
}

static int
st_apply_locked(struct pso_store *s, const struct pso_rec *recs, int n,
    int force, struct pso_apres *res, int *napplied)
{
	struct pso_apres	 one;
	MDB_txn			*txn;
	struct buf		 b;
	int			 i, rc, count = 0;

	if (napplied)
		*napplied = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return store_err(s, rc, "begin write");
	buf_init(&b);
	for (i = 0; i < n; i++) {
		memset(&one, 0, sizeof(one));
		if ((rc = apply_one(s, txn, &recs[i], force, &b, &one)) != 0)
			goto out;
		if (res)
			res[i] = one;
		count += one.res == PSO_AP_APPLIED;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		rc = store_err(s, rc, "commit");
		goto out;
	}
	if (napplied)
		*napplied = count;
out:
	if (txn)
		mdb_txn_abort(txn);
	buf_free(&b);
	return rc;
}

static int
st_iter_locked(struct pso_store *s, pso_id after,
    int (*cb)(const struct pso_rec *, void *), void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	uint8_t		 key[8];
	struct pso_rec	 r;
	MDB_cursor_op	 op;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_err(s, rc, "begin read");
	if ((rc = mdb_cursor_open(txn, s->obj, &cur)) != 0) {
		rc = store_err(s, rc, "cursor");
		goto out;
	}
	id_key(key, after, &k);
	op = MDB_SET_RANGE;
	for (;;) {
		rc = mdb_cursor_get(cur, &k, &v, op);
		op = MDB_NEXT;
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = store_err(s, rc, "cursor get");
			break;
		}
		if (k.mv_size != 8) {
			log_warnx("pso: %s/data.mdb: bad key size %zu (store "
			    "corrupt)", s->path, k.mv_size);
			rc = PSO_CORRUPT;
			break;
		}
		if (get_be64(k.mv_data) <= after && after != 0)
			continue;
		if ((rc = rec_from_val(s, get_be64(k.mv_data), &v, &r)) != 0)
			break;
		if ((rc = cb(&r, arg)) != 0)
			break;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

static int
st_count_locked(struct pso_store *s, uint64_t *np)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	int		 rc;

	*np = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_err(s, rc, "begin read");
	if ((rc = mdb_stat(txn, s->obj, &st)) == 0)
		*np = st.ms_entries;
	else
		rc = store_err(s, rc, "stat");
	mdb_txn_abort(txn);
	return rc;
}

static int
st_empty_volatile_locked(struct pso_store *s, uint64_t mtime_ms,
    uint64_t *np)
{
	MDB_txn		*txn;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	MDB_cursor_op	 op;
	struct pso_rec	 r;
	struct buf	 b, ids;
	uint8_t		 key[8];
	size_t		 i;
	int		 rc;

	*np = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return store_err(s, rc, "begin write");
	buf_init(&b);
	buf_init(&ids);
	if ((rc = mdb_cursor_open(txn, s->obj, &cur)) != 0) {
		rc = store_err(s, rc, "cursor");
		goto out;
	}
	/* First collect, then rewrite: no writes under a walking cursor. */
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		if (k.mv_size != 8) {
			rc = PSO_CORRUPT;
			goto out;
		}
		if ((rc = rec_from_val(s, get_be64(k.mv_data), &v, &r)) != 0)
			goto out;
		if (!(r.flags & (PSO_PERSISTENT | PSO_F_DELETED)) && r.len)
			buf_add_u64(&ids, r.id);
	}
	if (rc != MDB_NOTFOUND) {
		rc = store_err(s, rc, "cursor get");
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	for (i = 0; i + 8 <= ids.len; i += 8) {
		id_key(key, get_be64(ids.data + i), &k);
		if ((rc = mdb_get(txn, s->obj, &k, &v)) != 0) {
			rc = store_err(s, rc, "get");
			goto out;
		}
		if ((rc = rec_from_val(s, get_be64(key), &v, &r)) != 0)
			goto out;
		r.version++;
		r.mtime_ms = mtime_ms;
		r.val = NULL;
		r.len = 0;
		buf_reset(&b);
		pso_rec_encode(&b, &r, 0);
		v.mv_size = b.len;
		v.mv_data = b.data;
		if ((rc = mdb_put(txn, s->obj, &k, &v, 0)) != 0) {
			rc = store_err(s, rc, "put");
			goto out;
		}
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		rc = store_err(s, rc, "commit");
		goto out;
	}
	*np = ids.len / 8;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	buf_free(&b);
	buf_free(&ids);
	return rc;
}

/* ---- entry points: the shared lock, and one reopen after MDB_PANIC ---- */

/*
 * Reopen the environment LMDB declared dead.  Only when no other thread
 * is inside (that one may be the caller's own iteration): otherwise the
 * next operation tries again.  What the failed commit did not write is
 * not there after the reopen, which is what its caller was told.
 */
static void
store_revive(struct pso_store *s)
{
	int rc;

	if (pthread_rwlock_trywrlock(&s->rw) != 0)
		return;
	if (atomic_load(&s->panicked) || s->env == NULL) {
		char file[CFG_PATH_MAX + 32], why[160];

		if (s->env != NULL)
			mdb_env_close(s->env);
		s->env = NULL;
		atomic_store(&s->panicked, 0);
		/* the same check as at open, before LMDB maps it again */
		snprintf(file, sizeof(file), "%s/data.mdb", s->path);
		if (pso_store_check(file, why, sizeof(why)) < 0)
			log_warnx("pso: %s: %s (store damaged): not reopened",
			    file, why);
		else if ((rc = env_open(s)) == 0)
			log_warnx("pso: %s/data.mdb: reopened after a failed "
			    "commit", s->path);
		else
			log_warnx("pso: %s/data.mdb: cannot reopen after a "
			    "failed commit: %s", s->path, pso_strerror(rc));
	}
	pthread_rwlock_unlock(&s->rw);
}

/* Run call under the shared lock; when LMDB refused to begin because
 * the environment is dead, reopen it and run call once more. */
#define STORE_CALL(s, call) do {					\
	int rc_, try_;							\
									\
	for (try_ = 0;; try_++) {					\
		pthread_rwlock_rdlock(&(s)->rw);			\
		rc_ = (s)->env != NULL ? (call) : ST_PANIC;		\
		pthread_rwlock_unlock(&(s)->rw);			\
		if (rc_ != ST_PANIC)					\
			return rc_;					\
		if (try_ == 1)						\
			return EIO;					\
		store_revive(s);					\
	}								\
} while (0)

int
pso_store_recover_get(struct pso_store *s, int *reason)
{
	STORE_CALL(s, st_recover_get_locked(s, reason));
}

int
pso_store_recover_set(struct pso_store *s, int reason)
{
	STORE_CALL(s, st_recover_set_locked(s, reason));
}

int
pso_store_get(struct pso_store *s, pso_id id, struct pso_rec *r, void **valp)
{
	STORE_CALL(s, st_get_locked(s, id, r, valp));
}

int
pso_store_apply(struct pso_store *s, const struct pso_rec *recs, int n,
    int force, struct pso_apres *res, int *napplied)
{
	STORE_CALL(s, st_apply_locked(s, recs, n, force, res, napplied));
}

int
pso_store_iter(struct pso_store *s, pso_id after,
    int (*cb)(const struct pso_rec *, void *), void *arg)
{
	STORE_CALL(s, st_iter_locked(s, after, cb, arg));
}

int
pso_store_count(struct pso_store *s, uint64_t *np)
{
	STORE_CALL(s, st_count_locked(s, np));
}

int
pso_store_empty_volatile(struct pso_store *s, uint64_t mtime_ms,
    uint64_t *np)
{
	STORE_CALL(s, st_empty_volatile_locked(s, mtime_ms, np));
}

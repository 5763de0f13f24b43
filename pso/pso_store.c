/*
 * pso_store.c — the local object store: one LMDB environment with a
 * "meta" database (format record) and an "obj" database (id -> record),
 * plus the record codec, name rules, ids and pso_strerror().
 *
 * Every write goes through pso_store_apply(), which keeps the one merge
 * rule of PSO: a record is stored only when it is newer than the stored
 * one.  Commits are durable (no MDB_NOSYNC).  A file LMDB refuses, or a
 * format record we do not know, is PSO_CORRUPT with a log line naming the
 * file; this file never repairs or deletes anything.  It knows nothing
 * of the link, locks or the loop: any thread may call it.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "pso/pso_int.h"

struct pso_store {
	MDB_env		*env;
	MDB_dbi		 meta;
	MDB_dbi		 obj;
	char		 path[CFG_PATH_MAX + 16];
};

pso_id
pso_name_id(const char *name)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const uint8_t	*p;

	for (p = (const uint8_t *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
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
	};

	if (rc == 0)
		return "success";
	if (rc > 0)
		return strerror(rc);
	if (rc <= PSO_NOTFOUND && rc > PSO_NOTFOUND - (int)nitems(msg))
		return msg[PSO_NOTFOUND - rc];
	return "unknown pso error";
}

/* ---- record codec ---- */

void
pso_rec_encode(struct buf *b, const struct pso_rec *r, int with_id)
{
	size_t n = strlen(r->name);

	if (with_id)
		buf_add_u64(b, r->id);
	else
		buf_add_u8(b, PSO_REC_FORMAT);
	buf_add_u32(b, r->flags);
	buf_add_u64(b, r->version);
	buf_add_u64(b, r->mtime_ms);
	buf_add_u16(b, (uint16_t)n);
	buf_add(b, r->name, n);
	buf_add_blob(b, r->val, r->len);
}

size_t
pso_rec_msglen(const struct pso_rec *r)
{
	return 8 + 4 + 8 + 8 + 2 + strlen(r->name) + 4 + r->len;
}

/* Decode one record; leaves r->val pointing into the reader's buffer.
 * Returns 0 or -1 (short, bad format, bad name, value too big). */
int
pso_rec_decode(struct rd *d, struct pso_rec *r, int with_id)
{
	if (with_id)
		r->id = rd_u64(d);
	else if (rd_u8(d) != PSO_REC_FORMAT)
		return -1;
	r->flags = rd_u32(d);
	r->version = rd_u64(d);
	r->mtime_ms = rd_u64(d);
	if (rd_str(d, r->name, sizeof(r->name)) < 0 || r->name[0] == 0)
		return -1;
	r->val = rd_blob(d, &r->len);
	if (d->err || r->len > PSO_VALUE_MAX)
		return -1;
	return 0;
}

/* ---- store ---- */

static int
store_err(struct pso_store *s, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return PSO_NOTFOUND;
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

int
pso_store_open(const char *dir, long mapsize_mb, struct pso_store **sp)
{
	struct pso_store	*s;
	MDB_txn			*txn = NULL;
	int			 rc;

	*sp = NULL;
	s = xcalloc(1, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", dir);
	if (mkdir_p(dir, 0700) < 0) {
		rc = errno;
		log_warn("pso: mkdir %s", dir);
		goto out;
	}
	if ((rc = mdb_env_create(&s->env)) != 0) {
		rc = store_err(s, rc, "create");
		goto out;
	}
	mdb_env_set_maxdbs(s->env, 4);
	mdb_env_set_mapsize(s->env, (size_t)(mapsize_mb > 0 ? mapsize_mb : 1024)
	    << 20);
	if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0) {
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
	if ((rc = store_check_meta(s, txn)) != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		rc = store_err(s, rc, "commit");
		goto out;
	}
	*sp = s;
	return 0;
out:
	if (txn)
		mdb_txn_abort(txn);
	if (s->env)
		mdb_env_close(s->env);
	free(s);
	return rc;
}

void
pso_store_close(struct pso_store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
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

int
pso_store_get(struct pso_store *s, pso_id id, struct pso_rec *r, void **valp)
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

static int
apply_one(struct pso_store *s, MDB_txn *txn, const struct pso_rec *r,
    int force, struct buf *b, int *applied)
{
	struct pso_rec	 old;
	MDB_val		 k, v;
	uint8_t		 key[8];
	int		 rc;

	*applied = 0;
	id_key(key, r->id, &k);
	rc = mdb_get(txn, s->obj, &k, &v);
	if (rc == 0) {
		if ((rc = rec_from_val(s, r->id, &v, &old)) != 0)
			return rc;
		if (!force && old.version >= r->version)
			return 0;
		if (!(old.flags & PSO_F_DELETED) &&
		    strcmp(old.name, r->name) != 0)
			log_warnx("pso: object %016llx: %s replaces %s "
			    "(newer version wins)", (unsigned long long)r->id,
			    r->name, old.name);
	} else if (rc != MDB_NOTFOUND)
		return store_err(s, rc, "get");
	buf_reset(b);
	pso_rec_encode(b, r, 0);
	v.mv_size = b->len;
	v.mv_data = b->data;
	if ((rc = mdb_put(txn, s->obj, &k, &v, 0)) != 0)
		return store_err(s, rc, "put");
	*applied = 1;
	return 0;
}

int
pso_store_apply(struct pso_store *s, const struct pso_rec *recs, int n,
    int force, int *napplied)
{
	MDB_txn		*txn;
	struct buf	 b;
	int		 i, rc, a, count = 0;

	if (napplied)
		*napplied = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return store_err(s, rc, "begin write");
	buf_init(&b);
	for (i = 0; i < n; i++) {
		if ((rc = apply_one(s, txn, &recs[i], force, &b, &a)) != 0)
			goto out;
		count += a;
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

int
pso_store_iter(struct pso_store *s, pso_id after,
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

int
pso_store_count(struct pso_store *s, uint64_t *np)
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

int
pso_store_empty_volatile(struct pso_store *s, uint64_t mtime_ms,
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

/*
 * test_pso_store.c — the PSO store and message codecs without the link:
 * ids, records and their sums, the apply outcomes (applied, same, older,
 * conflict: a record of an equal version with other content is never
 * taken for the stored one), tombstones, iteration order, cold-start
 * emptying, persistence across reopen, store id and recover record,
 * corrupt and unknown-format stores, the pre-open check of data.mdb
 * (truncated files must be refused before LMDB maps them: SIGBUS), and
 * every peer message against golden bytes plus truncation, trailing
 * bytes and absurd counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pso/pso_int.h"
#include "t.h"

static char tmpl[] = "/tmp/test_pso_store.XXXXXX";

static struct pso_rec
mkrec(pso_id id, const char *name, uint32_t flags, uint64_t version,
    const char *val)
{
	struct pso_rec r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.flags = flags;
	r.version = version;
	r.mtime_ms = 1000 + version;
	r.val = val;
	r.len = val ? (uint32_t)strlen(val) : 0;
	return r;
}

static void
test_ids(void)
{
	char long_name[PSO_NAME_MAX + 1];
	int rc, i, unknown = 0;

	/* FNV-1a 64 reference vectors */
	T_OK(pso_name_id("a") == 0xaf63dc4c8601ec8cULL, "fnv1a64(\"a\")");
	T_OK(pso_name_id("foobar") == 0x85944171f73967e8ULL,
	    "fnv1a64(\"foobar\")");
	T_OK(pso_name_id("") != 0, "id 0 is never produced");
	T_EQ(pso_name_check(""), PSO_BADNAME, "empty name refused");
	memset(long_name, 'x', PSO_NAME_MAX);
	long_name[PSO_NAME_MAX] = 0;
	T_EQ(pso_name_check(long_name), PSO_BADNAME, "256-byte name refused");
	long_name[PSO_NAME_MAX - 1] = 0;
	T_EQ(pso_name_check(long_name), 0, "255-byte name accepted");
	for (rc = PSO_NOTFOUND, i = 0; rc >= PSO_LOCKHELD; rc--, i++)
		if (strcmp(pso_strerror(rc), "unknown pso error") == 0)
			unknown++;
	T_EQ(unknown, 0, "pso_strerror names every PSO code");
	T_OK(strcmp(pso_strerror(ENOSPC), strerror(ENOSPC)) == 0,
	    "pso_strerror passes errno through");
}

static pso_id	seen[8];
static int	ns;

static int
cb(const struct pso_rec *x, void *a)
{
	(void)a;
	if (ns < 8)
		seen[ns++] = x->id;
	return 0;
}

static void
test_store(const char *dir)
{
	struct pso_store	*st;
	struct pso_rec		 r, g;
	struct pso_apres	 res;
	void			*val;
	uint64_t		 n, id;
	int			 rc, applied, reason;

	rc = pso_store_open(dir, 16, &st);
	T_EQ(rc, 0, "create a new store");
	if (rc != 0)
		return;
	T_EQ(pso_store_get(st, 42, &g, NULL), PSO_NOTFOUND, "missing id");

	r = mkrec(42, "obj/one", PSO_PERSISTENT, 1, "hello");
	T_OK(pso_store_created(st), "a new store says so");
	id = pso_store_id(st);
	T_OK(id != 0, "the store has an id");
	T_EQ(pso_store_recover_get(st, &reason), 0, "read recover record");
	T_EQ(reason, 0, "a new store needs no recovery");
	T_EQ(pso_store_apply(st, &r, 1, 0, &res, &applied), 0, "apply v1");
	T_EQ(applied, 1, "v1 stored");
	T_OK(res.res == PSO_AP_APPLIED && res.version == 1, "outcome APPLIED");
	T_EQ(pso_store_get(st, 42, &g, &val), 0, "get v1");
	T_EQ(g.version, 1, "version 1");
	T_EQ(g.len, 5, "value length");
	T_OK(val && memcmp(val, "hello", 5) == 0, "value bytes");
	T_OK(strcmp(g.name, "obj/one") == 0 && g.flags == PSO_PERSISTENT &&
	    g.mtime_ms == 1001, "name, flags, mtime");
	free(val);

	r = mkrec(42, "obj/one", PSO_PERSISTENT, 1, "hello");
	T_EQ(pso_store_apply(st, &r, 1, 0, &res, &applied), 0,
	    "apply the same record again");
	T_OK(applied == 0 && res.res == PSO_AP_SAME && res.version == 1,
	    "identical record: SAME (a repeated request is harmless)");
	/* issue 10, finding 2: equal version, other content must not be
	 * taken for the stored record (and so never acknowledged) */
	r = mkrec(42, "obj/one", PSO_PERSISTENT, 1, "other");
	T_EQ(pso_store_apply(st, &r, 1, 0, &res, &applied), 0,
	    "apply same version, other value");
	T_OK(applied == 0 && res.res == PSO_AP_CONFLICT && res.version == 1,
	    "same version, other content: CONFLICT, not stored");
	pso_store_get(st, 42, &g, &val);
	T_OK(val && memcmp(val, "hello", 5) == 0, "the stored value stays");
	free(val);
	r = mkrec(42, "obj/one", PSO_PERSISTENT | PSO_F_SOLO, 2, "solo");
	pso_store_apply(st, &r, 1, 0, &res, &applied);
	T_OK(applied == 1 && res.res == PSO_AP_APPLIED, "v2 written alone");
	r = mkrec(42, "obj/one", PSO_PERSISTENT, 2, "solo");
	pso_store_apply(st, &r, 1, 0, &res, &applied);
	T_OK(applied == 1 && res.res == PSO_AP_APPLIED,
	    "the same v2 without SOLO replaces it (both heads hold it)");
	pso_store_get(st, 42, &g, NULL);
	T_OK(g.version == 2 && !(g.flags & PSO_F_SOLO), "SOLO cleared");
	r = mkrec(42, "obj/one", PSO_PERSISTENT | PSO_F_SOLO, 2, "solo");
	pso_store_apply(st, &r, 1, 0, &res, &applied);
	T_OK(applied == 0 && res.res == PSO_AP_CONFLICT,
	    "SOLO never comes back at the same version");
	r = mkrec(42, "obj/one", PSO_PERSISTENT, 3, "three");
	pso_store_apply(st, &r, 1, 0, NULL, &applied);
	T_EQ(applied, 1, "newer version stored");
	r = mkrec(42, "obj/one", PSO_PERSISTENT, 2, "two");
	pso_store_apply(st, &r, 1, 0, &res, &applied);
	T_EQ(applied, 0, "older version ignored");
	T_OK(res.res == PSO_AP_OLDER && res.version == 3,
	    "outcome OLDER names the stored version 3");
	pso_store_get(st, 42, &g, &val);
	T_OK(g.version == 3 && val && memcmp(val, "three", 5) == 0,
	    "still v3 after the older one");
	free(val);
	pso_store_apply(st, &r, 1, 1, NULL, &applied);
	pso_store_get(st, 42, &g, NULL);
	T_OK(applied == 1 && g.version == 2, "force applies an older version");

	r = mkrec(42, "obj/one", PSO_PERSISTENT | PSO_F_DELETED, 4, NULL);
	pso_store_apply(st, &r, 1, 0, NULL, &applied);
	pso_store_get(st, 42, &g, &val);
	T_OK(applied == 1 && (g.flags & PSO_F_DELETED) && g.version == 4 &&
	    g.len == 0 && val == NULL, "tombstone stored with version+1");
	r = mkrec(42, "obj/one", PSO_PERSISTENT, 3, "resurrect?");
	pso_store_apply(st, &r, 1, 0, NULL, &applied);
	T_EQ(applied, 0, "older live record does not resurrect a tombstone");

	/* several records in one transaction, iteration in id order */
	{
		struct pso_rec rs[3];
		rs[0] = mkrec(0x300, "c", 0, 1, "vc");
		rs[1] = mkrec(0x100, "a", 0, 1, "va");
		rs[2] = mkrec(0x200, "b", PSO_PERSISTENT, 1, "vb");
		T_EQ(pso_store_apply(st, rs, 3, 0, NULL, &applied), 0,
		    "batch of 3 in one transaction");
		T_EQ(applied, 3, "all 3 applied");
		T_EQ(pso_store_iter(st, 0, cb, NULL), 0, "iterate");
		T_OK(ns == 4 && seen[0] == 42 && seen[1] == 0x100 &&
		    seen[2] == 0x200 && seen[3] == 0x300,
		    "ids in numeric order, tombstone included");
		ns = 0;
		pso_store_iter(st, 0x100, cb, NULL);
		T_OK(ns == 2 && seen[0] == 0x200 && seen[1] == 0x300,
		    "iterate after an id");
	}
	T_EQ(pso_store_count(st, &n), 0, "count");
	T_EQ(n, 4, "4 records (tombstone included)");

	T_EQ(pso_store_empty_volatile(st, 5555, &n), 0, "cold-start emptying");
	T_EQ(n, 2, "two volatile objects emptied");
	pso_store_get(st, 0x100, &g, NULL);
	T_OK(g.len == 0 && g.version == 2 && g.mtime_ms == 5555,
	    "volatile: empty, version+1, mtime now");
	pso_store_get(st, 0x200, &g, &val);
	T_OK(g.len == 2 && g.version == 1 && val &&
	    memcmp(val, "vb", 2) == 0, "persistent untouched");
	free(val);
	pso_store_close(st);

	T_EQ(pso_store_open(dir, 16, &st), 0, "reopen");
	T_OK(!pso_store_created(st), "a reopened store is not new");
	T_OK(pso_store_id(st) == id, "the store id survives a reopen");
	T_EQ(pso_store_recover_set(st, 2), 0, "set recover record");
	pso_store_get(st, 0x200, &g, NULL);
	T_EQ(g.version, 1, "records survive a reopen");
	pso_store_get(st, 0x300, &g, NULL);
	T_OK(g.version == 2 && g.len == 0, "emptied value survives reopen (v%llu len %u)", (unsigned long long)g.version, g.len);
	pso_store_close(st);
	T_EQ(pso_store_open(dir, 16, &st), 0, "reopen again");
	reason = 0;
	pso_store_recover_get(st, &reason);
	T_EQ(reason, 2, "recover record survives a reopen");
	T_EQ(pso_store_recover_set(st, 0), 0, "clear recover record");
	pso_store_recover_get(st, &reason);
	T_EQ(reason, 0, "cleared");
	T_EQ(pso_store_recover_set(st, 0), 0, "clearing twice is fine");
	pso_store_close(st);
}

/* Damage the store behind LMDB's back and check open/get refuse it. */
static void
test_corrupt(const char *base)
{
	struct pso_store	*st;
	struct pso_rec		 g;
	char			 dir[300], path[400];
	uint8_t			 junk[16384];
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	uint8_t			 fmt[16], key[8];
	int			 fd, rc;

	/* garbage data.mdb */
	snprintf(dir, sizeof(dir), "%s/garbage", base);
	mkdir_p(dir, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_OK(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk),
	    "write a garbage data.mdb");
	close(fd);
	rc = pso_store_open(dir, 16, &st);
	T_EQ(rc, PSO_CORRUPT, "garbage data.mdb -> PSO_CORRUPT, no crash");

	/* a truncated file (first page only) */
	snprintf(dir, sizeof(dir), "%s/trunc", base);
	T_EQ(pso_store_open(dir, 16, &st), 0, "make a store to truncate");
	g = mkrec(7, "x", 0, 1, "y");
	pso_store_apply(st, &g, 1, 0, NULL, NULL);
	pso_store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	T_EQ(truncate(path, 100), 0, "truncate data.mdb to 100 bytes");
	T_EQ(pso_store_open(dir, 16, &st), PSO_CORRUPT,
	    "truncated data.mdb -> PSO_CORRUPT");

	/* unknown format version, bad magic, bad record */
	snprintf(dir, sizeof(dir), "%s/fmt", base);
	T_EQ(pso_store_open(dir, 16, &st), 0, "make a store to alter");
	pso_store_close(st);
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 4);
	rc = mdb_env_open(env, dir, 0, 0600);
	T_EQ(rc, 0, "open it with plain LMDB");
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &dbi);
	memset(fmt, 0, sizeof(fmt));
	memcpy(fmt, PSO_STORE_MAGIC, 8);
	put_be32(fmt + 8, 2);
	k.mv_size = 6; k.mv_data = (void *)"format";
	v.mv_size = 16; v.mv_data = fmt;
	mdb_put(txn, dbi, &k, &v, 0);
	mdb_txn_commit(txn);
	T_EQ(pso_store_open(dir, 16, &st), PSO_CORRUPT,
	    "format version 2 -> PSO_CORRUPT");

	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &dbi);
	memcpy(fmt, "NOTPSO!!", 8);
	put_be32(fmt + 8, 1);
	mdb_put(txn, dbi, &k, &v, 0);
	mdb_txn_commit(txn);
	T_EQ(pso_store_open(dir, 16, &st), PSO_CORRUPT,
	    "bad magic -> PSO_CORRUPT");

	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &dbi);
	memcpy(fmt, PSO_STORE_MAGIC, 8);
	mdb_put(txn, dbi, &k, &v, 0);
	mdb_dbi_open(txn, "obj", 0, &dbi);
	put_be64(key, 9);
	k.mv_size = 8; k.mv_data = key;
	v.mv_size = 5; v.mv_data = (void *)"\x01\x00\x00\x00\x00";
	mdb_put(txn, dbi, &k, &v, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
	T_EQ(pso_store_open(dir, 16, &st), 0, "restored format opens");
	T_EQ(pso_store_get(st, 9, &g, NULL), PSO_CORRUPT,
	    "short record -> PSO_CORRUPT");
	pso_store_close(st);
}

/*
 * Issue 10, finding 3: a data.mdb shorter than its meta pages claim is
 * refused by the pre-open check (LMDB would map it and die with SIGBUS
 * at the first access).  Each open below runs in this process: a SIGBUS
 * fails the whole test.
 */
static void
test_precheck(const char *base)
{
	struct pso_store	*st;
	struct pso_rec		*rs;
	char			 dir[300], path[400], why[200], big[200];
	struct stat		 sb;
	off_t			 full;
	int			 i, rc;

	snprintf(dir, sizeof(dir), "%s/pre", base);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	T_EQ(pso_store_check(path, why, sizeof(why)), 1,
	    "absent data.mdb: a new store");
	T_EQ(pso_store_open(dir, 16, &st), 0, "make a store");
	rs = xcalloc(2000, sizeof(*rs));
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	for (i = 0; i < 2000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "obj%d", i);
		rs[i] = mkrec(pso_name_id(name), name, PSO_PERSISTENT, 1, big);
	}
	T_EQ(pso_store_apply(st, rs, 2000, 0, NULL, NULL), 0,
	    "2000 objects of 200 bytes");
	free(rs);
	pso_store_close(st);
	T_EQ(stat(path, &sb), 0, "stat data.mdb");
	full = sb.st_size;
	T_EQ(pso_store_check(path, why, sizeof(why)), 0,
	    "an intact data.mdb passes");
	T_EQ(truncate(path, 16384), 0, "truncate to 16384 bytes (4 pages)");
	rc = pso_store_check(path, why, sizeof(why));
	T_EQ(rc, PSO_CORRUPT, "truncated: PSO_CORRUPT");
	T_OK(strstr(why, "shorter than") != NULL, "reason: %s", why);
	T_EQ(pso_store_open(dir, 16, &st), PSO_CORRUPT,
	    "open refuses it (no SIGBUS)");
	T_EQ(truncate(path, full - 1), 0, "a file one byte short");
	T_EQ(pso_store_open(dir, 16, &st), PSO_CORRUPT,
	    "one byte short: refused");
	T_EQ(truncate(path, 5000), 0, "cut inside the second meta page");
	rc = pso_store_check(path, why, sizeof(why));
	T_OK(rc == PSO_CORRUPT, "shorter than two pages: refused (%s)", why);
	T_EQ(truncate(path, 0), 0, "empty it");
	T_EQ(pso_store_check(path, why, sizeof(why)), 1,
	    "empty data.mdb: a new store");
	T_EQ(pso_store_open(dir, 16, &st), 0, "an empty file opens as new");
	T_OK(st && pso_store_created(st), "and says it is new");
	if (st)
		pso_store_close(st);

	T_EQ(pso_store_move_aside(dir), 0, "move the store aside");
	snprintf(path, sizeof(path), "%s/data.mdb.damaged", dir);
	T_EQ(access(path, F_OK), 0, "data.mdb.damaged is there");
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	T_OK(access(path, F_OK) < 0, "data.mdb is gone");
}

/* Every strict prefix and one extra byte must be refused. */
#define T_STRICT(dec, b, what) do {					\
	size_t _l; int _bad = 0;					\
	uint8_t *_x = xmalloc((b).len + 1);				\
	memcpy(_x, (b).data, (b).len);					\
	_x[(b).len] = 0;						\
	for (_l = 0; _l < (b).len; _l++)				\
		if (dec(_x, _l) == 0)					\
			_bad++;						\
	if (dec(_x, (b).len + 1) == 0)					\
		_bad++;							\
	_x[0] = PSO_MSG_FORMAT == 2 ? 1 : 2;	/* the other format */	\
	if (dec(_x, (b).len) == 0)					\
		_bad++;							\
	free(_x);							\
	T_EQ(_bad, 0, what ": truncated/trailing/bad format refused");	\
} while (0)

static struct pso_rec	 d_rec;
static struct pso_m_lock d_lock;
static int dec_write(const uint8_t *p, size_t l) { return pso_m_write_dec(p, l, &d_rec); }
static int dec_lock(const uint8_t *p, size_t l) { return pso_m_lock_dec(p, l, &d_lock, 1); }
static int dec_unlock(const uint8_t *p, size_t l) { return pso_m_lock_dec(p, l, &d_lock, 0); }
static int dec_rc(const uint8_t *p, size_t l) { int32_t rc; return pso_m_rc_dec(p, l, &rc); }
static int dec_wrep(const uint8_t *p, size_t l) { int32_t rc; uint64_t v; return pso_m_wrep_dec(p, l, &rc, &v); }
static int dec_lockev(const uint8_t *p, size_t l)
{
	struct pso_m_lockent *e; uint32_t n; int32_t rc; int r;
	r = pso_m_lockents_dec(p, l, 1, &rc, &e, &n);
	if (r == 0) free(e);
	return r;
}
static int dec_begin(const uint8_t *p, size_t l) { struct pso_m_begin m; return pso_m_begin_dec(p, l, &m, 0); }
static int dec_beginr(const uint8_t *p, size_t l) { struct pso_m_begin m; return pso_m_begin_dec(p, l, &m, 1); }
static int dec_digrep(const uint8_t *p, size_t l)
{
	struct pso_m_dig *g; uint32_t n; int32_t rc; int more, r;
	r = pso_m_digrep_dec(p, l, &rc, &more, &g, &n);
	if (r == 0) free(g);
	return r;
}
static int dec_ids(const uint8_t *p, size_t l)
{
	pso_id *ids; uint32_t n; int r = pso_m_ids_dec(p, l, &ids, &n);
	if (r == 0) free(ids);
	return r;
}
static int dec_recs(const uint8_t *p, size_t l)
{
	struct pso_rec *rs; uint32_t n; int32_t rc;
	int r = pso_m_recs_dec(p, l, 1, &rc, &rs, &n);
	if (r == 0) free(rs);
	return r;
}

static void
test_codecs(void)
{
	struct buf		 b;
	struct pso_rec		 r = mkrec(0x0102030405060708ULL, "ab", 1, 2,
				    "xyz"), *rs;
	struct pso_m_lock	 lk = { 0x10, 2, 0x30, 1000, 1 };
	struct pso_m_lockent	 le[2] = { { PSO_LOCKEV_GRANT, 5, 1, 9 },
				    { PSO_LOCKEV_RELEASE, 6, 2, 10 } }, *e;
	struct pso_m_begin	 bm = { .node = 7, .opmode = 1, .booting = 1 },
				 bo;
	struct pso_m_dig	*g;
	pso_id			 ids[2] = { 3, 4 }, *io;
	uint32_t		 n;
	uint64_t		 ver;
	int32_t			 rc;
	int			 more;
	static const uint8_t gw[] = {
		2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x03, 0xea,
		0, 2, 'a', 'b', 0, 0, 0, 3, 'x', 'y', 'z' };
	static const uint8_t gl[] = {
		2, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 0x30, 0, 0, 0x03, 0xe8, 1 };
	static const uint8_t grc[] = { 2, 0xff, 0xff, 0x87, 0x4c };
	static const uint8_t gwrep[] = { 2, 0xff, 0xff, 0x87, 0x40,
		0, 0, 0, 0, 0, 0, 0x01, 0x02 };
	static const uint8_t gev[] = {
		2, 0, 0, 0, 2,
		1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9,
		2, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 10 };
	static const uint8_t gb[] = { 2, 0, 0, 0, 7, 1, 1 };
	static const uint8_t gbr[] = { 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 7, 1,
		0, 0, 0, 0, 0, 0x01, 0x86, 0xa0 };
	static const uint8_t gdig[] = {
		2, 0, 0, 0, 0, 1, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x40, 0, 0, 1 };

	/* the sum is FNV-1a 64 of exactly these WRITE bytes after the
	 * format byte (value computed independently) */
	T_OK(pso_rec_sum(&r) == 0xb698aa0089610474ULL,
	    "record sum golden value (%016llx)",
	    (unsigned long long)pso_rec_sum(&r));
	buf_init(&b);
	pso_m_write_enc(&b, &r);
	T_EQ(b.len, sizeof(gw), "WRITE length");
	T_MEM(b.data, gw, MIN(b.len, sizeof(gw)), "WRITE golden bytes");
	T_OK(pso_m_write_dec(b.data, b.len, &d_rec) == 0 && d_rec.id == r.id &&
	    d_rec.version == 2 && d_rec.len == 3 &&
	    memcmp(d_rec.val, "xyz", 3) == 0 && strcmp(d_rec.name, "ab") == 0,
	    "WRITE round trip");
	T_STRICT(dec_write, b, "WRITE");

	buf_reset(&b);
	pso_m_lock_enc(&b, &lk, 1);
	T_EQ(b.len, sizeof(gl), "LOCK length");
	T_MEM(b.data, gl, MIN(b.len, sizeof(gl)), "LOCK golden bytes");
	T_OK(dec_lock(b.data, b.len) == 0 && d_lock.owner == 0x30 &&
	    d_lock.timeout_ms == 1000 && d_lock.retry == 1, "LOCK round trip");
	T_STRICT(dec_lock, b, "LOCK");
	buf_reset(&b);
	pso_m_lock_enc(&b, &lk, 0);
	T_EQ(b.len, 21, "UNLOCK length");
	T_STRICT(dec_unlock, b, "UNLOCK");

	buf_reset(&b);
	pso_m_rc_enc(&b, PSO_NOTFOUND);
	T_MEM(b.data, grc, sizeof(grc), "rc reply golden bytes (-30900)");
	T_OK(pso_m_rc_dec(b.data, b.len, &rc) == 0 && rc == PSO_NOTFOUND,
	    "rc round trip (negative)");
	T_STRICT(dec_rc, b, "rc reply");

	buf_reset(&b);
	pso_m_wrep_enc(&b, PSO_CONFLICT, 0x102);
	T_EQ(b.len, sizeof(gwrep), "WRITE reply length");
	T_MEM(b.data, gwrep, MIN(b.len, sizeof(gwrep)),
	    "WRITE reply golden bytes (PSO_CONFLICT, version 0x102)");
	T_OK(pso_m_wrep_dec(b.data, b.len, &rc, &ver) == 0 &&
	    rc == PSO_CONFLICT && ver == 0x102, "WRITE reply round trip");
	T_STRICT(dec_wrep, b, "WRITE reply");

	buf_reset(&b);
	pso_m_lockents_enc(&b, le, 2, 1, 0);
	T_EQ(b.len, sizeof(gev), "LOCKEV length");
	T_MEM(b.data, gev, MIN(b.len, sizeof(gev)), "LOCKEV golden bytes");
	T_OK(pso_m_lockents_dec(b.data, b.len, 1, &rc, &e, &n) == 0 &&
	    n == 2 && e[1].op == PSO_LOCKEV_RELEASE && e[1].owner == 10,
	    "LOCKEV round trip");
	free(e);
	T_STRICT(dec_lockev, b, "LOCKEV");
	b.data[5] = 3;
	T_EQ(dec_lockev(b.data, b.len), -1, "LOCKEV unknown op refused");
	buf_reset(&b);
	buf_add_u8(&b, PSO_MSG_FORMAT);
	buf_add_u32(&b, 0xffffffff);
	T_EQ(dec_lockev(b.data, b.len), -1, "LOCKEV count 2^32-1 refused");

	buf_reset(&b);
	pso_m_begin_enc(&b, &bm, 0);
	T_MEM(b.data, gb, sizeof(gb), "SYNC_BEGIN golden bytes");
	T_STRICT(dec_begin, b, "SYNC_BEGIN");
	buf_reset(&b);
	bm.serving = 1;
	bm.recovering = 1;
	bm.objects = 100000;
	bm.rc = 0;
	pso_m_begin_enc(&b, &bm, 1);
	T_EQ(b.len, sizeof(gbr), "SYNC_BEGIN reply length");
	T_MEM(b.data, gbr, MIN(b.len, sizeof(gbr)),
	    "SYNC_BEGIN reply golden bytes");
	T_OK(pso_m_begin_dec(b.data, b.len, &bo, 1) == 0 && bo.serving == 1 &&
	    bo.recovering == 1 && bo.node == 7 && bo.objects == 100000,
	    "SYNC_BEGIN reply round trip");
	T_STRICT(dec_beginr, b, "SYNC_BEGIN reply");

	buf_reset(&b);
	pso_m_digrep_start(&b, 0);
	pso_m_digrep_add(&b, 3, 9, 0x1122334455667788ULL,
	    PSO_F_SOLO | PSO_PERSISTENT);
	pso_m_digrep_finish(&b, 1, 1);
	T_EQ(b.len, sizeof(gdig), "SYNC_DIGEST reply length");
	T_MEM(b.data, gdig, MIN(b.len, sizeof(gdig)),
	    "SYNC_DIGEST reply golden bytes");
	T_OK(pso_m_digrep_dec(b.data, b.len, &rc, &more, &g, &n) == 0 &&
	    more == 1 && n == 1 && g[0].version == 9 &&
	    g[0].sum == 0x1122334455667788ULL &&
	    g[0].flags == (PSO_F_SOLO | PSO_PERSISTENT), "digest round trip");
	free(g);
	T_STRICT(dec_digrep, b, "SYNC_DIGEST reply");
	put_be32(b.data + 6, 0x10000000);
	T_EQ(dec_digrep(b.data, b.len), -1, "digest count past the end refused");

	buf_reset(&b);
	pso_m_ids_enc(&b, ids, 2);
	T_OK(pso_m_ids_dec(b.data, b.len, &io, &n) == 0 && n == 2 &&
	    io[1] == 4, "SYNC_FETCH ids round trip");
	free(io);
	T_STRICT(dec_ids, b, "SYNC_FETCH");

	buf_reset(&b);
	pso_m_recs_start(&b, 1, 0);
	pso_rec_encode(&b, &r, 1);
	r.id = 99;
	r.len = 0;
	pso_rec_encode(&b, &r, 1);
	pso_m_recs_finish(&b, 1, 2);
	T_OK(pso_m_recs_dec(b.data, b.len, 1, &rc, &rs, &n) == 0 && n == 2 &&
	    rs[0].len == 3 && rs[1].id == 99 && rs[1].len == 0,
	    "record list round trip");
	free(rs);
	T_STRICT(dec_recs, b, "record list");
	put_be32(b.data + 5, 1u << 30);
	T_EQ(dec_recs(b.data, b.len), -1, "record count 2^30 refused");

	/* a value length claiming more than PSO_VALUE_MAX */
	buf_reset(&b);
	buf_add_u8(&b, PSO_MSG_FORMAT);
	buf_add_u64(&b, 5);
	buf_add_u32(&b, 0);
	buf_add_u64(&b, 1);
	buf_add_u64(&b, 1);
	buf_add_str(&b, "n");
	buf_add_u32(&b, PSO_VALUE_MAX + 1);
	buf_reserve(&b, PSO_VALUE_MAX + 1);
	memset(b.data + b.len, 0, PSO_VALUE_MAX + 1);
	b.len += PSO_VALUE_MAX + 1;
	T_EQ(dec_write(b.data, b.len), -1, "oversized value refused");
	buf_reset(&b);
	r.id = 0;
	pso_m_write_enc(&b, &r);
	T_EQ(dec_write(b.data, b.len), -1, "id 0 refused");
	buf_free(&b);
}

int
main(void)
{
	char dir[300];

	log_init("test_pso_store", 0, 0);
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_ids();
	snprintf(dir, sizeof(dir), "%s/pso", tmpl);
	test_store(dir);
	test_corrupt(tmpl);
	test_precheck(tmpl);
	test_codecs();
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpl);
	}
	return t_done();
}

/*
 * test_fuse_locks.c — the FUSE export layer's in-process lock table
 * (fuse_fs_local_lockops, export/fuse_fs_lock.c), which stands in for
 * the cluster table in the stand-alone tool: conflicts between owners,
 * shared locks, POSIX replacement and splitting by one owner, to-EOF
 * ranges, overflow, and that files and owners are told apart by every
 * field of their names.
 */
#include <stdint.h>
#include <string.h>

#include "export/fuse_fs.h"
#include "t.h"

static const struct fuse_fs_lockops *L = &fuse_fs_local_lockops;

static struct brl_file
file(uint32_t expid, uint8_t b)
{
	struct brl_file	f;

	memset(&f, 0, sizeof(f));
	f.expid = expid;
	f.khtype = 1;
	f.khlen = 2;
	f.kh[0] = 0xab;
	f.kh[1] = b;
	return f;
}

static struct brl_owner
owner(const char *client, uint8_t oh)
{
	struct brl_owner	o;

	memset(&o, 0, sizeof(o));
	o.proto = BRL_PROTO_SMB;
	strcpy(o.client, client);
	o.ohlen = 1;
	o.oh[0] = oh;
	return o;
}

static struct brl_range
rg(uint64_t start, uint64_t len, int excl)
{
	struct brl_range	r = { start, len, excl };

	return r;
}

static int
lk(const struct brl_file *f, const struct brl_owner *o, uint64_t s,
    uint64_t l, int x)
{
	struct brl_range	r = rg(s, l, x);

	return L->lock(f, o, &r, 0, NULL, NULL);
}

static int
tst(const struct brl_file *f, const struct brl_owner *o, uint64_t s,
    uint64_t l, int x, struct brl_range *hr)
{
	struct brl_range	r = rg(s, l, x);

	return L->test(f, o, &r, NULL, hr);
}

static int
ul(const struct brl_file *f, const struct brl_owner *o, uint64_t s,
    uint64_t l)
{
	struct brl_range	r = rg(s, l, 0);

	return L->unlock(f, o, &r);
}

int
main(void)
{
	struct brl_file		f = file(1, 1), g = file(1, 2), h = file(2, 1);
	struct brl_owner	a = owner("head-a", 1), b = owner("head-a", 2);
	struct brl_owner	c = owner("head-b", 1), af;
	struct brl_owner	p = owner("h", 7), q = owner("h", 7);
	struct brl_range	hr;

	T_EQ(lk(&f, &a, 0, 100, 1), BRL_OK, "a write-locks 0-99");
	T_EQ(lk(&f, &a, 50, 10, 1), BRL_OK, "the same owner again: granted");
	T_EQ(lk(&f, &b, 99, 1, 0), BRL_DENIED, "another owner, overlapping "
	    "read: denied");
	T_EQ(tst(&f, &b, 90, 20, 0, &hr), BRL_DENIED, "test names a holder");
	T_OK(hr.excl && hr.start <= 90, "the holder's range is exclusive "
	    "and covers 90");
	T_EQ(lk(&f, &b, 100, 10, 1), BRL_OK, "the adjacent range is free");
	T_EQ(lk(&f, &c, 0, 1, 1), BRL_DENIED, "same lock owner bytes, other "
	    "head: a different owner");
	T_EQ(lk(&g, &b, 0, 0, 1), BRL_OK, "another kernel handle: another file");
	T_EQ(lk(&h, &b, 0, 0, 1), BRL_OK, "another export id: another file");

	/* POSIX splitting: unlocking the middle leaves two pieces */
	T_EQ(ul(&f, &a, 40, 20), BRL_OK, "a unlocks 40-59");
	T_EQ(tst(&f, &b, 45, 5, 1, NULL), BRL_OK, "the hole is free");
	T_EQ(tst(&f, &b, 30, 5, 0, NULL), BRL_DENIED, "the left piece stays");
	T_EQ(tst(&f, &b, 70, 5, 0, NULL), BRL_DENIED, "the right piece stays");
	/* replacement: a read lock over a write lock of the same owner */
	T_EQ(lk(&f, &a, 0, 100, 0), BRL_OK, "a downgrades 0-99 to read");
	T_EQ(tst(&f, &c, 10, 10, 0, NULL), BRL_OK, "now a reader may share");
	T_EQ(tst(&f, &c, 10, 10, 1, NULL), BRL_DENIED, "a writer may not");
	T_EQ(lk(&f, &c, 10, 10, 0), BRL_OK, "c shares 10-19");
	T_EQ(lk(&f, &a, 0, 100, 1), BRL_DENIED, "a cannot upgrade over c's "
	    "read lock");
	T_EQ(ul(&f, &c, 0, 0), BRL_OK, "c unlocks everything (len 0)");
	T_EQ(lk(&f, &a, 0, 100, 1), BRL_OK, "now a upgrades");

	/* to the end of the file */
	af = owner("head-a", 9);
	T_EQ(lk(&f, &af, 1000, 0, 1), BRL_OK, "a lock from 1000 to EOF");
	T_EQ(tst(&f, &b, UINT64_MAX - 1, 1, 0, &hr), BRL_DENIED, "it reaches "
	    "the last byte");
	T_EQ(hr.len, 0, "and is reported with length 0");
	T_EQ(lk(&f, &b, UINT64_MAX, 2, 1), BRL_INVAL, "a range past 2^64: "
	    "BRL_INVAL");
	T_EQ(ul(&f, &af, 2000, 0), BRL_OK, "unlock 2000-EOF");
	T_EQ(tst(&f, &b, 5000, 1, 1, NULL), BRL_OK, "5000 is free");
	T_EQ(tst(&f, &b, 1500, 1, 1, NULL), BRL_DENIED, "1000-1999 stays");
	T_EQ(ul(&f, &b, 0, 0), BRL_OK, "an unlock of nothing held: BRL_OK");

	/* flock-style owners: same lock owner, ninth byte differs */
	q.oh[q.ohlen++] = 'F';
	T_EQ(lk(&g, &p, 0, 0, 1), BRL_DENIED, "g is b's");
	T_EQ(ul(&g, &b, 0, 0), BRL_OK, "b lets g go");
	T_EQ(lk(&g, &p, 0, 0, 1), BRL_OK, "POSIX owner takes g");
	T_EQ(lk(&g, &q, 0, 0, 0), BRL_DENIED, "the flock owner with the same "
	    "lock owner bytes conflicts (another owner)");
	return t_done();
}

/*
 * test_brl.c — the pure byte-range lock table (pso/brl_table.c,
 * brl_codec.c): conflict rules, POSIX splitting and merging, to-EOF
 * ranges and overflow, FIFO granting of waiters, deadlock detection,
 * shares, freeing a client or an export, the limit, grace, installing
 * states by version, and the state codec against golden bytes
 * (docs/locks.md), including malformed input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/util.h"
#include "pso/brl_int.h"
#include "t.h"

static struct brl_tab	*T;
static uint64_t		 nchanged;

static void
changed(struct brl_fent *fe, void *arg)
{
	(void)fe; (void)arg;
	nchanged++;
}

static struct brl_file
file(uint32_t expid, uint8_t b)
{
	struct brl_file f;

	memset(&f, 0, sizeof(f));
	f.expid = expid;
	f.khtype = 1;
	f.khlen = 2;
	f.kh[0] = 0xab;
	f.kh[1] = b;
	return f;
}

static struct brl_owner
owner(uint8_t proto, const char *client, uint32_t svid)
{
	struct brl_owner o;

	memset(&o, 0, sizeof(o));
	o.proto = proto;
	snprintf(o.client, sizeof(o.client), "%s", client);
	o.svid = svid;
	return o;
}

static struct brl_res R;

static int
op(uint8_t code, struct brl_file f, struct brl_owner o, uint64_t start,
    uint64_t len, int excl, int flags, const char *blob)
{
	struct brl_op p;

	memset(&p, 0, sizeof(p));
	p.op = code;
	p.flags = (uint8_t)flags;
	p.f = f;
	p.o = o;
	p.r.start = start;
	p.r.len = len;
	p.r.excl = excl;
	p.blob = blob;
	p.bloblen = blob ? (uint16_t)strlen(blob) : 0;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	return R.rc;
}

static int
lock(struct brl_file f, struct brl_owner o, uint64_t s, uint64_t l, int x)
{
	return op(BRL_OP_LOCK, f, o, s, l, x, 0, NULL);
}

static int
unlock(struct brl_file f, struct brl_owner o, uint64_t s, uint64_t l)
{
	return op(BRL_OP_UNLOCK, f, o, s, l, 0, 0, NULL);
}

static int
wait_lock(struct brl_file f, struct brl_owner o, uint64_t s, uint64_t l,
    int x)
{
	return op(BRL_OP_LOCK, f, o, s, l, x, BRL_F_WAIT, "cookie");
}

static int
share(struct brl_file f, struct brl_owner o, int access, int deny)
{
	struct brl_op p;

	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_SHARE;
	p.f = f;
	p.o = o;
	p.access = (uint8_t)access;
	p.deny = (uint8_t)deny;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	return R.rc;
}

/* "s-l x|s [p]" of every lock of file f, for comparisons. */
static const char *
locks_of(struct brl_file f)
{
	static char	 out[512];
	struct brl_fent	*fe = brl_tab_find(T, &f);
	size_t		 n = 0;
	uint32_t	 i;

	out[0] = '\0';
	for (i = 0; fe && i < fe->nlocks; i++) {
		const struct brl_ent *k = &fe->locks[i];

		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s:%llu-%lld%s%s",
		    i ? " " : "", k->o.client, (unsigned long long)k->start,
		    k->last == BRL_LAST ? -1LL : (long long)k->last,
		    k->excl ? "x" : "s", k->pending ? "p" : "");
	}
	return out;
}

static uint32_t
nwaiters(struct brl_file f)
{
	struct brl_fent *fe = brl_tab_find(T, &f);

	return fe ? fe->nwaiters : 0;
}

static void
test_conflicts(void)
{
	struct brl_file		f = file(1, 1);
	struct brl_owner	a = owner(1, "a", 1), b = owner(1, "b", 1);
	struct brl_owner	a2 = owner(1, "a", 2), h;
	struct brl_range	r = { 5, 1, 0 }, hr;

	T = brl_tab_new(64, 0);
	T_EQ(lock(f, a, 0, 10, 0), BRL_OK, "shared lock granted");
	T_EQ(lock(f, b, 5, 10, 0), BRL_OK, "shared + shared of another owner");
	T_EQ(lock(f, b, 5, 1, 1), BRL_DENIED, "exclusive over a shared lock "
	    "of another owner is denied");
	T_OK(R.has_holder && strcmp(R.holder.client, "a") == 0 &&
	    R.hrange.start == 0 && R.hrange.len == 10 && !R.hrange.excl,
	    "the holder is named (a 0+10 shared)");
	T_EQ(lock(f, a2, 3, 1, 1), BRL_DENIED, "another svid of the same client "
	    "is another owner");
	T_EQ(lock(f, a, 10, 0, 0), BRL_OK, "same owner: no conflict");
	T_EQ(brl_tab_test(T, &f, &b, &r, &h, &hr), BRL_OK, "test: shared ok");
	r.excl = 1;
	T_EQ(brl_tab_test(T, &f, &b, &r, &h, &hr), BRL_DENIED,
	    "test: exclusive denied");
	r.start = 1000;
	r.len = 0;
	T_EQ(brl_tab_test(T, &f, &b, &r, &h, &hr), BRL_DENIED,
	    "test: a's lock reaches the end of the file");
	T_EQ(hr.len, 0, "a range to the end is reported with len 0");
	T_EQ(hr.start, 0, "merged with a's first range (0..EOF)");
	r.start = UINT64_MAX - 9;
	r.len = 11;
	T_EQ(brl_tab_test(T, &f, &b, &r, NULL, NULL), BRL_INVAL,
	    "test: start + len past 2^64 is invalid");
	T_EQ(lock(f, b, UINT64_MAX - 9, 11, 0), BRL_INVAL,
	    "lock: start + len past 2^64 is invalid");
	T_EQ(lock(f, b, UINT64_MAX - 9, 10, 0), BRL_OK,
	    "lock: ending exactly at 2^64-1 is fine");
	brl_tab_free(T);
}

static void
test_posix(void)
{
	struct brl_file		f = file(1, 2);
	struct brl_owner	a = owner(1, "a", 1);
	uint64_t		v;

	T = brl_tab_new(64, 0);
	lock(f, a, 0, 100, 0);
	T_EQ(lock(f, a, 50, 10, 1), BRL_OK, "upgrade a middle part");
	T_OK(strcmp(locks_of(f), "a:0-49s a:50-59x a:60-99s") == 0,
	    "split into three: %s", locks_of(f));
	T_EQ(T->locks, 3, "counted 3 locks");
	lock(f, a, 50, 10, 0);
	T_OK(strcmp(locks_of(f), "a:0-99s") == 0, "downgrade merges back: %s",
	    locks_of(f));
	unlock(f, a, 40, 20);
	T_OK(strcmp(locks_of(f), "a:0-39s a:60-99s") == 0,
	    "unlock in the middle splits: %s", locks_of(f));
	lock(f, a, 40, 20, 0);
	T_OK(strcmp(locks_of(f), "a:0-99s") == 0, "filling the hole merges: %s",
	    locks_of(f));
	lock(f, a, 100, 10, 0);
	T_OK(strcmp(locks_of(f), "a:0-109s") == 0, "adjacent ranges merge: %s",
	    locks_of(f));
	lock(f, a, 200, 0, 1);
	T_OK(strcmp(locks_of(f), "a:0-109s a:200--1x") == 0,
	    "to the end of the file: %s", locks_of(f));
	v = brl_tab_find(T, &f)->version;
	nchanged = 0;
	T_EQ(lock(f, a, 20, 10, 0), BRL_OK, "locking what is held: OK");
	T_EQ(nchanged, 0, "... and nothing changed");
	T_EQ(brl_tab_find(T, &f)->version, v, "... same version");
	T_EQ(unlock(f, a, 150, 10), BRL_OK, "unlocking nothing: OK");
	T_EQ(nchanged, 0, "... and nothing changed");
	unlock(f, a, 0, 0);
	T_OK(brl_tab_find(T, &f) == NULL, "unlock 0..EOF removes everything "
	    "(the file is a tombstone)");
	T_EQ(T->files, 0, "no live file");
	T_EQ(T->locks, 0, "no lock");
	T_OK(brl_tab_find_any(T, &f) != NULL &&
	    brl_tab_find_any(T, &f)->version > v, "the tombstone keeps a "
	    "newer version");
	T_EQ(brl_tab_reap(T, 1000 + BRL_TOMB_MS - 1), 0, "tombstone kept "
	    "for a while");
	T_EQ(brl_tab_reap(T, 1000 + BRL_TOMB_MS), 1, "then reaped");
	brl_tab_free(T);
}

static void
test_waiters(void)
{
	struct brl_file		f = file(2, 1);
	struct brl_owner	a = owner(1, "a", 1), b = owner(1, "b", 1);
	struct brl_owner	c = owner(1, "c", 1), d = owner(1, "d", 1);
	struct brl_fent		*fe;
	struct brl_op		p;

	T = brl_tab_new(64, 0);
	lock(f, a, 0, 10, 0);
	T_EQ(wait_lock(f, b, 0, 10, 1), BRL_BLOCKED, "b waits for a (excl)");
	T_EQ(wait_lock(f, b, 0, 10, 1), BRL_BLOCKED, "asked again: blocked");
	T_EQ(nwaiters(f), 1, "... not queued twice");
	T_EQ(lock(f, c, 5, 10, 0), BRL_DENIED, "a shared lock that would jump "
	    "the queued writer is denied (FIFO per range)");
	T_OK(strcmp(R.holder.client, "b") == 0, "... naming the waiter");
	T_EQ(wait_lock(f, c, 5, 10, 0), BRL_BLOCKED, "c queues behind b");
	T_EQ(lock(f, d, 20, 5, 1), BRL_OK, "an unrelated range is granted");
	T_EQ(unlock(f, a, 0, 0), BRL_OK, "a unlocks");
	T_OK(strcmp(locks_of(f), "b:0-9xp d:20-24x") == 0,
	    "b is granted, grant pending: %s", locks_of(f));
	T_EQ(nwaiters(f), 1, "c still waits (conflicts with b)");
	fe = brl_tab_find(T, &f);
	T_OK(fe->locks[0].bloblen == 6 && memcmp(fe->locks[0].blob, "cookie",
	    6) == 0, "the granted lock keeps the waiter's blob");
	T_EQ(fe->locks[0].grant_id, fe->version, "grant id = the version that "
	    "granted it");
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_GRANT_DONE;
	p.f = f;
	p.o = b;
	p.r.start = 0;
	p.r.len = 10;
	p.grant_id = fe->locks[0].grant_id + 1;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_DENIED, "GRANT_DONE with another grant id: no effect");
	p.grant_id--;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_OK, "GRANT_DONE clears the flag");
	T_OK(strcmp(locks_of(f), "b:0-9x d:20-24x") == 0, "no longer pending: "
	    "%s", locks_of(f));
	T_EQ(unlock(f, b, 0, 10), BRL_OK, "b unlocks");
	T_OK(strcmp(locks_of(f), "c:5-14sp d:20-24x") == 0,
	    "c is granted: %s", locks_of(f));
	T_EQ(nwaiters(f), 0, "no waiter left");

	/* cancel */
	T_EQ(wait_lock(f, a, 0, 100, 1), BRL_BLOCKED, "a waits");
	T_EQ(op(BRL_OP_CANCEL, f, a, 0, 50, 1, 0, NULL), BRL_DENIED,
	    "cancel of another range: no such waiter");
	T_EQ(op(BRL_OP_CANCEL, f, a, 0, 100, 1, 0, NULL), BRL_OK,
	    "cancel withdraws the waiter");
	T_EQ(nwaiters(f), 0, "gone");
	T_EQ(op(BRL_OP_CANCEL, f, a, 0, 100, 1, 0, NULL), BRL_DENIED,
	    "cancel again: denied");

	/* a later waiter whose range is free goes first when it does not
	 * overlap the earlier one */
	T_EQ(wait_lock(f, a, 0, 10, 1), BRL_BLOCKED, "a waits on c's range");
	T_EQ(wait_lock(f, b, 20, 1, 1), BRL_BLOCKED, "b waits on d's range");
	unlock(f, d, 0, 0);
	T_OK(strstr(locks_of(f), "b:20-20xp") != NULL && nwaiters(f) == 1,
	    "b granted before the earlier a (ranges apart): %s", locks_of(f));
	brl_tab_free(T);
}

static void
test_deadlock(void)
{
	struct brl_file		f = file(6, 1), g = file(6, 2), h = file(6, 3);
	struct brl_owner	a = owner(1, "a", 1), b = owner(1, "b", 1);
	struct brl_owner	c = owner(1, "c", 1);

	T = brl_tab_new(64, 0);
	lock(f, a, 0, 10, 1);
	lock(g, b, 0, 10, 1);
	T_EQ(wait_lock(g, a, 0, 10, 1), BRL_BLOCKED, "a waits for b");
	T_EQ(wait_lock(f, b, 0, 10, 1), BRL_DEADLCK, "b waiting for a would "
	    "deadlock");
	T_EQ(nwaiters(f), 0, "... and is not queued");
	T_EQ(lock(f, b, 0, 10, 1), BRL_DENIED, "without waiting: denied");
	lock(h, c, 0, 10, 1);
	T_EQ(wait_lock(h, b, 5, 1, 0), BRL_BLOCKED, "b waits for c");
	T_EQ(wait_lock(f, c, 0, 1, 0), BRL_DEADLCK, "c waiting for a (who "
	    "waits for b, who waits for c) would deadlock");
	T_EQ(wait_lock(f, c, 20, 1, 1), BRL_OK, "c on a free range: granted");
	T_EQ(op(BRL_OP_CANCEL, g, a, 0, 10, 1, 0, NULL), BRL_OK,
	    "a stops waiting");
	T_EQ(wait_lock(f, b, 0, 10, 1), BRL_BLOCKED, "now b may wait for a");
	brl_tab_free(T);
}

static void
test_shares(void)
{
	struct brl_file		f = file(3, 1);
	struct brl_owner	a = owner(1, "a", 1), b = owner(1, "b", 1);

	T = brl_tab_new(64, 0);
	T_EQ(share(f, a, 1, 2), BRL_OK, "a: read, deny write");
	T_EQ(share(f, b, 2, 0), BRL_DENIED, "b wants write: denied");
	T_EQ(share(f, b, 1, 1), BRL_DENIED, "b denies read a has: denied");
	T_EQ(share(f, b, 1, 0), BRL_OK, "b read, deny none: ok");
	T_EQ(share(f, a, 3, 0), BRL_OK, "a changes its own share");
	T_EQ(T->shares, 2, "two shares");
	T_EQ(share(f, b, 1, 4), BRL_INVAL, "deny out of range: invalid");
	T_EQ(op(BRL_OP_UNSHARE, f, b, 0, 0, 0, 0, NULL), BRL_OK, "unshare");
	T_EQ(op(BRL_OP_UNSHARE, f, b, 0, 0, 0, 0, NULL), BRL_OK,
	    "unshare of nothing: ok");
	T_EQ(T->shares, 1, "one share left");
	brl_tab_free(T);
}

static void
test_free_limit_grace(void)
{
	struct brl_file		f1 = file(4, 1), f2 = file(4, 2), f3 = file(5, 1);
	struct brl_owner	a = owner(1, "a", 1), a9 = owner(1, "a", 9);
	struct brl_owner	b = owner(1, "b", 1), s = owner(2, "a", 1);
	struct brl_op		p;

	T = brl_tab_new(64, 0);
	lock(f1, a, 0, 10, 1);
	lock(f2, a9, 0, 10, 1);
	lock(f1, b, 20, 10, 1);
	wait_lock(f1, b, 0, 10, 1);
	share(f3, a, 1, 0);
	lock(f3, s, 0, 1, 0);
	lock(f3, b, 5, 1, 0);
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_FREE_CLIENT;
	p.o.proto = BRL_PROTO_NLM;
	snprintf(p.o.client, sizeof(p.o.client), "a");
	nchanged = 0;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_OK, "free client a (nlm)");
	T_EQ(R.n, 3, "three entries of a's owners went");
	T_EQ(nchanged, 3, "three files changed");
	T_OK(strcmp(locks_of(f1), "b:0-9xp b:20-29x") == 0,
	    "b's waiter was granted: %s", locks_of(f1));
	T_OK(strcmp(locks_of(f3), "a:0-0s b:5-5s") == 0,
	    "the smb owner named a stays: %s", locks_of(f3));
	/* a FUSE mount that stopped: its owner's entries on its export */
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_FREE_EXPORT;
	p.f.expid = 4;
	p.o.proto = BRL_PROTO_SMB;
	snprintf(p.o.client, sizeof(p.o.client), "a");
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.n, 0, "free export 4 of smb owner a: it holds nothing there");
	p.f.expid = 5;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.n, 1, "free export 5 of smb owner a: its one lock");
	T_OK(strcmp(locks_of(f3), "b:5-5s") == 0,
	    "the nlm owner b on export 5 stays: %s", locks_of(f3));
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_FREE_EXPORT;
	p.f.expid = 4;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.n, 2, "free export 4: b's two locks");
	T_EQ(T->locks, 1, "the lock of export 5 stays");
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_FREE_CLIENT;
	brl_tab_apply(T, &p, 0, 1000, &R, changed, NULL);
	T_EQ(R.n, 1, "free everything (proto 0, no client)");
	T_EQ(T->locks + T->waiters + T->shares + T->files, 0, "empty");
	brl_tab_free(T);

	T = brl_tab_new(64, 3);
	T_EQ(lock(f1, a, 0, 10, 1), BRL_OK, "1 of 3");
	T_EQ(lock(f1, a, 20, 10, 1), BRL_OK, "2 of 3");
	T_EQ(wait_lock(f1, b, 0, 1, 1), BRL_BLOCKED, "3 of 3 (a waiter)");
	T_EQ(lock(f2, b, 0, 10, 1), BRL_NOLOCKS, "a fourth entry: no locks");
	T_EQ(share(f2, b, 1, 0), BRL_NOLOCKS, "a share counts too");
	T_EQ(lock(f1, a, 10, 10, 1), BRL_OK, "a merge needs no entry");
	T_EQ(unlock(f1, a, 5, 10), BRL_OK, "an unlock never fails (split)");
	brl_tab_free(T);

	T = brl_tab_new(64, 0);
	{
		int i, rc = BRL_OK;

		for (i = 0; i < BRL_FILE_MAX && rc == BRL_OK; i++)
			rc = lock(f1, a, (uint64_t)i * 2, 1, 1);
		T_EQ(rc, BRL_OK, "BRL_FILE_MAX locks on one file");
		T_EQ(lock(f1, a, (uint64_t)i * 2, 1, 1), BRL_NOLOCKS,
		    "one more on that file: no locks");
		T_EQ(lock(f2, a, 0, 1, 1), BRL_OK, "another file is fine");
		T_EQ(lock(f1, a, 1, 1, 1), BRL_OK, "a merge on the full file "
		    "is fine");
	}
	brl_tab_free(T);

	T = brl_tab_new(64, 0);
	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_LOCK;
	p.f = f1;
	p.o = a;
	p.r.len = 10;
	brl_tab_apply(T, &p, 1, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_GRACE, "in grace a new lock is refused");
	p.op = BRL_OP_SHARE;
	brl_tab_apply(T, &p, 1, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_GRACE, "... and a new share");
	p.op = BRL_OP_LOCK;
	p.flags = BRL_F_RECLAIM;
	brl_tab_apply(T, &p, 1, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_OK, "a reclaim is granted");
	p.op = BRL_OP_UNLOCK;
	p.flags = 0;
	brl_tab_apply(T, &p, 1, 1000, &R, changed, NULL);
	T_EQ(R.rc, BRL_OK, "unlock works in grace");
	brl_tab_free(T);
}

/* The golden state: see docs/locks.md. */
static const uint8_t golden[] = {
	0xb5,
	0x00, 0x00, 0x00, 0x07, 0x01, 0x02, 0xab, 0xcd,		/* file */
	0, 0, 0, 0, 0, 0, 0, 3,					/* version */
	0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,			/* counts */
	/* lock: owner nlm "c" svid 5 oh 99, 10..19, excl */
	0x01, 0x01, 'c', 0, 0, 0, 5, 0x01, 0x99,
	0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 19, 0x01,
	/* waiter: admin "w" svid 0, 0..EOF, excl, seq 1, blob "hi" */
	0x03, 0x01, 'w', 0, 0, 0, 0, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
	0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x02, 'h', 'i',
	/* share: owner "c", access read, deny write */
	0x01, 0x01, 'c', 0, 0, 0, 5, 0x01, 0x99, 0x01, 0x02,
};

static void
test_codec(void)
{
	struct brl_file		f;
	struct brl_owner	c = owner(1, "c", 5), w = owner(3, "w", 0);
	struct brl_fent		*fe, *d, *in;
	struct buf		b, b2;
	struct rd		r;
	const char		*why;
	uint8_t			bad[sizeof(golden)];
	size_t			n;
	int			all;

	memset(&f, 0, sizeof(f));
	f.expid = 7;
	f.khtype = 1;
	f.khlen = 2;
	f.kh[0] = 0xab;
	f.kh[1] = 0xcd;
	c.ohlen = 1;
	c.oh[0] = 0x99;
	T = brl_tab_new(64, 0);
	lock(f, c, 10, 10, 1);
	op(BRL_OP_LOCK, f, w, 0, 0, 1, BRL_F_WAIT, "hi");
	share(f, c, 1, 2);
	fe = brl_tab_find(T, &f);
	buf_init(&b);
	brl_state_enc(&b, fe);
	T_EQ(b.len, sizeof(golden), "state length");
	T_MEM(b.data, golden, MIN(b.len, sizeof(golden)), "state golden bytes");

	rd_init(&r, golden, sizeof(golden));
	d = brl_state_dec(&r, &why);
	T_OK(d != NULL && r.left == 0, "golden state decodes");
	buf_init(&b2);
	if (d)
		brl_state_enc(&b2, d);
	T_OK(b2.len == b.len && memcmp(b2.data, b.data, b.len) == 0,
	    "decode + encode round trip");
	brl_fent_free(d);

	/* every truncation is refused */
	all = 1;
	for (n = 0; n < sizeof(golden); n++) {
		rd_init(&r, golden, n);
		if ((d = brl_state_dec(&r, &why)) != NULL) {
			all = 0;
			brl_fent_free(d);
		}
	}
	T_OK(all, "every truncated state is refused");
#define BAD(off, val, what) do {					\
	memcpy(bad, golden, sizeof(bad));				\
	bad[(off)] = (val);						\
	rd_init(&r, bad, sizeof(bad));					\
	d = brl_state_dec(&r, &why);					\
	T_OK(d == NULL, "refused: %s (%s)", what, why ? why : "-");	\
	brl_fent_free(d);						\
} while (0)
	BAD(0, 0xb4, "bad magic");
	BAD(6, 0, "handle length 0");
	BAD(6, 42, "handle length 42");
	BAD(16, 0, "version 0");
	BAD(20, 0xff, "lock count past the end");
	BAD(29, 0, "owner protocol 0");
	BAD(30, 0, "empty client name");
	BAD(31, 0, "NUL in the client name");
	BAD(53, 0x04, "a lock ending before it starts");
	BAD(54, 0x05, "unknown lock flag");
	BAD(79, 0x03, "pending flag on a waiter");
	BAD(88, 0x04, "blob longer than 1024");
	BAD(sizeof(golden) - 1, 4, "deny mode 4");
	/* overlapping locks of one owner: make the lock count 2 with the
	 * waiter's bytes as a lock of owner w, then make it owner c's */
	{
		struct buf	o;
		struct brl_fent	x;
		struct brl_ent	k[2];

		memset(&x, 0, sizeof(x));
		memset(k, 0, sizeof(k));
		x.f = f;
		x.version = 1;
		x.locks = k;
		x.nlocks = 2;
		k[0].o = c;
		k[0].start = 0;
		k[0].last = 10;
		k[1].o = c;
		k[1].start = 10;
		k[1].last = 20;
		buf_init(&o);
		brl_state_enc(&o, &x);
		rd_init(&r, o.data, o.len);
		d = brl_state_dec(&r, &why);
		T_OK(d == NULL, "refused: overlapping locks of one owner (%s)",
		    why ? why : "-");
		brl_fent_free(d);
		k[1].o = w;
		buf_reset(&o);
		brl_state_enc(&o, &x);
		rd_init(&r, o.data, o.len);
		d = brl_state_dec(&r, &why);
		T_OK(d != NULL, "overlapping locks of two owners decode");
		brl_fent_free(d);
		buf_free(&o);
	}

	/* install by version */
	rd_init(&r, golden, sizeof(golden));
	d = brl_state_dec(&r, &why);
	T_EQ(brl_tab_install(T, d, 1000, &in), 0, "an equal version is not "
	    "installed");
	rd_init(&r, golden, sizeof(golden));
	d = brl_state_dec(&r, &why);
	d->version = 9;
	T_EQ(brl_tab_install(T, d, 1000, &in), 1, "a newer version is");
	T_EQ(T->maxver, 9, "the table's highest version follows");
	T_EQ(T->locks + T->waiters + T->shares, 3, "counts kept");
	op(BRL_OP_UNLOCK, f, c, 0, 0, 0, 0, NULL);
	T_EQ(brl_tab_find(T, &f)->version, 10, "the next change: version 10");
	memset(bad, 0, sizeof(bad));
	{
		struct brl_fent e;

		memset(&e, 0, sizeof(e));
		e.f = f;
		e.version = 11;
		buf_reset(&b2);
		brl_state_enc(&b2, &e);
	}
	rd_init(&r, b2.data, b2.len);
	d = brl_state_dec(&r, &why);
	T_EQ(brl_tab_install(T, d, 1000, &in), 1, "an empty newer state "
	    "installs");
	T_OK(brl_tab_find(T, &f) == NULL, "... as a tombstone");
	T_EQ(T->files + T->locks + T->waiters + T->shares, 0, "counts zero");
	rd_init(&r, golden, sizeof(golden));
	d = brl_state_dec(&r, &why);
	d->version = 10;
	T_EQ(brl_tab_install(T, d, 1000, &in), 0, "a late older state does "
	    "not resurrect the file");
	buf_free(&b);
	buf_free(&b2);
	brl_tab_free(T);
}

static void
test_op_codec(void)
{
	struct brl_op	p, q;
	struct buf	b;
	const char	*why;

	memset(&p, 0, sizeof(p));
	p.op = BRL_OP_LOCK;
	p.flags = BRL_F_WAIT;
	p.f = file(9, 3);
	p.o = owner(1, "client", 42);
	p.r.start = 100;
	p.r.len = 5;
	p.r.excl = 1;
	p.blob = "xyz";
	p.bloblen = 3;
	buf_init(&b);
	brl_op_enc(&b, &p);
	T_EQ(brl_op_dec(b.data, b.len, &q, &why), 0, "op decodes");
	T_OK(q.op == p.op && q.flags == p.flags && q.f.expid == 9 &&
	    brl_owner_eq(&q.o, &p.o) && q.r.start == 100 && q.r.len == 5 &&
	    q.r.excl == 1 && q.bloblen == 3 && memcmp(q.blob, "xyz", 3) == 0,
	    "op round trip");
	T_EQ(brl_op_dec(b.data, b.len - 1, &q, &why), -1, "truncated op");
	buf_add_u8(&b, 0);
	T_EQ(brl_op_dec(b.data, b.len, &q, &why), -1, "trailing byte");
	b.data[0] = 2;
	T_EQ(brl_op_dec(b.data, b.len - 1, &q, &why), -1, "format 2");
	buf_reset(&b);
	p.r.start = UINT64_MAX;
	p.r.len = 2;
	brl_op_enc(&b, &p);
	T_EQ(brl_op_dec(b.data, b.len, &q, &why), -1, "overflowing range");
	buf_reset(&b);
	p.r.start = 0;
	p.op = 99;
	brl_op_enc(&b, &p);
	T_EQ(brl_op_dec(b.data, b.len, &q, &why), -1, "unknown op");
	buf_free(&b);
}

/* ---- replication: states installed in any order give the same copy */

struct states {
	struct buf	*v;
	size_t		 n, cap;
};

static void
collect(struct brl_fent *fe, void *arg)
{
	struct states *st = arg;

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 64;
		st->v = xrealloc(st->v, st->cap * sizeof(*st->v));
	}
	buf_init(&st->v[st->n]);
	brl_state_enc(&st->v[st->n], fe);
	st->n++;
}

struct cmp_arg {
	struct brl_tab	*other;
	int		 diff;
};

static void
cmp_file(struct brl_fent *fe, void *arg)
{
	struct cmp_arg	*a = arg;
	struct brl_fent	*o;
	struct buf	 x, y;

	if (fe->dead_ms != 0)
		return;
	o = brl_tab_find(a->other, &fe->f);
	buf_init(&x);
	buf_init(&y);
	brl_state_enc(&x, fe);
	if (o)
		brl_state_enc(&y, o);
	if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
		a->diff++;
	buf_free(&x);
	buf_free(&y);
}

static void
test_replica_order(void)
{
	struct brl_tab	*arb, *rep[3];
	struct states	 st = { NULL, 0, 0 };
	struct brl_owner o[4];
	struct brl_op	 p;
	struct brl_res	 res;
	struct cmp_arg	 ca;
	struct rd	 r;
	const char	*why;
	uint64_t	 seed = 12345;
	size_t		 i, k, bad = 0;
	int		 t, diffs = 0;

	arb = brl_tab_new(64, 0);
	for (i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "h%zu", i);
		o[i] = owner(1, name, (uint32_t)i);
	}
	for (i = 0; i < 3000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		memset(&p, 0, sizeof(p));
		p.f = file(1, (uint8_t)((seed >> 33) % 6));
		p.o = o[(seed >> 40) % 4];
		p.r.start = (seed >> 20) % 64;
		p.r.len = (seed >> 44) % 16;
		p.r.excl = (int)((seed >> 50) & 1);
		switch ((seed >> 52) % 8) {
		case 0: case 1: case 2:
			p.op = BRL_OP_LOCK;
			p.flags = (seed >> 56) & 1 ? BRL_F_WAIT : 0;
			break;
		case 3: case 4: case 5:
			p.op = BRL_OP_UNLOCK;
			break;
		case 6:
			p.op = BRL_OP_CANCEL;
			break;
		default:
			p.op = BRL_OP_FREE_CLIENT;
			p.o.svid = 0;
			p.o.proto = 0;
			break;
		}
		brl_tab_apply(arb, &p, 0, 1000 + i, &res, collect, &st);
	}
	T_OK(st.n > 1000, "3000 random operations made %zu states", st.n);
	/* three replicas: in order, reversed, shuffled (with duplicates) */
	for (t = 0; t < 3; t++) {
		rep[t] = brl_tab_new(64, 0);
		for (k = 0; k < st.n + (t == 2 ? st.n / 2 : 0); k++) {
			if (t == 0)
				i = k;
			else if (t == 1)
				i = st.n - 1 - k;
			else {
				seed = seed * 6364136223846793005ULL + 1;
				i = (size_t)((seed >> 33) % st.n);
			}
			rd_init(&r, st.v[i].data, st.v[i].len);
			struct brl_fent *fe = brl_state_dec(&r, &why);
			if (fe == NULL) {
				bad++;
				continue;
			}
			brl_tab_install(rep[t], fe, 1000, NULL);
		}
		if (t == 2)	/* the shuffle may miss some: install all once
				 * more, in reverse, as a SYNC would */
			for (k = st.n; k-- > 0; ) {
				rd_init(&r, st.v[k].data, st.v[k].len);
				brl_tab_install(rep[t], brl_state_dec(&r, &why),
				    1000, NULL);
			}
		ca.other = rep[t];
		ca.diff = 0;
		brl_tab_walk(arb, 0, arb->nb, cmp_file, &ca);
		diffs += ca.diff;
		ca.other = arb;
		ca.diff = 0;
		brl_tab_walk(rep[t], 0, rep[t]->nb, cmp_file, &ca);
		diffs += ca.diff;
		T_OK(rep[t]->locks == arb->locks && rep[t]->waiters ==
		    arb->waiters && rep[t]->files == arb->files,
		    "replica %d counts equal the arbiter's (%llu locks, %llu "
		    "waiters, %llu files)", t, (unsigned long long)
		    rep[t]->locks, (unsigned long long)rep[t]->waiters,
		    (unsigned long long)rep[t]->files);
		brl_tab_free(rep[t]);
	}
	T_EQ(bad, 0, "every state decodes");
	T_EQ(diffs, 0, "replicas built in order, reversed and shuffled equal "
	    "the arbiter file by file");
	for (i = 0; i < st.n; i++)
		buf_free(&st.v[i]);
	free(st.v);
	brl_tab_free(arb);
}

#define CONF \
	"cluster demo\nkey \"/tmp/k\"\n" \
	"head A {\n id 1\n role master\n link 127.0.0.11:7401\n" \
	" statedir /tmp/a\n}\n" \
	"head B {\n id 2\n role slave\n link 127.0.0.12:7401\n" \
	" statedir /tmp/b\n}\n"

static void
test_cfg(void)
{
	struct cfg	*c = xcalloc(1, sizeof(*c));
	char		 err[256];
	const char	*ok = CONF "nlm {\n grace-period 0\n max-locks 500\n}\n";
	const char	*bad = CONF "nlm {\n grace-period 3601\n}\n";
	const char	*bad2 = CONF "nlm {\n max-locks 99\n}\n";

	T_EQ(cfg_parse_buf("t.conf", CONF, strlen(CONF), c, err, sizeof(err)),
	    0, "config without nlm block");
	T_EQ(c->nlm_grace_s, 45, "default grace period 45 s");
	T_EQ(c->nlm_max_locks, 100000, "default max-locks 100000");
	T_EQ(cfg_parse_buf("t.conf", ok, strlen(ok), c, err, sizeof(err)), 0,
	    "nlm block parses");
	T_EQ(c->nlm_grace_s, 0, "grace-period 0");
	T_EQ(c->nlm_max_locks, 500, "max-locks 500");
	T_EQ(cfg_parse_buf("t.conf", bad, strlen(bad), c, err, sizeof(err)),
	    -1, "grace-period 3601 refused");
	T_OK(strstr(err, "t.conf:16:") != NULL, "the error names the line: %s",
	    err);
	T_EQ(cfg_parse_buf("t.conf", bad2, strlen(bad2), c, err, sizeof(err)),
	    -1, "max-locks 99 refused");
	free(c);
}

int
main(void)
{
	test_conflicts();
	test_posix();
	test_waiters();
	test_deadlock();
	test_shares();
	test_free_limit_grace();
	test_codec();
	test_op_codec();
	test_replica_order();
	test_cfg();
	return t_done();
}

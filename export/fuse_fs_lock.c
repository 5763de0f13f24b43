/*
 * fuse_fs_lock.c — byte-range locks of the FUSE export layer: getlk,
 * setlk (POSIX) and flock, kept in a lock table backend
 * (struct fuse_fs_lockops) instead of the kernel, so that the cluster's
 * table (pso/brl.h) sees SMB locks next to NLM ones.  Also the
 * in-process backend for the stand-alone test tool.
 *
 * Names: the file is (export id, kernel handle of the backing file from
 * name_to_handle_at), the same as NLM's (export/nfs_fh.c), so both
 * protocols lock the same entry.  The owner is (BRL_PROTO_SMB, this
 * head's name, the kernel's lock owner: 8 bytes, plus a ninth byte 'F'
 * for flock so that a descriptor's flock and a process' POSIX locks stay
 * different owners).  A flock is a lock of the whole file in the same
 * table, like the Linux NFS client's flock emulation: flock and fcntl
 * locks on one file therefore conflict here, unlike on a local Linux
 * file system.  The kernel does not say which process holds a
 * conflicting lock, so F_GETLK reports l_pid 0.
 *
 * Open file description locks (F_OFD_SETLK, which Samba uses): the
 * kernel names their owner by the open file, but does not tell a FUSE
 * file system when such a lock goes with the last close (it handles
 * only POSIX locks at flush, and flock at release).  So the layer notes
 * which owner locked through which open file (fi->fh) and, when that
 * file is released, drops the locks of every owner that used no other
 * open file: an OFD owner only ever uses its own file; a process' POSIX
 * owner that locked through another open file of the same inode keeps
 * its locks (flush dropped them at each close already).
 *
 * A blocking F_SETLKW polls (10 ms growing to 100 ms) instead of
 * queuing a waiter: the worker thread is free to notice a FUSE interrupt
 * (the caller got a signal: EINTR), a closed gate or fuse_fs_stop (EIO);
 * libfuse starts more workers meanwhile.  A polled lock is not granted
 * in arrival order against NLM waiters; see docs/fuse.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "export/fuse_fs_int.h"

/* The lock table's name of n's backing file; made on first use. */
static int
file_key(struct fuse_fs *fs, struct fs_inode *n, struct brl_file *f)
{
	union {
		struct file_handle	h;
		uint8_t			b[sizeof(struct file_handle) + 128];
	} u;
	int	mnt, err = 0;

	pthread_mutex_lock(&n->khmu);
	if (!n->khok) {
		u.h.handle_bytes = 128;
		if (name_to_handle_at(n->fd, "", &u.h, &mnt,
		    AT_EMPTY_PATH) < 0)
			err = errno == EOPNOTSUPP ? ENOLCK : errno;
		else if (u.h.handle_bytes == 0 ||
		    u.h.handle_bytes > BRL_KH_MAX || u.h.handle_type < 0 ||
		    u.h.handle_type > 255)
			err = ENOLCK;
		else {
			memset(&n->bf, 0, sizeof(n->bf));
			n->bf.expid = fs->conf.expid;
			n->bf.khtype = (uint8_t)u.h.handle_type;
			n->bf.khlen = (uint8_t)u.h.handle_bytes;
			memcpy(n->bf.kh, u.h.f_handle, u.h.handle_bytes);
			n->khok = 1;
		}
	}
	if (err == 0)
		*f = n->bf;
	pthread_mutex_unlock(&n->khmu);
	return err;
}

static void
owner_make(struct fuse_fs *fs, uint64_t lock_owner, int flock,
    struct brl_owner *o)
{
	int	i;

	memset(o, 0, sizeof(*o));
	o->proto = BRL_PROTO_SMB;
	memcpy(o->client, fs->head, sizeof(o->client));
	for (i = 0; i < 8; i++)
		o->oh[i] = (uint8_t)(lock_owner >> (8 * i));
	o->ohlen = 8;
	if (flock)
		o->oh[o->ohlen++] = 'F';
}

/* struct flock (l_len 0: to the end) -> a range; EINVAL when negative */
static int
range_of(const struct flock *l, struct brl_range *r)
{
	if (l->l_start < 0 || l->l_len < 0)
		return EINVAL;
	r->start = (uint64_t)l->l_start;
	r->len = (uint64_t)l->l_len;
	r->excl = l->l_type == F_WRLCK;
	return 0;
}

static int
brl_errno(int rc)
{
	switch (rc) {
	case BRL_OK:
		return 0;
	case BRL_DENIED:
	case BRL_BLOCKED:
		return EAGAIN;
	case BRL_DEADLCK:
		return EDEADLK;
	case BRL_INVAL:
		return EINVAL;
	default:		/* GRACE, NOLOCKS, UNAVAIL */
		return ENOLCK;
	}
}

void
fs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *lock)
{
	struct fuse_fs		*fs = fs_of(req);
	struct brl_file		 f;
	struct brl_owner	 o, h;
	struct brl_range	 r, hr;
	int			 err, rc;

	ENTER(req);
	if ((err = file_key(fs, fs_inode(req, ino), &f)) != 0 ||
	    (err = range_of(lock, &r)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	owner_make(fs, fi->lock_owner, 0, &o);
	rc = fs->locks->test(&f, &o, &r, &h, &hr);
	if (rc == BRL_OK)
		lock->l_type = F_UNLCK;
	else if (rc == BRL_DENIED) {
		lock->l_type = hr.excl ? F_WRLCK : F_RDLCK;
		lock->l_whence = SEEK_SET;
		lock->l_start = (off_t)hr.start;
		lock->l_len = hr.len > INT64_MAX ? 0 : (off_t)hr.len;
		lock->l_pid = 0;
	} else {
		fuse_reply_err(req, brl_errno(rc));
		return;
	}
	fuse_reply_lock(req, lock);
}

static void
nap(int ms)
{
	struct timespec	ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Lock (or unlock) r for o, waiting when wait is set.  0 or an errno.
 * The wait ends on a FUSE interrupt (EINTR), the gate or stop (EIO).
 */
static int
do_lock(fuse_req_t req, const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, int unlock, int wait)
{
	struct fuse_fs	*fs = fs_of(req);
	int		 rc, ms = 10, counted = 0;

	if (unlock)
		return brl_errno(fs->locks->unlock(f, o, r));
	for (;;) {
		rc = fs->locks->lock(f, o, r, 0, NULL, NULL);
		if (!wait || (rc != BRL_DENIED && rc != BRL_UNAVAIL &&
		    rc != BRL_GRACE))
			return brl_errno(rc);
		if (!counted) {
			atomic_fetch_add(&fs->lock_waits, 1);
			counted = 1;
		}
		nap(ms);
		if (ms < 100)
			ms += 10;
		if (fuse_req_interrupted(req))
			return EINTR;
		if (!fs_gate_ok(fs))
			return EIO;
	}
}

/* note that owner locked through open file fh of n (once) */
static int
lkuse_note(struct fs_inode *n, uint64_t fh, uint64_t owner)
{
	struct fs_lkuse	*nv;
	size_t		 i;
	int		 err = 0;

	pthread_mutex_lock(&n->khmu);
	for (i = 0; i < n->nlku; i++)
		if (n->lku[i].fh == fh && n->lku[i].owner == owner)
			goto out;
	if (n->nlku == n->caplku) {
		size_t	nc = n->caplku ? n->caplku * 2 : 4;

		if ((nv = realloc(n->lku, nc * sizeof(*nv))) == NULL) {
			err = ENOMEM;
			goto out;
		}
		n->lku = nv;
		n->caplku = nc;
	}
	n->lku[n->nlku].fh = fh;
	n->lku[n->nlku].owner = owner;
	n->nlku++;
out:
	pthread_mutex_unlock(&n->khmu);
	return err;
}

void
fs_release_locks(struct fuse_fs *fs, struct fs_inode *n, uint64_t fh)
{
	uint64_t	 stack[8], *drop = stack;
	size_t		 i, j, nd = 0, keep;
	int		 other;

	pthread_mutex_lock(&n->khmu);
	if (n->nlku > 8 && (drop = malloc(n->nlku * sizeof(*drop))) == NULL)
		drop = stack;	/* drop at most 8 now; the rest stay */
	for (i = 0, keep = 0; i < n->nlku; i++) {
		if (n->lku[i].fh != fh) {
			n->lku[keep++] = n->lku[i];
			continue;
		}
		if (drop == stack && nd == 8) {
			n->lku[keep++] = n->lku[i];
			continue;
		}
		drop[nd++] = n->lku[i].owner;
	}
	n->nlku = keep;
	pthread_mutex_unlock(&n->khmu);
	for (i = 0; i < nd; i++) {
		other = 0;
		pthread_mutex_lock(&n->khmu);
		for (j = 0; j < n->nlku; j++)
			if (n->lku[j].owner == drop[i])
				other = 1;
		pthread_mutex_unlock(&n->khmu);
		if (!other)
			fs_unlock_owner(fs, n, drop[i], 0);
	}
	if (drop != stack)
		free(drop);
}

void
fs_inode_locks_free(struct fs_inode *n)
{
	free(n->lku);
	n->lku = NULL;
	n->nlku = n->caplku = 0;
}

void
fs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *lock, int sleep)
{
	struct fuse_fs		*fs = fs_of(req);
	struct brl_file		 f;
	struct brl_owner	 o;
	struct brl_range	 r;
	int			 err;

	/* an unlock passes a closed gate: the table must not keep locks
	 * of a process that is gone (the kernel sends it on close) */
	if (lock->l_type != F_UNLCK)
		ENTER(req);
	if ((err = file_key(fs, fs_inode(req, ino), &f)) != 0 ||
	    (err = range_of(lock, &r)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	owner_make(fs, fi->lock_owner, 0, &o);
	err = do_lock(req, &f, &o, &r, lock->l_type == F_UNLCK, sleep);
	if (err == 0 && lock->l_type != F_UNLCK &&
	    lkuse_note(fs_inode(req, ino), fi->fh, fi->lock_owner) != 0) {
		/* without the note the lock could outlive its file */
		do_lock(req, &f, &o, &r, 1, 0);
		err = ENOLCK;
	}
	fuse_reply_err(req, err);
}

void
fs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct fuse_fs		*fs = fs_of(req);
	struct brl_file		 f;
	struct brl_owner	 o;
	struct brl_range	 r = { 0, 0, 0 };
	int			 err, un = (op & LOCK_UN) != 0;

	if (!un)
		ENTER(req);
	if ((err = file_key(fs, fs_inode(req, ino), &f)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	owner_make(fs, fi->lock_owner, 1, &o);
	r.excl = (op & LOCK_EX) != 0;
	/* flock converts: the new mode replaces the old one */
	err = do_lock(req, &f, &o, &r, un, !(op & LOCK_NB));
	fuse_reply_err(req, err == EAGAIN ? EWOULDBLOCK : err);
}

void
fs_unlock_owner(struct fuse_fs *fs, struct fs_inode *n, uint64_t owner,
    int flock)
{
	struct brl_file		f;
	struct brl_owner	o;
	struct brl_range	r = { 0, 0, 0 };

	/* no lock was ever taken on this node through this mount */
	pthread_mutex_lock(&n->khmu);
	if (!n->khok) {
		pthread_mutex_unlock(&n->khmu);
		return;
	}
	f = n->bf;
	pthread_mutex_unlock(&n->khmu);
	owner_make(fs, owner, flock, &o);
	fs->locks->unlock(&f, &o, &r);
}

/* ---- the in-process table (stand-alone test tool) ---- */

struct ll_lock {
	struct brl_file		f;
	struct brl_owner	o;
	uint64_t		start, last;	/* inclusive */
	int			excl;
};

static pthread_mutex_t	 ll_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ll_lock	*ll_v;
static size_t		 ll_n, ll_cap;

static int
ll_same_file(const struct brl_file *a, const struct brl_file *b)
{
	return a->expid == b->expid && a->khtype == b->khtype &&
	    a->khlen == b->khlen && memcmp(a->kh, b->kh, a->khlen) == 0;
}

static int
ll_same_owner(const struct brl_owner *a, const struct brl_owner *b)
{
	return a->proto == b->proto && a->svid == b->svid &&
	    a->ohlen == b->ohlen && memcmp(a->oh, b->oh, a->ohlen) == 0 &&
	    strcmp(a->client, b->client) == 0;
}

static int
ll_bounds(const struct brl_range *r, uint64_t *s, uint64_t *l)
{
	*s = r->start;
	if (r->len == 0)
		*l = UINT64_MAX;
	else if (r->len - 1 > UINT64_MAX - r->start)
		return BRL_INVAL;
	else
		*l = r->start + r->len - 1;
	return BRL_OK;
}

static int
ll_add(const struct ll_lock *k)
{
	struct ll_lock	*nv;

	if (ll_n == ll_cap) {
		size_t	nc = ll_cap ? ll_cap * 2 : 64;

		if ((nv = realloc(ll_v, nc * sizeof(*nv))) == NULL)
			return BRL_NOLOCKS;
		ll_v = nv;
		ll_cap = nc;
	}
	ll_v[ll_n++] = *k;
	return BRL_OK;
}

/* conflicting entry or NULL; ll_mu held */
static struct ll_lock *
ll_conflict(const struct brl_file *f, const struct brl_owner *o,
    uint64_t s, uint64_t l, int excl)
{
	size_t	i;

	for (i = 0; i < ll_n; i++) {
		struct ll_lock	*k = &ll_v[i];

		if (ll_same_file(&k->f, f) && !ll_same_owner(&k->o, o) &&
		    k->start <= l && s <= k->last && (excl || k->excl))
			return k;
	}
	return NULL;
}

/* remove o's locks in [s, l], splitting what straddles; ll_mu held */
static int
ll_remove(const struct brl_file *f, const struct brl_owner *o, uint64_t s,
    uint64_t l)
{
	size_t	i = 0;

	while (i < ll_n) {
		struct ll_lock	*k = &ll_v[i], right;

		if (!ll_same_file(&k->f, f) || !ll_same_owner(&k->o, o) ||
		    k->last < s || l < k->start) {
			i++;
			continue;
		}
		if (k->start < s && k->last > l) {
			right = *k;
			right.start = l + 1;
			k->last = s - 1;
			if (ll_add(&right) != BRL_OK)
				return BRL_NOLOCKS;
			i++;
		} else if (k->start < s) {
			k->last = s - 1;
			i++;
		} else if (k->last > l) {
			k->start = l + 1;
			i++;
		} else
			ll_v[i] = ll_v[--ll_n];
	}
	return BRL_OK;
}

static void
ll_holder(const struct ll_lock *k, struct brl_owner *h,
    struct brl_range *hr)
{
	if (h != NULL)
		*h = k->o;
	if (hr != NULL) {
		hr->start = k->start;
		hr->len = k->last == UINT64_MAX ? 0 : k->last - k->start + 1;
		hr->excl = k->excl;
	}
}

static int
ll_lock(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, int flags, struct brl_owner *h,
    struct brl_range *hr)
{
	struct ll_lock	 k, *c;
	uint64_t	 s, l;
	int		 rc;

	(void)flags;
	if ((rc = ll_bounds(r, &s, &l)) != BRL_OK)
		return rc;
	pthread_mutex_lock(&ll_mu);
	if ((c = ll_conflict(f, o, s, l, r->excl)) != NULL) {
		ll_holder(c, h, hr);
		rc = BRL_DENIED;
	} else if ((rc = ll_remove(f, o, s, l)) == BRL_OK) {
		memset(&k, 0, sizeof(k));
		k.f = *f;
		k.o = *o;
		k.start = s;
		k.last = l;
		k.excl = r->excl != 0;
		rc = ll_add(&k);
	}
	pthread_mutex_unlock(&ll_mu);
	return rc;
}

static int
ll_unlock(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r)
{
	uint64_t	s, l;
	int		rc;

	if ((rc = ll_bounds(r, &s, &l)) != BRL_OK)
		return rc;
	pthread_mutex_lock(&ll_mu);
	rc = ll_remove(f, o, s, l);
	pthread_mutex_unlock(&ll_mu);
	return rc;
}

static int
ll_test(const struct brl_file *f, const struct brl_owner *o,
    const struct brl_range *r, struct brl_owner *h, struct brl_range *hr)
{
	struct ll_lock	*c;
	uint64_t	 s, l;
	int		 rc;

	if ((rc = ll_bounds(r, &s, &l)) != BRL_OK)
		return rc;
	pthread_mutex_lock(&ll_mu);
	if ((c = ll_conflict(f, o, s, l, r->excl)) != NULL) {
		ll_holder(c, h, hr);
		rc = BRL_DENIED;
	}
	pthread_mutex_unlock(&ll_mu);
	return rc;
}

const struct fuse_fs_lockops fuse_fs_local_lockops = {
	.lock	= ll_lock,
	.unlock	= ll_unlock,
	.test	= ll_test,
};

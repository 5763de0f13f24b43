/*
 * nfs_secprobe.c — an allowed client turned attacker: hand-made ONC RPC
 * records that no well-behaved client sends, each a regression test for
 * a finding of a security review of the NFS server.
 *
 *   nfs_secprobe DST PORT TOP
 *
 * TOP is the test's directory, exported by the server under test as
 *   TOP/rw   -id=1,rw,no_root_squash *      TOP/squash -id=2,rw,root_squash *
 *   TOP/rw2  -id=6,rw,no_root_squash *      TOP/sec    -id=5,rw,secure,no_root_squash *
 * (one file system).  This program runs as root on the server's machine
 * and also prepares and inspects files below TOP directly.  Checks:
 *   - forged handles (the kernel handle of a file outside every export,
 *     in the old and the new layout, with a made-up MAC) and relabelled
 *     handles (a real handle with another export id) get NFS3ERR_STALE
 *     on every procedure and change nothing;
 *   - a file or directory moved out of the export, or hard-linked out
 *     and unlinked inside, goes stale;
 *   - names and paths holding a NUL byte get NFS3ERR_INVAL/MNT3ERR_INVAL;
 *   - MOUNT with thousands of spellings of one path, and from thousands
 *     of addresses, keeps a bounded mount list;
 *   - RPC authentication errors (AUTH_BADCRED, AUTH_TOOWEAK);
 *   - ACCESS answers what the kernel's permission check decides;
 *   - SETATTR of a symlink's times is done, of its mode refused.
 * Prints TAP-like lines and "N passed, N failed"; exit 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/nfs/rpc_raw.h"
#include "tests/unit/t.h"

#define NFS_PROG	100003
#define MNT_PROG	100005
#define STALE		70
#define INVAL		22
#define BADHANDLE	10001
#define MSG_DENIED_AUTH	RR_DENIED_AUTH	/* rpc(): AUTH_ERROR, less auth_stat */

static const struct rr_cred root_cred = { RR_AUTH_UNIX, 0, 0, 0, { 0 } };
static const char *dst;
static int port;
static char top[512];
static uint32_t xid;		/* random start: the server's duplicate
				 * request cache must not answer a rerun */

/* ---- encoding and transport ------------------------------------------ */

static void
sattr_none(struct rr_msg *m)
{
	for (int i = 0; i < 6; i++)
		rr_u32(m, 0);
}

/* A version 3 call of prog with the next xid. */
static void
call(struct rr_msg *m, uint32_t prog, uint32_t proc, const struct rr_cred *c)
{
	rr_call(m, ++xid, prog, 3, proc, c);
}

static struct rr_msg rin = RR_MSG_INIT;		/* the last reply */

/*
 * Send m and read the reply.  Returns the first result word (an
 * nfsstat3 / mountstat3) with *res pointing at it, -1 on a transport
 * problem or an RPC error other than authentication, or MSG_DENIED_AUTH
 * - auth_stat when the call was refused at the RPC level.  m is sent
 * once: its memory is freed, the next call() starts it again.
 */
static long
rpc(int fd, struct rr_msg *m, const uint8_t **res, size_t *reslen)
{
	const uint8_t	*r = NULL;
	size_t		 rl = 0;
	long		 st;

	st = rr_roundtrip(fd, m, &rin, 2 * 1024 * 1024, 5000, &r, &rl);
	rr_free(m);
	if (st <= MSG_DENIED_AUTH)
		return st;
	if (st != 0)				/* accept_stat */
		return -1;
	if (res != NULL)
		*res = r;
	if (reslen != NULL)
		*reslen = rl;
	return rl >= 4 ? (long)rr_get32(r) : 0;
}

/* ---- handles ---------------------------------------------------------- */

struct fh {
	uint8_t		b[64];
	uint32_t	len;
};

/* st of a MNT or LOOKUP; when 0, the handle that follows it in r (rl
 * bytes) into out (if not NULL).  -1 when that handle does not fit. */
static long
take_fh(long st, const uint8_t *r, size_t rl, struct fh *out)
{
	if (st != 0 || out == NULL)
		return st;
	if (rl < 8)
		return -1;
	out->len = rr_get32(r + 4);
	if (out->len > 64 || rl < 8 + out->len)
		return -1;
	memcpy(out->b, r + 8, out->len);
	return 0;
}

static long
mnt(int fd, const char *path, size_t pathlen, struct fh *out)
{
	struct rr_msg	 m = RR_MSG_INIT;
	const uint8_t	*r = NULL;
	size_t		 rl = 0;
	long		 st;

	call(&m, MNT_PROG, 1, &root_cred);
	rr_opaque(&m, path, (uint32_t)pathlen);
	st = rpc(fd, &m, &r, &rl);
	return take_fh(st, r, rl, out);
}

static long
lookup(int fd, const struct rr_cred *c, const struct fh *dir, const char *name,
    size_t namelen, struct fh *out)
{
	struct rr_msg	 m = RR_MSG_INIT;
	const uint8_t	*r = NULL;
	size_t		 rl = 0;
	long		 st;

	call(&m, NFS_PROG, 3, c);
	rr_opaque(&m, dir->b, dir->len);
	rr_opaque(&m, name, (uint32_t)namelen);
	st = rpc(fd, &m, &r, &rl);
	return take_fh(st, r, rl, out);
}

static long
getattr(int fd, const struct rr_cred *c, const struct fh *h)
{
	struct rr_msg m = RR_MSG_INIT;

	call(&m, NFS_PROG, 1, c);
	rr_opaque(&m, h->b, h->len);
	return rpc(fd, &m, NULL, NULL);
}

/* ACCESS: status; *got = the access bits granted. */
static long
access3(int fd, const struct rr_cred *c, const struct fh *h, uint32_t want,
    uint32_t *got)
{
	struct rr_msg	 m = RR_MSG_INIT;
	const uint8_t	*r;
	size_t		 rl;
	long		 st;
	size_t		 off;

	call(&m, NFS_PROG, 4, c);
	rr_opaque(&m, h->b, h->len);
	rr_u32(&m, want);
	st = rpc(fd, &m, &r, &rl);
	*got = 0xdead;
	if (st == 0) {
		off = 4;			/* post_op_attr */
		off += rr_get32(r + off) ? 4 + 84 : 4;
		if (off + 4 <= rl)
			*got = rr_get32(r + off);
	}
	return st;
}

/* The kernel handle of path: type and bytes. */
static int
kernel_handle(const char *path, int *type, uint8_t *kh, uint32_t *len)
{
	union {
		struct file_handle	h;
		uint8_t			b[sizeof(struct file_handle) + 128];
	} u;
	int mnt_id;

	u.h.handle_bytes = 128;
	if (name_to_handle_at(AT_FDCWD, path, &u.h, &mnt_id, 0) < 0)
		return -1;
	*type = u.h.handle_type;
	*len = u.h.handle_bytes;
	memcpy(kh, u.h.f_handle, u.h.handle_bytes);
	return 0;
}

/* What an attacker builds from a guessed kernel handle: the current
 * layout (version 2) with a made-up MAC, or the old one (version 1). */
static void
forge(struct fh *f, int version, uint32_t expid, int type, const uint8_t *kh,
    uint32_t khlen)
{
	f->b[0] = (uint8_t)version;
	f->b[1] = (uint8_t)type;
	f->b[2] = expid >> 24;
	f->b[3] = expid >> 16;
	f->b[4] = expid >> 8;
	f->b[5] = expid;
	f->b[6] = (uint8_t)khlen;
	memcpy(f->b + 7, kh, khlen);
	f->len = 7 + khlen;
	if (version == 2) {
		for (int i = 0; i < 16; i++)
			f->b[f->len + i] = (uint8_t)(0x5a ^ (i * 29));
		f->len += 16;
	}
}

static void
relabel(struct fh *f, uint32_t expid)
{
	f->b[2] = expid >> 24;
	f->b[3] = expid >> 16;
	f->b[4] = expid >> 8;
	f->b[5] = expid;
}

/* Every NFS v3 procedure but NULL with bad as its (first or only)
 * handle and good where a second handle is needed; each must answer
 * want.  Returns how many did not. */
static int
every_proc(int fd, const struct fh *bad, const struct fh *good, long want,
    const char *what)
{
	static const char *const names[22] = { "NULL", "GETATTR", "SETATTR",
	    "LOOKUP", "ACCESS", "READLINK", "READ", "WRITE", "CREATE",
	    "MKDIR", "SYMLINK", "MKNOD", "REMOVE", "RMDIR", "RENAME", "LINK",
	    "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO", "PATHCONF",
	    "COMMIT" };
	struct rr_msg	m = RR_MSG_INIT;
	int		bad_n = 0;
	long		st;

	for (uint32_t p = 1; p < 22; p++) {
		call(&m, NFS_PROG, p, &root_cred);
		rr_opaque(&m, bad->b, bad->len);
		switch (p) {
		case 2:	sattr_none(&m); rr_u32(&m, 0); break;
		case 3: case 12: case 13: rr_str(&m, "probe"); break;
		case 4:	rr_u32(&m, 0x3f); break;
		case 6:	rr_u64(&m, 0); rr_u32(&m, 4096); break;
		case 7:	rr_u64(&m, 0); rr_u32(&m, 5); rr_u32(&m, 2);
			rr_opaque(&m, "owned", 5); break;
		case 8:	rr_str(&m, "probe"); rr_u32(&m, 0); sattr_none(&m);
			break;
		case 9:	rr_str(&m, "probe"); sattr_none(&m); break;
		case 10: rr_str(&m, "probe"); sattr_none(&m);
			rr_str(&m, "/etc"); break;
		case 11: rr_str(&m, "probe"); rr_u32(&m, 7); sattr_none(&m);
			break;
		case 14: rr_str(&m, "probe"); rr_opaque(&m, good->b, good->len);
			rr_str(&m, "probe2"); break;
		case 15: rr_opaque(&m, good->b, good->len); rr_str(&m, "probe");
			break;
		case 16: rr_u64(&m, 0); rr_u64(&m, 0); rr_u32(&m, 4096); break;
		case 17: rr_u64(&m, 0); rr_u64(&m, 0); rr_u32(&m, 4096);
			rr_u32(&m, 8192); break;
		case 21: rr_u64(&m, 0); rr_u32(&m, 0); break;
		default: break;
		}
		st = rpc(fd, &m, NULL, NULL);
		T_EQ(st, want, names[p]);
		if (st != want) {
			printf("#   %s: %s answered %ld\n", what, names[p], st);
			bad_n++;
		}
	}
	return bad_n;
}

/* ---- local files -------------------------------------------------------- */

static void
path_of(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", top, rel);
}

static int
write_file(const char *rel, const char *text, mode_t mode, uid_t uid,
    gid_t gid)
{
	char	p[1024];
	int	fd;

	path_of(p, sizeof(p), rel);
	unlink(p);
	if ((fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	close(fd);
	if (chown(p, uid, gid) < 0 || chmod(p, mode) < 0)
		return -1;
	return 0;
}

static int
exists(const char *rel)
{
	char		p[1024];
	struct stat	st;

	path_of(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the checks ------------------------------------------------------- */

static void
check_forged(int fd, const struct fh *r1)
{
	struct fh	f, h, h6;
	uint8_t		kh[128];
	uint32_t	khlen = 0;
	int		type = 0;
	char		p[1024], buf[64];
	int		sfd;
	ssize_t		n;

	T_OK(write_file("secret", "top secret\n", 0600, 0, 0) == 0,
	    "a file outside every export");
	path_of(p, sizeof(p), "secret");
	T_OK(kernel_handle(p, &type, kh, &khlen) == 0, "its kernel handle");
	forge(&f, 2, 1, type, kh, khlen);
	T_EQ(every_proc(fd, &f, r1, STALE, "forged v2"), 0,
	    "a forged handle is STALE on every procedure");
	forge(&f, 1, 1, type, kh, khlen);
	T_EQ(every_proc(fd, &f, r1, STALE, "forged v1"), 0,
	    "an old-layout forged handle is STALE on every procedure");
	sfd = open(p, O_RDONLY);
	n = sfd >= 0 ? read(sfd, buf, sizeof(buf) - 1) : -1;
	if (sfd >= 0)
		close(sfd);
	buf[n > 0 ? n : 0] = 0;
	T_OK(strcmp(buf, "top secret\n") == 0, "the file outside is untouched");
	T_OK(!exists("probe") && !exists("probe2"), "nothing was created "
	    "outside the exports");

	/* relabelled: a real handle with another export's id */
	T_OK(write_file("rw/hello.txt", "hello nfs\n", 0644, 0, 0) == 0,
	    "a file in export 1");
	T_EQ(lookup(fd, &root_cred, r1, "hello.txt", 9, &h), 0, "LOOKUP");
	T_EQ(getattr(fd, &root_cred, &h), 0, "its handle works");
	h6 = h;
	relabel(&h6, 6);
	T_EQ(every_proc(fd, &h6, r1, STALE, "relabelled"), 0,
	    "the handle relabelled to export 6 is STALE on every procedure");
	f = *r1;
	relabel(&f, 6);
	T_EQ(getattr(fd, &root_cred, &f), STALE,
	    "export 1's root relabelled to export 6: STALE");
	f = h;
	f.b[f.len - 1] ^= 1;
	T_EQ(getattr(fd, &root_cred, &f), STALE, "one MAC bit flipped: STALE");
	f = h;
	f.b[7] ^= 1;
	T_EQ(getattr(fd, &root_cred, &f), STALE,
	    "one kernel handle bit flipped: STALE");
	f = h;
	f.len = 7 + f.b[6];			/* no MAC at all */
	T_OK(getattr(fd, &root_cred, &f) == BADHANDLE,
	    "a handle without its MAC: BADHANDLE");
	T_EQ(getattr(fd, &root_cred, &h), 0, "the real handle still works");
}

static void
check_moved(int fd, const struct fh *r1)
{
	struct fh	hf, hd, hl;
	char		a[1024], b[1024];

	write_file("rw/mover", "m\n", 0644, 0, 0);
	write_file("rw/linked", "l\n", 0644, 0, 0);
	path_of(a, sizeof(a), "rw/dmover");
	rmdir(a);
	mkdir(a, 0755);
	T_EQ(lookup(fd, &root_cred, r1, "mover", 5, &hf), 0, "LOOKUP a file");
	T_EQ(lookup(fd, &root_cred, r1, "dmover", 6, &hd), 0,
	    "LOOKUP a directory");
	T_EQ(lookup(fd, &root_cred, r1, "linked", 6, &hl), 0,
	    "LOOKUP another file");
	T_EQ(getattr(fd, &root_cred, &hf), 0, "the file's handle works");
	T_EQ(getattr(fd, &root_cred, &hd), 0, "the directory's handle works");

	path_of(a, sizeof(a), "rw/mover");
	path_of(b, sizeof(b), "moved_out");
	unlink(b);
	T_OK(rename(a, b) == 0, "the file is moved out of the export");
	path_of(a, sizeof(a), "rw/dmover");
	path_of(b, sizeof(b), "dmoved_out");
	rmdir(b);
	T_OK(rename(a, b) == 0, "the directory is moved out of the export");
	path_of(a, sizeof(a), "rw/linked");
	path_of(b, sizeof(b), "linked_out");
	unlink(b);
	T_OK(link(a, b) == 0, "the other file is hard-linked out");
	msleep(1200);				/* the inside-cache TTL */
	T_EQ(getattr(fd, &root_cred, &hf), STALE, "moved-out file: STALE");
	T_EQ(getattr(fd, &root_cred, &hd), STALE, "moved-out directory: STALE");
	T_EQ(getattr(fd, &root_cred, &hl), 0,
	    "hard-linked out but still inside: served");
	T_OK(unlink(a) == 0, "its name inside the export is removed");
	msleep(1200);
	T_EQ(getattr(fd, &root_cred, &hl), STALE,
	    "linked out, unlinked inside: STALE");
}

static void
check_names(int fd, const struct fh *r1)
{
	struct rr_msg	m = RR_MSG_INIT;
	char		p[1024];

	T_EQ(lookup(fd, &root_cred, r1, "hello.txt\0junk", 14, NULL), INVAL,
	    "LOOKUP hello.txt\\0junk: INVAL");
	call(&m, NFS_PROG, 8, &root_cred);		/* CREATE */
	rr_opaque(&m, r1->b, r1->len);
	rr_opaque(&m, "ab\0cd", 5);
	rr_u32(&m, 0);
	sattr_none(&m);
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL, "CREATE ab\\0cd: INVAL");
	T_OK(!exists("rw/ab"), "... and no file 'ab'");
	call(&m, NFS_PROG, 9, &root_cred);		/* MKDIR */
	rr_opaque(&m, r1->b, r1->len);
	rr_opaque(&m, "dd\0x", 4);
	sattr_none(&m);
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL, "MKDIR dd\\0x: INVAL");
	T_OK(!exists("rw/dd"), "... and no directory 'dd'");
	call(&m, NFS_PROG, 12, &root_cred);		/* REMOVE */
	rr_opaque(&m, r1->b, r1->len);
	rr_opaque(&m, "hello.txt\0x", 11);
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL, "REMOVE hello.txt\\0x: INVAL");
	T_OK(exists("rw/hello.txt"), "... and hello.txt is still there");
	call(&m, NFS_PROG, 14, &root_cred);		/* RENAME */
	rr_opaque(&m, r1->b, r1->len);
	rr_opaque(&m, "hello.txt\0", 10);
	rr_opaque(&m, r1->b, r1->len);
	rr_str(&m, "renamed");
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL, "RENAME from hello.txt\\0: INVAL");
	T_OK(exists("rw/hello.txt") && !exists("rw/renamed"),
	    "... and nothing was renamed");
	call(&m, NFS_PROG, 10, &root_cred);		/* SYMLINK */
	rr_opaque(&m, r1->b, r1->len);
	rr_str(&m, "sl_nul");
	sattr_none(&m);
	rr_opaque(&m, "/etc\0/../x", 10);
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL, "SYMLINK target with NUL: INVAL");
	T_OK(!exists("rw/sl_nul"), "... and no symlink");
	snprintf(p, sizeof(p), "%s/rw2", top);
	memcpy(p + strlen(p), "\0/../rw", 8);
	T_EQ(mnt(fd, p, strlen(top) + 4 + 7, NULL), INVAL,
	    "MNT rw2\\0/../rw: MNT3ERR_INVAL");
}

/* Entries of a DUMP reply for directory dir and this connection's
 * source address. */
static int
dump_count(int fd, const char *dir, int *total)
{
	struct sockaddr_in	 sa;
	socklen_t		 salen = sizeof(sa);
	struct rr_msg		 m = RR_MSG_INIT;
	const uint8_t		*r;
	size_t			 rl, off = 0, l;
	char			 me[64];
	int			 n = 0, mine;

	*total = 0;
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 ||
	    inet_ntop(AF_INET, &sa.sin_addr, me, sizeof(me)) == NULL)
		return -1;
	call(&m, MNT_PROG, 2, &root_cred);
	if (rpc(fd, &m, &r, &rl) < 0)
		return -1;
	while (off + 4 <= rl && rr_get32(r + off) == 1) {
		off += 4;
		l = rr_get32(r + off);			/* hostname */
		if (off + 4 + l > rl)
			return -1;
		mine = l == strlen(me) && memcmp(r + off + 4, me, l) == 0;
		off += 4 + ((l + 3) & ~3u);
		l = rr_get32(r + off);			/* directory */
		if (off + 4 + l > rl)
			return -1;
		if (mine && l == strlen(dir) &&
		    memcmp(r + off + 4, dir, l) == 0)
			n++;
		off += 4 + ((l + 3) & ~3u);
		(*total)++;
	}
	return n;
}

static void
check_mountlist(int fd)
{
	char	p[4096], dir[1024];
	int	bad = 0, total, n, fails = 0;

	snprintf(dir, sizeof(dir), "%s/rw2", top);
	for (int i = 0; i < 2000; i++) {
		int k = i % 300;

		snprintf(p, sizeof(p), "%s%s", dir, i % 2 ? "/" : "");
		for (int j = 0; j < k && strlen(p) + 3 < 1000; j++)
			strcat(p, j % 3 ? "/." : "//.");
		if (mnt(fd, p, strlen(p), NULL) != 0)
			bad++;
	}
	T_EQ(bad, 0, "2000 spellings of one export path all mount");
	n = dump_count(fd, dir, &total);
	T_EQ(n, 1, "... and DUMP lists it once for this client");
	/* many client addresses: the list stays bounded */
	for (int i = 0; i < 4200; i++) {
		char	src[32];
		int	cfd;

		snprintf(src, sizeof(src), "127.%d.%d.%d", 80 + i / 60000,
		    (i / 250) % 250 + 1, i % 250 + 1);
		if ((cfd = rr_dial(src, 0, dst, port)) < 0) {
			fails++;
			continue;
		}
		if (mnt(cfd, dir, strlen(dir), NULL) != 0)
			fails++;
		close(cfd);
	}
	T_EQ(fails, 0, "4200 client addresses mount");
	n = dump_count(fd, dir, &total);
	T_OK(total > 0 && total <= 4096, "DUMP holds at most 4096 entries "
	    "(%d)", total);
}

static void
check_auth(int fd, const struct fh *r1)
{
	struct rr_cred	c;
	struct rr_msg	m = RR_MSG_INIT;
	struct fh	rs;
	char		p[1024];
	int		sfd;

	memset(&c, 0, sizeof(c));
	c.flavor = 0;				/* AUTH_NONE */
	call(&m, NFS_PROG, 1, &c);
	rr_opaque(&m, r1->b, r1->len);
	T_EQ(rpc(fd, &m, NULL, NULL), MSG_DENIED_AUTH - 5,
	    "AUTH_NONE on a sec=sys export: AUTH_TOOWEAK");
	c.flavor = 1;
	c.ngids = 17;				/* more than AUTH_UNIX allows */
	call(&m, NFS_PROG, 1, &c);
	rr_opaque(&m, r1->b, r1->len);
	T_EQ(rpc(fd, &m, NULL, NULL), MSG_DENIED_AUTH - 1,
	    "AUTH_UNIX with 17 groups: AUTH_BADCRED");
	c.flavor = 6;				/* RPCSEC_GSS */
	call(&m, NFS_PROG, 0, &c);
	T_EQ(rpc(fd, &m, NULL, NULL), MSG_DENIED_AUTH - 1,
	    "RPCSEC_GSS NULL: AUTH_BADCRED");
	call(&m, NFS_PROG, 1, &c);
	rr_opaque(&m, r1->b, r1->len);
	T_EQ(rpc(fd, &m, NULL, NULL), MSG_DENIED_AUTH - 1,
	    "RPCSEC_GSS GETATTR: AUTH_BADCRED");
	T_EQ(getattr(fd, &root_cred, r1), 0, "the connection still serves");

	/* secure export: source port below 1024 required */
	snprintf(p, sizeof(p), "%s/sec", top);
	T_EQ(mnt(fd, p, strlen(p), NULL), MSG_DENIED_AUTH - 5,
	    "MNT of a secure export from port >= 1024: AUTH_TOOWEAK");
	sfd = -1;
	for (int sp = 1023; sp > 600 && sfd < 0; sp--)
		sfd = rr_dial(NULL, sp, dst, port);
	T_OK(sfd >= 0, "connected from a port below 1024");
	if (sfd < 0)
		return;
	T_EQ(mnt(sfd, p, strlen(p), &rs), 0, "... and MNT works from there");
	T_EQ(getattr(sfd, &root_cred, &rs), 0, "... and GETATTR");
	close(sfd);
	T_EQ(getattr(fd, &root_cred, &rs), MSG_DENIED_AUTH - 5,
	    "that handle from port >= 1024: AUTH_TOOWEAK");
}

#define A_READ		0x01
#define A_LOOKUP	0x02
#define A_MODIFY	0x04
#define A_EXTEND	0x08
#define A_DELETE	0x10
#define A_EXECUTE	0x20

static void
check_access(int fd, const struct fh *r1, const struct fh *r2)
{
	struct rr_cred	u = { 1, 1000, 1000, 0, { 0 } };
	struct rr_cred	ug = { 1, 1000, 1000, 1, { 1234 } };
	struct fh	h;
	uint32_t	got;
	char		p[1024];
	static const struct {
		const char	*name;
		mode_t		 mode;
		uid_t		 uid;
		gid_t		 gid;
		int		 cred;		/* 0 u, 1 ug, 2 root */
		uint32_t	 want;
	} cases[] = {
		{ "acc0477", 0477, 1000, 1000, 0, A_READ },
		{ "acc0177", 0177, 1000, 1000, 0, A_EXECUTE },
		{ "acc0077", 0077, 1000, 1000, 0, 0 },
		{ "acc0677", 0677, 1000, 1000, 0, A_READ | A_MODIFY | A_EXTEND },
		{ "acc0070", 0070, 0, 1234, 0, 0 },
		{ "acc0070", 0070, 0, 1234, 1, A_READ | A_MODIFY | A_EXTEND |
		    A_EXECUTE },
		/* in the group: the group's bits, not the others' */
		{ "acc0604", 0604, 0, 1234, 1, 0 },
		{ "acc0444", 0444, 1000, 1000, 2, A_READ | A_MODIFY | A_EXTEND },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rr_cred *c = cases[i].cred == 0 ? &u :
		    cases[i].cred == 1 ? &ug : &root_cred;

		snprintf(p, sizeof(p), "rw/%s", cases[i].name);
		write_file(p, "x\n", cases[i].mode, cases[i].uid,
		    cases[i].gid);
		if (lookup(fd, &root_cred, r1, cases[i].name,
		    strlen(cases[i].name), &h) != 0) {
			T_OK(0, "LOOKUP %s", cases[i].name);
			continue;
		}
		T_EQ(access3(fd, c, &h, 0x3f, &got), 0, "ACCESS answered");
		T_OK(got == cases[i].want, "ACCESS on %s %04o owner %u group "
		    "%u as %s: %#x (want %#x)", cases[i].name,
		    (unsigned)cases[i].mode, (unsigned)cases[i].uid,
		    (unsigned)cases[i].gid, cases[i].cred == 0 ? "uid 1000" :
		    cases[i].cred == 1 ? "uid 1000 + group 1234" : "root",
		    got, cases[i].want);
		snprintf(p, sizeof(p), "%s/rw/%s", top, cases[i].name);
		unlink(p);
	}
	/* a read-only directory of its own owner */
	path_of(p, sizeof(p), "rw/dacc");
	rmdir(p);
	mkdir(p, 0555);
	if (chown(p, 1000, 1000) < 0)
		T_OK(0, "chown");
	T_EQ(lookup(fd, &root_cred, r1, "dacc", 4, &h), 0, "LOOKUP dacc");
	T_EQ(access3(fd, &u, &h, 0x3f, &got), 0, "ACCESS on a 0555 directory");
	T_EQ(got, A_READ | A_LOOKUP, "... read and look up only, by its owner");
	/* root squashed: the file of root is not root's any more */
	write_file("squash/rootfile", "r\n", 0644, 0, 0);
	T_EQ(lookup(fd, &root_cred, r2, "rootfile", 8, &h), 0,
	    "LOOKUP in a root_squash export");
	T_EQ(access3(fd, &root_cred, &h, 0x3f, &got), 0, "ACCESS as root");
	T_EQ(got, A_READ, "squashed root may only read a 0644 file of root");
}

static void
check_symlink_times(int fd, const struct fh *r1)
{
	struct rr_msg	m = RR_MSG_INIT;
	struct fh	h;
	struct stat	st;
	char		p[1024];

	path_of(p, sizeof(p), "rw/sl");
	unlink(p);
	T_OK(symlink("nowhere", p) == 0, "a symlink");
	T_EQ(lookup(fd, &root_cred, r1, "sl", 2, &h), 0, "LOOKUP it");
	call(&m, NFS_PROG, 2, &root_cred);		/* SETATTR */
	rr_opaque(&m, h.b, h.len);
	rr_u32(&m, 0); rr_u32(&m, 0); rr_u32(&m, 0); rr_u32(&m, 0);
	rr_u32(&m, 2); rr_u32(&m, 1000000); rr_u32(&m, 5);	/* atime */
	rr_u32(&m, 2); rr_u32(&m, 2000000); rr_u32(&m, 7);	/* mtime */
	rr_u32(&m, 0);
	T_EQ(rpc(fd, &m, NULL, NULL), 0, "SETATTR times of a symlink: OK");
	T_OK(lstat(p, &st) == 0 && st.st_mtime == 2000000 &&
	    st.st_atime == 1000000, "... and they were set (mtime %ld)",
	    (long)st.st_mtime);
	call(&m, NFS_PROG, 2, &root_cred);
	rr_opaque(&m, h.b, h.len);
	rr_u32(&m, 1); rr_u32(&m, 0600);			/* mode */
	rr_u32(&m, 0); rr_u32(&m, 0); rr_u32(&m, 0); rr_u32(&m, 0);
	rr_u32(&m, 0); rr_u32(&m, 0);
	T_EQ(rpc(fd, &m, NULL, NULL), INVAL,
	    "SETATTR mode 0600 of a symlink: INVAL (Linux keeps none)");
}

/* A file system mounted inside the export: its kernel handles mean
 * nothing on the export's file system, so none is given out. */
static void
check_submount(int fd, const struct fh *r1)
{
	char		p[1024];
	struct fh	h;

	path_of(p, sizeof(p), "rw/sub");
	mkdir(p, 0755);
	if (mount("duonas-test", p, "tmpfs", 0, "size=1m") < 0) {
		printf("# tmpfs mount: %s: submount check skipped\n",
		    strerror(errno));
		return;
	}
	T_EQ(lookup(fd, &root_cred, r1, "sub", 3, &h), 18,
	    "LOOKUP of a file system mounted inside the export: XDEV");
	T_OK(umount(p) == 0, "unmounted");
	T_EQ(lookup(fd, &root_cred, r1, "sub", 3, &h), 0,
	    "... and the directory under it is served again");
}

int
main(int argc, char **argv)
{
	struct fh	r1, r2;
	char		p[1024];
	int		fd;

	if (argc != 4) {
		fprintf(stderr, "usage: nfs_secprobe DST PORT TOP\n");
		return 2;
	}
	dst = argv[1];
	port = atoi(argv[2]);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	xid = (uint32_t)random() << 8;
	snprintf(top, sizeof(top), "%s", argv[3]);
	fd = rr_dial(NULL, 0, dst, port);
	T_OK(fd >= 0, "connect");
	if (fd < 0)
		return t_done();
	snprintf(p, sizeof(p), "%s/rw", top);
	T_EQ(mnt(fd, p, strlen(p), &r1), 0, "MNT rw");
	snprintf(p, sizeof(p), "%s/squash", top);
	T_EQ(mnt(fd, p, strlen(p), &r2), 0, "MNT squash");
	T_EQ(getattr(fd, &root_cred, &r1), 0, "GETATTR of the root");
	check_forged(fd, &r1);
	check_moved(fd, &r1);
	check_names(fd, &r1);
	check_auth(fd, &r1);
	check_access(fd, &r1, &r2);
	check_symlink_times(fd, &r1);
	check_submount(fd, &r1);
	check_mountlist(fd);
	close(fd);
	return t_done();
}

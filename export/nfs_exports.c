/*
 * nfs_exports.c — the exports file (/etc/duonas/exports) and client
 * matching.
 *
 * One export per line, /etc/exports style:
 *     /srv/data  -id=1,rw  127.0.0.1(no_root_squash)  10.0.0.0/8(ro)  *
 * The text is parsed by common/exports.c, the one parser of the format
 * (the configuration transactions validate changes with it too, so the
 * server loads exactly what was validated, limits included); this file
 * turns its result into the server's table and resolves host names when
 * the file is read.  Every error names the file, the line and the
 * problem, and nothing of a bad file is used.  Parsing touches no file
 * system; nfs_export_open() opens one export's directory (fd, root
 * handle) when the service (nfs_svc.c) decides to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exports.h"
#include "common/util.h"
#include "export/nfs_int.h"

/* One format, one parser (common/exports.c), one set of limits. */
_Static_assert(NFS_MAX_EXPORTS == EXPORTS_MAX, "export limit");
_Static_assert(NFS_MAX_CLIENTS == EXPORTS_MAX_CLIENTS, "client limit");
_Static_assert(sizeof(((struct nfs_client *)0)->text) >= EXPORTS_SPEC_MAX,
    "client spec");
_Static_assert(NFS_EXP_RW == EXPORTS_F_RW && NFS_EXP_ROOT_SQUASH ==
    EXPORTS_F_ROOT_SQUASH && NFS_EXP_ALL_SQUASH == EXPORTS_F_ALL_SQUASH &&
    NFS_EXP_AUTH_SYS == EXPORTS_F_AUTH_SYS && NFS_EXP_AUTH_NONE ==
    EXPORTS_F_AUTH_NONE && NFS_EXP_SECURE == EXPORTS_F_SECURE, "flags");

/* The server's form of one parsed client; host names are resolved now. */
static int
client_take(const char *file, const struct exports_entry *x,
    struct exports_client *xc, struct nfs_client *c, char *err,
    size_t errlen)
{
	if (xc->kind == EXPORTS_NAME && exports_client_resolve(xc) < 0) {
		snprintf(err, errlen, "%s:%d: client '%s': cannot resolve the "
		    "host name", file, x->line, xc->spec);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	snprintf(c->text, sizeof(c->text), "%s", xc->spec);
	c->family = xc->kind == EXPORTS_ANY ? 0 : xc->family;
	memcpy(c->addr, xc->addr, sizeof(c->addr));
	c->prefix = xc->prefix;
	c->flags = (int)xc->flags;
	c->anonuid = xc->anonuid;
	c->anongid = xc->anongid;
	return 0;
}

int
nfs_exports_parse(const char *text, size_t len, const char *file,
    struct nfs_exptab *t, char *err, size_t errlen)
{
	struct exports_tab	 x;
	struct nfs_export	*e;
	int			 rv = -1;

	memset(t, 0, sizeof(*t));
	if (exports_parse(text, len, file, 0, &x, err, errlen) < 0)
		return -1;
	t->v = xcalloc((size_t)(x.n ? x.n : 1), sizeof(*t->v));
	for (int i = 0; i < x.n; i++) {
		/* an SMB-only export is not the NFS server's (protocols=) */
		if (!(x.v[i].protocols & EXPORTS_P_NFS))
			continue;
		e = &t->v[t->n];
		e->fd = -1;
		e->id = x.v[i].id;
		e->line = x.v[i].line;
		snprintf(e->path, sizeof(e->path), "%s", x.v[i].path);
		t->n++;
		for (int j = 0; j < x.v[i].nclients; j++)
			if (client_take(file, &x.v[i], &x.v[i].clients[j],
			    &e->clients[j], err, errlen) < 0)
				goto out;
		e->nclients = x.v[i].nclients;
	}
	rv = 0;
out:
	exports_free(&x);
	if (rv < 0)
		nfs_exports_free(t);
	return rv;
}

int
nfs_export_open(struct nfs_export *e, char *err, size_t errlen)
{
	struct stat		st;
	struct nfs_fhroot	root;
	uint8_t			fh[NFS3_FHSIZE];
	uint32_t		len, khlen;
	char			proc[40], real[PATH_MAX];
	ssize_t			n;
	int			fd, type, mnt;

	fd = open(e->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "export %s (line %d): %s", e->path,
		    e->line, strerror(errno));
		goto fail;
	}
	memset(&root, 0, sizeof(root));
	if (nfs_fh_kernel(fd, "", AT_EMPTY_PATH, &type, root.kh, &khlen,
	    &mnt) < 0) {
		snprintf(err, errlen, "export %s (line %d): the file system "
		    "cannot give file handles%s: %s", e->path, e->line,
		    errno == EOVERFLOW ? " of at most 41 bytes" : "",
		    strerror(errno));
		goto fail;
	}
	root.type = (uint8_t)type;
	root.len = (uint8_t)khlen;
	if (nfs_fh_encode(e->id, &root, type, root.kh, khlen, fh, &len) < 0) {
		snprintf(err, errlen, "export %s (line %d): cannot seal its "
		    "file handle: %s", e->path, e->line, strerror(errno));
		goto fail;
	}
	/* the subtree check compares the kernel's name of an object with
	 * the root's (symlinks in the configured path resolved) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, real, sizeof(real) - 1)) <= 0 ||
	    real[0] != '/') {
		snprintf(err, errlen, "export %s (line %d): cannot read its "
		    "path back from %s", e->path, e->line, proc);
		goto fail;
	}
	real[n] = 0;
	nfs_export_close(e);
	e->fd = fd;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->mnt_id = mnt;
	e->root = root;
	memcpy(e->realpath, real, (size_t)n + 1);
	e->realpathlen = strcmp(real, "/") == 0 ? 0 : (size_t)n;
	memcpy(e->rootfh, fh, len);
	e->rootfhlen = len;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

void
nfs_export_close(struct nfs_export *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

int
nfs_exports_load(const char *path, struct nfs_exptab *t, char *err,
    size_t errlen)
{
	uint8_t	*data;
	size_t	 len;
	int	 rc;

	memset(t, 0, sizeof(*t));
	if (file_read_all(path, 1 << 20, &data, &len) < 0) {
		snprintf(err, errlen, "exports file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = nfs_exports_parse((char *)data, len, path, t, err, errlen);
	free(data);
	return rc;
}

void
nfs_exports_free(struct nfs_exptab *t)
{
	for (int i = 0; i < t->n; i++)
		nfs_export_close(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, int prefix)
{
	int bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff00 >> bits)) == 0;
}

const struct nfs_client *
nfs_export_client(const struct nfs_export *e, const struct sockaddr *sa)
{
	const uint8_t	*a = NULL;
	int		 fam = sa->sa_family;
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (fam == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	} else if (fam == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		if (memcmp(a, v4mapped, 12) == 0) {
			a += 12;
			fam = AF_INET;
		}
	}
	for (int i = 0; i < e->nclients; i++) {
		const struct nfs_client *c = &e->clients[i];

		if (c->family == 0)
			return c;
		if (a != NULL && c->family == fam &&
		    prefix_match(a, c->addr, c->prefix))
			return c;
	}
	return NULL;
}

void
nfs_client_opts(const struct nfs_client *c, char *s, size_t n)
{
	snprintf(s, n, "%s,%s%s,%s,anonuid=%u,anongid=%u%s",
	    c->flags & NFS_EXP_RW ? "rw" : "ro",
	    c->flags & NFS_EXP_ALL_SQUASH ? "all_squash," : "",
	    c->flags & NFS_EXP_ROOT_SQUASH ? "root_squash" : "no_root_squash",
	    (c->flags & (NFS_EXP_AUTH_SYS | NFS_EXP_AUTH_NONE)) ==
	    (NFS_EXP_AUTH_SYS | NFS_EXP_AUTH_NONE) ? "sec=sys:none" :
	    c->flags & NFS_EXP_AUTH_NONE ? "sec=none" : "sec=sys",
	    c->anonuid, c->anongid,
	    c->flags & NFS_EXP_SECURE ? ",secure" : "");
}

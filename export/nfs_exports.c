/*
 * nfs_exports.c — the exports file (/etc/duonas/exports) and client
 * matching.
 *
 * One export per line, /etc/exports style:
 *     /srv/data  -id=1,rw  127.0.0.1(no_root_squash)  10.0.0.0/8(ro)  *
 * "-opts" sets defaults for the clients after it on that line; "id=N" is
 * required once per export (stable across heads: it is inside every file
 * handle).  Client specs are "*", an address, an address/prefix or a host
 * name (resolved when the file is read).  Every error names the file,
 * the line and the problem, and nothing of a bad file is used.
 * Parsing touches no file system; nfs_export_open() opens one export's
 * directory (fd, root handle) when the service (nfs_svc.c) decides to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "export/nfs_int.h"

#define EXP_DEFAULT_FLAGS	(NFS_EXP_ROOT_SQUASH | NFS_EXP_AUTH_SYS)

struct eparse {
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
};

static int
eerr(struct eparse *ps, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, ps->line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Apply a comma-separated option list to *c; id goes to *id. */
static int
parse_opts(struct eparse *ps, char *opts, struct nfs_client *c, long long *id)
{
	char		*o, *save = NULL;
	const char	*es;
	long long	 v;

	for (o = strtok_r(opts, ",", &save); o != NULL;
	    o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "rw") == 0)
			c->flags |= NFS_EXP_RW;
		else if (strcmp(o, "ro") == 0)
			c->flags &= ~NFS_EXP_RW;
		else if (strcmp(o, "root_squash") == 0)
			c->flags |= NFS_EXP_ROOT_SQUASH;
		else if (strcmp(o, "no_root_squash") == 0)
			c->flags &= ~NFS_EXP_ROOT_SQUASH;
		else if (strcmp(o, "all_squash") == 0)
			c->flags |= NFS_EXP_ALL_SQUASH;
		else if (strcmp(o, "no_all_squash") == 0)
			c->flags &= ~NFS_EXP_ALL_SQUASH;
		else if (strcmp(o, "secure") == 0)
			c->flags |= NFS_EXP_SECURE;
		else if (strcmp(o, "insecure") == 0)
			c->flags &= ~NFS_EXP_SECURE;
		else if (strcmp(o, "sync") == 0)
			;	/* the only behaviour: stable writes are synced */
		else if (strcmp(o, "sec=sys") == 0)
			c->flags = (c->flags & ~NFS_EXP_AUTH_NONE) |
			    NFS_EXP_AUTH_SYS;
		else if (strcmp(o, "sec=none") == 0)
			c->flags = (c->flags & ~NFS_EXP_AUTH_SYS) |
			    NFS_EXP_AUTH_NONE;
		else if (strcmp(o, "sec=sys:none") == 0 ||
		    strcmp(o, "sec=none:sys") == 0)
			c->flags |= NFS_EXP_AUTH_SYS | NFS_EXP_AUTH_NONE;
		else if (strncmp(o, "anonuid=", 8) == 0) {
			if (parse_num(o + 8, 0, UINT32_MAX - 1, &v, &es) < 0)
				return eerr(ps, "anonuid '%s': %s", o + 8, es);
			c->anonuid = (uint32_t)v;
		} else if (strncmp(o, "anongid=", 8) == 0) {
			if (parse_num(o + 8, 0, UINT32_MAX - 1, &v, &es) < 0)
				return eerr(ps, "anongid '%s': %s", o + 8, es);
			c->anongid = (uint32_t)v;
		} else if (strncmp(o, "id=", 3) == 0) {
			if (parse_num(o + 3, 1, UINT32_MAX, &v, &es) < 0)
				return eerr(ps, "export id '%s': %s (1..%u)",
				    o + 3, es, UINT32_MAX);
			if (*id != 0 && *id != v)
				return eerr(ps, "two different ids (%lld and "
				    "%lld) for one export", *id, v);
			*id = v;
		} else {
			return eerr(ps, "unknown option '%s'", o);
		}
	}
	return 0;
}

static int
parse_client_addr(struct eparse *ps, const char *spec, struct nfs_client *c)
{
	char		 host[128], *slash;
	const char	*es;
	long long	 v;
	struct addrinfo	 hints, *ai = NULL;
	int		 maxp;

	if (strcmp(spec, "*") == 0) {
		c->family = 0;
		return 0;
	}
	if (strlen(spec) >= sizeof(host))
		return eerr(ps, "client '%s': too long", spec);
	snprintf(host, sizeof(host), "%s", spec);
	c->prefix = -1;
	if ((slash = strchr(host, '/')) != NULL) {
		*slash = 0;
		if (parse_num(slash + 1, 0, 128, &v, &es) < 0)
			return eerr(ps, "client '%s': prefix: %s", spec, es);
		c->prefix = (int)v;
	}
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		maxp = 128;
	} else {
		if (slash != NULL)
			return eerr(ps, "client '%s': a prefix needs an "
			    "address, not a name", spec);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
			return eerr(ps, "client '%s': cannot resolve the "
			    "host name", spec);
		c->family = ai->ai_family;
		if (ai->ai_family == AF_INET) {
			memcpy(c->addr, &((struct sockaddr_in *)
			    (void *)ai->ai_addr)->sin_addr, 4);
			maxp = 32;
		} else {
			memcpy(c->addr, &((struct sockaddr_in6 *)
			    (void *)ai->ai_addr)->sin6_addr, 16);
			maxp = 128;
		}
		freeaddrinfo(ai);
	}
	if (c->prefix > maxp)
		return eerr(ps, "client '%s': prefix longer than %d", spec,
		    maxp);
	if (c->prefix < 0)
		c->prefix = maxp;
	return 0;
}

/* Split one logical line into words (no quoting: paths have no spaces). */
static int
parse_line(struct eparse *ps, char *line, struct nfs_exptab *t)
{
	char			*w, *save = NULL, *paren, *end;
	struct nfs_export	*e;
	struct nfs_client	 def, *c;
	long long		 id = 0;

	memset(&def, 0, sizeof(def));
	def.flags = EXP_DEFAULT_FLAGS;
	def.anonuid = def.anongid = 65534;

	w = strtok_r(line, " \t", &save);
	if (w == NULL)
		return 0;
	if (w[0] != '/')
		return eerr(ps, "export path '%s' is not absolute", w);
	if (strlen(w) >= PATH_MAX)
		return eerr(ps, "export path too long");
	if (strstr(w, "/../") != NULL || strstr(w, "/./") != NULL ||
	    (strlen(w) >= 3 && strcmp(w + strlen(w) - 3, "/..") == 0))
		return eerr(ps, "export path '%s' contains . or ..", w);
	if (t->n == NFS_MAX_EXPORTS)
		return eerr(ps, "too many exports (max %d)", NFS_MAX_EXPORTS);
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->v[i].path, w) == 0)
			return eerr(ps, "'%s' is already exported on line %d",
			    w, t->v[i].line);
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->line = ps->line;
	snprintf(e->path, sizeof(e->path), "%s", w);
	/* strip a trailing slash except for "/" itself */
	if (strlen(e->path) > 1 && e->path[strlen(e->path) - 1] == '/')
		e->path[strlen(e->path) - 1] = 0;

	while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
		if (w[0] == '-') {
			if (parse_opts(ps, w + 1, &def, &id) < 0)
				return -1;
			continue;
		}
		if (e->nclients == NFS_MAX_CLIENTS)
			return eerr(ps, "too many clients (max %d)",
			    NFS_MAX_CLIENTS);
		c = &e->clients[e->nclients];
		*c = def;
		if ((paren = strchr(w, '(')) != NULL) {
			end = strchr(paren, ')');
			if (end == NULL || end[1] != 0)
				return eerr(ps, "client '%s': options must be "
				    "in (...) right after the client, without "
				    "spaces", w);
			*paren = 0;
			*end = 0;
			if (parse_opts(ps, paren + 1, c, &id) < 0)
				return -1;
		}
		if (*w == 0)
			return eerr(ps, "options without a client; write "
			    "*(opts) for everyone");
		snprintf(c->text, sizeof(c->text), "%s", w);
		if (parse_client_addr(ps, w, c) < 0)
			return -1;
		e->nclients++;
	}
	if (id == 0)
		return eerr(ps, "export %s has no id=N (add -id=N)", e->path);
	if (e->nclients == 0)
		return eerr(ps, "export %s lists no clients (use * for "
		    "everyone)", e->path);
	for (int i = 0; i < t->n; i++)
		if (t->v[i].id == (uint32_t)id)
			return eerr(ps, "id=%lld is already used by %s on line "
			    "%d", id, t->v[i].path, t->v[i].line);
	e->id = (uint32_t)id;
	t->n++;
	return 0;
}

int
nfs_exports_parse(const char *text, size_t len, const char *file,
    struct nfs_exptab *t, char *err, size_t errlen)
{
	struct eparse	 ps = { file, 0, err, errlen };
	struct buf	 line;
	size_t		 i = 0;
	int		 rv = -1, startline;

	memset(t, 0, sizeof(*t));
	buf_init(&line);
	while (i < len) {
		int extra = 0;
		char *hash;

		buf_reset(&line);
		startline = ps.line + 1;
		/* one logical line: join "\\\n" continuations */
		for (; i < len && text[i] != '\n'; i++) {
			if (text[i] == '\\' && i + 1 < len &&
			    text[i + 1] == '\n') {
				i++;
				extra++;
				continue;
			}
			if (text[i] == 0) {
				ps.line = startline + extra;
				eerr(&ps, "NUL byte in the file");
				goto out;
			}
			buf_add_u8(&line, (uint8_t)text[i]);
		}
		i++;
		buf_add_u8(&line, 0);
		if ((hash = strchr((char *)line.data, '#')) != NULL)
			*hash = 0;
		ps.line = startline;
		if (parse_line(&ps, (char *)line.data, t) < 0)
			goto out;
		ps.line = startline + extra;
	}
	rv = 0;
out:
	buf_free(&line);
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
	int			fd, type;

	fd = open(e->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "export %s (line %d): %s", e->path,
		    e->line, strerror(errno));
		goto fail;
	}
	memset(&root, 0, sizeof(root));
	if (nfs_fh_kernel(fd, "", AT_EMPTY_PATH, &type, root.kh, &khlen) < 0) {
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

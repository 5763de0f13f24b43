/*
 * exports.c — the one parser of the exports file (duonas-exports(5)).
 *
 * Logical lines ("\\\n" continues one, '#' starts a comment) of words
 * separated by blanks: the path, "-opts" words that set the defaults of
 * the clients after them, and client specs with their own "(opts)".  The
 * NFS server's limits are enforced here, where both the server and the
 * configuration transactions meet them (EXPORTS_MAX exports,
 * EXPORTS_MAX_CLIENTS clients, path and spec lengths, id range, unique
 * paths and ids).  Every error names the file, the line and the problem,
 * and nothing of a bad file is returned.  Pure: host names are checked
 * for syntax only and resolved by the NFS server when it loads the file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/exports.h"
#include "common/util.h"

struct eparse {
	const char	*file;
	int		 line;
	int		 flags;
	char		*err;
	size_t		 errlen;
};

static int __attribute__((format(printf, 2, 3)))
eerr(struct eparse *ps, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	err_atv(ps->err, ps->errlen, ps->file, ps->line, fmt, ap);
	va_end(ap);
	return -1;
}

/* An SMB share name: what Samba and Windows accept in a share name,
 * without the names Samba reserves. */
static int
share_check(struct eparse *ps, const char *v)
{
	static const char *const reserved[] = { "global", "homes",
	    "printers", "print$", "ipc$" };
	size_t n = strlen(v);

	if (n == 0 || n >= EXPORTS_SHARE_MAX)
		return eerr(ps, "share name '%s': 1 to %d characters", v,
		    EXPORTS_SHARE_MAX - 1);
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.' && !(*p == '$' && p[1] == 0))
			return eerr(ps, "share name '%s': only letters, "
			    "digits, '_', '-', '.' (and a final '$')", v);
	for (size_t i = 0; i < nitems(reserved); i++)
		if (strcasecmp(v, reserved[i]) == 0)
			return eerr(ps, "share name '%s' is reserved by Samba",
			    v);
	return 0;
}

/* smb_users=a:b:c -> "a b c" in out; the names' syntax as `duonas smb
 * user add` wants it (lower case, digits, '_', '.', '-'). */
static int
users_take(struct eparse *ps, const char *v, char *out, size_t outlen)
{
	char	*c = xstrdup(v), *u, *save = NULL;
	size_t	 n = 0;
	int	 rv = 0;

	out[0] = 0;
	if (*v == 0 || strlen(v) >= outlen)
		rv = eerr(ps, "smb_users: a ':'-separated list of user names "
		    "(at most %zu bytes)", outlen - 1);
	for (u = strtok_r(c, ":", &save); u != NULL && rv == 0;
	    u = strtok_r(NULL, ":", &save)) {
		int ok = strlen(u) <= EXPORTS_USER_MAX &&
		    (islower((unsigned char)u[0]) || u[0] == '_');

		for (const char *p = u; ok && *p; p++)
			ok = islower((unsigned char)*p) ||
			    isdigit((unsigned char)*p) || *p == '_' ||
			    *p == '.' || *p == '-';
		if (!ok) {
			rv = eerr(ps, "smb_users: '%s' is not a user name "
			    "(a-z, 0-9, '_', '.', '-'; at most %d)", u,
			    EXPORTS_USER_MAX);
			break;
		}
		n += (size_t)snprintf(out + n, outlen - n, "%s%s",
		    n ? " " : "", u);
	}
	free(c);
	return rv;
}

/* Options of the export itself (e != NULL: in a "-options" word). */
static int
export_opt(struct eparse *ps, const char *o, struct exports_entry *e)
{
	int known = strncmp(o, "protocols=", 10) == 0 ||
	    strncmp(o, "share=", 6) == 0 || strncmp(o, "smb_users=", 10) == 0 ||
	    strcmp(o, "smb_rw") == 0 || strcmp(o, "smb_ro") == 0;

	if (!known)
		return eerr(ps, "unknown option '%s'", o);
	if (e == NULL)
		return eerr(ps, "'%s' is an option of the export: put it in "
		    "the -options word, not after a client", o);
	if (strncmp(o, "protocols=", 10) == 0) {
		const char *v = o + 10;

		if (strcmp(v, "nfs") == 0)
			e->protocols = EXPORTS_P_NFS;
		else if (strcmp(v, "smb") == 0)
			e->protocols = EXPORTS_P_SMB;
		else if (strcmp(v, "nfs:smb") == 0 || strcmp(v, "smb:nfs") == 0)
			e->protocols = EXPORTS_P_NFS | EXPORTS_P_SMB;
		else
			return eerr(ps, "protocols '%s': nfs, smb or nfs:smb",
			    v);
		return 0;
	}
	if (strncmp(o, "share=", 6) == 0) {
		if (share_check(ps, o + 6) < 0)
			return -1;
		snprintf(e->share, sizeof(e->share), "%s", o + 6);
		return 0;
	}
	if (strncmp(o, "smb_users=", 10) == 0)
		return users_take(ps, o + 10, e->smb_users,
		    sizeof(e->smb_users));
	e->smb_rw = strcmp(o, "smb_rw") == 0;	/* smb_rw or smb_ro */
	return 0;
}

/* Apply a comma-separated option list to *c; id goes to *id, the
 * export's own options to *e (NULL: a client's list, where they are
 * refused). */
static int
parse_opts(struct eparse *ps, char *opts, struct exports_client *c,
    long long *id, struct exports_entry *e)
{
	char		*o, *save = NULL;
	const char	*es;
	long long	 v;

	for (o = strtok_r(opts, ",", &save); o != NULL;
	    o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "rw") == 0)
			c->flags |= EXPORTS_F_RW;
		else if (strcmp(o, "ro") == 0)
			c->flags &= ~EXPORTS_F_RW;
		else if (strcmp(o, "root_squash") == 0)
			c->flags |= EXPORTS_F_ROOT_SQUASH;
		else if (strcmp(o, "no_root_squash") == 0)
			c->flags &= ~EXPORTS_F_ROOT_SQUASH;
		else if (strcmp(o, "all_squash") == 0)
			c->flags |= EXPORTS_F_ALL_SQUASH;
		else if (strcmp(o, "no_all_squash") == 0)
			c->flags &= ~EXPORTS_F_ALL_SQUASH;
		else if (strcmp(o, "secure") == 0)
			c->flags |= EXPORTS_F_SECURE;
		else if (strcmp(o, "insecure") == 0)
			c->flags &= ~EXPORTS_F_SECURE;
		else if (strcmp(o, "sync") == 0)
			;	/* the only behaviour: stable writes are synced */
		else if (strcmp(o, "sec=sys") == 0)
			c->flags = (c->flags & ~EXPORTS_F_AUTH_NONE) |
			    EXPORTS_F_AUTH_SYS;
		else if (strcmp(o, "sec=none") == 0)
			c->flags = (c->flags & ~EXPORTS_F_AUTH_SYS) |
			    EXPORTS_F_AUTH_NONE;
		else if (strcmp(o, "sec=sys:none") == 0 ||
		    strcmp(o, "sec=none:sys") == 0)
			c->flags |= EXPORTS_F_AUTH_SYS | EXPORTS_F_AUTH_NONE;
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
		} else if (export_opt(ps, o, e) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Keep the "-opts" words as text (without id=N) for editors. */
static int
keep_opts(struct eparse *ps, struct exports_entry *e, const char *opts)
{
	char	*c = xstrdup(opts), *o, *save = NULL;
	size_t	 n = strlen(e->options);
	int	 rv = 0;

	for (o = strtok_r(c, ",", &save); o != NULL && rv == 0;
	    o = strtok_r(NULL, ",", &save)) {
		if (strncmp(o, "id=", 3) == 0)
			continue;
		if (n + strlen(o) + 2 > sizeof(e->options)) {
			rv = eerr(ps, "export %s: options too long (max %zu "
			    "bytes)", e->path, sizeof(e->options) - 1);
			break;
		}
		n += (size_t)snprintf(e->options + n, sizeof(e->options) - n,
		    "%s%s", n ? "," : "", o);
	}
	free(c);
	return rv;
}

static int
parse_host(struct eparse *ps, const char *spec, struct exports_client *c)
{
	char		 host[EXPORTS_SPEC_MAX], *slash;
	const char	*es, *p;
	long long	 v;
	int		 maxp;

	if (strcmp(c->host, "*") == 0) {
		c->kind = EXPORTS_ANY;
		return 0;
	}
	snprintf(host, sizeof(host), "%s", c->host);
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
		for (p = host; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.' && *p != '_')
				return eerr(ps, "client '%s': not an address, "
				    "ADDRESS/PREFIX or host name", spec);
		c->kind = EXPORTS_NAME;
		return 0;
	}
	c->kind = EXPORTS_ADDR;
	if (c->prefix > maxp)
		return eerr(ps, "client '%s': prefix longer than %d", spec,
		    maxp);
	if (c->prefix < 0)
		c->prefix = maxp;
	return 0;
}

static int
parse_client(struct eparse *ps, char *w, const struct exports_client *def,
    struct exports_client *c, long long *id)
{
	char	*paren, *end;

	*c = *def;
	if (strlen(w) >= sizeof(c->spec))
		return eerr(ps, "client '%s': too long (max %zu bytes)", w,
		    sizeof(c->spec) - 1);
	snprintf(c->spec, sizeof(c->spec), "%s", w);
	if ((paren = strchr(w, '(')) != NULL) {
		end = strchr(paren, ')');
		if (end == NULL || end[1] != 0)
			return eerr(ps, "client '%s': options must be in "
			    "(...) right after the client, without spaces", w);
		*paren = 0;
		*end = 0;
		if (parse_opts(ps, paren + 1, c, id, NULL) < 0)
			return -1;
	}
	if (*w == 0)
		return eerr(ps, "options without a client; write *(opts) for "
		    "everyone");
	snprintf(c->host, sizeof(c->host), "%s", w);
	return parse_host(ps, c->spec, c);
}

/* One logical line (comment removed); adds an entry unless it is blank. */
static int
parse_line(struct eparse *ps, char *line, struct exports_tab *t)
{
	struct exports_entry	*e;
	struct exports_client	 def;
	char			*w, *save = NULL;
	long long		 id = 0;
	size_t			 n;

	if ((w = strtok_r(line, " \t\r", &save)) == NULL)
		return 0;
	if (w[0] != '/')
		return eerr(ps, "export path '%s' is not absolute", w);
	if ((n = strlen(w)) >= EXPORTS_PATH_MAX)
		return eerr(ps, "export path too long (max %d bytes)",
		    EXPORTS_PATH_MAX - 1);
	if (strstr(w, "/../") != NULL || strstr(w, "/./") != NULL ||
	    (n >= 3 && strcmp(w + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(w + n - 2, "/.") == 0))
		return eerr(ps, "export path '%s' contains . or ..", w);
	if (t->n == EXPORTS_MAX && !(ps->flags & EXPORTS_ANY_COUNT))
		return eerr(ps, "too many exports (max %d)", EXPORTS_MAX);
	/* strip a trailing slash except for "/" itself */
	if (n > 1 && w[n - 1] == '/')
		w[n - 1] = 0;
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->v[i].path, w) == 0)
			return eerr(ps, "'%s' is already exported on line %d",
			    w, t->v[i].line);
	e = xcalloc(1, sizeof(*e));
	e->line = ps->line;
	e->smb_rw = -1;
	snprintf(e->path, sizeof(e->path), "%s", w);
	memset(&def, 0, sizeof(def));
	def.flags = EXPORTS_F_DEFAULT;
	def.anonuid = def.anongid = 65534;
	while ((w = strtok_r(NULL, " \t\r", &save)) != NULL) {
		if (w[0] == '-') {
			if (keep_opts(ps, e, w + 1) < 0 ||
			    parse_opts(ps, w + 1, &def, &id, e) < 0)
				goto fail;
			continue;
		}
		if (e->nclients == EXPORTS_MAX_CLIENTS) {
			eerr(ps, "too many clients (max %d)",
			    EXPORTS_MAX_CLIENTS);
			goto fail;
		}
		if (parse_client(ps, w, &def, &e->clients[e->nclients],
		    &id) < 0)
			goto fail;
		e->nclients++;
	}
	if (id == 0) {
		eerr(ps, "export %s has no id=N (add -id=N)", e->path);
		goto fail;
	}
	if (e->nclients == 0) {
		eerr(ps, "export %s lists no clients (use * for everyone)",
		    e->path);
		goto fail;
	}
	for (int i = 0; i < t->n; i++)
		if (t->v[i].id == (uint32_t)id) {
			eerr(ps, "id=%lld is already used by %s on line %d",
			    id, t->v[i].path, t->v[i].line);
			goto fail;
		}
	if (e->protocols == 0)
		e->protocols = EXPORTS_P_NFS;
	if (e->smb_rw < 0)
		e->smb_rw = (def.flags & EXPORTS_F_RW) != 0;
	if (e->share[0] == 0) {
		const char *b = strrchr(e->path, '/') + 1;

		snprintf(e->share, sizeof(e->share), "%s",
		    *b ? b : "root");
		if ((e->protocols & EXPORTS_P_SMB) &&
		    share_check(ps, e->share) < 0) {
			eerr(ps, "export %s: its directory name is no share "
			    "name: give one with share=NAME", e->path);
			goto fail;
		}
	}
	for (int i = 0; i < t->n; i++)
		if ((e->protocols & EXPORTS_P_SMB) &&
		    (t->v[i].protocols & EXPORTS_P_SMB) &&
		    strcasecmp(t->v[i].share, e->share) == 0) {
			eerr(ps, "share name '%s' is already used by %s on "
			    "line %d", e->share, t->v[i].path, t->v[i].line);
			goto fail;
		}
	e->id = (uint32_t)id;
	t->v = xrealloc(t->v, (size_t)(t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = *e;
	free(e);
	return 1;
fail:
	free(e);
	return -1;
}

int
exports_parse(const char *text, size_t len, const char *file, int flags,
    struct exports_tab *t, char *err, size_t errlen)
{
	struct eparse	 ps = { file, 0, flags, err, errlen };
	struct buf	 line;
	size_t		 i = 0, start;
	int		 rv = -1, startline, rc;

	memset(t, 0, sizeof(*t));
	err[0] = 0;
	buf_init(&line);
	while (i < len) {
		int extra = 0;
		char *hash;

		buf_reset(&line);
		start = i;
		startline = ps.line + 1;
		/* one logical line: join "\\\n" continuations */
		for (; i < len && text[i] != '\n'; i++) {
			if (text[i] == '\\' && i + 1 < len &&
			    text[i + 1] == '\n') {
				i++;
				extra++;
				buf_add_u8(&line, ' ');
				continue;
			}
			if (text[i] == 0) {
				ps.line = startline + extra;
				eerr(&ps, "NUL byte in the file");
				goto out;
			}
			buf_add_u8(&line, (uint8_t)text[i]);
		}
		if (i < len)
			i++;
		buf_add_u8(&line, 0);
		if ((hash = strchr((char *)line.data, '#')) != NULL)
			*hash = 0;
		ps.line = startline;
		if ((rc = parse_line(&ps, (char *)line.data, t)) < 0)
			goto out;
		if (rc == 1) {
			t->v[t->n - 1].start = start;
			t->v[t->n - 1].end = i;
		}
		ps.line = startline + extra;
	}
	rv = 0;
out:
	buf_free(&line);
	if (rv < 0)
		exports_free(t);
	return rv;
}

void
exports_free(struct exports_tab *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int
exports_client_resolve(struct exports_client *c)
{
	struct addrinfo	hints, *ai = NULL;

	if (c->kind != EXPORTS_NAME)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(c->host, NULL, &hints, &ai) != 0 || ai == NULL)
		return -1;
	c->family = ai->ai_family;
	if (ai->ai_family == AF_INET) {
		memcpy(c->addr, &((struct sockaddr_in *)(void *)
		    ai->ai_addr)->sin_addr, 4);
		c->prefix = 32;
	} else {
		memcpy(c->addr, &((struct sockaddr_in6 *)(void *)
		    ai->ai_addr)->sin6_addr, 16);
		c->prefix = 128;
	}
	freeaddrinfo(ai);
	return 0;
}

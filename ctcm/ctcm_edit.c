/*
 * ctcm_edit.c — the edits behind `duonas export|ip|lun add|rm|set`: they
 * turn the current configuration text into the proposed one, keeping
 * every other line (and comment) as it was.
 *
 * Each edit checks its own input first (bad CIDR, address in use,
 * unknown export, path outside every LUN, ...) and names the problem; the
 * transaction then parses the whole result again (cfg_parse_buf and the
 * registered validators) before anything is written.  Pure functions: no
 * file system access, no global state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctcm/ctcm_int.h"

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
#define ERR(...)	seterr(err, errlen, __VA_ARGS__)

/* ---- exports text --------------------------------------------------- */

/* Physical line ranges of logical lines ("\\\n" continues a line). */
struct lline {
	size_t	start, end;	/* [start, end) in the text, end after \n */
	int	line;		/* first physical line number */
};

static int
split_logical(const char *t, struct lline **lp)
{
	struct lline	*v = NULL;
	size_t		 i = 0, len = strlen(t);
	int		 n = 0, phys = 1;

	while (i < len) {
		size_t s = i;
		int first = phys;

		for (;;) {
			const char *nl = strchr(t + i, '\n');
			size_t e = nl ? (size_t)(nl - t) : len;

			phys++;
			i = nl ? e + 1 : len;
			if (!(nl && e > s && t[e - 1] == '\\'))
				break;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].start = s;
		v[n].end = i;
		v[n].line = first;
		n++;
	}
	*lp = v;
	return n;
}

/* Copy a logical line without continuations and comments. */
static char *
lline_text(const char *t, const struct lline *l)
{
	char	*s = xmalloc(l->end - l->start + 1), *h;
	size_t	 o = 0;

	for (size_t i = l->start; i < l->end; i++) {
		if (t[i] == '\\' && i + 1 < l->end && t[i + 1] == '\n') {
			i++;
			s[o++] = ' ';
			continue;
		}
		s[o++] = t[i] == '\n' || t[i] == '\t' ? ' ' : t[i];
	}
	s[o] = 0;
	if ((h = strchr(s, '#')) != NULL)
		*h = 0;
	return s;
}

static int
parse_export_line(char *s, struct ctcm_export *e, char *err, size_t errlen)
{
	char		*w, *save = NULL;
	const char	*es;
	long long	 v;

	memset(e, 0, sizeof(*e));
	if ((w = strtok_r(s, " ", &save)) == NULL)
		return 1;	/* empty */
	if (snprintf(e->path, sizeof(e->path), "%s", w) >=
	    (int)sizeof(e->path))
		return ERR("export path too long");
	while ((w = strtok_r(NULL, " ", &save)) != NULL) {
		if (w[0] == '-') {
			char *o, *s2 = NULL;

			for (o = strtok_r(w + 1, ",", &s2); o != NULL;
			    o = strtok_r(NULL, ",", &s2)) {
				if (strncmp(o, "id=", 3) == 0) {
					if (parse_num(o + 3, 1, UINT32_MAX, &v,
					    &es) < 0)
						return ERR("export %s: id '%s' "
						    "is %s", e->path, o + 3,
						    es);
					e->id = (uint32_t)v;
					continue;
				}
				if (strlen(e->options) + strlen(o) + 2 >=
				    sizeof(e->options))
					return ERR("export %s: options too "
					    "long", e->path);
				if (e->options[0])
					strcat(e->options, ",");
				strcat(e->options, o);
			}
			continue;
		}
		if (strlen(e->clients) + strlen(w) + 2 >= sizeof(e->clients))
			return ERR("export %s: too many clients", e->path);
		if (e->clients[0])
			strcat(e->clients, " ");
		strcat(e->clients, w);
	}
	return 0;
}

int
ctcm_exports_parse(const char *text, struct ctcm_export **ep, int *np,
    char *err, size_t errlen)
{
	struct lline		*ll = NULL;
	struct ctcm_export	*v = NULL, e;
	int			 n = 0, nl, rc = 0;

	nl = split_logical(text, &ll);
	for (int i = 0; i < nl; i++) {
		char *s = lline_text(text, &ll[i]);

		rc = parse_export_line(s, &e, err, errlen);
		free(s);
		if (rc < 0)
			break;
		if (rc == 1) {
			rc = 0;
			continue;
		}
		e.line = ll[i].line;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = e;
	}
	free(ll);
	if (rc < 0) {
		free(v);
		return -1;
	}
	*ep = v;
	*np = n;
	return 0;
}

static const char *const known_opts[] = {
	"rw", "ro", "root_squash", "no_root_squash", "all_squash",
	"no_all_squash", "secure", "insecure", "sync", "sec=sys", "sec=none",
	"sec=sys:none", "sec=none:sys",
};

static int
check_opts(const char *opts, const char *what, char *err, size_t errlen)
{
	char	*c = xstrdup(opts), *o, *save = NULL;
	int	 rv = 0;

	for (o = strtok_r(c, ",", &save); o != NULL && rv == 0;
	    o = strtok_r(NULL, ",", &save)) {
		size_t	i;
		long long v;
		const char *es;

		for (i = 0; i < nitems(known_opts); i++)
			if (strcmp(o, known_opts[i]) == 0)
				break;
		if (i < nitems(known_opts))
			continue;
		if ((strncmp(o, "anonuid=", 8) == 0 ||
		    strncmp(o, "anongid=", 8) == 0) &&
		    parse_num(o + 8, 0, UINT32_MAX - 1, &v, &es) == 0)
			continue;
		if (strncmp(o, "id=", 3) == 0)
			rv = ERR("%s: give the export id with --id, not in "
			    "the options", what);
		else
			rv = ERR("%s: unknown option '%s'", what, o);
	}
	free(c);
	return rv;
}

/* One client spec: "*", host, address, address/prefix, with (opts). */
static int
check_client(const char *spec, char *err, size_t errlen)
{
	char	 host[160], *paren, *slash;
	uint8_t	 bin[16];
	int	 fam = 0, maxp;
	long long v;
	const char *es;

	if (snprintf(host, sizeof(host), "%s", spec) >= (int)sizeof(host))
		return ERR("client '%s': too long", spec);
	if ((paren = strchr(host, '(')) != NULL) {
		char *end = strchr(paren, ')');

		if (end == NULL || end[1] != 0)
			return ERR("client '%s': options go in (...) right "
			    "after the client", spec);
		*end = 0;
		*paren = 0;
		if (check_opts(paren + 1, spec, err, errlen) < 0)
			return -1;
	}
	if (host[0] == 0)
		return ERR("client '%s': no client before the options (use "
		    "*(...) for everyone)", spec);
	if (strcmp(host, "*") == 0)
		return 0;
	if ((slash = strchr(host, '/')) != NULL)
		*slash = 0;
	if (inet_pton(AF_INET, host, bin) == 1)
		fam = 4, maxp = 32;
	else if (inet_pton(AF_INET6, host, bin) == 1)
		fam = 6, maxp = 128;
	else {
		if (slash != NULL)
			return ERR("client '%s': '%s' is not an IP address "
			    "(a /prefix needs one)", spec, host);
		for (const char *p = host; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.')
				return ERR("client '%s': not an address, "
				    "CIDR or host name", spec);
		return 0;
	}
	if (slash != NULL && parse_num(slash + 1, 0, maxp, &v, &es) < 0)
		return ERR("client '%s': prefix '%s' is %s (IPv%d: 0-%d)",
		    spec, slash + 1, es, fam, maxp);
	return 0;
}

/* Is path equal to or below dir? */
static int
path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(path, dir, n) != 0)
		return 0;
	return path[n] == 0 || path[n] == '/' || (n == 1 && dir[0] == '/');
}

static const struct cfg_lun *
lun_of_path(const struct cfg *c, const char *path)
{
	for (int i = 0; i < c->nluns; i++) {
		const char *d = c->luns[i].mode == CFG_LUN_EXT4 ?
		    c->luns[i].mountpoint : c->luns[i].data;

		if (d[0] && path_under(path, d))
			return &c->luns[i];
	}
	return NULL;
}

int
ctcm_check_export(const struct cfg *c, const struct ctcm_export *e,
    char *err, size_t errlen)
{
	char	*cl, *w, *save = NULL;
	int	 rv = 0;

	if (e->path[0] != '/')
		return ERR("export path '%s' is not absolute", e->path);
	if (strstr(e->path, "/../") || strstr(e->path, "/./") ||
	    (strlen(e->path) >= 3 &&
	    strcmp(e->path + strlen(e->path) - 3, "/..") == 0))
		return ERR("export path '%s' contains . or ..", e->path);
	if (lun_of_path(c, e->path) == NULL) {
		if (c->nluns == 0)
			return ERR("export path %s: no LUN is configured "
			    "(duonas lun add first)", e->path);
		return ERR("export path %s is outside every LUN (data "
		    "directories: %s%s)", e->path, c->luns[0].mode ==
		    CFG_LUN_EXT4 ? c->luns[0].mountpoint : c->luns[0].data,
		    c->nluns > 1 ? ", ..." : "");
	}
	if (e->id == 0)
		return ERR("export %s has no id", e->path);
	if (e->options[0] && check_opts(e->options, e->path, err, errlen) < 0)
		return -1;
	if (e->clients[0] == 0)
		return ERR("export %s lists no clients (use * for everyone)",
		    e->path);
	cl = xstrdup(e->clients);
	for (w = strtok_r(cl, " ", &save); w != NULL && rv == 0;
	    w = strtok_r(NULL, " ", &save))
		rv = check_client(w, err, errlen);
	free(cl);
	return rv;
}

static void
export_line(const struct ctcm_export *e, struct buf *o)
{
	buf_printf(o, "%s -id=%u%s%s %s\n", e->path, e->id,
	    e->options[0] ? "," : "", e->options, e->clients);
}

static int
find_export(const struct ctcm_export *v, int n, const char *key)
{
	long long	id;
	const char	*es;
	int		isid = parse_num(key, 1, UINT32_MAX, &id, &es) == 0;

	for (int i = 0; i < n; i++) {
		size_t pl = strlen(v[i].path);

		if (isid && v[i].id == (uint32_t)id)
			return i;
		if (strcmp(v[i].path, key) == 0 || (strncmp(v[i].path, key,
		    pl) == 0 && strcmp(key + pl, "/") == 0))
			return i;
	}
	return -1;
}

static void
normalize_clients(const char *in, char *out, size_t n)
{
	char	*c = xstrdup(in), *w, *save = NULL;

	out[0] = 0;
	for (w = strtok_r(c, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (out[0] && strlen(out) + 1 < n)
			strcat(out, " ");
		if (strlen(out) + strlen(w) < n)
			strcat(out, w);
	}
	free(c);
}

int
ctcm_edit_export_add(const struct cfg *c, const char *text, const char *path,
    uint32_t id, const char *clients, const char *options, struct buf *o,
    char *err, size_t errlen)
{
	struct ctcm_export	*v = NULL, e;
	int			 n, rv = -1;
	uint32_t		 maxid = 0;
	char			 p[CFG_PATH_MAX];

	if (ctcm_exports_parse(text, &v, &n, err, errlen) < 0)
		return -1;
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		ERR("export path too long");
		goto out;
	}
	if (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].path, p) == 0) {
			ERR("%s is already exported (id %u); use export set "
			    "to change it", p, v[i].id);
			goto out;
		}
		if (id != 0 && v[i].id == id) {
			ERR("export id %u is already used by %s", id,
			    v[i].path);
			goto out;
		}
		maxid = MAX(maxid, v[i].id);
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.path, sizeof(e.path), "%s", p);
	e.id = id ? id : maxid + 1;
	snprintf(e.options, sizeof(e.options), "%s", options ? options : "");
	normalize_clients(clients && *clients ? clients : "*", e.clients,
	    sizeof(e.clients));
	if (ctcm_check_export(c, &e, err, errlen) < 0)
		goto out;
	buf_add(o, text, strlen(text));
	if (o->len > 0 && o->data[o->len - 1] != '\n')
		buf_add_u8(o, '\n');
	export_line(&e, o);
	rv = 0;
out:
	free(v);
	return rv;
}

/* Rebuild text with logical line `skip` replaced by repl (or dropped). */
static void
replace_line(const char *text, int target_line, const char *repl,
    struct buf *o)
{
	struct lline	*ll;
	int		 n = split_logical(text, &ll);

	for (int i = 0; i < n; i++) {
		if (ll[i].line == target_line) {
			if (repl)
				buf_add(o, repl, strlen(repl));
			continue;
		}
		buf_add(o, text + ll[i].start, ll[i].end - ll[i].start);
	}
	free(ll);
}

int
ctcm_edit_export_rm(const char *text, const char *key, struct buf *o,
    char *err, size_t errlen)
{
	struct ctcm_export	*v = NULL;
	int			 n, i;

	if (ctcm_exports_parse(text, &v, &n, err, errlen) < 0)
		return -1;
	if ((i = find_export(v, n, key)) < 0) {
		free(v);
		return ERR("no export %s (duonas export ls lists them)", key);
	}
	replace_line(text, v[i].line, NULL, o);
	free(v);
	return 0;
}

int
ctcm_edit_export_set(const struct cfg *c, const char *text, const char *key,
    const char *clients, const char *options, struct buf *o, char *err,
    size_t errlen)
{
	struct ctcm_export	*v = NULL, e;
	struct buf		 line;
	int			 n, i, rv = -1;

	if (clients == NULL && options == NULL)
		return ERR("nothing to change: give --clients and/or "
		    "--options");
	if (ctcm_exports_parse(text, &v, &n, err, errlen) < 0)
		return -1;
	if ((i = find_export(v, n, key)) < 0) {
		free(v);
		return ERR("no export %s (duonas export ls lists them)", key);
	}
	e = v[i];
	if (clients)
		normalize_clients(clients, e.clients, sizeof(e.clients));
	if (options)
		snprintf(e.options, sizeof(e.options), "%s", options);
	if (ctcm_check_export(c, &e, err, errlen) < 0)
		goto out;
	buf_init(&line);
	export_line(&e, &line);
	replace_line(text, v[i].line, (char *)line.data, o);
	buf_free(&line);
	rv = 0;
out:
	free(v);
	return rv;
}

/* ---- duonas.conf text ------------------------------------------------ */

int
ctcm_check_cidr(const char *cidr, char *addr, size_t addrlen, int *prefix,
    char *err, size_t errlen)
{
	char		 a[64], *slash;
	uint8_t		 bin[16];
	long long	 v;
	const char	*es;
	int		 maxp;

	if (snprintf(a, sizeof(a), "%s", cidr) >= (int)sizeof(a))
		return ERR("'%s' is too long for an address", cidr);
	if ((slash = strchr(a, '/')) == NULL)
		return ERR("'%s': give ADDRESS/PREFIX (e.g. 10.0.0.5/24)",
		    cidr);
	*slash++ = 0;
	if (inet_pton(AF_INET, a, bin) == 1)
		maxp = 32;
	else if (inet_pton(AF_INET6, a, bin) == 1)
		maxp = 128;
	else
		return ERR("'%s' is not an IP address", a);
	if (parse_num(slash, 1, maxp, &v, &es) < 0)
		return ERR("'%s': prefix '%s' is %s (1-%d)", cidr, slash, es,
		    maxp);
	snprintf(addr, addrlen, "%s", a);
	*prefix = (int)v;
	return 0;
}

/* Same address in another textual form? */
static int
addr_eq(const char *a, const char *b)
{
	uint8_t	x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return 0;
}

/* Tokens of one line (words only, quotes kept simple). */
static int
line_words(const char *s, size_t n, char w[4][CFG_PATH_MAX])
{
	int	k = 0;
	size_t	i = 0;

	while (i < n && k < 4) {
		size_t o = 0;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n || s[i] == '#' || s[i] == '\n')
			break;
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"' && s[i] != '\n'; i++)
				if (o + 1 < CFG_PATH_MAX)
					w[k][o++] = s[i];
			if (i < n && s[i] == '"')
				i++;
		} else {
			for (; i < n && s[i] != ' ' && s[i] != '\t' &&
			    s[i] != '\n' && s[i] != '#'; i++)
				if (o + 1 < CFG_PATH_MAX)
					w[k][o++] = s[i];
		}
		w[k][o] = 0;
		k++;
	}
	return k;
}

/* Walk lines; cb gets the block ("head A", "lun x" or "") of each line. */
struct walk {
	char	blktype[8];
	char	blkname[CFG_NAME_MAX];
};

static int
walk_line(struct walk *st, const char *s, size_t n, char w[4][CFG_PATH_MAX])
{
	int k = line_words(s, n, w);

	if (k == 3 && strcmp(w[2], "{") == 0 && (strcmp(w[0], "head") == 0 ||
	    strcmp(w[0], "lun") == 0)) {
		snprintf(st->blktype, sizeof(st->blktype), "%s", w[0]);
		snprintf(st->blkname, sizeof(st->blkname), "%s", w[1]);
		return 1;	/* opens a block */
	}
	if (k == 2 && strcmp(w[1], "{") == 0) {
		snprintf(st->blktype, sizeof(st->blktype), "%s", w[0]);
		st->blkname[0] = 0;
		return 1;
	}
	if (k >= 1 && strcmp(w[0], "}") == 0)
		return 2;	/* closes */
	return k == 0 ? 0 : 3;
}

int
ctcm_edit_ip_add(const struct cfg *c, const char *text, const char *head,
    const char *cidr, const char *dev, struct buf *o, char *err,
    size_t errlen)
{
	char		 addr[64], w[4][CFG_PATH_MAX];
	int		 prefix, h, done = 0;
	struct walk	 st = { "", "" };
	const char	*p = text;

	if ((h = cfg_head_find(c, head)) < 0)
		return ERR("no head '%s' (heads: %s, %s)", head,
		    c->heads[0].name, c->heads[1].name);
	if (ctcm_check_cidr(cidr, addr, sizeof(addr), &prefix, err,
	    errlen) < 0)
		return -1;
	if (dev == NULL || dev[0] == 0 || strlen(dev) >= 16 ||
	    strpbrk(dev, " /\t\"#") != NULL)
		return ERR("interface name '%s' is not valid (1-15 "
		    "characters, no spaces or '/')", dev ? dev : "");
	for (int i = 0; i < c->nheads; i++)
		for (int j = 0; j < c->heads[i].nvips; j++)
			if (addr_eq(c->heads[i].vips[j].addr, addr))
				return ERR("%s is already a service IP of "
				    "head %s", addr, c->heads[i].name);
	for (int i = 0; i < c->nheads; i++)
		for (int j = 0; j < c->heads[i].nlinks; j++) {
			char lh[96], *colon;

			snprintf(lh, sizeof(lh), "%s", c->heads[i].links[j].text);
			if (lh[0] == '[') {
				memmove(lh, lh + 1, strlen(lh));
				if ((colon = strchr(lh, ']')) != NULL)
					*colon = 0;
			} else if ((colon = strrchr(lh, ':')) != NULL)
				*colon = 0;
			if (addr_eq(lh, addr))
				return ERR("%s is head %s's peer-link address",
				    addr, c->heads[i].name);
		}
	if (c->heads[h].nvips == CFG_MAX_VIPS)
		return ERR("head %s already has %d service IPs (the maximum)",
		    head, CFG_MAX_VIPS);
	while (*p) {
		const char	*nl = strchr(p, '\n');
		size_t		 n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		int		 k = walk_line(&st, p, n, w);

		if (k == 2 && !done && strcmp(st.blktype, "head") == 0 &&
		    strcmp(st.blkname, head) == 0) {
			buf_printf(o, "  service-ip %s/%d dev %s\n", addr,
			    prefix, dev);
			done = 1;
		}
		if (k == 2)
			st.blktype[0] = st.blkname[0] = 0;
		buf_add(o, p, n);
		p += n;
	}
	if (!done)
		return ERR("head %s's block not found in the configuration "
		    "text", head);
	return 0;
}

int
ctcm_edit_ip_rm(const struct cfg *c, const char *text, const char *addr_in,
    struct buf *o, char *err, size_t errlen)
{
	char		 addr[64], w[4][CFG_PATH_MAX], *slash;
	struct walk	 st = { "", "" };
	const char	*p = text;
	int		 found = 0;

	(void)c;
	snprintf(addr, sizeof(addr), "%s", addr_in);
	if ((slash = strchr(addr, '/')) != NULL)
		*slash = 0;
	{
		uint8_t bin[16];
		if (inet_pton(AF_INET, addr, bin) != 1 &&
		    inet_pton(AF_INET6, addr, bin) != 1)
			return ERR("'%s' is not an IP address", addr_in);
	}
	while (*p) {
		const char	*nl = strchr(p, '\n');
		size_t		 n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		int		 k = walk_line(&st, p, n, w);

		if (k == 3 && strcmp(st.blktype, "head") == 0 &&
		    strcmp(w[0], "service-ip") == 0) {
			char a[CFG_PATH_MAX];

			snprintf(a, sizeof(a), "%s", w[1]);
			if ((slash = strchr(a, '/')) != NULL)
				*slash = 0;
			if (addr_eq(a, addr)) {
				found++;
				p += n;
				continue;
			}
		}
		if (k == 2)
			st.blktype[0] = st.blkname[0] = 0;
		buf_add(o, p, n);
		p += n;
	}
	if (!found)
		return ERR("%s is not a service IP (duonas ip ls lists them)",
		    addr);
	return 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CFG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

int
ctcm_edit_lun_add(const struct cfg *c, const char *text, const char *name,
    uint32_t id, const char *path, const char *mode, const char *data,
    const char *home, struct buf *o, char *err, size_t errlen)
{
	int	ext4;

	if (!valid_name(name))
		return ERR("LUN name '%s': use 1-%d letters, digits, '-', '_', "
		    "'.'", name, CFG_NAME_MAX - 1);
	if (id == 0 || id > 65535)
		return ERR("LUN id must be 1-65535 (--id)");
	if (path == NULL || path[0] != '/' || strpbrk(path, "\"\n") ||
	    strlen(path) >= CFG_PATH_MAX)
		return ERR("LUN path '%s' must be an absolute path (--path)",
		    path ? path : "");
	if (mode == NULL || (strcmp(mode, "directory") != 0 &&
	    strcmp(mode, "ext4") != 0))
		return ERR("--mode must be directory or ext4");
	ext4 = strcmp(mode, "ext4") == 0;
	if (data == NULL || data[0] != '/' || strpbrk(data, "\"\n") ||
	    strlen(data) >= CFG_PATH_MAX)
		return ERR("%s '%s' must be an absolute path", ext4 ?
		    "--mountpoint" : "--data", data ? data : "");
	if (home == NULL || cfg_head_find(c, home) < 0)
		return ERR("--home '%s' is not a head (heads: %s, %s)",
		    home ? home : "", c->heads[0].name, c->heads[1].name);
	if (c->nluns == CFG_MAX_LUNS)
		return ERR("already %d LUNs (the maximum)", CFG_MAX_LUNS);
	for (int i = 0; i < c->nluns; i++) {
		const struct cfg_lun *l = &c->luns[i];
		const char *d = l->mode == CFG_LUN_EXT4 ? l->mountpoint :
		    l->data;

		if (strcmp(l->name, name) == 0)
			return ERR("LUN %s already exists", name);
		if (l->id == id)
			return ERR("LUN id %u is already used by LUN %s", id,
			    l->name);
		if (strcmp(l->path, path) == 0)
			return ERR("%s is already LUN %s", path, l->name);
		if (path_under(data, d) || path_under(d, data))
			return ERR("%s overlaps LUN %s's %s", data, l->name,
			    d);
	}
	buf_add(o, text, strlen(text));
	if (o->len > 0 && o->data[o->len - 1] != '\n')
		buf_add_u8(o, '\n');
	buf_printf(o, "\nlun %s {\n  id %u\n  path \"%s\"\n  mode %s\n"
	    "  %s \"%s\"\n  home %s\n}\n", name, id, path, mode,
	    ext4 ? "mountpoint" : "data", data, home);
	return 0;
}

int
ctcm_edit_lun_rm(const struct cfg *c, const char *text, const char *exports,
    const char *name, struct buf *o, char *err, size_t errlen)
{
	struct ctcm_export	*v = NULL;
	const struct cfg_lun	*l = NULL;
	char			 w[4][CFG_PATH_MAX];
	struct walk		 st = { "", "" };
	const char		*p = text;
	int			 n, skipping = 0, found = 0;

	for (int i = 0; i < c->nluns; i++)
		if (strcmp(c->luns[i].name, name) == 0)
			l = &c->luns[i];
	if (l == NULL)
		return ERR("no LUN %s (duonas lun ls lists them)", name);
	if (ctcm_exports_parse(exports, &v, &n, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *d = l->mode == CFG_LUN_EXT4 ? l->mountpoint :
		    l->data;

		if (d[0] && path_under(v[i].path, d)) {
			ERR("LUN %s still holds export %s (id %u); remove the "
			    "export first", name, v[i].path, v[i].id);
			free(v);
			return -1;
		}
	}
	free(v);
	while (*p) {
		const char	*nl = strchr(p, '\n');
		size_t		 len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		int		 k = walk_line(&st, p, len, w);

		if (k == 1 && strcmp(st.blktype, "lun") == 0 &&
		    strcmp(st.blkname, name) == 0) {
			skipping = 1;
			found = 1;
		}
		if (!skipping)
			buf_add(o, p, len);
		if (k == 2) {
			skipping = 0;
			st.blktype[0] = st.blkname[0] = 0;
		}
		p += len;
	}
	if (!found)
		return ERR("LUN %s's block not found in the configuration text",
		    name);
	return 0;
}

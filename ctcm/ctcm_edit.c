/*
 * ctcm_edit.c — the edits behind `duonas export|ip|lun add|rm|set`: they
 * turn the current configuration text into the proposed one, keeping
 * every other line (and comment) as it was.
 *
 * Each edit checks its own input first (bad CIDR, address in use,
 * unknown export, path outside every LUN, ...) and names the problem.
 * One format, one parser: the exports text is read only through
 * common/exports.c (the NFS server's parser and limits) and duonas.conf
 * only through common/cfg.c (cfg_walk to find the place of an edit,
 * cfg_parse_buf to check its result), so what validates a change is what
 * loads it; the transaction parses the whole result once more before
 * anything is written.  Pure functions: no file system access, no global
 * state.
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

/* ---- exports text: common/exports.c is the only parser ------------ */

/* Read exports text: strict (what the NFS server loads), or lenient on
 * the number of exports (to remove from a file a bug let grow). */
static int
exports_read(const char *text, int flags, struct exports_tab *x, char *err,
    size_t errlen)
{
	return exports_parse(text, strlen(text), "exports", flags, x, err,
	    errlen);
}

static void
export_from(const struct exports_entry *x, struct ctcm_export *e)
{
	size_t	n = 0;

	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", x->path);
	snprintf(e->options, sizeof(e->options), "%s", x->options);
	e->id = x->id;
	e->line = x->line;
	for (int i = 0; i < x->nclients; i++)
		n += (size_t)snprintf(e->clients + n, sizeof(e->clients) - n,
		    "%s%s", i ? " " : "", x->clients[i].spec);
}

int
ctcm_exports_parse(const char *text, struct ctcm_export **ep, int *np,
    char *err, size_t errlen)
{
	struct exports_tab	x;

	*ep = NULL;
	*np = 0;
	if (exports_read(text, 0, &x, err, errlen) < 0)
		return -1;
	*ep = xcalloc((size_t)(x.n ? x.n : 1), sizeof(**ep));
	for (int i = 0; i < x.n; i++)
		export_from(&x.v[i], &(*ep)[i]);
	*np = x.n;
	exports_free(&x);
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

const struct cfg_lun *
ctcm_lun_of_path(const struct cfg *c, const char *path)
{
	for (int i = 0; i < c->nluns; i++) {
		const char *d = c->luns[i].mode == CFG_LUN_EXT4 ?
		    c->luns[i].mountpoint : c->luns[i].data;

		if (d[0] && path_under(path, d))
			return &c->luns[i];
	}
	return NULL;
}

/* What only the configuration can tell: the export lies in a LUN. */
int
ctcm_check_export(const struct cfg *c, const struct ctcm_export *e,
    char *err, size_t errlen)
{
	if (e->path[0] != '/')
		return ERR("export path '%s' is not absolute", e->path);
	if (ctcm_lun_of_path(c, e->path) == NULL) {
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
	if (e->clients[0] == 0)
		return ERR("export %s lists no clients (use * for everyone)",
		    e->path);
	return 0;
}

static void
export_line(const struct ctcm_export *e, struct buf *o)
{
	buf_printf(o, "%s -id=%u%s%s %s\n", e->path, e->id,
	    e->options[0] ? "," : "", e->options, e->clients);
}

static int
find_export(const struct exports_tab *x, const char *key)
{
	long long	id;
	const char	*es;
	int		isid = parse_num(key, 1, UINT32_MAX, &id, &es) == 0;

	for (int i = 0; i < x->n; i++) {
		const char	*p = x->v[i].path;
		size_t		 pl = strlen(p);

		if (isid && x->v[i].id == (uint32_t)id)
			return i;
		if (strcmp(p, key) == 0 || (strncmp(p, key, pl) == 0 &&
		    strcmp(key + pl, "/") == 0))
			return i;
	}
	return -1;
}

/*
 * Command-line input becomes one line of the file: nothing in it may
 * end the line, continue it, start a comment, or (options) split a word.
 */
static int
check_input(const char *what, const char *s, int oneword, char *err,
    size_t errlen)
{
	if (s == NULL)
		return 0;
	if (strpbrk(s, oneword ? "\n\r\\# \t" : "\n\r\\#") != NULL)
		return ERR("%s '%s': no line breaks, backslashes or '#'%s",
		    what, s, oneword ? ", no spaces" : "");
	return 0;
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

/*
 * The proposed file is parsed again as the NFS server will load it, and
 * the export that changed must be the line we wrote and lie in a LUN.
 */
static int
check_result(const struct cfg *c, struct buf *n, const char *path,
    struct buf *o, char *err, size_t errlen)
{
	struct exports_tab	x;
	struct ctcm_export	e;
	int			i, rv;

	if (exports_read((const char *)n->data, 0, &x, err, errlen) < 0) {
		buf_free(n);
		return -1;
	}
	for (i = 0; i < x.n; i++)
		if (strcmp(x.v[i].path, path) == 0)
			break;
	if (i == x.n)
		rv = ERR("export %s: the line written does not read back",
		    path);
	else {
		export_from(&x.v[i], &e);
		rv = ctcm_check_export(c, &e, err, errlen);
	}
	exports_free(&x);
	if (rv == 0)
		buf_add(o, n->data, n->len);
	buf_free(n);
	return rv;
}

int
ctcm_edit_export_add(const struct cfg *c, const char *text, const char *path,
    uint32_t id, const char *clients, const char *options, struct buf *o,
    char *err, size_t errlen)
{
	struct exports_tab	 x;
	struct ctcm_export	 e;
	struct buf		 n;
	int			 rv = -1;
	uint32_t		 maxid = 0;

	if (exports_read(text, EXPORTS_ANY_COUNT, &x, err, errlen) < 0)
		return -1;
	memset(&e, 0, sizeof(e));
	if (snprintf(e.path, sizeof(e.path), "%s", path) >=
	    (int)sizeof(e.path)) {
		ERR("export path too long (max %zu bytes)",
		    sizeof(e.path) - 1);
		goto out;
	}
	if (strlen(e.path) > 1 && e.path[strlen(e.path) - 1] == '/')
		e.path[strlen(e.path) - 1] = 0;
	if (check_input("export path", e.path, 1, err, errlen) < 0 ||
	    check_input("--clients", clients, 0, err, errlen) < 0 ||
	    check_input("--options", options, 1, err, errlen) < 0)
		goto out;
	if (options != NULL && (strncmp(options, "id=", 3) == 0 ||
	    strstr(options, ",id=") != NULL)) {
		ERR("%s: give the export id with --id, not in the options",
		    e.path);
		goto out;
	}
	for (int i = 0; i < x.n; i++) {
		if (strcmp(x.v[i].path, e.path) == 0) {
			ERR("%s is already exported (id %u); use export set "
			    "to change it", e.path, x.v[i].id);
			goto out;
		}
		if (id != 0 && x.v[i].id == id) {
			ERR("export id %u is already used by %s", id,
			    x.v[i].path);
			goto out;
		}
		maxid = MAX(maxid, x.v[i].id);
	}
	if (x.n >= EXPORTS_MAX) {
		ERR("%d exports already: that is the maximum the NFS server "
		    "serves (remove one first)", x.n);
		goto out;
	}
	if (id == 0 && maxid == UINT32_MAX) {
		ERR("no free export id above %u: give one with --id", maxid);
		goto out;
	}
	e.id = id ? id : maxid + 1;
	snprintf(e.options, sizeof(e.options), "%s", options ? options : "");
	normalize_clients(clients && *clients ? clients : "*", e.clients,
	    sizeof(e.clients));
	buf_init(&n);
	buf_add(&n, text, strlen(text));
	if (n.len > 0 && n.data[n.len - 1] != '\n')
		buf_add_u8(&n, '\n');
	export_line(&e, &n);
	rv = check_result(c, &n, e.path, o, err, errlen);
out:
	exports_free(&x);
	return rv;
}

/* text with the logical line [start, end) replaced by repl (or dropped) */
static void
splice(const char *text, size_t start, size_t end, const char *repl,
    struct buf *o)
{
	buf_add(o, text, start);
	if (repl != NULL)
		buf_add(o, repl, strlen(repl));
	buf_add(o, text + end, strlen(text) - end);
}

int
ctcm_edit_export_rm(const char *text, const char *key, struct buf *o,
    char *err, size_t errlen)
{
	struct exports_tab	x;
	int			i;

	if (exports_read(text, EXPORTS_ANY_COUNT, &x, err, errlen) < 0)
		return -1;
	if ((i = find_export(&x, key)) < 0) {
		exports_free(&x);
		return ERR("no export %s (duonas export ls lists them)", key);
	}
	splice(text, x.v[i].start, x.v[i].end, NULL, o);
	exports_free(&x);
	return 0;
}

int
ctcm_edit_export_set(const struct cfg *c, const char *text, const char *key,
    const char *clients, const char *options, struct buf *o, char *err,
    size_t errlen)
{
	struct exports_tab	 x;
	struct ctcm_export	 e;
	struct buf		 line, n;
	int			 i, rv = -1;

	if (clients == NULL && options == NULL)
		return ERR("nothing to change: give --clients and/or "
		    "--options");
	if (check_input("--clients", clients, 0, err, errlen) < 0 ||
	    check_input("--options", options, 1, err, errlen) < 0)
		return -1;
	if (options != NULL && (strncmp(options, "id=", 3) == 0 ||
	    strstr(options, ",id=") != NULL))
		return ERR("the export id cannot change (it is inside every "
		    "file handle)");
	if (exports_read(text, EXPORTS_ANY_COUNT, &x, err, errlen) < 0)
		return -1;
	if ((i = find_export(&x, key)) < 0) {
		ERR("no export %s (duonas export ls lists them)", key);
		goto out;
	}
	export_from(&x.v[i], &e);
	if (clients)
		normalize_clients(clients, e.clients, sizeof(e.clients));
	if (options)
		snprintf(e.options, sizeof(e.options), "%s", options);
	buf_init(&line);
	buf_init(&n);
	export_line(&e, &line);
	splice(text, x.v[i].start, x.v[i].end, (char *)line.data, &n);
	buf_free(&line);
	rv = check_result(c, &n, e.path, o, err, errlen);
out:
	exports_free(&x);
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

/*
 * Edits of duonas.conf find their place with cfg_walk(): the parser's
 * own tokenizer and block structure, so an edit sees the file exactly as
 * the daemon will read it.  The walker's callback copies the text it
 * keeps to the output as it goes.
 */
enum conf_op { EDIT_IP_ADD, EDIT_IP_RM, EDIT_LUN_RM };

struct conf_edit {
	enum conf_op	 op;
	const char	*text;
	struct buf	*o;
	size_t		 pos;		/* text copied up to here */
	int		 hits;
	int		 skipping;
	const char	*name;		/* head (ip add) or lun (lun rm) */
	const char	*addr;		/* ip rm */
	const char	*line;		/* ip add: the line to insert */
};

static void
keep_until(struct conf_edit *ce, size_t at)
{
	buf_add(ce->o, ce->text + ce->pos, at - ce->pos);
	ce->pos = at;
}

static int
conf_edit_cb(const struct cfg_line *L, void *arg)
{
	struct conf_edit	*ce = arg;
	char			 a[64], *slash;

	switch (ce->op) {
	case EDIT_IP_ADD:
		if (L->kind == CFG_L_CLOSE && ce->hits == 0 &&
		    strcmp(L->block, "head") == 0 &&
		    strcmp(L->name, ce->name) == 0) {
			keep_until(ce, L->start);
			buf_add(ce->o, ce->line, strlen(ce->line));
			ce->hits++;
		}
		break;
	case EDIT_IP_RM:
		if (L->kind != CFG_L_STMT || strcmp(L->block, "head") != 0 ||
		    L->ntok < 2 || strcmp(L->tok[0], "service-ip") != 0)
			break;
		snprintf(a, sizeof(a), "%s", L->tok[1]);
		if ((slash = strchr(a, '/')) != NULL)
			*slash = 0;
		if (addr_eq(a, ce->addr)) {
			keep_until(ce, L->start);
			ce->pos = L->end;
			ce->hits++;
		}
		break;
	case EDIT_LUN_RM:
		if (L->kind == CFG_L_OPEN && strcmp(L->block, "lun") == 0 &&
		    strcmp(L->name, ce->name) == 0) {
			keep_until(ce, L->start);
			ce->skipping = 1;
			ce->hits++;
		} else if (L->kind == CFG_L_CLOSE && ce->skipping) {
			ce->pos = L->end;
			ce->skipping = 0;
		}
		break;
	}
	return 0;
}

/* Parse a proposed duonas.conf the way the daemon will load it; it
 * goes to o only when it parses. */
static int
conf_commit(struct buf *n, struct buf *o, char *err, size_t errlen)
{
	struct cfg	*c = xmalloc(sizeof(*c));
	int		 rv;

	rv = cfg_parse_buf("duonas.conf", (const char *)n->data, n->len, c,
	    err, errlen);
	free(c);
	if (rv == 0)
		buf_add(o, n->data, n->len);
	buf_free(n);
	return rv;
}

/* Run the edit over the current text; the result goes to o when the
 * edit applied (hits) and the result parses. */
static int
conf_edit_run(struct conf_edit *ce, struct buf *o, char *err, size_t errlen)
{
	struct buf	n;

	buf_init(&n);
	ce->o = &n;
	if (cfg_walk("duonas.conf", ce->text, strlen(ce->text), conf_edit_cb,
	    ce, err, errlen) < 0) {
		buf_free(&n);
		return -1;
	}
	keep_until(ce, strlen(ce->text));
	if (ce->hits == 0) {
		buf_free(&n);
		return 0;
	}
	return conf_commit(&n, o, err, errlen);
}

int
ctcm_edit_ip_add(const struct cfg *c, const char *text, const char *head,
    const char *cidr, const char *dev, struct buf *o, char *err,
    size_t errlen)
{
	char			 addr[64], line[160];
	int			 prefix, h;
	struct conf_edit	 ce;

	if ((h = cfg_head_find(c, head)) < 0)
		return ERR("no head '%s' (heads: %s, %s)", head,
		    c->heads[0].name, c->heads[1].name);
	if (ctcm_check_cidr(cidr, addr, sizeof(addr), &prefix, err,
	    errlen) < 0)
		return -1;
	if (dev == NULL || dev[0] == 0 || strlen(dev) >= 16 ||
	    strpbrk(dev, " /\t\r\n\"#{}\\") != NULL)
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
	snprintf(line, sizeof(line), "  service-ip %s/%d dev %s\n", addr,
	    prefix, dev);
	memset(&ce, 0, sizeof(ce));
	ce.op = EDIT_IP_ADD;
	ce.text = text;
	ce.name = head;
	ce.line = line;
	if (conf_edit_run(&ce, o, err, errlen) < 0)
		return -1;
	if (ce.hits == 0)
		return ERR("head %s's block not found in the configuration "
		    "text", head);
	return 0;
}

int
ctcm_edit_ip_rm(const struct cfg *c, const char *text, const char *addr_in,
    struct buf *o, char *err, size_t errlen)
{
	char			 addr[64], *slash;
	struct conf_edit	 ce;

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
	memset(&ce, 0, sizeof(ce));
	ce.op = EDIT_IP_RM;
	ce.text = text;
	ce.addr = addr;
	if (conf_edit_run(&ce, o, err, errlen) < 0)
		return -1;
	if (ce.hits == 0)
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
	struct buf	n;
	int		ext4;

	if (!valid_name(name))
		return ERR("LUN name '%s': use 1-%d letters, digits, '-', '_', "
		    "'.'", name, CFG_NAME_MAX - 1);
	if (id == 0 || id > 65535)
		return ERR("LUN id must be 1-65535 (--id)");
	if (path == NULL || path[0] != '/' || strpbrk(path, "\"\n\r\\") ||
	    strlen(path) >= CFG_PATH_MAX)
		return ERR("LUN path '%s' must be an absolute path (--path)",
		    path ? path : "");
	if (mode == NULL || (strcmp(mode, "directory") != 0 &&
	    strcmp(mode, "ext4") != 0))
		return ERR("--mode must be directory or ext4");
	ext4 = strcmp(mode, "ext4") == 0;
	if (data == NULL || data[0] != '/' || strpbrk(data, "\"\n\r\\") ||
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
	buf_init(&n);
	buf_add(&n, text, strlen(text));
	if (n.len > 0 && n.data[n.len - 1] != '\n')
		buf_add_u8(&n, '\n');
	buf_printf(&n, "\nlun %s {\n  id %u\n  path \"%s\"\n  mode %s\n"
	    "  %s \"%s\"\n  home %s\n}\n", name, id, path, mode,
	    ext4 ? "mountpoint" : "data", data, home);
	return conf_commit(&n, o, err, errlen);
}

int
ctcm_edit_lun_rm(const struct cfg *c, const char *text, const char *exports,
    const char *name, struct buf *o, char *err, size_t errlen)
{
	struct exports_tab	 x;
	const struct cfg_lun	*l = NULL;
	struct conf_edit	 ce;

	for (int i = 0; i < c->nluns; i++)
		if (strcmp(c->luns[i].name, name) == 0)
			l = &c->luns[i];
	if (l == NULL)
		return ERR("no LUN %s (duonas lun ls lists them)", name);
	if (exports_read(exports, EXPORTS_ANY_COUNT, &x, err, errlen) < 0)
		return -1;
	for (int i = 0; i < x.n; i++) {
		const char *d = l->mode == CFG_LUN_EXT4 ? l->mountpoint :
		    l->data;

		if (d[0] && path_under(x.v[i].path, d)) {
			ERR("LUN %s still holds export %s (id %u); remove the "
			    "export first", name, x.v[i].path, x.v[i].id);
			exports_free(&x);
			return -1;
		}
	}
	exports_free(&x);
	memset(&ce, 0, sizeof(ce));
	ce.op = EDIT_LUN_RM;
	ce.text = text;
	ce.name = name;
	if (conf_edit_run(&ce, o, err, errlen) < 0)
		return -1;
	if (ce.hits == 0)
		return ERR("LUN %s's block not found in the configuration text",
		    name);
	return 0;
}

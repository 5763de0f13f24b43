/*
 * cfg.c — parser for duonas.conf.
 *
 * A small hand-written tokenizer: words, "quoted strings", '{', '}' and
 * newlines; '#' starts a comment.  Statements are "keyword args..." on one
 * line; blocks are "head NAME {", "lun NAME {", "nfs {", "link {",
 * "heartbeat {", "pso {", "config {", "health {".  One walker (cfg_walk)
 * applies the tokenizer and the block structure line by line, for this
 * parser and for the configuration editors (ctcm/ctcm_edit.c), so both
 * read the file the same way.  Every error names the file, the line and
 * the problem, and nothing of a bad file is used.  Semantic checks (two
 * heads, distinct ids, exactly one master, a link address each) run after
 * the whole file has been read.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/util.h"

#define MAXTOK	16

struct pstate {
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
	struct cfg	*cfg;
};

static int
perr(struct pstate *ps, const char *fmt, ...)
{
	va_list	ap;

	/* no file: a tunable from cfg_tunable_set() */
	va_start(ap, fmt);
	err_atv(ps->err, ps->errlen, ps->file, ps->line, fmt, ap);
	va_end(ap);
	return -1;
}

int
cfg_addr_parse(const char *s, int defport, struct cfg_addr *a)
{
	char		 host[64], *p;
	const char	*port = NULL;
	struct addrinfo	 hints, *res = NULL;
	char		 portbuf[16];

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(host))
		return -1;
	if (s[0] == '[') {
		snprintf(host, sizeof(host), "%s", s + 1);
		if ((p = strchr(host, ']')) == NULL)
			return -1;
		*p++ = 0;
		if (*p == ':')
			port = p + 1;
		else if (*p != 0)
			return -1;
	} else {
		snprintf(host, sizeof(host), "%s", s);
		p = strrchr(host, ':');
		if (p && strchr(host, ':') == p) {
			*p = 0;
			port = p + 1;
		}
	}
	if (port == NULL) {
		if (defport <= 0)
			return -1;
		snprintf(portbuf, sizeof(portbuf), "%d", defport);
		port = portbuf;
	} else {
		long long v;
		const char *es;
		if (parse_num(port, 1, 65535, &v, &es) < 0)
			return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return -1;
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (a->ss.ss_family == AF_INET6)
		snprintf(a->text, sizeof(a->text), "[%s]:%s", host, port);
	else
		snprintf(a->text, sizeof(a->text), "%s:%s", host, port);
	return 0;
}

/*
 * Split one line (n bytes, without its newline) into tokens.  The rules
 * (duonas.conf(5), "Syntax"):
 *   - blanks are spaces and tabs; any other control character (NUL,
 *     CR, ...) is an error, also inside a quoted string;
 *   - '{' and '}' are always tokens of their own, also glued to a word
 *     ("head A{" is "head" "A" "{");
 *   - '#' outside a quoted string starts a comment, also glued to a
 *     word ("cluster demo#note" is "cluster" "demo"), as duonas.conf(5)
 *     has always said: reading it as part of the word would silently
 *     change the value of an existing "path /dev/sdb#old" line;
 *   - "quoted strings" (backslash quotes the next character) must stand
 *     apart from words: a quote glued to a word, or a word glued to a
 *     closing quote, is an error, since either reading would guess;
 *   - at most MAXTOK tokens.
 * Bit i of *brace is set when token i is a brace (a quoted "{" is a
 * word, not a block opening).
 * Every error names the line; nothing of the line is dropped silently.
 * The tokens are copied NUL-terminated into out (outlen bytes); each
 * input byte yields at most one output byte and each token one NUL, and
 * a token takes at least one input byte, so 2 * n + 1 bytes always
 * suffice; every write is checked against outlen all the same.  The
 * line itself is not modified.  Returns the token count or -1.
 */
static int
tokenize(struct pstate *ps, const char *line, size_t n, char *out,
    size_t outlen, char **tok, unsigned *brace)
{
	size_t	 i = 0, w = 0;
	int	 ntok = 0;

	*brace = 0;
#define BLANK(c)	((c) == ' ' || (c) == '\t')
#define PUT(c) do {							\
	if (w >= outlen)						\
		return perr(ps, "line too long for the tokenizer");	\
	out[w++] = (c);							\
} while (0)

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return perr(ps, "control character 0x%02x in column "
			    "%zu%s", c, i + 1, c == '\r' ? " (a DOS line "
			    "end? duonas.conf uses plain newlines)" : "");
	}
	i = 0;
	for (;;) {
		while (i < n && BLANK(line[i]))
			i++;
		if (i == n || line[i] == '#')
			break;
		if (ntok == MAXTOK)
			return perr(ps, "too many words on one line (at most "
			    "%d)", MAXTOK);
		tok[ntok++] = out + w;
		if (line[i] == '{' || line[i] == '}') {
			*brace |= 1u << (ntok - 1);
			PUT(line[i]);
			i++;
		} else if (line[i] == '"') {
			for (i++; i < n && line[i] != '"'; i++) {
				if (line[i] == '\\' && i + 1 < n)
					i++;
				PUT(line[i]);
			}
			if (i == n)
				return perr(ps, "unterminated quoted string");
			i++;
			if (i < n && !BLANK(line[i]) && line[i] != '{' &&
			    line[i] != '}' && line[i] != '#')
				return perr(ps, "text glued to the end of a "
				    "quoted string (column %zu): put a blank "
				    "between them", i + 1);
		} else {
			size_t s = i;

			while (i < n && !BLANK(line[i]) && line[i] != '{' &&
			    line[i] != '}' && line[i] != '"' && line[i] != '#')
				PUT(line[i++]);
			if (i < n && line[i] == '"')
				return perr(ps, "a quote glued to the word "
				    "'%.*s' (column %zu): put a blank before "
				    "the quote", (int)(i - s), line + s, i + 1);
		}
		PUT(0);
	}
	return ntok;
#undef PUT
#undef BLANK
}

static int
num_arg(struct pstate *ps, char **tok, int ntok, long long min,
    long long max, int *out)
{
	long long	 v;
	const char	*es;

	if (ntok != 2)
		return perr(ps, "'%s' takes one number", tok[0]);
	if (parse_num(tok[1], min, max, &v, &es) < 0)
		return perr(ps, "'%s': value '%s' is %s (allowed %lld..%lld)",
		    tok[0], tok[1], es, min, max);
	*out = (int)v;
	return 0;
}

static int
str_arg(struct pstate *ps, char **tok, int ntok, char *dst, size_t len)
{
	if (ntok != 2)
		return perr(ps, "'%s' takes one argument", tok[0]);
	if (strlen(tok[1]) == 0)
		return perr(ps, "'%s': empty value", tok[0]);
	if (strlen(tok[1]) >= len)
		return perr(ps, "'%s': value too long (max %zu)", tok[0],
		    len - 1);
	snprintf(dst, len, "%s", tok[1]);
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

static int
parse_vip(struct pstate *ps, struct cfg_head *h, char **tok, int ntok)
{
	struct cfg_vip	*v;
	char		 a[64], *slash;
	long long	 pfx;
	const char	*es;
	unsigned char	 bin[16];

	/* service-ip ADDR/PREFIX dev IFNAME */
	if (ntok != 4 || strcmp(tok[2], "dev") != 0)
		return perr(ps, "usage: service-ip ADDRESS/PREFIX dev INTERFACE");
	if (h->nvips == CFG_MAX_VIPS)
		return perr(ps, "too many service IPs (max %d)", CFG_MAX_VIPS);
	v = &h->vips[h->nvips];
	snprintf(a, sizeof(a), "%s", tok[1]);
	if ((slash = strchr(a, '/')) == NULL)
		return perr(ps, "service-ip '%s': missing /PREFIX", tok[1]);
	*slash++ = 0;
	if (inet_pton(AF_INET, a, bin) == 1)
		v->family = AF_INET;
	else if (inet_pton(AF_INET6, a, bin) == 1)
		v->family = AF_INET6;
	else
		return perr(ps, "service-ip '%s': not an IP address", a);
	if (parse_num(slash, 1, v->family == AF_INET ? 32 : 128, &pfx,
	    &es) < 0)
		return perr(ps, "service-ip '%s': prefix '%s' is %s", tok[1],
		    slash, es);
	if (strlen(tok[3]) >= sizeof(v->dev))
		return perr(ps, "service-ip: interface name too long");
	snprintf(v->addr, sizeof(v->addr), "%s", a);
	v->prefix = (int)pfx;
	snprintf(v->dev, sizeof(v->dev), "%s", tok[3]);
	h->nvips++;
	return 0;
}

static int
head_stmt(struct pstate *ps, struct cfg_head *h, char **tok, int ntok)
{
	int v;

	if (strcmp(tok[0], "id") == 0) {
		if (num_arg(ps, tok, ntok, 1, 255, &v) < 0)
			return -1;
		h->id = (uint32_t)v;
	} else if (strcmp(tok[0], "role") == 0) {
		if (ntok != 2)
			return perr(ps, "'role' takes master or slave");
		if (strcmp(tok[1], "master") == 0)
			h->role = CFG_ROLE_MASTER;
		else if (strcmp(tok[1], "slave") == 0)
			h->role = CFG_ROLE_SLAVE;
		else
			return perr(ps, "role '%s': must be master or slave",
			    tok[1]);
	} else if (strcmp(tok[0], "link") == 0) {
		if (ntok != 2)
			return perr(ps, "'link' takes one ADDRESS[:PORT]");
		if (h->nlinks == CFG_MAX_LINKS)
			return perr(ps, "too many link addresses (max %d)",
			    CFG_MAX_LINKS);
		if (cfg_addr_parse(tok[1], 7400, &h->links[h->nlinks]) < 0)
			return perr(ps, "link '%s': not a numeric "
			    "ADDRESS[:PORT]", tok[1]);
		h->nlinks++;
	} else if (strcmp(tok[0], "service-ip") == 0) {
		return parse_vip(ps, h, tok, ntok);
	} else if (strcmp(tok[0], "statedir") == 0) {
		return str_arg(ps, tok, ntok, h->statedir, sizeof(h->statedir));
	} else if (strcmp(tok[0], "rundir") == 0) {
		return str_arg(ps, tok, ntok, h->rundir, sizeof(h->rundir));
	} else if (strcmp(tok[0], "socket") == 0) {
		return str_arg(ps, tok, ntok, h->socket, sizeof(h->socket));
	} else if (strcmp(tok[0], "nfs-bind") == 0) {
		return str_arg(ps, tok, ntok, h->nfs_bind, sizeof(h->nfs_bind));
	} else if (strcmp(tok[0], "http") == 0) {
		struct cfg_addr a;

		if (str_arg(ps, tok, ntok, h->http, sizeof(h->http)) < 0)
			return -1;
		if (strcmp(h->http, "off") != 0 &&
		    cfg_addr_parse(h->http, CFG_HTTP_PORT, &a) < 0)
			return perr(ps, "http '%s': not \"off\" or a numeric "
			    "ADDRESS[:PORT]", h->http);
	} else if (strcmp(tok[0], "watchdog") == 0) {
		if (str_arg(ps, tok, ntok, h->watchdog,
		    sizeof(h->watchdog)) < 0)
			return -1;
		if (h->watchdog[0] != '/')
			return perr(ps, "watchdog '%s': an absolute device "
			    "path (e.g. /dev/watchdog0)", h->watchdog);
	} else
		return perr(ps, "unknown keyword '%s' in head block", tok[0]);
	return 0;
}

static int
lun_stmt(struct pstate *ps, struct cfg_lun *l, char **tok, int ntok,
    char *home)
{
	int v;

	if (strcmp(tok[0], "id") == 0) {
		if (num_arg(ps, tok, ntok, 1, 65535, &v) < 0)
			return -1;
		l->id = (uint32_t)v;
	} else if (strcmp(tok[0], "path") == 0) {
		return str_arg(ps, tok, ntok, l->path, sizeof(l->path));
	} else if (strcmp(tok[0], "data") == 0) {
		return str_arg(ps, tok, ntok, l->data, sizeof(l->data));
	} else if (strcmp(tok[0], "mountpoint") == 0) {
		return str_arg(ps, tok, ntok, l->mountpoint,
		    sizeof(l->mountpoint));
	} else if (strcmp(tok[0], "home") == 0) {
		return str_arg(ps, tok, ntok, home, CFG_NAME_MAX);
	} else if (strcmp(tok[0], "mode") == 0) {
		if (ntok != 2)
			return perr(ps, "'mode' takes directory or ext4");
		if (strcmp(tok[1], "directory") == 0)
			l->mode = CFG_LUN_DIR;
		else if (strcmp(tok[1], "ext4") == 0)
			l->mode = CFG_LUN_EXT4;
		else
			return perr(ps, "mode '%s': must be directory or ext4",
			    tok[1]);
	} else
		return perr(ps, "unknown keyword '%s' in lun block", tok[0]);
	return 0;
}

struct tunable {
	const char	*block;
	const char	*kw;
	size_t		 off;
	int		 min, max;
};

#define T(b, k, f, lo, hi) { b, k, offsetof(struct cfg, f), lo, hi }
static const struct tunable tunables[] = {
	T("nfs", "port", nfs_port, 1, 65535),
	T("nfs", "mount-port", mount_port, 1, 65535),
	T("nfs", "portmap-port", portmap_port, 0, 65535),
	T("nfs", "threads", nfs_threads, 1, 256),
	T("nfs", "max-connections", nfs_max_conns, 1, 1 << 20),
	T("nfs", "max-connections-per-client", nfs_max_conns_client, 1,
	    1 << 20),
	T("nfs", "idle-timeout", nfs_idle_timeout, 0, 86400),
	T("nfs", "record-timeout", nfs_record_timeout, 1, 3600),
	T("nfs", "input-budget", nfs_input_budget_mb, 4, 1 << 20),
	T("nfs", "drc-size", nfs_drc_size, 16, 1 << 20),
	T("nfs", "drc-max-age", nfs_drc_max_age, 1, 86400),
	T("link", "ping", link_ping_ms, 10, 60000),
	T("link", "dead", link_dead_ms, 50, 600000),
	T("link", "reconnect", link_reconnect_ms, 10, 60000),
	T("heartbeat", "interval", hb_interval_ms, 10, 10000),
	T("heartbeat", "credit", hb_credit, 2, 1000),
	T("heartbeat", "max", hb_max, 1, 10000),
	T("heartbeat", "boot-wait", boot_wait_ms, 0, 3600000),
	T("heartbeat", "lease", lease_ms, 100, 600000),
	T("heartbeat", "garp-count", garp_count, 0, 100),
	T("heartbeat", "garp-interval", garp_interval_ms, 1, 60000),
	T("heartbeat", "fault-reset-delay", fault_reset_ms, 0, 3600000),
	T("heartbeat", "fault-window", fault_window_ms, 1000, 86400000),
	T("heartbeat", "fault-limit", fault_limit, 0, 100),
	T("heartbeat", "tickle-count", tickle_count, 0, 10),
	T("heartbeat", "tickle-interval", tickle_interval_ms, 1, 1000),
	T("heartbeat", "watchdog-timeout", watchdog_timeout_s, 1, 60),
	T("smb", "port", smb_port, 1, 65535),
	T("nlm", "callback-portmap-port", nlm_cb_pmap_port, 1, 65535),
	T("pso", "lock-timeout", pso_lock_timeout_ms, 0, 3600000),
	T("pso", "request-timeout", pso_req_timeout_ms, 10, 600000),
	T("nlm", "grace-period", nlm_grace_s, 0, 3600),
	T("nlm", "max-locks", nlm_max_locks, 100, 10000000),
	T("config", "replicas", ctcm_replicas, 1, CFG_MAX_LUNS),
	T("config", "history", ctcm_history, 0, 64),
	T("health", "interval", health_interval_ms, 50, 60000),
	T("health", "fault-after", health_fault_after, 1, 100),
	T("health", "clear-after", health_clear_after, 1, 100),
	T("health", "worker-stuck", health_worker_stuck_ms, 100, 3600000),
	T("health", "loop-stuck", health_loop_stuck_ms, 100, 3600000),
	T("health", "io-timeout", health_io_timeout_ms, 100, 3600000),
	T("health", "wellness", health_wellness_s, 0, 86400),
	T("health", "data-probe", health_lun_probe, 0, 1),
	T("boot", "attempts", boot_attempts, 1, 100),
	T("boot", "good-after", boot_good_after_s, 0, 86400),
	T("events", "timeout", events_timeout_s, 1, 3600),
	T("events", "queue", events_queue, 1, 4096),
};
#undef T

static int
tunable_stmt(struct pstate *ps, const char *block, char **tok, int ntok)
{
	if (strcmp(block, "pso") == 0 && strcmp(tok[0], "mapsize") == 0) {
		int v;
		if (num_arg(ps, tok, ntok, 1, 1 << 20, &v) < 0)
			return -1;
		ps->cfg->pso_mapsize_mb = v;
		return 0;
	}
	if (strcmp(block, "boot") == 0 && strcmp(tok[0], "dir") == 0)
		return str_arg(ps, tok, ntok, ps->cfg->boot_dir,
		    sizeof(ps->cfg->boot_dir));
	if (strcmp(block, "boot") == 0 && strcmp(tok[0], "keys") == 0)
		return str_arg(ps, tok, ntok, ps->cfg->boot_keys,
		    sizeof(ps->cfg->boot_keys));
	if (strcmp(block, "events") == 0 && strcmp(tok[0], "dir") == 0)
		return str_arg(ps, tok, ntok, ps->cfg->events_dir,
		    sizeof(ps->cfg->events_dir));
	for (size_t i = 0; i < nitems(tunables); i++) {
		if (strcmp(tunables[i].block, block) != 0 ||
		    strcmp(tunables[i].kw, tok[0]) != 0)
			continue;
		return num_arg(ps, tok, ntok, tunables[i].min, tunables[i].max,
		    (int *)((char *)ps->cfg + tunables[i].off));
	}
	return perr(ps, "unknown keyword '%s' in %s block", tok[0], block);
}

int
cfg_tunable_set(struct cfg *cfg, const char *block, const char *kw,
    const char *value, char *err, size_t errlen)
{
	struct pstate	 ps = { NULL, 0, err, errlen, cfg };
	char		*tok[2];

	err[0] = 0;
	tok[0] = (char *)(uintptr_t)kw;
	tok[1] = (char *)(uintptr_t)value;
	return tunable_stmt(&ps, block, tok, 2);
}

static void
cfg_defaults(struct cfg *c)
{
	snprintf(c->cluster, sizeof(c->cluster), "duonas");
	snprintf(c->keyfile, sizeof(c->keyfile), "%s/duonas/cluster.key",
	    SYSCONFDIR);
	snprintf(c->exports, sizeof(c->exports), "%s/duonas/exports",
	    SYSCONFDIR);
	c->nfs_port = 2049;
	c->mount_port = 20048;
	c->portmap_port = 111;
	c->nlm_cb_pmap_port = 111;
	c->smb_port = 445;
	c->nfs_threads = 8;
	c->nfs_max_conns = CFG_NFS_MAX_CONNS;
	c->nfs_max_conns_client = CFG_NFS_MAX_CONNS_CLIENT;
	c->nfs_idle_timeout = CFG_NFS_IDLE_TIMEOUT;
	c->nfs_record_timeout = CFG_NFS_RECORD_TIMEOUT;
	c->nfs_input_budget_mb = CFG_NFS_INPUT_BUDGET_MB;
	c->nfs_drc_size = CFG_NFS_DRC_SIZE;
	c->nfs_drc_max_age = CFG_NFS_DRC_MAX_AGE;
	c->link_ping_ms = 100;
	c->link_dead_ms = 600;
	c->link_reconnect_ms = 200;
	c->hb_interval_ms = 100;
	c->hb_credit = 3;
	c->hb_max = 8;
	c->boot_wait_ms = 5000;
	c->lease_ms = 3000;
	c->garp_count = 3;
	c->garp_interval_ms = 500;
	c->fault_reset_ms = 1000;
	c->fault_window_ms = 600000;
	c->fault_limit = 3;
	c->tickle_count = 3;
	c->tickle_interval_ms = 100;
	c->watchdog_timeout_s = 1;
	c->pso_lock_timeout_ms = 10000;
	c->pso_req_timeout_ms = 2000;
	c->pso_mapsize_mb = 1024;
	c->nlm_grace_s = 45;
	c->nlm_max_locks = 100000;
	c->ctcm_replicas = 3;
	c->ctcm_history = 8;
	c->health_interval_ms = 1000;
	c->health_fault_after = 2;
	c->health_clear_after = 3;
	c->health_worker_stuck_ms = 60000;
	c->health_loop_stuck_ms = 10000;
	c->health_io_timeout_ms = 10000;
	c->health_wellness_s = 3600;
	c->health_lun_probe = 1;
	c->boot_attempts = 3;
	c->boot_good_after_s = 60;
	snprintf(c->boot_keys, sizeof(c->boot_keys),
	    "%s/duonas/image-keys.pub", SYSCONFDIR);
	snprintf(c->events_dir, sizeof(c->events_dir), "%s/duonas/events.d",
	    SYSCONFDIR);
	c->events_timeout_s = 10;
	c->events_queue = 64;
}

static int
cfg_check(struct pstate *ps, char lunhome[][CFG_NAME_MAX])
{
	struct cfg	*c = ps->cfg;
	int		 masters = 0;

	ps->line = 0;
	if (c->nheads != 2)
		return perr(ps, "the cluster needs exactly two heads, found %d",
		    c->nheads);
	for (int i = 0; i < 2; i++) {
		struct cfg_head *h = &c->heads[i];
		if (h->id == 0)
			return perr(ps, "head %s: missing 'id'", h->name);
		if (h->role == 0)
			return perr(ps, "head %s: missing 'role'", h->name);
		if (h->nlinks == 0)
			return perr(ps, "head %s: needs at least one 'link'",
			    h->name);
		if (h->role == CFG_ROLE_MASTER)
			masters++;
		if (h->statedir[0] == 0)
			snprintf(h->statedir, sizeof(h->statedir),
			    "%s/lib/duonas", LOCALSTATEDIR);
		if (h->rundir[0] == 0)
			snprintf(h->rundir, sizeof(h->rundir), "%s/duonas",
			    RUNSTATEDIR);
		if (h->socket[0] == 0 && snprintf(h->socket,
		    sizeof(h->socket), "%s/duonasd.sock", h->rundir) >=
		    (int)sizeof(h->socket))
			return perr(ps, "head %s: rundir too long", h->name);
	}
	if (c->heads[0].id == c->heads[1].id)
		return perr(ps, "heads %s and %s have the same id %u",
		    c->heads[0].name, c->heads[1].name, c->heads[0].id);
	if (strcmp(c->heads[0].name, c->heads[1].name) == 0)
		return perr(ps, "two heads are called %s", c->heads[0].name);
	if (masters != 1)
		return perr(ps, "exactly one head must have 'role master' "
		    "(found %d)", masters);
	if (c->heads[0].nlinks != c->heads[1].nlinks)
		return perr(ps, "heads must have the same number of 'link' "
		    "addresses (path i joins the i-th address of each)");
	for (int i = 0; i < c->nluns; i++) {
		struct cfg_lun *l = &c->luns[i];
		if (l->id == 0)
			return perr(ps, "lun %s: missing 'id'", l->name);
		if (l->path[0] == 0)
			return perr(ps, "lun %s: missing 'path'", l->name);
		if (l->mode == 0)
			l->mode = CFG_LUN_DIR;
		if (l->mode == CFG_LUN_DIR && l->data[0] == 0)
			return perr(ps, "lun %s: directory mode needs 'data'",
			    l->name);
		if (l->mode == CFG_LUN_EXT4 && l->mountpoint[0] == 0)
			return perr(ps, "lun %s: ext4 mode needs 'mountpoint'",
			    l->name);
		if (lunhome[i][0] == 0)
			return perr(ps, "lun %s: missing 'home'", l->name);
		if ((l->home = cfg_head_find(c, lunhome[i])) < 0)
			return perr(ps, "lun %s: home '%s' is not a head",
			    l->name, lunhome[i]);
		for (int j = 0; j < i; j++)
			if (c->luns[j].id == l->id ||
			    strcmp(c->luns[j].name, l->name) == 0)
				return perr(ps, "luns %s and %s share a name "
				    "or id", c->luns[j].name, l->name);
	}
	if (c->hb_credit > c->hb_max)
		return perr(ps, "heartbeat credit %d exceeds max %d",
		    c->hb_credit, c->hb_max);
	/* A frozen head must be reset before its peer may take over: the
	 * watchdog fires at most timeout after the freeze, the peer waits
	 * a lease from the last renewal (at most one tick before it). */
	for (int i = 0; i < 2; i++)
		if (c->heads[i].watchdog[0] && (long)c->watchdog_timeout_s *
		    1000 + 2L * c->hb_interval_ms > c->lease_ms)
			return perr(ps, "head %s: watchdog-timeout %d s plus two "
			    "heartbeat intervals (%d ms) must fit in the lease "
			    "(%d ms), or the peer could take over before the "
			    "watchdog resets a frozen head", c->heads[i].name,
			    c->watchdog_timeout_s, 2 * c->hb_interval_ms,
			    c->lease_ms);
	return 0;
}

int
cfg_parse(const char *path, struct cfg *cfg, char *err, size_t errlen)
{
	uint8_t	*data = NULL;
	size_t	 len;
	int	 rv;

	if (file_read_all(path, 1 << 20, &data, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		memset(cfg, 0, sizeof(*cfg));
		return -1;
	}
	rv = cfg_parse_buf(path, (const char *)data, len, cfg, err, errlen);
	free(data);
	return rv;
}

/* ---- the block structure: one walker for the parser and for editors -- */

typedef int (*walk_fn)(struct pstate *, const struct cfg_line *, void *);

static int
block_kw(const char *s)
{
	static const char *const kw[] = {
		"nfs", "link", "heartbeat", "pso", "config", "health",
		"nlm", "smb", "boot", "events",
	};

	for (size_t i = 0; i < nitems(kw); i++)
		if (strcmp(s, kw[i]) == 0)
			return 1;
	return 0;
}

/* What line L is, given the block it is in and which of its tokens
 * are braces; errors name the line. */
static int
classify(struct pstate *ps, struct cfg_line *L, const char *block,
    unsigned brace)
{
	char	**tok = L->tok;
	int	  ntok = L->ntok;
	int	  open_last = ntok > 0 && (brace & (1u << (ntok - 1))) &&
		      tok[ntok - 1][0] == '{';

	if (ntok == 0) {
		L->kind = CFG_L_BLANK;
		return 0;
	}
	if ((brace & 1) && tok[0][0] == '}') {
		if (ntok != 1)
			return perr(ps, "text after '}'");
		if (block[0] == 0)
			return perr(ps, "'}' without an open block");
		L->kind = CFG_L_CLOSE;
		return 0;
	}
	if (block[0] != 0) {
		if (open_last)
			return perr(ps, "blocks do not nest (missing '}' for "
			    "the %s block?)", block);
		L->kind = CFG_L_STMT;
		return 0;
	}
	if (strcmp(tok[0], "head") == 0 || strcmp(tok[0], "lun") == 0) {
		if (ntok != 3 || !open_last)
			return perr(ps, "usage: %s NAME {", tok[0]);
		if (!valid_name(tok[1]))
			return perr(ps, "%s name '%s': use 1-%d letters, "
			    "digits, '-', '_', '.'", tok[0], tok[1],
			    CFG_NAME_MAX - 1);
		L->kind = CFG_L_OPEN;
		L->name = tok[1];
		return 0;
	}
	if (ntok == 2 && open_last && block_kw(tok[0])) {
		L->kind = CFG_L_OPEN;
		return 0;
	}
	L->kind = CFG_L_STMT;
	return 0;
}

static int
walk(struct pstate *ps, const char *text, size_t len, walk_fn fn, void *arg)
{
	struct cfg_line	 L;
	char		*out = NULL, *tok[MAXTOK];
	char		 block[16] = "", name[CFG_NAME_MAX] = "";
	size_t		 i = 0, e, n;
	unsigned	 brace = 0;
	int		 rv = -1;

	/* a NUL byte is a control character like the others: tokenize()
	 * reports it with its line */
	ps->line = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);

		e = nl ? (size_t)(nl - text) + 1 : len;
		n = e - i - (nl ? 1 : 0);
		ps->line++;
		/* sized from this line: see tokenize() */
		out = xrealloc(out, 2 * n + 2);
		memset(&L, 0, sizeof(L));
		L.lineno = ps->line;
		L.start = i;
		L.end = e;
		L.tok = tok;
		L.block = block;
		L.name = name;
		if ((L.ntok = tokenize(ps, text + i, n, out, 2 * n + 2,
		    tok, &brace)) < 0 ||
		    classify(ps, &L, block, brace) < 0)
			goto out;
		if (L.kind == CFG_L_OPEN) {
			snprintf(block, sizeof(block), "%s", tok[0]);
			snprintf(name, sizeof(name), "%s", L.name);
			L.name = name;
		}
		if (fn(ps, &L, arg) < 0)
			goto out;
		if (L.kind == CFG_L_CLOSE)
			block[0] = name[0] = 0;
		i = e;
	}
	if (block[0] != 0) {
		perr(ps, "end of file inside the %s block (missing '}')",
		    block);
		goto out;
	}
	rv = 0;
out:
	free(out);
	return rv;
}

struct walk_user {
	cfg_walk_cb	 cb;
	void		*arg;
};

static int
walk_user_fn(struct pstate *ps, const struct cfg_line *L, void *arg)
{
	struct walk_user *u = arg;

	(void)ps;
	return u->cb(L, u->arg) == 0 ? 0 : -1;
}

int
cfg_walk(const char *name, const char *text, size_t len, cfg_walk_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct pstate		ps = { name, 0, err, errlen, NULL };
	struct walk_user	u = { cb, arg };

	err[0] = 0;
	return walk(&ps, text, len, walk_user_fn, &u);
}

/* ---- the parser proper ------------------------------------------------ */

struct pctx {
	struct cfg_head	 *curhead;
	struct cfg_lun	 *curlun;
	char		(*lunhome)[CFG_NAME_MAX];
};

static int
open_block(struct pstate *ps, const struct cfg_line *L, struct pctx *x)
{
	struct cfg	*cfg = ps->cfg;

	if (strcmp(L->block, "head") == 0) {
		if (cfg->nheads == 2)
			return perr(ps, "more than two heads");
		x->curhead = &cfg->heads[cfg->nheads++];
		snprintf(x->curhead->name, sizeof(x->curhead->name), "%s",
		    L->name);
	} else if (strcmp(L->block, "lun") == 0) {
		if (cfg->nluns == CFG_MAX_LUNS)
			return perr(ps, "too many luns (max %d)", CFG_MAX_LUNS);
		x->curlun = &cfg->luns[cfg->nluns++];
		snprintf(x->curlun->name, sizeof(x->curlun->name), "%s",
		    L->name);
	}
	return 0;
}

static int
top_stmt(struct pstate *ps, char **tok, int ntok)
{
	struct cfg	*cfg = ps->cfg;

	if (strcmp(tok[0], "cluster") == 0) {
		if (str_arg(ps, tok, ntok, cfg->cluster,
		    sizeof(cfg->cluster)) < 0)
			return -1;
		if (!valid_name(cfg->cluster))
			return perr(ps, "cluster name '%s': use letters, "
			    "digits, '-', '_', '.'", cfg->cluster);
		return 0;
	}
	if (strcmp(tok[0], "key") == 0)
		return str_arg(ps, tok, ntok, cfg->keyfile,
		    sizeof(cfg->keyfile));
	if (strcmp(tok[0], "exports") == 0)
		return str_arg(ps, tok, ntok, cfg->exports,
		    sizeof(cfg->exports));
	return perr(ps, "unknown keyword '%s'", tok[0]);
}

static int
parse_fn(struct pstate *ps, const struct cfg_line *L, void *arg)
{
	struct pctx	*x = arg;

	switch (L->kind) {
	case CFG_L_OPEN:
		/* the walker has set L->block to the block being opened */
		return open_block(ps, L, x);
	case CFG_L_CLOSE:
		x->curhead = NULL;
		x->curlun = NULL;
		return 0;
	case CFG_L_STMT:
		if (L->block[0] == 0)
			return top_stmt(ps, L->tok, L->ntok);
		if (x->curhead)
			return head_stmt(ps, x->curhead, L->tok, L->ntok);
		if (x->curlun)
			return lun_stmt(ps, x->curlun, L->tok, L->ntok,
			    x->lunhome[x->curlun - ps->cfg->luns]);
		return tunable_stmt(ps, L->block, L->tok, L->ntok);
	default:
		return 0;
	}
}

int
cfg_parse_buf(const char *name, const char *text, size_t textlen,
    struct cfg *cfg, char *err, size_t errlen)
{
	struct pstate	ps = { name, 0, err, errlen, cfg };
	struct pctx	x;
	int		rv = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&x, 0, sizeof(x));
	x.lunhome = xcalloc(CFG_MAX_LUNS, CFG_NAME_MAX);
	cfg_defaults(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	err[0] = 0;
	if (walk(&ps, text, textlen, parse_fn, &x) < 0)
		goto out;
	rv = cfg_check(&ps, x.lunhome);
out:
	free(x.lunhome);
	return rv;
}

int
cfg_head_find(const struct cfg *c, const char *name)
{
	for (int i = 0; i < c->nheads; i++)
		if (strcmp(c->heads[i].name, name) == 0)
			return i;
	return -1;
}

int
cfg_key_check(const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	uid_t	euid = geteuid();

	/* Whoever reads the key can join or impersonate a head, whoever
	 * writes it can lock both heads out: the owner only, and the
	 * owner is root or the daemon's own user. */
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "cluster key %s: not a regular file",
		    path);
		return -1;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "cluster key %s: mode %04o: group or "
		    "others have access (chmod 600 %s)", path,
		    (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != euid) {
		snprintf(err, errlen, "cluster key %s: owned by uid %u, not "
		    "by root%s (chown root %s)", path, (unsigned)st->st_uid,
		    euid == 0 ? "" : " or by this process's user", path);
		return -1;
	}
	return 0;
}

int
cfg_key_load(const struct cfg *c, uint8_t *key, size_t *keylen, char *err,
    size_t errlen)
{
	uint8_t		 data[4097];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, n;

	/* mode and owner of the file actually read (fstat, not stat) */
	if ((fd = open(c->keyfile, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cluster key %s: %s", c->keyfile,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (cfg_key_check(c->keyfile, &st, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	while (len < sizeof(data) - 1 &&
	    (r = read(fd, data + len, sizeof(data) - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cluster key %s: %s",
			    c->keyfile, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	data[len] = 0;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' '))
		data[--len] = 0;
	/* hex text (as written by duonas keygen) or raw bytes */
	if ((n = hex_decode(key, CFG_KEY_MAX, (char *)data)) >= CFG_KEY_MIN) {
		*keylen = (size_t)n;
	} else if (len >= CFG_KEY_MIN && len <= CFG_KEY_MAX) {
		memcpy(key, data, len);
		*keylen = len;
	} else {
		snprintf(err, errlen, "cluster key %s: must hold %d-%d bytes "
		    "(raw or hex), found %zu", c->keyfile, CFG_KEY_MIN,
		    CFG_KEY_MAX, len);
		explicit_bzero(data, sizeof(data));
		return -1;
	}
	explicit_bzero(data, sizeof(data));
	return 0;
}

void
cfg_boot_dir(const struct cfg *c, const struct cfg_head *h, char *out,
    size_t outlen)
{
	const char *pct;

	/* "%n" stands for the head's name: two heads on one machine (the
	 * demo, tests) need two slot directories */
	if (c->boot_dir[0] != 0 && (pct = strstr(c->boot_dir, "%n")) != NULL)
		snprintf(out, outlen, "%.*s%s%s", (int)(pct - c->boot_dir),
		    c->boot_dir, h->name, pct + 2);
	else if (c->boot_dir[0] != 0)
		snprintf(out, outlen, "%s", c->boot_dir);
	else
		snprintf(out, outlen, "%s/boot", h->statedir);
}

int
cfg_pick_head(const struct cfg *cfg, const char *name, char *err,
    size_t errlen)
{
	char	host[256] = "?", *dot;
	int	i;

	if (name != NULL) {
		if ((i = cfg_head_find(cfg, name)) < 0)
			snprintf(err, errlen, "%s: no head named '%s' (heads: "
			    "%s, %s)", cfg->file, name, cfg->heads[0].name,
			    cfg->heads[1].name);
		return i;
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = 0;
		if ((dot = strchr(host, '.')) != NULL)
			*dot = 0;
		if ((i = cfg_head_find(cfg, host)) >= 0)
			return i;
	}
	snprintf(err, errlen, "%s: this host (%s) is not one of the heads %s, "
	    "%s; use -n HEAD", cfg->file, host, cfg->heads[0].name,
	    cfg->heads[1].name);
	return -1;
}

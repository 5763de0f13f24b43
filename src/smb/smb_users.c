/*
 * smb_users.c — the SMB user list as the replicated configuration keeps
 * it (CTCM section kind 3, installed at <statedir>/smb/users): parsing
 * with a clear error per line, the canonical text (sorted by name, so
 * the same users always give the same bytes and checksum), the redacted
 * form for output that may reach a terminal, and the edits the admin
 * commands make (add, remove, new hash, the next free uid).
 *
 * Pure: no I/O except smb_users_load(), which reads an installed file.
 * The local unix accounts are smb_accounts.c, the hashes smb_hash.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smb/smb_users.h"

void
smb_users_init(struct smb_users *u)
{
	u->n = 0;
	u->v = NULL;
}

void
smb_users_free(struct smb_users *u)
{
	if (u->v != NULL)
		memset(u->v, 0, (size_t)u->n * sizeof(*u->v));	/* hashes */
	free(u->v);
	smb_users_init(u);
}

/* Names of the accounts a Debian system (and Samba) keeps for itself:
 * an SMB user of that name would log in as a system account. */
static const char *const reserved[] = {
	"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail",
	"news", "uucp", "proxy", "www-data", "backup", "list", "irc", "gnats",
	"nobody", "nogroup", "_apt", "messagebus", "sshd", "statd", "ntp",
	"operator", "adm", "admin", "staff", "users", "guest", "duonas",
};

int
smb_user_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len == 0 || len > SMB_USER_NAME_MAX) {
		snprintf(err, errlen, "user name '%.40s%s' must have 1 to %d "
		    "characters", name, len > 40 ? "..." : "",
		    SMB_USER_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if ((ch >= 'a' && ch <= 'z') || ch == '_' ||
		    (i > 0 && ((ch >= '0' && ch <= '9') || ch == '.' ||
		    ch == '-')))
			continue;
		snprintf(err, errlen, "user name '%s': character %zu ('%c') is "
		    "not allowed (lower-case letters, digits, '_', '.', '-'; "
		    "starting with a letter or '_')", name, i + 1,
		    (unsigned char)ch >= 32 && (unsigned char)ch < 127 ? ch :
		    '?');
		return -1;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0) {
			snprintf(err, errlen, "user name '%s' is reserved for "
			    "a system account", name);
			return -1;
		}
	if (strncmp(name, "systemd-", 8) == 0) {
		snprintf(err, errlen, "user name '%s' is reserved for a "
		    "system account", name);
		return -1;
	}
	return 0;
}

int
smb_users_find(const struct smb_users *u, const char *name)
{
	for (int i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return i;
	return -1;
}

static int
uid_taken(const struct smb_users *u, uint32_t uid)
{
	for (int i = 0; i < u->n; i++)
		if (u->v[i].uid == uid)
			return i;
	return -1;
}

uint32_t
smb_users_next_uid(const struct smb_users *u)
{
	for (uint32_t uid = SMB_UID_AUTO; uid <= SMB_UID_MAX; uid++)
		if (uid_taken(u, uid) < 0)
			return uid;
	return 0;
}

static int
user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct smb_user *)a)->name,
	    ((const struct smb_user *)b)->name);
}

/* Checks of one new entry against the list (prefix: "" or "line N: "). */
static int
entry_check(const struct smb_users *u, const struct smb_user *e,
    const char *pfx, char *err, size_t errlen)
{
	char	e2[200];
	int	k;

	if (smb_user_name_check(e->name, e2, sizeof(e2)) < 0) {
		snprintf(err, errlen, "%s%s", pfx, e2);
		return -1;
	}
	if (e->uid < SMB_UID_MIN || e->uid > SMB_UID_MAX) {
		snprintf(err, errlen, "%suid %u of user %s is outside %d..%d",
		    pfx, e->uid, e->name, SMB_UID_MIN, SMB_UID_MAX);
		return -1;
	}
	if (smb_users_find(u, e->name) >= 0) {
		snprintf(err, errlen, "%suser %s already exists", pfx,
		    e->name);
		return -1;
	}
	if ((k = uid_taken(u, e->uid)) >= 0) {
		snprintf(err, errlen, "%suid %u of user %s is already user "
		    "%s's", pfx, e->uid, e->name, u->v[k].name);
		return -1;
	}
	if (u->n >= SMB_USERS_MAX) {
		snprintf(err, errlen, "%smore than %d users", pfx,
		    SMB_USERS_MAX);
		return -1;
	}
	return 0;
}

static void
append(struct smb_users *u, const struct smb_user *e)
{
	struct smb_user *nv = calloc((size_t)u->n + 1, sizeof(*nv));

	if (nv == NULL) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	if (u->n > 0)
		memcpy(nv, u->v, (size_t)u->n * sizeof(*nv));
	nv[u->n] = *e;
	if (u->v != NULL)
		memset(u->v, 0, (size_t)u->n * sizeof(*u->v));
	free(u->v);
	u->v = nv;
	u->n++;
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One line, already split into words; 0 or -1 with err. */
static int
parse_line(struct smb_users *u, int lineno, char **w, int nw, char *err,
    size_t errlen)
{
	struct smb_user	 e;
	char		 pfx[32];
	char		*end;
	unsigned long	 uid;

	snprintf(pfx, sizeof(pfx), "line %d: ", lineno);
	memset(&e, 0, sizeof(e));
	if (strcmp(w[0], "user") != 0) {
		snprintf(err, errlen, "%sunknown keyword '%.32s' (expected "
		    "'user NAME uid UID nthash HEX32 [disabled]')", pfx, w[0]);
		return -1;
	}
	if (nw < 6 || nw > 7 || strcmp(w[2], "uid") != 0 ||
	    strcmp(w[4], "nthash") != 0 ||
	    (nw == 7 && strcmp(w[6], "disabled") != 0)) {
		snprintf(err, errlen, "%sexpected 'user NAME uid UID nthash "
		    "HEX32 [disabled]'", pfx);
		return -1;
	}
	if (strlen(w[1]) > SMB_USER_NAME_MAX) {
		snprintf(err, errlen, "%suser name '%.32s...' is longer than "
		    "%d characters", pfx, w[1], SMB_USER_NAME_MAX);
		return -1;
	}
	snprintf(e.name, sizeof(e.name), "%s", w[1]);
	errno = 0;
	uid = strtoul(w[3], &end, 10);
	if (w[3][0] < '0' || w[3][0] > '9' || *end != 0 || errno != 0 ||
	    uid > UINT32_MAX) {
		snprintf(err, errlen, "%suid '%.20s' of user %s is not a "
		    "number", pfx, w[3], e.name);
		return -1;
	}
	e.uid = (uint32_t)uid;
	if (strlen(w[5]) != 2 * SMB_NTHASH_LEN) {
		snprintf(err, errlen, "%snthash of user %s must be %d hex "
		    "digits (has %zu characters)", pfx, e.name,
		    2 * SMB_NTHASH_LEN, strlen(w[5]));
		return -1;
	}
	for (int i = 0; i < SMB_NTHASH_LEN; i++) {
		int hi = hex_nibble(w[5][2 * i]), lo = hex_nibble(w[5][2 * i +
		    1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%snthash of user %s is not hex "
			    "(character %d)", pfx, e.name, 2 * i + (hi < 0 ?
			    1 : 2));
			return -1;
		}
		e.nthash[i] = (uint8_t)(hi << 4 | lo);
	}
	e.disabled = nw == 7;
	if (entry_check(u, &e, pfx, err, errlen) < 0)
		return -1;
	append(u, &e);
	memset(&e, 0, sizeof(e));
	return 0;
}

int
smb_users_parse(const char *text, size_t len, struct smb_users *u, char *err,
    size_t errlen)
{
	const char	*p = text, *end = text + len;
	int		 lineno = 0;

	smb_users_init(u);
	if (len > 0 && memchr(text, 0, len) != NULL) {
		snprintf(err, errlen, "NUL byte in the users text");
		return -1;
	}
	while (p < end) {
		const char	*nl = memchr(p, '\n', (size_t)(end - p));
		size_t		 ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char		 line[256], *w[8], *s, *save = NULL;
		int		 nw = 0;

		lineno++;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "line %d: longer than %zu "
			    "characters", lineno, sizeof(line) - 1);
			goto fail;
		}
		memcpy(line, p, ll);
		line[ll] = 0;
		p += ll + (nl != NULL);
		for (s = strtok_r(line, " \t\r", &save); s != NULL && nw < 8;
		    s = strtok_r(NULL, " \t\r", &save))
			w[nw++] = s;
		if (nw == 0 || w[0][0] == '#')
			continue;
		if (nw == 8) {
			snprintf(err, errlen, "line %d: too many words "
			    "(expected 'user NAME uid UID nthash HEX32 "
			    "[disabled]')", lineno);
			goto fail;
		}
		if (parse_line(u, lineno, w, nw, err, errlen) < 0) {
			memset(line, 0, sizeof(line));
			goto fail;
		}
		memset(line, 0, sizeof(line));
	}
	if (u->n > 1)
		qsort(u->v, (size_t)u->n, sizeof(*u->v), user_cmp);
	return 0;
fail:
	smb_users_free(u);
	return -1;
}

void
smb_users_format(const struct smb_users *u, struct buf *out)
{
	for (int i = 0; i < u->n; i++) {
		char hex[33];

		smb_nthash_hex(u->v[i].nthash, hex);
		buf_printf(out, "user %s uid %u nthash %s%s\n", u->v[i].name,
		    u->v[i].uid, hex, u->v[i].disabled ? " disabled" : "");
		memset(hex, 0, sizeof(hex));
	}
}

void
smb_users_redact(const struct smb_users *u, const struct smb_users *prev,
    struct buf *out)
{
	for (int i = 0; i < u->n; i++) {
		int k = prev != NULL ? smb_users_find(prev, u->v[i].name) : -1;
		int changed = k >= 0 && memcmp(prev->v[k].nthash,
		    u->v[i].nthash, SMB_NTHASH_LEN) != 0;

		buf_printf(out, "user %s uid %u nthash %s%s\n", u->v[i].name,
		    u->v[i].uid, changed ? "(changed)" : "(hidden)",
		    u->v[i].disabled ? " disabled" : "");
	}
}

int
smb_users_add(struct smb_users *u, const char *name, uint32_t uid,
    const uint8_t nthash[SMB_NTHASH_LEN], char *err, size_t errlen)
{
	struct smb_user e;

	memset(&e, 0, sizeof(e));
	if (strlen(name) > SMB_USER_NAME_MAX) {
		snprintf(err, errlen, "user name '%.32s...' is longer than %d "
		    "characters", name, SMB_USER_NAME_MAX);
		return -1;
	}
	snprintf(e.name, sizeof(e.name), "%s", name);
	if (uid == 0 && (uid = smb_users_next_uid(u)) == 0) {
		snprintf(err, errlen, "no free uid left in %d..%d (give one "
		    "with --uid)", SMB_UID_AUTO, SMB_UID_MAX);
		return -1;
	}
	e.uid = uid;
	memcpy(e.nthash, nthash, SMB_NTHASH_LEN);
	if (entry_check(u, &e, "", err, errlen) < 0)
		return -1;
	append(u, &e);
	memset(&e, 0, sizeof(e));
	qsort(u->v, (size_t)u->n, sizeof(*u->v), user_cmp);
	return 0;
}

int
smb_users_remove(struct smb_users *u, const char *name, char *err,
    size_t errlen)
{
	int k = smb_users_find(u, name);

	if (k < 0) {
		snprintf(err, errlen, "no SMB user %s (duonas smb user ls "
		    "lists them)", name);
		return -1;
	}
	memmove(&u->v[k], &u->v[k + 1], (size_t)(u->n - k - 1) *
	    sizeof(*u->v));
	u->n--;
	memset(&u->v[u->n], 0, sizeof(*u->v));
	return 0;
}

int
smb_users_set_hash(struct smb_users *u, const char *name,
    const uint8_t nthash[SMB_NTHASH_LEN], char *err, size_t errlen)
{
	int k = smb_users_find(u, name);

	if (k < 0) {
		snprintf(err, errlen, "no SMB user %s (duonas smb user ls "
		    "lists them)", name);
		return -1;
	}
	memcpy(u->v[k].nthash, nthash, SMB_NTHASH_LEN);
	return 0;
}

int
smb_users_set_disabled(struct smb_users *u, const char *name, int disabled,
    char *err, size_t errlen)
{
	int k = smb_users_find(u, name);

	if (k < 0) {
		snprintf(err, errlen, "no SMB user %s (duonas smb user ls "
		    "lists them)", name);
		return -1;
	}
	u->v[k].disabled = disabled != 0;
	return 0;
}

int
smb_users_path(const char *statedir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/smb/users", statedir);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
smb_users_load(const char *path, struct smb_users *u, char *err,
    size_t errlen)
{
	uint8_t	*d = NULL;
	size_t	 len;
	char	 e[256];
	int	 rv;

	smb_users_init(u);
	if (file_read_all(path, 1u << 20, &d, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rv = smb_users_parse((const char *)d, len, u, e, sizeof(e));
	if (rv < 0)
		snprintf(err, errlen, "%s: %s", path, e);
	memset(d, 0, len);
	free(d);
	return rv;
}

/*
 * ctcm_local.c — the local configuration database of one head: the
 * installed files at their normal paths, the stamp that vouches for them,
 * the pending marker of an install in progress, the history bundles and
 * the bootstrap copy of duonas.conf (layout and install order:
 * docs/ctcm.md, "Local database").
 *
 * Installing is ordered so that the stamp is the commit point: a crash
 * anywhere before it leaves "pending" (or files that do not match the
 * stamp), which ctcm_local_check() reports as INVALID with the parts
 * that failed, and power-up repairs it.  Pruning never removes the
 * generation just installed.  This file never talks to the array or the
 * peer; it does not decide which copy wins.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pext.h"
#include "smb/smb_users.h"

#define STAMP_MAX	(64 * 1024)

int
ctcm_local_open(struct ctcm_local *l, const char *statedir,
    const char *conf_path)
{
	char	*h;
	int	 rv;

	memset(l, 0, sizeof(*l));
	l->history = CTCM_HISTORY_LOCAL;
	if (snprintf(l->dir, sizeof(l->dir), "%s/ctcm", statedir) >=
	    (int)sizeof(l->dir) ||
	    snprintf(l->conf_path, sizeof(l->conf_path), "%s", conf_path) >=
	    (int)sizeof(l->conf_path) ||
	    smb_users_path(statedir, l->users_path, sizeof(l->users_path)) <
	    0 || snprintf(l->image_path, sizeof(l->image_path),
	    "%s/image/boot", statedir) >= (int)sizeof(l->image_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	h = xasprintf("%s/history", l->dir);
	rv = mkdir_p(h, 0700);
	free(h);
	return rv;
}

/* ---- stamp ------------------------------------------------------------ */

void
ctcm_stamp_encode(const struct ctcm_stamp *st, struct buf *o)
{
	size_t start = o->len;

	buf_printf(o, "generation %llu\n", (unsigned long long)st->gen);
	buf_printf(o, "checksum %08x\n", st->content_crc);
	buf_printf(o, "epoch %llu\n", (unsigned long long)st->vepoch);
	buf_printf(o, "time_ms %llu\n", (unsigned long long)st->time_ms);
	buf_printf(o, "author %s\n", st->author);
	buf_printf(o, "summary %s\n", st->summary);
	for (int i = 0; i < st->nfiles; i++)
		buf_printf(o, "file %u %s %llu %08x\n", st->files[i].kind,
		    st->files[i].path, (unsigned long long)st->files[i].len,
		    st->files[i].crc);
	buf_printf(o, "crc %08x\n", pext_crc32c(0, o->data + start,
	    o->len - start));
}

/* Copy a value to the end of the line, replacing control characters. */
static void
copy_val(char *dst, size_t n, const char *v)
{
	size_t i;

	for (i = 0; i + 1 < n && v[i] && v[i] != '\n'; i++)
		dst[i] = (unsigned char)v[i] < 32 ? ' ' : v[i];
	dst[i] = 0;
}

int
ctcm_stamp_decode(const char *text, size_t len, struct ctcm_stamp *st)
{
	const char	*crcl, *p;
	unsigned	 crc;
	int		 have_gen = 0;

	memset(st, 0, sizeof(*st));
	if (len == 0 || memchr(text, 0, len) != NULL)
		return CTCM_E_FORMAT;
	/* the crc line is the last line */
	if (len < 14 || text[len - 1] != '\n')
		return CTCM_E_SHORT;
	for (crcl = text + len - 2; crcl > text && crcl[-1] != '\n'; crcl--)
		;
	if (sscanf(crcl, "crc %8x\n", &crc) != 1)
		return CTCM_E_FORMAT;
	if (pext_crc32c(0, text, (size_t)(crcl - text)) != crc)
		return CTCM_E_CRC;
	for (p = text; p < crcl; p = strchr(p, '\n') + 1) {
		unsigned long long	a, c;
		unsigned		k, x;
		char			path[CFG_PATH_MAX];

		if (sscanf(p, "generation %llu", &a) == 1) {
			st->gen = a;
			have_gen = 1;
		} else if (sscanf(p, "checksum %8x", &x) == 1)
			st->content_crc = x;
		else if (sscanf(p, "epoch %llu", &a) == 1)
			st->vepoch = a;
		else if (sscanf(p, "time_ms %llu", &a) == 1)
			st->time_ms = a;
		else if (strncmp(p, "author ", 7) == 0)
			copy_val(st->author, sizeof(st->author), p + 7);
		else if (strncmp(p, "summary ", 8) == 0)
			copy_val(st->summary, sizeof(st->summary), p + 8);
		else if (sscanf(p, "file %u %255s %llu %8x", &k, path, &c,
		    &x) == 4) {
			if (st->nfiles == CTCM_MAX_FILES)
				return CTCM_E_FORMAT;
			st->files[st->nfiles].kind = (uint16_t)k;
			snprintf(st->files[st->nfiles].path, CFG_PATH_MAX,
			    "%s", path);
			st->files[st->nfiles].len = c;
			st->files[st->nfiles].crc = x;
			st->nfiles++;
		} else
			return CTCM_E_FORMAT;
	}
	return have_gen ? 0 : CTCM_E_FORMAT;
}

/* ---- check ------------------------------------------------------------ */

static int
read_file(const char *path, uint8_t **dp, size_t *lp)
{
	return file_read_all(path, CTCM_FILE_MAX * 4, dp, lp);
}

/* Record the first failure in why, every failure in *bad. */
static void
bad_part(unsigned *bad, unsigned bit, char *why, size_t whylen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
bad_part(unsigned *bad, unsigned bit, char *why, size_t whylen,
    const char *fmt, ...)
{
	va_list ap;

	if (*bad == 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	*bad |= bit;
}

int
ctcm_local_check(const struct ctcm_local *l, struct ctcm_stamp *st,
    unsigned *badp, char *why, size_t whylen)
{
	char			*sp = xasprintf("%s/stamp", l->dir);
	char			*pp = xasprintf("%s/pending", l->dir);
	uint8_t			*d = NULL;
	size_t			 len;
	uint64_t		 gens[1];
	unsigned		 bad = 0;
	int			 rv, rc;
	struct stat		 sb;
	struct ctcm_bundle	 hb;

	memset(st, 0, sizeof(*st));
	if (read_file(sp, &d, &len) < 0) {
		if (errno == ENOENT && stat(pp, &sb) == -1 &&
		    ctcm_local_list(l, gens, 1) == 0) {
			snprintf(why, whylen, "no local configuration "
			    "database yet (%s)", sp);
			rv = CTCM_LOCAL_NONE;
			goto out;
		}
		bad_part(&bad, CTCM_BAD_STAMP, why, whylen, "%s: %s", sp,
		    errno == ENOENT ? "missing" : strerror(errno));
		rv = CTCM_LOCAL_INVALID;
		goto out;
	}
	if ((rc = ctcm_stamp_decode((char *)d, len, st)) != 0) {
		bad_part(&bad, CTCM_BAD_STAMP, why, whylen, "%s: %s", sp,
		    ctcm_strerror(rc));
		memset(st, 0, sizeof(*st));
		rv = CTCM_LOCAL_INVALID;
		goto out;
	}
	if (stat(pp, &sb) == 0)
		bad_part(&bad, CTCM_BAD_PENDING, why, whylen, "an install "
		    "after generation %llu was interrupted (%s exists)",
		    (unsigned long long)st->gen, pp);
	for (int i = 0; i < st->nfiles; i++) {
		uint8_t	*f = NULL;
		size_t	 flen;

		if (read_file(st->files[i].path, &f, &flen) < 0) {
			bad_part(&bad, CTCM_BAD_FILES, why, whylen, "%s: %s",
			    st->files[i].path, strerror(errno));
			continue;
		}
		if (flen != st->files[i].len ||
		    pext_crc32c(0, f, flen) != st->files[i].crc)
			bad_part(&bad, CTCM_BAD_FILES, why, whylen, "%s does "
			    "not match generation %llu (corrupt or changed "
			    "outside a transaction)", st->files[i].path,
			    (unsigned long long)st->gen);
		free(f);
	}
	/* the head must be able to show and edit what it runs */
	if ((rc = ctcm_local_load(l, st->gen, &hb)) != 0)
		bad_part(&bad, CTCM_BAD_HISTORY, why, whylen, "the history "
		    "bundle of generation %llu is damaged (%s)",
		    (unsigned long long)st->gen, ctcm_strerror(rc));
	else {
		if (hb.content_crc != st->content_crc)
			bad_part(&bad, CTCM_BAD_HISTORY, why, whylen, "the "
			    "history bundle of generation %llu does not match "
			    "the stamp (checksum %08x, stamp %08x)",
			    (unsigned long long)st->gen, hb.content_crc,
			    st->content_crc);
		ctcm_bundle_free(&hb);
	}
	if (bad == 0)
		snprintf(why, whylen, "generation %llu",
		    (unsigned long long)st->gen);
	rv = bad ? CTCM_LOCAL_INVALID : CTCM_LOCAL_VALID;
out:
	if (badp != NULL)
		*badp = bad;
	free(d);
	free(sp);
	free(pp);
	return rv;
}

/* ---- history ---------------------------------------------------------- */

int
ctcm_local_load(const struct ctcm_local *l, uint64_t gen,
    struct ctcm_bundle *b)
{
	char	*p = xasprintf("%s/history/%llu.bundle", l->dir,
	    (unsigned long long)gen);
	uint8_t	*d = NULL;
	size_t	 len;
	int	 rc;

	ctcm_bundle_init(b);
	if (read_file(p, &d, &len) < 0)
		rc = errno == ENOENT ? CTCM_E_NOTFOUND : errno;
	else if ((rc = ctcm_bundle_decode(d, len, b)) == 0 && b->gen != gen) {
		ctcm_bundle_free(b);
		rc = CTCM_E_FORMAT;
	}
	free(d);
	free(p);
	return rc;
}

static int
gen_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;	/* newest first */
}

int
ctcm_local_list(const struct ctcm_local *l, uint64_t *gens, int max)
{
	char		*p = xasprintf("%s/history", l->dir);
	DIR		*d = opendir(p);
	struct dirent	*de;
	uint64_t	*all = NULL;
	int		 n = 0;

	free(p);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		unsigned long long	g;
		char			tail[16];

		if (sscanf(de->d_name, "%llu.bundl%15s", &g, tail) != 2 ||
		    strcmp(tail, "e") != 0 || g == 0)
			continue;
		all = xrealloc(all, (n + 1) * sizeof(*all));
		all[n++] = g;
	}
	closedir(d);
	if (n > 1)
		qsort(all, n, sizeof(*all), gen_cmp);
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(gens, all, n * sizeof(*gens));
	free(all);
	return n;
}

/* Keep the newest l->history bundles, and keep in any case (the
 * generation just installed or committed, whatever the others are). */
static void
prune(const struct ctcm_local *l, uint64_t keep)
{
	uint64_t	gens[256];
	int		n = ctcm_local_list(l, gens, 256);

	for (int i = l->history; i < n; i++) {
		char *p;

		if (gens[i] == keep)
			continue;
		p = xasprintf("%s/history/%llu.bundle", l->dir,
		    (unsigned long long)gens[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			log_warn("ctcm: %s", p);
		free(p);
	}
}

/* ---- install ---------------------------------------------------------- */

/* Where each section goes: duonas.conf at conf_path, exports where the
 * bundle's own duonas.conf says, the SMB users in the state directory
 * (<statedir>/smb/users, docs/smb-users.md). */
static int
install_paths(const struct ctcm_local *l, const struct ctcm_bundle *b,
    char paths[][CFG_PATH_MAX], char *err, size_t errlen)
{
	size_t		 clen;
	const char	*conf = ctcm_bundle_text(b, CTCM_SEC_CONF, &clen);
	struct cfg	*c = xcalloc(1, sizeof(*c));
	char		 e[256];
	int		 rv = -1;

	if (ctcm_bundle_get(b, CTCM_SEC_CONF) == NULL) {
		snprintf(err, errlen, "generation %llu has no duonas.conf",
		    (unsigned long long)b->gen);
		goto out;
	}
	if (cfg_parse_buf(l->conf_path, conf, clen, c, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "generation %llu: %s",
		    (unsigned long long)b->gen, e);
		goto out;
	}
	for (int i = 0; i < b->nsec; i++) {
		paths[i][0] = 0;
		if (b->sec[i].kind == CTCM_SEC_CONF)
			snprintf(paths[i], CFG_PATH_MAX, "%s", l->conf_path);
		else if (b->sec[i].kind == CTCM_SEC_EXPORTS)
			snprintf(paths[i], CFG_PATH_MAX, "%s", c->exports);
		else if (b->sec[i].kind == CTCM_SEC_SMBUSERS)
			snprintf(paths[i], CFG_PATH_MAX, "%s", l->users_path);
		else if (b->sec[i].kind == CTCM_SEC_IMAGE)
			snprintf(paths[i], CFG_PATH_MAX, "%s", l->image_path);
	}
	rv = 0;
out:
	free(c);
	return rv;
}

/* The directory of the users file, mode 0700 even when it existed. */
static int
users_dir(const char *users_path)
{
	char	*d = xstrdup(users_path), *sl = strrchr(d, '/');
	int	 rv = 0;

	if (sl != NULL && sl != d) {
		*sl = 0;
		if (mkdir_p(d, 0700) < 0 || chmod(d, 0700) < 0)
			rv = -1;
	}
	free(d);
	return rv;
}

char *
ctcm_local_bootstrap_path(const char *conf_path)
{
	return xasprintf("%s.committed", conf_path);
}

static void
write_bootstrap(const struct ctcm_local *l, const struct ctcm_bundle *b)
{
	const struct ctcm_section	*c = ctcm_bundle_get(b, CTCM_SEC_CONF);
	char				*p;

	if (c == NULL)
		return;
	p = ctcm_local_bootstrap_path(l->conf_path);
	/* after the commit point and not a counted step: a failure here
	 * does not fail the install */
	if (file_write_atomic(p, c->data, c->len, 0600) < 0)
		log_warn("ctcm: bootstrap copy %s", p);
	free(p);
}

int
ctcm_local_install(const struct ctcm_local *l, const struct ctcm_bundle *b,
    char *err, size_t errlen)
{
	char			 paths[CTCM_MAX_SECTIONS][CFG_PATH_MAX];
	char			*hp = NULL, *pp = NULL, *sp = NULL;
	struct buf		 o;
	struct ctcm_stamp	 st;
	int			 rc = 0;

	buf_init(&o);
	if (install_paths(l, b, paths, err, errlen) < 0) {
		rc = CTCM_E_INVALID;
		goto out;
	}
	hp = xasprintf("%s/history/%llu.bundle", l->dir,
	    (unsigned long long)b->gen);
	pp = xasprintf("%s/pending", l->dir);
	sp = xasprintf("%s/stamp", l->dir);
	/* 1: the bundle itself, so the local disk has it before anything
	 * it describes changes */
	ctcm_bundle_encode(b, &o);
	if (ctcm_file_write(hp, o.data, o.len, 0600) < 0)
		goto ioerr;
	/* 2: pending: from here until the stamp, the local copy is not
	 * to be trusted */
	buf_reset(&o);
	buf_printf(&o, "%llu\n", (unsigned long long)b->gen);
	if (ctcm_file_write(pp, o.data, o.len, 0600) < 0)
		goto ioerr;
	/* 3: the files the daemon reads */
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < b->nsec; i++) {
		mode_t mode = 0644;

		if (paths[i][0] == 0)
			continue;
		if (b->sec[i].kind == CTCM_SEC_CONF)
			mode = 0600;
		else if (b->sec[i].kind == CTCM_SEC_IMAGE) {
			/* public: duonas-boot reads it before the daemon */
			char *d = xstrdup(l->image_path);

			*strrchr(d, '/') = 0;
			if (mkdir_p(d, 0755) < 0) {
				free(hp);
				hp = d;
				goto ioerr;
			}
			free(d);
		} else if (b->sec[i].kind == CTCM_SEC_SMBUSERS) {
			/* password hashes: root only, directory included */
			mode = 0600;
			if (users_dir(l->users_path) < 0) {
				free(hp);
				hp = xstrdup(l->users_path);
				goto ioerr;
			}
		}
		if (ctcm_file_write(paths[i], b->sec[i].data, b->sec[i].len,
		    mode) < 0) {
			free(hp);
			hp = xstrdup(paths[i]);
			goto ioerr;
		}
		st.files[st.nfiles].kind = b->sec[i].kind;
		memcpy(st.files[st.nfiles].path, paths[i], CFG_PATH_MAX);
		st.files[st.nfiles].len = b->sec[i].len;
		st.files[st.nfiles].crc = pext_crc32c(0, b->sec[i].data,
		    b->sec[i].len);
		st.nfiles++;
	}
	/* a generation without SMB users (also one from before they
	 * existed) has no users file; only an existing one costs a step */
	if (ctcm_bundle_get(b, CTCM_SEC_SMBUSERS) == NULL &&
	    access(l->users_path, F_OK) == 0 &&
	    ctcm_file_unlink(l->users_path) < 0) {
		free(hp);
		hp = xstrdup(l->users_path);
		goto ioerr;
	}
	if (ctcm_bundle_get(b, CTCM_SEC_IMAGE) == NULL &&
	    access(l->image_path, F_OK) == 0 &&
	    ctcm_file_unlink(l->image_path) < 0) {
		free(hp);
		hp = xstrdup(l->image_path);
		goto ioerr;
	}
	/* 4: the stamp: the local commit point */
	st.gen = b->gen;
	st.vepoch = b->vepoch;
	st.content_crc = ctcm_content_crc(b);
	st.time_ms = b->time_ms;
	snprintf(st.author, sizeof(st.author), "%s", b->author);
	snprintf(st.summary, sizeof(st.summary), "%s", b->summary);
	buf_reset(&o);
	ctcm_stamp_encode(&st, &o);
	if (ctcm_file_write(sp, o.data, o.len, 0600) < 0) {
		free(hp);
		hp = xstrdup(sp);
		goto ioerr;
	}
	/* 5: done; then the bootstrap copy (only logged when it fails:
	 * it is needed only when duonas.conf itself is damaged) */
	if (ctcm_file_unlink(pp) < 0) {
		free(hp);
		hp = xstrdup(pp);
		goto ioerr;
	}
	write_bootstrap(l, b);
	prune(l, b->gen);
	goto out;
ioerr:
	rc = errno ? errno : EIO;
	snprintf(err, errlen, "installing generation %llu: %s: %s",
	    (unsigned long long)b->gen, hp, strerror(rc));
out:
	buf_free(&o);
	free(hp);
	free(pp);
	free(sp);
	return rc;
}

int
ctcm_local_from_files(const struct ctcm_local *l, struct ctcm_bundle *b,
    char *err, size_t errlen)
{
	uint8_t		*d = NULL;
	size_t		 len;
	struct cfg	*c = xcalloc(1, sizeof(*c));
	char		 e[256];
	int		 rv = -1;

	ctcm_bundle_init(b);
	if (read_file(l->conf_path, &d, &len) < 0) {
		snprintf(err, errlen, "%s: %s", l->conf_path, strerror(errno));
		goto out;
	}
	if (cfg_parse_buf(l->conf_path, (char *)d, len, c, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s", e);
		goto out;
	}
	ctcm_bundle_set(b, CTCM_SEC_CONF, "duonas.conf", d, len);
	free(d);
	d = NULL;
	if (read_file(c->exports, &d, &len) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", c->exports,
			    strerror(errno));
			goto out;
		}
		ctcm_bundle_set(b, CTCM_SEC_EXPORTS, "exports", "", 0);
	} else
		ctcm_bundle_set(b, CTCM_SEC_EXPORTS, "exports", d, len);
	free(d);
	d = NULL;
	/* the users file exists exactly when the installed generation has
	 * the section */
	if (read_file(l->users_path, &d, &len) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", l->users_path,
			    strerror(errno));
			goto out;
		}
	} else
		ctcm_bundle_set(b, CTCM_SEC_SMBUSERS, "smb/users", d, len);
	free(d);
	d = NULL;
	if (read_file(l->image_path, &d, &len) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", l->image_path,
			    strerror(errno));
			goto out;
		}
	} else
		ctcm_bundle_set(b, CTCM_SEC_IMAGE, "image/boot", d, len);
	rv = 0;
out:
	if (rv < 0)
		ctcm_bundle_free(b);
	free(d);
	free(c);
	return rv;
}

void
ctcm_local_save_history(const struct ctcm_local *l,
    const struct ctcm_bundle *v, int n, uint64_t keep)
{
	struct buf	o;

	buf_init(&o);
	for (int i = 0; i < n; i++) {
		char			*p = xasprintf("%s/history/%llu.bundle",
		    l->dir, (unsigned long long)v[i].gen);
		struct ctcm_bundle	 have;

		/* a bundle of this generation with other content was never
		 * committed (the caller's copy ranks higher): replace it */
		if (ctcm_local_load(l, v[i].gen, &have) != 0 ||
		    have.content_crc != ctcm_content_crc(&v[i])) {
			buf_reset(&o);
			ctcm_bundle_encode(&v[i], &o);
			if (file_write_atomic(p, o.data, o.len, 0600) < 0)
				log_warn("ctcm: %s", p);
		}
		ctcm_bundle_free(&have);
		free(p);
	}
	buf_free(&o);
	prune(l, keep);
}

int
ctcm_local_changed(const struct ctcm_local *l, const struct ctcm_bundle *b,
    struct buf *out)
{
	char	paths[CTCM_MAX_SECTIONS][CFG_PATH_MAX], err[256];
	int	n = 0;

	if (install_paths(l, b, paths, err, sizeof(err)) < 0)
		return 0;
	for (int i = 0; i < b->nsec; i++) {
		uint8_t	*d = NULL;
		size_t	 len;
		int	 same;

		if (paths[i][0] == 0)
			continue;
		same = read_file(paths[i], &d, &len) == 0 &&
		    len == b->sec[i].len && memcmp(d, b->sec[i].data, len) == 0;
		free(d);
		if (!same) {
			buf_printf(out, "%s%s", n ? ", " : "", paths[i]);
			n++;
		}
	}
	return n;
}

int
ctcm_local_rebuild_bundle(const struct ctcm_local *l,
    const struct ctcm_stamp *st, char *err, size_t errlen)
{
	struct ctcm_bundle	b;
	struct buf		o;
	char			*p;
	int			rv = -1;

	if (ctcm_local_from_files(l, &b, err, errlen) < 0)
		return -1;
	b.gen = st->gen;
	b.vepoch = st->vepoch;
	b.time_ms = st->time_ms;
	snprintf(b.author, sizeof(b.author), "%s", st->author);
	snprintf(b.summary, sizeof(b.summary), "%s", st->summary);
	if (ctcm_content_crc(&b) != st->content_crc) {
		snprintf(err, errlen, "the installed files do not add up to "
		    "generation %llu (checksum %08x, stamp %08x)",
		    (unsigned long long)st->gen, ctcm_content_crc(&b),
		    st->content_crc);
		ctcm_bundle_free(&b);
		return -1;
	}
	buf_init(&o);
	ctcm_bundle_encode(&b, &o);
	p = xasprintf("%s/history/%llu.bundle", l->dir,
	    (unsigned long long)b.gen);
	if (ctcm_file_write(p, o.data, o.len, 0600) < 0)
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
	else
		rv = 0;
	free(p);
	buf_free(&o);
	ctcm_bundle_free(&b);
	return rv;
}

uint64_t
ctcm_local_max_gen(const struct ctcm_local *l)
{
	uint64_t	g[1];

	return ctcm_local_list(l, g, 1) == 1 ? g[0] : 0;
}

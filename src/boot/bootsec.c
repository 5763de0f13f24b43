/*
 * bootsec.c — text codecs of the boot work: the configuration's image
 * section (<state>/image/boot: trusted keys, preferred and previous
 * image, floor; docs/boot-images.md "Configuration: the image
 * section") and DUONAS_BOOT_INFO, what duonas-boot tells the daemon it
 * execs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/slots.h"

#define SEC_MAX		65536
#define SEC_WORDS	5

static int
sec_err(char *err, size_t errlen, int line, const char *fmt, const char *a)
{
	char	m[200];

	snprintf(m, sizeof(m), fmt, a);
	snprintf(err, errlen, "image section line %d: %s", line, m);
	return -1;
}

static int
parse_hex32(const char *s, uint8_t out[32])
{
	return strlen(s) == 64 && hex_decode(out, 32, s) == 32 ? 0 : -1;
}

static int
parse_ref(char **w, int nw, int line, struct boot_ref *ref, char *err,
    size_t errlen)
{
	long long	 n;
	const char	*es;

	if (nw != 4)
		return sec_err(err, errlen, line, "'%s' takes VERSION DIGEST "
		    "SIZE", w[0]);
	if (strlen(w[1]) > IMG_VERSION_MAX || !img_version_valid(w[1]))
		return sec_err(err, errlen, line, "bad version '%s'", w[1]);
	if (parse_hex32(w[2], ref->digest) < 0)
		return sec_err(err, errlen, line, "bad digest '%s' (64 hex "
		    "digits)", w[2]);
	if (parse_num(w[3], 1, (long long)IMG_HDR_LEN + IMG_MANIFEST_MAX +
	    IMG_PAYLOAD_MAX + IMG_SIG_LEN, &n, &es) < 0)
		return sec_err(err, errlen, line, "bad size '%s'", w[3]);
	snprintf(ref->version, sizeof(ref->version), "%s", w[1]);
	ref->size = (uint64_t)n;
	ref->set = 1;
	return 0;
}

int
boot_sec_parse(const char *text, size_t len, struct boot_sec *s, char *err,
    size_t errlen)
{
	char		*copy, *line, *next, *w[SEC_WORDS + 1];
	int		 ln = 0, nw, rv = -1, have_floor = 0;

	memset(s, 0, sizeof(*s));
	if (len > SEC_MAX) {
		snprintf(err, errlen, "image section: %zu bytes, more than "
		    "%d", len, SEC_MAX);
		return -1;
	}
	if (memchr(text, 0, len) != NULL) {
		snprintf(err, errlen, "image section: NUL byte in the text");
		return -1;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = 0;
	for (line = copy; line != NULL && *line; line = next) {
		ln++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		nw = 0;
		for (char *t = strtok(line, " \t\r"); t != NULL;
		    t = strtok(NULL, " \t\r")) {
			if (nw == SEC_WORDS) {
				sec_err(err, errlen, ln, "too many words%s",
				    "");
				goto out;
			}
			w[nw++] = t;
		}
		if (nw == 0)
			continue;
		if (strcmp(w[0], "key") == 0) {
			if (nw != 2) {
				sec_err(err, errlen, ln, "'key' takes one "
				    "HEX64%s", "");
				goto out;
			}
			if (s->nkeys == IMG_MAX_KEYS) {
				sec_err(err, errlen, ln, "more than %s keys",
				    "8");
				goto out;
			}
			if (parse_hex32(w[1], s->keys[s->nkeys]) < 0) {
				sec_err(err, errlen, ln, "bad key '%s' (64 "
				    "hex digits)", w[1]);
				goto out;
			}
			for (int i = 0; i < s->nkeys; i++)
				if (memcmp(s->keys[i], s->keys[s->nkeys],
				    IMG_PUBKEY_LEN) == 0) {
					sec_err(err, errlen, ln, "duplicate "
					    "key %s", w[1]);
					goto out;
				}
			s->nkeys++;
		} else if (strcmp(w[0], "preferred") == 0 ||
		    strcmp(w[0], "previous") == 0) {
			struct boot_ref *r = strcmp(w[0], "preferred") == 0 ?
			    &s->preferred : &s->previous;
			if (r->set) {
				sec_err(err, errlen, ln, "duplicate '%s'",
				    w[0]);
				goto out;
			}
			if (parse_ref(w, nw, ln, r, err, errlen) < 0)
				goto out;
		} else if (strcmp(w[0], "floor") == 0) {
			if (have_floor) {
				sec_err(err, errlen, ln, "duplicate '%s'",
				    w[0]);
				goto out;
			}
			if (nw != 2 || strlen(w[1]) > IMG_VERSION_MAX ||
			    !img_version_valid(w[1])) {
				sec_err(err, errlen, ln, "'floor' takes one "
				    "VERSION%s", "");
				goto out;
			}
			snprintf(s->floor, sizeof(s->floor), "%s", w[1]);
			have_floor = 1;
		} else {
			sec_err(err, errlen, ln, "unknown word '%s'", w[0]);
			goto out;
		}
	}
	rv = 0;
out:
	free(copy);
	if (rv < 0)
		memset(s, 0, sizeof(*s));
	return rv;
}

void
boot_sec_format(const struct boot_sec *s, struct buf *out)
{
	char	hx[2 * IMG_DIGEST_LEN + 1];

	for (int i = 0; i < s->nkeys; i++) {
		hex_encode(hx, s->keys[i], IMG_PUBKEY_LEN);
		buf_printf(out, "key %s\n", hx);
	}
	if (s->preferred.set) {
		img_digest_hex(s->preferred.digest, hx);
		buf_printf(out, "preferred %s %s %llu\n", s->preferred.version,
		    hx, (unsigned long long)s->preferred.size);
	}
	if (s->previous.set) {
		img_digest_hex(s->previous.digest, hx);
		buf_printf(out, "previous %s %s %llu\n", s->previous.version,
		    hx, (unsigned long long)s->previous.size);
	}
	if (s->floor[0])
		buf_printf(out, "floor %s\n", s->floor);
}

int
boot_sec_load(const char *path, struct boot_sec *s, char *err, size_t errlen)
{
	uint8_t	*data;
	size_t	 len;
	char	 e[256];
	int	 rv;

	memset(s, 0, sizeof(*s));
	if (file_read_all(path, SEC_MAX, &data, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rv = boot_sec_parse((const char *)data, len, s, e, sizeof(e));
	free(data);
	if (rv < 0)
		snprintf(err, errlen, "%s: %s", path, e);
	return rv;
}

/* ---- DUONAS_BOOT_INFO ------------------------------------------------- */

void
boot_info_format(const struct boot_info *bi, char *out, size_t outlen)
{
	char	hx[2 * IMG_DIGEST_LEN + 1];

	img_digest_hex(bi->digest, hx);
	snprintf(out, outlen, "slot=%s dir=%s version=%s digest=%s state=%s "
	    "attempts=%d note=%s", slot_name(bi->slot), bi->dir, bi->version,
	    hx, slot_state_name(bi->state), bi->attempts, bi->note);
}

int
boot_info_parse(const char *s, struct boot_info *bi)
{
	enum { F_SLOT = 1, F_DIR = 2, F_VER = 4, F_DIG = 8, F_STATE = 16,
	    F_ATT = 32, F_ALL = 63 };
	char		 w[320];
	const char	*p = s, *sp;
	int		 have = 0;
	long long	 n;
	const char	*es;

	memset(bi, 0, sizeof(*bi));
	for (;;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "note=", 5) == 0) {
			if (strlen(p + 5) > SLOTREC_NOTE_MAX)
				return -1;
			strcpy(bi->note, p + 5);
			break;
		}
		if (*p == 0)
			return -1;		/* note= is required, last */
		sp = strchr(p, ' ');
		size_t wl = sp ? (size_t)(sp - p) : strlen(p);
		if (wl >= sizeof(w))
			return -1;
		memcpy(w, p, wl);
		w[wl] = 0;
		p += wl;
		char *v = strchr(w, '=');
		if (v == NULL)
			return -1;
		*v++ = 0;
		if (strcmp(w, "slot") == 0 && !(have & F_SLOT)) {
			if (strcmp(v, "A") && strcmp(v, "B"))
				return -1;
			bi->slot = v[0] == 'B';
			have |= F_SLOT;
		} else if (strcmp(w, "dir") == 0 && !(have & F_DIR)) {
			if (*v == 0 || strlen(v) >= sizeof(bi->dir))
				return -1;
			strcpy(bi->dir, v);
			have |= F_DIR;
		} else if (strcmp(w, "version") == 0 && !(have & F_VER)) {
			if (strlen(v) > IMG_VERSION_MAX ||
			    !img_version_valid(v))
				return -1;
			strcpy(bi->version, v);
			have |= F_VER;
		} else if (strcmp(w, "digest") == 0 && !(have & F_DIG)) {
			if (parse_hex32(v, bi->digest) < 0)
				return -1;
			have |= F_DIG;
		} else if (strcmp(w, "state") == 0 && !(have & F_STATE)) {
			int st;
			for (st = SLOT_EMPTY; st <= SLOT_BAD; st++)
				if (strcmp(v, slot_state_name(st)) == 0)
					break;
			if (st > SLOT_BAD)
				return -1;
			bi->state = st;
			have |= F_STATE;
		} else if (strcmp(w, "attempts") == 0 && !(have & F_ATT)) {
			if (parse_num(v, 0, 255, &n, &es) < 0)
				return -1;
			bi->attempts = (int)n;
			have |= F_ATT;
		} else
			return -1;
	}
	return have == F_ALL ? 0 : -1;
}

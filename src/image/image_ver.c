/*
 * image_ver.c — image version strings (N[.N[.N[.N]]][-tag]) and their
 * order, and whether two images can run on the two heads of one pair
 * or an image on this machine (docs/boot-images.md, "Manifest").
 * Pure but for uname(2); no allocation.
 */
#include <sys/utsname.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

/* Digits of one version number: no sign, no leading zero, at most 9
 * digits so that every number fits comfortably in a long. */
static const char *
ver_num(const char *p, long *out)
{
	const char	*s = p;
	long		 v = 0;

	while (*p >= '0' && *p <= '9') {
		if (p - s == 9)
			return NULL;	/* a 10th digit; v must not overflow */
		v = v * 10 + (*p - '0');
		p++;
	}
	if (p == s || (p - s > 1 && *s == '0'))
		return NULL;
	*out = v;
	return p;
}

/* Split v into up to 4 numbers and the tag ("" without one).  0 / -1. */
static int
ver_split(const char *v, long num[4], int *nnum, const char **tag)
{
	const char	*p = v;
	int		 n = 0;

	if (strlen(v) > IMG_VERSION_MAX)
		return -1;
	for (;;) {
		if (n == 4 || (p = ver_num(p, &num[n])) == NULL)
			return -1;
		n++;
		if (*p != '.')
			break;
		p++;
	}
	*nnum = n;
	*tag = "";
	if (*p == '\0')
		return 0;
	if (*p != '-')
		return -1;
	p++;
	if (*p == '\0' || strlen(p) > 15 || strspn(p,
	    "abcdefghijklmnopqrstuvwxyz0123456789.") != strlen(p))
		return -1;
	*tag = p;
	return 0;
}

int
img_version_valid(const char *v)
{
	long		 num[4];
	int		 n;
	const char	*tag;

	return ver_split(v, num, &n, &tag) == 0;
}

int
img_version_cmp(const char *a, const char *b)
{
	long		 na[4] = { 0 }, nb[4] = { 0 };
	int		 ca, cb;
	const char	*ta, *tb;

	if (ver_split(a, na, &ca, &ta) < 0 || ver_split(b, nb, &cb, &tb) < 0)
		return strcmp(a, b);	/* callers pass valid ones */
	/* missing numbers count as 0: 1.2 == 1.2.0 */
	for (int i = 0; i < 4; i++) {
		long x = i < ca ? na[i] : 0, y = i < cb ? nb[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	/* a pre-release tag is older than the release itself */
	if (*ta == '\0' || *tb == '\0')
		return (*ta == '\0') - (*tb == '\0');
	return strcmp(ta, tb) < 0 ? -1 : strcmp(ta, tb) > 0;
}

int
img_compatible(const struct img_manifest *a, const struct img_manifest *b,
    char *why, size_t whylen)
{
	if (a->wire_min > b->wire_max || b->wire_min > a->wire_max) {
		snprintf(why, whylen, "wire formats %" PRIu32 "..%" PRIu32
		    " and %" PRIu32 "..%" PRIu32 " do not overlap",
		    a->wire_min, a->wire_max, b->wire_min, b->wire_max);
		return 0;
	}
	if (a->disk_min > b->disk_max || b->disk_min > a->disk_max) {
		snprintf(why, whylen, "disk formats %" PRIu32 "..%" PRIu32
		    " and %" PRIu32 "..%" PRIu32 " do not overlap",
		    a->disk_min, a->disk_max, b->disk_min, b->disk_max);
		return 0;
	}
	if (strcmp(a->arch, b->arch) != 0) {
		snprintf(why, whylen, "architectures %s and %s differ",
		    a->arch, b->arch);
		return 0;
	}
	if (strcmp(a->hardware, "any") != 0 &&
	    strcmp(b->hardware, "any") != 0 &&
	    strcmp(a->hardware, b->hardware) != 0) {
		snprintf(why, whylen, "hardware %s and %s differ",
		    a->hardware, b->hardware);
		return 0;
	}
	if (whylen > 0)
		why[0] = '\0';
	return 1;
}

/*
 * This machine names no platform of its own ("any"), so only the
 * architecture decides; an image for a named platform runs wherever its
 * architecture does.
 */
int
img_runs_here(const struct img_manifest *m, char *why, size_t whylen)
{
	struct utsname	u;

	if (uname(&u) < 0) {
		snprintf(why, whylen, "uname: %s", strerror(errno));
		return 0;
	}
	if (strcmp(m->arch, u.machine) != 0) {
		snprintf(why, whylen, "image is for %s, this machine is %s",
		    m->arch, u.machine);
		return 0;
	}
	if (whylen > 0)
		why[0] = '\0';
	return 1;
}

void
img_digest_hex(const uint8_t d[IMG_DIGEST_LEN], char *dst)
{
	hex_encode(dst, d, IMG_DIGEST_LEN);
}

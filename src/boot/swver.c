/*
 * swver.c — the software string a head's heartbeats carry
 * (docs/boot-images.md, "The running daemon") and the judgement of two
 * heads' software: may they pair.  Pure.
 */
#include <stdio.h>
#include <string.h>

#include "boot/slots.h"

void
sw_format(char *out, size_t len, const struct sw_string *s)
{
	int n;

	n = snprintf(out, len, "%s;%s;%c;w%u-%u;d%u-%u;%s", s->version,
	    s->digest8[0] ? s->digest8 : "-", s->state ? s->state : '-',
	    s->wmin, s->wmax, s->dmin, s->dmax, s->arch);
	/* the arch goes first when the heartbeat's 63 bytes run out */
	if (n < 0 || (size_t)n >= len)
		snprintf(out, len, "%s;%s;%c;w%u-%u;d%u-%u", s->version,
		    s->digest8[0] ? s->digest8 : "-", s->state ? s->state :
		    '-', s->wmin, s->wmax, s->dmin, s->dmax);
}

int
sw_parse(const char *str, struct sw_string *p)
{
	char	 buf[80], *f[6], *save = NULL, *t;
	int	 n = 0;

	memset(p, 0, sizeof(*p));
	if (strlen(str) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", str);
	for (t = strtok_r(buf, ";", &save); t != NULL && n < 6;
	    t = strtok_r(NULL, ";", &save))
		f[n++] = t;
	/* t: a seventh field, when there is one */
	if (n < 1 || t != NULL || strlen(f[0]) >= sizeof(p->version))
		return -1;
	snprintf(p->version, sizeof(p->version), "%s", f[0]);
	if (n == 1)
		return 0;		/* a head from before images */
	if (n < 5 || strlen(f[1]) >= sizeof(p->digest8) ||
	    strlen(f[2]) != 1 || strchr("gn-", f[2][0]) == NULL ||
	    sscanf(f[3], "w%u-%u", &p->wmin, &p->wmax) != 2 ||
	    sscanf(f[4], "d%u-%u", &p->dmin, &p->dmax) != 2 ||
	    p->wmin > p->wmax || p->dmin > p->dmax ||
	    (n == 6 && strlen(f[5]) >= sizeof(p->arch)))
		return -1;
	p->full = 1;
	snprintf(p->digest8, sizeof(p->digest8), "%s", f[1]);
	p->state = f[2][0];
	if (n == 6)
		snprintf(p->arch, sizeof(p->arch), "%s", f[5]);
	return 0;
}

int
sw_compatible(const struct sw_string *me, const struct sw_string *p,
    char *why, size_t len)
{
	if (!p->full || !me->full)
		return 1;
	if (p->wmax < me->wmin || p->wmin > me->wmax) {
		snprintf(why, len, "the peer (%s) speaks wire formats %u..%u, "
		    "this head (%s) %u..%u: they do not overlap", p->version,
		    p->wmin, p->wmax, me->version, me->wmin, me->wmax);
		return 0;
	}
	if (p->dmax < me->dmin || p->dmin > me->dmax) {
		snprintf(why, len, "the peer (%s) reads disk formats %u..%u, "
		    "this head (%s) %u..%u: they do not overlap", p->version,
		    p->dmin, p->dmax, me->version, me->dmin, me->dmax);
		return 0;
	}
	if (p->arch[0] && me->arch[0] && strcmp(p->arch, me->arch) != 0) {
		snprintf(why, len, "the peer runs %s software, this head %s",
		    p->arch, me->arch);
		return 0;
	}
	return 1;
}

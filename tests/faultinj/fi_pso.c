/*
 * fi_pso.c — drives the PSO store (pso_store.c over LMDB, the code the
 * daemon runs) for tests/faultinj/pso_faults.sh, which runs it under the
 * fault-injection shim.  One "put" is one durable transaction of three
 * records (NAME.0 .. NAME.2) holding LEN bytes of one character, so a
 * reader can tell a complete old value, a complete new one and anything
 * half-applied apart.
 *
 *	fi_pso DIR put NAME CHAR LEN [CHAR2]
 *		exit 0 when the store acknowledged the put, 1 when it
 *		reported an error (printed); with CHAR2, a second put in the
 *		same process follows (the store must work again once the
 *		fault has passed) and its outcome is printed too
 *	fi_pso DIR get NAME
 *		prints "CHAR LEN VERSION" (or "absent"); exit 2 when the
 *		store does not open, 3 when the three records disagree or a
 *		value is not LEN times one character (half-applied)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "pso/pso_int.h"

#define NREC	3

static int
get_all(struct pso_store *s, const char *name, struct pso_rec r[NREC],
    void *val[NREC], int *present)
{
	char	n[PSO_NAME_MAX];
	int	i, rc, found = 0;

	for (i = 0; i < NREC; i++) {
		snprintf(n, sizeof(n), "%s.%d", name, i);
		memset(&r[i], 0, sizeof(r[i]));
		val[i] = NULL;
		rc = pso_store_get(s, pso_name_id(n), &r[i], &val[i]);
		if (rc == PSO_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		found++;
	}
	if (found != 0 && found != NREC)
		return -1;
	*present = found == NREC;
	return 0;
}

static int
put(struct pso_store *s, const char *name, int ch, size_t len)
{
	struct pso_rec	 r[NREC], old[NREC];
	void		*ov[NREC];
	char		*v, n[NREC][PSO_NAME_MAX];
	int		 i, rc, present = 0, napplied;

	if ((rc = get_all(s, name, old, ov, &present)) != 0)
		return rc < 0 ? PSO_CORRUPT : rc;
	v = xmalloc(len);
	memset(v, ch, len);
	for (i = 0; i < NREC; i++) {
		snprintf(n[i], sizeof(n[i]), "%s.%d", name, i);
		memset(&r[i], 0, sizeof(r[i]));
		r[i].id = pso_name_id(n[i]);
		snprintf(r[i].name, sizeof(r[i].name), "%s", n[i]);
		r[i].flags = PSO_PERSISTENT;
		r[i].version = (present ? old[i].version : 0) + 1;
		r[i].mtime_ms = 1000 + r[i].version;
		r[i].val = v;
		r[i].len = (uint32_t)len;
		free(ov[i]);
	}
	rc = pso_store_apply(s, r, NREC, 0, NULL, &napplied);
	if (rc == 0 && napplied != NREC)
		rc = PSO_CONFLICT;
	free(v);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pso_store	*s;
	struct pso_rec		 r[NREC];
	void			*val[NREC];
	const uint8_t		*p;
	int			 rc, i, present;
	uint32_t		 j;

	log_init("fi_pso", 0, 0);
	if (argc < 4 || (strcmp(argv[2], "put") == 0 && argc < 6)) {
		fprintf(stderr, "usage: fi_pso DIR put NAME CHAR LEN [CHAR2] "
		    "| DIR get NAME\n");
		return 64;
	}
	if ((rc = pso_store_open(argv[1], 16, &s)) != 0) {
		printf("open: %s\n", pso_strerror(rc));
		return 2;
	}
	if (strcmp(argv[2], "put") == 0) {
		rc = put(s, argv[3], argv[4][0], strtoul(argv[5], NULL, 10));
		printf("put: %s\n", pso_strerror(rc));
		if (argc > 6) {
			int rc2 = put(s, argv[3], argv[6][0],
			    strtoul(argv[5], NULL, 10));

			printf("put2: %s\n", pso_strerror(rc2));
			if (rc == 0 || rc2 != 0)
				rc = rc2 ? rc2 : 0;
		}
		pso_store_close(s);
		return rc == 0 ? 0 : 1;
	}
	rc = get_all(s, argv[3], r, val, &present);
	if (rc != 0) {
		printf("get: %s\n", rc < 0 ? "some records of the put missing"
		    : pso_strerror(rc));
		return rc < 0 ? 3 : 2;
	}
	if (!present) {
		printf("absent\n");
		return 0;
	}
	for (i = 0; i < NREC; i++) {
		p = val[i];
		if (r[i].len != r[0].len || r[i].version != r[0].version ||
		    (r[i].len && p[0] != ((uint8_t *)val[0])[0])) {
			printf("records disagree (half-applied)\n");
			return 3;
		}
		for (j = 0; j < r[i].len; j++)
			if (p[j] != p[0]) {
				printf("value of %s mixed at byte %u\n",
				    r[i].name, j);
				return 3;
			}
	}
	printf("%c %u %llu\n", r[0].len ? ((char *)val[0])[0] : '-',
	    r[0].len, (unsigned long long)r[0].version);
	for (i = 0; i < NREC; i++)
		free(val[i]);
	pso_store_close(s);
	return 0;
}

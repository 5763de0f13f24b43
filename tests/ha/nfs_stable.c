/*
 * nfs_stable.c — one NFSv3 call of a stable-storage sequence, for tests
 * that change the server between the calls (tests/ha/ext4_readonly.sh):
 *
 *   nfs_stable URL unstable    WRITE record 0 UNSTABLE (creating the file)
 *   nfs_stable URL filesync    WRITE record 1 FILE_SYNC
 *   nfs_stable URL commit      COMMIT record 0
 *
 * Prints "ok VERIFIER" (hex) or "error MESSAGE".  Exit 0 when the server
 * answered OK (for filesync: with FILE_SYNC), 1 when it answered an
 * error, 2 on bad usage or when the server could not be reached.
 */
#include <stdio.h>
#include <string.h>

#include "tests/ha/tnc.h"

#define REC	4096

static void
put_verf(const uint8_t v[TNC_VERF_SIZE])
{
	printf("ok ");
	for (int i = 0; i < TNC_VERF_SIZE; i++)
		printf("%02x", v[i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	static struct tnc	t;
	uint8_t			rec[REC], verf[TNC_VERF_SIZE];
	int			committed = 0, rc;

	if (argc != 3 || (strcmp(argv[2], "unstable") != 0 &&
	    strcmp(argv[2], "filesync") != 0 &&
	    strcmp(argv[2], "commit") != 0)) {
		fprintf(stderr, "usage: nfs_stable URL unstable|filesync|"
		    "commit\n");
		return 2;
	}
	if (tnc_parse_url(&t, argv[1]) < 0 ||
	    tnc_open(&t, 1, tnc_mono_ms() + 10000) < 0) {
		printf("error %s\n", t.err);
		return 2;
	}
	if (strcmp(argv[2], "commit") == 0)
		rc = tnc_commit(&t, 0, REC, verf);
	else {
		int one = strcmp(argv[2], "filesync") == 0;

		tnc_rec_build(rec, REC, 1, (uint64_t)one);
		rc = tnc_write(&t, one ? REC : 0, rec, REC, one ? 2 : 0,
		    &committed, verf);
		if (rc == 0 && one && committed != 2) {
			printf("error the reply says committed=%d, not "
			    "FILE_SYNC\n", committed);
			tnc_close(&t);
			return 1;
		}
	}
	if (rc < 0)
		printf("error %s\n", t.err);
	else
		put_verf(verf);
	tnc_close(&t);
	return rc < 0 ? 1 : 0;
}

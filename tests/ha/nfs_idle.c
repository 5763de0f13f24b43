/*
 * nfs_idle.c — the tickle test's NFS client: one connection that does a
 * call, then sits idle until told to make one more call, and reports
 * when that call completed.
 *
 *   nfs_idle [-T CALL_MS] [-w WAIT_S] [-D DEADLINE_S] URL TRIGGER
 *
 * Opens (creates) the file of URL and writes record 0 FILE_SYNC, then
 * prints "ready_wall_ms=..." and waits (at most WAIT_S, default 120)
 * until the file TRIGGER exists.  Then it writes record 1 FILE_SYNC on
 * the same connection, which it has not used since; a failed attempt
 * (reset, timeout) is retried at once on a fresh connection to the same
 * address, like kernel clients and libnfs applications do, until
 * DEADLINE_S (default 60).  CALL_MS (default 30000) bounds one attempt:
 * keep it long, so that what is measured is how TCP on the client
 * gets out of the dead connection, not this program's timer.  Finally
 * both records are read back and checked.  Prints key=value lines:
 * call_wall_ms (the second call started), first_error_wall_ms and
 * first_error (0 / empty when the first attempt succeeded),
 * done_wall_ms, attempts, connects, verified.  Exit 0, or 2 when the
 * call or the check failed or setup failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "tests/ha/tnc.h"

#define REC_SIZE		4096
#define NFS_STABLE_FILE_SYNC	2

static void
usage(void)
{
	fprintf(stderr, "usage: nfs_idle [-T CALL_MS] [-w WAIT_S] "
	    "[-D DEADLINE_S] URL TRIGGER\n"
	    "  URL: nfs://HOST/EXPORT/FILE[?nfsport=N&mountport=M]\n");
	exit(2);
}

/* An option's number, checked (tnc_num). */
static long
num(const char *opt, const char *s, long lo, long hi)
{
	return tnc_num("nfs_idle", opt, s, lo, hi);
}

static int
write_rec(struct tnc *t, uint8_t *rec, uint64_t tag, uint64_t idx)
{
	uint8_t	verf[TNC_VERF_SIZE];
	int	committed;

	tnc_rec_build(rec, REC_SIZE, tag, idx);
	if (tnc_write(t, idx * REC_SIZE, rec, REC_SIZE, NFS_STABLE_FILE_SYNC,
	    &committed, verf) < 0)
		return -1;
	if (committed != NFS_STABLE_FILE_SYNC) {
		snprintf(t->err, sizeof(t->err), "WRITE FILE_SYNC answered "
		    "with stable_how %d", committed);
		return -1;
	}
	return 0;
}

static int
check_rec(struct tnc *t, uint8_t *rec, uint64_t tag, uint64_t idx)
{
	const char	*why;
	uint32_t	 got;
	int		 eof;

	if (tnc_read(t, idx * REC_SIZE, rec, REC_SIZE, &got, &eof) < 0) {
		fprintf(stderr, "nfs_idle: reading record %llu: %s\n",
		    (unsigned long long)idx, t->err);
		return -1;
	}
	if (got != REC_SIZE ||
	    (why = tnc_rec_check(rec, REC_SIZE, tag, idx)) != NULL) {
		fprintf(stderr, "nfs_idle: record %llu is not intact (%s)\n",
		    (unsigned long long)idx, got != REC_SIZE ? "short" : why);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct tnc	 t;
	const char	*trigger;
	long		 call_ms = 30000, wait_s = 120, deadline_s = 60;
	uint64_t	 tag, end, call_wall, err_wall = 0, done_wall;
	unsigned long	 attempts = 0;
	char		 first_err[sizeof(t.err)] = "";
	uint8_t		*rec;
	int		 ch, verified;

	while ((ch = getopt(argc, argv, "D:T:w:")) != -1) {
		switch (ch) {
		case 'D': deadline_s = num("-D", optarg, 1, 3600); break;
		case 'T': call_ms = num("-T", optarg, 100, 600000); break;
		case 'w': wait_s = num("-w", optarg, 1, 3600); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	trigger = argv[optind + 1];
	memset(&t, 0, sizeof(t));
	t.call_timeout_ms = (int)call_ms;
	if (tnc_parse_url(&t, argv[optind]) < 0) {
		fprintf(stderr, "nfs_idle: %s\n", t.err);
		return 2;
	}
	if ((rec = malloc(REC_SIZE)) == NULL ||
	    getrandom(&tag, sizeof(tag), 0) != sizeof(tag)) {
		fprintf(stderr, "nfs_idle: setup: %s\n", strerror(errno));
		return 2;
	}
	if (tnc_open(&t, 1, tnc_mono_ms() + 30000) < 0 ||
	    write_rec(&t, rec, tag, 0) < 0) {
		fprintf(stderr, "nfs_idle: first call: %s\n", t.err);
		return 2;
	}
	printf("ready_wall_ms=%llu\n", (unsigned long long)tnc_wall_ms());
	fflush(stdout);

	end = tnc_mono_ms() + (uint64_t)wait_s * 1000;
	while (access(trigger, F_OK) < 0) {
		if (tnc_mono_ms() >= end) {
			fprintf(stderr, "nfs_idle: %s did not appear within "
			    "%ld s\n", trigger, wait_s);
			return 2;
		}
		poll(NULL, 0, 2);
	}

	call_wall = tnc_wall_ms();
	end = tnc_mono_ms() + (uint64_t)deadline_s * 1000;
	for (;;) {
		attempts++;
		if (write_rec(&t, rec, tag, 1) == 0)
			break;
		if (err_wall == 0) {
			err_wall = tnc_wall_ms();
			snprintf(first_err, sizeof(first_err), "%s", t.err);
		}
		fprintf(stderr, "nfs_idle: attempt %lu: %s\n", attempts,
		    t.err);
		if (tnc_mono_ms() >= end) {
			fprintf(stderr, "nfs_idle: the call did not complete "
			    "within %ld s\n", deadline_s);
			return 2;
		}
		poll(NULL, 0, 10);	/* a refused connect fails at once */
	}
	done_wall = tnc_wall_ms();
	verified = check_rec(&t, rec, tag, 0) == 0 &&
	    check_rec(&t, rec, tag, 1) == 0;
	printf("call_wall_ms=%llu\nfirst_error_wall_ms=%llu\n"
	    "first_error=%s\ndone_wall_ms=%llu\nattempts=%lu\nconnects=%lu\n"
	    "verified=%d\n", (unsigned long long)call_wall,
	    (unsigned long long)err_wall, first_err,
	    (unsigned long long)done_wall, attempts, t.connects, verified);
	tnc_close(&t);
	free(rec);
	return verified ? 0 : 2;
}

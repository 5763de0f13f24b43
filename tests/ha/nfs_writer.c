/*
 * nfs_writer.c — the failover tests' NFS client: writes numbered,
 * self-checking records through one service IP and logs every record the
 * server acknowledged as stable, so that nfs_verify can prove afterwards
 * that none of them was lost.
 *
 *   nfs_writer [-n COUNT] [-t SECONDS] [-s SIZE] [-m filesync|commit]
 *              [-a ACKLOG] [-T CALL_MS] [-D RECORD_S] [-i INTERVAL_MS]
 *              [-C CONNECT_MS] URL
 *
 * Record i (tnc.h) goes to offset i*SIZE.  filesync: WRITE FILE_SYNC (a
 * reply that is not FILE_SYNC is followed by a COMMIT); commit: WRITE
 * UNSTABLE then COMMIT.  A record counts as acknowledged only when the
 * data is stable and, where a COMMIT was needed, its verifier equals the
 * WRITE's (a different verifier means the server lost the write, e.g.
 * across a takeover, so the record is written again).  Any failure is
 * retried on a fresh connection to the same address until the record's
 * deadline, after 50 ms.  -C is the client mode (what a kernel client or
 * a libnfs application does): reconnect at once after a reset or a
 * timeout, and give a connect CONNECT_MS to complete, so the kernel's
 * own SYN retransmission (1 s) is part of what the writer sees instead
 * of being cut short by a new connect.  After each acknowledgement "INDEX WALL_MS" is appended to
 * ACKLOG and flushed.  SIGTERM/SIGINT end the run after the current call.
 * The summary is key=value lines on stdout (client_pause_ms = longest gap
 * between two acknowledgements; abandoned=1 when the signal came while a
 * record was still being retried).  Exit 0, or 2 when a record could not
 * be acknowledged within its deadline or setup failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "tests/ha/tnc.h"

#define NFS_STABLE_UNSTABLE	0
#define NFS_STABLE_FILE_SYNC	2

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nfs_writer [-n COUNT] [-t SECONDS] [-s SIZE] "
	    "[-m filesync|commit] [-a ACKLOG] [-T CALL_MS] [-D RECORD_S] "
	    "[-i INTERVAL_MS] [-C CONNECT_MS] URL\n"
	    "  URL: nfs://HOST/EXPORT/FILE[?nfsport=N&mountport=M]\n"
	    "  at least one of -n and -t is required\n");
	exit(2);
}

/* An option's number, checked (tnc_num). */
static long
num(const char *opt, const char *s, long lo, long hi)
{
	return tnc_num("nfs_writer", opt, s, lo, hi);
}

struct wstats {
	unsigned long	retries;
	unsigned long	verf_mismatch;
	unsigned long	unstable_replies;
};

/* One attempt to make record idx stable.  0 acknowledged, -1 retry. */
static int
write_once(struct tnc *t, int commit_mode, uint64_t off, const uint8_t *rec,
    uint32_t size, struct wstats *st)
{
	uint8_t	wverf[TNC_VERF_SIZE], cverf[TNC_VERF_SIZE];
	int	committed;

	if (tnc_write(t, off, rec, size, commit_mode ? NFS_STABLE_UNSTABLE :
	    NFS_STABLE_FILE_SYNC, &committed, wverf) < 0)
		return -1;
	if (!commit_mode && committed == NFS_STABLE_FILE_SYNC)
		return 0;
	if (!commit_mode)
		st->unstable_replies++;
	if (tnc_commit(t, off, size, cverf) < 0)
		return -1;
	if (memcmp(wverf, cverf, TNC_VERF_SIZE) != 0) {
		/* the server restarted or changed between WRITE and COMMIT */
		st->verf_mismatch++;
		snprintf(t->err, sizeof(t->err), "COMMIT verifier differs "
		    "from WRITE verifier: write again");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct tnc		 t;
	struct wstats		 st;
	struct sigaction	 sa;
	const char		*acklog = NULL, *mode = "filesync";
	long			 count = 0, secs = 0, size = 4096, call_ms = 2000;
	long			 rec_s = 60, interval_ms = 0, connect_ms = 0;
	int			 ch, commit_mode, rv = 2, abandoned = 0, tries = 0;
	uint64_t		 tag, i, start, last_ack = 0, gap, max_gap = 0;
	uint64_t		 max_gap_at = 0, acked = 0, rec_deadline;
	uint8_t			*rec = NULL;
	FILE			*log = NULL;
	char			 lasterr[sizeof(((struct tnc *)0)->err)] = "";

	memset(&t, 0, sizeof(t));
	memset(&st, 0, sizeof(st));
	while ((ch = getopt(argc, argv, "a:C:D:i:m:n:s:t:T:")) != -1) {
		switch (ch) {
		case 'a': acklog = optarg; break;
		case 'C': connect_ms = num("-C", optarg, 100, 600000); break;
		case 'D': rec_s = num("-D", optarg, 1, 3600); break;
		case 'i': interval_ms = num("-i", optarg, 0, 60000); break;
		case 'm': mode = optarg; break;
		case 'n': count = num("-n", optarg, 1, 100000000); break;
		case 's': size = num("-s", optarg, TNC_REC_MIN, TNC_REC_MAX);
			break;
		case 't': secs = num("-t", optarg, 1, 86400); break;
		case 'T': call_ms = num("-T", optarg, 100, 600000); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || (count == 0 && secs == 0))
		usage();
	if (strcmp(mode, "filesync") == 0)
		commit_mode = 0;
	else if (strcmp(mode, "commit") == 0)
		commit_mode = 1;
	else {
		fprintf(stderr, "nfs_writer: -m '%s': must be filesync or "
		    "commit\n", mode);
		return 2;
	}
	t.call_timeout_ms = (int)call_ms;
	t.connect_timeout_ms = (int)connect_ms;
	if (tnc_parse_url(&t, argv[optind]) < 0) {
		fprintf(stderr, "nfs_writer: %s\n", t.err);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll wakes up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = tnc_wall_ms() ^ ((uint64_t)getpid() << 32);
	if ((rec = malloc((size_t)size)) == NULL) {
		fprintf(stderr, "nfs_writer: out of memory\n");
		goto out;
	}
	if (acklog != NULL) {
		if ((log = fopen(acklog, "w")) == NULL) {
			fprintf(stderr, "nfs_writer: %s: %s\n", acklog,
			    strerror(errno));
			goto out;
		}
		fprintf(log, "# tag=%016llx size=%ld mode=%s url=%s\n",
		    (unsigned long long)tag, size, mode, argv[optind]);
		fflush(log);
	}

	start = tnc_mono_ms();
	if (tnc_open(&t, 1, start + (uint64_t)rec_s * 1000) < 0) {
		fprintf(stderr, "nfs_writer: cannot open %s: %s\n",
		    argv[optind], t.err);
		goto out;
	}
	start = tnc_mono_ms();
	for (i = 0; !stop; i++) {
		if (count > 0 && i >= (uint64_t)count)
			break;
		if (secs > 0 && tnc_mono_ms() >= start + (uint64_t)secs * 1000)
			break;
		tnc_rec_build(rec, (uint32_t)size, tag, i);
		rec_deadline = tnc_mono_ms() + (uint64_t)rec_s * 1000;
		while (write_once(&t, commit_mode, i * (uint64_t)size, rec,
		    (uint32_t)size, &st) < 0) {
			st.retries++;
			if (strcmp(lasterr, t.err) != 0) {
				fprintf(stderr, "nfs_writer: record %llu: %s "
				    "(retrying)\n", (unsigned long long)i,
				    t.err);
				snprintf(lasterr, sizeof(lasterr), "%s", t.err);
			}
			if (stop) {
				/* asked to end: this record was never
				 * acknowledged, so nothing is claimed */
				abandoned = 1;
				rv = 0;
				goto done;
			}
			if (tnc_mono_ms() >= rec_deadline) {
				fprintf(stderr, "nfs_writer: record %llu not "
				    "acknowledged within %ld s: %s\n",
				    (unsigned long long)i, rec_s, t.err);
				goto done;
			}
			/* client mode: the first retry at once, then a
			 * short pause so a refused connect cannot spin */
			if (connect_ms == 0)
				poll(NULL, 0, 50);
			else if (++tries > 1)
				poll(NULL, 0, 20);
		}
		tries = 0;
		lasterr[0] = 0;
		gap = tnc_mono_ms();
		if (acked > 0 && gap - last_ack > max_gap) {
			max_gap = gap - last_ack;
			max_gap_at = tnc_wall_ms() - max_gap;
		}
		last_ack = gap;
		acked++;
		if (log != NULL) {
			fprintf(log, "%llu %llu\n", (unsigned long long)i,
			    (unsigned long long)tnc_wall_ms());
			fflush(log);
		}
		if (interval_ms > 0)
			poll(NULL, 0, (int)interval_ms);
	}
	rv = 0;
done:
	printf("records_acked=%llu\n", (unsigned long long)acked);
	printf("client_pause_ms=%llu\n", (unsigned long long)max_gap);
	printf("client_pause_at_ms=%llu\n", (unsigned long long)max_gap_at);
	printf("retries=%lu\n", st.retries);
	printf("abandoned=%d\n", abandoned);
	printf("reconnects=%lu\n", t.connects > 0 ? t.connects - 1 : 0);
	printf("verf_mismatch=%lu\n", st.verf_mismatch);
	printf("unstable_replies=%lu\n", st.unstable_replies);
	printf("elapsed_ms=%llu\n",
	    (unsigned long long)(tnc_mono_ms() - start));
	fflush(stdout);
out:
	if (log != NULL && fclose(log) != 0) {
		fprintf(stderr, "nfs_writer: %s: %s\n", acklog,
		    strerror(errno));
		rv = 2;
	}
	tnc_close(&t);
	free(rec);
	return rv;
}

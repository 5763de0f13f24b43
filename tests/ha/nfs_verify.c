/*
 * nfs_verify.c — reads back what nfs_writer wrote and proves that every
 * acknowledged record is present and intact.
 *
 *   nfs_verify [-T CALL_MS] [-D DEADLINE_S] [-F] [-t SECONDS] URL ACKLOG
 *
 * The record size and the run's tag come from the ACKLOG header, so a
 * record left over from an earlier run never counts.  Every index in the
 * log is read (READ of one record) and checked byte for byte (tnc.h).
 * -F follows the log while the writer is still running (the concurrent
 * "reader" of the failover tests): each record is read right after it is
 * acknowledged, until SIGTERM/SIGINT or -t SECONDS; read_pause_ms is the
 * longest gap between two successful reads.  Reads are retried on fresh
 * connections until the deadline (the service IP may be moving).
 * Output: key=value lines (acked, verified, lost, read_pause_ms); the
 * first 20 lost records are named on stderr with the reason.
 * Exit 0 all intact, 1 some lost, 2 error (bad log, unreadable server).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/ha/tnc.h"

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
	fprintf(stderr, "usage: nfs_verify [-T CALL_MS] [-D DEADLINE_S] [-F] "
	    "[-t SECONDS] URL ACKLOG\n");
	exit(2);
}

/* An option's number, checked (tnc_num). */
static long
num(const char *opt, const char *s, long lo, long hi)
{
	return tnc_num("nfs_verify", opt, s, lo, hi);
}

struct vstate {
	struct tnc	 t;
	uint64_t	 tag;
	uint32_t	 size;
	uint8_t		*buf;
	long		 deadline_s;
	uint64_t	 acked, verified, lost;
	uint64_t	 last_read, max_gap;
	int		 error;
};

/* Read and check record idx.  Updates the counters; -1 on read error. */
static int
check_one(struct vstate *v, uint64_t idx)
{
	uint64_t	 deadline = tnc_mono_ms() + (uint64_t)v->deadline_s * 1000;
	uint64_t	 now;
	uint32_t	 got = 0;
	int		 eof = 0;
	const char	*why;

	v->acked++;
	while (tnc_read(&v->t, idx * v->size, v->buf, v->size, &got, &eof) <
	    0) {
		if (tnc_mono_ms() >= deadline || stop) {
			fprintf(stderr, "nfs_verify: record %" PRIu64 ": "
			    "cannot read: %s\n", idx, v->t.err);
			v->error = 1;
			return -1;
		}
		poll(NULL, 0, 50);
	}
	now = tnc_mono_ms();
	if (v->last_read != 0 && now - v->last_read > v->max_gap)
		v->max_gap = now - v->last_read;
	v->last_read = now;
	if (got < v->size)
		why = got == 0 ? "missing (beyond end of file)" : "short";
	else
		why = tnc_rec_check(v->buf, v->size, v->tag, idx);
	if (why == NULL) {
		v->verified++;
		return 0;
	}
	if (v->lost++ < 20)
		fprintf(stderr, "nfs_verify: LOST record %" PRIu64 ": %s\n",
		    idx, why);
	return 0;
}

/* Parse the header line "# tag=HEX size=N ...".  0 or -1. */
static int
parse_header(const char *line, struct vstate *v)
{
	unsigned long long	tag;
	unsigned long		size;

	if (sscanf(line, "# tag=%llx size=%lu", &tag, &size) != 2 ||
	    size < TNC_REC_MIN || size > TNC_REC_MAX)
		return -1;
	v->tag = tag;
	v->size = (uint32_t)size;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct vstate	 v;
	struct sigaction	 sa;
	FILE			*log;
	char			 line[1024];
	long			 call_ms = 2000, secs = 0;
	int			 ch, follow = 0, lineno = 0, have_hdr = 0;
	uint64_t		 start, idx;
	unsigned long long	 i, t_ms;
	long			 pos;

	v.deadline_s = 30;
	while ((ch = getopt(argc, argv, "D:Ft:T:")) != -1) {
		switch (ch) {
		case 'D': v.deadline_s = num("-D", optarg, 1, 3600); break;
		case 'F': follow = 1; break;
		case 't': secs = num("-t", optarg, 1, 86400); break;
		case 'T': call_ms = num("-T", optarg, 100, 600000); break;
		default: usage();
		}
	}
	if (optind != argc - 2)
		usage();
	v.t.call_timeout_ms = (int)call_ms;
	if (tnc_parse_url(&v.t, argv[optind]) < 0) {
		fprintf(stderr, "nfs_verify: %s\n", v.t.err);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	start = tnc_mono_ms();
	/* in follow mode the writer may not have created the log yet */
	while ((log = fopen(argv[optind + 1], "r")) == NULL) {
		if (!follow || stop || tnc_mono_ms() > start +
		    (uint64_t)v.deadline_s * 1000) {
			fprintf(stderr, "nfs_verify: %s: %s\n",
			    argv[optind + 1], strerror(errno));
			return 2;
		}
		poll(NULL, 0, 50);
	}
	for (;;) {
		pos = ftell(log);
		if (fgets(line, sizeof(line), log) == NULL ||
		    strchr(line, '\n') == NULL) {
			/* end of the log, or a line still being written */
			if (!follow || stop || (secs > 0 &&
			    tnc_mono_ms() >= start + (uint64_t)secs * 1000))
				break;
			clearerr(log);
			if (pos >= 0)
				fseek(log, pos, SEEK_SET);
			poll(NULL, 0, 20);
			continue;
		}
		lineno++;
		if (!have_hdr) {
			if (parse_header(line, &v) < 0) {
				fprintf(stderr, "nfs_verify: %s:%d: not an "
				    "nfs_writer log (want '# tag=HEX size=N "
				    "...')\n", argv[optind + 1], lineno);
				fclose(log);
				return 2;
			}
			have_hdr = 1;
			if ((v.buf = malloc(v.size)) == NULL) {
				fprintf(stderr, "nfs_verify: out of memory\n");
				fclose(log);
				return 2;
			}
			if (tnc_open(&v.t, 0, tnc_mono_ms() +
			    (uint64_t)v.deadline_s * 1000) < 0) {
				fprintf(stderr, "nfs_verify: cannot open %s: "
				    "%s\n", argv[optind], v.t.err);
				fclose(log);
				return 2;
			}
			continue;
		}
		if (sscanf(line, "%llu %llu", &i, &t_ms) != 2) {
			fprintf(stderr, "nfs_verify: %s:%d: bad line\n",
			    argv[optind + 1], lineno);
			fclose(log);
			return 2;
		}
		idx = i;
		if (check_one(&v, idx) < 0)
			break;
	}
	fclose(log);
	if (!have_hdr) {
		fprintf(stderr, "nfs_verify: %s: empty log (no header)\n",
		    argv[optind + 1]);
		return 2;
	}
	printf("acked=%" PRIu64 "\n", v.acked);
	printf("verified=%" PRIu64 "\n", v.verified);
	printf("lost=%" PRIu64 "\n", v.lost);
	printf("read_pause_ms=%" PRIu64 "\n", v.max_gap);
	printf("reconnects=%lu\n", v.t.connects > 0 ? v.t.connects - 1 : 0);
	tnc_close(&v.t);
	free(v.buf);
	if (v.error)
		return 2;
	return v.lost > 0 ? 1 : 0;
}

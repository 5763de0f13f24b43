/*
 * sbmon.c — the chaos campaign's split-brain sampler.
 *
 *   sbmon [-i INTERVAL_MS] [-l LOG] [-o OUT] SOCKET_A SOCKET_B
 *
 * Every INTERVAL_MS (default 20) it asks each head for `status --json`
 * over its admin socket (A, then B, half an interval apart) and notes
 * which LUNs it says it serves and which service IPs it says it holds
 * (an IP held only for a coordinated hand-off, "handoff":true, does not
 * count: the peer already announced it).  A head that does not answer
 * within 150 ms (killed, stopped, restarting) counts as serving nothing,
 * for that sample.
 *
 * Split brain is counted without the skew of two separate queries: a
 * sample is a split-brain sample when an item is in it, in the other
 * head's sample just before it and in this head's sample before that.
 * Both heads then claimed the item over an interval in which each was
 * asked twice around the other: it cannot be a hand-over that happened
 * between two queries (that would need the item to leave and come back
 * within one interval).
 *
 * Each sample that changes a head's set is logged to LOG as
 * "EPOCH_MS HEAD luns|ips" ("?" = no answer); every split-brain sample
 * as "EPOCH_MS SPLIT item...".  On SIGTERM/SIGINT the totals go to OUT
 * (default stdout) as key=value lines: sbmon_samples,
 * split_brain_samples, sbmon_unanswered.  Exit 0, or 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"

#define ANSWER_MS	150
#define MAX_ITEMS	32
#define ITEM_LEN	64
#define REPLY_MAX	(4u << 20)

struct sample {
	int	answered;
	int	n;
	char	item[MAX_ITEMS][ITEM_LEN];
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * `status --json` from the daemon at path (ctl_client_call, with the
 * sampler's time limit), whitespace removed, as a NUL-terminated string
 * the caller frees; NULL when it does not answer in time.
 */
static char *
ask_status(const char *path)
{
	char		*argv[] = { "status", "--json" };
	struct buf	 out;
	char		*rep = NULL, *w;

	buf_init(&out);
	if (ctl_client_call(path, 2, argv, &out, 1) == 0 &&
	    out.len < REPLY_MAX) {
		buf_add_u8(&out, 0);
		rep = xstrdup((char *)out.data);
		w = rep;
		for (char *r = rep; *r != '\0'; r++)
			if (*r != ' ' && *r != '\n' && *r != '\t' &&
			    *r != '\r')
				*w++ = *r;
		*w = '\0';
	}
	buf_free(&out);
	return rep;
}

/* The string value of "key":"..." inside [obj, end), into v. */
static int
obj_str(const char *obj, const char *end, const char *key, char *v,
    size_t vlen)
{
	char		 pat[32];
	const char	*p, *q;
	size_t		 n;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(obj, pat)) == NULL || p >= end)
		return -1;
	p += strlen(pat);
	if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
		return -1;
	n = (size_t)(q - p);
	if (n >= vlen)
		return -1;
	memcpy(v, p, n);
	v[n] = '\0';
	return 0;
}

static int
obj_has(const char *obj, const char *end, const char *s)
{
	const char *p = strstr(obj, s);

	return p != NULL && p < end;
}

static void
add_item(struct sample *s, const char *v)
{
	if (s->n < MAX_ITEMS)
		snprintf(s->item[s->n++], ITEM_LEN, "%s", v);
}

/*
 * Every flat object {...} of the status document: a LUN ("name" and
 * "serving":true) or a service IP ("addr", "held":true, not a hand-off).
 */
static void
parse_status(const char *js, struct sample *s)
{
	const char	*p = js, *end;
	char		 v[ITEM_LEN];

	while ((p = strchr(p, '{')) != NULL) {
		end = strpbrk(p + 1, "{}");
		if (end == NULL)
			break;
		if (*end == '{') {	/* not flat: look inside */
			p = end;
			continue;
		}
		if (obj_has(p, end, "\"serving\":true") &&
		    obj_str(p, end, "name", v, sizeof(v)) == 0)
			add_item(s, v);
		else if (obj_has(p, end, "\"held\":true") &&
		    !obj_has(p, end, "\"handoff\":true") &&
		    obj_str(p, end, "addr", v, sizeof(v)) == 0)
			add_item(s, v);
		p = end + 1;
	}
}

static int
in_sample(const struct sample *s, const char *v)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->item[i], v) == 0)
			return 1;
	return 0;
}

static int
same_sample(const struct sample *a, const struct sample *b)
{
	if (a->answered != b->answered || a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (!in_sample(b, a->item[i]))
			return 0;
	return 1;
}

static void
log_sample(FILE *log, uint64_t t, char head, const struct sample *s)
{
	fprintf(log, "%llu %c ", (unsigned long long)t, head);
	if (!s->answered)
		fputs("?", log);
	for (int i = 0; i < s->n; i++)
		fprintf(log, "%s%s", i ? "," : "", s->item[i]);
	fputc('\n', log);
	fflush(log);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sbmon [-i INTERVAL_MS] [-l LOG] [-o OUT] "
	    "SOCKET_A SOCKET_B\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sample	 hist[3], last[2];	/* hist[0] newest */
	const char	*logp = "/dev/null", *outp = NULL;
	unsigned long	 samples = 0, split = 0, unanswered = 0;
	long		 interval = 20;
	FILE		*log, *out;
	int		 c, nhist = 0;

	while ((c = getopt(argc, argv, "i:l:o:")) != -1) {
		switch (c) {
		case 'i':
			interval = strtol(optarg, NULL, 10);
			if (interval < 2 || interval > 10000)
				usage();
			break;
		case 'l':
			logp = optarg;
			break;
		case 'o':
			outp = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if ((log = fopen(logp, "a")) == NULL) {
		fprintf(stderr, "sbmon: %s: %s\n", logp, strerror(errno));
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ctl_client_timeout(ANSWER_MS);
	memset(last, 0, sizeof(last));
	last[0].answered = last[1].answered = -1;

	for (unsigned long k = 0; !stop; k++) {
		int		 h = (int)(k % 2);
		uint64_t	 t0 = now_ms();
		struct sample	 s;
		char		*js;

		memset(&s, 0, sizeof(s));
		if ((js = ask_status(argv[optind + h])) != NULL) {
			s.answered = 1;
			parse_status(js, &s);
			free(js);
		} else
			unanswered++;
		samples++;
		if (!same_sample(&s, &last[h])) {
			log_sample(log, wall_ms(), h ? 'B' : 'A', &s);
			last[h] = s;
		}
		memmove(&hist[1], &hist[0], 2 * sizeof(hist[0]));
		hist[0] = s;
		if (nhist < 3)
			nhist++;
		if (nhist == 3) {
			char	 line[MAX_ITEMS * (ITEM_LEN + 1)] = "";
			int	 hit = 0;

			for (int i = 0; i < hist[0].n; i++) {
				if (in_sample(&hist[1], hist[0].item[i]) &&
				    in_sample(&hist[2], hist[0].item[i])) {
					strcat(line, " ");
					strcat(line, hist[0].item[i]);
					hit = 1;
				}
			}
			if (hit) {
				split++;
				fprintf(log, "%llu SPLIT%s\n",
				    (unsigned long long)wall_ms(), line);
				fflush(log);
			}
		}
		/* A then B half an interval apart: each every interval */
		{
			uint64_t	spent = now_ms() - t0;
			long		half = interval / 2;

			if ((long)spent < half)
				usleep((useconds_t)(half - (long)spent) * 1000);
		}
	}
	out = outp != NULL ? fopen(outp, "w") : stdout;
	if (out == NULL)
		out = stdout;
	fprintf(out, "sbmon_samples=%lu\nsplit_brain_samples=%lu\n"
	    "sbmon_unanswered=%lu\n", samples, split, unanswered);
	fclose(out);
	fclose(log);
	return 0;
}

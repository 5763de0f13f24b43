/*
 * test_log.c — the logging helpers that decide what a line looks like
 * and how many lines there are: the line prefix (dated stderr, journal
 * priority), JOURNAL_STREAM matching, the keyed rate limit and the
 * flapping-value debounce (the link's best path), with made-up clocks.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "t.h"

static void
test_prefix(void)
{
	struct timespec	ts = { 1796097906, 123456789 };	/* 2026-12-01T04:05:06Z */
	char		b[128];
	size_t		n;

	n = log_prefix(b, sizeof(b), 0, LOG_INFO, &ts, "duonasd", "alpha", 42);
	T_OK(strcmp(b, "2026-12-01T04:05:06.123Z duonasd/alpha[42]: ") == 0,
	    "stderr: UTC date, time, ms, prog/tag[pid] (%s)", b);
	T_EQ(n, strlen(b), "length returned");
	log_prefix(b, sizeof(b), 0, LOG_ERR, &ts, "duonas-boot", "", 7);
	T_OK(strcmp(b, "2026-12-01T04:05:06.123Z duonas-boot[7]: ") == 0,
	    "no tag: no slash (%s)", b);
	log_prefix(b, sizeof(b), 1, LOG_ERR, &ts, "duonasd", "alpha", 42);
	T_OK(strcmp(b, "<3>alpha: ") == 0, "journal: <3> for errors, tag (%s)",
	    b);
	log_prefix(b, sizeof(b), 1, LOG_DEBUG, &ts, "duonasd", "", 42);
	T_OK(strcmp(b, "<7>") == 0, "journal: <7> for debug, no tag (%s)", b);
	n = log_prefix(b, 10, 0, LOG_INFO, &ts, "duonasd", "alpha", 42);
	T_OK(n == 0 && b[0] == 0, "a prefix that does not fit: empty");
}

static void
test_journal_stream(void)
{
	T_EQ(log_journal_stream("8:12345", 8, 12345), 1, "matching dev:ino");
	T_EQ(log_journal_stream("8:12345", 8, 12346), 0, "other inode");
	T_EQ(log_journal_stream("9:12345", 8, 12345), 0, "other device");
	T_EQ(log_journal_stream(NULL, 8, 12345), 0, "unset");
	T_EQ(log_journal_stream("", 0, 0), 0, "empty");
	T_EQ(log_journal_stream("8:", 8, 0), 0, "no inode");
	T_EQ(log_journal_stream("8:12345x", 8, 12345), 0, "trailing junk");
	T_EQ(log_journal_stream("-8:12345", 8, 12345), 0, "sign");
	T_EQ(log_journal_stream("99999999999999999999999:1", 0, 1), 0,
	    "overflow");
}

/* log_init with JOURNAL_STREAM naming stderr: "<N>" lines, no date. */
static void
test_journal_lines(void)
{
	char		 path[] = "/tmp/test_log.XXXXXX", env[64], buf[512];
	struct stat	 st;
	int		 fd, saved;
	ssize_t		 n;

	fd = mkstemp(path);
	T_OK(fd >= 0, "temporary file");
	if (fd < 0)
		return;
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fstat(fd, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("test_log", 1, 1);
	T_EQ(log_journal(), 1, "stderr is the journal stream");
	log_warnx("w %d", 1);
	log_info("i");
	log_debug("d");
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init("test_log", 0, 0);
	T_EQ(log_journal(), 0, "another stream: not the journal");
	log_info("dated");
	unsetenv("JOURNAL_STREAM");
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = 0;
	T_OK(strncmp(buf, "<3>w 1\n<6>i\n<7>d\n20", 19) == 0,
	    "journal lines carry priorities, then a dated line");
	T_OK(strstr(buf, "Z test_log[") != NULL && strstr(buf, "]: dated\n"),
	    "the dated line names the program and pid");
}

static void
test_rlk(void)
{
	struct log_rlk_slot	tab[3];
	uint64_t		n;

	memset(tab, 0, sizeof(tab));
	T_EQ(log_rlk_step(tab, 3, 11, 1000, 10000, &n), 1, "first line logged");
	T_EQ(n, 0, "nothing suppressed before it");
	for (int i = 1; i <= 57; i++)
		log_rlk_step(tab, 3, 11, 1000 + i * 100, 10000, &n);
	T_EQ(log_rlk_step(tab, 3, 11, 9000, 10000, &n), 0,
	    "within the window: counted");
	T_EQ(log_rlk_step(tab, 3, 22, 9000, 10000, &n), 1,
	    "another key is logged at once");
	T_EQ(log_rlk_step(tab, 3, 11, 11000, 10000, &n), 1,
	    "after the window: logged");
	T_EQ(n, 58, "with the count of the suppressed ones");
	T_EQ(log_rlk_step(tab, 3, 11, 11500, 10000, &n), 0, "window restarts");
	/* a full table: the key quiet longest (22, at 9000) gives way */
	log_rlk_step(tab, 3, 33, 12000, 10000, &n);
	T_EQ(log_rlk_step(tab, 3, 44, 12000, 10000, &n), 1, "fourth key");
	T_EQ(log_rlk_step(tab, 3, 22, 12100, 10000, &n), 1,
	    "pushed-out key logs again at once");
	T_EQ(log_rlk_step(tab, 3, 44, 12200, 10000, &n), 0,
	    "kept keys keep their window");
}

static void
test_flap(void)
{
	struct log_flap	f;
	unsigned	c;
	int		lines = 0;

	memset(&f, 0, sizeof(f));
	T_EQ(log_flap_step(&f, -1, 0, 10000, &c), 0, "start value not logged");
	T_EQ(log_flap_step(&f, 0, 500, 10000, &c), 1,
	    "first change logged at once");
	T_OK(c == 1 && f.shown == 0, "one change, value 0");
	T_EQ(log_flap_step(&f, 0, 900, 10000, &c), 0, "no change: nothing");
	/* flapping between 0 and 1 every 300 ms for 20 s */
	for (uint64_t t = 1000; t < 21000; t += 300)
		lines += log_flap_step(&f, (t / 300) % 2, t, 10000, &c);
	T_OK(lines == 2, "20 s of flapping: 2 lines (got %d)", lines);
	T_OK(c > 20, "the line carries the count (%u)", c);
	/* it settles on 1; the pending change is logged by a poll */
	log_flap_step(&f, 1, 21000, 10000, &c);
	lines = 0;
	for (uint64_t t = 21000; t <= 40000; t += 1000)
		lines += log_flap_step(&f, 1, t, 10000, &c);
	T_OK(lines <= 1 && f.shown == 1,
	    "settled value logged by the periodic call (%d line(s))", lines);
	T_EQ(log_flap_step(&f, 1, 60000, 10000, &c), 0, "quiet: nothing");
	T_EQ(log_flap_step(&f, 2, 60100, 10000, &c), 1,
	    "a change after a quiet window: at once");
	T_OK(c == 1 && f.shown == 2, "as a single change");
}

int
main(void)
{
	test_prefix();
	test_journal_stream();
	test_journal_lines();
	test_rlk();
	test_flap();
	return t_done();
}

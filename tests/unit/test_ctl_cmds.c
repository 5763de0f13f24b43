/*
 * test_ctl_cmds.c — unit tests for the CLI's pure parts: the command
 * table's group words (ctl_group_find/next), typo suggestions
 * (ctl_cmd_suggest), and the dates and durations text output shows
 * (fmt_date_ms, fmt_dur_ms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctl/ctl.h"
#include "t.h"

static const char *const local[] = { "keygen", "help", NULL };

/* The suggestions for the words of line, joined with "|". */
static const char *
suggest(const char *line)
{
	static char	out[256];
	char		buf[128], *argv[8], sug[4][CTL_NAME_MAX];
	int		argc = 0, n;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = strtok(buf, " "); p != NULL && argc < 8;
	    p = strtok(NULL, " "))
		argv[argc++] = p;
	n = ctl_cmd_suggest(argc, argv, local, sug, 4);
	out[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? "|" : "", sug[i]);
	return out;
}

static void
test_suggest(void)
{
	const char *s;

	T_OK(strcmp(s = suggest("staus"), "status") == 0, "staus: %s", s);
	T_OK(strcmp(s = suggest("stauts"), "status") == 0, "stauts (swap): %s",
	    s);
	T_OK(strcmp(s = suggest("lnu ls"), "lun ls") == 0, "lnu ls: %s", s);
	T_OK(strcmp(s = suggest("ip ad 10.0.0.1/24"), "ip add") == 0,
	    "ip ad: %s", s);
	T_OK(strcmp(s = suggest("smb usr ls"), "smb user ls") == 0,
	    "smb usr ls: %s", s);
	T_OK(strcmp(s = suggest("conf show"), "config show") == 0,
	    "abbreviation conf: %s", s);
	T_OK(strcmp(s = suggest("keygn"), "keygen") == 0, "local keygn: %s",
	    s);
	T_OK(strcmp(s = suggest("hlep"), "help") == 0, "local hlep: %s", s);
	T_OK(strcmp(s = suggest("config hsitory"), "config history") == 0,
	    "config hsitory: %s", s);
	T_OK(strcmp(s = suggest("xyzzy"), "") == 0, "nothing close: '%s'", s);
	T_OK(strcmp(s = suggest("ip bogus"), "") == 0,
	    "a good group and a far word: '%s'", s);
	T_OK(strcmp(s = suggest("status"), "") == 0,
	    "an exact name is no typo: '%s'", s);
}

static void
test_groups(void)
{
	char	*ip[] = { "ip", "ls" }, *smbu[] = { "smb", "user", "add" };
	char	*st[] = { "status" }, *lk[] = { "locks" }, *no[] = { "nope" };
	int	 n = 0, i;

	T_EQ(ctl_group_find(1, ip), 1, "ip is a group");
	T_EQ(ctl_group_find(2, ip), 1, "ip ls is a command, ip the group");
	T_EQ(ctl_group_find(2, smbu), 2, "smb user is a group");
	T_EQ(ctl_group_find(3, smbu), 2, "smb user add: the group smb user");
	T_EQ(ctl_group_find(1, st), 0, "status is no group");
	T_EQ(ctl_group_find(1, lk), 1, "locks is a command and a group");
	T_EQ(ctl_group_find(1, no), 0, "unknown word");
	for (i = ctl_group_next(1, ip, 0); i >= 0;
	    i = ctl_group_next(1, ip, i + 1)) {
		T_OK(strncmp(ctl_cmds[i].name, "ip ", 3) == 0, "ip member %s",
		    ctl_cmds[i].name);
		n++;
	}
	T_EQ(n, 4, "ip has ls, add, rm, move");
}

static void
test_fmt(void)
{
	char	b[64];

	T_OK(strcmp(fmt_date_ms(b, sizeof(b), 1796097906000ull, 1),
	    "2026-12-01 04:05:06 UTC") == 0, "date: %s", b);
	T_OK(strcmp(fmt_date_ms(b, sizeof(b), 0, 1), "never") == 0,
	    "0 is never");
	setenv("TZ", "UTC", 1);
	T_OK(strcmp(fmt_date_ms(b, sizeof(b), 1796097906789ull, 0),
	    "2026-12-01 04:05:06 UTC") == 0, "local time with zone: %s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 850), "850 ms") == 0, "%s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 2550), "2.5 s") == 0, "%s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 42000), "42 s") == 0, "%s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 192000), "3 min 12 s") == 0,
	    "%s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 18420000), "5 h 7 min") == 0,
	    "%s", b);
	T_OK(strcmp(fmt_dur_ms(b, sizeof(b), 183600000), "2 d 3 h") == 0,
	    "%s", b);
}

/* A request body cut into words in place; what is not NUL-terminated
 * or has more than CTL_MAX_ARGS words is refused (fuzz_ctl_req feeds
 * it everything else). */
static void
test_req_split(void)
{
	char		 ok[] = "lun\0ls\0--json", *argv[CTL_MAX_ARGS];
	char		 bad[] = { 's', 't' }, empty[] = "", many[200];
	struct buf	 err;

	buf_init(&err);
	T_EQ(ctl_req_split(ok, sizeof(ok), argv, &err), 3, "three words");
	T_OK(strcmp(argv[0], "lun") == 0 && strcmp(argv[1], "ls") == 0 &&
	    strcmp(argv[2], "--json") == 0, "the words");
	T_EQ(ctl_req_split(empty, 1, argv, &err), 1, "one empty word");
	T_EQ(ctl_req_split(bad, sizeof(bad), argv, &err), -1,
	    "unterminated: refused");
	buf_add_u8(&err, 0);
	T_OK(strstr((char *)err.data, "malformed") != NULL,
	    "says malformed");
	T_EQ(ctl_req_split(bad, 0, argv, &err), -1, "empty body refused");
	memset(many, 0, sizeof(many));	/* 200 empty words */
	buf_reset(&err);
	T_EQ(ctl_req_split(many, sizeof(many), argv, &err), -1,
	    "too many words refused");
	buf_add_u8(&err, 0);
	T_OK(strstr((char *)err.data, "too many") != NULL, "says too many");
	buf_free(&err);
}

/* Found by fuzz_ctl_req: a request of exactly CTL_MAX_ARGS words ending
 * in a flag made argv_remove() read argv[CTL_MAX_ARGS], past the
 * daemon's array (an ASan build reports it; here the result is
 * checked). */
static void
test_flag_take_full(void)
{
	char	*argv[CTL_MAX_ARGS];
	int	 argc = CTL_MAX_ARGS;

	for (int i = 0; i < CTL_MAX_ARGS - 1; i++)
		argv[i] = "x";
	argv[CTL_MAX_ARGS - 1] = "--json";
	T_EQ(ctl_flag_take(&argc, argv, "json"), 1, "last word --json taken");
	T_EQ(argc, CTL_MAX_ARGS - 1, "one word fewer");
	T_OK(argv[argc] == NULL, "argv stays NULL-terminated");
	argv[0] = "--forward";
	T_EQ(ctl_flag_take(&argc, argv, "forward"), 1, "first word taken");
	T_OK(argc == CTL_MAX_ARGS - 2 && strcmp(argv[0], "x") == 0 &&
	    argv[argc] == NULL, "the rest moved down");
}

int
main(void)
{
	test_req_split();
	test_flag_take_full();
	test_suggest();
	test_groups();
	test_fmt();
	return t_done();
}

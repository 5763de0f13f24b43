/*
 * test_cfg_tokens.c — the duonas.conf tokenizer (cfg.c tokenize(), seen
 * through cfg_walk() and cfg_parse_buf()) and the cluster key's mode and
 * owner check.  duonas.conf also arrives from the LUNs and from the peer,
 * so every malformed line must give a line-numbered error, never an
 * out-of-bounds write and never a silently dropped line: the cases of
 * issue 14 one by one, then every string of up to 4 characters over the
 * tokenizer's special alphabet, as the last line and followed by a
 * newline (run under AddressSanitizer by `make check-asan`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/util.h"
#include "t.h"

/* "tok tok|tok" (lines separated by '|') or "ERR: message" */
static char result[4096];

static int
collect(const struct cfg_line *L, void *arg)
{
	size_t n = strlen(result);

	(void)arg;
	if (L->lineno > 1)
		n += (size_t)snprintf(result + n, sizeof(result) - n, "|");
	for (int i = 0; i < L->ntok && n < sizeof(result); i++)
		n += (size_t)snprintf(result + n, sizeof(result) - n, "%s%s",
		    i ? " " : "", L->tok[i]);
	return 0;
}

static const char *
toks_n(const char *text, size_t len)
{
	char err[512];

	result[0] = 0;
	if (cfg_walk("t.conf", text, len, collect, NULL, err,
	    sizeof(err)) < 0)
		snprintf(result, sizeof(result), "ERR: %s", err);
	return result;
}

static const char *
toks(const char *text)
{
	return toks_n(text, strlen(text));
}

#define TOK(text, want) do {						\
	const char *_g = toks(text);					\
	T_OK(strcmp(_g, want) == 0, "%-22s -> [%s] (want [%s])",	\
	    #text, _g, want);						\
} while (0)

#define TOKERR(text, needle) do {					\
	const char *_g = toks(text);					\
	T_OK(strncmp(_g, "ERR: ", 5) == 0 && strstr(_g, needle) != NULL,\
	    "%-22s -> %s (want an error with '%s')", #text, _g, needle);\
} while (0)

static void
test_split(void)
{
	/* plain */
	TOK("a b\n", "a b");
	TOK("a\tb  c", "a b c");
	TOK("", "");
	TOK("\n\n", "|");
	/* { and } are tokens of their own, also glued */
	TOK("nfs{\n}\n", "nfs {|}");
	TOK("nfs {\n}x\n", "ERR: t.conf:2: text after '}'");
	TOK("head A{\n}\n", "head A {|}");
	TOK("x{y}\n", "x { y }");
	/* # outside quotes starts a comment, also glued to a word */
	TOK("a #c\nb\n", "a|b");
	TOK("#c\nb", "|b");
	TOK("a#c\nb\n", "a|b");
	TOK("a#\"c\nb\n", "a|b");
	TOK("nfs {#c\n}#c\nb\n", "nfs {|}|b");
	TOK("a \"q\"#c\nb\n", "a q|b");
	/* quoted strings */
	TOK("k \"a b\" c\n", "k a b c");
	TOK("k \"a\\\"b\"\n", "k a\"b");
	TOK("k \"\"\n", "k ");
	TOK("k \"#x\" \"{\"\n", "k #x {");
	/* a quoted brace is a word: it neither opens nor closes a block */
	TOK("nfs {\n k \"}\"\n}\n", "nfs {|k }|}");
	TOKERR("nfs {\n\"}\"\n", "t.conf:2: end of file inside the nfs");
	TOK("\"}\"\n", "}");
	TOKERR("k \"abc\n", "t.conf:1: unterminated quoted string");
	TOKERR("a\nk \"abc\\\"\n", "t.conf:2: unterminated quoted string");
	TOKERR("a\nk\"v\"\nb\n", "t.conf:2: a quote glued to the word 'k'");
	TOKERR("k \"v\"w\n", "t.conf:1: text glued to the end of a quoted");
	TOKERR("k \"v\"\"w\"\n", "t.conf:1: text glued");
	/* control characters, NUL, CR, too many tokens */
	TOKERR("a\nb\rc\n", "t.conf:2: control character 0x0d");
	TOKERR("a\r\n", "DOS line end");
	TOKERR("a\nb\n\"x\x01\"\n", "t.conf:3: control character 0x01");
	TOKERR("a\x7f\n", "t.conf:1: control character 0x7f");
	{
		const char *g = toks_n("a\nb\0c\nd\n", 8);
		T_OK(strstr(g, "ERR: t.conf:2: control character 0x00") ==
		    g, "NUL in line 2 named: %s", g);
	}
	TOK("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
	TOKERR("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	    "t.conf:1: too many words on one line");
	TOKERR("a\n{{{{{{{{{{{{{{{{{\n", "t.conf:2: too many words");
	/* UTF-8 in words is text, not control characters */
	TOK("k caf\xc3\xa9\n", "k caf\xc3\xa9");
}

/* the issue's crashes and silent cuts, through the whole parser */
static void
test_issue_cases(void)
{
	struct cfg	*c = malloc(sizeof(*c));
	char		 err[512], *big;
	size_t		 n;

	T_EQ(cfg_parse_buf("t.conf", "cluster x\na{a{b", 15, c, err,
	    sizeof(err)), -1, "last line a{a{b: an error, no crash");
	T_OK(strstr(err, "t.conf:2:") != NULL, "names line 2: %s", err);
	TOK("a{a{b", "a { a { b");
	big = malloc(20000);
	n = (size_t)snprintf(big, 20000, "cluster x\nx");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(big + n, 20000 - n, "{x");
	T_EQ(cfg_parse_buf("t.conf", big, n, c, err, sizeof(err)), -1,
	    "last line of 2000 glued braces: an error, no overflow");
	T_OK(strstr(err, "t.conf:2: too many words") != NULL, "%s", err);
	n = (size_t)snprintf(big, 20000, "cluster x\nx");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(big + n, 20000 - n, "\"x\"x");
	T_EQ(cfg_parse_buf("t.conf", big, n, c, err, sizeof(err)), -1,
	    "last line of glued quotes: an error, no overflow");
	T_OK(strstr(err, "t.conf:2: a quote glued") != NULL, "%s", err);
	/* a long word and a long quoted string: sized from the line */
	memset(big, 'w', 19998);
	big[0] = '"';
	big[19998] = '"';
	big[19999] = 0;
	T_OK(strncmp(toks(big), "wwwwwwww", 8) == 0, "a 19998-byte quoted "
	    "string on one line: one token");
	free(big);

	/* glued to '{', '}', '#', '"': none drops the next line */
	T_EQ(cfg_parse_buf("t.conf", "cluster x\nnfs {\n port 2050}\n}\n"
	    "key /k\n", 40, c, err, sizeof(err)), -1,
	    "'port 2050}' refused");
	T_OK(strstr(err, "t.conf:3:") != NULL, "... naming line 3: %s", err);
	T_EQ(cfg_parse_buf("t.conf", "cluster demo#x\nkey /k\n", 22, c, err,
	    sizeof(err)), -1, "'cluster demo#x' + key: parsed up to cfg_check");
	T_OK(strstr(err, "exactly two heads") != NULL &&
	    strcmp(c->cluster, "demo") == 0 && strcmp(c->keyfile, "/k") ==
	    0, "cluster demo#x is 'demo' and a comment, the next line is "
	    "read (%s, %s)", c->cluster, c->keyfile);
	T_EQ(cfg_parse_buf("t.conf", "cluster x\nkey\"/k\"\nexports /e\n",
	    28, c, err, sizeof(err)), -1, "key\"/k\" refused");
	T_OK(strstr(err, "t.conf:2: a quote glued to the word 'key'") !=
	    NULL, "%s", err);
	free(c);
}

/*
 * Every string up to 4 characters over { a, '{', '}', '#', '"', ' ',
 * '\n' } (2801 strings), appended to a first line "cluster x", once as the last
 * line and once followed by a newline: parsed or refused, and a refusal
 * names a line of the text.
 */
static void
test_brute(void)
{
	static const char	 alpha[] = "a{}#\" \n";
	struct cfg		*c = malloc(sizeof(*c));
	char			 s[32], err[512];
	int			 k = (int)strlen(alpha), total = 0, bad = 0;

	for (int len = 0; len <= 4; len++) {
		int	 lim = 1;

		for (int i = 0; i < len; i++)
			lim *= k;
		for (int v = 0; v < lim; v++) {
			int	 x = v, nl = 2;
			size_t	 n = (size_t)snprintf(s, sizeof(s),
			    "cluster x\n");

			for (int i = 0; i < len; i++, x /= k) {
				s[n++] = alpha[x % k];
				nl += alpha[x % k] == '\n';
			}
			for (int tail = 0; tail < 2; tail++) {
				size_t m = n;

				if (tail)
					s[m++] = '\n';
				s[m] = 0;
				total++;
				if (cfg_parse_buf("t.conf", s, m, c, err,
				    sizeof(err)) == 0)
					continue;
				/* a parse error names t.conf:LINE with a
				 * line of the text (cfg_check's semantic
				 * errors name the file only) */
				if (strncmp(err, "t.conf:", 7) != 0) {
					bad++;
					printf("# %s\n", err);
					continue;
				}
				if (err[7] >= '0' && err[7] <= '9' &&
				    atoi(err + 7) > nl) {
					bad++;
					printf("# line past the end: %s\n",
					    err);
				}
				toks_n(s, m);
			}
		}
	}
	T_EQ(bad, 0, "brute force: every error names the file and a line "
	    "of the text");
	T_EQ(total, 2 * 2801, "brute force: 2 x 2801 strings parsed");
	free(c);
}

static void
test_key(void)
{
	char		 dir[] = "/tmp/duonas-t-key.XXXXXX", err[512];
	struct cfg	*c = calloc(1, sizeof(*c));
	uint8_t		 key[CFG_KEY_MAX];
	size_t		 keylen = 0;
	FILE		*f;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(c->keyfile, sizeof(c->keyfile), "%s/k", dir);
	f = fopen(c->keyfile, "w");
	fputs("00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	chmod(c->keyfile, 0600);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), 0,
	    "key mode 0600, owned by this user: loaded");
	T_EQ(keylen, 16, "16 bytes");
	chmod(c->keyfile, 0400);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), 0,
	    "key mode 0400: loaded");
	chmod(c->keyfile, 0644);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
	    "key mode 0644: refused");
	T_OK(strstr(err, "/k: mode 0644: group or others have access") !=
	    NULL, "%s", err);
	chmod(c->keyfile, 0620);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
	    "key mode 0620 (group may write): refused");
	chmod(c->keyfile, 0604);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
	    "key mode 0604: refused");
	chmod(c->keyfile, 0600);
	if (geteuid() == 0) {
		T_EQ(chown(c->keyfile, 4242, 0), 0, "chown to uid 4242");
		T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
		    "key owned by uid 4242 (running as root): refused");
		T_OK(strstr(err, "owned by uid 4242, not by root") != NULL,
		    "%s", err);
	} else {
		struct stat st = { .st_mode = S_IFREG | 0600,
		    .st_uid = geteuid() + 1 };
		T_EQ(cfg_key_check("k", &st, err, sizeof(err)), -1,
		    "key owned by another user: refused");
		st.st_uid = 0;
		T_EQ(cfg_key_check("k", &st, err, sizeof(err)), 0,
		    "key owned by root: accepted");
	}
	unlink(c->keyfile);
	mkdir(c->keyfile, 0700);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
	    "a directory as key: refused");
	rmdir(c->keyfile);
	T_EQ(cfg_key_load(c, key, &keylen, err, sizeof(err)), -1,
	    "a missing key: refused");
	T_OK(strstr(err, "No such file") != NULL, "%s", err);
	rmdir(dir);
	free(c);
}

int
main(void)
{
	test_split();
	test_issue_cases();
	test_brute();
	test_key();
	return t_done();
}

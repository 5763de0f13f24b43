/*
 * test_nfs_exports.c — the exports file parser and client matching
 * (export/nfs_exports.c): good lines, every error naming its line,
 * CIDR and wildcard matching, option defaults, the limits, and the same
 * verdict as the validator's parser (common/exports.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/exports.h"
#include "common/util.h"
#include "export/nfs_int.h"
#include "tests/unit/t.h"

static int
bad(const char *text, const char *want)
{
	struct nfs_exptab	t;
	char			err[256] = "";
	int			rc;

	rc = nfs_exports_parse(text, strlen(text), "exports", &t, err,
	    sizeof(err));
	if (rc == 0)
		nfs_exports_free(&t);
	if (rc == 0 || strstr(err, want) == NULL) {
		printf("#   got '%s', want '%s'\n", err, want);
		return 0;
	}
	return 1;
}

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, a, &sa.sin_addr);
	return sa;
}

/*
 * The limits live in the one parser (common/exports.c) that the
 * configuration transactions validate with: the server and the validator
 * agree on every text, limits included (issue 10, finding 4).
 */
static void
test_limits(void)
{
	struct nfs_exptab	 t;
	struct exports_tab	 x;
	struct buf		 b;
	char			 err[256], err2[256], path[400];
	static const char *const corpus[] = {
		"/a -id=1 *\n",
		"/a -id=1 *\n/a/ -id=2 *\n",
		"/a -id=1 10.0.0.0/8(rw) host-1.example(ro)\n",
		"/a -id=1 * \\\n  10.1.1.1\n# c\n/b -id=2 ::1/128\n",
		"/a -id=1 bad/host\n",
		"/a -id=1 10.0.0.1/33\n",
		"/a/. -id=1 *\n",
		"/a -id=4294967296 *\n",
		"/a -id=1 *(rw,fast)\n",
	};

	buf_init(&b);
	for (int i = 1; i <= 65; i++)
		buf_printf(&b, "/srv/e%d -id=%d *\n", i, i);
	T_OK(bad((char *)b.data, "exports:65: too many exports (max 64)"),
	    "the 65th export is refused");
	buf_reset(&b);
	buf_printf(&b, "/a -id=1");
	for (int i = 0; i < 33; i++)
		buf_printf(&b, " 10.0.0.%d", i + 1);
	buf_printf(&b, "\n");
	T_OK(bad((char *)b.data, "too many clients (max 32)"),
	    "the 33rd client is refused");
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	snprintf(path + EXPORTS_PATH_MAX, sizeof(path) - EXPORTS_PATH_MAX,
	    " -id=1 *\n");
	T_OK(bad(path, "export path too long"), "a path of %d bytes",
	    EXPORTS_PATH_MAX);
	T_OK(bad("/a -id=1 *\n/a/ -id=2 *\n", "already exported on line 1"),
	    "same path with a trailing slash");
	buf_free(&b);

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		int a, v;

		err[0] = err2[0] = 0;
		a = exports_parse(corpus[i], strlen(corpus[i]), "exports", 0,
		    &x, err, sizeof(err));
		if (a == 0)
			exports_free(&x);
		/* the server also resolves names: leave those out */
		if (strstr(corpus[i], "example") != NULL) {
			T_EQ(a, 0, "host name: syntax accepted");
			continue;
		}
		v = nfs_exports_parse(corpus[i], strlen(corpus[i]), "exports",
		    &t, err2, sizeof(err2));
		if (v == 0)
			nfs_exports_free(&t);
		T_OK(a == v && strcmp(err, err2) == 0, "server and validator "
		    "agree on text %zu (%d '%s' / %d '%s')", i, a, err, v,
		    err2);
	}
}

int
main(void)
{
	struct nfs_exptab	 t;
	char			 err[256];
	const char		*good =
	    "# comment\n"
	    "\n"
	    "/srv/a  -id=7,rw  10.0.0.0/8(ro,all_squash,anonuid=99) \\\n"
	    "        127.0.0.1(no_root_squash)  *(sec=sys:none)\n"
	    "/srv/b/ 192.168.1.1(id=8)\n";
	struct sockaddr_in	 sa;
	const struct nfs_client	*c;

	T_EQ(nfs_exports_parse(good, strlen(good), "exports", &t, err,
	    sizeof(err)), 0, "good file parses");
	T_EQ(t.n, 2, "two exports");
	T_EQ(t.v[0].id, 7, "id of the first");
	T_OK(strcmp(t.v[1].path, "/srv/b") == 0, "trailing slash dropped");
	T_EQ(t.v[0].nclients, 3, "three clients");
	sa = v4("10.1.2.3");
	c = nfs_export_client(&t.v[0], (struct sockaddr *)&sa);
	T_OK(c == &t.v[0].clients[0], "CIDR match");
	T_OK(c != NULL && !(c->flags & NFS_EXP_RW), "ro overrides -rw");
	T_OK(c != NULL && (c->flags & NFS_EXP_ALL_SQUASH) && c->anonuid == 99,
	    "all_squash anonuid=99");
	sa = v4("127.0.0.1");
	c = nfs_export_client(&t.v[0], (struct sockaddr *)&sa);
	T_OK(c == &t.v[0].clients[1] && (c->flags & NFS_EXP_RW) &&
	    !(c->flags & NFS_EXP_ROOT_SQUASH), "host match, rw, no_root_squash");
	sa = v4("8.8.8.8");
	c = nfs_export_client(&t.v[0], (struct sockaddr *)&sa);
	T_OK(c == &t.v[0].clients[2] && (c->flags & NFS_EXP_AUTH_NONE),
	    "wildcard with sec=sys:none");
	c = nfs_export_client(&t.v[1], (struct sockaddr *)&sa);
	T_OK(c == NULL, "unlisted client refused");
	sa = v4("192.168.1.1");
	c = nfs_export_client(&t.v[1], (struct sockaddr *)&sa);
	T_OK(c != NULL && !(c->flags & NFS_EXP_RW) &&
	    (c->flags & NFS_EXP_ROOT_SQUASH), "defaults: ro, root_squash");
	nfs_exports_free(&t);

	T_OK(bad("srv *(id=1)\n", "exports:1: export path 'srv' is not"),
	    "relative path");
	T_OK(bad("\n/a *\n", "exports:2: export /a has no id"), "missing id");
	T_OK(bad("/a -id=1\n", "lists no clients"), "no clients");
	T_OK(bad("/a *(id=1,fast)\n", "unknown option 'fast'"), "bad option");
	T_OK(bad("/a *(id=1)\n/b *(id=1)\n", "exports:2: id=1 is already used"),
	    "duplicate id");
	T_OK(bad("/a *(id=1)\n/a *(id=2)\n", "already exported on line 1"),
	    "duplicate path");
	T_OK(bad("/a 10.0.0.0/33(id=1)\n", "prefix longer than 32"),
	    "bad prefix");
	T_OK(bad("/a *(id=0)\n", "export id '0'"), "id 0");
	T_OK(bad("/a *(id=1,anonuid=x)\n", "anonuid 'x'"), "bad anonuid");
	T_OK(bad("/a -id=1 -id=2 *\n", "two different ids"), "two ids");
	T_OK(bad("/a *(id=1\n", "options must be in (...)"), "unclosed (");
	T_OK(bad("/a/../b *(id=1)\n", "contains . or .."), "dot-dot path");
	T_OK(bad("/a (rw,id=1)\n", "options without a client"), "no client");
	T_OK(bad("/a no-such-host.invalid(id=1)\n", "cannot resolve"),
	    "unresolvable host");
	test_limits();
	return t_done();
}

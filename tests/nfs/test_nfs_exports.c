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


/* The export options of duonas-exports(5) for SMB (protocols=, share=,
 * smb_users=, smb_rw/smb_ro) and what the NFS server makes of them. */
static void
test_smb_opts(void)
{
	static const char text[] =
	    "/srv/data -id=1,rw,protocols=nfs:smb 10.0.0.0/8\n"
	    "/srv/win -id=2,protocols=smb,share=Office,smb_users=alice:bob_2,"
	    "smb_rw *\n"
	    "/srv/nfs -id=3,rw,smb_ro *\n";
	struct exports_tab	x;
	struct nfs_exptab	t;
	char			err[256];
	int			rc;

	rc = exports_parse(text, strlen(text), "exports", 0, &x, err,
	    sizeof(err));
	T_OK(rc == 0 && x.n == 3, "SMB options parse (%s)", rc ? err : "ok");
	if (rc != 0)
		return;
	T_OK(x.v[0].protocols == (EXPORTS_P_NFS | EXPORTS_P_SMB) &&
	    strcmp(x.v[0].share, "data") == 0 && x.v[0].smb_rw == 1 &&
	    x.v[0].smb_users[0] == 0,
	    "nfs:smb, share = the directory's name, smb writable with -rw");
	T_OK(x.v[1].protocols == EXPORTS_P_SMB &&
	    strcmp(x.v[1].share, "Office") == 0 &&
	    strcmp(x.v[1].smb_users, "alice bob_2") == 0 && x.v[1].smb_rw == 1,
	    "smb only, share=, smb_users= as a list, smb_rw over the ro "
	    "default");
	T_OK(x.v[2].protocols == EXPORTS_P_NFS && x.v[2].smb_rw == 0,
	    "default protocols nfs; smb_ro over -rw");
	T_OK(strcmp(x.v[1].options, "protocols=smb,share=Office,"
	    "smb_users=alice:bob_2,smb_rw") == 0,
	    "options kept as written for editors ('%s')", x.v[1].options);
	exports_free(&x);
	rc = nfs_exports_parse(text, strlen(text), "exports", &t, err,
	    sizeof(err));
	T_OK(rc == 0 && t.n == 2 && t.v[0].id == 1 && t.v[1].id == 3,
	    "the NFS server leaves the SMB-only export out");
	if (rc == 0)
		nfs_exports_free(&t);

	T_OK(bad("/a -id=1,protocols=afp *\n", "protocols 'afp'"),
	    "unknown protocol");
	T_OK(bad("/a *(id=1,share=x)\n", "option of the export"),
	    "share= after a client");
	T_OK(bad("/a -id=1,protocols=smb,share=a/b *\n", "share name 'a/b'"),
	    "bad share name");
	T_OK(bad("/a -id=1,protocols=smb,share=IPC$ *\n", "reserved"),
	    "reserved share name");
	T_OK(bad("/x/a -id=1,protocols=smb *\n/y/A -id=2,protocols=smb *\n",
	    "exports:2: share name 'A' is already used by /x/a"),
	    "two SMB exports, one share name (case ignored)");
	T_OK(bad("/a -id=1,protocols=smb,smb_users=Alice *\n",
	    "'Alice' is not a user name"), "bad user name");
	T_OK(bad("/a -id=1,protocols=smb,smb_users= *\n",
	    "smb_users: a ':'-separated list"), "empty user list");
	rc = exports_parse("/x/a -id=1 *\n/y/a -id=2 *\n", 26, "exports",
	    0, &x, err, sizeof(err));
	T_OK(rc == 0, "NFS-only exports may share a last path component");
	if (rc == 0)
		exports_free(&x);
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
	test_smb_opts();
	return t_done();
}

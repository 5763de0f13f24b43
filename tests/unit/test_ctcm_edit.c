/*
 * test_ctcm_edit.c — the configuration text edits behind the admin
 * commands: export add/rm/set, ip add/rm, lun add/rm, and the rejection
 * of bad input (unknown export, bad CIDR, address in use, path outside
 * every LUN) with a message that names the problem.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "tests/unit/t.h"

static const char conf_text[] =
    "cluster t\n"
    "# comment kept\n"
    "head A {\n  id 1\n  role master\n  link 127.0.0.1:7001\n"
    "  service-ip 10.0.0.1/24 dev eth0\n}\n"
    "head B {\n  id 2\n  role slave\n  link 127.0.0.2:7001\n}\n"
    "lun l0 {\n  id 1\n  path \"/dev/l0\"\n  mode directory\n"
    "  data \"/srv/l0\"\n  home A\n}\n";

static void
parse(const char *text, struct cfg *c)
{
	char err[256];

	if (cfg_parse_buf("t", text, strlen(text), c, err, sizeof(err)) < 0) {
		printf("# parse: %s\n", err);
		memset(c, 0, sizeof(*c));
	}
}

static void
test_exports(const struct cfg *c)
{
	struct buf		 o, o2;
	struct ctcm_export	*v;
	char			 err[256];
	int			 n;
	const char		*ex = "# exports\n/srv/l0/a -id=1,rw *\n";

	buf_init(&o);
	buf_init(&o2);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/b", 0, "127.0.0.1(rw) "
	    "10.0.0.0/8", "no_root_squash", &o, err, sizeof(err)), 0,
	    "export add");
	T_OK(strcmp((char *)o.data, "# exports\n/srv/l0/a -id=1,rw *\n"
	    "/srv/l0/b -id=2,no_root_squash 127.0.0.1(rw) 10.0.0.0/8\n") == 0,
	    "new line appended with the next id, comment kept");
	T_EQ(ctcm_exports_parse((char *)o.data, &v, &n, err, sizeof(err)), 0,
	    "result parses");
	T_EQ(n, 2, "two exports");
	T_OK(v[1].id == 2 && strcmp(v[1].clients, "127.0.0.1(rw) 10.0.0.0/8")
	    == 0, "fields");
	free(v);

	buf_reset(&o2);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/a", 0, NULL, NULL, &o2, err,
	    sizeof(err)), -1, "duplicate path rejected");
	T_OK(strstr(err, "already exported") != NULL, "%s", err);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/c", 1, NULL, NULL, &o2, err,
	    sizeof(err)), -1, "duplicate id rejected");
	T_OK(strstr(err, "id 1 is already used") != NULL, "%s", err);
	T_EQ(ctcm_edit_export_add(c, ex, "/etc", 0, NULL, NULL, &o2, err,
	    sizeof(err)), -1, "path outside the LUN rejected");
	T_OK(strstr(err, "outside every LUN") != NULL, "%s", err);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0x", 0, NULL, NULL, &o2, err,
	    sizeof(err)), -1, "prefix that is not a subdirectory rejected");
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/d", 0, "10.0.0.0/33", NULL,
	    &o2, err, sizeof(err)), -1, "bad client CIDR rejected");
	T_OK(strstr(err, "10.0.0.0/33") != NULL, "%s", err);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/d", 0, "*", "rw,bogus",
	    &o2, err, sizeof(err)), -1, "unknown option rejected");
	T_OK(strstr(err, "unknown option 'bogus'") != NULL, "%s", err);
	T_EQ(ctcm_edit_export_add(c, ex, "/srv/l0/../x", 0, NULL, NULL, &o2,
	    err, sizeof(err)), -1, "path with .. rejected");

	buf_reset(&o2);
	T_EQ(ctcm_edit_export_set(c, (char *)o.data, "2", "*", "ro", &o2, err,
	    sizeof(err)), 0, "export set by id");
	T_OK(strstr((char *)o2.data, "/srv/l0/b -id=2,ro *\n") != NULL,
	    "line replaced");
	buf_reset(&o2);
	T_EQ(ctcm_edit_export_rm((char *)o.data, "/srv/l0/a", &o2, err,
	    sizeof(err)), 0, "export rm by path");
	T_OK(strstr((char *)o2.data, "/srv/l0/a") == NULL &&
	    strstr((char *)o2.data, "/srv/l0/b") != NULL &&
	    strstr((char *)o2.data, "# exports") != NULL, "only that line gone");
	T_EQ(ctcm_edit_export_rm((char *)o.data, "/srv/none", &o2, err,
	    sizeof(err)), -1, "unknown export rejected");
	T_OK(strstr(err, "no export /srv/none") != NULL, "%s", err);
	/* continuation lines are one export */
	buf_reset(&o2);
	T_EQ(ctcm_edit_export_rm("/srv/l0/a -id=1 \\\n  *\n/srv/l0/b -id=2 *\n",
	    "1", &o2, err, sizeof(err)), 0, "rm of a continued line");
	T_OK(strcmp((char *)o2.data, "/srv/l0/b -id=2 *\n") == 0,
	    "both physical lines removed");
	buf_free(&o);
	buf_free(&o2);
}

/* n export lines under /srv/l0, ids 1..n */
static char *
many_exports(int n)
{
	struct buf	b;

	buf_init(&b);
	for (int i = 1; i <= n; i++)
		buf_printf(&b, "/srv/l0/e%d -id=%d *\n", i, i);
	return (char *)b.data;
}

/*
 * Finding 4: the 65th export was accepted (the NFS server then refused
 * the file).  The editor and the validator use the server's parser and
 * limits now.
 */
static void
test_export_limits(const struct cfg *c)
{
	struct buf		 o;
	struct ctcm_export	*v = NULL;
	char			 err[512], *t64 = many_exports(64);
	char			*t65 = many_exports(65), cl[40 * 12];
	int			 n;

	buf_init(&o);
	T_EQ(ctcm_exports_parse(t64, &v, &n, err, sizeof(err)), 0,
	    "64 exports parse");
	T_EQ(n, 64, "64 of them");
	free(v);
	T_EQ(ctcm_edit_export_add(c, t64, "/srv/l0/e65", 0, NULL, NULL, &o,
	    err, sizeof(err)), -1, "the 65th export add is refused");
	T_OK(strstr(err, "64") != NULL && strstr(err, "maximum") != NULL,
	    "clear error: %s", err);
	T_EQ(ctcm_exports_parse(t65, &v, &n, err, sizeof(err)), -1,
	    "a file of 65 exports does not validate");
	T_OK(strstr(err, "exports:65: too many exports (max 64)") != NULL,
	    "the server's message and line: %s", err);
	buf_reset(&o);
	T_EQ(ctcm_edit_export_rm(t65, "/srv/l0/e3", &o, err, sizeof(err)), 0,
	    "a file that already has 65 can still lose one");
	T_EQ(ctcm_exports_parse((char *)o.data, &v, &n, err, sizeof(err)), 0,
	    "and then validates");
	T_EQ(n, 64, "64 left");
	free(v);

	cl[0] = 0;
	for (int i = 0; i < 33; i++)
		snprintf(cl + strlen(cl), sizeof(cl) - strlen(cl),
		    "10.0.0.%d ", i + 1);
	buf_reset(&o);
	T_EQ(ctcm_edit_export_add(c, "", "/srv/l0/a", 0, cl, NULL, &o, err,
	    sizeof(err)), -1, "33 clients refused");
	T_OK(strstr(err, "too many clients (max 32)") != NULL, "%s", err);
	buf_reset(&o);
	T_EQ(ctcm_edit_export_add(c, "", "/srv/l0/a", 0, "* \n/etc -id=9 *",
	    NULL, &o, err, sizeof(err)), -1, "a newline in --clients refused");
	T_EQ(ctcm_edit_export_add(c, "", "/srv/l0/a", 0, "*", "rw\n/etc",
	    &o, err, sizeof(err)), -1, "a newline in --options refused");
	T_EQ(ctcm_edit_export_add(c, "", "/srv/l0/a", 0, "*", "rw #x", &o,
	    err, sizeof(err)), -1, "a comment in --options refused");
	/* what the server accepts, the validator accepts */
	T_EQ(ctcm_exports_parse("/srv/l0/b 192.168.1.1(id=8)\n", &v, &n, err,
	    sizeof(err)), 0, "id in a client's options (server syntax)");
	free(v);
	T_EQ(ctcm_exports_parse("/srv/l0/b -id=1 *\n/srv/l0/b/ -id=2 *\n",
	    &v, &n, err, sizeof(err)), -1, "same path with a trailing slash");
	T_EQ(ctcm_exports_parse("/srv/l0/b -id=1 *(fast)\n", &v, &n, err,
	    sizeof(err)), -1, "unknown client option");
	T_OK(strstr(err, "exports:1: unknown option 'fast'") != NULL, "%s",
	    err);
	buf_free(&o);
	free(t64);
	free(t65);
}

static void
test_ip(const struct cfg *c)
{
	struct buf	 o;
	struct cfg	*n = xcalloc(1, sizeof(*n));
	char		 err[256];

	buf_init(&o);
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "10.0.0.2/24", "eth1", &o,
	    err, sizeof(err)), 0, "ip add on B");
	parse((char *)o.data, n);
	T_OK(n->heads[1].nvips == 1 && strcmp(n->heads[1].vips[0].addr,
	    "10.0.0.2") == 0 && strcmp(n->heads[1].vips[0].dev, "eth1") == 0,
	    "B has the new service IP");
	T_OK(strstr((char *)o.data, "# comment kept") != NULL,
	    "comments kept");
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "10.0.0.1/24", "eth1", &o,
	    err, sizeof(err)), -1, "address in use rejected");
	T_OK(strstr(err, "already a service IP of head A") != NULL, "%s", err);
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "10.0.0.300/24", "eth1", &o,
	    err, sizeof(err)), -1, "bad address rejected");
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "10.0.0.3/40", "eth1", &o,
	    err, sizeof(err)), -1, "bad prefix rejected");
	T_OK(strstr(err, "prefix '40'") != NULL, "%s", err);
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "10.0.0.3", "eth1", &o,
	    err, sizeof(err)), -1, "missing prefix rejected");
	T_EQ(ctcm_edit_ip_add(c, conf_text, "C", "10.0.0.3/24", "eth1", &o,
	    err, sizeof(err)), -1, "unknown head rejected");
	T_EQ(ctcm_edit_ip_add(c, conf_text, "B", "127.0.0.1/8", "lo", &o,
	    err, sizeof(err)), -1, "peer-link address rejected");
	buf_reset(&o);
	T_EQ(ctcm_edit_ip_rm(c, conf_text, "10.0.0.1", &o, err, sizeof(err)),
	    0, "ip rm");
	parse((char *)o.data, n);
	T_EQ(n->heads[0].nvips, 0, "A has no service IP left");
	T_EQ(ctcm_edit_ip_rm(c, conf_text, "10.9.9.9", &o, err, sizeof(err)),
	    -1, "unknown IP rejected");
	buf_free(&o);
	free(n);
}

static void
test_lun(const struct cfg *c)
{
	struct buf	 o;
	struct cfg	*n = xcalloc(1, sizeof(*n));
	char		 err[256];

	buf_init(&o);
	T_EQ(ctcm_edit_lun_add(c, conf_text, "l1", 2, "/dev/l1", "directory",
	    "/srv/l1", "B", &o, err, sizeof(err)), 0, "lun add");
	parse((char *)o.data, n);
	T_OK(n->nluns == 2 && n->luns[1].id == 2 && n->luns[1].home == 1 &&
	    strcmp(n->luns[1].data, "/srv/l1") == 0, "new LUN parsed");
	T_EQ(ctcm_edit_lun_add(c, conf_text, "l1", 1, "/dev/l1", "directory",
	    "/srv/l1", "B", &o, err, sizeof(err)), -1, "id in use rejected");
	T_EQ(ctcm_edit_lun_add(c, conf_text, "l1", 2, "/dev/l0", "directory",
	    "/srv/l1", "B", &o, err, sizeof(err)), -1, "path in use rejected");
	T_EQ(ctcm_edit_lun_add(c, conf_text, "l1", 2, "/dev/l1", "directory",
	    "/srv/l0/sub", "B", &o, err, sizeof(err)), -1,
	    "overlapping data directory rejected");
	T_EQ(ctcm_edit_lun_add(c, conf_text, "l1", 2, "/dev/l1", "zfs",
	    "/srv/l1", "B", &o, err, sizeof(err)), -1, "bad mode rejected");
	buf_reset(&o);
	T_EQ(ctcm_edit_lun_rm(c, conf_text, "/srv/l0/a -id=1 *\n", "l0", &o,
	    err, sizeof(err)), -1, "LUN with an export refused");
	T_OK(strstr(err, "still holds export /srv/l0/a") != NULL, "%s", err);
	T_EQ(ctcm_edit_lun_rm(c, conf_text, "", "l0", &o, err, sizeof(err)), 0,
	    "lun rm");
	parse((char *)o.data, n);
	T_EQ(n->nluns, 0, "LUN block gone");
	T_EQ(n->heads[0].nvips, 1, "the rest kept");
	buf_free(&o);
	free(n);
}

int
main(void)
{
	struct cfg *c = xcalloc(1, sizeof(*c));

	parse(conf_text, c);
	T_EQ(c->nluns, 1, "fixture parses");
	test_exports(c);
	test_export_limits(c);
	test_ip(c);
	test_lun(c);
	free(c);
	return t_done();
}

/*
 * test_smb_conf.c — the pure part of the SMB service (export/smb_conf.c):
 * which exports are SMB shares, and the smb.conf text for them (golden
 * share sections; the [global] settings that keep Samba inside the
 * service directory and route locks to the FUSE layer).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "export/smb.h"
#include "tests/unit/t.h"

static const char exports[] =
    "/srv/nfs -id=1,rw *\n"
    "/srv/both -id=2,rw,protocols=nfs:smb 10.0.0.0/8 192.0.2.7 *\n"
    "/srv/win -id=3,protocols=smb,share=Office,smb_users=alice:bob "
    "10.1.0.0/16 fd00::/8(rw)\n";

static const char want_shares[] =
    "\n[both]\n"
    "\tcomment = duonas export 2\n"
    "\tpath = /run/h/smb/mnt/2\n"
    "\tread only = no\n"
    "\toplocks = no\n"
    "\tlevel2 oplocks = no\n"
    "\n[Office]\n"
    "\tcomment = duonas export 3\n"
    "\tpath = /run/h/smb/mnt/3\n"
    "\tread only = yes\n"
    "\tvalid users = alice bob\n"
    "\thosts allow = 10.1.0.0/16 fd00::/8\n"
    "\thosts deny = ALL\n"
    "\toplocks = yes\n"
    "\tlevel2 oplocks = yes\n"
    "\tvfs objects = acl_xattr streams_xattr\n";

int
main(void)
{
	struct smb_share	*v;
	struct smb_conf_in	 in = { "/run/h/smb", "/run/h/smb/private/pw",
				    "averyveryverylongclustername", 4450 };
	struct buf		 b;
	char			 err[256], mp[64];
	const char		*g;
	int			 n, rc;

	rc = smb_shares_parse(exports, strlen(exports), "exports", &v, &n,
	    err, sizeof(err));
	T_OK(rc == 0 && n == 2, "two SMB shares of three exports (%s)",
	    rc ? err : "ok");
	if (rc != 0)
		return t_done();
	T_OK(v[0].id == 2 && strcmp(v[0].name, "both") == 0 && v[0].rw &&
	    v[0].nfs_too && v[0].hosts[0] == 0,
	    "nfs:smb export: share named after the directory, writable, "
	    "'*' means every host");
	T_OK(v[1].id == 3 && strcmp(v[1].name, "Office") == 0 && !v[1].rw &&
	    !v[1].nfs_too && strcmp(v[1].users, "alice bob") == 0 &&
	    strcmp(v[1].hosts, "10.1.0.0/16 fd00::/8") == 0,
	    "smb-only export: share=, users, hosts allow from the client "
	    "list");
	smb_share_mountpoint("/run/h/smb", 7, mp, sizeof(mp));
	T_OK(strcmp(mp, "/run/h/smb/mnt/7") == 0, "mount point %s", mp);

	buf_init(&b);
	smb_conf_render(&in, v, n, &b);
	buf_add_u8(&b, 0);
	g = (const char *)b.data;
	T_OK(strncmp(g, "# written by duonasd", 20) == 0 &&
	    strstr(g, "\n[global]\n") != NULL, "a header, then [global]");
	T_OK(strstr(g, "\tnetbios name = averyveryverylo\n") != NULL,
	    "netbios name cut to 15 characters");
	T_OK(strstr(g, "\tsmb ports = 4450\n") != NULL, "port");
	T_OK(strstr(g, "\tpassdb backend = smbpasswd:/run/h/smb/private/pw\n")
	    != NULL, "passdb");
	T_OK(strstr(g, "\tlock directory = /run/h/smb/lock\n") != NULL &&
	    strstr(g, "\tstate directory = /run/h/smb/state\n") != NULL &&
	    strstr(g, "\tprivate dir = /run/h/smb/private\n") != NULL &&
	    strstr(g, "\tpid directory = /run/h/smb/pid\n") != NULL,
	    "Samba's directories under the service directory");
	T_OK(strstr(g, "\tsmb2 leases = yes\n") != NULL &&
	    strstr(g, "\n[both]") > strstr(g, "smb2 leases"),
	    "leases on, in [global] (a global parameter)");
	T_OK(strstr(g, "\tposix locking = yes\n") != NULL &&
	    strstr(g, "\tkernel oplocks = no\n") != NULL,
	    "posix locking: SMB locks reach the cluster lock table");
	T_OK(strstr(g, "\tmap to guest = never\n") != NULL &&
	    strstr(g, "\tdisable netbios = yes\n") != NULL,
	    "no guest access, no NetBIOS");
	T_OK(strstr(g, want_shares) != NULL &&
	    strlen(strstr(g, want_shares)) == strlen(want_shares),
	    "share sections, golden text, last in the file");
	if (strstr(g, want_shares) == NULL)
		printf("# got:\n%s", g);
	buf_free(&b);
	free(v);

	rc = smb_shares_parse("/a -id=1,protocols=smb,share=x\n", 31,
	    "exports", &v, &n, err, sizeof(err));
	T_OK(rc < 0 && strstr(err, "exports:1:") != NULL,
	    "a bad exports file is an error naming the line (%s)", err);
	rc = smb_shares_parse("", 0, "exports", &v, &n, err, sizeof(err));
	T_OK(rc == 0 && n == 0, "no exports, no shares");
	free(v);
	return t_done();
}

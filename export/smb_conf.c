/*
 * smb_conf.c — the pure part of the SMB service: which exports are SMB
 * shares, and the smb.conf that Samba's smbd runs on (docs/smb.md).
 *
 * The shares come from the one exports parser (common/exports.c), so a
 * share name, a user list or a protocols= value that the configuration
 * transactions accepted is exactly what is served.  smb.conf keeps all
 * of Samba's state under the service's directory (<rundir>/smb), so an
 * smbd of duonas never touches /etc/samba or /var/lib/samba and a Samba
 * installed for other uses is not disturbed.
 *
 * Choices written into every share (docs/smb.md "Share settings"):
 * posix locking, so that an SMB byte-range lock becomes an fcntl lock on
 * the FUSE mount and so a lock in the cluster table that NFS clients see;
 * no oplocks or leases on a share also exported over NFS (an NFS writer
 * would not break them); DOS attributes and streams-free extended
 * attributes in xattrs, which the FUSE layer passes through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "export/smb.h"

int
smb_shares_parse(const char *text, size_t len, const char *file,
    struct smb_share **v, int *n, char *err, size_t errlen)
{
	struct exports_tab	 x;
	struct smb_share	*s;

	*v = NULL;
	*n = 0;
	if (exports_parse(text, len, file, 0, &x, err, errlen) < 0)
		return -1;
	*v = xcalloc((size_t)(x.n ? x.n : 1), sizeof(**v));
	for (int i = 0; i < x.n; i++) {
		const struct exports_entry *e = &x.v[i];
		size_t hl = 0;

		if (!(e->protocols & EXPORTS_P_SMB))
			continue;
		s = &(*v)[(*n)++];
		s->id = e->id;
		snprintf(s->path, sizeof(s->path), "%s", e->path);
		snprintf(s->name, sizeof(s->name), "%s", e->share);
		snprintf(s->users, sizeof(s->users), "%s", e->smb_users);
		s->rw = e->smb_rw;
		s->nfs_too = (e->protocols & EXPORTS_P_NFS) != 0;
		/* the client list, as Samba's "hosts allow"; "*" anywhere
		 * means every host */
		for (int j = 0; j < e->nclients; j++) {
			if (e->clients[j].kind == EXPORTS_ANY) {
				hl = 0;
				break;
			}
			hl += (size_t)snprintf(s->hosts + hl,
			    sizeof(s->hosts) - hl, "%s%s", hl ? " " : "",
			    e->clients[j].host);
		}
		s->hosts[hl] = 0;
	}
	exports_free(&x);
	return 0;
}

void
smb_share_mountpoint(const char *base, uint32_t id, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "%s/mnt/%u", base, id);
}

void
smb_conf_render(const struct smb_conf_in *in, const struct smb_share *v,
    int n, struct buf *out)
{
	char mp[EXPORTS_PATH_MAX + 64];

	buf_printf(out,
	    "# written by duonasd: changes are overwritten (docs/smb.md)\n"
	    "[global]\n"
	    "\tserver role = standalone server\n"
	    "\tworkgroup = WORKGROUP\n"
	    "\tnetbios name = %.15s\n"
	    "\tserver string = duonas\n"
	    "\tsmb ports = %d\n"
	    "\tbind interfaces only = no\n"
	    "\tdisable netbios = yes\n"
	    "\tserver min protocol = SMB2_02\n"
	    "\tsecurity = user\n"
	    "\tmap to guest = never\n"
	    "\trestrict anonymous = 2\n"
	    "\tpassdb backend = smbpasswd:%s\n"
	    "\tlock directory = %s/lock\n"
	    "\tstate directory = %s/state\n"
	    "\tcache directory = %s/cache\n"
	    "\tpid directory = %s/pid\n"
	    "\tprivate dir = %s/private\n"
	    "\tncalrpc dir = %s/ncalrpc\n"
	    "\tlog file = %s/log.smbd\n"
	    "\tmax log size = 10000\n"
	    "\tlog level = 1\n"
	    "\tload printers = no\n"
	    "\tprinting = bsd\n"
	    "\tprintcap name = /dev/null\n"
	    "\tdisable spoolss = yes\n"
	    "\tshow add printer wizard = no\n"
	    "\tusershare path =\n"
	    "\tkernel oplocks = no\n"
	    "\tkernel share modes = no\n"
	    "\tposix locking = yes\n"
	    "\tea support = yes\n"
	    "\tstore dos attributes = yes\n"
	    "\tmap archive = no\n"
	    "\tunix extensions = no\n"
	    "\tsmb2 leases = yes\n"
	    "\tdurable handles = no\n",
	    in->netbios, in->port, in->passdb, in->base, in->base, in->base,
	    in->base, in->base, in->base, in->base);
	for (int i = 0; i < n; i++) {
		const struct smb_share *s = &v[i];

		smb_share_mountpoint(in->base, s->id, mp, sizeof(mp));
		buf_printf(out, "\n[%s]\n"
		    "\tcomment = duonas export %u\n"
		    "\tpath = %s\n"
		    "\tread only = %s\n",
		    s->name, s->id, mp, s->rw ? "no" : "yes");
		if (s->users[0])
			buf_printf(out, "\tvalid users = %s\n", s->users);
		if (s->hosts[0])
			buf_printf(out, "\thosts allow = %s\n"
			    "\thosts deny = ALL\n", s->hosts);
		/* leases (a global setting) need oplocks on the share */
		if (s->nfs_too)
			buf_printf(out, "\toplocks = no\n"
			    "\tlevel2 oplocks = no\n");
		else
			buf_printf(out, "\toplocks = yes\n"
			    "\tlevel2 oplocks = yes\n"
			    "\tvfs objects = acl_xattr streams_xattr\n");
	}
}

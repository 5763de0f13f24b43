/*
 * nfs_mnt.c — MOUNT v3: MNT, UMNT, UMNTALL, EXPORT, DUMP (and NULL).
 *
 * Runs on the loop thread inside rpc_process_pdu(): every call is quick
 * (one openat2 + name_to_handle_at for MNT).  MNT accepts an export path
 * or a directory below it (resolved with RESOLVE_BENEATH, so ".." and
 * symlinks cannot leave the export), checks the client against the
 * export's client list (MNT3ERR_ACCES if it is not there, or if the
 * export is disabled because the peer head serves it, or offline), asks
 * the HA gate (no reply at all when it says no) and records the
 * mount for DUMP and `duonas exports`.  The mount list is advisory, as in
 * every NFSv3 server: handles work without a MNT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs_int.h"

struct mnt_ent {
	char		host[64];
	char		path[PATH_MAX];
	uint32_t	expid;
};

static struct mnt_ent	*mnts;
static int		 nmnts;

static uint32_t
dec_dirpath(ZDR *z, void *p, ...)
{
	/* libnfs does not zero the argument buffer, and zdr_string()
	 * writes through a non-NULL pointer */
	*(char **)p = NULL;
	return nfs_conn_args_ok() && zdr_dirpath(z, p);
}

static uint32_t
dec_void(ZDR *z, void *p, ...)
{
	(void)z; (void)p;
	return nfs_conn_args_ok();
}

static void
peer_of_call(char *host, size_t n, struct sockaddr_storage *ss)
{
	socklen_t len;

	nfs_conn_peer(nfs_conn_current(), ss, &len);
	nfs_addr_text((struct sockaddr *)ss, host, n);
}

static int
mnt_null_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	struct nfs_raw raw = { NULL, 0 };

	return rpc_send_reply(rpc, call, &raw, nfs_raw_encode, 0);
}

/* Find the export holding path; *rel gets the part below it. */
static const struct nfs_export *
mnt_find(const struct nfs_exptab *t, const char *path, const char **rel)
{
	const struct nfs_export	*best = NULL;
	size_t			 bl = 0;

	for (int i = 0; i < t->n; i++) {
		const struct nfs_export	*e = &t->v[i];
		size_t			 l = strlen(e->path);

		if (strcmp(e->path, "/") == 0)
			l = 0;
		if (strncmp(path, e->path, l) == 0 &&
		    (path[l] == 0 || path[l] == '/') && (best == NULL ||
		    l > bl)) {
			best = e;
			bl = l;
		}
	}
	if (best != NULL) {
		*rel = path + bl;
		while (**rel == '/')
			(*rel)++;
	}
	return best;
}

static void
mnt_record(const char *host, const char *path, uint32_t expid)
{
	for (int i = 0; i < nmnts; i++)
		if (strcmp(mnts[i].host, host) == 0 &&
		    strcmp(mnts[i].path, path) == 0)
			return;
	mnts = xrealloc(mnts, (nmnts + 1) * sizeof(*mnts));
	snprintf(mnts[nmnts].host, sizeof(mnts[nmnts].host), "%s", host);
	snprintf(mnts[nmnts].path, sizeof(mnts[nmnts].path), "%s", path);
	mnts[nmnts].expid = expid;
	nmnts++;
}

static int
mnt_mnt_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	char			**argp = call->body.cbody.args;
	const char		*path = *argp, *rel = "";
	const struct nfs_exptab	*t;
	const struct nfs_export	*e;
	const struct nfs_client	*cl;
	struct sockaddr_storage	 ss;
	struct open_how		 how;
	mountres3		 res;
	uint8_t			 fh[NFS3_FHSIZE];
	uint32_t		 fhlen;
	int			 flavors[2], nfl = 0, fd = -1, rc;
	char			 host[64];

	memset(&res, 0, sizeof(res));
	peer_of_call(host, sizeof(host), &ss);
	t = nfs_exptab_rdlock();
	if (strlen(path) > MNTPATHLEN) {
		res.fhs_status = MNT3ERR_NAMETOOLONG;
		goto out;
	}
	if ((e = mnt_find(t, path, &rel)) == NULL) {
		res.fhs_status = MNT3ERR_NOENT;
		goto out;
	}
	cl = nfs_export_client(e, (struct sockaddr *)&ss);
	if (cl == NULL || !nfs_export_enabled(e->id) || e->fd < 0) {
		log_info("nfs: mount of %s refused for %s%s", path, host,
		    cl == NULL ? "" : e->fd < 0 ? " (export offline)" :
		    " (export disabled)");
		res.fhs_status = MNT3ERR_ACCES;
		goto out;
	}
	if (!nfs_export_gate(e->id)) {
		/* fenced by the HA controller: no reply, the client
		 * retries and finds the head that serves it */
		log_debug("nfs: mount of %s by %s dropped (gate)", path, host);
		nfs_exptab_unlock();
		nfs_svc_count_drop();
		return 0;
	}
	if (cl->flags & NFS_EXP_SECURE) {
		uint16_t port = ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);

		if (port >= 1024) {
			res.fhs_status = MNT3ERR_ACCES;
			goto out;
		}
	}
	if (*rel == 0) {
		memcpy(fh, e->rootfh, e->rootfhlen);
		fhlen = e->rootfhlen;
	} else {
		memset(&how, 0, sizeof(how));
		how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, e->fd, rel, &how, sizeof(how));
		if (fd < 0) {
			res.fhs_status = errno == ENOTDIR ? MNT3ERR_NOTDIR :
			    errno == ENOENT ? MNT3ERR_NOENT : MNT3ERR_ACCES;
			goto out;
		}
		rc = nfs_fh_make(e->id, fd, "", AT_EMPTY_PATH, fh, &fhlen);
		close(fd);
		if (rc < 0) {
			res.fhs_status = MNT3ERR_SERVERFAULT;
			goto out;
		}
	}
	if (cl->flags & NFS_EXP_AUTH_SYS)
		flavors[nfl++] = AUTH_UNIX;
	if (cl->flags & NFS_EXP_AUTH_NONE)
		flavors[nfl++] = AUTH_NONE;
	res.fhs_status = MNT3_OK;
	res.mountres3_u.mountinfo.fhandle.fhandle3_len = fhlen;
	res.mountres3_u.mountinfo.fhandle.fhandle3_val = (char *)fh;
	res.mountres3_u.mountinfo.auth_flavors.auth_flavors_len = nfl;
	res.mountres3_u.mountinfo.auth_flavors.auth_flavors_val = flavors;
	mnt_record(host, path, e->id);
	log_debug("nfs: %s mounted %s", host, path);
out:
	nfs_exptab_unlock();
	return rpc_send_reply(rpc, call, &res, (zdrproc_t)zdr_mountres3, 256);
}

static int
mnt_umnt_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	char			**argp = call->body.cbody.args;
	char			 host[64];
	struct sockaddr_storage	 ss;

	peer_of_call(host, sizeof(host), &ss);
	for (int i = 0; i < nmnts; i++) {
		if (strcmp(mnts[i].host, host) == 0 &&
		    strcmp(mnts[i].path, *argp) == 0) {
			mnts[i] = mnts[--nmnts];
			break;
		}
	}
	return mnt_null_cb(rpc, call);
}

static int
mnt_umntall_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	char			 host[64];
	struct sockaddr_storage	 ss;

	peer_of_call(host, sizeof(host), &ss);
	for (int i = 0; i < nmnts; ) {
		if (strcmp(mnts[i].host, host) == 0)
			mnts[i] = mnts[--nmnts];
		else
			i++;
	}
	return mnt_null_cb(rpc, call);
}

static int
mnt_dump_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	mountbody	*v = NULL;
	mountlist	 head = NULL;
	int		 rc;

	if (nmnts > 0)
		v = xcalloc(nmnts, sizeof(*v));
	for (int i = 0; i < nmnts; i++) {
		v[i].ml_hostname = mnts[i].host;
		v[i].ml_directory = mnts[i].path;
		v[i].ml_next = i + 1 < nmnts ? &v[i + 1] : NULL;
	}
	head = nmnts > 0 ? &v[0] : NULL;
	rc = rpc_send_reply(rpc, call, &head, (zdrproc_t)zdr_mountlist,
	    nmnts * (PATH_MAX + 80) + 64);
	free(v);
	return rc;
}

static int
mnt_export_cb(struct rpc_context *rpc, struct rpc_msg *call)
{
	const struct nfs_exptab	*t = nfs_exptab_rdlock();
	exportnode		*ev = NULL;
	groupnode		*gv = NULL;
	exports			 head = NULL;
	int			 ng = 0, gi = 0, rc;
	size_t			 hint = 64;

	for (int i = 0; i < t->n; i++)
		ng += t->v[i].nclients;
	if (t->n > 0)
		ev = xcalloc(t->n, sizeof(*ev));
	if (ng > 0)
		gv = xcalloc(ng, sizeof(*gv));
	for (int i = 0; i < t->n; i++) {
		const struct nfs_export *e = &t->v[i];

		ev[i].ex_dir = (char *)(uintptr_t)e->path;
		ev[i].ex_next = i + 1 < t->n ? &ev[i + 1] : NULL;
		ev[i].ex_groups = e->nclients > 0 ? &gv[gi] : NULL;
		for (int j = 0; j < e->nclients; j++, gi++) {
			gv[gi].gr_name = (char *)(uintptr_t)e->clients[j].text;
			gv[gi].gr_next = j + 1 < e->nclients ? &gv[gi + 1] :
			    NULL;
			hint += strlen(e->clients[j].text) + 12;
		}
		hint += strlen(e->path) + 16;
	}
	head = t->n > 0 ? &ev[0] : NULL;
	rc = rpc_send_reply(rpc, call, &head, (zdrproc_t)zdr_exports,
	    (int)hint);
	nfs_exptab_unlock();
	free(ev);
	free(gv);
	return rc;
}

struct service_proc nfs_mnt_procs[] = {
	{ MOUNT3_NULL, mnt_null_cb, dec_void, 0 },
	{ MOUNT3_MNT, mnt_mnt_cb, dec_dirpath, sizeof(dirpath) },
	{ MOUNT3_DUMP, mnt_dump_cb, dec_void, 0 },
	{ MOUNT3_UMNT, mnt_umnt_cb, dec_dirpath, sizeof(dirpath) },
	{ MOUNT3_UMNTALL, mnt_umntall_cb, dec_void, 0 },
	{ MOUNT3_EXPORT, mnt_export_cb, dec_void, 0 },
};
int nfs_mnt_nprocs = nitems(nfs_mnt_procs);

void
nfs_mnt_forget(void)
{
	free(mnts);
	mnts = NULL;
	nmnts = 0;
}

int
nfs_mnt_count(void)
{
	return nmnts;
}

void
nfs_mnt_list_text(struct buf *b, uint32_t expid)
{
	for (int i = 0; i < nmnts; i++)
		if (mnts[i].expid == expid)
			buf_printf(b, "    mounted by %s (%s)\n", mnts[i].host,
			    mnts[i].path);
}

void
nfs_mnt_list_json(struct buf *b, uint32_t expid)
{
	int n = 0;

	buf_printf(b, "[");
	for (int i = 0; i < nmnts; i++) {
		if (mnts[i].expid != expid)
			continue;
		buf_printf(b, "%s{\"client\":", n++ ? "," : "");
		buf_add_json_str(b, mnts[i].host);
		buf_printf(b, ",\"path\":");
		buf_add_json_str(b, mnts[i].path);
		buf_printf(b, "}");
	}
	buf_printf(b, "]");
}

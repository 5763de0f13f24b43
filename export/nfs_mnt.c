/*
 * nfs_mnt.c — MOUNT v3: MNT, UMNT, UMNTALL, EXPORT, DUMP (and NULL).
 *
 * Runs on the NFS worker threads (nfs_mnt_call), like NFS calls; the
 * mount list has its own mutex.  MNT accepts an export path
 * or a directory below it (resolved with RESOLVE_BENEATH, so ".." and
 * symlinks cannot leave the export), checks the client against the
 * export's client list (MNT3ERR_ACCES if it is not there, or if the
 * export is disabled because the peer head serves it, or offline), asks
 * the HA gate (no reply at all when it says no) and records the
 * mount for DUMP and `duonas exports`: one entry per (client address,
 * export) however the path was spelt, at most MNT_MAX.  The mount list
 * is advisory, as in every NFSv3 server: handles work without a MNT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "export/nfs_int.h"

/* One entry per (client address, export), whatever path spelling or
 * subdirectory the client mounted; at most MNT_MAX, the oldest entry
 * makes room for a new one (the list is advisory). */
#define MNT_MAX		4096
struct mnt_ent {
	char		host[64];
	uint32_t	expid;
};

static struct log_ratelim rl_refused;
static struct mnt_ent	*mnts;
static int		 nmnts;
static pthread_mutex_t	 mnt_mtx = PTHREAD_MUTEX_INITIALIZER;

static void
peer_host(const struct nfs_req *r, char *host, size_t n)
{
	nfs_addr_text((const struct sockaddr *)&r->peer, host, n);
}

/*
 * Normalise a client's path lexically: no repeated '/', no "."
 * components, no trailing '/'.  ".." is kept: below an export it is
 * resolved with RESOLVE_BENEATH, and a path that climbs out of an
 * export's prefix then matches no export.  0, or -1 when the path is
 * not absolute or too long.
 */
static int
mnt_normalize(const char *in, char *out, size_t outlen)
{
	size_t	o = 0, len;
	const char *p = in, *q;

	if (*p != '/')
		return -1;
	while (*p != 0) {
		while (*p == '/')
			p++;
		if (*p == 0)
			break;
		for (q = p; *q != 0 && *q != '/'; q++)
			;
		len = (size_t)(q - p);
		if (!(len == 1 && p[0] == '.')) {
			if (o + 1 + len + 1 > outlen)
				return -1;
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		p = q;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

/* Find the export holding path (normalised); *rel gets the part below
 * it. */
static const struct nfs_export *
mnt_find(const struct nfs_exptab *t, const char *path, const char **rel)
{
	const struct nfs_export	*best = NULL;
	size_t			 bl = 0;

	for (int i = 0; i < t->n; i++) {
		const struct nfs_export	*e = &t->v[i];
		size_t			 l = strlen(e->path);

		while (l > 1 && e->path[l - 1] == '/')
			l--;
		if (l == 1 && e->path[0] == '/')
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
mnt_record(const char *host, uint32_t expid)
{
	pthread_mutex_lock(&mnt_mtx);
	for (int i = 0; i < nmnts; i++) {
		if (mnts[i].expid == expid && strcmp(mnts[i].host, host) == 0) {
			pthread_mutex_unlock(&mnt_mtx);
			return;
		}
	}
	if (mnts == NULL)
		mnts = xcalloc(MNT_MAX, sizeof(*mnts));
	if (nmnts == MNT_MAX) {		/* the oldest makes room */
		memmove(mnts, mnts + 1, (MNT_MAX - 1) * sizeof(*mnts));
		nmnts--;
	}
	snprintf(mnts[nmnts].host, sizeof(mnts[nmnts].host), "%s", host);
	mnts[nmnts].expid = expid;
	nmnts++;
	pthread_mutex_unlock(&mnt_mtx);
}

static void
mnt_mnt(struct nfs_req *r, const char *path)
{
	const char		*rel = "";
	const struct nfs_exptab	*t;
	const struct nfs_export	*e;
	const struct nfs_client	*cl;
	struct sockaddr_storage	 ss;
	struct open_how		 how;
	mountres3		 res;
	uint8_t			 fh[NFS3_FHSIZE];
	uint32_t		 fhlen;
	int			 flavors[2], nfl = 0, fd = -1, rc;
	char			 host[64], norm[MNTPATHLEN + 2], more[64];

	memset(&res, 0, sizeof(res));
	peer_host(r, host, sizeof(host));
	ss = r->peer;
	t = nfs_exptab_rdlock();
	if (strlen(path) > MNTPATHLEN) {
		res.fhs_status = MNT3ERR_NAMETOOLONG;
		goto out;
	}
	if (mnt_normalize(path, norm, sizeof(norm)) < 0 ||
	    (e = mnt_find(t, norm, &rel)) == NULL) {
		res.fhs_status = MNT3ERR_NOENT;
		goto out;
	}
	cl = nfs_export_client(e, (struct sockaddr *)&ss);
	if (cl == NULL || !nfs_export_enabled(e->id) || e->fd < 0) {
		/* a client may ask again and again: not a line each time */
		if (log_ratelim_ok(&rl_refused, more, sizeof(more)))
			log_info("nfs: mount of %s refused for %s%s%s",
			    e->path, host, cl == NULL ? "" : e->fd < 0 ?
			    " (export offline)" : " (export disabled)", more);
		res.fhs_status = MNT3ERR_ACCES;
		goto out;
	}
	if (!nfs_export_gate(e->id)) {
		/* fenced by the HA controller: no reply, the client
		 * retries and finds the head that serves it */
		log_debug("nfs: mount of %s by %s dropped (gate)", path, host);
		nfs_exptab_unlock();
		nfs_svc_count_drop();
		return;
	}
	if (cl->flags & NFS_EXP_SECURE) {
		uint16_t port = ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);

		if (port >= 1024) {
			/* refused at the RPC level, like NFS calls */
			nfs_exptab_unlock();
			nfs_req_autherr(r, NFS_AUTH_TOOWEAK);
			return;
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
		rc = nfs_fh_make(e, fd, "", AT_EMPTY_PATH, fh, &fhlen);
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
	mnt_record(host, e->id);
	log_debug("nfs: %s mounted %s", host, path);
out:
	/* everything res points to is on this stack: never hold the
	 * exports lock while a slow client makes us wait */
	nfs_exptab_unlock();
	nfs_req_reply(r, &res, (zdrproc_t)zdr_mountres3, 256);
}

static void
mnt_umnt(struct nfs_req *r, const char *path, int all)
{
	const struct nfs_exptab	*t;
	const struct nfs_export	*e = NULL;
	const char		*rel;
	char			 host[64], norm[MNTPATHLEN + 2];
	uint32_t		 expid = 0;

	peer_host(r, host, sizeof(host));
	if (!all) {
		t = nfs_exptab_rdlock();
		if (strlen(path) <= MNTPATHLEN &&
		    mnt_normalize(path, norm, sizeof(norm)) == 0 &&
		    (e = mnt_find(t, norm, &rel)) != NULL)
			expid = e->id;
		nfs_exptab_unlock();
	}
	if (all || e != NULL) {
		pthread_mutex_lock(&mnt_mtx);
		for (int i = 0; i < nmnts; ) {
			if (strcmp(mnts[i].host, host) == 0 &&
			    (all || mnts[i].expid == expid)) {
				memmove(mnts + i, mnts + i + 1,
				    (size_t)(nmnts - i - 1) * sizeof(*mnts));
				nmnts--;
			} else {
				i++;
			}
		}
		pthread_mutex_unlock(&mnt_mtx);
	}
	nfs_req_reply(r, NULL, NULL, 0);
}

static void
mnt_dump(struct nfs_req *r)
{
	const struct nfs_exptab	*t;
	const struct nfs_export	*e;
	struct mnt_ent		*copy = NULL;
	mountbody		*v = NULL;
	mountlist		 head = NULL;
	char			**paths = NULL;
	size_t			 hint = 64;
	int			 n;

	/* copies, so no lock is held while the reply is sent */
	pthread_mutex_lock(&mnt_mtx);
	n = nmnts;
	if (n > 0) {
		copy = xcalloc(n, sizeof(*copy));
		memcpy(copy, mnts, n * sizeof(*copy));
	}
	pthread_mutex_unlock(&mnt_mtx);
	if (n > 0) {
		v = xcalloc(n, sizeof(*v));
		paths = xcalloc(n, sizeof(*paths));
	}
	t = nfs_exptab_rdlock();
	for (int i = 0; i < n; i++) {
		e = nfs_export_find(t, copy[i].expid);
		paths[i] = e != NULL ? xstrdup(e->path) :
		    xasprintf("(export %u removed)", copy[i].expid);
		hint += strlen(paths[i]) + strlen(copy[i].host) + 24;
	}
	nfs_exptab_unlock();
	for (int i = 0; i < n; i++) {
		v[i].ml_hostname = copy[i].host;
		v[i].ml_directory = paths[i];
		v[i].ml_next = i + 1 < n ? &v[i + 1] : NULL;
	}
	head = n > 0 ? &v[0] : NULL;
	nfs_req_reply(r, &head, (zdrproc_t)zdr_mountlist, hint);
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(v);
	free(copy);
}

static void
mnt_export(struct nfs_req *r)
{
	const struct nfs_exptab	*t = nfs_exptab_rdlock();
	exportnode		*ev = NULL;
	groupnode		*gv = NULL;
	exports			 head = NULL;
	int			 ng = 0, gi = 0, n = t->n;
	size_t			 hint = 64;

	for (int i = 0; i < t->n; i++)
		ng += t->v[i].nclients;
	if (t->n > 0)
		ev = xcalloc(t->n, sizeof(*ev));
	if (ng > 0)
		gv = xcalloc(ng, sizeof(*gv));
	for (int i = 0; i < t->n; i++) {
		const struct nfs_export *e = &t->v[i];

		ev[i].ex_dir = xstrdup(e->path);
		ev[i].ex_next = i + 1 < t->n ? &ev[i + 1] : NULL;
		ev[i].ex_groups = e->nclients > 0 ? &gv[gi] : NULL;
		for (int j = 0; j < e->nclients; j++, gi++) {
			gv[gi].gr_name = xstrdup(e->clients[j].text);
			gv[gi].gr_next = j + 1 < e->nclients ? &gv[gi + 1] :
			    NULL;
			hint += strlen(e->clients[j].text) + 12;
		}
		hint += strlen(e->path) + 16;
	}
	head = t->n > 0 ? &ev[0] : NULL;
	nfs_exptab_unlock();	/* the strings are copies */
	nfs_req_reply(r, &head, (zdrproc_t)zdr_exports, hint);
	for (int i = 0; i < n; i++)
		free(ev[i].ex_dir);
	for (int i = 0; i < ng; i++)
		free(gv[i].gr_name);
	free(ev);
	free(gv);
}

void
nfs_mnt_call(struct nfs_req *r)
{
	ZDR	 z;
	char	*path = NULL;

	if (r->args_ok == NFS_ARGS_NUL) {
		/* a path with a NUL byte names something else in C */
		mountres3 res;

		memset(&res, 0, sizeof(res));
		res.fhs_status = MNT3ERR_INVAL;
		if (r->proc == MOUNT3_MNT)
			nfs_req_reply(r, &res, (zdrproc_t)zdr_mountres3, 16);
		else
			nfs_req_reply(r, NULL, NULL, 0);	/* UMNT: void */
		return;
	}
	zdrmem_create(&z, (char *)r->rec + r->argoff,
	    (uint32_t)(r->reclen - r->argoff), ZDR_DECODE);
	if ((r->proc == MOUNT3_MNT || r->proc == MOUNT3_UMNT) &&
	    (!zdr_dirpath(&z, &path) || path == NULL)) {
		nfs_req_garbage(r);	/* cannot happen: checked before */
		goto out;
	}
	switch (r->proc) {
	case MOUNT3_NULL:
		nfs_req_reply(r, NULL, NULL, 0);
		break;
	case MOUNT3_MNT:
		mnt_mnt(r, path);
		break;
	case MOUNT3_DUMP:
		mnt_dump(r);
		break;
	case MOUNT3_UMNT:
		mnt_umnt(r, path, 0);
		break;
	case MOUNT3_UMNTALL:
		mnt_umnt(r, NULL, 1);
		break;
	case MOUNT3_EXPORT:
		mnt_export(r);
		break;
	}
out:
	zdr_destroy(&z);
}

void
nfs_mnt_forget(void)
{
	pthread_mutex_lock(&mnt_mtx);
	free(mnts);
	mnts = NULL;
	nmnts = 0;
	pthread_mutex_unlock(&mnt_mtx);
}

int
nfs_mnt_count(void)
{
	int n;

	pthread_mutex_lock(&mnt_mtx);
	n = nmnts;
	pthread_mutex_unlock(&mnt_mtx);
	return n;
}

void
nfs_mnt_list_text(struct buf *b, uint32_t expid)
{
	pthread_mutex_lock(&mnt_mtx);
	for (int i = 0; i < nmnts; i++)
		if (mnts[i].expid == expid)
			buf_printf(b, "    mounted by %s\n", mnts[i].host);
	pthread_mutex_unlock(&mnt_mtx);
}

void
nfs_mnt_list_json(struct buf *b, uint32_t expid, const char *path)
{
	int n = 0;

	buf_printf(b, "[");
	pthread_mutex_lock(&mnt_mtx);
	for (int i = 0; i < nmnts; i++) {
		if (mnts[i].expid != expid)
			continue;
		buf_printf(b, "%s{\"client\":", n++ ? "," : "");
		buf_add_json_str(b, mnts[i].host);
		buf_printf(b, ",\"path\":");
		buf_add_json_str(b, path);
		buf_printf(b, "}");
	}
	pthread_mutex_unlock(&mnt_mtx);
	buf_printf(b, "]");
}

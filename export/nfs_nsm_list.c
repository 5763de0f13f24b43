/*
 * nfs_nsm_list.c — the stored form of NSM's monitored-client list (the
 * value of the PSO object nfs.nsm.clients, docs/nfs.md): a version byte,
 * a count, then per client its mon_name, its address, the address it
 * reached us at (17 bytes each: family 4 or 6, 16 address bytes), SM_MON's
 * my_name and my_prog/my_vers/my_proc.  Names are u16 length + bytes.
 * Pure: no PSO, no locks.
 */
#include <stdlib.h>
#include <string.h>

#include "export/nfs_nlm_int.h"

#define LIST_VERSION	1

void
nsm_list_encode(struct buf *b, const struct nsm_ent *v, int n)
{
	buf_add_u8(b, LIST_VERSION);
	buf_add_u32(b, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		buf_add_str(b, v[i].name);
		nlm_addr_put(b, (const struct sockaddr *)&v[i].peer);
		nlm_addr_put(b, (const struct sockaddr *)&v[i].local);
		buf_add_str(b, v[i].my_name);
		buf_add_u32(b, v[i].my_prog);
		buf_add_u32(b, v[i].my_vers);
		buf_add_u32(b, v[i].my_proc);
	}
}

int
nsm_list_decode(const void *p, size_t len, struct nsm_ent **vp, int *np)
{
	struct rd	 r;
	struct nsm_ent	*v;
	uint32_t	 n;

	*vp = NULL;
	*np = 0;
	if (len == 0)
		return 0;
	rd_init(&r, p, len);
	if (rd_u8(&r) != LIST_VERSION)
		return -1;
	n = rd_u32(&r);
	if (r.err || n > NSM_MAX)
		return -1;
	v = xcalloc(n > 0 ? n : 1, sizeof(*v));
	for (uint32_t i = 0; i < n; i++) {
		if (rd_str(&r, v[i].name, sizeof(v[i].name)) < 0 ||
		    nlm_addr_get(&r, &v[i].peer) < 0 ||
		    nlm_addr_get(&r, &v[i].local) < 0 ||
		    rd_str(&r, v[i].my_name, sizeof(v[i].my_name)) < 0) {
			r.err = 1;
			break;
		}
		v[i].my_prog = rd_u32(&r);
		v[i].my_vers = rd_u32(&r);
		v[i].my_proc = rd_u32(&r);
	}
	if (r.err) {
		free(v);
		return -1;
	}
	*vp = v;
	*np = (int)n;
	return 0;
}

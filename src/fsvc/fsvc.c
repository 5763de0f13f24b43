/*
 * fsvc.c — the registry of file services (fsvc.h) and the helpers that
 * fan one request out to all of them.
 *
 * A handful of services at most, registered once: a fixed array, no
 * locking (it is read-only once the daemon runs).  Bring-up walks it
 * forwards, teardown backwards.  The helpers do not stop at the first
 * failure: a service that cannot open an export or listen on an address
 * must not keep the others from serving it (or from letting it go).
 * What a failure means is the caller's to decide; this file decides
 * nothing and knows no protocol.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "fsvc/fsvc.h"

static const struct fsvc_ops	*svcs[FSVC_MAX];
static int			 nsvcs;

int
fsvc_register(const struct fsvc_ops *ops)
{
	if (ops->name == NULL || ops->export_attach == NULL ||
	    ops->export_detach == NULL || ops->export_enable == NULL ||
	    ops->set_gate == NULL || ops->listen_add == NULL ||
	    ops->listen_remove == NULL) {
		log_warnx("fsvc: service %s lacks a required operation",
		    ops->name != NULL ? ops->name : "(unnamed)");
		return -1;
	}
	for (int i = 0; i < nsvcs; i++)
		if (strcmp(svcs[i]->name, ops->name) == 0) {
			log_warnx("fsvc: service %s registered twice",
			    ops->name);
			return -1;
		}
	if (nsvcs == FSVC_MAX) {
		log_warnx("fsvc: service %s: already %d services", ops->name,
		    FSVC_MAX);
		return -1;
	}
	svcs[nsvcs++] = ops;
	return 0;
}

void
fsvc_unregister_all(void)
{
	memset(svcs, 0, sizeof(svcs));
	nsvcs = 0;
}

int
fsvc_count(void)
{
	return nsvcs;
}

/* One walk of fsvc_export_foreach: the ids reported so far. */
struct walk {
	fsvc_export_cb	 cb;
	void		*arg;
	uint32_t	*seen;
	int		 nseen;
};

static void
walk_cb(uint32_t id, const char *path, void *arg)
{
	struct walk *w = arg;

	for (int i = 0; i < w->nseen; i++)
		if (w->seen[i] == id)
			return;
	w->seen = xrealloc(w->seen, (size_t)(w->nseen + 1) *
	    sizeof(*w->seen));
	w->seen[w->nseen++] = id;
	w->cb(id, path, w->arg);
}

int
fsvc_export_foreach(fsvc_export_cb cb, void *arg)
{
	struct walk w = { cb, arg, NULL, 0 };

	for (int i = 0; i < nsvcs; i++)
		if (svcs[i]->export_foreach != NULL)
			svcs[i]->export_foreach(walk_cb, &w);
	free(w.seen);
	return w.nseen;
}

int
fsvc_export_attach(uint32_t id)
{
	int rv = 0;

	for (int i = 0; i < nsvcs; i++)
		if (svcs[i]->export_attach(id) < 0)
			rv = -1;
	return rv;
}

void
fsvc_export_detach(uint32_t id)
{
	for (int i = nsvcs - 1; i >= 0; i--)
		svcs[i]->export_detach(id);
}

int
fsvc_export_enable(uint32_t id, int on)
{
	int rv = 0;

	if (on) {
		for (int i = 0; i < nsvcs; i++)
			if (svcs[i]->export_enable(id, 1) < 0)
				rv = -1;
	} else {
		for (int i = nsvcs - 1; i >= 0; i--)
			if (svcs[i]->export_enable(id, 0) < 0)
				rv = -1;
	}
	return rv;
}

void
fsvc_set_gate(fsvc_gate_fn fn, void *arg)
{
	if (fn != NULL) {
		for (int i = 0; i < nsvcs; i++)
			svcs[i]->set_gate(fn, arg);
	} else {
		for (int i = nsvcs - 1; i >= 0; i--)
			svcs[i]->set_gate(NULL, NULL);
	}
}

void
fsvc_set_ioerr(fsvc_ioerr_fn fn, void *arg)
{
	for (int i = 0; i < nsvcs; i++)
		if (svcs[i]->set_ioerr != NULL)
			svcs[i]->set_ioerr(fn, arg);
}

void
fsvc_set_conn_hook(fsvc_conn_fn fn, void *arg)
{
	for (int i = 0; i < nsvcs; i++)
		if (svcs[i]->set_conn_hook != NULL)
			svcs[i]->set_conn_hook(fn, arg);
}

int
fsvc_listen_add(const char *addr, const char **failed)
{
	int rv = 0;

	if (failed != NULL)
		*failed = NULL;
	for (int i = 0; i < nsvcs; i++) {
		if (svcs[i]->listen_add(addr) == 0)
			continue;
		if (rv == 0 && failed != NULL)
			*failed = svcs[i]->name;
		rv = -1;
	}
	return rv;
}

int
fsvc_listen_remove(const char *addr)
{
	int rv = 0;

	for (int i = nsvcs - 1; i >= 0; i--)
		if (svcs[i]->listen_remove(addr) < 0)
			rv = -1;
	return rv;
}

void
fsvc_status(struct buf *out, int json)
{
	for (int i = 0; i < nsvcs; i++)
		if (svcs[i]->status != NULL)
			svcs[i]->status(out, json);
}

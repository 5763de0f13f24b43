/*
 * fsvc.h — the file services a head runs (NFS now; SMB over the FUSE
 * export layer next), as the HA controller and the rest of the daemon
 * see them: one table of operations per service, registered once at
 * start-up, and helpers that call every registered service.
 *
 * The controller names no protocol: it brings an export or a service
 * address up and down through the helpers below.  A helper that brings
 * something UP calls the services in registration order; one that takes
 * something DOWN calls them in the reverse order, so the first service
 * registered is the first to serve and the last to stop (teardown is
 * the mirror of setup).  The order of the steps themselves (gate before
 * detach, addresses last on the way up and first on the way down) is the
 * controller's (docs/services.md).
 *
 * Exports are the cluster's one exports table: an export id means the
 * same export to every service.  A service that does not carry an export
 * (an NFS-only export, seen by SMB) answers 0 and does nothing for it.
 *
 * Threading: register on the loop thread during start-up, before the
 * first helper call; the table is read-only afterwards, so each helper
 * may run on whatever thread every service's operation allows (see the
 * operations' comments).
 */
#ifndef DUONAS_FSVC_H
#define DUONAS_FSVC_H

#include <stdint.h>

struct buf;
struct sockaddr;

#define FSVC_MAX	4

/* May export_id be served right now?  0 drops the request.  Called by
 * the services' worker threads: cheap, thread-safe, calls no service. */
typedef int	(*fsvc_gate_fn)(uint32_t export_id, void *arg);
typedef void	(*fsvc_export_cb)(uint32_t export_id, const char *path,
		    void *arg);
/* A write or sync of a client's data on export_id failed with err (EIO):
 * fd is the file it failed on, what names the call ("NFS WRITE").  Called
 * by the services' worker threads at once, before they answer; must not
 * block or call the service. */
typedef void	(*fsvc_ioerr_fn)(uint32_t export_id, int fd, int err,
		    const char *what, void *arg);
/* A client connection to a local address came (up 1) or went (up 0). */
typedef void	(*fsvc_conn_fn)(int up, const struct sockaddr *local,
		    const struct sockaddr *remote, void *arg);

struct fsvc_ops {
	/* for log lines: "NFS", "SMB" */
	const char	*name;
	/*
	 * Optional.  Call cb once per export the service carries, with its
	 * id and path; cb must not call the service.  Returns the count.
	 */
	int	(*export_foreach)(fsvc_export_cb cb, void *arg);
	/* Open export id (its LUN was just mounted): 0, or -1 logged. */
	int	(*export_attach)(uint32_t id);
	/* Close export id so its LUN can be unmounted; blocks until no
	 * request on it is running any more. */
	void	(*export_detach)(uint32_t id);
	/* Let clients reach export id (1) or refuse them (0): 0 or -1. */
	int	(*export_enable)(uint32_t id, int on);
	/* Install the fencing gate (NULL: remove it); waits for requests
	 * in flight, like export_detach. */
	void	(*set_gate)(fsvc_gate_fn fn, void *arg);
	/* Optional.  Install the data-path write error report (NULL:
	 * remove it); set before the first export is attached. */
	void	(*set_ioerr)(fsvc_ioerr_fn fn, void *arg);
	/* Optional.  Report client connections (tickle ACK lists). */
	void	(*set_conn_hook)(fsvc_conn_fn fn, void *arg);
	/* Listen on / stop listening on a service address (text, no port);
	 * removing also closes the connections accepted on it.  0 or -1. */
	int	(*listen_add)(const char *addr);
	int	(*listen_remove)(const char *addr);
	/* Optional.  Append the `duonas status` part: text lines, or JSON
	 * members each starting with a comma. */
	void	(*status)(struct buf *out, int json);
};

/*
 * Add a service; ops must outlive the process (a static table).  -1 with
 * a log line if a required operation is missing, the name is already
 * registered, or FSVC_MAX services are.
 */
int	fsvc_register(const struct fsvc_ops *ops);
/* Forget every service (unit tests). */
void	fsvc_unregister_all(void);
int	fsvc_count(void);

/*
 * The helpers.  Each calls every registered service, also after one
 * failed; those returning int return -1 if any service failed, else 0.
 * With no service registered they do nothing and succeed.
 */
/* Registration order; each export id once, as the first service listing
 * it reports it.  Returns the number of distinct ids. */
int	fsvc_export_foreach(fsvc_export_cb cb, void *arg);
int	fsvc_export_attach(uint32_t id);		/* in order */
void	fsvc_export_detach(uint32_t id);		/* reverse */
int	fsvc_export_enable(uint32_t id, int on);	/* on: in order,
							 * off: reverse */
void	fsvc_set_gate(fsvc_gate_fn fn, void *arg);	/* set: in order,
							 * NULL: reverse */
void	fsvc_set_ioerr(fsvc_ioerr_fn fn, void *arg);	/* in order */
void	fsvc_set_conn_hook(fsvc_conn_fn fn, void *arg);	/* in order */
/* In order; *failed (if not NULL) names the first service that failed. */
int	fsvc_listen_add(const char *addr, const char **failed);
int	fsvc_listen_remove(const char *addr);		/* reverse */
void	fsvc_status(struct buf *out, int json);		/* in order */

#endif

/*
 * http.h — the status and metrics listener of duonasd (the per-head
 * `http` keyword of duonas.conf; docs/metrics.md).
 *
 * GET /status answers the `duonas status --json` document, GET /metrics
 * the Prometheus text format.  It runs on the loop thread; there is no
 * authentication (loopback or a management network only).
 */
#ifndef DUONAS_HTTP_H
#define DUONAS_HTTP_H

#include "common/cfg.h"

/* Default when the head block has no `http` line: loopback only. */
#define HTTP_DEFAULT_ADDR	"127.0.0.1"
#define HTTP_DEFAULT_PORT	CFG_HTTP_PORT

/*
 * Listen where me->http says ("off": nothing; empty: the default).  Loop
 * thread, after loop_init().  0 also when the bind fails (logged: the
 * head serves without metrics); -1 when the address is not valid (a
 * configuration error, logged).
 */
int	http_init(const struct cfg_head *me);
/* Close the listener and every connection.  Safe without http_init(). */
void	http_shutdown(void);

#endif

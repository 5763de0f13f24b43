/*
 * http_int.h — internals of src/http/: the listener's settings and
 * request routing (http_req.c), the metrics page and the pieces of the
 * Prometheus text format (http_metrics.c, http_prom.c).
 */
#ifndef DUONAS_HTTP_INT_H
#define DUONAS_HTTP_INT_H

#include <stdint.h>

#include "common/util.h"

struct evhttp;

/* ---- requests (http_req.c, pure) -------------------------------------- */

/* What a request gets. */
enum http_page {
	HTTP_PAGE_STATUS,	/* GET or HEAD /status */
	HTTP_PAGE_METRICS,	/* GET or HEAD /metrics */
	HTTP_PAGE_NOTFOUND,	/* any other path (404) */
	HTTP_PAGE_METHOD	/* a known path, not GET or HEAD (405) */
};
/* The limits and methods of the listener: evhttp parses the request line
 * and the headers under them (timeout, header and body sizes). */
void	http_setup(struct evhttp *);
/* The page for a request evhttp parsed: cmd an enum evhttp_cmd_type,
 * path the URI's path (NULL: none).  Returns an enum http_page. */
int	http_route(int cmd, const char *path);

/* The whole /metrics page into out.  Loop thread. */
void	http_metrics_build(struct buf *out);

/* ---- the text format 0.0.4 (http_prom.c, pure) ---------------------- */

/* "# HELP name help\n# TYPE name type\n" (help escaped). */
void	http_prom_head(struct buf *, const char *name, const char *type,
	    const char *help);
/* A label value with \, " and newline escaped (no quotes added). */
void	http_prom_label_value(struct buf *, const char *v);
/*
 * One sample line: name, then labels given as "k1", "v1", "k2", "v2"
 * ... NULL (values escaped), then the value.  http_prom_sample_u for
 * integers, http_prom_sample_f for seconds and other fractions.
 */
void	http_prom_sample_u(struct buf *, const char *name, uint64_t v, ...);
void	http_prom_sample_f(struct buf *, const char *name, double v, ...);
/* A metric with one unlabeled sample: its HELP/TYPE lines and the sample
 * under the same name. */
void	http_prom_one_u(struct buf *, const char *name, const char *type,
	    const char *help, uint64_t v);
void	http_prom_one_f(struct buf *, const char *name, const char *type,
	    const char *help, double v);

#endif

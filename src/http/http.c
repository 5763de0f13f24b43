/*
 * http.c — the HTTP listener of duonasd: GET /status (the `duonas status
 * --json` document) and GET /metrics (Prometheus text, http_metrics.c).
 *
 * libevent's evhttp on the loop thread, so every page is built from the
 * modules' loop-thread state without locks or copies (evhttp's limits
 * and the routing of a request are http_req.c's).  Bounded: at most
 * HTTP_MAX_CONNS connections (the next one gets 503 and is closed),
 * small requests, idle connections closed after HTTP_TIMEOUT_S, pages
 * capped at HTTP_MAX_PAGE.  No authentication and no TLS: it is meant
 * for loopback (the default) or a management network, like
 * node_exporter.  The address is read at start; a new one needs a
 * restart.  A bind failure is logged and the head runs without it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"
#include "duonasd.h"
#include "http/http.h"
#include "http/http_int.h"

#define HTTP_MAX_CONNS		16
#define HTTP_MAX_PAGE		(8u << 20)

static struct {
	struct evhttp			*h;
	struct evhttp_bound_socket	*sock;
	struct evhttp_connection	*conns[HTTP_MAX_CONNS];
	char				 addr[96];
	uint64_t			 requests, refused, too_big;
} hs;

static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)arg;
	for (int i = 0; i < HTTP_MAX_CONNS; i++)
		if (hs.conns[i] == evcon)
			hs.conns[i] = NULL;
}

/* 0 when evcon is (now) one of the tracked connections, -1 when the
 * table is full. */
static int
conn_admit(struct evhttp_connection *evcon)
{
	int free_slot = -1;

	for (int i = 0; i < HTTP_MAX_CONNS; i++) {
		if (hs.conns[i] == evcon)
			return 0;
		if (hs.conns[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -1;
	hs.conns[free_slot] = evcon;
	evhttp_connection_set_closecb(evcon, conn_closed_cb, NULL);
	return 0;
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *eb = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (eb != NULL)
		evbuffer_add_printf(eb, "%s\n", text);
	evhttp_send_reply(req, code, reason, eb);
	if (eb != NULL)
		evbuffer_free(eb);
}

static void
m_http(struct buf *b)
{
	http_prom_head(b, "duonas_http_requests_total", "counter",
	    "Requests to this status and metrics listener.");
	http_prom_sample_u(b, "duonas_http_requests_total", hs.requests, NULL);
	http_prom_head(b, "duonas_http_connections_refused_total",
	    "counter", "Connections answered 503 because too many were open.");
	http_prom_sample_u(b, "duonas_http_connections_refused_total",
	    hs.refused, NULL);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer		*eb;
	struct buf		 b;
	int			 page, metrics;

	(void)arg;
	hs.requests++;
	if (conn_admit(evhttp_request_get_connection(req)) < 0) {
		hs.refused++;
		evhttp_add_header(oh, "Connection", "close");
		reply_text(req, 503, "Service Unavailable",
		    "too many connections");
		return;
	}
	page = http_route((int)cmd, path);
	if (page == HTTP_PAGE_NOTFOUND) {
		reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: try /status or /metrics");
		return;
	}
	if (page == HTTP_PAGE_METHOD) {
		evhttp_add_header(oh, "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "only GET and HEAD");
		return;
	}
	metrics = page == HTTP_PAGE_METRICS;
	buf_init(&b);
	if (metrics) {
		http_metrics_build(&b);
		m_http(&b);
	} else
		status_json(&b);
	if (b.len > HTTP_MAX_PAGE) {
		if (hs.too_big++ == 0)
			log_warnx("http: %s page of %zu bytes over the %u "
			    "limit", path, b.len, HTTP_MAX_PAGE);
		buf_free(&b);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error",
		    "page too large");
		return;
	}
	evhttp_add_header(oh, "Content-Type", metrics ?
	    "text/plain; version=0.0.4; charset=utf-8" : "application/json");
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if ((eb = evbuffer_new()) == NULL) {
		buf_free(&b);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory");
		return;
	}
	evbuffer_add(eb, b.data, b.len);
	buf_free(&b);
	/* for HEAD evhttp sends the headers (with Content-Length) only */
	evhttp_send_reply(req, HTTP_OK, "OK", eb);
	evbuffer_free(eb);
}

/* A listening socket for a: non-blocking, close-on-exec, an IPv6
 * address listens on IPv6 only.  fd, or -1 (errno set). */
static int
listen_on(const struct cfg_addr *a)
{
	int fd, on = 1, e;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, 16) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
http_init(const struct cfg_head *me)
{
	struct cfg_addr	a;
	char		def[64];
	const char	*s = me->http;
	int		fd;

	if (strcmp(s, "off") == 0) {
		log_info("http: status and metrics listener off");
		return 0;
	}
	if (s[0] == 0) {
		snprintf(def, sizeof(def), "%s:%d", HTTP_DEFAULT_ADDR,
		    HTTP_DEFAULT_PORT);
		s = def;
	}
	if (cfg_addr_parse(s, HTTP_DEFAULT_PORT, &a) < 0) {
		log_warnx("http '%s': not \"off\" or a numeric ADDRESS[:PORT]",
		    s);
		return -1;
	}
	snprintf(hs.addr, sizeof(hs.addr), "%s", s);
	if ((hs.h = evhttp_new(loop_base())) == NULL)
		fatalx("http: out of memory");
	http_setup(hs.h);
	evhttp_set_gencb(hs.h, request_cb, NULL);
	if ((fd = listen_on(&a)) < 0 ||
	    (hs.sock = evhttp_accept_socket_with_handle(hs.h, fd)) == NULL) {
		log_warn("http: cannot listen on %s (running without the "
		    "status and metrics listener)", s);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	log_info("http: status and metrics on http://%s/ (/status, "
	    "/metrics)", s);
	return 0;
}

void
http_shutdown(void)
{
	if (hs.h == NULL)
		return;
	/* evhttp_free closes the listener and every connection; their
	 * close callbacks clear the table */
	evhttp_free(hs.h);
	hs.h = NULL;
	hs.sock = NULL;
	memset(hs.conns, 0, sizeof(hs.conns));
}

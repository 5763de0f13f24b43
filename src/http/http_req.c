/*
 * http_req.c — what the listener accepts and where a request goes: the
 * limits libevent's evhttp parses the request line and headers under
 * (small headers, a tiny body, a timeout, every method let through so
 * that ours answer 405 rather than evhttp's 501), and the routing of a
 * parsed request to a page.  Pure, so tests/fuzz/fuzz_http_req.c runs
 * evhttp with exactly these settings; building the pages is http.c's.
 */
#include <string.h>

#include <event2/http.h>

#include "http/http_int.h"

#define HTTP_TIMEOUT_S		10
#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		1024

void
http_setup(struct evhttp *h)
{
	evhttp_set_timeout(h, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h, HTTP_MAX_BODY);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
}

int
http_route(int cmd, const char *path)
{
	if (path == NULL || (strcmp(path, "/status") != 0 &&
	    strcmp(path, "/metrics") != 0))
		return HTTP_PAGE_NOTFOUND;
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
		return HTTP_PAGE_METHOD;
	return strcmp(path, "/metrics") == 0 ? HTTP_PAGE_METRICS :
	    HTTP_PAGE_STATUS;
}

/*
 * fuzz_http_req.c — a request to the status and metrics listener: the
 * input is what a client sends on one connection (a request line,
 * headers, maybe a body, maybe several requests), read by libevent's
 * evhttp under the listener's own settings (http_setup()) and routed as
 * request_cb does (http_route()), answered with a small page.  The
 * connection is an abstract AF_UNIX socket (no network, no file), the
 * client writes the input, closes its side and reads until evhttp
 * closes the connection.
 *
 * Debian's libevent is not instrumented: libFuzzer's coverage is that of
 * our side only, and ASan sees libevent's bad frees and the leaks, not
 * its reads.  Aborts when evhttp hands the callback a request breaking
 * what request_cb relies on (no URI, a path that is not a C string of
 * its own, a method outside the allowed set), when a routing answer is
 * not one of enum http_page, or when a connection never ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http/http_int.h"
#include "tests/fuzz/fuzz.h"

#define ROUNDS		200	/* event loop rounds for one connection */

static struct event_base	*base;
static struct evhttp		*h;
static struct sockaddr_un	 sun;
static socklen_t		 sunlen;
static unsigned long		 nreq;

static void
request_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	*ih = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	const char		*path;
	struct evbuffer		*eb;
	int			 cmd = (int)evhttp_request_get_command(req);
	int			 page;

	(void)arg;
	nreq++;
	if (uri == NULL)
		abort();
	if ((cmd & (EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)) == 0)
		abort();
	path = evhttp_uri_get_path(uri);
	if (path != NULL)
		(void)strlen(path);
	/* headers as a handler may read them */
	if (ih != NULL)
		TAILQ_FOREACH(kv, ih, next)
			if (strlen(kv->key) + strlen(kv->value) > (1u << 20))
				abort();
	(void)evhttp_find_header(ih, "Host");
	page = http_route(cmd, path);
	if (page < HTTP_PAGE_STATUS || page > HTTP_PAGE_METHOD)
		abort();
	if ((eb = evbuffer_new()) == NULL)
		abort();
	evbuffer_add_printf(eb, "page %d\n", page);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, page == HTTP_PAGE_NOTFOUND ? 404 : page ==
	    HTTP_PAGE_METHOD ? 405 : 200, "x", eb);
	evbuffer_free(eb);
}

static void
setup(void)
{
	int fd;

	if ((base = event_base_new()) == NULL || (h = evhttp_new(base)) ==
	    NULL)
		abort();
	http_setup(h);
	evhttp_set_gencb(h, request_cb, NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* abstract: sun_path[0] is 0 */
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "duonas-fuzz-http-%ld", (long)getpid());
	sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sunlen) < 0 ||
	    listen(fd, 16) < 0 || evhttp_accept_socket(h, fd) < 0) {
		perror("fuzz_http_req: listener");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char	buf[4096];
	size_t	off = 0;
	ssize_t	k;
	int	fd, done = 0, rounds;

	if (base == NULL)
		setup();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sunlen) < 0)
		abort();
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		abort();
	for (rounds = 0; rounds < ROUNDS && !done; rounds++) {
		while (off < n && (k = send(fd, d + off, n - off,
		    MSG_NOSIGNAL)) > 0)
			off += (size_t)k;
		if (off == n)
			shutdown(fd, SHUT_WR);
		event_base_loop(base, EVLOOP_NONBLOCK);
		while ((k = read(fd, buf, sizeof(buf))) > 0)
			;
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			done = 1;	/* evhttp closed it */
	}
	if (!done) {
		fprintf(stderr, "fuzz_http_req: the connection did not end "
		    "after %d rounds (%zu of %zu bytes written, %lu requests "
		    "so far)\n", ROUNDS, off, n, nreq);
		abort();
	}
	close(fd);
	/* let evhttp see the close and free the connection */
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}

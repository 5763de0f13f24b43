/*
 * ctl_client.c — the CLI side of the admin socket: one connection per
 * command, argv out, exit code and text back.  Output of a successful
 * command goes to stdout, of a failed one to stderr, so scripts can
 * capture values with $(duonas pso get NAME).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"

static int	client_tmo_ms;	/* 0: no limit */

void
ctl_client_timeout(int ms)
{
	client_tmo_ms = ms > 0 ? ms : 0;
}

int
ctl_client_call(const char *path, int argc, char **argv, struct buf *out,
    int quiet)
{
	struct sockaddr_un	 sun;
	struct buf		 req;
	uint8_t			 hdr[5], *rep = NULL;
	uint32_t		 len;
	uint64_t		 deadline = 0;
	int			 fd, rc = CTL_EX_UNAVAIL;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "duonas: socket path %s too long\n", path);
		return CTL_EX_USAGE;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (client_tmo_ms > 0)
		deadline = now_ms() + (uint64_t)client_tmo_ms;
	/* with a time limit the socket does not block: a daemon that is
	 * stopped (SIGSTOP) or hung still accepts into its backlog, and
	 * then never reads or answers */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (deadline ? SOCK_NONBLOCK : 0), 0)) < 0 ||
	    (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    !(deadline && (errno == EINPROGRESS || errno == EAGAIN)))) {
		if (!quiet)
			fprintf(stderr, "duonas: cannot reach duonasd at %s: "
			    "%s\n  (is the daemon running on this head? use -s "
			    "SOCKET, -c CONF or -n HEAD)\n", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return CTL_EX_UNAVAIL;
	}
	buf_init(&req);
	buf_add_u32(&req, 0);
	for (int i = 0; i < argc; i++)
		buf_add(&req, argv[i], strlen(argv[i]) + 1);
	put_be32(req.data, (uint32_t)(req.len - 4));
	if (fd_io_until(fd, req.data, req.len, 1, deadline) < 0 ||
	    fd_io_until(fd, hdr, 5, 0, deadline) < 0) {
		if (quiet)
			;
		else if (errno == ETIMEDOUT)
			fprintf(stderr, "duonas: duonasd at %s did not answer "
			    "within %d ms (stopped or hung? the peer's duonas "
			    "status tells what it sees)\n", path,
			    client_tmo_ms);
		else
			fprintf(stderr, "duonas: lost connection to duonasd at "
			    "%s\n", path);
		goto out;
	}
	len = get_be32(hdr);
	if (len == 0 || len > (64u << 20)) {
		fprintf(stderr, "duonas: malformed reply from duonasd\n");
		goto out;
	}
	rep = xmalloc(len);
	if (len > 1 && fd_io_until(fd, rep, len - 1, 0, deadline) < 0) {
		if (!quiet)
			fprintf(stderr, "duonas: %s reply from duonasd\n",
			    errno == ETIMEDOUT ? "timed out in the" :
			    "truncated");
		goto out;
	}
	rc = hdr[4];
	buf_add(out, rep, len - 1);
out:
	free(rep);
	buf_free(&req);
	close(fd);
	return rc;
}

int
ctl_client_run(const char *path, int argc, char **argv)
{
	struct buf	out;
	int		rc;

	buf_init(&out);
	rc = ctl_client_call(path, argc, argv, &out, 0);
	if (out.len > 0)
		fwrite(out.data, 1, out.len, rc == 0 ? stdout : stderr);
	buf_free(&out);
	return rc;
}

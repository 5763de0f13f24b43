/*
 * fuzz_ctl_req.c — an admin protocol request body as the daemon's
 * control socket reads it (src/ctl/ctl.c): cut into words, looked up
 * and dispatched (no handler is registered here, so the command table,
 * --forward and --json handling run, then "not available"), and the
 * suggestions for an unknown command.
 */
#include "src/ctl/ctl.h"
#include "src/ctl/ctl_int.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char		*argv[CTL_MAX_ARGS];
	char		 sug[8][CTL_NAME_MAX];
	char		*req;
	struct buf	 out;
	int		 argc;

	if (n > 65536)
		return 0;
	if ((req = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(req, d, n);
	buf_init(&out);
	argc = ctl_req_split(req, (uint32_t)n, argv, &out);
	buf_free(&out);
	if (argc >= 0) {
		(void)ctl_cmd_suggest(argc, argv, NULL, sug, 8);
		(void)ctl_dispatch(argc, argv, &out);
		buf_free(&out);
	}
	free(req);
	return 0;
}

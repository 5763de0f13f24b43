/*
 * wdog_sim — a stand-in for a hardware watchdog device, for tests on
 * machines without one (no /dev/watchdog, no CUSE).
 *
 * usage: wdog_sim FIFO TIMEOUT_MS MAX_S
 *
 * Creates FIFO (a named pipe duonasd opens as its watchdog device: the
 * timeout ioctl fails there, so the daemon's pets are plain writes, as
 * with a real device) and reads pets from it.  Like a real device:
 *   - armed by the first byte;
 *   - "fires" when no byte arrived for TIMEOUT_MS after the last one,
 *     also when the writer closed without the magic 'V' (a crash);
 *   - disarmed by a 'V' as the last byte before the writer closes.
 * Prints key=value lines on stdout: "armed=1", then at the end either
 * "fired=1 gap_ms=N pets=N" (exit 3), "disarmed=1 pets=N" (exit 0), or
 * "timeout=1 pets=N" when MAX_S seconds passed with neither (exit 2).
 * Every wait is bounded by MAX_S.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	long long	 start, last = 0, deadline, now;
	long		 timeout_ms, max_s, pets = 0;
	int		 fd, armed = 0, closed = 0, last_v = 0;
	char		 buf[256], *end;

	if (argc != 4) {
		fprintf(stderr, "usage: wdog_sim FIFO TIMEOUT_MS MAX_S\n");
		return 64;
	}
	timeout_ms = strtol(argv[2], &end, 10);
	if (*end || timeout_ms <= 0) {
		fprintf(stderr, "wdog_sim: TIMEOUT_MS '%s'\n", argv[2]);
		return 64;
	}
	max_s = strtol(argv[3], &end, 10);
	if (*end || max_s <= 0) {
		fprintf(stderr, "wdog_sim: MAX_S '%s'\n", argv[3]);
		return 64;
	}
	if (mkfifo(argv[1], 0600) < 0 && errno != EEXIST) {
		fprintf(stderr, "wdog_sim: mkfifo %s: %m\n", argv[1]);
		return 1;
	}
	/* Non-blocking open: no writer yet.  Until one opens, poll reports
	 * nothing (no POLLHUP before the first writer). */
	if ((fd = open(argv[1], O_RDONLY | O_NONBLOCK)) < 0) {
		fprintf(stderr, "wdog_sim: open %s: %m\n", argv[1]);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = now_ms();
	deadline = start + max_s * 1000;
	for (;;) {
		struct pollfd	pfd = { fd, POLLIN, 0 };
		long long	wait;
		ssize_t		n;

		now = now_ms();
		if (armed && now - last >= timeout_ms) {
			printf("fired=1 gap_ms=%lld pets=%ld\n", now - last,
			    pets);
			return 3;
		}
		if (now >= deadline) {
			printf("timeout=1 pets=%ld\n", pets);
			return 2;
		}
		wait = deadline - now;
		if (armed && last + timeout_ms - now < wait)
			wait = last + timeout_ms - now;
		if (closed) {
			/* no writer any more: only the timer runs */
			usleep((useconds_t)(wait > 50 ? 50 : wait) * 1000);
			continue;
		}
		if (poll(&pfd, 1, (int)(wait > 50 ? 50 : wait)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "wdog_sim: poll: %m\n");
			return 1;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (!armed)
				printf("armed=1\n");
			armed = 1;
			pets += n;
			last = now_ms();
			last_v = buf[n - 1] == 'V';
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			continue;
		/* EOF: the writer closed */
		if (armed && last_v) {
			printf("disarmed=1 pets=%ld\n", pets);
			return 0;
		}
		closed = 1;
	}
}

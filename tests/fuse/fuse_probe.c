/*
 * fuse_probe.c — small system-call probes for tests/fuse/fuse_posix.sh,
 * for what the shell tools cannot do: renameat2 flags and fcntl byte
 * range locks.  Prints "ok" (exit 0) or the errno's name (exit 1).
 *
 *   fuse_probe noreplace OLD NEW
 *   fuse_probe exchange A B
 *   fuse_probe lock FILE START LEN r|w SECONDS [closeother]
 *	take the lock, print "locked", hold it SECONDS; closeother: then
 *	open and close the file once more (POSIX: that drops the lock)
 *   fuse_probe trylock FILE START LEN r|w	F_SETLK
 *   fuse_probe getlk FILE START LEN r|w	prints unlck or TYPE START LEN
 *   fuse_probe waitlock FILE START LEN r|w SECONDS
 *	F_SETLKW, interrupted by SIGALRM after SECONDS: ok or EINTR
 *   fuse_probe ofd FILE
 *	open file description locks (Samba's kind): A write-locks bytes
 *	0-7 through one open file, B (another open file of the same
 *	process) is refused, dup'd copy of A closed: still refused, A
 *	closed: B gets it (within 1 s: the release reaches the file system
 *	after close returned).  Prints "ok" or what went wrong
 *   fuse_probe setx FILE NAME VALUE | getx FILE NAME | listx FILE |
 *	rmx FILE NAME		extended attributes (listx: one per line)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static int
fail(void)
{
	const char	*n = strerrorname_np(errno);

	printf("%s\n", n != NULL ? n : "E?");
	return 1;
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static int
mkflock(char **a, struct flock *l)
{
	memset(l, 0, sizeof(*l));
	l->l_whence = SEEK_SET;
	l->l_start = strtoll(a[0], NULL, 10);
	l->l_len = strtoll(a[1], NULL, 10);
	if (strcmp(a[2], "r") == 0)
		l->l_type = F_RDLCK;
	else if (strcmp(a[2], "w") == 0)
		l->l_type = F_WRLCK;
	else
		return -1;
	return 0;
}

static int
ofd_try(int fd)
{
	struct flock	l;

	memset(&l, 0, sizeof(l));
	l.l_type = F_WRLCK;
	l.l_whence = SEEK_SET;
	l.l_len = 8;
	return fcntl(fd, F_OFD_SETLK, &l) < 0 ? errno : 0;
}

static int
ofd(const char *path)
{
	int	a, a2, b, e;

	if ((a = open(path, O_RDWR)) < 0 || (b = open(path, O_RDWR)) < 0)
		return fail();
	if ((e = ofd_try(a)) != 0) {
		errno = e;
		return fail();
	}
	if ((e = ofd_try(b)) != EAGAIN) {
		printf("B not refused while A holds the lock (%s)\n",
		    e ? strerrorname_np(e) : "granted");
		return 1;
	}
	if ((a2 = dup(a)) < 0)
		return fail();
	close(a2);	/* a flush, but A's description stays open */
	if ((e = ofd_try(b)) != EAGAIN) {
		printf("B not refused after a copy of A was closed (%s)\n",
		    e ? strerrorname_np(e) : "granted");
		return 1;
	}
	close(a);	/* the last reference: the lock goes */
	/* the kernel sends FUSE's release after close(2) has returned, so
	 * give it up to a second */
	for (int i = 0; i < 100 && (e = ofd_try(b)) == EAGAIN; i++)
		usleep(10000);
	if (e != 0) {
		printf("B refused after A was closed (%s)\n",
		    strerrorname_np(e));
		return 1;
	}
	printf("ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct flock	l;
	int		fd;

	if (argc == 4 && strcmp(argv[1], "noreplace") == 0)
		return renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3],
		    RENAME_NOREPLACE) < 0 ? fail() : (printf("ok\n"), 0);
	if (argc == 4 && strcmp(argv[1], "exchange") == 0)
		return renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3],
		    RENAME_EXCHANGE) < 0 ? fail() : (printf("ok\n"), 0);
	if (argc == 5 && strcmp(argv[1], "setx") == 0)
		return setxattr(argv[2], argv[3], argv[4], strlen(argv[4]),
		    0) < 0 ? fail() : (printf("ok\n"), 0);
	if (argc == 4 && strcmp(argv[1], "rmx") == 0)
		return removexattr(argv[2], argv[3]) < 0 ? fail() :
		    (printf("ok\n"), 0);
	if (argc == 4 && strcmp(argv[1], "getx") == 0) {
		char	v[4096];
		ssize_t	n = getxattr(argv[2], argv[3], v, sizeof(v) - 1);

		if (n < 0)
			return fail();
		v[n] = '\0';
		printf("%s\n", v);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "listx") == 0) {
		char	v[65536];
		ssize_t	n = listxattr(argv[2], v, sizeof(v)), i;

		if (n < 0)
			return fail();
		for (i = 0; i < n; i += (ssize_t)strlen(v + i) + 1)
			printf("%s\n", v + i);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "ofd") == 0)
		return ofd(argv[2]);
	if (argc < 6 || mkflock(argv + 3, &l) < 0) {
		fprintf(stderr, "fuse_probe: bad arguments (see the source)\n");
		return 2;
	}
	if ((fd = open(argv[2], l.l_type == F_WRLCK ? O_RDWR : O_RDONLY)) < 0)
		return fail();
	if (strcmp(argv[1], "lock") == 0 && argc >= 7) {
		if (fcntl(fd, F_SETLK, &l) < 0)
			return fail();
		printf("locked\n");
		fflush(stdout);
		if (argc == 8 && strcmp(argv[7], "closeother") == 0) {
			int	fd2 = open(argv[2], O_RDONLY);

			if (fd2 >= 0)
				close(fd2);
		}
		sleep((unsigned)atoi(argv[6]));
		return 0;
	}
	if (strcmp(argv[1], "trylock") == 0)
		return fcntl(fd, F_SETLK, &l) < 0 ? fail() :
		    (printf("ok\n"), 0);
	if (strcmp(argv[1], "getlk") == 0) {
		if (fcntl(fd, F_GETLK, &l) < 0)
			return fail();
		if (l.l_type == F_UNLCK)
			printf("unlck\n");
		else
			printf("%s %lld %lld\n", l.l_type == F_WRLCK ? "wrlck" :
			    "rdlck", (long long)l.l_start, (long long)l.l_len);
		return 0;
	}
	if (strcmp(argv[1], "waitlock") == 0 && argc == 7) {
		struct sigaction	sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;	/* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		alarm((unsigned)atoi(argv[6]));
		return fcntl(fd, F_SETLKW, &l) < 0 ? fail() :
		    (printf("ok\n"), 0);
	}
	fprintf(stderr, "fuse_probe: unknown command %s\n", argv[1]);
	return 2;
}

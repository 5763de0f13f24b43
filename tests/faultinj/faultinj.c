/*
 * faultinj.c — syscall fault injection for tests (LD_PRELOAD shim), in
 * the spirit of SQLite's test_syscall: makes chosen write-side calls of
 * a real, unmodified program fail with a chosen errno, so a test can
 * show that the program never acknowledges what is not durable, never
 * half-applies a change and says clearly what went wrong.
 *
 * NAME
 *	libfaultinj.so — make write, sync, rename and creating-open calls fail
 *
 * SYNOPSIS
 *	LD_PRELOAD=BUILDDIR/tests/faultinj/libfaultinj.so \
 *	DUONAS_FAULTINJ='RULE[;RULE...]' \
 *	[DUONAS_FAULTINJ_CTL=FILE] [DUONAS_FAULTINJ_LOG=FILE] \
 *	[DUONAS_FAULTINJ_STATS=FILE] program ...
 *
 * RULES
 *	RULE is CALLS[:KEY=VALUE...].  CALLS is a comma-separated list of
 *	call names or "all":
 *	  write		write
 *	  pwrite	pwrite, pwrite64
 *	  writev	writev
 *	  pwritev	pwritev, pwritev64, pwritev2
 *	  fsync, fdatasync, sync_file_range, ftruncate, fallocate, msync
 *	  rename	rename, renameat, renameat2
 *	  open		open, open64, openat, openat64, creat (and the
 *			fortified __open_2 family) that create, truncate or
 *			open for writing; read-only opens never match
 *	KEYS:
 *	  path=SUB	only calls whose file path contains SUB (fd calls:
 *			the path of the fd from /proc/self/fd, cached while
 *			the fd names the same inode; rename: either name;
 *			open: the name as given; msync has no file, its
 *			"path" is "mapping ADDR")
 *	  nth=N		fail the N-th matching call (1-based) only
 *	  from=N	fail the N-th matching call and every one after it
 *	  prob=P	fail each matching call with probability P (0..1)
 *	  seed=S	seed of prob's generator (default 1, one per
 *			rule): the same sequence of matching calls fails
 *			the same calls (a daemon's sequence depends on
 *			timing)
 *	  count=K	inject at most K faults with this rule
 *	  errno=E	EIO (default), ENOSPC, EDQUOT, EROFS, EFBIG, EINTR,
 *			EACCES, EPERM or a number
 *	A rule with none of nth, from, prob only counts its matching calls
 *	(the stats file shows them): run once with "fsync:path=x" to learn
 *	how many fsyncs an operation does, then fail each in turn with nth.
 *	The first rule that decides to fail a call wins; every rule whose
 *	calls and path match counts the call.  Failing calls do nothing
 *	(the real call is not made) and return -1 with errno set.
 *
 * ENVIRONMENT
 *	DUONAS_FAULTINJ		rules armed from the start.
 *	DUONAS_FAULTINJ_CTL	control file: its rules are added to those of
 *				DUONAS_FAULTINJ.  It is looked at (one stat)
 *				at most every 20 ms by an intercepted call,
 *				and re-read when its mtime or size changes;
 *				its rules then start with fresh counters.
 *				Rules are separated by ';' or new lines, '#'
 *				starts a comment; an empty or absent file
 *				disarms it.  Write it with a rename (tmp file,
 *				then mv) so a reader never sees half a file.
 *	DUONAS_FAULTINJ_CHILDREN
 *				1: processes the armed one forks or runs
 *				inject too (their stats go to STATS.PID).
 *				By default only the process started with the
 *				shim, and what it exec()s under the same pid
 *				(duonas-boot -> duonasd), injects; the shim
 *				sets DUONAS_FAULTINJ_OWNER to its pid for
 *				that.
 *	DUONAS_FAULTINJ_LOG	append one line per injected fault (and each
 *				control-file load or syntax error) to FILE
 *				instead of standard error:
 *				  faultinj: pid 123: fsync(/x/y) -> EIO
 *				  (rule 1 "fsync:nth=2", call 2)
 *	DUONAS_FAULTINJ_STATS	rewritten (atomically) after each
 *				matched call, each control-file load and at
 *				exit (a test tool: a rule matching every
 *				write of a busy program costs a file
 *				rewrite per write):
 *				  injected TOTAL
 *				  loads L	(control-file loads so far: a
 *						script that armed it waits
 *						for L to grow)
 *				  rule N matched M injected I SPEC
 *
 * NOTES
 *	Only calls through the dynamic symbol table are seen: glibc's own
 *	internal calls (stdio's fflush, for example) are not.  LMDB's
 *	commit (duonas opens it without MDB_WRITEMAP) is pwrite/writev +
 *	fdatasync + pwrite of the meta page, all seen.  Thread-safe (one
 *	mutex around the rules, never held across a real call); a call
 *	from a signal handler that interrupted the shim on the same thread
 *	goes straight to the real call.  Built
 *	with -shared -fPIC by `make check`, without sanitizer flags: under
 *	an ASan binary set ASAN_OPTIONS=verify_asan_link_order=0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	C_WRITE, C_PWRITE, C_WRITEV, C_PWRITEV, C_FSYNC, C_FDATASYNC,
	C_SFR, C_FTRUNCATE, C_FALLOCATE, C_MSYNC, C_RENAME, C_OPEN, C_NCALLS
};
static const char *const call_name[C_NCALLS] = {
	"write", "pwrite", "writev", "pwritev", "fsync", "fdatasync",
	"sync_file_range", "ftruncate", "fallocate", "msync", "rename", "open"
};

#define MAX_RULES	32
#define SPEC_MAX	160
#define PATHSUB_MAX	128
#define FD_CACHE	4096

struct rule {
	unsigned	calls;		/* bit per C_* */
	char		path[PATHSUB_MAX];
	long		nth, from, count;
	double		prob;
	uint64_t	rng;
	int		err;
	long		matched, injected;
	char		spec[SPEC_MAX];
};

static pthread_mutex_t	mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule	rules[MAX_RULES];
static int		nenv, nrules;	/* env rules first, then the file's */
static long		total, loads;
static const char	*ctl_path, *log_path, *stats_path;
static struct timespec	ctl_mtime, ctl_next;
static off_t		ctl_size = -1;
static int		inited;
static int		disarmed;
static int		is_child;	/* injecting with ..._CHILDREN=1 */		/* a child process: never inject */
/* Set while this thread is inside the shim: a signal handler's write
 * (libevent's self-pipe) arriving then goes straight to the real call
 * instead of waiting for the mutex its own thread holds. */
static __thread int	busy;

/* fd -> path, filled lazily when a rule has path=; an entry is used
 * only while the fd still names the same inode (stdio opens and closes
 * through glibc's internal calls, which this shim never sees) */
static struct fdc {
	char	*path;
	dev_t	 dev;
	ino_t	 ino;
}			fd_path[FD_CACHE];

static ssize_t	(*r_write)(int, const void *, size_t);
static ssize_t	(*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t	(*r_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t	(*r_writev)(int, const struct iovec *, int);
static ssize_t	(*r_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t	(*r_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t	(*r_pwritev2)(int, const struct iovec *, int, off_t, int);
static int	(*r_fsync)(int);
static int	(*r_fdatasync)(int);
static int	(*r_sfr)(int, off64_t, off64_t, unsigned int);
static int	(*r_ftruncate)(int, off_t);
static int	(*r_ftruncate64)(int, off64_t);
static int	(*r_fallocate)(int, int, off_t, off_t);
static int	(*r_fallocate64)(int, int, off64_t, off64_t);
static int	(*r_msync)(void *, size_t, int);
static int	(*r_rename)(const char *, const char *);
static int	(*r_renameat)(int, const char *, int, const char *);
static int	(*r_renameat2)(int, const char *, int, const char *, unsigned);
static int	(*r_open)(const char *, int, ...);
static int	(*r_open64)(const char *, int, ...);
static int	(*r_openat)(int, const char *, int, ...);
static int	(*r_openat64)(int, const char *, int, ...);
static int	(*r_creat)(const char *, mode_t);
static int	(*r_open_2)(const char *, int);
static int	(*r_open64_2)(const char *, int);
static int	(*r_openat_2)(int, const char *, int);
static int	(*r_openat64_2)(int, const char *, int);
static int	(*r_close)(int);

#define SYM(v, n)	(*(void **)&(v) = dlsym(RTLD_NEXT, n))

static void
resolve(void)
{
	SYM(r_write, "write");
	SYM(r_pwrite, "pwrite");
	SYM(r_pwrite64, "pwrite64");
	SYM(r_writev, "writev");
	SYM(r_pwritev, "pwritev");
	SYM(r_pwritev64, "pwritev64");
	SYM(r_pwritev2, "pwritev2");
	SYM(r_fsync, "fsync");
	SYM(r_fdatasync, "fdatasync");
	SYM(r_sfr, "sync_file_range");
	SYM(r_ftruncate, "ftruncate");
	SYM(r_ftruncate64, "ftruncate64");
	SYM(r_fallocate, "fallocate");
	SYM(r_fallocate64, "fallocate64");
	SYM(r_msync, "msync");
	SYM(r_rename, "rename");
	SYM(r_renameat, "renameat");
	SYM(r_renameat2, "renameat2");
	SYM(r_open, "open");
	SYM(r_open64, "open64");
	SYM(r_openat, "openat");
	SYM(r_openat64, "openat64");
	SYM(r_creat, "creat");
	SYM(r_open_2, "__open_2");
	SYM(r_open64_2, "__open64_2");
	SYM(r_openat_2, "__openat_2");
	SYM(r_openat64_2, "__openat64_2");
	SYM(r_close, "close");
}

/* ---- output (never through an intercepted call) ---- */

static void
out_line(const char *s)
{
	int fd = 2, own = 0;

	if (log_path != NULL && (fd = r_open(log_path, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) >= 0)
		own = 1;
	else
		fd = 2;
	(void)!r_write(fd, s, strlen(s));
	if (own)
		r_close(fd);
}

static void
say(const char *fmt, ...)
{
	char	line[1024];
	int	n;
	va_list	ap;

	n = snprintf(line, sizeof(line), "faultinj: pid %d: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	out_line(line);
}

/* Called with mu held. */
static void
stats_write(void)
{
	char	tmp[PATH_MAX], buf[8192];
	size_t	n = 0;
	int	fd, i;

	if (stats_path == NULL)
		return;
	/* a child that matched nothing leaves no file behind */
	for (i = 0; is_child && i < nrules && rules[i].matched == 0; i++)
		;
	if (is_child && i == nrules)
		return;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "injected %ld\n"
	    "loads %ld\n", total, loads);
	for (i = 0; i < nrules && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "rule %d matched %ld injected %ld %s\n", i + 1,
		    rules[i].matched, rules[i].injected, rules[i].spec);
	if (n > sizeof(buf))
		n = sizeof(buf);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", stats_path, (int)getpid());
	if ((fd = r_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return;
	(void)!r_write(fd, buf, n);
	r_close(fd);
	r_rename(tmp, stats_path);
}

/* ---- rules ---- */

static const struct { const char *n; int e; } errnames[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EROFS", EROFS }, { "EFBIG", EFBIG }, { "EINTR", EINTR },
	{ "EACCES", EACCES }, { "EPERM", EPERM },
};

static const char *
errname(int e)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].e == e)
			return errnames[i].n;
	return "errno";
}

static int
parse_long(const char *v, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return errno == 0 && end != v && *end == 0 && *out >= 0 ? 0 : -1;
}

/* Parse one rule (NUL-terminated, trimmed) into r; -1 with *why set. */
static int
rule_parse(char *s, struct rule *r, const char **why)
{
	char	*tok, *save = NULL, *call, *csave = NULL, *v;
	long	 l;
	size_t	 i;
	int	 c, first = 1;

	memset(r, 0, sizeof(*r));
	snprintf(r->spec, sizeof(r->spec), "%s", s);
	r->err = EIO;
	r->rng = 1;
	for (tok = strtok_r(s, ":", &save); tok; tok = strtok_r(NULL, ":",
	    &save), first = 0) {
		if (first) {
			for (call = strtok_r(tok, ",", &csave); call;
			    call = strtok_r(NULL, ",", &csave)) {
				if (strcmp(call, "all") == 0) {
					r->calls = (1u << C_NCALLS) - 1;
					continue;
				}
				for (c = 0; c < C_NCALLS; c++)
					if (strcmp(call, call_name[c]) == 0)
						break;
				if (c == C_NCALLS) {
					*why = "unknown call name";
					return -1;
				}
				r->calls |= 1u << c;
			}
			continue;
		}
		if ((v = strchr(tok, '=')) == NULL) {
			*why = "expected KEY=VALUE";
			return -1;
		}
		*v++ = 0;
		if (strcmp(tok, "path") == 0) {
			if (strlen(v) >= sizeof(r->path)) {
				*why = "path too long";
				return -1;
			}
			strcpy(r->path, v);
		} else if (strcmp(tok, "errno") == 0) {
			for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]);
			    i++)
				if (strcmp(v, errnames[i].n) == 0)
					break;
			if (i < sizeof(errnames) / sizeof(errnames[0]))
				r->err = errnames[i].e;
			else if (parse_long(v, &l) == 0 && l > 0 && l < 4096)
				r->err = (int)l;
			else {
				*why = "bad errno";
				return -1;
			}
		} else if (strcmp(tok, "prob") == 0) {
			char *end;

			r->prob = strtod(v, &end);
			if (end == v || *end || r->prob < 0 || r->prob > 1) {
				*why = "prob must be 0..1";
				return -1;
			}
		} else if (strcmp(tok, "nth") == 0 || strcmp(tok, "from") == 0 ||
		    strcmp(tok, "count") == 0 || strcmp(tok, "seed") == 0) {
			if (parse_long(v, &l) < 0) {
				*why = "bad number";
				return -1;
			}
			if (tok[0] == 'n')
				r->nth = l;
			else if (tok[0] == 'f')
				r->from = l;
			else if (tok[0] == 'c')
				r->count = l;
			else
				r->rng = (uint64_t)l * 2 + 1;
		} else {
			*why = "unknown key";
			return -1;
		}
	}
	if (r->calls == 0) {
		*why = "no call names";
		return -1;
	}
	return 0;
}

/* Parse a rule list into rules[at..]; returns the new rule count. */
static int
rules_parse(char *text, int at, const char *src)
{
	char		*line, *save = NULL, *p, *e;
	const char	*why;

	for (line = strtok_r(text, ";\n", &save); line; line = strtok_r(NULL,
	    ";\n", &save)) {
		if ((p = strchr(line, '#')) != NULL)
			*p = 0;
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			*--e = 0;
		if (*line == 0)
			continue;
		if (at == MAX_RULES) {
			say("%s: more than %d rules, rest ignored", src,
			    MAX_RULES);
			break;
		}
		if (rule_parse(line, &rules[at], &why) < 0) {
			say("%s: rule \"%s\": %s (ignored)", src,
			    rules[at].spec, why);
			continue;
		}
		at++;
	}
	return at;
}

/* Has now passed *next?  Then *next = now + 20 ms. */
static int
due(const struct timespec *now, struct timespec *next)
{
	if (now->tv_sec < next->tv_sec || (now->tv_sec == next->tv_sec &&
	    now->tv_nsec < next->tv_nsec))
		return 0;
	*next = *now;
	next->tv_nsec += 20 * 1000000L;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000L;
	}
	return 1;
}

/* With mu held: re-read the control file when it changed. */
static void
ctl_check(void)
{
	struct timespec	now;
	struct stat	st;
	char		buf[4096];
	ssize_t		n;
	int		fd;

	if (ctl_path == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (!due(&now, &ctl_next))
		return;
	if (stat(ctl_path, &st) < 0) {
		st.st_size = -1;
		st.st_mtim.tv_sec = 0;
		st.st_mtim.tv_nsec = 0;
	}
	if (st.st_size == ctl_size && st.st_mtim.tv_sec == ctl_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == ctl_mtime.tv_nsec)
		return;
	ctl_size = st.st_size;
	ctl_mtime = st.st_mtim;
	nrules = nenv;
	n = 0;
	if (st.st_size >= 0 && (fd = r_open(ctl_path, O_RDONLY | O_CLOEXEC))
	    >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		r_close(fd);
		if (n < 0)
			n = 0;
	}
	buf[n] = 0;
	nrules = rules_parse(buf, nenv, ctl_path);
	loads++;
	say("control file %s: %d rule(s) armed", ctl_path, nrules - nenv);
	stats_write();
}

/* getenv over environ itself: a shell (bash) that defines its own getenv
 * answers from variables it has not set up when constructors run. */
extern char **environ;

static const char *
env_get(const char *name)
{
	size_t	n = strlen(name);
	char	**e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/*
 * In a child process: -1 to stay out, or 0 with DUONAS_FAULTINJ_CHILDREN=1
 * (stats_path becomes STATS.PID).
 */
static char	child_stats_buf[PATH_MAX];

static int
child_stats(void)
{
	const char *e = env_get("DUONAS_FAULTINJ_CHILDREN");

	if (e == NULL || strcmp(e, "1") != 0)
		return -1;
	if ((e = env_get("DUONAS_FAULTINJ_STATS")) != NULL) {
		snprintf(child_stats_buf, sizeof(child_stats_buf), "%s.%d", e,
		    (int)getpid());
		stats_path = child_stats_buf;
	}
	is_child = 1;
	return 0;
}

static void
init_locked(void)
{
	const char	*env;
	char		*copy;

	if (inited)
		return;
	inited = 1;
	resolve();
	/*
	 * Only the process started with the shim (or what it exec()s: same
	 * pid) injects: children it forks and runs (hooks, mkfs, mount)
	 * inherit LD_PRELOAD but stay out, and never overwrite its stats,
	 * unless DUONAS_FAULTINJ_CHILDREN=1 (then they inject too and
	 * write their stats to STATS.PID).
	 */
	if ((env = env_get("DUONAS_FAULTINJ_OWNER")) == NULL) {
		char pid[24];

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("DUONAS_FAULTINJ_OWNER", pid, 1);
	} else if (atoi(env) != (int)getpid() && child_stats() < 0) {
		disarmed = 1;
		return;
	}
	log_path = env_get("DUONAS_FAULTINJ_LOG");
	if (stats_path == NULL)
		stats_path = env_get("DUONAS_FAULTINJ_STATS");
	ctl_path = env_get("DUONAS_FAULTINJ_CTL");
	if ((env = env_get("DUONAS_FAULTINJ")) != NULL && (copy = strdup(env))
	    != NULL) {
		nenv = nrules = rules_parse(copy, 0, "DUONAS_FAULTINJ");
		free(copy);
	}
	stats_write();
}

/* A child forked while another thread held mu must not inherit it held;
 * a forked child (not exec'd) stays out like an exec'd one. */
static void fork_prepare(void) { pthread_mutex_lock(&mu); }
static void fork_parent(void) { pthread_mutex_unlock(&mu); }
static void
fork_child(void)
{
	if (child_stats() < 0) {
		disarmed = 1;
		nrules = nenv = 0;
		ctl_path = NULL;
		stats_path = NULL;
	}
	pthread_mutex_unlock(&mu);
}

__attribute__((constructor)) static void
faultinj_init(void)
{
	pthread_mutex_lock(&mu);
	init_locked();
	pthread_mutex_unlock(&mu);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void
faultinj_fini(void)
{
	if (disarmed)
		return;
	pthread_mutex_lock(&mu);
	stats_write();
	pthread_mutex_unlock(&mu);
}

/* xorshift64*: per rule, so a seed replays whatever else runs */
static double
rng_next(struct rule *r)
{
	uint64_t x = r->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* With mu held: the cached path of fd ("" when unknown). */
static const char *
fd_name(int fd, char *tmp, size_t tmplen)
{
	struct stat	 st;
	struct fdc	*c = fd >= 0 && fd < FD_CACHE ? &fd_path[fd] : NULL;
	char		 link[64];
	ssize_t		 n;

	if (fstat(fd, &st) < 0)
		return "";
	if (c != NULL && c->path != NULL && c->dev == st.st_dev &&
	    c->ino == st.st_ino)
		return c->path;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, tmp, tmplen - 1)) < 0)
		n = 0;
	tmp[n] = 0;
	if (c != NULL && n > 0) {
		free(c->path);
		c->path = strdup(tmp);
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	return tmp;
}

static int
need_path(int call)
{
	int i;

	for (i = 0; i < nrules; i++)
		if ((rules[i].calls & (1u << call)) && rules[i].path[0])
			return 1;
	return 0;
}

/*
 * Decide one call: 0 to do it, or the errno to fail it with.  fd >= 0
 * names the file by descriptor, else p1 (and p2 for rename) by name.
 */
static int
decide(int call, int fd, const char *p1, const char *p2)
{
	char		 tmp[PATH_MAX];
	const char	*name = "";
	struct rule	*r;
	int		 i, err = 0, fire, matched = 0;

	if (busy || disarmed)
		return 0;
	busy = 1;
	pthread_mutex_lock(&mu);
	init_locked();
	ctl_check();
	if (nrules == 0 || disarmed) {
		pthread_mutex_unlock(&mu);
		busy = 0;
		return 0;
	}
	if (fd >= 0 && need_path(call))
		name = fd_name(fd, tmp, sizeof(tmp));
	else if (p1 != NULL)
		name = p1;
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (!(r->calls & (1u << call)))
			continue;
		if (r->path[0] && strstr(name, r->path) == NULL &&
		    (p2 == NULL || strstr(p2, r->path) == NULL))
			continue;
		r->matched++;
		matched = 1;
		fire = (r->nth > 0 && r->matched == r->nth) ||
		    (r->from > 0 && r->matched >= r->from) ||
		    (r->prob > 0 && rng_next(r) < r->prob);
		if (!fire || err != 0 || (r->count > 0 &&
		    r->injected >= r->count))
			continue;
		err = r->err;
		r->injected++;
		total++;
		if (fd >= 0 && name[0] == 0)
			name = fd_name(fd, tmp, sizeof(tmp));
		say("%s(%s%s%s) -> %s (rule %d \"%s\", call %ld)",
		    call_name[call], name, p2 ? ", " : "", p2 ? p2 : "",
		    errname(err), i + 1, r->spec, r->matched);
	}
	/* Current after every matched call, so a test reads how many
	 * calls an operation made without waiting for anything. */
	if (matched)
		stats_write();
	pthread_mutex_unlock(&mu);
	busy = 0;
	return err;
}

#define FAIL_IF(c, fd, p1, p2) do {					\
	int e_ = decide((c), (fd), (p1), (p2));				\
	if (e_ != 0) {							\
		errno = e_;						\
		return -1;						\
	}								\
} while (0)

#define REAL(v, n) do {							\
	if ((v) == NULL)						\
		SYM(v, n);						\
} while (0)

/* ---- the wrappers ---- */

ssize_t
write(int fd, const void *b, size_t n)
{
	FAIL_IF(C_WRITE, fd, NULL, NULL);
	REAL(r_write, "write");
	return r_write(fd, b, n);
}

ssize_t
pwrite(int fd, const void *b, size_t n, off_t off)
{
	FAIL_IF(C_PWRITE, fd, NULL, NULL);
	REAL(r_pwrite, "pwrite");
	return r_pwrite(fd, b, n, off);
}

ssize_t
pwrite64(int fd, const void *b, size_t n, off64_t off)
{
	FAIL_IF(C_PWRITE, fd, NULL, NULL);
	REAL(r_pwrite64, "pwrite64");
	return r_pwrite64(fd, b, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	FAIL_IF(C_WRITEV, fd, NULL, NULL);
	REAL(r_writev, "writev");
	return r_writev(fd, iov, cnt);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	FAIL_IF(C_PWRITEV, fd, NULL, NULL);
	REAL(r_pwritev, "pwritev");
	return r_pwritev(fd, iov, cnt, off);
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	FAIL_IF(C_PWRITEV, fd, NULL, NULL);
	REAL(r_pwritev64, "pwritev64");
	return r_pwritev64(fd, iov, cnt, off);
}

ssize_t
pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	FAIL_IF(C_PWRITEV, fd, NULL, NULL);
	REAL(r_pwritev2, "pwritev2");
	return r_pwritev2(fd, iov, cnt, off, flags);
}

int
fsync(int fd)
{
	FAIL_IF(C_FSYNC, fd, NULL, NULL);
	REAL(r_fsync, "fsync");
	return r_fsync(fd);
}

int
fdatasync(int fd)
{
	FAIL_IF(C_FDATASYNC, fd, NULL, NULL);
	REAL(r_fdatasync, "fdatasync");
	return r_fdatasync(fd);
}

int
sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
	FAIL_IF(C_SFR, fd, NULL, NULL);
	REAL(r_sfr, "sync_file_range");
	return r_sfr(fd, off, n, flags);
}

int
ftruncate(int fd, off_t len)
{
	FAIL_IF(C_FTRUNCATE, fd, NULL, NULL);
	REAL(r_ftruncate, "ftruncate");
	return r_ftruncate(fd, len);
}

int
ftruncate64(int fd, off64_t len)
{
	FAIL_IF(C_FTRUNCATE, fd, NULL, NULL);
	REAL(r_ftruncate64, "ftruncate64");
	return r_ftruncate64(fd, len);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	FAIL_IF(C_FALLOCATE, fd, NULL, NULL);
	REAL(r_fallocate, "fallocate");
	return r_fallocate(fd, mode, off, len);
}

int
fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	FAIL_IF(C_FALLOCATE, fd, NULL, NULL);
	REAL(r_fallocate64, "fallocate64");
	return r_fallocate64(fd, mode, off, len);
}

int
msync(void *addr, size_t len, int flags)
{
	char name[48];

	snprintf(name, sizeof(name), "mapping %p", addr);
	FAIL_IF(C_MSYNC, -1, name, NULL);
	REAL(r_msync, "msync");
	return r_msync(addr, len, flags);
}

int
rename(const char *from, const char *to)
{
	FAIL_IF(C_RENAME, -1, from, to);
	REAL(r_rename, "rename");
	return r_rename(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	FAIL_IF(C_RENAME, -1, from, to);
	REAL(r_renameat, "renameat");
	return r_renameat(fd1, from, fd2, to);
}

int
renameat2(int fd1, const char *from, int fd2, const char *to, unsigned fl)
{
	FAIL_IF(C_RENAME, -1, from, to);
	REAL(r_renameat2, "renameat2");
	return r_renameat2(fd1, from, fd2, to, fl);
}

static int
writing_open(int flags)
{
	return (flags & (O_CREAT | O_TRUNC)) != 0 ||
	    (flags & O_ACCMODE) != O_RDONLY ||
	    (flags & __O_TMPFILE) == __O_TMPFILE;
}

static mode_t
open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

#define OPEN_BODY(sym, var, call)					\
	va_list	ap;							\
	mode_t	mode;							\
									\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	if (writing_open(flags))					\
		FAIL_IF(C_OPEN, -1, path, NULL);			\
	REAL(var, sym);							\
	return call

int
open(const char *path, int flags, ...)
{
	OPEN_BODY("open", r_open, r_open(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	OPEN_BODY("open64", r_open64, r_open64(path, flags, mode));
}

int
openat(int dfd, const char *path, int flags, ...)
{
	OPEN_BODY("openat", r_openat, r_openat(dfd, path, flags, mode));
}

int
openat64(int dfd, const char *path, int flags, ...)
{
	OPEN_BODY("openat64", r_openat64, r_openat64(dfd, path, flags, mode));
}

int
creat(const char *path, mode_t mode)
{
	FAIL_IF(C_OPEN, -1, path, NULL);
	REAL(r_creat, "creat");
	return r_creat(path, mode);
}

int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);

int
__open_2(const char *path, int flags)
{
	if (writing_open(flags))
		FAIL_IF(C_OPEN, -1, path, NULL);
	REAL(r_open_2, "__open_2");
	return r_open_2(path, flags);
}

int
__open64_2(const char *path, int flags)
{
	if (writing_open(flags))
		FAIL_IF(C_OPEN, -1, path, NULL);
	REAL(r_open64_2, "__open64_2");
	return r_open64_2(path, flags);
}

int
__openat_2(int dfd, const char *path, int flags)
{
	if (writing_open(flags))
		FAIL_IF(C_OPEN, -1, path, NULL);
	REAL(r_openat_2, "__openat_2");
	return r_openat_2(dfd, path, flags);
}

int
__openat64_2(int dfd, const char *path, int flags)
{
	if (writing_open(flags))
		FAIL_IF(C_OPEN, -1, path, NULL);
	REAL(r_openat64_2, "__openat64_2");
	return r_openat64_2(dfd, path, flags);
}

/* The fd -> path cache must forget a descriptor when it is closed. */
int
close(int fd)
{
	char *old = NULL;

	if (fd >= 0 && fd < FD_CACHE && !busy) {
		busy = 1;
		pthread_mutex_lock(&mu);
		old = fd_path[fd].path;
		fd_path[fd].path = NULL;
		pthread_mutex_unlock(&mu);
		free(old);
		busy = 0;
	}
	REAL(r_close, "close");
	return r_close(fd);
}

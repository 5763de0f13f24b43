/*
 * util.c — allocation, byte buffers, bounds-checked reading, time, files.
 *
 * The buffer writers are what every wire and disk encoder in duonas is
 * built from, so they are big-endian only and never fail (OOM is fatal).
 * The reader never faults on short input: it latches an error flag and the
 * caller checks it once, the way imsg_get_data checks lengths up front.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t a, size_t b)
{
	void *p = calloc(a ? a : 1, b ? b : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *o, size_t n)
{
	void *p = realloc(o, n ? n : 1);

	if (p == NULL)
		fatal("realloc %zu", n);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		fatal("vasprintf");
	va_end(ap);
	return p;
}

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void
buf_add_u8(struct buf *b, uint8_t v)
{
	buf_add(b, &v, 1);
}

void
buf_add_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2];

	put_be16(t, v);
	buf_add(b, t, 2);
}

void
buf_add_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	put_be32(t, v);
	buf_add(b, t, 4);
}

void
buf_add_u64(struct buf *b, uint64_t v)
{
	uint8_t t[8];

	put_be64(t, v);
	buf_add(b, t, 8);
}

void
buf_add_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > 0xffff)
		n = 0xffff;
	buf_add_u16(b, (uint16_t)n);
	buf_add(b, s, n);
}

void
buf_add_blob(struct buf *b, const void *p, uint32_t n)
{
	buf_add_u32(b, n);
	buf_add(b, p, n);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_add_json_str(struct buf *b, const char *s)
{
	buf_add_u8(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf_add_u8(b, '\\');
			buf_add_u8(b, c);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else
			buf_add_u8(b, c);
	}
	buf_add_u8(b, '"');
}

void
rd_init(struct rd *r, const void *p, size_t n)
{
	r->p = p;
	r->left = n;
	r->err = 0;
}

const void *
rd_bytes(struct rd *r, size_t n)
{
	const void *p;

	if (r->err || n > r->left) {
		r->err = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t
rd_u8(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 1);

	return p ? p[0] : 0;
}

uint16_t
rd_u16(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 2);

	return p ? get_be16(p) : 0;
}

uint32_t
rd_u32(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 4);

	return p ? get_be32(p) : 0;
}

uint64_t
rd_u64(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 8);

	return p ? get_be64(p) : 0;
}

int
rd_str(struct rd *r, char *dst, size_t dstlen)
{
	uint16_t	 n = rd_u16(r);
	const char	*p = rd_bytes(r, n);

	if (p == NULL || dstlen == 0 || (size_t)n >= dstlen ||
	    memchr(p, 0, n) != NULL) {
		r->err = 1;
		if (dstlen)
			dst[0] = 0;
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
	return 0;
}

const void *
rd_blob(struct rd *r, uint32_t *lenp)
{
	uint32_t	 n = rd_u32(r);
	const void	*p = rd_bytes(r, n);

	*lenp = p ? n : 0;
	return p;
}

void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}
uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
now_ms(void)
{
	return now_us() / 1000;
}

uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* For people: text output shows dates and durations, JSON the numbers. */
char *
fmt_date_ms(char *out, size_t len, uint64_t epoch_ms, int utc)
{
	time_t		t = (time_t)(epoch_ms / 1000);
	struct tm	tm;

	if (epoch_ms == 0)
		snprintf(out, len, "never");
	else if ((utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) == NULL ||
	    strftime(out, len, utc ? "%Y-%m-%d %H:%M:%S UTC" :
	    "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, len, "%llu ms since 1970",
		    (unsigned long long)epoch_ms);
	return out;
}

char *
fmt_dur_ms(char *out, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(out, len, "%llu ms", (unsigned long long)ms);
	else if (ms < 10000)
		snprintf(out, len, "%llu.%llu s", (unsigned long long)s,
		    (unsigned long long)(ms % 1000) / 100);
	else if (s < 60)
		snprintf(out, len, "%llu s", (unsigned long long)s);
	else if (s < 3600)
		snprintf(out, len, "%llu min %llu s", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(out, len, "%llu h %llu min", (unsigned long long)s /
		    3600, (unsigned long long)s % 3600 / 60);
	else
		snprintf(out, len, "%llu d %llu h", (unsigned long long)s /
		    86400, (unsigned long long)s % 86400 / 3600);
	return out;
}

void
random_bytes(void *p, size_t n)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t r = getrandom(q, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		q += r;
		n -= (size_t)r;
	}
}

uint64_t
random_u64(void)
{
	uint64_t v;

	random_bytes(&v, sizeof(v));
	return v;
}

int
fsync_dir(const char *dir)
{
	int fd, rv = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) < 0)
		rv = -1;
	close(fd);
	return rv;
}

static int
fsync_dir_of(const char *path)
{
	char	*d = xstrdup(path);
	int	 rv = fsync_dir(dirname(d));

	free(d);
	return rv;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char		*tmp = xasprintf("%s.tmp", path);
	const uint8_t	*p = data;
	int		 fd, rv = -1, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	rv = fsync_dir_of(path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rv < 0)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return rv;
}

int
file_read_all(const char *path, size_t maxlen, uint8_t **datap, size_t *lenp)
{
	struct buf	b;
	uint8_t		chunk[65536];
	int		fd;
	ssize_t		n;

	*datap = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	buf_init(&b);
	buf_reserve(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (b.len + (size_t)n > maxlen) {
			errno = EFBIG;
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*datap = b.data;
	*lenp = b.len;
	return 0;
fail:
	{
		int saved = errno;
		close(fd);
		buf_free(&b);
		errno = saved;
	}
	return -1;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char	*p = xstrdup(path), *s;
	int	 rv = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				rv = -1;
				break;
			}
			*s = c;
			if (c == 0)
				break;
		}
	}
	free(p);
	return rv;
}

int
parse_num(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char		*end;
	long long	 v;

	*errstr = NULL;
	if (s == NULL || *s == 0 || isspace((unsigned char)*s)) {
		*errstr = "not a number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != 0) {
		*errstr = "not a number";
		return -1;
	}
	if (errno == ERANGE || v < min) {
		*errstr = v < min ? "too small" : "out of range";
		return -1;
	}
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

void
hex_encode(char *dst, const void *src, size_t n)
{
	static const char	 hx[] = "0123456789abcdef";
	const uint8_t		*s = src;

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hx[s[i] >> 4];
		dst[2 * i + 1] = hx[s[i] & 15];
	}
	dst[2 * n] = 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(void *dst, size_t dstlen, const char *src)
{
	uint8_t	*d = dst;
	size_t	 n = strlen(src);

	if (n % 2 || n / 2 > dstlen)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(src[2 * i]), lo = hexval(src[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		d[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int
fd_io_full(int fd, void *p, size_t n, int wr)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t r = wr ? write(fd, q, n) : read(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

int
fd_sync_durable(int fd, int datasync)
{
	struct statvfs	sv;

	if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
		return -1;
	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
fd_io_until(int fd, void *p, size_t n, int wr, uint64_t deadline_ms)
{
	uint8_t *q = p;

	if (deadline_ms == 0)
		return fd_io_full(fd, p, n, wr);
	while (n > 0) {
		struct pollfd	pfd = { fd, wr ? POLLOUT : POLLIN, 0 };
		uint64_t	t = now_ms();
		ssize_t		r;
		int		pr;

		if (t >= deadline_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		pr = poll(&pfd, 1, deadline_ms - t > INT_MAX ? INT_MAX :
		    (int)(deadline_ms - t));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0)
			continue;	/* the deadline check above ends it */
		r = wr ? send(fd, q, n, MSG_NOSIGNAL | MSG_DONTWAIT) :
		    recv(fd, q, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == 0)
			errno = EPIPE;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

int
err_atv(char *err, size_t errlen, const char *file, int line,
    const char *fmt, va_list ap)
{
	int n = file == NULL ? 0 : snprintf(err, errlen, "%s:%d: ", file, line);

	if (n < 0 || (size_t)n >= errlen)
		return -1;
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}

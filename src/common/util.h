/*
 * util.h — small helpers every module uses: allocation that cannot fail,
 * a growable byte buffer with big-endian writers, a bounds-checked reader,
 * monotonic time, crash-safe file replacement, random bytes.
 * Depends on nothing above common/.
 */
#ifndef DUONAS_UTIL_H
#define DUONAS_UTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#endif

/* Allocation: fatal() on out-of-memory. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Growable buffer.  data is NUL-terminated past len for convenience. */
struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_reserve(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_add_u8(struct buf *, uint8_t);
void	 buf_add_u16(struct buf *, uint16_t);	/* big-endian */
void	 buf_add_u32(struct buf *, uint32_t);
void	 buf_add_u64(struct buf *, uint64_t);
void	 buf_add_str(struct buf *, const char *);	/* u16 length + bytes */
void	 buf_add_blob(struct buf *, const void *, uint32_t); /* u32 len + bytes */
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* JSON string literal with escaping, including the quotes. */
void	 buf_add_json_str(struct buf *, const char *);

/* Bounds-checked reader.  Once a read runs past the end, err is set and
 * every later read returns zeros: check rd.err once at the end. */
struct rd {
	const uint8_t	*p;
	size_t		 left;
	int		 err;
};
void		 rd_init(struct rd *, const void *, size_t);
uint8_t		 rd_u8(struct rd *);
uint16_t	 rd_u16(struct rd *);
uint32_t	 rd_u32(struct rd *);
uint64_t	 rd_u64(struct rd *);
const void	*rd_bytes(struct rd *, size_t);
/* u16 length + bytes -> NUL-terminated copy into dst (max dstlen-1). */
int		 rd_str(struct rd *, char *dst, size_t dstlen);
/* u32 length + bytes -> pointer into the buffer (not copied). */
const void	*rd_blob(struct rd *, uint32_t *lenp);

/* Big-endian load/store. */
void		 put_be16(uint8_t *, uint16_t);
void		 put_be32(uint8_t *, uint32_t);
void		 put_be64(uint8_t *, uint64_t);
uint16_t	 get_be16(const uint8_t *);
uint32_t	 get_be32(const uint8_t *);
uint64_t	 get_be64(const uint8_t *);

/* Time. */
uint64_t	 now_us(void);		/* CLOCK_MONOTONIC, microseconds */
uint64_t	 now_ms(void);
uint64_t	 wall_ms(void);		/* CLOCK_REALTIME, milliseconds */
/* A wall-clock time in ms since 1970 as "2026-12-01 04:05:06 UTC" (utc)
 * or local time with the zone's abbreviation; 0 is "never".  Returns
 * out. */
char		*fmt_date_ms(char *out, size_t len, uint64_t epoch_ms, int utc);
/* A duration for people: "850 ms", "2.5 s", "42 s", "3 min 12 s",
 * "5 h 7 min", "2 d 3 h".  Returns out. */
char		*fmt_dur_ms(char *out, size_t len, uint64_t ms);

/* Random bytes from getrandom(2); fatal on failure. */
void		 random_bytes(void *, size_t);
uint64_t	 random_u64(void);

/* Replace path atomically: write path.tmp, fsync, rename, fsync dir.
 * Returns 0 or -1 with errno set. */
/* fsync a directory (after creating, renaming or removing in it). */
int		 fsync_dir(const char *dir);
int		 file_write_atomic(const char *path, const void *, size_t,
		    mode_t mode);
/* Read a whole file (max maxlen bytes). Returns 0 or -1 with errno set;
 * *datap is malloc'd and NUL-terminated. */
int		 file_read_all(const char *path, size_t maxlen, uint8_t **datap,
		    size_t *lenp);
/* Read (wr 0) or write (wr 1) exactly n bytes, retrying on EINTR.
 * 0, or -1 on error or end of file. */
int		 fd_io_full(int fd, void *p, size_t n, int wr);
/* The same on a socket, before deadline_ms (now_ms() time; 0: no limit,
 * as fd_io_full): 0, or -1 with errno (ETIMEDOUT when time ran out). */
int		 fd_io_until(int fd, void *p, size_t n, int wr,
		    uint64_t deadline_ms);
/* fsync (or fdatasync) that does not report success for data that never
 * reached the disk: a file system that went read-only (ext4
 * errors=remount-ro after an I/O error) answers fsync with 0 and drops
 * the dirty pages.  0, or -1 with errno (EIO when the file system is
 * read-only now). */
int		 fd_sync_durable(int fd, int datasync);

/* mkdir -p with mode. */
int		 mkdir_p(const char *path, mode_t mode);

/* Parse a decimal integer in [min,max]; returns 0 or -1 (errstr set). */
/* "FILE:LINE: message" into err (no prefix when file is NULL), for
 * parsers' errors.  Always returns -1 (for "return err_at(...)"). */
int		 err_atv(char *err, size_t errlen, const char *file, int line,
		    const char *fmt, va_list ap)
		    __attribute__((format(printf, 5, 0)));
int		 parse_num(const char *, long long min, long long max,
		    long long *out, const char **errstr);

/* Hex encode n bytes into dst (2n+1 bytes). */
void		 hex_encode(char *dst, const void *src, size_t n);
int		 hex_decode(void *dst, size_t dstlen, const char *src);

#endif

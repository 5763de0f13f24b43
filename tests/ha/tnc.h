/*
 * tnc.h — a small synchronous NFSv3 test client (libnfs raw RPC API) for
 * the failover tests, and the self-checking record format the writer
 * and the verifier share.
 *
 * The client keeps its own connection state so that it can do what a
 * failover test needs and libnfs's high-level API hides: a bounded time
 * per call, a fresh TCP connection to the same address after any error
 * (the service IP may have moved to the other head), and the WRITE and
 * COMMIT verifiers.  The file handle is looked up once and then reused
 * across reconnects, as a kernel client would.
 *
 * Not thread safe; one struct tnc per thread.
 */
#ifndef DUONAS_TNC_H
#define DUONAS_TNC_H

#include <stddef.h>
#include <stdint.h>

#define TNC_FH_MAX	64
#define TNC_VERF_SIZE	8

struct rpc_context;

struct tnc {
	/* from the URL */
	char		 host[64];
	char		 exportpath[512];
	char		 file[256];
	int		 nfsport;	/* 0: ask the portmapper */
	int		 mountport;	/* 0: ask the portmapper */

	int		 call_timeout_ms;	/* per RPC, connect included */
	int		 connect_timeout_ms;	/* 0: within the call timeout;
						 * else the connect's own limit
						 * (kernel SYN retries inside),
						 * the call timeout after it */

	struct rpc_context *rpc;	/* NFS connection, NULL when down */
	uint8_t		 rootfh[TNC_FH_MAX];
	unsigned	 rootfh_len;
	uint8_t		 fh[TNC_FH_MAX];	/* the file */
	unsigned	 fh_len;

	/* counters */
	unsigned long	 connects;	/* successful NFS connections */
	unsigned long	 failures;	/* failed calls (any reason) */
	char		 err[768];	/* last error, for messages */
};

/*
 * Parse nfs://HOST/EXPORT/PATH/FILE[?nfsport=N&mountport=M].  The last
 * path component is the file, the rest is the export path given to
 * MOUNT.  Ports not given are asked from the portmapper (port 111).
 * Returns 0, or -1 with a message in t->err.
 */
int	tnc_parse_url(struct tnc *t, const char *url);

/*
 * Mount the export and look up the file (creating it, mode 0644, when
 * create is set and it does not exist).  Retries connection failures
 * until deadline_ms (monotonic, now_ms() clock).  0 or -1 with t->err.
 */
int	tnc_open(struct tnc *t, int create, uint64_t deadline_ms);

/*
 * One WRITE of len bytes at off with the given stable_how (0 UNSTABLE,
 * 2 FILE_SYNC).  On success *committed and verf are filled from the
 * reply.  Any failure (timeout, connection, NFS error, short write)
 * returns -1 with t->err set and drops the connection; the next call
 * reconnects.
 */
int	tnc_write(struct tnc *t, uint64_t off, const void *data, uint32_t len,
	    int stable, int *committed, uint8_t verf[TNC_VERF_SIZE]);
/* COMMIT off/len; verf filled.  0 or -1 as tnc_write. */
int	tnc_commit(struct tnc *t, uint64_t off, uint32_t len,
	    uint8_t verf[TNC_VERF_SIZE]);
/* READ up to len bytes at off into data; *got and *eof filled.  0/-1. */
int	tnc_read(struct tnc *t, uint64_t off, void *data, uint32_t len,
	    uint32_t *got, int *eof);
/* Drop the connection (next call reconnects) and free everything. */
void	tnc_close(struct tnc *t);

/*
 * Records.  A record of size bytes (64..1 MiB) at offset index*size:
 *   0  magic "DNHAREC1"     8  index (be64)   16 run tag (be64)
 *   24 size (be32)          28 header checksum (be32, of bytes 0..27)
 *   32 payload checksum (be64, FNV-1a of bytes 40..size)
 *   40 payload: a byte stream derived from (tag, index)
 * tnc_rec_check returns 0 if buf is exactly that record, else a short
 * reason ("zero", "magic", "index", "tag", "size", "header", "payload").
 */
#define TNC_REC_MIN	64
#define TNC_REC_MAX	(1024 * 1024)
void		 tnc_rec_build(uint8_t *buf, uint32_t size, uint64_t tag,
		    uint64_t index);
const char	*tnc_rec_check(const uint8_t *buf, uint32_t size, uint64_t tag,
		    uint64_t index);

/*
 * The number an option's argument s gives, lo..hi; anything else (not a
 * whole decimal number, out of range) prints "PROG: OPT 'S': must be a
 * number LO..HI" and exits 2, as the test tools' usage errors do.
 */
long		 tnc_num(const char *prog, const char *opt, const char *s,
		    long lo, long hi);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds. */
uint64_t	 tnc_mono_ms(void);
uint64_t	 tnc_wall_ms(void);

#endif

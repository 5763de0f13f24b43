/*
 * lmdb_commit.c — the baseline for pso-bench: latency of a plain durable
 * LMDB commit (one put of the same value size, default flags: data and
 * meta page synced) in a given directory.  Prints key=value lines.
 * usage: lmdb_commit DIR COUNT SIZE
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long
us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	MDB_env			*env;
	MDB_dbi			 dbi;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int			 n, size, rc;
	unsigned long long	*lat, t0;
	char			*val;

	if (argc != 4) {
		fprintf(stderr, "usage: lmdb_commit DIR COUNT SIZE\n");
		return 64;
	}
	n = atoi(argv[2]);
	size = atoi(argv[3]);
	if (n < 1 || size < 0) {
		fprintf(stderr, "lmdb_commit: bad COUNT or SIZE\n");
		return 64;
	}
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_mapsize(env,
	    64u << 20)) || (rc = mdb_env_open(env, argv[1], 0, 0600))) {
		fprintf(stderr, "lmdb_commit: %s: %s\n", argv[1],
		    mdb_strerror(rc));
		return 1;
	}
	val = calloc(1, (size_t)size + 1);
	lat = calloc((size_t)n, sizeof(*lat));
	memset(val, 'b', (size_t)size);
	k.mv_data = "bench";
	k.mv_size = 5;
	for (int i = 0; i < n; i++) {
		t0 = us();
		v.mv_data = val;
		v.mv_size = (size_t)size;
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
		    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) ||
		    (rc = mdb_put(txn, dbi, &k, &v, 0)) ||
		    (rc = mdb_txn_commit(txn))) {
			fprintf(stderr, "lmdb_commit: %s\n", mdb_strerror(rc));
			return 1;
		}
		lat[i] = us() - t0;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("lmdb_local_write_p50_us=%llu\nlmdb_local_write_p99_us=%llu\n",
	    lat[n / 2], lat[(int)((long long)n * 99 / 100)]);
	mdb_env_close(env);
	free(lat);
	free(val);
	return 0;
}

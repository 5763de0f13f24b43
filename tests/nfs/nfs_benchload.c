/*
 * nfs_benchload.c — the client workload of tests/bench/nfs-bench, on the
 * libnfs sync API, identical for every server it is pointed at.
 *
 *   nfs_benchload URL SUFFIX [MIB] [FILES]
 *
 * Sequential write of MIB MiB in 1 MiB WRITEs (with the closing COMMIT),
 * sequential read of it, then FILES creates, stats, one full readdir and
 * FILES unlinks in a fresh directory.  Prints key=value lines named
 * <metric>_<SUFFIX>.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfsc/libnfs.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(struct nfs_context *nfs, const char *what)
{
	fprintf(stderr, "nfs_benchload: %s: %s\n", what, nfs_get_error(nfs));
	exit(1);
}

int
main(int argc, char **argv)
{
	struct nfs_context	*nfs;
	struct nfs_url		*u;
	struct nfsfh		*fh;
	struct nfsdir		*dir;
	struct nfs_stat_64	 st;
	const char		*sfx;
	char			*buf, path[128], dname[64];
	long			 mib = 1024, files = 5000, n = 0;
	double			 t;

	if (argc < 3) {
		fprintf(stderr, "usage: nfs_benchload URL SUFFIX [MIB] [FILES]\n");
		return 2;
	}
	sfx = argv[2];
	if (argc > 3)
		mib = atol(argv[3]);
	if (argc > 4)
		files = atol(argv[4]);
	if ((nfs = nfs_init_context()) == NULL)
		return 1;
	if ((u = nfs_parse_url_dir(nfs, argv[1])) == NULL)
		die(nfs, "url");
	if (nfs_mount(nfs, u->server, u->path) != 0)
		die(nfs, "mount");
	buf = malloc(1 << 20);
	memset(buf, 0x5a, 1 << 20);
	snprintf(dname, sizeof(dname), "/bench-%ld", (long)time(NULL) % 100000);

	t = now();
	if (nfs_open(nfs, "/bench.dat", O_CREAT | O_TRUNC | O_WRONLY, &fh))
		die(nfs, "create bench.dat");
	for (long i = 0; i < mib; i++)
		if (nfs_pwrite(nfs, fh, (uint64_t)i << 20, 1 << 20, buf) !=
		    1 << 20)
			die(nfs, "write");
	if (nfs_fsync(nfs, fh))
		die(nfs, "commit");
	nfs_close(nfs, fh);
	printf("seq_write_MBps_%s=%.1f\n", sfx, mib * 1.048576 / (now() - t));

	t = now();
	if (nfs_open(nfs, "/bench.dat", O_RDONLY, &fh))
		die(nfs, "open bench.dat");
	for (long i = 0; i < mib; i++)
		if (nfs_pread(nfs, fh, (uint64_t)i << 20, 1 << 20, buf) !=
		    1 << 20)
			die(nfs, "read");
	nfs_close(nfs, fh);
	printf("seq_read_MBps_%s=%.1f\n", sfx, mib * 1.048576 / (now() - t));
	nfs_unlink(nfs, "/bench.dat");

	if (nfs_mkdir(nfs, dname))
		die(nfs, "mkdir");
	t = now();
	for (long i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", dname, i);
		if (nfs_creat(nfs, path, 0644, &fh))
			die(nfs, "creat");
		nfs_close(nfs, fh);
	}
	printf("create_per_s_%s=%.0f\n", sfx, files / (now() - t));
	t = now();
	for (long i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", dname, i);
		if (nfs_stat64(nfs, path, &st))
			die(nfs, "stat");
	}
	printf("stat_per_s_%s=%.0f\n", sfx, files / (now() - t));
	t = now();
	if (nfs_opendir(nfs, dname, &dir))
		die(nfs, "opendir");
	while (nfs_readdir(nfs, dir) != NULL)
		n++;
	nfs_closedir(nfs, dir);
	printf("readdir_entries_per_s_%s=%.0f\n", sfx, n / (now() - t));
	t = now();
	for (long i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", dname, i);
		if (nfs_unlink(nfs, path))
			die(nfs, "unlink");
	}
	printf("unlink_per_s_%s=%.0f\n", sfx, files / (now() - t));
	nfs_rmdir(nfs, dname);
	nfs_destroy_url(u);
	nfs_destroy_context(nfs);
	free(buf);
	return 0;
}

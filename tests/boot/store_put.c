/*
 * store_put.c — test helper for tests/boot/boot.sh and
 * tests/faultinj/imgstore_faults.sh: put a software image into the image
 * store of every LUN of a configuration, as the master's `duonas image
 * upload` would, formatting LUN files that are still empty; or read one
 * back.
 *
 *	store_put CONF IMAGE		put it on every LUN: exit 0, or 1
 *					with a message naming what failed
 *	store_put --get CONF IMAGE	read it back by its digest
 *					(img_store_get): exit 0 when the
 *					bytes are IMAGE's, 1 when no LUN
 *					holds it, 2 when no LUN could be
 *					read, 3 when what came back differs
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "image/image.h"
#include "pool/img_store.h"
#include "pool/pext.h"
#include "pool/pool.h"

int
main(int argc, char **argv)
{
	struct cfg	*cfg;
	struct img_info	 info;
	uint8_t		*data;
	size_t		 len;
	char		 err[1024];
	int		 n;

	int		 get = argc == 4 && strcmp(argv[1], "--get") == 0;

	if (get) {
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: store_put [--get] CONF IMAGE\n");
		return 1;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	if (cfg_parse(argv[1], cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_put: %s\n", err);
		return 1;
	}
	if (file_read_all(argv[2], 128u << 20, &data, &len) < 0 ||
	    img_parse(data, len, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_put: %s: %s\n", argv[2],
		    errno ? strerror(errno) : err);
		return 1;
	}
	if (get) {
		void	*back = NULL;
		size_t	 blen = 0;

		n = img_store_get(cfg, cfg->heads[0].id, info.digest, &back,
		    &blen, err, sizeof(err));
		if (n != 0) {
			printf("%s: %s\n", n > 0 ? "absent" : "unreadable",
			    err);
			return n > 0 ? 1 : 2;
		}
		n = blen == len && memcmp(back, data, len) == 0 ? 0 : 3;
		printf("%s %s (%zu bytes)\n", n ? "differs" : "whole",
		    info.m.version, blen);
		free(back);
		return n;
	}
	for (int i = 0; i < cfg->nluns; i++) {
		const struct cfg_lun	*l = &cfg->luns[i];
		struct pool_lun		 pl;
		int			 fd;

		/* a missing LUN file is made (extent + 1 MiB) and formatted */
		if (access(l->path, F_OK) == 0)
			continue;
		if ((fd = open(l->path, O_RDWR | O_CREAT, 0600)) < 0 ||
		    ftruncate(fd, (off_t)PEXT_V1_EXTENT_BLOCKS *
		    PEXT_BLOCK_SIZE + (1 << 20)) < 0) {
			fprintf(stderr, "store_put: %s: %s\n", l->path,
			    strerror(errno));
			return 1;
		}
		close(fd);
		if (pool_lun_open(&pl, l->path, pext_pool_id(cfg->cluster),
		    l->id, cfg->heads[0].id) != 0 ||
		    pool_lun_format(&pl, cfg->cluster, l->name, 0) != 0) {
			fprintf(stderr, "store_put: format %s failed\n",
			    l->path);
			return 1;
		}
		pool_lun_close(&pl);
	}
	n = img_store_put(cfg, cfg->heads[0].id, cfg->nluns, data, len,
	    info.digest, info.m.version, NULL, NULL, NULL, err, sizeof(err));
	if (n < cfg->nluns) {
		fprintf(stderr, "store_put: stored on %d of %d LUNs: %s\n",
		    n < 0 ? 0 : n, cfg->nluns, err);
		return 1;
	}
	return 0;
}

/*
 * fi_pool.c — drives a LUN's private extent through pool_io.c (the code
 * the disk thread and the configuration replicas run) for
 * tests/faultinj/pool_faults.sh, which runs it under the fault-injection
 * shim.  Each command opens the LUN file, does one thing, and exits 0
 * when the pool layer acknowledged it, 1 when it reported an error.
 *
 *	fi_pool LUN format
 *	fi_pool LUN hb SEQ		heartbeat block of node 1, seq SEQ
 *	fi_pool LUN res GEN		reservation: owner node 1, generation GEN
 *	fi_pool LUN cfg GEN CHAR LEN	configuration replica GEN: LEN times CHAR
 *	fi_pool LUN show		"hb SEQ res GEN cfg GEN CHAR LEN" as read
 *					back; exit 3 when a configuration
 *					replica reads back mixed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "pool/pool.h"

int
main(int argc, char **argv)
{
	struct pool_lun	 lun;
	struct pext_hb	 hb;
	struct pext_res	 res;
	uint64_t	 gen = 0;
	void		*data = NULL;
	size_t		 len = 0, i;
	char		*v;
	int		 rc, ex;

	log_init("fi_pool", 0, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: fi_pool LUN format|hb SEQ|res GEN|"
		    "cfg GEN CHAR LEN|show\n");
		return 64;
	}
	if ((rc = pool_lun_open(&lun, argv[1], pext_pool_id("fi"), 1, 1))
	    != 0) {
		printf("open: %s\n", pool_strerror(rc));
		return 2;
	}
	pool_lun_setname(&lun, "l0");
	if (strcmp(argv[2], "format") == 0) {
		rc = pool_lun_format(&lun, "fi", "l0", 0);
		printf("format: %s\n", pool_strerror(rc));
		ex = rc ? 1 : 0;
		goto out;
	}
	if ((rc = pool_lun_load(&lun)) != 0) {
		printf("load: %s\n", pool_strerror(rc));
		ex = 2;
		goto out;
	}
	if (strcmp(argv[2], "hb") == 0 && argc > 3) {
		memset(&hb, 0, sizeof(hb));
		hb.node_id = 1;
		hb.seq = strtoull(argv[3], NULL, 10);
		rc = pool_hb_write(&lun, 0, &hb);
	} else if (strcmp(argv[2], "res") == 0 && argc > 3) {
		memset(&res, 0, sizeof(res));
		res.owner = 1;
		res.generation = strtoull(argv[3], NULL, 10);
		res.lease_ms = 1000;
		rc = pool_res_write(&lun, &res);
	} else if (strcmp(argv[2], "cfg") == 0 && argc > 5) {
		len = strtoul(argv[5], NULL, 10);
		v = xmalloc(len ? len : 1);
		memset(v, argv[4][0], len);
		rc = pool_cfg_write(&lun, strtoull(argv[3], NULL, 10), v, len);
		free(v);
	} else if (strcmp(argv[2], "show") == 0) {
		if ((rc = pool_hb_read(&lun, 0, &hb)) != 0 ||
		    (rc = pool_res_read(&lun, &res)) != 0) {
			printf("show: %s\n", pool_strerror(rc));
			ex = 2;
			goto out;
		}
		printf("hb %llu res %llu", (unsigned long long)hb.seq,
		    (unsigned long long)res.generation);
		rc = pool_cfg_read(&lun, &data, &len, &gen);
		if (rc != 0) {
			printf(" cfg none\n");
			ex = rc == PEXT_E_EMPTY ? 0 : 2;
			goto out;
		}
		ex = 0;
		for (i = 1; i < len && ex == 0; i++)
			if (((char *)data)[i] != ((char *)data)[0]) {
				printf(" cfg %llu mixed at byte %zu\n",
				    (unsigned long long)gen, i);
				ex = 3;
			}
		if (ex == 0)
			printf(" cfg %llu %c %zu\n", (unsigned long long)gen,
			    len ? ((char *)data)[0] : '-', len);
		goto out;
	} else {
		fprintf(stderr, "fi_pool: bad command\n");
		ex = 64;
		goto out;
	}
	printf("%s: %s\n", argv[2], rc ? pool_strerror(rc) : "success");
	ex = rc ? 1 : 0;
out:
	free(data);
	pool_lun_close(&lun);
	return ex;
}

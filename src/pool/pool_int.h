/*
 * pool_int.h — internals shared by pool_io.c (block I/O, typed reads and
 * writes) and pool_fmt.c (format, load, damage and repair).  Nothing
 * here is for other modules.
 */
#ifndef DUONAS_POOL_INT_H
#define DUONAS_POOL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"

/* Full transfer at byte offset off from/to an aligned buffer; 0/errno. */
int	 pool_io_full(struct pool_lun *, int wr, void *buf, size_t len,
	    uint64_t off);
/* nblocks zeroed, block-aligned blocks (free()); exits when out of
 * memory. */
void	*pool_blocks_alloc(size_t nblocks);
/* What a block at blockno of this LUN must carry / is stamped with. */
void	 pool_hdr_where(const struct pool_lun *, uint64_t blockno,
	    struct pext_where *);
void	 pool_hdr_stamp(const struct pool_lun *, uint64_t blockno,
	    struct pext_hdr *);

#endif

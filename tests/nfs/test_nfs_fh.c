/*
 * test_nfs_fh.c — the file handle format (export/nfs_fh.c) against
 * golden bytes computed independently (HMAC-SHA256 by another
 * implementation), and the checks of nfs_fh_expid/nfs_fh_verify: every
 * single-bit change of a handle, another export's root, another key,
 * old layouts and bad lengths.  Pure: no file system, no server.
 */
#include <stdio.h>
#include <string.h>

#include "export/nfs_int.h"
#include "tests/unit/t.h"

/* key 00..1f; root type 1, 8 bytes 01..08; export 0x01020304; kernel
 * handle type 1, 8 bytes a0..a7 */
static const uint8_t golden[31] = {
	0x02, 0x01, 0x01, 0x02, 0x03, 0x04, 0x08, 0xa0, 0xa1, 0xa2, 0xa3,
	0xa4, 0xa5, 0xa6, 0xa7, 0x1f, 0xc1, 0xac, 0x56, 0x0b, 0xf0, 0x5b,
	0xb9, 0x21, 0x14, 0xc6, 0xf7, 0x4d, 0x73, 0x04, 0x48,
};
/* the MAC of the same handle bound to root 02..09 */
static const uint8_t golden_mac2[16] = {
	0xb6, 0x99, 0x83, 0x2d, 0xad, 0xad, 0x10, 0x79, 0x79, 0xa4, 0x8e,
	0x73, 0x8a, 0x14, 0x17, 0xc0,
};

int
main(void)
{
	struct nfs_export	e, e2;
	uint8_t			key[32], kh[8], fh[64], big[NFS_FH_KMAX + 1];
	uint32_t		len = 0;
	int			flips = 0;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 8; i++)
		kh[i] = (uint8_t)(0xa0 + i);
	memset(&e, 0, sizeof(e));
	e.id = 0x01020304;
	e.root.type = 1;
	e.root.len = 8;
	for (int i = 0; i < 8; i++)
		e.root.kh[i] = (uint8_t)(1 + i);
	e2 = e;
	for (int i = 0; i < 8; i++)
		e2.root.kh[i] = (uint8_t)(2 + i);

	T_EQ(nfs_fh_encode(e.id, &e.root, 1, kh, 8, fh, &len), -1,
	    "no key yet: no handle");
	T_EQ(nfs_fh_key_set(key, sizeof(key)), 0, "key set");
	T_EQ(nfs_fh_encode(e.id, &e.root, 1, kh, 8, fh, &len), 31,
	    "handle encoded");
	T_EQ(len, 31, "7 + 8 + 16 bytes");
	T_MEM(fh, golden, sizeof(golden), "golden bytes");
	T_EQ(nfs_fh_expid(fh, len), 0x01020304, "export id read back");
	T_EQ(nfs_fh_verify(&e, fh, len), 1, "MAC verifies");
	T_EQ(nfs_fh_verify(&e2, fh, len), 0,
	    "the same handle does not verify for another export root");
	T_EQ(nfs_fh_encode(e2.id, &e2.root, 1, kh, 8, fh, &len), 31,
	    "bound to the other root");
	T_MEM(fh + 15, golden_mac2, 16, "golden MAC for the other root");
	memcpy(fh, golden, sizeof(golden));
	len = sizeof(golden);

	for (uint32_t bit = 0; bit < len * 8; bit++) {
		fh[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (nfs_fh_expid(fh, len) >= 0 && nfs_fh_verify(&e, fh, len))
			flips++;
		fh[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	T_EQ(flips, 0, "no single-bit change of the handle verifies");
	T_EQ(nfs_fh_expid(fh, len - 1), -1, "one byte short: malformed");
	T_EQ(nfs_fh_expid(fh, 15), -1, "no MAC: malformed");
	T_EQ(nfs_fh_expid(fh, 0), -1, "empty: malformed");
	T_EQ(nfs_fh_expid(NULL, 31), -1, "NULL: malformed");
	fh[0] = 1;
	T_EQ(nfs_fh_expid(fh, 15), NFS_FH_OLD, "version 1 layout: old");
	fh[0] = 3;
	T_EQ(nfs_fh_expid(fh, len), -1, "version 3: malformed");
	fh[0] = 2;
	T_EQ(nfs_fh_verify(&e, fh, 10), 0, "short handle never verifies");

	memset(big, 7, sizeof(big));
	T_EQ(nfs_fh_encode(1, &e.root, 1, big, NFS_FH_KMAX, fh, &len), 64,
	    "largest kernel handle: 64 bytes");
	T_EQ(nfs_fh_encode(1, &e.root, 1, big, NFS_FH_KMAX + 1, fh, &len),
	    -1, "one byte more is refused");
	T_EQ(nfs_fh_encode(1, &e.root, 256, big, 8, fh, &len), -1,
	    "handle type 256 is refused");

	key[0] ^= 1;
	T_EQ(nfs_fh_key_set(key, sizeof(key)), 0, "another key");
	memcpy(fh, golden, sizeof(golden));
	T_EQ(nfs_fh_verify(&e, fh, sizeof(golden)), 0,
	    "a handle of the old key does not verify");
	return t_done();
}

/*
 * test_nfs_rm.c — ONC RPC record marking (export/nfs_rm.c) against golden
 * byte streams written out by hand from RFC 5531 section 11: one-fragment
 * and multi-fragment records, empty fragments and records, the size
 * limit checked on the header before the bytes arrive (also when the
 * fragments add up to too much, and for a length of 2^31 - 1), and a
 * stream of several records fed one byte at a time and in one piece
 * giving the same records.  No connection, no server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/nfs_rm.h"
#include "tests/unit/t.h"

/* three records: "hello" in one fragment; "abcde" in fragments of 3
 * and 2; "x" behind an empty fragment; then an empty record */
static const uint8_t golden[] = {
	0x80, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o',
	0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c',
	0x80, 0x00, 0x00, 0x02, 'd', 'e',
	0x00, 0x00, 0x00, 0x00,
	0x80, 0x00, 0x00, 0x01, 'x',
	0x80, 0x00, 0x00, 0x00,
};

/* What a reader does: input arrives in chunks of chunk bytes (0: all at
 * once) into a buffer; after each, cut every record out of it.  The
 * records go into out (joined by '|'); returns the number of records,
 * or -1 on NFS_RM_TOOBIG. */
static int
feed(const uint8_t *s, size_t n, size_t chunk, size_t max, char *out,
    size_t outlen)
{
	struct nfs_rm	 rm = { NULL, 0 };
	uint8_t		 in[256];
	size_t		 inlen = 0, pos = 0, off, len, o = 0;
	int		 nrec = 0, step = NFS_RM_MORE;

	out[0] = 0;
	while (pos < n) {
		size_t k = chunk == 0 || chunk > n - pos ? n - pos : chunk;

		memcpy(in + inlen, s + pos, k);
		inlen += k;
		pos += k;
		off = 0;
		while ((step = nfs_rm_step(&rm, in + off, inlen - off, max,
		    &len)) == NFS_RM_FRAG || step == NFS_RM_RECORD) {
			if (step == NFS_RM_RECORD) {
				uint8_t rec[256];
				size_t whole = rm.fraglen + len;

				nfs_rm_take(&rm, in + off + 4, len, rec);
				o += (size_t)snprintf(out + o, outlen - o,
				    "%s%.*s", nrec > 0 ? "|" : "", (int)whole,
				    (const char *)rec);
				nrec++;
			}
			off += 4 + len;
		}
		memmove(in, in + off, inlen - off);
		inlen -= off;
		if (step == NFS_RM_TOOBIG)
			break;
	}
	nfs_rm_reset(&rm);
	return step == NFS_RM_TOOBIG ? -1 : nrec;
}

int
main(void)
{
	struct nfs_rm	rm = { NULL, 0 };
	size_t		len;
	uint8_t		rec[16];
	char		out[256];
	static const uint8_t big[] = { 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t bigl[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t two[] = {
		0x00, 0x00, 0x00, 0x05, '1', '2', '3', '4', '5',
		0x80, 0x00, 0x00, 0x04, '6', '7', '8', '9'
	};
	static const uint8_t exact[] = {
		0x00, 0x00, 0x00, 0x05, '1', '2', '3', '4', '5',
		0x80, 0x00, 0x00, 0x03, '6', '7', '8'
	};

	/* what is needed next, as the first record arrives */
	T_EQ(nfs_rm_step(&rm, golden, 0, 64, &len), NFS_RM_MORE,
	    "nothing: more");
	T_EQ(len, 4, "a header needs 4 bytes");
	T_EQ(nfs_rm_step(&rm, golden, 3, 64, &len), NFS_RM_MORE,
	    "3 bytes: more");
	T_EQ(len, 4, "still the header");
	T_EQ(nfs_rm_step(&rm, golden, 8, 64, &len), NFS_RM_MORE,
	    "header and 4 of 5 bytes: more");
	T_EQ(len, 9, "header + 5 bytes needed");
	T_EQ(nfs_rm_step(&rm, golden, 9, 64, &len), NFS_RM_RECORD,
	    "whole last fragment: a record");
	T_EQ(len, 5, "of 5 bytes");
	T_EQ(rm.fraglen, 0, "nothing kept for a one-fragment record");
	nfs_rm_take(&rm, golden + 4, len, rec);
	T_MEM(rec, "hello", 5, "the record's bytes");

	/* a record of two fragments */
	T_EQ(nfs_rm_step(&rm, golden + 9, 7, 64, &len), NFS_RM_FRAG,
	    "first fragment of abcde");
	T_EQ(len, 3, "3 bytes");
	T_EQ(rm.fraglen, 3, "kept");
	T_EQ(nfs_rm_step(&rm, golden + 16, 5, 64, &len), NFS_RM_MORE,
	    "last fragment not all there");
	T_EQ(len, 6, "header + 2 bytes needed");
	T_EQ(rm.fraglen, 3, "first fragment still kept");
	T_EQ(nfs_rm_step(&rm, golden + 16, 6, 64, &len), NFS_RM_RECORD,
	    "last fragment of abcde");
	T_EQ(len, 2, "2 bytes in it");
	nfs_rm_take(&rm, golden + 20, len, rec);
	T_MEM(rec, "abcde", 5, "fragments joined");
	T_EQ(rm.fraglen, 0, "take resets");
	T_OK(rm.frag == NULL, "and frees");

	/* the whole stream, in one piece and byte by byte */
	T_EQ(feed(golden, sizeof(golden), 0, 64, out, sizeof(out)), 4,
	    "four records in one piece");
	T_OK(strcmp(out, "hello|abcde|x|") == 0, "records: '%s'", out);
	for (size_t c = 1; c <= 7; c++) {
		int nr = feed(golden, sizeof(golden), c, 64, out,
		    sizeof(out));

		T_OK(nr == 4, "%d records in chunks of %zu", nr, c);
		T_OK(strcmp(out, "hello|abcde|x|") == 0, "records: '%s'", out);
	}

	/* the limit */
	T_EQ(nfs_rm_step(&rm, golden, 4, 4, &len), NFS_RM_TOOBIG,
	    "a 5-byte record over max 4, known from the header alone");
	T_EQ(len, 5, "its size");
	T_EQ(nfs_rm_step(&rm, golden, 9, 5, &len), NFS_RM_RECORD,
	    "a record of exactly max");
	nfs_rm_reset(&rm);
	T_EQ(feed(two, sizeof(two), 0, 8, out, sizeof(out)), -1,
	    "fragments of 5 + 4 over max 8");
	T_OK(strcmp(out, "") == 0, "no record out of it");
	T_EQ(feed(two, 13, 0, 8, out, sizeof(out)), -1,
	    "refused on the second header, before its bytes");
	T_EQ(feed(exact, sizeof(exact), 1, 8, out, sizeof(out)), 1,
	    "fragments of 5 + 3 make max 8");
	T_OK(strcmp(out, "12345678") == 0, "records: '%s'", out);
	T_EQ(nfs_rm_step(&rm, big, 4, (size_t)1 << 20, &len), NFS_RM_TOOBIG,
	    "2^31 - 1 bytes, not the last fragment");
	T_EQ(len, 0x7fffffff, "its size");
	T_EQ(nfs_rm_step(&rm, bigl, 4, (size_t)1 << 20, &len),
	    NFS_RM_TOOBIG, "2^31 - 1 bytes, last fragment");
	T_EQ(rm.fraglen, 0, "nothing kept");
	return t_done();
}

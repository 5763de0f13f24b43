/*
 * mkseeds.c — writes the seed corpora of the binary fuzz targets with
 * the project's own encoders, so a seed is a valid input by
 * construction: `mkseeds DIR` fills DIR/TARGET/NAME.  Run by hand when
 * a format changes; the output is committed under tests/fuzz/corpus.
 * The text targets' seeds are written by hand.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctcm/ctcm_int.h"
#include "src/boot/slots.h"
#include "src/hb/hb.h"
#include "src/image/image.h"
#include "src/link/link_int.h"
#include "src/pool/pext.h"

#define POOL_ID		0x0102030405060708ULL	/* as in fuzz_pext.c */

static const char *outdir;

static void
put(const char *target, const char *name, const void *p, size_t len)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(p, 1, len, f) != len ||
	    fclose(f) != 0)
		err(1, "%s", path);
}

/* pext seeds: selector byte, block number (big endian), the block */
static void
put_pext(const char *name, int which, uint32_t blockno, const uint8_t *blk)
{
	uint8_t	b[5 + PEXT_BLOCK_SIZE];

	b[0] = (uint8_t)which | 0x80;	/* CRC set right by the target */
	put_be32(b + 1, blockno);
	memcpy(b + 5, blk, PEXT_BLOCK_SIZE);
	put("pext", name, b, sizeof(b));
}

static void
hdr(struct pext_hdr *h, uint32_t blockno)
{
	h->pool_id = POOL_ID;
	h->lun_id = 7;
	h->blockno = blockno;
	h->writer = 1;
	h->time_ms = 1000;
}

static void
seeds_pext(void)
{
	static uint8_t		blk[PEXT_BLOCK_SIZE];
	struct pext_super	sb;
	struct pext_hb		hb;
	struct pext_res		r;
	struct pext_cfgslot	cs;
	struct pext_psomark	pm;
	struct pext_imgslot	is;

	pext_super_init(&sb, POOL_ID, 7, "demo", "lun0");
	if (pext_super_encode(blk, &sb) != 0)
		errx(1, "super");
	put_pext("super", 0, 0, blk);
	memset(&hb, 0, sizeof(hb));
	hdr(&hb.h, 1);
	hb.node_id = 1;
	hb.state = 8;
	hb.seq = 42;
	if (pext_hb_encode(blk, &hb) != 0)
		errx(1, "hb");
	put_pext("hb", 1, 1, blk);
	memset(&r, 0, sizeof(r));
	hdr(&r.h, 3);
	r.owner = 1;
	r.generation = 9;
	r.lease_ms = 3000;
	if (pext_res_encode(blk, &r) != 0)
		errx(1, "res");
	put_pext("res", 2, 3, blk);
	memset(&cs, 0, sizeof(cs));
	hdr(&cs.h, PEXT_V1_CFG_B);
	cs.slot = 1;
	cs.generation = 12;
	cs.length = 5000;
	if (pext_cfgslot_encode(blk, &cs) != 0)
		errx(1, "cfgslot");
	put_pext("cfgslot", 3, PEXT_V1_CFG_B, blk);
	memset(&pm, 0, sizeof(pm));
	hdr(&pm.h, PEXT_V1_PSOMARK_BLOCK);
	pm.node_id = 1;
	pm.seq = 3;
	if (pext_psomark_encode(blk, &pm) != 0)
		errx(1, "psomark");
	put_pext("psomark", 4, PEXT_V1_PSOMARK_BLOCK, blk);
	memset(&is, 0, sizeof(is));
	hdr(&is.h, PEXT_V1_IMG_START);
	is.slot = 0;
	is.seq = 5;
	is.length = 4096;
	snprintf(is.version, sizeof(is.version), "%s", "1.2.0");
	if (pext_imgslot_encode(blk, &is) != 0)
		errx(1, "imgslot");
	put_pext("imgslot", 5, PEXT_V1_IMG_START, blk);
}

static void
seeds_hb(void)
{
	uint8_t		b[HB_MSG_MAXLEN];
	struct hb_msg	m;
	int		n;

	memset(&m, 0, sizeof(m));
	m.node_id = 1;
	m.state = 8;
	m.seq = 7;
	m.cfg_gen = 3;
	m.boot_id = 99;
	snprintf(m.swver, sizeof(m.swver), "%s",
	    "1.2.0;0123abcd;g;w1-1;d1-1;x86_64");
	if ((n = hb_msg_encode(b, sizeof(b), &m)) < 0)
		errx(1, "hb_msg");
	put("hb_msg", "full", b, (size_t)n);
	snprintf(m.swver, sizeof(m.swver), "%s", "0.9");
	m.flags = HB_F_FAULT;
	if ((n = hb_msg_encode(b, sizeof(b), &m)) < 0)
		errx(1, "hb_msg");
	put("hb_msg", "old", b, (size_t)n);
}

static void
seeds_link(void)
{
	struct lk_key	k;
	struct lk_hello	h;
	struct lk_hdr	fh;
	struct buf	b, f;

	buf_init(&b);
	buf_init(&f);
	memset(&h, 0, sizeof(h));
	h.role = LK_ROLE_DIALER;
	h.path = 0;
	h.node_id = 1;
	h.to_node_id = 2;
	h.boot_id = 77;
	memset(h.nonce, 0xa5, sizeof(h.nonce));
	snprintf(h.cluster, sizeof(h.cluster), "%s", "demo");
	lk_hello_encode(&b, &h);
	put("link_hello", "hello", b.data, b.len);
	/* the key fuzz_link_frame.c checks MACs with */
	if (lk_key_init(&k, (const uint8_t *)"fuzz-cluster-key", 16) != 0)
		errx(1, "key");
	memset(&fh, 0, sizeof(fh));
	fh.type = 1;
	fh.sender = 1;
	fh.seq = 1;
	if (lk_frame_encode(&f, &k, &fh, b.data, b.len) != 0)
		errx(1, "frame");
	put("link_frame", "hello", f.data, f.len);
	buf_free(&f);
	buf_init(&f);
	fh.type = 2;
	if (lk_frame_encode(&f, &k, &fh, NULL, 0) != 0)
		errx(1, "frame");
	put("link_frame", "empty", f.data, f.len);
	lk_key_free(&k);
	buf_free(&b);
	buf_free(&f);
}

static void
seeds_slotrec(void)
{
	uint8_t		b[1 + SLOTREC_COPY_LEN];
	struct slotrec	r;

	memset(&r, 0, sizeof(r));
	r.seq = 4;
	r.last_booted = 0;
	r.s[0].state = SLOT_GOOD;
	snprintf(r.s[0].version, sizeof(r.s[0].version), "%s", "1.2.0");
	r.s[0].installed = 1700000000;
	r.s[1].state = SLOT_NEW;
	r.s[1].attempts = 1;
	snprintf(r.s[1].version, sizeof(r.s[1].version), "%s", "1.3.0");
	snprintf(r.s[1].reason, sizeof(r.s[1].reason), "%s", "installed");
	snprintf(r.note, sizeof(r.note), "%s", "fuzz seed");
	b[0] = 1;			/* CRC set right by the target */
	if (slotrec_encode(&r, b + 1) != 0)
		errx(1, "slotrec");
	put("slotrec", "two", b, sizeof(b));
}

static void
seeds_ctcm(void)
{
	static const char conf[] = "cluster demo\nnode 1 { address "
	    "10.0.0.1 }\n";
	static const char exp[] = "/pool/lun0/share 10.0.0.0/24(rw)\n";
	struct ctcm_bundle	b;
	struct buf		out, img, txt;
	uint8_t			sel = 2;	/* bundle, CRC set right */

	ctcm_bundle_init(&b);
	b.gen = 5;
	b.time_ms = 1000;
	b.author_id = 1;
	snprintf(b.author, sizeof(b.author), "%s", "root");
	snprintf(b.summary, sizeof(b.summary), "%s", "seed");
	if (ctcm_bundle_set(&b, CTCM_SEC_CONF, "duonas.conf", conf,
	    strlen(conf)) != 0 || ctcm_bundle_set(&b, CTCM_SEC_EXPORTS,
	    "exports", exp, strlen(exp)) != 0)
		errx(1, "bundle");
	buf_init(&out);
	buf_add_u8(&out, sel);
	ctcm_bundle_encode(&b, &out);
	put("ctcm_bundle", "bundle", out.data, out.len);
	buf_init(&img);
	sel = 3;			/* replica image, CRC set right */
	buf_add_u8(&img, sel);
	if (ctcm_image_encode(&b, 1, 3, 0, &img) < 1)
		errx(1, "image");
	put("ctcm_bundle", "image", img.data, img.len);
	buf_init(&txt);
	ctcm_text_export(&b, &txt);
	put("ctcm_text", "export", txt.data, txt.len);
	buf_free(&out);
	buf_free(&img);
	buf_free(&txt);
	ctcm_bundle_free(&b);
}

/* An ONC RPC call body into b (512 bytes): header, AUTH_SYS credential,
 * arguments.  Returns its length. */
static size_t
rpc_body(uint8_t *b, uint32_t prog, uint32_t vers, uint32_t proc,
    const uint32_t *args, int nargs)
{
	static const uint32_t hdr[] = { 0x1234, 0, 2 };
	size_t		n = 0;
	int		i;

#define W(v)	do { put_be32(b + n, (v)); n += 4; } while (0)
	for (i = 0; i < 3; i++)
		W(hdr[i]);
	W(prog);
	W(vers);
	W(proc);
	W(1);				/* AUTH_SYS */
	W(28);				/* stamp, "host", uid, gid, 1 gid */
	W(0);
	W(4);
	memcpy(b + n, "host", 4);
	n += 4;
	W(0);
	W(0);
	W(1);
	W(0);
	W(0);				/* verifier AUTH_NONE */
	W(0);
	for (i = 0; i < nargs; i++)
		W(args[i]);
#undef W
	return n;
}

static void
seed_rpc(const char *name, uint32_t prog, uint32_t vers, uint32_t proc,
    const uint32_t *args, int nargs)
{
	uint8_t	b[512];

	put("rpc_call", name, b, rpc_body(b, prog, vers, proc, args, nargs));
}

/* rpc_record: limit (2 bytes), K, K piece sizes, then the stream; each
 * fragment "L" (last) or "F", then its bytes */
static size_t
rm_frag(uint8_t *b, int last, const void *p, size_t len)
{
	put_be32(b, (uint32_t)len | (last ? 0x80000000u : 0));
	memcpy(b + 4, p, len);
	return 4 + len;
}

static void
seeds_rpc_record(void)
{
	uint8_t	b[1024], call[512];
	size_t	n, cn;

	/* "hello" in one fragment, all at once */
	n = 0;
	b[n++] = 0x01, b[n++] = 0x00, b[n++] = 0;
	n += rm_frag(b + n, 1, "hello", 5);
	put("rpc_record", "one", b, n);
	/* hello | abc+de | (empty)+x | empty record, in pieces of 1, 3, 7 */
	n = 0;
	b[n++] = 0x01, b[n++] = 0x00, b[n++] = 3;
	b[n++] = 0, b[n++] = 2, b[n++] = 6;
	n += rm_frag(b + n, 1, "hello", 5);
	n += rm_frag(b + n, 0, "abc", 3);
	n += rm_frag(b + n, 1, "de", 2);
	n += rm_frag(b + n, 0, "", 0);
	n += rm_frag(b + n, 1, "x", 1);
	n += rm_frag(b + n, 1, "", 0);
	put("rpc_record", "fragments", b, n);
	/* fragments of 5 + 4 over a limit of 8, byte by byte */
	n = 0;
	b[n++] = 0x00, b[n++] = 0x08, b[n++] = 1;
	b[n++] = 0;
	n += rm_frag(b + n, 0, "12345", 5);
	n += rm_frag(b + n, 1, "6789", 4);
	put("rpc_record", "too_big", b, n);
	/* an NFS3 NULL call whole, then in two fragments */
	cn = rpc_body(call, 100003, 3, 0, NULL, 0);
	n = 0;
	b[n++] = 0xff, b[n++] = 0xff, b[n++] = 2;
	b[n++] = 3, b[n++] = 40;
	n += rm_frag(b + n, 1, call, cn);
	n += rm_frag(b + n, 0, call, 20);
	n += rm_frag(b + n, 1, call + 20, cn - 20);
	put("rpc_record", "nfs3_null", b, n);
}

static void
seeds_rpc(void)
{
	/* fh3 of 8 bytes, then a 4-byte name */
	static const uint32_t lookup[] = { 8, 1, 2, 4, 0x61626364 };
	static const uint32_t read[] = { 8, 1, 2, 0, 0, 4096 };
	static const uint32_t mnt[] = { 5, 0x2f706f6f, 0x6c000000 };
	static const uint32_t getport[] = { 100003, 3, 6, 0 };
	/* NLM4: cookie "ck01", exclusive; nlm4_lock: caller "host", an
	 * 8-byte fh, a 4-byte owner, svid 7, offset 0, length 100 */
	static const uint32_t nlm_test[] = { 4, 0x636b3031, 1, 4,
	    0x686f7374, 8, 1, 2, 4, 0x6f776e31, 7, 0, 0, 0, 100 };
	static const uint32_t nlm_lock[] = { 4, 0x636b3031, 0, 1, 4,
	    0x686f7374, 8, 1, 2, 4, 0x6f776e31, 7, 0, 0, 0, 100, 0, 1 };
	static const uint32_t nlm_share[] = { 4, 0x636b3031, 4, 0x686f7374,
	    8, 1, 2, 4, 0x6f776e31, 1, 2, 0 };
	static const uint32_t nlm_free_all[] = { 4, 0x686f7374, 3 };
	/* NSM: mon_id: mon_name "host", my_id "me", 100021 4 16; priv */
	static const uint32_t nsm_mon[] = { 4, 0x686f7374, 2, 0x6d650000,
	    100021, 4, 16, 1, 2, 3, 4 };
	static const uint32_t nsm_notify[] = { 4, 0x686f7374, 5 };

	seed_rpc("nfs3_null", 100003, 3, 0, NULL, 0);
	seed_rpc("nfs3_lookup", 100003, 3, 3, lookup, 5);
	seed_rpc("nfs3_read", 100003, 3, 6, read, 6);
	seed_rpc("mnt3_mnt", 100005, 3, 1, mnt, 3);
	seed_rpc("pmap_getport", 100000, 2, 3, getport, 4);
	seed_rpc("nlm4_test", 100021, 4, 1, nlm_test, 15);
	seed_rpc("nlm4_lock", 100021, 4, 2, nlm_lock, 18);
	seed_rpc("nlm4_share", 100021, 4, 20, nlm_share, 12);
	seed_rpc("nlm4_free_all", 100021, 4, 23, nlm_free_all, 3);
	seed_rpc("nsm_mon", 100024, 1, 2, nsm_mon, 11);
	seed_rpc("nsm_notify", 100024, 1, 6, nsm_notify, 3);
}

/* A signed image of one small file, with a throw-away key (the fuzz
 * target trusts another key: img_verify fails at the signature, after
 * everything before it parsed). */
static void
seeds_image(void)
{
	char			 dir[] = "/tmp/mkseeds.XXXXXX", key[64], pem[80];
	char			 pay[64];
	char			 cmd[128], e[256];
	const char		*paths[1];
	struct img_manifest	 m;
	struct buf		 out;
	void			*pk;
	FILE			*f;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(key, sizeof(key), "%s/k", dir);
	snprintf(pem, sizeof(pem), "%s.key", key);
	snprintf(pay, sizeof(pay), "%s/duonasd", dir);
	if (img_keygen(key, e, sizeof(e)) != 0 ||
	    (pk = img_key_load_private(pem, e, sizeof(e))) == NULL)
		errx(1, "key: %s", e);
	if ((f = fopen(pay, "w")) == NULL || fputs("#!/bin/sh\n", f) < 0 ||
	    fclose(f) != 0)
		err(1, "%s", pay);
	memset(&m, 0, sizeof(m));
	snprintf(m.version, sizeof(m.version), "%s", "1.2.0");
	snprintf(m.build_id, sizeof(m.build_id), "%s", "seed");
	m.build_time = 1700000000;
	snprintf(m.arch, sizeof(m.arch), "%s", "x86_64");
	snprintf(m.hardware, sizeof(m.hardware), "%s", "any");
	m.wire_min = m.wire_max = m.disk_min = m.disk_max = 1;
	m.nfiles = 1;
	snprintf(m.files[0].name, sizeof(m.files[0].name), "%s", "duonasd");
	m.files[0].mode = 0755;
	paths[0] = pay;
	buf_init(&out);
	buf_add_u8(&out, 1);		/* CRC set right by the target */
	if (img_build(&m, paths, pk, &out, e, sizeof(e)) != 0)
		errx(1, "image: %s", e);
	put("image", "one_file", out.data, out.len);
	buf_free(&out);
	img_key_free(pk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		errx(1, "%s", cmd);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		errx(64, "usage: mkseeds DIR");
	outdir = argv[1];
	seeds_pext();
	seeds_hb();
	seeds_link();
	seeds_slotrec();
	seeds_ctcm();
	seeds_rpc();
	seeds_rpc_record();
	seeds_image();
	return 0;
}

/*
 * test_slots.c — src/boot: the slot record copy as golden bytes (CRC
 * computed independently), every decode refusal, the two-copy file
 * (newer copy wins, a torn copy falls back to the other), boot_decide's
 * table, the image section and DUONAS_BOOT_INFO codecs, and
 * slots_mark_good.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/slots.h"
#include "pool/pext.h"
#include "t.h"

static void
fill_digest(uint8_t d[IMG_DIGEST_LEN], uint8_t seed)
{
	for (int i = 0; i < IMG_DIGEST_LEN; i++)
		d[i] = (uint8_t)(seed + i);
}

static void
golden_rec(struct slotrec *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = 5;
	r->primary = 1;
	r->last_booted = 0;
	r->s[0].state = SLOT_GOOD;
	strcpy(r->s[0].version, "0.1.0");
	memset(r->s[0].digest, 0x11, IMG_DIGEST_LEN);
	r->s[0].installed = 1764558000;
	r->s[1].state = SLOT_NEW;
	r->s[1].attempts = 2;
	strcpy(r->s[1].version, "0.2.0-rc1");
	fill_digest(r->s[1].digest, 0);
	r->s[1].installed = 1764558100;
	strcpy(r->s[1].reason, "x");
	strcpy(r->note, "fell back");
}

static void
test_codec(void)
{
	/* bytes 0..19, 220..299 and the CRC, from an independent encoder */
	static const uint8_t head[20] = {
		0x44, 0x53, 0x4c, 0x52, 0x00, 0x01, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, 0, 5, 0x01, 0x00, 0x00, 0x00 };
	static const uint8_t ent1[80] = {
		0x02, 0x02, 0x00, 0x00, '0', '.', '2', '.', '0', '-', 'r', 'c',
		'1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		0, 0, 0, 0, 0x69, 0x2d, 0x05, 0x14, 'x', 0, 0, 0 };
	static const uint8_t crc[4] = { 0x69, 0x4f, 0x88, 0x08 };
	struct slotrec	r, d;
	uint8_t		b[SLOTREC_COPY_LEN], c[SLOTREC_COPY_LEN];
	char		err[128];

	golden_rec(&r);
	T_EQ(slotrec_encode(&r, b), 0, "encode");
	T_MEM(b, head, 20, "header bytes");
	T_MEM(b + 220, ent1, 80, "slot B entry bytes");
	T_MEM(b + 420, "fell back\0", 10, "note bytes");
	T_MEM(b + 508, crc, 4, "CRC32C");
	T_EQ(slotrec_decode(b, &d, err, sizeof(err)), 0, "decode");
	T_OK(d.seq == 5 && d.primary == 1 && d.last_booted == 0 &&
	    d.s[1].state == SLOT_NEW && d.s[1].attempts == 2 &&
	    strcmp(d.s[1].version, "0.2.0-rc1") == 0 &&
	    strcmp(d.s[1].reason, "x") == 0 &&
	    d.s[0].installed == 1764558000 &&
	    memcmp(d.s[1].digest, r.s[1].digest, 32) == 0 &&
	    strcmp(d.note, "fell back") == 0, "decode round trip");

	memcpy(c, b, sizeof(c));
	c[0] ^= 1;
	T_OK(slotrec_decode(c, &d, err, sizeof(err)) < 0 &&
	    strstr(err, "magic") != NULL, "bad magic refused: %s", err);
	memcpy(c, b, sizeof(c));
	c[5] = 2;
	T_OK(slotrec_decode(c, &d, err, sizeof(err)) < 0 &&
	    strstr(err, "version") != NULL, "version 2 refused: %s", err);
	memcpy(c, b, sizeof(c));
	c[300] ^= 0x40;
	T_OK(slotrec_decode(c, &d, err, sizeof(err)) < 0 &&
	    strstr(err, "CRC") != NULL, "flipped bit refused: %s", err);
	/* a bad state with a correct CRC */
	r.s[0].state = SLOT_BAD;
	slotrec_encode(&r, c);
	c[20] = 4;
	put_be32(c + 508, pext_crc32c(0, c, 508));
	T_OK(slotrec_decode(c, &d, err, sizeof(err)) < 0 &&
	    strstr(err, "state") != NULL, "state 4 refused: %s", err);
	golden_rec(&r);
	r.s[0].state = 7;
	T_EQ(slotrec_encode(&r, c), -1, "encode refuses state 7");
	golden_rec(&r);
	r.primary = 2;
	T_EQ(slotrec_encode(&r, c), -1, "encode refuses primary 2");
	memset(c, 0, sizeof(c));
	T_OK(slotrec_decode(c, &d, err, sizeof(err)) < 0, "zeros refused");
}

#define D64 "00010203040506070809000102030405" \
    "06070809000102030405060708090001"

static char tmpdir[] = "/tmp/test_slots.XXXXXX";

static void
test_file(void)
{
	struct slotrec	r, g;
	char		err[512], path[128];
	uint8_t		junk[SLOTREC_COPY_LEN];
	int		fd;

	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 1,
	    "missing record: 1");
	T_OK(g.seq == 0 && g.primary == 0 && g.last_booted == 255,
	    "missing record: zeroed, last_booted 255");
	golden_rec(&r);
	r.seq = 0;
	for (int i = 0; i < 3; i++) {
		r.s[0].attempts = (uint8_t)i;
		T_EQ(slotrec_write(tmpdir, &r, err, sizeof(err)), 0, "write");
	}
	T_EQ(r.seq, 3, "seq counts writes");
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 0, "read");
	T_OK(g.seq == 3 && g.s[0].attempts == 2, "the newer copy wins "
	    "(seq %llu)", (unsigned long long)g.seq);
	/* a torn write of seq 3 (copy 1): garbage there */
	snprintf(path, sizeof(path), "%s/slotrec", tmpdir);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	memcpy(junk, "DSLR", 4);
	fd = open(path, O_WRONLY);
	T_OK(fd >= 0 && pwrite(fd, junk, sizeof(junk), 512) == 512,
	    "tear copy 1");
	close(fd);
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 0, "read torn");
	T_OK(g.seq == 2 && g.s[0].attempts == 1, "torn copy: the other one "
	    "(seq %llu)", (unsigned long long)g.seq);
	/* the next write goes over the torn copy (seq 3 again) */
	g.s[0].attempts = 9;
	T_EQ(slotrec_write(tmpdir, &g, err, sizeof(err)), 0, "write after");
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 0, "read");
	T_OK(g.seq == 3 && g.s[0].attempts == 9, "rewritten over the torn "
	    "copy");
	fd = open(path, O_WRONLY);
	T_OK(fd >= 0 && pwrite(fd, junk, sizeof(junk), 0) == 512 &&
	    pwrite(fd, junk, sizeof(junk), 512) == 512, "tear both");
	close(fd);
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 1,
	    "no valid copy: 1");
	T_OK(strstr(err, "no valid copy") != NULL, "says so: %s", err);
	/* cut short: only copy 0 */
	golden_rec(&r);
	r.seq = 1;				/* next write: seq 2, copy 0 */
	unlink(path);
	T_EQ(slotrec_write(tmpdir, &r, err, sizeof(err)), 0, "write");
	T_EQ(truncate(path, 512), 0, "cut to one copy");
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 0, "read short");
	T_EQ(g.seq, 2, "copy 0 of a short file");

	/* slots_mark_good */
	golden_rec(&r);
	T_EQ(slotrec_write(tmpdir, &r, err, sizeof(err)), 0, "write");
	uint8_t dg[32];
	memset(dg, 0x99, sizeof(dg));
	T_EQ(slots_mark_good(tmpdir, 1, dg, err, sizeof(err)), 1,
	    "mark good: other digest: nothing");
	T_EQ(slots_mark_good(tmpdir, 0, r.s[0].digest, err, sizeof(err)), 1,
	    "mark good: slot already good: nothing");
	T_EQ(slots_mark_good(tmpdir, 1, r.s[1].digest, err, sizeof(err)), 0,
	    "mark good: new slot");
	T_EQ(slotrec_read(tmpdir, &g, err, sizeof(err)), 0, "read");
	T_OK(g.s[1].state == SLOT_GOOD && g.s[1].attempts == 0 &&
	    strstr(g.note, "reached good") != NULL, "B good: %s", g.note);
	T_EQ(slots_mark_good(tmpdir, 1, r.s[1].digest, err, sizeof(err)), 1,
	    "mark good twice: nothing");
	unlink(path);
	T_EQ(slots_mark_good(tmpdir, 1, r.s[1].digest, err, sizeof(err)), -1,
	    "mark good without a record: -1");
}

/* ---- boot_decide -------------------------------------------------------- */

static void
in_init(struct boot_in *in)
{
	memset(in, 0, sizeof(*in));
	in->rec.last_booted = 255;
	in->max_attempts = 3;
}

static void
in_valid(struct boot_in *in, int i, const char *ver, uint8_t seed)
{
	in->valid[i] = 1;
	strcpy(in->info[i].m.version, ver);
	fill_digest(in->info[i].digest, seed);
}

static void
in_invalid(struct boot_in *in, int i, const char *why)
{
	in->valid[i] = 0;
	strcpy(in->why_invalid[i], why);
}

static void
rec_slot(struct slotrec *r, int i, int state, const char *ver, uint8_t seed)
{
	r->s[i].state = (uint8_t)state;
	strcpy(r->s[i].version, ver);
	fill_digest(r->s[i].digest, seed);
}

static void
pref(struct boot_in *in, const char *ver, uint8_t seed)
{
	in->preferred.set = 1;
	strcpy(in->preferred.version, ver);
	fill_digest(in->preferred.digest, seed);
}

static int
digest_is(const uint8_t *d, int seed)
{
	uint8_t	w[IMG_DIGEST_LEN];

	if (seed < 0) {
		memset(w, 0, sizeof(w));
	} else
		fill_digest(w, (uint8_t)seed);
	return memcmp(d, w, IMG_DIGEST_LEN) == 0;
}

static void
test_decide(void)
{
	struct boot_in	in;
	struct boot_out	o;

	/* fresh start: no record, A holds an image, B nothing */
	in_init(&in);
	in_valid(&in, 0, "0.1.0", 1);
	in_invalid(&in, 1, "DIR/B/image: No such file or directory");
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 0, "fresh: run A");
	T_OK(o.rec.s[0].state == SLOT_GOOD && digest_is(o.rec.s[0].digest, 1)
	    && strcmp(o.rec.s[0].version, "0.1.0") == 0,
	    "fresh: A recorded good with its digest");
	T_EQ(o.rec.s[1].state, SLOT_EMPTY, "fresh: B stays empty");
	T_OK(o.changed && o.rec.last_booted == 0, "fresh: record to write");

	/* the same again: nothing changes */
	in.rec = o.rec;
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 0 && !o.changed,
	    "steady: run A, nothing to write");

	/* primary invalid: the other one */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	rec_slot(&in.rec, 1, SLOT_GOOD, "0.2.0", 2);
	in_invalid(&in, 0, "file duonasd: SHA-256 mismatch");
	in_valid(&in, 1, "0.2.0", 2);
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 1 && o.rec.primary == 1,
	    "primary invalid: run B");
	T_OK(o.rec.s[0].state == SLOT_BAD && digest_is(o.rec.s[0].digest, -1)
	    && strcmp(o.rec.s[0].reason, "file duonasd: SHA-256 mismatch")
	    == 0, "invalid A: bad, reason, digest cleared");
	T_OK(strstr(o.rec.note, "switched to B") != NULL, "note: %s",
	    o.rec.note);

	/* preferred not held: install into the slot that is not primary */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	in_valid(&in, 0, "0.1.0", 1);
	in_invalid(&in, 1, "no image");
	pref(&in, "0.2.0", 2);
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_INSTALL && o.slot == 1, "preferred not held: "
	    "install into B");
	/* B held it but is corrupt now: marked bad, digest cleared, and
	 * the preferred image is installed again */
	in.rec.s[1].state = SLOT_NEW;
	fill_digest(in.rec.s[1].digest, 2);
	strcpy(in.rec.s[1].version, "0.2.0");
	in_invalid(&in, 1, "image: header CRC mismatch");
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_INSTALL && o.slot == 1 &&
	    o.rec.s[1].state == SLOT_BAD && digest_is(o.rec.s[1].digest, -1),
	    "corrupt copy of the preferred image: bad, reinstalled");

	/* preferred held by the other valid good slot: switch, no copy */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	rec_slot(&in.rec, 1, SLOT_GOOD, "0.2.0", 2);
	in_valid(&in, 0, "0.1.0", 1);
	in_valid(&in, 1, "0.2.0", 2);
	pref(&in, "0.2.0", 2);
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 1 && o.rec.primary == 1 &&
	    o.changed, "preferred in B: switch primary, run B");

	/* a new slot: attempts counted, then the fallback */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	rec_slot(&in.rec, 1, SLOT_NEW, "0.2.0", 2);
	in.rec.primary = 1;
	in_valid(&in, 0, "0.1.0", 1);
	in_valid(&in, 1, "0.2.0", 2);
	pref(&in, "0.2.0", 2);
	for (int a = 1; a <= 3; a++) {
		boot_decide(&in, &o);
		T_OK(o.action == BOOT_RUN && o.slot == 1 &&
		    o.rec.s[1].attempts == a && o.changed,
		    "new B: attempt %d", a);
		in.rec = o.rec;
	}
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 0 && o.rec.primary == 0,
	    "after 3 attempts: fall back to A");
	T_OK(o.rec.s[1].state == SLOT_BAD && digest_is(o.rec.s[1].digest, 2)
	    && strcmp(o.rec.s[1].reason, "did not reach good in 3 attempts")
	    == 0, "B bad, digest kept: %s", o.rec.s[1].reason);
	T_OK(strcmp(o.rec.note, "fell back to A: 0.2.0 did not reach good "
	    "in 3 attempts") == 0, "note: %s", o.rec.note);
	/* crash-looped B holds the preferred digest: no reinstall */
	in.rec = o.rec;
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 0 && !o.changed,
	    "crash-looped preferred: stay on A, no install, no write");
	T_OK(strstr(o.note, "preferred 0.2.0 is bad here") != NULL,
	    "log says why: %s", o.note);
	T_OK(strstr(o.rec.note, "fell back") != NULL, "record keeps the "
	    "fallback note");
	/* same when B was overwritten and its copy is gone?  B still
	 * verifies here; a crash-looped slot that stops verifying loses its
	 * digest and the image may be installed again: by design */

	/* a new slot with nothing to fall back to keeps running */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_NEW, "0.2.0", 2);
	in.rec.s[0].attempts = 3;
	in_valid(&in, 0, "0.2.0", 2);
	in_invalid(&in, 1, "no image");
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_RUN && o.slot == 0 &&
	    o.rec.s[0].state == SLOT_NEW, "new A, no other slot: run A");

	/* no valid slot */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	in_invalid(&in, 0, "image: bad magic");
	in_invalid(&in, 1, "no image");
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_NONE && o.changed &&
	    o.rec.s[0].state == SLOT_BAD, "no valid slot: NONE, A bad");
	/* ... but a preferred image can still be installed */
	pref(&in, "0.2.0", 2);
	boot_decide(&in, &o);
	T_OK(o.action == BOOT_INSTALL && o.slot == 1,
	    "no valid slot, preferred known: install into B");

	/* a slot that verifies with an image the record does not name
	 * (an install the record never saw) is new */
	in_init(&in);
	rec_slot(&in.rec, 0, SLOT_GOOD, "0.1.0", 1);
	rec_slot(&in.rec, 1, SLOT_BAD, "0.1.0", 0);
	memset(in.rec.s[1].digest, 0, 32);
	in_valid(&in, 0, "0.1.0", 1);
	in_valid(&in, 1, "0.3.0", 3);
	boot_decide(&in, &o);
	T_OK(o.slot == 0 && o.rec.s[1].state == SLOT_NEW &&
	    digest_is(o.rec.s[1].digest, 3), "unrecorded image in B: new");
}

/* ---- image section, boot info ------------------------------------------- */

static void
test_sec(void)
{
	const char *txt =
	    "key 6b1c000000000000000000000000000000000000000000000000000000"
	    "0000e0\n"
	    "key 0000000000000000000000000000000000000000000000000000000000"
	    "000001\n"
	    "preferred 0.2.0 000102030405060708090a0b0c0d0e0f101112131415161"
	    "718191a1b1c1d1e1f 1234567\n"
	    "previous 0.1.0 0101010101010101010101010101010101010101010101010"
	    "101010101010101 99\n"
	    "floor 0.1.0\n";
	struct boot_sec	s;
	struct buf	b;
	char		err[256];

	T_EQ(boot_sec_parse(txt, strlen(txt), &s, err, sizeof(err)), 0,
	    "section parses");
	T_OK(s.nkeys == 2 && s.keys[0][0] == 0x6b && s.keys[1][31] == 1 &&
	    s.preferred.set && strcmp(s.preferred.version, "0.2.0") == 0 &&
	    s.preferred.digest[31] == 0x1f && s.preferred.size == 1234567 &&
	    s.previous.set && s.previous.size == 99 &&
	    strcmp(s.floor, "0.1.0") == 0, "section fields");
	buf_init(&b);
	boot_sec_format(&s, &b);
	T_OK(b.len == strlen(txt) && memcmp(b.data, txt, b.len) == 0,
	    "canonical text round trip");
	buf_free(&b);
	T_EQ(boot_sec_parse("", 0, &s, err, sizeof(err)), 0, "empty section");
	T_OK(s.nkeys == 0 && !s.preferred.set && s.floor[0] == 0, "empty");

	static const struct { const char *t, *want; } bad[] = {
		{ "floor 0.1.0\nfloor 0.2.0\n", "line 2: duplicate 'floor'" },
		{ "colour blue\n", "line 1: unknown word 'colour'" },
		{ "key 12\n", "line 1: bad key" },
		{ "preferred 0.2.0 00 5\n", "line 1: bad digest" },
		{ "preferred 0..2 " D64 " 5\n", "line 1: bad version" },
		{ "preferred 0.2.0 " D64 "\n", "takes VERSION DIGEST SIZE" },
		{ "preferred 0.2.0 " D64 " 0\n", "bad size" },
		{ "floor\n", "'floor' takes one VERSION" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		int rv = boot_sec_parse(bad[i].t, strlen(bad[i].t), &s, err,
		    sizeof(err));
		T_OK(rv < 0 && strstr(err, bad[i].want) != NULL,
		    "refused: %s", err);
	}

	char path[200];
	snprintf(path, sizeof(path), "%s/nosuch", tmpdir);
	T_EQ(boot_sec_load(path, &s, err, sizeof(err)), 0,
	    "missing section file: empty");
}

static void
test_info(void)
{
	struct boot_info	bi, g;
	char			s[1024];

	memset(&bi, 0, sizeof(bi));
	bi.slot = 1;
	strcpy(bi.dir, "/var/lib/duonas/boot");
	strcpy(bi.version, "0.2.0-rc1");
	fill_digest(bi.digest, 0xa0);
	bi.state = SLOT_NEW;
	bi.attempts = 2;
	strcpy(bi.note, "installed 0.2.0 into B from the store");
	boot_info_format(&bi, s, sizeof(s));
	T_OK(strcmp(s, "slot=B dir=/var/lib/duonas/boot version=0.2.0-rc1 "
	    "digest=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbc"
	    "bdbebf state=new attempts=2 note=installed 0.2.0 into B from "
	    "the store") == 0, "boot info text: %s", s);
	T_EQ(boot_info_parse(s, &g), 0, "boot info parses");
	T_OK(g.slot == 1 && strcmp(g.dir, bi.dir) == 0 &&
	    strcmp(g.version, bi.version) == 0 &&
	    memcmp(g.digest, bi.digest, 32) == 0 && g.state == SLOT_NEW &&
	    g.attempts == 2 && strcmp(g.note, bi.note) == 0,
	    "boot info round trip");
	T_EQ(boot_info_parse("slot=A dir=/x version=1 state=good attempts=0 "
	    "note=", &g), -1, "digest missing: refused");
	T_EQ(boot_info_parse("slot=C dir=/x version=1 digest=00 state=good "
	    "attempts=0 note=", &g), -1, "slot C refused");
	T_EQ(boot_info_parse("", &g), -1, "empty refused");
}

/* The heartbeat's software string: golden text, round trip, refusals,
 * compatibility (swver.c). */
static void
test_swver(void)
{
	struct sw_string	a, b, p;
	char			out[64], why[256];

	memset(&a, 0, sizeof(a));
	a.full = 1;
	strcpy(a.version, "1.1.0");
	strcpy(a.digest8, "3fa4c2d1");
	a.state = 'g';
	a.wmin = a.wmax = a.dmin = a.dmax = 1;
	strcpy(a.arch, "x86_64");
	sw_format(out, sizeof(out), &a);
	T_OK(strcmp(out, "1.1.0;3fa4c2d1;g;w1-1;d1-1;x86_64") == 0,
	    "golden software string (%s)", out);
	T_OK(strchr(out, ' ') == NULL, "no blank in it");
	T_OK(sw_parse(out, &p) == 0 && p.full && strcmp(p.version, "1.1.0") ==
	    0 && strcmp(p.digest8, "3fa4c2d1") == 0 && p.state == 'g' &&
	    p.wmin == 1 && p.wmax == 1 && p.dmin == 1 && p.dmax == 1 &&
	    strcmp(p.arch, "x86_64") == 0, "parse round trip");
	/* a long version: the arch goes, the rest fits 63 bytes */
	strcpy(a.version, "1234567890.1234567890.123456789");
	strcpy(a.arch, "averylongarchitecturename");
	sw_format(out, 64, &a);
	T_OK(strlen(out) <= 63 && strstr(out, "averylong") == NULL &&
	    sw_parse(out, &p) == 0 && p.full && p.arch[0] == 0,
	    "too long: the arch is left out (%s)", out);
	T_OK(sw_parse("0.1.0", &p) == 0 && !p.full &&
	    strcmp(p.version, "0.1.0") == 0, "a head from before images: "
	    "version only");
	T_OK(sw_parse("1.0;abc;x;w1-1;d1-1", &p) < 0, "bad state refused");
	T_OK(sw_parse("1.0;abc;g;w2-1;d1-1", &p) < 0, "wire min > max refused");
	T_OK(sw_parse("1.0;abc;g;1-1;d1-1", &p) < 0, "missing 'w' refused");
	T_OK(sw_parse("1.0;abc;g;w1-1", &p) < 0, "too few fields refused");
	T_OK(sw_parse("1.0;a;g;w1-1;d1-1;x;extra", &p) < 0,
	    "too many fields refused");
	T_OK(sw_parse("", &p) < 0, "empty refused");
	/* compatibility */
	T_OK(sw_parse("1.0.0;11111111;g;w1-2;d1-1;x86_64", &a) == 0 &&
	    sw_parse("2.0.0;22222222;n;w2-3;d1-1;x86_64", &b) == 0 &&
	    sw_compatible(&a, &b, why, sizeof(why)) == 1,
	    "overlapping wire ranges pair");
	T_OK(sw_parse("2.0.0;22222222;n;w7-7;d1-1;x86_64", &b) == 0 &&
	    sw_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strstr(why, "wire formats 7..7") != NULL,
	    "disjoint wire ranges refused (%s)", why);
	T_OK(sw_parse("2.0.0;22222222;n;w1-1;d2-2;x86_64", &b) == 0 &&
	    sw_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strstr(why, "disk formats 2..2") != NULL,
	    "disjoint disk ranges refused (%s)", why);
	T_OK(sw_parse("2.0.0;22222222;n;w1-1;d1-1;aarch64", &b) == 0 &&
	    sw_compatible(&a, &b, why, sizeof(why)) == 0 &&
	    strstr(why, "aarch64") != NULL, "another arch refused (%s)", why);
	T_OK(sw_parse("0.0.9", &b) == 0 && sw_compatible(&a, &b, why,
	    sizeof(why)) == 1, "a version-only peer pairs");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_codec();
	test_file();
	test_decide();
	test_sec();
	test_info();
	test_swver();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return t_done();
}

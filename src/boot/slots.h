/*
 * slots.h — a head's two local software slots and their slot record,
 * the configuration's image section, and duonas-boot's decision
 * (docs/boot-images.md).  The record and section codecs and
 * boot_decide() are pure; the slot functions name their files.
 * Failures fill err with one line naming the problem.  Any thread.
 */
#ifndef DUONAS_SLOTS_H
#define DUONAS_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "image/image.h"

/* ---- slot record (DIR/slotrec) --------------------------------------- */

#define SLOTREC_MAGIC		0x44534C52u	/* "DSLR" */
#define SLOTREC_VERSION		1
#define SLOTREC_COPY_LEN	512
#define SLOTREC_NOTE_MAX	83
#define SLOTREC_REASON_MAX	123

enum slot_state { SLOT_EMPTY = 0, SLOT_GOOD = 1, SLOT_NEW = 2, SLOT_BAD = 3 };

struct slot_ent {
	uint8_t		state;			/* enum slot_state */
	uint8_t		attempts;
	char		version[IMG_VERSION_MAX + 1];
	uint8_t		digest[IMG_DIGEST_LEN];
	uint64_t	installed;		/* wall-clock seconds */
	char		reason[SLOTREC_REASON_MAX + 1];
};

struct slotrec {
	uint64_t	seq;
	uint8_t		primary;		/* 0 A, 1 B */
	uint8_t		last_booted;		/* 0, 1, 255 none */
	struct slot_ent	s[2];
	char		note[SLOTREC_NOTE_MAX + 1];
};

const char *slot_name(int slot);		/* "A", "B" */
const char *slot_state_name(int state);		/* "empty" "good" "new" "bad" */

/* One copy (512 bytes).  Encode fails (-1) on a bad field. */
int	slotrec_encode(const struct slotrec *, uint8_t out[SLOTREC_COPY_LEN]);
/* 0, or -1 with err (magic, version, CRC, field). */
int	slotrec_decode(const uint8_t in[SLOTREC_COPY_LEN], struct slotrec *,
	    char *err, size_t errlen);
/*
 * Read DIR/slotrec: the valid copy with the higher seq.  0; 1 when the
 * file does not exist or holds no valid copy (*r zeroed, primary 0,
 * last_booted 255; err says which); -1 on an I/O error.
 */
int	slotrec_read(const char *dir, struct slotrec *r, char *err,
	    size_t errlen);
/*
 * Write r as the next record: r->seq is incremented, the copy seq % 2
 * is written in place and fdatasync'ed (the file is created, 1024
 * bytes, when missing; the directory then fsync'ed).  0 or -1.
 */
int	slotrec_write(const char *dir, struct slotrec *r, char *err,
	    size_t errlen);

/* ---- slots (DIR/A, DIR/B) --------------------------------------------- */

/*
 * Verify slot (0/1) under dir: DIR/X/image verifies (img_verify with the
 * keys), runs here (img_runs_here), and the extracted files match it
 * (img_check_files).  0 with *info, or -1 with err.
 */
int	slot_verify(const char *dir, int slot,
	    const uint8_t keys[][IMG_PUBKEY_LEN], int nkeys,
	    struct img_info *info, char *err, size_t errlen);
/*
 * Install a verified image (data/len, info from img_verify) into slot:
 * DIR/X.new is made, the image and its files written and fsync'ed,
 * DIR/X removed, DIR/X.new renamed to DIR/X, DIR fsync'ed.  The slot
 * record is not touched (the caller writes it after).  0 or -1.
 */
int	slot_install(const char *dir, int slot, const uint8_t *data,
	    size_t len, const struct img_info *info, char *err,
	    size_t errlen);
/* Read DIR/X/image into a malloc'd buffer (*datap, *lenp).  0 or -1. */
int	slot_read_image(const char *dir, int slot, uint8_t **datap,
	    size_t *lenp, char *err, size_t errlen);

/* ---- the configuration's image section (<state>/image/boot) ----------- */

struct boot_ref {
	int		set;
	char		version[IMG_VERSION_MAX + 1];
	uint8_t		digest[IMG_DIGEST_LEN];
	uint64_t	size;
};

struct boot_sec {
	int		nkeys;
	uint8_t		keys[IMG_MAX_KEYS][IMG_PUBKEY_LEN];
	struct boot_ref	preferred, previous;
	char		floor[IMG_VERSION_MAX + 1];	/* "" none */
};

/*
 * Parse the section text (lines "key HEX64", "preferred V DIGEST SIZE",
 * "previous V DIGEST SIZE", "floor V"; at most one of each but key;
 * duplicates, unknown words, bad hex or versions refused with the line
 * number).  Empty text: an empty section.  0 or -1.
 */
int	boot_sec_parse(const char *text, size_t len, struct boot_sec *,
	    char *err, size_t errlen);
/* Canonical text (keys first, then preferred, previous, floor). */
void	boot_sec_format(const struct boot_sec *, struct buf *out);
/* Read a section file; a missing file is an empty section (0). */
int	boot_sec_load(const char *path, struct boot_sec *, char *err,
	    size_t errlen);

/* ---- duonas-boot's decision (pure) -------------------------------------- */

struct boot_in {
	struct slotrec	rec;		/* as read (or made) */
	int		valid[2];	/* slot verified this boot */
	char		why_invalid[2][SLOTREC_REASON_MAX + 1];
	struct img_info	info[2];	/* valid slots */
	struct boot_ref	preferred;	/* from the section (set 0: none) */
	int		max_attempts;	/* boot { attempts } */
};

enum boot_action {
	BOOT_RUN = 0,		/* exec out.slot */
	BOOT_INSTALL = 1,	/* fetch in.preferred from the store,
				 * install into out.slot, then decide again */
	BOOT_NONE = 2,		/* no valid slot: exit 78 */
};

struct boot_out {
	enum boot_action action;
	int		 slot;
	struct slotrec	 rec;		/* the record to write before acting
					 * (bad marks, attempts, primary,
					 * note); write it when changed */
	int		 changed;
	char		 note[SLOTREC_NOTE_MAX + 1];	/* for the log */
};

/*
 * Decide, in this order: slots that failed verification become bad
 * (reason from why_invalid); a primary that is not valid gives way to
 * the other valid slot; a preferred image that no valid slot holds and
 * that is not recorded bad in a slot (same digest) is to be installed
 * into the slot that is not primary (BOOT_INSTALL); a primary in state
 * new with attempts >= max_attempts is marked bad ("did not reach good
 * in N attempts") and the other valid slot becomes primary; a primary
 * in state new gets attempts + 1; then BOOT_RUN the primary.  A slot
 * holding the preferred image is made primary when valid and not bad.
 */
void	boot_decide(const struct boot_in *, struct boot_out *);

/* ---- what duonas-boot tells the daemon, and the daemon's answer -------- */

/*
 * DUONAS_BOOT_INFO, set by duonas-boot for the daemon it execs:
 * "slot=A dir=PATH version=V digest=HEX64 state=new attempts=1
 * note=TEXT" (note last: the rest of the string; dir without blanks).
 */
#define BOOT_INFO_ENV	"DUONAS_BOOT_INFO"

struct boot_info {
	int		slot;			/* 0 A, 1 B */
	char		dir[256];
	char		version[IMG_VERSION_MAX + 1];
	uint8_t		digest[IMG_DIGEST_LEN];
	int		state;			/* enum slot_state */
	int		attempts;
	char		note[SLOTREC_NOTE_MAX + 1];
};

void	boot_info_format(const struct boot_info *, char *out, size_t outlen);
/* 0, or -1 (a field missing or malformed). */
int	boot_info_parse(const char *s, struct boot_info *);

/*
 * The daemon reached good (DAC or DEGRADED for boot { good-after }):
 * the record's slot, when it still holds digest and is new, becomes
 * good with attempts 0.  0 when it changed it, 1 when there was nothing
 * to do, -1 with err.
 */
int	slots_mark_good(const char *dir, int slot,
	    const uint8_t digest[IMG_DIGEST_LEN], char *err, size_t errlen);

/* ---- the heartbeat's software string (swver.c, pure) ------------------- */

/*
 * "VERSION;DIGEST8;STATE;wMIN-MAX;dMIN-MAX;ARCH" (no blanks: printable
 * ASCII without spaces, what every head's heartbeat decoder accepts):
 * STATE g (slot good), n (new), - (not started by duonas-boot, DIGEST8
 * "-" too).  A head from before images sends only "VERSION" (full 0).
 */
struct sw_string {
	int		full;
	char		version[IMG_VERSION_MAX + 1];
	char		digest8[16];
	char		state;
	uint32_t	wmin, wmax, dmin, dmax;
	char		arch[32];
};

/* At most len - 1 characters; the arch is left out when it does not
 * fit. */
void	sw_format(char *out, size_t len, const struct sw_string *);
/* 0, or -1 when malformed. */
int	sw_parse(const char *s, struct sw_string *);
/* May a head running me pair with one running p?  Format ranges
 * overlap and the archs match (either side version-only: yes).  1, or
 * 0 with why. */
int	sw_compatible(const struct sw_string *me, const struct sw_string *p,
	    char *why, size_t whylen);

#endif

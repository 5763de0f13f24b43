/*
 * slotrec.c — the slot management record (DIR/slotrec,
 * docs/boot-images.md "Slot record"): the 512-byte copy codec and the
 * file with its two copies.  A write goes to copy seq % 2 only and is
 * fdatasync'ed, so a write torn by a power cut damages at most the copy
 * being written; the reader takes the valid copy with the higher seq,
 * which is then the last complete record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/slots.h"
#include "pool/pext.h"

#define SLOTREC_FILE_LEN	(2 * SLOTREC_COPY_LEN)
#define ENT_OFF			20
#define ENT_LEN			200
#define NOTE_OFF		420
#define NOTE_LEN		84
#define CRC_OFF			508
#define VERSION_LEN		32
#define REASON_LEN		124

const char *
slot_name(int slot)
{
	return slot == 0 ? "A" : slot == 1 ? "B" : "?";
}

const char *
slot_state_name(int state)
{
	switch (state) {
	case SLOT_EMPTY:
		return "empty";
	case SLOT_GOOD:
		return "good";
	case SLOT_NEW:
		return "new";
	case SLOT_BAD:
		return "bad";
	}
	return "?";
}

/* Copy a string into a NUL-padded field that must keep one NUL. */
static int
put_str(uint8_t *dst, size_t fieldlen, const char *s)
{
	size_t	n = strnlen(s, fieldlen);

	if (n >= fieldlen)
		return -1;
	memset(dst, 0, fieldlen);
	memcpy(dst, s, n);
	return 0;
}

/* The field must hold a NUL (the struct strings are one shorter). */
static int
get_str(char *dst, const uint8_t *src, size_t fieldlen)
{
	const uint8_t	*nul = memchr(src, 0, fieldlen);

	if (nul == NULL)
		return -1;
	memcpy(dst, src, (size_t)(nul - src) + 1);
	return 0;
}

int
slotrec_encode(const struct slotrec *r, uint8_t out[SLOTREC_COPY_LEN])
{
	memset(out, 0, SLOTREC_COPY_LEN);
	if (r->primary > 1 || (r->last_booted > 1 && r->last_booted != 255))
		return -1;
	put_be32(out, SLOTREC_MAGIC);
	put_be16(out + 4, SLOTREC_VERSION);
	put_be16(out + 6, 0);
	put_be64(out + 8, r->seq);
	out[16] = r->primary;
	out[17] = r->last_booted;
	for (int i = 0; i < 2; i++) {
		const struct slot_ent	*e = &r->s[i];
		uint8_t			*p = out + ENT_OFF + i * ENT_LEN;

		if (e->state > SLOT_BAD)
			return -1;
		p[0] = e->state;
		p[1] = e->attempts;
		if (put_str(p + 4, VERSION_LEN, e->version) < 0)
			return -1;
		memcpy(p + 36, e->digest, IMG_DIGEST_LEN);
		put_be64(p + 68, e->installed);
		if (put_str(p + 76, REASON_LEN, e->reason) < 0)
			return -1;
	}
	if (put_str(out + NOTE_OFF, NOTE_LEN, r->note) < 0)
		return -1;
	put_be32(out + CRC_OFF, pext_crc32c(0, out, CRC_OFF));
	return 0;
}

int
slotrec_decode(const uint8_t in[SLOTREC_COPY_LEN], struct slotrec *r,
    char *err, size_t errlen)
{
	uint32_t	v;

	memset(r, 0, sizeof(*r));
	if ((v = get_be32(in)) != SLOTREC_MAGIC) {
		snprintf(err, errlen, "bad magic 0x%08x", v);
		return -1;
	}
	if ((v = get_be16(in + 4)) != SLOTREC_VERSION) {
		snprintf(err, errlen, "unsupported version %u", v);
		return -1;
	}
	if ((v = get_be32(in + CRC_OFF)) != pext_crc32c(0, in, CRC_OFF)) {
		snprintf(err, errlen, "CRC mismatch");
		return -1;
	}
	if (get_be16(in + 6) != 0) {
		snprintf(err, errlen, "unknown flags 0x%04x",
		    get_be16(in + 6));
		return -1;
	}
	r->seq = get_be64(in + 8);
	r->primary = in[16];
	r->last_booted = in[17];
	if (r->primary > 1) {
		snprintf(err, errlen, "bad primary %u", r->primary);
		return -1;
	}
	if (r->last_booted > 1 && r->last_booted != 255) {
		snprintf(err, errlen, "bad last_booted %u", r->last_booted);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		struct slot_ent	*e = &r->s[i];
		const uint8_t	*p = in + ENT_OFF + i * ENT_LEN;

		if (p[0] > SLOT_BAD) {
			snprintf(err, errlen, "slot %s: bad state %u",
			    slot_name(i), p[0]);
			return -1;
		}
		e->state = p[0];
		e->attempts = p[1];
		memcpy(e->digest, p + 36, IMG_DIGEST_LEN);
		e->installed = get_be64(p + 68);
		if (get_str(e->version, p + 4, VERSION_LEN) < 0 ||
		    get_str(e->reason, p + 76, REASON_LEN) < 0) {
			snprintf(err, errlen, "slot %s: text field not "
			    "terminated", slot_name(i));
			return -1;
		}
	}
	if (get_str(r->note, in + NOTE_OFF, NOTE_LEN) < 0) {
		snprintf(err, errlen, "note not terminated");
		return -1;
	}
	return 0;
}

static void
rec_empty(struct slotrec *r)
{
	memset(r, 0, sizeof(*r));
	r->last_booted = 255;
}

int
slotrec_read(const char *dir, struct slotrec *r, char *err, size_t errlen)
{
	uint8_t		 buf[SLOTREC_FILE_LEN];
	struct slotrec	 c[2];
	char		 path[4096], e[2][128];
	int		 fd, ok[2];
	ssize_t		 n;

	rec_empty(r);
	snprintf(path, sizeof(path), "%s/slotrec", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			snprintf(err, errlen, "%s: no slot record yet", path);
			return 1;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(buf, 0, sizeof(buf));
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < 2; i++) {
		if ((size_t)n < (size_t)(i + 1) * SLOTREC_COPY_LEN) {
			snprintf(e[i], sizeof(e[i]), "missing (file is %zd "
			    "bytes)", n);
			ok[i] = 0;
			continue;
		}
		ok[i] = slotrec_decode(buf + i * SLOTREC_COPY_LEN, &c[i], e[i],
		    sizeof(e[i])) == 0;
	}
	if (!ok[0] && !ok[1]) {
		snprintf(err, errlen, "%s: no valid copy (copy 0: %s; "
		    "copy 1: %s)", path, e[0], e[1]);
		return 1;
	}
	if (ok[0] && ok[1])
		*r = c[1].seq > c[0].seq ? c[1] : c[0];
	else
		*r = ok[0] ? c[0] : c[1];
	return 0;
}

int
slotrec_write(const char *dir, struct slotrec *r, char *err, size_t errlen)
{
	uint8_t		 copy[SLOTREC_COPY_LEN];
	char		 path[4096];
	struct stat	 st;
	int		 fd, created = 0;

	r->seq++;
	if (slotrec_encode(r, copy) < 0) {
		snprintf(err, errlen, "slot record: a field is out of range");
		return -1;
	}
	if (mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/slotrec", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		if (errno != ENOENT ||
		    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		created = 1;
	}
	/* a file cut short (a crash while it was created) is made whole:
	 * the missing copy reads as zeros, which never decode */
	if (fstat(fd, &st) < 0 || (st.st_size < SLOTREC_FILE_LEN &&
	    ftruncate(fd, SLOTREC_FILE_LEN) < 0)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (pwrite(fd, copy, sizeof(copy), (off_t)(r->seq % 2) *
	    SLOTREC_COPY_LEN) != (ssize_t)sizeof(copy) ||
	    fdatasync(fd) < 0) {
		snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (created && fsync_dir(dir) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

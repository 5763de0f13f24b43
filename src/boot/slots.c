/*
 * slots.c — the two local software slots (DIR/A, DIR/B): verify a slot
 * completely (signature, arch, every extracted file), install an image
 * into one without touching the other (DIR/X.new made whole and synced,
 * then swapped in by rename), and the daemon's "reached good" mark in
 * the slot record.  docs/boot-images.md "Local slots".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot/slots.h"

/* Largest image file img_parse accepts. */
#define IMG_FILE_MAX	((size_t)IMG_HDR_LEN + IMG_MANIFEST_MAX + \
			    IMG_PAYLOAD_MAX + IMG_SIG_LEN)

/*
 * Test hook: DUONAS_BOOT_TEST_SLEEP_MS pauses between the install steps
 * so a test can kill -9 the installer at each of them.
 */
static void
test_pause(void)
{
	const char	*s = getenv("DUONAS_BOOT_TEST_SLEEP_MS");
	long		 ms;

	if (s == NULL || (ms = strtol(s, NULL, 10)) <= 0)
		return;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int
slot_read_image(const char *dir, int slot, uint8_t **datap, size_t *lenp,
    char *err, size_t errlen)
{
	char	path[4096];

	snprintf(path, sizeof(path), "%s/%s/image", dir, slot_name(slot));
	if (file_read_all(path, IMG_FILE_MAX, datap, lenp) < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
		    "larger than any image" : strerror(errno));
		return -1;
	}
	return 0;
}

int
slot_verify(const char *dir, int slot, const uint8_t keys[][IMG_PUBKEY_LEN],
    int nkeys, struct img_info *info, char *err, size_t errlen)
{
	uint8_t	*data;
	size_t	 len;
	char	 sdir[4096], e[256];
	int	 rv;

	if (slot_read_image(dir, slot, &data, &len, err, errlen) < 0)
		return -1;
	rv = img_verify(data, len, keys, nkeys, info, e, sizeof(e));
	free(data);
	if (rv < 0) {
		snprintf(err, errlen, "image: %s", e);
		return -1;
	}
	if (!img_runs_here(&info->m, e, sizeof(e))) {
		snprintf(err, errlen, "image does not run here: %s", e);
		return -1;
	}
	snprintf(sdir, sizeof(sdir), "%s/%s", dir, slot_name(slot));
	if (img_check_files(info, sdir, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

/* Remove a slot directory: it holds only regular files (no subdirs). */
static int
rm_slotdir(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[4096];

	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (unlink(p) < 0 && errno != ENOENT) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
slot_install(const char *dir, int slot, const uint8_t *data, size_t len,
    const struct img_info *info, char *err, size_t errlen)
{
	char	fin[4096], tmp[4096], img[4200], e[256];

	if (slot != 0 && slot != 1) {
		snprintf(err, errlen, "bad slot %d", slot);
		return -1;
	}
	snprintf(fin, sizeof(fin), "%s/%s", dir, slot_name(slot));
	snprintf(tmp, sizeof(tmp), "%s/%s.new", dir, slot_name(slot));
	if (mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* what an interrupted install left */
	if (rm_slotdir(tmp) < 0 || mkdir(tmp, 0755) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	snprintf(img, sizeof(img), "%s/image", tmp);
	if (file_write_atomic(img, data, len, 0644) < 0) {
		snprintf(err, errlen, "%s: %s", img, strerror(errno));
		return -1;
	}
	test_pause();
	if (img_extract(data, info, tmp, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, e);
		return -1;
	}
	if (fsync_dir(tmp) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		return -1;
	}
	test_pause();
	if (rm_slotdir(fin) < 0) {
		snprintf(err, errlen, "%s: remove: %s", fin, strerror(errno));
		return -1;
	}
	test_pause();
	if (rename(tmp, fin) < 0 || fsync_dir(dir) < 0) {
		snprintf(err, errlen, "%s: %s", fin, strerror(errno));
		return -1;
	}
	return 0;
}

int
slots_mark_good(const char *dir, int slot,
    const uint8_t digest[IMG_DIGEST_LEN], char *err, size_t errlen)
{
	struct slotrec	 r;
	struct slot_ent	*e;
	int		 rv;

	if (slot != 0 && slot != 1) {
		snprintf(err, errlen, "bad slot %d", slot);
		return -1;
	}
	if ((rv = slotrec_read(dir, &r, err, errlen)) != 0)
		return -1;
	e = &r.s[slot];
	if (e->state != SLOT_NEW ||
	    memcmp(e->digest, digest, IMG_DIGEST_LEN) != 0)
		return 1;
	e->state = SLOT_GOOD;
	e->attempts = 0;
	e->reason[0] = 0;
	snprintf(r.note, sizeof(r.note), "%s %s reached good",
	    slot_name(slot), e->version);
	if (slotrec_write(dir, &r, err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * decide.c — duonas-boot's decision (pure): from the slot record, what
 * this boot's verification found and the configuration's preferred
 * image, which slot to run, whether to install the preferred image
 * first, and the record to write.  docs/boot-images.md "duonas-boot".
 *
 * Two kinds of bad: a slot that fails verification loses its digest
 * (its contents are not that image any more, so the preferred image may
 * be installed again from the store); a slot that crash-looped keeps
 * its digest, so the same image is never installed again and the head
 * stays on the slot that works.
 */
#include <stdio.h>
#include <string.h>

#include "boot/slots.h"

static const uint8_t zero_digest[IMG_DIGEST_LEN];

/* The record's fields compared as the bytes they encode to. */
static int
rec_differs(const struct slotrec *a, const struct slotrec *b)
{
	uint8_t	ea[SLOTREC_COPY_LEN], eb[SLOTREC_COPY_LEN];

	if (slotrec_encode(a, ea) < 0 || slotrec_encode(b, eb) < 0)
		return 1;
	return memcmp(ea, eb, SLOTREC_COPY_LEN) != 0;
}

/* Notes and reasons are cut to their fields. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t	n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void
set_note(struct boot_out *o, const char *note)
{
	copy_cut(o->rec.note, sizeof(o->rec.note), note);
	copy_cut(o->note, sizeof(o->note), note);
}

void
boot_decide(const struct boot_in *in, struct boot_out *o)
{
	struct slotrec	*r;
	char		 m[256];
	int		 usable[2], p, q, anyvalid;

	memset(o, 0, sizeof(*o));
	o->rec = in->rec;
	r = &o->rec;

	/* 1. what verification found */
	for (int i = 0; i < 2; i++) {
		struct slot_ent *e = &r->s[i];

		if (!in->valid[i]) {
			if (e->state == SLOT_EMPTY &&
			    memcmp(e->digest, zero_digest, IMG_DIGEST_LEN) == 0)
				continue;	/* never held anything */
			if (e->state != SLOT_BAD || strcmp(e->reason,
			    in->why_invalid[i]) != 0 || memcmp(e->digest,
			    zero_digest, IMG_DIGEST_LEN) != 0) {
				e->state = SLOT_BAD;
				e->attempts = 0;
				copy_cut(e->reason, sizeof(e->reason),
				    in->why_invalid[i]);
				memset(e->digest, 0, IMG_DIGEST_LEN);
				snprintf(m, sizeof(m), "slot %s bad: %s",
				    slot_name(i), in->why_invalid[i]);
				set_note(o, m);
			}
			continue;
		}
		if (memcmp(e->digest, in->info[i].digest,
		    IMG_DIGEST_LEN) != 0) {
			/* the slot holds an image the record does not name:
			 * a first start (no record) trusts it as good; else
			 * an install the record never saw completes as new */
			e->state = e->state == SLOT_EMPTY ? SLOT_GOOD :
			    SLOT_NEW;
			e->attempts = 0;
			e->reason[0] = 0;
			memcpy(e->digest, in->info[i].digest, IMG_DIGEST_LEN);
		}
		snprintf(e->version, sizeof(e->version), "%s",
		    in->info[i].m.version);
	}
	anyvalid = in->valid[0] || in->valid[1];
	for (int i = 0; i < 2; i++)
		usable[i] = in->valid[i] && r->s[i].state != SLOT_BAD;

	/* 2. a primary that cannot run gives way */
	p = r->primary;
	q = 1 - p;
	if (!usable[p] && usable[q]) {
		snprintf(m, sizeof(m), "primary %s unusable (%s); switched to "
		    "%s %s", slot_name(p), in->valid[p] ? "bad" : "invalid",
		    slot_name(q), r->s[q].version);
		set_note(o, m);
		r->primary = (uint8_t)q;
	}
	p = r->primary;
	q = 1 - p;

	/* 3. the preferred image */
	if (in->preferred.set) {
		int held = -1, bad = -1;

		for (int i = 0; i < 2; i++) {
			if (memcmp(r->s[i].digest, in->preferred.digest,
			    IMG_DIGEST_LEN) != 0)
				continue;
			if (r->s[i].state == SLOT_BAD)
				bad = i;
			else if (usable[i])
				held = i;
		}
		if (held >= 0 && held != p) {
			snprintf(m, sizeof(m), "switched to %s: it holds the "
			    "preferred %s", slot_name(held),
			    in->preferred.version);
			set_note(o, m);
			r->primary = (uint8_t)held;
			p = held;
			q = 1 - p;
		} else if (held < 0 && bad >= 0) {
			snprintf(m, sizeof(m), "preferred %s is bad here "
			    "(%s); stays on %s", in->preferred.version,
			    r->s[bad].reason, slot_name(p));
			/* the record keeps the fallback's note; log only */
			copy_cut(o->note, sizeof(o->note), m);
		} else if (held < 0) {
			o->action = BOOT_INSTALL;
			o->slot = usable[p] ? q : (usable[q] ? p : q);
			snprintf(o->note, sizeof(o->note), "install preferred "
			    "%s into %s", in->preferred.version,
			    slot_name(o->slot));
			o->changed = rec_differs(&in->rec, r);
			return;
		}
	}
	if (!anyvalid) {
		o->action = BOOT_NONE;
		o->slot = -1;
		snprintf(o->note, sizeof(o->note), "no valid slot");
		o->changed = rec_differs(&in->rec, r);
		return;
	}
	if (!usable[p]) {
		/* only bad but verifying slots: run one rather than none */
		if (!in->valid[p])
			r->primary = (uint8_t)q;
		p = r->primary;
		q = 1 - p;
		snprintf(m, sizeof(m), "only bad slots; running %s %s anyway",
		    slot_name(p), r->s[p].version);
		set_note(o, m);
	}

	/* 4. boot counting of a new primary */
	if (r->s[p].state == SLOT_NEW) {
		if (r->s[p].attempts >= in->max_attempts && usable[q]) {
			r->s[p].state = SLOT_BAD;
			snprintf(r->s[p].reason, sizeof(r->s[p].reason),
			    "did not reach good in %d attempts",
			    in->max_attempts);
			snprintf(m, sizeof(m), "fell back to %s: %s did not "
			    "reach good in %d attempts", slot_name(q),
			    r->s[p].version, in->max_attempts);
			set_note(o, m);
			r->primary = (uint8_t)q;
			p = q;
			q = 1 - p;
		}
		if (r->s[p].state == SLOT_NEW && r->s[p].attempts < 255)
			r->s[p].attempts++;
	}

	/* 5. run the primary */
	r->last_booted = (uint8_t)p;
	o->action = BOOT_RUN;
	o->slot = p;
	if (o->note[0] == 0) {
		if (r->s[p].state == SLOT_NEW)
			snprintf(m, sizeof(m), "boot %s %s (new, attempt %u)",
			    slot_name(p), r->s[p].version, r->s[p].attempts);
		else
			snprintf(m, sizeof(m), "boot %s %s (%s)", slot_name(p),
			    r->s[p].version, slot_state_name(r->s[p].state));
		copy_cut(o->note, sizeof(o->note), m);
	}
	o->changed = rec_differs(&in->rec, r);
}

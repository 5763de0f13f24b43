/*
 * duonas-boot.c — the loader systemd starts instead of duonasd
 * (duonas-boot(8), docs/boot-images.md "duonas-boot"): verify both
 * local slots, install the cluster's preferred image from the LUNs'
 * image store when no valid slot holds it, count the boots of a new
 * slot and fall back after too many, then exec the chosen slot's
 * duonasd with DUONAS_BOOT_INFO.  Also `install IMAGE` (an admin's
 * explicit install, the first one on a new head) and `status`.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "boot/slots.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "pool/img_store.h"

#define EX_OK_		0
#define EX_USAGE_	64
#define EX_DATAERR_	65
#define EX_IOERR_	74
#define EX_CONFIG_	78

#define IMG_FILE_MAX	((size_t)IMG_HDR_LEN + IMG_MANIFEST_MAX + \
			    IMG_PAYLOAD_MAX + IMG_SIG_LEN)

struct ctx {
	const char	*conf;
	const char	*head;
	struct cfg	 cfg;
	int		 self;
	char		 dir[4096];		/* slot directory */
	char		 secpath[4096];		/* <state>/image/boot */
	struct boot_sec	 sec;
	/* the section's, boot { keys }, --keys */
	uint8_t		 keys[IMG_MAX_KEYS + 2][IMG_PUBKEY_LEN];
	int		 nkeys;
};

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "duonas-boot: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: duonas-boot [-c CONF] [-n HEAD] [--dry-run] "
	    "[-- DAEMON-ARGS...]\n"
	    "       duonas-boot install IMAGE [-c CONF] [-n HEAD] "
	    "[--keys PUBFILE]\n"
	    "       duonas-boot status [-c CONF] [-n HEAD]\n\n"
	    "Pick, install and start this head's software slot "
	    "(duonas-boot(8)).\n\n"
	    "  -c CONF        configuration file (default "
	    "%s/duonas/duonas.conf)\n"
	    "  -n HEAD        which head of CONF this is (default: the head "
	    "named like this host)\n"
	    "  --dry-run      decide and print, change nothing, run nothing\n"
	    "  --keys PUBFILE also trust this public key (install)\n"
	    "  -h, --help     this text\n"
	    "  -V             print the version\n", SYSCONFDIR);
}

static int
pick_head(struct cfg *cfg, const char *name)
{
	char	err[CFG_PATH_MAX + 128];
	int	i;

	if ((i = cfg_pick_head(cfg, name, err, sizeof(err))) < 0)
		say("%s", err);
	return i;
}

/* Configuration, head, slot directory, image section, trusted keys. */
static int
setup(struct ctx *c, const char *extra_keys)
{
	char	err[512], e2[512], path[4200];

	if (cfg_parse(c->conf, &c->cfg, err, sizeof(err)) < 0) {
		/* the last committed configuration, as the daemon does */
		snprintf(path, sizeof(path), "%s.committed", c->conf);
		if (cfg_parse(path, &c->cfg, e2, sizeof(e2)) < 0) {
			say("%s", err);
			return EX_CONFIG_;
		}
		say("%s; using %s", err, path);
	}
	if ((c->self = pick_head(&c->cfg, c->head)) < 0)
		return EX_CONFIG_;
	c->head = c->cfg.heads[c->self].name;
	cfg_boot_dir(&c->cfg, &c->cfg.heads[c->self], c->dir, sizeof(c->dir));
	if (strlen(c->dir) >= sizeof(((struct boot_info *)0)->dir) ||
	    strpbrk(c->dir, " \t\n") != NULL) {
		say("slot directory %s: longer than 255 bytes or has blanks",
		    c->dir);
		return EX_CONFIG_;
	}
	snprintf(c->secpath, sizeof(c->secpath), "%s/image/boot",
	    c->cfg.heads[c->self].statedir);
	if (boot_sec_load(c->secpath, &c->sec, err, sizeof(err)) < 0) {
		/* a broken section names no image and no key: boot what
		 * the slots hold with the bootstrap keys */
		say("%s; ignoring the image section", err);
		memset(&c->sec, 0, sizeof(c->sec));
	}
	/* A cold start of a new cluster (no preferred image yet) whose
	 * peer runs newer software: the daemon left the peer's image as
	 * <statedir>/image/adopt ("preferred V DIGEST SIZE") before it
	 * restarted; it counts as the preferred image until the cluster
	 * names one (docs/boot-images.md, "Which image a head runs"). */
	if (!c->sec.preferred.set) {
		struct boot_sec	hint;

		snprintf(path, sizeof(path), "%s/image/adopt",
		    c->cfg.heads[c->self].statedir);
		if (boot_sec_load(path, &hint, err, sizeof(err)) == 0 &&
		    hint.preferred.set) {
			c->sec.preferred = hint.preferred;
			say("cold start: adopting the peer's image %s",
			    hint.preferred.version);
		}
	}
	c->nkeys = 0;
	for (int i = 0; i < c->sec.nkeys; i++)
		memcpy(c->keys[c->nkeys++], c->sec.keys[i], IMG_PUBKEY_LEN);
	const char *files[2] = { c->cfg.boot_keys, extra_keys };
	for (int i = 0; i < 2; i++) {
		struct stat st;

		if (files[i] == NULL || files[i][0] == 0)
			continue;
		if (i == 0 && stat(files[i], &st) < 0 && errno == ENOENT)
			continue;
		if (img_pubkey_load(files[i], c->keys[c->nkeys], err,
		    sizeof(err)) < 0) {
			say("%s", err);
			return EX_CONFIG_;
		}
		c->nkeys++;
	}
	if (c->nkeys == 0) {
		say("no trusted image key: neither %s nor boot { keys } "
		    "names one", c->secpath);
		return EX_CONFIG_;
	}
	return 0;
}

static void
verify_slots(struct ctx *c, struct boot_in *in)
{
	for (int i = 0; i < 2; i++) {
		in->valid[i] = slot_verify(c->dir, i,
		    (const uint8_t (*)[IMG_PUBKEY_LEN])c->keys, c->nkeys,
		    &in->info[i], in->why_invalid[i],
		    sizeof(in->why_invalid[i])) == 0;
		if (!in->valid[i] && in->rec.s[i].state != SLOT_EMPTY)
			say("slot %s: %s", slot_name(i), in->why_invalid[i]);
	}
}

/*
 * The preferred image's bytes: from the LUNs' image store, or, for
 * tests without LUNs, DUONAS_BOOT_TEST_STORE/<digest hex>.  0, 1 not
 * held anywhere, -1 error.
 */
static int
store_get(struct ctx *c, const uint8_t digest[IMG_DIGEST_LEN], void **data,
    size_t *len, char *err, size_t errlen)
{
	const char	*td = getenv("DUONAS_BOOT_TEST_STORE");
	char		 hx[2 * IMG_DIGEST_LEN + 1], path[4200];

	if (td != NULL && *td) {
		img_digest_hex(digest, hx);
		snprintf(path, sizeof(path), "%s/%s", td, hx);
		if (file_read_all(path, IMG_FILE_MAX, (uint8_t **)data,
		    len) < 0) {
			snprintf(err, errlen, "%s: %s", path,
			    strerror(errno));
			return errno == ENOENT ? 1 : -1;
		}
		return 0;
	}
	return img_store_get(&c->cfg, c->cfg.heads[c->self].id, digest, data,
	    len, err, errlen);
}

/* Fetch, verify and install the preferred image into slot.  0 or -1. */
static int
install_preferred(struct ctx *c, struct boot_in *in, int slot,
    struct slotrec *rec)
{
	const struct boot_ref	*p = &in->preferred;
	struct img_info		 info;
	void			*data = NULL;
	size_t			 len = 0;
	char			 err[4608], why[256];
	int			 rv;

	rv = store_get(c, p->digest, &data, &len, err, sizeof(err));
	if (rv != 0) {
		say("preferred %s: %s", p->version, rv > 0 ?
		    "no LUN's image store holds it" : err);
		free(data);
		return -1;
	}
	rv = -1;
	if (img_verify(data, len, (const uint8_t (*)[IMG_PUBKEY_LEN])c->keys,
	    c->nkeys, &info, err, sizeof(err)) < 0)
		say("preferred %s from the store: %s", p->version, err);
	else if (memcmp(info.digest, p->digest, IMG_DIGEST_LEN) != 0)
		say("preferred %s from the store: digest differs from the "
		    "configuration's", p->version);
	else if (!img_runs_here(&info.m, why, sizeof(why)))
		say("preferred %s does not run here: %s", p->version, why);
	else if (c->sec.floor[0] &&
	    img_version_cmp(info.m.version, c->sec.floor) < 0)
		say("preferred %s is older than the floor %s: refused",
		    info.m.version, c->sec.floor);
	else if (slot_install(c->dir, slot, data, len, &info, err,
	    sizeof(err)) < 0)
		say("install into slot %s: %s", slot_name(slot), err);
	else
		rv = 0;
	free(data);
	if (rv < 0)
		return -1;
	struct slot_ent *e = &rec->s[slot];
	memset(e, 0, sizeof(*e));
	e->state = SLOT_NEW;
	snprintf(e->version, sizeof(e->version), "%s", info.m.version);
	memcpy(e->digest, info.digest, IMG_DIGEST_LEN);
	e->installed = wall_ms() / 1000;
	rec->primary = (uint8_t)slot;
	snprintf(rec->note, sizeof(rec->note), "installed %s into %s from "
	    "the store", info.m.version, slot_name(slot));
	say("%s", rec->note);
	return 0;
}

static int
cmd_boot(struct ctx *c, int dry, char **dargs, int ndargs)
{
	struct boot_in	 in;
	struct boot_out	 out;
	char		 err[512];
	int		 rv, dirty = 0;

	if ((rv = setup(c, NULL)) != 0)
		return rv;
	memset(&in, 0, sizeof(in));
	if ((rv = slotrec_read(c->dir, &in.rec, err, sizeof(err))) < 0) {
		say("%s", err);
		return EX_IOERR_;
	}
	if (rv > 0)
		say("%s; made from what the slots hold", err);
	in.preferred = c->sec.preferred;
	in.max_attempts = c->cfg.boot_attempts > 0 ? c->cfg.boot_attempts : 3;
	verify_slots(c, &in);
	for (int round = 0; ; round++) {
		boot_decide(&in, &out);
		dirty |= out.changed;
		say("%s", out.note);
		if (out.action != BOOT_INSTALL)
			break;
		/* what this round decided (bad marks) stands either way */
		in.rec = out.rec;
		if (dry || round > 0) {
			/* one install per start; dry run: just say it */
			in.preferred.set = 0;
			continue;
		}
		if (install_preferred(c, &in, out.slot, &in.rec) < 0) {
			say("keeping what this head has");
			in.preferred.set = 0;
			continue;
		}
		if (slotrec_write(c->dir, &in.rec, err, sizeof(err)) < 0) {
			say("%s", err);
			return EX_IOERR_;
		}
		dirty = 0;
		/* check what is now on disk, as every boot does */
		in.valid[out.slot] = slot_verify(c->dir, out.slot,
		    (const uint8_t (*)[IMG_PUBKEY_LEN])c->keys, c->nkeys,
		    &in.info[out.slot], in.why_invalid[out.slot],
		    sizeof(in.why_invalid[out.slot])) == 0;
	}
	if (out.action == BOOT_NONE) {
		if (!dry && dirty &&
		    slotrec_write(c->dir, &out.rec, err, sizeof(err)) < 0)
			say("%s", err);
		say("no valid slot in %s: nothing to run", c->dir);
		return EX_CONFIG_;
	}
	if (!dry && dirty &&
	    slotrec_write(c->dir, &out.rec, err, sizeof(err)) < 0) {
		say("%s", err);
		return EX_IOERR_;
	}

	const struct slot_ent	*e = &out.rec.s[out.slot];
	struct boot_info	 bi;
	char			 info[1024], prog[4200];

	memset(&bi, 0, sizeof(bi));
	bi.slot = out.slot;
	memcpy(bi.dir, c->dir, strlen(c->dir) + 1);	/* checked in setup */
	snprintf(bi.version, sizeof(bi.version), "%s", e->version);
	memcpy(bi.digest, e->digest, IMG_DIGEST_LEN);
	bi.state = e->state;
	bi.attempts = e->attempts;
	snprintf(bi.note, sizeof(bi.note), "%s", out.rec.note);
	boot_info_format(&bi, info, sizeof(info));
	snprintf(prog, sizeof(prog), "%s/%s/duonasd", c->dir,
	    slot_name(out.slot));
	if (dry) {
		printf("would exec %s -c %s -n %s", prog, c->conf, c->head);
		for (int i = 0; i < ndargs; i++)
			printf(" %s", dargs[i]);
		printf("\n%s=%s\n", BOOT_INFO_ENV, info);
		return EX_OK_;
	}
	say("exec %s (%s %s, %s)", prog, slot_name(out.slot), e->version,
	    slot_state_name(e->state));
	if (setenv(BOOT_INFO_ENV, info, 1) < 0) {
		say("setenv: %s", strerror(errno));
		return EX_IOERR_;
	}
	/* the daemon restarts through this loader (image upgrade) */
	{
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n > 0) {
			self[n] = 0;
			setenv("DUONAS_BOOT_PATH", self, 1);
		}
	}
	char **argv = xcalloc((size_t)ndargs + 6, sizeof(char *));
	int n = 0;
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = xstrdup(c->conf);
	argv[n++] = "-n";
	argv[n++] = xstrdup(c->head);
	for (int i = 0; i < ndargs; i++)
		argv[n++] = dargs[i];
	argv[n] = NULL;
	fflush(NULL);
	execv(prog, argv);
	say("exec %s: %s", prog, strerror(errno));
	return EX_IOERR_;
}

static int
cmd_install(struct ctx *c, const char *image, const char *keys)
{
	struct slotrec	 rec;
	struct img_info	 info;
	uint8_t		*data;
	size_t		 len;
	char		 err[512], why[256];
	int		 rv, slot;

	if ((rv = setup(c, keys)) != 0)
		return rv;
	if (file_read_all(image, IMG_FILE_MAX, &data, &len) < 0) {
		say("%s: %s", image, strerror(errno));
		return errno == ENOENT ? EX_DATAERR_ : EX_IOERR_;
	}
	if (img_verify(data, len, (const uint8_t (*)[IMG_PUBKEY_LEN])c->keys,
	    c->nkeys, &info, err, sizeof(err)) < 0) {
		say("%s: %s", image, err);
		free(data);
		return EX_DATAERR_;
	}
	if (!img_runs_here(&info.m, why, sizeof(why))) {
		say("%s: does not run here: %s", image, why);
		free(data);
		return EX_DATAERR_;
	}
	if ((rv = slotrec_read(c->dir, &rec, err, sizeof(err))) < 0) {
		say("%s", err);
		free(data);
		return EX_IOERR_;
	}
	if (rv > 0) {
		/* no record: A, unless A holds something (a lost record must
		 * not cost the image this head may be running) */
		char a[4200];

		snprintf(a, sizeof(a), "%s/A/image", c->dir);
		slot = access(a, F_OK) == 0 ? 1 : 0;
	} else
		slot = 1 - rec.primary;
	if (slot_install(c->dir, slot, data, len, &info, err,
	    sizeof(err)) < 0) {
		say("%s", err);
		free(data);
		return EX_IOERR_;
	}
	free(data);
	struct slot_ent *e = &rec.s[slot];
	memset(e, 0, sizeof(*e));
	e->state = SLOT_GOOD;
	snprintf(e->version, sizeof(e->version), "%s", info.m.version);
	memcpy(e->digest, info.digest, IMG_DIGEST_LEN);
	e->installed = wall_ms() / 1000;
	rec.primary = (uint8_t)slot;
	snprintf(rec.note, sizeof(rec.note), "installed %s into %s by the "
	    "administrator", info.m.version, slot_name(slot));
	if (slotrec_write(c->dir, &rec, err, sizeof(err)) < 0) {
		say("%s", err);
		return EX_IOERR_;
	}
	say("%s", rec.note);
	return EX_OK_;
}

static int
cmd_status(struct ctx *c)
{
	struct slotrec	rec;
	char		err[512], hx[2 * IMG_DIGEST_LEN + 1];
	int		rv;

	if (cfg_parse(c->conf, &c->cfg, err, sizeof(err)) < 0) {
		say("%s", err);
		return EX_CONFIG_;
	}
	if ((c->self = pick_head(&c->cfg, c->head)) < 0)
		return EX_CONFIG_;
	cfg_boot_dir(&c->cfg, &c->cfg.heads[c->self], c->dir, sizeof(c->dir));
	if ((rv = slotrec_read(c->dir, &rec, err, sizeof(err))) < 0) {
		say("%s", err);
		return EX_IOERR_;
	}
	if (rv > 0)	/* what a start would make it from: nothing yet */
		printf("no slot record: %s\n", err);
	printf("slot directory %s, record seq %llu, primary %s, last booted "
	    "%s\n", c->dir, (unsigned long long)rec.seq,
	    slot_name(rec.primary), rec.last_booted == 255 ? "none" :
	    slot_name(rec.last_booted));
	for (int i = 0; i < 2; i++) {
		const struct slot_ent *e = &rec.s[i];

		img_digest_hex(e->digest, hx);
		hx[16] = 0;
		printf("%s %s: version %s digest %s state %s attempts %u%s%s"
		    "\n", i == rec.primary ? "*" : " ", slot_name(i),
		    e->version[0] ? e->version : "-", hx,
		    slot_state_name(e->state), e->attempts,
		    e->reason[0] ? " reason: " : "", e->reason);
	}
	printf("note: %s\n", rec.note[0] ? rec.note : "-");
	return EX_OK_;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'D' },
		{ "keys", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx	*c = xcalloc(1, sizeof(*c));
	const char	*cmd = NULL, *keys = NULL, *image = NULL;
	int		 ch, dry = 0;

	log_init("duonas-boot", 0, 0);
	c->conf = SYSCONFDIR "/duonas/duonas.conf";
	if (argc > 1 && (strcmp(argv[1], "install") == 0 ||
	    strcmp(argv[1], "status") == 0)) {
		cmd = argv[1];
		argv++;
		argc--;
	}
	while ((ch = getopt_long(argc, argv, "c:n:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->conf = optarg;
			break;
		case 'n':
			c->head = optarg;
			break;
		case 'D':
			dry = 1;
			break;
		case 'K':
			keys = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK_;
		case 'V':
			printf("duonas-boot %s\n", PACKAGE_VERSION);
			return EX_OK_;
		default:
			usage(stderr);
			return EX_USAGE_;
		}
	}
	argc -= optind;
	argv += optind;
	if (cmd == NULL) {
		if (keys != NULL) {
			usage(stderr);
			return EX_USAGE_;
		}
		return cmd_boot(c, dry, argv, argc);
	}
	if (strcmp(cmd, "install") == 0) {
		/* IMAGE may come before or after the options */
		if (argc >= 1)
			image = argv[0];
		if (image == NULL || argc > 1 || dry) {
			usage(stderr);
			return EX_USAGE_;
		}
		return cmd_install(c, image, keys);
	}
	if (argc != 0 || dry || keys != NULL) {
		usage(stderr);
		return EX_USAGE_;
	}
	return cmd_status(c);
}

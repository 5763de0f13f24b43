/*
 * test_ctcm_local.c — the local configuration database and the array
 * replicas: install/check, fault injection (fail and crash) after every
 * I/O step of an install, corruption of local files, slots and replicas,
 * and the power-up paths of ctcm_boot() (factory, restore, keep, MONITOR)
 * on sparse LUN files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ctcm/ctcm_int.h"
#include "pool/pext.h"
#include "tests/unit/t.h"

static char	dir[256], conf[300], exportsf[300], state[300];
static char	lunp[3][300];

static void
write_conf(int nluns)
{
	struct buf o;

	buf_init(&o);
	buf_printf(&o, "cluster tctcm\nkey \"%s/key\"\nexports \"%s\"\n", dir,
	    exportsf);
	buf_printf(&o, "head A {\n  id 1\n  role master\n  link 127.0.0.1:7001"
	    "\n  statedir \"%s\"\n  rundir \"%s/run\"\n}\n", state, dir);
	buf_printf(&o, "head B {\n  id 2\n  role slave\n  link 127.0.0.2:7001"
	    "\n  statedir \"%s/B\"\n  rundir \"%s/runB\"\n}\n", dir, dir);
	for (int i = 0; i < nluns; i++)
		buf_printf(&o, "lun l%d {\n  id %d\n  path \"%s\"\n  mode "
		    "directory\n  data \"%s/data%d\"\n  home A\n}\n", i, i + 1,
		    lunp[i], dir, i);
	file_write_atomic(conf, o.data, o.len, 0600);
	buf_free(&o);
}

static void
parse(struct cfg *c)
{
	char err[256];

	if (cfg_parse(conf, c, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		exit(1);
	}
}

static void
mkb(struct ctcm_bundle *b, uint64_t gen, const char *exports)
{
	uint8_t	*d;
	size_t	 len;

	ctcm_bundle_init(b);
	file_read_all(conf, 1 << 20, &d, &len);
	ctcm_bundle_set(b, CTCM_SEC_CONF, "duonas.conf", d, len);
	free(d);
	ctcm_bundle_set(b, CTCM_SEC_EXPORTS, "exports", exports,
	    strlen(exports));
	b->gen = gen;
	snprintf(b->author, sizeof(b->author), "test");
	snprintf(b->summary, sizeof(b->summary), "gen %llu",
	    (unsigned long long)gen);
}

static int
file_is(const char *path, const char *want)
{
	uint8_t	*d;
	size_t	 len;
	int	 eq;

	if (file_read_all(path, 1 << 20, &d, &len) < 0)
		return 0;
	eq = len == strlen(want) && memcmp(d, want, len) == 0;
	free(d);
	return eq;
}

static void
flip(const char *path, off_t off)
{
	int	fd = open(path, O_RDWR);
	uint8_t	c;

	if (pread(fd, &c, 1, off) != 1)
		c = 0;
	c ^= 0x5a;
	if (pwrite(fd, &c, 1, off) != 1)
		printf("# flip %s failed\n", path);
	fsync(fd);
	close(fd);
}

static void
test_install(void)
{
	struct ctcm_local	l;
	struct ctcm_stamp	st;
	struct ctcm_bundle	b, r;
	char			why[512], err[512];
	uint64_t		gens[32];

	T_EQ(ctcm_local_open(&l, state, conf), 0, "local open");
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_NONE,
	    "fresh: no database");
	mkb(&b, 1, "/x -id=1 *\n");
	T_EQ(ctcm_local_install(&l, &b, err, sizeof(err)), 0, "install 1");
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_VALID,
	    "valid after install");
	T_EQ(st.gen, 1, "stamp generation 1");
	T_EQ(st.content_crc, ctcm_content_crc(&b), "stamp checksum");
	T_OK(file_is(exportsf, "/x -id=1 *\n"), "exports installed");
	T_EQ(ctcm_local_load(&l, 1, &r), 0, "history has 1");
	T_EQ(ctcm_content_crc(&r), ctcm_content_crc(&b), "history content");
	ctcm_bundle_free(&r);
	ctcm_bundle_free(&b);

	/* corruption of an installed file / the stamp */
	flip(exportsf, 1);
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_INVALID,
	    "flipped exports byte: invalid");
	T_OK(strstr(why, exportsf) != NULL, "reason names the file: %s", why);
	flip(exportsf, 1);
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_VALID,
	    "flipped back: valid");
	{
		char sp[400];

		snprintf(sp, sizeof(sp), "%s/ctcm/stamp", state);
		flip(sp, 12);
		T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
		    CTCM_LOCAL_INVALID, "flipped stamp byte: invalid");
		flip(sp, 12);
	}

	/* history pruning */
	for (uint64_t g = 2; g <= 20; g++) {
		mkb(&b, g, "/x -id=1 *\n");
		ctcm_local_install(&l, &b, err, sizeof(err));
		ctcm_bundle_free(&b);
	}
	T_EQ(ctcm_local_list(&l, gens, 32), CTCM_HISTORY_LOCAL,
	    "history pruned to N");
	T_EQ(gens[0], 20, "newest first");
	T_EQ(ctcm_local_load(&l, 2, &r), CTCM_E_NOTFOUND, "old one gone");

	/* the installed generation's history bundle is checked too, and
	 * rebuilt from files that match the stamp (issue 10, finding 8) */
	{
		char		hp[400];
		unsigned	bad = 0;

		snprintf(hp, sizeof(hp), "%s/ctcm/history/20.bundle", state);
		flip(hp, 40);
		T_EQ(ctcm_local_check(&l, &st, &bad, why, sizeof(why)),
		    CTCM_LOCAL_INVALID, "damaged current history bundle: "
		    "invalid");
		T_EQ(bad, CTCM_BAD_HISTORY, "only the bundle is bad");
		T_OK(strstr(why, "history bundle of generation 20") != NULL,
		    "reason: %s", why);
		T_EQ(ctcm_local_rebuild_bundle(&l, &st, err, sizeof(err)), 0,
		    "rebuilt from the installed files");
		T_EQ(ctcm_local_check(&l, &st, &bad, why, sizeof(why)),
		    CTCM_LOCAL_VALID, "valid again");
	}
	/* an install below the newest history entry (an import after
	 * damage) is never pruned away (issue 10, finding 5) */
	mkb(&b, 7, "/seven -id=7 *\n");
	b.vepoch = 0x101;
	T_EQ(ctcm_local_install(&l, &b, err, sizeof(err)), 0, "install 7");
	ctcm_bundle_free(&b);
	T_OK(ctcm_local_check(&l, &st, NULL, why, sizeof(why)) ==
	    CTCM_LOCAL_VALID, "valid at 7 (%s)", why);
	T_EQ(st.vepoch, 0x101, "the stamp keeps the value epoch");
	T_EQ(ctcm_local_load(&l, 7, &r), 0, "its bundle was not pruned");
	ctcm_bundle_free(&r);
	T_EQ(ctcm_local_max_gen(&l), 20, "highest generation in history: 20");
	{
		char *bp = ctcm_local_bootstrap_path(conf);

		T_OK(access(bp, R_OK) == 0, "bootstrap copy written");
		free(bp);
	}
}

/* The SMB users section is installed at <statedir>/smb/users (0600 in a
 * 0700 directory) and vouched for by the stamp; a generation without it
 * removes the file; the installed files rebuild the same bundle. */
static void
test_smbusers(void)
{
	static const char users[] =
	    "user alice uid 30000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n";
	struct ctcm_local	l;
	struct ctcm_stamp	st;
	struct ctcm_bundle	b, r;
	struct stat		sb;
	char			why[512], err[512], up[400], ud[400];
	int			listed = 0;

	snprintf(up, sizeof(up), "%s/smb/users", state);
	snprintf(ud, sizeof(ud), "%s/smb", state);
	T_EQ(ctcm_local_open(&l, state, conf), 0, "local open");
	T_OK(strcmp(l.users_path, up) == 0, "users path %s", l.users_path);
	mkb(&b, 30, "/x -id=1 *\n");
	ctcm_bundle_set(&b, CTCM_SEC_SMBUSERS, "smb/users", users,
	    strlen(users));
	T_EQ(ctcm_local_install(&l, &b, err, sizeof(err)), 0, "install 30 "
	    "with users");
	T_OK(file_is(up, users), "users file installed");
	T_OK(stat(up, &sb) == 0 && (sb.st_mode & 07777) == 0600,
	    "users file mode 0600");
	T_OK(stat(ud, &sb) == 0 && (sb.st_mode & 07777) == 0700,
	    "smb directory mode 0700");
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_VALID, "valid");
	for (int i = 0; i < st.nfiles; i++)
		if (st.files[i].kind == CTCM_SEC_SMBUSERS &&
		    strcmp(st.files[i].path, up) == 0 &&
		    st.files[i].len == strlen(users))
			listed = 1;
	T_OK(listed, "the stamp lists the users file (kind 3)");
	T_EQ(ctcm_local_from_files(&l, &r, err, sizeof(err)), 0,
	    "bundle from the installed files");
	T_EQ(ctcm_content_crc(&r), ctcm_content_crc(&b),
	    "same content, users included");
	ctcm_bundle_free(&r);
	flip(up, 3);
	T_EQ(ctcm_local_check(&l, &st, NULL, why, sizeof(why)),
	    CTCM_LOCAL_INVALID, "a users file changed by hand: invalid");
	T_OK(strstr(why, up) != NULL, "reason names it: %s", why);
	flip(up, 3);
	ctcm_bundle_free(&b);
	mkb(&b, 31, "/x -id=1 *\n");
	T_EQ(ctcm_local_install(&l, &b, err, sizeof(err)), 0, "install 31 "
	    "without users");
	T_OK(access(up, F_OK) == -1, "users file removed");
	T_OK(ctcm_local_check(&l, &st, NULL, why, sizeof(why)) ==
	    CTCM_LOCAL_VALID, "valid (%s)", why);
	T_EQ(ctcm_local_from_files(&l, &r, err, sizeof(err)), 0,
	    "bundle from files");
	T_OK(ctcm_bundle_get(&r, CTCM_SEC_SMBUSERS) == NULL &&
	    ctcm_content_crc(&r) == ctcm_content_crc(&b),
	    "no users section, same content");
	ctcm_bundle_free(&r);
	ctcm_bundle_free(&b);
}

/* Every step of an install fails in turn (FAIL mode) or crashes the
 * process right after it (CRASH mode, in a child): the database is then
 * either the old generation, fully valid, or invalid (restore at
 * power-up) — never valid with the wrong files; a retry completes. */
static void
test_faults(int crash)
{
	struct ctcm_local	l;
	struct ctcm_stamp	st;
	struct ctcm_bundle	b;
	char			why[512], err[512];
	long			before, steps;
	int			bad = 0, k, old = 0, inval = 0, newv = 0;
	uint64_t		g;

	ctcm_local_open(&l, state, conf);
	ctcm_local_check(&l, &st, NULL, why, sizeof(why));
	g = st.gen + 1;
	/* count the steps of one install */
	mkb(&b, g, "/count -id=1 *\n");
	before = ctcm_fault_ops();
	ctcm_local_install(&l, &b, err, sizeof(err));
	steps = ctcm_fault_ops() - before;
	ctcm_bundle_free(&b);
	T_OK(steps >= 15, "an install has %ld counted steps", steps);
	for (k = 1; k <= steps; k++) {
		char exp[64];

		g++;
		snprintf(exp, sizeof(exp), "/g%llu -id=1 *\n",
		    (unsigned long long)g);
		mkb(&b, g, exp);
		if (crash) {
			pid_t pid = fork();
			int ws;

			if (pid == 0) {
				ctcm_fault_arm(k, CTCM_FAULT_CRASH);
				ctcm_local_install(&l, &b, err, sizeof(err));
				_exit(0);
			}
			waitpid(pid, &ws, 0);
			if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 137)
				bad++;
		} else {
			ctcm_fault_arm(k, CTCM_FAULT_FAIL);
			if (ctcm_local_install(&l, &b, err, sizeof(err)) == 0)
				bad++;
			ctcm_fault_arm(0, CTCM_FAULT_OFF);
		}
		switch (ctcm_local_check(&l, &st, NULL, why, sizeof(why))) {
		case CTCM_LOCAL_VALID:
			if (st.gen == g - 1)
				old++;
			else if (st.gen == g && file_is(exportsf, exp))
				newv++;
			else
				bad++;
			break;
		case CTCM_LOCAL_INVALID:
			inval++;
			break;
		default:
			bad++;
		}
		/* recovery: install again without faults */
		if (ctcm_local_install(&l, &b, err, sizeof(err)) != 0 ||
		    ctcm_local_check(&l, &st, NULL, why, sizeof(why)) !=
		    CTCM_LOCAL_VALID || st.gen != g || !file_is(exportsf, exp))
			bad++;
		ctcm_bundle_free(&b);
	}
	T_OK(bad == 0, "%s at each of %ld steps: old, new or invalid; never "
	    "a mix (old %d, invalid %d, new %d, bad %d)", crash ? "crash" :
	    "failure", steps, old, inval, newv, bad);
	T_OK(inval > 0 && old > 0, "both outcomes seen");
}

/* Like test_faults for the SMB users file: from a generation with users,
 * a failure or crash at each step of installing the next one, which
 * changes the users or has none (the file is removed): old, new or
 * invalid, never a mix; a retry completes. */
static void
mkbu(struct ctcm_bundle *b, uint64_t gen, uint32_t uid, char *ul,
    size_t ullen)
{
	mkb(b, gen, "/x -id=1 *\n");
	ul[0] = 0;
	if (uid == 0)
		return;
	snprintf(ul, ullen, "user u%llu uid %u nthash "
	    "8846f7eaee8fb117ad06bdd830b7586c\n", (unsigned long long)gen,
	    uid);
	ctcm_bundle_set(b, CTCM_SEC_SMBUSERS, "smb/users", ul, strlen(ul));
}

/* Install generation gen with users of uid (0: none), no faults;
 * returns the steps it counted, -1 when it failed. */
static long
install_users(struct ctcm_local *l, uint64_t gen, uint32_t uid, char *ul,
    size_t ullen)
{
	struct ctcm_bundle	b;
	char			err[512];
	long			before = ctcm_fault_ops();
	int			rc;

	mkbu(&b, gen, uid, ul, ullen);
	rc = ctcm_local_install(l, &b, err, sizeof(err));
	ctcm_bundle_free(&b);
	return rc == 0 ? ctcm_fault_ops() - before : -1;
}

static void
test_faults_users(int crash)
{
	struct ctcm_local	l;
	struct ctcm_stamp	st;
	struct ctcm_bundle	b;
	char			why[512], err[512], up[400], ul[128], uold[128];
	long			steps[2];
	int			bad = 0, old = 0, inval = 0, newv = 0;
	uint64_t		g;

	snprintf(up, sizeof(up), "%s/smb/users", state);
	ctcm_local_open(&l, state, conf);
	ctcm_local_check(&l, &st, NULL, why, sizeof(why));
	g = st.gen;
	/* the steps of an install after one with users: without users
	 * (the file is removed: one step), with other users (a write) */
	for (int with = 0; with < 2; with++) {
		install_users(&l, ++g, 30000, uold, sizeof(uold));
		steps[with] = install_users(&l, ++g, with ? 30001 : 0, ul,
		    sizeof(ul));
	}
	T_OK(steps[0] > 0 && steps[1] == steps[0] + 3, "writing the users "
	    "file costs 4 steps, removing it 1 (install: %ld, %ld steps)",
	    steps[1], steps[0]);
	for (int with = 0; with < 2; with++)
		for (long k = 1; k <= steps[with]; k++) {
			if (install_users(&l, ++g, 30000, uold,
			    sizeof(uold)) < 0)
				bad++;
			mkbu(&b, ++g, with ? 30001 : 0, ul, sizeof(ul));
			if (crash) {
				pid_t	pid = fork();
				int	ws;

				if (pid == 0) {
					ctcm_fault_arm(k, CTCM_FAULT_CRASH);
					ctcm_local_install(&l, &b, err,
					    sizeof(err));
					_exit(0);
				}
				waitpid(pid, &ws, 0);
				if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 137)
					bad++;
			} else {
				ctcm_fault_arm(k, CTCM_FAULT_FAIL);
				if (ctcm_local_install(&l, &b, err,
				    sizeof(err)) == 0)
					bad++;
				ctcm_fault_arm(0, CTCM_FAULT_OFF);
			}
			switch (ctcm_local_check(&l, &st, NULL, why,
			    sizeof(why))) {
			case CTCM_LOCAL_VALID:
				if (st.gen == g - 1 && file_is(up, uold))
					old++;
				else if (st.gen == g && (with ? file_is(up,
				    ul) : access(up, F_OK) == -1))
					newv++;
				else
					bad++;
				break;
			case CTCM_LOCAL_INVALID:
				inval++;
				break;
			default:
				bad++;
			}
			/* the retry completes */
			if (ctcm_local_install(&l, &b, err, sizeof(err)) != 0 ||
			    ctcm_local_check(&l, &st, NULL, why,
			    sizeof(why)) != CTCM_LOCAL_VALID || st.gen != g ||
			    (with ? !file_is(up, ul) : access(up, F_OK) == 0))
				bad++;
			ctcm_bundle_free(&b);
		}
	T_OK(bad == 0, "users file: %s at each step of installs that change "
	    "or remove it: old, new or invalid, never a mix (old %d, invalid "
	    "%d, new %d, bad %d)", crash ? "crash" : "failure", old, inval,
	    newv, bad);
	T_OK(inval > 0 && old > 0, "both outcomes seen");
}

static void
test_array(void)
{
	struct cfg		*c = xcalloc(1, sizeof(*c));
	struct ctcm_bundle	 b[3], *v;
	struct ctcm_replica	 rep[CFG_MAX_LUNS];
	struct buf		 img;
	int			 n, best;

	write_conf(3);
	parse(c);
	T_EQ(ctcm_array_setsize(c, 3), 3, "replica set of 3");
	T_EQ(ctcm_array_read(c, 0, 3, rep, &v, &n), -1,
	    "unformatted LUNs: nothing valid");
	T_EQ(rep[0].rc, PEXT_E_EMPTY, "empty LUN reported as such");
	ctcm_bundles_free(v, n);
	buf_init(&img);
	for (int g = 1; g <= 2; g++) {
		mkb(&b[g], g, g == 1 ? "" : "/a -id=1 *\n");
		buf_reset(&img);
		ctcm_image_encode(&b[g], 1, 0, 0, &img);
		T_EQ(ctcm_array_write(c, 0, 3, 0, g, img.data, img.len,
		    ~UINT64_C(0), rep), 3,
		    "generation written to 3 replicas (formats empty LUNs)");
	}
	best = ctcm_array_read(c, 0, 3, rep, &v, &n);
	T_OK(best == 0 && v[0].gen == 2, "newest valid: generation 2");
	ctcm_bundles_free(v, n);
	/* slot B (generation 2) of LUN 0: flip a data byte */
	flip(lunp[0], (off_t)(PEXT_V1_CFG_B + 1) * PEXT_BLOCK_SIZE + 3);
	ctcm_array_read(c, 0, 3, rep, &v, &n);
	T_EQ(rep[0].gen, 1, "corrupt slot: LUN 0 falls back to its other "
	    "slot");
	T_EQ(v[0].gen, 2, "others still give generation 2");
	ctcm_bundles_free(v, n);
	/* the next commit rewrites the bad slot */
	mkb(&b[0], 3, "/b -id=2 *\n");
	buf_reset(&img);
	ctcm_image_encode(&b[0], 1, 0, 0, &img);
	T_EQ(ctcm_array_write(c, 0, 3, 0, 3, img.data, img.len, ~UINT64_C(0),
	    rep), 3,
	    "generation 3 written");
	ctcm_array_read(c, 0, 3, rep, &v, &n);
	T_EQ(rep[0].gen, 3, "bad slot rewritten");
	ctcm_bundles_free(v, n);
	/* fault injection: the second replica write fails */
	ctcm_bundle_free(&b[1]);
	mkb(&b[1], 4, "/c -id=3 *\n");
	buf_reset(&img);
	ctcm_image_encode(&b[1], 1, 0, 0, &img);
	ctcm_fault_arm(2, CTCM_FAULT_FAIL);
	T_EQ(ctcm_array_write(c, 0, 3, 0, 4, img.data, img.len, ~UINT64_C(0),
	    rep), 2,
	    "one injected replica failure: 2 of 3 written");
	T_EQ(rep[1].rc, EIO, "the failed one reports EIO");
	ctcm_fault_arm(0, CTCM_FAULT_OFF);
	for (int i = 0; i < 3; i++)
		ctcm_bundle_free(&b[i]);
	buf_free(&img);
	free(c);
}

static void
test_boot(void)
{
	struct cfg		*c = xcalloc(1, sizeof(*c));
	struct ctcm_bundle	 b, *v;
	struct ctcm_replica	 rep[CFG_MAX_LUNS];
	struct buf		 img;
	char			 why[1024], sp[400];
	int			 n, rc;

	/* array holds generation 4 (test_array); local database is at a
	 * high generation from test_faults: local newer than the array */
	parse(c);
	{
		struct ctcm_local l;
		char err[256];

		ctcm_local_open(&l, state, conf);
		mkb(&b, 500, "/local -id=1 *\n");
		T_EQ(ctcm_local_install(&l, &b, err, sizeof(err)), 0,
		    "local generation 500");
		ctcm_bundle_free(&b);
	}
	rc = ctcm_boot(conf, c, 0, why, sizeof(why));
	T_OK(rc == CTCM_BOOT_OK, "local newer than every replica: keep (%s)",
	    why);
	T_EQ(ctcm_g.repair, 1, "and the array is marked for repair");

	/* array newer than local: restore */
	mkb(&b, 1000, "/restored -id=9 *\n");
	buf_init(&img);
	ctcm_image_encode(&b, 1, 0, 0, &img);
	ctcm_array_write(c, 0, 3, 0, 1000, img.data, img.len, ~UINT64_C(0),
	    rep);
	rc = ctcm_boot(conf, c, 0, why, sizeof(why));
	T_OK(rc == CTCM_BOOT_RESTORED, "older local: restored (%s)", why);
	T_OK(file_is(exportsf, "/restored -id=9 *\n"), "files are generation "
	    "1000");
	T_EQ(ctcm_boot(conf, c, 0, why, sizeof(why)), CTCM_BOOT_OK,
	    "next boot: ok");

	/* flip bytes in the local database */
	flip(exportsf, 2);
	T_EQ(ctcm_boot(conf, c, 0, why, sizeof(why)), CTCM_BOOT_RESTORED,
	    "corrupt local copy restored from the array");
	T_OK(file_is(exportsf, "/restored -id=9 *\n"), "exports repaired");

	/* one replica entirely corrupt: the others are used */
	for (int s = 0; s < 2; s++)
		flip(lunp[1], (off_t)(s ? PEXT_V1_CFG_B : PEXT_V1_CFG_A) *
		    PEXT_BLOCK_SIZE + 8);
	ctcm_array_read(c, 0, 3, rep, &v, &n);
	T_OK(rep[1].rc != 0 && v[0].gen == 1000, "one bad replica: others "
	    "used");
	ctcm_bundles_free(v, n);
	T_EQ(ctcm_boot(conf, c, 0, why, sizeof(why)), CTCM_BOOT_OK,
	    "boot ok with one bad replica");
	T_EQ(ctcm_g.repair, 1, "bad replica marked for repair");

	/* everything corrupt: MONITOR */
	for (int i = 0; i < 3; i++)
		for (int s = 0; s < 2; s++)
			flip(lunp[i], (off_t)(s ? PEXT_V1_CFG_B :
			    PEXT_V1_CFG_A) * PEXT_BLOCK_SIZE + 8 + i);
	snprintf(sp, sizeof(sp), "%s/ctcm/stamp", state);
	flip(sp, 3);
	T_EQ(ctcm_boot(conf, c, 0, why, sizeof(why)), CTCM_BOOT_MONITOR,
	    "all copies corrupt: MONITOR");
	T_OK(strstr(why, "no valid configuration") != NULL &&
	    strstr(why, "LUN l0") != NULL, "reason: %s", why);
	T_EQ(ctcm_monitor(), 1, "ctcm_monitor() says so");
	ctcm_bundle_free(&b);
	buf_free(&img);
	free(c);
}

/* Replicas and epochs (issue 10, finding 1): a LUN holding a higher
 * epoch's copy refuses a lower epoch's write, and the write counts only
 * copies that read back; the newest is chosen by rank, not LUN order. */
static void
test_epochs(void)
{
	struct cfg		*c = xcalloc(1, sizeof(*c));
	struct ctcm_bundle	 b, *v;
	struct ctcm_replica	 rep[CFG_MAX_LUNS];
	struct buf		 img;
	int			 n, best;

	write_conf(3);
	parse(c);
	buf_init(&img);
	mkb(&b, 2000, "/epoch2 -id=1 *\n");
	b.vepoch = 0x202;
	ctcm_image_encode(&b, 1, 0x202, 0, &img);
	T_EQ(ctcm_array_write(c, 0, 3, 0x202, 2000, img.data, img.len,
	    ~UINT64_C(0), rep), 3, "epoch 0x202 on every replica");
	ctcm_bundle_free(&b);
	/* a deposed master (epoch 0x101) with a higher generation */
	mkb(&b, 2001, "/epoch1 -id=1 *\n");
	b.vepoch = 0x101;
	buf_reset(&img);
	ctcm_image_encode(&b, 1, 0x101, 0, &img);
	T_EQ(ctcm_array_write(c, 0, 3, 0x101, 2001, img.data, img.len,
	    ~UINT64_C(0), rep), 0, "refused everywhere: counted nowhere");
	T_EQ(rep[0].rc, CTCM_E_STALE, "the LUN holds something else");
	ctcm_bundle_free(&b);
	/* LUN 0 only: a lower epoch's copy of a higher generation, written
	 * under a higher writer epoch (cannot be refused) */
	mkb(&b, 2005, "/lun0 -id=1 *\n");
	b.vepoch = 0x101;
	buf_reset(&img);
	ctcm_image_encode(&b, 1, 0x303, 0, &img);
	T_EQ(ctcm_array_write(c, 0, 3, 0x303, 2005, img.data, img.len, 1,
	    rep), 1, "LUN 0 alone");
	ctcm_bundle_free(&b);
	best = ctcm_array_read(c, 0, 3, rep, &v, &n);
	T_EQ(best, 1, "the newest by rank is not LUN 0");
	T_OK(v != NULL && v[0].gen == 2000 && v[0].vepoch == 0x202,
	    "generation 2000 of epoch 0x202");
	T_OK(rep[0].epoch == 0x303 && rep[0].vepoch == 0x101,
	    "writer and value epochs reported");
	T_EQ(ctcm_array_readable(rep, 3), 3, "three replicas answered");
	ctcm_bundles_free(v, n);
	buf_free(&img);
	free(c);
}

int
main(void)
{
	char tmpl[] = "/tmp/ctcm-test.XXXXXX";

	log_init("test_ctcm_local", 0, 0);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(conf, sizeof(conf), "%s/duonas.conf", dir);
	snprintf(exportsf, sizeof(exportsf), "%s/exports", dir);
	snprintf(state, sizeof(state), "%s/A", dir);
	for (int i = 0; i < 3; i++) {
		snprintf(lunp[i], sizeof(lunp[i]), "%s/lun%d.img", dir, i);
		int fd = open(lunp[i], O_RDWR | O_CREAT, 0600);
		if (fd < 0 || ftruncate(fd, 66 << 20) < 0)
			return 1;
		close(fd);
	}
	write_conf(0);
	test_install();
	test_smbusers();
	test_faults(0);
	test_faults(1);
	test_faults_users(0);
	test_faults_users(1);
	test_array();
	test_boot();
	test_epochs();
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
		free(cmd);
	}
	return t_done();
}

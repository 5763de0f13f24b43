/*
 * mkimage.c — duonas-mkimage(8): build a signed software image from a
 * build directory or an installed sbin directory, show and check an
 * image, make a signing key pair.
 *
 * The image is written to a temporary name next to OUT, fsync'ed and
 * renamed, so OUT is either the old file or the complete new image.
 * File modes in the manifest are normalised (0755 when the source is
 * executable by anyone, else 0644) so that two builds of the same bytes
 * give the same image whatever the umask was.
 *
 * Exit codes: 0 ok, 64 usage, 65 bad input data (an image that does not
 * verify, a key that is not an Ed25519 private key or is readable by
 * others), 74 I/O (a missing input file, OUT not writable).
 */
#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/util.h"
#include "image/image.h"

#define EX_OK		0
#define EX_USAGE	64
#define EX_DATAERR	65
#define EX_IOERR	74

static const char *const default_files[] = { "duonasd", "duonas",
    "duonas-boot" };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: duonas-mkimage -k KEYFILE -o OUT [--version V] "
	    "[--build-id ID]\n"
	    "           [--build-time SECS] [--arch A] [--hardware H] "
	    "[--wire MIN:MAX]\n"
	    "           [--disk MIN:MAX] [--file NAME=PATH]... [DIR]\n"
	    "       duonas-mkimage --show IMAGE [--key PUBFILE]...\n"
	    "       duonas-mkimage --keygen PREFIX\n\n"
	    "Build a signed duonas software image from DIR (a build "
	    "directory or an\ninstalled sbin directory: duonasd, duonas, "
	    "duonas-boot), show one, or make\na key pair "
	    "(PREFIX.key, PREFIX.pub).\n\noptions:\n"
	    "  -k, --key-file KEYFILE  Ed25519 private key (PEM, mode 0600)\n"
	    "  -o, --output OUT        image file to write (atomically)\n"
	    "  --version V             image version (default %s)\n"
	    "  --build-id ID           build id (default $DUONAS_BUILD_ID "
	    "or \"unknown\")\n"
	    "  --build-time SECS       build time (default "
	    "$SOURCE_DATE_EPOCH or now)\n"
	    "  --arch A                architecture (default uname -m)\n"
	    "  --hardware H            platform (default \"any\")\n"
	    "  --wire MIN:MAX          peer-link formats (default %d:%d)\n"
	    "  --disk MIN:MAX          disk formats (default %d:%d)\n"
	    "  --file NAME=PATH        put PATH in as NAME (replaces DIR's "
	    "NAME)\n"
	    "  --show IMAGE            print IMAGE's manifest and check it\n"
	    "  --key PUBFILE           trusted public key for --show\n"
	    "  --keygen PREFIX         write a new key pair\n"
	    "  -h, --help              this text\n\n"
	    "exit: 0 ok, 64 usage, 65 bad image or key, 74 I/O error\n",
	    PACKAGE_VERSION, IMG_WIRE_MIN, IMG_WIRE_MAX, IMG_DISK_MIN,
	    IMG_DISK_MAX);
}

static int
range_opt(const char *s, const char *what, uint32_t *min, uint32_t *max)
{
	long long	a, b;
	const char	*errstr;
	char		*copy = xstrdup(s), *colon = strchr(copy, ':');
	int		 rc = -1;

	if (colon != NULL) {
		*colon = '\0';
		if (parse_num(copy, 0, UINT32_MAX, &a, &errstr) == 0 &&
		    parse_num(colon + 1, 0, UINT32_MAX, &b, &errstr) == 0 &&
		    a <= b) {
			*min = (uint32_t)a;
			*max = (uint32_t)b;
			rc = 0;
		}
	}
	if (rc < 0)
		fprintf(stderr, "duonas-mkimage: --%s '%s': expected MIN:MAX "
		    "with MIN <= MAX\n", what, s);
	free(copy);
	return rc;
}

/* Write data to path atomically (temp name in the same directory). */
static int
write_out(const char *path, const uint8_t *data, size_t len)
{
	char	*tmp = xasprintf("%s.tmp-XXXXXX", path);
	char	*d = xstrdup(path);
	int	 fd, dfd;

	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "duonas-mkimage: %s: cannot create a "
		    "temporary file next to it: %s\n", path, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0644) < 0 || fd_io_full(fd, (void *)(uintptr_t)data,
	    len, 1) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fprintf(stderr, "duonas-mkimage: %s: %s\n", tmp,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "duonas-mkimage: %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if ((dfd = open(dirname(d), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(d);
	return 0;
fail:
	free(tmp);
	free(d);
	return -1;
}

static int
do_show(const char *path, char **pubs, int npubs)
{
	uint8_t		 keys[IMG_MAX_KEYS][IMG_PUBKEY_LEN];
	struct img_info	 info;
	uint8_t		*data;
	size_t		 len;
	char		 err[300], hx[65], id[17];
	int		 rc = EX_OK;

	for (int i = 0; i < npubs; i++)
		if (img_pubkey_load(pubs[i], keys[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "duonas-mkimage: %s\n", err);
			return EX_DATAERR;
		}
	if (file_read_all(path, IMG_HDR_LEN + IMG_MANIFEST_MAX +
	    IMG_PAYLOAD_MAX + IMG_SIG_LEN, &data, &len) < 0) {
		fprintf(stderr, "duonas-mkimage: %s: %s\n", path,
		    errno == EFBIG ? "too large for an image" :
		    strerror(errno));
		return errno == EFBIG ? EX_DATAERR : EX_IOERR;
	}
	if (img_parse(data, len, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "duonas-mkimage: %s: %s\n", path, err);
		free(data);
		return EX_DATAERR;
	}
	img_digest_hex(info.digest, hx);
	hex_encode(id, info.key_id, IMG_KEYID_LEN);
	printf("image %s\ndigest %s\nsize %zu\nkey_id %s\n", path, hx, len,
	    id);
	fwrite(data + IMG_HDR_LEN, 1, info.payload_off - IMG_HDR_LEN, stdout);
	if (img_check_payload(data, &info, err, sizeof(err)) < 0) {
		printf("files: BAD: %s\n", err);
		rc = EX_DATAERR;
	} else
		printf("files: ok\n");
	if (npubs == 0)
		printf("signature: not checked (no --key given)\n");
	else if (img_verify(data, len, (const uint8_t (*)[IMG_PUBKEY_LEN])keys,
	    npubs, &info, err, sizeof(err)) < 0) {
		printf("signature: BAD: %s\n", err);
		rc = EX_DATAERR;
	} else
		printf("signature: ok\n");
	free(data);
	return rc;
}

/* Sign, check, write; print the one summary line.  An exit code. */
static int
build(const struct img_manifest *m, const char *const *paths,
    const char *keyfile, const char *outpath)
{
	struct buf	 out;
	struct img_info	 info;
	char		 err[400], hx[65];
	void		*pkey;
	int		 rc = EX_DATAERR;

	if ((pkey = img_key_load_private(keyfile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "duonas-mkimage: %s\n", err);
		return access(keyfile, R_OK) == 0 ? EX_DATAERR : EX_IOERR;
	}
	buf_init(&out);
	if (img_build(m, paths, pkey, &out, err, sizeof(err)) < 0)
		fprintf(stderr, "duonas-mkimage: %s\n", err);
	else if (img_parse(out.data, out.len, &info, err, sizeof(err)) < 0)
		fprintf(stderr, "duonas-mkimage: built a bad image: %s\n",
		    err);
	else if (write_out(outpath, out.data, out.len) < 0)
		rc = EX_IOERR;
	else {
		img_digest_hex(info.digest, hx);
		printf("image %s: version %s, %d files, %zu bytes, digest "
		    "%s\n", outpath, info.m.version, info.m.nfiles, out.len,
		    hx);
		rc = EX_OK;
	}
	img_key_free(pkey);
	buf_free(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-file",	required_argument, NULL, 'k' },
		{ "output",	required_argument, NULL, 'o' },
		{ "version",	required_argument, NULL, 'V' },
		{ "build-id",	required_argument, NULL, 'B' },
		{ "build-time",	required_argument, NULL, 'T' },
		{ "arch",	required_argument, NULL, 'A' },
		{ "hardware",	required_argument, NULL, 'H' },
		{ "wire",	required_argument, NULL, 'W' },
		{ "disk",	required_argument, NULL, 'D' },
		{ "file",	required_argument, NULL, 'F' },
		{ "show",	required_argument, NULL, 'S' },
		{ "key",	required_argument, NULL, 'P' },
		{ "keygen",	required_argument, NULL, 'G' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct img_manifest	 m;
	struct utsname		 u;
	struct stat		 st;
	const char		*keyfile = NULL, *outpath = NULL, *show = NULL;
	const char		*keygen = NULL, *dir = NULL, *s, *errstr;
	const char		*paths[IMG_FILES_MAX];
	char			*pubs[IMG_MAX_KEYS], *xfile[IMG_FILES_MAX];
	char			*alloc[IMG_FILES_MAX];
	char			 err[400];
	int			 npubs = 0, nx = 0, nalloc = 0, ch, rc, i, j;
	long long		 t;

	memset(&m, 0, sizeof(m));
	snprintf(m.version, sizeof(m.version), "%s", PACKAGE_VERSION);
	s = getenv("DUONAS_BUILD_ID");
	snprintf(m.build_id, sizeof(m.build_id), "%s",
	    s != NULL && *s != '\0' ? s : "unknown");
	m.build_time = time(NULL);
	if ((s = getenv("SOURCE_DATE_EPOCH")) != NULL && *s != '\0') {
		if (parse_num(s, 0, INT64_MAX, &t, &errstr) < 0) {
			fprintf(stderr, "duonas-mkimage: SOURCE_DATE_EPOCH "
			    "'%s': %s\n", s, errstr);
			return EX_USAGE;
		}
		m.build_time = t;
	}
	if (uname(&u) == 0)
		snprintf(m.arch, sizeof(m.arch), "%.*s",
		    (int)sizeof(m.arch) - 1, u.machine);
	strcpy(m.hardware, "any");
	m.wire_min = IMG_WIRE_MIN;
	m.wire_max = IMG_WIRE_MAX;
	m.disk_min = IMG_DISK_MIN;
	m.disk_max = IMG_DISK_MAX;

	while ((ch = getopt_long(argc, argv, "k:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 'o': outpath = optarg; break;
		case 'S': show = optarg; break;
		case 'G': keygen = optarg; break;
		case 'V':
			if (!img_version_valid(optarg)) {
				fprintf(stderr, "duonas-mkimage: --version "
				    "'%s': expected N[.N[.N[.N]]][-tag]\n",
				    optarg);
				return EX_USAGE;
			}
			strcpy(m.version, optarg);
			break;
		case 'B':
			if (*optarg == '\0' || strlen(optarg) >=
			    sizeof(m.build_id) || strpbrk(optarg,
			    " \t\n") != NULL) {
				fprintf(stderr, "duonas-mkimage: --build-id: "
				    "one word of at most %zu characters\n",
				    sizeof(m.build_id) - 1);
				return EX_USAGE;
			}
			strcpy(m.build_id, optarg);
			break;
		case 'T':
			if (parse_num(optarg, 0, INT64_MAX, &t, &errstr) < 0) {
				fprintf(stderr, "duonas-mkimage: --build-time "
				    "'%s': %s\n", optarg, errstr);
				return EX_USAGE;
			}
			m.build_time = t;
			break;
		case 'A':
		case 'H':
			if (*optarg == '\0' ||
			    strlen(optarg) >= sizeof(m.arch)) {
				fprintf(stderr, "duonas-mkimage: --%s '%s': "
				    "1 to %zu characters\n", ch == 'A' ?
				    "arch" : "hardware", optarg,
				    sizeof(m.arch) - 1);
				return EX_USAGE;
			}
			strcpy(ch == 'A' ? m.arch : m.hardware, optarg);
			break;
		case 'W':
			if (range_opt(optarg, "wire", &m.wire_min,
			    &m.wire_max) < 0)
				return EX_USAGE;
			break;
		case 'D':
			if (range_opt(optarg, "disk", &m.disk_min,
			    &m.disk_max) < 0)
				return EX_USAGE;
			break;
		case 'F':
			if (strchr(optarg, '=') == NULL ||
			    nx == IMG_FILES_MAX) {
				fprintf(stderr, "duonas-mkimage: --file '%s': "
				    "expected NAME=PATH (at most %d)\n",
				    optarg, IMG_FILES_MAX);
				return EX_USAGE;
			}
			xfile[nx++] = optarg;
			break;
		case 'P':
			if (npubs == IMG_MAX_KEYS) {
				fprintf(stderr, "duonas-mkimage: at most %d "
				    "--key\n", IMG_MAX_KEYS);
				return EX_USAGE;
			}
			pubs[npubs++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	if (keygen != NULL) {
		if (argc != 0 || show != NULL || keyfile != NULL) {
			usage(stderr);
			return EX_USAGE;
		}
		if (img_keygen(keygen, err, sizeof(err)) < 0) {
			fprintf(stderr, "duonas-mkimage: %s\n", err);
			return EX_IOERR;
		}
		printf("wrote %s.key (private: keep it with the administrator) "
		    "and %s.pub\n", keygen, keygen);
		return EX_OK;
	}
	if (show != NULL) {
		if (argc != 0 || keyfile != NULL || outpath != NULL) {
			usage(stderr);
			return EX_USAGE;
		}
		return do_show(show, pubs, npubs);
	}
	if (keyfile == NULL || outpath == NULL || argc > 1 ||
	    (argc == 0 && nx == 0) || npubs > 0) {
		fprintf(stderr, "duonas-mkimage: %s\n", keyfile == NULL ?
		    "-k KEYFILE is required" : outpath == NULL ?
		    "-o OUT is required" : npubs > 0 ? "--key is for --show" :
		    argc > 1 ? "one DIR at most" : "DIR or --file needed");
		usage(stderr);
		return EX_USAGE;
	}
	dir = argc == 1 ? argv[0] : NULL;

	/* DIR's three programs first, then --file: NAME=PATH replaces DIR's
	 * NAME or adds a file */
	if (dir != NULL)
		for (i = 0; i < (int)nitems(default_files); i++) {
			strcpy(m.files[m.nfiles].name, default_files[i]);
			paths[m.nfiles++] = NULL;
		}
	for (i = 0; i < nx; i++) {
		char *eq = strchr(xfile[i], '=');
		*eq = '\0';
		for (j = 0; j < m.nfiles &&
		    strcmp(m.files[j].name, xfile[i]) != 0; j++)
			;
		if (j == m.nfiles) {
			if (strlen(xfile[i]) > IMG_NAME_MAX ||
			    m.nfiles == IMG_FILES_MAX) {
				fprintf(stderr, "duonas-mkimage: --file %s: "
				    "name too long or too many files\n",
				    xfile[i]);
				return EX_USAGE;
			}
			strcpy(m.files[m.nfiles++].name, xfile[i]);
		} else if (paths[j] != NULL) {
			fprintf(stderr, "duonas-mkimage: --file %s given "
			    "twice\n", xfile[i]);
			return EX_USAGE;
		}
		paths[j] = eq + 1;
	}
	rc = EX_IOERR;
	for (i = 0; i < m.nfiles; i++) {
		if (paths[i] == NULL)
			paths[i] = alloc[nalloc++] = xasprintf("%s/%s", dir,
			    m.files[i].name);
		if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "duonas-mkimage: %s: %s: %s\n",
			    m.files[i].name, paths[i], strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "duonas-mkimage: %s: %s: not a "
			    "regular file\n", m.files[i].name, paths[i]);
			goto out;
		}
		m.files[i].mode = (st.st_mode & 0111) ? 0755 : 0644;
	}
	rc = build(&m, paths, keyfile, outpath);
out:
	for (i = 0; i < nalloc; i++)
		free(alloc[i]);
	return rc;
}

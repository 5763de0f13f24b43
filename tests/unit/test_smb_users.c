/*
 * test_smb_users.c — src/smb: MD4 against the RFC 1320 test suite, NT
 * hashes against values computed independently (OpenSSL's legacy MD4 of
 * iconv's UTF-16LE), the users text (round trip, every validation error),
 * the redacted form and smbpasswd(5) lines as golden bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smb/smb_users.h"
#include "t.h"

static void
hex16(const uint8_t h[16], char out[33])
{
	smb_nthash_hex(h, out);
}

static void
test_md4(void)
{
	/* RFC 1320, appendix A.5 */
	static const struct { const char *in, *out; } v[] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789", "043f8582f241db351ce627e153e7f0e4" },
		{ "1234567890123456789012345678901234567890123456789012345678"
		  "9012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	uint8_t	h[16];
	char	hx[33], *big;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		smb_md4(v[i].in, strlen(v[i].in), h);
		hex16(h, hx);
		T_OK(strcmp(hx, v[i].out) == 0, "MD4(\"%.20s\") = %s", v[i].in,
		    hx);
	}
	/* several blocks, lengths around the padding boundary */
	big = malloc(1000);
	memset(big, 'q', 1000);
	smb_md4(big, 1000, h);
	hex16(h, hx);
	T_OK(strcmp(hx, "c166317121e487b5371993ee71346a1a") == 0,
	    "MD4(1000 x 'q') = %s", hx);
	free(big);
}

static void
test_nthash(void)
{
	static const struct { const char *pw, *out; } v[] = {
		{ "password", "8846f7eaee8fb117ad06bdd830b7586c" },
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		/* two-byte UTF-8 */
		{ "P\xc3\xa4ssw\xc3\xb6rd", "aed9375ba569c9f0216eea5c0c7bf463" },
		/* a, b, e-acute, euro sign (3 bytes), U+1F600 (4 bytes: a
		 * UTF-16 surrogate pair) */
		{ "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		  "cd5108e11fd0e2991b7699f99f047581" },
	};
	static const struct { const char *pw; size_t len; const char *why; }
	    bad[] = {
		{ "\xc3", 1, "truncated sequence" },
		{ "\xc0\xaf", 2, "overlong '/'" },
		{ "\xe0\x80\xaf", 3, "overlong 3 bytes" },
		{ "\xed\xa0\x80", 3, "UTF-16 surrogate" },
		{ "\xf4\x90\x80\x80", 4, "beyond U+10FFFF" },
		{ "\xff", 1, "0xff" },
		{ "a\x80", 2, "lone continuation byte" },
		{ "a\0b", 3, "NUL byte" },
	};
	uint8_t	h[16];
	char	hx[33], err[128], *big;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = smb_nthash(v[i].pw, strlen(v[i].pw), h, err,
		    sizeof(err));

		hex16(h, hx);
		T_OK(rc == 0 && strcmp(hx, v[i].out) == 0, "NT hash %zu = %s",
		    i, hx);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		T_OK(smb_nthash(bad[i].pw, bad[i].len, h, err, sizeof(err)) ==
		    -1 && err[0] != 0, "invalid password refused: %s (%s)",
		    bad[i].why, err);
	}
	T_OK(strstr(err, "NUL") != NULL, "NUL byte named: %s", err);
	smb_nthash("a\x80", 2, h, err, sizeof(err));
	T_OK(strcmp(err, "the password is not valid UTF-8 (byte 2)") == 0,
	    "byte position named: %s", err);
	big = malloc(SMB_PASSWORD_MAX + 1);
	memset(big, 'x', SMB_PASSWORD_MAX + 1);
	T_OK(smb_nthash(big, SMB_PASSWORD_MAX, h, err, sizeof(err)) == 0,
	    "a %d-byte password is fine", SMB_PASSWORD_MAX);
	T_OK(smb_nthash(big, SMB_PASSWORD_MAX + 1, h, err, sizeof(err)) == -1,
	    "a longer one is refused: %s", err);
	free(big);
}

static const char golden[] =
    "user alice uid 30000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n"
    "user bob.x uid 30001 nthash 31d6cfe0d16ae931b73c59d7e0c089c0 "
    "disabled\n"
    "user carol_2 uid 1000 nthash aed9375ba569c9f0216eea5c0c7bf463\n";

static void
test_text(void)
{
	struct smb_users	u, w;
	struct buf		o;
	char			err[256];
	const char		*unsorted =
	    "# comment\n\n"
	    "user carol_2 uid 1000 nthash AED9375BA569C9F0216EEA5C0C7BF463\n"
	    "  user\talice  uid 30000 nthash 8846f7eaee8fb117ad06bdd830b7586c\r\n"
	    "user bob.x uid 30001 nthash 31d6cfe0d16ae931b73c59d7e0c089c0 "
	    "disabled";

	buf_init(&o);
	T_OK(smb_users_parse(unsorted, strlen(unsorted), &u, err,
	    sizeof(err)) == 0, "parse (comments, blanks, tabs, CR, upper-case "
	    "hex, no final newline)");
	T_EQ(u.n, 3, "three users");
	T_OK(strcmp(u.v[0].name, "alice") == 0 && u.v[2].disabled == 0 &&
	    u.v[1].disabled == 1, "sorted by name, disabled kept");
	smb_users_format(&u, &o);
	T_OK(o.len == strlen(golden) && memcmp(o.data, golden, o.len) == 0,
	    "canonical text (golden bytes)");
	T_OK(smb_users_parse((char *)o.data, o.len, &w, err, sizeof(err)) ==
	    0 && w.n == 3 && memcmp(w.v, u.v, 3 * sizeof(*u.v)) == 0,
	    "parse(format(u)) == u");
	smb_users_free(&w);
	T_OK(smb_users_parse("", 0, &w, err, sizeof(err)) == 0 && w.n == 0,
	    "empty text: no users");
	buf_reset(&o);
	smb_users_format(&w, &o);
	T_EQ(o.len, 0, "no users: empty text");

	/* redacted, and a diff's newer side */
	buf_reset(&o);
	smb_users_redact(&u, NULL, &o);
	T_OK(strcmp((char *)o.data,
	    "user alice uid 30000 nthash (hidden)\n"
	    "user bob.x uid 30001 nthash (hidden) disabled\n"
	    "user carol_2 uid 1000 nthash (hidden)\n") == 0,
	    "redacted text has no hash");
	smb_users_parse(golden, strlen(golden), &w, err, sizeof(err));
	w.v[0].nthash[3] ^= 1;
	buf_reset(&o);
	smb_users_redact(&w, &u, &o);
	T_OK(strncmp((char *)o.data, "user alice uid 30000 nthash (changed)\n"
	    "user bob.x uid 30001 nthash (hidden) disabled\n", 83) == 0,
	    "a changed hash says (changed)");
	smb_users_free(&w);
	smb_users_free(&u);
	buf_free(&o);
}

static void
test_errors(void)
{
	static const struct { const char *text, *err; } v[] = {
		{ "usr a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: unknown keyword 'usr'" },
		{ "user a uid 1000\n",
		  "line 1: expected 'user NAME uid UID nthash HEX32 "
		  "[disabled]'" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c "
		  "off\n", "line 1: expected 'user NAME" },
		{ "user a gid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: expected 'user NAME" },
		{ "\nuser Alice uid 1000 nthash "
		  "8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 2: user name 'Alice': character 1 ('A') is not "
		  "allowed" },
		{ "user 1a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: user name '1a': character 1 ('1') is not allowed" },
		{ "user a@b uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: user name 'a@b': character 2 ('@')" },
		{ "user abcdefghijklmnopqrstuvwxyz0123456 uid 1000 nthash "
		  "8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: user name 'abcdefghijklmnopqrstuvwxyz012345...' is "
		  "longer than 32 characters" },
		{ "user root uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: user name 'root' is reserved for a system account" },
		{ "user systemd-x uid 1000 nthash "
		  "8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: user name 'systemd-x' is reserved" },
		{ "user a uid 999 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: uid 999 of user a is outside 1000..60000" },
		{ "user a uid 60001 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: uid 60001 of user a is outside 1000..60000" },
		{ "user a uid -5 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: uid '-5' of user a is not a number" },
		{ "user a uid 12x nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 1: uid '12x' of user a is not a number" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586\n",
		  "line 1: nthash of user a must be 32 hex digits (has 31 "
		  "characters)" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586g\n",
		  "line 1: nthash of user a is not hex (character 32)" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n"
		  "user a uid 1001 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 2: user a already exists" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n"
		  "user b uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c\n",
		  "line 2: uid 1000 of user b is already user a's" },
		{ "user a uid 1000 nthash 8846f7eaee8fb117ad06bdd830b7586c 1 2"
		  " 3\n", "line 1: too many words" },
	};
	struct smb_users	u;
	struct buf		o;
	char			err[256];
	uint8_t			h[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		err[0] = 0;
		T_OK(smb_users_parse(v[i].text, strlen(v[i].text), &u, err,
		    sizeof(err)) == -1 && u.n == 0 && strncmp(err, v[i].err,
		    strlen(v[i].err)) == 0, "refused: %s", err);
	}
	T_OK(smb_users_parse("a\0b", 3, &u, err, sizeof(err)) == -1,
	    "NUL byte refused: %s", err);
	/* the user limit */
	buf_init(&o);
	for (int i = 0; i <= SMB_USERS_MAX; i++)
		buf_printf(&o, "user u%d uid %d nthash "
		    "8846f7eaee8fb117ad06bdd830b7586c\n", i, 2000 + i);
	T_OK(smb_users_parse((char *)o.data, o.len, &u, err, sizeof(err)) ==
	    -1 && strcmp(err, "line 1025: more than 1024 users") == 0,
	    "1025 users refused: %s", err);
	/* exactly the limit is fine */
	{
		char *nl = (char *)o.data + o.len - 1;

		while (nl[-1] != '\n')
			nl--;
		T_OK(smb_users_parse((char *)o.data, (size_t)(nl - (char *)
		    o.data), &u, err, sizeof(err)) == 0 && u.n ==
		    SMB_USERS_MAX, "1024 users are fine");
	}
	memset(h, 7, sizeof(h));
	T_OK(smb_users_add(&u, "extra", 0, h, err, sizeof(err)) == -1 &&
	    strcmp(err, "more than 1024 users") == 0, "add to a full list: %s",
	    err);
	smb_users_free(&u);
	buf_free(&o);
}

static void
test_edit(void)
{
	struct smb_users	u;
	uint8_t			h1[16], h2[16];
	char			err[256];

	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	smb_users_init(&u);
	T_EQ(smb_users_next_uid(&u), 30000, "first automatic uid");
	T_OK(smb_users_add(&u, "zed", 0, h1, err, sizeof(err)) == 0 &&
	    u.v[0].uid == 30000, "add zed: uid 30000");
	T_OK(smb_users_add(&u, "amy", 30002, h1, err, sizeof(err)) == 0,
	    "add amy --uid 30002");
	T_OK(smb_users_add(&u, "bea", 0, h1, err, sizeof(err)) == 0 &&
	    u.v[1].uid == 30001 && strcmp(u.v[1].name, "bea") == 0,
	    "lowest free uid (30001), list sorted");
	T_EQ(smb_users_next_uid(&u), 30003, "next after a run");
	T_OK(smb_users_add(&u, "amy", 0, h1, err, sizeof(err)) == -1 &&
	    strcmp(err, "user amy already exists") == 0, "duplicate name: %s",
	    err);
	T_OK(smb_users_add(&u, "cy", 30001, h1, err, sizeof(err)) == -1 &&
	    strcmp(err, "uid 30001 of user cy is already user bea's") == 0,
	    "duplicate uid: %s", err);
	T_OK(smb_users_add(&u, "Cy", 0, h1, err, sizeof(err)) == -1,
	    "bad name: %s", err);
	T_OK(smb_users_set_hash(&u, "bea", h2, err, sizeof(err)) == 0 &&
	    memcmp(u.v[1].nthash, h2, 16) == 0 && u.v[1].uid == 30001,
	    "new hash, same uid");
	T_OK(smb_users_set_hash(&u, "nope", h2, err, sizeof(err)) == -1 &&
	    strncmp(err, "no SMB user nope", 16) == 0, "passwd of an unknown "
	    "user: %s", err);
	T_OK(smb_users_set_disabled(&u, "bea", 1, err, sizeof(err)) == 0 &&
	    u.v[1].disabled == 1, "disable bea");
	T_OK(smb_users_set_disabled(&u, "bea", 0, err, sizeof(err)) == 0 &&
	    u.v[1].disabled == 0, "enable bea");
	T_OK(smb_users_set_disabled(&u, "nope", 1, err, sizeof(err)) == -1 &&
	    strncmp(err, "no SMB user nope", 16) == 0, "disable an unknown "
	    "user: %s", err);
	T_OK(smb_users_remove(&u, "bea", err, sizeof(err)) == 0 && u.n == 2 &&
	    strcmp(u.v[1].name, "zed") == 0, "remove bea");
	T_OK(smb_users_remove(&u, "bea", err, sizeof(err)) == -1,
	    "remove again: %s", err);
	T_EQ(smb_users_next_uid(&u), 30001, "a removed uid is free again");
	smb_users_free(&u);
	T_OK(smb_user_name_check("_a.b-c9", err, sizeof(err)) == 0,
	    "'_a.b-c9' is a valid name");
	T_OK(smb_user_name_check("", err, sizeof(err)) == -1, "empty name: %s",
	    err);
}

static void
test_smbpasswd(void)
{
	struct smb_users	u;
	struct buf		o;
	char			err[256], path[64];
	const char		*want =
	    "alice:30000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:"
	    "8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:\n"
	    "bob.x:30001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:"
	    "31D6CFE0D16AE931B73C59D7E0C089C0:[DU         ]:LCT-5F5E1000:\n"
	    "carol_2:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:"
	    "AED9375BA569C9F0216EEA5C0C7BF463:[U          ]:LCT-5F5E1000:\n";

	buf_init(&o);
	smb_users_parse(golden, strlen(golden), &u, err, sizeof(err));
	smb_users_smbpasswd(&u, 1600000000, &o);
	T_OK(o.len == strlen(want) && memcmp(o.data, want, o.len) == 0,
	    "smbpasswd lines (golden bytes)");
	if (o.len != strlen(want))
		printf("# got:\n%s", (char *)o.data);
	smb_users_free(&u);
	buf_free(&o);
	T_OK(smb_users_path("/var/lib/duonas", path, sizeof(path)) == 0 &&
	    strcmp(path, "/var/lib/duonas/smb/users") == 0, "installed path");
	T_OK(smb_users_path("/var/lib/duonas", path, 10) == -1,
	    "path too long for the buffer");
	T_OK(smb_users_load("/nonexistent/smb/users", &u, err,
	    sizeof(err)) == 0 && u.n == 0, "a missing file is no users");
}

int
main(void)
{
	test_md4();
	test_nthash();
	test_text();
	test_errors();
	test_edit();
	test_smbpasswd();
	return t_done();
}

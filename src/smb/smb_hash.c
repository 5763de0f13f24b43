/*
 * smb_hash.c — the password side of SMB users: MD4 (RFC 1320), the NT
 * hash (MD4 of the password in UTF-16LE, what NTLM authenticates with)
 * and Samba's smbpasswd(5) lines built from the user list.
 *
 * MD4 is broken as a general hash; it is here only because the NT hash
 * is defined with it and Samba needs exactly that value.  OpenSSL 3 keeps
 * MD4 in its legacy provider, which is not loaded by default, so this is
 * our own small implementation, checked against the RFC 1320 test suite.
 * The UTF-8 decoder is strict: a password that is not valid UTF-8 would
 * hash to something no Windows client can type.
 */
#include <stdio.h>
#include <string.h>

#include "smb/smb_hash.h"
#include "smb/smb_users.h"

/* ---- MD4 ---------------------------------------------------------------- */

struct md4 {
	uint32_t	s[4];
	uint64_t	nbytes;
	uint8_t		blk[64];
	size_t		fill;
};

#define ROTL(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))
#define F(x, y, z)	(((x) & (y)) | (~(x) & (z)))
#define G(x, y, z)	(((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define H(x, y, z)	((x) ^ (y) ^ (z))

static void
md4_block(uint32_t s[4], const uint8_t *p)
{
	/* word order of the three rounds and their shifts (RFC 1320 3.4) */
	static const uint8_t r2[16] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10,
	    14, 3, 7, 11, 15 };
	static const uint8_t r3[16] = { 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5,
	    13, 3, 11, 7, 15 };
	static const uint8_t sh1[4] = { 3, 7, 11, 19 };
	static const uint8_t sh2[4] = { 3, 5, 9, 13 };
	static const uint8_t sh3[4] = { 3, 9, 11, 15 };
	uint32_t	x[16], a = s[0], b = s[1], c = s[2], d = s[3], t;

	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	/* each step computes a new value for a, then the roles rotate
	 * (a, b, c, d) -> (d, a, b, c) */
	for (int i = 0; i < 16; i++) {
		t = a + F(b, c, d) + x[i];
		a = d, d = c, c = b, b = ROTL(t, sh1[i % 4]);
	}
	for (int i = 0; i < 16; i++) {
		t = a + G(b, c, d) + x[r2[i]] + 0x5a827999u;
		a = d, d = c, c = b, b = ROTL(t, sh2[i % 4]);
	}
	for (int i = 0; i < 16; i++) {
		t = a + H(b, c, d) + x[r3[i]] + 0x6ed9eba1u;
		a = d, d = c, c = b, b = ROTL(t, sh3[i % 4]);
	}
	s[0] += a;
	s[1] += b;
	s[2] += c;
	s[3] += d;
}

static void
md4_init(struct md4 *m)
{
	m->s[0] = 0x67452301u;
	m->s[1] = 0xefcdab89u;
	m->s[2] = 0x98badcfeu;
	m->s[3] = 0x10325476u;
	m->nbytes = 0;
	m->fill = 0;
}

static void
md4_update(struct md4 *m, const void *data, size_t len)
{
	const uint8_t	*p = data;

	m->nbytes += len;
	while (len > 0) {
		size_t n = 64 - m->fill < len ? 64 - m->fill : len;

		memcpy(m->blk + m->fill, p, n);
		m->fill += n;
		p += n;
		len -= n;
		if (m->fill == 64) {
			md4_block(m->s, m->blk);
			m->fill = 0;
		}
	}
}

static void
md4_final(struct md4 *m, uint8_t out[16])
{
	uint64_t	bits = m->nbytes * 8;
	uint8_t		pad[72];
	size_t		n = m->fill < 56 ? 56 - m->fill : 120 - m->fill;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[n + i] = (uint8_t)(bits >> (8 * i));
	md4_update(m, pad, n + 8);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(m->s[i] >> (8 * j));
}

void
smb_md4(const void *data, size_t len, uint8_t out[16])
{
	struct md4 m;

	md4_init(&m);
	md4_update(&m, data, len);
	md4_final(&m, out);
	memset(&m, 0, sizeof(m));
}

/* ---- NT hash -------------------------------------------------------------- */

/* Next code point of UTF-8 text at *pp (before end); -1 when invalid. */
static long
utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char	*p = *pp;
	long			 cp;
	int			 n;

	if (p[0] < 0x80)
		n = 0, cp = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		n = 1, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 2, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 3, cp = p[0] & 0x07;
	else
		return -1;
	if (end - p < n + 1)
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond Unicode */
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return -1;
	*pp = p + n + 1;
	return cp;
}

int
smb_nthash(const char *password, size_t len, uint8_t out[SMB_NTHASH_LEN],
    char *err, size_t errlen)
{
	const unsigned char	*p = (const unsigned char *)password;
	const unsigned char	*end = p + len;
	uint8_t			 u16[SMB_PASSWORD_MAX * 2];
	size_t			 n = 0;

	if (len > SMB_PASSWORD_MAX) {
		snprintf(err, errlen, "the password is longer than %d bytes",
		    SMB_PASSWORD_MAX);
		return -1;
	}
	while (p < end) {
		size_t	 off = (size_t)(p - (const unsigned char *)password);
		long	 cp = utf8_next(&p, end);

		if (cp < 0) {
			snprintf(err, errlen, "the password is not valid UTF-8 "
			    "(byte %zu)", off + 1);
			memset(u16, 0, sizeof(u16));
			return -1;
		}
		if (cp == 0) {
			snprintf(err, errlen, "the password contains a NUL "
			    "byte");
			memset(u16, 0, sizeof(u16));
			return -1;
		}
		/* at most 4 UTF-8 bytes become 4 UTF-16 bytes: fits */
		if (cp >= 0x10000) {
			long v = cp - 0x10000;
			unsigned hi = 0xd800 | (unsigned)(v >> 10);
			unsigned lo = 0xdc00 | (unsigned)(v & 0x3ff);

			u16[n++] = (uint8_t)hi;
			u16[n++] = (uint8_t)(hi >> 8);
			u16[n++] = (uint8_t)lo;
			u16[n++] = (uint8_t)(lo >> 8);
		} else {
			u16[n++] = (uint8_t)cp;
			u16[n++] = (uint8_t)(cp >> 8);
		}
	}
	smb_md4(u16, n, out);
	memset(u16, 0, sizeof(u16));
	return 0;
}

void
smb_nthash_hex(const uint8_t h[SMB_NTHASH_LEN], char out[33])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < SMB_NTHASH_LEN; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[32] = 0;
}

/* ---- smbpasswd(5) --------------------------------------------------------- */

void
smb_users_smbpasswd(const struct smb_users *u, time_t lct, struct buf *out)
{
	static const char hx[] = "0123456789ABCDEF";

	for (int i = 0; i < u->n; i++) {
		const struct smb_user	*e = &u->v[i];
		char			 nt[33];

		for (int k = 0; k < SMB_NTHASH_LEN; k++) {
			nt[2 * k] = hx[e->nthash[k] >> 4];
			nt[2 * k + 1] = hx[e->nthash[k] & 15];
		}
		nt[32] = 0;
		/* no LANMAN hash (32 X); flags: 11 characters between the
		 * brackets, padded with spaces */
		buf_printf(out, "%s:%u:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:%s:"
		    "[%-11s]:LCT-%08llX:\n", e->name, e->uid, nt,
		    e->disabled ? "DU" : "U", (unsigned long long)lct &
		    0xffffffffull);
		memset(nt, 0, sizeof(nt));
	}
}

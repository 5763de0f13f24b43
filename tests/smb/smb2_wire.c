/*
 * smb2_wire.c — SMB2 and NTLMSSP bytes for tests/smb/smb2tool (see
 * smb2_wire.h): requests built into a bounded buffer, replies decoded
 * only after their StructureSize, every length and every offset have
 * been checked against the message actually received.  Only what the
 * tool sends is here: dialects 2.0.2 and 2.1, no signing, no
 * encryption, no compounding, no create contexts, one lock element per
 * LOCK.  The NTLM arithmetic uses OpenSSL (MD4 from its legacy
 * provider, loaded on first use).
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>

#include "smb2_wire.h"

/* ---- buffer ------------------------------------------------------------ */

void
smb2_buf_init(struct smb2_buf *b, uint8_t *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->overflow = 0;
}

void
smb2_putmem(struct smb2_buf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
smb2_put16(struct smb2_buf *b, uint16_t v)
{
	uint8_t	x[2] = { v & 0xff, v >> 8 };

	smb2_putmem(b, x, 2);
}

void
smb2_put32(struct smb2_buf *b, uint32_t v)
{
	smb2_put16(b, v & 0xffff);
	smb2_put16(b, v >> 16);
}

void
smb2_put64(struct smb2_buf *b, uint64_t v)
{
	smb2_put32(b, v & 0xffffffffu);
	smb2_put32(b, v >> 32);
}

static void
zeros(struct smb2_buf *b, size_t n)
{
	static const uint8_t z[64];

	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		smb2_putmem(b, z, k);
		n -= k;
	}
}

void
smb2_put_utf16(struct smb2_buf *b, const char *s, int upper)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		uint32_t	c;
		int		more;

		if (*p < 0x80) {
			c = *p;
			more = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			c = *p & 0x1f;
			more = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			c = *p & 0x0f;
			more = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			c = *p & 0x07;
			more = 3;
		} else {
			b->overflow = 1;
			return;
		}
		p++;
		for (; more > 0; more--, p++) {
			if ((*p & 0xc0) != 0x80) {
				b->overflow = 1;
				return;
			}
			c = c << 6 | (*p & 0x3f);
		}
		if (upper && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c >= 0x10000) {
			c -= 0x10000;
			smb2_put16(b, 0xd800 | (c >> 10));
			smb2_put16(b, 0xdc00 | (c & 0x3ff));
		} else
			smb2_put16(b, c);
	}
}

uint16_t
smb2_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
smb2_get32(const uint8_t *p)
{
	return smb2_get16(p) | (uint32_t)smb2_get16(p + 2) << 16;
}

uint64_t
smb2_get64(const uint8_t *p)
{
	return smb2_get32(p) | (uint64_t)smb2_get32(p + 4) << 32;
}

/* ---- framing and header ------------------------------------------------ */

long
smb2_frame_len(const uint8_t pfx[4], size_t max)
{
	size_t	n = (size_t)pfx[1] << 16 | pfx[2] << 8 | pfx[3];

	if (pfx[0] != 0 || n < SMB2_HDR_LEN || n > max)
		return -1;
	return (long)n;
}

void
smb2_frame_put(uint8_t pfx[4], size_t len)
{
	pfx[0] = 0;
	pfx[1] = (len >> 16) & 0xff;
	pfx[2] = (len >> 8) & 0xff;
	pfx[3] = len & 0xff;
}

static const uint8_t smb2_magic[4] = { 0xfe, 'S', 'M', 'B' };

void
smb2_hdr_put(struct smb2_buf *b, const struct smb2_hdr *h)
{
	smb2_putmem(b, smb2_magic, 4);
	smb2_put16(b, SMB2_HDR_LEN);
	smb2_put16(b, h->credit_charge);
	smb2_put32(b, h->status);
	smb2_put16(b, h->command);
	smb2_put16(b, h->credits);
	smb2_put32(b, h->flags);
	smb2_put32(b, h->next_command);
	smb2_put64(b, h->message_id);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND)
		smb2_put64(b, h->async_id);
	else {
		smb2_put32(b, 0);		/* ProcessId (reserved) */
		smb2_put32(b, h->tree_id);
	}
	smb2_put64(b, h->session_id);
	zeros(b, 16);				/* Signature: unsigned */
}

int
smb2_hdr_get(const uint8_t *m, size_t len, struct smb2_hdr *h)
{
	if (len < SMB2_HDR_LEN || memcmp(m, smb2_magic, 4) != 0 ||
	    smb2_get16(m + 4) != SMB2_HDR_LEN)
		return -1;
	memset(h, 0, sizeof(*h));
	h->credit_charge = smb2_get16(m + 6);
	h->status = smb2_get32(m + 8);
	h->command = smb2_get16(m + 12);
	h->credits = smb2_get16(m + 14);
	h->flags = smb2_get32(m + 16);
	h->next_command = smb2_get32(m + 20);
	h->message_id = smb2_get64(m + 24);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND)
		h->async_id = smb2_get64(m + 32);
	else
		h->tree_id = smb2_get32(m + 36);
	h->session_id = smb2_get64(m + 40);
	if (!(h->flags & SMB2_FLAGS_SERVER_TO_REDIR))
		return -1;
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

void
smb2_negotiate_req(struct smb2_buf *b, const uint8_t guid[16])
{
	smb2_put16(b, 36);			/* StructureSize */
	smb2_put16(b, 2);			/* DialectCount */
	smb2_put16(b, 1);			/* SecurityMode: signing enabled */
	smb2_put16(b, 0);
	smb2_put32(b, 0);			/* Capabilities */
	smb2_putmem(b, guid, 16);
	smb2_put64(b, 0);			/* ClientStartTime */
	smb2_put16(b, SMB2_DIALECT_202);
	smb2_put16(b, SMB2_DIALECT_210);
}

void
smb2_sess_req(struct smb2_buf *b, const uint8_t *blob, size_t len)
{
	smb2_put16(b, 25);
	smb2_putmem(b, "\0\1", 2);		/* Flags 0, SecurityMode 1 */
	smb2_put32(b, 0);			/* Capabilities */
	smb2_put32(b, 0);			/* Channel */
	smb2_put16(b, SMB2_HDR_LEN + 24);	/* SecurityBufferOffset */
	smb2_put16(b, (uint16_t)len);
	smb2_put64(b, 0);			/* PreviousSessionId */
	smb2_putmem(b, blob, len);
	if (len > 0xffff)
		b->overflow = 1;
}

void
smb2_tree_req(struct smb2_buf *b, const char *unc)
{
	size_t	at;

	smb2_put16(b, 9);
	smb2_put16(b, 0);
	smb2_put16(b, SMB2_HDR_LEN + 8);	/* PathOffset */
	at = b->len;
	smb2_put16(b, 0);			/* PathLength, below */
	smb2_put_utf16(b, unc, 0);
	if (!b->overflow) {
		size_t n = b->len - at - 2;

		b->p[at] = n & 0xff;
		b->p[at + 1] = n >> 8;
	}
}

void
smb2_create_req(struct smb2_buf *b, const char *name)
{
	size_t	at;

	smb2_put16(b, 57);
	smb2_putmem(b, "\0\0", 2);		/* SecurityFlags, no oplock */
	smb2_put32(b, 2);			/* Impersonation */
	smb2_put64(b, 0);			/* SmbCreateFlags */
	smb2_put64(b, 0);
	smb2_put32(b, 0x0012019f);		/* FILE_GENERIC_READ|WRITE */
	smb2_put32(b, 0x80);			/* FILE_ATTRIBUTE_NORMAL */
	smb2_put32(b, 7);			/* share read, write, delete */
	smb2_put32(b, 3);			/* FILE_OPEN_IF */
	smb2_put32(b, 0x40);			/* FILE_NON_DIRECTORY_FILE */
	smb2_put16(b, SMB2_HDR_LEN + 56);	/* NameOffset */
	at = b->len;
	smb2_put16(b, 0);			/* NameLength, below */
	smb2_put32(b, 0);			/* CreateContexts */
	smb2_put32(b, 0);
	smb2_put_utf16(b, name, 0);
	if (b->overflow)
		return;
	b->p[at] = (b->len - at - 10) & 0xff;
	b->p[at + 1] = (b->len - at - 10) >> 8;
	if (b->len - at - 10 == 0)
		smb2_putmem(b, "", 1);		/* the Buffer is never empty */
}

void
smb2_read_req(struct smb2_buf *b, const uint8_t fid[16], uint64_t off,
    uint32_t len)
{
	smb2_put16(b, 49);
	smb2_putmem(b, "\x50\0", 2);		/* Padding, Flags */
	smb2_put32(b, len);
	smb2_put64(b, off);
	smb2_putmem(b, fid, 16);
	smb2_put32(b, 0);			/* MinimumCount */
	smb2_put32(b, 0);			/* Channel */
	smb2_put32(b, 0);			/* RemainingBytes */
	smb2_put32(b, 0);			/* ReadChannelInfo */
	smb2_putmem(b, "", 1);
}

void
smb2_write_req(struct smb2_buf *b, const uint8_t fid[16], uint64_t off,
    const void *data, uint32_t len)
{
	smb2_put16(b, 49);
	smb2_put16(b, SMB2_HDR_LEN + 48);	/* DataOffset */
	smb2_put32(b, len);
	smb2_put64(b, off);
	smb2_putmem(b, fid, 16);
	smb2_put32(b, 0);			/* Channel */
	smb2_put32(b, 0);			/* RemainingBytes */
	smb2_put32(b, 0);			/* WriteChannelInfo */
	smb2_put32(b, 0);			/* Flags */
	if (len == 0)
		smb2_putmem(b, "", 1);
	else
		smb2_putmem(b, data, len);
}

void
smb2_flush_req(struct smb2_buf *b, const uint8_t fid[16])
{
	smb2_put16(b, 24);
	smb2_put16(b, 0);
	smb2_put32(b, 0);
	smb2_putmem(b, fid, 16);
}

void
smb2_lock_req(struct smb2_buf *b, const uint8_t fid[16], uint64_t off,
    uint64_t len, uint32_t flags)
{
	smb2_put16(b, 48);
	smb2_put16(b, 1);			/* LockCount */
	smb2_put32(b, 0);			/* LockSequence */
	smb2_putmem(b, fid, 16);
	smb2_put64(b, off);
	smb2_put64(b, len);
	smb2_put32(b, flags);
	smb2_put32(b, 0);
}

void
smb2_close_req(struct smb2_buf *b, const uint8_t fid[16])
{
	smb2_put16(b, 24);
	smb2_put16(b, 0);			/* Flags: no attributes back */
	smb2_put32(b, 0);
	smb2_putmem(b, fid, 16);
}

void
smb2_empty_req(struct smb2_buf *b)
{
	smb2_put16(b, 4);
	smb2_put16(b, 0);
}

/* ---- replies ----------------------------------------------------------- */

/* The body after the header holds at least min bytes and starts with a
 * StructureSize of want. */
static int
body_ok(const uint8_t *m, size_t len, size_t min, uint16_t want)
{
	return len >= SMB2_HDR_LEN + min &&
	    smb2_get16(m + SMB2_HDR_LEN) == want;
}

/* A buffer at offset off (from the header's start) of n bytes lies inside
 * the message and after the fixed body part (fixed bytes). */
static int
span_ok(size_t len, size_t off, size_t n, size_t fixed)
{
	if (n == 0)
		return 1;
	return off >= SMB2_HDR_LEN + fixed && off <= len && n <= len - off;
}

int
smb2_negotiate_rsp(const uint8_t *m, size_t len, struct smb2_negotiate_rsp *r)
{
	const uint8_t	*b = m + SMB2_HDR_LEN;
	size_t		 off, n;

	if (!body_ok(m, len, 64, 65))
		return -1;
	r->security_mode = smb2_get16(b + 2);
	r->dialect = smb2_get16(b + 4);
	r->max_read = smb2_get32(b + 32);
	r->max_write = smb2_get32(b + 36);
	off = smb2_get16(b + 56);
	n = smb2_get16(b + 58);
	if (!span_ok(len, off, n, 64))
		return -1;
	r->blob = n ? m + off : NULL;
	r->blob_len = n;
	return 0;
}

int
smb2_sess_rsp(const uint8_t *m, size_t len, uint16_t *flags,
    const uint8_t **blob, size_t *blob_len)
{
	const uint8_t	*b = m + SMB2_HDR_LEN;
	size_t		 off, n;

	if (!body_ok(m, len, 8, 9))
		return -1;
	*flags = smb2_get16(b + 2);
	off = smb2_get16(b + 4);
	n = smb2_get16(b + 6);
	if (!span_ok(len, off, n, 8))
		return -1;
	*blob = n ? m + off : NULL;
	*blob_len = n;
	return 0;
}

int
smb2_create_rsp(const uint8_t *m, size_t len, uint8_t fid[16], uint64_t *eof)
{
	const uint8_t	*b = m + SMB2_HDR_LEN;

	if (!body_ok(m, len, 88, 89))
		return -1;
	*eof = smb2_get64(b + 48);
	memcpy(fid, b + 64, 16);
	return 0;
}

int
smb2_read_rsp(const uint8_t *m, size_t len, const uint8_t **data,
    size_t *data_len)
{
	const uint8_t	*b = m + SMB2_HDR_LEN;
	size_t		 off, n;

	if (!body_ok(m, len, 16, 17))
		return -1;
	off = b[2];
	n = smb2_get32(b + 4);
	if (!span_ok(len, off, n, 16))
		return -1;
	*data = m + off;
	*data_len = n;
	return 0;
}

int
smb2_write_rsp(const uint8_t *m, size_t len, uint32_t *count)
{
	if (!body_ok(m, len, 16, 17))
		return -1;
	*count = smb2_get32(m + SMB2_HDR_LEN + 4);
	return 0;
}

int
smb2_fixed_rsp(const uint8_t *m, size_t len, uint16_t want)
{
	/* an odd StructureSize counts one byte of a variable buffer that
	 * may be absent; an even one is the whole fixed part */
	return body_ok(m, len, want & ~1u, want) ? 0 : -1;
}

static const struct {
	uint32_t	 code;
	const char	*name;
} status_names[] = {
	{ STATUS_SUCCESS,		"STATUS_SUCCESS" },
	{ STATUS_PENDING,		"STATUS_PENDING" },
	{ STATUS_MORE_PROCESSING_REQUIRED, "STATUS_MORE_PROCESSING_REQUIRED" },
	{ 0xc000000du,			"STATUS_INVALID_PARAMETER" },
	{ 0xc000000fu,			"STATUS_NO_SUCH_FILE" },
	{ 0xc0000010u,			"STATUS_INVALID_DEVICE_REQUEST" },
	{ STATUS_END_OF_FILE,		"STATUS_END_OF_FILE" },
	{ 0xc0000022u,			"STATUS_ACCESS_DENIED" },
	{ 0xc0000033u,			"STATUS_OBJECT_NAME_INVALID" },
	{ STATUS_OBJECT_NAME_NOT_FOUND,	"STATUS_OBJECT_NAME_NOT_FOUND" },
	{ 0xc000003au,			"STATUS_OBJECT_PATH_NOT_FOUND" },
	{ 0xc0000043u,			"STATUS_SHARING_VIOLATION" },
	{ STATUS_FILE_LOCK_CONFLICT,	"STATUS_FILE_LOCK_CONFLICT" },
	{ STATUS_LOCK_NOT_GRANTED,	"STATUS_LOCK_NOT_GRANTED" },
	{ STATUS_LOGON_FAILURE,		"STATUS_LOGON_FAILURE" },
	{ 0xc0000072u,			"STATUS_ACCOUNT_DISABLED" },
	{ STATUS_RANGE_NOT_LOCKED,	"STATUS_RANGE_NOT_LOCKED" },
	{ 0xc00000bau,			"STATUS_FILE_IS_A_DIRECTORY" },
	{ 0xc00000bbu,			"STATUS_NOT_SUPPORTED" },
	{ 0xc00000c9u,			"STATUS_NETWORK_NAME_DELETED" },
	{ STATUS_BAD_NETWORK_NAME,	"STATUS_BAD_NETWORK_NAME" },
	{ 0xc0000128u,			"STATUS_FILE_CLOSED" },
	{ STATUS_CANCELLED,		"STATUS_CANCELLED" },
	{ 0xc000015bu,			"STATUS_LOGON_TYPE_NOT_GRANTED" },
	{ 0xc0000203u,			"STATUS_USER_SESSION_DELETED" },
	{ 0xc000007fu,			"STATUS_DISK_FULL" },
	{ 0xc000009au,			"STATUS_INSUFFICIENT_RESOURCES" },
	{ 0xc0000185u,			"STATUS_IO_DEVICE_ERROR" },
	{ 0xc00000b5u,			"STATUS_IO_TIMEOUT" },
	{ 0xc0000008u,			"STATUS_INVALID_HANDLE" },
	{ 0,				NULL },
};

const char *
smb2_status_name(uint32_t code)
{
	size_t	i;

	for (i = 0; status_names[i].name != NULL; i++)
		if (status_names[i].code == code)
			return status_names[i].name;
	return NULL;
}

/* ---- NTLMSSP ----------------------------------------------------------- */

static const uint8_t ntlm_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

void
ntlm_negotiate_msg(struct smb2_buf *b)
{
	smb2_putmem(b, ntlm_sig, 8);
	smb2_put32(b, 1);
	smb2_put32(b, NTLM_CLIENT_FLAGS);
	zeros(b, 16);			/* no domain, no workstation supplied */
}

/* A security buffer (len, maxlen, offset) at p inside blob of n bytes. */
static int
secbuf(const uint8_t *blob, size_t n, size_t at, const uint8_t **out,
    size_t *out_len)
{
	size_t	len, off;

	if (at + 8 > n)
		return -1;
	len = smb2_get16(blob + at);
	off = smb2_get32(blob + at + 4);
	if (off > n || len > n - off)
		return -1;
	*out = blob + off;
	*out_len = len;
	return 0;
}

int
ntlm_challenge_parse(const uint8_t *b, size_t n, struct ntlm_challenge *c)
{
	const uint8_t	*name, *p;
	size_t		 name_len, i, left;

	memset(c, 0, sizeof(*c));
	if (n < 48 || memcmp(b, ntlm_sig, 8) != 0 || smb2_get32(b + 8) != 2)
		return -1;
	if (secbuf(b, n, 12, &name, &name_len) < 0 ||
	    secbuf(b, n, 40, &c->target_info, &c->ti_len) < 0)
		return -1;
	c->flags = smb2_get32(b + 20);
	memcpy(c->challenge, b + 24, 8);
	for (i = 0; i + 1 < name_len && i / 2 < sizeof(c->target_name) - 1;
	    i += 2) {
		uint16_t ch = smb2_get16(name + i);

		c->target_name[i / 2] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	/* the AV pairs: id, length, value ... MsvAvEOL */
	p = c->target_info;
	left = c->ti_len;
	for (;;) {
		uint16_t id, len;

		if (left < 4)
			return -1;
		id = smb2_get16(p);
		len = smb2_get16(p + 2);
		if (len > left - 4)
			return -1;
		if (id == 0)		/* MsvAvEOL */
			break;
		if (id == 7 && len == 8) {	/* MsvAvTimestamp */
			c->has_time = 1;
			c->time = smb2_get64(p + 4);
		}
		p += 4 + len;
		left -= 4 + len;
	}
	return 0;
}

static EVP_MD *
md4_fetch(void)
{
	static EVP_MD	*md4;
	static int	 tried;

	if (!tried) {
		tried = 1;
		/* loading a provider by name stops OpenSSL from loading the
		 * default one by itself: load both */
		if (OSSL_PROVIDER_load(NULL, "legacy") != NULL &&
		    OSSL_PROVIDER_load(NULL, "default") != NULL)
			md4 = EVP_MD_fetch(NULL, "MD4", NULL);
	}
	return md4;
}

int
ntlm_nt_hash(const char *password, uint8_t out[16])
{
	uint8_t		 u[1024];
	struct smb2_buf	 b;
	EVP_MD		*md4 = md4_fetch();
	unsigned int	 n = 16;

	smb2_buf_init(&b, u, sizeof(u));
	smb2_put_utf16(&b, password, 0);
	if (md4 == NULL || b.overflow)
		return -1;
	return EVP_Digest(u, b.len, out, &n, md4, NULL) == 1 ? 0 : -1;
}

static int
hmac_md5(const uint8_t key[16], const uint8_t *d, size_t n, uint8_t out[16])
{
	unsigned int	len = 16;

	return HMAC(EVP_md5(), key, 16, d, n, out, &len) != NULL ? 0 : -1;
}

int
ntlm_ntowfv2(const uint8_t nthash[16], const char *user, const char *domain,
    uint8_t out[16])
{
	uint8_t		u[1024];
	struct smb2_buf	b;

	smb2_buf_init(&b, u, sizeof(u));
	smb2_put_utf16(&b, user, 1);
	smb2_put_utf16(&b, domain, 0);
	if (b.overflow)
		return -1;
	return hmac_md5(nthash, u, b.len, out);
}

size_t
ntlm_v2_response(const uint8_t key[16], const uint8_t srv_chal[8],
    const uint8_t cli_chal[8], uint64_t time, const uint8_t *ti,
    size_t ti_len, uint8_t *out, size_t cap)
{
	struct smb2_buf	b;
	uint8_t		proof[16];

	/* out: NTProofStr (16, filled last) || temp; temp is hashed after
	 * the server challenge, which sits in the 8 bytes before it */
	smb2_buf_init(&b, out, cap);
	zeros(&b, 8);
	smb2_putmem(&b, srv_chal, 8);
	smb2_putmem(&b, "\1\1\0\0\0\0\0\0", 8);	/* Resp(Hi)Version */
	smb2_put64(&b, time);
	smb2_putmem(&b, cli_chal, 8);
	smb2_put32(&b, 0);
	smb2_putmem(&b, ti, ti_len);
	smb2_put32(&b, 0);
	if (b.overflow || hmac_md5(key, out + 8, b.len - 8, proof) < 0)
		return 0;
	memcpy(out, proof, 16);
	return b.len;
}

void
ntlm_authenticate_msg(struct smb2_buf *b, uint32_t flags, const uint8_t *nt,
    size_t nt_len, const char *domain, const char *user,
    const char *workstation)
{
	uint8_t		 dom[512], usr[512], wks[512];
	struct smb2_buf	 d, u, w;
	const size_t	 hdr = 64;
	size_t		 off = hdr;

	smb2_buf_init(&d, dom, sizeof(dom));
	smb2_buf_init(&u, usr, sizeof(usr));
	smb2_buf_init(&w, wks, sizeof(wks));
	smb2_put_utf16(&d, domain, 0);
	smb2_put_utf16(&u, user, 0);
	smb2_put_utf16(&w, workstation, 0);
	if (d.overflow || u.overflow || w.overflow || nt_len > 0xffff) {
		b->overflow = 1;
		return;
	}
	smb2_putmem(b, ntlm_sig, 8);
	smb2_put32(b, 3);
#define SECBUF(n) do {							\
	smb2_put16(b, (uint16_t)(n));					\
	smb2_put16(b, (uint16_t)(n));					\
	smb2_put32(b, (uint32_t)off);					\
	off += (n);							\
} while (0)
	SECBUF(24);			/* LmChallengeResponse */
	SECBUF(nt_len);			/* NtChallengeResponse */
	SECBUF(d.len);
	SECBUF(u.len);
	SECBUF(w.len);
	SECBUF(0);			/* EncryptedRandomSessionKey */
#undef SECBUF
	smb2_put32(b, flags);
	zeros(b, 24);			/* LM response */
	smb2_putmem(b, nt, nt_len);
	smb2_putmem(b, dom, d.len);
	smb2_putmem(b, usr, u.len);
	smb2_putmem(b, wks, w.len);
}

uint64_t
smb2_filetime(int64_t unix_sec)
{
	return (uint64_t)(unix_sec + 11644473600LL) * 10000000u;
}

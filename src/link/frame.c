/*
 * frame.c — the link's wire codec: frame header, HMAC-SHA256 trailer,
 * HELLO payload and session key derivation (docs/link-protocol.md).
 *
 * Everything here is pure: bytes in, bytes or a status out, no sockets,
 * no module state, so the unit test can pin it to golden bytes.  The
 * decoder checks the cheap fields as soon as their bytes exist (a stream
 * of garbage is rejected on its first 4 bytes), verifies the MAC before
 * trusting anything else, and only then looks at the sequence number.
 * It deliberately does not know about types, handlers or connections.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/log.h"
#include "link/link.h"
#include "link/link_int.h"

const char *const lk_drop_names[LK_DROP__MAX] = {
	[LK_DROP_MAGIC]		= "bad_magic",
	[LK_DROP_VERSION]	= "bad_version",
	[LK_DROP_LENGTH]	= "bad_length",
	[LK_DROP_MAC]		= "bad_mac",
	[LK_DROP_PROTO]		= "protocol",
	[LK_DROP_REPLAY]	= "replay",
	[LK_DROP_TYPE]		= "unknown_type",
	[LK_DROP_LATE]		= "late_reply",
	[LK_DROP_DUP]		= "duplicate",
};
_Static_assert(nitems(lk_drop_names) == LK_DROP__MAX, "drop names");

const char *
lk_status_str(int st)
{
	switch (st) {
	case LK_OK:		return "ok";
	case LK_MORE:		return "need more bytes";
	case LK_E_MAGIC:	return "bad magic";
	case LK_E_VERSION:	return "bad version";
	case LK_E_LENGTH:	return "bad length";
	case LK_E_MAC:		return "bad mac";
	case LK_E_SEQ:		return "replayed or out-of-order sequence";
	}
	return "unknown status";
}

int
lk_key_init(struct lk_key *k, const uint8_t *key, size_t keylen)
{
	if ((k->ctx = hmac_sha256_new(key, keylen)) == NULL) {
		log_warnx("link: cannot set up HMAC-SHA256 (libcrypto)");
		return -1;
	}
	return 0;
}

void
lk_key_free(struct lk_key *k)
{
	hmac_sha256_free(k->ctx);
	k->ctx = NULL;
}

int
lk_mac(const struct lk_key *k, const void *a, size_t alen, const void *b,
    size_t blen, uint8_t out[LK_MAC_LEN])
{
	EVP_MAC_CTX	*c;
	size_t		 olen = 0;
	int		 rc = -1;

	/* Duplicating the keyed context skips the key schedule per frame. */
	if (k->ctx == NULL || (c = EVP_MAC_CTX_dup(k->ctx)) == NULL)
		return -1;
	if (alen && !EVP_MAC_update(c, a, alen))
		goto out;
	if (blen && !EVP_MAC_update(c, b, blen))
		goto out;
	if (!EVP_MAC_final(c, out, &olen, LK_MAC_LEN) || olen != LK_MAC_LEN)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(c);
	return rc;
}

int
lk_frame_encode(struct buf *out, const struct lk_key *k,
    const struct lk_hdr *h, const void *payload, size_t len)
{
	uint8_t	*f;
	size_t	 start = out->len;

	if (len > LINK_PAYLOAD_MAX)
		return LK_E_LENGTH;
	buf_reserve(out, LK_FRAME_OVERHEAD + len);
	f = out->data + start;
	put_be32(f + 0, LK_MAGIC);
	f[4] = LK_VERSION;
	f[5] = h->type;
	put_be16(f + 6, h->flags);
	put_be32(f + 8, (uint32_t)len);
	put_be32(f + 12, h->sender);
	put_be64(f + 16, h->seq);
	put_be64(f + 24, h->req_id);
	if (len)
		memcpy(f + LK_HDR_LEN, payload, len);
	if (lk_mac(k, f, LK_HDR_LEN + len, NULL, 0, f + LK_HDR_LEN + len) < 0)
		fatalx("link: HMAC computation failed");
	out->len += LK_FRAME_OVERHEAD + len;
	out->data[out->len] = 0;
	return LK_OK;
}

int
lk_frame_decode(const uint8_t *d, size_t avail, const struct lk_key *k,
    uint64_t expect_seq, struct lk_hdr *h, const uint8_t **payload,
    size_t *framelen)
{
	uint8_t		mac[LK_MAC_LEN];
	uint32_t	len;
	size_t		total;

	*framelen = 0;
	if (avail >= 4 && get_be32(d) != LK_MAGIC)
		return LK_E_MAGIC;
	if (avail >= 5 && d[4] != LK_VERSION)
		return LK_E_VERSION;
	if (avail < 12)
		return LK_MORE;
	len = get_be32(d + 8);
	if (len > LINK_PAYLOAD_MAX)
		return LK_E_LENGTH;
	total = LK_FRAME_OVERHEAD + (size_t)len;
	*framelen = total;
	if (avail < total)
		return LK_MORE;
	if (lk_mac(k, d, LK_HDR_LEN + len, NULL, 0, mac) < 0 ||
	    CRYPTO_memcmp(mac, d + LK_HDR_LEN + len, LK_MAC_LEN) != 0)
		return LK_E_MAC;
	h->version = d[4];
	h->type = d[5];
	h->flags = get_be16(d + 6);
	h->len = len;
	h->sender = get_be32(d + 12);
	h->seq = get_be64(d + 16);
	h->req_id = get_be64(d + 24);
	*payload = d + LK_HDR_LEN;
	if (h->seq != expect_seq)
		return LK_E_SEQ;
	return LK_OK;
}

void
lk_hello_encode(struct buf *out, const struct lk_hello *hl)
{
	size_t n = strnlen(hl->cluster, CFG_NAME_MAX - 1);

	buf_add_u8(out, hl->role);
	buf_add_u8(out, hl->path);
	buf_add_u16(out, 0);
	buf_add_u32(out, hl->node_id);
	buf_add_u32(out, hl->to_node_id);
	buf_add_u64(out, hl->boot_id);
	buf_add(out, hl->nonce, LK_NONCE_LEN);
	buf_add(out, hl->echo, LK_NONCE_LEN);
	buf_add_u8(out, (uint8_t)n);
	buf_add(out, hl->cluster, n);
}

int
lk_hello_decode(const uint8_t *p, size_t len, struct lk_hello *hl,
    const char **why)
{
	struct rd	 r;
	const void	*b;
	uint8_t		 n;

	memset(hl, 0, sizeof(*hl));
	if (len < LK_HELLO_FIXED + 1) {
		*why = "HELLO too short";
		return -1;
	}
	n = p[LK_HELLO_FIXED - 1];
	if (n == 0 || n >= CFG_NAME_MAX) {
		*why = "HELLO cluster name length out of range";
		return -1;
	}
	if (len != LK_HELLO_FIXED + (size_t)n) {
		*why = "HELLO length does not match its cluster name";
		return -1;
	}
	rd_init(&r, p, len);
	hl->role = rd_u8(&r);
	hl->path = rd_u8(&r);
	(void)rd_u16(&r);
	hl->node_id = rd_u32(&r);
	hl->to_node_id = rd_u32(&r);
	hl->boot_id = rd_u64(&r);
	if ((b = rd_bytes(&r, LK_NONCE_LEN)) != NULL)
		memcpy(hl->nonce, b, LK_NONCE_LEN);
	if ((b = rd_bytes(&r, LK_NONCE_LEN)) != NULL)
		memcpy(hl->echo, b, LK_NONCE_LEN);
	(void)rd_u8(&r);
	if ((b = rd_bytes(&r, n)) != NULL)
		memcpy(hl->cluster, b, n);
	hl->cluster[n] = 0;
	if (r.err || memchr(hl->cluster, 0, n) != NULL) {
		*why = "HELLO malformed cluster name";
		return -1;
	}
	return 0;
}

int
lk_session_key(const struct lk_key *cluster, const uint8_t *dn,
    const uint8_t *an, uint8_t out[LK_MAC_LEN])
{
	uint8_t	msg[sizeof(LK_SESSION_LABEL) - 1 + 2 * LK_NONCE_LEN];
	size_t	l = sizeof(LK_SESSION_LABEL) - 1;

	memcpy(msg, LK_SESSION_LABEL, l);
	memcpy(msg + l, dn, LK_NONCE_LEN);
	memcpy(msg + l + LK_NONCE_LEN, an, LK_NONCE_LEN);
	return lk_mac(cluster, msg, sizeof(msg), NULL, 0, out);
}

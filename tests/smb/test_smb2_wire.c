/*
 * test_smb2_wire.c — tests/smb/smb2_wire.c without a server: the NTLM
 * arithmetic against the published values (the NT hash of "password",
 * MS-NLMP 4.2.4's NTOWFv2 and NTProofStr), NEGOTIATE, LOCK and
 * AUTHENTICATE requests against golden bytes, and the decoding of
 * crafted replies: good ones, and truncated, oversized or lying ones,
 * which must be refused.
 */
#include <stdlib.h>
#include <string.h>

#include "smb2_wire.h"
#include "tests/unit/t.h"

/* MS-NLMP 4.2.4: user "User", domain "Domain", password "Password". */
static const uint8_t nlmp_ti[] = {
	0x02, 0x00, 0x0c, 0x00, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0,
	0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0, 'r', 0, 'v', 0, 'e', 0, 'r', 0,
	0x00, 0x00, 0x00, 0x00,
};

static void
test_ntlm(void)
{
	static const uint8_t h_password[16] = {
		0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
		0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c };
	static const uint8_t h_Password[16] = {	/* MS-NLMP 4.2.2.1.2 */
		0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
		0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52 };
	static const uint8_t owf2[16] = {		/* 4.2.4.1.1 */
		0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
		0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f };
	static const uint8_t proof[16] = {		/* 4.2.4.2.2 */
		0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
		0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c };
	static const uint8_t schal[8] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	static const uint8_t cchal[8] = {
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
	uint8_t		h[16], k[16], resp[256], want_temp[128];
	struct smb2_buf	b;
	size_t		n;

	T_EQ(ntlm_nt_hash("password", h), 0, "MD4 is available");
	T_MEM(h, h_password, 16, "NT hash of \"password\" is 8846F7EA...586C");
	ntlm_nt_hash("Password", h);
	T_MEM(h, h_Password, 16, "NT hash of \"Password\" (MS-NLMP 4.2.2.1.2)");
	T_EQ(ntlm_ntowfv2(h, "User", "Domain", k), 0, "NTOWFv2 computed");
	T_MEM(k, owf2, 16, "NTOWFv2 of User/Domain/Password (MS-NLMP 4.2.4.1.1)");
	/* the user name is upper-cased, the domain is not */
	ntlm_ntowfv2(h, "uSeR", "Domain", resp);
	T_MEM(resp, owf2, 16, "NTOWFv2 upper-cases the user name");
	ntlm_ntowfv2(h, "User", "DOMAIN", resp);
	T_OK(memcmp(resp, owf2, 16) != 0, "NTOWFv2 keeps the domain's case");

	n = ntlm_v2_response(k, schal, cchal, 0, nlmp_ti, sizeof(nlmp_ti),
	    resp, sizeof(resp));
	T_EQ(n, 16 + 28 + sizeof(nlmp_ti) + 4, "NTLMv2 response length");
	T_MEM(resp, proof, 16, "NTProofStr (MS-NLMP 4.2.4.2.2)");
	smb2_buf_init(&b, want_temp, sizeof(want_temp));
	smb2_putmem(&b, "\1\1\0\0\0\0\0\0", 8);
	smb2_put64(&b, 0);
	smb2_putmem(&b, cchal, 8);
	smb2_put32(&b, 0);
	smb2_putmem(&b, nlmp_ti, sizeof(nlmp_ti));
	smb2_put32(&b, 0);
	T_MEM(resp + 16, want_temp, b.len, "the blob after NTProofStr");
	T_EQ(ntlm_v2_response(k, schal, cchal, 0, nlmp_ti, sizeof(nlmp_ti),
	    resp, 60), 0, "a response that does not fit is refused");
}

static void
test_requests(void)
{
	static const uint8_t neg[] = {
		0xfe, 'S', 'M', 'B', 64, 0, 0, 0,	/* magic, size, charge */
		0, 0, 0, 0, 0, 0, 32, 0,		/* status, NEGOTIATE, credits */
		0, 0, 0, 0, 0, 0, 0, 0,			/* flags, next */
		0, 0, 0, 0, 0, 0, 0, 0,			/* message id 0 */
		0, 0, 0, 0, 0, 0, 0, 0,			/* pid, tree id */
		0, 0, 0, 0, 0, 0, 0, 0,			/* session id */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* signature */
		36, 0, 2, 0, 1, 0, 0, 0,		/* size, 2 dialects, signing enabled */
		0, 0, 0, 0,				/* capabilities */
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		0, 0, 0, 0, 0, 0, 0, 0,			/* client start time */
		0x02, 0x02, 0x10, 0x02,			/* 2.0.2, 2.1 */
	};
	static const uint8_t lock_body[] = {
		48, 0, 1, 0, 0, 0, 0, 0,		/* size, 1 lock, sequence */
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x64, 0, 0, 0, 0, 0, 0, 0,		/* offset 100 */
		0x0a, 0, 0, 0, 0, 0, 0, 0,		/* length 10 */
		0x12, 0, 0, 0, 0, 0, 0, 0,		/* EXCLUSIVE|FAIL_IMMEDIATELY */
	};
	uint8_t		m[512], guid[16], fid[16];
	struct smb2_buf	b;
	struct smb2_hdr	h;
	int		i;

	for (i = 0; i < 16; i++)
		guid[i] = (uint8_t)i;
	memset(&h, 0, sizeof(h));
	h.command = SMB2_NEGOTIATE;
	h.credits = 32;
	smb2_buf_init(&b, m, sizeof(m));
	smb2_hdr_put(&b, &h);
	smb2_negotiate_req(&b, guid);
	T_EQ(b.len, sizeof(neg), "NEGOTIATE request length");
	T_MEM(m, neg, sizeof(neg), "NEGOTIATE request bytes");

	memset(fid, 0x11, 8);
	memset(fid + 8, 0x22, 8);
	h.command = SMB2_LOCK;
	h.message_id = 0x0102030405060708ull;
	h.tree_id = 0xaabbccdd;
	h.session_id = 0x1122334455667788ull;
	h.credit_charge = 1;
	smb2_buf_init(&b, m, sizeof(m));
	smb2_hdr_put(&b, &h);
	smb2_lock_req(&b, fid, 100, 10, SMB2_LOCKFLAG_EXCLUSIVE |
	    SMB2_LOCKFLAG_FAIL_IMMEDIATELY);
	T_EQ(b.len, 64 + sizeof(lock_body), "LOCK request length");
	T_MEM(m + 64, lock_body, sizeof(lock_body), "LOCK request body bytes");
	T_MEM(m + 6, "\1\0", 2, "LOCK: credit charge 1");
	T_MEM(m + 12, "\x0a\0", 2, "LOCK: command 10");
	T_MEM(m + 24, "\x08\x07\x06\x05\x04\x03\x02\x01", 8, "LOCK: message id");
	T_MEM(m + 36, "\xdd\xcc\xbb\xaa", 4, "LOCK: tree id");
	T_MEM(m + 40, "\x88\x77\x66\x55\x44\x33\x22\x11", 8, "LOCK: session id");

	/* an async header (CANCEL of a pending lock) carries the async id
	 * where the sync form has the pid and tree id */
	h.command = SMB2_CANCEL;
	h.flags = SMB2_FLAGS_ASYNC_COMMAND;
	h.async_id = 0x0000000000000005ull;
	smb2_buf_init(&b, m, sizeof(m));
	smb2_hdr_put(&b, &h);
	smb2_empty_req(&b);
	T_EQ(b.len, 68, "CANCEL request length");
	T_MEM(m + 32, "\5\0\0\0\0\0\0\0", 8, "CANCEL: async id in place");
	T_MEM(m + 16, "\2\0\0\0", 4, "CANCEL: ASYNC flag");

	/* too small a buffer: overflow, nothing written past it */
	smb2_buf_init(&b, m, 100);
	smb2_hdr_put(&b, &h);
	smb2_lock_req(&b, fid, 0, 1, 0);
	T_OK(b.overflow, "a request past the buffer is flagged");
	smb2_buf_init(&b, m, sizeof(m));
	smb2_put_utf16(&b, "a\xff", 0);
	T_OK(b.overflow, "invalid UTF-8 is refused");
	smb2_buf_init(&b, m, sizeof(m));
	smb2_put_utf16(&b, "\xc3\xa9\xf0\x9f\x98\x80", 0);
	T_MEM(m, "\xe9\x00\x3d\xd8\x00\xde", 6,
	    "UTF-8 to UTF-16LE (BMP and a surrogate pair)");
}

static void
test_authenticate(void)
{
	static const uint8_t want[] = {
		'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0,
		24, 0, 24, 0, 64, 0, 0, 0,		/* LM at 64 */
		3, 0, 3, 0, 88, 0, 0, 0,		/* NT at 88 */
		2, 0, 2, 0, 91, 0, 0, 0,		/* domain "D" */
		4, 0, 4, 0, 93, 0, 0, 0,		/* user "us" */
		2, 0, 2, 0, 97, 0, 0, 0,		/* workstation "W" */
		0, 0, 0, 0, 99, 0, 0, 0,		/* no session key */
		0x01, 0x02, 0x88, 0xa0,			/* flags */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xa1, 0xa2, 0xa3, 'D', 0, 'u', 0, 's', 0, 'W', 0,
	};
	uint8_t		m[256];
	struct smb2_buf	b;

	smb2_buf_init(&b, m, sizeof(m));
	ntlm_authenticate_msg(&b, 0xa0880201, (const uint8_t *)"\xa1\xa2\xa3",
	    3, "D", "us", "W");
	T_EQ(b.len, sizeof(want), "AUTHENTICATE length");
	T_MEM(m, want, sizeof(want), "AUTHENTICATE bytes");
}

/* A reply header for command cmd into m; returns 64. */
static size_t
reply_hdr(uint8_t *m, uint16_t cmd, uint32_t status)
{
	struct smb2_buf	b;
	struct smb2_hdr	h;

	memset(&h, 0, sizeof(h));
	h.command = cmd;
	h.status = status;
	h.flags = SMB2_FLAGS_SERVER_TO_REDIR;
	h.message_id = 7;
	h.tree_id = 9;
	smb2_buf_init(&b, m, 64);
	smb2_hdr_put(&b, &h);
	return b.len;
}

static void
test_replies(void)
{
	uint8_t			 m[256], pfx[4];
	struct smb2_hdr		 h;
	struct smb2_negotiate_rsp nr;
	const uint8_t		*d;
	size_t			 n, len;
	uint16_t		 fl;
	uint32_t		 cnt;
	uint8_t			 fid[16];
	uint64_t		 eof;

	/* framing */
	memcpy(pfx, "\0\0\0\x40", 4);
	T_EQ(smb2_frame_len(pfx, SMB2_FRAME_MAX), 64, "frame of 64 bytes");
	memcpy(pfx, "\0\x01\x04\x00", 4);
	T_EQ(smb2_frame_len(pfx, SMB2_FRAME_MAX), 66560, "frame of 65 KiB");
	memcpy(pfx, "\0\xff\xff\xff", 4);
	T_EQ(smb2_frame_len(pfx, SMB2_FRAME_MAX), -1, "oversized frame refused");
	memcpy(pfx, "\0\0\0\x3f", 4);
	T_EQ(smb2_frame_len(pfx, SMB2_FRAME_MAX), -1,
	    "frame shorter than a header refused");
	memcpy(pfx, "\x85\0\0\0", 4);
	T_EQ(smb2_frame_len(pfx, SMB2_FRAME_MAX), -1,
	    "NetBIOS keepalive / non-zero type refused");
	smb2_frame_put(pfx, 0x012345);
	T_MEM(pfx, "\0\x01\x23\x45", 4, "frame prefix encoding");

	/* header */
	len = reply_hdr(m, SMB2_LOCK, STATUS_LOCK_NOT_GRANTED);
	T_EQ(smb2_hdr_get(m, len, &h), 0, "reply header decodes");
	T_EQ(h.status, STATUS_LOCK_NOT_GRANTED, "status");
	T_EQ(h.message_id, 7, "message id");
	T_EQ(h.tree_id, 9, "tree id");
	T_EQ(smb2_hdr_get(m, 63, &h), -1, "truncated header refused");
	m[0] = 0xff;
	T_EQ(smb2_hdr_get(m, len, &h), -1, "SMB1 / bad magic refused");
	reply_hdr(m, SMB2_LOCK, 0);
	m[16] = 0;
	T_EQ(smb2_hdr_get(m, len, &h), -1, "a request (no SERVER_TO_REDIR) refused");
	T_OK(strcmp(smb2_status_name(STATUS_LOCK_NOT_GRANTED),
	    "STATUS_LOCK_NOT_GRANTED") == 0 &&
	    strcmp(smb2_status_name(STATUS_BAD_NETWORK_NAME),
	    "STATUS_BAD_NETWORK_NAME") == 0 &&
	    smb2_status_name(0xc0001234) == NULL, "status names");

	/* LOCK / FLUSH: StructureSize 4 */
	len = reply_hdr(m, SMB2_LOCK, 0);
	memcpy(m + len, "\4\0\0\0", 4);
	T_EQ(smb2_fixed_rsp(m, len + 4, 4), 0, "LOCK reply decodes");
	T_EQ(smb2_fixed_rsp(m, len + 3, 4), -1, "truncated LOCK reply refused");
	T_EQ(smb2_fixed_rsp(m, len + 4, 60), -1, "wrong StructureSize refused");

	/* READ: data at offset 80 */
	len = reply_hdr(m, SMB2_READ, 0);
	memset(m + len, 0, 16);
	m[len] = 17;
	m[len + 2] = 80;
	m[len + 4] = 5;
	memcpy(m + 80, "hello", 5);
	T_EQ(smb2_read_rsp(m, 85, &d, &n), 0, "READ reply decodes");
	T_OK(n == 5 && memcmp(d, "hello", 5) == 0, "READ data");
	T_EQ(smb2_read_rsp(m, 84, &d, &n), -1,
	    "READ whose data runs past the message refused");
	m[len + 4] = 0xff;
	m[len + 7] = 0xff;
	T_EQ(smb2_read_rsp(m, 85, &d, &n), -1, "READ with a huge DataLength refused");
	m[len + 4] = 5;
	m[len + 7] = 0;
	m[len + 2] = 40;
	T_EQ(smb2_read_rsp(m, 85, &d, &n), -1,
	    "READ data pointing into the header refused");
	T_EQ(smb2_read_rsp(m, 64 + 15, &d, &n), -1, "truncated READ body refused");

	/* WRITE */
	len = reply_hdr(m, SMB2_WRITE, 0);
	memset(m + len, 0, 16);
	m[len] = 17;
	m[len + 4] = 0x34;
	m[len + 5] = 0x12;
	T_EQ(smb2_write_rsp(m, len + 16, &cnt), 0, "WRITE reply decodes");
	T_EQ(cnt, 0x1234, "WRITE count");
	T_EQ(smb2_write_rsp(m, len + 15, &cnt), -1, "truncated WRITE refused");

	/* CREATE */
	len = reply_hdr(m, SMB2_CREATE, 0);
	memset(m + len, 0, 88);
	m[len] = 89;
	m[len + 48] = 42;
	memset(m + len + 64, 0x5a, 16);
	T_EQ(smb2_create_rsp(m, len + 88, fid, &eof), 0, "CREATE reply decodes");
	T_OK(eof == 42 && fid[0] == 0x5a && fid[15] == 0x5a, "CREATE file id, size");
	T_EQ(smb2_create_rsp(m, len + 87, fid, &eof), -1, "truncated CREATE refused");

	/* SESSION_SETUP: blob at 72 */
	len = reply_hdr(m, SMB2_SESSION_SETUP, STATUS_MORE_PROCESSING_REQUIRED);
	memset(m + len, 0, 8);
	m[len] = 9;
	m[len + 4] = 72;
	m[len + 6] = 10;
	T_EQ(smb2_sess_rsp(m, 82, &fl, &d, &n), 0, "SESSION_SETUP reply decodes");
	T_OK(d == m + 72 && n == 10, "SESSION_SETUP blob");
	T_EQ(smb2_sess_rsp(m, 81, &fl, &d, &n), -1,
	    "SESSION_SETUP blob past the end refused");

	/* NEGOTIATE: StructureSize 65, blob after the 64 fixed bytes */
	memset(m, 0, sizeof(m));
	len = reply_hdr(m, SMB2_NEGOTIATE, 0);
	m[len] = 65;
	m[len + 4] = 0x10;
	m[len + 5] = 0x02;
	m[len + 56] = 128;
	m[len + 58] = 4;
	T_EQ(smb2_negotiate_rsp(m, 132, &nr), 0, "NEGOTIATE reply decodes");
	T_OK(nr.dialect == SMB2_DIALECT_210 && nr.blob == m + 128 &&
	    nr.blob_len == 4, "NEGOTIATE dialect and blob");
	T_EQ(smb2_negotiate_rsp(m, 131, &nr), -1,
	    "NEGOTIATE blob past the end refused");
	T_EQ(smb2_negotiate_rsp(m, 127, &nr), -1, "truncated NEGOTIATE refused");
}

static void
test_challenge(void)
{
	uint8_t			m[256];
	struct smb2_buf		b;
	struct ntlm_challenge	c;
	size_t			ti_at = 56 + 8;

	/* name "SRV" at 56, target info (timestamp, EOL) after it */
	smb2_buf_init(&b, m, sizeof(m));
	smb2_putmem(&b, "NTLMSSP\0", 8);
	smb2_put32(&b, 2);
	smb2_put16(&b, 6);
	smb2_put16(&b, 6);
	smb2_put32(&b, 56);
	smb2_put32(&b, NTLM_CLIENT_FLAGS);
	smb2_putmem(&b, "\1\2\3\4\5\6\7\x08", 8);
	smb2_put64(&b, 0);
	smb2_put16(&b, 16);
	smb2_put16(&b, 16);
	smb2_put32(&b, (uint32_t)ti_at);
	smb2_put64(&b, 0);			/* version */
	smb2_put_utf16(&b, "SRV", 0);
	smb2_put16(&b, 0);			/* pad to 64 */
	smb2_put16(&b, 7);
	smb2_put16(&b, 8);
	smb2_put64(&b, 0x01d2030405060708ull);
	smb2_put32(&b, 0);
	T_EQ(b.len, 80, "crafted CHALLENGE length");
	T_EQ(ntlm_challenge_parse(m, b.len, &c), 0, "CHALLENGE decodes");
	T_OK(strcmp(c.target_name, "SRV") == 0, "CHALLENGE target name");
	T_OK(c.has_time && c.time == 0x01d2030405060708ull, "MsvAvTimestamp");
	T_MEM(c.challenge, "\1\2\3\4\5\6\7\x08", 8, "server challenge");
	T_OK(c.target_info == m + ti_at && c.ti_len == 16, "target info span");
	T_EQ(ntlm_challenge_parse(m, 79, &c), -1,
	    "CHALLENGE with target info past its end refused");
	m[ti_at + 2] = 9;			/* AV length overrunning the list */
	T_EQ(ntlm_challenge_parse(m, 80, &c), -1, "AV pair overrun refused");
	m[ti_at + 2] = 8;
	m[40] = 12;				/* list without its MsvAvEOL */
	T_EQ(ntlm_challenge_parse(m, 80, &c), -1, "AV list without EOL refused");
	m[40] = 16;
	m[8] = 3;
	T_EQ(ntlm_challenge_parse(m, 80, &c), -1, "not a type 2 message refused");
	T_EQ(ntlm_challenge_parse(m, 47, &c), -1, "short message refused");
}

int
main(void)
{
	test_ntlm();
	test_requests();
	test_authenticate();
	test_replies();
	test_challenge();
	return t_done();
}

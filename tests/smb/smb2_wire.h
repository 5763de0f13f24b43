/*
 * smb2_wire.h — the pure half of tests/smb/smb2tool: SMB 2.0.2 / 2.1
 * requests encoded into a buffer, replies decoded with every length and
 * offset checked, the NTLMSSP messages and NTLMv2 arithmetic (MS-SMB2,
 * MS-NLMP).  No sockets, no clock, no randomness: the caller passes the
 * time and the client challenge, so tests/smb/test_smb2_wire.c compares
 * against golden bytes.  All integers on the wire are little-endian.
 */
#ifndef DUONAS_TESTS_SMB2_WIRE_H
#define DUONAS_TESTS_SMB2_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SMB2_HDR_LEN		64
/* Largest frame accepted: a 64 KiB READ reply and its headers; the tool
 * never asks for more (SMB2_IO_MAX). */
#define SMB2_IO_MAX		65536
#define SMB2_FRAME_MAX		(SMB2_IO_MAX + 1024)

enum smb2_cmd {
	SMB2_NEGOTIATE = 0, SMB2_SESSION_SETUP = 1, SMB2_LOGOFF = 2,
	SMB2_TREE_CONNECT = 3, SMB2_TREE_DISCONNECT = 4, SMB2_CREATE = 5,
	SMB2_CLOSE = 6, SMB2_FLUSH = 7, SMB2_READ = 8, SMB2_WRITE = 9,
	SMB2_LOCK = 10, SMB2_CANCEL = 12,
};

#define SMB2_FLAGS_SERVER_TO_REDIR	0x00000001
#define SMB2_FLAGS_ASYNC_COMMAND	0x00000002

#define SMB2_DIALECT_202		0x0202
#define SMB2_DIALECT_210		0x0210

#define SMB2_LOCKFLAG_SHARED		0x01
#define SMB2_LOCKFLAG_EXCLUSIVE		0x02
#define SMB2_LOCKFLAG_UNLOCK		0x04
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY	0x10

#define STATUS_SUCCESS			0x00000000u
#define STATUS_PENDING			0x00000103u
#define STATUS_MORE_PROCESSING_REQUIRED	0xc0000016u
#define STATUS_END_OF_FILE		0xc0000011u
#define STATUS_ACCESS_DENIED		0xc0000022u
#define STATUS_OBJECT_NAME_NOT_FOUND	0xc0000034u
#define STATUS_FILE_LOCK_CONFLICT	0xc0000054u
#define STATUS_LOCK_NOT_GRANTED		0xc0000055u
#define STATUS_LOGON_FAILURE		0xc000006du
#define STATUS_RANGE_NOT_LOCKED		0xc000007eu
#define STATUS_CANCELLED		0xc0000120u
#define STATUS_BAD_NETWORK_NAME		0xc00000ccu

/* The fixed header, both directions.  tree_id is the sync form's field;
 * async_id the async form's (SMB2_FLAGS_ASYNC_COMMAND set). */
struct smb2_hdr {
	uint16_t	credit_charge;
	uint32_t	status;		/* request: channel sequence, 0 */
	uint16_t	command;
	uint16_t	credits;	/* requested / granted */
	uint32_t	flags;
	uint32_t	next_command;
	uint64_t	message_id;
	uint64_t	async_id;
	uint32_t	tree_id;
	uint64_t	session_id;
};

/* A message being built in caller-owned memory.  Writes past cap set
 * overflow instead of writing; check it once at the end. */
struct smb2_buf {
	uint8_t		*p;
	size_t		 len, cap;
	int		 overflow;
};

void	smb2_buf_init(struct smb2_buf *, uint8_t *, size_t);
void	smb2_put16(struct smb2_buf *, uint16_t);
void	smb2_put32(struct smb2_buf *, uint32_t);
void	smb2_put64(struct smb2_buf *, uint64_t);
void	smb2_putmem(struct smb2_buf *, const void *, size_t);
/* UTF-8 text as UTF-16LE (no terminator); upper: ASCII letters upper-
 * cased (what NTOWFv2 does to the user name).  Invalid UTF-8: overflow
 * is set (the message is refused). */
void	smb2_put_utf16(struct smb2_buf *, const char *, int upper);
uint16_t smb2_get16(const uint8_t *);
uint32_t smb2_get32(const uint8_t *);
uint64_t smb2_get64(const uint8_t *);

/* ---- framing and header ------------------------------------------------ */

/* The length in a 4-byte direct-TCP prefix; -1 if the first byte is not
 * 0 or the length is below a header or above max. */
long	smb2_frame_len(const uint8_t pfx[4], size_t max);
void	smb2_frame_put(uint8_t pfx[4], size_t len);
void	smb2_hdr_put(struct smb2_buf *, const struct smb2_hdr *);
/* Decode a server's header: -1 unless len >= 64, the protocol id is
 * 0xFE 'SMB', StructureSize is 64 and SERVER_TO_REDIR is set. */
int	smb2_hdr_get(const uint8_t *msg, size_t len, struct smb2_hdr *);

/* ---- request bodies (appended after an smb2_hdr_put) -------------------- */

void	smb2_negotiate_req(struct smb2_buf *, const uint8_t guid[16]);
void	smb2_sess_req(struct smb2_buf *, const uint8_t *blob, size_t len);
void	smb2_tree_req(struct smb2_buf *, const char *unc);
void	smb2_create_req(struct smb2_buf *, const char *name);
void	smb2_read_req(struct smb2_buf *, const uint8_t fid[16], uint64_t off,
	    uint32_t len);
void	smb2_write_req(struct smb2_buf *, const uint8_t fid[16], uint64_t off,
	    const void *data, uint32_t len);
void	smb2_flush_req(struct smb2_buf *, const uint8_t fid[16]);
void	smb2_lock_req(struct smb2_buf *, const uint8_t fid[16], uint64_t off,
	    uint64_t len, uint32_t flags);
void	smb2_close_req(struct smb2_buf *, const uint8_t fid[16]);
/* LOGOFF, TREE_DISCONNECT and CANCEL: StructureSize 4, nothing else. */
void	smb2_empty_req(struct smb2_buf *);

/* ---- reply bodies: 0, or -1 when a length or offset is out of bounds --- */

struct smb2_negotiate_rsp {
	uint16_t	 security_mode;
	uint16_t	 dialect;
	uint32_t	 max_read, max_write;
	const uint8_t	*blob;		/* points into msg */
	size_t		 blob_len;
};
int	smb2_negotiate_rsp(const uint8_t *msg, size_t len,
	    struct smb2_negotiate_rsp *);
/* SESSION_SETUP: the security blob (points into msg). */
int	smb2_sess_rsp(const uint8_t *msg, size_t len, uint16_t *flags,
	    const uint8_t **blob, size_t *blob_len);
int	smb2_create_rsp(const uint8_t *msg, size_t len, uint8_t fid[16],
	    uint64_t *eof);
int	smb2_read_rsp(const uint8_t *msg, size_t len, const uint8_t **data,
	    size_t *data_len);
int	smb2_write_rsp(const uint8_t *msg, size_t len, uint32_t *count);
/* Any reply whose body is only a StructureSize of want (TREE_CONNECT 16,
 * FLUSH/LOCK/LOGOFF 4, CLOSE 60): checks the size. */
int	smb2_fixed_rsp(const uint8_t *msg, size_t len, uint16_t want);

/* "STATUS_LOCK_NOT_GRANTED" etc. for the codes the tests meet, else NULL. */
const char *smb2_status_name(uint32_t);

/* ---- NTLMSSP (MS-NLMP), raw, NTLMv2 -------------------------------------- */

#define NTLMSSP_NEGOTIATE_UNICODE		0x00000001u
#define NTLMSSP_REQUEST_TARGET			0x00000004u
#define NTLMSSP_NEGOTIATE_NTLM			0x00000200u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN		0x00008000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO		0x00800000u
#define NTLMSSP_NEGOTIATE_128			0x20000000u
#define NTLMSSP_NEGOTIATE_56			0x80000000u

#define NTLM_CLIENT_FLAGS (NTLMSSP_NEGOTIATE_UNICODE |			\
	NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM |		\
	NTLMSSP_NEGOTIATE_ALWAYS_SIGN |					\
	NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |			\
	NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_128 |		\
	NTLMSSP_NEGOTIATE_56)

struct ntlm_challenge {
	uint32_t	 flags;
	uint8_t		 challenge[8];
	const uint8_t	*target_info;	/* AV pairs, points into the blob */
	size_t		 ti_len;
	char		 target_name[64];	/* ASCII of the UTF-16 name */
	int		 has_time;
	uint64_t	 time;		/* MsvAvTimestamp, FILETIME */
};

void	ntlm_negotiate_msg(struct smb2_buf *);
/* -1: not a CHALLENGE_MESSAGE, or a field outside the blob, or target
 * info not a well-formed AV pair list ending in MsvAvEOL. */
int	ntlm_challenge_parse(const uint8_t *, size_t, struct ntlm_challenge *);
/* MD4 of the UTF-16LE password; -1 when OpenSSL has no MD4 (its legacy
 * provider cannot be loaded). */
int	ntlm_nt_hash(const char *password, uint8_t out[16]);
/* HMAC-MD5(nthash, UTF-16LE(upper(user) domain)). */
int	ntlm_ntowfv2(const uint8_t nthash[16], const char *user,
	    const char *domain, uint8_t out[16]);
/* The NTLMv2 response NTProofStr || temp into out (cap bytes); returns
 * its length, or 0 if it does not fit.  time: FILETIME. */
size_t	ntlm_v2_response(const uint8_t key[16], const uint8_t srv_chal[8],
	    const uint8_t cli_chal[8], uint64_t time, const uint8_t *ti,
	    size_t ti_len, uint8_t *out, size_t cap);
/* AUTHENTICATE_MESSAGE, no MIC, no version, no session key exchange;
 * LmChallengeResponse is 24 zero bytes (MS-NLMP 3.1.5.1.2 with
 * MsvAvTimestamp present; Samba checks the NT response only). */
void	ntlm_authenticate_msg(struct smb2_buf *, uint32_t flags,
	    const uint8_t *nt, size_t nt_len, const char *domain,
	    const char *user, const char *workstation);

/* FILETIME (100 ns since 1601) of a Unix time in seconds. */
uint64_t smb2_filetime(int64_t unix_sec);

#endif

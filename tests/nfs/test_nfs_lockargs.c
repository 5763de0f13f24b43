/*
 * test_nfs_lockargs.c — the NLM v4 and NSM v1 argument decoders
 * (nlm_args_decode in export/nfs_nlm.c, nsm_args_decode in
 * export/nfs_nsm.c) on golden argument bytes written out by hand from
 * the protocols (XDR: big-endian words, strings and opaques padded to 4
 * bytes): every field where it belongs, objects pointing into the
 * record, a short record refused, and the names NSM will not take.
 * No server.
 */
#include <stdio.h>
#include <string.h>

#include "export/nfs_nlm_int.h"
#include "tests/unit/t.h"

/* LOCK: cookie "ck01", block 1, exclusive 1, lock { caller "host",
 * fh of 8 bytes, oh "own1", svid 7, offset 2^32 + 5, length 100 },
 * reclaim 0, state 3 */
static const uint8_t nlm_lock[] = {
	0, 0, 0, 4, 'c', 'k', '0', '1',
	0, 0, 0, 1, 0, 0, 0, 1,
	0, 0, 0, 4, 'h', 'o', 's', 't',
	0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	0, 0, 0, 4, 'o', 'w', 'n', '1',
	0, 0, 0, 7,
	0, 0, 0, 1, 0, 0, 0, 5,
	0, 0, 0, 0, 0, 0, 0, 100,
	0, 0, 0, 0, 0, 0, 0, 3,
};

/* FREE_ALL: nlm4_notify { name "cli" (padded), state 9 } */
static const uint8_t nlm_free_all[] = {
	0, 0, 0, 3, 'c', 'l', 'i', 0, 0, 0, 0, 9,
};

/* MON: mon_id { mon_name "host", my_id { "me", 100021, 4, 16 } },
 * priv (16 bytes) */
static const uint8_t nsm_mon[] = {
	0, 0, 0, 4, 'h', 'o', 's', 't',
	0, 0, 0, 2, 'm', 'e', 0, 0,
	0, 1, 0x86, 0xb5, 0, 0, 0, 4, 0, 0, 0, 16,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};

/* MON with an empty my_name */
static const uint8_t nsm_mon_noname[] = {
	0, 0, 0, 4, 'h', 'o', 's', 't',
	0, 0, 0, 0,
	0, 1, 0x86, 0xb5, 0, 0, 0, 4, 0, 0, 0, 16,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};

/* NOTIFY: mon_name "cli", state 5; and with an empty name */
static const uint8_t nsm_notify[] = {
	0, 0, 0, 3, 'c', 'l', 'i', 0, 0, 0, 0, 5,
};
static const uint8_t nsm_notify_empty[] = {
	0, 0, 0, 0, 0, 0, 0, 5,
};

/* STAT: sm_name "a\0b" (a NUL byte inside) */
static const uint8_t nsm_stat_nul[] = {
	0, 0, 0, 3, 'a', 0, 'b', 0,
};

static int
obj_is(const struct nlm_obj *o, const uint8_t *rec, size_t off,
    uint32_t len)
{
	return o->p == rec + off && o->len == len;
}

int
main(void)
{
	struct nlm_args	a;
	struct nsm_args	s;
	uint8_t		stat_long[4 + 260];

	T_EQ(nlm_args_decode(nlm_lock, sizeof(nlm_lock), 2, &a), 0,
	    "NLM LOCK decodes");
	T_OK(obj_is(&a.cookie, nlm_lock, 4, 4), "cookie in the record");
	T_EQ(a.block, 1, "block");
	T_EQ(a.excl, 1, "exclusive");
	T_OK(obj_is(&a.lock.caller, nlm_lock, 20, 4), "caller_name");
	T_OK(obj_is(&a.lock.fh, nlm_lock, 28, 8), "fh");
	T_OK(obj_is(&a.lock.oh, nlm_lock, 40, 4), "oh");
	T_EQ(a.lock.svid, 7, "svid");
	T_OK(a.lock.off == ((uint64_t)1 << 32) + 5, "64-bit offset");
	T_EQ(a.lock.len, 100, "length");
	T_EQ(a.reclaim, 0, "reclaim");
	T_EQ(a.state, 3, "state");
	T_EQ(nlm_args_decode(nlm_lock, sizeof(nlm_lock), 7, &a), 0,
	    "LOCK_MSG: LOCK's arguments");
	T_EQ(a.state, 3, "LOCK_MSG state");
	T_EQ(nlm_args_decode(nlm_lock, sizeof(nlm_lock) - 4, 2, &a), -1,
	    "LOCK one word short: refused");
	T_EQ(nlm_args_decode(nlm_lock, 6, 2, &a), -1,
	    "a cookie cut inside: refused");
	T_EQ(nlm_args_decode(nlm_free_all, sizeof(nlm_free_all), 23, &a), 0,
	    "FREE_ALL decodes");
	T_OK(obj_is(&a.lock.caller, nlm_free_all, 4, 3), "its name");
	T_EQ(a.state, 9, "its state");

	T_EQ(nsm_args_decode(nsm_mon, sizeof(nsm_mon), 2, &s), 0,
	    "NSM MON decodes");
	T_OK(strcmp(s.e.name, "host") == 0, "mon_name");
	T_OK(strcmp(s.e.my_name, "me") == 0, "my_name");
	T_EQ(s.e.my_prog, 100021, "my_prog");
	T_EQ(s.e.my_vers, 4, "my_vers");
	T_EQ(s.e.my_proc, 16, "my_proc");
	T_EQ(nsm_args_decode(nsm_mon, 20, 2, &s), -1,
	    "MON cut inside my_id: refused");
	T_EQ(nsm_args_decode(nsm_mon_noname, sizeof(nsm_mon_noname), 2, &s),
	    -1, "MON with an empty my_name: refused (the name is ours)");
	T_EQ(nsm_args_decode(nsm_mon + 8, sizeof(nsm_mon) - 8, 4, &s), 0,
	    "UNMON_ALL: my_id alone");
	T_OK(strcmp(s.e.my_name, "me") == 0 && s.e.name[0] == 0,
	    "UNMON_ALL has no mon_name");
	T_EQ(nsm_args_decode(nsm_notify, sizeof(nsm_notify), 6, &s), 0,
	    "NOTIFY decodes");
	T_OK(strcmp(s.e.name, "cli") == 0 && s.state == 5,
	    "NOTIFY name and state");
	T_EQ(nsm_args_decode(nsm_notify_empty, sizeof(nsm_notify_empty), 6,
	    &s), -1, "NOTIFY with an empty name: refused");
	T_EQ(nsm_args_decode(nsm_stat_nul, sizeof(nsm_stat_nul), 1, &s), -1,
	    "STAT of a name with a NUL byte: refused");
	memset(stat_long, 'x', sizeof(stat_long));
	stat_long[0] = stat_long[1] = 0;
	stat_long[2] = 1;		/* 256 + 4 = 260 bytes */
	stat_long[3] = 4;
	T_EQ(nsm_args_decode(stat_long, sizeof(stat_long), 1, &s), -1,
	    "STAT of a 260-byte name (over NSM_NAME_MAX): refused");
	stat_long[2] = 0;
	stat_long[3] = NSM_NAME_MAX - 1;
	T_EQ(nsm_args_decode(stat_long, sizeof(stat_long), 1, &s), 0,
	    "STAT of a name of NSM_NAME_MAX - 1 bytes");
	T_EQ(strlen(s.e.name), NSM_NAME_MAX - 1, "kept whole");
	T_EQ(nsm_args_decode(NULL, 0, 5, &s), 0,
	    "SIMU_CRASH: nothing to decode");
	return t_done();
}

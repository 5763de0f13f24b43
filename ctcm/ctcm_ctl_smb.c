/*
 * ctcm_ctl_smb.c — the admin commands for SMB users kept in the
 * replicated configuration (section kind 3, docs/smb-users.md):
 * `duonas smb user add|passwd|rm|disable|enable` (master only, one
 * transaction each)
 * and `smb user ls` (either head).
 *
 * The password never reaches the daemon: the CLI (src/duonas.c) reads
 * it, computes the NT hash and sends `--nthash HEX`.  The hash is left
 * out of everything this file prints or logs: a transaction's summary
 * (history, the commit log line) is built from the user name and uid
 * only, never from the command line as the other commands do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctl/ctl.h"
#include "ctcm/ctcm_ctl_int.h"
#include "ctcm/ctcm_int.h"
#include "ctcm/ctcm_txn.h"
#include "smb/smb_users.h"

enum { OP_ADD, OP_PASSWD, OP_RM, OP_DISABLE, OP_ENABLE };

struct sargs {
	int		op;
	const char	*name;
	uint32_t	uid;			/* add: 0 = next free */
	uint8_t		nthash[SMB_NTHASH_LEN];
	uint32_t	uid_out;		/* add: the uid given */
};

static const char *const op_cmd[] = { "smb user add", "smb user passwd",
    "smb user rm", "smb user disable", "smb user enable" };

/* The users of a bundle (none when it has no section). */
static int
users_of(const struct ctcm_bundle *b, struct smb_users *u, char *msg,
    size_t msglen)
{
	const struct ctcm_section	*s = ctcm_bundle_get(b,
					    CTCM_SEC_SMBUSERS);
	char				 e[256];

	if (s == NULL) {
		smb_users_init(u);
		return 0;
	}
	if (smb_users_parse((const char *)s->data, s->len, u, e,
	    sizeof(e)) < 0) {
		snprintf(msg, msglen, "the committed smb/users does not "
		    "parse: %s", e);
		return -1;
	}
	return 0;
}

static int
smb_edit(const struct ctcm_bundle *cur, struct ctcm_bundle *next, void *arg,
    char *msg, size_t msglen)
{
	struct sargs		*a = arg;
	struct smb_users	 u;
	struct buf		 o;
	int			 rv;

	if (users_of(cur, &u, msg, msglen) < 0)
		return -1;
	if (a->op == OP_ADD) {
		uint32_t uid = 0;

		rv = smb_users_pick_uid(&u, a->name, a->uid, &uid, msg,
		    msglen);
		if (rv == 0)
			rv = smb_users_add(&u, a->name, uid, a->nthash, msg,
			    msglen);
	}
	else if (a->op == OP_PASSWD)
		rv = smb_users_set_hash(&u, a->name, a->nthash, msg, msglen);
	else if (a->op == OP_RM)
		rv = smb_users_remove(&u, a->name, msg, msglen);
	else
		rv = smb_users_set_disabled(&u, a->name, a->op == OP_DISABLE,
		    msg, msglen);
	if (rv == 0) {
		int k = smb_users_find(&u, a->name);

		a->uid_out = k >= 0 ? u.v[k].uid : 0;
		buf_init(&o);
		smb_users_format(&u, &o);
		ctcm_bundle_copy(next, cur);
		/* no users: no section, like a configuration from before */
		if (o.len == 0)
			ctcm_bundle_del(next, CTCM_SEC_SMBUSERS);
		else if (ctcm_bundle_set(next, CTCM_SEC_SMBUSERS,
		    "smb/users", o.data, o.len) != 0) {
			snprintf(msg, msglen, "the configuration has no room "
			    "for another section");
			rv = -1;
		}
		if (o.len > 0)
			memset(o.data, 0, o.len);
		buf_free(&o);
	}
	smb_users_free(&u);
	return rv;
}

static int
parse_hash(const char *hex, uint8_t out[SMB_NTHASH_LEN])
{
	if (strlen(hex) != 2 * SMB_NTHASH_LEN)
		return -1;
	for (int i = 0; i < SMB_NTHASH_LEN; i++) {
		unsigned v;

		if (strchr("0123456789abcdefABCDEF", hex[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", hex[2 * i + 1]) == NULL ||
		    hex[2 * i] == 0 || hex[2 * i + 1] == 0 ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
smb_change(struct ctl_ctx *c, int argc, char **argv, int op)
{
	const char	*cmd = op_cmd[op], *uid = NULL, *hash = NULL, *es;
	struct sargs	 a;
	char		 e[256], uidtxt[16], namebuf[64];
	char		*sv[4];
	long long	 v;
	int		 bad = 0, ex, nsv = 0;

	memset(&a, 0, sizeof(a));
	a.op = op;
	if (op == OP_ADD)
		uid = ctl_opt_take(&argc, argv, "uid", &bad);
	if (op == OP_ADD || op == OP_PASSWD)
		hash = ctl_opt_take(&argc, argv, "nthash", &bad);
	if (bad)
		return ctl_usage(c, cmd, "an option needs a value");
	if (argc != 1 || argv[0][0] == '-')
		return ctl_usage(c, cmd, argc == 0 ? "missing NAME" :
		    "unexpected argument '%s'", argv[argc - 1]);
	a.name = argv[0];
	/* a bad name is a usage error for add; passwd and rm only need the
	 * user to exist (the transaction says when it does not) */
	if (op == OP_ADD && smb_user_name_check(a.name, e, sizeof(e)) < 0)
		return ctl_usage(c, cmd, "%s", e);
	if (uid != NULL) {
		if (parse_num(uid, SMB_UID_MIN, SMB_UID_MAX, &v, &es) < 0)
			return ctl_usage(c, cmd, "--uid '%s' is %s (%d..%d)",
			    uid, es, SMB_UID_MIN, SMB_UID_MAX);
		a.uid = (uint32_t)v;
	}
	if ((op == OP_ADD || op == OP_PASSWD) && hash == NULL)
		return ctl_usage(c, cmd, "no password: the duonas command "
		    "asks for it (or reads one line from standard input)");
	if (hash != NULL && parse_hash(hash, a.nthash) < 0)
		return ctl_usage(c, cmd, "--nthash must be 32 hex digits");
	if ((ex = ctcm_ctl_need_master(c)) != 0)
		return ex;
	/* the summary names the user, never the hash */
	snprintf(namebuf, sizeof(namebuf), "%s", a.name);
	sv[nsv++] = namebuf;
	if (uid != NULL) {
		snprintf(uidtxt, sizeof(uidtxt), "%u", a.uid);
		sv[nsv++] = "--uid";
		sv[nsv++] = uidtxt;
	}
	ex = ctcm_ctl_run_txn(c, smb_edit, &a, cmd, nsv, sv, 0);
	if (ex == CTL_EX_OK && op == OP_ADD && a.uid_out != 0)
		ctl_printf(c, "smb user %s: uid %u\n", a.name, a.uid_out);
	memset(&a, 0, sizeof(a));
	return ex;
}

static int
cmd_smb_user_add(struct ctl_ctx *c, int argc, char **argv)
{
	return smb_change(c, argc, argv, OP_ADD);
}

static int
cmd_smb_user_passwd(struct ctl_ctx *c, int argc, char **argv)
{
	return smb_change(c, argc, argv, OP_PASSWD);
}

static int
cmd_smb_user_rm(struct ctl_ctx *c, int argc, char **argv)
{
	return smb_change(c, argc, argv, OP_RM);
}

static int
cmd_smb_user_disable(struct ctl_ctx *c, int argc, char **argv)
{
	return smb_change(c, argc, argv, OP_DISABLE);
}

static int
cmd_smb_user_enable(struct ctl_ctx *c, int argc, char **argv)
{
	return smb_change(c, argc, argv, OP_ENABLE);
}

static int
cmd_smb_user_ls(struct ctl_ctx *c, int argc, char **argv)
{
	struct ctcm_bundle	b;
	struct smb_users	u;
	char			msg[512];
	int			rc;

	if (argc != 0)
		return ctl_usage(c, "smb user ls", "unexpected argument '%s'",
		    argv[0]);
	if ((rc = ctcm_current(&b)) != 0) {
		ctl_printf(c, "duonas smb user ls: %s\n", ctcm_strerror(rc));
		return CTL_EX_FAIL;
	}
	if (users_of(&b, &u, msg, sizeof(msg)) < 0) {
		ctl_printf(c, "duonas smb user ls: %s\n", msg);
		ctcm_bundle_free(&b);
		return CTL_EX_FAIL;
	}
	if (c->json) {
		ctl_printf(c, "{\"generation\":%llu,\"users\":[",
		    (unsigned long long)b.gen);
		for (int i = 0; i < u.n; i++) {
			ctl_printf(c, "%s{\"name\":", i ? "," : "");
			buf_add_json_str(&c->out, u.v[i].name);
			ctl_printf(c, ",\"uid\":%u,\"disabled\":%s}",
			    u.v[i].uid, u.v[i].disabled ? "true" : "false");
		}
		ctl_printf(c, "]}\n");
	} else {
		ctl_printf(c, "%-32s %-6s %s\n", "NAME", "UID", "STATE");
		for (int i = 0; i < u.n; i++)
			ctl_printf(c, "%-32s %-6u %s\n", u.v[i].name,
			    u.v[i].uid, u.v[i].disabled ? "disabled" :
			    "enabled");
	}
	smb_users_free(&u);
	ctcm_bundle_free(&b);
	return CTL_EX_OK;
}

void
ctcm_ctl_smb_register(void)
{
	ctl_register("smb user add", cmd_smb_user_add);
	ctl_register("smb user passwd", cmd_smb_user_passwd);
	ctl_register("smb user rm", cmd_smb_user_rm);
	ctl_register("smb user disable", cmd_smb_user_disable);
	ctl_register("smb user enable", cmd_smb_user_enable);
	ctl_register("smb user ls", cmd_smb_user_ls);
}

/*
 * test_common.c — unit tests for common/: buffers and the bounded reader,
 * and duonas.conf parsing (good file, and one bad file per error class:
 * each error must name the file, the line and the problem), socket I/O
 * with a deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "t.h"

static char tmpdir[] = "/tmp/duonas-t-common.XXXXXX";

static const char *
write_conf(const char *name, const char *text)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_buf(void)
{
	struct buf	b;
	struct rd	r;
	char		s[8];
	static const uint8_t want[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x02, 'h', 'i',
	};

	buf_init(&b);
	buf_add_u8(&b, 1);
	buf_add_u16(&b, 0x0203);
	buf_add_u32(&b, 0x04050607);
	buf_add_u64(&b, 8);
	buf_add_str(&b, "hi");
	T_EQ(b.len, sizeof(want), "buffer length");
	T_MEM(b.data, want, sizeof(want), "big-endian encoding golden bytes");

	rd_init(&r, b.data, b.len);
	T_EQ(rd_u8(&r), 1, "rd_u8");
	T_EQ(rd_u16(&r), 0x0203, "rd_u16");
	T_EQ(rd_u32(&r), 0x04050607, "rd_u32");
	T_EQ(rd_u64(&r), 8, "rd_u64");
	T_EQ(rd_str(&r, s, sizeof(s)), 0, "rd_str");
	T_OK(strcmp(s, "hi") == 0, "rd_str value");
	T_EQ(r.err, 0, "no read error");
	rd_u32(&r);
	T_EQ(r.err, 1, "read past end latches error");
	T_EQ(rd_u8(&r), 0, "reads after error return zero");

	rd_init(&r, b.data + 15, 3);	/* length 2 but only 1 byte follows */
	T_EQ(rd_str(&r, s, sizeof(s)), -1, "truncated string rejected");
	buf_reset(&b);
	buf_add_json_str(&b, "a\"b\\c\n");
	T_OK(strcmp((char *)b.data, "\"a\\\"b\\\\c\\u000a\"") == 0,
	    "json escaping");
	buf_free(&b);
}

#define GOOD \
	"# two heads on loopback\n" \
	"cluster demo\n" \
	"key \"/tmp/k\"\n" \
	"head A {\n id 1\n role master\n link 127.0.0.11:7401\n" \
	" link 127.0.0.21\n service-ip 192.0.2.10/24 dev eth0\n" \
	" statedir /tmp/a\n}\n" \
	"head B {\n id 2\n role slave\n link 127.0.0.12:7401\n" \
	" link 127.0.0.22:7402\n statedir /tmp/b\n}\n" \
	"heartbeat {\n interval 50\n}\n" \
	"config {\n replicas 2\n history 5\n}\n" \
	"lun l0 {\n id 1\n path /tmp/l0.img\n data /tmp/l0\n home B\n}\n"

static void
expect_err(const char *text, const char *needle)
{
	struct cfg	*c = malloc(sizeof(*c));
	char		 err[512];
	const char	*p = write_conf("bad.conf", text);
	int		 rv = cfg_parse(p, c, err, sizeof(err));

	T_OK(rv == -1 && strstr(err, needle) != NULL,
	    "bad config rejected with '%s' (got '%s')", needle,
	    rv == -1 ? err : "accepted");
	free(c);
}

static void
test_cfg(void)
{
	struct cfg	*c = malloc(sizeof(*c));
	char		 err[512];
	const char	*p = write_conf("good.conf", GOOD);

	T_EQ(cfg_parse(p, c, err, sizeof(err)), 0, "good config parses");
	if (strlen(err))
		printf("# %s\n", err);
	T_OK(strcmp(c->cluster, "demo") == 0, "cluster name");
	T_EQ(c->nheads, 2, "two heads");
	T_EQ(c->heads[0].role, CFG_ROLE_MASTER, "A is master");
	T_EQ(c->heads[1].id, 2, "B id");
	T_EQ(c->heads[0].nlinks, 2, "A has two links");
	T_OK(strcmp(c->heads[0].links[1].text, "127.0.0.21:7400") == 0,
	    "default link port applied (%s)", c->heads[0].links[1].text);
	T_EQ(c->heads[0].nvips, 1, "A has one service IP");
	T_EQ(c->heads[0].vips[0].prefix, 24, "vip prefix");
	T_EQ(c->hb_interval_ms, 50, "heartbeat interval tunable");
	T_EQ(c->nfs_port, 2049, "default nfs port");
	T_EQ(c->ctcm_replicas, 2, "config replicas tunable");
	T_EQ(c->ctcm_history, 5, "config history tunable");
	T_EQ(c->luns[0].home, 1, "lun home resolved to B");
	T_OK(strcmp(c->heads[1].socket, "/run/duonas/duonasd.sock") == 0 ||
	    strstr(c->heads[1].socket, "duonasd.sock") != NULL,
	    "default admin socket");
	T_EQ(cfg_head_find(c, "B"), 1, "find head B");
	T_EQ(cfg_head_find(c, "C"), -1, "no head C");
	free(c);

	expect_err("cluster x\nfoo bar\n", "bad.conf:2: unknown keyword 'foo'");
	expect_err("head A {\n id 300\n}\n", ":2: 'id': value '300' is too large");
	expect_err("head A {\n role boss\n}\n", ":2: role 'boss'");
	expect_err("head A {\n link nowhere:x\n}\n", ":2: link 'nowhere:x'");
	expect_err("head A {\n id 1\n", "missing '}'");
	expect_err("head A {\n id 1\n role master\n link 127.0.0.1\n}\n",
	    "exactly two heads");
	expect_err("head A {\n id 1\n role master\n link 127.0.0.1\n}\n"
	    "head B {\n id 1\n role slave\n link 127.0.0.2\n}\n", "same id");
	expect_err("head A {\n id 1\n role master\n link 127.0.0.1\n}\n"
	    "head B {\n id 2\n role master\n link 127.0.0.2\n}\n",
	    "exactly one head must have 'role master'");
	expect_err("key \"/unterminated\n", ":1: unterminated quoted string");
	expect_err("}\n", ":1: '}' without an open block");
	expect_err("head A {\n service-ip 10.0.0.1 dev x\n}\n", "missing /PREFIX");
	expect_err("heartbeat {\n interval fast\n}\n", "'interval': value 'fast' is not a number");
	expect_err("head A {\nhead B {\n", "blocks do not nest");
	expect_err("config {\n replicas 0\n}\n", "'replicas': value '0' is too small");
	expect_err("head bad/name {\n}\n", "head name 'bad/name'");
	{
		struct cfg *c2 = malloc(sizeof(*c2));
		T_EQ(cfg_parse("/nonexistent/duonas.conf", c2, err,
		    sizeof(err)), -1, "missing file rejected");
		T_OK(strstr(err, "No such file") != NULL, "missing file: %s",
		    err);
		free(c2);
	}
}

static void
test_files(void)
{
	char		 path[512];
	uint8_t		*d;
	size_t		 n;
	long long	 v;
	const char	*es;
	char		 hx[9];
	uint8_t		 raw[4];

	snprintf(path, sizeof(path), "%s/atomic", tmpdir);
	T_EQ(file_write_atomic(path, "hello", 5, 0600), 0, "atomic write");
	T_EQ(file_read_all(path, 100, &d, &n), 0, "read back");
	T_OK(n == 5 && memcmp(d, "hello", 5) == 0, "content intact");
	free(d);
	T_EQ(file_read_all(path, 3, &d, &n), -1, "maxlen enforced");
	T_EQ(parse_num("42", 0, 100, &v, &es), 0, "parse 42");
	T_EQ(parse_num("4x", 0, 100, &v, &es), -1, "reject 4x");
	T_EQ(parse_num("101", 0, 100, &v, &es), -1, "reject too large");
	hex_encode(hx, "\x01\xab\xff\x00", 4);
	T_OK(strcmp(hx, "01abff00") == 0, "hex encode");
	T_EQ(hex_decode(raw, sizeof(raw), "01abff00"), 4, "hex decode");
	T_EQ(hex_decode(raw, sizeof(raw), "0g"), -1, "hex decode rejects");
}

/* log_escape: what a client-chosen name can put into a log line. */
/* fd_io_until: the whole buffer both ways, a deadline that runs out on
 * a peer that never writes, and a closed peer */
static void
test_io_until(void)
{
	uint8_t		 out[300000], in[300000];
	int		 sv[2], st;
	pid_t		 pid;
	uint64_t	 t0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	/* more than a socket buffer: the reader drains it meanwhile */
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(fd_io_full(sv[1], in, sizeof(in), 0) == 0 &&
		    fd_io_full(sv[1], in, sizeof(in), 1) == 0 ? 0 : 1);
	}
	close(sv[1]);
	T_EQ(fd_io_until(sv[0], out, sizeof(out), 1, now_ms() + 10000), 0,
	    "fd_io_until writes 300000 bytes before the deadline");
	memset(in, 0, sizeof(in));
	T_EQ(fd_io_until(sv[0], in, sizeof(in), 0, now_ms() + 10000), 0,
	    "and reads them back");
	T_MEM(in, out, sizeof(out), "the bytes round-trip");
	T_OK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the echoing child saw them too");
	close(sv[0]);

	T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	t0 = now_ms();
	errno = 0;
	T_EQ(fd_io_until(sv[0], in, 10, 0, t0 + 200), -1,
	    "a peer that never writes: -1");
	T_EQ(errno, ETIMEDOUT, "errno ETIMEDOUT");
	T_OK(now_ms() - t0 >= 190 && now_ms() - t0 < 5000,
	    "after the deadline (%llu ms)",
	    (unsigned long long)(now_ms() - t0));
	close(sv[1]);
	T_EQ(fd_io_until(sv[0], in, 10, 0, now_ms() + 1000), -1,
	    "a closed peer: -1 at once");
	T_EQ(fd_io_until(sv[0], out, 10, 1, now_ms() + 1000), -1,
	    "writing to a closed peer: -1 (no SIGPIPE)");
	close(sv[0]);
}

/* fd_sync_durable: 0 on a writable file system; -1 EIO once the file
 * system is read-only (what ext4 errors=remount-ro does after an I/O
 * error: fsync then answers 0 for data it dropped).  In a child with a
 * mount namespace of its own: a tmpfs, a file written and closed, then
 * a read-only bind remount with the file open for reading.  Root only. */
static void
test_sync_durable(void)
{
	char	 dir[] = "/tmp/duonas-t-sync.XXXXXX", f[64];
	pid_t	 pid;
	int	 st;

	if (geteuid() != 0) {
		T_OK(1, "# SKIP fd_sync_durable read-only check: not root");
		return;
	}
	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	snprintf(f, sizeof(f), "%s/f", dir);
	if ((pid = fork()) == 0) {
		int	fd, r1, r2, e2;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0)
			_exit(3);
		if ((fd = open(f, O_WRONLY | O_CREAT, 0600)) < 0 ||
		    write(fd, "x", 1) != 1 || close(fd) < 0 ||
		    mount(dir, dir, "none", MS_BIND, NULL) < 0 ||
		    (fd = open(f, O_RDONLY)) < 0)
			_exit(4);
		r1 = fd_sync_durable(fd, 0);
		/* (source and type are ignored here; "none", not NULL,
		 * for valgrind) */
		if (mount("none", dir, "none", MS_REMOUNT | MS_BIND |
		    MS_RDONLY, NULL) < 0)
			_exit(5);
		errno = 0;
		r2 = fd_sync_durable(fd, 1);
		e2 = errno;
		_exit(r1 == 0 && r2 == -1 && e2 == EIO ? 0 : 6);
	}
	T_OK(waitpid(pid, &st, 0) == pid && WIFEXITED(st),
	    "the sync child ran");
	T_EQ(WEXITSTATUS(st), 0, "fd_sync_durable: 0 while writable, -1 EIO "
	    "once read-only (child exit 3-5: set-up failed)");
	rmdir(dir);
}

static void
test_log_escape(void)
{
	char	o[64];
	size_t	n;

	n = log_escape(o, sizeof(o), "host-1.example", 14);
	T_OK(n == 14 && strcmp(o, "host-1.example") == 0, "plain text kept");
	n = log_escape(o, sizeof(o), "a\nb\033[2Jc\x7f", 9);
	T_OK(strcmp(o, "a\\x0ab\\x1b[2Jc\\x7f") == 0,
	    "newline, ESC and DEL escaped: %s", o);
	n = log_escape(o, sizeof(o), "caf\xc3\xa9", 5);
	T_OK(n == 5 && strcmp(o, "caf\xc3\xa9") == 0, "UTF-8 kept");
	n = log_escape(o, sizeof(o), "\xc3(\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80",
	    11);
	T_OK(strcmp(o, "\\xc3(\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80")
	    == 0, "truncated, overlong, surrogate, > U+10FFFF escaped: %s", o);
	n = log_escape(o, sizeof(o), "x\0y", 3);
	T_OK(strcmp(o, "x\\x00y") == 0, "NUL escaped");
	n = log_escape(o, 6, "abc\001def", 7);
	T_OK(n == 3 && strcmp(o, "abc") == 0,
	    "an escape that does not fit is left out whole");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 99;
	test_buf();
	test_cfg();
	test_files();
	test_log_escape();
	test_io_until();
	test_sync_durable();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return t_done();
}

/*
 * test_fsvc.c — the file-service registry (src/fsvc/fsvc.h) with two fake
 * services, A registered before B, that write every call they get into
 * one journal: registration rules, fan-out to every service, the order
 * (bring-up A then B, teardown B then A), failures of one service not
 * stopping the other and being reported, exports listed once per id, and
 * the status parts concatenated in order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fsvc/fsvc.h"
#include "t.h"

static char	journal[4096];

static void	jot(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

static void
jot(const char *fmt, ...)
{
	size_t	n = strlen(journal);
	va_list	ap;

	if (n > 0 && n < sizeof(journal) - 1)
		journal[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(journal + n, sizeof(journal) - n, fmt, ap);
	va_end(ap);
}

/* One fake service: its name, what it fails, the gate it was given. */
struct fake {
	const char	*name;
	int		 fail_attach, fail_enable, fail_listen, fail_remove;
	fsvc_gate_fn	 gate;
	void		*gate_arg;
	fsvc_conn_fn	 conn;
	const uint32_t	*ids;		/* exports it carries, 0-terminated */
};

static struct fake	fa = { .name = "A" }, fb = { .name = "B" };

#define FAKE_OPS(X, x)							\
static int								\
x##_foreach(fsvc_export_cb cb, void *arg)				\
{									\
	char path[32];							\
	int n = 0;							\
									\
	jot("%s:foreach", X.name);					\
	for (; X.ids != NULL && X.ids[n] != 0; n++) {			\
		snprintf(path, sizeof(path), "/e%u", X.ids[n]);		\
		cb(X.ids[n], path, arg);				\
	}								\
	return n;							\
}									\
static int								\
x##_attach(uint32_t id)							\
{									\
	jot("%s:attach%u", X.name, id);					\
	return X.fail_attach ? -1 : 0;					\
}									\
static void								\
x##_detach(uint32_t id)							\
{									\
	jot("%s:detach%u", X.name, id);					\
}									\
static int								\
x##_enable(uint32_t id, int on)						\
{									\
	jot("%s:enable%u=%d", X.name, id, on);				\
	return X.fail_enable ? -1 : 0;					\
}									\
static void								\
x##_set_gate(fsvc_gate_fn fn, void *arg)				\
{									\
	jot("%s:gate%s", X.name, fn != NULL ? "+" : "-");		\
	X.gate = fn;							\
	X.gate_arg = arg;						\
}									\
/* B's table leaves it out */						\
static void __attribute__((unused))					\
x##_conn(fsvc_conn_fn fn, void *arg)					\
{									\
	(void)arg;							\
	jot("%s:conn", X.name);						\
	X.conn = fn;							\
}									\
static int								\
x##_listen_add(const char *addr)					\
{									\
	jot("%s:listen+%s", X.name, addr);				\
	return X.fail_listen ? -1 : 0;					\
}									\
static int								\
x##_listen_remove(const char *addr)					\
{									\
	jot("%s:listen-%s", X.name, addr);				\
	return X.fail_remove ? -1 : 0;					\
}									\
static void								\
x##_status(struct buf *out, int json)					\
{									\
	if (json)							\
		buf_printf(out, ",\"%s\":{}", #x);			\
	else								\
		buf_printf(out, "%s: ok\n", #x);			\
}

FAKE_OPS(fa, a)
FAKE_OPS(fb, b)

static const struct fsvc_ops ops_a = {
	.name = "A", .export_foreach = a_foreach, .export_attach = a_attach,
	.export_detach = a_detach, .export_enable = a_enable,
	.set_gate = a_set_gate, .set_conn_hook = a_conn,
	.listen_add = a_listen_add, .listen_remove = a_listen_remove,
	.status = a_status,
};
/* B has no connection hook: the optional operations may be missing */
static const struct fsvc_ops ops_b = {
	.name = "B", .export_foreach = b_foreach, .export_attach = b_attach,
	.export_detach = b_detach, .export_enable = b_enable,
	.set_gate = b_set_gate, .listen_add = b_listen_add,
	.listen_remove = b_listen_remove, .status = b_status,
};

static void
reset(void)
{
	journal[0] = 0;
	fa.fail_attach = fa.fail_enable = fa.fail_listen = 0;
	fb.fail_attach = fb.fail_enable = fb.fail_listen = 0;
	fa.fail_remove = fb.fail_remove = 0;
}

static int
gate_cb(uint32_t id, void *arg)
{
	return (int)id == *(int *)arg;
}

static void
conn_cb(int up, const struct sockaddr *l, const struct sockaddr *r, void *a)
{
	(void)up; (void)l; (void)r; (void)a;
}

static char	walked[256];

static void
walk_cb(uint32_t id, const char *path, void *arg)
{
	size_t n = strlen(walked);

	(void)arg;
	snprintf(walked + n, sizeof(walked) - n, "%s%u:%s", n ? " " : "",
	    id, path);
}

static void
test_register(void)
{
	struct fsvc_ops bad = ops_a, extra[FSVC_MAX];
	char names[FSVC_MAX][8];

	fsvc_unregister_all();
	reset();
	/* nothing registered: every helper is a successful no-op */
	T_EQ(fsvc_count(), 0, "no service at start");
	T_EQ(fsvc_export_attach(1), 0, "attach with no service");
	T_EQ(fsvc_export_enable(1, 0), 0, "enable with no service");
	T_EQ(fsvc_export_foreach(walk_cb, NULL), 0, "no exports");
	T_EQ(strlen(journal), 0, "nothing called");

	bad.name = "bad";
	bad.export_detach = NULL;
	T_EQ(fsvc_register(&bad), -1, "a required operation missing");
	bad = ops_a;
	bad.name = NULL;
	T_EQ(fsvc_register(&bad), -1, "no name");
	T_EQ(fsvc_count(), 0, "neither registered");

	T_EQ(fsvc_register(&ops_a), 0, "A registers");
	T_EQ(fsvc_register(&ops_a), -1, "A again refused");
	T_EQ(fsvc_register(&ops_b), 0, "B registers");
	for (int i = 0; i < FSVC_MAX; i++) {
		extra[i] = ops_b;
		snprintf(names[i], sizeof(names[i]), "X%d", i);
		extra[i].name = names[i];
	}
	T_EQ(fsvc_register(&extra[0]), 0, "third");
	T_EQ(fsvc_register(&extra[1]), 0, "fourth");
	T_EQ(fsvc_register(&extra[2]), -1, "a fifth is over FSVC_MAX");
	T_EQ(fsvc_count(), FSVC_MAX, "FSVC_MAX registered");
	fsvc_unregister_all();
	T_EQ(fsvc_count(), 0, "unregister_all empties the table");
}

/* The sequences the HA controller runs (src/ha/ha.c). */
static void
test_order(void)
{
	int open_id = 7;

	fsvc_unregister_all();
	T_EQ(fsvc_register(&ops_a) + fsvc_register(&ops_b), 0, "A, B");

	reset();
	fsvc_set_gate(gate_cb, &open_id);
	T_OK(strcmp(journal, "A:gate+ B:gate+") == 0, "gate set A then B: %s",
	    journal);
	T_OK(fa.gate == gate_cb && fb.gate == gate_cb &&
	    fa.gate_arg == &open_id && fb.gate_arg == &open_id,
	    "both got the same gate and argument");
	T_OK(fb.gate(7, fb.gate_arg) == 1 && fb.gate(8, fb.gate_arg) == 0,
	    "the gate answers through a service");

	/* LUN attached: exports opened, then enabled */
	reset();
	T_EQ(fsvc_export_attach(5), 0, "attach");
	T_EQ(fsvc_export_enable(5, 1), 0, "enable");
	T_OK(strcmp(journal, "A:attach5 B:attach5 A:enable5=1 B:enable5=1")
	    == 0, "bring-up in registration order: %s", journal);

	/* LUN released or fenced: refused, then closed, in reverse */
	reset();
	T_EQ(fsvc_export_enable(5, 0), 0, "disable");
	fsvc_export_detach(5);
	T_OK(strcmp(journal, "B:enable5=0 A:enable5=0 B:detach5 A:detach5")
	    == 0, "teardown in reverse order: %s", journal);

	/* service IP claimed, then released */
	reset();
	const char *who = "x";
	T_EQ(fsvc_listen_add("192.0.2.10", &who), 0, "listen_add");
	T_OK(who == NULL, "no service failed");
	T_EQ(fsvc_listen_remove("192.0.2.10"), 0, "listen_remove");
	T_OK(strcmp(journal, "A:listen+192.0.2.10 B:listen+192.0.2.10 "
	    "B:listen-192.0.2.10 A:listen-192.0.2.10") == 0,
	    "listen in order, unlisten in reverse: %s", journal);

	/* the connection hook only where the service has one */
	reset();
	fsvc_set_conn_hook(conn_cb, NULL);
	T_OK(strcmp(journal, "A:conn") == 0 && fa.conn == conn_cb,
	    "conn hook to A only (B has none): %s", journal);

	reset();
	fsvc_set_gate(NULL, NULL);
	T_OK(strcmp(journal, "B:gate- A:gate-") == 0, "gate removed B then A:"
	    " %s", journal);
	T_OK(fa.gate == NULL && fb.gate == NULL, "both gates gone");
}

static void
test_failures(void)
{
	const char *who;

	fsvc_unregister_all();
	T_EQ(fsvc_register(&ops_a) + fsvc_register(&ops_b), 0, "A, B");

	reset();
	fa.fail_attach = 1;
	T_EQ(fsvc_export_attach(3), -1, "A fails attach: -1");
	T_OK(strcmp(journal, "A:attach3 B:attach3") == 0,
	    "B attached all the same: %s", journal);
	reset();
	fb.fail_attach = 1;
	T_EQ(fsvc_export_attach(3), -1, "B fails attach: -1");

	reset();
	fb.fail_enable = 1;
	T_EQ(fsvc_export_enable(3, 0), -1, "B fails disable: -1");
	T_OK(strcmp(journal, "B:enable3=0 A:enable3=0") == 0,
	    "A disabled all the same: %s", journal);
	T_EQ(fsvc_export_enable(3, 1), -1, "B fails enable: -1");

	reset();
	fb.fail_listen = 1;
	T_EQ(fsvc_listen_add("2001:db8::1", &who), -1, "B cannot listen");
	T_OK(who != NULL && strcmp(who, "B") == 0, "B named");
	reset();
	fa.fail_listen = fb.fail_listen = 1;
	T_EQ(fsvc_listen_add("2001:db8::1", &who), -1, "neither can listen");
	T_OK(who != NULL && strcmp(who, "A") == 0, "the first failure named");
	T_OK(strcmp(journal, "A:listen+2001:db8::1 B:listen+2001:db8::1") ==
	    0, "both tried: %s", journal);
	T_EQ(fsvc_listen_add("2001:db8::1", NULL), -1, "failed may be NULL");

	reset();
	fb.fail_remove = 1;
	T_EQ(fsvc_listen_remove("2001:db8::1"), -1, "B not listening: -1");
	T_OK(strcmp(journal, "B:listen-2001:db8::1 A:listen-2001:db8::1") ==
	    0, "A unlistened all the same: %s", journal);
}

static void
test_exports_status(void)
{
	static const uint32_t ids_a[] = { 1, 2, 0 }, ids_b[] = { 2, 3, 1, 0 };
	struct buf b;

	fsvc_unregister_all();
	T_EQ(fsvc_register(&ops_a) + fsvc_register(&ops_b), 0, "A, B");
	fa.ids = ids_a;
	fb.ids = ids_b;
	reset();
	walked[0] = 0;
	T_EQ(fsvc_export_foreach(walk_cb, NULL), 3, "three distinct exports");
	T_OK(strcmp(walked, "1:/e1 2:/e2 3:/e3") == 0,
	    "each id once, first service first: %s", walked);
	T_OK(strcmp(journal, "A:foreach B:foreach") == 0, "both walked: %s",
	    journal);
	fa.ids = NULL;
	walked[0] = 0;
	T_EQ(fsvc_export_foreach(walk_cb, NULL), 3, "A lists none");
	T_OK(strcmp(walked, "2:/e2 3:/e3 1:/e1") == 0, "B's order: %s",
	    walked);

	buf_init(&b);
	fsvc_status(&b, 0);
	T_OK(b.len == strlen("a: ok\nb: ok\n") &&
	    memcmp(b.data, "a: ok\nb: ok\n", b.len) == 0,
	    "text status: A's lines, then B's");
	buf_reset(&b);
	fsvc_status(&b, 1);
	T_OK(b.len == strlen(",\"a\":{},\"b\":{}") &&
	    memcmp(b.data, ",\"a\":{},\"b\":{}", b.len) == 0,
	    "JSON status: A's members, then B's");
	buf_free(&b);
	fsvc_unregister_all();
}

int
main(void)
{
	test_register();
	test_order();
	test_failures();
	test_exports_status();
	return t_done();
}

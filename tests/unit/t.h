/*
 * t.h — the unit-test harness: a handful of assertion macros that print
 * one "ok N - what" / "not ok N - what (file:line)" line each, TAP style,
 * and t_done() that prints "N passed, N failed" and returns the exit code.
 */
#ifndef DUONAS_T_H
#define DUONAS_T_H

#include <stdio.h>
#include <string.h>

static int t_n, t_fail;

#define T_OK(cond, ...) do {						\
	t_n++;								\
	if (cond) {							\
		printf("ok %d - ", t_n);				\
	} else {							\
		t_fail++;						\
		printf("not ok %d - (%s:%d: %s) ", t_n, __FILE__,	\
		    __LINE__, #cond);					\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
} while (0)

#define T_EQ(a, b, what) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	T_OK(_a == _b, "%s (got %lld, want %lld)", what, _a, _b);	\
} while (0)

#define T_MEM(got, want, n, what) do {					\
	const unsigned char *_g = (const void *)(got);			\
	const unsigned char *_w = (const void *)(want);			\
	size_t _i, _n = (n);						\
	for (_i = 0; _i < _n && _g[_i] == _w[_i]; _i++)			\
		;							\
	T_OK(_i == _n, "%s%s", what, _i == _n ? "" : " (bytes differ)");\
	if (_i != _n)							\
		printf("#   first difference at byte %zu: got %02x want "	\
		    "%02x\n", _i, _g[_i], _w[_i]);			\
} while (0)

static inline int
t_done(void)
{
	printf("%d passed, %d failed\n", t_n - t_fail, t_fail);
	return t_fail ? 1 : 0;
}

#endif

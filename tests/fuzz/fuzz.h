/*
 * fuzz.h — what the libFuzzer targets share: the entry point's
 * prototype and a copy of the input as a C string of exactly its length
 * (parsers of NUL-terminated text get no slack past the NUL, so ASan
 * sees any read beyond it).
 */
#ifndef DUONAS_FUZZ_H
#define DUONAS_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static inline char *
fuzz_cstr(const uint8_t *d, size_t n)
{
	char	*s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	return s;
}

#endif

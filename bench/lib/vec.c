// SPDX-License-Identifier: GPL-2.0
/*
 * vec.c - the growable array and string buffer of vec.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "vec.h"

void *vec_grow(void *pv, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return pv;
	*cap = *cap ? 2 * *cap : 16;
	pv = realloc(pv, *cap * elem);
	if (!pv)
		abort();
	return pv;
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0)
		abort();
	while (b->n + need + 1 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += need;
}

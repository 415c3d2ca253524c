// SPDX-License-Identifier: GPL-2.0
/*
 * vec.c - the growable array and string buffer of vec.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "vec.h"

void *vec_realloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fputs("twinbench: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *vec_grow(void *pv, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return pv;
	*cap = *cap ? 2 * *cap : 16;
	return vec_realloc(pv, *cap * elem);
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
		b->s = vec_realloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += need;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vec.h - the one growable array and string buffer of the runner. Running out of memory
 * is fatal (abort), everywhere alike: the runner cannot do anything useful without it.
 */
#ifndef TWINBENCH_VEC_H
#define TWINBENCH_VEC_H

#include <stddef.h>

/* Make room for one more element of *@pv (holding @n of @cap); aborts when out of memory. */
void *vec_grow(void *pv, size_t n, size_t *cap, size_t elem);

/* realloc() that aborts when out of memory (and never returns NULL for size 0). */
void *vec_realloc(void *p, size_t size);

/* A pointer to a new last element of array @v with count @n and capacity @cap. */
#define VEC_PUSH(v, n, cap)							\
	((v) = vec_grow((v), (n), &(cap), sizeof(*(v))), &(v)[(n)++])

/* A growing NUL-terminated string. */
struct strbuf {
	char *s;
	size_t n, cap;
};

void strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TWINBENCH_VEC_H */

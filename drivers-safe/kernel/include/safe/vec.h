/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/vec.h - a counted array on the kernel heap, indexed through checks.
 *
 * Stands for Rust-for-Linux's KBox<[T]> / KVec<T> with a fixed length: allocated zeroed
 * with its length, freed with it, read with get(i) (an Option: out of range is an error,
 * not a stray pointer).
 *
 * SAFE_DEFINE_VEC(name, T) declares struct name and:
 *	name_alloc(v, len, gfp)		@len zeroed elements; Drop is name_free
 *	name_free(v)			free them; a no-op on an empty array
 *	name_at(v, idx, &p)		pointer to element idx, checked against the length
 *	name_len(v)			the length (0 when empty)
 *
 * Invariant: elems != NULL iff len != 0, and then elems holds len elements it owns.
 *
 * Switch: the index check is a bounds check and follows -DSAFE_NO_BOUNDS (safe/bounds.h).
 */
#ifndef SAFE_VEC_H
#define SAFE_VEC_H

#include <linux/slab.h>
#include <safe/bounds.h>
#include <safe/error.h>

#define SAFE_DEFINE_VEC(name, type)					\
	struct name {							\
		type *elems;						\
		u32 len;						\
	};								\
									\
	static inline __must_check struct safe_result name##_alloc(struct name *v, u32 len, \
								  gfp_t gfp) \
	{								\
		if (!len)						\
			return safe_err(-EINVAL);			\
		v->elems = kcalloc(len, sizeof(type), gfp);		\
		if (!v->elems)						\
			return safe_err(-ENOMEM);			\
		v->len = len;						\
		return safe_ok();					\
	}								\
									\
	static inline void name##_free(struct name *v)			\
	{								\
		kfree(v->elems);					\
		v->elems = NULL;					\
		v->len = 0;						\
	}								\
									\
	static __always_inline u32 name##_len(const struct name *v)	\
	{								\
		return v->len;						\
	}								\
									\
	static __always_inline __must_check struct safe_result name##_at(const struct name *v, \
									u32 idx, type **out) \
	{								\
		if (!safe_index_ok(idx, v->len))			\
			return safe_err(-ERANGE);			\
		*out = &v->elems[idx];					\
		return safe_ok();					\
	}

#endif /* SAFE_VEC_H */

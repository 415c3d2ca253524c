/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/xarray.h - a typed XArray that owns its entries, used under its own lock.
 *
 * Stands for Rust-for-Linux's kernel::xarray::XArray<T: ForeignOwnable> and its Guard:
 * xa.lock() gives a guard whose get() borrows an entry and whose store()/insert() moves an
 * owned value in. The array owns what it holds and drops it when destroyed.
 *
 * SAFE_DEFINE_XARRAY(name, type, drop_fn) makes, for owned struct type pointers:
 *	struct name			the array (init with name_init())
 *	safe_xa_locked(name, x, g)	run the next statement holding x's lock as guard g
 *	name_get(&g, index)		borrow the entry at index (NULL if none), lock held
 *	name_insert(&g, index, &p, gfp)	move owned *p into an empty slot; *p becomes NULL.
 *					Fails (-EBUSY, -ENOMEM), leaving *p owned by the caller
 *	name_destroy(x)			drop every entry with drop_fn, then the array
 *
 * Invariant: each entry is owned by the array; borrows end with the locked scope.
 * The locked scope follows -DSAFE_NO_GUARDS (see guard.h).
 */
#ifndef SAFE_XARRAY_H
#define SAFE_XARRAY_H

#include <linux/xarray.h>
#include <safe/error.h>
#include <safe/guard.h>

#define SAFE_DEFINE_XARRAY(name, type, drop_fn)			\
	struct name {							\
		struct xarray raw;					\
	};								\
									\
	struct name##_guard {						\
		struct xarray *raw;					\
	};								\
									\
	static inline void name##_init(struct name *x)			\
	{								\
		xa_init(&x->raw);					\
	}								\
									\
	static __always_inline struct name##_guard name##_guard_lock(struct name *x) \
	{								\
		xa_lock(&x->raw);					\
		return (struct name##_guard){ .raw = &x->raw };		\
	}								\
									\
	static __always_inline void name##_guard_drop(struct name##_guard *g) \
	{								\
		xa_unlock(g->raw);					\
	}								\
									\
	static __always_inline struct type *name##_get(struct name##_guard *g, \
						       unsigned long index) \
	{								\
		/* SAFETY: only owned struct type pointers are stored. */ \
		return xa_load(g->raw, index);				\
	}								\
									\
	static __always_inline __must_check struct safe_result	\
	name##_insert(struct name##_guard *g, unsigned long index,	\
		      struct type **owned, gfp_t gfp)			\
	{								\
		struct safe_result r;					\
									\
		r = safe_from_errno(__xa_insert(g->raw, index, *owned, gfp)); \
		if (safe_is_ok(r))					\
			*owned = NULL;					\
		return r;						\
	}								\
									\
	static inline void name##_destroy(struct name *x)		\
	{								\
		struct type *entry;					\
		unsigned long index;					\
									\
		xa_for_each(&x->raw, index, entry)			\
			drop_fn(entry);					\
		xa_destroy(&x->raw);					\
	}

#define safe_xa_locked(name, x, g)					\
	__safe_scoped(struct name##_guard, name##_guard_lock, name##_guard_drop, x, g, \
		      __UNIQUE_ID(done))

#endif /* SAFE_XARRAY_H */

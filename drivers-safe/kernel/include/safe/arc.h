/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/arc.h - reference-counted shared state.
 *
 * Stands for Rust-for-Linux's Arc<T> (an allocation holding a saturating refcount_t and the
 * value; the value is dropped and freed when the last Arc goes), ArcBorrow<'_, T> (a use of
 * the value that does not touch the count, valid while some Arc lives) and the ForeignOwnable
 * hand-off of an Arc to a C pointer slot (into_foreign / borrow / from_foreign).
 *
 * SAFE_DEFINE_ARC(foo) makes, for a struct foo with a destructor foo_drop(struct foo *) that
 * releases what the value holds (not the value's own memory):
 *	struct foo_arc			the handle type (pointer to it = one counted reference)
 *	foo_arc_new(gfp)		zeroed value, count 1; NULL if out of memory
 *	foo_arc_clone(a)		one more reference (Arc::clone)
 *	foo_arc_put(a)			drop one reference; the last one drops and frees
 *	foo_arc_data(a)			the value, borrowed (ArcBorrow::deref)
 *	foo_arc_into_foreign(a)		give the reference to C as a void *
 *	foo_arc_borrow_foreign(p)	borrow the value behind such a pointer; no count change
 *	foo_arc_from_foreign(p)		take the reference back from C
 *
 * Invariant: count >= 1 while any handle or foreign pointer exists; the value is
 * initialised from foo_arc_new() until foo_drop() runs.
 *
 * Switch: -DSAFE_NO_ARC makes the count a plain unsigned int (no atomics, no saturation):
 * correct only while clones and puts are serialised, which holds for the twins (they count
 * on setup and teardown paths only).
 */
#ifndef SAFE_ARC_H
#define SAFE_ARC_H

#include <linux/refcount.h>
#include <linux/slab.h>

#ifndef SAFE_NO_ARC
struct safe_arc_count {
	refcount_t refs;
};

static __always_inline void safe_arc_count_init(struct safe_arc_count *c)
{
	refcount_set(&c->refs, 1);
}

static __always_inline void safe_arc_count_inc(struct safe_arc_count *c)
{
	refcount_inc(&c->refs);
}

static __always_inline bool safe_arc_count_dec_and_test(struct safe_arc_count *c)
{
	return refcount_dec_and_test(&c->refs);
}
#else
struct safe_arc_count {
	unsigned int refs;
};

static __always_inline void safe_arc_count_init(struct safe_arc_count *c)
{
	c->refs = 1;
}

static __always_inline void safe_arc_count_inc(struct safe_arc_count *c)
{
	c->refs++;
}

static __always_inline bool safe_arc_count_dec_and_test(struct safe_arc_count *c)
{
	return --c->refs == 0;
}
#endif

#define SAFE_DEFINE_ARC(type)						\
	struct type##_arc {						\
		struct safe_arc_count count;				\
		struct type data;					\
	};								\
									\
	static inline struct type##_arc *type##_arc_new(gfp_t gfp)	\
	{								\
		struct type##_arc *a = kzalloc(sizeof(*a), gfp);	\
									\
		if (a)							\
			safe_arc_count_init(&a->count);			\
		return a;						\
	}								\
									\
	static __always_inline struct type##_arc *type##_arc_clone(struct type##_arc *a) \
	{								\
		safe_arc_count_inc(&a->count);				\
		return a;						\
	}								\
									\
	static inline void type##_arc_put(struct type##_arc *a)	\
	{								\
		if (a && safe_arc_count_dec_and_test(&a->count)) {	\
			/* SAFETY: last reference: nobody else sees a. */ \
			type##_drop(&a->data);				\
			kfree(a);					\
		}							\
	}								\
									\
	static __always_inline struct type *type##_arc_data(struct type##_arc *a) \
	{								\
		return &a->data;					\
	}								\
									\
	static __always_inline void *type##_arc_into_foreign(struct type##_arc *a) \
	{								\
		return a;						\
	}								\
									\
	static __always_inline struct type *type##_arc_borrow_foreign(void *p) \
	{								\
		/* SAFETY: p came from into_foreign and that reference is still held. */ \
		return &((struct type##_arc *)p)->data;			\
	}								\
									\
	static __always_inline struct type##_arc *type##_arc_from_foreign(void *p) \
	{								\
		/* SAFETY: p came from into_foreign; the reference moves back to the caller. */ \
		return p;						\
	}

#endif /* SAFE_ARC_H */

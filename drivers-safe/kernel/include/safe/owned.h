/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/owned.h - owned handles that release themselves at scope end.
 *
 * Stands for Rust's Drop and Rust-for-Linux's ScopeGuard: setup code declares each resource
 * as an owned handle and returns early on error; the compiler's cleanup attribute releases
 * what was set up so far, in reverse order of declaration. On success the code moves the
 * resource out with safe_take() (Rust: a move, or ScopeGuard::dismiss), which leaves NULL
 * behind so the destructor does nothing. Debian 6.1 has no linux/cleanup.h; this needs only
 * __attribute__((cleanup)).
 *
 *	SAFE_DEFINE_DROP(foo, foo_free);	// once per type: foo_free(struct foo *)
 *	SAFE_OWNED(foo, f) = foo_alloc();	// released at scope end unless taken
 *	if (!f)
 *		return safe_err(-ENOMEM);
 *	...
 *	dev->foo = safe_take(f);
 *
 * Invariant: an owned handle is NULL or owns the object it points to; exactly one owned
 * handle (or one field it was moved into) owns it.
 *
 * There is no switch: the destructor call is what C's goto ladder would do, and it runs on
 * setup and teardown paths only.
 */
#ifndef SAFE_OWNED_H
#define SAFE_OWNED_H

#include <linux/compiler.h>

/* Declare the destructor of struct @type, run when an owned handle goes out of scope. */
#define SAFE_DEFINE_DROP(type, drop_fn)					\
	static inline void __safe_drop_##type(struct type **handle)	\
	{								\
		if (*handle)						\
			drop_fn(*handle);				\
	}

/* Declare an owned handle @name to a struct @type; initialise it in the same statement. */
#define SAFE_OWNED(type, name)						\
	struct type *name __cleanup(__safe_drop_##type)

/* Move the object out of owned handle @h (Rust: a move); @h is left NULL. */
#define safe_take(h)							\
	({								\
		typeof(h) __safe_taken = (h);				\
		(h) = NULL;						\
		__safe_taken;						\
	})

#endif /* SAFE_OWNED_H */

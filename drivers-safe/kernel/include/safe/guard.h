/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/guard.h - locks that own their data, and guards that unlock at scope end.
 *
 * Stands for Rust-for-Linux's SpinLock<T>, Mutex<T> and Guard<'_, T, B>: the protected data
 * is a member of the lock, and the only way the layer offers to reach it is a locked scope,
 * whose guard unlocks when the scope is left by any path (break, return, goto):
 *
 *	SAFE_DEFINE_SPINLOCK(foo_lock, struct foo);	// struct foo_lock { lock; data; }
 *	safe_spin_lock_init(&l);
 *	safe_spin_locked(&l, foo) {			// foo: struct foo *, valid inside only
 *		foo->x++;
 *	}
 *
 * The mutex twins are SAFE_DEFINE_MUTEX, safe_mutex_init, safe_mutex_locked (may sleep).
 * safe_spin_lock_init_class(&l, &key) puts a lock in a lock class of its own.
 * safe_spin_locked_irqsave(&l, d) is the scope of SpinLockIrq (Rust's irq-disabling
 * backend): local interrupts stay off inside, for data a hard irq handler also locks.
 *
 * Invariant: the data member is only touched inside a locked scope of its own lock (the
 * member is marked __private, so sparse flags any other access).
 *
 * Guards cost nothing at run time beyond the lock itself, in Rust as here.
 * Switch: -DSAFE_NO_GUARDS expands a locked scope to lock; body; unlock without the cleanup
 * attribute: equally fast, and correct only for scopes left by falling off their end or by
 * break, which is how the twins write them (no return or goto out of a locked scope).
 */
#ifndef SAFE_GUARD_H
#define SAFE_GUARD_H

#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#define SAFE_DEFINE_SPINLOCK(name, data_type)				\
	struct name {							\
		spinlock_t raw;						\
		data_type __private data;				\
	}

#define SAFE_DEFINE_MUTEX(name, data_type)				\
	struct name {							\
		struct mutex raw;					\
		data_type __private data;				\
	}

#define safe_spin_lock_init(l)	spin_lock_init(&(l)->raw)

/*
 * The same in lock class @key (a static struct lock_class_key), as Rust's SpinLock::new
 * takes its LockClassKey: for locks of one type that only some contexts take (a hard irq
 * handler takes some, never others), so lockdep judges each kind by its own uses.
 */
#define safe_spin_lock_init_class(l, key)				\
	do {								\
		spin_lock_init(&(l)->raw);				\
		lockdep_set_class(&(l)->raw, key);			\
	} while (0)
#define safe_mutex_init(l)	mutex_init(&(l)->raw)

/* Guard of a locked scope: which lock to release. */
struct safe_spin_guard {
	spinlock_t *raw;
};

struct safe_mutex_guard {
	struct mutex *raw;
};

struct safe_spin_irq_guard {
	spinlock_t *raw;
	unsigned long flags;
};

static __always_inline struct safe_spin_guard __safe_spin_guard_lock(spinlock_t *raw)
{
	spin_lock(raw);
	return (struct safe_spin_guard){ .raw = raw };
}

static __always_inline void __safe_spin_guard_drop(struct safe_spin_guard *g)
{
	spin_unlock(g->raw);
}

static __always_inline struct safe_spin_irq_guard __safe_spin_irq_guard_lock(spinlock_t *raw)
{
	struct safe_spin_irq_guard g = { .raw = raw };

	spin_lock_irqsave(raw, g.flags);
	return g;
}

static __always_inline void __safe_spin_irq_guard_drop(struct safe_spin_irq_guard *g)
{
	spin_unlock_irqrestore(g->raw, g->flags);
}

static __always_inline struct safe_mutex_guard __safe_mutex_guard_lock(struct mutex *raw)
{
	mutex_lock(raw);
	return (struct safe_mutex_guard){ .raw = raw };
}

static __always_inline void __safe_mutex_guard_drop(struct safe_mutex_guard *g)
{
	mutex_unlock(g->raw);
}

/*
 * __safe_scoped - run the following statement once, holding guard @g of @gtype made by
 * @lock_fn(@arg) and released by @drop_fn(&@g) on every exit. Guard types have a
 * pointer member raw. Building block for the locked scopes of other headers.
 * The loops run on @done, a local the compiler follows, never on a pointer: the kernel
 * builds with -fno-delete-null-pointer-checks, so a test of the lock or data pointer
 * would stay in the code (a compare and a branch per scope).
 */
#ifndef SAFE_NO_GUARDS
#define __safe_scoped(gtype, lock_fn, drop_fn, arg, g, done)		\
	for (gtype g __cleanup(drop_fn) = lock_fn(arg), *done = NULL;	\
	     !done; done = (void *)1)
#else
/* The inner one-pass loop makes break leave through the unlock. */
#define __safe_scoped(gtype, lock_fn, drop_fn, arg, g, done)		\
	for (gtype g = lock_fn(arg), *done = NULL; !done;		\
	     drop_fn(&g), done = (void *)1)				\
		for (; !done; done = (void *)1)
#endif

/* The inner loop binds the data pointer @d for the one pass. */
#define __safe_locked(kind, l, d, g, done)				\
	__safe_scoped(struct safe_##kind##_guard, __safe_##kind##_guard_lock, \
		      __safe_##kind##_guard_drop, &(l)->raw, g, done)	\
		for (typeof(&ACCESS_PRIVATE(l, data)) d __maybe_unused =	\
			     &ACCESS_PRIVATE(l, data);				\
		     !done; done = (void *)1)

/* Run the following statement with spinlock @l held and @d pointing at its data. */
#define safe_spin_locked(l, d)	__safe_locked(spin, l, d, __UNIQUE_ID(guard), __UNIQUE_ID(done))

/* The same with local interrupts off (irqsave), for data a hard irq handler locks too. */
#define safe_spin_locked_irqsave(l, d)					\
	__safe_locked(spin_irq, l, d, __UNIQUE_ID(guard), __UNIQUE_ID(done))

/* Run the following statement with mutex @l held and @d pointing at its data. */
#define safe_mutex_locked(l, d)	__safe_locked(mutex, l, d, __UNIQUE_ID(guard), __UNIQUE_ID(done))

#endif /* SAFE_GUARD_H */

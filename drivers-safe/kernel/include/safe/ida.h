/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/ida.h - small integer ids (a driver's instance numbers) handed out and returned.
 *
 * Stands for an id allocator in the style of Rust-for-Linux's bindings: allocation returns a
 * result instead of a negative number that doubles as the id, and the id is returned only
 * if one was taken.
 *
 *	SAFE_DEFINE_IDA(name)			a static allocator
 *	safe_ida_alloc(ida, &id)		the lowest free id, or an error
 *	safe_ida_free(ida, id)			return @id; a no-op for id < 0 (none taken)
 *
 * Invariant: an id >= 0 held by a driver was allocated from its ida and not yet freed.
 */
#ifndef SAFE_IDA_H
#define SAFE_IDA_H

#include <linux/idr.h>
#include <safe/error.h>

#define SAFE_DEFINE_IDA(name)	static DEFINE_IDA(name)

static inline __must_check struct safe_result safe_ida_alloc(struct ida *ida, int *id)
{
	int n = ida_alloc(ida, GFP_KERNEL);

	if (n < 0)
		return safe_err(n);
	*id = n;
	return safe_ok();
}

static inline void safe_ida_free(struct ida *ida, int id)
{
	if (id >= 0)
		ida_free(ida, id);
}

#endif /* SAFE_IDA_H */

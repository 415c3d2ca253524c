/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/checked.h - checked integer arithmetic.
 *
 * Stands for Rust's checked_add/checked_sub/checked_mul/checked_shl (Option<T>), which
 * Rust-for-Linux code uses for sizes, sector ranges and ring indices. Each macro stores the
 * result through @res and yields true when it is exact; on overflow it yields false, leaves
 * *@res unspecified and reports the site (safe/report.h, rate limited), so an overflow
 * never passes silently. Use them as conditions.
 *
 * Operands and result may be of any integer types: the check is done in infinite precision
 * by __builtin_*_overflow, so a result that does not fit *@res also counts as overflow.
 * Checks on constants fold away at compile time.
 *
 * Switch: -DSAFE_NO_CHECKED_ARITH turns them into plain C arithmetic that always yields true
 * (correct whenever nothing overflows).
 */
#ifndef SAFE_CHECKED_H
#define SAFE_CHECKED_H

#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/types.h>
#include <safe/report.h>

/* Report a failed arithmetic check at the caller's site and yield false. */
#define __safe_overflow(op)						\
	({								\
		__safe_report("%s overflow in %s line %d\n", op, __func__, __LINE__); \
		false;							\
	})

#ifndef SAFE_NO_CHECKED_ARITH

#define safe_checked_add(a, b, res)					\
	(likely(!__builtin_add_overflow(a, b, res)) || __safe_overflow("add"))

#define safe_checked_sub(a, b, res)					\
	(likely(!__builtin_sub_overflow(a, b, res)) || __safe_overflow("sub"))

#define safe_checked_mul(a, b, res)					\
	(likely(!__builtin_mul_overflow(a, b, res)) || __safe_overflow("mul"))

/* (a << s) for unsigned @a, exact only if no set bit is shifted out and s < width. */
#define safe_checked_shl(a, s, res)					\
	(likely((s) < 8 * sizeof(a) && ((a) << (s)) >> (s) == (a)) ?	\
	 (*(res) = (a) << (s), true) : __safe_overflow("shl"))

#else /* SAFE_NO_CHECKED_ARITH */

#define safe_checked_add(a, b, res)	(*(res) = (a) + (b), true)
#define safe_checked_sub(a, b, res)	(*(res) = (a) - (b), true)
#define safe_checked_mul(a, b, res)	(*(res) = (a) * (b), true)
#define safe_checked_shl(a, s, res)	(*(res) = (a) << (s), true)

#endif /* SAFE_NO_CHECKED_ARITH */

#endif /* SAFE_CHECKED_H */

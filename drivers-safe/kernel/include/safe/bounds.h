/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/bounds.h - bounds-checked byte slices and indices.
 *
 * Stands for Rust's &[u8] / &mut [u8] (a pointer with its length, every sub-slice and index
 * checked against that length) and for the checked accessors of Rust-for-Linux's
 * CoherentAllocation (field_read/field_write, dma_read!). Drivers never do pointer
 * arithmetic: they narrow slices with safe_slice_sub() and copy between slices of equal
 * length with safe_slice_copy().
 *
 * Invariant of struct safe_slice: ptr is valid for reads and writes of len bytes for as long
 * as the slice is used; the code that made the slice (a mapping scope, an owned buffer)
 * guarantees that, and only the layer makes slices from raw pointers.
 *
 * A failed check reports the site (safe/report.h) and yields false; nothing is touched.
 *
 * Switch: -DSAFE_NO_BOUNDS skips the checks (correct for in-range accesses).
 */
#ifndef SAFE_BOUNDS_H
#define SAFE_BOUNDS_H

#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/types.h>
#include <safe/report.h>

struct safe_slice {
	u8 *ptr;
	size_t len;
};

/* Report a failed bounds check at the caller's site and yield false. */
#define __safe_out_of_bounds(off, n, size)				\
	({								\
		__safe_report("range %zu+%zu outside %zu bytes in %s line %d\n", \
			      (size_t)(off), (size_t)(n), (size_t)(size),	\
			      __func__, __LINE__);			\
		false;							\
	})

#ifndef SAFE_NO_BOUNDS
#define __safe_range_ok(off, n, size)	\
	(likely((off) <= (size) && (n) <= (size) - (off)))
#define __safe_same_len(a, b)		(likely((a) == (b)))
#else
#define __safe_range_ok(off, n, size)	true
#define __safe_same_len(a, b)		true
#endif

/*
 * safe_range_ok - is [@off, @off + @n) inside @size units? For device and buffer ranges.
 */
#define safe_range_ok(off, n, size)					\
	(__safe_range_ok(off, n, size) || __safe_out_of_bounds(off, n, size))

/*
 * safe_index_ok - is @idx a valid index into @count elements? For rings and tables.
 */
#define safe_index_ok(idx, count)					\
	(__safe_range_ok(idx, 1, count) || __safe_out_of_bounds(idx, 1, count))

/*
 * safe_slice_sub - the sub-slice [@off, @off + @n) of @s, as Rust's s.get(off..off + n).
 * Yields false (and leaves *@out alone) if the range is not inside @s.
 */
#define safe_slice_sub(s, off, n, out)					\
	(__safe_range_ok(off, n, (s).len) ?				\
	 (__safe_slice_narrow(s, off, n, out), true) :			\
	 __safe_out_of_bounds(off, n, (s).len))

static __always_inline void __safe_slice_narrow(struct safe_slice s, size_t off, size_t len,
						struct safe_slice *out)
{
	/* SAFETY: the caller checked off + len <= s.len, so the result lies inside s. */
	out->ptr = s.ptr + off;
	out->len = len;
}

/*
 * safe_slice_copy - copy @src into @dst, as Rust's dst.copy_from_slice(src): the lengths
 * must be equal. Yields false without copying if they are not.
 */
#define safe_slice_copy(dst, src)					\
	(__safe_same_len((src).len, (dst).len) ?			\
	 (__safe_slice_memcpy(dst, src), true) :			\
	 __safe_out_of_bounds(0, (src).len, (dst).len))

static __always_inline void __safe_slice_memcpy(struct safe_slice dst, struct safe_slice src)
{
	/* SAFETY: both slices are valid for src.len bytes (slice invariant, checked lengths). */
	memcpy(dst.ptr, src.ptr, src.len);
}

/* Fill the whole of @s with zeroes. Cannot go out of bounds. */
static __always_inline void safe_slice_zero(struct safe_slice s)
{
	/* SAFETY: s is valid for s.len bytes (slice invariant). */
	memset(s.ptr, 0, s.len);
}

/* Make a slice from a raw pointer. Layer-internal: the caller states why ptr is valid. */
static __always_inline struct safe_slice __safe_slice_from_raw(void *ptr, size_t len)
{
	return (struct safe_slice){ .ptr = ptr, .len = len };
}

#endif /* SAFE_BOUNDS_H */

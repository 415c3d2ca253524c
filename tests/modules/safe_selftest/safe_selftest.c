// SPDX-License-Identifier: GPL-2.0
/*
 * safe_selftest - checks of the safe layer's own promises, run once at module load:
 * failed checks fail (and touch nothing), passing ones pass, counts and destructors run
 * exactly when they should. Prints one "ok - ..." or "not ok - ..." line per check and
 * refuses to load if any check failed. Checks of a mechanism switched off with
 * -DSAFE_NO_<NAME> are skipped. tests/vm/null.sh loads it in the guest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <safe/arc.h>
#include <safe/blk_mq.h>
#include <safe/bounds.h>
#include <safe/checked.h>
#include <safe/error.h>
#include <safe/guard.h>
#include <safe/owned.h>
#include <safe/page.h>
#include <safe/xarray.h>

static unsigned int selftest_failures;

static void selftest_report(bool passed, const char *what)
{
	if (passed) {
		pr_info("ok - %s\n", what);
	} else {
		pr_err("not ok - %s\n", what);
		selftest_failures++;
	}
}

static void selftest_checked(void)
{
	u64 r64 = 0;
	u32 r32 = 0;

	selftest_report(safe_checked_add(1ULL, 2ULL, &r64) && r64 == 3 &&
			safe_checked_add(1U, 2U, &r32) && r32 == 3, "checked add: 1 + 2 = 3");
#ifndef SAFE_NO_CHECKED_ARITH
	selftest_report(!safe_checked_add(U64_MAX, 1ULL, &r64), "checked add: U64_MAX + 1 fails");
	selftest_report(!safe_checked_add((u64)U32_MAX, 1ULL, &r32),
			"checked add: a result too wide for its destination fails");
	selftest_report(!safe_checked_sub(0U, 1U, &r32), "checked sub: 0 - 1 unsigned fails");
	selftest_report(!safe_checked_mul(U64_MAX, 2ULL, &r64), "checked mul: U64_MAX * 2 fails");
	selftest_report(!safe_checked_shl(3ULL, 63, &r64), "checked shl: 3 << 63 fails");
	selftest_report(!safe_checked_shl(1ULL, 64, &r64), "checked shl: shift by the width fails");
#endif
	selftest_report(safe_checked_shl(1ULL, 63, &r64) && r64 == 1ULL << 63,
			"checked shl: 1 << 63 is exact");
}

static void selftest_bounds(void)
{
	u8 buf[16] = { 0 }, src[4] = { 1, 2, 3, 4 };
	struct safe_slice s = __safe_slice_from_raw(buf, sizeof(buf));
	struct safe_slice in = __safe_slice_from_raw(src, sizeof(src));
	struct safe_slice out = { .ptr = NULL, .len = 99 };

	selftest_report(safe_slice_sub(s, 16, 0, &out) && out.len == 0,
			"slice: the empty sub-slice at the end is valid");
	selftest_report(safe_slice_sub(s, 12, 4, &out) && safe_slice_copy(out, in) &&
			buf[12] == 1 && buf[15] == 4, "slice: copy into the last 4 bytes");
#ifndef SAFE_NO_BOUNDS
	out.len = 99;
	selftest_report(!safe_slice_sub(s, 13, 4, &out) && out.len == 99,
			"slice: a sub-slice past the end fails and leaves the output alone");
	selftest_report(!safe_slice_sub(s, 1, SIZE_MAX, &out),
			"slice: an offset + length that wraps around fails");
	selftest_report(!safe_slice_copy(s, in) && buf[0] == 0,
			"slice: a copy between unequal lengths fails and copies nothing");
	selftest_report(!safe_index_ok(16, 16) && safe_index_ok(15, 16),
			"index: 15 of 16 is valid, 16 of 16 is not");
	selftest_report(!safe_range_ok(4096ULL, 512U, 4096ULL),
			"range: a device range past the capacity fails");
#endif
}

static void selftest_page(void)
{
	SAFE_OWNED(safe_page, pg) = safe_page_alloc(GFP_KERNEL | __GFP_ZERO);
	u8 data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8] = { 0 };

	if (!pg) {
		selftest_report(false, "page: allocation");
		return;
	}
	selftest_report(safe_is_ok(safe_page_write(pg, PAGE_SIZE - 8,
						   __safe_slice_from_raw(data, 8))) &&
			safe_is_ok(safe_page_read(pg, PAGE_SIZE - 8,
						  __safe_slice_from_raw(back, 8))) &&
			!memcmp(data, back, 8), "page: write and read back the last 8 bytes");
#ifndef SAFE_NO_BOUNDS
	memset(back, 0, sizeof(back));
	selftest_report(safe_is_errno(safe_page_write(pg, PAGE_SIZE - 4,
						      __safe_slice_from_raw(data, 8)), -EINVAL) &&
			safe_is_errno(safe_page_read(pg, PAGE_SIZE - 4,
						     __safe_slice_from_raw(back, 8)), -EINVAL) &&
			back[0] == 0, "page: accesses past the page end fail and copy nothing");
#endif
}

static struct safe_result selftest_try(struct safe_result first, bool *reached_end)
{
	SAFE_TRY(first);
	*reached_end = true;
	return safe_ok();
}

static void selftest_error(void)
{
	bool reached_end = false;

	selftest_report(safe_to_blk_status(safe_ok()) == BLK_STS_OK &&
			safe_to_blk_status(safe_err(-ENOMEM)) == BLK_STS_RESOURCE &&
			safe_to_blk_status(safe_err(-EOPNOTSUPP)) == BLK_STS_NOTSUPP &&
			safe_to_errno(safe_from_blk_status(BLK_STS_IOERR)) == -EIO,
			"error: bridges between errno and blk_status_t");
	selftest_report(safe_is_errno(selftest_try(safe_err(-EIO), &reached_end), -EIO) &&
			!reached_end, "error: SAFE_TRY returns the error early");
	selftest_report(safe_is_ok(selftest_try(safe_ok(), &reached_end)) && reached_end,
			"error: SAFE_TRY lets Ok through");
}

struct selftest_obj {
	unsigned int *drops;
};

static void selftest_obj_drop(struct selftest_obj *o)
{
	(*o->drops)++;
}

SAFE_DEFINE_ARC(selftest_obj);
SAFE_DEFINE_DROP(selftest_obj_arc, selftest_obj_arc_put);

static struct selftest_obj_arc *selftest_make(unsigned int *drops)
{
	SAFE_OWNED(selftest_obj_arc, a) = selftest_obj_arc_new(GFP_KERNEL);

	if (a)
		selftest_obj_arc_data(a)->drops = drops;
	return safe_take(a);
}

static void selftest_arc_owned(void)
{
	unsigned int drops = 0;
	struct selftest_obj_arc *kept;
	void *foreign;

	{
		SAFE_OWNED(selftest_obj_arc, a) = selftest_make(&drops);

		if (!a) {
			selftest_report(false, "arc: allocation");
			return;
		}
		foreign = selftest_obj_arc_into_foreign(selftest_obj_arc_clone(a));
	}
	selftest_report(drops == 0 && selftest_obj_arc_borrow_foreign(foreign)->drops == &drops,
			"arc: the value outlives its first owner while a clone lives");
	selftest_obj_arc_put(selftest_obj_arc_from_foreign(foreign));
	selftest_report(drops == 1, "arc: the last put drops the value exactly once");

	{
		SAFE_OWNED(selftest_obj_arc, a) = selftest_make(&drops);

		kept = safe_take(a);
	}
	selftest_report(kept && drops == 1, "owned: a moved-out handle is not dropped");
	selftest_obj_arc_put(kept);
	selftest_report(drops == 2, "owned: the new owner drops it");
}

SAFE_DEFINE_SPINLOCK(selftest_lock, unsigned int);

#ifndef SAFE_NO_GUARDS
static unsigned int selftest_locked_return(struct selftest_lock *lock)
{
	safe_spin_locked(lock, n)
		return ++*n;
	return 0;
}
#endif

static void selftest_guard(void)
{
	struct selftest_lock lock;
	bool held_inside = false;

	safe_spin_lock_init(&lock);
	safe_spin_locked(&lock, n) {
		*n = 7;
		held_inside = spin_is_locked(&lock.raw);
	}
	selftest_report(held_inside && !spin_is_locked(&lock.raw),
			"guard: the lock is held inside the scope and released after it");
	safe_spin_locked(&lock, n) {
		if (++*n == 8)
			break;
		*n = 0;
	}
	selftest_report(!spin_is_locked(&lock.raw), "guard: leaving the scope by break unlocks");
#ifndef SAFE_NO_GUARDS
	selftest_report(selftest_locked_return(&lock) == 9 && !spin_is_locked(&lock.raw),
			"guard: returning from inside the scope unlocks");
#endif
	safe_spin_locked(&lock, n)
		selftest_report(*n >= 8, "guard: the data written under the lock is kept");
	safe_spin_locked_irqsave(&lock, n) {
		held_inside = spin_is_locked(&lock.raw) && irqs_disabled();
		++*n;
	}
	selftest_report(held_inside && !spin_is_locked(&lock.raw) && !irqs_disabled(),
			"guard: an irqsave scope holds the lock with interrupts off, restores both");
}

static void selftest_page_free_counted(struct safe_page *pg);
static unsigned int selftest_pages_dropped;
SAFE_DEFINE_XARRAY(selftest_pages, safe_page, selftest_page_free_counted);

static void selftest_page_free_counted(struct safe_page *pg)
{
	selftest_pages_dropped++;
	safe_page_free(pg);
}

static void selftest_xarray(void)
{
	SAFE_OWNED(safe_page, first) = safe_page_alloc(GFP_KERNEL);
	SAFE_OWNED(safe_page, second) = safe_page_alloc(GFP_KERNEL);
	struct safe_page *stored = first;
	struct selftest_pages pages;
	bool moved = false, refused = false, found = false;

	if (!first || !second) {
		selftest_report(false, "xarray: allocation");
		return;
	}
	selftest_pages_init(&pages);
	safe_xa_locked(selftest_pages, &pages, g) {
		moved = safe_is_ok(selftest_pages_insert(&g, 5, &first, GFP_ATOMIC)) && !first;
		refused = safe_is_errno(selftest_pages_insert(&g, 5, &second, GFP_ATOMIC),
					-EBUSY) && second;
		found = selftest_pages_get(&g, 5) == stored && !selftest_pages_get(&g, 6);
	}
	selftest_report(moved, "xarray: insert moves the page into an empty slot");
	selftest_report(refused, "xarray: insert into a used slot fails, the caller keeps the page");
	selftest_report(found, "xarray: get finds the stored page and nothing elsewhere");
	selftest_pages_destroy(&pages);
	selftest_report(selftest_pages_dropped == 1, "xarray: destroy drops each entry once");
}

/* The mechanisms this build switched off, so a test can tell a skipped check from a miss. */
static const char *const selftest_switched_off[] = {
#ifdef SAFE_NO_ERROR_CHECK
	"SAFE_NO_ERROR_CHECK",
#endif
#ifdef SAFE_NO_CHECKED_ARITH
	"SAFE_NO_CHECKED_ARITH",
#endif
#ifdef SAFE_NO_BOUNDS
	"SAFE_NO_BOUNDS",
#endif
#ifdef SAFE_NO_ARC
	"SAFE_NO_ARC",
#endif
#ifdef SAFE_NO_GUARDS
	"SAFE_NO_GUARDS",
#endif
#ifdef SAFE_NO_REQ_REFCOUNT
	"SAFE_NO_REQ_REFCOUNT",
#endif
	"none",
};

static int __init selftest_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(selftest_switched_off) - 1; i++)
		pr_info("switched off: %s\n", selftest_switched_off[i]);
	selftest_checked();
	selftest_bounds();
	selftest_page();
	selftest_error();
	selftest_arc_owned();
	selftest_guard();
	selftest_xarray();
	if (selftest_failures) {
		pr_err("%u check(s) failed\n", selftest_failures);
		return -EINVAL;
	}
	pr_info("all checks passed\n");
	return 0;
}

static void __exit selftest_exit(void)
{
}

module_init(selftest_init);
module_exit(selftest_exit);
MODULE_DESCRIPTION("twinbench safe layer self-test");
MODULE_LICENSE("GPL");

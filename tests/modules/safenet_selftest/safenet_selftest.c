// SPDX-License-Identifier: GPL-2.0
/*
 * safenet_selftest - checks of the layer's net pieces (safe/skb.h, safe/net.h counters),
 * run once at module load: every buffer is freed or handed on exactly once, a moved-from
 * handle is refused and reported, a full ring refuses and leaves the buffer with its
 * owner, counter indices are checked. Prints one "ok - ..." or "not ok - ..." line per
 * check and refuses to load if any failed. tests/vm/net.sh loads it in the guest and
 * checks the two misuse reports it provokes in the kernel log (a module cannot read them).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/skbuff.h>
#include <safe/error.h>
#include <safe/net.h>
#include <safe/skb.h>

#define SELFTEST_RING	16

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

/* A buffer with one extra reference held by the test, so its frees can be counted. */
static struct sk_buff *selftest_skb(void)
{
	struct sk_buff *skb = alloc_skb(64, GFP_KERNEL);

	if (skb)
		skb_get(skb);
	return skb;
}

/* How many references besides the test's own the buffer still has. */
static unsigned int selftest_others(struct sk_buff *skb)
{
	return refcount_read(&skb->users) - 1;
}

static void selftest_ring(void)
{
	struct sk_buff *skbs[SELFTEST_RING + 1];
	struct safe_skb_ring ring = { 0 };
	struct safe_skb h;
	bool fifo = true, all = true;
	unsigned int i;

	selftest_report(safe_is_err(safe_skb_ring_init(&ring, 100)),
			"a ring of 100 slots (no power of two) is refused");
	if (safe_is_err(safe_skb_ring_init(&ring, SELFTEST_RING))) {
		selftest_report(false, "a ring of 16 slots is made");
		return;
	}
	for (i = 0; i <= SELFTEST_RING; i++) {
		skbs[i] = selftest_skb();
		if (!skbs[i]) {
			selftest_report(false, "test buffers allocated");
			while (i--)
				kfree_skb(skbs[i]);
			safe_skb_ring_drop(&ring);
			return;
		}
	}
	for (i = 0; i < SELFTEST_RING; i++) {
		h.raw = skbs[i];
		all &= safe_is_ok(safe_skb_ring_push(&ring, &h)) && !h.raw;
	}
	selftest_report(all, "16 pushes fill a 16-slot ring, each moving its handle");
	h.raw = skbs[SELFTEST_RING];
	selftest_report(safe_to_errno(safe_skb_ring_push(&ring, &h)) == -ENOSPC &&
			h.raw == skbs[SELFTEST_RING],
			"a push into a full ring fails with -ENOSPC and the caller keeps the buffer");
	safe_skb_free(&h);
	selftest_report(!h.raw && selftest_others(skbs[SELFTEST_RING]) == 0,
			"safe_skb_free frees once and leaves the handle empty");
#ifndef SAFE_NO_SKB_OWNERSHIP
	safe_skb_free(&h);
	selftest_report(selftest_others(skbs[SELFTEST_RING]) == 0,
			"freeing a moved-from handle is refused (no double free)");
	selftest_report(safe_to_errno(safe_skb_ring_push(&ring, &h)) == -EINVAL,
			"pushing a moved-from handle is refused");
#endif
	for (i = 0; i < SELFTEST_RING / 2; i++) {
		h = safe_skb_ring_pop(&ring);
		fifo &= h.raw == skbs[i];
		safe_skb_free(&h);
	}
	selftest_report(fifo, "pops return the buffers in the order they were pushed");
	selftest_report(safe_skb_ring_drain(&ring) == SELFTEST_RING / 2,
			"draining frees the 8 buffers left and counts them");
	h = safe_skb_ring_pop(&ring);
	selftest_report(!safe_skb_is_some(&h), "an empty ring pops an empty handle");
	for (i = 0, all = true; i <= SELFTEST_RING; i++) {
		all &= selftest_others(skbs[i]) == 0;
		kfree_skb(skbs[i]);
	}
	selftest_report(all, "every buffer was freed exactly once");
	safe_skb_ring_drop(&ring);
}

static void selftest_scope_drop(void)
{
	struct sk_buff *kept = selftest_skb(), *moved = selftest_skb();
	struct safe_skb left;

	if (!kept || !moved) {
		selftest_report(false, "test buffers allocated");
		kfree_skb(kept);
		kfree_skb(moved);
		return;
	}
	{
		SAFE_SKB(a) = { .raw = kept };
		SAFE_SKB(b) = { .raw = moved };

		left.raw = __safe_skb_take(&b);
		(void)a;
	}
	selftest_report(selftest_others(kept) == 0 && selftest_others(moved) == 1,
			"scope end frees a still-owned buffer and leaves a moved one alone");
	__safe_skb_check_moved(&left, "selftest");
#ifndef SAFE_NO_SKB_OWNERSHIP
	/* The report itself ("safe: selftest kept ...") is checked in the log by net.sh. */
	selftest_report(!left.raw && selftest_others(moved) == 0,
			"a buffer a callee kept instead of moving on is freed");
#else
	safe_skb_free(&left);
#endif
	kfree_skb(kept);
	kfree_skb(moved);
}

SAFE_DEFINE_COUNTERS(selftest_counters, 2);

#ifndef SAFE_NO_BOUNDS
/* An index past the group, in a variable so the compiler cannot reject it at build time. */
static unsigned int selftest_bad_index = 2;
#endif

static void selftest_counters(void)
{
	struct selftest_counters c;
	u64 v[2];

	selftest_counters_init(&c);
	safe_counters_update(selftest_counters, &c, w) {
		safe_counter_add(w, 0, 5);
		safe_counter_inc(w, 1);
#ifndef SAFE_NO_BOUNDS
		safe_counter_add(w, READ_ONCE(selftest_bad_index), 7);
#endif
	}
	selftest_counters_snapshot(&c, &v);
	selftest_report(v[0] == 5 && v[1] == 1,
			"counters add up, and an index past the group is refused");
}

static int __init selftest_init(void)
{
	selftest_ring();
	selftest_scope_drop();
	selftest_counters();
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
MODULE_DESCRIPTION("twinbench safe layer self-test: socket buffers, rings, counters");
MODULE_LICENSE("GPL");

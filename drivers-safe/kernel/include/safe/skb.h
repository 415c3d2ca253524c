/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/skb.h - owned socket buffers and bounded rings of them.
 *
 * Stands for an owned SkBuff in Rust-for-Linux's net abstractions (ARef<SkBuff> handed to
 * start_xmit, moved into a queue or to the stack, dropped with kfree_skb) and for a ring of
 * them indexed like a Rust slice (every slot index checked against the ring's length).
 *
 *  - struct safe_skb is the one owning handle of a buffer. Every call that gives the buffer
 *    away (safe_skb_free, safe_skb_ring_push, the stack hand-offs of net.h) takes the handle
 *    by pointer, uses it, and leaves raw == NULL behind: a move. Using a handle that was
 *    moved from is caught (reported, naming the refusing call) instead of freeing or
 *    queuing the buffer twice.
 *  - SAFE_SKB(name) declares a handle dropped at scope end: a buffer still owned there is
 *    freed, as Rust drops it, so no path can leak it.
 *  - struct safe_skb_ring is a bounded single-producer, single-consumer ring of owned
 *    buffers; push moves a handle in, pop moves one out. Slot indices are checked against
 *    the length (bounds.h); head and tail wrap on purpose (Rust: wrapping_add/wrapping_sub).
 *
 * Invariants: a safe_skb with raw != NULL owns one reference to its buffer; nothing else
 * frees it. A ring owns the buffers in slots [tail, head); 0 <= head - tail <= size.
 *
 * Switch: -DSAFE_NO_SKB_OWNERSHIP drops the moved-from checks (handles are still moved and
 * dropped at scope end). Ring index checks go with -DSAFE_NO_BOUNDS.
 */
#ifndef SAFE_SKB_H
#define SAFE_SKB_H

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <safe/bounds.h>
#include <safe/error.h>

/* The one owning handle of a socket buffer; raw == NULL once moved or dropped. */
struct safe_skb {
	struct sk_buff *raw;
};

#ifndef SAFE_NO_SKB_OWNERSHIP
/* Is @s still owning? If it was moved from, reports the layer call that refused it. */
#define __safe_skb_owned(s)						\
	(likely((s)->raw) ||						\
	 (__safe_report("socket buffer used after it was moved, in %s line %d\n", \
			__func__, __LINE__), false))
#else
#define __safe_skb_owned(s)	true
#endif

static __always_inline bool safe_skb_is_some(const struct safe_skb *s)
{
	return s->raw;
}

/* Bytes in the buffer (SkBuff::len). */
static __always_inline unsigned int safe_skb_len(const struct safe_skb *s)
{
	return s->raw->len;
}

/* Move the buffer out of @s: layer-internal, for hand-offs that take ownership. */
static __always_inline struct sk_buff *__safe_skb_take(struct safe_skb *s)
{
	struct sk_buff *raw = s->raw;

	s->raw = NULL;
	return raw;
}

/* Drop the buffer (kfree_skb, seen by the skb:kfree_skb tracepoint). Moves @s. */
static __always_inline void safe_skb_free(struct safe_skb *s)
{
	if (__safe_skb_owned(s))
		kfree_skb(__safe_skb_take(s));
}

static __always_inline void __safe_skb_scope_drop(struct safe_skb *s)
{
	if (s->raw)
		kfree_skb(__safe_skb_take(s));
}

/*
 * Layer-internal: after a callee that had to move @s on has returned, free what it kept
 * (and report it, naming @who): the buffer is neither leaked nor freed twice.
 */
static __always_inline void __safe_skb_check_moved(struct safe_skb *s, const char *who)
{
#ifndef SAFE_NO_SKB_OWNERSHIP
	if (unlikely(s->raw)) {
		__safe_report("%s kept a socket buffer it had to move on\n", who);
		kfree_skb(__safe_skb_take(s));
	}
#endif
}

/* Declare an owned handle @name, freed at scope end unless it was moved on. */
#define SAFE_SKB(name)	struct safe_skb name __cleanup(__safe_skb_scope_drop)

/* A bounded SPSC ring of owned buffers. */
struct safe_skb_ring {
	struct sk_buff **slots;
	u32 size;
	u32 head ____cacheline_aligned_in_smp;	/* written by the producer only */
	u32 tail ____cacheline_aligned_in_smp;	/* written by the consumer only */
};

/* Allocate an empty ring of @size slots, a power of two; Err(-EINVAL/-ENOMEM). */
static inline __must_check struct safe_result safe_skb_ring_init(struct safe_skb_ring *r, u32 size)
{
	if (!size || !is_power_of_2(size)) {
		pr_err("safe: ring size %u is not a power of two\n", size);
		return safe_err(-EINVAL);
	}
	r->slots = kvcalloc(size, sizeof(*r->slots), GFP_KERNEL);
	if (!r->slots)
		return safe_err(-ENOMEM);
	r->size = size;
	r->head = 0;
	r->tail = 0;
	return safe_ok();
}

/* Slots in use, as the producer or consumer sees them now. */
static __always_inline u32 safe_skb_ring_used(const struct safe_skb_ring *r)
{
	return READ_ONCE(r->head) - READ_ONCE(r->tail);
}

static __always_inline u32 safe_skb_ring_free_slots(const struct safe_skb_ring *r)
{
	return r->size - safe_skb_ring_used(r);
}

static __always_inline u32 safe_skb_ring_size(const struct safe_skb_ring *r)
{
	return r->size;
}

/*
 * safe_skb_ring_push - producer: move @s into the ring. Err(-ENOSPC) when full and
 * Err(-EINVAL) for a moved-from handle; on Err the caller still owns @s.
 */
static __always_inline __must_check struct safe_result safe_skb_ring_push(struct safe_skb_ring *r,
							     struct safe_skb *s)
{
	u32 head = r->head;
	u32 slot = head & (r->size - 1);

	if (unlikely(!__safe_skb_owned(s)))
		return safe_err(-EINVAL);
	/* Pairs with the consumer's release of tail: the slot it left is free to reuse. */
	if (head - smp_load_acquire(&r->tail) >= r->size)
		return safe_err(-ENOSPC);
	if (unlikely(!safe_index_ok(slot, r->size)))
		return safe_err(-EINVAL);
	r->slots[slot] = __safe_skb_take(s);
	/* Publishes the slot before the new head; pairs with the consumer's acquire. */
	smp_store_release(&r->head, head + 1);
	return safe_ok();
}

/* Consumer: move the oldest buffer out; a handle with raw == NULL when the ring is empty. */
static __always_inline struct safe_skb safe_skb_ring_pop(struct safe_skb_ring *r)
{
	u32 tail = r->tail;
	u32 slot = tail & (r->size - 1);
	struct safe_skb s = { .raw = NULL };

	/* Pairs with the producer's release of head: the slot is filled. */
	if (tail == smp_load_acquire(&r->head))
		return s;
	if (unlikely(!safe_index_ok(slot, r->size)))
		return s;
	s.raw = r->slots[slot];
	/* The slot is read before the producer may see it free. */
	smp_store_release(&r->tail, tail + 1);
	return s;
}

/*
 * safe_skb_ring_drain - consumer: free every buffer still in the ring; returns how many.
 * The caller keeps the producer out.
 */
static inline u32 safe_skb_ring_drain(struct safe_skb_ring *r)
{
	u32 freed = 0;

	for (;;) {
		struct safe_skb s = safe_skb_ring_pop(r);

		if (!safe_skb_is_some(&s))
			return freed;
		safe_skb_free(&s);
		freed++;
	}
}

/* Free the ring and what it still holds; the ring is empty (zeroed) afterwards. */
static inline void safe_skb_ring_drop(struct safe_skb_ring *r)
{
	if (!r->slots)
		return;
	safe_skb_ring_drain(r);
	kvfree(r->slots);
	r->slots = NULL;
	r->size = 0;
}

#endif /* SAFE_SKB_H */

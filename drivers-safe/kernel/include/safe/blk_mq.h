/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/blk_mq.h - the blk-mq abstraction: typed ops, adapters, owned requests, disks.
 *
 * Stands for Rust-for-Linux's kernel::block::mq:
 *  - Operations (#[vtable] trait)   -> a typed ops table, checked at registration
 *  - OperationsVTable<T> callbacks  -> adapters generated per driver by SAFE_BLK_MQ_ADAPTERS;
 *    they are monomorphised like Rust's generics: each calls the driver's op through a const
 *    table, which the compiler turns into a direct call, and converts the driver's result
 *    with the one bridge in error.h
 *  - ARef<Request<T>> + RequestDataWrapper::refcount -> struct safe_rq and the count in the
 *    layer's part of the request PDU: 0 = the block layer owns the request, 1 = the driver
 *    owns it with no handle, each live handle adds 1. The queue_rq adapter sets 2 (in flight
 *    plus the handle it passes). Ending (or requeueing) a request is a compare-exchange
 *    2 -> 0. While another handle lives (a timeout handler's, say) the end is recorded and
 *    carried out by whichever handle drops last, so no request is left owned by nobody;
 *    Rust hands the handle back to its caller instead, who must try again.
 *  - TagSet<T>, GenDisk<T>/GenDiskBuilder -> struct safe_tag_set, struct safe_gendisk
 *  - the hrtimer embedded in a request (HasHrTimer for Request) -> safe_rq_timer_start()
 *  - bio/segment iterators and Page::{read,write}_raw -> safe_rq_for_each_segment()
 *
 * Invariants: a struct safe_rq with raw != NULL is one counted handle to a started request
 * of this driver; functions that take a struct safe_rq * by "move" leave raw == NULL. A
 * struct safe_tag_set/safe_gendisk is either empty (zeroed) or fully set up, and its drop
 * function turns it back to empty.
 *
 * Switch: -DSAFE_NO_REQ_REFCOUNT removes the per-request count (handles are still moved,
 * ending skips the compare-exchange).
 */
#ifndef SAFE_BLK_MQ_H
#define SAFE_BLK_MQ_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hrtimer.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <safe/bounds.h>
#include <safe/compat.h>
#include <safe/error.h>

/* The layer's part of every request PDU, in front of the driver's own PDU. */
struct safe_rq_hdr {
	atomic_t refs;
	struct hrtimer timer;
	unsigned long end_pending;	/* bit 0: an end waits for the last handle's drop */
	blk_status_t end_status;	/* ...with this status */
	bool end_requeue;		/* ...or as a requeue */
};

/* ARef<Request>: one counted handle to a started request. */
struct safe_rq {
	struct request *raw;
};

static __always_inline struct safe_rq_hdr *__safe_rq_hdr(struct request *rq)
{
	/* SAFETY: every request of a safe tag set has a struct safe_rq_hdr at the PDU start. */
	return blk_mq_rq_to_pdu(rq);
}

/* Layer-internal: give the request back to the block layer, ended or requeued. */
static inline void __safe_rq_finish(struct request *rq, blk_status_t status, bool requeue)
{
	if (requeue)
		blk_mq_requeue_request(rq, true);
	else
		blk_mq_end_request(rq, status);
}

#ifndef SAFE_NO_REQ_REFCOUNT
static __always_inline void __safe_rq_refs_set(struct request *rq, int refs)
{
	atomic_set(&__safe_rq_hdr(rq)->refs, refs);
}

static __always_inline bool __safe_rq_refs_try_end(struct request *rq)
{
	int expected = 2;

	return atomic_try_cmpxchg_relaxed(&__safe_rq_hdr(rq)->refs, &expected, 0);
}

static __always_inline int __safe_rq_refs_read(struct request *rq)
{
	return atomic_read(&__safe_rq_hdr(rq)->refs);
}

/*
 * Give up handle @r without ending the request (ARef drop). The last handle of a request
 * whose end was deferred (safe_rq_end with another handle live) carries the end out.
 */
static __always_inline void safe_rq_drop(struct safe_rq *r)
{
	struct request *rq = r->raw;
	struct safe_rq_hdr *hdr = __safe_rq_hdr(rq);
	int refs = atomic_dec_return(&hdr->refs);	/* ordered with end_pending */

	WARN_ONCE(refs < 1, "safe: dropped a request handle that was not live (%d)\n", refs);
	r->raw = NULL;
	if (unlikely(refs == 1 && test_bit(0, &hdr->end_pending)) &&
	    test_and_clear_bit(0, &hdr->end_pending)) {
		atomic_set(&hdr->refs, 0);
		__safe_rq_finish(rq, hdr->end_status, hdr->end_requeue);
	}
}

/* Layer-internal: end or requeue now if @r is the only handle, else at the last drop. */
static inline void __safe_rq_end(struct safe_rq *r, blk_status_t status, bool requeue)
{
	struct request *rq = r->raw;
	struct safe_rq_hdr *hdr = __safe_rq_hdr(rq);

	if (likely(__safe_rq_refs_try_end(rq))) {
		r->raw = NULL;
		__safe_rq_finish(rq, status, requeue);
		return;
	}
	hdr->end_status = status;
	hdr->end_requeue = requeue;
	set_bit(0, &hdr->end_pending);
	/* The flag is seen by the handle whose drop brings the count to one. */
	smp_mb__after_atomic();
	safe_rq_drop(r);
}
#else
static __always_inline void __safe_rq_refs_set(struct request *rq, int refs)
{
}

static __always_inline bool __safe_rq_refs_try_end(struct request *rq)
{
	return true;
}

static __always_inline int __safe_rq_refs_read(struct request *rq)
{
	return 2;
}

static __always_inline void safe_rq_drop(struct safe_rq *r)
{
	r->raw = NULL;
}

static inline void __safe_rq_end(struct safe_rq *r, blk_status_t status, bool requeue)
{
	struct request *rq = r->raw;

	r->raw = NULL;
	__safe_rq_finish(rq, status, requeue);
}
#endif /* SAFE_NO_REQ_REFCOUNT */

/*
 * safe_rq_end - end the request of handle @r with @status (Request::end). Moves @r. If
 * another handle lives, the request ends when the last one is dropped.
 */
static inline __must_check struct safe_result safe_rq_end(struct safe_rq *r, struct safe_result status)
{
	__safe_rq_end(r, safe_to_blk_status(status), false);
	return safe_ok();
}

/*
 * safe_rq_requeue - give the request of handle @r back to the block layer to be issued
 * again (after a controller reset aborted it). Moves @r; deferred as safe_rq_end.
 */
static inline void safe_rq_requeue(struct safe_rq *r)
{
	__safe_rq_end(r, BLK_STS_OK, true);
}

/* Is the request still with the driver, not yet completed (reaped or cancelled)? */
static __always_inline bool safe_rq_in_flight(const struct safe_rq *r)
{
	return blk_mq_rq_state(r->raw) == MQ_RQ_IN_FLIGHT;
}

/* Did the submitter ask that the request not be retried (REQ_FAILFAST_*)? */
static __always_inline bool safe_rq_noretry(const struct safe_rq *r)
{
	return blk_noretry_request(r->raw);
}

/*
 * safe_rq_complete - complete @r through the block layer's completion path
 * (Request::complete): the driver's complete op gets the handle back, on the submitting
 * CPU's softirq or right here. Moves @r.
 */
static __always_inline void safe_rq_complete(struct safe_rq *r)
{
	struct request *rq = r->raw;

	r->raw = NULL;
	blk_mq_complete_request(rq);
}

/*
 * safe_rq_timer_start - start the request's own hrtimer; when it fires, the driver's
 * timer op gets the handle back. Moves @r; fails, leaving @r live, if the driver has no
 * timer op.
 */
static __always_inline __must_check struct safe_result safe_rq_timer_start(struct safe_rq *r, u64 nsec)
{
	struct hrtimer *timer = &__safe_rq_hdr(r->raw)->timer;

	if (unlikely(!timer->function)) {
		WARN_ONCE(1, "safe: request timer started without a timer op\n");
		return safe_err(-EINVAL);
	}
	r->raw = NULL;
	hrtimer_start(timer, ns_to_ktime(nsec), HRTIMER_MODE_REL);
	return safe_ok();
}

/* What a request asks for. */
enum safe_rq_op {
	SAFE_RQ_READ,
	SAFE_RQ_WRITE,
	SAFE_RQ_FLUSH,
	SAFE_RQ_UNSUPPORTED,
};

static __always_inline enum safe_rq_op safe_rq_op(const struct safe_rq *r)
{
	switch (req_op(r->raw)) {
	case REQ_OP_READ:
		return SAFE_RQ_READ;
	case REQ_OP_WRITE:
		return SAFE_RQ_WRITE;
	case REQ_OP_FLUSH:
		return SAFE_RQ_FLUSH;
	default:
		return SAFE_RQ_UNSUPPORTED;
	}
}

/* Index of the hardware queue the request was issued on. */
static __always_inline unsigned int safe_rq_hw_queue(const struct safe_rq *r)
{
	return r->raw->mq_hctx->queue_num;
}

/* The request's tag, unique among the live requests of its hardware queue. */
static __always_inline unsigned int safe_rq_tag(const struct safe_rq *r)
{
	return r->raw->tag;
}

/* Does the request ask for forced unit access? */
static __always_inline bool safe_rq_fua(const struct safe_rq *r)
{
	return r->raw->cmd_flags & REQ_FUA;
}

/* First sector (512 bytes) of the request. */
static __always_inline u64 safe_rq_sector(const struct safe_rq *r)
{
	return blk_rq_pos(r->raw);
}

/* Data bytes of the request. */
static __always_inline unsigned int safe_rq_bytes(const struct safe_rq *r)
{
	return blk_rq_bytes(r->raw);
}

/*
 * safe_rq_for_each_segment - call @fn(@ctx, slice) for each data segment of request @r,
 * in order, with the segment's memory mapped as a bounds-checked slice; stop at the first
 * error. Yields the first error or Ok. @fn is called directly (a typed function).
 */
#define safe_rq_for_each_segment(r, fn, ctx)				\
	({								\
		struct safe_result __seg_res = safe_ok();		\
		struct bio *__seg_bio;					\
		struct bvec_iter __seg_it;				\
		struct bio_vec __seg_bv;				\
									\
		__rq_for_each_bio(__seg_bio, (r)->raw) {		\
			bio_for_each_segment(__seg_bv, __seg_bio, __seg_it) { \
				/* SAFETY: a mapped bvec is valid for bv_len bytes until unmapped. */ \
				void *__seg_p = bvec_kmap_local(&__seg_bv); \
									\
				__seg_res = fn(ctx, __safe_slice_from_raw(__seg_p, \
									  __seg_bv.bv_len)); \
				kunmap_local(__seg_p);			\
				if (safe_is_err(__seg_res))		\
					break;				\
			}						\
			if (safe_is_err(__seg_res))			\
				break;					\
		}							\
		__seg_res;						\
	})

/* TagSet<T>: the tags and requests of a driver's queues. */
struct safe_tag_set {
	struct blk_mq_tag_set raw;
	struct blk_mq_ops ops;		/* the adapters of the ops the driver has (#[vtable]) */
	unsigned int nr_poll_queues;	/* the last ones of the hw queues */
	struct pci_dev *affinity_pdev;	/* map queues by its irq affinity, if set */
};

/* GenDisk<T>: a registered disk; owns one reference to the queue data. */
struct safe_gendisk {
	struct gendisk *raw;
	void (*put_queue_data)(void *foreign);
};

/* What a disk looks like; checked by the adapters' disk_add before anything is set up. */
struct safe_disk_params {
	const char *name_prefix;	/* disk name: <prefix><index> */
	unsigned int index;
	unsigned int logical_block_size;	/* 512..PAGE_SIZE, power of two */
	u64 capacity_sectors;		/* in 512-byte sectors */
	bool write_cache;		/* announce a volatile cache: flushes reach queue_rq */
	bool fua;			/* with write_cache: FUA writes reach queue_rq */
	struct device *parent;		/* sysfs parent of the disk, or NULL */
	unsigned int max_hw_sectors;	/* 0 = block layer default */
	unsigned short max_segments;	/* 0 = block layer default */
	unsigned long virt_boundary_mask;	/* 0 = none */
};

/* Tag set sizing, checked at registration. */
struct safe_tag_set_params {
	unsigned int nr_hw_queues;
	unsigned int queue_depth;
	unsigned int nr_poll_queues;	/* of nr_hw_queues, polled (io_uring hipri); 0 = none */
	unsigned int timeout_sec;	/* request timeout; 0 = block layer default */
	struct pci_dev *affinity_pdev;	/* map interrupt-driven queues by its vectors */
};

static inline void safe_tag_set_drop(struct safe_tag_set *ts)
{
	if (ts->raw.ops) {
		blk_mq_free_tag_set(&ts->raw);
		ts->raw.ops = NULL;
	}
}

static inline void safe_gendisk_drop(struct safe_gendisk *gd)
{
	if (gd->raw) {
		void *foreign = gd->raw->queue->queuedata;

		del_gendisk(gd->raw);
		put_disk(gd->raw);
		gd->raw = NULL;
		gd->put_queue_data(foreign);
	}
}

/* Layer-internal: the part of tag set registration that does not depend on the driver. */
static inline __must_check struct safe_result __safe_tag_set_init(struct safe_tag_set *ts,
						     const struct blk_mq_ops *ops,
						     unsigned int cmd_size,
						     const struct safe_tag_set_params *p)
{
	if (!p->nr_hw_queues || !p->queue_depth || p->queue_depth > BLK_MQ_MAX_DEPTH ||
	    p->nr_poll_queues >= p->nr_hw_queues) {
		pr_err("safe: tag set needs 1.. hw queues, fewer polled, depth 1..%d (got %u, %u, %u)\n",
		       BLK_MQ_MAX_DEPTH, p->nr_hw_queues, p->nr_poll_queues, p->queue_depth);
		return safe_err(-EINVAL);
	}
	memset(&ts->raw, 0, sizeof(ts->raw));
	ts->raw.ops = ops;
	ts->raw.nr_hw_queues = p->nr_hw_queues;
	ts->raw.queue_depth = p->queue_depth;
	ts->raw.numa_node = NUMA_NO_NODE;
	ts->raw.cmd_size = cmd_size;
	ts->raw.flags = COMPAT_BLK_MQ_F_SHOULD_MERGE;
	ts->raw.nr_maps = p->nr_poll_queues ? HCTX_MAX_TYPES : 1;
	ts->raw.timeout = p->timeout_sec * HZ;
	ts->nr_poll_queues = p->nr_poll_queues;
	ts->affinity_pdev = p->affinity_pdev;
	if (safe_is_err(safe_from_errno(blk_mq_alloc_tag_set(&ts->raw)))) {
		ts->raw.ops = NULL;
		return safe_err(-ENOMEM);
	}
	return safe_ok();
}

/* Layer-internal: map CPUs to hw queues: interrupt-driven ones first, then polled ones. */
static inline void __safe_tag_set_map_queues(struct blk_mq_tag_set *set)
{
	struct safe_tag_set *ts = container_of(set, struct safe_tag_set, raw);
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];

	map->nr_queues = set->nr_hw_queues - ts->nr_poll_queues;
	map->queue_offset = 0;
	if (ts->affinity_pdev)
		compat_blk_mq_map_queues(map, ts->affinity_pdev);
	else
		blk_mq_map_queues(map);
	if (set->nr_maps == 1)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = ts->nr_poll_queues;
	map->queue_offset = set->nr_hw_queues - ts->nr_poll_queues;
	blk_mq_map_queues(map);
}

/* One more handle to a request the driver owns (refs >= 1); false if it does not own it. */
static __always_inline bool __safe_rq_refs_get(struct request *rq)
{
#ifndef SAFE_NO_REQ_REFCOUNT
	return atomic_add_unless(&__safe_rq_hdr(rq)->refs, 1, 0);
#else
	return true;
#endif
}

/*
 * safe_tag_set_rq_from_tag - a handle to the in-flight request @tag of hw queue @hw_queue
 * (TagSet::tag_to_rq), for completions the hardware reports by tag. Fails, touching
 * nothing, if the queue or tag is out of range or the driver does not own that request.
 */
static __always_inline __must_check struct safe_result safe_tag_set_rq_from_tag(struct safe_tag_set *ts,
								   unsigned int hw_queue,
								   unsigned int tag,
								   struct safe_rq *out)
{
	struct request *rq;

	if (!safe_index_ok(hw_queue, ts->raw.nr_hw_queues) ||
	    !safe_index_ok(tag, ts->raw.queue_depth))
		return safe_err(-ERANGE);
	rq = blk_mq_tag_to_rq(ts->raw.tags[hw_queue], tag);
	if (unlikely(!rq || !__safe_rq_refs_get(rq))) {
		pr_err_ratelimited("safe: no in-flight request for tag %u on queue %u\n",
				   tag, hw_queue);
		return safe_err(-ENOENT);
	}
	out->raw = rq;
	return safe_ok();
}

/* What safe_tag_set_busy_iter() calls for each request: a handle to it. */
typedef void (safe_busy_fn)(void *ctx, struct safe_rq rq);

struct __safe_busy_iter {
	safe_busy_fn *fn;
	void *ctx;
};

static inline bool __safe_busy_iter_fn(struct request *rq, void *data)
{
	struct __safe_busy_iter *it = data;

	/* One already completed (its completion queued, not yet run) is not the driver's. */
	if (blk_mq_rq_state(rq) != MQ_RQ_IN_FLIGHT)
		return true;
	if (__safe_rq_refs_get(rq))
		it->fn(it->ctx, (struct safe_rq){ .raw = rq });
	return true;
}

/*
 * safe_tag_set_busy_iter - call @fn(@ctx, handle) for each in-flight request the driver
 * owns, skipping completed ones (to abort them all on a controller reset, with the
 * completion sources stopped), then wait until the completions it started have run. @fn
 * gets one handle per request and must complete, end or drop it.
 */
static inline void safe_tag_set_busy_iter(struct safe_tag_set *ts, safe_busy_fn *fn,
					  void *ctx)
{
	struct __safe_busy_iter it = { .fn = fn, .ctx = ctx };

	blk_mq_tagset_busy_iter(&ts->raw, __safe_busy_iter_fn, &it);
	blk_mq_tagset_wait_completed_request(&ts->raw);
}

/* Stop (and wait out) queue_rq calls on the disk's queue; undo with unquiesce. */
static inline void safe_gendisk_quiesce(struct safe_gendisk *gd)
{
	if (gd->raw)
		blk_mq_quiesce_queue(gd->raw->queue);
}

static inline void safe_gendisk_unquiesce(struct safe_gendisk *gd)
{
	if (gd->raw)
		blk_mq_unquiesce_queue(gd->raw->queue);
}

/* The device behind the disk is gone for good: fail new I/O at once. */
static inline void safe_gendisk_mark_dead(struct safe_gendisk *gd)
{
	if (gd->raw)
		blk_mark_disk_dead(gd->raw);
}

/* Layer-internal: allocate the disk with @p's limits (the kernel's form is in compat.h). */
static inline struct gendisk *__safe_alloc_disk(struct safe_tag_set *ts, void *foreign,
						const struct safe_disk_params *p)
{
	const struct compat_disk_limits lim = {
		.logical_block_size = p->logical_block_size,
		.max_hw_sectors = p->max_hw_sectors,
		.max_segments = p->max_segments,
		.virt_boundary_mask = p->virt_boundary_mask,
		.write_cache = p->write_cache,
		.fua = p->fua,
	};

	return compat_alloc_disk(&ts->raw, &lim, foreign);
}

/* Layer-internal: create and register a disk whose queuedata is @foreign. */
static inline __must_check struct safe_result __safe_gendisk_add(struct safe_gendisk *gd,
						    struct safe_tag_set *ts,
						    const struct block_device_operations *fops,
						    void *foreign, void (*put)(void *),
						    const struct safe_disk_params *p)
{
	struct gendisk *disk;
	int ret;

	if (p->logical_block_size < SECTOR_SIZE || p->logical_block_size > PAGE_SIZE ||
	    !is_power_of_2(p->logical_block_size)) {
		pr_err("safe: logical block size %u is not a power of two in 512..%lu\n",
		       p->logical_block_size, PAGE_SIZE);
		return safe_err(-EINVAL);
	}
	disk = __safe_alloc_disk(ts, foreign, p);
	if (IS_ERR(disk))
		return safe_err(PTR_ERR(disk));
	disk->fops = fops;
	if (snprintf(disk->disk_name, DISK_NAME_LEN, "%s%u", p->name_prefix, p->index) >=
	    DISK_NAME_LEN) {
		pr_err("safe: disk name %s%u is longer than %d bytes\n", p->name_prefix,
		       p->index, DISK_NAME_LEN - 1);
		put_disk(disk);
		return safe_err(-EINVAL);
	}
	set_capacity(disk, p->capacity_sectors);
	ret = device_add_disk(p->parent, disk, NULL);
	if (ret) {
		put_disk(disk);
		return safe_err(ret);
	}
	gd->raw = disk;
	gd->put_queue_data = put;
	return safe_ok();
}

/*
 * SAFE_BLK_MQ_DECLARE(name, qdata, pdu_type): the typed ops table of a driver.
 * @qdata is a struct tag with SAFE_DEFINE_ARC (the queue data, borrowed in callbacks);
 * @pdu_type is the driver's per-request data. Declares:
 *	struct name_ops { queue_rq, complete, timer }	the typed vtable (timer optional)
 *		optional for hardware drivers: commit_rqs(q, hw_queue) rings a doorbell held
 *		back by last == false; poll(q, hw_queue) reaps a polled queue, returns how
 *		many it completed; timeout(q, &rq) gets a handle to a timed-out request and
 *		completes it (BLK_EH_DONE) or leaves it to the adapter (BLK_EH_RESET_TIMER)
 * queue_rq gets one handle: on Ok it has ended, completed, timed or kept the request; on
 * Err it must still hold the handle, which the adapter hands back to the block layer.
 *	name_pdu(r)					the driver's PDU of a request
 *	name_rq_queue_data(r)				the queue data a request belongs to
 */
#define SAFE_BLK_MQ_DECLARE(name, qdata, pdu_type)			\
	struct name##_ops {						\
		struct safe_result (*queue_rq)(struct qdata *q, struct safe_rq rq, bool last); \
		void (*complete)(struct safe_rq rq);			\
		void (*timer)(struct safe_rq rq);			\
		void (*commit_rqs)(struct qdata *q, unsigned int hw_queue); \
		int (*poll)(struct qdata *q, unsigned int hw_queue);	\
		enum blk_eh_timer_return (*timeout)(struct qdata *q, struct safe_rq *rq); \
	};								\
									\
	struct name##_pdu_wrap {					\
		struct safe_rq_hdr hdr;					\
		pdu_type drv;						\
	};								\
									\
	static __always_inline pdu_type *name##_pdu(const struct safe_rq *r) \
	{								\
		/* SAFETY: requests of this tag set carry a name##_pdu_wrap. */ \
		struct name##_pdu_wrap *w = blk_mq_rq_to_pdu(r->raw);	\
									\
		return &w->drv;						\
	}								\
									\
	static __always_inline struct qdata *name##_rq_queue_data(const struct safe_rq *r) \
	{								\
		return qdata##_arc_borrow_foreign(r->raw->q->queuedata); \
	}

/*
 * SAFE_BLK_MQ_ADAPTERS(name, qdata, typed_ops): the C callbacks the kernel calls, generic
 * over the driver (as OperationsVTable<T>), for the const table @typed_ops of type
 * struct name_ops. Defines:
 *	name_tag_set_init(ts, params)		check @typed_ops, allocate the tag set; like
 *						#[vtable]'s HAS_* constants, optional ops the
 *						driver lacks stay NULL in the kernel's table
 *	name_disk_add(gd, ts, q, params)	register a disk; moves the reference @q into it
 */
#define SAFE_BLK_MQ_ADAPTERS(name, qdata, typed_ops)			\
	static __safe_adapter blk_status_t name##_queue_rq_adapter(struct blk_mq_hw_ctx *hctx, \
						    const struct blk_mq_queue_data *bd) \
	{								\
		struct safe_rq rq = { .raw = bd->rq };			\
		struct safe_result res;					\
									\
		__safe_rq_refs_set(bd->rq, 2);				\
		blk_mq_start_request(bd->rq);				\
		res = typed_ops.queue_rq(qdata##_arc_borrow_foreign(hctx->queue->queuedata), \
					 rq, bd->last);			\
		if (safe_is_err(res) && !__safe_rq_refs_try_end(bd->rq))	\
			WARN_ONCE(1, "safe: queue_rq failed but kept request handles\n"); \
		return safe_to_blk_status(res);				\
	}								\
									\
	static __safe_adapter void name##_complete_adapter(struct request *rq)	\
	{								\
		typed_ops.complete((struct safe_rq){ .raw = rq });	\
	}								\
									\
	static __safe_adapter enum hrtimer_restart name##_timer_adapter(struct hrtimer *t) \
	{								\
		struct safe_rq_hdr *hdr = container_of(t, struct safe_rq_hdr, timer); \
									\
		typed_ops.timer((struct safe_rq){ .raw = blk_mq_rq_from_pdu(hdr) }); \
		return HRTIMER_NORESTART;				\
	}								\
									\
	static int name##_init_request_adapter(struct blk_mq_tag_set *set, \
					       struct request *rq,	\
					       unsigned int hctx_idx,	\
					       compat_numa_node_t numa_node) \
	{								\
		struct safe_rq_hdr *hdr = __safe_rq_hdr(rq);		\
									\
		atomic_set(&hdr->refs, 0);				\
		hrtimer_setup(&hdr->timer, name##_timer_adapter,	\
			      CLOCK_MONOTONIC, HRTIMER_MODE_REL);	\
		return 0;						\
	}								\
									\
	static __safe_adapter void name##_commit_rqs_adapter(struct blk_mq_hw_ctx *hctx) \
	{								\
		if (typed_ops.commit_rqs)				\
			typed_ops.commit_rqs(qdata##_arc_borrow_foreign(hctx->queue->queuedata), \
					     hctx->queue_num);		\
	}								\
									\
	static __safe_adapter int name##_poll_adapter(struct blk_mq_hw_ctx *hctx,	\
				       struct io_comp_batch *iob)	\
	{								\
		if (!typed_ops.poll)					\
			return 0;					\
		return typed_ops.poll(qdata##_arc_borrow_foreign(hctx->queue->queuedata), \
				      hctx->queue_num);			\
	}								\
									\
	static __safe_adapter enum blk_eh_timer_return name##_timeout_adapter(struct request *rq) \
	{								\
		struct safe_rq r = { .raw = rq };			\
		enum blk_eh_timer_return ret;				\
									\
		if (!typed_ops.timeout || !__safe_rq_refs_get(rq))	\
			return BLK_EH_RESET_TIMER;			\
		ret = typed_ops.timeout(qdata##_arc_borrow_foreign(rq->q->queuedata), &r); \
		if (r.raw)						\
			safe_rq_drop(&r);				\
		return ret;						\
	}								\
									\
	static const struct blk_mq_ops name##_blk_mq_ops = {		\
		.queue_rq = name##_queue_rq_adapter,			\
		.commit_rqs = name##_commit_rqs_adapter,		\
		.complete = name##_complete_adapter,			\
		.poll = name##_poll_adapter,				\
		.timeout = name##_timeout_adapter,			\
		.init_request = name##_init_request_adapter,		\
		.map_queues = __safe_tag_set_map_queues,		\
	};								\
									\
	static const struct block_device_operations name##_fops = {	\
		.owner = THIS_MODULE,					\
	};								\
									\
	static inline __must_check struct safe_result name##_tag_set_init(struct safe_tag_set *ts, \
							     const struct safe_tag_set_params *p) \
	{								\
		if (!typed_ops.queue_rq || !typed_ops.complete) {	\
			pr_err("safe: %s ops table lacks queue_rq or complete\n", #name); \
			return safe_err(-EINVAL);			\
		}							\
		ts->ops = name##_blk_mq_ops;				\
		if (!typed_ops.commit_rqs)				\
			ts->ops.commit_rqs = NULL;			\
		if (!typed_ops.poll)					\
			ts->ops.poll = NULL;				\
		if (!typed_ops.timeout)					\
			ts->ops.timeout = NULL;				\
		return __safe_tag_set_init(ts, &ts->ops,		\
					   sizeof(struct name##_pdu_wrap), p); \
	}								\
									\
	static void name##_put_queue_data(void *foreign)		\
	{								\
		qdata##_arc_put(qdata##_arc_from_foreign(foreign));	\
	}								\
									\
	static inline __must_check struct safe_result name##_disk_add(struct safe_gendisk *gd, \
							 struct safe_tag_set *ts, \
							 struct qdata##_arc **q, \
							 const struct safe_disk_params *p) \
	{								\
		struct safe_result res;					\
									\
		res = __safe_gendisk_add(gd, ts, &name##_fops,		\
					 qdata##_arc_into_foreign(*q),	\
					 name##_put_queue_data, p);	\
		if (safe_is_ok(res))					\
			*q = NULL;					\
		return res;						\
	}

#endif /* SAFE_BLK_MQ_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rawnull.h - shared structs of the raw null block twin.
 *
 * Mirrors drivers-safe/nullblk/safenull.h field for field; only the safe layer differs.
 */
#ifndef RAWNULL_H
#define RAWNULL_H

#include <linux/blk-mq.h>
#include <linux/hrtimer.h>
#include <linux/xarray.h>

/* How a request is completed (module parameter irqmode). */
enum rawnull_irqmode {
	RAWNULL_IRQ_NONE = 0,		/* end it in queue_rq */
	RAWNULL_IRQ_SOFTIRQ = 1,	/* blk_mq_complete_request: softirq on the submitter */
	RAWNULL_IRQ_TIMER = 2,		/* end it from an hrtimer after completion_nsec */
};

/* Per-request data (the request PDU). */
struct rawnull_cmd {
	struct hrtimer timer;
	blk_status_t status;		/* result of the data transfer, for deferred ends */
};

/* One /dev/rawnull<N>. */
struct rawnull_dev {
	struct rawnull_dev *next;	/* module's device list */
	unsigned int index;
	u64 size_bytes;
	enum rawnull_irqmode irqmode;
	u64 completion_nsec;
	bool memory_backed;
	struct xarray pages;		/* page index -> struct page *, under the xa_lock */
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
};

#endif /* RAWNULL_H */

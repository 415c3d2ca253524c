/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safenull.h - shared structs of the safe null block twin.
 *
 * Mirrors drivers-raw/nullblk/rawnull.h field for field; the kernel objects are the safe
 * layer's owned types, and the request hrtimer lives in the layer's part of the PDU.
 */
#ifndef SAFENULL_H
#define SAFENULL_H

#include <safe/arc.h>
#include <safe/blk_mq.h>
#include <safe/error.h>
#include <safe/owned.h>
#include <safe/page.h>
#include <safe/xarray.h>

/* How a request is completed (module parameter irqmode). */
enum safenull_irqmode {
	SAFENULL_IRQ_NONE = 0,		/* end it in queue_rq */
	SAFENULL_IRQ_SOFTIRQ = 1,	/* complete it: softirq on the submitter */
	SAFENULL_IRQ_TIMER = 2,		/* end it from the request's timer after completion_nsec */
};

/* Per-request data (the driver's part of the request PDU). */
struct safenull_cmd {
	struct safe_result status;	/* result of the data transfer, for deferred ends */
};

/* Page index -> owned page. */
SAFE_DEFINE_XARRAY(safenull_pages, safe_page, safe_page_free);

struct safenull_dev_arc;

/* One /dev/safenull<N>, shared (Arc) by the module's list and the disk's queue. */
struct safenull_dev {
	struct safenull_dev_arc *next;	/* module's device list: owned reference */
	unsigned int index;
	u64 size_bytes;
	enum safenull_irqmode irqmode;
	u64 completion_nsec;
	bool memory_backed;
	struct safenull_pages pages;
	struct safe_tag_set tag_set;
	struct safe_gendisk disk;
};

static void safenull_dev_drop(struct safenull_dev *dev);
SAFE_DEFINE_ARC(safenull_dev);
SAFE_DEFINE_DROP(safenull_dev_arc, safenull_dev_arc_put);

SAFE_BLK_MQ_DECLARE(safenull_mq, safenull_dev, struct safenull_cmd);

#endif /* SAFENULL_H */

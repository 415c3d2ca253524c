// SPDX-License-Identifier: GPL-2.0
/*
 * safenull - the safe twin of the null block driver: the algorithm of rawnull
 * (drivers-raw/nullblk), written on the safe layer, which carries out at run time the
 * checks and bookkeeping of the Rust-for-Linux abstractions. It touches the kernel only
 * through <safe/...>.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <safe/bounds.h>
#include <safe/checked.h>
#include "safenull.h"

#define SAFENULL_MAX_DEVICES	1024
#define SAFENULL_MAX_GB		(1U << 20)
#define SAFENULL_PAGE_GFP	(GFP_NOWAIT | __GFP_NOWARN | __GFP_ZERO)

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of devices (1..1024, default 1)");

static int submit_queues = -1;
module_param(submit_queues, int, 0444);
MODULE_PARM_DESC(submit_queues, "Hardware queues per device (default -1: one per online CPU)");

static unsigned int hw_queue_depth = 64;
module_param(hw_queue_depth, uint, 0444);
MODULE_PARM_DESC(hw_queue_depth, "Queue depth of each hardware queue (default 64)");

static unsigned int bs = 512;
module_param(bs, uint, 0444);
MODULE_PARM_DESC(bs, "Logical block size in bytes (512..4096, power of two, default 512)");

static unsigned int gb = 250;
module_param(gb, uint, 0444);
MODULE_PARM_DESC(gb, "Device size in GiB (default 250)");

static unsigned int irqmode = SAFENULL_IRQ_SOFTIRQ;
module_param(irqmode, uint, 0444);
MODULE_PARM_DESC(irqmode, "Completion: 0 in queue_rq, 1 softirq, 2 hrtimer (default 1)");

static ulong completion_nsec = 10000;
module_param(completion_nsec, ulong, 0444);
MODULE_PARM_DESC(completion_nsec, "hrtimer completion delay in ns for irqmode=2 (default 10000)");

static bool memory_backed;
module_param(memory_backed, bool, 0444);
MODULE_PARM_DESC(memory_backed, "Keep written data in memory (default 0: discard writes, leave read buffers alone)");

static unsigned int max_sectors;
module_param(max_sectors, uint, 0444);
MODULE_PARM_DESC(max_sectors, "Largest request in 512-byte sectors (default 0: block layer default)");

static struct safenull_dev_arc *safenull_devices;

/* Where a request's data goes: the page store under its lock, at byte position pos. */
struct safenull_xfer {
	struct safenull_pages_guard *pages;
	u64 pos;
	bool write;
};

/* Copy one segment to or from the page store, page by page. */
static struct safe_result safenull_copy_segment(struct safenull_xfer *x, struct safe_slice seg)
{
	size_t done = 0;

	while (done < seg.len) {
		unsigned long index = x->pos >> PAGE_SHIFT;
		size_t off = offset_in_page(x->pos);
		size_t left, room, chunk;
		struct safe_slice part;
		struct safe_page *page;

		if (!safe_checked_sub(seg.len, done, &left) ||
		    !safe_checked_sub(PAGE_SIZE, off, &room))
			return safe_err(-EIO);
		chunk = min(left, room);
		if (!safe_slice_sub(seg, done, chunk, &part))
			return safe_err(-EIO);
		page = safenull_pages_get(x->pages, index);
		if (x->write) {
			if (!page) {
				SAFE_OWNED(safe_page, fresh) = safe_page_alloc(SAFENULL_PAGE_GFP);

				if (!fresh)
					return safe_err(-ENOMEM);
				page = fresh;
				if (safe_is_err(safenull_pages_insert(x->pages, index, &fresh,
								      SAFENULL_PAGE_GFP)))
					return safe_err(-ENOMEM);
			}
			SAFE_TRY(safe_page_write(page, off, part));
		} else if (page) {
			SAFE_TRY(safe_page_read(page, off, part));
		} else {
			safe_slice_zero(part);
		}
		if (!safe_checked_add(done, chunk, &done) ||
		    !safe_checked_add(x->pos, chunk, &x->pos))
			return safe_err(-EIO);
	}
	return safe_ok();
}

/*
 * Move the request's data to or from the page store. Without memory backing the data is
 * left alone, as null_blk leaves it: writes are discarded, read buffers are not touched.
 */
static struct safe_result safenull_transfer(struct safenull_dev *dev, struct safe_rq *rq)
{
	struct safenull_xfer x = { .write = false };
	struct safe_result res;

	switch (safe_rq_op(rq)) {
	case SAFE_RQ_FLUSH:
		return safe_ok();
	case SAFE_RQ_WRITE:
		x.write = true;
		break;
	case SAFE_RQ_READ:
		break;
	case SAFE_RQ_UNSUPPORTED:
		return safe_err(-EOPNOTSUPP);
	}
	if (!dev->memory_backed)
		return safe_ok();

	if (!safe_checked_shl(safe_rq_sector(rq), SECTOR_SHIFT, &x.pos))
		return safe_err(-EIO);
	safe_xa_locked(safenull_pages, &dev->pages, guard) {
		x.pages = &guard;
		res = safe_rq_for_each_segment(rq, safenull_copy_segment, &x);
	}
	return res;
}

static struct safe_result safenull_queue_rq(struct safenull_dev *dev, struct safe_rq rq,
					    bool last)
{
	struct safenull_cmd *cmd = safenull_mq_pdu(&rq);
	struct safe_result status;

	status = safenull_transfer(dev, &rq);
	if (safe_is_errno(status, -ENOMEM))
		return status;
	cmd->status = status;
	switch (dev->irqmode) {
	case SAFENULL_IRQ_NONE:
		return safe_rq_end(&rq, status);
	case SAFENULL_IRQ_SOFTIRQ:
		safe_rq_complete(&rq);
		break;
	case SAFENULL_IRQ_TIMER:
		return safe_rq_timer_start(&rq, dev->completion_nsec);
	}
	return safe_ok();
}

/*
 * The complete and timer ops get the request's only handle, so ending it cannot fail; if
 * it does (a handle leaked), the layer has warned and the handle is given up.
 */
static void safenull_complete(struct safe_rq rq)
{
	struct safenull_cmd *cmd = safenull_mq_pdu(&rq);

	if (safe_is_err(safe_rq_end(&rq, cmd->status)))
		safe_rq_drop(&rq);
}

static void safenull_timer(struct safe_rq rq)
{
	struct safenull_cmd *cmd = safenull_mq_pdu(&rq);

	if (safe_is_err(safe_rq_end(&rq, cmd->status)))
		safe_rq_drop(&rq);
}

static const struct safenull_mq_ops safenull_ops = {
	.queue_rq = safenull_queue_rq,
	.complete = safenull_complete,
	.timer = safenull_timer,
};

SAFE_BLK_MQ_ADAPTERS(safenull_mq, safenull_dev, safenull_ops)

/* Destructor of the device value, run with its last reference. */
static void safenull_dev_drop(struct safenull_dev *dev)
{
	safenull_dev_arc_put(dev->next);
	safe_tag_set_drop(&dev->tag_set);
	safenull_pages_destroy(&dev->pages);
}

static struct safe_result safenull_dev_create(unsigned int index, unsigned int nr_hw_queues,
					      u64 size_bytes)
{
	SAFE_OWNED(safenull_dev_arc, owner) = safenull_dev_arc_new(GFP_KERNEL);
	SAFE_OWNED(safenull_dev_arc, queue_ref) = NULL;
	const struct safe_tag_set_params tag_params = {
		.nr_hw_queues = nr_hw_queues,
		.queue_depth = hw_queue_depth,
	};
	const struct safe_disk_params disk_params = {
		.name_prefix = "safenull",
		.index = index,
		.logical_block_size = bs,
		.capacity_sectors = size_bytes >> SECTOR_SHIFT,
		.write_cache = true,
		.max_hw_sectors = max_sectors,
	};
	struct safenull_dev *dev;

	if (!owner)
		return safe_err(-ENOMEM);
	dev = safenull_dev_arc_data(owner);
	safenull_pages_init(&dev->pages);
	dev->index = index;
	dev->size_bytes = size_bytes;
	dev->irqmode = irqmode;
	dev->completion_nsec = completion_nsec;
	dev->memory_backed = memory_backed;

	SAFE_TRY(safenull_mq_tag_set_init(&dev->tag_set, &tag_params));
	queue_ref = safenull_dev_arc_clone(owner);
	SAFE_TRY(safenull_mq_disk_add(&dev->disk, &dev->tag_set, &queue_ref, &disk_params));

	dev->next = safe_take(safenull_devices);
	safenull_devices = safe_take(owner);
	return safe_ok();
}

static void safenull_destroy_all(void)
{
	while (safenull_devices) {
		SAFE_OWNED(safenull_dev_arc, owner) = safe_take(safenull_devices);
		struct safenull_dev *dev = safenull_dev_arc_data(owner);

		safenull_devices = safe_take(dev->next);
		safe_gendisk_drop(&dev->disk);
	}
}

/* Check every parameter before anything is set up; name the first bad one. */
static struct safe_result safenull_check_params(u64 *size_bytes)
{
	if (nr_devices < 1 || nr_devices > SAFENULL_MAX_DEVICES) {
		pr_err("invalid nr_devices=%u: must be 1..%u\n", nr_devices, SAFENULL_MAX_DEVICES);
		return safe_err(-EINVAL);
	}
	if (submit_queues != -1 && (submit_queues < 1 || submit_queues > nr_cpu_ids)) {
		pr_err("invalid submit_queues=%d: must be 1..%u (or -1: one per online CPU)\n",
		       submit_queues, nr_cpu_ids);
		return safe_err(-EINVAL);
	}
	if (hw_queue_depth < 1 || hw_queue_depth > BLK_MQ_MAX_DEPTH) {
		pr_err("invalid hw_queue_depth=%u: must be 1..%d\n", hw_queue_depth,
		       BLK_MQ_MAX_DEPTH);
		return safe_err(-EINVAL);
	}
	if (bs < SECTOR_SIZE || bs > PAGE_SIZE || !is_power_of_2(bs)) {
		pr_err("invalid bs=%u: must be a power of two in 512..%lu\n", bs, PAGE_SIZE);
		return safe_err(-EINVAL);
	}
	if (gb < 1 || gb > SAFENULL_MAX_GB || !safe_checked_shl((u64)gb, 30, size_bytes)) {
		pr_err("invalid gb=%u: must be 1..%u\n", gb, SAFENULL_MAX_GB);
		return safe_err(-EINVAL);
	}
	if (max_sectors && max_sectors < PAGE_SIZE >> SECTOR_SHIFT) {
		pr_err("invalid max_sectors=%u: must be 0 or at least %lu\n", max_sectors,
		       PAGE_SIZE >> SECTOR_SHIFT);
		return safe_err(-EINVAL);
	}
	if (irqmode > SAFENULL_IRQ_TIMER) {
		pr_err("invalid irqmode=%u: must be 0, 1 or 2\n", irqmode);
		return safe_err(-EINVAL);
	}
	return safe_ok();
}

static int __init safenull_init(void)
{
	unsigned int nr_hw_queues, i;
	struct safe_result res;
	u64 size_bytes;

	res = safenull_check_params(&size_bytes);
	if (safe_is_err(res))
		return safe_to_errno(res);
	nr_hw_queues = submit_queues == -1 ? num_online_cpus() : submit_queues;
	for (i = 0; i < nr_devices; i++) {
		res = safenull_dev_create(i, nr_hw_queues, size_bytes);
		if (safe_is_err(res)) {
			pr_err("device safenull%u: setup failed (%d)\n", i, safe_to_errno(res));
			safenull_destroy_all();
			return safe_to_errno(res);
		}
	}
	pr_info("%u device(s), %u hw queue(s) of depth %u, bs %u, %u GiB, irqmode %u%s\n",
		nr_devices, nr_hw_queues, hw_queue_depth, bs, gb, irqmode,
		memory_backed ? ", memory backed" : "");
	return 0;
}

static void __exit safenull_exit(void)
{
	safenull_destroy_all();
}

module_init(safenull_init);
module_exit(safenull_exit);
MODULE_DESCRIPTION("twinbench safe null block twin");
MODULE_LICENSE("GPL");

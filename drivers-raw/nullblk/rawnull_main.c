// SPDX-License-Identifier: GPL-2.0
/*
 * rawnull - the raw twin of the null block driver: blk-mq, optionally memory backed,
 * written against the kernel API directly, as a C driver would be, and behaving as null_blk
 * does wherever a sample can see it. Its safe twin, safenull (drivers-safe/nullblk), runs the
 * same algorithm through the safe layer; drivers-safe/twins.tsv pairs their functions.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/xarray.h>
#include "../compat.h"
#include "rawnull.h"

#define RAWNULL_MAX_DEVICES	1024
#define RAWNULL_MAX_GB		(1U << 20)
#define RAWNULL_PAGE_GFP	(GFP_NOWAIT | __GFP_NOWARN | __GFP_ZERO)

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

static unsigned int irqmode = RAWNULL_IRQ_SOFTIRQ;
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

static struct rawnull_dev *rawnull_devices;

/* Copy one mapped segment to or from the page store, page by page. Called under xa_lock. */
static blk_status_t rawnull_copy_segment(struct rawnull_dev *dev, u8 *buf, unsigned int len,
					 u64 pos, bool write)
{
	while (len) {
		unsigned long index = pos >> PAGE_SHIFT;
		unsigned int off = offset_in_page(pos);
		unsigned int chunk = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page = xa_load(&dev->pages, index);

		if (write) {
			if (!page) {
				page = alloc_page(RAWNULL_PAGE_GFP);
				if (!page)
					return BLK_STS_RESOURCE;
				if (__xa_insert(&dev->pages, index, page, RAWNULL_PAGE_GFP)) {
					__free_page(page);
					return BLK_STS_RESOURCE;
				}
			}
			memcpy_to_page(page, off, buf, chunk);
		} else if (page) {
			memcpy_from_page(buf, page, off, chunk);
		} else {
			memset(buf, 0, chunk);
		}
		buf += chunk;
		pos += chunk;
		len -= chunk;
	}
	return BLK_STS_OK;
}

/*
 * Move the request's data to or from the page store. Without memory backing the data is
 * left alone, as null_blk leaves it: writes are discarded, read buffers are not touched.
 */
static blk_status_t rawnull_transfer(struct rawnull_dev *dev, struct request *rq)
{
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT;
	blk_status_t status = BLK_STS_OK;
	bool write = false;
	struct bvec_iter iter;
	struct bio_vec bv;
	struct bio *bio;

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		return BLK_STS_OK;
	case REQ_OP_WRITE:
		write = true;
		break;
	case REQ_OP_READ:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (!dev->memory_backed)
		return BLK_STS_OK;

	xa_lock(&dev->pages);
	__rq_for_each_bio(bio, rq) {
		bio_for_each_segment(bv, bio, iter) {
			u8 *buf = bvec_kmap_local(&bv);

			status = rawnull_copy_segment(dev, buf, bv.bv_len, pos, write);
			kunmap_local(buf);
			if (status)
				break;
			pos += bv.bv_len;
		}
		if (status)
			break;
	}
	xa_unlock(&dev->pages);
	return status;
}

static blk_status_t rawnull_queue_rq(struct blk_mq_hw_ctx *hctx,
				     const struct blk_mq_queue_data *bd)
{
	struct rawnull_dev *dev = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct rawnull_cmd *cmd = blk_mq_rq_to_pdu(rq);
	blk_status_t status;

	blk_mq_start_request(rq);
	status = rawnull_transfer(dev, rq);
	if (status == BLK_STS_RESOURCE)
		return status;
	cmd->status = status;
	switch (dev->irqmode) {
	case RAWNULL_IRQ_NONE:
		blk_mq_end_request(rq, status);
		break;
	case RAWNULL_IRQ_SOFTIRQ:
		blk_mq_complete_request(rq);
		break;
	case RAWNULL_IRQ_TIMER:
		hrtimer_start(&cmd->timer, ns_to_ktime(dev->completion_nsec), HRTIMER_MODE_REL);
		break;
	}
	return BLK_STS_OK;
}

static void rawnull_complete(struct request *rq)
{
	struct rawnull_cmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

static enum hrtimer_restart rawnull_timer(struct hrtimer *timer)
{
	struct rawnull_cmd *cmd = container_of(timer, struct rawnull_cmd, timer);

	blk_mq_end_request(blk_mq_rq_from_pdu(cmd), cmd->status);
	return HRTIMER_NORESTART;
}

static int rawnull_init_request(struct blk_mq_tag_set *set, struct request *rq,
				unsigned int hctx_idx, compat_numa_node_t numa_node)
{
	struct rawnull_cmd *cmd = blk_mq_rq_to_pdu(rq);

	hrtimer_setup(&cmd->timer, rawnull_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	return 0;
}

static const struct blk_mq_ops rawnull_mq_ops = {
	.queue_rq = rawnull_queue_rq,
	.complete = rawnull_complete,
	.init_request = rawnull_init_request,
};

static const struct block_device_operations rawnull_fops = {
	.owner = THIS_MODULE,
};

static void rawnull_free_pages(struct rawnull_dev *dev)
{
	struct page *page;
	unsigned long index;

	xa_for_each(&dev->pages, index, page)
		__free_page(page);
	xa_destroy(&dev->pages);
}

static struct gendisk *rawnull_alloc_disk(struct rawnull_dev *dev)
{
	const struct compat_disk_limits lim = {
		.logical_block_size = bs,
		.max_hw_sectors = max_sectors,
		.write_cache = true,
	};

	return compat_alloc_disk(&dev->tag_set, &lim, dev);
}

static int rawnull_add_disk(struct rawnull_dev *dev)
{
	struct gendisk *disk;
	int ret;

	disk = rawnull_alloc_disk(dev);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->fops = &rawnull_fops;
	snprintf(disk->disk_name, DISK_NAME_LEN, "rawnull%u", dev->index);
	set_capacity(disk, dev->size_bytes >> SECTOR_SHIFT);
	ret = add_disk(disk);
	if (ret) {
		put_disk(disk);
		return ret;
	}
	dev->disk = disk;
	return 0;
}

static int rawnull_dev_create(unsigned int index, unsigned int nr_hw_queues)
{
	struct rawnull_dev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->index = index;
	dev->size_bytes = (u64)gb << 30;
	dev->irqmode = irqmode;
	dev->completion_nsec = completion_nsec;
	dev->memory_backed = memory_backed;
	xa_init(&dev->pages);

	dev->tag_set.ops = &rawnull_mq_ops;
	dev->tag_set.nr_hw_queues = nr_hw_queues;
	dev->tag_set.queue_depth = hw_queue_depth;
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct rawnull_cmd);
	dev->tag_set.flags = COMPAT_BLK_MQ_F_SHOULD_MERGE;
	dev->tag_set.nr_maps = 1;
	ret = blk_mq_alloc_tag_set(&dev->tag_set);
	if (ret)
		goto free_dev;

	ret = rawnull_add_disk(dev);
	if (ret)
		goto free_tag_set;

	dev->next = rawnull_devices;
	rawnull_devices = dev;
	return 0;

free_tag_set:
	blk_mq_free_tag_set(&dev->tag_set);
free_dev:
	kfree(dev);
	return ret;
}

static void rawnull_dev_destroy(struct rawnull_dev *dev)
{
	del_gendisk(dev->disk);
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	rawnull_free_pages(dev);
	kfree(dev);
}

static void rawnull_destroy_all(void)
{
	while (rawnull_devices) {
		struct rawnull_dev *dev = rawnull_devices;

		rawnull_devices = dev->next;
		rawnull_dev_destroy(dev);
	}
}

/* Check every parameter before anything is set up; name the first bad one. */
static int rawnull_check_params(void)
{
	if (nr_devices < 1 || nr_devices > RAWNULL_MAX_DEVICES) {
		pr_err("invalid nr_devices=%u: must be 1..%u\n", nr_devices, RAWNULL_MAX_DEVICES);
		return -EINVAL;
	}
	if (submit_queues != -1 && (submit_queues < 1 || submit_queues > nr_cpu_ids)) {
		pr_err("invalid submit_queues=%d: must be 1..%u (or -1: one per online CPU)\n",
		       submit_queues, nr_cpu_ids);
		return -EINVAL;
	}
	if (hw_queue_depth < 1 || hw_queue_depth > BLK_MQ_MAX_DEPTH) {
		pr_err("invalid hw_queue_depth=%u: must be 1..%d\n", hw_queue_depth,
		       BLK_MQ_MAX_DEPTH);
		return -EINVAL;
	}
	if (bs < SECTOR_SIZE || bs > PAGE_SIZE || !is_power_of_2(bs)) {
		pr_err("invalid bs=%u: must be a power of two in 512..%lu\n", bs, PAGE_SIZE);
		return -EINVAL;
	}
	if (gb < 1 || gb > RAWNULL_MAX_GB) {
		pr_err("invalid gb=%u: must be 1..%u\n", gb, RAWNULL_MAX_GB);
		return -EINVAL;
	}
	if (max_sectors && max_sectors < PAGE_SIZE >> SECTOR_SHIFT) {
		pr_err("invalid max_sectors=%u: must be 0 or at least %lu\n", max_sectors,
		       PAGE_SIZE >> SECTOR_SHIFT);
		return -EINVAL;
	}
	if (irqmode > RAWNULL_IRQ_TIMER) {
		pr_err("invalid irqmode=%u: must be 0, 1 or 2\n", irqmode);
		return -EINVAL;
	}
	return 0;
}

static int __init rawnull_init(void)
{
	unsigned int nr_hw_queues, i;
	int ret;

	ret = rawnull_check_params();
	if (ret)
		return ret;
	nr_hw_queues = submit_queues == -1 ? num_online_cpus() : submit_queues;
	for (i = 0; i < nr_devices; i++) {
		ret = rawnull_dev_create(i, nr_hw_queues);
		if (ret) {
			pr_err("device rawnull%u: setup failed (%d)\n", i, ret);
			rawnull_destroy_all();
			return ret;
		}
	}
	pr_info("%u device(s), %u hw queue(s) of depth %u, bs %u, %u GiB, irqmode %u%s\n",
		nr_devices, nr_hw_queues, hw_queue_depth, bs, gb, irqmode,
		memory_backed ? ", memory backed" : "");
	return 0;
}

static void __exit rawnull_exit(void)
{
	rawnull_destroy_all();
}

module_init(rawnull_init);
module_exit(rawnull_exit);
MODULE_DESCRIPTION("twinbench raw null block twin");
MODULE_LICENSE("GPL");

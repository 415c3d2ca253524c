/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h: every kernel version difference the twins meet, in one place.
 *
 * The suite builds against Debian's 6.1, 6.12 and 7.x kernels and, in host mode, against
 * whatever kernel runs (6.1 on). The drivers are written against the newest API; this header
 * supplies that API on older kernels (hrtimer_setup(), PCI_IRQ_INTX) or, where no upstream
 * name fits every version, a compat_ name. Everything here is static inline or a constant:
 * it adds nothing at run time that the newer kernel's own call would not. The safe layer
 * reaches these through safe/compat.h.
 */
#ifndef TWINBENCH_COMPAT_H
#define TWINBENCH_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hrtimer.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/version.h>

/* Linux 6.13 added hrtimer_setup(), which sets the callback too; 6.15 dropped hrtimer_init(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * Linux 6.14 maps a tag set's queues from any device's IRQ affinity and later dropped the
 * PCI-only call; 6.12's stable series has both, so the choice is by version, under a
 * compat_ name that cannot collide with a backport.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#include <linux/blk-mq-pci.h>
#endif

static inline void compat_blk_mq_map_queues(struct blk_mq_queue_map *qmap,
					    struct pci_dev *pdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	blk_mq_map_hw_queues(qmap, &pdev->dev, 0);
#else
	blk_mq_pci_map_queues(qmap, pdev, 0);
#endif
}

/* Linux 6.8 renamed PCI_IRQ_LEGACY to PCI_IRQ_INTX; 6.10 dropped the old name. */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/* Linux 6.14 merges bios into requests for every tag set; the flag that asked for it is gone. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define COMPAT_BLK_MQ_F_SHOULD_MERGE 0
#else
#define COMPAT_BLK_MQ_F_SHOULD_MERGE BLK_MQ_F_SHOULD_MERGE
#endif

/* Linux 6.15 maps a request's segments without its queue (the request knows it). */
static inline int compat_blk_rq_map_sg(struct request *rq, struct scatterlist *sglist)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return blk_rq_map_sg(rq, sglist);
#else
	return blk_rq_map_sg(rq->q, rq, sglist);
#endif
}

/* Linux 7.0 passes the request's NUMA node to blk_mq_ops.init_request as int (NUMA_NO_NODE). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define compat_numa_node_t int
#else
#define compat_numa_node_t unsigned int
#endif

/*
 * NVMe status 0x183 (ONCS not supported) left the kernel's enum in 6.12: it is not in the
 * specification. Devices of the old days may still return it; the twins map it as before.
 */
#define COMPAT_NVME_SC_ONCS_NOT_SUPPORTED 0x183

/*
 * What a twin asks of its disk's queue. Zero in a size field keeps the block layer's
 * default. The queue is non-rotational and adds no entropy, on every kernel.
 */
struct compat_disk_limits {
	unsigned int logical_block_size;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned long virt_boundary_mask;
	bool write_cache;
	bool fua;
};

/*
 * Allocate a blk-mq disk with @l's limits. Linux 6.9 takes the limits at allocation, 6.11
 * the features too (non-rotational and no entropy unless asked for) and drops the setters.
 */
static inline struct gendisk *compat_alloc_disk(struct blk_mq_tag_set *set,
						const struct compat_disk_limits *l,
						void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->logical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_segments = l->max_segments,
		.virt_boundary_mask = l->virt_boundary_mask,
	};

	if (l->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE | (l->fua ? BLK_FEAT_FUA : 0);
	return blk_mq_alloc_disk(set, &lim, queuedata);
#else
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct gendisk *disk = blk_mq_alloc_disk(set, NULL, queuedata);
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
#endif

	if (IS_ERR(disk))
		return disk;
	blk_queue_logical_block_size(disk->queue, l->logical_block_size);
	blk_queue_physical_block_size(disk->queue, l->logical_block_size);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, disk->queue);
	blk_queue_write_cache(disk->queue, l->write_cache, l->write_cache && l->fua);
	if (l->max_hw_sectors)
		blk_queue_max_hw_sectors(disk->queue, l->max_hw_sectors);
	if (l->max_segments)
		blk_queue_max_segments(disk->queue, l->max_segments);
	if (l->virt_boundary_mask)
		blk_queue_virt_boundary(disk->queue, l->virt_boundary_mask);
	return disk;
#endif
}

#endif /* TWINBENCH_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rawnvme: shared structures of the raw C twin of the NVMe PCI driver.
 *
 * The raw twin talks to the kernel API directly, as a plain C driver would.
 * Its structure mirrors drivers-safe/nvme/safenvme.h type for type, so the
 * two twins differ only in the abstraction layer the safe one goes through.
 */
#ifndef RAWNVME_H
#define RAWNVME_H

#include <linux/blk-mq.h>
#include <linux/mutex.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#define RAWNVME_CTRL_PAGE_SHIFT	12
#define RAWNVME_CTRL_PAGE_SIZE	(1U << RAWNVME_CTRL_PAGE_SHIFT)
#define RAWNVME_ADMIN_DEPTH	32
#define RAWNVME_MAX_NS		16
/*
 * 128 KiB per request. PRP1 takes the first (partial) page, so at most 32 more pages go to
 * the PRP list: one list of 32 entries (256 bytes, never across a page) per tag.
 */
#define RAWNVME_MAX_SEGS	32
#define RAWNVME_MAX_SECTORS	(RAWNVME_MAX_SEGS << (RAWNVME_CTRL_PAGE_SHIFT - SECTOR_SHIFT))
#define RAWNVME_PRP_ENTRIES	32
#define RAWNVME_SQES		6
#define RAWNVME_CQES		4
/* Shutdown wait when Identify gives no RTD3E, and its cap (upstream's defaults). */
#define RAWNVME_SHUTDOWN_TIMEOUT_MS	5000
#define RAWNVME_SHUTDOWN_TIMEOUT_MAX_MS	60000

/* Controller state bits, in rawnvme_dev.flags. */
enum rawnvme_flags {
	RAWNVME_LIVE,		/* queues exist and take commands */
	RAWNVME_RESETTING,	/* reset work owns the controller */
	RAWNVME_DEAD,		/* reset failed or device removed: fail all I/O */
	RAWNVME_REMOVING,	/* unbind under way: a timeout kills the controller */
	RAWNVME_DISABLED,	/* CC.EN cleared: admin commands fail until re-enabled */
	RAWNVME_QUIESCED,	/* the disks' queues are quiesced (once, however many ask) */
};

/* How the driver asks for interrupts (module parameter irq_mode). */
enum rawnvme_irq_mode {
	RAWNVME_IRQ_AUTO,	/* MSI-X, then MSI, then INTx */
	RAWNVME_IRQ_MSI,	/* MSI only (tests the fallback path) */
	RAWNVME_IRQ_INTX,	/* legacy INTx only */
};

/* One submission/completion queue pair; qid 0 is the admin queue. */
struct rawnvme_queue {
	struct rawnvme_dev *dev;
	struct nvme_command *sqes;
	struct nvme_completion *cqes;
	__le64 *prp_lists;	/* I/O queues: RAWNVME_PRP_ENTRIES per tag */
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	dma_addr_t prp_dma;
	u32 __iomem *sq_db;
	u32 __iomem *cq_db;
	spinlock_t sq_lock;	/* sq_tail, last_sq_tail and the SQ ring */
	spinlock_t cq_lock;	/* cq_head, cq_phase: irq handler, poller, reset (irqsave) */
	u16 qid;
	u16 depth;
	u16 sq_tail;
	u16 last_sq_tail;	/* tail last written to the doorbell */
	u16 cq_head;
	u8 cq_phase;
	bool polled;
	int irq_vector;		/* -1 for polled and admin queues */
};

/* Per-request driver data (the blk-mq PDU). */
struct rawnvme_iod {
	blk_status_t status;
	bool aborted;		/* cancelled by a controller reset: requeue, not fail */
	u8 retries;		/* requeues so far; kept across them, cleared on the end */
	int nents;		/* DMA-mapped entries of sg, 0 when no data */
	u32 single_len;		/* bytes of a bvec mapped directly into sg[0], or 0 */
	struct scatterlist sg[RAWNVME_MAX_SEGS];
};

/* One active namespace, exposed as /dev/rawnvme<C>n<N>. */
struct rawnvme_ns {
	struct rawnvme_dev *dev;
	struct gendisk *disk;
	u32 nsid;
	u8 lba_shift;
};

/* One bound controller. */
struct rawnvme_dev {
	struct pci_dev *pdev;
	void __iomem *bar;
	resource_size_t bar_size;
	u64 cap;
	u32 db_stride;		/* in bytes */
	u32 ready_timeout_ms;
	u32 shutdown_timeout_ms;	/* from Identify's RTD3E */
	int instance;
	unsigned long flags;
	enum rawnvme_irq_mode irq_mode;

	struct mutex admin_lock;	/* one admin command at a time; admin queue state */
	struct mutex shutdown_lock;	/* one disable (reset, timeout, shutdown) at a time */
	u16 admin_cid;
	int vector0_irq;		/* Linux irq of vector 0 once requested, else 0 */
	struct rawnvme_queue *queues;	/* [0] admin, [1..nr_io_queues] I/O */
	unsigned int nr_io_queues;
	unsigned int nr_irq_queues;
	unsigned int nr_poll_queues;
	unsigned int nr_vectors;

	struct blk_mq_tag_set tagset;
	struct rawnvme_ns *ns[RAWNVME_MAX_NS];
	unsigned int nr_ns;
	/*
	 * The namespaces a reset quiesced, which it unquiesces: one listed after the reset
	 * began (its disk added by a probe the reset runs beside) was never quiesced.
	 */
	unsigned int nr_quiesced;
	unsigned int max_hw_sectors;
	bool volatile_wc;

	struct work_struct reset_work;
};

#endif /* RAWNVME_H */

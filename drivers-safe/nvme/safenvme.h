/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safenvme: shared structures of the safe twin of the NVMe PCI driver.
 *
 * The same driver as drivers-raw/nvme/rawnvme.h, type for type, but every resource is a type
 * of the safe layer: BAR0 is a checked MMIO region, the rings and PRP lists are typed
 * DMA-coherent arrays with checked indices, the SQ state is owned by its lock, the device and
 * namespaces are counted (Arc), and requests are counted handles of the blk-mq abstraction.
 */
#ifndef SAFENVME_H
#define SAFENVME_H

#include <linux/nvme.h>
#include <safe/arc.h>
#include <safe/blk_mq.h>
#include <safe/dma.h>
#include <safe/guard.h>
#include <safe/ida.h>
#include <safe/mmio.h>
#include <safe/owned.h>
#include <safe/pci.h>
#include <safe/vec.h>
#include <safe/workqueue.h>

#define SAFENVME_CTRL_PAGE_SHIFT	12
#define SAFENVME_CTRL_PAGE_SIZE		(1U << SAFENVME_CTRL_PAGE_SHIFT)
#define SAFENVME_ADMIN_DEPTH		32
#define SAFENVME_MAX_NS			16
/* 128 KiB per request; PRP1 takes the first page, a 32-entry list per tag the rest. */
#define SAFENVME_MAX_SEGS		32
#define SAFENVME_MAX_SECTORS	(SAFENVME_MAX_SEGS << (SAFENVME_CTRL_PAGE_SHIFT - SECTOR_SHIFT))
#define SAFENVME_PRP_ENTRIES		32
#define SAFENVME_SQES			6
#define SAFENVME_CQES			4
/* Shutdown wait when Identify gives no RTD3E, and its cap (upstream's defaults). */
#define SAFENVME_SHUTDOWN_TIMEOUT_MS	5000
#define SAFENVME_SHUTDOWN_TIMEOUT_MAX_MS	60000

/* Controller state bits, in safenvme_dev.flags. */
enum safenvme_flags {
	SAFENVME_LIVE,		/* queues exist and take commands */
	SAFENVME_RESETTING,	/* reset work owns the controller */
	SAFENVME_DEAD,		/* reset failed or device removed: fail all I/O */
	SAFENVME_REMOVING,	/* unbind under way: a timeout kills the controller */
	SAFENVME_DISABLED,	/* CC.EN cleared: admin commands fail until re-enabled */
	SAFENVME_QUIESCED,	/* the disks' queues are quiesced (once, however many ask) */
};

/* How the driver asks for interrupts (module parameter irq_mode). */
enum safenvme_irq_mode {
	SAFENVME_IRQ_AUTO,	/* MSI-X, then MSI, then INTx */
	SAFENVME_IRQ_MSI,	/* MSI only (tests the fallback path) */
	SAFENVME_IRQ_INTX,	/* legacy INTx only */
};

/* The registers up to and including the admin queue's two doorbells. */
SAFE_DEFINE_MMIO(safenvme_bar, NVME_REG_DBS + 8);

SAFE_DEFINE_DMA_ARRAY(safenvme_sq_ring, struct nvme_command);
SAFE_DEFINE_DMA_ARRAY(safenvme_cq_ring, struct nvme_completion);
SAFE_DEFINE_DMA_ARRAY(safenvme_prp_array, __le64);
/* The data of one Identify command: controller or namespace. */
union safenvme_id {
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
};
SAFE_DEFINE_DMA_ARRAY(safenvme_id_buf, union safenvme_id);
SAFE_DEFINE_DMA_SGL(safenvme_sgl, SAFENVME_MAX_SEGS);

/* Submission side of a queue: owned by sq_lock. */
struct safenvme_sq_state {
	struct safenvme_sq_ring ring;
	u16 tail;
	u16 last_tail;		/* tail last written to the doorbell */
};
SAFE_DEFINE_SPINLOCK(safenvme_sq_lock, struct safenvme_sq_state);

/* Completion side of a queue: owned by cq_lock (irq handler, poller, reset (irqsave)). */
struct safenvme_cq_state {
	struct safenvme_cq_ring ring;
	u16 head;
	u8 phase;
};
SAFE_DEFINE_SPINLOCK(safenvme_cq_lock, struct safenvme_cq_state);

/* One submission/completion queue pair; qid 0 is the admin queue. */
struct safenvme_queue {
	struct safenvme_dev *dev;
	struct safenvme_sq_lock sq;
	struct safenvme_cq_lock cq;
	struct safenvme_prp_array prps;	/* I/O queues: SAFENVME_PRP_ENTRIES per tag */
	size_t sq_db;		/* doorbell offsets in BAR0, checked on every write */
	size_t cq_db;
	u16 qid;
	u16 depth;
	bool polled;
	int irq_vector;		/* -1 for polled and admin queues */
	struct safe_irq irq;
};
SAFE_DEFINE_VEC(safenvme_queues, struct safenvme_queue);

/* Per-request driver data (the blk-mq PDU, after the layer's own part). */
struct safenvme_iod {
	struct safe_result status;
	bool aborted;		/* cancelled by a controller reset: requeue, not fail */
	u8 retries;		/* requeues so far; kept across them, cleared on the end */
	struct safenvme_sgl map;
};

/* The admin queue's command identifier, owned by the admin mutex. */
struct safenvme_admin_state {
	u16 cid;
};
SAFE_DEFINE_MUTEX(safenvme_admin_lock, struct safenvme_admin_state);

/* Mutex<()>: serialises taking the controller down; it owns no data. */
struct safenvme_shutdown_state {
};
SAFE_DEFINE_MUTEX(safenvme_shutdown_lock, struct safenvme_shutdown_state);

/* One bound controller. Counted: the PCI binding and each namespace hold a reference. */
struct safenvme_dev {
	struct pci_dev *pdev;
	struct safenvme_bar bar;
	u64 cap;
	u32 db_stride;		/* in bytes */
	u32 ready_timeout_ms;
	u32 shutdown_timeout_ms;	/* from Identify's RTD3E */
	int instance;
	unsigned long flags;
	enum safenvme_irq_mode irq_mode;

	struct safenvme_admin_lock admin;	/* one admin command at a time; admin queue state */
	struct safenvme_shutdown_lock shutdown;	/* one disable (reset, timeout, shutdown) at a time */
	struct safe_irq *vector0;		/* handler on vector 0 once requested */
	struct safenvme_queues queues;		/* [0] admin, [1..nr_io_queues] I/O */
	unsigned int nr_io_queues;
	unsigned int nr_irq_queues;
	unsigned int nr_poll_queues;

	struct safe_tag_set tagset;
	struct safe_gendisk disks[SAFENVME_MAX_NS];
	unsigned int nr_ns;
	/*
	 * The namespaces a reset quiesced, which it unquiesces: one listed after the reset
	 * began (its disk added by a probe the reset runs beside) was never quiesced.
	 */
	unsigned int nr_quiesced;
	char disk_prefix[DISK_NAME_LEN];
	unsigned int max_hw_sectors;
	bool volatile_wc;

	struct safe_work reset_work;
};
void safenvme_dev_drop(struct safenvme_dev *dev);
SAFE_DEFINE_ARC(safenvme_dev);

/* One active namespace, the queue data of /dev/safenvme<C>n<N>. */
struct safenvme_ns {
	struct safenvme_dev_arc *dev;
	u32 nsid;
	u8 lba_shift;
};
void safenvme_ns_drop(struct safenvme_ns *ns);
SAFE_DEFINE_ARC(safenvme_ns);

/* The typed blk-mq ops table: queue data is the namespace, the PDU a safenvme_iod. */
SAFE_BLK_MQ_DECLARE(safenvme, safenvme_ns, struct safenvme_iod);

#endif /* SAFENVME_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * safenvme: the safe twin of rawnvme, a minimal NVMe PCIe driver on the safe layer.
 *
 * Same algorithm, parameters and structure as drivers-raw/nvme/rawnvme.c, function for
 * function. The difference is the layer: registers through a checked MMIO region (constant
 * offsets checked at build time, doorbells at run time), rings and PRP lists through typed
 * DMA arrays with checked indices, queue state owned by its locks, errors as safe_result,
 * the device and namespaces counted, requests as counted handles of the blk-mq abstraction,
 * and the PCI binding through the layer's driver adapter with device-managed cleanup.
 *
 * The reset work, the sysfs attribute, the instance ids, the queue array and the driver's
 * registration are the layer's too (workqueue.h, pci.h, ida.h, vec.h).
 *
 * Counterparts that differ by the layer (drivers-safe/twins.tsv gives each reason): rawnvme's
 * status_to_blk is status_to_result (the error type); init_hctx is queue_at (checked queue
 * index); map_queues, map_single, unmap_data and unmap_bar are the layer's; free_ns is
 * ns_drop (Arc); read_cqe is a checked CQE copy; dev_drop is the Arc drop of what
 * rawnvme_remove frees; unwind_probe is rawnvme_probe's goto ladder as one function.
 */
#include <linux/delay.h>
#include <linux/module.h>

#include "safenvme.h"

#define SAFENVME_ADMIN_TIMEOUT_MS	5000

static unsigned int io_queue_depth = 1024;
module_param(io_queue_depth, uint, 0444);
MODULE_PARM_DESC(io_queue_depth, "I/O queue depth, 2..4096 (capped by CAP.MQES)");

static unsigned int nr_io_queues;
module_param(nr_io_queues, uint, 0444);
MODULE_PARM_DESC(nr_io_queues, "Interrupt-driven I/O queues (0 = one per online CPU)");

static unsigned int poll_queues;
module_param(poll_queues, uint, 0444);
MODULE_PARM_DESC(poll_queues, "Polled I/O queues for io_uring hipri (default 0)");

static unsigned int irq_mode;
module_param(irq_mode, uint, 0444);
MODULE_PARM_DESC(irq_mode, "0 = MSI-X, MSI, INTx; 1 = MSI, INTx; 2 = INTx only");

static unsigned int io_timeout = 30;
module_param(io_timeout, uint, 0444);
MODULE_PARM_DESC(io_timeout, "I/O timeout in seconds before a controller reset");

static unsigned int max_retries = 5;
module_param(max_retries, uint, 0444);
MODULE_PARM_DESC(max_retries, "Requeues of a reset-aborted request before it fails (nvme_core's)");

SAFE_DEFINE_IDA(safenvme_instances);

static inline struct safe_result safenvme_queue_at(struct safenvme_dev *dev, unsigned int qid,
						   struct safenvme_queue **q)
{
	return safenvme_queues_at(&dev->queues, qid, q);
}

static size_t safenvme_doorbell(struct safenvme_dev *dev, u16 qid, bool cq)
{
	return NVME_REG_DBS + (2 * qid + cq) * dev->db_stride;
}

static size_t safenvme_bar_needed(struct safenvme_dev *dev, unsigned int nr_queues)
{
	return NVME_REG_DBS + 2 * nr_queues * dev->db_stride;
}

static struct safe_result safenvme_wait_csts(struct safenvme_dev *dev, u32 mask, u32 want,
					     u32 timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	u32 csts;

	for (;;) {
		csts = safe_mmio_read32(&dev->bar, NVME_REG_CSTS);
		if (csts == ~0U)
			return safe_err(-ENODEV);
		if ((csts & mask) == want)
			return safe_ok();
		if (time_after(jiffies, deadline)) {
			dev_err(&dev->pdev->dev, "CSTS 0x%x: timeout waiting for 0x%x\n",
				csts, want);
			return safe_err(-ETIMEDOUT);
		}
		usleep_range(1000, 2000);
	}
}

static struct safe_result safenvme_disable_ctrl(struct safenvme_dev *dev)
{
	u32 cc = safe_mmio_read32(&dev->bar, NVME_REG_CC);

	set_bit(SAFENVME_DISABLED, &dev->flags);
	cc &= ~(NVME_CC_ENABLE | NVME_CC_SHN_MASK);
	safe_mmio_write32(&dev->bar, cc, NVME_REG_CC);
	return safenvme_wait_csts(dev, NVME_CSTS_RDY, 0, dev->ready_timeout_ms);
}

/*
 * Disables the controller; if it does not stop, turns bus mastering off so it cannot DMA
 * into buffers the driver is about to unmap or free (upstream disables the PCI device).
 */
static struct safe_result safenvme_stop_ctrl(struct safenvme_dev *dev)
{
	struct safe_result res = safenvme_disable_ctrl(dev);

	if (safe_is_err(res)) {
		dev_err(&dev->pdev->dev, "controller did not stop, bus mastering off\n");
		safe_pci_clear_master(dev->pdev);
	}
	return res;
}

static struct safe_result safenvme_enable_ctrl(struct safenvme_dev *dev)
{
	struct safenvme_queue *aq = &dev->queues.elems[0];
	dma_addr_t sq_dma = 0, cq_dma = 0;
	struct safe_result res;
	u32 cc;

	safe_spin_locked(&aq->sq, s)
		sq_dma = s->ring.dma;
	safe_spin_locked(&aq->cq, c)
		cq_dma = c->ring.dma;
	safe_mmio_write32(&dev->bar, (aq->depth - 1) << 16 | (aq->depth - 1), NVME_REG_AQA);
	safe_mmio_write64(&dev->bar, sq_dma, NVME_REG_ASQ);
	safe_mmio_write64(&dev->bar, cq_dma, NVME_REG_ACQ);
	cc = NVME_CC_CSS_NVM | (SAFENVME_CTRL_PAGE_SHIFT - 12) << NVME_CC_MPS_SHIFT |
	     NVME_CC_AMS_RR | NVME_CC_SHN_NONE | SAFENVME_SQES << NVME_CC_IOSQES_SHIFT |
	     SAFENVME_CQES << NVME_CC_IOCQES_SHIFT | NVME_CC_ENABLE;
	safe_mmio_write32(&dev->bar, cc, NVME_REG_CC);
	res = safenvme_wait_csts(dev, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY,
				 dev->ready_timeout_ms);
	if (safe_is_ok(res))
		clear_bit(SAFENVME_DISABLED, &dev->flags);
	return res;
}

static struct safe_result safenvme_shutdown_ctrl(struct safenvme_dev *dev)
{
	u32 cc = safe_mmio_read32(&dev->bar, NVME_REG_CC);
	struct safe_result res;

	set_bit(SAFENVME_DISABLED, &dev->flags);
	cc = (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL;
	safe_mmio_write32(&dev->bar, cc, NVME_REG_CC);
	res = safenvme_wait_csts(dev, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT,
				 dev->shutdown_timeout_ms);
	if (safe_is_err(res))
		dev_warn(&dev->pdev->dev, "shutdown did not complete\n");
	return res;
}

static void safenvme_reset_queue_state(struct safenvme_queue *q)
{
	safe_spin_locked(&q->sq, s) {
		s->tail = 0;
		s->last_tail = 0;
	}
	safe_spin_locked_irqsave(&q->cq, c) {
		c->head = 0;
		c->phase = 1;
		safenvme_cq_ring_zero(&c->ring);
	}
}

/*
 * A queue's CQ lock is a hard irq lock only where an irq handler reaps the queue: an I/O
 * queue with a vector, whose lock is taken irqsave everywhere else. The admin queue
 * (polled with its vector off) and the polled queues have no handler; their CQ locks are
 * a lock class of their own, taken plainly, as upstream's poll lock.
 */
static struct lock_class_key safenvme_unhandled_cq_class;

static struct safe_result safenvme_alloc_queue(struct safenvme_dev *dev, u16 qid, u16 depth,
					       bool polled)
{
	struct safenvme_queue *q;
	struct safenvme_sq_ring sq = { };
	struct safenvme_cq_ring cq = { };
	struct safe_result res;

	SAFE_TRY(safenvme_queue_at(dev, qid, &q));
	SAFE_TRY(safenvme_cq_ring_alloc(&cq, &dev->pdev->dev, depth, GFP_KERNEL));
	res = safenvme_sq_ring_alloc(&sq, &dev->pdev->dev, depth, GFP_KERNEL);
	if (safe_is_err(res)) {
		safenvme_cq_ring_free(&cq);
		return res;
	}
	q->dev = dev;
	q->qid = qid;
	q->depth = depth;
	q->polled = polled;
	q->irq_vector = -1;
	q->sq_db = safenvme_doorbell(dev, qid, false);
	q->cq_db = safenvme_doorbell(dev, qid, true);
	safe_spin_lock_init(&q->sq);
	if (!qid || polled)
		safe_spin_lock_init_class(&q->cq, &safenvme_unhandled_cq_class);
	else
		safe_spin_lock_init(&q->cq);
	safe_spin_locked(&q->sq, s)
		s->ring = sq;
	safe_spin_locked_irqsave(&q->cq, c)
		c->ring = cq;
	safenvme_reset_queue_state(q);
	return safe_ok();
}

/* One PRP list of SAFENVME_PRP_ENTRIES per tag, for the requests of one I/O queue. */
static struct safe_result safenvme_alloc_prp_lists(struct safenvme_queue *q)
{
	u32 count;

	if (!safe_checked_mul((u32)q->depth, (u32)SAFENVME_PRP_ENTRIES, &count))
		return safe_err(-EINVAL);
	return safenvme_prp_array_alloc(&q->prps, &q->dev->pdev->dev, count, GFP_KERNEL);
}

/* The CQ ring is moved out under the lock and freed after it: freeing may not run irqs-off. */
static void safenvme_free_queue(struct safenvme_queue *q)
{
	struct safenvme_cq_ring cq = { };

	if (!q->dev)
		return;
	safenvme_prp_array_free(&q->prps);
	safe_spin_locked(&q->sq, s)
		safenvme_sq_ring_free(&s->ring);
	safe_spin_locked_irqsave(&q->cq, c) {
		cq = c->ring;
		c->ring = (struct safenvme_cq_ring){ };
	}
	safenvme_cq_ring_free(&cq);
	q->dev = NULL;
}

static inline void safenvme_ring_sq(struct safenvme_queue *q, struct safenvme_sq_state *s)
{
	if (s->tail == s->last_tail)
		return;
	if (safe_is_ok(safe_mmio_try_write32(&q->dev->bar, s->tail, q->sq_db)))
		s->last_tail = s->tail;
}

static struct safe_result safenvme_push_sqe(struct safenvme_queue *q,
					    struct safenvme_sq_state *s,
					    const struct nvme_command *cmd)
{
	SAFE_TRY(safenvme_sq_ring_write(&s->ring, s->tail, cmd));
	if (++s->tail == q->depth)
		s->tail = 0;
	return safe_ok();
}

static bool safenvme_cqe_pending(struct safenvme_cq_state *c)
{
	__le16 status;

	if (safe_is_err(safe_dma_read_field(&c->ring, c->head, status, &status)))
		return false;
	return (le16_to_cpu(status) & 1) == c->phase;
}

static void safenvme_advance_cq(struct safenvme_queue *q, struct safenvme_cq_state *c)
{
	if (++c->head == q->depth) {
		c->head = 0;
		c->phase ^= 1;
	}
}

/*
 * Copies the current CQE out of the ring. The fields go to locals first: no store can then
 * alias c->head or the ring's count, so the compiler proves the second and third index
 * checks from the first (each read stays checked).
 */
static inline struct safe_result safenvme_read_cqe(struct safenvme_cq_state *c,
						   struct nvme_completion *cqe)
{
	u16 head = c->head;
	__u16 command_id;
	__le16 status;
	__le32 result;

	SAFE_TRY(safe_dma_read_field(&c->ring, head, command_id, &command_id));
	SAFE_TRY(safe_dma_read_field(&c->ring, head, status, &status));
	SAFE_TRY(safe_dma_read_field(&c->ring, head, result.u32, &result));
	cqe->command_id = command_id;
	cqe->status = status;
	cqe->result.u32 = result;
	return safe_ok();
}

/*
 * Runs one admin command to completion by polling the admin CQ, under the admin lock; the
 * queue's own locks are taken as on an I/O queue (no handler serves the admin CQ, so no
 * irqsave). The admin CQ raises vector 0, which I/O queue 1 also uses: that vector stays
 * off meanwhile, or a level-triggered INTx line would fire unhandled until the poll
 * consumes the entry. A command that times out stops the controller (as upstream's
 * admin timeout disables it): it may still DMA into the command's buffer, and a late
 * completion would be taken for the next command's. Admin commands then fail at once
 * until the controller is enabled again.
 */
static struct safe_result safenvme_admin_exec(struct safenvme_dev *dev,
					      struct nvme_command *cmd, u32 *result)
{
	struct safenvme_queue *aq = &dev->queues.elems[0];
	struct safe_result res = safe_ok();
	struct nvme_completion cqe = { };
	unsigned long deadline;
	bool done = false;
	u16 status;

	safe_mutex_locked(&dev->admin, a) {
		if (test_bit(SAFENVME_DISABLED, &dev->flags)) {
			res = safe_err(-ENODEV);
			break;
		}
		if (dev->vector0)
			safe_irq_disable(dev->vector0);
		cmd->common.command_id = ++a->cid;
		safe_spin_locked(&aq->sq, s) {
			res = safenvme_push_sqe(aq, s, cmd);
			safenvme_ring_sq(aq, s);
		}
		deadline = jiffies + msecs_to_jiffies(SAFENVME_ADMIN_TIMEOUT_MS);
		while (safe_is_ok(res) && !done) {
			safe_spin_locked(&aq->cq, c) {
				done = safenvme_cqe_pending(c);
				if (done) {
					dma_rmb();
					res = safenvme_read_cqe(c, &cqe);
					safenvme_advance_cq(aq, c);
					if (safe_is_ok(res))
						res = safe_mmio_try_write32(&dev->bar, c->head,
									    aq->cq_db);
				}
			}
			if (done)
				break;
			if (time_after(jiffies, deadline)) {
				dev_err(&dev->pdev->dev,
					"admin opcode 0x%x timed out, stopping controller\n",
					cmd->common.opcode);
				(void)safenvme_stop_ctrl(dev);
				res = safe_err(-ETIMEDOUT);
				break;
			}
			usleep_range(20, 100);
		}
		if (dev->vector0)
			safe_irq_enable(dev->vector0);
	}
	SAFE_TRY(res);
	status = le16_to_cpu(cqe.status) >> 1;
	if (cqe.command_id != cmd->common.command_id) {
		dev_err(&dev->pdev->dev, "admin completion for cid %u, expected %u\n",
			cqe.command_id, cmd->common.command_id);
		return safe_err(-EIO);
	}
	if (status) {
		dev_err(&dev->pdev->dev, "admin opcode 0x%x failed, status 0x%x\n",
			cmd->common.opcode, status);
		return safe_err(-EIO);
	}
	if (result)
		*result = le32_to_cpu(cqe.result.u32);
	return safe_ok();
}

static struct safe_result safenvme_identify(struct safenvme_dev *dev, u32 nsid, u8 cns,
					    dma_addr_t buf)
{
	struct nvme_command c = { };

	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = cns;
	c.identify.dptr.prp1 = cpu_to_le64(buf);
	return safenvme_admin_exec(dev, &c, NULL);
}

/* Asks for @count I/O queue pairs; returns how many the controller granted. */
static struct safe_result safenvme_set_queue_count(struct safenvme_dev *dev,
						   unsigned int count, unsigned int *granted)
{
	struct nvme_command c = { };
	u32 result;

	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	c.features.dword11 = cpu_to_le32((count - 1) | (count - 1) << 16);
	SAFE_TRY(safenvme_admin_exec(dev, &c, &result));
	*granted = min(result & 0xffff, result >> 16) + 1;
	return safe_ok();
}

static struct safe_result safenvme_create_io_queue(struct safenvme_queue *q)
{
	struct nvme_command c = { };
	u16 flags = NVME_QUEUE_PHYS_CONTIG;
	dma_addr_t sq_dma = 0, cq_dma = 0;
	struct safe_result res;

	safe_spin_locked(&q->sq, s)
		sq_dma = s->ring.dma;
	safe_spin_locked_irqsave(&q->cq, cs)
		cq_dma = cs->ring.dma;
	if (!q->polled)
		flags |= NVME_CQ_IRQ_ENABLED;
	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(cq_dma);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(q->depth - 1);
	c.create_cq.cq_flags = cpu_to_le16(flags);
	c.create_cq.irq_vector = cpu_to_le16(q->polled ? 0 : q->irq_vector);
	SAFE_TRY(safenvme_admin_exec(q->dev, &c, NULL));

	c = (struct nvme_command){ };
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(sq_dma);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(q->depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	res = safenvme_admin_exec(q->dev, &c, NULL);
	if (safe_is_err(res)) {
		c = (struct nvme_command){ };
		c.delete_queue.opcode = nvme_admin_delete_cq;
		c.delete_queue.qid = cpu_to_le16(q->qid);
		if (safe_is_err(safenvme_admin_exec(q->dev, &c, NULL)))
			dev_warn(&q->dev->pdev->dev, "CQ %u not deleted\n", q->qid);
	}
	return res;
}

static void safenvme_delete_io_queue(struct safenvme_queue *q)
{
	struct nvme_command c = { };

	c.delete_queue.opcode = nvme_admin_delete_sq;
	c.delete_queue.qid = cpu_to_le16(q->qid);
	if (safe_is_err(safenvme_admin_exec(q->dev, &c, NULL)))
		return;
	c.delete_queue.opcode = nvme_admin_delete_cq;
	if (safe_is_err(safenvme_admin_exec(q->dev, &c, NULL)))
		dev_warn(&q->dev->pdev->dev, "CQ %u not deleted\n", q->qid);
}

/* NVMe status to the layer's error type; error.h turns it into the block status. */
static struct safe_result safenvme_status_to_result(u16 status)
{
	switch (status & 0x7ff) {
	case NVME_SC_SUCCESS:
		return safe_ok();
	case NVME_SC_CAP_EXCEEDED:
		return safe_err(-ENOSPC);
	case NVME_SC_LBA_RANGE:
		return safe_err(-EREMOTEIO);
	case NVME_SC_INVALID_OPCODE:
	case NVME_SC_INVALID_FIELD:
	case COMPAT_NVME_SC_ONCS_NOT_SUPPORTED:
		return safe_err(-EOPNOTSUPP);
	case NVME_SC_WRITE_FAULT:
	case NVME_SC_READ_ERROR:
	case NVME_SC_UNWRITTEN_BLOCK:
		return safe_err(-ENODATA);
	default:
		return safe_err(-EIO);
	}
}

static void safenvme_handle_cqe(struct safenvme_queue *q, const struct nvme_completion *cqe)
{
	struct safe_rq rq;

	if (safe_is_err(safe_tag_set_rq_from_tag(&q->dev->tagset, q->qid - 1,
						 cqe->command_id, &rq))) {
		dev_warn_ratelimited(&q->dev->pdev->dev, "queue %u: bad command id %u\n",
				     q->qid, cqe->command_id);
		return;
	}
	safenvme_pdu(&rq)->status = safenvme_status_to_result(le16_to_cpu(cqe->status) >> 1);
	safe_rq_complete(&rq);
}

static int safenvme_process_cq(struct safenvme_queue *q, struct safenvme_cq_state *c)
{
	struct nvme_completion cqe;
	int found = 0;

	while (safenvme_cqe_pending(c)) {
		dma_rmb();
		if (safe_is_ok(safenvme_read_cqe(c, &cqe)))
			safenvme_handle_cqe(q, &cqe);
		safenvme_advance_cq(q, c);
		found++;
	}
	if (found && safe_is_err(safe_mmio_try_write32(&q->dev->bar, c->head, q->cq_db)))
		dev_err_ratelimited(&q->dev->pdev->dev, "queue %u: CQ doorbell\n", q->qid);
	return found;
}

/* From the hard irq handler, or the poller of a queue that has no handler. */
static int safenvme_process_cq_locked(struct safenvme_queue *q)
{
	int found = 0;

	safe_spin_locked(&q->cq, c)
		found = safenvme_process_cq(q, c);
	return found;
}

/* From process context on any queue: the handler may share the CPU (or an INTx line). */
static int safenvme_reap_cq(struct safenvme_queue *q)
{
	int found = 0;

	safe_spin_locked_irqsave(&q->cq, c)
		found = safenvme_process_cq(q, c);
	return found;
}

static bool safenvme_irq(struct safenvme_queue *q)
{
	return safenvme_process_cq_locked(q);
}
SAFE_DEFINE_IRQ_HANDLER(safenvme_irq_adapter, safenvme_queue, safenvme_irq);

static struct safe_result safenvme_setup_prps(struct safenvme_queue *q,
					      struct safenvme_iod *iod, u16 tag,
					      unsigned int len, struct nvme_command *cmd)
{
	struct safenvme_prp_array list;
	unsigned int seg = 0, n = 0;
	dma_addr_t dma_addr, list_dma;
	u32 dma_len, first;
	__le64 entry = 0;

	SAFE_TRY(safenvme_prp_array_sub(&q->prps, (u32)tag * SAFENVME_PRP_ENTRIES,
					SAFENVME_PRP_ENTRIES, &list));
	SAFE_TRY(safe_dma_sgl_seg(&iod->map, seg, &dma_addr, &dma_len));
	first = SAFENVME_CTRL_PAGE_SIZE - (dma_addr & (SAFENVME_CTRL_PAGE_SIZE - 1));
	cmd->rw.dptr.prp1 = cpu_to_le64(dma_addr);
	cmd->rw.dptr.prp2 = 0;
	if (len <= first)
		return safe_ok();
	len -= first;
	if (len <= SAFENVME_CTRL_PAGE_SIZE && dma_len > first) {
		cmd->rw.dptr.prp2 = cpu_to_le64(dma_addr + first);
		return safe_ok();
	}
	for (;;) {
		if (dma_len > first) {
			dma_addr += first;
			dma_len -= first;
		} else {
			SAFE_TRY(safe_dma_sgl_seg(&iod->map, ++seg, &dma_addr, &dma_len));
		}
		entry = cpu_to_le64(dma_addr);
		SAFE_TRY(safenvme_prp_array_write(&list, n++, &entry));
		if (len <= SAFENVME_CTRL_PAGE_SIZE)
			break;
		len -= SAFENVME_CTRL_PAGE_SIZE;
		first = SAFENVME_CTRL_PAGE_SIZE;
	}
	if (n == 1) {
		cmd->rw.dptr.prp2 = entry;
	} else {
		SAFE_TRY(safenvme_prp_array_dma_of(&list, 0, &list_dma));
		cmd->rw.dptr.prp2 = cpu_to_le64(list_dma);
	}
	return safe_ok();
}

static struct safe_result safenvme_map_data(struct safenvme_queue *q, struct safe_rq *rq,
					    struct nvme_command *cmd)
{
	struct safenvme_iod *iod = safenvme_pdu(rq);
	struct safe_result res;
	bool single;

	SAFE_TRY(safe_dma_map_rq_single(&q->dev->pdev->dev, rq, &iod->map,
					2 * SAFENVME_CTRL_PAGE_SIZE, &single));
	if (!single)
		SAFE_TRY(safe_dma_map_rq(&q->dev->pdev->dev, rq, &iod->map));
	res = safenvme_setup_prps(q, iod, safe_rq_tag(rq), safe_rq_bytes(rq), cmd);
	if (safe_is_err(res))
		safe_dma_unmap(&q->dev->pdev->dev, &iod->map);
	return res;
}

static struct safe_result safenvme_setup_cmd(struct safenvme_ns *ns, struct safenvme_queue *q,
					     struct safe_rq *rq, struct nvme_command *cmd)
{
	u64 slba = safe_rq_sector(rq) >> (ns->lba_shift - SECTOR_SHIFT);
	u32 blocks = safe_rq_bytes(rq) >> ns->lba_shift;

	*cmd = (struct nvme_command){ };
	cmd->common.command_id = safe_rq_tag(rq);
	cmd->common.nsid = cpu_to_le32(ns->nsid);
	switch (safe_rq_op(rq)) {
	case SAFE_RQ_FLUSH:
		cmd->common.opcode = nvme_cmd_flush;
		return safe_ok();
	case SAFE_RQ_READ:
		cmd->rw.opcode = nvme_cmd_read;
		break;
	case SAFE_RQ_WRITE:
		cmd->rw.opcode = nvme_cmd_write;
		break;
	default:
		return safe_err(-EOPNOTSUPP);
	}
	if (!blocks || blocks > 0x10000)
		return safe_err(-EIO);
	cmd->rw.slba = cpu_to_le64(slba);
	cmd->rw.length = cpu_to_le16(blocks - 1);
	if (safe_rq_fua(rq))
		cmd->rw.control = cpu_to_le16(NVME_RW_FUA);
	return safenvme_map_data(q, rq, cmd);
}

static struct safe_result safenvme_queue_rq(struct safenvme_ns *ns, struct safe_rq rq,
					    bool last)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(ns->dev);
	struct safenvme_iod *iod = safenvme_pdu(&rq);
	struct safenvme_queue *q;
	struct safe_result res;
	struct nvme_command cmd;

	if (unlikely(!test_bit(SAFENVME_LIVE, &dev->flags)))
		return safe_err(test_bit(SAFENVME_DEAD, &dev->flags) ? -EIO : -ENOMEM);
	SAFE_TRY(safenvme_queue_at(dev, safe_rq_hw_queue(&rq) + 1, &q));
	iod->status = safe_ok();
	iod->aborted = false;
	safe_dma_sgl_reset(&iod->map);
	SAFE_TRY(safenvme_setup_cmd(ns, q, &rq, &cmd));
	/* The command carries the request from here: the hardware owns it. */
	safe_rq_drop(&rq);
	safe_spin_locked(&q->sq, s) {
		res = safenvme_push_sqe(q, s, &cmd);
		if (last)
			safenvme_ring_sq(q, s);
	}
	WARN_ONCE(safe_is_err(res), "safenvme: SQ %u full\n", q->qid);
	return safe_ok();
}

static void safenvme_commit_rqs(struct safenvme_ns *ns, unsigned int hw_queue)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(ns->dev);
	struct safenvme_queue *q;

	if (safe_is_err(safenvme_queue_at(dev, hw_queue + 1, &q)))
		return;
	safe_spin_locked(&q->sq, s)
		safenvme_ring_sq(q, s);
}

/* A request a reset aborted goes back to the block layer, as upstream retries it. */
static bool safenvme_should_retry(struct safenvme_dev *dev, struct safe_rq *rq,
				  struct safenvme_iod *iod)
{
	return iod->aborted && !test_bit(SAFENVME_DEAD, &dev->flags) &&
	       !safe_rq_noretry(rq) && iod->retries < max_retries;
}

static void safenvme_complete(struct safe_rq rq)
{
	struct safenvme_ns *ns = safenvme_rq_queue_data(&rq);
	struct safenvme_dev *dev = safenvme_dev_arc_data(ns->dev);
	struct safenvme_iod *iod = safenvme_pdu(&rq);

	safe_dma_unmap(&dev->pdev->dev, &iod->map);
	if (safenvme_should_retry(dev, &rq, iod)) {
		iod->retries++;
		safe_rq_requeue(&rq);
		return;
	}
	iod->retries = 0;
	if (safe_is_err(safe_rq_end(&rq, iod->status)))
		dev_err_ratelimited(&dev->pdev->dev, "request not ended\n");
}

/* Polled queues have no irq handler: the plain lock suffices, as upstream's poll lock. */
static int safenvme_poll(struct safenvme_ns *ns, unsigned int hw_queue)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(ns->dev);
	struct safenvme_queue *q;

	if (safe_is_err(safenvme_queue_at(dev, hw_queue + 1, &q)))
		return 0;
	return safenvme_process_cq_locked(q);
}

static void safenvme_quiesce(struct safenvme_dev *dev)
{
	unsigned int i;

	if (test_and_set_bit(SAFENVME_QUIESCED, &dev->flags))
		return;
	dev->nr_quiesced = READ_ONCE(dev->nr_ns);
	for (i = 0; i < dev->nr_quiesced; i++)
		safe_gendisk_quiesce(&dev->disks[i]);
}

static void safenvme_unquiesce(struct safenvme_dev *dev)
{
	unsigned int i;

	if (!test_and_clear_bit(SAFENVME_QUIESCED, &dev->flags))
		return;
	for (i = 0; i < dev->nr_quiesced; i++)
		safe_gendisk_unquiesce(&dev->disks[i]);
	dev->nr_quiesced = 0;
}

static struct safe_result safenvme_dev_disable(struct safenvme_dev *dev, bool shutdown);

static void safenvme_schedule_reset(struct safenvme_dev *dev)
{
	if (test_bit(SAFENVME_DEAD, &dev->flags))
		return;
	if (!test_and_set_bit(SAFENVME_RESETTING, &dev->flags))
		safe_work_queue(&dev->reset_work);
}

/*
 * Reaps the request's CQ first (a lost interrupt is not a dead controller), as upstream.
 * An interrupt-driven queue's vector is masked meanwhile.
 */
static void safenvme_timeout_reap(struct safenvme_queue *q)
{
	safe_irq_disable(&q->irq);
	safenvme_reap_cq(q);
	safe_irq_enable(&q->irq);
}

static enum blk_eh_timer_return safenvme_timeout(struct safenvme_ns *ns, struct safe_rq *rq)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(ns->dev);
	struct safenvme_queue *q;

	if (safe_is_ok(safenvme_queue_at(dev, safe_rq_hw_queue(rq) + 1, &q)))
		safenvme_timeout_reap(q);
	if (!safe_rq_in_flight(rq)) {
		dev_warn_ratelimited(&dev->pdev->dev, "tag %u timed out, completion reaped\n",
				     safe_rq_tag(rq));
		return BLK_EH_DONE;
	}
	if (test_bit(SAFENVME_REMOVING, &dev->flags))
		set_bit(SAFENVME_DEAD, &dev->flags);
	if (test_bit(SAFENVME_DEAD, &dev->flags)) {
		/*
		 * Stops the controller, reaps, and fails every request it held, this one too;
		 * its end must not wait for this handle, which dev_disable waits out.
		 */
		safe_rq_drop(rq);
		(void)safenvme_dev_disable(dev, false);
		safenvme_unquiesce(dev);
		return BLK_EH_DONE;
	}
	dev_warn_ratelimited(&dev->pdev->dev, "tag %u timed out, resetting controller\n",
			     safe_rq_tag(rq));
	safenvme_schedule_reset(dev);
	return BLK_EH_RESET_TIMER;
}

static const struct safenvme_ops safenvme_mq_ops = {
	.queue_rq	= safenvme_queue_rq,
	.commit_rqs	= safenvme_commit_rqs,
	.complete	= safenvme_complete,
	.poll		= safenvme_poll,
	.timeout	= safenvme_timeout,
};

SAFE_BLK_MQ_ADAPTERS(safenvme, safenvme_ns, safenvme_mq_ops);

static unsigned int safenvme_irq_flags(struct safenvme_dev *dev)
{
	switch (dev->irq_mode) {
	case SAFENVME_IRQ_MSI:
		return PCI_IRQ_MSI | PCI_IRQ_INTX | PCI_IRQ_AFFINITY;
	case SAFENVME_IRQ_INTX:
		return PCI_IRQ_INTX;
	default:
		return PCI_IRQ_ALL_TYPES | PCI_IRQ_AFFINITY;
	}
}

static void safenvme_free_irqs(struct safenvme_dev *dev)
{
	unsigned int qid;

	dev->vector0 = NULL;
	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		safe_irq_free(&dev->queues.elems[qid].irq);
}

/* Waits for running handlers and reaps what the (disabled) controller posted before. */
static void safenvme_sync_irqs(struct safenvme_dev *dev)
{
	unsigned int qid;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		struct safenvme_queue *q = &dev->queues.elems[qid];

		safe_irq_sync(&q->irq);
		safenvme_reap_cq(q);
	}
}

static void safenvme_delete_io_queues(struct safenvme_dev *dev)
{
	unsigned int qid;

	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		safenvme_delete_io_queue(&dev->queues.elems[qid]);
}

static struct safe_result safenvme_create_io_queues(struct safenvme_dev *dev)
{
	struct safe_result res;
	unsigned int qid;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		safenvme_reset_queue_state(&dev->queues.elems[qid]);
		res = safenvme_create_io_queue(&dev->queues.elems[qid]);
		if (safe_is_err(res))
			goto delete;
	}
	return safe_ok();
delete:
	while (--qid >= 1)
		safenvme_delete_io_queue(&dev->queues.elems[qid]);
	return res;
}

/* Sizes the I/O queue set, allocates vectors and queue memory, creates the queues. */
static struct safe_result safenvme_setup_io_queues(struct safenvme_dev *dev, u16 depth)
{
	unsigned int want, granted, nr, qid, vectors;
	struct safe_result res;

	want = (nr_io_queues ?: num_online_cpus()) + poll_queues;
	want = min3(want, 0xffffU, safenvme_queues_len(&dev->queues) - 1);
	SAFE_TRY(safenvme_set_queue_count(dev, want, &granted));
	nr = min(want, granted);
	while (nr > 1 && safenvme_bar_needed(dev, nr + 1) > safe_mmio_len(&dev->bar))
		nr--;
	dev->nr_poll_queues = min(poll_queues, nr - 1);
	SAFE_TRY(safe_pci_irq_vectors(dev->pdev, 1, nr - dev->nr_poll_queues,
				      safenvme_irq_flags(dev), &vectors));
	dev->nr_irq_queues = vectors;
	dev->nr_io_queues = vectors + dev->nr_poll_queues;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		res = safenvme_alloc_queue(dev, qid, depth, qid > dev->nr_irq_queues);
		if (safe_is_ok(res))
			res = safenvme_alloc_prp_lists(&dev->queues.elems[qid]);
		if (safe_is_err(res))
			goto free_queues;
		if (!dev->queues.elems[qid].polled)
			dev->queues.elems[qid].irq_vector = qid - 1;
	}
	res = safenvme_create_io_queues(dev);
	if (safe_is_err(res))
		goto free_queues;
	for (qid = 1; qid <= dev->nr_irq_queues; qid++) {
		struct safenvme_queue *q = &dev->queues.elems[qid];

		res = safe_irq_request(&q->irq, dev->pdev, q->irq_vector, safenvme_irq_adapter,
				       "safenvme", q);
		if (safe_is_err(res))
			goto free_irqs;
	}
	dev->vector0 = &dev->queues.elems[1].irq;
	dev_info(&dev->pdev->dev, "%u I/O queues (%u irq via %s, %u polled)\n",
		 dev->nr_io_queues, dev->nr_irq_queues,
		 dev->pdev->msix_enabled ? "MSI-X" : dev->pdev->msi_enabled ? "MSI" : "INTx",
		 dev->nr_poll_queues);
	return safe_ok();

free_irqs:
	safenvme_free_irqs(dev);
	safenvme_delete_io_queues(dev);
free_queues:
	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		safenvme_free_queue(&dev->queues.elems[qid]);
	safe_pci_irq_vectors_free(dev->pdev);
	dev->nr_io_queues = 0;
	return res;
}

static void safenvme_teardown_io_queues(struct safenvme_dev *dev)
{
	unsigned int qid;

	if (test_bit(SAFENVME_LIVE, &dev->flags))
		safenvme_delete_io_queues(dev);
	safenvme_free_irqs(dev);
	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		safenvme_free_queue(&dev->queues.elems[qid]);
	safe_pci_irq_vectors_free(dev->pdev);
	dev->nr_io_queues = 0;
}

void safenvme_ns_drop(struct safenvme_ns *ns)
{
	safenvme_dev_arc_put(ns->dev);
}

SAFE_DEFINE_DROP(safenvme_ns_arc, safenvme_ns_arc_put);

static struct safe_result safenvme_alloc_ns(struct safenvme_dev_arc *arc, u32 nsid,
					    const struct nvme_id_ns *id)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(arc);
	const struct nvme_lbaf *lbaf = &id->lbaf[nvme_lbaf_index(id->flbas)];
	struct safe_disk_params params = { };
	struct safenvme_ns *ns;
	u64 sectors;

	SAFE_OWNED(safenvme_ns_arc, q) = NULL;

	if (!id->nsze)
		return safe_ok();
	if (lbaf->ms || lbaf->ds < SECTOR_SHIFT || lbaf->ds > SAFENVME_CTRL_PAGE_SHIFT) {
		dev_info(&dev->pdev->dev, "namespace %u: unsupported format, skipped\n", nsid);
		return safe_ok();
	}
	if (!safe_checked_shl(le64_to_cpu(id->nsze), lbaf->ds - SECTOR_SHIFT, &sectors) ||
	    !safe_index_ok(dev->nr_ns, ARRAY_SIZE(dev->disks)))
		return safe_err(-EINVAL);
	q = safenvme_ns_arc_new(GFP_KERNEL);
	if (!q)
		return safe_err(-ENOMEM);
	ns = safenvme_ns_arc_data(q);
	ns->dev = safenvme_dev_arc_clone(arc);
	ns->nsid = nsid;
	ns->lba_shift = lbaf->ds;

	params.name_prefix = dev->disk_prefix;
	params.index = nsid;
	params.logical_block_size = 1U << ns->lba_shift;
	params.capacity_sectors = sectors;
	params.write_cache = dev->volatile_wc;
	params.fua = dev->volatile_wc;
	params.parent = &dev->pdev->dev;
	params.max_hw_sectors = dev->max_hw_sectors;
	params.max_segments = SAFENVME_MAX_SEGS;
	params.virt_boundary_mask = SAFENVME_CTRL_PAGE_SIZE - 1;
	SAFE_TRY(safenvme_disk_add(&dev->disks[dev->nr_ns], &dev->tagset, &q, &params));
	WRITE_ONCE(dev->nr_ns, dev->nr_ns + 1);
	return safe_ok();
}

/* Reads Identify Controller and every Identify Namespace, adds a disk per namespace. */
static struct safe_result safenvme_scan(struct safenvme_dev_arc *arc)
{
	struct safenvme_dev *dev = safenvme_dev_arc_data(arc);
	struct safenvme_id_buf buf = { };
	const union safenvme_id *id;
	const struct nvme_id_ctrl *ctrl;
	struct safe_result res;
	unsigned int nn, nsid, mps_shift;

	SAFE_TRY(safenvme_id_buf_alloc(&buf, &dev->pdev->dev, 1, GFP_KERNEL));
	res = safenvme_identify(dev, 0, NVME_ID_CNS_CTRL, buf.dma);
	if (safe_is_ok(res))
		res = safenvme_id_buf_view(&buf, 0, &id);
	if (safe_is_err(res))
		goto free;
	ctrl = &id->ctrl;
	nn = min_t(u32, le32_to_cpu(ctrl->nn), SAFENVME_MAX_NS);
	dev->volatile_wc = ctrl->vwc & NVME_CTRL_VWC_PRESENT;
	dev->max_hw_sectors = SAFENVME_MAX_SECTORS;
	mps_shift = NVME_CAP_MPSMIN(dev->cap) + 12;
	if (ctrl->mdts)
		dev->max_hw_sectors = min_t(unsigned int, dev->max_hw_sectors,
					    1U << (ctrl->mdts + mps_shift - SECTOR_SHIFT));
	if (ctrl->rtd3e)
		dev->shutdown_timeout_ms = clamp_t(u32, le32_to_cpu(ctrl->rtd3e) / USEC_PER_MSEC,
						   SAFENVME_SHUTDOWN_TIMEOUT_MS,
						   SAFENVME_SHUTDOWN_TIMEOUT_MAX_MS);
	dev_info(&dev->pdev->dev, "%.40s, %u namespaces, write cache %s\n", ctrl->mn, nn,
		 dev->volatile_wc ? "on" : "off");

	for (nsid = 1; nsid <= nn; nsid++) {
		safenvme_id_buf_zero(&buf);
		res = safenvme_identify(dev, nsid, NVME_ID_CNS_NS, buf.dma);
		if (safe_is_ok(res))
			res = safenvme_id_buf_view(&buf, 0, &id);
		if (safe_is_ok(res))
			res = safenvme_alloc_ns(arc, nsid, &id->ns);
		if (safe_is_err(res))
			break;
	}
free:
	safenvme_id_buf_free(&buf);
	return res;
}

/*
 * Aborts a request the stopped controller held; the layer's iterator leaves one already
 * completed (its completion reaped, not yet run) alone, as upstream's cancel does.
 */
static void safenvme_cancel_rq(void *ctx, struct safe_rq rq)
{
	struct safenvme_iod *iod = safenvme_pdu(&rq);

	iod->status = safe_err(-EIO);
	iod->aborted = true;
	safe_rq_complete(&rq);
}

/*
 * Takes the controller down (upstream's nvme_dev_disable): no new commands, the I/O queues
 * deleted and CC.SHN sent on a @shutdown of a live controller, else CC.EN cleared; if it
 * does not stop, bus mastering goes off. Only then are the handlers waited out, the CQs
 * reaped and what the controller still held aborted. The disks stay quiesced.
 */
static struct safe_result safenvme_dev_disable(struct safenvme_dev *dev, bool shutdown)
{
	struct safe_result res = safe_ok();
	bool live;

	safe_mutex_locked(&dev->shutdown, unused) {
		live = test_and_clear_bit(SAFENVME_LIVE, &dev->flags);
		safenvme_quiesce(dev);
		if (shutdown && live) {
			safenvme_delete_io_queues(dev);
			res = safenvme_shutdown_ctrl(dev);
			if (safe_is_err(res))
				res = safenvme_stop_ctrl(dev);
		} else {
			res = safenvme_stop_ctrl(dev);
		}
		/* A dead controller is not coming back: no more DMA from it, whatever it says. */
		if (test_bit(SAFENVME_DEAD, &dev->flags))
			safe_pci_clear_master(dev->pdev);
		safenvme_sync_irqs(dev);
		safe_tag_set_busy_iter(&dev->tagset, safenvme_cancel_rq, NULL);
	}
	return res;
}

/*
 * Takes the controller down, requeues what it held, and brings it back with the same
 * queues; the admin queue is reset under the admin lock, so no command runs meanwhile.
 */
static void safenvme_reset_work(struct safenvme_dev *dev)
{
	struct safe_result res;
	unsigned int i, granted;

	res = safenvme_dev_disable(dev, false);
	if (safe_is_err(res))
		goto dead;
	safe_mutex_locked(&dev->admin, a) {
		safenvme_reset_queue_state(&dev->queues.elems[0]);
		res = safenvme_enable_ctrl(dev);
	}
	if (safe_is_err(res))
		goto dead;
	res = safenvme_set_queue_count(dev, dev->nr_io_queues, &granted);
	if (safe_is_ok(res) && granted < dev->nr_io_queues)
		res = safe_err(-ENOSPC);
	if (safe_is_ok(res))
		res = safenvme_create_io_queues(dev);
	if (safe_is_err(res))
		goto dead;
	set_bit(SAFENVME_LIVE, &dev->flags);
	dev_info(&dev->pdev->dev, "controller reset done\n");
	goto unquiesce;
dead:
	dev_err(&dev->pdev->dev, "controller reset failed (%d), failing all I/O\n",
		safe_to_errno(res));
	set_bit(SAFENVME_DEAD, &dev->flags);
	(void)safenvme_dev_disable(dev, false);
	for (i = 0; i < dev->nr_ns; i++)
		safe_gendisk_mark_dead(&dev->disks[i]);
unquiesce:
	safenvme_unquiesce(dev);
	clear_bit(SAFENVME_RESETTING, &dev->flags);
}

SAFE_DEFINE_WORK(safenvme_reset, safenvme_dev, reset_work, safenvme_reset_work);

/* A write to reset_controller: reset now and say whether the controller came back. */
static struct safe_result safenvme_reset_controller(struct safenvme_dev *dev)
{
	if (test_bit(SAFENVME_DEAD, &dev->flags))
		return safe_err(-ENODEV);
	safenvme_schedule_reset(dev);
	safe_work_flush(&dev->reset_work);
	return test_bit(SAFENVME_LIVE, &dev->flags) ? safe_ok() : safe_err(-EIO);
}
SAFE_PCI_ATTR_WO(reset_controller, safenvme_dev, safenvme_reset_controller);
SAFE_PCI_ATTR_GROUPS(safenvme, SAFE_PCI_ATTR(reset_controller));

static struct safe_result safenvme_map_bar(struct safenvme_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;

	SAFE_TRY(safe_pci_enable(pdev));
	SAFE_TRY(safe_pci_dma_mask(pdev, 64));
	/* Bounce buffers (swiotlb) must keep the offset in the controller page: PRPs need it. */
	safe_pci_dma_min_align(pdev, SAFENVME_CTRL_PAGE_SIZE - 1);
	SAFE_TRY(safe_pci_map_bar(pdev, 0, &dev->bar, "safenvme"));
	dev->cap = safe_mmio_read64(&dev->bar, NVME_REG_CAP);
	dev->db_stride = sizeof(u32) << NVME_CAP_STRIDE(dev->cap);
	dev->ready_timeout_ms = (NVME_CAP_TIMEOUT(dev->cap) + 1) * 500;
	dev->shutdown_timeout_ms = SAFENVME_SHUTDOWN_TIMEOUT_MS;
	if (dev->cap == ~0ULL || !(NVME_CAP_CSS(dev->cap) & NVME_CAP_CSS_NVM) ||
	    NVME_CAP_MPSMIN(dev->cap) + 12 > SAFENVME_CTRL_PAGE_SHIFT ||
	    safenvme_bar_needed(dev, 2) > safe_mmio_len(&dev->bar)) {
		dev_err(&pdev->dev, "unsupported controller (CAP 0x%llx, BAR 0x%zx)\n",
			dev->cap, safe_mmio_len(&dev->bar));
		return safe_err(-ENODEV);
	}
	return safe_ok();
}

static struct safe_result safenvme_alloc_tagset(struct safenvme_dev *dev, u16 depth)
{
	struct safe_tag_set_params p = {
		.nr_hw_queues = dev->nr_io_queues,
		.queue_depth = depth - 1,
		.nr_poll_queues = dev->nr_poll_queues,
		.timeout_sec = io_timeout,
		.affinity_pdev = dev->pdev,
	};

	return safenvme_tag_set_init(&dev->tagset, &p);
}

/* Drop of the device data: frees what outlives the binding's teardown. */
void safenvme_dev_drop(struct safenvme_dev *dev)
{
	unsigned int qid;

	for (qid = safenvme_queues_len(&dev->queues); qid > 0; qid--)
		safenvme_free_queue(&dev->queues.elems[qid - 1]);
	safenvme_queues_free(&dev->queues);
	safe_ida_free(&safenvme_instances, dev->instance);
}

SAFE_DEFINE_DROP(safenvme_dev_arc, safenvme_dev_arc_put);

/*
 * From here on a timeout kills the controller instead of resetting it; waits out a reset
 * under way and keeps new ones from starting (unbind, and probe's error path).
 */
static void safenvme_stop_resets(struct safenvme_dev *dev)
{
	set_bit(SAFENVME_REMOVING, &dev->flags);
	while (test_and_set_bit(SAFENVME_RESETTING, &dev->flags))
		msleep(20);
	safe_work_cancel_sync(&dev->reset_work);
}

static void safenvme_unwind_probe(struct safenvme_dev *dev, bool io_queues)
{
	unsigned int i;

	safenvme_stop_resets(dev);
	for (i = dev->nr_ns; i > 0; i--)
		safe_gendisk_drop(&dev->disks[i - 1]);
	dev->nr_ns = 0;
	safe_tag_set_drop(&dev->tagset);
	if (io_queues)
		safenvme_teardown_io_queues(dev);
	(void)safenvme_stop_ctrl(dev);
}

static struct safe_result safenvme_probe(struct pci_dev *pdev, struct safenvme_dev_arc **out)
{
	struct safenvme_dev *dev;
	struct safe_result res;
	unsigned int mqes, nr_queues;
	u16 depth;

	SAFE_OWNED(safenvme_dev_arc, arc) = safenvme_dev_arc_new(GFP_KERNEL);
	if (!arc)
		return safe_err(-ENOMEM);
	dev = safenvme_dev_arc_data(arc);
	dev->pdev = pdev;
	dev->instance = -1;
	dev->irq_mode = irq_mode;
	safe_mutex_init(&dev->admin);
	safe_mutex_init(&dev->shutdown);
	safenvme_reset_init(&dev->reset_work);
	SAFE_TRY(safe_ida_alloc(&safenvme_instances, &dev->instance));
	snprintf(dev->disk_prefix, sizeof(dev->disk_prefix), "safenvme%dn", dev->instance);

	SAFE_TRY(safenvme_map_bar(dev));
	mqes = NVME_CAP_MQES(dev->cap) + 1;
	depth = clamp(io_queue_depth, 2U, min(mqes, 4096U));
	nr_queues = 1 + (nr_io_queues ?: num_online_cpus()) + poll_queues;
	SAFE_TRY(safenvme_queues_alloc(&dev->queues, nr_queues, GFP_KERNEL));
	SAFE_TRY(safenvme_alloc_queue(dev, 0, min(SAFENVME_ADMIN_DEPTH, mqes), false));

	SAFE_TRY(safenvme_disable_ctrl(dev));
	SAFE_TRY(safenvme_enable_ctrl(dev));
	res = safenvme_setup_io_queues(dev, depth);
	if (safe_is_err(res)) {
		safenvme_unwind_probe(dev, false);
		return res;
	}
	res = safenvme_alloc_tagset(dev, depth);
	if (safe_is_ok(res)) {
		set_bit(SAFENVME_LIVE, &dev->flags);
		res = safenvme_scan(arc);
	}
	if (safe_is_err(res)) {
		safenvme_unwind_probe(dev, true);
		return res;
	}
	*out = safe_take(arc);
	return safe_ok();
}

static void safenvme_remove(struct pci_dev *pdev, struct safenvme_dev *dev)
{
	unsigned int i;

	safenvme_stop_resets(dev);
	for (i = dev->nr_ns; i > 0; i--)
		safe_gendisk_drop(&dev->disks[i - 1]);
	dev->nr_ns = 0;
	safe_tag_set_drop(&dev->tagset);
	safenvme_teardown_io_queues(dev);
	if (test_bit(SAFENVME_DEAD, &dev->flags))
		(void)safenvme_stop_ctrl(dev);
	else
		(void)safenvme_shutdown_ctrl(dev);
}

/*
 * Reboot or power-off with the controller bound: a normal shutdown (CC.SHN) so it can
 * flush its cache and count a safe shutdown, as upstream's nvme_shutdown.
 */
static void safenvme_shutdown(struct pci_dev *pdev, struct safenvme_dev *dev)
{
	safenvme_stop_resets(dev);
	set_bit(SAFENVME_DEAD, &dev->flags);
	(void)safenvme_dev_disable(dev, true);
	safenvme_unquiesce(dev);
}

SAFE_PCI_DRIVER(safenvme_driver, KBUILD_MODNAME, safenvme_dev, safenvme_probe, safenvme_remove,
		safenvme_shutdown, safenvme_groups);
/* Refuses bad parameters with one line naming them, before any controller is touched. */
static struct safe_result safenvme_check_params(void)
{
	if (io_queue_depth < 2 || io_queue_depth > 4096)
		pr_err("safenvme: io_queue_depth=%u: expected 2..4096\n", io_queue_depth);
	else if (nr_io_queues > 1024)
		pr_err("safenvme: nr_io_queues=%u: expected 0..1024\n", nr_io_queues);
	else if (poll_queues > 64)
		pr_err("safenvme: poll_queues=%u: expected 0..64\n", poll_queues);
	else if (irq_mode > SAFENVME_IRQ_INTX)
		pr_err("safenvme: irq_mode=%u: expected 0 (MSI-X), 1 (MSI) or 2 (INTx)\n", irq_mode);
	else if (!io_timeout || io_timeout > 3600)
		pr_err("safenvme: io_timeout=%u: expected 1..3600 seconds\n", io_timeout);
	else if (max_retries > 255)
		pr_err("safenvme: max_retries=%u: expected 0..255\n", max_retries);
	else
		return safe_ok();
	return safe_err(-EINVAL);
}

static int __init safenvme_init(void)
{
	struct safe_result res = safenvme_check_params();

	if (safe_is_err(res))
		return safe_to_errno(res);
	return safe_to_errno(safe_pci_register(&safenvme_driver));
}

static void __exit safenvme_exit(void)
{
	safe_pci_unregister(&safenvme_driver);
}

module_init(safenvme_init);
module_exit(safenvme_exit);

MODULE_DESCRIPTION("NVMe PCIe driver on the safe layer, twin of rawnvme (twinbench)");
MODULE_LICENSE("GPL");

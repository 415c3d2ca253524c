// SPDX-License-Identifier: GPL-2.0
/*
 * rawnvme: a minimal NVMe PCIe driver written against the kernel API directly.
 *
 * It is the raw C twin of safenvme: same algorithm, same parameters, same data
 * structures, no abstraction layer. It maps BAR0, brings the controller up
 * through CC/CSTS, runs a polled admin queue, asks for one I/O queue pair per
 * CPU (plus optional polled queues), and exposes every active namespace as a
 * blk-mq disk /dev/rawnvme<C>n<N>. It has no PCI id table: it binds only when
 * told to, through driver_override or new_id.
 */
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>

#include "../compat.h"
#include "rawnvme.h"

#define RAWNVME_ADMIN_TIMEOUT_MS	5000

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

static DEFINE_IDA(rawnvme_instances);

static u32 __iomem *rawnvme_doorbell(struct rawnvme_dev *dev, u16 qid, bool cq)
{
	return dev->bar + NVME_REG_DBS + (2 * qid + cq) * dev->db_stride;
}

static resource_size_t rawnvme_bar_needed(struct rawnvme_dev *dev, unsigned int nr_queues)
{
	return NVME_REG_DBS + 2 * nr_queues * dev->db_stride;
}

static int rawnvme_wait_csts(struct rawnvme_dev *dev, u32 mask, u32 want, u32 timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	u32 csts;

	for (;;) {
		csts = readl(dev->bar + NVME_REG_CSTS);
		if (csts == ~0U)
			return -ENODEV;
		if ((csts & mask) == want)
			return 0;
		if (time_after(jiffies, deadline)) {
			dev_err(&dev->pdev->dev, "CSTS 0x%x: timeout waiting for 0x%x\n",
				csts, want);
			return -ETIMEDOUT;
		}
		usleep_range(1000, 2000);
	}
}

static int rawnvme_disable_ctrl(struct rawnvme_dev *dev)
{
	u32 cc = readl(dev->bar + NVME_REG_CC);

	set_bit(RAWNVME_DISABLED, &dev->flags);
	cc &= ~(NVME_CC_ENABLE | NVME_CC_SHN_MASK);
	writel(cc, dev->bar + NVME_REG_CC);
	return rawnvme_wait_csts(dev, NVME_CSTS_RDY, 0, dev->ready_timeout_ms);
}

/*
 * Disables the controller; if it does not stop, turns bus mastering off so it cannot DMA
 * into buffers the driver is about to unmap or free (upstream disables the PCI device).
 */
static int rawnvme_stop_ctrl(struct rawnvme_dev *dev)
{
	int ret = rawnvme_disable_ctrl(dev);

	if (ret) {
		dev_err(&dev->pdev->dev, "controller did not stop, bus mastering off\n");
		pci_clear_master(dev->pdev);
	}
	return ret;
}

static int rawnvme_enable_ctrl(struct rawnvme_dev *dev)
{
	struct rawnvme_queue *aq = &dev->queues[0];
	u32 cc;
	int ret;

	writel((aq->depth - 1) << 16 | (aq->depth - 1), dev->bar + NVME_REG_AQA);
	lo_hi_writeq(aq->sq_dma, dev->bar + NVME_REG_ASQ);
	lo_hi_writeq(aq->cq_dma, dev->bar + NVME_REG_ACQ);
	cc = NVME_CC_CSS_NVM | (RAWNVME_CTRL_PAGE_SHIFT - 12) << NVME_CC_MPS_SHIFT |
	     NVME_CC_AMS_RR | NVME_CC_SHN_NONE | RAWNVME_SQES << NVME_CC_IOSQES_SHIFT |
	     RAWNVME_CQES << NVME_CC_IOCQES_SHIFT | NVME_CC_ENABLE;
	writel(cc, dev->bar + NVME_REG_CC);
	ret = rawnvme_wait_csts(dev, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY,
				dev->ready_timeout_ms);
	if (!ret)
		clear_bit(RAWNVME_DISABLED, &dev->flags);
	return ret;
}

static int rawnvme_shutdown_ctrl(struct rawnvme_dev *dev)
{
	u32 cc = readl(dev->bar + NVME_REG_CC);
	int ret;

	set_bit(RAWNVME_DISABLED, &dev->flags);
	cc = (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL;
	writel(cc, dev->bar + NVME_REG_CC);
	ret = rawnvme_wait_csts(dev, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT,
				dev->shutdown_timeout_ms);
	if (ret)
		dev_warn(&dev->pdev->dev, "shutdown did not complete\n");
	return ret;
}

static void rawnvme_reset_queue_state(struct rawnvme_queue *q)
{
	unsigned long flags;

	spin_lock(&q->sq_lock);
	q->sq_tail = 0;
	q->last_sq_tail = 0;
	spin_unlock(&q->sq_lock);
	spin_lock_irqsave(&q->cq_lock, flags);
	q->cq_head = 0;
	q->cq_phase = 1;
	memset(q->cqes, 0, q->depth * sizeof(*q->cqes));
	spin_unlock_irqrestore(&q->cq_lock, flags);
}

/*
 * A queue's CQ lock is a hard irq lock only where an irq handler reaps the queue: an I/O
 * queue with a vector, whose lock is taken irqsave everywhere else. The admin queue
 * (polled with its vector off) and the polled queues have no handler; their CQ locks are
 * a lock class of their own, taken plainly, as upstream's poll lock.
 */
static struct lock_class_key rawnvme_unhandled_cq_class;

static int rawnvme_alloc_queue(struct rawnvme_dev *dev, u16 qid, u16 depth, bool polled)
{
	struct rawnvme_queue *q = &dev->queues[qid];
	struct device *dmadev = &dev->pdev->dev;

	q->cqes = dma_alloc_coherent(dmadev, depth * sizeof(*q->cqes), &q->cq_dma, GFP_KERNEL);
	if (!q->cqes)
		return -ENOMEM;
	q->sqes = dma_alloc_coherent(dmadev, depth * sizeof(*q->sqes), &q->sq_dma, GFP_KERNEL);
	if (!q->sqes) {
		dma_free_coherent(dmadev, depth * sizeof(*q->cqes), q->cqes, q->cq_dma);
		q->cqes = NULL;
		return -ENOMEM;
	}
	q->dev = dev;
	q->qid = qid;
	q->depth = depth;
	q->polled = polled;
	q->irq_vector = -1;
	q->sq_db = rawnvme_doorbell(dev, qid, false);
	q->cq_db = rawnvme_doorbell(dev, qid, true);
	spin_lock_init(&q->sq_lock);
	spin_lock_init(&q->cq_lock);
	if (!qid || polled)
		lockdep_set_class(&q->cq_lock, &rawnvme_unhandled_cq_class);
	rawnvme_reset_queue_state(q);
	return 0;
}

/* One PRP list of RAWNVME_PRP_ENTRIES per tag, for the requests of one I/O queue. */
static int rawnvme_alloc_prp_lists(struct rawnvme_queue *q)
{
	size_t bytes = (size_t)q->depth * RAWNVME_PRP_ENTRIES * sizeof(__le64);

	q->prp_lists = dma_alloc_coherent(&q->dev->pdev->dev, bytes, &q->prp_dma, GFP_KERNEL);
	return q->prp_lists ? 0 : -ENOMEM;
}

static void rawnvme_free_queue(struct rawnvme_queue *q)
{
	struct device *dmadev;

	if (!q->sqes)
		return;
	dmadev = &q->dev->pdev->dev;
	if (q->prp_lists)
		dma_free_coherent(dmadev, (size_t)q->depth * RAWNVME_PRP_ENTRIES * sizeof(__le64),
				  q->prp_lists, q->prp_dma);
	q->prp_lists = NULL;
	dma_free_coherent(dmadev, q->depth * sizeof(*q->sqes), q->sqes, q->sq_dma);
	dma_free_coherent(dmadev, q->depth * sizeof(*q->cqes), q->cqes, q->cq_dma);
	q->sqes = NULL;
	q->cqes = NULL;
}

static void rawnvme_ring_sq(struct rawnvme_queue *q)
{
	if (q->sq_tail == q->last_sq_tail)
		return;
	writel(q->sq_tail, q->sq_db);
	q->last_sq_tail = q->sq_tail;
}

static void rawnvme_push_sqe(struct rawnvme_queue *q, const struct nvme_command *cmd)
{
	memcpy(&q->sqes[q->sq_tail], cmd, sizeof(*cmd));
	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;
}

static bool rawnvme_cqe_pending(struct rawnvme_queue *q)
{
	return (le16_to_cpu(READ_ONCE(q->cqes[q->cq_head].status)) & 1) == q->cq_phase;
}

static void rawnvme_advance_cq(struct rawnvme_queue *q)
{
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->cq_phase ^= 1;
	}
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
static int rawnvme_admin_exec(struct rawnvme_dev *dev, struct nvme_command *cmd, u32 *result)
{
	struct rawnvme_queue *aq = &dev->queues[0];
	struct nvme_completion cqe = { };
	unsigned long deadline;
	bool done = false;
	u16 status;
	int ret = 0;

	mutex_lock(&dev->admin_lock);
	if (test_bit(RAWNVME_DISABLED, &dev->flags)) {
		mutex_unlock(&dev->admin_lock);
		return -ENODEV;
	}
	if (dev->vector0_irq)
		disable_irq(dev->vector0_irq);
	cmd->common.command_id = ++dev->admin_cid;
	spin_lock(&aq->sq_lock);
	rawnvme_push_sqe(aq, cmd);
	rawnvme_ring_sq(aq);
	spin_unlock(&aq->sq_lock);
	deadline = jiffies + msecs_to_jiffies(RAWNVME_ADMIN_TIMEOUT_MS);
	for (;;) {
		spin_lock(&aq->cq_lock);
		done = rawnvme_cqe_pending(aq);
		if (done) {
			dma_rmb();
			cqe = aq->cqes[aq->cq_head];
			rawnvme_advance_cq(aq);
			writel(aq->cq_head, aq->cq_db);
		}
		spin_unlock(&aq->cq_lock);
		if (done)
			break;
		if (time_after(jiffies, deadline)) {
			dev_err(&dev->pdev->dev, "admin opcode 0x%x timed out, stopping controller\n",
				cmd->common.opcode);
			rawnvme_stop_ctrl(dev);
			ret = -ETIMEDOUT;
			break;
		}
		usleep_range(20, 100);
	}
	if (dev->vector0_irq)
		enable_irq(dev->vector0_irq);
	mutex_unlock(&dev->admin_lock);
	if (ret)
		return ret;
	status = le16_to_cpu(cqe.status) >> 1;
	if (cqe.command_id != cmd->common.command_id) {
		dev_err(&dev->pdev->dev, "admin completion for cid %u, expected %u\n",
			cqe.command_id, cmd->common.command_id);
		return -EIO;
	}
	if (status) {
		dev_err(&dev->pdev->dev, "admin opcode 0x%x failed, status 0x%x\n",
			cmd->common.opcode, status);
		return -EIO;
	}
	if (result)
		*result = le32_to_cpu(cqe.result.u32);
	return 0;
}

static int rawnvme_identify(struct rawnvme_dev *dev, u32 nsid, u8 cns, dma_addr_t buf)
{
	struct nvme_command c = { };

	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = cns;
	c.identify.dptr.prp1 = cpu_to_le64(buf);
	return rawnvme_admin_exec(dev, &c, NULL);
}

/* Asks for @count I/O queue pairs; returns how many the controller granted. */
static int rawnvme_set_queue_count(struct rawnvme_dev *dev, unsigned int count,
				   unsigned int *granted)
{
	struct nvme_command c = { };
	u32 result;
	int ret;

	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	c.features.dword11 = cpu_to_le32((count - 1) | (count - 1) << 16);
	ret = rawnvme_admin_exec(dev, &c, &result);
	if (ret)
		return ret;
	*granted = min(result & 0xffff, result >> 16) + 1;
	return 0;
}

static int rawnvme_create_io_queue(struct rawnvme_queue *q)
{
	struct nvme_command c = { };
	u16 flags = NVME_QUEUE_PHYS_CONTIG;
	int ret;

	if (!q->polled)
		flags |= NVME_CQ_IRQ_ENABLED;
	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(q->cq_dma);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(q->depth - 1);
	c.create_cq.cq_flags = cpu_to_le16(flags);
	c.create_cq.irq_vector = cpu_to_le16(q->polled ? 0 : q->irq_vector);
	ret = rawnvme_admin_exec(q->dev, &c, NULL);
	if (ret)
		return ret;

	c = (struct nvme_command){ };
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(q->sq_dma);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(q->depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	ret = rawnvme_admin_exec(q->dev, &c, NULL);
	if (ret) {
		c = (struct nvme_command){ };
		c.delete_queue.opcode = nvme_admin_delete_cq;
		c.delete_queue.qid = cpu_to_le16(q->qid);
		rawnvme_admin_exec(q->dev, &c, NULL);
	}
	return ret;
}

static void rawnvme_delete_io_queue(struct rawnvme_queue *q)
{
	struct nvme_command c = { };

	c.delete_queue.opcode = nvme_admin_delete_sq;
	c.delete_queue.qid = cpu_to_le16(q->qid);
	if (rawnvme_admin_exec(q->dev, &c, NULL))
		return;
	c.delete_queue.opcode = nvme_admin_delete_cq;
	rawnvme_admin_exec(q->dev, &c, NULL);
}

static blk_status_t rawnvme_status_to_blk(u16 status)
{
	switch (status & 0x7ff) {
	case NVME_SC_SUCCESS:
		return BLK_STS_OK;
	case NVME_SC_CAP_EXCEEDED:
		return BLK_STS_NOSPC;
	case NVME_SC_LBA_RANGE:
		return BLK_STS_TARGET;
	case NVME_SC_INVALID_OPCODE:
	case NVME_SC_INVALID_FIELD:
	case COMPAT_NVME_SC_ONCS_NOT_SUPPORTED:
		return BLK_STS_NOTSUPP;
	case NVME_SC_WRITE_FAULT:
	case NVME_SC_READ_ERROR:
	case NVME_SC_UNWRITTEN_BLOCK:
		return BLK_STS_MEDIUM;
	default:
		return BLK_STS_IOERR;
	}
}

static void rawnvme_handle_cqe(struct rawnvme_queue *q, struct nvme_completion *cqe)
{
	struct rawnvme_dev *dev = q->dev;
	struct rawnvme_iod *iod;
	struct request *rq;
	u16 tag = cqe->command_id;

	if (unlikely(tag >= dev->tagset.queue_depth)) {
		dev_warn_ratelimited(&dev->pdev->dev, "queue %u: bad command id %u\n",
				     q->qid, tag);
		return;
	}
	rq = blk_mq_tag_to_rq(dev->tagset.tags[q->qid - 1], tag);
	if (unlikely(!rq)) {
		dev_warn_ratelimited(&dev->pdev->dev, "queue %u: no request for tag %u\n",
				     q->qid, tag);
		return;
	}
	iod = blk_mq_rq_to_pdu(rq);
	iod->status = rawnvme_status_to_blk(le16_to_cpu(cqe->status) >> 1);
	blk_mq_complete_request(rq);
}

static int rawnvme_process_cq(struct rawnvme_queue *q)
{
	int found = 0;

	while (rawnvme_cqe_pending(q)) {
		dma_rmb();
		rawnvme_handle_cqe(q, &q->cqes[q->cq_head]);
		rawnvme_advance_cq(q);
		found++;
	}
	if (found)
		writel(q->cq_head, q->cq_db);
	return found;
}

/* From the hard irq handler, or the poller of a queue that has no handler. */
static int rawnvme_process_cq_locked(struct rawnvme_queue *q)
{
	int found;

	spin_lock(&q->cq_lock);
	found = rawnvme_process_cq(q);
	spin_unlock(&q->cq_lock);
	return found;
}

/* From process context on any queue: the handler may share the CPU (or an INTx line). */
static int rawnvme_reap_cq(struct rawnvme_queue *q)
{
	unsigned long flags;
	int found;

	spin_lock_irqsave(&q->cq_lock, flags);
	found = rawnvme_process_cq(q);
	spin_unlock_irqrestore(&q->cq_lock, flags);
	return found;
}

static irqreturn_t rawnvme_irq(int irq, void *data)
{
	return rawnvme_process_cq_locked(data) ? IRQ_HANDLED : IRQ_NONE;
}

static void rawnvme_setup_prps(struct rawnvme_queue *q, struct rawnvme_iod *iod, u16 tag,
			       unsigned int len, struct nvme_command *cmd)
{
	__le64 *prp_list = &q->prp_lists[tag * RAWNVME_PRP_ENTRIES];
	struct scatterlist *sg = iod->sg;
	u64 dma_addr = sg_dma_address(sg);
	u32 dma_len = sg_dma_len(sg);
	u32 first = RAWNVME_CTRL_PAGE_SIZE - (dma_addr & (RAWNVME_CTRL_PAGE_SIZE - 1));
	unsigned int n = 0;

	cmd->rw.dptr.prp1 = cpu_to_le64(dma_addr);
	cmd->rw.dptr.prp2 = 0;
	if (len <= first)
		return;
	len -= first;
	if (len <= RAWNVME_CTRL_PAGE_SIZE && dma_len > first) {
		cmd->rw.dptr.prp2 = cpu_to_le64(dma_addr + first);
		return;
	}
	for (;;) {
		if (dma_len > first) {
			dma_addr += first;
			dma_len -= first;
		} else {
			sg = sg_next(sg);
			dma_addr = sg_dma_address(sg);
			dma_len = sg_dma_len(sg);
		}
		prp_list[n++] = cpu_to_le64(dma_addr);
		if (len <= RAWNVME_CTRL_PAGE_SIZE)
			break;
		len -= RAWNVME_CTRL_PAGE_SIZE;
		first = RAWNVME_CTRL_PAGE_SIZE;
	}
	if (n == 1)
		cmd->rw.dptr.prp2 = prp_list[0];
	else
		cmd->rw.dptr.prp2 = cpu_to_le64(q->prp_dma +
						tag * RAWNVME_PRP_ENTRIES * sizeof(__le64));
}

/*
 * A request of one segment within two controller pages (every 4 KiB I/O) needs no segment
 * list: its one bvec is mapped directly, into the first sg entry's DMA fields.
 */
static bool rawnvme_map_single(struct rawnvme_dev *dev, struct request *rq,
			       struct rawnvme_iod *iod, blk_status_t *ret)
{
	struct bio_vec bv;
	dma_addr_t addr;

	if (blk_rq_nr_phys_segments(rq) != 1)
		return false;
	bv = req_bvec(rq);
	if (bv.bv_len != blk_rq_payload_bytes(rq) ||
	    bv.bv_offset + bv.bv_len > 2 * RAWNVME_CTRL_PAGE_SIZE)
		return false;
	addr = dma_map_bvec(&dev->pdev->dev, &bv, rq_dma_dir(rq), 0);
	if (dma_mapping_error(&dev->pdev->dev, addr)) {
		*ret = BLK_STS_RESOURCE;
		return true;
	}
	sg_dma_address(iod->sg) = addr;
	sg_dma_len(iod->sg) = bv.bv_len;
	iod->single_len = bv.bv_len;
	*ret = BLK_STS_OK;
	return true;
}

static blk_status_t rawnvme_map_data(struct rawnvme_queue *q, struct request *rq,
				     struct nvme_command *cmd)
{
	struct rawnvme_dev *dev = q->dev;
	struct rawnvme_iod *iod = blk_mq_rq_to_pdu(rq);
	blk_status_t ret;
	int nents;

	if (rawnvme_map_single(dev, rq, iod, &ret)) {
		if (ret == BLK_STS_OK)
			rawnvme_setup_prps(q, iod, rq->tag, iod->single_len, cmd);
		return ret;
	}

	sg_init_table(iod->sg, blk_rq_nr_phys_segments(rq));
	nents = compat_blk_rq_map_sg(rq, iod->sg);
	if (!nents)
		return BLK_STS_IOERR;
	if (!dma_map_sg_attrs(&dev->pdev->dev, iod->sg, nents, rq_dma_dir(rq),
			      DMA_ATTR_NO_WARN))
		return BLK_STS_RESOURCE;
	iod->nents = nents;
	rawnvme_setup_prps(q, iod, rq->tag, blk_rq_payload_bytes(rq), cmd);
	return BLK_STS_OK;
}

static void rawnvme_unmap_data(struct rawnvme_dev *dev, struct request *rq)
{
	struct rawnvme_iod *iod = blk_mq_rq_to_pdu(rq);

	if (iod->single_len) {
		dma_unmap_page(&dev->pdev->dev, sg_dma_address(iod->sg), iod->single_len,
			       rq_dma_dir(rq));
		iod->single_len = 0;
		return;
	}
	if (!iod->nents)
		return;
	dma_unmap_sg(&dev->pdev->dev, iod->sg, iod->nents, rq_dma_dir(rq));
	iod->nents = 0;
}

static blk_status_t rawnvme_setup_cmd(struct rawnvme_ns *ns, struct rawnvme_queue *q,
				      struct request *rq, struct nvme_command *cmd)
{
	*cmd = (struct nvme_command){ };
	cmd->common.command_id = rq->tag;
	cmd->common.nsid = cpu_to_le32(ns->nsid);
	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		cmd->common.opcode = nvme_cmd_flush;
		return BLK_STS_OK;
	case REQ_OP_READ:
		cmd->rw.opcode = nvme_cmd_read;
		break;
	case REQ_OP_WRITE:
		cmd->rw.opcode = nvme_cmd_write;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	cmd->rw.slba = cpu_to_le64(blk_rq_pos(rq) >> (ns->lba_shift - SECTOR_SHIFT));
	cmd->rw.length = cpu_to_le16((blk_rq_bytes(rq) >> ns->lba_shift) - 1);
	if (rq->cmd_flags & REQ_FUA)
		cmd->rw.control = cpu_to_le16(NVME_RW_FUA);
	return rawnvme_map_data(q, rq, cmd);
}

static blk_status_t rawnvme_queue_rq(struct blk_mq_hw_ctx *hctx,
				     const struct blk_mq_queue_data *bd)
{
	struct rawnvme_queue *q = hctx->driver_data;
	struct rawnvme_ns *ns = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct rawnvme_iod *iod = blk_mq_rq_to_pdu(rq);
	struct nvme_command cmd;
	blk_status_t ret;

	if (unlikely(!test_bit(RAWNVME_LIVE, &q->dev->flags)))
		return test_bit(RAWNVME_DEAD, &q->dev->flags) ? BLK_STS_IOERR :
								BLK_STS_RESOURCE;
	iod->status = BLK_STS_OK;
	iod->aborted = false;
	iod->nents = 0;
	iod->single_len = 0;
	ret = rawnvme_setup_cmd(ns, q, rq, &cmd);
	if (ret)
		return ret;
	blk_mq_start_request(rq);
	spin_lock(&q->sq_lock);
	rawnvme_push_sqe(q, &cmd);
	if (bd->last)
		rawnvme_ring_sq(q);
	spin_unlock(&q->sq_lock);
	return BLK_STS_OK;
}

static void rawnvme_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct rawnvme_queue *q = hctx->driver_data;

	spin_lock(&q->sq_lock);
	rawnvme_ring_sq(q);
	spin_unlock(&q->sq_lock);
}

/* A request a reset aborted goes back to the block layer, as upstream retries it. */
static bool rawnvme_should_retry(struct rawnvme_dev *dev, struct request *rq,
				 struct rawnvme_iod *iod)
{
	return iod->aborted && !test_bit(RAWNVME_DEAD, &dev->flags) &&
	       !blk_noretry_request(rq) && iod->retries < max_retries;
}

static void rawnvme_complete(struct request *rq)
{
	struct rawnvme_ns *ns = rq->q->queuedata;
	struct rawnvme_iod *iod = blk_mq_rq_to_pdu(rq);

	rawnvme_unmap_data(ns->dev, rq);
	if (rawnvme_should_retry(ns->dev, rq, iod)) {
		iod->retries++;
		blk_mq_requeue_request(rq, true);
		return;
	}
	iod->retries = 0;
	blk_mq_end_request(rq, iod->status);
}

/* Polled queues have no irq handler: the plain lock suffices, as upstream's poll lock. */
static int rawnvme_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	return rawnvme_process_cq_locked(hctx->driver_data);
}

static void rawnvme_quiesce(struct rawnvme_dev *dev)
{
	unsigned int i;

	if (test_and_set_bit(RAWNVME_QUIESCED, &dev->flags))
		return;
	dev->nr_quiesced = READ_ONCE(dev->nr_ns);
	for (i = 0; i < dev->nr_quiesced; i++)
		blk_mq_quiesce_queue(dev->ns[i]->disk->queue);
}

static void rawnvme_unquiesce(struct rawnvme_dev *dev)
{
	unsigned int i;

	if (!test_and_clear_bit(RAWNVME_QUIESCED, &dev->flags))
		return;
	for (i = 0; i < dev->nr_quiesced; i++)
		blk_mq_unquiesce_queue(dev->ns[i]->disk->queue);
	dev->nr_quiesced = 0;
}

static int rawnvme_dev_disable(struct rawnvme_dev *dev, bool shutdown);

static void rawnvme_schedule_reset(struct rawnvme_dev *dev)
{
	if (test_bit(RAWNVME_DEAD, &dev->flags))
		return;
	if (!test_and_set_bit(RAWNVME_RESETTING, &dev->flags))
		queue_work(system_unbound_wq, &dev->reset_work);
}

/*
 * Reaps the request's CQ first (a lost interrupt is not a dead controller), as upstream.
 * An interrupt-driven queue's vector is masked meanwhile.
 */
static void rawnvme_timeout_reap(struct rawnvme_queue *q)
{
	int irq = q->polled ? 0 : pci_irq_vector(q->dev->pdev, q->irq_vector);

	if (irq > 0)
		disable_irq(irq);
	rawnvme_reap_cq(q);
	if (irq > 0)
		enable_irq(irq);
}

static enum blk_eh_timer_return rawnvme_timeout(struct request *rq)
{
	struct rawnvme_ns *ns = rq->q->queuedata;
	struct rawnvme_dev *dev = ns->dev;

	rawnvme_timeout_reap(rq->mq_hctx->driver_data);
	if (blk_mq_rq_state(rq) != MQ_RQ_IN_FLIGHT) {
		dev_warn_ratelimited(&dev->pdev->dev, "tag %d timed out, completion reaped\n",
				     rq->tag);
		return BLK_EH_DONE;
	}
	if (test_bit(RAWNVME_REMOVING, &dev->flags))
		set_bit(RAWNVME_DEAD, &dev->flags);
	if (test_bit(RAWNVME_DEAD, &dev->flags)) {
		/* Stops the controller, reaps, and fails every request it held, this one too. */
		rawnvme_dev_disable(dev, false);
		rawnvme_unquiesce(dev);
		return BLK_EH_DONE;
	}
	dev_warn_ratelimited(&dev->pdev->dev, "tag %d timed out, resetting controller\n",
			     rq->tag);
	rawnvme_schedule_reset(dev);
	return BLK_EH_RESET_TIMER;
}

static int rawnvme_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int hctx_idx)
{
	struct rawnvme_dev *dev = data;

	hctx->driver_data = &dev->queues[hctx_idx + 1];
	return 0;
}

static void rawnvme_map_queues(struct blk_mq_tag_set *set)
{
	struct rawnvme_dev *dev = set->driver_data;
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];

	map->nr_queues = dev->nr_irq_queues;
	map->queue_offset = 0;
	compat_blk_mq_map_queues(map, dev->pdev);
	if (set->nr_maps == 1)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = dev->nr_poll_queues;
	map->queue_offset = dev->nr_irq_queues;
	blk_mq_map_queues(map);
}

static const struct blk_mq_ops rawnvme_mq_ops = {
	.queue_rq	= rawnvme_queue_rq,
	.commit_rqs	= rawnvme_commit_rqs,
	.complete	= rawnvme_complete,
	.poll		= rawnvme_poll,
	.timeout	= rawnvme_timeout,
	.init_hctx	= rawnvme_init_hctx,
	.map_queues	= rawnvme_map_queues,
};

static const struct block_device_operations rawnvme_fops = {
	.owner		= THIS_MODULE,
};

static unsigned int rawnvme_irq_flags(struct rawnvme_dev *dev)
{
	switch (dev->irq_mode) {
	case RAWNVME_IRQ_MSI:
		return PCI_IRQ_MSI | PCI_IRQ_INTX | PCI_IRQ_AFFINITY;
	case RAWNVME_IRQ_INTX:
		return PCI_IRQ_INTX;
	default:
		return PCI_IRQ_ALL_TYPES | PCI_IRQ_AFFINITY;
	}
}

static void rawnvme_free_irqs(struct rawnvme_dev *dev)
{
	unsigned int qid;

	dev->vector0_irq = 0;
	for (qid = dev->nr_io_queues; qid >= 1; qid--) {
		struct rawnvme_queue *q = &dev->queues[qid];

		if (q->polled || !q->sqes)
			continue;
		free_irq(pci_irq_vector(dev->pdev, q->irq_vector), q);
	}
}

/* Waits for running handlers and reaps what the (disabled) controller posted before. */
static void rawnvme_sync_irqs(struct rawnvme_dev *dev)
{
	unsigned int qid;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		struct rawnvme_queue *q = &dev->queues[qid];

		if (!q->polled)
			synchronize_irq(pci_irq_vector(dev->pdev, q->irq_vector));
		rawnvme_reap_cq(q);
	}
}

static void rawnvme_delete_io_queues(struct rawnvme_dev *dev)
{
	unsigned int qid;

	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		rawnvme_delete_io_queue(&dev->queues[qid]);
}

static int rawnvme_create_io_queues(struct rawnvme_dev *dev)
{
	unsigned int qid;
	int ret;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		rawnvme_reset_queue_state(&dev->queues[qid]);
		ret = rawnvme_create_io_queue(&dev->queues[qid]);
		if (ret)
			goto delete;
	}
	return 0;
delete:
	while (--qid >= 1)
		rawnvme_delete_io_queue(&dev->queues[qid]);
	return ret;
}

/* Sizes the I/O queue set, allocates vectors and queue memory, creates the queues. */
static int rawnvme_setup_io_queues(struct rawnvme_dev *dev)
{
	unsigned int want, granted, nr, qid;
	int vectors, ret;

	want = (nr_io_queues ?: num_online_cpus()) + poll_queues;
	want = min_t(unsigned int, want, 0xffff);
	ret = rawnvme_set_queue_count(dev, want, &granted);
	if (ret)
		return ret;
	nr = min(want, granted);
	while (nr > 1 && rawnvme_bar_needed(dev, nr + 1) > dev->bar_size)
		nr--;
	dev->nr_poll_queues = min(poll_queues, nr - 1);
	vectors = pci_alloc_irq_vectors(dev->pdev, 1, nr - dev->nr_poll_queues,
					rawnvme_irq_flags(dev));
	if (vectors < 0)
		return vectors;
	dev->nr_vectors = vectors;
	dev->nr_irq_queues = vectors;
	dev->nr_io_queues = vectors + dev->nr_poll_queues;

	for (qid = 1; qid <= dev->nr_io_queues; qid++) {
		ret = rawnvme_alloc_queue(dev, qid, dev->tagset.queue_depth + 1,
					  qid > dev->nr_irq_queues);
		if (!ret)
			ret = rawnvme_alloc_prp_lists(&dev->queues[qid]);
		if (ret)
			goto free_queues;
		if (!dev->queues[qid].polled)
			dev->queues[qid].irq_vector = qid - 1;
	}
	ret = rawnvme_create_io_queues(dev);
	if (ret)
		goto free_queues;
	for (qid = 1; qid <= dev->nr_irq_queues; qid++) {
		struct rawnvme_queue *q = &dev->queues[qid];

		ret = request_irq(pci_irq_vector(dev->pdev, q->irq_vector), rawnvme_irq,
				  dev->pdev->msix_enabled ? 0 : IRQF_SHARED, "rawnvme", q);
		if (ret)
			goto free_irqs;
	}
	dev->vector0_irq = pci_irq_vector(dev->pdev, 0);
	dev_info(&dev->pdev->dev, "%u I/O queues (%u irq via %s, %u polled)\n",
		 dev->nr_io_queues, dev->nr_irq_queues,
		 dev->pdev->msix_enabled ? "MSI-X" : dev->pdev->msi_enabled ? "MSI" : "INTx",
		 dev->nr_poll_queues);
	return 0;

free_irqs:
	while (--qid >= 1)
		free_irq(pci_irq_vector(dev->pdev, dev->queues[qid].irq_vector),
			 &dev->queues[qid]);
	rawnvme_delete_io_queues(dev);
free_queues:
	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		rawnvme_free_queue(&dev->queues[qid]);
	pci_free_irq_vectors(dev->pdev);
	dev->nr_io_queues = 0;
	return ret;
}

static void rawnvme_teardown_io_queues(struct rawnvme_dev *dev)
{
	unsigned int qid;

	if (test_bit(RAWNVME_LIVE, &dev->flags))
		rawnvme_delete_io_queues(dev);
	rawnvme_free_irqs(dev);
	for (qid = dev->nr_io_queues; qid >= 1; qid--)
		rawnvme_free_queue(&dev->queues[qid]);
	pci_free_irq_vectors(dev->pdev);
	dev->nr_io_queues = 0;
}

static int rawnvme_alloc_ns(struct rawnvme_dev *dev, u32 nsid, struct nvme_id_ns *id)
{
	struct nvme_lbaf *lbaf = &id->lbaf[nvme_lbaf_index(id->flbas)];
	struct compat_disk_limits lim = {
		.max_hw_sectors = dev->max_hw_sectors,
		.max_segments = RAWNVME_MAX_SEGS,
		.virt_boundary_mask = RAWNVME_CTRL_PAGE_SIZE - 1,
		.write_cache = dev->volatile_wc,
		.fua = dev->volatile_wc,
	};
	struct rawnvme_ns *ns;
	struct gendisk *disk;
	int ret;

	if (!id->nsze)
		return 0;
	if (lbaf->ms || lbaf->ds < SECTOR_SHIFT || lbaf->ds > RAWNVME_CTRL_PAGE_SHIFT) {
		dev_info(&dev->pdev->dev, "namespace %u: unsupported format, skipped\n", nsid);
		return 0;
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ns->dev = dev;
	ns->nsid = nsid;
	ns->lba_shift = lbaf->ds;

	lim.logical_block_size = 1U << ns->lba_shift;
	disk = compat_alloc_disk(&dev->tagset, &lim, ns);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_ns;
	}
	disk->fops = &rawnvme_fops;
	snprintf(disk->disk_name, DISK_NAME_LEN, "rawnvme%dn%u", dev->instance, nsid);
	set_capacity(disk, le64_to_cpu(id->nsze) << (ns->lba_shift - SECTOR_SHIFT));
	ns->disk = disk;

	ret = device_add_disk(&dev->pdev->dev, disk, NULL);
	if (ret)
		goto put_disk;
	dev->ns[dev->nr_ns] = ns;
	WRITE_ONCE(dev->nr_ns, dev->nr_ns + 1);
	return 0;

put_disk:
	put_disk(disk);
free_ns:
	kfree(ns);
	return ret;
}

static void rawnvme_free_ns(struct rawnvme_ns *ns)
{
	put_disk(ns->disk);
	kfree(ns);
}

/* Reads Identify Controller and every Identify Namespace, adds a disk per namespace. */
static int rawnvme_scan(struct rawnvme_dev *dev)
{
	struct nvme_id_ctrl *ctrl;
	dma_addr_t buf_dma;
	unsigned int nn, nsid, mps_shift;
	void *buf;
	int ret;

	buf = dma_alloc_coherent(&dev->pdev->dev, NVME_IDENTIFY_DATA_SIZE, &buf_dma, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = rawnvme_identify(dev, 0, NVME_ID_CNS_CTRL, buf_dma);
	if (ret)
		goto free;
	ctrl = buf;
	nn = min_t(u32, le32_to_cpu(ctrl->nn), RAWNVME_MAX_NS);
	dev->volatile_wc = ctrl->vwc & NVME_CTRL_VWC_PRESENT;
	dev->max_hw_sectors = RAWNVME_MAX_SECTORS;
	mps_shift = NVME_CAP_MPSMIN(dev->cap) + 12;
	if (ctrl->mdts)
		dev->max_hw_sectors = min_t(unsigned int, dev->max_hw_sectors,
					    1U << (ctrl->mdts + mps_shift - SECTOR_SHIFT));
	if (ctrl->rtd3e)
		dev->shutdown_timeout_ms = clamp_t(u32, le32_to_cpu(ctrl->rtd3e) / USEC_PER_MSEC,
						   RAWNVME_SHUTDOWN_TIMEOUT_MS,
						   RAWNVME_SHUTDOWN_TIMEOUT_MAX_MS);
	dev_info(&dev->pdev->dev, "%.40s, %u namespaces, write cache %s\n", ctrl->mn, nn,
		 dev->volatile_wc ? "on" : "off");

	for (nsid = 1; nsid <= nn; nsid++) {
		memset(buf, 0, NVME_IDENTIFY_DATA_SIZE);
		ret = rawnvme_identify(dev, nsid, NVME_ID_CNS_NS, buf_dma);
		if (ret)
			break;
		ret = rawnvme_alloc_ns(dev, nsid, buf);
		if (ret)
			break;
	}
free:
	dma_free_coherent(&dev->pdev->dev, NVME_IDENTIFY_DATA_SIZE, buf, buf_dma);
	return ret;
}

/*
 * Aborts a request the stopped controller held; one already completed (its completion
 * reaped, not yet run) is left alone, as upstream's cancel does.
 */
static bool rawnvme_cancel_rq(struct request *rq, void *data)
{
	struct rawnvme_iod *iod = blk_mq_rq_to_pdu(rq);

	if (blk_mq_rq_state(rq) != MQ_RQ_IN_FLIGHT)
		return true;
	iod->status = BLK_STS_IOERR;
	iod->aborted = true;
	blk_mq_complete_request(rq);
	return true;
}

/*
 * Takes the controller down (upstream's nvme_dev_disable): no new commands, the I/O queues
 * deleted and CC.SHN sent on a @shutdown of a live controller, else CC.EN cleared; if it
 * does not stop, bus mastering goes off. Only then are the handlers waited out, the CQs
 * reaped and what the controller still held aborted. The disks stay quiesced.
 */
static int rawnvme_dev_disable(struct rawnvme_dev *dev, bool shutdown)
{
	bool live;
	int ret;

	mutex_lock(&dev->shutdown_lock);
	live = test_and_clear_bit(RAWNVME_LIVE, &dev->flags);
	rawnvme_quiesce(dev);
	if (shutdown && live) {
		rawnvme_delete_io_queues(dev);
		ret = rawnvme_shutdown_ctrl(dev);
		if (ret)
			ret = rawnvme_stop_ctrl(dev);
	} else {
		ret = rawnvme_stop_ctrl(dev);
	}
	/* A dead controller is not coming back: no more DMA from it, whatever it says. */
	if (test_bit(RAWNVME_DEAD, &dev->flags))
		pci_clear_master(dev->pdev);
	rawnvme_sync_irqs(dev);
	blk_mq_tagset_busy_iter(&dev->tagset, rawnvme_cancel_rq, NULL);
	blk_mq_tagset_wait_completed_request(&dev->tagset);
	mutex_unlock(&dev->shutdown_lock);
	return ret;
}

/*
 * Takes the controller down, requeues what it held, and brings it back with the same
 * queues; the admin queue is reset under the admin lock, so no command runs meanwhile.
 */
static void rawnvme_reset_work(struct work_struct *work)
{
	struct rawnvme_dev *dev = container_of(work, struct rawnvme_dev, reset_work);
	unsigned int i, granted;
	int ret;

	ret = rawnvme_dev_disable(dev, false);
	if (ret)
		goto dead;
	mutex_lock(&dev->admin_lock);
	rawnvme_reset_queue_state(&dev->queues[0]);
	ret = rawnvme_enable_ctrl(dev);
	mutex_unlock(&dev->admin_lock);
	if (ret)
		goto dead;
	ret = rawnvme_set_queue_count(dev, dev->nr_io_queues, &granted);
	if (!ret && granted < dev->nr_io_queues)
		ret = -ENOSPC;
	if (!ret)
		ret = rawnvme_create_io_queues(dev);
	if (ret)
		goto dead;
	set_bit(RAWNVME_LIVE, &dev->flags);
	dev_info(&dev->pdev->dev, "controller reset done\n");
	goto unquiesce;
dead:
	dev_err(&dev->pdev->dev, "controller reset failed (%d), failing all I/O\n", ret);
	set_bit(RAWNVME_DEAD, &dev->flags);
	rawnvme_dev_disable(dev, false);
	for (i = 0; i < dev->nr_ns; i++)
		blk_mark_disk_dead(dev->ns[i]->disk);
unquiesce:
	rawnvme_unquiesce(dev);
	clear_bit(RAWNVME_RESETTING, &dev->flags);
}

static ssize_t reset_controller_store(struct device *d, struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct rawnvme_dev *dev = pci_get_drvdata(to_pci_dev(d));

	if (test_bit(RAWNVME_DEAD, &dev->flags))
		return -ENODEV;
	rawnvme_schedule_reset(dev);
	flush_work(&dev->reset_work);
	return test_bit(RAWNVME_LIVE, &dev->flags) ? count : -EIO;
}
static DEVICE_ATTR_WO(reset_controller);

static struct attribute *rawnvme_attrs[] = {
	&dev_attr_reset_controller.attr,
	NULL,
};
ATTRIBUTE_GROUPS(rawnvme);

static int rawnvme_map_bar(struct rawnvme_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	int ret;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto disable;
	/* Bounce buffers (swiotlb) must keep the offset in the controller page: PRPs need it. */
	dma_set_min_align_mask(&pdev->dev, RAWNVME_CTRL_PAGE_SIZE - 1);
	ret = pci_request_mem_regions(pdev, "rawnvme");
	if (ret)
		goto disable;
	dev->bar_size = pci_resource_len(pdev, 0);
	dev->bar = pci_iomap(pdev, 0, 0);
	if (!dev->bar) {
		ret = -ENOMEM;
		goto release;
	}
	dev->cap = lo_hi_readq(dev->bar + NVME_REG_CAP);
	dev->db_stride = sizeof(u32) << NVME_CAP_STRIDE(dev->cap);
	dev->ready_timeout_ms = (NVME_CAP_TIMEOUT(dev->cap) + 1) * 500;
	dev->shutdown_timeout_ms = RAWNVME_SHUTDOWN_TIMEOUT_MS;
	if (dev->cap == ~0ULL || !(NVME_CAP_CSS(dev->cap) & NVME_CAP_CSS_NVM) ||
	    NVME_CAP_MPSMIN(dev->cap) + 12 > RAWNVME_CTRL_PAGE_SHIFT ||
	    rawnvme_bar_needed(dev, 2) > dev->bar_size) {
		dev_err(&pdev->dev, "unsupported controller (CAP 0x%llx, BAR %pa)\n",
			dev->cap, &dev->bar_size);
		ret = -ENODEV;
		goto unmap;
	}
	return 0;

unmap:
	pci_iounmap(pdev, dev->bar);
release:
	pci_release_mem_regions(pdev);
disable:
	pci_disable_device(pdev);
	return ret;
}

static void rawnvme_unmap_bar(struct rawnvme_dev *dev)
{
	pci_iounmap(dev->pdev, dev->bar);
	pci_release_mem_regions(dev->pdev);
	pci_disable_device(dev->pdev);
}

static int rawnvme_alloc_tagset(struct rawnvme_dev *dev)
{
	struct blk_mq_tag_set *set = &dev->tagset;

	set->ops = &rawnvme_mq_ops;
	set->nr_hw_queues = dev->nr_io_queues;
	set->nr_maps = dev->nr_poll_queues ? HCTX_MAX_TYPES : 1;
	set->cmd_size = sizeof(struct rawnvme_iod);
	set->numa_node = dev_to_node(&dev->pdev->dev);
	set->flags = COMPAT_BLK_MQ_F_SHOULD_MERGE;
	set->timeout = io_timeout * HZ;
	set->driver_data = dev;
	return blk_mq_alloc_tag_set(set);
}

/*
 * From here on a timeout kills the controller instead of resetting it; waits out a reset
 * under way and keeps new ones from starting (unbind, and probe's error path).
 */
static void rawnvme_stop_resets(struct rawnvme_dev *dev)
{
	set_bit(RAWNVME_REMOVING, &dev->flags);
	while (test_and_set_bit(RAWNVME_RESETTING, &dev->flags))
		msleep(20);
	cancel_work_sync(&dev->reset_work);
}

static int rawnvme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct rawnvme_dev *dev;
	unsigned int max_queues, mqes;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->pdev = pdev;
	dev->irq_mode = irq_mode;
	mutex_init(&dev->admin_lock);
	mutex_init(&dev->shutdown_lock);
	INIT_WORK(&dev->reset_work, rawnvme_reset_work);
	pci_set_drvdata(pdev, dev);
	ret = ida_alloc(&rawnvme_instances, GFP_KERNEL);
	if (ret < 0)
		goto free_dev;
	dev->instance = ret;

	ret = rawnvme_map_bar(dev);
	if (ret)
		goto free_instance;
	mqes = NVME_CAP_MQES(dev->cap) + 1;
	dev->tagset.queue_depth = clamp(io_queue_depth, 2U, min(mqes, 4096U)) - 1;
	max_queues = 1 + (nr_io_queues ?: num_online_cpus()) + poll_queues;
	dev->queues = kcalloc(max_queues, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues) {
		ret = -ENOMEM;
		goto unmap_bar;
	}
	ret = rawnvme_alloc_queue(dev, 0, min(RAWNVME_ADMIN_DEPTH, mqes), false);
	if (ret)
		goto free_queues;

	ret = rawnvme_disable_ctrl(dev);
	if (ret)
		goto free_admin;
	ret = rawnvme_enable_ctrl(dev);
	if (ret)
		goto free_admin;
	ret = rawnvme_setup_io_queues(dev);
	if (ret)
		goto disable_ctrl;
	ret = rawnvme_alloc_tagset(dev);
	if (ret)
		goto teardown_io;
	set_bit(RAWNVME_LIVE, &dev->flags);
	ret = rawnvme_scan(dev);
	if (ret)
		goto remove_ns;
	return 0;

remove_ns:
	rawnvme_stop_resets(dev);
	while (dev->nr_ns) {
		del_gendisk(dev->ns[--dev->nr_ns]->disk);
		rawnvme_free_ns(dev->ns[dev->nr_ns]);
	}
	blk_mq_free_tag_set(&dev->tagset);
teardown_io:
	rawnvme_teardown_io_queues(dev);
disable_ctrl:
	rawnvme_stop_ctrl(dev);
free_admin:
	rawnvme_free_queue(&dev->queues[0]);
free_queues:
	kfree(dev->queues);
unmap_bar:
	rawnvme_unmap_bar(dev);
free_instance:
	ida_free(&rawnvme_instances, dev->instance);
free_dev:
	kfree(dev);
	return ret;
}

static void rawnvme_remove(struct pci_dev *pdev)
{
	struct rawnvme_dev *dev = pci_get_drvdata(pdev);
	unsigned int i;

	rawnvme_stop_resets(dev);
	for (i = dev->nr_ns; i > 0; i--) {
		del_gendisk(dev->ns[i - 1]->disk);
		rawnvme_free_ns(dev->ns[i - 1]);
	}
	dev->nr_ns = 0;
	blk_mq_free_tag_set(&dev->tagset);
	rawnvme_teardown_io_queues(dev);
	if (test_bit(RAWNVME_DEAD, &dev->flags))
		rawnvme_stop_ctrl(dev);
	else
		rawnvme_shutdown_ctrl(dev);
	rawnvme_free_queue(&dev->queues[0]);
	kfree(dev->queues);
	rawnvme_unmap_bar(dev);
	ida_free(&rawnvme_instances, dev->instance);
	kfree(dev);
}

/*
 * Reboot or power-off with the controller bound: a normal shutdown (CC.SHN) so it can
 * flush its cache and count a safe shutdown, as upstream's nvme_shutdown.
 */
static void rawnvme_shutdown(struct pci_dev *pdev)
{
	struct rawnvme_dev *dev = pci_get_drvdata(pdev);

	rawnvme_stop_resets(dev);
	set_bit(RAWNVME_DEAD, &dev->flags);
	rawnvme_dev_disable(dev, true);
	rawnvme_unquiesce(dev);
}

static struct pci_driver rawnvme_driver = {
	.name		= "rawnvme",
	.id_table	= NULL,
	.probe		= rawnvme_probe,
	.remove		= rawnvme_remove,
	.shutdown	= rawnvme_shutdown,
	.dev_groups	= rawnvme_groups,
};
/* Refuses bad parameters with one line naming them, before any controller is touched. */
static int rawnvme_check_params(void)
{
	if (io_queue_depth < 2 || io_queue_depth > 4096)
		pr_err("rawnvme: io_queue_depth=%u: expected 2..4096\n", io_queue_depth);
	else if (nr_io_queues > 1024)
		pr_err("rawnvme: nr_io_queues=%u: expected 0..1024\n", nr_io_queues);
	else if (poll_queues > 64)
		pr_err("rawnvme: poll_queues=%u: expected 0..64\n", poll_queues);
	else if (irq_mode > RAWNVME_IRQ_INTX)
		pr_err("rawnvme: irq_mode=%u: expected 0 (MSI-X), 1 (MSI) or 2 (INTx)\n", irq_mode);
	else if (!io_timeout || io_timeout > 3600)
		pr_err("rawnvme: io_timeout=%u: expected 1..3600 seconds\n", io_timeout);
	else if (max_retries > 255)
		pr_err("rawnvme: max_retries=%u: expected 0..255\n", max_retries);
	else
		return 0;
	return -EINVAL;
}

static int __init rawnvme_init(void)
{
	int ret = rawnvme_check_params();

	if (ret)
		return ret;
	return pci_register_driver(&rawnvme_driver);
}

static void __exit rawnvme_exit(void)
{
	pci_unregister_driver(&rawnvme_driver);
}

module_init(rawnvme_init);
module_exit(rawnvme_exit);

MODULE_DESCRIPTION("NVMe PCIe driver, raw C twin of safenvme (twinbench)");
MODULE_LICENSE("GPL");

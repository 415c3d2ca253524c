// SPDX-License-Identifier: GPL-2.0

//! rustnvme: the Rust twin of rawnvme (drivers-raw/nvme/rawnvme.c) on the kernel crate.
//!
//! Same algorithm, parameters, defaults and refusals as rawnvme and safenvme, function for
//! function where the language allows (drivers-safe/twins.tsv pairs them): it maps BAR0,
//! brings the controller up through CC/CSTS, runs a polled admin queue, asks for one
//! interrupt-driven I/O queue pair per CPU (plus optional polled queues), and exposes every
//! active namespace as a blk-mq disk `rustnvme<C>n<NS>` with PRP data transfer, flush and FUA.
//! It has no PCI id table: it binds only when told to (driver_override or new_id). The
//! crate's `pci`, `dma::Coherent`, `io` (MMIO) and `sync` types are used as they are; what
//! the crate lacks comes from drivers-safe/kernel/rust (`layer`): blk-mq with per-request
//! data and hardware queues (`layer::blk_mq`), PCI interrupt vectors and handlers that live
//! in the driver data and a `shutdown` callback (`layer::pci_ext`).

#[path = "../kernel/rust/mod.rs"]
#[allow(dead_code, unused_imports)]
mod layer;

use kernel::{
    device::{self, Bound},
    dma::{Coherent, Device as _, DmaMask},
    error::Error,
    io::Io,
    irq::{self, IrqReturn},
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{ordering::Relaxed, Atomic, AtomicFlag},
        new_mutex, new_spinlock, new_spinlock_irq, Arc, ArcBorrow, Mutex, SetOnce, SpinLock,
        SpinLockIrq,
    },
    time::{delay::fsleep, msecs_to_jiffies, Delta, Instant, Monotonic},
    transmute::{AsBytes, FromBytes},
    workqueue::{self, impl_has_work, new_work, Work, WorkItem},
};
use layer::{
    blk_mq::{
        GenDisk, GenDiskBuilder, Op, Operations, Request, RqDma, Status, TagSet, TimeoutAction,
    },
    dev_attr::WriteAttr,
    pci_ext::{IrqKinds, IrqLine, IrqVectors, ShutdownAdapter, ShutdownDriver},
};

const CTRL_PAGE_SHIFT: u32 = 12;
const CTRL_PAGE_SIZE: u32 = 1 << CTRL_PAGE_SHIFT;
const ADMIN_DEPTH: u32 = 32;
const MAX_NS: u32 = 16;
const MAX_SEGS: u32 = 32;
const MAX_SECTORS: u32 = MAX_SEGS << (CTRL_PAGE_SHIFT - 9);
const PRP_ENTRIES: usize = 32;
const SQES: u32 = 6;
const CQES: u32 = 4;
const SHUTDOWN_TIMEOUT_MS: u32 = 5000;
const SHUTDOWN_TIMEOUT_MAX_MS: u32 = 60000;
const ADMIN_TIMEOUT_MS: i64 = 5000;
const IDENTIFY_SIZE: usize = 4096;
const MAX_INSTANCES: u32 = 64;

/// Controller registers (NVMe base specification, section 3.1).
mod reg {
    pub(crate) const CAP: usize = 0x00;
    pub(crate) const CC: usize = 0x14;
    pub(crate) const CSTS: usize = 0x1c;
    pub(crate) const AQA: usize = 0x24;
    pub(crate) const ASQ: usize = 0x28;
    pub(crate) const ACQ: usize = 0x30;
    pub(crate) const DBS: usize = 0x1000;

    pub(crate) const CC_ENABLE: u32 = 1;
    pub(crate) const CC_MPS_SHIFT: u32 = 7;
    pub(crate) const CC_SHN_NORMAL: u32 = 1 << 14;
    pub(crate) const CC_SHN_MASK: u32 = 3 << 14;
    pub(crate) const CC_IOSQES_SHIFT: u32 = 16;
    pub(crate) const CC_IOCQES_SHIFT: u32 = 20;
    pub(crate) const CSTS_RDY: u32 = 1;
    pub(crate) const CSTS_CFS: u32 = 2;
    pub(crate) const CSTS_SHST_MASK: u32 = 3 << 2;
    pub(crate) const CSTS_SHST_CMPLT: u32 = 2 << 2;

    pub(crate) fn cap_mqes(cap: u64) -> u32 {
        (cap & 0xffff) as u32
    }
    pub(crate) fn cap_timeout(cap: u64) -> u32 {
        ((cap >> 24) & 0xff) as u32
    }
    pub(crate) fn cap_stride(cap: u64) -> u32 {
        ((cap >> 32) & 0xf) as u32
    }
    pub(crate) fn cap_css_nvm(cap: u64) -> bool {
        (cap >> 37) & 1 != 0
    }
    pub(crate) fn cap_mpsmin(cap: u64) -> u32 {
        ((cap >> 48) & 0xf) as u32
    }
}

/// Admin opcodes and fields this driver sends.
mod admin {
    pub(crate) const DELETE_SQ: u8 = 0x00;
    pub(crate) const CREATE_SQ: u8 = 0x01;
    pub(crate) const DELETE_CQ: u8 = 0x04;
    pub(crate) const CREATE_CQ: u8 = 0x05;
    pub(crate) const IDENTIFY: u8 = 0x06;
    pub(crate) const SET_FEATURES: u8 = 0x09;
    pub(crate) const FEAT_NUM_QUEUES: u32 = 0x07;
    pub(crate) const CNS_NS: u32 = 0x00;
    pub(crate) const CNS_CTRL: u32 = 0x01;
    pub(crate) const QUEUE_PHYS_CONTIG: u32 = 1;
    pub(crate) const CQ_IRQ_ENABLED: u32 = 2;
}

/// One 64-byte submission queue entry, as dwords.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Command {
    dw: [u32; 16],
}

// SAFETY: `Command` is plain integers without padding.
unsafe impl AsBytes for Command {}
// SAFETY: Every bit pattern is a valid `Command`.
unsafe impl FromBytes for Command {}

impl Command {
    fn new(opcode: u8) -> Self {
        let mut c = Self::default();
        c.dw[0] = opcode as u32;
        c
    }
    fn set_cid(&mut self, cid: u16) {
        self.dw[0] = (self.dw[0] & 0xffff) | (cid as u32) << 16;
    }
    fn cid(&self) -> u16 {
        (self.dw[0] >> 16) as u16
    }
    fn opcode(&self) -> u8 {
        self.dw[0] as u8
    }
    fn set_nsid(&mut self, nsid: u32) {
        self.dw[1] = nsid.to_le();
    }
    fn set_prp1(&mut self, addr: u64) {
        self.dw[6] = (addr as u32).to_le();
        self.dw[7] = ((addr >> 32) as u32).to_le();
    }
    fn set_prp2(&mut self, addr: u64) {
        self.dw[8] = (addr as u32).to_le();
        self.dw[9] = ((addr >> 32) as u32).to_le();
    }
    fn set_cdw(&mut self, n: usize, val: u32) {
        self.dw[n] = val.to_le();
    }
}

/// One 16-byte completion queue entry, as dwords.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Completion {
    dw: [u32; 4],
}

// SAFETY: `Completion` is plain integers without padding.
unsafe impl AsBytes for Completion {}
// SAFETY: Every bit pattern is a valid `Completion`.
unsafe impl FromBytes for Completion {}

impl Completion {
    fn result(&self) -> u32 {
        u32::from_le(self.dw[0])
    }
    fn cid(&self) -> u16 {
        u32::from_le(self.dw[3]) as u16
    }
    fn status(&self) -> u16 {
        (u32::from_le(self.dw[3]) >> 16) as u16
    }
}

/// I/O command set opcodes and fields.
mod nvm {
    pub(crate) const FLUSH: u8 = 0x00;
    pub(crate) const WRITE: u8 = 0x01;
    pub(crate) const READ: u8 = 0x02;
    /// Forced unit access, in the control field (CDW12 bits 31:16).
    pub(crate) const RW_FUA: u32 = 1 << 14;
}

/// Status codes told apart on completion (status field bits 10:0, phase dropped).
mod sc {
    pub(crate) const SUCCESS: u16 = 0x0;
    pub(crate) const INVALID_OPCODE: u16 = 0x1;
    pub(crate) const INVALID_FIELD: u16 = 0x2;
    pub(crate) const ONCS_NOT_SUPPORTED: u16 = 0xb;
    pub(crate) const LBA_RANGE: u16 = 0x80;
    pub(crate) const CAP_EXCEEDED: u16 = 0x81;
    pub(crate) const WRITE_FAULT: u16 = 0x280;
    pub(crate) const READ_ERROR: u16 = 0x281;
    pub(crate) const UNWRITTEN_BLOCK: u16 = 0x287;
}

/// Controller state bits (rawnvme's `enum rawnvme_flags`), one atomic flag each.
struct Flags {
    /// Queues exist and take commands.
    live: AtomicFlag,
    /// Reset work owns the controller.
    resetting: AtomicFlag,
    /// Reset failed or device removed: fail all I/O.
    dead: AtomicFlag,
    /// Unbind under way: a timeout kills the controller.
    removing: AtomicFlag,
    /// CC.EN cleared: admin commands fail until re-enabled.
    disabled: AtomicFlag,
    /// The disks' queues are quiesced (once, however many ask).
    quiesced: AtomicFlag,
}

impl Flags {
    const fn new() -> Self {
        Self {
            live: AtomicFlag::new(false),
            resetting: AtomicFlag::new(false),
            dead: AtomicFlag::new(false),
            removing: AtomicFlag::new(false),
            disabled: AtomicFlag::new(false),
            quiesced: AtomicFlag::new(false),
        }
    }
}

/// The mapped controller: BAR0, what CAP says, the state flags and the tag set once there;
/// shared by every queue, disk and handler.
///
/// # Invariants
///
/// `bar` maps BAR0 of `pdev`, at least `bar_needed(2)` bytes; `db_stride` is CAP's. Every
/// `Arc<Hw>` is held by the controller's driver data or by what it drops before its own
/// drop ends (queues, handlers, disks), so `pdev` is bound while a `Hw` exists.
struct Hw {
    pdev: &'static pci::Device<Bound>,
    bar: pci::Bar<'static>,
    bar_size: usize,
    cap: u64,
    db_stride: usize,
    ready_timeout_ms: u32,
    shutdown_timeout_ms: Atomic<u32>,
    vector0_irq: Atomic<u32>,
    flags: Flags,
    tagset: SetOnce<Arc<TagSet<RustNvme>>>,
}

impl Hw {
    fn read32(&self, off: usize) -> u32 {
        (&self.bar).try_read32(off).unwrap_or(!0)
    }

    fn write32(&self, val: u32, off: usize) {
        let _ = (&self.bar).try_write32(val, off);
    }

    /// Low dword first, as `lo_hi_writeq()`.
    fn write64(&self, val: u64, off: usize) {
        self.write32(val as u32, off);
        self.write32((val >> 32) as u32, off + 4);
    }

    /// Low dword first, as `lo_hi_readq()`.
    fn read64(&self, off: usize) -> u64 {
        self.read32(off) as u64 | (self.read32(off + 4) as u64) << 32
    }
}

/// Orders the read of a CQE's phase before the read of its other fields (`dma_rmb()`).
fn rustnvme_dma_rmb() {
    // SAFETY: a barrier; no memory is touched.
    unsafe { kernel::bindings::dma_rmb() };
}

/// rawnvme_doorbell(): the offset of queue `qid`'s SQ tail or CQ head doorbell.
fn rustnvme_doorbell(db_stride: usize, qid: u16, cq: bool) -> usize {
    reg::DBS + (2 * qid as usize + cq as usize) * db_stride
}

/// rawnvme_bar_needed(): BAR bytes for the doorbells of `nr_queues` queue pairs.
fn rustnvme_bar_needed(db_stride: usize, nr_queues: u32) -> usize {
    reg::DBS + 2 * nr_queues as usize * db_stride
}

/// The submission ring's indexes (under the SQ lock).
struct SqRing {
    tail: u16,
    last_tail: u16,
}

/// The completion ring's index and phase (under the CQ lock, irq-safe).
struct CqRing {
    head: u16,
    phase: u16,
}

/// One submission/completion queue pair; qid 0 is the admin queue.
///
/// # Invariants
///
/// `sqes` and `cqes` hold `depth` entries and `prp_lists`, when present, `depth * PRP_ENTRIES`;
/// the rings' indexes stay below `depth`; tags of its requests are below `depth`.
#[pin_data]
struct Queue {
    hw: Arc<Hw>,
    qid: u16,
    depth: u16,
    polled: bool,
    irq_vector: u16,
    /// The Linux irq of its handler while one is registered, else 0.
    irq: Atomic<u32>,
    sq_db: usize,
    cq_db: usize,
    sqes: Coherent<[Command]>,
    cqes: Coherent<[Completion]>,
    prp_lists: Option<Coherent<[u64]>>,
    #[pin]
    sq: SpinLock<SqRing>,
    #[pin]
    cq: SpinLockIrq<CqRing>,
}

/// rawnvme_alloc_queue() and rawnvme_alloc_prp_lists(): ring memory and state of one queue.
fn rustnvme_alloc_queue(
    hw: &Arc<Hw>,
    qid: u16,
    depth: u16,
    prps: bool,
    irq_vector: Option<u16>,
) -> Result<Arc<Queue>> {
    let dev = hw.pdev.as_ref();
    let cqes = Coherent::<Completion>::zeroed_slice(dev, depth as usize, GFP_KERNEL)?;
    let sqes = Coherent::<Command>::zeroed_slice(dev, depth as usize, GFP_KERNEL)?;
    let prp_lists = if prps {
        Some(Coherent::<u64>::zeroed_slice(dev, depth as usize * PRP_ENTRIES, GFP_KERNEL)?)
    } else {
        None
    };
    let polled = irq_vector.is_none() && qid != 0;
    let sq_db = rustnvme_doorbell(hw.db_stride, qid, false);
    let cq_db = rustnvme_doorbell(hw.db_stride, qid, true);
    Arc::pin_init(
        try_pin_init!(Queue {
            hw: hw.clone(),
            qid,
            depth,
            polled,
            irq_vector: irq_vector.unwrap_or(0),
            irq: Atomic::new(0),
            sq_db,
            cq_db,
            sqes,
            cqes,
            prp_lists,
            sq <- new_spinlock!(SqRing { tail: 0, last_tail: 0 }),
            cq <- new_spinlock_irq!(CqRing { head: 0, phase: 1 }),
        }),
        GFP_KERNEL,
    )
}

impl Queue {
    /// rawnvme_reset_queue_state(): empty rings, phase 1, the CQ cleared.
    fn reset_state(&self) {
        {
            let mut sq = self.sq.lock();
            sq.tail = 0;
            sq.last_tail = 0;
        }
        let mut cq = self.cq.lock();
        cq.head = 0;
        cq.phase = 1;
        for i in 0..self.depth as usize {
            // SAFETY: `i < depth`, the length of `cqes` (type invariant); the controller does
            // not write the CQ while the driver resets it (disabled or not yet created).
            unsafe {
                let cqe = self.cqes.as_mut_ptr().cast::<Completion>().add(i);
                cqe.write_volatile(Completion::default())
            };
        }
    }

    /// rawnvme_ring_sq(): writes the tail doorbell if it moved.
    fn ring_sq(&self, sq: &mut SqRing) {
        if sq.tail == sq.last_tail {
            return;
        }
        self.hw.write32(sq.tail as u32, self.sq_db);
        sq.last_tail = sq.tail;
    }

    /// rawnvme_push_sqe(): copies a command into the ring at the tail.
    fn push_sqe(&self, sq: &mut SqRing, cmd: &Command) {
        // SAFETY: `sq.tail < depth`, the length of `sqes` (type invariant).
        unsafe {
            let sqe = self.sqes.as_mut_ptr().cast::<Command>().add(sq.tail as usize);
            sqe.write_volatile(*cmd)
        };
        sq.tail += 1;
        if sq.tail == self.depth {
            sq.tail = 0;
        }
    }

    /// The entry at `head`, read once.
    fn cqe_at(&self, head: u16) -> Completion {
        // SAFETY: `head < depth`, the length of `cqes` (type invariant).
        unsafe { self.cqes.as_ptr().cast::<Completion>().add(head as usize).read_volatile() }
    }

    /// rawnvme_cqe_pending(): the head entry carries the current phase.
    fn cqe_pending(&self, cq: &CqRing) -> bool {
        self.cqe_at(cq.head).status() & 1 == cq.phase
    }

    /// rawnvme_advance_cq()
    fn advance_cq(&self, cq: &mut CqRing) {
        cq.head += 1;
        if cq.head == self.depth {
            cq.head = 0;
            cq.phase ^= 1;
        }
    }

    /// rawnvme_handle_cqe(): the request of the entry's command id gets its status and
    /// completes.
    fn handle_cqe(&self, cqe: &Completion) {
        let tag = cqe.cid();
        let rq = self.hw.tagset.as_ref().and_then(|set| set.tag_to_rq(self.qid as u32 - 1, tag));
        let Some(rq) = rq else {
            dev_warn!(self.hw.pdev, "queue {}: no request for tag {}\n", self.qid, tag);
            return;
        };
        rq.data().status.store(rustnvme_status_to_blk(cqe.status() >> 1));
        Request::complete(rq);
    }

    /// rawnvme_process_cq(): handles every posted entry, then writes the head doorbell once.
    fn process_cq(&self, cq: &mut CqRing) -> u32 {
        let mut found = 0;
        while self.cqe_pending(cq) {
            rustnvme_dma_rmb();
            let cqe = self.cqe_at(cq.head);
            self.handle_cqe(&cqe);
            self.advance_cq(cq);
            found += 1;
        }
        if found != 0 {
            self.hw.write32(cq.head as u32, self.cq_db);
        }
        found
    }

    /// rawnvme_reap_cq() (and rawnvme_process_cq_locked(): the lock is irq-safe either way).
    fn reap_cq(&self) -> u32 {
        let mut cq = self.cq.lock();
        self.process_cq(&mut cq)
    }
}

/// rawnvme_irq(): the hard interrupt handler of one I/O queue.
impl irq::Handler for Queue {
    fn handle(&self) -> IrqReturn {
        if self.reap_cq() != 0 {
            IrqReturn::Handled
        } else {
            IrqReturn::None
        }
    }
}

/// rawnvme_status_to_blk(): an NVMe status as the errno of the block status it maps to.
fn rustnvme_status_to_blk(status: u16) -> Result {
    match status & 0x7ff {
        sc::SUCCESS => Ok(()),
        sc::CAP_EXCEEDED => Err(ENOSPC),
        sc::LBA_RANGE => Err(EREMOTEIO),
        sc::INVALID_OPCODE | sc::INVALID_FIELD | sc::ONCS_NOT_SUPPORTED => Err(EOPNOTSUPP),
        sc::WRITE_FAULT | sc::READ_ERROR | sc::UNWRITTEN_BLOCK => Err(ENODATA),
        _ => Err(EIO),
    }
}

/// The admin queue and its lock: one admin command at a time.
#[pin_data]
struct Admin {
    q: Arc<Queue>,
    #[pin]
    cid: Mutex<u16>,
}

/// The I/O queues, `[0]` being qid 1; fixed from probe to unbind (a reset keeps them).
struct IoQueues {
    queues: KVec<Arc<Queue>>,
}

/// What the disks, the timeout handler, the reset work and unbind share of a controller.
#[pin_data]
struct CtrlCore {
    hw: Arc<Hw>,
    admin: Arc<Admin>,
    io: Arc<IoQueues>,
    tagset: Arc<TagSet<RustNvme>>,
    /// One disable (reset, timeout, shutdown) at a time.
    #[pin]
    shutdown_lock: Mutex<()>,
    #[pin]
    reset_work: Work<CtrlCore>,
}

impl_has_work! {
    impl HasWork<Self> for CtrlCore { self.reset_work }
}

impl WorkItem for CtrlCore {
    type Pointer = Arc<CtrlCore>;

    fn run(this: Arc<CtrlCore>) {
        rustnvme_reset_work(&this);
    }
}

/// One namespace: the data of its disk's request queue.
struct NsQueue {
    core: Arc<CtrlCore>,
    nsid: u32,
    lba_shift: u32,
}

/// Per-request driver data (rawnvme's `struct rawnvme_iod`).
#[pin_data]
struct Iod {
    status: Status,
    /// Cancelled by a controller reset: requeue, not fail.
    aborted: AtomicFlag,
    /// Requeues so far; kept across them, cleared on the end.
    retries: Atomic<u32>,
    dma: RqDma<{ MAX_SEGS as usize }>,
}

/// The blk-mq driver of the controller's disks.
struct RustNvme;

/// rawnvme_setup_prps(): PRP1 for the first (partial) page, PRP2 for the second page or the
/// request's PRP list.
fn rustnvme_setup_prps(q: &Queue, iod: &Iod, tag: u16, mut len: u32, cmd: &mut Command) {
    // SAFETY: the request is owned by `queue_rq` and was just mapped.
    let Some((mut dma_addr, mut dma_len)) = (unsafe { iod.dma.entry(0) }) else {
        return;
    };
    let mut sg = 0;
    let mut first = CTRL_PAGE_SIZE - (dma_addr as u32 & (CTRL_PAGE_SIZE - 1));
    cmd.set_prp1(dma_addr);
    if len <= first {
        return;
    }
    len -= first;
    if len <= CTRL_PAGE_SIZE && dma_len > first {
        cmd.set_prp2(dma_addr + first as u64);
        return;
    }
    let Some(lists) = q.prp_lists.as_ref() else {
        return;
    };
    let base = tag as usize * PRP_ENTRIES;
    let list = lists.as_mut_ptr().cast::<u64>();
    let mut n = 0;
    loop {
        if dma_len > first {
            dma_addr += first as u64;
            dma_len -= first;
        } else {
            sg += 1;
            // SAFETY: as above; the mapped entries cover `len` bytes.
            let Some((a, l)) = (unsafe { iod.dma.entry(sg) }) else {
                break;
            };
            dma_addr = a;
            dma_len = l;
        }
        if n == PRP_ENTRIES {
            break;
        }
        // SAFETY: `tag < depth` and `n < PRP_ENTRIES`: inside `prp_lists` (type invariant of
        // `Queue`); the controller reads the list only after the doorbell.
        unsafe { list.add(base + n).write_volatile(dma_addr.to_le()) };
        n += 1;
        if len <= CTRL_PAGE_SIZE {
            break;
        }
        len -= CTRL_PAGE_SIZE;
        first = CTRL_PAGE_SIZE;
    }
    if n == 1 {
        // SAFETY: entry `base` was written above.
        cmd.set_prp2(u64::from_le(unsafe { list.add(base).read_volatile() }));
    } else {
        cmd.set_prp2(lists.dma_address() + (base * core::mem::size_of::<u64>()) as u64);
    }
}

/// rawnvme_map_data(): the one-bvec fast path, else the segment list; then the PRPs.
fn rustnvme_map_data(q: &Queue, rq: &Request<RustNvme>, cmd: &mut Command) -> Result {
    let iod = rq.data();
    let dev = q.hw.pdev.as_ref();
    // SAFETY: `queue_rq` owns the request; `dev` does the DMA.
    if unsafe { iod.dma.map_single(rq, dev, 2 * CTRL_PAGE_SIZE) }? {
        rustnvme_setup_prps(q, iod, rq.tag(), rq.bytes(), cmd);
        return Ok(());
    }
    // SAFETY: as above; the queue limits keep requests within `MAX_SEGS` segments.
    unsafe { iod.dma.map_sg(rq, dev) }?;
    rustnvme_setup_prps(q, iod, rq.tag(), rq.bytes(), cmd);
    Ok(())
}

/// rawnvme_unmap_data()
fn rustnvme_unmap_data(hw: &Hw, rq: &Request<RustNvme>) {
    // SAFETY: the completion owns the request; the controller finished with its data.
    unsafe { rq.data().dma.unmap(rq, hw.pdev.as_ref()) };
}

/// rawnvme_setup_cmd(): the read, write or flush command of a request.
fn rustnvme_setup_cmd(ns: &NsQueue, q: &Queue, rq: &Request<RustNvme>) -> Result<Command> {
    let opcode = match rq.op() {
        Op::Flush => nvm::FLUSH,
        Op::Read => nvm::READ,
        Op::Write => nvm::WRITE,
        Op::Other => return Err(EOPNOTSUPP),
    };
    let mut cmd = Command::new(opcode);
    cmd.set_cid(rq.tag());
    cmd.set_nsid(ns.nsid);
    if opcode == nvm::FLUSH {
        return Ok(cmd);
    }
    let slba = rq.sector() >> (ns.lba_shift - 9);
    cmd.set_cdw(10, slba as u32);
    cmd.set_cdw(11, (slba >> 32) as u32);
    let mut cdw12 = (rq.bytes() >> ns.lba_shift) - 1;
    if rq.fua() {
        cdw12 |= nvm::RW_FUA << 16;
    }
    cmd.set_cdw(12, cdw12);
    rustnvme_map_data(q, rq, &mut cmd)?;
    Ok(cmd)
}

/// rawnvme_should_retry(): a request a reset aborted goes back to the block layer.
fn rustnvme_should_retry(hw: &Hw, rq: &Request<RustNvme>) -> bool {
    let iod = rq.data();
    iod.aborted.load(Relaxed)
        && !hw.flags.dead.load(Relaxed)
        && !rq.noretry()
        && iod.retries.load(Relaxed) < module_parameters::max_retries.value()
}

impl Operations for RustNvme {
    type QueueData = Arc<NsQueue>;
    type RequestData = Iod;

    const HAS_COMMIT_RQS: bool = true;
    const HAS_TIMEOUT: bool = true;
    const HAS_POLL: bool = true;

    fn init_request_data() -> impl PinInit<Iod, Error> {
        try_pin_init!(Iod {
            status: Status::new(),
            aborted: AtomicFlag::new(false),
            retries: Atomic::new(0),
            dma: RqDma::new(),
        })
    }

    /// rawnvme_queue_rq()
    fn queue_rq(ns: ArcBorrow<'_, NsQueue>, rq: ARef<Request<Self>>, is_last: bool) -> Result {
        let hw = &*ns.core.hw;
        let q = ns.core.io.queues.get(rq.hw_queue() as usize).ok_or(EIO)?;
        if !hw.flags.live.load(Relaxed) {
            return Err(if hw.flags.dead.load(Relaxed) { EIO } else { ENOMEM });
        }
        let iod = rq.data();
        iod.status.store(Ok(()));
        iod.aborted.store(false, Relaxed);
        // SAFETY: `queue_rq` owns the request.
        unsafe { iod.dma.reset() };
        let cmd = rustnvme_setup_cmd(&ns, q, &rq)?;
        let mut sq = q.sq.lock();
        q.push_sqe(&mut sq, &cmd);
        // The completion may run as soon as the doorbell rings: no reference of ours left.
        drop(rq);
        if is_last {
            q.ring_sq(&mut sq);
        }
        Ok(())
    }

    /// rawnvme_commit_rqs()
    fn commit_rqs(ns: ArcBorrow<'_, NsQueue>, hw_queue: u32) {
        if let Some(q) = ns.core.io.queues.get(hw_queue as usize) {
            let mut sq = q.sq.lock();
            q.ring_sq(&mut sq);
        }
    }

    /// rawnvme_poll(): polled queues have no handler.
    fn poll(ns: ArcBorrow<'_, NsQueue>, hw_queue: u32) -> i32 {
        ns.core.io.queues.get(hw_queue as usize).map_or(0, |q| q.reap_cq() as i32)
    }

    /// rawnvme_complete()
    fn complete(rq: ARef<Request<Self>>) {
        let ns = rq.queue_data();
        let hw = &*ns.core.hw;
        rustnvme_unmap_data(hw, &rq);
        let iod = rq.data();
        if rustnvme_should_retry(hw, &rq) {
            iod.retries.fetch_add(1, Relaxed);
            Request::requeue(rq);
            return;
        }
        iod.retries.store(0, Relaxed);
        let status = iod.status.load();
        Request::end(rq, status);
    }

    /// rawnvme_timeout(): reaps the request's CQ first (a lost interrupt is not a dead
    /// controller); a request still in flight resets the controller, or kills it while it is
    /// being removed. No reference to the request is kept while completions run.
    fn timeout(rq: ARef<Request<Self>>) -> TimeoutAction {
        let (hw_queue, tag) = (rq.hw_queue(), rq.tag());
        let core = rq.queue_data().core.clone();
        drop(rq);
        let hw = &*core.hw;
        if let Some(q) = core.io.queues.get(hw_queue as usize) {
            rustnvme_timeout_reap(q);
        }
        if core.tagset.tag_to_rq(hw_queue, tag).is_none() {
            dev_warn!(hw.pdev, "tag {} timed out, completion reaped\n", tag);
            return TimeoutAction::Done;
        }
        if hw.flags.removing.load(Relaxed) {
            hw.flags.dead.store(true, Relaxed);
        }
        if hw.flags.dead.load(Relaxed) {
            // Stops the controller, reaps, and fails every request it held, this one too.
            let _ = rustnvme_dev_disable(&core, false);
            rustnvme_unquiesce(&core);
            return TimeoutAction::Done;
        }
        dev_warn!(hw.pdev, "tag {} timed out, resetting controller\n", tag);
        rustnvme_schedule_reset(&core);
        TimeoutAction::ResetTimer
    }

    /// Never started: NVMe requests have no driver timer.
    fn timer(rq: ARef<Request<Self>>) {
        Request::end(rq, Err(EIO));
    }
}

/// One bound controller (rawnvme's `struct rawnvme_dev`).
///
/// Fields drop in order: disks before handlers before vectors before queues before the BAR.
#[pin_data(PinnedDrop)]
struct Ctrl {
    reset_attr: Option<Pin<KBox<WriteAttr<CtrlCore>>>>,
    disks: KVec<GenDisk<RustNvme>>,
    lines: KVec<IrqLine<Queue>>,
    vectors: Option<IrqVectors>,
    core: Arc<CtrlCore>,
    instance: u32,
    nr_irq_queues: u32,
    nr_poll_queues: u32,
}

/// rawnvme_wait_csts(): polls CSTS until `(csts & mask) == want` or the timeout.
fn rustnvme_wait_csts(hw: &Hw, mask: u32, want: u32, timeout_ms: u32) -> Result {
    let start = Instant::<Monotonic>::now();
    loop {
        let csts = hw.read32(reg::CSTS);
        if csts == !0 {
            return Err(ENODEV);
        }
        if csts & mask == want {
            return Ok(());
        }
        if start.elapsed().as_millis() > timeout_ms as i64 {
            dev_err!(hw.pdev, "CSTS {:#x}: timeout waiting for {:#x}\n", csts, want);
            return Err(ETIMEDOUT);
        }
        fsleep(Delta::from_micros(1000));
    }
}

/// rawnvme_disable_ctrl(): clears CC.EN and waits for CSTS.RDY to drop.
fn rustnvme_disable_ctrl(hw: &Hw) -> Result {
    let cc = hw.read32(reg::CC);
    hw.flags.disabled.store(true, Relaxed);
    hw.write32(cc & !(reg::CC_ENABLE | reg::CC_SHN_MASK), reg::CC);
    rustnvme_wait_csts(hw, reg::CSTS_RDY, 0, hw.ready_timeout_ms)
}

/// rawnvme_stop_ctrl(): disables; if the controller does not stop, bus mastering goes off.
fn rustnvme_stop_ctrl(hw: &Hw) -> Result {
    let ret = rustnvme_disable_ctrl(hw);
    if ret.is_err() {
        dev_err!(hw.pdev, "controller did not stop, bus mastering off\n");
        layer::pci_ext::clear_master(hw.pdev);
    }
    ret
}

/// rawnvme_enable_ctrl(): programs the admin queue and sets CC.EN.
fn rustnvme_enable_ctrl(hw: &Hw, aq: &Queue) -> Result {
    let depth = aq.depth as u32 - 1;
    hw.write32(depth << 16 | depth, reg::AQA);
    hw.write64(aq.sqes.dma_address(), reg::ASQ);
    hw.write64(aq.cqes.dma_address(), reg::ACQ);
    let cc = (CTRL_PAGE_SHIFT - 12) << reg::CC_MPS_SHIFT
        | SQES << reg::CC_IOSQES_SHIFT
        | CQES << reg::CC_IOCQES_SHIFT
        | reg::CC_ENABLE;
    hw.write32(cc, reg::CC);
    rustnvme_wait_csts(hw, reg::CSTS_RDY | reg::CSTS_CFS, reg::CSTS_RDY, hw.ready_timeout_ms)?;
    hw.flags.disabled.store(false, Relaxed);
    Ok(())
}

/// rawnvme_shutdown_ctrl(): a normal shutdown (CC.SHN), waited for up to RTD3E.
fn rustnvme_shutdown_ctrl(hw: &Hw) -> Result {
    let cc = hw.read32(reg::CC);
    hw.flags.disabled.store(true, Relaxed);
    hw.write32((cc & !reg::CC_SHN_MASK) | reg::CC_SHN_NORMAL, reg::CC);
    let ret = rustnvme_wait_csts(hw, reg::CSTS_SHST_MASK, reg::CSTS_SHST_CMPLT,
                                 hw.shutdown_timeout_ms.load(Relaxed));
    if ret.is_err() {
        dev_warn!(hw.pdev, "shutdown did not complete\n");
    }
    ret
}

/// rawnvme_admin_exec(): one admin command, polled to completion under the admin lock. The
/// vector-0 line stays masked meanwhile; a timeout stops the controller.
fn rustnvme_admin_exec(admin: &Admin, cmd: &mut Command) -> Result<u32> {
    let aq = &*admin.q;
    let hw = &*aq.hw;
    let mut cid = admin.cid.lock();
    if hw.flags.disabled.load(Relaxed) {
        return Err(ENODEV);
    }
    let irq0 = hw.vector0_irq.load(Relaxed);
    if irq0 != 0 {
        // SAFETY: a non-zero `vector0_irq` has a handler (stored after `request_irq`,
        // cleared under this lock before `free_irq`).
        unsafe { layer::pci_ext::disable_irq(irq0) };
    }
    *cid = cid.wrapping_add(1);
    cmd.set_cid(*cid);
    {
        let mut sq = aq.sq.lock();
        aq.push_sqe(&mut sq, cmd);
        aq.ring_sq(&mut sq);
    }
    let start = Instant::<Monotonic>::now();
    let ret;
    loop {
        let done = {
            let mut cq = aq.cq.lock();
            if aq.cqe_pending(&cq) {
                rustnvme_dma_rmb();
                let cqe = aq.cqe_at(cq.head);
                aq.advance_cq(&mut cq);
                hw.write32(cq.head as u32, aq.cq_db);
                Some(cqe)
            } else {
                None
            }
        };
        if let Some(cqe) = done {
            ret = Ok(cqe);
            break;
        }
        if start.elapsed().as_millis() > ADMIN_TIMEOUT_MS {
            dev_err!(hw.pdev, "admin opcode {:#x} timed out, stopping controller\n", cmd.opcode());
            let _ = rustnvme_stop_ctrl(hw);
            ret = Err(ETIMEDOUT);
            break;
        }
        fsleep(Delta::from_micros(50));
    }
    if irq0 != 0 {
        // SAFETY: as above; one enable for the disable.
        unsafe { layer::pci_ext::enable_irq(irq0) };
    }
    drop(cid);
    let cqe = ret?;
    let status = cqe.status() >> 1;
    if cqe.cid() != cmd.cid() {
        dev_err!(hw.pdev, "admin completion for cid {}, expected {}\n", cqe.cid(), cmd.cid());
        return Err(EIO);
    }
    if status != 0 {
        dev_err!(hw.pdev, "admin opcode {:#x} failed, status {:#x}\n", cmd.opcode(), status);
        return Err(EIO);
    }
    Ok(cqe.result())
}

/// rawnvme_identify()
fn rustnvme_identify(admin: &Admin, nsid: u32, cns: u32, buf: u64) -> Result {
    let mut c = Command::new(admin::IDENTIFY);
    c.set_nsid(nsid);
    c.set_prp1(buf);
    c.set_cdw(10, cns);
    rustnvme_admin_exec(admin, &mut c).map(|_| ())
}

/// rawnvme_set_queue_count(): asks for `count` I/O queue pairs, returns how many were granted.
fn rustnvme_set_queue_count(admin: &Admin, count: u32) -> Result<u32> {
    let mut c = Command::new(admin::SET_FEATURES);
    c.set_cdw(10, admin::FEAT_NUM_QUEUES);
    c.set_cdw(11, (count - 1) | (count - 1) << 16);
    let result = rustnvme_admin_exec(admin, &mut c)?;
    Ok(core::cmp::min(result & 0xffff, result >> 16) + 1)
}

/// rawnvme_create_io_queue(): the CQ, then the SQ on it; the CQ goes again if the SQ fails.
fn rustnvme_create_io_queue(admin: &Admin, q: &Queue) -> Result {
    let mut flags = admin::QUEUE_PHYS_CONTIG;
    if !q.polled {
        flags |= admin::CQ_IRQ_ENABLED;
    }
    let size = (q.depth as u32 - 1) << 16 | q.qid as u32;
    let mut c = Command::new(admin::CREATE_CQ);
    c.set_prp1(q.cqes.dma_address());
    c.set_cdw(10, size);
    c.set_cdw(11, flags | (if q.polled { 0 } else { q.irq_vector as u32 }) << 16);
    rustnvme_admin_exec(admin, &mut c)?;

    let mut c = Command::new(admin::CREATE_SQ);
    c.set_prp1(q.sqes.dma_address());
    c.set_cdw(10, size);
    c.set_cdw(11, admin::QUEUE_PHYS_CONTIG | (q.qid as u32) << 16);
    let ret = rustnvme_admin_exec(admin, &mut c);
    if ret.is_err() {
        let mut c = Command::new(admin::DELETE_CQ);
        c.set_cdw(10, q.qid as u32);
        let _ = rustnvme_admin_exec(admin, &mut c);
    }
    ret.map(|_| ())
}

/// rawnvme_delete_io_queue(): the SQ, then its CQ.
fn rustnvme_delete_io_queue(admin: &Admin, q: &Queue) {
    let mut c = Command::new(admin::DELETE_SQ);
    c.set_cdw(10, q.qid as u32);
    if rustnvme_admin_exec(admin, &mut c).is_err() {
        return;
    }
    let mut c = Command::new(admin::DELETE_CQ);
    c.set_cdw(10, q.qid as u32);
    let _ = rustnvme_admin_exec(admin, &mut c);
}

/// rawnvme_delete_io_queues(): last first.
fn rustnvme_delete_io_queues(admin: &Admin, queues: &[Arc<Queue>]) {
    for q in queues.iter().rev() {
        rustnvme_delete_io_queue(admin, q);
    }
}

/// rawnvme_create_io_queues(): every I/O queue from empty rings; undone on failure.
fn rustnvme_create_io_queues(admin: &Admin, queues: &[Arc<Queue>]) -> Result {
    for (i, q) in queues.iter().enumerate() {
        q.reset_state();
        if let Err(e) = rustnvme_create_io_queue(admin, q) {
            rustnvme_delete_io_queues(admin, &queues[..i]);
            return Err(e);
        }
    }
    Ok(())
}

/// rawnvme_irq_flags()
fn rustnvme_irq_flags(mode: u32) -> IrqKinds {
    match mode {
        1 => IrqKinds::MSI_AFFINE,
        2 => IrqKinds::INTX,
        _ => IrqKinds::ALL_AFFINE,
    }
}

/// What rawnvme_setup_io_queues() leaves behind: vectors, queues, their handlers.
struct IoSetup {
    vectors: IrqVectors,
    io: Arc<IoQueues>,
    lines: KVec<IrqLine<Queue>>,
    nr_irq_queues: u32,
    nr_poll_queues: u32,
}

/// rawnvme_setup_io_queues(): sizes the I/O queue set, allocates vectors and queue memory,
/// creates the queues and requests their handlers.
fn rustnvme_setup_io_queues(hw: &Arc<Hw>, admin: &Admin, queue_depth: u32) -> Result<IoSetup> {
    let nr_param = module_parameters::nr_io_queues.value();
    let poll_param = module_parameters::poll_queues.value();
    let cpus = if nr_param != 0 { nr_param } else { layer::cpu::num_online_cpus() };
    let want = core::cmp::min(cpus + poll_param, 0xffff);
    let granted = rustnvme_set_queue_count(admin, want)?;
    let mut nr = core::cmp::min(want, granted);
    while nr > 1 && rustnvme_bar_needed(hw.db_stride, nr + 1) > hw.bar_size {
        nr -= 1;
    }
    let nr_poll_queues = core::cmp::min(poll_param, nr - 1);
    let vectors = IrqVectors::alloc(hw.pdev, 1, nr - nr_poll_queues,
                                    rustnvme_irq_flags(module_parameters::irq_mode.value()))?;
    let nr_irq_queues = vectors.len();
    let nr_io_queues = nr_irq_queues + nr_poll_queues;
    let mut queues = KVec::with_capacity(nr_io_queues as usize, GFP_KERNEL)?;
    for qid in 1..=nr_io_queues {
        let vector = if qid > nr_irq_queues { None } else { Some((qid - 1) as u16) };
        queues.push(
            rustnvme_alloc_queue(hw, qid as u16, (queue_depth + 1) as u16, true, vector)?,
            GFP_KERNEL,
        )?;
    }
    rustnvme_create_io_queues(admin, &queues)?;
    let mut lines = KVec::with_capacity(nr_irq_queues as usize, GFP_KERNEL)?;
    for q in queues.iter().take(nr_irq_queues as usize) {
        // SAFETY: the line is kept in the controller's data and dropped there, never forgotten.
        let line = unsafe {
            IrqLine::request(&vectors, q.irq_vector as u32, !vectors.msix(), c"rustnvme", q.clone())
        };
        match line {
            Ok(line) => {
                q.irq.store(vectors.irq(q.irq_vector as u32)?, Relaxed);
                lines.push(line, GFP_KERNEL)?
            }
            Err(e) => {
                drop(lines);
                rustnvme_delete_io_queues(admin, &queues);
                return Err(e);
            }
        }
    }
    hw.vector0_irq.store(vectors.irq(0)?, Relaxed);
    dev_info!(hw.pdev, "{} I/O queues ({} irq via {}, {} polled)\n", nr_io_queues, nr_irq_queues,
              if vectors.msix() { "MSI-X" } else if vectors.msi() { "MSI" } else { "INTx" },
              nr_poll_queues);
    let io = Arc::new(IoQueues { queues }, GFP_KERNEL)?;
    Ok(IoSetup { vectors, io, lines, nr_irq_queues, nr_poll_queues })
}

/// rawnvme_teardown_io_queues(): queues deleted while live, handlers freed, memory freed.
fn rustnvme_teardown_io_queues(hw: &Hw, admin: &Admin, lines: KVec<IrqLine<Queue>>,
                               vectors: Option<IrqVectors>, io: &IoQueues) {
    if hw.flags.live.load(Relaxed) {
        rustnvme_delete_io_queues(admin, &io.queues);
    }
    {
        let _guard = admin.cid.lock();
        hw.vector0_irq.store(0, Relaxed);
    }
    for q in io.queues.iter() {
        q.irq.store(0, Relaxed);
    }
    drop(lines);
    drop(vectors);
}

/// What rawnvme_scan() learns from Identify Controller, for the disks.
struct CtrlId {
    max_hw_sectors: u32,
    volatile_wc: bool,
}

/// rawnvme_alloc_ns(): a disk for a namespace of a supported format.
fn rustnvme_alloc_ns(ctrl: &ScanCtx<'_>, nsid: u32, id: &[u8], disks: &mut KVec<GenDisk<RustNvme>>)
    -> Result
{
    let nsze = u64::from_le_bytes(id[0..8].try_into().map_err(|_| EINVAL)?);
    if nsze == 0 {
        return Ok(());
    }
    let flbas = id[26];
    let idx = (flbas & 0xf) as usize | (((flbas >> 5) & 3) as usize) << 4;
    let lbaf = &id[128 + 4 * idx..132 + 4 * idx];
    let ms = u16::from_le_bytes([lbaf[0], lbaf[1]]);
    let ds = lbaf[2] as u32;
    if ms != 0 || ds < 9 || ds > CTRL_PAGE_SHIFT {
        dev_info!(ctrl.hw.pdev, "namespace {}: unsupported format, skipped\n", nsid);
        return Ok(());
    }
    let ns = Arc::new(NsQueue { core: ctrl.core.clone(), nsid, lba_shift: ds }, GFP_KERNEL)?;
    let builder = GenDiskBuilder::new()
        .logical_block_size(1 << ds)?
        .max_hw_sectors(ctrl.id.max_hw_sectors)
        .max_segments(MAX_SEGS as u16)
        .virt_boundary_mask(CTRL_PAGE_SIZE as usize - 1)
        .write_cache(ctrl.id.volatile_wc)
        .fua(ctrl.id.volatile_wc)
        .capacity_sectors(nsze << (ds - 9));
    // SAFETY: the disk is kept in the controller's driver data, dropped at unbind while the
    // PCI device is still registered.
    let builder = unsafe { builder.parent(ctrl.hw.pdev.as_ref()) };
    let disk =
        builder.build(fmt!("rustnvme{}n{}", ctrl.instance, nsid), ctrl.core.tagset.clone(), ns)?;
    disks.push(disk, GFP_KERNEL)?;
    Ok(())
}

/// What the scan needs of the controller.
struct ScanCtx<'a> {
    hw: &'a Arc<Hw>,
    admin: &'a Admin,
    core: &'a Arc<CtrlCore>,
    instance: u32,
    id: CtrlId,
}

/// rawnvme_scan(): Identify Controller, then every Identify Namespace, a disk for each.
fn rustnvme_scan(ctx: &mut ScanCtx<'_>, disks: &mut KVec<GenDisk<RustNvme>>) -> Result {
    let hw = ctx.hw;
    let buf = Coherent::<u8>::zeroed_slice(hw.pdev.as_ref(), IDENTIFY_SIZE, GFP_KERNEL)?;
    rustnvme_identify(ctx.admin, 0, admin::CNS_CTRL, buf.dma_address())?;
    // SAFETY: the controller finished writing the buffer (its command completed) and no
    // command that could write it is outstanding while it is read.
    let id = unsafe { buf.as_ref() };
    let nn = u32::from_le_bytes(id[516..520].try_into().map_err(|_| EINVAL)?);
    let nn = core::cmp::min(nn, MAX_NS);
    ctx.id.volatile_wc = id[525] & 1 != 0;
    ctx.id.max_hw_sectors = MAX_SECTORS;
    let mps_shift = reg::cap_mpsmin(hw.cap) + 12;
    let mdts = id[77] as u32;
    if mdts != 0 && mdts + mps_shift - 9 < 32 {
        ctx.id.max_hw_sectors = core::cmp::min(MAX_SECTORS, 1u32 << (mdts + mps_shift - 9));
    }
    let rtd3e = u32::from_le_bytes(id[88..92].try_into().map_err(|_| EINVAL)?);
    if rtd3e != 0 {
        hw.shutdown_timeout_ms.store(
            (rtd3e / 1000).clamp(SHUTDOWN_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MAX_MS), Relaxed);
    }
    let mn = core::str::from_utf8(&id[24..64]).unwrap_or("?").trim_end();
    dev_info!(hw.pdev, "{}, {} namespaces, write cache {}\n", mn, nn,
              if ctx.id.volatile_wc { "on" } else { "off" });
    for nsid in 1..=nn {
        // SAFETY: no command is outstanding on the buffer while it is cleared.
        unsafe { buf.as_mut() }.fill(0);
        rustnvme_identify(ctx.admin, nsid, admin::CNS_NS, buf.dma_address())?;
        // SAFETY: as for Identify Controller above.
        rustnvme_alloc_ns(ctx, nsid, unsafe { buf.as_ref() }, disks)?;
    }
    Ok(())
}

/// rawnvme_map_bar(): enables the device, sets the DMA masks, maps BAR0 and reads CAP.
fn rustnvme_map_bar(pdev: &pci::Device<device::Core<'_>>) -> Result<Hw> {
    pdev.enable_device_mem()?;
    pdev.set_master();
    // SAFETY: probe runs before any DMA allocation or mapping of this device.
    unsafe { pdev.dma_set_mask_and_coherent(DmaMask::new::<64>())? };
    layer::pci_ext::set_min_align_mask(pdev.as_ref(), CTRL_PAGE_SIZE - 1);
    let bar_size = pdev.resource_len(0)? as usize;
    let pdev: &pci::Device<Bound> = pdev;
    // SAFETY: the blk-mq and interrupt callbacks need `'static` data; every holder of a
    // `Hw` (the driver data, its queues, handlers and disks) is dropped by the driver data's
    // drop at unbind, while the device is still bound (type invariant of `Hw`).
    let pdev: &'static pci::Device<Bound> = unsafe { &*core::ptr::from_ref(pdev) };
    let bar = pdev.iomap_region(0, c"rustnvme")?;
    let mut hw = Hw {
        pdev,
        bar,
        bar_size,
        cap: 0,
        db_stride: 4,
        ready_timeout_ms: 0,
        shutdown_timeout_ms: Atomic::new(SHUTDOWN_TIMEOUT_MS),
        vector0_irq: Atomic::new(0),
        flags: Flags::new(),
        tagset: SetOnce::new(),
    };
    let cap = hw.read64(reg::CAP);
    hw.cap = cap;
    hw.db_stride = 4 << reg::cap_stride(cap);
    hw.ready_timeout_ms = (reg::cap_timeout(cap) + 1) * 500;
    if cap == !0 || !reg::cap_css_nvm(cap) || reg::cap_mpsmin(cap) + 12 > CTRL_PAGE_SHIFT
        || rustnvme_bar_needed(hw.db_stride, 2) > bar_size
    {
        dev_err!(pdev, "unsupported controller (CAP {:#x}, BAR {:#x})\n", cap, bar_size);
        return Err(ENODEV);
    }
    Ok(hw)
}

/// Instance numbers (rawnvme's IDA): one bit per bound controller.
static INSTANCES: Atomic<u64> = Atomic::new(0);

/// ida_alloc(): the lowest free instance number.
fn rustnvme_instance_alloc() -> Result<u32> {
    loop {
        let used = INSTANCES.load(Relaxed);
        let free = (!used).trailing_zeros();
        if free >= MAX_INSTANCES {
            return Err(ENOSPC);
        }
        if INSTANCES.cmpxchg(used, used | 1 << free, Relaxed).is_ok() {
            return Ok(free);
        }
    }
}

/// ida_free()
fn rustnvme_instance_free(instance: u32) {
    loop {
        let used = INSTANCES.load(Relaxed);
        if INSTANCES.cmpxchg(used, used & !(1 << instance), Relaxed).is_ok() {
            return;
        }
    }
}

/// Gives the instance number back unless disarmed (probe's error unwinding).
struct InstanceGuard(u32, bool);

impl Drop for InstanceGuard {
    fn drop(&mut self) {
        if self.1 {
            rustnvme_instance_free(self.0);
        }
    }
}

/// rawnvme_quiesce(): the disks' queues stop taking requests (once).
fn rustnvme_quiesce(core: &CtrlCore) {
    if core.hw.flags.quiesced.xchg(true, Relaxed) {
        return;
    }
    core.tagset.quiesce();
}

/// rawnvme_unquiesce()
fn rustnvme_unquiesce(core: &CtrlCore) {
    if !core.hw.flags.quiesced.xchg(false, Relaxed) {
        return;
    }
    core.tagset.unquiesce();
}

/// rawnvme_schedule_reset()
fn rustnvme_schedule_reset(core: &Arc<CtrlCore>) {
    if core.hw.flags.dead.load(Relaxed) {
        return;
    }
    if !core.hw.flags.resetting.xchg(true, Relaxed) {
        let _ = workqueue::system_unbound().enqueue(core.clone());
    }
}

/// rawnvme_timeout_reap(): reaps a CQ with its vector masked.
fn rustnvme_timeout_reap(q: &Queue) {
    let irq = q.irq.load(Relaxed);
    if irq != 0 {
        // SAFETY: a non-zero `irq` has its handler registered (cleared before `free_irq`).
        unsafe { layer::pci_ext::disable_irq(irq) };
    }
    q.reap_cq();
    if irq != 0 {
        // SAFETY: as above; one enable for the disable.
        unsafe { layer::pci_ext::enable_irq(irq) };
    }
}

/// rawnvme_sync_irqs(): waits for running handlers and reaps what the (disabled) controller
/// posted before.
fn rustnvme_sync_irqs(core: &CtrlCore) {
    for q in core.io.queues.iter() {
        let irq = q.irq.load(Relaxed);
        if irq != 0 {
            // SAFETY: as in `rustnvme_timeout_reap`.
            unsafe { layer::pci_ext::synchronize_irq(irq) };
        }
        q.reap_cq();
    }
}

/// rawnvme_cancel_rq(): aborts a request the stopped controller held; one already completed
/// is left alone.
fn rustnvme_cancel_rq(rq: ARef<Request<RustNvme>>) {
    if !rq.in_flight() {
        return;
    }
    let iod = rq.data();
    iod.status.store(Err(EIO));
    iod.aborted.store(true, Relaxed);
    Request::complete(rq);
}

/// rawnvme_dev_disable(): no new commands; the I/O queues deleted and CC.SHN sent on a
/// `shutdown` of a live controller, else CC.EN cleared; bus mastering off if it does not stop
/// or is dead. Only then are the handlers waited out, the CQs reaped and what the controller
/// still held aborted. The disks stay quiesced.
fn rustnvme_dev_disable(core: &CtrlCore, shutdown: bool) -> Result {
    let hw = &*core.hw;
    let _guard = core.shutdown_lock.lock();
    let live = hw.flags.live.xchg(false, Relaxed);
    rustnvme_quiesce(core);
    let ret = if shutdown && live {
        rustnvme_delete_io_queues(&core.admin, &core.io.queues);
        rustnvme_shutdown_ctrl(hw).or_else(|_| rustnvme_stop_ctrl(hw))
    } else {
        rustnvme_stop_ctrl(hw)
    };
    if hw.flags.dead.load(Relaxed) {
        layer::pci_ext::clear_master(hw.pdev);
    }
    rustnvme_sync_irqs(core);
    core.tagset.busy_iter(rustnvme_cancel_rq);
    core.tagset.wait_completed();
    ret
}

/// rawnvme_reset_work(): takes the controller down, requeues what it held, and brings it back
/// with the same queues; the admin queue is reset under the admin lock.
fn rustnvme_reset_work(core: &Arc<CtrlCore>) {
    let hw = &*core.hw;
    let ret = rustnvme_dev_disable(core, false).and_then(|()| {
        {
            let _admin = core.admin.cid.lock();
            core.admin.q.reset_state();
            rustnvme_enable_ctrl(hw, &core.admin.q)?;
        }
        let nr = core.io.queues.len() as u32;
        if rustnvme_set_queue_count(&core.admin, nr)? < nr {
            return Err(ENOSPC);
        }
        rustnvme_create_io_queues(&core.admin, &core.io.queues)
    });
    match ret {
        Ok(()) => {
            hw.flags.live.store(true, Relaxed);
            dev_info!(hw.pdev, "controller reset done\n");
        }
        Err(e) => {
            dev_err!(hw.pdev, "controller reset failed ({}), failing all I/O\n", e.to_errno());
            hw.flags.dead.store(true, Relaxed);
            let _ = rustnvme_dev_disable(core, false);
            core.tagset.mark_disks_dead();
        }
    }
    rustnvme_unquiesce(core);
    hw.flags.resetting.store(false, Relaxed);
}

/// rawnvme_stop_resets(): from here on a timeout kills the controller instead of resetting
/// it; waits out a reset under way and keeps new ones from starting.
fn rustnvme_stop_resets(core: &CtrlCore) {
    core.hw.flags.removing.store(true, Relaxed);
    while core.hw.flags.resetting.xchg(true, Relaxed) {
        fsleep(Delta::from_millis(20));
    }
    layer::work_ext::cancel_sync(&core.reset_work);
}

/// reset_controller_store(): a reset on request, waited for; fails unless the controller
/// came back.
fn rustnvme_reset_controller_store(core: &Arc<CtrlCore>) -> Result {
    let flags = &core.hw.flags;
    if flags.dead.load(Relaxed) {
        return Err(ENODEV);
    }
    rustnvme_schedule_reset(core);
    while flags.resetting.load(Relaxed) && !flags.removing.load(Relaxed) {
        fsleep(Delta::from_millis(10));
    }
    if flags.live.load(Relaxed) {
        Ok(())
    } else {
        Err(EIO)
    }
}

/// rawnvme_alloc_tagset() and rawnvme_map_queues(): one hardware queue per I/O queue, the
/// interrupt-driven ones after their vectors' affinity, the polled ones after them.
fn rustnvme_alloc_tagset(hw: &Hw, io: &IoSetup, queue_depth: u32) -> Result<Arc<TagSet<RustNvme>>> {
    let timeout = msecs_to_jiffies(module_parameters::io_timeout.value() * 1000);
    let nr_hw_queues = io.nr_irq_queues + io.nr_poll_queues;
    // SAFETY: the tag set is dropped with the controller's data at unbind, while the PCI
    // device is registered.
    let set = unsafe {
        TagSet::for_device(nr_hw_queues, queue_depth, timeout as u32, hw.pdev.as_ref(),
                           io.nr_poll_queues)
    };
    Arc::pin_init(set, GFP_KERNEL)
}

/// rawnvme_probe()
fn rustnvme_probe(pdev: &pci::Device<device::Core<'_>>) -> Result<impl PinInit<Ctrl, Error>> {
    let mut instance = InstanceGuard(rustnvme_instance_alloc()?, true);
    let hw = Arc::new(rustnvme_map_bar(pdev)?, GFP_KERNEL)?;
    let mqes = reg::cap_mqes(hw.cap) + 1;
    let queue_depth =
        module_parameters::io_queue_depth.value().clamp(2, core::cmp::min(mqes, 4096)) - 1;
    let aq = rustnvme_alloc_queue(&hw, 0, core::cmp::min(ADMIN_DEPTH, mqes) as u16, false, None)?;
    let admin = Arc::pin_init(
        try_pin_init!(Admin { q: aq, cid <- new_mutex!(0u16) }),
        GFP_KERNEL,
    )?;
    rustnvme_disable_ctrl(&hw)?;
    if let Err(e) = rustnvme_enable_ctrl(&hw, &admin.q) {
        let _ = rustnvme_stop_ctrl(&hw);
        return Err(e);
    }
    let io = match rustnvme_setup_io_queues(&hw, &admin, queue_depth) {
        Ok(io) => io,
        Err(e) => {
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    let tagset = match rustnvme_alloc_tagset(&hw, &io, queue_depth) {
        Ok(set) => set,
        Err(e) => {
            rustnvme_teardown_io_queues(&hw, &admin, io.lines, Some(io.vectors), &io.io);
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    hw.tagset.populate(tagset.clone());
    let (core_hw, core_admin, core_io) = (hw.clone(), admin.clone(), io.io.clone());
    let core = Arc::pin_init(
        try_pin_init!(CtrlCore {
            hw: core_hw,
            admin: core_admin,
            io: core_io,
            tagset,
            shutdown_lock <- new_mutex!(()),
            reset_work <- new_work!("rustnvme::reset_work"),
        }),
        GFP_KERNEL,
    );
    let core = match core {
        Ok(core) => core,
        Err(e) => {
            rustnvme_teardown_io_queues(&hw, &admin, io.lines, Some(io.vectors), &io.io);
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    hw.flags.live.store(true, Relaxed);
    let mut disks = KVec::new();
    let mut ctx = ScanCtx {
        hw: &hw,
        admin: &admin,
        core: &core,
        instance: instance.0,
        id: CtrlId { max_hw_sectors: MAX_SECTORS, volatile_wc: false },
    };
    if let Err(e) = rustnvme_scan(&mut ctx, &mut disks) {
        rustnvme_stop_resets(&core);
        drop(disks);
        rustnvme_teardown_io_queues(&hw, &admin, io.lines, Some(io.vectors), &io.io);
        let _ = rustnvme_stop_ctrl(&hw);
        return Err(e);
    }
    // SAFETY: the attribute is kept in the driver data and dropped first at unbind.
    let attr = KBox::pin_init(
        unsafe {
            WriteAttr::new(hw.pdev.as_ref(), c"reset_controller", core.clone(),
                           rustnvme_reset_controller_store)
        },
        GFP_KERNEL,
    );
    let attr = match attr {
        Ok(attr) => attr,
        Err(e) => {
            rustnvme_stop_resets(&core);
            drop(disks);
            rustnvme_teardown_io_queues(&hw, &admin, io.lines, Some(io.vectors), &io.io);
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    instance.1 = false;
    let (nr_irq_queues, nr_poll_queues) = (io.nr_irq_queues, io.nr_poll_queues);
    Ok(try_pin_init!(Ctrl {
        reset_attr: Some(attr),
        disks,
        lines: io.lines,
        vectors: Some(io.vectors),
        core,
        instance: instance.0,
        nr_irq_queues,
        nr_poll_queues,
    }))
}

impl Ctrl {
    /// rawnvme_remove(): disks deleted, I/O queues deleted, handlers freed, controller shut
    /// down.
    fn remove(&mut self) {
        let core = self.core.clone();
        self.reset_attr = None;
        rustnvme_stop_resets(&core);
        self.disks.clear();
        let lines = core::mem::take(&mut self.lines);
        rustnvme_teardown_io_queues(&core.hw, &core.admin, lines, self.vectors.take(), &core.io);
        let _ = if core.hw.flags.dead.load(Relaxed) {
            rustnvme_stop_ctrl(&core.hw)
        } else {
            rustnvme_shutdown_ctrl(&core.hw)
        };
    }
}

/// rawnvme_shutdown(): reboot or power-off with the controller bound: a normal shutdown
/// (CC.SHN) so it can flush its cache and count a safe shutdown, as upstream's nvme_shutdown.
fn rustnvme_shutdown(ctrl: &Ctrl) {
    let core = &*ctrl.core;
    rustnvme_stop_resets(core);
    core.hw.flags.dead.store(true, Relaxed);
    let _ = rustnvme_dev_disable(core, true);
    rustnvme_unquiesce(core);
}

#[pinned_drop]
impl PinnedDrop for Ctrl {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `Ctrl` has no pinned field; nothing is moved out of `self` but the disks,
        // lines and vectors, which do not need to stay in place.
        let this = unsafe { self.get_unchecked_mut() };
        this.remove();
        rustnvme_instance_free(this.instance);
    }
}

/// The PCI driver: no id table, bound through driver_override or new_id, as rawnvme.
struct RustNvmePci;

kernel::pci_device_table!(PCI_TABLE, <RustNvmePci as pci::Driver>::IdInfo, []);

impl pci::Driver for RustNvmePci {
    type IdInfo = ();
    type Data<'bound> = Ctrl;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<device::Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || rustnvme_probe(pdev))
    }
}

impl ShutdownDriver for RustNvmePci {
    fn shutdown<'bound>(_dev: &'bound pci::Device<device::Core<'_>>, this: Pin<&Ctrl>) {
        rustnvme_shutdown(&this);
    }
}

/// rawnvme_check_params(): one line naming a bad parameter, before any controller is touched.
fn rustnvme_check_params() -> Result {
    let depth = module_parameters::io_queue_depth.value();
    let nr = module_parameters::nr_io_queues.value();
    let poll = module_parameters::poll_queues.value();
    let mode = module_parameters::irq_mode.value();
    let timeout = module_parameters::io_timeout.value();
    let retries = module_parameters::max_retries.value();
    if !(2..=4096).contains(&depth) {
        pr_err!("io_queue_depth={}: expected 2..4096\n", depth);
    } else if nr > 1024 {
        pr_err!("nr_io_queues={}: expected 0..1024\n", nr);
    } else if poll > 64 {
        pr_err!("poll_queues={}: expected 0..64\n", poll);
    } else if mode > 2 {
        pr_err!("irq_mode={}: expected 0 (MSI-X), 1 (MSI) or 2 (INTx)\n", mode);
    } else if timeout == 0 || timeout > 3600 {
        pr_err!("io_timeout={}: expected 1..3600 seconds\n", timeout);
    } else if retries > 255 {
        pr_err!("max_retries={}: expected 0..255\n", retries);
    } else {
        return Ok(());
    }
    Err(EINVAL)
}

/// The module (rawnvme_init()): checks the parameters, then registers the PCI driver.
#[pin_data]
struct RustNvmeModule {
    #[pin]
    driver: kernel::driver::Registration<ShutdownAdapter<RustNvmePci>>,
}

impl kernel::InPlaceModule for RustNvmeModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            rustnvme_check_params()?;
            Ok(try_pin_init!(Self {
                driver <- kernel::driver::Registration::new(c"rustnvme", module),
            }))
        })
    }
}

module! {
    type: RustNvmeModule,
    name: "rustnvme",
    authors: ["twinbench"],
    description: "NVMe PCIe driver, Rust twin of rawnvme (twinbench)",
    license: "GPL",
    params: {
        io_queue_depth: u32 {
            default: 1024,
            description: "I/O queue depth, 2..4096 (capped by CAP.MQES)",
        },
        nr_io_queues: u32 {
            default: 0,
            description: "Interrupt-driven I/O queues (0 = one per online CPU)",
        },
        poll_queues: u32 {
            default: 0,
            description: "Polled I/O queues for io_uring hipri (default 0)",
        },
        irq_mode: u32 {
            default: 0,
            description: "0 = MSI-X, MSI, INTx; 1 = MSI, INTx; 2 = INTx only",
        },
        io_timeout: u32 {
            default: 30,
            description: "I/O timeout in seconds before a controller reset",
        },
        max_retries: u32 {
            default: 5,
            description: "Requeues of a reset-aborted request before it fails (nvme_core's)",
        },
    },
}

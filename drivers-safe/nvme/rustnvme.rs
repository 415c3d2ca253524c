// SPDX-License-Identifier: GPL-2.0

//! rustnvme: the Rust twin of rawnvme (drivers-raw/nvme/rawnvme.c) on the kernel crate.
//!
//! Same algorithm, parameters, defaults and refusals as rawnvme and safenvme, function for
//! function where the language allows: it maps BAR0, brings the controller up through CC/CSTS,
//! runs a polled admin queue, asks for one interrupt-driven I/O queue pair per CPU (plus
//! optional polled queues), creates them and reads every namespace. It has no PCI id table: it
//! binds only when told to (driver_override or new_id). The crate's `pci`, `dma::Coherent`,
//! `io` (MMIO) and `sync` types are used as they are; what the crate lacks is in
//! drivers-safe/kernel/rust/pci_ext.rs. The block device half (tag set, disks
//! `rustnvme<C>n<NS>`, I/O commands, timeouts, reset) waits for the shared local block-mq
//! abstraction (per-request data, hardware-queue context, timeout and poll ops), see
//! docs/twins.md, "Rust twin".

#[path = "../kernel/rust/pci_ext.rs"]
mod pci_ext;

use kernel::{
    device::{Bound, Core},
    dma::{Coherent, Device as _, DmaMask},
    io::Io,
    irq::{self, IrqReturn},
    pci,
    prelude::*,
    sync::{
        atomic::{ordering::Relaxed, Atomic, AtomicFlag},
        new_mutex, new_spinlock, new_spinlock_irq, Arc, Mutex, SpinLock, SpinLockIrq,
    },
    time::{delay::fsleep, Delta, Instant, Monotonic},
    transmute::{AsBytes, FromBytes},
};
use pci_ext::{IrqKinds, IrqLine, IrqVectors};

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

/// How the driver asks for interrupts (module parameter `irq_mode`).
#[derive(Clone, Copy, PartialEq)]
enum IrqMode {
    Auto,
    Msi,
    Intx,
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

/// Controller state bits (rawnvme's `enum rawnvme_flags`), one atomic flag each.
struct Flags {
    live: AtomicFlag,
    dead: AtomicFlag,
    removing: AtomicFlag,
    disabled: AtomicFlag,
}

impl Flags {
    const fn new() -> Self {
        Self {
            live: AtomicFlag::new(false),
            dead: AtomicFlag::new(false),
            removing: AtomicFlag::new(false),
            disabled: AtomicFlag::new(false),
        }
    }
}

/// The mapped controller: BAR0, what CAP says, the state flags; shared by every queue.
///
/// # Invariants
///
/// `bar` maps BAR0 of `pdev`, at least `bar_needed(2)` bytes, and `db_stride` is CAP's.
struct Hw<'b> {
    pdev: &'b pci::Device<Bound>,
    bar: pci::Bar<'b>,
    bar_size: usize,
    cap: u64,
    db_stride: usize,
    ready_timeout_ms: u32,
    shutdown_timeout_ms: Atomic<u32>,
    vector0_irq: Atomic<u32>,
    flags: Flags,
}

impl Hw<'_> {
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
/// the rings' indexes stay below `depth`.
#[pin_data]
struct Queue<'b> {
    hw: Arc<Hw<'b>>,
    qid: u16,
    depth: u16,
    polled: bool,
    irq_vector: u16,
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
fn rustnvme_alloc_queue<'b>(
    hw: &Arc<Hw<'b>>,
    qid: u16,
    depth: u16,
    prps: bool,
    irq_vector: Option<u16>,
) -> Result<Arc<Queue<'b>>> {
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

impl Queue<'_> {
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
            unsafe { self.cqes.as_mut_ptr().cast::<Completion>().add(i).write_volatile(Completion::default()) };
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
        unsafe { self.sqes.as_mut_ptr().cast::<Command>().add(sq.tail as usize).write_volatile(*cmd) };
        sq.tail += 1;
        if sq.tail == self.depth {
            sq.tail = 0;
        }
    }

    /// The entry at the CQ head, read once.
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

    /// rawnvme_handle_cqe(): an I/O completion; no requests exist without the block half.
    fn handle_cqe(&self, cqe: &Completion) {
        pr_warn!("queue {}: completion for cid {} without a request\n",
                             self.qid, cqe.cid());
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

    /// rawnvme_reap_cq(): from process context (the lock disables interrupts).
    fn reap_cq(&self) -> u32 {
        let mut cq = self.cq.lock();
        self.process_cq(&mut cq)
    }
}

/// rawnvme_irq(): the hard interrupt handler of one I/O queue.
impl irq::Handler for Queue<'_> {
    fn handle(&self) -> IrqReturn {
        if self.reap_cq() != 0 {
            IrqReturn::Handled
        } else {
            IrqReturn::None
        }
    }
}

/// The admin queue and its lock: one admin command at a time.
#[pin_data]
struct Admin<'b> {
    q: Arc<Queue<'b>>,
    #[pin]
    cid: Mutex<u16>,
}

/// A namespace the scan found (its disk waits for the block half).
struct Ns {
    nsid: u32,
    lba_shift: u8,
    nsze: u64,
}

/// One bound controller (rawnvme's `struct rawnvme_dev`).
///
/// Fields drop in order: handlers before vectors before queues before the BAR.
#[pin_data(PinnedDrop)]
struct Ctrl<'b> {
    lines: KVec<IrqLine<Queue<'b>>>,
    vectors: Option<IrqVectors>,
    queues: KVec<Arc<Queue<'b>>>,
    admin: Arc<Admin<'b>>,
    hw: Arc<Hw<'b>>,
    #[pin]
    shutdown_lock: Mutex<()>,
    instance: u32,
    irq_mode: IrqMode,
    nr_irq_queues: u32,
    nr_poll_queues: u32,
    queue_depth: u32,
    max_hw_sectors: u32,
    volatile_wc: bool,
    ns: KVec<Ns>,
}

/// rawnvme_wait_csts(): polls CSTS until `(csts & mask) == want` or the timeout.
fn rustnvme_wait_csts(hw: &Hw<'_>, mask: u32, want: u32, timeout_ms: u32) -> Result {
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
fn rustnvme_disable_ctrl(hw: &Hw<'_>) -> Result {
    let cc = hw.read32(reg::CC);
    hw.flags.disabled.store(true, Relaxed);
    hw.write32(cc & !(reg::CC_ENABLE | reg::CC_SHN_MASK), reg::CC);
    rustnvme_wait_csts(hw, reg::CSTS_RDY, 0, hw.ready_timeout_ms)
}

/// rawnvme_stop_ctrl(): disables; if the controller does not stop, bus mastering goes off.
fn rustnvme_stop_ctrl(hw: &Hw<'_>) -> Result {
    let ret = rustnvme_disable_ctrl(hw);
    if ret.is_err() {
        dev_err!(hw.pdev, "controller did not stop, bus mastering off\n");
        pci_ext::clear_master(hw.pdev);
    }
    ret
}

/// rawnvme_enable_ctrl(): programs the admin queue and sets CC.EN.
fn rustnvme_enable_ctrl(hw: &Hw<'_>, aq: &Queue<'_>) -> Result {
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
fn rustnvme_shutdown_ctrl(hw: &Hw<'_>) -> Result {
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
fn rustnvme_admin_exec(admin: &Admin<'_>, cmd: &mut Command) -> Result<u32> {
    let aq = &*admin.q;
    let hw = &*aq.hw;
    let mut cid = admin.cid.lock();
    if hw.flags.disabled.load(Relaxed) {
        return Err(ENODEV);
    }
    let irq0 = hw.vector0_irq.load(Relaxed);
    if irq0 != 0 {
        // SAFETY: a non-zero `vector0_irq` is a requested line (set after `request_irq` and
        // cleared before `free_irq`, both under this lock).
        unsafe { kernel::bindings::disable_irq(irq0) };
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
        unsafe { kernel::bindings::enable_irq(irq0) };
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
fn rustnvme_identify(admin: &Admin<'_>, nsid: u32, cns: u32, buf: u64) -> Result {
    let mut c = Command::new(admin::IDENTIFY);
    c.set_nsid(nsid);
    c.set_prp1(buf);
    c.set_cdw(10, cns);
    rustnvme_admin_exec(admin, &mut c).map(|_| ())
}

/// rawnvme_set_queue_count(): asks for `count` I/O queue pairs, returns how many were granted.
fn rustnvme_set_queue_count(admin: &Admin<'_>, count: u32) -> Result<u32> {
    let mut c = Command::new(admin::SET_FEATURES);
    c.set_cdw(10, admin::FEAT_NUM_QUEUES);
    c.set_cdw(11, (count - 1) | (count - 1) << 16);
    let result = rustnvme_admin_exec(admin, &mut c)?;
    Ok(core::cmp::min(result & 0xffff, result >> 16) + 1)
}

/// rawnvme_create_io_queue(): the CQ, then the SQ on it; the CQ goes again if the SQ fails.
fn rustnvme_create_io_queue(admin: &Admin<'_>, q: &Queue<'_>) -> Result {
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
fn rustnvme_delete_io_queue(admin: &Admin<'_>, q: &Queue<'_>) {
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
fn rustnvme_delete_io_queues(admin: &Admin<'_>, queues: &[Arc<Queue<'_>>]) {
    for q in queues.iter().rev() {
        rustnvme_delete_io_queue(admin, q);
    }
}

/// rawnvme_create_io_queues(): every I/O queue from empty rings; undone on failure.
fn rustnvme_create_io_queues(admin: &Admin<'_>, queues: &[Arc<Queue<'_>>]) -> Result {
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
fn rustnvme_irq_flags(mode: IrqMode) -> IrqKinds {
    match mode {
        IrqMode::Msi => IrqKinds::MSI_AFFINE,
        IrqMode::Intx => IrqKinds::INTX,
        IrqMode::Auto => IrqKinds::ALL_AFFINE,
    }
}

/// What rawnvme_setup_io_queues() leaves behind: vectors, queues, their handlers.
struct IoSetup<'b> {
    vectors: IrqVectors,
    queues: KVec<Arc<Queue<'b>>>,
    lines: KVec<IrqLine<Queue<'b>>>,
    nr_irq_queues: u32,
    nr_poll_queues: u32,
}

/// rawnvme_setup_io_queues(): sizes the I/O queue set, allocates vectors and queue memory,
/// creates the queues and requests their handlers.
fn rustnvme_setup_io_queues<'b>(
    hw: &Arc<Hw<'b>>,
    admin: &Admin<'b>,
    mode: IrqMode,
    queue_depth: u32,
) -> Result<IoSetup<'b>> {
    let nr_param = module_parameters::nr_io_queues.value();
    let poll_param = module_parameters::poll_queues.value();
    let want = core::cmp::min(
        (if nr_param != 0 { nr_param } else { pci_ext::online_cpus() }) + poll_param,
        0xffff,
    );
    let granted = rustnvme_set_queue_count(admin, want)?;
    let mut nr = core::cmp::min(want, granted);
    while nr > 1 && rustnvme_bar_needed(hw.db_stride, nr + 1) > hw.bar_size {
        nr -= 1;
    }
    let nr_poll_queues = core::cmp::min(poll_param, nr - 1);
    let vectors = IrqVectors::alloc(hw.pdev, 1, nr - nr_poll_queues, rustnvme_irq_flags(mode))?;
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
            Ok(line) => lines.push(line, GFP_KERNEL)?,
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
    Ok(IoSetup { vectors, queues, lines, nr_irq_queues, nr_poll_queues })
}

/// rawnvme_alloc_ns(): a namespace of a supported format (its disk waits for the block half).
fn rustnvme_alloc_ns(ctrl_ns: &mut KVec<Ns>, hw: &Hw<'_>, nsid: u32, id: &[u8]) -> Result {
    let nsze = u64::from_le_bytes(id[0..8].try_into().map_err(|_| EINVAL)?);
    if nsze == 0 {
        return Ok(());
    }
    let flbas = id[26];
    let idx = (flbas & 0xf) as usize | (((flbas >> 5) & 3) as usize) << 4;
    let lbaf = &id[128 + 4 * idx..132 + 4 * idx];
    let ms = u16::from_le_bytes([lbaf[0], lbaf[1]]);
    let ds = lbaf[2];
    if ms != 0 || (ds as u32) < 9 || ds as u32 > CTRL_PAGE_SHIFT {
        dev_info!(hw.pdev, "namespace {}: unsupported format, skipped\n", nsid);
        return Ok(());
    }
    ctrl_ns.push(Ns { nsid, lba_shift: ds, nsze }, GFP_KERNEL)?;
    Ok(())
}

/// What rawnvme_scan() learns from Identify Controller.
struct CtrlId {
    max_hw_sectors: u32,
    volatile_wc: bool,
}

/// rawnvme_scan(): Identify Controller, then every Identify Namespace.
fn rustnvme_scan(hw: &Hw<'_>, admin: &Admin<'_>, ns: &mut KVec<Ns>) -> Result<CtrlId> {
    let buf = Coherent::<u8>::zeroed_slice(hw.pdev.as_ref(), IDENTIFY_SIZE, GFP_KERNEL)?;
    rustnvme_identify(admin, 0, admin::CNS_CTRL, buf.dma_address())?;
    // SAFETY: the controller finished writing the buffer (its command completed) and no
    // command that could write it is outstanding while this copy is read.
    let id = unsafe { buf.as_ref() };
    let nn = core::cmp::min(u32::from_le_bytes(id[516..520].try_into().map_err(|_| EINVAL)?), MAX_NS);
    let volatile_wc = id[525] & 1 != 0;
    let mut max_hw_sectors = MAX_SECTORS;
    let mps_shift = reg::cap_mpsmin(hw.cap) + 12;
    let mdts = id[77] as u32;
    if mdts != 0 && mdts + mps_shift - 9 < 32 {
        max_hw_sectors = core::cmp::min(max_hw_sectors, 1u32 << (mdts + mps_shift - 9));
    }
    let rtd3e = u32::from_le_bytes(id[88..92].try_into().map_err(|_| EINVAL)?);
    if rtd3e != 0 {
        hw.shutdown_timeout_ms.store(
            (rtd3e / 1000).clamp(SHUTDOWN_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MAX_MS), Relaxed);
    }
    let mn = core::str::from_utf8(&id[24..64]).unwrap_or("?").trim_end();
    dev_info!(hw.pdev, "{}, {} namespaces, write cache {}\n", mn, nn,
              if volatile_wc { "on" } else { "off" });
    for nsid in 1..=nn {
        // SAFETY: no command is outstanding on the buffer while it is cleared.
        unsafe { buf.as_mut() }.fill(0);
        rustnvme_identify(admin, nsid, admin::CNS_NS, buf.dma_address())?;
        // SAFETY: as for Identify Controller above.
        rustnvme_alloc_ns(ns, hw, nsid, unsafe { buf.as_ref() })?;
    }
    for n in ns.iter() {
        dev_info!(hw.pdev, "namespace {}: {} blocks of {} bytes\n", n.nsid, n.nsze,
                  1u32 << n.lba_shift);
    }
    Ok(CtrlId { max_hw_sectors, volatile_wc })
}

/// rawnvme_map_bar(): enables the device, sets the DMA masks, maps BAR0 and reads CAP.
fn rustnvme_map_bar<'b>(pdev: &'b pci::Device<Core<'_>>) -> Result<Hw<'b>> {
    pdev.enable_device_mem()?;
    pdev.set_master();
    // SAFETY: probe runs before any DMA allocation or mapping of this device.
    unsafe { pdev.dma_set_mask_and_coherent(DmaMask::new::<64>())? };
    pci_ext::set_min_align_mask(pdev.as_ref(), CTRL_PAGE_SIZE - 1);
    let bar_size = pdev.resource_len(0)? as usize;
    let bar = pdev.iomap_region(0, c"rustnvme")?;
    let pdev: &'b pci::Device<Bound> = pdev;
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

/// rawnvme_probe()
fn rustnvme_probe<'b>(pdev: &'b pci::Device<Core<'_>>) -> Result<impl PinInit<Ctrl<'b>, Error> + 'b> {
    let mode = match module_parameters::irq_mode.value() {
        1 => IrqMode::Msi,
        2 => IrqMode::Intx,
        _ => IrqMode::Auto,
    };
    let mut instance = InstanceGuard(rustnvme_instance_alloc()?, true);
    let hw = Arc::new(rustnvme_map_bar(pdev)?, GFP_KERNEL)?;
    let mqes = reg::cap_mqes(hw.cap) + 1;
    let queue_depth =
        module_parameters::io_queue_depth.value().clamp(2, core::cmp::min(mqes, 4096)) - 1;
    let aq = rustnvme_alloc_queue(&hw, 0, core::cmp::min(ADMIN_DEPTH, mqes) as u16, false, None)?;
    let admin = Arc::pin_init(
        try_pin_init!(Admin {
            q: aq,
            cid <- new_mutex!(0u16),
        }),
        GFP_KERNEL,
    )?;
    rustnvme_disable_ctrl(&hw)?;
    rustnvme_enable_ctrl(&hw, &admin.q)?;
    let io = match rustnvme_setup_io_queues(&hw, &admin, mode, queue_depth) {
        Ok(io) => io,
        Err(e) => {
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    hw.flags.live.store(true, Relaxed);
    let mut ns = KVec::new();
    let id = match rustnvme_scan(&hw, &admin, &mut ns) {
        Ok(id) => id,
        Err(e) => {
            hw.flags.removing.store(true, Relaxed);
            rustnvme_teardown_io_queues(&hw, &admin, io);
            let _ = rustnvme_stop_ctrl(&hw);
            return Err(e);
        }
    };
    instance.1 = false;
    Ok(try_pin_init!(Ctrl {
        lines: io.lines,
        vectors: Some(io.vectors),
        queues: io.queues,
        admin,
        hw,
        shutdown_lock <- new_mutex!(()),
        instance: instance.0,
        irq_mode: mode,
        nr_irq_queues: io.nr_irq_queues,
        nr_poll_queues: io.nr_poll_queues,
        queue_depth,
        max_hw_sectors: id.max_hw_sectors,
        volatile_wc: id.volatile_wc,
        ns,
    }))
}

/// rawnvme_teardown_io_queues(): queues deleted while live, handlers freed, memory freed.
fn rustnvme_teardown_io_queues<'b>(hw: &Hw<'b>, admin: &Admin<'b>, io: IoSetup<'b>) {
    if hw.flags.live.load(Relaxed) {
        rustnvme_delete_io_queues(admin, &io.queues);
    }
    {
        let _guard = admin.cid.lock();
        hw.vector0_irq.store(0, Relaxed);
    }
    drop(io.lines);
    drop(io.queues);
    drop(io.vectors);
}

impl<'b> Ctrl<'b> {
    /// rawnvme_remove(): delete the I/O queues, free the handlers, shut the controller down.
    fn remove(&mut self) {
        self.hw.flags.removing.store(true, Relaxed);
        if let Some(vectors) = self.vectors.take() {
            let io = IoSetup {
                vectors,
                queues: core::mem::take(&mut self.queues),
                lines: core::mem::take(&mut self.lines),
                nr_irq_queues: self.nr_irq_queues,
                nr_poll_queues: self.nr_poll_queues,
            };
            rustnvme_teardown_io_queues(&self.hw, &self.admin, io);
        }
        let _ = if self.hw.flags.dead.load(Relaxed) {
            rustnvme_stop_ctrl(&self.hw)
        } else {
            rustnvme_shutdown_ctrl(&self.hw)
        };
    }
}

#[pinned_drop]
impl PinnedDrop for Ctrl<'_> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: only unpinned fields are moved out (`vectors`, `queues`, `lines`); the pinned
        // `shutdown_lock` stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        this.remove();
        rustnvme_instance_free(this.instance);
    }
}

/// The PCI driver: no id table, bound through driver_override or new_id, as rawnvme.
struct RustNvme;

kernel::pci_device_table!(PCI_TABLE, <RustNvme as pci::Driver>::IdInfo, []);

impl pci::Driver for RustNvme {
    type IdInfo = ();
    type Data<'bound> = Ctrl<'bound>;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || rustnvme_probe(pdev))
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

/// The module: checks the parameters, then registers the PCI driver.
#[pin_data]
struct RustNvmeModule {
    #[pin]
    driver: kernel::driver::Registration<pci::Adapter<RustNvme>>,
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

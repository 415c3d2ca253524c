// SPDX-License-Identifier: GPL-2.0

//! rustnull - the Rust twin of the null block driver: rawnull (drivers-raw/nullblk) written
//! in Rust on the 7.x kernel crate, function for function, with the same parameters,
//! defaults, refusals and behaviour. What the crate lacks (per-request data, a timer in the
//! request, the request's segments, pages in an `XArray`) comes from the local abstractions
//! in drivers-safe/kernel/rust (`layer`); drivers-safe/twins.tsv pairs the functions.

#[path = "../kernel/rust/mod.rs"]
#[allow(dead_code)]
mod layer;

use kernel::{
    alloc::flags::{__GFP_NOWARN, __GFP_ZERO, GFP_KERNEL, GFP_NOWAIT},
    block::{SECTOR_SHIFT, SECTOR_SIZE},
    page::{PAGE_SHIFT, PAGE_SIZE},
    prelude::*,
    sync::{aref::ARef, Arc, ArcBorrow},
    time::Delta,
    xarray::{self, AllocKind, XArray},
};
use layer::{
    blk_mq::{GenDisk, GenDiskBuilder, Op, Operations, Request, Segment, Status, TagSet},
    xa_page::XaPage,
};

module! {
    type: RustnullModule,
    name: "rustnull",
    authors: ["twinbench"],
    description: "twinbench Rust null block twin",
    license: "GPL",
    params: {
        nr_devices: u32 {
            default: 1,
            description: "Number of devices (1..1024, default 1)",
        },
        submit_queues: i32 {
            default: -1,
            description: "Hardware queues per device (default -1: one per online CPU)",
        },
        hw_queue_depth: u32 {
            default: 64,
            description: "Queue depth of each hardware queue (default 64)",
        },
        bs: u32 {
            default: 512,
            description: "Logical block size in bytes (512..4096, power of two, default 512)",
        },
        gb: u32 {
            default: 250,
            description: "Device size in GiB (default 250)",
        },
        irqmode: u32 {
            default: 1,
            description: "Completion: 0 in queue_rq, 1 softirq, 2 hrtimer (default 1)",
        },
        completion_nsec: u64 {
            default: 10000,
            description: "hrtimer completion delay in ns for irqmode=2 (default 10000)",
        },
        memory_backed: bool {
            default: false,
            description: "Keep written data in memory (default 0: discard writes, leave read buffers alone)",
        },
        max_sectors: u32 {
            default: 0,
            description: "Largest request in 512-byte sectors (default 0: block layer default)",
        },
    },
}

const RUSTNULL_MAX_DEVICES: u32 = 1024;
const RUSTNULL_MAX_GB: u32 = 1 << 20;

/// How a request is completed (module parameter irqmode).
#[derive(Clone, Copy, PartialEq, Eq)]
enum IrqMode {
    /// End it in queue_rq.
    None,
    /// `Request::complete`: softirq on the submitter.
    Softirq,
    /// End it from the request's hrtimer after completion_nsec.
    Timer,
}

/// Per-request data (after the layer's part of the PDU, which holds the request's timer).
///
/// # Invariants
///
/// `status` is the data transfer's result, kept in `queue_rq` before the request is
/// completed and read where it is ended.
struct RustnullCmd {
    status: Status,
}

/// One /dev/rustnull<N>: the request queue's data.
///
/// # Invariants
///
/// `pages` maps page index to a page of written data, under its lock.
#[pin_data]
struct RustnullDev {
    index: u32,
    size_bytes: u64,
    irqmode: IrqMode,
    completion: Delta,
    memory_backed: bool,
    #[pin]
    pages: XArray<XaPage>,
}

/// The driver: its blk-mq operations.
struct Rustnull;

/// Copies one segment to or from the page store, page by page. Called under the lock.
fn rustnull_copy_segment(
    pages: &mut xarray::Guard<'_, XaPage>,
    seg: &Segment<'_>,
    mut pos: u64,
    write: bool,
) -> Result {
    let mut at = 0;
    let mut len = seg.len();
    while len > 0 {
        let index = (pos >> PAGE_SHIFT) as usize;
        let off = (pos as usize) & (PAGE_SIZE - 1);
        let chunk = len.min(PAGE_SIZE - off);

        if write {
            match pages.get(index) {
                Some(page) => seg.copy_to_page(at, &page, off, chunk)?,
                None => {
                    let gfp = GFP_NOWAIT | __GFP_NOWARN | __GFP_ZERO;
                    let page = XaPage::alloc(gfp).map_err(|_| ENOMEM)?;
                    seg.copy_to_page(at, &page.page(), off, chunk)?;
                    pages.store(index, page, gfp).map_err(|_| ENOMEM)?;
                }
            }
        } else {
            match pages.get(index) {
                Some(page) => seg.copy_from_page(at, &page, off, chunk)?,
                None => seg.zero(at, chunk)?,
            }
        }
        at += chunk;
        pos += chunk as u64;
        len -= chunk;
    }
    Ok(())
}

/// Moves the request's data to or from the page store. Without memory backing the data is
/// left alone, as null_blk leaves it: writes are discarded, read buffers are not touched.
fn rustnull_transfer(dev: &RustnullDev, rq: &Request<Rustnull>) -> Result {
    let mut pos = rq.sector() << SECTOR_SHIFT;
    let write = match rq.op() {
        Op::Flush => return Ok(()),
        Op::Write => true,
        Op::Read => false,
        Op::Other => return Err(EOPNOTSUPP),
    };
    if !dev.memory_backed {
        return Ok(());
    }

    let mut pages = dev.pages.lock();
    for seg in rq.segments() {
        rustnull_copy_segment(&mut pages, &seg, pos, write)?;
        pos += seg.len() as u64;
    }
    Ok(())
}

impl Operations for Rustnull {
    type QueueData = Arc<RustnullDev>;
    type RequestData = RustnullCmd;

    fn init_request_data() -> impl PinInit<RustnullCmd, Error> {
        try_init!(RustnullCmd {
            status: Status::new(),
        }? Error)
    }

    // The ops are inlined into the layer's vtable callbacks, as upstream rnull's queue_rq is
    // and as safenull's typed ops are into its adapters: the kernel calls one function.
    #[inline(always)]
    fn queue_rq(dev: ArcBorrow<'_, RustnullDev>, rq: ARef<Request<Self>>, _last: bool) -> Result {
        let status = rustnull_transfer(&dev, &rq);
        if status == Err(ENOMEM) {
            return status;
        }
        rq.data().status.store(status);
        match dev.irqmode {
            IrqMode::None => {
                // A failed end was reported by the layer and gives the request up.
                Request::end(rq, status);
            }
            IrqMode::Softirq => Request::complete(rq),
            IrqMode::Timer => Request::start_timer(rq, dev.completion),
        }
        Ok(())
    }

    #[inline(always)]
    fn complete(rq: ARef<Request<Self>>) {
        let status = rq.data().status.load();
        Request::end(rq, status);
    }

    #[inline(always)]
    fn timer(rq: ARef<Request<Self>>) {
        let status = rq.data().status.load();
        Request::end(rq, status);
    }
}

/// Allocates and adds the disk of `dev`.
fn rustnull_add_disk(
    dev: Arc<RustnullDev>,
    tag_set: Arc<TagSet<Rustnull>>,
) -> Result<GenDisk<Rustnull>> {
    let index = dev.index;
    GenDiskBuilder::new()
        .logical_block_size(*module_parameters::bs.value_ref())?
        .max_hw_sectors(*module_parameters::max_sectors.value_ref())
        .write_cache(true)
        .capacity_sectors(dev.size_bytes >> SECTOR_SHIFT)
        .build(fmt!("rustnull{}", index), tag_set, dev)
}

/// Creates one device: its page store, tag set and disk.
fn rustnull_dev_create(index: u32, nr_hw_queues: u32) -> Result<GenDisk<Rustnull>> {
    let dev = Arc::pin_init(
        pin_init!(RustnullDev {
            index,
            size_bytes: u64::from(*module_parameters::gb.value_ref()) << 30,
            irqmode: match *module_parameters::irqmode.value_ref() {
                0 => IrqMode::None,
                1 => IrqMode::Softirq,
                _ => IrqMode::Timer,
            },
            completion: Delta::from_nanos(
                i64::try_from(*module_parameters::completion_nsec.value_ref()).unwrap_or(i64::MAX),
            ),
            memory_backed: *module_parameters::memory_backed.value_ref(),
            pages <- XArray::new(AllocKind::Alloc),
        }),
        GFP_KERNEL,
    )?;
    let tag_set = Arc::pin_init(
        TagSet::new(nr_hw_queues, *module_parameters::hw_queue_depth.value_ref()),
        GFP_KERNEL,
    )?;
    rustnull_add_disk(dev, tag_set)
}

/// Checks every parameter before anything is set up; names the first bad one.
fn rustnull_check_params() -> Result {
    let nr_devices = *module_parameters::nr_devices.value_ref();
    let submit_queues = *module_parameters::submit_queues.value_ref();
    let hw_queue_depth = *module_parameters::hw_queue_depth.value_ref();
    let bs = *module_parameters::bs.value_ref();
    let gb = *module_parameters::gb.value_ref();
    let max_sectors = *module_parameters::max_sectors.value_ref();
    let irqmode = *module_parameters::irqmode.value_ref();
    let nr_cpu_ids = kernel::cpu::nr_cpu_ids();
    let min_sectors = (PAGE_SIZE >> SECTOR_SHIFT) as u32;

    if !(1..=RUSTNULL_MAX_DEVICES).contains(&nr_devices) {
        pr_err!(
            "invalid nr_devices={}: must be 1..{}\n",
            nr_devices,
            RUSTNULL_MAX_DEVICES
        );
        return Err(EINVAL);
    }
    if submit_queues != -1 && (submit_queues < 1 || submit_queues as u32 > nr_cpu_ids) {
        pr_err!(
            "invalid submit_queues={}: must be 1..{} (or -1: one per online CPU)\n",
            submit_queues,
            nr_cpu_ids
        );
        return Err(EINVAL);
    }
    if !(1..=kernel::bindings::BLK_MQ_MAX_DEPTH).contains(&hw_queue_depth) {
        pr_err!(
            "invalid hw_queue_depth={}: must be 1..{}\n",
            hw_queue_depth,
            kernel::bindings::BLK_MQ_MAX_DEPTH
        );
        return Err(EINVAL);
    }
    if bs < SECTOR_SIZE as u32 || bs as usize > PAGE_SIZE || !bs.is_power_of_two() {
        pr_err!(
            "invalid bs={}: must be a power of two in 512..{}\n",
            bs,
            PAGE_SIZE
        );
        return Err(EINVAL);
    }
    if !(1..=RUSTNULL_MAX_GB).contains(&gb) {
        pr_err!("invalid gb={}: must be 1..{}\n", gb, RUSTNULL_MAX_GB);
        return Err(EINVAL);
    }
    if max_sectors != 0 && max_sectors < min_sectors {
        pr_err!(
            "invalid max_sectors={}: must be 0 or at least {}\n",
            max_sectors,
            min_sectors
        );
        return Err(EINVAL);
    }
    if irqmode > 2 {
        pr_err!("invalid irqmode={}: must be 0, 1 or 2\n", irqmode);
        return Err(EINVAL);
    }
    Ok(())
}

/// The module: its devices, removed in order when it is dropped (rmmod).
struct RustnullModule {
    _devices: KVec<GenDisk<Rustnull>>,
}

impl kernel::Module for RustnullModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        rustnull_check_params()?;
        let nr_devices = *module_parameters::nr_devices.value_ref();
        let submit_queues = *module_parameters::submit_queues.value_ref();
        let nr_hw_queues = if submit_queues == -1 {
            layer::cpu::num_online_cpus()
        } else {
            submit_queues as u32
        };
        let mut devices = KVec::with_capacity(nr_devices as usize, GFP_KERNEL)?;
        for i in 0..nr_devices {
            match rustnull_dev_create(i, nr_hw_queues) {
                Ok(disk) => devices.push(disk, GFP_KERNEL)?,
                Err(e) => {
                    pr_err!("device rustnull{}: setup failed ({})\n", i, e.to_errno());
                    return Err(e);
                }
            }
        }
        pr_info!(
            "{} device(s), {} hw queue(s) of depth {}, bs {}, {} GiB, irqmode {}{}\n",
            nr_devices,
            nr_hw_queues,
            *module_parameters::hw_queue_depth.value_ref(),
            *module_parameters::bs.value_ref(),
            *module_parameters::gb.value_ref(),
            *module_parameters::irqmode.value_ref(),
            if *module_parameters::memory_backed.value_ref() {
                ", memory backed"
            } else {
                ""
            }
        );
        Ok(Self { _devices: devices })
    }
}

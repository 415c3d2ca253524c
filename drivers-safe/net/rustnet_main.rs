// SPDX-License-Identifier: GPL-2.0

//! rustnet: pairs of virtual Ethernet devices, the Rust twin of rawnet.
//!
//! A frame sent on rustnet<N>a lands in the bounded receive ring of rustnet<N>b (and the
//! other way round) and is received there by NAPI. A full ring stops the sender's queue until
//! the receiver drains it; every frame is counted as received or dropped. The same driver as
//! rawnet (drivers-raw/net) function for function, on the local net abstraction
//! (drivers-safe/kernel/rust/net*.rs) and the kernel crate.

#[path = "../kernel/rust/net.rs"]
pub mod net;
#[path = "../kernel/rust/net_napi.rs"]
pub mod net_napi;
#[path = "../kernel/rust/net_skb.rs"]
pub mod net_skb;
#[path = "../kernel/rust/net_timer.rs"]
pub mod net_timer;

use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*,
    str::CString,
    sync::{
        atomic::{Atomic, Relaxed},
        barrier::{smp_mb, Full},
    },
};
use net::{features, Config, Counter, Device, EthtoolStats, LinkStats, NetDevice, Operations};
use net_napi::{Napi, Poll};
use net_skb::{SkBuff, SkbRing};
use net_timer::{Timer, TimerCallback};

module! {
    type: RustNet,
    name: "rustnet",
    authors: ["twinbench"],
    description: "twinbench Rust twin: virtual Ethernet pairs with NAPI receive rings",
    license: "GPL",
    params: {
        nr_pairs: i32 {
            default: 1,
            description: "Number of device pairs (1..64, default 1)",
        },
        napi_weight: i32 {
            default: 64,
            description: "NAPI poll budget (1..64, default 64)",
        },
        ring_size: i32 {
            default: 256,
            description: "Receive ring entries, a power of two (16..16384, default 256)",
        },
        irqmode: i32 {
            default: 0,
            description: "0 = schedule NAPI on transmit, 1 = coalesce with an hrtimer",
        },
        coalesce_usecs: i32 {
            default: 20,
            description: "irqmode 1: delay before the interrupt (1..100000, default 20)",
        },
        coalesce_frames: i32 {
            default: 32,
            description: "irqmode 1: frames that raise it at once (1..ring_size)",
        },
        mtu: i32 {
            default: 1500,
            description: "Initial MTU (68..9000, default 1500)",
        },
        offloads: bool {
            default: true,
            description: "Start with checksum, scatter-gather and GSO offloads on",
        },
    },
}

const MAX_PAIRS: i32 = 64;
const MAX_MTU: i32 = 9000;
const MIN_RING: i32 = 16;
const MAX_RING: i32 = 16384;
const MAX_COALESCE_USECS: i32 = 100000;
const NAPI_POLL_WEIGHT: i32 = 64;
const ETH_MIN_MTU: i32 = bindings::ETH_MIN_MTU as i32;

/// The offloads the pair can carry across unchanged; ethtool may toggle each of them.
const OFFLOADS: u64 = features::SG
    | features::HW_CSUM
    | features::RXCSUM
    | features::HIGHDMA
    | features::GSO_SOFTWARE;

/// How the transmitting end tells the receiving end's NAPI that frames are waiting.
#[derive(Clone, Copy, PartialEq)]
enum IrqMode {
    /// Schedule NAPI on every transmit.
    Direct,
    /// hrtimer after coalesce_usecs, or at once after coalesce_frames.
    Coalesce,
}

/// The parameters, checked.
#[derive(Clone, Copy)]
struct Params {
    nr_pairs: u32,
    napi_weight: i32,
    ring_size: u32,
    irqmode: IrqMode,
    coalesce_ns: i64,
    coalesce_frames: i32,
    mtu: i32,
    offloads: bool,
}

/// Refuses parameters the driver cannot honour, naming the first bad one.
fn check_params() -> Result<Params> {
    let nr_pairs = *module_parameters::nr_pairs.value_ref();
    let napi_weight = *module_parameters::napi_weight.value_ref();
    let ring_size = *module_parameters::ring_size.value_ref();
    let irqmode = *module_parameters::irqmode.value_ref();
    let coalesce_usecs = *module_parameters::coalesce_usecs.value_ref();
    let coalesce_frames = *module_parameters::coalesce_frames.value_ref();
    let mtu = *module_parameters::mtu.value_ref();

    if !(1..=MAX_PAIRS).contains(&nr_pairs) {
        pr_err!("nr_pairs={} is outside 1..{}\n", nr_pairs, MAX_PAIRS);
        return Err(EINVAL);
    }
    if !(1..=NAPI_POLL_WEIGHT).contains(&napi_weight) {
        pr_err!(
            "napi_weight={} is outside 1..{}\n",
            napi_weight,
            NAPI_POLL_WEIGHT
        );
        return Err(EINVAL);
    }
    if !(MIN_RING..=MAX_RING).contains(&ring_size) || !(ring_size as u32).is_power_of_two() {
        pr_err!(
            "ring_size={} is not a power of two in {}..{}\n",
            ring_size,
            MIN_RING,
            MAX_RING
        );
        return Err(EINVAL);
    }
    let mode = match irqmode {
        0 => IrqMode::Direct,
        1 => IrqMode::Coalesce,
        _ => {
            pr_err!(
                "irqmode={} is neither 0 (direct) nor 1 (coalesce)\n",
                irqmode
            );
            return Err(EINVAL);
        }
    };
    if !(1..=MAX_COALESCE_USECS).contains(&coalesce_usecs) {
        pr_err!(
            "coalesce_usecs={} is outside 1..{}\n",
            coalesce_usecs,
            MAX_COALESCE_USECS
        );
        return Err(EINVAL);
    }
    if !(1..=ring_size).contains(&coalesce_frames) {
        pr_err!(
            "coalesce_frames={} is outside 1..ring_size ({})\n",
            coalesce_frames,
            ring_size
        );
        return Err(EINVAL);
    }
    if !(ETH_MIN_MTU..=MAX_MTU).contains(&mtu) {
        pr_err!("mtu={} is outside {}..{}\n", mtu, ETH_MIN_MTU, MAX_MTU);
        return Err(EINVAL);
    }
    Ok(Params {
        nr_pairs: nr_pairs as u32,
        napi_weight,
        ring_size: ring_size as u32,
        irqmode: mode,
        coalesce_ns: i64::from(coalesce_usecs) * i64::from(bindings::NSEC_PER_USEC),
        coalesce_frames,
        mtu,
        offloads: *module_parameters::offloads.value_ref(),
    })
}

/// Receive queue counters, written only by NAPI poll (or by `stop` with NAPI disabled).
struct RxStats {
    packets: Counter,
    bytes: Counter,
    polls: Counter,
    peer_wakes: Counter,
}

/// Transmit queue counters, written only under this end's transmit queue lock.
struct TxStats {
    packets: Counter,
    bytes: Counter,
    dropped: Counter,
    stops: Counter,
    irqs_raised: Counter,
}

/// The counters ethtool -S shows, in this order; `get_stats64` sums the same ones.
#[repr(usize)]
enum Stat {
    RxPackets,
    RxBytes,
    RxDrops,
    RxPolls,
    RxIrqs,
    RxPeerWakes,
    TxPackets,
    TxBytes,
    TxDrops,
    TxStops,
    Count,
}

/// One end of a pair, the driver data of its device.
///
/// # Invariants
///
/// - `dev` and `napi` are this end's device and its NAPI context, which outlive the value.
/// - `peer` is null until `create_pair` links the two ends, before either is registered; from
///   then on it points to the other end, which lives until both are unregistered together.
/// - `rx_open` says whether the peer may put frames in `ring` (the only producer, under its
///   transmit queue lock); NAPI poll, or `stop` with NAPI disabled, is the only consumer.
#[pin_data(PinnedDrop)]
struct End {
    dev: NonNull<NetDevice>,
    napi: NonNull<Napi>,
    peer: Atomic<*const End>,
    ring: SkbRing,
    rx_open: Atomic<bool>,
    coalesce_pending: Atomic<i32>,
    #[pin]
    coalesce_timer: Timer<End>,
    rx: RxStats,
    tx: TxStats,
    timer_irqs: Counter,
    rx_dropped: Atomic<u64>,
    params: Params,
}

// SAFETY: The pointers are to the device and peer, shared across CPUs by design; every
// other field is `Sync` and its writers are as the type invariants say.
unsafe impl Sync for End {}
// SAFETY: As above.
unsafe impl Send for End {}

// SAFETY: `coalesce_timer` is the `Timer<End>` field at this offset.
unsafe impl TimerCallback for End {
    const TIMER_OFFSET: usize = core::mem::offset_of!(End, coalesce_timer);

    fn fire(this: &Self) {
        this.coalesce_fire();
    }
}

impl End {
    /// The emulated interrupt of irqmode 1: the coalescing delay has run out.
    fn coalesce_fire(&self) {
        self.coalesce_pending.store(0, Relaxed);
        self.timer_irqs.add(1);
        self.napi().schedule();
    }

    fn dev(&self) -> &NetDevice {
        // SAFETY: By the type invariant the device outlives `self`.
        unsafe { self.dev.as_ref() }
    }

    fn napi(&self) -> &Napi {
        // SAFETY: By the type invariant the NAPI context outlives `self`.
        unsafe { self.napi.as_ref() }
    }

    fn peer(&self) -> &End {
        // SAFETY: By the type invariant the peer is linked before any op can run and lives
        // as long as `self`.
        unsafe { &*self.peer.load(Relaxed) }
    }

    /// Drops every frame left in this end's ring; NAPI must be disabled and the peer kept out.
    fn ring_flush(&self) {
        // SAFETY: By the caller's word no poll and no producer runs.
        while let Some(skb) = unsafe { self.ring.pop() } {
            drop(skb);
            self.rx_dropped.add(1, Relaxed);
        }
    }

    /// Tells this (receiving) end that a frame waits; true when an interrupt was raised at once.
    fn notify_rx(&self) -> bool {
        let p = &self.params;
        if p.irqmode == IrqMode::Direct {
            self.napi().schedule();
            return true;
        }
        let pending = self.coalesce_pending.fetch_add(1, Relaxed) + 1;
        if pending >= p.coalesce_frames {
            self.coalesce_pending.store(0, Relaxed);
            self.coalesce_timer.try_cancel();
            self.napi().schedule();
            return true;
        }
        if pending == 1 {
            self.coalesce_timer.start_ns(p.coalesce_ns);
        }
        false
    }

    /// Restarts the peer's stopped queue once half of this end's ring is free again.
    fn wake_peer(&self) -> bool {
        let peer_dev = self.peer().dev();
        // Freed slots visible before the stopped bit is read; pairs with start_xmit.
        smp_mb(Full);
        if !peer_dev.queue_stopped() || self.ring.free_slots() <= (self.ring.size() - 1) / 2 {
            return false;
        }
        peer_dev.wake_queue();
        true
    }

    /// Reads every counter of one end, in `Stat` order.
    fn read_counters(&self, v: &mut [u64]) {
        v[Stat::RxPackets as usize] = self.rx.packets.get();
        v[Stat::RxBytes as usize] = self.rx.bytes.get();
        v[Stat::RxPolls as usize] = self.rx.polls.get();
        v[Stat::RxPeerWakes as usize] = self.rx.peer_wakes.get();
        v[Stat::TxPackets as usize] = self.tx.packets.get();
        v[Stat::TxBytes as usize] = self.tx.bytes.get();
        v[Stat::TxDrops as usize] = self.tx.dropped.get();
        v[Stat::TxStops as usize] = self.tx.stops.get();
        v[Stat::RxIrqs as usize] = self
            .timer_irqs
            .get()
            .wrapping_add(self.peer().tx.irqs_raised.get());
        v[Stat::RxDrops as usize] = self.rx_dropped.load(Relaxed);
    }
}

#[vtable]
impl Operations for End {
    fn start_xmit(dev: &NetDevice, this: &Self, skb: SkBuff) {
        let peer = this.peer();
        let len = skb.len();
        let mut raised = false;

        if !peer.rx_open.load(Relaxed) {
            drop(skb);
            this.tx.dropped.add(1);
            return;
        }

        match dev.prepare_forward(skb, peer.dev()) {
            // SAFETY: This end's transmit queue lock is held: the only producer of the ring.
            Ok(skb) => match unsafe { peer.ring.push(skb) } {
                Ok(()) => raised = peer.notify_rx(),
                Err(skb) => {
                    drop(skb);
                    peer.rx_dropped.add(1, Relaxed);
                }
            },
            Err(skb) => {
                drop(skb);
                peer.rx_dropped.add(1, Relaxed);
            }
        }

        this.tx.packets.add(1);
        this.tx.bytes.add(u64::from(len));
        if raised {
            this.tx.irqs_raised.add(1);
        }
        if peer.ring.free_slots() == 0 {
            dev.stop_queue();
            this.tx.stops.add(1);
            // Stop, then look again: pairs with the barrier in wake_peer().
            smp_mb(Full);
            if peer.ring.free_slots() != 0 {
                dev.start_queue();
            }
        }
    }

    fn open(dev: &NetDevice, this: &Self) -> Result {
        let peer_dev = this.peer().dev();
        this.napi().enable();
        this.rx_open.store(true, Relaxed);
        dev.start_queue();
        if peer_dev.is_running() {
            dev.carrier_on();
            peer_dev.carrier_on();
        }
        Ok(())
    }

    fn stop(dev: &NetDevice, this: &Self) -> Result {
        let peer_dev = this.peer().dev();
        dev.carrier_off();
        peer_dev.carrier_off();
        this.rx_open.store(false, Relaxed);
        net::synchronize_net();
        this.coalesce_timer.cancel();
        this.coalesce_pending.store(0, Relaxed);
        this.napi().disable();
        this.ring_flush();
        if peer_dev.is_running() {
            peer_dev.wake_queue();
        }
        Ok(())
    }

    fn change_mtu(dev: &NetDevice, _this: &Self, mtu: i32) -> Result {
        dev.set_mtu(mtu);
        Ok(())
    }

    fn get_stats64(_dev: &NetDevice, this: &Self) -> LinkStats {
        let mut v = [0u64; Stat::Count as usize];
        this.read_counters(&mut v);
        LinkStats {
            rx_packets: v[Stat::RxPackets as usize],
            rx_bytes: v[Stat::RxBytes as usize],
            rx_dropped: v[Stat::RxDrops as usize],
            tx_packets: v[Stat::TxPackets as usize],
            tx_bytes: v[Stat::TxBytes as usize],
            tx_dropped: v[Stat::TxDrops as usize],
        }
    }
}

impl Poll for End {
    fn poll(this: &Self, napi: &Napi, budget: i32) -> i32 {
        let mut bytes: u64 = 0;
        let mut done: i32 = 0;

        while done < budget {
            // SAFETY: NAPI poll is the ring's only consumer.
            let Some(skb) = (unsafe { this.ring.pop() }) else {
                break;
            };
            bytes += u64::from(skb.len());
            napi.receive(skb);
            done += 1;
        }
        let woke = this.wake_peer();

        this.rx.packets.add(done as u64);
        this.rx.bytes.add(bytes);
        this.rx.polls.add(1);
        if woke {
            this.rx.peer_wakes.add(1);
        }

        if done < budget {
            napi.complete_done(done);
        }
        done
    }
}

impl EthtoolStats for End {
    const NAMES: &'static [&'static CStr] = &[
        c"rx_queue_0_packets",
        c"rx_queue_0_bytes",
        c"rx_queue_0_drops",
        c"rx_queue_0_polls",
        c"rx_queue_0_irqs",
        c"rx_queue_0_peer_wakes",
        c"tx_queue_0_packets",
        c"tx_queue_0_bytes",
        c"tx_queue_0_drops",
        c"tx_queue_0_stops",
    ];

    fn read_stats(this: &Self, values: &mut [u64]) {
        this.read_counters(values);
    }
}

#[pinned_drop]
impl PinnedDrop for End {
    /// Frees an end that is not registered (any more): its ring's frames count as dropped.
    fn drop(self: Pin<&mut Self>) {
        self.ring_flush();
    }
}

/// Allocates one end with its ring, NAPI context and timer; not yet registered.
fn alloc(index: u32, end: char, p: &Params) -> Result<Device<End>> {
    let name = CString::try_from_fmt(fmt!("rustnet{}{}", index, end))?;
    let cfg = Config {
        name: &name,
        driver: c"rustnet",
        mtu: p.mtu,
        min_mtu: ETH_MIN_MTU,
        max_mtu: MAX_MTU,
        hw_features: OFFLOADS,
        features: if p.offloads { OFFLOADS } else { 0 },
        napi_weight: p.napi_weight,
        // As veth: a software device that never backs up, so no qdisc by default.
        no_queue: true,
    };
    let ring = SkbRing::new(p.ring_size)?;
    Device::new(&cfg, move |netdev| {
        let dev = NonNull::from(netdev);
        let napi = NonNull::from(netdev.napi());
        try_pin_init!(End {
            dev,
            napi,
            peer: Atomic::new(core::ptr::null()),
            ring,
            rx_open: Atomic::new(false),
            coalesce_pending: Atomic::new(0),
            coalesce_timer <- Timer::new(),
            rx: RxStats {
                packets: Counter::new(),
                bytes: Counter::new(),
                polls: Counter::new(),
                peer_wakes: Counter::new(),
            },
            tx: TxStats {
                packets: Counter::new(),
                bytes: Counter::new(),
                dropped: Counter::new(),
                stops: Counter::new(),
                irqs_raised: Counter::new(),
            },
            timer_irqs: Counter::new(),
            rx_dropped: Atomic::new(0),
            params: *p,
        }? Error)
    })
}

/// The two ends of pair N, rustnet<N>a and rustnet<N>b, registered; dropping the value
/// unregisters both in one batch and frees them.
type Pair = net::Registration<End, 2>;

fn create_pair(index: u32, p: &Params) -> Result<Pair> {
    let a = alloc(index, 'a', p)?;
    let b = alloc(index, 'b', p)?;
    let (da, db) = (a.data(), b.data());
    da.peer.store(&*db, Relaxed);
    db.peer.store(&*da, Relaxed);
    net::Registration::register([a, b])
}

/// The module: its pairs, destroyed in reverse order of creation.
struct RustNet {
    pairs: KVec<Pair>,
}

impl kernel::Module for RustNet {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let p = check_params()?;
        let mut pairs = KVec::with_capacity(p.nr_pairs as usize, GFP_KERNEL)?;
        for i in 0..p.nr_pairs {
            match create_pair(i, &p) {
                Ok(pair) => pairs.push(pair, GFP_KERNEL)?,
                Err(e) => {
                    pr_err!("cannot create pair {}: {}\n", i, e.to_errno());
                    while let Some(pair) = pairs.pop() {
                        drop(pair);
                    }
                    return Err(e);
                }
            }
        }
        Ok(Self { pairs })
    }
}

impl Drop for RustNet {
    fn drop(&mut self) {
        while let Some(pair) = self.pairs.pop() {
            drop(pair);
        }
    }
}

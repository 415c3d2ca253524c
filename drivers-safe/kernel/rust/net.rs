// SPDX-License-Identifier: GPL-2.0

//! Network devices: allocation, registration and typed `net_device_ops`.
//!
//! C: `include/linux/netdevice.h`, `include/linux/ethtool.h`. The kernel crate has `net::phy`
//! and nothing for `struct net_device`; this is the piece a driver with a data path needs. A
//! driver's per-device data `T` lives in the device's private area after the layer's part
//! (ops tables and NAPI context, `rustnet_helpers.c`); the kernel calls the generated
//! adapters, which hand `T`'s [`Operations`] a [`NetDevice`] and `&T`.

use crate::net_napi::{self, Napi, Poll};
use crate::net_skb::SkBuff;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::{from_result, to_result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
    types::Opaque,
};

/// The C half of the abstraction (`rustnet_helpers.c`) and the exported `netdevice.h`
/// functions the crate's bindings do not carry.
pub(crate) mod ffi {
    use kernel::bindings::{ethtool_stats, list_head, napi_struct, net_device, sk_buff};
    use kernel::ffi::{c_char, c_int, c_void};

    /// `struct rust_net_fns`: the adapters of one driver type.
    #[repr(C)]
    pub(crate) struct RawFns {
        pub(crate) open: Option<unsafe extern "C" fn(*mut net_device) -> c_int>,
        pub(crate) stop: Option<unsafe extern "C" fn(*mut net_device) -> c_int>,
        pub(crate) start_xmit: Option<unsafe extern "C" fn(*mut sk_buff, *mut net_device) -> c_int>,
        pub(crate) change_mtu: Option<unsafe extern "C" fn(*mut net_device, c_int) -> c_int>,
        pub(crate) get_stats64: Option<unsafe extern "C" fn(*mut net_device, *mut RawStats64)>,
        pub(crate) poll: Option<unsafe extern "C" fn(*mut napi_struct, c_int) -> c_int>,
        pub(crate) get_sset_count: Option<unsafe extern "C" fn(*mut net_device, c_int) -> c_int>,
        pub(crate) get_strings: Option<unsafe extern "C" fn(*mut net_device, u32, *mut u8)>,
        pub(crate) get_ethtool_stats:
            Option<unsafe extern "C" fn(*mut net_device, *mut ethtool_stats, *mut u64)>,
    }

    /// `struct rust_net_config`: how a device is set up.
    #[repr(C)]
    pub(crate) struct RawConfig {
        pub(crate) name: *const c_char,
        pub(crate) driver: *const c_char,
        pub(crate) priv_size: usize,
        pub(crate) hw_features: u64,
        pub(crate) features: u64,
        pub(crate) mtu: c_int,
        pub(crate) min_mtu: c_int,
        pub(crate) max_mtu: c_int,
        pub(crate) napi_weight: c_int,
        pub(crate) no_queue: bool,
    }

    /// The leading fields of the uapi `struct rtnl_link_stats64` (a stable layout); the
    /// kernel hands it zeroed, so the rest stays zero.
    #[repr(C)]
    pub(crate) struct RawStats64 {
        pub(crate) rx_packets: u64,
        pub(crate) tx_packets: u64,
        pub(crate) rx_bytes: u64,
        pub(crate) tx_bytes: u64,
        pub(crate) rx_errors: u64,
        pub(crate) tx_errors: u64,
        pub(crate) rx_dropped: u64,
        pub(crate) tx_dropped: u64,
    }

    extern "C" {
        pub(crate) fn rust_helper_net_alloc(
            cfg: *const RawConfig,
            fns: *const RawFns,
        ) -> *mut net_device;
        pub(crate) fn rust_helper_net_drv(dev: *mut net_device) -> *mut c_void;
        pub(crate) fn rust_helper_net_napi_drv(napi: *mut napi_struct) -> *mut c_void;
        pub(crate) fn rust_helper_net_napi(dev: *mut net_device) -> *mut napi_struct;
        pub(crate) fn rust_helper_net_napi_dev(napi: *mut napi_struct) -> *mut net_device;
        pub(crate) fn rust_helper_net_napi_schedule(napi: *mut napi_struct);
        pub(crate) fn rust_helper_net_napi_receive(napi: *mut napi_struct, skb: *mut sk_buff);
        pub(crate) fn rust_helper_net_skb_prepare_forward(
            skb: *mut sk_buff,
            dev: *mut net_device,
            peer: *mut net_device,
        ) -> bool;
        pub(crate) fn rust_helper_net_stop_queue(dev: *mut net_device);
        pub(crate) fn rust_helper_net_start_queue(dev: *mut net_device);
        pub(crate) fn rust_helper_net_wake_queue(dev: *mut net_device);
        pub(crate) fn rust_helper_net_queue_stopped(dev: *const net_device) -> bool;
        pub(crate) fn rust_helper_net_running(dev: *const net_device) -> bool;
        pub(crate) fn rust_helper_net_set_mtu(dev: *mut net_device, mtu: c_int);

        pub(crate) fn register_netdevice(dev: *mut net_device) -> c_int;
        pub(crate) fn unregister_netdevice_queue(dev: *mut net_device, head: *mut list_head);
        pub(crate) fn unregister_netdevice_many(head: *mut list_head);
        pub(crate) fn free_netdev(dev: *mut net_device);
        pub(crate) fn rtnl_lock();
        pub(crate) fn rtnl_unlock();
        pub(crate) fn netif_carrier_on(dev: *mut net_device);
        pub(crate) fn netif_carrier_off(dev: *mut net_device);
        pub(crate) fn synchronize_net();
        pub(crate) fn napi_enable(napi: *mut napi_struct);
        pub(crate) fn napi_disable(napi: *mut napi_struct);
        pub(crate) fn napi_complete_done(napi: *mut napi_struct, work_done: c_int) -> bool;
    }
}

/// The offload feature bits a software pair can carry unchanged (`netdev_features.h`).
pub mod features {
    use kernel::bindings;

    const fn bit(b: u32) -> u64 {
        1u64 << b
    }

    /// `NETIF_F_SG`.
    pub const SG: u64 = bit(bindings::NETIF_F_SG_BIT);
    /// `NETIF_F_HW_CSUM`.
    pub const HW_CSUM: u64 = bit(bindings::NETIF_F_HW_CSUM_BIT);
    /// `NETIF_F_RXCSUM`.
    pub const RXCSUM: u64 = bit(bindings::NETIF_F_RXCSUM_BIT);
    /// `NETIF_F_HIGHDMA`.
    pub const HIGHDMA: u64 = bit(bindings::NETIF_F_HIGHDMA_BIT);
    /// `NETIF_F_GSO_SOFTWARE`: every segmentation offload with a software fallback.
    pub const GSO_SOFTWARE: u64 = bit(bindings::NETIF_F_TSO_BIT)
        | bit(bindings::NETIF_F_TSO6_BIT)
        | bit(bindings::NETIF_F_TSO_ECN_BIT)
        | bit(bindings::NETIF_F_TSO_MANGLEID_BIT)
        | bit(bindings::NETIF_F_GSO_ACCECN_BIT)
        | bit(bindings::NETIF_F_GSO_SCTP_BIT)
        | bit(bindings::NETIF_F_GSO_UDP_L4_BIT)
        | bit(bindings::NETIF_F_GSO_FRAGLIST_BIT);
}

/// A network device, as the kernel passes it to a driver's operations.
///
/// # Invariants
///
/// The value is the `struct net_device` of a live device (allocated by [`Device::new`]),
/// which outlives every reference to it the layer hands out.
#[repr(transparent)]
pub struct NetDevice(Opaque<bindings::net_device>);

// SAFETY: The methods take the device's own locks or use its atomic state; the kernel calls
// a device's operations from any CPU.
unsafe impl Sync for NetDevice {}
// SAFETY: As above: nothing in a device is tied to one thread.
unsafe impl Send for NetDevice {}

impl NetDevice {
    /// # Safety
    ///
    /// `ptr` is a live device that outlives `'a`.
    #[inline]
    unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: `NetDevice` is a transparent wrapper of the C struct, and the caller
        // guarantees it lives long enough.
        unsafe { &*ptr.cast() }
    }

    #[inline]
    fn as_ptr(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// The device's NAPI context.
    #[inline]
    pub fn napi(&self) -> &Napi {
        // SAFETY: By the type invariant the device is live; its NAPI context is part of it.
        unsafe { Napi::from_raw(ffi::rust_helper_net_napi(self.as_ptr())) }
    }

    /// `netif_stop_queue()`.
    #[inline]
    pub fn stop_queue(&self) {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::rust_helper_net_stop_queue(self.as_ptr()) }
    }

    /// `netif_start_queue()`.
    #[inline]
    pub fn start_queue(&self) {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::rust_helper_net_start_queue(self.as_ptr()) }
    }

    /// `netif_wake_queue()`.
    #[inline]
    pub fn wake_queue(&self) {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::rust_helper_net_wake_queue(self.as_ptr()) }
    }

    /// `netif_queue_stopped()`.
    #[inline]
    pub fn queue_stopped(&self) -> bool {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::rust_helper_net_queue_stopped(self.as_ptr()) }
    }

    /// `netif_running()`: the device is up.
    #[inline]
    pub fn is_running(&self) -> bool {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::rust_helper_net_running(self.as_ptr()) }
    }

    /// `netif_carrier_on()`.
    pub fn carrier_on(&self) {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::netif_carrier_on(self.as_ptr()) }
    }

    /// `netif_carrier_off()`.
    pub fn carrier_off(&self) {
        // SAFETY: By the type invariant the device is live.
        unsafe { ffi::netif_carrier_off(self.as_ptr()) }
    }

    /// Sets the MTU the core has checked against the device's range.
    pub fn set_mtu(&self, mtu: i32) {
        // SAFETY: By the type invariant the device is live; the core calls `ndo_change_mtu`
        // under the lock that serialises MTU changes.
        unsafe { ffi::rust_helper_net_set_mtu(self.as_ptr(), mtu) }
    }

    /// Makes `skb`, sent on this device, ready to be received on `peer`; gives it back in
    /// `Err` if it cannot be (too big for the peer's MTU, or its fragments not copyable).
    #[inline]
    pub fn prepare_forward(&self, skb: SkBuff, peer: &NetDevice) -> Result<SkBuff, SkBuff> {
        // SAFETY: Both devices are live by the type invariant; `skb` is owned and stays so.
        if unsafe {
            ffi::rust_helper_net_skb_prepare_forward(skb.as_ptr(), self.as_ptr(), peer.as_ptr())
        } {
            Ok(skb)
        } else {
            Err(skb)
        }
    }
}

/// `synchronize_net()`: waits until every transmit path that started before has finished.
pub fn synchronize_net() {
    // SAFETY: No requirements; it may sleep, and the operations that call it (`stop`) may.
    unsafe { ffi::synchronize_net() }
}

/// A 64-bit counter with one writer at a time (a queue lock, a NAPI or timer context) and
/// lock-free readers, as `u64_stats_t` is on a 64-bit kernel: the increment is a plain load
/// and store, not a locked read-modify-write.
///
/// # Invariants
///
/// None beyond `Atomic`'s; a second concurrent writer would lose counts, not memory safety.
pub struct Counter(Atomic<u64>);

impl Counter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// Adds `n` (the single writer only).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The standard counters `ip -s link` shows (`ndo_get_stats64`), those the driver keeps.
#[derive(Default)]
pub struct LinkStats {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames dropped on receive.
    pub rx_dropped: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames dropped on transmit.
    pub tx_dropped: u64,
}

/// A device's `net_device_ops`, typed: the layer generates the C table from the ops a
/// driver implements (`#[vtable]`), so an op it leaves out is absent, as in C.
#[vtable]
pub trait Operations: Sized + Send + Sync + Poll + EthtoolStats {
    /// `ndo_open`: the device goes up.
    fn open(dev: &NetDevice, this: &Self) -> Result;

    /// `ndo_stop`: the device goes down.
    fn stop(dev: &NetDevice, this: &Self) -> Result;

    /// `ndo_start_xmit`, under the transmit queue lock: the driver owns `skb` from here on
    /// and must hand it on or drop it (`NETDEV_TX_OK` always).
    fn start_xmit(dev: &NetDevice, this: &Self, skb: SkBuff);

    /// `ndo_change_mtu`, with `mtu` already checked against the device's range.
    fn change_mtu(_dev: &NetDevice, _this: &Self, _mtu: i32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `ndo_get_stats64`.
    fn get_stats64(_dev: &NetDevice, _this: &Self) -> LinkStats {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The driver's counters for `ethtool -S`: names and values in one order.
pub trait EthtoolStats {
    /// The counters' names, each shorter than `ETH_GSTRING_LEN`.
    const NAMES: &'static [&'static CStr];

    /// Fills `values`, exactly `NAMES.len()` long, in `NAMES` order.
    fn read_stats(this: &Self, values: &mut [u64]);
}

/// How [`Device::new`] sets a device up.
pub struct Config<'a> {
    /// The interface name.
    pub name: &'a CStr,
    /// The driver name ethtool reports.
    pub driver: &'static CStr,
    /// Initial MTU and the range `ip link set mtu` may change it in.
    pub mtu: i32,
    /// Lowest MTU.
    pub min_mtu: i32,
    /// Highest MTU.
    pub max_mtu: i32,
    /// Offloads ethtool may toggle.
    pub hw_features: u64,
    /// Offloads on at start.
    pub features: u64,
    /// NAPI poll budget.
    pub napi_weight: i32,
    /// No qdisc of its own (`IFF_NO_QUEUE`), as a software device that never backs up.
    pub no_queue: bool,
}

/// The alignment of the driver's data in the private area (`NETDEV_ALIGN`).
const DATA_ALIGN: usize = 32;

/// A network device with driver data `T`, allocated and set up, not registered.
///
/// # Invariants
///
/// `self.dev` is a device from `rust_helper_net_alloc` whose ops are `T`'s adapters and
/// whose driver data holds an initialised, pinned `T`; the value owns both.
pub struct Device<T: Operations> {
    dev: NonNull<bindings::net_device>,
    _t: PhantomData<T>,
}

// SAFETY: The device and `T` are `Send + Sync` (`NetDevice`, `Operations`' bounds).
unsafe impl<T: Operations> Send for Device<T> {}
// SAFETY: As above.
unsafe impl<T: Operations> Sync for Device<T> {}

impl<T: Operations> Device<T> {
    const FNS: ffi::RawFns = ffi::RawFns {
        open: Some(Self::open_adapter),
        stop: Some(Self::stop_adapter),
        start_xmit: Some(Self::start_xmit_adapter),
        change_mtu: if T::HAS_CHANGE_MTU {
            Some(Self::change_mtu_adapter)
        } else {
            None
        },
        get_stats64: if T::HAS_GET_STATS64 {
            Some(Self::get_stats64_adapter)
        } else {
            None
        },
        poll: Some(net_napi::poll_adapter::<T>),
        get_sset_count: Some(Self::get_sset_count_adapter),
        get_strings: Some(Self::get_strings_adapter),
        get_ethtool_stats: Some(Self::get_ethtool_stats_adapter),
    };

    /// Allocates a device set up from `cfg` and initialises its driver data with the
    /// initialiser `init` returns for it; carrier off, NAPI added but disabled.
    pub fn new<I>(cfg: &Config<'_>, init: impl FnOnce(&NetDevice) -> I) -> Result<Self>
    where
        I: PinInit<T, Error>,
    {
        const { assert!(align_of::<T>() <= DATA_ALIGN) };
        let raw = ffi::RawConfig {
            name: cfg.name.as_ptr().cast(),
            driver: cfg.driver.as_ptr().cast(),
            priv_size: size_of::<T>(),
            hw_features: cfg.hw_features,
            features: cfg.features,
            mtu: cfg.mtu,
            min_mtu: cfg.min_mtu,
            max_mtu: cfg.max_mtu,
            napi_weight: cfg.napi_weight,
            no_queue: cfg.no_queue,
        };
        let fns = Self::FNS;
        // SAFETY: Both structs match their C definitions and live across the call, which
        // copies what it keeps (the driver name is `'static`).
        let dev = NonNull::new(unsafe { ffi::rust_helper_net_alloc(&raw, &fns) }).ok_or(ENOMEM)?;
        // SAFETY: `dev` is live until freed below or by `drop`.
        let netdev = unsafe { NetDevice::from_raw(dev.as_ptr()) };
        // SAFETY: The private area has room for `T` at a `DATA_ALIGN`-aligned address, which
        // never moves while the device lives; on error `T` is left uninitialised.
        if let Err(e) = unsafe { init(netdev).__init(Self::data_ptr(dev.as_ptr())) } {
            // SAFETY: The device was never registered and nothing else refers to it.
            unsafe { ffi::free_netdev(dev.as_ptr()) };
            return Err(e);
        }
        // INVARIANT: The device is set up with `T`'s adapters and `T` is initialised.
        Ok(Self {
            dev,
            _t: PhantomData,
        })
    }

    #[inline]
    fn data_ptr(dev: *mut bindings::net_device) -> *mut T {
        // SAFETY: Only called with a device from `rust_helper_net_alloc`.
        unsafe { ffi::rust_helper_net_drv(dev) }.cast()
    }

    /// The device's driver data.
    pub fn data(&self) -> Pin<&T> {
        // SAFETY: By the type invariant `T` is initialised and pinned in the device.
        unsafe { Pin::new_unchecked(&*Self::data_ptr(self.dev.as_ptr())) }
    }

    /// The device itself.
    pub fn netdev(&self) -> &NetDevice {
        // SAFETY: By the type invariant the device lives as long as `self`.
        unsafe { NetDevice::from_raw(self.dev.as_ptr()) }
    }

    /// The device and its data, for an adapter the kernel called.
    ///
    /// # Safety
    ///
    /// `dev` is a device of a live `Device<T>`, which outlives `'a`.
    #[inline]
    unsafe fn parts<'a>(dev: *mut bindings::net_device) -> (&'a NetDevice, &'a T) {
        // SAFETY: By the safety requirements the device and its initialised `T` live.
        unsafe { (NetDevice::from_raw(dev), &*Self::data_ptr(dev)) }
    }

    /// The `ndo_open` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn open_adapter(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: The kernel calls the ops of a device this type set up, while it lives.
        let (dev, this) = unsafe { Self::parts(dev) };
        from_result(|| T::open(dev, this).map(|()| 0))
    }

    /// The `ndo_stop` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn stop_adapter(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: As in `open_adapter`.
        let (dev, this) = unsafe { Self::parts(dev) };
        from_result(|| T::stop(dev, this).map(|()| 0))
    }

    /// The `ndo_start_xmit` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn start_xmit_adapter(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> c_int {
        // SAFETY: As in `open_adapter`.
        let (dev, this) = unsafe { Self::parts(dev) };
        // SAFETY: `ndo_start_xmit` gives the driver the buffer and its reference.
        T::start_xmit(dev, this, unsafe { SkBuff::from_raw(skb) });
        0 // NETDEV_TX_OK
    }

    /// The `ndo_change_mtu` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn change_mtu_adapter(dev: *mut bindings::net_device, mtu: c_int) -> c_int {
        // SAFETY: As in `open_adapter`.
        let (dev, this) = unsafe { Self::parts(dev) };
        from_result(|| T::change_mtu(dev, this, mtu).map(|()| 0))
    }

    /// The `ndo_get_stats64` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn get_stats64_adapter(
        dev: *mut bindings::net_device,
        stats: *mut ffi::RawStats64,
    ) {
        // SAFETY: As in `open_adapter`.
        let (dev, this) = unsafe { Self::parts(dev) };
        let s = T::get_stats64(dev, this);
        // SAFETY: The kernel passes a valid `struct rtnl_link_stats64`, whose leading
        // fields `RawStats64` mirrors, for this call only.
        let out = unsafe { &mut *stats };
        out.rx_packets = s.rx_packets;
        out.rx_bytes = s.rx_bytes;
        out.rx_dropped = s.rx_dropped;
        out.tx_packets = s.tx_packets;
        out.tx_bytes = s.tx_bytes;
        out.tx_dropped = s.tx_dropped;
    }

    /// The ethtool's `get_sset_count`, from `T::NAMES` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn get_sset_count_adapter(
        _dev: *mut bindings::net_device,
        sset: c_int,
    ) -> c_int {
        if sset == bindings::ethtool_stringset_ETH_SS_STATS as c_int {
            T::NAMES.len() as c_int
        } else {
            EOPNOTSUPP.to_errno()
        }
    }

    /// The ethtool's `get_strings`, from `T::NAMES` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn get_strings_adapter(
        _dev: *mut bindings::net_device,
        sset: u32,
        data: *mut u8,
    ) {
        const LEN: usize = bindings::ETH_GSTRING_LEN as usize;
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        // SAFETY: ethtool passes room for the count `get_sset_count` returned, each
        // `ETH_GSTRING_LEN` bytes.
        let out = unsafe { core::slice::from_raw_parts_mut(data, T::NAMES.len() * LEN) };
        for (slot, name) in out.chunks_exact_mut(LEN).zip(T::NAMES) {
            let bytes = name.to_bytes();
            let n = bytes.len().min(LEN - 1);
            slot[..n].copy_from_slice(&bytes[..n]);
            slot[n..].fill(0);
        }
    }

    /// The ethtool's `get_ethtool_stats`: `T::read_stats` on a buffer of exactly `T::NAMES.len()` the kernel calls.
    ///
    /// # Safety
    ///
    /// Only the kernel calls it, for a live device this type set up.
    unsafe extern "C" fn get_ethtool_stats_adapter(
        dev: *mut bindings::net_device,
        _stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: As in `open_adapter`.
        let (_, this) = unsafe { Self::parts(dev) };
        // SAFETY: ethtool passes room for the count `get_sset_count` returned.
        let values = unsafe { core::slice::from_raw_parts_mut(data, T::NAMES.len()) };
        T::read_stats(this, values);
    }
}

impl<T: Operations> Drop for Device<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `T` is initialised and owned; the device is not
        // registered (a `Registration` unregisters before its devices drop), so no op runs.
        unsafe { core::ptr::drop_in_place(Self::data_ptr(self.dev.as_ptr())) };
        // SAFETY: As above; the device is freed once, here.
        unsafe { ffi::free_netdev(self.dev.as_ptr()) };
    }
}

/// `N` devices registered together and unregistered together in one batch, so none of them
/// is freed while another can still reach it (a pair whose ends point at each other).
///
/// # Invariants
///
/// Every device in `devs` is registered.
pub struct Registration<T: Operations, const N: usize> {
    devs: [Device<T>; N],
}

impl<T: Operations, const N: usize> Registration<T, N> {
    /// Registers `devs` in order; on failure unregisters those already registered and frees
    /// them all.
    pub fn register(devs: [Device<T>; N]) -> Result<Self> {
        // SAFETY: No requirements; paired with the unlock below.
        unsafe { ffi::rtnl_lock() };
        for i in 0..N {
            // SAFETY: The device is set up and not registered; the RTNL is held.
            let err = to_result(unsafe { ffi::register_netdevice(devs[i].dev.as_ptr()) });
            if let Err(e) = err {
                for d in devs[..i].iter().rev() {
                    // SAFETY: `d` was registered above; the RTNL is held.
                    unsafe {
                        ffi::unregister_netdevice_queue(d.dev.as_ptr(), core::ptr::null_mut())
                    };
                }
                // SAFETY: Taken above.
                unsafe { ffi::rtnl_unlock() };
                return Err(e);
            }
        }
        // SAFETY: Taken above.
        unsafe { ffi::rtnl_unlock() };
        // INVARIANT: All devices were registered.
        Ok(Self { devs })
    }

    /// The registered devices.
    pub fn devices(&self) -> &[Device<T>; N] {
        &self.devs
    }
}

impl<T: Operations, const N: usize> Drop for Registration<T, N> {
    fn drop(&mut self) {
        let mut list = bindings::list_head {
            next: core::ptr::null_mut(),
            prev: core::ptr::null_mut(),
        };
        let head = &raw mut list;
        // SAFETY: `head` is a local that does not move until the batch is done.
        unsafe {
            (*head).next = head;
            (*head).prev = head;
        }
        // SAFETY: Paired with the unlock below.
        unsafe { ffi::rtnl_lock() };
        for d in &self.devs {
            // SAFETY: By the type invariant `d` is registered; the RTNL is held.
            unsafe { ffi::unregister_netdevice_queue(d.dev.as_ptr(), head) };
        }
        // SAFETY: `head` lists the devices queued above; the RTNL is held.
        unsafe { ffi::unregister_netdevice_many(head) };
        // SAFETY: Taken above.
        unsafe { ffi::rtnl_unlock() };
        // The devices, now unregistered, drop (and are freed) after this.
    }
}

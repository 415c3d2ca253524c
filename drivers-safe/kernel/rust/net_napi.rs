// SPDX-License-Identifier: GPL-2.0

//! NAPI: a device's polled receive context, with the poll as a trait method.
//!
//! C: `include/linux/netdevice.h`. The context is part of a [`crate::net::Device`] (the layer
//! adds it at allocation); the kernel calls [`Poll::poll`] of the device's driver data.

use crate::net::{ffi, NetDevice};
use crate::net_skb::SkBuff;
use kernel::{bindings, prelude::*, types::Opaque};

/// A NAPI context.
///
/// # Invariants
///
/// The value is the `struct napi_struct` of a live [`crate::net::Device`].
#[repr(transparent)]
pub struct Napi(Opaque<bindings::napi_struct>);

// SAFETY: NAPI's own state bits serialise scheduling and polling across CPUs.
unsafe impl Sync for Napi {}

impl Napi {
    /// # Safety
    ///
    /// `ptr` is the NAPI context of a live device that outlives `'a`.
    #[inline]
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::napi_struct) -> &'a Self {
        // SAFETY: `Napi` is a transparent wrapper of the C struct, live by the caller's word.
        unsafe { &*ptr.cast() }
    }

    #[inline]
    fn as_ptr(&self) -> *mut bindings::napi_struct {
        self.0.get()
    }

    /// `napi_schedule()`: have the context polled (again) soon.
    #[inline]
    pub fn schedule(&self) {
        // SAFETY: By the type invariant the context is live.
        unsafe { ffi::rust_helper_net_napi_schedule(self.as_ptr()) }
    }

    /// Hands a received frame to the stack (`eth_type_trans()` and `napi_gro_receive()`).
    #[inline]
    pub fn receive(&self, skb: SkBuff) {
        // SAFETY: By the type invariant the context is live; the stack takes the buffer.
        unsafe { ffi::rust_helper_net_napi_receive(self.as_ptr(), skb.into_raw()) }
    }

    /// `napi_complete_done()`: polling is done for now, `done` frames in the last round.
    #[inline]
    pub fn complete_done(&self, done: i32) -> bool {
        // SAFETY: By the type invariant the context is live; only its poll calls this.
        unsafe { ffi::napi_complete_done(self.as_ptr(), done) }
    }

    /// `napi_enable()`.
    pub fn enable(&self) {
        // SAFETY: By the type invariant the context is live; `ndo_open` calls this.
        unsafe { ffi::napi_enable(self.as_ptr()) }
    }

    /// `napi_disable()`: waits for a running poll, then keeps it from being scheduled.
    pub fn disable(&self) {
        // SAFETY: By the type invariant the context is live; `ndo_stop` calls this.
        unsafe { ffi::napi_disable(self.as_ptr()) }
    }

    /// The device the context belongs to.
    #[inline]
    pub fn device(&self) -> &NetDevice {
        // SAFETY: By the type invariant the context and so its device are live.
        unsafe { &*ffi::rust_helper_net_napi_dev(self.as_ptr()).cast() }
    }
}

/// The poll of a device's NAPI context, implemented by its driver data.
pub trait Poll: Sized {
    /// Receives up to `budget` frames; returns how many it did, and calls
    /// [`Napi::complete_done`] when that is fewer than `budget`.
    fn poll(this: &Self, napi: &Napi, budget: i32) -> i32;
}

/// The poll callback the kernel calls for a device with driver data `T`.
///
/// # Safety
///
/// Only for the NAPI context of a live `Device<T>` (the layer registers it so).
pub(crate) unsafe extern "C" fn poll_adapter<T: Poll>(
    napi: *mut bindings::napi_struct,
    budget: c_int,
) -> c_int {
    // SAFETY: The context is of a live `Device<T>`, whose driver data is an initialised `T`.
    let this = unsafe { &*ffi::rust_helper_net_napi_drv(napi).cast::<T>() };
    // SAFETY: As above.
    T::poll(this, unsafe { Napi::from_raw(napi) }, budget)
}

// SPDX-License-Identifier: GPL-2.0

//! A blk-mq tag set whose requests carry the layer's and the driver's PDU.
//!
//! C header: [`include/linux/blk-mq.h`](srctree/include/linux/blk-mq.h)

use super::{operations::OperationsVTable, request::Pdu, Operations};
use core::{marker::PhantomData, pin::Pin};
use kernel::{bindings, error, prelude::*, types::Opaque};

/// A `struct blk_mq_tag_set` for driver `T`.
///
/// # Invariants
///
/// `inner` was set up by `blk_mq_alloc_tag_set` with [`OperationsVTable<T>`] and a PDU of
/// `size_of::<Pdu<T>>()` bytes, and is freed only by `drop`.
#[pin_data(PinnedDrop)]
pub(crate) struct TagSet<T: Operations> {
    #[pin]
    inner: Opaque<bindings::blk_mq_tag_set>,
    maps: QueueMaps,
    _p: PhantomData<T>,
}

/// How the hardware queues map to CPUs (the set's `driver_data` points here): the default
/// queues after the device's interrupt affinity when there is a device
/// (`blk_mq_map_hw_queues()`), else spread over the CPUs (`blk_mq_map_queues()`); `nr_poll`
/// polled queues after them.
///
/// # Invariants
///
/// `dev`, when not null, is registered while the tag set exists.
struct QueueMaps {
    dev: *mut bindings::device,
    nr_poll: u32,
}

/// `map_queues` of the C table (`OperationsVTable`).
///
/// # Safety
///
/// `set` is a tag set made by [`TagSet`], its `driver_data` the set's [`QueueMaps`].
pub(super) unsafe extern "C" fn map_queues_callback(set: *mut bindings::blk_mq_tag_set) {
    // SAFETY: by the safety requirements `set` is valid and `driver_data` points to the
    // `QueueMaps` of the pinned `TagSet` that holds it.
    unsafe {
        let maps = &*(*set).driver_data.cast::<QueueMaps>();
        let nr_default = (*set).nr_hw_queues - maps.nr_poll;
        let default = &raw mut (*set).map[bindings::hctx_type_HCTX_TYPE_DEFAULT as usize];
        (*default).nr_queues = nr_default;
        (*default).queue_offset = 0;
        if maps.dev.is_null() {
            bindings::blk_mq_map_queues(default);
        } else {
            bindings::blk_mq_map_hw_queues(default, maps.dev, 0);
        }
        if (*set).nr_maps == 1 {
            return;
        }
        (*set).map[bindings::hctx_type_HCTX_TYPE_READ as usize].nr_queues = 0;
        let poll = &raw mut (*set).map[bindings::hctx_type_HCTX_TYPE_POLL as usize];
        (*poll).nr_queues = maps.nr_poll;
        (*poll).queue_offset = nr_default;
        bindings::blk_mq_map_queues(poll);
    }
}

impl<T: Operations> TagSet<T> {
    /// Allocates a tag set of `nr_hw_queues` queues of `queue_depth` tags, one map.
    pub(crate) fn new(nr_hw_queues: u32, queue_depth: u32) -> impl PinInit<Self, Error> {
        Self::build(nr_hw_queues, queue_depth, 0, core::ptr::null_mut(), 0)
    }

    /// The tag set of a device's hardware queues: `nr_hw_queues` of `queue_depth` tags, the
    /// last `nr_poll` of them polled, the others mapped after the device's interrupt
    /// affinity; a request timeout of `timeout` jiffies (0: blk-mq's default).
    ///
    /// # Safety
    ///
    /// `dev` stays registered while the tag set exists.
    pub(crate) unsafe fn for_device(
        nr_hw_queues: u32,
        queue_depth: u32,
        timeout: u32,
        dev: &kernel::device::Device,
        nr_poll: u32,
    ) -> impl PinInit<Self, Error> {
        // `device::Device` is `#[repr(transparent)]` over `Opaque<bindings::device>`.
        let dev = core::ptr::from_ref(dev).cast_mut().cast();
        Self::build(nr_hw_queues, queue_depth, timeout, dev, nr_poll)
    }

    fn build(
        nr_hw_queues: u32,
        queue_depth: u32,
        timeout: u32,
        dev: *mut bindings::device,
        nr_poll: u32,
    ) -> impl PinInit<Self, Error> {
        let cmd_size = u32::try_from(core::mem::size_of::<Pdu<T>>());
        let nr_maps = if nr_poll > 0 { bindings::hctx_type_HCTX_MAX_TYPES } else { 1 };
        try_pin_init!(&this in Self {
            // INVARIANT: `dev` is registered while the set exists (safety of `for_device`).
            maps: QueueMaps { dev, nr_poll },
            inner <- Opaque::try_ffi_init(move |set: *mut bindings::blk_mq_tag_set| {
                let tag_set = bindings::blk_mq_tag_set {
                    ops: OperationsVTable::<T>::build(),
                    nr_hw_queues,
                    queue_depth,
                    numa_node: bindings::NUMA_NO_NODE,
                    cmd_size: cmd_size.map_err(|_| EINVAL)?,
                    nr_maps,
                    timeout,
                    // SAFETY: `this` is the pinned `TagSet` being built; `maps` is
                    // initialised before `inner` and never moves.
                    driver_data: unsafe { (&raw mut (*this.as_ptr()).maps).cast() },
                    ..pin_init::zeroed()
                };
                // SAFETY: `set` is valid for writes; the tag set is then allocated in place
                // and never moves (pinned).
                unsafe {
                    set.write(tag_set);
                    error::to_result(bindings::blk_mq_alloc_tag_set(set))
                }
            }),
            _p: PhantomData,
        })
    }

    /// The C tag set.
    pub(super) fn as_ptr(&self) -> *mut bindings::blk_mq_tag_set {
        self.inner.get()
    }
}

// SAFETY: blk-mq's tag set functions may be called from any thread; the set itself is only
// written by `blk_mq_alloc_tag_set` and `blk_mq_free_tag_set`, in `new` and `drop`.
unsafe impl<T: Operations> Send for TagSet<T> {}
// SAFETY: as for `Send`: shared use goes through blk-mq, which locks internally.
unsafe impl<T: Operations> Sync for TagSet<T> {}

#[pinned_drop]
impl<T: Operations> PinnedDrop for TagSet<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: by the type invariants the tag set was allocated and is freed once, here.
        unsafe { bindings::blk_mq_free_tag_set(self.inner.get()) };
    }
}

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
#[repr(transparent)]
pub(crate) struct TagSet<T: Operations> {
    #[pin]
    inner: Opaque<bindings::blk_mq_tag_set>,
    _p: PhantomData<T>,
}

impl<T: Operations> TagSet<T> {
    /// Allocates a tag set of `nr_hw_queues` queues of `queue_depth` tags, one map.
    pub(crate) fn new(nr_hw_queues: u32, queue_depth: u32) -> impl PinInit<Self, Error> {
        Self::with_timeout(nr_hw_queues, queue_depth, 0)
    }

    /// As [`Self::new`], with a request timeout of `timeout` jiffies (0: blk-mq's default).
    pub(crate) fn with_timeout(
        nr_hw_queues: u32,
        queue_depth: u32,
        timeout: u32,
    ) -> impl PinInit<Self, Error> {
        let cmd_size = u32::try_from(core::mem::size_of::<Pdu<T>>());
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |set: *mut bindings::blk_mq_tag_set| {
                let tag_set = bindings::blk_mq_tag_set {
                    ops: OperationsVTable::<T>::build(),
                    nr_hw_queues,
                    queue_depth,
                    numa_node: bindings::NUMA_NO_NODE,
                    cmd_size: cmd_size.map_err(|_| EINVAL)?,
                    nr_maps: 1,
                    timeout,
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

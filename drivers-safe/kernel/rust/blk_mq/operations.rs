// SPDX-License-Identifier: GPL-2.0

//! The operations a blk-mq driver implements, and the C vtable that calls them.
//!
//! C header: [`include/linux/blk-mq.h`](srctree/include/linux/blk-mq.h)

use super::{
    hw_queue::TimeoutAction,
    request::{Pdu, Request},
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    error::{from_result, Result},
    prelude::*,
    sync::aref::ARef,
    types::ForeignOwnable,
};

type ForeignBorrowed<'a, T> = <T as ForeignOwnable>::Borrowed<'a>;

/// What a blk-mq driver implements; the kernel reaches it through [`OperationsVTable`].
///
/// As in `kernel::block::mq::Operations`, plus the per-request data and the request timer.
pub(crate) trait Operations: Sized + 'static {
    /// Data of the `struct request_queue` of each `GenDisk` of this driver.
    type QueueData: ForeignOwnable + Sync;

    /// Driver data kept in every request (the request PDU, after the layer's part).
    type RequestData: Sync;

    /// Initialises the driver data of a request, once, when blk-mq allocates it.
    fn init_request_data() -> impl PinInit<Self::RequestData, Error>;

    /// Queues a request with the driver. An `Err` is returned to blk-mq as a block status
    /// (`ENOMEM` is `BLK_STS_RESOURCE`: blk-mq requeues the request).
    fn queue_rq(
        queue_data: ForeignBorrowed<'_, Self::QueueData>,
        rq: ARef<Request<Self>>,
        is_last: bool,
    ) -> Result;

    /// Ends a request after [`Request::complete`] (in softirq on the submitting CPU).
    fn complete(rq: ARef<Request<Self>>);

    /// Runs when the timer started with [`Request::start_timer`] expires.
    fn timer(rq: ARef<Request<Self>>);

    /// Whether the driver has [`Self::commit_rqs`], [`Self::poll`] and [`Self::timeout`]
    /// (the C table gets only the callbacks a driver has).
    const HAS_COMMIT_RQS: bool = false;
    const HAS_POLL: bool = false;
    const HAS_TIMEOUT: bool = false;

    /// Ends a batch of `queue_rq` calls on hardware queue `hw_queue` whose last one did not
    /// say it was last (`commit_rqs`): the driver tells its device now.
    fn commit_rqs(_queue_data: ForeignBorrowed<'_, Self::QueueData>, _hw_queue: u32) {}

    /// Reaps completions of polled hardware queue `hw_queue`; returns how many (`poll`).
    fn poll(_queue_data: ForeignBorrowed<'_, Self::QueueData>, _hw_queue: u32) -> i32 {
        0
    }

    /// A request the device did not complete within the tag set's timeout (`timeout`).
    fn timeout(_rq: ARef<Request<Self>>) -> TimeoutAction {
        TimeoutAction::ResetTimer
    }
}

/// The `blk_mq_ops` table of an [`Operations`] implementation.
///
/// # Invariants
///
/// Only blk-mq calls these functions, on a tag set made by [`super::TagSet::new`] for `T`:
/// every request's PDU is a [`Pdu<T>`], initialised by `init_request_callback`.
pub(crate) struct OperationsVTable<T: Operations>(PhantomData<T>);

impl<T: Operations> OperationsVTable<T> {
    /// `queue_rq` of the C table.
    ///
    /// # Safety
    ///
    /// `hctx` is a live hardware context of a queue made by [`super::GenDiskBuilder::build`];
    /// `bd` is valid for reads and `(*bd).rq` is an initialised request now owned by the
    /// driver (blk-mq does not touch it until it is ended).
    unsafe extern "C" fn queue_rq_callback(
        hctx: *mut bindings::blk_mq_hw_ctx,
        bd: *const bindings::blk_mq_queue_data,
    ) -> bindings::blk_status_t {
        // SAFETY: `(*bd).rq` is a valid request of this tag set, by the safety requirements.
        let rq = unsafe { Request::<T>::claim((*bd).rq) };
        // SAFETY: `hctx` is live and its queue's `queuedata` came from `into_foreign` in
        // `GenDiskBuilder::build`; it is released only after the queue is gone.
        let queue_data = unsafe { T::QueueData::borrow((*(*hctx).queue).queuedata) };
        // SAFETY: `bd` is valid for reads.
        let last = unsafe { (*bd).last };

        match T::queue_rq(queue_data, rq, last) {
            Ok(()) => bindings::BLK_STS_OK as bindings::blk_status_t,
            // SAFETY: `errno_to_blk_status` only reads its argument.
            Err(e) => unsafe { bindings::errno_to_blk_status(e.to_errno()) },
        }
    }

    /// `complete` of the C table.
    ///
    /// # Safety
    ///
    /// Called by blk-mq for a request passed to `blk_mq_complete_request_remote` by
    /// [`Request::complete`], which left its reference count to this callback.
    unsafe extern "C" fn complete_callback(rq: *mut bindings::request) {
        // SAFETY: `Request::complete` gave up its reference; it is taken back here.
        T::complete(unsafe { Request::aref_from_raw(rq) });
    }

    /// `commit_rqs` of the C table.
    ///
    /// # Safety
    ///
    /// `hctx` is a live hardware context of a queue made by [`super::GenDiskBuilder::build`].
    unsafe extern "C" fn commit_rqs_callback(hctx: *mut bindings::blk_mq_hw_ctx) {
        // SAFETY: as in `queue_rq_callback`.
        let queue_data = unsafe { T::QueueData::borrow((*(*hctx).queue).queuedata) };
        // SAFETY: `hctx` is live.
        T::commit_rqs(queue_data, unsafe { (*hctx).queue_num });
    }

    /// `poll` of the C table.
    ///
    /// # Safety
    ///
    /// As for `commit_rqs_callback`.
    unsafe extern "C" fn poll_callback(
        hctx: *mut bindings::blk_mq_hw_ctx,
        _iob: *mut bindings::io_comp_batch,
    ) -> kernel::ffi::c_int {
        // SAFETY: as in `queue_rq_callback`.
        let queue_data = unsafe { T::QueueData::borrow((*(*hctx).queue).queuedata) };
        // SAFETY: `hctx` is live.
        T::poll(queue_data, unsafe { (*hctx).queue_num })
    }

    /// `timeout` of the C table.
    ///
    /// # Safety
    ///
    /// `rq` is a started request of a tag set for `T` whose timeout expired; the driver owns
    /// it.
    unsafe extern "C" fn timeout_callback(
        rq: *mut bindings::request,
    ) -> bindings::blk_eh_timer_return {
        // SAFETY: by the safety requirements `rq` is a started request of the set; one the
        // driver has given up meanwhile (completed as it timed out) gets its timer reset, and
        // blk-mq then sees it done.
        match unsafe { Request::try_borrow(rq) } {
            Some(rq) => T::timeout(rq).to_raw(),
            None => bindings::blk_eh_timer_return_BLK_EH_RESET_TIMER,
        }
    }

    /// `init_request` of the C table: the layer's part of the PDU, then the driver's.
    ///
    /// # Safety
    ///
    /// `rq` is a request of a tag set made for `T`, with `cmd_size` bytes of PDU.
    unsafe extern "C" fn init_request_callback(
        _set: *mut bindings::blk_mq_tag_set,
        rq: *mut bindings::request,
        _hctx_idx: kernel::ffi::c_uint,
        _numa_node: kernel::ffi::c_int,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            // SAFETY: the PDU of `rq` is `size_of::<Pdu<T>>()` bytes, uninitialised.
            unsafe { Pdu::<T>::init(rq) }?;
            Ok(0)
        })
    }

    /// `exit_request` of the C table.
    ///
    /// # Safety
    ///
    /// `rq` is a request whose PDU `init_request_callback` initialised.
    unsafe extern "C" fn exit_request_callback(
        _set: *mut bindings::blk_mq_tag_set,
        rq: *mut bindings::request,
        _hctx_idx: kernel::ffi::c_uint,
    ) {
        // SAFETY: the PDU was initialised and blk-mq never uses the request again.
        unsafe { Pdu::<T>::drop_in_place(rq) };
    }

    const VTABLE: bindings::blk_mq_ops = bindings::blk_mq_ops {
        queue_rq: Some(Self::queue_rq_callback),
        complete: Some(Self::complete_callback),
        commit_rqs: if T::HAS_COMMIT_RQS { Some(Self::commit_rqs_callback) } else { None },
        poll: if T::HAS_POLL { Some(Self::poll_callback) } else { None },
        timeout: if T::HAS_TIMEOUT { Some(Self::timeout_callback) } else { None },
        map_queues: Some(super::tag_set::map_queues_callback),
        init_request: Some(Self::init_request_callback),
        exit_request: Some(Self::exit_request_callback),
        // SAFETY: every other member is an optional callback or flag; all-zero is `None`.
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };

    /// The table, for the tag set.
    pub(crate) const fn build() -> &'static bindings::blk_mq_ops {
        &Self::VTABLE
    }
}

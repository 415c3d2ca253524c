// SPDX-License-Identifier: GPL-2.0

//! What a driver of real hardware queues needs of blk-mq beyond a null device: the request's
//! tag, hardware queue, size and flags, finding a request by the tag a device returns,
//! walking the requests a device holds, timeouts, and requeueing.
//!
//! C header: [`include/linux/blk-mq.h`](srctree/include/linux/blk-mq.h)

use super::{Operations, Request, TagSet};
use core::ffi::c_void;
use kernel::{bindings, sync::aref::ARef, types::ForeignOwnable};

/// What the timeout op tells blk-mq (`enum blk_eh_timer_return`).
pub(crate) enum TimeoutAction {
    /// The driver ended or will end the request.
    Done,
    /// Give the request another full timeout.
    ResetTimer,
}

impl TimeoutAction {
    pub(super) fn to_raw(&self) -> bindings::blk_eh_timer_return {
        match self {
            Self::Done => bindings::blk_eh_timer_return_BLK_EH_DONE,
            Self::ResetTimer => bindings::blk_eh_timer_return_BLK_EH_RESET_TIMER,
        }
    }
}

impl<T: Operations> Request<T> {
    /// The request's tag in its hardware queue (the NVMe command id).
    pub(crate) fn tag(&self) -> u16 {
        // SAFETY: the request is valid (type invariant); the tag is fixed while it is live.
        unsafe { (*self.as_ptr()).tag as u16 }
    }

    /// The index of the hardware queue the request was queued on.
    pub(crate) fn hw_queue(&self) -> u32 {
        // SAFETY: a live request has its hardware context set and valid.
        unsafe { (*(*self.as_ptr()).mq_hctx).queue_num }
    }

    /// The data of the request queue (disk) the request belongs to.
    pub(crate) fn queue_data(&self) -> <T::QueueData as ForeignOwnable>::Borrowed<'_> {
        // SAFETY: the queue's `queuedata` came from `into_foreign` in `GenDiskBuilder::build`
        // and is released only after the queue, which outlives its live requests, is gone.
        unsafe { T::QueueData::borrow((*(*self.as_ptr()).q).queuedata) }
    }

    /// Bytes of data (`blk_rq_bytes()`).
    pub(crate) fn bytes(&self) -> u32 {
        // SAFETY: the request is valid (type invariant).
        unsafe { (*self.as_ptr()).__data_len }
    }

    /// Physical segments of the data (`blk_rq_nr_phys_segments()`, no special payloads).
    pub(crate) fn nr_phys_segments(&self) -> u16 {
        // SAFETY: the request is valid (type invariant).
        unsafe { (*self.as_ptr()).nr_phys_segments }
    }

    /// Whether the request asks for forced unit access (`REQ_FUA`).
    pub(crate) fn fua(&self) -> bool {
        // SAFETY: the request is valid (type invariant).
        unsafe { (*self.as_ptr()).cmd_flags & (1 << bindings::req_flag_bits___REQ_FUA) != 0 }
    }

    /// Whether the submitter asked for no retries (`blk_noretry_request()`).
    pub(crate) fn noretry(&self) -> bool {
        let mask = 1 << bindings::req_flag_bits___REQ_FAILFAST_DEV
            | 1 << bindings::req_flag_bits___REQ_FAILFAST_TRANSPORT
            | 1 << bindings::req_flag_bits___REQ_FAILFAST_DRIVER;
        // SAFETY: the request is valid (type invariant).
        unsafe { (*self.as_ptr()).cmd_flags & mask != 0 }
    }

    /// Whether the request is in flight, not yet completed (`blk_mq_rq_state()`).
    pub(crate) fn in_flight(&self) -> bool {
        // SAFETY: the request is valid; `state` is read once, as `READ_ONCE` does.
        let state = unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).state) };
        state == bindings::mq_rq_state_MQ_RQ_IN_FLIGHT
    }

    /// Gives the request back to blk-mq to be queued again (`blk_mq_requeue_request()`,
    /// kicking the requeue list), at once if this is the only `ARef` to it, else when the
    /// other ones are dropped.
    pub(crate) fn requeue(this: ARef<Self>) {
        Self::finish(this, bindings::BLK_STS_OK as bindings::blk_status_t, true);
    }
}

/// The per-request callback of [`TagSet::busy_iter`].
unsafe extern "C" fn busy_iter_fn<T: Operations, F: FnMut(ARef<Request<T>>)>(
    rq: *mut bindings::request,
    data: *mut c_void,
) -> bool {
    // SAFETY: `data` is the `&mut F` `busy_iter` passed, alive for the whole iteration.
    let f = unsafe { &mut *data.cast::<F>() };
    // SAFETY: blk-mq iterates started requests of this tag set, holding each meanwhile;
    // `state` is read once, as `READ_ONCE` does.
    let state = unsafe { core::ptr::read_volatile(&raw const (*rq).state) };
    // One already completed (its completion queued, not yet run) is not the driver's.
    if state != bindings::mq_rq_state_MQ_RQ_IN_FLIGHT {
        return true;
    }
    // SAFETY: as above; the PDU of a started request is initialised.
    if let Some(rq) = unsafe { Request::try_borrow(rq) } {
        f(rq);
    }
    true
}

impl<T: Operations> TagSet<T> {
    /// The request of tag `tag` on hardware queue `hw_queue`, if that tag is in flight
    /// (`blk_mq_tag_to_rq()`), e.g. for a completion the device posted.
    pub(crate) fn tag_to_rq(&self, hw_queue: u32, tag: u16) -> Option<ARef<Request<T>>> {
        let set = self.as_ptr();
        // SAFETY: the tag set is allocated (type invariant); `tags` has `nr_hw_queues`
        // entries, each live while the set is.
        unsafe {
            if hw_queue >= (*set).nr_hw_queues {
                return None;
            }
            let tags = *(*set).tags.add(hw_queue as usize);
            if tags.is_null() || tag as u32 >= (*tags).nr_tags {
                return None;
            }
            let rq = *(*tags).rqs.add(tag as usize);
            if rq.is_null() || (*rq).state != bindings::mq_rq_state_MQ_RQ_IN_FLIGHT {
                return None;
            }
            // The device returned this tag: the request is started; the driver owns it unless
            // its count says it was given up meanwhile.
            Request::try_borrow(rq)
        }
    }

    /// Calls `f` on every in-flight request of the set the driver owns
    /// (`blk_mq_tagset_busy_iter()`), skipping completed ones.
    pub(crate) fn busy_iter<F: FnMut(ARef<Request<T>>)>(&self, mut f: F) {
        // SAFETY: the tag set is allocated; the callback gets `&mut f`, alive meanwhile.
        unsafe {
            bindings::blk_mq_tagset_busy_iter(self.as_ptr(), Some(busy_iter_fn::<T, F>),
                                              (&raw mut f).cast())
        };
    }

    /// Stops `queue_rq` on every queue of the set and waits for running calls
    /// (`blk_mq_quiesce_tagset()`).
    pub(crate) fn quiesce(&self) {
        // SAFETY: the tag set is allocated (type invariant).
        unsafe { bindings::blk_mq_quiesce_tagset(self.as_ptr()) };
    }

    /// Lets `queue_rq` run again on every queue of the set (`blk_mq_unquiesce_tagset()`).
    pub(crate) fn unquiesce(&self) {
        // SAFETY: the tag set is allocated (type invariant).
        unsafe { bindings::blk_mq_unquiesce_tagset(self.as_ptr()) };
    }

    /// Marks the disk of every request queue of the set dead (`blk_mark_disk_dead()`): its
    /// I/O fails at once and waiters on a frozen queue are released, as for a controller that
    /// is gone. May sleep.
    pub(crate) fn mark_disks_dead(&self) {
        let set = self.as_ptr();
        // SAFETY: the tag set is allocated (type invariant); `tag_list_lock` keeps the queues
        // on `tag_list` registered with it (and their disks alive) while it is held; each entry
        // is the `tag_set_list` of a `struct request_queue`.
        unsafe {
            bindings::mutex_lock(&raw mut (*set).tag_list_lock);
            let head = &raw mut (*set).tag_list;
            let mut pos = (*head).next;
            while pos != head {
                let q = kernel::container_of!(pos, bindings::request_queue, tag_set_list);
                if !(*q).disk.is_null() {
                    bindings::blk_mark_disk_dead((*q).disk);
                }
                pos = (*pos).next;
            }
            bindings::mutex_unlock(&raw mut (*set).tag_list_lock);
        }
    }

    /// Waits until no request of the set is in the completed-not-ended state
    /// (`blk_mq_tagset_wait_completed_request()`).
    pub(crate) fn wait_completed(&self) {
        // SAFETY: the tag set is allocated (type invariant).
        unsafe { bindings::blk_mq_tagset_wait_completed_request(self.as_ptr()) };
    }
}

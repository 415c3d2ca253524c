// SPDX-License-Identifier: GPL-2.0

//! A blk-mq request, its PDU (the layer's part and the driver's data) and its timer.
//!
//! C header: [`include/linux/blk-mq.h`](srctree/include/linux/blk-mq.h)

use super::{segment::Segments, Operations};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::Result,
    prelude::*,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        atomic::{ordering::Full, Atomic, AtomicFlag, Relaxed},
        Refcount,
    },
    time::{
        hrtimer::{
            HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
            RawHrTimerCallback, RelativeMode,
        },
        Delta, Monotonic,
    },
    types::Opaque,
};
use pin_init::PinInit;

/// A blk-mq `struct request` of a driver `T`.
///
/// The ownership count in the PDU has the states of `kernel::block::mq::Request`: 0 the
/// block layer owns the request, 1 the driver owns it with no `ARef`, 2 or more the driver
/// holds that many minus one `ARef`s. A request is ended only from 2 (one `ARef`), so no
/// other reference outlives its end; an end asked for while other `ARef`s exist is recorded
/// in the PDU and carried out by the drop that brings the count back to 1 (as the safe C
/// layer's `safe_rq_end`), so a request is never stranded in the driver's hands.
///
/// # Invariants
///
/// `self.0` is a request of a tag set made by [`super::TagSet::new`] for `T`, its PDU an
/// initialised [`Pdu<T>`]; `ARef`s to it are counted in `Pdu::refcount`.
#[repr(transparent)]
pub(crate) struct Request<T: Operations>(Opaque<bindings::request>, PhantomData<T>);

/// What a request of `T` does: the part of `req_op()` the twins tell apart.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
    Flush,
    Other,
}

impl<T: Operations> Request<T> {
    /// Takes a request blk-mq hands to `queue_rq` and starts it (`blk_mq_start_request`).
    ///
    /// # Safety
    ///
    /// `ptr` is an initialised request of a tag set for `T`, now owned by the driver.
    pub(super) unsafe fn claim(ptr: *mut bindings::request) -> ARef<Self> {
        // SAFETY: `ptr` is valid and its PDU initialised, by the safety requirements.
        let pdu = unsafe { &*Pdu::<T>::from_rq(ptr) };
        // One count for being owned by the driver, one for the `ARef` made here.
        pdu.refcount.set(2);
        // SAFETY: the driver owns the request; `blk_mq_start_request` marks it started.
        unsafe { bindings::blk_mq_start_request(ptr) };
        // SAFETY: the count taken above is passed to the `ARef`.
        unsafe { Self::aref_from_raw(ptr) }
    }

    /// Makes an `ARef` from a request pointer, taking over one reference.
    ///
    /// # Safety
    ///
    /// The caller owns one reference to `ptr`, which satisfies the type invariants.
    pub(super) unsafe fn aref_from_raw(ptr: *mut bindings::request) -> ARef<Self> {
        // SAFETY: `ptr` is not null and the caller passes its reference on.
        unsafe { ARef::from_raw(NonNull::new_unchecked(ptr.cast())) }
    }

    /// One more `ARef` to a request the driver owns, or `None` if the driver has given it up
    /// (its ownership count is 0: ended, or being ended), as `atomic_add_unless(refs, 1, 0)`.
    ///
    /// # Safety
    ///
    /// `ptr` is a request of a tag set for `T` whose PDU is initialised, and stays allocated
    /// meanwhile (blk-mq's own reference or tag iteration keeps it).
    pub(super) unsafe fn try_borrow(ptr: *mut bindings::request) -> Option<ARef<Self>> {
        // SAFETY: `ptr` is valid and its PDU initialised, by the safety requirements.
        let count = unsafe { &*Pdu::<T>::from_rq(ptr) }.refcount.as_atomic();
        let mut old = count.load(Relaxed);
        loop {
            if old == 0 {
                return None;
            }
            match count.cmpxchg(old, old + 1, Full) {
                Ok(_) => break,
                Err(now) => old = now,
            }
        }
        // SAFETY: the count taken above is passed to the `ARef`.
        Some(unsafe { Self::aref_from_raw(ptr) })
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::request {
        self.0.get()
    }

    fn pdu(&self) -> &Pdu<T> {
        // SAFETY: by the type invariants the PDU is an initialised `Pdu<T>`, alive while
        // `self` is.
        unsafe { &*Pdu::<T>::from_rq(self.as_ptr()) }
    }

    /// The driver's data of this request.
    pub(crate) fn data(&self) -> &T::RequestData {
        &self.pdu().data
    }

    /// The request's operation.
    pub(crate) fn op(&self) -> Op {
        // SAFETY: by the type invariants `self.0` is a valid request owned by the driver.
        let op = unsafe { (*self.as_ptr()).cmd_flags } & ((1 << bindings::REQ_OP_BITS) - 1);
        match op {
            bindings::req_op_REQ_OP_READ => Op::Read,
            bindings::req_op_REQ_OP_WRITE => Op::Write,
            bindings::req_op_REQ_OP_FLUSH => Op::Flush,
            _ => Op::Other,
        }
    }

    /// The first sector (`blk_rq_pos`).
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: by the type invariants `self.0` is a valid request owned by the driver.
        unsafe { (*self.as_ptr()).__sector }
    }

    /// The request's data as single-page segments, bio after bio.
    pub(crate) fn segments(&self) -> Segments<'_> {
        // SAFETY: by the type invariants `self.0` is a valid request owned by the driver;
        // its bio chain is not changed while the driver holds it.
        unsafe { Segments::new((*self.as_ptr()).bio) }
    }

    /// Hands the request back from state 2 to the block layer (state 0), or returns it if
    /// another `ARef` exists.
    pub(super) fn try_set_end(this: ARef<Self>) -> Result<*mut bindings::request, ARef<Self>> {
        if this
            .pdu()
            .refcount
            .as_atomic()
            .cmpxchg(2, 0, Relaxed)
            .is_err()
        {
            return Err(this);
        }
        let ptr = this.as_ptr();
        core::mem::forget(this);
        Ok(ptr)
    }

    /// Gives the request back to blk-mq, ended with `status` or requeued: now if `this` is the
    /// only `ARef`, else when the last other one is dropped.
    pub(super) fn finish(this: ARef<Self>, status: bindings::blk_status_t, requeue: bool) {
        match Self::try_set_end(this) {
            // SAFETY: `try_set_end` succeeded: no `ARef` is left and the driver gives up the
            // request now.
            Ok(ptr) => unsafe { Pdu::<T>::finish_raw(ptr, status, requeue) },
            Err(this) => {
                let pdu = this.pdu();
                pdu.end_status.store(status.into(), Relaxed);
                pdu.end_requeue.store(requeue, Relaxed);
                // Fully ordered: seen by whichever drop brings the count to 1, this one or
                // another's.
                let _ = pdu.end_pending.xchg(true, Full);
                drop(this);
            }
        }
    }

    /// Ends the request with the status of `result` (`blk_mq_end_request`), at once if this
    /// is the only `ARef` to it, else when the other ones are dropped.
    pub(crate) fn end(this: ARef<Self>, result: Result) {
        let status = match result {
            Ok(()) => bindings::BLK_STS_OK as bindings::blk_status_t,
            // SAFETY: `errno_to_blk_status` only reads its argument.
            Err(e) => unsafe { bindings::errno_to_blk_status(e.to_errno()) },
        };
        Self::finish(this, status, false);
    }

    /// Completes the request through blk-mq (`blk_mq_complete_request`): `T::complete` runs
    /// in softirq on the submitting CPU, or here if that is this CPU.
    pub(crate) fn complete(this: ARef<Self>) {
        let ptr = ARef::into_raw(this).as_ptr().cast::<bindings::request>();
        // SAFETY: `ptr` is a valid request owned by the driver; its reference goes to
        // `complete_callback`, or is taken back below.
        if !unsafe { bindings::blk_mq_complete_request_remote(ptr) } {
            // SAFETY: blk-mq did not take the request: the reference given up is ours.
            T::complete(unsafe { Self::aref_from_raw(ptr) });
        }
    }

    /// Starts the request's timer: `T::timer` gets the request back after `delay`.
    pub(crate) fn start_timer(this: ARef<Self>, delay: Delta) {
        let pdu: *const Pdu<T> = this.pdu();
        core::mem::forget(this);
        // SAFETY: `pdu` is the initialised PDU of a request the driver owns; the reference
        // forgotten above is taken back by the timer callback, so the PDU stays valid until
        // the timer has run.
        unsafe { <Pdu<T> as HasHrTimer<Pdu<T>>>::start(pdu, delay) };
    }
}

// SAFETY: a `Request` is used only through `&self` methods, whose mutations are atomic or
// on the driver's exclusively owned request; it may be ended on any CPU.
unsafe impl<T: Operations> Send for Request<T> {}

// SAFETY: as above, shared use from several CPUs is synchronised by the ownership count.
unsafe impl<T: Operations> Sync for Request<T> {}

// SAFETY: an `ARef` holds one count of `Pdu::refcount`; the request is not given back to
// blk-mq while a count above 1 exists (`try_set_end`).
unsafe impl<T: Operations> AlwaysRefCounted for Request<T> {
    fn inc_ref(&self) {
        self.pdu().refcount.inc();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        let rq = obj.as_ptr().cast::<bindings::request>();
        // SAFETY: an `ARef` to `obj` existed, so its PDU is initialised and alive.
        let pdu = unsafe { &*Pdu::<T>::from_rq(rq) };
        let refs = pdu.refcount.as_atomic().fetch_sub(1, Full) - 1;
        if refs < 1 {
            pr_warn!("blk_mq: a request's ownership count reached zero outside its end\n");
        } else if refs == 1 && pdu.end_pending.load(Relaxed) && pdu.end_pending.xchg(false, Full)
        {
            pdu.refcount.as_atomic().store(0, Relaxed);
            // SAFETY: the last `ARef` is gone and an end was asked for (`Request::finish`):
            // the driver gives the request up now, once (the flag was cleared here).
            unsafe {
                Pdu::<T>::finish_raw(rq, pdu.end_status.load(Relaxed) as bindings::blk_status_t,
                                  pdu.end_requeue.load(Relaxed))
            };
        }
    }
}

/// The PDU of every request of `T`: the layer's part, then the driver's data.
///
/// # Invariants
///
/// Lives in the PDU area of a request (`blk_mq_rq_to_pdu`), initialised by [`Pdu::init`];
/// `timer` was set up with this type's callback.
#[pin_data]
#[repr(C)]
pub(super) struct Pdu<T: Operations> {
    refcount: Refcount,
    /// An end waits for the last other `ARef`'s drop, with this status or as a requeue.
    end_pending: AtomicFlag,
    end_status: Atomic<u32>,
    end_requeue: AtomicFlag,
    #[pin]
    timer: HrTimer<Pdu<T>>,
    #[pin]
    data: T::RequestData,
}

impl<T: Operations> Pdu<T> {
    /// The PDU of `rq`.
    ///
    /// # Safety
    ///
    /// `rq` is a valid request of a tag set for `T`.
    unsafe fn from_rq(rq: *mut bindings::request) -> *mut Self {
        // SAFETY: `rq` is a valid request, by the safety requirements.
        unsafe { bindings::blk_mq_rq_to_pdu(rq) }.cast()
    }

    /// Initialises the PDU of a request blk-mq has just allocated.
    ///
    /// # Safety
    ///
    /// `rq` is a request of a tag set for `T`, its PDU valid for writes and uninitialised.
    pub(super) unsafe fn init(rq: *mut bindings::request) -> Result {
        let init = try_pin_init!(Self {
            refcount: Refcount::new(0),
            end_pending: AtomicFlag::new(false),
            end_status: Atomic::new(0),
            end_requeue: AtomicFlag::new(false),
            timer <- HrTimer::new(),
            data <- T::init_request_data(),
        }? Error);
        // SAFETY: the PDU is valid for writes and is never moved: it lives in the request.
        unsafe { init.__init(Self::from_rq(rq)) }
    }

    /// Ends (`blk_mq_end_request`) or requeues (`blk_mq_requeue_request`, kicking the list)
    /// request `rq`.
    ///
    /// # Safety
    ///
    /// The driver owns `rq`, no `ARef` to it is left, and it gives the request up here.
    unsafe fn finish_raw(
        rq: *mut bindings::request,
        status: bindings::blk_status_t,
        requeue: bool,
    ) {
        // SAFETY: by the safety requirements the request is the driver's to give back.
        unsafe {
            if requeue {
                bindings::blk_mq_requeue_request(rq, true);
            } else {
                bindings::blk_mq_end_request(rq, status);
            }
        }
    }

    /// Drops the PDU of a request blk-mq frees.
    ///
    /// # Safety
    ///
    /// The PDU was initialised by [`Pdu::init`] and is not used again.
    pub(super) unsafe fn drop_in_place(rq: *mut bindings::request) {
        // SAFETY: by the safety requirements the PDU is initialised and unused from now on.
        unsafe { core::ptr::drop_in_place(Self::from_rq(rq)) };
    }

    /// `T::timer` for an expired request timer: takes back the reference
    /// [`Request::start_timer`] gave up.
    ///
    /// # Safety
    ///
    /// `timer` is the timer of a PDU whose request was passed to `Request::start_timer`.
    unsafe fn run_timer(timer: *mut HrTimer<Self>) {
        // SAFETY: `timer` is the `timer` field of a `Pdu<T>`, by the safety requirements.
        let pdu = unsafe { <Self as HasHrTimer<Self>>::timer_container_of(timer) };
        // SAFETY: `pdu` is the PDU of a request (`blk_mq_rq_from_pdu` inverts `from_rq`).
        let rq = unsafe { bindings::blk_mq_rq_from_pdu(pdu.cast()) };
        // SAFETY: `start_timer` gave up one reference to `rq`, taken back here once.
        T::timer(unsafe { Request::aref_from_raw(rq) });
    }
}

// SAFETY: `raw_get_timer` and `timer_container_of` project to and from the `timer` field
// of the same `Pdu<T>`.
unsafe impl<T: Operations> HasHrTimer<Pdu<T>> for Pdu<T> {
    type TimerMode = RelativeMode<Monotonic>;

    unsafe fn raw_get_timer(this: *const Self) -> *const HrTimer<Self> {
        // SAFETY: `this` points to a `Pdu<T>`, by the safety requirements.
        unsafe { &raw const (*this).timer }
    }

    unsafe fn timer_container_of(ptr: *mut HrTimer<Self>) -> *mut Self {
        // SAFETY: `ptr` is the `timer` field of a `Pdu<T>`, by the safety requirements.
        unsafe { kernel::container_of!(ptr, Self, timer) }
    }
}

/// The timer's pointer type: the request whose reference `Request::start_timer` gave up.
pub(super) struct TimedRequest<T: Operations>(PhantomData<T>);

impl<T: Operations> RawHrTimerCallback for TimedRequest<T> {
    type CallbackTarget<'a> = ARef<Request<T>>;

    unsafe extern "C" fn run(ptr: *mut bindings::hrtimer) -> bindings::hrtimer_restart {
        // SAFETY: the timer runs only after `Request::start_timer` armed it; `ptr` is the
        // C timer inside an `HrTimer<Pdu<T>>` (transparent over it).
        unsafe { Pdu::<T>::run_timer(ptr.cast()) };
        bindings::hrtimer_restart::HRTIMER_NORESTART
    }
}

impl<T: Operations> HrTimerCallback for Pdu<T> {
    type Pointer<'a> = TimedRequest<T>;

    fn run(rq: ARef<Request<T>>, _ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        T::timer(rq);
        HrTimerRestart::NoRestart
    }
}

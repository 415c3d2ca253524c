// SPDX-License-Identifier: GPL-2.0

//! A high-resolution timer for an emulated interrupt: started from a transmit path,
//! cancelled without waiting from one, and cancelled with waiting when the device goes down.
//!
//! C: `include/linux/hrtimer.h`. The crate's `time::hrtimer` cancels only through the handle
//! `start` returns (and dropping the handle cancels), and has no `hrtimer_try_to_cancel()`;
//! an interrupt-coalescing timer that any transmit may start and a burst may pre-empt needs
//! both, so this small timer is local to the net abstraction.

use core::marker::PhantomData;
use kernel::{bindings, prelude::*, types::Opaque};

/// What runs when a [`Timer`] embedded in `Self` fires (once per start, no restart).
///
/// # Safety
///
/// `TIMER_OFFSET` is the offset of a `Timer<Self>` field of `Self`.
pub unsafe trait TimerCallback: Sized + Sync {
    /// `core::mem::offset_of!(Self, <the timer field>)`.
    const TIMER_OFFSET: usize;

    /// The timer fired (hard interrupt context).
    fn fire(this: &Self);
}

/// A one-shot relative `CLOCK_MONOTONIC` timer inside a `T`.
///
/// # Invariants
///
/// `timer` was set up by `hrtimer_setup()` with [`Timer::run`], and the value is pinned
/// inside a `T` at `T::TIMER_OFFSET`. It is cancelled, waiting for its callback, before it is
/// dropped, so the callback never sees a freed `T`.
#[pin_data(PinnedDrop)]
pub struct Timer<T: TimerCallback> {
    #[pin]
    timer: Opaque<bindings::hrtimer>,
    _t: PhantomData<T>,
}

// SAFETY: The hrtimer core serialises operations on a timer across CPUs.
unsafe impl<T: TimerCallback> Sync for Timer<T> {}
// SAFETY: As above.
unsafe impl<T: TimerCallback> Send for Timer<T> {}

impl<T: TimerCallback> Timer<T> {
    /// An initialiser for a stopped timer; it must be a field of `T` at `T::TIMER_OFFSET`.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            timer <- Opaque::ffi_init(|place: *mut bindings::hrtimer| {
                // SAFETY: `place` is the timer's pinned storage; `hrtimer_setup()` needs
                // nothing initialised before it.
                unsafe {
                    bindings::hrtimer_setup(
                        place,
                        Some(Self::run),
                        bindings::CLOCK_MONOTONIC as bindings::clockid_t,
                        bindings::hrtimer_mode_HRTIMER_MODE_REL,
                    )
                }
            }),
            _t: PhantomData,
        })
    }

    /// (Re)starts the timer to fire in `ns` nanoseconds.
    #[inline]
    pub fn start_ns(&self, ns: i64) {
        // SAFETY: By the type invariant the timer is set up and pinned, and it is cancelled
        // before its `T` is freed.
        unsafe {
            bindings::hrtimer_start_range_ns(
                self.timer.get(),
                ns,
                0,
                bindings::hrtimer_mode_HRTIMER_MODE_REL,
            )
        }
    }

    /// `hrtimer_try_to_cancel()`: stops a pending timer without waiting for a running
    /// callback; usable in atomic context.
    #[inline]
    pub fn try_cancel(&self) {
        // SAFETY: By the type invariant the timer is set up.
        unsafe { bindings::hrtimer_try_to_cancel(self.timer.get()) };
    }

    /// `hrtimer_cancel()`: stops the timer and waits for a running callback.
    pub fn cancel(&self) {
        // SAFETY: By the type invariant the timer is set up.
        unsafe { bindings::hrtimer_cancel(self.timer.get()) };
    }

    /// The callback `hrtimer_setup()` registered.
    ///
    /// # Safety
    ///
    /// Only the hrtimer core calls it, for a timer set up by [`Timer::new`].
    unsafe extern "C" fn run(timer: *mut bindings::hrtimer) -> bindings::hrtimer_restart {
        // SAFETY: By the type invariant the timer is the field at `T::TIMER_OFFSET` of a live
        // `T` (`Opaque` has the C struct's address), which is not freed while this runs.
        let this = unsafe { &*timer.byte_sub(T::TIMER_OFFSET).cast::<T>() };
        T::fire(this);
        bindings::hrtimer_restart::HRTIMER_NORESTART
    }
}

#[pinned_drop]
impl<T: TimerCallback> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        self.cancel();
    }
}

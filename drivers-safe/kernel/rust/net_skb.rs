// SPDX-License-Identifier: GPL-2.0

//! Socket buffers as owned values, and a bounded ring that moves them between two contexts.
//!
//! C: `include/linux/skbuff.h`. A [`SkBuff`] is the one reference to a `struct sk_buff` a
//! driver holds: handing it on (to the stack, into a ring) moves it, dropping it frees it, so
//! a frame can be neither leaked nor used after it was passed on.

use core::{cell::UnsafeCell, ptr::NonNull};
use kernel::{
    bindings,
    prelude::*,
    sync::atomic::{Acquire, Atomic, Relaxed, Release},
};

/// An owned socket buffer.
///
/// # Invariants
///
/// `self.0` points to a valid `struct sk_buff` that no one else frees or passes on: the
/// value holds the reference the kernel handed to the driver.
pub struct SkBuff(NonNull<bindings::sk_buff>);

// SAFETY: A socket buffer is not tied to the context that allocated it; the kernel moves
// them between CPUs and contexts all the time.
unsafe impl Send for SkBuff {}

impl SkBuff {
    /// Takes ownership of the buffer `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `struct sk_buff` whose reference the caller owns and gives up.
    #[inline]
    pub unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // SAFETY: By the safety requirements `ptr` is valid, so not null; the invariant holds
        // because the caller gives its reference to the new value.
        Self(unsafe { NonNull::new_unchecked(ptr) })
    }

    /// Gives up ownership: the caller must pass the returned buffer on or free it.
    #[inline]
    pub fn into_raw(self) -> *mut bindings::sk_buff {
        let ptr = self.0.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// The raw pointer, for a C call that takes but does not keep the buffer.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.as_ptr()
    }

    /// The number of bytes in the frame.
    #[inline]
    pub fn len(&self) -> u32 {
        // SAFETY: By the type invariant the buffer is valid, and its owner may read `len`.
        unsafe { (*self.0.as_ptr()).len }
    }
}

impl Drop for SkBuff {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the value holds the only reference, given up here;
        // `kfree_skb()` is this call with no socket and an unspecified reason.
        unsafe {
            bindings::sk_skb_reason_drop(
                core::ptr::null(),
                self.0.as_ptr(),
                bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
            )
        };
    }
}

/// A bounded single-producer, single-consumer ring of owned socket buffers.
///
/// `head` and `tail` run freely; a slot is `index & mask`. One producer context and one
/// consumer context are the caller's to guarantee (the `unsafe` of [`SkbRing::push`] and
/// [`SkbRing::pop`]).
///
/// # Invariants
///
/// - `slots.len() == mask + 1`, a power of two.
/// - The slots `tail..head` hold a buffer, written by the producer before it released
///   `head`; the others are `None`, emptied by the consumer before it released `tail`.
/// - `head - tail <= mask + 1`.
pub struct SkbRing {
    slots: KVVec<UnsafeCell<Option<SkBuff>>>,
    mask: u32,
    head: Atomic<u32>,
    tail: Atomic<u32>,
}

// SAFETY: The slots are shared between one producer and one consumer, which by the type
// invariants never touch the same slot at the same time; the buffers are `Send`.
unsafe impl Sync for SkbRing {}
// SAFETY: The ring owns its buffers, which are `Send`.
unsafe impl Send for SkbRing {}

impl SkbRing {
    /// An empty ring of `size` slots; `size` is a power of two, checked.
    pub fn new(size: u32) -> Result<Self> {
        if !size.is_power_of_two() {
            return Err(EINVAL);
        }
        let mut slots = KVVec::with_capacity(size as usize, GFP_KERNEL)?;
        for _ in 0..size {
            slots.push(UnsafeCell::new(None), GFP_KERNEL)?;
        }
        Ok(Self {
            slots,
            mask: size - 1,
            head: Atomic::new(0),
            tail: Atomic::new(0),
        })
    }

    /// Moves `skb` into the ring; gives it back when the ring is full.
    ///
    /// # Safety
    ///
    /// No other context pushes at the same time.
    #[inline]
    pub unsafe fn push(&self, skb: SkBuff) -> core::result::Result<(), SkBuff> {
        let head = self.head.load(Relaxed);
        // Pairs with the consumer's release of `tail`: the slot it left is free to reuse.
        if head.wrapping_sub(self.tail.load(Acquire)) > self.mask {
            return Err(skb);
        }
        let slot = &self.slots[(head & self.mask) as usize];
        // SAFETY: The slot is outside `tail..head`, so by the type invariants the consumer
        // does not touch it, and by the safety requirements no other producer does.
        unsafe { *slot.get() = Some(skb) };
        // Publishes the slot before the new head; pairs with the consumer's acquire.
        self.head.store(head.wrapping_add(1), Release);
        Ok(())
    }

    /// Moves the oldest buffer out of the ring, if there is one.
    ///
    /// # Safety
    ///
    /// No other context pops at the same time.
    #[inline]
    pub unsafe fn pop(&self) -> Option<SkBuff> {
        let tail = self.tail.load(Relaxed);
        // Pairs with the producer's release of `head`: the slot is filled.
        if tail == self.head.load(Acquire) {
            return None;
        }
        let slot = &self.slots[(tail & self.mask) as usize];
        // SAFETY: The slot is in `tail..head`, so by the type invariants the producer does
        // not touch it, and by the safety requirements no other consumer does.
        let skb = unsafe { (*slot.get()).take() };
        // The slot is emptied before the producer may see it free.
        self.tail.store(tail.wrapping_add(1), Release);
        skb
    }

    /// The slots free now (a snapshot: either side may move on at once).
    #[inline]
    pub fn free_slots(&self) -> u32 {
        let used = self
            .head
            .load(Relaxed)
            .wrapping_sub(self.tail.load(Relaxed));
        (self.mask + 1).wrapping_sub(used)
    }

    /// The number of slots.
    #[inline]
    pub fn size(&self) -> u32 {
        self.mask + 1
    }
}

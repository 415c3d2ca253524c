// SPDX-License-Identifier: GPL-2.0

//! DMA mapping of a request's data for a device: one bvec mapped directly, or the request's
//! segments through a scatterlist (`blk_rq_map_sg()` and `dma_map_sg()`), as rawnvme does.
//!
//! C headers: [`include/linux/blk-mq.h`](srctree/include/linux/blk-mq.h),
//! [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)

use super::{Operations, Request};
use core::cell::UnsafeCell;
use kernel::{bindings, device, prelude::*};

/// The mapping state of one request, kept in its driver data.
///
/// # Invariants
///
/// Only the request's current owner touches `inner`: the driver between `queue_rq` and the
/// device receiving the command, and the completion after the device has finished with it;
/// blk-mq serialises the two. `nents` entries of `sg` are mapped when non-zero, or
/// `single_len` bytes at `sg[0]`'s DMA address.
pub(crate) struct RqDma<const N: usize> {
    inner: UnsafeCell<Inner<N>>,
}

struct Inner<const N: usize> {
    nents: i32,
    mapped: u32,
    single_len: u32,
    sg: [bindings::scatterlist; N],
}

// SAFETY: access is serialised by request ownership (type invariant).
unsafe impl<const N: usize> Sync for RqDma<N> {}
// SAFETY: the scatterlist holds page pointers only, valid on any CPU.
unsafe impl<const N: usize> Send for RqDma<N> {}

/// `rq_dma_dir()`
fn dma_dir<T: Operations>(rq: &Request<T>) -> bindings::dma_data_direction {
    if rq.op() == super::Op::Write {
        bindings::dma_data_direction::DMA_TO_DEVICE
    } else {
        bindings::dma_data_direction::DMA_FROM_DEVICE
    }
}

fn raw_dev(dev: &device::Device<device::Bound>) -> *mut bindings::device {
    // `device::Device` is `#[repr(transparent)]` over `Opaque<bindings::device>`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

impl<const N: usize> RqDma<N> {
    /// An unmapped state.
    pub(crate) fn new() -> Self {
        Self {
            inner: UnsafeCell::new(Inner {
                nents: 0,
                mapped: 0,
                single_len: 0,
                // SAFETY: an all-zero scatterlist array is the state `sg_init_table` starts
                // from.
                sg: unsafe { core::mem::zeroed() },
            }),
        }
    }

    /// Forgets a previous mapping (a fresh request).
    ///
    /// # Safety
    ///
    /// The caller owns the request this state belongs to (type invariant).
    pub(crate) unsafe fn reset(&self) {
        // SAFETY: the caller owns the request.
        let inner = unsafe { &mut *self.inner.get() };
        inner.nents = 0;
        inner.mapped = 0;
        inner.single_len = 0;
    }

    /// Maps a request of one segment within `max_single` bytes of its first page directly
    /// (`dma_map_bvec()`): `Ok(true)` mapped, `Ok(false)` not such a request.
    ///
    /// # Safety
    ///
    /// The caller owns `rq`, whose driver data holds `self`, and `dev` is the device that will
    /// do the DMA.
    pub(crate) unsafe fn map_single<T: Operations>(
        &self,
        rq: &Request<T>,
        dev: &device::Device<device::Bound>,
        max_single: u32,
    ) -> Result<bool> {
        if rq.nr_phys_segments() != 1 {
            return Ok(false);
        }
        let raw = rq.as_ptr();
        // SAFETY: a request with a data segment has a bio; its iterator is not moved while
        // the driver owns the request.
        let (page, offset, len) = unsafe {
            let bio = (*raw).bio;
            let it = (*bio).bi_iter;
            let bv = &*(*bio).bi_io_vec.add(it.bi_idx as usize);
            let len = core::cmp::min(it.bi_size, bv.bv_len - it.bi_offset);
            (bv.bv_page, bv.bv_offset + it.bi_offset, len)
        };
        if len != rq.bytes() || offset + len > max_single {
            return Ok(false);
        }
        // SAFETY: `page` and the range are the request's data, pinned by its bio; `dev` is
        // bound.
        let addr = unsafe {
            bindings::dma_map_page_attrs(raw_dev(dev), page, offset as usize, len as usize,
                                         dma_dir(rq), 0)
        };
        if addr == !0 {
            return Err(ENOMEM);
        }
        // SAFETY: the caller owns the request.
        let inner = unsafe { &mut *self.inner.get() };
        inner.sg[0].dma_address = addr;
        inner.sg[0].dma_length = len;
        inner.single_len = len;
        inner.mapped = 1;
        Ok(true)
    }

    /// Maps every segment of the request (`blk_rq_map_sg()`, `dma_map_sg()`).
    ///
    /// # Safety
    ///
    /// As for [`Self::map_single`]; the request has at most `N` physical segments (the
    /// queue's `max_segments`).
    pub(crate) unsafe fn map_sg<T: Operations>(
        &self,
        rq: &Request<T>,
        dev: &device::Device<device::Bound>,
    ) -> Result {
        // SAFETY: the caller owns the request.
        let inner = unsafe { &mut *self.inner.get() };
        let segs = rq.nr_phys_segments() as u32;
        if segs as usize > N {
            return Err(EIO);
        }
        let mut last = core::ptr::null_mut();
        // SAFETY: `sg` has room for `segs` entries; the request is owned and valid.
        let nents = unsafe {
            bindings::sg_init_table(inner.sg.as_mut_ptr(), segs);
            bindings::__blk_rq_map_sg(rq.as_ptr(), inner.sg.as_mut_ptr(), &mut last)
        };
        if nents <= 0 {
            return Err(EIO);
        }
        // SAFETY: `nents` entries were filled from the request's pages; `dev` is bound.
        let mapped = unsafe {
            bindings::dma_map_sg_attrs(raw_dev(dev), inner.sg.as_mut_ptr(), nents, dma_dir(rq),
                                       bindings::DMA_ATTR_NO_WARN as _)
        };
        if mapped == 0 {
            return Err(ENOMEM);
        }
        inner.nents = nents;
        inner.mapped = mapped;
        Ok(())
    }

    /// The DMA address and length of mapped entry `i`.
    ///
    /// # Safety
    ///
    /// The caller owns the request and mapped it.
    pub(crate) unsafe fn entry(&self, i: usize) -> Option<(u64, u32)> {
        // SAFETY: the caller owns the request.
        let inner = unsafe { &*self.inner.get() };
        if i >= inner.mapped as usize {
            return None;
        }
        let sg = &inner.sg[i];
        Some((sg.dma_address, sg.dma_length))
    }

    /// Undoes the mapping, if any.
    ///
    /// # Safety
    ///
    /// The caller owns `rq` and the device no longer accesses its data.
    pub(crate) unsafe fn unmap<T: Operations>(
        &self,
        rq: &Request<T>,
        dev: &device::Device<device::Bound>,
    ) {
        // SAFETY: the caller owns the request.
        let inner = unsafe { &mut *self.inner.get() };
        if inner.single_len != 0 {
            // SAFETY: mapped by `map_single` on `dev` with this direction.
            unsafe {
                bindings::dma_unmap_page_attrs(raw_dev(dev), inner.sg[0].dma_address,
                                               inner.single_len as usize, dma_dir(rq), 0)
            };
            inner.single_len = 0;
            inner.mapped = 0;
            return;
        }
        if inner.nents == 0 {
            return;
        }
        // SAFETY: mapped by `map_sg` on `dev` with this direction and `nents` entries.
        unsafe {
            bindings::dma_unmap_sg_attrs(raw_dev(dev), inner.sg.as_mut_ptr(), inner.nents,
                                         dma_dir(rq), 0)
        };
        inner.nents = 0;
        inner.mapped = 0;
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The data of a request as single-page segments (`__rq_for_each_bio` with
//! `bio_for_each_segment`), and copies between a segment and a page.
//!
//! C header: [`include/linux/bvec.h`](srctree/include/linux/bvec.h)

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::{code::EINVAL, Result},
    page::{Page, PAGE_SIZE},
};

/// Iterator over the single-page segments of a request's bios.
///
/// # Invariants
///
/// `bio` is null or a bio of a request the driver owns for `'a`; `iter` is a position
/// inside `bio`'s vector (`bio_for_each_segment` semantics).
pub(crate) struct Segments<'a> {
    bio: *mut bindings::bio,
    iter: bindings::bvec_iter,
    _p: PhantomData<&'a ()>,
}

impl Segments<'_> {
    /// Starts at the first bio of a request.
    ///
    /// # Safety
    ///
    /// `bio` is null or the head of the bio chain of a request the driver owns for the
    /// iterator's lifetime.
    pub(super) unsafe fn new(bio: *mut bindings::bio) -> Self {
        let iter = if bio.is_null() {
            bindings::bvec_iter::default()
        } else {
            // SAFETY: `bio` is a valid bio, by the safety requirements.
            unsafe { (*bio).bi_iter }
        };
        Self {
            bio,
            iter,
            _p: PhantomData,
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        while self.iter.bi_size == 0 {
            if self.bio.is_null() {
                return None;
            }
            // SAFETY: by the type invariants `self.bio` is a valid bio of the request.
            self.bio = unsafe { (*self.bio).bi_next };
            if self.bio.is_null() {
                return None;
            }
            // SAFETY: as above, for the next bio of the chain.
            self.iter = unsafe { (*self.bio).bi_iter };
        }
        // SAFETY: `bi_size` is not zero, so `bi_idx` indexes a vector entry of the bio.
        let bv = unsafe { &*(*self.bio).bi_io_vec.add(self.iter.bi_idx as usize) };
        let start = (bv.bv_offset + self.iter.bi_offset) as usize;
        let offset = start % PAGE_SIZE;
        let len = (self.iter.bi_size as usize)
            .min((bv.bv_len - self.iter.bi_offset) as usize)
            .min(PAGE_SIZE - offset);
        // SAFETY: the entry's pages are contiguous `struct page`s (a multi-page bvec), and
        // `start` lies inside the entry.
        let page = unsafe { bv.bv_page.add(start / PAGE_SIZE) };
        let done = self.iter.bi_offset as usize + len;
        self.iter.bi_size -= len as u32;
        if done == bv.bv_len as usize {
            self.iter.bi_idx += 1;
            self.iter.bi_offset = 0;
        } else {
            self.iter.bi_offset = done as u32;
        }
        // INVARIANT: `offset + len <= PAGE_SIZE`, inside the request's buffer.
        Some(Segment {
            page,
            offset,
            len,
            _p: PhantomData,
        })
    }
}

/// One segment of a request's buffer: `len` bytes at `offset` of one page.
///
/// # Invariants
///
/// `page` is a page of the buffer of a request the driver owns for `'a`, and
/// `offset + len <= PAGE_SIZE`.
pub(crate) struct Segment<'a> {
    page: *mut bindings::page,
    offset: usize,
    len: usize,
    _p: PhantomData<&'a ()>,
}

impl Segment<'_> {
    /// The segment's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Checks that `[at, at + len)` lies inside the segment.
    fn check(&self, at: usize, len: usize) -> Result {
        match at.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// Runs `f` on the segment's bytes from `at`, mapped (`kmap_local_page`).
    fn mapped<R>(&self, at: usize, f: impl FnOnce(*mut u8) -> R) -> R {
        // SAFETY: by the type invariants `self.page` is a valid page.
        let base = unsafe { bindings::kmap_local_page(self.page) }.cast::<u8>();
        // SAFETY: `offset + at` is inside the mapped page (callers checked `at`).
        let ret = f(unsafe { base.add(self.offset + at) });
        // SAFETY: `base` is the mapping made above, the last one made on this CPU.
        unsafe { bindings::kunmap_local(base.cast()) };
        ret
    }

    /// Copies `len` bytes from the segment at `at` to `page` at `page_off`.
    pub(crate) fn copy_to_page(
        &self,
        at: usize,
        page: &Page,
        page_off: usize,
        len: usize,
    ) -> Result {
        self.check(at, len)?;
        // SAFETY: `src` is valid for reads of `len` bytes (checked above); `write_raw`
        // checks `page_off + len` against the page.
        self.mapped(at, |src| unsafe { page.write_raw(src, page_off, len) })
    }

    /// Copies `len` bytes from `page` at `page_off` to the segment at `at`.
    pub(crate) fn copy_from_page(
        &self,
        at: usize,
        page: &Page,
        page_off: usize,
        len: usize,
    ) -> Result {
        self.check(at, len)?;
        // SAFETY: `dst` is valid for writes of `len` bytes (checked above); `read_raw`
        // checks `page_off + len` against the page.
        self.mapped(at, |dst| unsafe { page.read_raw(dst, page_off, len) })
    }

    /// Zeroes `len` bytes of the segment at `at`.
    pub(crate) fn zero(&self, at: usize, len: usize) -> Result {
        self.check(at, len)?;
        // SAFETY: `dst` is valid for writes of `len` bytes (checked above).
        self.mapped(at, |dst| unsafe { core::ptr::write_bytes(dst, 0, len) });
        Ok(())
    }
}

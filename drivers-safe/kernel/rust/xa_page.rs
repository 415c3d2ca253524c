// SPDX-License-Identifier: GPL-2.0

//! An owned page that the kernel crate's `XArray` can hold: the crate's `Page` is not
//! `ForeignOwnable`, and boxing it would add an allocation and an indirection the C twins'
//! page stores (an xarray of `struct page *`) do not have.

use core::{ffi::c_void, mem::ManuallyDrop, ptr::NonNull};
use kernel::{
    alloc::{AllocError, Flags},
    bindings,
    page::{BorrowedPage, Page},
    types::ForeignOwnable,
};

/// One order-0 page, owned; stored in an `XArray` as its `struct page *`.
///
/// # Invariants
///
/// `0` is an order-0 page allocated by [`Page::alloc_page`] and owned by this value.
pub(crate) struct XaPage(NonNull<bindings::page>);

// SAFETY: the page is owned, not tied to a thread; it may be freed on any CPU.
unsafe impl Send for XaPage {}

// SAFETY: `&XaPage` only gives a `BorrowedPage`, whose accessors are safe from any thread.
unsafe impl Sync for XaPage {}

impl XaPage {
    /// Allocates a page (`alloc_page`).
    pub(crate) fn alloc(flags: Flags) -> Result<Self, AllocError> {
        let page = ManuallyDrop::new(Page::alloc_page(flags)?);
        // SAFETY: `as_ptr` of a live `Page` is a valid page pointer.
        // INVARIANT: the page's ownership moves here from the `Page` not dropped above.
        Ok(Self(unsafe { NonNull::new_unchecked(page.as_ptr()) }))
    }
}

impl XaPage {
    /// The page, borrowed.
    pub(crate) fn page(&self) -> BorrowedPage<'_> {
        // SAFETY: by the type invariants the page is valid and owned for `self`'s life.
        unsafe { BorrowedPage::from_raw(self.0) }
    }
}

impl Drop for XaPage {
    fn drop(&mut self) {
        // SAFETY: by the type invariants the page is ours, order 0, freed once.
        unsafe { bindings::__free_pages(self.0.as_ptr(), 0) };
    }
}

// SAFETY: `into_foreign` gives the page pointer, aligned as `struct page`;
// `from_foreign` and `borrow` take it back, `borrow` without ownership.
unsafe impl ForeignOwnable for XaPage {
    const FOREIGN_ALIGN: usize = core::mem::align_of::<bindings::page>();
    type Borrowed<'a> = BorrowedPage<'a>;
    type BorrowedMut<'a> = BorrowedPage<'a>;

    fn into_foreign(self) -> *mut c_void {
        ManuallyDrop::new(self).0.as_ptr().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: `ptr` came from `into_foreign`, by the trait's safety requirements.
        Self(unsafe { NonNull::new_unchecked(ptr.cast()) })
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> BorrowedPage<'a> {
        // SAFETY: `ptr` came from `into_foreign` and stays owned for `'a`.
        unsafe { BorrowedPage::from_raw(NonNull::new_unchecked(ptr.cast())) }
    }

    unsafe fn borrow_mut<'a>(ptr: *mut c_void) -> BorrowedPage<'a> {
        // SAFETY: as for `borrow`.
        unsafe { Self::borrow(ptr) }
    }
}

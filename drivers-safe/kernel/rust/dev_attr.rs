// SPDX-License-Identifier: GPL-2.0

//! A write-only sysfs attribute of a bound device, created and removed by the driver
//! (`device_create_file()`), whose store calls the driver with its shared data. The crate's
//! `pci::Driver` has no `dev_groups`, so the NVMe twin's `reset_controller` is made this way.
//! Counted as layer, not driver.

use core::marker::PhantomPinned;
use kernel::{bindings, device, error::to_result, prelude::*, sync::Arc, types::Opaque};

/// The attribute and what its store reaches.
///
/// # Invariants
///
/// `attr` is registered on `dev` from `new` until drop; `device_remove_file()` in drop waits
/// for a store running meanwhile, so `data` outlives every store.
#[pin_data(PinnedDrop)]
pub(crate) struct WriteAttr<T: Send + Sync> {
    #[pin]
    attr: Opaque<bindings::device_attribute>,
    dev: *mut bindings::device,
    data: Arc<T>,
    store: fn(&Arc<T>) -> Result,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the attribute is only touched by sysfs (which serialises with removal) and drop.
unsafe impl<T: Send + Sync> Send for WriteAttr<T> {}
// SAFETY: as for `Send`; `&self` gives no access to the attribute.
unsafe impl<T: Send + Sync> Sync for WriteAttr<T> {}

unsafe extern "C" fn write_attr_store<T: Send + Sync>(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    _buf: *const kernel::ffi::c_char,
    count: usize,
) -> isize {
    // SAFETY: `attr` is the `attr` field of a live `WriteAttr<T>` (type invariant: stores
    // end before it is dropped); `Opaque` is `#[repr(transparent)]`.
    let this = unsafe { &*kernel::container_of!(attr.cast::<Opaque<bindings::device_attribute>>(),
                                                WriteAttr<T>, attr) };
    match (this.store)(&this.data) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

impl<T: Send + Sync> WriteAttr<T> {
    /// Creates `name` (mode 0200) on `dev`; a write calls `store(&data)`.
    ///
    /// # Safety
    ///
    /// `dev` stays registered until the returned attribute is dropped.
    pub(crate) unsafe fn new(
        dev: &device::Device<device::Bound>,
        name: &'static CStr,
        data: Arc<T>,
        store: fn(&Arc<T>) -> Result,
    ) -> impl PinInit<Self, Error> {
        // `device::Device` is `#[repr(transparent)]` over `Opaque<bindings::device>`.
        let dev: *mut bindings::device = core::ptr::from_ref(dev).cast_mut().cast();
        try_pin_init!(&this in Self {
            attr: Opaque::new(bindings::device_attribute {
                attr: bindings::attribute { name: name.as_char_ptr(), mode: 0o200 },
                __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 {
                    store: Some(write_attr_store::<T>),
                },
                // SAFETY: the other members are optional callbacks; all-zero is `None`.
                ..unsafe { core::mem::zeroed() }
            }),
            dev,
            data,
            store,
            _pin: PhantomPinned,
            _: {
                // SAFETY: `dev` is registered (safety requirements); the attribute is pinned in
                // `this` and removed in drop before it moves or goes.
                to_result(unsafe {
                    let attr = Opaque::cast_into(&raw const (*this.as_ptr()).attr);
                    bindings::device_create_file(*dev, attr)
                })?;
            },
        })
    }
}

#[pinned_drop]
impl<T: Send + Sync> PinnedDrop for WriteAttr<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered on `dev` by `new` (type invariant); this waits for running stores.
        unsafe { bindings::device_remove_file(self.dev, self.attr.get()) };
    }
}

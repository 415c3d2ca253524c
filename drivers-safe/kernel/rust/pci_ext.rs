// SPDX-License-Identifier: GPL-2.0

//! PCI, DMA and interrupt pieces the 7.3 kernel crate does not have, for the Rust twins.
//!
//! The crate's `pci::IrqVector` ties each handler to a borrow of its vector allocation, so the
//! two cannot both live in a driver's per-device data; a queue's handler must also be masked,
//! synchronised and freed while the device stays bound. [`IrqVectors`] owns the allocation and
//! [`IrqLine`] one handler on one vector, holding a reference on the object it serves. The
//! rest are single calls the crate does not wrap: the DMA minimum alignment mask, clearing bus
//! mastering, masking a line. The crate's `pci::Adapter` sets only `probe` and `remove`;
//! [`ShutdownAdapter`] registers the same driver with a `shutdown` callback too (reboot and
//! power-off). Counted as layer, not driver.

use core::{ffi::c_void, marker::PhantomData};
use kernel::{
    bindings, device, driver, error::to_result, irq, pci, prelude::*, sync::Arc, types::Opaque,
    ThisModule,
};

/// The `struct pci_dev` behind `pdev` (the crate keeps its own accessor private).
fn raw_pci(pdev: &pci::Device<device::Bound>) -> *mut bindings::pci_dev {
    // `pci::Device` is `#[repr(transparent)]` over `Opaque<bindings::pci_dev>`.
    core::ptr::from_ref(pdev).cast_mut().cast()
}

/// The `struct device` behind `dev`.
fn raw_dev(dev: &device::Device<device::Bound>) -> *mut bindings::device {
    // `device::Device` is `#[repr(transparent)]` over `Opaque<bindings::device>`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Masks interrupt line `irq` and waits for a running handler (`disable_irq()`).
///
/// # Safety
///
/// `irq` has a handler registered (an [`IrqLine`] of the caller's is alive).
pub(crate) unsafe fn disable_irq(irq: u32) {
    // SAFETY: by the safety requirements.
    unsafe { bindings::disable_irq(irq) };
}

/// Unmasks interrupt line `irq` again (`enable_irq()`), once per [`disable_irq`].
///
/// # Safety
///
/// As for [`disable_irq`].
pub(crate) unsafe fn enable_irq(irq: u32) {
    // SAFETY: by the safety requirements.
    unsafe { bindings::enable_irq(irq) };
}

/// Waits for a handler of `irq` running on another CPU (`synchronize_irq()`).
///
/// # Safety
///
/// As for [`disable_irq`].
pub(crate) unsafe fn synchronize_irq(irq: u32) {
    // SAFETY: by the safety requirements.
    unsafe { bindings::synchronize_irq(irq) };
}

/// Keeps bounce buffers (swiotlb) at the same offset within `mask + 1` bytes as the original
/// buffer (`dma_set_min_align_mask()`); a no-op on a device without DMA parameters.
pub(crate) fn set_min_align_mask(dev: &device::Device<device::Bound>, mask: u32) {
    let raw = raw_dev(dev);
    // SAFETY: `raw` is a valid bound `struct device` by the type invariant of `dev`; its
    // `dma_parms`, when set, points to parameters owned by the bus device, written only during
    // probe as here.
    unsafe {
        let parms = (*raw).dma_parms;
        if !parms.is_null() {
            (*parms).min_align_mask = mask;
        }
    }
}

/// Stops the device from mastering the bus (`pci_clear_master()`).
pub(crate) fn clear_master(pdev: &pci::Device<device::Bound>) {
    // SAFETY: `raw_pci(pdev)` is a valid `struct pci_dev` by the type invariant of `pdev`.
    unsafe { bindings::pci_clear_master(raw_pci(pdev)) };
}

/// Which interrupt kinds an allocation may use (`PCI_IRQ_*`).
#[derive(Clone, Copy)]
pub(crate) struct IrqKinds(u32);

impl IrqKinds {
    /// MSI-X, then MSI, then INTx, spread over the CPUs.
    pub(crate) const ALL_AFFINE: Self =
        Self(bindings::PCI_IRQ_ALL_TYPES | bindings::PCI_IRQ_AFFINITY);
    /// MSI, then INTx, spread over the CPUs.
    pub(crate) const MSI_AFFINE: Self =
        Self(bindings::PCI_IRQ_MSI | bindings::PCI_IRQ_INTX | bindings::PCI_IRQ_AFFINITY);
    /// The legacy INTx line only.
    pub(crate) const INTX: Self = Self(bindings::PCI_IRQ_INTX);
}

/// An allocation of interrupt vectors of one PCI device.
///
/// # Invariants
///
/// `pdev` holds `len` vectors from `pci_alloc_irq_vectors()`, freed on drop; `pdev` stays
/// bound while this exists (it lives in the device's driver data).
pub(crate) struct IrqVectors {
    pdev: *mut bindings::pci_dev,
    len: u32,
}

// SAFETY: The allocation is a property of the device, usable from any thread.
unsafe impl Send for IrqVectors {}
// SAFETY: All methods take `&self` and only read the device's vector table.
unsafe impl Sync for IrqVectors {}

impl IrqVectors {
    /// Allocates between `min` and `max` vectors of the given kinds.
    pub(crate) fn alloc(
        pdev: &pci::Device<device::Bound>,
        min: u32,
        max: u32,
        kinds: IrqKinds,
    ) -> Result<Self> {
        // SAFETY: `raw_pci(pdev)` is a valid bound `struct pci_dev`.
        let ret = unsafe { bindings::pci_alloc_irq_vectors(raw_pci(pdev), min, max, kinds.0) };
        to_result(ret)?;
        // INVARIANT: `ret` vectors were allocated for `pdev`.
        Ok(Self { pdev: raw_pci(pdev), len: ret as u32 })
    }

    /// How many vectors were granted.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The Linux interrupt number of vector `index`.
    pub(crate) fn irq(&self, index: u32) -> Result<u32> {
        if index >= self.len {
            return Err(EINVAL);
        }
        // SAFETY: `self.pdev` is valid and holds `self.len` vectors by the type invariant.
        let irq = unsafe { bindings::pci_irq_vector(self.pdev, index) };
        to_result(irq)?;
        Ok(irq as u32)
    }

    /// Whether the vectors are MSI-X ones (the others may share a line).
    pub(crate) fn msix(&self) -> bool {
        // SAFETY: `self.pdev` is valid by the type invariant.
        unsafe { (*self.pdev).msix_enabled() != 0 }
    }

    /// Whether the vectors are MSI ones.
    pub(crate) fn msi(&self) -> bool {
        // SAFETY: `self.pdev` is valid by the type invariant.
        unsafe { (*self.pdev).msi_enabled() != 0 }
    }
}

impl Drop for IrqVectors {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, `self.pdev` holds vectors from `pci_alloc_irq_vectors`;
        // every `IrqLine` on them was dropped first (the owner drops lines before vectors).
        unsafe { bindings::pci_free_irq_vectors(self.pdev) };
    }
}

/// One handler registered on one interrupt line, serving a shared object `T`.
///
/// # Invariants
///
/// `irq` has a handler registered with `request_irq()` whose cookie is `Arc::as_ptr(&data)`;
/// the `Arc` held here keeps the cookie valid until `free_irq()` in drop.
pub(crate) struct IrqLine<T: irq::Handler + Send> {
    irq: u32,
    data: Arc<T>,
}

unsafe extern "C" fn irq_line_callback<T: irq::Handler + Send>(
    _irq: i32,
    cookie: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: `cookie` is `Arc::as_ptr()` of the `Arc<T>` an `IrqLine` holds until after
    // `free_irq()`, so it points to a live `T` (type invariant of `IrqLine`).
    let data = unsafe { &*cookie.cast_const().cast::<T>() };
    bindings::irqreturn_t(data.handle() as u32)
}

impl<T: irq::Handler + Send> IrqLine<T> {
    /// Registers `data`'s handler on vector `index` of `vectors`, shared if `shared`.
    ///
    /// # Safety
    ///
    /// The returned line must be dropped (not forgotten) before anything `T` borrows ends.
    pub(crate) unsafe fn request(
        vectors: &IrqVectors,
        index: u32,
        shared: bool,
        name: &'static CStr,
        data: Arc<T>,
    ) -> Result<Self> {
        let irq = vectors.irq(index)?;
        let flags = if shared { bindings::IRQF_SHARED as usize } else { 0 };
        // SAFETY: `irq` is a vector of a bound device; the callback matches the prototype
        // `request_irq` expects and the cookie stays valid while registered (held `Arc`).
        to_result(unsafe {
            bindings::request_irq(irq, Some(irq_line_callback::<T>), flags,
                                  name.as_char_ptr(), Arc::as_ptr(&data).cast_mut().cast())
        })?;
        // INVARIANT: the handler is registered with the cookie of `data`.
        Ok(Self { irq, data })
    }
}

impl<T: irq::Handler + Send> Drop for IrqLine<T> {
    fn drop(&mut self) {
        // SAFETY: `self.irq` has a handler registered with this cookie (type invariant); after
        // `free_irq()` returns no handler runs, so `self.data` may go.
        unsafe { bindings::free_irq(self.irq, Arc::as_ptr(&self.data).cast_mut().cast()) };
    }
}

/// A PCI driver that is told when the machine reboots or powers off with a device bound
/// (`struct pci_driver.shutdown`), which the crate's [`pci::Driver`] cannot express.
pub(crate) trait ShutdownDriver: pci::Driver + 'static {
    /// Quiesces the bound device `dev` for reboot or power-off; `this` is its driver data.
    fn shutdown<'bound>(dev: &'bound pci::Device<device::Core<'_>>, this: Pin<&Self::Data<'bound>>);
}

/// Registers a [`ShutdownDriver`]: the crate's [`pci::Adapter`] (its `probe`, `remove`, driver
/// data and unbind handling unchanged) with `shutdown` set before the driver is registered.
/// Use as `driver::Registration<ShutdownAdapter<T>>`.
pub(crate) struct ShutdownAdapter<T: ShutdownDriver>(PhantomData<T>);

// SAFETY: the layout is `pci::Adapter<T>`'s: the same `repr(C)` `struct pci_driver` with its
// embedded `struct device_driver` at the same offset, and the same driver data type.
unsafe impl<T: ShutdownDriver> driver::DriverLayout for ShutdownAdapter<T> {
    type DriverType = bindings::pci_driver;
    type DriverData<'bound> = T::Data<'bound>;
    const DEVICE_DRIVER_OFFSET: usize =
        <pci::Adapter<T> as driver::DriverLayout>::DEVICE_DRIVER_OFFSET;
}

// SAFETY: `register` and `unregister` are `pci::Adapter<T>`'s, whose pairing holds.
unsafe impl<T: ShutdownDriver> driver::RegistrationOps for ShutdownAdapter<T> {
    unsafe fn register(
        pdrv: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        // SAFETY: `pdrv` is valid and not yet registered, so its fields may be set;
        // `pci::Adapter::register` sets the others and leaves `shutdown` alone.
        unsafe { (*pdrv.get()).shutdown = Some(shutdown_callback::<T>) };
        // SAFETY: by the safety requirements `pdrv` stays pinned until `unregister`.
        unsafe { <pci::Adapter<T> as driver::RegistrationOps>::register(pdrv, name, module) }
    }

    unsafe fn unregister(pdrv: &Opaque<Self::DriverType>) {
        // SAFETY: `register` succeeded for `pdrv`, by the safety requirements.
        unsafe { <pci::Adapter<T> as driver::RegistrationOps>::unregister(pdrv) }
    }
}

/// `shutdown` of the C driver: the bound device's driver data to [`ShutdownDriver::shutdown`].
unsafe extern "C" fn shutdown_callback<T: ShutdownDriver>(pdev: *mut bindings::pci_dev) {
    // SAFETY: the PCI core calls `shutdown` with a valid `struct pci_dev` bound to this driver,
    // under its device lock; `pci::Device` is `#[repr(transparent)]` over it.
    let pci = unsafe { &*pdev.cast::<pci::Device<device::Core<'_>>>() };
    // SAFETY: `pdev` is valid; its `dev` is a `struct device`, over which `device::Device` is
    // `#[repr(transparent)]`; the device lock is held, as the core context requires.
    let dev =
        unsafe { &*(&raw mut (*pdev).dev).cast::<device::Device<device::CoreInternal<'_>>>() };
    // SAFETY: `pdev->driver` is this driver only after `pci::Adapter`'s probe succeeded, which
    // stored a `Pin<KBox<T::Data>>` (`set_drvdata`); it is dropped only after unbind.
    let data = unsafe { dev.drvdata_borrow::<T::Data<'_>>() };
    T::shutdown(pci, data);
}

// SPDX-License-Identifier: GPL-2.0

//! A blk-mq disk: allocation with its queue limits, registration, and removal on drop.
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)

use super::{Operations, TagSet};
use core::fmt::{self, Write};
use kernel::{
    bindings, error,
    prelude::*,
    str::NullTerminatedFormatter,
    sync::Arc,
    types::{ForeignOwnable, ScopeGuard},
};

/// `BLK_FEAT_WRITE_CACHE` and `BLK_FEAT_FUA` of include/linux/blkdev.h (cast macros bindgen
/// does not export).
const BLK_FEAT_WRITE_CACHE: bindings::blk_features_t = 1 << 0;
const BLK_FEAT_FUA: bindings::blk_features_t = 1 << 1;

/// The disks' `block_device_operations`: none but the owner, so an open disk pins the module.
struct Fops(bindings::block_device_operations);

// SAFETY: the table is never written after it is built.
unsafe impl Sync for Fops {}

static FOPS: Fops = Fops(bindings::block_device_operations {
    owner: &raw const bindings::__this_module as *mut bindings::module,
    // SAFETY: every other member is an optional callback or pointer; all-zero is `None`/null.
    ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
});

/// The settings of a disk to build, as `kernel::block::mq::gen_disk::GenDiskBuilder` plus
/// the request limits and the write cache the C twins set (drivers-raw/compat.h,
/// `struct compat_disk_limits`). The physical block size is the logical one.
pub(crate) struct GenDiskBuilder {
    logical_block_size: u32,
    max_hw_sectors: u32,
    max_segments: u16,
    virt_boundary_mask: usize,
    write_cache: bool,
    fua: bool,
    capacity_sectors: u64,
    parent: *mut bindings::device,
}

impl GenDiskBuilder {
    /// A 512-byte-block disk of no capacity, block layer default request size, no cache.
    pub(crate) fn new() -> Self {
        Self {
            logical_block_size: bindings::SECTOR_SIZE,
            max_hw_sectors: 0,
            max_segments: 0,
            virt_boundary_mask: 0,
            write_cache: false,
            fua: false,
            capacity_sectors: 0,
            parent: core::ptr::null_mut(),
        }
    }

    /// The device the disk sits under in sysfs (a PCI function for a controller's
    /// namespaces).
    ///
    /// # Safety
    ///
    /// `parent` stays registered until the disk built from this is dropped (a driver keeps
    /// its disks in the device's driver data).
    pub(crate) unsafe fn parent(mut self, parent: &kernel::device::Device) -> Self {
        // `device::Device` is `#[repr(transparent)]` over `Opaque<bindings::device>`.
        self.parent = core::ptr::from_ref(parent).cast_mut().cast();
        self
    }

    /// The logical block size: a power of two from 512 bytes to a page.
    pub(crate) fn logical_block_size(mut self, size: u32) -> Result<Self> {
        if !(bindings::SECTOR_SIZE..=bindings::PAGE_SIZE as u32).contains(&size)
            || !size.is_power_of_two()
        {
            return Err(EINVAL);
        }
        self.logical_block_size = size;
        Ok(self)
    }

    /// The largest request in sectors (0: the block layer's default).
    pub(crate) fn max_hw_sectors(mut self, sectors: u32) -> Self {
        self.max_hw_sectors = sectors;
        self
    }

    /// The most segments in a request (0: the block layer's default).
    pub(crate) fn max_segments(mut self, segments: u16) -> Self {
        self.max_segments = segments;
        self
    }

    /// The boundary no segment but the first and last may cross inside (0: none).
    pub(crate) fn virt_boundary_mask(mut self, mask: usize) -> Self {
        self.virt_boundary_mask = mask;
        self
    }

    /// Whether the disk has a volatile write cache (flushes reach the driver).
    pub(crate) fn write_cache(mut self, on: bool) -> Self {
        self.write_cache = on;
        self
    }

    /// Whether writes may ask for forced unit access (with a write cache only).
    pub(crate) fn fua(mut self, on: bool) -> Self {
        self.fua = on;
        self
    }

    /// The capacity in 512-byte sectors.
    pub(crate) fn capacity_sectors(mut self, sectors: u64) -> Self {
        self.capacity_sectors = sectors;
        self
    }

    /// Allocates the disk on `tagset` with `queue_data`, names it and adds it.
    pub(crate) fn build<T: Operations>(
        self,
        name: fmt::Arguments<'_>,
        tagset: Arc<TagSet<T>>,
        queue_data: T::QueueData,
    ) -> Result<GenDisk<T>> {
        let data = queue_data.into_foreign();
        // SAFETY: `data` came from `into_foreign` above and is not used after this guard.
        let recover_data =
            ScopeGuard::new(move || drop(unsafe { T::QueueData::from_foreign(data) }));

        let mut lim: bindings::queue_limits = pin_init::zeroed();
        lim.logical_block_size = self.logical_block_size;
        lim.physical_block_size = self.logical_block_size;
        lim.max_hw_sectors = self.max_hw_sectors;
        lim.max_segments = self.max_segments;
        lim.virt_boundary_mask = self.virt_boundary_mask as _;
        if self.write_cache {
            lim.features = BLK_FEAT_WRITE_CACHE | if self.fua { BLK_FEAT_FUA } else { 0 };
        }
        // SAFETY: the tag set is allocated (type invariant of `TagSet`) and outlives the
        // disk (the disk holds its `Arc`); `lim` is valid for the call.
        let disk = error::from_err_ptr(unsafe {
            bindings::__blk_mq_alloc_disk(
                tagset.as_ptr(),
                &mut lim,
                data,
                kernel::static_lock_class!().as_ptr(),
            )
        })?;
        // SAFETY: `disk` was allocated above and not added; `put_disk` frees it.
        let put = ScopeGuard::new(move || unsafe { bindings::put_disk(disk) });

        // SAFETY: `disk` is valid and not yet visible to anyone else.
        unsafe { (*disk).fops = &FOPS.0 };
        // SAFETY: as above; `disk_name` is a plain byte array of the disk.
        let name_buf = unsafe { &mut *(&raw mut (*disk).disk_name).cast::<[u8; 32]>() };
        NullTerminatedFormatter::new(name_buf)
            .ok_or(EINVAL)?
            .write_fmt(name)
            .map_err(|_| EINVAL)?;
        // SAFETY: `disk` is valid.
        unsafe { bindings::set_capacity(disk, self.capacity_sectors) };
        // SAFETY: `disk` is valid and fully set up; on failure it is still ours to put.
        error::to_result(unsafe {
            bindings::device_add_disk(self.parent, disk, core::ptr::null_mut())
        })?;

        put.dismiss();
        recover_data.dismiss();
        // INVARIANT: `disk` was added with `data` as its queue data.
        Ok(GenDisk {
            _tagset: tagset,
            disk,
        })
    }
}

/// An added blk-mq disk of driver `T`; dropping it removes the disk.
///
/// # Invariants
///
/// `disk` was added by [`GenDiskBuilder::build`] on `_tagset`, and its queue's `queuedata`
/// came from `T::QueueData::into_foreign`.
pub(crate) struct GenDisk<T: Operations> {
    _tagset: Arc<TagSet<T>>,
    disk: *mut bindings::gendisk,
}

// SAFETY: the disk may be removed from any thread; the queue data is `Sync`.
unsafe impl<T: Operations> Send for GenDisk<T> where T::QueueData: Send {}

// SAFETY: `GenDisk` has no `&self` methods that touch the disk.
unsafe impl<T: Operations> Sync for GenDisk<T> where T::QueueData: Send {}

impl<T: Operations> Drop for GenDisk<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariants `disk` is an added disk with a live queue.
        let data = unsafe { (*(*self.disk).queue).queuedata };
        // SAFETY: the disk was added and is removed once; no request is in flight after
        // `del_gendisk`.
        unsafe { bindings::del_gendisk(self.disk) };
        // SAFETY: the disk is removed; this drops the reference `build` took.
        unsafe { bindings::put_disk(self.disk) };
        // SAFETY: `data` came from `into_foreign` and the queue no longer uses it.
        drop(unsafe { T::QueueData::from_foreign(data) });
    }
}

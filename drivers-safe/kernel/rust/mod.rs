// SPDX-License-Identifier: GPL-2.0

//! The Rust twins' local abstractions: what the kernel crate of the 7.x line lacks, written
//! in the crate's style over `kernel::bindings`.
//!
//! Each Rust twin includes this folder as its `layer` module (`#[path]`), so every module
//! carries its own copy, as each safe C twin carries its copy of the header-only safe layer.
//! In the instruction profiles, functions under `layer::` (and the kernel crate's generics
//! monomorphised into the module) count as layer, the twin's own functions as driver.
//!
//! - [`blk_mq`] replaces `kernel::block::mq` (it cannot be extended from outside the crate):
//!   the same request ownership count and vtable glue, plus per-request driver data, an
//!   hrtimer in the request, ending a request with a status, and a segment iterator.
//! - [`cpu`] counts the online CPUs.
//! - [`dev_attr`]: a write-only sysfs attribute a driver adds to its bound device.
//! - [`pci_ext`]: interrupt vectors and handlers of a PCI device that live in its driver data,
//!   the DMA minimum alignment mask, clearing bus mastering, a driver with a `shutdown`
//!   callback (the NVMe twin).
//! - [`work_ext`] waits out a work item (`cancel_work_sync`).
//! - [`xa_page`] lets the crate's `XArray` hold pages, as the C twins' page stores do.

pub(crate) mod blk_mq;
pub(crate) mod cpu;
pub(crate) mod dev_attr;
pub(crate) mod pci_ext;
pub(crate) mod work_ext;
pub(crate) mod xa_page;

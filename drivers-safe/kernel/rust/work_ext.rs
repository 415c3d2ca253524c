// SPDX-License-Identifier: GPL-2.0

//! Waiting out a work item, which the 7.3 kernel crate's `workqueue` cannot do.
//!
//! A driver whose work item holds a reference on the driver's data still has to wait for a
//! running item before unbind returns: after the item's last access, its code (the reference's
//! drop, the return) still runs in the module. Counted as layer, not driver.

use kernel::{bindings, workqueue::Work};

/// Waits until `work` is neither running nor queued (`cancel_work_sync()`).
///
/// Meant for a work item nothing can queue any more: a queued one is taken off its queue
/// without running, and the reference its pointer type holds is leaked.
pub(crate) fn cancel_sync<T: ?Sized, const ID: u64>(work: &Work<T, ID>) {
    // SAFETY: `work` is a live, initialised `Work`, so `raw_get` gives its `work_struct`;
    // `cancel_work_sync` may be called on it from process context at any time.
    unsafe { bindings::cancel_work_sync(Work::raw_get(work)) };
}

// SPDX-License-Identifier: GPL-2.0

//! CPU counts the kernel crate does not give (`kernel::cpu` has only `nr_cpu_ids`).

use kernel::bindings;

/// The number of online CPUs (`num_online_cpus`).
pub(crate) fn num_online_cpus() -> u32 {
    // SAFETY: `__cpu_online_mask` is a static cpumask of the kernel, valid for reads.
    unsafe { bindings::cpumask_weight((&raw const bindings::__cpu_online_mask).cast_mut()) }
}

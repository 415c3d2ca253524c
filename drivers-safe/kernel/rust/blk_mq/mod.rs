// SPDX-License-Identifier: GPL-2.0

//! blk-mq for the Rust twins: a local replacement of `kernel::block::mq`.
//!
//! The crate's abstraction keeps its request wrapper, vtable and tag set private to the
//! crate and sizes the request PDU for its own ownership count only, so a driver can neither
//! keep data in a request nor arm a timer in it, and `Request` has no way to end with an
//! error status or to walk its data. This module keeps the crate's design (the same
//! ownership count and states, the same `ARef<Request<T>>` handed to the driver, the same
//! `GenDisk` with `ForeignOwnable` queue data) and adds:
//!
//! - [`Operations::RequestData`]: the driver's per-request data, initialised once per
//!   request in `init_request` and dropped in `exit_request`;
//! - an hrtimer in every request ([`Request::start_timer`], [`Operations::timer`]), built
//!   on the crate's `kernel::time::hrtimer::HrTimer`;
//! - [`Request::end`] with a `Result` mapped to a block status, and [`Status`] to keep a
//!   result in the request until its end;
//! - [`Request::segments`]: the request's data as single-page segments (`bio_for_each_segment`
//!   over every bio of the request).

mod dma;
mod gen_disk;
mod hw_queue;
mod operations;
mod request;
mod segment;
mod status;
mod tag_set;

// Used by the NVMe twin only (each twin uses a part of the layer).
#[allow(unused_imports)]
pub(crate) use dma::RqDma;
pub(crate) use gen_disk::{GenDisk, GenDiskBuilder};
#[allow(unused_imports)]
pub(crate) use hw_queue::TimeoutAction;
pub(crate) use operations::Operations;
pub(crate) use request::{Op, Request};
pub(crate) use segment::Segment;
pub(crate) use status::Status;
pub(crate) use tag_set::TagSet;

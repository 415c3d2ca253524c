// SPDX-License-Identifier: GPL-2.0

//! A request's result kept in its driver data between `queue_rq` and the request's end.

use kernel::{
    error::{Error, Result},
    sync::atomic::{Atomic, Relaxed},
};

/// A `Result` stored in a request: written where the request is processed, read where it is
/// ended (possibly on another CPU, ordered by blk-mq's completion or the timer).
///
/// # Invariants
///
/// `0` holds 0 for `Ok(())` or the negative errno of an `Err`.
pub(crate) struct Status(Atomic<i32>);

impl Status {
    /// A status of `Ok(())`.
    pub(crate) const fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// Keeps `result`.
    pub(crate) fn store(&self, result: Result) {
        self.0
            .store(result.err().map_or(0, |e| e.to_errno()), Relaxed);
    }

    /// The result kept last.
    pub(crate) fn load(&self) -> Result {
        match self.0.load(Relaxed) {
            0 => Ok(()),
            errno => Err(Error::from_errno(errno)),
        }
    }
}

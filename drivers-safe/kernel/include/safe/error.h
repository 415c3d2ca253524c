/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/error.h - the layer's one error type.
 *
 * Stands for Rust-for-Linux's kernel::error::Error and Result<T>. Every fallible call of the
 * layer returns a struct safe_result, which the compiler refuses to mix with a bare int and
 * warns about when ignored (__must_check on the functions returning it). The bridges to
 * errno and blk_status_t live here and nowhere else.
 *
 * Invariant of struct safe_result: err == 0 (Ok) or -MAX_ERRNO <= err <= -1 (Err).
 *
 * Switches: -DSAFE_NO_ERROR_CHECK skips the run-time range check in safe_err() (Rust's
 * Error::from_errno performs it); valid error codes behave the same either way.
 * -DSAFE_NO_RESULT_CONV turns the bridges into the cheapest conversion that keeps Ok and Err
 * apart: an Err becomes BLK_STS_IOERR or -EIO instead of its own code, and the errno range
 * check of safe_from_errno() goes (correct whenever nothing fails), so the breakdown shows
 * what converting results costs.
 * -DSAFE_NO_OPS_ADAPTER compiles every ops adapter (blk_mq.h, net.h) with the driver's typed
 * op and the layer calls in it merged into one function (flatten), as the raw twin's callback
 * is one function: the breakdown shows what the adapter's call boundary costs; what an
 * adapter computes besides belongs to the other switches.
 */
#ifndef SAFE_ERROR_H
#define SAFE_ERROR_H

#include <linux/blkdev.h>
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/errno.h>

/* Result<()>: 0 for Ok, a negative errno for Err. Returned in a register like an int. */
struct safe_result {
	int err;
};

/* Ok(()). */
static __always_inline __must_check struct safe_result safe_ok(void)
{
	return (struct safe_result){ .err = 0 };
}

/*
 * The report of an invalid error code, out of line: a WARN_ONCE inlined at each call site
 * would leave a bug-table entry in every caller, and one in a module's __init code outlives
 * the init text the kernel frees (a later kprobe near that address is then refused).
 */
static noinline __cold __maybe_unused void __safe_bad_errno(int errno)
{
	WARN_ONCE(1, "safe: invalid error code %d\n", errno);
}

/*
 * Err(errno): @errno must be a negative errno. Anything else is a bug in the caller: it is
 * reported once and turned into -EINVAL, so an invalid code never reads as success.
 */
static __always_inline __must_check struct safe_result safe_err(int errno)
{
#ifndef SAFE_NO_ERROR_CHECK
	if (unlikely(errno >= 0 || errno < -MAX_ERRNO)) {
		__safe_bad_errno(errno);
		errno = -EINVAL;
	}
#endif
	return (struct safe_result){ .err = errno };
}

static __always_inline bool safe_is_ok(struct safe_result r)
{
	return likely(r.err == 0);
}

static __always_inline bool safe_is_err(struct safe_result r)
{
	return unlikely(r.err != 0);
}

/* Is @r the error @errno? (Rust: matching Err(e) if e == errno.) */
static __always_inline bool safe_is_errno(struct safe_result r, int errno)
{
	return r.err == errno;
}

#ifndef SAFE_NO_OPS_ADAPTER
#define __safe_adapter
#else
#define __safe_adapter	__attribute__((flatten))
#endif

/* Bridge to errno, for module init and other C entry points (no conversion: Err is an errno). */
static __always_inline int safe_to_errno(struct safe_result r)
{
	return r.err;
}

#ifndef SAFE_NO_RESULT_CONV
/* Bridge from a kernel call that returns 0 or a negative errno. */
static __always_inline __must_check struct safe_result safe_from_errno(int ret)
{
	return ret < 0 ? safe_err(ret) : safe_ok();
}


/* Bridge to blk_status_t, for blk-mq callbacks. Ok costs one compare. */
static __always_inline blk_status_t safe_to_blk_status(struct safe_result r)
{
	if (safe_is_ok(r))
		return BLK_STS_OK;
	return errno_to_blk_status(r.err);
}

/* Bridge from blk_status_t. */
static __always_inline __must_check struct safe_result safe_from_blk_status(blk_status_t status)
{
	if (likely(status == BLK_STS_OK))
		return safe_ok();
	return safe_err(blk_status_to_errno(status));
}
#else /* SAFE_NO_RESULT_CONV */
static __always_inline __must_check struct safe_result safe_from_errno(int ret)
{
	return (struct safe_result){ .err = ret < 0 ? ret : 0 };
}

static __always_inline blk_status_t safe_to_blk_status(struct safe_result r)
{
	return r.err ? BLK_STS_IOERR : BLK_STS_OK;
}

static __always_inline __must_check struct safe_result safe_from_blk_status(blk_status_t status)
{
	return (struct safe_result){ .err = status ? -EIO : 0 };
}
#endif /* SAFE_NO_RESULT_CONV */

/* Rust's `?`: return the result from the calling function if it is an error. */
#define SAFE_TRY(expr)							\
	do {								\
		struct safe_result __safe_try = (expr);			\
		if (safe_is_err(__safe_try))				\
			return __safe_try;				\
	} while (0)

#endif /* SAFE_ERROR_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/mmio.h - checked access to a memory-mapped register region.
 *
 * Stands for Rust-for-Linux's kernel::io::Io<SIZE> (and the pci::Bar that derefs to it):
 * a mapping that knows its length at run time and a minimum length SIZE at build time.
 *  - safe_mmio_read32/write32/read64/write64(io, OFF): OFF must be a constant; its range
 *    (OFF + width <= SIZE) and alignment are checked at build time, as Io::read32 does with
 *    build_assert!. A bad constant offset does not compile.
 *  - safe_mmio_try_read32/try_write32(io, off, ...): off is checked against the mapped length
 *    and the access width at run time, as Io::try_read32 does; a bad offset touches nothing,
 *    reports the site (safe/report.h) and yields an error.
 *
 * SAFE_DEFINE_MMIO(name, SIZE) declares struct name, a region of at least SIZE bytes; the
 * minimum lives in the type (a zero-length array of char[SIZE]) and costs no memory. Only
 * the layer makes a region (safe/pci.h maps a BAR into one after checking its length).
 *
 * Invariant: base is mapped for len bytes and len >= SIZE while the region is in use.
 *
 * Switch: -DSAFE_NO_MMIO_CHECK drops the run-time checks of the try_ accessors (the build-time
 * checks cost nothing and stay).
 */
#ifndef SAFE_MMIO_H
#define SAFE_MMIO_H

#include <linux/build_bug.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <safe/bounds.h>
#include <safe/error.h>
#include <safe/report.h>

/* The untyped part of every region: where it is mapped and how long it is. */
struct safe_mmio {
	void __iomem *base;
	size_t len;
};

#define SAFE_DEFINE_MMIO(name, min_size)				\
	struct name {							\
		struct safe_mmio raw;					\
		char min_len[0][min_size];				\
	}

/* The build-time minimum length of region @io. */
#define safe_mmio_min_len(io)	sizeof((io)->min_len[0])

#define __safe_mmio_const_ok(io, off, width)				\
	(__builtin_constant_p(off) && (off) % (width) == 0 &&		\
	 (off) + (width) <= safe_mmio_min_len(io))

#define __safe_mmio_build_check(io, off, width)				\
	BUILD_BUG_ON_MSG(!__safe_mmio_const_ok(io, off, width),		\
			 "safe: MMIO offset not constant, misaligned or past the region")

#define safe_mmio_read32(io, off)					\
	({								\
		__safe_mmio_build_check(io, off, 4);			\
		readl((io)->raw.base + (off));				\
	})

#define safe_mmio_write32(io, val, off)					\
	do {								\
		__safe_mmio_build_check(io, off, 4);			\
		writel(val, (io)->raw.base + (off));			\
	} while (0)

/* 64-bit registers as two 32-bit accesses, low half first (NVMe allows it; so does Rust). */
#define safe_mmio_read64(io, off)					\
	({								\
		__safe_mmio_build_check(io, off, 8);			\
		lo_hi_readq((io)->raw.base + (off));			\
	})

#define safe_mmio_write64(io, val, off)					\
	do {								\
		__safe_mmio_build_check(io, off, 8);			\
		lo_hi_writeq(val, (io)->raw.base + (off));		\
	} while (0)

/* Is a @width-byte access at @off inside @io and aligned? If not, reports site @func, @line. */
static __always_inline bool __safe_mmio_ok(const struct safe_mmio *io, size_t off, size_t width,
					   const char *func, int line)
{
#ifndef SAFE_NO_MMIO_CHECK
	if (unlikely(off % width || off > io->len || width > io->len - off)) {
		__safe_report("MMIO access of %zu bytes at 0x%zx outside 0x%zx bytes in %s line %d\n",
			      width, off, io->len, func, line);
		return false;
	}
#endif
	return true;
}

/* Io::try_read32: read the 32-bit register at run-time offset @off into *@val. */
static __always_inline __must_check struct safe_result
__safe_mmio_try_read32(const struct safe_mmio *io, size_t off, u32 *val, const char *func,
		       int line)
{
	if (!__safe_mmio_ok(io, off, 4, func, line))
		return safe_err(-EINVAL);
	/* SAFETY: off + 4 <= len (checked above) and base is mapped for len bytes. */
	*val = readl(io->base + off);
	return safe_ok();
}

/* Io::try_write32: write @val to the 32-bit register at run-time offset @off. */
static __always_inline __must_check struct safe_result
__safe_mmio_try_write32(const struct safe_mmio *io, u32 val, size_t off, const char *func,
			int line)
{
	if (!__safe_mmio_ok(io, off, 4, func, line))
		return safe_err(-EINVAL);
	/* SAFETY: off + 4 <= len (checked above) and base is mapped for len bytes. */
	writel(val, io->base + off);
	return safe_ok();
}

#define safe_mmio_try_read32(io, off, val)				\
	__safe_mmio_try_read32(&(io)->raw, off, val, __func__, __LINE__)
#define safe_mmio_try_write32(io, val, off)				\
	__safe_mmio_try_write32(&(io)->raw, val, off, __func__, __LINE__)

/* The mapped length of region @io, known at run time. */
#define safe_mmio_len(io)	((io)->raw.len)

#endif /* SAFE_MMIO_H */

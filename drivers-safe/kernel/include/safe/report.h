/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/report.h - the one report of a failed check, for every mechanism of the layer.
 *
 * A failed check (bounds, checked arithmetic, MMIO offsets, moved-from socket buffers) is
 * never silent, but it is rare: its report lives out of line in one cold function per
 * module, with one rate-limit state, instead of a rate-limit state and printk call at every
 * check site. The checks themselves stay small enough to inline, and the overhead
 * breakdown charges each mechanism for its check, not for its logging code. Each call
 * still names the failing site (function and line).
 */
#ifndef SAFE_REPORT_H
#define SAFE_REPORT_H

#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>

static noinline __cold __printf(1, 2) __maybe_unused void __safe_report(const char *fmt, ...)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);
	struct va_format vaf;
	va_list args;

	if (!__ratelimit(&rs))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("safe: %pV", &vaf);
	va_end(args);
}

#endif /* SAFE_REPORT_H */

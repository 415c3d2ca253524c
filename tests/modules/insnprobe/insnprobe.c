// SPDX-License-Identifier: GPL-2.0
/*
 * insnprobe: a test module with a known instruction difference, for the insncount plugin.
 *
 * insnprobe_plain() and insnprobe_padded() have the same body, but the padded one runs
 * INSNPROBE_EXTRA more `nop` instructions per call. Writing N to the parameter call_plain
 * or call_padded calls that function N times, so an exact per-function instruction profile
 * must show INSNPROBE_EXTRA more instructions per call in insnprobe_padded.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/compiler.h>

#define INSNPROBE_EXTRA		16
#define INSNPROBE_MAX_CALLS	10000000u

static u64 insnprobe_sink;

static __always_inline u64 insnprobe_body(u64 x)
{
	return (x ^ (x >> 7)) * 0x9e3779b97f4a7c15ull + 1;
}

static noinline u64 insnprobe_plain(u64 x)
{
	return insnprobe_body(x);
}

static noinline u64 insnprobe_padded(u64 x)
{
	asm volatile(".rept " __stringify(INSNPROBE_EXTRA) "\n\tnop\n\t.endr");
	return insnprobe_body(x);
}

static int insnprobe_run(const char *val, u64 (*fn)(u64))
{
	unsigned int n;
	u64 acc = 0;
	int err;

	err = kstrtouint(val, 0, &n);
	if (err)
		return err;
	if (n > INSNPROBE_MAX_CALLS)
		return -ERANGE;
	while (n--)
		acc = fn(acc);
	WRITE_ONCE(insnprobe_sink, acc);
	return 0;
}

static int insnprobe_set_plain(const char *val, const struct kernel_param *kp)
{
	return insnprobe_run(val, insnprobe_plain);
}

static int insnprobe_set_padded(const char *val, const struct kernel_param *kp)
{
	return insnprobe_run(val, insnprobe_padded);
}

static const struct kernel_param_ops insnprobe_plain_ops = {
	.set = insnprobe_set_plain,
};

static const struct kernel_param_ops insnprobe_padded_ops = {
	.set = insnprobe_set_padded,
};

module_param_cb(call_plain, &insnprobe_plain_ops, NULL, 0200);
MODULE_PARM_DESC(call_plain, "call insnprobe_plain() this many times");
module_param_cb(call_padded, &insnprobe_padded_ops, NULL, 0200);
MODULE_PARM_DESC(call_padded, "call insnprobe_padded() this many times (16 more nops each)");

MODULE_DESCRIPTION("twinbench test module with a known instruction difference");
MODULE_LICENSE("GPL");

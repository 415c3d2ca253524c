// SPDX-License-Identifier: GPL-2.0
/*
 * insnprobe: a test module with a known instruction difference and known instruction
 * classes, for the insncount plugin.
 *
 * insnprobe_plain() and insnprobe_padded() have the same body, but the padded one runs
 * INSNPROBE_EXTRA more `nop` instructions per call. Writing N to the parameter call_plain
 * or call_padded calls that function N times, so an exact per-function instruction profile
 * must show INSNPROBE_EXTRA more instructions per call in insnprobe_padded.
 *
 * insnprobe_classes() runs, per call, exactly INSNPROBE_ATOMICS atomic read-modify-writes
 * (two lock-prefixed, one xchg with memory), INSNPROBE_FENCES fences (mfence, lfence,
 * sfence), INSNPROBE_ICALLS indirect calls (C calls through a function pointer: whatever
 * the kernel's build and boot-time patching make of them), INSNPROBE_JCCS conditional
 * branches and INSNPROBE_REPS iterations of one rep stosq; call_classes=N runs it N times.
 *
 * insnprobe_io() reads one 32-bit word and runs INSNPROBE_EXTRA nops after it in the
 * same block: call_io_mmio=N reads a register of the local APIC (MMIO, which under icount
 * QEMU runs alone, leaving the block there), call_io_ram=N the same way a word of memory.
 * The function runs the same instructions either way, so an exact count is the same.
 *
 * insnprobe_polled() is a poll loop with a known answer: it calls insnprobe_poll() until
 * that finds something, which it does on every INSNPROBE_POLL_EVERY-th call, then ends
 * the "I/O" (insnprobe_reaped()) and does INSNPROBE_WORK calls' worth of work.
 * call_poll=N runs it N times, so of its N * INSNPROBE_POLL_EVERY polls
 * N * (INSNPROBE_POLL_EVERY - 1) find nothing, each such turn of the loop the same few
 * instructions.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/compiler.h>
#include <linux/processor.h>
#include <linux/io.h>
#include <asm/apicdef.h>

#define INSNPROBE_EXTRA		16
#define INSNPROBE_MAX_CALLS	10000000u
#define INSNPROBE_ATOMICS	3
#define INSNPROBE_FENCES	3
#define INSNPROBE_ICALLS	2
#define INSNPROBE_JCCS		4
#define INSNPROBE_REPS		8
#define INSNPROBE_POLL_EVERY	8
#define INSNPROBE_WORK		256

static u64 insnprobe_sink;
static u64 insnprobe_shared;
static u64 insnprobe_buf[INSNPROBE_REPS];
static unsigned int insnprobe_polls;
static u32 insnprobe_word;
static void __iomem *insnprobe_apic;

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

static noinline u64 insnprobe_target(u64 x)
{
	return x + 3;
}

static u64 (*insnprobe_indirect)(u64) = insnprobe_target;

static noinline u64 insnprobe_classes(u64 x)
{
	u64 *dst = insnprobe_buf;
	unsigned long n = INSNPROBE_REPS;

	asm volatile("lock incq %0\n\tlock xaddq %1, %0\n\txchgq %1, %0"
		     : "+m" (insnprobe_shared), "+r" (x) : : "memory");
	asm volatile("mfence\n\tlfence\n\tsfence" : : : "memory");
	x = READ_ONCE(insnprobe_indirect)(x);
	x = READ_ONCE(insnprobe_indirect)(x);
	asm volatile("test %0, %0\n\tjz 1f\n1:\tjnz 2f\n2:\tjs 3f\n3:\tjno 4f\n4:"
		     : : "r" (x) : "cc");
	asm volatile("rep stosq" : "+D" (dst), "+c" (n) : "a" (x) : "memory");
	return x;
}

static noinline u64 insnprobe_io(const void __iomem *p, u64 x)
{
	x += readl(p);
	asm volatile(".rept " __stringify(INSNPROBE_EXTRA) "\n\tnop\n\t.endr");
	return x;
}

static noinline u64 insnprobe_io_mmio(u64 x)
{
	return insnprobe_io(insnprobe_apic + APIC_LVR, x);
}

static noinline u64 insnprobe_io_ram(u64 x)
{
	return insnprobe_io((const void __iomem __force *)&insnprobe_word, x);
}

/* A device with something to reap on every INSNPROBE_POLL_EVERY-th poll. */
static noinline bool insnprobe_poll(void)
{
	return ++insnprobe_polls % INSNPROBE_POLL_EVERY == 0;
}

static noinline u64 insnprobe_reaped(u64 x)
{
	return x + insnprobe_polls;
}

static noinline u64 insnprobe_polled(u64 x)
{
	int i;

	while (!insnprobe_poll())
		cpu_relax();
	x = insnprobe_reaped(x);
	for (i = 0; i < INSNPROBE_WORK; i++)
		x = insnprobe_plain(x);
	return x;
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

static int insnprobe_set_classes(const char *val, const struct kernel_param *kp)
{
	return insnprobe_run(val, insnprobe_classes);
}

static int insnprobe_set_io_mmio(const char *val, const struct kernel_param *kp)
{
	return insnprobe_apic ? insnprobe_run(val, insnprobe_io_mmio) : -ENODEV;
}

static int insnprobe_set_io_ram(const char *val, const struct kernel_param *kp)
{
	return insnprobe_run(val, insnprobe_io_ram);
}

static int insnprobe_set_poll(const char *val, const struct kernel_param *kp)
{
	insnprobe_polls = 0;
	return insnprobe_run(val, insnprobe_polled);
}

static const struct kernel_param_ops insnprobe_plain_ops = {
	.set = insnprobe_set_plain,
};

static const struct kernel_param_ops insnprobe_padded_ops = {
	.set = insnprobe_set_padded,
};

static const struct kernel_param_ops insnprobe_classes_ops = {
	.set = insnprobe_set_classes,
};

module_param_cb(call_plain, &insnprobe_plain_ops, NULL, 0200);
MODULE_PARM_DESC(call_plain, "call insnprobe_plain() this many times");
module_param_cb(call_padded, &insnprobe_padded_ops, NULL, 0200);
MODULE_PARM_DESC(call_padded, "call insnprobe_padded() this many times (16 more nops each)");

module_param_cb(call_classes, &insnprobe_classes_ops, NULL, 0200);
MODULE_PARM_DESC(call_classes, "call insnprobe_classes() this many times (known classes)");

static const struct kernel_param_ops insnprobe_poll_ops = {
	.set = insnprobe_set_poll,
};

module_param_cb(call_poll, &insnprobe_poll_ops, NULL, 0200);
MODULE_PARM_DESC(call_poll, "run the poll loop insnprobe_polled() this many times");

static const struct kernel_param_ops insnprobe_io_mmio_ops = {
	.set = insnprobe_set_io_mmio,
};

static const struct kernel_param_ops insnprobe_io_ram_ops = {
	.set = insnprobe_set_io_ram,
};

module_param_cb(call_io_mmio, &insnprobe_io_mmio_ops, NULL, 0200);
MODULE_PARM_DESC(call_io_mmio, "call insnprobe_io() this many times on a local APIC register");
module_param_cb(call_io_ram, &insnprobe_io_ram_ops, NULL, 0200);
MODULE_PARM_DESC(call_io_ram, "call insnprobe_io() this many times on a word of memory");

/* The local APIC's page, for insnprobe_io(); without it call_io_mmio fails (ENODEV). */
static int __init insnprobe_init(void)
{
	insnprobe_apic = ioremap(APIC_DEFAULT_PHYS_BASE, PAGE_SIZE);
	return 0;
}

static void __exit insnprobe_exit(void)
{
	if (insnprobe_apic)
		iounmap(insnprobe_apic);
}

module_init(insnprobe_init);
module_exit(insnprobe_exit);
MODULE_DESCRIPTION("twinbench test module with a known instruction difference and classes");
MODULE_LICENSE("GPL");

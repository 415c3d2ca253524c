/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twintrace.h - structures and histogram arithmetic shared by the BPF side
 * (twintrace.bpf.c) and the user-space side (twintrace.c) of twintrace.
 */
#ifndef TWINTRACE_H
#define TWINTRACE_H

/* Latency histogram: log2 groups, each split into LAT_SUBS linear sub-buckets. */
#define LAT_SUB_BITS	5
#define LAT_SUBS	(1U << LAT_SUB_BITS)
#define LAT_MAX_MSB	40
#define LAT_SLOTS	((LAT_MAX_MSB - LAT_SUB_BITS + 2) * LAT_SUBS)

#define IRQ_NAME_LEN	32
#define NR_SOFTIRQ_VECS	10
#define MAX_FUNCS	16
#define HRTIMER_NEST	4
#define HRTIMER_SLOTS	256
#define HRTIMER_PROBES	8

/* Counters of one hard IRQ handler, one hrtimer callback or one traced function. */
struct time_stat {
	__u64 count;
	__u64 ns;
};

/* Counters of one hrtimer callback; function 0 marks a free slot. */
struct hrtimer_stat {
	__u64 function;
	__u64 count;
	__u64 ns;
};

struct irq_key {
	char name[IRQ_NAME_LEN];
};

/* Start of one traced driver-function call, keyed by caller context and --func index. */
struct func_key {
	__u64 context;
	__u32 index;
	__u32 pad;
};

/* Per-CPU stack of running hrtimer callbacks: soft hrtimers can be interrupted by hard ones. */
struct hrtimer_stack {
	__u64 start[HRTIMER_NEST];
	__u64 function[HRTIMER_NEST];
	__u32 depth;
	__u32 pad;
};

/* Index of the most significant set bit of @v (0 for v == 0), branch-only for the verifier. */
static inline __u32 twin_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* Histogram slot of a latency in ns: exact below LAT_SUBS, then LAT_SUBS slots per power of 2. */
static inline __u32 lat_slot(__u64 ns)
{
	__u32 msb;

	if (ns < LAT_SUBS)
		return ns;
	msb = twin_log2(ns);
	if (msb > LAT_MAX_MSB)
		return LAT_SLOTS - 1;
	return (msb - LAT_SUB_BITS + 1) * LAT_SUBS +
	       ((ns >> (msb - LAT_SUB_BITS)) & (LAT_SUBS - 1));
}

/* Lowest ns value that lands in @slot; the slot covers [low, lat_slot_low(slot + 1)). */
static inline __u64 lat_slot_low(__u32 slot)
{
	__u32 group = slot / LAT_SUBS, sub = slot % LAT_SUBS;

	if (group == 0)
		return sub;
	return (__u64)(LAT_SUBS + sub) << (group - 1);
}

#endif /* TWINTRACE_H */

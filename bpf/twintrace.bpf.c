// SPDX-License-Identifier: GPL-2.0
/*
 * twintrace.bpf.c - in-kernel half of twintrace: block request latency, hard IRQ,
 * softirq, local timer interrupt and hrtimer callback time, and time spent in the driver
 * functions named on the command line. Every tracepoint has a tp_btf and a raw_tp
 * variant; user space loads one of the two.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "twintrace.h"

#define MAX_INFLIGHT	16384
#define MAX_IRQ_NAMES	256
#define MAX_HW_QUEUES	64
#define MAX_TAGS	1024

const volatile bool filter_dev;
const volatile __u32 target_dev;
const volatile bool issue_has_queue_arg;
/*
 * Time one request in sample_every (1: all), and one call in sample_every of each traced
 * driver function; the others are only counted.
 */
const volatile __u32 sample_every = 1;

__u64 tag_start[MAX_HW_QUEUES * MAX_TAGS];
__u64 lat_hist[LAT_SLOTS];
__u64 lat_count;
__u64 lat_sum_ns;
__u64 lat_max_ns;
__u64 issue_seen;
__u64 issue_dropped;
__u64 complete_unmatched;

__u64 softirq_count[NR_SOFTIRQ_VECS];
__u64 softirq_ns[NR_SOFTIRQ_VECS];
struct time_stat timer_irq;
struct time_stat func_returns[MAX_FUNCS];
__u64 func_calls[MAX_FUNCS];
__u64 func_dropped;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, __u64);
} rq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hardirq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IRQ_NAMES);
	__type(key, struct irq_key);
	__type(value, struct time_stat);
} hardirq_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} softirq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} timer_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hrtimer_stack);
} hrtimer_running SEC(".maps");

/* hrtimer callbacks: open addressing on the function address, no hash map, no lock. */
struct hrtimer_stat hrtimer_stats[HRTIMER_SLOTS];
__u64 hrtimer_dropped;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_INFLIGHT);
	__type(key, struct func_key);
	__type(value, __u64);
} func_start SEC(".maps");

/* Kernels before 5.16 kept the disk in the request itself. */
struct request___with_rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/*
 * Field reads from tracepoint arguments. tp_btf programs get typed pointers and load
 * directly (the verifier turns the loads into fault-safe ones); raw_tp programs must go
 * through bpf_probe_read_kernel. @btf is a constant at every call site, so one path
 * compiles away.
 */
#define FIELD_READ(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

static __always_inline struct gendisk *request_disk(struct request *rq, bool btf)
{
	struct request___with_rq_disk *old = (void *)rq;
	struct request_queue *q;

	if (bpf_core_field_exists(old->rq_disk))
		return FIELD_READ(btf, old, rq_disk);
	q = FIELD_READ(btf, rq, q);
	return q ? FIELD_READ(btf, q, disk) : NULL;
}

/*
 * The request queue of the filtered disk, once a request has shown which it is: then one
 * load and a compare tell the disk's requests apart, instead of three or four loads through
 * the queue to the disk on every event (each a checked load in a tp_btf program).
 */
__u64 target_queue;

static __always_inline bool request_wanted(struct request *rq, bool btf)
{
	struct gendisk *disk;
	__u64 q;

	if (!filter_dev)
		return true;
	q = (__u64)FIELD_READ(btf, rq, q);
	if (target_queue)
		return q == target_queue;
	disk = request_disk(rq, btf);
	if (!disk || (((__u32)FIELD_READ(btf, disk, major) << 20) |
		      (__u32)FIELD_READ(btf, disk, first_minor)) != target_dev)
		return false;
	target_queue = q;
	return true;
}

/*
 * With one device filtered, a request is identified by its hardware queue and driver tag,
 * which index tag_start directly (no hash, no locks); 0 there means no request in flight.
 * Without the filter, or past the array, requests are keyed by address in rq_start.
 */
static __always_inline __u64 *request_tag_slot(struct request *rq, bool btf)
{
	struct blk_mq_hw_ctx *hctx;
	__u32 queue, tag;
	__u64 index;

	if (!filter_dev)
		return NULL;
	tag = FIELD_READ(btf, rq, tag);
	hctx = FIELD_READ(btf, rq, mq_hctx);
	if (!hctx || tag >= MAX_TAGS)
		return NULL;
	queue = FIELD_READ(btf, hctx, queue_num);
	if (queue >= MAX_HW_QUEUES)
		return NULL;
	index = queue * MAX_TAGS + tag;
	barrier_var(index);
	if (index >= MAX_HW_QUEUES * MAX_TAGS)
		return NULL;
	return &tag_start[index];
}

static __always_inline void record_latency(__u64 delta)
{
	__u64 slot = lat_slot(delta);

	barrier_var(slot);
	if (slot >= LAT_SLOTS)
		return;
	__sync_fetch_and_add(&lat_hist[slot], 1);
	__sync_fetch_and_add(&lat_count, 1);
	__sync_fetch_and_add(&lat_sum_ns, delta);
	if (delta > lat_max_ns)
		lat_max_ns = delta;
}

static __always_inline int on_rq_issue(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, now, *slot, seq;

	if (!request_wanted(rq, btf))
		return 0;
	seq = __sync_fetch_and_add(&issue_seen, 1);
	if (sample_every > 1 && seq % sample_every)
		return 0;
	now = bpf_ktime_get_ns();
	slot = request_tag_slot(rq, btf);
	if (slot)
		*slot = now;
	else if (bpf_map_update_elem(&rq_start, &key, &now, BPF_ANY))
		__sync_fetch_and_add(&issue_dropped, 1);
	return 0;
}

static __always_inline int on_rq_complete(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, *start, start_ns;
	bool tagged;

	if (!request_wanted(rq, btf))
		return 0;
	start = request_tag_slot(rq, btf);
	tagged = start;
	if (!tagged)
		start = bpf_map_lookup_elem(&rq_start, &key);
	if (!start || !*start) {
		/* sampled: a request that was not timed looks the same as a lost one */
		if (sample_every <= 1)
			__sync_fetch_and_add(&complete_unmatched, 1);
		return 0;
	}
	start_ns = *start;
	if (tagged)
		*start = 0;
	else
		bpf_map_delete_elem(&rq_start, &key);
	record_latency(bpf_ktime_get_ns() - start_ns);
	return 0;
}

/* Adds @delta to the stats entry of @key in @map, creating the entry on first use. */
static __always_inline void add_time_stat(void *map, const void *key, __u64 delta)
{
	static const struct time_stat zero;
	struct time_stat *stat;

	stat = bpf_map_lookup_elem(map, key);
	if (!stat) {
		bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		stat = bpf_map_lookup_elem(map, key);
		if (!stat)
			return;
	}
	__sync_fetch_and_add(&stat->count, 1);
	__sync_fetch_and_add(&stat->ns, delta);
}

static __always_inline void *this_cpu_value(void *map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(map, &zero);
}

static __always_inline int on_irq_entry(void)
{
	__u64 *start = this_cpu_value(&hardirq_start);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int on_irq_exit(struct irqaction *action, bool btf)
{
	__u64 *start = this_cpu_value(&hardirq_start);
	struct irq_key key = {};

	if (!start || !*start)
		return 0;
	bpf_probe_read_kernel_str(key.name, sizeof(key.name), FIELD_READ(btf, action, name));
	add_time_stat(&hardirq_stats, &key, bpf_ktime_get_ns() - *start);
	*start = 0;
	return 0;
}

static __always_inline int on_softirq_entry(void)
{
	__u64 *start = this_cpu_value(&softirq_start);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int on_softirq_exit(__u32 vec)
{
	__u64 *start = this_cpu_value(&softirq_start);

	if (!start || !*start || vec >= NR_SOFTIRQ_VECS)
		return 0;
	__sync_fetch_and_add(&softirq_count[vec], 1);
	__sync_fetch_and_add(&softirq_ns[vec], bpf_ktime_get_ns() - *start);
	*start = 0;
	return 0;
}

static __always_inline int on_timer_entry(void)
{
	__u64 *start = this_cpu_value(&timer_start);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int on_timer_exit(void)
{
	__u64 *start = this_cpu_value(&timer_start);

	if (!start || !*start)
		return 0;
	__sync_fetch_and_add(&timer_irq.count, 1);
	__sync_fetch_and_add(&timer_irq.ns, bpf_ktime_get_ns() - *start);
	*start = 0;
	return 0;
}

static __always_inline int on_hrtimer_entry(struct hrtimer *timer, bool btf)
{
	struct hrtimer_stack *stack = this_cpu_value(&hrtimer_running);
	__u32 depth;

	if (!stack)
		return 0;
	depth = stack->depth;
	if (depth >= HRTIMER_NEST)
		return 0;
	stack->function[depth] = (__u64)FIELD_READ(btf, timer, function);
	stack->start[depth] = bpf_ktime_get_ns();
	stack->depth = depth + 1;
	return 0;
}

/* The hrtimer_stats slot of @function, claimed on first use; NULL when the probes are full. */
static __always_inline struct hrtimer_stat *hrtimer_stat_of(__u64 function)
{
	__u32 home = (function ^ (function >> 12)) & (HRTIMER_SLOTS - 1), i;

	for (i = 0; i < HRTIMER_PROBES; i++) {
		struct hrtimer_stat *stat = &hrtimer_stats[(home + i) & (HRTIMER_SLOTS - 1)];
		__u64 owner = stat->function;

		if (owner == function)
			return stat;
		if (!owner) {
			owner = __sync_val_compare_and_swap(&stat->function, 0, function);
			if (!owner || owner == function)
				return stat;
		}
	}
	return NULL;
}

static __always_inline int on_hrtimer_exit(void)
{
	struct hrtimer_stack *stack = this_cpu_value(&hrtimer_running);
	struct hrtimer_stat *stat;
	__u32 depth;

	if (!stack || !stack->depth)
		return 0;
	depth = stack->depth - 1;
	if (depth >= HRTIMER_NEST)
		return 0;
	stack->depth = depth;
	stat = hrtimer_stat_of(stack->function[depth]);
	if (!stat) {
		__sync_fetch_and_add(&hrtimer_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&stat->count, 1);
	__sync_fetch_and_add(&stat->ns, bpf_ktime_get_ns() - stack->start[depth]);
	return 0;
}

/* Identifies the running context: the task, or the CPU when it is idle (pid 0 on every CPU). */
static __always_inline __u64 call_context(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!(__u32)id)
		id = (1ULL << 63) | bpf_get_smp_processor_id();
	return id;
}

SEC("kprobe")
int BPF_KPROBE(func_entry)
{
	__u32 index = bpf_get_attach_cookie(ctx);
	struct func_key key = { .context = call_context(), .index = index };
	__u64 now;

	if (index >= MAX_FUNCS)
		return 0;
	if (__sync_fetch_and_add(&func_calls[index], 1) % sample_every)
		return 0;
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&func_start, &key, &now, BPF_ANY))
		__sync_fetch_and_add(&func_dropped, 1);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(func_exit)
{
	__u32 index = bpf_get_attach_cookie(ctx);
	struct func_key key = { .context = call_context(), .index = index };
	__u64 *start, delta;

	if (index >= MAX_FUNCS)
		return 0;
	start = bpf_map_lookup_elem(&func_start, &key);
	if (!start)
		return 0;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&func_start, &key);
	barrier_var(index);
	if (index >= MAX_FUNCS)
		return 0;
	__sync_fetch_and_add(&func_returns[index].count, 1);
	__sync_fetch_and_add(&func_returns[index].ns, delta);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int tpbtf_rq_issue(__u64 *ctx)
{
	return on_rq_issue((void *)ctx[issue_has_queue_arg ? 1 : 0], true);
}

SEC("raw_tp/block_rq_issue")
int rawtp_rq_issue(struct bpf_raw_tracepoint_args *ctx)
{
	return on_rq_issue((void *)ctx->args[issue_has_queue_arg ? 1 : 0], false);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(tpbtf_rq_complete, struct request *rq)
{
	return on_rq_complete(rq, true);
}

SEC("raw_tp/block_rq_complete")
int rawtp_rq_complete(struct bpf_raw_tracepoint_args *ctx)
{
	return on_rq_complete((void *)ctx->args[0], false);
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(tpbtf_irq_entry)
{
	return on_irq_entry();
}

SEC("raw_tp/irq_handler_entry")
int rawtp_irq_entry(struct bpf_raw_tracepoint_args *ctx)
{
	return on_irq_entry();
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(tpbtf_irq_exit, int irq, struct irqaction *action)
{
	return on_irq_exit(action, true);
}

SEC("raw_tp/irq_handler_exit")
int rawtp_irq_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_irq_exit((struct irqaction *)ctx->args[1], false);
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(tpbtf_softirq_entry)
{
	return on_softirq_entry();
}

SEC("raw_tp/softirq_entry")
int rawtp_softirq_entry(struct bpf_raw_tracepoint_args *ctx)
{
	return on_softirq_entry();
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(tpbtf_softirq_exit, unsigned int vec)
{
	return on_softirq_exit(vec);
}

SEC("raw_tp/softirq_exit")
int rawtp_softirq_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_softirq_exit(ctx->args[0]);
}

SEC("tp_btf/local_timer_entry")
int BPF_PROG(tpbtf_timer_entry)
{
	return on_timer_entry();
}

SEC("raw_tp/local_timer_entry")
int rawtp_timer_entry(struct bpf_raw_tracepoint_args *ctx)
{
	return on_timer_entry();
}

SEC("tp_btf/local_timer_exit")
int BPF_PROG(tpbtf_timer_exit)
{
	return on_timer_exit();
}

SEC("raw_tp/local_timer_exit")
int rawtp_timer_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_timer_exit();
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(tpbtf_hrtimer_entry, struct hrtimer *timer)
{
	return on_hrtimer_entry(timer, true);
}

SEC("raw_tp/hrtimer_expire_entry")
int rawtp_hrtimer_entry(struct bpf_raw_tracepoint_args *ctx)
{
	return on_hrtimer_entry((struct hrtimer *)ctx->args[0], false);
}

SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(tpbtf_hrtimer_exit)
{
	return on_hrtimer_exit();
}

SEC("raw_tp/hrtimer_expire_exit")
int rawtp_hrtimer_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_hrtimer_exit();
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * twintrace - trace one benchmark sample: block request latency on one device, hard
 * IRQ, softirq, local timer interrupt and hrtimer callback time, and the time spent in
 * the driver functions named on the command line. It attaches, prints "ready", runs
 * until SIGINT/SIGTERM (or --duration), then writes JSON (see README.md).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "twintrace.h"
#include "twintrace.skel.h"

#define JSON_VERSION	1
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum event_group {
	EV_BLOCK	= 1 << 0,
	EV_HARDIRQ	= 1 << 1,
	EV_SOFTIRQ	= 1 << 2,
	EV_TIMER	= 1 << 3,
	EV_HRTIMER	= 1 << 4,
	EV_ALL		= (1 << 5) - 1,
};

static const char * const group_names[] = { "block", "hardirq", "softirq", "timer", "hrtimer" };

static const char * const softirq_names[NR_SOFTIRQ_VECS] = {
	"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
};

/* One driver function traced by kprobe/kretprobe: --func ROLE=SYMBOL. */
struct traced_func {
	char role[32];
	char symbol[128];
	struct bpf_link *entry, *exit;
};

static struct env {
	const char *output;
	bool histogram;
	bool force_raw_tp;
	bool verbose;
	bool filter_dev;
	unsigned int dev_major, dev_minor;
	unsigned int events;
	long duration;
	unsigned int sample_every;
	unsigned int duty_on_ms, duty_period_ms;	/* 0: block programs always attached */
	struct traced_func funcs[MAX_FUNCS];
	int nr_funcs;
} env = {
	.events = EV_ALL,
	.sample_every = 1,
};

/* A tracepoint with its two program variants; user space loads one of them. */
struct tracepoint {
	const char *name;
	unsigned int group;
	struct bpf_program *tp_btf, *raw_tp;
	struct bpf_link *link;
};

struct ksym {
	unsigned long addr;
	char *name;
	char *module;
};

static struct ksyms {
	struct ksym *syms;
	size_t nr, cap;
} ksyms;

static volatile sig_atomic_t exiting;

const char *argp_program_version = "twintrace 1";
static const char argp_doc[] =
"Trace one benchmark sample: block latency, IRQs, softirqs, timers, driver functions.\n"
"\n"
"Prints 'ready' once attached, runs until SIGINT/SIGTERM or --duration, then writes JSON.\n"
"\n"
"EXAMPLES:\n"
"    twintrace -o t.json --dev 259:0 --func queue_rq=null_queue_rq\n"
"    twintrace --histogram --dev /dev/loop0 --duration 5\n";

static const struct argp_option opts[] = {
	{ "output", 'o', "FILE", 0, "Write the JSON result to FILE", 0 },
	{ "dev", 'd', "MAJ:MIN|PATH", 0, "Block latency for this whole-disk device only", 0 },
	{ "func", 'f', "ROLE=SYMBOL", 0, "Time kernel function SYMBOL under ROLE (repeatable)", 0 },
	{ "events", 'e', "LIST", 0,
	  "Comma list of block,hardirq,softirq,timer,hrtimer (default: all)", 0 },
	{ "duration", 't', "SECONDS", 0, "Stop after SECONDS instead of waiting for a signal", 0 },
	{ "sample", 's', "N", 0,
	  "Time one block request and one call of each --func in N (default 1: all); all are counted", 0 },
	{ "duty", 'D', "ON/PERIOD", 0,
	  "Attach the block programs ON ms of every PERIOD ms (needs --dev)", 0 },
	{ "histogram", 'H', NULL, 0, "Print the latency histogram and counters as text", 0 },
	{ "raw-tp", 'r', NULL, 0, "Use raw_tp programs even where tp_btf works", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static void die_usage(struct argp_state *state, const char *fmt, const char *arg)
{
	fprintf(stderr, "twintrace: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	argp_state_help(state, stderr, ARGP_HELP_EXIT_ERR);
}

static void parse_dev(struct argp_state *state, const char *arg)
{
	unsigned int major, minor;
	struct stat st;
	char tail;

	if (sscanf(arg, "%u:%u%c", &major, &minor, &tail) == 2) {
		env.dev_major = major;
		env.dev_minor = minor;
	} else if (stat(arg, &st) == 0 && S_ISBLK(st.st_mode)) {
		env.dev_major = major(st.st_rdev);
		env.dev_minor = minor(st.st_rdev);
	} else {
		die_usage(state, "--dev '%s': expected MAJ:MIN or a block device path", arg);
	}
	if (env.dev_major >= 1U << 12 || env.dev_minor >= 1U << 20)
		die_usage(state, "--dev '%s': major or minor number out of range", arg);
	env.filter_dev = true;
}

static void parse_func(struct argp_state *state, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct traced_func *f;
	size_t role_len;

	if (env.nr_funcs >= MAX_FUNCS)
		die_usage(state, "--func '%s': more than 16 functions", arg);
	if (!eq || eq == arg || !eq[1])
		die_usage(state, "--func '%s': expected ROLE=SYMBOL", arg);
	role_len = eq - arg;
	f = &env.funcs[env.nr_funcs];
	if (role_len >= sizeof(f->role) || strlen(eq + 1) >= sizeof(f->symbol))
		die_usage(state, "--func '%s': role or symbol name too long", arg);
	if (strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_") != role_len)
		die_usage(state, "--func '%s': ROLE must be lower-case letters, digits, '_'", arg);
	memcpy(f->role, arg, role_len);
	strcpy(f->symbol, eq + 1);
	env.nr_funcs++;
}

static void parse_events(struct argp_state *state, const char *arg)
{
	char *list = strdup(arg), *save = NULL, *tok;
	unsigned int i;

	if (!list)
		die_usage(state, "--events '%s': out of memory", arg);
	env.events = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(group_names); i++)
			if (!strcmp(tok, group_names[i]))
				break;
		if (i == ARRAY_SIZE(group_names))
			die_usage(state, "--events '%s': unknown event group", tok);
		env.events |= 1U << i;
	}
	free(list);
	if (!env.events)
		die_usage(state, "--events '%s': empty list", arg);
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end, c;

	switch (key) {
	case 'o':
		env.output = arg;
		break;
	case 'd':
		parse_dev(state, arg);
		break;
	case 'f':
		parse_func(state, arg);
		break;
	case 'e':
		parse_events(state, arg);
		break;
	case 't':
		errno = 0;
		env.duration = strtol(arg, &end, 10);
		if (errno || *end || env.duration <= 0 || env.duration > INT_MAX)
			die_usage(state, "--duration '%s': expected a positive number of seconds",
				  arg);
		break;
	case 's':
		errno = 0;
		env.sample_every = (unsigned int)strtoul(arg, &end, 10);
		if (errno || *end || arg[0] == '-' || env.sample_every < 1 ||
		    env.sample_every > 1000000)
			die_usage(state, "--sample '%s': expected a whole number from 1 to 1000000",
				  arg);
		break;
	case 'D':
		if (sscanf(arg, "%u/%u%c", &env.duty_on_ms, &env.duty_period_ms, &c) != 2 ||
		    !env.duty_on_ms || env.duty_on_ms >= env.duty_period_ms ||
		    env.duty_period_ms > 3600000)
			die_usage(state, "--duty '%s': expected ON/PERIOD in ms, 0 < ON < PERIOD",
				  arg);
		break;
	case 'H':
		env.histogram = true;
		break;
	case 'r':
		env.force_raw_tp = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		die_usage(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env.output && !env.histogram)
			die_usage(state, "%s", "nothing to do: give -o FILE and/or --histogram");
		if (env.duty_on_ms && !env.filter_dev)
			die_usage(state, "%s", "--duty needs --dev (the tag table is reset per period)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Loads the function symbols of /proc/kallsyms, sorted by address. */
static int ksyms_load(void)
{
	char line[512], name[256], module[128], type;
	unsigned long addr;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f) {
		fprintf(stderr, "twintrace: /proc/kallsyms: %s\n", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct ksym *sym;
		int n;

		module[0] = '\0';
		n = sscanf(line, "%lx %c %255s [%127[^]]]", &addr, &type, name, module);
		if (n < 3 || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (ksyms.nr == ksyms.cap) {
			size_t cap = ksyms.cap ? ksyms.cap * 2 : 65536;
			void *p = realloc(ksyms.syms, cap * sizeof(*ksyms.syms));

			if (!p)
				goto nomem;
			ksyms.syms = p;
			ksyms.cap = cap;
		}
		sym = &ksyms.syms[ksyms.nr];
		sym->addr = addr;
		sym->name = strdup(name);
		sym->module = module[0] ? strdup(module) : NULL;
		if (!sym->name || (module[0] && !sym->module))
			goto nomem;
		ksyms.nr++;
	}
	fclose(f);
	qsort(ksyms.syms, ksyms.nr, sizeof(*ksyms.syms), ksym_cmp);
	return 0;
nomem:
	fclose(f);
	fprintf(stderr, "twintrace: /proc/kallsyms: out of memory\n");
	return -1;
}

static const struct ksym *ksym_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ksyms.nr; i++)
		if (!strcmp(ksyms.syms[i].name, name))
			return &ksyms.syms[i];
	return NULL;
}

/* The symbol holding @addr: the last one at or below it. */
static const struct ksym *ksym_by_addr(unsigned long addr)
{
	size_t lo = 0, hi = ksyms.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksyms.syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ksyms.syms[lo - 1] : NULL;
}

static void ksyms_free(void)
{
	size_t i;

	for (i = 0; i < ksyms.nr; i++) {
		free(ksyms.syms[i].name);
		free(ksyms.syms[i].module);
	}
	free(ksyms.syms);
}

/* The function prototype behind tracepoint @tp in kernel BTF, or NULL. */
static const struct btf_type *tracepoint_proto(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	int id;

	if (!btf)
		return NULL;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

/*
 * Picks tp_btf or raw_tp for each wanted tracepoint and turns off the rest. A tracepoint
 * kernel BTF lacks (local_timer_* outside x86) drops its whole group, which is reported.
 * Without kernel BTF nothing can be checked, and CO-RE relocation fails at load anyway.
 */
static void choose_programs(struct tracepoint *tps, int n, const struct btf *btf,
			    bool use_tp_btf, unsigned int *missing_groups)
{
	int i;

	for (i = 0; i < n; i++)
		if (btf && !tracepoint_proto(btf, tps[i].name) && (env.events & tps[i].group)) {
			*missing_groups |= tps[i].group;
			fprintf(stderr,
				"twintrace: this kernel lacks tracepoint %s: group left out\n",
				tps[i].name);
		}
	for (i = 0; i < n; i++) {
		bool wanted = (env.events & tps[i].group) && !(*missing_groups & tps[i].group);

		bpf_program__set_autoload(tps[i].tp_btf, wanted && use_tp_btf);
		bpf_program__set_autoload(tps[i].raw_tp, wanted && !use_tp_btf);
	}
}

/* kprobe and kretprobe on each --func function (again after a duty cycle's pause). */
static int funcs_attach(struct twintrace_bpf *obj)
{
	int i, err;

	for (i = 0; i < env.nr_funcs; i++) {
		struct traced_func *f = &env.funcs[i];
		LIBBPF_OPTS(bpf_kprobe_opts, kopts, .bpf_cookie = i);

		f->entry = bpf_program__attach_kprobe_opts(obj->progs.func_entry, f->symbol,
							   &kopts);
		kopts.retprobe = true;
		f->exit = f->entry ? bpf_program__attach_kprobe_opts(obj->progs.func_exit,
								     f->symbol, &kopts) : NULL;
		if (!f->exit) {
			err = -errno;
			fprintf(stderr, "twintrace: --func %s=%s: cannot attach kprobe: %s\n",
				f->role, f->symbol, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void funcs_detach(void)
{
	int i;

	for (i = env.nr_funcs - 1; i >= 0; i--) {
		bpf_link__destroy(env.funcs[i].exit);
		bpf_link__destroy(env.funcs[i].entry);
		env.funcs[i].exit = env.funcs[i].entry = NULL;
	}
}

static int attach_all(struct twintrace_bpf *obj, struct tracepoint *tps, int n)
{
	int i, err;

	for (i = 0; i < n; i++) {
		struct bpf_program *prog = bpf_program__autoload(tps[i].tp_btf) ?
					   tps[i].tp_btf : tps[i].raw_tp;

		if (!bpf_program__autoload(prog))
			continue;
		tps[i].link = bpf_program__attach(prog);
		if (!tps[i].link) {
			err = -errno;
			fprintf(stderr, "twintrace: attaching to tracepoint %s: %s\n",
				tps[i].name, strerror(-err));
			return err;
		}
	}
	return funcs_attach(obj);
}

static void detach_all(struct tracepoint *tps, int n)
{
	int i;

	funcs_detach();
	for (i = n - 1; i >= 0; i--) {
		bpf_link__destroy(tps[i].link);
		tps[i].link = NULL;
	}
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Value reported for a rank falling in @slot: its midpoint, never above the exact maximum. */
static __u64 slot_value(__u32 slot, __u64 max)
{
	__u64 low = lat_slot_low(slot), high = lat_slot_low(slot + 1);
	__u64 mid = low + (high - low) / 2;

	return mid > max ? max : mid;
}

/* The value below which a fraction @q of the @count samples lie (nearest rank). */
static __u64 hist_percentile(const __u64 *slots, __u64 count, __u64 max, double q)
{
	__u64 rank = (__u64)(q * count + 0.999999), seen = 0;
	__u32 i;

	if (!count)
		return 0;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LAT_SLOTS; i++) {
		seen += slots[i];
		if (seen >= rank)
			return slot_value(i, max);
	}
	return max;
}

/* The one histogram printer: every non-empty log-linear slot with a bar scaled to the peak. */
static void print_hist(FILE *out, const __u64 *slots, const char *unit)
{
	__u64 peak = 0;
	__u32 i;

	for (i = 0; i < LAT_SLOTS; i++)
		if (slots[i] > peak)
			peak = slots[i];
	if (!peak) {
		fprintf(out, "    (no samples)\n");
		return;
	}
	fprintf(out, "%20s %-6s : %-10s distribution\n", unit, "", "count");
	for (i = 0; i < LAT_SLOTS; i++) {
		int width = (int)(slots[i] * 40 / peak), j;

		if (!slots[i])
			continue;
		fprintf(out, "%12llu -> %-12llu : %-10llu |",
			(unsigned long long)lat_slot_low(i),
			(unsigned long long)lat_slot_low(i + 1) - 1, (unsigned long long)slots[i]);
		for (j = 0; j < 40; j++)
			fputc(j < width ? '*' : ' ', out);
		fprintf(out, "|\n");
	}
}

static json_t *time_stat_json(__u64 count, __u64 ns)
{
	return json_pack("{sIsI}", "count", (json_int_t)count, "ns", (json_int_t)ns);
}

/* With --duty: how long the block programs were attached. */
static __u64 duty_attached_ns;

static json_t *block_json(const struct twintrace_bpf__bss *bss)
{
	__u64 count = bss->lat_count, max = bss->lat_max_ns;
	json_t *buckets = json_array(), *block;
	__u32 i;

	for (i = 0; i < LAT_SLOTS; i++)
		if (bss->lat_hist[i])
			json_array_append_new(buckets, json_pack("[III]",
				(json_int_t)lat_slot_low(i), (json_int_t)lat_slot_low(i + 1),
				(json_int_t)bss->lat_hist[i]));
	block = json_pack("{sIsIsIsIsfsIsIsIsIsIsIs{sisiso}}",
		"sample_every", (json_int_t)env.sample_every,
		"issued", (json_int_t)bss->issue_seen,
		"count", (json_int_t)count,
		"sum_ns", (json_int_t)bss->lat_sum_ns,
		"mean_ns", count ? (double)bss->lat_sum_ns / count : 0.0,
		"max_ns", (json_int_t)max,
		"p50_ns", (json_int_t)hist_percentile(bss->lat_hist, count, max, 0.50),
		"p99_ns", (json_int_t)hist_percentile(bss->lat_hist, count, max, 0.99),
		"p999_ns", (json_int_t)hist_percentile(bss->lat_hist, count, max, 0.999),
		"unmatched_completions", (json_int_t)bss->complete_unmatched,
		"dropped_issues", (json_int_t)bss->issue_dropped,
		"histogram",
		"sub_buckets", (int)LAT_SUBS,
		"exact_below_ns", (int)LAT_SUBS,
		"buckets", buckets);
	if (block && env.duty_on_ms)
		json_object_set_new(block, "duty", json_pack("{sisisI}",
			"on_ms", (int)env.duty_on_ms, "period_ms", (int)env.duty_period_ms,
			"attached_ns", (json_int_t)duty_attached_ns));
	return block;
}

static json_t *hardirq_json(int map_fd)
{
	json_t *handlers = json_array();
	struct irq_key key, next, *prev = NULL;
	__u64 count = 0, ns = 0;
	struct time_stat stat;

	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &stat))
			continue;
		key.name[IRQ_NAME_LEN - 1] = '\0';
		json_array_append_new(handlers, json_pack("{sssIsI}", "name", key.name,
			"count", (json_int_t)stat.count, "ns", (json_int_t)stat.ns));
		count += stat.count;
		ns += stat.ns;
	}
	return json_pack("{sIsIso}", "count", (json_int_t)count, "ns", (json_int_t)ns,
			 "handlers", handlers);
}

static json_t *softirq_json(const struct twintrace_bpf__bss *bss)
{
	json_t *vectors = json_array();
	__u64 count = 0, ns = 0;
	int i;

	for (i = 0; i < NR_SOFTIRQ_VECS; i++) {
		json_array_append_new(vectors, json_pack("{sssIsI}", "name", softirq_names[i],
			"count", (json_int_t)bss->softirq_count[i],
			"ns", (json_int_t)bss->softirq_ns[i]));
		count += bss->softirq_count[i];
		ns += bss->softirq_ns[i];
	}
	return json_pack("{sIsIso}", "count", (json_int_t)count, "ns", (json_int_t)ns,
			 "vectors", vectors);
}

static json_t *hrtimer_json(const struct twintrace_bpf__bss *bss)
{
	json_t *functions = json_array();
	__u64 count = 0, ns = 0;
	char addr[32];
	int i;

	for (i = 0; i < HRTIMER_SLOTS; i++) {
		const struct hrtimer_stat *stat = &bss->hrtimer_stats[i];
		const struct ksym *sym;

		if (!stat->function || !stat->count)
			continue;
		sym = ksym_by_addr(stat->function);
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)stat->function);
		json_array_append_new(functions, json_pack("{sssssssIsI}",
			"function", sym && sym->addr == stat->function ? sym->name : addr,
			"module", sym && sym->module ? sym->module : "vmlinux",
			"address", addr,
			"count", (json_int_t)stat->count, "ns", (json_int_t)stat->ns));
		count += stat->count;
		ns += stat->ns;
	}
	return json_pack("{sIsIsosI}", "count", (json_int_t)count, "ns", (json_int_t)ns,
			 "functions", functions, "dropped", (json_int_t)bss->hrtimer_dropped);
}

/*
 * The time in function @i over all its calls: what the timed calls took (one in
 * sample_every), scaled to the calls counted.
 */
static __u64 func_total_ns(const struct twintrace_bpf__bss *bss, int i)
{
	const struct time_stat *t = &bss->func_returns[i];

	if (!t->count || t->count >= bss->func_calls[i])
		return t->ns;
	return (__u64)((double)t->ns * bss->func_calls[i] / t->count + 0.5);
}

static json_t *functions_json(const struct twintrace_bpf__bss *bss)
{
	json_t *funcs = json_array();
	int i;

	for (i = 0; i < env.nr_funcs; i++)
		json_array_append_new(funcs, json_pack("{sssssIsIsIsI}",
			"role", env.funcs[i].role, "symbol", env.funcs[i].symbol,
			"calls", (json_int_t)bss->func_calls[i],
			"returns", (json_int_t)bss->func_returns[i].count,
			"timed_ns", (json_int_t)bss->func_returns[i].ns,
			"ns", (json_int_t)func_total_ns(bss, i)));
	return funcs;
}

/* Runs of each loaded program skipped because a BPF program was already running on its CPU. */
static json_t *missed_json(struct twintrace_bpf *obj)
{
	json_t *missed = json_object();
	struct bpf_program *prog;
	const char *name;

	bpf_object__for_each_program(prog, obj->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(prog) ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		name = bpf_program__name(prog);
		if (!strncmp(name, "tpbtf_", 6) || !strncmp(name, "rawtp_", 6))
			name += 6;
		json_object_set_new(missed, name, json_integer(info.recursion_misses));
	}
	return missed;
}

static json_t *section(unsigned int group, unsigned int missing, json_t *value)
{
	if ((env.events & group) && !(missing & group))
		return value;
	json_decref(value);
	return json_null();
}

static json_t *result_json(struct twintrace_bpf *obj, bool tp_btf, unsigned int missing,
			   __u64 duration_ns)
{
	const struct twintrace_bpf__bss *bss = obj->bss;
	json_t *root, *events = json_array(), *timer;
	struct utsname uts;
	char dev[32];
	size_t i;

	uname(&uts);
	snprintf(dev, sizeof(dev), "%u:%u", env.dev_major, env.dev_minor);
	for (i = 0; i < ARRAY_SIZE(group_names); i++)
		if ((env.events & (1U << i)) && !(missing & (1U << i)))
			json_array_append_new(events, json_string(group_names[i]));
	timer = time_stat_json(bss->timer_irq.count, bss->timer_irq.ns);
	root = json_pack("{sssisssssososs?sI}",
		"tool", "twintrace", "version", JSON_VERSION, "kernel", uts.release,
		"attach", tp_btf ? "tp_btf" : "raw_tp", "events", events,
		"unavailable", json_array(),
		"device", env.filter_dev ? dev : NULL,
		"duration_ns", (json_int_t)duration_ns);
	for (i = 0; i < ARRAY_SIZE(group_names); i++)
		if (missing & (1U << i))
			json_array_append_new(json_object_get(root, "unavailable"),
					      json_string(group_names[i]));
	json_object_set_new(root, "block", section(EV_BLOCK, missing, block_json(bss)));
	json_object_set_new(root, "hardirqs", section(EV_HARDIRQ, missing,
		hardirq_json(bpf_map__fd(obj->maps.hardirq_stats))));
	json_object_set_new(root, "softirqs", section(EV_SOFTIRQ, missing, softirq_json(bss)));
	json_object_set_new(root, "timer_interrupts", section(EV_TIMER, missing, timer));
	json_object_set_new(root, "hrtimers", section(EV_HRTIMER, missing, hrtimer_json(bss)));
	json_object_set_new(root, "functions", functions_json(bss));
	json_object_set_new(root, "functions_dropped", json_integer(bss->func_dropped));
	json_object_set_new(root, "missed", missed_json(obj));
	return root;
}

/* Writes @root to env.output through a temporary file, so readers never see half a file. */
static int write_json(json_t *root)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", env.output) >= (int)sizeof(tmp)) {
		fprintf(stderr, "twintrace: -o %s: path too long\n", env.output);
		return -1;
	}
	if (json_dump_file(root, tmp, JSON_INDENT(2)) || rename(tmp, env.output)) {
		fprintf(stderr, "twintrace: -o %s: cannot write: %s\n", env.output,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void print_text(json_t *root, const struct twintrace_bpf__bss *bss)
{
	const char *prog;
	json_t *value;
	json_t *block = json_object_get(root, "block");
	json_t *sections[] = {
		json_object_get(root, "hardirqs"), json_object_get(root, "softirqs"),
		json_object_get(root, "timer_interrupts"), json_object_get(root, "hrtimers"),
	};
	static const char * const titles[] = { "hard IRQs", "softirqs", "local timer interrupts", "hrtimers" };
	size_t i, j;

	if (json_is_object(block)) {
		printf("block request latency (issue -> complete)%s%s\n",
		       env.filter_dev ? " on " : "",
		       env.filter_dev ? json_string_value(json_object_get(root, "device")) : "");
		print_hist(stdout, bss->lat_hist, "ns");
		printf("count %lld  mean %.0f ns  p50 %lld  p99 %lld  p99.9 %lld  max %lld ns  "
		       "(timed 1 in %lld of %lld issued)\n",
		       json_integer_value(json_object_get(block, "count")),
		       json_real_value(json_object_get(block, "mean_ns")),
		       json_integer_value(json_object_get(block, "p50_ns")),
		       json_integer_value(json_object_get(block, "p99_ns")),
		       json_integer_value(json_object_get(block, "p999_ns")),
		       json_integer_value(json_object_get(block, "max_ns")),
		       json_integer_value(json_object_get(block, "sample_every")),
		       json_integer_value(json_object_get(block, "issued")));
	}
	for (i = 0; i < ARRAY_SIZE(sections); i++) {
		json_t *list = NULL, *item;

		if (!json_is_object(sections[i]))
			continue;
		printf("%s: count %lld  ns %lld\n", titles[i],
		       json_integer_value(json_object_get(sections[i], "count")),
		       json_integer_value(json_object_get(sections[i], "ns")));
		json_unpack(sections[i], "{s?o}", i == 1 ? "vectors" :
			    i == 3 ? "functions" : "handlers", &list);
		json_array_foreach(list, j, item) {
			json_t *name = json_object_get(item, i == 3 ? "function" : "name");
			char label[96];

			if (!json_integer_value(json_object_get(item, "count")))
				continue;
			snprintf(label, sizeof(label), i == 3 ? "%s [%s]" : "%s",
				 json_string_value(name),
				 json_string_value(json_object_get(item, "module")));
			printf("    %-40s %12lld %14lld ns\n", label,
			       json_integer_value(json_object_get(item, "count")),
			       json_integer_value(json_object_get(item, "ns")));
		}
	}
	for (i = 0; i < (size_t)env.nr_funcs; i++)
		printf("function %s=%s: calls %llu returns %llu ns %llu\n", env.funcs[i].role,
		       env.funcs[i].symbol, (unsigned long long)bss->func_calls[i],
		       (unsigned long long)bss->func_returns[i].count,
		       (unsigned long long)func_total_ns(bss, i));
	json_object_foreach(json_object_get(root, "missed"), prog, value)
		if (json_integer_value(value))
			printf("missed runs of %s: %lld\n", prog, json_integer_value(value));
}

/*
 * Says once per module, in one line, when a traced function's module has no BTF on this
 * kernel (built without the kernel's vmlinux): kprobes need none, so tracing goes on.
 */
static void note_module_btf(int i)
{
	const char *mod = ksym_by_name(env.funcs[i].symbol)->module;
	char path[192];
	int j;

	if (!mod)
		return;
	for (j = 0; j < i; j++)
		if (ksym_by_name(env.funcs[j].symbol)->module &&
		    !strcmp(ksym_by_name(env.funcs[j].symbol)->module, mod))
			return;
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", mod);
	if (access(path, F_OK))
		fprintf(stderr,
			"twintrace: module %s has no BTF (no %s): traced by kprobe alone\n",
			mod, path);
}

static int check_funcs(void)
{
	int i;

	if (env.nr_funcs && access("/sys/bus/event_source/devices/kprobe", F_OK) &&
	    access("/sys/kernel/tracing/kprobe_events", F_OK) &&
	    access("/sys/kernel/debug/tracing/kprobe_events", F_OK)) {
		fprintf(stderr, "twintrace: --func %s=%s: this kernel has no kprobes "
			"(CONFIG_KPROBES)\n", env.funcs[0].role, env.funcs[0].symbol);
		return -1;
	}

	for (i = 0; i < env.nr_funcs; i++)
		if (!ksym_by_name(env.funcs[i].symbol)) {
			fprintf(stderr, "twintrace: --func %s=%s: no such function in "
				"/proc/kallsyms (module not loaded?)\n", env.funcs[i].role,
				env.funcs[i].symbol);
			return -1;
		}
	for (i = 0; i < env.nr_funcs; i++)
		note_module_btf(i);
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* (Re)attach the block programs, completion first, on a cleared tag table. */
static int block_attach(struct twintrace_bpf *obj, struct tracepoint *tps, int n)
{
	int i;

	memset(obj->bss->tag_start, 0, sizeof(obj->bss->tag_start));
	for (i = n - 1; i >= 0; i--) {
		struct bpf_program *prog = bpf_program__autoload(tps[i].tp_btf) ?
					   tps[i].tp_btf : tps[i].raw_tp;

		if (tps[i].group != EV_BLOCK || tps[i].link || !bpf_program__autoload(prog))
			continue;
		tps[i].link = bpf_program__attach(prog);
		if (!tps[i].link)
			return -errno;
	}
	return 0;
}

static void block_detach(struct tracepoint *tps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (tps[i].group == EV_BLOCK) {
			bpf_link__destroy(tps[i].link);
			tps[i].link = NULL;
		}
}

/*
 * Until a signal or the duration. With --duty the block programs and the --func probes run
 * ON ms of every PERIOD: a detached tracepoint or kprobe costs nothing, which per-request
 * sampling cannot reach.
 * *@on_ns is the time they were attached.
 */
static int wait_for_stop(struct twintrace_bpf *obj, struct tracepoint *tps, int n,
			 __u64 *on_ns)
{
	__u64 deadline = env.duration ? now_ns() + env.duration * 1000000000ULL : 0;
	__u64 t;
	int err;

	*on_ns = 0;
	while (!exiting && (!deadline || now_ns() < deadline)) {
		if (!env.duty_on_ms) {
			sleep_ms(100);
			continue;
		}
		t = now_ns();
		sleep_ms(env.duty_on_ms);
		block_detach(tps, n);
		funcs_detach();
		*on_ns += now_ns() - t;
		if (exiting)
			break;
		sleep_ms(env.duty_period_ms - env.duty_on_ms);
		err = block_attach(obj, tps, n);
		if (!err)
			err = funcs_attach(obj);
		if (err) {
			fprintf(stderr, "twintrace: re-attaching the block programs: %s\n",
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = argp_doc,
	};
	struct twintrace_bpf *obj = NULL;
	struct tracepoint tps[10];
	unsigned int missing = 0;
	struct btf *vmlinux_btf;
	const struct btf_type *issue;
	struct sigaction sa = { .sa_handler = sig_handler };
	bool use_tp_btf;
	__u64 start_ns;
	json_t *root;
	int err, n = 0;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	libbpf_set_print(libbpf_print_fn);
	if (ksyms_load() || check_funcs()) {
		ksyms_free();
		return 1;
	}

	vmlinux_btf = btf__load_vmlinux_btf();
	use_tp_btf = vmlinux_btf && !env.force_raw_tp;

	obj = twintrace_bpf__open();
	if (!obj) {
		fprintf(stderr, "twintrace: cannot open the BPF object: %s\n", strerror(errno));
		err = 1;
		goto cleanup;
	}
#define TP(tp, grp, prog) \
	tps[n++] = (struct tracepoint){ .name = tp, .group = grp,		\
			.tp_btf = obj->progs.tpbtf_##prog, .raw_tp = obj->progs.rawtp_##prog }
	TP("block_rq_issue", EV_BLOCK, rq_issue);
	TP("block_rq_complete", EV_BLOCK, rq_complete);
	TP("irq_handler_entry", EV_HARDIRQ, irq_entry);
	TP("irq_handler_exit", EV_HARDIRQ, irq_exit);
	TP("softirq_entry", EV_SOFTIRQ, softirq_entry);
	TP("softirq_exit", EV_SOFTIRQ, softirq_exit);
	TP("local_timer_entry", EV_TIMER, timer_entry);
	TP("local_timer_exit", EV_TIMER, timer_exit);
	TP("hrtimer_expire_entry", EV_HRTIMER, hrtimer_entry);
	TP("hrtimer_expire_exit", EV_HRTIMER, hrtimer_exit);
#undef TP
	choose_programs(tps, n, vmlinux_btf, use_tp_btf, &missing);
	bpf_program__set_autoload(obj->progs.func_entry, env.nr_funcs > 0);
	bpf_program__set_autoload(obj->progs.func_exit, env.nr_funcs > 0);

	issue = tracepoint_proto(vmlinux_btf, "block_rq_issue");
	obj->rodata->issue_has_queue_arg = issue && btf_vlen(issue) == 3;
	obj->rodata->filter_dev = env.filter_dev;
	obj->rodata->sample_every = env.sample_every;
	obj->rodata->target_dev = env.dev_major << 20 | env.dev_minor;

	err = twintrace_bpf__load(obj);
	if (err) {
		fprintf(stderr, "twintrace: cannot load the BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = attach_all(obj, tps, n);
	if (err)
		goto cleanup;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		err = -errno;
		fprintf(stderr, "twintrace: cannot install signal handlers: %s\n", strerror(errno));
		goto cleanup;
	}
	start_ns = now_ns();
	printf("ready\n");
	fflush(stdout);

	err = wait_for_stop(obj, tps, n, &duty_attached_ns);
	detach_all(tps, n);
	if (err)
		goto cleanup;

	root = result_json(obj, use_tp_btf, missing, now_ns() - start_ns);
	if (!root) {
		fprintf(stderr, "twintrace: cannot build the JSON result\n");
		err = 1;
		goto cleanup;
	}
	if (env.histogram)
		print_text(root, obj->bss);
	if (env.output && write_json(root))
		err = 1;
	json_decref(root);

cleanup:
	detach_all(tps, n);
	twintrace_bpf__destroy(obj);
	btf__free(vmlinux_btf);
	ksyms_free();
	return err ? 1 : 0;
}

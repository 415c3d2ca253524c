// SPDX-License-Identifier: GPL-2.0
/*
 * insn.c - instruction profiles of a run: marks windows in the guest (through twinmark),
 * and on the host resolves the insncount plugin's per-address counts to functions, adds the
 * per-I/O instruction metrics to samples.csv and writes the per-function tables.
 * The file formats are described in insn.h and docs/insn-profiles.md.
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "facts.h"
#include "family.h"
#include "insn.h"
#include "rustsym.h"
#include "util.h"
#include "vec.h"

/* Where a function's instructions count. */
enum insn_class { CLASS_DRIVER, CLASS_LAYER, CLASS_CORE, CLASS_KERNEL, N_CLASSES };

static const char *const class_names[N_CLASSES] = {
	[CLASS_DRIVER] = "driver",
	[CLASS_LAYER] = "layer",
	[CLASS_CORE] = "core",
	[CLASS_KERNEL] = "kernel",
};

/*
 * The block and net cores, by function name prefix (built-in code only). kallsyms says
 * nothing about source files, so these prefixes stand for block/ and net/ (plus the blk-mq
 * tag bitmaps of lib/sbitmap.c); docs/insn-profiles.md lists what they miss.
 */
static const char *const block_core_prefixes[] = {
	"blk", "__blk", "bio_", "__bio_", "bvec_", "submit_bio", "__submit_bio", "bdev_",
	"disk_", "part_", "rq_qos_", "__rq_qos_", "elv_", "sbitmap_", "__sbitmap_", NULL,
};

static const char *const net_core_prefixes[] = {
	"netif_", "__netif_", "napi_", "__napi_", "net_rx_action", "net_tx_action", "dev_",
	"__dev_", "netdev_", "__netdev_", "skb_", "__skb_", "kfree_skb", "__kfree_skb",
	"consume_skb", "alloc_skb", "__alloc_skb", "build_skb", "__build_skb", "gro_", "__gro_", "eth_", "qdisc_", "__qdisc_", "sch_", "pfifo_", "validate_xmit",
	"rps_", "process_backlog", "ip_", "__ip_", "ipv4_", "inet_", "__inet_", "udp",
	"__udp", "tcp_", "__tcp_", "sock_", "__sock_", "sk_", "__sk_", "fib_", "neigh_",
	"__neigh_", "dst_", "nf_", "__nf_", NULL,
};

static const char *const layer_prefixes[] = { "safe_", "__safe_", NULL };

/*
 * A Rust arm's layer: the C helpers it calls (the kernel's rust_helper_*, and the C shim
 * of rustnet, drivers-safe/net/rustnet_helpers.c, which names its functions rust_helper_
 * and rust_net_), and Rust code whose path runs through the local layer or the kernel
 * crate. The Rust twins mount drivers-safe/kernel/rust as `mod layer` (rustnull,
 * rustnvme) or its net files at the crate root (rustnet); these are those modules.
 */
static const char *const rust_layer_prefixes[] = { "rust_helper_", "rust_net_", NULL };
static const char *const rust_layer_modules[] = {
	"layer", "net", "net_napi", "net_skb", "net_timer", NULL,
};

/*
 * Waiting, not working: the scheduler switching away from and back to a task that sleeps
 * (sleep, wake-up, context switch, load tracking, pressure stall accounting) and the idle
 * and poll-idle loops (built-in code only). How often a task sleeps per I/O depends on when
 * the device completes, which for QEMU's NVMe is host timing; these are counted apart in
 * wait_insn_per_io, and busy_insn_per_io is the whole path without them.
 */
static const char *const wait_prefixes[] = {
	"schedule", "__schedule", "io_schedule", "psi_", "__switch_to", "switch_mm",
	"finish_task_switch", "pick_next_task", "put_prev_task", "set_next_task",
	"pick_next_entity", "set_next_entity", "put_prev_entity", "place_entity", "enqueue_",
	"dequeue_", "update_load_avg", "__update_load_avg", "update_curr", "update_rq_clock",
	"update_cfs", "update_min_vruntime", "reweight_", "try_to_wake_up", "ttwu_",
	"wake_up_process", "__wake_up", "autoremove_wake_function", "prepare_to_wait",
	"finish_wait", "rcu_note_context_switch", "sched_", "native_sched_clock", "record_times",
	"check_preempt", "resched_curr", "select_task_rq", "do_idle", "default_idle",
	"cpuidle_", "__cpuidle", "poll_idle", "arch_cpu_idle", "cpu_idle_poll", "tick_nohz_idle",
	"acpi_idle", "mwait_idle", "intel_idle", "native_safe_halt", NULL,
};

#define INSN_METRICS 7
static const char *const insn_metric_names[INSN_METRICS] = {
	"insn_per_io", "kernel_insn_per_io", "driver_insn_per_io", "core_insn_per_io",
	"wait_insn_per_io", "busy_insn_per_io", "pollwait_insn_per_io",
};

#define INSN_CLASS_INFO(id, name, what, glc, zen4) \
	[INSN_CLASS_##id] = { name, what, { glc, zen4 } },
const struct insn_class_info insn_class_table[N_INSN_CLASSES] = {
	INSN_CLASSES(INSN_CLASS_INFO)
};
#undef INSN_CLASS_INFO

#define INSN_UARCH_NAME(id, name, title) [INSN_UARCH_##id] = name,
#define INSN_UARCH_TITLE(id, name, title) [INSN_UARCH_##id] = title,
const char *const insn_uarch_names[N_INSN_UARCHS] = { INSN_UARCHS(INSN_UARCH_NAME) };
const char *const insn_uarch_titles[N_INSN_UARCHS] = { INSN_UARCHS(INSN_UARCH_TITLE) };
#undef INSN_UARCH_NAME
#undef INSN_UARCH_TITLE
const double insn_cost_other[N_INSN_UARCHS] = { INSN_COST_OTHER_GLC, INSN_COST_OTHER_ZEN4 };

/* Loads and stores count memory accesses, not instructions of their own. */
static bool class_is_access(int c)
{
	return c == INSN_CLASS_LOAD || c == INSN_CLASS_STORE;
}

double insn_class_extra(enum insn_class_id c, enum insn_uarch u)
{
	return class_is_access(c) ? 0 : insn_class_table[c].cost[u] - insn_cost_other[u];
}

double insn_estimate(const double *cls, double insns, enum insn_uarch u)
{
	double est = insns * insn_cost_other[u];

	for (int c = 0; c < N_INSN_CLASSES; c++)
		est += cls[c] * insn_class_extra(c, u);
	return est;
}

/*
 * The class metrics: per class its whole-path and driver count, then per microarchitecture
 * the whole-path and driver estimate. CLASS_METRIC(kind, i) is the index of one.
 */
enum class_metric_kind { CM_CLASS, CM_DRIVER_CLASS, CM_EST, CM_DRIVER_EST };
#define CLASS_METRICS	(2 * N_INSN_CLASSES + 2 * N_INSN_UARCHS)

static void class_metric_name(int k, char *out, size_t len)
{
	if (k < 2 * N_INSN_CLASSES)
		snprintf(out, len, "%s%s_per_io", k % 2 ? "driver_" : "",
			 insn_class_table[k / 2].name);
	else
		snprintf(out, len, "%sest_cycles_%s_per_io", k % 2 ? "driver_" : "",
			 insn_uarch_names[(k - 2 * N_INSN_CLASSES) / 2]);
}

/*
 * Indirect-branch thunks: a retpoline kernel compiles an indirect call or jump into a direct
 * call or jump of one of these, so a block ending in one counts one indirect call or jump
 * per execution (where the call is made, not in the thunk).
 */
static const char *const thunk_prefixes[] = {
	"__x86_indirect_thunk_", "__x86_indirect_call_thunk_", "__x86_indirect_jump_thunk_",
	"__x86_indirect_its_thunk_", NULL,
};

/* A text symbol of vmlinux or of one module. */
struct symbol {
	uint64_t addr;
	char *name;
	char *module;		/* NULL for vmlinux */
};

struct symtab {
	struct symbol *v;
	size_t n, cap;
};

/*
 * One translation block start address of a window; target: the direct branch ending it,
 * which target_execs executions reached (fewer than execs when QEMU left a block early).
 */
struct tb_count {
	uint64_t addr, insns, execs;
	uint64_t cls[N_INSN_CLASSES];
	uint64_t target, target_execs;
	bool target_is_call;
};

/* One window as the plugin reported it; classes: it has class counts (mem: and accesses). */
struct window {
	unsigned int id;
	uint64_t total, kernel, user;
	uint64_t user_cls[N_INSN_CLASSES];
	bool classes, mem;
	bool polled;		/* a poll function was watched: poll_wait holds its empty turns */
	uint64_t poll_wait, poll_turns, poll_calls;
	struct tb_count *tbs;
	size_t n_tbs, cap;
	bool complete;
	char note[64];		/* why the window cannot be used, or "" */
	unsigned int note_file;	/* the plugin file that set the note */
};

struct windows {
	struct window *v;
	size_t n, cap;
};

/* A function's counts summed over the samples of one arm and workload. */
struct func_sum {
	char *key;		/* module:name, module empty for vmlinux */
	enum insn_class class;
	double insn_per_io, calls_per_io;
	double cls_per_io[N_INSN_CLASSES];
};

/* The samples of one family, arm and workload. */
struct group {
	char family[RESULTS_NAME_LEN], arm[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	char driver[RESULTS_NAME_LEN];	/* first module under test */
	unsigned int samples;
	struct func_sum *funcs;		/* open addressing on key */
	size_t n_funcs, cap_funcs;
};

struct groups {
	struct group *v;
	size_t n, cap;
	bool classes;		/* some window had class counts */
};

static void *xrealloc(void *p, size_t n)
{
	return vec_realloc(p, n);
}

static char *xstrdup(const char *s)
{
	return strcpy(xrealloc(NULL, strlen(s) + 1), s);
}

#define GROW(arr, n, cap) ((arr) = vec_grow((arr), (n), &(cap), sizeof(*(arr))))

static bool has_prefix(const char *name, const char *const *prefixes)
{
	for (; *prefixes; prefixes++)
		if (!strncmp(name, *prefixes, strlen(*prefixes)))
			return true;
	return false;
}

/* Guest side ------------------------------------------------------------------------- */

/* Whose functions count as core for a family, and modules that belong to an arm's driver. */
static const struct {
	const char *family, *core;
} family_cores[] = {
	{ "null", "block" },
	{ "nvme", "block" },
	{ "net", "net" },
};

static const struct {
	const char *module, *with;
} driver_companions[] = {
	{ "nvme", "nvme_core" },	/* the upstream NVMe arm is nvme + nvme_core */
};

static struct {
	bool set;
	unsigned int id;
	char text[512];		/* "-o DIR family=... modules=... [core=...]" */
} pending;

/* The io_uring function every polled read or write ends in (its ki_complete). */
#define INSN_POLL_DONE_FUNC	"io_complete_rw_iopoll"

/*
 * The poll op of the sample's arm: the `poll=` entry of its trace_funcs (a safe variant's
 * twin's), into @sym; false when it has none.
 */
static bool arm_poll_func(const struct insn_window_desc *d, char *sym, size_t len)
{
	const struct family_ops *ops = family_find(d->family);
	const struct family_arm *arm;
	const char *p;
	char name[64];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(d->arm, "+"), d->arm);
	arm = ops ? family_find_arm(ops, name) : NULL;
	if (arm && !arm->trace_funcs && arm->role == ARM_VARIANT) {
		name[strcspn(name, "-")] = '\0';
		arm = family_find_arm(ops, name);
	}
	for (p = arm ? arm->trace_funcs : NULL; p && *p; p += strcspn(p, " "),
	     p += strspn(p, " "))
		if (!strncmp(p, "poll=", 5)) {
			snprintf(sym, len, "%.*s", (int)strcspn(p + 5, " "), p + 5);
			return true;
		}
	return false;
}

/* The address of text symbol @sym in /proc/kallsyms, as hex into @addr; false if absent. */
static bool kallsyms_addr(const char *sym, char *addr, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], a[32], t, name[256];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%31s %c %255s", a, &t, name) == 3 &&
			(t == 't' || t == 'T') && !strcmp(name, sym);
	if (f)
		fclose(f);
	if (found)
		snprintf(addr, len, "%s", a);
	return found;
}

/* twinmark poll|done with the address of @sym; a line on stderr when it cannot. */
static void twinmark_watch(const char *op, const char *sym)
{
	char addr[32], err[256];
	char *argv[] = { "twinmark", (char *)op, addr, NULL };
	struct proc_result r;

	if (!kallsyms_addr(sym, addr, sizeof(addr))) {
		fprintf(stderr, "twinbench: %s not in /proc/kallsyms: the poll loop's empty turns "
			"are not counted apart\n", sym);
		return;
	}
	if (proc_run(argv, NULL, &r, err, sizeof(err))) {
		fprintf(stderr, "twinbench: twinmark %s %s: %s\n", op, addr, err);
		return;
	}
	if (r.status)
		fprintf(stderr, "twinbench: twinmark %s %s failed: %s", op, addr,
			r.errout ? r.errout : "\n");
	proc_result_free(&r);
}

/*
 * Names to the plugin the function that ends a polled io_uring I/O (once, before the
 * boot's first sample) and the arm's poll op, so that it counts apart the turns of the poll
 * loop in which no I/O ended (pollwait_insn_per_io). Runs after the driver is loaded and
 * before fio, so both are translated with the plugin watching them.
 */
static void watch_poll_func(const struct insn_window_desc *d)
{
	static bool done_watched;
	char sym[128];

	if (!done_watched)
		twinmark_watch("done", INSN_POLL_DONE_FUNC);
	done_watched = true;
	if (arm_poll_func(d, sym, sizeof(sym)))
		twinmark_watch("poll", sym);
}

void insn_window_set(const char *out_dir, unsigned int id, const struct insn_window_desc *d)
{
	const char *core = NULL, *with = NULL;
	const char *guest = getenv("TWINBENCH_GUEST");
	int n;

	pending.set = false;
	if (!d || !guest || strcmp(guest, "1"))
		return;
	for (size_t i = 0; i < ARRAY_LEN(family_cores); i++)
		if (!strcmp(d->family, family_cores[i].family))
			core = family_cores[i].core;
	for (size_t i = 0; i < ARRAY_LEN(driver_companions); i++)
		if (!strcmp(d->module, driver_companions[i].module))
			with = driver_companions[i].with;
	n = snprintf(pending.text, sizeof(pending.text),
		     "-o '%s/%s' family='%s' arm='%s' workload='%s' sample=%u modules=%s%s%s%s%s",
		     out_dir, INSN_DIR, d->family, d->arm, d->workload, d->sample, d->module,
		     with ? "," : "", with ? with : "", core ? " core=" : "", core ? core : "");
	if (n < 0 || (size_t)n >= sizeof(pending.text) || strchr(pending.text + 3, '\n')) {
		fprintf(stderr, "twinbench: instruction window %u: description too long\n", id);
		return;
	}
	pending.id = id;
	pending.set = true;
	watch_poll_func(d);
}

static int hook_fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

int insn_hook_start(char *buf, size_t len, const char *cmd)
{
	if (!pending.set)
		return hook_fits(snprintf(buf, len, "%s", cmd), len);
	return hook_fits(snprintf(buf, len, "{ twinmark start %u; %s; }", pending.id, cmd), len);
}

int insn_hook_stop(char *buf, size_t len, const char *cmd, double ios)
{
	if (!pending.set)
		return hook_fits(snprintf(buf, len, "%s", cmd), len);
	return hook_fits(snprintf(buf, len, "{ %s; twinmark stop %u %s ios=%.0f; }", cmd,
				  pending.id, pending.text, ios), len);
}

/* Symbols ------------------------------------------------------------------------------ */

static int symbol_cmp(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Adds the text symbols of a /proc/kallsyms line ("ADDR TYPE NAME [MODULE]") to @t.
 * Returns 1 for a kallsyms line, 0 for anything else.
 */
static int symtab_add_line(struct symtab *t, const char *line)
{
	char name[256], module[64] = "";
	unsigned long long addr;
	size_t digits = strspn(line, "0123456789abcdef");
	char type;
	int n;

	if (digits < 8 || line[digits] != ' ')
		return 0;
	n = sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type, name, module);
	if (n < 3)
		return 0;
	if (type != 't' && type != 'T')
		return 1;
	GROW(t->v, t->n, t->cap);
	t->v[t->n].addr = addr;
	t->v[t->n].name = xstrdup(name);
	t->v[t->n].module = n == 4 ? xstrdup(module) : NULL;
	t->n++;
	return 1;
}

static void symtab_free(struct symtab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].module);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/*
 * The index of the symbol holding @addr (the last one at or below it), or -1. Symbols do
 * not say where they end, so an address more than 1 MiB past a symbol is unresolved.
 */
static long symtab_find(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - t->v[lo - 1].addr > (1u << 20))
		return -1;
	return (long)lo - 1;
}

static int load_vmlinux_symbols(const char *run_dir, struct symtab *t, char *err, size_t len)
{
	char path[4096], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/kallsyms-vmlinux.txt", run_dir, INSN_DIR);
	f = fopen(path, "r");
	if (!f)
		return seterr(err, len, "%s: %s (twinmark stop -o writes it)", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		symtab_add_line(t, line);
	fclose(f);
	if (!t->n)
		return seterr(err, len, "%s: no text symbols (were addresses hidden by "
			    "kptr_restrict?)", path);
	qsort(t->v, t->n, sizeof(*t->v), symbol_cmp);
	return 0;
}

/* Plugin output ------------------------------------------------------------------------ */

static struct window *window_get(struct windows *ws, unsigned int id)
{
	for (size_t i = 0; i < ws->n; i++)
		if (ws->v[i].id == id)
			return &ws->v[i];
	GROW(ws->v, ws->n, ws->cap);
	memset(&ws->v[ws->n], 0, sizeof(ws->v[ws->n]));
	ws->v[ws->n].id = id;
	return &ws->v[ws->n++];
}

/* A window measured again (in a later boot) forgets what an earlier boot said about it. */
static void window_reset(struct window *w, unsigned int file)
{
	w->n_tbs = 0;
	w->complete = false;
	w->classes = false;
	w->polled = false;
	w->poll_wait = w->poll_turns = w->poll_calls = 0;
	memset(w->user_cls, 0, sizeof(w->user_cls));
	if (w->note_file != file)
		w->note[0] = '\0';
}

/*
 * The plugin's "classes NAME... mem on|off" line: which class each count column holds
 * (@col[i], -1 for a class this side does not know) and how many there are; -1 if the
 * line is not one.
 */
static int parse_classes(char *line, int *col, bool *mem)
{
	int n = 0;

	*mem = false;
	for (char *tok = strtok(line + 8, " \n"); tok; tok = strtok(NULL, " \n")) {
		if (!strcmp(tok, "mem")) {
			tok = strtok(NULL, " \n");
			*mem = tok && !strcmp(tok, "on");
			return n;
		}
		if (n == N_INSN_CLASSES * 2)
			return -1;
		col[n] = -1;
		for (int c = 0; c < N_INSN_CLASSES; c++)
			if (!strcmp(tok, insn_class_table[c].name))
				col[n] = c;
		n++;
	}
	return n;
}

/* Reads @n class counts from @p into @cls by @col; false when they are not there. */
static bool parse_counts(const char *p, const int *col, int n, uint64_t *cls)
{
	for (int i = 0; i < n; i++) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p)
			return false;
		if (col[i] >= 0)
			cls[col[i]] = v;
		p = end;
	}
	return !*(p + strspn(p, " \n"));
}

/* Reads a "tb ADDR INSNS EXECS [call|jmp TARGET N] C..." line; false when it is not one. */
static bool parse_tb(const char *line, const int *col, int n_cols, struct tb_count *tb)
{
	unsigned long long a, b, c, target, texecs;
	char kind[8];
	int used = 0, more = 0;

	memset(tb, 0, sizeof(*tb));
	if (sscanf(line, "tb %llx %llu %llu%n", &a, &b, &c, &used) != 3)
		return false;
	*tb = (struct tb_count){ .addr = a, .insns = b, .execs = c };
	if (sscanf(line + used, " %7[a-z] %llx %llu%n", kind, &target, &texecs, &more) == 3 &&
	    (!strcmp(kind, "call") || !strcmp(kind, "jmp"))) {
		tb->target = target;
		tb->target_execs = texecs;
		tb->target_is_call = !strcmp(kind, "call");
		used += more;
	}
	return n_cols ? parse_counts(line + used, col, n_cols, tb->cls) :
	       !line[used + strspn(line + used, " \n")];
}

/* Reads the @file'th plugin output file; a later file's window replaces an earlier one's. */
static int load_plugin_file(const char *path, unsigned int file, struct windows *ws,
			    char *err, size_t len)
{
	struct window *cur = NULL;
	char line[512];
	unsigned long lineno = 0;
	int col[N_INSN_CLASSES * 2], n_cols = 0;
	bool mem = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return seterr(err, len, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c;
		struct tb_count tb;
		unsigned int id;

		lineno++;
		if (!strncmp(line, "tb ", 3)) {
			if (!cur || !parse_tb(line, col, n_cols, &tb)) {
				fclose(f);
				return seterr(err, len, cur ? "%s:%lu: expected tb ADDR INSNS EXECS "
					      "[call|jmp TARGET N] and %d class counts" :
					      "%s:%lu: a block count outside a window", path, lineno,
					      n_cols);
			}
			GROW(cur->tbs, cur->n_tbs, cur->cap);
			cur->tbs[cur->n_tbs++] = tb;
		} else if (!strncmp(line, "classes ", 8)) {
			n_cols = parse_classes(line, col, &mem);
			if (n_cols <= 0) {
				fclose(f);
				return seterr(err, len, "%s:%lu: expected classes NAME... mem on|off",
					      path, lineno);
			}
		} else if (!strncmp(line, "user ", 5) && cur && n_cols) {
			if (!parse_counts(line + 5, col, n_cols, cur->user_cls)) {
				fclose(f);
				return seterr(err, len, "%s:%lu: expected user and %d class counts",
					      path, lineno, n_cols);
			}
		} else if (sscanf(line, "window %u total %llu kernel %llu user %llu",
				  &id, &a, &b, &c) == 4) {
			cur = window_get(ws, id);
			window_reset(cur, file);
			cur->total = a;
			cur->kernel = b;
			cur->user = c;
			cur->classes = n_cols > 0;
			cur->mem = mem;
		} else if (!strncmp(line, "pollwait ", 9)) {
			if (!cur || sscanf(line, "pollwait %llu %llu %llu %*u", &a, &b, &c) != 3) {
				fclose(f);
				return seterr(err, len, "%s:%lu: expected pollwait INSNS TURNS "
					      "CALLS DONE inside a window", path, lineno);
			}
			cur->polled = true;
			cur->poll_wait = a;
			cur->poll_turns = b;
			cur->poll_calls = c;
		} else if (sscanf(line, "end %u", &id) == 1) {
			if (!cur || cur->id != id) {
				fclose(f);
				return seterr(err, len, "%s:%lu: 'end %u' without its window",
					    path, lineno, id);
			}
			cur->complete = true;
			cur = NULL;
		} else if (sscanf(line, "error window %u", &id) == 1) {
			struct window *w = window_get(ws, id);

			snprintf(w->note, sizeof(w->note), "insn-marker-out-of-order");
			w->note_file = file;
		} else if (strncmp(line, "insncount ", 10) && strncmp(line, "exit ", 5)) {
			fclose(f);
			return seterr(err, len, "%s:%lu: not an insncount line", path, lineno);
		}
	}
	fclose(f);
	if (cur)
		snprintf(cur->note, sizeof(cur->note), "insn-window-truncated");
	return 0;
}

/* Reads every DIR/insncount*.txt in name order; returns the number of files. */
static int load_plugin_output(const char *run_dir, struct windows *ws, char *err, size_t len)
{
	char pattern[4096];
	glob_t g;
	int n;

	snprintf(pattern, sizeof(pattern), "%s/insncount*.txt", run_dir);
	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (load_plugin_file(g.gl_pathv[i], (unsigned int)i + 1, ws, err, len)) {
			globfree(&g);
			return -1;
		}
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* Window descriptions ------------------------------------------------------------------ */

/* Where a loaded module lies (a /proc/modules line). */
struct module_range {
	char name[64];
	uint64_t base, size;
};

/* The text of window-ID.txt: KEY=VALUE lines, the module symbols, /proc/modules. */
struct window_file {
	char family[RESULTS_NAME_LEN], arm[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	char modules[256], core[16];
	unsigned int sample;
	double ios;
	bool rust;		/* the arm's role is rust (facts.tsv) */
	struct symtab syms;
	struct module_range *mods;
	size_t n_mods, cap_mods;
};

static void window_file_free(struct window_file *wf)
{
	symtab_free(&wf->syms);
	free(wf->mods);
	wf->mods = NULL;
}

/* Adds a "module NAME SIZE REFS DEPS STATE ADDR ..." line; 1 if it was one. */
static int add_module_line(struct window_file *wf, const char *line)
{
	struct module_range m;
	unsigned long long size, base;

	if (strncmp(line, "module ", 7) ||
	    sscanf(line + 7, "%63s %llu %*s %*s %*s %llx", m.name, &size, &base) != 3)
		return 0;
	m.base = base;
	m.size = size;
	GROW(wf->mods, wf->n_mods, wf->cap_mods);
	wf->mods[wf->n_mods++] = m;
	return 1;
}

/*
 * Whether @addr lies inside the module that symbol @s belongs to. Pseudo-modules without a
 * /proc/modules line ([bpf], [__builtin__ftrace]) only have their symbols to go by.
 */
static bool inside_module(const struct window_file *wf, const struct symbol *s, uint64_t addr)
{
	for (size_t i = 0; i < wf->n_mods; i++)
		if (!strcmp(wf->mods[i].name, s->module))
			return addr >= wf->mods[i].base && addr - wf->mods[i].base < wf->mods[i].size;
	return true;
}

static int load_window_file(const char *run_dir, unsigned int id, struct window_file *wf,
			    char *err, size_t len)
{
	char path[4096], line[512];
	unsigned long lineno = 0;
	bool have_sample = false;
	FILE *f;

	memset(wf, 0, sizeof(*wf));
	snprintf(path, sizeof(path), "%s/%s/window-%u.txt", run_dir, INSN_DIR, id);
	f = fopen(path, "r");
	if (!f)
		return seterr(err, len, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *eq, *val;
		int bad = 0;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (symtab_add_line(&wf->syms, line) || add_module_line(wf, line))
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			bad = 1;
		} else {
			*eq = '\0';
			val = eq + 1;
			if (!strcmp(line, "family"))
				bad = results_copy_field(wf->family, sizeof(wf->family), val);
			else if (!strcmp(line, "arm"))
				bad = results_copy_field(wf->arm, sizeof(wf->arm), val);
			else if (!strcmp(line, "workload"))
				bad = results_copy_field(wf->workload, sizeof(wf->workload), val);
			else if (!strcmp(line, "modules"))
				bad = results_copy_field(wf->modules, sizeof(wf->modules), val);
			else if (!strcmp(line, "core"))
				bad = results_copy_field(wf->core, sizeof(wf->core), val) ||
				      (strcmp(val, "block") && strcmp(val, "net"));
			else if (!strcmp(line, "sample") && sscanf(val, "%u", &wf->sample) == 1)
				have_sample = true;
			else if (!strcmp(line, "ios"))
				bad = sscanf(val, "%lf", &wf->ios) != 1 || !(wf->ios > 0);
			else
				bad = 1;
		}
		if (bad) {
			fclose(f);
			window_file_free(wf);
			return seterr(err, len, "%s:%lu: expected family=, arm=, workload=, sample=, "
				    "modules=, core=block|net or ios=N (> 0)", path, lineno);
		}
	}
	fclose(f);
	if (!wf->family[0] || !wf->arm[0] || !wf->workload[0] || !have_sample || !wf->ios) {
		window_file_free(wf);
		return seterr(err, len, "%s: family, arm, workload, sample and ios are required",
			    path);
	}
	qsort(wf->syms.v, wf->syms.n, sizeof(*wf->syms.v), symbol_cmp);
	return 0;
}

static bool module_under_test(const char *modules, const char *module)
{
	size_t n = strlen(module);

	for (const char *p = modules; *p; ) {
		size_t k = strcspn(p, ",");

		if (k == n && !strncmp(p, module, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* Whether Rust identifier @id (@n bytes) names one of rust_layer_modules. */
static bool rust_layer_module(const char *id, size_t n)
{
	for (const char *const *m = rust_layer_modules; *m; m++)
		if (strlen(*m) == n && !strncmp(*m, id, n))
			return true;
	return false;
}

/* Reads a decimal length and the identifier after it at *@p; false when there is none. */
static bool rust_ident(const char **p, const char **id, size_t *n)
{
	char *end;
	unsigned long k;

	if (**p < '1' || **p > '9')
		return false;
	k = strtoul(*p, &end, 10);
	if (*end == '_')
		end++;
	if (strnlen(end, k) < k)
		return false;
	*id = end;
	*n = k;
	*p = end + k;
	return true;
}

/*
 * Whether Rust symbol @name names code of the layer: a path, anywhere in the symbol (a
 * generic's argument counts too), that starts at the kernel crate, or at any crate with a
 * layer module next. Mangled (v0: a crate root is "C", an optional "s<hash>_", then the
 * length-prefixed name) or demangled ("crate::module::...").
 */
static bool rust_layer_symbol(const char *name)
{
	if (!strncmp(name, "_R", 2)) {
		for (const char *p = strchr(name, 'C'); p; p = strchr(p + 1, 'C')) {
			const char *q = p + 1, *crate, *mod;
			size_t cn, mn;

			if (*q == 's') {
				q += 1 + strspn(q + 1, "0123456789abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
				if (*q++ != '_')
					continue;
			}
			if (!rust_ident(&q, &crate, &cn))
				continue;
			if (cn == 6 && !strncmp(crate, "kernel", 6))
				return true;
			if (rust_ident(&q, &mod, &mn) && rust_layer_module(mod, mn))
				return true;
		}
		return false;
	}
	for (const char *p = name; (p = strstr(p, "::")); p += 2) {
		const char *start = p, *mod = p + 2;
		size_t mn = strcspn(mod, ":<>, ");

		while (start > name && !strchr(":<>, &*", start[-1]))
			start--;
		if ((size_t)(p - start) == 6 && !strncmp(start, "kernel", 6))
			return true;
		if ((start == name || strchr("<, &*", start[-1])) && mod[mn] == ':' &&
		    rust_layer_module(mod, mn))
			return true;
	}
	return false;
}

static enum insn_class classify(const struct symbol *s, const struct window_file *wf)
{
	const char *const *core = NULL;

	if (s->module && module_under_test(wf->modules, s->module)) {
		if (has_prefix(s->name, layer_prefixes))
			return CLASS_LAYER;
		if (wf->rust && (has_prefix(s->name, rust_layer_prefixes) ||
				 rust_layer_symbol(s->name)))
			return CLASS_LAYER;
		return CLASS_DRIVER;
	}
	if (wf->rust && !s->module && (has_prefix(s->name, rust_layer_prefixes) ||
				       rust_layer_symbol(s->name)))
		return CLASS_LAYER;
	if (!strcmp(wf->core, "block"))
		core = block_core_prefixes;
	else if (!strcmp(wf->core, "net"))
		core = net_core_prefixes;
	if (!s->module && core && has_prefix(s->name, core))
		return CLASS_CORE;
	return CLASS_KERNEL;
}

/* Per-arm function sums ---------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct func_sum *group_func(struct group *g, const char *key, enum insn_class class)
{
	size_t i;

	if (2 * (g->n_funcs + 1) > g->cap_funcs) {
		struct func_sum *old = g->funcs;
		size_t old_cap = g->cap_funcs;

		g->cap_funcs = old_cap ? 2 * old_cap : 1024;
		g->funcs = xrealloc(NULL, g->cap_funcs * sizeof(*g->funcs));
		memset(g->funcs, 0, g->cap_funcs * sizeof(*g->funcs));
		for (size_t k = 0; k < old_cap; k++) {
			if (!old[k].key)
				continue;
			for (i = hash_str(old[k].key) & (g->cap_funcs - 1); g->funcs[i].key;
			     i = (i + 1) & (g->cap_funcs - 1))
				;
			g->funcs[i] = old[k];
		}
		free(old);
	}
	for (i = hash_str(key) & (g->cap_funcs - 1); g->funcs[i].key;
	     i = (i + 1) & (g->cap_funcs - 1))
		if (!strcmp(g->funcs[i].key, key))
			return &g->funcs[i];
	g->funcs[i].key = xstrdup(key);
	g->funcs[i].class = class;
	g->n_funcs++;
	return &g->funcs[i];
}

static struct group *group_get(struct groups *gs, const struct window_file *wf)
{
	struct group *g;

	for (size_t i = 0; i < gs->n; i++) {
		g = &gs->v[i];
		if (!strcmp(g->family, wf->family) && !strcmp(g->arm, wf->arm) &&
		    !strcmp(g->workload, wf->workload))
			return g;
	}
	GROW(gs->v, gs->n, gs->cap);
	g = &gs->v[gs->n++];
	memset(g, 0, sizeof(*g));
	strcpy(g->family, wf->family);
	strcpy(g->arm, wf->arm);
	strcpy(g->workload, wf->workload);
	snprintf(g->driver, sizeof(g->driver), "%.*s", (int)strcspn(wf->modules, ","),
		 wf->modules);
	return g;
}

static void groups_free(struct groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		for (size_t k = 0; k < gs->v[i].cap_funcs; k++)
			free(gs->v[i].funcs[k].key);
		free(gs->v[i].funcs);
	}
	free(gs->v);
}

/* One window ----------------------------------------------------------------------------- */

struct window_metrics {
	double insn, kernel, driver, core, wait, busy, pollwait;	/* per I/O */
	double cls[N_INSN_CLASSES], driver_cls[N_INSN_CLASSES];
};

/* Whether the block at @tb ends in a direct call or jump of an indirect-branch thunk. */
static bool calls_thunk(const struct tb_count *tb, const struct symtab *vmlinux)
{
	long k;

	if (!tb->target)
		return false;
	k = symtab_find(vmlinux, tb->target);
	return k >= 0 && vmlinux->v[k].addr == tb->target &&
	       has_prefix(vmlinux->v[k].name, thunk_prefixes);
}

/* The class counts of block @tb, a call or jump of a thunk counted as indirect. */
static void tb_classes(const struct tb_count *tb, const struct symtab *vmlinux, double *cls)
{
	for (int c = 0; c < N_INSN_CLASSES; c++)
		cls[c] = (double)tb->cls[c];
	if (calls_thunk(tb, vmlinux))
		cls[tb->target_is_call ? INSN_CLASS_ICALL : INSN_CLASS_IJMP] +=
			(double)tb->target_execs;
}

/*
 * Resolves window @w's blocks to functions of @vmlinux and the window's modules, adds the
 * functions' per-I/O counts to @g (if not NULL) and fills @m.
 */
static void resolve_window(const struct window *w, const struct symtab *vmlinux,
			   const struct window_file *wf, struct group *g,
			   struct window_metrics *m)
{
	double by_class[N_CLASSES] = { 0 }, wait = 0, cls[N_INSN_CLASSES];

	for (int c = 0; c < N_INSN_CLASSES; c++)
		m->cls[c] = (double)w->user_cls[c] / wf->ios;
	for (size_t i = 0; i < w->n_tbs; i++) {
		const struct tb_count *tb = &w->tbs[i];
		long kv = symtab_find(vmlinux, tb->addr), km = symtab_find(&wf->syms, tb->addr);
		const struct symbol *s = NULL;
		enum insn_class class = CLASS_KERNEL;
		struct func_sum *f;
		char key[400];

		if (km >= 0 && (kv < 0 || wf->syms.v[km].addr >= vmlinux->v[kv].addr)) {
			s = &wf->syms.v[km];
			if (!inside_module(wf, s, tb->addr))
				s = NULL;
		} else if (kv >= 0) {
			s = &vmlinux->v[kv];
		}
		if (s)
			class = classify(s, wf);
		by_class[class] += (double)tb->insns;
		tb_classes(tb, vmlinux, cls);
		for (int c = 0; c < N_INSN_CLASSES; c++) {
			m->cls[c] += cls[c] / wf->ios;
			if (class == CLASS_DRIVER || class == CLASS_LAYER)
				m->driver_cls[c] += cls[c] / wf->ios;
		}
		if (s && !s->module && has_prefix(s->name, wait_prefixes))
			wait += (double)tb->insns;
		if (!g)
			continue;
		if (s)
			snprintf(key, sizeof(key), "%s:%s", s->module ? s->module : "", s->name);
		else
			snprintf(key, sizeof(key), ":[unknown]");
		f = group_func(g, key, class);
		f->insn_per_io += (double)tb->insns / wf->ios;
		for (int c = 0; c < N_INSN_CLASSES; c++)
			f->cls_per_io[c] += cls[c] / wf->ios;
		if (s && s->addr == tb->addr)
			f->calls_per_io += (double)tb->execs / wf->ios;
	}
	m->insn = (double)w->total / wf->ios;
	m->kernel = (double)w->kernel / wf->ios;
	m->driver = (by_class[CLASS_DRIVER] + by_class[CLASS_LAYER]) / wf->ios;
	m->core = by_class[CLASS_CORE] / wf->ios;
	m->wait = wait / wf->ios;
	m->pollwait = (double)w->poll_wait / wf->ios;
	/* polled, the task never sleeps and the empty turns hold what wait counts: once only */
	m->busy = m->insn - (w->poll_calls ? m->pollwait : m->wait);
}

/* samples.csv rows ----------------------------------------------------------------------- */

static bool same_sample(const struct sample_row *r, const struct window_file *wf)
{
	return !strcmp(r->family, wf->family) && !strcmp(r->arm, wf->arm) &&
	       !strcmp(r->workload, wf->workload) && r->sample == wf->sample;
}

static bool is_insn_metric(const char *metric)
{
	char name[RESULTS_NAME_LEN];

	for (int i = 0; i < INSN_METRICS; i++)
		if (!strcmp(metric, insn_metric_names[i]))
			return true;
	for (int k = 0; k < CLASS_METRICS; k++) {
		class_metric_name(k, name, sizeof(name));
		if (!strcmp(metric, name))
			return true;
	}
	return false;
}

/* The value of class metric @k for window @w's metrics @m; false when it has none. */
static bool class_metric_value(int k, const struct window *w, const struct window_metrics *m,
			       double *v)
{
	int c = k / 2, u = (k - 2 * N_INSN_CLASSES) / 2;

	if (!w->classes)
		return false;
	if (k < 2 * N_INSN_CLASSES) {
		if (class_is_access(c) && !w->mem)
			return false;
		*v = k % 2 ? m->driver_cls[c] : m->cls[c];
		return true;
	}
	*v = k % 2 ? insn_estimate(m->driver_cls, m->driver, u) :
	     insn_estimate(m->cls, m->insn, u);
	return true;
}

/*
 * Replaces the sample's instruction metrics in @t. A sample the runner marked invalid stays
 * invalid, with the runner's note.
 */
static void put_metrics(struct sample_table *t, const struct window_file *wf,
			const struct window *w, const struct window_metrics *m, const char *note)
{
	const double values[INSN_METRICS] = { m->insn, m->kernel, m->driver, m->core, m->wait,
					      m->busy, m->pollwait };
	const char *inherited = NULL;
	size_t keep = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct sample_row *r = &t->rows[i];

		if (same_sample(r, wf) && !r->valid && !is_insn_metric(r->metric))
			inherited = r->note;
		if (same_sample(r, wf) && is_insn_metric(r->metric))
			continue;
		t->rows[keep++] = *r;
	}
	t->n = keep;
	for (int i = 0; i < INSN_METRICS; i++) {
		struct sample_row row = { .sample = wf->sample, .value = values[i] };

		if ((i == 3 && !wf->core[0]) || (i == 6 && !w->polled))
			continue;
		strcpy(row.family, wf->family);
		strcpy(row.arm, wf->arm);
		strcpy(row.workload, wf->workload);
		strcpy(row.metric, insn_metric_names[i]);
		strcpy(row.unit, "insn");
		row.valid = !note && !inherited;
		results_copy_field(row.note, sizeof(row.note), note ? note :
				   inherited ? inherited : "");
		sample_table_add(t, &row);
	}
	for (int k = 0; k < CLASS_METRICS; k++) {
		struct sample_row row = { .sample = wf->sample };

		if (!class_metric_value(k, w, m, &row.value))
			continue;
		strcpy(row.family, wf->family);
		strcpy(row.arm, wf->arm);
		strcpy(row.workload, wf->workload);
		class_metric_name(k, row.metric, sizeof(row.metric));
		strcpy(row.unit, k < 2 * N_INSN_CLASSES ? "count" : "est-cycles");
		row.valid = !note && !inherited;
		results_copy_field(row.note, sizeof(row.note), note ? note :
				   inherited ? inherited : "");
		sample_table_add(t, &row);
	}
}

/* Tables ----------------------------------------------------------------------------- */

static const struct func_sum *sort_funcs;	/* qsort has no context argument */

static int func_by_insns(const void *a, const void *b)
{
	const struct func_sum *x = &sort_funcs[*(const size_t *)a];
	const struct func_sum *y = &sort_funcs[*(const size_t *)b];

	if (x->insn_per_io != y->insn_per_io)
		return x->insn_per_io > y->insn_per_io ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The indexes of @g's functions, most instructions first. */
static size_t *group_sorted(const struct group *g)
{
	size_t *idx = xrealloc(NULL, g->n_funcs * sizeof(*idx)), n = 0;

	for (size_t i = 0; i < g->cap_funcs; i++)
		if (g->funcs[i].key)
			idx[n++] = i;
	sort_funcs = g->funcs;
	qsort(idx, n, sizeof(*idx), func_by_insns);
	return idx;
}

/* A table is built in memory, then replaces DIR/@name atomically. */
struct table {
	FILE *f;
	char *text;
	size_t size;
};

static int table_open(struct table *t, char *err, size_t len)
{
	t->text = NULL;
	t->f = open_memstream(&t->text, &t->size);
	return t->f ? 0 : seterr(err, len, "open_memstream: %s", strerror(errno));
}

static int table_close(struct table *t, const char *run_dir, const char *name, char *err,
		       size_t len)
{
	char path[4096];
	int rc;

	fclose(t->f);
	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	rc = file_write_atomic(path, t->text, t->size, err, len);
	free(t->text);
	return rc;
}

static void write_key(FILE *f, const char *key)
{
	const char *colon = strchr(key, ':');

	results_write_field(f, colon + 1);
	fputc(',', f);
	fprintf(f, "%.*s", (int)(colon - key), key);
}

/* insn-functions.csv: per arm and workload, the top functions and every driver function. */
static int write_functions(const char *run_dir, const struct groups *gs, char *err, size_t len)
{
	struct table t;
	FILE *f;

	if (table_open(&t, err, len))
		return -1;
	f = t.f;
	fputs("family,arm,workload,rank,function,module,class,insn_per_io,calls_per_io,"
	      "insn_per_call,samples", f);
	for (int c = 0; c < N_INSN_CLASSES && gs->classes; c++)
		fprintf(f, ",%s_per_io", insn_class_table[c].name);
	fputc('\n', f);
	for (size_t i = 0; i < gs->n; i++) {
		const struct group *g = &gs->v[i];
		size_t *idx = group_sorted(g);

		for (size_t r = 0; r < g->n_funcs; r++) {
			const struct func_sum *fs = &g->funcs[idx[r]];
			double ipio = fs->insn_per_io / g->samples;
			double cpio = fs->calls_per_io / g->samples;

			if (r >= INSN_TOP_FUNCTIONS && fs->class != CLASS_DRIVER &&
			    fs->class != CLASS_LAYER)
				continue;
			results_write_field(f, g->family);
			fputc(',', f);
			results_write_field(f, g->arm);
			fputc(',', f);
			results_write_field(f, g->workload);
			fprintf(f, ",%zu,", r + 1);
			write_key(f, fs->key);
			fprintf(f, ",%s,%.3f,%.4f,", class_names[fs->class], ipio, cpio);
			if (cpio > 0)
				fprintf(f, "%.2f", ipio / cpio);
			fprintf(f, ",%u", g->samples);
			for (int c = 0; c < N_INSN_CLASSES && gs->classes; c++)
				fprintf(f, ",%.4f", fs->cls_per_io[c] / g->samples);
			fputc('\n', f);
		}
		free(idx);
	}
	return table_close(&t, run_dir, "insn-functions.csv", err, len);
}

/* Twin map ------------------------------------------------------------------------------ */

/* The function columns of the twin map. */
enum twin_column { TWIN_RAW, TWIN_SAFE, TWIN_RUST };

/*
 * One function named by the twin map: the names of one family's counterpart functions
 * form a group (rows sharing a name join their groups), whose label ("raw/safe", each side
 * its names joined by "+", "-" for none) is what the diff calls the pair.
 */
struct twin_name {
	char family[RESULTS_NAME_LEN];
	char name[128];
	unsigned int group;
	enum twin_column column;
};

struct twin_map {
	struct twin_name *v;
	size_t n, cap;
	unsigned int groups;
};

static void twin_map_free(struct twin_map *tm)
{
	free(tm->v);
	memset(tm, 0, sizeof(*tm));
}

static struct twin_name *twin_lookup(const struct twin_map *tm, const char *family,
				     const char *name, size_t name_len)
{
	for (size_t i = 0; i < tm->n; i++)
		if (!strcmp(tm->v[i].family, family) && strlen(tm->v[i].name) == name_len &&
		    !strncmp(tm->v[i].name, name, name_len))
			return &tm->v[i];
	return NULL;
}

static void twin_join(struct twin_map *tm, unsigned int from, unsigned int to)
{
	for (size_t i = 0; i < tm->n; i++)
		if (tm->v[i].group == from)
			tm->v[i].group = to;
}

/* Adds the names of one column ("-": none; several may be given, ",") to @group. */
static int twin_add_column(struct twin_map *tm, const char *family, const char *col,
			   enum twin_column column, unsigned int group)
{
	while (strcmp(col, "-") && *col) {
		size_t k = strcspn(col, ",");
		struct twin_name *t = twin_lookup(tm, family, col, k);

		if (!k || k >= sizeof(t->name))
			return -1;
		if (t) {
			twin_join(tm, t->group, group);
		} else {
			GROW(tm->v, tm->n, tm->cap);
			t = &tm->v[tm->n++];
			snprintf(t->family, sizeof(t->family), "%s", family);
			snprintf(t->name, sizeof(t->name), "%.*s", (int)k, col);
			t->group = group;
			t->column = column;
		}
		col += k + (col[k] == ',');
	}
	return 0;
}

/*
 * Reads a twin map (drivers-safe/twins.tsv): tab-separated "family raw_function
 * safe_function rust_function reason", "-" for none, "#" comments. A missing file is an
 * empty map. 0, or -1 with "file:line: message".
 */
static int twin_map_load(const char *path, struct twin_map *tm, char *err, size_t len)
{
	char line[1024];
	unsigned long lineno = 0;
	FILE *f = fopen(path, "r");

	memset(tm, 0, sizeof(*tm));
	if (!f)
		return errno == ENOENT ? 0 : seterr(err, len, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *fields[5] = { NULL }, *p = line;
		size_t n = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[strspn(line, " \t")] || line[strspn(line, " \t")] == '#')
			continue;
		while (n < 5 && p) {
			fields[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 5 || !*fields[0] || strlen(fields[0]) >= RESULTS_NAME_LEN ||
		    (!strcmp(fields[1], "-") && !strcmp(fields[2], "-") &&
		     !strcmp(fields[3], "-")) ||
		    twin_add_column(tm, fields[0], fields[1], TWIN_RAW, tm->groups) ||
		    twin_add_column(tm, fields[0], fields[2], TWIN_SAFE, tm->groups) ||
		    twin_add_column(tm, fields[0], fields[3], TWIN_RUST, tm->groups)) {
			fclose(f);
			twin_map_free(tm);
			return seterr(err, len, "%s:%lu: expected family, raw_function, "
				      "safe_function, rust_function and reason, tab-separated "
				      "(\"-\" for none; at least one function)", path, lineno);
		}
		tm->groups++;
	}
	fclose(f);
	return 0;
}

int insn_twins_copy(const char *top, const char *run_dir, char *err, size_t len)
{
	char from[4096], to[4096];
	struct twin_map tm;
	size_t size;
	char *text;
	int rc;

	snprintf(from, sizeof(from), "%s/%s", top, INSN_TWIN_MAP);
	if (twin_map_load(from, &tm, err, len))
		return -1;
	twin_map_free(&tm);
	if (!run_dir || !path_exists(from))
		return 0;
	text = file_read(from, &size, err, len);
	if (!text)
		return -1;
	snprintf(to, sizeof(to), "%s/twins.tsv", run_dir);
	rc = file_write_atomic(to, text, size, err, len);
	free(text);
	return rc;
}

/*
 * The map entry of driver function @name: the name itself or, for a safe layer ops
 * adapter (SAFE_*_ADAPTERS make name##_<op>_adapter, with the typed op inlined), the name
 * without "_adapter"; for a mangled Rust symbol, its path as the map's rust column names
 * it (rustsym.h).
 */
static const struct twin_name *twin_of(const struct twin_map *tm, const char *family,
				       const char *name)
{
	static const char adapter[] = "_adapter";
	size_t nl = strlen(name), al = sizeof(adapter) - 1;
	const struct twin_name *t = twin_lookup(tm, family, name, nl);
	char path[256];

	if (!t && nl > al && !strcmp(name + nl - al, adapter))
		t = twin_lookup(tm, family, name, nl - al);
	if (!t && !rustsym_path(name, path, sizeof(path)))
		t = twin_lookup(tm, family, path, strlen(path));
	return t;
}

/* "raw/safe" for group @group of @family: each side's names joined by "+", "-" for none. */
static void twin_label(const struct twin_map *tm, const char *family, unsigned int group,
		       char *out, size_t len)
{
	size_t used = 0;

	for (enum twin_column c = TWIN_RAW; c <= TWIN_SAFE; c++) {
		bool any = false;

		for (size_t i = 0; i < tm->n; i++) {
			const struct twin_name *t = &tm->v[i];

			if (t->group != group || t->column != c || strcmp(t->family, family))
				continue;
			used += snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 any ? "+" : "", t->name);
			any = true;
		}
		if (!any)
			used += snprintf(out + used, used < len ? len - used : 0, "-");
		if (c == TWIN_RAW)
			used += snprintf(out + used, used < len ? len - used : 0, "/");
	}
}

/*
 * The row key of a function in the diff of a pair: a driver or layer function the twin map
 * names becomes its counterpart pair ("PAIRMODULES:raw/safe"), so the pair is one row; an
 * unpaired Rust one its path (rustsym.h); anything else keeps its own name.
 */
static void twin_key(const struct twin_map *tm, const struct group *g, const char *pair_mods,
		     const struct func_sum *fs, char *out, size_t len)
{
	const char *name = strchr(fs->key, ':') + 1;
	const struct twin_name *t;
	char label[300];

	if (fs->class != CLASS_DRIVER && fs->class != CLASS_LAYER) {
		snprintf(out, len, "%s", fs->key);
		return;
	}
	t = twin_of(tm, g->family, name);
	if (!t) {
		if (rustsym_path(name, label, sizeof(label)))
			snprintf(out, len, "%s", fs->key);
		else
			snprintf(out, len, "%.*s%s", (int)(name - fs->key), fs->key, label);
		return;
	}
	twin_label(tm, g->family, t->group, label, sizeof(label));
	snprintf(out, len, "%s:%s", pair_mods, label);
}

/*
 * The next group after @from (NULL: the first) of role @role with the same family, workload
 * and tracing as group @base, by the roles the run folder records; NULL when there is none.
 */
static const struct group *partner(const struct groups *gs, const struct facts *facts,
				   const struct group *base, enum arm_role role,
				   const struct group *from)
{
	const char *traced = facts_arm_get(facts, base->family, base->arm, "traced");

	for (size_t i = from ? (size_t)(from - gs->v) + 1 : 0; i < gs->n; i++) {
		const struct group *g = &gs->v[i];
		const char *t = facts_arm_get(facts, g->family, g->arm, "traced");

		if (!strcmp(g->family, base->family) && !strcmp(g->workload, base->workload) &&
		    facts_arm_role(facts, g->family, g->arm) == role && !traced == !t)
			return g;
	}
	return NULL;
}

struct diff_row {
	char key[400];
	enum insn_class class;
	double base, cand;
};

static int diff_by_size(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	double dx = fabs(x->cand - x->base), dy = fabs(y->cand - y->base);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void diff_add(struct diff_row **rows, size_t *n, size_t *cap, const char *key,
		     enum insn_class class, double base, double cand)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*rows)[i].key, key)) {
			(*rows)[i].base += base;
			(*rows)[i].cand += cand;
			return;
		}
	GROW(*rows, *n, *cap);
	snprintf((*rows)[*n].key, sizeof((*rows)[*n].key), "%s", key);
	(*rows)[*n].class = class;
	(*rows)[*n].base = base;
	(*rows)[*n].cand = cand;
	(*n)++;
}

/*
 * The rows of one pair of groups: candidate @cand minus baseline @base, first a [total] row
 * per class (of each function's own class: a paired row may join a driver function and a
 * layer one), then by function; @tm (NULL: none) pairs counterpart functions.
 */
static void write_pair(FILE *f, const struct twin_map *tm, const struct group *base,
		       const struct group *cand)
{
	struct diff_row *rows = NULL;
	size_t n = 0, cap = 0;
	char key[400], mods[2 * RESULTS_NAME_LEN + 2];
	const struct group *side[2] = { base, cand };
	double total[2][N_CLASSES] = { { 0 } };

	snprintf(mods, sizeof(mods), "%s/%s", base->driver, cand->driver);
	for (int s = 0; s < 2; s++)
		for (size_t k = 0; k < side[s]->cap_funcs; k++) {
			const struct func_sum *fs = &side[s]->funcs[k];
			double v = fs->insn_per_io / side[s]->samples;

			if (!fs->key)
				continue;
			if (tm)
				twin_key(tm, side[s], mods, fs, key, sizeof(key));
			else
				snprintf(key, sizeof(key), "%s", fs->key);
			diff_add(&rows, &n, &cap, key, fs->class, s ? 0 : v, s ? v : 0);
			total[s][fs->class] += v;
		}
	qsort(rows, n, sizeof(*rows), diff_by_size);
	for (int c = 0; c < N_CLASSES; c++) {
		double tb = total[0][c], tc = total[1][c];
		results_write_field(f, base->family);
		fputc(',', f);
		results_write_field(f, base->workload);
		fprintf(f, ",%s,%s,[total],,%s,%.3f,%.3f,%.3f\n", base->arm, cand->arm,
			class_names[c], tb, tc, tc - tb);
	}
	for (size_t k = 0; k < n; k++) {
		if (fabs(rows[k].cand - rows[k].base) < 0.005)
			break;
		results_write_field(f, base->family);
		fputc(',', f);
		results_write_field(f, base->workload);
		fprintf(f, ",%s,%s,", base->arm, cand->arm);
		write_key(f, rows[k].key);
		fprintf(f, ",%s,%.3f,%.3f,%.3f\n", class_names[rows[k].class], rows[k].base,
			rows[k].cand, rows[k].cand - rows[k].base);
	}
	free(rows);
}

/*
 * insn-diff.csv: for each raw twin, its safe twin minus it, and its safe twin built with
 * every mechanism out (noall) minus it, what the breakdown's "no switch" is made of; for
 * each safe twin, each Rust arm minus it; counterpart functions paired through the twin map (a Rust symbol by its
 * demangled path), anything else by its own name.
 */
static int write_diff(const char *run_dir, const struct groups *gs, const struct facts *facts,
		      char *err, size_t len)
{
	struct twin_map tm;
	char map[4096];
	struct table t;

	snprintf(map, sizeof(map), "%s/twins.tsv", run_dir);
	if (twin_map_load(map, &tm, err, len))
		return -1;
	if (table_open(&t, err, len)) {
		twin_map_free(&tm);
		return -1;
	}
	fputs("family,workload,baseline,candidate,function,module,class,base_insn_per_io,"
	      "cand_insn_per_io,diff_insn_per_io\n", t.f);
	for (size_t i = 0; i < gs->n; i++) {
		const struct group *base = &gs->v[i], *cand;
		enum arm_role role = facts_arm_role(facts, base->family, base->arm);

		if (role == ARM_RAW) {
			cand = partner(gs, facts, base, ARM_SAFE, NULL);
			if (cand)
				write_pair(t.f, &tm, base, cand);
			for (cand = partner(gs, facts, base, ARM_VARIANT, NULL); cand;
			     cand = partner(gs, facts, base, ARM_VARIANT, cand))
				if (!strcmp(facts_arm_get(facts, cand->family, cand->arm,
							  "mechanism") ?: "", FAMILY_MECHANISM_ALL))
					write_pair(t.f, &tm, base, cand);
		} else if (role == ARM_SAFE) {
			for (cand = partner(gs, facts, base, ARM_RUST, NULL); cand;
			     cand = partner(gs, facts, base, ARM_RUST, cand))
				write_pair(t.f, &tm, base, cand);
		}
	}
	twin_map_free(&tm);
	return table_close(&t, run_dir, "insn-diff.csv", err, len);
}

bool insn_plugin_usable(const char *top, const char *clock)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/plugin/insncount.so", top);
	return !strcmp(clock, "icount") && path_exists(path);
}

/* Merge -------------------------------------------------------------------------------- */

int insn_merge(const char *run_dir, struct sample_table *t, char *err, size_t len)
{
	struct windows ws = { 0 };
	struct symtab vmlinux = { 0 };
	struct groups gs = { 0 };
	struct facts facts = { 0 };
	char path[4096];
	int files, merged = 0, rc = -1;

	files = load_plugin_output(run_dir, &ws, err, len);
	if (files <= 0) {
		rc = files;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/" FACTS_FILE, run_dir);
	if (facts_read(path, &facts, err, len) ||
	    load_vmlinux_symbols(run_dir, &vmlinux, err, len))
		goto out;
	for (size_t i = 0; i < ws.n; i++) {
		struct window *w = &ws.v[i];
		struct window_metrics m = { 0 };
		struct window_file wf;
		const char *note = w->note[0] ? w->note : NULL;

		if (!note && !w->complete)
			note = "insn-window-missing";
		if (load_window_file(run_dir, w->id, &wf, err, len)) {
			fprintf(stderr, "twinbench: insn: %s; window %u skipped\n", err, w->id);
			continue;
		}
		wf.rust = facts_arm_role(&facts, wf.family, wf.arm) == ARM_RUST;
		if (!note) {
			struct group *g = group_get(&gs, &wf);

			resolve_window(w, &vmlinux, &wf, g, &m);
			g->samples++;
			gs.classes |= w->classes;
		}
		put_metrics(t, &wf, w, &m, note);
		window_file_free(&wf);
		merged++;
	}
	if (write_functions(run_dir, &gs, err, len) ||
	    write_diff(run_dir, &gs, &facts, err, len))
		goto out;
	rc = merged;
out:
	facts_free(&facts);
	for (size_t i = 0; i < ws.n; i++)
		free(ws.v[i].tbs);
	free(ws.v);
	symtab_free(&vmlinux);
	groups_free(&gs);
	return rc;
}

/* `twinbench insn DIR` ------------------------------------------------------------------ */

static void print_summary(const struct sample_table *t)
{
	printf("%-8s %-10s %-28s %-20s %8s %12s\n", "family", "arm", "workload", "metric",
	       "samples", "mean");
	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];
		double sum = 0;
		unsigned int n = 0;
		bool first = true;

		if (!is_insn_metric(r->metric))
			continue;
		for (size_t k = 0; k < t->n && first; k++) {
			const struct sample_row *o = &t->rows[k];

			if (!strcmp(o->family, r->family) && !strcmp(o->arm, r->arm) &&
			    !strcmp(o->workload, r->workload) && !strcmp(o->metric, r->metric)) {
				if (k < i)
					first = false;
				else if (o->valid) {
					sum += o->value;
					n++;
				}
			}
		}
		if (first)
			printf("%-8s %-10s %-28s %-20s %8u %12.1f\n", r->family, r->arm,
			       r->workload, r->metric, n, n ? sum / n : NAN);
	}
}

int insn_main(int argc, char **argv)
{
	struct sample_table t = { 0 };
	char path[4096], err[512];
	struct stat st;
	int n;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: twinbench insn RUN-DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/samples.csv", argv[1]);
	if (!stat(path, &st) && results_load_samples(path, &t, err, sizeof(err))) {
		fprintf(stderr, "twinbench insn: %s\n", err);
		return 1;
	}
	n = insn_merge(argv[1], &t, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "twinbench insn: %s\n", err);
		sample_table_free(&t);
		return 1;
	}
	if (!n) {
		fprintf(stderr, "twinbench insn: %s holds no insncount*.txt (run the VM with "
			"--plugin)\n", argv[1]);
		sample_table_free(&t);
		return 1;
	}
	if (results_write_samples(path, &t, err, sizeof(err))) {
		fprintf(stderr, "twinbench insn: %s\n", err);
		sample_table_free(&t);
		return 1;
	}
	print_summary(&t);
	printf("%d windows; per-function tables: %s/insn-functions.csv, %s/insn-diff.csv\n",
	       n, argv[1], argv[1]);
	sample_table_free(&t);
	return 0;
}

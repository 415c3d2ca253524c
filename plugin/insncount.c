// SPDX-License-Identifier: GPL-2.0
/*
 * insncount.c - a QEMU TCG plugin that counts the guest's executed instructions per
 * measurement window, in total, in the kernel, and by the code address of each kernel
 * translation block, so that the host can resolve them to functions with the guest's
 * /proc/kallsyms; and the same by instruction class (insnclass.h).
 *
 * Every translation block gets inline counters, added when the block starts: its
 * instruction count, 1, and the number of its instructions in each class, decoded from
 * their bytes once when the block is translated. Blocks of module code (the drivers and
 * the layer) count instruction by instruction instead: an inline add on each instruction,
 * and on each classed one for its class, so that a block QEMU leaves at an I/O access
 * (under icount an MMIO access must end its block: QEMU stops there, runs the access alone
 * and goes on in a new block) counts every instruction once; counted at the start, its
 * instructions after the access counted twice. Iterations of rep string instructions
 * are counted by an inline add on the instruction's memory accesses (one per iteration;
 * movs and cmps make two); with mem=on every memory access adds to its counters the same
 * way (see count_classes() for how loads are told from stores).
 * Kernel blocks (upper half of the x86-64 address space) count
 * into one slot per start address; all user blocks count into one slot. The guest opens and
 * closes windows with the marker of twinmark.h; at a window's close the plugin writes the
 * window's counts through qemu_plugin_outs (QEMU's -d plugin -D FILE log). Starts of the
 * open window nest (fio runs its hooks once per job clone): the window spans from the first
 * start to the last stop.
 *
 *   insncount api 1 qemu-api 0..1 target x86_64 vcpus 1
 *   classes NAME...                 (the class columns below, in order; mem on|off)
 *   window ID total N kernel N user N
 *   user C...                       (the user slot's class counts)
 *   tb ADDR INSNS EXECS [call|jmp TARGET N] C...
 *                                   (one line per kernel block address executed; the block
 *                                   ends in a direct call or jump to TARGET, which the host
 *                                   checks for an indirect-branch thunk, and N executions
 *                                   reached it)
 *   pollwait INSNS TURNS CALLS DONE (with a watched poll function: the instructions of the
 *                                   poll loop's empty turns, their number, the poll calls
 *                                   and the I/Os ended, all in the window)
 *   end ID
 *   error MESSAGE                   (a marker out of order: the host marks the window broken)
 *   exit total N kernel N windows N cal R P
 *                                   (R, P: returns' and pushes' accesses that matched
 *                                   QEMU_PLUGIN_MEM_R, which tell loads from stores)
 *
 * Polling: the guest names its driver's poll op with a TWINMARK_POLL marker before the I/O
 * starts, and once per boot, before any polled I/O, the function that ends a polled I/O
 * (TWINMARK_DONE). Each entry of the poll op then reads the running instruction count (an
 * inline add of every block); a turn is the stretch from one entry to the next, and a turn
 * in which no I/O ended found nothing. The empty turns are the wait for a polled device,
 * counted apart: with what lands in them (a timer tick, the task leaving the loop to
 * reschedule and coming back).
 *
 * Arguments: api=N asks for plugin API version N instead of the one this file was written
 * for (it exists to test the refusal); mem=on counts loads and stores (slower; see
 * docs/insn-classes.md); classes=off leaves out every class count (to time what they add).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "insnclass.h"
#include "qemu-plugin-v1.h"
#include "twinmark.h"

QPV1_EXPORT int qemu_plugin_version = QPV1_API_VERSION;

#define KERNEL_BASE	0xffff800000000000ull	/* first x86-64 kernel-half address */
#define MODULES_BASE	0xffffffffc0000000ull	/* x86-64 module space (MODULES_VADDR.. */
#define MODULES_END	0xffffffffff000000ull	/* ..MODULES_END), with or without KASLR */
#define SLOTS_PER_CHUNK	4096
#define NO_WINDOW	UINT64_MAX
#define MAX_POLL_FUNCS	4

/*
 * The counters of one start address; the inline adds write straight into it. rep_acc2
 * counts the accesses of rep movs and cmps, two per iteration; with mem=on, acc counts every
 * memory access and acc_r those that match QEMU_PLUGIN_MEM_R (see count_classes()).
 */
struct slot {
	uint64_t insns;
	uint64_t execs;
	uint64_t cls[N_INSN_CLASSES];
	uint64_t rep_acc2;
	uint64_t acc, acc_r;
	uint64_t vaddr;
	uint64_t target;	/* the direct call or jump that ends the block, or 0 */
	uint64_t target_execs;	/* executions of that call or jump */
	bool target_is_call;
};

#define INSN_CLASS_NAME(id, name, what, glc, zen4) [INSN_CLASS_##id] = name,
static const char *const class_names[N_INSN_CLASSES] = { INSN_CLASSES(INSN_CLASS_NAME) };
#undef INSN_CLASS_NAME

/* Slots live in chunks that never move, because QEMU keeps pointers to their counters. */
struct slot_chunk {
	struct slot slots[SLOTS_PER_CHUNK];
	size_t used;
	struct slot_chunk *next;
};

static struct {
	pthread_mutex_t lock;
	struct slot user;
	struct slot_chunk *chunks;
	struct slot **index;		/* open addressing by vaddr, a power of two long */
	size_t index_len, n_slots;
	uint64_t window;		/* the open window's id, or NO_WINDOW */
	unsigned int depth;		/* starts of the open window not yet stopped */
	uint64_t past_total, past_kernel, windows;
	bool mem, classes;		/* mem=on, classes=on */
	uint64_t cal_r;			/* returns' accesses that matched QEMU_PLUGIN_MEM_R */
	uint64_t cal_push_r;		/* pushes' accesses that matched QEMU_PLUGIN_MEM_R */
	char *out;			/* output batch handed to qemu_plugin_outs */
	size_t out_len, out_cap;
	uint64_t clock;			/* every instruction executed (inline add per block) */
	uint64_t poll_funcs[MAX_POLL_FUNCS];	/* watched poll functions (TWINMARK_POLL) */
	size_t n_poll_funcs;
	uint64_t done_funcs[MAX_POLL_FUNCS];	/* functions that end an I/O (TWINMARK_DONE) */
	size_t n_done_funcs;
	uint64_t poll_last;		/* clock at the last entry of a poll function, or 0 */
	bool turn_done;			/* an I/O ended since then */
	uint64_t poll_wait, poll_turns, poll_calls, poll_done;	/* in the open window */
} state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.window = NO_WINDOW,
	.classes = true,
};

/* Whether a QEMU serving API versions @min..@cur can run a plugin that needs version @want. */
static int api_supported(int want, int min, int cur)
{
	return want >= min && want <= cur;
}

static void die_oom(void)
{
	fputs("insncount: out of memory\n", stderr);
	abort();
}

static void out_flush(void)
{
	if (!state.out_len)
		return;
	qemu_plugin_outs(state.out);
	state.out_len = 0;
	state.out[0] = '\0';
}

static void __attribute__((format(printf, 1, 2))) out_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (state.out_cap - state.out_len < 256)
		out_flush();
	va_start(ap, fmt);
	n = vsnprintf(state.out + state.out_len, state.out_cap - state.out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		state.out_len += (size_t)n < state.out_cap - state.out_len ?
				 (size_t)n : state.out_cap - state.out_len - 1;
}

static size_t index_pos(uint64_t vaddr, size_t len)
{
	return (size_t)((vaddr * 0x9e3779b97f4a7c15ull) >> 20) & (len - 1);
}

static void index_insert(struct slot **index, size_t len, struct slot *s)
{
	size_t i = index_pos(s->vaddr, len);

	while (index[i])
		i = (i + 1) & (len - 1);
	index[i] = s;
}

static void index_grow(void)
{
	size_t len = state.index_len ? state.index_len * 2 : 1 << 16;
	struct slot **index = calloc(len, sizeof(*index));

	if (!index)
		die_oom();
	for (size_t i = 0; i < state.index_len; i++)
		if (state.index[i])
			index_insert(index, len, state.index[i]);
	free(state.index);
	state.index = index;
	state.index_len = len;
}

/* The slot that counts blocks starting at @vaddr; the caller holds the lock. */
static struct slot *slot_for(uint64_t vaddr)
{
	struct slot_chunk *c = state.chunks;
	struct slot *s;
	size_t i;

	if (vaddr < KERNEL_BASE)
		return &state.user;
	if (2 * (state.n_slots + 1) > state.index_len)
		index_grow();
	for (i = index_pos(vaddr, state.index_len); state.index[i];
	     i = (i + 1) & (state.index_len - 1))
		if (state.index[i]->vaddr == vaddr)
			return state.index[i];
	if (!c || c->used == SLOTS_PER_CHUNK) {
		c = calloc(1, sizeof(*c));
		if (!c)
			die_oom();
		c->next = state.chunks;
		state.chunks = c;
	}
	s = &c->slots[c->used++];
	s->vaddr = vaddr;
	state.index[i] = s;
	state.n_slots++;
	return s;
}

static void count_totals(uint64_t *total, uint64_t *kernel)
{
	*kernel = 0;
	for (struct slot_chunk *c = state.chunks; c; c = c->next)
		for (size_t i = 0; i < c->used; i++)
			*kernel += c->slots[i].insns;
	*total = *kernel + state.user.insns;
}

static void slot_zero(struct slot *s)
{
	s->insns = 0;
	s->execs = 0;
	memset(s->cls, 0, sizeof(s->cls));
	s->rep_acc2 = 0;
	s->acc = 0;
	s->acc_r = 0;
	s->target_execs = 0;
}

/*
 * Writes " C..." for @s: its class counts, a rep movs or cmps iteration being two accesses,
 * and its loads and stores from its accesses by how QEMU_PLUGIN_MEM_R behaved (state.cal_r).
 */
static void out_classes(const struct slot *s)
{
	bool r_is_load = state.cal_r > state.cal_push_r;

	for (int c = 0; c < N_INSN_CLASSES; c++) {
		uint64_t v = s->cls[c];

		if (c == INSN_CLASS_REP)
			v += s->rep_acc2 / 2;
		else if (c == INSN_CLASS_LOAD)
			v = r_is_load ? s->acc_r : s->acc - s->acc_r;
		else if (c == INSN_CLASS_STORE)
			v = r_is_load ? s->acc - s->acc_r : s->acc_r;
		out_printf(" %" PRIu64, v);
	}
	out_printf("\n");
}

/* Fold the counters into the run's totals and start them again from zero. */
static void reset_counters(void)
{
	uint64_t total, kernel;

	count_totals(&total, &kernel);
	state.past_total += total;
	state.past_kernel += kernel;
	slot_zero(&state.user);
	for (struct slot_chunk *c = state.chunks; c; c = c->next)
		for (size_t i = 0; i < c->used; i++)
			slot_zero(&c->slots[i]);
	state.poll_last = 0;
	state.poll_wait = state.poll_turns = state.poll_calls = state.poll_done = 0;
}

static void write_window(uint64_t id)
{
	uint64_t total, kernel;

	count_totals(&total, &kernel);
	out_printf("window %" PRIu64 " total %" PRIu64 " kernel %" PRIu64 " user %" PRIu64 "\n",
		   id, total, kernel, state.user.insns);
	out_printf("user");
	out_classes(&state.user);
	for (struct slot_chunk *c = state.chunks; c; c = c->next)
		for (size_t i = 0; i < c->used; i++) {
			const struct slot *s = &c->slots[i];

			if (!s->insns)
				continue;
			out_printf("tb 0x%" PRIx64 " %" PRIu64 " %" PRIu64, s->vaddr, s->insns,
				   s->execs);
			if (s->target)
				out_printf(" %s 0x%" PRIx64 " %" PRIu64,
					   s->target_is_call ? "call" : "jmp", s->target,
					   s->target_execs);
			out_classes(s);
		}
	if (state.n_poll_funcs)
		out_printf("pollwait %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			   state.poll_wait, state.poll_turns, state.poll_calls, state.poll_done);
	out_printf("end %" PRIu64 "\n", id);
	out_flush();
}

static bool watched(const uint64_t *funcs, size_t n, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (funcs[i] == vaddr)
			return true;
	return false;
}

/* Runs at each entry of a watched poll function; @userdata is its address. */
static void insncount_poll_entry(unsigned int vcpu_index, void *userdata)
{
	uint64_t now = __atomic_load_n(&state.clock, __ATOMIC_RELAXED);

	(void)vcpu_index;
	pthread_mutex_lock(&state.lock);
	if (state.window != NO_WINDOW &&
	    watched(state.poll_funcs, state.n_poll_funcs, (uint64_t)(uintptr_t)userdata)) {
		if (state.poll_last && !state.turn_done) {
			state.poll_wait += now - state.poll_last;
			state.poll_turns++;
		}
		state.poll_last = now;
		state.turn_done = false;
		state.poll_calls++;
	}
	pthread_mutex_unlock(&state.lock);
}

/* Runs at each entry of a function that ends an I/O. */
static void insncount_done_entry(unsigned int vcpu_index, void *userdata)
{
	(void)vcpu_index;
	(void)userdata;
	pthread_mutex_lock(&state.lock);
	if (state.window != NO_WINDOW) {
		state.turn_done = true;
		state.poll_done++;
	}
	pthread_mutex_unlock(&state.lock);
}

static void watch_add(uint64_t *funcs, size_t *n, uint64_t id)
{
	uint64_t addr = TWINMARK_KERNEL_HIGH | id;

	if (watched(funcs, *n, addr))
		return;
	if (*n == MAX_POLL_FUNCS) {
		fprintf(stderr, "insncount: function 0x%llx not watched: %d are already\n",
			(unsigned long long)addr, MAX_POLL_FUNCS);
		return;
	}
	funcs[(*n)++] = addr;
}

/* Runs when the guest executes a marker; @userdata holds the operation and window id. */
static void insncount_marker(unsigned int vcpu_index, void *userdata)
{
	uint64_t packed = (uint64_t)(uintptr_t)userdata;
	unsigned int op = (unsigned int)(packed >> 32);
	uint64_t id = (uint32_t)packed;

	(void)vcpu_index;
	pthread_mutex_lock(&state.lock);
	if (op == TWINMARK_POLL) {
		watch_add(state.poll_funcs, &state.n_poll_funcs, id);
	} else if (op == TWINMARK_DONE) {
		watch_add(state.done_funcs, &state.n_done_funcs, id);
	} else if (op == TWINMARK_START && state.window == id) {
		state.depth++;
	} else if (op == TWINMARK_START) {
		if (state.window != NO_WINDOW)
			out_printf("error window %" PRIu64 " opened while window %" PRIu64
				   " is open\n", id, state.window);
		reset_counters();
		state.window = id;
		state.depth = 1;
	} else if (op == TWINMARK_STOP && state.window == id && state.depth > 1) {
		state.depth--;
	} else if (op == TWINMARK_STOP) {
		if (state.window != id) {
			if (state.window == NO_WINDOW)
				out_printf("error window %" PRIu64 " closed but never opened\n", id);
			else
				out_printf("error window %" PRIu64 " closed while window %" PRIu64
					   " is open\n", id, state.window);
		} else {
			write_window(id);
			state.windows++;
		}
		reset_counters();
		state.window = NO_WINDOW;
		state.depth = 0;
		state.n_poll_funcs = 0;
	} else {
		out_printf("error window %" PRIu64 " has an unknown marker operation %u\n", id, op);
	}
	out_flush();
	pthread_mutex_unlock(&state.lock);
}

/* Registers the marker callback if the block holds a marker at instruction @i. */
static void watch_marker(struct qemu_plugin_tb *tb, size_t i, size_t n)
{
	uint32_t word[TWINMARK_INSNS];
	struct qemu_plugin_insn *insn = NULL;

	if (i + TWINMARK_INSNS > n)
		return;
	for (size_t k = 0; k < TWINMARK_INSNS; k++) {
		insn = qemu_plugin_tb_get_insn(tb, i + k);
		if (!twinmark_get(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn),
				  &word[k]))
			return;
	}
	if (word[0] != TWINMARK_MAGIC)
		return;
	qemu_plugin_register_vcpu_insn_exec_cb(insn, insncount_marker, QEMU_PLUGIN_CB_NO_REGS,
					       (void *)(uintptr_t)((uint64_t)word[1] << 32 |
								   word[2]));
}

/*
 * What one instruction is, from its bytes: its class (-1: none) and, for a rep string
 * instruction, how many memory accesses one iteration makes.
 */
struct insn_kind {
	int cls;
	unsigned int rep_accesses;	/* 0: not a rep string instruction */
};

/* The memory accesses of one iteration of string instruction @op, or 0 for none. */
static unsigned int string_accesses(uint8_t op)
{
	switch (op) {
	case 0xa4: case 0xa5: case 0xa6: case 0xa7:
		return 2;			/* movs: a load and a store; cmps: two loads */
	case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:
		return 1;			/* stos, lods, scas, ins, outs */
	}
	return 0;
}

/* The class of a one-byte opcode @op with ModRM @modrm (0 if none follows). */
static int class_one_byte(uint8_t op, uint8_t modrm)
{
	unsigned int mod = modrm >> 6, reg = (modrm >> 3) & 7;

	if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3))
		return INSN_CLASS_JCC;
	switch (op) {
	case 0xc2: case 0xc3: case 0xca: case 0xcb:
		return INSN_CLASS_RET;
	case 0xcf:
		return INSN_CLASS_SERIAL;	/* iret */
	case 0x86: case 0x87:
		return mod != 3 ? INSN_CLASS_ATOMIC : -1;
	case 0xff:
		if (reg == 2 || reg == 3)
			return INSN_CLASS_ICALL;
		if (reg == 4 || reg == 5)
			return INSN_CLASS_IJMP;
		return -1;
	}
	return -1;
}

/* The class of two-byte opcode 0f @op, @rest the bytes after it; @pfx any 66/f2/f3. */
static int class_two_byte(uint8_t op, const uint8_t *rest, size_t n, bool opsize, bool pfx)
{
	uint8_t modrm = n ? rest[0] : 0;
	unsigned int mod = modrm >> 6, reg = (modrm >> 3) & 7;

	if (op >= 0x80 && op <= 0x8f)
		return INSN_CLASS_JCC;
	switch (op) {
	case 0xa2: case 0x30: case 0x08: case 0x09: case 0x22: case 0x23: case 0xaa:
		return INSN_CLASS_SERIAL;	/* cpuid wrmsr invd wbinvd mov-cr mov-dr rsm */
	case 0x00:
		return n && (reg == 2 || reg == 3) ? INSN_CLASS_SERIAL : -1;	/* lldt ltr */
	case 0x01:
		if (modrm == 0xe8 && !pfx)
			return INSN_CLASS_SERIAL;	/* serialize */
		return n && mod != 3 && (reg == 2 || reg == 3 || reg == 7) ?
		       INSN_CLASS_SERIAL : -1;	/* lgdt lidt invlpg */
	case 0xae:
		return n && mod == 3 && reg >= 5 && !pfx ? INSN_CLASS_FENCE : -1;
	case 0x38:
		return n && rest[0] == 0x82 && opsize ? INSN_CLASS_SERIAL : -1;	/* invpcid */
	}
	return -1;
}

/* Decodes the x86-64 instruction @p of @len bytes far enough to tell its class. */
static struct insn_kind insn_decode(const uint8_t *p, size_t len)
{
	struct insn_kind k = { -1, 0 };
	bool lock = false, rep = false, opsize = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == 0xf0)
			lock = true;
		else if (p[i] == 0xf2 || p[i] == 0xf3)
			rep = true;
		else if (p[i] == 0x66)
			opsize = true;
		else if (p[i] != 0x26 && p[i] != 0x2e && p[i] != 0x36 && p[i] != 0x3e &&
			 p[i] != 0x64 && p[i] != 0x65 && p[i] != 0x67)
			break;
	}
	if (i < len && (p[i] & 0xf0) == 0x40)
		i++;			/* REX */
	if (i >= len)
		return k;
	if (lock) {
		k.cls = INSN_CLASS_ATOMIC;
		return k;
	}
	if (p[i] == 0x0f && i + 1 < len) {
		k.cls = class_two_byte(p[i + 1], p + i + 2, len - i - 2, opsize, opsize || rep);
		return k;
	}
	if (rep && string_accesses(p[i])) {
		k.cls = INSN_CLASS_REP;
		k.rep_accesses = string_accesses(p[i]);
		return k;
	}
	k.cls = class_one_byte(p[i], i + 1 < len ? p[i + 1] : 0);
	return k;
}

/*
 * Registers block @tb's class counters in slot @s: one inline add per class its
 * instructions hold (@by_insn: one on each classed instruction), and inline adds on the
 * memory accesses that count rep iterations (and, with mem=on, loads and stores).
 *
 * Memory callbacks registered for QEMU_PLUGIN_MEM_RW see every access in every QEMU, so
 * the rep counts use them. QEMU 7.2 runs a QEMU_PLUGIN_MEM_R callback on stores only (its
 * plugin-gen.c tests the callback's flags against the access's direction plus one), while
 * a QEMU that follows the documentation runs it on loads. So every access adds to acc, the
 * ones matching MEM_R add to acc_r, and returns (which load) and one-byte pushes (which
 * store) tell which acc_r is: their MEM_R adds go to state.cal_r and state.cal_push_r,
 * and the larger one wins (QEMU 7.2 in the 7.3 guest: 21 thousand against 51 million).
 */
static void count_classes(struct qemu_plugin_tb *tb, size_t n, struct slot *s, bool by_insn)
{
	uint64_t per_class[N_INSN_CLASSES] = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		struct insn_kind k = insn_decode(qemu_plugin_insn_data(insn),
						 qemu_plugin_insn_size(insn));

		if (k.rep_accesses)
			qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW,
							     QEMU_PLUGIN_INLINE_ADD_U64,
							     k.rep_accesses == 2 ? &s->rep_acc2 :
							     &s->cls[INSN_CLASS_REP], 1);
		else if (k.cls >= 0 && by_insn)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &s->cls[k.cls], 1);
		else if (k.cls >= 0)
			per_class[k.cls]++;
		if (!state.mem)
			continue;
		qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW,
						     QEMU_PLUGIN_INLINE_ADD_U64, &s->acc, 1);
		qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_R,
						     QEMU_PLUGIN_INLINE_ADD_U64, &s->acc_r, 1);
		if (k.cls == INSN_CLASS_RET)
			qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_R,
							     QEMU_PLUGIN_INLINE_ADD_U64,
							     &state.cal_r, 1);
		if (qemu_plugin_insn_size(insn) == 1 &&
		    (*(const uint8_t *)qemu_plugin_insn_data(insn) & 0xf8) == 0x50)
			qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_R,
							     QEMU_PLUGIN_INLINE_ADD_U64,
							     &state.cal_push_r, 1);
	}
	for (int c = 0; c < N_INSN_CLASSES; c++)
		if (per_class[c])
			qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
								 &s->cls[c], per_class[c]);
}

/*
 * Records in @s the target of the direct call or jump (e8/e9 rel32) that ends block @tb,
 * and counts that instruction's executions: the kernel's indirect calls and jumps may go
 * through such a call of a retpoline thunk, which only the host can name (twinbench insn
 * counts them as indirect). The count is the instruction's own, not the block's: a block
 * left early (a shorter block QEMU cuts at the same start to spend the rest of an icount
 * budget, or one it leaves at an I/O access to run that alone) does not reach the call,
 * and the block that then runs on from where it stopped does.
 */
static void note_target(struct qemu_plugin_tb *tb, size_t n, struct slot *s)
{
	struct qemu_plugin_insn *insn;
	const uint8_t *p;
	int32_t rel;

	if (!n)
		return;
	insn = qemu_plugin_tb_get_insn(tb, n - 1);
	p = qemu_plugin_insn_data(insn);
	if (qemu_plugin_insn_size(insn) != 5 || (p[0] != 0xe8 && p[0] != 0xe9))
		return;
	memcpy(&rel, p + 1, sizeof(rel));
	s->target = qemu_plugin_insn_vaddr(insn) + 5 + (int64_t)rel;
	s->target_is_call = p[0] == 0xe8;
	qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
						   &s->target_execs, 1);
}

static void insncount_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	bool by_insn = vaddr >= MODULES_BASE && vaddr < MODULES_END;
	struct slot *s;

	(void)id;
	pthread_mutex_lock(&state.lock);
	s = slot_for(vaddr);
	pthread_mutex_unlock(&state.lock);
	if (by_insn)
		for (size_t i = 0; i < n; i++)
			qemu_plugin_register_vcpu_insn_exec_inline(qemu_plugin_tb_get_insn(tb, i),
								   QEMU_PLUGIN_INLINE_ADD_U64,
								   &s->insns, 1);
	else
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &s->insns, n);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &s->execs, 1);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &state.clock, n);
	if (state.classes)
		count_classes(tb, n, s, by_insn);
	if (vaddr >= KERNEL_BASE) {
		pthread_mutex_lock(&state.lock);
		note_target(tb, n, s);
		if (n && watched(state.poll_funcs, state.n_poll_funcs, vaddr))
			qemu_plugin_register_vcpu_insn_exec_cb(qemu_plugin_tb_get_insn(tb, 0),
							       insncount_poll_entry,
							       QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)vaddr);
		if (n && watched(state.done_funcs, state.n_done_funcs, vaddr))
			qemu_plugin_register_vcpu_insn_exec_cb(qemu_plugin_tb_get_insn(tb, 0),
							       insncount_done_entry,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
		pthread_mutex_unlock(&state.lock);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint32_t magic;

		if (twinmark_get(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn),
				 &magic) && magic == TWINMARK_MAGIC)
			watch_marker(tb, i, n);
	}
}

static void insncount_exit(qemu_plugin_id_t id, void *userdata)
{
	uint64_t total, kernel;

	(void)id;
	(void)userdata;
	pthread_mutex_lock(&state.lock);
	if (state.window != NO_WINDOW)
		out_printf("error window %" PRIu64 " still open when the guest stopped\n",
			   state.window);
	count_totals(&total, &kernel);
	out_printf("exit total %" PRIu64 " kernel %" PRIu64 " windows %" PRIu64 " cal %" PRIu64
		   " %" PRIu64 "\n", state.past_total + total, state.past_kernel + kernel,
		   state.windows, state.cal_r, state.cal_push_r);
	out_flush();
	pthread_mutex_unlock(&state.lock);
}

/* Reads api=N; returns the API version asked for, or -1 after saying what is wrong. */
static int parse_args(int argc, char **argv)
{
	int want = QPV1_API_VERSION;

	for (int i = 0; i < argc; i++) {
		char *end;

		if (!strncmp(argv[i], "api=", 4)) {
			want = (int)strtol(argv[i] + 4, &end, 10);
			if (end == argv[i] + 4 || *end) {
				fprintf(stderr, "insncount: argument '%s': expected api=NUMBER\n",
					argv[i]);
				return -1;
			}
		} else if (!strcmp(argv[i], "mem=on") || !strcmp(argv[i], "mem=off")) {
			state.mem = !strcmp(argv[i], "mem=on");
		} else if (!strcmp(argv[i], "classes=on") || !strcmp(argv[i], "classes=off")) {
			state.classes = !strcmp(argv[i], "classes=on");
		} else {
			fprintf(stderr, "insncount: unknown argument '%s' (known: api=N, "
				"mem=on|off, classes=on|off)\n", argv[i]);
			return -1;
		}
	}
	return want;
}

QPV1_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
				    int argc, char **argv)
{
	int want = parse_args(argc, argv);

	if (want < 0)
		return 1;
	if (!api_supported(want, info->version.min, info->version.cur)) {
		fprintf(stderr, "insncount: needs QEMU plugin API version %d, but this QEMU speaks "
			"versions %d to %d; refusing to load\n",
			want, info->version.min, info->version.cur);
		return 1;
	}
	if (!info->system_emulation || strcmp(info->target_name, "x86_64")) {
		fprintf(stderr, "insncount: splits kernel from user by x86-64 addresses; "
			"refusing to run in %s %s emulation\n", info->target_name,
			info->system_emulation ? "system" : "user");
		return 1;
	}
	if (info->system.smp_vcpus > 1)
		fprintf(stderr, "insncount: warning: %d vCPUs; the inline counters are exact "
			"only when one thread runs the guest (one vCPU or the icount clock)\n",
			info->system.smp_vcpus);
	state.out_cap = 1 << 16;
	state.out = calloc(1, state.out_cap);
	if (!state.out)
		die_oom();
	out_printf("insncount api %d qemu-api %d..%d target %s vcpus %d\n", want,
		   info->version.min, info->version.cur, info->target_name,
		   info->system.smp_vcpus);
	if (state.classes) {
		out_printf("classes");
		for (int c = 0; c < N_INSN_CLASSES; c++)
			out_printf(" %s", class_names[c]);
		out_printf(" mem %s\n", state.mem ? "on" : "off");
	}
	out_flush();
	qemu_plugin_register_vcpu_tb_trans_cb(id, insncount_tb_trans);
	qemu_plugin_register_atexit_cb(id, insncount_exit, NULL);
	return 0;
}

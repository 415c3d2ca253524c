/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insnclass.h - the instruction classes: the one table that the insncount plugin counts by
 * (insncount.c decodes each x86-64 instruction into one of them at translation time), that
 * the host side reads the plugin's output and writes samples.csv by (bench/stats/insn.c),
 * and that the report's cycle estimate weighs (bench/report/report_insn.c).
 *
 * Each row: the class id, its name (in the plugin's output and in the metric names
 * <name>_per_io and driver_<name>_per_io), what it holds, and its estimated cost in cycles
 * on Golden Cove and on Zen 4. docs/insn-classes.md gives the costs' sources; a unit test
 * (tests/unit/test_insn.c) checks that its table says what this one says. An instruction
 * that is none of the classes is "other" (costed by INSN_COST_OTHER_*). Loads and stores
 * count memory accesses, not instructions, and only with the plugin's mem=on; they carry
 * no cost of their own (an L1 hit is part of an ordinary instruction's cost).
 */
#ifndef INSNCLASS_H
#define INSNCLASS_H

#define INSN_CLASSES(X)								\
	X(ATOMIC, "atomic", "atomic read-modify-write: lock prefix, xchg with memory", 19, 8) \
	X(FENCE, "fence", "mfence, lfence, sfence", 33, 7)			\
	X(SERIAL, "serial", "serializing: cpuid, iret, wrmsr, mov to cr/dr, invlpg, lgdt, " \
	  "lidt, lldt, ltr, invd, wbinvd, invpcid, serialize", 100, 100)	\
	X(ICALL, "icall", "indirect call (call *reg, call *mem, and through a retpoline " \
	  "thunk)", 2, 2)							\
	X(IJMP, "ijmp", "indirect jump (jmp *reg, jmp *mem)", 2, 2)		\
	X(RET, "ret", "return (ret, ret imm, far ret)", 1, 1)			\
	X(JCC, "jcc", "conditional branch (jcc, loop, jrcxz)", 0.5, 0.5)	\
	X(REP, "rep", "iterations of rep/repne string instructions", 1, 1)	\
	X(LOAD, "load", "memory loads (mem=on only)", 0, 0)			\
	X(STORE, "store", "memory stores (mem=on only)", 0, 0)

/* The microarchitectures of the cost columns above, in their order: id, name, title. */
#define INSN_UARCHS(X)								\
	X(GLC, "glc", "Golden Cove")						\
	X(ZEN4, "zen4", "Zen 4")

#define INSN_CLASS_ID(id, name, what, glc, zen4) INSN_CLASS_##id,
enum insn_class_id { INSN_CLASSES(INSN_CLASS_ID) N_INSN_CLASSES };
#undef INSN_CLASS_ID

/* The estimated cost of an instruction of no class (the model of docs/insn-classes.md). */
#define INSN_COST_OTHER_GLC	0.25
#define INSN_COST_OTHER_ZEN4	0.25

#endif /* INSNCLASS_H */

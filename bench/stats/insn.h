/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insn.h - exact instruction profiles from the insncount QEMU plugin (plugin/): the guest
 * marks each sample's measured I/O as a window (plugin/twinmark), the plugin counts the
 * window's instructions by kernel code address, and the host side here resolves them to
 * functions with the guest's /proc/kallsyms and turns them into per-I/O metrics.
 *
 * Files in a run folder DIR (see docs/insn-profiles.md):
 *   DIR/insncount-*.txt           the plugin's output, one file per boot (vm-run --plugin)
 *   DIR/insn/kallsyms-vmlinux.txt the guest kernel's own symbols (twinmark, once)
 *   DIR/insn/window-ID.txt        what window ID measured, and the module symbols then
 *   DIR/insn-functions.csv        per arm and workload: instructions per I/O by function
 *   DIR/twins.tsv                 the tree's twin map when the run began (INSN_TWIN_MAP)
 *   DIR/insn-diff.csv             safe arm minus raw arm, by function (counterpart pairs)
 */
#ifndef TWINBENCH_INSN_H
#define TWINBENCH_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include "results.h"
#include "../../plugin/insnclass.h"

#define INSN_DIR		"insn"
#define INSN_TOP_FUNCTIONS	40	/* functions per arm in insn-functions.csv */

/* What a window measured; twinmark writes it as KEY=VALUE lines of window-ID.txt. */
struct insn_window_desc {
	const char *family;	/* family=null */
	const char *arm;	/* arm=safenull */
	const char *workload;	/* workload=randread-4k-qd1 */
	unsigned int sample;	/* sample=3 */
	const char *module;	/* the arm's module; modules= adds what it works with */
};

/*
 * Guest side. insn_window_set() names the window of the sample about to run (id: its plan
 * index; @d NULL: no window). It does nothing outside the guest (TWINBENCH_GUEST unset).
 * insn_hook_start() and insn_hook_stop() then give the shell commands to run right before
 * and right after the measured I/O: @cmd, preceded by `twinmark start ID` or followed by
 * `twinmark stop ID -o OUT/insn KEY=VALUE...` with ios=@ios; just @cmd without a window.
 * They fit fio's exec_prerun/exec_postrun; returns -1 when @len is too small.
 */
void insn_window_set(const char *out_dir, unsigned int id, const struct insn_window_desc *d);
int insn_hook_start(char *buf, size_t len, const char *cmd);
int insn_hook_stop(char *buf, size_t len, const char *cmd, double ios);

/*
 * The twin map: which functions of the raw, safe and Rust twins are counterparts
 * (tab-separated "family raw_function safe_function rust_function reason"; "-" for none,
 * several functions of one twin joined by ","). The diff shows each counterpart pair as one
 * row "raw/safe".
 */
#define INSN_TWIN_MAP		"drivers-safe/twins.tsv"

/*
 * Host side, when a run folder is made: checks the tree's twin map (@top/INSN_TWIN_MAP; none
 * is fine) and copies it into @run_dir as twins.tsv, which insn_merge() reads (@run_dir
 * NULL: only the check). 0, or -1 with "file:line: message" in @err.
 */
int insn_twins_copy(const char *top, const char *run_dir, char *err, size_t len);

/* Host side: whether VM runs in @clock get the plugin (icount only: it slows TCG down). */
bool insn_plugin_usable(const char *top, const char *clock);

/*
 * Host side: read the plugin's windows in @run_dir (none: nothing to do), add the metrics
 * insn_per_io, kernel_insn_per_io, driver_insn_per_io and core_insn_per_io of each window
 * to @t (replacing rows of those metrics already there), and write insn-functions.csv and
 * insn-diff.csv. Returns the number of windows merged, or -1 with "file:line: message" in
 * @err.
 */
int insn_merge(const char *run_dir, struct sample_table *t, char *err, size_t len);

/*
 * Instruction classes (plugin/insnclass.h) and the cycle estimate of docs/insn-classes.md.
 * samples.csv gets, per window with class counts, <class>_per_io (the whole path) and
 * driver_<class>_per_io (driver plus layer) for each class (loads and stores only when the
 * plugin ran with mem=on), and est_cycles_<uarch>_per_io and driver_est_cycles_<uarch>_per_io
 * for each microarchitecture: an estimate of CPU work, not a time.
 */
#define INSN_UARCH_ID(id, name, title) INSN_UARCH_##id,
enum insn_uarch { INSN_UARCHS(INSN_UARCH_ID) N_INSN_UARCHS };
#undef INSN_UARCH_ID

struct insn_class_info {
	const char *name, *what;
	double cost[N_INSN_UARCHS];	/* estimated cycles per instruction or iteration */
};

extern const struct insn_class_info insn_class_table[N_INSN_CLASSES];
/* "glc", "zen4": the names in the estimate's metrics; and their long names. */
extern const char *const insn_uarch_names[N_INSN_UARCHS];
extern const char *const insn_uarch_titles[N_INSN_UARCHS];
extern const double insn_cost_other[N_INSN_UARCHS];

/*
 * The estimated cycles of @insns instructions of which @cls[c] (per class) are of class c:
 * each class at its cost, the rest at insn_cost_other. Loads and stores add nothing.
 */
double insn_estimate(const double *cls, double insns, enum insn_uarch u);

/* What one class adds to the estimate beyond an ordinary instruction, per instruction. */
double insn_class_extra(enum insn_class_id c, enum insn_uarch u);

/* `twinbench insn DIR`: insn_merge() on a run folder's samples.csv, then a short table. */
int insn_main(int argc, char **argv);

#endif /* TWINBENCH_INSN_H */

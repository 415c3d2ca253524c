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
 *   DIR/insn-diff.csv             safe arm minus raw arm, by function
 */
#ifndef TWINBENCH_INSN_H
#define TWINBENCH_INSN_H

#include <stddef.h>
#include "results.h"

#define INSN_DIR		"insn"
#define INSN_TOP_FUNCTIONS	40	/* functions per arm in insn-functions.csv */

/* What a window measured; twinmark writes it as KEY=VALUE lines of window-ID.txt. */
struct insn_window_desc {
	const char *family;	/* family=null */
	const char *arm;	/* arm=safenull */
	const char *workload;	/* workload=randread-4k-qd1 */
	unsigned int sample;	/* sample=3 */
	const char *modules;	/* modules=safenull: the driver under test, comma-separated */
	const char *core;	/* core=block|net: whose functions count as core_insn_per_io */
	double ios;		/* ios=20000: I/Os (or packets) done inside the window */
};

/*
 * Guest side: open (@start) or close the window @id around a sample's measured I/O by
 * running twinmark. Closing writes @d and the module symbols to @out_dir/insn/. Returns 0,
 * or -1 after printing why; without the plugin the marker costs a few no-ops.
 */
int insn_mark(const char *out_dir, unsigned int id, int start, const struct insn_window_desc *d);

/*
 * Host side: read the plugin's windows in @run_dir (none: nothing to do), add the metrics
 * insn_per_io, kernel_insn_per_io, driver_insn_per_io and core_insn_per_io of each window
 * to @t (replacing rows of those metrics already there), and write insn-functions.csv and
 * insn-diff.csv. Returns the number of windows merged, or -1 with "file:line: message" in
 * @err.
 */
int insn_merge(const char *run_dir, struct sample_table *t, char *err, size_t len);

/* `twinbench insn DIR`: insn_merge() on a run folder's samples.csv, then a short table. */
int insn_main(int argc, char **argv);

#endif /* TWINBENCH_INSN_H */

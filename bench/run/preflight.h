/* SPDX-License-Identifier: GPL-2.0 */
/*
 * preflight.h - host mode's checks before anything is loaded: a kernel that only takes
 * signed modules (lockdown, module.sig_enforce) refuses ours with a raw insmod error in
 * the middle of a run; this says why and how to sign them first. And the kernel's taint,
 * which our unsigned, out-of-tree modules set, recorded in manifest.json.
 */
#ifndef TWINBENCH_PREFLIGHT_H
#define TWINBENCH_PREFLIGHT_H

#include <stddef.h>

/*
 * 0 when the running kernel @kver will load the tree's modules (kmod_use_tree(), its
 * modules.order); -1 with one line in @err when it enforces signatures and some are
 * unsigned: nothing may be loaded.
 */
int preflight_signatures(const char *kver, char *err, size_t len);

/* /proc/sys/kernel/tainted now; -1 when unreadable. */
long preflight_taint(void);

/*
 * manifest.json's "kernel_taint": the taint before the run (@before) and now, with the
 * kernel's letters for each (O: out-of-tree module, E: unsigned module loaded), and the
 * letters the run added ("taint_gained"). A problem among them (a warning, oops or lockup
 * outside every sample's window, which no sample's log check saw) is said on stderr.
 */
int preflight_record_taint(const char *rundir, long before, char *err, size_t len);

#endif /* TWINBENCH_PREFLIGHT_H */

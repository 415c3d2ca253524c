/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lock.h - the locks of a run, so that two runs never spoil each other without a
 * word: one on the run folder (a second runner, or a --resume, on the same folder is
 * refused), one on the machine (wall-clock and host-mode runs need it alone; icount
 * runs share it), and an entry per running run that lets icount runs see and record
 * who ran beside them. All are flock(2) locks, so they die with their holders; the
 * runner hands them on to its VM, so they also outlive a runner killed before its VM.
 */
#ifndef TWINBENCH_LOCK_H
#define TWINBENCH_LOCK_H

#include <stdbool.h>
#include <jansson.h>

/* Where the machine lock and the run entries live unless $TWINBENCH_LOCK_DIR says. */
#define LOCK_DIR_DEFAULT	"/run/lock/twinbench"

struct run_locks {
	int dir_fd;		/* RUNDIR/.lock, exclusive, holds our pid */
	int machine_fd;		/* LOCK_DIR/machine.lock: exclusive or shared */
	int entry_fd;		/* LOCK_DIR/run-<pid>.json: this run, for the others */
	char entry[4096];
	json_t *peers;		/* the other runs seen running beside this one */
};

/* An empty set of locks (no fd held). */
void run_locks_init(struct run_locks *l);

/*
 * Take RUNDIR/.lock. A folder locked by a live holder is refused (-1, one line naming
 * its pid); a lock left by a holder that is gone is taken over, with a line saying so.
 */
int lock_rundir(struct run_locks *l, const char *rundir);

/*
 * Take the machine: exclusively when @exclusive (wall clock, host mode), else shared.
 * Busy: with @wait, say who holds it and wait; without, refuse (-1). Returns 0, -1, or
 * EXIT_INTERRUPTED when a stop signal came while waiting.
 */
int lock_machine(struct run_locks *l, bool exclusive, bool wait);

/* Register this run (its folder, mode and clock) for the others to see, and see them. */
void lock_register(struct run_locks *l, const char *rundir, const char *mode,
		   const char *clock);

/* Note the other runs registered now (call it now and then while the run lasts). */
void lock_poll_peers(struct run_locks *l);

/* Make the locks survive exec() in a child that must hold them too (the VM). */
void lock_inherit(const struct run_locks *l);

/* Release everything (the folder lock is left empty: released cleanly). */
void lock_release(struct run_locks *l);

#endif /* TWINBENCH_LOCK_H */

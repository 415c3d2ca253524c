/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run.h - the host side's subcommands (run.c): run, check and summarise.
 */
#ifndef TWINBENCH_RUN_H
#define TWINBENCH_RUN_H


/* twinbench run: validate, pick the mode, execute, summarise (run.c). */
int run_main(int argc, char **argv);
/* twinbench check: validate a matrix and print its plan (run.c). */
int check_main(int argc, char **argv);
/* twinbench summarise RUN_DIR: merge samples and recompute summary.csv (run.c). */
int summarise_main(int argc, char **argv);

#endif /* TWINBENCH_RUN_H */

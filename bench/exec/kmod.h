/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmod.h - the helpers of the families built on kernel modules (kmod.c).
 */
#ifndef TWINBENCH_KMOD_H
#define TWINBENCH_KMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "family.h"

/* Host mode: load our modules from @top's modules.order (insmod), not from /lib/modules. */
void kmod_use_tree(const char *top);
/* @module's .ko in that tree: false when it is not one of ours or no tree was given. */
bool kmod_tree_module(const char *module, char *path, size_t size);
/* The tree's modules.order (NULL: none), and the .ko path of its next entry. */
FILE *kmod_tree_open(void);
bool kmod_tree_next(FILE *order, char *path, size_t size);
int kmod_load(const char *module, const char *params, char *err, size_t len);
int kmod_unload(const char *module, char *err, size_t len);
bool kmod_is_loaded(const char *module);
/* Wait up to @seconds for @path to exist. */
bool wait_for_path(const char *path, double seconds);
/* Append a metric or a setting to @out. */
void run_output_metric(struct run_output *out, const char *metric, double value);
void run_output_setting(struct run_output *out, const char *name, const char *value);

#endif /* TWINBENCH_KMOD_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small system helpers the runner shares: running a program and
 * capturing its output, reading and atomically writing small files, making
 * folders, and the error-message convention (a caller-supplied buffer).
 */
#ifndef TWINBENCH_UTIL_H
#define TWINBENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>

/* Number of elements of an array (not a pointer). */
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit statuses shared by the subcommands. */
#define EXIT_BAD_INPUT		2
#define EXIT_INTERRUPTED	130

/* Set by SIGINT/SIGTERM; long loops stop cleanly when it is non-zero. */
extern volatile sig_atomic_t stop_signal;
void install_stop_handlers(void);

/* Format into a caller's error buffer; always returns -1 so callers can `return seterr(...)`. */
int seterr(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * snprintf for file paths: a path that does not fit is a fatal error (printed,
 * exit status 2) rather than a silently truncated name.
 */
void path_printf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Output of a finished child: its exit status (or 128 + signal) and what it printed. */
struct proc_result {
	int status;
	char *out;	/* stdout, NUL-terminated */
	size_t out_len;
	char *errout;	/* stderr, NUL-terminated */
};

/*
 * Run argv[0] (searched in PATH) with @argv in folder @cwd (NULL: this one),
 * capturing stdout and stderr. Returns 0 when it ran (whatever its status),
 * -1 when it could not start.
 */
int proc_run(char *const argv[], const char *cwd, struct proc_result *res, char *err,
	     size_t len);
void proc_result_free(struct proc_result *res);

/* Read a whole (small) file; NULL with @err on failure. */
char *file_read(const char *path, size_t *size, char *err, size_t len);
/* Read the first line of a sysfs-like file, without its newline; -1 on failure. */
int file_read_line(const char *path, char *buf, size_t size);
/* Write @s to @path (no truncation games: sysfs); -1 with errno on failure. */
int file_write_str(const char *path, const char *s);
/* Replace @path with @data atomically (temporary file + rename). */
int file_write_atomic(const char *path, const char *data, size_t size, char *err, size_t len);

/* mkdir -p; 0 or -1 with @err. */
int mkdir_p(const char *path, char *err, size_t len);
bool path_exists(const char *path);

/* Seconds since an arbitrary start (CLOCK_MONOTONIC). */
double now_seconds(void);

/* Strip leading and trailing white space in place; returns @s. */
char *strtrim(char *s);
/*
 * The value of @key in a file of key=value lines (scripts/kernels.sh's kernel.env); "" when
 * the key is absent, -1 when the file cannot be read.
 */
int kv_file_get(const char *path, const char *key, char *buf, size_t size);

#endif /* TWINBENCH_UTIL_H */

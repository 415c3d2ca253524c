// SPDX-License-Identifier: GPL-2.0
/*
 * twinmark.c - the guest's side of the instruction windows: executes the marker of
 * twinmark.h so that the insncount QEMU plugin opens or closes the window of a sample, and
 * records what the host needs to read the window's counts.
 *
 *   twinmark start ID
 *   twinmark stop ID [-o DIR] [KEY=VALUE]...
 *   twinmark poll ADDR
 *   twinmark done ADDR
 *
 * poll names the kernel function (its address, hex, from /proc/kallsyms) that a poll
 * loop calls once per turn, so that the plugin counts the turns in which no I/O ended
 * apart until the next window closes; done names a function that runs once per ended I/O,
 * for the rest of the boot. Run each before its function first runs (poll after the
 * driver is loaded, done before any polled I/O of the boot).
 * With -o DIR (made if missing), stop writes DIR/window-ID.txt after the window is closed:
 * the KEY=VALUE pairs (the runner's description of the sample: family, arm, workload,
 * sample, modules, core, ios), then the module lines of /proc/kallsyms, which change each
 * time a module loads, and /proc/modules (where each module ends); and it copies the vmlinux
 * lines of /proc/kallsyms to DIR/kallsyms-vmlinux.txt once.
 * Without the plugin the marker is a few no-ops, so the tool is harmless anywhere.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "twinmark.h"

#define RET_INSN 0xc3

static void usage(void)
{
	fprintf(stderr, "usage: twinmark start ID\n"
			"       twinmark stop ID [-o DIR] [KEY=VALUE]...\n"
			"       twinmark poll|done ADDR\n");
	exit(2);
}

/* Writes the marker for (@op, @id) into a fresh executable page and calls it. */
static int run_marker(enum twinmark_op op, uint32_t id)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *code = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void (*marker)(void);

	if (code == MAP_FAILED) {
		perror("twinmark: mmap");
		return -1;
	}
	twinmark_put(code, TWINMARK_MAGIC);
	twinmark_put(code + TWINMARK_INSN_LEN, op);
	twinmark_put(code + 2 * TWINMARK_INSN_LEN, id);
	code[TWINMARK_INSNS * TWINMARK_INSN_LEN] = RET_INSN;
	if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC)) {
		perror("twinmark: mprotect");
		munmap(code, (size_t)page);
		return -1;
	}
	marker = (void (*)(void))(uintptr_t)code;
	marker();
	munmap(code, (size_t)page);
	return 0;
}

/* Copies the lines of /proc/kallsyms that belong to modules (or, if !@modules, to vmlinux). */
static int copy_kallsyms(FILE *to, int modules)
{
	FILE *from = fopen("/proc/kallsyms", "r");
	char line[512];

	if (!from) {
		perror("twinmark: /proc/kallsyms");
		return -1;
	}
	while (fgets(line, sizeof(line), from))
		if (!!strchr(line, '[') == modules)
			fputs(line, to);
	fclose(from);
	return 0;
}

/* Copies /proc/modules as "module NAME SIZE ... ADDR" lines: where each module's code ends. */
static int copy_modules(FILE *to)
{
	FILE *from = fopen("/proc/modules", "r");
	char line[1024];

	if (!from) {
		perror("twinmark: /proc/modules");
		return -1;
	}
	while (fgets(line, sizeof(line), from))
		fprintf(to, "module %s", line);
	fclose(from);
	return 0;
}

static int write_file(const char *dir, const char *name, int argc, char **argv, int modules)
{
	char path[4096], tmp[4200];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "twinmark: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	for (int i = 0; i < argc; i++)
		fprintf(f, "%s\n", argv[i]);
	err = copy_kallsyms(f, modules) || (modules && copy_modules(f));
	if (fclose(f) || err || rename(tmp, path)) {
		fprintf(stderr, "twinmark: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

static int write_window_files(const char *dir, uint32_t id, int argc, char **argv)
{
	char path[4096], name[64];

	if ((mkdir(dir, 0755) && errno != EEXIST) || access(dir, W_OK)) {
		fprintf(stderr, "twinmark: -o %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/kallsyms-vmlinux.txt", dir);
	if (access(path, F_OK) && write_file(dir, "kallsyms-vmlinux.txt", 0, NULL, 0))
		return -1;
	snprintf(name, sizeof(name), "window-%u.txt", id);
	return write_file(dir, name, argc, argv, 1);
}

static uint32_t parse_id(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || *s == '-') {
		fprintf(stderr, "twinmark: window id '%s': expected a number 0..%u\n", s,
			UINT32_MAX);
		exit(2);
	}
	return (uint32_t)v;
}

/* A kernel text address (hex), which a marker carries as its low 32 bits. */
static uint32_t parse_kernel_addr(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || end == s || *end || (v & TWINMARK_KERNEL_HIGH) != TWINMARK_KERNEL_HIGH) {
		fprintf(stderr, "twinmark: address '%s': expected a kernel text address "
			"(hex, ffffffff........)\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	enum twinmark_op op;
	uint32_t id;
	int first_kv = 3;

	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "poll") || !strcmp(argv[1], "done")) {
		if (argc != 3)
			usage();
		return run_marker(argv[1][0] == 'p' ? TWINMARK_POLL : TWINMARK_DONE,
				  parse_kernel_addr(argv[2])) ? 1 : 0;
	}
	if (!strcmp(argv[1], "start"))
		op = TWINMARK_START;
	else if (!strcmp(argv[1], "stop"))
		op = TWINMARK_STOP;
	else
		usage();
	id = parse_id(argv[2]);
	if (op == TWINMARK_START && argc != 3)
		usage();
	if (argc > 3 && !strcmp(argv[3], "-o")) {
		if (argc < 5)
			usage();
		dir = argv[4];
		first_kv = 5;
	}
	for (int i = first_kv; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=') {
			fprintf(stderr, "twinmark: '%s': expected KEY=VALUE\n", argv[i]);
			return 2;
		}
	if (op == TWINMARK_STOP && !dir && argc > first_kv) {
		fprintf(stderr, "twinmark: KEY=VALUE pairs need -o DIR to be written to\n");
		return 2;
	}
	if (run_marker(op, id))
		return 1;
	if (dir && write_window_files(dir, id, argc - first_kv, argv + first_kv))
		return 1;
	return 0;
}

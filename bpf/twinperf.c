// SPDX-License-Identifier: GPL-2.0
/*
 * twinperf - count perf events over one command and its children, as `perf stat -- CMD`
 * does, and write them as JSON: software counters (task-clock, context switches, CPU
 * migrations, page faults) and, where the machine has a PMU, cycles and instructions.
 * Counters the kernel or machine cannot give are listed as unavailable, never faked.
 * The exit status is the command's own (128 + signal if it was killed).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <jansson.h>

#define JSON_VERSION	1

/* One counter twinperf knows, by its perf stat name. */
struct counter {
	const char *name;
	const char *unit;
	__u32 type;
	__u64 config;
	bool wanted;
	int fd;
	int error;
};

static struct counter counters[] = {
	{ "task-clock", "ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, true, -1, 0 },
	{ "context-switches", "count", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, true, -1, 0 },
	{ "cpu-migrations", "count", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, true, -1, 0 },
	{ "page-faults", "count", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, true, -1, 0 },
	{ "cycles", "count", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, true, -1, 0 },
	{ "instructions", "count", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, true, -1, 0 },
};

#define NR_COUNTERS	(sizeof(counters) / sizeof(counters[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: twinperf -o FILE [-e EVENT,...] -- COMMAND [ARG]...\n"
		"Counts perf events over COMMAND and its children and writes them as JSON.\n"
		"Events (default: all):");
	for (i = 0; i < NR_COUNTERS; i++)
		fprintf(out, " %s", counters[i].name);
	fputc('\n', out);
}

static int parse_events(const char *arg)
{
	char *list = strdup(arg), *save = NULL, *tok;
	size_t i;

	if (!list)
		return -1;
	for (i = 0; i < NR_COUNTERS; i++)
		counters[i].wanted = false;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_COUNTERS; i++)
			if (!strcmp(tok, counters[i].name))
				break;
		if (i == NR_COUNTERS) {
			fprintf(stderr, "twinperf: -e %s: unknown event '%s'\n", arg, tok);
			free(list);
			return -1;
		}
		counters[i].wanted = true;
	}
	free(list);
	return 0;
}

/* Opens a counter on @pid and its future children, started when @pid calls exec. */
static int open_counter(struct counter *c, pid_t pid)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = c->type,
		.config = c->config,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING,
		.disabled = 1,
		.inherit = 1,
		.enable_on_exec = 1,
	};

	c->fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	c->error = c->fd < 0 ? errno : 0;
	return c->fd;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static json_t *counters_json(json_t *unavailable)
{
	json_t *obj = json_object();
	size_t i;

	for (i = 0; i < NR_COUNTERS; i++) {
		struct counter *c = &counters[i];
		__u64 v[3];

		if (!c->wanted)
			continue;
		if (c->fd < 0 || read(c->fd, v, sizeof(v)) != sizeof(v)) {
			json_array_append_new(unavailable, json_pack("{ssss}", "event", c->name,
				"reason", strerror(c->fd < 0 ? c->error : errno)));
			continue;
		}
		json_object_set_new(obj, c->name, json_pack("{sIsssIsI}",
			"value", (json_int_t)v[0], "unit", c->unit,
			"enabled_ns", (json_int_t)v[1], "running_ns", (json_int_t)v[2]));
	}
	return obj;
}

static int write_json(const char *path, json_t *root)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    json_dump_file(root, tmp, JSON_INDENT(2)) || rename(tmp, path)) {
		fprintf(stderr, "twinperf: -o %s: cannot write: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *output = NULL;
	json_t *root, *command, *unavailable;
	int go[2], status, opt, rc;
	__u64 start, wall;
	size_t i;
	pid_t child;
	char byte = 0;

	while ((opt = getopt(argc, argv, "+o:e:h")) != -1) {
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'e':
			if (parse_events(optarg))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!output || optind >= argc) {
		fprintf(stderr, "twinperf: %s\n", output ? "no command given after --" :
			"-o FILE is required");
		return 2;
	}
	if (pipe(go)) {
		fprintf(stderr, "twinperf: pipe: %s\n", strerror(errno));
		return 1;
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "twinperf: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		execvp(argv[optind], &argv[optind]);
		fprintf(stderr, "twinperf: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	for (i = 0; i < NR_COUNTERS; i++)
		if (counters[i].wanted)
			open_counter(&counters[i], child);
	start = now_ns();
	if (write(go[1], &byte, 1) != 1)
		fprintf(stderr, "twinperf: cannot start the command: %s\n", strerror(errno));
	close(go[1]);
	if (waitpid(child, &status, 0) < 0) {
		fprintf(stderr, "twinperf: waitpid: %s\n", strerror(errno));
		return 1;
	}
	wall = now_ns() - start;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	command = json_array();
	for (i = optind; i < (size_t)argc; i++)
		json_array_append_new(command, json_string(argv[i]));
	unavailable = json_array();
	root = json_pack("{sssisosisIsoso}", "tool", "twinperf", "version", JSON_VERSION,
			 "command", command, "exit_status", rc, "wall_ns", (json_int_t)wall,
			 "counters", counters_json(unavailable), "unavailable", unavailable);
	for (i = 0; i < NR_COUNTERS; i++)
		if (counters[i].fd >= 0)
			close(counters[i].fd);
	if (!root || write_json(output, root))
		rc = rc ? rc : 1;
	json_decref(root);
	return rc;
}

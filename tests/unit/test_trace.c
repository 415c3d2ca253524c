// SPDX-License-Identifier: GPL-2.0
/*
 * test_trace.c - per-sample tracing without a kernel: traced arm names, the attach and
 * detach scripts written for an arm, the per-I/O metrics taken from a real twintrace JSON
 * (a guest rawnull sample, irqmode=2, 20000 I/Os), the refusal of a JSON whose completion
 * count disagrees with fio's, and the cleanup stopping a tracer the stop script missed.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "family.h"
#include "matrix.h"
#include "trace.h"
#include "util.h"

static const struct family_arm arm = {
	.name = "rawnull", .module = "rawnull", .device = "/dev/rawnull%d",
	.role = ARM_RAW, .trace_funcs = "queue_rq=rawnull_queue_rq timer=rawnull_timer",
};

static const struct matrix_trace_rate rate16 = { .sample = 16 };
static const struct matrix_trace_rate duty = { .sample = 1, .duty_on_ms = 20,
					       .duty_period_ms = 640 };

static void fixture(char *buf, size_t size)
{
	snprintf(buf, size, "%s/trace/rawnull-irqmode2.json", FIXTURES);
}

static double metric(const struct run_output *out, const char *name)
{
	for (size_t i = 0; i < out->n_metrics; i++)
		if (!strcmp(out->metrics[i].metric, name))
			return out->metrics[i].value;
	fail_msg("metric %s missing", name);
	return 0;
}

static void test_arm_names(void **state)
{
	char plain[32];

	(void)state;
	assert_true(trace_arm_split("safenull+trace", plain, sizeof(plain)));
	assert_string_equal(plain, "safenull");
	assert_false(trace_arm_split("safenull", plain, sizeof(plain)));
	assert_string_equal(plain, "safenull");
	assert_false(trace_arm_split("+trace", plain, sizeof(plain)));
}

/* A safe variant (safenull-noerror) times its twin's functions. */
static void test_variant_funcs(void **state)
{
	const struct family_ops *null = family_find("null");
	const struct family_arm *variant, *twin;

	(void)state;
	assert_non_null(null);
	variant = family_find_arm(null, "safenull-noerror");
	twin = family_find_arm(null, "safenull");
	assert_non_null(variant);
	assert_non_null(twin->trace_funcs);
	assert_ptr_equal(trace_funcs_of(null, variant), twin->trace_funcs);
	assert_ptr_equal(trace_funcs_of(null, twin), twin->trace_funcs);
}

static void test_scripts(void **state)
{
	struct trace_session t;
	char err[256], path[256], *text;

	(void)state;
	assert_int_equal(trace_prepare(&t, "/tmp/x.trace.json", arm.trace_funcs, "/dev/rawnull0", &rate16,
				       err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/start.sh", t.dir);
	text = file_read(path, NULL, NULL, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "twintrace -o /tmp/x.trace.json --dev /dev/rawnull0 "
			       "--sample 16 --func queue_rq=rawnull_queue_rq "
			       "--func timer=rawnull_timer >"));
	free(text);
	assert_non_null(strstr(t.start, "/start.sh"));
	assert_non_null(strstr(t.stop, "/stop.sh"));
	trace_cleanup(&t);
	assert_false(path_exists(path));

	/* a duty cycle is passed with the device */
	assert_int_equal(trace_prepare(&t, "/tmp/x.trace.json", NULL, "/dev/rawnull0", &duty,
				       err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/start.sh", t.dir);
	text = file_read(path, NULL, NULL, 0);
	assert_non_null(strstr(text, "--dev /dev/rawnull0 --sample 1 --duty 20/640 >"));
	free(text);
	trace_cleanup(&t);

	/* no device: no block events (a net interface) */
	assert_int_equal(trace_prepare(&t, "/tmp/x.trace.json", arm.trace_funcs, NULL, &rate16, err,
				       sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/start.sh", t.dir);
	text = file_read(path, NULL, NULL, 0);
	assert_non_null(strstr(text, "--events hardirq,softirq,timer,hrtimer --func"));
	free(text);
	trace_cleanup(&t);
}

static void test_metrics(void **state)
{
	struct trace_session t = { 0 };
	struct run_output *out = calloc(1, sizeof(*out));
	char err[256];

	(void)state;
	fixture(t.json, sizeof(t.json));
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), 0);
	/* (67 hard IRQs + 20529 timer interrupts) / 20000 I/Os */
	assert_float_equal(metric(out, "irqs_per_io"), 20596.0 / 20000, 1e-9);
	assert_float_equal(metric(out, "hardirq_ns_per_io"), (258295.0 + 232524422) / 20000, 1e-6);
	assert_float_equal(metric(out, "softirq_ns_per_io"), 2849937.0 / 20000, 1e-6);
	assert_float_equal(metric(out, "driver_ns_per_io"), (101799522.0 + 150026158) / 20000,
			   1e-6);
	assert_float_equal(metric(out, "bpf_lat_p50"), 16256, 0);
	assert_float_equal(metric(out, "bpf_lat_p999"), 18688, 0);

	/* fio says 21000 I/Os, BPF saw 20000 completions: the sample is not trusted */
	out->n_metrics = 0;
	assert_int_equal(trace_metrics(&t, 21000, out, err, sizeof(err)), -1);
	assert_string_equal(err, "trace-failed: twintrace saw 20000 requests, fio did 21000 "
			    "I/Os");
	snprintf(t.json, sizeof(t.json), "/nonexistent/x.json");
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trace-failed: no JSON from twintrace"));
	free(out);
}

/*
 * Sampled: 1 request in 16 timed (1250 latencies), all 20000 counted; the count check uses
 * the issued requests, and the rate is the sample's trace_sample setting.
 */
static void test_metrics_sampled(void **state)
{
	struct trace_session t = { 0 };
	struct run_output *out = calloc(1, sizeof(*out));
	char err[256];
	FILE *f;

	(void)state;
	snprintf(t.json, sizeof(t.json), "/tmp/test_trace-%d.json", (int)getpid());
	f = fopen(t.json, "w");
	assert_non_null(f);
	fputs("{\"version\": 1, \"block\": {\"sample_every\": 16, \"issued\": 20000, "
	      "\"count\": 1250, \"p50_ns\": 900, \"p99_ns\": 1200, \"p999_ns\": 1500}, "
	      "\"functions\": []}\n", f);
	fclose(f);
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), 0);
	assert_float_equal(metric(out, "bpf_lat_p99"), 1200, 0);
	assert_int_equal(out->n_settings, 3);
	assert_string_equal(out->settings[0].name, "trace_sample");
	assert_string_equal(out->settings[0].value, "16");
	assert_string_equal(out->settings[1].name, "trace_duty");
	assert_string_equal(out->settings[1].value, "off");
	assert_string_equal(out->settings[2].name, "trace_timed");
	assert_string_equal(out->settings[2].value, "0.0625");
	out->n_metrics = 0;
	assert_int_equal(trace_metrics(&t, 1250, out, err, sizeof(err)), -1);
	unlink(t.json);
	free(out);
}

/* Writes a JSON whose block section has a duty cycle and @issued requests into t->json. */
static void duty_json(struct trace_session *t, unsigned int issued)
{
	FILE *f;

	snprintf(t->json, sizeof(t->json), "/tmp/test_trace-%d.json", (int)getpid());
	f = fopen(t->json, "w");
	assert_non_null(f);
	fprintf(f, "{\"version\": 1, \"block\": {\"sample_every\": 1, \"issued\": %u, "
		"\"count\": %u, \"p50_ns\": 900, \"p99_ns\": 1200, \"p999_ns\": 1500, "
		"\"duty\": {\"on_ms\": 20, \"period_ms\": 640, \"attached_ns\": 60000000}}, "
		"\"functions\": [{\"role\": \"queue_rq\", \"symbol\": \"rawnull_queue_rq\", "
		"\"calls\": %u, \"returns\": %u, \"timed_ns\": 250000, \"ns\": 250000}]}\n",
		issued, issued, issued, issued);
	fclose(f);
}

/*
 * Duty-cycled: only the requests issued while attached are counted, so the count check
 * asks for no more than fio's and some; the settings name the cycle and the part timed.
 */
static void test_metrics_duty(void **state)
{
	struct trace_session t = { 0 };
	struct run_output *out = calloc(1, sizeof(*out));
	char err[256];

	(void)state;
	duty_json(&t, 625);
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), 0);
	assert_float_equal(metric(out, "bpf_lat_p99"), 1200, 0);
	/* the probes ran while the block programs did: per request issued then */
	assert_float_equal(metric(out, "driver_ns_per_io"), 250000.0 / 625, 1e-9);
	assert_int_equal(out->n_settings, 3);
	assert_string_equal(out->settings[1].value, "20/640");
	assert_string_equal(out->settings[2].value, "0.03125");
	out->n_metrics = out->n_settings = 0;
	duty_json(&t, 20500);
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), -1);
	assert_string_equal(err, "trace-failed: twintrace saw 20500 requests in its duty cycle, "
			    "fio did only 20000 I/Os");
	out->n_metrics = out->n_settings = 0;
	duty_json(&t, 0);
	assert_int_equal(trace_metrics(&t, 20000, out, err, sizeof(err)), -1);
	assert_string_equal(err, "trace-failed: twintrace saw no request in 60 ms attached");
	unlink(t.json);
	free(out);
}

/* The icount clock times no driver functions (the plugin counts them exactly). */
static void test_funcs_for_clock(void **state)
{
	const struct family_ops *null = family_find("null");
	const struct family_arm *raw = family_find_arm(null, "rawnull");

	(void)state;
	assert_null(trace_funcs_for_clock(null, raw, "icount"));
	assert_ptr_equal(trace_funcs_for_clock(null, raw, "wall"), raw->trace_funcs);
}

/* A tracer the stop script never reached is stopped by the cleanup. */
static void test_cleanup_stops_leftover(void **state)
{
	struct trace_session t;
	char err[256], path[256];
	pid_t child;
	FILE *f;
	int status;

	(void)state;
	assert_int_equal(trace_prepare(&t, "/tmp/x.trace.json", arm.trace_funcs, NULL, &rate16, err,
				       sizeof(err)), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "%s/pid", t.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)child);
	fclose(f);
	trace_cleanup(&t);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_names),
		cmocka_unit_test(test_variant_funcs),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_metrics_sampled),
		cmocka_unit_test(test_metrics_duty),
		cmocka_unit_test(test_funcs_for_clock),
		cmocka_unit_test(test_cleanup_stops_leftover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

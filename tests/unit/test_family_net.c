// SPDX-License-Identifier: GPL-2.0
/*
 * test_family_net.c - the net family's checks of its parameters and workloads, and its
 * readers of iperf3 -J reports (new and old field names), of `ip -s -j link` and of the
 * iperf3 server's listening socket in /proc/net/tcp, against
 * real captured output (tests/fixtures/net/README.md says how each was made).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "family.h"
#include "family_net.h"
#include "matrix.h"
#include "util.h"

static char *fixture(const char *name)
{
	char path[512], err[256];
	char *text;

	snprintf(path, sizeof(path), "%s/net/%s", FIXTURES, name);
	text = file_read(path, NULL, err, sizeof(err));
	if (!text)
		fail_msg("%s", err);
	return text;
}

static void assert_close(double got, double want)
{
	if (fabs(got - want) > 1e-9 * fabs(want) + 1e-12)
		fail_msg("got %.12g, want %.12g", got, want);
}

static void test_udp_new_names_use_receiver_side(void **state)
{
	char *text = fixture("udp-iperf3.12.json"), err[256] = "";
	struct net_iperf3 r;

	(void)state;
	assert_int_equal(net_parse_iperf3(text, true, &r, err, sizeof(err)), 0);
	assert_close(r.packets, 3000 - 2000);
	assert_close(r.seconds, 0.035487);
	assert_close(r.bps, 331839828.6696537);
	assert_close(r.jitter_ms, 0.00040825592324016986);
	assert_close(r.lost_pct, 66.66666666666667);
	free(text);
}

static void test_udp_old_names(void **state)
{
	char *text = fixture("udp-old-names.json"), err[256] = "";
	struct net_iperf3 r;

	(void)state;
	assert_int_equal(net_parse_iperf3(text, true, &r, err, sizeof(err)), 0);
	assert_close(r.packets, 1000);
	assert_close(r.bps, 997487082.474518);
	assert_close(r.lost_pct, 66.66666666666667);
	free(text);
}

static void test_tcp(void **state)
{
	char *text = fixture("tcp-iperf3.12.json"), err[256] = "";
	struct net_iperf3 r;

	(void)state;
	assert_int_equal(net_parse_iperf3(text, false, &r, err, sizeof(err)), 0);
	assert_close(r.seconds, 0.197295);
	assert_close(r.bps, 685604318.406447);
	assert_close(r.packets, 0);
	free(text);
}

static void test_iperf3_error_is_reported(void **state)
{
	char *text = fixture("refused.json"), err[256] = "";
	struct net_iperf3 r;

	(void)state;
	assert_int_equal(net_parse_iperf3(text, true, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unable to connect"));
	free(text);
}

static void test_broken_reports_fail(void **state)
{
	struct net_iperf3 r;
	char err[256];

	(void)state;
	assert_int_equal(net_parse_iperf3("iperf3: interrupt", true, &r, err, sizeof(err)), -1);
	assert_int_equal(net_parse_iperf3("{\"end\": {", true, &r, err, sizeof(err)), -1);
	assert_int_equal(net_parse_iperf3("{\"end\": {}}", false, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sum_received"));
	assert_int_equal(net_parse_iperf3("{\"end\": {\"sum\": {\"seconds\": 1, "
					  "\"bits_per_second\": 8, \"packets\": 5, "
					  "\"lost_packets\": 6, \"lost_percent\": 120, "
					  "\"jitter_ms\": 0}}}", true, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "6 of 5"));
	assert_int_equal(net_parse_iperf3("{\"end\": {\"sum_received\": {\"seconds\": 1, "
					  "\"bits_per_second\": 8}}}", true, &r, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "jitter_ms"));
}

static void test_rx_packets(void **state)
{
	char *text = fixture("ip-link-lo.json"), err[256];
	unsigned long long packets = 0;

	(void)state;
	assert_int_equal(net_parse_rx_packets(text, &packets, err, sizeof(err)), 0);
	assert_true(packets > 0);
	assert_int_equal(net_parse_rx_packets("[]", &packets, err, sizeof(err)), -1);
	assert_int_equal(net_parse_rx_packets("Device not found", &packets, err, sizeof(err)),
			 -1);
	free(text);
}

/* The listener is found by port and LISTEN state only; after a test it is a new socket. */
static void test_listener_inode(void **state)
{
	char *listen = fixture("proc-net-tcp-listen.txt");
	char *during = fixture("proc-net-tcp-during.txt");
	char *after = fixture("proc-net-tcp-after.txt");

	(void)state;
	assert_int_equal(net_listener_inode(listen, 0), 160660);
	assert_int_equal(net_listener_inode(during, 0), 160660);
	assert_int_equal(net_listener_inode(after, 0), 160783);
	/* waiting for a new listener: the old one does not count */
	assert_int_equal(net_listener_inode(listen, 160660), 0);
	assert_int_equal(net_listener_inode(after, 160660), 160783);
	assert_int_equal(net_listener_inode("", 0), 0);
	assert_int_equal(net_listener_inode(NULL, 0), 0);
	free(listen);
	free(during);
	free(after);
}

static void test_params(void **state)
{
	const struct family_ops *net = family_find("net");
	char err[256];

	(void)state;
	assert_non_null(net);
	assert_int_equal(net->check_params(net->default_params, err, sizeof(err)), 0);
	assert_int_equal(net->check_params("ring_size=100", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ring_size=100"));
	assert_int_equal(net->check_params("mtu=9001", err, sizeof(err)), -1);
	assert_int_equal(net->check_params("irqmode=2", err, sizeof(err)), -1);
	assert_int_equal(net->check_params("ring_size=16 coalesce_frames=32", err, sizeof(err)),
			 -1);
	assert_int_equal(net->check_params("queues=2", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "queues"));
	assert_int_equal(net->check_params("mtu", err, sizeof(err)), -1);
}

static void test_workloads(void **state)
{
	const struct family_ops *net = family_find("net");
	struct workload w = { .name = "w", .bs = 1472, .numjobs = 1, .line = 7, .bs_line = 9 };
	struct matrix m = { .ios = 1000 };
	char err[256];
	int line = 0;

	(void)state;
	snprintf(w.rw, sizeof(w.rw), "udp");
	assert_int_equal(net->check_workload("mtu=1500", &m, &w, &line, err, sizeof(err)), 0);
	w.bs = 8972;
	assert_int_equal(net->check_workload("mtu=1500", &m, &w, &line, err, sizeof(err)), -1);
	assert_int_equal(line, 9);
	assert_non_null(strstr(err, "mtu >= 9000"));
	assert_int_equal(net->check_workload("mtu=9000", &m, &w, &line, err, sizeof(err)), 0);
	snprintf(w.rw, sizeof(w.rw), "tcp");
	w.bs = 131072;
	w.numjobs = 4;
	assert_int_equal(net->check_workload("mtu=1500", &m, &w, &line, err, sizeof(err)), 0);
	w.numjobs = 17;
	assert_int_equal(net->check_workload("mtu=1500", &m, &w, &line, err, sizeof(err)), -1);
	w.numjobs = 1;
	snprintf(w.rw, sizeof(w.rw), "randread");
	assert_int_equal(net->check_workload("mtu=1500", &m, &w, &line, err, sizeof(err)), -1);
	assert_int_equal(line, 7);
	assert_non_null(strstr(err, "udp or tcp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_new_names_use_receiver_side),
		cmocka_unit_test(test_udp_old_names),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_iperf3_error_is_reported),
		cmocka_unit_test(test_broken_reports_fail),
		cmocka_unit_test(test_rx_packets),
		cmocka_unit_test(test_listener_inode),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_workloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

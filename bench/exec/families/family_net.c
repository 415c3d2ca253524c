// SPDX-License-Identifier: GPL-2.0
/*
 * family_net.c - the network family: a pair of Ethernet devices from the stock veth driver
 * or from its raw and safe twins (rawnet, safenet), driven by iperf3 between two network
 * namespaces, one end in each.
 *
 * Workloads: rw = udp or tcp; bs = the UDP payload or the TCP write size in bytes; numjobs
 * = parallel streams; cpus = where the client (first CPU of the list) and the server (last
 * CPU) run. The matrix's ios and warmup_ios count datagrams (UDP) or writes (TCP): iperf3
 * -k, a fixed amount of work per sample, which the icount clock needs.
 *
 * Per sample: two namespaces, the pair moved into them and addressed, the same MTU, offloads
 * and root qdisc set on every arm (veth takes no module parameters), one iperf3 server for a
 * warm-up run and the measured run; then everything is torn down again, also on failure.
 * Under TCG each program started costs a fifth of a second or more, so the ip commands go in
 * batches, iperf3 starts in its namespace without `ip netns exec`, and the server's listening
 * socket is read from /proc rather than by another program.
 */
#define _GNU_SOURCE	/* setns */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "family.h"
#include "family_net.h"
#include "insn.h"
#include "kmod.h"
#include "matrix.h"
#include "procstat.h"
#include "trace.h"
#include "util.h"

/* Every parameter is passed explicitly, so neither twin runs on a default of its own. */
#define NET_DEFAULT_PARAMS \
	"nr_pairs=1 napi_weight=64 ring_size=256 irqmode=0 coalesce_usecs=20 " \
	"coalesce_frames=32 mtu=9000 offloads=1"

#define NET_NS_CLIENT		"twinbench_net_a"
#define NET_NS_SERVER		"twinbench_net_b"
#define NET_ADDR_CLIENT		"10.79.0.1"
#define NET_ADDR_SERVER		"10.79.0.2"
#define NET_PREFIX		"/24"
#define NET_PORT		"5211"
#define NET_DEVICE_WAIT		10.0
#define NET_UDP_IP_HEADERS	28	/* IPv4 + UDP: bs + 28 must fit the MTU */
#define NET_UDP_MAX_PAYLOAD	65507
#define NET_TCP_MAX_WRITE	(1 << 20)
#define NET_MAX_STREAMS		16
#define NET_LISTEN_WAIT		20.0	/* seconds the iperf3 server may take to listen */
#define NET_SERVER_GRACE	5.0	/* seconds it may take to leave when asked to */
#define NET_MAX_ARGS		40
/*
 * The root qdisc of both ends on every arm: veth's own default (it sets IFF_NO_QUEUE, and so
 * do the twins), set explicitly so that no arm runs on a default of its own.
 */
#define NET_QDISC		"noqueue"

static const struct family_arm net_arms[] = {
	{ .name = "veth", .module = "veth", .device = "veth%da", .role = ARM_UPSTREAM,
	  .trace_funcs = "xmit=veth_xmit napi_poll=veth_poll" },
	{ .name = "rawnet", .module = "rawnet", .device = "rawnet%da", .role = ARM_RAW,
	  .trace_funcs = "xmit=rawnet_start_xmit napi_poll=rawnet_poll "
			 "timer=rawnet_coalesce_fire" },
	{ .name = "safenet", .module = "safenet", .device = "safenet%da",
	  .role = ARM_SAFE,
	  .trace_funcs = "xmit=safenet_start_xmit_adapter napi_poll=safenet_poll_adapter "
			 "timer=safenet_timer_adapter" },
	FAMILY_SAFE_VARIANT("safenet", "noerror", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "nobounds", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "noguards", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "noskbown", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "noadapter", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "noresult", "safenet%da"),
	FAMILY_SAFE_VARIANT("safenet", "noall", "safenet%da"),
	{ .name = "rustnet", .module = "rustnet", .device = "rustnet%da", .role = ARM_RUST,
	  .rust_kernel = true },
	{ .name = NULL },
};

/* The twins' module parameters, their ranges and the defaults of NET_DEFAULT_PARAMS. */
enum net_param {
	NET_P_NR_PAIRS, NET_P_NAPI_WEIGHT, NET_P_RING_SIZE, NET_P_IRQMODE,
	NET_P_COALESCE_USECS, NET_P_COALESCE_FRAMES, NET_P_MTU, NET_P_OFFLOADS, NET_N_PARAMS
};

static const struct {
	const char *name;
	unsigned long long min, max, fallback;
} net_params[NET_N_PARAMS] = {
	[NET_P_NR_PAIRS] = { "nr_pairs", 1, 64, 1 },
	[NET_P_NAPI_WEIGHT] = { "napi_weight", 1, 64, 64 },
	[NET_P_RING_SIZE] = { "ring_size", 16, 16384, 256 },
	[NET_P_IRQMODE] = { "irqmode", 0, 1, 0 },
	[NET_P_COALESCE_USECS] = { "coalesce_usecs", 1, 100000, 20 },
	[NET_P_COALESCE_FRAMES] = { "coalesce_frames", 1, 16384, 32 },
	[NET_P_MTU] = { "mtu", 68, 9000, 1500 },
	[NET_P_OFFLOADS] = { "offloads", 0, 1, 1 },
};

/* Parse "key=value ..." into @v (unset keys get their fallback); -1 with a reason. */
static int net_parse_params(const char *params, unsigned long long *v, char *err, size_t len)
{
	char buf[MATRIX_PARAMS_LEN], *save = NULL;
	size_t i;

	for (i = 0; i < NET_N_PARAMS; i++)
		v[i] = net_params[i].fallback;
	if (strlen(params) >= sizeof(buf))
		return seterr(err, len, "parameters longer than %zu characters", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", params);
	for (char *kv = strtok_r(buf, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(kv, '='), *end;
		unsigned long long x;

		if (!eq)
			return seterr(err, len, "'%s' is not key=value", kv);
		*eq = '\0';
		for (i = 0; i < NET_N_PARAMS && strcmp(kv, net_params[i].name); i++)
			;
		if (i == NET_N_PARAMS)
			return seterr(err, len, "unknown net parameter '%s'", kv);
		errno = 0;
		x = strtoull(eq + 1, &end, 10);
		if (!eq[1] || *end || errno || x < net_params[i].min || x > net_params[i].max)
			return seterr(err, len, "%s=%s: expected %llu to %llu", kv, eq + 1,
				      net_params[i].min, net_params[i].max);
		v[i] = x;
	}
	if (v[NET_P_RING_SIZE] & (v[NET_P_RING_SIZE] - 1))
		return seterr(err, len, "ring_size=%llu: not a power of two", v[NET_P_RING_SIZE]);
	if (v[NET_P_COALESCE_FRAMES] > v[NET_P_RING_SIZE])
		return seterr(err, len, "coalesce_frames=%llu: larger than ring_size=%llu",
			      v[NET_P_COALESCE_FRAMES], v[NET_P_RING_SIZE]);
	return 0;
}

static int net_check_params(const char *params, char *err, size_t len)
{
	unsigned long long v[NET_N_PARAMS];

	return net_parse_params(params, v, err, len);
}

static int net_check_workload(const char *params, const struct matrix *m,
			      const struct workload *w, int *line, char *err, size_t len)
{
	unsigned long long v[NET_N_PARAMS];
	bool udp = !strcmp(w->rw, "udp");

	(void)m;
	*line = w->line;
	if (net_parse_params(params, v, err, len))
		return -1;
	if (!matrix_rw_is_net(w->rw))
		return seterr(err, len, "rw = %s: the net family runs udp or tcp (give the "
			      "workload a family = line)", w->rw);
	if (w->numjobs > NET_MAX_STREAMS)
		return seterr(err, len, "numjobs = %u: at most %d iperf3 streams", w->numjobs,
			      NET_MAX_STREAMS);
	*line = w->bs_line ? w->bs_line : w->line;
	if (udp && (w->bs < 16 || w->bs > NET_UDP_MAX_PAYLOAD))
		return seterr(err, len, "bs = %u: a UDP payload is 16 to %d bytes", w->bs,
			      NET_UDP_MAX_PAYLOAD);
	if (udp && w->bs + NET_UDP_IP_HEADERS > v[NET_P_MTU])
		return seterr(err, len, "bs = %u: a datagram of %u bytes does not fit mtu=%llu "
			      "(give mtu >= %u in params, or a smaller bs)", w->bs,
			      w->bs + NET_UDP_IP_HEADERS, v[NET_P_MTU],
			      w->bs + NET_UDP_IP_HEADERS);
	if (!udp && w->bs > NET_TCP_MAX_WRITE)
		return seterr(err, len, "bs = %u: a TCP write is at most %d bytes", w->bs,
			      NET_TCP_MAX_WRITE);
	return 0;
}

/* Run argv; 0, or -1 naming the command and its first line of errors. *out gets stdout. */
static int net_run_argv(char *const argv[], char **out, char *err, size_t len)
{
	struct proc_result res;
	char *msg;

	if (proc_run(argv, NULL, &res, err, len))
		return -1;
	if (res.status) {
		msg = strtrim(res.errout);
		msg[strcspn(msg, "\n")] = '\0';
		seterr(err, len, "%s %s %s exited %d: %s", argv[0], argv[1] ? argv[1] : "",
		       argv[1] && argv[2] ? argv[2] : "", res.status, msg);
		proc_result_free(&res);
		return -1;
	}
	if (out) {
		*out = res.out;
		res.out = NULL;
	}
	proc_result_free(&res);
	return 0;
}

/* Run the command given as arguments, NULL-terminated; as net_run_argv without output. */
static int net_cmd(char *err, size_t len, const char *arg0, ...)
{
	char *argv[NET_MAX_ARGS];
	size_t n = 0;
	va_list ap;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < NET_MAX_ARGS - 1 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return net_run_argv(argv, NULL, err, len);
}

/* The pair of the loaded arm: ctx->devices[0] (client end), ctx->devices[1] (server end). */
static void net_pair_names(struct family_ctx *ctx)
{
	for (int end = 0; end < 2; end++) {
		char *dev = ctx->devices[end];

		snprintf(dev, FAMILY_DEVICE_LEN, ctx->arm->device, 0);
		dev[strlen(dev) - 1] = end ? 'b' : 'a';
	}
	ctx->n_devices = 2;
}

/* Where `ip netns add` pinned namespace @ns (NETNS_RUN_DIR: /run, or /var/run before it). */
static bool net_ns_path(const char *ns, char *path, size_t size)
{
	path_printf(path, size, "/run/netns/%s", ns);
	if (path_exists(path))
		return true;
	path_printf(path, size, "/var/run/netns/%s", ns);
	return path_exists(path);
}

static bool net_ns_exists(const char *ns)
{
	char path[128];

	return net_ns_path(ns, path, sizeof(path));
}

/*
 * Move this process into namespace @ns, for the programs it starts next (they inherit it);
 * *home keeps the namespace to go back to with net_ns_leave(). The runner is one thread.
 */
static int net_ns_enter(const char *ns, int *home, char *err, size_t len)
{
	char path[128];
	int fd;

	*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0)
		return seterr(err, len, "/proc/self/ns/net: %s", strerror(errno));
	if (!net_ns_path(ns, path, sizeof(path))) {
		close(*home);
		return seterr(err, len, "no network namespace %s", ns);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		seterr(err, len, "entering %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(*home);
		return -1;
	}
	close(fd);
	return 0;
}

static void net_ns_leave(int home)
{
	if (setns(home, CLONE_NEWNET))
		fprintf(stderr, "twinbench exec: net: setns back: %s\n", strerror(errno));
	close(home);
}

/*
 * Run the ip commands @lines (one per line, without "ip") in one `ip -batch`, in namespace
 * @ns (NULL: this one). It stops at the first command that fails, named in @err.
 */
static int net_ip_batch(const char *ns, const char *lines, char *err, size_t len)
{
	char file[] = "/tmp/twinbench-net-batch-XXXXXX";
	char *in_ns[] = { "ip", "-n", (char *)ns, "-batch", file, NULL };
	char *here[] = { "ip", "-batch", file, NULL };
	size_t n = strlen(lines);
	struct proc_result res;
	int fd, rc = -1;

	fd = mkstemp(file);
	if (fd < 0)
		return seterr(err, len, "mkstemp %s: %s", file, strerror(errno));
	if (write(fd, lines, n) != (ssize_t)n) {
		seterr(err, len, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (proc_run(ns ? in_ns : here, NULL, &res, err, len))
		goto out;
	if (res.status) {
		char *msg = strtrim(res.errout), *at = strstr(msg, "Command failed "), *nl;
		unsigned int line = 0;

		if (at)
			sscanf(strrchr(at, ':') ? strrchr(at, ':') + 1 : "", "%u", &line);
		msg[strcspn(msg, "\n")] = '\0';
		for (nl = (char *)lines; line > 1 && nl; line--)
			nl = strchr(nl, '\n') ? strchr(nl, '\n') + 1 : NULL;
		seterr(err, len, "ip%s%s -batch: '%.*s' failed: %s", ns ? " -n " : "", ns ? ns : "",
		       nl ? (int)strcspn(nl, "\n") : 0, nl ? nl : "", msg);
	} else {
		rc = 0;
	}
	proc_result_free(&res);
out:
	close(fd);
	unlink(file);
	return rc;
}

/*
 * Undo net_setup, whatever part of it happened; errors are ignored, nothing is left. What
 * is not there (no namespace, no stray veth end) costs no command.
 */
static void net_teardown(struct family_ctx *ctx)
{
	bool client = net_ns_exists(NET_NS_CLIENT), server = net_ns_exists(NET_NS_SERVER);
	char err[256], path[128], lines[128] = "";

	if (ctx->arm && ctx->arm->role == ARM_UPSTREAM) {
		if (client)
			net_cmd(err, sizeof(err), "ip", "-n", NET_NS_CLIENT, "link", "del",
				ctx->devices[0], NULL);
		path_printf(path, sizeof(path), "/sys/class/net/%s", ctx->devices[0]);
		if (path_exists(path))
			net_cmd(err, sizeof(err), "ip", "link", "del", ctx->devices[0], NULL);
	} else if (ctx->arm) {
		if (client)
			net_cmd(err, sizeof(err), "ip", "-n", NET_NS_CLIENT, "link", "set", "dev",
				ctx->devices[0], "netns", "1", NULL);
		if (server)
			net_cmd(err, sizeof(err), "ip", "-n", NET_NS_SERVER, "link", "set", "dev",
				ctx->devices[1], "netns", "1", NULL);
	}
	if (client)
		strcat(lines, "netns del " NET_NS_CLIENT "\n");
	if (server)
		strcat(lines, "netns del " NET_NS_SERVER "\n");
	if (*lines && net_ip_batch(NULL, lines, err, sizeof(err)))
		fprintf(stderr, "twinbench exec: net: teardown: %s\n", err);
}

static int net_load(struct family_ctx *ctx, char *err, size_t len)
{
	const char *module = ctx->arm->module;
	bool upstream = ctx->arm->role == ARM_UPSTREAM;
	unsigned long long v[NET_N_PARAMS];
	char path[128];

	if (net_parse_params(ctx->family->params, v, err, len))
		return -1;
	net_pair_names(ctx);
	net_teardown(ctx);
	if (!upstream && kmod_is_loaded(module) && kmod_unload(module, err, len))
		return -1;
	if (!kmod_is_loaded(module) &&
	    kmod_load(module, upstream ? "" : ctx->family->params, err, len))
		return -1;
	ctx->loaded = true;
	if (upstream)
		return 0;
	for (int end = 0; end < 2; end++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s", ctx->devices[end]);
		if (!wait_for_path(path, NET_DEVICE_WAIT))
			return seterr(err, len, "no-device: %s did not appear after loading %s",
				      ctx->devices[end], module);
	}
	return 0;
}

static size_t net_devices(const struct family_ctx *ctx, const char **out, size_t max)
{
	size_t n = 0;

	for (; n < ctx->n_devices && n < max; n++)
		out[n] = ctx->devices[n];
	return n;
}

/* Namespaces, the pair in them, addresses, MTU, offloads, links up; settings recorded. */
static int net_setup(struct family_ctx *ctx, const unsigned long long *v,
		     struct run_output *out, char *err, size_t len)
{
	static const char *const ns[2] = { NET_NS_CLIENT, NET_NS_SERVER };
	static const char *const addr[2] = { NET_ADDR_CLIENT NET_PREFIX,
					     NET_ADDR_SERVER NET_PREFIX };
	const char *onoff = v[NET_P_OFFLOADS] ? "on" : "off";
	char (*dev)[FAMILY_DEVICE_LEN] = ctx->devices;
	char mtu[16], value[64], lines[512];
	int home, rc;

	snprintf(mtu, sizeof(mtu), "%llu", v[NET_P_MTU]);
	snprintf(lines, sizeof(lines), "netns add %s\nnetns add %s\n", ns[0], ns[1]);
	if (ctx->arm->role == ARM_UPSTREAM)
		snprintf(lines + strlen(lines), sizeof(lines) - strlen(lines),
			 "link add %s type veth peer name %s\n", dev[0], dev[1]);
	snprintf(lines + strlen(lines), sizeof(lines) - strlen(lines),
		 "link set dev %s netns %s\nlink set dev %s netns %s\n", dev[0], ns[0], dev[1],
		 ns[1]);
	if (net_ip_batch(NULL, lines, err, len))
		return -1;
	for (int end = 0; end < 2; end++) {
		snprintf(lines, sizeof(lines), "addr add %s dev %s\nlink set dev %s mtu %s\n"
			 "link set dev lo up\nlink set dev %s up\n", addr[end], dev[end], dev[end],
			 mtu, dev[end]);
		if (net_ip_batch(ns[end], lines, err, len) ||
		    net_ns_enter(ns[end], &home, err, len))
			return -1;
		rc = net_cmd(err, len, "ethtool", "-K", dev[end], "sg", onoff, "tx", onoff, "tso",
			     onoff, "gso", onoff, "gro", onoff, "rx-udp-gro-forwarding", onoff,
			     NULL);
		net_ns_leave(home);
		if (rc || net_cmd(err, len, "tc", "-n", ns[end], "qdisc", "replace", "dev", dev[end],
				  "root", NET_QDISC, NULL))
			return -1;
	}
	run_output_setting(out, "mtu", mtu);
	run_output_setting(out, "qdisc", NET_QDISC);
	run_output_setting(out, "offloads", onoff);
	if (ctx->arm->role == ARM_UPSTREAM) {
		run_output_setting(out, "driver_params", "none (stock veth)");
		return 0;
	}
	for (int i = 0; i < NET_N_PARAMS; i++) {
		if (i == NET_P_MTU || i == NET_P_OFFLOADS || i == NET_P_NR_PAIRS)
			continue;
		snprintf(value, sizeof(value), "%llu", v[i]);
		run_output_setting(out, net_params[i].name, value);
	}
	return 0;
}

static json_t *net_json_load(const char *text, char *err, size_t len)
{
	const char *start = text ? strchr(text, '{') : NULL;
	json_error_t jerr;
	json_t *root;

	if (!start) {
		seterr(err, len, "no JSON in the output");
		return NULL;
	}
	root = json_loads(start, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		seterr(err, len, "bad JSON at line %d: %s", jerr.line, jerr.text);
	return root;
}

/* A number under @name, or under its older spelling @old_name (may be NULL). */
static int net_json_number(json_t *obj, const char *name, const char *old_name, double *out)
{
	json_t *v = json_object_get(obj, name);

	if (!v && old_name)
		v = json_object_get(obj, old_name);
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

int net_parse_iperf3(const char *text, bool udp, struct net_iperf3 *res, char *err, size_t len)
{
	const char *which = "sum_received";
	json_t *root, *end, *sum, *error;
	double packets, lost;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	root = net_json_load(text, err, len);
	if (!root)
		return -1;
	error = json_object_get(root, "error");
	if (json_is_string(error)) {
		seterr(err, len, "iperf3: %s", json_string_value(error));
		goto out;
	}
	end = json_object_get(root, "end");
	sum = json_object_get(end, which);
	if (!json_is_object(sum) && udp) {
		which = "sum";
		sum = json_object_get(end, which);
	}
	if (!json_is_object(sum)) {
		seterr(err, len, "iperf3 JSON: no end.sum_received%s", udp ? " or end.sum" : "");
		goto out;
	}
	if (net_json_number(sum, "seconds", NULL, &res->seconds) ||
	    net_json_number(sum, "bits_per_second", NULL, &res->bps)) {
		seterr(err, len, "iperf3 JSON: end.%s lacks seconds or bits_per_second", which);
		goto out;
	}
	if (res->seconds <= 0) {
		seterr(err, len, "iperf3 JSON: end.%s.seconds is %g", which, res->seconds);
		goto out;
	}
	if (udp) {
		if (net_json_number(sum, "packets", "total_packets", &packets) ||
		    net_json_number(sum, "lost_packets", NULL, &lost) ||
		    net_json_number(sum, "lost_percent", "loss_percent", &res->lost_pct) ||
		    net_json_number(sum, "jitter_ms", NULL, &res->jitter_ms)) {
			seterr(err, len, "iperf3 JSON: end.%s lacks packets (total_packets), "
			       "lost_packets, lost_percent (loss_percent) or jitter_ms", which);
			goto out;
		}
		if (lost < 0 || lost > packets) {
			seterr(err, len, "iperf3 JSON: end.%s says %g of %g packets lost", which,
			       lost, packets);
			goto out;
		}
		res->packets = packets - lost;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int net_parse_rx_packets(const char *text, unsigned long long *packets, char *err, size_t len)
{
	const char *start = text ? strchr(text, '[') : NULL;
	json_t *root, *rx;
	json_error_t jerr;
	int rc = 0;

	if (!start)
		return seterr(err, len, "ip -s -j link: no JSON array in the output");
	root = json_loads(start, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return seterr(err, len, "ip -s -j link: bad JSON: %s", jerr.text);
	rx = json_object_get(json_object_get(json_array_get(root, 0), "stats64"), "rx");
	if (json_array_size(root) != 1 || !json_is_integer(json_object_get(rx, "packets")))
		rc = seterr(err, len, "ip -s -j link: not one device with stats64.rx.packets");
	else
		*packets = json_integer_value(json_object_get(rx, "packets"));
	json_decref(root);
	return rc;
}

/* rx_packets of the server end, read in its namespace. */
static int net_read_rx_packets(struct family_ctx *ctx, unsigned long long *packets, char *err,
			       size_t len)
{
	char *argv[] = { "ip", "-n", NET_NS_SERVER, "-s", "-j", "link", "show", "dev",
			 ctx->devices[1], NULL };
	char *text = NULL;
	int rc;

	if (net_run_argv(argv, &text, err, len))
		return -1;
	rc = net_parse_rx_packets(text, packets, err, len);
	free(text);
	return rc;
}

static int net_read_cpu(struct cpu_counters *c, char *err, size_t len)
{
	char *text = file_read("/proc/stat", NULL, err, len);
	int rc;

	if (!text)
		return -1;
	rc = procstat_parse(text, c);
	free(text);
	return rc ? seterr(err, len, "/proc/stat has no cpu or intr line") : 0;
}

/* The first and the last CPU of a list such as "0", "0-1" or "0,2". */
static void net_cpus(const char *list, char *client, char *server, size_t size)
{
	const char *last = list + strlen(list);

	while (last > list && (last[-1] >= '0' && last[-1] <= '9'))
		last--;
	snprintf(client, size, "%.*s", (int)strspn(list, "0123456789"), list);
	snprintf(server, size, "%s", last);
	if (!*client)
		snprintf(client, size, "0");
	if (!*server)
		snprintf(server, size, "%s", client);
}

extern char **environ;

/* Where the server's output goes; its last line joins a failure message. */
#define NET_SERVER_LOG		"/tmp/twinbench-net-server.log"

/*
 * The sample's one iperf3 server, in the server namespace: it serves the warm-up and the
 * measured test in turn, re-opening its listening socket after each (listener: that
 * socket's inode, 0 before the first).
 */
struct net_server {
	pid_t pid;
	unsigned long listener;
};

static int net_server_start(struct family_ctx *ctx, const char *cpu, struct net_server *srv,
			    char *err, size_t len)
{
	char timeout[16];
	char *argv[] = { "timeout", "-s", "KILL", timeout, "iperf3", "-s", "-B", NET_ADDR_SERVER,
			 "-p", NET_PORT, "-A", (char *)cpu, "--forceflush", NULL };
	posix_spawn_file_actions_t fa;
	int rc, home;

	/* long enough for both tests and the waits for its listening socket */
	snprintf(timeout, sizeof(timeout), "%.0f", 2 * (ctx->timeout + NET_LISTEN_WAIT) + 10);
	srv->pid = -1;
	srv->listener = 0;
	if (net_ns_enter(NET_NS_SERVER, &home, err, len))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, NET_SERVER_LOG,
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rc = posix_spawnp(&srv->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	net_ns_leave(home);
	if (rc) {
		srv->pid = -1;
		return seterr(err, len, "cannot start the iperf3 server: %s", strerror(rc));
	}
	return 0;
}

/* Ask the server to leave; kill it if it has not after NET_SERVER_GRACE seconds. */
static void net_server_stop(struct net_server *srv)
{
	double end = now_seconds() + NET_SERVER_GRACE;
	int status;

	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGTERM);
	while (waitpid(srv->pid, &status, WNOHANG) == 0) {
		if (now_seconds() > end) {
			kill(srv->pid, SIGKILL);
			waitpid(srv->pid, &status, 0);
			break;
		}
		usleep(20000);
	}
	srv->pid = -1;
}

/*
 * The inode of the socket listening on NET_PORT in @tcp (a /proc/net/tcp table), other
 * than @not; 0 when there is none.
 */
unsigned long net_listener_inode(const char *tcp, unsigned long not)
{
	char want[32];

	snprintf(want, sizeof(want), ":%04X 00000000:0000 0A ", atoi(NET_PORT));
	for (const char *p = tcp; p && (p = strstr(p, want)); p++) {
		unsigned long inode;

		/* :PORT, remote, state, tx:rx queues, timer, retransmits, uid, timeout, inode */
		if (sscanf(p, "%*s %*s %*s %*s %*s %*s %*s %*s %lu", &inode) == 1 && inode &&
		    inode != not)
			return inode;
	}
	return 0;
}

/*
 * Wait until the server listens on NET_PORT with a socket other than the one it had
 * (after a test it closes that and opens another): its namespace's /proc/PID/net/tcp.
 */
static int net_server_wait(struct net_server *srv, char *err, size_t len)
{
	char path[64];
	double end = now_seconds() + NET_LISTEN_WAIT;
	int status;

	path_printf(path, sizeof(path), "/proc/%d/net/tcp", (int)srv->pid);
	do {
		char *text = file_read(path, NULL, NULL, 0);
		unsigned long inode = net_listener_inode(text, srv->listener);

		free(text);
		if (inode) {
			srv->listener = inode;
			return 0;
		}
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = -1;
			return seterr(err, len, "the iperf3 server exited (status %d) before it "
				      "listened on port %s", WIFEXITED(status) ?
				      WEXITSTATUS(status) : 128 + WTERMSIG(status), NET_PORT);
		}
		usleep(20000);
	} while (now_seconds() < end);
	return seterr(err, len, "the iperf3 server did not listen on port %s within %.0f s",
		      NET_PORT, NET_LISTEN_WAIT);
}

/* Append the server's last line of output to the failure message in @err. */
static void net_append_server_log(char *err, size_t len)
{
	char *text = file_read(NET_SERVER_LOG, NULL, NULL, 0), *last;
	size_t used = strlen(err);

	if (!text)
		return;
	last = strtrim(text);
	while (strrchr(last, '\n'))
		last = strrchr(last, '\n') + 1;
	if (*last && used + 1 < len)
		snprintf(err + used, len - used, " (server: %s)", last);
	free(text);
}

/* One iperf3 test of @count datagrams or writes of workload @w, run in the client namespace. */
static int net_iperf3(struct family_ctx *ctx, const struct workload *w, unsigned long count,
		      struct net_iperf3 *res, char *err, size_t len)
{
	char client_cpu[16], server_cpu[16], timeout[16], bs[16], k[24], streams[8];
	bool udp = !strcmp(w->rw, "udp");
	char *argv[NET_MAX_ARGS] = { "timeout", "-s", "KILL", timeout, "iperf3", "-c",
				     NET_ADDR_SERVER, "-p", NET_PORT, "-J", "-A", client_cpu,
				     "-l", bs, "-k", k, "-P", streams, NULL };
	size_t argc = 0;
	struct proc_result pr;
	int rc = -1, home;

	net_cpus(w->cpus, client_cpu, server_cpu, sizeof(client_cpu));
	snprintf(timeout, sizeof(timeout), "%u", ctx->timeout);
	snprintf(bs, sizeof(bs), "%u", w->bs);
	snprintf(k, sizeof(k), "%lu", count);
	snprintf(streams, sizeof(streams), "%u", w->numjobs);
	while (argv[argc])
		argc++;
	if (udp) {
		argv[argc++] = "-u";
		argv[argc++] = "-b";
		argv[argc++] = "0";
	}
	argv[argc] = NULL;
	if (net_ns_enter(NET_NS_CLIENT, &home, err, len))
		goto out;
	rc = proc_run(argv, NULL, &pr, err, len);
	net_ns_leave(home);
	if (!rc) {
		rc = net_parse_iperf3(pr.out, udp, res, err, len);
		if (pr.status) {
			char *first = strtrim(pr.errout), report[160];

			first[strcspn(first, "\n")] = '\0';
			snprintf(report, sizeof(report), "%s", rc ? err : "a complete report");
			rc = seterr(err, len, "iperf3 client exited %d after %s%s%s", pr.status,
				    report, *first ? "; stderr: " : "", first);
		}
		proc_result_free(&pr);
	}
out:
	if (rc)
		net_append_server_log(err, len);
	return rc;
}

/* One iperf3 run with what the machine did around it. */
struct net_measurement {
	struct net_iperf3 res;
	double packets;		/* UDP: datagrams received; TCP: frames the server end received */
	double busy_ns, intr;	/* all CPUs, from just before to just after the client */
};

/*
 * One test against @srv once it listens, the counters read just around the client; TCP
 * counts the frames the server end received (UDP takes iperf3's own count).
 */
static int net_measure(struct family_ctx *ctx, const struct workload *w, unsigned long count,
		       struct net_server *srv, struct net_measurement *m, char *err, size_t len)
{
	bool tcp = strcmp(w->rw, "udp");
	unsigned long long rx_before = 0, rx_after = 0;
	struct cpu_counters before, after;

	if (net_server_wait(srv, err, len)) {
		net_append_server_log(err, len);
		return -1;
	}
	if ((tcp && net_read_rx_packets(ctx, &rx_before, err, len)) ||
	    net_read_cpu(&before, err, len) || net_iperf3(ctx, w, count, &m->res, err, len) ||
	    net_read_cpu(&after, err, len) ||
	    (tcp && net_read_rx_packets(ctx, &rx_after, err, len)))
		return -1;
	m->packets = tcp ? (double)(rx_after - rx_before) : m->res.packets;
	m->busy_ns = procstat_busy_ns(&before, &after);
	m->intr = (double)after.intr - (double)before.intr;
	if (m->packets <= 0)
		return seterr(err, len, "no packet arrived");
	return 0;
}

/*
 * CPU time per packet without iperf3's start-up and report exchange: the measured run's
 * busy time less the warm-up's, over the measured run's packets less the warm-up's. With no
 * warm-up (or a warm-up that did not move fewer packets) it is the whole client run's.
 */
static void net_cpu_per_packet(const struct net_measurement *warm,
			       const struct net_measurement *meas, struct run_output *out)
{
	out->have_cpu = true;
	out->units = meas->packets;
	out->busy_ns = meas->busy_ns;
	out->intr = meas->intr;
	if (warm && warm->packets < meas->packets && warm->busy_ns < meas->busy_ns) {
		out->units = meas->packets - warm->packets;
		out->busy_ns = meas->busy_ns - warm->busy_ns;
		out->intr = meas->intr > warm->intr ? meas->intr - warm->intr : 0;
	}
}

/*
 * The sample's instruction window (insn.h) around the measured client; @ios is the packet
 * count to divide by (stop only). Without a window the hooks are plain "true".
 */
static int net_insn_hook(bool start, double ios, char *err, size_t len)
{
	char cmd[1024];
	char *argv[] = { "sh", "-c", cmd, NULL };

	if ((start ? insn_hook_start(cmd, sizeof(cmd), "true") :
		     insn_hook_stop(cmd, sizeof(cmd), "true", ios)))
		return seterr(err, len, "instruction window hook too long");
	return net_run_argv(argv, NULL, err, len);
}

static int net_run(struct family_ctx *ctx, const struct workload *w, struct run_output *out)
{
	const struct matrix *m = ctx->matrix;
	struct net_measurement warm, meas;
	struct net_server srv = { .pid = -1 };
	unsigned long long v[NET_N_PARAMS];
	char why[200], client_cpu[16], server_cpu[16];
	int rc = -1;

	if (net_parse_params(ctx->family->params, v, why, sizeof(why)) ||
	    net_setup(ctx, v, out, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "net-setup-failed: %.200s", why);
		goto out;
	}
	net_cpus(w->cpus, client_cpu, server_cpu, sizeof(client_cpu));
	if (net_server_start(ctx, server_cpu, &srv, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "iperf3-failed: %.200s", why);
		goto out;
	}
	if (m->warmup_ios && net_measure(ctx, w, m->warmup_ios, &srv, &warm, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "iperf3-failed: warm-up: %.180s",
			 why);
		goto out;
	}
	if (ctx->trace && trace_run(ctx->trace, ctx->trace->start, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "trace-failed: %.200s", why);
		goto out;
	}
	if (net_insn_hook(true, 0, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "insn-window-failed: %.200s", why);
	} else if (net_measure(ctx, w, m->ios, &srv, &meas, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "iperf3-failed: %.200s", why);
		net_insn_hook(false, 1, why, sizeof(why));
	} else if (net_insn_hook(false, meas.packets, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "insn-window-failed: %.200s", why);
	}
	if (out->failure[0]) {
		if (ctx->trace)
			trace_run(ctx->trace, ctx->trace->stop, why, sizeof(why));
		goto out;
	}
	if (ctx->trace && trace_run(ctx->trace, ctx->trace->stop, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "trace-failed: %.200s", why);
		goto out;
	}
	run_output_metric(out, "pps", meas.packets / meas.res.seconds);
	run_output_metric(out, "bps", meas.res.bps);
	if (!strcmp(w->rw, "udp")) {
		run_output_metric(out, "jitter_ms", meas.res.jitter_ms);
		run_output_metric(out, "lost_pct", meas.res.lost_pct);
	}
	net_cpu_per_packet(m->warmup_ios ? &warm : NULL, &meas, out);
	rc = 0;
out:
	net_server_stop(&srv);
	net_teardown(ctx);
	return rc;
}

static int net_unload(struct family_ctx *ctx, char *err, size_t len)
{
	if (!ctx->loaded)
		return 0;
	net_teardown(ctx);
	/* The stock veth may serve other users of the machine (containers): it stays. */
	if (ctx->arm->role != ARM_UPSTREAM && kmod_unload(ctx->arm->module, err, len))
		return -1;
	ctx->loaded = false;
	ctx->n_devices = 0;
	return 0;
}

static const struct family_ops family_net_ops = {
	.version = FAMILY_OPS_VERSION,
	.name = "net",
	.description = "virtual Ethernet pairs: veth, rawnet, safenet; rustnet (KERNEL=7)",
	.arms = net_arms,
	.default_params = NET_DEFAULT_PARAMS,
	.unit_metric = "cpu_ns_per_pkt",
	.primary_metric = "pps",
	.est_sample_s = 8.4,
	.est_unit_us = 165,
	.check_params = net_check_params,
	.check_workload = net_check_workload,
	.load = net_load,
	.devices = net_devices,
	.run = net_run,
	.unload = net_unload,
};

FAMILY_REGISTER(family_net_ops)

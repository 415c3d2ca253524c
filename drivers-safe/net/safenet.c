// SPDX-License-Identifier: GPL-2.0
/*
 * safenet: pairs of virtual Ethernet devices written on the safe layer.
 *
 * The same driver as rawnet, function for function (drivers-safe/twins.tsv pairs them and
 * names the rawnet functions the layer provides instead): a frame sent on safenet<N>a lands
 * in the bounded receive ring of safenet<N>b (and the other way round) and is received there
 * by NAPI. It reaches the kernel only through the layer (drivers-safe/kernel/include/safe):
 * typed ops behind adapters, owned frame handles moved exactly once, checked ring and header
 * access, a counted peer link. The cost of that is what twinbench measures.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <safe/error.h>
#include <safe/owned.h>

#include "safenet.h"

static int nr_pairs = 1;
module_param(nr_pairs, int, 0444);
MODULE_PARM_DESC(nr_pairs, "Number of device pairs (1..64, default 1)");

static int napi_weight = NAPI_POLL_WEIGHT;
module_param(napi_weight, int, 0444);
MODULE_PARM_DESC(napi_weight, "NAPI poll budget (1..64, default 64)");

static int ring_size = 256;
module_param(ring_size, int, 0444);
MODULE_PARM_DESC(ring_size, "Receive ring entries, a power of two (16..16384, default 256)");

static int irqmode = SAFENET_IRQ_DIRECT;
module_param(irqmode, int, 0444);
MODULE_PARM_DESC(irqmode, "0 = schedule NAPI on transmit, 1 = coalesce with an hrtimer");

static int coalesce_usecs = 20;
module_param(coalesce_usecs, int, 0444);
MODULE_PARM_DESC(coalesce_usecs, "irqmode 1: delay before the interrupt (1..100000, default 20)");

static int coalesce_frames = 32;
module_param(coalesce_frames, int, 0444);
MODULE_PARM_DESC(coalesce_frames, "irqmode 1: frames that raise it at once (1..ring_size)");

static int mtu = ETH_DATA_LEN;
module_param(mtu, int, 0444);
MODULE_PARM_DESC(mtu, "Initial MTU (68..9000, default 1500)");

static bool offloads = true;
module_param(offloads, bool, 0444);
MODULE_PARM_DESC(offloads, "Start with checksum, scatter-gather and GSO offloads on");

static struct safenet_pair safenet_pairs[SAFENET_MAX_PAIRS];

static const char safenet_counter_names[SAFENET_NR_COUNTERS][ETH_GSTRING_LEN] = {
	[SAFENET_RX_PACKETS] = "rx_queue_0_packets",
	[SAFENET_RX_BYTES] = "rx_queue_0_bytes",
	[SAFENET_RX_DROPS] = "rx_queue_0_drops",
	[SAFENET_RX_POLLS] = "rx_queue_0_polls",
	[SAFENET_RX_IRQS] = "rx_queue_0_irqs",
	[SAFENET_RX_PEER_WAKES] = "rx_queue_0_peer_wakes",
	[SAFENET_TX_PACKETS] = "tx_queue_0_packets",
	[SAFENET_TX_BYTES] = "tx_queue_0_bytes",
	[SAFENET_TX_DROPS] = "tx_queue_0_drops",
	[SAFENET_TX_STOPS] = "tx_queue_0_stops",
};

/* Refuse parameters the driver cannot honour, naming the first bad one. */
static struct safe_result __init safenet_check_params(void)
{
	if (nr_pairs < 1 || nr_pairs > SAFENET_MAX_PAIRS) {
		pr_err("nr_pairs=%d is outside 1..%d\n", nr_pairs, SAFENET_MAX_PAIRS);
		return safe_err(-EINVAL);
	}
	if (napi_weight < 1 || napi_weight > NAPI_POLL_WEIGHT) {
		pr_err("napi_weight=%d is outside 1..%d\n", napi_weight, NAPI_POLL_WEIGHT);
		return safe_err(-EINVAL);
	}
	if (ring_size < SAFENET_MIN_RING || ring_size > SAFENET_MAX_RING ||
	    !is_power_of_2(ring_size)) {
		pr_err("ring_size=%d is not a power of two in %d..%d\n", ring_size,
		       SAFENET_MIN_RING, SAFENET_MAX_RING);
		return safe_err(-EINVAL);
	}
	if (irqmode != SAFENET_IRQ_DIRECT && irqmode != SAFENET_IRQ_COALESCE) {
		pr_err("irqmode=%d is neither 0 (direct) nor 1 (coalesce)\n", irqmode);
		return safe_err(-EINVAL);
	}
	if (coalesce_usecs < 1 || coalesce_usecs > SAFENET_MAX_COALESCE_USECS) {
		pr_err("coalesce_usecs=%d is outside 1..%d\n", coalesce_usecs,
		       SAFENET_MAX_COALESCE_USECS);
		return safe_err(-EINVAL);
	}
	if (coalesce_frames < 1 || coalesce_frames > ring_size) {
		pr_err("coalesce_frames=%d is outside 1..ring_size (%d)\n", coalesce_frames,
		       ring_size);
		return safe_err(-EINVAL);
	}
	if (mtu < ETH_MIN_MTU || mtu > SAFENET_MAX_MTU) {
		pr_err("mtu=%d is outside %d..%d\n", mtu, ETH_MIN_MTU, SAFENET_MAX_MTU);
		return safe_err(-EINVAL);
	}
	return safe_ok();
}

/* Drops every frame left in this end's ring; NAPI must be disabled and the peer kept out. */
static void safenet_ring_flush(struct safenet_priv *p)
{
	atomic64_add(safe_skb_ring_drain(&p->ring), &p->rx_dropped);
}

/* The emulated interrupt of irqmode 1: the coalescing delay has run out. */
static void safenet_coalesce_fire(struct safenet_priv *p)
{
	atomic_set(&p->coalesce_pending, 0);
	safe_counters_update(safenet_timer_counters, &p->timer, w)
		safe_counter_inc(w, 0);
	safe_napi_schedule(&p->net);
}

/* Tells the receiving end that a frame waits; true when an interrupt was raised at once. */
static bool safenet_notify_rx(struct safenet_priv *rx)
{
	int pending;

	if (irqmode == SAFENET_IRQ_DIRECT) {
		safe_napi_schedule(&rx->net);
		return true;
	}
	pending = atomic_inc_return(&rx->coalesce_pending);
	if (pending >= coalesce_frames) {
		atomic_set(&rx->coalesce_pending, 0);
		safe_netdev_timer_try_cancel(&rx->net);
		safe_napi_schedule(&rx->net);
		return true;
	}
	if (pending == 1)
		safe_netdev_timer_start(&rx->net, coalesce_usecs * NSEC_PER_USEC);
	return false;
}

static void safenet_start_xmit(struct safenet_priv *p, struct safe_skb *skb)
{
	struct safenet_priv *peer = safenet_peer(p);
	unsigned int len = safe_skb_len(skb);
	bool raised = false;

	if (unlikely(!peer || !READ_ONCE(peer->rx_open))) {
		safe_skb_free(skb);
		safe_counters_update(safenet_tx_counters, &p->tx, w)
			safe_counter_inc(w, SAFENET_TX_C_DROPPED);
		return;
	}

	if (unlikely(safe_is_err(safe_skb_prepare_forward(skb, &p->net, &peer->net)) ||
		     safe_is_err(safe_skb_ring_push(&peer->ring, skb)))) {
		safe_skb_free(skb);
		atomic64_inc(&peer->rx_dropped);
	} else {
		raised = safenet_notify_rx(peer);
	}

	safe_counters_update(safenet_tx_counters, &p->tx, w) {
		safe_counter_inc(w, SAFENET_TX_C_PACKETS);
		safe_counter_add(w, SAFENET_TX_C_BYTES, len);
		if (raised)
			safe_counter_inc(w, SAFENET_TX_C_IRQS_RAISED);
		if (!safe_skb_ring_free_slots(&peer->ring)) {
			safe_netdev_stop_queue(&p->net);
			safe_counter_inc(w, SAFENET_TX_C_STOPS);
			/* Stop, then look again: pairs with safenet_wake_peer(). */
			smp_mb__after_atomic();
			if (safe_skb_ring_free_slots(&peer->ring))
				safe_netdev_start_queue(&p->net);
		}
	}
}

/* Restarts the peer's stopped queue once half of this end's ring is free again. */
static bool safenet_wake_peer(struct safenet_priv *p)
{
	struct safenet_priv *peer = safenet_peer(p);

	/* Freed slots visible before the stopped bit is read; pairs with start_xmit. */
	smp_mb();
	if (!peer || !safe_netdev_queue_stopped(&peer->net) ||
	    safe_skb_ring_free_slots(&p->ring) <= (safe_skb_ring_size(&p->ring) - 1) / 2)
		return false;
	safe_netdev_wake_queue(&peer->net);
	return true;
}

static int safenet_poll(struct safenet_priv *p, int budget)
{
	int done = 0, received = 0;
	u64 bytes = 0;
	bool woke;

	while (done < budget) {
		SAFE_SKB(skb) = safe_skb_ring_pop(&p->ring);
		unsigned int len;

		if (!safe_skb_is_some(&skb))
			break;
		len = safe_skb_len(&skb);
		if (likely(safe_is_ok(safe_napi_receive(&p->net, &skb)))) {
			bytes += len;
			received++;
		} else {
			atomic64_inc(&p->rx_dropped);
		}
		done++;
	}
	woke = safenet_wake_peer(p);

	safe_counters_update(safenet_rx_counters, &p->rx, w) {
		safe_counter_add(w, SAFENET_RX_C_PACKETS, received);
		safe_counter_add(w, SAFENET_RX_C_BYTES, bytes);
		safe_counter_inc(w, SAFENET_RX_C_POLLS);
		if (woke)
			safe_counter_inc(w, SAFENET_RX_C_PEER_WAKES);
	}

	if (done < budget)
		safe_napi_complete_done(&p->net, done);
	return done;
}

static struct safe_result safenet_open(struct safenet_priv *p)
{
	struct safenet_priv *peer = safenet_peer(p);

	safe_napi_enable(&p->net);
	WRITE_ONCE(p->rx_open, true);
	safe_netdev_start_queue(&p->net);
	if (peer && safe_netdev_is_running(&peer->net)) {
		safe_netdev_carrier_on(&p->net);
		safe_netdev_carrier_on(&peer->net);
	}
	return safe_ok();
}

static void safenet_stop(struct safenet_priv *p)
{
	struct safenet_priv *peer = safenet_peer(p);

	safe_netdev_carrier_off(&p->net);
	if (peer)
		safe_netdev_carrier_off(&peer->net);
	WRITE_ONCE(p->rx_open, false);
	safe_net_synchronize();
	safe_netdev_timer_cancel(&p->net);
	atomic_set(&p->coalesce_pending, 0);
	safe_napi_disable(&p->net);
	safenet_ring_flush(p);
	if (peer && safe_netdev_is_running(&peer->net))
		safe_netdev_wake_queue(&peer->net);
}

/* Reads every counter of one end consistently, in enum safenet_counter order. */
static void safenet_read_counters(struct safenet_priv *p, u64 (*v)[SAFENET_NR_COUNTERS])
{
	struct safenet_priv *peer = safenet_peer(p);
	u64 rx[SAFENET_NR_RX_C], tx[SAFENET_NR_TX_C], timer[1], peer_tx[SAFENET_NR_TX_C];

	safenet_rx_counters_snapshot(&p->rx, &rx);
	safenet_tx_counters_snapshot(&p->tx, &tx);
	safenet_timer_counters_snapshot(&p->timer, &timer);
	if (peer)
		safenet_tx_counters_snapshot(&peer->tx, &peer_tx);
	else
		peer_tx[SAFENET_TX_C_IRQS_RAISED] = 0;

	(*v)[SAFENET_RX_PACKETS] = rx[SAFENET_RX_C_PACKETS];
	(*v)[SAFENET_RX_BYTES] = rx[SAFENET_RX_C_BYTES];
	(*v)[SAFENET_RX_DROPS] = atomic64_read(&p->rx_dropped);
	(*v)[SAFENET_RX_POLLS] = rx[SAFENET_RX_C_POLLS];
	(*v)[SAFENET_RX_IRQS] = timer[0] + peer_tx[SAFENET_TX_C_IRQS_RAISED];
	(*v)[SAFENET_RX_PEER_WAKES] = rx[SAFENET_RX_C_PEER_WAKES];
	(*v)[SAFENET_TX_PACKETS] = tx[SAFENET_TX_C_PACKETS];
	(*v)[SAFENET_TX_BYTES] = tx[SAFENET_TX_C_BYTES];
	(*v)[SAFENET_TX_DROPS] = tx[SAFENET_TX_C_DROPPED];
	(*v)[SAFENET_TX_STOPS] = tx[SAFENET_TX_C_STOPS];
}

static void safenet_get_stats64(struct safenet_priv *p, struct rtnl_link_stats64 *stats)
{
	u64 v[SAFENET_NR_COUNTERS];

	safenet_read_counters(p, &v);
	stats->rx_packets = v[SAFENET_RX_PACKETS];
	stats->rx_bytes = v[SAFENET_RX_BYTES];
	stats->rx_dropped = v[SAFENET_RX_DROPS];
	stats->tx_packets = v[SAFENET_TX_PACKETS];
	stats->tx_bytes = v[SAFENET_TX_BYTES];
	stats->tx_dropped = v[SAFENET_TX_DROPS];
}

static void safenet_read_stats(struct safenet_priv *p, struct safe_u64_buf buf)
{
	u64 v[SAFENET_NR_COUNTERS];
	unsigned int i;

	safenet_read_counters(p, &v);
	for (i = 0; i < SAFENET_NR_COUNTERS; i++)
		safe_u64_buf_set(buf, i, v[i]);
}

static void safenet_drop(struct safenet_priv *p)
{
	safe_skb_ring_drop(&p->ring);
}

static const struct safenet_ops safenet_ops = {
	.open = safenet_open,
	.stop = safenet_stop,
	.start_xmit = safenet_start_xmit,
	.poll = safenet_poll,
	.timer = safenet_coalesce_fire,
	.get_stats64 = safenet_get_stats64,
	.read_stats = safenet_read_stats,
	.drop = safenet_drop,
	.stat_names = safenet_counter_names,
	.nr_stats = SAFENET_NR_COUNTERS,
};

SAFE_NETDEV_ADAPTERS(safenet, struct safenet_priv, net, safenet_ops);
SAFE_DEFINE_DROP(safenet_priv, safenet_free);

/* Allocates one end with its ring, NAPI context and timer; not yet registered. */
static struct safe_result safenet_alloc_end(u8 index, char end, struct safenet_priv **out)
{
	struct safe_netdev_params params = {
		.mtu = mtu,
		.max_mtu = SAFENET_MAX_MTU,
		.napi_weight = napi_weight,
		.offloads_supported = SAFE_NETDEV_OFFLOAD_ALL,
		.offloads_on = offloads ? SAFE_NETDEV_OFFLOAD_ALL : 0,
		.no_queue = true,
	};
	SAFE_OWNED(safenet_priv, p) = NULL;
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "safenet%u%c", index, end);
	params.name = name;
	SAFE_TRY(safenet_alloc(&params, &p));
	SAFE_TRY(safe_skb_ring_init(&p->ring, ring_size));
	safenet_rx_counters_init(&p->rx);
	safenet_tx_counters_init(&p->tx);
	safenet_timer_counters_init(&p->timer);
	atomic64_set(&p->rx_dropped, 0);
	atomic_set(&p->coalesce_pending, 0);
	*out = safe_take(p);
	return safe_ok();
}

static struct safe_result safenet_create_pair(int index, struct safenet_pair *pair)
{
	SAFE_OWNED(safenet_priv, a) = NULL;
	SAFE_OWNED(safenet_priv, b) = NULL;

	SAFE_TRY(safenet_alloc_end(index, 'a', &a));
	SAFE_TRY(safenet_alloc_end(index, 'b', &b));
	safenet_pair(a, b);
	SAFE_TRY(safenet_register_pair(a, b));
	pair->a = safe_take(a);
	pair->b = safe_take(b);
	return safe_ok();
}

/* Unregisters both ends in one batch, so neither is freed while the other can reach it. */
static void safenet_destroy_pair(struct safenet_pair *pair)
{
	struct safenet_priv *ends[] = { pair->a, pair->b };

	safenet_free_many(ends, ARRAY_SIZE(ends));
}

static int __init safenet_init(void)
{
	struct safe_result res;
	int i;

	res = safenet_check_params();
	if (safe_is_err(res))
		return safe_to_errno(res);
	for (i = 0; i < nr_pairs; i++) {
		res = safenet_create_pair(i, &safenet_pairs[i]);
		if (safe_is_err(res)) {
			pr_err("cannot create pair %d: %d\n", i, safe_to_errno(res));
			while (--i >= 0)
				safenet_destroy_pair(&safenet_pairs[i]);
			return safe_to_errno(res);
		}
	}
	return 0;
}

static void __exit safenet_exit(void)
{
	int i;

	for (i = nr_pairs - 1; i >= 0; i--)
		safenet_destroy_pair(&safenet_pairs[i]);
}

module_init(safenet_init);
module_exit(safenet_exit);
MODULE_DESCRIPTION("twinbench safe twin: virtual Ethernet pairs on the safe layer");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * rawnet: pairs of virtual Ethernet devices written directly against the kernel API.
 *
 * A frame sent on rawnet<N>a lands in the bounded receive ring of rawnet<N>b (and the other
 * way round) and is received there by NAPI, as a NIC's receive path would take it. A full
 * ring stops the sender's queue until the receiver drains it; every frame is counted as
 * received or dropped. This is the raw twin: safenet is the same driver on the safe layer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

#include "../compat.h"
#include "rawnet.h"

static int nr_pairs = 1;
module_param(nr_pairs, int, 0444);
MODULE_PARM_DESC(nr_pairs, "Number of device pairs (1..64, default 1)");

static int napi_weight = NAPI_POLL_WEIGHT;
module_param(napi_weight, int, 0444);
MODULE_PARM_DESC(napi_weight, "NAPI poll budget (1..64, default 64)");

static int ring_size = 256;
module_param(ring_size, int, 0444);
MODULE_PARM_DESC(ring_size, "Receive ring entries, a power of two (16..16384, default 256)");

static int irqmode = RAWNET_IRQ_DIRECT;
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

static struct rawnet_pair rawnet_pairs[RAWNET_MAX_PAIRS];

static const char rawnet_counter_names[RAWNET_NR_COUNTERS][ETH_GSTRING_LEN] = {
	[RAWNET_RX_PACKETS] = "rx_queue_0_packets",
	[RAWNET_RX_BYTES] = "rx_queue_0_bytes",
	[RAWNET_RX_DROPS] = "rx_queue_0_drops",
	[RAWNET_RX_POLLS] = "rx_queue_0_polls",
	[RAWNET_RX_IRQS] = "rx_queue_0_irqs",
	[RAWNET_RX_PEER_WAKES] = "rx_queue_0_peer_wakes",
	[RAWNET_TX_PACKETS] = "tx_queue_0_packets",
	[RAWNET_TX_BYTES] = "tx_queue_0_bytes",
	[RAWNET_TX_DROPS] = "tx_queue_0_drops",
	[RAWNET_TX_STOPS] = "tx_queue_0_stops",
};

/* Refuse parameters the driver cannot honour, naming the first bad one. */
static int __init rawnet_check_params(void)
{
	if (nr_pairs < 1 || nr_pairs > RAWNET_MAX_PAIRS) {
		pr_err("nr_pairs=%d is outside 1..%d\n", nr_pairs, RAWNET_MAX_PAIRS);
		return -EINVAL;
	}
	if (napi_weight < 1 || napi_weight > NAPI_POLL_WEIGHT) {
		pr_err("napi_weight=%d is outside 1..%d\n", napi_weight, NAPI_POLL_WEIGHT);
		return -EINVAL;
	}
	if (ring_size < RAWNET_MIN_RING || ring_size > RAWNET_MAX_RING ||
	    !is_power_of_2(ring_size)) {
		pr_err("ring_size=%d is not a power of two in %d..%d\n", ring_size,
		       RAWNET_MIN_RING, RAWNET_MAX_RING);
		return -EINVAL;
	}
	if (irqmode != RAWNET_IRQ_DIRECT && irqmode != RAWNET_IRQ_COALESCE) {
		pr_err("irqmode=%d is neither 0 (direct) nor 1 (coalesce)\n", irqmode);
		return -EINVAL;
	}
	if (coalesce_usecs < 1 || coalesce_usecs > RAWNET_MAX_COALESCE_USECS) {
		pr_err("coalesce_usecs=%d is outside 1..%d\n", coalesce_usecs,
		       RAWNET_MAX_COALESCE_USECS);
		return -EINVAL;
	}
	if (coalesce_frames < 1 || coalesce_frames > ring_size) {
		pr_err("coalesce_frames=%d is outside 1..ring_size (%d)\n", coalesce_frames,
		       ring_size);
		return -EINVAL;
	}
	if (mtu < ETH_MIN_MTU || mtu > RAWNET_MAX_MTU) {
		pr_err("mtu=%d is outside %d..%d\n", mtu, ETH_MIN_MTU, RAWNET_MAX_MTU);
		return -EINVAL;
	}
	return 0;
}

static int rawnet_ring_alloc(struct rawnet_ring *ring, u32 size)
{
	ring->slots = kvcalloc(size, sizeof(*ring->slots), GFP_KERNEL);
	if (!ring->slots)
		return -ENOMEM;
	ring->mask = size - 1;
	ring->head = 0;
	ring->tail = 0;
	return 0;
}

/* Producer side: false when the ring is full. */
static bool rawnet_ring_produce(struct rawnet_ring *ring, struct sk_buff *skb)
{
	u32 head = ring->head;

	/* Pairs with the consumer's release of tail: the slot it left is free to reuse. */
	if (head - smp_load_acquire(&ring->tail) > ring->mask)
		return false;
	ring->slots[head & ring->mask] = skb;
	/* Publishes the slot before the new head; pairs with the consumer's acquire. */
	smp_store_release(&ring->head, head + 1);
	return true;
}

/* Consumer side: NULL when the ring is empty. */
static struct sk_buff *rawnet_ring_consume(struct rawnet_ring *ring)
{
	u32 tail = ring->tail;
	struct sk_buff *skb;

	/* Pairs with the producer's release of head: the slot is filled. */
	if (tail == smp_load_acquire(&ring->head))
		return NULL;
	skb = ring->slots[tail & ring->mask];
	/* The slot is read before the producer may see it free. */
	smp_store_release(&ring->tail, tail + 1);
	return skb;
}

static u32 rawnet_ring_free_slots(const struct rawnet_ring *ring)
{
	return ring->mask + 1 - (READ_ONCE(ring->head) - READ_ONCE(ring->tail));
}

/* Drops every frame left in this end's ring; NAPI must be disabled and the peer kept out. */
static void rawnet_ring_flush(struct rawnet_priv *priv)
{
	struct sk_buff *skb;

	while ((skb = rawnet_ring_consume(&priv->ring))) {
		kfree_skb(skb);
		atomic64_inc(&priv->rx_dropped);
	}
}

/* The emulated interrupt of irqmode 1: the coalescing delay has run out. */
static enum hrtimer_restart rawnet_coalesce_fire(struct hrtimer *timer)
{
	struct rawnet_priv *priv = container_of(timer, struct rawnet_priv, coalesce_timer);

	atomic_set(&priv->coalesce_pending, 0);
	u64_stats_update_begin(&priv->timer.syncp);
	u64_stats_inc(&priv->timer.irqs);
	u64_stats_update_end(&priv->timer.syncp);
	napi_schedule(&priv->napi);
	return HRTIMER_NORESTART;
}

/* Tells the receiving end that a frame waits; true when an interrupt was raised at once. */
static bool rawnet_notify_rx(struct rawnet_priv *rx)
{
	int pending;

	if (irqmode == RAWNET_IRQ_DIRECT) {
		napi_schedule(&rx->napi);
		return true;
	}
	pending = atomic_inc_return(&rx->coalesce_pending);
	if (pending >= coalesce_frames) {
		atomic_set(&rx->coalesce_pending, 0);
		hrtimer_try_to_cancel(&rx->coalesce_timer);
		napi_schedule(&rx->napi);
		return true;
	}
	if (pending == 1)
		hrtimer_start(&rx->coalesce_timer, ns_to_ktime(coalesce_usecs * NSEC_PER_USEC),
			      HRTIMER_MODE_REL);
	return false;
}

/* Makes @skb, sent on @dev, ready to be received on @peer_dev; false if it cannot be. */
static bool rawnet_prepare_forward(struct sk_buff *skb, struct net_device *dev,
				   struct net_device *peer_dev)
{
	if (unlikely(skb_orphan_frags(skb, GFP_ATOMIC) || !is_skb_forwardable(peer_dev, skb)))
		return false;
	skb_scrub_packet(skb, !net_eq(dev_net(dev), dev_net(peer_dev)));
	skb_tx_timestamp(skb);
	return true;
}

static netdev_tx_t rawnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct rawnet_priv *priv = netdev_priv(dev);
	struct rawnet_priv *peer = priv->peer;
	unsigned int len = skb->len;
	bool raised = false;

	if (unlikely(!READ_ONCE(peer->rx_open))) {
		kfree_skb(skb);
		u64_stats_update_begin(&priv->tx.syncp);
		u64_stats_inc(&priv->tx.dropped);
		u64_stats_update_end(&priv->tx.syncp);
		return NETDEV_TX_OK;
	}

	if (unlikely(!rawnet_prepare_forward(skb, dev, peer->dev) ||
		     !rawnet_ring_produce(&peer->ring, skb))) {
		kfree_skb(skb);
		atomic64_inc(&peer->rx_dropped);
	} else {
		raised = rawnet_notify_rx(peer);
	}

	u64_stats_update_begin(&priv->tx.syncp);
	u64_stats_inc(&priv->tx.packets);
	u64_stats_add(&priv->tx.bytes, len);
	if (raised)
		u64_stats_inc(&priv->tx.irqs_raised);
	if (!rawnet_ring_free_slots(&peer->ring)) {
		netif_stop_queue(dev);
		u64_stats_inc(&priv->tx.stops);
		/* Stop, then look again: pairs with the barrier in rawnet_wake_peer(). */
		smp_mb__after_atomic();
		if (rawnet_ring_free_slots(&peer->ring))
			netif_start_queue(dev);
	}
	u64_stats_update_end(&priv->tx.syncp);
	return NETDEV_TX_OK;
}

/* Restarts the peer's stopped queue once half of this end's ring is free again. */
static bool rawnet_wake_peer(struct rawnet_priv *priv)
{
	struct net_device *peer_dev = priv->peer->dev;

	/* Freed slots visible before the stopped bit is read; pairs with start_xmit. */
	smp_mb();
	if (!netif_queue_stopped(peer_dev) ||
	    rawnet_ring_free_slots(&priv->ring) <= priv->ring.mask / 2)
		return false;
	netif_wake_queue(peer_dev);
	return true;
}

static int rawnet_poll(struct napi_struct *napi, int budget)
{
	struct rawnet_priv *priv = container_of(napi, struct rawnet_priv, napi);
	struct sk_buff *skb;
	u64 bytes = 0;
	int done = 0;
	bool woke;

	while (done < budget) {
		skb = rawnet_ring_consume(&priv->ring);
		if (!skb)
			break;
		bytes += skb->len;
		skb->protocol = eth_type_trans(skb, priv->dev);
		napi_gro_receive(napi, skb);
		done++;
	}
	woke = rawnet_wake_peer(priv);

	u64_stats_update_begin(&priv->rx.syncp);
	u64_stats_add(&priv->rx.packets, done);
	u64_stats_add(&priv->rx.bytes, bytes);
	u64_stats_inc(&priv->rx.polls);
	if (woke)
		u64_stats_inc(&priv->rx.peer_wakes);
	u64_stats_update_end(&priv->rx.syncp);

	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

static int rawnet_open(struct net_device *dev)
{
	struct rawnet_priv *priv = netdev_priv(dev);
	struct net_device *peer_dev = priv->peer->dev;

	napi_enable(&priv->napi);
	WRITE_ONCE(priv->rx_open, true);
	netif_start_queue(dev);
	if (netif_running(peer_dev)) {
		netif_carrier_on(dev);
		netif_carrier_on(peer_dev);
	}
	return 0;
}

static int rawnet_stop(struct net_device *dev)
{
	struct rawnet_priv *priv = netdev_priv(dev);
	struct net_device *peer_dev = priv->peer->dev;

	netif_carrier_off(dev);
	netif_carrier_off(peer_dev);
	WRITE_ONCE(priv->rx_open, false);
	synchronize_net();
	hrtimer_cancel(&priv->coalesce_timer);
	atomic_set(&priv->coalesce_pending, 0);
	napi_disable(&priv->napi);
	rawnet_ring_flush(priv);
	if (netif_running(peer_dev))
		netif_wake_queue(peer_dev);
	return 0;
}

static int rawnet_change_mtu(struct net_device *dev, int new_mtu)
{
	WRITE_ONCE(dev->mtu, new_mtu);
	return 0;
}

/* Reads every counter of one end consistently, in enum rawnet_counter order. */
static void rawnet_read_counters(struct rawnet_priv *priv, u64 *v)
{
	struct rawnet_priv *peer = priv->peer;
	unsigned int start;
	u64 raised_by_peer;

	do {
		start = u64_stats_fetch_begin(&priv->rx.syncp);
		v[RAWNET_RX_PACKETS] = u64_stats_read(&priv->rx.packets);
		v[RAWNET_RX_BYTES] = u64_stats_read(&priv->rx.bytes);
		v[RAWNET_RX_POLLS] = u64_stats_read(&priv->rx.polls);
		v[RAWNET_RX_PEER_WAKES] = u64_stats_read(&priv->rx.peer_wakes);
	} while (u64_stats_fetch_retry(&priv->rx.syncp, start));
	do {
		start = u64_stats_fetch_begin(&priv->tx.syncp);
		v[RAWNET_TX_PACKETS] = u64_stats_read(&priv->tx.packets);
		v[RAWNET_TX_BYTES] = u64_stats_read(&priv->tx.bytes);
		v[RAWNET_TX_DROPS] = u64_stats_read(&priv->tx.dropped);
		v[RAWNET_TX_STOPS] = u64_stats_read(&priv->tx.stops);
	} while (u64_stats_fetch_retry(&priv->tx.syncp, start));
	do {
		start = u64_stats_fetch_begin(&priv->timer.syncp);
		v[RAWNET_RX_IRQS] = u64_stats_read(&priv->timer.irqs);
	} while (u64_stats_fetch_retry(&priv->timer.syncp, start));
	do {
		start = u64_stats_fetch_begin(&peer->tx.syncp);
		raised_by_peer = u64_stats_read(&peer->tx.irqs_raised);
	} while (u64_stats_fetch_retry(&peer->tx.syncp, start));
	v[RAWNET_RX_IRQS] += raised_by_peer;
	v[RAWNET_RX_DROPS] = atomic64_read(&priv->rx_dropped);
}

static void rawnet_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *stats)
{
	u64 v[RAWNET_NR_COUNTERS];

	rawnet_read_counters(netdev_priv(dev), v);
	stats->rx_packets = v[RAWNET_RX_PACKETS];
	stats->rx_bytes = v[RAWNET_RX_BYTES];
	stats->rx_dropped = v[RAWNET_RX_DROPS];
	stats->tx_packets = v[RAWNET_TX_PACKETS];
	stats->tx_bytes = v[RAWNET_TX_BYTES];
	stats->tx_dropped = v[RAWNET_TX_DROPS];
}

static const struct net_device_ops rawnet_netdev_ops = {
	.ndo_open = rawnet_open,
	.ndo_stop = rawnet_stop,
	.ndo_start_xmit = rawnet_start_xmit,
	.ndo_change_mtu = rawnet_change_mtu,
	.ndo_get_stats64 = rawnet_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static void rawnet_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, "virtual", sizeof(info->bus_info));
}

static int rawnet_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? RAWNET_NR_COUNTERS : -EOPNOTSUPP;
}

static void rawnet_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, rawnet_counter_names, sizeof(rawnet_counter_names));
}

static void rawnet_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *stats,
				     u64 *data)
{
	rawnet_read_counters(netdev_priv(dev), data);
}

static const struct ethtool_ops rawnet_ethtool_ops = {
	.get_drvinfo = rawnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = rawnet_get_sset_count,
	.get_strings = rawnet_get_strings,
	.get_ethtool_stats = rawnet_get_ethtool_stats,
};

static void rawnet_setup(struct net_device *dev)
{
	ether_setup(dev);
	/* As veth: a software device that never backs up, so no qdisc by default. */
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->netdev_ops = &rawnet_netdev_ops;
	dev->ethtool_ops = &rawnet_ethtool_ops;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = RAWNET_MAX_MTU;
	dev->mtu = mtu;
	dev->hw_features = RAWNET_OFFLOADS;
	dev->features = offloads ? RAWNET_OFFLOADS : 0;
	eth_hw_addr_random(dev);
}

/* Allocates one end with its ring, NAPI context and timer; not yet registered. */
static struct net_device *rawnet_alloc(u8 index, char end)
{
	struct rawnet_priv *priv;
	struct net_device *dev;
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "rawnet%u%c", index, end);
	dev = alloc_netdev(sizeof(*priv), name, NET_NAME_PREDICTABLE, rawnet_setup);
	if (!dev)
		return NULL;
	priv = netdev_priv(dev);
	priv->dev = dev;
	if (rawnet_ring_alloc(&priv->ring, ring_size)) {
		free_netdev(dev);
		return NULL;
	}
	u64_stats_init(&priv->rx.syncp);
	u64_stats_init(&priv->tx.syncp);
	u64_stats_init(&priv->timer.syncp);
	atomic64_set(&priv->rx_dropped, 0);
	atomic_set(&priv->coalesce_pending, 0);
	hrtimer_setup(&priv->coalesce_timer, rawnet_coalesce_fire, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	netif_carrier_off(dev);
	netif_napi_add_weight(dev, &priv->napi, rawnet_poll, napi_weight);
	return dev;
}

/* Frees an end that is not registered (any more). */
static void rawnet_free(struct net_device *dev)
{
	struct rawnet_priv *priv = netdev_priv(dev);

	rawnet_ring_flush(priv);
	kvfree(priv->ring.slots);
	free_netdev(dev);
}

static int rawnet_create_pair(int index, struct rawnet_pair *pair)
{
	struct rawnet_priv *priv_a, *priv_b;
	int err = -ENOMEM;

	pair->a = rawnet_alloc(index, 'a');
	if (!pair->a)
		goto err_alloc_a;
	pair->b = rawnet_alloc(index, 'b');
	if (!pair->b)
		goto err_alloc_b;
	priv_a = netdev_priv(pair->a);
	priv_b = netdev_priv(pair->b);
	priv_a->peer = priv_b;
	priv_b->peer = priv_a;

	rtnl_lock();
	err = register_netdevice(pair->a);
	if (err)
		goto err_register_a;
	err = register_netdevice(pair->b);
	if (err)
		goto err_register_b;
	rtnl_unlock();
	return 0;

err_register_b:
	unregister_netdevice(pair->a);
err_register_a:
	rtnl_unlock();
	rawnet_free(pair->b);
err_alloc_b:
	rawnet_free(pair->a);
err_alloc_a:
	return err;
}

/* Unregisters both ends in one batch, so neither is freed while the other can reach it. */
static void rawnet_destroy_pair(struct rawnet_pair *pair)
{
	LIST_HEAD(list);

	rtnl_lock();
	unregister_netdevice_queue(pair->a, &list);
	unregister_netdevice_queue(pair->b, &list);
	unregister_netdevice_many(&list);
	rtnl_unlock();
	rawnet_free(pair->b);
	rawnet_free(pair->a);
}

static int __init rawnet_init(void)
{
	int err, i;

	err = rawnet_check_params();
	if (err)
		return err;
	for (i = 0; i < nr_pairs; i++) {
		err = rawnet_create_pair(i, &rawnet_pairs[i]);
		if (err) {
			pr_err("cannot create pair %d: %d\n", i, err);
			while (--i >= 0)
				rawnet_destroy_pair(&rawnet_pairs[i]);
			return err;
		}
	}
	return 0;
}

static void __exit rawnet_exit(void)
{
	int i;

	for (i = nr_pairs - 1; i >= 0; i--)
		rawnet_destroy_pair(&rawnet_pairs[i]);
}

module_init(rawnet_init);
module_exit(rawnet_exit);
MODULE_DESCRIPTION("twinbench raw twin: virtual Ethernet pairs with NAPI receive rings");
MODULE_LICENSE("GPL");

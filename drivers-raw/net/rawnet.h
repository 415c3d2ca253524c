/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rawnet: the raw C twin of the virtual Ethernet pair driver.
 *
 * The structures shared by the driver's parts. safenet (drivers-safe/net) mirrors them one
 * for one on top of the safe layer, so a difference in cost between the twins is the layer.
 */
#ifndef RAWNET_H
#define RAWNET_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/hrtimer.h>
#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>

#define RAWNET_MAX_PAIRS	64
#define RAWNET_MAX_MTU		9000
#define RAWNET_MIN_RING		16
#define RAWNET_MAX_RING		16384
#define RAWNET_MAX_COALESCE_USECS	100000

/* The offloads the pair can carry across unchanged; ethtool may toggle each of them. */
#define RAWNET_OFFLOADS	(NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | \
			 NETIF_F_HIGHDMA | NETIF_F_GSO_SOFTWARE)

/* How the transmitting end tells the receiving end's NAPI that frames are waiting. */
enum rawnet_irqmode {
	RAWNET_IRQ_DIRECT = 0,		/* schedule NAPI on every transmit */
	RAWNET_IRQ_COALESCE = 1,	/* hrtimer after coalesce_usecs, or coalesce_frames */
};

/*
 * A bounded single-producer, single-consumer ring of frames: the receive ring of one end.
 * The producer is the peer's transmit path (serialised by the peer's transmit queue lock),
 * the consumer is this end's NAPI poll. head and tail run freely; mask = size - 1.
 */
struct rawnet_ring {
	struct sk_buff **slots;
	u32 mask;
	u32 head ____cacheline_aligned_in_smp;
	u32 tail ____cacheline_aligned_in_smp;
};

/* Receive queue counters, written only by NAPI poll (or by ndo_stop with NAPI disabled). */
struct rawnet_rx_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	u64_stats_t polls;
	u64_stats_t peer_wakes;
	struct u64_stats_sync syncp;
};

/* Transmit queue counters, written only under this end's transmit queue lock. */
struct rawnet_tx_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	u64_stats_t dropped;
	u64_stats_t stops;
	u64_stats_t irqs_raised;
	struct u64_stats_sync syncp;
};

/* Emulated interrupts raised by the coalescing timer, written only by its callback. */
struct rawnet_timer_stats {
	u64_stats_t irqs;
	struct u64_stats_sync syncp;
};

/*
 * One end of a pair. The peer pointer is set before both ends are registered and stays
 * valid until both are unregistered together, so it needs no reference of its own.
 * rx_open says whether the peer may put frames in this end's ring.
 */
struct rawnet_priv {
	struct net_device *dev;
	struct rawnet_priv *peer;
	struct napi_struct napi;
	struct rawnet_ring ring;
	bool rx_open;
	atomic_t coalesce_pending;
	struct hrtimer coalesce_timer;
	struct rawnet_rx_stats rx;
	struct rawnet_tx_stats tx;
	struct rawnet_timer_stats timer;
	atomic64_t rx_dropped;
};

/* The counters ethtool -S shows, in this order; ndo_get_stats64 sums the same ones. */
enum rawnet_counter {
	RAWNET_RX_PACKETS,
	RAWNET_RX_BYTES,
	RAWNET_RX_DROPS,
	RAWNET_RX_POLLS,
	RAWNET_RX_IRQS,
	RAWNET_RX_PEER_WAKES,
	RAWNET_TX_PACKETS,
	RAWNET_TX_BYTES,
	RAWNET_TX_DROPS,
	RAWNET_TX_STOPS,
	RAWNET_NR_COUNTERS
};

/* The two ends of pair N: rawnetNa and rawnetNb. */
struct rawnet_pair {
	struct net_device *a;
	struct net_device *b;
};

#endif /* RAWNET_H */

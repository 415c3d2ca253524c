/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safenet: the safe twin of the virtual Ethernet pair driver.
 *
 * The structures shared by the driver's parts, one for one those of rawnet.h, built on the
 * safe layer (drivers-safe/kernel): the device through struct safe_netdev, frames through
 * owned struct safe_skb handles, the receive ring as a struct safe_skb_ring, counters as
 * layer counter groups.
 */
#ifndef SAFENET_H
#define SAFENET_H

#include <linux/atomic.h>
#include <safe/net.h>
#include <safe/skb.h>

#define SAFENET_MAX_PAIRS	64
#define SAFENET_MAX_MTU		9000
#define SAFENET_MIN_RING	16
#define SAFENET_MAX_RING	16384
#define SAFENET_MAX_COALESCE_USECS	100000

/* How the transmitting end tells the receiving end's NAPI that frames are waiting. */
enum safenet_irqmode {
	SAFENET_IRQ_DIRECT = 0,		/* schedule NAPI on every transmit */
	SAFENET_IRQ_COALESCE = 1,	/* hrtimer after coalesce_usecs, or coalesce_frames */
};

/* Receive queue counters, written only by NAPI poll (or by stop with NAPI disabled). */
enum safenet_rx_counter {
	SAFENET_RX_C_PACKETS,
	SAFENET_RX_C_BYTES,
	SAFENET_RX_C_POLLS,
	SAFENET_RX_C_PEER_WAKES,
	SAFENET_NR_RX_C
};
SAFE_DEFINE_COUNTERS(safenet_rx_counters, SAFENET_NR_RX_C);

/* Transmit queue counters, written only under this end's transmit queue lock. */
enum safenet_tx_counter {
	SAFENET_TX_C_PACKETS,
	SAFENET_TX_C_BYTES,
	SAFENET_TX_C_DROPPED,
	SAFENET_TX_C_STOPS,
	SAFENET_TX_C_IRQS_RAISED,
	SAFENET_NR_TX_C
};
SAFE_DEFINE_COUNTERS(safenet_tx_counters, SAFENET_NR_TX_C);

/* Emulated interrupts raised by the coalescing timer, written only by its callback. */
SAFE_DEFINE_COUNTERS(safenet_timer_counters, 1);

/*
 * One end of a pair. The layer's peer link (in net) holds a reference on the other end;
 * rx_open says whether the peer may put frames in this end's ring.
 */
struct safenet_priv {
	struct safe_netdev net;
	struct safe_skb_ring ring;
	bool rx_open;
	atomic_t coalesce_pending;
	struct safenet_rx_counters rx;
	struct safenet_tx_counters tx;
	struct safenet_timer_counters timer;
	atomic64_t rx_dropped;
};

SAFE_NETDEV_DECLARE(safenet, struct safenet_priv, net);

/* The counters ethtool -S shows, in this order; ndo_get_stats64 sums the same ones. */
enum safenet_counter {
	SAFENET_RX_PACKETS,
	SAFENET_RX_BYTES,
	SAFENET_RX_DROPS,
	SAFENET_RX_POLLS,
	SAFENET_RX_IRQS,
	SAFENET_RX_PEER_WAKES,
	SAFENET_TX_PACKETS,
	SAFENET_TX_BYTES,
	SAFENET_TX_DROPS,
	SAFENET_TX_STOPS,
	SAFENET_NR_COUNTERS
};

/* The two ends of pair N: safenetNa and safenetNb. */
struct safenet_pair {
	struct safenet_priv *a;
	struct safenet_priv *b;
};

#endif /* SAFENET_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * rustnet_helpers: the C half of the Rust net abstraction (drivers-safe/kernel/rust/net*.rs).
 *
 * The kernel crate's bindings leave struct net_device and struct napi_struct opaque and carry
 * none of netdevice.h's functions, and an out-of-tree module cannot add rust_helper_*
 * wrappers to the kernel; so the field accesses and static inlines the abstraction needs are
 * here, one small function each. Named rust_helper_net_* and counted as layer, as the
 * kernel's own rust_helper_* functions are.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>

#include "rustnet_helpers.h"

/*
 * The layer's part of a device's private area, before the driver's data: the ops tables
 * (copied in once from the driver's callbacks at allocation, so they live exactly as long as
 * the device, and const from then on), the NAPI context and the driver name ethtool reports.
 */
struct rust_net_hdr {
	const struct net_device_ops ndo;
	const struct ethtool_ops eto;
	struct napi_struct napi;
	const char *driver;
};

#define RUST_NET_HDR_SIZE	ALIGN(sizeof(struct rust_net_hdr), NETDEV_ALIGN)

static void rust_net_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	struct rust_net_hdr *hdr = netdev_priv(dev);

	strscpy(info->driver, hdr->driver, sizeof(info->driver));
	strscpy(info->bus_info, "virtual", sizeof(info->bus_info));
}

/* Allocates and sets up a device with its NAPI context; not registered. NULL on failure. */
struct net_device *rust_helper_net_alloc(const struct rust_net_config *cfg,
					 const struct rust_net_fns *fns)
{
	const struct net_device_ops ndo = {
		.ndo_open = fns->open,
		.ndo_stop = fns->stop,
		.ndo_start_xmit = fns->start_xmit,
		.ndo_change_mtu = fns->change_mtu,
		.ndo_get_stats64 = fns->get_stats64,
		.ndo_set_mac_address = eth_mac_addr,
		.ndo_validate_addr = eth_validate_addr,
	};
	const struct ethtool_ops eto = {
		.get_drvinfo = rust_net_get_drvinfo,
		.get_link = ethtool_op_get_link,
		.get_sset_count = fns->get_sset_count,
		.get_strings = fns->get_strings,
		.get_ethtool_stats = fns->get_ethtool_stats,
	};
	struct rust_net_hdr *hdr;
	struct net_device *dev;

	dev = alloc_netdev(RUST_NET_HDR_SIZE + cfg->priv_size, cfg->name, NET_NAME_PREDICTABLE,
			   ether_setup);
	if (!dev)
		return NULL;
	hdr = netdev_priv(dev);
	memcpy((void *)&hdr->ndo, &ndo, sizeof(ndo));
	memcpy((void *)&hdr->eto, &eto, sizeof(eto));
	hdr->driver = cfg->driver;
	if (cfg->no_queue)
		dev->priv_flags |= IFF_NO_QUEUE;
	dev->netdev_ops = &hdr->ndo;
	dev->ethtool_ops = &hdr->eto;
	dev->min_mtu = cfg->min_mtu;
	dev->max_mtu = cfg->max_mtu;
	dev->mtu = cfg->mtu;
	dev->hw_features = cfg->hw_features;
	dev->features = cfg->features;
	eth_hw_addr_random(dev);
	netif_carrier_off(dev);
	netif_napi_add_weight(dev, &hdr->napi, fns->poll, cfg->napi_weight);
	return dev;
}

/* The driver's data of @dev, after the layer's part. */
void *rust_helper_net_drv(struct net_device *dev)
{
	return netdev_priv(dev) + RUST_NET_HDR_SIZE;
}

/* The driver's data of the device that owns @napi. */
void *rust_helper_net_napi_drv(struct napi_struct *napi)
{
	return (void *)container_of(napi, struct rust_net_hdr, napi) + RUST_NET_HDR_SIZE;
}

struct napi_struct *rust_helper_net_napi(struct net_device *dev)
{
	struct rust_net_hdr *hdr = netdev_priv(dev);

	return &hdr->napi;
}

struct net_device *rust_helper_net_napi_dev(struct napi_struct *napi)
{
	return napi->dev;
}

void rust_helper_net_napi_schedule(struct napi_struct *napi)
{
	napi_schedule(napi);
}

/* Hands a received frame to the stack through GRO, as a NIC's receive path does. */
void rust_helper_net_napi_receive(struct napi_struct *napi, struct sk_buff *skb)
{
	skb->protocol = eth_type_trans(skb, napi->dev);
	napi_gro_receive(napi, skb);
}

/* Makes @skb, sent on @dev, ready to be received on @peer; false if it cannot be. */
bool rust_helper_net_skb_prepare_forward(struct sk_buff *skb, struct net_device *dev,
					 struct net_device *peer)
{
	if (unlikely(skb_orphan_frags(skb, GFP_ATOMIC) || !is_skb_forwardable(peer, skb)))
		return false;
	skb_scrub_packet(skb, !net_eq(dev_net(dev), dev_net(peer)));
	skb_tx_timestamp(skb);
	return true;
}

void rust_helper_net_stop_queue(struct net_device *dev)
{
	netif_stop_queue(dev);
}

void rust_helper_net_start_queue(struct net_device *dev)
{
	netif_start_queue(dev);
}

void rust_helper_net_wake_queue(struct net_device *dev)
{
	netif_wake_queue(dev);
}

bool rust_helper_net_queue_stopped(const struct net_device *dev)
{
	return netif_queue_stopped(dev);
}

bool rust_helper_net_running(const struct net_device *dev)
{
	return netif_running(dev);
}

void rust_helper_net_set_mtu(struct net_device *dev, int mtu)
{
	WRITE_ONCE(dev->mtu, mtu);
}

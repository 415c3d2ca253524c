/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rustnet_helpers: what the Rust net abstraction (drivers-safe/kernel/rust/net*.rs) calls in C,
 * and the two structs it passes; net.rs's ffi module mirrors them field for field.
 */
#ifndef RUSTNET_HELPERS_H
#define RUSTNET_HELPERS_H

#include <linux/ethtool.h>
#include <linux/netdevice.h>

/* The callbacks net.rs generates for one driver type (its RawFns, field for field). */
struct rust_net_fns {
	int (*open)(struct net_device *dev);
	int (*stop)(struct net_device *dev);
	netdev_tx_t (*start_xmit)(struct sk_buff *skb, struct net_device *dev);
	int (*change_mtu)(struct net_device *dev, int new_mtu);
	void (*get_stats64)(struct net_device *dev, struct rtnl_link_stats64 *stats);
	int (*poll)(struct napi_struct *napi, int budget);
	int (*get_sset_count)(struct net_device *dev, int sset);
	void (*get_strings)(struct net_device *dev, u32 sset, u8 *data);
	void (*get_ethtool_stats)(struct net_device *dev, struct ethtool_stats *stats, u64 *data);
};

/* How a device is set up (net.rs's RawConfig, field for field). */
struct rust_net_config {
	const char *name;
	const char *driver;
	size_t priv_size;
	u64 hw_features;
	u64 features;
	int mtu;
	int min_mtu;
	int max_mtu;
	int napi_weight;
	bool no_queue;
};

struct net_device *rust_helper_net_alloc(const struct rust_net_config *cfg,
					 const struct rust_net_fns *fns);
void *rust_helper_net_drv(struct net_device *dev);
void *rust_helper_net_napi_drv(struct napi_struct *napi);
struct napi_struct *rust_helper_net_napi(struct net_device *dev);
struct net_device *rust_helper_net_napi_dev(struct napi_struct *napi);
void rust_helper_net_napi_schedule(struct napi_struct *napi);
void rust_helper_net_napi_receive(struct napi_struct *napi, struct sk_buff *skb);
bool rust_helper_net_skb_prepare_forward(struct sk_buff *skb, struct net_device *dev,
					 struct net_device *peer);
void rust_helper_net_stop_queue(struct net_device *dev);
void rust_helper_net_start_queue(struct net_device *dev);
void rust_helper_net_wake_queue(struct net_device *dev);
bool rust_helper_net_queue_stopped(const struct net_device *dev);
bool rust_helper_net_running(const struct net_device *dev);
void rust_helper_net_set_mtu(struct net_device *dev, int mtu);

#endif /* RUSTNET_HELPERS_H */

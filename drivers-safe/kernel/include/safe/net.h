/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/net.h - the network device abstraction: typed ops, adapters, NAPI, peer links.
 *
 * Stands for the net abstractions of Rust-for-Linux's net tree (kernel::net::dev):
 *  - DeviceOperations (#[vtable] trait) -> a typed ops table of the driver, checked when a
 *    device is allocated
 *  - the extern "C" callbacks of the vtable -> adapters generated per driver by
 *    SAFE_NETDEV_ADAPTERS, each calling the driver's op through a const table (a direct call
 *    once compiled) and converting its result with the one bridge in error.h
 *  - Registration<T> -> alloc/register/free of the generated name_*() functions; freeing a
 *    registered device unregisters it first; a batch of devices unregisters in one go
 *  - Napi -> safe_napi_*(), with the poll op receiving the driver's typed data
 *  - ARef<Device> -> the peer link of a device pair: each end holds a counted reference
 *    (netdev_hold) to the other, read under RCU without touching the count (ArcBorrow) and
 *    returned when either end is unregistered, after a grace period, so no reader holds a
 *    borrowed link to a freed device; a missing peer is an Option that every user checks
 *  - SkBuff hand-offs -> safe_skb_prepare_forward() and safe_napi_receive(), which take
 *    struct safe_skb handles (skb.h) and check the Ethernet header is inside the buffer
 *  - per-queue counters -> SAFE_DEFINE_COUNTERS: u64_stats groups written in a scope and
 *    indexed with checked indices, read as whole snapshots
 *
 * Invariants: a driver's data (priv_type) lives in netdev_priv() of its net_device and
 * embeds one struct safe_netdev, whose raw points back at that net_device. The driver never
 * touches the net_device itself. peer is NULL or a device of the same driver on which this
 * end holds one reference.
 *
 * Switches: -DSAFE_NO_SKB_OWNERSHIP (skb.h) also removes the adapter's check that
 * start_xmit moved its buffer on; -DSAFE_NO_BOUNDS removes the header and index checks.
 */
#ifndef SAFE_NET_H
#define SAFE_NET_H

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/u64_stats_sync.h>
#include <safe/bounds.h>
#include <safe/compat.h>
#include <safe/error.h>
#include <safe/guard.h>
#include <safe/skb.h>

/* The layer's part of a device, embedded in the driver's data. */
struct safe_netdev {
	struct net_device *raw;
	struct napi_struct napi;
	struct hrtimer timer;
	struct net_device __rcu *peer;
	netdevice_tracker peer_tracker;
	bool registered;
};

/* Offloads a device may announce; ethtool -K toggles each one it supports. */
enum safe_netdev_offload {
	SAFE_NETDEV_OFFLOAD_CSUM = BIT(0),	/* checksums left to the device */
	SAFE_NETDEV_OFFLOAD_SG = BIT(1),	/* scatter-gather buffers */
	SAFE_NETDEV_OFFLOAD_GSO = BIT(2),	/* large segments, split by whoever needs to */
	SAFE_NETDEV_OFFLOAD_ALL = BIT(3) - 1,
};

/* What a device looks like; checked before it is allocated. */
struct safe_netdev_params {
	const char *name;
	unsigned int mtu;
	unsigned int max_mtu;
	unsigned int napi_weight;
	unsigned int offloads_supported;	/* enum safe_netdev_offload bits */
	unsigned int offloads_on;
	bool no_queue;		/* never backs up, as veth: no qdisc by default (IFF_NO_QUEUE) */
};

/* A u64 array with its length: where ethtool statistics are written. */
struct safe_u64_buf {
	u64 *ptr;
	size_t len;
};

/* buf[idx] = val, if idx is inside buf. */
#define safe_u64_buf_set(buf, idx, val)					\
	do {								\
		if (safe_index_ok(idx, (buf).len))			\
			(buf).ptr[idx] = (val);				\
	} while (0)

/*
 * Counters: SAFE_DEFINE_COUNTERS(name, n) makes struct name, a group of n 64-bit counters
 * with one writer at a time, and
 *	name_init(c)				before first use
 *	name_snapshot(c, &array)		a consistent copy into u64 array[n]
 *	safe_counters_update(name, c, w) { safe_counter_add(w, IDX, v); ... }
 * The writer handle w exists only inside the update scope; indices are checked against n
 * (folded away when constant).
 */
struct safe_counters_writer {
	struct u64_stats_sync *raw;
	u64_stats_t *v;
	unsigned int n;
};

static __always_inline void __safe_counters_end(struct safe_counters_writer *w)
{
	u64_stats_update_end(w->raw);
}

#define SAFE_DEFINE_COUNTERS(name, count)				\
	struct name {							\
		u64_stats_t v[count];					\
		struct u64_stats_sync syncp;				\
	};								\
									\
	static inline void name##_init(struct name *c)			\
	{								\
		memset(c->v, 0, sizeof(c->v));				\
		u64_stats_init(&c->syncp);				\
	}								\
									\
	static __always_inline struct safe_counters_writer name##_begin(struct name *c) \
	{								\
		u64_stats_update_begin(&c->syncp);			\
		return (struct safe_counters_writer){			\
			.raw = &c->syncp, .v = c->v, .n = count };	\
	}								\
									\
	static inline void name##_snapshot(struct name *c, u64 (*out)[count]) \
	{								\
		unsigned int start, i;					\
									\
		do {							\
			start = u64_stats_fetch_begin(&c->syncp);	\
			for (i = 0; i < count; i++)			\
				(*out)[i] = u64_stats_read(&c->v[i]);	\
		} while (u64_stats_fetch_retry(&c->syncp, start));	\
	}

#define safe_counters_update(name, c, w)				\
	__safe_scoped(struct safe_counters_writer, name##_begin, __safe_counters_end, \
		      c, w, __UNIQUE_ID(done))

#define safe_counter_add(w, idx, val)					\
	do {								\
		if (safe_index_ok(idx, (w).n))				\
			u64_stats_add(&(w).v[idx], val);		\
	} while (0)

#define safe_counter_inc(w, idx)	safe_counter_add(w, idx, 1)

/* Carrier, queue and NAPI state of the device (netif_*, napi_*). */
static __always_inline void safe_netdev_carrier_on(struct safe_netdev *net)
{
	netif_carrier_on(net->raw);
}

static __always_inline void safe_netdev_carrier_off(struct safe_netdev *net)
{
	netif_carrier_off(net->raw);
}

static __always_inline bool safe_netdev_is_running(const struct safe_netdev *net)
{
	return netif_running(net->raw);
}

static __always_inline void safe_netdev_start_queue(struct safe_netdev *net)
{
	netif_start_queue(net->raw);
}

static __always_inline void safe_netdev_stop_queue(struct safe_netdev *net)
{
	netif_stop_queue(net->raw);
}

static __always_inline void safe_netdev_wake_queue(struct safe_netdev *net)
{
	netif_wake_queue(net->raw);
}

static __always_inline bool safe_netdev_queue_stopped(const struct safe_netdev *net)
{
	return netif_queue_stopped(net->raw);
}

static __always_inline void safe_napi_enable(struct safe_netdev *net)
{
	napi_enable(&net->napi);
}

static __always_inline void safe_napi_disable(struct safe_netdev *net)
{
	napi_disable(&net->napi);
}

static __always_inline void safe_napi_schedule(struct safe_netdev *net)
{
	napi_schedule(&net->napi);
}

static __always_inline bool safe_napi_complete_done(struct safe_netdev *net, int done)
{
	return napi_complete_done(&net->napi, done);
}

/* The device's own timer (its emulated interrupt); the timer op runs when it fires. */
static __always_inline void safe_netdev_timer_start(struct safe_netdev *net, u64 nsec)
{
	hrtimer_start(&net->timer, ns_to_ktime(nsec), HRTIMER_MODE_REL);
}

static __always_inline void safe_netdev_timer_try_cancel(struct safe_netdev *net)
{
	hrtimer_try_to_cancel(&net->timer);
}

static __always_inline void safe_netdev_timer_cancel(struct safe_netdev *net)
{
	hrtimer_cancel(&net->timer);
}

/* Wait until every transmit and receive path that started before has finished. */
static __always_inline void safe_net_synchronize(void)
{
	synchronize_net();
}

/*
 * safe_skb_prepare_forward - make @s, sent on @from, ready to be received on @to: frags
 * made private, size checked against @to's MTU, state of @from's namespace scrubbed, send
 * timestamp taken. On Err the caller still owns @s.
 */
static __always_inline __must_check struct safe_result safe_skb_prepare_forward(struct safe_skb *s,
								   struct safe_netdev *from,
								   struct safe_netdev *to)
{
	if (unlikely(!__safe_skb_owned(s)))
		return safe_err(-EINVAL);
	if (unlikely(skb_orphan_frags(s->raw, GFP_ATOMIC) || !is_skb_forwardable(to->raw, s->raw)))
		return safe_err(-EMSGSIZE);
	skb_scrub_packet(s->raw, !net_eq(dev_net(from->raw), dev_net(to->raw)));
	skb_tx_timestamp(s->raw);
	return safe_ok();
}

/*
 * safe_napi_receive - hand Ethernet frame @s to the stack through @net's NAPI context
 * (GRO). Checks the Ethernet header lies in the buffer's linear part first; on Err the
 * buffer is freed. Moves @s either way.
 */
static __always_inline __must_check struct safe_result safe_napi_receive(struct safe_netdev *net,
							    struct safe_skb *s)
{
	struct sk_buff *skb;

	if (unlikely(!__safe_skb_owned(s)))
		return safe_err(-EINVAL);
	skb = __safe_skb_take(s);
	if (unlikely(!(__safe_range_ok(0, ETH_HLEN, skb_headlen(skb)) ||
		       __safe_out_of_bounds(0, ETH_HLEN, skb_headlen(skb))))) {
		kfree_skb(skb);
		return safe_err(-EPROTO);
	}
	skb->protocol = eth_type_trans(skb, net->raw);
	napi_gro_receive(&net->napi, skb);
	return safe_ok();
}

/* Layer-internal: the kernel feature bits of enum safe_netdev_offload bits. */
static inline netdev_features_t __safe_netdev_features(unsigned int offloads)
{
	netdev_features_t f = 0;

	if (offloads & SAFE_NETDEV_OFFLOAD_CSUM)
		f |= NETIF_F_HW_CSUM | NETIF_F_RXCSUM;
	if (offloads & SAFE_NETDEV_OFFLOAD_SG)
		f |= NETIF_F_SG | NETIF_F_HIGHDMA;
	if (offloads & SAFE_NETDEV_OFFLOAD_GSO)
		f |= NETIF_F_GSO_SOFTWARE;
	return f;
}

/* Layer-internal: check @p and make the net_device it describes; NULL on failure. */
static inline struct net_device *__safe_netdev_alloc(size_t priv_size,
						     const struct safe_netdev_params *p)
{
	struct net_device *dev;

	if (p->max_mtu > ETH_MAX_MTU || p->mtu < ETH_MIN_MTU || p->mtu > p->max_mtu ||
	    !p->napi_weight || p->napi_weight > NAPI_POLL_WEIGHT ||
	    (p->offloads_on & ~p->offloads_supported) ||
	    (p->offloads_supported & ~SAFE_NETDEV_OFFLOAD_ALL)) {
		pr_err("safe: %s: bad device parameters (mtu %u of %u..%u, napi weight %u, offloads %#x of %#x)\n",
		       p->name, p->mtu, ETH_MIN_MTU, p->max_mtu, p->napi_weight,
		       p->offloads_on, p->offloads_supported);
		return NULL;
	}
	dev = alloc_netdev(priv_size, p->name, NET_NAME_PREDICTABLE, ether_setup);
	if (!dev)
		return NULL;
	if (p->no_queue)
		dev->priv_flags |= IFF_NO_QUEUE;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = p->max_mtu;
	dev->mtu = p->mtu;
	dev->hw_features = __safe_netdev_features(p->offloads_supported);
	dev->features = __safe_netdev_features(p->offloads_on);
	eth_hw_addr_random(dev);
	netif_carrier_off(dev);
	return dev;
}

/*
 * SAFE_NETDEV_DECLARE(name, priv_type, member): the typed ops table of a driver whose data
 * is priv_type, with its struct safe_netdev in @member. Declares
 *	name_peer(p)		the peer's data, borrowed under RCU (or rtnl), or NULL
 * and struct name_ops:
 *	open, stop		bring the device up / down (rtnl held); open may fail
 *	start_xmit		gets the one handle of a frame and must move it on (free it,
 *				queue it, hand it over); the adapter frees and warns otherwise
 *	poll			NAPI poll: receive up to budget frames, return how many
 *	timer			the device timer fired (optional)
 *	change_mtu		accept or refuse a new MTU (optional; the layer sets it on Ok)
 *	get_stats64		device totals
 *	read_stats		ethtool -S values, in the order of stat_names[nr_stats]
 *	drop			release what the driver's data holds (Drop of T::Data)
 */
#define SAFE_NETDEV_DECLARE(name, priv_type, member)			\
	static __always_inline priv_type *name##_from_dev(struct net_device *dev) \
	{								\
		/* SAFETY: every device of these ops carries a priv_type. */ \
		return netdev_priv(dev);				\
	}								\
									\
	static __always_inline priv_type *name##_peer(priv_type *p)	\
	{								\
		struct net_device *peer;				\
									\
		peer = rcu_dereference_check(p->member.peer,		\
					     rcu_read_lock_bh_held() ||	\
					     lockdep_rtnl_is_held());	\
		return peer ? name##_from_dev(peer) : NULL;		\
	}								\
									\
	struct name##_ops {						\
		struct safe_result (*open)(priv_type *p);		\
		void (*stop)(priv_type *p);				\
		void (*start_xmit)(priv_type *p, struct safe_skb *skb);	\
		int (*poll)(priv_type *p, int budget);			\
		void (*timer)(priv_type *p);				\
		struct safe_result (*change_mtu)(priv_type *p, unsigned int mtu); \
		void (*get_stats64)(priv_type *p, struct rtnl_link_stats64 *stats); \
		void (*read_stats)(priv_type *p, struct safe_u64_buf buf); \
		void (*drop)(priv_type *p);				\
		const char (*stat_names)[ETH_GSTRING_LEN];		\
		unsigned int nr_stats;					\
	}

/*
 * SAFE_NETDEV_ADAPTERS(name, priv_type, member, typed_ops): the C callbacks the kernel
 * calls, generic over the driver, for the const table @typed_ops of type struct name_ops;
 * @member as in SAFE_NETDEV_DECLARE. Defines:
 *	name_alloc(params, &p)		check ops and params, allocate a device and its data
 *	name_register_pair(a, b)	register two peers together; on Err neither is
 *					registered (nothing can reach either any more)
 *	name_free(p)			unregister if registered, drop the data, free
 *	name_free_many(ps, n)		the same for n devices, unregistered in one batch
 *	name_pair(a, b)			link two unregistered devices as peers
 */
#define SAFE_NETDEV_ADAPTERS(name, priv_type, member, typed_ops)	\
	static void name##_unpair(priv_type *p)			\
	{								\
		struct net_device *peer_dev;				\
		bool both;						\
		priv_type *peer;					\
									\
		peer_dev = rcu_dereference_protected(p->member.peer, true); \
		if (!peer_dev)						\
			return;						\
		peer = name##_from_dev(peer_dev);			\
		both = rcu_access_pointer(peer->member.peer) == p->member.raw; \
		RCU_INIT_POINTER(p->member.peer, NULL);			\
		if (both)						\
			RCU_INIT_POINTER(peer->member.peer, NULL);	\
		/* Readers that borrowed either link are done before it is put. */ \
		synchronize_net();					\
		netdev_put(peer_dev, &p->member.peer_tracker);		\
		if (both)						\
			netdev_put(p->member.raw, &peer->member.peer_tracker); \
	}								\
									\
	static __safe_adapter int name##_open_adapter(struct net_device *dev)		\
	{								\
		return safe_to_errno(typed_ops.open(name##_from_dev(dev))); \
	}								\
									\
	static __safe_adapter int name##_stop_adapter(struct net_device *dev)		\
	{								\
		typed_ops.stop(name##_from_dev(dev));			\
		return 0;						\
	}								\
									\
	static void name##_uninit_adapter(struct net_device *dev)	\
	{								\
		name##_unpair(name##_from_dev(dev));			\
	}								\
									\
	static __safe_adapter netdev_tx_t name##_start_xmit_adapter(struct sk_buff *raw, \
						     struct net_device *dev) \
	{								\
		struct safe_skb skb = { .raw = raw };			\
									\
		typed_ops.start_xmit(name##_from_dev(dev), &skb);	\
		__safe_skb_check_moved(&skb, #name " start_xmit");	\
		return NETDEV_TX_OK;					\
	}								\
									\
	static __safe_adapter int name##_poll_adapter(struct napi_struct *napi, int budget) \
	{								\
		priv_type *p = container_of(napi, priv_type, member.napi); \
									\
		return typed_ops.poll(p, budget);			\
	}								\
									\
	static __safe_adapter enum hrtimer_restart name##_timer_adapter(struct hrtimer *t) \
	{								\
		typed_ops.timer(container_of(t, priv_type, member.timer)); \
		return HRTIMER_NORESTART;				\
	}								\
									\
	static __safe_adapter int name##_change_mtu_adapter(struct net_device *dev, int mtu) \
	{								\
		struct safe_result res;					\
									\
		if (mtu < dev->min_mtu || mtu > dev->max_mtu)		\
			return -EINVAL;					\
		res = typed_ops.change_mtu ?				\
		      typed_ops.change_mtu(name##_from_dev(dev), mtu) : safe_ok(); \
		if (safe_is_ok(res))					\
			WRITE_ONCE(dev->mtu, mtu);			\
		return safe_to_errno(res);				\
	}								\
									\
	static __safe_adapter void name##_get_stats64_adapter(struct net_device *dev,	\
					       struct rtnl_link_stats64 *stats) \
	{								\
		rcu_read_lock_bh();					\
		typed_ops.get_stats64(name##_from_dev(dev), stats);	\
		rcu_read_unlock_bh();					\
	}								\
									\
	static const struct net_device_ops name##_netdev_ops = {	\
		.ndo_open = name##_open_adapter,			\
		.ndo_stop = name##_stop_adapter,			\
		.ndo_uninit = name##_uninit_adapter,			\
		.ndo_start_xmit = name##_start_xmit_adapter,		\
		.ndo_change_mtu = name##_change_mtu_adapter,		\
		.ndo_get_stats64 = name##_get_stats64_adapter,		\
		.ndo_set_mac_address = eth_mac_addr,			\
		.ndo_validate_addr = eth_validate_addr,			\
	};								\
									\
	static void name##_get_drvinfo_adapter(struct net_device *dev,	\
					       struct ethtool_drvinfo *info) \
	{								\
		strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver)); \
		strscpy(info->bus_info, "virtual", sizeof(info->bus_info)); \
	}								\
									\
	static int name##_get_sset_count_adapter(struct net_device *dev, int sset) \
	{								\
		return sset == ETH_SS_STATS ? typed_ops.nr_stats : -EOPNOTSUPP; \
	}								\
									\
	static void name##_get_strings_adapter(struct net_device *dev, u32 sset, \
					       u8 *data)		\
	{								\
		if (sset == ETH_SS_STATS)				\
			memcpy(data, typed_ops.stat_names,		\
			       typed_ops.nr_stats * ETH_GSTRING_LEN);	\
	}								\
									\
	static void name##_get_ethtool_stats_adapter(struct net_device *dev, \
						     struct ethtool_stats *stats, \
						     u64 *data)		\
	{								\
		/* SAFETY: the core sized data by get_sset_count: nr_stats values. */ \
		struct safe_u64_buf buf = { .ptr = data, .len = typed_ops.nr_stats }; \
									\
		rcu_read_lock_bh();					\
		typed_ops.read_stats(name##_from_dev(dev), buf);	\
		rcu_read_unlock_bh();					\
	}								\
									\
	static const struct ethtool_ops name##_ethtool_ops = {		\
		.get_drvinfo = name##_get_drvinfo_adapter,		\
		.get_link = ethtool_op_get_link,			\
		.get_sset_count = name##_get_sset_count_adapter,	\
		.get_strings = name##_get_strings_adapter,		\
		.get_ethtool_stats = name##_get_ethtool_stats_adapter,	\
	};								\
									\
	static inline __must_check struct safe_result name##_alloc(const struct safe_netdev_params *params, \
						      priv_type **out)	\
	{								\
		struct net_device *dev;					\
		priv_type *p;						\
									\
		if (!typed_ops.open || !typed_ops.stop || !typed_ops.start_xmit || \
		    !typed_ops.poll || !typed_ops.get_stats64 || !typed_ops.read_stats || \
		    !typed_ops.drop || !typed_ops.stat_names) {	\
			pr_err("safe: %s ops table lacks a mandatory op\n", #name); \
			return safe_err(-EINVAL);			\
		}							\
		dev = __safe_netdev_alloc(sizeof(priv_type), params);	\
		if (!dev)						\
			return safe_err(-ENOMEM);			\
		dev->netdev_ops = &name##_netdev_ops;			\
		dev->ethtool_ops = &name##_ethtool_ops;			\
		p = name##_from_dev(dev);				\
		p->member.raw = dev;					\
		hrtimer_setup(&p->member.timer, name##_timer_adapter,	\
			      CLOCK_MONOTONIC, HRTIMER_MODE_REL);	\
		netif_napi_add_weight(dev, &p->member.napi, name##_poll_adapter, \
				      params->napi_weight);		\
		*out = p;						\
		return safe_ok();					\
	}								\
									\
	static inline __must_check struct safe_result name##_register_pair(priv_type *a, \
									   priv_type *b) \
	{								\
		int err;						\
									\
		rtnl_lock();						\
		err = register_netdevice(a->member.raw);		\
		if (!err) {						\
			err = register_netdevice(b->member.raw);	\
			if (err)					\
				unregister_netdevice(a->member.raw);	\
		}							\
		rtnl_unlock();						\
		SAFE_TRY(safe_from_errno(err));				\
		a->member.registered = true;				\
		b->member.registered = true;				\
		return safe_ok();					\
	}								\
									\
	static inline void name##_free_many(priv_type *const *ps, unsigned int n) \
	{								\
		LIST_HEAD(list);					\
		unsigned int i;						\
									\
		rtnl_lock();						\
		for (i = 0; i < n; i++) {				\
			if (ps[i] && ps[i]->member.registered)		\
				unregister_netdevice_queue(ps[i]->member.raw, &list); \
		}							\
		unregister_netdevice_many(&list);			\
		rtnl_unlock();						\
		for (i = 0; i < n; i++) {				\
			if (!ps[i])					\
				continue;				\
			name##_unpair(ps[i]);				\
			typed_ops.drop(ps[i]);				\
			free_netdev(ps[i]->member.raw);			\
		}							\
	}								\
									\
	static inline void name##_free(priv_type *p)			\
	{								\
		name##_free_many(&p, 1);				\
	}								\
									\
	static inline void name##_pair(priv_type *a, priv_type *b)	\
	{								\
		netdev_hold(b->member.raw, &a->member.peer_tracker, GFP_KERNEL); \
		rcu_assign_pointer(a->member.peer, b->member.raw);	\
		netdev_hold(a->member.raw, &b->member.peer_tracker, GFP_KERNEL); \
		rcu_assign_pointer(b->member.peer, a->member.raw);	\
	}

#endif /* SAFE_NET_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * family_net.h - the parts of the network family its unit tests reach: reading an
 * iperf3 -J report and the device counters of `ip -s -j link show`.
 */
#ifndef TWINBENCH_FAMILY_NET_H
#define TWINBENCH_FAMILY_NET_H

#include <stdbool.h>
#include <stddef.h>

/* What one iperf3 client run measured, from the receiving side where iperf3 has it. */
struct net_iperf3 {
	double seconds;		/* length of the measured transfer */
	double bps;		/* bits per second received */
	double packets;		/* UDP: datagrams received (sent - lost); TCP: 0 */
	double jitter_ms;	/* UDP only */
	double lost_pct;	/* UDP only */
};

/*
 * Parse the JSON report of an iperf3 client (-J). UDP reports may use the old field
 * names (total_packets, loss_percent) or the new ones (packets, lost_percent), with or
 * without end.sum_received. 0, or -1 with a reason (iperf3's own "error" if it gave one).
 */
int net_parse_iperf3(const char *text, bool udp, struct net_iperf3 *res, char *err, size_t len);

/* rx_packets of the one device in the output of `ip -s -j link show dev X`; -1 on failure. */
int net_parse_rx_packets(const char *text, unsigned long long *packets, char *err, size_t len);

/*
 * The inode of the socket listening on the iperf3 port in @tcp (a /proc/net/tcp table),
 * other than @not; 0 when there is none. The server opens a new one after each test.
 */
unsigned long net_listener_inode(const char *tcp, unsigned long not);

#endif /* TWINBENCH_FAMILY_NET_H */

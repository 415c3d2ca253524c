// SPDX-License-Identifier: GPL-2.0
/*
 * udpcheck: does a UDP payload cross a device pair intact?
 *
 * The client sends datagrams of the given sizes, each carrying a sequence number and a byte
 * pattern derived from it; the server checks every datagram and echoes it back; the client
 * checks the echo byte for byte. One datagram is in flight at a time, so a loss is a real
 * loss, not an overrun. iperf3 counts packets but never looks at their bytes; this does.
 *
 *   udpcheck server -a ADDR -p PORT -n COUNT [-w SECONDS]
 *   udpcheck client -a ADDR -p PORT -n COUNT [-s SIZE,SIZE,...] [-w SECONDS]
 *
 * Exit status 0 only when all COUNT datagrams were checked intact (server: received intact;
 * client: echoed intact).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDPCHECK_MAGIC		0x75647063u	/* "udpc" */
#define UDPCHECK_HDR_LEN	12
#define UDPCHECK_MAX_LEN	65507
#define UDPCHECK_MAX_SIZES	64
#define UDPCHECK_RETRIES	3

struct udpcheck_opts {
	bool server;
	const char *addr;
	const char *port;
	long count;
	long wait_s;
	size_t sizes[UDPCHECK_MAX_SIZES];
	int nr_sizes;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: udpcheck server -a ADDR -p PORT -n COUNT [-w SECONDS]\n"
		"       udpcheck client -a ADDR -p PORT -n COUNT [-s SIZE,...] [-w SECONDS]\n"
		"sizes are UDP payload bytes, %d..%d (default 64,512,1472)\n",
		UDPCHECK_HDR_LEN, UDPCHECK_MAX_LEN);
}

static int parse_long(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "udpcheck: option %s: '%s' is not a number in %ld..%ld\n",
			opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_sizes(const char *s, struct udpcheck_opts *o)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int err = 0;
	long v;

	if (!copy)
		return -1;
	o->nr_sizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nr_sizes == UDPCHECK_MAX_SIZES) {
			fprintf(stderr, "udpcheck: option -s: more than %d sizes\n",
				UDPCHECK_MAX_SIZES);
			err = -1;
			break;
		}
		if (parse_long("-s", tok, UDPCHECK_HDR_LEN, UDPCHECK_MAX_LEN, &v)) {
			err = -1;
			break;
		}
		o->sizes[o->nr_sizes++] = (size_t)v;
	}
	if (!err && !o->nr_sizes) {
		fprintf(stderr, "udpcheck: option -s: no sizes given\n");
		err = -1;
	}
	free(copy);
	return err;
}

static int parse_args(int argc, char **argv, struct udpcheck_opts *o)
{
	int opt;

	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		usage(stderr);
		return -1;
	}
	o->server = !strcmp(argv[1], "server");
	o->wait_s = 2;
	o->sizes[0] = 64;
	o->sizes[1] = 512;
	o->sizes[2] = 1472;
	o->nr_sizes = 3;
	optind = 2;
	while ((opt = getopt(argc, argv, "a:p:n:s:w:h")) != -1) {
		switch (opt) {
		case 'a':
			o->addr = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'n':
			if (parse_long("-n", optarg, 1, 100000000, &o->count))
				return -1;
			break;
		case 's':
			if (parse_sizes(optarg, o))
				return -1;
			break;
		case 'w':
			if (parse_long("-w", optarg, 1, 3600, &o->wait_s))
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "udpcheck: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->addr || !o->port || !o->count) {
		fprintf(stderr, "udpcheck: -a ADDR, -p PORT and -n COUNT are required\n");
		return -1;
	}
	return 0;
}

/* Payload byte i of datagram seq: varies with both, so shifted or swapped bytes show. */
static uint8_t pattern_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8) + 1u);
}

static void fill_datagram(uint8_t *buf, uint32_t seq, size_t len)
{
	uint32_t hdr[3] = { htonl(UDPCHECK_MAGIC), htonl(seq), htonl((uint32_t)len) };
	size_t i;

	memcpy(buf, hdr, sizeof(hdr));
	for (i = UDPCHECK_HDR_LEN; i < len; i++)
		buf[i] = pattern_byte(seq, i);
}

/* Checks one datagram; returns its sequence number, or -1 after saying what is wrong. */
static long check_datagram(const uint8_t *buf, size_t len)
{
	uint32_t hdr[3];
	uint32_t seq;
	size_t i;

	if (len < UDPCHECK_HDR_LEN) {
		fprintf(stderr, "udpcheck: runt datagram of %zu bytes\n", len);
		return -1;
	}
	memcpy(hdr, buf, sizeof(hdr));
	seq = ntohl(hdr[1]);
	if (ntohl(hdr[0]) != UDPCHECK_MAGIC || ntohl(hdr[2]) != len) {
		fprintf(stderr, "udpcheck: datagram %u: bad header (length %zu, header says %u)\n",
			seq, len, ntohl(hdr[2]));
		return -1;
	}
	for (i = UDPCHECK_HDR_LEN; i < len; i++) {
		if (buf[i] != pattern_byte(seq, i)) {
			fprintf(stderr, "udpcheck: datagram %u: byte %zu is 0x%02x, expected 0x%02x\n",
				seq, i, buf[i], pattern_byte(seq, i));
			return -1;
		}
	}
	return seq;
}

static int open_socket(const struct udpcheck_opts *o, struct sockaddr_storage *peer,
		       socklen_t *peer_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	int fd, err;

	if (o->server)
		hints.ai_flags |= AI_PASSIVE;
	err = getaddrinfo(o->addr, o->port, &hints, &ai);
	if (err) {
		fprintf(stderr, "udpcheck: -a %s -p %s: %s\n", o->addr, o->port,
			gai_strerror(err));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpcheck: socket");
	} else if (o->server && bind(fd, ai->ai_addr, ai->ai_addrlen)) {
		fprintf(stderr, "udpcheck: bind %s port %s: %s\n", o->addr, o->port,
			strerror(errno));
		close(fd);
		fd = -1;
	} else {
		memcpy(peer, ai->ai_addr, ai->ai_addrlen);
		*peer_len = ai->ai_addrlen;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Waits up to wait_ms for a datagram; returns its length, 0 on timeout, -1 on error. */
static ssize_t receive(int fd, uint8_t *buf, int wait_ms, struct sockaddr_storage *from,
		       socklen_t *from_len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ready;

	ready = poll(&pfd, 1, wait_ms);
	if (ready < 0) {
		perror("udpcheck: poll");
		return -1;
	}
	if (!ready)
		return 0;
	*from_len = sizeof(*from);
	n = recvfrom(fd, buf, UDPCHECK_MAX_LEN, 0, (struct sockaddr *)from, from_len);
	if (n < 0)
		perror("udpcheck: recvfrom");
	return n;
}

static int run_server(int fd, const struct udpcheck_opts *o, uint8_t *buf)
{
	struct sockaddr_storage from;
	long intact = 0, corrupt = 0;
	socklen_t from_len;
	ssize_t n;

	while (intact + corrupt < o->count) {
		n = receive(fd, buf, (int)o->wait_s * 1000, &from, &from_len);
		if (n <= 0)
			break;
		if (check_datagram(buf, (size_t)n) < 0) {
			corrupt++;
			continue;
		}
		intact++;
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, from_len) != n) {
			perror("udpcheck: sendto");
			break;
		}
	}
	printf("udpcheck server: %ld of %ld datagrams intact, %ld corrupt\n", intact, o->count,
	       corrupt);
	return intact == o->count ? 0 : 1;
}

/* Waits for the echo of datagram seq, skipping late echoes of earlier (resent) ones. */
static ssize_t receive_echo(int fd, uint8_t *echo, long seq, int wait_ms)
{
	struct sockaddr_storage from;
	socklen_t from_len;
	ssize_t n;
	long got;

	for (;;) {
		n = receive(fd, echo, wait_ms, &from, &from_len);
		if (n <= 0)
			return n;
		got = check_datagram(echo, (size_t)n);
		if (got < 0 || got >= seq)
			return n;
	}
}

static int run_client(int fd, const struct udpcheck_opts *o, const struct sockaddr *to,
		      socklen_t to_len, uint8_t *buf, uint8_t *echo)
{
	long intact = 0, corrupt = 0, lost = 0, retries = 0, seq;
	size_t len;
	ssize_t n;
	int tries;

	for (seq = 0; seq < o->count; seq++) {
		len = o->sizes[seq % o->nr_sizes];
		fill_datagram(buf, (uint32_t)seq, len);
		for (tries = 0, n = 0; tries < UDPCHECK_RETRIES && n == 0; tries++) {
			if (sendto(fd, buf, len, 0, to, to_len) != (ssize_t)len) {
				fprintf(stderr, "udpcheck: sendto of %zu bytes: %s\n", len,
					strerror(errno));
				return 1;
			}
			n = receive_echo(fd, echo, seq, (int)o->wait_s * 1000);
			retries += tries > 0;
		}
		if (n < 0)
			return 1;
		if (n == 0)
			lost++;
		else if ((size_t)n != len || memcmp(buf, echo, len))
			corrupt++;
		else
			intact++;
	}
	printf("udpcheck client: %ld of %ld datagrams echoed intact, %ld corrupt, %ld lost, "
	       "%ld resent\n", intact, o->count, corrupt, lost, retries);
	return intact == o->count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct udpcheck_opts opts = { 0 };
	struct sockaddr_storage peer;
	socklen_t peer_len = 0;
	uint8_t *buf, *echo;
	int fd, rc;

	if (parse_args(argc, argv, &opts))
		return 2;
	buf = malloc(UDPCHECK_MAX_LEN);
	echo = malloc(UDPCHECK_MAX_LEN);
	if (!buf || !echo) {
		fprintf(stderr, "udpcheck: out of memory\n");
		return 1;
	}
	fd = open_socket(&opts, &peer, &peer_len);
	if (fd < 0) {
		rc = 1;
	} else {
		if (opts.server)
			rc = run_server(fd, &opts, buf);
		else
			rc = run_client(fd, &opts, (struct sockaddr *)&peer, peer_len, buf, echo);
		close(fd);
	}
	free(echo);
	free(buf);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged local program can do to the family through socket
 * calls alone, and what it must not get from it: IP options that are freed
 * with the socket and carried on every segment (a source route's first
 * hop is where connect() routes), multicast groups refused
 * or left on close, the identity of accepted sockets, and ephemeral ports
 * that reveal no counter shared between destinations (RFC 6056
 * algorithm 4).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <net/if.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

/* 40 bytes of options: record route with room for 9 addresses, then EOL. */
static void rr_options(unsigned char *opt)
{
	memset(opt, 0, 40);
	opt[0] = IPOPT_RR;
	opt[1] = 39;
	opt[2] = 4;
}

static long meminfo_kb(const char *field)
{
	char line[128];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, n) && line[n] == ':') {
			kb = atol(line + n + 1);
			break;
		}
	}
	fclose(f);
	return kb;
}

#define OPT_LOOPS	100000

/* Tests of many rounds get more than the harness's 30 s under TCG. */
FIXTURE(loop) {};
FIXTURE_SETUP(loop) {}
FIXTURE_TEARDOWN(loop) {}

/*
 * IP_OPTIONS then close, 100000 times: each set allocates the options
 * (more than 64 bytes with 40 bytes of options, 6 MB over the loop), and
 * the socket's destructor must free them. Slab usage stays within 2 MB.
 */
TEST_F_TIMEOUT(loop, ip_options_freed_on_close, 180)
{
	unsigned char opt[40];
	struct timespec t0, t1;
	long before, after;
	int i, fd;

	rr_options(opt);
	/* Warm the caches the loop uses. */
	for (i = 0; i < 1000; i++) {
		fd = sock_new(0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, setsockopt(fd, SOL_IP, IP_OPTIONS, opt,
					sizeof(opt))) TH_LOG("%s", strerror(errno));
		close(fd);
	}
	sleep(1);
	before = meminfo_kb("Slab");
	ASSERT_LT(0, before);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < OPT_LOOPS; i++) {
		fd = sock_new(0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, setsockopt(fd, SOL_IP, IP_OPTIONS, opt,
					sizeof(opt)));
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Options and sockets go after an RCU grace period. */
	sleep(2);
	after = meminfo_kb("Slab");
	TH_LOG("Slab %ld kB before, %ld kB after %d loops of %ld s", before,
	       after, OPT_LOOPS, (long)(t1.tv_sec - t0.tv_sec));
	EXPECT_GT(2048, after - before);
}

/* Both sides of a loopback connection, lo's MTU 1500. */
static void small_lo(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, run("ip link set lo mtu 1500"));
}

/* One segment per datagram: lo takes no super-packets (both stacks). */
static void lo_no_gso(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, run("ethtool -K lo gso off tso off >/dev/null"));
}

#define XFER	(200 * 1024)

/*
 * IP options set before connect() are on every segment the socket sends,
 * SYN included, and segments make room for them: 200 KB arrive whole, and
 * with lo's MTU at 1500 (and no segmentation offload, so that each
 * datagram is one segment) none is longer. A raw socket of the wire
 * protocol sees the datagrams.
 */
TEST(ip_options_on_the_wire)
{
	int raw, c, s, l, one = 1;
	unsigned char opt[40], pkt[2048];
	struct taddr a;
	char *buf, *got;
	long long sent = 0, rcvd = 0;
	uint16_t cport;
	int n, seen = 0, with_data = 0, longest = 0;
	struct timeval tv = { .tv_sec = 1 };

	small_lo(_metadata);
	lo_no_gso(_metadata);
	raw = socket(AF_INET, SOCK_RAW, PROTO);
	ASSERT_LE(0, raw) TH_LOG("raw socket: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	n = 4 << 20;
	setsockopt(raw, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n));

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, l);
	c = sock_new(0);
	ASSERT_LE(0, c);
	rr_options(opt);
	ASSERT_EQ(0, setsockopt(c, SOL_IP, IP_OPTIONS, opt, sizeof(opt)));
	ASSERT_EQ(0, connect(c, &a.sa, TADDR_LEN)) TH_LOG("%s", strerror(errno));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	cport = local_port(c);
	setsockopt(c, SOL_PROTO, CFTCP_NODELAY, &one, sizeof(one));

	buf = malloc(XFER);
	got = malloc(XFER);
	ASSERT_TRUE(buf && got);
	for (n = 0; n < XFER; n++)
		buf[n] = 'a' + n % 26;
	while (rcvd < XFER) {
		struct pollfd p[2] = {
			{ .fd = c, .events = sent < XFER ? POLLOUT : 0 },
			{ .fd = s, .events = POLLIN },
		};

		ASSERT_LT(0, poll(p, 2, WAIT_MS)) TH_LOG("stalled at %lld",
							rcvd);
		if (p[0].revents & POLLOUT) {
			n = send(c, buf + sent, XFER - sent, MSG_DONTWAIT);
			ASSERT_LT(0, n);
			sent += n;
		}
		if (p[1].revents & POLLIN) {
			n = recv(s, got + rcvd, XFER - rcvd, MSG_DONTWAIT);
			ASSERT_LT(0, n);
			rcvd += n;
		}
	}
	EXPECT_EQ(0, memcmp(buf, got, XFER));

	/* What the raw socket kept of the client's datagrams. */
	while ((n = recv(raw, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0) {
		struct iphdr *ip = (struct iphdr *)pkt;
		int ihl = ip->ihl, tot = ntohs(ip->tot_len);
		unsigned char *l4 = pkt + ihl * 4;

		if (n < ihl * 4 + 4 || ((l4[0] << 8) | l4[1]) != cport)
			continue;
		seen++;
		EXPECT_EQ(15, ihl);
		EXPECT_EQ(IPOPT_RR, pkt[20]);
		if (tot > longest)
			longest = tot;
		/* IP header, transport header with room for its options */
		if (tot > 60 + 60)
			with_data++;
	}
	TH_LOG("%d datagrams of the client seen, %d with data, longest %d",
	       seen, with_data, longest);
	EXPECT_LT(0, seen);
	EXPECT_LT(0, with_data);
	EXPECT_GE(1500, longest);
	free(buf);
	free(got);
	close(c);
	close(s);
	close(l);
	close(raw);
}

/*
 * A loose source route in IP_OPTIONS: connect() routes to its first hop,
 * here an address no route leads to, so it fails with ENETUNREACH, though
 * the destination itself (a listener on 127.0.0.1) is reachable.
 */
TEST(ip_options_source_route_first_hop)
{
	unsigned char opt[8] = { IPOPT_LSRR, 7, 4, 10, 255, 255, 1,
				 IPOPT_END };
	struct taddr a;
	int l, c;

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, l);
	c = sock_new(0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(c, SOL_IP, IP_OPTIONS, opt, sizeof(opt)))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, connect(c, &a.sa, TADDR_LEN));
	EXPECT_EQ(ENETUNREACH, errno);
	close(c);
	close(l);
}

/* Whether /proc/net/igmp lists @group (host order) on any device. */
static int igmp_has(uint32_t group)
{
	char line[256], want[16];
	int found = 0;
	FILE *f;

	/* The group as the file prints it: its network-order bytes as an
	 * integer of this (little-endian) machine.
	 */
	snprintf(want, sizeof(want), "%08X", (unsigned int)htonl(group));
	f = fopen("/proc/net/igmp", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want))
			found = 1;
	fclose(f);
	return found;
}

#define GROUP	0xef010203	/* 239.1.2.3 */

/*
 * IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP: EPROTO, as Linux answers for
 * its connection-oriented sockets. MCAST_JOIN_GROUP succeeds (Linux TCP
 * takes it) and the group is left when the socket is closed.
 */
TEST(multicast_groups)
{
	struct ip_mreqn mreq = {};
	struct group_req gr = {};
	struct sockaddr_in *g = (struct sockaddr_in *)&gr.gr_group;
	int fd;

	ASSERT_EQ(0, igmp_has(GROUP));
	fd = sock_new(0);
	ASSERT_LE(0, fd);
	mreq.imr_multiaddr.s_addr = htonl(GROUP);
	mreq.imr_ifindex = if_nametoindex("lo");
	EXPECT_EQ(-1, setsockopt(fd, SOL_IP, IP_ADD_MEMBERSHIP, &mreq,
				 sizeof(mreq)));
	EXPECT_EQ(EPROTO, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_IP, IP_DROP_MEMBERSHIP, &mreq,
				 sizeof(mreq)));
	EXPECT_EQ(EPROTO, errno);
	EXPECT_EQ(0, igmp_has(GROUP));

	gr.gr_interface = if_nametoindex("lo");
	g->sin_family = AF_INET;
	g->sin_addr.s_addr = htonl(GROUP);
	ASSERT_EQ(0, setsockopt(fd, SOL_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr)))
		TH_LOG("MCAST_JOIN_GROUP: %s", strerror(errno));
	EXPECT_EQ(1, igmp_has(GROUP));
	close(fd);
	EXPECT_EQ(0, igmp_has(GROUP));
}

static int sockopt_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_SOCKET, opt, &val, &len))
		return -errno;
	return val;
}

/* An accepted socket is what socket() makes: a stream of the family. */
TEST(accepted_identity)
{
	int c, s, l, one = 1;

	ASSERT_EQ(0, connect_pair(&c, &s, &l));
	EXPECT_EQ(SOCK_STREAM, sockopt_int(s, SO_TYPE));
	EXPECT_EQ(PROTO, sockopt_int(s, SO_PROTOCOL));
	EXPECT_EQ(FAMILY, sockopt_int(s, SO_DOMAIN));
	EXPECT_EQ(0, sockopt_int(s, SO_ACCEPTCONN));
	EXPECT_EQ(SOCK_STREAM, sockopt_int(c, SO_TYPE));
	/* SOL_IP goes by the type too: no multicast TTL for a stream. */
	EXPECT_EQ(-1, setsockopt(s, SOL_IP, IP_MULTICAST_TTL, &one,
				 sizeof(one)));
	EXPECT_EQ(EINVAL, errno);
	close(c);
	close(s);
	close(l);
}

/* One connection to @a from an ephemeral port: the port; closed at once. */
static int connect_port(int l, struct taddr *a)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int c, s, port;

	c = sock_new(0);
	if (c < 0 || connect(c, &a->sa, TADDR_LEN))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return -1;
	port = local_port(c);
	/* A reset, so that no TIME_WAIT holds the port. */
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	close(s);
	return port;
}

#define BETWEEN	40
#define TRIALS	5

/*
 * RFC 6056 algorithm 4: one port to A, BETWEEN connections to B, one more
 * to A. With one counter for every destination (algorithm 3), the second
 * port to A is about 2 * (BETWEEN + 1) past the first; with a counter per
 * hash bucket it is at most 16 past it (the random step), or anywhere
 * when the 10 s shuffle of the hash passed between them. At most one
 * trial of TRIALS may land where a shared counter would put it.
 */
TEST_F_TIMEOUT(loop, ephemeral_ports_per_destination, 180)
{
	struct taddr a, b;
	int la, lb, t, i, lo, hi, range, shared = 0;
	FILE *f;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(2, fscanf(f, "%d %d", &lo, &hi));
	fclose(f);
	range = hi - lo + 1;
	la = listener("127.0.0.1", 0, 64, &a);
	lb = listener("127.0.0.1", 0, 64, &b);
	ASSERT_LE(0, la);
	ASSERT_LE(0, lb);
	for (t = 0; t < TRIALS; t++) {
		int p1, p2, delta;

		p1 = connect_port(la, &a);
		ASSERT_LT(0, p1) TH_LOG("connect: %s", strerror(errno));
		for (i = 0; i < BETWEEN; i++)
			ASSERT_LT(0, connect_port(lb, &b));
		p2 = connect_port(la, &a);
		ASSERT_LT(0, p2);
		delta = ((p2 - p1) % range + range) % range;
		TH_LOG("trial %d: %d then %d, delta %d", t, p1, p2, delta);
		if (delta >= 2 * BETWEEN - 16 && delta <= 2 * BETWEEN + 20)
			shared++;
	}
	EXPECT_GE(1, shared);
	close(la);
	close(lb);
}

TEST_HARNESS_MAIN

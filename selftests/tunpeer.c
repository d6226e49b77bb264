// SPDX-License-Identifier: GPL-2.0
/*
 * tunpeer: plays the peer of one cftcp connection behind a tun device that
 * offers offloads (IFF_VNET_HDR, TUNSETOFFLOAD), and checks what a device
 * driver is handed: every packet one segment no larger than the MSS, no
 * GSO request in the virtio_net_hdr, a checksum that is right (finished
 * as a device would where the header asks for it), sequence numbers and
 * data in order, PSH and FIN only on the last data segment.
 *
 *   tunpeer -i IFNAME [-o csum,tso4] -n LEN -w WRITE [-t SECS]
 *
 * Creates IFNAME and prints "ready"; the caller gives it 10.9.0.1/24,
 * connects to 10.9.0.2 (any port), sends LEN bytes in send() calls of
 * WRITE bytes, each 'A' + i % 26 (sockctl's "send"), each gone before
 * the next is made, then closes: each write leaves as one super-packet
 * with PSH, and PSH must end every write and nothing else. The SYN-ACK offers MSS 1460 and a 64 KiB window
 * without scaling, so that what is in flight fits the tun's queue and
 * nothing is lost. Every segment must come with its checksum complete:
 * VIRTIO_NET_HDR_F_NEEDS_CSUM would ask the device to sum a protocol-253
 * packet, which a device might take for TCP. Prints the counts; exit 0 if
 * everything held, 1 if not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "inet_csum.h"

#define PROTO		253
#define MSS		1460
#define MTU		1500
#define ISS		1000000u

struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff_res, flags;
	uint16_t win, check, urg;
} __attribute__((packed));

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

static int fd;
static unsigned long failures;

static void bad(const char *what, unsigned long n)
{
	if (failures++ < 10)
		printf("tunpeer: %s (%lu)\n", what, n);
}

/* Sum of the IPv4 pseudo-header and the segment at @th of @len bytes. */
static uint16_t seg_sum(const struct iphdr *iph, const void *th, size_t len)
{
	uint32_t sum = csum_add_bytes(&iph->saddr, 8, 0);

	sum += PROTO + len;
	return csum_fold16(csum_add_bytes(th, len, sum));
}

static void reply(const struct iphdr *in, const struct seg *ith, uint32_t seq,
		  uint32_t ack, uint8_t flags)
{
	unsigned char buf[sizeof(struct virtio_net_hdr) + 20 + 24] = { 0 };
	struct iphdr *iph = (void *)(buf + sizeof(struct virtio_net_hdr));
	struct seg *th = (void *)(iph + 1);
	unsigned char *opt = (unsigned char *)(th + 1);
	size_t thlen = flags & F_SYN ? 24 : 20;

	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(20 + thlen);
	iph->ttl = 64;
	iph->protocol = PROTO;
	iph->saddr = in->daddr;
	iph->daddr = in->saddr;
	iph->check = htons(~csum_fold16(csum_add_bytes(iph, 20, 0)));
	th->sport = ith->dport;
	th->dport = ith->sport;
	th->seq = htonl(seq);
	th->ack = htonl(ack);
	th->doff_res = (thlen / 4) << 4;
	th->flags = flags | F_ACK;
	th->win = htons(65535);
	if (flags & F_SYN)
		memcpy(opt, "\x02\x04\x05\xb4", 4);	/* MSS 1460 */
	th->check = htons(~seg_sum(iph, th, thlen));
	if (write(fd, buf, sizeof(struct virtio_net_hdr) + 20 + thlen) < 0)
		bad("write", errno);
}

int main(int argc, char **argv)
{
	unsigned long len = 0, needs_csum = 0, data_segs = 0;
	unsigned long psh = 0, pkts = 0, rtx = 0, wsize = 0;
	const char *ifname = NULL, *offload = "";
	uint32_t irs = 0, next = 0, fin_seq = 0;
	int secs = 60, opt, synced = 0, fin = 0, ack_due = 0, psh_last = 0;
	struct iphdr last_ip;
	struct seg last_th;
	struct ifreq ifr = { 0 };
	unsigned char buf[70000];
	time_t end;

	while ((opt = getopt(argc, argv, "i:o:n:w:t:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'o': offload = optarg; break;
		case 'n': len = strtoul(optarg, NULL, 0); break;
		case 'w': wsize = strtoul(optarg, NULL, 0); break;
		case 't': secs = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!ifname || !len || !wsize)
		return 2;
	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0) {
		perror("/dev/net/tun");
		return 2;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		return 2;
	}
	if (ioctl(fd, TUNSETOFFLOAD,
		  (strstr(offload, "csum") ? TUN_F_CSUM : 0) |
		  (strstr(offload, "tso4") ? TUN_F_TSO4 : 0)) < 0) {
		perror("TUNSETOFFLOAD");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);

	fcntl(fd, F_SETFL, O_NONBLOCK);
	end = time(NULL) + secs;
	while (!fin && time(NULL) < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct virtio_net_hdr *vh = (void *)buf;
		struct iphdr *iph = (void *)(vh + 1);
		unsigned char *p;
		struct seg *th;
		size_t n, ihl, plen, tot;
		uint32_t seq, off;
		ssize_t r;

		/* One ACK for all that was queued, so that the window opens
		 * by more than a segment at a time.
		 */
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EAGAIN) {
			if (ack_due) {
				reply(&last_ip, &last_th, ISS + 1, next, 0);
				ack_due = 0;
			}
			poll(&pfd, 1, 1000);
			continue;
		}
		if (r < (ssize_t)(sizeof(*vh) + 20 + 20))
			continue;
		n = r - sizeof(*vh);
		if (iph->version != 4 || iph->protocol != PROTO)
			continue;
		pkts++;
		ihl = iph->ihl * 4;
		tot = ntohs(iph->tot_len);
		if (tot != n || tot > MTU)
			bad("packet length", tot);
		if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE || vh->gso_size)
			bad("GSO request from the stack", vh->gso_type);
		th = (void *)((unsigned char *)iph + ihl);
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			uint16_t c;

			/* What a device does: sum from csum_start, store at
			 * csum_offset; the field holds the pseudo-header sum.
			 */
			if (vh->csum_start != ihl || vh->csum_offset != 16) {
				bad("csum_start/csum_offset", vh->csum_start);
				continue;
			}
			c = ~csum_fold16(csum_add_bytes(th, n - ihl, 0));
			th->check = htons(c);
			needs_csum++;
		}
		if (seg_sum(iph, th, n - ihl) != 0xffff)
			bad("checksum", pkts);
		plen = n - ihl - (th->doff_res >> 4) * 4;
		if (plen > MSS)
			bad("payload over the MSS", plen);
		seq = ntohl(th->seq);
		if (th->flags & F_SYN) {
			irs = seq;
			next = irs + 1;
			synced = 1;
			reply(iph, th, ISS, next, F_SYN);
			continue;
		}
		if (!synced)
			continue;
		if (plen) {
			data_segs++;
			p = (unsigned char *)th + (th->doff_res >> 4) * 4;
			if ((int32_t)(seq - next) < 0) {
				/* Sent again: our ACK was slow. */
				rtx++;
				if (next - seq >= plen) {
					reply(iph, th, ISS + 1, next, 0);
					continue;
				}
				p += next - seq;
				plen -= next - seq;
				seq = next;
			}
			if (seq != next) {
				bad("sequence gap", seq - next);
				continue;
			}
			off = seq - irs - 1;
			for (size_t i = 0; i < plen; i++)
				if (p[i] != 'A' + (off + i) % wsize % 26) {
					bad("data", off + i);
					break;
				}
			next += plen;
			if (th->flags & F_PSH) {
				psh++;
				psh_last = next - irs - 1 == len;
				if ((next - irs - 1) % wsize &&
				    next - irs - 1 != len)
					bad("PSH inside a write", next - irs - 1);
			}
			if (next - irs - 1 > len)
				bad("more data than sent", next - irs - 1);
		}
		if (th->flags & F_FIN) {
			if (seq + plen != next || next - irs - 1 != len)
				bad("FIN before the end", next - irs - 1);
			fin_seq = next;
			next++;
			fin = 1;
			reply(iph, th, ISS + 1, next, F_FIN);
			continue;
		}
		if (plen) {
			last_ip = *iph;
			last_th = *th;
			ack_due = 1;
		}
	}
	printf("tunpeer: %lu packets, %lu data segments (%lu again), %lu with NEEDS_CSUM, %lu with PSH, %u bytes, FIN %s\n",
	       pkts, data_segs, rtx, needs_csum, psh,
	       synced ? next - irs - 1 - fin : 0, fin ? "seen" : "missing");
	if (!fin || fin_seq - irs - 1 != len)
		bad("stream incomplete", fin ? fin_seq - irs - 1 : 0);
	if (!psh_last || psh != (len + wsize - 1) / wsize)
		bad("PSH segments, want one per write", psh);
	if (needs_csum)
		bad("segments that asked the device for their checksum",
		    needs_csum);
	return failures ? 1 : 0;
}

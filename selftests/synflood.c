// SPDX-License-Identifier: GPL-2.0
/*
 * synflood: a bounded SYN flood made of raw frames, for the SYN cookie
 * tests. It sends COUNT SYNs, spread over SECS seconds, from random
 * addresses of 10.9.128.0/17 and random ports to DST_IP:DPORT; the DUT
 * routes that prefix back to this side, where no stack answers. It reads
 * nothing.
 *
 *   synflood -i IFACE -m DUT_MAC -d DST_IP -P DPORT -n COUNT -t SECS
 *            [-o IPPROTO] [-D SYNCDIR]
 *
 * With -D, the file "flooding" is made in SYNCDIR once a tenth of the SYNs
 * are out, and "flooded" when the last one is.
 * Exit status 0 when every SYN was sent, 2 for usage or system errors.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "inet_csum.h"

static const char *syncdir;

static void touch(const char *name)
{
	char path[512];
	FILE *f;

	if (!syncdir)
		return;
	snprintf(path, sizeof(path), "%s/%s", syncdir, name);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned char frame[sizeof(struct ether_header) + 20 + 24] = {0};
	struct ether_header *eh = (void *)frame;
	struct iphdr *iph = (void *)(frame + sizeof(*eh));
	unsigned char *th = (unsigned char *)(iph + 1);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char dut_mac[6];
	const char *ifname = NULL;
	int ipproto = 253, count = 0, secs = 0, dport = 0, opt, fd, i;
	uint32_t dst_ip = 0;
	struct timespec gap;
	struct ifreq ifr;
	long long ns;

	while ((opt = getopt(argc, argv, "i:m:d:P:n:t:o:D:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, dut_mac))
				goto usage;
			break;
		case 'd': dst_ip = inet_addr(optarg); break;
		case 'P': dport = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'o': ipproto = atoi(optarg); break;
		case 'D': syncdir = optarg; break;
		default: goto usage;
		}
	}
	/* Bounded on purpose: a test never floods for long. */
	if (!ifname || !dst_ip || dport <= 0 || count <= 0 || count > 100000 ||
	    secs < 0 || secs > 60)
		goto usage;

	/* Protocol 0: this socket receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("synflood: socket");
		return 2;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("synflood: interface");
		return 2;
	}
	memcpy(sll.sll_addr, dut_mac, 6);
	memcpy(eh->ether_dhost, dut_mac, 6);
	memcpy(eh->ether_shost, ifr.ifr_hwaddr.sa_data, 6);
	eh->ether_type = htons(ETHERTYPE_IP);

	srandom(time(NULL) ^ getpid());
	ns = (long long)secs * 1000000000LL / count;
	gap.tv_sec = ns / 1000000000LL;
	gap.tv_nsec = ns % 1000000000LL;
	for (i = 0; i < count; i++) {
		uint32_t saddr = htonl(0x0a098000 | (1 + random() % 0x7ffe));
		uint32_t sum;
		uint16_t c;

		iph->version = 4;
		iph->ihl = 5;
		iph->tot_len = htons(20 + 24);
		iph->frag_off = htons(IP_DF);
		iph->ttl = 64;
		iph->protocol = ipproto;
		iph->saddr = saddr;
		iph->daddr = dst_ip;
		iph->check = 0;
		iph->check = htons(~csum_fold16(csum_add_bytes(iph, 20, 0)) &
				   0xffff);

		memset(th, 0, 24);
		c = htons(1024 + random() % 64512);
		memcpy(th, &c, 2);
		c = htons(dport);
		memcpy(th + 2, &c, 2);
		sum = htonl(random());
		memcpy(th + 4, &sum, 4);
		th[12] = (24 / 4) << 4;
		th[13] = 0x02;			/* SYN */
		th[14] = 0xff;
		th[15] = 0xff;
		th[20] = 2;			/* MSS 1460 */
		th[21] = 4;
		th[22] = 1460 >> 8;
		th[23] = 1460 & 0xff;
		/* pseudo-header: addresses, protocol, length */
		sum = csum_add_bytes(&iph->saddr, 8, 0) + ipproto + 24;
		c = htons(~csum_fold16(csum_add_bytes(th, 24, sum)) & 0xffff);
		memcpy(th + 16, &c, 2);

		if (sendto(fd, frame, sizeof(frame), 0,
			   (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("synflood: sendto");
			return 2;
		}
		if (i + 1 == (count + 9) / 10)
			touch("flooding");
		if (ns)
			nanosleep(&gap, NULL);
	}
	touch("flooded");
	return 0;

usage:
	fprintf(stderr, "usage: synflood -i IFACE -m DUT_MAC -d DST_IP -P DPORT -n COUNT -t SECS [-o IPPROTO] [-D SYNCDIR]\n");
	return 2;
}

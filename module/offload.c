// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp segmentation offload: the gso_segment of protocol 253. A
 * super-packet (output.c) that reaches a device without CFTCP_GSO_TYPE
 * among its features, or netem, or ip_finish_output_gso() with too small
 * an MTU, is cut here into segments of gso_size bytes of payload, each
 * with its own sequence number, length and checksum, by skb_segment().
 * The headers of the first segment are copied to all; FIN and PSH stay on
 * the last segment only, CWR on the first only, as Linux's
 * tcp_gso_segment() treats TCP's.
 *
 * Checksums: the super-packet's checksum field holds the pseudo-header sum
 * over its whole length. Each segment gets the sum for its own length;
 * where the device has NETIF_F_HW_CSUM the segments stay CHECKSUM_PARTIAL
 * for it to finish, otherwise skb_segment() sums their payload and the
 * checksum is completed here (CHECKSUM_NONE), so that no device with only
 * NETIF_F_IP_CSUM is asked to checksum a protocol it may take for TCP.
 *
 * Anything this is given may come from elsewhere (a packet socket, a
 * tun device, a forwarded GSO skb): the header is checked before use, and
 * a gso_type that names another transport is refused.
 */
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <net/protocol.h>
#include <net/ip.h>
#include <net/checksum.h>

#include "cftcp.h"

/* gso_type bits that would mean the skb is not ours to segment. */
#define CFTCP_GSO_FOREIGN	(SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_UDP | \
				 SKB_GSO_UDP_L4 | SKB_GSO_FRAGLIST | \
				 SKB_GSO_PARTIAL | SKB_GSO_TCP_FIXEDID)

/*
 * Complement of the pseudo-header sum of a segment of @len bytes: its
 * checksum field holds the sum itself until the rest is added.
 */
static __sum16 cftcp_gso_pseudo(__be32 saddr, __be32 daddr, u8 proto,
				u32 len)
{
	return csum_tcpudp_magic(saddr, daddr, len, proto, 0);
}

static struct sk_buff *cftcp_gso_segment(struct sk_buff *skb,
					 netdev_features_t features)
{
	unsigned int type = skb_shinfo(skb)->gso_type;
	struct sk_buff *segs = ERR_PTR(-EINVAL), *seg;
	unsigned int thlen, mss;
	__be32 saddr, daddr;
	struct cftcphdr *th;
	__sum16 magic;
	u8 proto;
	u32 seq;

	if ((type & CFTCP_GSO_TYPE) != CFTCP_GSO_TYPE ||
	    (type & CFTCP_GSO_FOREIGN))
		goto out;
	if (!pskb_may_pull(skb, sizeof(*th)))
		goto out;
	thlen = cftcp_hdr(skb)->doff * 4;
	if (thlen < sizeof(*th) || !pskb_may_pull(skb, thlen))
		goto out;
	th = cftcp_hdr(skb);
	saddr = ip_hdr(skb)->saddr;
	daddr = ip_hdr(skb)->daddr;
	proto = ip_hdr(skb)->protocol;
	if (th->syn || th->rst)
		goto out;

	if (skb->ip_summed != CHECKSUM_PARTIAL) {
		/* A forwarded or injected super-packet: seed it as ours are. */
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct cftcphdr, check);
		th->check = ~cftcp_gso_pseudo(saddr, daddr, proto, skb->len);
	} else if (skb_checksum_start(skb) != skb_transport_header(skb) ||
		   skb->csum_offset != offsetof(struct cftcphdr, check)) {
		goto out;
	}

	mss = skb_shinfo(skb)->gso_size;
	if (!mss || mss == GSO_BY_FRAGS || skb->len - thlen <= mss)
		goto out;

	if ((type & SKB_GSO_DODGY) &&
	    skb_gso_ok(skb, features | NETIF_F_GSO_ROBUST)) {
		/* The device segments it; only gso_segs is not trusted. */
		skb_shinfo(skb)->gso_segs = DIV_ROUND_UP(skb->len - thlen, mss);
		segs = NULL;
		goto out;
	}

	features &= ~NETIF_F_GSO_PARTIAL;
	if (!(features & NETIF_F_HW_CSUM))
		features &= ~NETIF_F_CSUM_MASK;

	seq = ntohl(th->seq);
	__skb_pull(skb, thlen);
	segs = skb_segment(skb, features);
	if (IS_ERR(segs))
		goto out;

	for (seg = segs; seg; seg = seg->next) {
		u32 len = seg->len - skb_transport_offset(seg);

		th = cftcp_hdr(seg);
		th->seq = htonl(seq);
		seq += len - thlen;
		if (seg != segs)
			th->cwr = 0;
		if (seg->next) {
			th->fin = 0;
			th->psh = 0;
		}
		magic = cftcp_gso_pseudo(saddr, daddr, proto, len);
		th->check = ~magic;
		if (seg->ip_summed == CHECKSUM_PARTIAL)
			gso_reset_checksum(seg, csum_unfold(magic));
		else
			th->check = gso_make_checksum(seg, csum_unfold(magic));
	}
out:
	return segs;
}

static const struct net_offload cftcp_offload = {
	.callbacks = {
		.gso_segment	= cftcp_gso_segment,
	},
};

int cftcp_offload_init(void)
{
	/* inet_add_offload() returns -1, not an errno, when taken. */
	return inet_add_offload(&cftcp_offload, cftcp_ipproto) ? -EEXIST : 0;
}

/* inet_del_offload() waits for the segmentations under way. */
void cftcp_offload_exit(void)
{
	inet_del_offload(&cftcp_offload, cftcp_ipproto);
}

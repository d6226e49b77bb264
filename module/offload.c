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
 * over its whole length. skb_segment() sums each segment's payload (as it
 * copies it where the device has no SG) and the checksum is completed here
 * (CHECKSUM_NONE), whatever checksum offload the device offers: the device
 * that segments may be a bridge, bond or veth with NETIF_F_HW_CSUM that
 * hands the segments on to a NIC with only NETIF_F_IP_CSUM, which
 * skb_csum_hwoffload_help() lets take a CHECKSUM_PARTIAL skb whose
 * csum_offset is TCP's, and which may checksum it as TCP. No device is
 * ever asked to checksum a protocol-253 segment.
 *
 * Anything this is given may come from elsewhere (a packet socket, a
 * tun device, a forwarded GSO skb): the header is checked before use, and
 * a gso_type that names another transport is refused.
 *
 * GRO, the other way: segments of one connection that a NIC's NAPI poll
 * takes in back to back are chained into one skb before IP hands them up
 * (as tcp_gro_receive() does TCP's), so the receiver handles one 64 KB
 * skb where it had forty segments. Only segments that differ in nothing
 * but sequence number and length are merged: the same ports, ACK number,
 * window, options and flags, in order, each a full segment of the first
 * one's size, each with a valid checksum (checked here when the NIC did
 * not). A segment with SYN, RST, URG, PSH or FIN, or a short one, ends the
 * chain. The result is a super-packet as output.c builds them
 * (CFTCP_GSO_TYPE, CHECKSUM_PARTIAL): cftcp's input takes it as it takes
 * one from veth, and a router that forwards it segments it here again.
 * Merged segments hang on the first one's frag_list; their headers are
 * pulled, their memory stays charged to the result. A host that forwards
 * such a chain inherits output.c's caveat on the MTU check: it counts 12
 * header bytes, not 20, so a next hop whose MTU is up to 8 bytes below the
 * segments' size gets them without "fragmentation needed" going back.
 */
#include <linux/delay.h>
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <net/protocol.h>
#include <net/ip.h>
#include <net/checksum.h>
#include <net/gro.h>

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
	/* Not the IP header's: under ESP transport-mode offload it still
	 * names ESP when xfrm4_transport_gso_segment() calls this.
	 */
	proto = cftcp_ipproto;
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

	features &= ~(NETIF_F_GSO_PARTIAL | NETIF_F_CSUM_MASK);

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

/* The header's fourth word: data offset, flags and window. */
static __be32 cftcp_flag_word(const struct cftcphdr *th)
{
	return ((const __be32 *)th)[3];
}

#define CFTCP_W_FIN	cpu_to_be32(0x00010000)
#define CFTCP_W_SYN	cpu_to_be32(0x00020000)
#define CFTCP_W_RST	cpu_to_be32(0x00040000)
#define CFTCP_W_PSH	cpu_to_be32(0x00080000)
#define CFTCP_W_URG	cpu_to_be32(0x00200000)
#define CFTCP_W_CWR	cpu_to_be32(0x00800000)

/*
 * Chain @skb, whose headers GRO has looked at, behind @p. Refused (and
 * @p ends) past the device's GRO size, or when the two skbs' pages are
 * not owned alike (page pool, zero-copy).
 */
static int cftcp_gro_chain(struct sk_buff *p, struct sk_buff *skb)
{
	struct skb_shared_info *si = skb_shinfo(skb);
	unsigned int offset = skb_gro_offset(skb);
	unsigned int headlen = skb_headlen(skb);
	unsigned int len = skb_gro_len(skb);
	struct sk_buff *last;

	if (p->pp_recycle != skb->pp_recycle || skb_zcopy(p) ||
	    skb_zcopy(skb))
		return -ETOOMANYREFS;
	/* IPv4's 16-bit length: never past 64 KB, whatever gro_max_size. */
	if (p->len + len >= min_t(u32, READ_ONCE(p->dev->gro_max_size),
				  GRO_LEGACY_MAX_SIZE) ||
	    NAPI_GRO_CB(skb)->flush)
		return -E2BIG;
	/* The headers GRO read in place in the first fragment. */
	if (offset > headlen &&
	    (!si->nr_frags || skb_frag_size(&si->frags[0]) < offset - headlen))
		return -EINVAL;

	skb->destructor = NULL;
	skb->sk = NULL;
	if (offset > headlen) {
		unsigned int eat = offset - headlen;

		skb_frag_off_add(&si->frags[0], eat);
		skb_frag_size_sub(&si->frags[0], eat);
		skb->data_len -= eat;
		skb->len -= eat;
		offset = headlen;
	}
	__skb_pull(skb, offset);

	last = NAPI_GRO_CB(p)->last;
	if (last == p)
		skb_shinfo(p)->frag_list = skb;
	else
		last->next = skb;
	NAPI_GRO_CB(p)->last = skb;
	__skb_header_release(skb);

	NAPI_GRO_CB(p)->count++;
	p->data_len += len;
	p->len += len;
	p->truesize += skb->truesize;
	skb_shinfo(p)->flags |= si->flags & SKBFL_SHARED_FRAG;
	NAPI_GRO_CB(skb)->same_flow = 1;
	return 0;
}

/* Set while the module goes: GRO then holds no segment of ours. */
static bool cftcp_gro_stopping;

static struct sk_buff *cftcp_gro_receive(struct list_head *head,
					 struct sk_buff *skb)
{
	struct cftcphdr *th, *th2;
	struct sk_buff *pp = NULL;
	unsigned int off, hlen, thlen, len, mss = 1, i;
	struct sk_buff *p;
	int flush = 1;
	__be32 flags;

	if (READ_ONCE(cftcp_gro_stopping))
		goto out;
	/* No use checking a segment that ends the chain anyway. */
	if (!NAPI_GRO_CB(skb)->flush &&
	    skb_gro_checksum_validate(skb, cftcp_ipproto,
				      inet_gro_compute_pseudo))
		goto out;

	off = skb_gro_offset(skb);
	hlen = off + sizeof(*th);
	th = skb_gro_header(skb, hlen, off);
	if (unlikely(!th))
		goto out;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th))
		goto out;
	hlen = off + thlen;
	if (skb_gro_header_hard(skb, hlen)) {
		th = skb_gro_header_slow(skb, hlen, off);
		if (unlikely(!th))
			goto out;
	}
	skb_gro_pull(skb, thlen);
	len = skb_gro_len(skb);
	flags = cftcp_flag_word(th);

	list_for_each_entry(p, head, list) {
		if (!NAPI_GRO_CB(p)->same_flow)
			continue;
		th2 = cftcp_hdr(p);
		if (th->source != th2->source || th->dest != th2->dest) {
			NAPI_GRO_CB(p)->same_flow = 0;
			continue;
		}
		goto found;
	}
	p = NULL;
	goto out_check_final;

found:
	flush = NAPI_GRO_CB(p)->flush;
	flush |= (__force int)(flags & CFTCP_W_CWR);
	flush |= (__force int)((flags ^ cftcp_flag_word(th2)) &
			       ~(CFTCP_W_CWR | CFTCP_W_FIN | CFTCP_W_PSH));
	flush |= (__force int)(th->ack_seq ^ th2->ack_seq);
	/* The same data offset (in the flag word): the same options. */
	for (i = sizeof(*th); !flush && i < thlen; i += 4)
		flush |= *(u32 *)((u8 *)th + i) ^ *(u32 *)((u8 *)th2 + i);
	/* The IP ID: fixed or counting, as the flow's second segment set. */
	if (NAPI_GRO_CB(p)->flush_id != 1 || NAPI_GRO_CB(p)->count != 1 ||
	    !NAPI_GRO_CB(p)->is_atomic)
		flush |= NAPI_GRO_CB(p)->flush_id;
	else
		NAPI_GRO_CB(p)->is_atomic = false;
	mss = skb_shinfo(p)->gso_size;
	/* One segment at a time, none longer than the first. */
	flush |= skb_is_gso(skb) || (len - 1) >= mss;
	flush |= (ntohl(th2->seq) + skb_gro_len(p)) ^ ntohl(th->seq);

	if (flush || cftcp_gro_chain(p, skb)) {
		mss = 1;
		goto out_check_final;
	}
	((__be32 *)th2)[3] |= flags & (CFTCP_W_FIN | CFTCP_W_PSH);

out_check_final:
	flush = len < mss || skb_is_gso(skb);
	flush |= (__force int)(flags & (CFTCP_W_URG | CFTCP_W_PSH |
					CFTCP_W_RST | CFTCP_W_SYN |
					CFTCP_W_FIN));
	if (p && (!NAPI_GRO_CB(skb)->same_flow || flush))
		pp = p;
out:
	NAPI_GRO_CB(skb)->flush |= (flush != 0);
	return pp;
}

/* A chain of more than one segment leaves GRO as a super-packet. */
static int cftcp_gro_complete(struct sk_buff *skb, int thoff)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct cftcphdr *th = (struct cftcphdr *)(skb->data + thoff);

	th->check = ~cftcp_gso_pseudo(iph->saddr, iph->daddr, iph->protocol,
				      skb->len - thoff);
	skb->csum_start = (unsigned char *)th - skb->head;
	skb->csum_offset = offsetof(struct cftcphdr, check);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb_shinfo(skb)->gso_type |= CFTCP_GSO_TYPE;
	skb_shinfo(skb)->gso_segs = NAPI_GRO_CB(skb)->count;
	if (skb->encapsulation)
		skb->inner_transport_header = skb->transport_header;
	return 0;
}

static const struct net_offload cftcp_offload = {
	.callbacks = {
		.gso_segment	= cftcp_gso_segment,
		.gro_receive	= cftcp_gro_receive,
		.gro_complete	= cftcp_gro_complete,
	},
};

int cftcp_offload_init(void)
{
	/* inet_add_offload() returns -1, not an errno, when taken. */
	return inet_add_offload(&cftcp_offload, cftcp_ipproto) ? -EEXIST : 0;
}

/*
 * inet_del_offload() waits for the segmentations under way. A chain GRO
 * still holds would reach inet_gro_complete() with no handler left (a
 * WARN): first GRO stops holding ours, then the chains held are given
 * time to leave (each poll's end flushes them; a device's
 * gro_flush_timeout, if set, keeps them until it runs out: 100 ms is
 * well past any used for moderation).
 */
void cftcp_offload_exit(void)
{
	WRITE_ONCE(cftcp_gro_stopping, true);
	synchronize_net();
	msleep(100);
	synchronize_net();
	inet_del_offload(&cftcp_offload, cftcp_ipproto);
}

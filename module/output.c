// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp output: segment building (RFC 9293 section 3.1 header, MSS and
 * window scale options, checksum over the IPv4 pseudo-header naming the
 * on-wire protocol), the send queue and what may leave it.
 *
 * The send queue is sk->sk_write_queue: skbs from the head up to
 * cs->send_head have been sent and wait for their ACK, cs->send_head and
 * after wait for the peer's window. There is no congestion window: the
 * peer's advertised window alone bounds what is in flight.
 *
 * A queued skb keeps only header room in its linear part; its payload is
 * in page fragments (the socket's page_frag, as Linux's tcp_sendmsg_locked()
 * fills them). Where the route allows it (sk_can_gso()) one skb holds many
 * segments' worth, up to sk_gso_max_size, half the largest window the peer
 * offered (Linux's tcp_bound_to_half_wnd()) and sk_gso_max_segs segments,
 * and is cut at the send window's edge; it leaves as one super-packet with
 * gso_size = MSS, CHECKSUM_PARTIAL and the pseudo-header sum in the
 * checksum field. Any other skb leaves with its checksum computed here
 * (CHECKSUM_NONE), so only super-packets ever carry CHECKSUM_PARTIAL.
 *
 * Super-packets carry gso_type CFTCP_GSO_TYPE, SKB_GSO_SCTP plus
 * SKB_GSO_TCP_ECN, and never SKB_GSO_TCPV4. What that buys, from net/core:
 *  - validate_xmit_skb() hands a GSO skb to the driver whole only if
 *    netif_needs_gso() is false, that is if skb_gso_ok() finds every bit of
 *    gso_type among the device's features (net_gso_ok()). The two bits are
 *    both in NETIF_F_GSO_SOFTWARE, which veth, loopback, bridges, bonds and
 *    other virtual devices advertise, so those pass super-packets on
 *    unsplit; no hardware driver advertises NETIF_F_GSO_SCTP, so on every
 *    NIC (and on tun, whose TUNSETOFFLOAD gives only TSO bits) the skb is
 *    segmented in software by skb_gso_segment() -> inet_gso_segment() ->
 *    inet_offloads[253], cftcp's own gso_segment (offload.c). No device
 *    ever sees a protocol-253 skb marked TCPV4, so none applies TCP
 *    segmentation or TCP's pseudo-header to it.
 *  - offload.c segments with NETIF_F_GSO_PARTIAL and every checksum
 *    feature masked: skb_segment() sums each segment in software and the
 *    segments leave CHECKSUM_NONE. A device with only NETIF_F_IP_CSUM
 *    would take a CHECKSUM_PARTIAL skb whose csum_offset is TCP's (16)
 *    without complaint (harmonize_features() checks the ethertype in
 *    can_checksum_protocol(), skb_csum_hwoffload_help() the offset) and
 *    might checksum it as TCP, and a bridge or bond with NETIF_F_HW_CSUM
 *    that segments may hand its segments on to such a NIC: so segments
 *    never carry CHECKSUM_PARTIAL, and only a super-packet, which no
 *    hardware takes whole, ever does.
 *  - cftcp_setup_caps() gives every route NETIF_F_GSO_SOFTWARE, as
 *    sk_setup_caps() does for TCP, so super-packets are built for any
 *    route (but xfrm's): a device without GSO gets them cut in software
 *    before its driver, and `ethtool -K dev gso off tso off` still puts one
 *    segment in each packet on the wire; `tx off` removes TSO and with it
 *    TSO_ECN (netdev_fix_features()), so super-packets are segmented in
 *    software with software checksums even on veth.
 *  - skb_gso_transport_seglen() counts 12 header bytes for SCTP, 8 fewer
 *    than ours: ip_finish_output_gso()'s MTU check never rejects a
 *    super-packet whose segments fit the MTU, but a namespace of the same
 *    host that forwards one (ip_forward()'s check) lets it pass to a next
 *    hop whose MTU is up to 8 bytes (more with options) below its
 *    segments' size, where Linux's TCP would answer "fragmentation
 *    needed".
 *
 * Functions taking a full socket expect its lock to be held (lock_sock, or
 * bh_lock_sock in softirq). Transmitted copies carry no socket reference,
 * so nothing in flight pins a socket or the module.
 */
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/checksum.h>
#include <net/dst.h>

#include "cftcp.h"
#include "trace/events/cftcp.h"

static __sum16 cftcp_csum(struct sk_buff *skb, __be32 saddr, __be32 daddr)
{
	__wsum csum = skb_checksum(skb, 0, skb->len, 0);

	return csum_tcpudp_magic(saddr, daddr, skb->len, cftcp_ipproto, csum);
}

/* Options of a SYN or SYN-ACK: MSS, then NOP + window scale if any. */
static void cftcp_write_syn_options(__be32 *ptr, u16 mss, bool wscale_ok,
				    u8 wscale)
{
	*ptr++ = htonl((CFTCP_OPT_MSS << 24) | (CFTCP_OPTLEN_MSS << 16) | mss);
	if (wscale_ok)
		*ptr = htonl((CFTCP_OPT_NOP << 24) | (CFTCP_OPT_WSCALE << 16) |
			     (CFTCP_OPTLEN_WSCALE << 8) | wscale);
}

static struct cftcphdr *cftcp_push_header(struct sk_buff *skb, __be16 sport,
					  __be16 dport, u32 seq, u32 ack,
					  u8 flags, u16 window, int optlen)
{
	struct cftcphdr *th;
	int len = CFTCP_HDR_LEN + optlen;

	th = skb_push(skb, len);
	skb_reset_transport_header(skb);
	memset(th, 0, len);
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	th->ack_seq = (flags & CFTCP_FLAG_ACK) ? htonl(ack) : 0;
	th->doff = len >> 2;
	th->fin = !!(flags & CFTCP_FLAG_FIN);
	th->syn = !!(flags & CFTCP_FLAG_SYN);
	th->rst = !!(flags & CFTCP_FLAG_RST);
	th->psh = !!(flags & CFTCP_FLAG_PSH);
	th->ack = !!(flags & CFTCP_FLAG_ACK);
	th->window = htons(window);
	return th;
}

/* The MSS a route's MTU allows. */
static u16 cftcp_dst_mss(const struct dst_entry *dst)
{
	return max_t(u32, dst_mtu(dst) - sizeof(struct iphdr) - CFTCP_HDR_LEN,
		     CFTCP_MIN_MSS);
}

u16 cftcp_route_mss(struct net *net, __be32 daddr, __be32 saddr)
{
	struct flowi4 fl4 = {};
	struct rtable *rt;
	u16 mss;

	flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE, cftcp_ipproto,
			   0, daddr, saddr, 0, 0, sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		return CFTCP_DEFAULT_MSS;
	mss = cftcp_dst_mss(&rt->dst);
	ip_rt_put(rt);
	return mss;
}

/* The MSS of a connection's own route, routing it first if need be. */
u16 cftcp_sk_route_mss(struct sock *sk)
{
	struct dst_entry *dst;

	cftcp_route_caps(sk);
	dst = __sk_dst_get(sk);
	if (!dst)
		return cftcp_route_mss(sock_net(sk), inet_sk(sk)->inet_daddr,
				       inet_sk(sk)->inet_saddr);
	return cftcp_dst_mss(dst);
}

/*
 * Send MSS: the peer's option, our route, and CFTCP_MAXSEG, whichever
 * least, less the IP options every segment carries (IP_OPTIONS).
 */
void cftcp_sync_mss(struct sock *sk, u16 peer_mss)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u16 mss = min(peer_mss, cs->rcv_mss);

	if (cs->user_mss)
		mss = min(mss, cs->user_mss);
	mss = mss > cs->ip_opt_len ? mss - cs->ip_opt_len : 0;
	cs->mss = max_t(u16, mss, CFTCP_MIN_MSS);
}

/*
 * Window scale we offer: enough to advertise the largest receive buffer
 * the socket may be given (as Linux does from tcp_rmem[2], 6 MB).
 */
u8 cftcp_choose_wscale(const struct sock *sk)
{
	u32 space = max_t(u32, READ_ONCE(sk->sk_rcvbuf), 6 << 20);
	u8 ws = 0;

	while (space > CFTCP_MAX_WINDOW && ws < CFTCP_MAX_WSCALE) {
		space >>= 1;
		ws++;
	}
	return ws;
}

u32 cftcp_initial_window(int rcvbuf, u8 wscale)
{
	return min_t(u32, rcvbuf / 2, CFTCP_MAX_WINDOW);
}

/* Receive space we are willing to promise: half the free buffer. */
u32 cftcp_free_space(const struct sock *sk)
{
	int space = READ_ONCE(sk->sk_rcvbuf) -
		    atomic_read(&sk->sk_rmem_alloc);

	return space > 0 ? space / 2 : 0;
}

/*
 * The window to advertise now, as the 16-bit field. The right edge never
 * moves left (RFC 9293 3.8.6.2.2: no shrinking), and a window under one
 * MSS is not opened in dribbles (receiver silly window avoidance).
 */
u32 cftcp_select_window(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 right = cs->rcv_wup + cs->rcv_wnd;
	u32 cur = seq_after(right, cs->rcv_nxt) ? right - cs->rcv_nxt : 0;
	u32 free = cftcp_free_space(sk);
	u32 max = CFTCP_MAX_WINDOW << cs->rcv_wscale;
	u32 step = min_t(u32, cs->rcv_mss, READ_ONCE(sk->sk_rcvbuf) / 4);
	u32 win;

	if (free < cur)
		win = cur;
	else if (free - cur < step && free < max)
		win = cur ?: (free >= step ? free : 0);
	else
		win = free;
	win = min(win, max);
	win = DIV_ROUND_UP(win, 1U << cs->rcv_wscale);
	win = min_t(u32, win, CFTCP_MAX_WINDOW);
	cs->rcv_wnd = win << cs->rcv_wscale;
	cs->rcv_wup = cs->rcv_nxt;
	return win;
}

/*
 * An ACK went out: no delayed ACK is owed. Its timer, if pending, is left
 * to fire into nothing or to wait for the due time of the next ACK owed
 * (cftcp_schedule_delack()) rather than deleted on every exchange. A
 * segment that acknowledges data owed an ACK uses up a quickack (Linux's
 * tcp_dec_quickack_mode()), whether it went at once or rode on data.
 */
static void cftcp_ack_sent(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (cs->ack_pending && cs->quickack)
		cs->quickack--;
	cs->ack_pending = 0;
	cs->delack_set = 0;
}

/*
 * Send one segment of a full socket. @skb holds the payload (and its
 * control block); with @clone it stays queued for retransmission and a
 * clone or copy goes out.
 */
static int cftcp_transmit_skb(struct sock *sk, struct sk_buff *skb,
			      bool clone, gfp_t gfp)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct cftcphdr *th;
	u8 flags = cb->flags;
	bool wscale = false, gso;
	int optlen = 0;
	u16 window;
	u32 segs;
	int err;

	if (clone) {
		/* Never a second clone: the gso fields set below go into the
		 * skb_shared_info that clones share, which a copy still in a
		 * qdisc or in the peer's queue must keep as it is.
		 */
		skb = skb_cloned(skb) ? pskb_copy(skb, gfp) :
					skb_clone(skb, gfp);
		if (!skb)
			return -ENOBUFS;
	}

	if (flags & CFTCP_FLAG_SYN) {
		/* We offer window scaling in a SYN; answer it in a SYN-ACK
		 * only if the peer offered it (RFC 7323 section 2.2).
		 */
		wscale = cs->wscale_ok || sk->sk_state == CFTCP_SYN_SENT;
		optlen = wscale ? CFTCP_SYN_OPTS_LEN : CFTCP_OPTLEN_MSS;
		window = cftcp_initial_window(sk->sk_rcvbuf, cs->rcv_wscale);
		cs->rcv_wnd = window;
		cs->rcv_wup = cs->rcv_nxt;
	} else {
		window = cftcp_select_window(sk);
	}
	/* Every segment but the first SYN acknowledges something. */
	if (sk->sk_state != CFTCP_SYN_SENT)
		flags |= CFTCP_FLAG_ACK;

	/* A clone shares skb_shinfo() with the queued skb, which nothing
	 * else holds (else this is a copy): the gso fields are set either way.
	 */
	segs = 1;
	/* A route made obsolete is replaced here rather than in
	 * ip_queue_xmit(), whose sk_setup_caps() would take segmentation
	 * away from a device without GSO (cftcp_size_goal()).
	 */
	if (unlikely(!__sk_dst_check(sk, 0)))
		cftcp_reroute(sk);
	/* More than a segment always leaves as a super-packet, which the
	 * stack cuts wherever the route cannot take it whole (xfrm's output
	 * too), never as one packet over the MSS.
	 */
	gso = skb->len > cs->mss &&
	      !(flags & (CFTCP_FLAG_SYN | CFTCP_FLAG_RST));
	if (gso) {
		segs = DIV_ROUND_UP(skb->len, cs->mss);
		skb_shinfo(skb)->gso_size = cs->mss;
		skb_shinfo(skb)->gso_segs = segs;
		skb_shinfo(skb)->gso_type = CFTCP_GSO_TYPE;
	} else if (skb_is_gso(skb)) {
		skb_shinfo(skb)->gso_size = 0;
		skb_shinfo(skb)->gso_segs = 0;
		skb_shinfo(skb)->gso_type = 0;
	}

	th = cftcp_push_header(skb, inet->inet_sport, inet->inet_dport,
			       cb->seq, cs->rcv_nxt, flags, window, optlen);
	if (optlen)
		cftcp_write_syn_options((__be32 *)(th + 1), cs->rcv_mss,
					wscale, cs->rcv_wscale);
	if (gso) {
		/* The device, or offload.c per segment, completes it. */
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct cftcphdr, check);
		th->check = ~csum_tcpudp_magic(inet->inet_saddr,
					       inet->inet_daddr, skb->len,
					       cftcp_ipproto, 0);
	} else {
		skb->ip_summed = CHECKSUM_NONE;
		th->check = cftcp_csum(skb, inet->inet_saddr,
				       inet->inet_daddr);
	}

	if (skb->len > CFTCP_HDR_LEN + optlen)
		cftcp_data_sent(sk);
	/* Segments, as Linux counts tcp_skb_pcount(). */
	cs->segs_out += segs;
	CFTCP_ADD_STATS(cftcp_sk_net(sk), CFTCP_MIB_OUTSEGS, segs);
	if (flags & CFTCP_FLAG_RST)
		CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_OUTRSTS);
	if (flags & CFTCP_FLAG_ACK)
		cftcp_ack_sent(sk);

	skb->priority = sk->sk_priority;
	skb->mark = sk->sk_mark;
	/* Owned by its socket on the way out, as TCP's are: netfilter's
	 * owner and cgroup matches and the qdiscs see who sent it, and the
	 * socket lives until the last such skb is freed (module unload
	 * waits for that, mem.c).
	 */
	skb_set_owner_w(skb, sk);
	/* IP keeps its own control block where ours was. */
	memset(skb->cb, 0, sizeof(struct inet_skb_parm));
	err = ip_queue_xmit(sk, skb, &inet->cork.fl);
	return net_xmit_eval(err);
}

/* A bare control segment (ACK, RST) of a full socket. */
static void cftcp_send_control(struct sock *sk, u32 seq, u8 flags, gfp_t gfp)
{
	struct sk_buff *skb;

	skb = alloc_skb(CFTCP_MAX_HEADER, gfp);
	if (!skb) {
		if (!(flags & CFTCP_FLAG_RST)) {
			/* Try again in a while: an ACK must not be lost. A
			 * new due time, not the one that has just passed.
			 */
			cftcp_sk(sk)->ack_pending = 1;
			cftcp_sk(sk)->delack_set = 0;
			cftcp_schedule_delack(sk);
		}
		return;
	}
	skb_reserve(skb, CFTCP_MAX_HEADER);
	CFTCP_SKB_CB(skb)->seq = seq;
	CFTCP_SKB_CB(skb)->end_seq = seq;
	CFTCP_SKB_CB(skb)->flags = flags;
	cftcp_transmit_skb(sk, skb, false, gfp);
}

void cftcp_send_ack(struct sock *sk)
{
	if (sk->sk_state == CFTCP_CLOSE || sk->sk_state == CFTCP_LISTEN)
		return;
	cftcp_send_control(sk, cftcp_sk(sk)->snd_nxt, CFTCP_FLAG_ACK,
			   GFP_ATOMIC);
}

/* RST|ACK at snd_nxt, for an abort (RFC 9293 3.10.4 ABORT call). */
void cftcp_send_active_reset(struct sock *sk, gfp_t gfp)
{
	const struct inet_sock *inet = inet_sk(sk);

	trace_cftcp_send_reset(sk, inet->inet_saddr, inet->inet_sport,
			       inet->inet_daddr, inet->inet_dport,
			       cftcp_sk(sk)->snd_nxt);
	cftcp_send_control(sk, cftcp_sk(sk)->snd_nxt,
			   CFTCP_FLAG_RST | CFTCP_FLAG_ACK, gfp);
}

/* SYN, or SYN-ACK in SYN_RECV after a simultaneous open. */
int cftcp_send_syn(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb;

	skb = alloc_skb(CFTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, CFTCP_MAX_HEADER);
	CFTCP_SKB_CB(skb)->seq = cs->iss;
	CFTCP_SKB_CB(skb)->end_seq = cs->iss + 1;
	CFTCP_SKB_CB(skb)->flags = CFTCP_FLAG_SYN;
	if (sk->sk_state == CFTCP_SYN_RECV)
		CFTCP_SKB_CB(skb)->flags |= CFTCP_FLAG_ACK;
	return cftcp_transmit_skb(sk, skb, false, GFP_ATOMIC);
}

/* ---- Segments sent without a full socket ----------------------------- */

static struct rtable *cftcp_reply_route(struct net *net, __be32 saddr,
					__be32 daddr, __be16 sport,
					__be16 dport)
{
	struct flowi4 fl4 = {};

	flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE, cftcp_ipproto,
			   0, daddr, saddr, dport, sport,
			   sock_net_uid(net, NULL));
	return ip_route_output_key(net, &fl4);
}

/* Send @skb along @rt, or a route of its own if @rt is NULL. */
static void cftcp_send_raw_rt(struct net *net, struct sk_buff *skb,
			      struct rtable *rt, __be32 saddr, __be32 daddr)
{
	struct cftcphdr *th = cftcp_hdr(skb);
	struct iphdr *iph;

	if (!rt)
		rt = cftcp_reply_route(net, saddr, daddr, th->source,
				       th->dest);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return;
	}
	skb_dst_set(skb, &rt->dst);

	skb->ip_summed = CHECKSUM_NONE;
	th->check = 0;
	th->check = cftcp_csum(skb, saddr, daddr);

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) >> 2;
	iph->tos = 0;
	iph->frag_off = htons(IP_DF);
	iph->ttl = ip4_dst_hoplimit(&rt->dst);
	iph->protocol = cftcp_ipproto;
	iph->saddr = saddr;
	iph->daddr = daddr;
	iph->id = 0;
	skb->protocol = htons(ETH_P_IP);
	memset(skb->cb, 0, sizeof(struct inet_skb_parm));

	CFTCP_INC_STATS(cftcp_pernet(net), CFTCP_MIB_OUTSEGS);
	if (th->rst)
		CFTCP_INC_STATS(cftcp_pernet(net), CFTCP_MIB_OUTRSTS);
	ip_local_out(net, skb->sk, skb);
}

static void cftcp_send_raw(struct net *net, struct sk_buff *skb,
			   __be32 saddr, __be32 daddr)
{
	cftcp_send_raw_rt(net, skb, NULL, saddr, daddr);
}

static struct sk_buff *cftcp_alloc_reply(void)
{
	struct sk_buff *skb = alloc_skb(CFTCP_MAX_HEADER, GFP_ATOMIC);

	if (skb)
		skb_reserve(skb, CFTCP_MAX_HEADER);
	return skb;
}

/*
 * RST answering @in, for which no connection exists (RFC 9293 3.10.7.1):
 * if it carried an ACK, <SEQ=SEG.ACK><CTL=RST>, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never answers a RST.
 */
void cftcp_send_reset_reply(struct net *net, struct sk_buff *in)
{
	const struct cftcphdr *ith = cftcp_hdr(in);
	const struct iphdr *iph = ip_hdr(in);
	struct cftcp_skb_cb *icb = CFTCP_SKB_CB(in);
	struct sk_buff *skb;

	if (ith->rst)
		return;
	skb = cftcp_alloc_reply();
	if (!skb)
		return;
	trace_cftcp_send_reset(NULL, iph->daddr, ith->dest, iph->saddr,
			       ith->source, ith->ack ? ntohl(ith->ack_seq) : 0);
	if (ith->ack)
		cftcp_push_header(skb, ith->dest, ith->source,
				  ntohl(ith->ack_seq), 0, CFTCP_FLAG_RST, 0, 0);
	else
		cftcp_push_header(skb, ith->dest, ith->source, 0,
				  icb->end_seq,
				  CFTCP_FLAG_RST | CFTCP_FLAG_ACK, 0, 0);
	cftcp_send_raw(net, skb, iph->daddr, iph->saddr);
}

/* A bare ACK answering @in, for TIME_WAIT entries and requests. */
void cftcp_send_ack_reply(struct net *net, struct sk_buff *in, u32 seq,
			  u32 ack, u32 win)
{
	const struct cftcphdr *ith = cftcp_hdr(in);
	const struct iphdr *iph = ip_hdr(in);
	struct sk_buff *skb;

	skb = cftcp_alloc_reply();
	if (!skb)
		return;
	cftcp_push_header(skb, ith->dest, ith->source, seq, ack,
			  CFTCP_FLAG_ACK, min_t(u32, win, CFTCP_MAX_WINDOW), 0);
	cftcp_send_raw(net, skb, iph->daddr, iph->saddr);
}

int cftcp_send_synack_req(struct net *net, struct cftcp_req *req)
{
	const struct cftcp_tuple *t = &req->hnode.tuple;
	struct sock *lsk = req->listener;
	struct cftcphdr *th;
	struct sk_buff *skb;
	struct rtable *rt;
	u16 mss;

	skb = cftcp_alloc_reply();
	if (!skb)
		return -ENOBUFS;
	/* One route for the MSS offered and the segment itself. */
	rt = cftcp_reply_route(net, t->laddr, t->raddr, t->lport, t->rport);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	mss = cftcp_dst_mss(&rt->dst);
	if (cftcp_sk(lsk)->user_mss)
		mss = min(mss, cftcp_sk(lsk)->user_mss);
	th = cftcp_push_header(skb, t->lport, t->rport, req->iss, req->irs + 1,
			       CFTCP_FLAG_SYN | CFTCP_FLAG_ACK,
			       cftcp_initial_window(READ_ONCE(lsk->sk_rcvbuf),
						    req->rcv_wscale),
			       req->wscale_ok ? CFTCP_SYN_OPTS_LEN :
						CFTCP_OPTLEN_MSS);
	cftcp_write_syn_options((__be32 *)(th + 1), mss, req->wscale_ok,
				req->rcv_wscale);
	/* A request's SYN-ACK is its listener's, as Linux's is the request
	 * socket's and so its listener's to netfilter and cgroups.
	 */
	skb_set_owner_w(skb, lsk);
	cftcp_send_raw_rt(net, skb, rt, t->laddr, t->raddr);
	return 0;
}

/* ---- Replies to unacceptable segments ------------------------------- */

/* At most one reply per invalid_ratelimit ms through @last (jiffies). */
bool cftcp_rate_limited(struct cftcp_net *cn, int mib, u32 *last)
{
	u32 val = READ_ONCE(*last);

	if (val) {
		s32 elapsed = (s32)((u32)jiffies - val);

		if (elapsed >= 0 &&
		    elapsed < msecs_to_jiffies(READ_ONCE(cn->sysctl.invalid_ratelimit))) {
			CFTCP_INC_STATS(cn, mib);
			return true;
		}
	}
	/* Lockless for requests and TIME_WAIT entries. */
	WRITE_ONCE(*last, (u32)jiffies ?: 1);
	return false;
}

/*
 * Linux's tcp_oow_rate_limited(): the ACK answering an out-of-window or
 * otherwise unacceptable segment is rate-limited per connection, so that
 * two ends that disagree cannot ping-pong ACKs at line rate; a data
 * segment (no SYN) is always answered, as no loop is made of those.
 */
bool cftcp_oow_rate_limited(struct cftcp_net *cn, const struct sk_buff *skb,
			    int mib, u32 *last)
{
	const struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

	if (cb->seq != cb->end_seq && !(cb->flags & CFTCP_FLAG_SYN))
		return false;
	return cftcp_rate_limited(cn, mib, last);
}

/* The namespace's quota of challenge ACKs per second (RFC 5961 7). */
bool cftcp_challenge_ack_allowed(struct cftcp_net *cn)
{
	u32 limit = READ_ONCE(cn->sysctl.challenge_ack_limit);
	u32 now = jiffies / HZ, count;

	if (limit == INT_MAX)
		return true;
	if (now != READ_ONCE(cn->challenge_timestamp)) {
		WRITE_ONCE(cn->challenge_timestamp, now);
		WRITE_ONCE(cn->challenge_count,
			   (limit + 1) / 2 + get_random_u32_below(limit ?: 1));
	}
	count = READ_ONCE(cn->challenge_count);
	if (!count)
		return false;
	WRITE_ONCE(cn->challenge_count, count - 1);
	return true;
}

/*
 * RFC 5961 challenge ACK (for an in-window RST or SYN, or an ACK far
 * below SND.UNA): at most one per invalid_ratelimit per connection, and
 * challenge_ack_limit per second in the namespace, as Linux 6.1.
 */
void cftcp_send_challenge_ack(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);

	if (cftcp_rate_limited(cn, CFTCP_MIB_ACKSKIPPEDCHALLENGE,
			       &cftcp_sk(sk)->last_oow_ack_time))
		return;
	if (!cftcp_challenge_ack_allowed(cn))
		return;
	CFTCP_INC_STATS(cn, CFTCP_MIB_CHALLENGEACK);
	cftcp_send_ack(sk);
}

/* ---- The send queue --------------------------------------------------- */

/*
 * A send queue skb with @size bytes of linear room after the headers, its
 * memory scheduled against the protocol's limits and the socket's memory
 * cgroup (@force: charged even over them, for the FIN that must go).
 * Payload goes in page fragments; CHECKSUM_PARTIAL here only tells
 * skb_copy_to_page_nocache() not to sum it on the way in.
 */
static struct sk_buff *cftcp_alloc_data_skb(struct sock *sk, int size,
					    gfp_t gfp, bool force)
{
	struct sk_buff *skb = alloc_skb_fclone(CFTCP_MAX_HEADER + size, gfp);

	if (!skb)
		return NULL;
	if (!sk_wmem_schedule(sk, skb->truesize) && !force) {
		__kfree_skb(skb);
		sk->sk_prot->enter_memory_pressure(sk);
		sk_stream_moderate_sndbuf(sk);
		return NULL;
	}
	skb_reserve(skb, CFTCP_MAX_HEADER);
	skb->ip_summed = CHECKSUM_PARTIAL;
	memset(CFTCP_SKB_CB(skb), 0, sizeof(struct cftcp_skb_cb));
	return skb;
}

static void cftcp_queue_skb(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	__skb_queue_tail(&sk->sk_write_queue, skb);
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
	if (!cs->send_head)
		cs->send_head = skb;
}

/*
 * A queued skb that was sent may still be shared with the copy in flight
 * (over veth, until the peer reads it): make its head and fragment array
 * its own before changing them, keeping its truesize as charged.
 */
static int cftcp_unshare(struct sk_buff *skb)
{
	unsigned int truesize = skb->truesize;

	if (!skb_cloned(skb))
		return 0;
	if (pskb_expand_head(skb, 0, 0, GFP_ATOMIC))
		return -ENOMEM;
	skb->truesize = truesize;
	return 0;
}

/*
 * Split @skb so that it carries @len bytes and a new skb after it the
 * rest, as Linux's tcp_fragment(). Used when the peer's window is smaller
 * than a queued skb, to retransmit one segment of a super-packet, when
 * the route can no longer take super-packets, and when the path MTU
 * shrinks. The new skb inherits the state of a sent one, so that nothing
 * is appended to it and Karn's rule holds; PSH and FIN move to it.
 */
int cftcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb), *ncb;
	u32 nsize = skb_headlen(skb) > len ? skb_headlen(skb) - len : 0;
	struct sk_buff *nskb;
	u32 moved;

	if (WARN_ON_ONCE(len > skb->len) || cftcp_unshare(skb))
		return -ENOMEM;
	nskb = cftcp_alloc_data_skb(sk, nsize, GFP_ATOMIC, false);
	if (!nskb)
		return -ENOMEM;
	sk_wmem_queued_add(sk, nskb->truesize);
	sk_mem_charge(sk, nskb->truesize);
	/* The fragments' share of truesize moves with them. */
	moved = skb->len - len - nsize;
	nskb->truesize += moved;
	skb->truesize -= moved;

	ncb = CFTCP_SKB_CB(nskb);
	ncb->seq = cb->seq + len;
	ncb->end_seq = cb->end_seq;
	ncb->flags = cb->flags;
	ncb->when = cb->when;
	ncb->sent = cb->sent;
	ncb->retransmitted = cb->retransmitted;
	cb->flags &= ~(CFTCP_FLAG_FIN | CFTCP_FLAG_PSH);
	cb->end_seq = cb->seq + len;
	skb_split(skb, nskb, len);
	__skb_queue_after(&sk->sk_write_queue, skb, nskb);
	return 0;
}

/*
 * The peer acknowledged the first @len bytes of @skb, a sent skb at the
 * head of the queue (all of them if only its FIN is left): drop them
 * without copying what stays (Linux's tcp_trim_head()), and give their
 * memory back. Without memory to unshare the skb it stays whole, and a
 * retransmission of it repeats bytes the peer already has.
 */
void cftcp_trim_acked(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct skb_shared_info *shinfo;
	u32 eat, head;
	int i, k;

	if (!len || len > skb->len || cftcp_unshare(skb))
		return;
	/* Only now: unsharing gave the skb a fragment array of its own. */
	shinfo = skb_shinfo(skb);
	CFTCP_SKB_CB(skb)->seq += len;
	head = min_t(u32, len, skb_headlen(skb));
	__skb_pull(skb, head);
	eat = len - head;
	if (!eat)
		return;
	k = 0;
	for (i = 0; i < shinfo->nr_frags; i++) {
		u32 size = skb_frag_size(&shinfo->frags[i]);

		if (size <= eat) {
			skb_frag_unref(skb, i);
			eat -= size;
			continue;
		}
		shinfo->frags[k] = shinfo->frags[i];
		if (eat) {
			skb_frag_off_add(&shinfo->frags[k], eat);
			skb_frag_size_sub(&shinfo->frags[k], eat);
			eat = 0;
		}
		k++;
	}
	shinfo->nr_frags = k;
	skb->data_len -= len - head;
	skb->len = skb->data_len;
	skb->truesize -= len - head;
	sk_wmem_queued_add(sk, -(int)(len - head));
	sk_mem_uncharge(sk, len - head);
}

/*
 * Payload one send queue skb takes (Linux's tcp_xmit_size_goal()): one
 * MSS, or where the route takes super-packets as many whole segments as
 * sk_gso_max_size, sk_gso_max_segs and half the largest window the peer
 * offered allow.
 */
static u32 cftcp_size_goal(const struct sock *sk)
{
	const struct cftcp_sock *cs = cftcp_sk(sk);
	u32 mss = cs->mss, goal;

	if (!sk_can_gso(sk))
		return mss;
	goal = READ_ONCE(sk->sk_gso_max_size);
	if (cs->max_window > CFTCP_DEFAULT_MSS)
		goal = min(goal, cs->max_window / 2);
	goal = min_t(u32, goal / mss, READ_ONCE(sk->sk_gso_max_segs));
	return max(goal, 1U) * mss;
}

/*
 * Take the capabilities of the route's device, and segmentation whatever
 * the device, as sk_setup_caps() gives TCP alone (sk_is_tcp()): without
 * NETIF_F_GSO (a virtio-net without offloads has no SG, and no SG drops
 * GSO) one super-packet still crosses the stack, and validate_xmit_skb()
 * cuts it before the driver (offload.c), copying and summing each segment
 * in one pass where the device has neither SG nor checksumming
 * (skb_segment() -> skb_copy_and_csum_bits()), where single segments would
 * each be summed, then copied out of their page fragments by
 * skb_linearize(). Not with xfrm's headers on the route, nor where GSO was
 * disabled on the socket, as sk_setup_caps().
 */
void cftcp_setup_caps(struct sock *sk, struct dst_entry *dst)
{
	struct net_device *dev;

	sk_setup_caps(sk, dst);
	if (sk_can_gso(sk) || sk->sk_gso_disabled || dst->header_len)
		return;
	rcu_read_lock();
	dev = dst_dev_rcu(dst);
	sk->sk_route_caps |= NETIF_F_GSO | NETIF_F_GSO_SOFTWARE | NETIF_F_SG |
			     NETIF_F_HW_CSUM;
	sk->sk_gso_max_size = min_t(u32, READ_ONCE(dev->gso_max_size),
				    GSO_LEGACY_MAX_SIZE) - (CFTCP_MAX_HEADER + 1);
	sk->sk_gso_max_segs = max_t(u32, READ_ONCE(dev->gso_max_segs), 1);
	rcu_read_unlock();
}

/*
 * Route the connection (again) as ip_queue_xmit() would, take the route's
 * capabilities and cache it on the socket.
 */
struct dst_entry *cftcp_reroute(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	const struct ip_options_rcu *opt;
	__be32 daddr = inet->inet_daddr;
	struct rtable *rt;

	rcu_read_lock();
	opt = rcu_dereference(inet->inet_opt);
	if (opt && opt->opt.srr)
		daddr = opt->opt.faddr;
	rt = ip_route_output_ports(sock_net(sk), fl4, sk, daddr,
				   inet->inet_saddr, inet->inet_dport,
				   inet->inet_sport, sk->sk_protocol,
				   RT_CONN_FLAGS(sk), sk->sk_bound_dev_if);
	rcu_read_unlock();
	if (IS_ERR(rt))
		return NULL;
	cftcp_setup_caps(sk, &rt->dst);
	return &rt->dst;
}

/*
 * Route the connection if it has no valid route and take the device's
 * capabilities, so that the first data can be built as super-packets.
 */
void cftcp_route_caps(struct sock *sk)
{
	sk->sk_gso_type = CFTCP_GSO_TYPE;
	if (!__sk_dst_check(sk, 0))
		cftcp_reroute(sk);
}

/*
 * Send what the peer's window allows, Nagle permitting. With @force, a
 * window smaller than the next segment is filled anyway.
 */
void __cftcp_push(struct sock *sk, bool force)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb;
	u32 goal;

	if (sk->sk_state == CFTCP_SYN_SENT || sk->sk_state == CFTCP_SYN_RECV ||
	    sk->sk_state == CFTCP_CLOSE || sk->sk_state == CFTCP_LISTEN)
		return;

	goal = cftcp_size_goal(sk);
	while ((skb = cs->send_head)) {
		struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
		u32 right = cs->snd_una + cs->snd_wnd;
		bool in_flight = cs->snd_nxt != cs->snd_una;

		/* Built for a larger MSS or a route that took super-packets. */
		if (skb->len > goal && cftcp_fragment(sk, skb, goal))
			break;
		if (seq_after(cb->end_seq, right)) {
			u32 usable = seq_after(right, cb->seq) ?
				     right - cb->seq : 0;

			/* Sender silly window avoidance: send a part only
			 * if it is a full segment, or if nothing is out and
			 * the window is at least half the largest seen.
			 * When all the data fits but its FIN does not, the
			 * data goes alone (Linux's tcp_write_wakeup()). A
			 * super-packet is cut to whole segments.
			 */
			usable = min(usable, skb->len);
			if (usable > cs->mss && usable < skb->len)
				usable -= usable % cs->mss;
			if (usable &&
			    (force || usable >= cs->mss || usable == skb->len ||
			     (!in_flight && usable >= cs->max_window / 2)) &&
			    !cftcp_fragment(sk, skb, usable))
				continue;
			break;
		}
		/* Nagle, with Minshall's rule (Linux's tcp_nagle_check()):
		 * a short segment waits only while an earlier short one is
		 * unacknowledged.
		 */
		if (skb->len < cs->mss && !cs->nodelay && in_flight &&
		    seq_after(cs->snd_sml, cs->snd_una) &&
		    !seq_after(cs->snd_sml, cs->snd_nxt) &&
		    !(cb->flags & CFTCP_FLAG_FIN) &&
		    skb_queue_is_last(&sk->sk_write_queue, skb))
			break;

		if (cftcp_transmit_skb(sk, skb, true, GFP_ATOMIC) == -ENOBUFS)
			break;
		cb->sent = 1;
		cb->when = jiffies;
		/* Its last segment is short (Linux's tcp_minshall_update()). */
		if (skb->len < cs->mss || skb->len % cs->mss)
			cs->snd_sml = cb->end_seq;
		cs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
				NULL : skb->next;
		if (seq_after(cb->end_seq, cs->snd_nxt))
			cs->snd_nxt = cb->end_seq;
		if (!timer_pending(&cs->rtx_timer) ||
		    cs->rtx_mode != CFTCP_RTX_DATA)
			cftcp_arm_rtx(sk, cs->rto);
	}

	/* Data waits for a closed window with nothing in flight to bring an
	 * update: probe the window (RFC 9293 3.8.6.1).
	 */
	if (cs->send_head && cs->snd_nxt == cs->snd_una &&
	    cs->rtx_mode != CFTCP_RTX_PROBE) {
		cs->rtx_mode = CFTCP_RTX_PROBE;
		sk_reset_timer(sk, &cs->rtx_timer, jiffies +
			       max_t(unsigned long, cs->rto,
				     cftcp_ms_to_jiffies(200)));
	}
}

void cftcp_push(struct sock *sk)
{
	__cftcp_push(sk, false);
}

/* Send again @skb, a segment sent before and not acknowledged. */
int cftcp_retransmit_skb(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	int err;

	err = cftcp_transmit_skb(sk, skb, true, GFP_ATOMIC);
	if (err)
		return err;
	trace_cftcp_retransmit_skb(sk, CFTCP_SKB_CB(skb)->seq,
				   CFTCP_SKB_CB(skb)->end_seq);
	CFTCP_SKB_CB(skb)->retransmitted = 1;
	CFTCP_SKB_CB(skb)->when = jiffies;
	if (!cs->retrans_stamp)
		cs->retrans_stamp = jiffies ?: 1;
	cs->total_retrans++;
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_RETRANSSEGS);
	return 0;
}

/*
 * Retransmit the oldest unacknowledged segment: of a super-packet, its
 * first MSS, cut off as a segment of its own (Linux retransmits one
 * segment per timeout or partial ACK too). Without memory for the cut the
 * whole skb goes again.
 */
void cftcp_retransmit_head(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (!skb || skb == cs->send_head)
		return;
	if (skb->len > cs->mss)
		cftcp_fragment(sk, skb, cs->mss);
	cftcp_retransmit_skb(sk, skb);
}

/*
 * Zero-window probe: one byte beyond the window if data is queued, so that
 * the peer must answer with its current window.
 */
void cftcp_send_probe(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->probes_out++;
	/* Probe with an old sequence number: the peer answers with an ACK
	 * carrying its window, as Linux's tcp_write_wakeup does.
	 */
	cftcp_send_control(sk, cs->snd_una - 1, CFTCP_FLAG_ACK, GFP_ATOMIC);
}

/* Queue a FIN after the data (RFC 9293 3.10.4 CLOSE) and send it. */
void cftcp_send_fin(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *tail = skb_peek_tail(&sk->sk_write_queue);

	if (cs->fin_queued)
		return;
	cs->fin_queued = 1;
	if (tail && !CFTCP_SKB_CB(tail)->sent) {
		CFTCP_SKB_CB(tail)->flags |= CFTCP_FLAG_FIN;
		CFTCP_SKB_CB(tail)->end_seq++;
	} else {
		struct sk_buff *skb;

		skb = cftcp_alloc_data_skb(sk, 0, sk->sk_allocation |
					   __GFP_NOFAIL, true);
		CFTCP_SKB_CB(skb)->seq = cs->write_seq;
		CFTCP_SKB_CB(skb)->end_seq = cs->write_seq + 1;
		CFTCP_SKB_CB(skb)->flags = CFTCP_FLAG_FIN | CFTCP_FLAG_ACK;
		cftcp_queue_skb(sk, skb);
	}
	cs->write_seq++;
	cftcp_push(sk);
}

/* The tail of the send queue, if more data may be appended to it. */
static struct sk_buff *cftcp_tail_room(struct sock *sk, u32 goal)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (!skb || CFTCP_SKB_CB(skb)->sent ||
	    (CFTCP_SKB_CB(skb)->flags & CFTCP_FLAG_FIN) || skb->len >= goal ||
	    skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS)
		return NULL;
	return skb;
}

/*
 * An skb queued for data that then did not come (the copy faulted, or the
 * wait for memory ended) would leave as an empty segment: drop it (Linux's
 * tcp_remove_empty_skb()).
 */
static void cftcp_remove_empty_tail(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (!skb || skb->len || CFTCP_SKB_CB(skb)->sent ||
	    (CFTCP_SKB_CB(skb)->flags & CFTCP_FLAG_FIN))
		return;
	if (cs->send_head == skb)
		cs->send_head = NULL;
	__skb_unlink(skb, &sk->sk_write_queue);
	cftcp_wmem_free_skb(sk, skb);
}

/*
 * The skb new data goes into: the unsent tail if it has room, else a new
 * one queued behind it; NULL when memory is short (the caller waits).
 */
static struct sk_buff *cftcp_append_skb(struct sock *sk, u32 goal)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb = cftcp_tail_room(sk, goal);

	if (skb)
		return skb;
	if (!sk_stream_memory_free(sk))
		return NULL;
	skb = cftcp_alloc_data_skb(sk, 0, sk->sk_allocation, false);
	if (!skb)
		return NULL;
	CFTCP_SKB_CB(skb)->seq = cs->write_seq;
	CFTCP_SKB_CB(skb)->end_seq = cs->write_seq;
	CFTCP_SKB_CB(skb)->flags = CFTCP_FLAG_ACK;
	cftcp_queue_skb(sk, skb);
	return skb;
}

int cftcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	int flags = msg->msg_flags;
	size_t copied = 0;
	long timeo;
	u32 goal;
	int err;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);

	if ((1 << sk->sk_state) &
	    ~((1 << CFTCP_ESTABLISHED) | (1 << CFTCP_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	sk_clear_bit(SOCKWQ_ASYNC_NOSPACE, sk);

	while (msg_data_left(msg)) {
		struct page_frag *pfrag;
		struct sk_buff *skb;
		bool merge;
		int copy, i;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;

		goal = cftcp_size_goal(sk);
		skb = cftcp_append_skb(sk, goal);
		if (!skb)
			goto wait_for_memory;

		/* Into the socket's page fragment, as tcp_sendmsg_locked(). */
		pfrag = sk_page_frag(sk);
		if (!sk_page_frag_refill(sk, pfrag))
			goto wait_for_memory;
		i = skb_shinfo(skb)->nr_frags;
		merge = skb_can_coalesce(skb, i, pfrag->page, pfrag->offset);
		copy = min_t(size_t, msg_data_left(msg), goal - skb->len);
		copy = min_t(int, copy, pfrag->size - pfrag->offset);
		if (!sk_wmem_schedule(sk, copy))
			goto wait_for_memory;
		err = skb_copy_to_page_nocache(sk, &msg->msg_iter, skb,
					       pfrag->page, pfrag->offset,
					       copy);
		if (err)
			goto do_error;
		if (merge) {
			skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
		} else {
			skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset,
					   copy);
			page_ref_inc(pfrag->page);
		}
		pfrag->offset += copy;
		CFTCP_SKB_CB(skb)->end_seq += copy;
		cs->write_seq += copy;
		copied += copy;
		/* A full skb goes now, while the rest is copied (Linux's
		 * tcp_push_one() and forced push), rather than all at the
		 * end of a long write.
		 */
		if (skb->len >= goal && msg_data_left(msg))
			cftcp_push(sk);
		continue;

wait_for_memory:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		cftcp_remove_empty_tail(sk);
		cftcp_push(sk);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
	}
	if (copied && skb_peek_tail(&sk->sk_write_queue))
		CFTCP_SKB_CB(skb_peek_tail(&sk->sk_write_queue))->flags |=
			CFTCP_FLAG_PSH;
	cftcp_push(sk);
	release_sock(sk);
	return copied;

do_error:
	cftcp_remove_empty_tail(sk);
	if (copied) {
		cftcp_push(sk);
		release_sock(sk);
		return copied;
	}
out_err:
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/*
 * sendfile() and splice(): the caller's page itself joins the send queue,
 * referenced rather than copied (do_tcp_sendpages()). A file's page may
 * change while it waits there, so the skb says its fragments are shared
 * (SKBFL_SHARED_FRAG) for whatever must checksum a stable copy (GSO's
 * software sums, skb_checksum_help()). A single segment is summed here
 * from the page as it is then: a page written again before the NIC or the
 * peer reads it makes that segment fail its checksum, and it is sent
 * again, never accepted wrong. Without scatter-gather on the route, or for
 * a page that must not be referenced (sendpage_ok()), the data is copied
 * as by sendmsg(). MSG_SENDPAGE_NOTLAST (more pages of the same splice
 * follow) holds back a segment that is not full; the last page of each
 * pushes, so a sendfile() that reaches the end of its file never leaves
 * its tail waiting (MSG_MORE, which sendfile() sets whenever it asked for
 * more than it read, is not waited on).
 */
int cftcp_sendpage(struct sock *sk, struct page *page, int offset,
		   size_t size, int flags)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	size_t copied = 0;
	long timeo;
	u32 goal = 0;
	int err;

	if (!(READ_ONCE(sk->sk_route_caps) & NETIF_F_SG) || !sendpage_ok(page))
		return sock_no_sendpage(sk->sk_socket, page, offset, size,
					flags);

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);

	if ((1 << sk->sk_state) &
	    ~((1 << CFTCP_ESTABLISHED) | (1 << CFTCP_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	sk_clear_bit(SOCKWQ_ASYNC_NOSPACE, sk);

	while (size) {
		struct sk_buff *skb;
		bool merge;
		int copy, i;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;

		goal = cftcp_size_goal(sk);
		skb = cftcp_append_skb(sk, goal);
		if (!skb)
			goto wait_for_memory;

		i = skb_shinfo(skb)->nr_frags;
		merge = skb_can_coalesce(skb, i, page, offset);
		copy = min_t(size_t, size, goal - skb->len);
		if (!sk_wmem_schedule(sk, copy))
			goto wait_for_memory;
		if (merge) {
			skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
		} else {
			get_page(page);
			skb_fill_page_desc_noacc(skb, i, page, offset, copy);
		}
		skb_shinfo(skb)->flags |= SKBFL_SHARED_FRAG;
		skb->len += copy;
		skb->data_len += copy;
		skb->truesize += copy;
		sk_wmem_queued_add(sk, copy);
		sk_mem_charge(sk, copy);
		CFTCP_SKB_CB(skb)->end_seq += copy;
		cs->write_seq += copy;
		copied += copy;
		offset += copy;
		size -= copy;
		if (skb->len >= goal && size)
			cftcp_push(sk);
		continue;

wait_for_memory:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		cftcp_remove_empty_tail(sk);
		cftcp_push(sk);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
	}
	if (!(flags & MSG_SENDPAGE_NOTLAST)) {
		if (copied && skb_peek_tail(&sk->sk_write_queue))
			CFTCP_SKB_CB(skb_peek_tail(&sk->sk_write_queue))->flags |=
				CFTCP_FLAG_PSH;
		cftcp_push(sk);
	} else if (copied && skb_peek_tail(&sk->sk_write_queue) &&
		   skb_peek_tail(&sk->sk_write_queue)->len >= goal) {
		cftcp_push(sk);
	}
	release_sock(sk);
	return copied;

do_error:
	cftcp_remove_empty_tail(sk);
	if (copied) {
		cftcp_push(sk);
		release_sock(sk);
		return copied;
	}
out_err:
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/* Wake writers once the send queue has room (sk_stream_write_space()). */
void cftcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !__sk_stream_is_writeable(sk, 1))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

void cftcp_init_xmit(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->send_head = NULL;
	cs->fin_queued = 0;
	cs->rto = cftcp_rto_initial(sk);
	sk->sk_gso_type = CFTCP_GSO_TYPE;
}

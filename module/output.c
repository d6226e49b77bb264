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

u16 cftcp_route_mss(struct net *net, __be32 daddr, __be32 saddr)
{
	struct flowi4 fl4 = {};
	struct rtable *rt;
	u32 mtu;

	flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE, cftcp_ipproto,
			   0, daddr, saddr, 0, 0, sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		return CFTCP_DEFAULT_MSS;
	mtu = dst_mtu(&rt->dst);
	ip_rt_put(rt);
	return max_t(u32, mtu - sizeof(struct iphdr) - CFTCP_HDR_LEN,
		     CFTCP_MIN_MSS);
}

/* Send MSS: the peer's option, our route, and CFTCP_MAXSEG, whichever least. */
void cftcp_sync_mss(struct sock *sk, u16 peer_mss)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u16 mss = min(peer_mss, cs->rcv_mss);

	if (cs->user_mss)
		mss = min(mss, cs->user_mss);
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

static void cftcp_ack_sent(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->ack_pending = 0;
	if (timer_pending(&cs->delack_timer))
		sk_stop_timer(sk, &cs->delack_timer);
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
	bool wscale = false;
	int optlen = 0;
	u16 window;
	int err;

	if (clone) {
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

	th = cftcp_push_header(skb, inet->inet_sport, inet->inet_dport,
			       cb->seq, cs->rcv_nxt, flags, window, optlen);
	if (optlen)
		cftcp_write_syn_options((__be32 *)(th + 1), cs->rcv_mss,
					wscale, cs->rcv_wscale);
	skb->ip_summed = CHECKSUM_NONE;
	th->check = cftcp_csum(skb, inet->inet_saddr, inet->inet_daddr);

	cs->segs_out++;
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_OUTSEGS);
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
			/* Try again soon: an ACK must not be lost here. */
			cftcp_sk(sk)->ack_pending = 1;
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

static void cftcp_send_raw(struct net *net, struct sk_buff *skb,
			   __be32 saddr, __be32 daddr)
{
	struct cftcphdr *th = cftcp_hdr(skb);
	struct flowi4 fl4 = {};
	struct rtable *rt;
	struct iphdr *iph;

	flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE, cftcp_ipproto,
			   0, daddr, saddr, th->dest, th->source,
			   sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
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
	u16 mss;

	skb = cftcp_alloc_reply();
	if (!skb)
		return -ENOBUFS;
	mss = cftcp_route_mss(net, t->raddr, t->laddr);
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
	cftcp_send_raw(net, skb, t->laddr, t->raddr);
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
 * A send queue skb for @size bytes, its memory scheduled against the
 * protocol's limits and the socket's memory cgroup (@force: charged even
 * over them, for the FIN that must go).
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
 * Split @skb so that it carries @len bytes and a new skb after it the
 * rest. Used when the peer's window is smaller than a queued segment, and
 * when the path MTU shrinks.
 */
int cftcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb), *ncb;
	u32 rest = skb->len - len;
	struct sk_buff *nskb;

	nskb = cftcp_alloc_data_skb(sk, rest, GFP_ATOMIC, false);
	if (!nskb)
		return -ENOMEM;
	skb_put_data(nskb, skb->data + len, rest);
	ncb = CFTCP_SKB_CB(nskb);
	ncb->seq = cb->seq + len;
	ncb->end_seq = cb->end_seq;
	ncb->flags = cb->flags;
	cb->flags &= ~(CFTCP_FLAG_FIN | CFTCP_FLAG_PSH);
	cb->end_seq = cb->seq + len;
	skb_trim(skb, len);
	__skb_queue_after(&sk->sk_write_queue, skb, nskb);
	sk_wmem_queued_add(sk, nskb->truesize);
	sk_mem_charge(sk, nskb->truesize);
	return 0;
}

/*
 * Send what the peer's window allows, Nagle permitting. With @force, a
 * window smaller than the next segment is filled anyway.
 */
void __cftcp_push(struct sock *sk, bool force)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb;

	if (sk->sk_state == CFTCP_SYN_SENT || sk->sk_state == CFTCP_SYN_RECV ||
	    sk->sk_state == CFTCP_CLOSE || sk->sk_state == CFTCP_LISTEN)
		return;

	while ((skb = cs->send_head)) {
		struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
		u32 right = cs->snd_una + cs->snd_wnd;
		bool in_flight = cs->snd_nxt != cs->snd_una;

		if (seq_after(cb->end_seq, right)) {
			u32 usable = seq_after(right, cb->seq) ?
				     right - cb->seq : 0;

			/* Sender silly window avoidance: send a part only
			 * if it is a full segment, or if nothing is out and
			 * the window is at least half the largest seen.
			 * When all the data fits but its FIN does not, the
			 * data goes alone (Linux's tcp_write_wakeup()).
			 */
			usable = min(usable, skb->len);
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
		if (skb->len < cs->mss)
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
	CFTCP_SKB_CB(skb)->retransmitted = 1;
	CFTCP_SKB_CB(skb)->when = jiffies;
	if (!cs->retrans_stamp)
		cs->retrans_stamp = jiffies ?: 1;
	cs->total_retrans++;
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_RETRANSSEGS);
	return 0;
}

/* Retransmit the oldest unacknowledged segment. */
void cftcp_retransmit_head(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (skb && skb != cs->send_head)
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

int cftcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	int flags = msg->msg_flags;
	size_t copied = 0;
	long timeo;
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
		struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
		int copy;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;

		if (!skb || CFTCP_SKB_CB(skb)->sent ||
		    (CFTCP_SKB_CB(skb)->flags & CFTCP_FLAG_FIN) ||
		    skb->len >= cs->mss || !skb_tailroom(skb)) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_memory;
			skb = cftcp_alloc_data_skb(sk, cs->mss,
						   sk->sk_allocation, false);
			if (!skb)
				goto wait_for_memory;
			CFTCP_SKB_CB(skb)->seq = cs->write_seq;
			CFTCP_SKB_CB(skb)->end_seq = cs->write_seq;
			CFTCP_SKB_CB(skb)->flags = CFTCP_FLAG_ACK;
			cftcp_queue_skb(sk, skb);
		}

		copy = min_t(size_t, msg_data_left(msg),
			     min_t(int, cs->mss - skb->len, skb_tailroom(skb)));
		if (copy_from_iter(skb_put(skb, copy), copy, &msg->msg_iter) !=
		    copy) {
			skb_trim(skb, skb->len - copy);
			err = -EFAULT;
			goto do_error;
		}
		CFTCP_SKB_CB(skb)->end_seq += copy;
		cs->write_seq += copy;
		copied += copy;
		continue;

wait_for_memory:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
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
}

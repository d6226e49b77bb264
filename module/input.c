// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp input: the IPv4 protocol handler (checksum, header and option
 * validation, lookup, dispatch), ACK processing with fast retransmit,
 * in-order and out-of-order data, and the reader's side of the receive
 * queue (recvmsg, window updates).
 *
 * The handler runs in softirq. Lookups are lockless (RCU); a connection's
 * segment is processed under bh_lock_sock(), or put on the socket backlog
 * when the user owns the socket and processed at release_sock(). Listeners
 * and requests are handled in synq.c without the listener's socket lock.
 * ICMP errors about our segments arrive through cftcp_v4_err(), also in
 * softirq, and take the same lock.
 */
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <asm/unaligned.h>
#include <net/ip.h>
#include <net/checksum.h>
#include <net/icmp.h>
#include <net/sock.h>
#include <net/xfrm.h>
#include <linux/filter.h>
#include <linux/netfilter.h>

#include "cftcp.h"

/*
 * RFC 9293 3.1: options are skipped by their length; a length that runs
 * past the header, or an MSS/window scale option of the wrong size, makes
 * the segment invalid. MSS and window scale count only on a SYN.
 */
int cftcp_parse_options(const struct sk_buff *skb, u16 *mss, u8 *wscale,
			bool *wscale_ok)
{
	const struct cftcphdr *th = cftcp_hdr(skb);
	const u8 *p = (const u8 *)(th + 1);
	int len = th->doff * 4 - CFTCP_HDR_LEN;

	while (len > 0) {
		u8 kind = p[0], size;

		if (kind == CFTCP_OPT_EOL)
			break;
		if (kind == CFTCP_OPT_NOP) {
			p++;
			len--;
			continue;
		}
		if (len < 2)
			return -EINVAL;
		size = p[1];
		if (size < 2 || size > len)
			return -EINVAL;
		switch (kind) {
		case CFTCP_OPT_MSS:
			if (size != CFTCP_OPTLEN_MSS)
				return -EINVAL;
			if (th->syn && get_unaligned_be16(p + 2))
				*mss = get_unaligned_be16(p + 2);
			break;
		case CFTCP_OPT_WSCALE:
			if (size != CFTCP_OPTLEN_WSCALE)
				return -EINVAL;
			if (th->syn) {
				*wscale_ok = true;
				*wscale = min_t(u8, p[2], CFTCP_MAX_WSCALE);
			}
			break;
		}
		p += size;
		len -= size;
	}
	return 0;
}

/* ---- ACK processing --------------------------------------------------- */

/*
 * Free what @ack covers. An RTT sample comes from the oldest segment it
 * covers, unless it also covers a retransmitted one (Karn's rule, as in
 * Linux's tcp_clean_rtx_queue()), so a backed-off RTO recovers as soon as
 * fresh data is acknowledged.
 */
static void cftcp_clean_acked(struct sock *sk, u32 ack)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	bool rtx_acked = false, sample = false;
	u32 first = 0;
	struct sk_buff *skb;

	while ((skb = skb_peek(&sk->sk_write_queue)) && skb != cs->send_head) {
		struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

		if (seq_after(cb->end_seq, ack)) {
			/* Partly acknowledged (a part of a super-packet):
			 * keep only the rest.
			 */
			if (seq_after(ack, cb->seq) && skb->len)
				cftcp_trim_acked(sk, skb,
						 min_t(u32, ack - cb->seq,
						       skb->len));
			break;
		}
		if (cb->retransmitted) {
			rtx_acked = true;
		} else if (!sample) {
			sample = true;
			first = cb->when;
		}
		__skb_unlink(skb, &sk->sk_write_queue);
		cftcp_wmem_free_skb(sk, skb);
	}
	if (sample && !rtx_acked)
		cftcp_rtt_sample(sk, (u32)jiffies - first);
}

/*
 * What an ACK let go out: now for a segment without text; after the text
 * of one with (cftcp_rcv_state_process()), so that the data sent carries
 * the acknowledgment of that text and no pure ACK is needed for it, the
 * order of Linux's tcp_rcv_established() (tcp_data_snd_check() after
 * tcp_data_queue()).
 */
static void cftcp_ack_push(struct sock *sk, const struct sk_buff *skb)
{
	const struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

	if (cb->end_seq == cb->seq)
		cftcp_push(sk);
}

/*
 * RFC 9293 3.10.7.4 fifth step for an established connection. Returns
 * false if the segment is to be dropped.
 */
bool cftcp_ack(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct cftcp_net *cn = cftcp_sk_net(sk);
	u32 ack = cb->ack_seq;
	/* RFC 7323 2.2: never scaled in a SYN. */
	u32 wnd = (u32)cb->window <<
		  (cftcp_hdr(skb)->syn ? 0 : cs->snd_wscale);
	bool wnd_changed = false;
	u32 acked;

	if (seq_after(ack, cs->snd_nxt)) {
		/* Acknowledges what was never sent: dropped, and challenged
		 * but in ESTABLISHED (Linux's tcp_ack() and
		 * tcp_rcv_state_process()).
		 */
		if (sk->sk_state != CFTCP_ESTABLISHED)
			cftcp_send_challenge_ack(sk);
		return false;
	}
	if (seq_before(ack, cs->snd_una)) {
		/* RFC 5961 5.2: an ACK more than the largest window the peer
		 * ever offered below SND.UNA (never more than what it has
		 * acknowledged) is blind injection: drop, challenge.
		 */
		u32 max_win = min_t(u64, cs->max_window, cs->bytes_acked);

		if (seq_before(ack, cs->snd_una - max_win)) {
			cftcp_send_challenge_ack(sk);
			return false;
		}
		return true;	/* old duplicate: ignore the ACK field */
	}

	/*
	 * Window update (RFC 9293 3.10.7.4), with Linux's
	 * tcp_may_update_window() rule: besides a newer segment, any segment
	 * that advances SND.UNA updates the window. snd_wnd counts from
	 * snd_una, so keeping the old window while SND.UNA moves would slide
	 * the right edge past what the peer offered; a retransmission the
	 * peer sends with an old sequence number but a new ACK does that.
	 * A receiver never shrinks its window, so the edge it gave with any
	 * newer acknowledgment is safe to use.
	 */
	if (seq_after(ack, cs->snd_una) || seq_after(cb->seq, cs->snd_wl1) ||
	    (cb->seq == cs->snd_wl1 && (wnd > cs->snd_wnd || !wnd))) {
		wnd_changed = wnd != cs->snd_wnd;
		cs->snd_wnd = wnd;
		cs->snd_wl1 = cb->seq;
		if (wnd > cs->max_window) {
			cs->max_window = wnd;
			cftcp_sndbuf_expand(sk);
		}
	}

	/* An acceptable ACK answers the peer's side of any probe (Linux's
	 * tcp_ack()): a receiver that keeps its window closed but answers
	 * is kept as long as it answers (RFC 1122 4.2.2.17).
	 */
	cs->probes_out = 0;
	acked = ack - cs->snd_una;
	if (!acked) {
		/* RFC 5681 duplicate ACK: no data, no window change, data
		 * outstanding. The third one triggers fast retransmit.
		 */
		if (cb->end_seq == cb->seq && !wnd_changed &&
		    cs->snd_una != cs->snd_nxt && ++cs->dupacks == 3 &&
		    !cs->in_recovery) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_FASTRETRANS);
			cs->in_recovery = 1;
			cs->recover = cs->snd_nxt;
			cftcp_retransmit_head(sk);
		}
		if (wnd_changed)
			cftcp_ack_push(sk, skb);
		return true;
	}

	if (!cs->syn_acked && seq_after(ack, cs->iss))
		cs->syn_acked = 1;
	cs->snd_una = ack;
	cs->bytes_acked += acked;
	cs->dupacks = 0;
	if (cs->retransmits)
		cftcp_rto_collapse(sk);
	cftcp_clean_acked(sk, ack);

	cs->retransmits = 0;
	cs->retrans_stamp = 0;

	if (cs->in_recovery) {
		if (!seq_before(ack, cs->recover))
			cs->in_recovery = 0;
		else
			cftcp_retransmit_head(sk);	/* partial ACK */
	}
	cftcp_rearm_rtx(sk);
	cftcp_ack_push(sk, skb);

	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_write_space(sk);
	return true;
}

/* ---- Data ------------------------------------------------------------- */

u32 cftcp_readable(const struct sock *sk)
{
	const struct cftcp_sock *cs = cftcp_sk(sk);

	return READ_ONCE(cs->rcv_nxt) - READ_ONCE(cs->copied_seq) -
	       cs->fin_rcvd;
}

void cftcp_ooo_purge(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	struct rb_node *p = rb_first(&cs->ooo_queue);

	while (p) {
		struct sk_buff *skb = rb_to_skb(p);

		p = rb_next(p);
		rb_erase(&skb->rbnode, &cs->ooo_queue);
		kfree_skb(skb);
	}
}

/* RFC 9293 3.10.7.4 eighth step: the FIN is next in sequence. */
static void cftcp_fin(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->rcv_nxt++;
	cs->fin_rcvd = 1;
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);
	/* Anything after the FIN is meaningless. */
	cftcp_ooo_purge(sk);

	switch (sk->sk_state) {
	case CFTCP_SYN_RECV:
	case CFTCP_ESTABLISHED:
		/* The ACK is delayed, so that the FIN or the data the reader
		 * answers with at once carries it (Linux enters pingpong
		 * mode here, tcp_fin()).
		 */
		cftcp_set_state(sk, CFTCP_CLOSE_WAIT);
		cs->pingpong = 1;
		cs->ack_pending = 1;
		cftcp_schedule_delack(sk);
		break;
	case CFTCP_FIN_WAIT1:
		/* Simultaneous close: our FIN is not acknowledged yet. */
		cftcp_set_state(sk, CFTCP_CLOSING);
		cftcp_send_ack(sk);
		break;
	case CFTCP_FIN_WAIT2:
		cftcp_send_ack(sk);
		cftcp_time_wait(sk);
		break;
	default:
		cftcp_send_ack(sk);
		break;
	}

	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == CFTCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/*
 * Queued data may start before rcv_nxt: an skb that overlaps what is
 * already in is queued whole and readers skip its first bytes by their
 * offset from its seq (cftcp_recvmsg()), as Linux's tcp_recvmsg() does.
 * Nothing here moves skb->data, so a received skb may be nonlinear (IP
 * fragments, page-based NIC buffers, GRO) anywhere past its headers.
 */
static u32 cftcp_skb_end(const struct sk_buff *skb)
{
	return CFTCP_SKB_CB(skb)->seq + skb->len;
}

/* Take in-order data (and FIN) from @skb; true if @skb was kept. */
static bool cftcp_queue_in_order(struct sock *sk, struct sk_buff *skb,
				 bool owned)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	bool fin = cb->flags & CFTCP_FLAG_FIN;
	bool kept = false;

	if (seq_after(cftcp_skb_end(skb), cs->rcv_nxt)) {
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		if (!owned)
			skb_set_owner_r(skb, sk);
		cs->bytes_received += cftcp_skb_end(skb) - cs->rcv_nxt;
		cs->rcv_nxt = cftcp_skb_end(skb);
		kept = true;
	}
	if (fin)
		cftcp_fin(sk);
	return kept;
}

/* Move what became in order from the out-of-order queue. */
static void cftcp_ooo_drain(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct rb_node *node;

	while ((node = rb_first(&cs->ooo_queue))) {
		struct sk_buff *skb = rb_to_skb(node);
		struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

		if (seq_after(cb->seq, cs->rcv_nxt))
			break;
		rb_erase(node, &cs->ooo_queue);
		if (!seq_after(cb->end_seq, cs->rcv_nxt)) {
			kfree_skb(skb);
			continue;
		}
		if (!cftcp_queue_in_order(sk, skb, true))
			kfree_skb(skb);
		if (cs->fin_rcvd)
			break;
	}
}

/* Keep a segment that arrived ahead of a hole, ordered by sequence. */
static void cftcp_ooo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct rb_node **p = &cs->ooo_queue.rb_node, *parent = NULL;

	while (*p) {
		struct sk_buff *s1;
		struct cftcp_skb_cb *cb1;

		parent = *p;
		s1 = rb_to_skb(parent);
		cb1 = CFTCP_SKB_CB(s1);
		if (seq_before(cb->seq, cb1->seq)) {
			p = &parent->rb_left;
			continue;
		}
		if (!seq_after(cb->end_seq, cb1->end_seq)) {
			kfree_skb(skb);		/* all of it is here already */
			return;
		}
		if (cb->seq == cb1->seq) {
			/* Same start, more data: take its place. */
			skb_set_owner_r(skb, sk);
			rb_replace_node(parent, &skb->rbnode, &cs->ooo_queue);
			kfree_skb(s1);
			return;
		}
		p = &parent->rb_right;
	}
	skb_set_owner_r(skb, sk);
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, &cs->ooo_queue);
}

/*
 * A segment whose buffer is far larger than its data (a few bytes in a
 * 64 KiB loopback skb) would use up the receive buffer that the window
 * promised: keep a right-sized linear copy instead, always when the buffer
 * is four times the data, and when memory is short (@tight) if it helps.
 * NULL if memory is short for the copy too.
 */
static struct sk_buff *cftcp_condense(struct sk_buff *skb, bool tight)
{
	unsigned int need = SKB_TRUESIZE(skb->len);
	struct sk_buff *nskb;

	if (!skb->len || skb->truesize <= (tight ? need + need / 4 : 4 * need))
		return skb;
	nskb = alloc_skb(skb->len, GFP_ATOMIC);
	if (!nskb) {
		kfree_skb(skb);
		return NULL;
	}
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		kfree_skb(skb);
		return NULL;
	}
	memcpy(nskb->cb, skb->cb, sizeof(struct cftcp_skb_cb));
	consume_skb(skb);
	return nskb;
}

/* Largest data a collapsed skb takes: one order-2 allocation. */
#define CFTCP_COLLAPSE_MAX	SKB_WITH_OVERHEAD(PAGE_SIZE << 2)

/* An skb whose buffer is not much more than its data: not worth a copy. */
static bool cftcp_skb_dense(const struct sk_buff *skb)
{
	return skb->truesize <= SKB_TRUESIZE(skb->len) + skb->len / 8;
}

/*
 * Copy the unread bytes of the receive queue into as few linear skbs as
 * they fit in, so that many small segments (a peer sending one byte at a
 * time) cost their data and not their buffers (Linux's tcp_collapse()).
 * Dense skbs are kept as they are; each source is freed as soon as it is
 * copied, so the copies never double the memory held. If an allocation
 * fails the queue is left part collapsed, still whole. A FIN stays on the
 * last skb.
 */
static void cftcp_collapse(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff_head *q = &sk->sk_receive_queue;
	struct cftcp_net *cn = cftcp_sk_net(sk);
	u32 end = cs->rcv_nxt - cs->fin_rcvd;
	u32 seq = cs->copied_seq;
	struct sk_buff_head fresh;
	struct sk_buff *skb, *nskb;
	bool failed = false;

	if (skb_queue_len(q) < 2 || !seq_after(end, seq))
		return;

	__skb_queue_head_init(&fresh);
	while (seq_before(seq, end) && (skb = skb_peek(q))) {
		u32 size;

		/* Readers and this loop free what is consumed: the head
		 * holds seq.
		 */
		if (CFTCP_SKB_CB(skb)->seq == seq && cftcp_skb_dense(skb)) {
			__skb_unlink(skb, q);
			__skb_queue_tail(&fresh, skb);
			seq = cftcp_skb_end(skb);
			continue;
		}
		size = min_t(u32, end - seq, CFTCP_COLLAPSE_MAX);
		nskb = alloc_skb(size, GFP_ATOMIC);
		if (!nskb)
			break;
		memset(nskb->cb, 0, sizeof(struct cftcp_skb_cb));
		CFTCP_SKB_CB(nskb)->seq = seq;
		while (nskb->len < size && (skb = skb_peek(q))) {
			u32 off = seq - CFTCP_SKB_CB(skb)->seq;
			u32 n = min_t(u32, skb->len - off, size - nskb->len);

			/* Sources already copied are freed: keep the copy. */
			if (WARN_ON_ONCE(skb_copy_bits(skb, off,
						       skb_put(nskb, n), n))) {
				__skb_trim(nskb, nskb->len - n);
				failed = true;
				break;
			}
			seq += n;
			if (!seq_before(seq, cftcp_skb_end(skb))) {
				__skb_unlink(skb, q);
				__kfree_skb(skb);
				CFTCP_INC_STATS(cn, CFTCP_MIB_RCVCOLLAPSED);
			}
		}
		if (!nskb->len) {
			kfree_skb(nskb);
			break;
		}
		CFTCP_SKB_CB(nskb)->end_seq = seq;
		if (skb_queue_empty(q) && cs->fin_rcvd) {
			CFTCP_SKB_CB(nskb)->flags |= CFTCP_FLAG_FIN;
			CFTCP_SKB_CB(nskb)->end_seq++;
		}
		/* The sources just freed paid for it: charge it even if the
		 * protocol is over its limit now (sk_forward_alloc goes
		 * below zero until the next uncharge, as Linux's forced
		 * scheduling does).
		 */
		sk_rmem_schedule(sk, nskb, nskb->truesize);
		skb_set_owner_r(nskb, sk);
		__skb_queue_tail(&fresh, nskb);
		if (failed)
			break;
	}
	skb_queue_splice(&fresh, q);
}

/*
 * Drop out-of-order data from its far end until @need bytes of receive
 * memory are free (Linux's tcp_prune_ofo_queue()); true if it dropped any.
 */
static bool cftcp_ooo_prune(struct sock *sk, unsigned int need)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct rb_node *node;
	bool pruned = false;

	while ((node = rb_last(&cs->ooo_queue))) {
		struct sk_buff *skb = rb_to_skb(node);

		rb_erase(node, &cs->ooo_queue);
		kfree_skb(skb);
		pruned = true;
		if (atomic_read(&sk->sk_rmem_alloc) + need <=
		    READ_ONCE(sk->sk_rcvbuf))
			break;
	}
	if (pruned)
		CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_OFOPRUNED);
	return pruned;
}

/*
 * Room for @skb in the receive buffer and in the protocol's memory
 * (Linux's tcp_try_rmem_schedule()): over SO_RCVBUF, or refused memory,
 * first collapse the receive queue, then drop out-of-order data. False if
 * there is still no room. @ooo: @skb is out-of-order data, which never
 * causes in-order data to be dropped for it.
 */
static bool cftcp_rmem_over(struct sock *sk, struct sk_buff *skb)
{
	return atomic_read(&sk->sk_rmem_alloc) > READ_ONCE(sk->sk_rcvbuf) ||
	       !sk_rmem_schedule(sk, skb, skb->truesize);
}

static bool cftcp_rmem_room(struct sock *sk, struct sk_buff *skb, bool ooo)
{
	if (!cftcp_rmem_over(sk, skb))
		return true;
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_PRUNECALLED);
	cftcp_collapse(sk);
	while (cftcp_rmem_over(sk, skb))
		if (ooo || !cftcp_ooo_prune(sk, skb->truesize))
			return false;
	return true;
}

/*
 * Whether the window we would offer now is at least the one offered last
 * (Linux's __tcp_select_window() >= rcv_wnd), so that its right edge moves
 * on by what arrived since.
 */
static bool cftcp_window_advances(const struct sock *sk)
{
	const struct cftcp_sock *cs = cftcp_sk(sk);

	return min_t(u32, cftcp_free_space(sk),
		     CFTCP_MAX_WINDOW << cs->rcv_wscale) >= cs->rcv_wnd;
}

/*
 * What counts as a full-sized segment for the ACK rules below starts at
 * the least of our MSS, the peer's, half the window and 536 bytes, and
 * follows the segments the peer sends: up to the largest seen, down to a
 * size seen twice in a row (Linux's tcp_initialize_rcv_mss() and
 * tcp_measure_rcv_mss()), so that a peer sending less than our MSS still
 * gets an ACK for every second segment.
 */
void cftcp_init_ack_mss(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 mss = min_t(u32, min(cs->rcv_mss, cs->mss), cs->rcv_wnd / 2);

	cs->ack_mss = clamp_t(u32, mss, CFTCP_MIN_MSS, CFTCP_DEFAULT_MSS);
	cs->last_seg_size = 0;
	cs->quickack = 0;
	cs->pingpong = 0;
	cs->data_rcvd = 0;
	cs->delack_set = 0;
}

static void cftcp_measure_ack_mss(struct sock *sk, const struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 len = skb_shinfo(skb)->gso_size ?: skb->len;

	if (len >= cs->ack_mss) {
		cs->ack_mss = min_t(u32, len, cs->rcv_mss);
	} else if (len >= CFTCP_MIN_MSS) {
		if (len == cs->last_seg_size)
			cs->ack_mss = len;
		cs->last_seg_size = len;
	}
}

/*
 * Segment text (RFC 9293 3.10.7.4 seventh step) and FIN. Consumes @skb.
 * Data beyond the right edge of the window we advertised is cut off
 * (3.10.7.4: "segments with higher beginning sequence numbers ... should
 * be held for later processing" only within the window); in-order data at
 * a zero window is dropped and answered with an ACK. Out-of-order data is
 * kept while memory allows and answered with an immediate duplicate ACK;
 * in-order data is acknowledged at once during quickack (the first
 * CFTCP_QUICKACKS segments, and as many after a silence longer than the
 * RTO, unless the connection is interactive: cftcp_data_rcvd() and
 * cftcp_data_sent()), when it fills a hole, or after more than a
 * full-sized segment if the window moves on; else by the data we send,
 * the reader's next read or the delayed ACK timer.
 */
void cftcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct cftcp_net *cn = cftcp_sk_net(sk);
	u32 right = cs->rcv_wup + cs->rcv_wnd;
	bool filled_hole;

	cb->flags &= ~CFTCP_FLAG_SYN;
	if (skb->len)
		cftcp_measure_ack_mss(sk, skb);
	if (!seq_after(cb->end_seq, cs->rcv_nxt)) {
		/* All old: the ACK of it was lost. */
		kfree_skb(skb);
		cftcp_enter_quickack(sk);
		cftcp_send_ack(sk);
		return;
	}
	if (!seq_after(right, seq_after(cb->seq, cs->rcv_nxt) ?
			      cb->seq : cs->rcv_nxt)) {
		/* No room at all in the window, not even for a FIN. */
		CFTCP_INC_STATS(cn, seq_after(cb->seq, cs->rcv_nxt) ?
				    CFTCP_MIB_OUTOFWINDOW :
				    CFTCP_MIB_ZEROWINDOWDROP);
		kfree_skb(skb);
		cftcp_enter_quickack(sk);
		cftcp_send_ack(sk);
		return;
	}
	if (seq_after(cftcp_skb_end(skb), right)) {
		/* Beyond the right edge, and so is the FIN if any. */
		if (pskb_trim(skb, right - cb->seq)) {
			kfree_skb(skb);
			return;
		}
		cb->flags &= ~CFTCP_FLAG_FIN;
		cb->end_seq = right;
	}
	skb = cftcp_condense(skb, atomic_read(&sk->sk_rmem_alloc) +
				  skb->truesize > READ_ONCE(sk->sk_rcvbuf));
	if (!skb)
		return;
	cb = CFTCP_SKB_CB(skb);

	if (seq_after(cb->seq, cs->rcv_nxt)) {
		if (cftcp_rmem_room(sk, skb, true)) {
			cftcp_ooo_insert(sk, skb);
		} else {
			CFTCP_INC_STATS(cn, CFTCP_MIB_OFODROP);
			kfree_skb(skb);
		}
		cftcp_send_ack(sk);
		return;
	}
	if (skb->len && !skb_queue_empty(&sk->sk_receive_queue) &&
	    !cftcp_rmem_room(sk, skb, false)) {
		/* Still no room: the peer sends it again. */
		CFTCP_INC_STATS(cn, CFTCP_MIB_RCVQDROP);
		kfree_skb(skb);
		cftcp_send_ack(sk);
		return;
	}
	if (skb->len && skb_queue_empty(&sk->sk_receive_queue))
		/* An empty queue always takes what the window allowed. */
		sk_rmem_schedule(sk, skb, skb->truesize);

	if (skb->len)
		cftcp_data_rcvd(sk);
	if (!cftcp_queue_in_order(sk, skb, false))
		kfree_skb(skb);
	cftcp_rcv_rtt_measure(sk);
	filled_hole = !RB_EMPTY_ROOT(&cs->ooo_queue);
	if (filled_hole)
		cftcp_ooo_drain(sk);

	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);

	/* cftcp_fin() sent the ACK, or delayed it in CLOSE_WAIT, where the
	 * rules below still apply to the data that came with the FIN.
	 */
	if (cs->fin_rcvd && sk->sk_state != CFTCP_CLOSE_WAIT)
		return;
	/* More than a full-sized segment's worth of bytes since the last
	 * ACK, so that a super-packet is acknowledged at once, but only if
	 * the window's right edge moves on with it or the reader waits for
	 * more (Linux's __tcp_ack_snd_check()); else the reader's next read
	 * (cftcp_cleanup_rbuf()) or the delayed ACK timer sends it.
	 */
	cs->ack_pending = 1;
	if (filled_hole || (cs->quickack && !cs->pingpong) ||
	    (cs->rcv_nxt - cs->rcv_wup > cs->ack_mss &&
	     (cs->rcv_nxt - cs->copied_seq < READ_ONCE(sk->sk_rcvlowat) ||
	      cftcp_window_advances(sk)))) {
		/* Data that can go now carries the ACK. */
		cftcp_push(sk);
		if (cs->ack_pending)
			cftcp_send_ack(sk);
	} else {
		cftcp_schedule_delack(sk);
	}
}

/* ---- The reader ------------------------------------------------------- */

/*
 * After the reader took data: send the ACK owed for more than a full-sized
 * segment that the receive path left to the delayed ACK timer, or announce
 * a window that opened enough (Linux's tcp_cleanup_rbuf()).
 */
void cftcp_cleanup_rbuf(struct sock *sk, int copied)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 right, cur, free, step;

	if (!((1 << sk->sk_state) & ((1 << CFTCP_ESTABLISHED) |
				     (1 << CFTCP_FIN_WAIT1) |
				     (1 << CFTCP_FIN_WAIT2))))
		return;
	if (cs->ack_pending && cs->rcv_nxt - cs->rcv_wup > cs->ack_mss) {
		cftcp_send_ack(sk);
		return;
	}
	if (copied <= 0 || (sk->sk_shutdown & RCV_SHUTDOWN))
		return;
	right = cs->rcv_wup + cs->rcv_wnd;
	cur = seq_after(right, cs->rcv_nxt) ? right - cs->rcv_nxt : 0;
	/* What the window field can say: without scaling, a buffer above
	 * 64 KB opens nothing past it (Linux's window_clamp).
	 */
	free = min_t(u32, cftcp_free_space(sk),
		     CFTCP_MAX_WINDOW << cs->rcv_wscale);
	/* Opened by the step cftcp_select_window() opens a window by, not
	 * by an MSS: with a buffer under two MSS an update still goes out.
	 */
	step = min_t(u32, cs->rcv_mss, READ_ONCE(sk->sk_rcvbuf) / 4);
	if (free >= 2 * cur && free - cur >= step)
		cftcp_send_ack(sk);
}

int cftcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		  int flags)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 peek_seq, *seq;
	int copied = 0;
	int target;
	long timeo;

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return -EINVAL;

	lock_sock(sk);
	if (sk->sk_state == CFTCP_LISTEN) {
		copied = -ENOTCONN;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = cs->copied_seq;
	seq = (flags & MSG_PEEK) ? &peek_seq : &cs->copied_seq;

	do {
		struct sk_buff *skb, *last;
		u32 offset;
		size_t used;

		last = skb_peek_tail(&sk->sk_receive_queue);
		skb_queue_walk(&sk->sk_receive_queue, skb) {
			offset = *seq - CFTCP_SKB_CB(skb)->seq;
			if (offset < skb->len)
				goto found;
		}

		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == CFTCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				copied = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == CFTCP_CLOSE) {
				/* Never connected. */
				copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				copied = sock_intr_errno(timeo);
				break;
			}
		}
		cftcp_cleanup_rbuf(sk, copied);
		sk_wait_data(sk, &timeo, last);
		continue;

found:
		used = min_t(size_t, skb->len - offset, len);
		if (skb_copy_datagram_msg(skb, offset, msg, used)) {
			if (!copied)
				copied = -EFAULT;
			break;
		}
		*seq += used;
		copied += used;
		len -= used;
		if (!(flags & MSG_PEEK) && offset + used >= skb->len) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			consume_skb(skb);
		}
	} while (len > 0);

	if (copied > 0 && !(flags & MSG_PEEK))
		cftcp_rcv_space_adjust(sk);
	cftcp_cleanup_rbuf(sk, copied);
out:
	release_sock(sk);
	return copied;
}

/* ---- The protocol handler -------------------------------------------- */

/*
 * A segment for a socket, under its lock: directly from the handler, or
 * from the backlog at release_sock(). A socket that became CLOSE meanwhile
 * drops it silently, as Linux's tcp_rcv_state_process() does (TCP_CLOSE):
 * the peer's next segment finds no socket and draws the reset.
 */
static int cftcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	sock_owned_by_me(sk);
	/* Segments, a super-packet as many as it holds (Linux's
	 * tcp_segs_in()).
	 */
	cftcp_sk(sk)->segs_in += max_t(u16, 1, skb_shinfo(skb)->gso_segs);
	if (sk->sk_state == CFTCP_CLOSE) {
		kfree_skb(skb);
		return 0;
	}
	if (!cftcp_rcv_state_process(sk, skb))
		kfree_skb(skb);
	return 0;
}

int cftcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	return cftcp_do_rcv(sk, skb);
}

static void cftcp_rcv_established_sk(struct sock *sk, struct sk_buff *skb)
{
	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		cftcp_do_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, 2 * READ_ONCE(sk->sk_rcvbuf) +
					   READ_ONCE(sk->sk_sndbuf) + SZ_64K)) {
		bh_unlock_sock(sk);
		kfree_skb(skb);
		return;
	}
	bh_unlock_sock(sk);
}

/*
 * The inbound IPsec policy (of @sk if it has one, else the host's) on a
 * segment whose control block is ours: xfrm reads IP's (IPSKB_NOPOLICY),
 * which is put back for the check, as tcp_v4_restore_cb() would.
 */
static bool cftcp_xfrm_policy_ok(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_skb_cb saved = *CFTCP_SKB_CB(skb);
	bool ok;

	memmove(IPCB(skb), &saved.h4, sizeof(saved.h4));
	ok = xfrm4_policy_check(sk, XFRM_POLICY_IN, skb);
	*CFTCP_SKB_CB(skb) = saved;
	return ok;
}

/*
 * Host policy on a segment that @sk (a connection, or the listener of a
 * request or of a SYN) takes, at the points where Linux's tcp_v4_rcv()
 * applies it: the inbound IPsec policy (the socket's, else the host's;
 * the protocol is registered with no_policy, so nothing before us checked
 * it), then conntrack lets go of the skb, then the socket's filter runs
 * as tcp_filter() does: LSM (security_sock_rcv_skb()) and SO_ATTACH_FILTER
 * programs see the segment from its header on and may trim its data, not
 * its header. A refused segment counts in the socket's drops. False if
 * @skb was refused and freed. @skb->data is past our header here.
 */
bool cftcp_policy_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	unsigned int hdrlen = cftcp_hdr(skb)->doff * 4;
	enum skb_drop_reason reason;
	int err;

	if (!cftcp_xfrm_policy_ok(sk, skb)) {
		reason = SKB_DROP_REASON_XFRM_POLICY;
		goto drop;
	}
	nf_reset_ct(skb);

	/* The filter sees the segment from its cftcp header, which
	 * pskb_may_pull() made linear: pushing it back and pulling it again
	 * touches only the linear head, and a trim never cuts below it.
	 */
	__skb_push(skb, hdrlen);
	err = sk_filter_trim_cap(sk, skb, hdrlen);
	__skb_pull(skb, hdrlen);
	if (err) {
		reason = SKB_DROP_REASON_SOCKET_FILTER;
		goto drop;
	}
	/* A filter may have cut data off; SYN and FIN keep their places. */
	cb->end_seq = cb->seq + !!(cb->flags & CFTCP_FLAG_SYN) +
		      !!(cb->flags & CFTCP_FLAG_FIN) + skb->len;
	return true;

drop:
	sk_drops_add(sk, skb);
	kfree_skb_reason(skb, reason);
	return false;
}

/*
 * Deliver a segment to what the lookup found. Exported to synq.c and
 * timewait.c for segments that move from one kind of entry to another.
 * A TIME_WAIT entry has no socket: only the host's IPsec policy applies
 * to it, as in Linux.
 */
static int cftcp_dispatch(struct cftcp_net *cn, struct cftcp_hnode *hn,
			  struct sock *lsk, struct sk_buff *skb)
{
	if (hn && hn->kind == CFTCP_HK_REQ) {
		if (!cftcp_policy_rcv(((struct cftcp_req *)hn)->listener, skb))
			return 0;
		return cftcp_req_rcv((struct cftcp_req *)hn, skb);
	}
	if (hn && hn->kind == CFTCP_HK_TW) {
		if (!cftcp_xfrm_policy_ok(NULL, skb)) {
			kfree_skb_reason(skb, SKB_DROP_REASON_XFRM_POLICY);
			return 0;
		}
		return cftcp_tw_rcv((struct cftcp_tw *)hn, skb);
	}
	if (hn)
		lsk = cftcp_hnode_sk(hn);
	if (!cftcp_policy_rcv(lsk, skb))
		return 0;
	if (lsk->sk_state == CFTCP_LISTEN)
		return cftcp_conn_request(lsk, skb);
	cftcp_rcv_established_sk(lsk, skb);
	return 0;
}

static void cftcp_fill_cb(struct sk_buff *skb)
{
	const struct cftcphdr *th = cftcp_hdr(skb);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

	/* IP's block moves past ours, as tcp_v4_fill_cb() keeps it. */
	memmove(&cb->h4, IPCB(skb), sizeof(cb->h4));
	memset(cb, 0, offsetof(struct cftcp_skb_cb, h4));
	cb->seq = ntohl(th->seq);
	cb->ack_seq = ntohl(th->ack_seq);
	cb->window = ntohs(th->window);
	cb->flags = (th->fin ? CFTCP_FLAG_FIN : 0) |
		    (th->syn ? CFTCP_FLAG_SYN : 0) |
		    (th->rst ? CFTCP_FLAG_RST : 0) |
		    (th->psh ? CFTCP_FLAG_PSH : 0) |
		    (th->ack ? CFTCP_FLAG_ACK : 0);
	cb->end_seq = cb->seq + th->syn + th->fin + skb->len - th->doff * 4;
}

int cftcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	struct cftcp_net *cn = cftcp_pernet(net);
	const struct cftcphdr *th;
	const struct iphdr *iph;
	struct cftcp_hnode *hn;
	bool wscale_ok = false;
	bool pulled = false;
	struct sock *lsk;
	u16 mss;
	int err;
	u8 ws;

	if (skb->pkt_type != PACKET_HOST)
		goto discard;
	CFTCP_INC_STATS(cn, CFTCP_MIB_INSEGS);

	if (!pskb_may_pull(skb, CFTCP_HDR_LEN))
		goto bad_segment;
	th = (const struct cftcphdr *)skb->data;
	if (th->doff < CFTCP_HDR_LEN / 4 || !pskb_may_pull(skb, th->doff * 4))
		goto bad_segment;
	/* CHECKSUM_PARTIAL, a super-packet from veth or loopback (output.c)
	 * or a segment of one, counts as verified, as for TCP: its sender's
	 * memory never left the host.
	 */
	if (skb_checksum_init(skb, cftcp_ipproto, inet_compute_pseudo))
		goto csum_error;
	if (!skb_csum_unnecessary(skb) && __skb_checksum_complete(skb))
		goto csum_error;

	skb_reset_transport_header(skb);
	th = cftcp_hdr(skb);
	iph = ip_hdr(skb);
	if (th->doff > CFTCP_HDR_LEN / 4 &&
	    cftcp_parse_options(skb, &mss, &ws, &wscale_ok))
		goto bad_segment;
	if ((th->syn && th->fin) || (th->syn && th->rst))
		goto bad_segment;
	cftcp_fill_cb(skb);

lookup:
	/* Again after a request was taken from us: the first pass's socket
	 * filter may have trimmed the skb and moved its head.
	 */
	iph = ip_hdr(skb);
	th = cftcp_hdr(skb);
	rcu_read_lock();
	hn = cftcp_ehash_lookup(cn, iph->daddr, th->dest, iph->saddr,
				th->source, inet_iif(skb),
				cftcp_sdif(skb));
	lsk = NULL;
	if (!hn)
		lsk = cftcp_lookup_listener(cn, iph->daddr, th->dest,
					    inet_iif(skb),
					    cftcp_sdif(skb));
	rcu_read_unlock();
	if (!hn && !lsk)
		goto no_socket;

	/* The header is in the linear part: pskb_may_pull() above. */
	if (!pulled) {
		__skb_pull(skb, th->doff * 4);
		pulled = true;
	}
	err = cftcp_dispatch(cn, hn, lsk, skb);
	if (hn)
		cftcp_hnode_put(hn);
	else
		sock_put(lsk);
	/* The request this ACK completes was taken by another CPU's ACK:
	 * what took its place gets the segment (Linux's req_stolen).
	 */
	if (err == -EAGAIN)
		goto lookup;
	return 0;

no_socket:
	/* No reset for what the host's IPsec policy refuses. */
	if (!cftcp_xfrm_policy_ok(NULL, skb))
		goto discard;
	cftcp_send_reset_reply(net, skb);
	goto discard;
csum_error:
	CFTCP_INC_STATS(cn, CFTCP_MIB_INCSUMERRORS);
bad_segment:
	CFTCP_INC_STATS(cn, CFTCP_MIB_INERRS);
discard:
	kfree_skb(skb);
	return 0;
}

/*
 * An ICMP error about a segment we sent, as Linux's tcp_v4_err() takes it:
 * @skb->data is the IP header we sent, with at least 8 bytes of ours after
 * it. It counts only for an unacknowledged sequence number. A connection
 * still opening ends with the error (connect() reports it, as Linux's does
 * EHOSTUNREACH, ENETUNREACH...); an open one keeps retrying and keeps the
 * error for its timeout (sk_err_soft), or with IP_RECVERR reports it now.
 * Fragmentation needed lowers the path MTU and the MSS (pmtu.c). Requests
 * and TIME_WAIT entries ignore ICMP.
 */
int cftcp_v4_err(struct sk_buff *skb, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	struct cftcp_net *cn = cftcp_pernet(dev_net(skb->dev));
	int type = icmp_hdr(skb)->type, code = icmp_hdr(skb)->code;
	const struct cftcphdr *th;
	struct cftcp_hnode *hn;
	struct cftcp_sock *cs;
	struct sock *sk;
	u32 seq;
	int err;

	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code > NR_ICMP_UNREACH)
			return 0;
		err = icmp_err_convert[code].errno;
		break;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	default:
		return 0;
	}

	/* ICMP pulled the quoted IP header and 8 bytes after it: our ports
	 * and sequence number (icmp_socket_deliver()).
	 */
	th = (const struct cftcphdr *)(skb->data + (iph->ihl << 2));
	rcu_read_lock();
	/* As tcp_v4_err(): the device the ICMP came in on, no VRF slave. */
	hn = cftcp_ehash_lookup(cn, iph->saddr, th->source, iph->daddr,
				th->dest, inet_iif(skb), 0);
	rcu_read_unlock();
	if (!hn)
		return -ENOENT;
	if (hn->kind != CFTCP_HK_SOCK)
		goto out_put;

	sk = cftcp_hnode_sk(hn);
	cs = cftcp_sk(sk);
	seq = ntohl(th->seq);
	bh_lock_sock(sk);
	if (sk->sk_state == CFTCP_CLOSE || seq_before(seq, cs->snd_una) ||
	    seq_after(seq, cs->snd_nxt))
		goto out_unlock;

	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		cftcp_v4_mtu_err(sk, info);
		goto out_unlock;
	}
	if (sk->sk_state == CFTCP_SYN_SENT || sk->sk_state == CFTCP_SYN_RECV) {
		if (!sock_owned_by_user(sk)) {
			cftcp_purge_queues(sk);
			cftcp_done_with_error(sk, err);
		} else {
			WRITE_ONCE(sk->sk_err_soft, err);
		}
	} else if (!sock_owned_by_user(sk) && inet_sk(sk)->recverr) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out_unlock:
	bh_unlock_sock(sk);
out_put:
	cftcp_hnode_put(hn);
	return 0;
}

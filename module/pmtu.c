// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp path MTU discovery (RFC 1191), as Linux's TCP does it. Segments
 * leave with DF set (IP_MTU_DISCOVER is IP_PMTUDISC_WANT unless the
 * ip_no_pmtu_disc sysctl says otherwise; ip_queue_xmit() follows the
 * option). A router that cannot forward one drops it and answers ICMP
 * fragmentation needed with the MTU of its next hop. If the segment is one
 * the connection still waits to have acknowledged, the route learns the
 * smaller path MTU, the send MSS comes down to fit it, the send queue is
 * cut into segments of the new MSS, and what the router dropped goes out
 * again at once instead of waiting for the retransmission timeout.
 *
 * The ICMP arrives in softirq under bh_lock_sock(). If the user owns the
 * socket then, the MTU is kept in cs->mtu_info and acted on when the owner
 * releases the socket (cftcp_release_cb()). Listeners, half-open requests
 * and TIME_WAIT entries ignore it, as Linux's do.
 */
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/dst.h>
#include <net/sock.h>

#include "cftcp.h"

/* Payload of a segment without options in an IPv4 packet of @mtu bytes. */
static u16 cftcp_mtu_to_mss(u32 mtu)
{
	u32 hdrs = sizeof(struct iphdr) + CFTCP_HDR_LEN;

	return mtu > hdrs + CFTCP_MIN_MSS ? min_t(u32, mtu - hdrs, U16_MAX) :
					    CFTCP_MIN_MSS;
}

/*
 * Tell the route that its path MTU is @mtu. IPv4 keeps it in an exception
 * of the next hop and makes the cached routes of that hop obsolete, so the
 * socket's route is looked up again and comes back with the new MTU.
 */
static struct dst_entry *cftcp_update_pmtu(struct sock *sk, u32 mtu)
{
	struct dst_entry *dst = __sk_dst_check(sk, 0);

	if (!dst) {
		dst = cftcp_reroute(sk);
		if (!dst)
			return NULL;
	}
	dst->ops->update_pmtu(dst, sk, NULL, mtu, true);
	dst = __sk_dst_check(sk, 0);
	return dst ?: cftcp_reroute(sk);
}

/*
 * Cut what is queued into segments of the new MSS, and send again at once
 * what went out larger: the router dropped it (Linux's
 * tcp_simple_retransmit()). What went out within the new MSS got through
 * and still waits for its ACK. The pieces of a sent segment keep its
 * state, so that nothing is appended to them and Karn's rule holds.
 */
static void cftcp_simple_retransmit(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 lost_end = cs->snd_una;
	bool sent = true, head = true;
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb), *ncb;

		if (skb == cs->send_head)
			sent = false;
		if (skb->len > cs->mss) {
			if (cftcp_fragment(sk, skb, cs->mss))
				break;
			if (sent) {
				ncb = CFTCP_SKB_CB(skb->next);
				ncb->sent = 1;
				ncb->when = cb->when;
				ncb->retransmitted = cb->retransmitted;
				lost_end = ncb->end_seq;
			}
		}
		if (!sent)
			continue;
		if (!seq_after(cb->end_seq, lost_end) &&
		    !cftcp_retransmit_skb(sk, skb) && head)
			cftcp_arm_rtx(sk, cs->rto);
		head = false;
	}
}

static void cftcp_mtu_reduced(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 mtu = READ_ONCE(cs->mtu_info);
	struct dst_entry *dst;
	u8 pmtudisc;
	u16 mss;

	if (sk->sk_state == CFTCP_LISTEN || sk->sk_state == CFTCP_CLOSE)
		return;
	dst = cftcp_update_pmtu(sk, mtu);
	if (!dst)
		return;
	/* Kept for the timeout, should the connection not recover. */
	if (mtu < dst_mtu(dst) && ip_dont_fragment(sk, dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);

	pmtudisc = READ_ONCE(inet_sk(sk)->pmtudisc);
	if (pmtudisc == IP_PMTUDISC_DONT || !ip_sk_accept_pmtu(sk))
		return;
	/* An MSS that is already this small still has the queue looked at:
	 * a segment that could not be cut for want of memory is cut when
	 * its resending draws the next ICMP.
	 */
	mss = cftcp_mtu_to_mss(dst_mtu(dst));
	mss = max_t(u16, mss - min(mss, cs->ip_opt_len), CFTCP_MIN_MSS);
	if (mss > cs->mss)
		return;		/* the peer's MSS or CFTCP_MAXSEG is smaller */
	cs->mss = mss;
	cftcp_simple_retransmit(sk);
}

/*
 * ICMP fragmentation needed (RFC 1191) about an unacknowledged segment of
 * @sk, from cftcp_v4_err() under bh_lock_sock(); @mtu is the next hop's.
 */
void cftcp_v4_mtu_err(struct sock *sk, u32 mtu)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	sock_owned_by_me(sk);
	WRITE_ONCE(cs->mtu_info, mtu);
	if (!sock_owned_by_user(sk))
		cftcp_mtu_reduced(sk);
	else
		set_bit(CFTCP_MTU_REDUCED_DEFERRED, &cs->deferred);
}

/*
 * From release_sock(), with the socket's spinlock held and BHs off: what
 * softirq left for the owner of the socket.
 */
void cftcp_release_cb(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (test_bit(CFTCP_MTU_REDUCED_DEFERRED, &cs->deferred) &&
	    test_and_clear_bit(CFTCP_MTU_REDUCED_DEFERRED, &cs->deferred))
		cftcp_mtu_reduced(sk);
}

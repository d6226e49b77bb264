// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp buffer sizing: the receive buffer grows with what the reader
 * takes per round trip (Linux's tcp_rcv_space_adjust(), "dynamic right
 * sizing"), so the window offered never holds back a sender on a fast
 * path; the send buffer grows to hold twice the largest window the peer
 * offered, the most a sender without a congestion window can have in
 * flight plus as much again queued behind it (tcp_sndbuf_expand() with
 * the peer's window in place of the congestion window).
 *
 * Neither moves a buffer the user set (SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK)
 * or goes past the protocol's rmem/wmem maximum; the send buffer does not
 * grow under memory pressure. Every function here runs under the socket
 * lock: owned by the caller, or held in softirq when not owned.
 */
#include <linux/ktime.h>
#include <net/sock.h>

#include "cftcp.h"

/* Monotonic across CPUs: softirq and the reader may run on different ones. */
static u64 cftcp_clock_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/*
 * The receiver's round-trip time, one sample per window of data: the time
 * from announcing a right edge to receiving it (tcp_rcv_rtt_measure()). A
 * sender that is not window-limited stretches a sample, so only smaller
 * ones are taken. Kept as microseconds << 3, as srtt.
 */
void cftcp_rcv_rtt_measure(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u64 now = cftcp_clock_us();
	u64 delta;

	sock_owned_by_me(sk);
	if (cs->rcv_rtt_time) {
		if (seq_before(cs->rcv_nxt, cs->rcv_rtt_seq))
			return;
		delta = clamp_t(u64, now - cs->rcv_rtt_time, 1, U32_MAX >> 3);
		if (!cs->rcv_rtt_us || (delta << 3) < cs->rcv_rtt_us)
			cs->rcv_rtt_us = delta << 3;
	}
	cs->rcv_rtt_seq = cs->rcv_nxt + cs->rcv_wnd;
	cs->rcv_rtt_time = now;
}

/*
 * After a read: once per receiver RTT, compare what the reader took with
 * the round before. When it grew, size the buffer for twice that plus
 * the growth again (the sender may be growing as fast), with room for 16
 * segments; the window offered is half the free buffer, so the buffer is
 * twice the window wanted.
 */
void cftcp_rcv_space_adjust(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u64 now = cftcp_clock_us();
	u32 copied;
	u64 rcvwin;
	int rcvbuf;

	sock_owned_by_me(sk);
	if (!cs->rcvq_time) {
		cs->rcvq_space = min_t(u32, cs->rcv_wnd, 10U * cs->rcv_mss);
		goto new_measure;
	}
	if (!cs->rcv_rtt_us || now - cs->rcvq_time < (cs->rcv_rtt_us >> 3))
		return;
	copied = cs->copied_seq - cs->rcvq_seq;
	if (copied <= cs->rcvq_space)
		goto new_measure;
	if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK)) {
		rcvwin = ((u64)copied << 1) + 16ULL * cs->rcv_mss;
		if (cs->rcvq_space)
			rcvwin += div_u64(rcvwin * (copied - cs->rcvq_space),
					  cs->rcvq_space) << 1;
		rcvbuf = min_t(u64, rcvwin << 1, cftcp_rmem_max());
		if (rcvbuf > READ_ONCE(sk->sk_rcvbuf))
			WRITE_ONCE(sk->sk_rcvbuf, rcvbuf);
	}
	cs->rcvq_space = copied;
new_measure:
	cs->rcvq_seq = cs->copied_seq;
	cs->rcvq_time = now;
}

/*
 * The send buffer for the largest window the peer offered: twice that
 * many segments, each counted at the memory a segment of this MSS takes
 * (its data rounded up and its sk_buff).
 */
void cftcp_sndbuf_expand(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 mss = max_t(u32, cs->mss, CFTCP_MIN_MSS);
	u32 per_mss, segs;
	u64 sndmem;

	if ((sk->sk_userlocks & SOCK_SNDBUF_LOCK) ||
	    sk_under_memory_pressure(sk) ||
	    sk_memory_allocated(sk) >= sk_prot_mem_limits(sk, 0))
		return;
	per_mss = mss + CFTCP_MAX_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	segs = max_t(u32, 10, DIV_ROUND_UP(cs->max_window, mss));
	sndmem = 2ULL * segs * per_mss;
	sndmem = min_t(u64, sndmem, cftcp_wmem_max());
	if (sndmem > READ_ONCE(sk->sk_sndbuf))
		WRITE_ONCE(sk->sk_sndbuf, sndmem);
}

/*
 * At establishment (tcp_init_buffer_space()): the measures start afresh,
 * so a socket connected again after connect(AF_UNSPEC) does not compare
 * its first read with the last connection's sequence numbers (the
 * disconnect forgets them too, for a socket that reaches FIN_WAIT1 from
 * SYN_RECV without passing ESTABLISHED); the send buffer is sized for the
 * window the handshake offered.
 */
void cftcp_init_buffer_space(struct sock *sk)
{
	cftcp_rcv_measure_reset(sk);
	cftcp_sndbuf_expand(sk);
}

/* Forget the receiver's measures: at establishment and at disconnect. */
void cftcp_rcv_measure_reset(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->rcv_rtt_us = 0;
	cs->rcv_rtt_seq = 0;
	cs->rcv_rtt_time = 0;
	cs->rcvq_space = 0;
	cs->rcvq_seq = 0;
	cs->rcvq_time = 0;
}

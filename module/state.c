// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp connection state machine: the one function that changes a
 * connection's state (cftcp_set_state), RFC 9293 section 3.10.7's segment
 * arrival steps for SYN-SENT and the synchronized states, the CLOSE and
 * ABORT calls (3.10.4, 3.10.5), and the end of a connection.
 *
 * Every function here runs with the socket locked: lock_sock() from
 * system calls, bh_lock_sock() from the protocol handler and timers.
 * Listeners and half-open requests are in synq.c, TIME_WAIT in timewait.c.
 */
#include <linux/security.h>
#include <net/sock.h>
#include <net/ip.h>

#include "cftcp.h"
#include "trace/events/cftcp.h"

static const char *const cftcp_state_names[CFTCP_MAX_STATES] = {
	[0]			= "UNKNOWN",
	[CFTCP_ESTABLISHED]	= "ESTABLISHED",
	[CFTCP_SYN_SENT]	= "SYN_SENT",
	[CFTCP_SYN_RECV]	= "SYN_RECV",
	[CFTCP_FIN_WAIT1]	= "FIN_WAIT1",
	[CFTCP_FIN_WAIT2]	= "FIN_WAIT2",
	[CFTCP_TIME_WAIT]	= "TIME_WAIT",
	[CFTCP_CLOSE]		= "CLOSE",
	[CFTCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[CFTCP_LAST_ACK]	= "LAST_ACK",
	[CFTCP_LISTEN]		= "LISTEN",
	[CFTCP_CLOSING]		= "CLOSING",
};

const char *cftcp_state_name(int state)
{
	if (state <= 0 || state >= CFTCP_MAX_STATES)
		return cftcp_state_names[0];
	return cftcp_state_names[state];
}

#define CFTCPF(s)	(1 << CFTCP_##s)

/*
 * The one place a connection changes state. Keeps CurrEstab,
 * EstabResets and AttemptFails as Linux's tcp_set_state()/tcp_done() do,
 * and on CLOSE leaves the 4-tuple table and, unless bind() chose it, the
 * port.
 */
void cftcp_set_state(struct sock *sk, int state)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);
	int old = sk->sk_state;

	sock_owned_by_me(sk);
	if (old == state)
		return;

	trace_cftcp_set_state(sk, old, state);
	pr_debug("cftcp: %pI4:%u %pI4:%u %s -> %s\n",
		 &cs->inet.inet_saddr, ntohs(cs->inet.inet_sport),
		 &cs->inet.inet_daddr, ntohs(cs->inet.inet_dport),
		 cftcp_state_name(old), cftcp_state_name(state));

	if (state == CFTCP_ESTABLISHED)
		CFTCP_INC_STATS(cn, CFTCP_MIB_CURRESTAB);
	else if (old == CFTCP_ESTABLISHED)
		CFTCP_DEC_STATS(cn, CFTCP_MIB_CURRESTAB);

	if (state == CFTCP_CLOSE) {
		if (old == CFTCP_SYN_SENT || old == CFTCP_SYN_RECV)
			CFTCP_INC_STATS(cn, CFTCP_MIB_ATTEMPTFAILS);
		if (old == CFTCP_ESTABLISHED || old == CFTCP_CLOSE_WAIT)
			CFTCP_INC_STATS(cn, CFTCP_MIB_ESTABRESETS);
		if (cs->listen_hashed)
			cftcp_listen_unhash(sk);
		if (cftcp_ehash_remove(cn, &cs->hnode))
			__sock_put(sk);
		if (cs->bnode.bb && !cs->user_bound) {
			cftcp_bind_del(sk);
			cs->inet.inet_num = 0;
			cs->inet.inet_sport = 0;
		}
	}

	/* Pairs with inet_sk_state_load() in poll and /proc readers. */
	cftcp_state_store(sk, state);
}

void cftcp_purge_queues(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		cftcp_wmem_free_skb(sk, skb);
	cs->send_head = NULL;
	__skb_queue_purge(&sk->sk_receive_queue);
	cftcp_ooo_purge(sk);
}

/*
 * Free an orphan once it reaches CLOSE: drop the reference the user's
 * socket had, which the orphan kept (see cftcp_close()).
 */
void cftcp_destroy_sock(struct sock *sk)
{
	sock_owned_by_me(sk);
	WARN_ON_ONCE(sk->sk_state != CFTCP_CLOSE);
	cftcp_clear_timers(sk);
	cftcp_unhash(sk);
	cftcp_purge_queues(sk);
	cftcp_orphan_done(sk);
	sock_put(sk);
}

/* The connection is over: RFC 9293 "delete the TCB". */
void cftcp_done(struct sock *sk)
{
	sock_owned_by_me(sk);
	cftcp_set_state(sk, CFTCP_CLOSE);
	cftcp_clear_timers(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
	else
		cftcp_destroy_sock(sk);
}

/*
 * The connection ends on an error the user is to see: @err. It is reported
 * once the connection is closed, so that whoever wakes on it polls the
 * final mask (the order of Linux's tcp_done_with_error()). The queues are
 * the caller's business.
 */
void cftcp_done_with_error(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
	/* Pairs with smp_rmb() in cftcp_poll(). */
	smp_wmb();
	cftcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/* A RST was accepted: the errno the user sees depends on the state. */
void cftcp_reset(struct sock *sk, struct sk_buff *skb)
{
	int err;

	switch (sk->sk_state) {
	case CFTCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case CFTCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case CFTCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	trace_cftcp_receive_reset(sk);
	cftcp_purge_queues(sk);
	cftcp_done_with_error(sk, err);
}

/* States in which an abort must tell the peer (Linux's tcp_need_reset). */
static bool cftcp_need_reset(int state)
{
	return (1 << state) & (CFTCPF(ESTABLISHED) | CFTCPF(CLOSE_WAIT) |
			       CFTCPF(FIN_WAIT1) | CFTCPF(FIN_WAIT2) |
			       CFTCPF(SYN_RECV));
}

/* RFC 9293 3.10.5 ABORT, with @err for the user. */
void cftcp_abort(struct sock *sk, int err)
{
	sock_owned_by_me(sk);
	if (sk->sk_state == CFTCP_CLOSE)
		return;
	if (cftcp_need_reset(sk->sk_state))
		cftcp_send_active_reset(sk, GFP_ATOMIC);
	cftcp_purge_queues(sk);
	cftcp_done_with_error(sk, err);
}

/*
 * The state after the user's CLOSE or SHUT_WR (RFC 9293 3.10.4). Returns
 * true if a FIN is to be sent.
 */
static const unsigned char cftcp_close_next[CFTCP_MAX_STATES] = {
	[0]			= CFTCP_CLOSE,
	[CFTCP_ESTABLISHED]	= CFTCP_FIN_WAIT1 | 0x80,
	[CFTCP_SYN_SENT]	= CFTCP_CLOSE,
	[CFTCP_SYN_RECV]	= CFTCP_FIN_WAIT1 | 0x80,
	[CFTCP_FIN_WAIT1]	= CFTCP_FIN_WAIT1,
	[CFTCP_FIN_WAIT2]	= CFTCP_FIN_WAIT2,
	[CFTCP_TIME_WAIT]	= CFTCP_CLOSE,
	[CFTCP_CLOSE]		= CFTCP_CLOSE,
	[CFTCP_CLOSE_WAIT]	= CFTCP_LAST_ACK | 0x80,
	[CFTCP_LAST_ACK]	= CFTCP_LAST_ACK,
	[CFTCP_LISTEN]		= CFTCP_CLOSE,
	[CFTCP_CLOSING]		= CFTCP_CLOSING,
};

void cftcp_close_state(struct sock *sk)
{
	int next = cftcp_close_next[sk->sk_state];

	cftcp_set_state(sk, next & 0x7f);
	if (next & 0x80)
		cftcp_send_fin(sk);
}

/* shutdown(SHUT_WR) */
void cftcp_shutdown_send(struct sock *sk)
{
	if ((1 << sk->sk_state) & (CFTCPF(ESTABLISHED) | CFTCPF(SYN_RECV) |
				   CFTCPF(CLOSE_WAIT)))
		cftcp_close_state(sk);
}

/* Bytes queued for the reader that it has not taken. */
static u32 cftcp_unread(const struct sock *sk)
{
	const struct cftcp_sock *cs = cftcp_sk(sk);

	return cs->rcv_nxt - cs->copied_seq - cs->fin_rcvd;
}

/*
 * close(): data unread or SO_LINGER {1, 0} abort with RST; otherwise a FIN
 * follows the data and the connection finishes as an orphan, which keeps
 * the reference the user's socket had until it reaches CLOSE.
 */
void cftcp_close(struct sock *sk, long timeout)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	bool oom;
	int state;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);

	if (sk->sk_state == CFTCP_LISTEN) {
		cftcp_set_state(sk, CFTCP_CLOSE);
		cftcp_listen_stop(sk);
		goto adjudge_to_death;
	}

	if (sk->sk_state == CFTCP_CLOSE) {
		cftcp_purge_queues(sk);
	} else if (cftcp_unread(sk)) {
		/* RFC 2525 2.17: unread data is lost, tell the peer. */
		CFTCP_INC_STATS(cn, CFTCP_MIB_ABORTONCLOSE);
		cftcp_send_active_reset(sk, sk->sk_allocation);
		cftcp_purge_queues(sk);
		cftcp_set_state(sk, CFTCP_CLOSE);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		if (cftcp_need_reset(sk->sk_state)) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_ABORTONLINGER);
			cftcp_send_active_reset(sk, sk->sk_allocation);
		}
		cftcp_purge_queues(sk);
		cftcp_set_state(sk, CFTCP_CLOSE);
	} else {
		__skb_queue_purge(&sk->sk_receive_queue);
		cftcp_ooo_purge(sk);
		cftcp_close_state(sk);
	}

	sk_stream_wait_close(sk, timeout);

adjudge_to_death:
	state = sk->sk_state;
	sock_hold(sk);
	oom = cftcp_orphan(sk);
	release_sock(sk);

	local_bh_disable();
	bh_lock_sock(sk);
	/* Closed by a segment or timer while we slept: already freed. */
	if (state != CFTCP_CLOSE && sk->sk_state == CFTCP_CLOSE)
		goto out;

	if (oom && sk->sk_state != CFTCP_CLOSE) {
		/* Too many orphans or no memory: give up at once. */
		CFTCP_INC_STATS(cn, CFTCP_MIB_ABORTONMEMORY);
		if (cftcp_need_reset(sk->sk_state) ||
		    (1 << sk->sk_state) & (CFTCPF(CLOSING) | CFTCPF(LAST_ACK)))
			cftcp_send_active_reset(sk, GFP_ATOMIC);
		cftcp_purge_queues(sk);
		cftcp_set_state(sk, CFTCP_CLOSE);
	}

	if (sk->sk_state == CFTCP_FIN_WAIT2) {
		int tmo = cftcp_fin_timeout(sk);

		if (tmo < 0) {
			cftcp_send_active_reset(sk, GFP_ATOMIC);
			CFTCP_INC_STATS(cn, CFTCP_MIB_ABORTONLINGER);
			cftcp_set_state(sk, CFTCP_CLOSE);
		} else {
			cftcp_arm_fin_wait2(sk, tmo);
		}
	}
	if (sk->sk_state == CFTCP_CLOSE)
		cftcp_destroy_sock(sk);
out:
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
}

/* connect(AF_UNSPEC) and shutdown of a connecting socket. */
int cftcp_disconnect(struct sock *sk, int flags)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	int old = sk->sk_state;

	sock_owned_by_me(sk);
	/* The RST goes out before CLOSE gives up the port it names. */
	if (cftcp_need_reset(old)) {
		cftcp_send_active_reset(sk, GFP_ATOMIC);
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	} else if (old == CFTCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}
	if (old != CFTCP_CLOSE)
		cftcp_set_state(sk, CFTCP_CLOSE);
	if (old == CFTCP_LISTEN)
		cftcp_listen_stop(sk);
	cftcp_clear_timers(sk);
	cftcp_purge_queues(sk);
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		inet->inet_rcv_saddr = 0;
	}
	inet->inet_dport = 0;
	inet->inet_daddr = 0;
	WRITE_ONCE(sk->sk_shutdown, 0);
	sock_reset_flag(sk, SOCK_DONE);
	cs->fin_rcvd = 0;
	cs->fin_queued = 0;
	cs->syn_acked = 0;
	cs->retransmits = 0;
	cs->srtt_us = 0;
	cs->rttvar_us = 0;
	cftcp_rcv_measure_reset(sk);
	cftcp_init_xmit(sk);
	sk_dst_reset(sk);
	sk_error_report(sk);
	return 0;
}

/* ---- Segment arrival ------------------------------------------------- */

static void cftcp_init_wl(struct cftcp_sock *cs, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);

	cs->snd_wl1 = cb->seq;
}

/* Agreed options from a SYN or SYN-ACK. */
static int cftcp_take_syn_options(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	bool wscale_ok = false;
	u16 mss = CFTCP_DEFAULT_MSS;
	u8 wscale = 0;

	if (cftcp_parse_options(skb, &mss, &wscale, &wscale_ok))
		return -EINVAL;
	cs->wscale_ok = wscale_ok;
	if (wscale_ok) {
		cs->snd_wscale = wscale;
	} else {
		cs->snd_wscale = 0;
		cs->rcv_wscale = 0;
	}
	cftcp_sync_mss(sk, mss);
	return 0;
}

/* RFC 9293 3.10.7.3: a segment for a socket in SYN_SENT. */
int cftcp_rcv_synsent(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	struct net *net = sock_net(sk);

	sock_owned_by_me(sk);
	/* First, check the ACK bit. */
	if (th->ack && (!seq_after(cb->ack_seq, cs->iss) ||
			seq_after(cb->ack_seq, cs->snd_nxt))) {
		/* An old FIN/ACK or RST/ACK may have eaten our SYN: send it
		 * again soon, the first time (Linux's TCP_TIMEOUT_MIN).
		 */
		if (!cs->retransmits)
			cftcp_arm_rtx(sk, 2);
		cftcp_send_reset_reply(net, skb);
		return 0;
	}
	/* Second, the RST bit: honoured only with an acceptable ACK. */
	if (th->rst) {
		if (th->ack)
			cftcp_reset(sk, skb);
		return 0;
	}
	/* Fourth, the SYN bit. */
	if (!th->syn)
		return 0;

	cs->irs = cb->seq;
	cs->rcv_nxt = cb->seq + 1;
	cs->copied_seq = cs->rcv_nxt;
	cs->rcv_wup = cs->rcv_nxt;
	if (cftcp_take_syn_options(sk, skb))
		return 0;
	cs->snd_wnd = ntohs(th->window);	/* never scaled in a SYN */
	cs->max_window = cs->snd_wnd;
	cs->rcv_tstamp = jiffies;

	if (th->ack) {
		cs->snd_una = cb->ack_seq;
		cs->syn_acked = 1;
		cftcp_init_wl(cs, skb);
		if (cs->rtt_pending && !cs->retransmits)
			cftcp_rtt_sample(sk, jiffies - cs->rtt_start);
		cs->rtt_pending = false;
		cs->retransmits = 0;
		cs->retrans_stamp = 0;
		cftcp_stop_rtx(sk);
		/* The LSMs label the connection from its SYN-ACK. */
		security_inet_conn_established(sk, skb);
		cftcp_set_state(sk, CFTCP_ESTABLISHED);
		cftcp_init_buffer_space(sk);
		cftcp_init_ack_mss(sk);
		cftcp_reset_keepalive(sk);
		cftcp_send_ack(sk);
		if (!sock_flag(sk, SOCK_DEAD)) {
			sk->sk_state_change(sk);
			sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
		}
		cftcp_push(sk);
		return 0;
	}

	/* Simultaneous open (RFC 9293 figure 7): SYN_RECV, send SYN-ACK. */
	cftcp_set_state(sk, CFTCP_SYN_RECV);
	cftcp_init_wl(cs, skb);
	cftcp_send_syn(sk);
	cftcp_arm_rtx(sk, cs->rto);
	return 0;
}

/* Linux's tcp_sequence(): does the segment overlap the receive window? */
static bool cftcp_sequence_ok(const struct cftcp_sock *cs, u32 seq, u32 end)
{
	u32 right = cs->rcv_wup + cs->rcv_wnd;
	u32 win = seq_after(right, cs->rcv_nxt) ? right - cs->rcv_nxt : 0;

	return !seq_before(end, cs->rcv_wup) &&
	       !seq_after(seq, cs->rcv_nxt + win);
}

static void cftcp_fin_acked(struct sock *sk, struct sk_buff *skb)
{
	switch (sk->sk_state) {
	case CFTCP_FIN_WAIT1:
		if (sock_flag(sk, SOCK_DEAD) && cftcp_fin_timeout(sk) < 0) {
			/* CFTCP_LINGER2 < 0: no FIN_WAIT2 for an orphan; the
			 * ACK is answered with a RST, as Linux does.
			 */
			CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_ABORTONDATA);
			cftcp_send_reset_reply(sock_net(sk), skb);
			cftcp_done(sk);
			return;
		}
		cftcp_set_state(sk, CFTCP_FIN_WAIT2);
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		if (!sock_flag(sk, SOCK_DEAD))
			sk->sk_state_change(sk);
		else
			cftcp_arm_fin_wait2(sk, cftcp_fin_timeout(sk));
		break;
	case CFTCP_CLOSING:
		cftcp_time_wait(sk);
		break;
	case CFTCP_LAST_ACK:
		cftcp_done(sk);
		break;
	}
}

/*
 * After the ACK field: our FIN acknowledged, then the segment text and the
 * FIN bit (RFC 9293 3.10.7.4 seventh and eighth steps, cftcp_fin()).
 * Returns 1 if the data path took @skb.
 */
static int cftcp_rcv_text(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (cs->fin_queued && cs->snd_una == cs->write_seq) {
		cftcp_fin_acked(sk, skb);
		if (sk->sk_state == CFTCP_CLOSE || sk->sk_state ==
		    CFTCP_TIME_WAIT)
			return 0;
	}

	/* Seventh, the segment text; eighth, the FIN bit (cftcp_fin()). */
	switch (sk->sk_state) {
	case CFTCP_CLOSE_WAIT:
	case CFTCP_CLOSING:
	case CFTCP_LAST_ACK:
		if (!seq_before(cb->seq, cs->rcv_nxt))
			return 0;	/* the peer's FIN is in: ignore text */
		fallthrough;
	case CFTCP_FIN_WAIT1:
	case CFTCP_FIN_WAIT2:
		/* Data for a reader that shut reading or has gone
		 * (Linux's tcp_rcv_state_process(): a reset).
		 */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
		    cb->end_seq != cb->seq &&
		    seq_after(cb->end_seq - !!(cb->flags & CFTCP_FLAG_FIN),
			      cs->rcv_nxt)) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_ABORTONDATA);
			cftcp_send_active_reset(sk, GFP_ATOMIC);
			cftcp_reset(sk, skb);
			return 0;
		}
		fallthrough;
	case CFTCP_ESTABLISHED:
		if (cb->end_seq == cb->seq)
			return 0;	/* pure ACK */
		cftcp_data_queue(sk, skb);
		return 1;
	}
	return 0;
}

/*
 * RFC 9293 3.10.7.4: a segment for a connection in a synchronized state or
 * SYN_RECV. @skb's header is pulled; the caller frees it unless the data
 * path took it (returns 1).
 */
int cftcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	struct cftcp_net *cn = cftcp_sk_net(sk);
	bool text;
	int taken;

	sock_owned_by_me(sk);
	if (sk->sk_state == CFTCP_SYN_SENT)
		return cftcp_rcv_synsent(sk, skb);

	/* A SYN-ACK completing a simultaneous open: its SYN is old news,
	 * also after a close() in SYN_RECV moved on to FIN_WAIT1.
	 */
	if (!cs->syn_acked && th->syn && th->ack && cb->seq == cs->irs) {
		cb->seq++;
		cb->flags &= ~CFTCP_FLAG_SYN;
	}

	/* First, check the sequence number. */
	if (!cftcp_sequence_ok(cs, cb->seq, cb->end_seq)) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_OUTOFWINDOW);
		if (th->rst)
			return 0;
		if (cb->flags & CFTCP_FLAG_SYN) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_SYNCHALLENGE);
			cftcp_send_challenge_ack(sk);
		} else if (!cftcp_oow_rate_limited(cn, skb,
						   CFTCP_MIB_ACKSKIPPEDSEQ,
						   &cs->last_oow_ack_time)) {
			/* Old data: our ACK of it was lost (tcp_send_dupack()). */
			if (cb->end_seq != cb->seq &&
			    seq_before(cb->seq, cs->rcv_nxt))
				cftcp_enter_quickack(sk);
			cftcp_send_ack(sk);
		}
		return 0;
	}
	cs->rcv_tstamp = jiffies;
	/* Any segment answers a keepalive probe; only an ACK of data or an
	 * opened window (cftcp_ack(), the probe timer) ends window probing.
	 */
	if (cs->rtx_mode != CFTCP_RTX_PROBE)
		cs->probes_out = 0;

	/* Second, the RST bit (RFC 5961 3.2). */
	if (th->rst) {
		if (cb->seq == cs->rcv_nxt)
			cftcp_reset(sk, skb);
		else
			cftcp_send_challenge_ack(sk);
		return 0;
	}

	/* Fourth, a SYN in a synchronized state: challenge ACK (RFC 5961 4). */
	if (cb->flags & CFTCP_FLAG_SYN) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_SYNCHALLENGE);
		cftcp_send_challenge_ack(sk);
		return 0;
	}

	/* Fifth, the ACK field. */
	if (!th->ack)
		return 0;

	if (sk->sk_state == CFTCP_SYN_RECV) {
		if (!seq_after(cb->ack_seq, cs->snd_una) ||
		    seq_after(cb->ack_seq, cs->snd_nxt)) {
			cftcp_send_reset_reply(sock_net(sk), skb);
			return 0;
		}
		cs->snd_una = cb->ack_seq;
		cs->syn_acked = 1;
		/* RFC 7323 2.2: a SYN-ACK's window (simultaneous open) is
		 * never scaled.
		 */
		cs->snd_wnd = (u32)ntohs(th->window) <<
			      (th->syn ? 0 : cs->snd_wscale);
		cs->max_window = max(cs->max_window, cs->snd_wnd);
		cftcp_init_wl(cs, skb);
		cs->retransmits = 0;
		cs->retrans_stamp = 0;
		cftcp_stop_rtx(sk);
		cftcp_set_state(sk, CFTCP_ESTABLISHED);
		cftcp_init_buffer_space(sk);
		cftcp_init_ack_mss(sk);
		cftcp_reset_keepalive(sk);
		if (!sock_flag(sk, SOCK_DEAD)) {
			sk->sk_state_change(sk);
			sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
		}
	}

	if (!cftcp_ack(sk, skb))
		return 0;
	text = cb->end_seq != cb->seq;
	taken = cftcp_rcv_text(sk, skb);
	/* What the ACK let go now carries the acknowledgment of the text
	 * (cftcp_ack_push()).
	 */
	if (text && !((1 << sk->sk_state) & (CFTCPF(CLOSE) | CFTCPF(TIME_WAIT))))
		cftcp_push(sk);
	return taken;
}

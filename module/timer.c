// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp per-connection timers: retransmission (SYN, data, FIN; RFC 6298
 * with exponential backoff) and zero-window probing, delayed ACK, and
 * keepalive, which also times out orphans in FIN_WAIT2.
 *
 * Each pending timer holds a socket reference (sk_reset_timer). Handlers
 * run in softirq: they take bh_lock_sock(); if the user owns the socket
 * they re-arm shortly and leave, otherwise they act; then drop the
 * reference the timer held.
 */
#include <net/sock.h>

#include "cftcp.h"

#define CFTCP_TIMER_RETRY	(HZ / 50)

unsigned long cftcp_rto_initial(const struct sock *sk)
{
	return cftcp_ms_to_jiffies(READ_ONCE(cftcp_sk_net(sk)->sysctl.rto_initial_ms));
}

static unsigned long cftcp_rto_max(const struct sock *sk)
{
	return cftcp_ms_to_jiffies(READ_ONCE(cftcp_sk_net(sk)->sysctl.rto_max_ms));
}

/* FIN_WAIT2 lifetime of an orphan, in jiffies; negative: reset at once. */
int cftcp_fin_timeout(const struct sock *sk)
{
	int linger2 = READ_ONCE(cftcp_sk(sk)->linger2);

	if (linger2 < 0)
		return -1;
	if (!linger2)
		linger2 = READ_ONCE(cftcp_sk_net(sk)->sysctl.fin_timeout) * HZ;
	return linger2;
}

void cftcp_arm_rtx(struct sock *sk, unsigned long when)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->rtx_mode = CFTCP_RTX_DATA;
	cs->probe_backoff = 0;
	cs->probes_stamp = 0;
	sk_reset_timer(sk, &cs->rtx_timer, jiffies + when);
}

/*
 * After an ACK: restart the timer if data is still out. Else it is
 * stopped lazily, as Linux's inet_csk_clear_xmit_timer(): the mode says
 * nothing is timed, and a timer still pending fires into nothing or is
 * moved by the next send, which saves a del_timer() and a re-arm per
 * request/response exchange. cftcp_clear_timers() stops it for good.
 */
void cftcp_rearm_rtx(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (cs->snd_una != cs->snd_nxt)
		cftcp_arm_rtx(sk, cs->rto);
	else
		cs->rtx_mode = CFTCP_RTX_NONE;
}

void cftcp_stop_rtx(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->rtx_mode = CFTCP_RTX_NONE;
	sk_stop_timer(sk, &cs->rtx_timer);
}

/* RFC 6298 section 2: fold one measurement into SRTT and RTTVAR. */
void cftcp_rtt_sample(struct sock *sk, u32 rtt_jiffies)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 m = jiffies_to_usecs(rtt_jiffies) ?: 1;

	if (!cs->srtt_us) {
		cs->srtt_us = m;
		cs->rttvar_us = m / 2;
	} else {
		u32 delta = cs->srtt_us > m ? cs->srtt_us - m : m - cs->srtt_us;

		cs->rttvar_us = cs->rttvar_us - cs->rttvar_us / 4 + delta / 4;
		cs->srtt_us = cs->srtt_us - cs->srtt_us / 8 + m / 8;
	}
	cftcp_rto_collapse(sk);
}

/*
 * The RTO that SRTT and RTTVAR give (rto_initial_ms before any sample),
 * without backoff: after each RTT sample, and on an ACK of new data, which
 * shows the path works. Without timestamps, Karn's rule finds no sample
 * while every ACK covers a retransmitted segment, and the backoff would
 * otherwise keep doubling across successive losses.
 */
void cftcp_rto_collapse(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_sysctl *sys = &cftcp_sk_net(sk)->sysctl;
	u32 rto_us;

	if (!cs->srtt_us) {
		cs->rto = cftcp_rto_initial(sk);
		return;
	}
	/* As Linux: the variance term is at least rto_min. */
	rto_us = cs->srtt_us + max_t(u32, 4 * cs->rttvar_us,
				     READ_ONCE(sys->rto_min_ms) * 1000U);
	cs->rto = min(usecs_to_jiffies(rto_us), cftcp_rto_max(sk));
}

static bool cftcp_is_orphan(const struct sock *sk)
{
	return sock_flag(sk, SOCK_DEAD);
}

/*
 * Abort on a timeout: the user sees ETIMEDOUT (or a soft error seen); what
 * was received stays readable.
 */
static void cftcp_write_err(struct sock *sk)
{
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_ABORTONTIMEOUT);
	cftcp_done_with_error(sk, READ_ONCE(sk->sk_err_soft) ?: ETIMEDOUT);
}

static int cftcp_max_retries(struct sock *sk)
{
	struct cftcp_sysctl *sys = &cftcp_sk_net(sk)->sysctl;
	int n;

	if (sk->sk_state == CFTCP_SYN_SENT || sk->sk_state == CFTCP_SYN_RECV) {
		n = READ_ONCE(cftcp_sk(sk)->syn_retries);
		return n ?: READ_ONCE(sys->syn_retries);
	}
	if (cftcp_is_orphan(sk)) {
		/* Linux tcp_orphan_retries(): 0 means 8. */
		n = READ_ONCE(sys->orphan_retries);
		return n ?: 8;
	}
	return READ_ONCE(sys->retries2);
}

static bool cftcp_user_timeout_expired(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 ut = READ_ONCE(cs->user_timeout);

	return ut && cs->retrans_stamp &&
	       time_after_eq(jiffies, cs->retrans_stamp + msecs_to_jiffies(ut));
}

static void cftcp_retransmit_timeout(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_net *cn = cftcp_sk_net(sk);

	/* Every expiry counts, the one that gives up too (as Linux). */
	CFTCP_INC_STATS(cn, CFTCP_MIB_TIMEOUTS);
	if (cftcp_is_orphan(sk) && cftcp_orphan_out_of_resources(sk))
		return;
	if (cs->retransmits >= cftcp_max_retries(sk) ||
	    cftcp_user_timeout_expired(sk)) {
		cftcp_write_err(sk);
		return;
	}

	/* The SYN is the oldest thing unacknowledged until the handshake
	 * ends, even after a close() in SYN_RECV moved on to FIN_WAIT1.
	 */
	if (!cs->syn_acked) {
		if (!cftcp_send_syn(sk)) {
			cs->total_retrans++;
			CFTCP_INC_STATS(cn, CFTCP_MIB_RETRANSSEGS);
			CFTCP_INC_STATS(cn, sk->sk_state == CFTCP_SYN_SENT ?
					    CFTCP_MIB_SYNRETRANS :
					    CFTCP_MIB_SYNACKRETRANS);
		}
		if (!cs->retrans_stamp)
			cs->retrans_stamp = jiffies ?: 1;
	} else {
		if (cs->snd_una == cs->snd_nxt) {
			cftcp_stop_rtx(sk);
			return;
		}
		/* Recover from the oldest hole one segment per ACK, as
		 * NewReno's partial ACKs do (RFC 6582), until what was out
		 * at the timeout is acknowledged.
		 */
		cs->in_recovery = 1;
		cs->recover = cs->snd_nxt;
		cs->dupacks = 0;
		cftcp_retransmit_head(sk);
	}
	cs->retransmits++;
	cs->rto = min_t(unsigned long, (unsigned long)cs->rto << 1,
			cftcp_rto_max(sk));
	cftcp_arm_rtx(sk, cs->rto);
}

/* Linux's tcp_orphan_retries(): 0 means 8 while the path seems alive. */
static int cftcp_orphan_retries(struct sock *sk, bool alive)
{
	int n = READ_ONCE(cftcp_sk_net(sk)->sysctl.orphan_retries);

	if (READ_ONCE(sk->sk_err_soft) && !alive)
		n = 0;
	if (!n && alive)
		n = 8;
	return n;
}

/*
 * Window probe timer (Linux's tcp_probe_timer()). Probes the peer answers
 * go on for ever (RFC 1122 4.2.2.17: each acceptable ACK resets
 * probes_out), but CFTCP_USER_TIMEOUT counts from the first probe until
 * the window opens, and an orphan gives up once its backed-off interval
 * reached rto_max and it backed off orphan_retries times.
 */
static void cftcp_probe_timeout(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	u32 ut = READ_ONCE(cs->user_timeout);
	unsigned long base, when;
	int max;

	if (!cs->send_head || cs->snd_una != cs->snd_nxt ||
	    cftcp_snd_space(cs)) {
		/* Window opened or nothing waits: resume sending, and past
		 * silly window avoidance (its override timeout, RFC 9293
		 * 3.8.6.2.1) if only a part of a segment fits.
		 */
		cs->rtx_mode = CFTCP_RTX_NONE;
		cs->probes_out = 0;
		cs->probe_backoff = 0;
		cs->probes_stamp = 0;
		__cftcp_push(sk, true);
		return;
	}
	if (!cs->probes_stamp)
		cs->probes_stamp = jiffies ?: 1;
	else if (ut && time_after_eq(jiffies, cs->probes_stamp +
				     msecs_to_jiffies(ut)))
		goto abort;

	base = max_t(unsigned long, cs->rto, cftcp_ms_to_jiffies(200));
	max = READ_ONCE(cftcp_sk_net(sk)->sysctl.retries2);
	if (cftcp_is_orphan(sk)) {
		bool alive = (base << min_t(u8, cs->probe_backoff, 31)) <
			     cftcp_rto_max(sk);

		max = cftcp_orphan_retries(sk, alive);
		if (!alive && cs->probe_backoff >= max)
			goto abort;
		if (cftcp_orphan_out_of_resources(sk))
			return;
	}
	if (cs->probes_out >= max)
		goto abort;

	cftcp_send_probe(sk);
	if (cs->probe_backoff < READ_ONCE(cftcp_sk_net(sk)->sysctl.retries2))
		cs->probe_backoff++;
	when = min_t(unsigned long, base << min_t(u8, cs->probe_backoff, 31),
		     cftcp_rto_max(sk));
	cs->rtx_mode = CFTCP_RTX_PROBE;
	sk_reset_timer(sk, &cs->rtx_timer, jiffies + when);
	return;
abort:
	cftcp_write_err(sk);
}

static void cftcp_rtx_timer_fn(struct timer_list *t)
{
	struct cftcp_sock *cs = from_timer(cs, t, rtx_timer);
	struct sock *sk = (struct sock *)cs;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		sk_reset_timer(sk, &cs->rtx_timer, jiffies + CFTCP_TIMER_RETRY);
	} else if (sk->sk_state != CFTCP_CLOSE &&
		   sk->sk_state != CFTCP_LISTEN && !timer_pending(t)) {
		if (cs->rtx_mode == CFTCP_RTX_PROBE)
			cftcp_probe_timeout(sk);
		else if (cs->rtx_mode == CFTCP_RTX_DATA)
			cftcp_retransmit_timeout(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

/*
 * Delayed ACK: at most 40 ms after the first data the ACK owed covers. A
 * timer still pending for an ACK that has gone since is left to run out
 * (no del_timer per ACK sent) and then waits for the due time of this one.
 */
void cftcp_schedule_delack(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (!cs->delack_set) {
		cs->delack_due = jiffies + CFTCP_DELACK_TIME;
		cs->delack_set = 1;
	}
	if (!timer_pending(&cs->delack_timer))
		sk_reset_timer(sk, &cs->delack_timer, cs->delack_due);
}

/*
 * Quickack: the first CFTCP_QUICKACKS ACKs after the first data received
 * go at once, and again after a silence longer than the RTO, when the
 * sender may be restarting from an idle window (Linux's
 * tcp_event_data_recv()). Data sent within the delayed-ACK time of data
 * received makes the connection interactive (pingpong,
 * tcp_event_data_sent()): the ACK of what arrives next then waits for the
 * answer. A delayed ACK the timer has to send alone ends it, and so do
 * old, out-of-window and zero-window data, whose ACK was lost or is
 * wanted (tcp_enter_quickack_mode()).
 */
void cftcp_data_rcvd(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (!cs->data_rcvd)
		cs->quickack = CFTCP_QUICKACKS;
	else if (jiffies - cs->lrcvtime > cs->rto)
		cs->quickack = max_t(u8, cs->quickack, CFTCP_QUICKACKS);
	cs->lrcvtime = jiffies;
	cs->data_rcvd = 1;
}

void cftcp_data_sent(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (cs->data_rcvd && jiffies - cs->lrcvtime < CFTCP_DELACK_TIME)
		cs->pingpong = 1;
}

void cftcp_enter_quickack(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->quickack = max_t(u8, cs->quickack, CFTCP_QUICKACKS);
	cs->pingpong = 0;
}

static void cftcp_delack_timer_fn(struct timer_list *t)
{
	struct cftcp_sock *cs = from_timer(cs, t, delack_timer);
	struct sock *sk = (struct sock *)cs;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		sk_reset_timer(sk, &cs->delack_timer,
			       jiffies + CFTCP_TIMER_RETRY);
	} else if (cs->ack_pending && !timer_pending(t)) {
		if (cs->delack_set && time_before(jiffies, cs->delack_due)) {
			sk_reset_timer(sk, t, cs->delack_due);
		} else {
			cs->pingpong = 0;
			cftcp_send_ack(sk);
		}
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

static unsigned long cftcp_keepidle(const struct sock *sk)
{
	int v = READ_ONCE(cftcp_sk(sk)->keepidle);

	return (v ?: READ_ONCE(cftcp_sk_net(sk)->sysctl.keepalive_time)) *
	       (unsigned long)HZ;
}

static unsigned long cftcp_keepintvl(const struct sock *sk)
{
	int v = READ_ONCE(cftcp_sk(sk)->keepintvl);

	return (v ?: READ_ONCE(cftcp_sk_net(sk)->sysctl.keepalive_intvl)) *
	       (unsigned long)HZ;
}

static int cftcp_keepcnt(const struct sock *sk)
{
	int v = READ_ONCE(cftcp_sk(sk)->keepcnt);

	return v ?: READ_ONCE(cftcp_sk_net(sk)->sysctl.keepalive_probes);
}

/* (Re)start keepalive after SO_KEEPALIVE, an option change or a segment. */
void cftcp_reset_keepalive(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    ((1 << sk->sk_state) & ((1 << CFTCP_CLOSE) | (1 << CFTCP_LISTEN) |
				    (1 << CFTCP_SYN_SENT))))
		return;
	sk_reset_timer(sk, &cs->keepalive_timer, jiffies + cftcp_keepidle(sk));
}

void cftcp_arm_fin_wait2(struct sock *sk, unsigned long timeo)
{
	sk_reset_timer(sk, &cftcp_sk(sk)->keepalive_timer, jiffies + timeo);
}

static void cftcp_keepalive(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	unsigned long idle, idle_max;

	/* An orphan in FIN_WAIT2 whose fin_timeout ran out. */
	if (sk->sk_state == CFTCP_FIN_WAIT2 && cftcp_is_orphan(sk)) {
		cftcp_done(sk);
		return;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    ((1 << sk->sk_state) & ((1 << CFTCP_CLOSE) | (1 << CFTCP_LISTEN) |
				    (1 << CFTCP_SYN_SENT))))
		return;

	idle_max = cftcp_keepidle(sk);
	/* Data in flight: the retransmission timer watches the peer. */
	if (cs->snd_una != cs->snd_nxt || cs->send_head) {
		sk_reset_timer(sk, &cs->keepalive_timer, jiffies + idle_max);
		return;
	}
	idle = jiffies - cs->rcv_tstamp;
	if (idle < idle_max) {
		sk_reset_timer(sk, &cs->keepalive_timer,
			       jiffies + idle_max - idle);
		return;
	}
	if (cs->probes_out >= cftcp_keepcnt(sk)) {
		cftcp_send_active_reset(sk, GFP_ATOMIC);
		cftcp_write_err(sk);
		return;
	}
	cftcp_send_probe(sk);
	sk_reset_timer(sk, &cs->keepalive_timer, jiffies + cftcp_keepintvl(sk));
}

static void cftcp_keepalive_timer_fn(struct timer_list *t)
{
	struct cftcp_sock *cs = from_timer(cs, t, keepalive_timer);
	struct sock *sk = (struct sock *)cs;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk))
		sk_reset_timer(sk, &cs->keepalive_timer,
			       jiffies + CFTCP_TIMER_RETRY);
	else if (!timer_pending(t))
		cftcp_keepalive(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

void cftcp_init_timers(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	timer_setup(&cs->rtx_timer, cftcp_rtx_timer_fn, 0);
	timer_setup(&cs->delack_timer, cftcp_delack_timer_fn, 0);
	timer_setup(&cs->keepalive_timer, cftcp_keepalive_timer_fn, 0);
}

void cftcp_clear_timers(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	sock_owned_by_me(sk);
	cs->rtx_mode = CFTCP_RTX_NONE;
	cs->ack_pending = 0;
	cs->delack_set = 0;
	sk_stop_timer(sk, &cs->rtx_timer);
	sk_stop_timer(sk, &cs->delack_timer);
	sk_stop_timer(sk, &cs->keepalive_timer);
}

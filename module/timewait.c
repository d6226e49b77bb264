// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp TIME_WAIT: the small entry that replaces a closed connection's
 * socket for timewait_len seconds, what it answers, and its reaper.
 *
 * The reaper is one timer per entry, as in Linux since 4.1: an entry's
 * expiry costs one timer callback, so reaping is proportional to what
 * expires, never to how many entries exist, and restarting an entry's time
 * (a retransmitted FIN) is one mod_timer(). A timer wheel of slots would
 * batch expiries but needs a lock shared by all entries of a namespace.
 *
 * An entry holds a reference for the 4-tuple table and one for its pending
 * timer. Whoever takes it out of the table also gives up its port and its
 * count in cn->tw_count.
 */
#include <linux/slab.h>
#include <net/ip.h>
#include <net/sock.h>

#include "cftcp.h"
#include "trace/events/cftcp.h"

void cftcp_tw_put(struct cftcp_tw *tw)
{
	if (refcount_dec_and_test(&tw->refcnt))
		kfree_rcu(tw, rcu);
}

/* Take the entry out of the table; the caller holds a reference. */
static bool cftcp_tw_unhash(struct cftcp_tw *tw)
{
	if (!cftcp_ehash_remove(tw->cn, &tw->hnode))
		return false;
	cftcp_bind_del_tw(tw);
	atomic_dec(&tw->cn->tw_count);
	cftcp_tw_put(tw);
	return true;
}

/* Count (and trace) an entry that left the table, early or at its time. */
static void cftcp_tw_ended(struct cftcp_tw *tw, bool reaped)
{
	const struct cftcp_tuple *t = &tw->hnode.tuple;
	unsigned int lived = jiffies_to_msecs(jiffies - tw->born);

	CFTCP_INC_STATS(tw->cn, reaped ? CFTCP_MIB_TWREAPED :
					 CFTCP_MIB_TWKILLED);
	if (reaped)
		trace_cftcp_tw_reap(tw, t->laddr, t->lport, t->raddr, t->rport,
				    lived);
	else
		trace_cftcp_tw_kill(tw, t->laddr, t->lport, t->raddr, t->rport,
				    lived);
}

/* End an entry early (RST, reuse) or at its time (@reaped). */
void cftcp_tw_kill(struct cftcp_tw *tw, bool reaped)
{
	if (del_timer(&tw->timer))
		cftcp_tw_put(tw);
	if (cftcp_tw_unhash(tw))
		cftcp_tw_ended(tw, reaped);
}

static void cftcp_tw_timer(struct timer_list *t)
{
	struct cftcp_tw *tw = from_timer(tw, t, timer);

	if (cftcp_tw_unhash(tw))
		cftcp_tw_ended(tw, true);
	cftcp_tw_put(tw);	/* the timer's */
}

static unsigned long cftcp_tw_len(struct cftcp_net *cn)
{
	return READ_ONCE(cn->sysctl.timewait_len) * (unsigned long)HZ;
}

static void cftcp_tw_reschedule(struct cftcp_tw *tw, unsigned long timeo)
{
	WRITE_ONCE(tw->expires, jiffies + timeo);
	/* Only while still pending: a firing timer owns the entry's end. */
	mod_timer_pending(&tw->timer, tw->expires);
}

/*
 * @sk enters TIME_WAIT for timewait_len. Called with the socket locked; the
 * socket is closed on return. Over max_tw_buckets it just closes
 * (TimeWaitOverflow).
 */
void cftcp_time_wait(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_tw *tw = NULL;
	unsigned long len;

	sock_owned_by_me(sk);
	if (atomic_read(&cn->tw_count) < READ_ONCE(cn->sysctl.max_tw_buckets))
		tw = kzalloc(sizeof(*tw), GFP_ATOMIC);
	else
		CFTCP_INC_STATS(cn, CFTCP_MIB_TIMEWAITOVERFLOW);
	if (!tw)
		goto done;

	tw->cn = cn;
	tw->rcv_nxt = cs->rcv_nxt;
	tw->snd_nxt = cs->snd_nxt;
	tw->rcv_wnd = cs->rcv_wnd;
	tw->rcv_wscale = cs->rcv_wscale;
	tw->reuse = sk->sk_reuse;
	cftcp_hnode_set(&tw->hnode, cs->hnode.tuple.laddr,
			cs->hnode.tuple.lport, cs->hnode.tuple.raddr,
			cs->hnode.tuple.rport, CFTCP_HK_TW);
	tw->hnode.bound_dev_if = sk->sk_bound_dev_if;
	timer_setup(&tw->timer, cftcp_tw_timer, 0);
	refcount_set(&tw->refcnt, 2);	/* the table's and the timer's */
	tw->born = jiffies;
	len = cftcp_tw_len(cn);
	tw->expires = tw->born + len;
	atomic_inc(&cn->tw_count);
	mod_timer(&tw->timer, tw->expires);

	/*
	 * The entry owns its port before a lookup can find it: once in the
	 * table, a RST may end it on another CPU at any moment, and its end
	 * unlinks the port owner it has (it must not gain one after).
	 */
	cftcp_bind_add_tw(sk, tw);
	if (!cftcp_ehash_replace(cn, &cs->hnode, &tw->hnode)) {
		cftcp_bind_del_tw(tw);
		atomic_dec(&cn->tw_count);
		if (del_timer_sync(&tw->timer))
			cftcp_tw_put(tw);
		cftcp_tw_put(tw);
		goto done;
	}
	/* From here on only the socket's fields: @tw may be gone. */
	trace_cftcp_tw_create(tw, cs->hnode.tuple.laddr, cs->hnode.tuple.lport,
			      cs->hnode.tuple.raddr, cs->hnode.tuple.rport,
			      jiffies_to_msecs(len));
	__sock_put(sk);		/* the table's reference to the socket */
	/* Through TIME_WAIT to CLOSE, so the transition is told as it is. */
	cftcp_set_state(sk, CFTCP_TIME_WAIT);
	/*
	 * From here on the peer's segments find the entry, not the socket:
	 * nothing below may depend on the socket being found by a lookup.
	 */
done:
	cftcp_done(sk);
}

/*
 * A segment for a TIME_WAIT entry (Linux's tcp_timewait_state_process()).
 * Consumes @skb.
 */
int cftcp_tw_rcv(struct cftcp_tw *tw, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	struct cftcp_net *cn = tw->cn;
	struct net *net = cn->net;

	if (cb->seq == tw->rcv_nxt &&
	    (cb->seq == cb->end_seq || th->rst)) {
		if (th->rst) {
			/* TIME_WAIT assassination (RFC 1337). */
			if (!READ_ONCE(cn->sysctl.rfc1337))
				cftcp_tw_kill(tw, false);
		} else {
			cftcp_tw_reschedule(tw, cftcp_tw_len(cn));
		}
		goto drop;
	}

	/* A new SYN above the old sequence space reopens the 4-tuple. */
	if (th->syn && !th->rst && !th->ack &&
	    seq_after(cb->seq, tw->rcv_nxt)) {
		struct sock *lsk;

		rcu_read_lock();
		lsk = cftcp_lookup_listener(cn, tw->hnode.tuple.laddr,
					    tw->hnode.tuple.lport,
					    inet_iif(skb), cftcp_sdif(skb));
		rcu_read_unlock();
		if (lsk) {
			cb->tw_isn = (tw->snd_nxt + 65535 + 2) ?: 1;
			cftcp_tw_kill(tw, false);
			CFTCP_INC_STATS(cn, CFTCP_MIB_TWRECYCLED);
			/* The listener's policy now, as for its SYNs. */
			if (cftcp_policy_rcv(lsk, skb))
				cftcp_conn_request(lsk, skb);
			sock_put(lsk);
			return 0;
		}
	}

	if (th->rst)
		goto drop;
	/* A retransmitted FIN or anything else: ACK it again, and restart
	 * the time on an ACK-bearing segment (RFC 9293 3.10.7.4).
	 */
	if (th->ack)
		cftcp_tw_reschedule(tw, cftcp_tw_len(cn));
	if (!cftcp_oow_rate_limited(cn, skb, CFTCP_MIB_ACKSKIPPEDTIMEWAIT,
				    &tw->last_oow_ack_time))
		cftcp_send_ack_reply(net, skb, tw->snd_nxt, tw->rcv_nxt,
				     tw->rcv_wnd >> tw->rcv_wscale);
drop:
	kfree_skb(skb);
	return 0;
}

/* Namespace exit or module unload: free every entry at once. */
void cftcp_tw_purge_net(struct cftcp_net *cn)
{
	unsigned int i;

	for (i = 0; i <= cn->ehash_mask; i++) {
		struct cftcp_tw *tw;

restart:
		rcu_read_lock();
		tw = (struct cftcp_tw *)cftcp_ehash_first(cn, i, CFTCP_HK_TW);
		rcu_read_unlock();
		if (!tw)
			continue;
		if (del_timer_sync(&tw->timer))
			cftcp_tw_put(tw);
		cftcp_tw_unhash(tw);
		cftcp_tw_put(tw);
		goto restart;
	}
}

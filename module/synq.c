// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp passive open: per-listener half-open requests (small entries, not
 * sockets) with their SYN-ACK retransmission timers, the child socket made
 * when the handshake completes, and the accept queue.
 *
 * A request lives in the 4-tuple table and on its listener's synq. It holds
 * one reference for each: the table, the synq, its pending timer; whoever
 * takes it off one of them drops that reference. The synq is guarded by
 * the listener's synq_lock, the accept queue by its acceptq_lock; neither
 * needs the listener's socket lock, so SYNs and final ACKs are handled in
 * softirq without backlogging behind a user of the listener.
 */
#include <linux/cgroup.h>
#include <linux/slab.h>
#include <linux/security.h>
#include <net/ip.h>
#include <net/request_sock.h>
#include <net/route.h>
#include <net/sock.h>

#include "cftcp.h"

/*
 * Once, when the socket is made: softirq may hold these locks or walk these
 * lists whenever the socket has been a listener, so listen() after a
 * shutdown() never initialises them again.
 */
void cftcp_listener_init(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	spin_lock_init(&cs->synq_lock);
	INIT_LIST_HEAD(&cs->synq);
	cs->synq_len = 0;
	spin_lock_init(&cs->acceptq_lock);
	INIT_LIST_HEAD(&cs->acceptq);
	cs->cookie_stamp = 0;
}

void cftcp_req_put(struct cftcp_req *req)
{
	if (refcount_dec_and_test(&req->refcnt)) {
		sock_put(req->listener);
		kfree_rcu(req, rcu);
	}
}

static bool cftcp_synq_unlink(struct cftcp_req *req)
{
	struct cftcp_sock *lcs = cftcp_sk(req->listener);
	bool was;

	spin_lock_bh(&lcs->synq_lock);
	was = req->linked;
	if (was) {
		list_del_init(&req->synq_node);
		req->linked = 0;
		lcs->synq_len--;
	}
	spin_unlock_bh(&lcs->synq_lock);
	return was;
}

/*
 * Take a request off its table, synq and timer. The caller holds a ref.
 * The timer is armed only while the request is hashed and on the synq
 * (under synq_lock), so once del_timer_sync() returns it stays idle.
 */
void cftcp_req_kill(struct cftcp_req *req)
{
	struct cftcp_net *cn = cftcp_sk_net(req->listener);

	if (cftcp_ehash_remove(cn, &req->hnode))
		cftcp_req_put(req);
	if (cftcp_synq_unlink(req))
		cftcp_req_put(req);
	if (del_timer_sync(&req->timer))
		cftcp_req_put(req);
}

/*
 * Namespace exit and module unload: end every request left in the 4-tuple
 * table, timer included, so none outlives the module's code.
 */
void cftcp_req_purge_net(struct cftcp_net *cn)
{
	unsigned int i;

	for (i = 0; i <= cn->ehash_mask; i++) {
		struct cftcp_hnode *hn;

		for (;;) {
			rcu_read_lock();
			hn = cftcp_ehash_first(cn, i, CFTCP_HK_REQ);
			rcu_read_unlock();
			if (!hn)
				break;
			cftcp_req_kill((struct cftcp_req *)hn);
			cftcp_req_put((struct cftcp_req *)hn);
		}
	}
}

static unsigned long cftcp_req_timeout(struct cftcp_req *req)
{
	struct cftcp_net *cn = cftcp_sk_net(req->listener);
	unsigned long rto = cftcp_ms_to_jiffies(READ_ONCE(cn->sysctl.rto_initial_ms));
	unsigned long max = cftcp_ms_to_jiffies(READ_ONCE(cn->sysctl.rto_max_ms));

	return min(rto << min_t(u8, req->num_timeout, 31), max);
}

static void cftcp_synack_rtx(struct cftcp_req *req)
{
	struct sock *lsk = req->listener;
	struct cftcp_net *cn = cftcp_sk_net(lsk);

	if (cftcp_send_synack_req(sock_net(lsk), req))
		return;
	CFTCP_INC_STATS(cn, CFTCP_MIB_RETRANSSEGS);
	CFTCP_INC_STATS(cn, CFTCP_MIB_SYNACKRETRANS);
}

/*
 * SYN-ACK timer: resend with exponential backoff from rto_initial_ms, at
 * most synack_retries times (CFTCP_SYNCNT on the listener overrides), then
 * drop the request silently as Linux does. One timer per request, so a
 * tick costs nothing per idle request.
 */
static void cftcp_req_timer(struct timer_list *t)
{
	struct cftcp_req *req = from_timer(req, t, timer);
	struct sock *lsk = req->listener;
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	int max = READ_ONCE(cftcp_sk(lsk)->syn_retries) ?:
		  READ_ONCE(cn->sysctl.synack_retries);

	CFTCP_INC_STATS(cn, CFTCP_MIB_TIMEOUTS);
	if (READ_ONCE(lsk->sk_state) == CFTCP_LISTEN && req->hnode.hashed &&
	    req->num_timeout < max) {
		cftcp_synack_rtx(req);
		req->num_timeout++;
		WRITE_ONCE(req->expires, jiffies + cftcp_req_timeout(req));
		mod_timer(&req->timer, req->expires);	/* keeps its ref */
		return;
	}
	if (cftcp_ehash_remove(cn, &req->hnode))
		cftcp_req_put(req);
	if (cftcp_synq_unlink(req))
		cftcp_req_put(req);
	cftcp_req_put(req);	/* the timer's */
}

/*
 * LSM hooks of a passive open, where Linux's TCP calls them, as far as a
 * module can. security_inet_conn_request() takes a struct request_sock,
 * which cftcp does not use (a request is a struct cftcp_req): it gets a
 * zeroed one on the stack as a carrier, whose rsk_ops names our family
 * (neither PF_INET nor PF_INET6 to the LSMs, so NetLabel adds no IP
 * options that would need an inet_request_sock), and its verdict refuses
 * the SYN (AppArmor checks the SYN's secmark against the listener, SELinux
 * and Smack their peer labels). Smack labels every request it accepts
 * through NetLabel, which knows no other family: under Smack a SYN is
 * refused (fail closed). What it writes into the carrier (secid,
 * peer_secid) would reach the child through security_inet_csk_clone(),
 * which is not exported to modules: the child instead gets the listener's
 * labels with security_sk_clone(), as sk_clone_lock() gives a TCP child,
 * and its peer's label from the handshake's last segment with
 * security_inet_conn_established(). Not covered: a connection label that
 * differs from the listener's (SELinux's connsid).
 */
static const struct request_sock_ops cftcp_lsm_rsk_ops = {
	.family	= AF_CFTCP,
};

static int cftcp_lsm_conn_request(struct sock *lsk, struct sk_buff *skb)
{
	struct request_sock carrier = { .rsk_ops = &cftcp_lsm_rsk_ops };

	return security_inet_conn_request(lsk, skb, &carrier);
}

/*
 * RFC 9293 3.10.7.2: a segment for a listener that matches no request. As
 * Linux's tcp_conn_request(), a SYN is answered with a SYN cookie instead
 * of a request when the sysctl says always (2), or when the half-open
 * queue is full and it says 1; a SYN that reopens TIME_WAIT always gets a
 * request. With syncookies 0 a SYN finding the queue full is dropped.
 */
int cftcp_conn_request(struct sock *lsk, struct sk_buff *skb)
{
	struct cftcp_sock *lcs = cftcp_sk(lsk);
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	const struct rtable *rt = skb_rtable(skb);
	u16 mss = CFTCP_DEFAULT_MSS;
	bool want_cookie = false;
	bool wscale_ok = false;
	struct cftcp_req *req;
	int qmax, syncookies;
	u8 wscale = 0;

	if (th->rst)
		goto drop;
	if (th->ack) {
		if (!th->syn && cftcp_cookie_ack(lsk, skb))
			return 0;
		cftcp_send_reset_reply(sock_net(lsk), skb);
		goto drop;
	}
	if (!th->syn)
		goto drop;
	/* Never answer a SYN sent to a broadcast or multicast address. */
	if (rt && (rt->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)))
		goto listen_drop;

	/* n+1 requests fit a backlog of n; max_syn_backlog caps it. */
	qmax = min_t(int, READ_ONCE(lsk->sk_max_ack_backlog) + 1,
		     READ_ONCE(cn->sysctl.max_syn_backlog));
	syncookies = READ_ONCE(cn->sysctl.syncookies);
	if (!cb->tw_isn &&
	    (syncookies == 2 || READ_ONCE(lcs->synq_len) >= qmax)) {
		if (!syncookies) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_REQQFULLDROP);
			goto listen_drop;
		}
		want_cookie = true;
	}
	if (sk_acceptq_is_full(lsk)) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENOVERFLOWS);
		goto listen_drop;
	}
	if (cftcp_lsm_conn_request(lsk, skb))
		goto listen_drop;
	if (want_cookie) {
		cftcp_cookie_synack(lsk, skb);
		goto drop;
	}

	req = kzalloc(sizeof(*req), GFP_ATOMIC);
	if (!req)
		goto listen_drop;
	cftcp_parse_options(skb, &mss, &wscale, &wscale_ok);
	sock_hold(lsk);
	req->listener = lsk;
	cftcp_hnode_set(&req->hnode, iph->daddr, th->dest, iph->saddr,
			th->source, CFTCP_HK_REQ);
	/* Linux's ir_iif: the listener's device, if it is bound to one. */
	req->hnode.bound_dev_if = READ_ONCE(lsk->sk_bound_dev_if);
	req->irs = cb->seq;
	req->iss = cb->tw_isn ?: cftcp_new_isn(cn, iph->daddr, iph->saddr,
					       th->dest, th->source);
	req->snd_wnd = cb->window;
	req->mss = mss;
	req->wscale_ok = wscale_ok;
	req->snd_wscale = wscale;
	req->rcv_wscale = wscale_ok ? cftcp_choose_wscale(lsk) : 0;
	INIT_LIST_HEAD(&req->synq_node);
	timer_setup(&req->timer, cftcp_req_timer, 0);
	/* The table, the synq, the timer, and this function. */
	refcount_set(&req->refcnt, 4);

	spin_lock_bh(&lcs->synq_lock);
	/*
	 * The listener may have closed since the lookup: cftcp_listen_stop()
	 * empties the synq under this lock after CLOSE is stored, so a
	 * request linked here is always seen by it.
	 */
	if (lsk->sk_state != CFTCP_LISTEN) {
		spin_unlock_bh(&lcs->synq_lock);
		goto free_req;
	}
	if (lcs->synq_len >= qmax && !cb->tw_isn) {
		/* Filled up since the check above. */
		spin_unlock_bh(&lcs->synq_lock);
		sock_put(lsk);
		kfree(req);
		if (syncookies) {
			cftcp_cookie_synack(lsk, skb);
			goto drop;
		}
		CFTCP_INC_STATS(cn, CFTCP_MIB_REQQFULLDROP);
		goto listen_drop;
	}
	if (!cftcp_ehash_insert(cn, &req->hnode)) {
		spin_unlock_bh(&lcs->synq_lock);
		goto free_req;		/* raced with a twin SYN */
	}
	list_add_tail(&req->synq_node, &lcs->synq);
	req->linked = 1;
	lcs->synq_len++;
	/* Armed before anyone can unlink it: see cftcp_req_kill(). */
	req->sent = jiffies;
	req->expires = jiffies + cftcp_req_timeout(req);
	mod_timer(&req->timer, req->expires);
	spin_unlock_bh(&lcs->synq_lock);

	pr_debug("cftcp: %pI4:%u %pI4:%u LISTEN -> SYN_RECV\n",
		 &iph->daddr, ntohs(th->dest), &iph->saddr, ntohs(th->source));
	cftcp_send_synack_req(sock_net(lsk), req);
	cftcp_req_put(req);
	goto drop;

free_req:
	sock_put(lsk);
	kfree(req);
listen_drop:
	CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENDROPS);
drop:
	kfree_skb(skb);
	return 0;
}

/* Inherit what a listener passes to its connections (sk_clone's job). */
static void cftcp_child_options(struct sock *child, struct sock *lsk)
{
	struct cftcp_sock *ccs = cftcp_sk(child), *lcs = cftcp_sk(lsk);

	child->sk_reuse = lsk->sk_reuse;
	child->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	child->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	child->sk_userlocks = lsk->sk_userlocks &
			      ~(SOCK_BINDPORT_LOCK | SOCK_BINDADDR_LOCK);
	if (sock_flag(lsk, SOCK_KEEPOPEN))
		sock_set_flag(child, SOCK_KEEPOPEN);
	if (sock_flag(lsk, SOCK_LINGER))
		sock_set_flag(child, SOCK_LINGER);
	child->sk_lingertime = lsk->sk_lingertime;
	child->sk_priority = lsk->sk_priority;
	child->sk_mark = lsk->sk_mark;
	child->sk_rcvlowat = lsk->sk_rcvlowat;
	child->sk_rcvtimeo = lsk->sk_rcvtimeo;
	child->sk_sndtimeo = lsk->sk_sndtimeo;
	child->sk_uid = lsk->sk_uid;
	child->sk_bound_dev_if = lsk->sk_bound_dev_if;
	ccs->nodelay = lcs->nodelay;
	ccs->user_mss = lcs->user_mss;
	ccs->linger2 = lcs->linger2;
	ccs->keepidle = lcs->keepidle;
	ccs->keepintvl = lcs->keepintvl;
	ccs->keepcnt = lcs->keepcnt;
	ccs->user_timeout = lcs->user_timeout;
}

/* The handshake completed: a connection socket from the request. */
/*
 * A child belongs to its listener's cgroup, as sk_clone_lock() makes
 * Linux's (cgroup_sk_clone()): sk_alloc() in softirq gave it the root's,
 * which cgroup egress programs and "-m cgroup" would then see.
 */
static void cftcp_child_cgroup(struct sock *child, struct sock *lsk)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *old = sock_cgroup_ptr(&child->sk_cgrp_data);

	child->sk_cgrp_data = lsk->sk_cgrp_data;
	cgroup_get(sock_cgroup_ptr(&child->sk_cgrp_data));
	cgroup_put(old);
#endif
}

static struct sock *cftcp_create_child(struct sock *lsk, struct cftcp_req *req,
				       struct sk_buff *skb)
{
	const struct cftcp_tuple *t = &req->hnode.tuple;
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	struct cftcp_sock *cs;
	struct sock *child;

	/* Nothing was kept from a cookie's SYN: the LSMs see its ACK, as
	 * Linux's cookie_v4_check() shows it to them.
	 */
	if (req->cookie && cftcp_lsm_conn_request(lsk, skb))
		return NULL;
	child = cftcp_sk_alloc(sock_net(lsk), GFP_ATOMIC, lsk->sk_kern_sock);
	if (!child)
		return NULL;
	cs = cftcp_sk(child);
	cftcp_child_cgroup(child, lsk);
	security_sk_clone(lsk, child);
	security_inet_conn_established(child, skb);
	cftcp_child_options(child, lsk);

	cs->inet.inet_saddr = t->laddr;
	cs->inet.inet_rcv_saddr = t->laddr;
	cs->inet.inet_daddr = t->raddr;
	cs->inet.inet_dport = t->rport;
	cftcp_hnode_set(&cs->hnode, t->laddr, t->lport, t->raddr, t->rport,
			CFTCP_HK_SOCK);

	cs->iss = req->iss;
	cs->snd_una = req->iss + 1;
	cs->syn_acked = 1;
	cs->snd_nxt = req->iss + 1;
	cs->write_seq = req->iss + 1;
	cs->snd_sml = req->iss + 1;
	cs->irs = req->irs;
	cs->rcv_nxt = req->irs + 1;
	cs->copied_seq = cs->rcv_nxt;
	cs->rcv_wup = cs->rcv_nxt;
	cs->rcv_wnd = cftcp_initial_window(child->sk_rcvbuf, req->rcv_wscale);
	cs->wscale_ok = req->wscale_ok;
	cs->snd_wscale = req->snd_wscale;
	cs->rcv_wscale = req->rcv_wscale;
	cs->snd_wnd = (u32)cb->window << cs->snd_wscale;
	cs->max_window = cs->snd_wnd;
	cs->snd_wl1 = cb->seq;
	/* The child's own route gives its MSS and device capabilities. */
	cs->rcv_mss = cftcp_sk_route_mss(child);
	if (cs->user_mss)
		cs->rcv_mss = min(cs->rcv_mss, cs->user_mss);
	cftcp_sync_mss(child, req->mss);
	cs->rcv_tstamp = jiffies;
	if (!req->num_timeout && !req->cookie)
		cftcp_rtt_sample(child, jiffies - req->sent);

	cftcp_state_store(child, CFTCP_SYN_RECV);
	return child;
}

/*
 * RFC 9293 3.10.7.4 for a connection still in SYN-RECEIVED, held as a
 * request (Linux's tcp_check_req()). Consumes @skb unless it returns
 * -EAGAIN (see cftcp_req_complete()).
 */
int cftcp_req_rcv(struct cftcp_req *req, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	struct sock *lsk = req->listener;
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	struct net *net = sock_net(lsk);
	u32 rcv_nxt = req->irs + 1;
	u32 wnd = cftcp_initial_window(READ_ONCE(lsk->sk_rcvbuf), 0);

	if (READ_ONCE(lsk->sk_state) != CFTCP_LISTEN) {
		cftcp_req_kill(req);
		cftcp_send_reset_reply(net, skb);
		goto drop;
	}

	/* A retransmitted SYN: the SYN-ACK again, at most every 500 ms. */
	if (th->syn && !th->ack && !th->rst && cb->seq == req->irs) {
		if (!req->rtx_stamp ||
		    time_after_eq(jiffies, req->rtx_stamp + HZ / 2)) {
			req->rtx_stamp = jiffies ?: 1;
			cftcp_synack_rtx(req);
		}
		goto drop;
	}

	/* Sequence check against the window offered in the SYN-ACK. */
	if (seq_before(cb->end_seq, rcv_nxt) ||
	    seq_after(cb->seq, rcv_nxt + wnd)) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_OUTOFWINDOW);
		if (!th->rst &&
		    !cftcp_oow_rate_limited(cn, skb, CFTCP_MIB_ACKSKIPPEDSYNRECV,
					    &req->last_oow_ack_time))
			cftcp_send_ack_reply(net, skb, req->iss + 1, rcv_nxt,
					     wnd);
		goto drop;
	}
	if (th->rst) {
		if (cb->seq == rcv_nxt) {
			CFTCP_INC_STATS(cn, CFTCP_MIB_ATTEMPTFAILS);
			cftcp_req_kill(req);
		} else if (!cftcp_rate_limited(cn, CFTCP_MIB_ACKSKIPPEDCHALLENGE,
					       &req->last_oow_ack_time) &&
			   cftcp_challenge_ack_allowed(cn)) {
			/* RFC 5961 3.2, whatever the RST carries. */
			CFTCP_INC_STATS(cn, CFTCP_MIB_CHALLENGEACK);
			cftcp_send_ack_reply(net, skb, req->iss + 1, rcv_nxt,
					     wnd);
		}
		goto drop;
	}
	if (th->syn) {
		/* A new SYN inside the window: reset the embryo. */
		CFTCP_INC_STATS(cn, CFTCP_MIB_ATTEMPTFAILS);
		cftcp_send_reset_reply(net, skb);
		cftcp_req_kill(req);
		goto drop;
	}
	if (!th->ack)
		goto drop;
	if (cb->ack_seq != req->iss + 1) {
		cftcp_send_reset_reply(net, skb);
		goto drop;
	}
	return cftcp_req_complete(req, skb);

drop:
	kfree_skb(skb);
	return 0;
}

/* Free a child never made visible, giving up its port if it took one. */
static void cftcp_child_discard(struct sock *child)
{
	cftcp_bind_del(child);
	cftcp_state_store(child, CFTCP_CLOSE);
	sk_free(child);
}

/*
 * The handshake of @req ended with @skb, its ACK (which may carry data or
 * a FIN): a connection socket takes the request's place in the 4-tuple
 * table and joins the accept queue. A request rebuilt from a SYN cookie
 * (on the caller's stack, in no table or queue) gets a new place instead.
 * Consumes @skb, except when it returns -EAGAIN: the request left the
 * table before we could take its place, and the caller looks @skb up again.
 */
int cftcp_req_complete(struct cftcp_req *req, struct sk_buff *skb)
{
	struct sock *lsk = req->listener;
	struct cftcp_sock *lcs = cftcp_sk(lsk);
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	struct sock *child;
	bool hashed;

	/* Accept queue full: drop the ACK, keep the request; a SYN-ACK
	 * retransmission will draw another ACK (tcp_abort_on_overflow=0).
	 * From a cookie nothing is kept: the peer's next segment (data, or
	 * the ACK again) tries once more while the cookie is valid.
	 */
	if (sk_acceptq_is_full(lsk)) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENOVERFLOWS);
		CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENDROPS);
		goto drop;
	}

	child = cftcp_create_child(lsk, req, skb);
	if (!child) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENDROPS);
		goto drop;
	}
	if (!cftcp_bind_inherit(child, lsk)) {
		cftcp_child_discard(child);
		CFTCP_INC_STATS(cn, CFTCP_MIB_LISTENDROPS);
		goto drop;
	}
	/* Locked before it is visible: segments racing in wait for it. */
	bh_lock_sock(child);
	if (req->cookie)
		hashed = cftcp_ehash_insert(cn, &cftcp_sk(child)->hnode);
	else
		hashed = cftcp_ehash_replace(cn, &req->hnode,
					     &cftcp_sk(child)->hnode);
	if (!hashed) {
		/*
		 * Another CPU completed this request (or cookie) first, or
		 * ended it. As Linux's req_stolen: a request's segment is
		 * looked up again and goes to whatever took its place; a
		 * cookie's is dropped, as cookie_v4_check() drops it.
		 */
		bh_unlock_sock(child);
		cftcp_child_discard(child);
		if (!req->cookie)
			return -EAGAIN;
		goto drop;
	}
	sock_hold(child);			/* the table's */
	cftcp_set_state(child, CFTCP_ESTABLISHED);
	cftcp_init_buffer_space(child);
	cftcp_init_ack_mss(child);
	if (!req->cookie) {
		cftcp_req_put(req);		/* the table's, for the request */
		if (cftcp_synq_unlink(req))
			cftcp_req_put(req);
		if (del_timer_sync(&req->timer))
			cftcp_req_put(req);
	}
	CFTCP_INC_STATS(cn, CFTCP_MIB_PASSIVEOPENS);

	/* The ACK may carry data or a FIN. */
	cftcp_reset_keepalive(child);
	if (!cftcp_rcv_state_process(child, skb))
		kfree_skb(skb);
	bh_unlock_sock(child);

	spin_lock_bh(&lcs->acceptq_lock);
	if (READ_ONCE(lsk->sk_state) == CFTCP_LISTEN) {
		list_add_tail(&cftcp_sk(child)->accept_node, &lcs->acceptq);
		sk_acceptq_added(lsk);
		child = NULL;
	}
	spin_unlock_bh(&lcs->acceptq_lock);
	if (child) {
		/* The listener closed meanwhile. */
		sock_hold(child);
		bh_lock_sock(child);
		cftcp_abort(child, ECONNRESET);
		cftcp_orphan(child);
		cftcp_destroy_sock(child);
		bh_unlock_sock(child);
		sock_put(child);
		return 0;
	}
	lsk->sk_data_ready(lsk);
	return 0;

drop:
	kfree_skb(skb);
	return 0;
}

struct sock *cftcp_accept_dequeue(struct sock *lsk)
{
	struct cftcp_sock *lcs = cftcp_sk(lsk);
	struct cftcp_sock *ccs;

	spin_lock_bh(&lcs->acceptq_lock);
	ccs = list_first_entry_or_null(&lcs->acceptq, struct cftcp_sock,
				       accept_node);
	if (ccs) {
		list_del_init(&ccs->accept_node);
		sk_acceptq_removed(lsk);
	}
	spin_unlock_bh(&lcs->acceptq_lock);
	return (struct sock *)ccs;
}

/*
 * close() of a listener (already in CLOSE): pending requests are freed
 * silently, connections nobody accepted are reset and freed.
 */
void cftcp_listen_stop(struct sock *lsk)
{
	struct cftcp_sock *lcs = cftcp_sk(lsk);
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	struct cftcp_req *req, *rtmp;
	struct sock *child;
	LIST_HEAD(reqs);

	sock_owned_by_me(lsk);
	spin_lock_bh(&lcs->synq_lock);
	list_splice_init(&lcs->synq, &reqs);
	list_for_each_entry(req, &reqs, synq_node)
		req->linked = 0;
	lcs->synq_len = 0;
	spin_unlock_bh(&lcs->synq_lock);

	list_for_each_entry_safe(req, rtmp, &reqs, synq_node) {
		list_del_init(&req->synq_node);
		if (del_timer_sync(&req->timer))
			cftcp_req_put(req);
		if (cftcp_ehash_remove(cn, &req->hnode))
			cftcp_req_put(req);
		cftcp_req_put(req);	/* the synq's */
	}

	while ((child = cftcp_accept_dequeue(lsk))) {
		local_bh_disable();
		bh_lock_sock(child);
		sock_hold(child);
		cftcp_disconnect(child, O_NONBLOCK);
		cftcp_orphan(child);
		cftcp_destroy_sock(child);	/* the accept queue's ref */
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);
	}
}

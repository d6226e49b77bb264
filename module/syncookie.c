// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp SYN cookies: answering a SYN without keeping a request, and making
 * the connection from the ACK that returns the cookie. The net.cftcp
 * syncookies sysctl chooses when: 0 never, 1 once the listener's half-open
 * queue is full, 2 for every SYN (synq.c decides, as Linux's
 * tcp_conn_request() does).
 *
 * The cookie is our initial sequence number. It carries a keyed hash of
 * the 4-tuple and the peer's ISN, a counter that ticks once a minute (a
 * cookie is good for one to two minutes) and, in its low 24 bits, the
 * index of the peer's MSS in a table of four values. Nothing else of the
 * SYN survives: as in Linux without timestamps, a connection made from a
 * cookie has no window scaling, and the SYN-ACK does not offer it.
 *
 * Locking: none. The keys are per namespace and fixed at its creation;
 * the listener's cookie_stamp is a single word read and written with
 * READ_ONCE/WRITE_ONCE from softirq on any CPU, where a lost update only
 * moves the stamp by less than a second.
 */
#include <linux/siphash.h>
#include <linux/jiffies.h>
#include <net/ip.h>
#include <net/sock.h>

#include "cftcp.h"
#include "trace/events/cftcp.h"

#define CFTCP_COOKIE_BITS	24	/* the counter is above them */
#define CFTCP_COOKIE_MASK	(BIT(CFTCP_COOKIE_BITS) - 1)
#define CFTCP_COOKIE_PERIOD	(60 * HZ)
#define CFTCP_COOKIE_MAX_AGE	2	/* periods */
#define CFTCP_COOKIE_VALID	(CFTCP_COOKIE_MAX_AGE * CFTCP_COOKIE_PERIOD)

/* The MSS values a cookie can carry, Linux's: the common ones, sorted. */
static const u16 cftcp_cookie_mss[] = { 536, 1300, 1440, 1460 };

static u32 cftcp_cookie_time(void)
{
	return div_u64(get_jiffies_64(), CFTCP_COOKIE_PERIOD);
}

static u32 cftcp_cookie_hash(const struct cftcp_net *cn,
			     const struct cftcp_tuple *t, u32 count, int k)
{
	return siphash_4u32((__force u32)t->laddr, (__force u32)t->raddr,
			    (__force u32)t->lport << 16 | (__force u32)t->rport,
			    count, &cn->cookie_key[k]);
}

/*
 * hash0 + peer's ISN + count << 24 + ((hash1(count) + data) mod 2^24):
 * whoever does not know the keys cannot forge one for another 4-tuple or
 * another minute, and a wrong one decodes to data out of range.
 */
static u32 cftcp_cookie_make(const struct cftcp_net *cn,
			     const struct cftcp_tuple *t, u32 irs, u32 data)
{
	u32 count = cftcp_cookie_time();

	return cftcp_cookie_hash(cn, t, 0, 0) + irs +
	       (count << CFTCP_COOKIE_BITS) +
	       ((cftcp_cookie_hash(cn, t, count, 1) + data) &
		CFTCP_COOKIE_MASK);
}

/* The data of a cookie made less than CFTCP_COOKIE_MAX_AGE periods ago,
 * or a value at least ARRAY_SIZE(cftcp_cookie_mss) if it is not one.
 */
static u32 cftcp_cookie_data(const struct cftcp_net *cn,
			     const struct cftcp_tuple *t, u32 irs, u32 cookie)
{
	u32 count = cftcp_cookie_time();
	u32 age;

	cookie -= cftcp_cookie_hash(cn, t, 0, 0) + irs;
	age = (count - (cookie >> CFTCP_COOKIE_BITS)) &
	      (U32_MAX >> CFTCP_COOKIE_BITS);
	if (age >= CFTCP_COOKIE_MAX_AGE)
		return U32_MAX;
	return (cookie - cftcp_cookie_hash(cn, t, count - age, 1)) &
	       CFTCP_COOKIE_MASK;
}

/* Cookies were sent lately: at most once a second, note when. */
static void cftcp_cookie_note(struct sock *lsk)
{
	struct cftcp_sock *lcs = cftcp_sk(lsk);
	unsigned long stamp = READ_ONCE(lcs->cookie_stamp);
	unsigned long now = jiffies ?: 1;

	if (!stamp || !time_in_range(now, stamp, stamp + HZ))
		WRITE_ONCE(lcs->cookie_stamp, now);
}

/*
 * Linux's tcp_synq_no_recent_overflow(): cookie ACKs are looked at only
 * while a cookie sent in the last CFTCP_COOKIE_VALID may come back (with
 * a second of slack for a racing cftcp_cookie_note()).
 */
static bool cftcp_cookie_recent(const struct sock *lsk)
{
	unsigned long stamp = READ_ONCE(cftcp_sk(lsk)->cookie_stamp);

	return stamp && time_in_range(jiffies, stamp - HZ,
				      stamp + CFTCP_COOKIE_VALID);
}

/*
 * Answer the SYN in @skb (a listener's, header pulled) with a SYN-ACK whose
 * sequence number is a cookie; nothing is kept. The request built here
 * lives on the stack only to describe the SYN-ACK: it is never hashed,
 * queued or timed, so the SYN-ACK is never retransmitted.
 */
void cftcp_cookie_synack(struct sock *lsk, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	u16 user_mss = READ_ONCE(cftcp_sk(lsk)->user_mss);
	u16 mss = CFTCP_DEFAULT_MSS;
	struct cftcp_req req = {};
	bool wscale_ok = false;
	u8 wscale = 0;
	u32 idx;

	cftcp_parse_options(skb, &mss, &wscale, &wscale_ok);
	if (user_mss && user_mss < mss)
		mss = user_mss;
	for (idx = ARRAY_SIZE(cftcp_cookie_mss) - 1; idx; idx--)
		if (mss >= cftcp_cookie_mss[idx])
			break;

	req.listener = lsk;
	cftcp_hnode_set(&req.hnode, iph->daddr, th->dest, iph->saddr,
			th->source, CFTCP_HK_REQ);
	req.irs = cb->seq;
	req.iss = cftcp_cookie_make(cn, &req.hnode.tuple, req.irs, idx);
	req.mss = cftcp_cookie_mss[idx];
	req.cookie = 1;

	cftcp_cookie_note(lsk);
	CFTCP_INC_STATS(cn, CFTCP_MIB_SYNCOOKIESSENT);
	trace_cftcp_syncookie(iph->daddr, th->dest, iph->saddr, th->source, 0);
	cftcp_send_synack_req(sock_net(lsk), &req);
}

/*
 * An ACK for a listener that matches no request (Linux's cookie_v4_check()):
 * if syncookies are on, cookies went out lately and ack_seq - 1 is a
 * cookie for this 4-tuple and seq - 1, the connection is made from it and
 * queued for accept(), or dropped if the accept queue is full. True if the
 * segment was taken (and freed); false if the listener answers it as a
 * segment it has nothing for, with a reset: no cookies lately, or a wrong
 * one (SyncookiesFailed).
 */
bool cftcp_cookie_ack(struct sock *lsk, struct sk_buff *skb)
{
	struct cftcp_skb_cb *cb = CFTCP_SKB_CB(skb);
	const struct cftcphdr *th = cftcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct cftcp_net *cn = cftcp_sk_net(lsk);
	struct cftcp_req req = {};
	u32 data;

	if (!READ_ONCE(cn->sysctl.syncookies) || !cftcp_cookie_recent(lsk))
		return false;

	cftcp_hnode_set(&req.hnode, iph->daddr, th->dest, iph->saddr,
			th->source, CFTCP_HK_REQ);
	req.irs = cb->seq - 1;
	req.iss = cb->ack_seq - 1;
	data = cftcp_cookie_data(cn, &req.hnode.tuple, req.irs, req.iss);
	if (data >= ARRAY_SIZE(cftcp_cookie_mss)) {
		CFTCP_INC_STATS(cn, CFTCP_MIB_SYNCOOKIESFAILED);
		trace_cftcp_syncookie(iph->daddr, th->dest, iph->saddr,
				      th->source, 2);
		return false;
	}
	CFTCP_INC_STATS(cn, CFTCP_MIB_SYNCOOKIESRECV);
	trace_cftcp_syncookie(iph->daddr, th->dest, iph->saddr, th->source, 1);

	req.listener = lsk;
	req.mss = cftcp_cookie_mss[data];
	req.cookie = 1;
	cftcp_req_complete(&req, skb);
	return true;
}

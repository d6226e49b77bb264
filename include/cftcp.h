/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cftcp internal header: connection structures, per-namespace state and the
 * interfaces between the module's files.
 *
 * Lock order (outermost first):
 *   socket lock (lock_sock, or bh_lock_sock in softirq and timers)
 *     -> listener's synq_lock / acceptq_lock
 *       -> port lock, cn->bhash_locks[] (owners of one local port)
 *         -> ehash bucket lock (4-tuple table)
 * The 4-tuple table and the listener table are read under RCU with no lock;
 * entries found there are pinned with refcount_inc_not_zero(). Sockets carry
 * SOCK_RCU_FREE, request and TIME_WAIT entries are freed with kfree_rcu().
 * Nothing on the per-segment path takes a per-namespace lock.
 *
 * Both tables are hlist_nulls lists whose end marker is the bucket number:
 * an entry can leave a chain and enter another (a socket disconnected and
 * connected again, a listener that listens again on another port) while a
 * reader stands on it, so a walk that ends on another bucket's marker is
 * restarted. Memory is never reused within a grace period, but a socket
 * can take a new 4-tuple, so what a lookup pins is matched again after the
 * reference is taken (as Linux's __inet_lookup_established()).
 *
 * Functions that need one of these locks say so with sock_owned_by_me(),
 * lockdep_assert_held() and sparse's __must_hold(), so a debug kernel
 * checks the rules, not only this comment.
 */
#ifndef _CFTCP_H
#define _CFTCP_H

#include <linux/types.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/rbtree.h>
#include <linux/rculist_nulls.h>
#include <linux/siphash.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/netns/generic.h>
#include <linux/cftcp.h>

/* Module parameters. */
extern int cftcp_family;
extern int cftcp_ipproto;

/* ---- Wire format ---------------------------------------------------- */

/* RFC 9293 section 3.1 header; same layout as struct tcphdr. */
struct cftcphdr {
	__be16	source;
	__be16	dest;
	__be32	seq;
	__be32	ack_seq;
#if defined(__LITTLE_ENDIAN_BITFIELD)
	__u16	res1:4,
		doff:4,
		fin:1,
		syn:1,
		rst:1,
		psh:1,
		ack:1,
		urg:1,
		ece:1,
		cwr:1;
#elif defined(__BIG_ENDIAN_BITFIELD)
	__u16	doff:4,
		res1:4,
		cwr:1,
		ece:1,
		urg:1,
		ack:1,
		psh:1,
		rst:1,
		syn:1,
		fin:1;
#else
#error "Adjust your <asm/byteorder.h> defines"
#endif
	__be16	window;
	__sum16	check;
	__be16	urg_ptr;
} __packed;

#define CFTCP_FLAG_FIN	0x01
#define CFTCP_FLAG_SYN	0x02
#define CFTCP_FLAG_RST	0x04
#define CFTCP_FLAG_PSH	0x08
#define CFTCP_FLAG_ACK	0x10

#define CFTCP_OPT_EOL		0
#define CFTCP_OPT_NOP		1
#define CFTCP_OPT_MSS		2
#define CFTCP_OPT_WSCALE	3
#define CFTCP_OPTLEN_MSS	4
#define CFTCP_OPTLEN_WSCALE	3
#define CFTCP_MAX_WSCALE	14
#define CFTCP_DEFAULT_MSS	536	/* RFC 9293 3.7.1: no MSS option */
#define CFTCP_MIN_MSS		88
#define CFTCP_HDR_LEN		20
#define CFTCP_SYN_OPTS_LEN	8	/* MSS + NOP + window scale */
/* Room for our header with options, IPv4 and the link layer. */
#define CFTCP_MAX_HEADER	L1_CACHE_ALIGN(MAX_HEADER + 20 + 60)
#define CFTCP_MAX_WINDOW	65535U
/* Delayed ACKs (Linux's TCP_ATO_MIN, TCP_MAX_QUICKACKS). */
#define CFTCP_DELACK_TIME	(HZ / 25)
#define CFTCP_QUICKACKS		16
/* gso_type of super-packets: no NIC advertises it (output.c). */
#define CFTCP_GSO_TYPE		(SKB_GSO_SCTP | SKB_GSO_TCP_ECN)

/* Sequence number comparisons, modulo 2^32. */
static inline bool seq_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

#define seq_after(a, b)		seq_before(b, a)

static inline bool seq_between(u32 seq, u32 lo, u32 hi)
{
	return hi - lo >= seq - lo;	/* lo <= seq <= hi */
}

static inline struct cftcphdr *cftcp_hdr(const struct sk_buff *skb)
{
	return (struct cftcphdr *)skb_transport_header(skb);
}

/*
 * Per-segment control block, valid from the protocol handler on and for
 * skbs in the write queue.
 */
struct cftcp_skb_cb {
	u32	seq;		/* first sequence number */
	u32	end_seq;	/* seq + SYN + FIN + data length */
	u32	ack_seq;
	u32	when;		/* jiffies of last transmission */
	u32	tw_isn;		/* ISN for a SYN that reopens TIME_WAIT */
	u16	window;		/* raw window field */
	u8	flags;		/* CFTCP_FLAG_* */
	u8	retransmitted:1,
		sent:1;
	/* Received: IP's control block, for the policy checks. */
	struct inet_skb_parm	h4;
};

#define CFTCP_SKB_CB(skb)	((struct cftcp_skb_cb *)&((skb)->cb[0]))

/* inet_sdif() of a received segment, from IP's block kept in ours (as
 * Linux's tcp_v4_sdif()).
 */
static inline int cftcp_sdif(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NET_L3_MASTER_DEV)
	const struct inet_skb_parm *h4 = &CFTCP_SKB_CB(skb)->h4;

	if (ipv4_l3mdev_skb(h4->flags))
		return h4->iif;
#endif
	return 0;
}

/* ---- Per-namespace state -------------------------------------------- */

struct cftcp_sysctl {
	int	syn_retries;
	int	synack_retries;
	int	max_syn_backlog;
	int	rto_initial_ms;
	int	rto_min_ms;
	int	rto_max_ms;
	int	fin_timeout;
	int	timewait_len;
	int	max_tw_buckets;
	int	syncookies;
	int	rfc1337;
	int	retries2;
	int	orphan_retries;
	int	keepalive_time;
	int	keepalive_intvl;
	int	keepalive_probes;
	int	rmem_default;
	int	wmem_default;
	int	invalid_ratelimit;	/* ms between replies to bad segments */
	int	challenge_ack_limit;	/* per second, INT_MAX: no limit */
};

/* Counters of /proc/net/cftcp_stat, in the order printed there. */
enum cftcp_mib_field {
	CFTCP_MIB_ACTIVEOPENS,
	CFTCP_MIB_PASSIVEOPENS,
	CFTCP_MIB_ATTEMPTFAILS,
	CFTCP_MIB_ESTABRESETS,
	CFTCP_MIB_CURRESTAB,
	CFTCP_MIB_INSEGS,
	CFTCP_MIB_OUTSEGS,
	CFTCP_MIB_RETRANSSEGS,
	CFTCP_MIB_INERRS,
	CFTCP_MIB_OUTRSTS,
	CFTCP_MIB_INCSUMERRORS,
	CFTCP_MIB_SYNRETRANS,
	CFTCP_MIB_SYNACKRETRANS,
	CFTCP_MIB_LISTENOVERFLOWS,
	CFTCP_MIB_LISTENDROPS,
	CFTCP_MIB_REQQFULLDROP,
	CFTCP_MIB_SYNCOOKIESSENT,
	CFTCP_MIB_SYNCOOKIESRECV,
	CFTCP_MIB_SYNCOOKIESFAILED,
	CFTCP_MIB_TIMEWAITOVERFLOW,
	CFTCP_MIB_TWREAPED,
	CFTCP_MIB_TWRECYCLED,
	CFTCP_MIB_TWKILLED,
	CFTCP_MIB_CHALLENGEACK,
	CFTCP_MIB_TIMEOUTS,
	CFTCP_MIB_FASTRETRANS,
	CFTCP_MIB_ABORTONCLOSE,
	CFTCP_MIB_ABORTONDATA,
	CFTCP_MIB_ABORTONLINGER,
	CFTCP_MIB_ABORTONTIMEOUT,
	CFTCP_MIB_OUTOFWINDOW,
	CFTCP_MIB_ZEROWINDOWDROP,
	CFTCP_MIB_RCVQDROP,
	CFTCP_MIB_OFODROP,
	CFTCP_MIB_OFOPRUNED,
	CFTCP_MIB_RCVCOLLAPSED,
	CFTCP_MIB_PRUNECALLED,
	CFTCP_MIB_ABORTONMEMORY,
	CFTCP_MIB_ACKSKIPPEDSEQ,
	CFTCP_MIB_ACKSKIPPEDSYNRECV,
	CFTCP_MIB_ACKSKIPPEDTIMEWAIT,
	CFTCP_MIB_ACKSKIPPEDCHALLENGE,
	CFTCP_MIB_SYNCHALLENGE,
	CFTCP_MIB_MAX
};

struct cftcp_mib {
	unsigned long	mibs[CFTCP_MIB_MAX];
};

/* Entry kinds in the 4-tuple table. */
enum cftcp_hkind {
	CFTCP_HK_SOCK,
	CFTCP_HK_REQ,
	CFTCP_HK_TW,
};

/* Addresses and ports as seen from this host, network byte order. */
struct cftcp_tuple {
	__be32	laddr;
	__be32	raddr;
	__be16	lport;
	__be16	rport;
};

/*
 * Head of anything in the 4-tuple table: a full socket, a half-open
 * request, or a TIME_WAIT entry.
 */
struct cftcp_hnode {
	struct hlist_nulls_node	node;
	struct cftcp_tuple	tuple;
	int			bound_dev_if;	/* requests, TIME_WAIT */
	u8			kind;	/* enum cftcp_hkind */
	bool			hashed;	/* under the bucket lock */
};

/*
 * The owners of one local port (Linux's inet_bind_bucket), in cn->bhash
 * while it has any. @bound counts those that came through bind() or
 * listen(): connect() takes no port that has one.
 */
struct cftcp_bind_bucket {
	struct hlist_node	node;
	struct hlist_head	owners;	/* struct cftcp_bnode */
	unsigned int		bound;
	u16			port;	/* host order */
};

/* A local port owner: a socket or a TIME_WAIT entry. */
struct cftcp_bnode {
	struct hlist_node	node;	/* in bb->owners */
	struct cftcp_bind_bucket *bb;	/* NULL while it owns no port */
	__be32			addr;	/* bound address, 0 for any */
	u16			port;	/* host order */
	u8			kind;	/* enum cftcp_hkind */
	bool			bound;	/* by bind() or listen() */
};

#define CFTCP_EHASH_SIZE	8192
#define CFTCP_EHASH_LOCKS	256
#define CFTCP_LHASH_SIZE	256
#define CFTCP_BHASH_SIZE	4096
#define CFTCP_BHASH_LOCKS	256

struct cftcp_net {
	struct net			*net;
	struct cftcp_sysctl		sysctl;
	struct ctl_table_header		*sysctl_hdr;
	struct cftcp_mib __percpu	*mib;

	/* 4-tuple table: sockets, requests and TIME_WAIT entries. */
	struct hlist_nulls_head		*ehash;
	unsigned int			ehash_mask;
	spinlock_t			ehash_locks[CFTCP_EHASH_LOCKS]; /* writers of ehash */

	/* Listening sockets by local port. */
	struct hlist_nulls_head		lhash[CFTCP_LHASH_SIZE];
	spinlock_t			lhash_lock;	/* writers of lhash */

	/* Local ports in use, their owners (sockets, TIME_WAIT entries). */
	struct hlist_head		*bhash;
	spinlock_t			bhash_locks[CFTCP_BHASH_LOCKS]; /* by port */
	u32				hash_rnd;

	siphash_key_t			isn_key;
	siphash_key_t			port_key;	/* ephemeral ports */
	siphash_key_t			cookie_key[2];	/* SYN cookies */
	atomic_t			tw_count;

	/* RFC 5961 challenge ACKs left this second (challenge_ack_limit). */
	u32				challenge_timestamp;
	u32				challenge_count;

	bool				egress_hooked;	/* policy.c */
};

extern unsigned int cftcp_net_id;

static inline struct cftcp_net *cftcp_pernet(const struct net *net)
{
	return net_generic(net, cftcp_net_id);
}

#define CFTCP_INC_STATS(cn, field)	this_cpu_inc((cn)->mib->mibs[field])
#define CFTCP_DEC_STATS(cn, field)	this_cpu_dec((cn)->mib->mibs[field])
#define CFTCP_ADD_STATS(cn, field, v)	this_cpu_add((cn)->mib->mibs[field], v)

static inline unsigned long cftcp_ms_to_jiffies(int ms)
{
	return msecs_to_jiffies(ms) ?: 1;
}

/* ---- Sockets --------------------------------------------------------- */

/* What the retransmission timer is armed for. */
enum cftcp_rtx_mode {
	CFTCP_RTX_NONE,
	CFTCP_RTX_DATA,		/* SYN, data or FIN outstanding */
	CFTCP_RTX_PROBE,	/* zero-window probe */
};

/* Bits of cftcp_sock.deferred. */
enum {
	CFTCP_MTU_REDUCED_DEFERRED,
};

struct cftcp_sock {
	struct inet_sock	inet;		/* must be first */
	struct cftcp_hnode	hnode;		/* 4-tuple table entry */
	struct cftcp_bnode	bnode;		/* port owner, cn->bhash */
	struct hlist_nulls_node	listen_node;	/* cn->lhash, LISTEN only */
	bool			listen_hashed;

	/* Send sequence space, RFC 9293 section 3.3.1. */
	u32	iss;
	u32	snd_una;
	u32	snd_nxt;
	u32	snd_wnd;	/* peer's window, scaled to bytes */
	u32	snd_wl1;	/* sequence number of the last window update */
	u32	write_seq;	/* end of queued data */
	u32	snd_sml;	/* end of the last small segment sent (Minshall) */
	u32	max_window;
	struct sk_buff *send_head;	/* first unsent skb, or NULL */

	/* Receive sequence space. */
	u32	irs;
	u32	rcv_nxt;
	u32	rcv_wnd;	/* last window advertised, bytes */
	u32	rcv_wup;	/* rcv_nxt when rcv_wnd was advertised */
	u32	copied_seq;	/* next byte the reader gets */
	struct rb_root	ooo_queue;	/* out-of-order segments by seq */
	u32	ooo_bytes;

	/* Options agreed in the handshake. */
	u16	mss;		/* largest payload we send */
	u16	rcv_mss;	/* largest payload we advertised */
	u16	user_mss;	/* CFTCP_MAXSEG, 0 if unset */
	u8	ip_opt_len;	/* IP_OPTIONS bytes mss leaves room for */
	u8	snd_wscale;
	u8	rcv_wscale;
	u8	wscale_ok:1,
		nodelay:1,
		fin_queued:1,	/* FIN is on the write queue */
		fin_rcvd:1,	/* peer's FIN taken in order */
		in_recovery:1,
		user_bound:1,	/* port chosen through bind() */
		syn_acked:1;	/* our SYN is acknowledged */

	/* Retransmission, RFC 6298. */
	u32	srtt_us;	/* smoothed RTT, 0 before a sample */
	u32	rttvar_us;	/* RTT variance */
	u32	rto;		/* jiffies */
	u32	rtt_start;	/* jiffies the SYN was sent */
	bool	rtt_pending;	/* the SYN is being timed */
	u8	retransmits;	/* timeouts in a row */
	u8	probes_out;	/* unanswered window or keepalive probes */
	u8	probe_backoff;	/* doublings of the window probe interval */
	unsigned long	probes_stamp;	/* jiffies of the first unanswered-window probe */
	u8	dupacks;
	u8	rtx_mode;	/* enum cftcp_rtx_mode */
	u32	recover;	/* snd_nxt when recovery began */
	unsigned long	retrans_stamp;	/* jiffies of first unacked rtx */
	unsigned long	rcv_tstamp;	/* jiffies of last segment in */
	u32	last_oow_ack_time;	/* jiffies of the last reply to a bad segment */

	/* Path MTU discovery: an ICMP that came while the user owned the
	 * socket is acted on in release_sock() (pmtu.c).
	 */
	unsigned long	deferred;	/* CFTCP_*_DEFERRED bits */
	u32		mtu_info;	/* MTU of the last fragmentation needed */

	/* Buffer autotuning (bufsize.c), microseconds of ktime_get_ns(). */
	u32	rcv_rtt_us;	/* receiver's RTT << 3, 0 before a sample */
	u32	rcv_rtt_seq;	/* rcv_nxt that ends the running sample */
	u64	rcv_rtt_time;	/* start of the running sample, 0: none */
	u32	rcvq_space;	/* bytes read in the last measured RTT */
	u32	rcvq_seq;	/* copied_seq at the start of the measure */
	u64	rcvq_time;	/* start of the measure, 0: none yet */

	/* Delayed ACK. */
	u8	ack_pending;	/* data received since the last ACK */
	u8	quickack;	/* data segments still ACKed at once */
	u8	pingpong:1,	/* interactive: ACKs wait for the answer */
		data_rcvd:1,	/* lrcvtime is set */
		delack_set:1;	/* delack_due is that of the ACK owed */
	unsigned long	lrcvtime;	/* jiffies of the last data received */
	unsigned long	delack_due;	/* when the ACK owed must go */
	u16	ack_mss;	/* the peer's segment size, as seen */
	u16	last_seg_size;	/* payload of the last data segment */

	/* Timers; each holds a socket reference while pending. */
	struct timer_list	rtx_timer;
	struct timer_list	delack_timer;
	struct timer_list	keepalive_timer;	/* also FIN_WAIT2 */

	/* Per-socket options (0: use the sysctl). */
	int	syn_retries;
	int	linger2;
	int	keepidle;	/* seconds */
	int	keepintvl;
	int	keepcnt;
	u32	user_timeout;	/* ms */

	/* Listener: half-open and accept queues. */
	spinlock_t		synq_lock;	/* synq, synq_len */
	struct list_head	synq;
	int			synq_len;
	spinlock_t		acceptq_lock;	/* acceptq, sk_ack_backlog */
	struct list_head	acceptq;
	struct list_head	accept_node;	/* child, on parent's acceptq */
	unsigned long		cookie_stamp;	/* last SYN cookie sent, 0: none */

	/* Statistics for CFTCP_INFO. */
	u32	total_retrans;
	u64	bytes_acked;
	u64	bytes_received;
	u64	segs_in;
	u64	segs_out;
};

static inline struct cftcp_sock *cftcp_sk(const struct sock *sk)
{
	return (struct cftcp_sock *)sk;
}

static inline struct sock *cftcp_hnode_sk(struct cftcp_hnode *hn)
{
	return (struct sock *)container_of(hn, struct cftcp_sock, hnode);
}

static inline struct cftcp_net *cftcp_sk_net(const struct sock *sk)
{
	return cftcp_pernet(sock_net(sk));
}

/* Publish a new state; pairs with inet_sk_state_load() in lockless readers. */
static inline void cftcp_state_store(struct sock *sk, int state)
{
	/* Fields set before the state are seen by who sees the state. */
	smp_store_release(&sk->sk_state, state);
}

/* Free a send queue skb, its share of sk_wmem_queued and its memory. */
static inline void cftcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	__kfree_skb(skb);
}

/* Bytes the peer's window still allows beyond snd_nxt. */
static inline u32 cftcp_snd_space(const struct cftcp_sock *cs)
{
	u32 right = cs->snd_una + cs->snd_wnd;

	return seq_after(right, cs->snd_nxt) ? right - cs->snd_nxt : 0;
}

/* ---- Half-open requests ---------------------------------------------- */

struct cftcp_req {
	struct cftcp_hnode	hnode;		/* must be first */
	struct sock		*listener;	/* holds a reference */
	struct list_head	synq_node;	/* listener's synq */
	refcount_t		refcnt;
	struct timer_list	timer;		/* SYN-ACK retransmission */
	u32			iss;
	u32			irs;
	u32			snd_wnd;	/* window field of the SYN */
	u16			mss;		/* peer's MSS option */
	u8			snd_wscale;
	u8			rcv_wscale;
	u8			wscale_ok:1,
				linked:1,	/* on the listener's synq */
				cookie:1;	/* rebuilt from a SYN cookie */
	u8			num_timeout;
	u32			last_oow_ack_time;
	unsigned long		expires;
	unsigned long		sent;		/* first SYN-ACK, jiffies */
	unsigned long		rtx_stamp;	/* last SYN-ACK, jiffies */
	struct rcu_head		rcu;
};

/* ---- TIME_WAIT ------------------------------------------------------- */

struct cftcp_tw {
	struct cftcp_hnode	hnode;		/* must be first */
	struct cftcp_bnode	bnode;		/* port owner, cn->bhash */
	struct cftcp_net	*cn;
	refcount_t		refcnt;
	struct timer_list	timer;
	unsigned long		born;		/* jiffies, for tracing */
	unsigned long		expires;
	u32			rcv_nxt;
	u32			snd_nxt;
	u32			rcv_wnd;	/* bytes */
	u8			rcv_wscale;
	u8			reuse:1;
	u32			last_oow_ack_time;
	struct rcu_head		rcu;
};

/* ---- Interfaces between the files ------------------------------------ */

/* af_cftcp.c: registration, per-namespace setup. */
extern struct proto cftcp_prot;
extern const struct proto_ops cftcp_proto_ops;

/* socket.c: socket calls. */
int cftcp_create(struct net *net, struct socket *sock, int protocol,
		 int kern);
struct sock *cftcp_sk_alloc(struct net *net, gfp_t gfp, int kern);
void cftcp_kill_orphans_net(struct cftcp_net *cn);

/* state.c: the connection state machine. */
void cftcp_set_state(struct sock *sk, int state);
int cftcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);
void cftcp_done(struct sock *sk);
void cftcp_done_with_error(struct sock *sk, int err);
void cftcp_reset(struct sock *sk, struct sk_buff *skb);
void cftcp_abort(struct sock *sk, int err);
void cftcp_close_state(struct sock *sk);
void cftcp_destroy_sock(struct sock *sk);
void cftcp_purge_queues(struct sock *sk);
const char *cftcp_state_name(int state);
int cftcp_rcv_synsent(struct sock *sk, struct sk_buff *skb);
int cftcp_disconnect(struct sock *sk, int flags);
void cftcp_close(struct sock *sk, long timeout);
void cftcp_shutdown_send(struct sock *sk);

/* input.c: protocol handler, ACK and data processing. */
int cftcp_v4_rcv(struct sk_buff *skb);
int cftcp_v4_err(struct sk_buff *skb, u32 info);
int cftcp_backlog_rcv(struct sock *sk, struct sk_buff *skb);
bool cftcp_policy_rcv(struct sock *sk, struct sk_buff *skb);
int cftcp_parse_options(const struct sk_buff *skb, u16 *mss, u8 *wscale,
			bool *wscale_ok);
bool cftcp_ack(struct sock *sk, struct sk_buff *skb);
void cftcp_data_queue(struct sock *sk, struct sk_buff *skb);
void cftcp_ooo_purge(struct sock *sk);
void cftcp_cleanup_rbuf(struct sock *sk, int copied);
void cftcp_init_ack_mss(struct sock *sk);
u32 cftcp_readable(const struct sock *sk);
int cftcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		  int flags);

/* output.c: building and sending segments. */
void cftcp_init_xmit(struct sock *sk);
void cftcp_write_space(struct sock *sk);
int cftcp_send_syn(struct sock *sk);
void cftcp_send_ack(struct sock *sk);
void cftcp_send_active_reset(struct sock *sk, gfp_t gfp);
void cftcp_send_reset_reply(struct net *net, struct sk_buff *skb);
void cftcp_send_ack_reply(struct net *net, struct sk_buff *skb, u32 seq,
			  u32 ack, u32 win);
int cftcp_send_synack_req(struct net *net, struct cftcp_req *req);
bool cftcp_rate_limited(struct cftcp_net *cn, int mib, u32 *last);
bool cftcp_challenge_ack_allowed(struct cftcp_net *cn);
bool cftcp_oow_rate_limited(struct cftcp_net *cn, const struct sk_buff *skb,
			    int mib, u32 *last);
void cftcp_send_challenge_ack(struct sock *sk);
void cftcp_send_fin(struct sock *sk);
void cftcp_push(struct sock *sk);
void __cftcp_push(struct sock *sk, bool force);
void cftcp_retransmit_head(struct sock *sk);
void cftcp_send_probe(struct sock *sk);
u32 cftcp_select_window(struct sock *sk);
u32 cftcp_free_space(const struct sock *sk);
u8 cftcp_choose_wscale(const struct sock *sk);
u32 cftcp_initial_window(int rcvbuf, u8 wscale);
u16 cftcp_route_mss(struct net *net, __be32 daddr, __be32 saddr);
u16 cftcp_sk_route_mss(struct sock *sk);
void cftcp_sync_mss(struct sock *sk, u16 peer_mss);
int cftcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size);
int cftcp_sendpage(struct sock *sk, struct page *page, int offset,
		   size_t size, int flags);
int cftcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len);
void cftcp_trim_acked(struct sock *sk, struct sk_buff *skb, u32 len);
void cftcp_route_caps(struct sock *sk);
void cftcp_setup_caps(struct sock *sk, struct dst_entry *dst);
struct dst_entry *cftcp_reroute(struct sock *sk);
int cftcp_retransmit_skb(struct sock *sk, struct sk_buff *skb);

/* offload.c: segmentation of super-packets for devices without it. */
int cftcp_offload_init(void);
void cftcp_offload_exit(void);

/* pmtu.c: path MTU discovery. */
void cftcp_v4_mtu_err(struct sock *sk, u32 mtu);
void cftcp_release_cb(struct sock *sk);

/* timer.c: per-socket timers. */
void cftcp_init_timers(struct sock *sk);
void cftcp_clear_timers(struct sock *sk);
void cftcp_arm_rtx(struct sock *sk, unsigned long when);
void cftcp_rearm_rtx(struct sock *sk);
void cftcp_stop_rtx(struct sock *sk);
void cftcp_schedule_delack(struct sock *sk);
void cftcp_data_sent(struct sock *sk);
void cftcp_data_rcvd(struct sock *sk);
void cftcp_enter_quickack(struct sock *sk);
void cftcp_reset_keepalive(struct sock *sk);
void cftcp_arm_fin_wait2(struct sock *sk, unsigned long timeo);
void cftcp_rtt_sample(struct sock *sk, u32 rtt_jiffies);
void cftcp_rto_collapse(struct sock *sk);
unsigned long cftcp_rto_initial(const struct sock *sk);
int cftcp_fin_timeout(const struct sock *sk);

/* hash.c: 4-tuple, listener and port tables. */
int cftcp_hash_net_init(struct cftcp_net *cn);
void cftcp_hash_net_exit(struct cftcp_net *cn);
struct cftcp_hnode *cftcp_ehash_lookup(struct cftcp_net *cn, __be32 laddr,
				       __be16 lport, __be32 raddr,
				       __be16 rport, int dif, int sdif);
struct cftcp_hnode *cftcp_ehash_first(struct cftcp_net *cn, unsigned int slot,
				      u8 kind);
bool cftcp_ehash_insert(struct cftcp_net *cn, struct cftcp_hnode *hn);
bool cftcp_ehash_remove(struct cftcp_net *cn, struct cftcp_hnode *hn);
bool cftcp_ehash_replace(struct cftcp_net *cn, struct cftcp_hnode *old,
			 struct cftcp_hnode *new);
struct sock *cftcp_lookup_listener(struct cftcp_net *cn, __be32 laddr,
				   __be16 lport, int dif, int sdif);
int cftcp_listen_hash(struct sock *sk);
bool cftcp_listen_port_conflict(struct sock *sk);
void cftcp_listen_unhash(struct sock *sk);
int cftcp_bind_port(struct sock *sk, __be32 addr, u16 port);
bool cftcp_bind_inherit(struct sock *child, struct sock *parent);
void cftcp_bind_del(struct sock *sk);
void cftcp_bind_add_tw(struct sock *sk, struct cftcp_tw *tw);
void cftcp_bind_del_tw(struct cftcp_tw *tw);
int cftcp_connect_hash(struct sock *sk);
void cftcp_unhash(struct sock *sk);
void cftcp_hnode_set(struct cftcp_hnode *hn, __be32 laddr, __be16 lport,
		     __be32 raddr, __be16 rport, u8 kind);
bool cftcp_hnode_hold(struct cftcp_hnode *hn);
void cftcp_hnode_put(struct cftcp_hnode *hn);
u32 cftcp_new_isn(struct cftcp_net *cn, __be32 saddr, __be32 daddr,
		  __be16 sport, __be16 dport);

/* synq.c: half-open requests and the accept queue. */
void cftcp_listener_init(struct sock *sk);
int cftcp_conn_request(struct sock *sk, struct sk_buff *skb);
int cftcp_req_rcv(struct cftcp_req *req, struct sk_buff *skb);
void cftcp_listen_stop(struct sock *sk);
struct sock *cftcp_accept_dequeue(struct sock *sk);
void cftcp_req_put(struct cftcp_req *req);
void cftcp_req_kill(struct cftcp_req *req);
void cftcp_req_purge_net(struct cftcp_net *cn);
int cftcp_req_complete(struct cftcp_req *req, struct sk_buff *skb);

/* syncookie.c: SYN cookies. */
void cftcp_cookie_synack(struct sock *lsk, struct sk_buff *skb);
bool cftcp_cookie_ack(struct sock *lsk, struct sk_buff *skb);

/* timewait.c: TIME_WAIT entries and their reaper. */
void cftcp_time_wait(struct sock *sk);
int cftcp_tw_rcv(struct cftcp_tw *tw, struct sk_buff *skb);
void cftcp_tw_put(struct cftcp_tw *tw);
void cftcp_tw_kill(struct cftcp_tw *tw, bool reaped);
void cftcp_tw_purge_net(struct cftcp_net *cn);

/* proc.c and sysctl.c. */
int cftcp_proc_net_init(struct net *net);
void cftcp_proc_net_exit(struct net *net);
int cftcp_sysctl_net_init(struct cftcp_net *cn);
void cftcp_sysctl_net_exit(struct cftcp_net *cn);
void cftcp_sysctl_defaults(struct cftcp_sysctl *s);
int cftcp_sysctl_global_init(void);
void cftcp_sysctl_global_exit(void);

/* mem.c: protocol memory accounting and orphans. */
extern long cftcp_sysctl_mem[3];
extern int cftcp_max_orphans;
void cftcp_mem_proto_init(struct proto *prot);
int cftcp_mem_init(void);
int cftcp_rmem_max(void);
int cftcp_wmem_max(void);

void cftcp_mem_exit(void);
void cftcp_mem_wait_sockets(void);
bool cftcp_orphan(struct sock *sk);
void cftcp_orphan_done(struct sock *sk);
bool cftcp_orphan_out_of_resources(struct sock *sk);

/* bufsize.c: receive and send buffer autotuning. */
void cftcp_rcv_rtt_measure(struct sock *sk);
void cftcp_rcv_space_adjust(struct sock *sk);
void cftcp_sndbuf_expand(struct sock *sk);
void cftcp_init_buffer_space(struct sock *sk);
void cftcp_rcv_measure_reset(struct sock *sk);

/* policy.c: cgroup egress programs. */
int cftcp_policy_sock_init(struct net *net);
void cftcp_policy_net_exit(struct net *net);

/* info.c: CFTCP_INFO. */
void cftcp_get_info(struct sock *sk, struct cftcp_info *info);

#endif /* _CFTCP_H */

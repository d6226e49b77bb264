/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cftcp tracepoints, in the style of Linux's tcp and sock events: state
 * changes, retransmissions, resets sent and received, SYN cookies, and
 * TIME_WAIT entries made and ended.  Each names its 4-tuple as
 * saddr:sport daddr:dport from the local end's view.
 *
 *   perf trace -e 'cftcp:*'      bpftrace -e 'tracepoint:cftcp:* { ... }'
 *   echo 1 > /sys/kernel/tracing/events/cftcp/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cftcp

#if !defined(_TRACE_CFTCP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_CFTCP_H

#include <linux/tracepoint.h>
#include <net/inet_sock.h>
#include <linux/cftcp.h>

/* The state numbers, exported so that user tools can print their names. */
TRACE_DEFINE_ENUM(CFTCP_ESTABLISHED);
TRACE_DEFINE_ENUM(CFTCP_SYN_SENT);
TRACE_DEFINE_ENUM(CFTCP_SYN_RECV);
TRACE_DEFINE_ENUM(CFTCP_FIN_WAIT1);
TRACE_DEFINE_ENUM(CFTCP_FIN_WAIT2);
TRACE_DEFINE_ENUM(CFTCP_TIME_WAIT);
TRACE_DEFINE_ENUM(CFTCP_CLOSE);
TRACE_DEFINE_ENUM(CFTCP_CLOSE_WAIT);
TRACE_DEFINE_ENUM(CFTCP_LAST_ACK);
TRACE_DEFINE_ENUM(CFTCP_LISTEN);
TRACE_DEFINE_ENUM(CFTCP_CLOSING);

#define cftcp_trace_state_name(s)					\
	__print_symbolic(s,						\
		{ CFTCP_ESTABLISHED, "ESTABLISHED" },			\
		{ CFTCP_SYN_SENT, "SYN_SENT" },				\
		{ CFTCP_SYN_RECV, "SYN_RECV" },				\
		{ CFTCP_FIN_WAIT1, "FIN_WAIT1" },			\
		{ CFTCP_FIN_WAIT2, "FIN_WAIT2" },			\
		{ CFTCP_TIME_WAIT, "TIME_WAIT" },			\
		{ CFTCP_CLOSE, "CLOSE" },				\
		{ CFTCP_CLOSE_WAIT, "CLOSE_WAIT" },			\
		{ CFTCP_LAST_ACK, "LAST_ACK" },				\
		{ CFTCP_LISTEN, "LISTEN" },				\
		{ CFTCP_CLOSING, "CLOSING" })

#define CFTCP_TRACE_TUPLE_ASSIGN(sa, sp, da, dp)	\
	do {						\
		__entry->saddr = (__force __u32)(sa);	\
		__entry->daddr = (__force __u32)(da);	\
		__entry->sport = ntohs(sp);		\
		__entry->dport = ntohs(dp);		\
	} while (0)

#define CFTCP_TRACE_TUPLE_FMT "saddr=%pI4 sport=%u daddr=%pI4 dport=%u"

TRACE_EVENT(cftcp_set_state,
	    TP_PROTO(const struct sock *sk, int oldstate, int newstate),
	    TP_ARGS(sk, oldstate, newstate),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __field(__u32, saddr)
			     __field(__u32, daddr)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(int, oldstate)
			     __field(int, newstate)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);

			   __entry->skaddr = sk;
			   CFTCP_TRACE_TUPLE_ASSIGN(inet->inet_saddr, inet->inet_sport,
						    inet->inet_daddr, inet->inet_dport);
			   __entry->oldstate = oldstate;
			   __entry->newstate = newstate;),
	    TP_printk(CFTCP_TRACE_TUPLE_FMT " oldstate=%s newstate=%s",
		      &__entry->saddr, __entry->sport,
		      &__entry->daddr, __entry->dport,
		      cftcp_trace_state_name(__entry->oldstate),
		      cftcp_trace_state_name(__entry->newstate))
);

TRACE_EVENT(cftcp_retransmit_skb,
	    TP_PROTO(const struct sock *sk, u32 seq, u32 end_seq),
	    TP_ARGS(sk, seq, end_seq),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __field(__u32, saddr)
			     __field(__u32, daddr)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(u32, seq)
			     __field(u32, end_seq)
			     __field(int, state)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);

			   __entry->skaddr = sk;
			   CFTCP_TRACE_TUPLE_ASSIGN(inet->inet_saddr, inet->inet_sport,
						    inet->inet_daddr, inet->inet_dport);
			   __entry->seq = seq;
			   __entry->end_seq = end_seq;
			   __entry->state = sk->sk_state;),
	    TP_printk(CFTCP_TRACE_TUPLE_FMT " seq=%u end_seq=%u state=%s",
		      &__entry->saddr, __entry->sport,
		      &__entry->daddr, __entry->dport, __entry->seq, __entry->end_seq,
		      cftcp_trace_state_name(__entry->state))
);

/* A RST sent: by a socket (@sk set) or in answer to a segment that found
 * no connection (@sk NULL).
 */
TRACE_EVENT(cftcp_send_reset,
	    TP_PROTO(const struct sock *sk, __be32 saddr, __be16 sport,
		     __be32 daddr, __be16 dport, u32 seq),
	    TP_ARGS(sk, saddr, sport, daddr, dport, seq),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __field(__u32, saddr)
			     __field(__u32, daddr)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(u32, seq)
			     __field(int, state)),
	    TP_fast_assign(__entry->skaddr = sk;
			   CFTCP_TRACE_TUPLE_ASSIGN(saddr, sport, daddr, dport);
			   __entry->seq = seq;
			   __entry->state = sk ? sk->sk_state : 0;),
	    TP_printk(CFTCP_TRACE_TUPLE_FMT " seq=%u state=%s",
		      &__entry->saddr, __entry->sport,
		      &__entry->daddr, __entry->dport, __entry->seq,
		      __entry->state ? cftcp_trace_state_name(__entry->state) :
		      "none")
);

TRACE_EVENT(cftcp_receive_reset,
	    TP_PROTO(const struct sock *sk),
	    TP_ARGS(sk),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __field(__u32, saddr)
			     __field(__u32, daddr)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(int, state)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);

			   __entry->skaddr = sk;
			   CFTCP_TRACE_TUPLE_ASSIGN(inet->inet_saddr, inet->inet_sport,
						    inet->inet_daddr, inet->inet_dport);
			   __entry->state = sk->sk_state;),
	    TP_printk(CFTCP_TRACE_TUPLE_FMT " state=%s", &__entry->saddr, __entry->sport,
		      &__entry->daddr, __entry->dport,
		      cftcp_trace_state_name(__entry->state))
);

/* SYN cookies: 0 a cookie sent in a SYN-ACK, 1 a valid cookie came back
 * (a connection made from it), 2 a returning ACK's cookie was invalid.
 */
TRACE_EVENT(cftcp_syncookie,
	    TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		     int event),
	    TP_ARGS(saddr, sport, daddr, dport, event),
	    TP_STRUCT__entry(__field(__u32, saddr)
			     __field(__u32, daddr)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(int, event)),
	    TP_fast_assign(CFTCP_TRACE_TUPLE_ASSIGN(saddr, sport, daddr, dport);
			   __entry->event = event;),
	    TP_printk(CFTCP_TRACE_TUPLE_FMT " event=%s", &__entry->saddr, __entry->sport,
		      &__entry->daddr, __entry->dport,
		      __print_symbolic(__entry->event, { 0, "sent" },
				       { 1, "accepted" }, { 2, "failed" }))
);

DECLARE_EVENT_CLASS(cftcp_tw_class,
		    TP_PROTO(const void *tw, __be32 saddr, __be16 sport, __be32 daddr,
			     __be16 dport, unsigned int msecs),
		    TP_ARGS(tw, saddr, sport, daddr, dport, msecs),
		    TP_STRUCT__entry(__field(const void *, twaddr)
				     __field(__u32, saddr)
				     __field(__u32, daddr)
				     __field(__u16, sport)
				     __field(__u16, dport)
				     __field(unsigned int, msecs)),
		    TP_fast_assign(__entry->twaddr = tw;
				   CFTCP_TRACE_TUPLE_ASSIGN(saddr, sport, daddr, dport);
				   __entry->msecs = msecs;),
		    TP_printk(CFTCP_TRACE_TUPLE_FMT " msecs=%u", &__entry->saddr, __entry->sport,
			      &__entry->daddr, __entry->dport,
			      __entry->msecs)
);

/* A TIME_WAIT entry made; msecs: how long it will live. */
DEFINE_EVENT(cftcp_tw_class, cftcp_tw_create,
	     TP_PROTO(const void *tw, __be32 saddr, __be16 sport, __be32 daddr,
		      __be16 dport, unsigned int msecs),
	     TP_ARGS(tw, saddr, sport, daddr, dport, msecs)
);

/* A TIME_WAIT entry ended at its time; msecs: how long it lived. */
DEFINE_EVENT(cftcp_tw_class, cftcp_tw_reap,
	     TP_PROTO(const void *tw, __be32 saddr, __be16 sport, __be32 daddr,
		      __be16 dport, unsigned int msecs),
	     TP_ARGS(tw, saddr, sport, daddr, dport, msecs)
);

/* A TIME_WAIT entry ended early (RST, reuse); msecs: how long it lived. */
DEFINE_EVENT(cftcp_tw_class, cftcp_tw_kill,
	     TP_PROTO(const void *tw, __be32 saddr, __be16 sport, __be32 daddr,
		      __be16 dport, unsigned int msecs),
	     TP_ARGS(tw, saddr, sport, daddr, dport, msecs)
);

#endif /* _TRACE_CFTCP_H */

/* Outside the include guard: define_trace.h reads this file again, as
 * <trace/events/cftcp.h>, found through the module's include directory.
 */
#include <trace/define_trace.h>

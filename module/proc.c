// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp files under /proc/net of each network namespace:
 *
 *   cftcp       one line per listener, connection, half-open request and
 *               TIME_WAIT entry, in the format of /proc/net/tcp;
 *   cftcp_stat  the counters of struct cftcp_mib, as /proc/net/netstat
 *               prints its own.
 *
 * The listener and 4-tuple tables are read under rcu_read_lock() only, held
 * from ->start to ->stop of the seq_file: nothing here takes a table lock or
 * a reference. Sockets are freed after a grace period (SOCK_RCU_FREE), as are
 * requests and TIME_WAIT entries (kfree_rcu), so what is found stays readable
 * until ->stop. As with /proc/net/tcp, lines may be missed or repeated when
 * entries come, go or move between chains during the read, and fields are
 * read without the socket lock, so a line need not be a consistent snapshot.
 */
#include <linux/cred.h>
#include <linux/jiffies.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>

#include "cftcp.h"

/* Width of a line of /proc/net/cftcp, padding included, as /proc/net/tcp. */
#define CFTCP_PROC_LINE	150

/* Which table the iterator is in. */
enum cftcp_iter_phase {
	CFTCP_ITER_LISTEN,	/* cn->lhash, chained by listen_node */
	CFTCP_ITER_EHASH,	/* cn->ehash, chained by hnode.node */
};

/**
 * struct cftcp_iter_state - position of a reader of /proc/net/cftcp
 * @p: namespace of the file; must be first
 * @phase: table of the current entry, enum cftcp_iter_phase
 * @bucket: chain of the current entry in that table
 * @offset: index of the current entry in its chain
 * @num: line number of the current entry, from 0
 * @last_pos: seq_file position the fields above describe
 *
 * Reading resumes from (@phase, @bucket, @offset) when the seq_file asks
 * for @last_pos again, instead of walking everything before it.
 */
struct cftcp_iter_state {
	struct seq_net_private	p;
	int			phase;
	unsigned int		bucket;
	int			offset;
	int			num;
	loff_t			last_pos;
};

/*
 * First entry of the current chain or of the next non-empty one, moving on
 * from the listener table to the 4-tuple table at its end.
 */
static struct hlist_nulls_node *cftcp_iter_first(struct seq_file *seq)
{
	struct cftcp_net *cn = cftcp_pernet(seq_file_net(seq));
	struct cftcp_iter_state *st = seq->private;
	struct hlist_nulls_head *head;
	struct hlist_nulls_node *n;

	st->offset = 0;
	if (st->phase == CFTCP_ITER_LISTEN) {
		for (; st->bucket < CFTCP_LHASH_SIZE; st->bucket++) {
			head = &cn->lhash[st->bucket];
			n = rcu_dereference(hlist_nulls_first_rcu(head));
			if (!is_a_nulls(n))
				return n;
		}
		st->phase = CFTCP_ITER_EHASH;
		st->bucket = 0;
	}
	if (!cn->ehash)
		return NULL;
	for (; st->bucket <= cn->ehash_mask; st->bucket++) {
		head = &cn->ehash[st->bucket];
		n = rcu_dereference(hlist_nulls_first_rcu(head));
		if (!is_a_nulls(n))
			return n;
	}
	return NULL;
}

/*
 * A chain's end marker is its bucket number; an entry that moved to
 * another chain under us ends the walk of this one early, as a reader of
 * /proc/net/tcp may also miss or repeat an entry that moves.
 */
static struct hlist_nulls_node *cftcp_iter_next(struct seq_file *seq,
						struct hlist_nulls_node *cur)
{
	struct cftcp_iter_state *st = seq->private;
	struct hlist_nulls_node *n;

	n = rcu_dereference(hlist_nulls_next_rcu(cur));
	if (!is_a_nulls(n)) {
		st->offset++;
		return n;
	}
	st->bucket++;
	return cftcp_iter_first(seq);
}

/* Entry number @pos (from 0), walking from the start. */
static struct hlist_nulls_node *cftcp_iter_idx(struct seq_file *seq,
					       loff_t pos)
{
	struct cftcp_iter_state *st = seq->private;
	struct hlist_nulls_node *n;

	st->phase = CFTCP_ITER_LISTEN;
	st->bucket = 0;
	st->num = 0;
	n = cftcp_iter_first(seq);
	while (n && pos--) {
		n = cftcp_iter_next(seq, n);
		st->num++;
	}
	return n;
}

/*
 * The entry the previous read stopped at: the same chain, as far into it
 * as before, or the first entry after the chain if it has become shorter.
 */
static struct hlist_nulls_node *cftcp_iter_resume(struct seq_file *seq)
{
	struct cftcp_iter_state *st = seq->private;
	unsigned int bucket = st->bucket;
	int offset = st->offset;
	int phase = st->phase;
	struct hlist_nulls_node *n;

	n = cftcp_iter_first(seq);
	while (n && offset-- > 0 && st->phase == phase &&
	       st->bucket == bucket)
		n = cftcp_iter_next(seq, n);
	return n;
}

static void *cftcp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct cftcp_iter_state *st = seq->private;
	void *v = NULL;

	rcu_read_lock();
	if (*pos && *pos == st->last_pos)
		v = cftcp_iter_resume(seq);
	if (!v)
		v = *pos ? cftcp_iter_idx(seq, *pos - 1) : SEQ_START_TOKEN;
	st->last_pos = *pos;
	return v;
}

static void *cftcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct cftcp_iter_state *st = seq->private;
	void *n;

	if (v == SEQ_START_TOKEN) {
		n = cftcp_iter_idx(seq, 0);
	} else {
		n = cftcp_iter_next(seq, v);
		st->num++;
	}
	++*pos;
	st->last_pos = *pos;
	return n;
}

static void cftcp_seq_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static void cftcp_show_sock(struct seq_file *f, struct sock *sk, int i)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);
	unsigned long timer_expires;
	int timer_active, rx_queue, state;
	u8 rtx_mode;

	rtx_mode = READ_ONCE(cs->rtx_mode);
	if (timer_pending(&cs->rtx_timer) && rtx_mode == CFTCP_RTX_DATA) {
		timer_active = 1;
		timer_expires = READ_ONCE(cs->rtx_timer.expires);
	} else if (timer_pending(&cs->rtx_timer) &&
		   rtx_mode == CFTCP_RTX_PROBE) {
		timer_active = 4;
		timer_expires = READ_ONCE(cs->rtx_timer.expires);
	} else if (timer_pending(&cs->keepalive_timer)) {
		timer_active = 2;
		timer_expires = READ_ONCE(cs->keepalive_timer.expires);
	} else {
		timer_active = 0;
		timer_expires = jiffies;
	}

	state = inet_sk_state_load(sk);
	if (state == CFTCP_LISTEN)
		rx_queue = READ_ONCE(sk->sk_ack_backlog);
	else	/* no socket lock: the difference may be briefly negative */
		rx_queue = max_t(int, READ_ONCE(cs->rcv_nxt) -
				      READ_ONCE(cs->copied_seq), 0);

	/*
	 * After the columns /proc/net/tcp shares with this file come rto,
	 * ato, quick/pingpong, congestion window and slow start threshold.
	 * The delayed-ACK time is fixed, and shown once data has come, as
	 * Linux's starts; quick ACKs left and pingpong print as Linux's.
	 * cftcp has no congestion control: the last two print as Linux
	 * prints a listener and a connection in initial slow start, with a
	 * window of 0.
	 */
	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX ",
		   i, READ_ONCE(inet->inet_rcv_saddr),
		   ntohs(READ_ONCE(inet->inet_sport)),
		   READ_ONCE(inet->inet_daddr),
		   ntohs(READ_ONCE(inet->inet_dport)), state,
		   READ_ONCE(cs->write_seq) - READ_ONCE(cs->snd_una),
		   rx_queue, timer_active,
		   jiffies_delta_to_clock_t(timer_expires - jiffies));
	seq_printf(f, "%08X %5u %8d %lu %d %pK %lu %lu %u %u %d",
		   READ_ONCE(cs->retransmits),
		   from_kuid_munged(seq_user_ns(f), sock_i_uid(sk)),
		   READ_ONCE(cs->probes_out), sock_i_ino(sk),
		   refcount_read(&sk->sk_refcnt), sk,
		   (unsigned long)jiffies_to_clock_t(READ_ONCE(cs->rto)),
		   cs->data_rcvd ?
		   (unsigned long)jiffies_to_clock_t(CFTCP_DELACK_TIME) : 0UL,
		   (unsigned int)READ_ONCE(cs->quickack) << 1 | cs->pingpong,
		   0U, state == CFTCP_LISTEN ? 0 : -1);
}

static void cftcp_show_req(struct seq_file *f, const struct cftcp_req *req,
			   int i)
{
	const struct cftcp_tuple *t = &req->hnode.tuple;
	long delta = READ_ONCE(req->expires) - jiffies;
	struct sock *lsk = READ_ONCE(req->listener);
	kuid_t uid = lsk ? sock_i_uid(lsk) : GLOBAL_ROOT_UID;

	/* A request has one timer (SYN-ACK retransmission) and no inode. */
	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX ",
		   i, t->laddr, ntohs(t->lport), t->raddr, ntohs(t->rport),
		   CFTCP_SYN_RECV, 0, 0, 1, jiffies_delta_to_clock_t(delta));
	seq_printf(f, "%08X %5u %8d %u %d %pK",
		   READ_ONCE(req->num_timeout),
		   from_kuid_munged(seq_user_ns(f), uid), 0, 0U, 0, req);
}

static void cftcp_show_tw(struct seq_file *f, const struct cftcp_tw *tw,
			  int i)
{
	const struct cftcp_tuple *t = &tw->hnode.tuple;
	long delta = READ_ONCE(tw->expires) - jiffies;

	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX ",
		   i, t->laddr, ntohs(t->lport), t->raddr, ntohs(t->rport),
		   CFTCP_TIME_WAIT, 0, 0, 3,
		   jiffies_delta_to_clock_t(delta));
	seq_printf(f, "%08X %5d %8d %d %d %pK",
		   0, 0, 0, 0, refcount_read(&tw->refcnt), tw);
}

static int cftcp_seq_show(struct seq_file *seq, void *v)
{
	struct cftcp_iter_state *st = seq->private;
	struct cftcp_sock *cs;
	struct cftcp_hnode *hn;

	seq_setwidth(seq, CFTCP_PROC_LINE - 1);
	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue ");
		seq_puts(seq, "rx_queue tr tm->when retrnsmt   uid  timeout ");
		seq_puts(seq, "inode");
		goto out;
	}

	if (st->phase == CFTCP_ITER_LISTEN) {
		cs = container_of(v, struct cftcp_sock, listen_node);
		cftcp_show_sock(seq, (struct sock *)cs, st->num);
		goto out;
	}

	/* Nothing beyond the struct of the entry's kind is read. */
	hn = container_of(v, struct cftcp_hnode, node);
	switch (READ_ONCE(hn->kind)) {
	case CFTCP_HK_SOCK:
		cftcp_show_sock(seq, cftcp_hnode_sk(hn), st->num);
		break;
	case CFTCP_HK_REQ:
		cftcp_show_req(seq, container_of(hn, struct cftcp_req, hnode),
			       st->num);
		break;
	case CFTCP_HK_TW:
		cftcp_show_tw(seq, container_of(hn, struct cftcp_tw, hnode),
			      st->num);
		break;
	}
out:
	seq_pad(seq, '\n');
	return 0;
}

static const struct seq_operations cftcp_seq_ops = {
	.start	= cftcp_seq_start,
	.next	= cftcp_seq_next,
	.stop	= cftcp_seq_stop,
	.show	= cftcp_seq_show,
};

/* Names of /proc/net/cftcp_stat, in the order of enum cftcp_mib_field. */
static const char * const cftcp_mib_names[] = {
	[CFTCP_MIB_ACTIVEOPENS]		= "ActiveOpens",
	[CFTCP_MIB_PASSIVEOPENS]	= "PassiveOpens",
	[CFTCP_MIB_ATTEMPTFAILS]	= "AttemptFails",
	[CFTCP_MIB_ESTABRESETS]		= "EstabResets",
	[CFTCP_MIB_CURRESTAB]		= "CurrEstab",
	[CFTCP_MIB_INSEGS]		= "InSegs",
	[CFTCP_MIB_OUTSEGS]		= "OutSegs",
	[CFTCP_MIB_RETRANSSEGS]		= "RetransSegs",
	[CFTCP_MIB_INERRS]		= "InErrs",
	[CFTCP_MIB_OUTRSTS]		= "OutRsts",
	[CFTCP_MIB_INCSUMERRORS]	= "InCsumErrors",
	[CFTCP_MIB_SYNRETRANS]		= "SynRetrans",
	[CFTCP_MIB_SYNACKRETRANS]	= "SynAckRetrans",
	[CFTCP_MIB_LISTENOVERFLOWS]	= "ListenOverflows",
	[CFTCP_MIB_LISTENDROPS]		= "ListenDrops",
	[CFTCP_MIB_REQQFULLDROP]	= "ReqQFullDrop",
	[CFTCP_MIB_SYNCOOKIESSENT]	= "SyncookiesSent",
	[CFTCP_MIB_SYNCOOKIESRECV]	= "SyncookiesRecv",
	[CFTCP_MIB_SYNCOOKIESFAILED]	= "SyncookiesFailed",
	[CFTCP_MIB_TIMEWAITOVERFLOW]	= "TimeWaitOverflow",
	[CFTCP_MIB_TWREAPED]		= "TWReaped",
	[CFTCP_MIB_TWRECYCLED]		= "TWRecycled",
	[CFTCP_MIB_TWKILLED]		= "TWKilled",
	[CFTCP_MIB_CHALLENGEACK]	= "ChallengeACK",
	[CFTCP_MIB_TIMEOUTS]		= "Timeouts",
	[CFTCP_MIB_FASTRETRANS]		= "FastRetrans",
	[CFTCP_MIB_ABORTONCLOSE]	= "AbortOnClose",
	[CFTCP_MIB_ABORTONDATA]		= "AbortOnData",
	[CFTCP_MIB_ABORTONLINGER]	= "AbortOnLinger",
	[CFTCP_MIB_ABORTONTIMEOUT]	= "AbortOnTimeout",
	[CFTCP_MIB_OUTOFWINDOW]		= "OutOfWindow",
	[CFTCP_MIB_ZEROWINDOWDROP]	= "ZeroWindowDrop",
	[CFTCP_MIB_RCVQDROP]	= "RcvQDrop",
	[CFTCP_MIB_OFODROP]	= "OFODrop",
	[CFTCP_MIB_OFOPRUNED]	= "OfoPruned",
	[CFTCP_MIB_RCVCOLLAPSED]	= "RcvCollapsed",
	[CFTCP_MIB_PRUNECALLED]	= "PruneCalled",
	[CFTCP_MIB_ABORTONMEMORY]	= "AbortOnMemory",
	[CFTCP_MIB_ACKSKIPPEDSEQ]	= "ACKSkippedSeq",
	[CFTCP_MIB_ACKSKIPPEDSYNRECV]	= "ACKSkippedSynRecv",
	[CFTCP_MIB_ACKSKIPPEDTIMEWAIT]	= "ACKSkippedTimeWait",
	[CFTCP_MIB_ACKSKIPPEDCHALLENGE]	= "ACKSkippedChallenge",
	[CFTCP_MIB_SYNCHALLENGE]	= "SYNChallenge",
};

static int cftcp_stat_show(struct seq_file *seq, void *v)
{
	struct cftcp_net *cn = cftcp_pernet(seq_file_single_net(seq));
	unsigned long vals[CFTCP_MIB_MAX] = {};
	int cpu, i;

	BUILD_BUG_ON(ARRAY_SIZE(cftcp_mib_names) != CFTCP_MIB_MAX);

	for_each_possible_cpu(cpu) {
		const struct cftcp_mib *m = per_cpu_ptr(cn->mib, cpu);

		for (i = 0; i < CFTCP_MIB_MAX; i++)
			vals[i] += READ_ONCE(m->mibs[i]);
	}

	seq_puts(seq, "CfTcp:");
	for (i = 0; i < CFTCP_MIB_MAX; i++)
		seq_printf(seq, " %s", cftcp_mib_names[i]);
	seq_puts(seq, "\nCfTcp:");
	for (i = 0; i < CFTCP_MIB_MAX; i++) {
		/*
		 * CurrEstab goes up on one CPU and down on another: only the
		 * sum means something, and it may be caught below zero.
		 */
		if (i == CFTCP_MIB_CURRESTAB)
			seq_printf(seq, " %ld", max_t(long, vals[i], 0));
		else
			seq_printf(seq, " %lu", vals[i]);
	}
	seq_putc(seq, '\n');
	return 0;
}

int cftcp_proc_net_init(struct net *net)
{
	if (!proc_create_net("cftcp", 0444, net->proc_net, &cftcp_seq_ops,
			     sizeof(struct cftcp_iter_state)))
		return -ENOMEM;
	if (!proc_create_net_single("cftcp_stat", 0444, net->proc_net,
				    cftcp_stat_show, NULL)) {
		remove_proc_entry("cftcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void cftcp_proc_net_exit(struct net *net)
{
	remove_proc_entry("cftcp_stat", net->proc_net);
	remove_proc_entry("cftcp", net->proc_net);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp lookup tables of one network namespace: the 4-tuple table (full
 * sockets, half-open requests, TIME_WAIT entries), the listener table and
 * the local port owners, plus ephemeral port choice and initial sequence
 * numbers.
 *
 * Readers walk the 4-tuple and listener tables (hlist_nulls, each chain
 * ending on its bucket number) under RCU and pin what they find with
 * refcount_inc_not_zero(), then check it again. Writers take a bucket lock
 * of the 4-tuple table, or cn->lhash_lock. The port table has one bucket
 * per local port in use, holding its owners, and is read and written
 * under the lock of that port (cn->bhash_locks[], which nests outside the
 * 4-tuple table's: see the lock order in cftcp.h). All are taken with
 * BH off, as the tables are changed from softirq too: with _bh, or plain
 * where BH is off already (a 4-tuple bucket under a port lock).
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/inet_sock.h>

#include "cftcp.h"

static u32 cftcp_ehashfn(const struct cftcp_net *cn, __be32 laddr,
			 __be16 lport, __be32 raddr, __be16 rport)
{
	return jhash_3words((__force u32)laddr, (__force u32)raddr,
			    ((__force u32)lport << 16) | (__force u32)rport,
			    cn->hash_rnd);
}

static spinlock_t *cftcp_ehash_lockp(struct cftcp_net *cn, u32 hash)
{
	return &cn->ehash_locks[hash & (CFTCP_EHASH_LOCKS - 1)];
}

static u32 cftcp_hnode_hash(const struct cftcp_net *cn,
			    const struct cftcp_hnode *hn)
{
	const struct cftcp_tuple *t = &hn->tuple;

	return cftcp_ehashfn(cn, t->laddr, t->lport, t->raddr, t->rport);
}

static bool cftcp_tuple_eq(const struct cftcp_tuple *a,
			   const struct cftcp_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr &&
	       a->lport == b->lport && a->rport == b->rport;
}

/*
 * Give an entry that is in no chain its 4-tuple. Its chain link is left
 * alone: after leaving a chain a socket's node may still be walked by
 * readers, and its next pointer must lead them on until a grace period.
 */
void cftcp_hnode_set(struct cftcp_hnode *hn, __be32 laddr, __be16 lport,
		     __be32 raddr, __be16 rport, u8 kind)
{
	WRITE_ONCE(hn->tuple.laddr, laddr);
	WRITE_ONCE(hn->tuple.lport, lport);
	WRITE_ONCE(hn->tuple.raddr, raddr);
	WRITE_ONCE(hn->tuple.rport, rport);
	hn->bound_dev_if = 0;
	hn->kind = kind;
	hn->hashed = false;
	hn->node.pprev = NULL;
}

/*
 * SO_BINDTODEVICE and VRF as Linux's inet_bound_dev_eq() with
 * tcp_l3mdev_accept at its default (0): a bound entry takes segments that
 * arrive on its device (@dif) or on a VRF slave of it (@sdif); an unbound
 * one takes those not from a VRF slave.
 */
static bool cftcp_dev_match(int bound_dev_if, int dif, int sdif)
{
	return inet_bound_dev_eq(false, bound_dev_if, dif, sdif);
}

static int cftcp_hnode_dev(struct cftcp_hnode *hn)
{
	if (hn->kind == CFTCP_HK_SOCK)
		return READ_ONCE(cftcp_hnode_sk(hn)->sk_bound_dev_if);
	return READ_ONCE(hn->bound_dev_if);
}

static bool cftcp_hnode_match(struct cftcp_hnode *hn,
			      const struct cftcp_tuple *t, int dif, int sdif)
{
	return READ_ONCE(hn->tuple.laddr) == t->laddr &&
	       READ_ONCE(hn->tuple.raddr) == t->raddr &&
	       READ_ONCE(hn->tuple.lport) == t->lport &&
	       READ_ONCE(hn->tuple.rport) == t->rport &&
	       cftcp_dev_match(cftcp_hnode_dev(hn), dif, sdif);
}

/* Pin an entry found under RCU; false if it is being freed. */
bool cftcp_hnode_hold(struct cftcp_hnode *hn)
{
	switch (hn->kind) {
	case CFTCP_HK_SOCK:
		return refcount_inc_not_zero(&cftcp_hnode_sk(hn)->sk_refcnt);
	case CFTCP_HK_REQ:
		return refcount_inc_not_zero(&((struct cftcp_req *)hn)->refcnt);
	default:
		return refcount_inc_not_zero(&((struct cftcp_tw *)hn)->refcnt);
	}
}

void cftcp_hnode_put(struct cftcp_hnode *hn)
{
	switch (hn->kind) {
	case CFTCP_HK_SOCK:
		sock_put(cftcp_hnode_sk(hn));
		break;
	case CFTCP_HK_REQ:
		cftcp_req_put((struct cftcp_req *)hn);
		break;
	default:
		cftcp_tw_put((struct cftcp_tw *)hn);
		break;
	}
}

/*
 * Caller holds rcu_read_lock(). Returns a pinned entry or NULL. Entries are
 * freed only after a grace period, so a node stays walkable while we stand
 * on it; but it may move to another chain (a socket that connects again),
 * which the nulls marker at the end of the walk tells, and a socket may
 * take another 4-tuple between the match and the reference, which the
 * second match tells. The kind of an entry never changes.
 */
struct cftcp_hnode *cftcp_ehash_lookup(struct cftcp_net *cn, __be32 laddr,
				       __be16 lport, __be32 raddr,
				       __be16 rport, int dif, int sdif)
{
	u32 hash = cftcp_ehashfn(cn, laddr, lport, raddr, rport);
	unsigned int slot = hash & cn->ehash_mask;
	struct cftcp_tuple t = {
		.laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport,
	};
	struct hlist_nulls_node *node;
	struct cftcp_hnode *hn;

begin:
	hlist_nulls_for_each_entry_rcu(hn, node, &cn->ehash[slot], node) {
		if (!cftcp_hnode_match(hn, &t, dif, sdif))
			continue;
		if (!cftcp_hnode_hold(hn))
			continue;	/* being freed: out of the table */
		if (unlikely(!cftcp_hnode_match(hn, &t, dif, sdif))) {
			cftcp_hnode_put(hn);
			goto begin;
		}
		return hn;
	}
	if (get_nulls_value(node) != slot)
		goto begin;
	return NULL;
}

/*
 * Namespace exit: the first entry of @kind in chain @slot, pinned, or NULL.
 * Caller holds rcu_read_lock().
 */
struct cftcp_hnode *cftcp_ehash_first(struct cftcp_net *cn, unsigned int slot,
				      u8 kind)
{
	struct hlist_nulls_node *node;
	struct cftcp_hnode *hn;

begin:
	hlist_nulls_for_each_entry_rcu(hn, node, &cn->ehash[slot], node)
		if (hn->kind == kind && cftcp_hnode_hold(hn))
			return hn;
	if (get_nulls_value(node) != slot)
		goto begin;
	return NULL;
}

static bool cftcp_ehash_has(struct cftcp_net *cn, u32 hash,
			    const struct cftcp_tuple *t)
	__must_hold(cftcp_ehash_lockp(cn, hash))
{
	struct hlist_nulls_head *head = &cn->ehash[hash & cn->ehash_mask];
	struct hlist_nulls_node *node;
	struct cftcp_hnode *hn;

	lockdep_assert_held(cftcp_ehash_lockp(cn, hash));
	hlist_nulls_for_each_entry(hn, node, head, node)
		if (cftcp_tuple_eq(&hn->tuple, t))
			return true;
	return false;
}

/*
 * Insert unless the 4-tuple is taken, with BH already off (connect()'s
 * port scan, under the port's lock). The caller handles references.
 */
static bool __cftcp_ehash_insert(struct cftcp_net *cn, struct cftcp_hnode *hn)
{
	u32 hash = cftcp_hnode_hash(cn, hn);
	struct hlist_nulls_head *head = &cn->ehash[hash & cn->ehash_mask];
	spinlock_t *lock = cftcp_ehash_lockp(cn, hash);
	bool ok = false;

	lockdep_assert_in_softirq();
	spin_lock(lock);
	if (!cftcp_ehash_has(cn, hash, &hn->tuple)) {
		hlist_nulls_add_head_rcu(&hn->node, head);
		hn->hashed = true;
		ok = true;
	}
	spin_unlock(lock);
	return ok;
}

bool cftcp_ehash_insert(struct cftcp_net *cn, struct cftcp_hnode *hn)
{
	bool ok;

	local_bh_disable();
	ok = __cftcp_ehash_insert(cn, hn);
	local_bh_enable();
	return ok;
}

/* True if this call took the entry out of the table. */
bool cftcp_ehash_remove(struct cftcp_net *cn, struct cftcp_hnode *hn)
{
	spinlock_t *lock = cftcp_ehash_lockp(cn, cftcp_hnode_hash(cn, hn));
	bool was = false;

	spin_lock_bh(lock);
	if (hn->hashed) {
		hlist_nulls_del_init_rcu(&hn->node);
		hn->hashed = false;
		was = true;
	}
	spin_unlock_bh(lock);
	return was;
}

/*
 * Put @new where @old is: a reader of that 4-tuple finds one or the other
 * (@new enters first). False if @old was already gone: somebody else won
 * the race for it.
 */
bool cftcp_ehash_replace(struct cftcp_net *cn, struct cftcp_hnode *old,
			 struct cftcp_hnode *new)
{
	u32 hash = cftcp_hnode_hash(cn, old);
	spinlock_t *lock = cftcp_ehash_lockp(cn, hash);
	bool ok = false;

	spin_lock_bh(lock);
	if (old->hashed) {
		/* Leaves old->node.next for readers standing on it. */
		hlist_nulls_add_head_rcu(&new->node,
					 &cn->ehash[hash & cn->ehash_mask]);
		hlist_nulls_del_init_rcu(&old->node);
		old->hashed = false;
		new->hashed = true;
		ok = true;
	}
	spin_unlock_bh(lock);
	return ok;
}

/* ---- Listeners -------------------------------------------------------- */

static unsigned int cftcp_lhash_slot(u16 port)
{
	return port & (CFTCP_LHASH_SIZE - 1);
}

/*
 * How well listener @sk fits a segment to (@laddr, @port) that came in on
 * @dif (@sdif: its VRF slave), 0 for not at all. As Linux looks up a
 * listener bound to the address before one on INADDR_ANY, and scores a
 * device-bound one above an unbound one (compute_score()).
 */
static int cftcp_listen_score(struct sock *sk, __be32 laddr, u16 port,
			      int dif, int sdif)
{
	__be32 rcv = READ_ONCE(sk->sk_rcv_saddr);
	int dev = READ_ONCE(sk->sk_bound_dev_if);

	if (READ_ONCE(sk->sk_num) != port ||
	    READ_ONCE(sk->sk_state) != CFTCP_LISTEN)
		return 0;
	if (rcv && rcv != laddr)
		return 0;
	if (!cftcp_dev_match(dev, dif, sdif))
		return 0;
	return (rcv ? 4 : 0) + (dev ? 2 : 1);
}

/*
 * Caller holds rcu_read_lock(). Returns a pinned listener or NULL. A
 * listener that stops and listens again on another port moves to another
 * chain: a walk ending on another chain's nulls marker starts over, and
 * the one chosen is scored again once pinned.
 */
struct sock *cftcp_lookup_listener(struct cftcp_net *cn, __be32 laddr,
				   __be16 lport, int dif, int sdif)
{
	u16 port = ntohs(lport);
	unsigned int slot = cftcp_lhash_slot(port);
	struct hlist_nulls_node *node;
	struct cftcp_sock *cs;
	int score, hiscore;
	struct sock *best;

begin:
	best = NULL;
	hiscore = 0;
	hlist_nulls_for_each_entry_rcu(cs, node, &cn->lhash[slot],
				       listen_node) {
		struct sock *sk = (struct sock *)cs;

		score = cftcp_listen_score(sk, laddr, port, dif, sdif);
		if (score > hiscore) {
			best = sk;
			hiscore = score;
		}
	}
	if (get_nulls_value(node) != slot)
		goto begin;
	if (!best)
		return NULL;
	/* A listener is unhashed before its last reference goes. */
	if (!refcount_inc_not_zero(&best->sk_refcnt))
		goto begin;
	if (unlikely(cftcp_listen_score(best, laddr, port, dif, sdif) !=
		     hiscore)) {
		sock_put(best);
		goto begin;
	}
	return best;
}

int cftcp_listen_hash(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);

	sock_owned_by_me(sk);
	spin_lock_bh(&cn->lhash_lock);
	hlist_nulls_add_head_rcu(&cs->listen_node,
				 &cn->lhash[cftcp_lhash_slot(cs->inet.inet_num)]);
	cs->listen_hashed = true;
	spin_unlock_bh(&cn->lhash_lock);
	return 0;
}

void cftcp_listen_unhash(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);

	spin_lock_bh(&cn->lhash_lock);
	if (cs->listen_hashed) {
		hlist_nulls_del_init_rcu(&cs->listen_node);
		cs->listen_hashed = false;
	}
	spin_unlock_bh(&cn->lhash_lock);
}

/* ---- Port owners ------------------------------------------------------ */

static struct hlist_head *cftcp_bhash_head(struct cftcp_net *cn, u16 port)
{
	return &cn->bhash[port & (CFTCP_BHASH_SIZE - 1)];
}

static spinlock_t *cftcp_port_lockp(struct cftcp_net *cn, u16 port)
{
	return &cn->bhash_locks[port & (CFTCP_BHASH_LOCKS - 1)];
}

static struct cftcp_bind_bucket *cftcp_bb_find(struct cftcp_net *cn,
					       u16 port)
{
	struct cftcp_bind_bucket *bb;

	lockdep_assert_held(cftcp_port_lockp(cn, port));
	hlist_for_each_entry(bb, cftcp_bhash_head(cn, port), node)
		if (bb->port == port)
			return bb;
	return NULL;
}

/* @port's bucket, or a new one made from *@spare (no longer the caller's). */
static struct cftcp_bind_bucket *
cftcp_bb_get(struct cftcp_net *cn, u16 port, struct cftcp_bind_bucket **spare)
{
	struct cftcp_bind_bucket *bb = cftcp_bb_find(cn, port);

	if (bb)
		return bb;
	bb = *spare;
	*spare = NULL;
	INIT_HLIST_HEAD(&bb->owners);
	bb->bound = 0;
	bb->port = port;
	hlist_add_head(&bb->node, cftcp_bhash_head(cn, port));
	return bb;
}

static void cftcp_bnode_link(struct cftcp_net *cn, struct cftcp_bind_bucket *bb,
			     struct cftcp_bnode *bn, bool bound)
{
	lockdep_assert_held(cftcp_port_lockp(cn, bb->port));
	hlist_add_head(&bn->node, &bb->owners);
	bn->bb = bb;
	bn->bound = bound;
	bb->bound += bound;
}

/* The last owner to leave frees the bucket. */
static void cftcp_bnode_unlink(struct cftcp_net *cn, struct cftcp_bnode *bn)
{
	struct cftcp_bind_bucket *bb = bn->bb;

	if (!bb)
		return;
	lockdep_assert_held(cftcp_port_lockp(cn, bb->port));
	hlist_del_init(&bn->node);
	bb->bound -= bn->bound;
	bn->bb = NULL;
	if (hlist_empty(&bb->owners)) {
		hlist_del(&bb->node);
		kfree(bb);
	}
}

/*
 * Would @sk owning (@addr, @port) clash with an existing owner? Two owners
 * of one port clash when their addresses overlap, unless both asked for
 * SO_REUSEADDR and the existing one is not listening (as Linux TCP).
 */
static bool cftcp_bind_conflict(struct cftcp_net *cn, struct sock *sk,
				__be32 addr, u16 port)
{
	struct cftcp_bind_bucket *bb = cftcp_bb_find(cn, port);
	struct cftcp_bnode *bn;

	if (!bb)
		return false;
	hlist_for_each_entry(bn, &bb->owners, node) {
		bool reuse;

		if (bn->addr && addr && bn->addr != addr)
			continue;
		if (bn->kind == CFTCP_HK_TW) {
			reuse = container_of(bn, struct cftcp_tw, bnode)->reuse;
		} else {
			struct sock *o = (struct sock *)
				container_of(bn, struct cftcp_sock, bnode);

			if (o == sk)
				continue;
			reuse = o->sk_reuse &&
				READ_ONCE(o->sk_state) != CFTCP_LISTEN;
		}
		if (!(sk->sk_reuse && reuse))
			return true;
	}
	return false;
}

/* listen(): may this socket listen on the port it owns? */
bool cftcp_listen_port_conflict(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_bnode *bn = &cftcp_sk(sk)->bnode;
	spinlock_t *lock = cftcp_port_lockp(cn, bn->port);
	bool clash;

	spin_lock_bh(lock);
	clash = cftcp_bind_conflict(cn, sk, bn->addr, bn->port);
	spin_unlock_bh(lock);
	return clash;
}

static void cftcp_sk_set_port(struct sock *sk, __be32 addr, u16 port)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	cs->inet.inet_num = port;
	cs->inet.inet_sport = htons(port);
	cs->bnode.addr = addr;
	cs->bnode.port = port;
	cs->bnode.kind = CFTCP_HK_SOCK;
}

/* Own (@addr, @port) unless it clashes, with *@spare for a new bucket. */
static bool cftcp_bind_try_port(struct sock *sk, __be32 addr, u16 port,
				struct cftcp_bind_bucket **spare)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	spinlock_t *lock = cftcp_port_lockp(cn, port);
	struct cftcp_bind_bucket *bb;
	bool owned = false;

	spin_lock_bh(lock);
	if (!cftcp_bind_conflict(cn, sk, addr, port)) {
		bb = cftcp_bb_get(cn, port, spare);
		cftcp_sk_set_port(sk, addr, port);
		cftcp_bnode_link(cn, bb, &cftcp_sk(sk)->bnode, true);
		owned = true;
	}
	spin_unlock_bh(lock);
	return owned;
}

/* bind() or listen(): own @port (0: any free one) on @addr. */
int cftcp_bind_port(struct sock *sk, __be32 addr, u16 port)
{
	struct net *net = sock_net(sk);
	struct cftcp_bind_bucket *spare;
	int low, high, remaining, i;
	bool owned = false;
	u32 offset;

	/* Taken by the port's first owner, else freed. Without it, as
	 * Linux without a bind bucket: EADDRINUSE.
	 */
	spare = kmalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		return -EADDRINUSE;
	if (port) {
		owned = cftcp_bind_try_port(sk, addr, port, &spare);
		goto out;
	}
	inet_get_local_port_range(net, &low, &high);
	remaining = high - low + 1;
	offset = get_random_u32_below(remaining);
	for (i = 0; i < remaining && !owned; i++) {
		port = low + (offset + i) % remaining;
		if (!inet_is_local_reserved_port(net, port))
			owned = cftcp_bind_try_port(sk, addr, port, &spare);
		cond_resched();
	}
out:
	kfree(spare);
	return owned ? 0 : -EADDRINUSE;
}

/*
 * An accepted connection owns its listener's port too: the local port of
 * its 4-tuple, whose bucket the listener keeps while it owns the port.
 * False if the listener has given it up meanwhile.
 */
bool cftcp_bind_inherit(struct sock *child, struct sock *parent)
{
	u16 port = ntohs(cftcp_sk(child)->hnode.tuple.lport);
	struct cftcp_net *cn = cftcp_sk_net(parent);
	spinlock_t *lock = cftcp_port_lockp(cn, port);
	struct cftcp_bind_bucket *bb;

	cftcp_sk_set_port(child, READ_ONCE(cftcp_sk(parent)->bnode.addr),
			  port);
	spin_lock_bh(lock);
	bb = cftcp_bb_find(cn, port);
	if (bb)
		cftcp_bnode_link(cn, bb, &cftcp_sk(child)->bnode, false);
	spin_unlock_bh(lock);
	return bb;
}

void cftcp_bind_del(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_bnode *bn = &cftcp_sk(sk)->bnode;
	spinlock_t *lock = cftcp_port_lockp(cn, bn->port);

	spin_lock_bh(lock);
	cftcp_bnode_unlink(cn, bn);
	spin_unlock_bh(lock);
}

/*
 * The TIME_WAIT entry owns the socket's port too, as Linux's tw joins its
 * bind bucket. The socket keeps its own ownership while it lives, so a
 * socket bound by the user still owns its port after TIME_WAIT ends (it
 * may connect from it again, and nobody else may bind it); one whose port
 * came from connect() gives it up at CLOSE (cftcp_set_state()).
 */
void cftcp_bind_add_tw(struct sock *sk, struct cftcp_tw *tw)
{
	struct cftcp_bnode *bn = &cftcp_sk(sk)->bnode;
	struct cftcp_net *cn = cftcp_sk_net(sk);
	spinlock_t *lock = cftcp_port_lockp(cn, bn->port);

	sock_owned_by_me(sk);
	tw->bnode.addr = bn->addr;
	tw->bnode.port = bn->port;
	tw->bnode.kind = CFTCP_HK_TW;
	spin_lock_bh(lock);
	if (bn->bb)
		cftcp_bnode_link(cn, bn->bb, &tw->bnode, false);
	spin_unlock_bh(lock);
}

void cftcp_bind_del_tw(struct cftcp_tw *tw)
{
	spinlock_t *lock = cftcp_port_lockp(tw->cn, tw->bnode.port);

	spin_lock_bh(lock);
	cftcp_bnode_unlink(tw->cn, &tw->bnode);
	spin_unlock_bh(lock);
}

/*
 * Ephemeral ports for connect() by RFC 6056 algorithm 4 (double-hash port
 * selection), as Linux's __inet_hash_connect() does: a keyed hash of the
 * source and destination picks a counter in cftcp_port_perturb[] and where
 * the scan starts; only connections whose hash picks the same counter
 * move it, so the ports used towards one destination tell nothing of
 * those used towards another. The key is cftcp's own (cn->port_key) and
 * the hash changes every CFTCP_PORT_SHUFFLE, as Linux's does.
 */
#define CFTCP_PORT_PERTURB_SHIFT	16
#define CFTCP_PORT_PERTURB_SIZE		BIT(CFTCP_PORT_PERTURB_SHIFT)
#define CFTCP_PORT_SHUFFLE		(10 * HZ)

static u32 cftcp_port_perturb[CFTCP_PORT_PERTURB_SIZE];

static u64 cftcp_port_offset(const struct cftcp_net *cn,
			     const struct inet_sock *inet)
{
	return siphash_4u32((__force u32)inet->inet_saddr,
			    (__force u32)inet->inet_daddr,
			    (__force u16)inet->inet_dport,
			    jiffies / CFTCP_PORT_SHUFFLE, &cn->port_key);
}

/*
 * Enter the 4-tuple table with local @port, unless someone owns the port
 * through bind() or listen(), with *@spare for a new bucket.
 */
static bool cftcp_connect_try_port(struct sock *sk, u16 port,
				   struct cftcp_bind_bucket **spare)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	spinlock_t *lock = cftcp_port_lockp(cn, port);
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	struct cftcp_bind_bucket *bb;
	bool owned = false;

	if (inet_is_local_reserved_port(sock_net(sk), port))
		return false;
	spin_lock_bh(lock);
	bb = cftcp_bb_find(cn, port);
	if (bb && bb->bound)
		goto out;
	cftcp_hnode_set(&cs->hnode, inet->inet_saddr, htons(port),
			inet->inet_daddr, inet->inet_dport, CFTCP_HK_SOCK);
	if (!__cftcp_ehash_insert(cn, &cs->hnode))
		goto out;
	sock_hold(sk);
	bb = cftcp_bb_get(cn, port, spare);
	cftcp_sk_set_port(sk, 0, port);
	cftcp_bnode_link(cn, bb, &cs->bnode, false);
	owned = true;
out:
	spin_unlock_bh(lock);
	return owned;
}

/*
 * connect(): enter the 4-tuple table, choosing a local port first if the
 * socket has none, from ip_local_port_range or IP_LOCAL_PORT_RANGE: those
 * of the range's low parity first, then the others, as Linux does. A
 * 4-tuple in use, TIME_WAIT included, is never taken. Each port is tried
 * under its own lock (__inet_hash_connect()'s bucket locks).
 */
int cftcp_connect_hash(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	u32 remaining, offset, index, step;
	struct cftcp_bind_bucket *spare;
	int low, high, port;
	u64 port_offset;
	u32 i;

	if (inet->inet_num) {
		cftcp_hnode_set(&cs->hnode, inet->inet_saddr, inet->inet_sport,
				inet->inet_daddr, inet->inet_dport,
				CFTCP_HK_SOCK);
		if (!cftcp_ehash_insert(cn, &cs->hnode))
			return -EADDRNOTAVAIL;
		sock_hold(sk);
		return 0;
	}

	inet_sk_get_local_port_range(sk, &low, &high);
	high++;			/* [low, high] -> [low, high[ */
	remaining = high - low;
	if (remaining > 1)
		remaining &= ~1U;

	get_random_sleepable_once(cftcp_port_perturb,
				  sizeof(cftcp_port_perturb));
	port_offset = cftcp_port_offset(cn, inet);
	index = port_offset & (CFTCP_PORT_PERTURB_SIZE - 1);
	offset = READ_ONCE(cftcp_port_perturb[index]) + (port_offset >> 32);
	offset %= remaining;
	offset &= ~1U;

	/* Taken by the port's first owner, else freed. */
	spare = kmalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		return -ENOMEM;
	for (;;) {
		port = low + offset;
		for (i = 0; i < remaining; i += 2, port += 2) {
			if (port >= high)
				port -= remaining;
			if (cftcp_connect_try_port(sk, port, &spare))
				goto found;
			if (!(i & 255))
				cond_resched();
		}
		offset++;
		if (!(offset & 1) || remaining <= 1)
			break;
	}
	kfree(spare);
	return -EADDRNOTAVAIL;

found:
	kfree(spare);
	/* The counter moves by the ports tried, and by a random even step
	 * when few were (RFC 6056 3.3.4's increment, Linux's max()).
	 */
	step = max_t(u32, i, get_random_u32_below(8) * 2);
	WRITE_ONCE(cftcp_port_perturb[index],
		   READ_ONCE(cftcp_port_perturb[index]) + step + 2);
	return 0;
}

/* Take a socket out of every table it is in. */
void cftcp_unhash(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);

	if (cs->listen_hashed)
		cftcp_listen_unhash(sk);
	if (cftcp_ehash_remove(cn, &cs->hnode))
		__sock_put(sk);
	if (cs->bnode.bb)
		cftcp_bind_del(sk);
}

u32 cftcp_new_isn(struct cftcp_net *cn, __be32 saddr, __be32 daddr,
		  __be16 sport, __be16 dport)
{
	u32 hash = siphash_3u32((__force u32)saddr, (__force u32)daddr,
				((__force u32)sport << 16) | (__force u32)dport,
				&cn->isn_key);

	/* RFC 6528: a keyed hash plus a clock ticking every 64 ns. */
	return hash + (u32)(ktime_get_real_ns() >> 6);
}

int cftcp_hash_net_init(struct cftcp_net *cn)
{
	int i;

	cn->ehash = kvmalloc_array(CFTCP_EHASH_SIZE, sizeof(*cn->ehash),
				   GFP_KERNEL);
	if (!cn->ehash)
		return -ENOMEM;
	cn->ehash_mask = CFTCP_EHASH_SIZE - 1;
	/* Each chain ends on its own number: see cftcp_ehash_lookup(). */
	for (i = 0; i < CFTCP_EHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&cn->ehash[i], i);
	for (i = 0; i < CFTCP_EHASH_LOCKS; i++)
		spin_lock_init(&cn->ehash_locks[i]);
	for (i = 0; i < CFTCP_LHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&cn->lhash[i], i);
	cn->bhash = kvmalloc_array(CFTCP_BHASH_SIZE, sizeof(*cn->bhash),
				   GFP_KERNEL);
	if (!cn->bhash) {
		kvfree(cn->ehash);
		cn->ehash = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < CFTCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&cn->bhash[i]);
	for (i = 0; i < CFTCP_BHASH_LOCKS; i++)
		spin_lock_init(&cn->bhash_locks[i]);
	spin_lock_init(&cn->lhash_lock);
	get_random_bytes(&cn->isn_key, sizeof(cn->isn_key));
	get_random_bytes(cn->cookie_key, sizeof(cn->cookie_key));
	cn->hash_rnd = get_random_u32();
	get_random_bytes(&cn->port_key, sizeof(cn->port_key));
	return 0;
}

void cftcp_hash_net_exit(struct cftcp_net *cn)
{
	int i;

	/* Every owner has gone, and each bucket with its last one. */
	for (i = 0; i < CFTCP_BHASH_SIZE; i++)
		WARN_ON_ONCE(!hlist_empty(&cn->bhash[i]));
	kvfree(cn->bhash);
	cn->bhash = NULL;
	kvfree(cn->ehash);
	cn->ehash = NULL;
}

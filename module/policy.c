// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp and the host's egress policy: cgroup BPF programs of type
 * BPF_PROG_TYPE_CGROUP_SKB attached BPF_CGROUP_INET_EGRESS.
 *
 * Our segments leave owned by their socket (output.c), so netfilter's
 * owner, cgroup and socket matches see them as they see TCP's. Linux runs
 * a cgroup's egress programs in ip_finish_output(), but only for sockets
 * of family AF_INET or AF_INET6 (__cgroup_bpf_run_filter_skb()), and a
 * cftcp socket's family is AF_CFTCP (SO_DOMAIN reports it). So a hook at
 * the end of POSTROUTING, where ip_finish_output() would run them, runs
 * the programs of the sending socket's cgroup on each of our skbs: with
 * the skb's data at the IP header, skb->sk set, the same run context and
 * the same verdict (any program returning without bit 0 drops it, with
 * the error bpf_set_retval() gave or EPERM). Bit 1, congestion notified,
 * means nothing here: there is no congestion window to reduce. A kernel
 * without netfilter has no such hook, and then no cgroup egress for us.
 *
 * A namespace's hook is registered by its first cftcp socket, under
 * cftcp_policy_mutex, and stays until the namespace goes: the packets of
 * a namespace that never used cftcp (TCP's, UDP's, forwarded ones) do not
 * pass it. Sockets are only made in process context, which may sleep on
 * the mutex; children of a listener find the hook of its namespace there.
 */
#include <linux/bpf.h>
#include <linux/bpf-cgroup.h>
#include <linux/filter.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/sock.h>

#include "cftcp.h"

#if IS_ENABLED(CONFIG_CGROUP_BPF) && IS_ENABLED(CONFIG_NETFILTER)
static int cftcp_cgroup_egress(struct sock *sk, struct sk_buff *skb)
{
	struct cgroup *cgrp = sock_cgroup_ptr(&sk->sk_cgrp_data);
	const struct bpf_prog_array_item *item;
	const struct bpf_prog_array *array;
	struct bpf_run_ctx *old_run_ctx;
	struct bpf_cg_run_ctx run_ctx;
	const struct bpf_prog *prog;
	void *saved_data_end;
	u32 verdict;

	run_ctx.retval = 0;
	migrate_disable();
	rcu_read_lock();
	array = rcu_dereference(cgrp->bpf.effective[CGROUP_INET_EGRESS]);
	item = &array->items[0];
	old_run_ctx = bpf_set_run_ctx(&run_ctx.run_ctx);
	bpf_compute_and_save_data_end(skb, &saved_data_end);
	while ((prog = READ_ONCE(item->prog))) {
		run_ctx.prog_item = item;
		verdict = bpf_prog_run_save_cb(prog, skb);
		if (!(verdict & 1) && !IS_ERR_VALUE((long)run_ctx.retval))
			run_ctx.retval = -EPERM;
		item++;
	}
	bpf_restore_data_end(skb, saved_data_end);
	bpf_reset_run_ctx(old_run_ctx);
	rcu_read_unlock();
	migrate_enable();
	return run_ctx.retval;
}

static unsigned int cftcp_egress_hook(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	struct sock *sk = state->sk;
	int err;

	/* As BPF_CGROUP_RUN_PROG_INET_EGRESS(): only the skb of the socket
	 * that sends it, not one a tunnel carries on (whose output names no
	 * socket, or the tunnel's own).
	 */
	if (!cgroup_bpf_enabled(CGROUP_INET_EGRESS) || !sk ||
	    sk != skb->sk || !sk_fullsock(sk) || sk->sk_prot != &cftcp_prot)
		return NF_ACCEPT;
	err = cftcp_cgroup_egress(sk, skb);
	if (!err)
		return NF_ACCEPT;
	/* Freed by the hook's caller, which returns @err to the sender. */
	return NF_DROP_ERR(err);
}

static const struct nf_hook_ops cftcp_egress_ops = {
	.hook		= cftcp_egress_hook,
	.pf		= NFPROTO_IPV4,
	.hooknum	= NF_INET_POST_ROUTING,
	.priority	= NF_IP_PRI_LAST,
};

static DEFINE_MUTEX(cftcp_policy_mutex);

/* Before a namespace's first cftcp socket exists. */
int cftcp_policy_sock_init(struct net *net)
{
	struct cftcp_net *cn = cftcp_pernet(net);
	int err = 0;

	/* Pairs with the release below: a socket that sees the flag sees
	 * the hook in place.
	 */
	if (smp_load_acquire(&cn->egress_hooked))
		return 0;
	mutex_lock(&cftcp_policy_mutex);
	if (!cn->egress_hooked) {
		err = nf_register_net_hook(net, &cftcp_egress_ops);
		if (!err)
			/* Pairs with the acquire above. */
			smp_store_release(&cn->egress_hooked, true);
	}
	mutex_unlock(&cftcp_policy_mutex);
	return err;
}

void cftcp_policy_net_exit(struct net *net)
{
	struct cftcp_net *cn = cftcp_pernet(net);

	if (cn->egress_hooked)
		nf_unregister_net_hook(net, &cftcp_egress_ops);
}
#else
int cftcp_policy_sock_init(struct net *net)
{
	return 0;
}

void cftcp_policy_net_exit(struct net *net)
{
}
#endif

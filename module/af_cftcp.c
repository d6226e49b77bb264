// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp: TCP without congestion control, as socket family AF_CFTCP over
 * IPv4 protocol 253. This file owns registration: module parameters, the
 * socket family, the IP protocol handler and its segmentation offload
 * (offload.c), and per-namespace state (tables, counters, sysctls,
 * /proc), set up in that order and torn down in strict reverse order.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <net/protocol.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "cftcp.h"

int cftcp_family = AF_CFTCP;
module_param_named(family, cftcp_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number (default 25)");

int cftcp_ipproto = IPPROTO_CFTCP;
module_param_named(ipproto, cftcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IPv4 protocol number on the wire (default 253)");

unsigned int cftcp_net_id __read_mostly;

static int __net_init cftcp_net_init(struct net *net)
{
	struct cftcp_net *cn = cftcp_pernet(net);
	int err;

	cn->net = net;
	cftcp_sysctl_defaults(&cn->sysctl);
	atomic_set(&cn->tw_count, 0);
	cn->mib = alloc_percpu(struct cftcp_mib);
	if (!cn->mib)
		return -ENOMEM;
	err = cftcp_hash_net_init(cn);
	if (err)
		goto free_mib;
	err = cftcp_sysctl_net_init(cn);
	if (err)
		goto free_hash;
	err = cftcp_proc_net_init(net);
	if (err)
		goto free_sysctl;
	return 0;

free_sysctl:
	cftcp_sysctl_net_exit(cn);
free_hash:
	cftcp_hash_net_exit(cn);
free_mib:
	free_percpu(cn->mib);
	return err;
}

static void __net_exit cftcp_net_exit(struct net *net)
{
	struct cftcp_net *cn = cftcp_pernet(net);

	cftcp_policy_net_exit(net);
	cftcp_proc_net_exit(net);
	cftcp_sysctl_net_exit(cn);
	/* Requests first: they hold their listeners, and their timers run
	 * module code.
	 */
	cftcp_req_purge_net(cn);
	cftcp_kill_orphans_net(cn);
	cftcp_tw_purge_net(cn);
	/* Pending kfree_rcu() of entries still read cn through ->cn. */
	rcu_barrier();
	cftcp_hash_net_exit(cn);
	free_percpu(cn->mib);
}

static struct pernet_operations cftcp_net_ops = {
	.init	= cftcp_net_init,
	.exit	= cftcp_net_exit,
	.id	= &cftcp_net_id,
	.size	= sizeof(struct cftcp_net),
};

static const struct net_protocol cftcp_protocol = {
	.handler	= cftcp_v4_rcv,
	.err_handler	= cftcp_v4_err,
	.no_policy	= 1,
};

static struct net_proto_family cftcp_family_ops = {
	.create	= cftcp_create,
	.owner	= THIS_MODULE,
};

static int __init cftcp_init(void)
{
	int err;

	if (cftcp_family <= 0 || cftcp_family >= AF_MAX ||
	    cftcp_ipproto <= 0 || cftcp_ipproto >= IPPROTO_MAX ||
	    cftcp_ipproto == IPPROTO_RAW)
		return -EINVAL;
	BUILD_BUG_ON(sizeof(struct cftcphdr) != CFTCP_HDR_LEN);
	BUILD_BUG_ON(sizeof(struct cftcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
	BUILD_BUG_ON(sizeof(struct sockaddr_cftcp) !=
		     sizeof(struct sockaddr_in));

	err = cftcp_mem_init();
	if (err)
		return err;
	cftcp_mem_proto_init(&cftcp_prot);
	err = proto_register(&cftcp_prot, 1);
	if (err)
		goto out_mem;
	err = register_pernet_subsys(&cftcp_net_ops);
	if (err)
		goto out_proto;
	/* inet_add_protocol() returns -1, not an errno, when taken. */
	if (inet_add_protocol(&cftcp_protocol, cftcp_ipproto) < 0) {
		pr_err("cftcp: IP protocol %d is taken\n", cftcp_ipproto);
		err = -EEXIST;
		goto out_pernet;
	}
	err = cftcp_offload_init();
	if (err) {
		pr_err("cftcp: offload of IP protocol %d is taken\n",
		       cftcp_ipproto);
		goto out_inet;
	}
	cftcp_family_ops.family = cftcp_family;
	err = cftcp_sysctl_global_init();
	if (err)
		goto out_offload;
	err = sock_register(&cftcp_family_ops);
	if (err)
		goto out_sysctl;
	return 0;

out_sysctl:
	cftcp_sysctl_global_exit();
out_offload:
	cftcp_offload_exit();
out_inet:
	inet_del_protocol(&cftcp_protocol, cftcp_ipproto);
	synchronize_net();
out_pernet:
	unregister_pernet_subsys(&cftcp_net_ops);
out_proto:
	proto_unregister(&cftcp_prot);
out_mem:
	cftcp_mem_exit();
	return err;
}

static void __exit cftcp_exit(void)
{
	sock_unregister(cftcp_family);
	cftcp_sysctl_global_exit();
	cftcp_offload_exit();
	inet_del_protocol(&cftcp_protocol, cftcp_ipproto);
	synchronize_net();
	unregister_pernet_subsys(&cftcp_net_ops);
	rcu_barrier();	/* sockets are freed after a grace period */
	cftcp_mem_wait_sockets();
	proto_unregister(&cftcp_prot);
	cftcp_mem_exit();
}

module_init(cftcp_init);
module_exit(cftcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cftcp: TCP without congestion control, as AF_CFTCP");
MODULE_VERSION(CFTCP_VERSION);
MODULE_ALIAS_NETPROTO(AF_CFTCP);

// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp socket calls: the proto_ops of AF_CFTCP stream sockets (create,
 * bind, listen, connect, accept, getname, poll, ioctl, shutdown, options,
 * send and receive entry points, release) and socket setup.
 *
 * Every call takes lock_sock() for the socket it changes; connect and
 * accept sleep with the lock released (sk_wait_event style), so segments
 * and timers run meanwhile.
 */
#include <linux/sockios.h>
#include <linux/termios.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/igmp.h>
#include <linux/rtnetlink.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/xfrm.h>

#include "cftcp.h"

#define CFTCPF(s)	(1 << CFTCP_##s)
#define CFTCP_MAX_KEEP	32767	/* Linux's MAX_TCP_KEEPIDLE and friends */
#define CFTCP_MAX_SYNCNT	127
#define CFTCP_FIN_TIMEOUT_MAX	(120 * HZ)

/*
 * The last reference is gone: free what data may still be queued for
 * reading, the IP options and the IPsec policies set through SOL_IP, and
 * the route cached by connect or by the first segment sent, which
 * sock_def_destruct() would leave behind. Nothing is ever queued on the
 * error queue.
 */
static void cftcp_sock_destruct(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	__skb_queue_purge(&sk->sk_receive_queue);
	kfree_rcu(rcu_dereference_protected(inet->inet_opt, 1), rcu);
	RCU_INIT_POINTER(inet->inet_opt, NULL);
	xfrm_sk_free_policy(sk);
	dst_release(rcu_dereference_protected(sk->sk_dst_cache, 1));
	RCU_INIT_POINTER(sk->sk_dst_cache, NULL);
	sk_mem_reclaim_final(sk);
	WARN_ON_ONCE(sk->sk_forward_alloc);
	WARN_ON_ONCE(atomic_read(&sk->sk_rmem_alloc));
	WARN_ON_ONCE(sk->sk_wmem_queued);
	sk_sockets_allocated_dec(sk);
}

static void cftcp_init_sock_fields(struct sock *sk)
{
	struct cftcp_net *cn = cftcp_sk_net(sk);
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;

	sock_set_flag(sk, SOCK_RCU_FREE);
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
	sk->sk_protocol = cftcp_ipproto;
	sk->sk_write_space = cftcp_write_space;
	sk->sk_destruct = cftcp_sock_destruct;
	sk->sk_backlog_rcv = cftcp_backlog_rcv;
	/* No larger than what SO_RCVBUF and SO_SNDBUF could ask for. */
	sk->sk_rcvbuf = min_t(u32, READ_ONCE(cn->sysctl.rmem_default),
			      2 * READ_ONCE(sysctl_rmem_max));
	sk->sk_sndbuf = min_t(u32, READ_ONCE(cn->sysctl.wmem_default),
			      2 * READ_ONCE(sysctl_wmem_max));
	sk_sockets_allocated_inc(sk);

	inet->uc_ttl = -1;
	inet->mc_loop = 1;
	inet->mc_ttl = 1;
	inet->mc_index = 0;
	inet->mc_list = NULL;
	inet->rcv_tos = 0;
	inet->pmtudisc = READ_ONCE(sock_net(sk)->ipv4.sysctl_ip_no_pmtu_disc) ?
			 IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet->inet_id, get_random_u16());

	cftcp_hnode_set(&cs->hnode, 0, 0, 0, 0, CFTCP_HK_SOCK);
	INIT_HLIST_NODE(&cs->bnode.node);
	cs->listen_node.pprev = NULL;
	INIT_LIST_HEAD(&cs->accept_node);
	cftcp_listener_init(sk);
	cs->ooo_queue = RB_ROOT;
	cs->rcv_mss = CFTCP_DEFAULT_MSS;
	cs->mss = CFTCP_DEFAULT_MSS;
	cs->ack_mss = CFTCP_DEFAULT_MSS;
	cftcp_init_timers(sk);
	cftcp_init_xmit(sk);
}

/* A socket with no struct socket yet (for children) or for socket(). */
struct sock *cftcp_sk_alloc(struct net *net, gfp_t gfp, int kern)
{
	struct sock *sk;

	sk = sk_alloc(net, cftcp_family, gfp, &cftcp_prot, kern);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	/* What socket() would have set: SO_TYPE of an accepted socket. */
	sk->sk_type = SOCK_STREAM;
	cftcp_init_sock_fields(sk);
	return sk;
}

static const struct proto_ops cftcp_ops;

int cftcp_create(struct net *net, struct socket *sock, int protocol, int kern)
{
	struct sock *sk;
	int err;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol && protocol != IPPROTO_CFTCP && protocol != cftcp_ipproto)
		return -EPROTONOSUPPORT;
	err = cftcp_policy_sock_init(net);
	if (err)
		return err;

	sock->state = SS_UNCONNECTED;
	sock->ops = &cftcp_ops;
	sk = sk_alloc(net, cftcp_family, GFP_KERNEL, &cftcp_prot, kern);
	if (!sk)
		return -ENOBUFS;
	sock_init_data(sock, sk);
	cftcp_init_sock_fields(sk);
	return 0;
}

/*
 * Leave the multicast groups joined through SOL_IP (MCAST_JOIN_GROUP and
 * the source-specific calls, which Linux TCP takes too), as inet_release()
 * does with ip_mc_drop_socket().
 */
static void cftcp_mc_drop(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct ip_mc_socklist *iml;

	if (!rcu_access_pointer(inet->mc_list))
		return;
	rtnl_lock();
	while ((iml = rtnl_dereference(inet->mc_list))) {
		struct ip_mreqn mreq = iml->multi;

		/* A join always recorded its interface. */
		if (WARN_ON_ONCE(ip_mc_leave_group(sk, &mreq)))
			break;
	}
	rtnl_unlock();
}

static int cftcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	long timeout = 0;

	if (!sk)
		return 0;
	cftcp_mc_drop(sk);
	if (sock_flag(sk, SOCK_LINGER) && !(current->flags & PF_EXITING))
		timeout = sk->sk_lingertime;
	cftcp_close(sk, timeout);
	sock->sk = NULL;
	return 0;
}

static int cftcp_check_addr(struct sockaddr *uaddr, int addr_len)
{
	if (addr_len < (int)sizeof(struct sockaddr_cftcp))
		return -EINVAL;
	if (uaddr->sa_family != cftcp_family)
		return -EAFNOSUPPORT;
	return 0;
}

static int cftcp_bind(struct socket *sock, struct sockaddr *uaddr,
		      int addr_len)
{
	struct sockaddr_cftcp *addr = (struct sockaddr_cftcp *)uaddr;
	struct sock *sk = sock->sk;
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	struct net *net = sock_net(sk);
	__be32 a;
	u16 port;
	int err;

	err = cftcp_check_addr(uaddr, addr_len);
	if (err)
		return err;
	a = addr->scf_addr.s_addr;
	port = ntohs(addr->scf_port);

	if (a != htonl(INADDR_ANY) && !inet->freebind && !inet->transparent &&
	    !READ_ONCE(net->ipv4.sysctl_ip_nonlocal_bind) &&
	    inet_addr_type(net, a) != RTN_LOCAL)
		return -EADDRNOTAVAIL;
	if (port && inet_port_requires_bind_service(net, port) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != CFTCP_CLOSE || inet->inet_num)
		goto out;

	inet->inet_rcv_saddr = a;
	inet->inet_saddr = a;
	err = cftcp_bind_port(sk, a, port);
	if (err) {
		inet->inet_rcv_saddr = 0;
		inet->inet_saddr = 0;
		goto out;
	}
	cs->user_bound = 1;
	if (a)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (port)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
out:
	release_sock(sk);
	return err;
}

static int cftcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err = -EINVAL;
	int old;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED)
		goto out;
	old = sk->sk_state;
	if (!((1 << old) & (CFTCPF(CLOSE) | CFTCPF(LISTEN))))
		goto out;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (old != CFTCP_LISTEN) {
		err = -EADDRINUSE;
		if (!cftcp_sk(sk)->inet.inet_num) {
			if (cftcp_bind_port(sk, cftcp_sk(sk)->inet.inet_rcv_saddr,
					    0))
				goto out;
		} else if (cftcp_listen_port_conflict(sk)) {
			goto out;
		}
		sk->sk_ack_backlog = 0;
		/* Locks and queues were set up at socket(): softirq may be
		 * using them still (cftcp_listener_init()).
		 */
		WRITE_ONCE(cftcp_sk(sk)->cookie_stamp, 0);
		cftcp_set_state(sk, CFTCP_LISTEN);
		cftcp_listen_hash(sk);
	}
	err = 0;
out:
	release_sock(sk);
	return err;
}

/* Active OPEN (RFC 9293 3.10.1): route, choose the port, send the SYN. */
static int cftcp_v4_connect(struct sock *sk, struct sockaddr_cftcp *usin)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct inet_sock *inet = &cs->inet;
	struct cftcp_net *cn = cftcp_sk_net(sk);
	__be32 daddr = usin->scf_addr.s_addr, nexthop = daddr;
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	const struct ip_options_rcu *opt;
	struct rtable *rt;
	int err;

	/* A source route (IP_OPTIONS) goes to its first hop, as TCP's. */
	opt = rcu_dereference_protected(inet->inet_opt,
					lockdep_sock_is_held(sk));
	if (opt && opt->opt.srr) {
		if (!daddr)
			return -EINVAL;
		nexthop = opt->opt.faddr;
	}
	rt = ip_route_connect(fl4, nexthop, inet->inet_saddr,
			      sk->sk_bound_dev_if, cftcp_ipproto,
			      inet->inet_sport, usin->scf_port, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt) == -ENETUNREACH ? -ENETUNREACH :
						     PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}
	if (!inet->inet_saddr)
		inet->inet_saddr = fl4->saddr;
	if (!inet->inet_rcv_saddr)
		inet->inet_rcv_saddr = inet->inet_saddr;
	inet->inet_dport = usin->scf_port;
	inet->inet_daddr = daddr;

	cs->rcv_mss = max_t(u32, dst_mtu(&rt->dst) - sizeof(struct iphdr) -
				 CFTCP_HDR_LEN, CFTCP_MIN_MSS);
	if (cs->user_mss)
		cs->rcv_mss = min(cs->rcv_mss, cs->user_mss);
	cs->mss = cs->rcv_mss;

	cftcp_set_state(sk, CFTCP_SYN_SENT);
	err = cftcp_connect_hash(sk);
	if (err) {
		cftcp_set_state(sk, CFTCP_CLOSE);
		ip_rt_put(rt);
		inet->inet_dport = 0;
		inet->inet_daddr = 0;
		if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
			inet->inet_saddr = 0;
			inet->inet_rcv_saddr = 0;
		}
		return err;
	}
	cftcp_setup_caps(sk, &rt->dst);

	cs->iss = cftcp_new_isn(cn, inet->inet_saddr, inet->inet_daddr,
				inet->inet_sport, inet->inet_dport);
	cs->snd_una = cs->iss;
	cs->snd_nxt = cs->iss + 1;
	cs->write_seq = cs->iss + 1;
	cs->snd_sml = cs->iss + 1;
	cs->rcv_wscale = cftcp_choose_wscale(sk);
	cs->retransmits = 0;
	cs->rto = cftcp_rto_initial(sk);
	cs->rtt_pending = true;
	cs->rtt_start = jiffies;
	CFTCP_INC_STATS(cn, CFTCP_MIB_ACTIVEOPENS);
	cftcp_send_syn(sk);
	cftcp_arm_rtx(sk, cs->rto);
	return 0;
}

static long cftcp_wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending++;
	while ((1 << sk->sk_state) & (CFTCPF(SYN_SENT) | CFTCPF(SYN_RECV))) {
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
		if (signal_pending(current) || !timeo)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending--;
	return timeo;
}

/* Stream connect semantics as Linux's __inet_stream_connect(). */
static int cftcp_connect(struct socket *sock, struct sockaddr *uaddr,
			 int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	if (addr_len < (int)sizeof(uaddr->sa_family))
		return -EINVAL;
	if (uaddr->sa_family == AF_UNSPEC) {
		lock_sock(sk);
		err = cftcp_disconnect(sk, flags);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		release_sock(sk);
		return err;
	}
	err = cftcp_check_addr(uaddr, addr_len);
	if (err)
		return err;

	lock_sock(sk);
	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		err = -EISCONN;
		if (sk->sk_state != CFTCP_CLOSE)
			goto out;
		err = cftcp_v4_connect(sk, (struct sockaddr_cftcp *)uaddr);
		if (err < 0)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if ((1 << sk->sk_state) & (CFTCPF(SYN_SENT) | CFTCPF(SYN_RECV))) {
		if (!timeo || !cftcp_wait_for_connect(sk, timeo))
			goto out;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			goto out;
	}
	if (sk->sk_state == CFTCP_CLOSE) {
		/* Refused, reset or timed out. */
		err = sock_error(sk) ?: -ECONNABORTED;
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	sock->state = SS_CONNECTED;
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int cftcp_accept(struct socket *sock, struct socket *newsock,
			int flags, bool kern)
{
	struct sock *sk = sock->sk;
	struct sock *child;
	long timeo;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != CFTCP_LISTEN)
		goto out;
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	while (!(child = cftcp_accept_dequeue(sk))) {
		DEFINE_WAIT(wait);

		err = -EAGAIN;
		if (!timeo)
			goto out;
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (list_empty_careful(&cftcp_sk(sk)->acceptq))
			timeo = schedule_timeout(timeo);
		/* Running again before lock_sock() may sleep. */
		finish_wait(sk_sleep(sk), &wait);
		lock_sock(sk);
		err = -EINVAL;
		if (sk->sk_state != CFTCP_LISTEN)
			goto out;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			goto out;
	}
	release_sock(sk);

	lock_sock(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(child);
	return 0;
out:
	release_sock(sk);
	return err;
}

static int cftcp_getname(struct socket *sock, struct sockaddr *uaddr,
			 int peer)
{
	struct sockaddr_cftcp *sin = (struct sockaddr_cftcp *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);

	lock_sock(sk);
	memset(sin, 0, sizeof(*sin));
	sin->scf_family = cftcp_family;
	if (peer) {
		if (!inet->inet_dport ||
		    ((1 << sk->sk_state) & (CFTCPF(CLOSE) | CFTCPF(SYN_SENT)) &&
		     peer == 1)) {
			release_sock(sk);
			return -ENOTCONN;
		}
		sin->scf_port = inet->inet_dport;
		sin->scf_addr.s_addr = inet->inet_daddr;
	} else {
		sin->scf_port = inet->inet_sport;
		sin->scf_addr.s_addr = inet->inet_rcv_saddr ?: inet->inet_saddr;
	}
	release_sock(sk);
	return sizeof(*sin);
}

/* As tcp_poll(), state by state. */
static __poll_t cftcp_poll(struct file *file, struct socket *sock,
			   poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);
	state = inet_sk_state_load(sk);
	if (state == CFTCP_LISTEN)
		return list_empty_careful(&cftcp_sk(sk)->acceptq) ? 0 :
		       EPOLLIN | EPOLLRDNORM;

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == CFTCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != CFTCP_SYN_SENT && state != CFTCP_SYN_RECV) {
		int target = sock_rcvlowat(sk, 0, INT_MAX);

		if (cftcp_readable(sk) >= (u32)target)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* Race with a freeing ACK: look again. */
				smp_mb__after_atomic();
				if (sk_stream_is_writeable(sk))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* Pairs with smp_wmb() in cftcp_reset(). */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

static int cftcp_ioctl(struct socket *sock, unsigned int cmd,
		       unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct cftcp_sock *cs = cftcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == CFTCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		answ = cftcp_readable(sk);
		release_sock(sk);
		break;
	case SIOCOUTQ:
		if (sk->sk_state == CFTCP_LISTEN)
			return -EINVAL;
		answ = (1 << sk->sk_state) & (CFTCPF(SYN_SENT) |
					      CFTCPF(SYN_RECV)) ? 0 :
		       READ_ONCE(cs->write_seq) - READ_ONCE(cs->snd_una);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(answ, (int __user *)arg);
}

static int cftcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	how++;	/* SHUT_RD 0 -> RCV_SHUTDOWN 1, ... */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) &
		    (CFTCPF(SYN_SENT) | CFTCPF(SYN_RECV) | CFTCPF(CLOSE)))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case CFTCP_CLOSE:
		err = -ENOTCONN;
		fallthrough;
	default:
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
		if (how & SEND_SHUTDOWN)
			cftcp_shutdown_send(sk);
		break;
	case CFTCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		fallthrough;
	case CFTCP_SYN_SENT:
		err = cftcp_disconnect(sk, O_NONBLOCK);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	}
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}

static void cftcp_set_keepalive(struct sock *sk, int valbool)
{
	struct cftcp_sock *cs = cftcp_sk(sk);

	if ((1 << sk->sk_state) & (CFTCPF(CLOSE) | CFTCPF(LISTEN) |
				   CFTCPF(SYN_SENT)))
		return;
	if (valbool && !sock_flag(sk, SOCK_KEEPOPEN)) {
		int idle = READ_ONCE(cs->keepidle) ?:
			   READ_ONCE(cftcp_sk_net(sk)->sysctl.keepalive_time);

		sk_reset_timer(sk, &cs->keepalive_timer, jiffies + idle * HZ);
	} else if (!valbool) {
		sk_stop_timer(sk, &cs->keepalive_timer);
	}
}

/*
 * IP_OPTIONS changed: every segment from now on carries the new options
 * (ip_queue_xmit()), so the send MSS makes room for them, as Linux TCP
 * does through icsk_ext_hdr_len.
 */
static void cftcp_ip_options_changed(struct sock *sk)
{
	struct cftcp_sock *cs = cftcp_sk(sk);
	const struct ip_options_rcu *opt;
	u8 len;

	lock_sock(sk);
	opt = rcu_dereference_protected(cs->inet.inet_opt,
					lockdep_sock_is_held(sk));
	len = opt ? opt->opt.optlen : 0;
	/* Connect and the handshake size the MSS from scratch. */
	if (len != cs->ip_opt_len &&
	    !((1 << sk->sk_state) & (CFTCPF(CLOSE) | CFTCPF(LISTEN)))) {
		int mss = (int)cs->mss + cs->ip_opt_len - len;

		cs->mss = max_t(int, mss, CFTCP_MIN_MSS);
	}
	cs->ip_opt_len = len;
	release_sock(sk);
}

/*
 * SOL_IP as Linux TCP has it: ip_setsockopt() refuses the joins of
 * IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP with EPROTO for its
 * connection-oriented sockets (inet_sk(sk)->is_icsk), which cftcp's are
 * not; the other group calls succeed and the groups are left on close
 * (cftcp_mc_drop()).
 */
static int cftcp_ip_setsockopt(struct sock *sk, int optname,
			       sockptr_t optval, unsigned int optlen)
{
	int err;

	if (optname == IP_ADD_MEMBERSHIP || optname == IP_DROP_MEMBERSHIP)
		return -EPROTO;
	err = ip_setsockopt(sk, SOL_IP, optname, optval, optlen);
	if (!err && optname == IP_OPTIONS)
		cftcp_ip_options_changed(sk);
	return err;
}

static int cftcp_setsockopt(struct socket *sock, int level, int optname,
			    sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct cftcp_sock *cs = cftcp_sk(sk);
	int val, err = 0;

	if (level == SOL_IP)
		return cftcp_ip_setsockopt(sk, optname, optval, optlen);
	if (level != SOL_CFTCP)
		return -ENOPROTOOPT;
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case CFTCP_NODELAY:
		cs->nodelay = !!val;
		if (val)
			cftcp_push(sk);
		break;
	case CFTCP_MAXSEG:
		if (val && (val < CFTCP_MIN_MSS || val > CFTCP_MAX_WINDOW))
			err = -EINVAL;
		else
			cs->user_mss = val;
		break;
	case CFTCP_KEEPIDLE:
		if (val < 1 || val > CFTCP_MAX_KEEP) {
			err = -EINVAL;
			break;
		}
		cs->keepidle = val;
		if (sock_flag(sk, SOCK_KEEPOPEN))
			cftcp_reset_keepalive(sk);
		break;
	case CFTCP_KEEPINTVL:
		if (val < 1 || val > CFTCP_MAX_KEEP)
			err = -EINVAL;
		else
			cs->keepintvl = val;
		break;
	case CFTCP_KEEPCNT:
		if (val < 1 || val > 127)
			err = -EINVAL;
		else
			cs->keepcnt = val;
		break;
	case CFTCP_SYNCNT:
		if (val < 1 || val > CFTCP_MAX_SYNCNT)
			err = -EINVAL;
		else
			cs->syn_retries = val;
		break;
	case CFTCP_LINGER2:
		if (val < 0)
			cs->linger2 = -1;
		else if (val > CFTCP_FIN_TIMEOUT_MAX / HZ)
			cs->linger2 = CFTCP_FIN_TIMEOUT_MAX;
		else
			cs->linger2 = val * HZ;
		break;
	case CFTCP_USER_TIMEOUT:
		if (val < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(cs->user_timeout, val);
		break;
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

static int cftcp_getsockopt(struct socket *sock, int level, int optname,
			    char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct cftcp_sock *cs = cftcp_sk(sk);
	struct cftcp_net *cn = cftcp_sk_net(sk);
	int val, len;

	if (level == SOL_IP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (level != SOL_CFTCP)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	if (optname == CFTCP_INFO) {
		struct cftcp_info info;

		len = min_t(unsigned int, len, sizeof(info));
		lock_sock(sk);
		cftcp_get_info(sk, &info);
		release_sock(sk);
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	}

	switch (optname) {
	case CFTCP_NODELAY:
		val = cs->nodelay;
		break;
	case CFTCP_MAXSEG:
		val = cs->mss;
		if (cs->user_mss &&
		    ((1 << sk->sk_state) & (CFTCPF(CLOSE) | CFTCPF(LISTEN))))
			val = cs->user_mss;
		break;
	case CFTCP_KEEPIDLE:
		val = cs->keepidle ?: READ_ONCE(cn->sysctl.keepalive_time);
		break;
	case CFTCP_KEEPINTVL:
		val = cs->keepintvl ?: READ_ONCE(cn->sysctl.keepalive_intvl);
		break;
	case CFTCP_KEEPCNT:
		val = cs->keepcnt ?: READ_ONCE(cn->sysctl.keepalive_probes);
		break;
	case CFTCP_SYNCNT:
		val = cs->syn_retries ?: READ_ONCE(cn->sysctl.syn_retries);
		break;
	case CFTCP_LINGER2:
		val = cs->linger2;
		if (val >= 0)
			val = (val ?: READ_ONCE(cn->sysctl.fin_timeout) * HZ) /
			      HZ;
		break;
	case CFTCP_USER_TIMEOUT:
		val = READ_ONCE(cs->user_timeout);
		break;
	default:
		return -ENOPROTOOPT;
	}
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

static int cftcp_sock_sendmsg(struct socket *sock, struct msghdr *msg,
			      size_t size)
{
	return cftcp_sendmsg(sock->sk, msg, size);
}

static ssize_t cftcp_sock_sendpage(struct socket *sock, struct page *page,
				   int offset, size_t size, int flags)
{
	return cftcp_sendpage(sock->sk, page, offset, size, flags);
}

static int cftcp_sock_recvmsg(struct socket *sock, struct msghdr *msg,
			      size_t size, int flags)
{
	return cftcp_recvmsg(sock->sk, msg, size, flags);
}

static const struct proto_ops cftcp_ops = {
	.owner		= THIS_MODULE,
	.release	= cftcp_release,
	.bind		= cftcp_bind,
	.connect	= cftcp_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= cftcp_accept,
	.getname	= cftcp_getname,
	.poll		= cftcp_poll,
	.ioctl		= cftcp_ioctl,
	.listen		= cftcp_listen,
	.shutdown	= cftcp_shutdown,
	.setsockopt	= cftcp_setsockopt,
	.getsockopt	= cftcp_getsockopt,
	.sendmsg	= cftcp_sock_sendmsg,
	.recvmsg	= cftcp_sock_recvmsg,
	.mmap		= sock_no_mmap,
	.sendpage	= cftcp_sock_sendpage,
};

struct proto cftcp_prot = {
	.name		= "CFTCP",
	/* No module reference per socket: orphans must not pin the module
	 * (rmmod tears them down); user sockets pin it through cftcp_ops.
	 */
	.owner		= NULL,
	.obj_size	= sizeof(struct cftcp_sock),
	.backlog_rcv	= cftcp_backlog_rcv,
	.release_cb	= cftcp_release_cb,
	.keepalive	= cftcp_set_keepalive,
};

/* Wait for a timer's handler and drop the reference it held. */
static void cftcp_timer_sync(struct sock *sk, struct timer_list *t)
{
	if (del_timer_sync(t))
		__sock_put(sk);
}

/*
 * Module unload: reset and free every orphan (closing connections nobody
 * holds) of @cn. Each is found in the 4-tuple table.
 */
void cftcp_kill_orphans_net(struct cftcp_net *cn)
{
	unsigned int i;

	for (i = 0; i <= cn->ehash_mask; i++) {
		struct cftcp_hnode *hn;
		struct cftcp_sock *cs;
		struct sock *sk;

restart:
		sk = NULL;
		rcu_read_lock();
		hn = cftcp_ehash_first(cn, i, CFTCP_HK_SOCK);
		if (hn)
			sk = cftcp_hnode_sk(hn);
		rcu_read_unlock();
		if (!sk)
			continue;
		cs = cftcp_sk(sk);
		lock_sock(sk);
		if (sk->sk_state != CFTCP_CLOSE) {
			if ((1 << sk->sk_state) & ~(CFTCPF(SYN_SENT) |
						    CFTCPF(TIME_WAIT)))
				cftcp_send_active_reset(sk, GFP_KERNEL);
			cftcp_purge_queues(sk);
			cftcp_done(sk);
		}
		release_sock(sk);
		cftcp_timer_sync(sk, &cs->rtx_timer);
		cftcp_timer_sync(sk, &cs->delack_timer);
		cftcp_timer_sync(sk, &cs->keepalive_timer);
		sock_put(sk);
		goto restart;
	}
}

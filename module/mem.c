// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp memory: the protocol's share of memory as struct proto accounts it
 * (pages charged by every socket's receive and send queues, the limits of
 * the mem sysctl triple, memory pressure), and the count and limit of
 * orphaned connections. With these, sk_rmem_schedule()/sk_wmem_schedule()
 * apply the global limits and the socket's memory cgroup, and
 * /proc/net/protocols shows cftcp's pages.
 *
 * The counters are per-CPU or atomic and take no lock; the limits are
 * read with READ_ONCE() and written only through /proc/sys (sysctl.c).
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/percpu_counter.h>
#include <linux/swap.h>
#include <net/sock.h>

#include "cftcp.h"

static atomic_long_t cftcp_memory_allocated;
static DEFINE_PER_CPU(int, cftcp_memory_per_cpu_fw_alloc);
static struct percpu_counter cftcp_sockets_allocated;
static unsigned long cftcp_memory_pressure;
static DEFINE_PER_CPU(unsigned int, cftcp_orphan_count);

/* Pages: below [0] no pressure, above [1] pressure, above [2] refused. */
long cftcp_sysctl_mem[3];
/* Orphaned connections allowed before closing ones are reset. */
int cftcp_max_orphans = 32768;

/* Each queue's guaranteed minimum, default and largest size (tcp_rmem). */
static int cftcp_sysctl_rmem[3] = { 4096, 131072, 6291456 };
static int cftcp_sysctl_wmem[3] = { 4096, 16384, 4194304 };

/* The largest buffers autotuning gives a socket (bufsize.c). */
int cftcp_rmem_max(void)
{
	return READ_ONCE(cftcp_sysctl_rmem[2]);
}

int cftcp_wmem_max(void)
{
	return READ_ONCE(cftcp_sysctl_wmem[2]);
}

static void cftcp_enter_memory_pressure(struct sock *sk)
{
	if (!READ_ONCE(cftcp_memory_pressure))
		WRITE_ONCE(cftcp_memory_pressure, jiffies ?: 1);
}

static void cftcp_leave_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(cftcp_memory_pressure))
		WRITE_ONCE(cftcp_memory_pressure, 0);
}

void cftcp_mem_proto_init(struct proto *prot)
{
	prot->memory_allocated = &cftcp_memory_allocated;
	prot->per_cpu_fw_alloc = &cftcp_memory_per_cpu_fw_alloc;
	prot->sockets_allocated = &cftcp_sockets_allocated;
	prot->memory_pressure = &cftcp_memory_pressure;
	prot->enter_memory_pressure = cftcp_enter_memory_pressure;
	prot->leave_memory_pressure = cftcp_leave_memory_pressure;
	prot->sysctl_mem = cftcp_sysctl_mem;
	prot->sysctl_rmem = cftcp_sysctl_rmem;
	prot->sysctl_wmem = cftcp_sysctl_wmem;
	prot->orphan_count = &cftcp_orphan_count;
}

/* As Linux sizes tcp_mem: 4.7%, 6.25% and 9.4% of the buffer pages. */
int cftcp_mem_init(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);

	cftcp_sysctl_mem[0] = limit / 4 * 3;
	cftcp_sysctl_mem[1] = limit;
	cftcp_sysctl_mem[2] = cftcp_sysctl_mem[0] * 2;
	return percpu_counter_init(&cftcp_sockets_allocated, 0, GFP_KERNEL);
}

/*
 * Module unload, after every namespace closed and reset its sockets: an
 * skb a socket sent owns it (skb_set_owner_w()) and may still wait in a
 * qdisc or a device queue; the socket is freed with the last of them,
 * through cftcp_sock_destruct() and our slab. Wait for that before the
 * module goes, and for the RCU callbacks (SOCK_RCU_FREE) that free them.
 */
void cftcp_mem_wait_sockets(void)
{
	unsigned int waited = 0;
	s64 n;

	while ((n = percpu_counter_sum(&cftcp_sockets_allocated)) > 0) {
		if (++waited == 50)
			pr_info("cftcp: waiting for %lld sockets held by packets in flight\n",
				n);
		msleep(20);
	}
	rcu_barrier();
}

void cftcp_mem_exit(void)
{
	percpu_counter_destroy(&cftcp_sockets_allocated);
}

static unsigned int cftcp_orphans(void)
{
	unsigned int n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += per_cpu(cftcp_orphan_count, cpu);
	return n;
}

/*
 * The user let go of @sk (close()); the connection finishes on its own.
 * True if that is more than the host allows (Linux's tcp_check_oom()):
 * more orphans than max_orphans before this one, or the protocol over its
 * hard memory limit while @sk holds send memory. The caller resets it.
 */
bool cftcp_orphan(struct sock *sk)
{
	bool too_many = cftcp_orphans() > (unsigned int)READ_ONCE(cftcp_max_orphans);

	sock_orphan(sk);
	this_cpu_inc(cftcp_orphan_count);
	if (too_many)
		net_info_ratelimited("cftcp: too many orphaned sockets\n");
	return too_many ||
	       (sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
		sk_memory_allocated(sk) > sk_prot_mem_limits(sk, 2));
}

/*
 * An orphan's retransmission or probe timer fired (Linux's
 * tcp_out_of_resources()): if orphans are too many (counted twice over
 * after an ICMP error) or memory is out, reset and close it now. True if
 * it was closed.
 */
bool cftcp_orphan_out_of_resources(struct sock *sk)
{
	int shift = READ_ONCE(sk->sk_err_soft) ? 1 : 0;

	if ((cftcp_orphans() << shift) <= (unsigned int)READ_ONCE(cftcp_max_orphans) &&
	    !(sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
	      sk_memory_allocated(sk) > sk_prot_mem_limits(sk, 2)))
		return false;
	net_info_ratelimited("cftcp: too many orphaned sockets\n");
	CFTCP_INC_STATS(cftcp_sk_net(sk), CFTCP_MIB_ABORTONMEMORY);
	cftcp_abort(sk, ENOMEM);
	return true;
}

/* An orphan is freed (cftcp_destroy_sock()). */
void cftcp_orphan_done(struct sock *sk)
{
	this_cpu_dec(cftcp_orphan_count);
}

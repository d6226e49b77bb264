// SPDX-License-Identifier: GPL-2.0
/*
 * sysfuzz: random socket calls on shared cftcp sockets from several
 * threads, with random arguments and flags, hostile lengths and pointers,
 * to find what a local program can do to the module. Meant to run in a
 * network namespace of its own, over its loopback.
 *
 *   sysfuzz [-s SEED] [-T SECONDS] [-j THREADS] [-u] [-v]
 *	-s: the seed (default: from the clock; printed). Each thread draws
 *	its calls from SEED and its number, so a seed replays the same
 *	calls, though not their interleaving. -T: run time (default 10 s);
 *	-j: threads (default 4); -u: drop root first (uid and gid 65534);
 *	-v: print each call.
 *
 * The threads share NSLOTS socket descriptors: any of them may close one
 * while another connects, accepts, sends, receives, listens or sets an
 * option on it, or put a new socket there (dup2() onto a slot races too).
 * Calls: socket, bind, listen, connect, accept4, send, sendto, sendmsg,
 * sendmmsg, recv, recvmsg, shutdown, close, dup2, poll, ioctl,
 * getsockname, getpeername, fcntl, and setsockopt and getsockopt at
 * SOL_SOCKET, SOL_IP, SOL_CFTCP and random levels with known and random
 * option names, lengths 0 to 2^32 - 1, and values that are random, NULL,
 * unmapped, kernel addresses, read-only or end at an unmapped page. One
 * socket outside the slots stays open for the whole run, so the module
 * is always in use. Blocking calls are bounded: a watchdog interrupts a
 * thread stuck for two seconds with a signal.
 *
 * Exit status 0 when the run ended (whatever the calls returned), 2 for
 * usage or setup errors. The judge is the kernel: no splat, and every
 * socket freed once the run and its connections are over (sysfuzz.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/cftcp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NSLOTS		12
#define MAX_THREADS	16
#define NPORTS		4
#define BASE_PORT	5100
#define BIG		(1 << 20)

static int slots[NSLOTS];
static volatile int stop;
static int verbose;
static unsigned long long seed;
static char *ro_page, *guard_page, *bigbuf;
static pthread_t tids[MAX_THREADS];
static volatile unsigned long progress[MAX_THREADS];
static volatile unsigned long calls[MAX_THREADS];
/* What worked, for the summary: connections accepted, bytes moved. */
static unsigned long accepted, sent_bytes, rcvd_bytes;

static void count(unsigned long *c, long n)
{
	if (n > 0)
		__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

static int slot_fd(struct rng *r)
{
	return __atomic_load_n(&slots[below(r, NSLOTS)], __ATOMIC_RELAXED);
}

static void slot_put(struct rng *r, int fd)
{
	int old = __atomic_exchange_n(&slots[below(r, NSLOTS)], fd,
				      __ATOMIC_RELAXED);

	/* Whoever still uses the number races with this. */
	if (old >= 0)
		close(old);
}

/* A pointer for the kernel to read from or write to, often hostile. */
static void *hostile_ptr(struct rng *r, void *good, size_t goodlen)
{
	switch (below(r, 12)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)0xffffffff81000000UL;	/* kernel text */
	case 3:
		return (void *)-4096L;
	case 4:
		return guard_page;			/* not there */
	case 5:
		return ro_page;				/* read-only */
	case 6:
		/* the last bytes before an unmapped page */
		return guard_page - 1 - below(r, 8);
	default:
		if (good && goodlen > 4 && chance(r, 30))
			memset(good, (int)rnd(r), goodlen);
		return good;
	}
}

static unsigned int hostile_len(struct rng *r, unsigned int good)
{
	static const unsigned int lens[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 20, 39, 40, 41, 64, 128,
		255, 256, 4096, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
	};

	if (chance(r, 60))
		return good;
	return lens[below(r, sizeof(lens) / sizeof(lens[0]))];
}

static void fill_addr(struct rng *r, struct sockaddr_in *a)
{
	static const char *const ips[] = {
		"127.0.0.1", "127.0.0.1", "127.0.0.1", "0.0.0.0",
		"127.0.0.2", "255.255.255.255", "224.0.0.1", "10.1.2.3",
	};

	memset(a, 0, sizeof(*a));
	a->sin_family = chance(r, 95) ? AF_CFTCP :
			(chance(r, 50) ? AF_UNSPEC : AF_INET);
	inet_pton(AF_INET, ips[below(r, 8)], &a->sin_addr);
	a->sin_port = htons(chance(r, 20) ? 0 : BASE_PORT + below(r, NPORTS));
}

static socklen_t addr_len(struct rng *r)
{
	static const socklen_t lens[] = { 16, 16, 16, 16, 0, 1, 2, 15, 17,
					  128, 0x7fffffff };

	return lens[below(r, sizeof(lens) / sizeof(lens[0]))];
}

static int new_socket(struct rng *r)
{
	int type = SOCK_STREAM, proto = 0, fd;
	struct timeval tv = { .tv_usec = 200000 };

	if (chance(r, 50))
		type |= SOCK_NONBLOCK;
	if (chance(r, 20))
		type |= SOCK_CLOEXEC;
	if (chance(r, 5))
		type = below(r, 12);
	if (chance(r, 20))
		proto = chance(r, 50) ? IPPROTO_CFTCP : (int)below(r, 300);
	fd = socket(AF_CFTCP, type, proto);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

static const int sol_socket_opts[] = {
	SO_DEBUG, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_DONTROUTE, SO_BROADCAST,
	SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_KEEPALIVE,
	SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_LINGER, SO_BSDCOMPAT,
	SO_REUSEPORT, SO_PASSCRED, SO_PEERCRED, SO_RCVLOWAT, SO_SNDLOWAT,
	SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, SO_BINDTODEVICE, SO_ATTACH_FILTER,
	SO_DETACH_FILTER, SO_PEERNAME, SO_TIMESTAMP_OLD, SO_ACCEPTCONN,
	SO_PEERSEC, SO_PASSSEC, SO_TIMESTAMPNS_OLD, SO_MARK,
	SO_TIMESTAMPING_OLD, SO_PROTOCOL, SO_DOMAIN, SO_RXQ_OVFL,
	SO_WIFI_STATUS, SO_PEEK_OFF, SO_NOFCS, SO_LOCK_FILTER,
	SO_SELECT_ERR_QUEUE, SO_BUSY_POLL, SO_MAX_PACING_RATE,
	SO_BPF_EXTENSIONS, SO_INCOMING_CPU, SO_ATTACH_BPF, SO_CNX_ADVICE,
	SO_MEMINFO, SO_INCOMING_NAPI_ID, SO_COOKIE, SO_PEERGROUPS,
	SO_ZEROCOPY, SO_TXTIME, SO_BINDTOIFINDEX, SO_TIMESTAMP_NEW,
	SO_TIMESTAMPNS_NEW, SO_TIMESTAMPING_NEW, SO_RCVTIMEO_NEW,
	SO_SNDTIMEO_NEW, SO_DETACH_REUSEPORT_BPF, SO_PREFER_BUSY_POLL,
	SO_BUSY_POLL_BUDGET, SO_NETNS_COOKIE, SO_BUF_LOCK, SO_RESERVE_MEM,
	SO_TXREHASH, SO_RCVMARK,
};

static const int sol_ip_opts[] = {
	IP_TOS, IP_TTL, IP_HDRINCL, IP_OPTIONS, IP_ROUTER_ALERT, IP_RECVOPTS,
	IP_RETOPTS, IP_PKTINFO, IP_PKTOPTIONS, IP_MTU_DISCOVER, IP_RECVERR,
	IP_RECVTTL, IP_RECVTOS, IP_MTU, IP_FREEBIND, IP_IPSEC_POLICY,
	IP_XFRM_POLICY, IP_PASSSEC, IP_TRANSPARENT, IP_ORIGDSTADDR,
	IP_MINTTL, IP_NODEFRAG, IP_CHECKSUM, IP_BIND_ADDRESS_NO_PORT,
	IP_RECVFRAGSIZE, IP_RECVERR_RFC4884, IP_MULTICAST_IF,
	IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_ADD_MEMBERSHIP,
	IP_DROP_MEMBERSHIP, IP_UNBLOCK_SOURCE, IP_BLOCK_SOURCE,
	IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP, IP_MSFILTER,
	MCAST_JOIN_GROUP, MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE,
	MCAST_LEAVE_GROUP, MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP,
	MCAST_MSFILTER, IP_MULTICAST_ALL, IP_UNICAST_IF, 50 /* LOCAL_PORT_RANGE */,
};

static const int sol_cftcp_opts[] = {
	CFTCP_NODELAY, CFTCP_MAXSEG, CFTCP_KEEPIDLE, CFTCP_KEEPINTVL,
	CFTCP_KEEPCNT, CFTCP_SYNCNT, CFTCP_LINGER2, CFTCP_INFO,
	CFTCP_USER_TIMEOUT,
};

#define PICK(r, a)	((a)[below((r), sizeof(a) / sizeof((a)[0]))])

static void pick_opt(struct rng *r, int *level, int *name)
{
	switch (below(r, 10)) {
	case 0: case 1: case 2:
		*level = SOL_SOCKET;
		*name = chance(r, 90) ? PICK(r, sol_socket_opts) :
					(int)below(r, 100);
		break;
	case 3: case 4: case 5:
		*level = SOL_IP;
		*name = chance(r, 90) ? PICK(r, sol_ip_opts) :
					(int)below(r, 100);
		break;
	case 6: case 7: case 8:
		*level = SOL_CFTCP;
		*name = chance(r, 90) ? PICK(r, sol_cftcp_opts) :
					(int)below(r, 40);
		break;
	default:
		*level = chance(r, 50) ? (int)below(r, 300) : (int)rnd(r);
		*name = (int)below(r, 100);
		break;
	}
}

/* A value for an option: small numbers, extremes, or something in shape. */
static void fill_value(struct rng *r, int level, int name, unsigned char *v,
		       size_t len)
{
	static const int ints[] = { 0, 1, -1, 2, 7, 64, 536, 1460, 65535,
				    65536, 0x7fffffff, (int)0x80000000 };
	int x = PICK(r, ints);

	memset(v, 0, len);
	if (chance(r, 20)) {
		size_t i;

		for (i = 0; i < len; i++)
			v[i] = rnd(r);
		return;
	}
	memcpy(v, &x, sizeof(x));
	if (level == SOL_IP && name == IP_OPTIONS && chance(r, 60)) {
		/* record route, timestamp or NOPs: mostly well formed */
		static const unsigned char opts[][8] = {
			{ IPOPT_RR, 7, 4, 0, 0, 0, 0, 0 },
			{ IPOPT_TS, 8, 5, 0, 0, 0, 0, 0 },
			{ IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_END },
			{ IPOPT_LSRR, 7, 4, 127, 0, 0, 1, 0 },
		};

		memcpy(v, opts[below(r, 4)], 8);
	} else if (level == SOL_IP && (name == MCAST_JOIN_GROUP ||
				       name == MCAST_LEAVE_GROUP)) {
		struct group_req *g = (struct group_req *)v;
		struct sockaddr_in *s = (struct sockaddr_in *)&g->gr_group;

		g->gr_interface = below(r, 3);
		s->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(0xef000100 + below(r, 4));
	} else if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger *l = (struct linger *)v;

		l->l_onoff = below(r, 2);
		l->l_linger = below(r, 3);
	}
}

static void do_setsockopt(struct rng *r, int fd)
{
	unsigned char val[512];
	int level, name;
	unsigned int len;
	void *p;

	pick_opt(r, &level, &name);
	fill_value(r, level, name, val, sizeof(val));
	len = hostile_len(r, chance(r, 50) ? 4 : below(r, 64));
	p = hostile_ptr(r, val, sizeof(val));
	/* A length past our buffer only with a pointer that cannot be read. */
	if (p == val && len > sizeof(val))
		len = sizeof(val);
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD ||
				    name == SO_SNDTIMEO_OLD ||
				    name == SO_RCVTIMEO_NEW ||
				    name == SO_SNDTIMEO_NEW) && p == val) {
		/* No timeouts longer than a second: the watchdog's job. */
		struct timeval tv = { .tv_usec = below(r, 1000000) };

		memcpy(val, &tv, sizeof(tv));
		len = sizeof(tv);
	}
	if (level == SOL_SOCKET && (name == SO_RCVBUFFORCE ||
				    name == SO_RCVBUF) && p == val &&
	    chance(r, 50)) {
		int small = below(r, 4096);

		memcpy(val, &small, sizeof(small));
	}
	if (verbose)
		printf("setsockopt(%d, %d, %d, %p, %u)\n", fd, level, name, p,
		       len);
	setsockopt(fd, level, name, p, len);
}

static void do_getsockopt(struct rng *r, int fd)
{
	unsigned char val[512];
	socklen_t len, *lp;
	int level, name;
	void *p;

	pick_opt(r, &level, &name);
	len = hostile_len(r, chance(r, 50) ? 4 : below(r, sizeof(val)));
	p = hostile_ptr(r, val, sizeof(val));
	if (p == val && len > sizeof(val))
		len = sizeof(val);
	lp = chance(r, 90) ? &len : hostile_ptr(r, NULL, 0);
	if (verbose)
		printf("getsockopt(%d, %d, %d, %p, %u)\n", fd, level, name, p,
		       len);
	getsockopt(fd, level, name, p, lp);
}

static int msg_flags(struct rng *r)
{
	static const int flags[] = {
		MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_CTRUNC, MSG_TRUNC,
		MSG_DONTWAIT, MSG_EOR, MSG_WAITALL, MSG_CONFIRM, MSG_ERRQUEUE,
		MSG_MORE, MSG_WAITFORONE, MSG_FASTOPEN, MSG_CMSG_CLOEXEC,
		MSG_ZEROCOPY, MSG_BATCH,
	};
	int f = MSG_NOSIGNAL;
	int n = below(r, 4), i;

	for (i = 0; i < n; i++)
		f |= flags[below(r, sizeof(flags) / sizeof(flags[0]))];
	if (chance(r, 70))
		f |= MSG_DONTWAIT;
	if (chance(r, 3))
		f = (int)rnd(r) | MSG_NOSIGNAL;
	return f;
}

static size_t io_len(struct rng *r)
{
	static const size_t lens[] = { 0, 1, 2, 100, 1000, 1460, 4096,
				       65536, 300000, BIG };

	return PICK(r, lens);
}

static void fill_msg(struct rng *r, struct msghdr *m, struct iovec *iov,
		     int niov, struct sockaddr_in *name, char *ctl)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < niov; i++) {
		size_t len = io_len(r) / (niov + 1);

		iov[i].iov_base = hostile_ptr(r, NULL, 0);
		if (!iov[i].iov_base || chance(r, 50))
			iov[i].iov_base = bigbuf + below(r, 4096);
		iov[i].iov_len = chance(r, 3) ? (size_t)-1 / 2 : len;
	}
	m->msg_iov = chance(r, 95) ? iov : hostile_ptr(r, NULL, 0);
	m->msg_iovlen = chance(r, 95) ? (size_t)niov : below(r, 2000);
	if (chance(r, 20)) {
		fill_addr(r, name);
		m->msg_name = name;
		m->msg_namelen = addr_len(r);
	}
	if (chance(r, 20)) {
		struct cmsghdr *c = (struct cmsghdr *)ctl;

		memset(ctl, 0, 256);
		c->cmsg_len = CMSG_LEN(below(r, 64));
		c->cmsg_level = chance(r, 50) ? SOL_SOCKET : SOL_IP;
		c->cmsg_type = below(r, 40);
		m->msg_control = chance(r, 90) ? ctl : hostile_ptr(r, NULL, 0);
		m->msg_controllen = hostile_len(r, 64);
		if (m->msg_control == ctl && m->msg_controllen > 256)
			m->msg_controllen = 256;
	}
}

/* A listener, a client connecting to it and the accepted socket, slotted. */
static void make_conn(struct rng *r)
{
	struct sockaddr_in a;
	int l, c, s;

	l = new_socket(r);
	if (l < 0)
		return;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_CFTCP;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(BASE_PORT + below(r, NPORTS));
	if (chance(r, 50)) {
		int one = 1;

		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4)) {
		close(l);
		return;
	}
	c = new_socket(r);
	if (c >= 0) {
		fcntl(c, F_SETFL, O_NONBLOCK);
		connect(c, (struct sockaddr *)&a, sizeof(a));
		poll(&(struct pollfd){ .fd = l, .events = POLLIN }, 1, 100);
		s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (s >= 0) {
			count(&accepted, 1);
			slot_put(r, s);
		}
		slot_put(r, c);
	}
	if (chance(r, 50))
		slot_put(r, l);
	else
		close(l);
}

static void one_call(struct rng *r)
{
	struct sockaddr_in a;
	struct iovec iov[4];
	struct msghdr m;
	char ctl[256];
	socklen_t alen;
	int fd = slot_fd(r), n;

	switch (below(r, 26)) {
	case 0:
	case 1:
		n = new_socket(r);
		if (n >= 0)
			slot_put(r, n);
		break;
	case 2:
		n = __atomic_exchange_n(&slots[below(r, NSLOTS)], -1,
					__ATOMIC_RELAXED);
		if (n >= 0)
			close(n);
		break;
	case 3:
		fill_addr(r, &a);
		bind(fd, hostile_ptr(r, &a, sizeof(a)), addr_len(r));
		break;
	case 4:
		listen(fd, chance(r, 80) ? (int)below(r, 8) : (int)rnd(r));
		break;
	case 5:
	case 6:
		fill_addr(r, &a);
		if (chance(r, 90))
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		connect(fd, hostile_ptr(r, &a, sizeof(a)), addr_len(r));
		break;
	case 7:
		alen = addr_len(r);
		n = accept4(fd, chance(r, 50) ? NULL :
				hostile_ptr(r, &a, sizeof(a)),
			    chance(r, 50) ? &alen : hostile_ptr(r, NULL, 0),
			    chance(r, 90) ? SOCK_NONBLOCK * (int)below(r, 2) |
					    SOCK_CLOEXEC * (int)below(r, 2) :
					    (int)rnd(r));
		if (n >= 0) {
			count(&accepted, 1);
			slot_put(r, n);
		}
		break;
	case 8:
		count(&sent_bytes, send(fd, hostile_ptr(r, bigbuf, BIG),
					io_len(r), msg_flags(r)));
		break;
	case 9:
		fill_addr(r, &a);
		count(&sent_bytes, sendto(fd, bigbuf, io_len(r), msg_flags(r),
					  hostile_ptr(r, &a, sizeof(a)),
					  addr_len(r)));
		break;
	case 10:
		fill_msg(r, &m, iov, 1 + below(r, 4), &a, ctl);
		count(&sent_bytes, sendmsg(fd, &m, msg_flags(r)));
		break;
	case 11: {
		struct mmsghdr mm[2];

		fill_msg(r, &mm[0].msg_hdr, iov, 2, &a, ctl);
		mm[1] = mm[0];
		sendmmsg(fd, mm, 1 + below(r, 2), msg_flags(r));
		break;
	}
	case 12:
		count(&rcvd_bytes, recv(fd, hostile_ptr(r, bigbuf, BIG),
					io_len(r), msg_flags(r)));
		break;
	case 13:
		fill_msg(r, &m, iov, 1 + below(r, 4), &a, ctl);
		count(&rcvd_bytes, recvmsg(fd, &m, msg_flags(r)));
		break;
	case 14:
		shutdown(fd, chance(r, 90) ? (int)below(r, 3) : (int)rnd(r));
		break;
	case 15: {
		struct pollfd p[3];
		int i;

		for (i = 0; i < 3; i++) {
			p[i].fd = slot_fd(r);
			p[i].events = (short)rnd(r);
		}
		poll(p, 3, below(r, 50));
		break;
	}
	case 16:
	case 17:
		do_setsockopt(r, fd);
		break;
	case 18:
		do_getsockopt(r, fd);
		break;
	case 19: {
		static const unsigned long cmds[] = {
			FIONREAD, SIOCOUTQ, FIONBIO, SIOCATMARK, SIOCGSTAMP_OLD,
			SIOCOUTQNSD, SIOCGIFADDR, 0x89f0, 0x5401,
		};
		int v = below(r, 2);

		ioctl(fd, PICK(r, cmds), hostile_ptr(r, &v, sizeof(v)));
		break;
	}
	case 20:
		alen = addr_len(r);
		if (chance(r, 50))
			getsockname(fd, hostile_ptr(r, &a, sizeof(a)), &alen);
		else
			getpeername(fd, hostile_ptr(r, &a, sizeof(a)),
				    chance(r, 90) ? &alen :
						    hostile_ptr(r, NULL, 0));
		break;
	case 21:
		n = fcntl(fd, F_GETFL);
		if (n >= 0)
			fcntl(fd, F_SETFL, n ^ O_NONBLOCK);
		break;
	case 22:
		if (fd >= 0 && chance(r, 30)) {
			n = slot_fd(r);
			if (n >= 0 && n != fd)
				dup2(fd, n);
		}
		break;
	default:
		make_conn(r);
		break;
	}
}

static void *worker(void *arg)
{
	long id = (long)arg;
	struct rng r = { .s = seed * 1000003ULL + (uint64_t)id * 7919ULL };

	while (!stop) {
		one_call(&r);
		calls[id]++;
		progress[id]++;
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sysfuzz [-s SEED] [-T SECONDS] [-j THREADS] [-u] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long last[MAX_THREADS] = { 0 };
	int stuck[MAX_THREADS] = { 0 };
	int seconds = 10, threads = 4, drop = 0, opt, anchor, i;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long total = 0;
	struct timespec t0, t;

	seed = time(NULL) ^ getpid();
	while ((opt = getopt(argc, argv, "s:T:j:uv")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'T': seconds = atoi(optarg); break;
		case 'j': threads = atoi(optarg); break;
		case 'u': drop = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (threads < 1 || threads > MAX_THREADS || seconds < 1)
		usage();
	printf("sysfuzz: seed %llu, %d s, %d threads%s\n", seed, seconds,
	       threads, drop ? ", uid 65534" : "");
	fflush(stdout);

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: calls end EINTR */
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	/* A writable page, then one that is not there. */
	guard_page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page != MAP_FAILED) {
		guard_page += 4096;
		if (mprotect(guard_page, 4096, PROT_NONE))
			guard_page = MAP_FAILED;
	}
	bigbuf = malloc(BIG + 8192);
	if (ro_page == MAP_FAILED || guard_page == MAP_FAILED || !bigbuf) {
		perror("sysfuzz: memory");
		return 2;
	}
	memset(bigbuf, 'x', BIG + 8192);
	for (i = 0; i < NSLOTS; i++)
		slots[i] = -1;
	if (drop && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		     setresuid(65534, 65534, 65534))) {
		perror("sysfuzz: dropping root");
		return 2;
	}
	/* Held to the end: cftcp is in use for the whole run. */
	anchor = socket(AF_CFTCP, SOCK_STREAM, 0);
	if (anchor < 0) {
		perror("sysfuzz: socket(AF_CFTCP)");
		return 2;
	}

	for (i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, worker, (void *)(long)i)) {
			perror("sysfuzz: pthread_create");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* sysfuzz.sh waits for this line before it tries rmmod. */
	printf("sysfuzz: running\n");
	fflush(stdout);
	for (;;) {
		usleep(250000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= seconds)
			break;
		/* A thread stuck in a call for 2 s is interrupted. */
		for (i = 0; i < threads; i++) {
			if (progress[i] != last[i]) {
				last[i] = progress[i];
				stuck[i] = 0;
			} else if (++stuck[i] >= 8) {
				pthread_kill(tids[i], SIGUSR1);
				stuck[i] = 0;
			}
		}
	}
	stop = 1;
	/* Wake whoever waits, then end every thread with the process. */
	for (i = 0; i < threads; i++)
		pthread_kill(tids[i], SIGUSR1);
	for (i = 0; i < threads; i++)
		total += calls[i];
	printf("sysfuzz: %lu calls, %lu connections accepted, %lu bytes sent, %lu received\n",
	       total, accepted, sent_bytes, rcvd_bytes);
	fflush(stdout);
	for (i = 0; i < NSLOTS; i++)
		if (slots[i] >= 0)
			close(slots[i]);
	close(anchor);
	_exit(0);
}

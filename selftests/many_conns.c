// SPDX-License-Identifier: GPL-2.0
/*
 * Many connections at once over loopback, driven by one epoll loop: all of
 * them are opened first (each end in ESTABLISHED, counted in the table and
 * in CurrEstab), then every one moves its own byte pattern both ways at the
 * same time, each byte checked on arrival; the client ends of its stream
 * first, the server after it has seen that end, so that afterwards every
 * client end is in TIME_WAIT and no server end is left. ActiveOpens and
 * PassiveOpens count each connection, EstabResets none.
 *
 * 256 connections with 64 KiB each way; "cftcp_test.long=1" on the kernel
 * command line (or CFTCP_TEST_LONG=1) makes it 1000 with 256 KiB each way.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define STALL_MS	30000

/* Byte @off of the stream of connection @idx in direction @dir. */
static unsigned char pat(unsigned int idx, int dir, unsigned long long off)
{
	unsigned long long x = off * 0x9e3779b1ULL + idx * 0x85ebca6bULL +
			       dir * 0xc2b2ae35ULL + (off >> 9);

	return (unsigned char)(x ^ (x >> 13) ^ (x >> 29));
}

static bool long_mode(void)
{
	const char *e = getenv("CFTCP_TEST_LONG");
	char buf[4096];
	FILE *f;
	bool on = false;

	if (e && !strcmp(e, "1"))
		return true;
	f = fopen("/proc/cmdline", "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		on = strstr(buf, "cftcp_test.long=1");
	fclose(f);
	return on;
}

struct end {
	int fd;
	unsigned int idx;
	int dir;		/* 0: client sends, 1: server sends */
	bool passive;		/* ends its stream after the peer's end */
	unsigned long long sent, rcvd;
	bool wshut, eof, done;
};

struct run {
	struct end *ends;	/* 2 * n: clients, then servers */
	unsigned int n;
	unsigned long long size;
	unsigned int finished;
	char err[256];
};

static int ep_set(int ep, int op, struct end *e, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };

	return epoll_ctl(ep, op, e->fd, &ev);
}

/* Want: read until the end, write until all is sent (and the end sent). */
static unsigned int end_events(const struct end *e, unsigned long long size)
{
	unsigned int ev = 0;

	if (!e->eof)
		ev |= EPOLLIN;
	if (!e->wshut && e->sent < size)
		ev |= EPOLLOUT;
	return ev;
}

/* Do what @e can do now; -1 with run->err set on a failure. */
static int end_step(struct run *r, int ep, struct end *e, unsigned int rev)
{
	static unsigned char buf[65536];
	unsigned int before = end_events(e, r->size);
	ssize_t n, i;

	if (rev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			snprintf(r->err, sizeof(r->err),
				 "connection %u (%s): recv: %s", e->idx,
				 e->dir ? "server" : "client", strerror(errno));
			return -1;
		}
		if (n == 0)
			e->eof = true;
		for (i = 0; i < n; i++) {
			if (buf[i] != pat(e->idx, !e->dir, e->rcvd + i)) {
				snprintf(r->err, sizeof(r->err),
					 "connection %u (%s): byte %llu wrong",
					 e->idx, e->dir ? "server" : "client",
					 e->rcvd + i);
				return -1;
			}
		}
		if (n > 0)
			e->rcvd += n;
		if (e->rcvd > r->size) {
			snprintf(r->err, sizeof(r->err),
				 "connection %u: more than %llu bytes",
				 e->idx, r->size);
			return -1;
		}
	}
	if ((rev & (EPOLLOUT | EPOLLERR)) && !e->wshut && e->sent < r->size) {
		size_t len = r->size - e->sent;

		if (len > 16384)
			len = 16384;
		for (i = 0; i < (ssize_t)len; i++)
			buf[i] = pat(e->idx, e->dir, e->sent + i);
		n = send(e->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			snprintf(r->err, sizeof(r->err),
				 "connection %u (%s): send: %s", e->idx,
				 e->dir ? "server" : "client", strerror(errno));
			return -1;
		}
		if (n > 0)
			e->sent += n;
	}
	if (!e->wshut && e->sent == r->size && (!e->passive || e->eof)) {
		if (shutdown(e->fd, SHUT_WR)) {
			snprintf(r->err, sizeof(r->err),
				 "connection %u: shutdown: %s", e->idx,
				 strerror(errno));
			return -1;
		}
		e->wshut = true;
	}
	if (e->eof && e->wshut && !e->done) {
		if (e->rcvd != r->size) {
			snprintf(r->err, sizeof(r->err),
				 "connection %u (%s): end of stream after %llu of %llu bytes",
				 e->idx, e->dir ? "server" : "client", e->rcvd,
				 r->size);
			return -1;
		}
		e->done = true;
		r->finished++;
		return epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
	}
	if (end_events(e, r->size) != before)
		return ep_set(ep, EPOLL_CTL_MOD, e, end_events(e, r->size));
	return 0;
}

FIXTURE(many) {
	struct run r;
	int l, ep;
};

FIXTURE_SETUP(many)
{
	struct rlimit rl;
	unsigned int i;

	memset(&self->r, 0, sizeof(self->r));
	self->l = -1;
	self->ep = -1;
	self->r.n = long_mode() ? 1000 : 256;
	self->r.size = long_mode() ? 256 << 10 : 64 << 10;
	self->r.ends = calloc(2 * self->r.n, sizeof(*self->r.ends));
	ASSERT_NE(NULL, self->r.ends);
	for (i = 0; i < 2 * self->r.n; i++)
		self->r.ends[i].fd = -1;

	/* two descriptors per connection */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 2 * self->r.n + 64) {
		rl.rlim_cur = 2 * self->r.n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl))
			TH_LOG("RLIMIT_NOFILE %lu: %s",
			       (unsigned long)rl.rlim_cur, strerror(errno));
	}
}

FIXTURE_TEARDOWN(many)
{
	unsigned int i;

	for (i = 0; i < 2 * self->r.n; i++)
		if (self->r.ends[i].fd >= 0)
			close(self->r.ends[i].fd);
	if (self->l >= 0)
		close(self->l);
	if (self->ep >= 0)
		close(self->ep);
	free(self->r.ends);
}

TEST_F_TIMEOUT(many, concurrent_transfers, 600)
{
	struct run *r = &self->r;
	struct end *cli = r->ends, *srv = r->ends + r->n;
	long long act0, pas0, rst0, est0, est;
	int tw0 = table_count(CFTCP_TIME_WAIT);
	static unsigned int by_port[65536];
	struct epoll_event evs[64];
	unsigned int i, accepted = 0, est_lines;
	unsigned int last_finished = 0;
	int idle_ms = 0, n, k;
	struct taddr a;

	TH_LOG("%u connections, %llu bytes each way on each", r->n, r->size);
	act0 = counter("ActiveOpens");
	pas0 = counter("PassiveOpens");
	rst0 = counter("EstabResets");
	est0 = counter("CurrEstab");
	ASSERT_GE(act0, 0);

	self->l = listener("127.0.0.1", 0, r->n, &a);
	ASSERT_GE(self->l, 0) TH_LOG("listener: %s", strerror(errno));

	/* open them all, without waiting for each */
	for (i = 0; i < r->n; i++) {
		cli[i].fd = sock_new(SOCK_NONBLOCK);
		ASSERT_GE(cli[i].fd, 0) TH_LOG("socket %u: %s", i,
					       strerror(errno));
		cli[i].idx = i;
		cli[i].dir = 0;
		if (connect(cli[i].fd, &a.sa, TADDR_LEN))
			ASSERT_EQ(EINPROGRESS, errno)
				TH_LOG("connect %u: %s", i, strerror(errno));
		by_port[local_port(cli[i].fd)] = i + 1;
	}
	/* accept them all; the accepted end finds its index by port */
	while (accepted < r->n) {
		int fd;

		ASSERT_EQ(POLLIN, poll_one(self->l, POLLIN, STALL_MS))
			TH_LOG("%u of %u accepted", accepted, r->n);
		fd = accept4(self->l, NULL, NULL, SOCK_NONBLOCK);
		ASSERT_GE(fd, 0) TH_LOG("accept: %s", strerror(errno));
		i = by_port[peer_port(fd)];
		ASSERT_NE(0, i) TH_LOG("accepted an unknown port %u",
				       peer_port(fd));
		i--;
		ASSERT_EQ(-1, srv[i].fd);
		srv[i].fd = fd;
		srv[i].idx = i;
		srv[i].dir = 1;
		srv[i].passive = true;
		accepted++;
	}
	for (i = 0; i < r->n; i++) {
		ASSERT_EQ(POLLOUT, poll_one(cli[i].fd, POLLOUT, STALL_MS));
		ASSERT_EQ(0, sock_error(cli[i].fd));
	}

	/* all at once: every end of every connection is established */
	est_lines = table_count(CFTCP_ESTABLISHED);
	est = counter("CurrEstab");
	TH_LOG("ESTABLISHED lines: %u, CurrEstab %lld -> %lld", est_lines,
	       est0, est);
	EXPECT_EQ(2 * r->n, est_lines);
	EXPECT_EQ(est0 + 2 * r->n, est);
	EXPECT_EQ(act0 + r->n, counter("ActiveOpens"));
	EXPECT_EQ(pas0 + r->n, counter("PassiveOpens"));

	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(self->ep, 0);
	for (i = 0; i < 2 * r->n; i++)
		ASSERT_EQ(0, ep_set(self->ep, EPOLL_CTL_ADD, &r->ends[i],
				    end_events(&r->ends[i], r->size)));

	while (r->finished < 2 * r->n) {
		n = epoll_wait(self->ep, evs, 64, 1000);
		ASSERT_GE(n, 0) TH_LOG("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++)
			ASSERT_EQ(0, end_step(r, self->ep, evs[k].data.ptr,
					      evs[k].events))
				TH_LOG("%s", r->err);
		if (r->finished != last_finished || n) {
			last_finished = r->finished;
			idle_ms = 0;
			continue;
		}
		idle_ms += 1000;
		ASSERT_LT(idle_ms, STALL_MS)
			TH_LOG("no progress: %u of %u ends done", r->finished,
			       2 * r->n);
	}

	/* the clients closed first: TIME_WAIT there, nothing left here */
	for (i = 0; i < 2 * r->n; i++) {
		close(r->ends[i].fd);
		r->ends[i].fd = -1;
	}
	for (k = 0; k < STALL_MS / 100; k++) {
		if (table_count(CFTCP_TIME_WAIT) == tw0 + (int)r->n &&
		    table_count(CFTCP_LAST_ACK) == 0 &&
		    table_count(CFTCP_ESTABLISHED) == 0)
			break;
		msleep(100);
	}
	EXPECT_EQ(tw0 + (int)r->n, table_count(CFTCP_TIME_WAIT));
	EXPECT_EQ(0, table_count(CFTCP_ESTABLISHED));
	EXPECT_EQ(0, table_count(CFTCP_CLOSE_WAIT));
	EXPECT_EQ(0, table_count(CFTCP_LAST_ACK));
	EXPECT_EQ(0, table_count(CFTCP_FIN_WAIT1));
	EXPECT_EQ(0, table_count(CFTCP_FIN_WAIT2));
	EXPECT_EQ(rst0, counter("EstabResets"));
	EXPECT_EQ(est0, counter("CurrEstab"));
}

TEST_HARNESS_MAIN

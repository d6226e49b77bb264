// SPDX-License-Identifier: GPL-2.0
/*
 * The reliable stream as a user sees it, over loopback: the receive and
 * send calls and their flags (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT), the
 * SO_RCVLOWAT, SO_RCVTIMEO and SO_SNDTIMEO options, FIONREAD/SIOCINQ and
 * SIOCOUTQ, readv/writev, the poll mask in each state, the connection
 * statistics of CFTCP_INFO (TCP_INFO in the TCP build), buffers that grow
 * with a fast transfer unless the user set them, a receiver that
 * stops reading (closed window, probes backing off, completion when reading
 * resumes, also after small writes), retransmission backoff ending in
 * ETIMEDOUT when every packet is lost, and keepalive finding a silent peer.
 *
 * Packet loss comes from tc netem on the namespace's loopback; the tests
 * that need it skip when netem is missing.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>
#ifndef TEST_CFTCP
#include <linux/tcp.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/sendfile.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

/* Byte @i of the test pattern: position-dependent, period 251 * 256. */
static unsigned char pat(unsigned long long i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static void pat_fill(unsigned char *buf, unsigned long long off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(off + i);
}

/* Index of the first byte of @buf that is not pattern byte @off + i, or -1. */
static long pat_check(const unsigned char *buf, unsigned long long off,
		      size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pat(off + i))
			return i;
	return -1;
}

/* Read @fd to end of stream into @buf, at most @len bytes; the count. */
static long long drain_into(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = recv(fd, buf + got, len - got, 0)) > 0)
		got += n;
	return got;
}

/* Send @len pattern bytes from offset @off, all of them (blocking). */
static int send_pat(int fd, unsigned long long off, size_t len)
{
	static unsigned char buf[65536];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t w;

		pat_fill(buf, off, n);
		w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		off += w;
		len -= w;
	}
	return 0;
}

/*
 * Read until end of stream, checking the pattern from offset @off. Returns
 * the byte count, or -1 on an error, a stall of WAIT_MS or a wrong byte.
 */
static long long recv_pat(int fd, unsigned long long off)
{
	static unsigned char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long total = 0;
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return total;
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			return -1;
		}
		if (pat_check(buf, off + total, n) >= 0)
			return -1;
		total += n;
	}
}

/* Read @fd to end of stream; the byte count, or -1 (error, stall). */
static long long read_all(int fd)
{
	static char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long total = 0;
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return total;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0)
			total += n;
	}
}

static int ioctl_int(int fd, unsigned long req)
{
	int v = -1;

	if (ioctl(fd, req, &v))
		return -1;
	return v;
}

/* Poll @fd once, without waiting; the revents. */
static short poll_now(int fd)
{
	struct pollfd p = {
		.fd = fd,
		.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI,
	};

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* Wait up to @ms for any of @events on @fd; the revents (0 if none). */
static short poll_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return p.revents;
}

#define PMASK	(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR)

static const char *pmask_str(short m)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s",
		 m & POLLIN ? " IN" : "", m & POLLOUT ? " OUT" : "",
		 m & POLLRDHUP ? " RDHUP" : "", m & POLLHUP ? " HUP" : "",
		 m & POLLERR ? " ERR" : "", m ? "" : " (none)");
	return buf;
}

/* The statistics both families report, from CFTCP_INFO or TCP_INFO. */
struct conn_info {
	int state;
	int retransmits;
	unsigned int rto_us;
	unsigned int snd_mss;
	unsigned int rcv_mss;
	unsigned int total_retrans;
	unsigned long long bytes_acked;
	unsigned long long bytes_received;
	unsigned long long segs_in;
	unsigned long long segs_out;
};

static int get_info(int fd, struct conn_info *ci)
{
#ifdef TEST_CFTCP
	struct cftcp_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0, sizeof(i));
	if (getsockopt(fd, SOL_CFTCP, CFTCP_INFO, &i, &len))
		return -1;
	if (len != sizeof(i))
		return -1;
	ci->state = i.cfi_state;
	ci->retransmits = i.cfi_retransmits;
	ci->rto_us = i.cfi_rto;
	ci->snd_mss = i.cfi_snd_mss;
	ci->rcv_mss = i.cfi_rcv_mss;
	ci->total_retrans = i.cfi_total_retrans;
	ci->bytes_acked = i.cfi_bytes_acked;
	ci->bytes_received = i.cfi_bytes_received;
	ci->segs_in = i.cfi_segs_in;
	ci->segs_out = i.cfi_segs_out;
#else
	struct tcp_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0, sizeof(i));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i, &len))
		return -1;
	ci->state = i.tcpi_state;
	ci->retransmits = i.tcpi_retransmits;
	ci->rto_us = i.tcpi_rto;
	ci->snd_mss = i.tcpi_snd_mss;
	ci->rcv_mss = i.tcpi_rcv_mss;
	ci->total_retrans = i.tcpi_total_retrans;
	ci->bytes_acked = i.tcpi_bytes_acked;
	ci->bytes_received = i.tcpi_bytes_received;
	ci->segs_in = i.tcpi_segs_in;
	ci->segs_out = i.tcpi_segs_out;
#endif
	return 0;
}

/* Field @col (1-based, whitespace separated) of the table line of a pair. */
static long proc_field(uint16_t lport, uint16_t rport, int col)
{
	char line[512], *tok, *save;
	int i;

	if (proc_line(lport, rport, line, sizeof(line), PROC_NET) < 0)
		return -1;
	tok = strtok_r(line, " \n", &save);
	for (i = 1; tok && i < col; i++)
		tok = strtok_r(NULL, " \n", &save);
	if (!tok)
		return -1;
	return strtol(tok, NULL, 16);
}

/* Timer kind of a connection: the "tr" in column 6, "tr:tm->when". */
static int proc_timer(uint16_t lport, uint16_t rport)
{
	return proc_field(lport, rport, 6);
}

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

static int set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/*
 * Pattern bytes from offset 0 into @fd, without blocking, @chunk bytes a
 * call, until the send buffer stays full for 500 ms: the peer, not
 * reading, has closed its window. The byte count in *total.
 */
static int fill_pat(int fd, size_t chunk, long long *total)
{
	static unsigned char buf[65536];
	ssize_t n;

	if (chunk > sizeof(buf) || set_nonblock(fd, 1))
		return -1;
	for (*total = 0;;) {
		pat_fill(buf, *total, chunk);
		n = send(fd, buf, chunk, MSG_NOSIGNAL);
		if (n > 0) {
			*total += n;
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		/* full: wait for the ACKs that free room, if any come */
		if (!(poll_wait(fd, POLLOUT, 500) & POLLOUT))
			return 0;
	}
}

/*
 * Wait up to WAIT_MS for the peer to acknowledge everything written on
 * @fd; SIOCOUTQ then.
 */
static int wait_outq_empty(int fd)
{
	int outq = -1, i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		outq = ioctl_int(fd, SIOCOUTQ);
		if (!outq)
			break;
		msleep(10);
	}
	return outq;
}

/* Wait up to WAIT_MS for timer kind @tr on a connection; the kind seen. */
static int wait_timer(uint16_t lport, uint16_t rport, int tr)
{
	int seen = -1, i;

	for (i = 0; i < WAIT_MS / 50; i++) {
		seen = proc_timer(lport, rport);
		if (seen == tr)
			break;
		msleep(50);
	}
	return seen;
}

/* ---- A connected pair ------------------------------------------------- */

FIXTURE(pair) {
	int c, s;		/* client, accepted end */
	uint16_t cp, sp;
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, connect_pair(&self->c, &self->s, NULL))
		TH_LOG("connect_pair: %s", strerror(errno));
	self->cp = local_port(self->c);
	self->sp = local_port(self->s);
}

FIXTURE_TEARDOWN(pair)
{
	if (self->c >= 0)
		close(self->c);
	if (self->s >= 0)
		close(self->s);
}

/*
 * Delayed ACKs in request/response (Linux's pingpong mode): the first
 * data each end receives is acknowledged at once (quickack), but once an
 * end answered within the delayed-ACK time of receiving, the ACK of each
 * request or response rides on the answer. Twenty 1-byte exchanges: each
 * end sends its twenty segments of data and the ACK of the first data it
 * received; a pure ACK more per end is allowed for a scheduling hiccup of
 * over 40 ms, where the delayed ACK goes alone.
 */
TEST_F(pair, request_response_acks)
{
	struct conn_info c0, s0, c1, s1;
	char b = 'q';
	int i;

	ASSERT_EQ(0, get_info(self->c, &c0));
	ASSERT_EQ(0, get_info(self->s, &s0));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(1, send(self->c, &b, 1, 0));
		ASSERT_EQ(1, recv(self->s, &b, 1, 0));
		ASSERT_EQ(1, send(self->s, &b, 1, 0));
		ASSERT_EQ(1, recv(self->c, &b, 1, 0));
	}
	ASSERT_EQ(0, get_info(self->c, &c1));
	ASSERT_EQ(0, get_info(self->s, &s1));
	TH_LOG("segments out: client %llu, server %llu",
	       c1.segs_out - c0.segs_out, s1.segs_out - s0.segs_out);
	EXPECT_LE(c1.segs_out - c0.segs_out, 20 + 1 + 1);
	EXPECT_LE(s1.segs_out - s0.segs_out, 20 + 1 + 1);
	EXPECT_GE(c1.segs_out - c0.segs_out, 20);
	EXPECT_GE(s1.segs_out - s0.segs_out, 20);
}

/*
 * The same with a server that thinks 20 ms before each answer: the
 * delayed-ACK timer of one request must not fire early for the next one
 * (40 ms after the first data the ACK owed covers, not after the previous
 * request), so each request's ACK still rides on its answer.
 */
TEST_F(pair, request_response_think_time)
{
	struct conn_info s0, s1;
	char b = 'q';
	int i;

	ASSERT_EQ(0, get_info(self->s, &s0));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(1, send(self->c, &b, 1, 0));
		ASSERT_EQ(1, recv(self->s, &b, 1, 0));
		msleep(20);
		ASSERT_EQ(1, send(self->s, &b, 1, 0));
		ASSERT_EQ(1, recv(self->c, &b, 1, 0));
	}
	ASSERT_EQ(0, get_info(self->s, &s1));
	TH_LOG("server segments out: %llu", s1.segs_out - s0.segs_out);
	EXPECT_LE(s1.segs_out - s0.segs_out, 20 + 1 + 2);
}

/* MSG_PEEK leaves the data queued; FIONREAD and SIOCINQ count it. */
TEST_F(pair, peek_and_inq)
{
	char buf[64];

	ASSERT_EQ(11, send(self->c, "hello world", 11, 0));
	ASSERT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS) & POLLIN);
	/* everything sent in one call arrives in one segment on loopback */
	EXPECT_EQ(11, ioctl_int(self->s, FIONREAD));
	EXPECT_EQ(11, ioctl_int(self->s, SIOCINQ));

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->s, buf, 5, MSG_PEEK));
	EXPECT_STREQ("hello", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(11, recv(self->s, buf, sizeof(buf), MSG_PEEK));
	EXPECT_STREQ("hello world", buf);
	EXPECT_EQ(11, ioctl_int(self->s, SIOCINQ));

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(6, recv(self->s, buf, 6, 0));
	EXPECT_STREQ("hello ", buf);
	EXPECT_EQ(5, ioctl_int(self->s, SIOCINQ));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->s, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_STREQ("world", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_STREQ("world", buf);
	EXPECT_EQ(0, ioctl_int(self->s, SIOCINQ));

	/* nothing left: MSG_DONTWAIT does not wait */
	EXPECT_EQ(-1, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(self->s, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, wait_outq_empty(self->c));
}

/* MSG_WAITALL returns only with the full count, across several sends. */
TEST_F(pair, waitall)
{
	static unsigned char buf[300000];
	const int chunks = 6, chunk = sizeof(buf) / 6;
	pid_t pid;
	int st, i;
	ssize_t n;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		for (i = 0; i < chunks; i++) {
			if (send_pat(self->c, (unsigned long long)i * chunk,
				     chunk))
				_exit(1);
			msleep(50);
		}
		_exit(0);
	}
	n = recv(self->s, buf, sizeof(buf), MSG_WAITALL);
	EXPECT_EQ((ssize_t)sizeof(buf), n) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(-1, pat_check(buf, 0, n > 0 ? n : 0));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);

	/* at the end of the stream, MSG_WAITALL returns what there is */
	ASSERT_EQ(10, send(self->c, "0123456789", 10, 0));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	n = recv(self->s, buf, 100, MSG_WAITALL);
	EXPECT_EQ(10, n);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(0, recv(self->s, buf, 100, MSG_WAITALL));
}

/* readv and writev: the iovecs are filled and drained in order. */
TEST_F(pair, readv_writev)
{
	char a[] = "first-", b[] = "second-", c[] = "third";
	char r1[9], r2[64];
	struct iovec wv[3] = {
		{ a, strlen(a) }, { b, strlen(b) }, { c, strlen(c) },
	};
	struct iovec rv[2] = { { r1, sizeof(r1) }, { r2, sizeof(r2) } };
	ssize_t n;

	ASSERT_EQ(18, writev(self->c, wv, 3));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS) & POLLIN);
	memset(r2, 0, sizeof(r2));
	n = readv(self->s, rv, 2);
	ASSERT_EQ(18, n);
	EXPECT_EQ(0, memcmp(r1, "first-sec", 9));
	EXPECT_STREQ("ond-third", r2);
	EXPECT_EQ(0, readv(self->s, rv, 2));
}

/*
 * SO_RCVLOWAT: not readable below the mark, readable at it; a blocking recv
 * sleeps until the mark is reached.
 */
TEST_F(pair, rcvlowat)
{
	char buf[256];
	pid_t pid;
	int st, i;

	ASSERT_EQ(0, set_int(self->s, SOL_SOCKET, SO_RCVLOWAT, 100));
	memset(buf, 'l', sizeof(buf));
	ASSERT_EQ(50, send(self->c, buf, 50, 0));
	/* the 50 bytes are there, but poll does not call them readable */
	for (i = 0; i < WAIT_MS / 10 && ioctl_int(self->s, SIOCINQ) < 50; i++)
		msleep(10);
	ASSERT_EQ(50, ioctl_int(self->s, SIOCINQ));
	EXPECT_EQ(0, poll_wait(self->s, POLLIN, 500));
	ASSERT_EQ(60, send(self->c, buf, 60, 0));
	EXPECT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS));
	EXPECT_EQ(110, recv(self->s, buf, sizeof(buf), 0));

	/* nothing queued: recv returns only once 100 bytes are in */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		msleep(300);
		if (send(self->c, buf, 40, 0) != 40)
			_exit(1);
		msleep(300);
		_exit(send(self->c, buf, 80, 0) == 80 ? 0 : 1);
	}
	EXPECT_EQ(120, recv(self->s, buf, sizeof(buf), 0));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
}

/* SO_RCVTIMEO and SO_SNDTIMEO: EAGAIN once the time runs out. */
TEST_F(pair, rcvtimeo_sndtimeo)
{
	long long total;
	char buf[4096];

	ASSERT_EQ(0, set_timeo(self->s, SO_RCVTIMEO, 200));
	EXPECT_EQ(-1, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);

	/* fill the send buffer while the peer does not read */
	ASSERT_EQ(0, fill_until_stuck(self->c, self->s, &total));
	ASSERT_EQ(0, set_timeo(self->c, SO_SNDTIMEO, 200));
	EXPECT_EQ(-1, send(self->c, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, send(self->c, buf, sizeof(buf),
			   MSG_NOSIGNAL | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll_now(self->c) & POLLOUT);

	/* the data is still all there */
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(total, read_all(self->s));
}

/*
 * A receiver that stops reading: the sender fills the window, gets EAGAIN
 * without blocking and blocks otherwise, probes the closed window (timer
 * kind 4 in the table, segments keep going out and coming back), and
 * everything arrives intact once reading resumes.
 */
TEST_F_TIMEOUT(pair, zero_window, 60)
{
	struct conn_info ci0, ci1, si0, si1;
	long long total, got;
	socklen_t len = sizeof(int);
	int st, i, sndbuf;
	size_t more;
	pid_t pid;

	ASSERT_EQ(0, fill_pat(self->c, 65536, &total))
		TH_LOG("send: %s", strerror(errno));
	TH_LOG("%lld bytes queued before EAGAIN", total);
	EXPECT_EQ(0, poll_now(self->c) & POLLOUT);
	EXPECT_GT(ioctl_int(self->c, SIOCOUTQ), 0);

	/* the sender waits on the probe timer (tr 4) and probes */
	EXPECT_EQ(4, wait_timer(self->cp, self->sp, 4));
	ASSERT_EQ(0, get_info(self->c, &ci0));
	ASSERT_EQ(0, get_info(self->s, &si0));
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, get_info(self->c, &ci1));
		ASSERT_EQ(0, get_info(self->s, &si1));
		if (ci1.segs_out >= ci0.segs_out + 2 &&
		    si1.segs_out >= si0.segs_out + 2)
			break;
		msleep(50);
	}
	TH_LOG("probes: sender segs_out %llu -> %llu, receiver segs_in %llu -> %llu, out %llu -> %llu",
	       ci0.segs_out, ci1.segs_out, si0.segs_in, si1.segs_in,
	       si0.segs_out, si1.segs_out);
	EXPECT_GE(ci1.segs_out, ci0.segs_out + 2);
	EXPECT_GE(si1.segs_in, si0.segs_in + 2);
	EXPECT_GE(si1.segs_out, si0.segs_out + 2);
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(self->cp, self->sp));
	EXPECT_EQ(0, sock_error(self->c));

	/* a blocking sender waits for room: it sends the rest, then ends;
	 * twice the send buffer cannot fit in what is left of it
	 */
	ASSERT_EQ(0, getsockopt(self->c, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len));
	more = 2 * (size_t)sndbuf;
	ASSERT_EQ(0, set_nonblock(self->c, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (send_pat(self->c, total, more))
			_exit(1);
		_exit(shutdown(self->c, SHUT_WR) ? 2 : 0);
	}
	msleep(300);
	EXPECT_EQ(0, waitpid(pid, &st, WNOHANG));

	/* reading resumes: everything arrives, in order */
	got = recv_pat(self->s, 0);
	EXPECT_EQ(total + (long long)more, got);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	/* the last ACK may still be on its way when the reader sees EOF */
	EXPECT_EQ(0, wait_outq_empty(self->c));
}

/*
 * Probes of a window that stays closed back off: each waits twice as long
 * as the one before (up to the RTO ceiling), so 8 s see only a handful of
 * them, where probing at a fixed interval of RTO or 200 ms would send 20
 * or more. Slowness can only lower the count.
 */
TEST_F_TIMEOUT(pair, zero_window_probe_backoff, 60)
{
	struct conn_info c0, c1, s0, s1;
	long long total;

	ASSERT_EQ(0, fill_pat(self->c, 65536, &total));
	ASSERT_EQ(4, wait_timer(self->cp, self->sp, 4));
	ASSERT_EQ(0, get_info(self->c, &c0));
	ASSERT_EQ(0, get_info(self->s, &s0));
	msleep(8000);
	ASSERT_EQ(0, get_info(self->c, &c1));
	ASSERT_EQ(0, get_info(self->s, &s1));
	TH_LOG("8 s of a closed window: %llu probes out, %llu answers",
	       c1.segs_out - c0.segs_out, s1.segs_out - s0.segs_out);
	EXPECT_GE(c1.segs_out - c0.segs_out, 2);
	EXPECT_LE(c1.segs_out - c0.segs_out, 8);
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(self->cp, self->sp));

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(total, recv_pat(self->s, 0));
}

/*
 * Small writes into a window the reader lets close: however the data is
 * cut into segments, the sender ends up probing a closed window (timer 4),
 * not retransmitting with a growing timeout into a window that is open on
 * paper only, and all arrives once reading resumes.
 */
TEST_F_TIMEOUT(pair, zero_window_small_writes, 60)
{
	long long total, rtx0 = counter("RetransSegs");
	struct conn_info ci;

	ASSERT_GE(rtx0, 0);
	ASSERT_EQ(0, fill_pat(self->c, 1000, &total))
		TH_LOG("send: %s", strerror(errno));
	EXPECT_EQ(4, wait_timer(self->cp, self->sp, 4));
	ASSERT_EQ(0, get_info(self->c, &ci));
	TH_LOG("%lld bytes queued; %u segments retransmitted, %d in a row now, RetransSegs +%lld",
	       total, ci.total_retrans, ci.retransmits,
	       counter("RetransSegs") - rtx0);
	EXPECT_EQ(0, ci.retransmits);
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(total, recv_pat(self->s, 0));
}

/*
 * SIOCOUTQ counts what the peer has not acknowledged and SIOCINQ what the
 * reader has not taken: with the peer's window closed, each byte written
 * is in one or the other.
 */
TEST_F(pair, inq_outq)
{
	long long total;
	int outq, inq, i;

	EXPECT_EQ(0, ioctl_int(self->c, SIOCOUTQ));
	EXPECT_EQ(0, ioctl_int(self->c, SIOCINQ));
	ASSERT_EQ(0, fill_until_stuck(self->c, self->s, &total));
	outq = ioctl_int(self->c, SIOCOUTQ);
	inq = ioctl_int(self->s, SIOCINQ);
	TH_LOG("%lld written: SIOCOUTQ %d, SIOCINQ %d", total, outq, inq);
	EXPECT_GT(outq, 0);
	EXPECT_GT(inq, 0);
	EXPECT_EQ(total, (long long)outq + inq);

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(total, read_all(self->s));
	for (i = 0; i < WAIT_MS / 10 && ioctl_int(self->c, SIOCOUTQ); i++)
		msleep(10);
	EXPECT_EQ(0, ioctl_int(self->c, SIOCOUTQ));
	EXPECT_EQ(0, ioctl_int(self->s, SIOCINQ));
}

/* Statistics after a transfer both ways. */
TEST_F(pair, info_after_transfer)
{
	const size_t up = 1 << 20, down = 256 << 10;
	struct conn_info ci, si;
	pid_t up_pid, down_pid;
	int st;

	/* each direction by its own writer, so that neither waits for us */
	up_pid = fork();
	ASSERT_GE(up_pid, 0);
	if (!up_pid)
		_exit(send_pat(self->c, 0, up) || shutdown(self->c, SHUT_WR));
	down_pid = fork();
	ASSERT_GE(down_pid, 0);
	if (!down_pid)
		_exit(send_pat(self->s, 0, down) || shutdown(self->s, SHUT_WR));
	EXPECT_EQ((long long)up, recv_pat(self->s, 0));
	EXPECT_EQ((long long)down, recv_pat(self->c, 0));
	ASSERT_EQ(up_pid, waitpid(up_pid, &st, 0));
	EXPECT_EQ(0, st);
	ASSERT_EQ(down_pid, waitpid(down_pid, &st, 0));
	EXPECT_EQ(0, st);

	/* both FINs are in: the client is in TIME_WAIT's socket state */
	ASSERT_EQ(0, get_info(self->c, &ci));
	ASSERT_EQ(0, get_info(self->s, &si));
	TH_LOG("client: state %d rto %u us mss %u/%u acked %llu received %llu segs %llu in %llu out",
	       ci.state, ci.rto_us, ci.snd_mss, ci.rcv_mss, ci.bytes_acked,
	       ci.bytes_received, ci.segs_in, ci.segs_out);
	TH_LOG("server: state %d rto %u us mss %u/%u acked %llu received %llu segs %llu in %llu out",
	       si.state, si.rto_us, si.snd_mss, si.rcv_mss, si.bytes_acked,
	       si.bytes_received, si.segs_in, si.segs_out);
	EXPECT_GT(ci.rto_us, 0);
	EXPECT_GT(si.rto_us, 0);
	EXPECT_GT(ci.snd_mss, 0);
	EXPECT_GT(ci.rcv_mss, 0);
	EXPECT_GT(si.snd_mss, 0);
	EXPECT_GT(si.rcv_mss, 0);
	/* each byte acknowledged and received once (the FIN may count) */
	EXPECT_GE(ci.bytes_acked, up);
	EXPECT_LE(ci.bytes_acked, up + 2);
	EXPECT_GE(si.bytes_received, up);
	EXPECT_LE(si.bytes_received, up + 1);
	EXPECT_GE(si.bytes_acked, down);
	EXPECT_LE(si.bytes_acked, down + 2);
	EXPECT_GE(ci.bytes_received, down);
	EXPECT_LE(ci.bytes_received, down + 1);
	/* at least one segment per MSS-sized piece went out */
	EXPECT_GE(ci.segs_out, up / ci.snd_mss);
	EXPECT_GE(si.segs_in, up / ci.snd_mss);
	EXPECT_GE(si.segs_out, down / si.snd_mss);
	EXPECT_GE(ci.segs_in, down / si.snd_mss);
}

static int sockopt_int(int fd, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_SOCKET, name, &v, &len))
		return -1;
	return v;
}

/*
 * 16 MiB through a reader that keeps up: the receiver's buffer grows
 * with what it reads per round trip, the sender's with the window it was
 * offered (autotuning); a buffer the user set stays as set.
 */
static void autotune_case(struct __test_metadata *_metadata, int c, int s,
			  int user_set)
{
	const size_t len = 16 << 20;
	int rcv0, snd0, st;
	pid_t pid;

	if (user_set) {
		int v = 256 << 10;

		ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	}
	/* a new socket's, or the user's */
	if (user_set) {
		rcv0 = sockopt_int(s, SO_RCVBUF);
		snd0 = sockopt_int(c, SO_SNDBUF);
	} else {
		int fd = sock_new(0);

		ASSERT_GE(fd, 0);
		rcv0 = sockopt_int(fd, SO_RCVBUF);
		snd0 = sockopt_int(fd, SO_SNDBUF);
		close(fd);
	}
	ASSERT_GT(rcv0, 0);
	ASSERT_GT(snd0, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(send_pat(c, 0, len) || shutdown(c, SHUT_WR));
	EXPECT_EQ((long long)len, recv_pat(s, 0));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	TH_LOG("SO_RCVBUF %d -> %d, SO_SNDBUF %d -> %d", rcv0,
	       sockopt_int(s, SO_RCVBUF), snd0, sockopt_int(c, SO_SNDBUF));
	if (user_set) {
		EXPECT_EQ(rcv0, sockopt_int(s, SO_RCVBUF));
		EXPECT_EQ(snd0, sockopt_int(c, SO_SNDBUF));
	} else {
		EXPECT_GT(sockopt_int(s, SO_RCVBUF), rcv0);
		EXPECT_GT(sockopt_int(c, SO_SNDBUF), snd0);
	}
}

TEST_F(pair, buffers_autotune)
{
	autotune_case(_metadata, self->c, self->s, 0);
}

TEST_F(pair, buffers_user_set_stay)
{
	autotune_case(_metadata, self->c, self->s, 1);
}

/*
 * A socket disconnected with connect(AF_UNSPEC) and connected again
 * measures its reader afresh: its first small read leaves SO_RCVBUF where
 * the last connection left it (the new sequence numbers are not compared
 * with the old). The first connection fills the reader's window, is read
 * once and fills it again: the receiver then has a round-trip sample and a
 * measure running, and its buffer has not grown yet.
 */
TEST(buffers_reconnect_fresh)
{
	static char buf[1 << 20];
	int l, c, s, rcv1, fl;
	struct taddr a, none;
	long long total;
	char ch;

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_GE(l, 0);
	c = sock_new(0);
	ASSERT_GE(c, 0);
	ASSERT_EQ(0, connect(c, &a.sa, TADDR_LEN));
	s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	ASSERT_EQ(0, fill_until_stuck(s, c, &total));
	ASSERT_GT(recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0);
	/* what the sender still held flows into the window just opened */
	fl = fcntl(s, F_GETFL);
	ASSERT_EQ(0, fcntl(s, F_SETFL, fl | O_NONBLOCK));
	while (send(s, buf, 16384, MSG_NOSIGNAL) > 0)
		;
	msleep(300);
	close(s);

	memset(&none, 0, sizeof(none));
	none.sa.sa_family = AF_UNSPEC;
	ASSERT_EQ(0, connect(c, &none.sa, sizeof(none.sa)));
	rcv1 = sockopt_int(c, SO_RCVBUF);
	TH_LOG("SO_RCVBUF after the first connection: %d", rcv1);
	ASSERT_GT(rcv1, 0);
	ASSERT_LT(rcv1, 6 << 20);

	ASSERT_EQ(0, connect(c, &a.sa, TADDR_LEN));
	s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	/* longer than any round trip the first connection measured */
	msleep(2000);
	ASSERT_EQ(1, send(s, "x", 1, 0));
	ASSERT_EQ(POLLIN, poll_wait(c, POLLIN, WAIT_MS) & POLLIN);
	ASSERT_EQ(1, recv(c, &ch, 1, 0));
	EXPECT_EQ(rcv1, sockopt_int(c, SO_RCVBUF));
	close(s);
	close(c);
	close(l);
}

/*
 * sendfile() of a 16 MiB file from an offset inside its first page: the
 * file's pages join the send queue (sendpage) and arrive intact.
 */
TEST_F(pair, sendfile_16m)
{
	const size_t len = (16 << 20) + 123, start = 1000;
	static unsigned char buf[65536];
	int fd, st;
	size_t off;
	pid_t pid;

	fd = memfd_create("sendfile", 0);
	ASSERT_GE(fd, 0);
	for (off = 0; off < len; off += sizeof(buf)) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		pat_fill(buf, off, n);
		ASSERT_EQ((ssize_t)n, pwrite(fd, buf, n, off));
	}
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		off_t pos = start;

		while ((size_t)pos < len)
			if (sendfile(self->c, fd, &pos, len - pos) <= 0)
				_exit(1);
		_exit(shutdown(self->c, SHUT_WR));
	}
	EXPECT_EQ((long long)(len - start), recv_pat(self->s, start));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	close(fd);
}

/*
 * sendfile() queues the file's pages, not a copy of them (sendpage): a
 * page written again before the peer reads it is read as written then,
 * as over Linux TCP on loopback (a detail of zero copy: a receiver that
 * copied the skb, under memory pressure, would read the first bytes).
 */
TEST_F(pair, sendfile_sends_pages)
{
	char page[4096], got[4096];
	off_t pos = 0;
	int fd;

	fd = memfd_create("sendpage", 0);
	ASSERT_GE(fd, 0);
	memset(page, 'a', sizeof(page));
	ASSERT_EQ((ssize_t)sizeof(page), pwrite(fd, page, sizeof(page), 0));
	ASSERT_EQ((ssize_t)sizeof(page),
		  sendfile(self->c, fd, &pos, sizeof(page)));
	ASSERT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS) & POLLIN);
	memset(page, 'b', sizeof(page));
	ASSERT_EQ((ssize_t)sizeof(page), pwrite(fd, page, sizeof(page), 0));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ((long long)sizeof(got), drain_into(self->s, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, page, sizeof(got)));
	close(fd);
}

/*
 * sendfile() asked for more than the file holds: what the file had
 * arrives without a write, shutdown or close behind it.
 */
TEST_F(pair, sendfile_past_eof_arrives)
{
	char buf[8192];
	off_t pos = 0;
	long long got = 0;
	int fd;

	fd = memfd_create("short", 0);
	ASSERT_GE(fd, 0);
	memset(buf, 'q', 5000);
	ASSERT_EQ(5000, pwrite(fd, buf, 5000, 0));
	ASSERT_EQ(5000, sendfile(self->c, fd, &pos, 1 << 20));
	while (got < 5000) {
		ssize_t n;

		ASSERT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS) & POLLIN);
		n = recv(self->s, buf, sizeof(buf), MSG_DONTWAIT);
		ASSERT_GT(n, 0);
		got += n;
	}
	EXPECT_EQ(5000, got);
	close(fd);
}

/* CFTCP_INFO while established, and the state byte as the table shows it. */
TEST_F(pair, info_established)
{
	struct conn_info ci;
	char c;

	ASSERT_EQ(0, get_info(self->c, &ci));
	EXPECT_EQ(CFTCP_ESTABLISHED, ci.state);
	EXPECT_EQ(proc_state(self->cp, self->sp), ci.state);
	EXPECT_GT(ci.rto_us, 0);
	EXPECT_EQ(0, ci.retransmits);
	EXPECT_EQ(1, send(self->c, "x", 1, 0));
	EXPECT_EQ(1, recv(self->s, &c, 1, 0));
	ASSERT_EQ(0, get_info(self->s, &ci));
	EXPECT_EQ(CFTCP_ESTABLISHED, ci.state);
	EXPECT_EQ(1, ci.bytes_received);
}

/* ---- poll in each state --------------------------------------------- */

#define EXPECT_MASK(want, fd) do {					\
	short _m = poll_now(fd) & PMASK;				\
	EXPECT_EQ((short)(want), _m)					\
		TH_LOG("poll:%s, expected%s", pmask_str(_m),		\
		       pmask_str(want));				\
} while (0)

TEST(poll_unconnected_and_listen)
{
	struct taddr a;
	int fd, l, c, s;

	fd = sock_new(0);
	ASSERT_GE(fd, 0);
	EXPECT_MASK(POLLOUT | POLLHUP, fd);
	close(fd);

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_GE(l, 0);
	EXPECT_MASK(0, l);
	c = sock_new(0);
	ASSERT_GE(c, 0);
	ASSERT_EQ(0, connect(c, &a.sa, TADDR_LEN));
	EXPECT_EQ(POLLIN, poll_wait(l, POLLIN, WAIT_MS));
	EXPECT_MASK(POLLIN, l);
	s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	EXPECT_MASK(0, l);
	close(s);
	close(c);
	close(l);
}

TEST_F(pair, poll_established)
{
	EXPECT_MASK(POLLOUT, self->c);
	EXPECT_MASK(POLLOUT, self->s);
	ASSERT_EQ(3, send(self->c, "abc", 3, 0));
	EXPECT_EQ(POLLIN, poll_wait(self->s, POLLIN, WAIT_MS));
	EXPECT_MASK(POLLIN | POLLOUT, self->s);
}

/* Peer closed: CLOSE_WAIT here, FIN_WAIT2 there; then LAST_ACK/TIME_WAIT. */
TEST_F(pair, poll_close_sequence)
{
	char buf[8];

	ASSERT_EQ(2, send(self->c, "zz", 2, 0));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(CFTCP_CLOSE_WAIT,
		  wait_state(self->sp, self->cp, CFTCP_CLOSE_WAIT, WAIT_MS));
	ASSERT_EQ(CFTCP_FIN_WAIT2,
		  wait_state(self->cp, self->sp, CFTCP_FIN_WAIT2, WAIT_MS));
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP, self->s);
	/* after SHUT_WR, writable (the write would fail) and not readable */
	EXPECT_MASK(POLLOUT, self->c);
	ASSERT_EQ(2, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP, self->s);
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), 0));

	/* data for the half-closed end: readable */
	ASSERT_EQ(1, send(self->s, "y", 1, 0));
	EXPECT_EQ(POLLIN, poll_wait(self->c, POLLIN, WAIT_MS));
	EXPECT_MASK(POLLIN | POLLOUT, self->c);
	ASSERT_EQ(1, recv(self->c, buf, sizeof(buf), 0));

	/* both directions shut: HUP on both ends */
	ASSERT_EQ(0, shutdown(self->s, SHUT_WR));
	ASSERT_EQ(CFTCP_TIME_WAIT,
		  wait_state(self->cp, self->sp, CFTCP_TIME_WAIT, WAIT_MS));
	EXPECT_EQ(-1, wait_state(self->sp, self->cp, -1, WAIT_MS));
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP | POLLHUP, self->c);
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP | POLLHUP, self->s);
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
}

/* A reset: ERR with everything else, then SO_ERROR once, then no ERR. */
TEST_F(pair, poll_after_reset)
{
	struct linger lg = { 1, 0 };
	char buf[8];

	ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close(self->s));
	self->s = -1;
	EXPECT_EQ(POLLERR, poll_wait(self->c, POLLERR, WAIT_MS) & POLLERR);
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR, self->c);
	EXPECT_EQ(ECONNRESET, sock_error(self->c));
	EXPECT_MASK(POLLIN | POLLOUT | POLLRDHUP | POLLHUP, self->c);
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-1, proc_state(self->cp, self->sp));
}

/* ---- Packet loss on loopback ------------------------------------------ */

FIXTURE(lossy) {
	int c, s;
	uint16_t cp, sp;
	bool netem;
	char saved[4][128];	/* sysctl paths */
	long saved_val[4];
	int nsaved;
};

FIXTURE_SETUP(lossy)
{
	self->c = -1;
	self->s = -1;
	self->nsaved = 0;
	self->netem = have_netem();
	if (!self->netem)
		SKIP(return, "tc netem is not available");
	ASSERT_EQ(0, connect_pair(&self->c, &self->s, NULL))
		TH_LOG("connect_pair: %s", strerror(errno));
	self->cp = local_port(self->c);
	self->sp = local_port(self->s);
}

FIXTURE_TEARDOWN(lossy)
{
	char buf[32];
	int i;

	if (self->netem)
		run("tc qdisc del dev lo root");
	for (i = 0; i < self->nsaved; i++) {
		snprintf(buf, sizeof(buf), "%ld", self->saved_val[i]);
		write_str(self->saved[i], buf);
	}
	if (self->c >= 0)
		close(self->c);
	if (self->s >= 0)
		close(self->s);
}

/* Set a sysctl by its cftcp name, restored at teardown; -1: no such one. */
static int lossy_sysctl(FIXTURE_DATA(lossy) *self, const char *name,
			long val)
{
	char buf[32];
	int i = self->nsaved;

	if (i >= 4 || sysctl_path(self->saved[i], sizeof(self->saved[i]),
				  name))
		return -1;
	if (read_long(self->saved[i], &self->saved_val[i]))
		return -1;
	snprintf(buf, sizeof(buf), "%ld", val);
	if (write_str(self->saved[i], buf))
		return -1;
	self->nsaved++;
	return 0;
}

/*
 * Every packet lost after the handshake: the sender retransmits with a
 * growing timeout and gives up after retries2 with ETIMEDOUT, counted in
 * AbortOnTimeout; the connection leaves the table.
 */
TEST_F_TIMEOUT(lossy, retransmit_timeout, 90)
{
	long long aborts, rtx;
	struct conn_info ci0, ci;
	unsigned int rto_max = 0;
	int max_retrans = 0, err, i;
	char buf[1000];
	short ev = 0;

	if (!self->netem)
		SKIP(return, "tc netem is not available");

	/* cftcp: 100 ms floor, 1 s ceiling, 4 retransmissions; TCP: its
	 * 200 ms floor and tcp_retries2 = 4 (31 floors, about 6 s)
	 */
#ifdef TEST_CFTCP
	ASSERT_EQ(0, lossy_sysctl(self, "rto_min_ms", 100));
	ASSERT_EQ(0, lossy_sysctl(self, "rto_max_ms", 1000));
#endif
	ASSERT_EQ(0, lossy_sysctl(self, "retries2", 4));
	/* an RTT sample first, so that the RTO follows the floor */
	ASSERT_EQ(1, send(self->c, "a", 1, 0));
	ASSERT_EQ(1, recv(self->s, buf, 1, 0));
	ASSERT_EQ(0, get_info(self->c, &ci0));
	aborts = counter("AbortOnTimeout");
	rtx = counter("RetransSegs");
	ASSERT_GE(aborts, 0);

	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	memset(buf, 'b', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(self->c, buf, sizeof(buf), 0));

	/* watch the retransmissions back off until the error */
	for (i = 0; i < 60000 / 20; i++) {
		ev = poll_wait(self->c, POLLERR, 20);
		if (ev)
			break;
		if (get_info(self->c, &ci))
			break;
		if (ci.retransmits > max_retrans)
			max_retrans = ci.retransmits;
		if (ci.rto_us > rto_max)
			rto_max = ci.rto_us;
	}
	TH_LOG("rto %u us before the loss, up to %u us; %d retransmissions in a row seen",
	       ci0.rto_us, rto_max, max_retrans);
	EXPECT_EQ(POLLERR, ev & POLLERR);
	EXPECT_GE(max_retrans, 2);
	EXPECT_GE(rto_max, 2 * ci0.rto_us);
	EXPECT_EQ(POLLERR | POLLHUP | POLLIN | POLLOUT | POLLRDHUP,
		  poll_now(self->c) & PMASK);
	err = sock_error(self->c);
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("SO_ERROR %s", strerror(err));
	EXPECT_EQ(-1, send(self->c, "c", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-1, proc_state(self->cp, self->sp));
	EXPECT_EQ(aborts + 1, counter("AbortOnTimeout"));
	EXPECT_GE(counter("RetransSegs"), rtx + 4);
	/* the peer heard nothing of it */
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(self->sp, self->cp));
}

/*
 * A connect whose SYN is lost waits in SYN_SENT, poll reporting nothing;
 * the SYN retransmitted after the loss ends completes it.
 */
TEST_F_TIMEOUT(lossy, poll_syn_sent, 60)
{
	struct taddr a;
	int l, fd;

	if (!self->netem)
		SKIP(return, "tc netem is not available");

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_GE(l, 0);
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	fd = sock_new(SOCK_NONBLOCK);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, connect(fd, &a.sa, TADDR_LEN));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(CFTCP_SYN_SENT, proc_state(local_port(fd), taddr_port(&a)));
	EXPECT_MASK(0, fd);
	EXPECT_EQ(0, poll_wait(fd, POLLIN | POLLOUT, 300));
	ASSERT_EQ(0, run("tc qdisc del dev lo root"));
	EXPECT_EQ(POLLOUT, poll_wait(fd, POLLOUT, WAIT_MS));
	EXPECT_MASK(POLLOUT, fd);
	EXPECT_EQ(0, sock_error(fd));
	EXPECT_EQ(CFTCP_ESTABLISHED, sock_state(fd));
	close(fd);
	close(l);
}

/* The error is reported by recv too, once. */
TEST_F_TIMEOUT(lossy, retransmit_timeout_recv, 90)
{
	char buf[100];

	if (!self->netem)
		SKIP(return, "tc netem is not available");

#ifdef TEST_CFTCP
	ASSERT_EQ(0, lossy_sysctl(self, "rto_min_ms", 20));
	ASSERT_EQ(0, lossy_sysctl(self, "rto_max_ms", 200));
#endif
	ASSERT_EQ(0, lossy_sysctl(self, "retries2", 3));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	ASSERT_EQ(10, send(self->c, buf, 10, 0));
	/* a blocked reader wakes with the error */
	EXPECT_EQ(-1, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, sock_error(self->c));
}

/*
 * Keepalive with 1 s idle, 1 s interval and 2 probes: an answering peer
 * keeps the connection (and answers the probes), a silent one ends it with
 * ETIMEDOUT, counted in AbortOnTimeout.
 */
TEST_F_TIMEOUT(lossy, keepalive, 60)
{
	struct conn_info ci0, ci, si0, si;
	long long aborts;
	int val, i;
	socklen_t len = sizeof(val);
	short ev = 0;

	if (!self->netem)
		SKIP(return, "tc netem is not available");

	ASSERT_EQ(0, set_int(self->c, SOL_SOCKET, SO_KEEPALIVE, 1));
	ASSERT_EQ(0, set_int(self->c, SOL_PROTO, CFTCP_KEEPIDLE, 1));
	ASSERT_EQ(0, set_int(self->c, SOL_PROTO, CFTCP_KEEPINTVL, 1));
	ASSERT_EQ(0, set_int(self->c, SOL_PROTO, CFTCP_KEEPCNT, 2));
	ASSERT_EQ(0, getsockopt(self->c, SOL_PROTO, CFTCP_KEEPCNT, &val, &len));
	EXPECT_EQ(2, val);

	/* an answering peer: probes go out and come back, all stays up */
	ASSERT_EQ(0, get_info(self->c, &ci0));
	ASSERT_EQ(0, get_info(self->s, &si0));
	EXPECT_EQ(2, wait_timer(self->cp, self->sp, 2));
	/* a probe a second once idle: three of them, answered */
	for (i = 0; i < 150; i++) {
		ASSERT_EQ(0, get_info(self->c, &ci));
		ASSERT_EQ(0, get_info(self->s, &si));
		if (ci.segs_out >= ci0.segs_out + 3 &&
		    ci.segs_in >= ci0.segs_in + 3)
			break;
		msleep(100);
	}
	TH_LOG("answered: client segs out %llu -> %llu, in %llu -> %llu",
	       ci0.segs_out, ci.segs_out, ci0.segs_in, ci.segs_in);
	EXPECT_GE(ci.segs_out, ci0.segs_out + 3);
	EXPECT_GE(ci.segs_in, ci0.segs_in + 3);
	EXPECT_GE(si.segs_in, si0.segs_in + 3);
	EXPECT_EQ(CFTCP_ESTABLISHED, ci.state);
	EXPECT_EQ(0, sock_error(self->c));
	EXPECT_MASK(POLLOUT, self->c);

	/* a silent peer */
	aborts = counter("AbortOnTimeout");
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	ev = poll_wait(self->c, POLLERR, 30000);
	EXPECT_EQ(POLLERR, ev & POLLERR);
	EXPECT_EQ(ETIMEDOUT, sock_error(self->c));
	EXPECT_EQ(-1, proc_state(self->cp, self->sp));
	EXPECT_EQ(aborts + 1, counter("AbortOnTimeout"));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Connection set-up and use over 127.0.0.1: handshake and accept4 flags,
 * addresses on both ends, data both ways, half-close, refused connections
 * (blocking and not), non-blocking connect with EINPROGRESS and EALREADY,
 * EPIPE/SIGPIPE and ENOTCONN, what a reset peer leaves, and the state the
 * INFO option reports.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int catch_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	sigpipes = 0;
	return sigaction(SIGPIPE, &sa, NULL);
}

static int same_addr(const struct taddr *a, const struct taddr *b)
{
	return taddr_family(a) == taddr_family(b) &&
	       taddr_ip(a) == taddr_ip(b) && taddr_port(a) == taddr_port(b);
}

TEST(handshake_accept4_addresses)
{
	struct taddr la, cl, cp, sl, sp, from;
	socklen_t len;
	int l, c, s;

	l = listener("127.0.0.1", 0, 4, &la);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	c = sock_new(0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, &la.sa, TADDR_LEN))
		TH_LOG("connect: %s", strerror(errno));
	EXPECT_EQ(CFTCP_ESTABLISHED, sock_state(c));

	len = sizeof(from);
	memset(&from, 0, sizeof(from));
	s = accept4(l, &from.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, s) TH_LOG("accept4: %s", strerror(errno));
	EXPECT_EQ(TADDR_LEN, len);
	EXPECT_EQ(O_NONBLOCK, fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(s, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(CFTCP_ESTABLISHED, sock_state(s));
	EXPECT_EQ(CFTCP_LISTEN, sock_state(l));

	len = sizeof(cl);
	ASSERT_EQ(0, getsockname(c, &cl.sa, &len));
	len = sizeof(cp);
	ASSERT_EQ(0, getpeername(c, &cp.sa, &len));
	len = sizeof(sl);
	ASSERT_EQ(0, getsockname(s, &sl.sa, &len));
	len = sizeof(sp);
	ASSERT_EQ(0, getpeername(s, &sp.sa, &len));
	EXPECT_EQ(FAMILY, taddr_family(&cl));
	EXPECT_TRUE(same_addr(&cl, &sp));
	EXPECT_TRUE(same_addr(&cl, &from));
	EXPECT_TRUE(same_addr(&cp, &sl));
	EXPECT_TRUE(same_addr(&cp, &la));
	EXPECT_NE(0, taddr_port(&cl));
	EXPECT_EQ(0x7f000001, ntohl(taddr_ip(&cl)));

	/* The listener has no peer. */
	len = sizeof(cp);
	EXPECT_EQ(-1, getpeername(l, &cp.sa, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(s);

	/* plain accept: blocking, no close-on-exec */
	ASSERT_EQ(0, close(c));
	c = sock_new(0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, &la.sa, TADDR_LEN));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(s, F_GETFD) & FD_CLOEXEC);
	close(s);
	close(c);
	close(l);
}

TEST(data_both_ways)
{
	char buf[64];
	int c, s;

	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(5, send(c, "ping!", 5, 0));
	ASSERT_EQ(5, recv(s, buf, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "ping!", 5));
	ASSERT_EQ(6, write(s, "pong!!", 6));
	ASSERT_EQ(6, read(c, buf, 6));
	EXPECT_EQ(0, memcmp(buf, "pong!!", 6));
	/* Nothing else is there. */
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(s);
}

/* SHUT_WR: the peer reads end of stream, and can still send back. */
TEST(shutdown_wr_half_close)
{
	char buf[16];
	int c, s;

	ASSERT_EQ(0, catch_sigpipe());
	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(3, send(c, "abc", 3, 0));
	ASSERT_EQ(0, shutdown(c, SHUT_WR)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(3, recv(s, buf, 3, MSG_WAITALL));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  poll_one(s, POLLIN | POLLOUT | POLLRDHUP, WAIT_MS));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, sock_state(s));

	ASSERT_EQ(5, send(s, "after", 5, 0));
	ASSERT_EQ(5, recv(c, buf, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	/* The closed direction stays closed. */
	EXPECT_EQ(-1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, sigpipes);

	close(s);
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	close(c);
}

/*
 * A port nothing listens on answers the SYN with a reset: ECONNREFUSED,
 * one AttemptFails on this side, one OutRsts sent.
 */
TEST(refused_blocking)
{
	long long fails, rsts;
	struct taddr a;
	int c;

	fails = counter("AttemptFails");
	rsts = counter("OutRsts");
	c = sock_new(0);
	ASSERT_LE(0, c) TH_LOG("socket: %s", strerror(errno));
	taddr_set(&a, "127.0.0.1", unused_port());
	EXPECT_EQ(-1, connect(c, &a.sa, TADDR_LEN));
	EXPECT_EQ(ECONNREFUSED, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(CFTCP_CLOSE, sock_state(c));
	EXPECT_EQ(0, sock_error(c));
	EXPECT_EQ(fails + 1, counter("AttemptFails"));
	EXPECT_LE(rsts + 1, counter("OutRsts"));
	/* A refused socket may connect again: to a listener this time. */
	int l = listener("127.0.0.1", 0, 4, &a);

	ASSERT_LE(0, l);
	EXPECT_EQ(0, connect(c, &a.sa, TADDR_LEN)) TH_LOG("%s", strerror(errno));
	close(c);
	close(l);
}

TEST(refused_nonblocking)
{
	struct taddr a;
	short ev;
	int c;

	c = sock_new(SOCK_NONBLOCK);
	ASSERT_LE(0, c) TH_LOG("socket: %s", strerror(errno));
	taddr_set(&a, "127.0.0.1", unused_port());
	ASSERT_EQ(-1, connect(c, &a.sa, TADDR_LEN));
	ASSERT_EQ(EINPROGRESS, errno) TH_LOG("%s", strerror(errno));
	ev = poll_one(c, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev & POLLOUT);
	EXPECT_EQ(POLLERR, ev & POLLERR);
	EXPECT_EQ(POLLHUP, ev & POLLHUP);
	EXPECT_EQ(ECONNREFUSED, sock_error(c));
	/* SO_ERROR is reported once. */
	EXPECT_EQ(0, sock_error(c));
	EXPECT_EQ(CFTCP_CLOSE, sock_state(c));
	close(c);
}

/* EINPROGRESS, then POLLOUT without error; SO_ERROR 0; then EISCONN. */
TEST(nonblocking_connect)
{
	struct taddr a;
	int l, c, s;
	short ev;

	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	c = sock_new(SOCK_NONBLOCK);
	ASSERT_LE(0, c);
	ASSERT_EQ(-1, connect(c, &a.sa, TADDR_LEN));
	ASSERT_EQ(EINPROGRESS, errno) TH_LOG("%s", strerror(errno));
	ev = poll_one(c, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev);
	EXPECT_EQ(0, sock_error(c));
	EXPECT_EQ(CFTCP_ESTABLISHED, sock_state(c));
	/*
	 * The first connect() after completion reports it (0), as Linux's
	 * inet_stream_connect does; later ones EISCONN.
	 */
	EXPECT_EQ(0, connect(c, &a.sa, TADDR_LEN)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, connect(c, &a.sa, TADDR_LEN));
	EXPECT_EQ(EISCONN, errno);
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(2, send(c, "hi", 2, 0));
	close(s);
	close(c);
	close(l);
}

/*
 * While the handshake is pending, connect() again gives EALREADY. The
 * listener's accept queue is full (listen(0) holds one connection), so it
 * drops the second SYN and that connect stays in SYN_SENT.
 */
TEST(connect_in_progress_ealready)
{
	struct taddr a;
	int l, c1, c2;

	l = listener("127.0.0.1", 0, 0, &a);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	c1 = sock_new(0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect(c1, &a.sa, TADDR_LEN)) TH_LOG("%s", strerror(errno));

	c2 = sock_new(SOCK_NONBLOCK);
	ASSERT_LE(0, c2);
	ASSERT_EQ(-1, connect(c2, &a.sa, TADDR_LEN));
	ASSERT_EQ(EINPROGRESS, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(CFTCP_SYN_SENT, sock_state(c2));
	EXPECT_EQ(CFTCP_SYN_SENT, proc_state(local_port(c2), taddr_port(&a)));
	EXPECT_EQ(-1, connect(c2, &a.sa, TADDR_LEN));
	EXPECT_EQ(EALREADY, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, poll_one(c2, POLLOUT | POLLIN, 0));
	EXPECT_EQ(-1, send(c2, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("%s", strerror(errno));
	/* closing a socket in SYN_SENT removes it from the table */
	uint16_t p2 = local_port(c2);

	close(c2);
	EXPECT_EQ(-1, proc_state(p2, taddr_port(&a)));
	close(c1);
	close(l);
}

/* Never connected: send gives EPIPE (with SIGPIPE), recv ENOTCONN. */
TEST(unconnected_send_recv)
{
	struct taddr a;
	char buf[4];
	int fd, l;

	ASSERT_EQ(0, catch_sigpipe());
	fd = sock_new(0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	EXPECT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, shutdown(fd, SHUT_WR));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(POLLOUT | POLLHUP, poll_one(fd, POLLIN | POLLOUT, 0));
	close(fd);

	/* a listener neither sends nor receives */
	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, l);
	EXPECT_EQ(-1, send(l, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, recv(l, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("%s", strerror(errno));
	close(l);
}

/*
 * The peer resets (SO_LINGER {1, 0}): the error is reported once
 * (ECONNRESET), then writes give EPIPE and raise SIGPIPE unless
 * MSG_NOSIGNAL, and reads give end of stream.
 */
TEST(send_after_peer_reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long resets;
	char buf[4];
	short ev;
	int c, s;

	ASSERT_EQ(0, catch_sigpipe());
	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	resets = counter("EstabResets");
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(s));

	ev = poll_one(c, POLLIN | POLLOUT | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(POLLERR, ev & POLLERR);
	EXPECT_EQ(POLLHUP, ev & POLLHUP);
	EXPECT_EQ(CFTCP_CLOSE, sock_state(c));
	EXPECT_EQ(-1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(c, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(resets + 2, counter("EstabResets"));
	close(c);
}

/* A reset while reading: recv gives ECONNRESET once, then 0. */
TEST(recv_after_peer_reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[4];
	int c, s;

	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(s));
	ASSERT_NE(0, poll_one(c, POLLIN, WAIT_MS)) TH_LOG("no reset arrived");
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, sock_error(c));
	close(c);
}

TEST_HARNESS_MAIN

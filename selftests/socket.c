// SPDX-License-Identifier: GPL-2.0
/*
 * Socket creation: which (type, protocol) pairs the family accepts, the
 * SOCK_NONBLOCK and SOCK_CLOEXEC flags, and what SO_TYPE, SO_PROTOCOL,
 * SO_DOMAIN, SO_ACCEPTCONN and the INFO option's state report.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

static int sockopt_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_SOCKET, opt, &val, &len))
		return -errno;
	return val;
}

static void check_identity(struct __test_metadata *_metadata, int fd)
{
	EXPECT_EQ(SOCK_STREAM, sockopt_int(fd, SO_TYPE));
	EXPECT_EQ(PROTO, sockopt_int(fd, SO_PROTOCOL));
	EXPECT_EQ(FAMILY, sockopt_int(fd, SO_DOMAIN));
	EXPECT_EQ(0, sockopt_int(fd, SO_ACCEPTCONN));
	EXPECT_EQ(CFTCP_CLOSE, sock_state(fd));
}

/* socket(FAMILY, SOCK_STREAM, 0) picks the family's one stream protocol. */
TEST(create_default_protocol)
{
	int fd = socket(FAMILY, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("socket(%d, SOCK_STREAM, 0): %s", FAMILY,
				strerror(errno));
	check_identity(_metadata, fd);
	close(fd);
}

TEST(create_explicit_protocol)
{
	int fd = socket(FAMILY, SOCK_STREAM, PROTO);

	ASSERT_LE(0, fd) TH_LOG("socket(%d, SOCK_STREAM, %d): %s", FAMILY,
				PROTO, strerror(errno));
	check_identity(_metadata, fd);
	close(fd);
}

TEST(create_flags)
{
	int fd, nb, cx, fl;

	fd = socket(FAMILY, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	nb = socket(FAMILY, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, nb) TH_LOG("socket(SOCK_NONBLOCK): %s", strerror(errno));
	fl = fcntl(nb, F_GETFL);
	EXPECT_EQ(O_NONBLOCK, fl & O_NONBLOCK);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(0, fcntl(nb, F_GETFD) & FD_CLOEXEC);

	/* The flag is honoured, not just reported: accept does not block. */
	struct taddr a;

	taddr_set(&a, "127.0.0.1", 0);
	ASSERT_EQ(0, bind(nb, &a.sa, TADDR_LEN));
	ASSERT_EQ(0, listen(nb, 1));
	EXPECT_EQ(-1, accept(nb, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(nb);

	cx = socket(FAMILY, SOCK_STREAM | SOCK_CLOEXEC, PROTO);
	ASSERT_LE(0, cx) TH_LOG("socket(SOCK_CLOEXEC): %s", strerror(errno));
	EXPECT_EQ(FD_CLOEXEC, fcntl(cx, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(cx, F_GETFL) & O_NONBLOCK);
	close(cx);

	fd = socket(FAMILY, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(acceptconn_and_state_after_listen)
{
	struct taddr a;
	int fd;

	fd = sock_new(0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	taddr_set(&a, "127.0.0.1", 0);
	ASSERT_EQ(0, bind(fd, &a.sa, TADDR_LEN));
	EXPECT_EQ(0, sockopt_int(fd, SO_ACCEPTCONN));
	EXPECT_EQ(CFTCP_CLOSE, sock_state(fd));
	ASSERT_EQ(0, listen(fd, 4));
	EXPECT_EQ(1, sockopt_int(fd, SO_ACCEPTCONN));
	EXPECT_EQ(CFTCP_LISTEN, sock_state(fd));
	close(fd);
}

/*
 * Non-stream types. The spec gives ESOCKTNOSUPPORT for every other type of
 * AF_CFTCP. Linux TCP cannot be asked the same question: AF_INET datagram
 * and raw sockets exist, so socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP) finds
 * UDP's entry and answers EPROTONOSUPPORT (af_inet.c:inet_create).
 */
TEST(other_type_refused)
{
	int fd;
#ifdef TEST_CFTCP
	static const int types[] = { SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET,
				     SOCK_RDM };
	static const int protos[] = { 0, IPPROTO_CFTCP };
	unsigned int t, p;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		for (p = 0; p < ARRAY_SIZE(protos); p++) {
			errno = 0;
			fd = socket(AF_CFTCP, types[t], protos[p]);
			EXPECT_EQ(-1, fd)
				TH_LOG("type %d protocol %d created",
				       types[t], protos[p]);
			EXPECT_EQ(ESOCKTNOSUPPORT, errno)
				TH_LOG("type %d protocol %d: %s", types[t],
				       protos[p], strerror(errno));
			if (fd >= 0)
				close(fd);
		}
	}
	/* The family itself must exist, or the errors above mean nothing. */
	fd = socket(AF_CFTCP, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket(AF_CFTCP, SOCK_STREAM): %s",
				strerror(errno));
	close(fd);
#else
	errno = 0;
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EPROTONOSUPPORT, errno)
		TH_LOG("socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP): %s",
		       strerror(errno));
	if (fd >= 0)
		close(fd);
#endif
}

/* Another protocol on a stream socket: UDP, and the other build's number. */
TEST(other_protocol_refused)
{
	static const int protos[] = { IPPROTO_UDP, OTHER_PROTO, 200 };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		errno = 0;
		fd = socket(FAMILY, SOCK_STREAM, protos[i]);
		EXPECT_EQ(-1, fd) TH_LOG("protocol %d created", protos[i]);
		EXPECT_EQ(EPROTONOSUPPORT, errno)
			TH_LOG("protocol %d: %s", protos[i], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fd = socket(FAMILY, SOCK_STREAM, PROTO);
	ASSERT_LE(0, fd) TH_LOG("socket(%d, SOCK_STREAM, %d): %s", FAMILY,
				PROTO, strerror(errno));
	close(fd);
}

/* Every socket is a new one: distinct descriptors, independent options. */
TEST(many_sockets)
{
	int fds[64], i, one = 1;
	socklen_t len = sizeof(int);
	int val;

	for (i = 0; i < 64; i++) {
		fds[i] = sock_new(0);
		ASSERT_LE(0, fds[i]) TH_LOG("socket #%d: %s", i, strerror(errno));
	}
	ASSERT_EQ(0, setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)));
	ASSERT_EQ(0, getsockopt(fds[1], SOL_SOCKET, SO_REUSEADDR, &val, &len));
	EXPECT_EQ(0, val);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_HARNESS_MAIN

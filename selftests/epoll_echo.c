// SPDX-License-Identifier: GPL-2.0
/*
 * An epoll-driven, non-blocking echo server with 100 clients at once. The
 * server (a child process) accepts from a level-triggered listener and
 * serves each connection edge-triggered (EPOLLET): it reads until EAGAIN,
 * writes back what it can, keeps the rest and waits for EPOLLOUT, stops
 * reading while its buffer is full, and closes once EPOLLRDHUP or end of
 * stream has come and everything is echoed. The clients, non-blocking in
 * one epoll loop too, connect (EINPROGRESS, then EPOLLOUT and SO_ERROR 0),
 * each send their own byte pattern, end their stream, and check that the
 * echo is exactly what they sent, followed by end of stream.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define CLIENTS		100
#define PER_CLIENT	(96 << 10)	/* bytes each client sends */
#define BUF_SIZE	8192		/* server buffer per connection */
#define STALL_MS	30000

static unsigned char pat(unsigned int idx, unsigned long long off)
{
	unsigned long long x = off * 0x9e3779b1ULL + idx * 0x85ebca6bULL +
			       (off >> 11);

	return (unsigned char)(x ^ (x >> 15));
}

/* ---- The server ------------------------------------------------------- */

struct sconn {
	int fd;
	unsigned char buf[BUF_SIZE];
	size_t head, len;	/* bytes of buf waiting to be echoed */
	bool rdhup, eof;
};

/* Server exit status bits. */
#define SRV_ERR		1	/* a call failed */
#define SRV_NO_RDHUP	2	/* end of stream without (E)POLLRDHUP */

/* Echo what @c holds and read more, until EAGAIN either way. */
static int serve(struct sconn *c)
{
	ssize_t n;

	for (;;) {
		bool progress = false;

		while (c->len) {
			n = send(c->fd, c->buf + c->head, c->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				return -1;
			}
			c->head += n;
			c->len -= n;
			progress = true;
		}
		if (!c->len)
			c->head = 0;
		if (c->eof || c->head + c->len == BUF_SIZE)
			return 0;	/* wait for EPOLLOUT, or done */
		n = recv(c->fd, c->buf + c->head + c->len,
			 BUF_SIZE - c->head - c->len, MSG_DONTWAIT);
		if (n == 0) {
			c->eof = true;
		} else if (n < 0) {
			if (errno != EAGAIN)
				return -1;
		} else {
			c->len += n;
			progress = true;
		}
		if (!progress && !c->eof)
			return 0;
	}
}

static int server(int l, int nconn)
{
	struct epoll_event ev, evs[32];
	int ep, served = 0, status = 0, n, i;

	ep = epoll_create1(0);
	if (ep < 0)
		return SRV_ERR;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev))
		return SRV_ERR;
	while (served < nconn) {
		n = epoll_wait(ep, evs, 32, STALL_MS);
		if (n <= 0)
			return status | SRV_ERR;
		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0) {
					if (errno == EAGAIN)
						continue;
					return status | SRV_ERR;
				}
				c = calloc(1, sizeof(*c));
				if (!c)
					return status | SRV_ERR;
				c->fd = fd;
				ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET;
				ev.data.ptr = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
					return status | SRV_ERR;
				continue;
			}
			if (evs[i].events & EPOLLRDHUP)
				c->rdhup = true;
			if (evs[i].events & EPOLLERR)
				return status | SRV_ERR;
			if (serve(c))
				return status | SRV_ERR;
			if (c->eof && !c->rdhup &&
			    (poll_one(c->fd, POLLRDHUP, 0) & POLLRDHUP))
				c->rdhup = true;	/* FIN after epoll_wait */
			if (c->eof && !c->len) {
				if (!c->rdhup)
					status |= SRV_NO_RDHUP;
				close(c->fd);	/* also leaves the epoll set */
				free(c);
				served++;
			}
		}
	}
	return status;
}

/* ---- The clients ------------------------------------------------------ */

struct client {
	int fd;
	unsigned int idx;
	bool connected, wshut, eof;
	unsigned long long sent, rcvd;
};

FIXTURE(echo) {
	int l;
	pid_t srv;
	struct client cl[CLIENTS];
};

FIXTURE_SETUP(echo)
{
	int i;

	self->l = -1;
	self->srv = -1;
	for (i = 0; i < CLIENTS; i++)
		self->cl[i].fd = -1;
}

FIXTURE_TEARDOWN(echo)
{
	int i;

	for (i = 0; i < CLIENTS; i++)
		if (self->cl[i].fd >= 0)
			close(self->cl[i].fd);
	if (self->srv > 0) {
		kill(self->srv, SIGKILL);
		waitpid(self->srv, NULL, 0);
	}
	if (self->l >= 0)
		close(self->l);
}

static unsigned int client_events(const struct client *c)
{
	unsigned int ev = EPOLLRDHUP;

	if (!c->connected || (!c->wshut && c->sent < PER_CLIENT))
		ev |= EPOLLOUT;
	if (c->connected && !c->eof)
		ev |= EPOLLIN;
	return ev;
}

/* One client's turn; returns 1 when it is done, -1 on a failure. */
static int client_step(struct client *c, unsigned int rev, char *err,
		       size_t errlen)
{
	static unsigned char buf[16384];
	ssize_t n, i;

	if (!c->connected) {
		int e = sock_error(c->fd);

		if (!(rev & (EPOLLOUT | EPOLLERR)))
			return 0;
		if (e) {
			snprintf(err, errlen, "client %u: connect: %s",
				 c->idx, strerror(e));
			return -1;
		}
		c->connected = true;
		return 0;
	}
	if (rev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			snprintf(err, errlen, "client %u: recv: %s", c->idx,
				 strerror(errno));
			return -1;
		}
		if (n == 0)
			c->eof = true;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(c->idx, c->rcvd + i)) {
				snprintf(err, errlen,
					 "client %u: echo byte %llu wrong",
					 c->idx, c->rcvd + i);
				return -1;
			}
		if (n > 0)
			c->rcvd += n;
		if (c->rcvd > c->sent) {
			snprintf(err, errlen, "client %u: echo ahead of data",
				 c->idx);
			return -1;
		}
	}
	if ((rev & EPOLLOUT) && !c->wshut && c->sent < PER_CLIENT) {
		size_t len = PER_CLIENT - c->sent;

		if (len > sizeof(buf))
			len = sizeof(buf);
		for (i = 0; i < (ssize_t)len; i++)
			buf[i] = pat(c->idx, c->sent + i);
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			snprintf(err, errlen, "client %u: send: %s", c->idx,
				 strerror(errno));
			return -1;
		}
		if (n > 0)
			c->sent += n;
		if (c->sent == PER_CLIENT) {
			if (shutdown(c->fd, SHUT_WR)) {
				snprintf(err, errlen, "client %u: shutdown: %s",
					 c->idx, strerror(errno));
				return -1;
			}
			c->wshut = true;
		}
	}
	if (c->eof) {
		if (c->rcvd != PER_CLIENT) {
			snprintf(err, errlen,
				 "client %u: end of stream after %llu of %d bytes",
				 c->idx, c->rcvd, PER_CLIENT);
			return -1;
		}
		return 1;
	}
	return 0;
}

TEST_F_TIMEOUT(echo, hundred_clients, 300)
{
	struct epoll_event ev, evs[64];
	unsigned int done = 0, last = 0;
	int ep, n, k, i, st, idle_ms = 0;
	char err[256] = "";
	struct taddr a;

	self->l = listener("127.0.0.1", 0, CLIENTS, &a);
	ASSERT_GE(self->l, 0) TH_LOG("listener: %s", strerror(errno));
	ASSERT_EQ(0, fcntl(self->l, F_SETFL, O_NONBLOCK));
	self->srv = fork();
	ASSERT_GE(self->srv, 0);
	if (!self->srv)
		_exit(server(self->l, CLIENTS));

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	for (i = 0; i < CLIENTS; i++) {
		struct client *c = &self->cl[i];

		c->idx = i;
		c->fd = sock_new(SOCK_NONBLOCK);
		ASSERT_GE(c->fd, 0);
		ASSERT_EQ(-1, connect(c->fd, &a.sa, TADDR_LEN));
		ASSERT_EQ(EINPROGRESS, errno);
		ev.events = client_events(c);
		ev.data.ptr = c;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev));
	}
	while (done < CLIENTS) {
		n = epoll_wait(ep, evs, 64, 1000);
		ASSERT_GE(n, 0);
		for (k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;
			unsigned int before = client_events(c);
			int r = client_step(c, evs[k].events, err,
					    sizeof(err));

			ASSERT_GE(r, 0) TH_LOG("%s", err);
			if (r == 1) {
				ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_DEL,
						       c->fd, NULL));
				close(c->fd);
				c->fd = -1;
				done++;
				continue;
			}
			if (client_events(c) != before) {
				ev.events = client_events(c);
				ev.data.ptr = c;
				ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD,
						       c->fd, &ev));
			}
		}
		if (done != last || n) {
			last = done;
			idle_ms = 0;
			continue;
		}
		idle_ms += 1000;
		ASSERT_LT(idle_ms, STALL_MS) TH_LOG("%u of %d clients done",
						    done, CLIENTS);
	}
	close(ep);

	ASSERT_EQ(self->srv, waitpid(self->srv, &st, 0));
	self->srv = -1;
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st) & SRV_ERR);
	EXPECT_EQ(0, WEXITSTATUS(st) & SRV_NO_RDHUP)
		TH_LOG("a connection ended without EPOLLRDHUP");
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp_xfer: moves a byte pattern both ways at once over one cftcp (or
 * TCP) connection and verifies every byte, or echoes short messages.
 *
 *   cftcp_xfer [-f cftcp|tcp] -s [-b ADDR] [-p PORT] [-n SIZE] [-1] [-t SECS]
 *	      [-P]
 *	server; with -n: exchange SIZE bytes each way with one client, then
 *	exit; without: echo each connection back to its sender, forever, or
 *	for one connection with -1.
 *   cftcp_xfer [-f cftcp|tcp] -c ADDR [-p PORT] [-n SIZE | -m TEXT] [-N]
 *	      [-w SECS] [-t SECS] [-P]
 *	client; -n: exchange SIZE bytes each way; -m: send TEXT, print the
 *	echo; neither: connect and close. -N connects without blocking
 *	(EINPROGRESS, poll, SO_ERROR); -w retries refused or unreachable
 *	connects for SECS seconds.
 *   cftcp_xfer [-f cftcp|tcp] -S
 *	create one socket and report it.
 *   cftcp_xfer server [ADDR [PORT]]	  same as -s -1 -b ADDR -p PORT -t 600
 *   cftcp_xfer client ADDR [PORT [TEXT]]  same as -c ADDR -p PORT -m TEXT
 *
 * SIZE takes K, M or G. -t is the longest wait for progress, for a connect
 * and for the one connection a server serves (default 60 s).
 * With -n, each end shuts its sending side as soon as it has sent SIZE
 * bytes; -P (passive close) makes this end wait for the peer's end of
 * stream first, so that the peer closes first and ends in TIME_WAIT.
 * After an exchange each end prints the MSS it ended with ("mss: N").
 * Byte i of the stream a client sends is byte (i % 8) of mix(2 * (i / 8));
 * the server's stream uses mix(2 * (i / 8) + 1), so a byte out of place,
 * doubled, lost or reflected is caught. Exit status: 0 all verified, 1 data
 * or system error, 2 connect failed (the errno name is printed), 3 usage.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		65536
#define DEFAULT_PORT	5001

static int family = AF_CFTCP, proto = IPPROTO_CFTCP;
static const char *fam_name = "cftcp";
static int stall_ms = 60000;
static int passive_close;

static const char *errname(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ ECONNREFUSED, "ECONNREFUSED" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT" },
		{ ECONNRESET, "ECONNRESET" }, { EPIPE, "EPIPE" },
		{ EINPROGRESS, "EINPROGRESS" }, { EALREADY, "EALREADY" },
		{ EADDRINUSE, "EADDRINUSE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ EACCES, "EACCES" }, { EINVAL, "EINVAL" },
		{ ENOTCONN, "ENOTCONN" }, { EISCONN, "EISCONN" },
	};
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static void fail_errno(const char *what, int err, int status)
{
	fprintf(stderr, "cftcp_xfer: %s: %s (%s)\n", what, errname(err),
		strerror(err));
	exit(status);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Same layout for both families: sockaddr_cftcp mirrors sockaddr_in. */
union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_cftcp cf;
};

static void addr_set(union addr *a, const char *ip, int port)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->in.sin_addr) != 1) {
		fprintf(stderr, "cftcp_xfer: bad IPv4 address '%s'\n", ip);
		exit(3);
	}
	a->in.sin_family = family;
	a->in.sin_port = htons(port);
}

static const char *addr_str(const union addr *a)
{
	static char bufs[2][40];
	static int n;
	char ip[INET_ADDRSTRLEN];
	char *buf = bufs[n++ & 1];

	inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
	snprintf(buf, sizeof(bufs[0]), "%s:%u", ip, ntohs(a->in.sin_port));
	return buf;
}

static const char *ends(int fd)
{
	static char buf[96];
	union addr l, p;
	socklen_t len = sizeof(l);

	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	getsockname(fd, &l.sa, &len);
	len = sizeof(p);
	getpeername(fd, &p.sa, &len);
	snprintf(buf, sizeof(buf), "%s -> %s", addr_str(&l), addr_str(&p));
	return buf;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Bytes [off, off + len) of the stream sent in direction @dir. */
static void pattern(unsigned char *buf, uint64_t off, size_t len, int dir)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (i == 0 || !(o & 7))
			w = mix((o >> 3) * 2 + dir);
		buf[i] = w >> ((o & 7) * 8);
	}
}

static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, stall_ms);

	if (n < 0)
		fail_errno("poll", errno, 1);
	return n ? p.revents : 0;
}

/*
 * Send @size pattern bytes in direction @sdir while receiving and checking
 * @size bytes of direction @rdir; then end of stream both ways.
 */
static int exchange(int fd, uint64_t size, int sdir, int rdir)
{
	static unsigned char sbuf[CHUNK], rbuf[CHUNK], ebuf[CHUNK];
	uint64_t sent = 0, rcvd = 0;
	size_t spos = 0, slen = 0;
	int eof = 0, wshut = 0;
	double t0 = now(), dt;
	socklen_t len;
	ssize_t n;
	int mss;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		fail_errno("fcntl", errno, 1);
	if (!size && !passive_close) {
		shutdown(fd, SHUT_WR);
		wshut = 1;
	}
	while (!eof || !wshut) {
		struct pollfd p = { .fd = fd };
		int sending = !wshut && sent < size;

		if (!wshut && sent == size && eof) {
			/* -P: the peer has ended its stream, now end ours */
			if (shutdown(fd, SHUT_WR))
				fail_errno("shutdown", errno, 1);
			wshut = 1;
			continue;
		}
		p.events = (eof ? 0 : POLLIN) | (sending ? POLLOUT : 0);
		n = poll(&p, 1, stall_ms);
		if (n < 0)
			fail_errno("poll", errno, 1);
		if (!n) {
			fprintf(stderr, "cftcp_xfer: no progress for %d s: sent %llu of %llu, received %llu of %llu\n",
				stall_ms / 1000, (unsigned long long)sent,
				(unsigned long long)size,
				(unsigned long long)rcvd,
				(unsigned long long)size);
			return 1;
		}
		if (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(fd, rbuf, sizeof(rbuf), 0);
			if (n < 0 && errno != EAGAIN)
				fail_errno("recv", errno, 1);
			if (n == 0)
				eof = 1;
			if (n > 0) {
				if (rcvd + n > size) {
					fprintf(stderr, "cftcp_xfer: %llu bytes beyond the %llu expected\n",
						(unsigned long long)(rcvd + n - size),
						(unsigned long long)size);
					return 1;
				}
				pattern(ebuf, rcvd, n, rdir);
				if (memcmp(ebuf, rbuf, n)) {
					ssize_t i = 0;

					while (ebuf[i] == rbuf[i])
						i++;
					fprintf(stderr, "cftcp_xfer: byte %llu is 0x%02x, expected 0x%02x\n",
						(unsigned long long)(rcvd + i),
						rbuf[i], ebuf[i]);
					return 1;
				}
				rcvd += n;
			}
		}
		if (sending && (p.revents & (POLLOUT | POLLERR))) {
			if (spos == slen) {
				slen = size - sent < CHUNK ? size - sent : CHUNK;
				pattern(sbuf, sent, slen, sdir);
				spos = 0;
			}
			n = send(fd, sbuf + spos, slen - spos, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				fail_errno("send", errno, 1);
			if (n > 0) {
				spos += n;
				sent += n;
				if (sent == size && !passive_close) {
					if (shutdown(fd, SHUT_WR))
						fail_errno("shutdown", errno, 1);
					wshut = 1;
				}
			}
		}
	}
	dt = now() - t0;
	if (rcvd != size) {
		fprintf(stderr, "cftcp_xfer: end of stream after %llu of %llu bytes\n",
			(unsigned long long)rcvd, (unsigned long long)size);
		return 1;
	}
	printf("%s: sent %llu received %llu bytes, all verified, in %.3f s (%.1f MiB/s each way)\n",
	       fam_name, (unsigned long long)sent, (unsigned long long)rcvd,
	       dt, dt > 0 ? size / dt / 1048576 : 0.0);
	/* CFTCP_MAXSEG has TCP_MAXSEG's number, SOL_CFTCP is the protocol */
	len = sizeof(mss);
	if (!getsockopt(fd, proto, CFTCP_MAXSEG, &mss, &len))
		printf("mss: %d\n", mss);
	return 0;
}

/* Return everything read to the sender until it ends its stream. */
static int echo(int fd)
{
	static char buf[CHUNK];
	unsigned long long total = 0;
	ssize_t n, off, w;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (off = 0; off < n; off += w) {
			w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
			if (w < 0) {
				fprintf(stderr, "cftcp_xfer: echo send: %s\n",
					errname(errno));
				return 1;
			}
		}
		total += n;
	}
	if (n < 0) {
		fprintf(stderr, "cftcp_xfer: echo recv: %s\n", errname(errno));
		return 1;
	}
	printf("echoed %llu bytes\n", total);
	return 0;
}

static int new_socket(int flags)
{
	int fd = socket(family, SOCK_STREAM | flags, proto);

	if (fd < 0)
		fail_errno("socket", errno, 1);
	return fd;
}

static int server(const char *bind_ip, int port, uint64_t size,
		  int pattern_mode, int once)
{
	union addr a;
	socklen_t len = sizeof(a);
	int one = 1, l, fd, ret;

	l = new_socket(0);
	addr_set(&a, bind_ip, port);
	if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		fail_errno("SO_REUSEADDR", errno, 1);
	if (bind(l, &a.sa, sizeof(a.in)))
		fail_errno("bind", errno, 1);
	if (listen(l, 16))
		fail_errno("listen", errno, 1);
	getsockname(l, &a.sa, &len);
	printf("listening on %s (%s)\n", addr_str(&a), fam_name);
	fflush(stdout);
	for (;;) {
		/* serving one connection: wait for it no longer than -t */
		if ((pattern_mode || once) && !wait_fd(l, POLLIN)) {
			fprintf(stderr, "cftcp_xfer: no connection in %d s\n",
				stall_ms / 1000);
			return 1;
		}
		fd = accept(l, NULL, NULL);
		if (fd < 0)
			fail_errno("accept", errno, 1);
		printf("accepted %s\n", ends(fd));
		fflush(stdout);
		if (pattern_mode) {
			close(l);
			ret = exchange(fd, size, 1, 0);
			close(fd);
			return ret;
		}
		ret = echo(fd);
		close(fd);
		if (once)
			return ret;
	}
}

static int retryable(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ETIMEDOUT;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int do_connect(const union addr *a, int nonblock, double retry_until)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	char what[64];
	int fd, err, ret;

	snprintf(what, sizeof(what), "connect to %s", addr_str(a));
	sigaction(SIGALRM, &sa, NULL);
	for (;;) {
		fd = new_socket(nonblock ? SOCK_NONBLOCK : 0);
		/* a blocking connect gets the stall limit too */
		alarm(stall_ms / 1000);
		ret = connect(fd, &a->sa, sizeof(a->in));
		err = errno;
		alarm(0);
		if (!ret)
			return fd;
		if (err == EINTR) {
			fprintf(stderr, "cftcp_xfer: %s: no answer in %d s\n",
				what, stall_ms / 1000);
			exit(2);
		}
		if (nonblock && err == EINPROGRESS) {
			short ev;

			printf("connect: EINPROGRESS\n");
			fflush(stdout);
			ev = wait_fd(fd, POLLOUT);
			if (!ev) {
				fprintf(stderr, "cftcp_xfer: %s: no answer in %d s\n",
					what, stall_ms / 1000);
				exit(2);
			}
			socklen_t len = sizeof(err);

			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
				fail_errno("SO_ERROR", errno, 1);
			printf("poll:%s%s%s%s, SO_ERROR %s\n",
			       ev & POLLOUT ? " POLLOUT" : "",
			       ev & POLLERR ? " POLLERR" : "",
			       ev & POLLHUP ? " POLLHUP" : "",
			       ev & POLLIN ? " POLLIN" : "",
			       err ? errname(err) : "0");
			fflush(stdout);
			if (!err)
				return fd;
		}
		close(fd);
		if (!retryable(err) || now() >= retry_until)
			fail_errno(what, err, 2);
		usleep(200000);
	}
}

static int client(const char *ip, int port, uint64_t size, int pattern_mode,
		  const char *msg, int nonblock, int wait_s)
{
	static char buf[CHUNK];
	size_t len, got = 0;
	union addr a;
	ssize_t n;
	int fd;

	addr_set(&a, ip, port);
	fd = do_connect(&a, nonblock, now() + wait_s);
	printf("connected %s (%s)\n", ends(fd), fam_name);
	fflush(stdout);
	if (pattern_mode)
		return exchange(fd, size, 0, 1);
	if (!msg) {
		close(fd);
		return 0;
	}
	len = strlen(msg);
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		fail_errno("send", errno, 1);
	if (shutdown(fd, SHUT_WR))
		fail_errno("shutdown", errno, 1);
	while (got < sizeof(buf) &&
	       (n = recv(fd, buf + got, sizeof(buf) - got, 0)) > 0)
		got += n;
	close(fd);
	printf("echo: %.*s\n", (int)got, buf);
	if (got != len || memcmp(buf, msg, len)) {
		fprintf(stderr, "cftcp_xfer: echo differs from what was sent\n");
		return 1;
	}
	return 0;
}

static int probe(void)
{
	socklen_t len = sizeof(int);
	int fd, dom = -1, pr = -1;

	fd = new_socket(0);
	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len);
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &pr, &len);
	printf("socket: SO_DOMAIN %d SO_PROTOCOL %d\n", dom, pr);
	close(fd);
	return dom == family && pr == proto ? 0 : 1;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		/* fall through */
	case 'M':
	case 'm':
		v <<= 10;
		/* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || end == s) {
		fprintf(stderr, "cftcp_xfer: bad size '%s'\n", s);
		exit(3);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cftcp_xfer [-f cftcp|tcp] -s [-b ADDR] [-p PORT] [-n SIZE] [-1] [-t SECS] [-P]\n"
		"       cftcp_xfer [-f cftcp|tcp] -c ADDR [-p PORT] [-n SIZE | -m TEXT] [-N] [-w SECS] [-t SECS] [-P]\n"
		"       cftcp_xfer [-f cftcp|tcp] -S\n"
		"       cftcp_xfer server [ADDR [PORT]]\n"
		"       cftcp_xfer client ADDR [PORT [TEXT]]\n");
	exit(3);
}

int main(int argc, char **argv)
{
	const char *bind_ip = "0.0.0.0", *peer = NULL, *msg = NULL;
	int mode = 0, port = DEFAULT_PORT, nonblock = 0, wait_s = 0;
	int pattern_mode = 0, once = 0, opt;
	uint64_t size = 0;

	/* the short forms: server [ADDR [PORT]], client ADDR [PORT [TEXT]] */
	if (argc >= 2 && argc <= 4 && !strcmp(argv[1], "server")) {
		bind_ip = argc > 2 ? argv[2] : bind_ip;
		port = argc > 3 ? atoi(argv[3]) : port;
		stall_ms = 600000;	/* the peer may still be booting */
		setvbuf(stdout, NULL, _IOLBF, 0);
		return server(bind_ip, port, 0, 0, 1);
	}
	if (argc >= 3 && argc <= 5 && !strcmp(argv[1], "client")) {
		port = argc > 3 ? atoi(argv[3]) : port;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return client(argv[2], port, 0, 0, argc > 4 ? argv[4] : NULL,
			      0, 0);
	}

	while ((opt = getopt(argc, argv, "f:sc:Sb:p:n:m:Nw:t:1P")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "tcp")) {
				family = AF_INET;
				proto = IPPROTO_TCP;
				fam_name = "tcp";
			} else if (strcmp(optarg, "cftcp")) {
				usage();
			}
			break;
		case 's':
			mode = 's';
			break;
		case 'S':
			mode = 'S';
			break;
		case 'c':
			mode = 'c';
			peer = optarg;
			break;
		case 'b':
			bind_ip = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			size = parse_size(optarg);
			pattern_mode = 1;
			break;
		case 'm':
			msg = optarg;
			break;
		case 'N':
			nonblock = 1;
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		case 't':
			stall_ms = atoi(optarg) * 1000;
			break;
		case '1':
			once = 1;
			break;
		case 'P':
			passive_close = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !mode || (msg && pattern_mode) ||
	    port <= 0 || port > 65535 || stall_ms <= 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	switch (mode) {
	case 's':
		return server(bind_ip, port, size, pattern_mode, once);
	case 'c':
		return client(peer, port, size, pattern_mode, msg, nonblock,
			      wait_s);
	default:
		return probe();
	}
}

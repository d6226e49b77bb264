// SPDX-License-Identifier: GPL-2.0
/*
 * cfcat: netcat for cftcp.  Connects to, or listens for, one cftcp
 * connection and copies stdin to it and it to stdout.  At EOF on stdin it
 * half-closes (shutdown(SHUT_WR)) and goes on reading until the peer
 * closes; with -k a listener then accepts the next connection.
 *
 *   cfcat [-v] [-s ADDR] [-p LPORT] HOST PORT     connect
 *   cfcat -l [-k] [-v] [-s ADDR] PORT             listen (ADDR default any)
 *
 * -t makes it a plain AF_INET TCP netcat with the same behaviour, which
 * is how its tests compare it with Linux TCP.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/cftcp.h>

static int family = AF_CFTCP;
static bool verbose;

static void print_usage(void)
{
	fprintf(stderr,
		"usage: cfcat [-t] [-v] [-s ADDR] [-p LPORT] HOST PORT\n"
		"       cfcat -l [-k] [-t] [-v] [-s ADDR] PORT\n"
		"  -l listen  -k keep listening after a connection ends\n"
		"  -s local address  -p local port  -v report connections\n"
		"  -t AF_INET TCP instead of AF_CFTCP\n");
	exit(2);
}

/* struct sockaddr_cftcp has sockaddr_in's layout: fill one, set family. */
static int make_addr(const char *host, const char *port,
		     struct sockaddr_in *sin)
{
	struct addrinfo hints = { .ai_family = AF_INET };
	struct addrinfo *res;
	char *end;
	long p;
	int err;

	memset(sin, 0, sizeof(*sin));
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535) {
		fprintf(stderr, "cfcat: bad port '%s'\n", port);
		return -1;
	}
	sin->sin_family = family;
	sin->sin_port = htons((unsigned short)p);
	if (!host)
		return 0;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		return 0;
	err = getaddrinfo(host, NULL, &hints, &res);
	if (err) {
		fprintf(stderr, "cfcat: %s: %s\n", host, gai_strerror(err));
		return -1;
	}
	sin->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static int new_socket(void)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("cfcat: socket");
		if (family == AF_CFTCP && errno == EAFNOSUPPORT)
			fprintf(stderr, "cfcat: is cftcp.ko loaded?\n");
	}
	return fd;
}

static void report(const char *what, int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char buf[INET_ADDRSTRLEN];

	if (!verbose || getpeername(fd, (struct sockaddr *)&a, &len))
		return;
	fprintf(stderr, "cfcat: %s %s:%u\n", what,
		inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf)),
		ntohs(a.sin_port));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Copy until both the peer's side and stdin are done (or the connection
 * failed).  Returns 0 on a clean end, 1 on an error.
 */
static int pump(int fd, bool *stdin_open)
{
	static char buf[65536];
	bool peer_open = true;
	struct pollfd p[2];
	ssize_t n;

	while (peer_open || *stdin_open) {
		p[0].fd = peer_open ? fd : -1;
		p[0].events = POLLIN;
		p[1].fd = *stdin_open ? STDIN_FILENO : -1;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("cfcat: poll");
			return 1;
		}
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				perror("cfcat: recv");
				return 1;
			}
			if (n == 0) {
				peer_open = false;
				continue;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n)) {
				perror("cfcat: stdout");
				return 1;
			}
		}
		if (p[1].fd >= 0 && p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*stdin_open = false;
				if (shutdown(fd, SHUT_WR) && errno != ENOTCONN) {
					perror("cfcat: shutdown");
					return 1;
				}
				continue;
			}
			if (write_all(fd, buf, (size_t)n)) {
				perror("cfcat: send");
				return 1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *laddr = NULL, *lport = NULL;
	bool listen_mode = false, keep = false, stdin_open = true;
	struct sockaddr_in sa, la;
	int c, fd, lfd, one = 1, rc = 0;

	while ((c = getopt(argc, argv, "lks:p:tvh")) != -1) {
		switch (c) {
		case 'l':
			listen_mode = true;
			break;
		case 'k':
			keep = true;
			break;
		case 's':
			laddr = optarg;
			break;
		case 'p':
			lport = optarg;
			break;
		case 't':
			family = AF_INET;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			print_usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);

	if (!listen_mode) {
		if (argc - optind != 2 || keep)
			print_usage();
		if (make_addr(argv[optind], argv[optind + 1], &sa))
			return 1;
		fd = new_socket();
		if (fd < 0)
			return 1;
		if (laddr || lport) {
			if (make_addr(laddr ? laddr : "0.0.0.0",
				      lport ? lport : "0", &la))
				return 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
			if (bind(fd, (struct sockaddr *)&la, sizeof(la))) {
				perror("cfcat: bind");
				return 1;
			}
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			perror("cfcat: connect");
			return 1;
		}
		report("connected to", fd);
		rc = pump(fd, &stdin_open);
		close(fd);
		return rc;
	}

	if (argc - optind != 1 || lport)
		print_usage();
	if (make_addr(laddr ? laddr : "0.0.0.0", argv[optind], &la))
		return 1;
	lfd = new_socket();
	if (lfd < 0)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) || listen(lfd, 16)) {
		perror("cfcat: listen");
		return 1;
	}
	do {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("cfcat: accept");
			return 1;
		}
		report("connection from", fd);
		rc |= pump(fd, &stdin_open);
		close(fd);
	} while (keep);
	close(lfd);
	return rc;
}

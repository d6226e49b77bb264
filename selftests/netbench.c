// SPDX-License-Identifier: GPL-2.0
/*
 * netbench: throughput and transaction rates of cftcp or Linux TCP, for
 * scripts/bench.sh.
 *
 *   netbench [-f cftcp|tcp] -s [-b ADDR] [-p PORT]
 *	server, forever: a connection's first byte says what it is: 'B' bulk
 *	(read to the end), 'R' request/response (answer each byte with one
 *	byte), each served by a child process; 'C' one request and response,
 *	served in the accepting process (no fork per connection): answer
 *	the next byte, read to the end, close.
 *   netbench [-f cftcp|tcp] -c ADDR [-p PORT] -m bulk|rr|crr [-P N] [-d SECS]
 *	[-n COUNT]
 *	client: bulk sends 64 KiB writes over N connections at once for SECS
 *	seconds and prints MiB/s; rr exchanges one byte each way on one
 *	connection and prints transactions/s; crr connects, exchanges one
 *	byte, closes, again and again, and prints connections/s and the
 *	share of exchanges that succeeded within 2 s (with -n, COUNT
 *	connections however long they take).
 *   netbench [-f cftcp|tcp] -c ADDR [-p PORT] -m conn [-P N]
 *	concurrent setup: listens on ADDR:PORT itself (backlog N), starts N
 *	non-blocking connects at once (default 1000) and prints connections
 *	per second until all are established and accepted.
 *   netbench [-f cftcp|tcp] -c ADDR [-p PORT] -m mem [-P N]
 *	memory: listens on ADDR:PORT itself, opens N connections to itself
 *	(default 2000) and prints the slab memory (/proc/meminfo) each
 *	established socket takes, then closes them, clients first, and prints
 *	what each TIME_WAIT entry left behind takes.
 *   netbench [-f cftcp|tcp] -c ADDR [-p PORT] -m tw -n COUNT [-P N]
 *	TIME_WAIT entries: N processes (default 1) each listen on ports of
 *	ADDR from PORT on (one per 30,000 connections), make their share of
 *	COUNT connections to them a thousand at a time and close each client
 *	first, so that COUNT client ends stay in TIME_WAIT; prints
 *	connections per second.
 * Output: one line "RESULT MODE VALUE UNIT" (mem: two, "RESULT estab"
 * and "RESULT timewait"). Exit 0, or 1 on any error.
 */
#include <sys/resource.h>
#include <sys/poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/cftcp.h>

static int family = AF_CFTCP, proto = IPPROTO_CFTCP;
static struct sockaddr_in addr;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, family == AF_INET ? IPPROTO_TCP : SOL_CFTCP,
			  family == AF_INET ? TCP_NODELAY : CFTCP_NODELAY,
			  &one, sizeof(one));
}

/* Bound a blocking connect, read or write on @fd to 2 s. */
static void timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 2 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int dial(void)
{
	int fd = socket(family, SOCK_STREAM, proto);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect");
	return fd;
}

/* One request and response in the accepting process; closes @fd. */
static void serve_crr(int fd)
{
	char buf[64];

	nodelay(fd);
	if (read(fd, buf, 1) == 1 && write(fd, buf, 1) == 1)
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	close(fd);
}

static void serve(int fd, char mode)
{
	static char buf[65536];
	struct timeval none = { 0 };
	ssize_t n;

	if (mode != 'B' && mode != 'R')
		exit(0);
	/* no time limit on a long-lived connection */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	nodelay(fd);
	if (mode == 'B') {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		exit(n < 0);
	}
	while ((n = read(fd, buf, 1)) == 1)
		if (write(fd, buf, 1) != 1)
			exit(1);
	exit(n < 0);
}

static void server(void)
{
	int l = socket(family, SOCK_STREAM, proto), one = 1;

	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, 512))
		die("bind/listen");
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(l, NULL, NULL);
		char mode = 0;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		timeouts(fd);
		if (read(fd, &mode, 1) == 1 && mode == 'C') {
			serve_crr(fd);
			continue;
		}
		if (!fork()) {
			close(l);
			serve(fd, mode);
		}
		close(fd);
	}
}

/* One bulk sender; writes the bytes it sent to @out. */
static void bulk_one(double secs, int out)
{
	static char buf[65536];
	unsigned long long sent = 0;
	double end = now() + secs;
	int fd = dial();

	memset(buf, 'B', sizeof(buf));
	if (write(fd, "B", 1) != 1)
		die("write");
	while (now() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			die("write");
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (write(out, &sent, sizeof(sent)) != sizeof(sent))
		die("pipe");
	exit(0);
}

static void bulk(int streams, double secs)
{
	unsigned long long total = 0, sent;
	double t0 = now();
	int p[2], i, st, bad = 0;

	if (pipe(p))
		die("pipe");
	for (i = 0; i < streams; i++)
		if (!fork())
			bulk_one(secs, p[1]);
	close(p[1]);
	while (read(p[0], &sent, sizeof(sent)) == sizeof(sent))
		total += sent;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	if (bad)
		exit(1);
	printf("RESULT bulk%d %.1f MiB/s\n", streams,
	       total / (now() - t0) / 1048576);
}

static void rr(double secs)
{
	unsigned long n = 0;
	double t0 = now(), end = t0 + secs;
	int fd = dial();
	char c = 'R';

	nodelay(fd);
	if (write(fd, &c, 1) != 1)
		die("write");
	while (now() < end) {
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("rr");
		n++;
	}
	close(fd);
	printf("RESULT rr %.0f trans/s\n", n / (now() - t0));
}

/*
 * CRR. An exchange that fails or takes over 2 s (a SYN lost in a flood)
 * counts as failed and the next one starts; with -n, COUNT must succeed.
 */
static void crr(double secs, long count)
{
	unsigned long n = 0, failed = 0;
	double t0 = now(), end = t0 + secs;

	while (count ? (long)n < count : now() < end) {
		int fd = socket(family, SOCK_STREAM, proto);
		char c[2] = { 'C', 'x' };

		if (fd < 0)
			die("socket");
		timeouts(fd);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
		    nodelay(fd) || write(fd, c, 2) != 2 || read(fd, c, 1) != 1) {
			if (errno != EAGAIN && errno != EINPROGRESS &&
			    errno != ETIMEDOUT && errno != ECONNRESET &&
			    errno != ECONNREFUSED)
				die("crr");
			failed++;
			close(fd);
			if (count && failed > (unsigned long)count)
				die("crr: too many failed");
			continue;
		}
		close(fd);
		n++;
	}
	printf("RESULT crr %.0f conn/s\n", n / (now() - t0));
	printf("RESULT crr_ok %.1f %%\n", 100.0 * n / (n + failed ?: 1));
}

/*
 * N connects at once to a listener of this process's own, accepted by a
 * child: connections per second from the first connect() until the last
 * is established and the child has accepted them all.
 */
static void conn(int n)
{
	struct rlimit rl = { n + 64, n + 64 };
	int l = socket(family, SOCK_STREAM, proto), one = 1, i, left, st;
	struct pollfd *p = calloc(n, sizeof(*p));
	int done[2];
	double t0, t1;
	pid_t pid;
	char c;

	if (l < 0 || !p)
		die("socket");
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, n))
		die("bind/listen");
	if (pipe(done))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int *fds = calloc(n, sizeof(int));

		close(done[0]);
		for (i = 0; fds && i < n; i++) {
			fds[i] = accept(l, NULL, NULL);
			if (fds[i] < 0)
				die("accept");
		}
		/* all accepted: say so */
		exit(!fds || write(done[1], "A", 1) != 1);
	}
	close(l);
	close(done[1]);
	t0 = now();
	for (i = 0; i < n; i++) {
		p[i].fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, proto);
		p[i].events = POLLOUT;
		if (p[i].fd < 0)
			die("socket");
		if (connect(p[i].fd, (struct sockaddr *)&addr, sizeof(addr)) &&
		    errno != EINPROGRESS)
			die("connect");
	}
	for (left = n; left;) {
		i = poll(p, n, 10000);
		if (i <= 0) {
			errno = i ? errno : ETIMEDOUT;
			die("poll");
		}
		for (i = 0; i < n; i++) {
			socklen_t len = sizeof(int);
			int err = 0;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err,
				       &len) || err) {
				errno = err;
				die("connect");
			}
			p[i].fd = -p[i].fd - 1;		/* done: not polled */
			left--;
		}
	}
	if (read(done[0], &c, 1) != 1)
		die("accept");
	t1 = now();
	for (i = 0; i < n; i++)
		close(-p[i].fd - 1);
	close(done[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		exit(1);
	printf("RESULT conn%d %.0f conn/s\n", n, n / (t1 - t0));
}

/* Slab memory in use, bytes, once RCU callbacks had time to run. */
static long long slab_bytes(void)
{
	char line[256];
	long long kb = -1;
	FILE *f;

	sleep(2);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %lld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		die("Slab in /proc/meminfo");
	return kb * 1024;
}

static void mem(int n)
{
	struct rlimit rl = { 2 * n + 64, 2 * n + 64 };
	int l = socket(family, SOCK_STREAM, proto), one = 1, i;
	long long base, estab, tw;
	int *fds = calloc(2 * n, sizeof(int));

	if (l < 0 || !fds)
		die("socket");
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, 128))
		die("bind/listen");
	base = slab_bytes();
	for (i = 0; i < n; i++) {
		fds[2 * i] = dial();
		fds[2 * i + 1] = accept(l, NULL, NULL);
		if (fds[2 * i + 1] < 0)
			die("accept");
	}
	estab = slab_bytes();
	for (i = 0; i < n; i++)
		close(fds[2 * i]);
	for (i = 0; i < n; i++)
		close(fds[2 * i + 1]);
	tw = slab_bytes();
	close(l);
	printf("RESULT estab %.0f bytes/socket\n", (estab - base) / (2.0 * n));
	printf("RESULT timewait %.0f bytes/entry\n", (double)(tw - base) / n);
}

#define TW_BATCH	1000
#define TW_PER_PORT	30000

/* One process's share of tw(): @count connections to ports from @port. */
static void tw_fill(long count, int port)
{
	struct rlimit rl = { 2 * TW_BATCH + 128, 2 * TW_BATCH + 128 };
	int nl = (count + TW_PER_PORT - 1) / TW_PER_PORT, one = 1, i;
	int *l = calloc(nl, sizeof(int));
	int *c = calloc(TW_BATCH, sizeof(int));
	int *s = calloc(TW_BATCH, sizeof(int));
	struct sockaddr_in a = addr;
	long done, n;

	if (!l || !c || !s || nl > 64)
		die("tw: count");
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	for (i = 0; i < nl; i++) {
		l[i] = socket(family, SOCK_STREAM, proto);
		a.sin_port = htons(port + i);
		if (l[i] < 0 || setsockopt(l[i], SOL_SOCKET, SO_REUSEADDR,
					   &one, sizeof(one)) ||
		    bind(l[i], (struct sockaddr *)&a, sizeof(a)) ||
		    listen(l[i], TW_BATCH))
			die("tw: listen");
	}
	for (done = 0; done < count; done += n) {
		int k = done / TW_PER_PORT;

		n = count - done < TW_BATCH ? count - done : TW_BATCH;
		a.sin_port = htons(port + k);
		for (i = 0; i < n; i++) {
			c[i] = socket(family, SOCK_STREAM | SOCK_NONBLOCK,
				      proto);
			if (c[i] < 0)
				die("socket");
			if (connect(c[i], (struct sockaddr *)&a, sizeof(a)) &&
			    errno != EINPROGRESS)
				die("tw: connect");
		}
		/* The listener has a connection once its client's ACK came. */
		for (i = 0; i < n; i++) {
			s[i] = accept(l[k], NULL, NULL);
			if (s[i] < 0)
				die("tw: accept");
		}
		for (i = 0; i < n; i++)
			close(c[i]);
		for (i = 0; i < n; i++)
			close(s[i]);
	}
}

static void tw(long count, int procs)
{
	int i, st, bad = 0;
	double t0 = now();

	if (procs < 1 || procs > 16)
		die("tw: processes");
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			tw_fill(count / procs + (i < count % procs),
				ntohs(addr.sin_port) + 64 * i);
			exit(0);
		}
	}
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	if (bad)
		exit(1);
	printf("RESULT tw %.0f conn/s\n", count / (now() - t0));
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *host = NULL;
	int opt, srv = 0, streams = 1;
	long count = 0;
	double secs = 3;

	addr.sin_port = htons(5201);
	while ((opt = getopt(argc, argv, "f:sb:c:p:m:P:d:n:")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "tcp")) {
				family = AF_INET;
				proto = IPPROTO_TCP;
			}
			break;
		case 's': srv = 1; break;
		case 'b':
		case 'c': host = optarg; break;
		case 'p': addr.sin_port = htons(atoi(optarg)); break;
		case 'm': mode = optarg; break;
		case 'P': streams = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'n': count = atol(optarg); break;
		default: return 1;
		}
	}
	addr.sin_family = family;
	if (host && inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return 1;
	if (srv)
		server();
	if (!host || !mode)
		return 1;
	if (!strcmp(mode, "mem"))
		mem(streams > 1 ? streams : 2000);
	else if (!strcmp(mode, "bulk"))
		bulk(streams, secs);
	else if (!strcmp(mode, "rr"))
		rr(secs);
	else if (!strcmp(mode, "crr"))
		crr(secs, count);
	else if (!strcmp(mode, "conn"))
		conn(streams > 1 ? streams : 1000);
	else if (!strcmp(mode, "tw") && count > 0)
		tw(count, streams);
	else
		return 1;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * sockctl: drives sockets of cftcp (or TCP) from a script, to put one end
 * of a connection into each state while a scripted peer (pktpeer) plays the
 * other, and checks what a user sees: return values and errno, SIGPIPE,
 * the connection table /proc/net/{cftcp,tcp} and the counters.
 *
 *   sockctl [-f cftcp|tcp] [-D SYNCDIR] < script
 *
 * Script lines (# starts a comment). S and N name sockets (any word); a
 * call may end with "-> WANT": an errno name (ECONNREFUSED, ...), a number
 * the call must return, "<=N" or ">=N" to bound it, or "ok" (the default:
 * any result but an error).
 *   socket S
 *   opt S reuseaddr|rcvbuf|sndbuf|syncnt|linger2|nodelay VALUE
 *   opt S linger ONOFF SECS
 *   opt S bindtodevice IFNAME   SO_BINDTODEVICE ("" unbinds)
 *   bind S ADDR PORT
 *   listen S BACKLOG
 *   connect S ADDR PORT [nonblock]
 *   waitconn S [SECS]         poll for POLLOUT, then the SO_ERROR as result
 *   noconn S SECS             no POLLOUT (no handshake, no error) in SECS
 *   opt S dropfilter 1        SO_ATTACH_FILTER: a classic BPF program that
 *                             drops every segment
 *   uid UID                   drop root: later calls run as UID (and gid)
 *   accept S NEW [nonblock]   NEW gets the connection; result: peer port
 *   close S
 *   shutdown S rd|wr|rdwr
 *   send S LEN [nosignal]     LEN bytes of 'A'+i%26
 *   recv S LEN [nonblock] [all] [check]
 *                             result: bytes read; check: they are 'a'+i%26
 *   infostate S STATE         the state the INFO option reports (name)
 *   inq S                     result: bytes queued for reading (SIOCINQ)
 *   rmem S                    result: receive memory charged to the socket
 *                             (SO_MEMINFO's rmem_alloc, in bytes)
 *   bufsize S rcv|snd         result: SO_RCVBUF or SO_SNDBUF as read back
 *   protomem                  result: pages the protocol has in use, from
 *                             /proc/net/protocols (CFTCP, or TCP)
 *   poll S EVENTS             exact poll mask, e.g. IN|OUT|RDHUP (0: none)
 *   sigpipes N                SIGPIPE was raised N times so far
 *   state LPORT RPORT ST [SECS]  wait until the table line of the ports has
 *                             state ST (hex, e.g. 06; "-": no line)
 *   count LPORT ST N          the table has N lines of local port LPORT in
 *                             state ST
 *   snap                      remember every counter
 *   delta NAME N              the counter moved by N since snap (>=N: at
 *                             least N)
 *   sysctl NAME VALUE         /proc/sys/net/cftcp/NAME (TCP: its twin)
 *   touch NAME | wait NAME [SECS]   files in SYNCDIR, to step with a peer
 *   sleep SECS | echo TEXT
 * Exit status: 0 all lines held, 1 one did not, 2 usage or setup errors.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS	64
#define MAX_COUNTERS	128

static int family = AF_CFTCP, proto = IPPROTO_CFTCP, sol = SOL_CFTCP;
static const char *table = "/proc/net/cftcp";
static int is_tcp;
static const char *syncdir = ".";
static int lineno;
static volatile sig_atomic_t sigpipes;

static struct { char name[32]; int fd; } socks[MAX_SOCKS];
static int nsocks;

static struct { char name[40]; long long val; } snapv[MAX_COUNTERS];
static int nsnap;

static const struct { int err; const char *name; } errnames[] = {
	{ ECONNREFUSED, "ECONNREFUSED" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ ECONNRESET, "ECONNRESET" }, { EPIPE, "EPIPE" },
	{ EINPROGRESS, "EINPROGRESS" }, { EALREADY, "EALREADY" },
	{ EADDRINUSE, "EADDRINUSE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ EINVAL, "EINVAL" }, { ENOTCONN, "ENOTCONN" }, { EISCONN, "EISCONN" },
	{ EAGAIN, "EAGAIN" }, { ECONNABORTED, "ECONNABORTED" },
	{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
	{ EBADF, "EBADF" }, { EINTR, "EINTR" },
};

static const char *const state_names[] = {
	[CFTCP_ESTABLISHED] = "ESTABLISHED", [CFTCP_SYN_SENT] = "SYN_SENT",
	[CFTCP_SYN_RECV] = "SYN_RECV", [CFTCP_FIN_WAIT1] = "FIN_WAIT1",
	[CFTCP_FIN_WAIT2] = "FIN_WAIT2", [CFTCP_TIME_WAIT] = "TIME_WAIT",
	[CFTCP_CLOSE] = "CLOSE", [CFTCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[CFTCP_LAST_ACK] = "LAST_ACK", [CFTCP_LISTEN] = "LISTEN",
	[CFTCP_CLOSING] = "CLOSING",
};

/* cftcp counter names and sysctls, and Linux TCP's twins for -f tcp. */
static const struct { const char *cf, *file, *prefix, *tcp; } tcp_counters[] = {
	{ "ActiveOpens", "/proc/net/snmp", "Tcp:", "ActiveOpens" },
	{ "PassiveOpens", "/proc/net/snmp", "Tcp:", "PassiveOpens" },
	{ "AttemptFails", "/proc/net/snmp", "Tcp:", "AttemptFails" },
	{ "EstabResets", "/proc/net/snmp", "Tcp:", "EstabResets" },
	{ "CurrEstab", "/proc/net/snmp", "Tcp:", "CurrEstab" },
	{ "OutRsts", "/proc/net/snmp", "Tcp:", "OutRsts" },
	{ "RetransSegs", "/proc/net/snmp", "Tcp:", "RetransSegs" },
	{ "SynRetrans", "/proc/net/netstat", "TcpExt:", "TCPSynRetrans" },
	{ "ListenOverflows", "/proc/net/netstat", "TcpExt:", "ListenOverflows" },
	{ "ListenDrops", "/proc/net/netstat", "TcpExt:", "ListenDrops" },
	{ "ReqQFullDrop", "/proc/net/netstat", "TcpExt:", "TCPReqQFullDrop" },
	{ "TimeWaitOverflow", "/proc/net/netstat", "TcpExt:", "TCPTimeWaitOverflow" },
	{ "TWKilled", "/proc/net/netstat", "TcpExt:", "TWKilled" },
	{ "ChallengeACK", "/proc/net/netstat", "TcpExt:", "TCPChallengeACK" },
	{ "ZeroWindowDrop", "/proc/net/netstat", "TcpExt:", "TCPZeroWindowDrop" },
	{ "RcvQDrop", "/proc/net/netstat", "TcpExt:", "TCPRcvQDrop" },
	{ "OFODrop", "/proc/net/netstat", "TcpExt:", "TCPOFODrop" },
	{ "OfoPruned", "/proc/net/netstat", "TcpExt:", "OfoPruned" },
	{ "RcvCollapsed", "/proc/net/netstat", "TcpExt:", "TCPRcvCollapsed" },
	{ "PruneCalled", "/proc/net/netstat", "TcpExt:", "PruneCalled" },
	{ "AbortOnMemory", "/proc/net/netstat", "TcpExt:", "TCPAbortOnMemory" },
	{ "ACKSkippedSeq", "/proc/net/netstat", "TcpExt:", "TCPACKSkippedSeq" },
	{ "ACKSkippedSynRecv", "/proc/net/netstat", "TcpExt:", "TCPACKSkippedSynRecv" },
	{ "ACKSkippedTimeWait", "/proc/net/netstat", "TcpExt:", "TCPACKSkippedTimeWait" },
	{ "ACKSkippedChallenge", "/proc/net/netstat", "TcpExt:", "TCPACKSkippedChallenge" },
	{ "SYNChallenge", "/proc/net/netstat", "TcpExt:", "TCPSYNChallenge" },
	{ "AbortOnClose", "/proc/net/netstat", "TcpExt:", "TCPAbortOnClose" },
	{ "AbortOnData", "/proc/net/netstat", "TcpExt:", "TCPAbortOnData" },
	{ "AbortOnLinger", "/proc/net/netstat", "TcpExt:", "TCPAbortOnLinger" },
	{ "AbortOnTimeout", "/proc/net/netstat", "TcpExt:", "TCPAbortOnTimeout" },
	{ "Timeouts", "/proc/net/netstat", "TcpExt:", "TCPTimeouts" },
	{ "SyncookiesSent", "/proc/net/netstat", "TcpExt:", "SyncookiesSent" },
	{ "SyncookiesRecv", "/proc/net/netstat", "TcpExt:", "SyncookiesRecv" },
	{ "SyncookiesFailed", "/proc/net/netstat", "TcpExt:", "SyncookiesFailed" },
	/* Linux counts SYN and SYN-ACK retransmissions together. */
	{ "SynAckRetrans", "/proc/net/netstat", "TcpExt:", "TCPSynRetrans" },
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "sockctl: line %d: ", lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const char *errname(int err)
{
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

static int sock_slot(const char *name, int create)
{
	int i;

	for (i = 0; i < nsocks; i++)
		if (!strcmp(socks[i].name, name))
			return i;
	if (!create)
		die("no socket named '%s'", name);
	if (nsocks == MAX_SOCKS)
		die("too many sockets at '%s'", name);
	snprintf(socks[nsocks].name, sizeof(socks[nsocks].name), "%s", name);
	socks[nsocks].fd = -1;
	return nsocks++;
}

static int sock_fd(const char *name)
{
	return socks[sock_slot(name, 0)].fd;
}

static void set_addr(struct sockaddr_in *a, const char *ip, const char *port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = family;
	a->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		die("bad address '%s'", ip);
}

/* Compare a call's result (ret, or -1 with err) with "-> WANT". */
static void check(const char *line, long ret, int err, const char *want)
{
	char got[48];

	if (ret < 0)
		snprintf(got, sizeof(got), "%s", errname(err));
	else
		snprintf(got, sizeof(got), "%ld", ret);
	printf("sockctl: %s = %s\n", line, got);
	fflush(stdout);
	if (!want || !strcmp(want, "ok")) {
		if (ret < 0)
			die("failed: %s", got);
		return;
	}
	if (!strcmp(want, got))
		return;
	/* "<=N" and ">=N" bound a result that is not an error. */
	if (ret >= 0 && (!strncmp(want, "<=", 2) || !strncmp(want, ">=", 2))) {
		long n = strtol(want + 2, NULL, 0);

		if (want[0] == '<' ? ret <= n : ret >= n)
			return;
	}
	fprintf(stderr, "sockctl: line %d: got %s, expected %s\n", lineno,
		got, want);
	exit(1);
}

/* /proc line of (lport, rport): its state, -1 if none. */
static int table_state(unsigned int lport, unsigned int rport)
{
	char line[512];
	unsigned int lp, rp, st;
	int ret = -1;
	FILE *f = fopen(table, "r");

	if (!f)
		die("cannot read %s", table);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*x:%x %*x:%x %x", &lp, &rp, &st) != 3)
			continue;
		if (lp == lport && rp == rport) {
			ret = st;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int table_count(unsigned int lport, unsigned int state)
{
	char line[512];
	unsigned int lp, st;
	int n = 0;
	FILE *f = fopen(table, "r");

	if (!f)
		die("cannot read %s", table);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*x:%x %*x:%*x %x", &lp, &st) != 2)
			continue;
		if (lp == lport && st == state)
			n++;
	}
	fclose(f);
	return n;
}

/* Value of @name in "Prefix: NAMES" / "Prefix: VALUES" line pairs. */
static long long pair_value(const char *path, const char *prefix,
			    const char *name)
{
	static char names[8192], vals[8192];
	size_t plen = strlen(prefix);
	long long ret = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f)) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, prefix, plen))
			continue;
		if (!fgets(vals, sizeof(vals), f))
			break;
		n = strtok_r(names + plen, " \n", &sn);
		v = strtok_r(vals + plen, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn),
			       v = strtok_r(NULL, " \n", &sv)) {
			if (!strcmp(n, name)) {
				ret = strtoll(v, NULL, 10);
				goto out;
			}
		}
	}
out:
	fclose(f);
	return ret;
}

static long long counter(const char *name)
{
	size_t i;

	if (!is_tcp)
		return pair_value("/proc/net/cftcp_stat", "CfTcp:", name);
	for (i = 0; i < sizeof(tcp_counters) / sizeof(tcp_counters[0]); i++)
		if (!strcmp(tcp_counters[i].cf, name))
			return pair_value(tcp_counters[i].file,
					  tcp_counters[i].prefix,
					  tcp_counters[i].tcp);
	return -1;
}

/* Remember every counter of /proc/net/cftcp_stat (or the TCP twins). */
static void snap(void)
{
	static char names[8192];
	char *sn, *n;
	FILE *f;
	size_t i;

	nsnap = 0;
	if (is_tcp) {
		for (i = 0; i < sizeof(tcp_counters) / sizeof(tcp_counters[0]);
		     i++) {
			snprintf(snapv[nsnap].name, sizeof(snapv[0].name), "%s",
				 tcp_counters[i].cf);
			snapv[nsnap++].val = counter(tcp_counters[i].cf);
		}
		return;
	}
	f = fopen("/proc/net/cftcp_stat", "r");
	if (!f || !fgets(names, sizeof(names), f))
		die("%s", "cannot read /proc/net/cftcp_stat");
	fclose(f);
	for (n = strtok_r(names + 6, " \n", &sn); n && nsnap < MAX_COUNTERS;
	     n = strtok_r(NULL, " \n", &sn)) {
		snprintf(snapv[nsnap].name, sizeof(snapv[0].name), "%s", n);
		snapv[nsnap++].val = counter(n);
	}
}

static void delta(const char *name, const char *want)
{
	int at_least = !strncmp(want, ">=", 2);
	long long w = strtoll(want + (at_least ? 2 : 0), NULL, 10);
	long long cur = counter(name), d;
	int i;

	for (i = 0; i < nsnap; i++)
		if (!strcmp(snapv[i].name, name))
			break;
	if (i == nsnap || cur < 0)
		die("no counter '%s' (or no snap before)", name);
	d = cur - snapv[i].val;
	printf("sockctl: delta %s = %lld (want %s)\n", name, d, want);
	fflush(stdout);
	if (at_least ? d < w : d != w) {
		fprintf(stderr, "sockctl: line %d: %s moved by %lld, expected %s\n",
			lineno, name, d, want);
		exit(1);
	}
}

static void do_sysctl(const char *name, const char *val)
{
	char path[160];
	FILE *f;

	if (is_tcp) {
		static const char *const fixed[] = { "timewait_len",
			"rto_initial_ms", "rto_min_ms", "rto_max_ms", NULL };
		int i;

		for (i = 0; fixed[i]; i++)
			if (!strcmp(name, fixed[i]))
				return;	/* Linux TCP has no such setting */
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/tcp_%s", name);
	} else {
		snprintf(path, sizeof(path), "/proc/sys/net/cftcp/%s", name);
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", val) < 0 || fclose(f))
		die("cannot write %s", path);
}

static void do_opt(char **argv, int argc, const char *line, const char *want)
{
	int fd = sock_fd(argv[1]), val, ret, level = SOL_SOCKET, name;
	const char *o = argv[2];

	if (argc < 4)
		die("%s", "opt S NAME VALUE");
	val = atoi(argv[3]);
	if (!strcmp(o, "bindtodevice")) {
		ret = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, argv[3],
				 strlen(argv[3]));
		check(line, ret, errno, want);
		return;
	}
	if (!strcmp(o, "linger")) {
		struct linger lg = { .l_onoff = val,
				     .l_linger = argc > 4 ? atoi(argv[4]) : 0 };

		ret = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		check(line, ret, errno, want);
		return;
	}
	if (!strcmp(o, "dropfilter")) {
		struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
		struct sock_fprog prog = { .len = 1, .filter = &drop };

		ret = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				 sizeof(prog));
		check(line, ret, errno, want);
		return;
	}
	if (!strcmp(o, "reuseaddr")) {
		name = SO_REUSEADDR;
	} else if (!strcmp(o, "rcvbuf")) {
		name = SO_RCVBUF;
	} else if (!strcmp(o, "sndbuf")) {
		name = SO_SNDBUF;
	} else {
		level = sol;
		if (!strcmp(o, "syncnt"))
			name = CFTCP_SYNCNT;
		else if (!strcmp(o, "linger2"))
			name = CFTCP_LINGER2;
		else if (!strcmp(o, "nodelay"))
			name = CFTCP_NODELAY;
		else
			die("unknown option '%s'", o);
	}
	ret = setsockopt(fd, level, name, &val, sizeof(val));
	check(line, ret, errno, want);
}

static int parse_events(const char *s)
{
	static const struct { const char *n; int v; } ev[] = {
		{ "IN", POLLIN }, { "OUT", POLLOUT }, { "ERR", POLLERR },
		{ "HUP", POLLHUP }, { "RDHUP", POLLRDHUP }, { "PRI", POLLPRI },
	};
	char buf[128], *t, *sp;
	int v = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (t = strtok_r(buf, "|", &sp); t; t = strtok_r(NULL, "|", &sp)) {
		if (!strcmp(t, "0"))
			continue;
		for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
			if (!strcmp(t, ev[i].n))
				break;
		if (i == sizeof(ev) / sizeof(ev[0]))
			die("unknown poll event '%s'", t);
		v |= ev[i].v;
	}
	return v;
}

static int has(char **argv, int argc, const char *w)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], w))
			return 1;
	return 0;
}

static void run_line(char *line)
{
	char copy[512], *argv[32], *want = NULL, *tok;
	int argc = 0, fd, i;
	long ret;

	snprintf(copy, sizeof(copy), "%s", line);
	copy[strcspn(copy, "\n")] = 0;
	for (tok = strtok(line, " \t\n"); tok && argc < 31;
	     tok = strtok(NULL, " \t\n")) {
		if (*tok == '#')
			break;
		if (!strcmp(tok, "->")) {
			want = strtok(NULL, " \t\n");
			break;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (!argc)
		return;
	if (strchr(copy, '#'))
		*strchr(copy, '#') = 0;

#define NEED(n) do { if (argc < (n)) die("too few arguments: %s", copy); } while (0)
	if (!strcmp(argv[0], "socket")) {
		NEED(2);
		i = sock_slot(argv[1], 1);
		socks[i].fd = socket(family, SOCK_STREAM, proto);
		check(copy, socks[i].fd, errno, want);
	} else if (!strcmp(argv[0], "opt")) {
		NEED(4);
		do_opt(argv, argc, copy, want);
	} else if (!strcmp(argv[0], "bind") || !strcmp(argv[0], "connect")) {
		struct sockaddr_in a;

		NEED(4);
		fd = sock_fd(argv[1]);
		set_addr(&a, argv[2], argv[3]);
		if (!strcmp(argv[0], "bind")) {
			ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
		} else {
			if (has(argv, argc, "nonblock"))
				fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			ret = connect(fd, (struct sockaddr *)&a, sizeof(a));
			i = errno;
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			errno = i;
		}
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "listen")) {
		NEED(3);
		ret = listen(sock_fd(argv[1]), atoi(argv[2]));
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "waitconn")) {
		struct pollfd p;
		int err = 0;
		socklen_t len = sizeof(err);

		NEED(2);
		p.fd = sock_fd(argv[1]);
		p.events = POLLOUT;
		if (poll(&p, 1, (int)((argc > 2 ? atof(argv[2]) : 10) * 1000)) != 1)
			die("%s: no POLLOUT in time", copy);
		getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		check(copy, err ? -1 : 0, err, want);
	} else if (!strcmp(argv[0], "noconn")) {
		struct pollfd p;

		NEED(3);
		p.fd = sock_fd(argv[1]);
		p.events = POLLOUT;
		ret = poll(&p, 1, (int)(atof(argv[2]) * 1000));
		if (ret)
			die("%s: it connected or failed in time", copy);
	} else if (!strcmp(argv[0], "uid")) {
		uid_t u;

		NEED(2);
		u = (uid_t)atoi(argv[1]);
		ret = setresgid(u, u, u) ?: setresuid(u, u, u);
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "accept")) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		NEED(3);
		i = sock_slot(argv[2], 1);
		socks[i].fd = accept4(sock_fd(argv[1]), (struct sockaddr *)&a,
				      &len, has(argv, argc, "nonblock") ?
				      SOCK_NONBLOCK : 0);
		ret = socks[i].fd < 0 ? -1 : ntohs(a.sin_port);
		if (ret >= 0)
			fcntl(socks[i].fd, F_SETFL,
			      fcntl(socks[i].fd, F_GETFL) & ~O_NONBLOCK);
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "close")) {
		NEED(2);
		i = sock_slot(argv[1], 0);
		ret = close(socks[i].fd);
		socks[i].fd = -1;
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "shutdown")) {
		int how;

		NEED(3);
		how = !strcmp(argv[2], "rd") ? SHUT_RD :
		      !strcmp(argv[2], "wr") ? SHUT_WR : SHUT_RDWR;
		ret = shutdown(sock_fd(argv[1]), how);
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "send")) {
		static char buf[65536];
		int len;

		NEED(3);
		len = atoi(argv[2]);
		if (len > (int)sizeof(buf))
			die("send too long: %s", argv[2]);
		for (i = 0; i < len; i++)
			buf[i] = 'A' + i % 26;
		ret = send(sock_fd(argv[1]), buf, len,
			   has(argv, argc, "nosignal") ? MSG_NOSIGNAL : 0);
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "recv")) {
		static char buf[65536];
		int len, flags = 0;

		NEED(3);
		len = atoi(argv[2]);
		if (len > (int)sizeof(buf))
			die("recv too long: %s", argv[2]);
		if (has(argv, argc, "nonblock"))
			flags |= MSG_DONTWAIT;
		if (has(argv, argc, "all"))
			flags |= MSG_WAITALL;
		ret = recv(sock_fd(argv[1]), buf, len, flags);
		if (ret > 0 && has(argv, argc, "check"))
			for (i = 0; i < ret; i++)
				if (buf[i] != 'a' + i % 26)
					die("%s: byte out of place", copy);
		check(copy, ret, errno, want);
	} else if (!strcmp(argv[0], "inq")) {
		int n = 0;

		NEED(2);
		ret = ioctl(sock_fd(argv[1]), SIOCINQ, &n);
		check(copy, ret < 0 ? ret : n, errno, want);
	} else if (!strcmp(argv[0], "bufsize")) {
		int val = 0;
		socklen_t len = sizeof(val);

		NEED(3);
		ret = getsockopt(sock_fd(argv[1]), SOL_SOCKET,
				 strcmp(argv[2], "snd") ? SO_RCVBUF : SO_SNDBUF,
				 &val, &len);
		check(copy, ret < 0 ? ret : val, errno, want);
	} else if (!strcmp(argv[0], "protomem")) {
		const char *want_name = is_tcp ? "TCP" : "CFTCP";
		char pline[512], pname[32];
		FILE *f = fopen("/proc/net/protocols", "r");
		long size, socks, mem, found = -1;

		if (!f)
			die("cannot read %s", "/proc/net/protocols");
		while (found < 0 && fgets(pline, sizeof(pline), f))
			if (sscanf(pline, "%31s %ld %ld %ld", pname, &size, &socks,
				   &mem) == 4 && !strcmp(pname, want_name))
				found = mem;
		fclose(f);
		check(copy, found, ENOENT, want);
	} else if (!strcmp(argv[0], "rmem")) {
		__u32 mem[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mem);

		NEED(2);
		ret = getsockopt(sock_fd(argv[1]), SOL_SOCKET, SO_MEMINFO, mem,
				 &len);
		check(copy, ret < 0 ? ret : (long)mem[SK_MEMINFO_RMEM_ALLOC],
		      errno, want);
	} else if (!strcmp(argv[0], "infostate")) {
		struct cftcp_info info;
		socklen_t len = sizeof(info);
		int st;

		NEED(3);
		memset(&info, 0, sizeof(info));
		if (getsockopt(sock_fd(argv[1]), sol, CFTCP_INFO, &info, &len))
			die("%s: INFO option failed", copy);
		st = info.cfi_state;
		printf("sockctl: %s = %s\n", copy,
		       st > 0 && st < CFTCP_MAX_STATES ? state_names[st] : "?");
		if (st <= 0 || st >= CFTCP_MAX_STATES ||
		    strcmp(state_names[st], argv[2]))
			die("%s: another state", copy);
	} else if (!strcmp(argv[0], "poll")) {
		struct pollfd p;

		NEED(3);
		p.fd = sock_fd(argv[1]);
		p.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;
		p.revents = 0;
		poll(&p, 1, 0);
		printf("sockctl: %s = 0x%x\n", copy, p.revents);
		if (p.revents != parse_events(argv[2]))
			die("%s: another mask", copy);
	} else if (!strcmp(argv[0], "sigpipes")) {
		NEED(2);
		printf("sockctl: %s = %d\n", copy, (int)sigpipes);
		if (sigpipes != atoi(argv[1]))
			die("%s: another count", copy);
	} else if (!strcmp(argv[0], "state")) {
		double end;
		int st = -2, want_st;

		NEED(4);
		want_st = strcmp(argv[3], "-") ? (int)strtol(argv[3], NULL, 16) : -1;
		end = now() + (argc > 4 ? atof(argv[4]) : 10);
		for (;;) {
			st = table_state(atoi(argv[1]), atoi(argv[2]));
			if (st == want_st || now() > end)
				break;
			sleep_s(0.01);
		}
		if (st < 0)
			printf("sockctl: %s = -\n", copy);
		else
			printf("sockctl: %s = %02X\n", copy, st);
		if (st != want_st)
			die("%s: another state", copy);
	} else if (!strcmp(argv[0], "count")) {
		int n;

		NEED(4);
		n = table_count(atoi(argv[1]), strtol(argv[2], NULL, 16));
		printf("sockctl: %s = %d\n", copy, n);
		if (n != atoi(argv[3]))
			die("%s: another count", copy);
	} else if (!strcmp(argv[0], "snap")) {
		snap();
	} else if (!strcmp(argv[0], "delta")) {
		NEED(3);
		delta(argv[1], argv[2]);
	} else if (!strcmp(argv[0], "sysctl")) {
		NEED(3);
		do_sysctl(argv[1], argv[2]);
	} else if (!strcmp(argv[0], "touch") || !strcmp(argv[0], "wait")) {
		char path[512];
		struct stat sb;
		double end;

		NEED(2);
		snprintf(path, sizeof(path), "%s/%s", syncdir, argv[1]);
		if (argv[0][0] == 't') {
			FILE *f = fopen(path, "w");

			if (!f)
				die("cannot create %s", path);
			fclose(f);
			return;
		}
		end = now() + (argc > 2 ? atof(argv[2]) : 30);
		while (stat(path, &sb)) {
			if (now() > end)
				die("%s did not come", path);
			sleep_s(0.01);
		}
	} else if (!strcmp(argv[0], "sleep")) {
		NEED(2);
		sleep_s(atof(argv[1]));
	} else if (!strcmp(argv[0], "echo")) {
		printf("%s\n", copy);
	} else {
		die("unknown command '%s'", argv[0]);
	}
	fflush(stdout);
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char line[512];
	int opt;

	while ((opt = getopt(argc, argv, "f:D:")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "tcp")) {
				family = AF_INET;
				proto = IPPROTO_TCP;
				sol = IPPROTO_TCP;
				table = "/proc/net/tcp";
				is_tcp = 1;
			} else if (strcmp(optarg, "cftcp")) {
				goto usage;
			}
			break;
		case 'D':
			syncdir = optarg;
			break;
		default:
			goto usage;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		run_line(line);
	}
	return 0;
usage:
	fprintf(stderr, "usage: sockctl [-f cftcp|tcp] [-D SYNCDIR] < script\n");
	return 2;
}

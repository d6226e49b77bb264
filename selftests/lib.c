// SPDX-License-Identifier: GPL-2.0
/*
 * Shared calls of the cftcp selftests: addresses of the family under test,
 * loopback connection pairs, the connection table in /proc/net/{cftcp,tcp},
 * sysctls and counters, each read the same way in both builds.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

_Static_assert(sizeof(struct sockaddr_cftcp) == sizeof(struct sockaddr_in),
	       "sockaddr_cftcp must have the size of sockaddr_in");
_Static_assert(__builtin_offsetof(struct sockaddr_cftcp, scf_port) ==
	       __builtin_offsetof(struct sockaddr_in, sin_port),
	       "scf_port must sit where sin_port does");
_Static_assert(__builtin_offsetof(struct sockaddr_cftcp, scf_addr) ==
	       __builtin_offsetof(struct sockaddr_in, sin_addr),
	       "scf_addr must sit where sin_addr does");

void taddr_set(struct taddr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
#ifdef TEST_CFTCP
	a->cf.scf_family = AF_CFTCP;
	a->cf.scf_port = htons(port);
	inet_pton(AF_INET, ip, &a->cf.scf_addr);
#else
	a->in.sin_family = AF_INET;
	a->in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->in.sin_addr);
#endif
}

uint16_t taddr_port(const struct taddr *a)
{
	return ntohs(a->in.sin_port);
}

uint32_t taddr_ip(const struct taddr *a)
{
	return a->in.sin_addr.s_addr;
}

int taddr_family(const struct taddr *a)
{
	return a->sa.sa_family;
}

int sock_new(int flags)
{
	return socket(FAMILY, SOCK_STREAM | flags, PROTO);
}

int listener(const char *ip, uint16_t port, int backlog, struct taddr *bound)
{
	struct taddr a, b;
	socklen_t len = sizeof(b);
	int one = 1, fd, err;

	fd = sock_new(0);
	if (fd < 0)
		return -1;
	taddr_set(&a, ip, port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, &a.sa, TADDR_LEN) || listen(fd, backlog) ||
	    getsockname(fd, &b.sa, &len))
		goto fail;
	if (bound)
		*bound = b;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int set_bufs(int fd, int buf)
{
	if (buf <= 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)))
		return -1;
	return 0;
}

/*
 * A connected pair over 127.0.0.1 through a fresh listener on an ephemeral
 * port; buf > 0 sets SO_RCVBUF and SO_SNDBUF on both ends before the
 * handshake (the accepted end inherits them from the listener).
 */
int connect_pair_buf(int *cli, int *srv, int *lfd, int buf)
{
	struct taddr a;
	socklen_t len = sizeof(a);
	int l, c, s, err;

	l = sock_new(0);
	if (l < 0)
		return -1;
	taddr_set(&a, "127.0.0.1", 0);
	if (set_bufs(l, buf) || bind(l, &a.sa, TADDR_LEN) || listen(l, 8))
		goto fail_l;
	if (getsockname(l, &a.sa, &len))
		goto fail_l;
	c = sock_new(0);
	if (c < 0)
		goto fail_l;
	if (set_bufs(c, buf) || connect(c, &a.sa, TADDR_LEN))
		goto fail_c;
	s = accept(l, NULL, NULL);
	if (s < 0)
		goto fail_c;
	*cli = c;
	*srv = s;
	if (lfd)
		*lfd = l;
	else
		close(l);
	return 0;
fail_c:
	err = errno;
	close(c);
	errno = err;
fail_l:
	err = errno;
	close(l);
	errno = err;
	return -1;
}

int connect_pair(int *cli, int *srv, int *lfd)
{
	return connect_pair_buf(cli, srv, lfd, 0);
}

uint16_t local_port(int fd)
{
	struct taddr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len))
		return 0;
	return taddr_port(&a);
}

uint16_t peer_port(int fd)
{
	struct taddr a;
	socklen_t len = sizeof(a);

	if (getpeername(fd, &a.sa, &len))
		return 0;
	return taddr_port(&a);
}

int sock_state(int fd)
{
	struct cftcp_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_PROTO, INFO_OPT, &info, &len) || len < 1)
		return -1;
	return info.cfi_state;
}

int sock_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -1;
	return err;
}

/* A loopback port nothing listens on: bound once, then released. */
uint16_t unused_port(void)
{
	struct taddr a;
	socklen_t len = sizeof(a);
	uint16_t port = 0;
	int fd;

	fd = sock_new(0);
	if (fd < 0)
		return 0;
	taddr_set(&a, "127.0.0.1", 0);
	if (!bind(fd, &a.sa, TADDR_LEN) && !getsockname(fd, &a.sa, &len))
		port = taddr_port(&a);
	close(fd);
	return port;
}

/*
 * The line of PROC_NET-formatted file @path whose local and remote ports are
 * @lport and @rport. Returns its state, -1 when there is none, -2 when the
 * file cannot be read.
 */
int proc_line(uint16_t lport, uint16_t rport, char *buf, int len,
	      const char *path)
{
	char line[512];
	unsigned int lp, rp, st;
	FILE *f;
	int ret = -1;

	f = fopen(path, "r");
	if (!f)
		return -2;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -2;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*x:%x %*x:%x %x", &lp, &rp, &st) != 3)
			continue;
		if (lp == lport && rp == rport) {
			ret = st;
			if (buf)
				snprintf(buf, len, "%s", line);
			break;
		}
	}
	fclose(f);
	return ret;
}

int proc_state(uint16_t lport, uint16_t rport)
{
	return proc_line(lport, rport, NULL, 0, PROC_NET);
}

/*
 * Poll the connection table until the (lport, rport) entry is in state @st
 * (-1: until it is gone), at most @ms milliseconds. Returns the state last
 * seen, so a caller asserts on the return value.
 */
int wait_state(uint16_t lport, uint16_t rport, int st, int ms)
{
	int seen;

	for (;;) {
		seen = proc_state(lport, rport);
		if (seen == st || ms <= 0 || seen == -2)
			return seen;
		msleep(10);
		ms -= 10;
	}
}

int read_long(const char *path, long *val)
{
	char buf[64];
	FILE *f;
	int ok;

	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	*val = strtol(buf, NULL, 0);
	return 0;
}

/* Write @val to a /proc file; returns 0 or -1 with the write's errno. */
int write_str(const char *path, const char *val)
{
	int fd, err;
	ssize_t n;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Path of the sysctl named @name in /proc/sys/net/cftcp/; in the TCP build
 * the path of Linux's tcp_<name>. Returns -1 when TCP has no counterpart.
 */
int sysctl_path(char *buf, int len, const char *name)
{
#ifdef TEST_CFTCP
	snprintf(buf, len, "/proc/sys/net/cftcp/%s", name);
	return 0;
#else
	/* Settings that Linux TCP keeps fixed or names differently. */
	static const char *const cftcp_only_sysctls[] = {
		"timewait_len", "rto_initial_ms", "rto_min_ms", "rto_max_ms",
		"rmem_default", "wmem_default", NULL,
	};
	int i;

	for (i = 0; cftcp_only_sysctls[i]; i++)
		if (!strcmp(name, cftcp_only_sysctls[i]))
			return -1;
	snprintf(buf, len, "/proc/sys/net/ipv4/tcp_%s", name);
	return 0;
#endif
}

/* The value of @name in "Prefix: NAME NAME..." / "Prefix: VAL VAL..." pairs. */
static long long pair_value(const char *path, const char *prefix,
			    const char *name)
{
	static char names[8192], vals[8192];
	size_t plen = strlen(prefix);
	long long ret = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f)) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, prefix, plen))
			continue;
		if (!fgets(vals, sizeof(vals), f) || strncmp(vals, prefix, plen))
			break;
		n = strtok_r(names + plen, " \n", &sn);
		v = strtok_r(vals + plen, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, name)) {
				ret = strtoll(v, NULL, 10);
				goto out;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
out:
	fclose(f);
	return ret;
}

#ifndef TEST_CFTCP
/* cftcp counter name -> Linux TCP's, where the meaning is the same. */
static const struct {
	const char *cftcp, *file, *prefix, *tcp;
} tcp_counters[] = {
	{ "ActiveOpens", "/proc/net/snmp", "Tcp:", "ActiveOpens" },
	{ "PassiveOpens", "/proc/net/snmp", "Tcp:", "PassiveOpens" },
	{ "AttemptFails", "/proc/net/snmp", "Tcp:", "AttemptFails" },
	{ "EstabResets", "/proc/net/snmp", "Tcp:", "EstabResets" },
	{ "CurrEstab", "/proc/net/snmp", "Tcp:", "CurrEstab" },
	{ "InSegs", "/proc/net/snmp", "Tcp:", "InSegs" },
	{ "OutSegs", "/proc/net/snmp", "Tcp:", "OutSegs" },
	{ "RetransSegs", "/proc/net/snmp", "Tcp:", "RetransSegs" },
	{ "InErrs", "/proc/net/snmp", "Tcp:", "InErrs" },
	{ "OutRsts", "/proc/net/snmp", "Tcp:", "OutRsts" },
	{ "InCsumErrors", "/proc/net/snmp", "Tcp:", "InCsumErrors" },
	{ "SynRetrans", "/proc/net/netstat", "TcpExt:", "TCPSynRetrans" },
	{ "ListenOverflows", "/proc/net/netstat", "TcpExt:", "ListenOverflows" },
	{ "ListenDrops", "/proc/net/netstat", "TcpExt:", "ListenDrops" },
	{ "ReqQFullDrop", "/proc/net/netstat", "TcpExt:", "TCPReqQFullDrop" },
	{ "SyncookiesSent", "/proc/net/netstat", "TcpExt:", "SyncookiesSent" },
	{ "SyncookiesRecv", "/proc/net/netstat", "TcpExt:", "SyncookiesRecv" },
	{ "SyncookiesFailed", "/proc/net/netstat", "TcpExt:", "SyncookiesFailed" },
	{ "TimeWaitOverflow", "/proc/net/netstat", "TcpExt:", "TCPTimeWaitOverflow" },
	{ "TWRecycled", "/proc/net/netstat", "TcpExt:", "TWRecycled" },
	{ "TWKilled", "/proc/net/netstat", "TcpExt:", "TWKilled" },
	{ "ChallengeACK", "/proc/net/netstat", "TcpExt:", "TCPChallengeACK" },
	{ "Timeouts", "/proc/net/netstat", "TcpExt:", "TCPTimeouts" },
	{ "FastRetrans", "/proc/net/netstat", "TcpExt:", "TCPFastRetrans" },
	{ "AbortOnClose", "/proc/net/netstat", "TcpExt:", "TCPAbortOnClose" },
	{ "AbortOnData", "/proc/net/netstat", "TcpExt:", "TCPAbortOnData" },
	{ "AbortOnLinger", "/proc/net/netstat", "TcpExt:", "TCPAbortOnLinger" },
	{ "AbortOnTimeout", "/proc/net/netstat", "TcpExt:", "TCPAbortOnTimeout" },
};
#endif

/*
 * A counter of this network namespace by its cftcp name: from
 * /proc/net/cftcp_stat, or in the TCP build from Linux's counter of the same
 * meaning. -1 when there is none.
 */
long long counter(const char *name)
{
#ifdef TEST_CFTCP
	return pair_value("/proc/net/cftcp_stat", "CfTcp:", name);
#else
	size_t i;

	for (i = 0; i < sizeof(tcp_counters) / sizeof(tcp_counters[0]); i++)
		if (!strcmp(tcp_counters[i].cftcp, name))
			return pair_value(tcp_counters[i].file,
					  tcp_counters[i].prefix,
					  tcp_counters[i].tcp);
	return -1;
#endif
}

static int inq(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/*
 * Write into @wfd until neither its send queue nor the queue of @rfd (the
 * peer, not reading) moves any more: the peer's window is then closed and
 * whatever is queued next (a FIN) stays unsent. Returns 0, the byte count in
 * *total.
 */
int fill_until_stuck(int wfd, int rfd, long long *total)
{
	static char buf[16384];
	struct pollfd p = { .fd = wfd, .events = POLLOUT };
	int fl, before, quiet = 0;
	ssize_t n;

	memset(buf, 'x', sizeof(buf));
	*total = 0;
	fl = fcntl(wfd, F_GETFL);
	if (fl < 0 || fcntl(wfd, F_SETFL, fl | O_NONBLOCK))
		return -1;
	while (quiet < 2) {
		n = send(wfd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			*total += n;
			quiet = 0;
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		before = inq(rfd);
		if (poll(&p, 1, 300) == 0 && inq(rfd) == before)
			quiet++;
	}
	return fcntl(wfd, F_SETFL, fl);
}

/*
 * Read @fd to end of stream, at most @max bytes; the count in *got. Returns
 * 0 at end of stream, -1 with errno ETIMEDOUT when nothing arrives for
 * WAIT_MS, EMSGSIZE past @max, or the error of recv().
 */
int drain(int fd, long long max, long long *got)
{
	static char buf[65536];
	ssize_t n;

	*got = 0;
	for (;;) {
		if (!poll_one(fd, POLLIN, WAIT_MS)) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			return -1;
		}
		*got += n;
		if (*got > max) {
			errno = EMSGSIZE;
			return -1;
		}
	}
}

/* The events of @fd that poll() reports within @ms, 0 if none. */
short poll_one(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, ms) != 1)
		return 0;
	return p.revents;
}

/* How many lines of the connection table are in state @st. */
int table_count(int st)
{
	char line[512];
	unsigned int s;
	int n = 0;
	FILE *f;

	f = fopen(PROC_NET, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%*x %*x:%*x %x", &s) == 1 &&
		    (int)s == st)
			n++;
	fclose(f);
	return n;
}

/* Run a shell command, quietly; its exit status or -1. */
int run(const char *cmd)
{
	char buf[512];
	int st;

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	st = system(buf);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Can this namespace's loopback be given a netem qdisc (tc, sch_netem)? */
bool have_netem(void)
{
	if (run("tc qdisc replace dev lo root netem loss 0%"))
		return false;
	run("tc qdisc del dev lo root");
	return true;
}

const char *state_name(int st)
{
	static const char *const names[] = {
		[CFTCP_ESTABLISHED] = "ESTABLISHED",
		[CFTCP_SYN_SENT] = "SYN_SENT",
		[CFTCP_SYN_RECV] = "SYN_RECV",
		[CFTCP_FIN_WAIT1] = "FIN_WAIT1",
		[CFTCP_FIN_WAIT2] = "FIN_WAIT2",
		[CFTCP_TIME_WAIT] = "TIME_WAIT",
		[CFTCP_CLOSE] = "CLOSE",
		[CFTCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[CFTCP_LAST_ACK] = "LAST_ACK",
		[CFTCP_LISTEN] = "LISTEN",
		[CFTCP_CLOSING] = "CLOSING",
	};

	if (st == -1)
		return "(none)";
	if (st < 0 || st >= CFTCP_MAX_STATES || !names[st])
		return "(unreadable)";
	return names[st];
}

void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

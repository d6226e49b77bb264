// SPDX-License-Identifier: GPL-2.0
/*
 * State transitions that sockets alone can drive over 127.0.0.1, built for
 * cftcp and for Linux TCP so that Linux proves each expectation: SHUT_RD,
 * SHUT_RDWR followed by data, simultaneous close, SO_LINGER waiting for the
 * FIN's ACK or running out, a reset in CLOSE_WAIT, SYN retries per socket,
 * max_tw_buckets, and (cftcp only, Linux's TIME_WAIT is a fixed 60 s) ten
 * thousand TIME_WAIT entries reaped on time. Loss and delay come from a
 * netem qdisc on loopback.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define GONE	(-1)

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Lines of the connection table in state @st (to remote port @rport). */
static int count_lines(int st, unsigned int rport)
{
	char line[512];
	unsigned int s, rp;
	int n = 0;
	FILE *f = fopen(PROC_NET, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%*x %*x:%x %x", &rp, &s) == 2 &&
		    (int)s == st && (!rport || rp == rport))
			n++;
	fclose(f);
	return n;
}

static int count_state(int st)
{
	return count_lines(st, 0);
}

#ifdef TEST_CFTCP
struct tuple {
	unsigned int la, ra, lp, rp;
};

static int tuple_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct tuple));
}

/*
 * One read of the table: in state @st, the lines to remote port @rport
 * (*@mine), how many of their 4-tuples differ (*@distinct), and the
 * lines to other ports (*@other).
 */
static int scan_state(int st, unsigned int rport, int *mine, int *distinct,
		      int *other)
{
	static struct tuple seen[1 << 15];
	unsigned int s;
	char line[512];
	struct tuple t;
	FILE *f = fopen(PROC_NET, "r");
	int i;

	if (!f)
		return -1;
	*mine = 0;
	*other = 0;
	while (fgets(line, sizeof(line), f)) {
		memset(&t, 0, sizeof(t));
		if (sscanf(line, " %*u: %x:%x %x:%x %x", &t.la, &t.lp, &t.ra,
			   &t.rp, &s) != 5 || (int)s != st)
			continue;
		if (t.rp != rport) {
			(*other)++;
			continue;
		}
		if (*mine == (int)(sizeof(seen) / sizeof(seen[0])))
			break;
		seen[(*mine)++] = t;
	}
	fclose(f);
	qsort(seen, *mine, sizeof(seen[0]), tuple_cmp);
	*distinct = *mine > 0;
	for (i = 1; i < *mine; i++)
		if (tuple_cmp(&seen[i - 1], &seen[i]))
			(*distinct)++;
	return 0;
}
#endif

/* Set sysctl @name (cftcp's, or TCP's twin); old value in *old. */
static int set_sysctl(const char *name, const char *val, long *old)
{
	char path[128];

	if (sysctl_path(path, sizeof(path), name))
		return -1;
	if (old && read_long(path, old))
		return -1;
	return write_str(path, val);
}

static void restore_sysctl(const char *name, long val)
{
	char path[128], buf[32];

	if (sysctl_path(path, sizeof(path), name))
		return;
	snprintf(buf, sizeof(buf), "%ld", val);
	write_str(path, buf);
}

/*
 * One connection over loopback through listener @l (bound to @a) whose
 * client end closes first, so that it ends in TIME_WAIT (or in nothing,
 * over max_tw_buckets). Every step waits for the one before: SHUT_WR, the
 * server reads end of stream, closes, the client reads end of stream.
 */
static int one_timewait(int l, const struct taddr *a)
{
	char buf[4];
	int c, s, ret = -1;

	c = sock_new(0);
	if (c < 0)
		return -1;
	if (connect(c, &a->sa, TADDR_LEN))
		goto out_c;
	s = accept(l, NULL, NULL);
	if (s < 0)
		goto out_c;
	if (shutdown(c, SHUT_WR) || recv(s, buf, sizeof(buf), 0) != 0 ||
	    close(s) || recv(c, buf, sizeof(buf), 0) != 0)
		goto out_c;
	ret = 0;
out_c:
	close(c);
	return ret;
}

/*
 * SHUT_RD: data queued before it is still read, then end of stream; no
 * segment goes out, so the peer keeps sending, and what it sends is
 * acknowledged and readable (Linux queues data after SHUT_RD). The
 * connection stays ESTABLISHED on both ends.
 */
TEST(shutdown_rd_then_data)
{
	struct pollfd p;
	int c, s;
	char buf[8];

	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(3, send(s, "abc", 3, 0));
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, WAIT_MS));
	ASSERT_EQ(0, shutdown(c, SHUT_RD));
	EXPECT_EQ(3, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	p = (struct pollfd){ .fd = c, .events = POLLIN | POLLOUT | POLLRDHUP };
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, p.revents);
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(local_port(s), local_port(c)));
	EXPECT_EQ(2, send(s, "de", 2, 0));
	/* acknowledged: nothing stays in the sender's queue */
	for (int i = 0; i < 100; i++) {
		int outq = -1;

		if (ioctl(s, SIOCOUTQ, &outq) || outq == 0)
			break;
		msleep(10);
	}
	EXPECT_EQ(2, recv(c, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "de", 2));
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(local_port(c), local_port(s)));
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(local_port(s), local_port(c)));
	EXPECT_EQ(0, sock_error(s));
	close(c);
	close(s);
}

/*
 * SHUT_RDWR, then data from the peer: the reading side was shut by the
 * user, so the data has no reader; in FIN_WAIT1/2 that resets the
 * connection (RFC 1122 4.2.2.13; Linux's tcp_rcv_state_process(),
 * AbortOnData), even though the socket is still open. The closer reads
 * ECONNRESET; the peer, in CLOSE_WAIT with the FIN read, gets end of
 * stream and then EPIPE.
 */
TEST(shutdown_rdwr_then_data_resets)
{
	long long aborts = counter("AbortOnData");
	uint16_t cp, sp;
	char buf[8];
	int c, s;

	ASSERT_LE(0, aborts);
	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	cp = local_port(c);
	sp = local_port(s);
	ASSERT_EQ(0, shutdown(c, SHUT_RDWR));
	ASSERT_EQ(CFTCP_FIN_WAIT2, wait_state(cp, sp, CFTCP_FIN_WAIT2, WAIT_MS));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, wait_state(sp, cp, CFTCP_CLOSE_WAIT, WAIT_MS));
	ASSERT_EQ(4, send(s, "late", 4, MSG_NOSIGNAL));
	EXPECT_EQ(GONE, wait_state(cp, sp, GONE, WAIT_MS));
	EXPECT_EQ(GONE, wait_state(sp, cp, GONE, WAIT_MS));
	EXPECT_EQ(aborts + 1, counter("AbortOnData"));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(-1, send(s, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	close(c);
	close(s);
}

FIXTURE(lossy) {
	int c, s;
	uint16_t cp, sp;
	bool netem;
};

FIXTURE_SETUP(lossy)
{
	self->c = self->s = -1;
	self->netem = have_netem();
}

#define NEED_NETEM() do {						\
	if (!self->netem)						\
		SKIP(return, "no netem qdisc (tc or sch_netem missing)");	\
} while (0)

FIXTURE_TEARDOWN(lossy)
{
	run("tc qdisc del dev lo root");
	if (self->c >= 0)
		close(self->c);
	if (self->s >= 0)
		close(self->s);
}

static int lossy_pair(FIXTURE_DATA(lossy) *self)
{
	if (connect_pair(&self->c, &self->s, NULL))
		return -1;
	self->cp = local_port(self->c);
	self->sp = local_port(self->s);
	return 0;
}

/*
 * Simultaneous close: both ends send their FIN while every packet is lost,
 * so each is in FIN_WAIT1 when the other's FIN arrives; both pass through
 * CLOSING or FIN_WAIT2 and both end in TIME_WAIT.
 */
TEST_F(lossy, simultaneous_close)
{
	char buf[4];

	NEED_NETEM();
	ASSERT_EQ(0, lossy_pair(self)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(0, shutdown(self->s, SHUT_WR));
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->cp, self->sp));
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->sp, self->cp));
	ASSERT_EQ(0, run("tc qdisc del dev lo root"));
	EXPECT_EQ(CFTCP_TIME_WAIT, wait_state(self->cp, self->sp,
					      CFTCP_TIME_WAIT, 3 * WAIT_MS));
	EXPECT_EQ(CFTCP_TIME_WAIT, wait_state(self->sp, self->cp,
					      CFTCP_TIME_WAIT, 3 * WAIT_MS));
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
}

/*
 * SO_LINGER {1, 5}: close() returns once the FIN is acknowledged, not
 * before: with 300 ms of delay each way, the connection is in FIN_WAIT2
 * (not FIN_WAIT1) the moment close() returns.
 */
TEST_F(lossy, linger_close_waits_for_ack)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 5 };
	int fd;

	NEED_NETEM();
	ASSERT_EQ(0, lossy_pair(self)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->c, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem delay 300ms"));
	fd = self->c;
	self->c = -1;
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(CFTCP_FIN_WAIT2, proc_state(self->cp, self->sp));
}

/*
 * SO_LINGER {1, 1} and the FIN never acknowledged: close() gives up after
 * the linger time and returns 0; the orphan stays in FIN_WAIT1 and
 * finishes once packets flow again.
 */
TEST_F(lossy, linger_close_times_out)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 1 };
	double t;
	int fd;

	NEED_NETEM();
	ASSERT_EQ(0, lossy_pair(self)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->c, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	fd = self->c;
	self->c = -1;
	t = now_s();
	ASSERT_EQ(0, close(fd));
	t = now_s() - t;
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->cp, self->sp));
	/* it did wait: a close() that does not linger returns at once */
	EXPECT_LE(0.9, t) TH_LOG("close() returned after %.3f s", t);
	ASSERT_EQ(0, run("tc qdisc del dev lo root"));
	EXPECT_EQ(CFTCP_FIN_WAIT2, wait_state(self->cp, self->sp,
					      CFTCP_FIN_WAIT2, 3 * WAIT_MS));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, proc_state(self->sp, self->cp));
}

/*
 * SYN_SENT -> CLOSED on timeout with the SYN count of the socket (1): one
 * retransmission, then ETIMEDOUT (SynRetrans, AttemptFails,
 * AbortOnTimeout). Timeouts counts every expiry of the timer, the last
 * one that gives up too (Linux's tcp_retransmit_timer()).
 */
TEST_F(lossy, syncnt_timeout)
{
	long long syn = counter("SynRetrans"), fails = counter("AttemptFails");
	long long aborts = counter("AbortOnTimeout");
	long long timeouts = counter("Timeouts");
	int one = 1, l;
	struct taddr a;

	NEED_NETEM();
	l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	self->s = l;
	self->c = sock_new(0);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, setsockopt(self->c, SOL_PROTO, CFTCP_SYNCNT, &one,
				sizeof(one)));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	EXPECT_EQ(-1, connect(self->c, &a.sa, TADDR_LEN));
	EXPECT_EQ(ETIMEDOUT, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(syn + 1, counter("SynRetrans"));
	EXPECT_EQ(fails + 1, counter("AttemptFails"));
	EXPECT_EQ(aborts + 1, counter("AbortOnTimeout"));
	EXPECT_EQ(timeouts + 2, counter("Timeouts"));
	EXPECT_EQ(GONE, proc_state(local_port(self->c), taddr_port(&a)));
}

/*
 * A reset in CLOSE_WAIT: the peer half-closed, then aborted (SO_LINGER
 * {1, 0} in FIN_WAIT2). Writing gives EPIPE and raises SIGPIPE; the reset
 * counts in EstabResets (CLOSE_WAIT -> CLOSE).
 */
TEST(rst_in_close_wait)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long resets = counter("EstabResets");
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;
	uint16_t cp, sp;
	char buf[4];
	int c, s;

	ASSERT_LE(0, resets);
	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, &old));
	ASSERT_EQ(0, connect_pair(&c, &s, NULL)) TH_LOG("%s", strerror(errno));
	cp = local_port(c);
	sp = local_port(s);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_EQ(0, recv(s, buf, sizeof(buf), 0));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, proc_state(sp, cp));
	ASSERT_EQ(CFTCP_FIN_WAIT2, wait_state(cp, sp, CFTCP_FIN_WAIT2, WAIT_MS));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(c));
	EXPECT_EQ(GONE, wait_state(sp, cp, GONE, WAIT_MS));
	sigpipes = 0;
	EXPECT_EQ(-1, send(s, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(-1, send(s, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(resets + 1, counter("EstabResets"));
	sigaction(SIGPIPE, &old, NULL);
	close(s);
}

/*
 * max_tw_buckets room for 5 more: of eight connections closed into
 * TIME_WAIT, five get an entry, three just close (TimeWaitOverflow).
 */
TEST(timewait_overflow)
{
	long long over = counter("TimeWaitOverflow");
	int before = count_state(CFTCP_TIME_WAIT);
	struct taddr a;
	char max[16];
	long old;
	int l, i;

	ASSERT_LE(0, over);
	ASSERT_LE(0, before);
	snprintf(max, sizeof(max), "%d", before + 5);
	ASSERT_EQ(0, set_sysctl("max_tw_buckets", max, &old));
	l = listener("127.0.0.1", 0, 16, &a);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, one_timewait(l, &a)) TH_LOG("connection %d", i);
	EXPECT_EQ(before + 5, count_state(CFTCP_TIME_WAIT));
	EXPECT_EQ(over + 3, counter("TimeWaitOverflow"));
	close(l);
	restore_sysctl("max_tw_buckets", old);
}

/*
 * Ten thousand TIME_WAIT entries: every one is listed once in the table
 * while it lasts (none reaped before timewait_len, none lost, none listed
 * twice); all are reaped (TWReaped; none killed, but for the RSTs a resent
 * FIN can draw on a very slow machine) within timewait_len plus a margin
 * of the last one's start. cftcp only: Linux's TIME_WAIT is a fixed 60 s
 * (the TCP build has no such test, rather than a skipped one).
 */
#ifdef TEST_CFTCP
#define TW_MASS		10000
#define TW_LEN		20	/* seconds */
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define TW_LEN_STR	STR(TW_LEN)

FIXTURE(mass) {
	int unused;
};

FIXTURE_SETUP(mass)
{
}

FIXTURE_TEARDOWN(mass)
{
}

/*
 * Making them takes 7 to 12 s in the test VM, 210 s on the debug kernel
 * (which then checks only that none is lost); then TW_LEN to end them.
 */
TEST_F_TIMEOUT(mass, timewait_10000, 900)
{
	long long reaped = counter("TWReaped"), killed = counter("TWKilled");
	long long over = counter("TimeWaitOverflow");
	long long rtx = counter("RetransSegs"), kills;
	double t0, made, read;
	unsigned int port;
	struct taddr a;
	int l, i, n, others, others_now, distinct;
	long old;

	/* entries of earlier tests may end meanwhile and count too */
	others = count_state(CFTCP_TIME_WAIT);
	ASSERT_LE(0, reaped);
	ASSERT_LE(0, others);
	ASSERT_EQ(0, set_sysctl("timewait_len", TW_LEN_STR, &old));
	l = listener("127.0.0.1", 0, 128, &a);
	ASSERT_LE(0, l) TH_LOG("listener: %s", strerror(errno));
	port = taddr_port(&a);
	t0 = now_s();
	for (i = 0; i < TW_MASS; i++)
		ASSERT_EQ(0, one_timewait(l, &a))
			TH_LOG("connection %d: %s", i, strerror(errno));
	made = now_s() - t0;
	TH_LOG("%d connections into TIME_WAIT in %.1f s", TW_MASS, made);
	close(l);
	ASSERT_EQ(0, scan_state(CFTCP_TIME_WAIT, port, &n, &distinct,
				&others_now));
	read = now_s() - t0;
	/* each listed once, whenever the table is read */
	EXPECT_EQ(n, distinct);
	if (read < TW_LEN - 1) {
		/* none can have ended yet: all listed */
		EXPECT_EQ(TW_MASS, n);
	} else {
		/*
		 * Slow machine: the first entries may be gone already, but
		 * each one not listed was reaped or killed; the counters
		 * count those of earlier tests that ended too.
		 */
		TH_LOG("table read %.1f s after the first began", read);
		EXPECT_LE(TW_MASS, n + counter("TWReaped") - reaped +
			  counter("TWKilled") - killed - (others - others_now));
	}
	EXPECT_EQ(over, counter("TimeWaitOverflow"));
	/* all gone within timewait_len (plus slack) after the last began */
	for (i = 0; i < (TW_LEN + 30) * 10; i++) {
		n = count_lines(CFTCP_TIME_WAIT, port);
		if (n == 0)
			break;
		msleep(100);
	}
	TH_LOG("all gone %.1f s after the first began", now_s() - t0);
	EXPECT_EQ(0, n);
	/*
	 * None is killed unless the machine is so slow that a server resent
	 * its FIN: the entry's second ACK then finds only the listener, whose
	 * RST ends the entry (RFC 1337's assassination, rfc1337 0). Each such
	 * kill takes a retransmission.
	 */
	kills = counter("TWKilled") - killed;
	TH_LOG("%lld killed early, %lld segments retransmitted", kills,
	       counter("RetransSegs") - rtx);
	EXPECT_LE(kills, counter("RetransSegs") - rtx);
	EXPECT_LE(reaped + TW_MASS - kills, counter("TWReaped"));
	EXPECT_GE(reaped + TW_MASS + others, counter("TWReaped"));
	restore_sysctl("timewait_len", old);
}
#endif

TEST_HARNESS_MAIN

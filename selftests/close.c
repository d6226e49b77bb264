// SPDX-License-Identifier: GPL-2.0
/*
 * The close sequence as the connection table shows it: FIN_WAIT1,
 * FIN_WAIT2, CLOSE_WAIT, LAST_ACK and TIME_WAIT on the right ends, TIME_WAIT
 * ending after timewait_len, orphaned FIN_WAIT2 ending after fin_timeout, and
 * the closes that reset instead. The FIN_WAIT1 and LAST_ACK states are held
 * either by a closed receive window (the FIN queued behind data the peer
 * does not read) or by netem dropping every packet on loopback.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define TIMEWAIT_LEN	2	/* seconds, cftcp's timewait_len in this test */
#define FIN_TIMEOUT	2	/* seconds */

FIXTURE(closing) {
	char fin_timeout_path[128];
	long fin_timeout;
	long timewait_len;
	int c, s, l;		/* client, accepted end, listener */
	uint16_t cp, sp;	/* their ports */
};

FIXTURE_SETUP(closing)
{
	ASSERT_EQ(0, sysctl_path(self->fin_timeout_path,
				 sizeof(self->fin_timeout_path), "fin_timeout"));
	ASSERT_EQ(0, read_long(self->fin_timeout_path, &self->fin_timeout))
		TH_LOG("%s: %s", self->fin_timeout_path, strerror(errno));
#ifdef TEST_CFTCP
	ASSERT_EQ(0, read_long("/proc/sys/net/cftcp/timewait_len",
			       &self->timewait_len));
	ASSERT_EQ(0, write_str("/proc/sys/net/cftcp/timewait_len", "2"));
#endif
	self->c = self->s = self->l = -1;
}

FIXTURE_TEARDOWN(closing)
{
	char buf[32];

	run("tc qdisc del dev lo root");
	snprintf(buf, sizeof(buf), "%ld", self->fin_timeout);
	write_str(self->fin_timeout_path, buf);
#ifdef TEST_CFTCP
	snprintf(buf, sizeof(buf), "%ld", self->timewait_len);
	write_str("/proc/sys/net/cftcp/timewait_len", buf);
#endif
	if (self->c >= 0)
		close(self->c);
	if (self->s >= 0)
		close(self->s);
	if (self->l >= 0)
		close(self->l);
}

static int open_pair(FIXTURE_DATA(closing) *self, int buf)
{
	if (connect_pair_buf(&self->c, &self->s, NULL, buf))
		return -1;
	self->cp = local_port(self->c);
	self->sp = local_port(self->s);
	return 0;
}

static int close_fd(int *fd)
{
	int ret = close(*fd);

	*fd = -1;
	return ret;
}

#define C_STATE(st)	wait_state(self->cp, self->sp, st, WAIT_MS)
#define S_STATE(st)	wait_state(self->sp, self->cp, st, WAIT_MS)
#define GONE		(-1)

/*
 * Active close: the closer waits in FIN_WAIT2 while the peer is in
 * CLOSE_WAIT; the peer's close sends it to TIME_WAIT and the peer goes.
 */
TEST_F(closing, active_close_sequence)
{
	char buf[4];

	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(CFTCP_ESTABLISHED, proc_state(self->cp, self->sp));
	ASSERT_EQ(CFTCP_ESTABLISHED, proc_state(self->sp, self->cp));
	ASSERT_EQ(0, close_fd(&self->c));
	EXPECT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, sock_state(self->s));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	/* nothing moves until the passive end closes */
	EXPECT_EQ(CFTCP_FIN_WAIT2, proc_state(self->cp, self->sp));
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/* The TIME_WAIT line: timer kind 3, no inode, as in /proc/net/tcp. */
TEST_F(closing, timewait_line)
{
	unsigned int tr, inode;
	char line[512];
	char *p;

	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, close_fd(&self->c));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(0, close_fd(&self->s));
	ASSERT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	ASSERT_EQ(CFTCP_TIME_WAIT, proc_line(self->cp, self->sp, line,
					     sizeof(line), PROC_NET));
	p = strchr(line, ':');
	ASSERT_NE(NULL, p);
	/* local rem st tx:rx tr:when retrnsmt uid timeout inode */
	ASSERT_EQ(2, sscanf(p + 1, " %*x:%*x %*x:%*x %*x %*x:%*x %x:%*x %*x %*u %*u %u",
			    &tr, &inode)) TH_LOG("%s", line);
	EXPECT_EQ(3, tr) TH_LOG("%s", line);
	EXPECT_EQ(0, inode) TH_LOG("%s", line);
}

/*
 * Half close with SHUT_WR: the closer keeps its descriptor, still reads
 * what the peer sends in CLOSE_WAIT, and is in TIME_WAIT once the peer
 * closes; closing the descriptor then leaves the TIME_WAIT entry.
 */
TEST_F(closing, shutdown_wr_sequence)
{
	char buf[8];

	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	EXPECT_EQ(CFTCP_FIN_WAIT2, sock_state(self->c));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(4, send(self->s, "late", 4, 0));
	ASSERT_EQ(4, recv(self->c, buf, 4, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "late", 4));
	EXPECT_EQ(CFTCP_FIN_WAIT2, proc_state(self->cp, self->sp));
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(GONE, S_STATE(GONE));
	ASSERT_EQ(0, close_fd(&self->c));
	EXPECT_EQ(CFTCP_TIME_WAIT, proc_state(self->cp, self->sp));
}

/*
 * A TIME_WAIT entry is freed once timewait_len has passed and counted in
 * TWReaped. Linux TCP's TIME_WAIT is fixed at 60 s: cftcp only (the TCP
 * build has no such test, rather than a skipped one).
 */
#ifdef TEST_CFTCP
TEST_F_TIMEOUT(closing, timewait_expires, 60)
{
	long long reaped;
	int ms;

	/* Entries of earlier tests expire first, or they count too. */
	for (ms = 0; table_count(CFTCP_TIME_WAIT) &&
	     ms < TIMEWAIT_LEN * 1000 + WAIT_MS; ms += 20)
		msleep(20);
	ASSERT_EQ(0, table_count(CFTCP_TIME_WAIT));
	reaped = counter("TWReaped");
	ASSERT_LE(0, reaped);
	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, close_fd(&self->c));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(0, close_fd(&self->s));
	ASSERT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, wait_state(self->cp, self->sp, GONE,
				   TIMEWAIT_LEN * 1000 + WAIT_MS));
	EXPECT_EQ(reaped + 1, counter("TWReaped"));
}
#endif

/*
 * FIN_WAIT1 held by a closed window: the peer does not read, so the FIN
 * queued by shutdown() stays behind unsent data. Once the peer reads it all
 * it finds end of stream there, and the closer moves on.
 */
TEST_F(closing, fin_wait1_zero_window)
{
	long long sent, got;

	ASSERT_EQ(0, open_pair(self, 4096)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, fill_until_stuck(self->c, self->s, &sent))
		TH_LOG("%s", strerror(errno));
	TH_LOG("%lld bytes queued before the FIN", sent);
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->cp, self->sp));
	EXPECT_EQ(CFTCP_FIN_WAIT1, sock_state(self->c));
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(self->sp, self->cp));
	EXPECT_EQ(0, drain(self->s, sent, &got))
		TH_LOG("read %lld of %lld bytes, then: %s", got, sent,
		       strerror(errno));
	EXPECT_EQ(sent, got);
	EXPECT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/*
 * LAST_ACK held by a closed window: the passive end, in CLOSE_WAIT, fills
 * the window of the half-closed end, which does not read, then closes: its
 * FIN waits behind the data, as an orphan in LAST_ACK.
 */
TEST_F(closing, last_ack_zero_window)
{
	long long sent, got;
	char buf[4];

	ASSERT_EQ(0, open_pair(self, 4096)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fill_until_stuck(self->s, self->c, &sent))
		TH_LOG("%s", strerror(errno));
	TH_LOG("%lld bytes queued before the FIN", sent);
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_LAST_ACK, proc_state(self->sp, self->cp));
	EXPECT_EQ(CFTCP_FIN_WAIT2, proc_state(self->cp, self->sp));
	EXPECT_EQ(0, drain(self->c, sent, &got))
		TH_LOG("read %lld of %lld bytes, then: %s", got, sent,
		       strerror(errno));
	EXPECT_EQ(sent, got);
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/*
 * FIN_WAIT1 held by loss: every packet on loopback is dropped when the
 * closer's FIN leaves; the FIN is retransmitted and acknowledged once the
 * loss ends.
 */
TEST_F(closing, fin_wait1_fin_lost)
{
	char buf[4];

	if (!have_netem())
		SKIP(return, "no netem qdisc (tc or sch_netem missing)");
	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	ASSERT_EQ(0, close_fd(&self->c));
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->cp, self->sp));
	EXPECT_EQ(CFTCP_ESTABLISHED, proc_state(self->sp, self->cp));
	msleep(300);
	EXPECT_EQ(CFTCP_FIN_WAIT1, proc_state(self->cp, self->sp));
	ASSERT_EQ(0, run("tc qdisc del dev lo root"));
	EXPECT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/* LAST_ACK held by loss of the passive end's FIN. */
TEST_F(closing, last_ack_fin_lost)
{
	char buf[4];

	if (!have_netem())
		SKIP(return, "no netem qdisc (tc or sch_netem missing)");
	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, close_fd(&self->c));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	ASSERT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	ASSERT_EQ(0, run("tc qdisc add dev lo root netem loss 100%"));
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(CFTCP_LAST_ACK, proc_state(self->sp, self->cp));
	msleep(300);
	EXPECT_EQ(CFTCP_LAST_ACK, proc_state(self->sp, self->cp));
	EXPECT_EQ(CFTCP_FIN_WAIT2, proc_state(self->cp, self->sp));
	ASSERT_EQ(0, run("tc qdisc del dev lo root"));
	EXPECT_EQ(CFTCP_TIME_WAIT, C_STATE(CFTCP_TIME_WAIT));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/*
 * An orphan in FIN_WAIT2 lasts fin_timeout; the peer's late FIN then finds
 * nothing and is answered with a reset, which ends the peer too.
 */
TEST_F(closing, fin_wait2_orphan_timeout)
{
	long long rsts;

	ASSERT_EQ(0, write_str(self->fin_timeout_path, "2"))
		TH_LOG("%s: %s", self->fin_timeout_path, strerror(errno));
	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, close_fd(&self->c));
	ASSERT_EQ(CFTCP_FIN_WAIT2, C_STATE(CFTCP_FIN_WAIT2));
	ASSERT_EQ(CFTCP_CLOSE_WAIT, S_STATE(CFTCP_CLOSE_WAIT));
	EXPECT_EQ(GONE, wait_state(self->cp, self->sp, GONE,
				   FIN_TIMEOUT * 1000 + WAIT_MS));
	EXPECT_EQ(CFTCP_CLOSE_WAIT, proc_state(self->sp, self->cp));
	rsts = counter("OutRsts");
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(GONE, S_STATE(GONE));
	EXPECT_LE(rsts + 1, counter("OutRsts"));
}

/* close() with unread data resets the connection: no TIME_WAIT anywhere. */
TEST_F(closing, close_unread_data_resets)
{
	struct pollfd p;
	long long aborts;
	char buf[4];

	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(4, send(self->c, "left", 4, 0));
	p = (struct pollfd){ .fd = self->s, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, WAIT_MS));
	aborts = counter("AbortOnClose");
	ASSERT_EQ(0, close_fd(&self->s));
	EXPECT_EQ(aborts + 1, counter("AbortOnClose"));
	EXPECT_EQ(GONE, S_STATE(GONE));
	ASSERT_NE(0, poll_one(self->c, POLLIN, WAIT_MS)) TH_LOG("no reset arrived");
	EXPECT_EQ(-1, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(GONE, C_STATE(GONE));
}

/* SO_LINGER {1, 0}: close() resets, neither end keeps an entry. */
TEST_F(closing, linger_zero_no_timewait)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[4];

	ASSERT_EQ(0, open_pair(self, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->c, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close_fd(&self->c));
	EXPECT_EQ(GONE, C_STATE(GONE));
	ASSERT_NE(0, poll_one(self->s, POLLIN, WAIT_MS)) TH_LOG("no reset arrived");
	EXPECT_EQ(-1, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(GONE, S_STATE(GONE));
}

/* Closing a listener resets the connections still waiting in its queue. */
TEST_F(closing, close_listener_resets_queue)
{
	struct taddr a;
	char buf[4];

	self->l = listener("127.0.0.1", 0, 4, &a);
	ASSERT_LE(0, self->l) TH_LOG("listener: %s", strerror(errno));
	self->c = sock_new(0);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, connect(self->c, &a.sa, TADDR_LEN));
	self->cp = local_port(self->c);
	self->sp = taddr_port(&a);
	ASSERT_EQ(CFTCP_ESTABLISHED, S_STATE(CFTCP_ESTABLISHED));
	ASSERT_EQ(0, close_fd(&self->l));
	ASSERT_NE(0, poll_one(self->c, POLLIN, WAIT_MS))
		TH_LOG("no reset for the queued connection");
	EXPECT_EQ(-1, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(GONE, S_STATE(GONE));
	EXPECT_EQ(GONE, C_STATE(GONE));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * What /proc shows: the per-namespace sysctls and their defaults and range
 * checks, the /proc/net/cftcp table in /proc/net/tcp's exact format, and the
 * counter names of /proc/net/cftcp_stat. The TCP build checks Linux's
 * counterparts where they exist, so the expectations are Linux's.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

/* Defaults in a new network namespace (interface.md, "sysctls"). */
static const struct {
	const char *name;
	long def;
} defaults[] = {
	{ "syn_retries", 6 },
	{ "synack_retries", 5 },
	{ "fin_timeout", 60 },
	{ "syncookies", 1 },
	{ "rfc1337", 0 },
	{ "retries2", 15 },
	{ "orphan_retries", 0 },
	{ "keepalive_time", 7200 },
	{ "keepalive_intvl", 75 },
	{ "keepalive_probes", 9 },
	/* cftcp only: fixed in Linux TCP or sized from memory there */
	{ "max_syn_backlog", 1024 },
	{ "rto_initial_ms", 1000 },
	{ "rto_min_ms", 200 },
	{ "rto_max_ms", 120000 },
	{ "timewait_len", 60 },
	{ "max_tw_buckets", 262144 },
};

static const char *const cftcp_stat_names[] = {
	"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
	"CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts",
	"InCsumErrors", "SynRetrans", "SynAckRetrans", "ListenOverflows",
	"ListenDrops", "ReqQFullDrop", "SyncookiesSent", "SyncookiesRecv",
	"SyncookiesFailed", "TimeWaitOverflow", "TWReaped", "TWRecycled",
	"TWKilled", "ChallengeACK", "Timeouts", "FastRetrans", "AbortOnClose",
	"AbortOnData", "AbortOnLinger", "AbortOnTimeout",
};

TEST(sysctl_defaults)
{
	char path[128];
	unsigned int i, checked = 0;
	long val;

	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		const char *name = defaults[i].name;

		if (sysctl_path(path, sizeof(path), name))
			continue;
#ifndef TEST_CFTCP
		/* Linux sizes these from the hash tables, not fixed values. */
		if (!strcmp(name, "max_syn_backlog") ||
		    !strcmp(name, "max_tw_buckets"))
			continue;
#endif
		val = -1;
		EXPECT_EQ(0, read_long(path, &val))
			TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(defaults[i].def, val) TH_LOG("%s", path);
		checked++;
	}
	EXPECT_LT(8, checked);
#ifdef TEST_CFTCP
	EXPECT_EQ(0, read_long("/proc/sys/net/cftcp/rmem_default", &val));
	EXPECT_LT(0, val);
	EXPECT_EQ(0, read_long("/proc/sys/net/cftcp/wmem_default", &val));
	EXPECT_LT(0, val);
#endif
}

/* A write is taken, and read back, within the range. */
TEST(sysctl_write_read_back)
{
	char path[128];
	long val;

	ASSERT_EQ(0, sysctl_path(path, sizeof(path), "syn_retries"));
	ASSERT_EQ(0, write_str(path, "3")) TH_LOG("%s: %s", path,
						  strerror(errno));
	ASSERT_EQ(0, read_long(path, &val));
	EXPECT_EQ(3, val);
	ASSERT_EQ(0, write_str(path, "6"));
#ifdef TEST_CFTCP
	ASSERT_EQ(0, write_str("/proc/sys/net/cftcp/timewait_len", "2"));
	ASSERT_EQ(0, read_long("/proc/sys/net/cftcp/timewait_len", &val));
	EXPECT_EQ(2, val);
	ASSERT_EQ(0, write_str("/proc/sys/net/cftcp/timewait_len", "60"));
#endif
}

static void expect_refused(struct __test_metadata *_metadata,
			   const char *name, const char *bad)
{
	char path[128];
	long before, after;

	if (sysctl_path(path, sizeof(path), name))
		return;
	ASSERT_EQ(0, read_long(path, &before)) TH_LOG("%s", path);
	errno = 0;
	EXPECT_EQ(-1, write_str(path, bad)) TH_LOG("%s took %s", path, bad);
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s <- %s: %s", path, bad,
					strerror(errno));
	ASSERT_EQ(0, read_long(path, &after));
	EXPECT_EQ(before, after) TH_LOG("%s changed by a refused write", path);
}

/*
 * Out of range writes fail with EINVAL and change nothing. syn_retries has
 * Linux's own range 1..127 (MAX_TCP_SYNCNT); the others are cftcp's.
 */
TEST(sysctl_out_of_range)
{
	expect_refused(_metadata, "syn_retries", "0");
	expect_refused(_metadata, "syn_retries", "128");
#ifdef TEST_CFTCP
	expect_refused(_metadata, "syncookies", "3");
	expect_refused(_metadata, "syncookies", "-1");
	expect_refused(_metadata, "timewait_len", "-1");
	expect_refused(_metadata, "fin_timeout", "-1");
	expect_refused(_metadata, "rto_initial_ms", "-1");
	expect_refused(_metadata, "rto_min_ms", "-1");
	expect_refused(_metadata, "rto_max_ms", "-1");
	expect_refused(_metadata, "max_syn_backlog", "-1");
#endif
}

/* The table opens with /proc/net/tcp's header line, padding included. */
TEST(table_header)
{
	char ours[256], tcp[256];
	FILE *f;

	f = fopen(PROC_NET, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", PROC_NET, strerror(errno));
	ASSERT_NE(NULL, fgets(ours, sizeof(ours), f));
	fclose(f);
	f = fopen("/proc/net/tcp", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(tcp, sizeof(tcp), f));
	fclose(f);
	EXPECT_STREQ(tcp, ours);
	EXPECT_EQ(150, strlen(ours));
	EXPECT_EQ(0, strncmp(ours, "  sl  local_address rem_address   st ", 37));
}

/*
 * A listener on 127.0.0.1:P and a connection to it appear as lines of the
 * same layout as Linux TCP's: the fields up to "timeout" are equal for a
 * cftcp and a TCP socket in the same position, and the line is padded to the
 * same width.
 */
TEST(table_lines)
{
	char line[512], ref[512];
	uint16_t port, cport;
	int l, c, s;
	char *a, *b;

	ASSERT_EQ(0, connect_pair(&c, &s, &l)) TH_LOG("%s", strerror(errno));
	port = local_port(l);
	cport = local_port(c);

	ASSERT_EQ(CFTCP_LISTEN, proc_line(port, 0, line, sizeof(line), PROC_NET));
	EXPECT_EQ(150, strlen(line)) TH_LOG("%s", line);
	/* fixed part: local, remote, st, tx:rx queue, tr:when, retrnsmt */
	snprintf(ref, sizeof(ref), "0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000 ",
		 port);
	a = strchr(line, ':');
	ASSERT_NE(NULL, a);
	EXPECT_EQ(0, strncmp(a + 2, ref, strlen(ref))) TH_LOG("%s", line);

	ASSERT_EQ(CFTCP_ESTABLISHED, proc_line(cport, port, line, sizeof(line),
					       PROC_NET));
	EXPECT_EQ(150, strlen(line)) TH_LOG("%s", line);
	snprintf(ref, sizeof(ref), "0100007F:%04X 0100007F:%04X 01 00000000:00000000 00:00000000 00000000 ",
		 cport, port);
	a = strchr(line, ':');
	ASSERT_NE(NULL, a);
	EXPECT_EQ(0, strncmp(a + 2, ref, strlen(ref))) TH_LOG("%s", line);
	/* uid and timeout columns: root, 0; then a non-zero inode */
	b = a + 2 + strlen(ref);
	unsigned long uid, tmo, inode;

	EXPECT_EQ(3, sscanf(b, "%lu %lu %lu", &uid, &tmo, &inode));
	EXPECT_EQ(0, uid);
	EXPECT_EQ(0, tmo);
	EXPECT_NE(0, inode);
	close(c);
	close(s);
	close(l);
}

/*
 * The delayed-ACK columns of a connection line: ato (clock ticks) and
 * quick ACKs left << 1 | pingpong, read after the inode.
 */
static int ack_columns(uint16_t lport, uint16_t rport, unsigned long *ato,
		       unsigned int *quick)
{
	char line[512], *p;
	int i;

	if (proc_line(lport, rport, line, sizeof(line), PROC_NET) < 0)
		return -1;
	/* sl, local, remote, st, queues, timer, retrnsmt, uid, timeout,
	 * inode, refcount, pointer, rto: 13 fields before ato
	 */
	p = line;
	for (i = 0; i < 13; i++) {
		p += strspn(p, " ");
		p += strcspn(p, " ");
	}
	return sscanf(p, "%lu %u", ato, quick) == 2 ? 0 : -1;
}

/*
 * A connection that answers at once what it received is interactive
 * (pingpong, bit 0 of the quick column) and shows the 40 ms delayed-ACK
 * time once data came; the other end, which only asked, is not.
 */
TEST(table_ack_state)
{
	unsigned long ato;
	unsigned int quick;
	uint16_t port, cport;
	int l, c, s;
	char b;

	ASSERT_EQ(0, connect_pair(&c, &s, &l)) TH_LOG("%s", strerror(errno));
	port = local_port(l);
	cport = local_port(c);

	ASSERT_EQ(0, ack_columns(port, cport, &ato, &quick));
	EXPECT_EQ(0, ato);
	EXPECT_EQ(0, quick & 1);

	ASSERT_EQ(1, send(c, "q", 1, 0));
	ASSERT_EQ(1, recv(s, &b, 1, 0));
	ASSERT_EQ(1, send(s, "a", 1, 0));
	ASSERT_EQ(1, recv(c, &b, 1, 0));

	ASSERT_EQ(0, ack_columns(port, cport, &ato, &quick));
	EXPECT_EQ(4, ato);
	EXPECT_EQ(1, quick & 1) TH_LOG("server quick/pingpong %u", quick);
	ASSERT_EQ(0, ack_columns(cport, port, &ato, &quick));
	EXPECT_EQ(4, ato);
	EXPECT_EQ(0, quick & 1) TH_LOG("client quick/pingpong %u", quick);
	close(c);
	close(s);
	close(l);
}

/* All counters named by the spec are there, names and values paired. */
TEST(stat_names)
{
	unsigned int i, found = 0;
	long long v;

	for (i = 0; i < ARRAY_SIZE(cftcp_stat_names); i++) {
		v = counter(cftcp_stat_names[i]);
#ifdef TEST_CFTCP
		EXPECT_LE(0, v) TH_LOG("CfTcp: %s missing", cftcp_stat_names[i]);
#endif
		if (v >= 0)
			found++;
	}
	/* TCP: SynAckRetrans and TWReaped have no Linux counterpart. */
	EXPECT_LE(ARRAY_SIZE(cftcp_stat_names) - 2, found);
#ifdef TEST_CFTCP
	char names[4096], vals[4096];
	int nn = 0, nv = 0;
	FILE *f = fopen("/proc/net/cftcp_stat", "r");

	ASSERT_NE(NULL, f) TH_LOG("/proc/net/cftcp_stat: %s", strerror(errno));
	ASSERT_NE(NULL, fgets(names, sizeof(names), f));
	ASSERT_NE(NULL, fgets(vals, sizeof(vals), f));
	fclose(f);
	EXPECT_EQ(0, strncmp(names, "CfTcp: ", 7));
	EXPECT_EQ(0, strncmp(vals, "CfTcp: ", 7));
	for (i = 0; names[i]; i++)
		nn += names[i] == ' ';
	for (i = 0; vals[i]; i++)
		nv += vals[i] == ' ';
	EXPECT_EQ(nn, nv);
#endif
}

/* Opening a connection moves ActiveOpens, PassiveOpens and CurrEstab. */
TEST(stat_opens)
{
	long long act, pas, est;
	int c, s, l;

	act = counter("ActiveOpens");
	pas = counter("PassiveOpens");
	est = counter("CurrEstab");
	ASSERT_LE(0, act);
	ASSERT_LE(0, pas);
	ASSERT_LE(0, est);
	ASSERT_EQ(0, connect_pair(&c, &s, &l)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(act + 1, counter("ActiveOpens"));
	EXPECT_EQ(pas + 1, counter("PassiveOpens"));
	EXPECT_EQ(est + 2, counter("CurrEstab"));
	close(l);
	close(c);
	close(s);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * pktpeer: a scripted cftcp peer made of raw frames. It runs in a network
 * namespace whose interface has no IP address, so no stack there answers
 * for it; it sends the segments a script names and checks the segments
 * that come back (flags, numbers, window, options, checksum over the IPv4
 * pseudo-header with the on-wire protocol number).
 *
 *   pktpeer -i IFACE -m DUT_MAC -s SRC_IP -d DST_IP -p SPORT -P DPORT
 *           [-o IPPROTO] [-D SYNCDIR] < script
 *
 * Script lines (one per line, # starts a comment):
 *   send FLAGS [seq=E] [ack=E] [win=E] [mss=N] [ws=N] [len=N] [badsum]
 *        [off=E] [frag=N] [fragrev] [repeat=N] [step=N] [gap=USECS]
 *                             payload byte i is 'a'+(off+i)%26 (off: the
 *                             stream offset of the first byte, default 0);
 *                             frag=N sends the IP datagram as two
 *                             fragments, the first with N bytes of IP
 *                             payload (a multiple of 8; len up to 2940
 *                             then, else 1400), fragrev sends the
 *                             second first; repeat=N sends N segments,
 *                             each step (default len) bytes after the last,
 *                             gap microseconds apart (default 0)
 *   drain SECS [ack=E] [win=E] read this connection's segments until none
 *                             came for SECS; the last one must match
 *   expect FLAGS [seq=E] [ack=E] [win=E] [len=N] [mss=N] [ws=N]
 *          [data=E] [timeout=SECS] [mingap=SECS] [maxgap=SECS]
 *                             data=E: the payload is bytes E, E+1, ...
 *                             of sockctl's stream, 'A'+(E+i)%26
 *   expect-none SECS          no segment of this connection for SECS
 *   skip FLAGS [timeout=SECS] ignore segments until one with FLAGS
 *   set NAME=E                remember a value
 *   port N | dport N          play another connection from now on: our
 *                             port N, or the DUT's port N
 *   flush                     forget every segment received and not taken
 *   forget                    forget those of the current connection only
 *   touch NAME | wait NAME [SECS]   files in SYNCDIR (default: the current
 *                             directory), to step with the socket side;
 *                             with -D, the file "pktpeer-up" is made there
 *                             once frames are received
 *   sleep SECS
 *   echo TEXT
 * FLAGS are letters of S (SYN) A (ACK) F (FIN) R (RST) P (PSH), or "."
 * for none; expect compares them exactly, but for PSH if they end in "~"
 * (stacks differ on which segments of a write carry PSH). E is a sum like rseq+1 or
 * x-5 of numbers and names: rseq rack rwin rlen (the last segment
 * expected) and names from set. mingap/maxgap bound the time since the
 * previous expect. Segments of the DUT for another pair of ports than
 * the current one are kept, in order, until a line asks for their ports.
 * Exit status 0 if every line held, 1 if one did not (the line and what
 * came is printed), 2 for usage or system errors.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inet_csum.h"

#define MAX_VARS	32
#define MAX_KEPT	1024
#define F_FIN		0x01
#define F_SYN		0x02
#define F_RST		0x04
#define F_PSH		0x08
#define F_ACK		0x10

struct seg {
	uint32_t seq, ack;
	uint16_t win, len;
	uint16_t sport, dport;	/* the DUT's, as sent */
	uint8_t flags;
	int mss, ws;		/* -1: absent */
	int pat;		/* payload is 'A'+(pat+i)%26; -1: not so */
	double t;		/* when it came */
};

static int fd, ifindex, ipproto = 253, lineno;
static unsigned char dut_mac[6], my_mac[6];
static uint32_t src_ip, dst_ip;
static uint16_t sport, dport;
static double last_expect;
static struct seg last;
static struct { char name[32]; uint32_t val; } vars[MAX_VARS];
static int nvars;
static struct seg kept[MAX_KEPT];	/* for other ports, oldest first */
static int nkept;
static const char *syncdir = ".";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_kept(void);

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "pktpeer: line %d: ", lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	print_kept();
	exit(1);
}

static int lookup_var(const char *name, size_t n, uint32_t *v)
{
	int i;

	if (n == 4 && !strncmp(name, "rseq", 4))
		return *v = last.seq, 1;
	if (n == 4 && !strncmp(name, "rack", 4))
		return *v = last.ack, 1;
	if (n == 4 && !strncmp(name, "rwin", 4))
		return *v = last.win, 1;
	if (n == 4 && !strncmp(name, "rlen", 4))
		return *v = last.len, 1;
	for (i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == n && !strncmp(vars[i].name, name, n))
			return *v = vars[i].val, 1;
	return 0;
}

/* E := term (('+'|'-') term)*, term := number | name */
static uint32_t eval(const char *s)
{
	uint32_t acc = 0;
	int sign = 1;

	while (*s) {
		uint32_t v;

		if (*s == '+' || *s == '-') {
			sign = *s == '-' ? -1 : 1;
			s++;
			continue;
		}
		if (isdigit((unsigned char)*s)) {
			char *end;

			v = strtoul(s, &end, 0);
			s = end;
		} else {
			const char *b = s;

			while (isalnum((unsigned char)*s) || *s == '_')
				s++;
			if (s == b || !lookup_var(b, s - b, &v))
				fail("unknown value in '%s'", b);
		}
		acc += sign * v;
	}
	return acc;
}

static int parse_flags(const char *s)
{
	int f = 0;

	for (; *s; s++) {
		switch (*s) {
		case 'S': f |= F_SYN; break;
		case 'A': f |= F_ACK; break;
		case 'F': f |= F_FIN; break;
		case 'R': f |= F_RST; break;
		case 'P': f |= F_PSH; break;
		case '.': break;
		case '~': break;	/* see do_expect() */
		default: fail("bad flags '%s'", s);
		}
	}
	return f;
}

static void flags_str(int f, char *out)
{
	char *p = out;

	if (f & F_SYN)
		*p++ = 'S';
	if (f & F_FIN)
		*p++ = 'F';
	if (f & F_RST)
		*p++ = 'R';
	if (f & F_PSH)
		*p++ = 'P';
	if (f & F_ACK)
		*p++ = 'A';
	if (p == out)
		*p++ = '.';
	*p = 0;
}

static uint16_t l4_csum(uint32_t saddr, uint32_t daddr, const void *seg,
			size_t len)
{
	uint8_t ph[12];
	uint32_t sum;

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = ipproto;
	ph[10] = len >> 8;
	ph[11] = len & 0xff;
	sum = csum_add_bytes(ph, 12, 0);
	sum = csum_add_bytes(seg, len, sum);
	return ~csum_fold16(sum) & 0xffff;
}

static const char *arg_val(char **argv, int argc, const char *key)
{
	size_t n = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	return NULL;
}

static int has_word(char **argv, int argc, const char *w)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], w))
			return 1;
	return 0;
}

static void send_frame(const unsigned char *frame, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = 6,
	};

	memcpy(sll.sll_addr, dut_mac, 6);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) < 0) {
		perror("pktpeer: sendto");
		exit(2);
	}
}

static void ip_header(struct iphdr *iph, int plen, int frag_off, int id)
{
	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(sizeof(*iph) + plen);
	iph->id = htons(id);
	iph->frag_off = htons(frag_off);
	iph->ttl = 64;
	iph->protocol = ipproto;
	iph->saddr = src_ip;
	iph->daddr = dst_ip;
	iph->check = 0;
	iph->check = htons(~csum_fold16(csum_add_bytes(iph, sizeof(*iph), 0)) &
			   0xffff);
}

/*
 * Send the segment @th of @tlen bytes in one IP datagram, or as two
 * fragments split after @frag bytes of IP payload (@rev: second first).
 */
static void send_ip(const unsigned char *th, int tlen, int frag, int rev)
{
	static int ip_id = 1;
	unsigned char frame[2][1600];
	size_t flen[2];
	int i, n = 1;

	for (i = 0; i < 2; i++) {
		struct ether_header *eh = (void *)frame[i];

		memset(frame[i], 0, sizeof(frame[i]));
		memcpy(eh->ether_dhost, dut_mac, 6);
		memcpy(eh->ether_shost, my_mac, 6);
		eh->ether_type = htons(ETHERTYPE_IP);
	}
	if (frag <= 0 || frag >= tlen) {
		struct iphdr *iph = (void *)(frame[0] + sizeof(struct ether_header));

		ip_header(iph, tlen, IP_DF, 0);
		memcpy(iph + 1, th, tlen);
		flen[0] = sizeof(struct ether_header) + sizeof(*iph) + tlen;
	} else {
		struct iphdr *a = (void *)(frame[0] + sizeof(struct ether_header));
		struct iphdr *b = (void *)(frame[1] + sizeof(struct ether_header));

		ip_header(a, frag, IP_MF, ip_id);
		memcpy(a + 1, th, frag);
		ip_header(b, tlen - frag, frag / 8, ip_id);
		memcpy(b + 1, th + frag, tlen - frag);
		ip_id++;
		flen[0] = sizeof(struct ether_header) + sizeof(*a) + frag;
		flen[1] = sizeof(struct ether_header) + sizeof(*b) + tlen - frag;
		n = 2;
	}
	for (i = 0; i < n; i++) {
		int k = rev ? n - 1 - i : i;

		send_frame(frame[k], flen[k]);
	}
}

static void do_send(char **argv, int argc)
{
	unsigned char th[3000] = {0};
	int flags = parse_flags(argv[0]);
	const char *v;
	int optlen = 0, dlen = 0, tlen, i, r, repeat = 1, step, frag = 0, gap;
	uint32_t x, seq, off;
	uint16_t c;

	if ((v = arg_val(argv, argc, "mss"))) {
		th[20 + optlen++] = 2;
		th[20 + optlen++] = 4;
		th[20 + optlen++] = atoi(v) >> 8;
		th[20 + optlen++] = atoi(v) & 0xff;
	}
	if ((v = arg_val(argv, argc, "ws"))) {
		th[20 + optlen++] = 1;
		th[20 + optlen++] = 3;
		th[20 + optlen++] = 3;
		th[20 + optlen++] = atoi(v);
	}
	if ((v = arg_val(argv, argc, "len")))
		dlen = atoi(v);
	if (dlen > (arg_val(argv, argc, "frag") ? 2940 : 1400))
		fail("len too big: %s", v);
	if ((v = arg_val(argv, argc, "repeat")))
		repeat = atoi(v);
	step = (v = arg_val(argv, argc, "step")) ? (int)eval(v) : dlen;
	gap = (v = arg_val(argv, argc, "gap")) ? atoi(v) : 0;
	if ((v = arg_val(argv, argc, "frag")) && (frag = atoi(v)) % 8)
		fail("frag=%s: not a multiple of 8", v);
	seq = (v = arg_val(argv, argc, "seq")) ? eval(v) : 0;
	off = (v = arg_val(argv, argc, "off")) ? eval(v) : 0;
	tlen = 20 + optlen + dlen;
	if (frag > 0 && tlen - frag > 1480)
		fail("frag=%s: the second fragment is over 1480 bytes",
		     arg_val(argv, argc, "frag"));

	c = htons(sport);
	memcpy(th, &c, 2);
	c = htons(dport);
	memcpy(th + 2, &c, 2);
	x = htonl((v = arg_val(argv, argc, "ack")) ? eval(v) : 0);
	memcpy(th + 8, &x, 4);
	th[12] = ((20 + optlen) / 4) << 4;
	th[13] = flags;
	c = htons((v = arg_val(argv, argc, "win")) ? eval(v) : 65535);
	memcpy(th + 14, &c, 2);

	for (r = 0; r < repeat; r++) {
		for (i = 0; i < dlen; i++)
			th[20 + optlen + i] = 'a' + (off + i) % 26;
		x = htonl(seq);
		memcpy(th + 4, &x, 4);
		memset(th + 16, 0, 2);
		c = htons(l4_csum(src_ip, dst_ip, th, tlen));
		if (has_word(argv, argc, "badsum"))
			c ^= 0x5555;
		memcpy(th + 16, &c, 2);
		send_ip(th, tlen, frag, has_word(argv, argc, "fragrev"));
		if (gap)
			usleep(gap);
		seq += step;
		off += step;
	}
}

/* Keep a segment of another connection for a later line. */
static void keep_seg(const struct seg *s)
{
	if (nkept == MAX_KEPT) {
		memmove(kept, kept + 1, (MAX_KEPT - 1) * sizeof(kept[0]));
		nkept--;
	}
	kept[nkept++] = *s;
}

/* The oldest kept segment of the current ports, taken out. */
static int take_kept(struct seg *s)
{
	int i;

	for (i = 0; i < nkept; i++) {
		if (kept[i].sport != dport || kept[i].dport != sport)
			continue;
		*s = kept[i];
		memmove(kept + i, kept + i + 1, (nkept - i - 1) * sizeof(kept[0]));
		nkept--;
		return 1;
	}
	return 0;
}

/*
 * Read one frame within @timeout; 1 if it is a segment from the DUT to us
 * (any ports), filled into @s.
 */
static int read_seg(double timeout, struct seg *s)
{
	unsigned char buf[70000];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const struct iphdr *iph;
	const unsigned char *th;
	int n, ihl, tlen, doff, i;

	if (poll(&p, 1, timeout > 0 ? (int)(timeout * 1000) + 1 : 0) <= 0)
		return 0;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < (int)(sizeof(struct ether_header) + 40))
		return 0;
	if (((struct ether_header *)buf)->ether_type != htons(ETHERTYPE_IP))
		return 0;
	iph = (const void *)(buf + sizeof(struct ether_header));
	if (iph->protocol != ipproto || iph->saddr != dst_ip ||
	    iph->daddr != src_ip)
		return 0;
	ihl = iph->ihl * 4;
	tlen = ntohs(iph->tot_len) - ihl;
	th = (const unsigned char *)iph + ihl;
	if (tlen < 20)
		return 0;
	if (l4_csum(iph->saddr, iph->daddr, th, tlen) != 0) {
		fprintf(stderr, "pktpeer: line %d: bad checksum on a received segment\n",
			lineno);
		exit(1);
	}
	doff = (th[12] >> 4) * 4;
	s->t = now();
	s->sport = th[0] << 8 | th[1];
	s->dport = th[2] << 8 | th[3];
	s->seq = ntohl(*(const uint32_t *)(th + 4));
	s->ack = ntohl(*(const uint32_t *)(th + 8));
	s->flags = th[13] & 0x1f;
	s->win = th[14] << 8 | th[15];
	s->len = tlen - doff;
	s->mss = -1;
	s->ws = -1;
	s->pat = -1;
	if (tlen > doff && th[doff] >= 'A' && th[doff] <= 'Z') {
		s->pat = th[doff] - 'A';
		for (i = doff; i < tlen && s->pat >= 0; i++)
			if (th[i] != 'A' + (s->pat + i - doff) % 26)
				s->pat = -1;
	}
	for (i = 20; i < doff;) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (th[i] == 2)
			s->mss = th[i + 2] << 8 | th[i + 3];
		if (th[i] == 3)
			s->ws = th[i + 2];
		i += th[i + 1] ? th[i + 1] : 1;
	}
	return 1;
}

/*
 * Next segment of this connection within @timeout; 0 if none came.
 * Segments of other connections are kept for later.
 */
static int recv_seg(double timeout, struct seg *s)
{
	double end = now() + timeout;

	if (take_kept(s))
		return 1;
	for (;;) {
		double left = end - now();

		if (left <= 0)
			return 0;
		if (!read_seg(left, s))
			continue;
		if (s->sport == dport && s->dport == sport)
			return 1;
		keep_seg(s);
	}
}

static void print_seg(const char *what, const struct seg *s);

/* On failure: what came for other ports and was not asked for. */
static void print_kept(void)
{
	char what[64];
	int i;

	for (i = 0; i < nkept; i++) {
		snprintf(what, sizeof(what), "pktpeer: (unread, ports %u->%u)",
			 kept[i].sport, kept[i].dport);
		print_seg(what, &kept[i]);
	}
}

static void print_seg(const char *what, const struct seg *s)
{
	char f[8];

	flags_str(s->flags, f);
	fprintf(stderr, "%s %s seq=%u ack=%u win=%u len=%u", what, f, s->seq,
		s->ack, s->win, s->len);
	if (s->mss >= 0)
		fprintf(stderr, " mss=%d", s->mss);
	if (s->ws >= 0)
		fprintf(stderr, " ws=%d", s->ws);
	fputc('\n', stderr);
}

static void check_field(const char *name, uint32_t got, const char *want,
			const struct seg *s)
{
	char msg[128];

	if (!want || got == eval(want))
		return;
	print_seg("pktpeer: got", s);
	snprintf(msg, sizeof(msg), "%s=%u, expected %s (=%u)", name, got,
		 want, eval(want));
	fail("%s", msg);
}

static void do_expect(char **argv, int argc)
{
	const char *v = arg_val(argv, argc, "timeout");
	double timeout = v ? atof(v) : 3.0, gap;
	int flags = parse_flags(argv[0]);
	struct seg s;

	if (!recv_seg(timeout, &s))
		fail("no segment within the timeout (expected %s)", argv[0]);
	gap = s.t - last_expect;
	last_expect = s.t;
	if (strchr(argv[0], '~'))
		s.flags = (s.flags & ~F_PSH) | (flags & F_PSH);
	if (s.flags != flags) {
		print_seg("pktpeer: got", &s);
		fail("flags differ from '%s'", argv[0]);
	}
	check_field("seq", s.seq, arg_val(argv, argc, "seq"), &s);
	check_field("ack", s.ack, arg_val(argv, argc, "ack"), &s);
	check_field("win", s.win, arg_val(argv, argc, "win"), &s);
	check_field("len", s.len, arg_val(argv, argc, "len"), &s);
	if ((v = arg_val(argv, argc, "mss")))
		check_field("mss", s.mss, v, &s);
	if ((v = arg_val(argv, argc, "ws")))
		check_field("ws", s.ws, v, &s);
	if ((v = arg_val(argv, argc, "data")) &&
	    s.pat != (int)(eval(v) % 26)) {
		print_seg("pktpeer: got", &s);
		fail("the payload is not the stream's bytes from %s", v);
	}
	if ((v = arg_val(argv, argc, "mingap")) && gap < atof(v)) {
		print_seg("pktpeer: got", &s);
		fail("came too early after the previous one (min %s s)", v);
	}
	if ((v = arg_val(argv, argc, "maxgap")) && gap > atof(v)) {
		print_seg("pktpeer: got", &s);
		fail("came too late after the previous one (max %s s)", v);
	}
	print_seg("pktpeer: ok", &s);
	fprintf(stderr, "pktpeer:    %.3f s after the previous one\n", gap);
	last = s;
}

static void do_skip(char **argv, int argc)
{
	const char *v = arg_val(argv, argc, "timeout");
	double end = now() + (v ? atof(v) : 5.0);
	int flags = parse_flags(argv[0]);
	struct seg s;

	while (now() < end) {
		if (!recv_seg(end - now(), &s))
			break;
		if (s.flags == flags) {
			last = s;
			last_expect = s.t;
			print_seg("pktpeer: ok", &s);
			return;
		}
	}
	fail("no segment with flags %s", argv[0]);
}

static void do_drain(char **argv, int argc)
{
	double quiet = atof(argv[0]);
	struct seg s;
	int n = 0;

	while (recv_seg(quiet, &s)) {
		last = s;
		n++;
	}
	if (!n)
		fail("%s", "no segment to drain");
	fprintf(stderr, "pktpeer: drained %d segments\n", n);
	check_field("ack", last.ack, arg_val(argv, argc, "ack"), &last);
	check_field("win", last.win, arg_val(argv, argc, "win"), &last);
	print_seg("pktpeer: ok (last)", &last);
	last_expect = last.t;
}

static void run_line(char *line)
{
	char *argv[32];
	int argc = 0;
	char *tok;

	for (tok = strtok(line, " \t\n"); tok && argc < 32;
	     tok = strtok(NULL, " \t\n")) {
		if (*tok == '#')
			break;
		argv[argc++] = tok;
	}
	if (!argc)
		return;
	if (!strcmp(argv[0], "send") && argc > 1) {
		do_send(argv + 1, argc - 1);
	} else if (!strcmp(argv[0], "expect") && argc > 1) {
		do_expect(argv + 1, argc - 1);
	} else if (!strcmp(argv[0], "skip") && argc > 1) {
		do_skip(argv + 1, argc - 1);
	} else if (!strcmp(argv[0], "drain") && argc > 1) {
		do_drain(argv + 1, argc - 1);
	} else if (!strcmp(argv[0], "expect-none") && argc > 1) {
		struct seg s;

		if (recv_seg(atof(argv[1]), &s)) {
			print_seg("pktpeer: got", &s);
			fail("%s", "a segment came where none was expected");
		}
	} else if (!strcmp(argv[0], "set") && argc > 1) {
		char *eq = strchr(argv[1], '=');

		if (!eq || nvars == MAX_VARS)
			fail("bad set '%s'", argv[1]);
		*eq = 0;
		snprintf(vars[nvars].name, sizeof(vars[nvars].name), "%s",
			 argv[1]);
		vars[nvars++].val = eval(eq + 1);
	} else if (!strcmp(argv[0], "port") && argc > 1) {
		sport = eval(argv[1]);
	} else if (!strcmp(argv[0], "dport") && argc > 1) {
		dport = eval(argv[1]);
	} else if (!strcmp(argv[0], "forget")) {
		struct seg s;

		while (read_seg(0, &s))
			keep_seg(&s);
		while (take_kept(&s))
			;
	} else if (!strcmp(argv[0], "flush")) {
		struct seg s;

		nkept = 0;
		while (read_seg(0, &s))
			;
	} else if ((!strcmp(argv[0], "touch") || !strcmp(argv[0], "wait")) &&
		   argc > 1) {
		char path[512];
		struct stat sb;
		double end;

		snprintf(path, sizeof(path), "%s/%s", syncdir, argv[1]);
		if (argv[0][0] == 't') {
			FILE *f = fopen(path, "w");

			if (!f)
				fail("cannot create %s", path);
			fclose(f);
			return;
		}
		end = now() + (argc > 2 ? atof(argv[2]) : 30);
		while (stat(path, &sb)) {
			if (now() > end)
				fail("%s did not come", path);
			usleep(10000);
		}
	} else if (!strcmp(argv[0], "sleep") && argc > 1) {
		struct timespec ts;
		double d = atof(argv[1]);

		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	} else if (!strcmp(argv[0], "echo")) {
		int i;

		for (i = 1; i < argc; i++)
			fprintf(stderr, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	} else {
		fail("unknown command '%s'", argv[0]);
	}
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	char line[512];
	int opt;

	while ((opt = getopt(argc, argv, "i:m:s:d:p:P:o:D:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, dut_mac))
				goto usage;
			break;
		case 's': src_ip = inet_addr(optarg); break;
		case 'd': dst_ip = inet_addr(optarg); break;
		case 'p': sport = atoi(optarg); break;
		case 'P': dport = atoi(optarg); break;
		case 'o': ipproto = atoi(optarg); break;
		case 'D': syncdir = optarg; break;
		default: goto usage;
		}
	}
	if (!ifname || !src_ip || !dst_ip || !sport || !dport)
		goto usage;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (fd < 0) {
		perror("pktpeer: socket");
		return 2;
	}
	/* Room for every answer to a flood (repeat=) until it is read. */
	opt = 16 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &opt, sizeof(opt));
	ifindex = if_nametoindex(ifname);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ifindex || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("pktpeer: interface");
		return 2;
	}
	memcpy(my_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("pktpeer: bind");
		return 2;
	}
	if (strcmp(syncdir, ".")) {
		/* Receiving from here on: the socket side may start. */
		FILE *f;

		snprintf(line, sizeof(line), "%s/pktpeer-up", syncdir);
		f = fopen(line, "w");
		if (!f) {
			perror("pktpeer: -D");
			return 2;
		}
		fclose(f);
	}
	last_expect = now();
	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		run_line(line);
	}
	return 0;

usage:
	fprintf(stderr, "usage: pktpeer -i IFACE -m DUT_MAC -s SRC_IP -d DST_IP -p SPORT -P DPORT [-o IPPROTO] [-D SYNCDIR] < script\n");
	return 2;
}

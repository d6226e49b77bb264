// SPDX-License-Identifier: GPL-2.0
/*
 * pktfuzz: a packet fuzzer for cftcp (IP protocol 253) and, to prove the
 * fuzzer itself, for Linux TCP (protocol 6). Two roles in one program:
 *
 *   pktfuzz [-f cftcp|tcp] [-s SEED] [-n COUNT] [-t SECONDS] [-v] [-F]
 *           fuzz -i IFACE -m DUT_MAC -a OUR_IP -d DUT_IP
 *           [-r NETNS,IFACE,DUT_MAC,CLIENT_IP,DUT_IP]
 *	the attacker: runs in a network namespace whose interface has no IP
 *	address (OUR_IP exists only in the DUT's neighbour table, as for
 *	pktpeer), sends raw frames at the device under test (DUT) and
 *	sniffs the DUT's answers on the same AF_PACKET socket to learn the
 *	sequence numbers of live connections. Stops after COUNT actions or
 *	SECONDS (default 30 s). -v prints every frame sent. -F sends no
 *	IP fragments (to look past a bug that reassembled segments hit).
 *	-r: the real connections between CLIENT_IP (on IFACE in the network
 *	namespace NETNS, a path such as /run/netns/NAME) and DUT_IP, which
 *	the fuzzer watches there and attacks as the client, only in ways that
 *	must leave their data intact (see below).
 *   pktfuzz [-f cftcp|tcp] [-s SEED] [-t SECONDS] serve -b DUT_IP -a PEER_IP
 *	the applications on the DUT: a listener on port 5000 that accepts and
 *	then echoes, reads, never reads, floods, half-closes, closes or
 *	aborts (SO_LINGER 0) each connection; a listener on 5001 with
 *	backlog 2 that never accepts and is closed and reopened every few
 *	seconds; nothing on 5002; and connects of its own to PEER_IP ports
 *	7000-7007 (the fuzzer answers, or not). Ends on SIGTERM or after
 *	SECONDS, closing everything.
 *
 * What the fuzzer sends (each action picks one at random):
 *   - handshakes of its own with the DUT's listeners (valid SYN, random
 *     MSS/window scale), completed or not; answers to the DUT's SYNs
 *     (SYN-ACK, RST, a SYN for a simultaneous open, or nothing); ACKs
 *     and FINs as a sloppy peer would, so the DUT's connections go through
 *     ESTABLISHED, the closing states and TIME_WAIT;
 *   - data in order, out of order (several segments, then the one that
 *     fills the hole), overlapping, larger than an MTU;
 *   - hostile segments around a live connection: sequence numbers at and
 *     near RCV.NXT, at the window's edges, far outside; acknowledgment
 *     numbers old, current, ahead of SND.NXT; random windows (0 too);
 *     random flag combinations (SYN|FIN, SYN|RST, no flags, URG, ECE,
 *     CWR, reserved bits);
 *   - broken headers: data offset below 5 or past the segment, segments
 *     truncated inside the header or the options, options with length 0,
 *     1 or past the header, MSS and window scale with wrong lengths,
 *     window scale 15 and more, unknown kinds, no end-of-list;
 *   - checksums good (most), wrong or zero;
 *   - IP fragments: in order, reversed, shuffled, with an exact duplicate,
 *     overlapping, one missing, the first one 8 bytes (the header split
 *     across fragments); IP options; segments larger than the MTU;
 *   - duplicates: one of the last frames again, or the last few reversed;
 *   - SYN floods into the listeners (request queue full, syncookies) and
 *     ACKs carrying made-up cookies;
 *   - segments at connections the DUT has closed (TIME_WAIT, LAST_ACK):
 *     SYN above and below RCV.NXT, RST, data, FIN;
 *   - garbage: random bytes after the IP header, shorter than a header;
 *   - with -r, at real connections, as their client: copies of its recent
 *     frames (exact, fragmented, or with a bad checksum), data entirely
 *     below what the DUT has acknowledged, RST and SYN below RCV.NXT,
 *     ACKs of data never sent, data with a bad checksum at RCV.NXT. None
 *     of these may change a byte of the stream or end the connection.
 *
 * Replay: the seed is printed at the start ("seed N"); -s N makes the same
 * choices again. What the DUT does (its initial sequence numbers, timing)
 * still varies, so a replay follows the same path only as long as the
 * DUT answers the same way; -n bounds a replay to the actions before a
 * finding. Exit status: 0 when the run ended (whatever the DUT did),
 * 2 for usage or system errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/cftcp.h>

#include "inet_csum.h"

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10
#define F_URG	0x20
#define F_ECE	0x40
#define F_CWR	0x80

#define MAX_CONNS	256
#define MAX_L4		4096	/* largest segment built (sent as fragments) */
#define RING		16	/* frames kept for duplicates */
#define FRAG_MTU	1480	/* IP payload of one frame */

/* Ports of the DUT (serve) and of the DUT's own connects. */
#define PORT_ACCEPT	5000
#define PORT_NOACCEPT	5001
#define PORT_CLOSED	5002
#define PORT_PEER	7000
#define NR_PEER_PORTS	8

static int ipproto = IPPROTO_CFTCP;
static int family = AF_CFTCP;
static int verbose;
static int no_frags;

/* ---- PRNG: xorshift64*, the only source of choices ------------------- */

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545F4914F6CDD1DULL) >> 32;
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(int pct)
{
	return (int)below(100) < pct;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* ---- The fuzzer -------------------------------------------------------- */

enum { C_SYN_SENT, C_SYN_RCVD, C_EST, C_DEAD };

/* A connection of the fuzzer with the DUT, as the fuzzer believes it is. */
struct conn {
	int used;
	int ours;		/* we sent the first SYN */
	int st;
	uint16_t lport, rport;	/* ours, the DUT's */
	uint32_t iss, snd_nxt;	/* our sequence space */
	int dut_known;		/* the DUT's SYN or SYN-ACK was seen */
	uint32_t dut_iss, dut_nxt;	/* the DUT's sequence space */
	uint32_t dut_ack;	/* the DUT's RCV.NXT, last seen */
	int dut_acked;		/* dut_ack is known */
	uint32_t dut_wnd;	/* bytes, its window scale applied */
	int dut_ws;
	int dut_fin, our_fin;
	int ack_due;		/* the DUT sent data or FIN since our last ACK */
	double last;
};

static struct conn conns[MAX_CONNS];
static int sock, ifindex;
static unsigned char dut_mac[6], my_mac[6];
static uint32_t our_ip, dut_ip;

/* Where frames go: from the fuzzer's address, or as a real client (-r). */
struct path {
	uint32_t src, dst;
	int real;
};
static struct path fz_path, real_path, *cur = &fz_path;
static double t0;
static unsigned long actions;
static const char *doing = "";	/* the action, for -v */

static struct {
	unsigned long frames, datagrams, fragmented, segs_in, opened,
		established, dut_opened, ooo, hostile, badsum, broken, dups,
		floods, tw, garbage, rsts_in, badsum_in, real_in, real_out;
} st;

/*
 * Real connections (-r), seen on the client's interface: the client's
 * numbers from the frames it sends, the DUT's from those it receives.
 */
#define MAX_REAL	16
#define OUR_TTL		255	/* marks what we send as the client */
struct real {
	int used;
	uint16_t cport, dport;
	uint32_t c_nxt, c_ack;	/* client: next seq, last ack sent */
	uint32_t d_nxt, d_ack;	/* DUT: next seq, last ack (its RCV.NXT) */
	int c_known, d_known;
};

static struct real reals[MAX_REAL];
static int rsock = -1, rifindex;
static unsigned char r_dut_mac[6], r_my_mac[6];
static uint32_t r_client_ip, r_dut_ip;
/* The client's last frames (IP packets) on real connections. */
static struct {
	int len;
	uint8_t pkt[1514];
} rring[8];
static int rring_next;

/* The last frames sent (IP packets), for duplicates. */
static struct {
	int len;
	uint8_t pkt[1514];
} ring[RING];
static int ring_next;

/* A segment to build: the fields as they go on the wire, right or not. */
struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t res;		/* the 4 reserved bits */
	int doff;		/* -1: right for the options */
	uint16_t win, urg;
	uint8_t opt[40];
	int optlen;
	int dlen;
	int trunc;		/* >= 0: cut the segment to this many bytes */
	int csum;		/* 0 good, 1 wrong, 2 zero */
	int frag;		/* 0 none, else a FRAG_* way of fragmenting */
	int ipopt;		/* words of IP options (NOPs) */
};

enum { FRAG_NONE, FRAG_INORDER, FRAG_REVERSE, FRAG_SHUFFLE, FRAG_DUP,
	FRAG_OVERLAP, FRAG_MISSING, FRAG_NR };
static const char * const frag_name[] = {
	"", "inorder", "reverse", "shuffle", "dup", "overlap", "missing",
};

static void flags_str(int f, char *out)
{
	static const char letters[] = "FSRPAUEC";
	int i;

	for (i = 0; i < 8; i++)
		if (f & (1 << i))
			*out++ = letters[i];
	if (!f)
		*out++ = '.';
	*out = 0;
}

/* An IP packet in a frame to the DUT, through the fuzzer's veth or -r's. */
static void xmit_on(int real, const uint8_t *pkt, int len)
{
	uint8_t frame[sizeof(struct ether_header) + 1514];
	struct ether_header *eh = (void *)frame;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = real ? rifindex : ifindex,
		.sll_halen = 6,
	};

	if (len > 1500)
		len = 1500;
	memcpy(eh->ether_dhost, real ? r_dut_mac : dut_mac, 6);
	memcpy(eh->ether_shost, real ? r_my_mac : my_mac, 6);
	eh->ether_type = htons(ETHERTYPE_IP);
	memcpy(frame + sizeof(*eh), pkt, len);
	memcpy(sll.sll_addr, eh->ether_dhost, 6);
	if (sendto(real ? rsock : sock, frame, sizeof(*eh) + len, 0,
		   (struct sockaddr *)&sll, sizeof(sll)) < 0 && errno != ENOBUFS)
		die("pktfuzz: sendto");
	st.frames++;
}

static void xmit(const uint8_t *pkt, int len)
{
	xmit_on(0, pkt, len);
	ring[ring_next].len = len;
	memcpy(ring[ring_next].pkt, pkt, len);
	ring_next = (ring_next + 1) % RING;
}

static void xmit_path(const uint8_t *pkt, int len)
{
	if (cur->real) {
		xmit_on(1, pkt, len);
		st.real_out++;
	} else {
		xmit(pkt, len);
	}
}

/* An IPv4 header for @paylen bytes at @off (bytes) of datagram @id. */
static int ip_header(uint8_t *p, int paylen, uint16_t id, int off, int mf,
		     int df, int optwords)
{
	struct iphdr *iph = (void *)p;
	int hlen = 20 + 4 * optwords;

	memset(p, 0, hlen);
	iph->version = 4;
	iph->ihl = hlen / 4;
	iph->tot_len = htons(hlen + paylen);
	iph->id = htons(id);
	iph->frag_off = htons((off / 8) | (mf ? IP_MF : 0) | (df ? IP_DF : 0));
	iph->ttl = cur->real ? OUR_TTL : 64;
	iph->protocol = ipproto;
	iph->saddr = cur->src;
	iph->daddr = cur->dst;
	memset(p + 20, 1, 4 * optwords);	/* NOPs */
	if (optwords)
		p[hlen - 1] = 0;		/* end of options */
	iph->check = htons(~csum_fold16(csum_add_bytes(p, hlen, 0)) & 0xffff);
	return hlen;
}

/* Send @l4 as one datagram, fragmented as @how says. */
static void send_datagram(const uint8_t *l4, int len, int how, int optwords)
{
	int mtu = (FRAG_MTU - 4 * optwords) & ~7;
	struct { int off, len; } pc[64];
	uint8_t pkt[1514];
	uint16_t id = rnd();
	int n = 0, i, off = 0, order[64], total;

	if (len < 16 || no_frags)
		how = FRAG_NONE;
	if (how == FRAG_NONE && len <= FRAG_MTU - 4 * optwords) {
		int h = ip_header(pkt, len, id, 0, 0, chance(50), optwords);

		memcpy(pkt + h, l4, len);
		xmit_path(pkt, h + len);
		st.datagrams++;
		return;
	}
	if (how == FRAG_NONE)
		how = FRAG_INORDER;
	/* Pieces of multiples of 8; the first may be 8 bytes (ports, seq). */
	while (off < len && n < 60) {
		int l = chance(30) && n == 0 ? 8 : 8 * (1 + below(mtu / 8));

		if (chance(20))
			l = 8 * (1 + below(4));
		if (off + l >= len || n == 59)
			l = len - off;
		pc[n].off = off;
		pc[n].len = l;
		off += l;
		n++;
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	total = n;
	switch (how) {
	case FRAG_REVERSE:
		for (i = 0; i < n; i++)
			order[i] = n - 1 - i;
		break;
	case FRAG_SHUFFLE:
		for (i = n - 1; i > 0; i--) {
			int j = below(i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		break;
	case FRAG_DUP:
		order[total++] = below(n);
		break;
	case FRAG_OVERLAP:
		/* a piece 8 bytes longer than one, reaching into the next */
		i = below(n);
		if (pc[i].off + pc[i].len + 8 <= len) {
			pc[n].off = pc[i].off;
			pc[n].len = pc[i].len + 8;
			order[total++] = n;
		} else if (pc[i].off >= 8) {
			pc[n].off = pc[i].off - 8;
			pc[n].len = pc[i].len + 8;
			order[total++] = n;
		}
		break;
	case FRAG_MISSING:
		if (n > 1) {
			i = below(n);
			order[i] = order[--total];
		}
		break;
	}
	for (i = 0; i < total; i++) {
		int k = order[i], h, mf = pc[k].off + pc[k].len < len;

		h = ip_header(pkt, pc[k].len, id, pc[k].off, mf, 0, optwords);
		memcpy(pkt + h, l4 + pc[k].off, pc[k].len);
		xmit_path(pkt, h + pc[k].len);
	}
	st.datagrams++;
	st.fragmented++;
}

/* The checksum of a segment from @src to @dst (0 when one in it is right). */
static uint16_t csum_from(uint32_t src, uint32_t dst, const uint8_t *l4,
			  int len)
{
	uint8_t ph[12];
	uint32_t sum;

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = ipproto;
	ph[10] = len >> 8;
	ph[11] = len & 0xff;
	sum = csum_add_bytes(ph, 12, 0);
	sum = csum_add_bytes(l4, len, sum);
	return ~csum_fold16(sum) & 0xffff;
}

static uint16_t l4_csum(const uint8_t *l4, int len)
{
	return csum_from(cur->src, cur->dst, l4, len);
}

static void seg_init(struct seg *s, const struct conn *c, uint8_t flags)
{
	memset(s, 0, sizeof(*s));
	s->doff = -1;
	s->trunc = -1;
	s->win = 65535;
	s->flags = flags;
	if (c) {
		s->sport = c->lport;
		s->dport = c->rport;
		s->seq = c->snd_nxt;
		s->ack = c->dut_nxt;
	}
}

static void opt_mss(struct seg *s, int mss)
{
	uint8_t *o = s->opt + s->optlen;

	o[0] = 2;
	o[1] = 4;
	o[2] = mss >> 8;
	o[3] = mss;
	s->optlen += 4;
}

static void opt_ws(struct seg *s, int ws)
{
	uint8_t *o = s->opt + s->optlen;

	o[0] = 1;
	o[1] = 3;
	o[2] = 3;
	o[3] = ws;
	s->optlen += 4;
}

static void emit(struct seg *s)
{
	uint8_t l4[MAX_L4];
	int optpad = (s->optlen + 3) & ~3, len = 20 + optpad + s->dlen, i;
	uint16_t c;
	uint32_t x;
	int doff = s->doff >= 0 ? s->doff : (20 + optpad) / 4;

	if (len > MAX_L4) {
		s->dlen = MAX_L4 - 20 - optpad;
		len = MAX_L4;
	}
	if (no_frags && len > FRAG_MTU - 4 * s->ipopt) {
		/* what one frame holds */
		len = FRAG_MTU - 4 * s->ipopt;
		s->dlen = len - 20 - optpad;
	}
	memset(l4, 0, 20 + optpad);
	c = htons(s->sport);
	memcpy(l4, &c, 2);
	c = htons(s->dport);
	memcpy(l4 + 2, &c, 2);
	x = htonl(s->seq);
	memcpy(l4 + 4, &x, 4);
	x = htonl(s->ack);
	memcpy(l4 + 8, &x, 4);
	l4[12] = (doff & 15) << 4 | (s->res & 15);
	l4[13] = s->flags;
	c = htons(s->win);
	memcpy(l4 + 14, &c, 2);
	c = htons(s->urg);
	memcpy(l4 + 18, &c, 2);
	memcpy(l4 + 20, s->opt, s->optlen);
	for (i = 0; i < s->dlen; i++)
		l4[20 + optpad + i] = rnd();
	if (s->trunc >= 0 && s->trunc < len)
		len = s->trunc;
	if (len >= 18) {
		c = htons(l4_csum(l4, len));
		if (s->csum == 1)
			c ^= htons(1 + below(0xfffe));
		else if (s->csum == 2)
			c = 0;
		memcpy(l4 + 16, &c, 2);
	}
	if (s->csum == 1)
		st.badsum++;
	if (verbose) {
		char f[12];

		flags_str(s->flags, f);
		printf("%.3f #%lu %s %u->%u %s seq=%u ack=%u win=%u doff=%d res=%x optlen=%d len=%d l4=%d%s%s%s ipopt=%d\n",
		       now() - t0, actions, doing, s->sport, s->dport, f, s->seq,
		       s->ack, s->win, doff, s->res, s->optlen, s->dlen, len,
		       s->csum == 1 ? " badsum" : s->csum == 2 ? " zerosum" : "",
		       s->frag ? " frag=" : "", frag_name[s->frag], s->ipopt);
		fflush(stdout);
	}
	send_datagram(l4, len, s->frag, s->ipopt);
}

/* Mostly unfragmented; sometimes fragmented some way. */
static int pick_frag(int pct)
{
	int how = chance(pct) ? 1 + below(FRAG_NR - 1) : FRAG_NONE;

	return no_frags ? FRAG_NONE : how;
}

static struct conn *conn_find(uint16_t lport, uint16_t rport)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].lport == lport &&
		    conns[i].rport == rport)
			return &conns[i];
	return NULL;
}

static struct conn *conn_new(uint16_t lport, uint16_t rport)
{
	struct conn *c = conn_find(lport, rport), *old = &conns[0];
	int i;

	if (!c) {
		for (i = 0; i < MAX_CONNS; i++) {
			if (!conns[i].used) {
				c = &conns[i];
				break;
			}
			if (conns[i].last < old->last)
				old = &conns[i];
		}
	}
	if (!c)
		c = old;
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->lport = lport;
	c->rport = rport;
	c->iss = rnd();
	c->snd_nxt = c->iss;
	c->last = now();
	return c;
}

/* A random connection in state @want (-1: any), or NULL. */
static struct conn *conn_pick(int want)
{
	int i, n = 0, k;

	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && (want < 0 || conns[i].st == want))
			n++;
	if (!n)
		return NULL;
	k = below(n);
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && (want < 0 || conns[i].st == want) && !k--)
			return &conns[i];
	return NULL;
}

static uint16_t our_port(void)
{
	uint16_t p;

	do {
		p = 10000 + below(50000);
	} while (conn_find(p, PORT_ACCEPT) || conn_find(p, PORT_NOACCEPT));
	return p;
}

/* Send a plain segment of connection @c now (our side of a handshake...). */
static void send_plain(struct conn *c, uint8_t flags, int dlen)
{
	struct seg s;

	seg_init(&s, c, flags);
	if (flags & F_SYN) {
		opt_mss(&s, 1460);
		opt_ws(&s, chance(70) ? 0 : 7);
	}
	s.dlen = dlen;
	s.frag = pick_frag(10);
	emit(&s);
	c->snd_nxt += dlen + !!(flags & F_SYN) + !!(flags & F_FIN);
	if (flags & F_FIN)
		c->our_fin = 1;
	c->last = now();
}

/* ---- What the DUT sends, and how the fuzzer answers as a peer -------- */

static void on_dut_segment(const uint8_t *th, int len)
{
	uint16_t sport = th[0] << 8 | th[1], dport = th[2] << 8 | th[3];
	uint32_t seq = ntohl(*(const uint32_t *)(th + 4));
	uint32_t ack = ntohl(*(const uint32_t *)(th + 8));
	int doff = (th[12] >> 4) * 4, flags = th[13], i, ws = -1, dlen;
	uint32_t win = th[14] << 8 | th[15];
	struct conn *c;

	doing = "answer";
	if (doff < 20 || doff > len)
		return;
	for (i = 20; i < doff && th[i];) {
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || th[i + 1] < 2)
			break;
		if (th[i] == 3 && th[i + 1] == 3 && i + 2 < doff)
			ws = th[i + 2] > 14 ? 14 : th[i + 2];
		i += th[i + 1];
	}
	dlen = len - doff;
	st.segs_in++;
	c = conn_find(dport, sport);
	if (!c) {
		if ((flags & (F_SYN | F_ACK | F_RST)) != F_SYN)
			return;
		/* The DUT connects to us. */
		c = conn_new(dport, sport);
		c->st = C_SYN_RCVD;
		c->dut_known = 1;
		c->dut_iss = seq;
		c->dut_nxt = seq + 1;
		c->dut_ws = ws < 0 ? 0 : ws;
		st.dut_opened++;
		if (chance(70)) {
			send_plain(c, F_SYN | F_ACK, 0);
		} else if (chance(30)) {
			c->st = C_DEAD;
			send_plain(c, F_RST | F_ACK, 0);
		} else if (chance(30)) {
			c->st = C_SYN_SENT;	/* simultaneous open */
			send_plain(c, F_SYN, 0);
		}
		return;
	}
	c->last = now();
	if (flags & F_RST) {
		c->st = C_DEAD;
		st.rsts_in++;
		return;
	}
	if ((flags & F_SYN) && (!c->dut_known || c->st == C_SYN_SENT)) {
		c->dut_known = 1;
		c->dut_iss = seq;
		c->dut_nxt = seq + 1;
		c->dut_ws = ws < 0 ? 0 : ws;
	}
	if ((int32_t)(seq + dlen + !!(flags & F_FIN) + !!(flags & F_SYN) -
		      c->dut_nxt) > 0)
		c->dut_nxt = seq + dlen + !!(flags & F_FIN) + !!(flags & F_SYN);
	if ((flags & F_ACK) && (!c->dut_acked || (int32_t)(ack - c->dut_ack) > 0)) {
		c->dut_ack = ack;
		c->dut_acked = 1;
	}
	c->dut_wnd = (flags & F_SYN) ? win : win << c->dut_ws;
	if (flags & F_FIN)
		c->dut_fin = 1;

	if ((flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK)) {
		if (c->st == C_SYN_SENT && chance(85)) {
			c->st = C_EST;
			st.established++;
			send_plain(c, F_ACK, 0);
		}
		return;
	}
	if ((flags & F_SYN) && c->st == C_SYN_SENT && chance(60)) {
		/* its SYN crossing ours: SYN-ACK back */
		c->snd_nxt = c->iss;
		send_plain(c, F_SYN | F_ACK, 0);
		return;
	}
	if (c->st == C_SYN_RCVD && (flags & F_ACK) && ack == c->iss + 1) {
		c->st = C_EST;
		st.established++;
	}
	if (c->st == C_EST && (dlen || (flags & F_FIN)))
		c->ack_due = 1;
}

/* One ACK (or FIN) for what each connection received, most of the time. */
static void answer_due(void)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (!c->used || !c->ack_due)
			continue;
		c->ack_due = 0;
		doing = "answer";
		if (!chance(70))
			continue;
		if (c->dut_fin && !c->our_fin && chance(50))
			send_plain(c, F_FIN | F_ACK, 0);
		else
			send_plain(c, F_ACK, 0);
	}
}

/* ---- Real connections (-r) ------------------------------------------------ */

static struct real *real_find(uint16_t cport, uint16_t dport)
{
	int i, free_one = -1;

	for (i = 0; i < MAX_REAL; i++) {
		if (reals[i].used && reals[i].cport == cport &&
		    reals[i].dport == dport)
			return &reals[i];
		if (!reals[i].used && free_one < 0)
			free_one = i;
	}
	i = free_one >= 0 ? free_one : (int)below(MAX_REAL);
	memset(&reals[i], 0, sizeof(reals[i]));
	reals[i].used = 1;
	reals[i].cport = cport;
	reals[i].dport = dport;
	return &reals[i];
}

/* A frame of a real connection, seen on the client's interface. */
static void real_seen(uint8_t *ip, int tot, int outgoing)
{
	int ihl = (ip[0] & 15) * 4, doff, len;
	uint8_t *th = ip + ihl;
	uint32_t seq, ack, end;
	struct real *r;
	uint16_t c;

	doff = (th[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > tot)
		return;
	len = tot - ihl - doff;
	seq = ntohl(*(uint32_t *)(th + 4));
	ack = ntohl(*(uint32_t *)(th + 8));
	end = seq + len + !!(th[13] & F_SYN) + !!(th[13] & F_FIN);
	st.real_in++;
	if (outgoing) {
		r = real_find(th[0] << 8 | th[1], th[2] << 8 | th[3]);
		if (!r->c_known || (int32_t)(end - r->c_nxt) > 0)
			r->c_nxt = end;
		if (th[13] & F_ACK)
			r->c_ack = ack;
		r->c_known = 1;
		/* Kept for copies, with the checksum the veth would fill in. */
		if (tot <= 1500) {
			th[16] = th[17] = 0;
			c = htons(csum_from(r_client_ip, r_dut_ip, th, tot - ihl));
			memcpy(th + 16, &c, 2);
			rring[rring_next].len = tot;
			memcpy(rring[rring_next].pkt, ip, tot);
			rring_next = (rring_next + 1) % 8;
		}
	} else {
		r = real_find(th[2] << 8 | th[3], th[0] << 8 | th[1]);
		if (!r->d_known || (int32_t)(end - r->d_nxt) > 0)
			r->d_nxt = end;
		if ((th[13] & F_ACK) &&
		    (!r->d_known || (int32_t)(ack - r->d_ack) > 0))
			r->d_ack = ack;
		if (th[13] & F_ACK)
			r->d_known = 1;
	}
}

/*
 * At a real connection, as its client, what must not harm it. "Old" is at
 * least 1 MiB below what the DUT acknowledged: outside any window it
 * could have offered since, and never RCV.NXT - 1 (which resets a
 * connection in CLOSE_WAIT and LAST_ACK in Linux).
 */
static void act_real(void)
{
	struct real *r = NULL;
	uint8_t pkt[1514];
	int i, k = below(MAX_REAL), len, ihl, what;
	struct iphdr *iph = (void *)pkt;
	struct seg s;

	for (i = 0; i < MAX_REAL && !r; i++, k = (k + 1) % MAX_REAL)
		if (reals[k].used && reals[k].c_known && reals[k].d_known)
			r = &reals[k];
	if (!r)
		return;
	doing = "real";
	cur = &real_path;
	seg_init(&s, NULL, F_ACK);
	s.sport = r->cport;
	s.dport = r->dport;
	s.ack = r->c_ack;
	switch ((what = below(8))) {
	case 0:					/* a copy of a recent frame */
	case 1:					/* the same, fragmented */
	case 2:					/* the same, checksum wrong */
		k = (rring_next + 7 - below(8)) % 8;
		len = rring[k].len;
		if (!len)
			break;
		memcpy(pkt, rring[k].pkt, len);
		ihl = iph->ihl * 4;
		if (verbose)
			printf("%.3f #%lu real copy of a client frame (%s), len %d\n",
			       now() - t0, actions,
			       what == 0 ? "exact" : what == 1 ? "fragmented" :
			       "checksum wrong", len);
		if (what == 1) {
			send_datagram(pkt + ihl, len - ihl, pick_frag(100), 0);
			break;
		}
		if (what == 2 && len > ihl + 20) {
			pkt[ihl + 20 + below(len - ihl - 20)] ^= 1 << below(8);
			st.badsum++;
		}
		/* ours, not the client's, for the sniffer */
		iph->ttl = OUR_TTL;
		iph->check = 0;
		iph->check = htons(~csum_fold16(csum_add_bytes(pkt, ihl, 0)) &
				   0xffff);
		xmit_on(1, pkt, len);
		st.real_out++;
		break;
	case 3:					/* data long acknowledged */
		s.dlen = 1 + below(1000);
		s.seq = r->d_ack - s.dlen - (1 << 20) - below(1 << 20);
		s.frag = pick_frag(30);
		emit(&s);
		break;
	case 4:					/* RST and SYN below RCV.NXT */
	case 5:
		s.flags = chance(50) ? F_SYN : F_RST | (chance(50) ? F_ACK : 0);
		s.seq = r->d_ack - (1 << 20) - below(1 << 20);
		emit(&s);
		break;
	case 6:					/* ACK of data never sent */
		s.seq = r->d_ack;
		s.ack = r->d_nxt + (1 << 30) + below(1 << 20);
		emit(&s);
		break;
	default:				/* data at RCV.NXT, checksum wrong */
		s.seq = r->d_ack;
		s.dlen = 1 + below(1400);
		s.csum = 1;
		emit(&s);
		break;
	}
	cur = &fz_path;
}

/* Read up to 64 frames of the -r interface. */
static void sniff_real(void)
{
	uint8_t buf[70000];
	int frames;

	for (frames = 0; frames < 64; frames++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct iphdr *iph;
		int n, tot, out;

		n = recvfrom(rsock, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (n < (int)sizeof(struct ether_header) + 40 ||
		    from.sll_protocol != htons(ETH_P_IP))
			continue;
		iph = (void *)(buf + sizeof(struct ether_header));
		out = from.sll_pkttype == PACKET_OUTGOING;
		tot = ntohs(iph->tot_len);
		if (iph->version != 4 || iph->protocol != ipproto ||
		    iph->saddr != (out ? r_client_ip : r_dut_ip) ||
		    iph->daddr != (out ? r_dut_ip : r_client_ip) ||
		    (ntohs(iph->frag_off) & (IP_MF | IP_OFFMASK)) ||
		    tot > n - (int)sizeof(struct ether_header) ||
		    tot < iph->ihl * 4 + 20 || iph->ttl == OUR_TTL)
			continue;
		real_seen((uint8_t *)iph, tot, out);
	}
}

/* A packet socket on IFACE of another network namespace (-r). */
static void real_setup(char *spec)
{
	char *ns = strtok(spec, ","), *ifn = strtok(NULL, ","),
		*mac = strtok(NULL, ","), *cip = strtok(NULL, ","),
		*dip = strtok(NULL, ",");
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int self, nsfd;
	struct ifreq ifr;

	if (!dip || sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &r_dut_mac[0],
			   &r_dut_mac[1], &r_dut_mac[2], &r_dut_mac[3],
			   &r_dut_mac[4], &r_dut_mac[5]) != 6) {
		fprintf(stderr, "pktfuzz: -r NETNS,IFACE,DUT_MAC,CLIENT_IP,DUT_IP\n");
		exit(2);
	}
	r_client_ip = inet_addr(cip);
	r_dut_ip = inet_addr(dip);
	self = open("/proc/self/ns/net", O_RDONLY);
	nsfd = open(ns, O_RDONLY);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		die("pktfuzz: -r namespace");
	/* ETH_P_ALL: only such sockets see what the client sends */
	rsock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (rsock < 0)
		die("pktfuzz: -r socket");
	rifindex = if_nametoindex(ifn);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifn);
	if (!rifindex || ioctl(rsock, SIOCGIFHWADDR, &ifr) < 0)
		die("pktfuzz: -r interface");
	memcpy(r_my_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = rifindex;
	if (bind(rsock, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("pktfuzz: -r bind");
	if (setns(self, CLONE_NEWNET))
		die("pktfuzz: back to our namespace");
	close(self);
	close(nsfd);
	real_path.src = r_client_ip;
	real_path.dst = r_dut_ip;
	real_path.real = 1;
}

/*
 * Read what the DUT sent us, 64 frames at most (a DUT that floods us must
 * not stop the fuzzing; what the socket drops only makes us lag behind),
 * then answer; and what passed on the real connections' interface.
 */
static void sniff(int wait_ms)
{
	uint8_t buf[70000];
	struct pollfd p[2] = {
		{ .fd = sock, .events = POLLIN },
		{ .fd = rsock, .events = POLLIN },
	};
	int frames;

	if (poll(p, 2, wait_ms) <= 0)
		return;
	if (p[1].revents & POLLIN)
		sniff_real();
	if (!(p[0].revents & POLLIN))
		return;
	for (frames = 0; frames < 64; frames++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		const struct iphdr *iph;
		int n, ihl, tot;

		n = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING ||
		    n < (int)sizeof(struct ether_header) + 40)
			continue;
		iph = (const void *)(buf + sizeof(struct ether_header));
		if (iph->version != 4 || iph->protocol != ipproto ||
		    iph->saddr != dut_ip || iph->daddr != our_ip ||
		    (ntohs(iph->frag_off) & (IP_MF | IP_OFFMASK)))
			continue;
		ihl = iph->ihl * 4;
		tot = ntohs(iph->tot_len);
		if (ihl < 20 || tot > n - (int)sizeof(struct ether_header) ||
		    tot < ihl + 20)
			continue;
		/* Linux TCP leaves its checksum to the veth (partial) */
		if (ipproto == IPPROTO_CFTCP &&
		    csum_from(dut_ip, our_ip, (const uint8_t *)iph + ihl,
			      tot - ihl))
			st.badsum_in++;
		on_dut_segment((const uint8_t *)iph + ihl, tot - ihl);
	}
	answer_due();
}

/* ---- Mutations ---------------------------------------------------------- */

/* A sequence number near something the DUT checks against. */
static uint32_t hostile_seq(const struct conn *c)
{
	uint32_t rcv = c->dut_acked ? c->dut_ack : c->snd_nxt;
	uint32_t wnd = c->dut_wnd ? c->dut_wnd : 65535;

	switch (below(10)) {
	case 0: return rcv;
	case 1: return rcv + 1 + below(wnd ? wnd : 1);	/* in the window */
	case 2: return rcv - 1 - below(8);		/* just old */
	case 3: return rcv + wnd - below(4);		/* right edge */
	case 4: return rcv + wnd + below(4);		/* just past it */
	case 5: return rcv - 0x80000000u + below(3) - 1;	/* half the space */
	case 6: return c->iss;
	case 7: return c->snd_nxt + below(3) - 1;
	case 8: return rcv - wnd;
	default: return rnd();
	}
}

static uint32_t hostile_ack(const struct conn *c)
{
	switch (below(9)) {
	case 0: return c->dut_nxt;
	case 1: return c->dut_nxt + 1 + below(16);	/* ahead of SND.NXT */
	case 2: return c->dut_nxt - 1 - below(16);
	case 3: return c->dut_iss;
	case 4: return c->dut_iss + 1;
	case 5: return c->dut_nxt - 0x80000000u;
	case 6: return 0;
	case 7: return c->dut_ack;
	default: return rnd();
	}
}

static uint8_t hostile_flags(void)
{
	static const uint8_t combos[] = {
		F_SYN | F_FIN, F_SYN | F_RST, F_SYN | F_FIN | F_RST | F_ACK,
		F_RST | F_ACK, F_RST, F_FIN, F_FIN | F_ACK, 0, F_ACK,
		F_ACK | F_PSH, F_ACK | F_URG, F_SYN, F_SYN | F_ACK,
		F_ACK | F_ECE | F_CWR, F_SYN | F_ECE | F_CWR, 0xff,
	};

	if (chance(30))
		return rnd();
	return combos[below(sizeof(combos))];
}

/* Options, valid or not (@s->optlen grows; at most 40 bytes). */
static void hostile_options(struct seg *s)
{
	int n = 1 + below(4);

	while (n-- && s->optlen <= 28) {
		uint8_t *o = s->opt + s->optlen;

		switch (below(14)) {
		case 0: opt_mss(s, chance(50) ? 1460 : rnd() & 0xffff); break;
		case 1: opt_ws(s, below(4) ? below(15) : 14 + below(242)); break;
		case 2: o[0] = 1; s->optlen++; break;			/* NOP */
		case 3: o[0] = 0; s->optlen++; break;			/* EOL */
		case 4: o[0] = 4; o[1] = 2; s->optlen += 2; break;	/* SACK ok */
		case 5:							/* timestamps */
			o[0] = 8;
			o[1] = 10;
			memset(o + 2, 0xa5, 8);
			s->optlen += 10;
			break;
		case 6: o[0] = 2 + below(3); o[1] = 0; s->optlen += 2; break;
		case 7: o[0] = 2 + below(3); o[1] = 1; s->optlen += 2; break;
		case 8:							/* past the header */
			o[0] = rnd() | 2;
			o[1] = 40 + below(216);
			s->optlen += 2;
			break;
		case 9: o[0] = 2; o[1] = chance(50) ? 3 : 5; s->optlen += 4;
			break;						/* MSS, bad length */
		case 10: o[0] = 3; o[1] = chance(50) ? 2 : 4; s->optlen += 4;
			break;						/* WS, bad length */
		case 11:						/* unknown kind */
			o[0] = 9 + below(247);
			o[1] = 2 + below(7);
			s->optlen += o[1];
			break;
		case 12:						/* SACK blocks */
			o[0] = 5;
			o[1] = 10;
			memset(o + 2, 0x5a, 8);
			s->optlen += 10;
			break;
		default:						/* kind alone at the end */
			o[0] = 2 + below(3);
			s->optlen++;
			break;
		}
	}
	if (s->optlen > 40)
		s->optlen = 40;
}

/* Break the header: data offset, truncation, reserved bits, checksum. */
static void hostile_header(struct seg *s)
{
	int optpad = (s->optlen + 3) & ~3;

	switch (below(8)) {
	case 0: s->doff = below(5); break;			/* too small */
	case 1: s->doff = 6 + below(10); break;			/* maybe too large */
	case 2: s->trunc = below(20); break;			/* inside the header */
	case 3: s->trunc = 20 + below(optpad + 1); break;	/* in the options */
	case 4: s->res = rnd(); break;
	case 5: s->doff = 15; s->dlen = below(8); break;	/* past the end */
	default: break;
	}
	if (s->trunc >= 0 || s->doff >= 0)
		st.broken++;
}

static void hostile_segment(struct conn *c)
{
	struct seg s;

	doing = "hostile";
	seg_init(&s, c, hostile_flags());
	if (!c) {
		s.sport = rnd();
		s.dport = chance(50) ? PORT_ACCEPT + below(3) : rnd();
		s.seq = rnd();
		s.ack = rnd();
	} else {
		s.seq = hostile_seq(c);
		s.ack = hostile_ack(c);
	}
	if (chance(30))
		s.win = chance(30) ? 0 : rnd();
	if (s.flags & F_URG)
		s.urg = chance(50) ? below(100) : rnd();
	if (chance(40))
		hostile_options(&s);
	if (chance(40))
		s.dlen = chance(80) ? below(1500) : below(MAX_L4 - 100);
	if (chance(30))
		hostile_header(&s);
	s.csum = chance(80) ? 0 : chance(80) ? 1 : 2;
	s.frag = pick_frag(25);
	s.ipopt = chance(5) ? 1 + below(10) : 0;
	emit(&s);
	st.hostile++;
}

/* ---- Actions -------------------------------------------------------------- */

static void act_open(void)
{
	uint16_t dport;
	struct conn *c;
	struct seg s;

	doing = "open";
	switch (below(10)) {
	case 0: dport = PORT_NOACCEPT; break;
	case 1: dport = PORT_CLOSED; break;
	case 2: dport = chance(50) ? PORT_NOACCEPT : rnd(); break;
	default: dport = PORT_ACCEPT; break;
	}
	c = conn_new(our_port(), dport);
	c->ours = 1;
	c->st = C_SYN_SENT;
	seg_init(&s, c, F_SYN);
	if (chance(85)) {
		opt_mss(&s, chance(80) ? 1460 : 1 + below(65535));
		if (chance(80))
			opt_ws(&s, chance(70) ? below(3) : below(16));
		if (chance(10))
			s.dlen = below(200);		/* data on the SYN */
	} else {
		hostile_options(&s);
	}
	s.frag = pick_frag(10);
	emit(&s);
	c->snd_nxt++;
	st.opened++;
}

/* Data: in order, or a run of out-of-order segments and then the hole. */
static void act_data(struct conn *c)
{
	struct seg s;
	int k = 1 + below(4), lens[4], i, total = 0, base;
	int overlap = chance(30) ? 1 + below(40) : 0;

	doing = "data";
	if (chance(40)) {
		seg_init(&s, c, F_ACK | (chance(50) ? F_PSH : 0));
		s.dlen = chance(80) ? 1 + below(1400) : 1 + below(MAX_L4 - 100);
		s.frag = pick_frag(35);
		emit(&s);
		c->snd_nxt += s.dlen;
		return;
	}
	/* k segments after a hole, last to first, then the hole itself */
	for (i = 0; i < k; i++) {
		lens[i] = 1 + below(chance(70) ? 1400 : 3000);
		total += lens[i];
	}
	base = 1 + below(1400);
	for (i = k - 1; i >= 0; i--) {
		int off = base, j;

		for (j = 0; j < i; j++)
			off += lens[j];
		seg_init(&s, c, F_ACK);
		s.seq = c->snd_nxt + off - (i ? overlap : 0);
		s.dlen = lens[i] + (i ? overlap : 0);
		s.frag = pick_frag(50);
		emit(&s);
	}
	seg_init(&s, c, F_ACK | F_PSH);
	s.dlen = base + overlap;		/* reaching into what came */
	s.frag = pick_frag(50);
	emit(&s);
	c->snd_nxt += base + total;
	st.ooo++;
}

static void act_ack(struct conn *c)
{
	struct seg s;

	doing = "ack";
	seg_init(&s, c, F_ACK);
	switch (below(5)) {
	case 0: s.ack = c->dut_nxt - below(2000); break;	/* partial */
	case 1: s.ack = c->dut_nxt + 1 + below(5000); break;	/* unsent */
	case 2: s.win = 0; break;				/* close it */
	case 3: s.win = below(512); break;
	default: break;
	}
	s.frag = pick_frag(10);
	emit(&s);
}

static void act_close(struct conn *c)
{
	struct seg s;

	doing = "close";
	seg_init(&s, c, F_RST | (chance(50) ? F_ACK : 0));
	switch (below(5)) {
	case 0:
	case 1:
		if (!c->our_fin)
			send_plain(c, F_FIN | F_ACK, chance(30) ? below(500) : 0);
		return;
	case 2:					/* exact RST */
		s.seq = c->snd_nxt;
		c->st = C_DEAD;
		break;
	case 3:					/* RST in the window */
		s.seq = c->snd_nxt + 1 + below(c->dut_wnd ? c->dut_wnd : 1000);
		break;
	default:
		s.seq = hostile_seq(c);
		break;
	}
	s.frag = pick_frag(10);
	emit(&s);
}

static void act_dup(void)
{
	int k = chance(60) ? 1 : 2 + below(RING - 2), i;

	doing = "dup";
	for (i = 0; i < k; i++) {
		int j = (ring_next + RING - 1 - (k == 1 ? (int)below(RING) : i)) % RING;
		uint8_t pkt[1514];
		int len = ring[j].len;

		if (!len)
			continue;
		memcpy(pkt, ring[j].pkt, len);
		if (verbose)
			printf("%.3f #%lu dup of the frame %d back\n", now() - t0,
			       actions, (ring_next + RING - 1 - j) % RING);
		xmit(pkt, len);
	}
	st.dups++;
}

static void act_flood(void)
{
	int n = 10 + below(60), i;
	uint16_t dport = chance(70) ? PORT_ACCEPT : PORT_NOACCEPT;
	struct seg s;

	doing = "flood";
	for (i = 0; i < n; i++) {
		seg_init(&s, NULL, F_SYN);
		s.sport = 1024 + below(60000);
		s.dport = dport;
		s.seq = rnd();
		opt_mss(&s, 1460);
		emit(&s);
	}
	/* ACKs with made-up cookies */
	for (i = 0; i < n / 4; i++) {
		seg_init(&s, NULL, F_ACK);
		s.sport = 1024 + below(60000);
		s.dport = dport;
		s.seq = rnd();
		s.ack = rnd();
		s.dlen = chance(30) ? below(100) : 0;
		emit(&s);
	}
	st.floods++;
}

/* At a connection the DUT has closed (TIME_WAIT, LAST_ACK, gone). */
static void act_closed(struct conn *c)
{
	struct seg s;

	doing = "at-closed";
	seg_init(&s, c, F_SYN);
	switch (below(6)) {
	case 0: s.seq = c->snd_nxt + 1 + below(1 << 20); opt_mss(&s, 1460); break;
	case 1: s.seq = c->snd_nxt - 1 - below(1000); break;
	case 2: s.flags = F_RST; break;
	case 3: s.flags = F_FIN | F_ACK; s.seq = c->snd_nxt - 1; break;
	case 4: s.flags = F_ACK; s.dlen = 1 + below(500); break;
	default: s.flags = hostile_flags(); s.seq = hostile_seq(c); break;
	}
	s.frag = pick_frag(15);
	emit(&s);
	st.tw++;
}

static void act_garbage(void)
{
	uint8_t l4[64];
	int len = below(sizeof(l4)), i;

	doing = "garbage";
	for (i = 0; i < len; i++)
		l4[i] = rnd();
	if (len >= 4 && chance(50)) {
		l4[2] = PORT_ACCEPT >> 8;
		l4[3] = PORT_ACCEPT & 0xff;
	}
	if (len >= 18 && chance(50)) {
		uint16_t c;

		l4[16] = l4[17] = 0;
		c = htons(l4_csum(l4, len));
		memcpy(l4 + 16, &c, 2);
	}
	i = pick_frag(20);
	if (verbose)
		printf("%.3f #%lu garbage l4=%d%s%s\n", now() - t0, actions, len,
		       i ? " frag=" : "", frag_name[i]);
	send_datagram(l4, len, i, 0);
	st.garbage++;
}

static void one_action(void)
{
	struct conn *c;
	int r = below(100);

	actions++;
	if (rsock >= 0 && r < 6) {
		act_real();
	} else if (r < 10) {
		act_open();
	} else if (r < 35) {
		c = conn_pick(C_EST);
		if (c)
			act_data(c);
		else
			act_open();
	} else if (r < 60) {
		hostile_segment(chance(85) ? conn_pick(-1) : NULL);
	} else if (r < 67) {
		c = conn_pick(C_EST);
		if (c)
			act_ack(c);
	} else if (r < 73) {
		c = conn_pick(C_EST);
		if (c)
			act_close(c);
	} else if (r < 80) {
		act_dup();
	} else if (r < 82) {
		act_flood();
	} else if (r < 92) {
		c = conn_pick(chance(50) ? C_DEAD : -1);
		if (c && (c->dut_fin || c->st == C_DEAD))
			act_closed(c);
		else if (c)
			hostile_segment(c);
	} else {
		act_garbage();
	}
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static void print_stats(void)
{
	printf("pktfuzz: %lu actions in %.1f s: %lu frames, %lu datagrams (%lu fragmented), %lu segments from the DUT (%lu RST, %lu with a bad checksum)\n",
	       actions, now() - t0, st.frames, st.datagrams, st.fragmented,
	       st.segs_in, st.rsts_in, st.badsum_in);
	printf("pktfuzz: opened %lu, established %lu, DUT-opened %lu, out-of-order runs %lu, hostile %lu (bad checksum %lu, broken header %lu), duplicates %lu, floods %lu, at closed %lu, garbage %lu\n",
	       st.opened, st.established, st.dut_opened, st.ooo, st.hostile,
	       st.badsum, st.broken, st.dups, st.floods, st.tw, st.garbage);
	if (rsock >= 0)
		printf("pktfuzz: real connections: %lu frames seen, %lu sent at them\n",
		       st.real_in, st.real_out);
	fflush(stdout);
}

static int fuzz(int argc, char **argv, uint64_t seed, unsigned long count,
		double seconds)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	const char *ifname = NULL;
	struct ifreq ifr;
	double end, next_stats;
	int opt;

	while ((opt = getopt(argc, argv, "i:m:a:d:r:")) != -1) {
		switch (opt) {
		case 'r': real_setup(optarg); break;
		case 'i': ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, dut_mac))
				return -1;
			break;
		case 'a': our_ip = inet_addr(optarg); break;
		case 'd': dut_ip = inet_addr(optarg); break;
		default: return -1;
		}
	}
	if (!ifname || !our_ip || !dut_ip)
		return -1;
	fz_path.src = our_ip;
	fz_path.dst = dut_ip;

	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (sock < 0)
		die("pktfuzz: socket");
	ifindex = if_nametoindex(ifname);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ifindex || ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		die("pktfuzz: interface");
	memcpy(my_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("pktfuzz: bind");

	rng = seed ? seed : 1;
	printf("pktfuzz: seed %llu (replay: -s %llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	t0 = now();
	end = t0 + seconds;
	next_stats = t0 + 10;
	while ((!count || actions < count) && now() < end) {
		sniff(1);
		one_action();
		if (now() >= next_stats && now() < end) {
			print_stats();
			next_stats += 10;
		}
	}
	sniff(100);
	print_stats();
	return 0;
}

/* ---- The applications on the DUT ---------------------------------------- */

enum { P_ECHO, P_SINK, P_MUTE, P_BLAST, P_SHUT, P_ABORT, P_CLOSE, P_NR };

struct app {
	int fd;
	int plan;
	int connecting;
	int shut;
	double deadline;
};

#define MAX_APPS	64

static struct app apps[MAX_APPS];
static int napps;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void addr_set(struct sockaddr_in *a, uint32_t ip, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = family;
	a->sin_addr.s_addr = ip;
	a->sin_port = htons(port);
}

static int sol(void)
{
	return family == AF_CFTCP ? SOL_CFTCP : IPPROTO_TCP;
}

/* A listener, or -1 (printed). */
static int listener(uint32_t ip, int port, int backlog)
{
	struct sockaddr_in a;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, ipproto), one = 1;

	if (fd < 0) {
		perror("pktfuzz serve: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr_set(&a, ip, port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog)) {
		fprintf(stderr, "pktfuzz serve: listener on %d: %s\n", port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void app_close(int i)
{
	struct app *a = &apps[i];

	if (a->plan == P_ABORT) {
		struct linger l = { 1, 0 };

		setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(a->fd);
	apps[i] = apps[--napps];
}

static void app_add(int fd, int connecting)
{
	struct app *a;
	int v;

	if (napps == MAX_APPS)
		app_close(below(MAX_APPS));
	a = &apps[napps++];
	a->fd = fd;
	a->plan = below(P_NR);
	a->connecting = connecting;
	a->shut = 0;
	a->deadline = now() + 0.1 + below(8000) / 1000.0;
	if (chance(20)) {
		v = 1;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
		setsockopt(fd, sol(), CFTCP_KEEPIDLE, &v, sizeof(v));
		setsockopt(fd, sol(), CFTCP_KEEPINTVL, &v, sizeof(v));
		v = 2;
		setsockopt(fd, sol(), CFTCP_KEEPCNT, &v, sizeof(v));
	}
	if (chance(20)) {
		v = 4096;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
}

/* One poll round of connection @i; 0 when it ended. */
static int app_step(int i, short revents)
{
	struct app *a = &apps[i];
	char buf[16384];
	ssize_t n;

	if (a->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return now() < a->deadline;
		getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err)
			return 0;
		a->connecting = 0;
	}
	if (now() >= a->deadline) {
		if (a->plan != P_SHUT || a->shut)
			return 0;
		shutdown(a->fd, SHUT_WR);
		a->shut = 1;
		a->deadline = now() + 0.1 + below(3000) / 1000.0;
	}
	if (revents & (POLLERR | POLLHUP) && !(revents & POLLIN))
		return 0;
	if ((revents & POLLIN) && a->plan != P_MUTE) {
		n = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return 0;
		if (n > 0 && a->plan == P_ECHO && !a->shut)
			send(a->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (a->plan == P_BLAST && !a->shut && (revents & POLLOUT)) {
		memset(buf, 'x', sizeof(buf));
		n = send(a->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			return 0;
	}
	return 1;
}

static int serve(int argc, char **argv, uint64_t seed, double seconds)
{
	uint32_t bind_ip = 0, peer_ip = 0;
	struct pollfd pfd[MAX_APPS + 2];
	double end, reopen, next_connect;
	int opt, la, ln, i, reopen_fails = 0;

	while ((opt = getopt(argc, argv, "b:a:")) != -1) {
		switch (opt) {
		case 'b': bind_ip = inet_addr(optarg); break;
		case 'a': peer_ip = inet_addr(optarg); break;
		default: return -1;
		}
	}
	if (!bind_ip || !peer_ip)
		return -1;
	rng = (seed ? seed : 1) ^ 0x5eed5eed5eedULL;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	la = listener(bind_ip, PORT_ACCEPT, 32);
	ln = listener(bind_ip, PORT_NOACCEPT, 2);
	if (la < 0 || ln < 0)
		return 2;
	printf("pktfuzz serve: listening on %d and %d\n", PORT_ACCEPT,
	       PORT_NOACCEPT);
	fflush(stdout);
	end = now() + seconds;
	reopen = now() + 5;
	next_connect = now();
	while (!stop && now() < end) {
		pfd[0].fd = la;
		pfd[0].events = POLLIN;
		pfd[1].fd = ln;
		pfd[1].events = 0;
		for (i = 0; i < napps; i++) {
			pfd[i + 2].fd = apps[i].fd;
			pfd[i + 2].events = POLLIN;
			if (apps[i].connecting || apps[i].plan == P_BLAST)
				pfd[i + 2].events |= POLLOUT;
			if (apps[i].plan == P_MUTE)
				pfd[i + 2].events &= ~POLLIN;
		}
		if (poll(pfd, napps + 2, 50) < 0 && errno != EINTR)
			die("pktfuzz serve: poll");
		/* back to front: app_close() moves the last one into i */
		for (i = napps - 1; i >= 0; i--)
			if (!app_step(i, pfd[i + 2].revents))
				app_close(i);
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(la, NULL, NULL, SOCK_NONBLOCK);

			if (fd >= 0) {
				app_add(fd, 0);
				if (apps[napps - 1].plan == P_CLOSE)
					app_close(napps - 1);
			}
		}
		if (now() >= reopen) {
			if (ln >= 0)
				close(ln);
			ln = listener(bind_ip, PORT_NOACCEPT, 2);
			reopen_fails += ln < 0;
			reopen = now() + 3 + below(5);
		}
		if (now() >= next_connect) {
			struct sockaddr_in a;
			int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK,
					ipproto), v = 2;

			next_connect = now() + 0.2 + below(500) / 1000.0;
			if (fd < 0)
				continue;
			setsockopt(fd, sol(), CFTCP_SYNCNT, &v, sizeof(v));
			addr_set(&a, peer_ip, PORT_PEER + below(NR_PEER_PORTS));
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
			    errno != EINPROGRESS) {
				close(fd);
				continue;
			}
			app_add(fd, 1);
		}
	}
	while (napps)
		app_close(napps - 1);
	close(la);
	if (ln >= 0)
		close(ln);
	printf("pktfuzz serve: done (%d reopenings of the listener on %d failed)\n",
	       reopen_fails, PORT_NOACCEPT);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pktfuzz [-f cftcp|tcp] [-s SEED] [-n COUNT] [-t SECONDS] [-v] [-F] fuzz -i IFACE -m DUT_MAC -a OUR_IP -d DUT_IP [-r NETNS,IFACE,DUT_MAC,CLIENT_IP,DUT_IP]\n"
		"       pktfuzz [-f cftcp|tcp] [-s SEED] [-t SECONDS] serve -b DUT_IP -a PEER_IP\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	double seconds = 30;
	uint64_t seed = 0;
	int opt, ret;

	while ((opt = getopt(argc, argv, "+f:s:n:t:vF")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "tcp")) {
				family = AF_INET;
				ipproto = IPPROTO_TCP;
			} else if (strcmp(optarg, "cftcp")) {
				usage();
			}
			break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 't': seconds = atof(optarg); break;
		case 'v': verbose = 1; break;
		case 'F': no_frags = 1; break;
		default: usage();
		}
	}
	if (!seed) {
		int fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
			seed = (uint64_t)time(NULL) * 2654435761u;
		if (fd >= 0)
			close(fd);
		seed &= 0xffffffffffffULL;
		seed = seed ? seed : 1;
	}
	if (optind >= argc)
		usage();
	argv += optind;
	argc -= optind;
	optind = 0;
	if (!strcmp(argv[0], "fuzz"))
		ret = fuzz(argc, argv, seed, count, seconds);
	else if (!strcmp(argv[0], "serve"))
		ret = serve(argc, argv, seed, seconds);
	else
		ret = -1;
	if (ret < 0)
		usage();
	return ret;
}
